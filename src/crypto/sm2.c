/* sm2.c: the gm suite's signatures, SM2 with SM3 through OpenSSL 3.
 *
 * Two OpenSSL 3.0 pitfalls are handled here (see shared/NOTES.md):
 *  - the distinguishing ID defaults to empty; the standard default
 *    "1234567812345678" is set explicitly for signing (and sm2v.c uses it
 *    for verifying);
 *  - a digest context re-initialised with another key keeps the old key, so
 *    every signature and verification uses a fresh EVP_MD_CTX/EVP_PKEY_CTX. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "base/err.h"
#include "crypto/impl.h"
#include "crypto/sm2v.h"

#define SM2_DEFAULT_ID "1234567812345678"
#define SM2_PUB_LEN 65

static EC_GROUP *sm2_group;

int cv_sm2_init(void)
{
    if (!sm2_group)
        sm2_group = EC_GROUP_new_by_curve_name(NID_sm2);
    return sm2_group ? CV_OK : cv_fail(CV_ECRYPTO, "OpenSSL has no SM2 curve");
}

void cv_sm2_cleanup(void)
{
    EC_GROUP_free(sm2_group);
    sm2_group = NULL;
}

static int openssl_fail(int code, const char *what)
{
    unsigned long e = ERR_get_error();
    char detail[256] = "";
    if (e)
        ERR_error_string_n(e, detail, sizeof detail);
    ERR_clear_error();
    return cv_fail(code, "%s%s%s", what, detail[0] ? ": " : "", detail);
}

int cv_sm2_secret_check(const uint8_t d[32])
{
    BIGNUM *bn = BN_bin2bn(d, 32, NULL);
    BIGNUM *limit = BN_dup(EC_GROUP_get0_order(sm2_group));
    int ok = bn && limit && BN_sub_word(limit, 1) && !BN_is_zero(bn) && BN_cmp(bn, limit) < 0;
    BN_free(limit);
    BN_clear_free(bn);
    return ok ? CV_OK : cv_fail(CV_EINVAL, "SM2 private key out of range [1, n-2]");
}

/* An EVP_PKEY for the SM2 point pub and, when d is given, its private key. */
static int make_pkey(const uint8_t pub[SM2_PUB_LEN], const uint8_t *d, EVP_PKEY **out)
{
    int rc = CV_ECRYPTO;
    BIGNUM *priv = d ? BN_bin2bn(d, 32, NULL) : NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    *out = NULL;
    if (!bld || (d && !priv) ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, SM2_PUB_LEN) ||
        (priv && !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)))
        goto done;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    if (params && ctx && EVP_PKEY_fromdata_init(ctx) > 0 &&
        EVP_PKEY_fromdata(ctx, out, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) > 0)
        rc = CV_OK;
done:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(priv);
    return rc == CV_OK ? CV_OK : openssl_fail(CV_ECRYPTO, "cannot build an SM2 key");
}

int cv_sm2_pub_pkey(const uint8_t pub[65], EVP_PKEY **out)
{
    return make_pkey(pub, NULL, out);
}

int cv_sm2_from_secret(const uint8_t d[32], cv_keypair *out)
{
    memset(out, 0, sizeof *out);
    int rc = cv_sm2_secret_check(d);
    if (rc)
        return rc;
    BIGNUM *bn = BN_bin2bn(d, 32, NULL);
    EC_POINT *pt = EC_POINT_new(sm2_group);
    size_t n = 0;
    if (bn && pt && EC_POINT_mul(sm2_group, pt, bn, NULL, NULL, NULL))
        n = EC_POINT_point2oct(sm2_group, pt, POINT_CONVERSION_UNCOMPRESSED, out->pub.bytes,
                               SM2_PUB_LEN, NULL);
    EC_POINT_free(pt);
    BN_clear_free(bn);
    if (n != SM2_PUB_LEN)
        return openssl_fail(CV_ECRYPTO, "SM2 public key derivation failed");
    out->suite = CV_SUITE_GM;
    out->pub.suite = CV_SUITE_GM;
    out->pub.len = SM2_PUB_LEN;
    memcpy(out->secret, d, 32);
    EVP_PKEY *pkey = NULL;
    if ((rc = make_pkey(out->pub.bytes, d, &pkey)))
        return rc;
    out->impl = pkey;
    return CV_OK;
}

