/* test_bft.c: the Tendermint engine, stepped by hand.
 *
 * One engine (validator 0 of four with equal power, or a follower) gets
 * proposals and votes crafted and signed here with the other validators'
 * keys, so each test walks a precise path of Algorithm 1 of arXiv:1807.04938:
 * the happy path, locking and unlocking (lines 22-43), timeouts (57-67),
 * round skipping (55), dropped messages, equivocation evidence, a restart
 * from the persisted record, next-height messages, a follower, and a cluster
 * of four engines deciding several heights. Certificates are checked with
 * cv_cert_verify, including every way one can be wrong. */
#include <stdlib.h>

#include "base/buf.h"
#include "check.h"
#include "consensus/tendermint.h"

#define N 4
#define CHAIN "test-chain"

static cv_keypair keys[N]; /* keys[i] is validator i of vs (address order) */
static cv_valset *vs;

/* With four equal powers the proposer of (h, r) is validator (h + r) % 4. */
static uint32_t proposer(uint64_t h, int32_t r) { return (uint32_t)cv_valset_proposer(vs, h, (uint32_t)r); }

/* ---- blocks: "V..." is valid, anything else invalid; id = SHA-256 -------- */

typedef struct {
    uint8_t bytes[16];
    size_t len;
    uint8_t hash[CV_HASH_LEN];
} block_t;

static block_t make_block(char tag, int valid)
{
    block_t b = {.len = 8};
    memcpy(b.bytes, valid ? "Vblock-" : "Xblock-", 7);
    b.bytes[7] = (uint8_t)tag;
    cv_hash(CV_SUITE_STD, b.bytes, b.len, b.hash);
    return b;
}

static int valid_calls;

static int valid_cb(void *ctx, uint64_t height, const uint8_t hash[CV_HASH_LEN], const uint8_t *block, size_t len)
{
    uint8_t h[CV_HASH_LEN];
    valid_calls++;
    return len > 0 && block[0] == 'V' && cv_hash(CV_SUITE_STD, block, len, h) == CV_OK &&
           memcmp(h, hash, CV_HASH_LEN) == 0;
}

static int sign_cb(void *ctx, const uint8_t *msg, size_t len, cv_sig *sig)
{
    return cv_sign(ctx, msg, len, sig);
}

/* ---- crafted messages ------------------------------------------------------ */

static cv_buf msg;

static void sign_vote(cv_vote *v, const cv_keypair *key)
{
    cv_buf sb = {0};
    CHECK_OK(cv_vote_sign_bytes(CHAIN, v, &sb));
    CHECK_OK(cv_sign(key, sb.data, sb.len, &v->sig));
    cv_buf_free(&sb);
}

/* An encoded vote by validator who, signed with key signer (normally who). */
static const cv_buf *vote_by(cv_vote_type t, uint64_t h, int32_t r, const block_t *blk, uint32_t who,
                             uint32_t signer)
{
    cv_vote v = {.type = t, .height = h, .round = r, .nil = !blk, .validator = who};
    if (blk)
        memcpy(v.hash, blk->hash, CV_HASH_LEN);
    sign_vote(&v, &keys[signer]);
    cv_buf_reset(&msg);
    CHECK_OK(cv_vote_encode(&v, &msg));
    return &msg;
}

static int send_vote(cv_bft *b, cv_vote_type t, uint64_t h, int32_t r, const block_t *blk, uint32_t who)
{
    const cv_buf *m = vote_by(t, h, r, blk, who, who);
    return cv_bft_on_vote(b, m->data, m->len);
}

static int send_proposal_by(cv_bft *b, uint64_t h, int32_t r, int32_t pol, const block_t *blk, uint32_t who)
{
    cv_vote_proposal p = {.height = h, .round = r, .pol_round = pol, .proposer = who,
                          .block = blk->bytes, .block_len = blk->len};
    memcpy(p.hash, blk->hash, CV_HASH_LEN);
    cv_buf sb = {0};
    CHECK_OK(cv_vote_proposal_sign_bytes(CHAIN, &p, &sb));
    CHECK_OK(cv_sign(&keys[who], sb.data, sb.len, &p.sig));
    cv_buf_free(&sb);
    cv_buf_reset(&msg);
    CHECK_OK(cv_vote_proposal_encode(&p, &msg));
    return cv_bft_on_proposal(b, msg.data, msg.len);
}

static int send_proposal(cv_bft *b, uint64_t h, int32_t r, int32_t pol, const block_t *blk)
{
    return send_proposal_by(b, h, r, pol, blk, proposer(h, r));
}

/* ---- looking at outputs --------------------------------------------------------- */

static size_t count_out(const cv_bft *b, cv_bft_out_kind kind)
{
    size_t n, c = 0;
    const cv_bft_out *o = cv_bft_outputs(b, &n);
    for (size_t i = 0; i < n; i++)
        c += o[i].kind == kind;
    return c;
}

static const cv_bft_out *find_out(const cv_bft *b, cv_bft_out_kind kind)
{
    size_t n;
    const cv_bft_out *o = cv_bft_outputs(b, &n);
    for (size_t i = 0; i < n; i++)
        if (o[i].kind == kind)
            return &o[i];
    return NULL;
}

static const cv_bft_out *find_timeout(const cv_bft *b, cv_bft_timeout kind)
{
    size_t n;
    const cv_bft_out *o = cv_bft_outputs(b, &n);
    for (size_t i = 0; i < n; i++)
        if (o[i].kind == CV_BFT_OUT_TIMEOUT && o[i].timeout == kind)
            return &o[i];
    return NULL;
}

/* Did the last call broadcast our vote of type t in round r for blk (NULL: nil)? */
static int voted(const cv_bft *b, cv_vote_type t, int32_t r, const block_t *blk)
{
    size_t n;
    const cv_bft_out *o = cv_bft_outputs(b, &n);
    for (size_t i = 0; i < n; i++) {
        cv_vote v;
        if (o[i].kind != CV_BFT_OUT_VOTE || cv_vote_decode(CV_SUITE_STD, o[i].bytes, o[i].len, &v) != CV_OK)
            continue;
        if (v.type == t && v.round == r && v.validator == (uint32_t)b->self && v.nil == !blk &&
            (!blk || memcmp(v.hash, blk->hash, CV_HASH_LEN) == 0))
            return cv_vote_verify(CHAIN, &keys[b->self].pub, &v) == CV_OK;
    }
    return 0;
}

