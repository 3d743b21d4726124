/* cmd_chain.c: creating and running chains: init (one home or a whole
 * consortium), node, demo. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/err.h"
#include "base/file.h"
#include "base/log.h"
#include "cli/cli.h"
#include "crypto/keyfile.h"
#include "ledger/genesis.h"
#include "node/node.h"
#include "rpc/rpc.h"

#define DEMO_HOME "civitas-demo"
#define DEFAULT_RPC_PORT 8645
#define DEFAULT_P2P_PORT 26656
#define MAX_ORGS 64

/* One organisation's home while a consortium is being created. */
typedef struct {
    char home[1024];
    cv_keypair node_key, admin_key;
} org_home;

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return cv_fail(CV_EIO, "cannot create %s: %s", path, strerror(errno));
    return CV_OK;
}

/* Creates home with its two keys; refuses a home that already has a config. */
static int create_home(org_home *o, cv_suite suite)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/config.json", o->home);
    struct stat st;
    if (stat(path, &st) == 0)
        return cv_fail(CV_EEXIST, "%s already holds a node (config.json exists)", o->home);
    int rc = make_dir(o->home);
    if (!rc)
        rc = cv_key_generate(suite, &o->node_key);
    if (!rc)
        rc = cv_key_generate(suite, &o->admin_key);
    snprintf(path, sizeof path, "%s/node.key", o->home);
    if (!rc)
        rc = cv_keyfile_write(path, &o->node_key, NULL);
    snprintf(path, sizeof path, "%s/admin.key", o->home);
    if (!rc)
        rc = cv_keyfile_write(path, &o->admin_key, NULL);
    return rc;
}

#define CONSORTIUM_INTERVAL_MS 100 /* block_interval_ms of a genesis with several validators */

/* A genesis where org i has its admin key (roles admin, notary) and, for the
 * first nval organisations, its node key as a validator of power 10. */
static int build_genesis(const char *chain_id, cv_suite suite, org_home *orgs, size_t n, size_t nval,
                         cv_genesis *g)
{
    size_t nparams;
    const cv_param_info *info = cv_params(&nparams);
    memset(g, 0, sizeof *g);
    snprintf(g->chain.chain_id, sizeof g->chain.chain_id, "%s", chain_id);
    g->chain.suite = suite;
    g->time_ms = (uint64_t)time(NULL) * 1000;
    g->orgs = calloc(n, sizeof *g->orgs);
    g->accounts = calloc(n, sizeof *g->accounts);
    g->validators = calloc(n, sizeof *g->validators);
    g->params = calloc(nparams, sizeof *g->params);
    if (!g->orgs || !g->accounts || !g->validators || !g->params)
        return cv_fail(CV_ENOMEM, "out of memory building genesis");
    for (size_t i = 0; i < n; i++) {
        snprintf(g->orgs[i].id, sizeof g->orgs[i].id, "org%zu", i + 1);
        snprintf(g->orgs[i].name, sizeof g->orgs[i].name, "Organisation %zu", i + 1);
        g->accounts[i].pub = orgs[i].admin_key.pub;
        strcpy(g->accounts[i].org, g->orgs[i].id);
        g->accounts[i].nroles = 2;
        strcpy(g->accounts[i].roles[0], "admin");
        strcpy(g->accounts[i].roles[1], "notary");
        g->validators[i].pub = orgs[i].node_key.pub;
        strcpy(g->validators[i].org, g->orgs[i].id);
        g->validators[i].power = 10;
    }
    for (size_t i = 0; i < nparams; i++)
        g->params[i] = (cv_param){info[i].name, info[i].def};
    /* With several validators each block already waits for a consensus
     * round, which batches what arrives meanwhile: a shorter interval then
     * halves commit latency at no cost in throughput (docs/BENCHMARKS.md),
     * where a lone validator would only commit more, smaller blocks. */
    for (size_t i = 0; i < nparams && nval > 1; i++)
        if (strcmp(g->params[i].name, "block_interval_ms") == 0)
            g->params[i].value = CONSORTIUM_INTERVAL_MS;
    g->norgs = g->naccounts = n;
    g->nvalidators = nval;
    g->nparams = nparams;
    return CV_OK;
}

/* Writes org i's genesis and config: its ports, and every other
 * organisation's node as a peer (the validators form a full mesh). */
