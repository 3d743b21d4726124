/* crypto.c (bench_crypto): rates of the crypto suites, each beside the raw
 * library call timed in the same run, so the wrapper's overhead shows as a
 * ratio on these noisy machines.
 *
 * For both suites (std: Ed25519 + SHA-256, gm: SM2 + SM3) it measures, on
 * 200-byte messages:
 *   hash         cv_hash                vs EVP_Digest{Init_ex,Update,Final_ex}, reused context
 *   sign         cv_sign                vs crypto_sign_detached / EVP_DigestSign (fresh
 *                                          contexts, ID 1234567812345678 set, key built once)
 *   verify       cv_verify (64 keys)    vs crypto_sign_verify_detached / EVP_DigestVerify
 *                                          (fresh contexts, ID set, EVP_PKEY built once per key)
 *   verify-cold  cv_verify, 4096 keys each used once per pass (defeats per-key caches)
 *   batch-1/2    cv_verify_batch of 256 items on a cv_pool of 1 or 2 threads
 *                                       vs the raw verify in 1 thread / 2 pthreads
 * and, on 1 MiB (so ops/s is MiB/s), in place:
 *   seal         cv_aead_seal           vs crypto_aead_xchacha20poly1305_ietf_encrypt /
 *                                          OpenSSL's SM4-CTR alone, fresh context (gm: the
 *                                          cipher without GHASH, the bound for SM4-GCM)
 * Each figure is the median of ROUNDS rounds; in each round the civitas call
 * and the raw call run back to back for about SECONDS each, and the ratio
 * column is the median of the per-round ratios civitas/raw.
 *
 *   bench_crypto            5 rounds of 0.4 s per measurement (about a minute)
 *   bench_crypto --quick    3 rounds of 0.1 s (about 12 s)
 * Progress goes to stderr, the markdown table to stdout. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "base/pool.h"
#include "crypto/suite.h"

#define MSG_LEN 200
#define SEAL_LEN (1u << 20)
#define NKEYS 64
#define NITEMS 256
#define NCOLD 4096
#define MAX_ROUNDS 9
#define SM2_ID "1234567812345678"

static int rounds = 5;
static double seconds = 0.4;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_crypto: %s\n", what);
    exit(1);
}

/* ---- the data: keys, messages, signatures, raw library keys --------------- */

typedef struct {
    cv_suite suite;
    cv_keypair keys[NKEYS];
    uint8_t sodium_sk[NKEYS][crypto_sign_SECRETKEYBYTES];
    EVP_PKEY *pkeys[NKEYS]; /* gm: the key pair (sign) and public key (verify) for OpenSSL */
    EVP_PKEY *pubs[NKEYS];
    uint8_t msgs[NITEMS][MSG_LEN];
    cv_sig sigs[NITEMS];
    cv_verify_item items[NITEMS];
    /* cold: NCOLD keys, one signature each */
    cv_pubkey *cold_pubs;
    cv_sig *cold_sigs;
    const EVP_MD *md; /* SHA-256 or SM3 */
} bench_data;

static EVP_PKEY *sm2_pub_pkey(const cv_pubkey *pub)
{
    /* SubjectPublicKeyInfo of an SM2 point: fixed prefix || 04 || x || y */
    static const uint8_t prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                     0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x81, 0x1c,
                                     0xcf, 0x55, 0x01, 0x82, 0x2d, 0x03, 0x42, 0x00};
    uint8_t der[sizeof prefix + 65];
    memcpy(der, prefix, sizeof prefix);
    memcpy(der + sizeof prefix, pub->bytes, 65);
    const unsigned char *p = der;
    EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)sizeof der);
    if (!pk)
        die("cannot build an OpenSSL SM2 public key");
    return pk;
}

/* ---- raw library calls ---------------------------------------------------- */

/* Digests fetched once, as civitas does (an implicit fetch per call is slower). */
static EVP_MD *raw_sha256, *raw_sm3;
static EVP_CIPHER *raw_sm4_ctr;

static int raw_sm2_sign(EVP_PKEY *pkey, const uint8_t *msg, size_t len, uint8_t *sig, size_t *sig_len)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(pkey, NULL);
    int ok = mctx && pctx && EVP_PKEY_CTX_set1_id(pctx, SM2_ID, 16) > 0;
    if (ok) {
        EVP_MD_CTX_set_pkey_ctx(mctx, pctx);
        ok = EVP_DigestSignInit(mctx, NULL, raw_sm3, NULL, pkey) > 0 &&
             EVP_DigestSign(mctx, sig, sig_len, msg, len) > 0;
    }
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(pctx);
    return ok;
}

