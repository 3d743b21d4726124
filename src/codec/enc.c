/* enc.c: the canonical encoding's writer (see codec.h, docs/CODEC.md).
 *
 * Values are appended to the output as they come. A nested message or list
 * is written without its length or count, which is only known at its end;
 * cv_enc_end then inserts that prefix as a minimal varint in front of it.
 * The writer refuses anything the reader would reject: fields out of order,
 * items of the wrong type, invalid UTF-8, too deep nesting. */
#include "codec/codec.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "codec/internal.h"

/* Records the writer's first error and cuts the output back. */
static int enc_error(cv_enc *e, int rc)
{
    e->err = rc;
    e->out->len = e->origin;
    return rc;
}

void cv_enc_init(cv_enc *e, cv_buf *out)
{
    memset(e, 0, sizeof *e);
    e->out = out;
    e->origin = out->len;
    e->frames[0].wire = CV_CODEC_MSG;
    e->depth = 1;
}

static int put_raw(cv_enc *e, const void *p, size_t n)
{
    int rc = cv_buf_append(e->out, p, n);
    return rc ? enc_error(e, rc) : CV_OK;
}

static int put_varint(cv_enc *e, uint64_t v)
{
    uint8_t tmp[CV_VARINT_MAX];
    return put_raw(e, tmp, codec_put_varint(tmp, v));
}

/* Checks that a value of this wire type may come next in the open frame, and
 * writes its tag (nothing for a list item). */
static int put_header(cv_enc *e, uint32_t field, unsigned wire)
{
    cv_enc_frame *f = &e->frames[e->top];
    if (f->wire != CV_CODEC_MSG) {
        if (field != CV_CODEC_ITEM)
            return enc_error(e, cv_fail(CV_EINVAL,
                                        "field %u written while the list in field %u is open",
                                        field, f->field));
        if (wire != codec_item_wire(f->wire))
            return enc_error(e, cv_fail(CV_EINVAL, "a %s item written into field %u, a %s",
                                        codec_wire_name(wire), f->field,
                                        codec_wire_name(f->wire)));
        f->count++;
        return CV_OK;
    }
    if (field != f->count + 1)
        return enc_error(e, cv_fail(CV_EINVAL,
                                    "field %u written where field %llu comes next "
                                    "(every field is written, in order from 1)",
                                    field, (unsigned long long)f->count + 1));
    f->count++;
    return put_varint(e, (uint64_t)field << 3 | wire);
}

int cv_enc_uint(cv_enc *e, uint32_t field, uint64_t v)
{
    if (e->err)
        return e->err;
    int rc = put_header(e, field, CV_CODEC_UINT);
    return rc ? rc : put_varint(e, v);
}

int cv_enc_bytes(cv_enc *e, uint32_t field, const void *p, size_t n)
{
    if (e->err)
        return e->err;
    if (!p && n)
        return enc_error(e, cv_fail(CV_EINVAL, "field %u: NULL bytes of length %zu", field, n));
    int rc = put_header(e, field, CV_CODEC_BYTES);
    if (!rc)
        rc = put_varint(e, n);
    return rc ? rc : put_raw(e, p, n);
}

int cv_enc_str(cv_enc *e, uint32_t field, const char *s)
{
    if (e->err)
        return e->err;
    size_t n = strlen(s);
    size_t bad = codec_utf8_bad_at((const uint8_t *)s, n);
    if (bad < n)
        return enc_error(e, cv_fail(CV_EINVAL, "field %u: invalid UTF-8 at byte %zu of the string",
                                    field, bad));
    return cv_enc_bytes(e, field, s, n);
}

/* Opens a frame whose value starts at the current end of the output. */
static void push_frame(cv_enc *e, uint32_t field, unsigned wire)
{
    cv_enc_frame *f = &e->frames[++e->top];
    f->start = e->out->len;
    f->count = 0;
    f->field = field;
    f->wire = (uint8_t)wire;
}

int cv_enc_msg_begin(cv_enc *e, uint32_t field)
{
    if (e->err)
        return e->err;
    if (e->depth == CV_CODEC_MAX_DEPTH)
        return enc_error(e, cv_fail(CV_EINVAL, "field %u: messages nested deeper than %d",
                                    field, CV_CODEC_MAX_DEPTH));
    int rc = put_header(e, field, CV_CODEC_MSG);
    if (rc)
        return rc;
    e->depth++;
    push_frame(e, field, CV_CODEC_MSG);
    return CV_OK;
}

int cv_enc_list_begin(cv_enc *e, uint32_t field, cv_codec_wire type)
{
    if (e->err)
        return e->err;
    if (!codec_is_list(type))
        return enc_error(e, cv_fail(CV_EINVAL, "field %u: wire type %d is not a list type",
                                    field, (int)type));
    int rc = put_header(e, field, type);
    if (rc)
        return rc;
    push_frame(e, field, type);
    return CV_OK;
}

int cv_enc_msg_encoded(cv_enc *e, uint32_t field, const void *p, size_t n)
{
    if (e->err)
        return e->err;
    if (!p && n)
        return enc_error(e, cv_fail(CV_EINVAL, "field %u: NULL message of length %zu", field, n));
    int rc = cv_enc_msg_begin(e, field);
    if (rc)
        return rc;
    if (cv_codec_walk_depth(p, n, e->depth, NULL, NULL)) {
        char why[400];
        snprintf(why, sizeof why, "%s", cv_errmsg());
        return enc_error(e, cv_fail(CV_EINVAL, "field %u: not a canonical message: %s", field,
                                    why));
    }
    rc = put_raw(e, p, n);
    return rc ? rc : cv_enc_end(e);
}

/* Inserts varint(v) at offset at of the output, moving what follows. */
static int insert_varint(cv_enc *e, size_t at, uint64_t v)
{
    uint8_t tmp[CV_VARINT_MAX];
    size_t k = codec_put_varint(tmp, v);
    int rc = cv_buf_reserve(e->out, k);
    if (rc)
        return enc_error(e, rc);
    uint8_t *p = e->out->data;
    memmove(p + at + k, p + at, e->out->len - at);
    memcpy(p + at, tmp, k);
    e->out->len += k;
    return CV_OK;
}

int cv_enc_end(cv_enc *e)
{
    if (e->err)
        return e->err;
    if (e->top == 0)
        return enc_error(e, cv_fail(CV_EINVAL, "cv_enc_end without an open message or list"));
    cv_enc_frame *f = &e->frames[e->top--];
    if (f->wire == CV_CODEC_MSG) {
        e->depth--;
        return insert_varint(e, f->start, e->out->len - f->start);
    }
    return insert_varint(e, f->start, f->count);
}

int cv_enc_finish(cv_enc *e)
{
    if (e->err)
        return e->err;
    if (e->top)
        return enc_error(e, cv_fail(CV_EINVAL, "%d nested messages or lists not ended (field %u)",
                                    e->top, e->frames[e->top].field));
    return CV_OK;
}
