/* trace_state.c: the trace contract's state records (trace_state.h). */
#include "apps/trace_state.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"

#define KEY_ROOM (1 + CV_GS1_KEY_MAX + 1 + 8)
#define CONTAINER_DEPTH 8 /* containers nest at most this deep */

static int encode_event(const cv_trace_event_rec *r, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_uint(&e, 1, r->seq);
    cv_enc_uint(&e, 2, r->height);
    cv_enc_uint(&e, 3, r->time_ms);
    cv_enc_bytes(&e, 4, r->tx, CV_HASH_LEN);
    cv_enc_bytes(&e, 5, r->recorder, CV_ADDR_LEN);
    cv_enc_str(&e, 6, r->org);
    cv_enc_bytes(&e, 7, r->facts.data ? r->facts.data : (const uint8_t *)"", r->facts.len);
    cv_enc_uint(&e, 8, r->declared);
    cv_enc_str(&e, 9, r->reason);
    cv_enc_bytes(&e, 10, r->declared_by, CV_ADDR_LEN);
    cv_enc_uint(&e, 11, r->declared_height);
    return cv_enc_finish(&e);
}

static int decode_event(const cv_buf *v, cv_trace_event_rec *r)
{
    const uint8_t *facts = NULL;
    size_t facts_len = 0;
    cv_dec d;
    cv_dec_init(&d, v->data, v->len);
    cv_dec_uint(&d, 1, "seq", &r->seq);
    cv_dec_uint(&d, 2, "height", &r->height);
    cv_dec_uint(&d, 3, "time_ms", &r->time_ms);
    cv_dec_fixed(&d, 4, "tx", r->tx, CV_HASH_LEN);
    cv_dec_fixed(&d, 5, "recorder", r->recorder, CV_ADDR_LEN);
    cv_dec_str(&d, 6, "org", r->org, sizeof r->org);
    cv_dec_bytes(&d, 7, "facts", &facts, &facts_len, CV_TRACE_FACTS_MAX);
    cv_dec_uint(&d, 8, "declared", &r->declared);
    cv_dec_str(&d, 9, "reason", r->reason, sizeof r->reason);
    cv_dec_fixed(&d, 10, "declared_by", r->declared_by, CV_ADDR_LEN);
    cv_dec_uint(&d, 11, "declared_height", &r->declared_height);
    int rc = cv_dec_end(&d);
    if (!rc)
        rc = cv_buf_append(&r->facts, facts, facts_len);
    return rc ? cv_fail(CV_ESTATE, "trace: corrupt event record") : CV_OK;
}

int cv_trace_load_event(const cv_call *call, const uint8_t hash[CV_HASH_LEN], cv_trace_event_rec *r)
{
    uint8_t key[1 + CV_HASH_LEN] = {'e'};
    cv_buf v = {0};
    memset(r, 0, sizeof *r);
    memcpy(key + 1, hash, CV_HASH_LEN);
    int rc = cv_call_get(call, key, sizeof key, &v);
    if (!rc)
        rc = decode_event(&v, r);
    cv_buf_free(&v);
    if (rc)
        cv_trace_event_rec_free(r);
    return rc;
}

int cv_trace_store_event(cv_call *call, const uint8_t hash[CV_HASH_LEN], const cv_trace_event_rec *r)
{
    uint8_t key[1 + CV_HASH_LEN] = {'e'};
    cv_buf v = {0};
    memcpy(key + 1, hash, CV_HASH_LEN);
    int rc = encode_event(r, &v);
    if (!rc)
        rc = cv_call_put(call, key, sizeof key, v.data, v.len);
    cv_buf_free(&v);
    return rc;
}

void cv_trace_event_rec_free(cv_trace_event_rec *r)
{
    cv_buf_free(&r->facts);
}

static size_t custody_key(const char *code, uint8_t out[KEY_ROOM])
{
    size_t n = strlen(code);
    out[0] = 'o';
    memcpy(out + 1, code, n);
    return n + 1;
}

