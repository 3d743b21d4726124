/* mempool.c: the bounded FIFO of admitted transactions (see mempool.h).
 *
 * The queue is a ring of entries; the replay-key set is an open-addressing
 * hash table (linear probing, backward-shift deletion) sized to twice the
 * capacity plus the largest in-flight block, so it never fills. */
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
    size_t max;
    cv_mempool_entry *ring;
    size_t head, count;
    uint8_t (*keys)[CV_HASH_LEN]; /* slot empty when used[i] == 0 */
    uint8_t *used;
    size_t slots, nkeys;
    size_t want; /* the waiter wants to be woken at this many transactions */
    int woken;
};

static size_t slot_of(const cv_mempool *m, const uint8_t key[CV_HASH_LEN])
{
    uint64_t h;
    memcpy(&h, key, sizeof h); /* keys are hashes: any 8 bytes are uniform */
    return (size_t)(h & (m->slots - 1));
}

static int set_find(const cv_mempool *m, const uint8_t key[CV_HASH_LEN], size_t *at)
{
    for (size_t i = slot_of(m, key);; i = (i + 1) & (m->slots - 1)) {
        if (!m->used[i]) {
            *at = i;
            return 0;
        }
        if (memcmp(m->keys[i], key, CV_HASH_LEN) == 0) {
            *at = i;
            return 1;
        }
    }
}

static void set_remove(cv_mempool *m, const uint8_t key[CV_HASH_LEN])
{
    size_t i;
    if (!set_find(m, key, &i))
        return;
    m->used[i] = 0;
    m->nkeys--;
    /* Backward shift: move later entries of the probe run into the hole. */
    for (size_t j = (i + 1) & (m->slots - 1); m->used[j]; j = (j + 1) & (m->slots - 1)) {
        size_t home = slot_of(m, m->keys[j]);
        int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (between)
            continue;
        memcpy(m->keys[i], m->keys[j], CV_HASH_LEN);
        m->used[i] = 1;
        m->used[j] = 0;
        i = j;
    }
}

int cv_mempool_create(size_t max, cv_mempool **out)
{
    if (max < 1)
        return cv_fail(CV_EINVAL, "a mempool needs room for at least one transaction");
    cv_mempool *m = calloc(1, sizeof *m);
    size_t slots = 16;
    /* Room for max waiting plus up to max in flight, at most half full. */
    while (slots < 4 * max)
        slots *= 2;
    if (m) {
        m->ring = calloc(max, sizeof *m->ring);
        m->keys = calloc(slots, CV_HASH_LEN);
        m->used = calloc(slots, 1);
    }
    if (!m || !m->ring || !m->keys || !m->used) {
        if (m) {
            free(m->ring);
            free(m->keys);
            free(m->used);
        }
        free(m);
        return cv_fail(CV_ENOMEM, "out of memory for a mempool of %zu transactions", max);
    }
    m->max = max;
    m->slots = slots;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->grew, NULL);
    *out = m;
    return CV_OK;
}

void cv_mempool_destroy(cv_mempool *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->count; i++)
        free(m->ring[(m->head + i) % m->max].raw);
    pthread_cond_destroy(&m->grew);
    pthread_mutex_destroy(&m->mu);
    free(m->ring);
    free(m->keys);
    free(m->used);
    free(m);
}

/* A copy of tx whose pointers refer to raw_copy instead of raw. */
static cv_tx relocate(const cv_tx *tx, const uint8_t *raw, const uint8_t *raw_copy)
{
    cv_tx t = *tx;
    t.body = raw_copy + (tx->body - raw);
    t.args = tx->args_len ? raw_copy + (tx->args - raw) : NULL;
    return t;
}

int cv_mempool_add(cv_mempool *m, const uint8_t *raw, size_t len, const cv_tx *tx)
{
    uint8_t *copy = malloc(len);
    if (!copy)
        return cv_fail(CV_ENOMEM, "out of memory admitting a transaction");
    memcpy(copy, raw, len);
    pthread_mutex_lock(&m->mu);
    size_t at = 0;
    int rc = CV_OK;
    if (set_find(m, tx->body_hash, &at))
        rc = cv_fail(CV_EEXIST, "duplicate: this transaction is already pending");
    else if (m->count >= m->max || m->nkeys >= m->slots / 2)
        rc = cv_fail(CV_EFULL, "mempool full (%zu transactions waiting): retry later", m->count);
    if (rc == CV_OK) {
        memcpy(m->keys[at], tx->body_hash, CV_HASH_LEN);
        m->used[at] = 1;
        m->nkeys++;
        m->ring[(m->head + m->count) % m->max] = (cv_mempool_entry){copy, len, relocate(tx, raw, copy)};
        m->count++;
        if (m->want && m->count >= m->want)
            pthread_cond_signal(&m->grew);
    }
    pthread_mutex_unlock(&m->mu);
    if (rc)
        free(copy);
    return rc;
}

size_t cv_mempool_take(cv_mempool *m, size_t max, cv_mempool_entry *out)
{
    pthread_mutex_lock(&m->mu);
    size_t n = m->count < max ? m->count : max;
    for (size_t i = 0; i < n; i++) {
        out[i] = m->ring[m->head];
        m->head = (m->head + 1) % m->max;
    }
    m->count -= n;
    pthread_mutex_unlock(&m->mu);
    return n;
}

void cv_mempool_done(cv_mempool *m, cv_mempool_entry *entries, size_t n)
{
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < n; i++)
        set_remove(m, entries[i].tx.body_hash);
    pthread_mutex_unlock(&m->mu);
    for (size_t i = 0; i < n; i++) {
        free(entries[i].raw);
        entries[i].raw = NULL;
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
