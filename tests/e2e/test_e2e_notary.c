/* test_e2e_notary.c: a real node process takes 1,000 notary stamps through
 * JSON-RPC (single and batch submissions); every receipt is ok, every
 * inclusion proof verifies against its block header, the stamps can be
 * queried, the chain replays from genesis to the same roots, and the node
 * stops cleanly on SIGTERM. Run once per crypto suite. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "harness.h"

#define STAMPS 1000
#define SINGLE 20 /* sent one by one; the rest in batches */
#define BATCH 98

static uint8_t file_hash[STAMPS][CV_HASH_LEN], tx_hash[STAMPS][CV_HASH_LEN];

static void send_batch(e2e_chain *c, size_t from, size_t to, uint64_t expiry)
{
    json_t *txs = json_array(), *res = NULL;
    for (size_t i = from; i < to; i++) {
        cv_buf raw = {0};
        char label[32];
        snprintf(label, sizeof label, "e2e %zu", i);
        CHECK_OK(e2e_stamp_tx(c, file_hash[i], label, expiry, &raw, tx_hash[i]));
        json_array_append_new(txs, e2e_hex(raw.data, raw.len));
        cv_buf_free(&raw);
    }
    if (to - from == 1) {
        json_t *one = json_incref(json_array_get(txs, 0));
        json_decref(txs);
        CHECK_OK(e2e_call(c, "tx_send", json_pack("{s:o}", "tx", one), &res));
        CHECK(json_string_value(json_object_get(res, "hash")) != NULL);
    } else {
        CHECK_OK(e2e_call(c, "tx_send_batch", json_pack("{s:o}", "txs", txs), &res));
        json_t *results = json_object_get(res, "results");
        CHECK(json_array_size(results) == to - from);
        for (size_t i = 0; i < json_array_size(results); i++)
            CHECK(json_object_get(json_array_get(results, i), "error") == NULL);
    }
    json_decref(res);
}

static void check_queries(e2e_chain *c)
{
    char addr[CV_ADDR_STR_MAX];
    cv_address_string(&c->admin.pub, addr);
    for (size_t i = 0; i < STAMPS; i += 37) {
        json_t *res = NULL;
        json_t *args = json_pack("{s:o}", "hash", e2e_hex(file_hash[i], CV_HASH_LEN));
        CHECK_OK(e2e_call(c, "call", json_pack("{s:s, s:s, s:o}", "contract", "notary", "method", "get", "args", args),
                          &res));
        json_t *r = json_object_get(res, "result");
        const char *stamper = json_string_value(json_object_get(r, "stamper"));
        CHECK(stamper && strcmp(stamper, addr) == 0);
        json_decref(res);
    }
    /* A hash never stamped is reported as not found. */
    uint8_t other[CV_HASH_LEN] = {1, 2, 3};
    json_t *res = NULL;
    json_t *args = json_pack("{s:o}", "hash", e2e_hex(other, CV_HASH_LEN));
    CHECK(e2e_call(c, "call", json_pack("{s:s, s:s, s:o}", "contract", "notary", "method", "get", "args", args),
                   &res) != CV_OK);
    CHECK_MSG("never stamped");
}

static void run(const char *civitas, const char *suite)
{
    e2e_chain c;
    uint64_t height;
    fprintf(stderr, "== %s suite\n", suite);
    CHECK_OK(e2e_init(&c, civitas, suite));
    CHECK_OK(e2e_start(&c));
    CHECK_OK(e2e_height(&c, &height));
    for (size_t i = 0; i < STAMPS; i++)
        cv_random(file_hash[i], CV_HASH_LEN);
    for (size_t i = 0; i < SINGLE; i++)
        send_batch(&c, i, i + 1, height + 500);
    for (size_t i = SINGLE; i < STAMPS; i += BATCH)
        send_batch(&c, i, i + BATCH < STAMPS ? i + BATCH : STAMPS, height + 500);
    size_t committed = 0, verified = 0;
    for (size_t i = 0; i < STAMPS; i++) {
        json_t *res = NULL;
        if (e2e_call(&c, "tx_wait", json_pack("{s:o, s:i}", "hash", e2e_hex(tx_hash[i], CV_HASH_LEN), "timeout_ms",
                                              30000), &res) == CV_OK)
            committed++;
        json_decref(res);
        uint64_t h;
        if (e2e_check_tx(&c, tx_hash[i], &h) == CV_OK)
            verified++;
        else
            fprintf(stderr, "tx %zu: %s\n", i, cv_errmsg());
    }
    fprintf(stderr, "%zu of %d committed, %zu proofs verified\n", committed, STAMPS, verified);
    CHECK(committed == STAMPS);
    CHECK(verified == STAMPS);
    check_queries(&c);
    CHECK(e2e_run(civitas, "replay", "--home", c.home, (char *)NULL) == 0);
    CHECK(e2e_stop(&c, SIGTERM) == 0);
    e2e_cleanup(&c);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-CIVITAS\n", argv[0]);
        return 2;
    }
    CHECK_OK(cv_crypto_init());
    run(argv[1], "std");
    run(argv[1], "gm");
    cv_crypto_cleanup();
    return check_done();
}
