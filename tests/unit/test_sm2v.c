/* test_sm2v.c: the fast SM2 verifier (crypto/sm2v.h) against fixed vectors
 * and, differentially, against OpenSSL 3.0 on random and crafted cases.
 *
 * Usage: test_sm2v [comparisons [seed [threads]]]
 *   default 4000 comparisons, seed 20261121, 2 threads (CI); the benchmark
 *   build runs `test_sm2v 1000000` once. With CV_TEST_QUICK set (valgrind)
 *   the default is 300 comparisons, one round of exhaustive flips and at
 *   least 40 random groups. Every comparison asks both implementations the
 *   same question and fails on any different answer; a mismatch prints the
 *   seed, group and inputs so it can be replayed.
 *
 * OpenSSL is the oracle (crypto/sm2v_ref.c: plain EVP calls, a fresh
 * EVP_MD_CTX and EVP_PKEY_CTX with ID "1234567812345678" for every message
 * verification, EVP_PKEY_verify on the SM3 digest e for digest-level
 * cases). Digest-level cases reach e >= n, x1 >= n, r + s = n and
 * s*G + t*P at infinity by construction: pick the point first, then the
 * key. One deliberate difference: a public key must be 04 || x || y, so a
 * key with another first byte counts as rejected by the oracle although
 * OpenSSL alone takes the hybrid forms 06/07. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "check.h"
#include "crypto/sm2v.h"
#include "crypto/sm2v_ref.h"

#define DEFAULT_COMPARISONS 4000
#define QUICK_COMPARISONS 300
#define DEFAULT_SEED 20261121u
#define DEFAULT_THREADS 2
#define POOL_KEYS 24
#define SPECIAL_POINTS 8
#define SIG_BUF 96
#define MSG_MAX 300

/* ---- deterministic randomness (splitmix64) ----------------------------- */

typedef struct {
    uint64_t state;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static rng rng_for(uint64_t seed, uint64_t stream)
{
    rng r = {seed * 0x2545f4914f6cdd1du ^ stream};
    rng_next(&r);
    return r;
}

static unsigned rng_below(rng *r, unsigned n)
{
    return (unsigned)(rng_next(r) % n);
}

static void rng_bytes(rng *r, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)rng_next(r);
}

/* ---- small helpers ----------------------------------------------------- */

static void unhex(const char *hex, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++)
        sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

static void print_hex(const char *label, const uint8_t *p, size_t len)
{
    fprintf(stderr, "  %s ", label);
    for (size_t i = 0; i < len; i++)
        fprintf(stderr, "%02x", p[i]);
    fprintf(stderr, "\n");
}

typedef struct {
    uint8_t b[SIG_BUF];
    size_t len;
} der_sig;

/* ---- the OpenSSL side (crypto/sm2v_ref.c) ------------------------------ */

static EC_GROUP *group;
static const BIGNUM *order;
static BIGNUM *prime;

static int ossl_verify_msg(const uint8_t pub[65], const uint8_t *msg, size_t len,
                           const der_sig *sig)
{
    return cv_sm2v_ref_verify(pub, msg, len, sig->b, sig->len) == CV_OK;
}

static int ossl_verify_digest(const uint8_t pub[65], const uint8_t e[32], const der_sig *sig)
{
    return cv_sm2v_ref_verify_digest(pub, e, sig->b, sig->len) == CV_OK;
}

/* ---- the verifier under test ------------------------------------------- */

static int ours_verify_msg(const uint8_t pub[65], const uint8_t *msg, size_t len,
                           const der_sig *sig)
{
    return cv_sm2v_verify(pub, msg, len, sig->b, sig->len) == CV_OK;
}

static int ours_verify_digest(const uint8_t pub[65], const uint8_t e[32], const der_sig *sig)
{
    cv_sm2v_pub key;
    return cv_sm2v_pub_load(&key, pub) == CV_OK &&
           cv_sm2v_verify_digest(&key, e, sig->b, sig->len) == CV_OK;
}

/* ---- elliptic-curve helpers for building cases (OpenSSL BN/EC) --------- */

typedef struct {
    BN_CTX *bn;
    rng r;
    uint64_t group_no;
} worker;

static int point_bytes(const EC_POINT *pt, uint8_t out[65], BN_CTX *bn)
{
    return EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, out, 65, bn) == 65;
}

/* A scalar in [1, n-1] drawn from shapes that stress the multiplication:
 * uniform, small, one or two high chunks zero, n minus small, or limbs of
 * 0 / 1 / all-ones. */
