/* bench/sm2v.c: SM2 verification rate of the fast verifier (crypto/sm2v.h)
 * beside OpenSSL 3.0's on the same signatures in the same run.
 *
 * Usage: bench_sm2v [rounds [seconds-per-measurement]]   (default 7, 0.5)
 *
 * Each round times, one after the other on one thread:
 *   sm2v            cv_sm2v_verify, keys cached (the node's steady state)
 *   sm2v cold key   cv_sm2v_pub_load + e + verify (a key the cache lacks)
 *   openssl         EVP_DigestVerify, EVP_PKEY built once per key, fresh
 *                   EVP_MD_CTX/EVP_PKEY_CTX with the ID per verification
 *   openssl+key     the same plus building the EVP_PKEY per verification
 *                   (what suite.c's OpenSSL path does)
 * and prints the medians over the rounds and the median of the per-round
 * ratios sm2v / openssl. Rates are per second of the thread's CPU time, so
 * other work on the machine does not skew them. A 2-thread run of
 * cv_sm2v_verify follows (shared cache under contention). The million-case
 * differential test against OpenSSL is `test_sm2v 1000000`. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "base/err.h"
#include "crypto/sm2v.h"
#include "crypto/sm2v_ref.h"

#define KEYS 32
#define SIGS 256
#define MSG_LEN 200
#define MAX_ROUNDS 31

typedef struct {
    EVP_PKEY *pkey;
    uint8_t pub[65];
} bench_key;

typedef struct {
    const bench_key *key;
    uint8_t msg[MSG_LEN];
    uint8_t sig[72];
    size_t sig_len;
} bench_sig;

static bench_key keys[KEYS];
static bench_sig sigs[SIGS];

/* This thread's CPU time: a per-core rate that other processes on this
 * shared machine do not distort by taking the CPU away. */
static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static EVP_MD *sm3;

static int setup(void)
{
    sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
    for (int i = 0; i < KEYS; i++) {
        size_t len = 65;
        keys[i].pkey = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
        if (!sm3 || !keys[i].pkey ||
            !EVP_PKEY_get_octet_string_param(keys[i].pkey, OSSL_PKEY_PARAM_PUB_KEY, keys[i].pub,
                                             65, &len) || len != 65)
            return 0;
    }
    for (int i = 0; i < SIGS; i++) {
        bench_sig *s = &sigs[i];
        s->key = &keys[i % KEYS];
        for (int j = 0; j < MSG_LEN; j++)
            s->msg[j] = (uint8_t)(i * 131 + j * 7);
        if (cv_sm2v_ref_sign(s->key->pkey, s->msg, MSG_LEN, s->sig, &s->sig_len) != CV_OK)
            return 0;
    }
    return 1;
}

/* ---- the measured operations: each verifies sigs[i], returns 1 if valid */

static int verify_sm2v(const bench_sig *s)
{
    return cv_sm2v_verify(s->key->pub, s->msg, MSG_LEN, s->sig, s->sig_len) == CV_OK;
}

/* e = SM3(Z || M), as cv_sm2v_verify computes it. */
static void digest_e(const cv_sm2v_pub *key, const bench_sig *s, uint8_t e[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, sm3, NULL);
    EVP_DigestUpdate(ctx, key->z, 32);
    EVP_DigestUpdate(ctx, s->msg, MSG_LEN);
    EVP_DigestFinal_ex(ctx, e, NULL);
    EVP_MD_CTX_free(ctx);
}

static int verify_sm2v_cold(const bench_sig *s)
{
    cv_sm2v_pub key;
    uint8_t e[32];
    if (cv_sm2v_pub_load(&key, s->key->pub) != CV_OK)
        return 0;
    digest_e(&key, s, e);
    return cv_sm2v_verify_digest(&key, e, s->sig, s->sig_len) == CV_OK;
}

static int verify_openssl(const bench_sig *s)
{
    return cv_sm2v_ref_verify_key(s->key->pkey, s->msg, MSG_LEN, s->sig, s->sig_len) == CV_OK;
}

