/* kdf.h: key derivation over the suite hash: HKDF (RFC 5869).
 *
 * std uses HKDF-SHA-256, gm HKDF-SM3 (the same construction with SM3 as the
 * HMAC hash), both through OpenSSL 3's EVP_KDF "HKDF". */
#ifndef CV_CRYPTO_KDF_H
#define CV_CRYPTO_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/suite.h"

#define CV_KDF_OUT_MAX (255 * CV_HASH_LEN) /* RFC 5869: L <= 255 * HashLen */

/* Extract-then-expand: out_len bytes from the input keying material ikm,
 * the salt (may be empty) and the context info (may be empty). */
int cv_kdf_hkdf(cv_suite suite, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                size_t ikm_len, const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

#endif
