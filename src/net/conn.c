/* conn.c: connections on the net thread: accepting and dialing, reading
 * into the channel, writing frames, sessions up and down, one session per
 * peer, redial with backoff, and the timeouts (internal.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "base/log.h"
#include "net/internal.h"

#define WRITE_BATCH 64 /* frames per uv_write */

/* One uv_write of a list of frames; peer is NULL for handshake bytes. */
typedef struct {
    uv_write_t req;
    net_conn *conn;
    net_peer *peer;
    net_frame *frames;
    uint64_t bytes;
    unsigned nbufs;
    uv_buf_t bufs[];
} net_write;

static const char *direction(const net_conn *c)
{
    return c->outbound ? "dialed" : "accepted";
}

/* ---- connection objects ---------------------------------------------------------- */

static net_conn *conn_new(cv_net *net, int outbound, net_peer *peer)
{
    net_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (uv_tcp_init(&net->loop, &c->tcp) != 0) {
        free(c);
        return NULL;
    }
    c->tcp.data = c;
    c->net = net;
    c->outbound = outbound;
    c->peer = peer;
    c->started = c->last_rx = c->last_tx = c->last_progress = uv_now(&net->loop);
    c->next = net->conns;
    if (net->conns)
        net->conns->prev = c;
    net->conns = c;
    snprintf(c->remote, sizeof c->remote, "%s", outbound ? peer->addr : "?");
    return c;
}

static void on_conn_closed(uv_handle_t *h)
{
    net_conn *c = h->data;
    cv_net *net = c->net;
    if (c->prev)
        c->prev->next = c->next;
    else
        net->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    cv_net_chan_free(&c->chan);
    cv_buf_free(&c->out);
    free(c);
}

/* Fills c->remote and c->ip from the socket's peer address. */
static void conn_name_remote(net_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            uv_ip6_name(a, ip, sizeof ip);
            port = ntohs(a->sin6_port);
        } else if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            uv_ip4_name(a, ip, sizeof ip);
            port = ntohs(a->sin_port);
        }
    }
    snprintf(c->ip, sizeof c->ip, "%s", ip);
    snprintf(c->remote, sizeof c->remote, "%s:%d", ip, port);
}

/* ---- sessions ------------------------------------------------------------------------ */

/* 1 if this node's key sorts before the peer's: the connection it dials is
 * the one both keep when both dial. */
static int self_first(const cv_net *net, const net_peer *p)
{
    size_t n = net->key.pub.len < p->pub.len ? net->key.pub.len : p->pub.len;
    int cmp = memcmp(net->key.pub.bytes, p->pub.bytes, n);
    return cmp < 0 || (cmp == 0 && net->key.pub.len < p->pub.len);
}

static void session_down(net_conn *c, int reason, const char *why)
{
    cv_net *net = c->net;
    net_peer *p = c->peer;
    cv_net_peer_session_end(p);
    p->conn = NULL;
    c->open = 0;
    atomic_fetch_sub(&net->peers_up, 1);
    atomic_fetch_add(&net->disconnects[reason], 1);
    cv_info("net: peer %s down (%s %s): %s: %s", p->name, direction(c), c->remote,
            cv_net_reason_name(reason), why);
    if (net->cb.on_peer)
        net->cb.on_peer(net->cb.ctx, &p->pub, 0);
}

