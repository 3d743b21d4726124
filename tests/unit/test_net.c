/* test_net.c: the peer-to-peer transport (net/net.h), for both suites.
 *
 * Without sockets (net/chan.h, net/wire.h): an in-memory handshake, records
 * both ways, tampered, replayed and oversized frames refused, and a
 * receive buffer that grows only with the bytes actually received.
 *
 * With cv_net instances on loopback in this process (ephemeral ports):
 *  - two nodes: handshake, messages both ways, in order;
 *  - four nodes that all dial each other: one session per pair, broadcast
 *    reaches all;
 *  - a key not in the allowed set refused inbound and outbound; a key
 *    removed from the set disconnected; another chain id or genesis refused;
 *  - raw TCP clients sending garbage, an oversized length prefix, a
 *    truncated handshake, a reflected or wrong-suite hello, a bad
 *    signature, too many pending handshakes: each disconnected and
 *    counted, while the node keeps serving its peer;
 *  - a client that completes the handshake and never reads: the sender's
 *    queue stays within its limit, sends are refused and counted, and the
 *    stalled peer is dropped;
 *  - a node stopped and restarted on its port: the other reconnects;
 *  - a message of exactly max_msg passes, one byte more is refused by the
 *    sender, and a frame over the receiver's limit closes the session.
 * Then a short throughput run of one channel (printed, not asserted);
 * `test_net bench` runs only a longer one.
 *
 * Waits poll with a 60-second deadline and never assert on timing. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "check.h"
#include "crypto/kx.h"
#include "net/chan.h"
#include "net/net.h"
#include "net/wire.h"

#define WAIT_MS 60000
#define T_BULK 7   /* message types used here */
#define T_SEQ 8
#define T_REPLY 9

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls cond every 2 ms until it holds or the deadline passes. */
#define WAIT(cond)                                                                 \
    do {                                                                           \
        double end_ = now_s() + WAIT_MS / 1000.0;                                  \
        while (!(cond) && now_s() < end_)                                          \
            sleep_ms(2);                                                           \
        if (!(cond))                                                               \
            fprintf(stderr, "%s:%d: timed out waiting for %s\n", __FILE__, __LINE__, #cond); \
        CHECK(cond);                                                               \
    } while (0)

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* ---- a test node ------------------------------------------------------------------- */

typedef struct {
    cv_net *net;
    cv_keypair key;
    cv_chain chain;
    cv_net_limits limits;
    _Atomic int ups, downs;
    _Atomic uint64_t msgs, bytes, seq_next, seq_bad, replies;
    _Atomic uint32_t last_sum;
    _Atomic size_t last_len;
} node;

static cv_chain test_chain(cv_suite suite, const char *id, const char *genesis)
{
    cv_chain c;
    memset(&c, 0, sizeof c);
    snprintf(c.chain_id, sizeof c.chain_id, "%s", id);
    c.suite = suite;
    CHECK_OK(cv_hash(suite, genesis, strlen(genesis), c.genesis_hash));
    return c;
}

static void on_peer(void *ctx, const cv_pubkey *peer, int up)
{
    node *n = ctx;
    atomic_fetch_add(up ? &n->ups : &n->downs, 1);
}

static void on_message(void *ctx, const cv_pubkey *from, uint8_t type, const uint8_t *body, size_t len)
{
    node *n = ctx;
    atomic_fetch_add(&n->bytes, len);
    atomic_store(&n->last_len, len);
    if (type == T_BULK)
        atomic_store(&n->last_sum, fnv1a(body, len));
    else if (type == T_SEQ) {
        uint64_t seq = 0;
        memcpy(&seq, body, len < 8 ? len : 8);
        if (seq != atomic_fetch_add(&n->seq_next, 1))
            atomic_fetch_add(&n->seq_bad, 1);
        if (seq == 0) /* a request: answer the sender */
            CHECK_OK(cv_net_send(n->net, from, T_REPLY, "pong", 4));
    } else if (type == T_REPLY)
        atomic_fetch_add(&n->replies, 1);
    atomic_fetch_add(&n->msgs, 1); /* last: a waiter then sees the fields above */
}

static void node_init(node *n, cv_suite suite)
{
    memset(n, 0, sizeof *n);
    CHECK_OK(cv_key_generate(suite, &n->key));
    n->chain = test_chain(suite, "net-test", "genesis");
}

/* Starts n listening on loopback (port 0: any) allowing the given nodes' keys. */
static int node_start(node *n, uint16_t port, node **allowed, size_t nallowed)
{
    cv_pubkey keys[8];
    cv_net_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.chain = n->chain;
    cfg.key = &n->key;
    snprintf(cfg.listen, sizeof cfg.listen, "127.0.0.1:%u", port);
    for (size_t i = 0; i < nallowed; i++)
        keys[i] = allowed[i]->key.pub;
    cfg.allowed = keys;
    cfg.nallowed = nallowed;
    cfg.limits = n->limits;
    cfg.cb = (cv_net_callbacks){on_peer, on_message, n};
    return cv_net_start(&cfg, &n->net);
}

static void node_dial(node *from, const node *to)
{
    cv_net_peer_config p;
    memset(&p, 0, sizeof p);
    snprintf(p.addr, sizeof p.addr, "127.0.0.1:%u", cv_net_port(to->net));
    p.pub = to->key.pub;
    CHECK_OK(cv_net_add_peer(from->net, &p));
}

static void node_stop(node *n)
{
    cv_net_stop(n->net);
    n->net = NULL;
}

static void node_free(node *n)
{
    if (n->net)
        node_stop(n);
    cv_key_wipe(&n->key);
}

static int peer_up(node *n, const node *peer)
{
    cv_net_peer_stats st;
    return cv_net_get_peer_stats(n->net, &peer->key.pub, &st) == CV_OK && st.up;
}

static cv_net_stats stats(node *n)
{
    cv_net_stats st;
    cv_net_get_stats(n->net, &st);
    return st;
}

/* Two started nodes, a allowing b and b allowing a, a dialing b, both up. */
static void pair_up(node *a, node *b)
{
    node *pa[1] = {b}, *pb[1] = {a};
    CHECK_OK(node_start(a, 0, pa, 1));
    CHECK_OK(node_start(b, 0, pb, 1));
    node_dial(a, b);
    WAIT(peer_up(a, b) && peer_up(b, a));
}

/* A message from a reaches b (a node still serves its peer). Sent again
 * every half second: one sent on a session about to be replaced is lost. */
static void check_serves(node *a, node *b)
{
    uint64_t before = atomic_load(&b->msgs);
    double end = now_s() + WAIT_MS / 1000.0;
    while (atomic_load(&b->msgs) == before && now_s() < end) {
        cv_net_send(a->net, &b->key.pub, T_BULK, "still here", 10);
        for (int i = 0; i < 250 && atomic_load(&b->msgs) == before; i++)
            sleep_ms(2);
    }
    CHECK(atomic_load(&b->msgs) > before);
}

/* ---- channels without sockets --------------------------------------------------------- */

typedef struct {
    int n;
    uint8_t type;
    uint8_t body[64];
    size_t len;
} sink;

static void sink_deliver(void *ctx, uint8_t type, const uint8_t *body, size_t len)
{
    sink *s = ctx;
    s->n++;
    s->type = type;
    s->len = len;
    memcpy(s->body, body, len < sizeof s->body ? len : sizeof s->body);
}

static int same_key(const cv_pubkey *a, const cv_pubkey *b)
{
    return a->suite == b->suite && a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

static int allow_all(void *ctx, const cv_pubkey *peer)
{
    return CV_OK;
}

/* Feeds bytes to c through its receive buffer, processing as it goes. */
static int feed(cv_net_chan *c, const uint8_t *p, size_t n, cv_buf *out, sink *s)
{
    int rc = CV_OK;
    while (rc == CV_OK && n > 0) {
        uint8_t *space;
        size_t room;
        if ((rc = cv_net_chan_rx_space(c, &space, &room)))
            break;
        size_t k = n < room ? n : room;
        memcpy(space, p, k);
        cv_net_chan_rx_commit(c, k);
        p += k;
        n -= k;
        cv_net_chan_state before;
        do {
            before = c->state;
            rc = cv_net_chan_process(c, out, sink_deliver, s);
        } while (rc == CV_OK && c->state != before);
    }
    return rc;
}

static void chan_params(cv_net_chan_params *p, const cv_keypair *key, uint32_t max_msg)
{
    memset(p, 0, sizeof *p);
    p->suite = key->suite;
    strcpy(p->chain_id, "chan-test");
    memset(p->genesis_hash, 7, CV_HASH_LEN);
    p->key = key;
    p->max_msg = max_msg;
}

/* A sealed record frame of type || body from c, in out. */
static void seal(cv_net_chan *c, uint8_t type, const void *body, size_t len, cv_buf *out)
{
    cv_buf_reset(out);
    CHECK_OK(cv_buf_reserve(out, cv_net_record_frame_len(1 + len)));
    out->data[CV_NET_HEADER_LEN] = type;
    memcpy(out->data + CV_NET_HEADER_LEN + 1, body, len);
    CHECK_OK(cv_net_record_seal(c->params->suite, cv_net_chan_tx_key(c), &c->tx_counter, out->data, 1 + len));
    out->len = cv_net_record_frame_len(1 + len);
}

/* A whole handshake between a new initiator and a new responder. */
static void chan_pair(cv_net_chan *ci, cv_net_chan *cr, const cv_net_chan_params *pi,
                      const cv_net_chan_params *pr)
{
    cv_buf bi = {0}, br = {0};
    sink s = {0};
    CHECK_OK(cv_net_chan_init(ci, pi, 1, allow_all, NULL, &bi));
    CHECK_OK(cv_net_chan_init(cr, pr, 0, allow_all, NULL, &br));
    CHECK_OK(feed(cr, bi.data, bi.len, &br, &s));
    cv_buf_reset(&bi);
    CHECK_OK(feed(ci, br.data, br.len, &bi, &s));
    cv_buf_reset(&br);
    CHECK_OK(feed(cr, bi.data, bi.len, &br, &s));
    CHECK_OK(feed(ci, br.data, br.len, &bi, &s));
    CHECK(ci->state == CV_NET_CHAN_OPEN && cr->state == CV_NET_CHAN_OPEN && s.n == 0);
    cv_buf_free(&bi);
    cv_buf_free(&br);
}

static void test_chan(cv_suite suite)
{
    cv_keypair ki, kr;
    cv_net_chan_params pi, pr;
    cv_net_chan ci, cr;
    cv_buf bi = {0}, br = {0}, frame = {0};
    sink si = {0}, sr = {0};
    CHECK_OK(cv_key_generate(suite, &ki));
    CHECK_OK(cv_key_generate(suite, &kr));
    chan_params(&pi, &ki, 1000);
    chan_params(&pr, &kr, 1000);
    CHECK_OK(cv_net_chan_init(&ci, &pi, 1, allow_all, NULL, &bi));
    CHECK_OK(cv_net_chan_init(&cr, &pr, 0, allow_all, NULL, &br));
    CHECK(bi.len == CV_NET_HEADER_LEN + 7 + cv_kx_pub_len(suite) && br.len == 0);
    /* hello_i; hello_r and auth_r back; auth_i; the responder's accept last. */
    CHECK_OK(feed(&cr, bi.data, bi.len, &br, &sr));
    cv_buf_reset(&bi);
    CHECK(cr.state == CV_NET_CHAN_AUTH && br.len > 0);
    for (size_t i = 0; i < br.len; i++) /* one byte at a time */
        CHECK_OK(feed(&ci, br.data + i, 1, &bi, &si));
    CHECK(ci.state == CV_NET_CHAN_ACCEPT && same_key(&ci.peer, &kr.pub));
    cv_buf_reset(&br);
    CHECK_OK(feed(&cr, bi.data, bi.len, &br, &sr));
    CHECK(cr.state == CV_NET_CHAN_OPEN && same_key(&cr.peer, &ki.pub));
    CHECK_OK(feed(&ci, br.data, br.len, &bi, &si));
    CHECK(ci.state == CV_NET_CHAN_OPEN && si.n == 0 && sr.n == 0);

    /* Records both ways, and an empty one. */
    seal(&ci, 5, "hello", 5, &frame);
    CHECK_OK(feed(&cr, frame.data, frame.len, NULL, &sr));
    CHECK(sr.n == 1 && sr.type == 5 && sr.len == 5 && memcmp(sr.body, "hello", 5) == 0);
    seal(&cr, 6, "", 0, &frame);
    CHECK_OK(feed(&ci, frame.data, frame.len, NULL, &si));
    CHECK(si.n == 1 && si.type == 6 && si.len == 0);
    /* Exactly max_msg passes; the receiver refuses one byte more. */
    uint8_t big[1001];
    memset(big, 0xab, sizeof big);
    seal(&ci, 5, big, 1000, &frame);
    CHECK_OK(feed(&cr, frame.data, frame.len, NULL, &sr));
    CHECK(sr.n == 2 && sr.len == 1000);

    /* A replayed record fails (the counter moved on), and the channel is dead. */
    CHECK_ERR(feed(&cr, frame.data, frame.len, NULL, &sr), CV_EBADSIG);
    CHECK(cr.state == CV_NET_CHAN_FAILED && cr.reason == CV_NET_R_DECRYPT && sr.n == 2);
    /* A flipped bit fails. */
    seal(&cr, 6, "abc", 3, &frame);
    frame.data[frame.len - 1] ^= 1;
    CHECK_ERR(feed(&ci, frame.data, frame.len, NULL, &si), CV_EBADSIG);
    CHECK(ci.reason == CV_NET_R_DECRYPT && si.n == 1);
    cv_net_chan_free(&ci);
    cv_net_chan_free(&cr);

    /* Over the limit: refused from the header alone. */
    chan_pair(&ci, &cr, &pi, &pr);
    seal(&ci, 5, big, 1001, &frame);
    CHECK_ERR(feed(&cr, frame.data, CV_NET_HEADER_LEN, NULL, &sr), CV_EFULL);
    CHECK(cr.reason == CV_NET_R_TOO_LARGE);
    cv_net_chan_free(&ci);
    cv_net_chan_free(&cr);

    /* The buffer grows with what arrives, not with what the header announces. */
    pi.max_msg = 8u << 20;
    pr.max_msg = 8u << 20;
    chan_pair(&ci, &cr, &pi, &pr);
    size_t huge = 6u << 20;
    uint8_t *blob = calloc(1, huge);
    CHECK(blob != NULL);
    seal(&ci, 5, blob, huge, &frame);
    size_t sent = 100000;
    CHECK_OK(feed(&cr, frame.data, sent, NULL, &sr));
    CHECK(cr.rx_cap <= 2 * sent + CV_NET_RX_BASE);
    CHECK_OK(feed(&cr, frame.data + sent, frame.len - sent, NULL, &sr));
    CHECK(sr.len == huge && cr.rx_cap >= huge); /* kept for the next large frame */
    CHECK_OK(cv_net_chan_rx_trim(&cr));
    CHECK(cr.rx_cap == CV_NET_RX_BASE);
    free(blob);
    cv_net_chan_free(&ci);
    cv_net_chan_free(&cr);

    cv_buf_free(&bi);
    cv_buf_free(&br);
    cv_buf_free(&frame);
    cv_key_wipe(&ki);
    cv_key_wipe(&kr);
}

/* ---- nodes on loopback ------------------------------------------------------------------ */

static void test_pair(cv_suite suite)
{
    node a, b;
    node_init(&a, suite);
    node_init(&b, suite);
    pair_up(&a, &b);
    /* The allowed set and the peer list may name the node itself: never dialed. */
    cv_pubkey both[2] = {a.key.pub, b.key.pub};
    CHECK_OK(cv_net_set_allowed(a.net, both, 2));
    node_dial(&a, &a);
    WAIT(atomic_load(&a.ups) == 1 && atomic_load(&b.ups) == 1); /* the callbacks follow */
    CHECK_OK(cv_net_send(a.net, &b.key.pub, T_BULK, "hello", 5));
    WAIT(atomic_load(&b.msgs) == 1);
    CHECK(atomic_load(&b.last_len) == 5 && atomic_load(&b.last_sum) == fnv1a((const uint8_t *)"hello", 5));
    CHECK_OK(cv_net_send(b.net, &a.key.pub, T_BULK, "world!", 6));
    WAIT(atomic_load(&a.msgs) == 1);
    /* In order; the first is a request that b answers from its callback. */
    for (uint64_t i = 0; i < 2000; i++) {
        int rc;
        while ((rc = cv_net_send(a.net, &b.key.pub, T_SEQ, &i, sizeof i)) == CV_EFULL)
            sleep_ms(1);
        CHECK_OK(rc);
    }
    WAIT(atomic_load(&b.seq_next) == 2000);
    CHECK(atomic_load(&b.seq_bad) == 0);
    WAIT(atomic_load(&a.replies) == 1);
    /* Refused locally. */
    CHECK_ERR(cv_net_send(a.net, &b.key.pub, 0, "x", 1), CV_EINVAL);
    CHECK_ERR(cv_net_send(a.net, &a.key.pub, T_BULK, "x", 1), CV_ENOTFOUND);
    cv_net_stats st = stats(&a);
    CHECK(st.peers_up == 1 && st.handshakes_ok == 1 && st.frames_out >= 2001 && st.bytes_in > 0);
    sleep_ms(500); /* five times the first dial's delay: a dial to itself would show by now */
    st = stats(&a);
    CHECK(st.dials == 1 && st.handshakes_failed[CV_NET_R_KEY] == 0);
    node_stop(&a);
    WAIT(atomic_load(&b.downs) == 1);
    CHECK(atomic_load(&a.downs) == 1); /* delivered by cv_net_stop */
    node_free(&a);
    node_free(&b);
}

/* Four nodes that all dial each other; type T_BULK bodies carry the sender's index. */
static node *mesh[4];
static _Atomic int mesh_seen[4];

static void on_mesh_message(void *ctx, const cv_pubkey *from, uint8_t type, const uint8_t *body,
                            size_t len)
{
    node *n = ctx;
    for (int i = 0; i < 4; i++)
        if (mesh[i] == n && len == 1 && body[0] < 4 && same_key(from, &mesh[body[0]]->key.pub))
            atomic_fetch_or(&mesh_seen[i], 1 << body[0]);
}

static int mesh_complete(void)
{
    for (int i = 0; i < 4; i++)
        if (atomic_load(&mesh_seen[i]) != (0xf & ~(1 << i)))
            return 0;
    return 1;
}

static int mesh_all_up(void)
{
    for (int i = 0; i < 4; i++)
        if (stats(mesh[i]).peers_up != 3)
            return 0;
    return 1;
}

static void test_four(cv_suite suite)
{
    node nodes[4];
    for (int i = 0; i < 4; i++) {
        node_init(&nodes[i], suite);
        mesh[i] = &nodes[i];
        atomic_store(&mesh_seen[i], 0);
    }
    for (int i = 0; i < 4; i++) {
        node *others[3];
        for (int j = 0, k = 0; j < 4; j++)
            if (j != i)
                others[k++] = &nodes[j];
        cv_pubkey keys[3];
        for (int k = 0; k < 3; k++)
            keys[k] = others[k]->key.pub;
        cv_net_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.chain = nodes[i].chain;
        cfg.key = &nodes[i].key;
        strcpy(cfg.listen, "127.0.0.1:0");
        cfg.allowed = keys;
        cfg.nallowed = 3;
        cfg.cb = (cv_net_callbacks){on_peer, on_mesh_message, &nodes[i]};
        CHECK_OK(cv_net_start(&cfg, &nodes[i].net));
    }
    for (int i = 0; i < 4; i++) /* everyone dials everyone: both directions race */
        for (int j = 0; j < 4; j++)
            if (i != j)
                node_dial(&nodes[i], &nodes[j]);
    WAIT(mesh_all_up());
    /* Each broadcast reaches the three others (repeated while the mesh
     * settles its duplicate connections). */
    double end = now_s() + WAIT_MS / 1000.0;
    while (!mesh_complete() && now_s() < end) {
        for (uint8_t i = 0; i < 4; i++) {
            size_t sent = 0;
            CHECK_OK(cv_net_broadcast(nodes[i].net, T_BULK, &i, 1, &sent));
            CHECK(sent <= 3);
        }
        sleep_ms(50);
    }
    CHECK(mesh_complete());
    WAIT(mesh_all_up());
    for (int i = 0; i < 4; i++) {
        cv_net_stats st = stats(&nodes[i]);
        CHECK(st.peers_up == 3 && st.handshakes_ok >= 3);
    }
    for (int i = 0; i < 4; i++)
        node_free(&nodes[i]);
}

static void test_refused(cv_suite suite)
{
    node a, b, c;
    node_init(&a, suite);
    node_init(&b, suite);
    node_init(&c, suite);
    a.limits.backoff_max_ms = 300;
    b.limits.backoff_max_ms = 300;
    node *pa[1] = {&b}, *pb[1] = {&a}, *pc[1] = {&a};
    CHECK_OK(node_start(&a, 0, pa, 1));
    CHECK_OK(node_start(&b, 0, pb, 1));
    CHECK_OK(node_start(&c, 0, pc, 1));
    /* Inbound: c is not in a's set. */
    node_dial(&c, &a);
    WAIT(stats(&a).handshakes_failed[CV_NET_R_KEY] >= 1);
    CHECK(!peer_up(&c, &a) && stats(&a).peers_up == 0);
    /* Outbound: a expects b's key at c's address. */
    cv_net_peer_config wrong;
    memset(&wrong, 0, sizeof wrong);
    snprintf(wrong.addr, sizeof wrong.addr, "127.0.0.1:%u", cv_net_port(c.net));
    wrong.pub = b.key.pub;
    CHECK_OK(cv_net_add_peer(a.net, &wrong));
    WAIT(stats(&a).handshakes_failed[CV_NET_R_KEY] >= 3);
    CHECK(stats(&a).peers_up == 0 && stats(&c).peers_up == 0);
    node_stop(&c);
    /* The right address for b: up. Then b leaves a's set: down, and b's
     * redials are refused until it is allowed again. */
    node_dial(&a, &b);
    node_dial(&b, &a);
    WAIT(peer_up(&a, &b) && peer_up(&b, &a));
    CHECK_OK(cv_net_set_allowed(a.net, NULL, 0));
    WAIT(stats(&a).disconnects[CV_NET_R_REMOVED] == 1);
    uint64_t refused = stats(&a).handshakes_failed[CV_NET_R_KEY];
    WAIT(stats(&a).handshakes_failed[CV_NET_R_KEY] > refused);
    CHECK(!peer_up(&a, &b));
    CHECK_OK(cv_net_set_allowed(a.net, &b.key.pub, 1));
    WAIT(peer_up(&a, &b) && peer_up(&b, &a));
    check_serves(&b, &a);
    node_free(&a);
    node_free(&b);
    node_free(&c);
}

static void test_chain_mismatch(cv_suite suite)
{
    node a, c, d;
    node_init(&a, suite);
    node_init(&c, suite);
    node_init(&d, suite);
    c.chain = test_chain(suite, "other-chain", "genesis");
    d.chain = test_chain(suite, "net-test", "another genesis");
    node *pa[2] = {&c, &d}, *pc[1] = {&a}, *pd[1] = {&a};
    CHECK_OK(node_start(&a, 0, pa, 2));
    CHECK_OK(node_start(&c, 0, pc, 1));
    CHECK_OK(node_start(&d, 0, pd, 1));
    node_dial(&c, &a); /* c, the initiator, sees a's auth first */
    node_dial(&a, &d); /* a, the initiator, sees d's */
    WAIT(stats(&c).handshakes_failed[CV_NET_R_CHAIN] >= 1);
    WAIT(stats(&a).handshakes_failed[CV_NET_R_CHAIN] >= 1);
    CHECK(stats(&a).peers_up == 0 && stats(&c).peers_up == 0 && stats(&d).peers_up == 0);
    node_free(&a);
    node_free(&c);
    node_free(&d);
}

/* ---- raw TCP clients ----------------------------------------------------------------------- */

static int raw_connect(const node *n)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cv_net_port(n->net));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    return fd;
}

