/* test_proof.c: notary receipts (src/proof), on a block built here with
 * the real executor, header and certificate code, in both suites:
 *   - receipts of batches of 1, 7 and 1,000 file hashes build, render, parse
 *     back to the same text and verify, for every (or a spread of) leaf;
 *   - every field of a receipt, tampered in turn (and written in canonical
 *     form, so only the verification can catch it), is refused with a
 *     message naming that field; so is any single byte of the text changed;
 *   - another file, another genesis, a failed stamp, a certificate by a key
 *     that is not the validator, a header naming another validator set;
 *   - malformed receipts (not JSON, missing, unknown or duplicate members,
 *     wrong types, uppercase hex, validator changes) are refused by name. */
#include <stdlib.h>

#include "check.h"
#include "consensus/vote.h"
#include "exec_fixture.h"
#include "node/commit.h"
#include "proof/proof.h"

#define OTHERS 4 /* other stamps in the block, before and after ours */

typedef struct {
    fx_chain f;
    cv_genesis g;          /* f's genesis, parsed from its JSON text (so it has a genesis hash) */
    cv_merkle_tree batch;
    uint8_t (*files)[CV_HASH_LEN];
    cv_proof_anchor anchor;
} chain;

/* The root of a batch of n file hashes (all different per seed). */
static void make_batch(chain *c, size_t n, uint8_t seed)
{
    uint8_t(*leaves)[CV_HASH_LEN] = malloc(n * CV_HASH_LEN);
    c->files = malloc(n * CV_HASH_LEN);
    for (size_t i = 0; i < n; i++) {
        uint8_t data[9] = {seed};
        memcpy(data + 1, &i, sizeof i);
        CHECK_OK(cv_hash(c->f.g.chain.suite, data, sizeof data, c->files[i]));
        CHECK_OK(cv_merkle_leaf_hash(c->f.g.chain.suite, c->files[i], CV_HASH_LEN, leaves[i]));
    }
    CHECK_OK(cv_merkle_tree_build(c->f.g.chain.suite, &leaves[0][0], n, &c->batch));
    free(leaves);
}

static cv_tx stamp_of(chain *c, const cv_keypair *key, const uint8_t hash[CV_HASH_LEN], const char *label)
{
    char hex[2 * CV_HASH_LEN + 1], args[400];
    cv_hex_encode(hash, CV_HASH_LEN, hex);
    snprintf(args, sizeof args, "{\"hash\": \"%s\", \"label\": \"%s\"}", hex, label);
    return fx_tx(&c->f, key, "notary", "stamp", args);
}

/* The audit path of entry i among n entry hashes (leaf = H(0x00 || entry)). */
static void path_of(cv_suite s, const uint8_t (*entries)[CV_HASH_LEN], size_t n, size_t i, cv_proof_path *out)
{
    uint8_t(*leaves)[CV_HASH_LEN] = malloc(n * CV_HASH_LEN);
    for (size_t k = 0; k < n; k++)
        CHECK_OK(cv_merkle_leaf_hash(s, entries[k], CV_HASH_LEN, leaves[k]));
    CHECK_OK(cv_merkle_proof(s, &leaves[0][0], n, i, &out->hashes[0][0], &out->n));
    free(leaves);
}

/* Block 1 of the chain: OTHERS / 2 stamps, the batch root's stamp (tx `ours`,
 * at index OTHERS / 2), OTHERS / 2 more; certified by cert_key as validator
 * 0, its header naming validators_hash. Fills c->anchor. */
