/* methods.c: the JSON-RPC methods (docs/RPC.md): the method table and one
 * handler per method. A handler takes its parameters through params.c,
 * asks the node, its store or exec/, and renders the answer with render.c;
 * it returns CV_OK with *result set, or a JSON-RPC error code with the call's
 * error filled in. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "crypto/merkle.h"
#include "rpc/internal.h"

#define WAIT_SLICE_MS 200           /* long polls look at the stop flag this often */
#define WAIT_DEFAULT_MS 30000

static cv_suite node_suite(cv_node *node)
{
    return cv_node_chain(node)->suite;
}

static int out_of_memory(cv_rpc_call *c)
{
    return cv_rpc_fail(c->err, CV_RPC_INTERNAL_ERROR, "internal error: out of memory");
}

/* obj with key set to v; NULL (and obj freed) if either is NULL or memory
 * runs out. Always consumes v. */
static json_t *with(json_t *obj, const char *key, json_t *v)
{
    if (json_object_set_new(obj, key, v) == 0)
        return obj;
    json_decref(obj);
    return NULL;
}

/* Sets *result to v, or fails when v could not be built. */
static int give(cv_rpc_call *c, json_t *v, json_t **result)
{
    *result = v;
    return v ? CV_OK : out_of_memory(c);
}

static int chain_height(cv_rpc_call *c, uint64_t *height)
{
    int rc = cv_store_height(cv_node_store(c->node), height);
    return rc ? cv_rpc_fail_cv(c->err, rc) : CV_OK;
}

/* ---- reading blocks ------------------------------------------------------- */

typedef struct {
    cv_buf raw;
    cv_block blk;
    uint8_t hash[CV_HASH_LEN];
    uint8_t (*tx_hashes)[CV_HASH_LEN]; /* filled by load_tx_hashes */
} loaded_block;

static void loaded_block_free(loaded_block *b)
{
    free(b->tx_hashes);
    cv_block_free(&b->blk);
    cv_buf_free(&b->raw);
}

/* Loads and decodes the block at height; cv_err on failure. */
static int load_block(cv_node *node, uint64_t height, loaded_block *b)
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

/* The hash of every transaction of the block, in order. */
static int load_tx_hashes(cv_node *node, loaded_block *b)
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

/* The certificate of the block as hex, or null when it has none. */
static json_t *cert_json(cv_node *node, uint64_t height)
{
    cv_buf cert = {0};
    json_t *v = cv_store_cert(cv_node_store(node), height, &cert) == CV_OK && cert.len
                    ? cv_rpc_hex(cert.data, cert.len)
                    : json_null();
    cv_buf_free(&cert);
    return v;
}

/* {height, hash, header}: what the event stream sends and every block reply starts with. */
static json_t *block_head_json(cv_node *node, const loaded_block *b)
{
    return json_pack("{s:o, s:o, s:o}", "height", cv_rpc_u64(b->blk.header.height), "hash",
                     cv_rpc_hex(b->hash, CV_HASH_LEN), "header",
                     cv_rpc_render_header(node_suite(node), &b->blk.header));
}

int cv_rpc_block_event(cv_node *node, uint64_t height, json_t **out)
{
    loaded_block b;
    int rc = load_block(node, height, &b);
    if (!rc && !(*out = block_head_json(node, &b)))
        rc = cv_fail(CV_ENOMEM, "out of memory rendering block %" PRIu64, height);
    loaded_block_free(&b);
    return rc;
}

/* The receipt of transaction index of the block at height, rendered. */
static json_t *receipt_json(cv_node *node, uint64_t height, uint32_t index)
{
    cv_buf raw = {0};
    cv_receipt r;
    json_t *v = NULL;
    if (cv_store_receipt(cv_node_store(node), height, index, &raw) == CV_OK &&
        cv_receipt_decode(raw.data, raw.len, &r) == CV_OK) {
        v = cv_rpc_render_receipt(&r);
        cv_receipt_free(&r);
    } else {
        v = json_null();
    }
    cv_buf_free(&raw);
    return v;
}