static int raw_sm2_verify(EVP_PKEY *pkey, const uint8_t *msg, size_t len, const cv_sig *sig)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new(pkey, NULL);
    int ok = mctx && pctx && EVP_PKEY_CTX_set1_id(pctx, SM2_ID, 16) > 0;
    if (ok) {
        EVP_MD_CTX_set_pkey_ctx(mctx, pctx);
        ok = EVP_DigestVerifyInit(mctx, NULL, raw_sm3, NULL, pkey) > 0 &&
             EVP_DigestVerify(mctx, sig->bytes, sig->len, msg, len) == 1;
    }
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(pctx);
    return ok;
}

/* Raw verification of item i (key i % NKEYS). */
static int raw_verify_item(const bench_data *d, size_t i)
{
    size_t k = i % NKEYS;
    if (d->suite == CV_SUITE_STD)
        return crypto_sign_verify_detached(d->sigs[i].bytes, d->msgs[i], MSG_LEN, d->keys[k].pub.bytes) == 0;
    return raw_sm2_verify(d->pubs[k], d->msgs[i], MSG_LEN, &d->sigs[i]);
}

static void setup(bench_data *d, cv_suite suite)
{
    memset(d, 0, sizeof *d);
    d->suite = suite;
    d->md = suite == CV_SUITE_STD ? raw_sha256 : raw_sm3;
    for (size_t k = 0; k < NKEYS; k++) {
        if (cv_key_generate(suite, &d->keys[k]))
            die("key generation failed");
        memcpy(d->sodium_sk[k], d->keys[k].secret, 32);
        memcpy(d->sodium_sk[k] + 32, d->keys[k].pub.bytes, 32);
        if (suite == CV_SUITE_GM) {
            d->pkeys[k] = d->keys[k].impl; /* the key pair civitas built, used read-only */
            d->pubs[k] = sm2_pub_pkey(&d->keys[k].pub);
        }
    }
    for (size_t i = 0; i < NITEMS; i++) {
        cv_random(d->msgs[i], MSG_LEN);
        if (cv_sign(&d->keys[i % NKEYS], d->msgs[i], MSG_LEN, &d->sigs[i]))
            die("signing failed");
        d->items[i] = (cv_verify_item){&d->keys[i % NKEYS].pub, d->msgs[i], MSG_LEN, &d->sigs[i]};
        if (cv_verify(&d->keys[i % NKEYS].pub, d->msgs[i], MSG_LEN, &d->sigs[i]) || !raw_verify_item(d, i))
            die("a benchmark signature does not verify");
    }
    d->cold_pubs = calloc(NCOLD, sizeof *d->cold_pubs);
    d->cold_sigs = calloc(NCOLD, sizeof *d->cold_sigs);
    if (!d->cold_pubs || !d->cold_sigs)
        die("out of memory");
    for (size_t i = 0; i < NCOLD; i++) {
        cv_keypair k;
        if (cv_key_generate(suite, &k) || cv_sign(&k, d->msgs[i % NITEMS], MSG_LEN, &d->cold_sigs[i]))
            die("cold key setup failed");
        d->cold_pubs[i] = k.pub;
        cv_key_wipe(&k);
    }
}

static void teardown(bench_data *d)
{
    for (size_t k = 0; k < NKEYS; k++) {
        EVP_PKEY_free(d->pubs[k]);
        cv_key_wipe(&d->keys[k]);
    }
    sodium_memzero(d->sodium_sk, sizeof d->sodium_sk);
    free(d->cold_pubs);
    free(d->cold_sigs);
}

/* ---- operations: each call does some operations and returns how many ------ */

typedef size_t (*op_fn)(bench_data *d, size_t iter);

static volatile uint8_t sink;
static EVP_MD_CTX *raw_md_ctx;
static cv_pool *pool1, *pool2;

static size_t op_hash(bench_data *d, size_t it)
{
    uint8_t out[CV_HASH_LEN];
    if (cv_hash(d->suite, d->msgs[it % NITEMS], MSG_LEN, out))
        die("cv_hash failed");
    sink ^= out[0];
    return 1;
}

