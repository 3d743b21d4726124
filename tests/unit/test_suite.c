/* test_suite.c: the crypto suites (crypto/suite.h) against the standards and
 * against the mistakes that break signature schemes in practice.
 *
 *  - known answers: RFC 8032 7.1 Ed25519 tests 1, 2, 3, 1024 and SHA(abc);
 *    FIPS 180-2 SHA-256 examples; GB/T 32905 SM3 examples; the GB/T 32918.5
 *    Annex A SM2 signature and key; RFC 8998 A.1 SM4-GCM;
 *  - random round trips; every single-bit flip of message, signature and
 *    public key rejected;
 *  - context reuse across keys (shared/NOTES.md: OpenSSL 3.0 keeps the old
 *    key in a re-initialised context), directly and through cv_verify_batch
 *    on a 2-thread pool, including a key's negation (same x, other y);
 *  - batch results equal per-item results; addresses; point and DER
 *    validation; AEAD tampering; incremental hashing; key wiping.
 *
 * The only fixed outputs below are the published vectors; curve membership
 * is recomputed here with OpenSSL's BIGNUM, independently of the code under
 * test. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/pool.h"
#include "check.h"
#include "crypto/suite.h"

static const cv_suite suites[2] = {CV_SUITE_STD, CV_SUITE_GM};

/* ---- helpers ------------------------------------------------------------- */

static void unhex(const char *h, uint8_t *out, size_t n)
{
    int rc = cv_hex_decode(h, out, n);
    CHECK(rc == CV_OK);
    if (rc)
        memset(out, 0, n);
}

static size_t rand_below(size_t n)
{
    uint32_t r;
    cv_random(&r, sizeof r);
    return n ? r % n : 0;
}

static void make_key(cv_suite suite, cv_keypair *k)
{
    CHECK_OK(cv_key_generate(suite, k));
}

static void sign_ok(const cv_keypair *k, const void *msg, size_t len, cv_sig *sig)
{
    CHECK_OK(cv_sign(k, msg, len, sig));
}

/* ---- hashing: FIPS 180-2 and GB/T 32905 vectors --------------------------- */

static void check_digest(cv_suite suite, const void *msg, size_t len, const char *want_hex)
{
    uint8_t got[CV_HASH_LEN], want[CV_HASH_LEN];
    unhex(want_hex, want, sizeof want);
    CHECK_OK(cv_hash(suite, msg, len, got));
    CHECK(memcmp(got, want, sizeof want) == 0);
    /* The same through the incremental interface, fed byte by byte. */
    cv_hasher h;
    CHECK_OK(cv_hasher_init(&h, suite));
    const uint8_t *p = msg;
    for (size_t i = 0; i < len && i < 4096; i++)
        CHECK_OK(cv_hasher_update(&h, p + i, 1));
    if (len > 4096)
        CHECK_OK(cv_hasher_update(&h, p + 4096, len - 4096));
    memset(got, 0, sizeof got);
    CHECK_OK(cv_hasher_final(&h, got));
    CHECK(memcmp(got, want, sizeof want) == 0);
    cv_hasher_free(&h);
}

