/* test_kx.c: key exchange (crypto/kx.h), HKDF (crypto/kdf.h), and the
 * transport's key schedule and handshake signature (net/wire.h):
 *
 *  - both suites: the two sides of an exchange agree; other keys disagree;
 *    public keys of the wrong length, off the curve or of low order are
 *    refused; gm agrees with OpenSSL's EVP ECDH on the SM2 curve;
 *  - HKDF-SHA-256 against RFC 5869 test cases 1 and 3; HKDF-SM3 against
 *    HMAC-SM3 extract-then-expand written out here with OpenSSL's EVP_MAC;
 *  - the key schedule: both sides derive the same keys, another transcript
 *    other keys;
 *  - the handshake signature: valid as made, invalid for any change of the
 *    transcript hash, role, chain id, genesis hash or key. */
#include <stdint.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "base/buf.h"
#include "check.h"
#include "crypto/kdf.h"
#include "crypto/kx.h"
#include "net/wire.h"

static const cv_suite suites[2] = {CV_SUITE_STD, CV_SUITE_GM};

static void unhex(const char *h, uint8_t *out, size_t n)
{
    CHECK_OK(cv_hex_decode(h, out, n));
}

/* ---- key exchange ------------------------------------------------------------ */

static void test_agreement(cv_suite suite)
{
    cv_kx_key a, b, c;
    uint8_t ab[CV_KX_SHARED_LEN], ba[CV_KX_SHARED_LEN], ac[CV_KX_SHARED_LEN];
    CHECK_OK(cv_kx_keypair(suite, &a));
    CHECK_OK(cv_kx_keypair(suite, &b));
    CHECK_OK(cv_kx_keypair(suite, &c));
    CHECK(a.pub_len == cv_kx_pub_len(suite));
    CHECK(memcmp(a.pub, b.pub, a.pub_len) != 0);
    CHECK_OK(cv_kx_shared(&a, b.pub, b.pub_len, ab));
    CHECK_OK(cv_kx_shared(&b, a.pub, a.pub_len, ba));
    CHECK_OK(cv_kx_shared(&a, c.pub, c.pub_len, ac));
    CHECK(memcmp(ab, ba, sizeof ab) == 0);
    CHECK(memcmp(ab, ac, sizeof ab) != 0);
    /* Wrong lengths. */
    CHECK_ERR(cv_kx_shared(&a, b.pub, b.pub_len - 1, ab), CV_EINVAL);
    CHECK_ERR(cv_kx_shared(&a, b.pub, 0, ab), CV_EINVAL);
    /* Invalid points: all zeros (X25519 low order; not an SM2 encoding), a
     * point off the SM2 curve. */
    uint8_t bad[CV_KX_PUB_MAX] = {0};
    CHECK_ERR(cv_kx_shared(&a, bad, a.pub_len, ab), CV_EINVAL);
    if (suite == CV_SUITE_GM) {
        memcpy(bad, b.pub, b.pub_len);
        bad[64] ^= 1;
        CHECK_ERR(cv_kx_shared(&a, bad, a.pub_len, ab), CV_EINVAL);
    } else {
        /* A point of order 8 (from the small-order points listed at cr.yp.to/ecdh.html). */
        unhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", bad, 32);
        CHECK_ERR(cv_kx_shared(&a, bad, 32, ab), CV_EINVAL);
    }
    cv_kx_wipe(&a);
    cv_kx_wipe(&b);
    cv_kx_wipe(&c);
    CHECK(a.pub_len == 0 && a.secret[0] == 0 && a.secret[31] == 0);
    CHECK_ERR(cv_kx_keypair((cv_suite)9, &a), CV_EINVAL);
}

/* gm: the shared secret equals OpenSSL's own ECDH (EVP_PKEY_derive) between
 * two "EC" keys on the SM2 curve, one of which we load as a cv_kx_key. */
static EVP_PKEY *evp_sm2_curve_key(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *k = NULL;
    CHECK(ctx && EVP_PKEY_keygen_init(ctx) > 0 && EVP_PKEY_CTX_set_group_name(ctx, "SM2") > 0 &&
          EVP_PKEY_keygen(ctx, &k) > 0);
    EVP_PKEY_CTX_free(ctx);
    return k;
}

static void test_gm_matches_evp(void)
{
    EVP_PKEY *a = evp_sm2_curve_key(), *b = evp_sm2_curve_key();
    uint8_t want[32], got[32], b_pub[65];
    size_t n = sizeof want, pub_len = 0;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, a, NULL);
    CHECK(ctx && EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_derive_set_peer(ctx, b) > 0 &&
          EVP_PKEY_derive(ctx, want, &n) > 0 && n == 32);
    EVP_PKEY_CTX_free(ctx);
    cv_kx_key own = {CV_SUITE_GM, 65, {0}, {0}};
    BIGNUM *d = NULL;
    CHECK(EVP_PKEY_get_bn_param(a, OSSL_PKEY_PARAM_PRIV_KEY, &d) > 0 && BN_bn2binpad(d, own.secret, 32) == 32);
    CHECK(EVP_PKEY_get_octet_string_param(b, OSSL_PKEY_PARAM_PUB_KEY, b_pub, sizeof b_pub, &pub_len) > 0 &&
          pub_len == 65);
    CHECK_OK(cv_kx_shared(&own, b_pub, pub_len, got));
    CHECK(memcmp(got, want, sizeof want) == 0);
    BN_clear_free(d);
    cv_kx_wipe(&own);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
}