/* A PERSIST, if any, comes first. */
static int persist_first(const cv_bft *b)
{
    size_t n;
    const cv_bft_out *o = cv_bft_outputs(b, &n);
    for (size_t i = 1; i < n; i++)
        if (o[i].kind == CV_BFT_OUT_PERSIST)
            return 0;
    return 1;
}

/* ---- engines ----------------------------------------------------------------- */

static cv_bft_config config(int me)
{
    cv_bft_config cfg = {.suite = CV_SUITE_STD, .propose_ms = 1000, .prevote_ms = 500, .precommit_ms = 600,
                         .delta_ms = 100, .gossip_ms = 2000, .sign = sign_cb, .valid = valid_cb};
    strcpy(cfg.chain_id, CHAIN);
    if (me >= 0) {
        cfg.self = keys[me].pub;
        cfg.ctx = &keys[me];
    }
    return cfg;
}

static cv_bft *engine(int me, uint64_t height)
{
    cv_bft *b = malloc(sizeof *b);
    cv_bft_config cfg = config(me);
    CHECK_OK(cv_bft_init(b, &cfg));
    CHECK_OK(cv_bft_start(b, height, vs));
    CHECK(persist_first(b));
    return b;
}

static void drop_engine(cv_bft *b)
{
    cv_bft_free(b);
    free(b);
}

/* The node's "disk": the last PERSIST record and valid value. */
static cv_buf rec_block;

static void save_record(const cv_bft *b, cv_buf *rec)
{
    const cv_bft_out *o = find_out(b, CV_BFT_OUT_PERSIST);
    if (o) {
        cv_buf_reset(rec);
        CHECK_OK(cv_buf_append(rec, o->bytes, o->len));
    }
    if (o && o->extra) {
        cv_buf_reset(&rec_block);
        CHECK_OK(cv_buf_append(&rec_block, o->extra, o->extra_len));
    }
}

static cv_bft *restarted(const cv_buf *rec, uint64_t height)
{
    cv_bft *b = malloc(sizeof *b);
    cv_bft_config cfg = config(0);
    CHECK_OK(cv_bft_init(b, &cfg));
    CHECK_OK(cv_bft_restore(b, rec->data, rec->len, rec_block.data, rec_block.len));
    CHECK_OK(cv_bft_start(b, height, vs));
    return b;
}

/* Round 0 of height 1 up to our lock on blk: proposal, two prevotes (ours
 * makes three). */
static void lock_on(cv_bft *b, const block_t *blk, cv_buf *rec)
{
    CHECK_OK(send_proposal(b, 1, 0, -1, blk));
    CHECK(voted(b, CV_VOTE_PREVOTE, 0, blk));
    save_record(b, rec);
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, blk, 1));
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, blk, 2));
    CHECK(voted(b, CV_VOTE_PRECOMMIT, 0, blk)); /* line 40 */
    const cv_bft_out *p = find_out(b, CV_BFT_OUT_PERSIST);
    CHECK(persist_first(b) && p && p->extra_len > blk->len); /* with the valid value: block and polka */
    save_record(b, rec);
    CHECK(b->rec.locked_round == 0 && b->rec.valid_round == 0 && b->step == CV_BFT_PRECOMMIT);
}

/* Precommits nil from 1 and 2, then the precommit timeout: round r + 1. */
static void next_round_by_timeout(cv_bft *b, uint64_t h, int32_t r)
{
    CHECK_OK(send_vote(b, CV_VOTE_PRECOMMIT, h, r, NULL, 1));
    CHECK_OK(send_vote(b, CV_VOTE_PRECOMMIT, h, r, NULL, 2));
    const cv_bft_out *t = find_timeout(b, CV_BFT_TIMEOUT_PRECOMMIT); /* line 48 */
    CHECK(t && t->round == r && t->ms == 600 + (uint64_t)r * 100);
    CHECK_OK(cv_bft_on_timeout(b, CV_BFT_TIMEOUT_PRECOMMIT, h, r)); /* line 67 */
    CHECK(b->round == r + 1);
}

/* ---- tests --------------------------------------------------------------------- */

static void test_happy_path(void)
{
    block_t a = make_block('a', 1);
    cv_bft *b = engine(0, 1);
    CHECK(b->round == 0 && b->step == CV_BFT_PROPOSE && b->self == 0);
    const cv_bft_out *t = find_timeout(b, CV_BFT_TIMEOUT_PROPOSE); /* line 21 */
    CHECK(t && t->height == 1 && t->round == 0 && t->ms == 1000);
    CHECK(find_timeout(b, CV_BFT_TIMEOUT_GOSSIP) != NULL);
    CHECK(count_out(b, CV_BFT_OUT_GET_BLOCK) == 0);

    CHECK_OK(send_proposal(b, 1, 0, -1, &a)); /* line 22 */
    CHECK(voted(b, CV_VOTE_PREVOTE, 0, &a) && b->step == CV_BFT_PREVOTE);
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, &a, 1));
    CHECK(count_out(b, CV_BFT_OUT_VOTE) == 0);
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, &a, 2));
    CHECK(find_timeout(b, CV_BFT_TIMEOUT_PREVOTE) != NULL); /* line 35 */
    CHECK(voted(b, CV_VOTE_PRECOMMIT, 0, &a));               /* line 40 */
    CHECK_OK(send_vote(b, CV_VOTE_PRECOMMIT, 1, 0, &a, 3));
    CHECK(!b->decided);
    CHECK_OK(send_vote(b, CV_VOTE_PRECOMMIT, 1, 0, &a, 1));
    const cv_bft_out *c = find_out(b, CV_BFT_OUT_COMMIT); /* line 51 */
    CHECK(c && b->decided && c->height == 1 && c->round == 0);
    CHECK(c && c->len == a.len && memcmp(c->bytes, a.bytes, a.len) == 0);
    CHECK(c && memcmp(c->hash, a.hash, CV_HASH_LEN) == 0);
    if (c) {
        CHECK_OK(cv_cert_verify(CV_SUITE_STD, CHAIN, vs, 1, a.hash, c->extra, c->extra_len));
        cv_cert cert;
        CHECK_OK(cv_cert_decode(CV_SUITE_STD, c->extra, c->extra_len, &cert));
        CHECK(cert.n == 3 && cert.sigs[0].validator == 0 && cert.sigs[1].validator == 1 &&
              cert.sigs[2].validator == 3);
    }
    /* Decided: later messages of height 1 are dropped, timers ignored. */
    CHECK_ERR(send_vote(b, CV_VOTE_PRECOMMIT, 1, 0, &a, 2), CV_ESTATE);
    CHECK_OK(cv_bft_on_timeout(b, CV_BFT_TIMEOUT_PREVOTE, 1, 0));
    CHECK(count_out(b, CV_BFT_OUT_VOTE) == 0);
    CHECK_ERR(cv_bft_start(b, 1, vs), CV_EINVAL);
    CHECK_OK(cv_bft_start(b, 2, vs)); /* lines 52-54 */
    CHECK(b->height == 2 && b->round == 0 && !b->decided && b->rec.locked_round == -1);
    CHECK(b->stats.accepted == 5 && b->stats.wrong_height == 1);
    drop_engine(b);
}

