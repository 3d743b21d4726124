/* test_exec.c: the execution layer (exec/exec.h): every admission check with
 * its error, failed transactions changing no state, the replay guard within
 * and across blocks, determinism, the state overlay, queries, and arguments
 * to and from JSON. Runs on both crypto suites with real signatures. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "crypto/merkle.h"
#include "exec/internal.h"
#include "exec_fixture.h"

static const cv_suite suites[2] = {CV_SUITE_STD, CV_SUITE_GM};

/* {"hash": <32 bytes derived from i>, "label": label}. */
static void stamp_json(unsigned i, const char *label, char *out, size_t cap)
{
    uint8_t h[CV_HASH_LEN] = {0};
    char hex[2 * CV_HASH_LEN + 1];
    memcpy(h, &i, sizeof i);
    h[31] = 0xee;
    cv_hex_encode(h, sizeof h, hex);
    snprintf(out, cap, "{\"hash\":\"%s\",\"label\":\"%s\"}", hex, label);
}

static cv_tx stamp_tx(fx_chain *f, const cv_keypair *key, unsigned i)
{
    char args[200];
    stamp_json(i, "evidence", args, sizeof args);
    return fx_tx(f, key, "notary", "stamp", args);
}

/* A stamp transaction with an explicit chain id and expiry. */
static cv_tx stamp_tx_with(fx_chain *f, const cv_keypair *key, const char *chain_id, uint64_t expiry,
                           unsigned i)
{
    char json[200];
    cv_buf args = {0};
    stamp_json(i, "", json, sizeof json);
    fx_args("notary", "stamp", json, &args);
    cv_tx tx = fx_tx_raw(f, key, chain_id, expiry, "notary", "stamp", args.data, args.len);
    cv_buf_free(&args);
    return tx;
}

static int same_writes(const cv_exec_result *a, const cv_exec_result *b)
{
    if (a->nwrites != b->nwrites)
        return 0;
    for (size_t i = 0; i < a->nwrites; i++) {
        const cv_kv *x = &a->writes[i], *y = &b->writes[i];
        if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0 ||
            (x->value == NULL) != (y->value == NULL) || x->value_len != y->value_len ||
            (x->value_len && memcmp(x->value, y->value, x->value_len) != 0))
            return 0;
    }
    return 1;
}

static int same_receipts(const cv_exec_result *a, const cv_exec_result *b)
{
    if (a->ntx != b->ntx || memcmp(a->receipt_root, b->receipt_root, CV_HASH_LEN) != 0)
        return 0;
    for (size_t i = 0; i < a->ntx; i++)
        if (a->receipts[i].len != b->receipts[i].len ||
            memcmp(a->receipts[i].data, b->receipts[i].data, a->receipts[i].len) != 0)
            return 0;
    return 1;
}

/* Keys strictly ascending (sorted and unique). */
static int sorted_writes(const cv_exec_result *r)
{
    for (size_t i = 1; i < r->nwrites; i++) {
        const cv_kv *a = &r->writes[i - 1], *b = &r->writes[i];
        size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
        int c = memcmp(a->key, b->key, n);
        if (c > 0 || (c == 0 && a->key_len >= b->key_len))
            return 0;
    }
    return 1;
}

/* ---- genesis ---------------------------------------------------------------------- */

static void test_genesis(cv_suite suite)
{
    fx_chain f;
    cv_exec_result a, b;
    static const uint8_t zero[CV_HASH_LEN];
    fx_init(&f, suite, 2);
    CHECK_OK(cv_exec_genesis(&f.g, &a));
    CHECK_OK(cv_exec_genesis(&f.g, &b));
    CHECK(same_writes(&a, &b));
    CHECK(memcmp(a.state_root, b.state_root, CV_HASH_LEN) == 0);
    CHECK(memcmp(a.state_root, zero, CV_HASH_LEN) != 0);
    CHECK(a.ntx == 0 && a.nwrites > 0 && sorted_writes(&a));
    /* orgs 2 + accounts 4 + validator 1 + every parameter + meta */
    size_t nparams;
    cv_params(&nparams);
    CHECK(a.nwrites == 2 + 4 + 1 + nparams + 1);
    for (size_t i = 0; i < a.nwrites; i++)
        CHECK(a.writes[i].key_len > 4 && memcmp(a.writes[i].key, "gov\0", 4) == 0);
    /* A different genesis gives a different root. */
    f.g.time_ms++;
    snprintf(f.g.orgs[1].name, sizeof f.g.orgs[1].name, "Renamed");
    cv_exec_result c;
    CHECK_OK(cv_exec_genesis(&f.g, &c));
    CHECK(memcmp(a.state_root, c.state_root, CV_HASH_LEN) != 0);
    uint64_t v;
    CHECK_OK(cv_exec_param(&f.src, "tx_window", &v));
    CHECK(v == 1000);
    CHECK_ERR(cv_exec_param(&f.src, "no_such_param", &v), CV_ENOTFOUND);
    CHECK_MSG("no_such_param");
    cv_exec_result_free(&a);
    cv_exec_result_free(&b);
    cv_exec_result_free(&c);
    fx_free(&f);
}

/* ---- every check, in one block ------------------------------------------------------ */