/* c's handshake finished: make it p's session, unless p has one to keep. */
static void session_up(net_conn *c)
{
    cv_net *net = c->net;
    net_peer *p = cv_net_peer_find(net, &c->chan.peer); /* exists: allowed */
    if (c->pending) {
        c->pending = 0;
        net->pending_inbound--;
    }
    if (c->outbound && p->dialing == c)
        p->dialing = NULL;
    if (p->conn) {
        /* The peer dialed again (it lost the old one), or both dialed at once. */
        int keep_new = p->conn->outbound == c->outbound || c->outbound == self_first(net, p);
        if (!keep_new) {
            c->peer = p;
            cv_net_conn_close(c, CV_NET_R_DUPLICATE, "a session with this peer is up");
            return;
        }
        cv_net_conn_close(p->conn, CV_NET_R_DUPLICATE, "replaced by a newer connection");
    }
    c->peer = p;
    cv_net_peer_session_start(p, cv_net_chan_tx_key(&c->chan), c->chan.tx_counter);
    p->conn = c;
    c->open = 1;
    p->backoff_ms = net->lim.backoff_min_ms;
    p->dial_failures = 0;
    uv_timer_stop(&p->dial_timer);
    atomic_fetch_add(&net->peers_up, 1);
    atomic_fetch_add(&net->handshakes_ok, 1);
    cv_info("net: peer %s up (%s %s)", p->name, direction(c), c->remote);
    if (net->cb.on_peer)
        net->cb.on_peer(net->cb.ctx, &p->pub, 1);
}

/* Accepts a key only if allowed, and (dialing) only the key expected there. */
static int conn_allow(void *ctx, const cv_pubkey *pub)
{
    net_conn *c = ctx;
    char name[CV_ADDR_STR_MAX] = "?";
    cv_address_string(pub, name);
    if (c->outbound && !cv_net_pubkey_eq(pub, &c->peer->pub))
        return cv_fail(CV_EPERM, "peer at %s presents key %s, not the expected %s", c->remote, name,
                       c->peer->name);
    net_peer *p = cv_net_peer_find(c->net, pub);
    if (!p || !p->allowed)
        return cv_fail(CV_EPERM, "key %s is not in the allowed set", name);
    return CV_OK;
}

/* ---- closing ------------------------------------------------------------------------------ */

static void log_failure(net_conn *c, int reason, const char *why)
{
    net_peer *p = c->outbound ? c->peer : NULL;
    if (reason == CV_NET_R_DUPLICATE || reason == CV_NET_R_SHUTDOWN)
        cv_debug("net: closed %s (%s): %s: %s", c->remote, direction(c), cv_net_reason_name(reason), why);
    else if (!p)
        cv_net_log_refusal(c->net, "net: refused %s (%s): %s: %s", c->remote, direction(c),
                           cv_net_reason_name(reason), why);
    else if (p->dial_failures++ == 0)
        cv_info("net: cannot connect to peer %s at %s: %s: %s (retrying with backoff)", p->name,
                p->addr, cv_net_reason_name(reason), why);
    else
        cv_debug("net: cannot connect to peer %s at %s: %s: %s", p->name, p->addr,
                 cv_net_reason_name(reason), why);
}

void cv_net_conn_close(net_conn *c, int reason, const char *fmt, ...)
{
    if (c->closing)
        return;
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    cv_net *net = c->net;
    c->closing = 1;
    if (reason == CV_NET_R_CLOSED && c->outbound && !c->open && c->peer->conn)
        reason = CV_NET_R_DUPLICATE; /* a redundant dial the peer dropped: a session is up */
    if (c->pending) {
        c->pending = 0;
        net->pending_inbound--;
    }
    int was_dialing = c->outbound && c->peer && c->peer->dialing == c;
    if (was_dialing)
        c->peer->dialing = NULL;
    if (c->open)
        session_down(c, reason, why);
    else {
        if (c->connected || !c->outbound)
            atomic_fetch_add(&net->failed[reason], 1);
        log_failure(c, reason, why);
    }
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    if (c->peer && (was_dialing || reason != CV_NET_R_DUPLICATE))
        cv_net_dial_schedule(c->peer, was_dialing);
}

/* ---- writing -------------------------------------------------------------------------------- */

