/* sim_node.c: a simulated node around a Tendermint engine.
 *
 * It does what the real node must do with the engine's outputs: writes the
 * record before anything else of the batch (PERSIST), broadcasts proposals
 * and votes, runs timers on the simulated clock, builds blocks of the toy
 * application when asked, and commits decided blocks with their
 * certificates, then starts the next height. It keeps the record and the
 * committed blocks across crashes (its "disk"), and nothing else. Behind
 * peers catch up by block sync: every node announces its height, and a
 * peer that is ahead sends the next blocks with their certificates, which
 * the behind node checks before committing.
 *
 * The toy application's block is {1: height, 2: proposer, 3: 16 random
 * bytes, 4: valid (1) or not (0)}; its id is its SHA-256 hash. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "sim.h"

#define SYNC_BATCH 32 /* blocks sent per status heard from a behind peer */

/* ---- the toy application ----------------------------------------------------------- */

int sim_block_make(sim_world *w, uint64_t height, int proposer, int valid, cv_buf *out, uint8_t hash[CV_HASH_LEN])
{
    uint8_t noise[16];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (uint8_t)sim_rand(&w->rng);
    cv_enc e;
    cv_buf_reset(out);
    cv_enc_init(&e, out);
    cv_enc_uint(&e, 1, height);
    cv_enc_uint(&e, 2, (uint64_t)proposer);
    cv_enc_bytes(&e, 3, noise, sizeof noise);
    cv_enc_uint(&e, 4, (uint64_t)valid);
    int rc = cv_enc_finish(&e);
    return rc ? rc : cv_hash(CV_SUITE_STD, out->data, out->len, hash);
}

int sim_block_valid(void *ctx, uint64_t height, const uint8_t hash[CV_HASH_LEN], const uint8_t *block, size_t len)
{
    cv_dec d;
    uint64_t h = 0, proposer = 0, valid = 0;
    const uint8_t *noise;
    size_t n;
    uint8_t id[CV_HASH_LEN];
    cv_dec_init(&d, block, len);
    cv_dec_uint(&d, 1, "height", &h);
    cv_dec_uint_max(&d, 2, "proposer", &proposer, SIM_MAX_NODES - 1);
    cv_dec_bytes(&d, 3, "noise", &noise, &n, 16);
    cv_dec_uint_max(&d, 4, "valid", &valid, 1);
    return cv_dec_end(&d) == CV_OK && h == height && valid == 1 &&
           cv_hash(CV_SUITE_STD, block, len, id) == CV_OK && memcmp(id, hash, CV_HASH_LEN) == 0;
}

int sim_sign(void *ctx, const uint8_t *msg, size_t len, cv_sig *sig)
{
    const sim_node *nd = ctx;
    return cv_sign(&nd->key, msg, len, sig);
}

/* ---- invariants checked as things happen --------------------------------------------- */

/* An honest validator never signs two different proposals or votes for one
 * (height, round, kind): checked on everything it sends, across restarts. */
static void check_signed(sim_world *w, sim_node *nd, uint64_t height, int32_t round, int type, int nil,
                         const uint8_t *hash)
{
    size_t n = nd->nsigned < SIM_SIGNED_RING ? nd->nsigned : SIM_SIGNED_RING;
    for (size_t i = 0; i < n; i++) {
        const sim_signed *s = &nd->signed_ring[i];
        if (s->height != height || s->round != round || s->type != type)
            continue;
        if (s->nil != nil || (!nil && memcmp(s->hash, hash, CV_HASH_LEN) != 0))
            sim_fail(w, 1, "honest validator %d signed two different %s at height %llu round %d", nd->id,
                     type == 0 ? "proposals" : type == CV_VOTE_PREVOTE ? "prevotes" : "precommits",
                     (unsigned long long)height, (int)round);
        return;
    }
    sim_signed *s = &nd->signed_ring[nd->nsigned++ % SIM_SIGNED_RING];
    *s = (sim_signed){.height = height, .round = round, .type = type, .nil = nil};
    if (!nil)
        memcpy(s->hash, hash, CV_HASH_LEN);
}

