/* vote.h: BFT consensus messages (proposals, votes) and commit certificates:
 * their canonical encodings, the bytes validators sign, and verification.
 *
 *   vote     = {1: type (1 prevote, 2 precommit), 2: height, 3: round,
 *               4: block hash (32 bytes, or empty: a vote for nil),
 *               5: validator index, 6: signature}
 *   proposal = {1: height, 2: round, 3: valid round + 1 (0: none), 4: block hash (32),
 *               5: proposer index, 6: signature, 7: block (bytes)}
 *   cert     = {1: height, 2: round, 3: block hash (32),
 *               4: list of {1: validator index, 2: signature}, indices strictly increasing}
 *
 * A validator index is the validator's position in the height's validator
 * set (consensus/valset.h). The signature covers, instead of the message
 * itself, a domain-separated message naming the chain:
 *
 *   vote:     {1: "civitas/vote/1",     2: chain id, 3: type, 4: height, 5: round,
 *              6: block hash or empty, 7: validator index}
 *   proposal: {1: "civitas/proposal/1", 2: chain id, 3: height, 4: round,
 *              5: valid round + 1, 6: block hash, 7: proposer index}
 *
 * so that no signature is valid on another chain, for another kind of
 * message, or as a transaction (whose signed body starts with a uint). A
 * proposal's signature covers the block's hash, not its bytes: the block is
 * bound to the proposal by the receiver checking that it hashes to it.
 *
 * A commit certificate holds the precommit signatures, for the block's hash
 * at (height, round), of validators holding more than two thirds of the
 * height's voting power: anyone with the validator set can check it. BFT
 * gathers them from the validators' votes; a chain with one validator (the
 * solo engine) signs its one precommit itself (cv_cert_sign_single), so every
 * block of every chain is certified alike.
 *
 * Decoders are strict: anything but the canonical encoding, an out-of-range
 * value or a malformed signature for the suite is CV_EDECODE with a message
 * naming the field. Decoded block bytes point into the input. */
#ifndef CV_CONSENSUS_VOTE_H
#define CV_CONSENSUS_VOTE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "consensus/valset.h"
#include "crypto/suite.h"

#define CV_VOTE_ROUND_MAX ((1 << 30) - 1) /* rounds are 0 .. CV_VOTE_ROUND_MAX */

typedef enum { CV_VOTE_PREVOTE = 1, CV_VOTE_PRECOMMIT = 2 } cv_vote_type;

typedef struct {
    cv_vote_type type;
    uint64_t height;
    int32_t round;
    int nil;                   /* 1: a vote for no block (hash is zero) */
    uint8_t hash[CV_HASH_LEN];
    uint32_t validator;        /* index in the height's validator set */
    cv_sig sig;
} cv_vote;

typedef struct {
    uint64_t height;
    int32_t round;
    int32_t pol_round;         /* the proposer's valid round: -1, or 0 .. round - 1 */
    uint8_t hash[CV_HASH_LEN]; /* the block's hash */
    uint32_t proposer;         /* index in the height's validator set */
    cv_sig sig;
    const uint8_t *block;      /* the block's bytes: not signed, bound by hash */
    size_t block_len;
} cv_vote_proposal;

typedef struct {
    uint32_t validator;
    cv_sig sig;
} cv_cert_sig;

typedef struct {
    uint64_t height;
    int32_t round;
    uint8_t hash[CV_HASH_LEN];
    size_t n;
    cv_cert_sig sigs[CV_VALSET_MAX]; /* strictly increasing validator indices */
} cv_cert;

/* ---- votes --------------------------------------------------------------- */

/* Appends the bytes the voter signs. */
int cv_vote_sign_bytes(const char *chain_id, const cv_vote *v, cv_buf *out);
int cv_vote_encode(const cv_vote *v, cv_buf *out);
int cv_vote_decode(cv_suite suite, const uint8_t *p, size_t len, cv_vote *out);
/* CV_OK if v->sig is pub's signature of v's sign bytes, else CV_EBADSIG. */
int cv_vote_verify(const char *chain_id, const cv_pubkey *pub, const cv_vote *v);

/* ---- proposals ----------------------------------------------------------- */

int cv_vote_proposal_sign_bytes(const char *chain_id, const cv_vote_proposal *p, cv_buf *out);
int cv_vote_proposal_encode(const cv_vote_proposal *p, cv_buf *out);
int cv_vote_proposal_decode(cv_suite suite, const uint8_t *p, size_t len, cv_vote_proposal *out);
int cv_vote_proposal_verify(const char *chain_id, const cv_pubkey *pub, const cv_vote_proposal *p);

/* ---- commit certificates ------------------------------------------------- */

int cv_cert_encode(const cv_cert *c, cv_buf *out);
int cv_cert_decode(cv_suite suite, const uint8_t *p, size_t len, cv_cert *out);
/* CV_OK if cert (encoded) certifies block_hash at height for the set vs of
 * that height on chain chain_id: it decodes, names that height and hash, and
 * its signers are known validators (each once) whose precommit signatures
 * all verify and whose power is more than two thirds of vs's total.
 * Otherwise CV_EDECODE, CV_EINVAL (wrong height or hash, unknown signer,
 * not enough power) or CV_EBADSIG, with a message saying which. */
int cv_cert_verify(cv_suite suite, const char *chain_id, const cv_valset *vs, uint64_t height,
                   const uint8_t block_hash[CV_HASH_LEN], const uint8_t *cert, size_t len);
/* Appends to out the certificate of block_hash at (height, round 0) holding
 * one precommit, signed with key, the validator at index `validator` of the
 * height's set: what a single validator's chain stores with each block. */
int cv_cert_sign_single(const char *chain_id, const cv_keypair *key, uint32_t validator, uint64_t height,
                        const uint8_t block_hash[CV_HASH_LEN], cv_buf *out);

#endif
