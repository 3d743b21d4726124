/* exec.c: transaction checks, block execution, queries and genesis (exec.h).
 *
 * Checks, in the order a receipt reports the first failure (docs/LEDGER.md):
 * suite, signature, replay, chain id, size, expiry window, contract and
 * method, arguments, sender account, role; then the method runs. A failure
 * gives the transaction a failed receipt and drops its writes and events.
 * Failures that depend on the node rather than on the transaction (out of
 * memory, store I/O, crypto library) abort the whole block instead, since a
 * receipt recording them could differ between nodes. */
#include <stdlib.h>
#include <string.h>

#include "apps/gov.h"
#include "base/err.h"
#include "crypto/merkle.h"
#include "exec/internal.h"

typedef struct {
    uint64_t tx_max_bytes, tx_window;
} limits;

static int is_fatal(int rc)
{
    return rc == CV_ENOMEM || rc == CV_EIO || rc == CV_ECRYPTO;
}

/* A call that reads committed state and cannot write. */
static cv_call committed_call(const cv_contract *c, const cv_chain *chain,
                              const cv_state_source *src, uint64_t height)
{
    cv_call call;
    memset(&call, 0, sizeof call);
    call.contract = c;
    call.chain = chain;
    call.height = height;
    call.readonly = 1;
    call.src = src;
    return call;
}

int cv_exec_param(const cv_state_source *src, const char *name, uint64_t *value)
{
    cv_call call = committed_call(&cv_gov_contract, NULL, src, 0);
    return cv_gov_param(&call, name, value);
}

int cv_exec_validators(const cv_state_source *src, cv_genesis_validator *out, size_t max, size_t *n)
{
    cv_call call = committed_call(&cv_gov_contract, NULL, src, 0);
    return cv_gov_validators(&call, out, max, n);
}

int cv_exec_changes_validators(const cv_exec_result *r)
{
    uint8_t prefix[CV_FULL_KEY_MAX];
    size_t n = cv_exec_full_key(cv_gov_contract.name, CV_GOV_VALIDATOR_PREFIX, strlen(CV_GOV_VALIDATOR_PREFIX),
                                prefix);
    for (size_t i = 0; i < r->nwrites; i++)
        if (r->writes[i].key_len >= n && memcmp(r->writes[i].key, prefix, n) == 0)
            return 1;
    return 0;
}

/* The parameters the checks use: those committed before the block. */
static int read_limits(const cv_state_source *src, limits *out)
{
    int rc = cv_exec_param(src, "tx_max_bytes", &out->tx_max_bytes);
    return rc ? rc : cv_exec_param(src, "tx_window", &out->tx_window);
}

/* ---- checks ----------------------------------------------------------------------- */

static int check_suite(const cv_chain *chain, const cv_tx *tx)
{
    if (tx->sender.suite != chain->suite)
        return cv_fail(CV_EINVAL, "transaction is signed with suite %s; this chain uses %s",
                       cv_suite_name(tx->sender.suite), cv_suite_name(chain->suite));
    return CV_OK;
}

/* sig_ok: 1 verified, 0 failed, -1 not yet verified. */
static int check_signature(const cv_tx *tx, int sig_ok)
{
    if (sig_ok < 0)
        sig_ok = cv_tx_verify(tx) == CV_OK;
    return sig_ok ? CV_OK : cv_fail(CV_EBADSIG, "the signature does not verify for the sender's key");
}

/* Replay: the replay key is spent in committed state or earlier in this
 * block. Checked after the envelope, so that only keys whose expiry has not
 * passed matter (the node forgets older ones). */
static int check_replay(const cv_state_source *src, const cv_state_map *block_seen, const cv_tx *tx)
{
    char id[17];
    uint8_t key[CV_REPLAY_KEY_LEN];
    cv_hex_encode(tx->body_hash, 8, id);
    if (block_seen && cv_state_map_find(block_seen, tx->body_hash, CV_HASH_LEN))
        return cv_fail(CV_EEXIST, "replay: a transaction with body hash %s... is earlier in this block",
                       id);
    cv_tx_replay_key(tx, key);
    int rc = src->replay_seen(src->ctx, key);
    if (rc == CV_OK)
        return cv_fail(CV_EEXIST, "replay: a transaction with body hash %s... was already committed",
                       id);
    return rc == CV_ENOTFOUND ? CV_OK : rc;
}

