/* net.h: the peer-to-peer transport between the nodes of one chain.
 *
 * TCP connections, mutually authenticated with the nodes' keys and
 * encrypted with the chain's suite (docs/NETWORK.md gives the wire format):
 * each side proves it holds its node key by signing the handshake
 * transcript, and a connection stays up only if the peer's key is in the
 * allowed set (the validators and members of the current set, which the
 * node updates). Messages are a type (1..255) and a body of at most
 * max_msg bytes, delivered whole, in order, per peer.
 *
 * Threading: cv_net runs a libuv event loop on its own thread. The send,
 * broadcast, set and stats functions may be called from any thread. The
 * callbacks run on the net thread, one at a time, in order (per peer: up,
 * its messages, down); they may call cv_net_send and the other functions
 * except cv_net_stop, and should return quickly (copy the message into the
 * node's own queue). A body pointer is valid only during its callback.
 *
 * Request/response: a reply is a cv_net_send to the `from` of the request;
 * the node puts its own request id in the body. A request whose peer goes
 * down gets no reply: the node re-issues it to another peer on the down
 * event (or its own timeout). Sends are best-effort: queued frames of a
 * session that goes down are dropped (counted).
 *
 * Memory: each peer's send queue holds at most limits.send_queue_max bytes
 * (frames queued or being written); a send that would exceed it fails with
 * CV_EFULL and is counted as dropped, and a peer that accepts no data for
 * stall_timeout_ms while data waits is disconnected. A receive buffer
 * grows with the bytes actually received, up to one frame of the
 * validated length. */
#ifndef CV_NET_NET_H
#define CV_NET_NET_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/suite.h"
#include "ledger/genesis.h"

#define CV_NET_ADDR_MAX 256           /* "host:port", "[v6]:port" */
#define CV_NET_MSG_DEFAULT (16u << 20) /* default max_msg: 16 MiB */
#define CV_NET_MSG_LIMIT (1u << 30)    /* the largest max_msg allowed */

typedef struct cv_net cv_net;

/* Why a connection was refused or closed. */
typedef enum {
    CV_NET_R_NONE = 0,
    CV_NET_R_CLOSED,    /* the peer closed the connection, or a socket error */
    CV_NET_R_TIMEOUT,   /* the handshake did not finish in time */
    CV_NET_R_MALFORMED, /* bytes that do not follow the protocol */
    CV_NET_R_TOO_LARGE, /* a frame longer than the limit */
    CV_NET_R_VERSION,   /* another protocol version or crypto suite */
    CV_NET_R_CHAIN,     /* another chain id or genesis hash */
    CV_NET_R_KEY,       /* a key not allowed, not the one expected, or our own */
    CV_NET_R_SIGNATURE, /* the identity signature does not verify */
    CV_NET_R_DECRYPT,   /* a record fails authentication */
    CV_NET_R_IDLE,      /* nothing received within idle_timeout_ms */
    CV_NET_R_STALLED,   /* the peer accepted no data for stall_timeout_ms */
    CV_NET_R_DUPLICATE, /* a second connection with the same peer (one is kept) */
    CV_NET_R_REMOVED,   /* the peer's key left the allowed set */
    CV_NET_R_LIMIT,     /* too many pending inbound handshakes (in all, or from one IP) */
    CV_NET_R_SHUTDOWN,  /* this node is stopping */
    CV_NET_R_COUNT
} cv_net_reason;

/* A short fixed name for r ("timeout", "unknown key", ...). */
const char *cv_net_reason_name(int r);

/* A peer to dial: its address and the key it must present. */
typedef struct {
    char addr[CV_NET_ADDR_MAX]; /* "host:port"; host is a name or an IP */
    cv_pubkey pub;
} cv_net_peer_config;

