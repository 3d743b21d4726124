/* tendermint.c: Tendermint BFT consensus as a pure state machine (see
 * tendermint.h).
 *
 * This is Algorithm 1 of Buchman, Kwon, Milosevic, "The latest gossip on BFT
 * consensus" (arXiv:1807.04938v3). Comments "line N" refer to its lines. Its
 * "2f + 1 messages" is read as "messages from validators holding more than
 * two thirds of the voting power", "f + 1" as "more than one third", and
 * id(v) is the block hash. The paper's variables map as
 *     h_p, round_p, step_p            b->height, b->round, b->step
 *     lockedValue_p, lockedRound_p    b->rec.locked_hash, b->rec.locked_round
 *     validValue_p, validRound_p      b->valid_block, b->rec.valid_hash, b->rec.valid_round
 *     decision_p[h_p]                 the COMMIT output; the caller then starts h_p + 1
 * and every "upon" rule is a rule_* function; run_rules() applies them until
 * none fires, after every input, which is how the paper's rules are meant to
 * be evaluated (any enabled rule may fire).
 *
 * Where this differs from the paper, and why it is safe:
 * - Line 55 (f + 1 messages of a round r > round_p: skip to r) counts each
 *   validator's highest round seen, and skips to the highest round R that
 *   validators with more than a third of the power have reached or passed.
 *   Like the paper's rule it guarantees that a correct validator reached
 *   round R, and it needs one number per validator instead of unbounded
 *   per-round message sets. Round changes never affect safety.
 * - The propose timeout (line 21) is also set at the proposer: building the
 *   block is asynchronous here (GET_BLOCK), and prevoting nil when it is late
 *   is always allowed (it is what lines 57-60 do at everyone else).
 * - Gossip: the paper assumes every message a correct process received
 *   reaches every correct process eventually. The network does not promise
 *   that, so a GOSSIP timer re-sends this validator's proposal and votes of
 *   the current round, the precommits of the previous round (which move
 *   the validators left behind there, line 47), and the prevotes that
 *   justify its valid value (the polka line 28 needs at the others).
 * - A validator restarted without its valid value's bytes (the node lost
 *   them, or they are no longer valid) proposes a new block instead (line
 *   18 instead of 16). Any proposal is safe; liveness needs the re-proposal
 *   by some validator, which is why PERSIST carries the valid block.
 * - Decisions for a height reached by block sync are the caller's: it checks
 *   the certificate and calls cv_bft_start for the next height. */
#include "consensus/tendermint.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"

enum { VALIDITY_UNKNOWN = 0, VALIDITY_VALID = 1, VALIDITY_INVALID = 2 };
enum { HELD_PROPOSAL = 0, HELD_PREVOTE = 1, HELD_PRECOMMIT = 2 };
typedef enum { MATCH_ANY, MATCH_NIL, MATCH_HASH } match;

/* The current round, at most two future rounds, the rounds of the lock, of
 * the valid value and of the current proposal's polka always fit. */
_Static_assert(CV_BFT_ROUND_SLOTS >= CV_BFT_FUTURE_ROUNDS + 4, "too few round slots");

static const char *vote_name(cv_vote_type t) { return t == CV_VOTE_PREVOTE ? "prevote" : "precommit"; }

/* ---- outputs --------------------------------------------------------------- */

static void begin_call(cv_bft *b)
{
    b->nout = 0;
    cv_buf_reset(&b->arena);
}

static int emit(cv_bft *b, cv_bft_out_kind kind)
{
    if (b->nout == b->out_cap) {
        size_t cap = b->out_cap ? 2 * b->out_cap : 16;
        cv_bft_out *out = realloc(b->out, cap * sizeof *out);
        if (out)
            b->out = out;
        size_t *off = realloc(b->out_off, 2 * cap * sizeof *off);
        if (off)
            b->out_off = off;
        if (!out || !off)
            return cv_fail(CV_ENOMEM, "out of memory queueing consensus outputs");
        b->out_cap = cap;
    }
    cv_bft_out *o = &b->out[b->nout];
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->height = b->height;
    o->round = b->round;
    b->out_off[2 * b->nout] = b->out_off[2 * b->nout + 1] = SIZE_MAX;
    b->nout++;
    return CV_OK;
}

static cv_bft_out *last_out(cv_bft *b) { return &b->out[b->nout - 1]; }

/* Marks arena bytes [at, end) as the last output's bytes (which = 0) or extra (1). */
static void span(cv_bft *b, int which, size_t at)
{
    cv_bft_out *o = last_out(b);
    b->out_off[2 * (b->nout - 1) + which] = at;
    *(which ? &o->extra_len : &o->len) = b->arena.len - at;
}

static int emit_bytes(cv_bft *b, int which, const uint8_t *p, size_t n)
{
    size_t at = b->arena.len;
    int rc = cv_buf_append(&b->arena, p, n);
    if (!rc)
        span(b, which, at);
    return rc;
}

static int emit_timeout(cv_bft *b, cv_bft_timeout kind, uint64_t ms)
{
    int rc = emit(b, CV_BFT_OUT_TIMEOUT);
    if (!rc) {
        last_out(b)->timeout = kind;
        last_out(b)->ms = ms;
    }
    return rc;
}

/* The paper's timeoutPropose(r), timeoutPrevote(r), timeoutPrecommit(r). */
static uint64_t timeout_ms(const cv_bft *b, cv_bft_timeout kind, int32_t r)
{
    uint64_t base = kind == CV_BFT_TIMEOUT_PROPOSE ? b->cfg.propose_ms
                  : kind == CV_BFT_TIMEOUT_PREVOTE ? b->cfg.prevote_ms
                                                   : b->cfg.precommit_ms;
    return base + (uint64_t)r * b->cfg.delta_ms;
}

static int schedule(cv_bft *b, cv_bft_timeout kind)
{
    return emit_timeout(b, kind, timeout_ms(b, kind, b->round));
}

static void snapshot(const cv_bft *b, cv_bft_record *r)
{
    *r = b->rec;
    r->height = b->height;
    r->round = b->round;
    r->step = b->step;
}

static int encode_valid(cv_bft *b);

/* Moves the last output to the front of the batch. */
static void move_last_first(cv_bft *b)
{
    size_t last = b->nout - 1;
    cv_bft_out o = b->out[last];
    size_t off[2] = {b->out_off[2 * last], b->out_off[2 * last + 1]};
    memmove(b->out + 1, b->out, last * sizeof *b->out);
    memmove(b->out_off + 2, b->out_off, 2 * last * sizeof *b->out_off);
    b->out[0] = o;
    b->out_off[0] = off[0];
    b->out_off[1] = off[1];
}

/* Puts a PERSIST output first if the record (or the valid value) changed
 * during the call. */
static int persist_first(cv_bft *b)
{
    cv_bft_record r;
    snapshot(b, &r);
    size_t at = b->arena.len;
    int rc = cv_bft_record_encode(&r, &b->arena);
    size_t n = b->arena.len - at;
    if (rc || (!b->valid_dirty && n == b->persisted.len && memcmp(b->arena.data + at, b->persisted.data, n) == 0)) {
        b->arena.len = at;
        return rc;
    }
    cv_buf_reset(&b->persisted);
    if ((rc = cv_buf_append(&b->persisted, b->arena.data + at, n)) || (rc = emit(b, CV_BFT_OUT_PERSIST)))
        return rc;
    span(b, 0, at);
    if (b->valid_dirty) {
        at = b->arena.len;
        if ((rc = encode_valid(b)))
            return rc;
        span(b, 1, at);
    }
    b->valid_dirty = 0;
    move_last_first(b);
    return CV_OK;
}

