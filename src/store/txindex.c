/* txindex.c: the transaction-hash index (tx hash -> height, index) in two
 * levels, so that committing a block does not write one random page of a
 * large B-tree per transaction.
 *
 * Transaction hashes are uniformly random, so once the index is larger than
 * a block, inserting a block's entries dirties about one leaf page per
 * transaction, and the synced commit of those scattered pages was most of a
 * block's store time (docs/BENCHMARKS.md). Instead:
 *
 *   txruns   height (8) -> the block's run: entries of tx hash (32) ||
 *            index (4, big-endian), sorted (so by hash, then index)
 *   txs      tx hash -> height (8) || index (4)
 *
 * A block's commit appends its run (a few sequential overflow pages), then
 * moves into txs the entries of every older run that fall in slice
 * height % 64 of the hash space (hash[0] >> 2). Those are about as many
 * entries as a block has, but all within one 64th of the index, so they
 * share pages. A run created at height r has moved whole once blocks r + 1
 * to r + 64 have each moved their slice; it is then deleted. So at most 64
 * runs exist, and every entry sits in txs or in a run, never neither.
 *
 * A lookup reads txs, then the runs oldest first. A transaction included
 * twice (the second time refused as a replay) keeps its first place: within
 * a run the lower index sorts first, older runs are searched first and move
 * first, and a move never overwrites an entry of txs. */
#include "store/txindex.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/endian.h"

#define ENTRY (CV_HASH_LEN + 4)
#define HEIGHT_LEN 8

static int compare_entries(const void *a, const void *b)
{
    return memcmp(a, b, ENTRY);
}

int cv_txindex_put_run(MDB_txn *txn, MDB_dbi runs, uint64_t height, const uint8_t (*hashes)[CV_HASH_LEN], size_t n)
{
    if (n == 0)
        return 0;
    uint8_t *run = malloc(n * ENTRY), key[HEIGHT_LEN];
    if (!run)
        return ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = run + i * ENTRY;
        memcpy(e, hashes[i], CV_HASH_LEN);
        cv_put_be32(e + CV_HASH_LEN, (uint32_t)i);
    }
    qsort(run, n, ENTRY, compare_entries);
    cv_put_be64(key, height);
    MDB_val k = {HEIGHT_LEN, key}, v = {n * ENTRY, run};
    int rc = mdb_put(txn, runs, &k, &v, MDB_APPEND);
    free(run);
    return rc;
}

/* The first entry of the n in run whose first `len` bytes are not below
 * key's. */
static size_t lower_bound(const uint8_t *run, size_t n, const uint8_t *key, size_t len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(run + mid * ENTRY, key, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Moves the entries of one run that fall in slice into txs. */
static int move_slice(MDB_txn *txn, MDB_dbi txs, const MDB_val *k, const MDB_val *v, unsigned slice)
{
    const uint8_t *run = v->mv_data;
    size_t n = v->mv_size / ENTRY;
    uint8_t first = (uint8_t)(slice << 2), loc[HEIGHT_LEN + 4];
    memcpy(loc, k->mv_data, HEIGHT_LEN);
    for (size_t i = lower_bound(run, n, &first, 1); i < n && run[i * ENTRY] >> 2 == slice; i++) {
        memcpy(loc + HEIGHT_LEN, run + i * ENTRY + CV_HASH_LEN, 4);
        MDB_val hk = {CV_HASH_LEN, (void *)(run + i * ENTRY)}, hv = {sizeof loc, loc};
        int rc = mdb_put(txn, txs, &hk, &hv, MDB_NOOVERWRITE);
        if (rc && rc != MDB_KEYEXIST)
            return rc;
    }
    return 0;
}

int cv_txindex_merge(MDB_txn *txn, MDB_dbi txs, MDB_dbi runs, uint64_t height)
{
    MDB_cursor *cur;
    MDB_val k, v;
    unsigned slice = (unsigned)(height % CV_TXINDEX_SLICES);
    int rc = mdb_cursor_open(txn, runs, &cur);
    if (rc)
        return rc;
    /* Move this block's slice out of every older run. A run's data stays
     * valid while txs, another database, is written: older runs' overflow
     * pages are not dirty in this transaction, and LMDB never spills the
     * pages under an open cursor. */
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && cv_get_be64(k.mv_data) < height;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if ((rc = move_slice(txn, txs, &k, &v, slice)))
            break;
    /* Delete the runs that have now moved whole: they are the oldest. */
    if (rc == 0 || rc == MDB_NOTFOUND)
        while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 &&
               cv_get_be64(k.mv_data) + CV_TXINDEX_SLICES <= height)
            if ((rc = mdb_cursor_del(cur, 0)))
                break;
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int cv_txindex_find(MDB_txn *txn, MDB_dbi txs, MDB_dbi runs, const uint8_t hash[CV_HASH_LEN], uint64_t *height,
                    uint32_t *index)
{
    MDB_val k = {CV_HASH_LEN, (void *)hash}, v;
    int rc = mdb_get(txn, txs, &k, &v);
    if (rc == 0 && v.mv_size == HEIGHT_LEN + 4) {
        const uint8_t *loc = v.mv_data;
        *height = cv_get_be64(loc);
        *index = cv_get_be32(loc + HEIGHT_LEN);
        return 0;
    }
    if (rc == 0)
        return MDB_CORRUPTED;
    if (rc != MDB_NOTFOUND)
        return rc;
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(txn, runs, &cur)))
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *run = v.mv_data;
        size_t n = v.mv_size / ENTRY, i = lower_bound(run, n, hash, CV_HASH_LEN);
        if (i < n && memcmp(run + i * ENTRY, hash, CV_HASH_LEN) == 0) {
            *height = cv_get_be64(k.mv_data);
            *index = cv_get_be32(run + i * ENTRY + CV_HASH_LEN);
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc;
}
