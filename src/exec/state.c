/* state.c: the layered state a block executes against (see internal.h):
 * committed state (a cv_state_source) <- the block's overlay <- the running
 * transaction's overlay. A transaction's writes reach the block overlay only
 * if it succeeds; the block overlay becomes the block's sorted write set,
 * which the state root commits to. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"
#include "exec/internal.h"

int cv_state_init(cv_state *s, const cv_state_source *src)
{
    memset(s, 0, sizeof *s);
    s->src = src;
    int rc = cv_state_map_init(&s->block);
    if (!rc)
        rc = cv_state_map_init(&s->tx);
    if (rc)
        cv_state_free(s);
    return rc;
}

void cv_state_free(cv_state *s)
{
    cv_state_map_free(&s->block);
    cv_state_map_free(&s->tx);
}

/* Replaces out's contents with the entry's value, or CV_ENOTFOUND. */
static int entry_value(const cv_state_entry *e, cv_buf *out)
{
    cv_buf_reset(out);
    return e->value ? cv_buf_append(out, e->value, e->value_len) : CV_ENOTFOUND;
}

int cv_state_get(cv_state *s, const uint8_t *key, size_t key_len, cv_buf *out)
{
    const cv_state_entry *e = cv_state_map_find(&s->tx, key, key_len);
    if (!e)
        e = cv_state_map_find(&s->block, key, key_len);
    if (e)
        return entry_value(e, out);
    cv_buf_reset(out);
    return s->src->get(s->src->ctx, key, key_len, out);
}

int cv_state_set(cv_state *s, const uint8_t *key, size_t key_len, const uint8_t *value,
                 size_t value_len)
{
    return cv_state_map_set(&s->tx, key, key_len, value, value_len);
}

int cv_state_commit_tx(cv_state *s)
{
    int rc = CV_OK;
    for (size_t i = 0; i < s->tx.n && !rc; i++) {
        const cv_state_entry *e = &s->tx.entries[i];
        rc = cv_state_map_set(&s->block, e->key, e->key_len, e->value, e->value_len);
    }
    cv_state_map_clear(&s->tx);
    return rc;
}

void cv_state_discard_tx(cv_state *s)
{
    cv_state_map_clear(&s->tx);
}

static int compare_entries(const void *a, const void *b)
{
    const cv_state_entry *x = *(const cv_state_entry *const *)a;
    const cv_state_entry *y = *(const cv_state_entry *const *)b;
    return cv_kv_compare(x->key, x->key_len, y->key, y->key_len);
}

/* Copies the sorted entries into one block: the cv_kv array, then the bytes. */
static int pack_writes(const cv_state_entry *const *sorted, size_t n, cv_kv **out)
{
    size_t bytes = n * sizeof(cv_kv);
    for (size_t i = 0; i < n; i++)
        bytes += sorted[i]->key_len + sorted[i]->value_len;
    cv_kv *kv = malloc(bytes);
    if (!kv)
        return cv_fail(CV_ENOMEM, "out of memory building a write set of %zu keys", n);
    uint8_t *p = (uint8_t *)(kv + n);
    for (size_t i = 0; i < n; i++) {
        const cv_state_entry *e = sorted[i];
        memcpy(p, e->key, e->key_len);
        kv[i].key = p;
        kv[i].key_len = e->key_len;
        p += e->key_len;
        kv[i].value = e->value ? p : NULL;
        kv[i].value_len = e->value_len;
        if (e->value_len)
            memcpy(p, e->value, e->value_len);
        p += e->value_len;
    }
    *out = kv;
    return CV_OK;
}

int cv_state_write_set(const cv_state *s, cv_kv **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (s->block.n == 0)
        return CV_OK;
    const cv_state_entry **sorted = malloc(s->block.n * sizeof *sorted);
    if (!sorted)
        return cv_fail(CV_ENOMEM, "out of memory sorting the write set");
    for (size_t i = 0; i < s->block.n; i++)
        sorted[i] = &s->block.entries[i];
    qsort(sorted, s->block.n, sizeof *sorted, compare_entries);
    int rc = pack_writes(sorted, s->block.n, out);
    free(sorted);
    if (!rc)
        *n = s->block.n;
    return rc;
}

/* write set = {1: writes}, write = {1: key, 2: deleted (0 or 1), 3: value}. */
static int encode_write_set(const cv_kv *writes, size_t n, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_list_begin(&e, 1, CV_CODEC_MSG_LIST);
    for (size_t i = 0; i < n; i++) {
        cv_enc_msg_begin(&e, CV_CODEC_ITEM);
        cv_enc_bytes(&e, 1, writes[i].key, writes[i].key_len);
        cv_enc_uint(&e, 2, writes[i].value == NULL);
        cv_enc_bytes(&e, 3, writes[i].value ? writes[i].value : (const uint8_t *)"",
                     writes[i].value_len);
        cv_enc_end(&e);
    }
    cv_enc_end(&e);
    return cv_enc_finish(&e);
}

int cv_state_root(cv_suite suite, const uint8_t prev[CV_HASH_LEN], const cv_kv *writes, size_t n,
                  uint8_t out[CV_HASH_LEN])
{
    cv_buf enc = {0};
    uint8_t chain[2 * CV_HASH_LEN];
    int rc = encode_write_set(writes, n, &enc);
    memcpy(chain, prev, CV_HASH_LEN);
    if (!rc)
        rc = cv_hash(suite, enc.data, enc.len, chain + CV_HASH_LEN);
    if (!rc)
        rc = cv_hash(suite, chain, sizeof chain, out);
    cv_buf_free(&enc);
    return rc;
}
