/* args.c: method arguments: decoding the canonical encoding by a method's
 * specs, and converting between that encoding and JSON for clients.
 *
 * The arguments of a method are one canonical message whose field i + 1
 * holds argument i: uint as a varint; str, bytes, hash, addr and pubkey as
 * bytes (str: UTF-8 without NUL). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "codec/codec.h"
#include "exec/internal.h"

static const char *const type_names[] = {"uint", "str", "bytes", "hash", "address", "pubkey"};

const char *cv_exec_arg_type_name(cv_arg_type t)
{
    return (unsigned)t < sizeof type_names / sizeof type_names[0] ? type_names[t] : "?";
}

int cv_exec_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = strlen(s);
    int ok = n > 0 && n <= 20 && !(n > 1 && s[0] == '0');
    for (size_t i = 0; ok && i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        ok = d <= 9 && v <= (UINT64_MAX - d) / 10;
        v = v * 10 + d;
    }
    if (!ok || v > max)
        return cv_fail(CV_EINVAL, "\"%.40s\" is not a decimal number from 0 to %" PRIu64, s, max);
    *out = v;
    return CV_OK;
}

/* The exact length of a fixed-size type, or 0. */
static size_t fixed_len(cv_arg_type t)
{
    return t == CV_ARG_HASH ? CV_HASH_LEN : t == CV_ARG_ADDR ? CV_ADDR_LEN : 0;
}

/* Most bytes of a bytes-like argument. */
static size_t bytes_max(const cv_arg_spec *spec)
{
    if (fixed_len(spec->type))
        return fixed_len(spec->type);
    if (spec->type == CV_ARG_PUBKEY)
        return CV_PUB_MAX;
    return spec->max < CV_TX_HARD_MAX ? (size_t)spec->max : CV_TX_HARD_MAX;
}

/* ---- decoding ------------------------------------------------------------------ */

/* Copies a string argument into scratch, which has room (see below). */
static int decode_str(cv_dec *d, uint32_t field, const cv_arg_spec *spec, cv_arg *out,
                      cv_buf *scratch)
{
    char *s = (char *)scratch->data + scratch->len;
    size_t room = scratch->cap - scratch->len;
    size_t cap = bytes_max(spec) + 1 < room ? bytes_max(spec) + 1 : room;
    int rc = cv_dec_str(d, field, spec->name, s, cap);
    if (rc)
        return rc;
    out->s = s;
    out->len = strlen(s);
    scratch->len += out->len + 1;
    return CV_OK;
}

static int decode_bytes(cv_dec *d, uint32_t field, const cv_arg_spec *spec, cv_suite suite,
                        cv_arg *out)
{
    int rc = cv_dec_bytes(d, field, spec->name, &out->b, &out->len, bytes_max(spec));
    if (rc)
        return rc;
    if (fixed_len(spec->type) && out->len != fixed_len(spec->type))
        return cv_fail(CV_EINVAL, "argument '%s' has %zu bytes, a %s has %zu", spec->name, out->len,
                       cv_exec_arg_type_name(spec->type), fixed_len(spec->type));
    if (spec->type == CV_ARG_PUBKEY && suite && cv_pubkey_parse(suite, out->b, out->len, &out->pub))
        return cv_fail(CV_EINVAL, "argument '%s' is not a valid %s public key", spec->name,
                       cv_suite_name(suite));
    return CV_OK;
}

static int decode_arg(cv_dec *d, uint32_t field, const cv_arg_spec *spec, cv_suite suite,
                      cv_arg *out, cv_buf *scratch)
{
    switch (spec->type) {
    case CV_ARG_UINT: return cv_dec_uint_max(d, field, spec->name, &out->u, spec->max);
    case CV_ARG_STR: return decode_str(d, field, spec, out, scratch);
    default: return decode_bytes(d, field, spec, suite, out);
    }
}

