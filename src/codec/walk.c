/* walk.c: schema-less reading of the canonical encoding.
 *
 * cv_codec_walk reads a message of unknown schema with the ordinary reader,
 * taking each field's wire type from its tag and expecting the fields in
 * order from 1, so it accepts exactly the inputs some schema would accept.
 * Two visitors are built on it: cv_codec_dump renders a message as text
 * (behind `civitas decode`) and cv_codec_copy re-encodes it with the writer
 * (tests and fuzzers check that the copy equals the input). */
#include "codec/codec.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/err.h"
#include "codec/internal.h"

/* ---- walking -------------------------------------------------------------- */

/* The wire type in the next tag, or CV_CODEC_UINT if the tag is malformed
 * (the reader then reports why). */
static unsigned peek_wire(const cv_dec *d)
{
    uint64_t tag;
    size_t used;
    if (codec_get_varint(d->p + d->pos, d->len - d->pos, &tag, &used))
        return CV_CODEC_UINT;
    return (unsigned)(tag & 7);
}

static int walk_msg(cv_dec *d, const cv_codec_visitor *v, void *ctx);

static int walk_list(cv_dec *d, uint32_t field, unsigned wire, const cv_codec_visitor *v,
                     void *ctx);

/* Reads one value (a field, or an item when field is CV_CODEC_ITEM). */
static int walk_value(cv_dec *d, uint32_t field, unsigned wire, const cv_codec_visitor *v,
                      void *ctx)
{
    int rc;
    switch (wire) {
    case CV_CODEC_BYTES: {
        const uint8_t *p;
        size_t n;
        rc = cv_dec_bytes(d, field, NULL, &p, &n, SIZE_MAX);
        return rc ? rc : v->on_bytes(ctx, field, p, n);
    }
    case CV_CODEC_MSG: {
        cv_dec sub;
        rc = cv_dec_msg(d, field, NULL, &sub, SIZE_MAX);
        if (!rc)
            rc = v->on_begin(ctx, field, CV_CODEC_MSG, 0);
        if (!rc)
            rc = walk_msg(&sub, v, ctx);
        return rc ? rc : v->on_end(ctx);
    }
    case CV_CODEC_UINT_LIST:
    case CV_CODEC_BYTES_LIST:
    case CV_CODEC_MSG_LIST:
        return walk_list(d, field, wire, v, ctx);
    default: { /* a uint, or an unknown wire type that the uint reader rejects */
        uint64_t x;
        rc = cv_dec_uint(d, field, NULL, &x);
        return rc ? rc : v->on_uint(ctx, field, x);
    }
    }
}

static int walk_list(cv_dec *d, uint32_t field, unsigned wire, const cv_codec_visitor *v,
                     void *ctx)
{
    size_t n;
    int rc = cv_dec_list(d, field, NULL, (cv_codec_wire)wire, &n, SIZE_MAX);
    if (!rc)
        rc = v->on_begin(ctx, field, (cv_codec_wire)wire, n);
    for (size_t i = 0; !rc && i < n; i++)
        rc = walk_value(d, CV_CODEC_ITEM, codec_item_wire(wire), v, ctx);
    return rc ? rc : v->on_end(ctx);
}

static int walk_msg(cv_dec *d, const cv_codec_visitor *v, void *ctx)
{
    int rc = CV_OK;
    while (!rc && d->pos < d->len)
        rc = walk_value(d, (uint32_t)d->next_field, peek_wire(d), v, ctx);
    return rc ? rc : cv_dec_end(d);
}

static int quiet_uint(void *ctx, uint32_t field, uint64_t v)
{
    return CV_OK;
}

static int quiet_bytes(void *ctx, uint32_t field, const uint8_t *p, size_t n)
{
    return CV_OK;
}

static int quiet_begin(void *ctx, uint32_t field, cv_codec_wire type, uint64_t count)
{
    return CV_OK;
}

static int quiet_end(void *ctx)
{
    return CV_OK;
}

static const cv_codec_visitor quiet_visitor = {quiet_uint, quiet_bytes, quiet_begin, quiet_end};

int cv_codec_walk_depth(const void *p, size_t len, int depth, const cv_codec_visitor *v,
                        void *ctx)
{
    cv_dec d;
    cv_dec_init(&d, p, len);
    d.depth = depth;
    return walk_msg(&d, v ? v : &quiet_visitor, ctx);
}

int cv_codec_walk(const void *p, size_t len, const cv_codec_visitor *v, void *ctx)
{
    return cv_codec_walk_depth(p, len, 1, v, ctx);
}

