/* internal.h: the structures shared by net.c (lifecycle, commands, timers,
 * stats), conn.c (connections and sessions) and send.c (send queues).
 *
 * Ownership and threads: the loop, connections and everything marked "net
 * thread" belong to the net thread (or to the starting thread before the
 * net thread runs, and to it again after it has stopped). Peers are created
 * on the net thread and freed only by cv_net_stop, so other threads may
 * keep pointers to them; what they share with the net thread is under one
 * of the peer's locks or atomic. A peer's seal_mu guards its session key
 * and record counter and is held while a frame is sealed (so counters
 * follow queue order); its queue_mu guards the queue and is held only
 * briefly, so the net thread never waits for a sender sealing a large
 * message. net->mu guards the peer table, the pending commands and the
 * wake handle. Lock order: net->mu, seal_mu, queue_mu. */
#ifndef CV_NET_INTERNAL_H
#define CV_NET_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <uv.h>

#include "base/buf.h"
#include "net/chan.h"
#include "net/net.h"

typedef struct net_conn net_conn;

/* A sealed frame waiting to be written. */
typedef struct net_frame {
    struct net_frame *next;
    size_t len;
    uint8_t bytes[];
} net_frame;

typedef struct {
    cv_net *net;
    cv_pubkey pub;
    char name[CV_ADDR_STR_MAX]; /* the address string, for logs */

    /* net thread */
    int allowed;
    char addr[CV_NET_ADDR_MAX]; /* where to dial it; "" if we do not */
    net_conn *conn;             /* the connection of the session, if up */
    net_conn *dialing;          /* our outbound connection still in handshake */
    int resolving;              /* a name lookup for a dial is running */
    uv_getaddrinfo_t resolve;
    uv_timer_t dial_timer;
    uint32_t backoff_ms;
    unsigned dial_failures;     /* since the last session (only the first is logged) */

    /* shared: under seal_mu */
    pthread_mutex_t seal_mu;
    uint8_t tx_key[CV_AEAD_KEY_MAX];
    uint64_t tx_counter;
    /* shared: under queue_mu */
    pthread_mutex_t queue_mu;
    net_frame *head, *tail;     /* sealed, not yet handed to the socket */

    /* shared: atomic */
    _Atomic int up;             /* written under seal_mu */
    _Atomic uint64_t queued;    /* bytes in the queue or being written */
    _Atomic uint64_t bytes_in, bytes_out, frames_in, frames_out, dropped;
} net_peer;

struct net_conn {
    uv_tcp_t tcp;
    uv_connect_t connect;
    cv_net *net;
    net_conn *prev, *next;      /* net->conns */
    net_peer *peer;             /* outbound: the target; inbound: set when open */
    int outbound;
    int connected;              /* TCP is up (outbound) */
    int pending;                /* counted in net->pending_inbound */
    int open;                   /* this is peer's session */
    int closing;
    cv_net_chan chan;
    cv_buf out;                 /* handshake bytes to write */
    char remote[CV_NET_ADDR_MAX]; /* "ip:port" */
    char ip[48];
    uint64_t started, last_rx, last_tx, last_progress; /* uv_now() */
    uint64_t inflight;          /* bytes given to uv_write, not yet done */
};

struct cv_net {
    cv_net_chan_params params;
    cv_keypair key;
    cv_net_limits lim;
    cv_net_callbacks cb;

    uv_loop_t loop;
    uv_async_t wake;
    uv_tcp_t listener;
    uv_timer_t tick;
    int listening;
    uint16_t port;
    pthread_t thread;

    pthread_mutex_t mu;
    net_peer **peers;
    size_t npeers, peers_cap;
    int stopping;               /* cv_net_stop was called */
    int wake_closed;
    cv_pubkey *new_allowed;     /* a set waiting to be applied */
    size_t nnew_allowed;
    int allowed_changed;
    cv_net_peer_config *new_peers; /* peers waiting to be added */
    size_t nnew_peers;

    /* net thread */
    int shutting_down;
    net_conn *conns;
    size_t pending_inbound;
    uint64_t log_window;        /* rate limit of refusal logs */
    unsigned log_count, log_suppressed;

    _Atomic uint64_t peers_up, dials, handshakes_ok;
    _Atomic uint64_t failed[CV_NET_R_COUNT], disconnects[CV_NET_R_COUNT];
};

/* net.c */
net_peer *cv_net_peer_find(cv_net *net, const cv_pubkey *pub); /* takes net->mu */
void cv_net_wake(cv_net *net);
int cv_net_pubkey_eq(const cv_pubkey *a, const cv_pubkey *b);
/* Splits "host:port" or "[v6]:port"; CV_EINVAL naming the address. */
int cv_net_addr_split(const char *addr, char *host, size_t host_cap, char *port, size_t port_cap);
/* Logs a refused or failed connection at warn level, at most 10 a second. */
void cv_net_log_refusal(cv_net *net, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* conn.c */
void cv_net_on_connection(uv_stream_t *server, int status);
void cv_net_dial_schedule(net_peer *p, int failed);
void cv_net_conn_close(net_conn *c, int reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cv_net_conn_write_frames(net_conn *c, net_frame *list);
/* Timeouts, pings and stalls of every connection. */
void cv_net_conns_check(cv_net *net);

/* send.c */
void cv_net_peer_locks_init(net_peer *p);
/* Frees the frames still queued and the locks (after the net thread ended). */
void cv_net_peer_locks_free(net_peer *p);
/* A session starts: records to p use key from counter on. */
void cv_net_peer_session_start(net_peer *p, const uint8_t *key, uint64_t counter);
/* The session ends: the key is wiped, queued frames dropped (counted). */
void cv_net_peer_session_end(net_peer *p);
/* Queues and writes a ping, unless a sender is busy sealing (net thread). */
void cv_net_peer_ping(net_peer *p);
/* Hands p's queued frames to its connection (net thread). */
void cv_net_peer_flush(net_peer *p);

#endif
