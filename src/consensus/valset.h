/* valset.h: the validator set of one height: keys, voting power, proposer order.
 *
 * A validator set is built from a list of (public key, power) of the chain's
 * suite. Validators are kept sorted by address, so that every node numbers
 * them alike whether it read them from the genesis file or from gov's state
 * (which lists them by address): a validator's index in votes and commit
 * certificates is its position in this order.
 *
 * The set's hash (a block header's validators_hash) is the suite hash of
 *     {1: list of {1: public key (bytes), 2: power (uint)}}   in address order.
 *
 * Quorums are weighted by power: a quorum is more than two thirds of the
 * total power (Tendermint's 2f + 1), a "third" more than one third (f + 1).
 *
 * The proposer of (height, round) is Tendermint's weighted round robin
 * (CometBFT's proposer priority, which from all-zero priorities is the
 * "smooth weighted round robin"): every step adds each validator's weight to
 * its priority, picks the highest priority (ties: the lowest index) and takes
 * the total weight off the one picked. The order repeats after total-weight
 * steps, so the set precomputes one cycle and the proposer of (h, r) is
 * cycle[(h + r) mod cycle length]: a pure function of the set, h and r, in
 * which each validator proposes in proportion to its power. Weights are the
 * powers divided by their greatest common divisor; if they still sum to more
 * than CV_VALSET_CYCLE_MAX they are scaled down to about that sum (each at
 * least 1), so the proportions hold to within 1 / CV_VALSET_CYCLE_MAX.
 *
 * Validator-set changes: a change committed by a gov transaction in block H
 * takes effect at height H + CV_VALSET_DELAY. So the set of height h is the
 * one in the state committed after block cv_valset_source_height(h), which
 * every node knows one full height before h starts: votes for the next
 * height can be checked while this one finishes, and a header at h - 1 could
 * commit to the set of h + 1 (docs/CONSENSUS.md §6).
 *
 * A cv_valset is a plain value (no pointers inside); the caller owns it. */
#ifndef CV_CONSENSUS_VALSET_H
#define CV_CONSENSUS_VALSET_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "crypto/suite.h"

#define CV_VALSET_MAX 128              /* validators in one set */
#define CV_VALSET_POWER_MAX (1ull << 52) /* total power limit, so 3 * total fits in 64 bits */
#define CV_VALSET_CYCLE_MAX 16384      /* proposer-order cycle length limit (see above) */
#define CV_VALSET_DELAY 2              /* a change committed at H applies from H + 2 */

typedef struct {
    cv_pubkey pub;
    uint64_t power;
} cv_valset_entry;

typedef struct {
    cv_pubkey pub;
    uint8_t addr[CV_ADDR_LEN];
    uint64_t power;
} cv_validator;

typedef struct {
    cv_suite suite;
    size_t n;
    uint64_t total;                     /* sum of the powers */
    cv_validator v[CV_VALSET_MAX];      /* sorted by address */
    uint8_t hash[CV_HASH_LEN];
    uint32_t cycle_len;
    uint8_t cycle[CV_VALSET_CYCLE_MAX + CV_VALSET_MAX]; /* proposer index per step */
} cv_valset;

/* Builds a set from n entries in any order: keys of suite, powers >= 1,
 * distinct keys, 1 <= n <= CV_VALSET_MAX, total at most CV_VALSET_POWER_MAX.
 * Errors (CV_EINVAL) name the offending entry. */
int cv_valset_init(cv_valset *vs, cv_suite suite, const cv_valset_entry *entries, size_t n);

/* The canonical encoding {1: list of {1: public key, 2: power}} in address
 * order, appended to out (the set's hash is the suite hash of it). */
int cv_valset_encode(const cv_valset *vs, cv_buf *out);
/* Rebuilds a set from its canonical encoding; anything else (malformed, not
 * in address order, an invalid set) is CV_EDECODE naming what is wrong. */
int cv_valset_decode(cv_valset *vs, cv_suite suite, const uint8_t *p, size_t len);

/* The index of the validator with this address or key, or -1. */
int cv_valset_find_addr(const cv_valset *vs, const uint8_t addr[CV_ADDR_LEN]);
int cv_valset_find_key(const cv_valset *vs, const cv_pubkey *pub);

/* The proposer of (height, round): an index into vs->v. */
size_t cv_valset_proposer(const cv_valset *vs, uint64_t height, uint32_t round);

/* power > 2/3 of the total (a quorum, "2f + 1"); power > 1/3 ("f + 1"). */
int cv_valset_quorum(const cv_valset *vs, uint64_t power);
int cv_valset_third(const cv_valset *vs, uint64_t power);

/* The height whose committed state holds the validator set of height h
 * (h - CV_VALSET_DELAY, or 0, the genesis state, for the first heights). */
uint64_t cv_valset_source_height(uint64_t height);

#endif