static void on_written(uv_write_t *req, int status)
{
    net_write *w = req->data;
    net_conn *c = w->conn;
    cv_net *net = c->net;
    c->inflight -= w->bytes;
    if (w->peer) {
        atomic_fetch_sub(&w->peer->queued, w->bytes);
        if (status == 0) {
            atomic_fetch_add(&w->peer->bytes_out, w->bytes);
            atomic_fetch_add(&w->peer->frames_out, w->nbufs);
        } else
            atomic_fetch_add(&w->peer->dropped, w->nbufs);
    }
    if (status == 0)
        c->last_progress = uv_now(&net->loop);
    for (net_frame *f = w->frames, *next; f; f = next) {
        next = f->next;
        free(f);
    }
    free(w);
    if (status < 0)
        cv_net_conn_close(c, CV_NET_R_CLOSED, "write failed: %s", uv_strerror(status));
}

/* Writes up to WRITE_BATCH frames from *list (which advances) in one call. */
static int write_batch(net_conn *c, net_peer *peer, net_frame **list)
{
    net_write *w = malloc(sizeof *w + WRITE_BATCH * sizeof(uv_buf_t));
    if (!w)
        return cv_fail(CV_ENOMEM, "out of memory for a write");
    w->req.data = w;
    w->conn = c;
    w->peer = peer;
    w->frames = *list;
    w->bytes = 0;
    w->nbufs = 0;
    net_frame *last = NULL;
    for (net_frame *f = *list; f && w->nbufs < WRITE_BATCH; last = f, f = f->next) {
        w->bufs[w->nbufs++] = uv_buf_init((char *)f->bytes, (unsigned)f->len);
        w->bytes += f->len;
    }
    *list = last->next;
    last->next = NULL;
    uint64_t now = uv_now(&c->net->loop);
    if (c->inflight == 0)
        c->last_progress = now;
    c->inflight += w->bytes;
    c->last_tx = now;
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, w->bufs, w->nbufs, on_written);
    if (rc < 0)
        on_written(&w->req, rc);
    return CV_OK;
}

/* Frees frames that will not be written, releasing their queue room. */
static void drop_frames(net_peer *peer, net_frame *list)
{
    for (net_frame *f = list, *next; f; f = next) {
        next = f->next;
        if (peer) {
            atomic_fetch_sub(&peer->queued, f->len);
            atomic_fetch_add(&peer->dropped, 1);
        }
        free(f);
    }
}

static void write_list(net_conn *c, net_peer *peer, net_frame *list)
{
    while (list && !c->closing) {
        if (write_batch(c, peer, &list) != CV_OK)
            cv_net_conn_close(c, CV_NET_R_CLOSED, "%s", cv_errmsg());
    }
    drop_frames(peer, list);
}

void cv_net_conn_write_frames(net_conn *c, net_frame *list)
{
    write_list(c, c->peer, list);
}

/* Writes the handshake bytes the channel produced. */
static void write_handshake(net_conn *c)
{
    net_frame *f = malloc(sizeof *f + c->out.len);
    if (!f) {
        cv_net_conn_close(c, CV_NET_R_CLOSED, "out of memory for handshake bytes");
        return;
    }
    f->next = NULL;
    f->len = c->out.len;
    memcpy(f->bytes, c->out.data, c->out.len);
    cv_buf_reset(&c->out);
    write_list(c, NULL, f);
}

/* ---- reading ----------------------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    net_conn *c = h->data;
    uint8_t *p = NULL;
    size_t n = 0;
    if (c->closing || cv_net_chan_rx_space(&c->chan, &p, &n) != CV_OK)
        n = 0; /* libuv then reports UV_ENOBUFS */
    *buf = uv_buf_init((char *)p, (unsigned)(n > UINT32_MAX ? UINT32_MAX : n));
}

static void deliver(void *ctx, uint8_t type, const uint8_t *body, size_t len)
{
    net_conn *c = ctx;
    cv_net *net = c->net;
    atomic_fetch_add(&c->peer->frames_in, 1);
    if (type != 0 && net->cb.on_message)
        net->cb.on_message(net->cb.ctx, &c->peer->pub, type, body, len);
}

