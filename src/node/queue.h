/* queue.h: a bounded, thread-safe queue of peer messages, from the network
 * thread to the node's engine and admission threads. Messages are copied in;
 * when the queue holds max_bytes, new ones are dropped and counted (a flood
 * from a peer cannot exhaust memory). */
#ifndef CV_NODE_QUEUE_H
#define CV_NODE_QUEUE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/suite.h"

typedef struct cv_msg {
    struct cv_msg *next;
    uint8_t type;
    cv_pubkey from;
    size_t len;
    uint8_t body[];
} cv_msg;

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    cv_msg *head, *tail;
    size_t bytes, max_bytes;
    uint64_t dropped;
    int closed;
} cv_msg_queue;

void cv_msg_queue_init(cv_msg_queue *q, size_t max_bytes);
/* Frees every message still queued. */
void cv_msg_queue_destroy(cv_msg_queue *q);
/* Copies a message in; CV_EFULL (counted) when the queue is full. */
int cv_msg_queue_push(cv_msg_queue *q, uint8_t type, const cv_pubkey *from, const uint8_t *body, size_t len);
/* The oldest message (the caller frees it), waiting until deadline_ms
 * (CLOCK_MONOTONIC) at most; NULL on timeout or when closed. */
cv_msg *cv_msg_queue_pop(cv_msg_queue *q, uint64_t deadline_ms);
/* Wakes every waiter; pops return NULL from now on. */
void cv_msg_queue_close(cv_msg_queue *q);

#endif
