/* node.c: the node runtime: opening the chain, admission, waits, status
 * (see node.h). Threads: RPC threads call cv_node_submit and the waits; one
 * engine thread cuts or decides, executes and commits blocks (solo.c or
 * bft.c, through chain.c), with BFT a writer thread stores them (writer.c);
 * a verification pool checks signatures of submitted batches. */
#include "node/node.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "crypto/keyfile.h"
#include "ledger/block.h"
#include "node/internal.h"

uint64_t cv_node_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t cv_node_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* path relative to the node's home, or as is when absolute. */
void cv_node_home_path(const cv_node_config *cfg, const char *rel, char *out, size_t cap)
{
    if (rel[0] == '/')
        snprintf(out, cap, "%s", rel);
    else
        snprintf(out, cap, "%s/%s", cfg->home, rel);
}

void cv_node_data_path(const cv_node *n, const char *name, char *out, size_t cap)
{
    cv_node_home_path(&n->cfg, n->cfg.data_dir, out, cap);
    size_t len = strlen(out);
    snprintf(out + len, cap - len, "/%s", name);
}

/* The genesis validator set: block 0's, and the first heights'. */
static int load_genesis_validators(cv_node *n)
{
    const cv_genesis *g = &n->genesis;
    cv_valset_entry *entries = calloc(g->nvalidators, sizeof *entries);
    if (!entries)
        return cv_fail(CV_ENOMEM, "out of memory loading validators");
    for (size_t i = 0; i < g->nvalidators; i++)
        entries[i] = (cv_valset_entry){g->validators[i].pub, g->validators[i].power};
    int rc = cv_valset_init(&n->cur_set, g->chain.suite, entries, g->nvalidators);
    free(entries);
    if (!rc)
        n->next_set = n->cur_set;
    return rc ? cv_fail(rc, "genesis validators: %s", cv_errmsg()) : CV_OK;
}

int cv_node_load_valset(cv_node *n, uint64_t height, cv_valset *out, uint64_t *from)
{
    uint64_t first;
    cv_buf raw = {0};
    int rc = cv_store_valset(n->store, height, from ? from : &first, &raw);
    if (!rc)
        rc = cv_valset_decode(out, n->genesis.chain.suite, raw.data, raw.len);
    cv_buf_free(&raw);
    return rc ? cv_fail(rc, "the validator set of height %llu: %s", (unsigned long long)height, cv_errmsg())
              : CV_OK;
}

int cv_node_solo_validator(const cv_node *n)
{
    return n->cur_set.n == 1 && cv_valset_find_key(&n->cur_set, &n->key.pub) == 0;
}

static int load_key(cv_node *n)
{
    char path[2200];
    cv_node_home_path(&n->cfg, n->cfg.key_file, path, sizeof path);
    int rc = cv_keyfile_read(path, getenv("CIVITAS_PASSPHRASE"), &n->key);
    if (rc)
        return rc;
    if (n->key.suite != n->genesis.chain.suite)
        return cv_fail(CV_EINVAL, "%s is a %s key but the chain uses the %s suite", path,
                       cv_suite_name(n->key.suite), cv_suite_name(n->genesis.chain.suite));
    return cv_address(&n->key.pub, n->self_addr);
}

/* Loads the last block's header into the node, checking the chain's identity. */
static int resume_chain(cv_node *n)
{
    cv_buf raw = {0};
    cv_block b0, last;
    uint64_t height;
    int rc = cv_store_height(n->store, &height);
    if (!rc)
        rc = cv_store_block(n->store, 0, &raw);
    if (!rc && !(rc = cv_block_decode(raw.data, raw.len, 0, 0, &b0))) {
        if (memcmp(b0.header.prev_hash, n->genesis.chain.genesis_hash, CV_HASH_LEN) != 0 ||
            strcmp(b0.header.chain_id, n->genesis.chain.chain_id) != 0)
            rc = cv_fail(CV_EINVAL, "the store in %s belongs to another chain or genesis file", n->cfg.data_dir);
        cv_block_free(&b0);
    }
    if (!rc)
        rc = cv_store_block(n->store, height, &raw);
    if (!rc && !(rc = cv_block_decode(raw.data, raw.len, CV_BLOCK_TX_HARD_MAX, CV_TX_HARD_MAX, &last))) {
        n->stored.height = height;
        n->stored.time_ms = last.header.time_ms;
        memcpy(n->stored.state_root, last.header.state_root, CV_HASH_LEN);
        rc = cv_header_hash(n->genesis.chain.suite, &last.header, n->stored.hash);
        n->decided = n->stored;
        cv_block_free(&last);
    }
    cv_buf_free(&raw);
    if (!rc)
        rc = cv_node_load_valset(n, height + 1, &n->cur_set, NULL);
    if (!rc)
        rc = cv_node_load_valset(n, height + 2, &n->next_set, NULL);
    return rc;
}

