/* queue.c: the bounded message queue between threads (see queue.h). */
#include "node/queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"

void cv_msg_queue_init(cv_msg_queue *q, size_t max_bytes)
{
    memset(q, 0, sizeof *q);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, &attr);
    pthread_condattr_destroy(&attr);
    q->max_bytes = max_bytes;
}

void cv_msg_queue_destroy(cv_msg_queue *q)
{
    for (cv_msg *m = q->head, *next; m; m = next) {
        next = m->next;
        free(m);
    }
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
}

int cv_msg_queue_push(cv_msg_queue *q, uint8_t type, const cv_pubkey *from, const uint8_t *body, size_t len)
{
    pthread_mutex_lock(&q->mu);
    int full = q->bytes + len > q->max_bytes;
    if (full)
        q->dropped++;
    pthread_mutex_unlock(&q->mu);
    if (full)
        return cv_fail(CV_EFULL, "message queue full: a message of %zu bytes was dropped", len);
    cv_msg *m = malloc(sizeof *m + len);
    if (!m)
        return cv_fail(CV_ENOMEM, "out of memory queueing a message");
    m->next = NULL;
    m->type = type;
    m->from = *from;
    m->len = len;
    memcpy(m->body, body, len);
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
    q->bytes += len;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return CV_OK;
}

cv_msg *cv_msg_queue_pop(cv_msg_queue *q, uint64_t deadline_ms)
{
    struct timespec ts = {(time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000L};
    pthread_mutex_lock(&q->mu);
    while (!q->head && !q->closed)
        if (pthread_cond_timedwait(&q->cv, &q->mu, &ts) == ETIMEDOUT)
            break;
    cv_msg *m = q->closed ? NULL : q->head;
    if (m) {
        q->head = m->next;
        if (!q->head)
            q->tail = NULL;
        q->bytes -= m->len;
    }
    pthread_mutex_unlock(&q->mu);
    return m;
}

void cv_msg_queue_close(cv_msg_queue *q)
{
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    pthread_cond_broadcast(&q->cv);
    pthread_mutex_unlock(&q->mu);
}
