/* net.c: the transport's lifecycle and public calls (net.h): start and
 * stop, the net thread and its wake-ups, the peer table, the allowed set
 * and dial targets, the periodic checks, stats and logging. Connections
 * are in conn.c, send queues in send.c. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "base/log.h"
#include "net/internal.h"

#define LOG_PER_SECOND 10

const char *cv_net_reason_name(int r)
{
    static const char *names[CV_NET_R_COUNT] = {
        "none", "closed", "timeout", "malformed", "frame too large", "version mismatch",
        "wrong chain", "unknown key", "bad signature", "decrypt failure", "idle", "stalled",
        "duplicate", "removed", "limit", "shutdown",
    };
    return r >= 0 && r < CV_NET_R_COUNT ? names[r] : "unknown";
}

int cv_net_pubkey_eq(const cv_pubkey *a, const cv_pubkey *b)
{
    return a->suite == b->suite && a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

int cv_net_addr_split(const char *addr, char *host, size_t host_cap, char *port, size_t port_cap)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || !colon[1] || strlen(colon + 1) >= port_cap ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1) || atol(colon + 1) > 65535)
        return cv_fail(CV_EINVAL, "address \"%s\" is not host:port", addr);
    const char *start = addr, *end = colon;
    if (addr[0] == '[' && colon[-1] == ']') {
        start++;
        end--;
    }
    if (end <= start || (size_t)(end - start) >= host_cap)
        return cv_fail(CV_EINVAL, "address \"%s\" has a bad host", addr);
    memcpy(host, start, (size_t)(end - start));
    host[end - start] = 0;
    strcpy(port, colon + 1);
    return CV_OK;
}

void cv_net_log_refusal(cv_net *net, const char *fmt, ...)
{
    uint64_t now = uv_now(&net->loop);
    if (now - net->log_window >= 1000) {
        if (net->log_suppressed)
            cv_warn("net: %u more refused connections not logged", net->log_suppressed);
        net->log_window = now;
        net->log_count = net->log_suppressed = 0;
    }
    if (net->log_count++ >= LOG_PER_SECOND) {
        net->log_suppressed++;
        return;
    }
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cv_warn("%s", line);
}

/* ---- the peer table --------------------------------------------------------------- */

net_peer *cv_net_peer_find(cv_net *net, const cv_pubkey *pub)
{
    net_peer *found = NULL;
    pthread_mutex_lock(&net->mu);
    for (size_t i = 0; i < net->npeers && !found; i++)
        if (cv_net_pubkey_eq(&net->peers[i]->pub, pub))
            found = net->peers[i];
    pthread_mutex_unlock(&net->mu);
    return found;
}

/* Makes room for one more peer in the table. */
static int peer_reserve(cv_net *net)
{
    int rc = CV_OK;
    pthread_mutex_lock(&net->mu);
    if (net->npeers == net->peers_cap) {
        size_t cap = net->peers_cap ? 2 * net->peers_cap : 16;
        net_peer **grown = realloc(net->peers, cap * sizeof *grown);
        if (grown) {
            net->peers = grown;
            net->peers_cap = cap;
        } else
            rc = cv_fail(CV_ENOMEM, "out of memory for the peer table");
    }
    pthread_mutex_unlock(&net->mu);
    return rc;
}

/* The peer of pub, created if new (net thread). */
static int peer_get(cv_net *net, const cv_pubkey *pub, net_peer **out)
{
    if ((*out = cv_net_peer_find(net, pub)))
        return CV_OK;
    net_peer *p = peer_reserve(net) == CV_OK ? calloc(1, sizeof *p) : NULL;
    if (!p)
        return cv_fail(CV_ENOMEM, "out of memory for a peer");
    p->net = net;
    p->pub = *pub;
    p->backoff_ms = net->lim.backoff_min_ms;
    if (cv_address_string(pub, p->name) != CV_OK)
        strcpy(p->name, "?");
    cv_net_peer_locks_init(p);
    uv_timer_init(&net->loop, &p->dial_timer);
    p->dial_timer.data = p;
    pthread_mutex_lock(&net->mu);
    net->peers[net->npeers++] = p;
    pthread_mutex_unlock(&net->mu);
    *out = p;
    return CV_OK;
}