/* {hash, height, index, tx, receipt} of transaction i of a loaded block. */
static json_t *tx_entry_json(cv_node *node, const loaded_block *b, uint32_t i)
{
    cv_tx tx;
    json_t *txj = cv_tx_decode(b->blk.txs[i], b->blk.tx_lens[i], CV_TX_HARD_MAX, &tx) == CV_OK
                      ? cv_rpc_render_tx(&tx)
                      : json_null();
    return json_pack("{s:o, s:o, s:i, s:o, s:o}", "hash", cv_rpc_hex(b->tx_hashes[i], CV_HASH_LEN), "height",
                     cv_rpc_u64(b->blk.header.height), "index", (int)i, "tx", txj, "receipt",
                     receipt_json(node, b->blk.header.height, i));
}

/* ---- inclusion proofs ----------------------------------------------------- */

/* The audit path of entry index in the RFC 6962 tree over the block's n
 * entry hashes (leaf i = H(0x00 || entry i)), after checking that they give
 * root, the header's root named `what`. */
static int audit_path(cv_suite suite, const loaded_block *b, const uint8_t (*entries)[CV_HASH_LEN],
                      const uint8_t root[CV_HASH_LEN], const char *what, uint32_t index,
                      uint8_t leaf_hash[CV_HASH_LEN], uint8_t *path, size_t *count)
{
    size_t n = b->blk.tx_count;
    uint8_t(*leaves)[CV_HASH_LEN] = calloc(n ? n : 1, CV_HASH_LEN), computed[CV_HASH_LEN];
    int rc = leaves ? CV_OK : cv_fail(CV_ENOMEM, "out of memory for a block's Merkle leaves");
    for (size_t i = 0; i < n && !rc; i++)
        rc = cv_merkle_leaf_hash(suite, entries[i], CV_HASH_LEN, leaves[i]);
    if (!rc)
        rc = cv_merkle_root(suite, leaves[0], n, computed);
    if (!rc && memcmp(computed, root, CV_HASH_LEN) != 0)
        rc = cv_fail(CV_ESTATE, "block %" PRIu64 ": its stored entries do not give its header's %s",
                     b->blk.header.height, what);
    if (!rc)
        rc = cv_merkle_proof(suite, leaves[0], n, index, path, count);
    if (!rc)
        memcpy(leaf_hash, leaves[index], CV_HASH_LEN);
    free(leaves);
    return rc;
}

/* The hash of every receipt of the block, in order; the encoding of
 * receipt index goes to raw. */
static int load_receipt_hashes(cv_node *node, const loaded_block *b, uint32_t index,
                               uint8_t (**hashes)[CV_HASH_LEN], cv_buf *raw)
{
    size_t n = b->blk.tx_count;
    cv_buf one = {0};
    *hashes = calloc(n ? n : 1, CV_HASH_LEN);
    int rc = *hashes ? CV_OK : cv_fail(CV_ENOMEM, "out of memory hashing a block's receipts");
    for (uint32_t i = 0; i < n && !rc; i++) {
        rc = cv_store_receipt(cv_node_store(node), b->blk.header.height, i, &one);
        if (!rc)
            rc = cv_hash(node_suite(node), one.data, one.len, (*hashes)[i]);
        if (!rc && i == index)
            rc = cv_buf_append(raw, one.data, one.len);
    }
    cv_buf_free(&one);
    return rc;
}

static json_t *path_json(const uint8_t *path, size_t count)
{
    json_t *pathj = json_array();
    for (size_t i = 0; pathj && i < count; i++)
        if (json_array_append_new(pathj, cv_rpc_hex(path + i * CV_HASH_LEN, CV_HASH_LEN))) {
            json_decref(pathj);
            pathj = NULL;
        }
    return pathj;
}

/* {header_raw, receipt_raw, receipt_path}: the header's encoding, and the
 * transaction's receipt with its audit path to the receipt root. */