static void check_outgoing(sim_world *w, sim_node *nd, cv_bft_out_kind kind, const uint8_t *p, size_t len)
{
    if (kind == CV_BFT_OUT_VOTE) {
        cv_vote v;
        if (cv_vote_decode(CV_SUITE_STD, p, len, &v) != CV_OK) {
            sim_fail(w, 0, "node %d's engine sent an undecodable vote: %s", nd->id, cv_errmsg());
            return;
        }
        sim_log(w, "node %d sends %s of %u h %llu r %d %02x%02x", nd->id,
                v.type == CV_VOTE_PREVOTE ? "prevote" : "precommit", v.validator, (unsigned long long)v.height,
                (int)v.round, v.nil ? 0 : v.hash[0], v.nil ? 0 : v.hash[1]);
        if (v.validator == (uint32_t)nd->id)
            check_signed(w, nd, v.height, v.round, v.type, v.nil, v.hash);
        return;
    }
    cv_vote_proposal pr;
    if (cv_vote_proposal_decode(CV_SUITE_STD, p, len, &pr) != CV_OK) {
        sim_fail(w, 0, "node %d's engine sent an undecodable proposal: %s", nd->id, cv_errmsg());
        return;
    }
    sim_log(w, "node %d sends proposal h %llu r %d pol %d %02x%02x", nd->id, (unsigned long long)pr.height,
            (int)pr.round, (int)pr.pol_round, pr.hash[0], pr.hash[1]);
    check_signed(w, nd, pr.height, pr.round, 0, 0, pr.hash);
}

/* Validity and agreement of a block a node commits at its next height. */
static int check_commit(sim_world *w, sim_node *nd, uint64_t height, const uint8_t *block, size_t len,
                        const uint8_t *cert, size_t cert_len, uint8_t hash[CV_HASH_LEN])
{
    if (cv_hash(CV_SUITE_STD, block, len, hash) != CV_OK)
        return sim_fail(w, 0, "hashing failed");
    if (!sim_block_valid(NULL, height, hash, block, len))
        return sim_fail(w, 1, "node %d committed an invalid block at height %llu", nd->id,
                        (unsigned long long)height);
    if (cv_cert_verify(CV_SUITE_STD, SIM_CHAIN, w->vs, height, hash, cert, cert_len) != CV_OK)
        return sim_fail(w, 1, "node %d committed block %llu with a bad certificate: %s", nd->id,
                        (unsigned long long)height, cv_errmsg());
    if (nd->byz)
        return 0;
    if (height <= w->nagreed) {
        if (memcmp(w->agreed[height - 1], hash, CV_HASH_LEN) != 0)
            return sim_fail(w, 1, "agreement violated: node %d committed a different block at height %llu", nd->id,
                            (unsigned long long)height);
        return 0;
    }
    if (height != w->nagreed + 1)
        return sim_fail(w, 0, "node %d committed height %llu before %llu", nd->id, (unsigned long long)height,
                        (unsigned long long)w->nagreed + 1);
    if (w->nagreed == w->agreed_cap) {
        uint64_t cap = w->agreed_cap ? 2 * w->agreed_cap : 64;
        uint8_t(*grown)[CV_HASH_LEN] = realloc(w->agreed, cap * sizeof *grown);
        if (!grown)
            return sim_fail(w, 0, "out of memory");
        w->agreed = grown;
        w->agreed_cap = cap;
    }
    memcpy(w->agreed[w->nagreed++], hash, CV_HASH_LEN);
    return 0;
}

/* ---- committing --------------------------------------------------------------------- */