/* Chain id, size, and height <= expiry <= height + tx_window. */
static int check_envelope(const cv_chain *chain, const limits *lim, uint64_t height, const cv_tx *tx,
                          size_t tx_len)
{
    if (strcmp(tx->chain_id, chain->chain_id) != 0)
        return cv_fail(CV_EINVAL, "transaction is for chain '%.64s', this is '%s'", tx->chain_id,
                       chain->chain_id);
    if (tx_len > lim->tx_max_bytes)
        return cv_fail(CV_EINVAL, "transaction of %zu bytes exceeds tx_max_bytes = %llu", tx_len,
                       (unsigned long long)lim->tx_max_bytes);
    if (tx->expiry < height)
        return cv_fail(CV_EINVAL, "transaction expired at height %llu (this block is %llu)",
                       (unsigned long long)tx->expiry, (unsigned long long)height);
    if (tx->expiry - height > lim->tx_window)
        return cv_fail(CV_EINVAL, "expiry %llu is more than tx_window = %llu blocks after height %llu",
                       (unsigned long long)tx->expiry, (unsigned long long)lim->tx_window,
                       (unsigned long long)height);
    return CV_OK;
}

static int resolve_method(const cv_tx *tx, const cv_contract **c, const cv_method **m)
{
    if (!(*c = cv_exec_contract(tx->contract)) || !(*m = cv_exec_method(*c, tx->method)))
        return CV_ENOTFOUND;
    if ((*m)->readonly)
        return cv_fail(CV_EINVAL, "%s.%s is a query, not a transaction method", (*c)->name, (*m)->name);
    return CV_OK;
}

/* The sender is a registered account of an existing organisation and holds
 * the method's role; sets call->sender to acct. */
static int check_sender(cv_call *call, const cv_method *m, const cv_tx *tx, cv_account *acct)
{
    uint8_t addr[CV_ADDR_LEN];
    char who[CV_ADDR_STR_MAX];
    int rc = cv_address(&tx->sender, addr);
    if (rc)
        return rc;
    cv_call_address_string(call, addr, who);
    rc = cv_gov_account(call, addr, acct);
    if (rc == CV_ENOTFOUND)
        return cv_fail(CV_EPERM, "sender %s is not a registered account", who);
    if (!rc && (rc = cv_gov_org_active(call, acct->org)) == CV_ENOTFOUND)
        return cv_fail(CV_EPERM, "sender %s belongs to organisation %s, which was removed", who,
                       acct->org);
    if (!rc && m->role && !cv_call_has_role(acct, m->role))
        return cv_fail(CV_EPERM, "%s.%s requires role '%s', which sender %s does not hold",
                       call->contract->name, m->name, m->role, who);
    call->sender = acct;
    return rc;
}

/* Contract, method, arguments and sender: everything after the envelope. */
static int prepare_call(cv_call *call, const cv_tx *tx, const cv_method **m, cv_arg *args,
                        cv_buf *scratch, cv_account *acct)
{
    int rc = resolve_method(tx, &call->contract, m);
    if (!rc)
        rc = cv_exec_args_decode(call->contract, *m, call->chain->suite, tx->args, tx->args_len, args,
                                 scratch);
    return rc ? rc : check_sender(call, *m, tx, acct);
}

int cv_exec_check_tx(const cv_chain *chain, const cv_state_source *src, uint64_t height,
                     const cv_tx *tx, size_t tx_len)
{
    limits lim;
    cv_call call = committed_call(NULL, chain, src, height);
    const cv_method *m;
    cv_arg args[CV_ARGS_MAX];
    cv_account acct;
    cv_buf scratch = {0};
    int rc = read_limits(src, &lim);
    if (!rc)
        rc = check_suite(chain, tx);
    if (!rc)
        rc = check_envelope(chain, &lim, height, tx, tx_len);
    if (!rc)
        rc = check_replay(src, NULL, tx);
    if (!rc)
        rc = prepare_call(&call, tx, &m, args, &scratch, &acct);
    cv_buf_free(&scratch);
    return rc;
}

/* ---- block execution ----------------------------------------------------------------- */

typedef struct {
    const cv_block_ctx *ctx;
    const cv_state_source *src;
    limits lim;
    cv_state state;
    cv_state_map seen;  /* body hashes of this block's transactions */
    cv_receipt receipt; /* reused for every transaction */
    cv_buf scratch;     /* decoded argument strings */
    cv_account sender;
} block_run;

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* The length of tx's signed encoding {1: body, 2: signature}. */
static size_t encoded_len(const cv_tx *tx)
{
    return 1 + varint_len(tx->body_len) + tx->body_len + 1 + varint_len(tx->sig.len) + tx->sig.len;
}

/* Records a transaction's failure in its receipt, or returns a fatal error. */
static int fail_receipt(cv_receipt *r, int rc)
{
    if (is_fatal(rc))
        return rc;
    const char *msg = cv_errmsg();
    size_t i = 0;
    for (; msg[i] && i < CV_ERROR_MAX; i++)
        r->error[i] = msg[i] >= 0x20 && msg[i] < 0x7f ? msg[i] : '?';
    r->error[i] = '\0';
    r->status = (uint64_t)-(int64_t)rc;
    r->nevents = 0;
    return CV_OK;
}