static void structured_scalar(worker *w, BIGNUM *out)
{
    uint8_t be[32];
    switch (rng_below(&w->r, 6)) {
    case 0:
        BN_set_word(out, 1 + rng_below(&w->r, 65535));
        break;
    case 1:
        rng_bytes(&w->r, be, 32);
        memset(be, 0, 8 + 8 * rng_below(&w->r, 3));
        BN_bin2bn(be, 32, out);
        break;
    case 2:
        BN_copy(out, order);
        BN_sub_word(out, 1 + rng_below(&w->r, 65535));
        break;
    case 3:
        for (int i = 0; i < 4; i++) {
            static const uint64_t limbs[3] = {0, 1, UINT64_MAX};
            uint64_t v = limbs[rng_below(&w->r, 3)];
            for (int j = 0; j < 8; j++)
                be[8 * i + j] = (uint8_t)(v >> (56 - 8 * j));
        }
        BN_bin2bn(be, 32, out);
        break;
    default:
        BN_rand_range(out, order);
    }
    if (BN_is_zero(out) || BN_cmp(out, order) >= 0)
        BN_set_word(out, 2);
}

/* (r, s) as OpenSSL's canonical DER; any non-negative values. */
static void encode_sig(const BIGNUM *r, const BIGNUM *s, der_sig *out)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *rc = BN_dup(r), *sc = BN_dup(s);
    unsigned char *der = NULL;
    ECDSA_SIG_set0(sig, rc, sc);
    int len = i2d_ECDSA_SIG(sig, &der);
    out->len = len > 0 && (size_t)len <= sizeof out->b ? (size_t)len : 0;
    memcpy(out->b, der, out->len);
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
}

/* (r, s) of a signature OpenSSL made. */
static void decode_sig(const der_sig *sig, BIGNUM *r, BIGNUM *s)
{
    const unsigned char *p = sig->b;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)sig->len);
    if (es) {
        BN_copy(r, ECDSA_SIG_get0_r(es));
        BN_copy(s, ECDSA_SIG_get0_s(es));
    }
    ECDSA_SIG_free(es);
}

/* ---- comparisons ------------------------------------------------------- */

static atomic_long compared, accepted, failures;
static uint64_t run_seed;

static void tally(int theirs)
{
    atomic_fetch_add(&compared, 1);
    if (theirs)
        atomic_fetch_add(&accepted, 1);
}

/* Prints a mismatch in one piece (the other thread may be reporting too). */
static void report(const worker *w, const char *what, int ours, const uint8_t pub[65],
                   const char *label, const uint8_t *data, size_t len, const der_sig *sig)
{
    atomic_fetch_add(&failures, 1);
    flockfile(stderr);
    fprintf(stderr, "MISMATCH seed %llu group %llu (%s): ours %s, OpenSSL %s\n",
            (unsigned long long)run_seed, (unsigned long long)w->group_no, what,
            ours ? "accepts" : "rejects", ours ? "rejects" : "accepts");
    print_hex("pub", pub, 65);
    print_hex(label, data, len);
    print_hex("sig", sig->b, sig->len);
    funlockfile(stderr);
}

/* Returns OpenSSL's answer. */
static int compare_msg(const worker *w, const char *what, const uint8_t pub[65],
                       const uint8_t *msg, size_t len, const der_sig *sig)
{
    int ours = ours_verify_msg(pub, msg, len, sig);
    int theirs = ossl_verify_msg(pub, msg, len, sig);
    tally(theirs);
    if (ours != theirs)
        report(w, what, ours, pub, "msg", msg, len, sig);
    return theirs;
}

static void compare_digest(const worker *w, const char *what, const uint8_t pub[65],
                           const uint8_t e[32], const der_sig *sig)
{
    int ours = ours_verify_digest(pub, e, sig);
    int theirs = ossl_verify_digest(pub, e, sig);
    tally(theirs);
    if (ours != theirs)
        report(w, what, ours, pub, "e", e, 32, sig);
}

/* ---- keys -------------------------------------------------------------- */

typedef struct {
    EVP_PKEY *pkey;
    uint8_t pub[65];
} test_key;

static test_key pool[POOL_KEYS];
static uint8_t high_x_points[SPECIAL_POINTS][65]; /* x >= n */
static uint8_t low_x_points[SPECIAL_POINTS][65];  /* x < 2^256 - p */

/* A key pair for the private scalar d (1 <= d <= n-2). */
static int make_key(const BIGNUM *d, test_key *out, BN_CTX *bn)
{
    EC_POINT *pt = EC_POINT_new(group);
    uint8_t d_bytes[32];
    int ok = pt && EC_POINT_mul(group, pt, d, NULL, NULL, bn) && point_bytes(pt, out->pub, bn) &&
             BN_bn2binpad(d, d_bytes, 32) == 32 &&
             cv_sm2v_ref_key(out->pub, d_bytes, &out->pkey) == CV_OK;
    EC_POINT_free(pt);
    return ok;
}

static int make_random_key(worker *w, test_key *out)
{
    BIGNUM *d = BN_new(), *limit = BN_dup(order);
    BN_sub_word(limit, 2);
    BN_rand_range(d, limit);
    BN_add_word(d, 1);
    int ok = make_key(d, out, w->bn);
    BN_free(d);
    BN_free(limit);
    return ok;
}

