/* test_rpc.c: the JSON-RPC server against a real node in a temporary home.
 *
 * Every method's success path (a notary stamp sent, waited for, fetched
 * with an inclusion proof that verifies against its header, found in its
 * block, queried), bad input for every method (each checked for its error
 * code and for a message naming the problem), refused transactions (bad
 * encoding, bad signature, wrong chain, replay, expired, unknown contract or
 * method, missing role) singly and in a batch, the JSON-RPC envelope
 * (parse errors, invalid requests, notifications, batches mixing good and
 * bad), and real HTTP requests: POST, wrong content type, oversized bodies
 * (by Content-Length and chunked), /health, unknown paths and /events. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "base/file.h"
#include "check.h"
#include "codec/codec.h"
#include "consensus/vote.h"
#include "crypto/keyfile.h"
#include "crypto/merkle.h"
#include "exec/exec.h"
#include "ledger/block.h"
#include "node/node.h"
#include "rpc/rpc.h"

#define CHAIN_ID "rpc-test"
#define MAX_BODY (1u << 20)

static cv_node *node;
static cv_keypair node_key, admin, reader; /* admin: roles admin and notary; reader: no role */
static char home[64] = "/tmp/cv-rpc-XXXXXX";

/* ---- a node in a temporary home ------------------------------------------- */

static void add_account(cv_genesis *g, const cv_keypair *k, const char *role)
{
    cv_genesis_account *a = &g->accounts[g->naccounts++];
    a->pub = k->pub;
    strcpy(a->org, "org1");
    if (role)
        strcpy(a->roles[a->nroles++], role);
}

static int write_genesis(void)
{
    size_t nparams;
    const cv_param_info *info = cv_params(&nparams);
    cv_genesis_org org = {"org1", "Organisation 1"};
    cv_genesis_account accounts[2] = {0};
    cv_genesis_validator validator = {node_key.pub, "org1", 10};
    cv_param params[16];
    cv_genesis g = {.chain = {.chain_id = CHAIN_ID, .suite = CV_SUITE_STD}, .time_ms = 1700000000000, .norgs = 1, .nvalidators = 1,
                    .nparams = nparams, .orgs = &org, .accounts = accounts, .validators = &validator,
                    .params = params};
    for (size_t i = 0; i < nparams && i < 16; i++)
        params[i] = (cv_param){info[i].name, info[i].def};
    add_account(&g, &admin, "notary");
    strcpy(accounts[0].roles[accounts[0].nroles++], "admin");
    add_account(&g, &reader, NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/genesis.json", home);
    return cv_genesis_write(&g, path);
}

static int open_node(void)
{
    char path[128];
    cv_node_config cfg;
    int rc = mkdtemp(home) ? CV_OK : cv_fail(CV_EIO, "mkdtemp failed");
    if (!rc && !(rc = cv_key_generate(CV_SUITE_STD, &node_key)) && !(rc = cv_key_generate(CV_SUITE_STD, &admin)))
        rc = cv_key_generate(CV_SUITE_STD, &reader);
    snprintf(path, sizeof path, "%s/node.key", home);
    if (!rc && !(rc = cv_keyfile_write(path, &node_key, NULL)) && !(rc = write_genesis()))
        rc = cv_node_config_load(home, &cfg);
    if (rc)
        return rc;
    cfg.rpc_max_body = MAX_BODY;
    cfg.rpc_threads = 8;
    rc = cv_node_open(&cfg, &node);
    return rc ? rc : cv_node_start(node);
}

static void remove_home(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", home);
}

/* ---- transactions ---------------------------------------------------------- */

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char *text = malloc(2 * n + 1);
    cv_hex_encode(p, n, text);
    json_t *v = json_string(text);
    free(text);
    return v;
}

static char *hex_text(const uint8_t *p, size_t n)
{
    char *text = malloc(2 * n + 1);
    cv_hex_encode(p, n, text);
    return text;
}

typedef struct {
    const cv_keypair *key;
    const char *chain_id, *contract, *method;
    uint64_t expiry;
} tx_spec;

/* Signs spec with args (stolen; encoded empty when the method is unknown). */
static void make_tx(tx_spec spec, json_t *args, cv_buf *raw, uint8_t hash[CV_HASH_LEN])
{
    cv_buf enc = {0};
    cv_tx tx = {0};
    if (cv_exec_args_from_json(spec.contract, spec.method, args, &enc) != CV_OK)
        cv_buf_reset(&enc);
    json_decref(args);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", spec.chain_id);
    snprintf(tx.contract, sizeof tx.contract, "%s", spec.contract);
    snprintf(tx.method, sizeof tx.method, "%s", spec.method);
    cv_random(&tx.nonce, sizeof tx.nonce);
    tx.expiry = spec.expiry;
    tx.args = enc.data;
    tx.args_len = enc.len;
    CHECK_OK(cv_tx_sign(&tx, spec.key, raw));
    if (hash)
        memcpy(hash, tx.hash, CV_HASH_LEN);
    cv_buf_free(&enc);
}

static json_t *stamp_args(const uint8_t file_hash[CV_HASH_LEN])
{
    return json_pack("{s:o, s:s}", "hash", hex_json(file_hash, CV_HASH_LEN), "label", "rpc test");
}

/* A notary stamp of a random hash (its hash in file_hash if given). */
static void stamp_tx(tx_spec spec, cv_buf *raw, uint8_t hash[CV_HASH_LEN], uint8_t file_hash[CV_HASH_LEN])
{
    uint8_t fh[CV_HASH_LEN];
    cv_random(fh, sizeof fh);
    if (file_hash)
        memcpy(file_hash, fh, CV_HASH_LEN);
    make_tx(spec, stamp_args(fh), raw, hash);
}

static uint64_t chain_height(void)
{
    uint64_t h = 0;
    cv_store_height(cv_node_store(node), &h);
    return h;
}

static tx_spec good_spec(void)
{
    return (tx_spec){&admin, CHAIN_ID, "notary", "stamp", chain_height() + 100};
}

/* ---- calling the dispatcher ----------------------------------------------- */

/* The reply to text, parsed; NULL when there is none. */
static json_t *handle(const char *text)
{
    cv_buf out = {0};
    CHECK_OK(cv_rpc_handle(node, text, strlen(text), &out));
    json_t *reply = NULL;
    if (out.len) {
        json_error_t je;
        reply = json_loadb((const char *)out.data, out.len, 0, &je);
        CHECK(reply != NULL);
    }
    cv_buf_free(&out);
    return reply;
}

