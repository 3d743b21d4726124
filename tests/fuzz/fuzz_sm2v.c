/* fuzz_sm2v.c: libFuzzer differential target: the fast SM2 verifier
 * (crypto/sm2v.h) against OpenSSL 3.0 (crypto/sm2v_ref.h). Aborts, printing
 * the inputs, whenever the two give different answers.
 *
 * The first input byte picks a mode:
 *   0 raw      pub (65) || sig length (1) || sig || msg          message level
 *   1 signed   key (1) || msg length (1) || msg || edits          message level
 *              OpenSSL signs msg with a fixed key, then the edits change
 *              the DER signature
 *   2 crafted  key (1) || r (32) || s (32) || tweak (1) || edits   digest level
 *              e is chosen so that (r, s) is valid (e = r - x(sG + tP) mod n,
 *              when that point exists), then tweaked: kept, + n, a bit
 *              flipped; the DER encoding of (r, s) then gets the edits
 *   3 digest   pub (65) || e (32) || sig                           digest level
 * An edit is two bytes (op, value): op % 4 picks xor a byte at op / 4,
 * truncate there, append value, or insert value there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>

#include "base/err.h"
#include "crypto/sm2v.h"
#include "crypto/sm2v_ref.h"

#define KEYS 5
#define SIG_BUF 96

typedef struct {
    uint8_t b[SIG_BUF];
    size_t len;
} sig_buf;

typedef struct {
    EVP_PKEY *pkey;
    uint8_t pub[65];
} fuzz_key;

static EC_GROUP *group;
static BN_CTX *bn;
static fuzz_key keys[KEYS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- fixed keys: the GB/T 32918 example key, 1, 2, n - 2, 2^128 + 1 ---- */

static int make_key(const BIGNUM *d, fuzz_key *out)
{
    EC_POINT *pt = EC_POINT_new(group);
    uint8_t d_bytes[32];
    int ok = pt && EC_POINT_mul(group, pt, d, NULL, NULL, bn) &&
             EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, out->pub, 65, bn) ==
                 65 &&
             BN_bn2binpad(d, d_bytes, 32) == 32 &&
             cv_sm2v_ref_key(out->pub, d_bytes, &out->pkey) == CV_OK;
    EC_POINT_free(pt);
    return ok;
}

static void setup(void)
{
    group = EC_GROUP_new_by_curve_name(NID_sm2);
    bn = BN_CTX_new();
    BIGNUM *d = NULL;
    int ok = group && bn && BN_hex2bn(&d, "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8");
    for (int i = 0; i < KEYS && ok; i++) {
        switch (i) {
        case 0: break;
        case 1: ok = BN_set_word(d, 1); break;
        case 2: ok = BN_set_word(d, 2); break;
        case 3: ok = BN_copy(d, EC_GROUP_get0_order(group)) && BN_sub_word(d, 2); break;
        default: ok = BN_set_word(d, 1) && BN_lshift(d, d, 128) && BN_add_word(d, 1); break;
        }
        ok = ok && make_key(d, &keys[i]);
    }
    BN_free(d);
    if (!ok) {
        fprintf(stderr, "fuzz_sm2v: setup failed\n");
        abort();
    }
}

/* ---- input reading ----------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t left;
} reader;

/* Copies up to n bytes (zero-filling the rest); returns how many were read. */
static size_t take(reader *in, uint8_t *out, size_t n)
{
    size_t got = n < in->left ? n : in->left;
    memcpy(out, in->p, got);
    memset(out + got, 0, n - got);
    in->p += got;
    in->left -= got;
    return got;
}

static uint8_t take_byte(reader *in)
{
    uint8_t b;
    take(in, &b, 1);
    return b;
}

/* Applies the remaining input as edits to sig. */
static void apply_edits(reader *in, sig_buf *sig)
{
    while (in->left >= 2) {
        uint8_t op = take_byte(in), value = take_byte(in);
        size_t at = sig->len ? (size_t)(op >> 2) % (sig->len + 1) : 0;
        switch (op & 3) {
        case 0:
            if (at < sig->len)
                sig->b[at] ^= value;
            break;
        case 1:
            sig->len = at;
            break;
        case 2:
            if (sig->len < SIG_BUF)
                sig->b[sig->len++] = value;
            break;
        default:
            if (sig->len < SIG_BUF) {
                memmove(sig->b + at + 1, sig->b + at, sig->len - at);
                sig->b[at] = value;
                sig->len++;
            }
            break;
        }
    }
}

/* ---- comparisons ------------------------------------------------------- */

static void dump(const char *label, const uint8_t *p, size_t len)
{
    fprintf(stderr, "  %s ", label);
    for (size_t i = 0; i < len; i++)
        fprintf(stderr, "%02x", p[i]);
    fprintf(stderr, "\n");
}

static void mismatch(const char *level, int ours, const uint8_t pub[65], const uint8_t *m,
                     size_t m_len, const sig_buf *sig)
{
    fprintf(stderr, "fuzz_sm2v: %s-level mismatch: ours %s, OpenSSL %s\n", level,
            ours ? "accepts" : "rejects", ours ? "rejects" : "accepts");
    dump("pub", pub, 65);
    dump(level, m, m_len);
    dump("sig", sig->b, sig->len);
    abort();
}