int cv_sm2_pub_check(const uint8_t *p, size_t len)
{
    if (len != SM2_PUB_LEN || p[0] != 0x04)
        return cv_fail(CV_EINVAL, "an SM2 public key is 65 bytes 04||x||y (got %zu bytes)", len);
    EC_POINT *pt = EC_POINT_new(sm2_group);
    int ok = pt && EC_POINT_oct2point(sm2_group, pt, p, len, NULL) &&
             !EC_POINT_is_at_infinity(sm2_group, pt);
    EC_POINT_free(pt);
    ERR_clear_error();
    return ok ? CV_OK : cv_fail(CV_EINVAL, "not a valid SM2 public key (point not on the curve)");
}

int cv_sm2_sig_check(const uint8_t *p, size_t len)
{
    if (len < 8 || len > CV_SIG_MAX)
        return cv_fail(CV_EINVAL, "an SM2 signature is 8 to 72 DER bytes (got %zu)", len);
    const unsigned char *q = p;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &q, (long)len);
    unsigned char *der = NULL;
    int der_len = sig ? i2d_ECDSA_SIG(sig, &der) : -1;
    int ok = der_len == (int)len && memcmp(der, p, len) == 0;
    OPENSSL_free(der);
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return ok ? CV_OK : cv_fail(CV_EINVAL, "SM2 signature is not canonical DER (r, s)");
}

/* A fresh signing context bound to pkey with the standard SM2 ID. */
static EVP_MD_CTX *new_sm2_sign_ctx(EVP_PKEY *pkey)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = mctx && pctx && EVP_PKEY_CTX_set1_id(pctx, SM2_DEFAULT_ID, 16) > 0;
    if (ok) {
        EVP_MD_CTX_set_pkey_ctx(mctx, pctx);
        ok = EVP_DigestSignInit(mctx, NULL, cv_md_sm3(), NULL, pkey) > 0;
    }
    if (!ok) {
        EVP_MD_CTX_free(mctx);
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }
    return mctx;
}

/* Frees a context from new_sm2_sign_ctx, including the EVP_PKEY_CTX it holds
 * (EVP_MD_CTX_set_pkey_ctx does not take ownership). */
static void free_sm2_md_ctx(EVP_MD_CTX *mctx)
{
    EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(mctx);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(pctx);
}

int cv_sm2_sign(const cv_keypair *key, const void *msg, size_t len, cv_sig *out)
{
    EVP_MD_CTX *mctx = new_sm2_sign_ctx(key->impl);
    size_t sig_len = CV_SIG_MAX;
    int ok = mctx && EVP_DigestSign(mctx, out->bytes, &sig_len, msg, len) > 0;
    if (mctx)
        free_sm2_md_ctx(mctx);
    if (!ok)
        return openssl_fail(CV_ECRYPTO, "SM2 signing failed");
    out->len = (uint8_t)sig_len;
    return CV_OK;
}

/* Verification runs in sm2v.c (specialised field and curve arithmetic, about
 * ten times OpenSSL 3.0's generic code); it answers exactly as OpenSSL does,
 * which its differential tests check against sm2v_ref.c. */
int cv_sm2_verify(const cv_pubkey *pub, const void *msg, size_t len, const cv_sig *sig)
{
    if (pub->len != SM2_PUB_LEN)
        return cv_fail(CV_EBADSIG, "SM2 public key is not 65 bytes 04||x||y");
    return cv_sm2v_verify(pub->bytes, msg, len, sig->bytes, sig->len);
}