/* Limits; a field left 0 takes the default shown. */
typedef struct {
    uint32_t max_msg;             /* bytes of one message body (16 MiB) */
    uint64_t send_queue_max;      /* bytes queued for one peer (2 * max_msg + 1 MiB) */
    uint32_t max_pending;         /* inbound connections still in handshake (64) */
    uint32_t max_pending_per_ip;  /* of those, from one IP address (8) */
    uint32_t handshake_timeout_ms; /* (10000) */
    uint32_t ping_ms;             /* a ping after this long without sending (5000) */
    uint32_t idle_timeout_ms;     /* close after this long without receiving (30000) */
    uint32_t stall_timeout_ms;    /* close after this long without write progress (30000) */
    uint32_t backoff_min_ms;      /* first redial delay (100) */
    uint32_t backoff_max_ms;      /* redial delay cap (10000); delays have random jitter */
} cv_net_limits;

typedef struct {
    /* A session with peer came up (up = 1) or went down (up = 0). */
    void (*on_peer)(void *ctx, const cv_pubkey *peer, int up);
    /* A message from peer; body is valid only during the call. */
    void (*on_message)(void *ctx, const cv_pubkey *from, uint8_t type, const uint8_t *body,
                       size_t len);
    void *ctx;
} cv_net_callbacks;

typedef struct {
    cv_chain chain;           /* chain id, suite and genesis hash */
    const cv_keypair *key;    /* this node's key (copied) */
    char listen[CV_NET_ADDR_MAX]; /* "ip:port" (port 0: any free port); "" for none */
    const cv_net_peer_config *peers; /* peers to dial (copied) */
    size_t npeers;
    const cv_pubkey *allowed; /* the keys allowed to connect (copied) */
    size_t nallowed;
    cv_net_limits limits;
    cv_net_callbacks cb;
} cv_net_config;

/* Binds the listener (errors such as an address in use are returned here),
 * then starts the net thread, which dials the configured peers. */
int cv_net_start(const cv_net_config *cfg, cv_net **out);

/* Closes every connection (down events are delivered), stops the thread
 * and frees net. Not from a callback; no other call may run or follow. */
void cv_net_stop(cv_net *net);

/* The port the listener is bound to (useful with port 0), 0 if none. */
uint16_t cv_net_port(const cv_net *net);

/* Replaces the allowed set (when the validator or member set changes).
 * Sessions with keys no longer allowed are closed. Applied asynchronously
 * on the net thread. */
int cv_net_set_allowed(cv_net *net, const cv_pubkey *keys, size_t n);

/* Adds a peer to dial, or changes the address of a known one. Asynchronous. */
int cv_net_add_peer(cv_net *net, const cv_net_peer_config *peer);

/* Queues a message for one peer. CV_EINVAL for type 0 or a body over
 * max_msg, CV_ENOTFOUND if no session with the peer is up, CV_EFULL if its
 * send queue has no room (the message is dropped and counted). The frame
 * is encrypted on the calling thread. */
int cv_net_send(cv_net *net, const cv_pubkey *to, uint8_t type, const void *body, size_t len);

/* Queues a message for every peer with a session up; *sent (may be NULL)
 * gets how many. Peers whose queue is full are skipped (counted). */
int cv_net_broadcast(cv_net *net, uint8_t type, const void *body, size_t len, size_t *sent);

typedef struct {
    int up;                  /* a session is up */
    uint64_t bytes_in, bytes_out;   /* on the wire, with framing, since start */
    uint64_t frames_in, frames_out; /* records, pings included */
    uint64_t dropped;        /* messages refused (queue full) or lost with a session */
    uint64_t queued;         /* bytes waiting or being written now */
} cv_net_peer_stats;

typedef struct {
    uint64_t peers_up;
    uint64_t dials;                            /* outbound connection attempts */
    uint64_t handshakes_ok;
    uint64_t handshakes_failed[CV_NET_R_COUNT]; /* refused before a session, by reason */
    uint64_t disconnects[CV_NET_R_COUNT];       /* sessions closed, by reason */
    uint64_t bytes_in, bytes_out, frames_in, frames_out, dropped; /* all peers */
} cv_net_stats;

void cv_net_get_stats(cv_net *net, cv_net_stats *out);
/* CV_ENOTFOUND if peer was never allowed or configured. */
int cv_net_get_peer_stats(cv_net *net, const cv_pubkey *peer, cv_net_peer_stats *out);

#endif
