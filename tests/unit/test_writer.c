/* test_writer.c: decided blocks stored by the writer thread (node/writer.c).
 * A block committed without waiting for the store is decided at once (its
 * transactions leave the mempool, the next block is built on its state, a
 * late copy of one of its transactions is not proposed again) and stored
 * in order; a node stopped after a decision but before the store commits the
 * decided block from its log when it opens again, and refuses a log that
 * was tampered with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/file.h"
#include "check.h"
#include "consensus/vote.h"
#include "crypto/keyfile.h"
#include "exec/exec.h"
#include "node/internal.h"

#define CHAIN_ID "writer-test"
#define TXS 20

static char home[64] = "/tmp/cv-writer-XXXXXX";
static cv_keypair node_key, admin;

static int write_genesis(void)
{
    size_t nparams;
    const cv_param_info *info = cv_params(&nparams);
    cv_genesis_org org = {"org1", "Organisation 1"};
    cv_genesis_account account = {.pub = admin.pub, .org = "org1"};
    cv_genesis_validator validator = {node_key.pub, "org1", 10};
    cv_param params[16];
    cv_genesis g = {.chain = {.chain_id = CHAIN_ID, .suite = CV_SUITE_STD}, .time_ms = 1700000000000, .norgs = 1,
                    .nvalidators = 1, .naccounts = 1, .nparams = nparams < 16 ? nparams : 16, .orgs = &org,
                    .accounts = &account, .validators = &validator, .params = params};
    for (size_t i = 0; i < g.nparams; i++)
        params[i] = (cv_param){info[i].name, info[i].def};
    strcpy(account.roles[account.nroles++], "notary");
    char path[128];
    snprintf(path, sizeof path, "%s/genesis.json", home);
    return cv_genesis_write(&g, path);
}

static int open_node(cv_node **n)
{
    cv_node_config cfg;
    int rc = cv_node_config_load(home, &cfg);
    return rc ? rc : cv_node_open(&cfg, n);
}

static void run(const char *fmt, const char *a, const char *b)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    CHECK(system(cmd) == 0);
}

/* A signed stamp of doc (random when NULL). */
static void stamp_tx(const uint8_t *doc, cv_buf *raw)
{
    uint8_t hash[CV_HASH_LEN];
    char hex[2 * CV_HASH_LEN + 1];
    cv_buf args = {0};
    cv_tx tx = {0};
    if (doc)
        memcpy(hash, doc, CV_HASH_LEN);
    else
        cv_random(hash, sizeof hash);
    cv_hex_encode(hash, CV_HASH_LEN, hex);
    json_t *j = json_pack("{s:s, s:s}", "hash", hex, "label", "writer test");
    CHECK_OK(cv_exec_args_from_json("notary", "stamp", j, &args));
    json_decref(j);
    strcpy(tx.chain_id, CHAIN_ID);
    strcpy(tx.contract, "notary");
    strcpy(tx.method, "stamp");
    cv_random(&tx.nonce, sizeof tx.nonce);
    tx.expiry = 1000;
    tx.args = args.data;
    tx.args_len = args.len;
    CHECK_OK(cv_tx_sign(&tx, &admin, raw));
    cv_buf_free(&args);
}

/* Admits count transactions; all must be accepted. */
static void submit(cv_node *n, cv_buf *raws, size_t count)
{
    const uint8_t *ptrs[TXS + 2];
    size_t lens[TXS + 2];
    int results[TXS + 2];
    char(*errors)[CV_ERROR_MAX + 1] = malloc(count * sizeof *errors);
    for (size_t i = 0; i < count; i++) {
        ptrs[i] = raws[i].data;
        lens[i] = raws[i].len;
    }
    CHECK_OK(cv_node_submit(n, ptrs, lens, count, results, errors, NULL));
    for (size_t i = 0; i < count; i++)
        CHECK_OK(results[i]);
    free(errors);
}

/* Builds the next block from the mempool, certifies it as the only
 * validator and commits it without waiting for the store. */
static void decide_next(cv_node *n, cv_node_block *b, uint8_t hash[CV_HASH_LEN])
{
    cv_buf cert = {0};
    CHECK_OK(cv_node_build(n, 1000, b));
    memcpy(hash, b->hash, CV_HASH_LEN);
    CHECK_OK(cv_cert_sign_single(CHAIN_ID, &node_key, 0, b->header.height, b->hash, &cert));
    CHECK_OK(cv_node_commit_async(n, b, cert.data, cert.len));
    CHECK(b->encoded.data == NULL); /* taken over */
    cv_buf_free(&cert);
}

static void check_block_hash(cv_node *n, uint64_t height, const uint8_t want[CV_HASH_LEN])
{
    cv_buf raw = {0};
    cv_block blk;
    uint8_t got[CV_HASH_LEN];
    CHECK_OK(cv_store_block(n->store, height, &raw));
    CHECK_OK(cv_block_decode(raw.data, raw.len, CV_BLOCK_TX_HARD_MAX, CV_TX_HARD_MAX, &blk));
    CHECK_OK(cv_header_hash(CV_SUITE_STD, &blk.header, got));
    CHECK(memcmp(got, want, CV_HASH_LEN) == 0);
    cv_block_free(&blk);
    cv_buf_free(&raw);
}

