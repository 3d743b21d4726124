/* tendermint.h: BFT consensus as a pure state machine.
 *
 * The protocol is Algorithm 1 of E. Buchman, J. Kwon, Z. Milosevic, "The
 * latest gossip on BFT consensus", arXiv:1807.04938 (v3, 2019): safe with
 * Byzantine validators holding less than a third of the voting power, live
 * once the network delivers messages within a bound. tendermint.c cites the
 * algorithm's line numbers next to the code that implements them.
 *
 * The engine has no sockets, clock, disk, threads or randomness. The caller
 * (the node, or the simulator in tests/sim) feeds it inputs
 *     cv_bft_start        begin a height (with that height's validator set)
 *     cv_bft_on_proposal  a proposal received from the network
 *     cv_bft_on_vote      a vote received from the network
 *     cv_bft_on_timeout   a timer it asked for has expired
 *     cv_bft_block_ready  the block it asked for, to propose
 * and after each call handles the call's outputs (cv_bft_outputs), in order:
 *     PERSIST   write the record durably, and with it the valid value (block
 *               and polka) when one is given, before acting on any later output
 *     PROPOSAL  broadcast this encoded proposal to the other validators
 *     VOTE      broadcast this encoded vote
 *     TIMEOUT   call cv_bft_on_timeout(timeout, height, round) after ms
 *     GET_BLOCK build a block for (height, round) and pass it to
 *               cv_bft_block_ready (getValue() in the paper)
 *     COMMIT    the block decided at height, with its commit certificate:
 *               commit it, then call cv_bft_start(height + 1, ...)
 *     EVIDENCE  a validator signed two conflicting messages (both given)
 * Outputs stay valid until the next call into the engine. A batch holds at
 * most one PERSIST, always first, so "write it, then do the rest" is the
 * whole durability rule: a validator restarted with its last record and
 * valid value (cv_bft_restore) never signs two different messages for one
 * height, round and kind, keeps its lock, and can propose its valid value
 * again.
 *
 * Signatures: the engine verifies every proposal and vote it receives with
 * the chain's suite, and signs its own through the cfg.sign callback (a key
 * file, an HSM). Block validity is the caller's: cfg.valid must be a
 * deterministic function of the height and the block (the node re-executes
 * it). Both are called synchronously from within the input calls.
 *
 * Memory is bounded whatever peers send: votes live in per-validator slots
 * of at most CV_BFT_ROUND_SLOTS rounds; of rounds further ahead only each
 * validator's highest is remembered (for round skipping); for the next
 * height one proposal, prevote and precommit per validator are held. A
 * cv_bft is a large caller-owned struct (about 340 KiB): allocate it, call
 * cv_bft_init, and cv_bft_free when done. It is not thread-safe: drive it
 * from one thread. */
#ifndef CV_CONSENSUS_TENDERMINT_H
#define CV_CONSENSUS_TENDERMINT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "consensus/valset.h"
#include "consensus/vote.h"
#include "crypto/suite.h"
#include "ledger/tx.h"

#define CV_BFT_ROUND_SLOTS 6   /* rounds of one height whose votes are kept */
#define CV_BFT_FUTURE_ROUNDS 2 /* votes up to round + 2 are kept; beyond, only counted */

typedef enum { CV_BFT_PROPOSE = 0, CV_BFT_PREVOTE = 1, CV_BFT_PRECOMMIT = 2 } cv_bft_step;

typedef enum {
    CV_BFT_TIMEOUT_PROPOSE = 1,   /* OnTimeoutPropose (line 57) */
    CV_BFT_TIMEOUT_PREVOTE = 2,   /* OnTimeoutPrevote (line 61) */
    CV_BFT_TIMEOUT_PRECOMMIT = 3, /* OnTimeoutPrecommit (line 65) */
    CV_BFT_TIMEOUT_GOSSIP = 4,    /* re-send this height's messages (see tendermint.c) */
} cv_bft_timeout;

typedef enum {
    CV_BFT_OUT_PERSIST = 1,
    CV_BFT_OUT_PROPOSAL,
    CV_BFT_OUT_VOTE,
    CV_BFT_OUT_TIMEOUT,
    CV_BFT_OUT_GET_BLOCK,
    CV_BFT_OUT_COMMIT,
    CV_BFT_OUT_EVIDENCE,
} cv_bft_out_kind;