/* Runs the channel over what was read: handshake replies, session set-up, records. */
static void conn_process(net_conn *c)
{
    while (!c->closing) {
        int was_open = c->chan.state == CV_NET_CHAN_OPEN;
        int rc = cv_net_chan_process(&c->chan, &c->out, deliver, c);
        if (rc) {
            cv_net_conn_close(c, c->chan.reason ? c->chan.reason : CV_NET_R_CLOSED, "%s", cv_errmsg());
            return;
        }
        if (c->out.len)
            write_handshake(c);
        if (was_open || c->chan.state != CV_NET_CHAN_OPEN || c->closing)
            return;
        session_up(c);
        if (c->open)
            cv_net_peer_flush(c->peer);
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    net_conn *c = s->data;
    if (nread == 0 || c->closing)
        return;
    if (nread < 0) {
        if (nread == UV_EOF && c->chan.state == CV_NET_CHAN_ACCEPT)
            cv_net_conn_close(c, CV_NET_R_CLOSED, "the peer closed the connection after our auth "
                                                  "(it does not accept this node's key or chain)");
        else if (nread == UV_EOF)
            cv_net_conn_close(c, CV_NET_R_CLOSED, "connection closed by the peer");
        else
            cv_net_conn_close(c, CV_NET_R_CLOSED, "read failed: %s", uv_strerror((int)nread));
        return;
    }
    c->last_rx = uv_now(&c->net->loop);
    if (c->open)
        atomic_fetch_add(&c->peer->bytes_in, (uint64_t)nread);
    cv_net_chan_rx_commit(&c->chan, (size_t)nread);
    conn_process(c);
}

/* Starts the handshake on a connected socket (named by conn_name_remote). */
static void conn_start(net_conn *c)
{
    uv_tcp_nodelay(&c->tcp, 1);
    int rc = cv_net_chan_init(&c->chan, &c->net->params, c->outbound, conn_allow, c, &c->out);
    if (rc) {
        cv_net_conn_close(c, CV_NET_R_CLOSED, "%s", cv_errmsg());
        return;
    }
    if (c->out.len)
        write_handshake(c);
    int err = c->closing ? 0 : uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (err)
        cv_net_conn_close(c, CV_NET_R_CLOSED, "cannot read: %s", uv_strerror(err));
}

/* ---- accepting ---------------------------------------------------------------------------------- */

static size_t pending_from(const cv_net *net, const char *ip)
{
    size_t n = 0;
    for (const net_conn *c = net->conns; c; c = c->next)
        n += c->pending && strcmp(c->ip, ip) == 0;
    return n;
}

void cv_net_on_connection(uv_stream_t *server, int status)
{
    cv_net *net = server->data;
    if (status < 0) {
        cv_warn("net: accept failed: %s", uv_strerror(status));
        return;
    }
    net_conn *c = conn_new(net, 0, NULL);
    if (!c) {
        cv_error("net: out of memory accepting a connection");
        return;
    }
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        cv_net_conn_close(c, CV_NET_R_CLOSED, "accept failed");
        return;
    }
    conn_name_remote(c);
    if (net->pending_inbound >= net->lim.max_pending) {
        cv_net_conn_close(c, CV_NET_R_LIMIT, "%zu handshakes pending", net->pending_inbound);
        return;
    }
    if (pending_from(net, c->ip) >= net->lim.max_pending_per_ip) {
        cv_net_conn_close(c, CV_NET_R_LIMIT, "%u handshakes pending from %s",
                          net->lim.max_pending_per_ip, c->ip);
        return;
    }
    c->pending = 1;
    net->pending_inbound++;
    conn_start(c);
}

/* ---- dialing -------------------------------------------------------------------------------------- */

static void on_connected(uv_connect_t *req, int status)
{
    net_conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        cv_net_conn_close(c, CV_NET_R_CLOSED, "connect: %s", uv_strerror(status));
        return;
    }
    c->connected = 1;
    conn_name_remote(c);
    conn_start(c);
}

/* Whether p should be dialed now (never this node itself: a peer list shared
 * by all nodes names it too). */