static void raw_send(int fd, const void *p, size_t n)
{
    /* The node may close first; errors are expected then. */
    if (send(fd, p, n, MSG_NOSIGNAL) < 0)
        return;
}

/* Waits up to the deadline for data; reads into p. 0 on EOF, -1 on error or timeout. */
static long raw_recv(int fd, void *p, size_t n)
{
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, WAIT_MS) <= 0)
        return -1;
    return (long)recv(fd, p, n, 0);
}

/* 1 when the node closes the connection (EOF or reset) before the deadline. */
static int raw_closed(int fd)
{
    char buf[4096];
    long k;
    while ((k = raw_recv(fd, buf, sizeof buf)) > 0) {
    }
    close(fd);
    return k == 0 || (k < 0 && errno == ECONNRESET);
}

static int raw_read_all(int fd, uint8_t *p, size_t n)
{
    for (size_t got = 0; got < n;) {
        long k = raw_recv(fd, p + got, n - got);
        if (k <= 0)
            return 0;
        got += (size_t)k;
    }
    return 1;
}

/* Reads one frame into buf (header included); returns the payload length, 0 on failure. */
static size_t raw_frame(int fd, uint8_t *buf, size_t cap)
{
    if (!raw_read_all(fd, buf, CV_NET_HEADER_LEN))
        return 0;
    size_t len = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
    if (len == 0 || len > cap - CV_NET_HEADER_LEN || !raw_read_all(fd, buf + CV_NET_HEADER_LEN, len))
        return 0;
    return len;
}