/* The reply to {"jsonrpc":"2.0","id":7,"method":method,"params":params}; steals params. */
static json_t *request(const char *method, json_t *params)
{
    json_t *req = json_pack("{s:s, s:i, s:s}", "jsonrpc", "2.0", "id", 7, "method", method);
    if (params)
        json_object_set_new(req, "params", params);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    json_t *reply = handle(text);
    free(text);
    return reply;
}

/* The result of a call that must succeed (a new reference). */
static json_t *result_of(const char *method, json_t *params)
{
    json_t *reply = request(method, params);
    json_t *result = json_incref(json_object_get(reply, "result"));
    if (!result)
        fprintf(stderr, "%s failed: %s\n", method,
                json_string_value(json_object_get(json_object_get(reply, "error"), "message")));
    CHECK(result != NULL);
    CHECK(json_integer_value(json_object_get(reply, "id")) == 7);
    json_decref(reply);
    return result;
}

/* Checks that error (a JSON-RPC error object) has code and a message containing text. */
static void check_error_object(const json_t *error, int code, const char *text, const char *what, int line)
{
    int got = (int)json_integer_value(json_object_get(error, "code"));
    const char *msg = json_string_value(json_object_get(error, "message"));
    check_count++;
    if (got != code || !msg || !strstr(msg, text)) {
        check_failures++;
        fprintf(stderr, "%s:%d: %s: expected error %d with \"%s\", got %d \"%s\"\n", __FILE__, line, what, code,
                text, got, msg ? msg : "(none)");
    }
}

static void expect_error_at(const char *method, json_t *params, int code, const char *text, int line)
{
    json_t *reply = request(method, params);
    check_error_object(json_object_get(reply, "error"), code, text, method, line);
    json_decref(reply);
}
#define EXPECT_ERROR(method, params, code, text) expect_error_at(method, params, code, text, __LINE__)

/* Same for a raw body whose single reply must be an error. */
static void expect_body_error_at(const char *body, int code, const char *text, int line)
{
    json_t *reply = handle(body);
    check_error_object(json_object_get(reply, "error"), code, text, "body", line);
    CHECK(json_is_object(reply) && json_object_get(reply, "result") == NULL);
    json_decref(reply);
}
#define EXPECT_BODY_ERROR(body, code, text) expect_body_error_at(body, code, text, __LINE__)

#define APP(e) (CV_RPC_APP_ERROR + (e))

static json_t *send_params(const cv_buf *raw)
{
    return json_pack("{s:o}", "tx", hex_json(raw->data, raw->len));
}

/* ---- the success path ------------------------------------------------------- */

static void test_status_and_describe(void)
{
    json_t *st = result_of("status", NULL);
    CHECK(strcmp(json_string_value(json_object_get(st, "chain_id")), CHAIN_ID) == 0);
    CHECK(strcmp(json_string_value(json_object_get(st, "suite")), "std") == 0);
    CHECK(json_string_length(json_object_get(st, "genesis_hash")) == 2 * CV_HASH_LEN);
    CHECK(json_string_length(json_object_get(st, "latest_block_hash")) == 2 * CV_HASH_LEN);
    CHECK(json_is_integer(json_object_get(st, "height")));
    CHECK(json_integer_value(json_object_get(st, "mempool_max")) > 0);
    CHECK(json_is_integer(json_object_get(st, "peers")));
    CHECK(json_is_string(json_object_get(st, "version")));
    json_decref(st);

    json_t *d = result_of("describe", json_object());
    CHECK(json_is_array(d) && json_array_size(d) >= 2);
    json_decref(d);

    /* The genesis validator: the set of the next block, in every header. */
    json_t *v = result_of("validators", NULL), *latest = result_of("block_latest", NULL);
    json_t *header = json_object_get(latest, "header");
    CHECK(json_integer_value(json_object_get(v, "from_height")) == 0);
    CHECK(json_integer_value(json_object_get(v, "total_power")) >= 1);
    CHECK(json_array_size(json_object_get(v, "validators")) == 1);
    CHECK(json_equal(json_object_get(v, "hash"), json_object_get(header, "validators_hash")));
    CHECK(json_equal(json_object_get(v, "hash"), json_object_get(header, "next_validators_hash")));
    json_decref(v);
    json_decref(latest);
}

/* Checks a tx_get proof with nothing but the header it carries. */
static void check_proof(const json_t *proof, const uint8_t tx_hash[CV_HASH_LEN])
{
    const json_t *header = json_object_get(proof, "header"), *path = json_object_get(proof, "path");
    uint8_t leaf[CV_HASH_LEN], root[CV_HASH_LEN], hashes[CV_MERKLE_MAX_DEPTH * CV_HASH_LEN];
    size_t count = json_array_size(path);
    CHECK(count <= CV_MERKLE_MAX_DEPTH);
    for (size_t i = 0; i < count && i < CV_MERKLE_MAX_DEPTH; i++)
        CHECK_OK(cv_hex_decode(json_string_value(json_array_get(path, i)), hashes + i * CV_HASH_LEN, CV_HASH_LEN));
    CHECK_OK(cv_hex_decode(json_string_value(json_object_get(header, "tx_root")), root, CV_HASH_LEN));
    CHECK_OK(cv_merkle_leaf_hash(CV_SUITE_STD, tx_hash, CV_HASH_LEN, leaf));
    char *leaf_hex = hex_text(leaf, CV_HASH_LEN);
    CHECK(strcmp(json_string_value(json_object_get(proof, "leaf_hash")), leaf_hex) == 0);
    free(leaf_hex);
    uint64_t index = (uint64_t)json_integer_value(json_object_get(proof, "index"));
    uint64_t n = (uint64_t)json_integer_value(json_object_get(proof, "tx_count"));
    CHECK_OK(cv_merkle_verify(CV_SUITE_STD, leaf, index, n, hashes, count, root));
    if (count > 0) { /* a path altered anywhere no longer leads to the root */
        hashes[0] ^= 1;
        CHECK_ERR(cv_merkle_verify(CV_SUITE_STD, leaf, index, n, hashes, count, root), CV_EBADSIG);
    }
}