static int verify_openssl_build_key(const bench_sig *s)
{
    return cv_sm2v_ref_verify(s->key->pub, s->msg, MSG_LEN, s->sig, s->sig_len) == CV_OK;
}

typedef int (*verify_fn)(const bench_sig *);

/* Verifications per CPU second over at least `seconds`; -1 if any fails. */
static double rate(verify_fn fn, double seconds, int offset)
{
    long done = 0;
    double start = cpu_now(), elapsed;
    do {
        for (int i = 0; i < 32; i++, done++)
            if (!fn(&sigs[(offset + done) % SIGS]))
                return -1;
        elapsed = cpu_now() - start;
    } while (elapsed < seconds);
    return (double)done / elapsed;
}

/* The 1-minute load average: other jobs on this shared machine. */
static double load_average(void)
{
    double load = -1;
    getloadavg(&load, 1);
    return load;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct {
    double seconds;
    int offset;
    double result;
} thread_job;

static void *thread_rate(void *arg)
{
    thread_job *job = arg;
    job->result = rate(verify_sm2v, job->seconds, job->offset);
    return NULL;
}

/* Total cv_sm2v_verify rate of two threads sharing the cache (the sum of
 * their per-CPU-second rates: contention on the cache lock shows up as
 * lower rates, a busy machine does not). */
static double two_thread_rate(double seconds)
{
    thread_job jobs[2] = {{seconds, 0, 0}, {seconds, SIGS / 2, 0}};
    pthread_t tid[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&tid[i], NULL, thread_rate, &jobs[i]) != 0)
            return -1;
    for (int i = 0; i < 2; i++)
        pthread_join(tid[i], NULL);
    return jobs[0].result < 0 || jobs[1].result < 0 ? -1 : jobs[0].result + jobs[1].result;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 7;
    double seconds = argc > 2 ? atof(argv[2]) : 0.5;
    if (rounds < 1 || rounds > MAX_ROUNDS)
        rounds = 7;
    if (!setup()) {
        fprintf(stderr, "bench_sm2v: OpenSSL setup failed\n");
        return 1;
    }
    static const struct {
        const char *name;
        verify_fn fn;
    } ops[] = {{"sm2v (cached key)", verify_sm2v},
               {"sm2v cold key", verify_sm2v_cold},
               {"openssl", verify_openssl},
               {"openssl+key", verify_openssl_build_key}};
    enum { NOPS = sizeof ops / sizeof ops[0] };
    double rates[NOPS][MAX_ROUNDS], ratios[MAX_ROUNDS], load_start = load_average();
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < NOPS; k++) {
            rates[k][r] = rate(ops[k].fn, seconds, r * 17);
            if (rates[k][r] < 0) {
                fprintf(stderr, "bench_sm2v: %s rejected a valid signature\n", ops[k].name);
                return 1;
            }
        }
        ratios[r] = rates[0][r] / rates[2][r];
        printf("round %d:", r + 1);
        for (int k = 0; k < NOPS; k++)
            printf(" %s %.0f/s;", ops[k].name, rates[k][r]);
        printf(" ratio %.2f\n", ratios[r]);
    }
    printf("medians over %d rounds, one thread, %d keys, %d-byte messages (load average %.2f "
           "at the start, %.2f at the end):\n",
           rounds, KEYS, MSG_LEN, load_start, load_average());
    for (int k = 0; k < NOPS; k++)
        printf("  %-20s %8.0f verify/s\n", ops[k].name, median(rates[k], rounds));
    printf("  ratio sm2v / openssl (median of per-round ratios): %.2fx\n",
           median(ratios, rounds));
    printf("  sm2v on 2 threads: %.0f verify/s total\n", two_thread_rate(seconds * 2));
    for (int i = 0; i < KEYS; i++)
        EVP_PKEY_free(keys[i].pkey);
    EVP_MD_free(sm3);
    return 0;
}
