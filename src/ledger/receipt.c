/* receipt.c: receipt and event encoding (see receipt.h). */
#include "ledger/receipt.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"

static void write_event(cv_enc *e, const cv_event *ev)
{
    cv_enc_msg_begin(e, CV_CODEC_ITEM);
    cv_enc_str(e, 1, ev->contract);
    cv_enc_str(e, 2, ev->name);
    cv_enc_list_begin(e, 3, CV_CODEC_MSG_LIST);
    for (size_t i = 0; i < ev->nattrs; i++) {
        cv_enc_msg_begin(e, CV_CODEC_ITEM);
        cv_enc_str(e, 1, ev->attrs[i].key);
        cv_enc_str(e, 2, ev->attrs[i].value);
        cv_enc_end(e);
    }
    cv_enc_end(e);
    cv_enc_end(e);
}

int cv_receipt_encode(const cv_receipt *r, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_bytes(&e, 1, r->tx_hash, CV_HASH_LEN);
    cv_enc_uint(&e, 2, r->status);
    cv_enc_str(&e, 3, r->error);
    cv_enc_list_begin(&e, 4, CV_CODEC_MSG_LIST);
    for (size_t i = 0; i < r->nevents; i++)
        write_event(&e, &r->events[i]);
    cv_enc_end(&e);
    return cv_enc_finish(&e);
}

static int read_attr(cv_dec *d, cv_attr *a)
{
    cv_dec sub;
    cv_dec_msg(d, CV_CODEC_ITEM, NULL, &sub, CV_ATTR_KEY_MAX + CV_ATTR_VALUE_MAX + 16);
    cv_dec_str(&sub, 1, "key", a->key, sizeof a->key);
    cv_dec_str(&sub, 2, "value", a->value, sizeof a->value);
    return cv_dec_end(&sub);
}

static int read_event(cv_dec *d, cv_event *ev)
{
    cv_dec sub;
    size_t n = 0;
    cv_dec_msg(d, CV_CODEC_ITEM, NULL, &sub, 1 << 20);
    cv_dec_str(&sub, 1, "contract", ev->contract, sizeof ev->contract);
    cv_dec_str(&sub, 2, "name", ev->name, sizeof ev->name);
    int rc = cv_dec_list(&sub, 3, "attrs", CV_CODEC_MSG_LIST, &n, CV_ATTRS_MAX);
    for (size_t i = 0; !rc && i < n; i++)
        rc = read_attr(&sub, &ev->attrs[i]);
    ev->nattrs = rc ? 0 : n;
    return rc ? rc : cv_dec_end(&sub);
}

int cv_receipt_decode(const uint8_t *p, size_t len, cv_receipt *out)
{
    cv_dec d;
    size_t n = 0;
    memset(out, 0, sizeof *out);
    cv_dec_init(&d, p, len);
    cv_dec_fixed(&d, 1, "tx_hash", out->tx_hash, CV_HASH_LEN);
    cv_dec_uint(&d, 2, "status", &out->status);
    cv_dec_str(&d, 3, "error", out->error, sizeof out->error);
    int rc = cv_dec_list(&d, 4, "events", CV_CODEC_MSG_LIST, &n, CV_EVENTS_MAX);
    if (!rc && n > 0 && !(out->events = calloc(n, sizeof *out->events)))
        rc = cv_fail(CV_ENOMEM, "out of memory decoding a receipt");
    for (size_t i = 0; !rc && i < n; i++)
        rc = read_event(&d, &out->events[i]);
    out->nevents = n;
    if (!rc)
        rc = cv_dec_end(&d);
    if (rc)
        cv_receipt_free(out);
    return rc;
}

void cv_receipt_free(cv_receipt *r)
{
    free(r->events);
    memset(r, 0, sizeof *r);
}

int cv_receipt_add_event(cv_receipt *r, const cv_event *ev)
{
    if (r->nevents >= CV_EVENTS_MAX)
        return cv_fail(CV_EFULL, "a transaction may emit at most %d events", CV_EVENTS_MAX);
    cv_event *grown = realloc(r->events, (r->nevents + 1) * sizeof *grown);
    if (!grown)
        return cv_fail(CV_ENOMEM, "out of memory adding an event");
    r->events = grown;
    r->events[r->nevents++] = *ev;
    return CV_OK;
}

int cv_event_attr(cv_event *ev, const char *key, const char *value)
{
    if (ev->nattrs >= CV_ATTRS_MAX)
        return cv_fail(CV_EFULL, "an event has at most %d attributes", CV_ATTRS_MAX);
    if (strlen(key) > CV_ATTR_KEY_MAX || strlen(value) > CV_ATTR_VALUE_MAX)
        return cv_fail(CV_EINVAL, "event attribute %.32s is too long", key);
    cv_attr *a = &ev->attrs[ev->nattrs++];
    strcpy(a->key, key);
    strcpy(a->value, value);
    return CV_OK;
}
