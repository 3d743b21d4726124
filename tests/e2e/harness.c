/* harness.c: end-to-end test helpers (see harness.h). */
#include "harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "crypto/keyfile.h"
#include "crypto/merkle.h"
#include "exec/exec.h"
#include "ledger/block.h"

static uint32_t random_u32(void)
{
    uint32_t v;
    cv_random(&v, sizeof v);
    return v;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

static int run_argv(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_va(const char *log, const char *civitas, va_list ap)
{
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)civitas;
    for (char *arg; n < 31 && (arg = va_arg(ap, char *));)
        argv[n++] = arg;
    argv[n] = NULL;
    return run_argv(argv, log);
}

int e2e_run(const char *civitas, ...)
{
    va_list ap;
    va_start(ap, civitas);
    int rc = run_va(NULL, civitas, ap);
    va_end(ap);
    return rc;
}

int e2e_run_log(const char *log, const char *civitas, ...)
{
    va_list ap;
    unlink(log);
    va_start(ap, civitas);
    int rc = run_va(log, civitas, ap);
    va_end(ap);
    return rc;
}

/* A base port with base + 10 * i free for i < n. */
static int free_port_run(size_t n)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int base = 20000 + (int)(random_u32() % 30000), ok = 1;
        for (size_t i = 0; i < n && ok; i++) {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                     .sin_port = htons((uint16_t)(base + 10 * (int)i))};
            ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
            if (fd >= 0)
                close(fd);
        }
        if (ok)
            return base;
    }
    return -1;
}

int e2e_init_consortium(e2e_chain *c, size_t n, const char *civitas, const char *suite, char dir[256])
{
    char count[16], rpc[16], p2p[16], path[400];
    strcpy(dir, "/tmp/cv-e2e-net-XXXXXX");
    int rpc_base = free_port_run(n), p2p_base = free_port_run(n);
    if (!mkdtemp(dir) || rpc_base < 0 || p2p_base < 0)
        return cv_fail(CV_EIO, "no temporary directory or free ports");
    rmdir(dir); /* init creates it */
    snprintf(count, sizeof count, "%zu", n);
    snprintf(rpc, sizeof rpc, "%d", rpc_base);
    snprintf(p2p, sizeof p2p, "%d", p2p_base);
    if (e2e_run(civitas, "init", "--orgs", count, "--out", dir, "--suite", suite, "--chain-id", "e2e-chain",
                "--rpc-port", rpc, "--p2p-port", p2p, (char *)NULL) != 0)
        return cv_fail(CV_EIO, "civitas init --orgs failed");
    for (size_t i = 0; i < n; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].civitas = civitas;
        snprintf(c[i].home, sizeof c[i].home, "%s/org%zu", dir, i + 1);
        snprintf(c[i].rpc, sizeof c[i].rpc, "127.0.0.1:%d", rpc_base + 10 * (int)i);
        strcpy(c[i].chain_id, "e2e-chain");
        snprintf(path, sizeof path, "%s/admin.key", c[i].home);
        int rc = cv_keyfile_read(path, NULL, &c[i].admin);
        if (rc || (rc = cv_httpc_init(&c[i].client, c[i].rpc, 60000)))
            return rc;
        c[i].suite = c[i].admin.suite;
    }
    return CV_OK;
}

int e2e_block_hash(e2e_chain *c, uint64_t height, char hex[2 * CV_HASH_LEN + 1])
{
    json_t *b = NULL;
    int rc = e2e_call(c, "block_get", json_pack("{s:I}", "height", (json_int_t)height), &b);
    const char *h = rc ? NULL : json_string_value(json_object_get(b, "hash"));
    if (!rc && (!h || strlen(h) != 2 * CV_HASH_LEN))
        rc = cv_fail(CV_EINVAL, "block_get(%llu) has no hash", (unsigned long long)height);
    if (!rc)
        strcpy(hex, h);
    json_decref(b);
    return rc;
}

