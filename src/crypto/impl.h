/* impl.h: the per-algorithm functions behind suite.h; only crypto/ includes it. */
#ifndef CV_CRYPTO_IMPL_H
#define CV_CRYPTO_IMPL_H

#include <openssl/evp.h>

#include "crypto/suite.h"

/* Digests fetched once by cv_crypto_init (explicit fetches are faster). */
const EVP_MD *cv_md_sha256(void);
const EVP_MD *cv_md_sm3(void);
/* Frees the calling thread's reused hash context. */
void cv_hash_thread_cleanup(void);

/* Ed25519 (libsodium). */
int cv_ed25519_from_secret(const uint8_t seed[32], cv_keypair *out);
int cv_ed25519_pub_check(const uint8_t *p, size_t len);
int cv_ed25519_sign(const cv_keypair *key, const void *msg, size_t len, cv_sig *out);
int cv_ed25519_verify(const cv_pubkey *pub, const void *msg, size_t len, const cv_sig *sig);

/* SM2 with SM3 and the default ID (OpenSSL 3). */
int cv_sm2_init(void);
void cv_sm2_cleanup(void);
int cv_sm2_from_secret(const uint8_t d[32], cv_keypair *out);
int cv_sm2_pub_check(const uint8_t *p, size_t len);
int cv_sm2_sig_check(const uint8_t *p, size_t len);
int cv_sm2_sign(const cv_keypair *key, const void *msg, size_t len, cv_sig *out);
int cv_sm2_verify(const cv_pubkey *pub, const void *msg, size_t len, const cv_sig *sig);
/* The EVP_PKEY of a public key (new reference; the caller frees it). */
int cv_sm2_pub_pkey(const uint8_t pub[65], EVP_PKEY **out);
/* The private scalar d is in [1, n-2]. */
int cv_sm2_secret_check(const uint8_t d[32]);

/* SM4-GCM (GB/T 36624; RFC 8998), 16-byte key, 12-byte nonce, 16-byte tag. */
int cv_sm4gcm_seal(const uint8_t key[16], const uint8_t nonce[12], const void *ad, size_t ad_len,
                   const void *plain, size_t len, uint8_t *out);
int cv_sm4gcm_open(const uint8_t key[16], const uint8_t nonce[12], const void *ad, size_t ad_len,
                   const uint8_t *sealed, size_t len, uint8_t *out);

#endif