static void test_checks(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 1);
    cv_suite other = suite == CV_SUITE_STD ? CV_SUITE_GM : CV_SUITE_STD;
    cv_keypair foreign = fx_key(other, 1);
    const uint64_t h = 1, window = 1000;
    uint8_t bad_args[] = {0xff};
    uint8_t wrong_type[] = {0x08, 0x01}; /* field 1 as a uint, not bytes */
    cv_tx txs[20];
    size_t n = 0;
    txs[n++] = stamp_tx(&f, &f.notary, 0);                               /* 0 ok */
    txs[n] = stamp_tx(&f, &f.notary, 1);                                 /* 1 bad signature */
    txs[n + 1] = txs[n];                                                 /* 2 its true copy: ok */
    txs[n++].sig.bytes[3] ^= 0x40;
    n++;
    txs[n++] = stamp_tx_with(&f, &f.notary, "other-chain", h + 5, 3);   /* 3 */
    txs[n++] = stamp_tx_with(&f, &foreign, f.g.chain.chain_id, h + 5, 4); /* 4 */
    txs[n++] = stamp_tx_with(&f, &f.notary, f.g.chain.chain_id, h - 1, 5); /* 5 expired */
    txs[n++] = stamp_tx_with(&f, &f.notary, f.g.chain.chain_id, h + window + 1, 6); /* 6 */
    txs[n++] = stamp_tx_with(&f, &f.notary, f.g.chain.chain_id, h, 7);  /* 7 last height: ok */
    txs[n++] = stamp_tx_with(&f, &f.notary, f.g.chain.chain_id, h + window, 8); /* 8 ok */
    txs[n++] = txs[0];                                                   /* 9 replay */
    txs[n++] = fx_tx_raw(&f, &f.notary, f.g.chain.chain_id, h, "nope", "stamp", NULL, 0);
    txs[n++] = fx_tx_raw(&f, &f.notary, f.g.chain.chain_id, h, "notary", "nope", NULL, 0);
    txs[n++] = fx_tx(&f, &f.notary, "notary", "get", "{\"hash\":\"" /* 12 query */
                     "00000000000000000000000000000000000000000000000000000000000000ee\"}");
    txs[n++] = fx_tx_raw(&f, &f.notary, f.g.chain.chain_id, h, "notary", "stamp", bad_args, 1);
    txs[n++] = stamp_tx(&f, &f.stranger, 14);
    txs[n++] = stamp_tx(&f, &f.plain, 15);
    txs[n++] = fx_tx(&f, &f.notary, "gov", "propose", "{\"kind\":\"add_org\",\"key\":\"x\",\"value\":\"X\"}");
    txs[n++] = fx_tx_raw(&f, &f.notary, f.g.chain.chain_id, h, "notary", "stamp", wrong_type, 2);
    cv_exec_result r;
    fx_exec(&f, txs, n, NULL, &r);
    CHECK(r.ntx == n);
    FX_EXPECT(&r, 0, CV_OK, "");
    FX_EXPECT(&r, 1, CV_EBADSIG, "signature does not verify");
    FX_EXPECT(&r, 2, CV_OK, "");
    FX_EXPECT(&r, 3, CV_EINVAL, "for chain 'other-chain', this is 'test-chain'");
    FX_EXPECT(&r, 4, CV_EINVAL, "signed with suite");
    FX_EXPECT(&r, 5, CV_EINVAL, "expired at height 0 (this block is 1)");
    FX_EXPECT(&r, 6, CV_EINVAL, "more than tx_window = 1000 blocks after height 1");
    FX_EXPECT(&r, 7, CV_OK, "");
    FX_EXPECT(&r, 8, CV_OK, "");
    FX_EXPECT(&r, 9, CV_EEXIST, "is earlier in this block");
    FX_EXPECT(&r, 10, CV_ENOTFOUND, "unknown contract 'nope'");
    FX_EXPECT(&r, 11, CV_ENOTFOUND, "contract notary has no method 'nope'");
    FX_EXPECT(&r, 12, CV_EINVAL, "notary.get is a query, not a transaction method");
    FX_EXPECT(&r, 13, CV_EINVAL, "bad arguments for notary.stamp");
    FX_EXPECT(&r, 14, CV_EPERM, "is not a registered account");
    FX_EXPECT(&r, 15, CV_EPERM, "notary.stamp requires role 'notary', which sender");
    FX_EXPECT(&r, 16, CV_EPERM, "gov.propose requires role 'admin'");
    FX_EXPECT(&r, 17, CV_EINVAL, "'hash'");
    CHECK(r.failed == n - 4);
    /* The replay set: valid signatures and envelopes that are not replays. */
    const uint8_t seen[] = {1, 0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK(memcmp(r.seen, seen, n) == 0);
    /* Receipts name their transactions; failed ones carry no events. */
    for (size_t i = 0; i < n; i++) {
        cv_receipt rec;
        CHECK_OK(cv_receipt_decode(r.receipts[i].data, r.receipts[i].len, &rec));
        CHECK(memcmp(rec.tx_hash, txs[i].hash, CV_HASH_LEN) == 0);
        CHECK(rec.nevents == (rec.status ? 0u : 1u));
        uint8_t hash[CV_HASH_LEN];
        CHECK_OK(cv_hash(suite, r.receipts[i].data, r.receipts[i].len, hash));
        CHECK(memcmp(hash, r.receipt_hashes[i], CV_HASH_LEN) == 0);
        cv_receipt_free(&rec);
    }
    uint8_t root[CV_HASH_LEN], leaves[20][CV_HASH_LEN];
    for (size_t i = 0; i < n; i++)
        CHECK_OK(cv_merkle_leaf_hash(suite, r.receipt_hashes[i], CV_HASH_LEN, leaves[i]));
    CHECK_OK(cv_merkle_root(suite, leaves[0], n, root));
    CHECK(memcmp(root, r.receipt_root, CV_HASH_LEN) == 0);
    /* Only the four successful stamps wrote state. */
    CHECK(r.nwrites == 4 && sorted_writes(&r));

    /* sig_ok given by the caller is trusted either way. */
    uint8_t ok[2] = {0, 1};
    cv_exec_result s;
    fx_exec(&f, txs, 2, ok, &s);
    FX_EXPECT(&s, 0, CV_EBADSIG, "signature");
    FX_EXPECT(&s, 1, CV_OK, "");
    cv_exec_result_free(&s);
    cv_exec_result_free(&r);
    cv_key_wipe(&foreign);
    fx_free(&f);
}

