/* solo.h: single-validator consensus as a pure state machine.
 *
 * The solo engine decides when to cut a block: when the mempool holds a full
 * block, or when it holds anything and the block interval has passed since
 * the last cut. It has no clock or I/O: the node feeds it the time and the
 * mempool size and acts on its answer. */
#ifndef CV_CONSENSUS_SOLO_H
#define CV_CONSENSUS_SOLO_H

#include <stdint.h>

typedef struct {
    uint64_t interval_ms;
    uint64_t max_txs;
    uint64_t last_cut_ms; /* when the last block was cut */
} cv_solo;

typedef struct {
    int cut;          /* 1: cut a block of up to max_txs now */
    uint64_t wake_ms; /* else: ask again at this time, or when the mempool grows */
} cv_solo_decision;

void cv_solo_init(cv_solo *s, uint64_t interval_ms, uint64_t max_txs, uint64_t now_ms);
cv_solo_decision cv_solo_step(cv_solo *s, uint64_t now_ms, uint64_t pending);

#endif
