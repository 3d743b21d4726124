/* load.c: the load generator for one node (bench_load).
 *
 * Pre-signs notary.stamp transactions, then sends them in batches (POST /txs,
 * one canonical encoding per batch, or with --json tx_send_batch requests
 * with hex transactions) over several connections (optionally at a fixed offered rate)
 * while a watcher follows new blocks and timestamps each transaction's
 * commit. Reports committed transactions per second, commit latency (p50,
 * p99: from the send of its batch to the client seeing its block) and, in the
 * same run, this machine's signature-verify rate on all cores, the bound for
 * one node.
 *
 *   bench_load --home DIR [--txs N] [--conns C] [--batch B] [--rate TX_PER_S] [--json]
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/err.h"
#include "codec/codec.h"
#include "crypto/keyfile.h"
#include "exec/exec.h"
#include "ledger/tx.h"
#include "node/node.h"
#include "rpc/httpc.h"

typedef struct {
    uint8_t hash[CV_HASH_LEN];
    size_t index;
} hash_index;

typedef struct {
    char url[128];
    size_t ntx, conns, batch;
    double rate;
    cv_suite suite;
    cv_keypair key;
    char chain_id[CV_CHAIN_ID_MAX + 1];
    uint64_t start_height, expiry;
    /* the pre-signed transactions */
    cv_buf *raw;
    cv_tx *txs;
    hash_index *by_hash;
    int json;       /* send JSON-RPC tx_send_batch requests, not POST /txs */
    cv_buf *bodies; /* one request body per batch */
    size_t nbatches;
    /* measurements (ms on CLOCK_MONOTONIC) */
    double *sent_ms, *commit_ms;
    atomic_size_t next_batch, committed, refused;
    double t0;
    atomic_int done;
} bench;

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_load: %s: %s\n", what, cv_errmsg());
    exit(1);
}

static int cmp_hash_index(const void *a, const void *b)
{
    return memcmp(((const hash_index *)a)->hash, ((const hash_index *)b)->hash, CV_HASH_LEN);
}

static long find_tx(const bench *b, const uint8_t hash[CV_HASH_LEN])
{
    hash_index key;
    memcpy(key.hash, hash, CV_HASH_LEN);
    const hash_index *hit = bsearch(&key, b->by_hash, b->ntx, sizeof key, cmp_hash_index);
    return hit ? (long)hit->index : -1;
}

static json_t *call(cv_httpc *c, const char *method, json_t *params)
{
    json_t *res = NULL;
    if (cv_httpc_call(c, method, params, &res, NULL) != CV_OK)
        die(method);
    json_decref(params);
    return res;
}

static void read_chain(bench *b)
{
    cv_httpc c;
    if (cv_httpc_init(&c, b->url, 30000))
        die("rpc address");
    json_t *st = call(&c, "status", json_object());
    snprintf(b->chain_id, sizeof b->chain_id, "%s", json_string_value(json_object_get(st, "chain_id")));
    b->start_height = (uint64_t)json_integer_value(json_object_get(st, "height"));
    json_decref(st);
    json_t *p = call(&c, "call", json_pack("{s:s, s:s, s:{s:s}}", "contract", "gov", "method", "param", "args",
                                           "name", "tx_window"));
    uint64_t window = (uint64_t)json_integer_value(json_object_get(json_object_get(p, "result"), "value"));
    json_decref(p);
    b->expiry = b->start_height + (window > 1 ? window - 1 : 1);
    cv_httpc_close(&c);
}

