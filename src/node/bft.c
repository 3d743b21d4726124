/* bft.c: the node's BFT engine: drives the Tendermint state machine
 * (consensus/tendermint.h) with the network, the clock, the mempool and the
 * store, and keeps lagging nodes in step by block sync.
 *
 * Threads. The network thread (net/) only copies messages into two queues.
 * The engine thread owns the state machine: it pops consensus messages,
 * fires timers, builds proposals, checks proposed blocks (by executing them:
 * the engine's valid() callback), persists the engine's record before
 * anything it says is sent, commits decided blocks (logged, then stored by
 * the store writer thread while the next height runs: writer.c) and serves
 * and applies block sync. The admission thread verifies and admits transactions gossiped
 * by peers. Transactions submitted over RPC are admitted on RPC threads and
 * gossiped to every peer (the validators form a full mesh), so each
 * transaction's signature is verified once per node; a proposal's
 * transactions that this node admitted are not verified again.
 *
 * Messages between nodes (type, then a canonical encoding):
 *   1 PROPOSAL     the engine's proposal (with the block)
 *   2 VOTE         a prevote or precommit
 *   3 TXS          {1: list of encoded transactions}
 *   4 STATUS       {1: committed height}: sent on connect and after commits
 *   5 SYNC_REQ     {1: first height, 2: how many}
 *   6 SYNC_BLOCKS  {1: list of {1: encoded block, 2: commit certificate}} */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "codec/codec.h"
#include "consensus/tendermint.h"
#include "net/net.h"
#include "node/bft.h"
#include "node/internal.h"
#include "node/queue.h"
#include "node/sync_peers.h"

enum { MSG_PROPOSAL = 1, MSG_VOTE = 2, MSG_TXS = 3, MSG_STATUS = 4, MSG_SYNC_REQ = 5, MSG_SYNC_BLOCKS = 6 };

#define QUEUE_BYTES ((size_t)256 << 20)
#define TIMERS_MAX 32
#define CACHE_MAX 4
#define SYNC_BATCH 32
#define SYNC_BYTES_MAX ((size_t)8 << 20)
#define SYNC_RETRY_MS 3000
#define EMPTY_BLOCK_MS 1000 /* an idle proposer proposes an empty block after this */
#define GOSSIP_BATCH_MAX 10000

typedef struct {
    uint64_t deadline; /* CLOCK_MONOTONIC ms */
    cv_bft_timeout kind;
    uint64_t height;
    int32_t round;
} bft_timer;

struct cv_node_bft {
    cv_node *n;
    cv_bft *engine;
    const cv_valset *vs; /* the node's set of the next height */
    uint64_t sets_seq;   /* the node's sets_seq that the network's allowed set follows */
    cv_net *net;
    cv_msg_queue consensus_q, tx_q;
    pthread_t engine_thread, tx_thread;
    bft_timer timers[TIMERS_MAX];
    size_t ntimers;
    cv_node_block cache[CACHE_MAX]; /* blocks built or checked at this height */
    size_t ncache, cache_next;
    int proposing;        /* a GET_BLOCK is waiting for transactions */
    uint64_t propose_height;
    int32_t propose_round;
    cv_sync_peers sync;   /* peers' claimed heights */
    uint64_t sync_asked_at;
    char wal_path[1100], valid_path[1100];
};

/* ---- small helpers ------------------------------------------------------ */

/* Tells peers the height of this node's last stored block: the blocks it
 * can serve. */
static int send_status(cv_node_bft *b, const cv_pubkey *to)
{
    uint64_t height = cv_node_stored_height(b->n);
    cv_buf msg = {0};
    cv_enc e;
    cv_enc_init(&e, &msg);
    cv_enc_uint(&e, 1, height);
    int rc = cv_enc_finish(&e);
    if (!rc)
        rc = to ? cv_net_send(b->net, to, MSG_STATUS, msg.data, msg.len)
                : cv_net_broadcast(b->net, MSG_STATUS, msg.data, msg.len, NULL);
    cv_buf_free(&msg);
    return rc;
}

static void clear_cache(cv_node_bft *b)
{
    for (size_t i = 0; i < b->ncache; i++)
        cv_node_block_free(&b->cache[i]);
    b->ncache = b->cache_next = 0;
}