static int receipt_proof_json(cv_node *node, const loaded_block *b, uint32_t index, json_t **out)
{
    cv_suite suite = node_suite(node);
    uint8_t(*hashes)[CV_HASH_LEN] = NULL, leaf_hash[CV_HASH_LEN], path[CV_MERKLE_MAX_DEPTH * CV_HASH_LEN];
    size_t count = 0;
    cv_buf raw = {0}, header = {0};
    int rc = load_receipt_hashes(node, b, index, &hashes, &raw);
    if (!rc)
        rc = audit_path(suite, b, (const uint8_t(*)[CV_HASH_LEN])hashes, b->blk.header.receipt_root, "receipt root",
                        index, leaf_hash, path, &count);
    if (!rc)
        rc = cv_header_encode(&b->blk.header, &header);
    if (!rc && !(*out = json_pack("{s:o, s:o, s:o}", "header_raw", cv_rpc_hex(header.data, header.len),
                                  "receipt_raw", cv_rpc_hex(raw.data, raw.len), "receipt_path",
                                  path_json(path, count))))
        rc = cv_fail(CV_ENOMEM, "out of memory rendering a proof");
    free(hashes);
    cv_buf_free(&raw);
    cv_buf_free(&header);
    return rc;
}

/* {index, tx_count, leaf, leaf_hash, path, tx_root, block_hash, header, cert,
 * header_raw, receipt_raw, receipt_path}: what a client needs to check that
 * the transaction and its receipt are in the block. */
static int proof_json(cv_node *node, const loaded_block *b, uint32_t index, json_t **out)
{
    cv_suite suite = node_suite(node);
    uint8_t leaf_hash[CV_HASH_LEN], path[CV_MERKLE_MAX_DEPTH * CV_HASH_LEN];
    size_t count = 0;
    json_t *receipt = NULL;
    int rc = audit_path(suite, b, (const uint8_t(*)[CV_HASH_LEN])b->tx_hashes, b->blk.header.tx_root, "tx root",
                        index, leaf_hash, path, &count);
    if (!rc)
        rc = receipt_proof_json(node, b, index, &receipt);
    if (rc)
        return rc;
    *out = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "index", (int)index, "tx_count",
                     cv_rpc_u64(b->blk.tx_count), "leaf", cv_rpc_hex(b->tx_hashes[index], CV_HASH_LEN),
                     "leaf_hash", cv_rpc_hex(leaf_hash, CV_HASH_LEN), "path", path_json(path, count), "tx_root",
                     cv_rpc_hex(b->blk.header.tx_root, CV_HASH_LEN), "block_hash", cv_rpc_hex(b->hash, CV_HASH_LEN),
                     "header", cv_rpc_render_header(suite, &b->blk.header), "cert",
                     cert_json(node, b->blk.header.height));
    if (*out && json_object_update(*out, receipt) != 0) {
        json_decref(*out);
        *out = NULL;
    }
    json_decref(receipt);
    return *out ? CV_OK : cv_fail(CV_ENOMEM, "out of memory rendering a proof");
}

/* ---- long polls ------------------------------------------------------------ */

/* One look for what a long poll waits for, waiting up to slice_ms:
 * 1 when it is there, 0 when not yet, a cv_err on failure. */
typedef int (*wait_fn)(cv_rpc_call *c, int slice_ms, void *ctx);

/* Calls fn until it is satisfied, timeout_ms (or the body's wait budget)
 * have passed or the server stops: in slices while a server runs, so that
 * stopping never waits for a long poll, and not at all once it stops. */
static int wait_for(cv_rpc_call *c, uint64_t timeout_ms, wait_fn fn, void *ctx)
{
    uint64_t deadline = cv_rpc_now_ms() + timeout_ms;
    if (deadline > c->wait_until_ms)
        deadline = c->wait_until_ms;
    for (;;) {
        uint64_t now = cv_rpc_now_ms(), left = now < deadline ? deadline - now : 0;
        int stopping = c->stop && atomic_load(c->stop);
        int slice = (int)(stopping ? 0 : c->stop && left > WAIT_SLICE_MS ? WAIT_SLICE_MS : left);
        int rc = fn(c, slice, ctx);
        if (rc || left == 0 || stopping)
            return rc;
    }
}

typedef struct {
    uint8_t hash[CV_HASH_LEN];
    uint64_t height;
    uint32_t index;
} tx_wait_ctx;

