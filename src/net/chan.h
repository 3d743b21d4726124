/* chan.h: one connection's protocol state, free of I/O: the handshake
 * state machine, the receive buffer and frame parser, and record opening.
 * The event loop (net.c) feeds it the bytes it reads and writes the bytes
 * it produces; the fuzz target drives it directly.
 *
 * Handshake (docs/NETWORK.md): the initiator sends its hello; the
 * responder answers with its hello and its auth record; the initiator
 * checks that and sends its own auth record; the responder checks that and
 * sends an empty accept record. Each auth names the chain and the sender's
 * key and signs the transcript; a key is accepted only if the allow
 * callback accepts it. The responder is open once it accepts, the
 * initiator once it receives the accept; then records flow both ways.
 *
 * Receiving: cv_net_chan_rx_space gives the free space for the next read,
 * cv_net_chan_rx_commit records what was read, cv_net_chan_process parses
 * the complete frames. The buffer starts at CV_NET_RX_BASE bytes and grows
 * only for a frame whose header has been validated, and only as fast as
 * its bytes arrive (doubling), so a peer costs at most about twice what it
 * has sent. A grown buffer is kept for the frames that follow (large
 * messages tend to come in runs) until cv_net_chan_rx_trim, which the
 * event loop calls periodically. */
#ifndef CV_NET_CHAN_H
#define CV_NET_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "crypto/kx.h"
#include "net/wire.h"

#define CV_NET_RX_BASE (64u * 1024)

/* CV_OK to accept peer, or an error (with a message) to refuse it. */
typedef int (*cv_net_allow_fn)(void *ctx, const cv_pubkey *peer);
/* One application record: its type (0 is a ping) and body. */
typedef void (*cv_net_deliver_fn)(void *ctx, uint8_t type, const uint8_t *body, size_t len);

/* What a channel needs to know about its node; shared by all channels. */
typedef struct {
    cv_suite suite;
    char chain_id[CV_CHAIN_ID_MAX + 1];
    uint8_t genesis_hash[CV_HASH_LEN];
    const cv_keypair *key;
    uint32_t max_msg;
} cv_net_chan_params;

typedef enum {
    CV_NET_CHAN_HELLO, /* waiting for the peer's hello */
    CV_NET_CHAN_AUTH,  /* waiting for the peer's auth record */
    CV_NET_CHAN_ACCEPT, /* initiator: waiting for the responder's accept record */
    CV_NET_CHAN_OPEN,  /* records flow */
    CV_NET_CHAN_FAILED
} cv_net_chan_state;

typedef struct {
    const cv_net_chan_params *params;
    cv_net_allow_fn allow;
    void *allow_ctx;
    int initiator;
    cv_net_chan_state state;
    int reason;             /* cv_net_reason of the failure, when FAILED */
    cv_pubkey peer;         /* the authenticated peer, when OPEN */
    cv_kx_key eph;
    uint8_t hello_i[CV_NET_HELLO_MAX], hello_r[CV_NET_HELLO_MAX];
    size_t hello_i_len, hello_r_len;
    cv_net_keys keys;
    uint64_t tx_counter, rx_counter;
    uint8_t *rx;            /* received bytes not yet consumed */
    size_t rx_len, rx_cap;
    size_t rx_need;         /* bytes of the (validated) partial frame at rx, or 0 */
} cv_net_chan;

/* Starts a channel; the initiator's hello frame is appended to out. */
int cv_net_chan_init(cv_net_chan *c, const cv_net_chan_params *params, int initiator,
                     cv_net_allow_fn allow, void *allow_ctx, cv_buf *out);

/* Wipes keys and frees the buffer. */
void cv_net_chan_free(cv_net_chan *c);

/* Free space for the next read (never empty); CV_ENOMEM. */
int cv_net_chan_rx_space(cv_net_chan *c, uint8_t **p, size_t *n);
/* n bytes were written at the space given by cv_net_chan_rx_space. */
void cv_net_chan_rx_commit(cv_net_chan *c, size_t n);
/* Shrinks a grown buffer back to CV_NET_RX_BASE unless a large frame is
 * partly received; CV_ENOMEM. */
int cv_net_chan_rx_trim(cv_net_chan *c);

/* Handles every complete frame received: handshake replies are appended
 * to out, records delivered. Stops after the frame that completes the
 * handshake (so the caller can set up the session before the records that
 * follow); call again to go on. On failure the state is FAILED, reason is
 * set and the error message says what was wrong. */
int cv_net_chan_process(cv_net_chan *c, cv_buf *out, cv_net_deliver_fn deliver, void *ctx);

/* The key and next counter for records to the peer (valid when OPEN). */
const uint8_t *cv_net_chan_tx_key(const cv_net_chan *c);

#endif
