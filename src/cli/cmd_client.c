/* cmd_client.c: commands that talk to a node over JSON-RPC: status, block,
 * tx, call, send; and the client helpers other commands share (cli.h). The
 * node is found from --rpc URL, or from --home DIR (that node's config), or
 * else the local demo node. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "base/err.h"
#include "cli/cli.h"
#include "crypto/keyfile.h"
#include "exec/exec.h"
#include "ledger/tx.h"
#include "node/node.h"
#include "rpc/httpc.h"

#define CLIENT_TIMEOUT_MS 70000
#define WAIT_MS 30000
#define EXPIRY_BLOCKS 100 /* default validity of a sent transaction */

int cli_rpc(cv_httpc *c, const char *method, json_t *params, json_t **result)
{
    int rc = params ? cv_httpc_call(c, method, params, result, NULL)
                    : cv_fail(CV_ENOMEM, "out of memory building the %s request", method);
    json_decref(params);
    return rc;
}

int cli_open_client(const cli_args *a, cv_httpc *c)
{
    const char *url = cli_get(a, "--rpc"), *home = cli_get(a, "--home");
    cv_node_config cfg;
    struct stat st;
    if (!url && !home && stat("civitas-demo/config.json", &st) == 0)
        home = "civitas-demo";
    if (!url && home) {
        if (cv_node_config_load(home, &cfg) != CV_OK)
            return cli_fail_cv(a);
        url = cfg.rpc_listen;
    }
    if (cv_httpc_init(c, url ? url : "127.0.0.1:8645", CLIENT_TIMEOUT_MS) != CV_OK)
        return cli_fail_cv(a);
    return 0;
}

static void print_json(json_t *v)
{
    char *text = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (text)
        printf("%s\n", text);
    free(text);
}

int cli_call_print(const cli_args *a, const char *method, json_t *params)
{
    cv_httpc c;
    json_t *result = NULL;
    int rc = cli_open_client(a, &c);
    if (rc) {
        json_decref(params);
        return rc;
    }
    if (cli_rpc(&c, method, params, &result) != CV_OK)
        rc = cli_fail_cv(a);
    else
        print_json(result);
    json_decref(result);
    cv_httpc_close(&c);
    return rc;
}

int cmd_status(int argc, char **argv)
{
    cli_opt opts[] = {CLIENT_OPTS};
    cli_args a = {"status", "status [--rpc URL | --home DIR]", opts, 2, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 0, 0);
    return rc ? rc : cli_call_print(&a, "status", json_object());
}

int cmd_block(int argc, char **argv)
{
    cli_opt opts[] = {CLIENT_OPTS, {"--full", 0, NULL}};
    cli_args a = {"block", "block [HEIGHT | HASH | latest] [--full] [--rpc URL | --home DIR]", opts, 3, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 0, 1);
    if (rc)
        return rc;
    const char *which = a.npos ? a.pos[0] : "latest";
    json_t *params = json_pack("{s:b}", "full", cli_get(&a, "--full") != NULL);
    if (strcmp(which, "latest") == 0)
        return cli_call_print(&a, "block_latest", params);
    char *end;
    unsigned long long h = strtoull(which, &end, 10);
    if (*end == '\0' && end != which && strlen(which) < 20)
        json_object_set_new(params, "height", json_integer((json_int_t)h));
    else
        json_object_set_new(params, "hash", json_string(which));
    return cli_call_print(&a, "block_get", params);
}

int cmd_tx(int argc, char **argv)
{
    cli_opt opts[] = {CLIENT_OPTS};
    cli_args a = {"tx", "tx HASH [--rpc URL | --home DIR]", opts, 2, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 1, 1);
    return rc ? rc : cli_call_print(&a, "tx_get", json_pack("{s:s}", "hash", a.pos[0]));
}

/* Parses a JSON object argument ("{}" when absent). */
static int parse_args_json(const cli_args *a, const char *text, json_t **out)
{
    json_error_t jerr;
    *out = json_loads(text ? text : "{}", 0, &jerr);
    if (!json_is_object(*out)) {
        json_decref(*out);
        return cli_fail(a, "arguments must be a JSON object, e.g. '{\"hash\": \"...\"}' (%s)", jerr.text);
    }
    return 0;
}

int cmd_call(int argc, char **argv)
{
    cli_opt opts[] = {CLIENT_OPTS};
    cli_args a = {"call", "call CONTRACT METHOD ['{JSON args}'] [--rpc URL | --home DIR]", opts, 2, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 2, 3);
    json_t *args;
    if (rc || (rc = parse_args_json(&a, a.npos > 2 ? a.pos[2] : NULL, &args)))
        return rc;
    return cli_call_print(&a, "call", json_pack("{s:s, s:s, s:o}", "contract", a.pos[0], "method", a.pos[1],
                                                 "args", args));
}

/* The chain id, suite and height, from the node. */
static int chain_status(const cli_args *a, cv_httpc *c, char *chain_id, cv_suite *suite, uint64_t *height)
{
    json_t *st = NULL;
    if (cv_httpc_call(c, "status", NULL, &st, NULL) != CV_OK)
        return cli_fail_cv(a);
    const char *id = json_string_value(json_object_get(st, "chain_id"));
    const char *s = json_string_value(json_object_get(st, "suite"));
    json_t *h = json_object_get(st, "height");
    int rc = 0;
    if (!id || !s || !json_is_integer(h) || strlen(id) > CV_CHAIN_ID_MAX || cv_suite_parse(s, suite) != CV_OK)
        rc = cli_fail(a, "the node's status lacks chain_id, suite or height");
    else {
        strcpy(chain_id, id);
        *height = (uint64_t)json_integer_value(h);
    }
    json_decref(st);
    return rc;
}