static int tx_committed(cv_rpc_call *c, int slice_ms, void *ctx)
{
    tx_wait_ctx *w = ctx;
    int rc = cv_node_wait_tx(c->node, w->hash, slice_ms, &w->height, &w->index);
    return rc == CV_OK ? 1 : rc == CV_ENOTFOUND ? 0 : rc;
}

typedef struct {
    uint64_t after, height;
} height_wait_ctx;

static int height_above(cv_rpc_call *c, int slice_ms, void *ctx)
{
    height_wait_ctx *w = ctx;
    cv_node_wait_height(c->node, w->after, slice_ms, &w->height);
    return w->height > w->after;
}

/* ---- transactions ---------------------------------------------------------- */

/* Transactions decoded from hex, back to back in raw, and what the node said. */
typedef struct {
    size_t n;
    cv_buf raw;
    size_t *ends; /* end offset of transaction i in raw */
    int *results;
    char (*errors)[CV_ERROR_MAX + 1];
    uint8_t (*hashes)[CV_HASH_LEN];
} submission;

static void submission_free(submission *s)
{
    cv_buf_free(&s->raw);
    free(s->ends);
    free(s->results);
    free(s->errors);
    free(s->hashes);
}

static int submission_init(cv_rpc_call *c, submission *s, size_t n)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->ends = calloc(n, sizeof *s->ends);
    s->results = calloc(n, sizeof *s->results);
    s->errors = calloc(n, sizeof *s->errors);
    s->hashes = calloc(n, sizeof *s->hashes);
    return s->ends && s->results && s->errors && s->hashes ? CV_OK : out_of_memory(c);
}

/* Hands every transaction to the node in one call, so that their signatures
 * are verified as one batch. */
static int submission_run(cv_rpc_call *c, submission *s)
{
    const uint8_t **txs = calloc(s->n, sizeof *txs);
    size_t *lens = calloc(s->n, sizeof *lens);
    int rc = txs && lens ? CV_OK : out_of_memory(c);
    for (size_t i = 0, start = 0; !rc && i < s->n; start = s->ends[i++]) {
        txs[i] = s->raw.data + start;
        lens[i] = s->ends[i] - start;
    }
    if (!rc && (rc = cv_node_submit(c->node, txs, lens, s->n, s->results, s->errors, s->hashes)))
        rc = cv_rpc_fail_cv(c->err, rc);
    free(txs);
    free(lens);
    return rc;
}

static int hash_known(const uint8_t hash[CV_HASH_LEN])
{
    static const uint8_t zero[CV_HASH_LEN];
    return memcmp(hash, zero, CV_HASH_LEN) != 0;
}

/* Why the node refused transaction i; a decoding failure, which the codec
 * words by field and offset only, is called a malformed transaction. */
static const char *refusal(const submission *s, size_t i, char *buf, size_t cap)
{
    static const char prefix[] = "transaction: ";
    const char *why = s->errors[i];
    if (s->results[i] != CV_EDECODE)
        return why;
    if (strncmp(why, prefix, sizeof prefix - 1) == 0)
        why += sizeof prefix - 1;
    snprintf(buf, cap, "malformed transaction: %s", why);
    return buf;
}

/* {hash} for an admitted transaction, {error: {code, message}, hash?} for a refused one. */
static json_t *submission_entry(const submission *s, size_t i)
{
    char buf[CV_RPC_MSG_MAX];
    json_t *hash = hash_known(s->hashes[i]) ? cv_rpc_hex(s->hashes[i], CV_HASH_LEN) : NULL;
    if (s->results[i] == CV_OK)
        return json_pack("{s:o}", "hash", hash);
    return json_pack("{s:o, s:o*}", "error", cv_rpc_render_error(s->results[i], refusal(s, i, buf, sizeof buf)),
                     "hash", hash);
}

static int m_tx_send(cv_rpc_call *c, json_t **result)
{
    submission s;
    int rc = submission_init(c, &s, 1);
    if (!rc && !(rc = cv_rpc_param_hex(c, "tx", CV_TX_HARD_MAX, &s.raw))) {
        s.ends[0] = s.raw.len;
        rc = submission_run(c, &s);
    }
    char buf[CV_RPC_MSG_MAX];
    if (!rc && s.results[0])
        rc = cv_rpc_fail(c->err, cv_rpc_app_code(s.results[0]), "%s", refusal(&s, 0, buf, sizeof buf));
    if (!rc)
        rc = give(c, json_pack("{s:o}", "hash", cv_rpc_hex(s.hashes[0], CV_HASH_LEN)), result);
    submission_free(&s);
    return rc;
}