static void test_invalid_block(void)
{
    block_t bad = make_block('x', 0);
    cv_bft *b = engine(0, 1);
    CHECK_OK(send_proposal(b, 1, 0, -1, &bad));
    CHECK(voted(b, CV_VOTE_PREVOTE, 0, NULL)); /* line 26 */
    /* Even a quorum of precommits for it decides nothing (line 50). */
    for (uint32_t v = 1; v < N; v++)
        CHECK_OK(send_vote(b, CV_VOTE_PRECOMMIT, 1, 0, &bad, v));
    CHECK(!b->decided && count_out(b, CV_BFT_OUT_COMMIT) == 0);
    drop_engine(b);
}

/* Lines 22-43: a lock is kept against a new value (line 23), moved by a
 * later polka (36-41), refused for an older polka (29) and re-proposed as
 * the valid value (15-16). */
static void test_lock_rules(void)
{
    block_t a = make_block('a', 1), bb = make_block('b', 1);
    cv_buf rec = {0};
    cv_bft *b = engine(0, 1);
    lock_on(b, &a, &rec);
    next_round_by_timeout(b, 1, 0);

    CHECK_OK(send_proposal(b, 1, 1, -1, &bb));
    CHECK(voted(b, CV_VOTE_PREVOTE, 1, NULL)); /* locked on a: line 26 */
    for (uint32_t v = 1; v < N; v++)
        CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 1, &bb, v));
    CHECK(voted(b, CV_VOTE_PRECOMMIT, 1, &bb)); /* a polka for b in round 1: lines 38-40 */
    CHECK(b->rec.locked_round == 1 && memcmp(b->rec.locked_hash, bb.hash, CV_HASH_LEN) == 0);
    CHECK(b->rec.valid_round == 1 && memcmp(b->rec.valid_hash, bb.hash, CV_HASH_LEN) == 0);
    next_round_by_timeout(b, 1, 1);

    /* Round 2: a re-proposed with its round-0 polka: 0 < locked round 1. */
    CHECK_OK(send_proposal(b, 1, 2, 0, &a));
    CHECK(voted(b, CV_VOTE_PREVOTE, 2, NULL)); /* line 32 */
    CHECK_OK(send_vote(b, CV_VOTE_PRECOMMIT, 1, 2, NULL, 3)); /* we have not precommitted */
    next_round_by_timeout(b, 1, 2);

    /* Round 3 is ours: we propose the valid value b with valid round 1. */
    CHECK(proposer(1, 3) == 0);
    const cv_bft_out *p = find_out(b, CV_BFT_OUT_PROPOSAL);
    cv_vote_proposal prop;
    CHECK(p && cv_vote_proposal_decode(CV_SUITE_STD, p->bytes, p->len, &prop) == CV_OK);
    CHECK(prop.round == 3 && prop.pol_round == 1 && memcmp(prop.hash, bb.hash, CV_HASH_LEN) == 0);
    CHECK(prop.block_len == bb.len && memcmp(prop.block, bb.bytes, bb.len) == 0);
    CHECK(count_out(b, CV_BFT_OUT_GET_BLOCK) == 0);
    /* Line 28 holds (the round-1 polka), line 29 too: we prevote it. */
    CHECK(voted(b, CV_VOTE_PREVOTE, 3, &bb));
    cv_buf_free(&rec);
    drop_engine(b);
}

/* Lines 28-30: a lock on a is released by a proposal of b carrying a polka
 * from a round after the lock. */
static void test_unlock_by_later_polka(void)
{
    block_t a = make_block('a', 1), bb = make_block('b', 1);
    cv_buf rec = {0};
    cv_bft *b = engine(0, 1);
    lock_on(b, &a, &rec);
    next_round_by_timeout(b, 1, 0);
    /* Round 1: we never see its proposal, but the others prevote b. */
    CHECK_OK(cv_bft_on_timeout(b, CV_BFT_TIMEOUT_PROPOSE, 1, 1));
    CHECK(voted(b, CV_VOTE_PREVOTE, 1, NULL)); /* line 59 */
    for (uint32_t v = 1; v < N; v++)
        CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 1, &bb, v));
    CHECK(b->rec.locked_round == 0); /* no proposal for b: no lock change */
    CHECK_OK(cv_bft_on_timeout(b, CV_BFT_TIMEOUT_PREVOTE, 1, 1));
    CHECK(voted(b, CV_VOTE_PRECOMMIT, 1, NULL)); /* line 63 */
    next_round_by_timeout(b, 1, 1);
    CHECK_OK(send_proposal(b, 1, 2, 1, &bb));
    CHECK(voted(b, CV_VOTE_PREVOTE, 2, &bb)); /* locked round 0 <= vr 1: line 30 */
    cv_buf_free(&rec);
    drop_engine(b);
}

/* The deliberately broken lock of the simulator's self-test does prevote
 * the new value (so the simulator has a bug to find). */
static void test_ignore_lock_mutation(void)
{
    block_t a = make_block('a', 1), bb = make_block('b', 1);
    cv_buf rec = {0};
    cv_bft *b = malloc(sizeof *b);
    cv_bft_config cfg = config(0);
    cfg.test_ignore_lock = 1;
    CHECK_OK(cv_bft_init(b, &cfg));
    CHECK_OK(cv_bft_start(b, 1, vs));
    lock_on(b, &a, &rec);
    next_round_by_timeout(b, 1, 0);
    CHECK_OK(send_proposal(b, 1, 1, -1, &bb));
    CHECK(voted(b, CV_VOTE_PREVOTE, 1, &bb));
    cv_buf_free(&rec);
    drop_engine(b);
}

