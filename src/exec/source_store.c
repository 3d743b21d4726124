/* source_store.c: committed state read from the node's store (exec.h's
 * cv_state_source_store). Kept apart so that programs without a store
 * (tests, the simulator) do not link one. */
#include "base/err.h"
#include "exec/exec.h"

static int store_get(void *ctx, const uint8_t *key, size_t key_len, cv_buf *value)
{
    cv_buf_reset(value);
    return cv_store_get(ctx, key, key_len, value);
}

static int store_replay_seen(void *ctx, const uint8_t key[CV_REPLAY_KEY_LEN])
{
    return cv_store_replay_seen(ctx, key);
}

static int store_scan(void *ctx, const uint8_t *prefix, size_t prefix_len, size_t limit,
                      cv_store_scan_fn fn, void *fn_ctx)
{
    return cv_store_scan(ctx, prefix, prefix_len, limit, fn, fn_ctx);
}

cv_state_source cv_state_source_store(cv_store *store)
{
    return (cv_state_source){store_get, store_replay_seen, store_scan, store};
}
