/* http.c: the RPC server's HTTP side (libmicrohttpd).
 *
 *   POST /        JSON-RPC (dispatch.c); Content-Type application/json; a
 *                 body over rpc_max_body is refused with 413, by its
 *                 Content-Length before any of it is read, or at the end
 *                 of a chunked body that passed it (closing the connection
 *                 if it goes on past twice the limit)
 *   POST /txs     a batch of signed transactions in one canonical encoding,
 *                 {1: list of bytes} (Content-Type application/octet-stream,
 *                 same body limit): tx_send_batch without JSON and hex, for
 *                 high-volume clients; the reply is tx_send_batch's response
 *   GET  /health  {"ok":true,"height":N,"chain_id":...}
 *   GET  /trace/{Digital Link path}  an item's traceability history as JSON
 *                 (trace_history with proofs and documents), the target of
 *                 the QR codes `civitas trace qr` prints; 400 for a malformed
 *                 code, 404 for one no event records
 *   GET  /events  server-sent events: `event: block` with {height, hash,
 *                 header} for every new block; ?after=N or Last-Event-ID
 *                 resumes after block N; a comment line every 15 s keeps
 *                 idle streams open
 *
 * One thread per connection (long polls and event streams block their
 * connection), at most rpc_threads connections. HTTP-level refusals carry a
 * JSON-RPC error object too, so clients parse one kind of error. */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "base/err.h"
#include "rpc/internal.h"

#define CONNECTION_TIMEOUT_S 120   /* idle connections are closed after this */
#define CONNECTION_MEMORY (128u << 10)
#define EVENT_SLICE_MS 250         /* event streams look at the stop flag this often */
#define EVENT_KEEPALIVE_MS 15000
#define EVENT_BLOCK_SIZE 16384

struct cv_rpc {
    struct MHD_Daemon *daemon;
    cv_node *node;
    size_t max_body;
    atomic_int stop;
    char address[96];
};

/* ---- replies --------------------------------------------------------------- */

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status, const char *type, cv_buf *body)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(body->len, body->data, free);
    if (!resp) {
        cv_buf_free(body);
        return MHD_NO;
    }
    *body = (cv_buf){0}; /* the response owns the bytes now */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ok = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result queue_json(struct MHD_Connection *conn, unsigned status, json_t *v)
{
    cv_buf body = {0};
    int rc = v ? cv_rpc_dump(v, &body) : CV_ENOMEM;
    json_decref(v);
    if (rc) {
        cv_buf_free(&body);
        return MHD_NO;
    }
    return queue(conn, status, "application/json", &body);
}