/* The block hash a header (as rendered) hashes to, recomputed here. */
static void check_header_hash(const json_t *header, const char *block_hash)
{
    cv_header h = {0};
    cv_suite suite;
    snprintf(h.chain_id, sizeof h.chain_id, "%s", json_string_value(json_object_get(header, "chain_id")));
    h.height = (uint64_t)json_integer_value(json_object_get(header, "height"));
    h.time_ms = (uint64_t)json_integer_value(json_object_get(header, "time_ms"));
    h.tx_count = (uint64_t)json_integer_value(json_object_get(header, "tx_count"));
    struct { const char *name; uint8_t *out; } fields[] = {
        {"prev_hash", h.prev_hash}, {"tx_root", h.tx_root}, {"receipt_root", h.receipt_root},
        {"state_root", h.state_root}, {"validators_hash", h.validators_hash},
        {"next_validators_hash", h.next_validators_hash}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        CHECK_OK(cv_hex_decode(json_string_value(json_object_get(header, fields[i].name)), fields[i].out,
                               CV_HASH_LEN));
    CHECK_OK(cv_address_parse(json_string_value(json_object_get(header, "proposer")), &suite, h.proposer));
    uint8_t hash[CV_HASH_LEN];
    CHECK_OK(cv_header_hash(CV_SUITE_STD, &h, hash));
    char *hex = hex_text(hash, CV_HASH_LEN);
    CHECK(block_hash && strcmp(hex, block_hash) == 0);
    free(hex);
}

/* The proof's header bytes hash to its block hash and decode to its
 * header; its receipt is the transaction's, ok, and its path leads to the
 * receipt root; its certificate is the validator's, for that block. */
static void check_receipt_proof(const json_t *proof, const uint8_t tx_hash[CV_HASH_LEN])
{
    cv_buf header_raw = {0}, receipt_raw = {0}, cert = {0};
    cv_header h;
    cv_receipt r;
    uint8_t block_hash[CV_HASH_LEN], want[CV_HASH_LEN], leaf[CV_HASH_LEN], hashes[CV_MERKLE_MAX_DEPTH * CV_HASH_LEN];
    const json_t *path = json_object_get(proof, "receipt_path");
    size_t count = json_array_size(path);
    CHECK_OK(cv_hex_decode_buf(json_string_value(json_object_get(proof, "header_raw")), &header_raw));
    CHECK_OK(cv_hash(CV_SUITE_STD, header_raw.data, header_raw.len, block_hash));
    CHECK_OK(cv_hex_decode(json_string_value(json_object_get(proof, "block_hash")), want, CV_HASH_LEN));
    CHECK(memcmp(block_hash, want, CV_HASH_LEN) == 0);
    CHECK_OK(cv_header_decode(header_raw.data, header_raw.len, &h));
    CHECK_OK(cv_hex_decode_buf(json_string_value(json_object_get(proof, "receipt_raw")), &receipt_raw));
    CHECK_OK(cv_receipt_decode(receipt_raw.data, receipt_raw.len, &r));
    CHECK(memcmp(r.tx_hash, tx_hash, CV_HASH_LEN) == 0 && r.status == 0);
    cv_receipt_free(&r);
    CHECK(count <= CV_MERKLE_MAX_DEPTH);
    for (size_t i = 0; i < count && i < CV_MERKLE_MAX_DEPTH; i++)
        CHECK_OK(cv_hex_decode(json_string_value(json_array_get(path, i)), hashes + i * CV_HASH_LEN, CV_HASH_LEN));
    CHECK_OK(cv_hash(CV_SUITE_STD, receipt_raw.data, receipt_raw.len, want));
    CHECK_OK(cv_merkle_leaf_hash(CV_SUITE_STD, want, CV_HASH_LEN, leaf));
    CHECK_OK(cv_merkle_verify(CV_SUITE_STD, leaf, (uint64_t)json_integer_value(json_object_get(proof, "index")),
                              h.tx_count, hashes, count, h.receipt_root));
    /* A solo chain certifies its blocks too: one precommit of its validator. */
    cv_valset_entry e = {node_key.pub, 10};
    cv_valset *vs = malloc(sizeof *vs);
    CHECK_OK(cv_valset_init(vs, CV_SUITE_STD, &e, 1));
    CHECK_OK(cv_hex_decode_buf(json_string_value(json_object_get(proof, "cert")), &cert));
    CHECK_OK(cv_cert_verify(CV_SUITE_STD, CHAIN_ID, vs, h.height, block_hash, cert.data, cert.len));
    free(vs);
    cv_buf_free(&header_raw);
    cv_buf_free(&receipt_raw);
    cv_buf_free(&cert);
}

/* genesis: the node's genesis file, which hashes to the genesis hash. */
static void test_genesis(void)
{
    json_t *g = result_of("genesis", NULL), *st = result_of("status", NULL);
    const char *text = json_string_value(json_object_get(g, "genesis"));
    cv_genesis parsed;
    char *hex = NULL;
    CHECK(text != NULL);
    CHECK_OK(cv_genesis_parse(text ? text : "", text ? strlen(text) : 0, &parsed));
    hex = hex_text(parsed.chain.genesis_hash, CV_HASH_LEN);
    CHECK(strcmp(hex, json_string_value(json_object_get(g, "genesis_hash"))) == 0);
    CHECK(strcmp(hex, json_string_value(json_object_get(st, "genesis_hash"))) == 0);
    CHECK(strcmp(parsed.chain.chain_id, CHAIN_ID) == 0);
    free(hex);
    cv_genesis_free(&parsed);
    json_decref(g);
    json_decref(st);
}

static void test_send_and_read(void)
{
    cv_buf raw = {0};
    uint8_t hash[CV_HASH_LEN], file_hash[CV_HASH_LEN];
    stamp_tx(good_spec(), &raw, hash, file_hash);
    char *hash_hex = hex_text(hash, CV_HASH_LEN), *raw_hex = hex_text(raw.data, raw.len);

    json_t *sent = result_of("tx_send", send_params(&raw));
    CHECK(strcmp(json_string_value(json_object_get(sent, "hash")), hash_hex) == 0);
    json_decref(sent);

    json_t *waited = result_of("tx_wait", json_pack("{s:s, s:i}", "hash", hash_hex, "timeout_ms", 20000));
    json_int_t height = json_integer_value(json_object_get(waited, "height"));
    CHECK(height >= 1);
    CHECK(json_is_true(json_object_get(json_object_get(waited, "receipt"), "ok")));
    json_decref(waited);

    /* tx_get: the transaction decoded, its receipt and a proof that verifies. */
    json_t *got = result_of("tx_get", json_pack("{s:s}", "hash", hash_hex));
    const json_t *tx = json_object_get(got, "tx"), *proof = json_object_get(got, "proof");
    CHECK(json_integer_value(json_object_get(got, "height")) == height);
    CHECK(strcmp(json_string_value(json_object_get(got, "raw")), raw_hex) == 0);
    CHECK(strcmp(json_string_value(json_object_get(tx, "contract")), "notary") == 0);
    CHECK(strcmp(json_string_value(json_object_get(tx, "chain_id")), CHAIN_ID) == 0);
    CHECK(json_is_string(json_object_get(tx, "nonce")));
    char addr[CV_ADDR_STR_MAX];
    cv_address_string(&admin.pub, addr);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(tx, "sender"), "address")), addr) == 0);
    char *fh_hex = hex_text(file_hash, CV_HASH_LEN);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(tx, "args"), "hash")), fh_hex) == 0);
    CHECK(json_is_true(json_object_get(json_object_get(got, "receipt"), "ok")));
    check_proof(proof, hash);
    check_receipt_proof(proof, hash);
    check_header_hash(json_object_get(proof, "header"), json_string_value(json_object_get(proof, "block_hash")));

    /* block_get by height and by hash agree with the proof; full decodes. */
    json_t *blk = result_of("block_get", json_pack("{s:I}", "height", height));
    const char *block_hash = json_string_value(json_object_get(blk, "hash"));
    CHECK(block_hash && strcmp(block_hash, json_string_value(json_object_get(proof, "block_hash"))) == 0);
    int listed = 0;
    for (size_t i = 0; i < json_array_size(json_object_get(blk, "txs")); i++)
        listed |= strcmp(json_string_value(json_array_get(json_object_get(blk, "txs"), i)), hash_hex) == 0;
    CHECK(listed);
    json_t *by_hash = result_of("block_get", json_pack("{s:s, s:b}", "hash", block_hash, "full", 1));
    CHECK(json_integer_value(json_object_get(by_hash, "height")) == height);
    json_t *entry = json_array_get(json_object_get(by_hash, "txs"), (size_t)json_integer_value(json_object_get(proof, "index")));
    CHECK(strcmp(json_string_value(json_object_get(entry, "hash")), hash_hex) == 0);
    CHECK(json_is_true(json_object_get(json_object_get(entry, "receipt"), "ok")));
    json_decref(by_hash);
    json_decref(blk);

    json_t *genesis = result_of("block_get", json_pack("{s:i}", "height", 0));
    CHECK(json_integer_value(json_object_get(json_object_get(genesis, "header"), "tx_count")) == 0);
    json_decref(genesis);

    json_t *latest = result_of("block_latest", NULL);
    CHECK(json_integer_value(json_object_get(latest, "height")) >= height);
    json_decref(latest);

    /* block_wait returns at once for a block already there, and the current
     * height when none comes. */
    json_t *w = result_of("block_wait", json_pack("{s:I, s:i}", "after", height - 1, "timeout_ms", 5000));
    CHECK(json_integer_value(json_object_get(w, "height")) >= height);
    json_decref(w);
    w = result_of("block_wait", json_pack("{s:I, s:i}", "after", (json_int_t)1 << 40, "timeout_ms", 50));
    CHECK(json_integer_value(json_object_get(w, "height")) >= height);
    json_decref(w);

    /* call: the stamp is found by the notary's query. */
    json_t *q = result_of("call", json_pack("{s:s, s:s, s:{s:s}}", "contract", "notary", "method", "get", "args",
                                            "hash", fh_hex));
    const char *stamper = json_string_value(json_object_get(json_object_get(q, "result"), "stamper"));
    CHECK(stamper && strcmp(stamper, addr) == 0);
    json_decref(q);

    /* Sending the committed transaction again is a replay. */
    EXPECT_ERROR("tx_send", send_params(&raw), APP(CV_EEXIST), "replay");
    json_decref(got);
    free(fh_hex);
    free(hash_hex);
    free(raw_hex);
    cv_buf_free(&raw);
}

