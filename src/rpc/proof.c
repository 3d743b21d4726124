/* proof.c: committed blocks as the RPC methods read them, and inclusion
 * proofs of their transactions and receipts (internal.h). A block's Merkle
 * trees are built once, on its first proof, so that proving many
 * transactions of one block (trace queries) costs one tree of each kind,
 * not one per transaction. */
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
    cv_merkle_tree_free(&b->receipt_tree);
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

/* The RFC 6962 tree over n entry hashes (leaf i = H(0x00 || entry i)),
 * after checking that it gives root, the header's root named what. */
static int build_tree(cv_suite suite, const cv_rpc_block *b, const uint8_t (*entries)[CV_HASH_LEN], size_t n,
                      const uint8_t root[CV_HASH_LEN], const char *what, cv_merkle_tree *tree)
{
    uint8_t(*leaves)[CV_HASH_LEN] = calloc(n ? n : 1, CV_HASH_LEN);
    int rc = leaves ? CV_OK : cv_fail(CV_ENOMEM, "out of memory for a block's Merkle leaves");
    for (size_t i = 0; !rc && i < n; i++)
        rc = cv_merkle_leaf_hash(suite, entries[i], CV_HASH_LEN, leaves[i]);
    if (!rc)
        rc = cv_merkle_tree_build(suite, leaves[0], n, tree);
    if (!rc && memcmp(cv_merkle_tree_root(tree), root, CV_HASH_LEN) != 0)
        rc = cv_fail(CV_ESTATE, "block %" PRIu64 ": its stored entries do not give its header's %s",
                     b->blk.header.height, what);
    free(leaves);
    return rc;
}

/* The receipts' tree (over their hashes, the receipt root's entries). */
static int build_receipt_tree(cv_node *node, cv_rpc_block *b)
{
    size_t n = b->blk.tx_count;
    cv_buf one = {0};
    uint8_t(*hashes)[CV_HASH_LEN] = calloc(n ? n : 1, CV_HASH_LEN);
    int rc = hashes ? CV_OK : cv_fail(CV_ENOMEM, "out of memory hashing a block's receipts");
    for (uint32_t i = 0; i < n && !rc; i++)
        if (!(rc = cv_store_receipt(cv_node_store(node), b->blk.header.height, i, &one)))
            rc = cv_hash(node_suite(node), one.data, one.len, hashes[i]);
    if (!rc)
        rc = build_tree(node_suite(node), b, (const uint8_t(*)[CV_HASH_LEN])hashes, n, b->blk.header.receipt_root,
                        "receipt root", &b->receipt_tree);
    cv_buf_free(&one);
    free(hashes);
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

/* {header_raw, receipt_raw, receipt_path}: the header's encoding, and the
 * transaction's receipt with its audit path to the receipt root. */
static int receipt_proof(cv_node *node, cv_rpc_block *b, uint32_t index, json_t **out)
{
    uint8_t path[CV_MERKLE_MAX_DEPTH * CV_HASH_LEN];
    size_t count = 0;
    cv_buf raw = {0}, header = {0};
    int rc = b->receipt_tree.nodes ? CV_OK : build_receipt_tree(node, b);
    if (!rc)
        rc = cv_merkle_tree_path(&b->receipt_tree, index, path, &count);
    if (!rc)
        rc = cv_store_receipt(cv_node_store(node), b->blk.header.height, index, &raw);
    if (!rc)
        rc = cv_header_encode(&b->blk.header, &header);
    if (!rc && !(*out = json_pack("{s:o, s:o, s:o}", "header_raw", cv_rpc_hex(header.data, header.len),
                                  "receipt_raw", cv_rpc_hex(raw.data, raw.len), "receipt_path",
                                  path_json(path, count))))
        rc = cv_fail(CV_ENOMEM, "out of memory rendering a proof");
    cv_buf_free(&raw);
    cv_buf_free(&header);
    return rc;
}

int cv_rpc_tx_proof(cv_node *node, cv_rpc_block *b, uint32_t index, json_t **out)
{
    cv_suite suite = node_suite(node);
    uint8_t path[CV_MERKLE_MAX_DEPTH * CV_HASH_LEN];
    size_t count = 0;
    json_t *receipt = NULL;
    int rc = b->tree.nodes ? CV_OK
                           : build_tree(suite, b, (const uint8_t(*)[CV_HASH_LEN])b->tx_hashes, b->blk.tx_count,
                                        b->blk.header.tx_root, "tx root", &b->tree);
    if (!rc)
        rc = cv_merkle_tree_path(&b->tree, index, path, &count);
    if (!rc)
        rc = receipt_proof(node, b, index, &receipt);
    if (rc)
        return rc;
    const uint8_t *leaf = b->tree.nodes + (size_t)index * CV_HASH_LEN;
    *out = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "index", (int)index, "tx_count",
                     cv_rpc_u64(b->blk.tx_count), "leaf", cv_rpc_hex(b->tx_hashes[index], CV_HASH_LEN), "leaf_hash",
                     cv_rpc_hex(leaf, CV_HASH_LEN), "path", path_json(path, count), "tx_root",
                     cv_rpc_hex(b->blk.header.tx_root, CV_HASH_LEN), "block_hash", cv_rpc_hex(b->hash, CV_HASH_LEN),
                     "header", cv_rpc_render_header(suite, &b->blk.header), "cert",
                     cv_rpc_block_cert(node, b->blk.header.height));
    if (*out && json_object_update(*out, receipt) != 0) {
        json_decref(*out);
        *out = NULL;
    }
    json_decref(receipt);
    return *out ? CV_OK : cv_fail(CV_ENOMEM, "out of memory rendering a proof");
}
