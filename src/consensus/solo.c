/* solo.c: the single-validator block-cutting rule (see solo.h). */
#include "consensus/solo.h"

#include <assert.h>

void cv_solo_init(cv_solo *s, uint64_t interval_ms, uint64_t max_txs, uint64_t now_ms)
{
    assert(interval_ms > 0 && max_txs > 0);
    s->interval_ms = interval_ms;
    s->max_txs = max_txs;
    s->last_cut_ms = now_ms;
}

cv_solo_decision cv_solo_step(cv_solo *s, uint64_t now_ms, uint64_t pending)
{
    uint64_t due = s->last_cut_ms + s->interval_ms;
    if (pending >= s->max_txs || (pending > 0 && now_ms >= due)) {
        s->last_cut_ms = now_ms;
        return (cv_solo_decision){1, now_ms};
    }
    /* Nothing pending: the interval restarts when the first transaction comes. */
    if (pending == 0 && now_ms >= due)
        s->last_cut_ms = now_ms - s->interval_ms;
    return (cv_solo_decision){0, pending > 0 ? due : now_ms + s->interval_ms};
}