/* Checks and runs one transaction; its outcome is in b->receipt. */
static int execute(block_run *b, const cv_tx *tx, int sig_ok, uint8_t *seen)
{
    const cv_block_ctx *ctx = b->ctx;
    cv_call call = committed_call(NULL, ctx->chain, b->src, ctx->height);
    const cv_method *m;
    cv_arg args[CV_ARGS_MAX];
    call.time_ms = ctx->time_ms;
    call.tx_hash = tx->hash;
    call.readonly = 0;
    call.state = &b->state;
    call.receipt = &b->receipt;
    /* A method failing without a message still gets a deterministic one. */
    cv_fail(CV_OK, "%s", "unexplained failure");
    int rc = check_suite(ctx->chain, tx);
    if (!rc)
        rc = check_signature(tx, sig_ok);
    if (!rc)
        rc = check_envelope(ctx->chain, &b->lim, ctx->height, tx, encoded_len(tx));
    if (!rc)
        rc = check_replay(b->src, &b->seen, tx);
    if (!rc) {
        *seen = 1;
        int err = cv_state_map_set(&b->seen, tx->body_hash, CV_HASH_LEN, (const uint8_t *)"", 0);
        if (err)
            return err;
    }
    if (!rc)
        rc = prepare_call(&call, tx, &m, args, &b->scratch, &b->sender);
    if (!rc)
        rc = m->fn(&call, args);
    json_decref(call.result);
    if (!rc)
        return cv_state_commit_tx(&b->state);
    cv_state_discard_tx(&b->state);
    return fail_receipt(&b->receipt, rc);
}

/* Encodes b->receipt into out and hashes it. */
static int seal_receipt(cv_suite suite, const cv_receipt *r, cv_buf *out, uint8_t hash[CV_HASH_LEN])
{
    int rc = cv_receipt_encode(r, out);
    return rc ? rc : cv_hash(suite, out->data, out->len, hash);
}

static int alloc_result(cv_exec_result *out, size_t n)
{
    memset(out, 0, sizeof *out);
    out->receipts = calloc(n ? n : 1, sizeof *out->receipts);
    out->receipt_hashes = calloc(n ? n : 1, sizeof *out->receipt_hashes);
    out->seen = calloc(n ? n : 1, 1);
    if (!out->receipts || !out->receipt_hashes || !out->seen)
        return cv_fail(CV_ENOMEM, "out of memory for the results of %zu transactions", n);
    out->ntx = n;
    return CV_OK;
}

/* RFC 6962 root with the receipt hashes as entries: leaf i = H(0x00 || hash i).
 * The leaves are hashed with cv_hash, which reuses the thread's context (as
 * cv_merkle_leaf_hash would compute them, 4 to 8 times faster). */
static int receipt_root(cv_suite suite, const cv_exec_result *r, uint8_t root[CV_HASH_LEN])
{
    uint8_t(*leaves)[CV_HASH_LEN] = malloc((r->ntx ? r->ntx : 1) * CV_HASH_LEN);
    uint8_t entry[1 + CV_HASH_LEN] = {0x00};
    int rc = leaves ? CV_OK : cv_fail(CV_ENOMEM, "out of memory for %zu receipt leaves", r->ntx);
    for (size_t i = 0; i < r->ntx && !rc; i++) {
        memcpy(entry + 1, r->receipt_hashes[i], CV_HASH_LEN);
        rc = cv_hash(suite, entry, sizeof entry, leaves[i]);
    }
    if (!rc)
        rc = cv_merkle_root(suite, &leaves[0][0], r->ntx, root);
    free(leaves);
    return rc;
}

/* Receipt root, write set and state root of an executed block. */
static int finish_result(cv_suite suite, const uint8_t prev_root[CV_HASH_LEN], const cv_state *st,
                         cv_exec_result *out)
{
    int rc = receipt_root(suite, out, out->receipt_root);
    if (!rc)
        rc = cv_state_write_set(st, &out->writes, &out->nwrites);
    if (!rc)
        rc = cv_state_root(suite, prev_root, out->writes, out->nwrites, out->state_root);
    return rc;
}

static int begin_block(block_run *b, const cv_block_ctx *ctx, const cv_state_source *src)
{
    memset(b, 0, sizeof *b);
    b->ctx = ctx;
    b->src = src;
    int rc = read_limits(src, &b->lim);
    if (!rc)
        rc = cv_state_init(&b->state, src);
    if (!rc)
        rc = cv_state_map_init(&b->seen);
    return rc;
}