/* ---- HKDF ----------------------------------------------------------------------- */

static void test_hkdf_rfc5869(void)
{
    uint8_t ikm[22], salt[13], info[10], okm[42], want[42];
    memset(ikm, 0x0b, sizeof ikm);
    for (int i = 0; i < 13; i++)
        salt[i] = (uint8_t)i;
    for (int i = 0; i < 10; i++)
        info[i] = (uint8_t)(0xf0 + i);
    /* Test case 1. */
    unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
          want, sizeof want);
    CHECK_OK(cv_kdf_hkdf(CV_SUITE_STD, salt, sizeof salt, ikm, sizeof ikm, info, sizeof info, okm,
                         sizeof okm));
    CHECK(memcmp(okm, want, sizeof want) == 0);
    /* Test case 3: no salt, no info. */
    unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
          want, sizeof want);
    CHECK_OK(cv_kdf_hkdf(CV_SUITE_STD, NULL, 0, ikm, sizeof ikm, NULL, 0, okm, sizeof okm));
    CHECK(memcmp(okm, want, sizeof want) == 0);
    CHECK_ERR(cv_kdf_hkdf(CV_SUITE_STD, NULL, 0, ikm, sizeof ikm, NULL, 0, okm, 0), CV_EINVAL);
    CHECK_ERR(cv_kdf_hkdf(CV_SUITE_STD, NULL, 0, ikm, 1, NULL, 0, okm, 255 * 32 + 1), CV_EINVAL);
}

static void hmac_sm3(const uint8_t *key, size_t key_len, const uint8_t *a, size_t a_len,
                     const uint8_t *b, size_t b_len, uint8_t out[32])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SM3", 0),
                           OSSL_PARAM_construct_end()};
    size_t n = 0;
    CHECK(EVP_MAC_init(ctx, key, key_len, params) == 1);
    CHECK(EVP_MAC_update(ctx, a, a_len) == 1 && EVP_MAC_update(ctx, b, b_len) == 1);
    CHECK(EVP_MAC_final(ctx, out, &n, 32) == 1 && n == 32);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
}

/* RFC 5869 written out: PRK = HMAC(salt, IKM); T(i) = HMAC(PRK, T(i-1) || info || i). */
static void test_hkdf_sm3(void)
{
    const uint8_t ikm[] = "input keying material", salt[] = "salt", info[] = "context";
    uint8_t prk[32], t[32], block[64], want[70], got[70];
    hmac_sm3(salt, sizeof salt - 1, ikm, sizeof ikm - 1, NULL, 0, prk);
    size_t t_len = 0;
    for (uint8_t i = 1, done = 0; done < sizeof want; i++) {
        size_t n = 0;
        memcpy(block, t, t_len);
        n += t_len;
        memcpy(block + n, info, sizeof info - 1);
        n += sizeof info - 1;
        block[n++] = i;
        hmac_sm3(prk, sizeof prk, block, n, NULL, 0, t);
        t_len = 32;
        size_t take = sizeof want - done < 32 ? sizeof want - done : 32;
        memcpy(want + done, t, take);
        done = (uint8_t)(done + take);
    }
    CHECK_OK(cv_kdf_hkdf(CV_SUITE_GM, salt, sizeof salt - 1, ikm, sizeof ikm - 1, info,
                         sizeof info - 1, got, sizeof got));
    CHECK(memcmp(got, want, sizeof want) == 0);
    /* And it is not HKDF-SHA-256. */
    CHECK_OK(cv_kdf_hkdf(CV_SUITE_STD, salt, sizeof salt - 1, ikm, sizeof ikm - 1, info,
                         sizeof info - 1, got, sizeof got));
    CHECK(memcmp(got, want, sizeof want) != 0);
}

/* ---- key schedule and handshake signature ------------------------------------------ */

static size_t make_hello(cv_suite suite, uint8_t role, const cv_kx_key *eph, uint8_t *out)
{
    cv_net_hello h = {suite, role, eph->pub_len, {0}};
    memcpy(h.eph, eph->pub, eph->pub_len);
    return cv_net_hello_encode(&h, out);
}

