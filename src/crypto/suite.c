/* suite.c: the crypto suite interface (suite.h) dispatched to its algorithms.
 *
 * Everything above crypto/ goes through here, so a chain's choice of suite
 * is made in one place: std (Ed25519, SHA-256, XChaCha20-Poly1305) or gm
 * (SM2, SM3, SM4-GCM). */
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <sodium.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/impl.h"
#include "crypto/sm4gcm_internal.h"

static EVP_MD *md_sha256, *md_sm3;

const EVP_MD *cv_md_sha256(void) { return md_sha256; }
const EVP_MD *cv_md_sm3(void) { return md_sm3; }

int cv_crypto_init(void)
{
    if (sodium_init() < 0)
        return cv_fail(CV_ECRYPTO, "libsodium failed to initialise");
    if (!md_sha256)
        md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!md_sm3)
        md_sm3 = EVP_MD_fetch(NULL, "SM3", NULL);
    if (!md_sha256 || !md_sm3)
        return cv_fail(CV_ECRYPTO, "OpenSSL lacks SHA-256 or SM3");
    int rc = cv_sm4gcm_init();
    return rc ? rc : cv_sm2_init();
}

void cv_crypto_cleanup(void)
{
    cv_hash_thread_cleanup();
    cv_sm2_cleanup();
    cv_sm4gcm_cleanup();
    EVP_MD_free(md_sha256);
    EVP_MD_free(md_sm3);
    md_sha256 = md_sm3 = NULL;
}

int cv_suite_parse(const char *name, cv_suite *out)
{
    if (strcmp(name, "std") == 0)
        *out = CV_SUITE_STD;
    else if (strcmp(name, "gm") == 0)
        *out = CV_SUITE_GM;
    else
        return cv_fail(CV_EINVAL, "unknown crypto suite \"%s\" (expected std or gm)", name);
    return CV_OK;
}

const char *cv_suite_name(cv_suite suite)
{
    switch (suite) {
    case CV_SUITE_STD: return "std";
    case CV_SUITE_GM: return "gm";
    }
    return "unknown";
}

static int check_suite(cv_suite suite)
{
    if (suite != CV_SUITE_STD && suite != CV_SUITE_GM)
        return cv_fail(CV_EINVAL, "unknown crypto suite %d", (int)suite);
    return CV_OK;
}

void cv_random(void *out, size_t len)
{
    randombytes_buf(out, len);
}

/* ---- keys ---------------------------------------------------------------- */

int cv_key_from_secret(cv_suite suite, const uint8_t secret[CV_SECRET_LEN], cv_keypair *out)
{
    int rc = check_suite(suite);
    if (rc)
        return rc;
    rc = suite == CV_SUITE_STD ? cv_ed25519_from_secret(secret, out) : cv_sm2_from_secret(secret, out);
    if (rc)
        cv_key_wipe(out);
    return rc;
}

int cv_key_generate(cv_suite suite, cv_keypair *out)
{
    uint8_t secret[CV_SECRET_LEN];
    int rc = check_suite(suite);
    if (rc)
        return rc;
    do
        cv_random(secret, sizeof secret);
    while (suite == CV_SUITE_GM && cv_sm2_secret_check(secret) != CV_OK);
    rc = cv_key_from_secret(suite, secret, out);
    sodium_memzero(secret, sizeof secret);
    return rc;
}

void cv_key_wipe(cv_keypair *key)
{
    if (key->impl)
        EVP_PKEY_free(key->impl);
    sodium_memzero(key, sizeof *key);
}

int cv_pubkey_wrap(cv_suite suite, const uint8_t *p, size_t len, cv_pubkey *out)
{
    int rc = check_suite(suite);
    if (rc)
        return rc;
    if (suite == CV_SUITE_STD && len != 32)
        return cv_fail(CV_EINVAL, "an Ed25519 public key has 32 bytes, not %zu", len);
    if (suite == CV_SUITE_GM && (len != 65 || p[0] != 0x04))
        return cv_fail(CV_EINVAL, "an SM2 public key is 65 bytes 04||x||y (got %zu bytes)", len);
    memset(out, 0, sizeof *out);
    out->suite = suite;
    out->len = (uint8_t)len;
    memcpy(out->bytes, p, len);
    return CV_OK;
}

int cv_pubkey_parse(cv_suite suite, const uint8_t *p, size_t len, cv_pubkey *out)
{
    int rc = check_suite(suite);
    if (rc)
        return rc;
    rc = suite == CV_SUITE_STD ? cv_ed25519_pub_check(p, len) : cv_sm2_pub_check(p, len);
    return rc ? rc : cv_pubkey_wrap(suite, p, len, out);
}

int cv_sig_parse(cv_suite suite, const uint8_t *p, size_t len, cv_sig *out)
{
    int rc = check_suite(suite);
    if (rc)
        return rc;
    if (suite == CV_SUITE_STD && len != crypto_sign_BYTES)
        return cv_fail(CV_EINVAL, "an Ed25519 signature has 64 bytes, not %zu", len);
    if (suite == CV_SUITE_GM && (rc = cv_sm2_sig_check(p, len)))
        return rc;
    memset(out, 0, sizeof *out);
    out->len = (uint8_t)len;
    memcpy(out->bytes, p, len);
    return CV_OK;
}

