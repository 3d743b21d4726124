/* call.c: what a contract method can do through its cv_call (contract.h):
 * namespaced state access, events, query results. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "exec/internal.h"

size_t cv_exec_full_key(const char *contract, const void *key, size_t key_len, uint8_t full[CV_FULL_KEY_MAX])
{
    size_t n = strlen(contract);
    if (key_len > CV_KEY_MAX || n > CV_NAME_MAX)
        return 0;
    memcpy(full, contract, n);
    full[n] = 0;
    if (key_len)
        memcpy(full + n + 1, key, key_len);
    return n + 1 + key_len;
}

static int key_too_long(const char *contract, size_t key_len)
{
    return cv_fail(CV_EINVAL, "%s: state key of %zu bytes exceeds %d", contract, key_len,
                   CV_KEY_MAX);
}

int cv_call_get_in(const cv_call *call, const char *contract, const void *key, size_t key_len,
                   cv_buf *out)
{
    uint8_t full[CV_FULL_KEY_MAX];
    size_t n = cv_exec_full_key(contract, key, key_len, full);
    if (!n)
        return key_too_long(contract, key_len);
    if (call->state)
        return cv_state_get(call->state, full, n, out);
    cv_buf_reset(out);
    return call->src->get(call->src->ctx, full, n, out);
}

int cv_call_get(const cv_call *call, const void *key, size_t key_len, cv_buf *out)
{
    return cv_call_get_in(call, call->contract->name, key, key_len, out);
}

/* Writes (value NULL: deletes) key in the calling contract's space. */
static int write_key(cv_call *call, const void *key, size_t key_len, const void *value, size_t len)
{
    uint8_t full[CV_FULL_KEY_MAX];
    if (call->readonly || !call->state)
        return cv_fail(CV_ESTATE, "%s: a query cannot write state", call->contract->name);
    size_t n = cv_exec_full_key(call->contract->name, key, key_len, full);
    if (!n)
        return key_too_long(call->contract->name, key_len);
    return cv_state_set(call->state, full, n, value, len);
}

int cv_call_put(cv_call *call, const void *key, size_t key_len, const void *value, size_t len)
{
    return write_key(call, key, key_len, value ? value : "", len);
}

int cv_call_del(cv_call *call, const void *key, size_t key_len)
{
    return write_key(call, key, key_len, NULL, 0);
}

typedef struct {
    size_t skip; /* bytes of namespace prefix to hide */
    cv_store_scan_fn fn;
    void *ctx;
} scan_strip;

static int strip_namespace(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                           size_t value_len)
{
    const scan_strip *s = ctx;
    return s->fn(s->ctx, key + s->skip, key_len - s->skip, value, value_len);
}

int cv_call_scan(const cv_call *call, const void *prefix, size_t prefix_len, size_t limit,
                 cv_store_scan_fn fn, void *ctx)
{
    uint8_t full[CV_FULL_KEY_MAX];
    if (call->state)
        return cv_fail(CV_ESTATE, "%s: scans are available to queries only", call->contract->name);
    size_t n = cv_exec_full_key(call->contract->name, prefix, prefix_len, full);
    if (!n)
        return key_too_long(call->contract->name, prefix_len);
    scan_strip s = {n - prefix_len, fn, ctx};
    return call->src->scan(call->src->ctx, full, n, limit, strip_namespace, &s);
}

int cv_call_emit(cv_call *call, cv_event *ev)
{
    if (!call->receipt)
        return cv_fail(CV_ESTATE, "%s: events are emitted by transactions only", call->contract->name);
    snprintf(ev->contract, sizeof ev->contract, "%s", call->contract->name);
    return cv_receipt_add_event(call->receipt, ev);
}

void cv_call_result(cv_call *call, json_t *value)
{
    json_decref(call->result);
    call->result = value;
}

void cv_call_address_string(const cv_call *call, const uint8_t addr[CV_ADDR_LEN],
                            char out[CV_ADDR_STR_MAX])
{
    const char *suite = cv_suite_name(call->chain->suite);
    size_t n = strlen(suite);
    memcpy(out, suite, n);
    out[n] = ':';
    cv_hex_encode(addr, CV_ADDR_LEN, out + n + 1);
}

int cv_call_has_role(const cv_account *acct, const char *role)
{
    for (size_t i = 0; i < acct->nroles; i++)
        if (strcmp(acct->roles[i], role) == 0)
            return 1;
    return 0;
}