static int dial_wanted(const net_peer *p)
{
    return !p->net->shutting_down && p->allowed && p->addr[0] && !p->conn && !p->dialing &&
           !p->resolving && !cv_net_pubkey_eq(&p->pub, &p->net->key.pub);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    net_peer *p = req->data;
    cv_net *net = p->net;
    p->resolving = 0;
    if (status < 0 || !res) {
        if (!net->shutting_down && p->dial_failures++ == 0)
            cv_info("net: cannot resolve peer %s at %s: %s (retrying with backoff)", p->name, p->addr,
                    uv_strerror(status));
        uv_freeaddrinfo(res);
        cv_net_dial_schedule(p, 1);
        return;
    }
    net_conn *c = dial_wanted(p) ? conn_new(net, 1, p) : NULL;
    if (c) {
        p->dialing = c;
        c->connect.data = c;
        int err = uv_tcp_connect(&c->connect, &c->tcp, res->ai_addr, on_connected);
        if (err)
            cv_net_conn_close(c, CV_NET_R_CLOSED, "connect: %s", uv_strerror(err));
    }
    uv_freeaddrinfo(res);
}

static void on_dial_timer(uv_timer_t *t)
{
    net_peer *p = t->data;
    cv_net *net = p->net;
    char host[CV_NET_ADDR_MAX], port[8];
    if (!dial_wanted(p))
        return;
    if (cv_net_addr_split(p->addr, host, sizeof host, port, sizeof port) != CV_OK) {
        cv_warn("net: peer %s: %s", p->name, cv_errmsg());
        return;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    p->resolve.data = p;
    atomic_fetch_add(&net->dials, 1);
    int err = uv_getaddrinfo(&net->loop, &p->resolve, on_resolved, host, port, &hints);
    if (err) {
        cv_warn("net: cannot resolve %s: %s", p->addr, uv_strerror(err));
        cv_net_dial_schedule(p, 1);
        return;
    }
    p->resolving = 1;
}

void cv_net_dial_schedule(net_peer *p, int failed)
{
    if (!dial_wanted(p))
        return;
    uint32_t b = p->backoff_ms;
    uint32_t delay = b / 2 + randombytes_uniform(b / 2 + 1);
    if (failed) {
        uint64_t next = (uint64_t)b * 2;
        p->backoff_ms = next > p->net->lim.backoff_max_ms ? p->net->lim.backoff_max_ms : (uint32_t)next;
    }
    uv_timer_start(&p->dial_timer, on_dial_timer, delay, 0);
}

/* ---- timeouts --------------------------------------------------------------------------------------- */

static void conn_check(net_conn *c, uint64_t now)
{
    const cv_net_limits *lim = &c->net->lim;
    if (cv_net_chan_rx_trim(&c->chan) != CV_OK)
        cv_net_conn_close(c, CV_NET_R_CLOSED, "%s", cv_errmsg());
    else if (!c->open) {
        if (now - c->started >= lim->handshake_timeout_ms)
            cv_net_conn_close(c, CV_NET_R_TIMEOUT, "no %s within %u ms",
                              c->connected || !c->outbound ? "handshake" : "connection",
                              lim->handshake_timeout_ms);
    } else if (now - c->last_rx >= lim->idle_timeout_ms)
        cv_net_conn_close(c, CV_NET_R_IDLE, "nothing received for %u ms", lim->idle_timeout_ms);
    else if (c->inflight && now - c->last_progress >= lim->stall_timeout_ms)
        cv_net_conn_close(c, CV_NET_R_STALLED, "no data accepted for %u ms (%llu bytes waiting)",
                          lim->stall_timeout_ms, (unsigned long long)atomic_load(&c->peer->queued));
    else if (!c->inflight && now - c->last_tx >= lim->ping_ms)
        cv_net_peer_ping(c->peer);
}

void cv_net_conns_check(cv_net *net)
{
    uint64_t now = uv_now(&net->loop);
    for (net_conn *c = net->conns; c; c = c->next)
        if (!c->closing)
            conn_check(c, now);
}