/* ---- refused transactions ---------------------------------------------------- */

typedef struct {
    const char *what;
    cv_buf raw;
    int code;
    const char *text;
} refusal;

/* One of each kind of transaction the node must refuse. */
static size_t make_refusals(refusal *r)
{
    size_t n = 0;
    tx_spec spec = good_spec();
    uint8_t fh[CV_HASH_LEN] = {7};

    r[n] = (refusal){"garbage", {0}, APP(CV_EDECODE), "malformed transaction: field 1 'body'"};
    cv_buf_append(&r[n++].raw, "\x0a\x02\x08", 3);

    r[n] = (refusal){"bad signature", {0}, APP(CV_EBADSIG), "signature"};
    stamp_tx(spec, &r[n].raw, NULL, NULL);
    r[n].raw.data[r[n].raw.len - 1] ^= 0x40; /* the signature is the encoding's tail */
    n++;

    tx_spec wrong_chain = spec;
    wrong_chain.chain_id = "other-chain";
    r[n] = (refusal){"wrong chain id", {0}, APP(CV_EINVAL), "other-chain"};
    stamp_tx(wrong_chain, &r[n++].raw, NULL, NULL);

    tx_spec expired = spec;
    expired.expiry = 1;
    r[n] = (refusal){"expired", {0}, APP(CV_EINVAL), "expired"};
    stamp_tx(expired, &r[n++].raw, NULL, NULL);

    tx_spec unknown_contract = spec;
    unknown_contract.contract = "nosuch";
    r[n] = (refusal){"unknown contract", {0}, APP(CV_ENOTFOUND), "nosuch"};
    make_tx(unknown_contract, json_object(), &r[n++].raw, NULL);

    tx_spec unknown_method = spec;
    unknown_method.method = "frobnicate";
    r[n] = (refusal){"unknown method", {0}, APP(CV_ENOTFOUND), "frobnicate"};
    make_tx(unknown_method, json_object(), &r[n++].raw, NULL);

    tx_spec no_role = spec;
    no_role.key = &reader;
    r[n] = (refusal){"missing role", {0}, APP(CV_EPERM), "role"};
    make_tx(no_role, stamp_args(fh), &r[n++].raw, NULL);

    tx_spec query = spec;
    query.method = "get";
    r[n] = (refusal){"query as transaction", {0}, APP(CV_EINVAL), "query"};
    make_tx(query, json_pack("{s:o}", "hash", hex_json(fh, CV_HASH_LEN)), &r[n++].raw, NULL);
    return n;
}