static void presign(bench *b)
{
    b->raw = calloc(b->ntx, sizeof *b->raw);
    b->txs = calloc(b->ntx, sizeof *b->txs);
    b->by_hash = calloc(b->ntx, sizeof *b->by_hash);
    b->sent_ms = calloc(b->ntx, sizeof *b->sent_ms);
    b->commit_ms = calloc(b->ntx, sizeof *b->commit_ms);
    cv_buf args = {0};
    for (size_t i = 0; i < b->ntx; i++) {
        uint8_t file[CV_HASH_LEN];
        char hex[2 * CV_HASH_LEN + 1];
        cv_random(file, sizeof file);
        cv_hex_encode(file, sizeof file, hex);
        json_t *a = json_pack("{s:s, s:s}", "hash", hex, "label", "bench");
        cv_buf_reset(&args);
        if (cv_exec_args_from_json("notary", "stamp", a, &args))
            die("args");
        json_decref(a);
        cv_tx *tx = &b->txs[i];
        strcpy(tx->chain_id, b->chain_id);
        strcpy(tx->contract, "notary");
        strcpy(tx->method, "stamp");
        cv_random(&tx->nonce, sizeof tx->nonce);
        tx->expiry = b->expiry;
        tx->args = args.data;
        tx->args_len = args.len;
        if (cv_tx_sign(tx, &b->key, &b->raw[i]))
            die("sign");
        memcpy(b->by_hash[i].hash, tx->hash, CV_HASH_LEN);
        b->by_hash[i].index = i;
        if (i % 5000 == 4999)
            fprintf(stderr, "  signed %zu of %zu\n", i + 1, b->ntx);
    }
    cv_buf_free(&args);
    qsort(b->by_hash, b->ntx, sizeof *b->by_hash, cmp_hash_index);
}

/* Batch k's body: a tx_send_batch request, or {1: list of bytes}. */
static void build_body(bench *b, size_t k, cv_buf *out)
{
    size_t first = k * b->batch, last = first + b->batch < b->ntx ? first + b->batch : b->ntx;
    if (b->json) {
        json_t *txs = json_array();
        for (size_t i = first; i < last; i++) {
            char *hex = malloc(2 * b->raw[i].len + 1);
            cv_hex_encode(b->raw[i].data, b->raw[i].len, hex);
            json_array_append_new(txs, json_string(hex));
            free(hex);
        }
        json_t *req = json_pack("{s:s, s:i, s:s, s:{s:o}}", "jsonrpc", "2.0", "id", (int)k, "method",
                                "tx_send_batch", "params", "txs", txs);
        char *text = json_dumps(req, JSON_COMPACT);
        cv_buf_append(out, text, strlen(text));
        free(text);
        json_decref(req);
        return;
    }
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_list_begin(&e, 1, CV_CODEC_BYTES_LIST);
    for (size_t i = first; i < last; i++)
        cv_enc_bytes(&e, CV_CODEC_ITEM, b->raw[i].data, b->raw[i].len);
    cv_enc_end(&e);
    if (cv_enc_finish(&e) != CV_OK)
        die("encode");
}

static void build_bodies(bench *b)
{
    b->nbatches = (b->ntx + b->batch - 1) / b->batch;
    b->bodies = calloc(b->nbatches, sizeof *b->bodies);
    for (size_t k = 0; k < b->nbatches; k++)
        build_body(b, k, &b->bodies[k]);
}

/* This machine's verify rate over the pre-signed transactions, on threads. */
static double verify_rate(bench *b, unsigned threads)
{
    cv_pool *pool;
    size_t n = b->ntx < 20000 ? b->ntx : 20000;
    cv_verify_item *items = calloc(n, sizeof *items);
    uint8_t *ok = calloc(n, 1);
    for (size_t i = 0; i < n; i++)
        items[i] = cv_tx_verify_item(&b->txs[i]);
    cv_pool_create(threads, &pool);
    double t = mono_ms();
    if (cv_verify_batch(pool, items, n, ok) != CV_OK)
        die("verify");
    double rate = n / ((mono_ms() - t) / 1e3);
    cv_pool_destroy(pool);
    free(items);
    free(ok);
    return rate;
}