static int write_home_files(const org_home *orgs, size_t n, size_t i, const cv_buf *genesis, unsigned rpc_port,
                            unsigned p2p_port)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/genesis.json", orgs[i].home);
    int rc = cv_file_write(path, genesis->data, genesis->len, 0644, 1);
    cv_node_config cfg;
    if (!rc)
        rc = cv_node_config_load(orgs[i].home, &cfg);
    if (rc)
        return rc;
    snprintf(cfg.rpc_listen, sizeof cfg.rpc_listen, "127.0.0.1:%u", rpc_port + (unsigned)(10 * i));
    snprintf(cfg.p2p_listen, sizeof cfg.p2p_listen, "127.0.0.1:%u", p2p_port + (unsigned)(10 * i));
    for (size_t j = 0; j < n && n > 1; j++) {
        if (j == i)
            continue;
        cv_node_peer *p = &cfg.peers[cfg.npeers++];
        snprintf(p->addr, sizeof p->addr, "127.0.0.1:%u", p2p_port + (unsigned)(10 * j));
        cv_hex_encode(orgs[j].node_key.pub.bytes, orgs[j].node_key.pub.len, p->public_key);
    }
    return cv_node_config_write(&cfg);
}

/* Creates n homes under names[i] sharing one genesis. */
static int init_consortium(const cli_args *a, org_home *orgs, size_t n, size_t nval, const char *chain_id,
                           cv_suite suite, unsigned base_port, unsigned p2p_port)
{
    cv_genesis g;
    cv_buf text = {0};
    int rc = CV_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = create_home(&orgs[i], suite);
    if (!rc)
        rc = build_genesis(chain_id, suite, orgs, n, nval, &g);
    if (!rc)
        rc = cv_genesis_to_json(&g, &text);
    for (size_t i = 0; i < n && !rc; i++)
        rc = write_home_files(orgs, n, i, &text, base_port, p2p_port);
    if (!rc)
        for (size_t i = 0; i < n; i++) {
            char addr[CV_ADDR_STR_MAX];
            cv_address_string(&orgs[i].admin_key.pub, addr);
            printf("%s: org%zu, RPC 127.0.0.1:%u, admin account %s (admin.key)\n", orgs[i].home, i + 1,
                   base_port + (unsigned)(10 * i), addr);
        }
    cv_genesis_free(&g);
    cv_buf_free(&text);
    for (size_t i = 0; i < n; i++) {
        cv_key_wipe(&orgs[i].node_key);
        cv_key_wipe(&orgs[i].admin_key);
    }
    return rc ? cli_fail_cv(a) : 0;
}

/* Parses a decimal option within [min, max]; def when absent. */
static int option_uint(const cli_args *a, const char *name, unsigned long def, unsigned long min,
                       unsigned long max, unsigned long *out)
{
    const char *v = cli_get(a, name);
    char *end;
    *out = def;
    if (!v)
        return 0;
    errno = 0;
    *out = strtoul(v, &end, 10);
    if (errno || *end || end == v || *out < min || *out > max)
        return cli_usage(a, "%s must be a number from %lu to %lu", name, min, max);
    return 0;
}

int cmd_init(int argc, char **argv)
{
    cli_opt opts[] = {{"--home", 1, NULL}, {"--orgs", 1, NULL}, {"--out", 1, NULL}, {"--suite", 1, NULL},
                      {"--chain-id", 1, NULL}, {"--rpc-port", 1, NULL}, {"--p2p-port", 1, NULL},
                      {"--validators", 1, NULL}};
    cli_args a = {"init", "init --home DIR | init --orgs N [--validators K] --out DIR  [--suite std|gm] [--chain-id ID] "
                  "[--rpc-port P] [--p2p-port P]", opts, 8, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 0, 0);
    if (rc)
        return rc;
    const char *home = cli_get(&a, "--home"), *out = cli_get(&a, "--out");
    const char *suite_name = cli_get(&a, "--suite"), *chain_id = cli_get(&a, "--chain-id");
    unsigned long norgs, nval, port, p2p_port;
    cv_suite suite;
    if ((rc = option_uint(&a, "--orgs", 1, 1, MAX_ORGS, &norgs)) ||
        (rc = option_uint(&a, "--validators", norgs, 1, norgs, &nval)) ||
        (rc = option_uint(&a, "--rpc-port", DEFAULT_RPC_PORT, 1, 65000, &port)) ||
        (rc = option_uint(&a, "--p2p-port", DEFAULT_P2P_PORT, 1, 65000, &p2p_port)))
        return rc;
    if (!home == !out || (home && cli_get(&a, "--orgs")))
        return cli_usage(&a, "give --home DIR for one node, or --orgs N --out DIR for a consortium");
    if (cv_suite_parse(suite_name ? suite_name : "std", &suite))
        return cli_fail_cv(&a);
    if (chain_id && (strlen(chain_id) == 0 || strlen(chain_id) > CV_CHAIN_ID_MAX))
        return cli_usage(&a, "--chain-id must have 1 to %d characters", CV_CHAIN_ID_MAX);
    org_home *orgs = calloc(norgs, sizeof *orgs);
    if (!orgs)
        return cli_fail(&a, "out of memory");
    if (out && make_dir(out) != CV_OK) {
        free(orgs);
        return cli_fail_cv(&a);
    }
    for (size_t i = 0; i < norgs; i++)
        if (home)
            snprintf(orgs[i].home, sizeof orgs[i].home, "%s", home);
        else
            snprintf(orgs[i].home, sizeof orgs[i].home, "%s/org%zu", out, i + 1);
    rc = init_consortium(&a, orgs, norgs, nval, chain_id ? chain_id : "civitas-local", suite, (unsigned)port,
                         (unsigned)p2p_port);
    free(orgs);
    return rc;
}

