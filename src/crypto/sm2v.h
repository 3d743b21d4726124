/* sm2v.h: fast SM2 signature verification for the gm suite.
 *
 * Gives exactly OpenSSL 3.0's answers (the same DER acceptance, range
 * checks and final comparison, see sm2v.c) at several times its speed:
 * field arithmetic specialised to the SM2 prime, precomputed tables for G,
 * per-key tables for P, and one joint multiplication s*G + t*P. Signing
 * stays in OpenSSL. Verification handles only public data, so the code is
 * variable-time.
 *
 * The distinguishing ID is the standard default "1234567812345678". */
#ifndef CV_CRYPTO_SM2V_H
#define CV_CRYPTO_SM2V_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sm2_curve.h"

#define CV_SM2V_PUB_LEN 65 /* 04 || x || y */

/* A decoded, validated public key with its precomputation. Plain value
 * (about 4 KiB); its fields are private to sm2v.c. */
typedef struct {
    uint8_t z[32];            /* SM3(ENTL || ID || a || b || xG || yG || xA || yA) */
    cv_sm2v_pub_table table;  /* odd multiples of 2^(32j) * P */
} cv_sm2v_pub;

/* Decodes and validates 04 || x || y: x, y < p and on the curve (the
 * cofactor is 1, so that suffices). CV_EINVAL naming the fault, or
 * CV_ECRYPTO if SM3 is unavailable. */
int cv_sm2v_pub_load(cv_sm2v_pub *out, const uint8_t pub[CV_SM2V_PUB_LEN]);

/* Verifies a DER ECDSA-Sig-Value over e = SM3(Z || M). CV_OK or CV_EBADSIG. */
int cv_sm2v_verify_digest(const cv_sm2v_pub *pub, const uint8_t e[32], const uint8_t *der,
                          size_t der_len);

/* The gm suite's verification: pub is 04 || x || y, msg the signed message.
 * Decoded keys are kept in a bounded cache shared by all threads. Returns
 * CV_OK, CV_EBADSIG (also for an invalid public key) or CV_ECRYPTO. */
int cv_sm2v_verify(const uint8_t pub[CV_SM2V_PUB_LEN], const void *msg, size_t len,
                   const uint8_t *der, size_t der_len);

#endif
