/* fuzz_net_frame.c: libFuzzer target for the transport's decoders: frame
 * headers, hello and auth messages (net/wire.h) and the channel state
 * machine (net/chan.h) fed hostile bytes.
 *
 * The first input byte picks the suite (bit 0) and the mode (bits 1-2):
 *  0  the decoders on the rest: an accepted hello or auth re-encodes to
 *     exactly its input, a frame header is accepted only within its bounds;
 *  1  a responder channel fed the rest, in chunks whose sizes come from the
 *     second byte: it may only fail cleanly (state FAILED with a reason),
 *     never deliver a record, and its buffer stays within the frame limit;
 *  2  the same for an initiator channel (as if the peer answered garbage);
 *  3  two channels after a real in-memory handshake (made once at start;
 *     each run copies the open pair): the rest is a list of messages (type,
 *     length, body) sealed by one side and fed to the other in chunks:
 *     every message arrives intact and in order; then one byte of a last
 *     frame is flipped: it must be refused, never delivered.
 * Any violation aborts, which the fuzzer reports as a crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/suite.h"
#include "net/chan.h"
#include "net/net.h"
#include "net/wire.h"

#define MAX_MSG 4096

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) require((cond), #cond, __LINE__)

static void require(int ok, const char *what, int line)
{
    if (!ok) {
        fprintf(stderr, "fuzz_net_frame.c:%d: invariant violated: %s (last error: %s)\n", line, what,
                cv_errmsg());
        abort();
    }
}

static cv_keypair keys[2][2]; /* [suite][side] */
static cv_net_chan_params params[2][2];

static int allow_all(void *ctx, const cv_pubkey *peer)
{
    (void)ctx;
    (void)peer;
    return CV_OK;
}

/* ---- mode 0: the decoders ------------------------------------------------------ */

static void fuzz_decoders(cv_suite suite, const uint8_t *p, size_t n)
{
    uint8_t again[CV_NET_AUTH_MAX > CV_NET_HELLO_MAX ? CV_NET_AUTH_MAX : CV_NET_HELLO_MAX];
    cv_net_hello h;
    if (cv_net_hello_decode(suite, p, n, &h) == CV_OK)
        REQUIRE(cv_net_hello_encode(&h, again) == n && memcmp(again, p, n) == 0);
    cv_net_auth a;
    if (cv_net_auth_decode(suite, p, n, &a) == CV_OK)
        REQUIRE(cv_net_auth_encode(&a, again) == n && memcmp(again, p, n) == 0);
    if (n >= CV_NET_HEADER_LEN) {
        size_t len = 0, min = p[0] & 0x1f, max = 1000;
        int rc = cv_net_frame_check(p, min, max, &len);
        REQUIRE(rc == CV_OK ? len >= min && len <= max : rc == CV_EDECODE || rc == CV_EFULL);
    }
}

/* ---- modes 1 and 2: one channel against hostile bytes -------------------------------- */

typedef struct {
    size_t n;                /* records delivered */
    const uint8_t *types;    /* mode 3: the expected types and bodies, one after another */
    size_t ntypes;
    const uint8_t *want;
    size_t want_len, want_off;
} sink;

static void deliver(void *ctx, uint8_t type, const uint8_t *body, size_t len)
{
    sink *s = ctx;
    REQUIRE(s->n < s->ntypes); /* hostile bytes never make a record */
    REQUIRE(type == s->types[s->n] && len <= s->want_len - s->want_off &&
            (len == 0 || memcmp(body, s->want + s->want_off, len) == 0));
    s->want_off += len;
    s->n++;
}

/* Feeds p[n] in chunks of chunk % 64 + 1 bytes; stops at the first failure. */
static int feed(cv_net_chan *c, const uint8_t *p, size_t n, uint8_t chunk, cv_buf *out, sink *s)
{
    int rc = CV_OK;
    size_t step = (size_t)chunk % 64 + 1;
    while (rc == CV_OK && n > 0) {
        uint8_t *space;
        size_t room;
        REQUIRE(cv_net_chan_rx_space(c, &space, &room) == CV_OK && room > 0);
        size_t k = n < room ? n : room;
        k = k < step ? k : step;
        memcpy(space, p, k);
        cv_net_chan_rx_commit(c, k);
        p += k;
        n -= k;
        cv_net_chan_state before;
        do {
            before = c->state;
            rc = cv_net_chan_process(c, out, deliver, s);
        } while (rc == CV_OK && c->state != before);
        REQUIRE(c->rx_cap <= CV_NET_RX_BASE); /* frames here are all smaller */
    }
    if (rc)
        REQUIRE(c->state == CV_NET_CHAN_FAILED && c->reason > CV_NET_R_NONE && c->reason < CV_NET_R_COUNT);
    return rc;
}

static void fuzz_channel(int s, int initiator, const uint8_t *p, size_t n)
{
    cv_net_chan c;
    cv_buf out = {0};
    sink sk = {0};
    REQUIRE(cv_net_chan_init(&c, &params[s][initiator ? 0 : 1], initiator, allow_all, NULL, &out) == CV_OK);
    uint8_t chunk = n ? p[0] : 1;
    feed(&c, p + (n > 0), n - (n > 0), chunk, &out, &sk);
    REQUIRE(c.state != CV_NET_CHAN_OPEN);
    cv_net_chan_free(&c);
    cv_buf_free(&out);
}

/* ---- mode 3: an established pair ---------------------------------------------------- */