static void test_refusals(void)
{
    refusal r[16];
    size_t n = make_refusals(r);
    for (size_t i = 0; i < n; i++) {
        json_t *reply = request("tx_send", send_params(&r[i].raw));
        check_error_object(json_object_get(reply, "error"), r[i].code, r[i].text, r[i].what, __LINE__);
        json_decref(reply);
    }

    /* The same in one batch between two good transactions: each gets its own verdict. */
    json_t *txs = json_array();
    cv_buf good[2] = {{0}, {0}};
    uint8_t good_hash[2][CV_HASH_LEN];
    stamp_tx(good_spec(), &good[0], good_hash[0], NULL);
    stamp_tx(good_spec(), &good[1], good_hash[1], NULL);
    json_array_append_new(txs, hex_json(good[0].data, good[0].len));
    for (size_t i = 0; i < n; i++)
        json_array_append_new(txs, hex_json(r[i].raw.data, r[i].raw.len));
    json_array_append_new(txs, hex_json(good[1].data, good[1].len));
    json_array_append_new(txs, hex_json(good[1].data, good[1].len)); /* a duplicate of a pending one */
    json_t *res = result_of("tx_send_batch", json_pack("{s:o}", "txs", txs));
    const json_t *results = json_object_get(res, "results");
    CHECK(json_array_size(results) == n + 3);
    CHECK(json_integer_value(json_object_get(res, "accepted")) == 2);
    CHECK(json_object_get(json_array_get(results, 0), "error") == NULL);
    CHECK(json_object_get(json_array_get(results, n + 1), "error") == NULL);
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(results, i + 1);
        check_error_object(json_object_get(e, "error"), r[i].code, r[i].text, r[i].what, __LINE__);
        CHECK((json_object_get(e, "hash") != NULL) == (i != 0)); /* garbage has no hash */
    }
    check_error_object(json_object_get(json_array_get(results, n + 2), "error"), APP(CV_EEXIST), "duplicate",
                       "duplicate", __LINE__);
    json_decref(res);

    for (int i = 0; i < 2; i++) {
        json_t *w = result_of("tx_wait", json_pack("{s:o, s:i}", "hash", hex_json(good_hash[i], CV_HASH_LEN),
                                                   "timeout_ms", 20000));
        CHECK(json_is_true(json_object_get(json_object_get(w, "receipt"), "ok")));
        json_decref(w);
        cv_buf_free(&good[i]);
    }
    for (size_t i = 0; i < n; i++)
        cv_buf_free(&r[i].raw);
}

/* ---- bad parameters, method by method ------------------------------------- */

static const char zero_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

