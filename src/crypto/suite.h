/* suite.h: the chain's crypto suite: hashing, signatures, addresses, sealing.
 *
 * A chain names one suite in its genesis and every layer above crypto/ calls
 * these functions with that suite, never an algorithm by name:
 *   std  Ed25519 (libsodium), SHA-256 (OpenSSL), XChaCha20-Poly1305 (libsodium)
 *   gm   SM2 with SM3 and ID "1234567812345678", SM3, SM4-GCM (OpenSSL 3)
 *
 * Every function returns CV_OK or a negative cv_err (base/err.h) and records
 * a message for failures. Keys and signatures are plain values owned by the
 * caller; cv_key_wipe() must be called on every cv_keypair. */
#ifndef CV_CRYPTO_SUITE_H
#define CV_CRYPTO_SUITE_H

#include <stddef.h>
#include <stdint.h>

#include "base/pool.h"

#define CV_HASH_LEN 32
#define CV_ADDR_LEN 20
#define CV_PUB_MAX 65      /* std: 32-byte Ed25519; gm: 65-byte 04||x||y */
#define CV_SIG_MAX 72      /* std: 64 bytes; gm: DER ECDSA-Sig-Value, <= 72 */
#define CV_SECRET_LEN 32   /* std: Ed25519 seed; gm: SM2 private scalar d */
#define CV_ADDR_STR_MAX 48 /* "std:" or "gm:" + 40 hex digits + NUL */
#define CV_AEAD_TAG_LEN 16
#define CV_AEAD_KEY_MAX 32
#define CV_AEAD_NONCE_MAX 24

typedef enum { CV_SUITE_STD = 1, CV_SUITE_GM = 2 } cv_suite;

typedef struct {
    cv_suite suite;
    uint8_t len;
    uint8_t bytes[CV_PUB_MAX];
} cv_pubkey;

typedef struct {
    uint8_t len;
    uint8_t bytes[CV_SIG_MAX];
} cv_sig;

typedef struct {
    cv_suite suite;
    uint8_t secret[CV_SECRET_LEN];
    cv_pubkey pub;
    void *impl; /* library state for signing; owned, freed by cv_key_wipe */
} cv_keypair;

/* "std" / "gm" <-> cv_suite. */
int cv_suite_parse(const char *name, cv_suite *out);
const char *cv_suite_name(cv_suite suite);

/* ---- hashing ---------------------------------------------------------- */
int cv_hash(cv_suite suite, const void *data, size_t len, uint8_t out[CV_HASH_LEN]);
/* The hash of a || b, without copying them together. */
int cv_hash2(cv_suite suite, const void *a, size_t a_len, const void *b, size_t b_len,
             uint8_t out[CV_HASH_LEN]);

/* Incremental hashing; final() leaves the hasher ready for a new message. */
typedef struct {
    cv_suite suite;
    void *ctx;
} cv_hasher;
int cv_hasher_init(cv_hasher *h, cv_suite suite);
int cv_hasher_update(cv_hasher *h, const void *data, size_t len);
int cv_hasher_final(cv_hasher *h, uint8_t out[CV_HASH_LEN]);
void cv_hasher_free(cv_hasher *h);

/* ---- keys and signatures ---------------------------------------------- */
int cv_key_generate(cv_suite suite, cv_keypair *out);
/* From a 32-byte secret: the Ed25519 seed, or the SM2 scalar (1 <= d < n-1). */
int cv_key_from_secret(cv_suite suite, const uint8_t secret[CV_SECRET_LEN], cv_keypair *out);
void cv_key_wipe(cv_keypair *key);

/* Checks length and that the point is valid for the suite (for Ed25519 this
 * costs about as much as a verification: use it for keys entering a
 * registry, such as genesis or a new account). */
int cv_pubkey_parse(cv_suite suite, const uint8_t *p, size_t len, cv_pubkey *out);
/* Checks only the length and form (gm: 0x04 prefix): for keys whose every use
 * is a signature check, which rejects an invalid point anyway (a
 * transaction's sender). */
int cv_pubkey_wrap(cv_suite suite, const uint8_t *p, size_t len, cv_pubkey *out);
/* Checks length (and DER shape for gm); the value is checked by cv_verify. */
int cv_sig_parse(cv_suite suite, const uint8_t *p, size_t len, cv_sig *out);

int cv_sign(const cv_keypair *key, const void *msg, size_t len, cv_sig *out);
/* CV_OK if sig is pub's signature of msg, CV_EBADSIG if not. */
int cv_verify(const cv_pubkey *pub, const void *msg, size_t len, const cv_sig *sig);

typedef struct {
    const cv_pubkey *pub;
    const void *msg;
    size_t len;
    const cv_sig *sig;
} cv_verify_item;

/* Verifies n items, spread over pool (NULL: on the calling thread).
 * ok[i] is set to 1 for a valid signature, 0 otherwise. Returns CV_OK when
 * all are valid, CV_EBADSIG when any is not. */
int cv_verify_batch(cv_pool *pool, const cv_verify_item *items, size_t n, uint8_t *ok);

/* ---- addresses -------------------------------------------------------- */
/* First 20 bytes of the suite hash of the public key. */
int cv_address(const cv_pubkey *pub, uint8_t out[CV_ADDR_LEN]);
/* "std:<40 hex>" or "gm:<40 hex>". */
int cv_address_string(const cv_pubkey *pub, char out[CV_ADDR_STR_MAX]);
int cv_address_parse(const char *text, cv_suite *suite, uint8_t out[CV_ADDR_LEN]);

/* ---- sealed payloads (AEAD) -------------------------------------------- */
/* std: XChaCha20-Poly1305, 32-byte key, 24-byte nonce.
 * gm:  SM4-GCM, 16-byte key, 12-byte nonce. Both append a 16-byte tag.
 * Both suites work in place: out may be the same pointer as plain (seal) or
 * sealed (open); no other overlap is allowed. (libsodium's XChaCha20 pages
 * allow m == c, and its own AEAD test seals and opens XChaCha20-Poly1305 in
 * place; sm4gcm.c is written for it.) When open fails, out's contents are
 * unspecified. */
size_t cv_aead_key_len(cv_suite suite);
size_t cv_aead_nonce_len(cv_suite suite);
/* out must hold len + CV_AEAD_TAG_LEN bytes. */
int cv_aead_seal(cv_suite suite, const uint8_t *key, const uint8_t *nonce,
                 const void *ad, size_t ad_len, const void *plain, size_t len, uint8_t *out);
/* out must hold len - CV_AEAD_TAG_LEN bytes; CV_EBADSIG if authentication fails. */
int cv_aead_open(cv_suite suite, const uint8_t *key, const uint8_t *nonce,
                 const void *ad, size_t ad_len, const uint8_t *sealed, size_t len, uint8_t *out);

/* ---- misc -------------------------------------------------------------- */
void cv_random(void *out, size_t len);
/* Runs known-answer tests of both suites; CV_OK or CV_ECRYPTO naming the failure. */
int cv_crypto_selftest(void);
/* Must be called once before any other function here (initialises libsodium). */
int cv_crypto_init(void);
/* Frees global crypto state and the calling thread's cached contexts. */
void cv_crypto_cleanup(void);

#endif
