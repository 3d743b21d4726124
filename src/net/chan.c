/* chan.c: a connection's handshake, frame parsing and record opening,
 * without I/O (chan.h; the protocol is in docs/NETWORK.md). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "net/chan.h"
#include "net/net.h"

/* Records a failure: the state becomes FAILED with reason; returns rc. */
static int chan_fail(cv_net_chan *c, int reason, int rc)
{
    c->state = CV_NET_CHAN_FAILED;
    c->reason = reason;
    return rc;
}

static uint8_t own_role(const cv_net_chan *c)
{
    return c->initiator ? CV_NET_ROLE_INIT : CV_NET_ROLE_RESP;
}

static uint8_t peer_role(const cv_net_chan *c)
{
    return c->initiator ? CV_NET_ROLE_RESP : CV_NET_ROLE_INIT;
}

const uint8_t *cv_net_chan_tx_key(const cv_net_chan *c)
{
    return c->initiator ? c->keys.i2r : c->keys.r2i;
}

static const uint8_t *rx_key(const cv_net_chan *c)
{
    return c->initiator ? c->keys.r2i : c->keys.i2r;
}

/* ---- output ------------------------------------------------------------------ */

static int append_plain_frame(cv_buf *out, const uint8_t *payload, size_t len)
{
    uint8_t header[CV_NET_HEADER_LEN] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16),
                                         (uint8_t)(len >> 8), (uint8_t)len};
    int rc = cv_buf_reserve(out, sizeof header + len);
    if (rc)
        return rc;
    cv_buf_append(out, header, sizeof header);
    cv_buf_append(out, payload, len);
    return CV_OK;
}

/* Appends a sealed record of plain[len] to out. */
static int append_record(cv_net_chan *c, const uint8_t *plain, size_t len, cv_buf *out)
{
    size_t frame_len = cv_net_record_frame_len(len);
    int rc = cv_buf_reserve(out, frame_len);
    if (rc)
        return rc;
    uint8_t *frame = out->data + out->len;
    memcpy(frame + CV_NET_HEADER_LEN, plain, len);
    rc = cv_net_record_seal(c->params->suite, cv_net_chan_tx_key(c), &c->tx_counter, frame, len);
    if (rc == CV_OK)
        out->len += frame_len;
    return rc;
}

/* Our auth record: chain, genesis, key, and the signature of the transcript. */
static int append_auth(cv_net_chan *c, cv_buf *out)
{
    const cv_net_chan_params *p = c->params;
    cv_net_auth a;
    uint8_t signed_msg[CV_NET_AUTH_SIGNED_MAX], payload[CV_NET_AUTH_MAX];
    memset(&a, 0, sizeof a);
    a.chain_id_len = (uint8_t)strlen(p->chain_id);
    memcpy(a.chain_id, p->chain_id, a.chain_id_len);
    memcpy(a.genesis_hash, p->genesis_hash, CV_HASH_LEN);
    a.pub = p->key->pub;
    size_t n = cv_net_auth_signed(&a, own_role(c), c->keys.th, signed_msg);
    int rc = cv_sign(p->key, signed_msg, n, &a.sig);
    if (rc)
        return rc;
    n = cv_net_auth_encode(&a, payload);
    return append_record(c, payload, n, out);
}

int cv_net_chan_init(cv_net_chan *c, const cv_net_chan_params *params, int initiator,
                     cv_net_allow_fn allow, void *allow_ctx, cv_buf *out)
{
    memset(c, 0, sizeof *c);
    c->params = params;
    c->allow = allow;
    c->allow_ctx = allow_ctx;
    c->initiator = initiator;
    c->state = CV_NET_CHAN_HELLO;
    int rc = cv_kx_keypair(params->suite, &c->eph);
    if (rc)
        return chan_fail(c, CV_NET_R_CLOSED, rc);
    cv_net_hello h = {params->suite, own_role(c), c->eph.pub_len, {0}};
    memcpy(h.eph, c->eph.pub, c->eph.pub_len);
    if (initiator) {
        c->hello_i_len = cv_net_hello_encode(&h, c->hello_i);
        return append_plain_frame(out, c->hello_i, c->hello_i_len);
    }
    c->hello_r_len = cv_net_hello_encode(&h, c->hello_r);
    return CV_OK;
}