/* Ends an input call: the record first if it changed (even if the call
 * failed half-way, so that what was signed is covered), then resolves the
 * outputs' byte pointers (the arena no longer moves). If the record cannot
 * be written there are no outputs. */
static int finish_call(cv_bft *b, int rc)
{
    if (b->started && b->self >= 0) {
        int prc = persist_first(b);
        if (prc) {
            b->nout = 0;
            return prc;
        }
    }
    for (size_t i = 0; i < b->nout; i++) {
        size_t a = b->out_off[2 * i], x = b->out_off[2 * i + 1];
        b->out[i].bytes = a == SIZE_MAX ? NULL : b->arena.data + a;
        b->out[i].extra = x == SIZE_MAX ? NULL : b->arena.data + x;
    }
    return rc;
}

const cv_bft_out *cv_bft_outputs(const cv_bft *b, size_t *n)
{
    *n = b->nout;
    return b->out;
}

/* ---- tallies --------------------------------------------------------------- */

static int same_vote(const cv_bft_vote *v, const uint8_t *hash)
{
    return hash ? !v->nil && memcmp(v->hash, hash, CV_HASH_LEN) == 0 : v->nil;
}

/* Which of the validator's votes in slot is for hash (NULL: nil), or -1. */
static int vote_for(const cv_bft_vote_slot *slot, const uint8_t *hash)
{
    for (int k = 0; k < slot->count; k++)
        if (same_vote(&slot->v[k], hash))
            return k;
    return -1;
}

static uint64_t tally(const cv_bft *b, const cv_bft_vote_slot *votes, match m, const uint8_t *hash)
{
    uint64_t power = 0;
    for (size_t i = 0; i < b->vs->n; i++) {
        const cv_bft_vote_slot *slot = &votes[i];
        if (slot->count && (m == MATCH_ANY || vote_for(slot, m == MATCH_NIL ? NULL : hash) >= 0))
            power += b->vs->v[i].power;
    }
    return power;
}

/* "2f + 1 ⟨...⟩": votes of more than two thirds of the power match. */
static int quorum(const cv_bft *b, const cv_bft_vote_slot *votes, match m, const uint8_t *hash)
{
    return cv_valset_quorum(b->vs, tally(b, votes, m, hash));
}

/* ---- round slots ----------------------------------------------------------- */

static cv_bft_round *slot_find(cv_bft *b, int32_t r)
{
    if (r < 0)
        return NULL; /* "no round" (free slots have round -1) */
    for (size_t i = 0; i < CV_BFT_ROUND_SLOTS; i++)
        if (b->rounds[i].round == r)
            return &b->rounds[i];
    return NULL;
}

static void slot_clear(cv_bft_round *s)
{
    cv_buf block = s->block;
    memset(s, 0, sizeof *s);
    s->round = -1;
    s->pol_round = -1;
    cv_buf_reset(&block);
    s->block = block;
}

/* The valid round claimed by the current round's proposal: its prevotes
 * are what line 28 waits for, however old that round is. -1: none. */
static int32_t wanted_polka(cv_bft *b)
{
    const cv_bft_round *s = slot_find(b, b->round);
    return s && s->has_proposal ? s->pol_round : -1;
}

/* Rounds whose slots are never reused. */
static int pinned(cv_bft *b, int32_t r)
{
    return r == b->round || r == b->rec.valid_round || r == b->rec.locked_round || r == wanted_polka(b);
}

/* The slot that would hold round r: its own, a free one, or the one of the
 * oldest unpinned round if that is older than r (or r is the wanted polka's
 * round). NULL if r is too far ahead or older than everything kept. */
static cv_bft_round *slot_choice(cv_bft *b, int32_t r)
{
    cv_bft_round *s = slot_find(b, r), *victim = NULL;
    if (s)
        return s;
    if (r > b->round + CV_BFT_FUTURE_ROUNDS)
        return NULL;
    for (size_t i = 0; i < CV_BFT_ROUND_SLOTS; i++) {
        cv_bft_round *t = &b->rounds[i];
        if (t->round < 0)
            return t;
        if (!pinned(b, t->round) && (!victim || t->round < victim->round))
            victim = t;
    }
    return victim && (victim->round < r || r == wanted_polka(b)) ? victim : NULL;
}

static cv_bft_round *slot_take(cv_bft *b, int32_t r)
{
    cv_bft_round *s = slot_choice(b, r);
    if (s && s->round != r) {
        slot_clear(s);
        s->round = r;
    }
    return s;
}

static cv_bft_vote_slot *vote_slot(cv_bft_round *s, cv_vote_type type, uint32_t who)
{
    return type == CV_VOTE_PREVOTE ? &s->prevotes[who] : &s->precommits[who];
}

static void store_vote(cv_bft_vote_slot *slot, const cv_vote *v)
{
    slot->count = 1;
    slot->v[0] = (cv_bft_vote){.nil = (uint8_t)v->nil, .sig = v->sig};
    memcpy(slot->v[0].hash, v->hash, CV_HASH_LEN);
}

/* ---- validity ---------------------------------------------------------------- */

/* valid(v) for the proposal of slot s, asked of the caller once per block. */
static int proposal_valid(cv_bft *b, cv_bft_round *s)
{
    assert(s->has_proposal);
    for (size_t i = 0; i < CV_BFT_ROUND_SLOTS && s->validity == VALIDITY_UNKNOWN; i++) {
        const cv_bft_round *t = &b->rounds[i];
        if (t != s && t->has_proposal && t->validity != VALIDITY_UNKNOWN &&
            memcmp(t->hash, s->hash, CV_HASH_LEN) == 0 && t->block.len == s->block.len &&
            memcmp(t->block.data, s->block.data, s->block.len) == 0)
            s->validity = t->validity;
    }
    if (s->validity == VALIDITY_UNKNOWN) {
        int ok = b->cfg.valid(b->cfg.ctx, b->height, s->hash, s->block.data, s->block.len);
        s->validity = ok == 1 ? VALIDITY_VALID : VALIDITY_INVALID;
    }
    return s->validity == VALIDITY_VALID;
}

/* ---- signing and sending --------------------------------------------------------- */

static int sign(cv_bft *b, const cv_buf *msg, cv_sig *sig)
{
    int rc = b->cfg.sign(b->cfg.ctx, msg->data, msg->len, sig);
    return rc ? cv_fail(rc, "cannot sign a consensus message: %s", cv_errmsg()) : CV_OK;
}

/* Emits validator who's vote k (0, or 1: its conflicting one) of slot s. */
static int send_vote(cv_bft *b, const cv_bft_round *s, cv_vote_type type, uint32_t who, int k)
{
    const cv_bft_vote *sv = type == CV_VOTE_PREVOTE ? &s->prevotes[who].v[k] : &s->precommits[who].v[k];
    cv_vote v = {.type = type, .height = b->height, .round = s->round, .nil = sv->nil,
                 .validator = who, .sig = sv->sig};
    memcpy(v.hash, sv->hash, CV_HASH_LEN);
    size_t at = b->arena.len;
    int rc = emit(b, CV_BFT_OUT_VOTE);
    if (!rc && !(rc = cv_vote_encode(&v, &b->arena)))
        span(b, 0, at);
    return rc;
}

