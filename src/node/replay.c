/* replay.c: re-executing a stored chain from genesis to check it (node.h).
 *
 * The replay reads blocks from the node's store and rebuilds the chain in a
 * scratch store inside the home, with the same execution and commit code as
 * block production, so any difference in a root shows the block where the
 * stored chain and a fresh execution part ways. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "node/commit.h"
#include "node/node.h"

typedef struct {
    cv_genesis genesis;
    cv_store *chain, *scratch;
    cv_state_source scratch_src;
    char scratch_dir[1100];
    cv_header prev;
    uint8_t prev_hash[CV_HASH_LEN];
} replay;

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[1400];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

static int mismatch(uint64_t height, const char *what)
{
    return cv_fail(CV_ESTATE, "block %llu: the stored %s differs from the replayed one", (unsigned long long)height,
                   what);
}

/* Compares the stored header with the one rebuilt by replay. */
static int compare_headers(const cv_header *stored, const cv_header *rebuilt)
{
    if (memcmp(stored->prev_hash, rebuilt->prev_hash, CV_HASH_LEN) != 0)
        return mismatch(stored->height, "link to the previous block");
    if (memcmp(stored->tx_root, rebuilt->tx_root, CV_HASH_LEN) != 0)
        return mismatch(stored->height, "transaction root");
    if (memcmp(stored->receipt_root, rebuilt->receipt_root, CV_HASH_LEN) != 0)
        return mismatch(stored->height, "receipt root");
    if (memcmp(stored->state_root, rebuilt->state_root, CV_HASH_LEN) != 0)
        return mismatch(stored->height, "state root");
    return CV_OK;
}

/* The hash of the replayed validator set of height h. */
static int replayed_set_hash(replay *rp, uint64_t height, uint8_t hash[CV_HASH_LEN])
{
    cv_buf raw = {0};
    uint64_t from;
    int rc = cv_store_valset(rp->scratch, height, &from, &raw);
    if (!rc)
        rc = cv_hash(rp->genesis.chain.suite, raw.data, raw.len, hash);
    cv_buf_free(&raw);
    return rc;
}

/* The stored header's validator sets (its own height's and the next's) are
 * the ones the replayed blocks before it left in gov. */
static int compare_sets(replay *rp, const cv_header *stored)
{
    uint8_t hash[CV_HASH_LEN];
    int rc = replayed_set_hash(rp, stored->height, hash);
    if (!rc && memcmp(hash, stored->validators_hash, CV_HASH_LEN) != 0)
        return mismatch(stored->height, "validator-set hash");
    if (!rc)
        rc = replayed_set_hash(rp, stored->height + 1, hash);
    if (!rc && memcmp(hash, stored->next_validators_hash, CV_HASH_LEN) != 0)
        return mismatch(stored->height, "next validator-set hash");
    return rc;
}

/* Rebuilds the stored header from the replayed execution, compares the two,
 * and stores the block in the scratch store (so the next block executes on
 * the replayed state). */
static int rebuild_and_store(replay *rp, const cv_header *stored, const uint8_t *raw, size_t len,
                             const cv_exec_result *r, const cv_tx *txs)
{
    cv_header h = *stored;
    memcpy(h.prev_hash, rp->prev_hash, CV_HASH_LEN);
    int rc = cv_commit_header(rp->genesis.chain.suite, &h, r, txs, stored->tx_count);
    if (!rc)
        rc = compare_headers(stored, &h);
    if (!rc)
        rc = cv_header_hash(rp->genesis.chain.suite, &h, rp->prev_hash);
    cv_buf valset = {0};
    if (!rc)
        rc = cv_commit_valset(rp->scratch, rp->genesis.chain.suite, r, txs, &valset);
    if (!rc)
        rc = cv_commit_store(rp->scratch, &h, rp->prev_hash, raw, len, r, txs, NULL, 0, &valset);
    cv_buf_free(&valset);
    if (!rc) /* a block's own change applies two heights later: its sets are final now */
        rc = compare_sets(rp, stored);
    rp->prev = h;
    return rc;
}

