/* memstate.h: committed state held in memory, for tests and the simulator.
 *
 * A sorted map of state keys and a sorted set of committed body hashes,
 * read through a cv_state_source like the node's store. Commit each block's
 * cv_exec_result to it in order. */
#ifndef CV_EXEC_MEMSTATE_H
#define CV_EXEC_MEMSTATE_H

#include "exec/exec.h"

typedef struct cv_state_mem cv_state_mem;

int cv_state_mem_new(cv_state_mem **out);
void cv_state_mem_free(cv_state_mem *m);

/* A source reading m; valid while m lives. */
cv_state_source cv_state_mem_source(cv_state_mem *m);

/* Applies r's write set and records the body hashes of the txs[i] that
 * r->seen marks (txs may be NULL when r->ntx is 0). */
int cv_state_mem_commit(cv_state_mem *m, const cv_exec_result *r, const cv_tx *txs);

#endif