/* An HTTP refusal with a JSON-RPC error object naming the problem. */
static enum MHD_Result refuse(struct MHD_Connection *conn, unsigned status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum MHD_Result refuse(struct MHD_Connection *conn, unsigned status, int code, const char *fmt, ...)
{
    char message[CV_RPC_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return queue_json(conn, status,
                      json_pack("{s:s, s:n, s:{s:i, s:o}}", "jsonrpc", "2.0", "id", "error", "code", code,
                                "message", cv_rpc_text(message)));
}

static enum MHD_Result refuse_too_large(cv_rpc *r, struct MHD_Connection *conn)
{
    return refuse(conn, MHD_HTTP_CONTENT_TOO_LARGE, CV_RPC_INVALID_REQUEST,
                  "request body exceeds the limit of %zu bytes (rpc_max_body)", r->max_body);
}

/* ---- POST / ------------------------------------------------------------------ */

typedef struct {
    cv_buf body;
    int encoded;    /* POST /txs */
    int too_large;  /* the body passed rpc_max_body */
    size_t dropped; /* bytes read and dropped since */
} upload;

static int is_type(const char *type, const char *want)
{
    size_t n = strlen(want);
    if (!type || strncasecmp(type, want, n) != 0)
        return 0;
    return type[n] == '\0' || type[n] == ';' || type[n] == ' ';
}

/* The first call for a POST: only headers are known. */
static enum MHD_Result post_begin(cv_rpc *r, struct MHD_Connection *conn, int encoded, void **state)
{
    const char *type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *want = encoded ? "application/octet-stream" : "application/json";
    if (!is_type(type, want))
        return refuse(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, CV_RPC_INVALID_REQUEST,
                      "Content-Type must be %s, not \"%.64s\"", want, type ? type : "(none)");
    const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    unsigned long long declared = length ? strtoull(length, NULL, 10) : 0;
    if (declared > r->max_body)
        return refuse_too_large(r, conn);
    upload *u = calloc(1, sizeof *u);
    if (!u || cv_buf_reserve(&u->body, (size_t)declared)) { /* one allocation for the whole body */
        free(u);
        return MHD_NO;
    }
    u->encoded = encoded;
    *state = u;
    return MHD_YES;
}

/* Buffers body data up to the limit. Past it (a chunked body has no
 * Content-Length to refuse early, and MHD cannot reply mid-upload), the rest
 * is read and dropped so that the 413 reaches the client; a body that goes
 * on for more than the limit again is cut off by closing the connection. */
static enum MHD_Result post_data(cv_rpc *r, upload *u, const char *data, size_t *size)
{
    if (!u->too_large && u->body.len + *size > r->max_body) {
        u->too_large = 1;
        cv_buf_free(&u->body);
    }
    if (u->too_large) {
        u->dropped += *size;
        if (u->dropped > r->max_body)
            return MHD_NO;
    } else if (cv_buf_append(&u->body, data, *size)) {
        return MHD_NO;
    }
    *size = 0;
    return MHD_YES;
}

static enum MHD_Result post_end(cv_rpc *r, struct MHD_Connection *conn, upload *u)
{
    if (u->too_large)
        return refuse_too_large(r, conn);
    cv_buf reply = {0};
    if (u->encoded)
        cv_rpc_dispatch_encoded(r->node, u->body.data, u->body.len, &reply);
    else
        cv_rpc_dispatch(r->node, (const char *)u->body.data, u->body.len, &r->stop, &reply);
    /* An empty reply answers notifications only. */
    return queue(conn, reply.len ? MHD_HTTP_OK : MHD_HTTP_NO_CONTENT, "application/json", &reply);
}

static enum MHD_Result on_post(cv_rpc *r, struct MHD_Connection *conn, int encoded, const char *data,
                               size_t *size, void **state)
{
    upload *u = *state;
    if (!u)
        return post_begin(r, conn, encoded, state);
    if (*size)
        return post_data(r, u, data, size);
    return post_end(r, conn, u);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode why)
{
    upload *u = *state;
    if (u) {
        cv_buf_free(&u->body);
        free(u);
        *state = NULL;
    }
}

/* ---- GET /health ------------------------------------------------------------- */

static enum MHD_Result get_health(cv_rpc *r, struct MHD_Connection *conn)
{
    uint64_t height = 0;
    int rc = cv_store_height(cv_node_store(r->node), &height);
    return queue_json(conn, rc ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
                      json_pack("{s:b, s:o, s:o}", "ok", rc == CV_OK, "height", cv_rpc_u64(height), "chain_id",
                                cv_rpc_text(cv_node_chain(r->node)->chain_id)));
}

/* ---- GET /trace/... ---------------------------------------------------------- */

static enum MHD_Result get_trace(cv_rpc *r, struct MHD_Connection *conn, const char *path)
{
    json_t *history = NULL;
    int rc = cv_rpc_trace_walk(r->node, "history", path, 0, 1, &history);
    if (rc == CV_OK)
        return queue_json(conn, MHD_HTTP_OK, history);
    return refuse(conn, rc == CV_ENOTFOUND ? MHD_HTTP_NOT_FOUND : rc == CV_EINVAL ? MHD_HTTP_BAD_REQUEST
                                                                                : MHD_HTTP_INTERNAL_SERVER_ERROR,
                  cv_rpc_app_code(rc), "%s", cv_errmsg());
}

/* ---- GET /events ------------------------------------------------------------- */

typedef struct {
    cv_rpc *rpc;
    uint64_t after;      /* the last block sent */
    cv_buf pending;      /* text not yet handed to MHD */
    size_t sent;
    uint64_t last_ms;    /* when something was last queued */
} event_stream;

/* Appends "id: N / event: block / data: {...}" for block after + 1. */
static int append_block_event(event_stream *s)
{
    json_t *ev = NULL;
    uint64_t height = s->after + 1;
    char head[64];
    int rc = cv_rpc_block_event(s->rpc->node, height, &ev);
    if (!rc) {
        int n = snprintf(head, sizeof head, "id: %" PRIu64 "\nevent: block\ndata: ", height);
        rc = cv_buf_append(&s->pending, head, (size_t)n);
    }
    if (!rc)
        rc = cv_rpc_dump(ev, &s->pending);
    if (!rc)
        rc = cv_buf_append(&s->pending, "\n\n", 2);
    json_decref(ev);
    s->after = height;
    return rc;
}

/* Waits a slice for a new block and queues it, or a keep-alive comment when
 * the stream has been idle too long. */
static int next_event(event_stream *s)
{
    uint64_t height = 0;
    cv_node_wait_height(s->rpc->node, s->after, EVENT_SLICE_MS, &height);
    if (height > s->after) {
        s->last_ms = cv_rpc_now_ms();
        return append_block_event(s);
    }
    if (cv_rpc_now_ms() - s->last_ms < EVENT_KEEPALIVE_MS)
        return CV_OK;
    s->last_ms = cv_rpc_now_ms();
    static const char keepalive[] = ": keep-alive\n\n";
    return cv_buf_append(&s->pending, keepalive, sizeof keepalive - 1);
}

static ssize_t events_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    event_stream *s = cls;
    while (s->sent == s->pending.len) {
        if (atomic_load(&s->rpc->stop))
            return MHD_CONTENT_READER_END_OF_STREAM;
        cv_buf_reset(&s->pending);
        s->sent = 0;
        if (next_event(s) != CV_OK)
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = s->pending.len - s->sent < max ? s->pending.len - s->sent : max;
    memcpy(buf, s->pending.data + s->sent, n);
    s->sent += n;
    return (ssize_t)n;
}

static void events_free(void *cls)
{
    event_stream *s = cls;
    cv_buf_free(&s->pending);
    free(s);
}

/* Where the stream starts: ?after=N, else Last-Event-ID, else the current height. */
static int stream_start(cv_rpc *r, struct MHD_Connection *conn, uint64_t *after)
{
    const char *text = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "after");
    if (!text)
        text = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
    if (!text)
        return cv_store_height(cv_node_store(r->node), after);
    char *end;
    errno = 0;
    *after = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end || errno)
        return cv_fail(CV_EINVAL, "\"after\" must be a block height, not \"%.32s\"", text);
    return CV_OK;
}

