/* fuzz_codec.c: libFuzzer target for the canonical encoding.
 *
 * For every input: the schema-less dump and copy must agree on whether it
 * is valid and fail only with CV_EDECODE; an accepted input must re-encode to
 * exactly itself (one encoding per value); and a fixed sample schema must
 * accept only inputs the walk accepts, and re-encode what it decodes to the
 * same bytes. Any violation aborts, which the fuzzer reports as a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "codec/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the sample schema ------------------------------------------------------ */

typedef struct {
    uint64_t a;          /* 1 uint */
    const uint8_t *b;    /* 2 bytes, at most 8 */
    size_t b_len;
} item_t;

typedef struct {
    uint64_t id;               /* 1 uint, at most 1000000 */
    uint8_t tag[4];            /* 2 exactly 4 bytes */
    char name[16];             /* 3 string, at most 15 bytes */
    item_t inner;              /* 4 message */
    uint64_t nums[8];          /* 5 uint list, at most 8 */
    size_t n_nums;
    const uint8_t *blobs[4];   /* 6 bytes list, at most 4 of at most 8 bytes */
    size_t blob_len[4];
    size_t n_blobs;
    item_t kids[4];            /* 7 message list, at most 4 */
    size_t n_kids;
} sample_t;

static void decode_item(cv_dec *d, uint32_t field, const char *name, item_t *x)
{
    cv_dec sub;
    cv_dec_msg(d, field, name, &sub, 32);
    cv_dec_uint(&sub, 1, "a", &x->a);
    cv_dec_bytes(&sub, 2, "b", &x->b, &x->b_len, 8);
    cv_dec_end(&sub);
}

static int decode_sample(const uint8_t *p, size_t len, sample_t *s)
{
    cv_dec d;
    memset(s, 0, sizeof *s);
    cv_dec_init(&d, p, len);
    cv_dec_uint_max(&d, 1, "id", &s->id, 1000000);
    cv_dec_fixed(&d, 2, "tag", s->tag, sizeof s->tag);
    cv_dec_str(&d, 3, "name", s->name, sizeof s->name);
    decode_item(&d, 4, "inner", &s->inner);
    cv_dec_list(&d, 5, "nums", CV_CODEC_UINT_LIST, &s->n_nums, 8);
    for (size_t i = 0; i < s->n_nums; i++)
        cv_dec_uint(&d, CV_CODEC_ITEM, NULL, &s->nums[i]);
    cv_dec_list(&d, 6, "blobs", CV_CODEC_BYTES_LIST, &s->n_blobs, 4);
    for (size_t i = 0; i < s->n_blobs; i++)
        cv_dec_bytes(&d, CV_CODEC_ITEM, NULL, &s->blobs[i], &s->blob_len[i], 8);
    cv_dec_list(&d, 7, "kids", CV_CODEC_MSG_LIST, &s->n_kids, 4);
    for (size_t i = 0; i < s->n_kids; i++)
        decode_item(&d, CV_CODEC_ITEM, NULL, &s->kids[i]);
    return cv_dec_end(&d);
}

static void encode_item(cv_enc *e, uint32_t field, const item_t *x)
{
    cv_enc_msg_begin(e, field);
    cv_enc_uint(e, 1, x->a);
    cv_enc_bytes(e, 2, x->b, x->b_len);
    cv_enc_end(e);
}

static int encode_sample(const sample_t *s, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_uint(&e, 1, s->id);
    cv_enc_bytes(&e, 2, s->tag, sizeof s->tag);
    cv_enc_str(&e, 3, s->name);
    encode_item(&e, 4, &s->inner);
    cv_enc_list_begin(&e, 5, CV_CODEC_UINT_LIST);
    for (size_t i = 0; i < s->n_nums; i++)
        cv_enc_uint(&e, CV_CODEC_ITEM, s->nums[i]);
    cv_enc_end(&e);
    cv_enc_list_begin(&e, 6, CV_CODEC_BYTES_LIST);
    for (size_t i = 0; i < s->n_blobs; i++)
        cv_enc_bytes(&e, CV_CODEC_ITEM, s->blobs[i], s->blob_len[i]);
    cv_enc_end(&e);
    cv_enc_list_begin(&e, 7, CV_CODEC_MSG_LIST);
    for (size_t i = 0; i < s->n_kids; i++)
        encode_item(&e, CV_CODEC_ITEM, &s->kids[i]);
    cv_enc_end(&e);
    return cv_enc_finish(&e);
}

/* ---- invariants ------------------------------------------------------------- */

static void require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_codec: invariant violated: %s (last error: %s)\n", what,
                cv_errmsg());
        abort();
    }
}

static int same(const cv_buf *b, const uint8_t *p, size_t n)
{
    return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cv_buf text = {0}, copy = {0}, again = {0};
    int dumped = cv_codec_dump(data, size, &text);
    int copied = cv_codec_copy(data, size, &copy);
    require(dumped == CV_OK || dumped == CV_EDECODE, "dump failed with an unexpected code");
    require(dumped == copied, "dump and copy disagree on validity");
    require(text.len > 0 && text.data[text.len] == '\0', "dump text not NUL-terminated");
    if (copied == CV_OK)
        require(same(&copy, data, size), "an accepted input is not canonical");
    else
        require(copy.len == 0, "a failed copy left output behind");

    sample_t s;
    int rc = decode_sample(data, size, &s);
    require(rc == CV_OK || rc == CV_EDECODE, "sample decoder failed with an unexpected code");
    if (rc == CV_OK) {
        require(dumped == CV_OK, "the sample schema accepts an input the walk rejects");
        require(encode_sample(&s, &again) == CV_OK, "re-encoding a decoded sample failed");
        require(same(&again, data, size), "a decoded sample re-encodes differently");
    }
    cv_buf_free(&text);
    cv_buf_free(&copy);
    cv_buf_free(&again);
    return 0;
}