static void test_timeouts(void)
{
    block_t a = make_block('a', 1);
    cv_bft *b = engine(0, 1);
    CHECK_OK(cv_bft_on_timeout(b, CV_BFT_TIMEOUT_PROPOSE, 1, 5)); /* stale: another round */
    CHECK(b->step == CV_BFT_PROPOSE && count_out(b, CV_BFT_OUT_VOTE) == 0);
    CHECK_OK(cv_bft_on_timeout(b, CV_BFT_TIMEOUT_PROPOSE, 7, 0)); /* another height */
    CHECK(b->step == CV_BFT_PROPOSE);
    CHECK_OK(cv_bft_on_timeout(b, CV_BFT_TIMEOUT_PROPOSE, 1, 0)); /* lines 57-60 */
    CHECK(voted(b, CV_VOTE_PREVOTE, 0, NULL) && b->step == CV_BFT_PREVOTE);
    CHECK_OK(cv_bft_on_timeout(b, CV_BFT_TIMEOUT_PROPOSE, 1, 0)); /* once only */
    CHECK(count_out(b, CV_BFT_OUT_VOTE) == 0);
    /* Mixed prevotes: 2f + 1 of any kind starts the prevote timer (line 34). */
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, &a, 1));
    CHECK(find_timeout(b, CV_BFT_TIMEOUT_PREVOTE) == NULL);
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, &a, 2));
    const cv_bft_out *t = find_timeout(b, CV_BFT_TIMEOUT_PREVOTE);
    CHECK(t && t->ms == 500 && t->round == 0);
    CHECK(b->step == CV_BFT_PREVOTE); /* no proposal for a: no precommit yet */
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, NULL, 3));
    CHECK(find_timeout(b, CV_BFT_TIMEOUT_PREVOTE) == NULL); /* "for the first time" */
    CHECK_OK(cv_bft_on_timeout(b, CV_BFT_TIMEOUT_PREVOTE, 1, 0)); /* lines 61-64 */
    CHECK(voted(b, CV_VOTE_PRECOMMIT, 0, NULL) && b->step == CV_BFT_PRECOMMIT);
    next_round_by_timeout(b, 1, 0);
    t = find_timeout(b, CV_BFT_TIMEOUT_PROPOSE);
    CHECK(t && t->round == 1 && t->ms == 1100); /* timeoutPropose(1) = base + delta */
    drop_engine(b);
}

static void test_polka_nil(void)
{
    cv_bft *b = engine(0, 1);
    CHECK_OK(cv_bft_on_timeout(b, CV_BFT_TIMEOUT_PROPOSE, 1, 0));
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, NULL, 1));
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, NULL, 2));
    CHECK(voted(b, CV_VOTE_PRECOMMIT, 0, NULL)); /* lines 44-46 */
    drop_engine(b);
}

static void test_round_skip(void)
{
    cv_bft *b = engine(0, 1);
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 5, NULL, 1)); /* far: counted only */
    CHECK(b->round == 0 && b->stats.far_round == 1);
    CHECK_OK(send_vote(b, CV_VOTE_PRECOMMIT, 1, 9, NULL, 2)); /* 1 at >= 5, 2 at >= 9: half the power */
    CHECK(b->round == 5 && b->stats.rounds_skipped == 1);     /* line 55: f + 1 reached round 5 */
    const cv_bft_out *t = find_timeout(b, CV_BFT_TIMEOUT_PROPOSE);
    CHECK(t && t->round == 5 && t->ms == 1500);
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 6, NULL, 3)); /* 2 at 9 and 3 at 6 */
    CHECK(b->round == 6 && b->stats.rounds_skipped == 2 && b->stats.far_round == 2);
    /* Now only validator 2 is ahead: a quarter of the power is not enough. */
    CHECK_OK(send_vote(b, CV_VOTE_PRECOMMIT, 1, 6, NULL, 1));
    CHECK(b->round == 6 && b->stats.rounds_skipped == 2);
    drop_engine(b);
}

