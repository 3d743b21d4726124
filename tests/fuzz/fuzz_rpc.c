/* fuzz_rpc.c: libFuzzer target for the JSON-RPC dispatcher and the binary
 * batch body of POST /txs.
 *
 * Every input is a request body handed to the dispatcher of a node opened
 * once, in a temporary home, with a one-organisation genesis (it does not
 * produce blocks, so runs are repeatable). The reply must be valid JSON: a
 * response object, or a non-empty array of them, or nothing (notifications
 * only); every response must carry "jsonrpc":"2.0" and exactly one of
 * "result" and "error", and an error a code and a message. Anything else
 * aborts, which the fuzzer reports as a crash. The dispatcher is called with
 * its stop flag set, so that long polls (tx_wait, block_wait) answer at once
 * instead of waiting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "crypto/keyfile.h"
#include "node/node.h"
#include "rpc/internal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cv_node *node;
static char home[64] = "/tmp/cv-fuzz-rpc-XXXXXX";
static atomic_int stopped = 1;

static void die(const char *what)
{
    fprintf(stderr, "fuzz_rpc: %s: %s\n", what, cv_errmsg());
    abort();
}

/* genesis.json: one organisation whose validator is the node's key and whose
 * one account holds every role the chain knows. */
static void write_genesis(const cv_keypair *validator_key, const cv_keypair *account_key)
{
    size_t nparams;
    const cv_param_info *info = cv_params(&nparams);
    cv_param *params = calloc(nparams, sizeof *params);
    cv_genesis_org org = {"org1", "Fuzz organisation"};
    cv_genesis_account account = {.pub = account_key->pub, .org = "org1", .nroles = 2,
                                  .roles = {"admin", "notary"}};
    cv_genesis_validator validator = {validator_key->pub, "org1", 10};
    for (size_t i = 0; params && i < nparams; i++)
        params[i] = (cv_param){info[i].name, info[i].def};
    cv_genesis g = {.chain = {.chain_id = "fuzz", .suite = CV_SUITE_STD}, .time_ms = 1700000000000, .norgs = 1,
                    .naccounts = 1, .nvalidators = 1, .nparams = nparams, .orgs = &org, .accounts = &account,
                    .validators = &validator, .params = params};
    char path[128];
    snprintf(path, sizeof path, "%s/genesis.json", home);
    if (!params || cv_genesis_write(&g, path))
        die("writing genesis");
    free(params);
}

static void remove_home(void)
{
    cv_node_close(node);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_rpc: could not remove %s\n", home);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cv_keypair validator_key, account_key;
    cv_node_config cfg;
    char path[128];
    if (cv_crypto_init() || !mkdtemp(home))
        die("setting up");
    if (cv_key_generate(CV_SUITE_STD, &validator_key) || cv_key_generate(CV_SUITE_STD, &account_key))
        die("generating keys");
    snprintf(path, sizeof path, "%s/node.key", home);
    if (cv_keyfile_write(path, &validator_key, NULL))
        die("writing the node key");
    write_genesis(&validator_key, &account_key);
    cv_key_wipe(&validator_key);
    cv_key_wipe(&account_key);
    if (cv_node_config_load(home, &cfg) || cv_node_open(&cfg, &node))
        die("opening the node");
    atexit(remove_home);
    return 0;
}

/* A single response object as JSON-RPC 2.0 requires. */
static void check_response(const json_t *r)
{
    const json_t *error = json_object_get(r, "error");
    const char *version = json_string_value(json_object_get(r, "jsonrpc"));
    if (!json_is_object(r) || !version || strcmp(version, "2.0") != 0 || !json_object_get(r, "id"))
        abort();
    if ((json_object_get(r, "result") != NULL) == (error != NULL))
        abort();
    if (error && (!json_is_integer(json_object_get(error, "code")) ||
                  !json_is_string(json_object_get(error, "message"))))
        abort();
}

/* The body of POST /txs: a JSON-RPC response whatever the bytes. */
static void check_encoded(const uint8_t *data, size_t size)
{
    cv_buf out = {0};
    json_error_t je;
    if (cv_rpc_dispatch_encoded(node, data, size, &out) != CV_OK)
        die("dispatch_encoded");
    json_t *reply = json_loadb((const char *)out.data, out.len, 0, &je);
    if (!reply) {
        fprintf(stderr, "fuzz_rpc: POST /txs reply is not JSON (%s): %.*s\n", je.text, (int)out.len, out.data);
        abort();
    }
    check_response(reply);
    json_decref(reply);
    cv_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cv_buf out = {0};
    check_encoded(data, size);
    if (cv_rpc_dispatch(node, (const char *)data, size, &stopped, &out) != CV_OK)
        die("dispatch");
    if (out.len) {
        json_error_t je;
        json_t *reply = json_loadb((const char *)out.data, out.len, 0, &je);
        if (!reply) {
            fprintf(stderr, "fuzz_rpc: reply is not JSON (%s): %.*s\n", je.text, (int)out.len, out.data);
            abort();
        }
        if (json_is_array(reply)) {
            if (json_array_size(reply) == 0)
                abort();
            for (size_t i = 0; i < json_array_size(reply); i++)
                check_response(json_array_get(reply, i));
        } else {
            check_response(reply);
        }
        json_decref(reply);
    }
    cv_buf_free(&out);
    return 0;
}
