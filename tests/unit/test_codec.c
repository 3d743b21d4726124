/* test_codec.c: the canonical encoding: byte-exact vectors, round trips,
 * rejection of every kind of malformed or non-canonical input with a message
 * that says where, writer misuse, the schema-less dump, and a property check
 * that no single-byte change of a valid message decodes to the same value. */
#include <stdlib.h>

#include "base/buf.h"
#include "check.h"
#include "codec/codec.h"

/* ---- a sample schema with every kind of field ------------------------------ */

#define MAX_DATA (1u << 20)
#define MAX_NUMS 8
#define MAX_BLOBS 4
#define MAX_BLOB 64
#define MAX_KIDS 4

typedef struct {
    uint64_t a;
    uint8_t hash[32];
} inner_t;

typedef struct {
    uint64_t nonce;                 /* 1 uint */
    uint64_t kind;                  /* 2 uint, at most 3 */
    const uint8_t *data;            /* 3 bytes, at most MAX_DATA */
    size_t data_len;
    uint8_t hash[32];               /* 4 exactly 32 bytes */
    char name[17];                  /* 5 string, at most 16 bytes */
    inner_t in;                     /* 6 message */
    uint64_t nums[MAX_NUMS];        /* 7 uint list */
    size_t n_nums;
    const uint8_t *blobs[MAX_BLOBS]; /* 8 bytes list */
    size_t blob_len[MAX_BLOBS];
    size_t n_blobs;
    inner_t kids[MAX_KIDS];         /* 9 message list */
    size_t n_kids;
} sample_t;

static void encode_inner(cv_enc *e, uint32_t field, const inner_t *x)
{
    cv_enc_msg_begin(e, field);
    cv_enc_uint(e, 1, x->a);
    cv_enc_bytes(e, 2, x->hash, 32);
    cv_enc_end(e);
}

static int encode_sample(const sample_t *s, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_uint(&e, 1, s->nonce);
    cv_enc_uint(&e, 2, s->kind);
    cv_enc_bytes(&e, 3, s->data, s->data_len);
    cv_enc_bytes(&e, 4, s->hash, 32);
    cv_enc_str(&e, 5, s->name);
    encode_inner(&e, 6, &s->in);
    cv_enc_list_begin(&e, 7, CV_CODEC_UINT_LIST);
    for (size_t i = 0; i < s->n_nums; i++)
        cv_enc_uint(&e, CV_CODEC_ITEM, s->nums[i]);
    cv_enc_end(&e);
    cv_enc_list_begin(&e, 8, CV_CODEC_BYTES_LIST);
    for (size_t i = 0; i < s->n_blobs; i++)
        cv_enc_bytes(&e, CV_CODEC_ITEM, s->blobs[i], s->blob_len[i]);
    cv_enc_end(&e);
    cv_enc_list_begin(&e, 9, CV_CODEC_MSG_LIST);
    for (size_t i = 0; i < s->n_kids; i++)
        encode_inner(&e, CV_CODEC_ITEM, &s->kids[i]);
    cv_enc_end(&e);
    return cv_enc_finish(&e);
}

/* Written in the sticky style: only the last result is checked. */
static void decode_inner(cv_dec *d, uint32_t field, const char *name, inner_t *x)
{
    cv_dec sub;
    cv_dec_msg(d, field, name, &sub, 64);
    cv_dec_uint(&sub, 1, "a", &x->a);
    cv_dec_fixed(&sub, 2, "hash", x->hash, 32);
    cv_dec_end(&sub);
}

static int decode_sample(const uint8_t *p, size_t len, sample_t *s)
{
    cv_dec d;
    memset(s, 0, sizeof *s);
    cv_dec_init(&d, p, len);
    cv_dec_uint(&d, 1, "nonce", &s->nonce);
    cv_dec_uint_max(&d, 2, "kind", &s->kind, 3);
    cv_dec_bytes(&d, 3, "data", &s->data, &s->data_len, MAX_DATA);
    cv_dec_fixed(&d, 4, "hash", s->hash, 32);
    cv_dec_str(&d, 5, "name", s->name, sizeof s->name);
    decode_inner(&d, 6, "in", &s->in);
    cv_dec_list(&d, 7, "nums", CV_CODEC_UINT_LIST, &s->n_nums, MAX_NUMS);
    for (size_t i = 0; i < s->n_nums; i++)
        cv_dec_uint(&d, CV_CODEC_ITEM, NULL, &s->nums[i]);
    cv_dec_list(&d, 8, "blobs", CV_CODEC_BYTES_LIST, &s->n_blobs, MAX_BLOBS);
    for (size_t i = 0; i < s->n_blobs; i++)
        cv_dec_bytes(&d, CV_CODEC_ITEM, NULL, &s->blobs[i], &s->blob_len[i], MAX_BLOB);
    cv_dec_list(&d, 9, "kids", CV_CODEC_MSG_LIST, &s->n_kids, MAX_KIDS);
    for (size_t i = 0; i < s->n_kids; i++)
        decode_inner(&d, CV_CODEC_ITEM, NULL, &s->kids[i]);
    return cv_dec_end(&d);
}