/* A transaction larger than tx_max_bytes fails; one at the limit passes. */
static void test_size_limit(cv_suite suite)
{
    fx_chain f;
    fx_setup(&f, suite, 1);
    fx_set_param(&f, "tx_max_bytes", 256);
    fx_start(&f);
    char label[200], json[400];
    memset(label, 'a', 190);
    label[190] = '\0';
    stamp_json(1, label, json, sizeof json);
    cv_tx big = fx_tx(&f, &f.notary, "notary", "stamp", json);
    size_t len = f.bufs[f.nbufs - 1]->len;
    CHECK(len > 256);
    char expect[80];
    snprintf(expect, sizeof expect, "transaction of %zu bytes exceeds tx_max_bytes = 256", len);
    CHECK_ERR(cv_exec_check_tx(&f.g.chain, &f.src, f.height + 1, &big, len), CV_EINVAL);
    CHECK_MSG(expect);
    CHECK(fx_run(&f, big) == CV_EINVAL);
    CHECK_MSG(expect);
    CHECK(fx_run(&f, stamp_tx(&f, &f.notary, 2)) == CV_OK);
    fx_free(&f);
}

/* ---- replay across blocks; re-signed bodies ----------------------------------------- */

static void test_replay(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 1);
    cv_tx tx = stamp_tx_with(&f, &f.notary, f.g.chain.chain_id, f.height + 3, 1);
    CHECK(fx_run(&f, tx) == CV_OK);
    CHECK(fx_run(&f, tx) == CV_EEXIST);
    CHECK_MSG("was already committed");
    CHECK_ERR(cv_exec_check_tx(&f.g.chain, &f.src, f.height + 1, &tx, 0), CV_EEXIST);
    /* A re-signed copy of the same body is the same transaction. */
    cv_tx again = tx;
    CHECK_OK(cv_tx_sign(&again, &f.notary, fx_buf(&f)));
    CHECK(memcmp(again.body_hash, tx.body_hash, CV_HASH_LEN) == 0);
    if (suite == CV_SUITE_GM) /* SM2 signatures are randomised */
        CHECK(memcmp(again.hash, tx.hash, CV_HASH_LEN) != 0);
    CHECK(fx_run(&f, again) == CV_EEXIST);
    /* A different nonce is a new transaction. */
    cv_tx fresh = tx;
    fresh.nonce++;
    fresh.expiry = f.height + 1;
    CHECK_OK(cv_tx_sign(&fresh, &f.notary, fx_buf(&f)));
    CHECK(fx_run(&f, fresh) == CV_EEXIST); /* ... but the hash is already stamped */
    CHECK_MSG("already stamped");
    /* Once its expiry has passed, a copy is refused as expired, whatever the
     * node still remembers of its replay key. */
    CHECK(fx_run(&f, tx) == CV_EINVAL);
    CHECK_MSG("expired");
    fx_free(&f);
}

/* ---- failed transactions change nothing; determinism -------------------------------- */

static void test_failures_change_nothing(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 2);
    cv_tx txs[6];
    txs[0] = stamp_tx(&f, &f.notary, 1);
    txs[1] = stamp_tx(&f, &f.plain, 2);   /* no role */
    txs[2] = stamp_tx(&f, &f.notary, 1);  /* already stamped: the method fails */
    txs[3] = fx_tx(&f, &f.admin[1], "gov", "propose", "{\"kind\":\"set_param\",\"key\":\"tx_window\",\"value\":\"0\"}");
    txs[4] = fx_tx(&f, &f.admin[0], "gov", "vote", "{\"id\":7,\"approve\":1}");
    txs[5] = stamp_tx(&f, &f.stranger, 3);
    cv_exec_result only, with;
    fx_exec(&f, txs, 1, NULL, &only);
    fx_exec(&f, txs, 6, NULL, &with);
    FX_EXPECT(&with, 2, CV_EEXIST, "already stamped at height 1 by");
    FX_EXPECT(&with, 3, CV_EINVAL, "tx_window must be a decimal number from 1 to 1000000");
    FX_EXPECT(&with, 4, CV_ENOTFOUND, "no proposal 7");
    CHECK(with.failed == 5 && only.failed == 0);
    CHECK(same_writes(&only, &with));
    CHECK(memcmp(only.state_root, with.state_root, CV_HASH_LEN) == 0);
    CHECK(memcmp(only.receipt_root, with.receipt_root, CV_HASH_LEN) != 0);
    cv_exec_result_free(&only);
    cv_exec_result_free(&with);
    fx_free(&f);
}

