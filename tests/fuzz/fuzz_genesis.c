/* fuzz_genesis.c: libFuzzer target for the genesis parser (ledger/genesis.h).
 *
 * Every input, as a genesis document, goes to cv_genesis_parse, which must
 * accept it or fail with CV_EINVAL. An accepted document, written back with
 * cv_genesis_to_json, must parse again to the same chain: the same chain id,
 * suite, time, organisations, accounts, validators and parameters. */
#include "fuzz_common.h"
#include "ledger/genesis.h"

static int same_pub(const cv_pubkey *a, const cv_pubkey *b)
{
    return a->suite == b->suite && a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

static int same_account(const cv_genesis_account *a, const cv_genesis_account *b)
{
    if (!same_pub(&a->pub, &b->pub) || strcmp(a->org, b->org) != 0 || a->nroles != b->nroles)
        return 0;
    for (size_t i = 0; i < a->nroles; i++)
        if (strcmp(a->roles[i], b->roles[i]) != 0)
            return 0;
    return 1;
}

static int same_genesis(const cv_genesis *a, const cv_genesis *b)
{
    if (strcmp(a->chain.chain_id, b->chain.chain_id) != 0 || a->chain.suite != b->chain.suite ||
        a->time_ms != b->time_ms || a->norgs != b->norgs || a->naccounts != b->naccounts ||
        a->nvalidators != b->nvalidators || a->nparams != b->nparams)
        return 0;
    for (size_t i = 0; i < a->norgs; i++)
        if (strcmp(a->orgs[i].id, b->orgs[i].id) != 0 || strcmp(a->orgs[i].name, b->orgs[i].name) != 0)
            return 0;
    for (size_t i = 0; i < a->naccounts; i++)
        if (!same_account(&a->accounts[i], &b->accounts[i]))
            return 0;
    for (size_t i = 0; i < a->nvalidators; i++)
        if (!same_pub(&a->validators[i].pub, &b->validators[i].pub) ||
            strcmp(a->validators[i].org, b->validators[i].org) != 0 ||
            a->validators[i].power != b->validators[i].power)
            return 0;
    for (size_t i = 0; i < a->nparams; i++)
        if (strcmp(a->params[i].name, b->params[i].name) != 0 || a->params[i].value != b->params[i].value)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cv_genesis g, again;
    int rc = cv_genesis_parse((const char *)data, size, &g);
    FUZZ_REQUIRE(rc == CV_OK || rc == CV_EINVAL);
    if (rc != CV_OK)
        return 0;
    cv_buf text = {0};
    FUZZ_REQUIRE(cv_genesis_to_json(&g, &text) == CV_OK);
    FUZZ_REQUIRE(cv_genesis_parse((const char *)text.data, text.len, &again) == CV_OK);
    FUZZ_REQUIRE(same_genesis(&g, &again));
    cv_buf_free(&text);
    cv_genesis_free(&g);
    cv_genesis_free(&again);
    return 0;
}
