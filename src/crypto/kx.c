/* kx.c: ephemeral key exchange (kx.h): X25519 for std, ECDH on the SM2
 * curve for gm. OpenSSL 3.0 offers no key exchange for keys of type "SM2",
 * so gm keys are plain "EC" keys on the group named "SM2". */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "base/err.h"
#include "crypto/impl.h"
#include "crypto/kx.h"

#define SM2_PUB_LEN 65

size_t cv_kx_pub_len(cv_suite suite)
{
    switch (suite) {
    case CV_SUITE_STD: return crypto_scalarmult_BYTES;
    case CV_SUITE_GM: return SM2_PUB_LEN;
    }
    return 0;
}

static int openssl_fail(const char *what)
{
    ERR_clear_error();
    return cv_fail(CV_ECRYPTO, "%s", what);
}

/* ---- std: X25519 ------------------------------------------------------------ */

static int x25519_keypair(cv_kx_key *out)
{
    randombytes_buf(out->secret, sizeof out->secret);
    crypto_scalarmult_base(out->pub, out->secret);
    out->pub_len = crypto_scalarmult_BYTES;
    return CV_OK;
}

static int x25519_shared(const cv_kx_key *own, const uint8_t *peer, uint8_t out[CV_KX_SHARED_LEN])
{
    if (crypto_scalarmult(out, own->secret, peer) != 0)
        return cv_fail(CV_EINVAL, "X25519 public key of low order (degenerate shared secret)");
    return CV_OK;
}

/* ---- gm: ECDH on the SM2 curve ---------------------------------------------- */

static int sm2_keypair(cv_kx_key *out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    size_t n = 0;
    int ok = ctx && EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_CTX_set_group_name(ctx, "SM2") > 0 &&
             EVP_PKEY_keygen(ctx, &pkey) > 0 &&
             EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                            "uncompressed") > 0 &&
             EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out->pub,
                                             sizeof out->pub, &n) > 0 &&
             n == SM2_PUB_LEN;
    EVP_PKEY_CTX_free(ctx);
    if (!ok) {
        EVP_PKEY_free(pkey);
        return openssl_fail("SM2-curve key generation failed");
    }
    out->pub_len = SM2_PUB_LEN;
    out->impl = pkey;
    return CV_OK;
}

/* An "EC" public key on the SM2 curve from 04||x||y (already validated). */
static EVP_PKEY *sm2_peer_pkey(const uint8_t *pub)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pkey = NULL;
    if (bld && ctx && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, SM2_PUB_LEN) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) && EVP_PKEY_fromdata_init(ctx) > 0 &&
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static int sm2_shared(const cv_kx_key *own, const uint8_t *peer, uint8_t out[CV_KX_SHARED_LEN])
{
    int rc = cv_sm2_pub_check(peer, SM2_PUB_LEN);
    if (rc)
        return rc;
    EVP_PKEY *peer_key = sm2_peer_pkey(peer);
    EVP_PKEY_CTX *ctx = peer_key ? EVP_PKEY_CTX_new_from_pkey(NULL, own->impl, NULL) : NULL;
    size_t n = CV_KX_SHARED_LEN;
    int ok = ctx && EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_derive_set_peer(ctx, peer_key) > 0 &&
             EVP_PKEY_derive(ctx, out, &n) > 0 && n == CV_KX_SHARED_LEN;
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer_key);
    return ok ? CV_OK : openssl_fail("SM2-curve ECDH failed");
}

/* ---- the suite interface ------------------------------------------------------ */

int cv_kx_keypair(cv_suite suite, cv_kx_key *out)
{
    memset(out, 0, sizeof *out);
    out->suite = suite;
    switch (suite) {
    case CV_SUITE_STD: return x25519_keypair(out);
    case CV_SUITE_GM: return sm2_keypair(out);
    }
    return cv_fail(CV_EINVAL, "unknown crypto suite %d", (int)suite);
}

int cv_kx_shared(const cv_kx_key *own, const uint8_t *peer_pub, size_t len,
                 uint8_t out[CV_KX_SHARED_LEN])
{
    size_t want = cv_kx_pub_len(own->suite);
    if (want == 0 || own->pub_len != want)
        return cv_fail(CV_EINVAL, "key exchange with an uninitialised key");
    if (len != want)
        return cv_fail(CV_EINVAL, "a %s key-exchange public key has %zu bytes, not %zu",
                       cv_suite_name(own->suite), want, len);
    int rc = own->suite == CV_SUITE_STD ? x25519_shared(own, peer_pub, out)
                                        : sm2_shared(own, peer_pub, out);
    if (rc)
        sodium_memzero(out, CV_KX_SHARED_LEN);
    return rc;
}

void cv_kx_wipe(cv_kx_key *key)
{
    EVP_PKEY_free(key->impl);
    sodium_memzero(key, sizeof *key);
}