static void test_determinism(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 1);
    cv_tx txs[8];
    for (unsigned i = 0; i < 6; i++)
        txs[i] = stamp_tx(&f, &f.notary, i);
    txs[6] = fx_tx(&f, &f.admin[0], "gov", "propose",
                   "{\"kind\":\"add_org\",\"key\":\"org9\",\"value\":\"Nine\"}");
    txs[7] = stamp_tx(&f, &f.plain, 9);
    cv_exec_result a, b;
    fx_exec(&f, txs, 8, NULL, &a);
    fx_exec(&f, txs, 8, NULL, &b);
    CHECK(same_receipts(&a, &b));
    CHECK(same_writes(&a, &b));
    CHECK(memcmp(a.state_root, b.state_root, CV_HASH_LEN) == 0);
    cv_exec_result_free(&a);
    cv_exec_result_free(&b);

    /* Two senders stamping the same hash: the order decides the stamper. */
    fx_chain g;
    cv_tx ab[2], ba[2];
    char args[200], addr[CV_ADDR_STR_MAX];
    fx_init(&g, suite, 1);
    fx_addr(&g.admin[0], addr);
    snprintf(args, sizeof args, "{\"address\":\"%s\",\"roles\":\"admin,notary\"}", addr);
    CHECK(fx_run(&g, fx_tx(&g, &g.admin[0], "gov", "set_roles", args)) == CV_OK);
    ab[0] = ba[1] = stamp_tx(&g, &g.notary, 1);
    ab[1] = ba[0] = stamp_tx(&g, &g.admin[0], 1);
    fx_exec(&g, ab, 2, NULL, &a);
    fx_exec(&g, ba, 2, NULL, &b);
    FX_EXPECT(&a, 1, CV_EEXIST, "already stamped");
    FX_EXPECT(&b, 1, CV_EEXIST, "already stamped");
    CHECK(!same_writes(&a, &b));
    CHECK(memcmp(a.state_root, b.state_root, CV_HASH_LEN) != 0);
    CHECK(memcmp(a.receipt_root, b.receipt_root, CV_HASH_LEN) != 0);
    cv_exec_result_free(&a);
    cv_exec_result_free(&b);
    fx_free(&g);
    fx_free(&f);
}

/* ---- mempool admission --------------------------------------------------------------- */

static void test_check_tx(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 1);
    const cv_chain *c = &f.g.chain;
    uint64_t h = f.height + 1;
    cv_tx good = stamp_tx(&f, &f.notary, 1);
    CHECK_OK(cv_exec_check_tx(c, &f.src, h, &good, 300));
    cv_tx forged = good; /* signatures are not checked here */
    forged.sig.bytes[0] ^= 1;
    CHECK_OK(cv_exec_check_tx(c, &f.src, h, &forged, 300));
    CHECK_ERR(cv_exec_check_tx(c, &f.src, h, &good, 70000), CV_EINVAL);
    CHECK_MSG("exceeds tx_max_bytes");
    CHECK_ERR(cv_exec_check_tx(c, &f.src, h + 1, &good, 300), CV_EINVAL);
    CHECK_MSG("expired");
    cv_tx t = stamp_tx_with(&f, &f.notary, "elsewhere", h, 2);
    CHECK_ERR(cv_exec_check_tx(c, &f.src, h, &t, 300), CV_EINVAL);
    CHECK_MSG("for chain 'elsewhere'");
    t = stamp_tx(&f, &f.plain, 3);
    CHECK_ERR(cv_exec_check_tx(c, &f.src, h, &t, 300), CV_EPERM);
    CHECK_MSG("requires role 'notary'");
    t = stamp_tx(&f, &f.stranger, 3);
    CHECK_ERR(cv_exec_check_tx(c, &f.src, h, &t, 300), CV_EPERM);
    CHECK_MSG("not a registered account");
    t = fx_tx_raw(&f, &f.notary, c->chain_id, h, "notary", "get", NULL, 0);
    CHECK_ERR(cv_exec_check_tx(c, &f.src, h, &t, 300), CV_EINVAL);
    CHECK_MSG("is a query");
    t = fx_tx_raw(&f, &f.notary, c->chain_id, h, "notary", "stamp", NULL, 0);
    CHECK_ERR(cv_exec_check_tx(c, &f.src, h, &t, 300), CV_EINVAL);
    CHECK_MSG("bad arguments for notary.stamp");
    CHECK_MSG("'hash'");
    fx_free(&f);
}

/* ---- queries --------------------------------------------------------------------------- */

