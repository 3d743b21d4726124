/* sm2_curve.c: SM2 point arithmetic, tables and the joint multiplication
 * s*G + t*P used by the fast verifier (see sm2_curve.h). */
#include "crypto/sm2_curve.h"

#include <pthread.h>

#define CHUNK_BITS (256 / CV_SM2V_CHUNKS)
#define NAF_LEN (CHUNK_BITS + 1)      /* a chunk of b bits has at most b + 1 wNAF digits */
#define BASE_WINDOW 8                 /* wNAF width for G: 64 odd multiples a chunk */
#define BASE_ODD (1 << (BASE_WINDOW - 2))

/* wNAF digits are int8_t, so windows are at most 8 bits wide. */
_Static_assert(BASE_WINDOW <= 8 && CV_SM2V_PUB_WINDOW <= 8, "wNAF digits must fit int8_t");
_Static_assert(CV_SM2V_CHUNKS * (256 / CV_SM2V_CHUNKS) == 256 && 256 / CV_SM2V_CHUNKS <= 64,
               "chunks must split 256 bits into pieces of at most 64");

const uint8_t cv_sm2v_curve_abg[128] = {
    /* a = p - 3 */
    0xFF, 0xFF, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFC,
    /* b */
    0x28, 0xE9, 0xFA, 0x9E, 0x9D, 0x9F, 0x5E, 0x34, 0x4D, 0x5A, 0x9E, 0x4B, 0xCF, 0x65, 0x09, 0xA7,
    0xF3, 0x97, 0x89, 0xF5, 0x15, 0xAB, 0x8F, 0x92, 0xDD, 0xBC, 0xBD, 0x41, 0x4D, 0x94, 0x0E, 0x93,
    /* xG */
    0x32, 0xC4, 0xAE, 0x2C, 0x1F, 0x19, 0x81, 0x19, 0x5F, 0x99, 0x04, 0x46, 0x6A, 0x39, 0xC9, 0x94,
    0x8F, 0xE3, 0x0B, 0xBF, 0xF2, 0x66, 0x0B, 0xE1, 0x71, 0x5A, 0x45, 0x89, 0x33, 0x4C, 0x74, 0xC7,
    /* yG */
    0xBC, 0x37, 0x36, 0xA2, 0xF4, 0xF6, 0x77, 0x9C, 0x59, 0xBD, 0xCE, 0xE3, 0x6B, 0x69, 0x21, 0x53,
    0xD0, 0xA9, 0x87, 0x7C, 0xC6, 0x2A, 0x47, 0x40, 0x02, 0xDF, 0x32, 0xE5, 0x21, 0x39, 0xF0, 0xA0,
};

static pthread_once_t curve_once = PTHREAD_ONCE_INIT;
static cv_sm2v_fe curve_b;                                 /* b in Montgomery form */
static cv_sm2v_affine base_odd[CV_SM2V_CHUNKS][BASE_ODD]; /* (2i+1) * 2^(CHUNK_BITS j) * G */

/* ---- point formulas ---------------------------------------------------- */

/* r = 2a, dbl-2001-b for a = -3: 3M + 5S. */
static void jac_double(cv_sm2v_jac *r, const cv_sm2v_jac *a)
{
    cv_sm2v_fe delta, gamma, beta, alpha, t, u, z3;
    sm2_fe_sqr(&delta, &a->z);
    sm2_fe_sqr(&gamma, &a->y);
    sm2_fe_mul(&beta, &a->x, &gamma);
    sm2_fe_sub(&t, &a->x, &delta);
    sm2_fe_add(&u, &a->x, &delta);
    sm2_fe_mul(&alpha, &t, &u);
    sm2_fe_add(&t, &alpha, &alpha);
    sm2_fe_add(&alpha, &alpha, &t); /* alpha = 3(x - delta)(x + delta) */
    sm2_fe_add(&t, &a->y, &a->z);
    sm2_fe_sqr(&z3, &t);
    sm2_fe_sub(&z3, &z3, &gamma);
    sm2_fe_sub(&z3, &z3, &delta); /* z3 = (y + z)^2 - gamma - delta = 2yz */
    sm2_fe_add(&beta, &beta, &beta);
    sm2_fe_add(&beta, &beta, &beta); /* beta = 4 x gamma */
    sm2_fe_sqr(&r->x, &alpha);
    sm2_fe_add(&t, &beta, &beta);
    sm2_fe_sub(&r->x, &r->x, &t); /* x3 = alpha^2 - 8 x gamma */
    sm2_fe_sub(&t, &beta, &r->x);
    sm2_fe_mul(&u, &alpha, &t);
    sm2_fe_sqr(&gamma, &gamma);
    sm2_fe_add(&gamma, &gamma, &gamma);
    sm2_fe_add(&gamma, &gamma, &gamma);
    sm2_fe_add(&gamma, &gamma, &gamma); /* 8 gamma^2 */
    sm2_fe_sub(&r->y, &u, &gamma);
    r->z = z3;
    r->inf = 0;
}