int cv_exec_args_decode(const cv_contract *c, const cv_method *m, cv_suite suite, const uint8_t *p,
                        size_t len, cv_arg *out, cv_buf *scratch)
{
    memset(out, 0, m->nargs * sizeof *out);
    cv_buf_reset(scratch);
    /* Every string is at most the input's bytes plus its NUL: the scratch
     * never moves while strings are copied into it. */
    int rc = cv_buf_reserve(scratch, len + m->nargs + 1);
    cv_dec d;
    cv_dec_init(&d, p ? p : (const uint8_t *)"", len);
    for (size_t i = 0; !rc && i < m->nargs; i++)
        rc = decode_arg(&d, (uint32_t)(i + 1), &m->args[i], suite, &out[i], scratch);
    if (!rc)
        rc = cv_dec_end(&d);
    if (rc && rc != CV_ENOMEM) {
        char why[300];
        snprintf(why, sizeof why, "%s", cv_errmsg());
        return cv_fail(CV_EINVAL, "bad arguments for %s.%s: %s", c->name, m->name, why);
    }
    return rc;
}

/* ---- JSON -> encoding ---------------------------------------------------------- */

static int json_uint(const cv_arg_spec *spec, const json_t *v, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0)
        *out = (uint64_t)json_integer_value(v);
    else if (!json_is_string(v) || cv_exec_parse_uint(json_string_value(v), UINT64_MAX, out))
        return cv_fail(CV_EINVAL, "argument '%s' must be a non-negative integer or a decimal string",
                       spec->name);
    if (*out > spec->max)
        return cv_fail(CV_EINVAL, "argument '%s' is %" PRIu64 ", more than the maximum %" PRIu64,
                       spec->name, *out, spec->max);
    return CV_OK;
}

static int json_str(const cv_arg_spec *spec, const json_t *v, const char **out)
{
    if (!json_is_string(v))
        return cv_fail(CV_EINVAL, "argument '%s' must be a string", spec->name);
    *out = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(*out) != n)
        return cv_fail(CV_EINVAL, "argument '%s' contains a NUL character", spec->name);
    if (n > bytes_max(spec))
        return cv_fail(CV_EINVAL, "argument '%s' has %zu bytes, more than the maximum %zu", spec->name,
                       n, bytes_max(spec));
    return CV_OK;
}

/* Hex (with an optional 0x) or, for an address, "suite:hex", into raw. */
static int json_bytes(const cv_arg_spec *spec, const json_t *v, cv_buf *raw)
{
    const char *s = json_string_value(v);
    cv_suite suite;
    if (!s)
        return cv_fail(CV_EINVAL, "argument '%s' must be a hex string", spec->name);
    if (spec->type == CV_ARG_ADDR && strchr(s, ':')) {
        if (cv_buf_reserve(raw, CV_ADDR_LEN) ||
            cv_address_parse(s, &suite, raw->data))
            return cv_fail(CV_EINVAL, "argument '%s' is not an address (suite:40 hex digits)",
                           spec->name);
        raw->len = CV_ADDR_LEN;
        return CV_OK;
    }
    if (s[0] == '0' && s[1] == 'x')
        s += 2;
    if (strlen(s) / 2 > bytes_max(spec) || cv_hex_decode_buf(s, raw))
        return cv_fail(CV_EINVAL, "argument '%s' must be hex of at most %zu bytes", spec->name,
                       bytes_max(spec));
    if (fixed_len(spec->type) && raw->len != fixed_len(spec->type))
        return cv_fail(CV_EINVAL, "argument '%s' has %zu bytes, a %s has %zu", spec->name, raw->len,
                       cv_exec_arg_type_name(spec->type), fixed_len(spec->type));
    return CV_OK;
}