static void test_queries(cv_suite suite)
{
    fx_chain f;
    json_t *out = NULL;
    fx_init(&f, suite, 1);
    CHECK_ERR(cv_exec_query(&f.g.chain, &f.src, 1, "notary", "stamp", NULL, 0, &out), CV_EINVAL);
    CHECK_MSG("notary.stamp is a transaction method, not a query");
    CHECK_ERR(cv_exec_query(&f.g.chain, &f.src, 1, "nope", "get", NULL, 0, &out), CV_ENOTFOUND);
    CHECK_MSG("unknown contract 'nope'");
    CHECK_ERR(cv_exec_query(&f.g.chain, &f.src, 1, "gov", "org", (const uint8_t *)"\x0a", 1, &out),
              CV_EINVAL);
    CHECK_MSG("bad arguments for gov.org");
    CHECK(out == NULL);
    out = fx_query(&f, "gov", "orgs", "{}", CV_OK);
    CHECK(json_array_size(out) == 1);
    json_decref(out);
    fx_free(&f);
}

/* ---- arguments <-> JSON ---------------------------------------------------------------- */

/* from_json(text) -> to_json -> from_json gives the same bytes. */
static void round_trip(const char *contract, const char *method, const char *text)
{
    cv_buf a = {0}, b = {0};
    json_t *js = NULL;
    fx_args(contract, method, text, &a);
    CHECK_OK(cv_exec_args_to_json(contract, method, a.data, a.len, &js));
    CHECK_OK(cv_exec_args_from_json(contract, method, js, &b));
    CHECK(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
    json_decref(js);
    cv_buf_free(&a);
    cv_buf_free(&b);
}

/* from_json(text) fails with code and a message containing msg. */
static void bad_json(const char *contract, const char *method, const char *text, int code,
                     const char *msg)
{
    cv_buf out = {0};
    json_t *js = json_loads(text, JSON_ALLOW_NUL, NULL);
    CHECK(js != NULL);
    CHECK_ERR(cv_exec_args_from_json(contract, method, js, &out), code);
    CHECK_MSG(msg);
    CHECK(out.len == 0);
    json_decref(js);
    cv_buf_free(&out);
}

static void test_args_json(void)
{
    cv_keypair k = fx_key(CV_SUITE_GM, 5);
    char addr[CV_ADDR_STR_MAX], pub[2 * CV_PUB_MAX + 1], text[600];
    fx_addr(&k, addr);
    fx_pub_hex(&k, pub);
    snprintf(text, sizeof text, "{\"address\":\"%s\",\"pubkey\":\"%s\",\"roles\":\"admin,notary\"}", addr, pub);
    round_trip("gov", "add_account", text);
    round_trip("gov", "propose", "{\"kind\":\"set_param\",\"key\":\"tx_window\",\"value\":\"5\"}");
    round_trip("gov", "vote", "{\"id\":\"18446744073709551615\",\"approve\":0}");
    round_trip("gov", "orgs", "{}");
    round_trip("notary", "stamp", "{\"hash\":\"0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\","
                                  "\"label\":\"\xe8\xaf\x81\xe6\x8d\xae \\\"quoted\\\"\"}");

    /* to_json renders values by type. */
    cv_buf enc = {0};
    json_t *js = NULL;
    fx_args("gov", "vote", "{\"id\":\"42\",\"approve\":1}", &enc);
    CHECK_OK(cv_exec_args_to_json("gov", "vote", enc.data, enc.len, &js));
    CHECK(json_integer_value(json_object_get(js, "id")) == 42);
    json_decref(js);
    cv_buf_free(&enc);
    fx_args("gov", "account", "{\"address\":\"00112233445566778899aabbccddeeff00112233\"}", &enc);
    CHECK_OK(cv_exec_args_to_json("gov", "account", enc.data, enc.len, &js));
    CHECK(strcmp(json_string_value(json_object_get(js, "address")),
                 "00112233445566778899aabbccddeeff00112233") == 0);
    json_decref(js);
    cv_buf_free(&enc);
    CHECK_ERR(cv_exec_args_to_json("gov", "vote", (const uint8_t *)"\x08\x01", 2, &js), CV_EINVAL);
    CHECK_MSG("'approve'");
    CHECK(js == NULL);

    const char *h = "\"0011223344556677889900112233445566778899001122334455667788990011\"";
    char t[700];
    bad_json("notary", "stamp", "{\"label\":\"x\"}", CV_EINVAL, "argument 'hash' is missing");
    snprintf(t, sizeof t, "{\"hash\":%s}", h);
    bad_json("notary", "stamp", t, CV_EINVAL, "argument 'label' is missing");
    snprintf(t, sizeof t, "{\"hash\":%s,\"label\":\"\",\"extra\":1}", h);
    bad_json("notary", "stamp", t, CV_EINVAL, "notary.stamp has no argument 'extra'");
    bad_json("notary", "stamp", "{\"hash\":5,\"label\":\"\"}", CV_EINVAL, "'hash' must be a hex string");
    bad_json("notary", "stamp", "{\"hash\":\"zz\",\"label\":\"\"}", CV_EINVAL, "'hash' must be hex");
    bad_json("notary", "stamp", "{\"hash\":\"0011\",\"label\":\"\"}", CV_EINVAL, "'hash' has 2 bytes, a hash has 32");
    snprintf(t, sizeof t, "{\"hash\":%s,\"label\":7}", h);
    bad_json("notary", "stamp", t, CV_EINVAL, "'label' must be a string");
    snprintf(t, sizeof t, "{\"hash\":%s,\"label\":\"a\\u0000b\"}", h);
    bad_json("notary", "stamp", t, CV_EINVAL, "'label' contains a NUL");
    char longer[400];
    memset(longer, 'x', 257);
    longer[257] = '\0';
    snprintf(t, sizeof t, "{\"hash\":%s,\"label\":\"%s\"}", h, longer);
    bad_json("notary", "stamp", t, CV_EINVAL, "'label' has 257 bytes, more than the maximum 256");
    bad_json("gov", "vote", "{\"id\":1,\"approve\":2}", CV_EINVAL, "'approve' is 2, more than the maximum 1");
    bad_json("gov", "vote", "{\"id\":-1,\"approve\":0}", CV_EINVAL, "'id' must be a non-negative integer");
    bad_json("gov", "vote", "{\"id\":\"007\",\"approve\":0}", CV_EINVAL, "'id' must be");
    bad_json("gov", "vote", "{\"id\":1.5,\"approve\":0}", CV_EINVAL, "'id' must be");
    bad_json("gov", "vote", "[1, 0]", CV_EINVAL, "arguments of gov.vote must be a JSON object");
    bad_json("gov", "account", "{\"address\":\"std:1234\"}", CV_EINVAL, "'address' is not an address");
    bad_json("gov", "nope", "{}", CV_ENOTFOUND, "contract gov has no method 'nope'");
    bad_json("nope", "x", "{}", CV_ENOTFOUND, "unknown contract 'nope'");
    cv_key_wipe(&k);
}

static void test_describe(void)
{
    json_t *d = cv_exec_describe();
    CHECK(json_array_size(d) == 3);
    json_t *gov = json_array_get(d, 0), *notary = json_array_get(d, 1);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(d, 2), "name")), "trace") == 0);
    CHECK(strcmp(json_string_value(json_object_get(gov, "name")), "gov") == 0);
    CHECK(strcmp(json_string_value(json_object_get(notary, "name")), "notary") == 0);
    json_t *stamp = json_array_get(json_object_get(notary, "methods"), 0);
    CHECK(strcmp(json_string_value(json_object_get(stamp, "role")), "notary") == 0);
    CHECK(json_is_false(json_object_get(stamp, "query")));
    json_t *arg = json_array_get(json_object_get(stamp, "args"), 1);
    CHECK(strcmp(json_string_value(json_object_get(arg, "type")), "str") == 0);
    CHECK(json_integer_value(json_object_get(arg, "max")) == 256);
    json_t *get = json_array_get(json_object_get(notary, "methods"), 1);
    CHECK(json_is_true(json_object_get(get, "query")) && json_is_null(json_object_get(get, "role")));
    json_decref(d);
}