static int m_tx_send_batch(cv_rpc_call *c, json_t **result)
{
    const json_t *txs;
    submission s = {0};
    int rc = cv_rpc_param_array(c, "txs", CV_RPC_TX_BATCH_MAX, &txs);
    if (!rc)
        rc = submission_init(c, &s, json_array_size(txs));
    for (size_t i = 0; !rc && i < s.n; i++) {
        char what[32];
        snprintf(what, sizeof what, "txs[%zu]", i);
        rc = cv_rpc_hex_value(c->err, what, json_array_get(txs, i), CV_TX_HARD_MAX, &s.raw);
        s.ends[i] = s.raw.len;
    }
    if (!rc)
        rc = submission_run(c, &s);
    json_t *results = rc ? NULL : json_array();
    size_t accepted = 0;
    for (size_t i = 0; results && i < s.n; i++) {
        accepted += s.results[i] == CV_OK;
        if (json_array_append_new(results, submission_entry(&s, i))) {
            json_decref(results);
            results = NULL;
        }
    }
    if (!rc)
        rc = give(c, json_pack("{s:o, s:o}", "accepted", cv_rpc_u64(accepted), "results", results), result);
    submission_free(&s);
    return rc;
}

static int m_tx_wait(cv_rpc_call *c, json_t **result)
{
    tx_wait_ctx w;
    uint64_t timeout;
    int rc = cv_rpc_param_hash(c, "hash", w.hash);
    if (!rc)
        rc = cv_rpc_param_uint(c, "timeout_ms", 0, WAIT_DEFAULT_MS, CV_RPC_WAIT_MAX_MS, &timeout);
    if (rc)
        return rc;
    int found = wait_for(c, timeout, tx_committed, &w);
    if (found < 0)
        return cv_rpc_fail_cv(c->err, found);
    if (!found) {
        char hex[2 * CV_HASH_LEN + 1];
        cv_hex_encode(w.hash, CV_HASH_LEN, hex);
        return cv_rpc_fail(c->err, cv_rpc_app_code(CV_ENOTFOUND),
                           "transaction %s was not committed within %" PRIu64 " ms", hex, timeout);
    }
    return give(c,
                json_pack("{s:o, s:o, s:i, s:o}", "hash", cv_rpc_hex(w.hash, CV_HASH_LEN), "height",
                          cv_rpc_u64(w.height), "index", (int)w.index, "receipt",
                          receipt_json(c->node, w.height, w.index)),
                result);
}

/* Finds a committed transaction's block, loaded with its transaction hashes. */
static int locate_tx(cv_rpc_call *c, const uint8_t hash[CV_HASH_LEN], loaded_block *b, uint32_t *index)
{
    uint64_t height;
    memset(b, 0, sizeof *b);
    int rc = cv_store_tx_location(cv_node_store(c->node), hash, &height, index);
    if (rc == CV_ENOTFOUND) {
        char hex[2 * CV_HASH_LEN + 1];
        cv_hex_encode(hash, CV_HASH_LEN, hex);
        rc = cv_fail(CV_ENOTFOUND, "transaction %s is not committed", hex);
    }
    if (!rc)
        rc = load_block(c->node, height, b);
    if (!rc)
        rc = load_tx_hashes(c->node, b);
    if (!rc && *index >= b->blk.tx_count)
        rc = cv_fail(CV_ESTATE, "transaction index %" PRIu32 " is past the end of block %" PRIu64, *index,
                     height);
    return rc ? cv_rpc_fail_cv(c->err, rc) : CV_OK;
}