/* ---- dump: JSON-like text ------------------------------------------------- */

#define DUMP_LEVELS (2 * CV_CODEC_MAX_DEPTH + 1) /* messages and lists open at once */

typedef struct {
    cv_buf *text;
    int level;                   /* innermost open message or list; 0 = top */
    uint8_t first[DUMP_LEVELS];  /* nothing printed in it yet */
    char close[DUMP_LEVELS];     /* '}' or ']' */
} dump_state;

static int appendf(cv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int appendf(cv_buf *b, const char *fmt, ...)
{
    char tmp[192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return cv_buf_append(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Starts a value on a new line: separator, indentation and "field": key. */
static int dump_lead(dump_state *s, uint32_t field)
{
    const char *sep = s->first[s->level] ? "\n" : ",\n";
    int indent = 2 * s->level + 2;
    s->first[s->level] = 0;
    if (field == CV_CODEC_ITEM)
        return appendf(s->text, "%s%*s", sep, indent, "");
    return appendf(s->text, "%s%*s\"%u\": ", sep, indent, "", field);
}

static int dump_uint(void *ctx, uint32_t field, uint64_t v)
{
    dump_state *s = ctx;
    int rc = dump_lead(s, field);
    return rc ? rc : appendf(s->text, "%llu", (unsigned long long)v);
}

static int dump_bytes(void *ctx, uint32_t field, const uint8_t *p, size_t n)
{
    dump_state *s = ctx;
    int rc = dump_lead(s, field);
    if (!rc)
        rc = cv_buf_append(s->text, "\"0x", 3);
    if (!rc)
        rc = cv_buf_reserve(s->text, 2 * n + 2);
    if (rc)
        return rc;
    cv_hex_encode(p, n, (char *)s->text->data + s->text->len);
    s->text->len += 2 * n;
    return cv_buf_append(s->text, "\"", 1);
}

static void dump_open_level(dump_state *s, char close)
{
    s->level++;
    s->first[s->level] = 1;
    s->close[s->level] = close;
}

static int dump_begin(void *ctx, uint32_t field, cv_codec_wire type, uint64_t count)
{
    dump_state *s = ctx;
    int rc = dump_lead(s, field);
    if (rc)
        return rc;
    dump_open_level(s, type == CV_CODEC_MSG ? '}' : ']');
    return cv_buf_append_byte(s->text, type == CV_CODEC_MSG ? '{' : '[');
}

static int dump_end(void *ctx)
{
    dump_state *s = ctx;
    int rc = s->first[s->level] ? CV_OK : appendf(s->text, "\n%*s", 2 * s->level, "");
    if (!rc)
        rc = cv_buf_append_byte(s->text, (uint8_t)s->close[s->level]);
    s->level--;
    return rc;
}

static const cv_codec_visitor dump_visitor = {dump_uint, dump_bytes, dump_begin, dump_end};

int cv_codec_dump(const void *p, size_t len, cv_buf *text)
{
    dump_state s = {.text = text, .level = -1};
    dump_open_level(&s, '}');
    int rc = cv_buf_append_byte(text, '{');
    if (!rc)
        rc = cv_codec_walk(p, len, &dump_visitor, &s);
    if (!rc)
        rc = dump_end(&s);
    if (!rc)
        rc = cv_buf_append_byte(text, '\n');
    int nul = cv_buf_reserve(text, 1);
    if (!nul)
        text->data[text->len] = '\0';
    return rc ? rc : nul;
}

/* ---- copy: re-encoding ---------------------------------------------------- */

static int copy_uint(void *ctx, uint32_t field, uint64_t v)
{
    return cv_enc_uint(ctx, field, v);
}

static int copy_bytes(void *ctx, uint32_t field, const uint8_t *p, size_t n)
{
    return cv_enc_bytes(ctx, field, p, n);
}

static int copy_begin(void *ctx, uint32_t field, cv_codec_wire type, uint64_t count)
{
    return type == CV_CODEC_MSG ? cv_enc_msg_begin(ctx, field)
                                : cv_enc_list_begin(ctx, field, type);
}

static int copy_end(void *ctx)
{
    return cv_enc_end(ctx);
}

static const cv_codec_visitor copy_visitor = {copy_uint, copy_bytes, copy_begin, copy_end};

int cv_codec_copy(const void *p, size_t len, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    int rc = cv_codec_walk(p, len, &copy_visitor, &e);
    if (rc) {
        out->len = e.origin;
        return rc;
    }
    return cv_enc_finish(&e);
}
