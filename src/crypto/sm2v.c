/* sm2v.c: fast SM2 verification (see sm2v.h): strict DER, scalar checks
 * modulo n, the Z value and e = SM3(Z || M), and the shared public-key cache.
 *
 * The accept/reject rule is OpenSSL 3.0's ossl_sm2_internal_verify:
 *  - the signature must be exactly the canonical DER re-encoding of (r, s)
 *    (OpenSSL decodes, re-encodes and compares); since r, s < n < 2^256,
 *    every acceptable encoding is 30 L 02 lr r 02 ls s with short lengths;
 *  - 1 <= r, s <= n - 1 and t = (r + s) mod n != 0;
 *  - (x1, y1) = s*G + t*P must be finite, and (e + x1) mod n == r.
 * The last test is done without an inversion: with v = (r - e) mod n it
 * asks whether x1 is v or v + n (x1 < p, and p > n), i.e. whether
 * X == v * Z^2 or, when v + n < p, X == (v + n) * Z^2. */
#include "crypto/sm2v.h"

#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "base/err.h"

#define SM2_DEFAULT_ID "1234567812345678"
#define SIG_DER_MAX 72 /* 30 46 02 21 00 r 02 21 00 s */
#define CACHE_SETS 512
#define CACHE_WAYS 4   /* 2048 keys of about 4 KiB each */

static const uint64_t order_n[4] = {0x53bbf40939d54123u, 0x7203df6b21c6052bu,
                                    0xffffffffffffffffu, 0xfffffffeffffffffu};
static const uint64_t prime_p[4] = {0xffffffffffffffffu, 0xffffffff00000000u,
                                    0xffffffffffffffffu, 0xfffffffeffffffffu};

/* ---- module state: SM3, per-thread digest contexts, the key cache ------ */

typedef struct {
    uint8_t key[CV_SM2V_PUB_LEN];
    uint8_t used;
    uint64_t last_use;
    cv_sm2v_pub pub;
} cache_slot;

static pthread_once_t module_once = PTHREAD_ONCE_INIT;
static int module_status = CV_ECRYPTO;
static EVP_MD *sm3_md;
static pthread_key_t sm3_ctx_key;
static uint8_t cache_hash_key[crypto_shorthash_KEYBYTES];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t cache_clock;
static cache_slot cache[CACHE_SETS][CACHE_WAYS];

