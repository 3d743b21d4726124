/* selftest.c: known-answer tests of both suites, run at node start and by
 * `civitas selftest`, so a broken or misconfigured crypto library is caught
 * before it signs or accepts anything.
 *
 * Vectors: SHA-256 "abc" (FIPS 180-4); SM3 "abc" and 64-byte "abcd..."
 * (GB/T 32905-2016 A.1, A.2); Ed25519 test 1 (RFC 8032 7.1); the SM2
 * signature example with the recommended curve (GB/T 32918.5-2017 Annex A,
 * ID "1234567812345678"); SM4-GCM (RFC 8998 A.1). */
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/impl.h"

static int check_hash(cv_suite suite, const char *msg, const char *want_hex)
{
    uint8_t got[CV_HASH_LEN], want[CV_HASH_LEN];
    int rc = cv_hash(suite, msg, strlen(msg), got);
    if (rc)
        return rc;
    cv_hex_decode(want_hex, want, sizeof want);
    if (memcmp(got, want, sizeof want) != 0)
        return cv_fail(CV_ECRYPTO, "self-test: %s hash of \"%.8s...\" is wrong", cv_suite_name(suite), msg);
    return CV_OK;
}

static int check_ed25519(void)
{
    static const char *seed_hex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    static const char *pub_hex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    static const char *sig_hex = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                                 "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
    uint8_t seed[32], pub[32];
    cv_sig want = {.len = 64}, got;
    cv_keypair key;
    cv_hex_decode(seed_hex, seed, 32);
    cv_hex_decode(pub_hex, pub, 32);
    cv_hex_decode(sig_hex, want.bytes, 64);
    int rc = cv_key_from_secret(CV_SUITE_STD, seed, &key);
    if (rc)
        return rc;
    rc = cv_sign(&key, "", 0, &got);
    int ok = rc == CV_OK && memcmp(key.pub.bytes, pub, 32) == 0 && got.len == 64 &&
             memcmp(got.bytes, want.bytes, 64) == 0 && cv_verify(&key.pub, "", 0, &want) == CV_OK;
    cv_key_wipe(&key);
    return ok ? CV_OK : cv_fail(CV_ECRYPTO, "self-test: Ed25519 RFC 8032 test 1 failed");
}

/* DER of (r, s) where both have their high bit set: 30 46 02 21 00 r 02 21 00 s. */
static void der_of_high_rs(const uint8_t r[32], const uint8_t s[32], cv_sig *sig)
{
    static const uint8_t head[] = {0x30, 0x46, 0x02, 0x21, 0x00};
    memcpy(sig->bytes, head, 5);
    memcpy(sig->bytes + 5, r, 32);
    memcpy(sig->bytes + 37, (const uint8_t[]){0x02, 0x21, 0x00}, 3);
    memcpy(sig->bytes + 40, s, 32);
    sig->len = 72;
}

static int check_sm2(void)
{
    static const char *d_hex = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
    static const char *pub_hex = "0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
                                 "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
    static const char *r_hex = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
    static const char *s_hex = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";
    static const char msg[] = "message digest";
    uint8_t d[32], pub[65], r[32], s[32];
    cv_hex_decode(d_hex, d, 32);
    cv_hex_decode(pub_hex, pub, 65);
    cv_hex_decode(r_hex, r, 32);
    cv_hex_decode(s_hex, s, 32);
    cv_sig example, fresh;
    der_of_high_rs(r, s, &example);
    cv_keypair key;
    int rc = cv_key_from_secret(CV_SUITE_GM, d, &key);
    if (rc)
        return rc;
    int ok = memcmp(key.pub.bytes, pub, 65) == 0 &&
             cv_verify(&key.pub, msg, strlen(msg), &example) == CV_OK &&
             cv_verify(&key.pub, msg, strlen(msg) - 1, &example) == CV_EBADSIG &&
             cv_sign(&key, msg, strlen(msg), &fresh) == CV_OK &&
             cv_verify(&key.pub, msg, strlen(msg), &fresh) == CV_OK;
    cv_key_wipe(&key);
    return ok ? CV_OK : cv_fail(CV_ECRYPTO, "self-test: SM2 GB/T 32918.5 example failed");
}

static int check_sm4gcm(void)
{
    static const char *key_hex = "0123456789ABCDEFFEDCBA9876543210";
    static const char *nonce_hex = "00001234567800000000ABCD";
    static const char *ad_hex = "FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2";
    static const char *pt_hex = "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
                                "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA";
    static const char *ct_hex = "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
                                "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
                                "83DE3541E4C2B58177E065A9BF7B62EC";
    uint8_t key[16], nonce[12], ad[20], pt[64], want[80], got[80], back[64];
    cv_hex_decode(key_hex, key, 16);
    cv_hex_decode(nonce_hex, nonce, 12);
    cv_hex_decode(ad_hex, ad, 20);
    cv_hex_decode(pt_hex, pt, 64);
    cv_hex_decode(ct_hex, want, 80);
    int ok = cv_aead_seal(CV_SUITE_GM, key, nonce, ad, 20, pt, 64, got) == CV_OK &&
             memcmp(got, want, 80) == 0 &&
             cv_aead_open(CV_SUITE_GM, key, nonce, ad, 20, want, 80, back) == CV_OK &&
             memcmp(back, pt, 64) == 0;
    return ok ? CV_OK : cv_fail(CV_ECRYPTO, "self-test: SM4-GCM RFC 8998 vector failed");
}

int cv_crypto_selftest(void)
{
    int rc;
    if ((rc = check_hash(CV_SUITE_STD, "abc",
                         "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")) ||
        (rc = check_hash(CV_SUITE_GM, "abc",
                         "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")) ||
        (rc = check_hash(CV_SUITE_GM, "abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd",
                         "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")) ||
        (rc = check_ed25519()) || (rc = check_sm2()) || (rc = check_sm4gcm()))
        return rc;
    return CV_OK;
}