static void proposal_of(const cv_bft *b, const cv_bft_round *s, int with_block, cv_vote_proposal *p)
{
    memset(p, 0, sizeof *p);
    p->height = b->height;
    p->round = s->round;
    p->pol_round = s->pol_round;
    memcpy(p->hash, s->hash, CV_HASH_LEN);
    p->proposer = (uint32_t)cv_valset_proposer(b->vs, b->height, (uint32_t)s->round);
    p->sig = s->proposal_sig;
    p->block = with_block ? s->block.data : NULL;
    p->block_len = with_block ? s->block.len : 0;
}

static int send_proposal(cv_bft *b, const cv_bft_round *s)
{
    cv_vote_proposal p;
    proposal_of(b, s, 1, &p);
    size_t at = b->arena.len;
    int rc = emit(b, CV_BFT_OUT_PROPOSAL);
    if (!rc && !(rc = cv_vote_proposal_encode(&p, &b->arena)))
        span(b, 0, at);
    return rc;
}

/* Sends the prevotes that justify this validator's valid value: the polka
 * its proposals name as their valid round (line 28). */
static int send_polka(cv_bft *b)
{
    cv_bft_round *pol = slot_find(b, b->rec.valid_round);
    int rc = CV_OK;
    for (size_t i = 0; pol && i < b->vs->n && !rc; i++) {
        int k = vote_for(&pol->prevotes[i], b->rec.valid_hash);
        if (k >= 0)
            rc = send_vote(b, pol, CV_VOTE_PREVOTE, (uint32_t)i, k);
    }
    return rc;
}

/* Signs, counts and broadcasts this validator's vote for hash (NULL: nil)
 * in the current round. The only place that signs votes: it refuses a vote
 * that conflicts with one signed before at this height (the record), which
 * a correct engine never asks for; signing the same vote again is allowed
 * (after a restart). */
static int cast_vote(cv_bft *b, cv_vote_type type, const uint8_t *hash)
{
    if (b->self < 0)
        return CV_OK;
    int precommit = type == CV_VOTE_PRECOMMIT;
    int32_t *last = precommit ? &b->rec.precommit_round : &b->rec.prevote_round;
    int *last_nil = precommit ? &b->rec.precommit_nil : &b->rec.prevote_nil;
    uint8_t *last_hash = precommit ? b->rec.precommit_hash : b->rec.prevote_hash;
    int again = *last == b->round && *last_nil == !hash && (!hash || memcmp(last_hash, hash, CV_HASH_LEN) == 0);
    if (*last > b->round || (*last == b->round && !again)) {
        assert(!"a correct engine never signs conflicting votes");
        return cv_fail(CV_ESTATE, "refusing to sign a %s at height %llu round %d that conflicts with one signed before",
                       vote_name(type), (unsigned long long)b->height, (int)b->round);
    }
    cv_vote v = {.type = type, .height = b->height, .round = b->round, .nil = !hash, .validator = (uint32_t)b->self};
    if (hash)
        memcpy(v.hash, hash, CV_HASH_LEN);
    cv_buf msg = {0};
    int rc = cv_vote_sign_bytes(b->cfg.chain_id, &v, &msg);
    if (!rc)
        rc = sign(b, &msg, &v.sig);
    cv_buf_free(&msg);
    if (rc)
        return rc;
    *last = b->round;
    *last_nil = !hash;
    memset(last_hash, 0, CV_HASH_LEN);
    if (hash)
        memcpy(last_hash, hash, CV_HASH_LEN);
    cv_bft_round *s = slot_take(b, b->round);
    assert(s); /* the current round always has a slot */
    cv_bft_vote_slot *slot = vote_slot(s, type, v.validator);
    int k = vote_for(slot, hash); /* there already if restored with the polka */
    if (k < 0) {
        /* A different vote in our name means that our key signs elsewhere
         * too (a second node with the same key): keep it as the conflict. */
        cv_bft_vote other = slot->v[0];
        int had = slot->count > 0;
        store_vote(slot, &v);
        if (had) {
            slot->v[1] = other;
            slot->count = 2;
        }
        k = 0;
    }
    return send_vote(b, s, type, v.validator, k);
}

/* Signs and broadcasts the proposal of block (hash) for the current round
 * with valid round pol (line 19), and delivers it to itself. */
static int propose(cv_bft *b, const uint8_t hash[CV_HASH_LEN], int32_t pol, const uint8_t *block, size_t len)
{
    assert(b->self >= 0 && b->step == CV_BFT_PROPOSE && pol < b->round);
    assert(cv_valset_proposer(b->vs, b->height, (uint32_t)b->round) == (size_t)b->self);
    if (b->rec.proposal_round >= b->round) {
        assert(!"a correct engine proposes once per round");
        return cv_fail(CV_ESTATE, "refusing to sign a second proposal at height %llu round %d",
                       (unsigned long long)b->height, (int)b->round);
    }
    cv_bft_round *s = slot_take(b, b->round);
    assert(s);
    if (s->has_proposal)
        return CV_OK; /* one signed with our key elsewhere (a second node with it): not a second one */
    cv_vote_proposal p = {.height = b->height, .round = b->round, .pol_round = pol, .proposer = (uint32_t)b->self};
    memcpy(p.hash, hash, CV_HASH_LEN);
    cv_buf msg = {0};
    int rc = cv_vote_proposal_sign_bytes(b->cfg.chain_id, &p, &msg);
    if (!rc)
        rc = sign(b, &msg, &s->proposal_sig);
    cv_buf_free(&msg);
    if (!rc)
        rc = cv_buf_append(&s->block, block, len);
    if (rc)
        return rc;
    b->rec.proposal_round = b->round;
    memcpy(b->rec.proposal_hash, hash, CV_HASH_LEN);
    s->has_proposal = 1;
    s->validity = VALIDITY_VALID; /* built by the caller, or the valid value (line 36 checked it) */
    s->pol_round = pol;
    memcpy(s->hash, hash, CV_HASH_LEN);
    return send_proposal(b, s);
}

/* ---- the algorithm ----------------------------------------------------------------- */

/* Function StartRound(round), lines 11-21. */
static int start_round(cv_bft *b, int32_t round)
{
    assert(round >= b->round && round <= CV_VOTE_ROUND_MAX);
    b->round = round;            /* line 12 */
    b->step = CV_BFT_PROPOSE;    /* line 13 */
    int rc = CV_OK;
    int mine = b->self >= 0 && cv_valset_proposer(b->vs, b->height, (uint32_t)round) == (size_t)b->self;
    if (mine && b->rec.proposal_round < round) {             /* line 14 */
        if (b->rec.valid_round >= 0 && b->valid_block.len) { /* line 15 */
            rc = propose(b, b->rec.valid_hash, b->rec.valid_round, b->valid_block.data,
                         b->valid_block.len);                /* lines 16, 19 */
            if (!rc)
                rc = send_polka(b); /* what line 28 needs at the others */
        }
        else
            rc = emit(b, CV_BFT_OUT_GET_BLOCK);              /* line 18: getValue() */
    }
    return rc ? rc : schedule(b, CV_BFT_TIMEOUT_PROPOSE);     /* line 21 */
}

/* Lines 22-27 (valid round -1) and 28-33 (valid round vr < round_p with
 * 2f + 1 prevotes for id(v) in vr): the first prevote of the round. */
