/* test_gov.c: the governance contract (apps/gov.h): proposals and the exact
 * threshold rule with 1, 3 and 4 organisations, rejection, expiry, one vote
 * per organisation, parameters taking effect and range checks, organisations,
 * validators, accounts and roles within an admin's own organisation, and the
 * queries. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "apps/gov.h"
#include "exec_fixture.h"

static int propose(fx_chain *f, const cv_keypair *admin, const char *kind, const char *key,
                   const char *value)
{
    char args[400];
    snprintf(args, sizeof args, "{\"kind\":\"%s\",\"key\":\"%s\",\"value\":\"%s\"}", kind, key, value);
    return fx_run(f, fx_tx(f, admin, "gov", "propose", args));
}

static int vote(fx_chain *f, const cv_keypair *admin, unsigned id, int approve)
{
    char args[64];
    snprintf(args, sizeof args, "{\"id\":%u,\"approve\":%d}", id, approve);
    return fx_run(f, fx_tx(f, admin, "gov", "vote", args));
}

/* The status of proposal id ("open", "passed", ...), checking yes/no counts. */
static void expect_proposal(fx_chain *f, unsigned id, const char *status, int yes, int no)
{
    char args[32];
    snprintf(args, sizeof args, "{\"id\":%u}", id);
    json_t *p = fx_query(f, "gov", "proposal", args, CV_OK);
    const char *s = json_string_value(json_object_get(p, "status"));
    CHECK(s && strcmp(s, status) == 0);
    CHECK(json_integer_value(json_object_get(p, "yes")) == yes);
    CHECK(json_integer_value(json_object_get(p, "no")) == no);
    if (!s || strcmp(s, status) != 0)
        fprintf(stderr, "proposal %u is %s, expected %s\n", id, s ? s : "?", status);
    json_decref(p);
}

static uint64_t param(fx_chain *f, const char *name)
{
    uint64_t v = 0;
    CHECK_OK(cv_exec_param(&f->src, name, &v));
    return v;
}

/* Whether receipt i of r has the events named in names (in order). */
static int events_are(const cv_exec_result *r, size_t i, const char *const *names, size_t n)
{
    cv_receipt rec;
    int ok = cv_receipt_decode(r->receipts[i].data, r->receipts[i].len, &rec) == CV_OK &&
             rec.nevents == n;
    for (size_t k = 0; ok && k < n; k++)
        ok = strcmp(rec.events[k].contract, "gov") == 0 && strcmp(rec.events[k].name, names[k]) == 0;
    cv_receipt_free(&rec);
    return ok;
}

static void test_one_org(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 1);
    cv_tx tx = fx_tx(&f, &f.admin[0], "gov", "propose",
                     "{\"kind\":\"set_param\",\"key\":\"tx_window\",\"value\":\"5\"}");
    cv_exec_result r;
    fx_block(&f, &tx, 1, &r);
    static const char *const passed[] = {"proposed", "voted", "passed"};
    CHECK(events_are(&r, 0, passed, 3));
    cv_exec_result_free(&r);
    expect_proposal(&f, 1, "passed", 1, 0);
    CHECK(param(&f, "tx_window") == 5);
    /* the new window applies from the next block */
    char json[200];
    snprintf(json, sizeof json, "{\"hash\":\"%064d\",\"label\":\"\"}", 7);
    cv_buf args = {0};
    fx_args("notary", "stamp", json, &args);
    cv_tx far = fx_tx_raw(&f, &f.notary, "test-chain", f.height + 7, "notary", "stamp", args.data, args.len);
    cv_tx near = fx_tx_raw(&f, &f.notary, "test-chain", f.height + 6, "notary", "stamp", args.data, args.len);
    cv_buf_free(&args);
    CHECK(fx_run(&f, far) == CV_EINVAL);
    CHECK_MSG("more than tx_window = 5 blocks");
    CHECK(fx_run(&f, near) == CV_OK);

    /* range and kind checks at proposal time */
    CHECK(propose(&f, &f.admin[0], "set_param", "gov_threshold_pct", "101") == CV_EINVAL);
    CHECK_MSG("gov_threshold_pct must be a decimal number from 1 to 99, not '101'");
    CHECK(propose(&f, &f.admin[0], "set_param", "gov_threshold_pct", "0") == CV_EINVAL);
    CHECK(propose(&f, &f.admin[0], "set_param", "tx_window", "12x") == CV_EINVAL);
    CHECK(propose(&f, &f.admin[0], "set_param", "tx_window", "-1") == CV_EINVAL);
    CHECK(propose(&f, &f.admin[0], "set_param", "tx_window", "") == CV_EINVAL);
    CHECK(propose(&f, &f.admin[0], "set_param", "nope", "1") == CV_EINVAL);
    CHECK_MSG("unknown parameter 'nope'");
    CHECK(propose(&f, &f.admin[0], "make_coffee", "x", "y") == CV_EINVAL);
    CHECK_MSG("unknown proposal kind 'make_coffee'");
    CHECK(param(&f, "gov_threshold_pct") == 66);
    /* failed proposals used no id: the next one is 2 */
    CHECK(propose(&f, &f.admin[0], "set_param", "tx_max_bytes", "100000") == CV_OK);
    expect_proposal(&f, 2, "passed", 1, 0);
    CHECK(param(&f, "tx_max_bytes") == 100000);
    fx_free(&f);
}