static int store_block(sim_world *w, sim_node *nd, const uint8_t *block, size_t len, const uint8_t *cert,
                       size_t cert_len)
{
    if (nd->height == nd->cap) {
        size_t cap = nd->cap ? 2 * nd->cap : 64;
        cv_buf *b = realloc(nd->blocks, cap * sizeof *b), *c = b ? realloc(nd->certs, cap * sizeof *c) : NULL;
        if (b)
            nd->blocks = b;
        if (!b || !c)
            return sim_fail(w, 0, "out of memory");
        nd->certs = c;
        memset(nd->blocks + nd->cap, 0, (cap - nd->cap) * sizeof *b);
        memset(nd->certs + nd->cap, 0, (cap - nd->cap) * sizeof *c);
        nd->cap = cap;
    }
    if (cv_buf_append(&nd->blocks[nd->height], block, len) || cv_buf_append(&nd->certs[nd->height], cert, cert_len))
        return sim_fail(w, 0, "out of memory");
    nd->height++;
    w->commits++;
    return 0;
}

static void handle_outputs(sim_world *w, sim_node *nd);

/* Commits the next block and starts the engine on the height after it. */
static void commit(sim_world *w, sim_node *nd, uint64_t height, const uint8_t *block, size_t len, const uint8_t *cert,
                   size_t cert_len, const char *how)
{
    uint8_t hash[CV_HASH_LEN];
    if (height != nd->height + 1) {
        sim_fail(w, 0, "node %d: commit of height %llu at height %llu", nd->id, (unsigned long long)height,
                 (unsigned long long)nd->height);
        return;
    }
    if (check_commit(w, nd, height, block, len, cert, cert_len, hash) || store_block(w, nd, block, len, cert, cert_len))
        return;
    sim_log(w, "node %d commits height %llu (%02x%02x%02x%02x, %s)", nd->id, (unsigned long long)height, hash[0],
            hash[1], hash[2], hash[3], how);
    if (cv_bft_start(nd->bft, height + 1, w->vs) != CV_OK) {
        sim_fail(w, 0, "node %d cannot start height %llu: %s", nd->id, (unsigned long long)height + 1, cv_errmsg());
        return;
    }
    handle_outputs(w, nd);
}

/* ---- the engine's outputs -------------------------------------------------------------- */

typedef struct {
    cv_bft_out o;
    cv_buf bytes, extra;
} saved_out;

/* Copies a batch: the engine's outputs live only until its next call. */
static saved_out *save_batch(sim_world *w, const cv_bft *b, size_t *n)
{
    const cv_bft_out *o = cv_bft_outputs(b, n);
    saved_out *s = calloc(*n ? *n : 1, sizeof *s);
    if (!s) {
        sim_fail(w, 0, "out of memory");
        *n = 0;
        return NULL;
    }
    for (size_t i = 0; i < *n; i++) {
        s[i].o = o[i];
        if (cv_buf_append(&s[i].bytes, o[i].bytes, o[i].len) || cv_buf_append(&s[i].extra, o[i].extra, o[i].extra_len))
            sim_fail(w, 0, "out of memory");
    }
    return s;
}

static void free_batch(saved_out *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cv_buf_free(&s[i].bytes);
        cv_buf_free(&s[i].extra);
    }
    free(s);
}

static void schedule_timer(sim_world *w, sim_node *nd, const cv_bft_out *o)
{
    sim_push(w, (sim_event){.time = w->now + o->ms, .kind = EV_TIMER, .node = nd->id, .epoch = nd->epoch,
                            .timeout = o->timeout, .height = o->height, .round = o->round});
}

