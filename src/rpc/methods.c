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
#include "codec/codec.h"
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

/* {height, hash, header}: what the event stream sends and every block reply starts with. */
static json_t *block_head_json(cv_node *node, const cv_rpc_block *b)
{
    return json_pack("{s:o, s:o, s:o}", "height", cv_rpc_u64(b->blk.header.height), "hash",
                     cv_rpc_hex(b->hash, CV_HASH_LEN), "header",
                     cv_rpc_render_header(node_suite(node), &b->blk.header));
}

int cv_rpc_block_event(cv_node *node, uint64_t height, json_t **out)
{
    cv_rpc_block b;
    int rc = cv_rpc_block_load(node, height, &b);
    if (!rc && !(*out = block_head_json(node, &b)))
        rc = cv_fail(CV_ENOMEM, "out of memory rendering block %" PRIu64, height);
    cv_rpc_block_free(&b);
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
static json_t *tx_entry_json(cv_node *node, const cv_rpc_block *b, uint32_t i)
{
    cv_tx tx;
    json_t *txj = cv_tx_decode(b->blk.txs[i], b->blk.tx_lens[i], CV_TX_HARD_MAX, &tx) == CV_OK
                      ? cv_rpc_render_tx(&tx)
                      : json_null();
    return json_pack("{s:o, s:o, s:i, s:o, s:o}", "hash", cv_rpc_hex(b->tx_hashes[i], CV_HASH_LEN), "height",
                     cv_rpc_u64(b->blk.header.height), "index", (int)i, "tx", txj, "receipt",
                     receipt_json(node, b->blk.header.height, i));
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

/* Submits the decoded batch; the result is {accepted, results: [entry per tx]}. */
static int batch_run(cv_rpc_call *c, submission *s, json_t **result)
{
    int rc = submission_run(c, s);
    json_t *results = rc ? NULL : json_array();
    size_t accepted = 0;
    for (size_t i = 0; results && i < s->n; i++) {
        accepted += s->results[i] == CV_OK;
        if (json_array_append_new(results, submission_entry(s, i))) {
            json_decref(results);
            results = NULL;
        }
    }
    if (!rc && !results)
        rc = out_of_memory(c);
    return rc ? rc : give(c, json_pack("{s:o, s:o}", "accepted", cv_rpc_u64(accepted), "results", results), result);
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
        rc = batch_run(c, &s, result);
    submission_free(&s);
    return rc;
}

int cv_rpc_send_encoded(cv_rpc_call *c, const uint8_t *body, size_t len, json_t **result)
{
    cv_dec d;
    size_t n = 0;
    submission s = {0};
    cv_dec_init(&d, body, len);
    int rc = cv_dec_list(&d, 1, "txs", CV_CODEC_BYTES_LIST, &n, CV_RPC_TX_BATCH_MAX);
    if (rc)
        return cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS, "invalid body: %s", cv_errmsg());
    rc = submission_init(c, &s, n);
    for (size_t i = 0; !rc && i < n; i++) {
        const uint8_t *tx;
        size_t tx_len;
        if (cv_dec_bytes(&d, CV_CODEC_ITEM, NULL, &tx, &tx_len, CV_TX_HARD_MAX) != CV_OK)
            rc = cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS, "invalid body: transaction %zu: %s", i, cv_errmsg());
        else if (tx_len == 0)
            rc = cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS, "invalid body: transaction %zu is empty", i);
        else if (cv_buf_append(&s.raw, tx, tx_len))
            rc = out_of_memory(c);
        s.ends[i] = s.raw.len;
    }
    if (!rc && cv_dec_end(&d) != CV_OK)
        rc = cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS, "invalid body: %s", cv_errmsg());
    if (!rc)
        rc = batch_run(c, &s, result);
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
static int locate_tx(cv_rpc_call *c, const uint8_t hash[CV_HASH_LEN], cv_rpc_block *b, uint32_t *index)
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
        rc = cv_rpc_block_load(c->node, height, b);
    if (!rc)
        rc = cv_rpc_block_tx_hashes(c->node, b);
    if (!rc && *index >= b->blk.tx_count)
        rc = cv_fail(CV_ESTATE, "transaction index %" PRIu32 " is past the end of block %" PRIu64, *index,
                     height);
    return rc ? cv_rpc_fail_cv(c->err, rc) : CV_OK;
}

static int m_tx_get(cv_rpc_call *c, json_t **result)
{
    uint8_t hash[CV_HASH_LEN];
    cv_rpc_block b = {0};
    uint32_t index;
    json_t *entry, *proof = NULL;
    int rc = cv_rpc_param_hash(c, "hash", hash);
    if (!rc)
        rc = locate_tx(c, hash, &b, &index);
    if (!rc && (rc = cv_rpc_tx_proof(c->node, &b, index, &proof)))
        rc = cv_rpc_fail_cv(c->err, rc);
    if (!rc) {
        entry = with(tx_entry_json(c->node, &b, index), "raw", cv_rpc_hex(b.blk.txs[index], b.blk.tx_lens[index]));
        rc = give(c, with(entry, "proof", proof), result);
    }
    cv_rpc_block_free(&b);
    return rc;
}