static void handshake(int s, cv_net_chan *ci, cv_net_chan *cr)
{
    cv_buf bi = {0}, br = {0};
    sink sk = {0};
    REQUIRE(cv_net_chan_init(ci, &params[s][0], 1, allow_all, NULL, &bi) == CV_OK);
    REQUIRE(cv_net_chan_init(cr, &params[s][1], 0, allow_all, NULL, &br) == CV_OK);
    REQUIRE(feed(cr, bi.data, bi.len, 63, &br, &sk) == CV_OK);
    cv_buf_reset(&bi);
    REQUIRE(feed(ci, br.data, br.len, 63, &bi, &sk) == CV_OK);
    cv_buf_reset(&br);
    REQUIRE(feed(cr, bi.data, bi.len, 63, &br, &sk) == CV_OK);
    REQUIRE(feed(ci, br.data, br.len, 63, &bi, &sk) == CV_OK);
    REQUIRE(ci->state == CV_NET_CHAN_OPEN && cr->state == CV_NET_CHAN_OPEN);
    cv_buf_free(&bi);
    cv_buf_free(&br);
}

/* Appends the sealed frame of type || body to frames. */
static void seal_into(cv_net_chan *c, uint8_t type, const uint8_t *body, size_t len, cv_buf *frames)
{
    size_t frame_len = cv_net_record_frame_len(1 + len);
    REQUIRE(cv_buf_reserve(frames, frame_len) == CV_OK);
    uint8_t *f = frames->data + frames->len;
    f[CV_NET_HEADER_LEN] = type;
    memcpy(f + CV_NET_HEADER_LEN + 1, body, len);
    REQUIRE(cv_net_record_seal(c->params->suite, cv_net_chan_tx_key(c), &c->tx_counter, f, 1 + len) == CV_OK);
    frames->len += frame_len;
}

/* An open pair per suite, made once; each run works on a copy with its own buffer. */
static cv_net_chan open_pair[2][2];

static cv_net_chan copy_open(const cv_net_chan *tmpl)
{
    cv_net_chan c = *tmpl;
    c.rx = NULL;
    c.rx_len = c.rx_cap = c.rx_need = 0;
    return c;
}

static void fuzz_pair(int s, const uint8_t *p, size_t n)
{
    cv_net_chan ci = copy_open(&open_pair[s][0]), cr = copy_open(&open_pair[s][1]);
    cv_buf frames = {0}, bodies = {0}, types = {0};
    uint8_t chunk = n ? p[0] : 1;
    size_t off = n > 0;
    /* Messages: type byte, length byte (scaled), body bytes from the input. */
    while (off + 2 <= n) {
        uint8_t type = p[off];
        size_t len = (size_t)p[off + 1] * 17 % (MAX_MSG + 1);
        off += 2;
        len = len < n - off ? len : n - off;
        seal_into(&ci, type, p + off, len, &frames);
        REQUIRE(cv_buf_append(&bodies, p + off, len) == CV_OK && cv_buf_append_byte(&types, type) == CV_OK);
        off += len;
    }
    sink sk = {0, types.data, types.len, bodies.data, bodies.len, 0};
    REQUIRE(feed(&cr, frames.data, frames.len, chunk, NULL, &sk) == CV_OK);
    REQUIRE(sk.n == types.len && sk.want_off == bodies.len);
    /* One flipped byte in one more frame: refused, nothing delivered. */
    cv_buf_reset(&frames);
    seal_into(&ci, 1, (const uint8_t *)"tail", 4, &frames);
    frames.data[(size_t)chunk * 7 % frames.len] ^= (uint8_t)(1u << (chunk % 8));
    REQUIRE(feed(&cr, frames.data, frames.len, chunk, NULL, &sk) != CV_OK || cr.rx_len > 0);
    REQUIRE(sk.n == types.len);
    cv_net_chan_free(&ci);
    cv_net_chan_free(&cr);
    cv_buf_free(&frames);
    cv_buf_free(&bodies);
    cv_buf_free(&types);
}

static void make_open_pairs(void)
{
    for (int s = 0; s < 2; s++) {
        handshake(s, &open_pair[s][0], &open_pair[s][1]);
        for (int side = 0; side < 2; side++) { /* empty after the handshake */
            cv_net_chan *c = &open_pair[s][side];
            REQUIRE(c->rx_len == 0);
            free(c->rx);
            c->rx = NULL;
            c->rx_cap = 0;
        }
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    REQUIRE(cv_crypto_init() == CV_OK);
    for (int s = 0; s < 2; s++)
        for (int side = 0; side < 2; side++) {
            uint8_t secret[CV_SECRET_LEN];
            memset(secret, 0x11 * (side + 1), sizeof secret);
            REQUIRE(cv_key_from_secret(s ? CV_SUITE_GM : CV_SUITE_STD, secret, &keys[s][side]) == CV_OK);
            cv_net_chan_params *p = &params[s][side];
            p->suite = keys[s][side].suite;
            strcpy(p->chain_id, "fuzz-chain");
            memset(p->genesis_hash, 0x5a, CV_HASH_LEN);
            p->key = &keys[s][side];
            p->max_msg = MAX_MSG;
        }
    make_open_pairs();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    int s = data[0] & 1;
    cv_suite suite = s ? CV_SUITE_GM : CV_SUITE_STD;
    switch ((data[0] >> 1) & 3) {
    case 0: fuzz_decoders(suite, data + 1, size - 1); break;
    case 1: fuzz_channel(s, 0, data + 1, size - 1); break;
    case 2: fuzz_channel(s, 1, data + 1, size - 1); break;
    default: fuzz_pair(s, data + 1, size - 1); break;
    }
    return 0;
}