static int rule_prevote_proposal(cv_bft *b)
{
    cv_bft_round *s = slot_find(b, b->round);
    if (b->step != CV_BFT_PROPOSE || !s || !s->has_proposal)
        return 0;
    int32_t vr = s->pol_round;
    int unlocked;
    if (vr < 0) {
        unlocked = b->rec.locked_round < 0 ||                                   /* line 23 */
                   memcmp(b->rec.locked_hash, s->hash, CV_HASH_LEN) == 0;
    } else {
        cv_bft_round *pol = slot_find(b, vr);
        if (!pol || !quorum(b, pol->prevotes, MATCH_HASH, s->hash))              /* line 28 */
            return 0;
        unlocked = b->rec.locked_round <= vr ||                                  /* line 29 */
                   memcmp(b->rec.locked_hash, s->hash, CV_HASH_LEN) == 0;
    }
    unlocked = unlocked || b->cfg.test_ignore_lock;
    int yes = proposal_valid(b, s) && unlocked;
    /* The lock rule: a locked validator prevotes another value only on a
     * polka from after its lock. */
    assert(!yes || b->cfg.test_ignore_lock || b->rec.locked_round < 0 || vr >= b->rec.locked_round ||
           memcmp(b->rec.locked_hash, s->hash, CV_HASH_LEN) == 0);
    int rc = cast_vote(b, CV_VOTE_PREVOTE, yes ? s->hash : NULL); /* lines 24, 26, 30, 32 */
    b->step = CV_BFT_PREVOTE;                                       /* lines 27, 33 */
    return rc ? rc : 1;
}

/* Lines 34-35: 2f + 1 prevotes of any kind, first time: prevote timeout. */
static int rule_prevote_timer(cv_bft *b)
{
    cv_bft_round *s = slot_find(b, b->round);
    if (b->step != CV_BFT_PREVOTE || !s || s->prevote_timer || !quorum(b, s->prevotes, MATCH_ANY, NULL))
        return 0;
    s->prevote_timer = 1;
    int rc = schedule(b, CV_BFT_TIMEOUT_PREVOTE);
    return rc ? rc : 1;
}

/* Lines 36-43: the round's proposal, valid, with 2f + 1 prevotes for it
 * (a polka), first time, in step prevote or later: lock on it if still in
 * prevote, and it becomes the valid value either way. */
static int rule_lock(cv_bft *b)
{
    cv_bft_round *s = slot_find(b, b->round);
    if (b->step < CV_BFT_PREVOTE || !s || !s->has_proposal || s->lock_seen ||
        !quorum(b, s->prevotes, MATCH_HASH, s->hash) || !proposal_valid(b, s))
        return 0;
    s->lock_seen = 1;
    int rc = CV_OK;
    if (b->step == CV_BFT_PREVOTE) {                                   /* line 37 */
        b->rec.locked_round = b->round;                                /* lines 38-39 */
        memcpy(b->rec.locked_hash, s->hash, CV_HASH_LEN);
        rc = cast_vote(b, CV_VOTE_PRECOMMIT, s->hash);                 /* line 40 */
        b->step = CV_BFT_PRECOMMIT;                                    /* line 41 */
    }
    b->rec.valid_round = b->round;                                     /* lines 42-43 */
    memcpy(b->rec.valid_hash, s->hash, CV_HASH_LEN);
    cv_buf_reset(&b->valid_block);
    if (!rc)
        rc = cv_buf_append(&b->valid_block, s->block.data, s->block.len);
    b->valid_dirty = 1;
    assert(b->rec.locked_round <= b->rec.valid_round && b->rec.valid_round == b->round);
    return rc ? rc : 1;
}

/* Lines 44-46: 2f + 1 prevotes for nil while in prevote: precommit nil. */
static int rule_precommit_nil(cv_bft *b)
{
    cv_bft_round *s = slot_find(b, b->round);
    if (b->step != CV_BFT_PREVOTE || !s || !quorum(b, s->prevotes, MATCH_NIL, NULL))
        return 0;
    int rc = cast_vote(b, CV_VOTE_PRECOMMIT, NULL); /* line 45 */
    b->step = CV_BFT_PRECOMMIT;                      /* line 46 */
    return rc ? rc : 1;
}

/* Lines 47-48: 2f + 1 precommits of any kind, first time: precommit timeout. */
static int rule_precommit_timer(cv_bft *b)
{
    cv_bft_round *s = slot_find(b, b->round);
    if (!s || s->precommit_timer || !quorum(b, s->precommits, MATCH_ANY, NULL))
        return 0;
    s->precommit_timer = 1;
    int rc = schedule(b, CV_BFT_TIMEOUT_PRECOMMIT);
    return rc ? rc : 1;
}

/* The certificate: every precommit for the decided block in its round. */
static int encode_cert(cv_bft *b, const cv_bft_round *s)
{
    cv_cert c = {.height = b->height, .round = s->round};
    assert(quorum(b, s->precommits, MATCH_HASH, s->hash));
    memcpy(c.hash, s->hash, CV_HASH_LEN);
    for (size_t i = 0; i < b->vs->n; i++) {
        int k = vote_for(&s->precommits[i], s->hash);
        if (k >= 0) {
            c.sigs[c.n].validator = (uint32_t)i;
            c.sigs[c.n++].sig = s->precommits[i].v[k].sig;
        }
    }
    size_t at = b->arena.len;
    int rc = cv_cert_encode(&c, &b->arena);
    if (!rc)
        span(b, 1, at);
    return rc;
}

/* Lines 49-54: a proposal of any round r, valid, with 2f + 1 precommits for
 * it in r: decide. The caller commits the block and starts the next height
 * (lines 52-54) with cv_bft_start. */
static int rule_decide(cv_bft *b)
{
    for (size_t i = 0; i < CV_BFT_ROUND_SLOTS; i++) {
        cv_bft_round *s = &b->rounds[i];
        if (s->round < 0 || !s->has_proposal || !quorum(b, s->precommits, MATCH_HASH, s->hash) ||
            !proposal_valid(b, s))                                       /* lines 49-50 */
            continue;
        int rc = emit(b, CV_BFT_OUT_COMMIT);                             /* line 51 */
        if (rc || (rc = emit_bytes(b, 0, s->block.data, s->block.len)) || (rc = encode_cert(b, s)))
            return rc;
        last_out(b)->round = s->round;
        memcpy(last_out(b)->hash, s->hash, CV_HASH_LEN);
        b->decided = 1;
        return 1;
    }
    return 0;
}

/* The highest round R > round_p that validators with more than a third of
 * the power have reached (messages of round R or later), or -1. */
static int32_t skip_target(const cv_bft *b)
{
    int32_t rounds[CV_VALSET_MAX];
    uint64_t powers[CV_VALSET_MAX], ahead = 0;
    size_t n = 0;
    for (size_t i = 0; i < b->vs->n; i++) {
        if (b->max_round[i] <= b->round)
            continue;
        size_t j = n++; /* insertion sort, highest round first */
        for (; j > 0 && rounds[j - 1] < b->max_round[i]; j--) {
            rounds[j] = rounds[j - 1];
            powers[j] = powers[j - 1];
        }
        rounds[j] = b->max_round[i];
        powers[j] = b->vs->v[i].power;
        ahead += powers[j];
    }
    if (!cv_valset_third(b->vs, ahead))
        return -1;
    uint64_t power = 0;
    for (size_t j = 0; j < n; j++) {
        power += powers[j];
        if (cv_valset_third(b->vs, power))
            return rounds[j];
    }
    assert(!"unreachable: the powers ahead sum to more than a third");
    return -1;
}