/* Keeps blk (taking it over) for the COMMIT of this height; when full, the
 * oldest kept block makes room. */
static void cache_block(cv_node_bft *b, cv_node_block *blk)
{
    size_t slot;
    if (b->ncache < CACHE_MAX) {
        slot = b->ncache++;
    } else {
        slot = b->cache_next;
        cv_node_block_free(&b->cache[slot]);
        b->cache_next = (slot + 1) % CACHE_MAX;
    }
    b->cache[slot] = *blk;
    memset(blk, 0, sizeof *blk);
}

static cv_node_block *cached(cv_node_bft *b, const uint8_t hash[CV_HASH_LEN])
{
    for (size_t i = 0; i < b->ncache; i++)
        if (memcmp(b->cache[i].hash, hash, CV_HASH_LEN) == 0)
            return &b->cache[i];
    return NULL;
}

/* The keys of the validators of the next two heights, the peers this node
 * accepts (at most 2 * CV_VALSET_MAX). */
static size_t validator_keys(const cv_node *n, cv_pubkey *keys)
{
    size_t k = 0;
    for (size_t i = 0; i < n->cur_set.n; i++)
        keys[k++] = n->cur_set.v[i].pub;
    for (size_t i = 0; i < n->next_set.n; i++)
        if (cv_valset_find_key(&n->cur_set, &n->next_set.v[i].pub) < 0)
            keys[k++] = n->next_set.v[i].pub;
    return k;
}

/* Follows a change of the validator sets in the network's allowed set. */
static int follow_validators(cv_node_bft *b)
{
    if (b->sets_seq == b->n->sets_seq)
        return CV_OK;
    cv_pubkey *keys = malloc(2 * CV_VALSET_MAX * sizeof *keys);
    if (!keys)
        return cv_fail(CV_ENOMEM, "out of memory following the validator set");
    int rc = cv_net_set_allowed(b->net, keys, validator_keys(b->n, keys));
    free(keys);
    if (!rc)
        b->sets_seq = b->n->sets_seq;
    return rc;
}

/* ---- engine callbacks -------------------------------------------------- */

static int sign_cb(void *ctx, const uint8_t *msg, size_t len, cv_sig *sig)
{
    cv_node_bft *b = ctx;
    return cv_sign(&b->n->key, msg, len, sig);
}

/* A proposed block is valid if it follows this node's last block and
 * executing it gives the roots its header claims. */
static int valid_cb(void *ctx, uint64_t height, const uint8_t hash[CV_HASH_LEN], const uint8_t *block, size_t len)
{
    cv_node_bft *b = ctx;
    if (cached(b, hash))
        return 1;
    cv_node_block blk;
    if (cv_node_check(b->n, block, len, &blk) != CV_OK) {
        cv_warn("proposal for block %llu refused: %s", (unsigned long long)height, cv_errmsg());
        return 0;
    }
    int ok = memcmp(blk.hash, hash, CV_HASH_LEN) == 0;
    if (ok)
        cache_block(b, &blk);
    else
        cv_node_block_free(&blk);
    return ok;
}

/* ---- outputs ---------------------------------------------------------------- */

/* The record, and the valid value when it changed (written first, so a
 * record never names a value that is not on disk). */
static int persist(cv_node_bft *b, const cv_bft_out *o)
{
    int rc = o->extra ? cv_file_write(b->valid_path, o->extra, o->extra_len, 0600, 0) : CV_OK;
    if (!rc)
        rc = cv_file_write(b->wal_path, o->bytes, o->len, 0600, 0);
    return rc ? cv_fail(rc, "cannot persist the consensus record: %s", cv_errmsg()) : CV_OK;
}

static void add_timer(cv_node_bft *b, const cv_bft_out *o)
{
    if (b->ntimers == TIMERS_MAX) /* drop the earliest: the engine ignores stale timers anyway */
        memmove(b->timers, b->timers + 1, --b->ntimers * sizeof *b->timers);
    b->timers[b->ntimers++] = (bft_timer){cv_node_mono_ms() + o->ms, o->timeout, o->height, o->round};
}