/* 3 organisations, 66%: 2 yes of 3 pass (200 > 198); 2 no of 3 reject. */
static void test_three_orgs(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 3);
    CHECK(propose(&f, &f.admin[0], "add_org", "org4", "Organisation Four") == CV_OK);
    expect_proposal(&f, 1, "open", 1, 0);
    /* a second vote replaces the first: no 1 of 3 still allows 2 yes */
    CHECK(vote(&f, &f.admin[0], 1, 0) == CV_OK);
    expect_proposal(&f, 1, "open", 0, 1);
    CHECK(vote(&f, &f.admin[0], 1, 1) == CV_OK);
    expect_proposal(&f, 1, "open", 1, 0);
    CHECK(vote(&f, &f.admin[1], 1, 1) == CV_OK);
    expect_proposal(&f, 1, "passed", 2, 0);
    json_t *org = fx_query(&f, "gov", "org", "{\"id\":\"org4\"}", CV_OK);
    CHECK(strcmp(json_string_value(json_object_get(org, "name")), "Organisation Four") == 0);
    CHECK(json_is_true(json_object_get(org, "active")));
    json_decref(org);
    CHECK(vote(&f, &f.admin[2], 1, 1) == CV_ESTATE);
    CHECK_MSG("proposal 1 was already passed");

    /* now 4 organisations: a no and a no make 3 yes impossible */
    CHECK(propose(&f, &f.admin[0], "set_param", "tx_window", "50") == CV_OK);
    CHECK(vote(&f, &f.admin[1], 2, 0) == CV_OK);
    expect_proposal(&f, 2, "open", 1, 1);
    cv_tx tx = fx_tx(&f, &f.admin[2], "gov", "vote", "{\"id\":2,\"approve\":0}");
    cv_exec_result r;
    fx_block(&f, &tx, 1, &r);
    static const char *const rejected[] = {"voted", "rejected"};
    CHECK(events_are(&r, 0, rejected, 2));
    cv_exec_result_free(&r);
    expect_proposal(&f, 2, "rejected", 1, 2);
    CHECK(param(&f, "tx_window") == 1000);
    CHECK(vote(&f, &f.admin[0], 2, 1) == CV_ESTATE);
    CHECK_MSG("already rejected");
    CHECK(vote(&f, &f.admin[0], 9, 1) == CV_ENOTFOUND);
    CHECK_MSG("no proposal 9");
    fx_free(&f);
}

/* 4 organisations, 66%: passing needs 3 yes (300 > 264); 1 no still allows it. */
static void test_four_orgs(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 4);
    CHECK(propose(&f, &f.admin[1], "set_param", "gov_vote_window", "500") == CV_OK);
    CHECK(vote(&f, &f.admin[0], 1, 1) == CV_OK);
    expect_proposal(&f, 1, "open", 2, 0);
    CHECK(vote(&f, &f.admin[2], 1, 0) == CV_OK);
    expect_proposal(&f, 1, "open", 2, 1);
    CHECK(vote(&f, &f.admin[3], 1, 1) == CV_OK);
    expect_proposal(&f, 1, "passed", 3, 1);
    CHECK(param(&f, "gov_vote_window") == 500);
    /* a lower threshold: 50% of 4 needs 3 (200 > 200 is false) */
    CHECK(propose(&f, &f.admin[0], "set_param", "gov_threshold_pct", "50") == CV_OK);
    CHECK(vote(&f, &f.admin[1], 2, 1) == CV_OK);
    CHECK(vote(&f, &f.admin[2], 2, 1) == CV_OK);
    CHECK(param(&f, "gov_threshold_pct") == 50);
    CHECK(propose(&f, &f.admin[0], "set_param", "tx_window", "77") == CV_OK);
    CHECK(vote(&f, &f.admin[1], 3, 1) == CV_OK);
    expect_proposal(&f, 3, "open", 2, 0);
    CHECK(vote(&f, &f.admin[2], 3, 0) == CV_OK);
    CHECK(vote(&f, &f.admin[3], 3, 0) == CV_OK);
    expect_proposal(&f, 3, "rejected", 2, 2);
    fx_free(&f);
}

