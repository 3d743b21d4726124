/* pem.c: public keys as SubjectPublicKeyInfo PEM and private keys as PKCS#8
 * PEM, through OpenSSL, so that openssl(1), sm-crypto or any PKIX tool can
 * use civitas keys and civitas can use theirs. */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "base/err.h"
#include "crypto/impl.h"
#include "crypto/keyfile.h"

/* The EVP_PKEY for pub (and for its secret when key is given). */
static int to_pkey(const cv_pubkey *pub, const cv_keypair *key, EVP_PKEY **out)
{
    *out = NULL;
    if (pub->suite == CV_SUITE_GM) {
        if (key) {
            if (!EVP_PKEY_up_ref(key->impl))
                return cv_fail(CV_ECRYPTO, "cannot reference the SM2 key");
            *out = key->impl;
            return CV_OK;
        }
        return cv_sm2_pub_pkey(pub->bytes, out);
    }
    *out = key ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, key->secret, CV_SECRET_LEN)
               : EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub->bytes, pub->len);
    return *out ? CV_OK : cv_fail(CV_ECRYPTO, "cannot build an Ed25519 key");
}

static int write_pem(const cv_pubkey *pub, const cv_keypair *key, cv_buf *out)
{
    EVP_PKEY *pkey;
    int rc = to_pkey(pub, key, &pkey);
    if (rc)
        return rc;
    BIO *bio = BIO_new(BIO_s_secmem());
    int ok = bio && (key ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
                         : PEM_write_bio_PUBKEY(bio, pkey));
    char *data = NULL;
    long len = ok ? BIO_get_mem_data(bio, &data) : 0;
    cv_buf_reset(out);
    rc = ok && len > 0 ? cv_buf_append(out, data, (size_t)len) : cv_fail(CV_ECRYPTO, "PEM encoding failed");
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return rc;
}

int cv_pem_write_public(const cv_pubkey *pub, cv_buf *out)
{
    return write_pem(pub, NULL, out);
}

int cv_pem_write_private(const cv_keypair *key, cv_buf *out)
{
    return write_pem(&key->pub, key, out);
}

/* Which suite an OpenSSL key belongs to: Ed25519, or EC on the SM2 curve. */
static int pkey_suite(EVP_PKEY *pkey, cv_suite *suite)
{
    char group[32] = "";
    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        *suite = CV_SUITE_STD;
        return CV_OK;
    }
    if ((EVP_PKEY_is_a(pkey, "SM2") || EVP_PKEY_is_a(pkey, "EC")) &&
        EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, NULL) &&
        strcmp(group, "SM2") == 0) {
        *suite = CV_SUITE_GM;
        return CV_OK;
    }
    return cv_fail(CV_EINVAL, "PEM key is neither Ed25519 nor SM2 (%s%s%s)",
                   EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "?",
                   group[0] ? " on " : "", group);
}

/* The public key of pkey in the suite's raw form (SM2: 04||x||y). */
static int pkey_public(EVP_PKEY *pkey, cv_suite suite, cv_pubkey *out)
{
    uint8_t raw[CV_PUB_MAX];
    size_t len = 32;
    int ok;
    if (suite == CV_SUITE_STD) {
        ok = EVP_PKEY_get_raw_public_key(pkey, raw, &len);
    } else {
        BIGNUM *x = NULL, *y = NULL;
        raw[0] = 0x04;
        len = 65;
        ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) &&
             EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) &&
             BN_bn2binpad(x, raw + 1, 32) == 32 && BN_bn2binpad(y, raw + 33, 32) == 32;
        BN_free(x);
        BN_free(y);
    }
    if (!ok)
        return cv_fail(CV_EINVAL, "cannot read the public key from the PEM key");
    return cv_pubkey_parse(suite, raw, len, out);
}

static EVP_PKEY *read_pem(const char *pem, size_t len, int private_key)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey = NULL;
    if (bio)
        pkey = private_key ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                           : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    ERR_clear_error();
    return pkey;
}

int cv_pem_read_public(const char *pem, size_t len, cv_pubkey *out)
{
    if (len > 1 << 20)
        return cv_fail(CV_EINVAL, "PEM input too large");
    EVP_PKEY *pkey = read_pem(pem, len, 0);
    if (!pkey)
        return cv_fail(CV_EINVAL, "not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
    cv_suite suite;
    int rc = pkey_suite(pkey, &suite);
    if (!rc)
        rc = pkey_public(pkey, suite, out);
    EVP_PKEY_free(pkey);
    return rc;
}

int cv_pem_read_private(const char *pem, size_t len, cv_keypair *out)
{
    memset(out, 0, sizeof *out);
    if (len > 1 << 20)
        return cv_fail(CV_EINVAL, "PEM input too large");
    EVP_PKEY *pkey = read_pem(pem, len, 1);
    if (!pkey)
        return cv_fail(CV_EINVAL, "not an unencrypted PKCS#8 PEM private key");
    uint8_t secret[CV_SECRET_LEN];
    size_t slen = sizeof secret;
    cv_suite suite;
    BIGNUM *d = NULL;
    int rc = pkey_suite(pkey, &suite);
    if (!rc && suite == CV_SUITE_STD && !EVP_PKEY_get_raw_private_key(pkey, secret, &slen))
        rc = cv_fail(CV_EINVAL, "cannot read the Ed25519 private key");
    if (!rc && suite == CV_SUITE_GM &&
        !(EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) && BN_bn2binpad(d, secret, 32) == 32))
        rc = cv_fail(CV_EINVAL, "cannot read the SM2 private key");
    if (!rc)
        rc = cv_key_from_secret(suite, secret, out);
    OPENSSL_cleanse(secret, sizeof secret);
    BN_clear_free(d);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    return rc;
}