static void test_hash_vectors(void)
{
    static const char abc448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    static const char abcd16[] = "abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd";
    /* FIPS 180-2 appendix B (SHA-256) and the empty message. */
    check_digest(CV_SUITE_STD, "abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_digest(CV_SUITE_STD, abc448, strlen(abc448),
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    check_digest(CV_SUITE_STD, "", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    uint8_t *million = malloc(1000000);
    CHECK(million != NULL);
    if (million) {
        memset(million, 'a', 1000000);
        check_digest(CV_SUITE_STD, million, 1000000,
                     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
        free(million);
    }
    /* GB/T 32905-2016 (GM/T 0004-2012) examples 1 and 2. */
    check_digest(CV_SUITE_GM, "abc", 3, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    check_digest(CV_SUITE_GM, abcd16, 64, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
    /* A suite that does not exist is refused. */
    uint8_t out[CV_HASH_LEN];
    CHECK_ERR(cv_hash((cv_suite)7, "abc", 3, out), CV_EINVAL);
}

/* Incremental hashing in random pieces equals one-shot hashing, and final()
 * leaves the hasher ready for the next message. */
static void test_hasher_incremental(void)
{
    uint8_t msg[3000];
    for (int si = 0; si < 2; si++) {
        cv_hasher h;
        CHECK_OK(cv_hasher_init(&h, suites[si]));
        for (int round = 0; round < 40; round++) {
            size_t len = rand_below(sizeof msg + 1);
            cv_random(msg, len);
            uint8_t one[CV_HASH_LEN], inc[CV_HASH_LEN];
            CHECK_OK(cv_hash(suites[si], msg, len, one));
            size_t off = 0;
            while (off < len) {
                size_t n = 1 + rand_below(len - off < 200 ? len - off : 200);
                CHECK_OK(cv_hasher_update(&h, msg + off, n));
                off += n;
            }
            if (round % 5 == 0)
                CHECK_OK(cv_hasher_update(&h, msg, 0));
            CHECK_OK(cv_hasher_final(&h, inc));
            CHECK(memcmp(one, inc, CV_HASH_LEN) == 0);
        }
        cv_hasher_free(&h);
        /* The suites differ, and one bit changes the digest. */
        uint8_t a[CV_HASH_LEN], b[CV_HASH_LEN];
        memset(msg, 0x5a, 64);
        CHECK_OK(cv_hash(suites[si], msg, 64, a));
        msg[10] ^= 0x08;
        CHECK_OK(cv_hash(suites[si], msg, 64, b));
        CHECK(memcmp(a, b, CV_HASH_LEN) != 0);
    }
    uint8_t s[CV_HASH_LEN], g[CV_HASH_LEN];
    CHECK_OK(cv_hash(CV_SUITE_STD, "x", 1, s));
    CHECK_OK(cv_hash(CV_SUITE_GM, "x", 1, g));
    CHECK(memcmp(s, g, CV_HASH_LEN) != 0);
}

static void test_suite_names(void)
{
    cv_suite s;
    CHECK_OK(cv_suite_parse("std", &s));
    CHECK(s == CV_SUITE_STD);
    CHECK_OK(cv_suite_parse("gm", &s));
    CHECK(s == CV_SUITE_GM);
    CHECK_ERR(cv_suite_parse("GM", &s), CV_EINVAL);
    CHECK_ERR(cv_suite_parse("", &s), CV_EINVAL);
    CHECK_ERR(cv_suite_parse("sm2", &s), CV_EINVAL);
    CHECK_MSG("sm2");
    CHECK(strcmp(cv_suite_name(CV_SUITE_STD), "std") == 0);
    CHECK(strcmp(cv_suite_name(CV_SUITE_GM), "gm") == 0);
}

/* ---- Ed25519: RFC 8032 section 7.1 --------------------------------------- */

typedef struct {
    const char *name, *seed, *pub, *msg, *sig;
} ed_vector;

static const char rfc8032_msg1024[] =
    "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1"
    "e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"
    "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a"
    "7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"
    "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10"
    "3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"
    "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d"
    "502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"
    "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b"
    "eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"
    "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b"
    "e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"
    "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d"
    "cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"
    "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7"
    "984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"
    "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09"
    "43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"
    "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161"
    "0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"
    "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca"
    "c60c905c15fc910840b94c00a0b9d0";

static const ed_vector rfc8032[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
     "d25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c"
     "387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc659"
     "4a7c15e9716ed28dc027beceea1ec40a"},
    {"TEST 1024", "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
     "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e", rfc8032_msg1024,
     "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b"
     "5e8fcd4f681e30a6ac00a9704a188a03"},
    {"TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd"
     "454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e030"
     "3dca179c138ac17ad9bef1177331a704"},
};

static void test_ed25519_vectors(void)
{
    for (size_t v = 0; v < sizeof rfc8032 / sizeof rfc8032[0]; v++) {
        const ed_vector *t = &rfc8032[v];
        uint8_t seed[32], pub[32];
        cv_buf msg = {0};
        cv_sig want, got;
        cv_pubkey parsed;
        cv_keypair key;
        unhex(t->seed, seed, 32);
        unhex(t->pub, pub, 32);
        CHECK_OK(cv_hex_decode_buf(t->msg, &msg));
        uint8_t sig_bytes[64];
        unhex(t->sig, sig_bytes, 64);
        CHECK_OK(cv_sig_parse(CV_SUITE_STD, sig_bytes, 64, &want));
        CHECK_OK(cv_key_from_secret(CV_SUITE_STD, seed, &key));
        CHECK(key.suite == CV_SUITE_STD && key.pub.suite == CV_SUITE_STD && key.pub.len == 32);
        CHECK(memcmp(key.pub.bytes, pub, 32) == 0);
        CHECK_OK(cv_pubkey_parse(CV_SUITE_STD, pub, 32, &parsed));
        /* Ed25519 is deterministic: the signature must be the RFC's, byte for byte. */
        CHECK_OK(cv_sign(&key, msg.data, msg.len, &got));
        CHECK(got.len == 64 && memcmp(got.bytes, sig_bytes, 64) == 0);
        if (got.len != 64 || memcmp(got.bytes, sig_bytes, 64) != 0)
            fprintf(stderr, "  Ed25519 %s gives another signature\n", t->name);
        CHECK_OK(cv_verify(&parsed, msg.data, msg.len, &want));
        /* One more or one fewer byte of message does not verify. */
        uint8_t extra = 0;
        CHECK_OK(cv_buf_append(&msg, &extra, 1));
        CHECK_ERR(cv_verify(&parsed, msg.data, msg.len, &want), CV_EBADSIG);
        if (msg.len >= 2)
            CHECK_ERR(cv_verify(&parsed, msg.data, msg.len - 2, &want), CV_EBADSIG);
        cv_key_wipe(&key);
        cv_buf_free(&msg);
    }
    CHECK(strlen(rfc8032_msg1024) == 2 * 1023);
}

/* S + L (the group order) is the same signature value, but not canonical:
 * accepting it would make signatures malleable. */
static void test_ed25519_noncanonical_s(void)
{
    static const uint8_t order_le[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                         0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                         0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
    const ed_vector *t = &rfc8032[0];
    uint8_t pub[32];
    cv_sig sig;
    cv_pubkey pk;
    unhex(t->pub, pub, 32);
    CHECK_OK(cv_pubkey_parse(CV_SUITE_STD, pub, 32, &pk));
    uint8_t raw[64];
    unhex(t->sig, raw, 64);
    unsigned carry = 0;
    for (int i = 0; i < 32; i++) {
        unsigned s = (unsigned)raw[32 + i] + order_le[i] + carry;
        raw[32 + i] = (uint8_t)s;
        carry = s >> 8;
    }
    CHECK(carry == 0);
    CHECK_OK(cv_sig_parse(CV_SUITE_STD, raw, 64, &sig));
    CHECK_ERR(cv_verify(&pk, "", 0, &sig), CV_EBADSIG);
}

/* ---- SM2: GB/T 32918.5-2017 Annex A, ID "1234567812345678" ----------------- */

#define SM2_P "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF"
#define SM2_B "28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93"
#define SM2_N "FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123"
#define SM2_GX "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
#define SM2_GY "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"

static const char sm2_d[] = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
static const char sm2_pub[] = "0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
                              "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
static const char sm2_r[] = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
static const char sm2_s[] = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";
static const char sm2_msg[] = "message digest";

/* DER SEQUENCE { INTEGER r, INTEGER s } for 32-byte big-endian r and s (minimal). */
static size_t der_rs(const uint8_t r[32], const uint8_t s[32], uint8_t *out)
{
    uint8_t body[72];
    size_t n = 0;
    const uint8_t *ints[2] = {r, s};
    for (int k = 0; k < 2; k++) {
        const uint8_t *v = ints[k];
        size_t skip = 0;
        while (skip < 31 && v[skip] == 0 && !(v[skip + 1] & 0x80))
            skip++;
        int pad = (v[skip] & 0x80) != 0;
        body[n++] = 0x02;
        body[n++] = (uint8_t)(32 - skip + (size_t)pad);
        if (pad)
            body[n++] = 0;
        memcpy(body + n, v + skip, 32 - skip);
        n += 32 - skip;
    }
    out[0] = 0x30;
    out[1] = (uint8_t)n;
    memcpy(out + 2, body, n);
    return n + 2;
}

static void test_sm2_vector(void)
{
    uint8_t d[32], pub[65], r[32], s[32], der[72];
    cv_keypair key;
    cv_pubkey pk;
    cv_sig sig, fresh;
    unhex(sm2_d, d, 32);
    unhex(sm2_pub, pub, 65);
    unhex(sm2_r, r, 32);
    unhex(sm2_s, s, 32);
    size_t der_len = der_rs(r, s, der);
    CHECK(der_len == 72);
    /* Verify the standard's signature with the standard's public key alone. */
    CHECK_OK(cv_pubkey_parse(CV_SUITE_GM, pub, 65, &pk));
    CHECK_OK(cv_sig_parse(CV_SUITE_GM, der, der_len, &sig));
    CHECK_OK(cv_verify(&pk, sm2_msg, strlen(sm2_msg), &sig));
    CHECK_ERR(cv_verify(&pk, sm2_msg, strlen(sm2_msg) - 1, &sig), CV_EBADSIG);
    CHECK_ERR(cv_verify(&pk, "message digesT", strlen(sm2_msg), &sig), CV_EBADSIG);
    /* The private key d gives the standard's public key. */
    CHECK_OK(cv_key_from_secret(CV_SUITE_GM, d, &key));
    CHECK(key.suite == CV_SUITE_GM && key.pub.suite == CV_SUITE_GM && key.pub.len == 65);
    CHECK(memcmp(key.pub.bytes, pub, 65) == 0);
    CHECK(memcmp(key.secret, d, 32) == 0);
    /* SM2 signing is randomised: two fresh signatures differ and both verify. */
    sign_ok(&key, sm2_msg, strlen(sm2_msg), &sig);
    sign_ok(&key, sm2_msg, strlen(sm2_msg), &fresh);
    CHECK(sig.len != fresh.len || memcmp(sig.bytes, fresh.bytes, sig.len) != 0);
    CHECK_OK(cv_verify(&pk, sm2_msg, strlen(sm2_msg), &sig));
    CHECK_OK(cv_verify(&pk, sm2_msg, strlen(sm2_msg), &fresh));
    cv_key_wipe(&key);
}

/* The SM2 private scalar d must be in [1, n-2]; d = 1 gives the generator. */
static void test_sm2_secret_range(void)
{
    uint8_t d[32], g[65];
    cv_keypair key;
    BIGNUM *n = NULL;
    CHECK(BN_hex2bn(&n, SM2_N) > 0);
    memset(d, 0, 32);
    CHECK_ERR(cv_key_from_secret(CV_SUITE_GM, d, &key), CV_EINVAL);
    CHECK(key.impl == NULL);
    cv_key_wipe(&key);
    d[31] = 1;
    CHECK_OK(cv_key_from_secret(CV_SUITE_GM, d, &key));
    g[0] = 0x04;
    unhex(SM2_GX, g + 1, 32);
    unhex(SM2_GY, g + 33, 32);
    CHECK(memcmp(key.pub.bytes, g, 65) == 0);
    cv_key_wipe(&key);
    /* n-2 is the largest valid scalar; n-1, n and 2^256-1 are refused. */
    const int offsets[] = {-2, -1, 0};
    const int want[] = {CV_OK, CV_EINVAL, CV_EINVAL};
    for (int i = 0; i < 3; i++) {
        BIGNUM *v = BN_dup(n);
        CHECK(v && BN_sub_word(v, (BN_ULONG)(-offsets[i])) && BN_bn2binpad(v, d, 32) == 32);
        CHECK_ERR(cv_key_from_secret(CV_SUITE_GM, d, &key), want[i]);
        if (want[i] == CV_OK) {
            cv_sig sig;
            sign_ok(&key, "edge", 4, &sig);
            CHECK_OK(cv_verify(&key.pub, "edge", 4, &sig));
        }
        cv_key_wipe(&key);
        BN_free(v);
    }
    memset(d, 0xff, 32);
    CHECK_ERR(cv_key_from_secret(CV_SUITE_GM, d, &key), CV_EINVAL);
    cv_key_wipe(&key);
    BN_free(n);
}

/* ---- SM4-GCM: RFC 8998 appendix A.1 ---------------------------------------- */

static void test_sm4gcm_vector(void)
{
    uint8_t key[16], nonce[12], ad[20], pt[64], want[80], got[80], back[64];
    unhex("0123456789ABCDEFFEDCBA9876543210", key, 16);
    unhex("00001234567800000000ABCD", nonce, 12);
    unhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2", ad, 20);
    unhex("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
          "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
          pt, 64);
    unhex("17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
          "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
          "83DE3541E4C2B58177E065A9BF7B62EC",
          want, 80);
    CHECK(cv_aead_key_len(CV_SUITE_GM) == 16 && cv_aead_nonce_len(CV_SUITE_GM) == 12);
    CHECK_OK(cv_aead_seal(CV_SUITE_GM, key, nonce, ad, 20, pt, 64, got));
    CHECK(memcmp(got, want, 80) == 0);
    CHECK_OK(cv_aead_open(CV_SUITE_GM, key, nonce, ad, 20, want, 80, back));
    CHECK(memcmp(back, pt, 64) == 0);
}

/* ---- random round trips ----------------------------------------------------- */

static void test_round_trips(void)
{
    uint8_t msg[600];
    for (int si = 0; si < 2; si++) {
        cv_suite suite = suites[si];
        for (int i = 0; i < 25; i++) {
            cv_keypair key, again;
            cv_sig sig, sig2, parsed;
            cv_pubkey pk;
            size_t len = i == 0 ? 0 : rand_below(sizeof msg + 1);
            cv_random(msg, len);
            make_key(suite, &key);
            CHECK(key.suite == suite && key.pub.suite == suite);
            CHECK(key.pub.len == (suite == CV_SUITE_STD ? 32 : 65));
            sign_ok(&key, msg, len, &sig);
            CHECK(suite == CV_SUITE_STD ? sig.len == 64 : sig.len >= 8 && sig.len <= CV_SIG_MAX);
            /* The signature and key survive a round trip through their byte forms. */
            CHECK_OK(cv_pubkey_parse(suite, key.pub.bytes, key.pub.len, &pk));
            CHECK(pk.suite == suite && pk.len == key.pub.len && memcmp(pk.bytes, key.pub.bytes, pk.len) == 0);
            CHECK_OK(cv_sig_parse(suite, sig.bytes, sig.len, &parsed));
            CHECK(parsed.len == sig.len && memcmp(parsed.bytes, sig.bytes, sig.len) == 0);
            CHECK_OK(cv_verify(&pk, msg, len, &parsed));
            /* The secret alone rebuilds the key pair. */
            CHECK_OK(cv_key_from_secret(suite, key.secret, &again));
            CHECK(again.pub.len == key.pub.len && memcmp(again.pub.bytes, key.pub.bytes, key.pub.len) == 0);
            sign_ok(&again, msg, len, &sig2);
            CHECK_OK(cv_verify(&key.pub, msg, len, &sig2));
            if (suite == CV_SUITE_STD)
                CHECK(sig2.len == sig.len && memcmp(sig2.bytes, sig.bytes, sig.len) == 0);
            /* Another key's public key does not verify it. */
            cv_keypair other;
            make_key(suite, &other);
            CHECK_ERR(cv_verify(&other.pub, msg, len, &sig), CV_EBADSIG);
            cv_key_wipe(&other);
            cv_key_wipe(&again);
            cv_key_wipe(&key);
        }
    }
}

/* cv_key_wipe leaves nothing of the secret behind. */
static void test_key_wipe(void)
{
    for (int si = 0; si < 2; si++) {
        cv_keypair key;
        make_key(suites[si], &key);
        uint8_t zero[CV_SECRET_LEN] = {0};
        CHECK(memcmp(key.secret, zero, CV_SECRET_LEN) != 0);
        cv_key_wipe(&key);
        const uint8_t *p = (const uint8_t *)&key;
        size_t nonzero = 0;
        for (size_t i = 0; i < sizeof key; i++)
            nonzero += p[i] != 0;
        CHECK(nonzero == 0);
        CHECK(key.impl == NULL);
        cv_key_wipe(&key); /* wiping twice is harmless */
    }
}

/* ---- every single-bit flip is rejected -------------------------------------- */

static void test_bit_flips(cv_suite suite)
{
    uint8_t msg[16];
    cv_keypair key;
    cv_sig sig;
    cv_random(msg, sizeof msg);
    make_key(suite, &key);
    sign_ok(&key, msg, sizeof msg, &sig);
    CHECK_OK(cv_verify(&key.pub, msg, sizeof msg, &sig));
    size_t accepted = 0;

    /* message */
    for (size_t bit = 0; bit < 8 * sizeof msg; bit++) {
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        accepted += cv_verify(&key.pub, msg, sizeof msg, &sig) != CV_EBADSIG;
        msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    CHECK(accepted == 0);

    /* signature: cv_verify rejects every flip, whether or not it still parses */
    accepted = 0;
    size_t parsed_ok = 0;
    for (size_t bit = 0; bit < 8u * sig.len; bit++) {
        cv_sig bad = sig, parsed;
        bad.bytes[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        accepted += cv_verify(&key.pub, msg, sizeof msg, &bad) != CV_EBADSIG;
        if (cv_sig_parse(suite, bad.bytes, bad.len, &parsed) == CV_OK) {
            parsed_ok++;
            accepted += cv_verify(&key.pub, msg, sizeof msg, &parsed) != CV_EBADSIG;
        }
    }
    CHECK(accepted == 0);
    if (suite == CV_SUITE_STD)
        CHECK(parsed_ok == 8u * sig.len); /* any 64 bytes parse; verify decides */

    /* public key: a flipped key fails to parse or fails to verify */
    accepted = 0;
    size_t parse_fail = 0;
    for (size_t bit = 0; bit < 8u * key.pub.len; bit++) {
        uint8_t raw[CV_PUB_MAX];
        cv_pubkey pk;
        memcpy(raw, key.pub.bytes, key.pub.len);
        raw[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (cv_pubkey_parse(suite, raw, key.pub.len, &pk) != CV_OK) {
            parse_fail++;
            continue;
        }
        accepted += cv_verify(&pk, msg, sizeof msg, &sig) != CV_EBADSIG;
    }
    CHECK(accepted == 0);
    /* Almost every flip leaves the curve; for SM2 all of them do (or break the 04 prefix). */
    CHECK(parse_fail > 8u * key.pub.len / 4);
    if (suite == CV_SUITE_GM)
        CHECK(parse_fail == 8u * key.pub.len);

    /* The same flipped keys handed to cv_verify without parsing (as a careless
     * caller might) must not verify either. */
    accepted = 0;
    for (size_t bit = 0; bit < 8u * key.pub.len; bit++) {
        cv_pubkey pk = key.pub;
        pk.bytes[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        if (cv_verify(&pk, msg, sizeof msg, &sig) != CV_EBADSIG) {
            accepted++;
            fprintf(stderr, "  %s: unparsed public key with bit %zu flipped verifies\n",
                    cv_suite_name(suite), bit);
        }
    }
    CHECK(accepted == 0);
    cv_key_wipe(&key);
}

/* ---- context reuse across keys ---------------------------------------------- */

/* The negation of a public key: same x, other y (Ed25519: the sign bit of x). */
static void negate_pub(const cv_pubkey *in, cv_pubkey *out)
{
    *out = *in;
    if (in->suite == CV_SUITE_STD) {
        out->bytes[31] ^= 0x80;
        return;
    }
    BIGNUM *p = NULL, *y = BN_bin2bn(in->bytes + 33, 32, NULL);
    CHECK(BN_hex2bn(&p, SM2_P) > 0 && y && BN_sub(y, p, y) && BN_bn2binpad(y, out->bytes + 33, 32) == 32);
    BN_free(p);
    BN_free(y);
}

static void test_context_reuse(cv_suite suite)
{
    static const char m1[] = "transfer 100 to carol", m2[] = "transfer 999 to mallory";
    cv_keypair a, b;
    cv_sig sa, sb, sa2, sb2;
    cv_pubkey neg_a, parsed;
    make_key(suite, &a);
    make_key(suite, &b);

    /* sign with A, verify with A, then A's signature against B right after */
    sign_ok(&a, m1, sizeof m1, &sa);
    CHECK_OK(cv_verify(&a.pub, m1, sizeof m1, &sa));
    CHECK_ERR(cv_verify(&b.pub, m1, sizeof m1, &sa), CV_EBADSIG);
    /* and the other way round, and straight after signing with the other key */
    sign_ok(&b, m1, sizeof m1, &sb);
    CHECK_ERR(cv_verify(&a.pub, m1, sizeof m1, &sb), CV_EBADSIG);
    CHECK_OK(cv_verify(&b.pub, m1, sizeof m1, &sb));
    CHECK_ERR(cv_verify(&a.pub, m1, sizeof m1, &sb), CV_EBADSIG);
    sign_ok(&a, m2, sizeof m2, &sa2);
    CHECK_ERR(cv_verify(&b.pub, m2, sizeof m2, &sa2), CV_EBADSIG);
    sign_ok(&b, m2, sizeof m2, &sb2);
    CHECK_ERR(cv_verify(&a.pub, m2, sizeof m2, &sb2), CV_EBADSIG);
    CHECK_OK(cv_verify(&a.pub, m2, sizeof m2, &sa2));
    CHECK_OK(cv_verify(&b.pub, m2, sizeof m2, &sb2));

    /* A long interleaving: each verification's answer depends only on its own inputs. */
    const cv_keypair *keys[2] = {&a, &b};
    const cv_sig *sigs[2][2] = {{&sa, &sa2}, {&sb, &sb2}};
    const char *msgs[2] = {m1, m2};
    size_t wrong = 0;
    for (int i = 0; i < 64; i++) {
        /* verify with key k the signature by key s of msgs[m], over msgs[mm] */
        size_t k = rand_below(2), s = rand_below(2), m = rand_below(2), mm = rand_below(2);
        int want = k == s && m == mm ? CV_OK : CV_EBADSIG;
        if (i % 8 == 0) {
            cv_sig tmp;
            sign_ok(keys[rand_below(2)], msgs[mm], strlen(msgs[mm]) + 1, &tmp);
        }
        wrong += cv_verify(&keys[k]->pub, msgs[mm], strlen(msgs[mm]) + 1, sigs[s][m]) != want;
    }
    CHECK(wrong == 0);

    /* The negated key shares x with A (a cache keyed on x alone would be fooled). */
    negate_pub(&a.pub, &neg_a);
    CHECK(memcmp(neg_a.bytes, a.pub.bytes, a.pub.len) != 0);
    CHECK_OK(cv_pubkey_parse(suite, neg_a.bytes, neg_a.len, &parsed));
    CHECK_OK(cv_verify(&a.pub, m1, sizeof m1, &sa));
    CHECK_ERR(cv_verify(&parsed, m1, sizeof m1, &sa), CV_EBADSIG);
    CHECK_OK(cv_verify(&a.pub, m1, sizeof m1, &sa));
    CHECK_ERR(cv_verify(&parsed, m1, sizeof m1, &sa), CV_EBADSIG);
    cv_key_wipe(&a);
    cv_key_wipe(&b);
}

/* The same through cv_verify_batch on a 2-thread pool, with keys mixed
 * across items and suites: exactly the forged items fail. */
#define BATCH_KEYS 4
#define BATCH_N 96

typedef struct {
    cv_keypair keys[2][BATCH_KEYS];
    cv_pubkey negs[2][BATCH_KEYS];
    uint8_t msgs[BATCH_N][40];
    cv_sig sigs[BATCH_N];
    cv_verify_item items[BATCH_N];
    uint8_t expect[BATCH_N];
} batch_fixture;

static void batch_build(batch_fixture *f)
{
    for (size_t i = 0; i < BATCH_N; i++) {
        int si = (int)rand_below(2);
        size_t signer = rand_below(BATCH_KEYS);
        const cv_keypair *k = &f->keys[si][signer];
        cv_random(f->msgs[i], sizeof f->msgs[i]);
        sign_ok(k, f->msgs[i], sizeof f->msgs[i], &f->sigs[i]);
        f->items[i] = (cv_verify_item){&k->pub, f->msgs[i], sizeof f->msgs[i], &f->sigs[i]};
        f->expect[i] = 1;
        switch (rand_below(6)) {
        case 0: /* another key of the same suite */
            f->items[i].pub = &f->keys[si][(signer + 1 + rand_below(BATCH_KEYS - 1)) % BATCH_KEYS].pub;
            f->expect[i] = 0;
            break;
        case 1: /* the signer's negated key */
            f->items[i].pub = &f->negs[si][signer];
            f->expect[i] = 0;
            break;
        case 2: /* a key of the other suite */
            f->items[i].pub = &f->keys[1 - si][signer].pub;
            f->expect[i] = 0;
            break;
        default:
            break;
        }
    }
}

static void test_batch_context_reuse(void)
{
    batch_fixture *f = calloc(1, sizeof *f);
    CHECK(f != NULL);
    if (!f)
        return;
    for (int si = 0; si < 2; si++)
        for (int k = 0; k < BATCH_KEYS; k++) {
            make_key(suites[si], &f->keys[si][k]);
            negate_pub(&f->keys[si][k].pub, &f->negs[si][k]);
        }
    cv_pool *pool = NULL;
    CHECK_OK(cv_pool_create(2, &pool));
    if (!pool) {
        free(f);
        return;
    }
    uint8_t ok[BATCH_N];
    size_t mismatches = 0, forged = 0;
    for (int round = 0; round < 6; round++) {
        batch_build(f);
        for (size_t i = 0; i < BATCH_N; i++)
            forged += !f->expect[i];
        memset(ok, 0xee, sizeof ok);
        int rc = cv_verify_batch(pool, f->items, BATCH_N, ok);
        int any_bad = 0;
        for (size_t i = 0; i < BATCH_N; i++) {
            any_bad |= !f->expect[i];
            mismatches += ok[i] != f->expect[i];
        }
        CHECK(rc == (any_bad ? CV_EBADSIG : CV_OK));
    }
    CHECK(mismatches == 0);
    CHECK(forged > 0);
    /* All-valid batches succeed as a whole. */
    for (size_t i = 0; i < BATCH_N; i++) {
        int si = f->items[i].pub->suite == CV_SUITE_GM;
        f->items[i].pub = &f->keys[si][0].pub;
        sign_ok(&f->keys[si][0], f->msgs[i], sizeof f->msgs[i], &f->sigs[i]);
    }
    CHECK_OK(cv_verify_batch(pool, f->items, BATCH_N, ok));
    for (size_t i = 0; i < BATCH_N; i++)
        CHECK(ok[i] == 1);
    cv_pool_destroy(pool);
    for (int si = 0; si < 2; si++)
        for (int k = 0; k < BATCH_KEYS; k++)
            cv_key_wipe(&f->keys[si][k]);
    free(f);
}

/* cv_verify_batch gives, for every item, what cv_verify gives, with no pool,
 * one thread and two threads. */
static void test_batch_equals_single(void)
{
    enum { N = 50 };
    cv_keypair keys[2];
    uint8_t msgs[N][24];
    cv_sig sigs[N];
    cv_verify_item items[N];
    uint8_t single[N];
    for (int si = 0; si < 2; si++)
        make_key(suites[si], &keys[si]);
    for (size_t i = 0; i < N; i++) {
        const cv_keypair *k = &keys[i % 2];
        cv_random(msgs[i], sizeof msgs[i]);
        sign_ok(k, msgs[i], sizeof msgs[i], &sigs[i]);
        items[i] = (cv_verify_item){&k->pub, msgs[i], sizeof msgs[i], &sigs[i]};
        switch (i % 5) {
        case 1: msgs[i][rand_below(sizeof msgs[i])] ^= 1; break;       /* altered message */
        case 2: sigs[i].bytes[rand_below(sigs[i].len)] ^= 0x40; break; /* altered signature */
        case 3: items[i].len--; break;                                 /* truncated message */
        default: break;
        }
        single[i] = cv_verify(items[i].pub, items[i].msg, items[i].len, items[i].sig) == CV_OK;
    }
    size_t valid = 0;
    for (size_t i = 0; i < N; i++)
        valid += single[i];
    CHECK(valid >= 2 * N / 5 && valid < N);
    for (unsigned threads = 0; threads <= 2; threads++) {
        cv_pool *pool = NULL;
        if (threads)
            CHECK_OK(cv_pool_create(threads, &pool));
        uint8_t ok[N];
        memset(ok, 0x77, sizeof ok);
        CHECK_ERR(cv_verify_batch(pool, items, N, ok), CV_EBADSIG);
        CHECK(memcmp(ok, single, N) == 0);
        /* an empty batch is valid */
        CHECK_OK(cv_verify_batch(pool, items, 0, ok));
        /* only the valid ones: all pass */
        cv_verify_item good[N];
        size_t g = 0;
        for (size_t i = 0; i < N; i++)
            if (single[i])
                good[g++] = items[i];
        CHECK_OK(cv_verify_batch(pool, good, g, ok));
        for (size_t i = 0; i < g; i++)
            CHECK(ok[i] == 1);
        if (pool)
            cv_pool_destroy(pool);
    }
    cv_key_wipe(&keys[0]);
    cv_key_wipe(&keys[1]);
}

/* ---- addresses -------------------------------------------------------------- */

static void test_addresses(void)
{
    for (int si = 0; si < 2; si++) {
        cv_suite suite = suites[si];
        cv_keypair key;
        make_key(suite, &key);
        uint8_t addr[CV_ADDR_LEN], h[CV_HASH_LEN], back[CV_ADDR_LEN];
        char text[CV_ADDR_STR_MAX];
        cv_suite parsed;
        CHECK_OK(cv_address(&key.pub, addr));
        CHECK_OK(cv_hash(suite, key.pub.bytes, key.pub.len, h));
        CHECK(memcmp(addr, h, CV_ADDR_LEN) == 0);
        CHECK_OK(cv_address_string(&key.pub, text));
        const char *prefix = suite == CV_SUITE_STD ? "std:" : "gm:";
        CHECK(strncmp(text, prefix, strlen(prefix)) == 0);
        CHECK(strlen(text) == strlen(prefix) + 2 * CV_ADDR_LEN);
        CHECK(strlen(text) < CV_ADDR_STR_MAX);
        char hex[2 * CV_ADDR_LEN + 1];
        cv_hex_encode(addr, CV_ADDR_LEN, hex);
        CHECK(strcmp(text + strlen(prefix), hex) == 0);
        CHECK_OK(cv_address_parse(text, &parsed, back));
        CHECK(parsed == suite && memcmp(back, addr, CV_ADDR_LEN) == 0);
        /* different keys, different addresses */
        cv_keypair other;
        uint8_t addr2[CV_ADDR_LEN];
        make_key(suite, &other);
        CHECK_OK(cv_address(&other.pub, addr2));
        CHECK(memcmp(addr, addr2, CV_ADDR_LEN) != 0);
        cv_key_wipe(&other);
        /* Upper-case hex is the same address. */
        char upper[CV_ADDR_STR_MAX];
        strcpy(upper, text);
        for (char *c = upper + strlen(prefix); *c; c++)
            if (*c >= 'a' && *c <= 'f')
                *c = (char)(*c - 'a' + 'A');
        CHECK_OK(cv_address_parse(upper, &parsed, back));
        CHECK(memcmp(back, addr, CV_ADDR_LEN) == 0);
        cv_key_wipe(&key);
    }
    /* Parse errors name the problem. */
    static const char *bad[] = {
        "",
        "0123456789012345678901234567890123456789",
        "eth:0123456789012345678901234567890123456789",
        "STD:0123456789012345678901234567890123456789",
        "std:012345678901234567890123456789012345678",
        "std:01234567890123456789012345678901234567890",
        "std:012345678901234567890123456789012345678g",
        "std:",
        ":0123456789012345678901234567890123456789",
        "gm:0x23456789012345678901234567890123456789",
        "std: 123456789012345678901234567890123456789",
        "verylongsuitename:0123456789012345678901234567890123456789",
    };
    cv_suite s;
    uint8_t out[CV_ADDR_LEN];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = cv_address_parse(bad[i], &s, out);
        CHECK(rc == CV_EINVAL);
        if (rc != CV_EINVAL)
            fprintf(stderr, "  address \"%s\" was accepted\n", bad[i]);
    }
    CHECK_ERR(cv_address_parse("std:01234567890123456789012345678901234567", &s, out), CV_EINVAL);
    CHECK_MSG("40 hex digits");
    CHECK_ERR(cv_address_parse("0123456789012345678901234567890123456789", &s, out), CV_EINVAL);
    CHECK_MSG("prefix");
}

/* ---- public key and signature parsing --------------------------------------- */

/* Independent Ed25519 decoding check: is the 32-byte encoding a point of
 * -x^2 + y^2 = 1 + d x^2 y^2 (canonical y, and x = 0 only with sign 0)? */
static int ed25519_on_curve(const uint8_t enc[32])
{
    uint8_t be[32];
    for (int i = 0; i < 32; i++)
        be[i] = enc[31 - i];
    int sign = be[0] >> 7;
    be[0] &= 0x7f;
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = BN_new(), *y = BN_bin2bn(be, 32, NULL), *d = BN_new(), *t = BN_new(), *u = BN_new(),
           *v = BN_new(), *e = BN_new();
    int result = 0;
    /* p = 2^255 - 19; d = -121665 / 121666 mod p */
    BN_set_bit(p, 255);
    BN_sub_word(p, 19);
    if (BN_cmp(y, p) >= 0)
        goto done;
    BN_set_word(t, 121666);
    BN_mod_inverse(t, t, p, ctx);
    BN_set_word(d, 121665);
    BN_mod_mul(d, d, t, p, ctx);
    BN_sub(d, p, d);
    BN_mod_sqr(t, y, p, ctx);  /* t = y^2 */
    BN_copy(u, t);
    BN_sub_word(u, 1);         /* u = y^2 - 1 (y^2 >= 1 unless y = 0) */
    if (BN_is_zero(y)) {
        BN_sub(u, p, BN_value_one());
    }
    BN_mod(u, u, p, ctx);
    BN_mod_mul(v, d, t, p, ctx);
    BN_add_word(v, 1);         /* v = d y^2 + 1 */
    BN_mod(v, v, p, ctx);
    if (BN_is_zero(u)) {
        result = !sign;        /* x = 0 */
        goto done;
    }
    BN_mod_inverse(v, v, p, ctx);
    BN_mod_mul(u, u, v, p, ctx); /* x^2 */
    BN_rshift1(e, p);            /* (p - 1) / 2 */
    BN_mod_exp(u, u, e, p, ctx);
    result = BN_is_one(u);
done:
    BN_free(p), BN_free(y), BN_free(d), BN_free(t), BN_free(u), BN_free(v), BN_free(e);
    BN_CTX_free(ctx);
    return result;
}

/* Independent SM2 check: y^2 = x^3 - 3x + b (mod p), both coordinates < p. */
static int sm2_on_curve(const uint8_t pub[65])
{
    BN_CTX *ctx = BN_CTX_new();
    BIGNUM *p = NULL, *b = NULL, *x = BN_bin2bn(pub + 1, 32, NULL), *y = BN_bin2bn(pub + 33, 32, NULL),
           *l = BN_new(), *r = BN_new(), *t = BN_new();
    BN_hex2bn(&p, SM2_P);
    BN_hex2bn(&b, SM2_B);
    int result = 0;
    if (BN_cmp(x, p) < 0 && BN_cmp(y, p) < 0) {
        BN_mod_sqr(l, y, p, ctx);
        BN_mod_sqr(r, x, p, ctx);
        BN_mod_mul(r, r, x, p, ctx);
        BN_copy(t, x);
        BN_mul_word(t, 3);
        BN_mod_sub(r, r, t, p, ctx);
        BN_mod_add(r, r, b, p, ctx);
        result = BN_cmp(l, r) == 0;
    }
    BN_free(p), BN_free(b), BN_free(x), BN_free(y), BN_free(l), BN_free(r), BN_free(t);
    BN_CTX_free(ctx);
    return result;
}

static void test_pubkey_parse_std(void)
{
    cv_pubkey pk;
    cv_keypair key;
    make_key(CV_SUITE_STD, &key);
    CHECK(ed25519_on_curve(key.pub.bytes));
    CHECK_OK(cv_pubkey_parse(CV_SUITE_STD, key.pub.bytes, 32, &pk));
    /* wrong lengths */
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_STD, key.pub.bytes, 31, &pk), CV_EINVAL);
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_STD, key.pub.bytes, 33, &pk), CV_EINVAL);
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_STD, key.pub.bytes, 0, &pk), CV_EINVAL);
    /* an SM2 key is not an Ed25519 key */
    cv_keypair gm;
    make_key(CV_SUITE_GM, &gm);
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_STD, gm.pub.bytes, 65, &pk), CV_EINVAL);
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_GM, key.pub.bytes, 32, &pk), CV_EINVAL);
    CHECK_ERR(cv_pubkey_parse((cv_suite)0, key.pub.bytes, 32, &pk), CV_EINVAL);
    cv_key_wipe(&gm);
    /* the identity, the point of order 2, and the points of order 4 and 8 */
    static const char *small[] = {
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    };
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        uint8_t raw[32];
        unhex(small[i], raw, 32);
        CHECK(ed25519_on_curve(raw)); /* they are points, so refusal is for their order */
        CHECK_ERR(cv_pubkey_parse(CV_SUITE_STD, raw, 32, &pk), CV_EINVAL);
    }
    /* y >= p (non-canonical) */
    uint8_t noncanon[32];
    unhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", noncanon, 32);
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_STD, noncanon, 32, &pk), CV_EINVAL);
    unhex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", noncanon, 32);
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_STD, noncanon, 32, &pk), CV_EINVAL);
    /* Encodings that are not points (checked here with BIGNUM) are refused. */
    size_t off = 0;
    for (unsigned y = 2; y < 200; y++) {
        uint8_t raw[32] = {0};
        raw[0] = (uint8_t)y;
        if (!ed25519_on_curve(raw)) {
            off++;
            CHECK_ERR(cv_pubkey_parse(CV_SUITE_STD, raw, 32, &pk), CV_EINVAL);
        }
    }
    CHECK(off > 50);
    /* random 32-byte strings: never accepted when off the curve */
    size_t accepted_off = 0;
    for (int i = 0; i < 300; i++) {
        uint8_t raw[32];
        cv_random(raw, 32);
        if (!ed25519_on_curve(raw))
            accepted_off += cv_pubkey_parse(CV_SUITE_STD, raw, 32, &pk) == CV_OK;
    }
    CHECK(accepted_off == 0);
    cv_key_wipe(&key);
}