static void put_frame_header(uint8_t *p, size_t len)
{
    p[0] = (uint8_t)(len >> 24);
    p[1] = (uint8_t)(len >> 16);
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
}

/* A hello frame in out with the given suite and role; returns its length. */
static size_t hello_frame(cv_suite suite, uint8_t role, const cv_kx_key *eph, uint8_t *out)
{
    cv_net_hello h = {suite, role, eph->pub_len, {0}};
    memcpy(h.eph, eph->pub, eph->pub_len);
    size_t n = cv_net_hello_encode(&h, out + CV_NET_HEADER_LEN);
    put_frame_header(out, n);
    return CV_NET_HEADER_LEN + n;
}

/* The initiator's side of the handshake, written from wire.h alone: the
 * node's hello and auth are checked, then ours is sent, its signature over
 * the transcript (good_sig; then the node's accept is read) or over other
 * bytes. Returns the socket. */
static int raw_handshake(const node *srv, const cv_keypair *id, int good_sig)
{
    cv_suite suite = id->suite;
    int fd = raw_connect(srv);
    cv_kx_key eph;
    uint8_t hi[4 + CV_NET_HELLO_MAX], hr[4 + CV_NET_HELLO_MAX], rec[512], shared[CV_KX_SHARED_LEN];
    CHECK_OK(cv_kx_keypair(suite, &eph));
    size_t hi_len = hello_frame(suite, CV_NET_ROLE_INIT, &eph, hi);
    raw_send(fd, hi, hi_len);
    size_t hr_len = raw_frame(fd, hr, sizeof hr), auth_len = raw_frame(fd, rec, sizeof rec);
    cv_net_hello h;
    CHECK(hr_len > 0 && auth_len > 0);
    CHECK_OK(cv_net_hello_decode(suite, hr + 4, hr_len, &h));
    CHECK_OK(cv_kx_shared(&eph, h.eph, h.eph_len, shared));
    cv_net_keys keys;
    CHECK_OK(cv_net_derive(suite, shared, hi + 4, hi_len - 4, hr + 4, hr_len, &keys));
    uint64_t rx = 0, tx = 0;
    cv_net_auth theirs, ours;
    CHECK_OK(cv_net_record_open(suite, keys.r2i, &rx, rec, auth_len));
    CHECK_OK(cv_net_auth_decode(suite, rec + 4, auth_len - CV_AEAD_TAG_LEN, &theirs));
    uint8_t msg[CV_NET_AUTH_SIGNED_MAX];
    size_t n = cv_net_auth_signed(&theirs, CV_NET_ROLE_RESP, keys.th, msg);
    CHECK(same_key(&theirs.pub, &srv->key.pub));
    CHECK_OK(cv_verify(&theirs.pub, msg, n, &theirs.sig));
    memset(&ours, 0, sizeof ours);
    ours.chain_id_len = (uint8_t)strlen(srv->chain.chain_id);
    memcpy(ours.chain_id, srv->chain.chain_id, ours.chain_id_len);
    memcpy(ours.genesis_hash, srv->chain.genesis_hash, CV_HASH_LEN);
    ours.pub = id->pub;
    n = cv_net_auth_signed(&ours, CV_NET_ROLE_INIT, keys.th, msg);
    CHECK_OK(cv_sign(id, msg, good_sig ? n : n - 1, &ours.sig));
    size_t len = cv_net_auth_encode(&ours, rec + 4);
    CHECK_OK(cv_net_record_seal(suite, keys.i2r, &tx, rec, len));
    raw_send(fd, rec, cv_net_record_frame_len(len));
    if (good_sig) { /* the accept: an empty record of type 0 */
        len = raw_frame(fd, rec, sizeof rec);
        CHECK(len == CV_NET_RECORD_MIN);
        CHECK_OK(cv_net_record_open(suite, keys.r2i, &rx, rec, len));
        CHECK(rec[4] == 0);
    }
    cv_kx_wipe(&eph);
    return fd;
}

