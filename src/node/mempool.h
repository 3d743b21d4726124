/* mempool.h: transactions admitted and waiting for a block.
 *
 * A bounded FIFO with a set of body hashes (replay keys) covering both the
 * waiting transactions and those taken into the block being built, so a
 * duplicate is refused until its original is committed (after which the
 * store's index refuses it). Thread-safe. */
#ifndef CV_NODE_MEMPOOL_H
#define CV_NODE_MEMPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "ledger/tx.h"

typedef struct cv_mempool cv_mempool;

typedef struct {
    uint8_t *raw; /* the encoded transaction (owned) */
    size_t len;
    cv_tx tx;     /* decoded; points into raw */
} cv_mempool_entry;

int cv_mempool_create(size_t max, cv_mempool **out);
void cv_mempool_destroy(cv_mempool *m);

/* Copies a decoded (and verified) transaction in. CV_EEXIST if its body hash
 * is pending or in flight, CV_EFULL if the pool is full. */
int cv_mempool_add(cv_mempool *m, const uint8_t *raw, size_t len, const cv_tx *tx);

/* Moves up to max transactions, oldest first, into out (an array the caller
 * provides) and returns how many. They stay in flight until cv_mempool_done. */
size_t cv_mempool_take(cv_mempool *m, size_t max, cv_mempool_entry *out);

/* Forgets in-flight transactions (committed or dropped) and frees them. */
void cv_mempool_done(cv_mempool *m, cv_mempool_entry *entries, size_t n);

size_t cv_mempool_size(cv_mempool *m);
size_t cv_mempool_capacity(const cv_mempool *m);

/* Waits until at least want transactions wait or until deadline (ms since
 * the epoch, CLOCK_REALTIME) passes or cv_mempool_wake is called. */
void cv_mempool_wait(cv_mempool *m, size_t want, uint64_t deadline_ms);
void cv_mempool_wake(cv_mempool *m);

#endif
