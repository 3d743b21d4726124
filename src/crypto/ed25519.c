/* ed25519.c: the std suite's signatures, Ed25519 from libsodium.
 *
 * A keypair keeps the 32-byte seed; libsodium's 64-byte secret key
 * (seed || public key) is assembled on the stack for each signature and
 * wiped afterwards. libsodium's verify rejects non-canonical S values and
 * small-order public keys and R points. */
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "crypto/impl.h"

int cv_ed25519_from_secret(const uint8_t seed[32], cv_keypair *out)
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    memset(out, 0, sizeof *out);
    out->suite = CV_SUITE_STD;
    if (crypto_sign_seed_keypair(out->pub.bytes, sk, seed) != 0)
        return cv_fail(CV_ECRYPTO, "Ed25519 key derivation failed");
    sodium_memzero(sk, sizeof sk);
    memcpy(out->secret, seed, 32);
    out->pub.suite = CV_SUITE_STD;
    out->pub.len = crypto_sign_PUBLICKEYBYTES;
    return CV_OK;
}

int cv_ed25519_pub_check(const uint8_t *p, size_t len)
{
    if (len != crypto_sign_PUBLICKEYBYTES)
        return cv_fail(CV_EINVAL, "an Ed25519 public key has 32 bytes, not %zu", len);
    if (!crypto_core_ed25519_is_valid_point(p))
        return cv_fail(CV_EINVAL, "not a valid Ed25519 public key (off the curve or small order)");
    return CV_OK;
}

int cv_ed25519_sign(const cv_keypair *key, const void *msg, size_t len, cv_sig *out)
{
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    memcpy(sk, key->secret, 32);
    memcpy(sk + 32, key->pub.bytes, 32);
    int rc = crypto_sign_detached(out->bytes, NULL, msg, len, sk);
    sodium_memzero(sk, sizeof sk);
    if (rc != 0)
        return cv_fail(CV_ECRYPTO, "Ed25519 signing failed");
    out->len = crypto_sign_BYTES;
    return CV_OK;
}

int cv_ed25519_verify(const cv_pubkey *pub, const void *msg, size_t len, const cv_sig *sig)
{
    if (pub->len != crypto_sign_PUBLICKEYBYTES || sig->len != crypto_sign_BYTES)
        return cv_fail(CV_EBADSIG, "Ed25519 key or signature has the wrong length");
    if (crypto_sign_verify_detached(sig->bytes, msg, len, pub->bytes) != 0)
        return cv_fail(CV_EBADSIG, "Ed25519 signature does not verify");
    return CV_OK;
}
