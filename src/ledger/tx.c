/* tx.c: transaction encoding, signing and decoding (see tx.h). */
#include "ledger/tx.h"

#include <string.h>

#include "base/err.h"
#include "codec/codec.h"

static int encode_body(const cv_tx *tx, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_uint(&e, 1, CV_KIND_TX);
    cv_enc_str(&e, 2, tx->chain_id);
    cv_enc_uint(&e, 3, (uint64_t)tx->sender.suite);
    cv_enc_bytes(&e, 4, tx->sender.bytes, tx->sender.len);
    cv_enc_uint(&e, 5, tx->nonce);
    cv_enc_uint(&e, 6, tx->expiry);
    cv_enc_str(&e, 7, tx->contract);
    cv_enc_str(&e, 8, tx->method);
    cv_enc_bytes(&e, 9, tx->args, tx->args_len);
    return cv_enc_finish(&e);
}

int cv_tx_sign(cv_tx *tx, const cv_keypair *key, cv_buf *out)
{
    cv_buf body = {0};
    tx->sender = key->pub;
    int rc = encode_body(tx, &body);
    if (!rc)
        rc = cv_sign(key, body.data, body.len, &tx->sig);
    size_t start = out->len;
    if (!rc) {
        cv_enc e;
        cv_enc_init(&e, out);
        cv_enc_msg_encoded(&e, 1, body.data, body.len);
        cv_enc_bytes(&e, 2, tx->sig.bytes, tx->sig.len);
        rc = cv_enc_finish(&e);
    }
    cv_buf_free(&body);
    if (rc)
        return rc;
    return cv_tx_decode(out->data + start, out->len - start, CV_TX_HARD_MAX, tx);
}

static int decode_sender(cv_dec *b, cv_tx *tx)
{
    uint64_t suite;
    const uint8_t *pub;
    size_t pub_len;
    int rc = cv_dec_uint_max(b, 3, "suite", &suite, CV_SUITE_GM);
    if (!rc && suite < CV_SUITE_STD)
        rc = cv_fail(CV_EDECODE, "transaction: unknown suite %llu", (unsigned long long)suite);
    if (!rc)
        rc = cv_dec_bytes(b, 4, "sender", &pub, &pub_len, CV_PUB_MAX);
    /* Shape only: the signature check rejects an invalid point. */
    if (!rc && cv_pubkey_wrap((cv_suite)suite, pub, pub_len, &tx->sender) != CV_OK)
        rc = cv_fail(CV_EDECODE, "transaction: bad sender key: %s", cv_errmsg());
    return rc;
}

static int decode_body(cv_dec *b, size_t max_len, cv_tx *tx)
{
    uint64_t kind;
    cv_dec_uint(b, 1, "kind", &kind);
    if (!b->err && kind != CV_KIND_TX)
        return cv_fail(CV_EDECODE, "transaction: kind is %llu, not %d", (unsigned long long)kind, CV_KIND_TX);
    int rc = cv_dec_str(b, 2, "chain_id", tx->chain_id, sizeof tx->chain_id);
    if (rc || (rc = decode_sender(b, tx)))
        return rc;
    cv_dec_uint(b, 5, "nonce", &tx->nonce);
    cv_dec_uint(b, 6, "expiry", &tx->expiry);
    cv_dec_str(b, 7, "contract", tx->contract, sizeof tx->contract);
    cv_dec_str(b, 8, "method", tx->method, sizeof tx->method);
    cv_dec_bytes(b, 9, "args", &tx->args, &tx->args_len, max_len);
    return cv_dec_end(b);
}

int cv_tx_decode(const uint8_t *p, size_t len, size_t max_len, cv_tx *out)
{
    memset(out, 0, sizeof *out);
    if (len > max_len)
        return cv_fail(CV_EDECODE, "transaction of %zu bytes exceeds the %zu-byte limit", len, max_len);
    cv_dec d, b;
    const uint8_t *sig;
    size_t sig_len;
    cv_dec_init(&d, p, len);
    int rc = cv_dec_msg(&d, 1, "body", &b, len);
    if (!rc) {
        out->body = b.p;
        out->body_len = b.len;
        rc = decode_body(&b, max_len, out);
    }
    if (!rc && !(rc = cv_dec_bytes(&d, 2, "signature", &sig, &sig_len, CV_SIG_MAX)) &&
        !(rc = cv_dec_end(&d)) && cv_sig_parse(out->sender.suite, sig, sig_len, &out->sig) != CV_OK)
        rc = cv_fail(CV_EDECODE, "transaction: bad signature encoding: %s", cv_errmsg());
    if (!rc)
        rc = cv_hash(out->sender.suite, out->body, out->body_len, out->body_hash);
    if (!rc)
        rc = cv_hash(out->sender.suite, p, len, out->hash);
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    return CV_OK;
}

int cv_tx_verify(const cv_tx *tx)
{
    return cv_verify(&tx->sender, tx->body, tx->body_len, &tx->sig);
}

cv_verify_item cv_tx_verify_item(const cv_tx *tx)
{
    return (cv_verify_item){&tx->sender, tx->body, tx->body_len, &tx->sig};
}

void cv_tx_replay_key(const cv_tx *tx, uint8_t out[CV_REPLAY_KEY_LEN])
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(tx->expiry >> (56 - 8 * i));
    memcpy(out + 8, tx->body_hash, CV_HASH_LEN);
}

cv_tx cv_tx_moved(const cv_tx *tx, const uint8_t *from, const uint8_t *to)
{
    cv_tx t = *tx;
    t.body = to + (tx->body - from);
    t.args = tx->args_len ? to + (tx->args - from) : NULL;
    return t;
}
