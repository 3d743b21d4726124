/* sm2_curve.h: SM2 curve points for the fast verifier (sm2v.c): decoding and
 * validation, per-key precomputed tables, and the joint multiplication
 * s*G + t*P that verification needs.
 *
 * y^2 = x^3 - 3x + b over the SM2 prime; the group has prime order n and
 * cofactor 1. Points are affine or Jacobian (x = X/Z^2, y = Y/Z^3) with
 * coordinates in Montgomery form (sm2_field.h). Everything here is
 * variable-time and meant for public data only.
 *
 * Scalars are split into eight 32-bit chunks, s = sum s_j * 2^(32j), and
 * each chunk, written in width-w NAF, is multiplied with a table of odd
 * multiples of 2^(32j) * G (or P), so the joint multiplication s*G + t*P
 * needs only 32 doublings, shared by all sixteen chunks. The tables cost
 * 32 KiB for G (built once) and 4 KiB for each public key. */
#ifndef CV_CRYPTO_SM2_CURVE_H
#define CV_CRYPTO_SM2_CURVE_H

#include <stdint.h>

#include "crypto/sm2_field.h"

#define CV_SM2V_CHUNKS 8      /* scalars in 8 chunks of 32 bits */
#define CV_SM2V_PUB_WINDOW 5 /* wNAF width for public keys: 8 odd multiples a chunk */
#define CV_SM2V_PUB_ODD (1 << (CV_SM2V_PUB_WINDOW - 2))

typedef struct {
    cv_sm2v_fe x, y;
} cv_sm2v_affine;

typedef struct {
    cv_sm2v_fe x, y, z;
    int inf; /* the point at infinity (x, y, z are then meaningless) */
} cv_sm2v_jac;

/* A public key's precomputation: odd[j][i] = (2i + 1) * 2^(32j) * P. */
typedef struct {
    cv_sm2v_affine odd[CV_SM2V_CHUNKS][CV_SM2V_PUB_ODD];
} cv_sm2v_pub_table;

/* The curve coefficients a, b and base point xG, yG as 4 x 32 big-endian
 * bytes, in the order they enter the SM2 Z value. */
extern const uint8_t cv_sm2v_curve_abg[128];

/* Decodes big-endian x || y. Returns 1 when both are below p and the point
 * is on the curve (so not the point at infinity), else 0. */
int cv_sm2v_point_decode(cv_sm2v_affine *out, const uint8_t xy[64]);

/* Fills the table for the valid point p. */
void cv_sm2v_pub_table_build(cv_sm2v_pub_table *out, const cv_sm2v_affine *p);

/* out = s*G + t*P for 256-bit s, t (little-endian limbs) and P's table.
 * Returns 0 when the result is the point at infinity, else 1. */
int cv_sm2v_mul_base_pub(cv_sm2v_jac *out, const uint64_t s[4], const cv_sm2v_pub_table *pub,
                         const uint64_t t[4]);

/* 1 when the affine x of the finite point q equals the integer x (< p). */
int cv_sm2v_jac_x_equals(const cv_sm2v_jac *q, const uint64_t x[4]);

#endif