/* Line 55-56: f + 1 messages of a later round: StartRound(that round). */
static int rule_skip_round(cv_bft *b)
{
    int32_t r = skip_target(b);
    if (r <= b->round)
        return 0;
    b->stats.rounds_skipped++;
    int rc = start_round(b, r);
    return rc ? rc : 1;
}

/* Applies the upon rules until none fires. */
static int run_rules(cv_bft *b)
{
    while (!b->decided) {
        int rc;
        if ((rc = rule_decide(b)) || (rc = rule_skip_round(b)) || (rc = rule_prevote_proposal(b)) ||
            (rc = rule_prevote_timer(b)) || (rc = rule_lock(b)) || (rc = rule_precommit_nil(b)) ||
            (rc = rule_precommit_timer(b))) {
            if (rc < 0)
                return rc;
            continue;
        }
        break;
    }
    return CV_OK;
}

/* ---- receiving ------------------------------------------------------------------------ */

static void clear_held(cv_bft *b)
{
    for (size_t i = 0; i < CV_VALSET_MAX; i++)
        for (size_t k = 0; k < 3; k++) {
            b->held[i][k].round = -1;
            cv_buf_reset(&b->held[i][k].msg);
        }
}

/* Keeps a message of the next height, the highest round per claimed sender
 * and kind (checked when that height starts). */
static int hold(cv_bft *b, int kind, uint32_t who, int32_t round, const uint8_t *msg, size_t len)
{
    cv_bft_held *h = &b->held[who][kind];
    if (h->round >= round) {
        b->stats.duplicate++;
        return cv_fail(CV_EEXIST, "already holding a message of round %d from validator %u for the next height",
                       (int)h->round, who);
    }
    cv_buf_reset(&h->msg);
    int rc = cv_buf_append(&h->msg, msg, len);
    h->round = rc ? -1 : round;
    if (!rc)
        b->stats.held++;
    return rc;
}

/* 0: the message is for this height; 1: held for the next; < 0: dropped. */
static int route(cv_bft *b, const char *what, uint64_t height, int kind, uint32_t who, int32_t round,
                 const uint8_t *msg, size_t len)
{
    if (b->started && !b->decided && height == b->height)
        return 0;
    if (b->started && height == b->height + 1) {
        int rc = hold(b, kind, who, round, msg, len);
        return rc ? rc : 1;
    }
    b->stats.wrong_height++;
    return cv_fail(CV_ESTATE, "%s for height %llu; this node is at height %llu%s", what,
                   (unsigned long long)height, (unsigned long long)b->height, b->decided ? " (decided)" : "");
}

/* Common checks of a proposal's or vote's sender and round, before its
 * signature is checked: CV_OK to go on, else the drop. */
static int check_sender(cv_bft *b, const char *what, uint32_t who, int32_t round)
{
    if (who >= b->vs->n) {
        b->stats.non_validator++;
        return cv_fail(CV_EPERM, "%s from validator index %u; the set of height %llu has %zu", what, who,
                       (unsigned long long)b->height, b->vs->n);
    }
    if (round < b->round && !slot_choice(b, round)) {
        b->stats.old_round++;
        return cv_fail(CV_ESTATE, "%s for round %d; this node is at round %d and keeps no older rounds", what,
                       (int)round, (int)b->round);
    }
    return CV_OK;
}

/* After a message's signature verified: remember the sender's highest round
 * (line 55). 1 if the round is too far ahead to keep its message. */
static int note_round(cv_bft *b, uint32_t who, int32_t round)
{
    if (round > b->max_round[who])
        b->max_round[who] = round;
    if (round <= b->round + CV_BFT_FUTURE_ROUNDS)
        return 0;
    b->stats.far_round++;
    return 1;
}

static int bad_signature(cv_bft *b, const char *what, uint32_t who)
{
    b->stats.bad_signature++;
    return cv_fail(CV_EBADSIG, "%s: signature of validator %u does not verify", what, who);
}

/* Whether votes for hash (NULL: nil) can matter: nil, and the blocks this
 * node knows a proposal of or holds as its lock or valid value. */
static int value_of_interest(cv_bft *b, const uint8_t *hash)
{
    if (!hash || (b->rec.locked_round >= 0 && memcmp(b->rec.locked_hash, hash, CV_HASH_LEN) == 0) ||
        (b->rec.valid_round >= 0 && memcmp(b->rec.valid_hash, hash, CV_HASH_LEN) == 0))
        return 1;
    for (size_t i = 0; i < CV_BFT_ROUND_SLOTS; i++)
        if (b->rounds[i].round >= 0 && b->rounds[i].has_proposal &&
            memcmp(b->rounds[i].hash, hash, CV_HASH_LEN) == 0)
            return 1;
    return 0;
}

/* A vote conflicting with the validator's earlier one. It is kept as its
 * second vote, unless that one is already taken by a value of interest and
 * this one is not, so that an equivocator spraying random values cannot
 * hide its vote for a block that matters. The first conflict of a slot is
 * reported as EVIDENCE with both votes, encoded. */
static int equivocation_vote(cv_bft *b, cv_bft_round *s, const cv_vote *v, const uint8_t *msg, size_t len)
{
    cv_bft_vote_slot *slot = vote_slot(s, v->type, v->validator);
    int first = slot->count == 1;
    b->stats.equivocation++;
    if (!first && (!value_of_interest(b, v->nil ? NULL : v->hash) ||
                   value_of_interest(b, slot->v[1].nil ? NULL : slot->v[1].hash)))
        return cv_fail(CV_EEXIST, "validator %u signed yet another %s at height %llu round %d", v->validator,
                       vote_name(v->type), (unsigned long long)v->height, (int)v->round);
    slot->count = 2;
    slot->v[1] = (cv_bft_vote){.nil = (uint8_t)v->nil, .sig = v->sig};
    memcpy(slot->v[1].hash, v->hash, CV_HASH_LEN);
    if (first) {
        int rc = send_vote(b, s, v->type, v->validator, 0); /* the first vote, encoded */
        if (rc || (rc = emit_bytes(b, 1, msg, len)))
            return rc;
        last_out(b)->kind = CV_BFT_OUT_EVIDENCE;
        last_out(b)->round = v->round;
        last_out(b)->validator = v->validator;
    }
    return run_rules(b);
}

static int equivocation_proposal(cv_bft *b, cv_bft_round *s, const cv_vote_proposal *p)
{
    b->stats.equivocation++;
    if (!s->proposal_conflict) {
        cv_vote_proposal first, second = *p;
        proposal_of(b, s, 0, &first);
        second.block = NULL;
        second.block_len = 0;
        s->proposal_conflict = 1;
        int rc = emit(b, CV_BFT_OUT_EVIDENCE);
        size_t at = b->arena.len;
        if (rc || (rc = cv_vote_proposal_encode(&first, &b->arena)))
            return rc;
        span(b, 0, at);
        at = b->arena.len;
        if ((rc = cv_vote_proposal_encode(&second, &b->arena)))
            return rc;
        span(b, 1, at);
        last_out(b)->round = p->round;
        last_out(b)->validator = p->proposer;
    }
    return cv_fail(CV_EEXIST, "validator %u signed two proposals at height %llu round %d", p->proposer,
                   (unsigned long long)p->height, (int)p->round);
}