/* A proposal is open for gov_vote_window blocks from its own. */
static void test_expiry(cv_suite suite)
{
    fx_chain f;
    cv_exec_result r;
    fx_setup(&f, suite, 2);
    fx_set_param(&f, "gov_vote_window", 2);
    fx_start(&f);
    CHECK(propose(&f, &f.admin[0], "add_org", "org3", "Three") == CV_OK); /* height 1 */
    CHECK(propose(&f, &f.admin[0], "add_org", "org4", "Four") == CV_OK);  /* height 2 */
    CHECK(vote(&f, &f.admin[1], 2, 1) == CV_OK);                          /* height 3 */
    expect_proposal(&f, 1, "expired", 1, 0);
    fx_block(&f, NULL, 0, &r); /* height 4: an empty block */
    CHECK(r.ntx == 0 && r.nwrites == 0);
    cv_exec_result_free(&r);
    CHECK(vote(&f, &f.admin[1], 1, 1) == CV_ESTATE);
    CHECK_MSG("proposal 1 expired at height 3");
    expect_proposal(&f, 2, "passed", 2, 0);
    fx_free(&f);
}

/* The threshold stops at 99%: "more than 100%" could never pass, so 100 is
 * refused; at 99% a unanimous vote passes. */
static void test_threshold_limit(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 1);
    CHECK(propose(&f, &f.admin[0], "set_param", "gov_threshold_pct", "100") == CV_EINVAL);
    CHECK_MSG("from 1 to 99");
    CHECK(propose(&f, &f.admin[0], "set_param", "gov_threshold_pct", "99") == CV_OK);
    expect_proposal(&f, 1, "passed", 1, 0);
    CHECK(param(&f, "gov_threshold_pct") == 99);
    CHECK(propose(&f, &f.admin[0], "set_param", "tx_window", "9") == CV_OK);
    expect_proposal(&f, 2, "passed", 1, 0);
    fx_free(&f);
}

static void test_roles_required(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 2);
    CHECK(propose(&f, &f.notary, "set_param", "tx_window", "9") == CV_EPERM);
    CHECK_MSG("gov.propose requires role 'admin'");
    CHECK(propose(&f, &f.admin[0], "set_param", "tx_window", "9") == CV_OK);
    CHECK(vote(&f, &f.plain, 1, 1) == CV_EPERM);
    CHECK(vote(&f, &f.stranger, 1, 1) == CV_EPERM);
    CHECK_MSG("is not a registered account");
    expect_proposal(&f, 1, "open", 1, 0);
    fx_free(&f);
}

static int account_tx(fx_chain *f, const cv_keypair *admin, const char *method, const cv_keypair *who,
                      const char *roles)
{
    char args[600], addr[CV_ADDR_STR_MAX], pub[2 * CV_PUB_MAX + 1];
    fx_addr(who, addr);
    fx_pub_hex(who, pub);
    if (strcmp(method, "add_account") == 0)
        snprintf(args, sizeof args, "{\"address\":\"%s\",\"pubkey\":\"%s\",\"roles\":\"%s\"}", addr, pub,
                 roles);
    else if (roles)
        snprintf(args, sizeof args, "{\"address\":\"%s\",\"roles\":\"%s\"}", addr, roles);
    else
        snprintf(args, sizeof args, "{\"address\":\"%s\"}", addr);
    return fx_run(f, fx_tx(f, admin, "gov", method, args));
}

static int stamp(fx_chain *f, const cv_keypair *key, unsigned i)
{
    char json[200];
    snprintf(json, sizeof json, "{\"hash\":\"%064u\",\"label\":\"\"}", i);
    return fx_run(f, fx_tx(f, key, "notary", "stamp", json));
}

