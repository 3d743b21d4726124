/* proof.c: committed blocks as the RPC methods read them, and inclusion
 * proofs of their transactions (internal.h). A block's Merkle tree is built
 * once, on its first proof, so that proving many transactions of one block
 * (trace queries) costs one tree, not one per transaction. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "rpc/internal.h"

static cv_suite node_suite(cv_node *node)
{
    return cv_node_chain(node)->suite;
}

void cv_rpc_block_free(cv_rpc_block *b)
{
    cv_merkle_tree_free(&b->tree);
    free(b->tx_hashes);
    cv_block_free(&b->blk);
    cv_buf_free(&b->raw);
}

int cv_rpc_block_load(cv_node *node, uint64_t height, cv_rpc_block *b)
{
    memset(b, 0, sizeof *b);
    int rc = cv_store_block(cv_node_store(node), height, &b->raw);
    if (rc == CV_ENOTFOUND)
        rc = cv_fail(CV_ENOTFOUND, "no block at height %" PRIu64, height);
    if (!rc)
        rc = cv_block_decode(b->raw.data, b->raw.len, CV_BLOCK_TX_HARD_MAX, CV_TX_HARD_MAX, &b->blk);
    if (!rc)
        rc = cv_header_hash(node_suite(node), &b->blk.header, b->hash);
    return rc;
}

int cv_rpc_block_tx_hashes(cv_node *node, cv_rpc_block *b)
{
    size_t n = b->blk.tx_count;
    b->tx_hashes = calloc(n ? n : 1, CV_HASH_LEN);
    if (!b->tx_hashes)
        return cv_fail(CV_ENOMEM, "out of memory hashing a block's transactions");
    for (size_t i = 0; i < n; i++) {
        int rc = cv_hash(node_suite(node), b->blk.txs[i], b->blk.tx_lens[i], b->tx_hashes[i]);
        if (rc)
            return rc;
    }
    return CV_OK;
}

json_t *cv_rpc_block_cert(cv_node *node, uint64_t height)
{
    cv_buf cert = {0};
    json_t *v = cv_store_cert(cv_node_store(node), height, &cert) == CV_OK && cert.len
                    ? cv_rpc_hex(cert.data, cert.len)
                    : json_null();
    cv_buf_free(&cert);
    return v;
}

/* The block's Merkle tree over H(0x00 || tx hash) of every transaction,
 * after checking that it gives the header's tx root. */
static int build_tree(cv_suite suite, cv_rpc_block *b)
{
    size_t n = b->blk.tx_count;
    uint8_t(*leaves)[CV_HASH_LEN] = calloc(n ? n : 1, CV_HASH_LEN);
    int rc = leaves ? CV_OK : cv_fail(CV_ENOMEM, "out of memory for a block's Merkle leaves");
    for (size_t i = 0; !rc && i < n; i++)
        rc = cv_merkle_leaf_hash(suite, b->tx_hashes[i], CV_HASH_LEN, leaves[i]);
    if (!rc)
        rc = cv_merkle_tree_build(suite, leaves[0], n, &b->tree);
    if (!rc && memcmp(cv_merkle_tree_root(&b->tree), b->blk.header.tx_root, CV_HASH_LEN) != 0)
        rc = cv_fail(CV_ESTATE, "block %" PRIu64 ": its transactions do not give its header's tx root",
                     b->blk.header.height);
    free(leaves);
    return rc;
}

static json_t *path_json(const uint8_t *path, size_t count)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < count; i++)
        if (json_array_append_new(a, cv_rpc_hex(path + i * CV_HASH_LEN, CV_HASH_LEN))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

int cv_rpc_tx_proof(cv_node *node, cv_rpc_block *b, uint32_t index, json_t **out)
{
    cv_suite suite = node_suite(node);
    uint8_t path[CV_MERKLE_MAX_DEPTH * CV_HASH_LEN];
    size_t count = 0;
    int rc = b->tree.nodes ? CV_OK : build_tree(suite, b);
    if (!rc)
        rc = cv_merkle_tree_path(&b->tree, index, path, &count);
    if (rc)
        return rc;
    const uint8_t *leaf = b->tree.nodes + (size_t)index * CV_HASH_LEN;
    *out = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "index", (int)index, "tx_count",
                     cv_rpc_u64(b->blk.tx_count), "leaf", cv_rpc_hex(b->tx_hashes[index], CV_HASH_LEN), "leaf_hash",
                     cv_rpc_hex(leaf, CV_HASH_LEN), "path", path_json(path, count), "tx_root",
                     cv_rpc_hex(b->blk.header.tx_root, CV_HASH_LEN), "block_hash", cv_rpc_hex(b->hash, CV_HASH_LEN),
                     "header", cv_rpc_render_header(suite, &b->blk.header), "cert",
                     cv_rpc_block_cert(node, b->blk.header.height));
    return *out ? CV_OK : cv_fail(CV_ENOMEM, "out of memory rendering a proof");
}
