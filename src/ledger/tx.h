/* tx.h: transactions: what a client signs and the chain executes.
 *
 * Encoding (docs/LEDGER.md): tx = {1: body (message), 2: signature (bytes)},
 * body = {1: kind = 1, 2: chain id, 3: suite, 4: sender public key,
 *         5: nonce, 6: expiry height, 7: contract, 8: method, 9: args}.
 * The signature covers the body's bytes. The hash of a transaction is the
 * suite hash of its whole signed encoding; its replay key is the hash of its
 * body, so a sender's re-signed copy of the same body is still a replay.
 *
 * Replay guard: a client picks a random nonce and an expiry height. A block
 * at height h may include the transaction only if h <= expiry <= h +
 * tx_window and no committed transaction has the same body hash
 * (docs/LEDGER.md). */
#ifndef CV_LEDGER_TX_H
#define CV_LEDGER_TX_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "crypto/suite.h"

#define CV_CHAIN_ID_MAX 64 /* bytes of a chain id */
#define CV_NAME_MAX 32     /* bytes of a contract or method name */
#define CV_TX_HARD_MAX (1u << 20) /* no transaction is ever larger than this */
#define CV_KIND_TX 1
#define CV_REPLAY_KEY_LEN (8 + CV_HASH_LEN)

typedef struct {
    char chain_id[CV_CHAIN_ID_MAX + 1];
    cv_pubkey sender; /* its suite is the transaction's suite */
    uint64_t nonce;
    uint64_t expiry;
    char contract[CV_NAME_MAX + 1];
    char method[CV_NAME_MAX + 1];
    const uint8_t *args; /* canonical encoding of the method's arguments */
    size_t args_len;
    cv_sig sig;
    /* Set by cv_tx_decode / cv_tx_sign; point into the encoded bytes. */
    const uint8_t *body;
    size_t body_len;
    uint8_t hash[CV_HASH_LEN];      /* hash of the signed encoding */
    uint8_t body_hash[CV_HASH_LEN]; /* replay key */
} cv_tx;

/* Encodes tx's body fields and signs them with key (whose public key becomes
 * the sender), appending the signed transaction to out. On success tx->body,
 * tx->sig, tx->hash and tx->body_hash describe the bytes in out, which must
 * not be modified while tx is used. */
int cv_tx_sign(cv_tx *tx, const cv_keypair *key, cv_buf *out);

/* Decodes a signed transaction; max_len bounds its size. Does not verify the
 * signature (see cv_tx_verify), so verification can be batched. The result
 * points into p, which must outlive it. */
int cv_tx_decode(const uint8_t *p, size_t len, size_t max_len, cv_tx *out);

/* Verifies the signature over the body. */
int cv_tx_verify(const cv_tx *tx);

/* The replay key: the expiry height (8 bytes, big-endian) then the body
 * hash. Keys sort by expiry, so a node's index of spent keys grows at one end
 * and is pruned at the other once their expiry has passed. */
void cv_tx_replay_key(const cv_tx *tx, uint8_t out[CV_REPLAY_KEY_LEN]);

/* tx as decoded from bytes at `from`, repointed at a copy of them at `to`. */
cv_tx cv_tx_moved(const cv_tx *tx, const uint8_t *from, const uint8_t *to);

/* The verify item for batch verification of a decoded transaction. */
cv_verify_item cv_tx_verify_item(const cv_tx *tx);

#endif
