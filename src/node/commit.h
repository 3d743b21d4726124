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

/* If the executed block changes the validators (gov), appends to out the
 * encoding of the set it leaves, read from the store's state with the block
 * on top (the store must hold the block's parent); else out stays empty. */
int cv_commit_valset(cv_store *store, cv_suite suite, const cv_exec_result *r, const cv_tx *txs, cv_buf *out);

/* Stores the encoded block (header h, hash hash) with its receipts, indexes,
 * spent replay keys, state writes, commit certificate (may be NULL) and the
 * set valset encodes (cv_commit_valset; empty: no change), in effect from
 * height h + CV_VALSET_DELAY (genesis: from 0), in one synced store
 * transaction. */
int cv_commit_store(cv_store *store, const cv_header *h, const uint8_t hash[CV_HASH_LEN], const uint8_t *block,
                    size_t block_len, const cv_exec_result *r, const cv_tx *txs, const uint8_t *cert,
                    size_t cert_len, const cv_buf *valset);

#endif
