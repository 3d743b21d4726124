/* store.h: the node's embedded ledger store (LMDB).
 *
 * Holds blocks by height, indexes from block hash and transaction hash to
 * their place, the spent replay keys of unexpired transactions, receipts,
 * the contract state (one key-value space; keys are namespaced by exec/),
 * the validator sets by the height they take effect at, and metadata. Each block is
 * committed in one LMDB write transaction, synced to disk before
 * cv_store_commit returns, so a node killed at any instant restarts with
 * every committed block, its receipts and its state intact and consistent.
 *
 * All functions are safe to call from several threads; commits are
 * serialised, and reads wait for one only while it grows the map. Reads see
 * the last committed block: a read begun after cv_store_commit returned sees
 * that block, and none sees a block before it is on disk, so reads never go
 * back, in one thread or across threads. Functions that return bytes in a
 * cv_buf replace its contents. A store directory must be open at most once
 * at a time (LMDB's rule). */
#ifndef CV_STORE_STORE_H
#define CV_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "crypto/suite.h"
#include "ledger/tx.h"

typedef struct cv_store cv_store;

#define CV_STORE_KEY_MAX 511 /* longest state key, in bytes (LMDB's key limit) */

/* One state write: value NULL means delete the key. Keys are 1 to
 * CV_STORE_KEY_MAX bytes. */
typedef struct {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
} cv_kv;

/* The store's key order (LMDB's default): bytes compared as unsigned, a
 * key before every longer key it begins. */
static inline int cv_kv_compare(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n ? memcmp(a, b, n) : 0;
    return c ? c : (a_len > b_len) - (a_len < b_len);
}

/* In kv[0..n) sorted by key: the index of the first key >= key (n if none). */
static inline size_t cv_kv_lower_bound(const cv_kv *kv, size_t n, const uint8_t *key, size_t key_len)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cv_kv_compare(kv[mid].key, kv[mid].key_len, key, key_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Everything a block changes, committed atomically. */
typedef struct {
    uint64_t height;                  /* must be the stored height + 1 (0 for genesis) */
    const uint8_t *hash;              /* block (header) hash, CV_HASH_LEN bytes */
    const uint8_t *block;             /* encoded block */
    size_t block_len;
    const uint8_t *cert;              /* commit certificate, or NULL */
    size_t cert_len;
    size_t tx_count;
    const uint8_t (*tx_hashes)[CV_HASH_LEN];
    const uint8_t (*tx_replay_keys)[CV_REPLAY_KEY_LEN]; /* cv_tx_replay_key of each */
    const uint8_t *tx_seen;           /* per tx: 1 to record its replay key as spent; 0 for a
                                         transaction execution rejected before it could
                                         claim one. NULL: all are recorded */
    const uint8_t *const *receipts;   /* encoded receipts, one per transaction */
    const size_t *receipt_lens;
    const cv_kv *writes;              /* state writes, in any order, keys unique */
    size_t nwrites;
    const uint8_t *state_root;        /* state root after this block */
    const uint8_t *valset;            /* a validator set that takes effect at valset_from, or NULL */
    size_t valset_len;
    uint64_t valset_from;             /* above height (genesis: any, usually 0); above the last one */
} cv_store_batch;

/* Opens (creating if needed) the store in directory dir. */
int cv_store_open(const char *dir, cv_store **out);
void cv_store_close(cv_store *s);

/* CV_OK, or CV_EINVAL if b->height is not the next height; the store is
 * unchanged unless CV_OK is returned. */
int cv_store_commit(cv_store *s, const cv_store_batch *b);

/* Pins one read of s to the calling thread: until cv_store_unpin, this
 * thread's reads of s see the store as it was at the pin (no later commit)
 * and skip beginning a read of their own, which costs a lock and a reader
 * slot each. For a burst of reads that belong together, such as admitting a
 * batch of transactions; unpin before waiting on anything, since a pin
 * holds back the map's growth. One pin per thread at a time. */
int cv_store_pin(cv_store *s);
void cv_store_unpin(cv_store *s);

/* The height of the last committed block; CV_ENOTFOUND if the store is empty
 * (no genesis yet). */
int cv_store_height(cv_store *s, uint64_t *height);
/* The state root after the last committed block. */
int cv_store_state_root(cv_store *s, uint8_t out[CV_HASH_LEN]);

/* Blocks and certificates by height; CV_ENOTFOUND when absent. */
int cv_store_block(cv_store *s, uint64_t height, cv_buf *out);
int cv_store_cert(cv_store *s, uint64_t height, cv_buf *out);
int cv_store_block_height(cv_store *s, const uint8_t hash[CV_HASH_LEN], uint64_t *height);

/* The encoded validator set in effect at height (the one stored with the
 * greatest first height <= height) and that first height; CV_ENOTFOUND if
 * none is. */
int cv_store_valset(cv_store *s, uint64_t height, uint64_t *from, cv_buf *out);

/* Where a transaction was committed; CV_ENOTFOUND if it was not. */
int cv_store_tx_location(cv_store *s, const uint8_t tx_hash[CV_HASH_LEN], uint64_t *height,
                         uint32_t *index);
/* CV_OK if a committed transaction spent this replay key (cv_tx_replay_key),
 * else CV_ENOTFOUND. Keys whose expiry is below the next height are forgotten:
 * no later block may include a transaction carrying them. */
int cv_store_replay_seen(cv_store *s, const uint8_t key[CV_REPLAY_KEY_LEN]);
int cv_store_receipt(cv_store *s, uint64_t height, uint32_t index, cv_buf *out);

/* Blobs: bytes the node keeps beside the chain under a key of 1 to
 * CV_STORE_KEY_MAX bytes, outside the state (not hashed, not replicated by
 * blocks), such as the EPCIS documents of trace events. A put replaces any
 * earlier value and is durable when it returns; a get gives CV_ENOTFOUND,
 * without a message, when the key has none. */
int cv_store_blob_put(cv_store *s, const uint8_t *key, size_t key_len, const uint8_t *value, size_t len);
int cv_store_blob_get(cv_store *s, const uint8_t *key, size_t key_len, cv_buf *out);

/* A state value; CV_ENOTFOUND if absent. */
int cv_store_get(cv_store *s, const uint8_t *key, size_t key_len, cv_buf *value);

/* Calls fn for every state key starting with prefix, in key order, until fn
 * returns non-zero (which is returned) or limit keys were visited (SIZE_MAX:
 * no limit). key and value are valid only during the call; fn may read the
 * store but must not commit to it. */
typedef int (*cv_store_scan_fn)(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                                size_t value_len);
int cv_store_scan(cv_store *s, const uint8_t *prefix, size_t prefix_len, size_t limit,
                  cv_store_scan_fn fn, void *ctx);

#endif
