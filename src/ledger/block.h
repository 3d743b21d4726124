/* block.h: block headers, blocks and inclusion proofs.
 *
 * header = {1: chain id, 2: height, 3: time (ms since the Unix epoch),
 *           4: previous header hash, 5: transaction count, 6: tx root,
 *           7: receipt root, 8: state root, 9: validator-set hash,
 *           10: proposer address, 11: next validator-set hash}
 * block  = {1: header (message), 2: transactions (list of bytes)}
 * The block hash is the suite hash of the header's encoding. The tx root is
 * the RFC 6962 Merkle root over the transaction hashes, the receipt root the
 * one over the receipt hashes, both in block order. The validator-set hash
 * is that of the set that certifies this block, the next one that of the
 * set of the next height (consensus/valset.h: known one height ahead), so a
 * client holding one set follows every change from the headers alone. */
#ifndef CV_LEDGER_BLOCK_H
#define CV_LEDGER_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "crypto/suite.h"
#include "ledger/tx.h"

#define CV_BLOCK_TX_HARD_MAX 100000 /* no block ever holds more transactions */

typedef struct {
    char chain_id[CV_CHAIN_ID_MAX + 1];
    uint64_t height;
    uint64_t time_ms;
    uint8_t prev_hash[CV_HASH_LEN];
    uint64_t tx_count;
    uint8_t tx_root[CV_HASH_LEN];
    uint8_t receipt_root[CV_HASH_LEN];
    uint8_t state_root[CV_HASH_LEN];
    uint8_t validators_hash[CV_HASH_LEN];
    uint8_t proposer[CV_ADDR_LEN];
    uint8_t next_validators_hash[CV_HASH_LEN];
} cv_header;

int cv_header_encode(const cv_header *h, cv_buf *out);
int cv_header_decode(const uint8_t *p, size_t len, cv_header *out);
/* The block hash: suite hash of the header's encoding. */
int cv_header_hash(cv_suite suite, const cv_header *h, uint8_t out[CV_HASH_LEN]);

/* A decoded block: its header and the encoded transactions, pointing into
 * the block's bytes. */
typedef struct {
    cv_header header;
    size_t tx_count;
    const uint8_t **txs;
    size_t *tx_lens;
} cv_block;

/* Appends {header, txs} to out. */
int cv_block_encode(const cv_header *h, const uint8_t *const *txs, const size_t *tx_lens, size_t n,
                    cv_buf *out);
/* Decodes a block of at most max_txs transactions of at most max_tx_len
 * bytes each, and checks that tx_count matches. Allocates the tx arrays:
 * free them with cv_block_free. */
int cv_block_decode(const uint8_t *p, size_t len, size_t max_txs, size_t max_tx_len, cv_block *out);
void cv_block_free(cv_block *b);

#endif