/* Pool: d = 1, 2, 3, n-2, 2^64, 2^128 + 1, then random keys. */
static int make_pool(worker *w)
{
    BIGNUM *d = BN_new();
    int ok = 1;
    for (int i = 0; i < POOL_KEYS && ok; i++) {
        switch (i) {
        case 0: case 1: case 2: BN_set_word(d, (BN_ULONG)i + 1); break;
        case 3: BN_copy(d, order); BN_sub_word(d, 2); break;
        case 4: BN_set_word(d, 1); BN_lshift(d, d, 64); break;
        case 5: BN_set_word(d, 1); BN_lshift(d, d, 128); BN_add_word(d, 1); break;
        default: ok = make_random_key(w, &pool[i]); continue;
        }
        ok = make_key(d, &pool[i], w->bn);
    }
    BN_free(d);
    return ok;
}

/* The first points with x = start, start + 1, ... (either y). */
static int find_points(worker *w, const BIGNUM *start, uint8_t out[][65], int count)
{
    BIGNUM *x = BN_dup(start);
    EC_POINT *pt = EC_POINT_new(group);
    int found = 0;
    for (int tries = 0; tries < 200 && found < count; tries++, BN_add_word(x, 1))
        if (EC_POINT_set_compressed_coordinates(group, pt, x, tries & 1, w->bn) &&
            point_bytes(pt, out[found], w->bn))
            found++;
    ERR_clear_error();
    EC_POINT_free(pt);
    BN_free(x);
    return found == count;
}

/* Points with x >= n (x1 = x mod n needs care) and with tiny x (x + p
 * still fits 32 bytes: a non-canonical encoding of a valid point). */
static int make_special_points(worker *w)
{
    BIGNUM *zero = BN_new();
    int ok = zero && find_points(w, order, high_x_points, SPECIAL_POINTS) &&
             find_points(w, zero, low_x_points, SPECIAL_POINTS);
    BN_free(zero);
    return ok;
}

static void pool_free(void)
{
    for (int i = 0; i < POOL_KEYS; i++)
        EVP_PKEY_free(pool[i].pkey);
}

/* ---- fixed vectors and API checks -------------------------------------- */

/* GB/T 32918.5-2017 (GM/T 0003.5) annex A: the SM2 signature example on
 * the recommended curve, message "message digest", ID 1234567812345678. */
static void test_gbt32918_example(void)
{
    uint8_t pub[65], r[32], s[32], e[32];
    pub[0] = 0x04;
    unhex("09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020", pub + 1, 32);
    unhex("CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13", pub + 33, 32);
    unhex("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3", r, 32);
    unhex("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA", s, 32);
    unhex("F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640", e, 32);
    BIGNUM *rb = BN_bin2bn(r, 32, NULL), *sb = BN_bin2bn(s, 32, NULL);
    der_sig sig;
    encode_sig(rb, sb, &sig);
    CHECK_OK(cv_sm2v_verify(pub, "message digest", 14, sig.b, sig.len));
    CHECK_ERR(cv_sm2v_verify(pub, "message digesT", 14, sig.b, sig.len), CV_EBADSIG);
    CHECK_MSG("does not verify");
    cv_sm2v_pub key;
    CHECK_OK(cv_sm2v_pub_load(&key, pub));
    CHECK_OK(cv_sm2v_verify_digest(&key, e, sig.b, sig.len));
    e[31] ^= 1;
    CHECK_ERR(cv_sm2v_verify_digest(&key, e, sig.b, sig.len), CV_EBADSIG);
    BN_free(rb);
    BN_free(sb);
}