/* Commits the decided block: the one built or checked for this hash, or
 * else the bytes the engine holds, checked now. The store writer stores it
 * while the next height goes on (writer.c). */
static int commit_decided(cv_node_bft *b, const cv_bft_out *o)
{
    cv_node_block *blk = cached(b, o->hash), fresh;
    if (!blk) {
        int rc = cv_node_check(b->n, o->bytes, o->len, &fresh);
        if (rc)
            return cv_fail(rc, "the decided block %llu does not check: %s", (unsigned long long)o->height,
                           cv_errmsg());
        cache_block(b, &fresh);
        blk = cached(b, o->hash);
    }
    int rc = blk ? cv_node_commit_async(b->n, blk, o->extra, o->extra_len)
                 : cv_fail(CV_ESTATE, "decided block %llu is not the one checked", (unsigned long long)o->height);
    clear_cache(b);
    if (!rc)
        send_status(b, NULL);
    return rc;
}

/* Handles the outputs of the engine's last call, and of the next height's
 * start after a commit. An error means this node must stop. */
static int handle_outputs(cv_node_bft *b)
{
    for (;;) {
        size_t n;
        const cv_bft_out *out = cv_bft_outputs(b->engine, &n);
        uint64_t next_height = 0;
        for (size_t i = 0; i < n; i++) {
            const cv_bft_out *o = &out[i];
            int rc = CV_OK;
            switch (o->kind) {
            case CV_BFT_OUT_PERSIST: rc = persist(b, o); break;
            case CV_BFT_OUT_PROPOSAL: cv_net_broadcast(b->net, MSG_PROPOSAL, o->bytes, o->len, NULL); break;
            case CV_BFT_OUT_VOTE: cv_net_broadcast(b->net, MSG_VOTE, o->bytes, o->len, NULL); break;
            case CV_BFT_OUT_TIMEOUT: add_timer(b, o); break;
            case CV_BFT_OUT_GET_BLOCK:
                b->proposing = 1;
                b->propose_height = o->height;
                b->propose_round = o->round;
                break;
            case CV_BFT_OUT_COMMIT:
                rc = commit_decided(b, o);
                next_height = o->height + 1;
                break;
            case CV_BFT_OUT_EVIDENCE:
                cv_warn("validator %u signed two conflicting messages at height %llu round %d", o->validator,
                        (unsigned long long)o->height, o->round);
                break;
            }
            if (rc)
                return rc;
        }
        if (!next_height)
            return CV_OK;
        b->proposing = 0;
        int rc = follow_validators(b);
        if (!rc)
            rc = cv_bft_start(b->engine, next_height, b->vs);
        if (rc)
            return rc;
    }
}

/* Calls the engine with a message; a refused message is only counted. */
static int feed(cv_node_bft *b, int rc)
{
    if (rc == CV_OK)
        return handle_outputs(b);
    if (rc == CV_EDECODE || rc == CV_EPERM || rc == CV_EBADSIG || rc == CV_ESTATE || rc == CV_EEXIST)
        return CV_OK;
    return rc;
}

/* ---- proposing ----------------------------------------------------------------- */

static void read_block_params(cv_node *n, uint64_t *max_txs, uint64_t *interval_ms)
{
    if (cv_exec_param(&n->exec_src, "block_max_txs", max_txs) != CV_OK)
        *max_txs = cv_param_find("block_max_txs")->def;
    if (cv_exec_param(&n->exec_src, "block_interval_ms", interval_ms) != CV_OK)
        *interval_ms = cv_param_find("block_interval_ms")->def;
}

/* Proposes once a full block waits, or block_interval_ms has passed since
 * the last block's time with something waiting, or EMPTY_BLOCK_MS with
 * nothing. Counting from the last block's time, not from this height's
 * start, lets the time the last height took in consensus count towards the
 * interval: under load a proposal follows a commit at once. */