static void peer_free(net_peer *p)
{
    cv_net_peer_locks_free(p);
    sodium_memzero(p, sizeof *p);
    free(p);
}

/* ---- commands, applied on the net thread --------------------------------------------- */

static void apply_allowed(cv_net *net, const cv_pubkey *keys, size_t n)
{
    for (size_t i = 0; i < net->npeers; i++)
        net->peers[i]->allowed = 0;
    for (size_t i = 0; i < n; i++) {
        net_peer *p;
        if (peer_get(net, &keys[i], &p) == CV_OK)
            p->allowed = 1;
        else
            cv_error("net: %s", cv_errmsg());
    }
    for (size_t i = 0; i < net->npeers; i++) {
        net_peer *p = net->peers[i];
        if (p->allowed) {
            cv_net_dial_schedule(p, 0);
            continue;
        }
        uv_timer_stop(&p->dial_timer);
        if (p->conn)
            cv_net_conn_close(p->conn, CV_NET_R_REMOVED, "key left the allowed set");
        if (p->dialing)
            cv_net_conn_close(p->dialing, CV_NET_R_REMOVED, "key left the allowed set");
    }
}

static void apply_peer(cv_net *net, const cv_net_peer_config *cfg)
{
    net_peer *p;
    if (peer_get(net, &cfg->pub, &p) != CV_OK) {
        cv_error("net: %s", cv_errmsg());
        return;
    }
    if (strcmp(p->addr, cfg->addr) != 0) {
        strcpy(p->addr, cfg->addr);
        p->backoff_ms = net->lim.backoff_min_ms;
    }
    cv_net_dial_schedule(p, 0);
}

void cv_net_wake(cv_net *net)
{
    pthread_mutex_lock(&net->mu);
    if (!net->wake_closed)
        uv_async_send(&net->wake);
    pthread_mutex_unlock(&net->mu);
}

/* Closes every handle so that the loop ends (net thread). */
static void close_handles(cv_net *net)
{
    net->shutting_down = 1;
    for (net_conn *c = net->conns; c; c = c->next)
        cv_net_conn_close(c, CV_NET_R_SHUTDOWN, "this node is stopping");
    for (size_t i = 0; i < net->npeers; i++) {
        net_peer *p = net->peers[i];
        uv_close((uv_handle_t *)&p->dial_timer, NULL);
        if (p->resolving)
            uv_cancel((uv_req_t *)&p->resolve);
    }
    if (net->listening)
        uv_close((uv_handle_t *)&net->listener, NULL);
    uv_close((uv_handle_t *)&net->tick, NULL);
    pthread_mutex_lock(&net->mu);
    net->wake_closed = 1;
    uv_close((uv_handle_t *)&net->wake, NULL);
    pthread_mutex_unlock(&net->mu);
}

static void on_wake(uv_async_t *a)
{
    cv_net *net = a->data;
    pthread_mutex_lock(&net->mu);
    int stopping = net->stopping, changed = net->allowed_changed;
    cv_pubkey *allowed = net->new_allowed;
    size_t nallowed = net->nnew_allowed, npeers = net->nnew_peers;
    cv_net_peer_config *peers = net->new_peers;
    net->new_allowed = NULL;
    net->new_peers = NULL;
    net->nnew_allowed = net->nnew_peers = 0;
    net->allowed_changed = 0;
    pthread_mutex_unlock(&net->mu);
    if (!stopping) {
        if (changed)
            apply_allowed(net, allowed, nallowed);
        for (size_t i = 0; i < npeers; i++)
            apply_peer(net, &peers[i]);
        for (size_t i = 0; i < net->npeers; i++)
            cv_net_peer_flush(net->peers[i]);
    }
    free(allowed);
    free(peers);
    if (stopping)
        close_handles(net);
}

static void on_tick(uv_timer_t *t)
{
    cv_net_conns_check(t->data);
}