static void test_bad_params(void)
{
    const int P = CV_RPC_INVALID_PARAMS;
    /* Any method: params must be an object; unknown names are refused. */
    EXPECT_ERROR("status", json_pack("[i]", 1), P, "must be an object");
    EXPECT_ERROR("status", json_pack("{s:i}", "verbose", 1), P, "unknown param \"verbose\"");
    EXPECT_ERROR("describe", json_pack("{s:i}", "x", 1), P, "unknown param \"x\"");
    EXPECT_ERROR("tx_get", json_pack("{s:s, s:i}", "hash", zero_hash, "hieght", 1), P, "\"hieght\"");

    EXPECT_ERROR("validators", json_pack("{s:s}", "height", "x"), P, "\"height\"");
    EXPECT_ERROR("validators", json_pack("{s:I}", "height", (json_int_t)1000000), APP(CV_ENOTFOUND),
                 "not known yet");
    EXPECT_ERROR("validators", json_pack("{s:i}", "hieght", 1), P, "unknown param \"hieght\"");

    EXPECT_ERROR("tx_send", json_object(), P, "missing param \"tx\"");
    EXPECT_ERROR("tx_send", json_pack("{s:i}", "tx", 12), P, "\"tx\" must be a hex string");
    EXPECT_ERROR("tx_send", json_pack("{s:s}", "tx", "zz"), P, "\"tx\" is not hex");
    EXPECT_ERROR("tx_send", json_pack("{s:s}", "tx", "abc"), P, "\"tx\" must be an even number of hex digits");
    EXPECT_ERROR("tx_send", json_pack("{s:s}", "tx", ""), P, "\"tx\"");
    EXPECT_ERROR("tx_send", json_pack("{s:s}", "tx", "00"), APP(CV_EDECODE), "malformed transaction");

    EXPECT_ERROR("tx_send_batch", json_object(), P, "missing param \"txs\"");
    EXPECT_ERROR("tx_send_batch", json_pack("{s:s}", "txs", "00"), P, "\"txs\" must be a non-empty array");
    EXPECT_ERROR("tx_send_batch", json_pack("{s:[]}", "txs"), P, "non-empty array");
    EXPECT_ERROR("tx_send_batch", json_pack("{s:[s, i]}", "txs", "00", 5), P, "\"txs[1]\" must be a hex string");
    EXPECT_ERROR("tx_send_batch", json_pack("{s:[s, s, s]}", "txs", "00", "00", "0g"), P, "\"txs[2]\" is not hex");
    json_t *many = json_array();
    for (int i = 0; i <= CV_RPC_TX_BATCH_MAX; i++)
        json_array_append_new(many, json_string("00"));
    EXPECT_ERROR("tx_send_batch", json_pack("{s:o}", "txs", many), P, "more than the limit of 10000");

    EXPECT_ERROR("tx_wait", json_object(), P, "missing param \"hash\"");
    EXPECT_ERROR("tx_wait", json_pack("{s:s}", "hash", "abcd"), P, "\"hash\" must be a 32-byte hash");
    EXPECT_ERROR("tx_wait", json_pack("{s:b}", "hash", 1), P, "\"hash\" must be a hex string");
    EXPECT_ERROR("tx_wait", json_pack("{s:s, s:i}", "hash", zero_hash, "timeout_ms", -1), P, "\"timeout_ms\"");
    EXPECT_ERROR("tx_wait", json_pack("{s:s, s:i}", "hash", zero_hash, "timeout_ms", 60001), P,
                 "\"timeout_ms\" must be an integer from 0 to 60000");
    EXPECT_ERROR("tx_wait", json_pack("{s:s, s:s}", "hash", zero_hash, "timeout_ms", "5"), P, "\"timeout_ms\"");
    EXPECT_ERROR("tx_wait", json_pack("{s:s, s:f}", "hash", zero_hash, "timeout_ms", 1.5), P, "\"timeout_ms\"");
    EXPECT_ERROR("tx_wait", json_pack("{s:s, s:i}", "hash", zero_hash, "timeout_ms", 0), APP(CV_ENOTFOUND),
                 "not committed within 0 ms");

    EXPECT_ERROR("tx_get", NULL, P, "missing param \"hash\"");
    EXPECT_ERROR("tx_get", json_pack("{s:s}", "hash", "0x12"), P, "32-byte hash");
    EXPECT_ERROR("tx_get", json_pack("{s:[]}", "hash"), P, "\"hash\" must be a hex string");
    EXPECT_ERROR("tx_get", json_pack("{s:s}", "hash", zero_hash), APP(CV_ENOTFOUND), "is not committed");

    EXPECT_ERROR("block_get", json_object(), P, "exactly one of param \"height\" and param \"hash\"");
    EXPECT_ERROR("block_get", json_pack("{s:i, s:s}", "height", 0, "hash", zero_hash), P, "exactly one");
    EXPECT_ERROR("block_get", json_pack("{s:i}", "height", -1), P, "\"height\" must be an integer");
    EXPECT_ERROR("block_get", json_pack("{s:s}", "height", "1"), P, "\"height\" must be an integer");
    EXPECT_ERROR("block_get", json_pack("{s:I}", "height", (json_int_t)1 << 50), APP(CV_ENOTFOUND),
                 "no block at height 1125899906842624");
    EXPECT_ERROR("block_get", json_pack("{s:s}", "hash", zero_hash), APP(CV_ENOTFOUND), "no block with hash");
    EXPECT_ERROR("block_get", json_pack("{s:i, s:s}", "height", 0, "full", "yes"), P, "\"full\" must be true or false");
    EXPECT_ERROR("block_latest", json_pack("{s:i}", "full", 1), P, "\"full\" must be true or false");

    EXPECT_ERROR("block_wait", json_object(), P, "missing param \"after\"");
    EXPECT_ERROR("block_wait", json_pack("{s:s}", "after", "x"), P, "\"after\" must be an integer");
    EXPECT_ERROR("block_wait", json_pack("{s:i, s:i}", "after", 0, "timeout_ms", 1000000), P, "\"timeout_ms\"");

    EXPECT_ERROR("call", json_object(), P, "missing param \"contract\"");
    EXPECT_ERROR("call", json_pack("{s:s}", "contract", "notary"), P, "missing param \"method\"");
    EXPECT_ERROR("call", json_pack("{s:i, s:s}", "contract", 1, "method", "get"), P, "\"contract\" must be a string");
    EXPECT_ERROR("call", json_pack("{s:s, s:s}", "contract", "notary-notary-notary-notary-notary", "method", "get"),
                 P, "\"contract\" must be a string of 1 to 32 bytes");
    EXPECT_ERROR("call", json_pack("{s:s, s:s, s:[]}", "contract", "notary", "method", "get", "args"), P,
                 "\"args\" must be an object");
    EXPECT_ERROR("call", json_pack("{s:s, s:s}", "contract", "nosuch", "method", "get"), APP(CV_ENOTFOUND),
                 "nosuch");
    EXPECT_ERROR("call", json_pack("{s:s, s:s}", "contract", "notary", "method", "nosuch"), APP(CV_ENOTFOUND),
                 "nosuch");
    EXPECT_ERROR("call", json_pack("{s:s, s:s, s:{s:s}}", "contract", "notary", "method", "get", "args", "hash", "xy"),
                 APP(CV_EINVAL), "hash");
    uint8_t fh[CV_HASH_LEN] = {9};
    EXPECT_ERROR("call", json_pack("{s:s, s:s, s:{s:o, s:s}}", "contract", "notary", "method", "stamp", "args", "hash",
                                   hex_json(fh, CV_HASH_LEN), "label", "x"),
                 APP(CV_EINVAL), "not a query");
}

/* ---- the envelope --------------------------------------------------------------- */

static void test_envelope(void)
{
    EXPECT_BODY_ERROR("", CV_RPC_PARSE_ERROR, "parse error");
    EXPECT_BODY_ERROR("{\"jsonrpc\":\"2.0\",", CV_RPC_PARSE_ERROR, "line 1");
    EXPECT_BODY_ERROR("{\"a\":1,\"a\":2}", CV_RPC_PARSE_ERROR, "duplicate");
    EXPECT_BODY_ERROR("\"\xff\"", CV_RPC_PARSE_ERROR, "parse error");
    EXPECT_BODY_ERROR("42", CV_RPC_INVALID_REQUEST, "must be a JSON object");
    EXPECT_BODY_ERROR("[]", CV_RPC_INVALID_REQUEST, "empty batch");
    EXPECT_BODY_ERROR("{\"id\":1,\"method\":\"status\"}", CV_RPC_INVALID_REQUEST, "\"jsonrpc\" must be \"2.0\"");
    EXPECT_BODY_ERROR("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"status\"}", CV_RPC_INVALID_REQUEST, "\"2.0\"");
    EXPECT_BODY_ERROR("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}", CV_RPC_INVALID_REQUEST,
                      "\"method\" must be a string");
    EXPECT_BODY_ERROR("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"status\"}", CV_RPC_INVALID_REQUEST, "\"id\"");
    EXPECT_BODY_ERROR("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"nosuch_method\"}", CV_RPC_METHOD_NOT_FOUND,
                      "unknown method \"nosuch_method\"");
    EXPECT_BODY_ERROR("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":5}", CV_RPC_INVALID_PARAMS,
                      "\"params\" must be an object");

    /* Nesting far past jansson's depth limit is a parse error, not a crash. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 1);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    EXPECT_BODY_ERROR(deep, CV_RPC_PARSE_ERROR, "parse error");
    free(deep);

    /* A string id comes back as is; a notification gets no reply. */
    json_t *reply = handle("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"status\"}");
    CHECK(strcmp(json_string_value(json_object_get(reply, "id")), "abc") == 0);
    json_decref(reply);
    CHECK(handle("{\"jsonrpc\":\"2.0\",\"method\":\"status\"}") == NULL);
    CHECK(handle("[{\"jsonrpc\":\"2.0\",\"method\":\"status\"},{\"jsonrpc\":\"2.0\",\"method\":\"nosuch\"}]") == NULL);

    /* A batch mixing good, bad, notification and not-a-request. */
    reply = handle("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"},"
                   "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"nosuch\"},"
                   "{\"jsonrpc\":\"2.0\",\"method\":\"status\"},"
                   "42,"
                   "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tx_get\",\"params\":{\"hash\":\"zz\"}},"
                   "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"block_get\",\"params\":{\"height\":0}}]");
    CHECK(json_array_size(reply) == 5);
    CHECK(json_integer_value(json_object_get(json_array_get(reply, 0), "id")) == 1);
    CHECK(json_object_get(json_array_get(reply, 0), "result") != NULL);
    check_error_object(json_object_get(json_array_get(reply, 1), "error"), CV_RPC_METHOD_NOT_FOUND, "nosuch",
                       "batch[1]", __LINE__);
    CHECK(json_is_null(json_object_get(json_array_get(reply, 2), "id")));
    check_error_object(json_object_get(json_array_get(reply, 2), "error"), CV_RPC_INVALID_REQUEST, "object",
                       "batch[3]", __LINE__);
    check_error_object(json_object_get(json_array_get(reply, 3), "error"), CV_RPC_INVALID_PARAMS, "\"hash\"",
                       "batch[4]", __LINE__);
    CHECK(json_integer_value(json_object_get(json_array_get(reply, 4), "id")) == 4);
    CHECK(json_object_get(json_array_get(reply, 4), "result") != NULL);
    json_decref(reply);

    /* Too many requests in one batch. */
    cv_buf big = {0};
    cv_buf_append(&big, "[", 1);
    for (int i = 0; i <= CV_RPC_BATCH_MAX; i++)
        cv_buf_append(&big, i ? ",{}" : "{}", i ? 3 : 2);
    cv_buf_append(&big, "]", 2); /* with the NUL */
    EXPECT_BODY_ERROR((const char *)big.data, CV_RPC_INVALID_REQUEST, "exceeds the limit of 1000");
    cv_buf_free(&big);
}

