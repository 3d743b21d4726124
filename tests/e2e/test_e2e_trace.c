/* test_e2e_trace.c: the trace application on a real node process.
 *
 *   - permission errors, each a clear message: an account without the role
 *     of the step (receipt), a code never commissioned (receipt), a bad GTIN
 *     check digit (trace_submit refuses the document), a document that is
 *     not the transaction's event (trace_submit refuses it);
 *   - a recall over a graph of 10,052 events, bulk-submitted with
 *     tx_send_batch: a root batch transformed into 100 batches, each into 99
 *     items, and an unrelated batch with 50 products; trace_impact of the root
 *     reaches exactly its 10,000 descendants, each linking event with an
 *     inclusion proof that verifies; trace_history of an item goes up to the
 *     root. (Not-custodian errors need two organisations: test_trace.c and
 *     examples/food_chain.sh.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/epcis.h"
#include "check.h"
#include "codec/codec.h"
#include "crypto/merkle.h"
#include "exec/exec.h"
#include "harness.h"

#define MIDS 100
#define ITEMS 99     /* per mid batch */
#define OTHERS 50    /* products of the unrelated batch */
#define BATCH 1000   /* transactions per tx_send_batch */
#define ROOT "01/04006381333931/10/ROOT"
#define OTHER "01/04006381333931/10/OTHER"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A signed trace or gov transaction with encoded args, appended to raw. */
static void sign(e2e_chain *c, const char *contract, const char *method, const cv_buf *args, uint64_t expiry,
                 cv_buf *raw, uint8_t hash[CV_HASH_LEN])
{
    static uint64_t nonce;
    cv_tx tx;
    memset(&tx, 0, sizeof tx);
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", c->chain_id);
    snprintf(tx.contract, sizeof tx.contract, "%s", contract);
    snprintf(tx.method, sizeof tx.method, "%s", method);
    tx.nonce = ++nonce;
    tx.expiry = expiry;
    tx.args = args->data;
    tx.args_len = args->len;
    CHECK_OK(cv_tx_sign(&tx, &c->admin, raw));
    memcpy(hash, tx.hash, CV_HASH_LEN);
}

static uint64_t expiry_of(e2e_chain *c)
{
    uint64_t h = 0;
    CHECK_OK(e2e_height(c, &h));
    return h + 500;
}

/* Waits for a transaction; returns its receipt's error ("" if ok), owned. */
static char *wait_receipt(e2e_chain *c, const uint8_t hash[CV_HASH_LEN])
{
    json_t *res = NULL;
    CHECK_OK(e2e_call(c, "tx_wait", json_pack("{s:o, s:i}", "hash", e2e_hex(hash, CV_HASH_LEN), "timeout_ms", 60000),
                      &res));
    json_t *r = json_object_get(res, "receipt");
    const char *err = json_is_true(json_object_get(r, "ok")) ? "" : json_string_value(json_object_get(r, "error"));
    char *out = strdup(err ? err : "?");
    json_decref(res);
    return out;
}

static void set_roles(e2e_chain *c, const char *roles)
{
    char addr[CV_ADDR_STR_MAX];
    cv_buf args = {0}, raw = {0};
    uint8_t hash[CV_HASH_LEN];
    json_t *res = NULL;
    cv_address_string(&c->admin.pub, addr);
    json_t *j = json_pack("{s:s, s:s}", "address", addr, "roles", roles);
    CHECK_OK(cv_exec_args_from_json("gov", "set_roles", j, &args));
    json_decref(j);
    sign(c, "gov", "set_roles", &args, expiry_of(c), &raw, hash);
    CHECK_OK(e2e_call(c, "tx_send", json_pack("{s:o}", "tx", e2e_hex(raw.data, raw.len)), &res));
    char *err = wait_receipt(c, hash);
    CHECK(*err == '\0');
    free(err);
    json_decref(res);
    cv_buf_free(&args);
    cv_buf_free(&raw);
}

/* ---- permission errors through documents --------------------------------------------- */

#define DOC_HEAD                                                                                                  \
    "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"],\"type\":\"EPCISDocument\"," \
    "\"schemaVersion\":\"2.0\",\"creationDate\":\"2024-07-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[{"            \
    "\"type\":\"ObjectEvent\",\"eventTime\":\"2024-07-01T08:00:00+08:00\",\"eventTimeZoneOffset\":\"+08:00\","

/* Submits a one-event document with its transaction; the RPC error text or
 * (when admitted) the receipt's error, owned; "" if it was recorded. */