static void test_key_schedule(cv_suite suite)
{
    cv_kx_key i, r;
    uint8_t hi[CV_NET_HELLO_MAX], hr[CV_NET_HELLO_MAX], si[32], sr[32];
    CHECK_OK(cv_kx_keypair(suite, &i));
    CHECK_OK(cv_kx_keypair(suite, &r));
    size_t ni = make_hello(suite, CV_NET_ROLE_INIT, &i, hi), nr = make_hello(suite, CV_NET_ROLE_RESP, &r, hr);
    CHECK(ni == 7 + cv_kx_pub_len(suite) && nr == ni);
    cv_net_hello back;
    CHECK_OK(cv_net_hello_decode(suite, hi, ni, &back));
    CHECK(back.role == CV_NET_ROLE_INIT && memcmp(back.eph, i.pub, i.pub_len) == 0);
    CHECK_OK(cv_kx_shared(&i, r.pub, r.pub_len, si));
    CHECK_OK(cv_kx_shared(&r, i.pub, i.pub_len, sr));
    cv_net_keys ki, kr, other;
    CHECK_OK(cv_net_derive(suite, si, hi, ni, hr, nr, &ki));
    CHECK_OK(cv_net_derive(suite, sr, hi, ni, hr, nr, &kr));
    CHECK(memcmp(&ki, &kr, sizeof ki) == 0);
    size_t klen = cv_aead_key_len(suite);
    CHECK(memcmp(ki.i2r, ki.r2i, klen) != 0);
    /* The hellos swapped: another transcript, other keys. */
    CHECK_OK(cv_net_derive(suite, si, hr, nr, hi, ni, &other));
    CHECK(memcmp(other.th, ki.th, CV_HASH_LEN) != 0 && memcmp(other.i2r, ki.i2r, klen) != 0);
    cv_kx_wipe(&i);
    cv_kx_wipe(&r);
}

static int auth_verifies(const cv_net_auth *a, uint8_t role, const uint8_t th[CV_HASH_LEN])
{
    uint8_t msg[CV_NET_AUTH_SIGNED_MAX];
    size_t n = cv_net_auth_signed(a, role, th, msg);
    return cv_verify(&a->pub, msg, n, &a->sig) == CV_OK;
}

static void test_auth_signature(cv_suite suite)
{
    cv_keypair key, other;
    CHECK_OK(cv_key_generate(suite, &key));
    CHECK_OK(cv_key_generate(suite, &other));
    uint8_t th[CV_HASH_LEN], msg[CV_NET_AUTH_SIGNED_MAX], payload[CV_NET_AUTH_MAX];
    cv_random(th, sizeof th);
    cv_net_auth a, back;
    memset(&a, 0, sizeof a);
    a.chain_id_len = 9;
    memcpy(a.chain_id, "kx-chain1", 9);
    cv_random(a.genesis_hash, CV_HASH_LEN);
    a.pub = key.pub;
    size_t n = cv_net_auth_signed(&a, CV_NET_ROLE_RESP, th, msg);
    CHECK_OK(cv_sign(&key, msg, n, &a.sig));
    size_t len = cv_net_auth_encode(&a, payload);
    CHECK_OK(cv_net_auth_decode(suite, payload, len, &back));
    CHECK(auth_verifies(&back, CV_NET_ROLE_RESP, th));

    /* Any change to what was signed breaks it. */
    CHECK(!auth_verifies(&back, CV_NET_ROLE_INIT, th)); /* reflected to the other role */
    uint8_t th2[CV_HASH_LEN];
    memcpy(th2, th, sizeof th);
    th2[31] ^= 0x80; /* another session's transcript (a replay) */
    CHECK(!auth_verifies(&back, CV_NET_ROLE_RESP, th2));
    cv_net_auth t = back;
    t.chain_id[0] ^= 1;
    CHECK(!auth_verifies(&t, CV_NET_ROLE_RESP, th));
    t = back;
    t.genesis_hash[5] ^= 1;
    CHECK(!auth_verifies(&t, CV_NET_ROLE_RESP, th));
    t = back;
    t.pub = other.pub; /* claimed by another key */
    CHECK(!auth_verifies(&t, CV_NET_ROLE_RESP, th));

    /* Decoding refuses truncation, trailing bytes and bad lengths. */
    CHECK_ERR(cv_net_auth_decode(suite, payload, len - 1, &back), CV_EDECODE);
    payload[len] = 0;
    CHECK_ERR(cv_net_auth_decode(suite, payload, len + 1, &back), CV_EDECODE);
    payload[0] = 0;
    CHECK_ERR(cv_net_auth_decode(suite, payload, len, &back), CV_EDECODE);
    cv_key_wipe(&key);
    cv_key_wipe(&other);
}

int main(void)
{
    CHECK_OK(cv_crypto_init());
    for (int s = 0; s < 2; s++) {
        test_agreement(suites[s]);
        test_key_schedule(suites[s]);
        test_auth_signature(suites[s]);
    }
    test_gm_matches_evp();
    test_hkdf_rfc5869();
    test_hkdf_sm3();
    cv_crypto_cleanup();
    return check_done();
}
