/* wire.c: frame headers, handshake messages, key schedule and records
 * (wire.h; the byte layouts are in docs/NETWORK.md). */
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "crypto/kdf.h"
#include "net/wire.h"

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- frames ------------------------------------------------------------------ */

int cv_net_frame_check(const uint8_t header[CV_NET_HEADER_LEN], size_t min, size_t max,
                       size_t *payload_len)
{
    size_t len = get_be32(header);
    if (len < min)
        return cv_fail(CV_EDECODE, "frame of %zu bytes is shorter than the minimum %zu", len, min);
    if (len > max)
        return cv_fail(CV_EFULL, "frame of %zu bytes exceeds the limit of %zu", len, max);
    *payload_len = len;
    return CV_OK;
}

/* ---- hello ------------------------------------------------------------------- */

size_t cv_net_hello_encode(const cv_net_hello *h, uint8_t *out)
{
    memcpy(out, CV_NET_MAGIC, 4);
    out[4] = CV_NET_VERSION;
    out[5] = (uint8_t)h->suite;
    out[6] = h->role;
    memcpy(out + 7, h->eph, h->eph_len);
    return 7 + (size_t)h->eph_len;
}

int cv_net_hello_decode(cv_suite suite, const uint8_t *p, size_t len, cv_net_hello *out)
{
    if (len < 7 || memcmp(p, CV_NET_MAGIC, 4) != 0)
        return cv_fail(CV_EDECODE, "not a civitas hello (bad magic or %zu bytes)", len);
    if (p[4] != CV_NET_VERSION)
        return cv_fail(CV_ESTATE, "peer speaks protocol version %u, this node %u", p[4], CV_NET_VERSION);
    if (p[5] != (uint8_t)suite)
        return cv_fail(CV_EINVAL, "peer uses crypto suite %u, this chain uses %s (%u)", p[5],
                       cv_suite_name(suite), (unsigned)suite);
    if (p[6] != CV_NET_ROLE_INIT && p[6] != CV_NET_ROLE_RESP)
        return cv_fail(CV_EDECODE, "hello with unknown role byte 0x%02x", p[6]);
    size_t eph_len = cv_kx_pub_len(suite);
    if (len != 7 + eph_len)
        return cv_fail(CV_EDECODE, "a %s hello has %zu bytes, not %zu", cv_suite_name(suite),
                       7 + eph_len, len);
    memset(out, 0, sizeof *out);
    out->suite = suite;
    out->role = p[6];
    out->eph_len = (uint8_t)eph_len;
    memcpy(out->eph, p + 7, eph_len);
    return CV_OK;
}

/* ---- auth -------------------------------------------------------------------- */

/* The payload up to the signature. */
static size_t auth_encode_unsigned(const cv_net_auth *a, uint8_t *out)
{
    size_t n = 0;
    out[n++] = a->chain_id_len;
    memcpy(out + n, a->chain_id, a->chain_id_len);
    n += a->chain_id_len;
    memcpy(out + n, a->genesis_hash, CV_HASH_LEN);
    n += CV_HASH_LEN;
    out[n++] = a->pub.len;
    memcpy(out + n, a->pub.bytes, a->pub.len);
    return n + a->pub.len;
}

size_t cv_net_auth_encode(const cv_net_auth *a, uint8_t *out)
{
    size_t n = auth_encode_unsigned(a, out);
    out[n++] = a->sig.len;
    memcpy(out + n, a->sig.bytes, a->sig.len);
    return n + a->sig.len;
}

size_t cv_net_auth_signed(const cv_net_auth *a, uint8_t role, const uint8_t th[CV_HASH_LEN],
                          uint8_t *out)
{
    size_t n = sizeof CV_NET_AUTH_LABEL - 1;
    memcpy(out, CV_NET_AUTH_LABEL, n);
    out[n++] = role;
    memcpy(out + n, th, CV_HASH_LEN);
    n += CV_HASH_LEN;
    return n + auth_encode_unsigned(a, out + n);
}

/* Takes a length byte and that many bytes (at most max) from p[*off..len). */
static int take_lv(const uint8_t *p, size_t len, size_t *off, size_t max, const char *what,
                   const uint8_t **val, size_t *val_len)
{
    if (*off >= len)
        return cv_fail(CV_EDECODE, "auth message ends before its %s", what);
    size_t n = p[(*off)++];
    if (n == 0 || n > max || n > len - *off)
        return cv_fail(CV_EDECODE, "auth message has a %s of bad length %zu", what, n);
    *val = p + *off;
    *val_len = n;
    *off += n;
    return CV_OK;
}