static enum MHD_Result get_events(cv_rpc *r, struct MHD_Connection *conn)
{
    uint64_t after;
    if (stream_start(r, conn, &after) != CV_OK)
        return refuse(conn, MHD_HTTP_BAD_REQUEST, CV_RPC_INVALID_PARAMS, "%s", cv_errmsg());
    event_stream *s = calloc(1, sizeof *s);
    if (!s)
        return MHD_NO;
    *s = (event_stream){.rpc = r, .after = after, .last_ms = cv_rpc_now_ms()};
    static const char hello[] = ": civitas block events\n\n"; /* sends the headers at once */
    struct MHD_Response *resp = NULL;
    if (cv_buf_append(&s->pending, hello, sizeof hello - 1) == CV_OK)
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, EVENT_BLOCK_SIZE, events_read, s, events_free);
    if (!resp) {
        events_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ok = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* ---- routing ------------------------------------------------------------------ */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *data, size_t *size, void **state)
{
    cv_rpc *r = cls;
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0, post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    if (post && (strcmp(url, "/") == 0 || strcmp(url, "/txs") == 0))
        return on_post(r, conn, url[1] != '\0', data, size, state);
    if (get && strcmp(url, "/health") == 0)
        return get_health(r, conn);
    if (get && strcmp(url, "/events") == 0)
        return get_events(r, conn);
    if (get && strncmp(url, "/trace/", 7) == 0)
        return get_trace(r, conn, url + 7);
    if (strcmp(url, "/") == 0)
        return refuse(conn, MHD_HTTP_METHOD_NOT_ALLOWED, CV_RPC_INVALID_REQUEST,
                      "HTTP method %.16s not allowed: POST JSON-RPC requests to /", method);
    return refuse(conn, MHD_HTTP_NOT_FOUND, CV_RPC_INVALID_REQUEST,
                  "no such path \"%.64s\": POST JSON-RPC to / (or a binary batch to /txs), or GET "
                  "/health, /events or /trace/{code}", url);
}