static int maybe_propose(cv_node_bft *b)
{
    uint64_t last_ms = b->n->decided.time_ms, max_txs, interval_ms, now = cv_node_now_ms();
    uint64_t waited = now > last_ms ? now - last_ms : 0;
    read_block_params(b->n, &max_txs, &interval_ms);
    size_t pending = cv_mempool_size(b->n->mempool);
    if (!(pending >= max_txs || (pending > 0 && waited >= interval_ms) || waited >= EMPTY_BLOCK_MS))
        return CV_OK;
    b->proposing = 0;
    cv_node_block blk;
    int rc = cv_node_build(b->n, max_txs, &blk);
    if (rc)
        return rc;
    uint8_t hash[CV_HASH_LEN];
    memcpy(hash, blk.hash, CV_HASH_LEN);
    cache_block(b, &blk);
    cv_node_block *kept = cached(b, hash);
    return feed(b, cv_bft_block_ready(b->engine, b->propose_height, b->propose_round, hash, kept->encoded.data,
                                      kept->encoded.len));
}

/* ---- block sync ------------------------------------------------------------------- */

/* Asks the next peer ahead of this node for blocks, at most every
 * SYNC_RETRY_MS unless an answer came (sync_peers.h: peers in turn, so a
 * peer that claims a height and serves nothing cannot stall the sync). */
static int ask_for_blocks(cv_node_bft *b)
{
    uint64_t height = b->n->decided.height, claimed;
    cv_pubkey peer;
    if (cv_node_mono_ms() - b->sync_asked_at < SYNC_RETRY_MS || !cv_sync_peers_pick(&b->sync, height, &peer, &claimed))
        return CV_OK;
    cv_buf msg = {0};
    cv_enc e;
    cv_enc_init(&e, &msg);
    cv_enc_uint(&e, 1, height + 1);
    cv_enc_uint(&e, 2, SYNC_BATCH);
    int rc = cv_enc_finish(&e);
    if (!rc && cv_net_send(b->net, &peer, MSG_SYNC_REQ, msg.data, msg.len) == CV_OK) {
        char who[CV_ADDR_STR_MAX];
        cv_address_string(&peer, who);
        b->sync_asked_at = cv_node_mono_ms();
        cv_info("sync: at block %llu, %s claims %llu: asking it for blocks from %llu", (unsigned long long)height,
                who, (unsigned long long)claimed, (unsigned long long)height + 1);
    }
    cv_buf_free(&msg);
    return rc;
}

static int on_status(cv_node_bft *b, const cv_msg *m)
{
    cv_dec d;
    uint64_t height;
    cv_dec_init(&d, m->body, m->len);
    cv_dec_uint(&d, 1, "height", &height);
    if (cv_dec_end(&d) != CV_OK)
        return CV_OK; /* malformed: ignored */
    cv_sync_peers_claim(&b->sync, &m->from, height);
    return ask_for_blocks(b);
}

/* Serves up to SYNC_BATCH blocks with their certificates, at most
 * SYNC_BYTES_MAX bytes. */
static int on_sync_request(cv_node_bft *b, const cv_msg *m)
{
    cv_dec d;
    uint64_t from, count, top;
    cv_dec_init(&d, m->body, m->len);
    cv_dec_uint(&d, 1, "from", &from);
    cv_dec_uint_max(&d, 2, "count", &count, SYNC_BATCH);
    if (cv_dec_end(&d) != CV_OK || cv_store_height(b->n->store, &top) != CV_OK || from == 0)
        return CV_OK;
    cv_buf reply = {0}, block = {0}, cert = {0};
    cv_enc e;
    cv_enc_init(&e, &reply);
    cv_enc_list_begin(&e, 1, CV_CODEC_MSG_LIST);
    for (uint64_t h = from; h <= top && h < from + count && reply.len < SYNC_BYTES_MAX; h++) {
        if (cv_store_block(b->n->store, h, &block) != CV_OK || cv_store_cert(b->n->store, h, &cert) != CV_OK)
            break;
        cv_enc_msg_begin(&e, CV_CODEC_ITEM);
        cv_enc_bytes(&e, 1, block.data, block.len);
        cv_enc_bytes(&e, 2, cert.data, cert.len);
        cv_enc_end(&e);
    }
    cv_enc_end(&e);
    if (cv_enc_finish(&e) == CV_OK)
        cv_net_send(b->net, &m->from, MSG_SYNC_BLOCKS, reply.data, reply.len);
    cv_buf_free(&reply);
    cv_buf_free(&block);
    cv_buf_free(&cert);
    return CV_OK;
}