static int m_tx_get(cv_rpc_call *c, json_t **result)
{
    uint8_t hash[CV_HASH_LEN];
    loaded_block b = {0};
    uint32_t index;
    json_t *entry, *proof = NULL;
    int rc = cv_rpc_param_hash(c, "hash", hash);
    if (!rc)
        rc = locate_tx(c, hash, &b, &index);
    if (!rc && (rc = proof_json(c->node, &b, index, &proof)))
        rc = cv_rpc_fail_cv(c->err, rc);
    if (!rc) {
        entry = with(tx_entry_json(c->node, &b, index), "raw", cv_rpc_hex(b.blk.txs[index], b.blk.tx_lens[index]));
        rc = give(c, with(entry, "proof", proof), result);
    }
    loaded_block_free(&b);
    return rc;
}

/* ---- blocks ----------------------------------------------------------------- */

/* {height, hash, header, cert, txs}: txs are hashes, or with full the
 * decoded transactions with their receipts. */
static int block_reply(cv_rpc_call *c, uint64_t height, int full, json_t **result)
{
    loaded_block b;
    int rc = load_block(c->node, height, &b);
    if (!rc)
        rc = load_tx_hashes(c->node, &b);
    if (rc) {
        loaded_block_free(&b);
        return cv_rpc_fail_cv(c->err, rc);
    }
    json_t *txs = json_array();
    for (uint32_t i = 0; txs && i < b.blk.tx_count; i++)
        if (json_array_append_new(txs, full ? tx_entry_json(c->node, &b, i)
                                            : cv_rpc_hex(b.tx_hashes[i], CV_HASH_LEN))) {
            json_decref(txs);
            txs = NULL;
        }
    json_t *reply = with(with(block_head_json(c->node, &b), "cert", cert_json(c->node, height)), "txs", txs);
    loaded_block_free(&b);
    return give(c, reply, result);
}

/* The height of the block a hash names. */
static int height_of_hash(cv_rpc_call *c, uint64_t *height)
{
    uint8_t hash[CV_HASH_LEN];
    int rc = cv_rpc_param_hash(c, "hash", hash);
    if (rc)
        return rc;
    rc = cv_store_block_height(cv_node_store(c->node), hash, height);
    if (rc == CV_ENOTFOUND) {
        char hex[2 * CV_HASH_LEN + 1];
        cv_hex_encode(hash, CV_HASH_LEN, hex);
        rc = cv_fail(CV_ENOTFOUND, "no block with hash %s", hex);
    }
    return rc ? cv_rpc_fail_cv(c->err, rc) : CV_OK;
}

static int m_block_get(cv_rpc_call *c, json_t **result)
{
    int by_height = cv_rpc_param_present(c, "height"), by_hash = cv_rpc_param_present(c, "hash"), full;
    uint64_t height, top;
    if (by_height == by_hash)
        return cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS,
                           "invalid params: give exactly one of param \"height\" and param \"hash\"");
    int rc = cv_rpc_param_bool(c, "full", 0, &full);
    if (!rc)
        rc = by_hash ? height_of_hash(c, &height) : cv_rpc_param_uint(c, "height", 1, 0, UINT64_MAX, &height);
    if (!rc)
        rc = chain_height(c, &top);
    if (!rc && height > top)
        rc = cv_rpc_fail(c->err, cv_rpc_app_code(CV_ENOTFOUND),
                         "no block at height %" PRIu64 " (the chain is at height %" PRIu64 ")", height, top);
    return rc ? rc : block_reply(c, height, full, result);
}

static int m_block_latest(cv_rpc_call *c, json_t **result)
{
    uint64_t height;
    int full;
    int rc = cv_rpc_param_bool(c, "full", 0, &full);
    if (!rc)
        rc = chain_height(c, &height);
    return rc ? rc : block_reply(c, height, full, result);
}

static int m_block_wait(cv_rpc_call *c, json_t **result)
{
    height_wait_ctx w = {0};
    uint64_t timeout;
    int rc = cv_rpc_param_uint(c, "after", 1, 0, UINT64_MAX, &w.after);
    if (!rc)
        rc = cv_rpc_param_uint(c, "timeout_ms", 0, WAIT_DEFAULT_MS, CV_RPC_WAIT_MAX_MS, &timeout);
    if (!rc)
        wait_for(c, timeout, height_above, &w);
    return rc ? rc : give(c, json_pack("{s:o}", "height", cv_rpc_u64(w.height)), result);
}