static void make_block(chain *c, cv_tx ours, const cv_keypair *cert_key, const uint8_t *validators_hash)
{
    cv_tx txs[OTHERS + 1];
    uint8_t tx_hashes[OTHERS + 1][CV_HASH_LEN];
    cv_suite s = c->f.g.chain.suite;
    for (size_t i = 0; i < OTHERS + 1; i++) {
        uint8_t other[CV_HASH_LEN] = {0xee, (uint8_t)i};
        txs[i] = i == OTHERS / 2 ? ours : stamp_of(c, &c->f.notary, other, "other");
        memcpy(tx_hashes[i], txs[i].hash, CV_HASH_LEN);
    }
    cv_exec_result r;
    fx_exec(&c->f, txs, OTHERS + 1, NULL, &r);
    cv_header h = {.height = 1, .time_ms = FX_TIME0 + 1234};
    strcpy(h.chain_id, c->f.g.chain.chain_id);
    memcpy(h.validators_hash, validators_hash, CV_HASH_LEN);
    CHECK_OK(cv_address(&c->f.admin[0].pub, h.proposer));
    CHECK_OK(cv_commit_header(s, &h, &r, txs, OTHERS + 1));
    uint8_t hash[CV_HASH_LEN];
    CHECK_OK(cv_header_encode(&h, &c->anchor.header));
    CHECK_OK(cv_hash(s, c->anchor.header.data, c->anchor.header.len, hash));
    CHECK_OK(cv_cert_sign_single(h.chain_id, cert_key, 0, 1, hash, &c->anchor.cert));
    c->anchor.index = OTHERS / 2;
    path_of(s, (const uint8_t(*)[CV_HASH_LEN])tx_hashes, OTHERS + 1, OTHERS / 2, &c->anchor.tx_path);
    path_of(s, (const uint8_t(*)[CV_HASH_LEN])r.receipt_hashes, OTHERS + 1, OTHERS / 2, &c->anchor.result_path);
    CHECK_OK(cv_buf_append(&c->anchor.result, r.receipts[OTHERS / 2].data, r.receipts[OTHERS / 2].len));
    cv_exec_result_free(&r);
}

enum { NORMAL, FAILED_STAMP, FOREIGN_CERT, OTHER_SET };

/* A chain of suite s whose block 1 stamps a batch of n files; the variants
 * break one thing: the stamp fails (its sender lacks the notary role), the
 * certificate is signed by a key that is not the validator's, the header
 * names another validator set (certified by the real validator). */
static void chain_init(chain *c, cv_suite s, size_t n, const char *label, int variant)
{
    memset(c, 0, sizeof *c);
    fx_init(&c->f, s, 2);
    cv_buf text = {0};
    CHECK_OK(cv_genesis_to_json(&c->f.g, &text));
    CHECK_OK(cv_genesis_parse((const char *)text.data, text.len, &c->g));
    cv_buf_free(&text);
    make_batch(c, n, 1);
    uint8_t batch_hash[CV_HASH_LEN];
    CHECK_OK(cv_proof_batch_hash(s, cv_merkle_tree_root(&c->batch), n, batch_hash));
    cv_tx ours = stamp_of(c, variant == FAILED_STAMP ? &c->f.plain : &c->f.notary, batch_hash, label);
    const cv_buf *raw = c->f.bufs[c->f.nbufs - 1]; /* its signed bytes */
    CHECK_OK(cv_buf_append(&c->anchor.tx, raw->data, raw->len));
    cv_valset *vs = malloc(sizeof *vs);
    cv_valset_entry e = {variant == OTHER_SET ? c->f.admin[1].pub : c->f.admin[0].pub, 10};
    CHECK_OK(cv_valset_init(vs, s, &e, 1));
    make_block(c, ours, variant == FOREIGN_CERT ? &c->f.notary : &c->f.admin[0], vs->hash);
    free(vs);
}

static void chain_free(chain *c)
{
    cv_proof_anchor_free(&c->anchor);
    cv_merkle_tree_free(&c->batch);
    free(c->files);
    cv_genesis_free(&c->g);
    fx_free(&c->f);
}

/* The canonical receipt of file i. */
static void receipt_of(chain *c, size_t i, cv_buf *text)
{
    cv_proof *p = calloc(1, sizeof *p);
    CHECK_OK(cv_proof_build(&c->g, &c->anchor, p));
    CHECK_OK(cv_proof_set_file(p, &c->batch, c->files[i], i));
    cv_buf_reset(text);
    CHECK_OK(cv_proof_render(p, text));
    cv_proof_free(p);
    free(p);
}

/* Parses and verifies a receipt text against a file hash. */
static int check_text(chain *c, const uint8_t *text, size_t len, const uint8_t file[CV_HASH_LEN], cv_proof_verdict *v)
{
    cv_proof *p = calloc(1, sizeof *p);
    int rc = cv_proof_parse(text, len, p);
    if (!rc)
        rc = cv_proof_verify(p, &c->g, file, v);
    cv_proof_free(p);
    free(p);
    return rc;
}

/* Batches of 1, 7 and 1,000 files: every receipt (a spread of the 1,000)
 * verifies and says who stamped what, when, certified by whom; a receipt
 * does not verify another file of its batch. */