int cv_net_auth_decode(cv_suite suite, const uint8_t *p, size_t len, cv_net_auth *out)
{
    const uint8_t *chain = NULL, *pub = NULL, *sig = NULL;
    size_t chain_len = 0, pub_len = 0, sig_len = 0, off = 0;
    memset(out, 0, sizeof *out);
    int rc = take_lv(p, len, &off, CV_CHAIN_ID_MAX, "chain id", &chain, &chain_len);
    if (rc)
        return rc;
    if (len - off < CV_HASH_LEN)
        return cv_fail(CV_EDECODE, "auth message ends inside its genesis hash");
    memcpy(out->genesis_hash, p + off, CV_HASH_LEN);
    off += CV_HASH_LEN;
    if ((rc = take_lv(p, len, &off, CV_PUB_MAX, "public key", &pub, &pub_len)) ||
        (rc = take_lv(p, len, &off, CV_SIG_MAX, "signature", &sig, &sig_len)))
        return rc;
    if (off != len)
        return cv_fail(CV_EDECODE, "auth message has %zu trailing bytes", len - off);
    if (cv_pubkey_parse(suite, pub, pub_len, &out->pub) != CV_OK)
        return cv_fail(CV_EDECODE, "auth message has an invalid %s public key", cv_suite_name(suite));
    if (cv_sig_parse(suite, sig, sig_len, &out->sig) != CV_OK)
        return cv_fail(CV_EDECODE, "auth message has a malformed %s signature", cv_suite_name(suite));
    out->chain_id_len = (uint8_t)chain_len;
    memcpy(out->chain_id, chain, chain_len);
    return CV_OK;
}

/* ---- key schedule ---------------------------------------------------------------- */

int cv_net_derive(cv_suite suite, const uint8_t shared[CV_KX_SHARED_LEN], const uint8_t *hello_i,
                  size_t hello_i_len, const uint8_t *hello_r, size_t hello_r_len, cv_net_keys *out)
{
    cv_hasher h;
    size_t klen = cv_aead_key_len(suite);
    uint8_t okm[2 * CV_AEAD_KEY_MAX];
    memset(out, 0, sizeof *out);
    int rc = cv_hasher_init(&h, suite);
    if (rc)
        return rc;
    if ((rc = cv_hasher_update(&h, CV_NET_LABEL, sizeof CV_NET_LABEL - 1)) == CV_OK &&
        (rc = cv_hasher_update(&h, hello_i, hello_i_len)) == CV_OK &&
        (rc = cv_hasher_update(&h, hello_r, hello_r_len)) == CV_OK)
        rc = cv_hasher_final(&h, out->th);
    cv_hasher_free(&h);
    if (rc == CV_OK)
        rc = cv_kdf_hkdf(suite, out->th, CV_HASH_LEN, shared, CV_KX_SHARED_LEN,
                         (const uint8_t *)CV_NET_KEYS_INFO, sizeof CV_NET_KEYS_INFO - 1, okm, 2 * klen);
    if (rc == CV_OK) {
        memcpy(out->i2r, okm, klen);
        memcpy(out->r2i, okm + klen, klen);
    }
    sodium_memzero(okm, sizeof okm);
    return rc;
}

/* ---- records ------------------------------------------------------------------------- */

/* The nonce for a record counter: zeros, then the counter big-endian in
 * the last 8 bytes. */
static void make_nonce(cv_suite suite, uint64_t counter, uint8_t nonce[CV_AEAD_NONCE_MAX])
{
    size_t n = cv_aead_nonce_len(suite);
    memset(nonce, 0, CV_AEAD_NONCE_MAX);
    for (size_t i = 0; i < 8; i++)
        nonce[n - 1 - i] = (uint8_t)(counter >> (8 * i));
}

size_t cv_net_record_frame_len(size_t plain_len)
{
    return CV_NET_HEADER_LEN + plain_len + CV_AEAD_TAG_LEN;
}

int cv_net_record_seal(cv_suite suite, const uint8_t *key, uint64_t *counter, uint8_t *frame,
                       size_t plain_len)
{
    uint8_t nonce[CV_AEAD_NONCE_MAX];
    if (*counter == UINT64_MAX)
        return cv_fail(CV_EFULL, "record counter exhausted: the session must be renewed");
    put_be32(frame, (uint32_t)(plain_len + CV_AEAD_TAG_LEN));
    make_nonce(suite, (*counter)++, nonce);
    uint8_t *body = frame + CV_NET_HEADER_LEN;
    return cv_aead_seal(suite, key, nonce, frame, CV_NET_HEADER_LEN, body, plain_len, body);
}

int cv_net_record_open(cv_suite suite, const uint8_t *key, uint64_t *counter, uint8_t *frame,
                       size_t payload_len)
{
    uint8_t nonce[CV_AEAD_NONCE_MAX];
    if (payload_len < CV_AEAD_TAG_LEN)
        return cv_fail(CV_EDECODE, "record of %zu bytes is shorter than its tag", payload_len);
    if (*counter == UINT64_MAX)
        return cv_fail(CV_EFULL, "record counter exhausted: the session must be renewed");
    make_nonce(suite, (*counter)++, nonce);
    uint8_t *body = frame + CV_NET_HEADER_LEN;
    if (cv_aead_open(suite, key, nonce, frame, CV_NET_HEADER_LEN, body, payload_len, body) != CV_OK)
        return cv_fail(CV_EBADSIG, "record %llu does not authenticate (altered, replayed or reordered)",
                       (unsigned long long)(*counter - 1));
    return CV_OK;
}
