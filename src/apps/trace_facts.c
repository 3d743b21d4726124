/* trace_facts.c: the facts the chain keeps of an EPCIS event (trace.h):
 * their canonical encoding, its checked decoding, JSON rendering, and event
 * hash IDs.
 *
 * Encoding: {1: type, 2: action, 3: bizStep, 4: disposition, 5: eventTime
 * (UTC ms), 6: time zone offset, 7: readPoint, 8: bizLocation, 9: source
 * owning party, 10: destination owning party, 11: parentID, 12: what,
 * 13: inputs, 14: outputs}, each list a message list of {1: key, 2: batch
 * key}. Codes are canonical keys (gs1.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/trace.h"
#include "base/err.h"
#include "codec/codec.h"

static const char *const type_names[] = {"?", "ObjectEvent", "AggregationEvent", "TransformationEvent"};
static const char *const action_names[] = {"", "ADD", "OBSERVE", "DELETE"};
static const char *const list_names[] = {"what", "inputs", "outputs"};

void cv_trace_facts_free(cv_trace_facts *f)
{
    free(f->what);
    free(f->inputs);
    free(f->outputs);
    f->what = f->inputs = f->outputs = NULL;
    f->nwhat = f->ninputs = f->noutputs = 0;
}

static void list_of(cv_trace_facts *f, int list, cv_trace_code ***codes, size_t **n)
{
    *codes = list == 0 ? &f->what : list == 1 ? &f->inputs : &f->outputs;
    *n = list == 0 ? &f->nwhat : list == 1 ? &f->ninputs : &f->noutputs;
}

int cv_trace_facts_add(cv_trace_facts *f, int list, const cv_gs1_code *code)
{
    cv_trace_code **codes;
    size_t *n;
    if (f->nwhat + f->ninputs + f->noutputs >= CV_TRACE_CODES_MAX)
        return cv_fail(CV_EFULL, "an event names at most %d codes", CV_TRACE_CODES_MAX);
    list_of(f, list, &codes, &n);
    cv_trace_code *grown = realloc(*codes, (*n + 1) * sizeof **codes);
    if (!grown)
        return cv_fail(CV_ENOMEM, "out of memory for an event's codes");
    *codes = grown;
    snprintf(grown[*n].key, sizeof grown[*n].key, "%s", code->key);
    snprintf(grown[*n].batch, sizeof grown[*n].batch, "%s", code->batch);
    (*n)++;
    return CV_OK;
}

/* ---- encoding ---------------------------------------------------------------- */

static void encode_list(cv_enc *e, uint32_t field, const cv_trace_code *codes, size_t n)
{
    cv_enc_list_begin(e, field, CV_CODEC_MSG_LIST);
    for (size_t i = 0; i < n; i++) {
        cv_enc_msg_begin(e, CV_CODEC_ITEM);
        cv_enc_str(e, 1, codes[i].key);
        cv_enc_str(e, 2, codes[i].batch);
        cv_enc_end(e);
    }
    cv_enc_end(e);
}

int cv_trace_facts_encode(const cv_trace_facts *f, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_uint(&e, 1, f->type);
    cv_enc_uint(&e, 2, f->action);
    cv_enc_str(&e, 3, f->biz_step);
    cv_enc_str(&e, 4, f->disposition);
    cv_enc_uint(&e, 5, f->event_time_ms);
    cv_enc_str(&e, 6, f->tz);
    cv_enc_str(&e, 7, f->read_point);
    cv_enc_str(&e, 8, f->biz_location);
    cv_enc_str(&e, 9, f->source);
    cv_enc_str(&e, 10, f->destination);
    cv_enc_str(&e, 11, f->parent);
    encode_list(&e, 12, f->what, f->nwhat);
    encode_list(&e, 13, f->inputs, f->ninputs);
    encode_list(&e, 14, f->outputs, f->noutputs);
    return cv_enc_finish(&e);
}

/* ---- decoding ---------------------------------------------------------------- */

/* key must be "" (when optional) or the canonical key of one of the kinds
 * in the bit mask `kinds`. */
static int check_key(const char *what, const char *key, unsigned kinds, int optional)
{
    cv_gs1_code c;
    if (!*key && optional)
        return CV_OK;
    if (cv_gs1_parse(key, &c))
        return cv_fail(CV_EINVAL, "facts: %s: %s", what, cv_errmsg());
    if (strcmp(c.key, key) != 0)
        return cv_fail(CV_EINVAL, "facts: %s '%s' is not canonical (%s)", what, key, c.key);
    if (!(kinds & 1u << c.kind))
        return cv_fail(CV_EINVAL, "facts: %s '%s' is a %s code", what, key, cv_gs1_kind_name(c.kind));
    return CV_OK;
}

#define WHAT_KINDS (1u << CV_GS1_GTIN | 1u << CV_GS1_LGTIN | 1u << CV_GS1_SGTIN | 1u << CV_GS1_SSCC)