static void free_thread_ctx(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void module_init(void)
{
    if (sodium_init() < 0)
        return;
    randombytes_buf(cache_hash_key, sizeof cache_hash_key);
    sm3_md = EVP_MD_fetch(NULL, "SM3", NULL);
    if (sm3_md && pthread_key_create(&sm3_ctx_key, free_thread_ctx) == 0)
        module_status = CV_OK;
}

static int module_ready(void)
{
    pthread_once(&module_once, module_init);
    return module_status == CV_OK ? CV_OK
                                  : cv_fail(CV_ECRYPTO, "SM2 verifier: SM3 is not available");
}

/* This thread's reused SM3 context (freed when the thread exits). */
static EVP_MD_CTX *thread_sm3_ctx(void)
{
    EVP_MD_CTX *ctx = pthread_getspecific(sm3_ctx_key);
    if (ctx)
        return ctx;
    ctx = EVP_MD_CTX_new();
    if (ctx && pthread_setspecific(sm3_ctx_key, ctx) != 0) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* out = SM3(a || b); the context is re-initialised for every digest. */
static int sm3_two_parts(uint8_t out[32], const void *a, size_t a_len, const void *b, size_t b_len)
{
    EVP_MD_CTX *ctx = thread_sm3_ctx();
    unsigned int out_len = 0;
    if (!ctx || !EVP_DigestInit_ex(ctx, sm3_md, NULL) || !EVP_DigestUpdate(ctx, a, a_len) ||
        !EVP_DigestUpdate(ctx, b, b_len) || !EVP_DigestFinal_ex(ctx, out, &out_len) ||
        out_len != 32)
        return cv_fail(CV_ECRYPTO, "SM2 verifier: SM3 digest failed");
    return CV_OK;
}

/* ---- public keys ------------------------------------------------------- */

/* Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA) for the default ID. */
static int compute_z(uint8_t z[32], const uint8_t xy[64])
{
    uint8_t head[2 + 16 + 128];
    head[0] = 0;
    head[1] = 16 * 8; /* ENTL: the ID's length in bits */
    memcpy(head + 2, SM2_DEFAULT_ID, 16);
    memcpy(head + 18, cv_sm2v_curve_abg, 128);
    return sm3_two_parts(z, head, sizeof head, xy, 64);
}

int cv_sm2v_pub_load(cv_sm2v_pub *out, const uint8_t pub[CV_SM2V_PUB_LEN])
{
    int rc = module_ready();
    if (rc)
        return rc;
    if (pub[0] != 0x04)
        return cv_fail(CV_EINVAL, "SM2 public key must start with 04 (uncompressed), not %02x",
                       pub[0]);
    cv_sm2v_affine point;
    if (!cv_sm2v_point_decode(&point, pub + 1))
        return cv_fail(CV_EINVAL, "SM2 public key is not a point on the curve");
    if ((rc = compute_z(out->z, pub + 1)))
        return rc;
    cv_sm2v_pub_table_build(&out->table, &point);
    return CV_OK;
}

/* ---- signature decoding and scalars ------------------------------------ */

/* One DER INTEGER at der[*pos]: 02 len bytes, short length, non-negative,
 * minimal, below 2^256. Writes it as limbs and advances *pos. */
static int der_integer(const uint8_t *der, size_t der_len, size_t *pos, uint64_t out[4])
{
    size_t at = *pos;
    if (der_len - at < 2 || der[at] != 0x02)
        return 0;
    size_t n = der[at + 1];
    const uint8_t *v = der + at + 2;
    if (n == 0 || n > der_len - at - 2)
        return 0; /* empty, overrunning, or a long-form length (der_len <= 72) */
    if (v[0] & 0x80)
        return 0; /* negative */
    if (n > 1 && v[0] == 0 && !(v[1] & 0x80))
        return 0; /* needless leading zero */
    if (n > 33 || (n == 33 && v[0] != 0))
        return 0; /* 2^256 or more: certainly not below n */
    uint8_t be[32] = {0};
    size_t skip = n == 33 ? 1 : 0;
    memcpy(be + 32 - (n - skip), v + skip, n - skip);
    cv_sm2v_u256_from_bytes(out, be);
    *pos = at + 2 + n;
    return 1;
}

/* SEQUENCE { r INTEGER, s INTEGER } filling exactly der_len bytes. */
static int der_signature(const uint8_t *der, size_t der_len, uint64_t r[4], uint64_t s[4])
{
    size_t pos = 2;
    if (der_len < 2 || der_len > SIG_DER_MAX || der[0] != 0x30 || der[1] != der_len - 2)
        return 0;
    return der_integer(der, der_len, &pos, r) && der_integer(der, der_len, &pos, s) &&
           pos == der_len;
}

static unsigned char u256_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    unsigned char carry = 0;
    for (int i = 0; i < 4; i++)
        r[i] = sm2_adc(a[i], b[i], &carry);
    return carry;
}

static unsigned char u256_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    unsigned char borrow = 0;
    for (int i = 0; i < 4; i++)
        r[i] = sm2_sbb(a[i], b[i], &borrow);
    return borrow;
}

static int u256_is_zero(const uint64_t a[4])
{
    return (a[0] | a[1] | a[2] | a[3]) == 0;
}

static int scalar_in_range(const uint64_t k[4])
{
    return !u256_is_zero(k) && cv_sm2v_u256_lt(k, order_n);
}

/* r = (a + b) mod n for a, b < 2^256 with a + b < 2n. */
static void mod_n_add(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    if (u256_add(r, a, b) || !cv_sm2v_u256_lt(r, order_n))
        u256_sub(r, r, order_n);
}

/* r = (a - b) mod n for a, b < n. */
static void mod_n_sub(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    if (u256_sub(r, a, b))
        u256_add(r, r, order_n);
}

/* Whether the affine x of q is congruent to v (< n) modulo n. */
static int x_matches_mod_n(const cv_sm2v_jac *q, const uint64_t v[4])
{
    if (cv_sm2v_jac_x_equals(q, v))
        return 1;
    uint64_t w[4];
    return !u256_add(w, v, order_n) && cv_sm2v_u256_lt(w, prime_p) && cv_sm2v_jac_x_equals(q, w);
}