/* ---- configuration --------------------------------------------------------------------- */

#define DEFAULT(field, value)   \
    do {                        \
        if (l->field == 0)      \
            l->field = (value); \
    } while (0)

static int apply_limits(cv_net_limits *l)
{
    DEFAULT(max_msg, CV_NET_MSG_DEFAULT);
    DEFAULT(send_queue_max, 2 * (uint64_t)l->max_msg + (1u << 20));
    DEFAULT(max_pending, 64);
    DEFAULT(max_pending_per_ip, 8);
    DEFAULT(handshake_timeout_ms, 10000);
    DEFAULT(ping_ms, 5000);
    DEFAULT(idle_timeout_ms, 30000);
    DEFAULT(stall_timeout_ms, 30000);
    DEFAULT(backoff_min_ms, 100);
    DEFAULT(backoff_max_ms, 10000);
    if (l->max_msg > CV_NET_MSG_LIMIT)
        return cv_fail(CV_EINVAL, "net: max_msg %u exceeds %u", l->max_msg, CV_NET_MSG_LIMIT);
    if (l->send_queue_max < cv_net_record_frame_len(1 + (size_t)l->max_msg))
        return cv_fail(CV_EINVAL, "net: send_queue_max %llu cannot hold one message of max_msg %u",
                       (unsigned long long)l->send_queue_max, l->max_msg);
    if (l->backoff_max_ms < l->backoff_min_ms)
        return cv_fail(CV_EINVAL, "net: backoff_max_ms is below backoff_min_ms");
    if (l->idle_timeout_ms <= l->ping_ms)
        return cv_fail(CV_EINVAL, "net: idle_timeout_ms must exceed ping_ms");
    return CV_OK;
}

static uint64_t tick_interval(const cv_net_limits *l)
{
    uint32_t m = l->handshake_timeout_ms;
    m = l->ping_ms < m ? l->ping_ms : m;
    m = l->idle_timeout_ms < m ? l->idle_timeout_ms : m;
    m = l->stall_timeout_ms < m ? l->stall_timeout_ms : m;
    m /= 4;
    return m < 5 ? 5 : m > 1000 ? 1000 : m;
}

static int check_key(const cv_net *net, const cv_pubkey *pub, const char *what)
{
    if (pub->suite != net->params.suite)
        return cv_fail(CV_EINVAL, "net: %s key is not of the chain's suite %s", what,
                       cv_suite_name(net->params.suite));
    return CV_OK;
}

static int check_peer(const cv_net *net, const cv_net_peer_config *peer)
{
    char host[CV_NET_ADDR_MAX], port[8];
    if (!memchr(peer->addr, 0, sizeof peer->addr))
        return cv_fail(CV_EINVAL, "net: peer address not terminated");
    int rc = cv_net_addr_split(peer->addr, host, sizeof host, port, sizeof port);
    return rc ? rc : check_key(net, &peer->pub, "peer");
}

