/* build.c: a receipt from the chain's answers (proof.h): the anchor's bytes
 * are copied in, the readable fields derived from them (derive.c), the
 * validators listed from the genesis; then each file of the batch gets its
 * leaf and audit path. */
#include <string.h>

#include "base/err.h"
#include "proof/internal.h"

static void copy_path(cv_proof_path *to, const cv_proof_path *from)
{
    to->n = from->n;
    memcpy(to->hashes, from->hashes, from->n * CV_HASH_LEN);
}

static int copy_bytes(const cv_proof_anchor *a, cv_proof *p)
{
    int rc = cv_buf_append(&p->tx, a->tx.data, a->tx.len);
    if (!rc)
        rc = cv_buf_append(&p->result, a->result.data, a->result.len);
    if (!rc)
        rc = cv_buf_append(&p->header, a->header.data, a->header.len);
    if (!rc)
        rc = cv_buf_append(&p->cert, a->cert.data, a->cert.len);
    p->tx_index = a->index;
    copy_path(&p->tx_path, &a->tx_path);
    copy_path(&p->result_path, &a->result_path);
    return rc;
}

/* The stamp and block fields that the bytes state. */
static int derive_fields(cv_proof *p)
{
    cv_proof_stamp_facts stamp;
    cv_proof_result_facts result;
    cv_proof_header_facts header;
    int rc = cv_proof_stamp_of(p->suite, &p->tx, &stamp);
    if (!rc)
        rc = cv_proof_result_of(&p->result, &result);
    if (!rc)
        rc = cv_proof_header_of(p->suite, &p->header, &header);
    if (rc)
        return rc;
    memcpy(p->tx_hash, stamp.tx.hash, CV_HASH_LEN);
    strcpy(p->stamper, stamp.stamper);
    strcpy(p->org, result.org);
    strcpy(p->label, stamp.label);
    p->height = header.header.height;
    strcpy(p->time, header.time);
    memcpy(p->block_hash, header.hash, CV_HASH_LEN);
    if (p->height > CV_PROOF_INT_MAX || p->tx_index > CV_PROOF_INT_MAX)
        return cv_fail(CV_EINVAL, "block height %llu is too large for a receipt", (unsigned long long)p->height);
    return CV_OK;
}

int cv_proof_build(const cv_genesis *g, const cv_proof_anchor *a, cv_proof *p)
{
    memset(p, 0, sizeof *p);
    strcpy(p->chain_id, g->chain.chain_id);
    p->suite = g->chain.suite;
    memcpy(p->genesis_hash, g->chain.genesis_hash, CV_HASH_LEN);
    int rc = copy_bytes(a, p);
    if (!rc)
        rc = derive_fields(p);
    if (!rc)
        rc = cv_proof_genesis_validators(g, p->validators, &p->nvalidators);
    if (!rc && (rc = cv_proof_changes_copy(a->changes, a->nchanges, &p->changes)) == CV_OK)
        p->nchanges = a->nchanges;
    if (rc)
        cv_proof_free(p);
    return rc;
}

int cv_proof_set_file(cv_proof *p, const cv_merkle_tree *batch, const uint8_t file_hash[CV_HASH_LEN], size_t index)
{
    uint8_t leaf[CV_HASH_LEN];
    int rc = cv_merkle_tree_path(batch, index, &p->file_path.hashes[0][0], &p->file_path.n);
    if (!rc)
        rc = cv_merkle_leaf_hash(p->suite, file_hash, CV_HASH_LEN, leaf);
    if (!rc && memcmp(leaf, batch->nodes + index * CV_HASH_LEN, CV_HASH_LEN) != 0)
        rc = cv_fail(CV_EINVAL, "the file hash is not leaf %zu of the batch", index);
    if (rc)
        return rc;
    memcpy(p->file_hash, file_hash, CV_HASH_LEN);
    p->file_index = index;
    p->file_count = batch->n;
    memcpy(p->batch_root, cv_merkle_tree_root(batch), CV_HASH_LEN);
    return CV_OK;
}
