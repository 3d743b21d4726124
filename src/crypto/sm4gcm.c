/* sm4gcm.c: SM4-GCM (GB/T 36624-2018, RFC 8998) for the gm suite's sealed
 * payloads. OpenSSL 3.0 has SM4 but not its GCM mode, so GCM is built here
 * from SM4-ECB (the hash key and tag mask) and SM4-CTR (the keystream),
 * following NIST SP 800-38D with a 96-bit nonce.
 *
 * OpenSSL's CTR increments all 128 counter bits while GCM's inc32 wraps the
 * low 32; they agree while the low word does not wrap, which the length
 * limit below (2^32 - 2 blocks) guarantees. GHASH is the bitwise
 * multiplication of SP 800-38D Algorithm 1: simple and adequate for payloads
 * (key files, sealed records), not for bulk traffic. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base/err.h"
#include "crypto/impl.h"

#define GCM_MAX_BLOCKS 0xFFFFFFFEull

typedef struct {
    uint64_t hi, lo;
} gf128;

static gf128 load_be128(const uint8_t b[16])
{
    gf128 x = {0, 0};
    for (int i = 0; i < 8; i++) {
        x.hi = x.hi << 8 | b[i];
        x.lo = x.lo << 8 | b[8 + i];
    }
    return x;
}

static void store_be128(gf128 x, uint8_t b[16])
{
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)x.hi;
        b[8 + i] = (uint8_t)x.lo;
        x.hi >>= 8;
        x.lo >>= 8;
    }
}

/* X * Y in GF(2^128) with GCM's bit order (SP 800-38D, Algorithm 1). */
static gf128 gf128_mul(gf128 x, gf128 y)
{
    gf128 z = {0, 0}, v = y;
    for (int i = 0; i < 128; i++) {
        uint64_t bit = i < 64 ? (x.hi >> (63 - i)) & 1 : (x.lo >> (127 - i)) & 1;
        if (bit) {
            z.hi ^= v.hi;
            z.lo ^= v.lo;
        }
        uint64_t carry = v.lo & 1;
        v.lo = v.lo >> 1 | v.hi << 63;
        v.hi >>= 1;
        if (carry)
            v.hi ^= 0xE100000000000000ull;
    }
    return z;
}

/* Absorbs data into the GHASH state, zero-padding the last block. */
static gf128 ghash_absorb(gf128 y, gf128 h, const uint8_t *p, size_t len)
{
    while (len > 0) {
        uint8_t block[16] = {0};
        size_t n = len < 16 ? len : 16;
        memcpy(block, p, n);
        gf128 x = load_be128(block);
        y.hi ^= x.hi;
        y.lo ^= x.lo;
        y = gf128_mul(y, h);
        p += n;
        len -= n;
    }
    return y;
}

/* Runs SM4 in mode (ECB or CTR) over in[len] into out; ok is 1 on success. */
static int sm4_crypt(const char *mode, const uint8_t key[16], const uint8_t *iv,
                     const uint8_t *in, size_t len, uint8_t *out)
{
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, mode, NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outl = 0, finl = 0, ok = cipher && ctx && EVP_EncryptInit_ex(ctx, cipher, NULL, key, iv) &&
                                 EVP_CIPHER_CTX_set_padding(ctx, 0);
    for (size_t done = 0; ok && done < len; done += (size_t)outl) {
        int chunk = len - done > (1u << 30) ? 1 << 30 : (int)(len - done);
        ok = EVP_EncryptUpdate(ctx, out + done, &outl, in + done, chunk) && outl == chunk;
    }
    ok = ok && EVP_EncryptFinal_ex(ctx, out + len, &finl) && finl == 0;
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(cipher);
    return ok;
}

/* The tag over ad and ciphertext c (SP 800-38D steps 5-6). */
static int gcm_tag(const uint8_t key[16], const uint8_t j0[16], const void *ad, size_t ad_len,
                   const uint8_t *c, size_t len, uint8_t tag[16])
{
    static const uint8_t zero[16];
    uint8_t hb[16], ek_j0[16], lens[16];
    if (!sm4_crypt("SM4-ECB", key, NULL, zero, 16, hb) || !sm4_crypt("SM4-ECB", key, NULL, j0, 16, ek_j0))
        return cv_fail(CV_ECRYPTO, "SM4 block encryption failed");
    gf128 h = load_be128(hb), y = {0, 0};
    y = ghash_absorb(y, h, ad, ad_len);
    y = ghash_absorb(y, h, c, len);
    store_be128((gf128){(uint64_t)ad_len * 8, (uint64_t)len * 8}, lens);
    y = ghash_absorb(y, h, lens, 16);
    store_be128(y, tag);
    for (int i = 0; i < 16; i++)
        tag[i] ^= ek_j0[i];
    OPENSSL_cleanse(hb, sizeof hb);
    return CV_OK;
}

static void make_counters(const uint8_t nonce[12], uint8_t j0[16], uint8_t ctr1[16])
{
    memcpy(j0, nonce, 12);
    memcpy(j0 + 12, "\0\0\0\1", 4);
    memcpy(ctr1, nonce, 12);
    memcpy(ctr1 + 12, "\0\0\0\2", 4);
}

static int check_length(size_t len)
{
    if ((uint64_t)len / 16 >= GCM_MAX_BLOCKS)
        return cv_fail(CV_EINVAL, "SM4-GCM payload too large (%zu bytes)", len);
    return CV_OK;
}

int cv_sm4gcm_seal(const uint8_t key[16], const uint8_t nonce[12], const void *ad, size_t ad_len,
                   const void *plain, size_t len, uint8_t *out)
{
    uint8_t j0[16], ctr1[16];
    int rc = check_length(len);
    if (rc)
        return rc;
    make_counters(nonce, j0, ctr1);
    if (len && !sm4_crypt("SM4-CTR", key, ctr1, plain, len, out))
        return cv_fail(CV_ECRYPTO, "SM4-CTR encryption failed");
    return gcm_tag(key, j0, ad, ad_len, out, len, out + len);
}

int cv_sm4gcm_open(const uint8_t key[16], const uint8_t nonce[12], const void *ad, size_t ad_len,
                   const uint8_t *sealed, size_t len, uint8_t *out)
{
    uint8_t j0[16], ctr1[16], tag[16];
    if (len < CV_AEAD_TAG_LEN)
        return cv_fail(CV_EINVAL, "sealed payload shorter than its tag");
    size_t clen = len - CV_AEAD_TAG_LEN;
    int rc = check_length(clen);
    if (rc)
        return rc;
    make_counters(nonce, j0, ctr1);
    if ((rc = gcm_tag(key, j0, ad, ad_len, sealed, clen, tag)))
        return rc;
    if (CRYPTO_memcmp(tag, sealed + clen, 16) != 0)
        return cv_fail(CV_EBADSIG, "SM4-GCM authentication failed (wrong key or altered data)");
    if (clen && !sm4_crypt("SM4-CTR", key, ctr1, sealed, clen, out))
        return cv_fail(CV_ECRYPTO, "SM4-CTR decryption failed");
    return CV_OK;
}
