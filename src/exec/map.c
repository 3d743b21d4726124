/* map.c: the byte-keyed hash map behind the state overlays and the block's
 * replay set (see internal.h).
 *
 * Keys are chosen by transaction senders (a notarised hash, an address), so
 * the table is indexed by SipHash-2-4 under a random per-map seed: keys
 * crafted to collide cannot be prepared in advance. The seed only decides
 * where entries sit in the slot table; lookups, the entry order (insertion
 * order) and so everything execution computes are the same for every seed,
 * which keeps execution deterministic. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "exec/internal.h"

#define SLOTS_MIN 64
#define CHUNK_SIZE (32u << 10)

struct cv_state_chunk {
    cv_state_chunk *next;
    size_t used, cap;
    uint8_t data[];
};

static uint64_t hash_key(const cv_state_map *m, const uint8_t *key, size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;
    crypto_shorthash(h, key, len, m->seed);
    memcpy(&v, h, sizeof v);
    return v;
}

/* Copies n bytes into the arena. */
static const uint8_t *arena_copy(cv_state_map *m, const uint8_t *p, size_t n)
{
    cv_state_chunk *c = m->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;
        if (!(c = malloc(sizeof *c + cap)))
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = m->chunks;
        m->chunks = c;
    }
    uint8_t *dst = c->data + c->used;
    if (n)
        memcpy(dst, p, n);
    c->used += n;
    return dst;
}

static int alloc_slots(cv_state_map *m, size_t nslots)
{
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return cv_fail(CV_ENOMEM, "out of memory growing the state overlay");
    free(m->slots);
    m->slots = slots;
    m->nslots = nslots;
    for (size_t i = 0; i < m->n; i++) {
        size_t j = m->entries[i].hash & (nslots - 1);
        while (slots[j])
            j = (j + 1) & (nslots - 1);
        slots[j] = (uint32_t)(i + 1);
    }
    return CV_OK;
}

int cv_state_map_init(cv_state_map *m)
{
    memset(m, 0, sizeof *m);
    cv_random(m->seed, sizeof m->seed);
    return alloc_slots(m, SLOTS_MIN);
}

static void free_chunks(cv_state_chunk *c)
{
    while (c) {
        cv_state_chunk *next = c->next;
        free(c);
        c = next;
    }
}

void cv_state_map_free(cv_state_map *m)
{
    free(m->entries);
    free(m->slots);
    free_chunks(m->chunks);
    memset(m, 0, sizeof *m);
}

void cv_state_map_clear(cv_state_map *m)
{
    if (m->chunks) {
        free_chunks(m->chunks->next);
        m->chunks->next = NULL;
        m->chunks->used = 0;
    }
    m->n = 0;
    if (m->nslots > SLOTS_MIN && alloc_slots(m, SLOTS_MIN) == CV_OK)
        return;
    memset(m->slots, 0, m->nslots * sizeof *m->slots);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t probe(const cv_state_map *m, const uint8_t *key, size_t len, uint64_t h)
{
    size_t j = h & (m->nslots - 1);
    for (;; j = (j + 1) & (m->nslots - 1)) {
        uint32_t s = m->slots[j];
        if (!s)
            return j;
        const cv_state_entry *e = &m->entries[s - 1];
        if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0)
            return j;
    }
}

const cv_state_entry *cv_state_map_find(const cv_state_map *m, const uint8_t *key, size_t key_len)
{
    uint32_t s = m->slots[probe(m, key, key_len, hash_key(m, key, key_len))];
    return s ? &m->entries[s - 1] : NULL;
}

/* Makes room for one more entry (keeping the table at most 3/4 full). */
static int reserve_entry(cv_state_map *m)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 32;
        cv_state_entry *e = realloc(m->entries, cap * sizeof *e);
        if (!e)
            return cv_fail(CV_ENOMEM, "out of memory growing the state overlay");
        m->entries = e;
        m->cap = cap;
    }
    if (m->n >= UINT32_MAX - 1)
        return cv_fail(CV_EFULL, "the state overlay holds too many keys");
    return 4 * (m->n + 1) > 3 * m->nslots ? alloc_slots(m, 2 * m->nslots) : CV_OK;
}

int cv_state_map_set(cv_state_map *m, const uint8_t *key, size_t key_len, const uint8_t *value,
                     size_t value_len)
{
    int rc = reserve_entry(m);
    if (rc)
        return rc;
    uint64_t h = hash_key(m, key, key_len);
    size_t j = probe(m, key, key_len, h);
    cv_state_entry *e = m->slots[j] ? &m->entries[m->slots[j] - 1] : &m->entries[m->n];
    const uint8_t *v = value ? arena_copy(m, value, value_len) : NULL;
    if (value && !v)
        return cv_fail(CV_ENOMEM, "out of memory in the state overlay");
    if (!m->slots[j]) {
        if (!(e->key = arena_copy(m, key, key_len)))
            return cv_fail(CV_ENOMEM, "out of memory in the state overlay");
        e->key_len = key_len;
        e->hash = h;
        m->slots[j] = (uint32_t)(++m->n);
    }
    e->value = v;
    e->value_len = value ? value_len : 0;
    return CV_OK;
}