/* ---- HTTP ---------------------------------------------------------------------- */

static int connect_to(const char *address)
{
    char host[64];
    const char *colon = strrchr(address, ':');
    snprintf(host, sizeof host, "%.*s", (int)(colon - address), address);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
        return -1;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Sends request and reads until the server closes the connection or, with
 * until set, the reply contains it. */
static void exchange(const char *address, const char *request, size_t len, const char *until, cv_buf *reply)
{
    int fd = connect_to(address);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, request + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server may refuse before reading everything */
        off += (size_t)n;
    }
    char chunk[4096];
    for (;;) {
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            break;
        cv_buf_append(reply, chunk, (size_t)n);
        cv_buf_append_byte(reply, 0);
        reply->len--;
        if (until && strstr((const char *)reply->data, until))
            break;
    }
    cv_buf_append_byte(reply, 0);
    close(fd);
}

static int status_of(const cv_buf *reply)
{
    int status = 0;
    if (reply->len && sscanf((const char *)reply->data, "HTTP/1.%*d %d", &status) != 1)
        status = 0;
    return status;
}

static const char *body_of(const cv_buf *reply)
{
    const char *p = reply->len ? strstr((const char *)reply->data, "\r\n\r\n") : NULL;
    return p ? p + 4 : "";
}

static void post_to(const char *address, const char *path, const char *type, const void *body, size_t len,
                    cv_buf *reply)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     path, type, len);
    cv_buf req = {0};
    cv_buf_append(&req, head, (size_t)n);
    cv_buf_append(&req, body, len);
    exchange(address, (const char *)req.data, req.len, NULL, reply);
    cv_buf_free(&req);
}

static void post(const char *address, const char *type, const char *body, cv_buf *reply)
{
    post_to(address, "/", type, body, strlen(body), reply);
}

/* POST /txs: a batch in one canonical encoding, answered as tx_send_batch;
 * a wrong type or a malformed body is refused with what is wrong. */
static void test_post_txs(const char *address)
{
    cv_buf good = {0}, bad = {0}, body = {0}, reply = {0};
    uint8_t hash[CV_HASH_LEN];
    char hex[2 * CV_HASH_LEN + 1];
    stamp_tx(good_spec(), &good, hash, NULL);
    tx_spec wrong = good_spec();
    wrong.chain_id = "other-chain";
    stamp_tx(wrong, &bad, NULL, NULL);
    cv_enc e;
    cv_enc_init(&e, &body);
    cv_enc_list_begin(&e, 1, CV_CODEC_BYTES_LIST);
    cv_enc_bytes(&e, CV_CODEC_ITEM, good.data, good.len);
    cv_enc_bytes(&e, CV_CODEC_ITEM, bad.data, bad.len);
    cv_enc_end(&e);
    CHECK_OK(cv_enc_finish(&e));
    post_to(address, "/txs", "application/octet-stream", body.data, body.len, &reply);
    cv_hex_encode(hash, CV_HASH_LEN, hex);
    CHECK(status_of(&reply) == 200);
    CHECK((strstr(body_of(&reply), "\"accepted\":1") != NULL && strstr(body_of(&reply), hex) != NULL) ||
          (fprintf(stderr, "POST /txs: %s\n", body_of(&reply)), 0));
    CHECK(strstr(body_of(&reply), "other-chain") != NULL);
    cv_buf_reset(&reply);
    post_to(address, "/txs", "application/json", body.data, body.len, &reply);
    CHECK(status_of(&reply) == 415);
    CHECK(strstr(body_of(&reply), "Content-Type must be application/octet-stream") != NULL);
    cv_buf_reset(&reply);
    post_to(address, "/txs", "application/octet-stream", body.data, body.len - 1, &reply);
    CHECK(status_of(&reply) == 200);
    CHECK(strstr(body_of(&reply), "-32602") != NULL && strstr(body_of(&reply), "invalid body") != NULL);
    cv_buf_reset(&reply);
    static const uint8_t empty_tx[] = {0x0c, 0x01, 0x00}; /* {1: [""]}: found by fuzz_rpc */
    post_to(address, "/txs", "application/octet-stream", empty_tx, sizeof empty_tx, &reply);
    CHECK(strstr(body_of(&reply), "-32602") != NULL && strstr(body_of(&reply), "transaction 0 is empty") != NULL);
    cv_buf_free(&good);
    cv_buf_free(&bad);
    cv_buf_free(&body);
    cv_buf_free(&reply);
}