static void test_batches(cv_suite s)
{
    static const size_t sizes[] = {1, 7, 1000};
    char stamper[CV_ADDR_STR_MAX], validator[CV_ADDR_STR_MAX];
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        chain c;
        cv_buf text = {0};
        cv_proof_verdict v;
        chain_init(&c, s, sizes[k], "batch label", NORMAL);
        fx_addr(&c.f.notary, stamper);
        fx_addr(&c.f.admin[0], validator); /* the fixture's one validator */
        size_t step = sizes[k] > 10 ? 97 : 1;
        for (size_t i = 0; i < sizes[k]; i += step) {
            receipt_of(&c, i, &text);
            CHECK_OK(check_text(&c, text.data, text.len, c.files[i], &v));
            CHECK(strcmp(v.stamper, stamper) == 0 && strcmp(v.org, "org1") == 0);
            CHECK(strcmp(v.label, "batch label") == 0 && v.height == 1);
            CHECK(strcmp(v.time, "2023-11-14T22:13:21.234Z") == 0 && v.time_ms == FX_TIME0 + 1234);
            CHECK(v.nsigners == 1 && v.nvalidators == 1 && strcmp(v.signers[0].address, validator) == 0 &&
                  strcmp(v.signers[0].org, "org1") == 0 && v.signed_power == 10 && v.total_power == 10);
            if (sizes[k] > 1) {
                CHECK_ERR(check_text(&c, text.data, text.len, c.files[(i + 1) % sizes[k]], &v), CV_EINVAL);
                CHECK_MSG("file.hash");
            }
        }
        cv_buf_free(&text);
        chain_free(&c);
    }
}

/* ---- tampering ---------------------------------------------------------------- */

typedef struct {
    chain *c;
    json_t *doc;
    size_t tried;
} tamper;

/* doc, rendered canonically, is refused with a message naming `name`. */
static void expect_refused(tamper *t, const char *path, const char *name)
{
    char *text = json_dumps(t->doc, JSON_INDENT(2));
    cv_buf b = {0};
    cv_proof_verdict v;
    CHECK_OK(cv_buf_append(&b, text, strlen(text)));
    CHECK_OK(cv_buf_append_byte(&b, '\n'));
    int rc = check_text(t->c, b.data, b.len, t->c->files[3], &v);
    int named = rc != CV_OK && strstr(cv_errmsg(), name) != NULL;
    if (!named)
        fprintf(stderr, "tampered %s: %s\n", path, rc ? cv_errmsg() : "ACCEPTED");
    CHECK(named);
    t->tried++;
    free(text);
    cv_buf_free(&b);
}

static int is_hex(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return n > 0 && n % 2 == 0;
}

/* Replaces the value at (parent, key or index) with v (stolen). */
static void put(json_t *parent, const char *key, size_t index, json_t *v)
{
    if (key)
        json_object_set_new(parent, key, v);
    else
        json_array_set_new(parent, index, v);
}

static void tamper_value(tamper *t, json_t *parent, const char *key, size_t index, const char *path, const char *name);

static void tamper_string(tamper *t, json_t *parent, const char *key, size_t index, json_t *v, const char *path,
                          const char *name)
{
    const char *s = json_string_value(v);
    size_t n = strlen(s), at[3] = {0, n / 2, n ? n - 1 : 0};
    char *copy = malloc(n + 2);
    if (is_hex(s)) { /* another hex digit at the start, the middle and the end */
        for (size_t i = 0; i < 3; i++) {
            memcpy(copy, s, n + 1);
            copy[at[i]] = copy[at[i]] == '0' ? '1' : '0';
            put(parent, key, index, json_string(copy));
            expect_refused(t, path, name);
        }
    } else { /* another first character, or one where there was none */
        memcpy(copy, n ? s : "x", n ? n + 1 : 2);
        copy[0] = copy[0] == 'Z' ? 'Y' : n ? 'Z' : 'x';
        put(parent, key, index, json_string(copy));
        expect_refused(t, path, name);
    }
    free(copy);
}

static void tamper_array(tamper *t, json_t *a, const char *path, const char *name)
{
    size_t n = json_array_size(a);
    char item[160];
    for (size_t i = 0; i < n; i++) {
        snprintf(item, sizeof item, "%s[%zu]", path, i);
        tamper_value(t, a, NULL, i, item, name);
    }
    json_t *extra = n ? json_deep_copy(json_array_get(a, 0)) : json_object();
    json_array_append_new(a, extra); /* one more */
    expect_refused(t, path, name);
    json_array_remove(a, n);
    if (n) { /* one fewer */
        json_t *last = json_incref(json_array_get(a, n - 1));
        json_array_remove(a, n - 1);
        expect_refused(t, path, name);
        json_array_append_new(a, last);
    }
}