/* Signatures made by the independent sm-crypto 0.5.8 (npm), DER, hash: true. */
static void test_sm_crypto_vectors(void)
{
    static const char *vectors[][3] = {
        {"046668c31a71243779ed4b882407e4330f02fa035987f9a2197a5119d2fb562d8ae772f623c59e16fe06bc"
         "1baa9c592bdac1759079985c82de23006e7f273500ab",
         "civitas sm-crypto vector 0",
         "304502205eb01f1c82f71a412b10f13aa48acacd53964125f4ff4144abb41128530b2484022100e4212ef2"
         "8e20cbd20e1010843eaa5226e72121e238eee64a1c0fa7a6bc1e3a4e"},
        {"04fc251437e9745f0455c65b8991a9d46a25d77a563a86d74ca766e05f76cb8c110df5315f4726f06b67bb"
         "85b912b6bd897ba328b418b7510378d97eb1f2abfaad",
         "civitas sm-crypto vector 1",
         "3045022059d0c580ab9aecc99fb13ee834789a51598fe193ef2d68aeeb5b811a6a82fb6b022100d569de38"
         "4b71a80bd565d7482546f03232779dd527d5c0282f82555c7ff6760c"},
        {"04c7788195ef9c5b08f956e35f72dec0dcc31d28105554b2fa05434809c8870f0cfa436804a1b368f2a1d3"
         "7df89a6bc1ffcb169b8edeb9106ba4d2aa8f615e33dc",
         "civitas sm-crypto vector 2",
         "3046022100d033f8841e4cf9bf13f76e7c437b9c634c8f23c1afaf8fcdac81573e7e242ced022100d876d7"
         "e3eedb87f6932eb51579ee22d7c3dd7fee52aebd8021f5a220e28ef3cc"},
    };
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        uint8_t pub[65], sig[72];
        size_t sig_len = strlen(vectors[i][2]) / 2;
        unhex(vectors[i][0], pub, 65);
        unhex(vectors[i][2], sig, sig_len);
        CHECK_OK(cv_sm2v_verify(pub, vectors[i][1], strlen(vectors[i][1]), sig, sig_len));
        CHECK_ERR(cv_sm2v_verify(pub, vectors[i][1], strlen(vectors[i][1]) - 1, sig, sig_len),
                  CV_EBADSIG);
    }
}

static void test_pub_load_errors(void)
{
    cv_sm2v_pub key;
    uint8_t pub[65];
    memcpy(pub, pool[6].pub, 65);
    CHECK_OK(cv_sm2v_pub_load(&key, pub));
    pub[0] = 0x06 | (pub[64] & 1); /* hybrid form: refused by design */
    CHECK_ERR(cv_sm2v_pub_load(&key, pub), CV_EINVAL);
    CHECK_MSG("must start with 04");
    memset(pub, 0, 65);
    pub[0] = 0x04; /* (0, 0): the usual stand-in for infinity is not on the curve */
    CHECK_ERR(cv_sm2v_pub_load(&key, pub), CV_EINVAL);
    CHECK_MSG("not a point on the curve");
    pub[0] = 0x00;
    CHECK_ERR(cv_sm2v_pub_load(&key, pub), CV_EINVAL);
    memcpy(pub, pool[6].pub, 65);
    pub[64] ^= 1;
    CHECK_ERR(cv_sm2v_pub_load(&key, pub), CV_EINVAL);
    CHECK_ERR(cv_sm2v_verify(pub, "m", 1, (const uint8_t *)"\x30\x00", 2), CV_EBADSIG);
    CHECK_MSG("not a point on the curve");
    memset(pub + 1, 0xff, 32); /* x >= p */
    CHECK_ERR(cv_sm2v_pub_load(&key, pub), CV_EINVAL);
}

/* ---- case builders ----------------------------------------------------- */