static char *submit_doc(e2e_chain *c, const char *text, int tamper)
{
    cv_epcis_doc d;
    cv_epcis_event ev;
    cv_buf args = {0}, raw = {0};
    const char *method;
    uint8_t hash[CV_HASH_LEN];
    json_t *res = NULL, *doc = json_loads(text, 0, NULL);
    char *out = NULL;
    CHECK_OK(cv_epcis_doc_parse(text, strlen(text), &d));
    if (cv_epcis_event_read(&d, 0, &ev) == CV_OK) {
        CHECK_OK(cv_epcis_event_tx(&ev, &method, &args));
        cv_epcis_event_free(&ev);
    } else { /* sign something; the node must refuse the document itself */
        method = "record";
        cv_buf_append(&args, "", 0);
    }
    if (tamper)
        args.data[3] ^= 1;
    sign(c, "trace", method, &args, expiry_of(c), &raw, hash);
    int rc = e2e_call(c, "trace_submit", json_pack("{s:o, s:o}", "tx", e2e_hex(raw.data, raw.len), "document", doc), &res);
    out = rc ? strdup(cv_errmsg()) : wait_receipt(c, hash);
    json_decref(res);
    cv_epcis_doc_free(&d);
    cv_buf_free(&args);
    cv_buf_free(&raw);
    return out;
}

static void expect_doc(e2e_chain *c, const char *text, int tamper, const char *want)
{
    char *got = submit_doc(c, text, tamper);
    if (!strstr(got, want))
        fprintf(stderr, "expected \"%s\", got \"%s\"\n", want, got);
    CHECK(strstr(got, want) != NULL);
    free(got);
}

static void test_permissions(e2e_chain *c)
{
    static const char commission[] = DOC_HEAD "\"action\":\"ADD\",\"bizStep\":\"commissioning\","
                                              "\"epcList\":[\"https://id.gs1.org/01/4006381333931/21/P1\"]}]}}";
    expect_doc(c, commission, 0, "lacks the role producer or processor needed to record commissioning");
    set_roles(c, "admin,producer,processor,logistics");
    expect_doc(c, commission, 1, "the transaction's arguments are not the document's event hash and facts");
    expect_doc(c, commission, 0, "");
    expect_doc(c, DOC_HEAD "\"action\":\"OBSERVE\",\"bizStep\":\"shipping\","
                           "\"epcList\":[\"https://id.gs1.org/01/4006381333931/21/NEVER\"]}]}}",
               0, "unknown code https://id.gs1.org/01/04006381333931/21/NEVER: it was never commissioned");
    expect_doc(c, DOC_HEAD "\"action\":\"OBSERVE\",\"bizStep\":\"shipping\","
                           "\"epcList\":[\"https://id.gs1.org/01/4006381333932/21/P1\"]}]}}",
               0, "GTIN 04006381333932 has a bad check digit: 2, expected 1");
}

/* ---- the 10,000-event recall graph ----------------------------------------------------------------- */

typedef struct {
    json_t *txs;
    uint8_t last[CV_HASH_LEN];
    size_t sent, pending;
    uint64_t expiry;
} bulk;

static void flush(e2e_chain *c, bulk *b)
{
    json_t *res = NULL;
    if (!b->pending)
        return;
    CHECK_OK(e2e_call(c, "tx_send_batch", json_pack("{s:o}", "txs", b->txs), &res));
    CHECK((size_t)json_integer_value(json_object_get(res, "accepted")) == b->pending);
    json_decref(res);
    b->sent += b->pending;
    b->pending = 0;
    b->txs = json_array();
    b->expiry = expiry_of(c);
    fprintf(stderr, "\r  %zu events submitted", b->sent);
}

static void add_event(e2e_chain *c, bulk *b, cv_trace_type type, const char *in, const char *out)
{
    cv_trace_facts f;
    cv_gs1_code code;
    cv_buf facts = {0}, args = {0}, raw = {0};
    uint8_t event[CV_HASH_LEN];
    memset(&f, 0, sizeof f);
    f.type = type;
    f.action = type == CV_TRACE_OBJECT ? CV_TRACE_ADD : CV_TRACE_NO_ACTION;
    strcpy(f.biz_step, "commissioning");
    strcpy(f.tz, "+00:00");
    f.event_time_ms = 1720000000000ull + b->sent + b->pending;
    if (in && cv_gs1_parse(in, &code) == CV_OK)
        CHECK_OK(cv_trace_facts_add(&f, 1, &code));
    CHECK_OK(cv_gs1_parse(out, &code));
    CHECK_OK(cv_trace_facts_add(&f, type == CV_TRACE_OBJECT ? 0 : 2, &code));
    CHECK_OK(cv_trace_facts_encode(&f, &facts));
    CHECK_OK(cv_hash(CV_SUITE_STD, facts.data, facts.len, event)); /* a synthetic hash: no document */
    cv_enc e;
    cv_enc_init(&e, &args);
    cv_enc_bytes(&e, 1, event, CV_HASH_LEN);
    cv_enc_bytes(&e, 2, facts.data, facts.len);
    CHECK_OK(cv_enc_finish(&e));
    sign(c, "trace", "record", &args, b->expiry, &raw, b->last);
    json_array_append_new(b->txs, e2e_hex(raw.data, raw.len));
    if (++b->pending == BATCH)
        flush(c, b);
    cv_trace_facts_free(&f);
    cv_buf_free(&facts);
    cv_buf_free(&args);
    cv_buf_free(&raw);
}