static void test_accounts(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 2);
    cv_keypair k = fx_key(suite, 50), other = fx_key(suite, 51);
    CHECK(account_tx(&f, &f.admin[0], "add_account", &k, "notary,auditor") == CV_OK);
    CHECK(stamp(&f, &k, 1) == CV_OK);
    json_t *a;
    char addr[CV_ADDR_STR_MAX], args[200];
    fx_addr(&k, addr);
    snprintf(args, sizeof args, "{\"address\":\"%s\"}", addr);
    a = fx_query(&f, "gov", "account", args, CV_OK);
    CHECK(strcmp(json_string_value(json_object_get(a, "org")), "org1") == 0);
    CHECK(strcmp(json_string_value(json_object_get(a, "address")), addr) == 0);
    CHECK(json_array_size(json_object_get(a, "roles")) == 2);
    json_decref(a);
    CHECK(account_tx(&f, &f.admin[1], "add_account", &k, "") == CV_EEXIST);
    CHECK_MSG("already exists (organisation org1)");
    /* bad roles */
    CHECK(account_tx(&f, &f.admin[0], "add_account", &other, "Admin") == CV_EINVAL);
    CHECK_MSG("role 'Admin' may use only");
    CHECK(account_tx(&f, &f.admin[0], "add_account", &other, "a,,b") == CV_EINVAL);
    CHECK(account_tx(&f, &f.admin[0], "add_account", &other, "a,") == CV_EINVAL);
    CHECK(account_tx(&f, &f.admin[0], "add_account", &other, "a,b,a") == CV_EINVAL);
    CHECK_MSG("role 'a' is listed twice");
    CHECK(account_tx(&f, &f.admin[0], "add_account", &other, "a,b,c,d,e,f,g,h,i") == CV_EINVAL);
    CHECK_MSG("at most 8 roles");
    CHECK(account_tx(&f, &f.admin[0], "add_account", &other, "abcdefghijabcdefghijabcdefghijabc") == CV_EINVAL);
    /* the address must be the public key's */
    char pub[2 * CV_PUB_MAX + 1], bad[600];
    fx_pub_hex(&other, pub);
    snprintf(bad, sizeof bad, "{\"address\":\"%s\",\"pubkey\":\"%s\",\"roles\":\"\"}", addr, pub);
    CHECK(fx_run(&f, fx_tx(&f, &f.admin[0], "gov", "add_account", bad)) == CV_EINVAL);
    CHECK_MSG("is not the address of the given public key");
    /* an invalid public key */
    memset(pub, 'f', 2 * other.pub.len);
    snprintf(bad, sizeof bad, "{\"address\":\"%s\",\"pubkey\":\"%.*s\",\"roles\":\"\"}", addr,
             2 * other.pub.len, pub);
    CHECK(fx_run(&f, fx_tx(&f, &f.admin[0], "gov", "add_account", bad)) == CV_EINVAL);
    CHECK_MSG("argument 'pubkey' is not a valid");
    /* another organisation's admin cannot touch org1's accounts */
    CHECK(account_tx(&f, &f.admin[1], "remove_account", &k, NULL) == CV_EPERM);
    CHECK_MSG("belongs to organisation org1; an admin of org2 manages only");
    CHECK(account_tx(&f, &f.admin[1], "set_roles", &f.notary, "admin") == CV_EPERM);
    CHECK(account_tx(&f, &f.admin[0], "remove_account", &other, NULL) == CV_ENOTFOUND);
    CHECK_MSG("no account");
    /* roles replaced, then the account removed */
    CHECK(account_tx(&f, &f.admin[0], "set_roles", &k, "auditor") == CV_OK);
    CHECK(stamp(&f, &k, 2) == CV_EPERM);
    CHECK(account_tx(&f, &f.admin[0], "set_roles", &f.plain, "notary") == CV_OK);
    CHECK(stamp(&f, &f.plain, 3) == CV_OK);
    CHECK(account_tx(&f, &f.admin[0], "remove_account", &k, NULL) == CV_OK);
    CHECK(stamp(&f, &k, 4) == CV_EPERM);
    CHECK_MSG("is not a registered account");
    snprintf(args, sizeof args, "{\"address\":\"%s\"}", addr);
    json_decref(fx_query(&f, "gov", "account", args, CV_ENOTFOUND));
    CHECK_MSG("no account");
    /* an org2 admin manages org2 */
    CHECK(account_tx(&f, &f.admin[1], "add_account", &other, "notary") == CV_OK);
    CHECK(stamp(&f, &other, 5) == CV_OK);
    cv_key_wipe(&k);
    cv_key_wipe(&other);
    fx_free(&f);
}