static void test_pubkey_parse_gm(void)
{
    cv_pubkey pk;
    cv_keypair key;
    uint8_t raw[65];
    make_key(CV_SUITE_GM, &key);
    CHECK(key.pub.bytes[0] == 0x04 && sm2_on_curve(key.pub.bytes));
    CHECK_OK(cv_pubkey_parse(CV_SUITE_GM, key.pub.bytes, 65, &pk));
    /* short, long, compressed */
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_GM, key.pub.bytes, 64, &pk), CV_EINVAL);
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_GM, key.pub.bytes + 1, 64, &pk), CV_EINVAL);
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_GM, key.pub.bytes, 33, &pk), CV_EINVAL);
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_GM, key.pub.bytes, 0, &pk), CV_EINVAL);
    raw[0] = (uint8_t)(2 + (key.pub.bytes[64] & 1));
    memcpy(raw + 1, key.pub.bytes + 1, 32);
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_GM, raw, 33, &pk), CV_EINVAL);
    /* the point at infinity: its one-byte encoding, and 04||0||0 */
    raw[0] = 0;
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_GM, raw, 1, &pk), CV_EINVAL);
    memset(raw, 0, 65);
    raw[0] = 0x04;
    CHECK(!sm2_on_curve(raw));
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_GM, raw, 65, &pk), CV_EINVAL);
    /* The hybrid encoding 06/07 (with y's parity) of a valid point is refused,
     * and does not verify even when handed to cv_verify unparsed: one key
     * must not have two byte forms (and so two addresses). */
    memcpy(raw, key.pub.bytes, 65);
    raw[0] = (uint8_t)(6 + (raw[64] & 1));
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_GM, raw, 65, &pk), CV_EINVAL);
    {
        cv_sig sig;
        cv_pubkey hybrid = key.pub;
        hybrid.bytes[0] = raw[0];
        sign_ok(&key, "hybrid", 6, &sig);
        CHECK_OK(cv_verify(&key.pub, "hybrid", 6, &sig));
        CHECK_ERR(cv_verify(&hybrid, "hybrid", 6, &sig), CV_EBADSIG);
    }
    /* off the curve: y + 1, x + 1, and random coordinates */
    memcpy(raw, key.pub.bytes, 65);
    raw[64] ^= 1;
    CHECK(!sm2_on_curve(raw));
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_GM, raw, 65, &pk), CV_EINVAL);
    CHECK_MSG("curve");
    size_t accepted_off = 0;
    for (int i = 0; i < 200; i++) {
        raw[0] = 0x04;
        cv_random(raw + 1, 64);
        if (!sm2_on_curve(raw))
            accepted_off += cv_pubkey_parse(CV_SUITE_GM, raw, 65, &pk) == CV_OK;
    }
    CHECK(accepted_off == 0);
    /* coordinates >= p: x = p with y copied */
    memcpy(raw, key.pub.bytes, 65);
    unhex(SM2_P, raw + 1, 32);
    CHECK_ERR(cv_pubkey_parse(CV_SUITE_GM, raw, 65, &pk), CV_EINVAL);
    /* the negation is a valid point and parses */
    cv_pubkey neg;
    negate_pub(&key.pub, &neg);
    CHECK(sm2_on_curve(neg.bytes));
    CHECK_OK(cv_pubkey_parse(CV_SUITE_GM, neg.bytes, 65, &pk));
    cv_key_wipe(&key);
}