static int check_code(const char *list, const cv_trace_code *c)
{
    int rc = check_key(list, c->key, WHAT_KINDS, 0);
    if (!rc && *c->batch) {
        rc = check_key(list, c->batch, 1u << CV_GS1_LGTIN, 0);
        /* "01/" + GTIN + "/" is the same in an item and its batch */
        if (!rc && strncmp(c->batch, c->key, 18) != 0)
            rc = cv_fail(CV_EINVAL, "facts: batch %s is not of the GTIN of item %s", c->batch, c->key);
    }
    return rc;
}

static int decode_list(cv_dec *d, uint32_t field, cv_trace_facts *f, int list)
{
    cv_trace_code **codes;
    size_t *n, count = 0;
    list_of(f, list, &codes, &n);
    int rc = cv_dec_list(d, field, list_names[list], CV_CODEC_MSG_LIST, &count, CV_TRACE_CODES_MAX);
    if (!rc && count && !(*codes = calloc(count, sizeof **codes)))
        rc = cv_fail(CV_ENOMEM, "out of memory decoding an event's codes");
    for (size_t i = 0; !rc && i < count; i++) {
        cv_dec item;
        cv_trace_code *c = &(*codes)[i];
        if ((rc = cv_dec_msg(d, CV_CODEC_ITEM, NULL, &item, CV_TRACE_FACTS_MAX)))
            break;
        cv_dec_str(&item, 1, "key", c->key, sizeof c->key);
        cv_dec_str(&item, 2, "batch", c->batch, sizeof c->batch);
        if (!(rc = cv_dec_end(&item)))
            *n = i + 1;
    }
    return rc;
}

static int decode_fields(const uint8_t *p, size_t len, cv_trace_facts *f)
{
    cv_dec d;
    cv_dec_init(&d, p, len);
    cv_dec_uint_max(&d, 1, "type", &f->type, CV_TRACE_TRANSFORMATION);
    cv_dec_uint_max(&d, 2, "action", &f->action, CV_TRACE_DELETE);
    cv_dec_str(&d, 3, "biz_step", f->biz_step, sizeof f->biz_step);
    cv_dec_str(&d, 4, "disposition", f->disposition, sizeof f->disposition);
    cv_dec_uint(&d, 5, "event_time_ms", &f->event_time_ms);
    cv_dec_str(&d, 6, "tz", f->tz, sizeof f->tz);
    cv_dec_str(&d, 7, "read_point", f->read_point, sizeof f->read_point);
    cv_dec_str(&d, 8, "biz_location", f->biz_location, sizeof f->biz_location);
    cv_dec_str(&d, 9, "source", f->source, sizeof f->source);
    cv_dec_str(&d, 10, "destination", f->destination, sizeof f->destination);
    int rc = cv_dec_str(&d, 11, "parent", f->parent, sizeof f->parent);
    for (int list = 0; list < 3 && !rc; list++)
        rc = decode_list(&d, (uint32_t)(12 + list), f, list);
    return rc ? rc : cv_dec_end(&d);
}

static int check_shape(const cv_trace_facts *f)
{
    if (f->type == 0)
        return cv_fail(CV_EINVAL, "facts: event type 0 is unknown");
    if ((f->type == CV_TRACE_TRANSFORMATION) != (f->action == CV_TRACE_NO_ACTION))
        return cv_fail(CV_EINVAL, "facts: a %s %s an action", type_names[f->type],
                       f->type == CV_TRACE_TRANSFORMATION ? "has no" : "needs");
    if (f->type != CV_TRACE_TRANSFORMATION && (f->ninputs || f->noutputs))
        return cv_fail(CV_EINVAL, "facts: only a TransformationEvent has inputs and outputs");
    if (f->type == CV_TRACE_TRANSFORMATION && f->nwhat)
        return cv_fail(CV_EINVAL, "facts: a TransformationEvent lists inputs and outputs only");
    if ((f->type == CV_TRACE_AGGREGATION) != (*f->parent != '\0'))
        return cv_fail(CV_EINVAL, "facts: %s", f->type == CV_TRACE_AGGREGATION ? "an AggregationEvent needs its parent"
                                                                                 : "only an AggregationEvent has a parent");
    if (!f->nwhat && !f->ninputs && !f->noutputs && f->type != CV_TRACE_AGGREGATION)
        return cv_fail(CV_EINVAL, "facts: the event names no code");
    if (!*f->biz_step)
        return cv_fail(CV_EINVAL, "facts: the event has no business step");
    return CV_OK;
}

