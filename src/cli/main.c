/* main.c: the `civitas` command line: finds the subcommand and runs it. */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "cli/cli.h"
#include "crypto/suite.h"

static int cmd_version(int argc, char **argv);
static int cmd_selftest(int argc, char **argv);

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"demo", cmd_demo, "start a single-node chain in ./civitas-demo (created if missing)"},
    {"init", cmd_init, "create a node home (--home DIR) or a consortium (--orgs N [--validators K] --out DIR)"},
    {"node", cmd_node, "run a node: node --home DIR"},
    {"net", cmd_net, "a local network: net up N --home DIR, net down --home DIR"},
    {"replay", cmd_replay, "re-execute a node's stored chain from genesis and check it"},
    {"status", cmd_status, "a node's status"},
    {"block", cmd_block, "a block: block [HEIGHT | HASH | latest]"},
    {"tx", cmd_tx, "a transaction with its receipt and inclusion proof: tx HASH"},
    {"call", cmd_call, "a read-only contract call: call CONTRACT METHOD '{JSON args}'"},
    {"send", cmd_send, "sign and send a transaction: send --key KEY CONTRACT METHOD '{JSON args}'"},
    {"notary", cmd_notary, "stamp files (notary stamp FILE... --key KEY), verify a receipt offline (notary verify)"},
    {"trace", cmd_trace, "traceability: trace record|history|recall-impact|event|id|code|qr (EPCIS 2.0)"},
    {"version", cmd_version, "print the version"},
    {"selftest", cmd_selftest, "run the crypto known-answer self-test"},
    {"keygen", cmd_keygen, "create a key file: keygen --suite std|gm -o FILE [--encrypt]"},
    {"key", cmd_key, "key show|export-pub|export-priv KEYFILE, key import PEMFILE -o FILE"},
    {"hash", cmd_hash, "hash a file: hash --suite std|gm FILE"},
    {"sign", cmd_sign, "sign a file: sign --key KEYFILE FILE"},
    {"verify", cmd_verify, "verify a signature: verify --pub PEMFILE --sig HEX FILE"},
};

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("civitas %s\n", CV_VERSION);
    return 0;
}

static int cmd_selftest(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    int rc = cv_crypto_selftest();
    printf("civitas %s\ncrypto self-test (std: Ed25519/SHA-256, gm: SM2/SM3/SM4-GCM): %s\n", CV_VERSION,
           rc == CV_OK ? "ok" : cv_errmsg());
    return rc == CV_OK ? 0 : 1;
}

static void print_help(FILE *f)
{
    fprintf(f, "usage: civitas COMMAND [ARGS]   (civitas COMMAND --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        print_help(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const command *cmd = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            cmd = &commands[i];
    if (!cmd) {
        fprintf(stderr, "civitas: unknown command \"%s\"\n", argv[1]);
        print_help(stderr);
        return 2;
    }
    if (cv_crypto_init() != CV_OK) {
        fprintf(stderr, "civitas: %s\n", cv_errmsg());
        return 1;
    }
    int rc = cmd->run(argc - 1, argv + 1);
    cv_crypto_cleanup();
    return rc;
}