static void build_graph(e2e_chain *c)
{
    char mid[64], item[64];
    bulk b = {json_array(), {0}, 0, 0, expiry_of(c)};
    double t0 = now_s();
    add_event(c, &b, CV_TRACE_OBJECT, NULL, ROOT);
    add_event(c, &b, CV_TRACE_OBJECT, NULL, OTHER);
    for (int i = 0; i < MIDS; i++) {
        snprintf(mid, sizeof mid, "01/04006381333931/10/M%d", i);
        add_event(c, &b, CV_TRACE_TRANSFORMATION, ROOT, mid);
    }
    for (int k = 0; k < OTHERS; k++) {
        snprintf(item, sizeof item, "01/00000096385074/21/O%d", k);
        add_event(c, &b, CV_TRACE_TRANSFORMATION, OTHER, item);
    }
    for (int i = 0; i < MIDS; i++)
        for (int j = 0; j < ITEMS; j++) {
            snprintf(mid, sizeof mid, "01/04006381333931/10/M%d", i);
            snprintf(item, sizeof item, "01/00000096385074/21/I%d-%d", i, j);
            add_event(c, &b, CV_TRACE_TRANSFORMATION, mid, item);
        }
    flush(c, &b);
    json_decref(b.txs);
    char *err = wait_receipt(c, b.last);
    CHECK(*err == '\0');
    free(err);
    fprintf(stderr, "\n  %zu events recorded in %.1f s\n", b.sent, now_s() - t0);
    CHECK(b.sent == 2 + MIDS + OTHERS + MIDS * ITEMS);
}

/* The proof of one event leads from its transaction to its block's tx root. */
static int proof_ok(const json_t *ev)
{
    const json_t *p = json_object_get(ev, "proof"), *path = json_object_get(p, "path");
    uint8_t leaf[CV_HASH_LEN], root[CV_HASH_LEN], steps[CV_MERKLE_MAX_DEPTH * CV_HASH_LEN];
    size_t n = json_array_size(path);
    if (n > CV_MERKLE_MAX_DEPTH || cv_hex_decode(json_string_value(json_object_get(p, "leaf_hash")), leaf, CV_HASH_LEN) ||
        cv_hex_decode(json_string_value(json_object_get(p, "tx_root")), root, CV_HASH_LEN))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (cv_hex_decode(json_string_value(json_array_get(path, i)), steps + i * CV_HASH_LEN, CV_HASH_LEN))
            return 0;
    return cv_merkle_verify(CV_SUITE_STD, leaf, (uint64_t)json_integer_value(json_object_get(p, "index")),
                            (uint64_t)json_integer_value(json_object_get(p, "tx_count")), steps, n, root) == CV_OK;
}

static void test_recall(e2e_chain *c)
{
    json_t *res = NULL;
    double t0 = now_s();
    CHECK_OK(e2e_call(c, "trace_impact", json_pack("{s:s, s:i, s:b}", "code", ROOT, "limit", 20000, "documents", 0),
                      &res));
    double took = now_s() - t0;
    json_t *codes = json_object_get(res, "codes"), *events = json_object_get(res, "events"), *v;
    size_t i, made = 0, verified = 0;
    fprintf(stderr, "  trace_impact: %zu codes, %zu events with proofs in %.2f s\n", json_array_size(codes),
            json_array_size(events), took);
    CHECK(json_array_size(codes) == 1 + MIDS + MIDS * ITEMS);
    CHECK(json_is_false(json_object_get(res, "truncated")));
    json_array_foreach(codes, i, v) {
        const char *code = json_string_value(json_object_get(v, "code"));
        made += strcmp(json_string_value(json_object_get(v, "relation")), "made_from") == 0;
        CHECK(code && !strstr(code, "/21/O") && !strstr(code, "OTHER"));
    }
    CHECK(made == MIDS + MIDS * ITEMS);
    json_array_foreach(events, i, v) verified += proof_ok(v);
    CHECK(verified == json_array_size(events) && verified >= MIDS * ITEMS);
    json_decref(res);

    CHECK_OK(e2e_call(c, "trace_history", json_pack("{s:s, s:b}", "code", "01/00000096385074/21/I42-7", "documents", 0),
                      &res));
    codes = json_object_get(res, "codes");
    CHECK(json_array_size(codes) == 3);
    CHECK(strstr(json_string_value(json_object_get(json_array_get(codes, 2), "code")), "/10/ROOT") != NULL);
    json_decref(res);
    CHECK(e2e_call(c, "trace_impact", json_pack("{s:s}", "code", "01/04006381333931/10/NOPE"), &res) != CV_OK);
    CHECK_MSG("unknown code https://id.gs1.org/01/04006381333931/10/NOPE: no event records it");
}

int main(int argc, char **argv)
{
    e2e_chain c;
    if (argc < 2) {
        fprintf(stderr, "usage: %s /path/to/civitas\n", argv[0]);
        return 2;
    }
    CHECK_OK(cv_crypto_init());
    CHECK_OK(e2e_init(&c, argv[1], "std"));
    CHECK_OK(e2e_start(&c));
    test_permissions(&c);
    build_graph(&c);
    test_recall(&c);
    e2e_cleanup(&c);
    cv_crypto_cleanup();
    return check_done();
}