static void test_drops(void)
{
    block_t a = make_block('a', 1), bb = make_block('b', 1);
    cv_bft *b = engine(0, 1);
    uint8_t garbage[5] = {0x08, 0x01, 0x10, 0xff, 0xff};
    CHECK_ERR(cv_bft_on_vote(b, garbage, sizeof garbage), CV_EDECODE);
    CHECK_ERR(cv_bft_on_proposal(b, garbage, sizeof garbage), CV_EDECODE);
    CHECK(b->stats.malformed == 2);
    /* Index 9 of a set of 4 (signed with 1's key: rejected before the signature). */
    const cv_buf *m = vote_by(CV_VOTE_PREVOTE, 1, 0, &a, 9, 1);
    CHECK_ERR(cv_bft_on_vote(b, m->data, m->len), CV_EPERM);
    CHECK(b->stats.non_validator == 1);
    m = vote_by(CV_VOTE_PREVOTE, 1, 0, &a, 1, 2); /* 1's vote signed by 2 */
    CHECK_ERR(cv_bft_on_vote(b, m->data, m->len), CV_EBADSIG);
    CHECK_MSG("signature of validator 1 does not verify");
    CHECK(b->stats.bad_signature == 1);
    CHECK_ERR(send_vote(b, CV_VOTE_PREVOTE, 7, 0, &a, 1), CV_ESTATE);
    CHECK_MSG("for height 7; this node is at height 1");
    CHECK(b->stats.wrong_height == 1);
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, &a, 1));
    CHECK_ERR(send_vote(b, CV_VOTE_PREVOTE, 1, 0, &a, 1), CV_EEXIST);
    CHECK(b->stats.duplicate == 1 && b->stats.accepted == 1);
    /* A double vote: evidence with both votes; both count. */
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, &bb, 1));
    const cv_bft_out *e = find_out(b, CV_BFT_OUT_EVIDENCE);
    CHECK(e && e->validator == 1 && e->round == 0);
    if (e) {
        cv_vote x, y;
        CHECK_OK(cv_vote_decode(CV_SUITE_STD, e->bytes, e->len, &x));
        CHECK_OK(cv_vote_decode(CV_SUITE_STD, e->extra, e->extra_len, &y));
        CHECK(memcmp(x.hash, a.hash, CV_HASH_LEN) == 0 && memcmp(y.hash, bb.hash, CV_HASH_LEN) == 0);
        CHECK_OK(cv_vote_verify(CHAIN, &keys[1].pub, &x));
        CHECK_OK(cv_vote_verify(CHAIN, &keys[1].pub, &y));
    }
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, NULL, 1)); /* counted; one evidence per slot */
    CHECK(b->stats.equivocation == 2 && count_out(b, CV_BFT_OUT_EVIDENCE) == 0);
    /* Proposals: from the wrong validator; then two from the right one. */
    CHECK_ERR(send_proposal_by(b, 1, 0, -1, &a, 2), CV_EPERM);
    CHECK(b->stats.not_proposer == 1);
    CHECK_OK(send_proposal(b, 1, 0, -1, &a));
    CHECK_ERR(send_proposal(b, 1, 0, -1, &a), CV_EEXIST);
    CHECK_ERR(send_proposal(b, 1, 0, -1, &bb), CV_EEXIST);
    CHECK(find_out(b, CV_BFT_OUT_EVIDENCE) && b->stats.equivocation == 3);
    /* The wrong chain: a bad signature. */
    cv_vote v = {.type = CV_VOTE_PREVOTE, .height = 1, .round = 0, .validator = 2};
    memcpy(v.hash, a.hash, CV_HASH_LEN);
    cv_buf sb = {0};
    CHECK_OK(cv_vote_sign_bytes("other-chain", &v, &sb));
    CHECK_OK(cv_sign(&keys[2], sb.data, sb.len, &v.sig));
    cv_buf_reset(&msg);
    CHECK_OK(cv_vote_encode(&v, &msg));
    CHECK_ERR(cv_bft_on_vote(b, msg.data, msg.len), CV_EBADSIG);
    cv_buf_free(&sb);
    drop_engine(b);
}

/* An equivocator's second vote counts for its value (the paper counts
 * every signed message): here it completes the polka. */
static void test_equivocator_counts(void)
{
    block_t a = make_block('a', 1);
    cv_bft *b = engine(0, 1);
    CHECK_OK(send_proposal(b, 1, 0, -1, &a));
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, NULL, 3));
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, &a, 2));
    CHECK(count_out(b, CV_BFT_OUT_VOTE) == 0); /* a: 0 and 2; nil: 3 */
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, &a, 3));
    CHECK(find_out(b, CV_BFT_OUT_EVIDENCE) && voted(b, CV_VOTE_PRECOMMIT, 0, &a));
    drop_engine(b);
}

static void test_old_rounds(void)
{
    cv_bft *b = engine(0, 1);
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 20, NULL, 1));
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 20, NULL, 2));
    CHECK(b->round == 20);
    for (int32_t r = 19; r >= 14; r--) /* the six round slots fill with rounds 19 .. 14 */
        CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, r, NULL, 3));
    CHECK_ERR(send_vote(b, CV_VOTE_PREVOTE, 1, 13, NULL, 3), CV_ESTATE);
    CHECK(b->stats.old_round >= 1);
    drop_engine(b);
}

static void test_proposer_path(void)
{
    block_t a = make_block('a', 1);
    CHECK(proposer(4, 0) == 0);
    cv_bft *b = engine(0, 4);
    const cv_bft_out *g = find_out(b, CV_BFT_OUT_GET_BLOCK); /* line 18 */
    CHECK(g && g->height == 4 && g->round == 0);
    CHECK_ERR(cv_bft_block_ready(b, 4, 1, a.hash, a.bytes, a.len), CV_ESTATE);
    CHECK_OK(cv_bft_block_ready(b, 4, 0, a.hash, a.bytes, a.len));
    CHECK(persist_first(b) && find_out(b, CV_BFT_OUT_PERSIST));
    const cv_bft_out *p = find_out(b, CV_BFT_OUT_PROPOSAL); /* line 19 */
    cv_vote_proposal prop;
    CHECK(p && cv_vote_proposal_decode(CV_SUITE_STD, p->bytes, p->len, &prop) == CV_OK);
    CHECK(prop.pol_round == -1 && prop.proposer == 0 && memcmp(prop.hash, a.hash, CV_HASH_LEN) == 0);
    CHECK_OK(cv_vote_proposal_verify(CHAIN, &keys[0].pub, &prop));
    CHECK(voted(b, CV_VOTE_PREVOTE, 0, &a)); /* for its own proposal */
    CHECK_ERR(cv_bft_block_ready(b, 4, 0, a.hash, a.bytes, a.len), CV_ESTATE); /* proposes once */
    drop_engine(b);
}

static void test_gossip(void)
{
    block_t a = make_block('a', 1);
    cv_buf rec = {0};
    cv_bft *b = engine(0, 1);
    lock_on(b, &a, &rec);
    CHECK_OK(cv_bft_on_timeout(b, CV_BFT_TIMEOUT_GOSSIP, 1, 0));
    CHECK(voted(b, CV_VOTE_PREVOTE, 0, &a) && voted(b, CV_VOTE_PRECOMMIT, 0, &a));
    CHECK(count_out(b, CV_BFT_OUT_VOTE) == 2 + 3); /* ours, and the polka of the valid value (3 prevotes) */
    const cv_bft_out *t = find_timeout(b, CV_BFT_TIMEOUT_GOSSIP);
    CHECK(t && t->ms == 2000);
    cv_buf_free(&rec);
    drop_engine(b);
}