int cv_trace_load_custody(const cv_call *call, const char *code, cv_trace_custody *c)
{
    uint8_t key[KEY_ROOM];
    cv_buf v = {0};
    memset(c, 0, sizeof *c);
    int rc = cv_call_get(call, key, custody_key(code, key), &v);
    if (!rc) {
        cv_dec d;
        cv_dec_init(&d, v.data, v.len);
        cv_dec_str(&d, 1, "owner", c->owner, sizeof c->owner);
        cv_dec_uint(&d, 2, "status", &c->status);
        cv_dec_uint(&d, 3, "recalled", &c->recalled);
        cv_dec_str(&d, 4, "parent", c->parent, sizeof c->parent);
        cv_dec_fixed(&d, 5, "last", c->last, CV_HASH_LEN);
        if (cv_dec_end(&d))
            rc = cv_fail(CV_ESTATE, "trace: corrupt custody record of %s", code);
    }
    cv_buf_free(&v);
    return rc;
}

int cv_trace_store_custody(cv_call *call, const char *code, const cv_trace_custody *c)
{
    uint8_t key[KEY_ROOM];
    cv_buf v = {0};
    cv_enc e;
    cv_enc_init(&e, &v);
    cv_enc_str(&e, 1, c->owner);
    cv_enc_uint(&e, 2, c->status);
    cv_enc_uint(&e, 3, c->recalled);
    cv_enc_str(&e, 4, c->parent);
    cv_enc_bytes(&e, 5, c->last, CV_HASH_LEN);
    int rc = cv_enc_finish(&e);
    if (!rc)
        rc = cv_call_put(call, key, custody_key(code, key), v.data, v.len);
    cv_buf_free(&v);
    return rc;
}

int cv_trace_effective_custody(const cv_call *call, const char *code, cv_trace_custody *c)
{
    int rc = cv_trace_load_custody(call, code, c);
    for (int depth = 0; !rc && *c->parent; depth++) {
        char parent[CV_GS1_KEY_MAX + 1];
        memcpy(parent, c->parent, sizeof parent);
        if (depth == CONTAINER_DEPTH)
            return cv_fail(CV_ESTATE, "code %s is nested more than %d containers deep", code, CONTAINER_DEPTH);
        rc = cv_trace_load_custody(call, parent, c);
    }
    return rc;
}

size_t cv_trace_index_prefix(const char *code, uint8_t *out)
{
    size_t n = strlen(code);
    out[0] = 'c';
    memcpy(out + 1, code, n);
    out[n + 1] = 0;
    return n + 2;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char hex[2 * CV_HASH_LEN + 1];
    cv_hex_encode(p, n, hex);
    return json_string(hex);
}

static json_t *error_json(const cv_call *call, const cv_trace_event_rec *r)
{
    char by[CV_ADDR_STR_MAX];
    if (!r->declared)
        return json_null();
    cv_call_address_string(call, r->declared_by, by);
    return json_pack("{s:s, s:s, s:I}", "reason", r->reason, "declared_by", by, "height",
                     (json_int_t)r->declared_height);
}

json_t *cv_trace_event_json(const cv_call *call, const uint8_t hash[CV_HASH_LEN], const cv_trace_event_rec *r,
                            const cv_trace_facts *f)
{
    char id[CV_TRACE_ID_MAX + 1], who[CV_ADDR_STR_MAX];
    cv_trace_event_id(hash, id);
    cv_call_address_string(call, r->recorder, who);
    json_t *v = cv_trace_facts_json(f);
    if (v && json_object_update_new(v, json_pack("{s:s, s:I, s:I, s:I, s:o, s:s, s:s, s:o}", "id", id, "seq",
                                                 (json_int_t)r->seq, "height", (json_int_t)r->height, "time_ms",
                                                 (json_int_t)r->time_ms, "tx", hex_json(r->tx, CV_HASH_LEN),
                                                 "recorder", who, "org", r->org, "error", error_json(call, r)))) {
        json_decref(v);
        return NULL;
    }
    return v;
}
