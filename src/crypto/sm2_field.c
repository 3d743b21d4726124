/* sm2_field.c: the slower, rarely used SM2 field operations (conversions and
 * inversion) behind sm2_field.h. Variable-time: public data only. */
#include "crypto/sm2_field.h"

/* 2^512 mod p: multiplying by it in Montgomery form converts into the form. */
static const cv_sm2v_fe sm2_fe_r2 = {{0x200000003u, 0x2ffffffffu, 0x100000001u, 0x400000002u}};

void cv_sm2v_u256_from_bytes(uint64_t r[4], const uint8_t in[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t limb = 0;
        for (int j = 0; j < 8; j++)
            limb = (limb << 8) | in[(3 - i) * 8 + j];
        r[i] = limb;
    }
}

void cv_sm2v_u256_to_bytes(uint8_t out[32], const uint64_t a[4])
{
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            out[(3 - i) * 8 + j] = (uint8_t)(a[i] >> (56 - 8 * j));
}

int cv_sm2v_u256_lt(const uint64_t a[4], const uint64_t b[4])
{
    for (int i = 3; i >= 0; i--)
        if (a[i] != b[i])
            return a[i] < b[i];
    return 0;
}

void cv_sm2v_fe_from_int(cv_sm2v_fe *r, const uint64_t a[4])
{
    cv_sm2v_fe plain = {{a[0], a[1], a[2], a[3]}};
    sm2_fe_mul(r, &plain, &sm2_fe_r2);
}

int cv_sm2v_fe_from_bytes(cv_sm2v_fe *r, const uint8_t in[32])
{
    uint64_t a[4];
    cv_sm2v_u256_from_bytes(a, in);
    if (!cv_sm2v_u256_lt(a, sm2_fe_p.v))
        return 0;
    cv_sm2v_fe_from_int(r, a);
    return 1;
}

void cv_sm2v_fe_to_bytes(uint8_t out[32], const cv_sm2v_fe *a)
{
    static const cv_sm2v_fe plain_one = {{1, 0, 0, 0}};
    cv_sm2v_fe v;
    sm2_fe_mul(&v, a, &plain_one);
    cv_sm2v_u256_to_bytes(out, v.v);
}

/* a^(p-2) by fixed 4-bit windows over the exponent, most significant first. */
void cv_sm2v_fe_inv(cv_sm2v_fe *r, const cv_sm2v_fe *a)
{
    static const uint64_t p_minus_2[4] = {0xfffffffffffffffdu, 0xffffffff00000000u,
                                          0xffffffffffffffffu, 0xfffffffeffffffffu};
    cv_sm2v_fe pow[16];
    pow[0] = sm2_fe_one;
    for (int i = 1; i < 16; i++)
        sm2_fe_mul(&pow[i], &pow[i - 1], a);
    cv_sm2v_fe acc = sm2_fe_one;
    for (int nibble = 63; nibble >= 0; nibble--) {
        for (int k = 0; k < 4; k++)
            sm2_fe_sqr(&acc, &acc);
        unsigned digit = (unsigned)(p_minus_2[nibble / 16] >> (4 * (nibble % 16))) & 15;
        sm2_fe_mul(&acc, &acc, &pow[digit]);
    }
    *r = acc;
}