int e2e_init(e2e_chain *c, const char *civitas, const char *suite)
{
    memset(c, 0, sizeof *c);
    c->civitas = civitas;
    strcpy(c->home, "/tmp/cv-e2e-XXXXXX");
    if (!mkdtemp(c->home))
        return cv_fail(CV_EIO, "mkdtemp failed");
    int port = free_port();
    char port_text[16], path[300];
    snprintf(port_text, sizeof port_text, "%d", port);
    snprintf(c->rpc, sizeof c->rpc, "127.0.0.1:%d", port);
    if (port < 0 || e2e_run(civitas, "init", "--home", c->home, "--suite", suite, "--chain-id", "e2e-chain",
                            "--rpc-port", port_text, (char *)NULL) != 0)
        return cv_fail(CV_EIO, "civitas init failed");
    snprintf(path, sizeof path, "%s/admin.key", c->home);
    strcpy(c->chain_id, "e2e-chain");
    int rc = cv_keyfile_read(path, NULL, &c->admin);
    c->suite = c->admin.suite;
    return rc ? rc : cv_httpc_init(&c->client, c->rpc, 60000);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int e2e_start(e2e_chain *c)
{
    char log[300];
    snprintf(log, sizeof log, "%s/node.log", c->home);
    c->pid = fork();
    if (c->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(c->civitas, c->civitas, "node", "--home", c->home, (char *)NULL);
        _exit(127);
    }
    if (c->pid < 0)
        return cv_fail(CV_EIO, "fork failed");
    uint64_t deadline = now_ms() + 30000;
    while (now_ms() < deadline) {
        uint64_t h;
        int status;
        if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
            c->pid = 0;
            if (WIFSIGNALED(status))
                return cv_fail(CV_EIO, "the node was killed by signal %d at start (see %s)", WTERMSIG(status), log);
            return cv_fail(CV_EIO, "the node exited at start with status %d (see %s)", WEXITSTATUS(status), log);
        }
        if (e2e_height(c, &h) == CV_OK)
            return CV_OK;
        struct timespec pause = {0, 20 * 1000000L};
        nanosleep(&pause, NULL);
    }
    return cv_fail(CV_EIO, "the node's RPC did not answer within 30 s (see %s)", log);
}

int e2e_stop(e2e_chain *c, int sig)
{
    int status = 0;
    cv_httpc_close(&c->client);
    if (c->pid <= 0)
        return -1;
    kill(c->pid, sig);
    waitpid(c->pid, &status, 0);
    c->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void e2e_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[1024];
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_type == DT_DIR)
            e2e_remove_tree(path);
        else
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

void e2e_cleanup(e2e_chain *c)
{
    if (c->pid > 0)
        e2e_stop(c, SIGKILL);
    cv_key_wipe(&c->admin);
    if (c->home[0] && !getenv("CV_KEEP_E2E"))
        e2e_remove_tree(c->home);
}

int e2e_call(e2e_chain *c, const char *method, json_t *params, json_t **result)
{
    int rc = cv_httpc_call(&c->client, method, params, result, NULL);
    json_decref(params);
    return rc;
}

int e2e_height(e2e_chain *c, uint64_t *height)
{
    json_t *st = NULL;
    int rc = e2e_call(c, "status", json_object(), &st);
    if (!rc)
        *height = (uint64_t)json_integer_value(json_object_get(st, "height"));
    json_decref(st);
    return rc;
}

json_t *e2e_hex(const uint8_t *p, size_t n)
{
    char *hex = malloc(2 * n + 1);
    cv_hex_encode(p, n, hex);
    json_t *s = json_string(hex);
    free(hex);
    return s;
}

int e2e_sign_tx(e2e_chain *c, const char *contract, const char *method, json_t *args, uint64_t expiry,
                cv_buf *raw, uint8_t tx_hash[CV_HASH_LEN])
{
    cv_buf enc = {0};
    cv_tx tx = {0};
    int rc = cv_exec_args_from_json(contract, method, args, &enc);
    json_decref(args);
    strcpy(tx.chain_id, c->chain_id);
    snprintf(tx.contract, sizeof tx.contract, "%s", contract);
    snprintf(tx.method, sizeof tx.method, "%s", method);
    cv_random(&tx.nonce, sizeof tx.nonce);
    tx.expiry = expiry;
    tx.args = enc.data;
    tx.args_len = enc.len;
    if (!rc)
        rc = cv_tx_sign(&tx, &c->admin, raw);
    if (!rc)
        memcpy(tx_hash, tx.hash, CV_HASH_LEN);
    cv_buf_free(&enc);
    return rc;
}