int main(void)
{
    CHECK_OK(cv_crypto_init());
    char path[256], log_path[256], data[256];
    cv_node *n = NULL;
    cv_node_block b;
    cv_buf raws[TXS + 2] = {{0}};
    uint8_t hash1[CV_HASH_LEN], hash2[CV_HASH_LEN], hash3[CV_HASH_LEN], doc[CV_HASH_LEN];
    CHECK(mkdtemp(home) != NULL);
    CHECK_OK(cv_key_generate(CV_SUITE_STD, &node_key));
    CHECK_OK(cv_key_generate(CV_SUITE_STD, &admin));
    snprintf(path, sizeof path, "%s/node.key", home);
    CHECK_OK(cv_keyfile_write(path, &node_key, NULL));
    CHECK_OK(write_genesis());
    CHECK_OK(open_node(&n));
    snprintf(data, sizeof data, "%s/data", home);
    cv_node_data_path(n, CV_NODE_DECIDED_LOG, log_path, sizeof log_path);
    CHECK(strncmp(log_path, data, strlen(data)) == 0);
    CHECK_OK(cv_node_writer_start(n));

    /* Block 1: decided at once, stored in the background. */
    cv_random(doc, sizeof doc);
    stamp_tx(doc, &raws[0]);
    for (size_t i = 1; i < TXS; i++)
        stamp_tx(NULL, &raws[i]);
    submit(n, raws, TXS);
    decide_next(n, &b, hash1);
    CHECK(n->decided.height == 1 && memcmp(n->decided.hash, hash1, CV_HASH_LEN) == 0);
    CHECK(cv_mempool_size(n->mempool) == 0);

    /* Block 2 on block 1's state: a second stamp of doc fails ("the first
     * stamp stands"), and a late copy of a block-1 transaction that reached
     * the mempool is dropped, not proposed again. */
    stamp_tx(doc, &raws[TXS]);
    submit(n, &raws[TXS], 1);
    cv_tx late;
    CHECK_OK(cv_tx_decode(raws[1].data, raws[1].len, CV_TX_HARD_MAX, &late));
    CHECK_OK(cv_mempool_add(n->mempool, raws[1].data, raws[1].len, &late));
    CHECK_OK(cv_node_build(n, 1000, &b));
    CHECK(b.header.height == 2 && b.ntx == 1);
    CHECK(b.result.receipts != NULL && b.result.failed == 1);
    CHECK(cv_mempool_size(n->mempool) == 1); /* the late copy left; the new stamp waits */
    cv_node_block_free(&b);
    decide_next(n, &b, hash2);
    CHECK_OK(cv_node_flush(n));
    CHECK(cv_node_stored_height(n) == 2);
    check_block_hash(n, 1, hash1);
    check_block_hash(n, 2, hash2);

    /* The store as it is now, to play a node stopped before storing block 3. */
    cv_node_data_path(n, "data.mdb", path, sizeof path);
    run("cp '%s' '%s.at2'", path, path);
    stamp_tx(NULL, &raws[TXS + 1]);
    submit(n, &raws[TXS + 1], 1);
    decide_next(n, &b, hash3);
    CHECK_OK(cv_node_flush(n));
    cv_node_close(n);
    run("cp '%s.at2' '%s'", path, path);

    /* Reopened: block 3, decided but not stored, is stored from the log. */
    CHECK_OK(open_node(&n));
    CHECK(cv_node_stored_height(n) == 3 && n->decided.height == 3);
    check_block_hash(n, 3, hash3);
    cv_node_close(n);

    /* Reopened with the block already stored: the log changes nothing. */
    CHECK_OK(open_node(&n));
    CHECK(cv_node_stored_height(n) == 3);
    cv_node_close(n);

    /* A tampered log (its last certificate byte changed) is refused, naming
     * the log. */
    cv_buf logged = {0};
    CHECK_OK(cv_file_read(log_path, 1 << 24, &logged));
    logged.data[logged.len - 1] ^= 1;
    CHECK_OK(cv_file_write(log_path, logged.data, logged.len, 0600, 0));
    run("cp '%s.at2' '%s'", path, path);
    CHECK(open_node(&n) != CV_OK);
    CHECK(strstr(cv_errmsg(), CV_NODE_DECIDED_LOG) != NULL);
    CHECK(strstr(cv_errmsg(), "certificate") != NULL);
    cv_buf_free(&logged);

    for (size_t i = 0; i < TXS + 2; i++)
        cv_buf_free(&raws[i]);
    run("rm -rf '%s'%s", home, "");
    cv_key_wipe(&node_key);
    cv_key_wipe(&admin);
    cv_crypto_cleanup();
    return check_done();
}