static void test_sig_parse(void)
{
    cv_sig sig;
    uint8_t buf[80];
    memset(buf, 0x11, sizeof buf);
    /* std: exactly 64 bytes */
    CHECK_OK(cv_sig_parse(CV_SUITE_STD, buf, 64, &sig));
    CHECK(sig.len == 64);
    CHECK_ERR(cv_sig_parse(CV_SUITE_STD, buf, 63, &sig), CV_EINVAL);
    CHECK_ERR(cv_sig_parse(CV_SUITE_STD, buf, 65, &sig), CV_EINVAL);
    CHECK_ERR(cv_sig_parse(CV_SUITE_STD, buf, 0, &sig), CV_EINVAL);

    /* gm: canonical DER only */
    uint8_t r[32], s[32], der[80];
    unhex(sm2_r, r, 32);
    unhex(sm2_s, s, 32);
    size_t n = der_rs(r, s, der);
    CHECK_OK(cv_sig_parse(CV_SUITE_GM, der, n, &sig));
    CHECK(sig.len == n && memcmp(sig.bytes, der, n) == 0);
    /* small r and s: minimal encodings are shorter and still parse */
    uint8_t small_r[32] = {0}, small_s[32] = {0};
    small_r[31] = 5;
    small_s[30] = 0x80; /* needs a 00 pad */
    small_s[31] = 1;
    size_t sn = der_rs(small_r, small_s, der);
    static const uint8_t small_der[] = {0x30, 0x08, 0x02, 0x01, 0x05, 0x02, 0x03, 0x00, 0x80, 0x01};
    CHECK(sn == sizeof small_der && memcmp(der, small_der, sn) == 0);
    CHECK_OK(cv_sig_parse(CV_SUITE_GM, small_der, sizeof small_der, &sig));
    size_t bad_count = 0;
    uint8_t v[80];
#define EXPECT_BAD(bytes, len)                                                  \
    do {                                                                        \
        bad_count++;                                                            \
        CHECK_ERR(cv_sig_parse(CV_SUITE_GM, (bytes), (len), &sig), CV_EINVAL); \
    } while (0)
    n = der_rs(r, s, der);
    /* trailing byte */
    memcpy(v, der, n);
    v[n] = 0;
    EXPECT_BAD(v, n + 1);
    /* truncated */
    EXPECT_BAD(der, n - 1);
    EXPECT_BAD(der, 0);
    EXPECT_BAD(der, 7);
    /* wrong outer tag (SET) and wrong integer tag */
    memcpy(v, der, n);
    v[0] = 0x31;
    EXPECT_BAD(v, n);
    memcpy(v, der, n);
    v[2] = 0x03;
    EXPECT_BAD(v, n);
    /* long-form outer length 30 81 08 ... (BER, not DER) */
    {
        uint8_t w[] = {0x30, 0x81, 0x08, 0x02, 0x01, 0x05, 0x02, 0x03, 0x00, 0x80, 0x01};
        EXPECT_BAD(w, sizeof w);
    }
    /* indefinite length 30 80 ... 00 00 */
    {
        uint8_t w[] = {0x30, 0x80, 0x02, 0x01, 0x05, 0x02, 0x03, 0x00, 0x80, 0x01, 0x00, 0x00};
        EXPECT_BAD(w, sizeof w);
    }
    /* s without its 00 pad: a negative INTEGER */
    {
        uint8_t w[] = {0x30, 0x07, 0x02, 0x01, 0x05, 0x02, 0x02, 0x80, 0x01};
        EXPECT_BAD(w, sizeof w);
    }
    /* outer length one too long / too short */
    memcpy(v, der, n);
    v[1]++;
    EXPECT_BAD(v, n);
    memcpy(v, der, n);
    v[1]--;
    EXPECT_BAD(v, n);
    /* r without its 00 pad: a negative INTEGER */
    {
        size_t k = 0;
        v[k++] = 0x30;
        v[k++] = 0x44;
        v[k++] = 0x02;
        v[k++] = 0x20;
        memcpy(v + k, r, 32);
        k += 32;
        v[k++] = 0x02;
        v[k++] = 0x20;
        memcpy(v + k, s, 32);
        k += 32;
        EXPECT_BAD(v, k);
    }
    /* a needless leading 00 on a small r: 02 02 00 05 */
    {
        uint8_t w[] = {0x30, 0x09, 0x02, 0x02, 0x00, 0x05, 0x02, 0x03, 0x00, 0x80, 0x01};
        EXPECT_BAD(w, sizeof w);
    }
    /* a needless 00 pad on s: 02 04 00 00 80 01 */
    {
        uint8_t w[] = {0x30, 0x09, 0x02, 0x01, 0x05, 0x02, 0x04, 0x00, 0x00, 0x80, 0x01};
        EXPECT_BAD(w, sizeof w);
    }
    /* long-form integer length 02 81 01 */
    {
        uint8_t w[] = {0x30, 0x09, 0x02, 0x81, 0x01, 0x05, 0x02, 0x03, 0x00, 0x80, 0x01};
        EXPECT_BAD(w, sizeof w);
    }
    /* an empty INTEGER */
    {
        uint8_t w[] = {0x30, 0x07, 0x02, 0x00, 0x02, 0x03, 0x00, 0x80, 0x01};
        EXPECT_BAD(w, sizeof w);
    }
    /* a third integer in the sequence */
    {
        uint8_t w[] = {0x30, 0x09, 0x02, 0x01, 0x05, 0x02, 0x01, 0x06, 0x02, 0x01, 0x07};
        EXPECT_BAD(w, sizeof w);
    }
    /* too long for a cv_sig */
    memset(v, 0, sizeof v);
    EXPECT_BAD(v, 73);
#undef EXPECT_BAD
    CHECK(bad_count >= 15);
}

