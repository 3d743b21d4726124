/* sim_byz.c: Byzantine validators.
 *
 * A Byzantine node runs the same engine as everyone (so that it takes part
 * and knows what to attack), but what it sends passes through here, where
 * its BYZ_* flags turn it into: two different signed proposals for the round
 * it proposes, sent to different halves of the network; conflicting signed
 * votes to different peers; validly signed votes for other heights and for
 * rounds far ahead; votes in other validators' names signed with its own
 * key; mangled and random bytes; forged sync answers; and silence. Invalid
 * blocks (BYZ_INVALID) are built in sim_node.c, and BYZ_AMNESIA runs its
 * engine without the lock rule. Its voting power is always less than a
 * third of the total. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "sim.h"

#define TICK_MS 150 /* how often it acts on its own */

static void sign_vote(sim_node *nd, cv_vote *v)
{
    cv_buf sb = {0};
    if (cv_vote_sign_bytes(SIM_CHAIN, v, &sb) == CV_OK)
        cv_sign(&nd->key, sb.data, sb.len, &v->sig);
    cv_buf_free(&sb);
}

static void send_vote_to(sim_world *w, sim_node *nd, int to, const cv_vote *v)
{
    cv_buf b = {0};
    if (cv_vote_encode(v, &b) == CV_OK)
        sim_send(w, nd->id, to, MSG_VOTE, b.data, b.len);
    cv_buf_free(&b);
}

/* Which of two votes peer to gets, the same each time the vote is sent
 * again (else re-sends would end up giving everyone both). */
static int second_for(const sim_world *w, const sim_node *nd, const cv_vote *v, int to)
{
    uint64_t x = w->seed ^ (v->height * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)v->round << 20) ^
                 ((uint64_t)v->type << 50) ^ ((uint64_t)nd->id << 40) ^ (uint64_t)to;
    x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ull;
    return (int)((x >> 29) & 1);
}

static int random_peer(sim_world *w, const sim_node *nd)
{
    int to = (int)sim_below(&w->rng, (uint64_t)w->n - 1);
    return to >= nd->id ? to + 1 : to;
}

/* Sends a to the peers in mask and b to the others. */
static void split_send(sim_world *w, sim_node *nd, sim_msg_kind kind, uint32_t mask, const cv_buf *a,
                       const cv_buf *b)
{
    for (int to = 0; to < w->n; to++)
        if (to != nd->id) {
            const cv_buf *m = (mask >> to) & 1 ? a : b;
            sim_send(w, nd->id, to, kind, m->data, m->len);
        }
}

/* The split of a lock attack, planned knowing everyone's power and who is
 * Byzantine: side X holds honest validators (not the next round's
 * proposer) whose power, with the Byzantine power, just makes a quorum.
 * Side X then locks on X; one of them (the decider, which alone gets the
 * Byzantine precommit for X) decides X; the others move on to the next
 * round, whose proposer, on side Y, never saw a polka for X and proposes a
 * new block. Only the lock stops side X from voting for it and deciding
 * another block. 0 if the powers do not allow such a split. */
static uint32_t attack_mask(const sim_world *w, const cv_vote_proposal *pr, int *decider)
{
    uint64_t byz = 0, x = 0, total = w->vs->total;
    size_t next = cv_valset_proposer(w->vs, pr->height, (uint32_t)pr->round + 1);
    uint32_t mask = 0;
    for (int i = 0; i < w->n; i++)
        byz += w->nodes[i].byz ? w->vs->v[i].power : 0;
    *decider = -1;
    for (int i = 0; i < w->n && (x + byz) * 3 <= 2 * total; i++) {
        if (w->nodes[i].byz || (size_t)i == next)
            continue;
        mask |= 1u << i;
        x += w->vs->v[i].power;
        if (*decider < 0)
            *decider = i;
    }
    return (x + byz) * 3 > 2 * total && x * 3 <= 2 * total ? mask : 0;
}

/* Makes its second proposal for the round of pr: a new block, with no
 * valid round (as if it had no valid value), and the split: which peers get
 * which: a lock attack if the powers allow, a random split, or (now and
 * then) the new block to everyone. */