typedef struct {
    cv_bft_out_kind kind;
    uint64_t height;
    int32_t round;
    cv_bft_timeout timeout;    /* TIMEOUT */
    uint64_t ms;               /* TIMEOUT: delay */
    uint32_t validator;        /* EVIDENCE: the equivocating validator */
    uint8_t hash[CV_HASH_LEN]; /* COMMIT: the block hash */
    const uint8_t *bytes;      /* PERSIST: record; PROPOSAL, VOTE: message; COMMIT: block;
                                  EVIDENCE: the first message */
    size_t len;
    const uint8_t *extra;      /* PERSIST: the valid value if it changed (NULL: keep the
                                  one stored); COMMIT: certificate; EVIDENCE: the
                                  conflicting message */
    size_t extra_len;
} cv_bft_out;

/* Messages received, by what became of them. */
typedef struct {
    uint64_t accepted;      /* used */
    uint64_t held;          /* kept for the next height */
    uint64_t malformed;     /* does not decode */
    uint64_t non_validator; /* signer index outside the height's validator set */
    uint64_t not_proposer;  /* a proposal from a validator that is not the round's proposer */
    uint64_t bad_signature;
    uint64_t wrong_height;  /* neither this height nor the next */
    uint64_t far_round;     /* more than CV_BFT_FUTURE_ROUNDS ahead: counted for round skipping only */
    uint64_t old_round;     /* a past round no longer kept */
    uint64_t duplicate;
    uint64_t equivocation;  /* conflicts with the sender's earlier message (EVIDENCE output) */
    uint64_t rounds_skipped; /* line 55 */
} cv_bft_stats;

/* What a validator must remember across a restart (the PERSIST output). */
typedef struct {
    uint64_t height;
    int32_t round;
    cv_bft_step step;
    int32_t locked_round;      /* -1: none */
    uint8_t locked_hash[CV_HASH_LEN];
    int32_t valid_round;       /* -1: none */
    uint8_t valid_hash[CV_HASH_LEN];
    int32_t proposal_round;    /* last round this validator signed a proposal in; -1: none */
    uint8_t proposal_hash[CV_HASH_LEN];
    int32_t prevote_round;     /* last round it signed a prevote in; -1: none */
    int prevote_nil;
    uint8_t prevote_hash[CV_HASH_LEN];
    int32_t precommit_round;   /* likewise for precommits */
    int precommit_nil;
    uint8_t precommit_hash[CV_HASH_LEN];
} cv_bft_record;

typedef struct {
    cv_suite suite;
    char chain_id[CV_CHAIN_ID_MAX + 1];
    /* This node's validator key; len 0 for a follower, which decides but never signs. */
    cv_pubkey self;
    /* Timeouts of round r: base + r * delta (the paper's timeoutX(r)). */
    uint64_t propose_ms, prevote_ms, precommit_ms, delta_ms;
    uint64_t gossip_ms;        /* re-send period of this height's messages */
    /* Signs msg with self's key. An error stops the call, which returns it. */
    int (*sign)(void *ctx, const uint8_t *msg, size_t len, cv_sig *sig);
    /* 1 if block is a valid block for height and its hash is hash, else 0. Must be
     * deterministic; a node that cannot decide (I/O error) must stop instead. */
    int (*valid)(void *ctx, uint64_t height, const uint8_t hash[CV_HASH_LEN], const uint8_t *block,
                 size_t len);
    void *ctx;
    /* Tests only: prevote ignoring the lock (lines 23 and 29), a deliberate
     * safety bug that the simulator must detect. Never set in a node. */
    int test_ignore_lock;
} cv_bft_config;

typedef struct {
    uint8_t nil;
    uint8_t hash[CV_HASH_LEN];
    cv_sig sig;
} cv_bft_vote;

/* One validator's vote of one type in one round: count 2 if it equivocated,
 * with v[1] its latest conflicting vote (the paper counts every signed
 * message, so an equivocator's votes count for each value it signed). */
typedef struct {
    uint8_t count;
    cv_bft_vote v[2];
} cv_bft_vote_slot;

typedef struct {
    int32_t round;             /* -1: the slot is free */
    uint8_t has_proposal, validity, proposal_conflict;
    uint8_t prevote_timer, lock_seen, precommit_timer; /* "for the first time" (lines 34, 36, 47) */
    int32_t pol_round;
    uint8_t hash[CV_HASH_LEN];
    cv_sig proposal_sig;
    cv_buf block;
    cv_bft_vote_slot prevotes[CV_VALSET_MAX], precommits[CV_VALSET_MAX];
} cv_bft_round;