static size_t op_hash_raw(bench_data *d, size_t it)
{
    uint8_t out[EVP_MAX_MD_SIZE];
    if (!EVP_DigestInit_ex(raw_md_ctx, d->md, NULL) ||
        !EVP_DigestUpdate(raw_md_ctx, d->msgs[it % NITEMS], MSG_LEN) ||
        !EVP_DigestFinal_ex(raw_md_ctx, out, NULL))
        die("EVP digest failed");
    sink ^= out[0];
    return 1;
}

static size_t op_sign(bench_data *d, size_t it)
{
    cv_sig sig;
    if (cv_sign(&d->keys[it % NKEYS], d->msgs[it % NITEMS], MSG_LEN, &sig))
        die("cv_sign failed");
    sink ^= sig.bytes[5];
    return 1;
}

static size_t op_sign_raw(bench_data *d, size_t it)
{
    uint8_t sig[CV_SIG_MAX];
    size_t k = it % NKEYS, len = sizeof sig;
    int ok = d->suite == CV_SUITE_STD
                 ? crypto_sign_detached(sig, NULL, d->msgs[it % NITEMS], MSG_LEN, d->sodium_sk[k]) == 0
                 : raw_sm2_sign(d->pkeys[k], d->msgs[it % NITEMS], MSG_LEN, sig, &len);
    if (!ok)
        die("raw signing failed");
    sink ^= sig[5];
    return 1;
}

static size_t op_verify(bench_data *d, size_t it)
{
    size_t i = it % NITEMS;
    if (cv_verify(d->items[i].pub, d->msgs[i], MSG_LEN, &d->sigs[i]))
        die("cv_verify failed");
    return 1;
}

static size_t op_verify_raw(bench_data *d, size_t it)
{
    if (!raw_verify_item(d, it % NITEMS))
        die("raw verify failed");
    return 1;
}

static size_t op_verify_cold(bench_data *d, size_t it)
{
    size_t i = it % NCOLD;
    if (cv_verify(&d->cold_pubs[i], d->msgs[i % NITEMS], MSG_LEN, &d->cold_sigs[i]))
        die("cv_verify (cold) failed");
    return 1;
}

/* Raw verify of a key seen for the first time: OpenSSL must build its EVP_PKEY. */
static size_t op_verify_cold_raw(bench_data *d, size_t it)
{
    size_t i = it % NCOLD;
    int ok;
    if (d->suite == CV_SUITE_STD) {
        ok = crypto_sign_verify_detached(d->cold_sigs[i].bytes, d->msgs[i % NITEMS], MSG_LEN,
                                         d->cold_pubs[i].bytes) == 0;
    } else {
        EVP_PKEY *pk = sm2_pub_pkey(&d->cold_pubs[i]);
        ok = raw_sm2_verify(pk, d->msgs[i % NITEMS], MSG_LEN, &d->cold_sigs[i]);
        EVP_PKEY_free(pk);
    }
    if (!ok)
        die("raw verify (cold) failed");
    return 1;
}

static size_t batch(cv_pool *pool, bench_data *d)
{
    uint8_t ok[NITEMS];
    if (cv_verify_batch(pool, d->items, NITEMS, ok))
        die("cv_verify_batch failed");
    return NITEMS;
}

static size_t op_batch1(bench_data *d, size_t it) { return batch(pool1, d); }
static size_t op_batch2(bench_data *d, size_t it) { return batch(pool2, d); }

/* 1 MiB sealed in place, again and again (the key and nonce do not matter here). */
static uint8_t *seal_buf;
static const uint8_t seal_key[CV_AEAD_KEY_MAX], seal_nonce[CV_AEAD_NONCE_MAX];

static size_t op_seal(bench_data *d, size_t it)
{
    if (cv_aead_seal(d->suite, seal_key, seal_nonce, NULL, 0, seal_buf, SEAL_LEN, seal_buf))
        die("cv_aead_seal failed");
    sink ^= seal_buf[SEAL_LEN];
    return 1;
}

static size_t op_seal_raw(bench_data *d, size_t it)
{
    if (d->suite == CV_SUITE_STD) {
        crypto_aead_xchacha20poly1305_ietf_encrypt(seal_buf, NULL, seal_buf, SEAL_LEN, NULL, 0, NULL,
                                                   seal_nonce, seal_key);
    } else {
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int outl = 0, ok = ctx && EVP_EncryptInit_ex(ctx, raw_sm4_ctr, NULL, seal_key, seal_nonce) &&
                           EVP_EncryptUpdate(ctx, seal_buf, &outl, seal_buf, SEAL_LEN);
        EVP_CIPHER_CTX_free(ctx);
        if (!ok)
            die("EVP SM4-CTR failed");
    }
    sink ^= seal_buf[0];
    return 1;
}