static int bind_listener(cv_net *net, const char *listen)
{
    char host[CV_NET_ADDR_MAX], port[8];
    struct sockaddr_storage ss;
    int rc = cv_net_addr_split(listen, host, sizeof host, port, sizeof port);
    if (rc)
        return rc;
    if (uv_ip4_addr(host, atoi(port), (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(host, atoi(port), (struct sockaddr_in6 *)&ss) != 0)
        return cv_fail(CV_EINVAL, "net: listen address \"%s\" is not ip:port", listen);
    uv_tcp_init(&net->loop, &net->listener);
    net->listener.data = net;
    net->listening = 1;
    int err = uv_tcp_bind(&net->listener, (struct sockaddr *)&ss, 0);
    if (!err)
        err = uv_listen((uv_stream_t *)&net->listener, 128, cv_net_on_connection);
    if (err)
        return cv_fail(CV_EIO, "net: cannot listen on %s: %s", listen, uv_strerror(err));
    int len = sizeof ss;
    uv_tcp_getsockname(&net->listener, (struct sockaddr *)&ss, &len);
    net->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    return CV_OK;
}

static int copy_config(cv_net *net, const cv_net_config *cfg)
{
    const cv_chain *chain = &cfg->chain;
    if (!cfg->key || cfg->key->suite != chain->suite)
        return cv_fail(CV_EINVAL, "net: the node key must be of the chain's suite");
    if (!chain->chain_id[0] || !memchr(chain->chain_id, 0, sizeof chain->chain_id))
        return cv_fail(CV_EINVAL, "net: the chain id must be 1 to %d bytes", CV_CHAIN_ID_MAX);
    if (!memchr(cfg->listen, 0, sizeof cfg->listen))
        return cv_fail(CV_EINVAL, "net: listen address not terminated");
    net->lim = cfg->limits;
    int rc = apply_limits(&net->lim);
    if (rc)
        return rc;
    net->cb = cfg->cb;
    net->params.suite = chain->suite;
    strcpy(net->params.chain_id, chain->chain_id);
    memcpy(net->params.genesis_hash, chain->genesis_hash, CV_HASH_LEN);
    net->params.max_msg = net->lim.max_msg;
    net->params.key = &net->key;
    for (size_t i = 0; i < cfg->nallowed && rc == CV_OK; i++)
        rc = check_key(net, &cfg->allowed[i], "allowed");
    for (size_t i = 0; i < cfg->npeers && rc == CV_OK; i++)
        rc = check_peer(net, &cfg->peers[i]);
    return rc ? rc : cv_key_from_secret(chain->suite, cfg->key->secret, &net->key);
}

/* ---- start and stop --------------------------------------------------------------------- */

static void *net_thread(void *arg)
{
    cv_net *net = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE); /* a write to a closed socket fails with EPIPE instead */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    uv_run(&net->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void net_free(cv_net *net)
{
    int err = uv_loop_close(&net->loop);
    if (err)
        cv_error("net: event loop not closed cleanly: %s", uv_strerror(err));
    for (size_t i = 0; i < net->npeers; i++)
        peer_free(net->peers[i]);
    free(net->peers);
    free(net->new_allowed);
    free(net->new_peers);
    cv_key_wipe(&net->key);
    pthread_mutex_destroy(&net->mu);
    free(net);
}

/* Applies the configuration's peers and starts the first dials and the tick. */
static int net_setup(cv_net *net, const cv_net_config *cfg)
{
    int rc = CV_OK;
    apply_allowed(net, cfg->allowed, cfg->nallowed);
    for (size_t i = 0; i < cfg->npeers; i++)
        apply_peer(net, &cfg->peers[i]);
    if (cfg->listen[0])
        rc = bind_listener(net, cfg->listen);
    if (rc == CV_OK) {
        uint64_t every = tick_interval(&net->lim);
        uv_timer_start(&net->tick, on_tick, every, every);
    }
    return rc;
}

int cv_net_start(const cv_net_config *cfg, cv_net **out)
{
    *out = NULL;
    cv_net *net = calloc(1, sizeof *net);
    if (!net)
        return cv_fail(CV_ENOMEM, "out of memory for the network");
    int rc = copy_config(net, cfg);
    if (rc) {
        cv_key_wipe(&net->key);
        free(net);
        return rc;
    }
    pthread_mutex_init(&net->mu, NULL);
    if (uv_loop_init(&net->loop) != 0) {
        cv_key_wipe(&net->key);
        pthread_mutex_destroy(&net->mu);
        free(net);
        return cv_fail(CV_EIO, "net: cannot create an event loop");
    }
    uv_async_init(&net->loop, &net->wake, on_wake);
    net->wake.data = net;
    uv_timer_init(&net->loop, &net->tick);
    net->tick.data = net;
    rc = net_setup(net, cfg);
    if (rc == CV_OK && pthread_create(&net->thread, NULL, net_thread, net) != 0)
        rc = cv_fail(CV_EIO, "net: cannot start the network thread");
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", cv_errmsg());
        close_handles(net);
        uv_run(&net->loop, UV_RUN_DEFAULT);
        net_free(net);
        return cv_fail(rc, "%s", msg);
    }
    cv_info("net: started (listening on %s, port %u), chain %s (%s), %zu peers to dial, %zu keys allowed",
            cfg->listen[0] ? cfg->listen : "nothing", net->port, net->params.chain_id,
            cv_suite_name(net->params.suite), cfg->npeers, cfg->nallowed);
    *out = net;
    return CV_OK;
}

void cv_net_stop(cv_net *net)
{
    if (!net)
        return;
    pthread_mutex_lock(&net->mu);
    net->stopping = 1;
    uv_async_send(&net->wake);
    pthread_mutex_unlock(&net->mu);
    pthread_join(net->thread, NULL);
    net_free(net);
}

uint16_t cv_net_port(const cv_net *net)
{
    return net->port;
}

/* ---- commands from any thread ----------------------------------------------------------------- */

int cv_net_set_allowed(cv_net *net, const cv_pubkey *keys, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = check_key(net, &keys[i], "allowed");
        if (rc)
            return rc;
    }
    cv_pubkey *copy = malloc((n ? n : 1) * sizeof *copy);
    if (!copy)
        return cv_fail(CV_ENOMEM, "out of memory for the allowed set");
    if (n)
        memcpy(copy, keys, n * sizeof *copy);
    pthread_mutex_lock(&net->mu);
    free(net->new_allowed);
    net->new_allowed = copy;
    net->nnew_allowed = n;
    net->allowed_changed = 1;
    pthread_mutex_unlock(&net->mu);
    cv_net_wake(net);
    return CV_OK;
}

int cv_net_add_peer(cv_net *net, const cv_net_peer_config *peer)
{
    int rc = check_peer(net, peer);
    if (rc)
        return rc;
    pthread_mutex_lock(&net->mu);
    cv_net_peer_config *grown = realloc(net->new_peers, (net->nnew_peers + 1) * sizeof *grown);
    if (grown) {
        net->new_peers = grown;
        grown[net->nnew_peers++] = *peer;
    } else
        rc = cv_fail(CV_ENOMEM, "out of memory adding a peer");
    pthread_mutex_unlock(&net->mu);
    if (rc == CV_OK)
        cv_net_wake(net);
    return rc;
}

/* ---- stats -------------------------------------------------------------------------------------- */

void cv_net_get_stats(cv_net *net, cv_net_stats *out)
{
    memset(out, 0, sizeof *out);
    out->peers_up = atomic_load(&net->peers_up);
    out->dials = atomic_load(&net->dials);
    out->handshakes_ok = atomic_load(&net->handshakes_ok);
    for (int r = 0; r < CV_NET_R_COUNT; r++) {
        out->handshakes_failed[r] = atomic_load(&net->failed[r]);
        out->disconnects[r] = atomic_load(&net->disconnects[r]);
    }
    pthread_mutex_lock(&net->mu);
    for (size_t i = 0; i < net->npeers; i++) {
        net_peer *p = net->peers[i];
        out->bytes_in += atomic_load(&p->bytes_in);
        out->bytes_out += atomic_load(&p->bytes_out);
        out->frames_in += atomic_load(&p->frames_in);
        out->frames_out += atomic_load(&p->frames_out);
        out->dropped += atomic_load(&p->dropped);
    }
    pthread_mutex_unlock(&net->mu);
}

int cv_net_get_peer_stats(cv_net *net, const cv_pubkey *peer, cv_net_peer_stats *out)
{
    memset(out, 0, sizeof *out);
    net_peer *p = cv_net_peer_find(net, peer);
    if (!p)
        return cv_fail(CV_ENOTFOUND, "net: no such peer");
    out->up = atomic_load(&p->up);
    out->bytes_in = atomic_load(&p->bytes_in);
    out->bytes_out = atomic_load(&p->bytes_out);
    out->frames_in = atomic_load(&p->frames_in);
    out->frames_out = atomic_load(&p->frames_out);
    out->dropped = atomic_load(&p->dropped);
    out->queued = atomic_load(&p->queued);
    return CV_OK;
}
