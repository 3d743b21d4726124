/* txindex.h: the transaction-hash index in two levels (see txindex.c);
 * internal to src/store. Functions return LMDB's codes (0, MDB_NOTFOUND,
 * MDB_MAP_FULL...) or an errno value, as mdb_strerror explains either. */
#ifndef CV_STORE_TXINDEX_H
#define CV_STORE_TXINDEX_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/suite.h"

/* Blocks after which a run has moved into the index whole. */
#define CV_TXINDEX_SLICES 64

/* Stores block height's run: its n transaction hashes with their indexes,
 * sorted (height must exceed every stored run's). */
int cv_txindex_put_run(MDB_txn *txn, MDB_dbi runs, uint64_t height, const uint8_t (*hashes)[CV_HASH_LEN],
                       size_t n);

/* At the commit of block height: moves slice height % CV_TXINDEX_SLICES of
 * every older run into the index (a hash already there keeps its place)
 * and deletes the runs that have moved whole. */
int cv_txindex_merge(MDB_txn *txn, MDB_dbi txs, MDB_dbi runs, uint64_t height);

/* The first place of hash: from the index, else from the oldest run that
 * holds it. */
int cv_txindex_find(MDB_txn *txn, MDB_dbi txs, MDB_dbi runs, const uint8_t hash[CV_HASH_LEN], uint64_t *height,
                    uint32_t *index);

#endif