void cv_net_chan_free(cv_net_chan *c)
{
    cv_kx_wipe(&c->eph);
    if (c->rx)
        sodium_memzero(c->rx, c->rx_cap);
    free(c->rx);
    sodium_memzero(c, sizeof *c);
}

/* ---- handshake ------------------------------------------------------------------- */

static int hello_fail_reason(int rc)
{
    switch (rc) {
    case CV_ESTATE:
    case CV_EINVAL: return CV_NET_R_VERSION;
    default: return CV_NET_R_MALFORMED;
    }
}

/* The peer's hello: derive the keys; the responder replies with its hello and auth. */
static int on_hello(cv_net_chan *c, const uint8_t *payload, size_t len, cv_buf *out)
{
    const cv_net_chan_params *p = c->params;
    cv_net_hello h;
    uint8_t shared[CV_KX_SHARED_LEN];
    int rc = cv_net_hello_decode(p->suite, payload, len, &h);
    if (rc)
        return chan_fail(c, hello_fail_reason(rc), rc);
    if (h.role != peer_role(c))
        return chan_fail(c, CV_NET_R_MALFORMED,
                         cv_fail(CV_EDECODE, "peer's hello claims our own role '%c'", h.role));
    if (memcmp(h.eph, c->eph.pub, h.eph_len) == 0)
        return chan_fail(c, CV_NET_R_MALFORMED,
                         cv_fail(CV_EDECODE, "peer's hello reflects our ephemeral key"));
    if ((rc = cv_kx_shared(&c->eph, h.eph, h.eph_len, shared)))
        return chan_fail(c, CV_NET_R_MALFORMED, rc);
    if (c->initiator) {
        memcpy(c->hello_r, payload, len);
        c->hello_r_len = len;
    } else {
        memcpy(c->hello_i, payload, len);
        c->hello_i_len = len;
    }
    rc = cv_net_derive(p->suite, shared, c->hello_i, c->hello_i_len, c->hello_r, c->hello_r_len,
                       &c->keys);
    sodium_memzero(shared, sizeof shared);
    cv_kx_wipe(&c->eph);
    if (rc == CV_OK && !c->initiator && (rc = append_plain_frame(out, c->hello_r, c->hello_r_len)) == CV_OK)
        rc = append_auth(c, out);
    if (rc)
        return chan_fail(c, CV_NET_R_CLOSED, rc);
    c->state = CV_NET_CHAN_AUTH;
    return CV_OK;
}

/* Checks a decoded auth: same chain, a key we accept, a valid signature. */
static int check_auth(cv_net_chan *c, const cv_net_auth *a)
{
    const cv_net_chan_params *p = c->params;
    if (a->chain_id_len != strlen(p->chain_id) || memcmp(a->chain_id, p->chain_id, a->chain_id_len) != 0)
        return chan_fail(c, CV_NET_R_CHAIN,
                         cv_fail(CV_EPERM, "peer is on chain \"%.*s\", this node on \"%s\"",
                                 (int)a->chain_id_len, a->chain_id, p->chain_id));
    if (memcmp(a->genesis_hash, p->genesis_hash, CV_HASH_LEN) != 0) {
        char hex[2 * CV_HASH_LEN + 1];
        cv_hex_encode(a->genesis_hash, CV_HASH_LEN, hex);
        return chan_fail(c, CV_NET_R_CHAIN,
                         cv_fail(CV_EPERM, "peer has another genesis (hash %s)", hex));
    }
    if (a->pub.len == p->key->pub.len && memcmp(a->pub.bytes, p->key->pub.bytes, a->pub.len) == 0)
        return chan_fail(c, CV_NET_R_KEY, cv_fail(CV_EPERM, "peer presents this node's own key"));
    int rc = c->allow(c->allow_ctx, &a->pub);
    if (rc)
        return chan_fail(c, CV_NET_R_KEY, rc);
    uint8_t signed_msg[CV_NET_AUTH_SIGNED_MAX];
    size_t n = cv_net_auth_signed(a, peer_role(c), c->keys.th, signed_msg);
    if (cv_verify(&a->pub, signed_msg, n, &a->sig) != CV_OK)
        return chan_fail(c, CV_NET_R_SIGNATURE,
                         cv_fail(CV_EBADSIG, "peer's handshake signature does not verify"));
    return CV_OK;
}