/* ---- blocks ----------------------------------------------------------------- */

/* {height, hash, header, cert, txs}: txs are hashes, or with full the
 * decoded transactions with their receipts. */
static int block_reply(cv_rpc_call *c, uint64_t height, int full, json_t **result)
{
    cv_rpc_block b;
    int rc = cv_rpc_block_load(c->node, height, &b);
    if (!rc)
        rc = cv_rpc_block_tx_hashes(c->node, &b);
    if (rc) {
        cv_rpc_block_free(&b);
        return cv_rpc_fail_cv(c->err, rc);
    }
    json_t *txs = json_array();
    for (uint32_t i = 0; txs && i < b.blk.tx_count; i++)
        if (json_array_append_new(txs, full ? tx_entry_json(c->node, &b, i)
                                            : cv_rpc_hex(b.tx_hashes[i], CV_HASH_LEN))) {
            json_decref(txs);
            txs = NULL;
        }
    json_t *reply = with(with(block_head_json(c->node, &b), "cert", cv_rpc_block_cert(c->node, height)), "txs", txs);
    cv_rpc_block_free(&b);
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
    cv_rpc_block b;
    uint64_t height;
    int rc = chain_height(c, &height);
    if (rc)
        return rc;
    cv_node_get_status(c->node, &st);
    if ((rc = cv_rpc_block_load(c->node, height, &b))) {
        cv_rpc_block_free(&b);
        return cv_rpc_fail_cv(c->err, rc);
    }
    json_t *reply = json_pack(
        "{s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}", "chain_id", cv_rpc_text(chain->chain_id),
        "suite", cv_suite_name(chain->suite), "genesis_hash", cv_rpc_hex(chain->genesis_hash, CV_HASH_LEN), "height",
        cv_rpc_u64(height), "latest_block_hash", cv_rpc_hex(b.hash, CV_HASH_LEN), "latest_block_time_ms",
        cv_rpc_u64(b.blk.header.time_ms), "mempool_size", cv_rpc_u64(st.mempool_size), "mempool_max",
        cv_rpc_u64(st.mempool_max), "peers", cv_rpc_u64(st.peers), "txs_committed", cv_rpc_u64(st.txs_committed),
        "txs_rejected", cv_rpc_u64(st.txs_rejected), "proposer", cv_rpc_text(st.proposer), "version", CV_VERSION);
    cv_rpc_block_free(&b);
    return give(c, reply, result);
}

/* Adds header_raw and cert of block height: the block whose header names a
 * new set as the next and whose certificate, by the set before, binds it. */
static int with_choosing_block(cv_rpc_call *c, uint64_t height, json_t **reply)
{
    cv_rpc_block b;
    cv_buf header = {0};
    int rc = cv_rpc_block_load(c->node, height, &b);
    if (!rc)
        rc = cv_header_encode(&b.blk.header, &header);
    if (!rc) {
        *reply = with(*reply, "header_raw", cv_rpc_hex(header.data, header.len));
        *reply = *reply ? with(*reply, "cert", cv_rpc_block_cert(c->node, height)) : NULL;
    }
    cv_rpc_block_free(&b);
    cv_buf_free(&header);
    if (rc) {
        json_decref(*reply);
        return cv_rpc_fail_cv(c->err, rc);
    }
    return *reply ? CV_OK : out_of_memory(c);
}

static int m_validators(cv_rpc_call *c, json_t **result)
{
    uint64_t tip, height, from;
    int rc = chain_height(c, &tip);
    if (!rc)
        rc = cv_rpc_param_uint(c, "height", 0, tip + 1, UINT64_MAX, &height);
    if (rc)
        return rc;
    cv_valset *vs = malloc(sizeof *vs);
    if (!vs)
        return cv_rpc_fail_cv(c->err, cv_fail(CV_ENOMEM, "out of memory reading validators"));
    rc = cv_node_validators(c->node, height, vs, &from);
    json_t *reply = rc ? NULL : cv_rpc_render_valset(vs);
    free(vs);
    if (rc)
        return cv_rpc_fail_cv(c->err, rc);
    json_object_set_new(reply, "height", cv_rpc_u64(height));
    json_object_set_new(reply, "from_height", cv_rpc_u64(from));
    if (from > 0 && from - 1 <= tip && (rc = with_choosing_block(c, from - 1, &reply)) != CV_OK)
        return rc;
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
    {"validators", m_validators, {"height", NULL}},
    {"trace_submit", cv_rpc_m_trace_submit, {"tx", "document", NULL}},
    {"trace_event", cv_rpc_m_trace_event, {"id", NULL}},
    {"trace_history", cv_rpc_m_trace_history, {"code", "limit", "documents", NULL}},
    {"trace_impact", cv_rpc_m_trace_impact, {"code", "limit", "documents", NULL}},
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
