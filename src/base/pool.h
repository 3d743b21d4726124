/* pool.h: a fixed pool of worker threads running parallel-for jobs.
 *
 * cv_pool_run(pool, n, fn, arg) calls fn(arg, i) once for every i in [0, n),
 * spread over the workers and the calling thread, and returns when all calls
 * are done. One job runs at a time; concurrent callers wait their turn. */
#ifndef CV_BASE_POOL_H
#define CV_BASE_POOL_H

#include <stddef.h>

typedef struct cv_pool cv_pool;
typedef void (*cv_pool_fn)(void *arg, size_t index);

/* threads = total threads doing work, including the caller (>= 1). */
int cv_pool_create(unsigned threads, cv_pool **out);
void cv_pool_destroy(cv_pool *pool);
unsigned cv_pool_threads(const cv_pool *pool);
void cv_pool_run(cv_pool *pool, size_t n, cv_pool_fn fn, void *arg);

/* The number of online CPUs (at least 1). */
unsigned cv_cpu_count(void);

#endif
