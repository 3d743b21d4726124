/* dispatch.c: the JSON-RPC 2.0 envelope (cv_rpc_handle): parsing, request
 * validation, ids, notifications, batches and error objects. The methods
 * themselves are in methods.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "rpc/internal.h"

int cv_rpc_fail(cv_rpc_error *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    e->code = code;
    return code;
}

int cv_rpc_app_code(int cv_code)
{
    return cv_code <= CV_ENOMEM && cv_code >= CV_ESTATE ? CV_RPC_APP_ERROR + cv_code : CV_RPC_INTERNAL_ERROR;
}

int cv_rpc_fail_cv(cv_rpc_error *e, int cv_code)
{
    return cv_rpc_fail(e, cv_rpc_app_code(cv_code), "%s", cv_errmsg());
}

uint64_t cv_rpc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int dump_append(const char *p, size_t n, void *buf)
{
    return cv_buf_append(buf, p, n) ? -1 : 0;
}

int cv_rpc_dump(const json_t *v, cv_buf *out)
{
    size_t start = out->len;
    if (json_dump_callback(v, dump_append, out, JSON_COMPACT | JSON_ENCODE_ANY) == 0)
        return CV_OK;
    out->len = start;
    return cv_fail(CV_ENOMEM, "rpc: out of memory writing a response");
}

/* ---- responses ------------------------------------------------------------- */

static json_t *error_response(json_t *id, cv_rpc_error *e)
{
    json_t *data = e->data;
    e->data = NULL;
    return json_pack("{s:s, s:O?, s:{s:i, s:o, s:o*}}", "jsonrpc", "2.0", "id", id, "error", "code",
                     e->code, "message", cv_rpc_text(e->message), "data", data);
}