static int open_parts(cv_node *n)
{
    char path[2200];
    cv_node_home_path(&n->cfg, n->cfg.genesis_file, path, sizeof path);
    int rc = cv_file_read(path, CV_GENESIS_MAX, &n->genesis_text);
    if (!rc)
        rc = cv_genesis_parse((const char *)n->genesis_text.data, n->genesis_text.len, &n->genesis);
    if (rc || (rc = load_genesis_validators(n)) || (rc = load_key(n)))
        return rc;
    cv_node_home_path(&n->cfg, n->cfg.data_dir, path, sizeof path);
    if ((rc = cv_store_open(path, &n->store)))
        return rc;
    n->src = n->exec_src = cv_state_source_store(n->store);
    unsigned threads = n->cfg.verify_threads ? n->cfg.verify_threads : cv_cpu_count();
    if ((rc = cv_pool_create(threads, &n->verify_pool)) ||
        (rc = cv_mempool_create(n->cfg.mempool_max, &n->mempool)))
        return rc;
    uint64_t height;
    rc = cv_store_height(n->store, &height);
    if (rc == CV_ENOTFOUND)
        rc = cv_node_commit_genesis(n);
    if (!rc)
        rc = resume_chain(n);
    uint64_t tx_max;
    if (!rc && cv_exec_param(&n->src, "tx_max_bytes", &tx_max) == CV_OK)
        atomic_store(&n->tx_max_bytes, tx_max);
    return rc ? rc : cv_node_recover_decided(n);
}

int cv_node_open(const cv_node_config *cfg, cv_node **out)
{
    cv_node *n = calloc(1, sizeof *n);
    if (!n)
        return cv_fail(CV_ENOMEM, "out of memory opening a node");
    n->cfg = *cfg;
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->committed, NULL);
    int rc = open_parts(n);
    if (rc) {
        cv_node_close(n);
        return rc;
    }
    *out = n;
    return CV_OK;
}

int cv_node_start(cv_node *n)
{
    char addr[CV_ADDR_STR_MAX];
    if (n->cur_set.n == 1 && n->cfg.npeers == 0 && !cv_node_solo_validator(n))
        return cv_fail(CV_EPERM, "this node's key is not the validator of this single-validator chain: "
                                 "it could not certify blocks (use the node key named in genesis.json)");
    if (!cv_node_solo_validator(n) || n->cfg.npeers > 0) {
        int rc = cv_node_bft_start(n, &n->bft);
        if (rc)
            return rc;
    } else if (pthread_create(&n->engine_thread, NULL, cv_node_solo_main, n) != 0) {
        return cv_fail(CV_ENOMEM, "cannot start the block producer thread");
    }
    n->started = 1;
    cv_address_string(&n->key.pub, addr);
    cv_info("node started: chain %s (%s suite), height %llu, proposer %s", n->genesis.chain.chain_id,
            cv_suite_name(n->genesis.chain.suite), (unsigned long long)n->stored.height, addr);
    return CV_OK;
}