static size_t op_batch1_raw(bench_data *d, size_t it)
{
    for (size_t i = 0; i < NITEMS; i++)
        if (!raw_verify_item(d, i))
            die("raw verify failed");
    return NITEMS;
}

/* ---- timing ------------------------------------------------------------------ */

/* Runs op for about `seconds`, checking the clock every `chunk` calls (grown
 * until a chunk takes at least a millisecond); returns operations per second. */
static double rate(op_fn op, bench_data *d)
{
    size_t iter = 0, ops = 0, chunk = 1;
    double start = now(), t = start;
    while (t - start < seconds) {
        double c0 = t;
        for (size_t j = 0; j < chunk; j++)
            ops += op(d, iter++);
        t = now();
        if (t - c0 < 1e-3 && chunk < (1u << 20))
            chunk *= 2;
    }
    return (double)ops / (t - start);
}

/* Raw verify on 2 pthreads: each thread verifies its half of the items until
 * the shared deadline; no synchronisation per batch. */
typedef struct {
    bench_data *d;
    size_t first;
    double deadline;
    size_t ops;
} raw_thread;

static void *raw_thread_main(void *arg)
{
    raw_thread *rt = arg;
    size_t i = rt->first;
    while (now() < rt->deadline) {
        for (int j = 0; j < 16; j++) {
            if (!raw_verify_item(rt->d, i))
                die("raw verify failed");
            i = (i + 2) % NITEMS;
            rt->ops++;
        }
    }
    return NULL;
}

static double rate_raw_threads(bench_data *d, int nthreads)
{
    pthread_t th[2];
    raw_thread rt[2];
    double start = now();
    for (int t = 0; t < nthreads; t++) {
        rt[t] = (raw_thread){d, (size_t)t, start + seconds, 0};
        if (pthread_create(&th[t], NULL, raw_thread_main, &rt[t]) != 0)
            die("pthread_create failed");
    }
    size_t ops = 0;
    for (int t = 0; t < nthreads; t++) {
        pthread_join(th[t], NULL);
        ops += rt[t].ops;
    }
    return (double)ops / (now() - start);
}

/* ---- the table --------------------------------------------------------------- */

typedef struct {
    const char *name, *raw_name;
    op_fn op, raw; /* raw NULL: 2-thread raw verify */
} bench_row;

static const bench_row rows[] = {
    {"hash 200 B", "EVP digest, reused ctx", op_hash, op_hash_raw},
    {"sign 200 B", NULL, op_sign, op_sign_raw},
    {"verify 200 B (64 keys)", NULL, op_verify, op_verify_raw},
    {"verify, 4096 keys once each", NULL, op_verify_cold, op_verify_cold_raw},
    {"batch verify, pool of 1", NULL, op_batch1, op_batch1_raw},
    {"batch verify, pool of 2", NULL, op_batch2, NULL},
    {"seal 1 MiB in place", NULL, op_seal, op_seal_raw},
};
#define NROWS (sizeof rows / sizeof rows[0])

static const char *raw_name(cv_suite suite, size_t row)
{
    if (rows[row].raw_name)
        return suite == CV_SUITE_STD ? "EVP SHA-256, reused ctx" : "EVP SM3, reused ctx";
    static const char *std_names[] = {NULL, "libsodium crypto_sign_detached",
                                      "libsodium crypto_sign_verify_detached",
                                      "libsodium verify", "libsodium verify, 1 thread",
                                      "libsodium verify, 2 pthreads",
                                      "libsodium xchacha20poly1305_ietf_encrypt"};
    static const char *gm_names[] = {NULL, "EVP_DigestSign, fresh ctx + ID",
                                     "EVP_DigestVerify, fresh ctx + ID",
                                     "d2i_PUBKEY + EVP_DigestVerify",
                                     "EVP_DigestVerify, 1 thread",
                                     "EVP_DigestVerify, 2 pthreads",
                                     "EVP SM4-CTR alone (no GHASH)"};
    return suite == CV_SUITE_STD ? std_names[row] : gm_names[row];
}