/* A restarted validator keeps its signed votes and its lock. */
static void test_restore(void)
{
    block_t a = make_block('a', 1), bb = make_block('b', 1);
    cv_buf rec = {0};
    cv_bft *b = engine(0, 1);
    CHECK_OK(send_proposal(b, 1, 0, -1, &a));
    save_record(b, &rec);
    drop_engine(b); /* crash after prevoting a */

    b = restarted(&rec, 1);
    CHECK(b->step == CV_BFT_PREVOTE && voted(b, CV_VOTE_PREVOTE, 0, &a)); /* the same vote, re-sent */
    CHECK_OK(cv_bft_on_timeout(b, CV_BFT_TIMEOUT_PROPOSE, 1, 0));
    CHECK(count_out(b, CV_BFT_OUT_VOTE) == 0); /* no second prevote in round 0 */
    CHECK_ERR(cv_bft_restore(b, rec.data, rec.len, NULL, 0), CV_ESTATE);
    drop_engine(b);

    /* Locked on a, crash, restart: the lock holds in round 1. */
    b = engine(0, 1);
    lock_on(b, &a, &rec);
    next_round_by_timeout(b, 1, 0);
    save_record(b, &rec);
    drop_engine(b);
    b = restarted(&rec, 1);
    CHECK(b->round == 1 && b->rec.locked_round == 0);
    CHECK_OK(send_proposal(b, 1, 1, -1, &bb));
    CHECK(voted(b, CV_VOTE_PREVOTE, 1, NULL));
    drop_engine(b);

    /* Restarted again: skipped to round 3, its own, it proposes the valid
     * value a (whose block it got back from the restore) with round 0. */
    b = restarted(&rec, 1);
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 3, NULL, 1));
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 3, NULL, 2));
    const cv_bft_out *p = find_out(b, CV_BFT_OUT_PROPOSAL);
    cv_vote_proposal prop;
    CHECK(b->round == 3 && p && cv_vote_proposal_decode(CV_SUITE_STD, p->bytes, p->len, &prop) == CV_OK);
    CHECK(prop.pol_round == 0 && memcmp(prop.hash, a.hash, CV_HASH_LEN) == 0 && prop.block_len == a.len);
    CHECK(count_out(b, CV_BFT_OUT_GET_BLOCK) == 0);
    CHECK(count_out(b, CV_BFT_OUT_VOTE) == 3 + 1); /* the restored polka (0, 1, 2), and its prevote */
    drop_engine(b);

    /* A record of an earlier height does not apply. */
    b = restarted(&rec, 2);
    CHECK(b->round == 0 && b->rec.locked_round == -1);
    drop_engine(b);
    cv_buf_free(&rec);
}

static void test_record_codec(void)
{
    cv_bft_record r = {.height = 9, .round = 3, .step = CV_BFT_PRECOMMIT, .locked_round = 1, .valid_round = 2,
                       .proposal_round = -1, .prevote_round = 3, .prevote_nil = 0, .precommit_round = 3,
                       .precommit_nil = 1};
    memset(r.locked_hash, 0x11, CV_HASH_LEN);
    memset(r.valid_hash, 0x22, CV_HASH_LEN);
    memset(r.prevote_hash, 0x33, CV_HASH_LEN);
    cv_buf b = {0};
    CHECK_OK(cv_bft_record_encode(&r, &b));
    cv_bft_record back;
    CHECK_OK(cv_bft_record_decode(b.data, b.len, &back));
    CHECK(back.height == 9 && back.round == 3 && back.step == CV_BFT_PRECOMMIT && back.locked_round == 1 &&
          back.valid_round == 2 && back.proposal_round == -1 && back.prevote_round == 3 && !back.prevote_nil &&
          back.precommit_round == 3 && back.precommit_nil);
    CHECK(memcmp(back.prevote_hash, r.prevote_hash, CV_HASH_LEN) == 0);
    CHECK_ERR(cv_bft_record_decode(b.data, b.len - 1, &back), CV_EDECODE);
    r.locked_round = 3; /* locked after valid */
    cv_buf_reset(&b);
    CHECK_OK(cv_bft_record_encode(&r, &b));
    CHECK_ERR(cv_bft_record_decode(b.data, b.len, &back), CV_EDECODE);
    CHECK_MSG("locked round 3 after valid round 2");
    r.locked_round = 1;
    r.step = CV_BFT_PREVOTE; /* but a precommit was signed in round 3 */
    cv_buf_reset(&b);
    CHECK_OK(cv_bft_record_encode(&r, &b));
    CHECK_ERR(cv_bft_record_decode(b.data, b.len, &back), CV_EDECODE);
    CHECK_MSG("does not match the votes signed");
    cv_buf_free(&b);
}

static void test_next_height_held(void)
{
    block_t a = make_block('a', 1), c = make_block('c', 1);
    cv_bft *b = engine(0, 1);
    CHECK_OK(send_proposal(b, 2, 0, -1, &c)); /* next height: held */
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 2, 0, &c, 2));
    CHECK(b->stats.held == 2 && count_out(b, CV_BFT_OUT_VOTE) == 0);
    CHECK_OK(send_proposal(b, 1, 0, -1, &a));
    for (uint32_t v = 1; v < 3; v++)
        CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, &a, v));
    for (uint32_t v = 1; v < 3; v++)
        CHECK_OK(send_vote(b, CV_VOTE_PRECOMMIT, 1, 0, &a, v));
    CHECK(b->decided);
    CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 2, 0, &c, 3)); /* held while decided */
    CHECK_OK(cv_bft_start(b, 2, vs));
    CHECK(voted(b, CV_VOTE_PREVOTE, 0, &c)); /* the held proposal */
    CHECK(voted(b, CV_VOTE_PRECOMMIT, 0, &c)); /* and the held prevotes: a polka */
    drop_engine(b);
}

static void test_follower(void)
{
    block_t a = make_block('a', 1);
    cv_bft *b = engine(-1, 1);
    CHECK(b->self == -1 && count_out(b, CV_BFT_OUT_PERSIST) == 0);
    CHECK_OK(send_proposal(b, 1, 0, -1, &a));
    for (uint32_t v = 1; v < N; v++)
        CHECK_OK(send_vote(b, CV_VOTE_PREVOTE, 1, 0, &a, v));
    CHECK(count_out(b, CV_BFT_OUT_VOTE) == 0 && count_out(b, CV_BFT_OUT_PERSIST) == 0);
    for (uint32_t v = 1; v < N; v++)
        CHECK_OK(send_vote(b, CV_VOTE_PRECOMMIT, 1, 0, &a, v));
    const cv_bft_out *c = find_out(b, CV_BFT_OUT_COMMIT);
    CHECK(c && cv_cert_verify(CV_SUITE_STD, CHAIN, vs, 1, a.hash, c->extra, c->extra_len) == CV_OK);
    drop_engine(b);
}

/* ---- certificates -------------------------------------------------------------- */