/* r = a + (bx, by, bz) where b is a finite point; bz NULL means bz = 1 (an
 * affine b, the hot case: 8M + 3S). Handles a = infinity, a = b and a = -b. */
static void jac_add(cv_sm2v_jac *r, const cv_sm2v_jac *a, const cv_sm2v_fe *bx,
                    const cv_sm2v_fe *by, const cv_sm2v_fe *bz)
{
    if (a->inf) {
        r->x = *bx;
        r->y = *by;
        r->z = bz ? *bz : sm2_fe_one;
        r->inf = 0;
        return;
    }
    cv_sm2v_fe z1z1, u1, u2, s1, s2, h, rr, t;
    sm2_fe_sqr(&z1z1, &a->z);
    sm2_fe_mul(&u2, bx, &z1z1);
    sm2_fe_mul(&t, &a->z, &z1z1);
    sm2_fe_mul(&s2, by, &t);
    if (bz) {
        cv_sm2v_fe z2z2;
        sm2_fe_sqr(&z2z2, bz);
        sm2_fe_mul(&u1, &a->x, &z2z2);
        sm2_fe_mul(&t, bz, &z2z2);
        sm2_fe_mul(&s1, &a->y, &t);
    } else {
        u1 = a->x;
        s1 = a->y;
    }
    sm2_fe_sub(&h, &u2, &u1);
    sm2_fe_sub(&rr, &s2, &s1);
    if (sm2_fe_is_zero(&h)) {
        if (sm2_fe_is_zero(&rr))
            jac_double(r, a);
        else
            r->inf = 1;
        return;
    }
    cv_sm2v_fe hh, hhh, v, z3;
    sm2_fe_mul(&z3, &a->z, &h);
    if (bz)
        sm2_fe_mul(&z3, &z3, bz);
    sm2_fe_sqr(&hh, &h);
    sm2_fe_mul(&hhh, &h, &hh);
    sm2_fe_mul(&v, &u1, &hh);
    sm2_fe_sqr(&r->x, &rr);
    sm2_fe_sub(&r->x, &r->x, &hhh);
    sm2_fe_sub(&r->x, &r->x, &v);
    sm2_fe_sub(&r->x, &r->x, &v); /* x3 = rr^2 - hhh - 2v */
    sm2_fe_sub(&t, &v, &r->x);
    sm2_fe_mul(&t, &rr, &t);
    sm2_fe_mul(&s1, &s1, &hhh);
    sm2_fe_sub(&r->y, &t, &s1); /* y3 = rr(v - x3) - s1 hhh */
    r->z = z3;
    r->inf = 0;
}

/* ---- tables ------------------------------------------------------------ */

/* Converts n finite Jacobian points to affine with one inversion
 * (Montgomery's trick); prefix is scratch for n elements. */
static void batch_to_affine(cv_sm2v_affine *out, const cv_sm2v_jac *in, cv_sm2v_fe *prefix, int n)
{
    prefix[0] = in[0].z;
    for (int i = 1; i < n; i++)
        sm2_fe_mul(&prefix[i], &prefix[i - 1], &in[i].z);
    cv_sm2v_fe inv, zinv, zinv2, t;
    cv_sm2v_fe_inv(&inv, &prefix[n - 1]);
    for (int i = n - 1; i >= 0; i--) {
        if (i > 0) {
            sm2_fe_mul(&zinv, &inv, &prefix[i - 1]);
            sm2_fe_mul(&inv, &inv, &in[i].z);
        } else {
            zinv = inv;
        }
        sm2_fe_sqr(&zinv2, &zinv);
        sm2_fe_mul(&out[i].x, &in[i].x, &zinv2);
        sm2_fe_mul(&t, &zinv2, &zinv);
        sm2_fe_mul(&out[i].y, &in[i].y, &t);
    }
}

/* out[j * odd + i] = (2i + 1) * 2^(CHUNK_BITS j) * p for every chunk j,
 * affine; jac and prefix are scratch for CV_SM2V_CHUNKS * odd elements. */
static void build_chunk_tables(cv_sm2v_affine *out, int odd, const cv_sm2v_affine *p,
                               cv_sm2v_jac *jac, cv_sm2v_fe *prefix)
{
    cv_sm2v_jac q = {p->x, p->y, sm2_fe_one, 0}, twice;
    for (int j = 0; j < CV_SM2V_CHUNKS; j++) {
        if (j > 0)
            for (int k = 0; k < CHUNK_BITS; k++)
                jac_double(&q, &q);
        cv_sm2v_jac *row = &jac[j * odd];
        row[0] = q;
        jac_double(&twice, &q);
        for (int i = 1; i < odd; i++)
            jac_add(&row[i], &row[i - 1], &twice.x, &twice.y, &twice.z);
    }
    batch_to_affine(out, jac, prefix, CV_SM2V_CHUNKS * odd);
}