static int on_sync_blocks(cv_node_bft *b, const cv_msg *m)
{
    cv_dec d, item;
    size_t n = 0, applied = 0;
    cv_dec_init(&d, m->body, m->len);
    int rc = cv_dec_list(&d, 1, "blocks", CV_CODEC_MSG_LIST, &n, SYNC_BATCH);
    for (size_t i = 0; i < n && !rc; i++) {
        const uint8_t *block, *cert;
        size_t len, cert_len;
        cv_dec_msg(&d, CV_CODEC_ITEM, NULL, &item, m->len);
        cv_dec_bytes(&item, 1, "block", &block, &len, m->len);
        cv_dec_bytes(&item, 2, "cert", &cert, &cert_len, m->len);
        if ((rc = cv_dec_end(&item)))
            break;
        if (cv_node_commit_certified(b->n, block, len, cert, cert_len) != CV_OK) {
            cv_warn("sync: synced block refused: %s", cv_errmsg());
            break;
        }
        applied++;
    }
    uint64_t height = b->n->decided.height;
    if (applied < n || n == 0) { /* it has nothing valid above height: ask another peer */
        cv_sync_peers_refute(&b->sync, &m->from, height);
        b->sync_asked_at = 0;
    }
    if (!applied)
        return ask_for_blocks(b);
    cv_info("sync: committed %zu blocks, now at %llu of %llu", applied, (unsigned long long)height,
            (unsigned long long)cv_sync_peers_best(&b->sync));
    clear_cache(b);
    b->proposing = 0;
    b->sync_asked_at = 0;
    if ((rc = follow_validators(b)) || (rc = cv_bft_start(b->engine, height + 1, b->vs)) ||
        (rc = handle_outputs(b)))
        return rc;
    send_status(b, NULL);
    return ask_for_blocks(b);
}

/* ---- the engine thread ----------------------------------------------------------- */

static int dispatch(cv_node_bft *b, const cv_msg *m)
{
    switch (m->type) {
    case MSG_PROPOSAL: return feed(b, cv_bft_on_proposal(b->engine, m->body, m->len));
    case MSG_VOTE: return feed(b, cv_bft_on_vote(b->engine, m->body, m->len));
    case MSG_STATUS: return on_status(b, m);
    case MSG_SYNC_REQ: return on_sync_request(b, m);
    case MSG_SYNC_BLOCKS: return on_sync_blocks(b, m);
    }
    return CV_OK; /* unknown types are ignored */
}

static int fire_timers(cv_node_bft *b)
{
    uint64_t now = cv_node_mono_ms();
    for (size_t i = 0; i < b->ntimers;) {
        if (b->timers[i].deadline > now) {
            i++;
            continue;
        }
        bft_timer t = b->timers[i];
        memmove(b->timers + i, b->timers + i + 1, (--b->ntimers - i) * sizeof *b->timers);
        int rc = feed(b, cv_bft_on_timeout(b->engine, t.kind, t.height, t.round));
        if (rc)
            return rc;
    }
    return CV_OK;
}

static uint64_t next_wakeup(const cv_node_bft *b)
{
    uint64_t now = cv_node_mono_ms(), at = now + (b->proposing ? 10 : 500);
    for (size_t i = 0; i < b->ntimers; i++)
        if (b->timers[i].deadline < at)
            at = b->timers[i].deadline;
    return at;
}

static void *engine_main(void *arg)
{
    cv_node_bft *b = arg;
    int rc = CV_OK;
    while (!rc && !atomic_load(&b->n->stopping)) {
        cv_msg *m = cv_msg_queue_pop(&b->consensus_q, next_wakeup(b));
        if (m) {
            rc = dispatch(b, m);
            free(m);
        }
        if (!rc)
            rc = fire_timers(b);
        if (!rc && b->proposing)
            rc = maybe_propose(b);
        if (!rc)
            rc = ask_for_blocks(b);
    }
    if (rc)
        cv_error("consensus stopped: %s", cv_errmsg());
    return NULL;
}

/* ---- gossip and admission ----------------------------------------------------------- */