/* POSTs a chunked body of `pieces` 64 KiB chunks and expects status (0: the
 * connection closed without a reply). */
static void test_chunked(const char *address, int pieces, int status)
{
    cv_buf req = {0}, reply = {0};
    const char head[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n";
    cv_buf_append(&req, head, sizeof head - 1);
    char piece[65536 + 16];
    int hn = snprintf(piece, sizeof piece, "10000\r\n");
    memset(piece + hn, ' ', 65536);
    memcpy(piece + hn + 65536, "\r\n", 2);
    for (int i = 0; i < pieces; i++)
        cv_buf_append(&req, piece, (size_t)hn + 65536 + 2);
    cv_buf_append(&req, "0\r\n\r\n", 5);
    exchange(address, (const char *)req.data, req.len, NULL, &reply);
    CHECK(status_of(&reply) == status);
    if (status)
        CHECK(strstr(body_of(&reply), "exceeds the limit of 1048576 bytes (rpc_max_body)") != NULL);
    cv_buf_free(&req);
    cv_buf_free(&reply);
}

static void test_http(void)
{
    cv_rpc *rpc = NULL;
    CHECK_ERR(cv_rpc_start(node, "nonsense", &rpc), CV_EINVAL);
    CHECK_MSG("host:port");
    CHECK_OK(cv_rpc_start(node, "127.0.0.1:0", &rpc));
    if (!rpc)
        return;
    const char *address = cv_rpc_address(rpc);
    CHECK(strncmp(address, "127.0.0.1:", 10) == 0 && strcmp(address, "127.0.0.1:0") != 0);
    cv_rpc *twin = NULL; /* the port is taken */
    CHECK_ERR(cv_rpc_start(node, address, &twin), CV_EIO);
    CHECK_MSG("cannot listen");
    cv_buf reply = {0};

    post(address, "application/json", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}", &reply);
    CHECK(status_of(&reply) == 200);
    CHECK(strstr(body_of(&reply), "\"chain_id\":\"rpc-test\"") != NULL);
    cv_buf_reset(&reply);

    post(address, "application/json; charset=utf-8", "{\"jsonrpc\":\"2.0\",\"method\":\"status\"}", &reply);
    CHECK(status_of(&reply) == 204);
    cv_buf_reset(&reply);

    post(address, "application/json", "{oops", &reply);
    CHECK(status_of(&reply) == 200);
    CHECK(strstr(body_of(&reply), "-32700") != NULL);
    cv_buf_reset(&reply);

    post(address, "text/plain", "{}", &reply);
    CHECK(status_of(&reply) == 415);
    CHECK(strstr(body_of(&reply), "Content-Type must be application/json") != NULL);
    cv_buf_reset(&reply);

    test_post_txs(address);

    /* Oversized by Content-Length: refused before the body is sent. */
    const char big_head[] = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "Content-Length: 2000000\r\n\r\n";
    exchange(address, big_head, sizeof big_head - 1, NULL, &reply);
    CHECK(status_of(&reply) == 413);
    CHECK(strstr(body_of(&reply), "exceeds the limit of 1048576 bytes (rpc_max_body)") != NULL);
    cv_buf_reset(&reply);

    /* Oversized and chunked: refused at its end; going on past twice the
     * limit, cut off. Either way the server carries on. */
    test_chunked(address, 20, 413);
    test_chunked(address, 40, 0);

    const char health[] = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    exchange(address, health, sizeof health - 1, NULL, &reply);
    CHECK(status_of(&reply) == 200);
    CHECK(strstr(body_of(&reply), "\"ok\":true") != NULL);
    cv_buf_reset(&reply);

    const char nowhere[] = "GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    exchange(address, nowhere, sizeof nowhere - 1, NULL, &reply);
    CHECK(status_of(&reply) == 404);
    CHECK(strstr(body_of(&reply), "no such path \\\"/nowhere\\\"") != NULL);
    cv_buf_reset(&reply);

    const char get_root[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    exchange(address, get_root, sizeof get_root - 1, NULL, &reply);
    CHECK(status_of(&reply) == 405);
    cv_buf_reset(&reply);

    const char bad_after[] = "GET /events?after=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    exchange(address, bad_after, sizeof bad_after - 1, NULL, &reply);
    CHECK(status_of(&reply) == 400);
    CHECK(strstr(body_of(&reply), "\\\"after\\\" must be a block height") != NULL);
    cv_buf_reset(&reply);

    /* The event stream from genesis: block 1 comes first. */
    const char events[] = "GET /events?after=0 HTTP/1.1\r\nHost: x\r\n\r\n";
    exchange(address, events, sizeof events - 1, "}\n\n", &reply);
    CHECK(status_of(&reply) == 200);
    CHECK(strstr((const char *)reply.data, "text/event-stream") != NULL);
    const char *ev = strstr((const char *)reply.data, "id: 1\nevent: block\ndata: {");
    CHECK(ev != NULL);
    CHECK(ev && strstr(ev, "\"height\":1") != NULL);
    cv_buf_reset(&reply);

    /* Neither an open event stream nor a long poll keeps the server from stopping. */
    int stream = connect_to(address), poll = connect_to(address);
    const char live[] = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
    char wait[512], body[200];
    snprintf(body, sizeof body,
             "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tx_wait\",\"params\":{\"hash\":\"%s\",\"timeout_ms\":60000}}",
             zero_hash);
    int n = snprintf(wait, sizeof wait,
                     "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     strlen(body), body);
    CHECK(send(stream, live, sizeof live - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof live - 1));
    CHECK(send(poll, wait, (size_t)n, MSG_NOSIGNAL) == n);
    usleep(200000);
    time_t before = time(NULL);
    cv_rpc_stop(rpc);
    CHECK(time(NULL) - before <= 2);
    close(stream);
    close(poll);
    cv_buf_free(&reply);
}

int main(void)
{
    CHECK_OK(cv_crypto_init());
    int rc = open_node();
    CHECK_OK(rc);
    if (rc == CV_OK) {
        test_status_and_describe();
        test_genesis();
        test_send_and_read();
        test_refusals();
        test_bad_params();
        test_envelope();
        test_http();
    }
    if (node)
        cv_node_close(node);
    cv_key_wipe(&node_key);
    cv_key_wipe(&admin);
    cv_key_wipe(&reader);
    remove_home();
    cv_crypto_cleanup();
    return check_done();
}