static void test_orgs(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 2);
    CHECK(propose(&f, &f.admin[0], "add_org", "Bad Id", "x") == CV_EINVAL);
    CHECK_MSG("org id 'Bad Id' may use only");
    CHECK(propose(&f, &f.admin[0], "add_org", "org3", "") == CV_EINVAL);
    CHECK(propose(&f, &f.admin[0], "add_org", "org2", "again") == CV_EEXIST);
    CHECK_MSG("organisation 'org2' already exists");
    CHECK(propose(&f, &f.admin[0], "remove_org", "org9", "") == CV_ENOTFOUND);
    CHECK(propose(&f, &f.admin[0], "remove_org", "org2", "x") == CV_EINVAL);
    /* org1 yes alone is 1 of 2 (100 > 132 is false); org2 agrees to leave */
    CHECK(propose(&f, &f.admin[0], "remove_org", "org2", "") == CV_OK);
    CHECK(propose(&f, &f.admin[0], "set_param", "tx_window", "300") == CV_OK);
    CHECK(vote(&f, &f.admin[1], 1, 1) == CV_OK);
    expect_proposal(&f, 1, "passed", 1, 0); /* org2's vote no longer counts */
    CHECK(propose(&f, &f.admin[1], "set_param", "tx_window", "9") == CV_EPERM);
    CHECK_MSG("belongs to organisation org2, which was removed");
    /* proposal 2 is counted again when org1 votes again: 1 of 1 */
    expect_proposal(&f, 2, "open", 1, 0);
    CHECK(vote(&f, &f.admin[0], 2, 1) == CV_OK);
    expect_proposal(&f, 2, "passed", 1, 0);
    CHECK(param(&f, "tx_window") == 300);
    CHECK(propose(&f, &f.admin[0], "remove_org", "org1", "") == CV_ESTATE);
    CHECK_MSG("'org1' is the last organisation");
    CHECK(propose(&f, &f.admin[0], "add_org", "org2", "back") == CV_EEXIST);
    CHECK_MSG("was removed; ids are not reused");
    json_t *orgs = fx_query(&f, "gov", "orgs", "{}", CV_OK);
    CHECK(json_array_size(orgs) == 2);
    json_t *org2 = json_array_get(orgs, 1);
    CHECK(strcmp(json_string_value(json_object_get(org2, "id")), "org2") == 0);
    CHECK(json_is_false(json_object_get(org2, "active")));
    json_decref(orgs);
    json_decref(fx_query(&f, "gov", "org", "{\"id\":\"nope\"}", CV_ENOTFOUND));
    CHECK_MSG("no organisation 'nope'");
    fx_free(&f);
}