static void compare_msg(const uint8_t pub[65], const uint8_t *msg, size_t len, const sig_buf *sig)
{
    int ours = cv_sm2v_verify(pub, msg, len, sig->b, sig->len) == CV_OK;
    int theirs = cv_sm2v_ref_verify(pub, msg, len, sig->b, sig->len) == CV_OK;
    if (ours != theirs)
        mismatch("message", ours, pub, msg, len, sig);
}

static void compare_digest(const uint8_t pub[65], const uint8_t e[32], const sig_buf *sig)
{
    cv_sm2v_pub key;
    int ours = cv_sm2v_pub_load(&key, pub) == CV_OK &&
               cv_sm2v_verify_digest(&key, e, sig->b, sig->len) == CV_OK;
    int theirs = cv_sm2v_ref_verify_digest(pub, e, sig->b, sig->len) == CV_OK;
    if (ours != theirs)
        mismatch("digest", ours, pub, e, 32, sig);
}

/* ---- modes ------------------------------------------------------------- */

static void mode_raw(reader *in)
{
    uint8_t pub[65], msg[256];
    sig_buf sig;
    take(in, pub, 65);
    sig.len = take(in, sig.b, take_byte(in) % (SIG_BUF + 1));
    size_t len = take(in, msg, sizeof msg);
    compare_msg(pub, msg, len, &sig);
}

static void mode_signed(reader *in)
{
    const fuzz_key *key = &keys[take_byte(in) % KEYS];
    uint8_t msg[256];
    size_t len = take(in, msg, take_byte(in));
    sig_buf sig;
    if (cv_sm2v_ref_sign(key->pkey, msg, len, sig.b, &sig.len) != CV_OK)
        abort();
    apply_edits(in, &sig);
    compare_msg(key->pub, msg, len, &sig);
}

/* e = (r - x1) mod n for (x1, y1) = s*G + ((r + s) mod n) * P when that is
 * a finite point, else left as is; then the tweak. */
static void crafted_e(const fuzz_key *key, const BIGNUM *r, const BIGNUM *s, uint8_t tweak,
                      uint8_t e[32])
{
    const BIGNUM *n = EC_GROUP_get0_order(group);
    BIGNUM *t = BN_new(), *x = BN_new();
    EC_POINT *p = EC_POINT_new(group), *q = EC_POINT_new(group);
    if (t && x && p && q && EC_POINT_oct2point(group, p, key->pub, 65, bn) &&
        BN_mod_add(t, r, s, n, bn) && EC_POINT_mul(group, q, s, p, t, bn) &&
        !EC_POINT_is_at_infinity(group, q) &&
        EC_POINT_get_affine_coordinates(group, q, x, NULL, bn) && BN_mod_sub(x, r, x, n, bn)) {
        if (tweak % 4 == 1 && BN_add(x, x, n) && BN_num_bits(x) > 256)
            BN_sub(x, x, n); /* e + n only where it fits 256 bits */
        BN_bn2binpad(x, e, 32);
        if (tweak % 4 == 2)
            e[(tweak >> 2) % 32] ^= (uint8_t)(1u << (tweak % 8));
    }
    ERR_clear_error();
    EC_POINT_free(p);
    EC_POINT_free(q);
    BN_free(t);
    BN_free(x);
}

static void mode_crafted(reader *in)
{
    const fuzz_key *key = &keys[take_byte(in) % KEYS];
    uint8_t rb[32], sb[32], e[32];
    take(in, rb, 32);
    take(in, sb, 32);
    uint8_t tweak = take_byte(in);
    BIGNUM *r = BN_bin2bn(rb, 32, NULL), *s = BN_bin2bn(sb, 32, NULL);
    ECDSA_SIG *es = ECDSA_SIG_new();
    unsigned char *der = NULL;
    if (!r || !s || !es)
        abort();
    memcpy(e, rb, 32); /* used when no valid e exists */
    crafted_e(key, r, s, tweak, e);
    ECDSA_SIG_set0(es, r, s);
    int der_len = i2d_ECDSA_SIG(es, &der);
    sig_buf sig;
    if (der_len <= 0 || (size_t)der_len > SIG_BUF)
        abort();
    memcpy(sig.b, der, (size_t)der_len);
    sig.len = (size_t)der_len;
    OPENSSL_free(der);
    ECDSA_SIG_free(es);
    apply_edits(in, &sig);
    compare_digest(key->pub, e, &sig);
}

static void mode_digest(reader *in)
{
    uint8_t pub[65], e[32];
    sig_buf sig;
    take(in, pub, 65);
    take(in, e, 32);
    sig.len = take(in, sig.b, SIG_BUF);
    compare_digest(pub, e, &sig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!group)
        setup();
    reader in = {data, size};
    switch (take_byte(&in) % 4) {
    case 0: mode_raw(&in); break;
    case 1: mode_signed(&in); break;
    case 2: mode_crafted(&in); break;
    default: mode_digest(&in); break;
    }
    return 0;
}