void cv_node_close(cv_node *n)
{
    if (!n)
        return;
    if (n->started) {
        atomic_store(&n->stopping, 1);
        cv_mempool_wake(n->mempool);
        if (n->bft)
            cv_node_bft_stop(n->bft);
        else
            pthread_join(n->engine_thread, NULL);
    }
    cv_node_writer_stop(n);
    pthread_mutex_lock(&n->mu);
    pthread_cond_broadcast(&n->committed);
    pthread_mutex_unlock(&n->mu);
    cv_mempool_destroy(n->mempool);
    cv_pool_destroy(n->verify_pool);
    cv_store_close(n->store);
    cv_genesis_free(&n->genesis);
    cv_buf_free(&n->genesis_text);
    cv_key_wipe(&n->key);
    pthread_cond_destroy(&n->committed);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

/* ---- queries and admission --------------------------------------------- */

const cv_chain *cv_node_chain(const cv_node *n) { return &n->genesis.chain; }
cv_store *cv_node_store(cv_node *n) { return n->store; }
const cv_state_source *cv_node_state(const cv_node *n) { return &n->src; }
const cv_node_config *cv_node_get_config(const cv_node *n) { return &n->cfg; }

const char *cv_node_genesis_text(const cv_node *n, size_t *len)
{
    *len = n->genesis_text.len;
    return (const char *)n->genesis_text.data;
}

int cv_node_validators(cv_node *n, uint64_t height, cv_valset *out, uint64_t *from)
{
    uint64_t tip = cv_node_stored_height(n);
    if (height > tip + CV_VALSET_DELAY)
        return cv_fail(CV_ENOTFOUND, "the validators of height %llu are not known yet (last block %llu; known "
                       "up to %llu)", (unsigned long long)height, (unsigned long long)tip,
                       (unsigned long long)tip + CV_VALSET_DELAY);
    return cv_node_load_valset(n, height, out, from);
}

static void record_error(int rc, int *result, char *error)
{
    *result = rc;
    snprintf(error, CV_ERROR_MAX + 1, "%s", rc ? cv_errmsg() : "");
}

/* Verifies the signatures of the admissible transactions (those whose result
 * is still CV_OK): on the calling thread for one, on the pool for more. */
static int verify_admissible(cv_node *n, const cv_tx *decoded, size_t count, int *results,
                             char (*errors)[CV_ERROR_MAX + 1])
{
    cv_verify_item *items = malloc((count ? count : 1) * sizeof *items);
    size_t *which = malloc((count ? count : 1) * sizeof *which);
    uint8_t *ok = malloc(count ? count : 1);
    if (!items || !which || !ok) {
        free(items);
        free(which);
        free(ok);
        return cv_fail(CV_ENOMEM, "out of memory verifying %zu transactions", count);
    }
    size_t m = 0;
    for (size_t i = 0; i < count; i++)
        if (results[i] == CV_OK) {
            items[m] = cv_tx_verify_item(&decoded[i]);
            which[m++] = i;
        }
    cv_verify_batch(m > 1 ? n->verify_pool : NULL, items, m, ok);
    for (size_t j = 0; j < m; j++)
        if (!ok[j])
            record_error(cv_fail(CV_EBADSIG, "bad signature: the sender's key did not sign this transaction"),
                         &results[which[j]], errors[which[j]]);
    free(items);
    free(which);
    free(ok);
    return CV_OK;
}

/* Decodes, checks, verifies and queues transactions (see cv_node_submit). */
static int admit(cv_node *n, const uint8_t *const *txs, const size_t *lens, size_t count, int *results,
                 char (*errors)[CV_ERROR_MAX + 1], uint8_t (*hashes)[CV_HASH_LEN])
{
    cv_tx *decoded = malloc((count ? count : 1) * sizeof *decoded);
    if (!decoded)
        return cv_fail(CV_ENOMEM, "out of memory admitting %zu transactions", count);
    uint64_t height = cv_node_stored_height(n) + 1;
    size_t tx_max = (size_t)atomic_load(&n->tx_max_bytes);
    int pinned = cv_store_pin(n->store) == CV_OK; /* one read for the batch's checks */
    for (size_t i = 0; i < count; i++) {
        int rc = cv_tx_decode(txs[i], lens[i], tx_max, &decoded[i]);
        if (!rc)
            rc = cv_exec_check_tx(&n->genesis.chain, &n->src, height, &decoded[i], lens[i]);
        record_error(rc, &results[i], errors[i]);
        if (hashes)
            memcpy(hashes[i], decoded[i].hash, CV_HASH_LEN);
    }
    if (pinned)
        cv_store_unpin(n->store);
    int rc = verify_admissible(n, decoded, count, results, errors);
    for (size_t i = 0; !rc && i < count; i++)
        if (results[i] == CV_OK)
            record_error(cv_mempool_add(n->mempool, txs[i], lens[i], &decoded[i]), &results[i], errors[i]);
    for (size_t i = 0; !rc && i < count; i++)
        if (results[i] != CV_OK)
            atomic_fetch_add(&n->txs_rejected, 1);
    free(decoded);
    return rc;
}

int cv_node_submit(cv_node *n, const uint8_t *const *txs, const size_t *lens, size_t count, int *results,
                   char (*errors)[CV_ERROR_MAX + 1], uint8_t (*hashes)[CV_HASH_LEN])
{
    int rc = admit(n, txs, lens, count, results, errors, hashes);
    if (!rc && n->bft)
        cv_node_bft_gossip(n->bft, txs, lens, results, count);
    return rc;
}

void cv_node_admit(cv_node *n, const uint8_t *const *txs, const size_t *lens, size_t count, int gossip)
{
    int *results = malloc(count * sizeof *results);
    char(*errors)[CV_ERROR_MAX + 1] = malloc(count * sizeof *errors);
    if (results && errors && admit(n, txs, lens, count, results, errors, NULL) == CV_OK && gossip && n->bft)
        cv_node_bft_gossip(n->bft, txs, lens, results, count);
    free(results);
    free(errors);
}

/* Absolute deadline for pthread_cond_timedwait. */
static struct timespec deadline_after(int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Waits for the next commit after seq, or the deadline; 0 on timeout. */
static int wait_commit(cv_node *n, uint64_t seq, const struct timespec *deadline)
{
    int more = 1;
    pthread_mutex_lock(&n->mu);
    while (n->commit_seq == seq && more && !atomic_load(&n->stopping))
        more = pthread_cond_timedwait(&n->committed, &n->mu, deadline) != ETIMEDOUT;
    more = n->commit_seq != seq;
    pthread_mutex_unlock(&n->mu);
    return more;
}

static uint64_t commit_seq(cv_node *n)
{
    pthread_mutex_lock(&n->mu);
    uint64_t seq = n->commit_seq;
    pthread_mutex_unlock(&n->mu);
    return seq;
}

int cv_node_wait_tx(cv_node *n, const uint8_t hash[CV_HASH_LEN], int timeout_ms, uint64_t *height,
                    uint32_t *index)
{
    struct timespec deadline = deadline_after(timeout_ms);
    for (;;) {
        uint64_t seq = commit_seq(n);
        int rc = cv_store_tx_location(n->store, hash, height, index);
        if (rc != CV_ENOTFOUND)
            return rc;
        if (!wait_commit(n, seq, &deadline))
            return cv_fail(CV_ENOTFOUND, "transaction not committed within %d ms", timeout_ms);
    }
}

int cv_node_wait_height(cv_node *n, uint64_t after, int timeout_ms, uint64_t *height)
{
    struct timespec deadline = deadline_after(timeout_ms);
    for (;;) {
        uint64_t seq = commit_seq(n);
        *height = cv_node_stored_height(n);
        if (*height > after)
            return CV_OK;
        if (!wait_commit(n, seq, &deadline)) {
            *height = cv_node_stored_height(n);
            return *height > after ? CV_OK : cv_fail(CV_ENOTFOUND, "no block above %llu within %d ms",
                                                    (unsigned long long)after, timeout_ms);
        }
    }
}

void cv_node_get_status(cv_node *n, cv_node_status *st)
{
    memset(st, 0, sizeof *st);
    st->height = cv_node_stored_height(n);
    st->mempool_size = cv_mempool_size(n->mempool);
    st->mempool_max = cv_mempool_capacity(n->mempool);
    st->txs_committed = atomic_load(&n->txs_committed);
    st->peers = n->bft ? cv_node_bft_peers(n->bft) : 0;
    st->txs_rejected = atomic_load(&n->txs_rejected) + cv_mempool_expired(n->mempool);
    cv_address_string(&n->key.pub, st->proposer);
}
