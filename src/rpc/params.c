/* params.c: extraction of method parameters from the params object, one
 * helper per kind of value, shared by every method. Each checks presence,
 * type and range and fails with -32602 naming the parameter and what is
 * wrong with it. A member whose value is null counts as absent. */
#include <inttypes.h>
#include <string.h>

#include "base/err.h"
#include "rpc/internal.h"

static const json_t *member(const cv_rpc_call *c, const char *name)
{
    const json_t *v = c->params ? json_object_get(c->params, name) : NULL;
    return json_is_null(v) ? NULL : v;
}

static int missing(cv_rpc_call *c, const char *name)
{
    return cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS, "invalid params: missing param \"%s\"", name);
}

int cv_rpc_params_known(cv_rpc_call *c, const char *const *names)
{
    const char *key;
    json_t *value;
    if (!c->params)
        return CV_OK;
    json_object_foreach((json_t *)c->params, key, value) {
        size_t i = 0;
        while (names[i] && strcmp(names[i], key) != 0)
            i++;
        if (names[i])
            continue;
        char list[200] = "none";
        for (size_t k = 0, off = 0; names[k] && off < sizeof list; k++)
            off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", k ? ", " : "", names[k]);
        return cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS,
                           "invalid params: unknown param \"%.64s\" (this method takes: %s)", key, list);
    }
    return CV_OK;
}

int cv_rpc_param_present(const cv_rpc_call *c, const char *name)
{
    return member(c, name) != NULL;
}

int cv_rpc_param_uint(cv_rpc_call *c, const char *name, int required, uint64_t def, uint64_t max,
                      uint64_t *out)
{
    const json_t *v = member(c, name);
    *out = def;
    if (!v)
        return required ? missing(c, name) : CV_OK;
    json_int_t i = json_integer_value(v);
    if (!json_is_integer(v) || i < 0 || (uint64_t)i > max)
        return cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS,
                           "invalid params: param \"%s\" must be an integer from 0 to %" PRIu64, name, max);
    *out = (uint64_t)i;
    return CV_OK;
}

int cv_rpc_param_bool(cv_rpc_call *c, const char *name, int def, int *out)
{
    const json_t *v = member(c, name);
    *out = def;
    if (!v)
        return CV_OK;
    if (!json_is_boolean(v))
        return cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS, "invalid params: param \"%s\" must be true or false",
                           name);
    *out = json_is_true(v);
    return CV_OK;
}

int cv_rpc_param_str(cv_rpc_call *c, const char *name, size_t max, const char **out)
{
    const json_t *v = member(c, name);
    if (!v)
        return missing(c, name);
    size_t n = json_string_length(v);
    if (!json_is_string(v) || n == 0 || n > max)
        return cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS,
                           "invalid params: param \"%s\" must be a string of 1 to %zu bytes", name, max);
    *out = json_string_value(v);
    return CV_OK;
}

int cv_rpc_hex_value(cv_rpc_error *e, const char *what, const json_t *v, size_t max, cv_buf *out)
{
    const char *hex = json_string_value(v);
    if (!hex)
        return cv_rpc_fail(e, CV_RPC_INVALID_PARAMS, "invalid params: \"%s\" must be a hex string", what);
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        hex += 2;
    size_t digits = strlen(hex);
    if (digits == 0 || digits % 2 || digits / 2 > max)
        return cv_rpc_fail(e, CV_RPC_INVALID_PARAMS,
                           "invalid params: \"%s\" must be an even number of hex digits for 1 to %zu bytes, "
                           "not %zu digits", what, max, digits);
    int rc = cv_buf_reserve(out, digits / 2);
    if (rc)
        return cv_rpc_fail_cv(e, rc);
    if (cv_hex_decode(hex, out->data + out->len, digits / 2))
        return cv_rpc_fail(e, CV_RPC_INVALID_PARAMS, "invalid params: \"%s\" is not hex: %s", what, cv_errmsg());
    out->len += digits / 2;
    return CV_OK;
}

int cv_rpc_param_hex(cv_rpc_call *c, const char *name, size_t max, cv_buf *out)
{
    const json_t *v = member(c, name);
    return v ? cv_rpc_hex_value(c->err, name, v, max, out) : missing(c, name);
}

int cv_rpc_param_hash(cv_rpc_call *c, const char *name, uint8_t out[CV_HASH_LEN])
{
    cv_buf raw = {0};
    int rc = cv_rpc_param_hex(c, name, CV_HASH_LEN, &raw);
    if (!rc && raw.len != CV_HASH_LEN)
        rc = cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS,
                         "invalid params: param \"%s\" must be a %d-byte hash (%d hex digits), not %zu bytes",
                         name, CV_HASH_LEN, 2 * CV_HASH_LEN, raw.len);
    if (!rc)
        memcpy(out, raw.data, CV_HASH_LEN);
    cv_buf_free(&raw);
    return rc;
}

int cv_rpc_param_array(cv_rpc_call *c, const char *name, size_t max, const json_t **out)
{
    const json_t *v = member(c, name);
    if (!v)
        return missing(c, name);
    if (!json_is_array(v) || json_array_size(v) == 0)
        return cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS, "invalid params: param \"%s\" must be a non-empty array",
                           name);
    if (json_array_size(v) > max)
        return cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS,
                           "invalid params: param \"%s\" has %zu elements, more than the limit of %zu", name,
                           json_array_size(v), max);
    *out = v;
    return CV_OK;
}

int cv_rpc_param_object(cv_rpc_call *c, const char *name, json_t **out)
{
    const json_t *v = member(c, name);
    if (v && !json_is_object(v))
        return cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS, "invalid params: param \"%s\" must be an object", name);
    *out = v ? json_incref((json_t *)v) : json_object();
    return *out ? CV_OK : cv_rpc_fail_cv(c->err, cv_fail(CV_ENOMEM, "out of memory"));
}