int e2e_stamp_tx(e2e_chain *c, const uint8_t hash[CV_HASH_LEN], const char *label, uint64_t expiry,
                 cv_buf *raw, uint8_t tx_hash[CV_HASH_LEN])
{
    json_t *args = json_pack("{s:o, s:s}", "hash", e2e_hex(hash, CV_HASH_LEN), "label", label);
    return e2e_sign_tx(c, "notary", "stamp", args, expiry, raw, tx_hash);
}

int e2e_send_stamps(e2e_chain *c, size_t n, const char *label, uint64_t expiry, uint8_t (*hashes)[CV_HASH_LEN])
{
    json_t *txs = json_array(), *res = NULL;
    int rc = txs ? CV_OK : cv_fail(CV_ENOMEM, "out of memory");
    for (size_t i = 0; i < n && !rc; i++) {
        uint8_t file[CV_HASH_LEN];
        cv_buf raw = {0};
        cv_random(file, sizeof file);
        if (!(rc = e2e_stamp_tx(c, file, label, expiry, &raw, hashes[i])))
            json_array_append_new(txs, e2e_hex(raw.data, raw.len));
        cv_buf_free(&raw);
    }
    if (rc) {
        json_decref(txs);
        return rc;
    }
    rc = e2e_call(c, "tx_send_batch", json_pack("{s:o}", "txs", txs), &res);
    json_decref(res);
    return rc;
}

int e2e_send_wait(e2e_chain *c, const char *contract, const char *method, json_t *args, uint64_t *height)
{
    uint64_t tip;
    uint8_t hash[CV_HASH_LEN];
    cv_buf raw = {0};
    json_t *res = NULL;
    int rc = e2e_height(c, &tip);
    if (rc)
        json_decref(args);
    else
        rc = e2e_sign_tx(c, contract, method, args, tip + 100, &raw, hash);
    if (!rc)
        rc = e2e_call(c, "tx_send", json_pack("{s:o}", "tx", e2e_hex(raw.data, raw.len)), &res);
    json_decref(res);
    res = NULL;
    if (!rc)
        rc = e2e_call(c, "tx_wait", json_pack("{s:o, s:i}", "hash", e2e_hex(hash, CV_HASH_LEN), "timeout_ms", 30000),
                      &res);
    json_t *receipt = json_object_get(res, "receipt");
    if (!rc && !json_is_true(json_object_get(receipt, "ok")))
        rc = cv_fail(CV_ESTATE, "%s.%s failed: %s", contract, method,
                     json_string_value(json_object_get(receipt, "error")));
    if (!rc)
        *height = (uint64_t)json_integer_value(json_object_get(res, "height"));
    json_decref(res);
    cv_buf_free(&raw);
    return rc;
}

static int get_hex32(json_t *obj, const char *key, uint8_t out[CV_HASH_LEN])
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s || cv_hex_decode(s, out, CV_HASH_LEN))
        return cv_fail(CV_EINVAL, "\"%s\" is not a 32-byte hex string", key);
    return CV_OK;
}

static uint64_t get_u64(json_t *obj, const char *key)
{
    return (uint64_t)json_integer_value(json_object_get(obj, key));
}

/* The header in JSON as rendered by the RPC server, back into a cv_header. */
static int header_from_json(json_t *j, cv_header *h)
{
    memset(h, 0, sizeof *h);
    const char *chain = json_string_value(json_object_get(j, "chain_id"));
    const char *proposer = json_string_value(json_object_get(j, "proposer"));
    cv_suite suite;
    if (!chain || strlen(chain) > CV_CHAIN_ID_MAX || !proposer)
        return cv_fail(CV_EINVAL, "header lacks chain_id or proposer");
    strcpy(h->chain_id, chain);
    h->height = get_u64(j, "height");
    h->time_ms = get_u64(j, "time_ms");
    h->tx_count = get_u64(j, "tx_count");
    int rc;
    if ((rc = get_hex32(j, "prev_hash", h->prev_hash)) || (rc = get_hex32(j, "tx_root", h->tx_root)) ||
        (rc = get_hex32(j, "receipt_root", h->receipt_root)) || (rc = get_hex32(j, "state_root", h->state_root)) ||
        (rc = get_hex32(j, "validators_hash", h->validators_hash)) ||
        (rc = get_hex32(j, "next_validators_hash", h->next_validators_hash)))
        return rc;
    return cv_address_parse(proposer, &suite, h->proposer);
}

