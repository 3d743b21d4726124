/* commit.h: from an executed block to a committed one; shared by block
 * production (solo and BFT), block validation, sync and replay, so that
 * every path builds and stores blocks the same way. */
#ifndef CV_NODE_COMMIT_H
#define CV_NODE_COMMIT_H

#include "exec/exec.h"
#include "ledger/block.h"
#include "store/store.h"

/* Completes h from the block's transactions and their execution: the
 * transaction count, the tx root (RFC 6962 over the transaction hashes),
 * the receipt root and the state root. */
int cv_commit_header(cv_suite suite, cv_header *h, const cv_exec_result *r, const cv_tx *txs, size_t ntx);

/* Stores the encoded block (header h, hash hash) with its receipts, indexes,
 * spent replay keys, state writes, commit certificate (may be NULL) and,
 * if it changes the validators (gov), the set they form, in effect from
 * height h + CV_VALSET_DELAY (genesis: from 0), in one synced store
 * transaction. */
int cv_commit_store(cv_store *store, const cv_header *h, const uint8_t hash[CV_HASH_LEN], const uint8_t *block,
                    size_t block_len, const cv_exec_result *r, const cv_tx *txs, const uint8_t *cert,
                    size_t cert_len, cv_suite suite);

#endif