static void test_hostile(cv_suite suite)
{
    node a, b;
    node_init(&a, suite);
    node_init(&b, suite);
    a.limits.handshake_timeout_ms = 1000;
    a.limits.max_pending_per_ip = 4;
    pair_up(&a, &b);
    cv_net_stats before = stats(&a);
    uint8_t buf[256];
    cv_kx_key eph;
    CHECK_OK(cv_kx_keypair(suite, &eph));

    /* Garbage: an HTTP request (its "length" is huge), a short random frame. */
    int fd = raw_connect(&a);
    raw_send(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
    CHECK(raw_closed(fd));
    fd = raw_connect(&a);
    put_frame_header(buf, 40);
    cv_random(buf + 4, 40);
    raw_send(fd, buf, 44);
    CHECK(raw_closed(fd));
    /* An oversized length prefix. */
    fd = raw_connect(&a);
    raw_send(fd, "\xff\xff\xff\xff", 4);
    CHECK(raw_closed(fd));
    /* A truncated hello, then silence (timeout) or a close. */
    size_t n = hello_frame(suite, CV_NET_ROLE_INIT, &eph, buf);
    fd = raw_connect(&a);
    raw_send(fd, buf, n / 2);
    CHECK(raw_closed(fd));
    fd = raw_connect(&a);
    raw_send(fd, buf, n / 2);
    close(fd);
    /* A hello claiming the responder's role; a hello of the other suite. */
    fd = raw_connect(&a);
    raw_send(fd, buf, hello_frame(suite, CV_NET_ROLE_RESP, &eph, buf));
    CHECK(raw_closed(fd));
    fd = raw_connect(&a);
    n = hello_frame(suite, CV_NET_ROLE_INIT, &eph, buf);
    buf[4 + 5] = suite == CV_SUITE_STD ? CV_SUITE_GM : CV_SUITE_STD;
    raw_send(fd, buf, n);
    CHECK(raw_closed(fd));
    /* A bad signature from an allowed key. */
    CHECK(raw_closed(raw_handshake(&a, &b.key, 0)));
    /* More pending handshakes from one IP than allowed. */
    int fds[5];
    for (int i = 0; i < 5; i++)
        fds[i] = raw_connect(&a);
    for (int i = 0; i < 5; i++)
        CHECK(raw_closed(fds[i]));

    WAIT(stats(&a).handshakes_failed[CV_NET_R_CLOSED] > before.handshakes_failed[CV_NET_R_CLOSED]);
    cv_net_stats after = stats(&a);
    CHECK(after.handshakes_failed[CV_NET_R_TOO_LARGE] == before.handshakes_failed[CV_NET_R_TOO_LARGE] + 2);
    CHECK(after.handshakes_failed[CV_NET_R_MALFORMED] == before.handshakes_failed[CV_NET_R_MALFORMED] + 2);
    CHECK(after.handshakes_failed[CV_NET_R_VERSION] == before.handshakes_failed[CV_NET_R_VERSION] + 1);
    CHECK(after.handshakes_failed[CV_NET_R_SIGNATURE] == before.handshakes_failed[CV_NET_R_SIGNATURE] + 1);
    CHECK(after.handshakes_failed[CV_NET_R_LIMIT] >= before.handshakes_failed[CV_NET_R_LIMIT] + 1);
    CHECK(after.handshakes_failed[CV_NET_R_TIMEOUT] >= before.handshakes_failed[CV_NET_R_TIMEOUT] + 1);
    CHECK(after.disconnects[CV_NET_R_CLOSED] == 0 && after.peers_up == 1);
    /* A good handshake by hand works (the format is what wire.h says). */
    fd = raw_handshake(&a, &b.key, 1);
    WAIT(stats(&a).disconnects[CV_NET_R_DUPLICATE] == 1 || stats(&a).handshakes_failed[CV_NET_R_DUPLICATE] == 1);
    close(fd);
    check_serves(&a, &b);
    check_serves(&b, &a);
    cv_kx_wipe(&eph);
    node_free(&a);
    node_free(&b);
}

/* A peer that completes the handshake and never reads. */
static void test_slow_reader(cv_suite suite)
{
    node a;
    cv_keypair r;
    node_init(&a, suite);
    CHECK_OK(cv_key_generate(suite, &r));
    a.limits.max_msg = 256u << 10;
    a.limits.send_queue_max = 1u << 20;
    a.limits.stall_timeout_ms = 8000; /* long enough to fill the queue first, even on a loaded machine */
    a.limits.idle_timeout_ms = 120000;
    node rn = {0};
    rn.key = r;
    node *pa[1] = {&rn};
    CHECK_OK(node_start(&a, 0, pa, 1));
    int fd = raw_handshake(&a, &r, 1);
    WAIT(stats(&a).peers_up == 1);
    /* Send until the peer is dropped: first the socket buffers fill, then
     * the queue; sends are refused while the queue is full. */
    static uint8_t chunk[64u << 10];
    uint64_t full = 0, over = 0, sent = 0;
    double end = now_s() + WAIT_MS / 1000.0;
    for (int rc = CV_OK; rc != CV_ENOTFOUND && now_s() < end;) {
        rc = cv_net_send(a.net, &r.pub, T_BULK, chunk, sizeof chunk);
        sent += rc == CV_OK;
        full += rc == CV_EFULL;
        if (rc == CV_EFULL)
            sleep_ms(1);
        cv_net_peer_stats ps;
        CHECK_OK(cv_net_get_peer_stats(a.net, &r.pub, &ps));
        over += ps.queued > a.limits.send_queue_max;
    }
    CHECK(full > 0 && over == 0);
    WAIT(stats(&a).disconnects[CV_NET_R_STALLED] == 1);
    cv_net_peer_stats ps;
    WAIT(cv_net_get_peer_stats(a.net, &r.pub, &ps) == CV_OK && !ps.up && ps.queued == 0);
    CHECK(ps.dropped >= full && ps.bytes_out < sent * sizeof chunk);
    close(fd);
    node_free(&a);
    cv_key_wipe(&r);
}

static void test_restart(cv_suite suite)
{
    node a, b;
    node_init(&a, suite);
    node_init(&b, suite);
    a.limits.backoff_max_ms = 1000;
    pair_up(&a, &b);
    uint16_t port = cv_net_port(b.net);
    node_stop(&b);
    WAIT(atomic_load(&a.downs) == 1);
    uint64_t dials = stats(&a).dials;
    WAIT(stats(&a).dials >= dials + 2); /* a keeps trying while b is away */
    node *pb[1] = {&a};
    CHECK_OK(node_start(&b, port, pb, 1));
    WAIT(peer_up(&a, &b) && peer_up(&b, &a));
    WAIT(atomic_load(&a.ups) == 2);
    check_serves(&a, &b);
    check_serves(&b, &a);
    node_free(&a);
    node_free(&b);
}

static void test_frame_limit(cv_suite suite)
{
    node a, b, c;
    node_init(&a, suite);
    node_init(&b, suite);
    node_init(&c, suite);
    a.limits.max_msg = b.limits.max_msg = 1u << 20;
    c.limits.max_msg = 2u << 20;
    pair_up(&a, &b);
    size_t max = 1u << 20;
    uint8_t *msg = malloc(max + 1);
    CHECK(msg != NULL);
    for (size_t i = 0; i <= max; i++)
        msg[i] = (uint8_t)(i * 7 + (i >> 11));
    CHECK_OK(cv_net_send(a.net, &b.key.pub, T_BULK, msg, max));
    WAIT(atomic_load(&b.msgs) == 1);
    CHECK(atomic_load(&b.last_len) == max && atomic_load(&b.last_sum) == fnv1a(msg, max));
    CHECK_ERR(cv_net_send(a.net, &b.key.pub, T_BULK, msg, max + 1), CV_EINVAL);
    /* c allows larger messages than b: b closes the session on such a frame. */
    cv_pubkey both[2] = {a.key.pub, c.key.pub};
    CHECK_OK(cv_net_set_allowed(b.net, both, 2));
    node *pc[1] = {&b};
    CHECK_OK(node_start(&c, 0, pc, 1));
    node_dial(&c, &b);
    WAIT(peer_up(&c, &b) && peer_up(&b, &c));
    CHECK_OK(cv_net_send(c.net, &b.key.pub, T_BULK, msg, max + 1));
    WAIT(stats(&b).disconnects[CV_NET_R_TOO_LARGE] == 1);
    CHECK(atomic_load(&b.msgs) == 1);
    check_serves(&a, &b);
    free(msg);
    node_free(&a);
    node_free(&b);
    node_free(&c);
}

/* ---- throughput ------------------------------------------------------------------------------- */

static void throughput(node *a, node *b, size_t size, uint64_t count)
{
    uint8_t *msg = calloc(1, size);
    CHECK(msg != NULL);
    uint64_t start = atomic_load(&b->msgs);
    double t0 = now_s();
    for (uint64_t i = 0; i < count; i++) {
        int rc;
        while ((rc = cv_net_send(a->net, &b->key.pub, T_REPLY, msg, size)) == CV_EFULL)
            sleep_ms(1);
        CHECK_OK(rc);
    }
    WAIT(atomic_load(&b->msgs) == start + count);
    double dt = now_s() - t0;
    fprintf(stderr, "net throughput %s: %7zu-byte messages: %9.0f frames/s %8.1f MB/s (%llu in %.2f s)\n",
            cv_suite_name(a->key.suite), size, (double)count / dt, (double)count * (double)size / dt / 1e6,
            (unsigned long long)count, dt);
    free(msg);
}

static void test_throughput(cv_suite suite, uint64_t small, uint64_t big)
{
    node a, b;
    node_init(&a, suite);
    node_init(&b, suite);
    pair_up(&a, &b);
    throughput(&a, &b, 1024, small);
    throughput(&a, &b, 1u << 20, big);
    node_free(&a);
    node_free(&b);
}

int main(int argc, char **argv)
{
    static const cv_suite suites[2] = {CV_SUITE_STD, CV_SUITE_GM};
    CHECK_OK(cv_crypto_init());
    if (argc > 1 && strcmp(argv[1], "bench") == 0) {
        cv_log_set_level(CV_LOG_WARN);
        for (int s = 0; s < 2; s++)
            test_throughput(suites[s], 200000, suites[s] == CV_SUITE_STD ? 2000 : 200);
    } else
        for (int s = 0; s < 2; s++) {
            cv_suite suite = suites[s];
            test_chan(suite);
            test_pair(suite);
            test_four(suite);
            test_refused(suite);
            test_chain_mismatch(suite);
            test_hostile(suite);
            test_slow_reader(suite);
            test_restart(suite);
            test_frame_limit(suite);
            test_throughput(suite, 2000, 4);
        }
    cv_crypto_cleanup();
    return check_done();
}
