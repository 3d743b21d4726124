/* sm2_field.h: arithmetic modulo the SM2 prime p = 2^256 - 2^224 - 2^96 + 2^64 - 1,
 * for the fast SM2 verifier (sm2v.c).
 *
 * An element is four 64-bit limbs, least significant first, in Montgomery
 * form (a stored as a*2^256 mod p) and always fully reduced to [0, p). The
 * hot operations are static inline so that the point formulas in
 * sm2_curve.c compile into straight-line code; they are variable-time, which
 * is fine because verification only handles public data.
 *
 * p = -1 mod 2^64, so the Montgomery factor -p^-1 mod 2^64 is 1 and each
 * reduction round is a few subtractions, no multiplication (see mont_reduce). */
#ifndef CV_CRYPTO_SM2_FIELD_H
#define CV_CRYPTO_SM2_FIELD_H

#include <stdint.h>

typedef struct {
    uint64_t v[4];
} cv_sm2v_fe;

typedef unsigned __int128 sm2_u128;

/* p, and 1 in Montgomery form (2^256 mod p). */
static const cv_sm2v_fe sm2_fe_p = {{0xffffffffffffffffu, 0xffffffff00000000u,
                                     0xffffffffffffffffu, 0xfffffffeffffffffu}};
static const cv_sm2v_fe sm2_fe_one = {{1, 0xffffffffu, 0, 0x100000000u}};

/* Add and subtract with carry. GCC compiles carry chains written with
 * __int128 poorly, so x86-64 uses the adc/sbb intrinsics. */
#if defined(__x86_64__)
#include <x86intrin.h>

static inline uint64_t sm2_adc(uint64_t a, uint64_t b, unsigned char *carry)
{
    unsigned long long out;
    *carry = _addcarry_u64(*carry, a, b, &out);
    return out;
}

static inline uint64_t sm2_sbb(uint64_t a, uint64_t b, unsigned char *borrow)
{
    unsigned long long out;
    *borrow = _subborrow_u64(*borrow, a, b, &out);
    return out;
}
#else
static inline uint64_t sm2_adc(uint64_t a, uint64_t b, unsigned char *carry)
{
    sm2_u128 s = (sm2_u128)a + b + *carry;
    *carry = (unsigned char)(s >> 64);
    return (uint64_t)s;
}

static inline uint64_t sm2_sbb(uint64_t a, uint64_t b, unsigned char *borrow)
{
    sm2_u128 d = (sm2_u128)a - b - *borrow;
    *borrow = (unsigned char)((d >> 64) & 1);
    return (uint64_t)d;
}
#endif

/* r = s + carry*2^256 reduced once by p, where s + carry*2^256 < 2p:
 * subtract p, and add it back when that borrowed without a carry to absorb
 * it (arithmetic masks rather than a branch the CPU could mispredict). */
static inline void sm2_fe_reduce_once(cv_sm2v_fe *r, const uint64_t s[4], unsigned char carry)
{
    unsigned char borrow = 0, back = 0;
    uint64_t d[4];
    for (int i = 0; i < 4; i++)
        d[i] = sm2_sbb(s[i], sm2_fe_p.v[i], &borrow);
    uint64_t mask = 0 - (uint64_t)(borrow & (carry ^ 1));
    for (int i = 0; i < 4; i++)
        r->v[i] = sm2_adc(d[i], sm2_fe_p.v[i] & mask, &back);
}

static inline void sm2_fe_add(cv_sm2v_fe *r, const cv_sm2v_fe *a, const cv_sm2v_fe *b)
{
    unsigned char carry = 0;
    uint64_t s[4];
    for (int i = 0; i < 4; i++)
        s[i] = sm2_adc(a->v[i], b->v[i], &carry);
    sm2_fe_reduce_once(r, s, carry);
}

static inline void sm2_fe_sub(cv_sm2v_fe *r, const cv_sm2v_fe *a, const cv_sm2v_fe *b)
{
    unsigned char borrow = 0, carry = 0;
    uint64_t d[4];
    for (int i = 0; i < 4; i++)
        d[i] = sm2_sbb(a->v[i], b->v[i], &borrow);
    uint64_t mask = 0 - (uint64_t)borrow;
    for (int i = 0; i < 4; i++)
        r->v[i] = sm2_adc(d[i], sm2_fe_p.v[i] & mask, &carry);
}

static inline void sm2_fe_neg(cv_sm2v_fe *r, const cv_sm2v_fe *a)
{
    static const cv_sm2v_fe zero = {{0, 0, 0, 0}};
    sm2_fe_sub(r, &zero, a);
}

/* Montgomery reduction of a 512-bit t: r = t / 2^256 mod p, for t < p * 2^256.
 * A round takes m = the low limb and computes (a + m*p) / 2^64, which because
 * p + 1 = 2^64 * (2^192 - 2^160 - 2^32 + 1) equals
 * [a1, a2, a3, m] - m*(2^32 - 1) - m*2^160 (never negative). */
static inline void sm2_mont_reduce(cv_sm2v_fe *r, const uint64_t t[8])
{
    uint64_t a0 = t[0], a1 = t[1], a2 = t[2], a3 = t[3];
    for (int round = 0; round < 4; round++) {
        uint64_t m = a0, lo = m << 32, hi = m >> 32;
        unsigned char borrow = 0;
        uint64_t mid_lo = sm2_sbb(lo, m, &borrow); /* m*(2^32 - 1) = [mid_lo, mid_hi] */
        uint64_t mid_hi = hi - borrow;
        borrow = 0;
        a0 = sm2_sbb(a1, mid_lo, &borrow);
        a1 = sm2_sbb(a2, mid_hi, &borrow);
        a2 = sm2_sbb(a3, lo, &borrow);
        a3 = sm2_sbb(m, hi, &borrow);
    }
    unsigned char carry = 0;
    uint64_t s[4];
    s[0] = sm2_adc(a0, t[4], &carry);
    s[1] = sm2_adc(a1, t[5], &carry);
    s[2] = sm2_adc(a2, t[6], &carry);
    s[3] = sm2_adc(a3, t[7], &carry);
    sm2_fe_reduce_once(r, s, carry);
}