/* Decodes and re-executes one stored block into the scratch store. */
static int replay_block(replay *rp, uint64_t height)
{
    cv_buf raw = {0};
    cv_block b;
    int rc = cv_store_block(rp->chain, height, &raw);
    if (rc || (rc = cv_block_decode(raw.data, raw.len, CV_BLOCK_TX_HARD_MAX, CV_TX_HARD_MAX, &b))) {
        cv_buf_free(&raw);
        return rc;
    }
    cv_tx *txs = calloc(b.tx_count ? b.tx_count : 1, sizeof *txs);
    rc = txs ? CV_OK : cv_fail(CV_ENOMEM, "out of memory replaying block %llu", (unsigned long long)height);
    for (size_t i = 0; i < b.tx_count && !rc; i++)
        rc = cv_tx_decode(b.txs[i], b.tx_lens[i], CV_TX_HARD_MAX, &txs[i]);
    cv_block_ctx ctx = {.chain = &rp->genesis.chain, .height = height, .time_ms = b.header.time_ms};
    memcpy(ctx.proposer, b.header.proposer, CV_ADDR_LEN);
    memcpy(ctx.prev_state_root, rp->prev.state_root, CV_HASH_LEN);
    cv_exec_result r;
    if (!rc && !(rc = cv_exec_block(&ctx, &rp->scratch_src, txs, b.tx_count, NULL, &r))) {
        rc = rebuild_and_store(rp, &b.header, raw.data, raw.len, &r, txs);
        cv_exec_result_free(&r);
    }
    free(txs);
    cv_block_free(&b);
    cv_buf_free(&raw);
    return rc;
}

static int replay_genesis(replay *rp)
{
    cv_buf raw = {0};
    cv_block b0;
    cv_exec_result r;
    int rc = cv_store_block(rp->chain, 0, &raw);
    if (rc || (rc = cv_block_decode(raw.data, raw.len, 0, 0, &b0))) {
        cv_buf_free(&raw);
        return rc;
    }
    if (memcmp(b0.header.prev_hash, rp->genesis.chain.genesis_hash, CV_HASH_LEN) != 0)
        rc = cv_fail(CV_ESTATE, "block 0 was not made from this genesis file");
    if (!rc && !(rc = cv_exec_genesis(&rp->genesis, &r))) {
        memcpy(rp->prev_hash, rp->genesis.chain.genesis_hash, CV_HASH_LEN);
        rc = rebuild_and_store(rp, &b0.header, raw.data, raw.len, &r, NULL);
        cv_exec_result_free(&r);
    }
    cv_block_free(&b0);
    cv_buf_free(&raw);
    return rc;
}

static int run_replay(replay *rp, uint64_t *height)
{
    uint64_t top;
    int rc = cv_store_height(rp->chain, &top);
    if (rc || (rc = replay_genesis(rp)))
        return rc;
    time_t last_report = time(NULL);
    for (uint64_t h = 1; h <= top && !rc; h++) {
        rc = replay_block(rp, h);
        if (!rc)
            *height = h;
        if (time(NULL) - last_report >= 2) {
            cv_info("replay: block %llu of %llu", (unsigned long long)h, (unsigned long long)top);
            last_report = time(NULL);
        }
    }
    return rc;
}

static void path_in_home(const cv_node_config *cfg, const char *rel, char *out, size_t cap)
{
    if (rel[0] == '/')
        snprintf(out, cap, "%s", rel);
    else
        snprintf(out, cap, "%s/%s", cfg->home, rel);
}

int cv_node_replay(const cv_node_config *cfg, uint64_t *height)
{
    replay rp = {0};
    char path[2200];
    *height = 0;
    path_in_home(cfg, cfg->genesis_file, path, sizeof path);
    int rc = cv_genesis_load(path, &rp.genesis);
    path_in_home(cfg, cfg->data_dir, path, sizeof path);
    if (!rc)
        rc = cv_store_open(path, &rp.chain);
    snprintf(rp.scratch_dir, sizeof rp.scratch_dir, "%s/replay-XXXXXX", cfg->home);
    if (!rc && !mkdtemp(rp.scratch_dir))
        rc = cv_fail(CV_EIO, "cannot create a scratch directory in %s", cfg->home);
    if (!rc && !(rc = cv_store_open(rp.scratch_dir, &rp.scratch))) {
        rp.scratch_src = cv_state_source_store(rp.scratch);
        rc = run_replay(&rp, height);
    }
    cv_store_close(rp.scratch);
    cv_store_close(rp.chain);
    if (rp.scratch_dir[0] && strstr(rp.scratch_dir, "XXXXXX") == NULL)
        remove_dir(rp.scratch_dir);
    cv_genesis_free(&rp.genesis);
    return rc;
}