/* The 1-minute load average, to show how busy the machine was (-1 if unknown). */
static double loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    double tmp[MAX_ROUNDS];
    memcpy(tmp, v, (size_t)n * sizeof *v);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_double);
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

static void fmt_rate(double r, char *out, size_t cap)
{
    if (r >= 1e6)
        snprintf(out, cap, "%.2fM", r / 1e6);
    else if (r >= 1e4)
        snprintf(out, cap, "%.1fk", r / 1e3);
    else if (r >= 1e3)
        snprintf(out, cap, "%.2fk", r / 1e3);
    else
        snprintf(out, cap, "%.0f", r);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            rounds = 3;
            seconds = 0.1;
        } else {
            fprintf(stderr, "usage: bench_crypto [--quick]\n");
            return 2;
        }
    }
    if (cv_crypto_init() || cv_pool_create(1, &pool1) || cv_pool_create(2, &pool2))
        die("initialisation failed");
    raw_md_ctx = EVP_MD_CTX_new();
    raw_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    raw_sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
    raw_sm4_ctr = EVP_CIPHER_fetch(NULL, "SM4-CTR", NULL);
    seal_buf = calloc(1, SEAL_LEN + CV_AEAD_TAG_LEN);
    if (!raw_sha256 || !raw_sm3 || !raw_sm4_ctr)
        die("OpenSSL lacks SHA-256, SM3 or SM4-CTR");
    static const cv_suite suites[2] = {CV_SUITE_STD, CV_SUITE_GM};
    double civ[2][NROWS][MAX_ROUNDS], raw[2][NROWS][MAX_ROUNDS], ratio[2][NROWS][MAX_ROUNDS];
    double load_start = loadavg();
    bench_data *d = malloc(sizeof *d);
    if (!d || !raw_md_ctx || !seal_buf)
        die("out of memory");
    for (int s = 0; s < 2; s++) {
        fprintf(stderr, "%s: generating %d + %d keys and %d signatures...\n", cv_suite_name(suites[s]),
                NKEYS, NCOLD, NITEMS + NCOLD);
        setup(d, suites[s]);
        for (int r = 0; r < rounds; r++) {
            for (size_t row = 0; row < NROWS; row++) {
                /* alternate which goes first, so drift does not favour one side */
                double c, w;
                if ((r + (int)row) % 2 == 0) {
                    c = rate(rows[row].op, d);
                    w = rows[row].raw ? rate(rows[row].raw, d) : rate_raw_threads(d, 2);
                } else {
                    w = rows[row].raw ? rate(rows[row].raw, d) : rate_raw_threads(d, 2);
                    c = rate(rows[row].op, d);
                }
                civ[s][row][r] = c;
                raw[s][row][r] = w;
                ratio[s][row][r] = c / w;
                fprintf(stderr, "  round %d/%d  %-4s %-28s civitas %10.0f/s  raw %10.0f/s  ratio %.2f\n",
                        r + 1, rounds, cv_suite_name(suites[s]), rows[row].name, c, w, c / w);
            }
        }
        teardown(d);
    }
    printf("| suite | operation | civitas ops/s | raw ops/s | civitas / raw | raw call |\n");
    printf("| --- | --- | ---: | ---: | ---: | --- |\n");
    for (int s = 0; s < 2; s++)
        for (size_t row = 0; row < NROWS; row++) {
            char a[32], b[32];
            fmt_rate(median(civ[s][row], rounds), a, sizeof a);
            fmt_rate(median(raw[s][row], rounds), b, sizeof b);
            printf("| %s | %s | %s | %s | %.2f | %s |\n", s == 0 ? "std" : "gm", rows[row].name, a, b,
                   median(ratio[s][row], rounds), raw_name(suites[s], row));
        }
    printf("\n%d rounds of %.1f s per measurement; medians (the ratio is the median of per-round ratios);\n"
           "%u CPUs online, load average %.2f at the start and %.2f at the end.\n",
           rounds, seconds, cv_cpu_count(), load_start, loadavg());
    free(d);
    EVP_MD_CTX_free(raw_md_ctx);
    cv_pool_destroy(pool1);
    cv_pool_destroy(pool2);
    cv_crypto_cleanup();
    EVP_MD_free(raw_sha256);
    EVP_MD_free(raw_sm3);
    EVP_CIPHER_free(raw_sm4_ctr);
    free(seal_buf);
    return 0;
}
