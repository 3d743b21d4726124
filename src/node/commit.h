/* commit.h: turning an executed block into a committed one; shared by block
 * production and chain replay so both build blocks the same way. */
#ifndef CV_NODE_COMMIT_H
#define CV_NODE_COMMIT_H

#include "exec/exec.h"
#include "ledger/block.h"
#include "store/store.h"

/* Fills in h's transaction count, tx root (RFC 6962 over the transaction
 * hashes), receipt root and state root (from r), encodes the block and
 * commits it with its receipts, indexes and state writes in one store
 * transaction. hash receives the block hash. */
int cv_commit_block(cv_store *store, cv_suite suite, cv_header *h, const cv_exec_result *r, const cv_tx *txs,
                    const uint8_t *const *raws, const size_t *lens, size_t ntx, uint8_t hash[CV_HASH_LEN]);

/* The tx root of a block: the RFC 6962 root over its transaction hashes. */
int cv_commit_tx_root(cv_suite suite, const cv_tx *txs, size_t ntx, uint8_t root[CV_HASH_LEN]);

#endif
