/* send.c: the per-peer send queues: sealing on the sender's thread,
 * bounded queues, and handing frames to the net thread (internal.h).
 *
 * A frame is sealed under the peer's seal_mu, so record counters follow
 * queue order, and appended under its queue_mu, which the net thread takes
 * only to detach the queue. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "net/internal.h"

/* Frees the queued frames, counting them as dropped (under queue_mu). */
static void purge_locked(net_peer *p)
{
    for (net_frame *f = p->head, *next; f; f = next) {
        next = f->next;
        atomic_fetch_sub(&p->queued, f->len);
        atomic_fetch_add(&p->dropped, 1);
        free(f);
    }
    p->head = p->tail = NULL;
}

void cv_net_peer_locks_init(net_peer *p)
{
    pthread_mutex_init(&p->seal_mu, NULL);
    pthread_mutex_init(&p->queue_mu, NULL);
}

void cv_net_peer_locks_free(net_peer *p)
{
    purge_locked(p);
    pthread_mutex_destroy(&p->seal_mu);
    pthread_mutex_destroy(&p->queue_mu);
}

void cv_net_peer_session_start(net_peer *p, const uint8_t *key, uint64_t counter)
{
    pthread_mutex_lock(&p->seal_mu);
    memcpy(p->tx_key, key, sizeof p->tx_key);
    p->tx_counter = counter;
    atomic_store(&p->up, 1);
    pthread_mutex_unlock(&p->seal_mu);
}

void cv_net_peer_session_end(net_peer *p)
{
    pthread_mutex_lock(&p->seal_mu);
    atomic_store(&p->up, 0);
    sodium_memzero(p->tx_key, sizeof p->tx_key);
    pthread_mutex_lock(&p->queue_mu);
    purge_locked(p);
    pthread_mutex_unlock(&p->queue_mu);
    pthread_mutex_unlock(&p->seal_mu);
}

/* A frame with type || body in place, ready to be sealed. */
static net_frame *frame_new(uint8_t type, const void *body, size_t len)
{
    size_t frame_len = cv_net_record_frame_len(1 + len);
    net_frame *f = malloc(sizeof *f + frame_len);
    if (!f)
        return NULL;
    f->next = NULL;
    f->len = frame_len;
    f->bytes[CV_NET_HEADER_LEN] = type;
    if (len)
        memcpy(f->bytes + CV_NET_HEADER_LEN + 1, body, len);
    return f;
}

/* Seals f and appends it to the queue (under seal_mu). */
static int seal_and_queue_locked(net_peer *p, net_frame *f)
{
    cv_net *net = p->net;
    if (!atomic_load(&p->up))
        return cv_fail(CV_ENOTFOUND, "no session with peer %s", p->name);
    if (atomic_load(&p->queued) + f->len > net->lim.send_queue_max) {
        atomic_fetch_add(&p->dropped, 1);
        return cv_fail(CV_EFULL, "send queue of peer %s is full (%llu bytes)", p->name,
                       (unsigned long long)net->lim.send_queue_max);
    }
    int rc = cv_net_record_seal(net->params.suite, p->tx_key, &p->tx_counter, f->bytes,
                                f->len - CV_NET_HEADER_LEN - CV_AEAD_TAG_LEN);
    if (rc)
        return rc;
    atomic_fetch_add(&p->queued, f->len);
    pthread_mutex_lock(&p->queue_mu);
    if (p->tail)
        p->tail->next = f;
    else
        p->head = f;
    p->tail = f;
    pthread_mutex_unlock(&p->queue_mu);
    return CV_OK;
}

/* Seals type || body for p's session and queues it; see cv_net_send. */
static int peer_enqueue(net_peer *p, uint8_t type, const void *body, size_t len)
{
    net_frame *f = frame_new(type, body, len);
    if (!f)
        return cv_fail(CV_ENOMEM, "out of memory for a frame of %zu bytes", len);
    pthread_mutex_lock(&p->seal_mu);
    int rc = seal_and_queue_locked(p, f);
    pthread_mutex_unlock(&p->seal_mu);
    if (rc)
        free(f);
    return rc;
}

void cv_net_peer_ping(net_peer *p)
{
    net_frame *f = frame_new(0, NULL, 0);
    int rc = CV_ENOMEM;
    if (f && pthread_mutex_trylock(&p->seal_mu) == 0) {
        rc = seal_and_queue_locked(p, f);
        pthread_mutex_unlock(&p->seal_mu);
    }
    if (rc)
        free(f);
    else
        cv_net_peer_flush(p);
}

void cv_net_peer_flush(net_peer *p)
{
    if (!p->conn || p->conn->closing)
        return;
    pthread_mutex_lock(&p->queue_mu);
    net_frame *list = p->head;
    p->head = p->tail = NULL;
    pthread_mutex_unlock(&p->queue_mu);
    if (list)
        cv_net_conn_write_frames(p->conn, list);
}

static int check_message(const cv_net *net, uint8_t type, size_t len)
{
    if (type == 0)
        return cv_fail(CV_EINVAL, "message type 0 is reserved for the transport");
    if (len > net->params.max_msg)
        return cv_fail(CV_EINVAL, "message of %zu bytes exceeds the limit of %u", len,
                       net->params.max_msg);
    return CV_OK;
}

int cv_net_send(cv_net *net, const cv_pubkey *to, uint8_t type, const void *body, size_t len)
{
    int rc = check_message(net, type, len);
    if (rc)
        return rc;
    net_peer *p = cv_net_peer_find(net, to);
    if (!p)
        return cv_fail(CV_ENOTFOUND, "no session with that peer (unknown key)");
    if ((rc = peer_enqueue(p, type, body, len)) == CV_OK)
        cv_net_wake(net);
    return rc;
}

/* The i-th peer of the table, or NULL past its end. */
static net_peer *peer_at(cv_net *net, size_t i)
{
    pthread_mutex_lock(&net->mu);
    net_peer *p = i < net->npeers ? net->peers[i] : NULL;
    pthread_mutex_unlock(&net->mu);
    return p;
}

int cv_net_broadcast(cv_net *net, uint8_t type, const void *body, size_t len, size_t *sent)
{
    size_t n = 0;
    int rc = check_message(net, type, len);
    net_peer *p;
    for (size_t i = 0; rc == CV_OK && (p = peer_at(net, i)); i++) {
        rc = peer_enqueue(p, type, body, len);
        if (rc == CV_OK)
            n++;
        if (rc == CV_ENOTFOUND || rc == CV_EFULL)
            rc = CV_OK;
    }
    if (n)
        cv_net_wake(net);
    if (sent)
        *sent = n;
    return rc;
}