int cli_load_key(const cli_args *a, cv_keypair *key)
{
    const char *path = cli_get(a, "--key");
    char pass[256];
    const char *passphrase = NULL;
    if (!path)
        return cli_usage(a, "--key KEYFILE is required to sign");
    int enc = cv_keyfile_is_encrypted(path);
    if (enc < 0)
        return cli_fail_cv(a);
    if (enc && cli_passphrase(a, 1, 0, pass, sizeof pass, &passphrase))
        return 1;
    int rc = cv_keyfile_read(path, passphrase, key) == CV_OK ? 0 : cli_fail_cv(a);
    memset(pass, 0, sizeof pass);
    return rc;
}

int cli_sign_tx(const cli_args *a, cv_httpc *c, const cv_keypair *key, const char *contract, const char *method,
                const cv_buf *args, cv_buf *raw, char hash_hex[2 * CV_HASH_LEN + 1])
{
    cv_tx tx = {0};
    uint64_t height = 0;
    cv_suite suite = CV_SUITE_STD;
    int rc = chain_status(a, c, tx.chain_id, &suite, &height);
    if (rc)
        return rc;
    if (suite != key->suite)
        return cli_fail(a, "the chain uses the %s suite but the key is %s", cv_suite_name(suite),
                        cv_suite_name(key->suite));
    snprintf(tx.contract, sizeof tx.contract, "%s", contract);
    snprintf(tx.method, sizeof tx.method, "%s", method);
    cv_random(&tx.nonce, sizeof tx.nonce);
    tx.expiry = height + EXPIRY_BLOCKS;
    tx.args = args->data;
    tx.args_len = args->len;
    if (cv_tx_sign(&tx, key, raw) != CV_OK)
        return cli_fail_cv(a);
    cv_hex_encode(tx.hash, CV_HASH_LEN, hash_hex);
    return 0;
}

int cli_wait_tx(const cli_args *a, cv_httpc *c, const char *what, const char *hash_hex)
{
    json_t *receipt = NULL;
    int rc = 0;
    if (cli_rpc(c, "tx_wait", json_pack("{s:s, s:i}", "hash", hash_hex, "timeout_ms", WAIT_MS), &receipt) != CV_OK)
        return cli_fail(a, "tx %s sent but not seen committed: %s", hash_hex, cv_errmsg());
    json_t *r = json_object_get(receipt, "receipt");
    int ok = json_is_true(json_object_get(r, "ok"));
    printf("%s: tx %s in block %lld: %s\n", what, hash_hex, (long long)json_integer_value(json_object_get(receipt, "height")),
           ok ? "ok" : json_string_value(json_object_get(r, "error")));
    if (!ok)
        rc = 1;
    json_decref(receipt);
    return rc;
}

int cli_send_tx(const cli_args *a, cv_httpc *c, const cv_keypair *key, const char *contract, const char *method,
                const json_t *args, uint8_t tx_hash[CV_HASH_LEN])
{
    cv_buf enc_args = {0}, raw = {0};
    char *hex = NULL, hash_hex[2 * CV_HASH_LEN + 1], what[2 * CV_NAME_MAX + 2];
    json_t *sent = NULL;
    int rc = 0;
    if (cv_exec_args_from_json(contract, method, args, &enc_args) != CV_OK)
        return cli_fail_cv(a);
    rc = cli_sign_tx(a, c, key, contract, method, &enc_args, &raw, hash_hex);
    if (!rc)
        cv_hex_decode(hash_hex, tx_hash, CV_HASH_LEN);
    if (!rc && !(hex = malloc(2 * raw.len + 1)))
        rc = cli_fail(a, "out of memory");
    if (!rc) {
        cv_hex_encode(raw.data, raw.len, hex);
        if (cli_rpc(c, "tx_send", json_pack("{s:s}", "tx", hex), &sent) != CV_OK)
            rc = cli_fail_cv(a);
    }
    snprintf(what, sizeof what, "%s.%s", contract, method);
    if (!rc && cli_get(a, "--no-wait"))
        printf("sent %s: tx %s\n", what, hash_hex);
    else if (!rc)
        rc = cli_wait_tx(a, c, what, hash_hex);
    json_decref(sent);
    free(hex);
    cv_buf_free(&enc_args);
    cv_buf_free(&raw);
    return rc;
}

int cmd_send(int argc, char **argv)
{
    cli_opt opts[] = {CLIENT_OPTS, {"--key", 1, NULL}, {"--passphrase-file", 1, NULL}, {"--no-wait", 0, NULL}};
    cli_args a = {"send", "send --key KEYFILE CONTRACT METHOD ['{JSON args}'] [--no-wait] [--rpc URL | --home DIR]",
                  opts, 5, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 2, 3);
    json_t *args = NULL;
    cv_keypair key;
    cv_httpc c;
    uint8_t hash[CV_HASH_LEN];
    if (rc || (rc = parse_args_json(&a, a.npos > 2 ? a.pos[2] : NULL, &args)))
        return rc;
    if (!(rc = cli_load_key(&a, &key))) {
        if (!(rc = cli_open_client(&a, &c)))
            rc = cli_send_tx(&a, &c, &key, a.pos[0], a.pos[1], args, hash);
        cv_httpc_close(&c);
        cv_key_wipe(&key);
    }
    json_decref(args);
    return rc;
}