static void do_output(sim_world *w, sim_node *nd, const saved_out *s)
{
    const cv_bft_out *o = &s->o;
    switch (o->kind) {
    case CV_BFT_OUT_PERSIST:
        if (nd->byz || !w->mutate_amnesia) {
            cv_buf_reset(&nd->record);
            if (cv_buf_append(&nd->record, s->bytes.data, s->bytes.len))
                sim_fail(w, 0, "out of memory");
            if (s->extra.len) { /* the valid value changed */
                cv_buf_reset(&nd->valid);
                if (cv_buf_append(&nd->valid, s->extra.data, s->extra.len))
                    sim_fail(w, 0, "out of memory");
            }
        }
        break;
    case CV_BFT_OUT_PROPOSAL:
    case CV_BFT_OUT_VOTE:
        if (nd->byz) {
            sim_byz_send(w, nd, o->kind, s->bytes.data, s->bytes.len);
            break;
        }
        check_outgoing(w, nd, o->kind, s->bytes.data, s->bytes.len);
        sim_broadcast(w, nd->id, o->kind == CV_BFT_OUT_VOTE ? MSG_VOTE : MSG_PROPOSAL, s->bytes.data, s->bytes.len);
        break;
    case CV_BFT_OUT_TIMEOUT:
        schedule_timer(w, nd, o);
        break;
    case CV_BFT_OUT_GET_BLOCK:
        sim_push(w, (sim_event){.time = w->now + sim_below(&w->rng, 40), .kind = EV_BLOCK, .node = nd->id,
                                .epoch = nd->epoch, .height = o->height, .round = o->round});
        break;
    case CV_BFT_OUT_COMMIT:
        commit(w, nd, o->height, s->bytes.data, s->bytes.len, s->extra.data, s->extra.len, "consensus");
        break;
    case CV_BFT_OUT_EVIDENCE:
        if (!w->nodes[o->validator].byz)
            sim_fail(w, 1, "node %d has evidence that honest validator %u equivocated at height %llu round %d",
                     nd->id, o->validator, (unsigned long long)o->height, (int)o->round);
        break;
    }
}

/* Handles the engine's last outputs in order; a crash armed for this node
 * strikes part-way through. */
static void handle_outputs(sim_world *w, sim_node *nd)
{
    size_t n;
    uint32_t epoch = nd->epoch;
    saved_out *s = save_batch(w, nd->bft, &n);
    for (size_t i = 0; i < n && nd->alive && nd->epoch == epoch && !w->failure[0]; i++) {
        if (nd->crash_after >= 0 && nd->crash_after-- == 0) {
            sim_log(w, "node %d crashes in the middle of a batch (before output %zu of %zu)", nd->id, i, n);
            sim_node_crash(w, nd);
            break;
        }
        do_output(w, nd, &s[i]);
    }
    free_batch(s, n);
}

static int is_drop(int rc)
{
    return rc == CV_EDECODE || rc == CV_EPERM || rc == CV_EBADSIG || rc == CV_ESTATE || rc == CV_EEXIST;
}

/* Runs an engine call's result: a drop is fine, anything else is a bug. */
static void after_call(sim_world *w, sim_node *nd, int rc, const char *what)
{
    if (rc != CV_OK && !is_drop(rc)) {
        sim_fail(w, 0, "node %d: %s failed: %s", nd->id, what, cv_errmsg());
        return;
    }
    if (rc != CV_OK)
        sim_log(w, "node %d drops a message: %s", nd->id, cv_errmsg());
    handle_outputs(w, nd);
}

/* ---- block sync ------------------------------------------------------------------------ */

static void send_status(sim_world *w, sim_node *nd)
{
    uint8_t h[8];
    for (int i = 0; i < 8; i++)
        h[i] = (uint8_t)(nd->height >> (8 * i));
    sim_broadcast(w, nd->id, MSG_STATUS, h, sizeof h);
    sim_push(w, (sim_event){.time = w->now + w->status_ms, .kind = EV_STATUS, .node = nd->id, .epoch = nd->epoch});
}

int sim_sync_encode(cv_buf *out, uint64_t first, const cv_buf *blocks, const cv_buf *certs, size_t n)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_list_begin(&e, 1, CV_CODEC_MSG_LIST);
    for (size_t i = 0; i < n; i++) {
        cv_enc_msg_begin(&e, CV_CODEC_ITEM);
        cv_enc_uint(&e, 1, first + i);
        cv_enc_bytes(&e, 2, blocks[i].data, blocks[i].len);
        cv_enc_bytes(&e, 3, certs[i].data, certs[i].len);
        cv_enc_end(&e);
    }
    cv_enc_end(&e);
    return cv_enc_finish(&e);
}

