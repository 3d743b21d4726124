/* exec_fixture.h: a small chain for the execution tests (test_exec.c,
 * test_gov.c, test_notary.c): a genesis of N organisations built in C,
 * committed state in memory (exec/memstate.h), deterministic keys, real
 * signed transactions, and blocks executed and committed in order.
 *
 * Keys: admin[i] is the admin of organisation "org<i+1>"; notary (role
 * notary) and plain (no roles) belong to org1; stranger is not registered. */
#ifndef CV_TESTS_EXEC_FIXTURE_H
#define CV_TESTS_EXEC_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "exec/exec.h"
#include "exec/memstate.h"

#define FX_ORGS_MAX 8
#define FX_TIME0 1700000000000ull

typedef struct {
    cv_genesis g;
    cv_state_mem *mem;
    cv_state_source src;
    uint64_t height; /* last committed */
    uint8_t root[CV_HASH_LEN];
    uint64_t nonce;
    size_t norgs;
    cv_keypair admin[FX_ORGS_MAX], notary, plain, stranger;
    cv_buf **bufs; /* signed transactions, owned */
    size_t nbufs;
} fx_chain;

static inline cv_keypair fx_key(cv_suite suite, uint8_t index)
{
    uint8_t secret[CV_SECRET_LEN] = {0x11};
    cv_keypair k;
    secret[30] = (uint8_t)suite;
    secret[31] = index;
    CHECK_OK(cv_key_from_secret(suite, secret, &k));
    return k;
}

static inline void fx_account(cv_genesis_account *a, const cv_keypair *k, const char *org,
                              const char *role)
{
    a->pub = k->pub;
    snprintf(a->org, sizeof a->org, "%s", org);
    if (role)
        snprintf(a->roles[a->nroles++], sizeof a->roles[0], "%s", role);
}

/* Builds the genesis document of norgs organisations (not yet executed). */
static inline void fx_setup(fx_chain *f, cv_suite suite, size_t norgs)
{
    size_t nparams;
    const cv_param_info *info = cv_params(&nparams);
    memset(f, 0, sizeof *f);
    f->norgs = norgs;
    snprintf(f->g.chain.chain_id, sizeof f->g.chain.chain_id, "test-chain");
    f->g.chain.suite = suite;
    f->g.time_ms = FX_TIME0;
    f->g.orgs = calloc(norgs, sizeof *f->g.orgs);
    f->g.accounts = calloc(norgs + 2, sizeof *f->g.accounts);
    f->g.validators = calloc(1, sizeof *f->g.validators);
    f->g.params = calloc(nparams, sizeof *f->g.params);
    for (size_t i = 0; i < norgs; i++) {
        snprintf(f->g.orgs[i].id, sizeof f->g.orgs[i].id, "org%zu", i + 1);
        snprintf(f->g.orgs[i].name, sizeof f->g.orgs[i].name, "Organisation %zu", i + 1);
        f->admin[i] = fx_key(suite, (uint8_t)(i + 1));
        fx_account(&f->g.accounts[i], &f->admin[i], f->g.orgs[i].id, "admin");
    }
    f->notary = fx_key(suite, 100);
    f->plain = fx_key(suite, 101);
    f->stranger = fx_key(suite, 102);
    fx_account(&f->g.accounts[norgs], &f->notary, "org1", "notary");
    fx_account(&f->g.accounts[norgs + 1], &f->plain, "org1", NULL);
    f->g.norgs = norgs;
    f->g.naccounts = norgs + 2;
    f->g.validators[0] = (cv_genesis_validator){f->admin[0].pub, "org1", 10};
    f->g.nvalidators = 1;
    for (size_t i = 0; i < nparams; i++)
        f->g.params[i] = (cv_param){info[i].name, info[i].def};
    f->g.nparams = nparams;
}

static inline void fx_set_param(fx_chain *f, const char *name, uint64_t value)
{
    for (size_t i = 0; i < f->g.nparams; i++)
        if (strcmp(f->g.params[i].name, name) == 0)
            f->g.params[i].value = value;
}

/* Executes and commits the genesis. */
static inline void fx_start(fx_chain *f)
{
    cv_exec_result r;
    CHECK_OK(cv_state_mem_new(&f->mem));
    f->src = cv_state_mem_source(f->mem);
    CHECK_OK(cv_exec_genesis(&f->g, &r));
    CHECK_OK(cv_state_mem_commit(f->mem, &r, NULL));
    memcpy(f->root, r.state_root, CV_HASH_LEN);
    cv_exec_result_free(&r);
}

static inline void fx_init(fx_chain *f, cv_suite suite, size_t norgs)
{
    fx_setup(f, suite, norgs);
    fx_start(f);
}

static inline void fx_free(fx_chain *f)
{
    for (size_t i = 0; i < f->nbufs; i++) {
        cv_buf_free(f->bufs[i]);
        free(f->bufs[i]);
    }
    free(f->bufs);
    for (size_t i = 0; i < f->norgs; i++)
        cv_key_wipe(&f->admin[i]);
    cv_key_wipe(&f->notary);
    cv_key_wipe(&f->plain);
    cv_key_wipe(&f->stranger);
    cv_state_mem_free(f->mem);
    cv_genesis_free(&f->g);
}