static void flip_bit(uint8_t *p, size_t bit)
{
    p[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
}

/* (r', s) or (r, s') with r' or s' one of 0, n-1, n, n+1, p, 2^256 - 1,
 * a random value above n, a 33..40-byte value, itself + n, or n - the
 * other (r + s = n). */
static void special_r_or_s(worker *w, const der_sig *valid, der_sig *out)
{
    BIGNUM *r = BN_new(), *s = BN_new(), *v = BN_new(), *span = BN_new();
    decode_sig(valid, r, s);
    BIGNUM *other = rng_below(&w->r, 2) ? s : r;
    switch (rng_below(&w->r, 10)) {
    case 0: BN_zero(v); break;
    case 1: BN_copy(v, order); BN_sub_word(v, 1); break;
    case 2: BN_copy(v, order); break;
    case 3: BN_copy(v, order); BN_add_word(v, 1); break;
    case 4: BN_copy(v, prime); break;
    case 5: BN_set_word(v, 1); BN_lshift(v, v, 256); BN_sub_word(v, 1); break;
    case 6: /* uniform in [n, 2^256) */
        BN_set_word(span, 1); BN_lshift(span, span, 256); BN_sub(span, span, order);
        BN_rand_range(v, span); BN_add(v, v, order);
        break;
    case 7: BN_rand(v, 257 + (int)rng_below(&w->r, 63), BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY); break;
    case 8: BN_add(v, other, order); break; /* the same value modulo n */
    default: BN_sub(v, order, other == r ? s : r); break;
    }
    BN_copy(other, v);
    encode_sig(r, s, out);
    BN_free(r);
    BN_free(s);
    BN_free(v);
    BN_free(span);
}

/* Re-encodings of a valid signature that DER or OpenSSL must refuse, or
 * that change its value: padding, long forms, trailing bytes, negative
 * integers, wrong tags and lengths, truncation. */
static void der_variant(worker *w, const der_sig *valid, der_sig *out)
{
    const uint8_t *v = valid->b;
    size_t lr = v[3], r_at = 4, s_at = 4 + lr; /* valid: 30 L 02 lr r 02 ls s */
    *out = *valid;
    uint8_t *o = out->b;
    switch (rng_below(&w->r, 11)) {
    case 0: /* extra leading zero on r */
        o[1]++; o[3]++; o[4] = 0;
        memcpy(o + 5, v + r_at, valid->len - r_at);
        out->len++;
        break;
    case 1: /* long-form SEQUENCE length */
        o[1] = 0x81; o[2] = v[1];
        memcpy(o + 3, v + 2, valid->len - 2);
        out->len++;
        break;
    case 2: /* long-form INTEGER length for r */
        o[1]++; o[3] = 0x81; o[4] = (uint8_t)lr;
        memcpy(o + 5, v + r_at, valid->len - r_at);
        out->len++;
        break;
    case 3: /* a trailing byte after the SEQUENCE */
        o[out->len++] = (uint8_t)rng_next(&w->r);
        break;
    case 4: /* a trailing byte inside the SEQUENCE */
        o[1]++;
        o[out->len++] = 0;
        break;
    case 5: /* negative r: drop its sign-padding zero, or set the top bit */
        if (v[r_at] == 0) {
            o[1]--; o[3]--;
            memcpy(o + r_at, v + r_at + 1, valid->len - r_at - 1);
            out->len--;
        } else {
            o[r_at] |= 0x80;
        }
        break;
    case 6: o[0] = 0x31; break;
    case 7: o[s_at] = 0x03; break;
    case 8: o[1] = (uint8_t)(o[1] + (rng_below(&w->r, 2) ? 1 : -1)); break;
    case 9: out->len -= 1 + rng_below(&w->r, (unsigned)valid->len - 1); break;
    default: /* indefinite length with end-of-contents */
        o[1] = 0x80;
        o[out->len++] = 0;
        o[out->len++] = 0;
        break;
    }
}

/* The same point with x + p (or y + p) for x: an encoding OpenSSL refuses.
 * Returns 0 when neither fits 32 bytes. */
static int pub_plus_p(const uint8_t pub[65], uint8_t out[65])
{
    BIGNUM *c = BN_new();
    int done = 0;
    memcpy(out, pub, 65);
    for (int i = 0; i < 2 && !done; i++) {
        BN_bin2bn(pub + 1 + 32 * i, 32, c);
        BN_add(c, c, prime);
        done = BN_num_bytes(c) <= 32 && BN_bn2binpad(c, out + 1 + 32 * i, 32) == 32;
    }
    BN_free(c);
    return done;
}

/* Public keys that are invalid, or valid but wrong: other prefixes, zero
 * coordinates, x + p or y + p, -P, random bytes, another key. */
static void pub_variant(worker *w, const uint8_t valid[65], uint8_t out[65])
{
    static const uint8_t prefixes[] = {0x00, 0x02, 0x03, 0x05, 0x06, 0x07, 0x14, 0x84};
    memcpy(out, valid, 65);
    BIGNUM *c = BN_new();
    switch (rng_below(&w->r, 7)) {
    case 0: out[0] = prefixes[rng_below(&w->r, sizeof prefixes)]; break;
    case 1: memset(out + 1, 0, 64); out[0] = rng_below(&w->r, 2) ? 0x04 : 0x00; break;
    case 2: case 3: /* coordinate + p (or, where that does not fit, a flipped bit) */
        if (!pub_plus_p(valid, out))
            out[1 + 32 * rng_below(&w->r, 2)] ^= 0x40;
        break;
    case 4: /* -P: valid point, wrong key */
        BN_bin2bn(out + 33, 32, c);
        BN_sub(c, prime, c);
        BN_bn2binpad(c, out + 33, 32);
        break;
    case 5: rng_bytes(&w->r, out + 1, 64); break;
    default: memcpy(out, pool[rng_below(&w->r, POOL_KEYS)].pub, 65); break;
    }
    BN_free(c);
}

/* ---- message-level groups ---------------------------------------------- */

typedef struct {
    test_key fresh;
    const test_key *key;
    uint8_t msg[MSG_MAX + 1];
    size_t len;
    der_sig sig;
} msg_case;

/* A key from the pool or a fresh one (the cache sees both hits and
 * evictions), a random message and OpenSSL's signature of it. */
static int msg_case_make(worker *w, msg_case *c, size_t max_len)
{
    c->fresh.pkey = NULL;
    if (rng_below(&w->r, 2)) {
        if (!make_random_key(w, &c->fresh))
            return 0;
        c->key = &c->fresh;
    } else {
        c->key = &pool[rng_below(&w->r, POOL_KEYS)];
    }
    c->len = rng_below(&w->r, (unsigned)max_len + 1);
    rng_bytes(&w->r, c->msg, c->len);
    return cv_sm2v_ref_sign(c->key->pkey, c->msg, c->len, c->sig.b, &c->sig.len) == CV_OK;
}

static void msg_case_free(msg_case *c)
{
    EVP_PKEY_free(c->fresh.pkey);
}

static void msg_group(worker *w)
{
    msg_case c;
    if (!msg_case_make(w, &c, MSG_MAX)) {
        fprintf(stderr, "OpenSSL could not sign (group %llu)\n", (unsigned long long)w->group_no);
        atomic_fetch_add(&failures, 1);
        msg_case_free(&c);
        return;
    }
    der_sig s2;
    uint8_t pub2[65], msg2[MSG_MAX + 1];
    if (!compare_msg(w, "valid", c.key->pub, c.msg, c.len, &c.sig)) {
        fprintf(stderr, "OpenSSL rejects its own signature (group %llu)\n",
                (unsigned long long)w->group_no);
        atomic_fetch_add(&failures, 1);
    }

    s2 = c.sig;
    flip_bit(s2.b, rng_below(&w->r, (unsigned)s2.len * 8));
    compare_msg(w, "signature bit flip", c.key->pub, c.msg, c.len, &s2);

    memcpy(msg2, c.msg, c.len);
    if (c.len)
        flip_bit(msg2, rng_below(&w->r, (unsigned)c.len * 8));
    else
        msg2[0] = 0;
    compare_msg(w, "message bit flip", c.key->pub, msg2, c.len ? c.len : 1, &c.sig);

    memcpy(pub2, c.key->pub, 65);
    flip_bit(pub2, rng_below(&w->r, 65 * 8));
    compare_msg(w, "public key bit flip", pub2, c.msg, c.len, &c.sig);

    special_r_or_s(w, &c.sig, &s2);
    compare_msg(w, "special r or s", c.key->pub, c.msg, c.len, &s2);

    der_variant(w, &c.sig, &s2);
    compare_msg(w, "DER variant", c.key->pub, c.msg, c.len, &s2);

    pub_variant(w, c.key->pub, pub2);
    compare_msg(w, "public key variant", pub2, c.msg, c.len, &c.sig);
    msg_case_free(&c);
}

/* Every single-bit flip of one signature, its public key and its message. */
static void exhaustive_flips(worker *w)
{
    msg_case c;
    if (!msg_case_make(w, &c, 40)) {
        atomic_fetch_add(&failures, 1);
        msg_case_free(&c);
        return;
    }
    for (size_t bit = 0; bit < c.sig.len * 8; bit++) {
        der_sig s2 = c.sig;
        flip_bit(s2.b, bit);
        compare_msg(w, "every signature bit", c.key->pub, c.msg, c.len, &s2);
    }
    for (size_t bit = 0; bit < 65 * 8; bit++) {
        uint8_t pub2[65];
        memcpy(pub2, c.key->pub, 65);
        flip_bit(pub2, bit);
        compare_msg(w, "every public key bit", pub2, c.msg, c.len, &c.sig);
    }
    for (size_t bit = 0; bit < c.len * 8; bit++) {
        uint8_t msg2[MSG_MAX];
        memcpy(msg2, c.msg, c.len);
        flip_bit(msg2, bit);
        compare_msg(w, "every message bit", c.key->pub, msg2, c.len, &c.sig);
    }
    msg_case_free(&c);
}

/* ---- digest-level groups ----------------------------------------------- */

typedef struct {
    uint8_t pub[65];
    uint8_t e[32];
    der_sig sig;
} digest_case;

/* e = (r - x1) mod n for x1 = x(s*G + t*P): a valid signature without the
 * private key, except when r + s = n (t = 0: must be rejected although x1
 * of s*G matches) or at infinity (e stays random; both must reject).
 * Special keys (d = 1, n-1, 2^32k, ..., or a point with tiny x) with
 * structured r, s drive the joint multiplication through its doubling and
 * cancelling additions. */
static void craft_for_key(worker *w, digest_case *c)
{
    BN_CTX *bn = w->bn;
    BIGNUM *d = BN_new(), *r = BN_new(), *s = BN_new(), *t = BN_new(), *x = BN_new();
    EC_POINT *p = EC_POINT_new(group), *q = EC_POINT_new(group);
    switch (rng_below(&w->r, 5)) {
    case 0: BN_set_word(d, 1); break;
    case 1: BN_copy(d, order); BN_sub_word(d, 1); break;
    case 2: BN_set_word(d, 1); BN_lshift(d, d, 32 * (1 + (int)rng_below(&w->r, 7))); break;
    case 3: structured_scalar(w, d); break;
    default: BN_rand_range(d, order); break;
    }
    structured_scalar(w, r);
    structured_scalar(w, s);
    BN_mod_add(t, r, s, order, bn);
    switch (rng_below(&w->r, 8)) {
    case 0: /* s*G + t*P at infinity: d = -s/t */
        if (!BN_is_zero(t)) {
            BN_mod_inverse(t, t, order, bn);
            BN_mod_mul(d, s, t, order, bn);
            BN_sub(d, order, d);
        }
        break;
    case 1: /* r + s = n: t = 0, and e below is made to match x(s*G) */
        BN_sub(r, order, s);
        break;
    default:
        break;
    }
    if (BN_is_zero(d))
        BN_set_word(d, 5);
    if (rng_below(&w->r, 6) == 0) /* a key with tiny x (d unknown) */
        EC_POINT_oct2point(group, p, low_x_points[rng_below(&w->r, SPECIAL_POINTS)], 65, bn);
    else
        EC_POINT_mul(group, p, d, NULL, NULL, bn);
    point_bytes(p, c->pub, bn);
    BN_mod_add(t, r, s, order, bn);
    EC_POINT_mul(group, q, s, p, t, bn);
    rng_bytes(&w->r, c->e, 32);
    if (!EC_POINT_is_at_infinity(group, q) &&
        EC_POINT_get_affine_coordinates(group, q, x, NULL, bn)) {
        BN_mod_sub(x, r, x, order, bn);
        BN_bn2binpad(x, c->e, 32);
    }
    encode_sig(r, s, &c->sig);
    ERR_clear_error();
    EC_POINT_free(p);
    EC_POINT_free(q);
    BN_free(d); BN_free(r); BN_free(s); BN_free(t); BN_free(x);
}

/* e for crafted cases: random, with the high bit set, or n or more
 * (leading ones, or n plus a little). */
static void crafted_e(worker *w, uint8_t e[32])
{
    rng_bytes(&w->r, e, 32);
    switch (rng_below(&w->r, 4)) {
    case 0: e[0] |= 0x80; break;
    case 1: memset(e, 0xff, 4 + rng_below(&w->r, 29)); break;
    case 2: BN_bn2binpad(order, e, 32); e[31] += (uint8_t)rng_below(&w->r, 16); break;
    default: break;
    }
}

/* The result point Q for crafted cases: one with x >= n, k*G for a
 * structured k, or one whose x is (r - e) mod n for a structured r (so that
 * r can be small while e >= n). */
static void crafted_q(worker *w, EC_POINT *q, const BIGNUM *e)
{
    BIGNUM *k = BN_new(), *x = BN_new();
    int found = 0;
    switch (rng_below(&w->r, 3)) {
    case 0:
        found = EC_POINT_oct2point(group, q, high_x_points[rng_below(&w->r, SPECIAL_POINTS)], 65,
                                   w->bn);
        break;
    case 1:
        break;
    default:
        for (int tries = 0; tries < 64 && !found; tries++) {
            structured_scalar(w, k);
            BN_mod_sub(x, k, e, order, w->bn);
            found = EC_POINT_set_compressed_coordinates(group, q, x, tries & 1, w->bn);
        }
        ERR_clear_error();
    }
    if (!found) {
        structured_scalar(w, k);
        EC_POINT_mul(group, q, k, NULL, NULL, w->bn);
    }
    BN_free(k);
    BN_free(x);
}

/* Chooses e and the result point Q = (x1, y1) first, sets r = (e + x1) mod n,
 * and finds the key P = (Q - s*G) / t that makes the signature valid. */
static void craft_for_point(worker *w, digest_case *c)
{
    BN_CTX *bn = w->bn;
    BIGNUM *e = BN_new(), *r = BN_new(), *s = BN_new(), *t = BN_new(), *x = BN_new();
    EC_POINT *q = EC_POINT_new(group), *sg = EC_POINT_new(group), *diff = EC_POINT_new(group),
             *p = EC_POINT_new(group);
    crafted_e(w, c->e);
    BN_bin2bn(c->e, 32, e);
    crafted_q(w, q, e);
    EC_POINT_get_affine_coordinates(group, q, x, NULL, bn);
    BN_mod_add(r, e, x, order, bn);
    if (BN_is_zero(r))
        BN_one(r);
    structured_scalar(w, s);
    BN_mod_add(t, r, s, order, bn);
    EC_POINT_mul(group, sg, s, NULL, NULL, bn);
    EC_POINT_invert(group, sg, bn);
    EC_POINT_add(group, diff, q, sg, bn);
    if (!BN_is_zero(t) && !EC_POINT_is_at_infinity(group, diff)) {
        BN_mod_inverse(t, t, order, bn);
        EC_POINT_mul(group, p, NULL, diff, t, bn);
    } else {
        EC_POINT_copy(p, EC_GROUP_get0_generator(group));
    }
    point_bytes(p, c->pub, bn);
    encode_sig(r, s, &c->sig);
    ERR_clear_error();
    EC_POINT_free(q); EC_POINT_free(sg); EC_POINT_free(diff); EC_POINT_free(p);
    BN_free(e); BN_free(r); BN_free(s); BN_free(t); BN_free(x);
}

/* e + n when that fits 256 bits, else e - n when e >= n, else e with its
 * top bit flipped. */
static void e_shifted_by_n(const uint8_t e[32], uint8_t out[32])
{
    BIGNUM *v = BN_bin2bn(e, 32, NULL);
    memcpy(out, e, 32);
    if (BN_add(v, v, order) && BN_num_bits(v) <= 256)
        BN_bn2binpad(v, out, 32);
    else if (BN_sub(v, v, order) && BN_sub(v, v, order) && !BN_is_negative(v))
        BN_bn2binpad(v, out, 32);
    else
        out[0] ^= 0x80;
    BN_free(v);
}

static void digest_group(worker *w)
{
    digest_case c;
    if (rng_below(&w->r, 2))
        craft_for_key(w, &c);
    else
        craft_for_point(w, &c);
    compare_digest(w, "crafted", c.pub, c.e, &c.sig);

    uint8_t alias[65];
    if (pub_plus_p(c.pub, alias))
        compare_digest(w, "key coordinate + p", alias, c.e, &c.sig);

    uint8_t e2[32];
    memcpy(e2, c.e, 32);
    flip_bit(e2, rng_below(&w->r, 256));
    compare_digest(w, "e bit flip", c.pub, e2, &c.sig);

    e_shifted_by_n(c.e, e2);
    compare_digest(w, "e shifted by n", c.pub, e2, &c.sig);

    der_sig s2 = c.sig;
    flip_bit(s2.b, rng_below(&w->r, (unsigned)s2.len * 8));
    compare_digest(w, "crafted signature bit flip", c.pub, c.e, &s2);

    special_r_or_s(w, &c.sig, &s2);
    compare_digest(w, "crafted special r or s", c.pub, c.e, &s2);
}

/* ---- the differential run ---------------------------------------------- */

typedef struct {
    long target;
    long flip_rounds;
    long min_groups; /* random groups run even when the flips reach the target */
    atomic_long next_group;
    atomic_long next_flip;
} run_plan;

static void *run_worker(void *arg)
{
    run_plan *plan = arg;
    worker w = {BN_CTX_new(), {0}, 0};
    for (;;) {
        long f = atomic_fetch_add(&plan->next_flip, 1);
        if (f >= plan->flip_rounds)
            break;
        w.group_no = (uint64_t)f;
        w.r = rng_for(run_seed, w.group_no | (1ull << 63));
        exhaustive_flips(&w);
    }
    for (;;) {
        w.group_no = (uint64_t)atomic_fetch_add(&plan->next_group, 1);
        if (atomic_load(&compared) >= plan->target && (long)w.group_no >= plan->min_groups)
            break;
        w.r = rng_for(run_seed, w.group_no);
        if (rng_below(&w.r, 2))
            msg_group(&w);
        else
            digest_group(&w);
    }
    BN_CTX_free(w.bn);
    return NULL;
}

static void differential(long target, int threads)
{
    run_plan plan = {target, check_scale(2, 1) + target / 20000, check_scale(200, 40), 0, 0};
    pthread_t tid[16];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < threads; i++)
        CHECK(pthread_create(&tid[i], NULL, run_worker, &plan) == 0);
    for (int i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr,
            "differential: seed %llu, %ld comparisons (%ld accepted by OpenSSL), %ld failures "
            "(mismatches or setup errors), %ld exhaustive-flip rounds, %ld random groups, "
            "%d threads, %.1f s\n",
            (unsigned long long)run_seed, atomic_load(&compared), atomic_load(&accepted),
            atomic_load(&failures), plan.flip_rounds, atomic_load(&plan.next_group) - threads,
            threads, secs);
    CHECK(atomic_load(&failures) == 0);
    CHECK(atomic_load(&accepted) > 0);
}

int main(int argc, char **argv)
{
    long target = argc > 1 ? atol(argv[1]) : check_scale(DEFAULT_COMPARISONS, QUICK_COMPARISONS);
    run_seed = argc > 2 ? strtoull(argv[2], NULL, 10) : DEFAULT_SEED;
    int threads = argc > 3 ? atoi(argv[3]) : DEFAULT_THREADS;
    if (threads < 1 || threads > 16)
        threads = DEFAULT_THREADS;
    group = EC_GROUP_new_by_curve_name(NID_sm2);
    order = EC_GROUP_get0_order(group);
    prime = BN_new();
    EC_GROUP_get_curve(group, prime, NULL, NULL, NULL);
    worker setup = {BN_CTX_new(), rng_for(run_seed, UINT64_MAX), 0};
    CHECK(make_pool(&setup) && make_special_points(&setup));

    test_gbt32918_example();
    test_sm_crypto_vectors();
    test_pub_load_errors();
    differential(target, threads);

    BN_CTX_free(setup.bn);
    pool_free();
    BN_free(prime);
    EC_GROUP_free(group);
    return check_done();
}
