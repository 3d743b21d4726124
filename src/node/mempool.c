/* mempool.c: the bounded FIFO of admitted transactions (see mempool.h).
 *
 * Entries form a doubly linked list in arrival order; an open-addressing
 * hash table (linear probing, backward-shift deletion) maps body hashes to
 * entries. The table has at least four slots per entry of capacity, so it
 * is at most a quarter full. */
#include "node/mempool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"

struct cv_mempool {
    pthread_mutex_t mu;
    pthread_cond_t grew;
    size_t max, count;
    cv_mempool_entry *head, *tail;
    cv_mempool_entry **slots; /* NULL: empty */
    size_t nslots;
    size_t want; /* the waiter wants to be woken at this many transactions */
    int woken;
    uint64_t expired;
};

static size_t home_slot(const cv_mempool *m, const uint8_t key[CV_HASH_LEN])
{
    uint64_t h;
    memcpy(&h, key, sizeof h); /* keys are hashes: any 8 bytes are uniform */
    return (size_t)(h & (m->nslots - 1));
}

/* The slot holding key, or the empty slot where it would go. */
static size_t find_slot(const cv_mempool *m, const uint8_t key[CV_HASH_LEN])
{
    size_t i = home_slot(m, key);
    while (m->slots[i] && memcmp(m->slots[i]->tx.body_hash, key, CV_HASH_LEN) != 0)
        i = (i + 1) & (m->nslots - 1);
    return i;
}

/* Empties slot i, moving later entries of its probe run back into the hole. */
static void clear_slot(cv_mempool *m, size_t i)
{
    m->slots[i] = NULL;
    for (size_t j = (i + 1) & (m->nslots - 1); m->slots[j]; j = (j + 1) & (m->nslots - 1)) {
        size_t home = home_slot(m, m->slots[j]->tx.body_hash);
        int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (between)
            continue;
        m->slots[i] = m->slots[j];
        m->slots[j] = NULL;
        i = j;
    }
}

int cv_mempool_create(size_t max, cv_mempool **out)
{
    if (max < 1)
        return cv_fail(CV_EINVAL, "a mempool needs room for at least one transaction");
    cv_mempool *m = calloc(1, sizeof *m);
    size_t nslots = 16;
    while (nslots < 4 * max)
        nslots *= 2;
    if (m)
        m->slots = calloc(nslots, sizeof *m->slots);
    if (!m || !m->slots) {
        free(m);
        return cv_fail(CV_ENOMEM, "out of memory for a mempool of %zu transactions", max);
    }
    m->max = max;
    m->nslots = nslots;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->grew, NULL);
    *out = m;
    return CV_OK;
}

void cv_mempool_destroy(cv_mempool *m)
{
    if (!m)
        return;
    for (cv_mempool_entry *e = m->head, *next; e; e = next) {
        next = e->next;
        free(e->raw);
        free(e);
    }
    pthread_cond_destroy(&m->grew);
    pthread_mutex_destroy(&m->mu);
    free(m->slots);
    free(m);
}

int cv_mempool_add(cv_mempool *m, const uint8_t *raw, size_t len, const cv_tx *tx)
{
    cv_mempool_entry *e = calloc(1, sizeof *e);
    uint8_t *copy = malloc(len);
    if (!e || !copy) {
        free(e);
        free(copy);
        return cv_fail(CV_ENOMEM, "out of memory admitting a transaction");
    }
    memcpy(copy, raw, len);
    *e = (cv_mempool_entry){copy, len, cv_tx_moved(tx, raw, copy), NULL, NULL};
    pthread_mutex_lock(&m->mu);
    size_t at = find_slot(m, tx->body_hash);
    int rc = CV_OK;
    if (m->slots[at])
        rc = cv_fail(CV_EEXIST, "duplicate: this transaction is already pending");
    else if (m->count >= m->max)
        rc = cv_fail(CV_EFULL, "mempool full (%zu transactions waiting): retry later", m->count);
    if (rc == CV_OK) {
        m->slots[at] = e;
        e->prev = m->tail;
        if (m->tail)
            m->tail->next = e;
        else
            m->head = e;
        m->tail = e;
        m->count++;
        if (m->want && m->count >= m->want)
            pthread_cond_signal(&m->grew);
    }
    pthread_mutex_unlock(&m->mu);
    if (rc) {
        free(copy);
        free(e);
    }
    return rc;
}

int cv_mempool_contains(cv_mempool *m, const cv_tx *tx)
{
    pthread_mutex_lock(&m->mu);
    const cv_mempool_entry *e = m->slots[find_slot(m, tx->body_hash)];
    int found = e && memcmp(e->tx.hash, tx->hash, CV_HASH_LEN) == 0;
    pthread_mutex_unlock(&m->mu);
    return found;
}

/* Unlinks e from the list and the table; the caller frees it. */
static void unlink_entry(cv_mempool *m, cv_mempool_entry *e)
{
    clear_slot(m, find_slot(m, e->tx.body_hash));
    if (e->prev)
        e->prev->next = e->next;
    else
        m->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        m->tail = e->prev;
    m->count--;
}

size_t cv_mempool_peek(cv_mempool *m, uint64_t height, size_t max, const cv_mempool_entry **out)
{
    size_t n = 0;
    cv_mempool_entry *dead = NULL;
    pthread_mutex_lock(&m->mu);
    for (cv_mempool_entry *e = m->head, *next; e && n < max; e = next) {
        next = e->next;
        if (e->tx.expiry >= height) {
            out[n++] = e;
            continue;
        }
        unlink_entry(m, e); /* it can never commit now */
        e->next = dead;
        dead = e;
        m->expired++;
    }
    pthread_mutex_unlock(&m->mu);
    while (dead) {
        cv_mempool_entry *next = dead->next;
        free(dead->raw);
        free(dead);
        dead = next;
    }
    return n;
}

void cv_mempool_remove(cv_mempool *m, const uint8_t body_hash[CV_HASH_LEN])
{
    pthread_mutex_lock(&m->mu);
    cv_mempool_entry *e = m->slots[find_slot(m, body_hash)];
    if (e)
        unlink_entry(m, e);
    pthread_mutex_unlock(&m->mu);
    if (e) {
        free(e->raw);
        free(e);
    }
}

size_t cv_mempool_size(cv_mempool *m)
{
    pthread_mutex_lock(&m->mu);
    size_t n = m->count;
    pthread_mutex_unlock(&m->mu);
    return n;
}

size_t cv_mempool_capacity(const cv_mempool *m)
{
    return m->max;
}

uint64_t cv_mempool_expired(cv_mempool *m)
{
    pthread_mutex_lock(&m->mu);
    uint64_t n = m->expired;
    pthread_mutex_unlock(&m->mu);
    return n;
}

void cv_mempool_wait(cv_mempool *m, size_t want, uint64_t deadline_ms)
{
    struct timespec ts = {(time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000L};
    pthread_mutex_lock(&m->mu);
    m->want = want;
    while (m->count < want && !m->woken)
        if (pthread_cond_timedwait(&m->grew, &m->mu, &ts) == ETIMEDOUT)
            break;
    m->want = 0;
    m->woken = 0;
    pthread_mutex_unlock(&m->mu);
}

void cv_mempool_wake(cv_mempool *m)
{
    pthread_mutex_lock(&m->mu);
    m->woken = 1;
    pthread_cond_broadcast(&m->grew);
    pthread_mutex_unlock(&m->mu);
}