int cv_sm2v_verify_digest(const cv_sm2v_pub *pub, const uint8_t e[32], const uint8_t *der,
                          size_t der_len)
{
    uint64_t r[4], s[4], t[4], e_mod_n[4], v[4];
    static const uint64_t zero[4] = {0, 0, 0, 0};
    if (!der_signature(der, der_len, r, s))
        return cv_fail(CV_EBADSIG, "SM2 signature is not canonical DER (r, s)");
    if (!scalar_in_range(r) || !scalar_in_range(s))
        return cv_fail(CV_EBADSIG, "SM2 signature r or s is outside [1, n-1]");
    mod_n_add(t, r, s);
    if (u256_is_zero(t))
        return cv_fail(CV_EBADSIG, "SM2 signature has r + s = n");
    cv_sm2v_jac q;
    if (!cv_sm2v_mul_base_pub(&q, s, &pub->table, t))
        return cv_fail(CV_EBADSIG, "SM2 signature gives the point at infinity");
    cv_sm2v_u256_from_bytes(e_mod_n, e);
    mod_n_add(e_mod_n, e_mod_n, zero); /* e may be n or more */
    mod_n_sub(v, r, e_mod_n);
    if (!x_matches_mod_n(&q, v))
        return cv_fail(CV_EBADSIG, "SM2 signature does not verify");
    return CV_OK;
}

/* ---- the key cache ----------------------------------------------------- */

static cache_slot *cache_set(const uint8_t pub[CV_SM2V_PUB_LEN])
{
    uint64_t h = 0;
    crypto_shorthash((unsigned char *)&h, pub, CV_SM2V_PUB_LEN, cache_hash_key);
    return cache[h % CACHE_SETS];
}

/* Copies a cached key into out; returns 1 on a hit. */
static int cache_lookup(cv_sm2v_pub *out, const uint8_t pub[CV_SM2V_PUB_LEN])
{
    cache_slot *set = cache_set(pub);
    int hit = 0;
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < CACHE_WAYS && !hit; i++) {
        if (set[i].used && memcmp(set[i].key, pub, CV_SM2V_PUB_LEN) == 0) {
            set[i].last_use = ++cache_clock;
            *out = set[i].pub;
            hit = 1;
        }
    }
    pthread_mutex_unlock(&cache_mu);
    return hit;
}

/* Stores a loaded key, replacing the least recently used one of its set. */
static void cache_insert(const cv_sm2v_pub *key, const uint8_t pub[CV_SM2V_PUB_LEN])
{
    cache_slot *set = cache_set(pub);
    pthread_mutex_lock(&cache_mu);
    cache_slot *victim = &set[0];
    for (int i = 0; i < CACHE_WAYS; i++) {
        if (set[i].used && memcmp(set[i].key, pub, CV_SM2V_PUB_LEN) == 0) {
            victim = NULL; /* another thread stored it meanwhile */
            break;
        }
        if (!set[i].used || (victim->used && set[i].last_use < victim->last_use))
            victim = &set[i];
    }
    if (victim) {
        memcpy(victim->key, pub, CV_SM2V_PUB_LEN);
        victim->pub = *key;
        victim->used = 1;
        victim->last_use = ++cache_clock;
    }
    pthread_mutex_unlock(&cache_mu);
}

static int cached_pub(cv_sm2v_pub *out, const uint8_t pub[CV_SM2V_PUB_LEN])
{
    if (cache_lookup(out, pub))
        return CV_OK;
    int rc = cv_sm2v_pub_load(out, pub);
    if (rc == CV_OK)
        cache_insert(out, pub);
    return rc;
}

int cv_sm2v_verify(const uint8_t pub[CV_SM2V_PUB_LEN], const void *msg, size_t len,
                   const uint8_t *der, size_t der_len)
{
    int rc = module_ready();
    if (rc)
        return rc;
    cv_sm2v_pub key;
    if ((rc = cached_pub(&key, pub)))
        return rc == CV_EINVAL ? CV_EBADSIG : rc;
    uint8_t e[32];
    if ((rc = sm3_two_parts(e, key.z, sizeof key.z, msg, len)))
        return rc;
    return cv_sm2v_verify_digest(&key, e, der, der_len);
}
