/* httpc.c: a minimal keep-alive HTTP/1.1 client for JSON-RPC (see httpc.h). */
#include "rpc/httpc.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/err.h"

#define RESPONSE_MAX (256u << 20)

int cv_httpc_init(cv_httpc *c, const char *url, int timeout_ms)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->timeout_ms = timeout_ms;
    const char *p = strncmp(url, "http://", 7) == 0 ? url + 7 : url;
    const char *colon = strchr(p, ':'), *slash = strchr(p, '/');
    if (!colon || (slash && slash < colon) || colon == p)
        return cv_fail(CV_EINVAL, "RPC address \"%.100s\" is not http://HOST:PORT", url);
    size_t hlen = (size_t)(colon - p), plen = slash ? (size_t)(slash - colon - 1) : strlen(colon + 1);
    if (hlen >= sizeof c->host || plen == 0 || plen >= sizeof c->port)
        return cv_fail(CV_EINVAL, "RPC address \"%.100s\" is not http://HOST:PORT", url);
    memcpy(c->host, p, hlen);
    memcpy(c->port, colon + 1, plen);
    snprintf(c->path, sizeof c->path, "%s", slash ? slash : "/");
    return CV_OK;
}

void cv_httpc_close(cv_httpc *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static int connect_to(cv_httpc *c)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(c->host, c->port, &hints, &res);
    if (gai != 0)
        return cv_fail(CV_EIO, "cannot resolve %s: %s", c->host, gai_strerror(gai));
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        int one = 1;
        if (fd >= 0 && (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
                        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return cv_fail(CV_EIO, "cannot connect to %s:%s: %s (is the node running?)", c->host, c->port,
                       strerror(errno));
    c->fd = fd;
    return CV_OK;
}

static int send_all(cv_httpc *c, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cv_fail(CV_EIO, "sending to %s:%s: %s", c->host, c->port, strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return CV_OK;
}

/* Reads more bytes into buf; 0 at end of stream. */
static int read_more(cv_httpc *c, cv_buf *buf, size_t *got)
{
    struct pollfd pfd = {c->fd, POLLIN, 0};
    int pr = poll(&pfd, 1, c->timeout_ms);
    if (pr == 0)
        return cv_fail(CV_EIO, "no answer from %s:%s within %d ms", c->host, c->port, c->timeout_ms);
    int rc = cv_buf_reserve(buf, 65536);
    if (rc)
        return rc;
    ssize_t n = pr < 0 ? -1 : recv(c->fd, buf->data + buf->len, buf->cap - buf->len, 0);
    if (n < 0)
        return cv_fail(CV_EIO, "reading from %s:%s: %s", c->host, c->port, strerror(errno));
    buf->len += (size_t)n;
    *got = (size_t)n;
    return buf->len > RESPONSE_MAX ? cv_fail(CV_EIO, "response larger than %u bytes", RESPONSE_MAX) : CV_OK;
}

/* The value of a header in the head (case-insensitive), or NULL. */
static const char *find_header(const char *head, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n"))
        if (strncasecmp(line + 2, name, n) == 0 && line[2 + n] == ':')
            return line + 3 + n;
    return NULL;
}

static int read_response(cv_httpc *c, int *status, cv_buf *out, int *keep_alive)
{
    cv_buf buf = {0};
    size_t got = 0, head_len = 0;
    char *end = NULL;
    int rc = CV_OK;
    while (!rc && !end) {
        if (!(rc = read_more(c, &buf, &got)) && got == 0)
            rc = cv_fail(CV_EIO, "%s:%s closed the connection", c->host, c->port);
        if (!rc && !cv_buf_append_byte(&buf, 0)) {
            buf.len--;
            end = strstr((char *)buf.data, "\r\n\r\n");
        }
    }
    if (!rc && sscanf((char *)buf.data, "HTTP/1.%*d %d", status) != 1)
        rc = cv_fail(CV_EIO, "%s:%s did not answer HTTP", c->host, c->port);
    long long body_len = -1;
    if (!rc) {
        head_len = (size_t)(end - (char *)buf.data) + 4;
        *end = '\0';
        const char *cl = find_header((char *)buf.data, "Content-Length");
        const char *conn = find_header((char *)buf.data, "Connection");
        body_len = cl ? atoll(cl) : -1;
        *keep_alive = cl && !(conn && strstr(conn, "close"));
    }
    while (!rc && (body_len < 0 || buf.len - head_len < (size_t)body_len)) {
        rc = read_more(c, &buf, &got);
        if (!rc && got == 0) {
            if (body_len >= 0)
                rc = cv_fail(CV_EIO, "%s:%s closed the connection mid-response", c->host, c->port);
            break;
        }
    }
    if (!rc) {
        cv_buf_reset(out);
        size_t n = body_len >= 0 ? (size_t)body_len : buf.len - head_len;
        rc = cv_buf_append(out, buf.data + head_len, n);
    }
    cv_buf_free(&buf);
    return rc;
}

static int post_once(cv_httpc *c, const char *type, const void *body, size_t len, int *status, cv_buf *out)
{
    char head[768];
    int keep_alive = 0;
    int hn = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: %.64s\r\n"
                      "Content-Length: %zu\r\n\r\n", c->path, c->host, c->port, type, len);
    int rc = c->fd < 0 ? connect_to(c) : CV_OK;
    /* Head and body in one write: a second small write would wait for the
     * server's delayed ACK (Nagle), adding 40 ms to every call. */
    cv_buf req = {0};
    if (!rc && !(rc = cv_buf_append(&req, head, (size_t)hn)) && !(rc = cv_buf_append(&req, body, len)))
        rc = send_all(c, (const char *)req.data, req.len);
    cv_buf_free(&req);
    if (!rc)
        rc = read_response(c, status, out, &keep_alive);
    if (rc || !keep_alive)
        cv_httpc_close(c);
    return rc;
}

int cv_httpc_post(cv_httpc *c, const char *type, const void *body, size_t len, int *status, cv_buf *out)
{
    int reused = c->fd >= 0;
    int rc = post_once(c, type, body, len, status, out);
    /* A kept-alive connection may have been closed by the server meanwhile. */
    if (rc == CV_EIO && reused)
        rc = post_once(c, type, body, len, status, out);
    return rc;
}

int cv_httpc_call(cv_httpc *c, const char *method, json_t *params, json_t **result, int *rpc_code)
{
    json_t *req = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", 1, "method", method, "params",
                            params ? json_incref(params) : json_object());
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text)
        return cv_fail(CV_ENOMEM, "out of memory building an RPC request");
    cv_buf body = {0};
    int status = 0;
    int rc = cv_httpc_post(c, "application/json", text, strlen(text), &status, &body);
    free(text);
    json_t *resp = NULL;
    json_error_t jerr;
    if (!rc && !(resp = json_loadb((const char *)body.data, body.len, 0, &jerr)))
        rc = cv_fail(CV_EIO, "the node answered HTTP %d with a body that is not JSON", status);
    cv_buf_free(&body);
    if (rc)
        return rc;
    json_t *err = json_object_get(resp, "error");
    if (err) {
        if (rpc_code)
            *rpc_code = (int)json_integer_value(json_object_get(err, "code"));
        const char *msg = json_string_value(json_object_get(err, "message"));
        rc = cv_fail(CV_EINVAL, "%s", msg ? msg : "the node returned an error without a message");
    } else {
        *result = json_incref(json_object_get(resp, "result"));
        if (!*result)
            rc = cv_fail(CV_EIO, "the node's answer has neither result nor error");
    }
    json_decref(resp);
    return rc;
}