/* Checks the proof object of tx_get against the transaction hash. */
static int check_proof(e2e_chain *c, json_t *proof, const uint8_t tx_hash[CV_HASH_LEN], uint64_t height)
{
    cv_header h;
    uint8_t leaf[CV_HASH_LEN], block_hash[CV_HASH_LEN], computed[CV_HASH_LEN], path[CV_MERKLE_MAX_DEPTH * CV_HASH_LEN];
    json_t *jpath = json_object_get(proof, "path");
    size_t count = json_array_size(jpath);
    int rc = header_from_json(json_object_get(proof, "header"), &h);
    if (!rc)
        rc = get_hex32(proof, "block_hash", block_hash);
    if (!rc && (count > CV_MERKLE_MAX_DEPTH || h.height != height))
        rc = cv_fail(CV_EINVAL, "proof path too long or header of another height");
    for (size_t i = 0; !rc && i < count; i++) {
        const char *s = json_string_value(json_array_get(jpath, i));
        if (!s || cv_hex_decode(s, path + i * CV_HASH_LEN, CV_HASH_LEN))
            rc = cv_fail(CV_EINVAL, "proof path[%zu] is not a hash", i);
    }
    if (!rc)
        rc = cv_header_hash(c->suite, &h, computed);
    if (!rc && memcmp(computed, block_hash, CV_HASH_LEN) != 0)
        rc = cv_fail(CV_EBADSIG, "the proof's header does not hash to its block hash");
    if (!rc)
        rc = cv_merkle_leaf_hash(c->suite, tx_hash, CV_HASH_LEN, leaf);
    if (!rc)
        rc = cv_merkle_verify(c->suite, leaf, get_u64(proof, "index"), h.tx_count, path, count, h.tx_root);
    return rc;
}

int e2e_check_tx(e2e_chain *c, const uint8_t tx_hash[CV_HASH_LEN], uint64_t *height)
{
    json_t *got = NULL, *block = NULL;
    int rc = e2e_call(c, "tx_get", json_pack("{s:o}", "hash", e2e_hex(tx_hash, CV_HASH_LEN)), &got);
    if (rc)
        return rc;
    json_t *receipt = json_object_get(got, "receipt"), *proof = json_object_get(got, "proof");
    *height = get_u64(got, "height");
    if (!json_is_true(json_object_get(receipt, "ok")))
        rc = cv_fail(CV_ESTATE, "receipt not ok: %s", json_string_value(json_object_get(receipt, "error")));
    if (!rc)
        rc = check_proof(c, proof, tx_hash, *height);
    /* The block the proof names is the block the chain has at that height. */
    if (!rc && !(rc = e2e_call(c, "block_get", json_pack("{s:I}", "height", (json_int_t)*height), &block))) {
        const char *a = json_string_value(json_object_get(block, "hash"));
        const char *b = json_string_value(json_object_get(proof, "block_hash"));
        if (!a || !b || strcmp(a, b) != 0)
            rc = cv_fail(CV_ESTATE, "block_get(%llu) hash differs from the proof's", (unsigned long long)*height);
    }
    json_decref(block);
    json_decref(got);
    return rc;
}

int e2e_same_chain(e2e_chain *c, size_t n, const int *alive)
{
    uint64_t low = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        uint64_t h;
        if (alive[i] && e2e_height(&c[i], &h) == CV_OK && h < low)
            low = h;
    }
    int same = low != UINT64_MAX && low > 0;
    for (uint64_t h = 1; same && h <= low; h++) {
        char first[2 * CV_HASH_LEN + 1] = "", hex[2 * CV_HASH_LEN + 1];
        for (size_t i = 0; i < n && same; i++) {
            if (!alive[i])
                continue;
            same = e2e_block_hash(&c[i], h, hex) == CV_OK && (!first[0] || strcmp(first, hex) == 0);
            if (!first[0])
                strcpy(first, hex);
        }
        if (!same)
            fprintf(stderr, "nodes differ at height %llu\n", (unsigned long long)h);
    }
    fprintf(stderr, "  same chain on the live nodes up to height %llu: %s\n", (unsigned long long)low,
            same ? "yes" : "NO");
    return same;
}
