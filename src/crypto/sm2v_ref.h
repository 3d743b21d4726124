/* sm2v_ref.h: OpenSSL 3.0's SM2 answers, the reference that the fast
 * verifier (sm2v.h) must match exactly. The differential test, the fuzz
 * target and the benchmark call these; nothing on the node's path does.
 *
 * Every verification and signature uses a fresh EVP_MD_CTX and
 * EVP_PKEY_CTX with the ID "1234567812345678" (shared/NOTES.md: a reused
 * context keeps its old key). A public key whose first byte is not 04 is
 * rejected before OpenSSL sees it: that is the platform's key format
 * (suite.h), while OpenSSL alone would also take the hybrid forms 06/07. */
#ifndef CV_CRYPTO_SM2V_REF_H
#define CV_CRYPTO_SM2V_REF_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* The EVP_PKEY of 04 || x || y, with the private scalar d (32 big-endian
 * bytes) when d is not NULL. CV_EINVAL if OpenSSL refuses the key. The
 * caller frees *out with EVP_PKEY_free. */
int cv_sm2v_ref_key(const uint8_t pub[65], const uint8_t *d, EVP_PKEY **out);

/* OpenSSL's DER signature of msg; sig holds at least 72 bytes. */
int cv_sm2v_ref_sign(EVP_PKEY *key, const void *msg, size_t len, uint8_t *sig, size_t *sig_len);

/* CV_OK when OpenSSL accepts sig for msg under key, else CV_EBADSIG. */
int cv_sm2v_ref_verify_key(EVP_PKEY *key, const void *msg, size_t len, const uint8_t *sig,
                           size_t sig_len);

/* The same from the key's 65 bytes (built for the call). */
int cv_sm2v_ref_verify(const uint8_t pub[65], const void *msg, size_t len, const uint8_t *sig,
                       size_t sig_len);

/* CV_OK when OpenSSL accepts sig for the digest e = SM3(Z || M) (EVP_PKEY_verify). */
int cv_sm2v_ref_verify_digest(const uint8_t pub[65], const uint8_t e[32], const uint8_t *sig,
                              size_t sig_len);

#endif
