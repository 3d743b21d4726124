/* render.c: ledger objects as the JSON that RPC replies carry: headers,
 * transactions, receipts, hex and 64-bit integers. Byte strings are
 * lowercase hex; text from the ledger is passed through a UTF-8 check so
 * that no stored byte can make a reply invalid JSON. Every function returns
 * a new value, or NULL when memory runs out. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "exec/exec.h"
#include "rpc/internal.h"

#define JSON_EXACT_MAX (UINT64_C(1) << 53)

json_t *cv_rpc_hex(const uint8_t *p, size_t n)
{
    return cv_json_hex(p, n);
}

json_t *cv_rpc_u64(uint64_t v)
{
    if (v <= JSON_EXACT_MAX)
        return json_integer((json_int_t)v);
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, v);
    return json_string(text);
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), or 0 if there is none. */
static size_t utf8_sequence(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    if (n && (s[1] < lo || s[1] > hi))
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

json_t *cv_rpc_text(const char *s)
{
    size_t len = strlen(s);
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, len + 1);
    for (size_t i = 0; i < len;) {
        size_t n = utf8_sequence((const unsigned char *)copy + i);
        if (n == 0)
            copy[i] = '?';
        i += n ? n : 1;
    }
    json_t *v = json_stringn_nocheck(copy, len);
    free(copy);
    return v;
}

/* "std:<hex>" for an address of the given suite. */
static json_t *address_json(cv_suite suite, const uint8_t addr[CV_ADDR_LEN])
{
    char text[CV_ADDR_STR_MAX];
    int n = snprintf(text, sizeof text, "%s:", cv_suite_name(suite));
    cv_hex_encode(addr, CV_ADDR_LEN, text + n);
    return json_string(text);
}

json_t *cv_rpc_render_header(cv_suite suite, const cv_header *h)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "chain_id", cv_rpc_text(h->chain_id),
                     "height", cv_rpc_u64(h->height),
                     "time_ms", cv_rpc_u64(h->time_ms),
                     "prev_hash", cv_rpc_hex(h->prev_hash, CV_HASH_LEN),
                     "tx_count", cv_rpc_u64(h->tx_count),
                     "tx_root", cv_rpc_hex(h->tx_root, CV_HASH_LEN),
                     "receipt_root", cv_rpc_hex(h->receipt_root, CV_HASH_LEN),
                     "state_root", cv_rpc_hex(h->state_root, CV_HASH_LEN),
                     "validators_hash", cv_rpc_hex(h->validators_hash, CV_HASH_LEN),
                     "proposer", address_json(suite, h->proposer),
                     "next_validators_hash", cv_rpc_hex(h->next_validators_hash, CV_HASH_LEN));
}

json_t *cv_rpc_render_valset(const cv_valset *vs)
{
    json_t *list = json_array();
    for (size_t i = 0; i < vs->n; i++)
        json_array_append_new(list, json_pack("{s:o, s:o, s:o}", "address", address_json(vs->suite, vs->v[i].addr),
                                               "public_key", cv_rpc_hex(vs->v[i].pub.bytes, vs->v[i].pub.len),
                                               "power", cv_rpc_u64(vs->v[i].power)));
    return json_pack("{s:o, s:o, s:o}", "hash", cv_rpc_hex(vs->hash, CV_HASH_LEN), "total_power",
                     cv_rpc_u64(vs->total), "validators", list);
}

/* The decoded arguments, or null when they do not decode by the method's
 * schema (a committed transaction with a failed receipt may carry any). */
static json_t *args_json(const cv_tx *tx)
{
    json_t *args = NULL;
    if (cv_exec_args_to_json(tx->contract, tx->method, tx->args, tx->args_len, &args) != CV_OK)
        return json_null();
    return args;
}

static json_t *sender_json(const cv_pubkey *pub)
{
    uint8_t addr[CV_ADDR_LEN];
    if (cv_address(pub, addr) != CV_OK)
        return NULL;
    return json_pack("{s:o, s:o}", "address", address_json(pub->suite, addr), "public_key",
                     cv_rpc_hex(pub->bytes, pub->len));
}

json_t *cv_rpc_render_tx(const cv_tx *tx)
{
    char nonce[24];
    snprintf(nonce, sizeof nonce, "%" PRIu64, tx->nonce);
    return json_pack("{s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "chain_id", cv_rpc_text(tx->chain_id),
                     "suite", cv_suite_name(tx->sender.suite),
                     "sender", sender_json(&tx->sender),
                     "nonce", nonce,
                     "expiry", cv_rpc_u64(tx->expiry),
                     "contract", cv_rpc_text(tx->contract),
                     "method", cv_rpc_text(tx->method),
                     "args", args_json(tx),
                     "args_hex", cv_rpc_hex(tx->args, tx->args_len),
                     "signature", cv_rpc_hex(tx->sig.bytes, tx->sig.len));
}

static json_t *event_json(const cv_event *ev)
{
    json_t *attrs = json_object();
    for (size_t i = 0; attrs && i < ev->nattrs && i < CV_ATTRS_MAX; i++) {
        json_t *k = cv_rpc_text(ev->attrs[i].key); /* keys must be valid UTF-8 too */
        if (!k || json_object_set_new(attrs, json_string_value(k), cv_rpc_text(ev->attrs[i].value))) {
            json_decref(attrs);
            attrs = NULL;
        }
        json_decref(k);
    }
    return json_pack("{s:o, s:o, s:o}", "contract", cv_rpc_text(ev->contract), "name", cv_rpc_text(ev->name),
                     "attrs", attrs);
}

json_t *cv_rpc_render_receipt(const cv_receipt *r)
{
    json_t *events = json_array();
    for (size_t i = 0; events && i < r->nevents; i++)
        if (json_array_append_new(events, event_json(&r->events[i]))) {
            json_decref(events);
            events = NULL;
        }
    return json_pack("{s:o, s:b, s:o*, s:o}", "status", cv_rpc_u64(r->status), "ok", r->status == 0, "error",
                     r->status ? cv_rpc_text(r->error) : NULL, "events", events);
}

json_t *cv_rpc_render_error(int cv_code, const char *message)
{
    return json_pack("{s:i, s:o}", "code", cv_rpc_app_code(cv_code), "message", cv_rpc_text(message));
}