static int plan_equivocation(sim_world *w, sim_node *nd, cv_vote_proposal pr)
{
    cv_buf block = {0}, sb = {0};
    nd->eq_height = pr.height;
    nd->eq_round = pr.round;
    nd->eq_mask = sim_chance(&w->rng, 600) ? attack_mask(w, &pr, &nd->eq_decider) : 0;
    if (!nd->eq_mask) {
        nd->eq_decider = -1;
        nd->eq_mask = sim_chance(&w->rng, 300) ? 0 : (uint32_t)sim_range(&w->rng, 1, (1ull << w->n) - 2);
    }
    memcpy(nd->eq_hash[0], pr.hash, CV_HASH_LEN);
    pr.pol_round = -1;
    int ok = sim_block_make(w, pr.height, nd->id, sim_chance(&w->rng, 800), &block, pr.hash) == CV_OK &&
             cv_vote_proposal_sign_bytes(SIM_CHAIN, &pr, &sb) == CV_OK &&
             cv_sign(&nd->key, sb.data, sb.len, &pr.sig) == CV_OK;
    pr.block = block.data;
    pr.block_len = block.len;
    cv_buf_reset(&nd->eq_other);
    ok = ok && cv_vote_proposal_encode(&pr, &nd->eq_other) == CV_OK;
    memcpy(nd->eq_hash[1], pr.hash, CV_HASH_LEN);
    nd->has_eq = ok;
    if (ok)
        sim_log(w, "node %d (Byzantine) proposes two blocks at h %llu r %d: %02x%02x to mask 0x%x, %02x%02x to "
                   "the others", nd->id, (unsigned long long)pr.height, (int)pr.round, nd->eq_hash[0][0],
                nd->eq_hash[0][1], nd->eq_mask, pr.hash[0], pr.hash[1]);
    cv_buf_free(&block);
    cv_buf_free(&sb);
    return ok;
}

/* Splits the network: the peers in its mask get its engine's proposal, the
 * others its second one; its votes of that round follow the split. Its
 * engine re-sends the proposal (gossip): the split stays the same. */
static void equivocate_proposal(sim_world *w, sim_node *nd, const uint8_t *p, size_t len)
{
    cv_vote_proposal pr;
    cv_buf orig = {.data = (uint8_t *)p, .len = len};
    if (cv_vote_proposal_decode(CV_SUITE_STD, p, len, &pr) != CV_OK) {
        sim_broadcast(w, nd->id, MSG_PROPOSAL, p, len);
        return;
    }
    if (!nd->has_eq || nd->eq_height != pr.height || nd->eq_round != pr.round) {
        if (!plan_equivocation(w, nd, pr)) {
            sim_broadcast(w, nd->id, MSG_PROPOSAL, p, len);
            return;
        }
    }
    split_send(w, nd, MSG_PROPOSAL, nd->eq_mask, &orig, &nd->eq_other);
}

/* In its equivocation's round: prevotes for each side's block to that side;
 * precommits for it to the decider of a lock attack only, else to some of
 * that side (nil to the rest), so that the sides end the round in
 * different states. */
static void split_vote(sim_world *w, sim_node *nd, const cv_vote *v)
{
    for (int to = 0; to < w->n; to++) {
        if (to == nd->id)
            continue;
        cv_vote x = *v;
        int side = !((nd->eq_mask >> to) & 1);
        int withheld = nd->eq_decider >= 0 ? to != nd->eq_decider : second_for(w, nd, v, to);
        x.nil = v->type == CV_VOTE_PRECOMMIT && withheld;
        memcpy(x.hash, nd->eq_hash[side], CV_HASH_LEN);
        if (x.nil)
            memset(x.hash, 0, CV_HASH_LEN);
        sign_vote(nd, &x);
        send_vote_to(w, nd, to, &x);
    }
}

void sim_byz_saw(sim_node *nd, const uint8_t *p, size_t len)
{
    cv_vote_proposal pr;
    if (cv_vote_proposal_decode(CV_SUITE_STD, p, len, &pr) != CV_OK)
        return;
    nd->seen_height = pr.height;
    nd->seen_round = pr.round;
    memcpy(nd->seen_hash, pr.hash, CV_HASH_LEN);
}

/* The conflicting vote: for the round's proposal if its engine voted
 * otherwise (say, because of its lock), else nil or a random hash. A
 * prevote goes to everyone with the engine's (it helps every polka it
 * can); a precommit is one or the other, at random for each peer (so that
 * some decide and some do not). */
static void double_vote(sim_world *w, sim_node *nd, const cv_vote *v)
{
    cv_vote other = *v;
    if (nd->has_eq && v->height == nd->eq_height && v->round == nd->eq_round) {
        split_vote(w, nd, v);
        return;
    }
    if (v->height == nd->seen_height && v->round == nd->seen_round &&
        (v->nil || memcmp(v->hash, nd->seen_hash, CV_HASH_LEN) != 0)) {
        other.nil = 0;
        memcpy(other.hash, nd->seen_hash, CV_HASH_LEN);
    } else if (v->nil || sim_chance(&w->rng, 300)) {
        other.nil = 0;
        for (size_t i = 0; i < CV_HASH_LEN; i++)
            other.hash[i] = (uint8_t)sim_rand(&w->rng);
    } else {
        other.nil = 1;
        memset(other.hash, 0, CV_HASH_LEN);
    }
    sign_vote(nd, &other);
    for (int to = 0; to < w->n; to++) {
        if (to == nd->id)
            continue;
        int first = !second_for(w, nd, v, to);
        if (v->type == CV_VOTE_PREVOTE || first)
            send_vote_to(w, nd, to, v);
        if (v->type == CV_VOTE_PREVOTE || !first)
            send_vote_to(w, nd, to, &other);
    }
}