static int same_bytes(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static int same_inner(const inner_t *a, const inner_t *b)
{
    return a->a == b->a && !memcmp(a->hash, b->hash, 32);
}

static int same_sample(const sample_t *a, const sample_t *b)
{
    if (a->nonce != b->nonce || a->kind != b->kind || !same_bytes(a->data, a->data_len, b->data,
                                                                  b->data_len) ||
        memcmp(a->hash, b->hash, 32) || strcmp(a->name, b->name) || !same_inner(&a->in, &b->in) ||
        a->n_nums != b->n_nums || a->n_blobs != b->n_blobs || a->n_kids != b->n_kids)
        return 0;
    for (size_t i = 0; i < a->n_nums; i++)
        if (a->nums[i] != b->nums[i])
            return 0;
    for (size_t i = 0; i < a->n_blobs; i++)
        if (!same_bytes(a->blobs[i], a->blob_len[i], b->blobs[i], b->blob_len[i]))
            return 0;
    for (size_t i = 0; i < a->n_kids; i++)
        if (!same_inner(&a->kids[i], &b->kids[i]))
            return 0;
    return 1;
}

/* Encodes s, decodes it back and checks both the value and a re-encoding. */
static void check_round_trip(const sample_t *s)
{
    cv_buf a = {0}, b = {0};
    sample_t back;
    CHECK_OK(encode_sample(s, &a));
    CHECK_OK(decode_sample(a.data, a.len, &back));
    CHECK(same_sample(s, &back));
    CHECK_OK(encode_sample(&back, &b));
    CHECK(same_bytes(a.data, a.len, b.data, b.len));
    cv_buf_reset(&b);
    CHECK_OK(cv_codec_copy(a.data, a.len, &b));
    CHECK(same_bytes(a.data, a.len, b.data, b.len));
    cv_buf_free(&a);
    cv_buf_free(&b);
}

/* Expects buf to hold exactly the bytes of the hex string. */
static int bytes_are(const cv_buf *buf, const char *hex)
{
    cv_buf want = {0};
    int ok = cv_hex_decode_buf(hex, &want) == CV_OK && same_bytes(buf->data, buf->len, want.data,
                                                                  want.len);
    if (!ok) {
        char *got = malloc(2 * buf->len + 1);
        cv_hex_encode(buf->data, buf->len, got);
        fprintf(stderr, "  got  %s\n  want %s\n", got, hex);
        free(got);
    }
    cv_buf_free(&want);
    return ok;
}

/* ---- byte-exact encodings ------------------------------------------------- */

static void test_known_uints(void)
{
    static const struct {
        uint64_t v;
        const char *hex;
    } cases[] = {
        {0, "0800"},
        {1, "0801"},
        {127, "087f"},
        {128, "088001"},
        {300, "08ac02"},
        {16384, "08808001"},
        {UINT64_C(1) << 63, "0880808080808080808001"},
        {UINT64_MAX, "08ffffffffffffffffff01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cv_buf buf = {0};
        cv_enc e;
        cv_enc_init(&e, &buf);
        cv_enc_uint(&e, 1, cases[i].v);
        CHECK_OK(cv_enc_finish(&e));
        CHECK(bytes_are(&buf, cases[i].hex));
        cv_dec d;
        uint64_t v = 1;
        cv_dec_init(&d, buf.data, buf.len);
        CHECK_OK(cv_dec_uint(&d, 1, "v", &v));
        CHECK_OK(cv_dec_end(&d));
        CHECK(v == cases[i].v);
        cv_buf_free(&buf);
    }
}

/* {1: 150, 2: "hi", 3: {1: 1}, 4: [1, 300], 5: ["a", ""], 6: [{1: 2}, {}]}
 * (the example in docs/CODEC.md) */
static const char known_hex[] = "089601"
                                "11026869"
                                "1a020801"
                                "230201ac02"
                                "2c02016100"
                                "350202080200";

static const char known_dump[] = "{\n"
                                 "  \"1\": 150,\n"
                                 "  \"2\": \"0x6869\",\n"
                                 "  \"3\": {\n"
                                 "    \"1\": 1\n"
                                 "  },\n"
                                 "  \"4\": [\n"
                                 "    1,\n"
                                 "    300\n"
                                 "  ],\n"
                                 "  \"5\": [\n"
                                 "    \"0x61\",\n"
                                 "    \"0x\"\n"
                                 "  ],\n"
                                 "  \"6\": [\n"
                                 "    {\n"
                                 "      \"1\": 2\n"
                                 "    },\n"
                                 "    {}\n"
                                 "  ]\n"
                                 "}\n";

static void encode_known(cv_buf *buf)
{
    cv_enc e;
    cv_enc_init(&e, buf);
    cv_enc_uint(&e, 1, 150);
    cv_enc_str(&e, 2, "hi");
    cv_enc_msg_begin(&e, 3);
    cv_enc_uint(&e, 1, 1);
    cv_enc_end(&e);
    cv_enc_list_begin(&e, 4, CV_CODEC_UINT_LIST);
    cv_enc_uint(&e, CV_CODEC_ITEM, 1);
    cv_enc_uint(&e, CV_CODEC_ITEM, 300);
    cv_enc_end(&e);
    cv_enc_list_begin(&e, 5, CV_CODEC_BYTES_LIST);
    cv_enc_bytes(&e, CV_CODEC_ITEM, "a", 1);
    cv_enc_bytes(&e, CV_CODEC_ITEM, "", 0);
    cv_enc_end(&e);
    cv_enc_list_begin(&e, 6, CV_CODEC_MSG_LIST);
    cv_enc_msg_begin(&e, CV_CODEC_ITEM);
    cv_enc_uint(&e, 1, 2);
    cv_enc_end(&e);
    cv_enc_msg_begin(&e, CV_CODEC_ITEM);
    cv_enc_end(&e);
    cv_enc_end(&e);
    CHECK_OK(cv_enc_finish(&e));
}

static void test_known_message(void)
{
    cv_buf buf = {0}, text = {0};
    encode_known(&buf);
    CHECK(bytes_are(&buf, known_hex));
    CHECK_OK(cv_codec_dump(buf.data, buf.len, &text));
    CHECK(text.len == strlen(known_dump) && !strcmp((char *)text.data, known_dump));
    if (strcmp((char *)text.data, known_dump))
        fprintf(stderr, "dump:\n%s", (char *)text.data);

    /* The same bytes read with a schema. */
    cv_dec d, sub;
    uint64_t v, n;
    size_t count, len;
    const uint8_t *p;
    char s[8];
    cv_dec_init(&d, buf.data, buf.len);
    CHECK_OK(cv_dec_uint(&d, 1, "a", &v));
    CHECK(v == 150);
    CHECK_OK(cv_dec_str(&d, 2, "b", s, sizeof s));
    CHECK(!strcmp(s, "hi"));
    CHECK_OK(cv_dec_msg(&d, 3, "c", &sub, 10));
    CHECK_OK(cv_dec_uint(&sub, 1, "x", &v));
    CHECK_OK(cv_dec_end(&sub));
    CHECK_OK(cv_dec_list(&d, 4, "d", CV_CODEC_UINT_LIST, &count, 2));
    CHECK(count == 2);
    CHECK_OK(cv_dec_uint(&d, CV_CODEC_ITEM, NULL, &v));
    CHECK_OK(cv_dec_uint(&d, CV_CODEC_ITEM, NULL, &n));
    CHECK(v == 1 && n == 300);
    CHECK_OK(cv_dec_list(&d, 5, "e", CV_CODEC_BYTES_LIST, &count, 2));
    CHECK_OK(cv_dec_bytes(&d, CV_CODEC_ITEM, NULL, &p, &len, 1));
    CHECK(len == 1 && p[0] == 'a');
    CHECK_OK(cv_dec_bytes(&d, CV_CODEC_ITEM, NULL, &p, &len, 1));
    CHECK(len == 0);
    CHECK_OK(cv_dec_list(&d, 6, "f", CV_CODEC_MSG_LIST, &count, 2));
    CHECK_OK(cv_dec_msg(&d, CV_CODEC_ITEM, NULL, &sub, 10));
    CHECK_OK(cv_dec_uint(&sub, 1, "x", &v));
    CHECK(v == 2);
    CHECK_OK(cv_dec_end(&sub));
    CHECK_OK(cv_dec_msg(&d, CV_CODEC_ITEM, NULL, &sub, 10));
    CHECK_OK(cv_dec_end(&sub));
    CHECK_OK(cv_dec_end(&d));
    cv_buf_free(&buf);
    cv_buf_free(&text);
}

/* Lengths and counts of 128 and more need a two-byte prefix, which the writer
 * inserts in front of the value once it is complete. */
static void test_long_prefixes(void)
{
    uint8_t blob[200];
    memset(blob, 0xab, sizeof blob);
    cv_buf buf = {0};
    cv_enc e;
    cv_buf_append(&buf, "xy", 2); /* the writer appends after what is there */
    cv_enc_init(&e, &buf);
    cv_enc_msg_begin(&e, 1);
    cv_enc_bytes(&e, 1, blob, sizeof blob);
    cv_enc_end(&e);
    cv_enc_list_begin(&e, 2, CV_CODEC_UINT_LIST);
    for (int i = 0; i < 200; i++)
        cv_enc_uint(&e, CV_CODEC_ITEM, 5);
    cv_enc_end(&e);
    CHECK_OK(cv_enc_finish(&e));
    /* "xy", field 1 message of 203 bytes: tag 0a, length cb 01, then field 1
     * bytes: tag 09, length c8 01, 200 bytes; field 2: tag 13, count c8 01. */
    CHECK(buf.len == 2 + 3 + 203 + 3 + 200);
    CHECK(!memcmp(buf.data, "xy\x0a\xcb\x01\x09\xc8\x01\xab", 9));
    CHECK(!memcmp(buf.data + 2 + 3 + 203, "\x13\xc8\x01\x05", 4));
    cv_buf out = {0};
    CHECK_OK(cv_codec_copy(buf.data + 2, buf.len - 2, &out));
    CHECK(same_bytes(out.data, out.len, buf.data + 2, buf.len - 2));
    cv_buf_free(&out);
    cv_buf_free(&buf);
}

/* A top-level message holding levels - 1 messages nested in field 1. */
static void nested(cv_buf *out, int levels)
{
    cv_buf_reset(out);
    for (int i = 1; i < levels; i++) {
        uint8_t head[2] = {0x0a, (uint8_t)out->len};
        cv_buf_append(out, head, 2);
        memmove(out->data + 2, out->data, out->len - 2);
        memcpy(out->data, head, 2);
    }
}

/* An encoded message embedded as a field equals one written in place, and a
 * non-canonical one is refused. */
static void test_msg_encoded(void)
{
    cv_buf inner = {0}, a = {0}, b = {0};
    encode_known(&inner);
    cv_enc e;
    cv_enc_init(&e, &a);
    cv_enc_msg_encoded(&e, 1, inner.data, inner.len);
    cv_enc_uint(&e, 2, 9);
    CHECK_OK(cv_enc_finish(&e));
    CHECK(a.len == 2 + inner.len + 2 && a.data[0] == 0x0a && a.data[1] == inner.len);
    CHECK(!memcmp(a.data + 2, inner.data, inner.len));
    cv_enc_init(&e, &b);
    cv_enc_msg_begin(&e, 1);
    cv_enc_end(&e);
    cv_enc_msg_encoded(&e, 2, NULL, 0);
    CHECK_OK(cv_enc_finish(&e));
    CHECK(bytes_are(&b, "0a001200"));

    cv_buf_reset(&b);
    cv_enc_init(&e, &b);
    CHECK_ERR(cv_enc_msg_encoded(&e, 1, "\x08\x80\x00", 3), CV_EINVAL);
    CHECK_MSG("field 1: not a canonical message: field 1 at offset 1: non-minimal varint");
    CHECK(b.len == 0);

    /* Nesting depth counts from where the message is embedded. */
    nested(&inner, CV_CODEC_MAX_DEPTH - 1);
    cv_enc_init(&e, &b);
    CHECK_OK(cv_enc_msg_encoded(&e, 1, inner.data, inner.len));
    CHECK_OK(cv_enc_finish(&e));
    nested(&inner, CV_CODEC_MAX_DEPTH);
    cv_enc_init(&e, &b);
    CHECK_ERR(cv_enc_msg_encoded(&e, 1, inner.data, inner.len), CV_EINVAL);
    CHECK_MSG("nested deeper than 32");
    cv_buf_free(&inner);
    cv_buf_free(&a);
    cv_buf_free(&b);
}

/* ---- round trips ------------------------------------------------------------ */

static void fill_hash(uint8_t *h, uint8_t seed)
{
    for (int i = 0; i < 32; i++)
        h[i] = (uint8_t)(seed + 7 * i);
}

static void test_round_trips(void)
{
    static const uint64_t values[] = {0, 1, 127, 128, 255, 256, 16383, 16384, UINT32_MAX,
                                      UINT64_C(1) << 63, UINT64_MAX - 1, UINT64_MAX};
    sample_t s;

    /* All zero and empty. */
    memset(&s, 0, sizeof s);
    check_round_trip(&s);

    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        memset(&s, 0, sizeof s);
        s.nonce = values[i];
        s.kind = values[i] % 4;
        s.in.a = values[i];
        s.kids[0].a = values[i];
        s.n_kids = 1;
        s.nums[0] = values[i];
        s.nums[1] = ~values[i];
        s.n_nums = 2;
        check_round_trip(&s);
    }

    /* Large bytes, full lists, multi-byte UTF-8. */
    uint8_t *big = malloc(100000);
    for (size_t i = 0; i < 100000; i++)
        big[i] = (uint8_t)(i * 31);
    static const uint8_t blob[MAX_BLOB] = {1, 2, 3};
    memset(&s, 0, sizeof s);
    s.nonce = 42;
    s.kind = 3;
    s.data = big;
    s.data_len = 100000;
    fill_hash(s.hash, 9);
    strcpy(s.name, "h\xc3\xa9llo \xe4\xb8\x96\xf0\x9f\x98\x80"); /* héllo 世😀 */
    s.in.a = 7;
    fill_hash(s.in.hash, 1);
    for (size_t i = 0; i < MAX_NUMS; i++)
        s.nums[i] = UINT64_C(1) << (8 * i);
    s.n_nums = MAX_NUMS;
    for (size_t i = 0; i < MAX_BLOBS; i++) {
        s.blobs[i] = blob;
        s.blob_len[i] = i == 0 ? 0 : i * 21;
    }
    s.n_blobs = MAX_BLOBS;
    for (size_t i = 0; i < MAX_KIDS; i++) {
        s.kids[i].a = i;
        fill_hash(s.kids[i].hash, (uint8_t)i);
    }
    s.n_kids = MAX_KIDS;
    check_round_trip(&s);
    free(big);
}

/* ---- rejections --------------------------------------------------------------- */

/* Decodes hex as {1 uint 'nonce', 2 bytes 'data' (at most 4), 3 string 'name'
 * (at most 7 bytes)} and returns the result. */
static int decode_simple(const char *hex)
{
    cv_buf in = {0};
    if (cv_hex_decode_buf(hex, &in))
        return CV_EINVAL;
    cv_dec d;
    uint64_t nonce;
    const uint8_t *p;
    size_t n;
    char name[8];
    cv_dec_init(&d, in.data, in.len);
    cv_dec_uint(&d, 1, "nonce", &nonce);
    cv_dec_bytes(&d, 2, "data", &p, &n, 4);
    cv_dec_str(&d, 3, "name", name, sizeof name);
    int rc = cv_dec_end(&d);
    cv_buf_free(&in);
    return rc;
}

/* Runs cv_codec_dump (schema-less) on hex. */
static int dump_hex(const char *hex)
{
    cv_buf in = {0}, text = {0};
    if (cv_hex_decode_buf(hex, &in))
        return CV_EINVAL;
    int rc = cv_codec_dump(in.data, in.len, &text);
    cv_buf_free(&in);
    cv_buf_free(&text);
    return rc;
}

static void test_rejects_varints(void)
{
    CHECK_OK(decode_simple("08ffffffffffffffffff01" "1100" "1900"));
    CHECK_ERR(decode_simple("088000" "1100" "1900"), CV_EDECODE);
    CHECK_MSG("field 1 'nonce' at offset 1: non-minimal varint");
    CHECK_ERR(decode_simple("08ff00" "1100" "1900"), CV_EDECODE);
    CHECK_MSG("non-minimal varint");
    CHECK_ERR(decode_simple("0880808080808080808080" "01" "1100" "1900"), CV_EDECODE);
    CHECK_MSG("field 1 'nonce' at offset 1: varint longer than 10 bytes");
    CHECK_ERR(decode_simple("08ffffffffffffffffff02" "1100" "1900"), CV_EDECODE);
    CHECK_MSG("field 1 'nonce' at offset 1: varint overflows 64 bits");
    CHECK_ERR(decode_simple("0880"), CV_EDECODE);
    CHECK_MSG("field 1 'nonce' at offset 1: truncated varint");
    /* A non-minimal tag (field 1 as 0x88 0x00). */
    CHECK_ERR(decode_simple("880001" "1100" "1900"), CV_EDECODE);
    CHECK_MSG("field 1 'nonce' at offset 0: non-minimal varint");
    /* A non-minimal length. */
    CHECK_ERR(decode_simple("0801" "118000" "1900"), CV_EDECODE);
    CHECK_MSG("field 2 'data' at offset 3: non-minimal varint");
}

static void test_rejects_structure(void)
{
    CHECK_ERR(decode_simple(""), CV_EDECODE);
    CHECK_MSG("expected field 1 'nonce' at offset 0, found end of message");
    CHECK_ERR(decode_simple("0801" "1100"), CV_EDECODE);
    CHECK_MSG("expected field 3 'name' at offset 4, found end of message");
    CHECK_ERR(decode_simple("0801" "1100" "1900" "00"), CV_EDECODE);
    CHECK_MSG("1 trailing bytes at offset 6, after field 3 'name'");
    CHECK_ERR(decode_simple("0801" "1100" "1900" "2000"), CV_EDECODE);
    CHECK_MSG("2 trailing bytes at offset 6, after field 3 'name'");
    CHECK_ERR(decode_simple("1100" "0801" "1900"), CV_EDECODE);
    CHECK_MSG("expected field 1 'nonce' at offset 0, found field 2");
    CHECK_ERR(decode_simple("0801" "1900"), CV_EDECODE); /* skipped field 2 */
    CHECK_MSG("expected field 2 'data' at offset 2, found field 3");
    CHECK_ERR(decode_simple("0801" "0802" "1100" "1900"), CV_EDECODE); /* field 1 twice */
    CHECK_MSG("expected field 2 'data' at offset 2, found field 1");
    CHECK_ERR(decode_simple("0900" "1100" "1900"), CV_EDECODE);
    CHECK_MSG("field 1 'nonce' at offset 0: wire type 1 (bytes), expected 0 (uint)");
    CHECK_ERR(decode_simple("0801" "1200" "1900"), CV_EDECODE);
    CHECK_MSG("field 2 'data' at offset 2: wire type 2 (message), expected 1 (bytes)");
    CHECK_ERR(decode_simple("0e00" "1100" "1900"), CV_EDECODE);
    CHECK_MSG("field 1 'nonce' at offset 0: unknown wire type 6");
    CHECK_ERR(decode_simple("0f00" "1100" "1900"), CV_EDECODE);
    CHECK_MSG("unknown wire type 7");

    /* The schema-less dump finds the same faults. */
    CHECK_OK(dump_hex(""));
    CHECK_OK(dump_hex("0801" "1100" "1a00"));
    CHECK_ERR(dump_hex("0801" "1900"), CV_EDECODE);
    CHECK_MSG("expected field 2 at offset 2, found field 3");
    CHECK_ERR(dump_hex("0801" "0802"), CV_EDECODE);
    CHECK_MSG("expected field 2 at offset 2, found field 1");
    CHECK_ERR(dump_hex("0801" "00"), CV_EDECODE);
    CHECK_MSG("expected field 2 at offset 2, found field 0");
    CHECK_ERR(dump_hex("0e00"), CV_EDECODE);
    CHECK_MSG("field 1 at offset 0: unknown wire type 6");
    CHECK_ERR(dump_hex("0a03080100"), CV_EDECODE);
    CHECK_MSG("expected field 2 in #1 at offset 4, found field 0");
    CHECK_ERR(dump_hex("0b020180"), CV_EDECODE);
    CHECK_MSG("item 1 of field 1 at offset 3: truncated varint");
    CHECK_OK(dump_hex("0d0100")); /* a list of one empty message */
    CHECK_ERR(dump_hex("0d01030800"), CV_EDECODE);
    CHECK_MSG("item 0 of field 1 at offset 2: length 3 exceeds the 2 remaining bytes");
}

static void test_rejects_lengths(void)
{
    CHECK_OK(decode_simple("0801" "1104aabbccdd" "1900"));
    CHECK_ERR(decode_simple("0801" "1105aabbccdd"), CV_EDECODE);
    CHECK_MSG("field 2 'data' at offset 3: length 5 exceeds the 4 remaining bytes");
    CHECK_ERR(decode_simple("0801" "1105aabbccddee" "1900"), CV_EDECODE);
    CHECK_MSG("field 2 'data' at offset 3: length 5 exceeds the maximum 4");
    CHECK_ERR(decode_simple("0801" "11ffffffffffffffffff01"), CV_EDECODE);
    CHECK_MSG("length 18446744073709551615 exceeds the 0 remaining bytes");
    CHECK_ERR(decode_simple("0801" "1100" "19086162636465666768"), CV_EDECODE);
    CHECK_MSG("field 3 'name' at offset 5: length 8 exceeds the maximum 7");

    /* Lists: count over the schema's maximum, count past the end. */
    cv_dec d;
    size_t count = 9;
    cv_dec_init(&d, "\x0b\x03\x01\x02\x03", 5);
    CHECK_ERR(cv_dec_list(&d, 1, "ids", CV_CODEC_UINT_LIST, &count, 2), CV_EDECODE);
    CHECK_MSG("field 1 'ids' at offset 1: count 3 exceeds the maximum 2");
    CHECK(count == 0);
    cv_dec_init(&d, "\x0b\x05\x01", 3);
    CHECK_ERR(cv_dec_list(&d, 1, "ids", CV_CODEC_UINT_LIST, &count, 100), CV_EDECODE);
    CHECK_MSG("count 5 exceeds the 1 remaining bytes");
    /* An item's error names the item. */
    uint64_t v;
    cv_dec_init(&d, "\x0b\x02\x01\x80\x00", 5);
    CHECK_OK(cv_dec_list(&d, 1, "ids", CV_CODEC_UINT_LIST, &count, 2));
    CHECK_OK(cv_dec_uint(&d, CV_CODEC_ITEM, NULL, &v));
    CHECK_ERR(cv_dec_uint(&d, CV_CODEC_ITEM, NULL, &v), CV_EDECODE);
    CHECK_MSG("item 1 of field 1 'ids' at offset 3: non-minimal varint");

    /* Values over the schema's maximum; fixed sizes. */
    cv_dec_init(&d, "\x08\x05", 2);
    CHECK_ERR(cv_dec_uint_max(&d, 1, "kind", &v, 3), CV_EDECODE);
    CHECK_MSG("field 1 'kind' at offset 1: value 5 exceeds the maximum 3");
    CHECK(v == 0);
    uint8_t h[4] = {1, 2, 3, 4};
    cv_dec_init(&d, "\x09\x03\xaa\xbb\xcc", 5);
    CHECK_ERR(cv_dec_fixed(&d, 1, "hash", h, 4), CV_EDECODE);
    CHECK_MSG("field 1 'hash' at offset 1: length 3, expected exactly 4");
    CHECK(h[0] == 0 && h[3] == 0);
}

static void test_rejects_utf8(void)
{
    static const char *const bad[] = {
        "c328",     /* 2-byte lead, bad continuation */
        "c080",     /* overlong NUL */
        "c1bf",     /* overlong */
        "e080af",   /* overlong 3-byte */
        "eda080",   /* surrogate U+D800 */
        "f4908080", /* above U+10FFFF */
        "f5808080", /* invalid lead */
        "80",       /* lone continuation */
        "e282",     /* truncated 3-byte */
        "ff",
    };
    char hex[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(hex, sizeof hex, "0801" "1100" "19%02zx61%s", strlen(bad[i]) / 2 + 1, bad[i]);
        CHECK_ERR(decode_simple(hex), CV_EDECODE);
        CHECK_MSG("field 3 'name' at offset 7: invalid UTF-8 in a string");
    }
    CHECK_ERR(decode_simple("0801" "1100" "1903610062"), CV_EDECODE);
    CHECK_MSG("field 3 'name' at offset 7: NUL byte in a string");
    CHECK_OK(decode_simple("0801" "1100" "1907e282acf09f9880")); /* €😀 */
    CHECK_OK(decode_simple("0801" "1100" "1903efbfbd"));         /* U+FFFD */
}

static void test_rejects_depth(void)
{
    cv_buf buf = {0}, text = {0};
    nested(&buf, CV_CODEC_MAX_DEPTH);
    CHECK_OK(cv_codec_dump(buf.data, buf.len, &text));
    nested(&buf, CV_CODEC_MAX_DEPTH + 1);
    CHECK_ERR(cv_codec_dump(buf.data, buf.len, &text), CV_EDECODE);
    CHECK_MSG("messages nested deeper than 32");
    CHECK_MSG("field 1 in #1.#1.#1");

    /* The writer refuses to nest deeper too. */
    cv_enc e;
    cv_buf_reset(&buf);
    cv_enc_init(&e, &buf);
    for (int i = 1; i < CV_CODEC_MAX_DEPTH; i++)
        CHECK_OK(cv_enc_msg_begin(&e, 1));
    CHECK_ERR(cv_enc_msg_begin(&e, 1), CV_EINVAL);
    CHECK_MSG("nested deeper than 32");
    cv_buf_free(&buf);
    cv_buf_free(&text);
}

/* Errors inside nested messages give their path and the absolute offset. */
static void test_error_paths(void)
{
    sample_t s, back;
    memset(&s, 0, sizeof s);
    s.n_kids = 2;
    cv_buf buf = {0};
    CHECK_OK(encode_sample(&s, &buf));
    /* The second kid's hash length 32 (0x20) is 4 bytes from the end. */
    CHECK(buf.data[buf.len - 33] == 0x20);
    buf.data[buf.len - 33] = 0x1f;
    CHECK_ERR(decode_sample(buf.data, buf.len, &back), CV_EDECODE);
    char want[96];
    snprintf(want, sizeof want,
             "field 2 'hash' in kids[1] at offset %zu: length 31, expected exactly 32",
             buf.len - 33);
    CHECK_MSG(want);
    buf.data[buf.len - 33] = 0x20;
    /* The inner message's first tag, right after its own tag and length. */
    size_t in_at = 2 + 2 + 2 + 2 + 32 + 2 + 2;
    CHECK(buf.data[in_at] == 0x08);
    buf.data[in_at] = 0x10;
    CHECK_ERR(decode_sample(buf.data, buf.len, &back), CV_EDECODE);
    snprintf(want, sizeof want, "expected field 1 'a' in in at offset %zu, found field 2", in_at);
    CHECK_MSG(want);
    cv_buf text = {0};
    CHECK_ERR(cv_codec_dump(buf.data, buf.len, &text), CV_EDECODE);
    snprintf(want, sizeof want, "expected field 1 in #6 at offset %zu, found field 2", in_at);
    CHECK_MSG(want);
    cv_buf_free(&text);
    cv_buf_free(&buf);
}

/* Reads out of schema order are the caller's bug: CV_EINVAL, and sticky. */
static void test_reader_misuse(void)
{
    cv_dec d, sub;
    uint64_t v;
    cv_dec_init(&d, "\x08\x01\x12\x00\x18\x05", 6);
    CHECK_ERR(cv_dec_uint(&d, 2, "b", &v), CV_EINVAL);
    CHECK_MSG("fields must be read in order");
    CHECK_ERR(cv_dec_uint(&d, 1, "a", &v), CV_EINVAL); /* sticky */
    CHECK_ERR(cv_dec_end(&d), CV_EINVAL);

    cv_dec_init(&d, "\x08\x01\x12\x00\x18\x05", 6);
    CHECK_OK(cv_dec_uint(&d, 1, "a", &v));
    CHECK_OK(cv_dec_msg(&d, 2, "b", &sub, 10));
    CHECK_ERR(cv_dec_uint(&d, 3, "c", &v), CV_EINVAL);
    CHECK_MSG("the previous nested message was not ended");

    /* An error in a nested cursor fails its parent too. */
    cv_dec_init(&d, "\x08\x01\x12\x02\x08\x80\x18\x05", 8);
    CHECK_OK(cv_dec_uint(&d, 1, "a", &v));
    CHECK_OK(cv_dec_msg(&d, 2, "b", &sub, 10));
    CHECK_ERR(cv_dec_uint(&sub, 1, "x", &v), CV_EDECODE);
    CHECK_ERR(cv_dec_end(&d), CV_EDECODE);

    size_t count;
    cv_dec_init(&d, "\x0b\x01\x05\x10\x01", 5);
    CHECK_OK(cv_dec_list(&d, 1, "l", CV_CODEC_UINT_LIST, &count, 4));
    CHECK_ERR(cv_dec_uint(&d, 2, "b", &v), CV_EINVAL);
    CHECK_MSG("items of the previous list not all read");
    cv_dec_init(&d, "\x0b\x01\x05", 3);
    CHECK_OK(cv_dec_list(&d, 1, "l", CV_CODEC_UINT_LIST, &count, 4));
    CHECK_ERR(cv_dec_end(&d), CV_EINVAL);
    cv_dec_init(&d, "\x0b\x01\x05", 3);
    CHECK_OK(cv_dec_list(&d, 1, "l", CV_CODEC_UINT_LIST, &count, 4));
    const uint8_t *p;
    size_t n;
    CHECK_ERR(cv_dec_bytes(&d, CV_CODEC_ITEM, NULL, &p, &n, 4), CV_EINVAL);
    CHECK_MSG("wrong item type for this list");
    cv_dec_init(&d, "", 0);
    CHECK_ERR(cv_dec_uint(&d, CV_CODEC_ITEM, NULL, &v), CV_EINVAL);
    CHECK_MSG("no list item left");
}

/* ---- the writer refuses what the reader would reject ------------------------ */

static void test_writer_misuse(void)
{
    cv_buf buf = {0};
    cv_enc e;
    cv_buf_append(&buf, "keep", 4);

    cv_enc_init(&e, &buf);
    CHECK_OK(cv_enc_uint(&e, 1, 5));
    CHECK_ERR(cv_enc_uint(&e, 3, 5), CV_EINVAL);
    CHECK_MSG("field 3 written where field 2 comes next");
    CHECK(buf.len == 4); /* cut back */
    CHECK_ERR(cv_enc_uint(&e, 2, 5), CV_EINVAL); /* sticky */
    CHECK_ERR(cv_enc_finish(&e), CV_EINVAL);
    CHECK(buf.len == 4 && !memcmp(buf.data, "keep", 4));

    cv_enc_init(&e, &buf);
    CHECK_ERR(cv_enc_uint(&e, 0, 5), CV_EINVAL); /* an item outside a list */
    cv_enc_init(&e, &buf);
    CHECK_ERR(cv_enc_end(&e), CV_EINVAL);
    CHECK_MSG("without an open message or list");
    cv_enc_init(&e, &buf);
    cv_enc_msg_begin(&e, 1);
    CHECK_ERR(cv_enc_finish(&e), CV_EINVAL);
    CHECK_MSG("not ended");
    cv_enc_init(&e, &buf);
    cv_enc_list_begin(&e, 1, CV_CODEC_UINT_LIST);
    CHECK_ERR(cv_enc_bytes(&e, CV_CODEC_ITEM, "x", 1), CV_EINVAL);
    CHECK_MSG("a bytes item written into field 1, a uint list");
    cv_enc_init(&e, &buf);
    cv_enc_list_begin(&e, 1, CV_CODEC_UINT_LIST);
    CHECK_ERR(cv_enc_uint(&e, 2, 1), CV_EINVAL);
    CHECK_MSG("while the list in field 1 is open");
    cv_enc_init(&e, &buf);
    CHECK_ERR(cv_enc_list_begin(&e, 1, CV_CODEC_MSG), CV_EINVAL);
    cv_enc_init(&e, &buf);
    CHECK_ERR(cv_enc_str(&e, 1, "bad \xc0\x80"), CV_EINVAL);
    CHECK_MSG("invalid UTF-8 at byte 4");
    CHECK(buf.len == 4);
    cv_buf_free(&buf);
}

/* ---- properties ---------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A number of random magnitude, so that varints of every length occur. */
static uint64_t rng_uint(void)
{
    return rng() >> (rng() % 64);
}

static void random_inner(inner_t *x)
{
    x->a = rng_uint();
    for (int i = 0; i < 32; i++)
        x->hash[i] = (uint8_t)rng();
}

static void random_sample(sample_t *s, uint8_t *pool, size_t pool_len)
{
    memset(s, 0, sizeof s[0]);
    for (size_t i = 0; i < pool_len; i++)
        pool[i] = (uint8_t)rng();
    s->nonce = rng_uint();
    s->kind = rng() % 4;
    s->data = pool;
    s->data_len = rng() % 24;
    for (int i = 0; i < 32; i++)
        s->hash[i] = (uint8_t)rng();
    size_t n = rng() % 17;
    for (size_t i = 0; i < n; i++)
        s->name[i] = (char)(' ' + rng() % 95);
    random_inner(&s->in);
    s->n_nums = rng() % (MAX_NUMS + 1);
    for (size_t i = 0; i < s->n_nums; i++)
        s->nums[i] = rng_uint();
    s->n_blobs = rng() % (MAX_BLOBS + 1);
    for (size_t i = 0; i < s->n_blobs; i++) {
        s->blobs[i] = pool + rng() % 16;
        s->blob_len[i] = rng() % 16;
    }
    s->n_kids = rng() % 3;
    for (size_t i = 0; i < s->n_kids; i++)
        random_inner(&s->kids[i]);
}

/* Every single-byte change of a valid message either fails to decode or
 * decodes to a value whose encoding is exactly the changed bytes, i.e. a
 * different value: no value has two encodings. Every proper prefix fails. */
static void test_single_byte_changes(void)
{
    uint8_t pool[40];
    long accepted = 0, tried = 0;
    for (long round = 0; round < check_scale(6, 2); round++) {
        sample_t s, back;
        cv_buf buf = {0}, again = {0};
        random_sample(&s, pool, sizeof pool);
        CHECK_OK(encode_sample(&s, &buf));
        for (size_t i = 0; i < buf.len; i++) {
            uint8_t orig = buf.data[i];
            for (int delta = 1; delta < 256; delta++) {
                buf.data[i] = (uint8_t)(orig + delta);
                tried++;
                int schema_ok = decode_sample(buf.data, buf.len, &back) == CV_OK;
                if (schema_ok) {
                    accepted++;
                    cv_buf_reset(&again);
                    CHECK_OK(encode_sample(&back, &again));
                    CHECK(same_bytes(again.data, again.len, buf.data, buf.len));
                    CHECK(!same_sample(&s, &back));
                }
                cv_buf_reset(&again);
                if (cv_codec_copy(buf.data, buf.len, &again) == CV_OK)
                    CHECK(same_bytes(again.data, again.len, buf.data, buf.len));
                else
                    CHECK(!schema_ok); /* the schema accepts only what the walk does */
            }
            buf.data[i] = orig;
        }
        for (size_t n = 0; n < buf.len; n++)
            CHECK(decode_sample(buf.data, n, &back) != CV_OK);
        cv_buf_free(&buf);
        cv_buf_free(&again);
    }
    fprintf(stderr, "single-byte changes: %ld tried, %ld decoded (each to another value)\n",
            tried, accepted);
}

/* Writes a random message of any schema (depth levels of nesting at most). */
static void random_message(cv_enc *e, int depth)
{
    static const uint8_t bytes[12] = "random bytes";
    int fields = (int)(rng() % 5);
    for (uint32_t f = 1; f <= (uint32_t)fields; f++) {
        unsigned wire = (unsigned)(rng() % (depth > 0 ? 6 : 2));
        if (wire == 2 && depth > 0) {
            cv_enc_msg_begin(e, f);
            random_message(e, depth - 1);
            cv_enc_end(e);
        } else if (wire >= 3 && depth > 0) {
            size_t n = rng() % 4;
            cv_enc_list_begin(e, f, (cv_codec_wire)wire);
            for (size_t i = 0; i < n; i++) {
                if (wire == CV_CODEC_UINT_LIST)
                    cv_enc_uint(e, CV_CODEC_ITEM, rng_uint());
                else if (wire == CV_CODEC_BYTES_LIST)
                    cv_enc_bytes(e, CV_CODEC_ITEM, bytes, rng() % 12);
                else {
                    cv_enc_msg_begin(e, CV_CODEC_ITEM);
                    random_message(e, depth - 1);
                    cv_enc_end(e);
                }
            }
            cv_enc_end(e);
        } else if (wire == 1)
            cv_enc_bytes(e, f, bytes, rng() % 12);
        else
            cv_enc_uint(e, f, rng_uint());
    }
}

/* The same property for the schema-less walk, over random schemas. */
static void test_walk_single_byte_changes(void)
{
    long accepted = 0;
    for (long round = 0; round < check_scale(20, 5); round++) {
        cv_buf buf = {0}, copy = {0}, text = {0};
        cv_enc e;
        cv_enc_init(&e, &buf);
        random_message(&e, 3);
        CHECK_OK(cv_enc_finish(&e));
        CHECK_OK(cv_codec_copy(buf.data, buf.len, &copy));
        CHECK(same_bytes(copy.data, copy.len, buf.data, buf.len));
        CHECK_OK(cv_codec_dump(buf.data, buf.len, &text));
        for (size_t i = 0; i < buf.len; i++) {
            uint8_t orig = buf.data[i];
            for (int delta = 1; delta < 256; delta++) {
                buf.data[i] = (uint8_t)(orig + delta);
                cv_buf_reset(&copy);
                if (cv_codec_copy(buf.data, buf.len, &copy) == CV_OK) {
                    accepted++;
                    CHECK(same_bytes(copy.data, copy.len, buf.data, buf.len));
                }
            }
            buf.data[i] = orig;
        }
        cv_buf_free(&buf);
        cv_buf_free(&copy);
        cv_buf_free(&text);
    }
    fprintf(stderr, "walk: %ld single-byte changes decoded, each re-encoded exactly\n",
            accepted);
}

int main(void)
{
    test_known_uints();
    test_known_message();
    test_long_prefixes();
    test_msg_encoded();
    test_round_trips();
    test_rejects_varints();
    test_rejects_structure();
    test_rejects_lengths();
    test_rejects_utf8();
    test_rejects_depth();
    test_error_paths();
    test_reader_misuse();
    test_writer_misuse();
    test_single_byte_changes();
    test_walk_single_byte_changes();
    return check_done();
}