/* The peer's auth record (the frame is opened in place): the initiator
 * answers with its own auth, the responder accepts with an empty record. */
static int on_auth(cv_net_chan *c, uint8_t *frame, size_t payload_len, cv_buf *out)
{
    cv_net_auth a;
    int rc = cv_net_record_open(c->params->suite, rx_key(c), &c->rx_counter, frame, payload_len);
    if (rc)
        return chan_fail(c, CV_NET_R_DECRYPT, rc);
    rc = cv_net_auth_decode(c->params->suite, frame + CV_NET_HEADER_LEN,
                            payload_len - CV_AEAD_TAG_LEN, &a);
    if (rc)
        return chan_fail(c, CV_NET_R_MALFORMED, rc);
    if ((rc = check_auth(c, &a)))
        return rc;
    static const uint8_t accept[1] = {0};
    rc = c->initiator ? append_auth(c, out) : append_record(c, accept, sizeof accept, out);
    if (rc)
        return chan_fail(c, CV_NET_R_CLOSED, rc);
    c->peer = a.pub;
    c->state = c->initiator ? CV_NET_CHAN_ACCEPT : CV_NET_CHAN_OPEN;
    return CV_OK;
}

/* The responder's accept: an empty record of type 0. */
static int on_accept(cv_net_chan *c, uint8_t *frame, size_t payload_len)
{
    int rc = cv_net_record_open(c->params->suite, rx_key(c), &c->rx_counter, frame, payload_len);
    if (rc)
        return chan_fail(c, CV_NET_R_DECRYPT, rc);
    if (payload_len != CV_NET_RECORD_MIN || frame[CV_NET_HEADER_LEN] != 0)
        return chan_fail(c, CV_NET_R_MALFORMED,
                         cv_fail(CV_EDECODE, "peer's first record is not an accept"));
    c->state = CV_NET_CHAN_OPEN;
    return CV_OK;
}

/* An application record: type byte and body. */
static int on_record(cv_net_chan *c, uint8_t *frame, size_t payload_len, cv_net_deliver_fn deliver,
                     void *ctx)
{
    int rc = cv_net_record_open(c->params->suite, rx_key(c), &c->rx_counter, frame, payload_len);
    if (rc)
        return chan_fail(c, CV_NET_R_DECRYPT, rc);
    const uint8_t *plain = frame + CV_NET_HEADER_LEN;
    deliver(ctx, plain[0], plain + 1, payload_len - CV_AEAD_TAG_LEN - 1);
    return CV_OK;
}

/* ---- framing ------------------------------------------------------------------------ */

/* Validates the header at p; sets *total to the frame's length. */
static int check_header(cv_net_chan *c, const uint8_t *p, size_t *total)
{
    size_t len, min = 1, max = CV_NET_HS_PAYLOAD_MAX;
    if (c->state == CV_NET_CHAN_AUTH || c->state == CV_NET_CHAN_ACCEPT)
        min = CV_NET_RECORD_MIN;
    else if (c->state == CV_NET_CHAN_OPEN) {
        min = CV_NET_RECORD_MIN;
        max = (size_t)c->params->max_msg + CV_NET_RECORD_MIN;
    }
    int rc = cv_net_frame_check(p, min, max, &len);
    if (rc)
        return chan_fail(c, rc == CV_EFULL ? CV_NET_R_TOO_LARGE : CV_NET_R_MALFORMED, rc);
    *total = CV_NET_HEADER_LEN + len;
    return CV_OK;
}

