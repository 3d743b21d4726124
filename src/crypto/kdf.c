/* kdf.c: HKDF over the suite hash through OpenSSL's EVP_KDF (kdf.h). */
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "base/err.h"
#include "crypto/kdf.h"

int cv_kdf_hkdf(cv_suite suite, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                size_t ikm_len, const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    if (suite != CV_SUITE_STD && suite != CV_SUITE_GM)
        return cv_fail(CV_EINVAL, "unknown crypto suite %d", (int)suite);
    if (out_len == 0 || out_len > CV_KDF_OUT_MAX)
        return cv_fail(CV_EINVAL, "HKDF output of %zu bytes (1 to %d allowed)", out_len, CV_KDF_OUT_MAX);
    char *digest = suite == CV_SUITE_STD ? "SHA256" : "SM3";
    static const uint8_t empty[1];
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(ikm_len ? ikm : empty), ikm_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)(salt_len ? salt : empty), salt_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)(info_len ? info : empty), info_len),
        OSSL_PARAM_construct_end(),
    };
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
    EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    int ok = ctx && EVP_KDF_derive(ctx, out, out_len, params) > 0;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return ok ? CV_OK : cv_fail(CV_ECRYPTO, "HKDF-%s failed", suite == CV_SUITE_STD ? "SHA-256" : "SM3");
}