typedef struct {
    int32_t round;             /* -1: empty */
    cv_buf msg;
} cv_bft_held;

/* The engine. Read-only for the caller: height, round, step, decided, stats. */
typedef struct {
    cv_bft_config cfg;
    const cv_valset *vs;       /* the current height's set, owned by the caller */
    uint64_t height;
    int32_t round;
    cv_bft_step step;
    int started, decided;
    int self;                  /* this node's index in vs, or -1 */
    cv_bft_record rec;         /* lock, valid value and what was signed, at this height */
    cv_buf valid_block;        /* the valid value's bytes */
    int valid_dirty;           /* valid_block changed since the last PERSIST */
    int32_t max_round[CV_VALSET_MAX]; /* each validator's highest round seen, -1: none */
    cv_bft_round rounds[CV_BFT_ROUND_SLOTS];
    cv_bft_held held[CV_VALSET_MAX][3]; /* next height: proposal, prevote, precommit */
    int has_restore;
    cv_bft_record restore;
    cv_buf restore_valid;
    cv_buf persisted;          /* the last record written (encoded) */
    cv_bft_out *out;
    size_t *out_off;           /* offsets of bytes / extra in arena, per output (2 each) */
    size_t nout, out_cap;
    cv_buf arena;
    cv_bft_stats stats;
} cv_bft;

/* Checks the configuration (suite, chain id, timeouts, callbacks). */
int cv_bft_init(cv_bft *b, const cv_bft_config *cfg);
void cv_bft_free(cv_bft *b);

/* Before the first cv_bft_start: a restarted validator's last PERSIST
 * record and the last valid value given with a PERSIST (NULL, 0 if none).
 * They apply if that start is for the record's height; the valid value is
 * used only if it is the record's and its block is still valid. */
int cv_bft_restore(cv_bft *b, const uint8_t *record, size_t len, const uint8_t *valid, size_t valid_len);

/* Begins height (above the current one) with its validator set, which must
 * stay unchanged in place until the next cv_bft_start or cv_bft_free. The
 * node calls it at boot with its committed height + 1, after each COMMIT,
 * and when it committed a certified block obtained otherwise (block sync). */
int cv_bft_start(cv_bft *b, uint64_t height, const cv_valset *vs);

/* Messages from the network. CV_OK if used or held for the next height;
 * a dropped message returns why (CV_EDECODE malformed, CV_EPERM not from the
 * right validator, CV_EBADSIG, CV_ESTATE wrong height or round, CV_EEXIST
 * duplicate, or a second proposal of the round), counted in stats, the
 * engine unchanged but for those counters. A vote that conflicts with the
 * sender's earlier one is used (it counts for its value, as in the paper)
 * and reported once as EVIDENCE. Any other error (CV_ENOMEM, a sign failure) means the call
 * did not complete: the node must stop. */
int cv_bft_on_proposal(cv_bft *b, const uint8_t *msg, size_t len);
int cv_bft_on_vote(cv_bft *b, const uint8_t *msg, size_t len);

/* A TIMEOUT output's timer expired. Stale timers are ignored. */
int cv_bft_on_timeout(cv_bft *b, cv_bft_timeout timeout, uint64_t height, int32_t round);

/* The answer to GET_BLOCK: a block for (height, round) and its hash. Ignored
 * (CV_ESTATE) if the engine has moved on meanwhile. */
int cv_bft_block_ready(cv_bft *b, uint64_t height, int32_t round, const uint8_t hash[CV_HASH_LEN],
                       const uint8_t *block, size_t len);

/* The outputs of the last call, to handle in order. */
const cv_bft_out *cv_bft_outputs(const cv_bft *b, size_t *n);

/* The PERSIST record's encoding:
 *   {1: height, 2: round, 3: step (0 propose, 1 prevote, 2 precommit),
 *    4: locked round + 1 (0: none), 5: locked hash (32 bytes, or empty),
 *    6: valid round + 1, 7: valid hash, 8: proposal round + 1, 9: proposal hash,
 *    10: prevote round + 1, 11: prevote hash (empty: nil or none),
 *    12: precommit round + 1, 13: precommit hash} */
int cv_bft_record_encode(const cv_bft_record *r, cv_buf *out);
int cv_bft_record_decode(const uint8_t *p, size_t len, cv_bft_record *out);

#endif