static int handle_frame(cv_net_chan *c, uint8_t *frame, size_t total, cv_buf *out,
                        cv_net_deliver_fn deliver, void *ctx)
{
    size_t payload_len = total - CV_NET_HEADER_LEN;
    switch (c->state) {
    case CV_NET_CHAN_HELLO: return on_hello(c, frame + CV_NET_HEADER_LEN, payload_len, out);
    case CV_NET_CHAN_AUTH: return on_auth(c, frame, payload_len, out);
    case CV_NET_CHAN_ACCEPT: return on_accept(c, frame, payload_len);
    case CV_NET_CHAN_OPEN: return on_record(c, frame, payload_len, deliver, ctx);
    case CV_NET_CHAN_FAILED: break;
    }
    return cv_fail(CV_ESTATE, "channel already failed");
}

/* Replaces the buffer by one of cap bytes holding the same unconsumed bytes. */
static int rx_resize(cv_net_chan *c, size_t cap)
{
    uint8_t *p = malloc(cap);
    if (!p)
        return cv_fail(CV_ENOMEM, "out of memory for a %zu-byte receive buffer", cap);
    if (c->rx) {
        memcpy(p, c->rx, c->rx_len);
        sodium_memzero(c->rx, c->rx_cap);
        free(c->rx);
    }
    c->rx = p;
    c->rx_cap = cap;
    return CV_OK;
}

int cv_net_chan_rx_space(cv_net_chan *c, uint8_t **p, size_t *n)
{
    int rc = CV_OK;
    if (!c->rx)
        rc = rx_resize(c, CV_NET_RX_BASE);
    else if (c->rx_len == c->rx_cap) {
        if (c->rx_need <= c->rx_cap)
            return cv_fail(CV_ESTATE, "receive buffer full without a pending frame");
        rc = rx_resize(c, c->rx_need / 2 < c->rx_cap ? c->rx_need : 2 * c->rx_cap);
    }
    if (rc)
        return rc;
    *p = c->rx + c->rx_len;
    *n = c->rx_cap - c->rx_len;
    return CV_OK;
}

void cv_net_chan_rx_commit(cv_net_chan *c, size_t n)
{
    c->rx_len += n;
}

int cv_net_chan_rx_trim(cv_net_chan *c)
{
    if (c->rx_cap > CV_NET_RX_BASE && c->rx_len <= CV_NET_RX_BASE && c->rx_need <= CV_NET_RX_BASE)
        return rx_resize(c, CV_NET_RX_BASE);
    return CV_OK;
}

int cv_net_chan_process(cv_net_chan *c, cv_buf *out, cv_net_deliver_fn deliver, void *ctx)
{
    size_t off = 0, total = 0;
    int rc = CV_OK;
    c->rx_need = 0;
    while (c->state != CV_NET_CHAN_FAILED && c->rx_len - off >= CV_NET_HEADER_LEN) {
        if ((rc = check_header(c, c->rx + off, &total)))
            break;
        if (c->rx_len - off < total) {
            c->rx_need = total;
            break;
        }
        cv_net_chan_state before = c->state;
        rc = handle_frame(c, c->rx + off, total, out, deliver, ctx);
        off += total;
        if (rc || (before != CV_NET_CHAN_OPEN && c->state == CV_NET_CHAN_OPEN))
            break;
    }
    memmove(c->rx, c->rx + off, c->rx_len - off);
    c->rx_len -= off;
    return rc;
}