static void cert_sig(cv_cert *c, uint32_t who, const block_t *blk, const char *chain)
{
    cv_vote v = {.type = CV_VOTE_PRECOMMIT, .height = c->height, .round = c->round, .validator = who};
    memcpy(v.hash, blk->hash, CV_HASH_LEN);
    cv_buf sb = {0};
    CHECK_OK(cv_vote_sign_bytes(chain, &v, &sb));
    CHECK_OK(cv_sign(&keys[who], sb.data, sb.len, &c->sigs[c->n].sig));
    c->sigs[c->n++].validator = who;
    cv_buf_free(&sb);
}

static int verify(const cv_valset *set, const cv_cert *c, uint64_t h, const block_t *blk)
{
    cv_buf b = {0};
    CHECK_OK(cv_cert_encode(c, &b));
    int rc = cv_cert_verify(CV_SUITE_STD, CHAIN, set, h, blk->hash, b.data, b.len);
    cv_buf_free(&b);
    return rc;
}

static void test_certificates(void)
{
    block_t a = make_block('a', 1), bb = make_block('b', 1);
    cv_cert c = {.height = 5, .round = 2};
    memcpy(c.hash, a.hash, CV_HASH_LEN);
    cert_sig(&c, 0, &a, CHAIN);
    cert_sig(&c, 2, &a, CHAIN);
    CHECK_ERR(verify(vs, &c, 5, &a), CV_EINVAL); /* 2 of 4 */
    CHECK_MSG("hold 2 of 4 voting power, not more than two thirds");
    cert_sig(&c, 3, &a, CHAIN);
    CHECK_OK(verify(vs, &c, 5, &a));
    CHECK_ERR(verify(vs, &c, 6, &a), CV_EINVAL);
    CHECK_MSG("certificate is for height 5, not 6");
    CHECK_ERR(verify(vs, &c, 5, &bb), CV_EINVAL);
    CHECK_MSG("for another block");
    /* A flipped signature byte. */
    c.sigs[1].sig.bytes[3] ^= 1;
    CHECK_ERR(verify(vs, &c, 5, &a), CV_EBADSIG);
    CHECK_MSG("signature of validator 2 does not verify");
    c.sigs[1].sig.bytes[3] ^= 1;
    /* A precommit for another chain. */
    cv_cert other = {.height = 5, .round = 2};
    memcpy(other.hash, a.hash, CV_HASH_LEN);
    cert_sig(&other, 0, &a, CHAIN);
    cert_sig(&other, 1, &a, "other-chain");
    cert_sig(&other, 2, &a, CHAIN);
    CHECK_ERR(verify(vs, &other, 5, &a), CV_EBADSIG);
    /* The same signer twice: not canonical, rejected by the decoder. */
    cv_cert dup = c;
    dup.sigs[2] = dup.sigs[1];
    CHECK_ERR(verify(vs, &dup, 5, &a), CV_EDECODE);
    CHECK_MSG("indices must increase");
    /* An unknown signer: index 5 in a set of 4. */
    cv_cert unknown = c;
    unknown.sigs[2].validator = 5;
    CHECK_ERR(verify(vs, &unknown, 5, &a), CV_EINVAL);
    CHECK_MSG("signer 5 is not one of the 4 validators");
    /* Garbage and truncation. */
    cv_buf enc = {0};
    CHECK_OK(cv_cert_encode(&c, &enc));
    CHECK_ERR(cv_cert_verify(CV_SUITE_STD, CHAIN, vs, 5, a.hash, enc.data, enc.len - 1), CV_EDECODE);
    CHECK_ERR(cv_cert_verify(CV_SUITE_GM, CHAIN, vs, 5, a.hash, enc.data, enc.len), CV_EINVAL);
    cv_buf_free(&enc);

    /* Weighted: powers 5, 1, 1, 1 (total 8): the heavy one and one more suffice. */
    cv_valset_entry e[N];
    for (int i = 0; i < N; i++) {
        e[i].pub = keys[i].pub;
        e[i].power = i == 0 ? 5 : 1;
    }
    cv_valset *w = malloc(sizeof *w);
    CHECK_OK(cv_valset_init(w, CV_SUITE_STD, e, N));
    CHECK(cv_valset_find_key(w, &keys[0].pub) == 0); /* same order: same keys */
    cv_cert heavy = {.height = 5, .round = 0};
    memcpy(heavy.hash, a.hash, CV_HASH_LEN);
    cert_sig(&heavy, 0, &a, CHAIN);
    CHECK_ERR(verify(w, &heavy, 5, &a), CV_EINVAL); /* 5 of 8 */
    cert_sig(&heavy, 3, &a, CHAIN);
    CHECK_OK(verify(w, &heavy, 5, &a)); /* 6 of 8 */
    cv_cert light = {.height = 5, .round = 0};
    memcpy(light.hash, a.hash, CV_HASH_LEN);
    for (uint32_t v = 1; v < N; v++)
        cert_sig(&light, v, &a, CHAIN);
    CHECK_ERR(verify(w, &light, 5, &a), CV_EINVAL); /* 3 of 8 */
    free(w);
}

/* ---- a cluster of four engines ------------------------------------------------- */

typedef struct {
    int to;
    int proposal;
    cv_buf bytes;
} queued;

#define QMAX 4096
static queued queue[QMAX];
static size_t qhead, qtail;
static block_t committed[N][16];
static size_t ncommitted[N];

static void enqueue(int to, int proposal, const uint8_t *p, size_t len)
{
    CHECK(qtail < QMAX);
    queued *q = &queue[qtail++];
    q->to = to;
    q->proposal = proposal;
    cv_buf_reset(&q->bytes);
    cv_buf_append(&q->bytes, p, len);
}

