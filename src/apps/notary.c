/* notary.c: the evidence-preservation contract (notary.h).
 *
 * State: key = the stamped hash (32 bytes), value = {1: stamper address,
 * 2: stamper's organisation, 3: height, 4: block time (ms), 5: transaction
 * hash, 6: label}. A hash is stamped once; the first stamp stands. */
#include "apps/notary.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"

typedef struct {
    uint8_t stamper[CV_ADDR_LEN];
    char org[CV_ID_MAX + 1];
    uint64_t height, time_ms;
    uint8_t tx[CV_HASH_LEN];
    char label[CV_NOTARY_LABEL_MAX + 1];
} stamp_rec;

static int encode_stamp(const stamp_rec *r, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_bytes(&e, 1, r->stamper, CV_ADDR_LEN);
    cv_enc_str(&e, 2, r->org);
    cv_enc_uint(&e, 3, r->height);
    cv_enc_uint(&e, 4, r->time_ms);
    cv_enc_bytes(&e, 5, r->tx, CV_HASH_LEN);
    cv_enc_str(&e, 6, r->label);
    return cv_enc_finish(&e);
}

static int decode_stamp(const cv_buf *v, stamp_rec *r)
{
    cv_dec d;
    cv_dec_init(&d, v->data, v->len);
    cv_dec_fixed(&d, 1, "stamper", r->stamper, CV_ADDR_LEN);
    cv_dec_str(&d, 2, "org", r->org, sizeof r->org);
    cv_dec_uint(&d, 3, "height", &r->height);
    cv_dec_uint(&d, 4, "time_ms", &r->time_ms);
    cv_dec_fixed(&d, 5, "tx", r->tx, CV_HASH_LEN);
    cv_dec_str(&d, 6, "label", r->label, sizeof r->label);
    int rc = cv_dec_end(&d);
    return rc ? cv_fail(rc, "notary: corrupt stamp record") : CV_OK;
}

/* The stamp of hash; CV_ENOTFOUND (without a message) if it has none. */
static int load_stamp(const cv_call *call, const uint8_t hash[CV_HASH_LEN], stamp_rec *r)
{
    cv_buf v = {0};
    int rc = cv_call_get(call, hash, CV_HASH_LEN, &v);
    if (!rc)
        rc = decode_stamp(&v, r);
    cv_buf_free(&v);
    return rc;
}

static int already_stamped(const cv_call *call, const char *hex, const stamp_rec *r)
{
    char who[CV_ADDR_STR_MAX];
    cv_call_address_string(call, r->stamper, who);
    return cv_fail(CV_EEXIST, "hash %s was already stamped at height %" PRIu64 " by %s", hex, r->height,
                   who);
}

static int m_stamp(cv_call *call, const cv_arg *a)
{
    stamp_rec r;
    char hex[2 * CV_HASH_LEN + 1];
    cv_hex_encode(a[0].b, CV_HASH_LEN, hex);
    int rc = load_stamp(call, a[0].b, &r);
    if (rc != CV_ENOTFOUND)
        return rc ? rc : already_stamped(call, hex, &r);
    memset(&r, 0, sizeof r);
    memcpy(r.stamper, call->sender->address, CV_ADDR_LEN);
    snprintf(r.org, sizeof r.org, "%s", call->sender->org);
    r.height = call->height;
    r.time_ms = call->time_ms;
    memcpy(r.tx, call->tx_hash, CV_HASH_LEN);
    snprintf(r.label, sizeof r.label, "%s", a[1].s);
    cv_buf v = {0};
    rc = encode_stamp(&r, &v);
    if (!rc)
        rc = cv_call_put(call, a[0].b, CV_HASH_LEN, v.data, v.len);
    cv_buf_free(&v);
    cv_event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.name, sizeof ev.name, "stamped");
    if (!rc)
        rc = cv_event_attr(&ev, "hash", hex);
    if (!rc)
        rc = cv_event_attr(&ev, "label", r.label);
    if (!rc)
        rc = cv_event_attr(&ev, "org", r.org); /* so that a receipt proves the stamper's organisation */
    return rc ? rc : cv_call_emit(call, &ev);
}

static int q_get(cv_call *call, const cv_arg *a)
{
    stamp_rec r;
    char hex[2 * CV_HASH_LEN + 1], tx[2 * CV_HASH_LEN + 1], who[CV_ADDR_STR_MAX];
    cv_hex_encode(a[0].b, CV_HASH_LEN, hex);
    int rc = load_stamp(call, a[0].b, &r);
    if (rc == CV_ENOTFOUND)
        return cv_fail(CV_ENOTFOUND, "hash %s was never stamped", hex);
    if (rc)
        return rc;
    cv_hex_encode(r.tx, CV_HASH_LEN, tx);
    cv_call_address_string(call, r.stamper, who);
    cv_call_result(call, json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s}", "hash", hex, "stamper", who,
                                   "org", r.org, "height", (json_int_t)r.height, "time_ms",
                                   (json_int_t)r.time_ms, "tx", tx, "label", r.label));
    return CV_OK;
}

static const cv_method methods[] = {
    {"stamp", m_stamp, "notary", 0, 2,
     {{"hash", CV_ARG_HASH, 0}, {"label", CV_ARG_STR, CV_NOTARY_LABEL_MAX}},
     "stamp a hash (with an optional label); a hash is stamped once"},
    {"get", q_get, NULL, 1, 1, {{"hash", CV_ARG_HASH, 0}},
     "who stamped a hash, in which block and transaction, and when"},
};

const cv_contract cv_notary_contract = {
    "notary",
    "evidence preservation: stamp a hash, look up who stamped it and when",
    methods,
    sizeof methods / sizeof methods[0],
    NULL,
};
