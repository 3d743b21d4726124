/* memstate.c: committed state in memory (memstate.h): sorted arrays,
 * binary search for reads, a merge for each block's sorted write set. */
#include "exec/memstate.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

struct cv_state_mem {
    cv_kv *kv; /* sorted by key; each key and value one allocation, key first */
    size_t n;
    uint8_t (*bodies)[CV_REPLAY_KEY_LEN]; /* spent replay keys, sorted */
    size_t nbodies;
};

int cv_state_mem_new(cv_state_mem **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? CV_OK : cv_fail(CV_ENOMEM, "out of memory");
}

void cv_state_mem_free(cv_state_mem *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free((void *)m->kv[i].key);
    free(m->kv);
    free(m->bodies);
    free(m);
}

static int mem_get(void *ctx, const uint8_t *key, size_t key_len, cv_buf *value)
{
    const cv_state_mem *m = ctx;
    size_t i = cv_kv_lower_bound(m->kv, m->n, key, key_len);
    if (i == m->n || cv_kv_compare(m->kv[i].key, m->kv[i].key_len, key, key_len) != 0)
        return CV_ENOTFOUND;
    cv_buf_reset(value);
    return cv_buf_append(value, m->kv[i].value, m->kv[i].value_len);
}

static int compare_replay_keys(const void *a, const void *b)
{
    return memcmp(a, b, CV_REPLAY_KEY_LEN);
}

static int mem_replay_seen(void *ctx, const uint8_t key[CV_REPLAY_KEY_LEN])
{
    const cv_state_mem *m = ctx;
    return bsearch(key, m->bodies, m->nbodies, CV_REPLAY_KEY_LEN, compare_replay_keys) ? CV_OK : CV_ENOTFOUND;
}

static int mem_scan(void *ctx, const uint8_t *prefix, size_t prefix_len, size_t limit,
                    cv_store_scan_fn fn, void *fn_ctx)
{
    const cv_state_mem *m = ctx;
    for (size_t i = cv_kv_lower_bound(m->kv, m->n, prefix, prefix_len); i < m->n && limit > 0; i++, limit--) {
        const cv_kv *e = &m->kv[i];
        if (e->key_len < prefix_len || memcmp(e->key, prefix, prefix_len) != 0)
            break;
        int rc = fn(fn_ctx, e->key, e->key_len, e->value, e->value_len);
        if (rc)
            return rc;
    }
    return CV_OK;
}

cv_state_source cv_state_mem_source(cv_state_mem *m)
{
    return (cv_state_source){mem_get, mem_replay_seen, mem_scan, m};
}

static int copy_entry(const cv_kv *w, cv_kv *out)
{
    uint8_t *bytes = malloc(w->key_len + w->value_len + 1);
    if (!bytes)
        return cv_fail(CV_ENOMEM, "out of memory committing state");
    memcpy(bytes, w->key, w->key_len);
    if (w->value_len)
        memcpy(bytes + w->key_len, w->value, w->value_len);
    *out = (cv_kv){bytes, w->key_len, bytes + w->key_len, w->value_len};
    return CV_OK;
}

/* Copies of the writes' keys and values (deletes stay empty), or NULL. */
static cv_kv *copy_writes(const cv_kv *w, size_t nw)
{
    cv_kv *c = calloc(nw + 1, sizeof *c);
    for (size_t j = 0; c && j < nw; j++) {
        if (w[j].value && copy_entry(&w[j], &c[j]) != CV_OK) {
            while (j-- > 0)
                free((void *)c[j].key);
            free(c);
            return NULL;
        }
    }
    return c;
}

/* Merges the sorted writes into the sorted entries. */
static int merge_writes(cv_state_mem *m, const cv_kv *w, size_t nw)
{
    cv_kv *out = malloc((m->n + nw + 1) * sizeof *out);
    cv_kv *copies = out ? copy_writes(w, nw) : NULL;
    size_t i = 0, j = 0, k = 0;
    if (!copies) {
        free(out);
        return cv_fail(CV_ENOMEM, "out of memory committing state");
    }
    while (i < m->n || j < nw) {
        int c = i == m->n ? 1 : j == nw ? -1
                              : cv_kv_compare(m->kv[i].key, m->kv[i].key_len, w[j].key, w[j].key_len);
        if (c < 0) {
            out[k++] = m->kv[i++];
            continue;
        }
        if (c == 0)
            free((void *)m->kv[i++].key);
        if (copies[j].key)
            out[k++] = copies[j];
        j++;
    }
    free(copies);
    free(m->kv);
    m->kv = out;
    m->n = k;
    return CV_OK;
}

static int add_bodies(cv_state_mem *m, const cv_exec_result *r, const cv_tx *txs)
{
    uint8_t(*b)[CV_REPLAY_KEY_LEN] = realloc(m->bodies, (m->nbodies + r->ntx + 1) * CV_REPLAY_KEY_LEN);
    if (!b)
        return cv_fail(CV_ENOMEM, "out of memory committing replay keys");
    m->bodies = b;
    for (size_t i = 0; i < r->ntx; i++)
        if (r->seen[i])
            cv_tx_replay_key(&txs[i], m->bodies[m->nbodies++]);
    qsort(m->bodies, m->nbodies, CV_REPLAY_KEY_LEN, compare_replay_keys);
    return CV_OK;
}

int cv_state_mem_commit(cv_state_mem *m, const cv_exec_result *r, const cv_tx *txs)
{
    int rc = merge_writes(m, r->writes, r->nwrites);
    return rc ? rc : add_bodies(m, r, txs);
}