/* ---- the overlay itself --------------------------------------------------------------------- */

static int dummy_get(void *ctx, const uint8_t *key, size_t key_len, cv_buf *value)
{
    if (key_len == 1 && key[0] == 'c') /* committed: c = "old" */
        return cv_buf_append(value, "old", 3);
    return CV_ENOTFOUND;
}

static void test_overlay(void)
{
    cv_state_source src = {dummy_get, NULL, NULL, NULL};
    cv_state st;
    cv_buf v = {0};
    CHECK_OK(cv_state_init(&st, &src));
    CHECK_OK(cv_state_get(&st, (const uint8_t *)"c", 1, &v));
    CHECK(v.len == 3 && memcmp(v.data, "old", 3) == 0);
    /* a discarded transaction leaves nothing */
    CHECK_OK(cv_state_set(&st, (const uint8_t *)"c", 1, NULL, 0));
    CHECK_OK(cv_state_set(&st, (const uint8_t *)"a", 1, (const uint8_t *)"1", 1));
    CHECK_ERR(cv_state_get(&st, (const uint8_t *)"c", 1, &v), CV_ENOTFOUND);
    cv_state_discard_tx(&st);
    CHECK_OK(cv_state_get(&st, (const uint8_t *)"c", 1, &v));
    CHECK_ERR(cv_state_get(&st, (const uint8_t *)"a", 1, &v), CV_ENOTFOUND);
    /* many keys, overwritten and deleted across transactions */
    char key[16];
    for (unsigned i = 0; i < 20000; i++) {
        int n = snprintf(key, sizeof key, "k%u", i % 7000);
        CHECK_OK(cv_state_set(&st, (const uint8_t *)key, (size_t)n, (const uint8_t *)&i, sizeof i));
        if (i % 10 == 9)
            CHECK_OK(cv_state_commit_tx(&st));
    }
    CHECK_OK(cv_state_set(&st, (const uint8_t *)"c", 1, NULL, 0));
    CHECK_OK(cv_state_set(&st, (const uint8_t *)"e", 1, (const uint8_t *)"", 0));
    CHECK_OK(cv_state_commit_tx(&st));
    CHECK_OK(cv_state_get(&st, (const uint8_t *)"k6999", 5, &v));
    unsigned last;
    memcpy(&last, v.data, sizeof last);
    CHECK(last == 13999);
    cv_kv *w;
    size_t n;
    CHECK_OK(cv_state_write_set(&st, &w, &n));
    CHECK(n == 7002);
    CHECK(w[0].key_len == 1 && w[0].key[0] == 'c' && w[0].value == NULL);
    CHECK(w[1].key_len == 1 && w[1].key[0] == 'e' && w[1].value != NULL && w[1].value_len == 0);
    for (size_t i = 1; i < n; i++) {
        size_t m = w[i - 1].key_len < w[i].key_len ? w[i - 1].key_len : w[i].key_len;
        int c = memcmp(w[i - 1].key, w[i].key, m);
        CHECK(c < 0 || (c == 0 && w[i - 1].key_len < w[i].key_len));
    }
    /* a delete and an empty value hash differently */
    uint8_t r1[CV_HASH_LEN], r2[CV_HASH_LEN], prev[CV_HASH_LEN] = {0};
    CHECK_OK(cv_state_root(CV_SUITE_STD, prev, w, 1, r1));
    cv_kv empty = {w[0].key, 1, (const uint8_t *)"", 0};
    CHECK_OK(cv_state_root(CV_SUITE_STD, prev, &empty, 1, r2));
    CHECK(memcmp(r1, r2, CV_HASH_LEN) != 0);
    free(w);
    cv_buf_free(&v);
    cv_state_free(&st);
}