static int take_proposal(cv_bft *b, const uint8_t *msg, size_t len)
{
    cv_vote_proposal p;
    int rc = cv_vote_proposal_decode(b->cfg.suite, msg, len, &p);
    if (rc) {
        b->stats.malformed++;
        return rc;
    }
    if ((rc = route(b, "proposal", p.height, HELD_PROPOSAL, p.proposer, p.round, msg, len)))
        return rc > 0 ? CV_OK : rc;
    if ((rc = check_sender(b, "proposal", p.proposer, p.round)))
        return rc;
    if (p.proposer != cv_valset_proposer(b->vs, b->height, (uint32_t)p.round)) {
        b->stats.not_proposer++;
        return cv_fail(CV_EPERM, "proposal for round %d from validator %u, which is not its proposer", (int)p.round,
                       p.proposer);
    }
    cv_bft_round *s = slot_find(b, p.round);
    if (s && s->has_proposal && memcmp(s->hash, p.hash, CV_HASH_LEN) == 0 && s->pol_round == p.pol_round) {
        b->stats.duplicate++;
        return cv_fail(CV_EEXIST, "proposal for round %d already received", (int)p.round);
    }
    if (cv_vote_proposal_verify(b->cfg.chain_id, &b->vs->v[p.proposer].pub, &p))
        return bad_signature(b, "proposal", p.proposer);
    if (note_round(b, p.proposer, p.round))
        return run_rules(b);
    s = slot_take(b, p.round);
    assert(s); /* check_sender and note_round ruled out the rounds without one */
    if (s->has_proposal)
        return equivocation_proposal(b, s, &p);
    if ((rc = cv_buf_append(&s->block, p.block, p.block_len)))
        return rc;
    s->has_proposal = 1;
    s->pol_round = p.pol_round;
    memcpy(s->hash, p.hash, CV_HASH_LEN);
    s->proposal_sig = p.sig;
    b->stats.accepted++;
    return run_rules(b);
}

static int take_vote(cv_bft *b, const uint8_t *msg, size_t len)
{
    cv_vote v;
    int rc = cv_vote_decode(b->cfg.suite, msg, len, &v);
    if (rc) {
        b->stats.malformed++;
        return rc;
    }
    int kind = v.type == CV_VOTE_PREVOTE ? HELD_PREVOTE : HELD_PRECOMMIT;
    if ((rc = route(b, vote_name(v.type), v.height, kind, v.validator, v.round, msg, len)))
        return rc > 0 ? CV_OK : rc;
    if ((rc = check_sender(b, vote_name(v.type), v.validator, v.round)))
        return rc;
    cv_bft_round *s = slot_find(b, v.round);
    if (s) {
        if (vote_for(vote_slot(s, v.type, v.validator), v.nil ? NULL : v.hash) >= 0) {
            b->stats.duplicate++;
            return cv_fail(CV_EEXIST, "%s of validator %u for round %d already received", vote_name(v.type),
                           v.validator, (int)v.round);
        }
    }
    if (cv_vote_verify(b->cfg.chain_id, &b->vs->v[v.validator].pub, &v))
        return bad_signature(b, vote_name(v.type), v.validator);
    if (note_round(b, v.validator, v.round))
        return run_rules(b);
    s = slot_take(b, v.round);
    assert(s);
    cv_bft_vote_slot *slot = vote_slot(s, v.type, v.validator);
    if (slot->count)
        return equivocation_vote(b, s, &v, msg, len);
    store_vote(slot, &v);
    b->stats.accepted++;
    return run_rules(b);
}

int cv_bft_on_proposal(cv_bft *b, const uint8_t *msg, size_t len)
{
    begin_call(b);
    return finish_call(b, take_proposal(b, msg, len));
}

int cv_bft_on_vote(cv_bft *b, const uint8_t *msg, size_t len)
{
    begin_call(b);
    return finish_call(b, take_vote(b, msg, len));
}

/* ---- timeouts, gossip, block building -------------------------------------------------- */

/* The precommits of the previous round: what took this validator to the
 * current round (line 47), and takes there the others that missed them. */
static int send_round_change(cv_bft *b)
{
    cv_bft_round *prev = slot_find(b, b->round - 1);
    int rc = CV_OK;
    for (size_t i = 0; prev && i < b->vs->n && !rc; i++)
        if (prev->precommits[i].count)
            rc = send_vote(b, prev, CV_VOTE_PRECOMMIT, (uint32_t)i, 0);
    return rc;
}

/* Re-sends this validator's messages of the current round, the precommits
 * that ended the previous one, and the polka of its valid value (see the
 * top of the file). */
static int gossip(cv_bft *b)
{
    cv_bft_round *s = slot_find(b, b->round);
    int rc = CV_OK;
    if (s && b->self >= 0) {
        uint32_t me = (uint32_t)b->self;
        if (s->has_proposal && cv_valset_proposer(b->vs, b->height, (uint32_t)s->round) == me)
            rc = send_proposal(b, s);
        if (!rc && s->prevotes[me].count)
            rc = send_vote(b, s, CV_VOTE_PREVOTE, me, 0);
        if (!rc && s->precommits[me].count)
            rc = send_vote(b, s, CV_VOTE_PRECOMMIT, me, 0);
    }
    if (!rc)
        rc = send_round_change(b);
    if (!rc)
        rc = send_polka(b);
    return rc ? rc : emit_timeout(b, CV_BFT_TIMEOUT_GOSSIP, b->cfg.gossip_ms);
}

static int timeout_fired(cv_bft *b, cv_bft_timeout kind, int32_t round)
{
    int rc = CV_OK;
    switch (kind) {
    case CV_BFT_TIMEOUT_PROPOSE: /* lines 57-60 */
        if (round == b->round && b->step == CV_BFT_PROPOSE) {
            rc = cast_vote(b, CV_VOTE_PREVOTE, NULL);
            b->step = CV_BFT_PREVOTE;
        }
        break;
    case CV_BFT_TIMEOUT_PREVOTE: /* lines 61-64 */
        if (round == b->round && b->step == CV_BFT_PREVOTE) {
            rc = cast_vote(b, CV_VOTE_PRECOMMIT, NULL);
            b->step = CV_BFT_PRECOMMIT;
        }
        break;
    case CV_BFT_TIMEOUT_PRECOMMIT: /* lines 65-67 */
        if (round == b->round && round < CV_VOTE_ROUND_MAX)
            rc = start_round(b, round + 1);
        break;
    case CV_BFT_TIMEOUT_GOSSIP:
        rc = gossip(b);
        break;
    default:
        return cv_fail(CV_EINVAL, "unknown consensus timeout %d", (int)kind);
    }
    return rc ? rc : run_rules(b);
}

int cv_bft_on_timeout(cv_bft *b, cv_bft_timeout kind, uint64_t height, int32_t round)
{
    begin_call(b);
    if (!b->started || b->decided || height != b->height)
        return finish_call(b, CV_OK); /* a timer of an earlier height */
    return finish_call(b, timeout_fired(b, kind, round));
}