static int encode_json_arg(cv_enc *e, uint32_t field, const cv_arg_spec *spec, const json_t *v)
{
    uint64_t u = 0;
    const char *s = NULL;
    cv_buf raw = {0};
    int rc;
    switch (spec->type) {
    case CV_ARG_UINT:
        return (rc = json_uint(spec, v, &u)) ? rc : cv_enc_uint(e, field, u);
    case CV_ARG_STR:
        return (rc = json_str(spec, v, &s)) ? rc : cv_enc_str(e, field, s);
    default:
        if (!(rc = json_bytes(spec, v, &raw)))
            rc = cv_enc_bytes(e, field, raw.data ? raw.data : (const uint8_t *)"", raw.len);
        cv_buf_free(&raw);
        return rc;
    }
}

/* The method by contract and method name, or a message naming what is missing. */
static int find_method(const char *contract, const char *method, const cv_contract **c,
                       const cv_method **m)
{
    if (!(*c = cv_exec_contract(contract)) || !(*m = cv_exec_method(*c, method)))
        return CV_ENOTFOUND;
    return CV_OK;
}

/* CV_EINVAL naming the first member of args that m does not take. */
static int check_unknown_args(const cv_contract *c, const cv_method *m, const json_t *args)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)args, key, v) {
        size_t i = 0;
        while (i < m->nargs && strcmp(m->args[i].name, key) != 0)
            i++;
        if (i == m->nargs)
            return cv_fail(CV_EINVAL, "%s.%s has no argument '%.40s'", c->name, m->name, key);
    }
    return CV_OK;
}

int cv_exec_args_from_json(const char *contract, const char *method, const json_t *args, cv_buf *out)
{
    const cv_contract *c;
    const cv_method *m;
    int rc = find_method(contract, method, &c, &m);
    if (rc)
        return rc;
    if (args && !json_is_object(args))
        return cv_fail(CV_EINVAL, "arguments of %s.%s must be a JSON object", c->name, m->name);
    if (args && (rc = check_unknown_args(c, m, args)))
        return rc;
    cv_enc e;
    cv_enc_init(&e, out);
    for (size_t i = 0; i < m->nargs && !rc; i++) {
        const json_t *v = args ? json_object_get(args, m->args[i].name) : NULL;
        rc = v ? encode_json_arg(&e, (uint32_t)(i + 1), &m->args[i], v)
               : cv_fail(CV_EINVAL, "%s.%s: argument '%s' is missing", c->name, m->name,
                         m->args[i].name);
    }
    if (rc) {
        out->len = e.origin;
        return rc;
    }
    return cv_enc_finish(&e);
}

/* ---- encoding -> JSON ---------------------------------------------------------- */

static json_t *arg_json(const cv_arg_spec *spec, const cv_arg *a)
{
    char dec[24];
    switch (spec->type) {
    case CV_ARG_UINT:
        if (a->u <= INT64_MAX)
            return json_integer((json_int_t)a->u);
        snprintf(dec, sizeof dec, "%" PRIu64, a->u);
        return json_string(dec);
    case CV_ARG_STR: return json_stringn(a->s, a->len);
    default: return cv_json_hex(a->b, a->len);
    }
}

int cv_exec_args_to_json(const char *contract, const char *method, const uint8_t *args, size_t len,
                         json_t **out)
{
    const cv_contract *c;
    const cv_method *m;
    cv_arg vals[CV_ARGS_MAX];
    cv_buf scratch = {0};
    *out = NULL;
    int rc = find_method(contract, method, &c, &m);
    if (!rc)
        rc = cv_exec_args_decode(c, m, 0, args, len, vals, &scratch);
    json_t *obj = rc ? NULL : json_object();
    if (!rc && !obj)
        rc = cv_fail(CV_ENOMEM, "out of memory rendering arguments");
    for (size_t i = 0; !rc && i < m->nargs; i++)
        if (json_object_set_new(obj, m->args[i].name, arg_json(&m->args[i], &vals[i])))
            rc = cv_fail(CV_ENOMEM, "out of memory rendering arguments");
    cv_buf_free(&scratch);
    if (rc) {
        json_decref(obj);
        return rc;
    }
    *out = obj;
    return CV_OK;
}