/* ---- a block on top of committed state (cv_state_overlay) -------------------------- */

typedef struct {
    cv_buf out;
} scan_log;

static int log_kv(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len)
{
    scan_log *l = ctx;
    uint8_t lens[2] = {(uint8_t)key_len, (uint8_t)value_len};
    CHECK_OK(cv_buf_append(&l->out, lens, 2));
    CHECK_OK(cv_buf_append(&l->out, key, key_len));
    CHECK_OK(cv_buf_append(&l->out, value, value_len));
    return l->out.len > 400 && value_len == 1 && value[0] == '!'; /* a callback that stops the scan */
}

/* Everything a scan of src under prefix with limit visits, and what it returned. */
static void scan_into(const cv_state_source *src, const char *prefix, size_t limit, cv_buf *out, int *rc)
{
    scan_log l = {{0}};
    *rc = src->scan(src->ctx, (const uint8_t *)prefix, strlen(prefix), limit, log_kv, &l);
    *out = l.out;
}

static const char *const scan_prefixes[] = {"", "a", "b", "k1", "k2", "k3", "k35", "z"};
static const size_t scan_limits[] = {0, 1, 2, 5, 17, SIZE_MAX};

/* Base keys k000..k399 = "v"; the block deletes every 7th, overwrites every
 * 5th with "!", adds "b..." keys and a run past the end: overlay(base,
 * block) must read exactly like base with the block committed. */
static void test_overlay_synthetic(void)
{
    cv_state_mem *a, *b;
    CHECK_OK(cv_state_mem_new(&a));
    CHECK_OK(cv_state_mem_new(&b));
    char keys[700][8];
    cv_kv base[400], block[700];
    size_t nblock = 0;
    for (int i = 0; i < 400; i++) {
        snprintf(keys[i], sizeof keys[i], "k%03d", i);
        base[i] = (cv_kv){(const uint8_t *)keys[i], 4, (const uint8_t *)"v", 1};
    }
    for (int i = 0; i < 100; i++) /* sorts before the k's */
        snprintf(keys[400 + i], sizeof keys[400 + i], "b%02d", i);
    for (int i = 0; i < 100; i++)
        block[nblock++] = (cv_kv){(const uint8_t *)keys[400 + i], 3, (const uint8_t *)"n", 1};
    for (int i = 0; i < 400; i++)
        if (i % 7 == 0)
            block[nblock++] = (cv_kv){(const uint8_t *)keys[i], 4, NULL, 0};
        else if (i % 5 == 0)
            block[nblock++] = (cv_kv){(const uint8_t *)keys[i], 4, (const uint8_t *)"!", 1};
    for (int i = 0; i < 100; i++) { /* k400..k499: after every base key */
        snprintf(keys[500 + i], sizeof keys[500 + i], "k%03d", 400 + i);
        block[nblock++] = (cv_kv){(const uint8_t *)keys[500 + i], 4, (const uint8_t *)"n", 1};
    }
    block[nblock++] = (cv_kv){(const uint8_t *)"zz-gone", 7, NULL, 0}; /* deletes a key never set */
    cv_exec_result r0 = {.writes = base, .nwrites = 400}, r1 = {.writes = block, .nwrites = nblock};
    CHECK_OK(cv_state_mem_commit(a, &r0, NULL));
    CHECK_OK(cv_state_mem_commit(b, &r0, NULL));
    CHECK_OK(cv_state_mem_commit(b, &r1, NULL));
    cv_state_source src_a = cv_state_mem_source(a), src_b = cv_state_mem_source(b), over;
    cv_state_overlay o;
    CHECK_OK(cv_state_overlay_init(&o, &src_a, &r1, NULL));
    over = cv_state_overlay_source(&o);
    for (size_t p = 0; p < sizeof scan_prefixes / sizeof *scan_prefixes; p++)
        for (size_t l = 0; l < sizeof scan_limits / sizeof *scan_limits; l++) {
            cv_buf want, got;
            int want_rc, got_rc;
            scan_into(&src_b, scan_prefixes[p], scan_limits[l], &want, &want_rc);
            scan_into(&over, scan_prefixes[p], scan_limits[l], &got, &got_rc);
            CHECK(want_rc == got_rc && want.len == got.len && (!want.len || memcmp(want.data, got.data, want.len) == 0));
            cv_buf_free(&want);
            cv_buf_free(&got);
        }
    cv_buf v1 = {0}, v2 = {0};
    for (int i = 0; i < 600; i++) {
        size_t len = strlen(keys[i]);
        int rc1 = src_b.get(src_b.ctx, (const uint8_t *)keys[i], len, &v1);
        int rc2 = over.get(over.ctx, (const uint8_t *)keys[i], len, &v2);
        CHECK(rc1 == rc2 && (rc1 != CV_OK || (v1.len == v2.len && memcmp(v1.data, v2.data, v1.len) == 0)));
    }
    cv_buf_free(&v1);
    cv_buf_free(&v2);
    cv_state_overlay_free(&o);
    cv_state_mem_free(a);
    cv_state_mem_free(b);
}