static void handle_outputs(cv_bft **e, int i, uint64_t *blocks_made)
{
    size_t n;
    const cv_bft_out *o = cv_bft_outputs(e[i], &n);
    cv_bft_out copy[64];
    cv_buf data[64] = {{0}};
    CHECK(n <= 64);
    for (size_t k = 0; k < n && k < 64; k++) { /* copy: the next call overwrites them */
        copy[k] = o[k];
        cv_buf_append(&data[k], o[k].bytes, o[k].len);
    }
    CHECK(persist_first(e[i]));
    for (size_t k = 0; k < n && k < 64; k++) {
        if (copy[k].kind == CV_BFT_OUT_PROPOSAL || copy[k].kind == CV_BFT_OUT_VOTE)
            for (int j = 0; j < N; j++)
                if (j != i)
                    enqueue(j, copy[k].kind == CV_BFT_OUT_PROPOSAL, data[k].data, data[k].len);
        if (copy[k].kind == CV_BFT_OUT_COMMIT) {
            block_t *c = &committed[i][ncommitted[i]++];
            c->len = data[k].len;
            memcpy(c->bytes, data[k].data, c->len);
            memcpy(c->hash, copy[k].hash, CV_HASH_LEN);
            if (ncommitted[i] < 5) {
                CHECK_OK(cv_bft_start(e[i], copy[k].height + 1, vs));
                handle_outputs(e, i, blocks_made);
            }
        }
        if (copy[k].kind == CV_BFT_OUT_GET_BLOCK) {
            block_t blk = make_block((char)('A' + (*blocks_made)++), 1);
            CHECK_OK(cv_bft_block_ready(e[i], copy[k].height, copy[k].round, blk.hash, blk.bytes, blk.len));
            handle_outputs(e, i, blocks_made);
        }
    }
    for (size_t k = 0; k < 64; k++)
        cv_buf_free(&data[k]);
}

static void test_cluster(void)
{
    cv_bft *e[N];
    uint64_t blocks_made = 0;
    for (int i = 0; i < N; i++)
        e[i] = engine(i, 1);
    for (int i = 0; i < N; i++)
        handle_outputs(e, i, &blocks_made);
    while (qhead < qtail) {
        queued *q = &queue[qhead++];
        int rc = q->proposal ? cv_bft_on_proposal(e[q->to], q->bytes.data, q->bytes.len)
                             : cv_bft_on_vote(e[q->to], q->bytes.data, q->bytes.len);
        CHECK(rc == CV_OK || rc == CV_ESTATE); /* late votes of a decided height */
        handle_outputs(e, q->to, &blocks_made);
    }
    for (int i = 0; i < N; i++) {
        CHECK(ncommitted[i] == 5 && e[i]->stats.bad_signature == 0 && e[i]->stats.equivocation == 0);
        for (size_t h = 0; h < ncommitted[i]; h++)
            CHECK(memcmp(committed[i][h].hash, committed[0][h].hash, CV_HASH_LEN) == 0);
    }
    CHECK(blocks_made == 5); /* one block per height: every height decided in round 0 */
    for (int i = 0; i < N; i++)
        drop_engine(e[i]);
    for (size_t k = 0; k < QMAX; k++)
        cv_buf_free(&queue[k].bytes);
}

/* ---- setup ---------------------------------------------------------------------- */

static void make_validators(void)
{
    cv_keypair k[N];
    cv_valset_entry e[N];
    for (int i = 0; i < N; i++) {
        uint8_t secret[CV_SECRET_LEN];
        memset(secret, 0x20 + i, sizeof secret);
        CHECK_OK(cv_key_from_secret(CV_SUITE_STD, secret, &k[i]));
        e[i].pub = k[i].pub;
        e[i].power = 1;
    }
    vs = malloc(sizeof *vs);
    CHECK_OK(cv_valset_init(vs, CV_SUITE_STD, e, N));
    for (int i = 0; i < N; i++)
        keys[cv_valset_find_key(vs, &k[i].pub)] = k[i];
}

/* A single validator's certificate (the solo engine's) is the certificate
 * BFT would make from that validator's precommit in round 0, and
 * cv_cert_verify accepts it for a one-validator set only. */
static void test_single_certificate(void)
{
    block_t a = make_block('s', 1);
    cv_valset_entry one = {keys[1].pub, 7};
    cv_valset *solo = malloc(sizeof *solo);
    CHECK_OK(cv_valset_init(solo, CV_SUITE_STD, &one, 1));
    cv_buf single = {0}, bft = {0};
    CHECK_OK(cv_cert_sign_single(CHAIN, &keys[1], 0, 9, a.hash, &single));
    CHECK_OK(cv_cert_verify(CV_SUITE_STD, CHAIN, solo, 9, a.hash, single.data, single.len));
    CHECK_ERR(cv_cert_verify(CV_SUITE_STD, CHAIN, solo, 10, a.hash, single.data, single.len), CV_EINVAL);
    CHECK_ERR(cv_cert_verify(CV_SUITE_STD, "other-chain", solo, 9, a.hash, single.data, single.len), CV_EBADSIG);
    CHECK_ERR(cv_cert_verify(CV_SUITE_STD, CHAIN, vs, 9, a.hash, single.data, single.len), CV_EBADSIG);
    cv_cert c = {.height = 9, .round = 0, .n = 1};
    cv_vote v = {.type = CV_VOTE_PRECOMMIT, .height = 9, .round = 0, .validator = 0};
    memcpy(c.hash, a.hash, CV_HASH_LEN);
    memcpy(v.hash, a.hash, CV_HASH_LEN);
    CHECK_OK(cv_vote_sign_bytes(CHAIN, &v, &bft));
    CHECK_OK(cv_sign(&keys[1], bft.data, bft.len, &c.sigs[0].sig));
    cv_buf_reset(&bft);
    CHECK_OK(cv_cert_encode(&c, &bft));
    CHECK(single.len == bft.len && memcmp(single.data, bft.data, bft.len) == 0); /* Ed25519 is deterministic */
    cv_buf_free(&single);
    cv_buf_free(&bft);
    free(solo);
}

int main(void)
{
    CHECK_OK(cv_crypto_init());
    make_validators();
    test_happy_path();
    test_invalid_block();
    test_lock_rules();
    test_unlock_by_later_polka();
    test_ignore_lock_mutation();
    test_timeouts();
    test_polka_nil();
    test_round_skip();
    test_drops();
    test_equivocator_counts();
    test_old_rounds();
    test_proposer_path();
    test_gossip();
    test_restore();
    test_record_codec();
    test_next_height_held();
    test_follower();
    test_certificates();
    test_cluster();
    test_single_certificate();
    cv_buf_free(&msg);
    cv_buf_free(&rec_block);
    for (int i = 0; i < N; i++)
        cv_key_wipe(&keys[i]);
    free(vs);
    cv_crypto_cleanup();
    return check_done();
}