static void *admission_main(void *arg)
{
    cv_node_bft *b = arg;
    cv_msg *m;
    while ((m = cv_msg_queue_pop(&b->tx_q, cv_node_mono_ms() + 1000)) || !atomic_load(&b->n->stopping)) {
        if (!m)
            continue;
        cv_dec d;
        size_t n = 0;
        cv_dec_init(&d, m->body, m->len);
        if (cv_dec_list(&d, 1, "txs", CV_CODEC_BYTES_LIST, &n, GOSSIP_BATCH_MAX) == CV_OK && n > 0) {
            const uint8_t **txs = calloc(n, sizeof *txs);
            size_t *lens = calloc(n, sizeof *lens);
            size_t k = 0;
            while (txs && lens && k < n && cv_dec_bytes(&d, CV_CODEC_ITEM, NULL, &txs[k], &lens[k], m->len) == CV_OK)
                k++;
            if (k == n && cv_dec_end(&d) == CV_OK)
                cv_node_admit(b->n, txs, lens, n, 0);
            free(txs);
            free(lens);
        }
        free(m);
    }
    return NULL;
}

/* Sends transactions admitted from RPC to every peer. */
void cv_node_bft_gossip(cv_node_bft *b, const uint8_t *const *txs, const size_t *lens, const int *ok, size_t count)
{
    cv_buf msg = {0};
    cv_enc e;
    size_t sent = 0;
    cv_enc_init(&e, &msg);
    cv_enc_list_begin(&e, 1, CV_CODEC_BYTES_LIST);
    for (size_t i = 0; i < count; i++)
        if (ok[i] == CV_OK) {
            cv_enc_bytes(&e, CV_CODEC_ITEM, txs[i], lens[i]);
            sent++;
        }
    cv_enc_end(&e);
    if (cv_enc_finish(&e) == CV_OK && sent > 0)
        cv_net_broadcast(b->net, MSG_TXS, msg.data, msg.len, NULL);
    cv_buf_free(&msg);
}

static void on_peer(void *ctx, const cv_pubkey *peer, int up)
{
    cv_node_bft *b = ctx;
    if (up)
        send_status(b, peer);
}

static void on_message(void *ctx, const cv_pubkey *from, uint8_t type, const uint8_t *body, size_t len)
{
    cv_node_bft *b = ctx;
    cv_msg_queue_push(type == MSG_TXS ? &b->tx_q : &b->consensus_q, type, from, body, len);
}

/* ---- start and stop ------------------------------------------------------------------- */

static int start_net(cv_node_bft *b)
{
    cv_node *n = b->n;
    cv_net_peer_config *peers = calloc(n->cfg.npeers ? n->cfg.npeers : 1, sizeof *peers);
    cv_pubkey *allowed = calloc(2 * CV_VALSET_MAX, sizeof *allowed);
    int rc = peers && allowed ? CV_OK : cv_fail(CV_ENOMEM, "out of memory starting the network");
    for (size_t i = 0; i < n->cfg.npeers && !rc; i++) {
        cv_buf raw = {0};
        snprintf(peers[i].addr, sizeof peers[i].addr, "%s", n->cfg.peers[i].addr);
        if (cv_hex_decode_buf(n->cfg.peers[i].public_key, &raw) ||
            cv_pubkey_parse(n->genesis.chain.suite, raw.data, raw.len, &peers[i].pub))
            rc = cv_fail(CV_EINVAL, "config: peers[%zu].public_key is not a %s key", i,
                         cv_suite_name(n->genesis.chain.suite));
        cv_buf_free(&raw);
    }
    size_t nallowed = validator_keys(n, allowed);
    b->sets_seq = n->sets_seq;
    if (!rc) {
        cv_net_config nc = {.chain = n->genesis.chain, .key = &n->key, .peers = peers, .npeers = n->cfg.npeers,
                            .allowed = allowed, .nallowed = nallowed,
                            .cb = {on_peer, on_message, b}};
        snprintf(nc.listen, sizeof nc.listen, "%s", n->cfg.p2p_listen);
        rc = cv_net_start(&nc, &b->net);
    }
    free(peers);
    free(allowed);
    return rc;
}