static void send_blocks(sim_world *w, sim_node *nd, int to, uint64_t peer_height)
{
    cv_buf msg = {0};
    size_t n = nd->height - peer_height < SYNC_BATCH ? nd->height - peer_height : SYNC_BATCH;
    if (sim_sync_encode(&msg, peer_height + 1, nd->blocks + peer_height, nd->certs + peer_height, n) == CV_OK)
        sim_send(w, nd->id, to, MSG_SYNC, msg.data, msg.len);
    cv_buf_free(&msg);
}

static void on_status(sim_world *w, sim_node *nd, int from, const uint8_t *p, size_t len)
{
    uint64_t h = 0;
    if (len != 8)
        return;
    for (int i = 0; i < 8; i++)
        h |= (uint64_t)p[i] << (8 * i);
    if (h < nd->height)
        send_blocks(w, nd, from, h);
}

/* One certified block of a sync message: if it is the next height's, it is
 * checked like a commit, and the engine moves on (abandoning the height it
 * was deciding). 0 to go on with the next block, -1 to stop. */
static int synced_block(sim_world *w, sim_node *nd, int from, cv_dec *d)
{
    cv_dec item;
    uint64_t h = 0;
    const uint8_t *block, *cert;
    size_t block_len, cert_len;
    uint8_t hash[CV_HASH_LEN];
    cv_dec_msg(d, CV_CODEC_ITEM, NULL, &item, SIZE_MAX);
    cv_dec_uint(&item, 1, "height", &h);
    cv_dec_bytes(&item, 2, "block", &block, &block_len, SIZE_MAX);
    cv_dec_bytes(&item, 3, "cert", &cert, &cert_len, SIZE_MAX);
    int ok = cv_dec_end(&item) == CV_OK;
    if (ok && h != nd->height + 1)
        return h <= nd->height ? 0 : -1; /* one it has, or a gap */
    ok = ok && cv_hash(CV_SUITE_STD, block, block_len, hash) == CV_OK &&
         sim_block_valid(NULL, h, hash, block, block_len) &&
         cv_cert_verify(CV_SUITE_STD, SIM_CHAIN, w->vs, h, hash, cert, cert_len) == CV_OK;
    if (!ok) {
        w->rejected_syncs++;
        if (!w->nodes[from].byz)
            sim_fail(w, 0, "node %d rejected a synced block from honest node %d: %s", nd->id, from, cv_errmsg());
        return -1;
    }
    w->syncs++;
    commit(w, nd, h, block, block_len, cert, cert_len, "sync");
    return 0;
}

static void on_sync(sim_world *w, sim_node *nd, int from, const uint8_t *p, size_t len)
{
    cv_dec d;
    size_t n = 0;
    cv_dec_init(&d, p, len);
    if (cv_dec_list(&d, 1, "blocks", CV_CODEC_MSG_LIST, &n, SYNC_BATCH) != CV_OK) {
        w->rejected_syncs++;
        return;
    }
    for (size_t i = 0; i < n && nd->alive && !w->failure[0]; i++)
        if (synced_block(w, nd, from, &d))
            break;
}

/* ---- lifecycle and events ------------------------------------------------------------------ */

static cv_bft_config engine_config(sim_world *w, sim_node *nd)
{
    cv_bft_config cfg = {.suite = CV_SUITE_STD, .self = nd->key.pub, .propose_ms = 300, .prevote_ms = 200,
                         .precommit_ms = 200, .delta_ms = 100, .gossip_ms = 400, .sign = sim_sign,
                         .valid = sim_block_valid, .ctx = nd};
    strcpy(cfg.chain_id, SIM_CHAIN);
    cfg.test_ignore_lock = nd->byz ? (nd->byz & BYZ_AMNESIA) != 0 : w->mutate_lock;
    return cfg;
}