/* A real block (stamps and a gov vote that adds a validator) read through
 * the overlay before it is committed: the next block executes the same on
 * it as on the committed state (replays refused), and the validators it
 * leaves are visible. */
static void test_overlay_block(cv_suite suite)
{
    fx_chain f;
    char args[400], pub[2 * CV_PUB_MAX + 1];
    fx_init(&f, suite, 4);
    fx_pub_hex(&f.admin[1], pub);
    cv_tx b2[5];
    snprintf(args, sizeof args, "{\"kind\":\"set_validator\",\"key\":\"%s\",\"value\":\"5\"}", pub);
    b2[0] = fx_tx(&f, &f.admin[0], "gov", "propose", args);
    b2[1] = fx_tx(&f, &f.admin[1], "gov", "vote", "{\"id\":1,\"approve\":1}");
    b2[2] = fx_tx(&f, &f.admin[2], "gov", "vote", "{\"id\":1,\"approve\":1}");
    b2[3] = stamp_tx_with(&f, &f.notary, f.g.chain.chain_id, f.height + 5, 1);
    b2[4] = stamp_tx(&f, &f.notary, 2);
    cv_exec_result r2, r3_over, r3_committed;
    fx_exec(&f, b2, 5, NULL, &r2);
    CHECK(r2.failed == 0 && cv_exec_changes_validators(&r2));
    cv_state_overlay o;
    CHECK_OK(cv_state_overlay_init(&o, &f.src, &r2, b2));
    cv_state_source over = cv_state_overlay_source(&o);
    cv_genesis_validator vals[4];
    size_t n = 0;
    CHECK_OK(cv_exec_validators(&f.src, vals, 4, &n));
    CHECK(n == 1);
    CHECK_OK(cv_exec_validators(&over, vals, 4, &n));
    CHECK(n == 2);
    CHECK_ERR(cv_exec_validators(&over, vals, 1, &n), CV_EFULL);
    for (size_t i = 0; i < 5; i++) {
        uint8_t key[CV_REPLAY_KEY_LEN];
        cv_tx_replay_key(&b2[i], key);
        CHECK_OK(over.replay_seen(over.ctx, key));
    }
    /* Block 3 replays a block-2 transaction and stamps a new hash. */
    cv_tx b3[2] = {b2[3], stamp_tx_with(&f, &f.notary, f.g.chain.chain_id, f.height + 5, 3)};
    cv_block_ctx ctx = fx_ctx(&f);
    ctx.height++;
    ctx.time_ms += 1000; /* as fx_ctx gives it once block 2 is committed */
    memcpy(ctx.prev_state_root, r2.state_root, CV_HASH_LEN);
    CHECK_OK(cv_exec_block(&ctx, &over, b3, 2, NULL, &r3_over));
    cv_state_overlay_free(&o);
    fx_commit(&f, b2, &r2);
    CHECK(!cv_exec_changes_validators(&r3_over));
    fx_exec(&f, b3, 2, NULL, &r3_committed);
    CHECK(r3_committed.failed == 1);
    FX_EXPECT(&r3_committed, 0, CV_EEXIST, "already committed");
    CHECK(same_writes(&r3_over, &r3_committed) && same_receipts(&r3_over, &r3_committed));
    CHECK(memcmp(r3_over.state_root, r3_committed.state_root, CV_HASH_LEN) == 0);
    cv_exec_result_free(&r2);
    cv_exec_result_free(&r3_over);
    cv_exec_result_free(&r3_committed);
    fx_free(&f);
}

int main(void)
{
    CHECK_OK(cv_crypto_init());
    test_overlay();
    test_overlay_synthetic();
    test_args_json();
    test_describe();
    for (int i = 0; i < 2; i++) {
        test_genesis(suites[i]);
        test_checks(suites[i]);
        test_size_limit(suites[i]);
        test_replay(suites[i]);
        test_failures_change_nothing(suites[i]);
        test_determinism(suites[i]);
        test_check_tx(suites[i]);
        test_queries(suites[i]);
        test_overlay_block(suites[i]);
    }
    cv_crypto_cleanup();
    return check_done();
}