static int start_engine(cv_node_bft *b)
{
    cv_node *n = b->n;
    cv_bft_config cfg = {.suite = n->genesis.chain.suite, .self = n->key.pub, .propose_ms = 3000,
                         .prevote_ms = 1000, .precommit_ms = 1000, .delta_ms = 500, .gossip_ms = 2000,
                         .sign = sign_cb, .valid = valid_cb, .ctx = b};
    strcpy(cfg.chain_id, n->genesis.chain.chain_id);
    int rc = cv_bft_init(b->engine, &cfg);
    cv_buf record = {0}, valid = {0};
    if (!rc && cv_file_read(b->wal_path, 1 << 20, &record) == CV_OK) {
        int have_valid = cv_file_read(b->valid_path, CV_NET_MSG_DEFAULT, &valid) == CV_OK;
        rc = cv_bft_restore(b->engine, record.data, record.len, have_valid ? valid.data : NULL,
                            have_valid ? valid.len : 0);
        if (rc)
            rc = cv_fail(rc, "%s: %s", b->wal_path, cv_errmsg());
    }
    cv_buf_free(&record);
    cv_buf_free(&valid);
    if (!rc && !(rc = cv_bft_start(b->engine, n->decided.height + 1, b->vs)))
        rc = handle_outputs(b);
    return rc;
}

int cv_node_bft_start(cv_node *n, cv_node_bft **out)
{
    cv_node_bft *b = calloc(1, sizeof *b);
    if (!b || !(b->engine = calloc(1, sizeof *b->engine))) {
        free(b);
        return cv_fail(CV_ENOMEM, "out of memory starting consensus");
    }
    b->n = n;
    cv_sync_peers_init(&b->sync);
    cv_msg_queue_init(&b->consensus_q, QUEUE_BYTES);
    cv_msg_queue_init(&b->tx_q, QUEUE_BYTES);
    cv_node_data_path(n, "consensus.record", b->wal_path, sizeof b->wal_path);
    cv_node_data_path(n, "consensus.valid", b->valid_path, sizeof b->valid_path);
    b->vs = &n->cur_set;
    int rc = cv_node_writer_start(n);
    if (!rc) /* first: a restored engine may resend what it said before the restart */
        rc = start_net(b);
    if (!rc)
        rc = start_engine(b);
    if (!rc && pthread_create(&b->tx_thread, NULL, admission_main, b) != 0)
        rc = cv_fail(CV_ENOMEM, "cannot start the admission thread");
    if (!rc && pthread_create(&b->engine_thread, NULL, engine_main, b) != 0) {
        rc = cv_fail(CV_ENOMEM, "cannot start the consensus thread");
        cv_msg_queue_close(&b->tx_q);
        pthread_join(b->tx_thread, NULL);
    }
    if (rc) {
        if (b->net)
            cv_net_stop(b->net);
        cv_node_writer_stop(n);
        cv_bft_free(b->engine);
        free(b->engine);
        cv_msg_queue_destroy(&b->consensus_q);
        cv_msg_queue_destroy(&b->tx_q);
        free(b);
        return rc;
    }
    cv_info("consensus: BFT with %zu validators (total power %llu), p2p on %s:%u", b->vs->n,
            (unsigned long long)b->vs->total, n->cfg.p2p_listen, (unsigned)cv_net_port(b->net));
    *out = b;
    return CV_OK;
}

void cv_node_bft_stop(cv_node_bft *b)
{
    if (!b)
        return;
    cv_msg_queue_close(&b->consensus_q);
    cv_msg_queue_close(&b->tx_q);
    pthread_join(b->engine_thread, NULL);
    pthread_join(b->tx_thread, NULL);
    cv_node_writer_stop(b->n);
    cv_net_stop(b->net);
    clear_cache(b);
    cv_bft_free(b->engine);
    free(b->engine);
    cv_msg_queue_destroy(&b->consensus_q);
    cv_msg_queue_destroy(&b->tx_q);
    free(b);
}

uint64_t cv_node_bft_peers(cv_node_bft *b)
{
    cv_net_stats st;
    cv_net_get_stats(b->net, &st);
    return st.peers_up;
}