/* Refills o with its n members keys/values, in order, leaving out member skip. */
static void refill(json_t *o, char **keys, json_t **values, size_t n, size_t skip)
{
    json_object_clear(o);
    for (size_t i = 0; i < n; i++)
        if (i != skip)
            json_object_set(o, keys[i], values[i]);
}

static void tamper_object(tamper *t, json_t *o, const char *path)
{
    size_t n = json_object_size(o), i = 0;
    char **keys = calloc(n, sizeof *keys), member[160];
    json_t **values = calloc(n, sizeof *values);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        keys[i] = strdup(key);
        values[i++] = json_incref(v);
    }
    for (i = 0; i < n; i++) {
        snprintf(member, sizeof member, "%s%s%s", path, path[0] ? "." : "", keys[i]);
        tamper_value(t, o, keys[i], 0, member, member);
    }
    json_object_set_new(o, "extra", json_true()); /* an unknown member */
    expect_refused(t, path[0] ? path : "receipt", "unknown member \"extra\"");
    for (i = 0; i < n; i++) { /* each member missing in turn */
        snprintf(member, sizeof member, "%s%s%s", path, path[0] ? "." : "", keys[i]);
        refill(o, keys, values, n, i);
        expect_refused(t, member, member);
    }
    refill(o, keys, values, n, n);
    for (i = 0; i < n; i++) {
        free(keys[i]);
        json_decref(values[i]);
    }
    free(keys);
    free(values);
}

/* Every tampering of the value at (parent, key or index), then restores it.
 * name: what the error must name (array items: the array). */
static void tamper_value(tamper *t, json_t *parent, const char *key, size_t index, const char *path, const char *name)
{
    json_t *v = json_incref(key ? json_object_get(parent, key) : json_array_get(parent, index));
    if (json_is_object(v))
        tamper_object(t, v, path);
    else if (json_is_array(v))
        tamper_array(t, v, path, name);
    else if (json_is_string(v))
        tamper_string(t, parent, key, index, v, path, name);
    else if (json_is_integer(v)) {
        put(parent, key, index, json_integer(json_integer_value(v) + 1));
        expect_refused(t, path, name);
    }
    put(parent, key, index, v);
}

/* Every field of a receipt changed in turn (written in canonical form, so
 * that only verification can tell), each member missing, an unknown member
 * in every object, paths one hash longer or shorter: all refused, naming the
 * field. Then every byte of the text changed in turn (a spread when quick). */
static void test_tamper(cv_suite s)
{
    chain c;
    cv_buf text = {0}, bad = {0};
    cv_proof_verdict v;
    json_error_t jerr;
    chain_init(&c, s, 7, "tamper", NORMAL);
    receipt_of(&c, 3, &text);
    CHECK_OK(check_text(&c, text.data, text.len, c.files[3], &v));
    tamper t = {&c, json_loadb((const char *)text.data, text.len, 0, &jerr), 0};
    tamper_object(&t, t.doc, "");
    fprintf(stderr, "%s: %zu tampered receipts refused by name\n", cv_suite_name(s), t.tried);
    json_decref(t.doc);
    size_t step = (size_t)check_scale(s == CV_SUITE_STD ? 1 : 5, 61), refused = 0, tried = 0;
    for (size_t i = 0; i < text.len; i += step, tried++) {
        cv_buf_reset(&bad);
        CHECK_OK(cv_buf_append(&bad, text.data, text.len));
        bad.data[i] ^= (uint8_t)(1u << (i % 7));
        refused += check_text(&c, bad.data, bad.len, c.files[3], &v) != CV_OK;
    }
    fprintf(stderr, "%s: %zu of %zu receipts with one byte changed refused\n", cv_suite_name(s), refused, tried);
    CHECK(refused == tried);
    cv_buf_free(&bad);
    cv_buf_free(&text);
    chain_free(&c);
}