/* Validly signed votes for neighbouring heights and far rounds, and votes
 * claiming to be another validator's. */
static void odd_votes(sim_world *w, sim_node *nd, const cv_vote *v)
{
    if (nd->byz & BYZ_WRONG_HEIGHT) {
        cv_vote x = *v;
        x.height = v->height + 1 + sim_below(&w->rng, 3);
        if (sim_chance(&w->rng, 500) && v->height > 1)
            x.height = v->height - 1;
        sign_vote(nd, &x);
        send_vote_to(w, nd, random_peer(w, nd), &x);
        x = *v;
        x.round = v->round + 3 + (int32_t)sim_below(&w->rng, 1000);
        sign_vote(nd, &x);
        send_vote_to(w, nd, random_peer(w, nd), &x);
    }
    if (nd->byz & BYZ_WRONG_KEY) {
        cv_vote x = *v;
        x.validator = (uint32_t)random_peer(w, nd);
        sign_vote(nd, &x);
        send_vote_to(w, nd, random_peer(w, nd), &x);
    }
}

static void mangled_copy(sim_world *w, sim_node *nd, sim_msg_kind kind, const uint8_t *p, size_t len)
{
    uint8_t *m = malloc(len ? len : 1);
    if (!m)
        return;
    memcpy(m, p, len);
    size_t n = len;
    for (int k = (int)sim_range(&w->rng, 1, 4); k > 0 && n; k--) {
        size_t at = sim_below(&w->rng, n); /* one draw per statement: a fixed order */
        m[at] ^= (uint8_t)(1u << sim_below(&w->rng, 8));
    }
    if (n && sim_chance(&w->rng, 300))
        n = sim_below(&w->rng, n);
    sim_send(w, nd->id, random_peer(w, nd), kind, m, n);
    free(m);
}

void sim_byz_send(sim_world *w, sim_node *nd, cv_bft_out_kind kind, const uint8_t *p, size_t len)
{
    sim_msg_kind msg = kind == CV_BFT_OUT_VOTE ? MSG_VOTE : MSG_PROPOSAL;
    if ((nd->byz & BYZ_SILENT) && sim_chance(&w->rng, 300))
        return;
    if ((nd->byz & BYZ_GARBAGE) && sim_chance(&w->rng, 300))
        mangled_copy(w, nd, msg, p, len);
    if (kind == CV_BFT_OUT_PROPOSAL) {
        if (nd->byz & BYZ_EQUIVOCATE)
            equivocate_proposal(w, nd, p, len);
        else
            sim_broadcast(w, nd->id, msg, p, len);
        return;
    }
    cv_vote v;
    if (cv_vote_decode(CV_SUITE_STD, p, len, &v) != CV_OK || v.validator != (uint32_t)nd->id) {
        sim_broadcast(w, nd->id, msg, p, len); /* a re-sent vote of someone else */
        return;
    }
    if (nd->byz & BYZ_DOUBLE_VOTE)
        double_vote(w, nd, &v);
    else
        sim_broadcast(w, nd->id, msg, p, len);
    odd_votes(w, nd, &v);
}

/* A sync answer for a peer's next height with a forged certificate. */
static void forged_sync(sim_world *w, sim_node *nd, int to)
{
    cv_buf block = {0}, cert = {0}, msg = {0};
    cv_cert c = {.height = w->nodes[to].height + 1, .round = 0, .n = 1};
    if (sim_block_make(w, c.height, nd->id, 1, &block, c.hash) == CV_OK) {
        cv_vote v = {.type = CV_VOTE_PRECOMMIT, .height = c.height, .round = 0, .validator = (uint32_t)nd->id};
        memcpy(v.hash, c.hash, CV_HASH_LEN);
        sign_vote(nd, &v);
        c.sigs[0].validator = (uint32_t)nd->id;
        c.sigs[0].sig = v.sig;
        if (cv_cert_encode(&c, &cert) == CV_OK && sim_sync_encode(&msg, c.height, &block, &cert, 1) == CV_OK)
            sim_send(w, nd->id, to, MSG_SYNC, msg.data, msg.len);
    }
    cv_buf_free(&block);
    cv_buf_free(&cert);
    cv_buf_free(&msg);
}

void sim_byz_tick(sim_world *w, sim_node *nd)
{
    if (nd->alive && (nd->byz & BYZ_GARBAGE)) {
        uint8_t junk[96];
        size_t n = sim_below(&w->rng, sizeof junk);
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)sim_rand(&w->rng);
        int to = random_peer(w, nd);
        sim_send(w, nd->id, to, sim_chance(&w->rng, 500) ? MSG_VOTE : MSG_PROPOSAL, junk, n);
        if (sim_chance(&w->rng, 200))
            forged_sync(w, nd, random_peer(w, nd));
    }
    sim_push(w, (sim_event){.time = w->now + sim_range(&w->rng, TICK_MS / 2, TICK_MS * 2), .kind = EV_BYZ,
                            .node = nd->id});
}