/* Values outside [1, n-1] are refused by cv_verify even in valid DER. */
static void test_sm2_signature_range(void)
{
    uint8_t pub[65], r[32], s[32], zero[32] = {0}, n[32], der[80];
    cv_pubkey pk;
    cv_sig sig;
    unhex(sm2_pub, pub, 65);
    unhex(sm2_r, r, 32);
    unhex(sm2_s, s, 32);
    unhex(SM2_N, n, 32);
    CHECK_OK(cv_pubkey_parse(CV_SUITE_GM, pub, 65, &pk));
    const uint8_t *pairs[][2] = {{zero, s}, {r, zero}, {n, s}, {r, n}, {zero, zero}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        size_t len = der_rs(pairs[i][0], pairs[i][1], der);
        sig.len = (uint8_t)len;
        memcpy(sig.bytes, der, len);
        CHECK_ERR(cv_verify(&pk, sm2_msg, strlen(sm2_msg), &sig), CV_EBADSIG);
    }
    /* r + n: the same value mod n, encoded as 33 bytes, is refused */
    BIGNUM *bn_r = BN_bin2bn(r, 32, NULL), *bn_n = BN_bin2bn(n, 32, NULL);
    BN_add(bn_r, bn_r, bn_n);
    uint8_t big[33];
    CHECK(BN_bn2binpad(bn_r, big, 33) == 33);
    size_t k = 0;
    der[k++] = 0x30;
    der[k++] = 0;
    der[k++] = 0x02;
    der[k++] = (uint8_t)(33 + (big[0] >> 7));
    if (big[0] >> 7)
        der[k++] = 0;
    memcpy(der + k, big, 33);
    k += 33;
    der[k++] = 0x02;
    der[k++] = 0x21;
    der[k++] = 0x00;
    memcpy(der + k, s, 32);
    k += 32;
    der[1] = (uint8_t)(k - 2);
    sig.len = (uint8_t)k;
    memcpy(sig.bytes, der, k);
    CHECK_ERR(cv_verify(&pk, sm2_msg, strlen(sm2_msg), &sig), CV_EBADSIG);
    BN_free(bn_r);
    BN_free(bn_n);
    /* an Ed25519-sized signature or an empty one under an SM2 key */
    sig.len = 64;
    memset(sig.bytes, 0x30, 64);
    CHECK_ERR(cv_verify(&pk, sm2_msg, strlen(sm2_msg), &sig), CV_EBADSIG);
    sig.len = 0;
    CHECK_ERR(cv_verify(&pk, sm2_msg, strlen(sm2_msg), &sig), CV_EBADSIG);
}

