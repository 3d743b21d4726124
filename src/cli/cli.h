/* cli.h: shared pieces of the civitas subcommands: option parsing, error
 * reporting, passphrases. Exit codes: 0 success, 1 failure, 2 usage error. */
#ifndef CV_CLI_H
#define CV_CLI_H

#include <stddef.h>

#include <jansson.h>

#include "base/buf.h"
#include "crypto/suite.h"
#include "rpc/httpc.h"

#define CLI_MAX_POS 1024

typedef struct {
    const char *name;  /* "--suite" */
    int takes_value;
    const char *value; /* after parsing: the value, or "" for a flag; NULL if absent */
} cli_opt;

typedef struct {
    const char *cmd;   /* "keygen", for messages */
    const char *usage; /* one line, printed on usage errors */
    cli_opt *opts;
    size_t nopts;
    const char *pos[CLI_MAX_POS];
    int npos;
} cli_args;

/* Parses argv[0..argc) into a (whose cmd, usage, opts and nopts are set).
 * Returns 0, or 2 after printing what is wrong and the usage line. */
int cli_parse(cli_args *a, int argc, char **argv, int min_pos, int max_pos);

/* The value of option name, or NULL. */
const char *cli_get(const cli_args *a, const char *name);

/* Prints "civitas CMD: message" and returns 1. */
int cli_fail(const cli_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "civitas CMD: message" and the usage line, and returns 2 (a usage
 * error: a required option is missing or an argument is malformed). */
int cli_usage(const cli_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "civitas CMD: <cv_errmsg()>" and returns 1. */
int cli_fail_cv(const cli_args *a);

/* The passphrase from --passphrase-file, else $CIVITAS_PASSPHRASE, else a
 * prompt on the terminal (asked twice when confirm is set). Returns 0 with
 * *out = NULL when none is available and none is required. */
int cli_passphrase(const cli_args *a, int required, int confirm, char *out, size_t cap, const char **result);

/* Reads a file argument ("-" is standard input) into out, at most max bytes. */
int cli_read_input(const cli_args *a, const char *path, size_t max, cv_buf *out);

/* ---- talking to a node (cmd_client.c) ------------------------------------ */

/* The options every client command takes. */
#define CLIENT_OPTS {"--rpc", 1, NULL}, {"--home", 1, NULL}

/* Calls method with params (taken, even on failure; NULL: out of memory). */
int cli_rpc(cv_httpc *c, const char *method, json_t *params, json_t **result);
/* Connects to the node named by --rpc URL, --home DIR, or the local demo. */
int cli_open_client(const cli_args *a, cv_httpc *c);
/* Calls method and prints its result as JSON; takes params. */
int cli_call_print(const cli_args *a, const char *method, json_t *params);
/* Loads the key file of --key (asking for a passphrase if it is sealed). */
int cli_load_key(const cli_args *a, cv_keypair *key);
/* Signs contract.method with encoded args for the chain c serves, valid for
 * the next 100 blocks: the signed transaction into raw, its hash as hex. */
int cli_sign_tx(const cli_args *a, cv_httpc *c, const cv_keypair *key, const char *contract,
                const char *method, const cv_buf *args, cv_buf *raw, char hash_hex[65]);
/* Waits for a sent transaction and prints "what: tx HASH in block N: ok"
 * (or its error, returning 1). */
int cli_wait_tx(const cli_args *a, cv_httpc *c, const char *what, const char *hash_hex);
/* Signs contract.method(args) with the key, sends it, and unless --no-wait
 * waits for its receipt; prints the outcome; its hash goes to tx_hash.
 * Returns 1 if it failed (or was committed with a failed receipt). */
int cli_send_tx(const cli_args *a, cv_httpc *c, const cv_keypair *key, const char *contract, const char *method,
                const json_t *args, uint8_t tx_hash[CV_HASH_LEN]);

/* Writes text as a QR code PNG (qr_png.c). */
int cli_qr_png(const char *text, const char *path);

/* Subcommands (argv[0] is the subcommand name). */
int cmd_keygen(int argc, char **argv);
int cmd_key(int argc, char **argv);
int cmd_hash(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_node(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_block(int argc, char **argv);
int cmd_tx(int argc, char **argv);
int cmd_call(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_notary(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_net(int argc, char **argv);

#endif