/* A buffer that lives as long as the fixture. */
static inline cv_buf *fx_buf(fx_chain *f)
{
    f->bufs = realloc(f->bufs, (f->nbufs + 1) * sizeof *f->bufs);
    f->bufs[f->nbufs] = calloc(1, sizeof(cv_buf));
    return f->bufs[f->nbufs++];
}

/* A transaction with every field given; args are encoded arguments. */
static inline cv_tx fx_tx_raw(fx_chain *f, const cv_keypair *key, const char *chain_id, uint64_t expiry,
                              const char *contract, const char *method, const uint8_t *args, size_t len)
{
    cv_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", chain_id);
    snprintf(tx.contract, sizeof tx.contract, "%s", contract);
    snprintf(tx.method, sizeof tx.method, "%s", method);
    tx.nonce = ++f->nonce;
    tx.expiry = expiry;
    tx.args = args;
    tx.args_len = len;
    CHECK_OK(cv_tx_sign(&tx, key, fx_buf(f)));
    return tx;
}

/* Encodes JSON arguments for contract.method (CHECKs that they encode). */
static inline void fx_args(const char *contract, const char *method, const char *json_args, cv_buf *out)
{
    json_error_t jerr;
    json_t *args = json_loads(json_args, 0, &jerr);
    CHECK(args != NULL);
    CHECK_OK(cv_exec_args_from_json(contract, method, args, out));
    json_decref(args);
}

/* A transaction valid for the next block only. */
static inline cv_tx fx_tx(fx_chain *f, const cv_keypair *key, const char *contract, const char *method,
                          const char *json_args)
{
    cv_buf args = {0};
    fx_args(contract, method, json_args, &args);
    cv_tx tx = fx_tx_raw(f, key, f->g.chain.chain_id, f->height + 1, contract, method, args.data,
                         args.len);
    cv_buf_free(&args);
    return tx;
}

static inline cv_block_ctx fx_ctx(const fx_chain *f)
{
    cv_block_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.chain = &f->g.chain;
    ctx.height = f->height + 1;
    ctx.time_ms = FX_TIME0 + 1000 * ctx.height;
    memcpy(ctx.prev_state_root, f->root, CV_HASH_LEN);
    return ctx;
}

/* Executes txs as the next block without committing it. */
static inline void fx_exec(fx_chain *f, const cv_tx *txs, size_t n, const uint8_t *sig_ok,
                           cv_exec_result *r)
{
    cv_block_ctx ctx = fx_ctx(f);
    CHECK_OK(cv_exec_block(&ctx, &f->src, txs, n, sig_ok, r));
}

static inline void fx_commit(fx_chain *f, const cv_tx *txs, const cv_exec_result *r)
{
    CHECK_OK(cv_state_mem_commit(f->mem, r, txs));
    memcpy(f->root, r->state_root, CV_HASH_LEN);
    f->height++;
}

/* Executes and commits the next block (signatures verified by exec). */
static inline void fx_block(fx_chain *f, const cv_tx *txs, size_t n, cv_exec_result *r)
{
    fx_exec(f, txs, n, NULL, r);
    fx_commit(f, txs, r);
}

/* Executes and commits a block of one transaction and returns its status
 * (0 or a cv_err), copying its error message to cv_fail's message. */
static inline int fx_run(fx_chain *f, cv_tx tx)
{
    cv_exec_result r;
    cv_receipt rec;
    fx_block(f, &tx, 1, &r);
    CHECK_OK(cv_receipt_decode(r.receipts[0].data, r.receipts[0].len, &rec));
    int status = -(int)rec.status;
    cv_fail(status, "%s", rec.error);
    cv_receipt_free(&rec);
    cv_exec_result_free(&r);
    return status;
}

/* Whether receipt i has status -code and an error containing text; prints
 * the receipt when not. */
static inline int fx_receipt_is(const cv_exec_result *r, size_t i, int code, const char *text)
{
    cv_receipt rec;
    if (cv_receipt_decode(r->receipts[i].data, r->receipts[i].len, &rec) != CV_OK)
        return 0;
    int ok = rec.status == (uint64_t)-(int64_t)code && strstr(rec.error, text) != NULL;
    if (!ok)
        fprintf(stderr, "receipt %zu: status %llu, error \"%s\"; expected %d with \"%s\"\n", i,
                (unsigned long long)rec.status, rec.error, -code, text);
    cv_receipt_free(&rec);
    return ok;
}

#define FX_EXPECT(r, i, code, text) CHECK(fx_receipt_is((r), (i), (code), (text)))

/* Runs a query with JSON arguments; the result (or NULL) is the caller's. */
static inline json_t *fx_query(fx_chain *f, const char *contract, const char *method,
                               const char *json_args, int expect)
{
    cv_buf args = {0};
    json_t *out = NULL;
    fx_args(contract, method, json_args, &args);
    CHECK_ERR(cv_exec_query(&f->g.chain, &f->src, f->height + 1, contract, method, args.data, args.len,
                            &out),
              expect);
    cv_buf_free(&args);
    return out;
}

/* An address as "suite:hex". */
static inline void fx_addr(const cv_keypair *k, char out[CV_ADDR_STR_MAX])
{
    CHECK_OK(cv_address_string(&k->pub, out));
}

/* The hex of a public key. */
static inline void fx_pub_hex(const cv_keypair *k, char out[2 * CV_PUB_MAX + 1])
{
    cv_hex_encode(k->pub.bytes, k->pub.len, out);
}

#endif
