/* writer.c: storing decided blocks (see internal.h).
 *
 * A block's synced store commit costs tens to hundreds of milliseconds once
 * the store is large: each transaction dirties random pages of hash-keyed
 * indexes, which the commit writes and syncs. BFT consensus does not wait
 * for it. cv_node_commit_async writes the decided block and its certificate
 * to a small log file (one sequential synced write), decides it (its
 * transactions leave the mempool, the validator sets advance, and the next
 * height's blocks are built and checked on the store's state with this
 * block on top, a cv_state_overlay) and hands it to the writer thread, which
 * stores it and then publishes it to RPC, waiters and peers' sync.
 *
 * At most one block is in flight: the next decision waits for it. The
 * consensus record, which moves to the next height at once, therefore never
 * gets ahead of what a restart can rebuild: a node killed while the writer
 * works finds the block in the log and commits it before it rejoins
 * (cv_node_recover_decided), instead of starting the decided height afresh
 * and signing votes that contradict those it signed before.
 *
 * The solo engine, block sync and recovery commit in line (cv_node_commit):
 * the block is stored before the caller goes on. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "base/log.h"
#include "codec/codec.h"
#include "node/commit.h"
#include "node/internal.h"

#define LOG_MAX ((size_t)256 << 20)

/* Frees the block stored last and its overlay (nothing is in flight):
 * blocks are executed on the store's own state again. */
static void release_held(cv_node *n)
{
    cv_node_writer *w = &n->writer;
    if (!w->held)
        return;
    cv_state_overlay_free(&w->overlay);
    cv_node_block_free(&w->block);
    cv_buf_reset(&w->cert);
    cv_buf_reset(&w->valset);
    w->held = 0;
    n->exec_src = n->src;
}

/* Stores b and makes it the stored tip. */
static int store_block(cv_node *n, const cv_node_block *b, const uint8_t *cert, size_t cert_len,
                       const cv_buf *valset)
{
    uint64_t t0 = cv_node_mono_ms();
    int rc = cv_commit_store(n->store, &b->header, b->hash, b->encoded.data, b->encoded.len, &b->result, b->txs,
                             cert, cert_len, valset);
    if (!rc)
        cv_node_publish(n, b, t0);
    return rc;
}

static void *writer_main(void *arg)
{
    cv_node *n = arg;
    cv_node_writer *w = &n->writer;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->busy && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->busy)
            break;
        pthread_mutex_unlock(&w->mu); /* the deciding thread leaves the block alone while busy */
        int rc = store_block(n, &w->block, w->cert.data, w->cert.len, &w->valset);
        if (rc)
            cv_error("block %llu was decided but cannot be stored: %s",
                     (unsigned long long)w->block.header.height, cv_errmsg());
        pthread_mutex_lock(&w->mu);
        if (rc && !w->rc) {
            w->rc = rc;
            snprintf(w->error, sizeof w->error, "%s", cv_errmsg());
        }
        w->busy = 0;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int cv_node_writer_start(cv_node *n)
{
    cv_node_writer *w = &n->writer;
    cv_node_data_path(n, CV_NODE_DECIDED_LOG, w->log_path, sizeof w->log_path);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, n) != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        return cv_fail(CV_ENOMEM, "cannot start the store writer thread");
    }
    w->running = 1;
    return CV_OK;
}

void cv_node_writer_stop(cv_node *n)
{
    cv_node_writer *w = &n->writer;
    if (w->running) {
        pthread_mutex_lock(&w->mu);
        w->stop = 1;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        w->running = 0;
    }
    release_held(n);
    cv_buf_free(&w->cert);
    cv_buf_free(&w->valset);
}