int sim_node_boot(sim_world *w, sim_node *nd)
{
    cv_bft_config cfg = engine_config(w, nd);
    nd->bft = malloc(sizeof *nd->bft);
    if (!nd->bft || cv_bft_init(nd->bft, &cfg) != CV_OK)
        return sim_fail(w, 0, "node %d: cannot create its engine", nd->id);
    if (nd->record.len &&
        cv_bft_restore(nd->bft, nd->record.data, nd->record.len, nd->valid.data, nd->valid.len) != CV_OK)
        return sim_fail(w, 0, "node %d: its record does not restore: %s", nd->id, cv_errmsg());
    nd->alive = 1;
    nd->crash_after = -1;
    sim_log(w, "node %d boots at height %llu", nd->id, (unsigned long long)nd->height + 1);
    after_call(w, nd, cv_bft_start(nd->bft, nd->height + 1, w->vs), "start");
    if (nd->alive)
        sim_push(w, (sim_event){.time = w->now + sim_below(&w->rng, w->status_ms), .kind = EV_STATUS, .node = nd->id,
                                .epoch = nd->epoch});
    return 0;
}

void sim_node_crash(sim_world *w, sim_node *nd)
{
    if (!nd->alive)
        return;
    cv_bft_free(nd->bft);
    free(nd->bft);
    nd->bft = NULL;
    nd->alive = 0;
    nd->epoch++;
    w->crashes++;
}

static void on_block_built(sim_world *w, sim_node *nd, const sim_event *ev)
{
    cv_buf block = {0};
    uint8_t hash[CV_HASH_LEN];
    int valid = !(nd->byz & BYZ_INVALID) || sim_chance(&w->rng, 300);
    if (sim_block_make(w, ev->height, nd->id, valid, &block, hash) != CV_OK)
        sim_fail(w, 0, "cannot build a block");
    else
        after_call(w, nd, cv_bft_block_ready(nd->bft, ev->height, ev->round, hash, block.data, block.len),
                   "block_ready");
    cv_buf_free(&block);
}

void sim_node_event(sim_world *w, sim_node *nd, const sim_event *ev)
{
    if (!nd->alive || (ev->kind != EV_DELIVER && ev->epoch != nd->epoch))
        return; /* a dead node, or a timer of its previous life */
    switch (ev->kind) {
    case EV_DELIVER:
        if (ev->msg == MSG_PROPOSAL && nd->byz)
            sim_byz_saw(nd, ev->data, ev->len);
        if (ev->msg == MSG_PROPOSAL)
            after_call(w, nd, cv_bft_on_proposal(nd->bft, ev->data, ev->len), "on_proposal");
        else if (ev->msg == MSG_VOTE)
            after_call(w, nd, cv_bft_on_vote(nd->bft, ev->data, ev->len), "on_vote");
        else if (ev->msg == MSG_STATUS)
            on_status(w, nd, ev->from, ev->data, ev->len);
        else
            on_sync(w, nd, ev->from, ev->data, ev->len);
        break;
    case EV_TIMER:
        sim_log(w, "node %d timer %d h %llu r %d", nd->id, (int)ev->timeout, (unsigned long long)ev->height,
                (int)ev->round);
        after_call(w, nd, cv_bft_on_timeout(nd->bft, ev->timeout, ev->height, ev->round), "on_timeout");
        break;
    case EV_BLOCK:
        on_block_built(w, nd, ev);
        break;
    case EV_STATUS:
        send_status(w, nd);
        break;
    default:
        break;
    }
}

void sim_node_free(sim_node *nd)
{
    if (nd->bft) {
        cv_bft_free(nd->bft);
        free(nd->bft);
    }
    for (size_t i = 0; i < nd->cap; i++) {
        cv_buf_free(&nd->blocks[i]);
        cv_buf_free(&nd->certs[i]);
    }
    free(nd->blocks);
    free(nd->certs);
    cv_buf_free(&nd->record);
    cv_buf_free(&nd->valid);
    cv_buf_free(&nd->eq_other);
    cv_key_wipe(&nd->key);
    memset(nd, 0, sizeof *nd);
}
