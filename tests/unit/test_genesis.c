/* test_genesis.c: genesis documents: a valid one parses and writes back to
 * the same content; every kind of malformed one is refused with a message
 * naming what is wrong (including times that the C library would silently
 * normalise). */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "ledger/genesis.h"

static char pub_hex[2 * CV_PUB_MAX + 1];

/* A genesis document with the given time, orgs fragment and params. */
static void doc(char *out, size_t cap, const char *time, const char *extra_org, const char *params)
{
    snprintf(out, cap,
             "{\"chain_id\":\"t\",\"suite\":\"std\",\"genesis_time\":\"%s\","
             "\"orgs\":[{\"id\":\"org1\",\"name\":\"One\"}%s],"
             "\"accounts\":[{\"public_key\":\"%s\",\"org\":\"org1\",\"roles\":[\"admin\"]}],"
             "\"validators\":[{\"public_key\":\"%s\",\"org\":\"org1\",\"power\":10}]%s}",
             time, extra_org, pub_hex, pub_hex, params);
}

static int parse(const char *text)
{
    cv_genesis g;
    int rc = cv_genesis_parse(text, strlen(text), &g);
    if (rc == CV_OK)
        cv_genesis_free(&g);
    return rc;
}

static void test_valid_round_trip(void)
{
    char text[2048];
    cv_genesis g, again;
    cv_buf out = {0};
    doc(text, sizeof text, "2026-11-21T22:57:18.250Z", "", ",\"params\":{\"tx_window\":50}");
    CHECK_OK(cv_genesis_parse(text, strlen(text), &g));
    CHECK(g.time_ms == 1795301838250ull);
    CHECK(g.norgs == 1 && g.naccounts == 1 && g.nvalidators == 1 && g.validators[0].power == 10);
    int window = 0;
    for (size_t i = 0; i < g.nparams; i++)
        if (strcmp(g.params[i].name, "tx_window") == 0)
            window = g.params[i].value == 50;
    CHECK(window); /* the given value; the others keep their defaults */
    CHECK_OK(cv_genesis_to_json(&g, &out));
    CHECK_OK(cv_genesis_parse((const char *)out.data, out.len, &again));
    CHECK(again.time_ms == g.time_ms && strcmp(again.chain.chain_id, "t") == 0);
    CHECK(memcmp(again.accounts[0].pub.bytes, g.accounts[0].pub.bytes, g.accounts[0].pub.len) == 0);
    for (size_t i = 0; i < g.nparams; i++)
        CHECK(again.params[i].value == g.params[i].value);
    cv_genesis_free(&g);
    cv_genesis_free(&again);
    cv_buf_free(&out);
}

static void test_rejections(void)
{
    static const struct {
        const char *time, *org, *params, *msg;
    } bad[] = {
        {"2026-11-21T00:00:-5Z", "", "", "genesis_time"},
        {"9999-12-31T23:59:60Z", "", "", "genesis_time"},
        {"2026-02-30T00:00:00Z", "", "", "genesis_time"},
        {"2026-11-21T00:00:00.-01Z", "", "", "genesis_time"},
        {"2026-11-21T25:00:00Z", "", "", "genesis_time"},
        {"2026-11-21", "", "", "genesis_time"},
        {"2026-11-21T00:00:00Z", ",{\"id\":\"org1\",\"name\":\"Again\"}", "", "appears twice"},
        {"2026-11-21T00:00:00Z", ",{\"id\":\"Bad Id\",\"name\":\"x\"}", "", "may use only"},
        {"2026-11-21T00:00:00Z", "", ",\"params\":{\"nope\":1}", "unknown parameter"},
        {"2026-11-21T00:00:00Z", "", ",\"params\":{\"gov_threshold_pct\":100}", "gov_threshold_pct"},
        {"2026-11-21T00:00:00Z", "", ",\"params\":{\"tx_window\":\"5\"}", "tx_window"},
    };
    char text[2048];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        doc(text, sizeof text, bad[i].time, bad[i].org, bad[i].params);
        CHECK_ERR(parse(text), CV_EINVAL);
        CHECK_MSG(bad[i].msg);
    }
    CHECK_ERR(parse("not json"), CV_EINVAL);
    CHECK_MSG("not JSON");
    CHECK_ERR(parse("{\"chain_id\":\"t\",\"chain_id\":\"u\"}"), CV_EINVAL); /* duplicate keys */
    CHECK_ERR(parse("[]"), CV_EINVAL);
}

/* A message that adds context to the previous one reads it whole. */
static void test_error_context(void)
{
    cv_fail(CV_EINVAL, "inner problem %d", 42);
    CHECK(cv_fail(CV_EIO, "outer.json: %s", cv_errmsg()) == CV_EIO);
    CHECK(strcmp(cv_errmsg(), "outer.json: inner problem 42") == 0);
}

int main(void)
{
    CHECK_OK(cv_crypto_init());
    cv_keypair k;
    CHECK_OK(cv_key_generate(CV_SUITE_STD, &k));
    cv_hex_encode(k.pub.bytes, k.pub.len, pub_hex);
    test_valid_round_trip();
    test_rejections();
    test_error_context();
    cv_key_wipe(&k);
    cv_crypto_cleanup();
    return check_done();
}