/* Runs the node in cfg until SIGINT or SIGTERM. */
static int run_node(const cli_args *a, const cv_node_config *cfg)
{
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    /* Block the stop signals in every thread; the main thread waits for them. */
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    cv_node *node;
    cv_rpc *rpc = NULL;
    if (cv_node_open(cfg, &node) != CV_OK)
        return cli_fail_cv(a);
    if (cv_rpc_start(node, cfg->rpc_listen, &rpc) != CV_OK || cv_node_start(node) != CV_OK) {
        int rc = cli_fail_cv(a);
        cv_rpc_stop(rpc);
        cv_node_close(node);
        return rc;
    }
    cv_info("JSON-RPC on http://%s (home %s)", cv_rpc_address(rpc), cfg->home);
    printf("civitas node running: RPC http://%s\n", cv_rpc_address(rpc));
    fflush(stdout);
    int sig = 0;
    sigwait(&stop, &sig);
    cv_info("signal %d: stopping", sig);
    cv_rpc_stop(rpc);
    cv_node_close(node);
    cv_info("stopped");
    return 0;
}

int cmd_node(int argc, char **argv)
{
    cli_opt opts[] = {{"--home", 1, NULL}, {"--rpc-listen", 1, NULL}};
    cli_args a = {"node", "node --home DIR [--rpc-listen HOST:PORT]", opts, 2, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 0, 0);
    if (rc)
        return rc;
    const char *home = cli_get(&a, "--home"), *listen = cli_get(&a, "--rpc-listen");
    if (!home)
        return cli_usage(&a, "--home DIR is required (create one with civitas init --home DIR)");
    cv_node_config cfg;
    if (cv_node_config_load(home, &cfg) != CV_OK)
        return cli_fail_cv(&a);
    if (listen)
        snprintf(cfg.rpc_listen, sizeof cfg.rpc_listen, "%s", listen);
    return run_node(&a, &cfg);
}

int cmd_demo(int argc, char **argv)
{
    cli_opt opts[] = {{"--suite", 1, NULL}};
    cli_args a = {"demo", "demo [--suite std|gm]   (a single-node chain in ./" DEMO_HOME ")", opts, 1, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 0, 0);
    if (rc)
        return rc;
    if (cv_crypto_selftest() != CV_OK)
        return cli_fail_cv(&a);
    printf("civitas %s: crypto self-test ok (std: Ed25519/SHA-256, gm: SM2/SM3/SM4-GCM)\n", CV_VERSION);
    struct stat st;
    if (stat(DEMO_HOME "/config.json", &st) != 0) {
        char *init_argv[] = {"init", "--home", DEMO_HOME, "--chain-id", "civitas-demo", "--suite",
                             (char *)(cli_get(&a, "--suite") ? cli_get(&a, "--suite") : "std"), NULL};
        if ((rc = cmd_init(7, init_argv)))
            return rc;
    }
    cv_node_config cfg;
    if (cv_node_config_load(DEMO_HOME, &cfg) != CV_OK)
        return cli_fail_cv(&a);
    printf("single-node chain in ./%s; try, from another terminal:\n"
           "  civitas status\n  civitas notary stamp README.md --key %s/admin.key\n", DEMO_HOME, DEMO_HOME);
    return run_node(&a, &cfg);
}

int cmd_replay(int argc, char **argv)
{
    cli_opt opts[] = {{"--home", 1, NULL}};
    cli_args a = {"replay", "replay --home DIR   (re-execute the stored chain from genesis and check every root)",
                  opts, 1, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 0, 0);
    if (rc)
        return rc;
    const char *home = cli_get(&a, "--home");
    cv_node_config cfg;
    uint64_t height;
    if (!home)
        return cli_usage(&a, "--home DIR is required");
    if (cv_node_config_load(home, &cfg) != CV_OK)
        return cli_fail_cv(&a);
    if (cv_node_replay(&cfg, &height) != CV_OK)
        return cli_fail(&a, "after %llu good blocks: %s", (unsigned long long)height, cv_errmsg());
    printf("replayed %llu blocks from genesis: every link, tx root, receipt root, state root and validator set matches\n",
           (unsigned long long)height);
    return 0;
}