int cv_node_flush(cv_node *n)
{
    cv_node_writer *w = &n->writer;
    if (!w->running)
        return CV_OK;
    pthread_mutex_lock(&w->mu);
    while (w->busy)
        pthread_cond_wait(&w->cv, &w->mu);
    int rc = w->rc;
    if (rc)
        cv_fail(rc, "%s", w->error);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int cv_node_commit(cv_node *n, cv_node_block *b, const uint8_t *cert, size_t cert_len)
{
    int rc = cv_node_flush(n);
    if (rc)
        return rc;
    release_held(n);
    cv_buf valset = {0};
    rc = cv_commit_valset(n->store, n->genesis.chain.suite, &b->result, b->txs, &valset);
    if (!rc)
        rc = store_block(n, b, cert, cert_len, &valset);
    if (!rc)
        rc = cv_node_decide(n, b, &valset);
    cv_buf_free(&valset);
    return rc;
}

/* The decided-block log: {1: height, 2: block, 3: certificate}, replaced
 * atomically and synced. */
static int log_decided(const char *path, const cv_node_block *b, const uint8_t *cert, size_t cert_len)
{
    cv_buf msg = {0};
    cv_enc e;
    cv_enc_init(&e, &msg);
    cv_enc_uint(&e, 1, b->header.height);
    cv_enc_bytes(&e, 2, b->encoded.data, b->encoded.len);
    cv_enc_bytes(&e, 3, cert, cert_len);
    int rc = cv_enc_finish(&e);
    if (!rc)
        rc = cv_file_write(path, msg.data, msg.len, 0600, 0);
    cv_buf_free(&msg);
    return rc ? cv_fail(rc, "cannot log decided block %llu: %s", (unsigned long long)b->header.height, cv_errmsg())
              : CV_OK;
}

int cv_node_commit_async(cv_node *n, cv_node_block *b, const uint8_t *cert, size_t cert_len)
{
    cv_node_writer *w = &n->writer;
    if (!w->running)
        return cv_fail(CV_ESTATE, "the store writer is not running");
    int rc = cv_node_flush(n);
    if (rc)
        return rc;
    release_held(n);
    rc = cv_commit_valset(n->store, n->genesis.chain.suite, &b->result, b->txs, &w->valset);
    if (!rc)
        rc = cv_buf_append(&w->cert, cert, cert_len);
    if (!rc)
        rc = log_decided(w->log_path, b, cert, cert_len);
    if (!rc)
        rc = cv_state_overlay_init(&w->overlay, &n->src, &b->result, b->txs);
    if (rc) {
        cv_buf_reset(&w->cert);
        cv_buf_reset(&w->valset);
        return rc;
    }
    w->block = *b; /* taken over: the overlay points at its result's arrays, which do not move */
    memset(b, 0, sizeof *b);
    w->held = 1;
    n->exec_src = cv_state_overlay_source(&w->overlay);
    if ((rc = cv_node_decide(n, &w->block, &w->valset)))
        return rc;
    pthread_mutex_lock(&w->mu);
    w->busy = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return CV_OK;
}

int cv_node_recover_decided(cv_node *n)
{
    char log_path[sizeof n->writer.log_path];
    cv_node_data_path(n, CV_NODE_DECIDED_LOG, log_path, sizeof log_path);
    cv_buf raw = {0};
    if (access(log_path, F_OK) != 0)
        return CV_OK;
    int rc = cv_file_read(log_path, LOG_MAX, &raw);
    uint64_t height = 0;
    const uint8_t *block = NULL, *cert = NULL;
    size_t len = 0, cert_len = 0;
    cv_dec d;
    if (!rc) {
        cv_dec_init(&d, raw.data, raw.len);
        cv_dec_uint(&d, 1, "height", &height);
        cv_dec_bytes(&d, 2, "block", &block, &len, raw.len);
        cv_dec_bytes(&d, 3, "cert", &cert, &cert_len, raw.len);
        rc = cv_dec_end(&d);
    }
    uint64_t stored = cv_node_stored_height(n);
    if (!rc && height == stored + 1) {
        cv_info("%s: block %llu was decided but not stored before the node stopped: storing it", log_path,
                (unsigned long long)height);
        rc = cv_node_commit_certified(n, block, len, cert, cert_len);
    } else if (!rc && height > stored + 1) {
        cv_warn("%s holds block %llu but the store ends at %llu: ignored (block sync will fetch the blocks)",
                log_path, (unsigned long long)height, (unsigned long long)stored);
    }
    cv_buf_free(&raw);
    return rc ? cv_fail(rc, "%s: %s", log_path, cv_errmsg()) : CV_OK;
}