/* Receipts that are well formed but wrong, or checked against the wrong genesis. */
static void test_wrong(cv_suite s)
{
    static const struct { int variant; const char *msg; } cases[] = {
        {FAILED_STAMP, "stamp.result: the stamp transaction failed: notary.stamp requires role 'notary'"},
        {FOREIGN_CERT, "block.cert does not certify block.hash: certificate signature of validator 0"},
        {OTHER_SET, "block.header names another validator set"},
    };
    cv_buf text = {0};
    cv_proof_verdict v;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        chain c;
        chain_init(&c, s, 2, "", cases[k].variant);
        receipt_of(&c, 1, &text);
        CHECK(check_text(&c, text.data, text.len, c.files[1], &v) != CV_OK);
        CHECK_MSG(cases[k].msg);
        chain_free(&c);
    }
    /* A good receipt against another chain's genesis, and another genesis of this chain. */
    chain c;
    chain_init(&c, s, 2, "", NORMAL);
    receipt_of(&c, 0, &text);
    cv_buf other = {0};
    cv_genesis saved = c.g;
    snprintf(c.f.g.chain.chain_id, sizeof c.f.g.chain.chain_id, "other-chain");
    CHECK_OK(cv_genesis_to_json(&c.f.g, &other));
    CHECK_OK(cv_genesis_parse((const char *)other.data, other.len, &c.g));
    CHECK(check_text(&c, text.data, text.len, c.files[0], &v) != CV_OK);
    CHECK_MSG("chain.chain_id: the receipt is for chain \"test-chain\", the genesis file is chain \"other-chain\"");
    cv_genesis_free(&c.g);
    snprintf(c.f.g.chain.chain_id, sizeof c.f.g.chain.chain_id, "test-chain");
    c.f.g.validators[0].power = 11;
    cv_buf_reset(&other);
    CHECK_OK(cv_genesis_to_json(&c.f.g, &other));
    CHECK_OK(cv_genesis_parse((const char *)other.data, other.len, &c.g));
    CHECK(check_text(&c, text.data, text.len, c.files[0], &v) != CV_OK);
    CHECK_MSG("chain.genesis_hash");
    cv_genesis_free(&c.g);
    c.g = saved;
    CHECK_OK(check_text(&c, text.data, text.len, c.files[0], &v));
    cv_buf_free(&other);
    cv_buf_free(&text);
    chain_free(&c);
}

/* Text that is not a receipt at all. */
static void test_malformed(void)
{
    static const struct { const char *text, *msg; } cases[] = {
        {"", "receipt: not JSON"},
        {"[]", "receipt: receipt must be an object"},
        {"{\"format\": 1}", "receipt: receipt.chain is missing"},
        {"{\"format\": \"x\", \"format\": \"y\"}", "duplicate object key"},
    };
    cv_proof p;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_ERR(cv_proof_parse((const uint8_t *)cases[i].text, strlen(cases[i].text), &p), CV_EINVAL);
        CHECK_MSG(cases[i].msg);
    }
    /* Uppercase hex, a malformed validator change, a non-integer and a canonical-form change. */
    chain c;
    cv_buf text = {0};
    chain_init(&c, CV_SUITE_STD, 1, "", NORMAL);
    receipt_of(&c, 0, &text);
    const char *at = strstr((const char *)text.data, "\"genesis_hash\": \"") + 16;
    char *copy = strndup((const char *)text.data, text.len);
    copy[at - (const char *)text.data + 1] = 'A';
    CHECK_ERR(cv_proof_parse((const uint8_t *)copy, text.len, &p), CV_EINVAL);
    CHECK_MSG("chain.genesis_hash must be 64 lowercase hex digits");
    free(copy);
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)text.data, text.len, 0, &jerr);
    json_array_append_new(json_object_get(json_object_get(doc, "validators"), "changes"), json_object());
    char *changed = json_dumps(doc, JSON_INDENT(2));
    CHECK_ERR(cv_proof_parse((const uint8_t *)changed, strlen(changed), &p), CV_EINVAL);
    CHECK_MSG("validators.changes[0].height is missing");
    free(changed);
    json_object_set_new(json_object_get(doc, "block"), "height", json_real(1.0));
    changed = json_dumps(doc, JSON_INDENT(2));
    CHECK_ERR(cv_proof_parse((const uint8_t *)changed, strlen(changed), &p), CV_EINVAL);
    CHECK_MSG("block.height must be an integer");
    free(changed);
    json_decref(doc);
    CHECK_ERR(cv_proof_parse(text.data, text.len - 1, &p), CV_EINVAL); /* the final newline dropped */
    CHECK_MSG("differs from the canonical form at byte");
    cv_buf_free(&text);
    chain_free(&c);
}

int main(void)
{
    CHECK_OK(cv_crypto_init());
    test_batches(CV_SUITE_STD);
    test_batches(CV_SUITE_GM);
    test_tamper(CV_SUITE_STD);
    test_tamper(CV_SUITE_GM);
    test_wrong(CV_SUITE_STD);
    test_wrong(CV_SUITE_GM);
    test_malformed();
    cv_crypto_cleanup();
    return check_done();
}