static void test_validators(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 1);
    char pub[2 * CV_PUB_MAX + 1], admin_pub[2 * CV_PUB_MAX + 1];
    fx_pub_hex(&f.stranger, pub);
    fx_pub_hex(&f.admin[0], admin_pub);
    CHECK(propose(&f, &f.admin[0], "set_validator", "abcd", "5") == CV_EINVAL);
    CHECK_MSG("the key must be a");
    CHECK(propose(&f, &f.admin[0], "set_validator", pub, "1000001") == CV_EINVAL);
    CHECK_MSG("power must be a decimal number from 0 to 1000000");
    CHECK(propose(&f, &f.admin[0], "set_validator", pub, "0") == CV_ENOTFOUND);
    CHECK_MSG("is not a validator");
    CHECK(propose(&f, &f.admin[0], "set_validator", admin_pub, "0") == CV_ESTATE);
    CHECK_MSG("cannot remove the last validator");
    CHECK(propose(&f, &f.admin[0], "set_validator", pub, "7") == CV_OK);
    json_t *v = fx_query(&f, "gov", "validators", "{}", CV_OK);
    CHECK(json_array_size(v) == 2);
    json_decref(v);
    CHECK(propose(&f, &f.admin[0], "set_validator", admin_pub, "0") == CV_OK);
    v = fx_query(&f, "gov", "validators", "{}", CV_OK);
    CHECK(json_array_size(v) == 1);
    json_t *only = json_array_get(v, 0);
    CHECK(strcmp(json_string_value(json_object_get(only, "public_key")), pub) == 0);
    CHECK(json_integer_value(json_object_get(only, "power")) == 7);
    CHECK(strcmp(json_string_value(json_object_get(only, "org")), "") == 0);
    json_decref(v);
    /* a validator that is a registered account is shown with its org */
    char notary_pub[2 * CV_PUB_MAX + 1];
    fx_pub_hex(&f.notary, notary_pub);
    CHECK(propose(&f, &f.admin[0], "set_validator", notary_pub, "3") == CV_OK);
    v = fx_query(&f, "gov", "validators", "{}", CV_OK);
    CHECK(json_array_size(v) == 2);
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = json_array_get(v, i);
        if (json_integer_value(json_object_get(e, "power")) == 3)
            CHECK(strcmp(json_string_value(json_object_get(e, "org")), "org1") == 0);
    }
    json_decref(v);
    /* At most CV_GOV_VALIDATORS_MAX: the validator set's size limit. */
    for (int i = 2; i < CV_GOV_VALIDATORS_MAX; i++) {
        cv_keypair k = fx_key(suite, (uint8_t)(110 + i));
        fx_pub_hex(&k, pub);
        CHECK(propose(&f, &f.admin[0], "set_validator", pub, "1") == CV_OK);
        cv_key_wipe(&k);
    }
    cv_keypair extra = fx_key(suite, 109);
    fx_pub_hex(&extra, pub);
    CHECK(propose(&f, &f.admin[0], "set_validator", pub, "1") == CV_EFULL);
    CHECK_MSG("already has 128 validators");
    CHECK(propose(&f, &f.admin[0], "set_validator", notary_pub, "4") == CV_OK); /* a change is not an addition */
    cv_genesis_validator *all = malloc(CV_GOV_VALIDATORS_MAX * sizeof *all);
    size_t n = 0;
    CHECK_OK(cv_exec_validators(&f.src, all, CV_GOV_VALIDATORS_MAX, &n));
    CHECK(n == CV_GOV_VALIDATORS_MAX);
    free(all);
    cv_key_wipe(&extra);
    fx_free(&f);
}

static void test_queries(cv_suite suite)
{
    fx_chain f;
    fx_init(&f, suite, 2);
    json_t *p = fx_query(&f, "gov", "param", "{\"name\":\"tx_window\"}", CV_OK);
    CHECK(json_integer_value(json_object_get(p, "value")) == 1000);
    CHECK(json_integer_value(json_object_get(p, "min")) == 1);
    json_decref(p);
    json_decref(fx_query(&f, "gov", "param", "{\"name\":\"nope\"}", CV_ENOTFOUND));
    CHECK_MSG("unknown parameter 'nope'");
    size_t n;
    cv_params(&n);
    p = fx_query(&f, "gov", "params", "{}", CV_OK);
    CHECK(json_array_size(p) == n);
    json_decref(p);
    json_decref(fx_query(&f, "gov", "proposal", "{\"id\":1}", CV_ENOTFOUND));
    CHECK(propose(&f, &f.admin[1], "add_org", "org3", "Three") == CV_OK);
    p = fx_query(&f, "gov", "proposal", "{\"id\":1}", CV_OK);
    CHECK(strcmp(json_string_value(json_object_get(p, "kind")), "add_org") == 0);
    CHECK(strcmp(json_string_value(json_object_get(p, "proposer_org")), "org2") == 0);
    CHECK(json_integer_value(json_object_get(p, "created")) == 1);
    CHECK(json_integer_value(json_object_get(p, "deadline")) == 100001);
    json_t *votes = json_object_get(p, "votes");
    CHECK(json_array_size(votes) == 1);
    CHECK(json_is_true(json_object_get(json_array_get(votes, 0), "approve")));
    json_decref(p);
    json_t *o = fx_query(&f, "gov", "org", "{\"id\":\"org1\"}", CV_OK);
    CHECK(strcmp(json_string_value(json_object_get(o, "name")), "Organisation 1") == 0);
    json_decref(o);
    fx_free(&f);
}

int main(void)
{
    static const cv_suite suites[2] = {CV_SUITE_STD, CV_SUITE_GM};
    CHECK_OK(cv_crypto_init());
    for (int i = 0; i < 2; i++) {
        test_one_org(suites[i]);
        test_three_orgs(suites[i]);
        test_four_orgs(suites[i]);
        test_expiry(suites[i]);
        test_threshold_limit(suites[i]);
        test_roles_required(suites[i]);
        test_accounts(suites[i]);
        test_orgs(suites[i]);
        test_validators(suites[i]);
        test_queries(suites[i]);
    }
    cv_crypto_cleanup();
    return check_done();
}