/* ---- AEAD ------------------------------------------------------------------- */

static void test_aead(cv_suite suite)
{
    size_t klen = cv_aead_key_len(suite), nlen = cv_aead_nonce_len(suite);
    CHECK(klen == (suite == CV_SUITE_STD ? 32u : 16u));
    CHECK(nlen == (suite == CV_SUITE_STD ? 24u : 12u));
    uint8_t key[CV_AEAD_KEY_MAX], nonce[CV_AEAD_NONCE_MAX], ad[13], plain[300], sealed[300 + 16],
        back[300];
    cv_random(key, klen);
    cv_random(nonce, nlen);
    cv_random(ad, sizeof ad);
    /* round trips at lengths around the block size */
    static const size_t lens[] = {0, 1, 15, 16, 17, 31, 32, 33, 64, 255, 300};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t len = lens[i];
        cv_random(plain, len);
        CHECK_OK(cv_aead_seal(suite, key, nonce, ad, sizeof ad, plain, len, sealed));
        CHECK(len < 16 || memcmp(sealed, plain, len) != 0);
        memset(back, 0, sizeof back);
        CHECK_OK(cv_aead_open(suite, key, nonce, ad, sizeof ad, sealed, len + 16, back));
        CHECK(memcmp(back, plain, len) == 0);
        /* without associated data too */
        CHECK_OK(cv_aead_seal(suite, key, nonce, NULL, 0, plain, len, sealed));
        CHECK_OK(cv_aead_open(suite, key, nonce, NULL, 0, sealed, len + 16, back));
        CHECK(memcmp(back, plain, len) == 0);
    }
    /* every bit of a sealed payload flipped: authentication fails */
    size_t len = 40;
    cv_random(plain, len);
    CHECK_OK(cv_aead_seal(suite, key, nonce, ad, sizeof ad, plain, len, sealed));
    size_t accepted = 0;
    for (size_t bit = 0; bit < 8 * (len + 16); bit++) {
        sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        accepted += cv_aead_open(suite, key, nonce, ad, sizeof ad, sealed, len + 16, back) != CV_EBADSIG;
        sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    CHECK(accepted == 0);
    /* and every bit of the associated data, the key and the nonce */
    accepted = 0;
    for (size_t bit = 0; bit < 8 * sizeof ad; bit++) {
        ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        accepted += cv_aead_open(suite, key, nonce, ad, sizeof ad, sealed, len + 16, back) != CV_EBADSIG;
        ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    for (size_t byte = 0; byte < klen; byte++) {
        key[byte] ^= 0x01;
        accepted += cv_aead_open(suite, key, nonce, ad, sizeof ad, sealed, len + 16, back) != CV_EBADSIG;
        key[byte] ^= 0x01;
    }
    for (size_t byte = 0; byte < nlen; byte++) {
        nonce[byte] ^= 0x80;
        accepted += cv_aead_open(suite, key, nonce, ad, sizeof ad, sealed, len + 16, back) != CV_EBADSIG;
        nonce[byte] ^= 0x80;
    }
    CHECK(accepted == 0);
    /* truncated payloads and dropped associated data */
    CHECK_ERR(cv_aead_open(suite, key, nonce, ad, sizeof ad, sealed, len + 15, back), CV_EBADSIG);
    CHECK_ERR(cv_aead_open(suite, key, nonce, ad, sizeof ad - 1, sealed, len + 16, back), CV_EBADSIG);
    CHECK_ERR(cv_aead_open(suite, key, nonce, NULL, 0, sealed, len + 16, back), CV_EBADSIG);
    CHECK_ERR(cv_aead_open(suite, key, nonce, ad, sizeof ad, sealed, 15, back), CV_EINVAL);
    CHECK_OK(cv_aead_open(suite, key, nonce, ad, sizeof ad, sealed, len + 16, back));
    CHECK(memcmp(back, plain, len) == 0);
    /* a fresh nonce gives a different ciphertext for the same plaintext */
    uint8_t sealed2[300 + 16];
    nonce[0] ^= 1;
    CHECK_OK(cv_aead_seal(suite, key, nonce, ad, sizeof ad, plain, len, sealed2));
    CHECK(memcmp(sealed, sealed2, len + 16) != 0);
}

int main(void)
{
    CHECK_OK(cv_crypto_init());
    CHECK_OK(cv_crypto_selftest());
    test_suite_names();
    test_hash_vectors();
    test_hasher_incremental();
    test_ed25519_vectors();
    test_ed25519_noncanonical_s();
    test_sm2_vector();
    test_sm2_secret_range();
    test_sm4gcm_vector();
    test_round_trips();
    test_key_wipe();
    for (int si = 0; si < 2; si++) {
        test_bit_flips(suites[si]);
        test_context_reuse(suites[si]);
        test_aead(suites[si]);
    }
    test_batch_context_reuse();
    test_batch_equals_single();
    test_addresses();
    test_pubkey_parse_std();
    test_pubkey_parse_gm();
    test_sig_parse();
    test_sm2_signature_range();
    cv_crypto_cleanup();
    return check_done();
}