int cv_bft_block_ready(cv_bft *b, uint64_t height, int32_t round, const uint8_t hash[CV_HASH_LEN],
                       const uint8_t *block, size_t len)
{
    begin_call(b);
    if (!b->started || b->decided || height != b->height || round != b->round || b->step != CV_BFT_PROPOSE ||
        b->self < 0 || cv_valset_proposer(b->vs, height, (uint32_t)round) != (size_t)b->self ||
        b->rec.proposal_round >= round)
        return finish_call(b, cv_fail(CV_ESTATE, "block for height %llu round %d is no longer wanted",
                                      (unsigned long long)height, (int)round));
    if (len == 0)
        return finish_call(b, cv_fail(CV_EINVAL, "an empty block cannot be proposed"));
    int rc = propose(b, hash, -1, block, len); /* line 18's value, proposed as line 19 says */
    return finish_call(b, rc ? rc : run_rules(b));
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static void record_none(cv_bft_record *r)
{
    memset(r, 0, sizeof *r);
    r->round = 0;
    r->locked_round = r->valid_round = r->proposal_round = r->prevote_round = r->precommit_round = -1;
}

int cv_bft_init(cv_bft *b, const cv_bft_config *cfg)
{
    memset(b, 0, sizeof *b);
    if (cfg->suite != CV_SUITE_STD && cfg->suite != CV_SUITE_GM)
        return cv_fail(CV_EINVAL, "consensus configured with unknown suite %d", (int)cfg->suite);
    if (!cfg->chain_id[0] || memchr(cfg->chain_id, 0, sizeof cfg->chain_id) == NULL)
        return cv_fail(CV_EINVAL, "consensus needs a chain id of 1 to %d bytes", CV_CHAIN_ID_MAX);
    if (!cfg->valid || (cfg->self.len && !cfg->sign))
        return cv_fail(CV_EINVAL, "consensus needs a valid() callback, and a sign() callback for a validator");
    if (cfg->self.len && cfg->self.suite != cfg->suite)
        return cv_fail(CV_EINVAL, "validator key of suite %s on a %s chain", cv_suite_name(cfg->self.suite),
                       cv_suite_name(cfg->suite));
    if (!cfg->propose_ms || !cfg->prevote_ms || !cfg->precommit_ms || !cfg->gossip_ms)
        return cv_fail(CV_EINVAL, "consensus timeouts must be positive");
    b->cfg = *cfg;
    b->self = -1;
    record_none(&b->rec);
    for (size_t i = 0; i < CV_BFT_ROUND_SLOTS; i++)
        slot_clear(&b->rounds[i]);
    clear_held(b);
    return CV_OK;
}

void cv_bft_free(cv_bft *b)
{
    for (size_t i = 0; i < CV_BFT_ROUND_SLOTS; i++)
        cv_buf_free(&b->rounds[i].block);
    for (size_t i = 0; i < CV_VALSET_MAX; i++)
        for (size_t k = 0; k < 3; k++)
            cv_buf_free(&b->held[i][k].msg);
    cv_buf_free(&b->valid_block);
    cv_buf_free(&b->restore_valid);
    cv_buf_free(&b->persisted);
    cv_buf_free(&b->arena);
    free(b->out);
    free(b->out_off);
    memset(b, 0, sizeof *b);
}

int cv_bft_restore(cv_bft *b, const uint8_t *record, size_t len, const uint8_t *valid, size_t valid_len)
{
    if (b->started)
        return cv_fail(CV_ESTATE, "a consensus record is restored before the first height starts");
    int rc = cv_bft_record_decode(record, len, &b->restore);
    cv_buf_reset(&b->restore_valid);
    if (!rc && valid_len)
        rc = cv_buf_append(&b->restore_valid, valid, valid_len);
    b->has_restore = rc == CV_OK;
    return rc;
}

/* The valid value as persisted, so that a restarted validator can propose
 * it again with the polka that line 28 needs at the others:
 *   {1: block (bytes), 2: polka (bytes: a certificate of the prevotes for it
 *    in the valid round, cv_cert_encode, signed as prevotes)} */
static int encode_valid(cv_bft *b)
{
    cv_bft_round *s = slot_find(b, b->rec.valid_round);
    cv_cert c = {.height = b->height, .round = b->rec.valid_round};
    cv_buf polka = {0};
    assert(s && b->valid_block.len);
    memcpy(c.hash, b->rec.valid_hash, CV_HASH_LEN);
    for (size_t i = 0; s && i < b->vs->n; i++) {
        int k = vote_for(&s->prevotes[i], c.hash);
        if (k >= 0) {
            c.sigs[c.n].validator = (uint32_t)i;
            c.sigs[c.n++].sig = s->prevotes[i].v[k].sig;
        }
    }
    cv_enc e;
    int rc = cv_cert_encode(&c, &polka);
    cv_enc_init(&e, &b->arena);
    cv_enc_bytes(&e, 1, b->valid_block.data, b->valid_block.len);
    cv_enc_bytes(&e, 2, polka.data, polka.len);
    if (!rc)
        rc = cv_enc_finish(&e);
    cv_buf_free(&polka);
    return rc;
}

/* Takes back the persisted valid value: its block, if still valid, and the
 * prevotes of its polka that verify. Anything amiss leaves it out (the
 * validator then proposes a new block, see the top of the file). */
static int restore_valid(cv_bft *b)
{
    const cv_bft_record *r = &b->restore;
    const uint8_t *block, *polka;
    size_t block_len, polka_len;
    cv_cert c;
    cv_dec d;
    cv_dec_init(&d, b->restore_valid.data, b->restore_valid.len);
    cv_dec_bytes(&d, 1, "block", &block, &block_len, b->restore_valid.len);
    cv_dec_bytes(&d, 2, "polka", &polka, &polka_len, b->restore_valid.len);
    if (cv_dec_end(&d) != CV_OK || cv_cert_decode(b->cfg.suite, polka, polka_len, &c) != CV_OK ||
        c.height != b->height || c.round != r->valid_round || memcmp(c.hash, r->valid_hash, CV_HASH_LEN) != 0 ||
        b->cfg.valid(b->cfg.ctx, b->height, c.hash, block, block_len) != 1)
        return CV_OK;
    cv_bft_round *s = slot_take(b, r->valid_round);
    assert(s); /* the first slot taken at this height */
    for (size_t i = 0; i < c.n; i++) {
        cv_vote v = {.type = CV_VOTE_PREVOTE, .height = b->height, .round = c.round, .validator = c.sigs[i].validator,
                     .sig = c.sigs[i].sig};
        memcpy(v.hash, c.hash, CV_HASH_LEN);
        if (v.validator < b->vs->n && cv_vote_verify(b->cfg.chain_id, &b->vs->v[v.validator].pub, &v) == CV_OK)
            store_vote(vote_slot(s, CV_VOTE_PREVOTE, v.validator), &v);
    }
    return cv_buf_append(&b->valid_block, block, block_len);
}

/* Resumes a height from the record of a restarted validator: its round,
 * step, lock, valid value and round, and its signed votes (signed again,
 * the same votes, so that they count and are re-sent). */
static int resume(cv_bft *b)
{
    const cv_bft_record *r = &b->restore;
    b->rec = *r;
    b->round = r->round;
    if (r->valid_round >= 0 && b->restore_valid.len && restore_valid(b) != CV_OK)
        return cv_fail(CV_ENOMEM, "out of memory restoring the valid value");
    if (r->step == CV_BFT_PROPOSE) {
        b->step = CV_BFT_PROPOSE;
        return start_round(b, r->round);
    }
    int rc = cast_vote(b, CV_VOTE_PREVOTE, r->prevote_nil ? NULL : r->prevote_hash);
    b->step = CV_BFT_PREVOTE;
    if (!rc && r->step == CV_BFT_PRECOMMIT) {
        rc = cast_vote(b, CV_VOTE_PRECOMMIT, r->precommit_nil ? NULL : r->precommit_hash);
        b->step = CV_BFT_PRECOMMIT;
    }
    return rc;
}

static void reset_height(cv_bft *b, uint64_t height, const cv_valset *vs)
{
    b->vs = vs;
    b->height = height;
    b->round = 0;
    b->step = CV_BFT_PROPOSE;
    b->decided = 0;
    b->self = b->cfg.self.len ? cv_valset_find_key(vs, &b->cfg.self) : -1;
    record_none(&b->rec);
    cv_buf_reset(&b->valid_block);
    b->valid_dirty = 0;
    for (size_t i = 0; i < CV_VALSET_MAX; i++)
        b->max_round[i] = -1;
    for (size_t i = 0; i < CV_BFT_ROUND_SLOTS; i++)
        slot_clear(&b->rounds[i]);
}

/* Feeds the held messages of the height just started (the held buffers are
 * not touched meanwhile: nothing is held for this height any more). */
static int replay_held(cv_bft *b)
{
    int rc = CV_OK;
    for (size_t k = 0; k < 3 && rc >= 0; k++)
        for (size_t i = 0; i < CV_VALSET_MAX && rc >= 0; i++) {
            cv_bft_held *h = &b->held[i][k];
            if (h->round < 0)
                continue;
            rc = k == HELD_PROPOSAL ? take_proposal(b, h->msg.data, h->msg.len) : take_vote(b, h->msg.data, h->msg.len);
            if (rc == CV_EDECODE || rc == CV_EPERM || rc == CV_EBADSIG || rc == CV_ESTATE || rc == CV_EEXIST)
                rc = CV_OK; /* dropped and counted, as when received */
        }
    clear_held(b);
    return rc;
}

int cv_bft_start(cv_bft *b, uint64_t height, const cv_valset *vs)
{
    begin_call(b);
    if (b->started && height <= b->height)
        return finish_call(b, cv_fail(CV_EINVAL, "consensus at height %llu cannot start height %llu",
                                      (unsigned long long)b->height, (unsigned long long)height));
    if (vs->suite != b->cfg.suite || vs->n == 0)
        return finish_call(b, cv_fail(CV_EINVAL, "validator set for height %llu is empty or of another suite",
                                      (unsigned long long)height));
    int next = b->started && height == b->height + 1;
    reset_height(b, height, vs);
    b->started = 1;
    int rc;
    if (b->has_restore && b->restore.height == height && b->self >= 0)
        rc = resume(b);
    else
        rc = start_round(b, 0); /* lines 10 and 54 */
    b->has_restore = 0;
    cv_buf_reset(&b->restore_valid);
    if (!rc)
        rc = emit_timeout(b, CV_BFT_TIMEOUT_GOSSIP, b->cfg.gossip_ms);
    if (!rc && next)
        rc = replay_held(b);
    else
        clear_held(b);
    if (!rc)
        rc = run_rules(b);
    return finish_call(b, rc);
}

/* ---- the persisted record ------------------------------------------------------------- */

static void put_round_hash(cv_enc *e, uint32_t field, int32_t round, int nil, const uint8_t *hash)
{
    cv_enc_uint(e, field, (uint64_t)(round + 1));
    cv_enc_bytes(e, field + 1, hash, round >= 0 && !nil ? CV_HASH_LEN : 0);
}

int cv_bft_record_encode(const cv_bft_record *r, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_uint(&e, 1, r->height);
    cv_enc_uint(&e, 2, (uint64_t)r->round);
    cv_enc_uint(&e, 3, r->step);
    put_round_hash(&e, 4, r->locked_round, 0, r->locked_hash);
    put_round_hash(&e, 6, r->valid_round, 0, r->valid_hash);
    put_round_hash(&e, 8, r->proposal_round, 0, r->proposal_hash);
    put_round_hash(&e, 10, r->prevote_round, r->prevote_nil, r->prevote_hash);
    put_round_hash(&e, 12, r->precommit_round, r->precommit_nil, r->precommit_hash);
    return cv_enc_finish(&e);
}

/* A (round + 1, hash) pair: round -1 has no hash; nil_ok allows an empty
 * hash (a nil vote) with a round. */
static int get_round_hash(cv_dec *d, uint32_t field, const char *name, int32_t max_round, int nil_ok,
                          int32_t *round, int *nil, uint8_t hash[CV_HASH_LEN])
{
    uint64_t r1 = 0;
    const uint8_t *p = NULL;
    size_t n = 0;
    cv_dec_uint(d, field, name, &r1);
    int rc = cv_dec_bytes(d, field + 1, name, &p, &n, CV_HASH_LEN);
    if (rc)
        return rc;
    if (r1 > (uint64_t)max_round + 1)
        return cv_fail(CV_EDECODE, "consensus record: %s round %llu is after the record's round %d", name,
                       (unsigned long long)r1 - 1, (int)max_round);
    *round = (int32_t)r1 - 1;
    if ((n != 0 && n != CV_HASH_LEN) || (r1 == 0 && n != 0) || (r1 > 0 && n == 0 && !nil_ok))
        return cv_fail(CV_EDECODE, "consensus record: %s hash of %zu bytes for round %lld", name, n,
                       (long long)*round);
    if (nil)
        *nil = r1 > 0 && n == 0;
    if (n)
        memcpy(hash, p, CV_HASH_LEN);
    return CV_OK;
}

static int check_record(const cv_bft_record *r)
{
    if (r->locked_round > r->valid_round)
        return cv_fail(CV_EDECODE, "consensus record: locked round %d after valid round %d", (int)r->locked_round,
                       (int)r->valid_round);
    if ((r->step >= CV_BFT_PREVOTE) != (r->prevote_round == r->round) ||
        (r->step == CV_BFT_PRECOMMIT) != (r->precommit_round == r->round))
        return cv_fail(CV_EDECODE, "consensus record: step %d does not match the votes signed in round %d",
                       (int)r->step, (int)r->round);
    return CV_OK;
}

int cv_bft_record_decode(const uint8_t *p, size_t len, cv_bft_record *out)
{
    cv_dec d;
    uint64_t round = 0, step = 0;
    record_none(out);
    cv_dec_init(&d, p, len);
    cv_dec_uint(&d, 1, "height", &out->height);
    cv_dec_uint_max(&d, 2, "round", &round, CV_VOTE_ROUND_MAX);
    cv_dec_uint_max(&d, 3, "step", &step, CV_BFT_PRECOMMIT);
    out->round = (int32_t)round;
    out->step = (cv_bft_step)step;
    int rc = d.err;
    if (!rc)
        rc = get_round_hash(&d, 4, "locked", out->round, 0, &out->locked_round, NULL, out->locked_hash);
    if (!rc)
        rc = get_round_hash(&d, 6, "valid", out->round, 0, &out->valid_round, NULL, out->valid_hash);
    if (!rc)
        rc = get_round_hash(&d, 8, "proposal", out->round, 0, &out->proposal_round, NULL, out->proposal_hash);
    if (!rc)
        rc = get_round_hash(&d, 10, "prevote", out->round, 1, &out->prevote_round, &out->prevote_nil,
                            out->prevote_hash);
    if (!rc)
        rc = get_round_hash(&d, 12, "precommit", out->round, 1, &out->precommit_round, &out->precommit_nil,
                            out->precommit_hash);
    if (!rc)
        rc = cv_dec_end(&d);
    if (!rc)
        rc = check_record(out);
    if (rc)
        record_none(out);
    return rc;
}