static int check_keys(const cv_trace_facts *f)
{
    int rc = check_key("readPoint", f->read_point, 1u << CV_GS1_SGLN, 1);
    if (!rc)
        rc = check_key("bizLocation", f->biz_location, 1u << CV_GS1_SGLN, 1);
    if (!rc)
        rc = check_key("source", f->source, 1u << CV_GS1_PGLN | 1u << CV_GS1_SGLN, 1);
    if (!rc)
        rc = check_key("destination", f->destination, 1u << CV_GS1_PGLN | 1u << CV_GS1_SGLN, 1);
    if (!rc)
        rc = check_key("parentID", f->parent, 1u << CV_GS1_SSCC | 1u << CV_GS1_SGTIN, 1);
    for (size_t i = 0; !rc && i < f->nwhat; i++)
        rc = check_code("what", &f->what[i]);
    for (size_t i = 0; !rc && i < f->ninputs; i++)
        rc = check_code("inputs", &f->inputs[i]);
    for (size_t i = 0; !rc && i < f->noutputs; i++)
        rc = check_code("outputs", &f->outputs[i]);
    return rc;
}

int cv_trace_facts_load(const uint8_t *p, size_t len, cv_trace_facts *out)
{
    memset(out, 0, sizeof *out);
    int rc = decode_fields(p, len, out);
    if (rc) {
        cv_trace_facts_free(out);
        return cv_fail(CV_ESTATE, "trace: corrupt facts in state");
    }
    return CV_OK;
}

int cv_trace_facts_decode(const uint8_t *p, size_t len, cv_trace_facts *out)
{
    memset(out, 0, sizeof *out);
    int rc = len > CV_TRACE_FACTS_MAX ? cv_fail(CV_EINVAL, "facts: more than %d bytes", CV_TRACE_FACTS_MAX)
                                      : decode_fields(p, len, out);
    if (rc == CV_EDECODE) {
        char why[300];
        snprintf(why, sizeof why, "%s", cv_errmsg());
        rc = cv_fail(CV_EINVAL, "facts: %s", why);
    }
    if (!rc)
        rc = check_shape(out);
    if (!rc)
        rc = check_keys(out);
    if (rc)
        cv_trace_facts_free(out);
    return rc;
}

/* ---- JSON -------------------------------------------------------------------- */

/* The canonical URI of a key, or null for "". */
static json_t *uri_json(const char *key)
{
    char uri[sizeof CV_GS1_DOMAIN + CV_GS1_KEY_MAX];
    if (!*key)
        return json_null();
    cv_gs1_uri(key, uri, sizeof uri);
    return json_string(uri);
}

static json_t *list_json(const cv_trace_code *codes, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, uri_json(codes[i].key))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

json_t *cv_trace_facts_json(const cv_trace_facts *f)
{
    return json_pack("{s:s, s:s?, s:s, s:s?, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "type",
                     type_names[f->type], "action", f->action ? action_names[f->action] : NULL, "biz_step",
                     f->biz_step, "disposition", *f->disposition ? f->disposition : NULL, "event_time_ms",
                     (json_int_t)f->event_time_ms, "time_zone", f->tz, "read_point", uri_json(f->read_point),
                     "biz_location", uri_json(f->biz_location), "source", uri_json(f->source), "destination",
                     uri_json(f->destination), "parent", uri_json(f->parent), "what", list_json(f->what, f->nwhat),
                     "inputs", list_json(f->inputs, f->ninputs), "outputs", list_json(f->outputs, f->noutputs));
}

/* ---- event hash IDs -------------------------------------------------------------- */

static const char id_prefix[] = "ni:///sha-256;";
static const char id_suffix[] = "?ver=CBV2.0";

void cv_trace_event_id(const uint8_t hash[CV_HASH_LEN], char out[CV_TRACE_ID_MAX + 1])
{
    char hex[2 * CV_HASH_LEN + 1];
    cv_hex_encode(hash, CV_HASH_LEN, hex);
    snprintf(out, CV_TRACE_ID_MAX + 1, "%s%s%s", id_prefix, hex, id_suffix);
}

int cv_trace_parse_event_id(const char *text, uint8_t hash[CV_HASH_LEN])
{
    const char *hex = text;
    size_t n = strlen(text);
    if (strncmp(text, id_prefix, sizeof id_prefix - 1) == 0) {
        hex = text + sizeof id_prefix - 1;
        n = strlen(hex) >= sizeof id_suffix - 1 ? strlen(hex) - (sizeof id_suffix - 1) : 0;
        if (strcmp(hex + n, id_suffix) != 0)
            n = 0;
    }
    char digits[2 * CV_HASH_LEN + 1];
    snprintf(digits, sizeof digits, "%.64s", hex);
    if (n != 2 * CV_HASH_LEN || cv_hex_decode(digits, hash, CV_HASH_LEN) != CV_OK)
        return cv_fail(CV_EINVAL, "'%.100s' is not an event hash ID (ni:///sha-256;{64 hex digits}?ver=CBV2.0)", text);
    return CV_OK;
}