static json_t *result_response(json_t *id, json_t *result)
{
    return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

/* ---- one request ----------------------------------------------------------- */

/* Checks the envelope; on success *method and *params are set. */
static int check_envelope(const json_t *req, const cv_rpc_method **method, const json_t **params,
                          cv_rpc_error *e)
{
    if (!json_is_object(req))
        return cv_rpc_fail(e, CV_RPC_INVALID_REQUEST, "invalid request: a request must be a JSON object");
    const json_t *id = json_object_get(req, "id");
    if (id && !json_is_string(id) && !json_is_number(id) && !json_is_null(id))
        return cv_rpc_fail(e, CV_RPC_INVALID_REQUEST, "invalid request: \"id\" must be a string, a number or null");
    const char *version = json_string_value(json_object_get(req, "jsonrpc"));
    if (!version || strcmp(version, "2.0") != 0)
        return cv_rpc_fail(e, CV_RPC_INVALID_REQUEST, "invalid request: \"jsonrpc\" must be \"2.0\"");
    const char *name = json_string_value(json_object_get(req, "method"));
    if (!name)
        return cv_rpc_fail(e, CV_RPC_INVALID_REQUEST, "invalid request: \"method\" must be a string");
    *params = json_object_get(req, "params");
    if (*params && json_is_null(*params))
        *params = NULL;
    if (*params && !json_is_object(*params))
        return cv_rpc_fail(e, CV_RPC_INVALID_PARAMS,
                           "invalid params: \"params\" must be an object (parameters by name)");
    *method = cv_rpc_method_find(name);
    if (!*method)
        return cv_rpc_fail(e, CV_RPC_METHOD_NOT_FOUND, "unknown method \"%.64s\"", name);
    return CV_OK;
}

/* The response to one request, or NULL for a notification (or, with *oom
 * set, when memory ran out). */
static json_t *handle_request(const cv_rpc_call *base, const json_t *req, int *oom)
{
    cv_rpc_error e = {0};
    const cv_rpc_method *method = NULL;
    cv_rpc_call call = *base;
    call.err = &e;
    json_t *result = NULL;
    int rc = check_envelope(req, &method, &call.params, &e);
    if (!rc)
        rc = cv_rpc_params_known(&call, method->params);
    if (!rc)
        rc = method->fn(&call, &result);
    if (!rc && !result)
        rc = cv_rpc_fail(&e, CV_RPC_INTERNAL_ERROR, "internal error: out of memory");

    json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
    int notification = json_is_object(req) && !id && e.code != CV_RPC_INVALID_REQUEST;
    if (!id || !(json_is_string(id) || json_is_number(id)))
        id = json_null();
    json_t *response = NULL;
    if (notification || rc)
        json_decref(result);
    if (!notification)
        response = rc ? error_response(id, &e) : result_response(id, result);
    json_decref(e.data);
    if (!notification && !response)
        *oom = 1;
    return response;
}

/* ---- bodies ---------------------------------------------------------------- */

/* An error reply to the whole body (id null). */
static json_t *body_error(int code, const char *message, json_t *data)
{
    cv_rpc_error e = {.data = data};
    cv_rpc_fail(&e, code, "%s", message);
    return error_response(json_null(), &e);
}

static json_t *parse_error(const json_error_t *je)
{
    char message[CV_RPC_MSG_MAX];
    snprintf(message, sizeof message, "parse error: %s at line %d, column %d", je->text, je->line,
             je->column);
    return body_error(CV_RPC_PARSE_ERROR, message,
                      json_pack("{s:i, s:i, s:I}", "line", je->line, "column", je->column,
                                "position", (json_int_t)je->position));
}

/* The responses to a batch: an array, or NULL if all were notifications. */
static json_t *handle_batch(const cv_rpc_call *base, const json_t *batch, int *oom)
{
    size_t n = json_array_size(batch);
    char message[CV_RPC_MSG_MAX];
    if (n == 0)
        return body_error(CV_RPC_INVALID_REQUEST, "invalid request: empty batch", NULL);
    if (n > CV_RPC_BATCH_MAX) {
        snprintf(message, sizeof message,
                 "invalid request: batch of %zu requests exceeds the limit of %d", n, CV_RPC_BATCH_MAX);
        return body_error(CV_RPC_INVALID_REQUEST, message, NULL);
    }
    json_t *out = json_array();
    for (size_t i = 0; i < n && out; i++) {
        json_t *r = handle_request(base, json_array_get(batch, i), oom);
        if (r && json_array_append_new(out, r))
            *oom = 1;
    }
    if (!out || *oom || json_array_size(out) == 0) {
        *oom |= !out;
        json_decref(out);
        return NULL;
    }
    return out;
}

static const char oom_response[] =
    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32603,\"message\":\"internal error: out of memory\"}}";

/* Renders reply (taken) into response; without a reply, or out of memory
 * rendering it, the response is the out-of-memory error. */
static int finish(json_t *reply, int no_reply_is_oom, cv_buf *response)
{
    int rc = CV_OK;
    if (reply)
        rc = cv_rpc_dump(reply, response);
    else if (no_reply_is_oom)
        rc = CV_ENOMEM;
    if (rc) {
        cv_buf_reset(response);
        cv_buf_append(response, oom_response, sizeof oom_response - 1);
        rc = cv_fail(CV_ENOMEM, "rpc: out of memory");
    }
    json_decref(reply);
    return rc;
}

int cv_rpc_dispatch(cv_node *node, const char *body, size_t len, const atomic_int *stop,
                    cv_buf *response)
{
    cv_buf_reset(response);
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    json_t *reply = NULL;
    int oom = 0;
    /* However many long polls a batch holds, together they wait at most this long. */
    cv_rpc_call base = {.node = node, .stop = stop, .wait_until_ms = cv_rpc_now_ms() + CV_RPC_WAIT_MAX_MS};
    if (!doc)
        reply = parse_error(&je);
    else if (json_is_array(doc))
        reply = handle_batch(&base, doc, &oom);
    else
        reply = handle_request(&base, doc, &oom);
    json_decref(doc);
    return finish(reply, oom || !doc, response);
}

int cv_rpc_dispatch_encoded(cv_node *node, const uint8_t *body, size_t len, cv_buf *response)
{
    cv_rpc_error err = {0};
    cv_rpc_call call = {.node = node, .err = &err};
    json_t *result = NULL, *reply;
    cv_buf_reset(response);
    if (cv_rpc_send_encoded(&call, body, len, &result) == CV_OK)
        reply = result_response(json_null(), result); /* takes result */
    else
        reply = error_response(json_null(), &err); /* takes err.data */
    return finish(reply, 1, response);
}

int cv_rpc_handle(cv_node *node, const char *body, size_t len, cv_buf *response)
{
    return cv_rpc_dispatch(node, body, len, NULL, response);
}
