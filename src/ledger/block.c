/* block.c: header and block encoding (see block.h). */
#include "ledger/block.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"

static void write_header(cv_enc *e, const cv_header *h)
{
    cv_enc_str(e, 1, h->chain_id);
    cv_enc_uint(e, 2, h->height);
    cv_enc_uint(e, 3, h->time_ms);
    cv_enc_bytes(e, 4, h->prev_hash, CV_HASH_LEN);
    cv_enc_uint(e, 5, h->tx_count);
    cv_enc_bytes(e, 6, h->tx_root, CV_HASH_LEN);
    cv_enc_bytes(e, 7, h->receipt_root, CV_HASH_LEN);
    cv_enc_bytes(e, 8, h->state_root, CV_HASH_LEN);
    cv_enc_bytes(e, 9, h->validators_hash, CV_HASH_LEN);
    cv_enc_bytes(e, 10, h->proposer, CV_ADDR_LEN);
    cv_enc_bytes(e, 11, h->next_validators_hash, CV_HASH_LEN);
}

static int read_header(cv_dec *d, cv_header *h)
{
    cv_dec_str(d, 1, "chain_id", h->chain_id, sizeof h->chain_id);
    cv_dec_uint(d, 2, "height", &h->height);
    cv_dec_uint(d, 3, "time", &h->time_ms);
    cv_dec_fixed(d, 4, "prev_hash", h->prev_hash, CV_HASH_LEN);
    cv_dec_uint_max(d, 5, "tx_count", &h->tx_count, CV_BLOCK_TX_HARD_MAX);
    cv_dec_fixed(d, 6, "tx_root", h->tx_root, CV_HASH_LEN);
    cv_dec_fixed(d, 7, "receipt_root", h->receipt_root, CV_HASH_LEN);
    cv_dec_fixed(d, 8, "state_root", h->state_root, CV_HASH_LEN);
    cv_dec_fixed(d, 9, "validators_hash", h->validators_hash, CV_HASH_LEN);
    cv_dec_fixed(d, 10, "proposer", h->proposer, CV_ADDR_LEN);
    cv_dec_fixed(d, 11, "next_validators_hash", h->next_validators_hash, CV_HASH_LEN);
    return cv_dec_end(d);
}

int cv_header_encode(const cv_header *h, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    write_header(&e, h);
    return cv_enc_finish(&e);
}

int cv_header_decode(const uint8_t *p, size_t len, cv_header *out)
{
    cv_dec d;
    memset(out, 0, sizeof *out);
    cv_dec_init(&d, p, len);
    int rc = read_header(&d, out);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

int cv_header_hash(cv_suite suite, const cv_header *h, uint8_t out[CV_HASH_LEN])
{
    cv_buf b = {0};
    int rc = cv_header_encode(h, &b);
    if (!rc)
        rc = cv_hash(suite, b.data, b.len, out);
    cv_buf_free(&b);
    return rc;
}

int cv_block_encode(const cv_header *h, const uint8_t *const *txs, const size_t *tx_lens, size_t n,
                    cv_buf *out)
{
    if (n != h->tx_count)
        return cv_fail(CV_EINVAL, "block has %zu transactions but its header says %llu", n,
                       (unsigned long long)h->tx_count);
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_msg_begin(&e, 1);
    write_header(&e, h);
    cv_enc_end(&e);
    cv_enc_list_begin(&e, 2, CV_CODEC_BYTES_LIST);
    for (size_t i = 0; i < n; i++)
        cv_enc_bytes(&e, CV_CODEC_ITEM, txs[i], tx_lens[i]);
    cv_enc_end(&e);
    return cv_enc_finish(&e);
}

void cv_block_free(cv_block *b)
{
    free(b->txs);
    free(b->tx_lens);
    memset(b, 0, sizeof *b);
}

int cv_block_decode(const uint8_t *p, size_t len, size_t max_txs, size_t max_tx_len, cv_block *out)
{
    cv_dec d, hd;
    size_t n = 0;
    memset(out, 0, sizeof *out);
    cv_dec_init(&d, p, len);
    int rc = cv_dec_msg(&d, 1, "header", &hd, len);
    if (!rc)
        rc = read_header(&hd, &out->header);
    if (!rc)
        rc = cv_dec_list(&d, 2, "txs", CV_CODEC_BYTES_LIST, &n, max_txs);
    if (!rc && n != out->header.tx_count)
        rc = cv_fail(CV_EDECODE, "block: header says %llu transactions, body has %zu",
                     (unsigned long long)out->header.tx_count, n);
    if (!rc && n > 0) {
        out->txs = calloc(n, sizeof *out->txs);
        out->tx_lens = calloc(n, sizeof *out->tx_lens);
        if (!out->txs || !out->tx_lens)
            rc = cv_fail(CV_ENOMEM, "out of memory decoding a block of %zu transactions", n);
    }
    for (size_t i = 0; !rc && i < n; i++)
        rc = cv_dec_bytes(&d, CV_CODEC_ITEM, NULL, &out->txs[i], &out->tx_lens[i], max_tx_len);
    if (!rc)
        rc = cv_dec_end(&d);
    if (rc) {
        cv_block_free(out);
        return rc;
    }
    out->tx_count = n;
    return CV_OK;
}
