/* pool.c: worker threads for parallel-for jobs (see pool.h).
 *
 * A job is (fn, arg, n). Threads claim indices with an atomic counter, so
 * uneven items balance themselves. The caller works too and then waits until
 * every worker has left the job, so the job's memory can be freed on return. */
#include "base/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/err.h"

struct cv_pool {
    pthread_mutex_t mu;
    pthread_cond_t job_cv;   /* workers wait here for a new job */
    pthread_cond_t done_cv;  /* the caller waits here for workers to finish */
    pthread_mutex_t run_mu;  /* serialises callers of cv_pool_run */
    pthread_t *workers;
    unsigned nworkers;
    unsigned long generation; /* bumped per job */
    unsigned busy;            /* workers still inside the current job */
    int stopping;
    cv_pool_fn fn;
    void *arg;
    size_t n;
    atomic_size_t next;
};

static void work_on_job(cv_pool *p)
{
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n)
            return;
        p->fn(p->arg, i);
    }
}

static void *worker_main(void *arg)
{
    cv_pool *p = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stopping && p->generation == seen)
            pthread_cond_wait(&p->job_cv, &p->mu);
        if (p->stopping)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        work_on_job(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0)
            pthread_cond_signal(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int cv_pool_create(unsigned threads, cv_pool **out)
{
    if (threads < 1)
        return cv_fail(CV_EINVAL, "a pool needs at least one thread");
    cv_pool *p = calloc(1, sizeof *p);
    if (!p)
        return cv_fail(CV_ENOMEM, "out of memory creating a thread pool");
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->run_mu, NULL);
    pthread_cond_init(&p->job_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    p->workers = calloc(threads, sizeof *p->workers);
    if (!p->workers) {
        cv_pool_destroy(p);
        return cv_fail(CV_ENOMEM, "out of memory creating a thread pool");
    }
    for (unsigned i = 0; i + 1 < threads; i++) {
        if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0) {
            cv_pool_destroy(p);
            return cv_fail(CV_ENOMEM, "cannot start pool thread %u", i);
        }
        p->nworkers++;
    }
    *out = p;
    return CV_OK;
}

void cv_pool_destroy(cv_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->job_cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i], NULL);
    pthread_cond_destroy(&p->job_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->run_mu);
    free(p->workers);
    free(p);
}

unsigned cv_pool_threads(const cv_pool *p)
{
    return p->nworkers + 1;
}

void cv_pool_run(cv_pool *p, size_t n, cv_pool_fn fn, void *arg)
{
    if (n == 0)
        return;
    pthread_mutex_lock(&p->run_mu);
    if (p->nworkers == 0 || n == 1) {
        for (size_t i = 0; i < n; i++)
            fn(arg, i);
        pthread_mutex_unlock(&p->run_mu);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    atomic_store(&p->next, 0);
    p->busy = p->nworkers;
    p->generation++;
    pthread_cond_broadcast(&p->job_cv);
    pthread_mutex_unlock(&p->mu);

    work_on_job(p);

    pthread_mutex_lock(&p->mu);
    while (p->busy > 0)
        pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    pthread_mutex_unlock(&p->run_mu);
}

unsigned cv_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}