/* ---- start and stop ---------------------------------------------------------- */

/* "host:port" or "[v6host]:port" -> a socket address (numeric port). */
static int resolve(const char *listen_at, struct sockaddr_storage *addr, int *ipv6)
{
    char host[64];
    const char *colon = strrchr(listen_at, ':');
    size_t n = colon ? (size_t)(colon - listen_at) : 0;
    if (!colon || n == 0 || n >= sizeof host || !colon[1])
        return cv_fail(CV_EINVAL, "rpc: listen address \"%s\" is not host:port", listen_at);
    memcpy(host, listen_at, n);
    host[n] = '\0';
    if (host[0] == '[' && host[n - 1] == ']') {
        memmove(host, host + 1, n - 2);
        host[n - 2] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *res = NULL;
    int gai = getaddrinfo(host, colon + 1, &hints, &res);
    if (gai != 0)
        return cv_fail(CV_EINVAL, "rpc: listen address \"%s\": %s", listen_at, gai_strerror(gai));
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *ipv6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return CV_OK;
}

int cv_rpc_start(cv_node *node, const char *listen_at, cv_rpc **out)
{
    const cv_node_config *cfg = cv_node_get_config(node);
    struct sockaddr_storage addr = {0};
    int ipv6 = 0;
    int rc = resolve(listen_at, &addr, &ipv6);
    if (rc)
        return rc;
    cv_rpc *r = calloc(1, sizeof *r);
    if (!r)
        return cv_fail(CV_ENOMEM, "rpc: out of memory");
    r->node = node;
    r->max_body = (size_t)cfg->rpc_max_body;
    atomic_init(&r->stop, 0);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | (ipv6 ? MHD_USE_IPv6 : 0);
    r->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)(cfg->rpc_threads ? cfg->rpc_threads : 1),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONNECTION_MEMORY, MHD_OPTION_NOTIFY_COMPLETED, on_completed, r, MHD_OPTION_END);
    if (!r->daemon) {
        free(r);
        return cv_fail(CV_EIO, "rpc: cannot listen on %s: %s", listen_at, strerror(errno));
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(r->daemon, MHD_DAEMON_INFO_BIND_PORT);
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(strrchr(listen_at, ':') - listen_at), listen_at);
    snprintf(r->address, sizeof r->address, "%s:%u", host, info ? (unsigned)info->port : 0u);
    *out = r;
    return CV_OK;
}

const char *cv_rpc_address(const cv_rpc *r)
{
    return r->address;
}

void cv_rpc_stop(cv_rpc *r)
{
    if (!r)
        return;
    atomic_store(&r->stop, 1);
    MHD_stop_daemon(r->daemon);
    free(r);
}