static void end_block(block_run *b)
{
    cv_state_free(&b->state);
    cv_state_map_free(&b->seen);
    cv_receipt_free(&b->receipt);
    cv_buf_free(&b->scratch);
}

static int run_txs(block_run *b, const cv_tx *txs, size_t n, const uint8_t *sig_ok,
                   cv_exec_result *out)
{
    cv_suite suite = b->ctx->chain->suite;
    int rc = CV_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        cv_receipt *r = &b->receipt;
        r->status = 0;
        r->error[0] = '\0';
        r->nevents = 0;
        memcpy(r->tx_hash, txs[i].hash, CV_HASH_LEN);
        rc = execute(b, &txs[i], sig_ok ? sig_ok[i] : -1, &out->seen[i]);
        if (!rc)
            rc = seal_receipt(suite, r, &out->receipts[i], out->receipt_hashes[i]);
        out->failed += r->status != 0;
    }
    return rc;
}

int cv_exec_block(const cv_block_ctx *ctx, const cv_state_source *src, const cv_tx *txs, size_t n,
                  const uint8_t *sig_ok, cv_exec_result *out)
{
    block_run b = {0};
    int rc = alloc_result(out, n);
    if (!rc)
        rc = begin_block(&b, ctx, src);
    if (!rc)
        rc = run_txs(&b, txs, n, sig_ok, out);
    if (!rc)
        rc = finish_result(ctx->chain->suite, ctx->prev_state_root, &b.state, out);
    if (b.ctx)
        end_block(&b);
    if (rc)
        cv_exec_result_free(out);
    return rc;
}

void cv_exec_result_free(cv_exec_result *r)
{
    for (size_t i = 0; r->receipts && i < r->ntx; i++)
        cv_buf_free(&r->receipts[i]);
    free(r->receipts);
    free(r->receipt_hashes);
    free(r->seen);
    free(r->writes);
    memset(r, 0, sizeof *r);
}

/* ---- genesis ------------------------------------------------------------------------------ */

static int empty_get(void *ctx, const uint8_t *key, size_t key_len, cv_buf *value)
{
    return CV_ENOTFOUND;
}

static int empty_replay_seen(void *ctx, const uint8_t key[CV_REPLAY_KEY_LEN])
{
    return CV_ENOTFOUND;
}

static int empty_scan(void *ctx, const uint8_t *prefix, size_t prefix_len, size_t limit,
                      cv_store_scan_fn fn, void *fn_ctx)
{
    return CV_OK;
}

static int write_genesis(const cv_genesis *g, cv_state *st)
{
    static const cv_state_source empty = {empty_get, empty_replay_seen, empty_scan, NULL};
    size_t count;
    const cv_contract *const *contracts = cv_exec_contracts(&count);
    cv_call call = committed_call(NULL, &g->chain, &empty, 0);
    call.time_ms = g->time_ms;
    call.readonly = 0;
    call.state = st;
    int rc = cv_state_init(st, &empty);
    for (size_t i = 0; i < count && !rc; i++) {
        call.contract = contracts[i];
        if (contracts[i]->genesis && !(rc = contracts[i]->genesis(&call, g)))
            rc = cv_state_commit_tx(st);
    }
    return rc;
}

int cv_exec_genesis(const cv_genesis *g, cv_exec_result *out)
{
    static const uint8_t zero_root[CV_HASH_LEN];
    cv_state st;
    memset(&st, 0, sizeof st);
    int rc = alloc_result(out, 0);
    if (!rc)
        rc = write_genesis(g, &st);
    if (!rc)
        rc = finish_result(g->chain.suite, zero_root, &st, out);
    cv_state_free(&st);
    if (rc)
        cv_exec_result_free(out);
    return rc;
}

/* ---- queries ------------------------------------------------------------------------------ */

int cv_exec_query(const cv_chain *chain, const cv_state_source *src, uint64_t height,
                  const char *contract, const char *method, const uint8_t *args, size_t args_len,
                  json_t **result)
{
    const cv_contract *c = cv_exec_contract(contract);
    const cv_method *m = c ? cv_exec_method(c, method) : NULL;
    cv_arg vals[CV_ARGS_MAX];
    cv_buf scratch = {0};
    *result = NULL;
    if (!m)
        return CV_ENOTFOUND;
    if (!m->readonly)
        return cv_fail(CV_EINVAL, "%s.%s is a transaction method, not a query", c->name, m->name);
    cv_call call = committed_call(c, chain, src, height);
    int rc = cv_exec_args_decode(c, m, chain->suite, args, args_len, vals, &scratch);
    if (!rc)
        rc = m->fn(&call, vals);
    cv_buf_free(&scratch);
    if (rc) {
        json_decref(call.result);
        return rc;
    }
    *result = call.result ? call.result : json_null();
    return CV_OK;
}