/* ---- signatures ------------------------------------------------------------ */

int cv_sign(const cv_keypair *key, const void *msg, size_t len, cv_sig *out)
{
    int rc = check_suite(key->suite);
    if (rc)
        return rc;
    return key->suite == CV_SUITE_STD ? cv_ed25519_sign(key, msg, len, out)
                                      : cv_sm2_sign(key, msg, len, out);
}

int cv_verify(const cv_pubkey *pub, const void *msg, size_t len, const cv_sig *sig)
{
    switch (pub->suite) {
    case CV_SUITE_STD: return cv_ed25519_verify(pub, msg, len, sig);
    case CV_SUITE_GM: return cv_sm2_verify(pub, msg, len, sig);
    }
    return cv_fail(CV_EBADSIG, "public key of unknown suite %d", (int)pub->suite);
}

typedef struct {
    const cv_verify_item *items;
    uint8_t *ok;
} batch_job;

static void verify_one(void *arg, size_t i)
{
    batch_job *job = arg;
    const cv_verify_item *it = &job->items[i];
    job->ok[i] = cv_verify(it->pub, it->msg, it->len, it->sig) == CV_OK;
}

int cv_verify_batch(cv_pool *pool, const cv_verify_item *items, size_t n, uint8_t *ok)
{
    batch_job job = {items, ok};
    if (pool)
        cv_pool_run(pool, n, verify_one, &job);
    else
        for (size_t i = 0; i < n; i++)
            verify_one(&job, i);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !ok[i];
    return bad ? cv_fail(CV_EBADSIG, "%zu of %zu signatures do not verify", bad, n) : CV_OK;
}

/* ---- addresses -------------------------------------------------------------- */

int cv_address(const cv_pubkey *pub, uint8_t out[CV_ADDR_LEN])
{
    uint8_t h[CV_HASH_LEN];
    int rc = cv_hash(pub->suite, pub->bytes, pub->len, h);
    if (rc)
        return rc;
    memcpy(out, h, CV_ADDR_LEN);
    return CV_OK;
}

int cv_address_string(const cv_pubkey *pub, char out[CV_ADDR_STR_MAX])
{
    uint8_t a[CV_ADDR_LEN];
    int rc = cv_address(pub, a);
    if (rc)
        return rc;
    size_t n = strlen(cv_suite_name(pub->suite));
    memcpy(out, cv_suite_name(pub->suite), n);
    out[n] = ':';
    cv_hex_encode(a, CV_ADDR_LEN, out + n + 1);
    return CV_OK;
}

int cv_address_parse(const char *text, cv_suite *suite, uint8_t out[CV_ADDR_LEN])
{
    const char *colon = strchr(text, ':');
    char name[8];
    if (!colon || (size_t)(colon - text) >= sizeof name)
        return cv_fail(CV_EINVAL, "address \"%.60s\" lacks a suite prefix (std: or gm:)", text);
    memcpy(name, text, (size_t)(colon - text));
    name[colon - text] = '\0';
    int rc = cv_suite_parse(name, suite);
    if (rc)
        return rc;
    if (cv_hex_decode(colon + 1, out, CV_ADDR_LEN))
        return cv_fail(CV_EINVAL, "address \"%.60s\" needs 40 hex digits after the prefix", text);
    return CV_OK;
}

/* ---- sealed payloads -------------------------------------------------------- */

size_t cv_aead_key_len(cv_suite suite)
{
    return suite == CV_SUITE_GM ? 16 : crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
}

size_t cv_aead_nonce_len(cv_suite suite)
{
    return suite == CV_SUITE_GM ? 12 : crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
}

int cv_aead_seal(cv_suite suite, const uint8_t *key, const uint8_t *nonce, const void *ad,
                 size_t ad_len, const void *plain, size_t len, uint8_t *out)
{
    int rc = check_suite(suite);
    if (rc)
        return rc;
    if (suite == CV_SUITE_GM)
        return cv_sm4gcm_seal(key, nonce, ad, ad_len, plain, len, out);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out, NULL, plain, len, ad, ad_len, NULL, nonce, key);
    return CV_OK;
}

int cv_aead_open(cv_suite suite, const uint8_t *key, const uint8_t *nonce, const void *ad,
                 size_t ad_len, const uint8_t *sealed, size_t len, uint8_t *out)
{
    int rc = check_suite(suite);
    if (rc)
        return rc;
    if (suite == CV_SUITE_GM)
        return cv_sm4gcm_open(key, nonce, ad, ad_len, sealed, len, out);
    if (len < CV_AEAD_TAG_LEN)
        return cv_fail(CV_EINVAL, "sealed payload shorter than its tag");
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, sealed, len, ad, ad_len, nonce,
                                                   key) != 0)
        return cv_fail(CV_EBADSIG, "XChaCha20-Poly1305 authentication failed (wrong key or altered data)");
    return CV_OK;
}
