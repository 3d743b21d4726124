/* mempool.h: transactions admitted and waiting to be committed.
 *
 * A bounded FIFO indexed by replay key (body hash). A transaction stays in
 * the pool until a decided block includes it or its expiry passes, so a
 * proposal that does not commit (a lost BFT round) loses nothing, and a
 * duplicate is refused for as long as its original waits (after which the
 * store's replay index refuses it).
 *
 * Threads: any thread may add; one thread (the block producer) peeks,
 * removes and drops expired transactions. Entries returned by peek stay
 * valid until that thread removes them. */
#ifndef CV_NODE_MEMPOOL_H
#define CV_NODE_MEMPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/tx.h"

typedef struct cv_mempool cv_mempool;

typedef struct cv_mempool_entry {
    uint8_t *raw; /* the encoded transaction (owned) */
    size_t len;
    cv_tx tx;     /* decoded; points into raw */
    struct cv_mempool_entry *prev, *next; /* FIFO order (private) */
} cv_mempool_entry;

int cv_mempool_create(size_t max, cv_mempool **out);
void cv_mempool_destroy(cv_mempool *m);

/* Copies a decoded (and verified) transaction in. CV_EEXIST if a transaction
 * with its body hash is waiting, CV_EFULL if the pool is full. */
int cv_mempool_add(cv_mempool *m, const uint8_t *raw, size_t len, const cv_tx *tx);

/* 1 if this very transaction (same body and signature: same hash) is
 * waiting, and so was verified when admitted. */
int cv_mempool_contains(cv_mempool *m, const cv_tx *tx);

/* Puts up to max of the oldest transactions into out (pointers, in order)
 * and returns how many; first drops those that expired before height. */
size_t cv_mempool_peek(cv_mempool *m, uint64_t height, size_t max, const cv_mempool_entry **out);

/* Removes (and frees) the transaction with this body hash, if waiting:
 * after its block commits. */
void cv_mempool_remove(cv_mempool *m, const uint8_t body_hash[CV_HASH_LEN]);

size_t cv_mempool_size(cv_mempool *m);
size_t cv_mempool_capacity(const cv_mempool *m);
/* Transactions dropped because they expired, since creation. */
uint64_t cv_mempool_expired(cv_mempool *m);

/* Waits until at least want transactions wait or until deadline (ms since
 * the epoch, CLOCK_REALTIME) passes or cv_mempool_wake is called. */
void cv_mempool_wait(cv_mempool *m, size_t want, uint64_t deadline_ms);
void cv_mempool_wake(cv_mempool *m);

#endif
