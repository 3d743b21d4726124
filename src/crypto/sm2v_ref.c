/* sm2v_ref.c: OpenSSL 3.0's SM2 signing and verification, the reference
 * for the fast verifier's tests and benchmark (see sm2v_ref.h). */
#include "crypto/sm2v_ref.h"

#include <pthread.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "base/err.h"

#define SM2_DEFAULT_ID "1234567812345678"

static pthread_once_t sm3_once = PTHREAD_ONCE_INIT;
static EVP_MD *sm3_md; /* fetched once: explicit fetches are faster */

static void fetch_sm3(void)
{
    sm3_md = EVP_MD_fetch(NULL, "SM3", NULL);
}

static int fail_openssl(int code, const char *what)
{
    ERR_clear_error();
    return cv_fail(code, "%s", what);
}

int cv_sm2v_ref_key(const uint8_t pub[65], const uint8_t *d, EVP_PKEY **out)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL);
    BIGNUM *priv = d ? BN_bin2bn(d, 32, NULL) : NULL;
    *out = NULL;
    int ok = bld && ctx && (!d || priv) &&
             OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "SM2", 0) &&
             OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65) &&
             (!priv || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)) &&
             (params = OSSL_PARAM_BLD_to_param(bld)) && EVP_PKEY_fromdata_init(ctx) > 0 &&
             EVP_PKEY_fromdata(ctx, out, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                               params) > 0;
    if (!ok) {
        EVP_PKEY_free(*out);
        *out = NULL;
    }
    BN_clear_free(priv);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    return ok ? CV_OK : fail_openssl(CV_EINVAL, "OpenSSL refuses the SM2 key");
}

/* A fresh digest context for key with the standard ID, to sign or verify. */
static EVP_MD_CTX *new_md_ctx(EVP_PKEY *key, int sign)
{
    pthread_once(&sm3_once, fetch_sm3);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    int ok = sm3_md && mctx && pctx && EVP_PKEY_CTX_set1_id(pctx, SM2_DEFAULT_ID, 16) > 0;
    if (ok) {
        EVP_MD_CTX_set_pkey_ctx(mctx, pctx);
        ok = sign ? EVP_DigestSignInit(mctx, NULL, sm3_md, NULL, key) > 0
                  : EVP_DigestVerifyInit(mctx, NULL, sm3_md, NULL, key) > 0;
    }
    if (!ok) {
        EVP_MD_CTX_free(mctx);
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }
    return mctx;
}

/* Frees a context of new_md_ctx with its EVP_PKEY_CTX (not owned by it). */
static void free_md_ctx(EVP_MD_CTX *mctx)
{
    EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(mctx);
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_CTX_free(pctx);
}

int cv_sm2v_ref_sign(EVP_PKEY *key, const void *msg, size_t len, uint8_t *sig, size_t *sig_len)
{
    EVP_MD_CTX *mctx = new_md_ctx(key, 1);
    *sig_len = 72;
    int ok = mctx && EVP_DigestSign(mctx, sig, sig_len, msg, len) > 0;
    if (mctx)
        free_md_ctx(mctx);
    return ok ? CV_OK : fail_openssl(CV_ECRYPTO, "OpenSSL SM2 signing failed");
}

int cv_sm2v_ref_verify_key(EVP_PKEY *key, const void *msg, size_t len, const uint8_t *sig,
                           size_t sig_len)
{
    EVP_MD_CTX *mctx = new_md_ctx(key, 0);
    int ok = mctx && EVP_DigestVerify(mctx, sig, sig_len, msg, len) == 1;
    if (mctx)
        free_md_ctx(mctx);
    return ok ? CV_OK : fail_openssl(CV_EBADSIG, "OpenSSL rejects the SM2 signature");
}

int cv_sm2v_ref_verify(const uint8_t pub[65], const void *msg, size_t len, const uint8_t *sig,
                       size_t sig_len)
{
    EVP_PKEY *key = NULL;
    if (pub[0] != 0x04 || cv_sm2v_ref_key(pub, NULL, &key) != CV_OK)
        return cv_fail(CV_EBADSIG, "not an SM2 public key 04 || x || y");
    int rc = cv_sm2v_ref_verify_key(key, msg, len, sig, sig_len);
    EVP_PKEY_free(key);
    return rc;
}

int cv_sm2v_ref_verify_digest(const uint8_t pub[65], const uint8_t e[32], const uint8_t *sig,
                              size_t sig_len)
{
    EVP_PKEY *key = NULL;
    if (pub[0] != 0x04 || cv_sm2v_ref_key(pub, NULL, &key) != CV_OK)
        return cv_fail(CV_EBADSIG, "not an SM2 public key 04 || x || y");
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    int ok = pctx && EVP_PKEY_verify_init(pctx) > 0 &&
             EVP_PKEY_verify(pctx, sig, sig_len, e, 32) == 1;
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_free(key);
    return ok ? CV_OK : fail_openssl(CV_EBADSIG, "OpenSSL rejects the SM2 signature");
}