static void curve_init(void)
{
    static cv_sm2v_jac jac[CV_SM2V_CHUNKS * BASE_ODD]; /* too big for a thread's stack */
    static cv_sm2v_fe prefix[CV_SM2V_CHUNKS * BASE_ODD];
    cv_sm2v_affine g;
    cv_sm2v_fe_from_bytes(&curve_b, cv_sm2v_curve_abg + 32);
    cv_sm2v_fe_from_bytes(&g.x, cv_sm2v_curve_abg + 64);
    cv_sm2v_fe_from_bytes(&g.y, cv_sm2v_curve_abg + 96);
    build_chunk_tables(&base_odd[0][0], BASE_ODD, &g, jac, prefix);
}

static void curve_ready(void)
{
    pthread_once(&curve_once, curve_init);
}

/* ---- public operations ------------------------------------------------- */

int cv_sm2v_point_decode(cv_sm2v_affine *out, const uint8_t xy[64])
{
    curve_ready();
    if (!cv_sm2v_fe_from_bytes(&out->x, xy) || !cv_sm2v_fe_from_bytes(&out->y, xy + 32))
        return 0;
    cv_sm2v_fe lhs, rhs, t;
    sm2_fe_sqr(&lhs, &out->y);
    sm2_fe_sqr(&rhs, &out->x);
    sm2_fe_mul(&rhs, &rhs, &out->x);
    sm2_fe_add(&t, &out->x, &out->x);
    sm2_fe_add(&t, &t, &out->x);
    sm2_fe_sub(&rhs, &rhs, &t);
    sm2_fe_add(&rhs, &rhs, &curve_b); /* x^3 - 3x + b */
    return sm2_fe_eq(&lhs, &rhs);
}

void cv_sm2v_pub_table_build(cv_sm2v_pub_table *out, const cv_sm2v_affine *p)
{
    cv_sm2v_jac jac[CV_SM2V_CHUNKS * CV_SM2V_PUB_ODD];
    cv_sm2v_fe prefix[CV_SM2V_CHUNKS * CV_SM2V_PUB_ODD];
    build_chunk_tables(&out->odd[0][0], CV_SM2V_PUB_ODD, p, jac, prefix);
}

/* Bits [CHUNK_BITS j, CHUNK_BITS (j + 1)) of the 256-bit k. */
static uint64_t scalar_chunk(const uint64_t k[4], int j)
{
    int at = j * CHUNK_BITS;
    uint64_t v = k[at / 64] >> (at % 64);
    return CHUNK_BITS == 64 ? v : v & ((UINT64_C(1) << (CHUNK_BITS % 64)) - 1);
}

/* Width-w NAF of a chunk k: out[i] is 0 or odd with |out[i]| < 2^(w-1). */
static void wnaf_chunk(int8_t out[NAF_LEN], uint64_t k, int w)
{
    sm2_u128 v = k;
    for (int i = 0; i < NAF_LEN; i++) {
        int digit = 0;
        if (v & 1) {
            digit = (int)(v & ((1u << w) - 1));
            if (digit >= 1 << (w - 1))
                digit -= 1 << w;
            v = digit > 0 ? v - (unsigned)digit : v + (unsigned)-digit;
        }
        out[i] = (int8_t)digit;
        v >>= 1;
    }
}

/* acc += digit * point, where odd[i] = (2i + 1) * point. */
static void add_digit(cv_sm2v_jac *acc, const cv_sm2v_affine *odd, int digit)
{
    if (digit > 0) {
        const cv_sm2v_affine *q = &odd[digit >> 1];
        jac_add(acc, acc, &q->x, &q->y, NULL);
    } else if (digit < 0) {
        const cv_sm2v_affine *q = &odd[(-digit) >> 1];
        cv_sm2v_fe neg_y;
        sm2_fe_neg(&neg_y, &q->y);
        jac_add(acc, acc, &q->x, &neg_y, NULL);
    }
}

int cv_sm2v_mul_base_pub(cv_sm2v_jac *out, const uint64_t s[4], const cv_sm2v_pub_table *pub,
                         const uint64_t t[4])
{
    curve_ready();
    int8_t naf_s[CV_SM2V_CHUNKS][NAF_LEN], naf_t[CV_SM2V_CHUNKS][NAF_LEN];
    for (int j = 0; j < CV_SM2V_CHUNKS; j++) {
        wnaf_chunk(naf_s[j], scalar_chunk(s, j), BASE_WINDOW);
        wnaf_chunk(naf_t[j], scalar_chunk(t, j), CV_SM2V_PUB_WINDOW);
    }
    cv_sm2v_jac acc = {.inf = 1};
    for (int i = NAF_LEN - 1; i >= 0; i--) {
        if (!acc.inf)
            jac_double(&acc, &acc);
        for (int j = 0; j < CV_SM2V_CHUNKS; j++) {
            add_digit(&acc, base_odd[j], naf_s[j][i]);
            add_digit(&acc, pub->odd[j], naf_t[j][i]);
        }
    }
    *out = acc;
    return !acc.inf;
}

int cv_sm2v_jac_x_equals(const cv_sm2v_jac *q, const uint64_t x[4])
{
    cv_sm2v_fe xm, zz;
    cv_sm2v_fe_from_int(&xm, x);
    sm2_fe_sqr(&zz, &q->z);
    sm2_fe_mul(&xm, &xm, &zz);
    return sm2_fe_eq(&xm, &q->x);
}