/* t[i .. i+4] += x * y[0..3], where t[i+4] starts at 0: the four products'
 * low halves and high halves are summed in two carry chains. */
static inline void sm2_mul_row(uint64_t t[8], int i, uint64_t x, const uint64_t y[4])
{
    uint64_t lo[4], hi[4];
    for (int j = 0; j < 4; j++) {
        sm2_u128 p = (sm2_u128)x * y[j];
        lo[j] = (uint64_t)p;
        hi[j] = (uint64_t)(p >> 64);
    }
    unsigned char c1 = 0, c2 = 0;
    uint64_t u1 = sm2_adc(lo[1], hi[0], &c1);
    uint64_t u2 = sm2_adc(lo[2], hi[1], &c1);
    uint64_t u3 = sm2_adc(lo[3], hi[2], &c1);
    uint64_t u4 = hi[3] + c1;
    t[i] = sm2_adc(t[i], lo[0], &c2);
    t[i + 1] = sm2_adc(t[i + 1], u1, &c2);
    t[i + 2] = sm2_adc(t[i + 2], u2, &c2);
    t[i + 3] = sm2_adc(t[i + 3], u3, &c2);
    t[i + 4] = u4 + c2;
}

static inline void sm2_fe_mul(cv_sm2v_fe *r, const cv_sm2v_fe *a, const cv_sm2v_fe *b)
{
    uint64_t t[8] = {0};
    for (int i = 0; i < 4; i++)
        sm2_mul_row(t, i, a->v[i], b->v);
    sm2_mont_reduce(r, t);
}

static inline void sm2_fe_sqr(cv_sm2v_fe *r, const cv_sm2v_fe *a)
{
    const uint64_t *x = a->v;
    uint64_t t[8];
    sm2_u128 p01 = (sm2_u128)x[0] * x[1], p02 = (sm2_u128)x[0] * x[2],
             p03 = (sm2_u128)x[0] * x[3], p12 = (sm2_u128)x[1] * x[2],
             p13 = (sm2_u128)x[1] * x[3], p23 = (sm2_u128)x[2] * x[3];
    /* The six cross products x[i]*x[j], i < j, into t[1..6] ... */
    unsigned char c = 0;
    t[1] = (uint64_t)p01;
    t[2] = sm2_adc((uint64_t)(p01 >> 64), (uint64_t)p02, &c);
    t[3] = sm2_adc((uint64_t)(p02 >> 64), (uint64_t)p03, &c);
    t[4] = sm2_adc((uint64_t)(p03 >> 64), (uint64_t)p13, &c);
    t[5] = sm2_adc((uint64_t)(p13 >> 64), (uint64_t)p23, &c);
    t[6] = (uint64_t)(p23 >> 64) + c;
    c = 0;
    t[3] = sm2_adc(t[3], (uint64_t)p12, &c);
    t[4] = sm2_adc(t[4], (uint64_t)(p12 >> 64), &c);
    t[5] = sm2_adc(t[5], 0, &c);
    t[6] += c;
    /* ... doubled, plus the squares x[i]^2 on the diagonal. */
    t[7] = t[6] >> 63;
    for (int k = 6; k > 1; k--)
        t[k] = (t[k] << 1) | (t[k - 1] >> 63);
    t[1] <<= 1;
    t[0] = 0;
    c = 0;
    for (int i = 0; i < 4; i++) {
        sm2_u128 sq = (sm2_u128)x[i] * x[i];
        t[2 * i] = sm2_adc(t[2 * i], (uint64_t)sq, &c);
        t[2 * i + 1] = sm2_adc(t[2 * i + 1], (uint64_t)(sq >> 64), &c);
    }
    sm2_mont_reduce(r, t);
}

static inline int sm2_fe_eq(const cv_sm2v_fe *a, const cv_sm2v_fe *b)
{
    return ((a->v[0] ^ b->v[0]) | (a->v[1] ^ b->v[1]) | (a->v[2] ^ b->v[2]) |
            (a->v[3] ^ b->v[3])) == 0;
}

static inline int sm2_fe_is_zero(const cv_sm2v_fe *a)
{
    return (a->v[0] | a->v[1] | a->v[2] | a->v[3]) == 0;
}

/* Big-endian 32 bytes -> Montgomery form. Returns 0 if the value is not below p. */
int cv_sm2v_fe_from_bytes(cv_sm2v_fe *r, const uint8_t in[32]);
/* Montgomery form -> big-endian 32 bytes of the value in [0, p). */
void cv_sm2v_fe_to_bytes(uint8_t out[32], const cv_sm2v_fe *a);
/* Plain (not Montgomery) 256-bit integer a < p -> Montgomery form. */
void cv_sm2v_fe_from_int(cv_sm2v_fe *r, const uint64_t a[4]);
/* r = 1/a (Fermat: a^(p-2)); a must be non-zero. */
void cv_sm2v_fe_inv(cv_sm2v_fe *r, const cv_sm2v_fe *a);
/* Big-endian 32 bytes <-> four little-endian limbs (no reduction). */
void cv_sm2v_u256_from_bytes(uint64_t r[4], const uint8_t in[32]);
void cv_sm2v_u256_to_bytes(uint8_t out[32], const uint64_t a[4]);
/* a < b as 256-bit integers. */
int cv_sm2v_u256_lt(const uint64_t a[4], const uint64_t b[4]);

#endif
