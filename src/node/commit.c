/* commit.c: header completion and the atomic store commit of a block
 * (see commit.h). */
#include "node/commit.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "consensus/valset.h"
#include "crypto/merkle.h"

static int tx_root(cv_suite suite, const cv_tx *txs, size_t ntx, uint8_t root[CV_HASH_LEN])
{
    uint8_t(*leaves)[CV_HASH_LEN] = malloc((ntx ? ntx : 1) * CV_HASH_LEN);
    if (!leaves)
        return cv_fail(CV_ENOMEM, "out of memory hashing %zu transactions", ntx);
    int rc = CV_OK;
    for (size_t i = 0; i < ntx && !rc; i++)
        rc = cv_merkle_leaf_hash(suite, txs[i].hash, CV_HASH_LEN, leaves[i]);
    if (!rc)
        rc = cv_merkle_root(suite, (const uint8_t *)leaves, ntx, root);
    free(leaves);
    return rc;
}

int cv_commit_header(cv_suite suite, cv_header *h, const cv_exec_result *r, const cv_tx *txs, size_t ntx)
{
    h->tx_count = ntx;
    memcpy(h->receipt_root, r->receipt_root, CV_HASH_LEN);
    memcpy(h->state_root, r->state_root, CV_HASH_LEN);
    return tx_root(suite, txs, ntx, h->tx_root);
}

int cv_commit_valset(cv_store *store, cv_suite suite, const cv_exec_result *r, const cv_tx *txs, cv_buf *out)
{
    if (!cv_exec_changes_validators(r))
        return CV_OK;
    cv_state_source committed = cv_state_source_store(store), src;
    cv_state_overlay overlay;
    cv_genesis_validator *vals = malloc(CV_VALSET_MAX * sizeof *vals);
    cv_valset_entry *entries = malloc(CV_VALSET_MAX * sizeof *entries);
    cv_valset *vs = malloc(sizeof *vs);
    size_t n = 0;
    int rc = vals && entries && vs ? cv_state_overlay_init(&overlay, &committed, r, txs)
                                   : cv_fail(CV_ENOMEM, "out of memory reading the validators");
    if (!rc) {
        src = cv_state_overlay_source(&overlay);
        rc = cv_exec_validators(&src, vals, CV_VALSET_MAX, &n);
        cv_state_overlay_free(&overlay);
    }
    for (size_t i = 0; i < n && !rc; i++)
        entries[i] = (cv_valset_entry){vals[i].pub, vals[i].power};
    if (!rc)
        rc = cv_valset_init(vs, suite, entries, n);
    if (!rc)
        rc = cv_valset_encode(vs, out);
    free(vals);
    free(entries);
    free(vs);
    return rc ? cv_fail(rc, "the validators this block leaves: %s", cv_errmsg()) : CV_OK;
}

int cv_commit_store(cv_store *store, const cv_header *h, const uint8_t hash[CV_HASH_LEN], const uint8_t *block,
                    size_t block_len, const cv_exec_result *r, const cv_tx *txs, const uint8_t *cert,
                    size_t cert_len, const cv_buf *valset)
{
    size_t ntx = h->tx_count, slots = ntx ? ntx : 1;
    uint8_t(*tx_hashes)[CV_HASH_LEN] = malloc(slots * CV_HASH_LEN);
    uint8_t(*replay_keys)[CV_REPLAY_KEY_LEN] = malloc(slots * CV_REPLAY_KEY_LEN);
    const uint8_t **receipts = malloc(slots * sizeof *receipts);
    size_t *receipt_lens = malloc(slots * sizeof *receipt_lens);
    int rc = CV_OK;
    if (!tx_hashes || !replay_keys || !receipts || !receipt_lens)
        rc = cv_fail(CV_ENOMEM, "out of memory committing a block of %zu transactions", ntx);
    for (size_t i = 0; i < ntx && !rc; i++) {
        memcpy(tx_hashes[i], txs[i].hash, CV_HASH_LEN);
        cv_tx_replay_key(&txs[i], replay_keys[i]);
        receipts[i] = r->receipts[i].data;
        receipt_lens[i] = r->receipts[i].len;
    }
    if (!rc) {
        cv_store_batch b = {
            .height = h->height, .hash = hash, .block = block, .block_len = block_len,
            .cert = cert, .cert_len = cert_len, .tx_count = ntx,
            .tx_hashes = (const uint8_t(*)[CV_HASH_LEN])tx_hashes,
            .tx_replay_keys = (const uint8_t(*)[CV_REPLAY_KEY_LEN])replay_keys, .receipts = receipts,
            .receipt_lens = receipt_lens, .tx_seen = r->seen, .writes = r->writes, .nwrites = r->nwrites,
            .state_root = r->state_root, .valset = valset->len ? valset->data : NULL, .valset_len = valset->len,
            .valset_from = h->height ? h->height + CV_VALSET_DELAY : 0,
        };
        rc = cv_store_commit(store, &b);
    }
    free(tx_hashes);
    free(replay_keys);
    free(receipts);
    free(receipt_lens);
    return rc;
}
