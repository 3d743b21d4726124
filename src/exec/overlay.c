/* overlay.c: committed state with one executed block on top (exec.h's
 * cv_state_overlay): reads see the block's writes and its spent replay keys
 * before the block is stored, as they will be once it is. The node reads
 * through it what a block leaves behind (the validator set it changes) and
 * could execute the next block on it while this one is being stored. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "exec/exec.h"

static int overlay_get(void *ctx, const uint8_t *key, size_t key_len, cv_buf *value)
{
    const cv_state_overlay *o = ctx;
    size_t i = cv_kv_lower_bound(o->writes, o->nwrites, key, key_len);
    if (i < o->nwrites && cv_kv_compare(o->writes[i].key, o->writes[i].key_len, key, key_len) == 0) {
        cv_buf_reset(value);
        if (!o->writes[i].value)
            return CV_ENOTFOUND;
        return cv_buf_append(value, o->writes[i].value, o->writes[i].value_len);
    }
    return o->base->get(o->base->ctx, key, key_len, value);
}

static int compare_replay(const void *a, const void *b)
{
    return memcmp(a, b, CV_REPLAY_KEY_LEN);
}

static int overlay_replay_seen(void *ctx, const uint8_t key[CV_REPLAY_KEY_LEN])
{
    const cv_state_overlay *o = ctx;
    if (o->nspent && bsearch(key, o->spent, o->nspent, CV_REPLAY_KEY_LEN, compare_replay))
        return CV_OK;
    return o->base->replay_seen(o->base->ctx, key);
}

/* A scan of the base merged with the writes under the same prefix, in key
 * order; a write replaces (or, as a delete, hides) the base's value. */
typedef struct {
    const cv_state_overlay *o;
    const uint8_t *prefix;
    size_t prefix_len, next, limit, visited;
    int full; /* stopped at the limit */
    cv_store_scan_fn fn;
    void *fn_ctx;
} merge;

static int has_prefix(const cv_kv *w, const uint8_t *prefix, size_t prefix_len)
{
    return w->key_len >= prefix_len && (prefix_len == 0 || memcmp(w->key, prefix, prefix_len) == 0);
}

/* Visits one key, if the limit allows; 1 once the limit is reached. */
static int visit(merge *m, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len)
{
    if (m->visited == m->limit) {
        m->full = 1;
        return 1;
    }
    m->visited++;
    return m->fn(m->fn_ctx, key, key_len, value, value_len);
}

/* Visits the writes under the prefix with keys below key (all of them, for
 * key NULL); skips a write equal to key, returning it in *same. */
static int visit_writes_before(merge *m, const uint8_t *key, size_t key_len, const cv_kv **same)
{
    const cv_state_overlay *o = m->o;
    *same = NULL;
    for (; m->next < o->nwrites && has_prefix(&o->writes[m->next], m->prefix, m->prefix_len); m->next++) {
        const cv_kv *w = &o->writes[m->next];
        int c = key ? cv_kv_compare(w->key, w->key_len, key, key_len) : -1;
        if (c > 0)
            break;
        if (c == 0) {
            *same = w;
            m->next++;
            break;
        }
        int rc = w->value ? visit(m, w->key, w->key_len, w->value, w->value_len) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

static int merge_base(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len)
{
    merge *m = ctx;
    const cv_kv *same;
    int rc = visit_writes_before(m, key, key_len, &same);
    if (rc)
        return rc;
    if (same)
        return same->value ? visit(m, same->key, same->key_len, same->value, same->value_len) : 0;
    return visit(m, key, key_len, value, value_len);
}

static int overlay_scan(void *ctx, const uint8_t *prefix, size_t prefix_len, size_t limit, cv_store_scan_fn fn,
                        void *fn_ctx)
{
    const cv_state_overlay *o = ctx;
    merge m = {.o = o, .prefix = prefix, .prefix_len = prefix_len, .limit = limit, .fn = fn, .fn_ctx = fn_ctx};
    m.next = cv_kv_lower_bound(o->writes, o->nwrites, prefix, prefix_len);
    int rc = o->base->scan(o->base->ctx, prefix, prefix_len, SIZE_MAX, merge_base, &m);
    const cv_kv *same;
    if (rc == 0)
        rc = visit_writes_before(&m, NULL, 0, &same);
    return m.full ? 0 : rc;
}

int cv_state_overlay_init(cv_state_overlay *o, const cv_state_source *base, const cv_exec_result *r,
                          const cv_tx *txs)
{
    memset(o, 0, sizeof *o);
    o->base = base;
    o->writes = r->writes;
    o->nwrites = r->nwrites;
    o->spent = malloc((r->ntx ? r->ntx : 1) * sizeof *o->spent);
    if (!o->spent)
        return cv_fail(CV_ENOMEM, "out of memory reading a block's state");
    for (size_t i = 0; i < r->ntx; i++)
        if (r->seen[i])
            cv_tx_replay_key(&txs[i], o->spent[o->nspent++]);
    qsort(o->spent, o->nspent, CV_REPLAY_KEY_LEN, compare_replay);
    return CV_OK;
}

void cv_state_overlay_free(cv_state_overlay *o)
{
    free(o->spent);
    memset(o, 0, sizeof *o);
}

cv_state_source cv_state_overlay_source(cv_state_overlay *o)
{
    return (cv_state_source){overlay_get, overlay_replay_seen, overlay_scan, o};
}
