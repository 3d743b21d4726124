/* kx.c: ephemeral key exchange (kx.h): X25519 for std, ECDH on the SM2
 * curve for gm. OpenSSL 3.0 offers no key exchange for keys of type "SM2"
 * and refuses to import SM2-curve points as "EC" keys, so gm uses the
 * EC_POINT arithmetic directly. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
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

/* The SM2 group, its generator and points; a fresh group per call keeps
 * this file free of global state (handshakes are rare). Single-point
 * multiplication in OpenSSL is the constant-time Montgomery ladder. */
static int sm2_mul(const uint8_t d[32], const uint8_t *point, uint8_t *out, size_t out_len)
{
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_sm2);
    BN_CTX *bn = BN_CTX_secure_new();
    BIGNUM *k = BN_secure_new();
    EC_POINT *q = group ? EC_POINT_new(group) : NULL, *r = group ? EC_POINT_new(group) : NULL;
    int ok = group && bn && k && q && r && BN_bin2bn(d, 32, k);
    if (ok) {
        BN_set_flags(k, BN_FLG_CONSTTIME);
        if (point)
            ok = EC_POINT_oct2point(group, q, point, SM2_PUB_LEN, bn) &&
                 EC_POINT_mul(group, r, NULL, q, k, bn);
        else
            ok = EC_POINT_mul(group, r, k, NULL, NULL, bn);
    }
    ok = ok && !EC_POINT_is_at_infinity(group, r);
    if (ok && point) {
        BIGNUM *x = BN_secure_new();
        ok = x && EC_POINT_get_affine_coordinates(group, r, x, NULL, bn) &&
             BN_bn2binpad(x, out, (int)out_len) == (int)out_len;
        BN_clear_free(x);
    } else if (ok)
        ok = EC_POINT_point2oct(group, r, POINT_CONVERSION_UNCOMPRESSED, out, out_len, bn) == out_len;
    EC_POINT_free(q);
    EC_POINT_clear_free(r);
    BN_clear_free(k);
    BN_CTX_free(bn);
    EC_GROUP_free(group);
    ERR_clear_error();
    return ok;
}

static int sm2_keypair(cv_kx_key *out)
{
    do
        cv_random(out->secret, sizeof out->secret);
    while (cv_sm2_secret_check(out->secret) != CV_OK);
    if (!sm2_mul(out->secret, NULL, out->pub, SM2_PUB_LEN))
        return cv_fail(CV_ECRYPTO, "SM2-curve key generation failed");
    out->pub_len = SM2_PUB_LEN;
    return CV_OK;
}

static int sm2_shared(const cv_kx_key *own, const uint8_t *peer, uint8_t out[CV_KX_SHARED_LEN])
{
    int rc = cv_sm2_pub_check(peer, SM2_PUB_LEN);
    if (rc)
        return rc;
    if (!sm2_mul(own->secret, peer, out, CV_KX_SHARED_LEN))
        return cv_fail(CV_ECRYPTO, "SM2-curve ECDH failed");
    return CV_OK;
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
    sodium_memzero(key, sizeof *key);
}