static void *sender_main(void *arg)
{
    bench *b = arg;
    cv_httpc c;
    cv_buf resp = {0};
    char url[160];
    snprintf(url, sizeof url, "%s%s", b->url, b->json ? "" : "/txs");
    cv_httpc_init(&c, url, 60000);
    for (;;) {
        size_t k = atomic_fetch_add(&b->next_batch, 1);
        if (k >= b->nbatches)
            break;
        size_t first = k * b->batch, last = first + b->batch < b->ntx ? first + b->batch : b->ntx;
        if (b->rate > 0) { /* offered load: batch k leaves at t0 + first / rate */
            double due = b->t0 + first / b->rate * 1e3, now = mono_ms();
            if (due > now) {
                struct timespec ts = {(time_t)((due - now) / 1e3), (long)(((due - now) / 1e3 - (time_t)((due - now) / 1e3)) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        double t = mono_ms();
        for (size_t i = first; i < last; i++)
            b->sent_ms[i] = t;
        int status;
        if (cv_httpc_post(&c, b->json ? "application/json" : "application/octet-stream", b->bodies[k].data,
                          b->bodies[k].len, &status, &resp) != CV_OK || status != 200)
            die("send");
        /* Count refusals: each "error" object in the results. */
        const char *p = (const char *)resp.data;
        size_t refused = 0;
        cv_buf_append_byte(&resp, 0);
        while ((p = strstr(p, "\"error\"")))
            refused++, p++;
        atomic_fetch_add(&b->refused, refused);
    }
    cv_buf_free(&resp);
    cv_httpc_close(&c);
    return NULL;
}

/* Follows new blocks and timestamps the commits of our transactions. */
static void *watcher_main(void *arg)
{
    bench *b = arg;
    cv_httpc c;
    cv_httpc_init(&c, b->url, 60000);
    uint64_t seen = b->start_height;
    double idle_since = mono_ms();
    while (atomic_load(&b->committed) + atomic_load(&b->refused) < b->ntx && mono_ms() - idle_since < 20000) {
        json_t *w = call(&c, "block_wait", json_pack("{s:I, s:i}", "after", (json_int_t)seen, "timeout_ms", 1000));
        uint64_t top = (uint64_t)json_integer_value(json_object_get(w, "height"));
        json_decref(w);
        for (uint64_t h = seen + 1; h <= top; h++) {
            json_t *blk = call(&c, "block_get", json_pack("{s:I}", "height", (json_int_t)h));
            double now = mono_ms();
            json_t *hashes = json_object_get(blk, "txs");
            for (size_t i = 0; i < json_array_size(hashes); i++) {
                uint8_t hash[CV_HASH_LEN];
                const char *s = json_string_value(json_array_get(hashes, i));
                long idx = s && cv_hex_decode(s, hash, CV_HASH_LEN) == CV_OK ? find_tx(b, hash) : -1;
                if (idx >= 0 && b->commit_ms[idx] == 0) {
                    b->commit_ms[idx] = now;
                    atomic_fetch_add(&b->committed, 1);
                }
            }
            json_decref(blk);
            idle_since = now;
        }
        seen = top;
    }
    atomic_store(&b->done, 1);
    cv_httpc_close(&c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(bench *b, double elapsed_ms, double verify1, double verify_all)
{
    double *lat = calloc(b->ntx, sizeof *lat), first = 0, last = 0;
    size_t n = 0;
    for (size_t i = 0; i < b->ntx; i++)
        if (b->commit_ms[i] > 0) {
            lat[n++] = b->commit_ms[i] - b->sent_ms[i];
            if (!first || b->sent_ms[i] < first)
                first = b->sent_ms[i];
            if (b->commit_ms[i] > last)
                last = b->commit_ms[i];
        }
    qsort(lat, n, sizeof *lat, cmp_double);
    double tps = n && last > first ? n / ((last - first) / 1e3) : 0;
    printf("suite %s: %zu of %zu committed (%zu refused) in %.1f s\n", cv_suite_name(b->suite), n, b->ntx,
           (size_t)atomic_load(&b->refused), elapsed_ms / 1e3);
    printf("committed tx/s: %.0f   (offered %s)\n", tps, b->rate > 0 ? "at a fixed rate" : "as fast as possible");
    if (n)
        printf("commit latency ms: p50 %.0f  p99 %.0f  max %.0f\n", lat[n / 2], lat[(size_t)(n * 0.99)], lat[n - 1]);
    printf("machine verify rate: %.0f/s on 1 thread, %.0f/s on all cores; node = %.0f%% of the all-core bound\n",
           verify1, verify_all, verify_all > 0 ? 100 * tps / verify_all : 0);
    printf("RESULT suite=%s tps=%.0f p50_ms=%.0f p99_ms=%.0f verify_all=%.0f ratio=%.3f\n", cv_suite_name(b->suite),
           tps, n ? lat[n / 2] : 0, n ? lat[(size_t)(n * 0.99)] : 0, verify_all, verify_all > 0 ? tps / verify_all : 0);
    free(lat);
}

static void parse_args(int argc, char **argv, bench *b, const char **home)
{
    b->ntx = 20000;
    b->conns = 8;
    b->batch = 250;
    for (int i = 1; i < argc; i += 2) {
        if (!strcmp(argv[i], "--json")) {
            b->json = 1;
            i--;
        } else if (i + 1 == argc) {
            fprintf(stderr, "bench_load: %s needs a value\n", argv[i]);
            exit(2);
        } else if (!strcmp(argv[i], "--home"))
            *home = argv[i + 1];
        else if (!strcmp(argv[i], "--txs"))
            b->ntx = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--conns"))
            b->conns = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--batch"))
            b->batch = strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--rate"))
            b->rate = atof(argv[i + 1]);
        else {
            fprintf(stderr, "bench_load: unknown option %s\n", argv[i]);
            exit(2);
        }
    }
    if (!*home || b->ntx == 0 || b->conns == 0 || b->conns > 256 || b->batch == 0 || b->batch > 10000) {
        fprintf(stderr, "usage: bench_load --home DIR [--txs N] [--conns 1-256] [--batch 1-10000] [--rate TX/S] "
                        "[--json]\n");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    bench b = {0};
    const char *home = NULL;
    parse_args(argc, argv, &b, &home);
    cv_node_config cfg;
    char key_path[1100];
    if (cv_crypto_init() || cv_node_config_load(home, &cfg))
        die("setup");
    snprintf(b.url, sizeof b.url, "%s", cfg.rpc_listen);
    snprintf(key_path, sizeof key_path, "%s/admin.key", home);
    if (cv_keyfile_read(key_path, NULL, &b.key))
        die("admin key");
    b.suite = b.key.suite;
    read_chain(&b);
    fprintf(stderr, "bench_load: pre-signing %zu notary.stamp transactions (%s)\n", b.ntx, cv_suite_name(b.suite));
    presign(&b);
    build_bodies(&b);
    fprintf(stderr, "bench_load: measuring this machine's verify rate\n");
    double verify1 = verify_rate(&b, 1), verify_all = verify_rate(&b, cv_cpu_count());
    fprintf(stderr, "bench_load: sending over %zu connections in batches of %zu (%s)\n", b.conns, b.batch,
            b.json ? "JSON-RPC tx_send_batch" : "POST /txs");
    pthread_t watcher, *senders = calloc(b.conns, sizeof *senders);
    b.t0 = mono_ms();
    pthread_create(&watcher, NULL, watcher_main, &b);
    for (size_t i = 0; i < b.conns; i++)
        pthread_create(&senders[i], NULL, sender_main, &b);
    while (!atomic_load(&b.done)) {
        struct timespec sec = {1, 0};
        nanosleep(&sec, NULL);
        fprintf(stderr, "  %.0f s: %zu batches sent, %zu committed\n", (mono_ms() - b.t0) / 1e3,
                (size_t)atomic_load(&b.next_batch), (size_t)atomic_load(&b.committed));
    }
    for (size_t i = 0; i < b.conns; i++)
        pthread_join(senders[i], NULL);
    pthread_join(watcher, NULL);
    report(&b, mono_ms() - b.t0, verify1, verify_all);
    for (size_t i = 0; i < b.ntx; i++)
        cv_buf_free(&b.raw[i]);
    for (size_t k = 0; k < b.nbatches; k++)
        cv_buf_free(&b.bodies[k]);
    free(b.bodies);
    free(b.raw);
    free(b.txs);
    free(b.by_hash);
    free(b.sent_ms);
    free(b.commit_ms);
    free(senders);
    cv_key_wipe(&b.key);
    cv_crypto_cleanup();
    return 0;
}