/* ---- contracts and the node ------------------------------------------------- */

static int m_call(cv_rpc_call *c, json_t **result)
{
    const char *contract, *method;
    json_t *args = NULL, *value = NULL;
    cv_buf encoded = {0};
    uint64_t height;
    int rc = cv_rpc_param_str(c, "contract", CV_NAME_MAX, &contract);
    if (!rc)
        rc = cv_rpc_param_str(c, "method", CV_NAME_MAX, &method);
    if (!rc)
        rc = cv_rpc_param_object(c, "args", &args);
    if (!rc)
        rc = chain_height(c, &height);
    if (!rc && (rc = cv_exec_args_from_json(contract, method, args, &encoded)))
        rc = cv_rpc_fail_cv(c->err, rc);
    if (!rc && (rc = cv_exec_query(cv_node_chain(c->node), cv_node_state(c->node), height, contract, method,
                                   encoded.data, encoded.len, &value)))
        rc = cv_rpc_fail_cv(c->err, rc);
    if (!rc)
        rc = give(c, json_pack("{s:o, s:o}", "height", cv_rpc_u64(height), "result", value), result);
    json_decref(args);
    cv_buf_free(&encoded);
    return rc;
}

static int m_status(cv_rpc_call *c, json_t **result)
{
    const cv_chain *chain = cv_node_chain(c->node);
    cv_node_status st;
    loaded_block b;
    uint64_t height;
    int rc = chain_height(c, &height);
    if (rc)
        return rc;
    cv_node_get_status(c->node, &st);
    if ((rc = load_block(c->node, height, &b))) {
        loaded_block_free(&b);
        return cv_rpc_fail_cv(c->err, rc);
    }
    json_t *reply = json_pack(
        "{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}", "chain_id", cv_rpc_text(chain->chain_id),
        "suite", cv_suite_name(chain->suite), "genesis_hash", cv_rpc_hex(chain->genesis_hash, CV_HASH_LEN), "height",
        cv_rpc_u64(height), "latest_block_hash", cv_rpc_hex(b.hash, CV_HASH_LEN), "latest_block_time_ms",
        cv_rpc_u64(b.blk.header.time_ms), "mempool_size", cv_rpc_u64(st.mempool_size), "mempool_max",
        cv_rpc_u64(st.mempool_max), "peers", cv_rpc_u64(st.peers), "txs_committed", cv_rpc_u64(st.txs_committed),
        "txs_rejected", cv_rpc_u64(st.txs_rejected), "proposer", cv_rpc_text(st.proposer), "version", CV_VERSION);
    loaded_block_free(&b);
    return give(c, reply, result);
}

static int m_genesis(cv_rpc_call *c, json_t **result)
{
    size_t len;
    const char *text = cv_node_genesis_text(c->node, &len);
    return give(c,
                json_pack("{s:o, s:o}", "genesis_hash", cv_rpc_hex(cv_node_chain(c->node)->genesis_hash, CV_HASH_LEN),
                          "genesis", json_stringn(text, len)),
                result);
}

static int m_describe(cv_rpc_call *c, json_t **result)
{
    return give(c, cv_exec_describe(), result);
}

/* ---- the table ----------------------------------------------------------------- */

static const cv_rpc_method methods[] = {
    {"tx_send", m_tx_send, {"tx", NULL}},
    {"tx_send_batch", m_tx_send_batch, {"txs", NULL}},
    {"tx_wait", m_tx_wait, {"hash", "timeout_ms", NULL}},
    {"tx_get", m_tx_get, {"hash", NULL}},
    {"block_get", m_block_get, {"height", "hash", "full", NULL}},
    {"block_latest", m_block_latest, {"full", NULL}},
    {"block_wait", m_block_wait, {"after", "timeout_ms", NULL}},
    {"call", m_call, {"contract", "method", "args", NULL}},
    {"status", m_status, {NULL}},
    {"genesis", m_genesis, {NULL}},
    {"describe", m_describe, {NULL}},
};

const cv_rpc_method *cv_rpc_method_find(const char *name)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].name, name) == 0)
            return &methods[i];
    return NULL;
}
