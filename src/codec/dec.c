/* dec.c: the canonical encoding's reader (see codec.h, docs/CODEC.md).
 *
 * The caller reads fields in schema order; each read checks the tag (field
 * number and wire type) and the value (minimal varints, lengths within the
 * message and within the schema's limit) and accepts nothing else, so a
 * message that decodes has exactly the bytes the writer would produce.
 * Errors name the field, its path through nested messages and the byte
 * offset in the outermost input. */
#include "codec/codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "codec/internal.h"

#define NO_INDEX UINT64_MAX

/* ---- error reporting ------------------------------------------------------ */

/* Records rc as the error of d and of every cursor it is nested in. */
static int dec_error(cv_dec *d, int rc)
{
    for (cv_dec *c = d; c; c = c->parent)
        if (!c->err)
            c->err = rc;
    return rc;
}

/* Writes " in a.b[2].c", the path of nested message d, or "" at the top. */
static void describe_path(const cv_dec *d, char *out, size_t cap)
{
    const cv_dec *chain[CV_CODEC_MAX_DEPTH];
    int n = 0;
    for (const cv_dec *c = d; c->parent && n < CV_CODEC_MAX_DEPTH; c = c->parent)
        chain[n++] = c;
    size_t used = 0;
    out[0] = '\0';
    while (n-- > 0 && used < cap) {
        const cv_dec *c = chain[n];
        const char *sep = used ? "." : " in ";
        int k = c->name ? snprintf(out + used, cap - used, "%s%s", sep, c->name)
                        : snprintf(out + used, cap - used, "%s#%u", sep, c->field);
        if (k > 0 && (size_t)k < cap - used && c->index != NO_INDEX)
            k += snprintf(out + used + k, cap - used - k, "[%llu]", (unsigned long long)c->index);
        used += k > 0 ? (size_t)k : 0;
    }
}

/* Writes "field 3 'nonce'" or "item 2 of field 4 'txs'", then the path. */
static void describe(const cv_dec *d, uint32_t field, const char *name, char *out, size_t cap)
{
    char path[160];
    char item[48] = "";
    describe_path(d, path, sizeof path);
    if (field == CV_CODEC_ITEM) {
        snprintf(item, sizeof item, "item %llu of ", (unsigned long long)d->item);
        field = d->list_field;
        name = d->list_name;
    }
    if (name)
        snprintf(out, cap, "%sfield %u '%s'%s", item, field, name, path);
    else
        snprintf(out, cap, "%sfield %u%s", item, field, path);
}

/* Fails with CV_EDECODE: "<field> at offset <at>: <problem>". at is an offset
 * in d's message. */
static int dec_fail(cv_dec *d, uint32_t field, const char *name, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int dec_fail(cv_dec *d, uint32_t field, const char *name, size_t at, const char *fmt, ...)
{
    char where[256], what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    describe(d, field, name, where, sizeof where);
    return dec_error(d, cv_fail(CV_EDECODE, "%s at offset %zu: %s", where, d->base + at, what));
}

/* Fails with CV_EINVAL for a read the schema code should not have made. */
static int misuse(cv_dec *d, uint32_t field, const char *name, const char *problem)
{
    char where[256];
    describe(d, field, name, where, sizeof where);
    return dec_error(d, cv_fail(CV_EINVAL, "schema code misuse at %s: %s", where, problem));
}

/* ---- tags and values ------------------------------------------------------ */

void cv_dec_init(cv_dec *d, const void *p, size_t len)
{
    memset(d, 0, sizeof *d);
    d->p = p;
    d->len = len;
    d->index = NO_INDEX;
    d->depth = 1;
    d->next_field = 1;
}

/* Reads a varint at d->pos into *v. */
static int read_varint(cv_dec *d, uint32_t field, const char *name, uint64_t *v)
{
    size_t used;
    const char *bad = codec_get_varint(d->p + d->pos, d->len - d->pos, v, &used);
    if (bad)
        return dec_fail(d, field, name, d->pos, "%s", bad);
    d->pos += used;
    return CV_OK;
}

/* Reads the next list item's header: checks an item of this wire type is due. */
static int begin_item(cv_dec *d, unsigned wire)
{
    if (!d->list_left)
        return misuse(d, d->list_field, d->list_name, "no list item left");
    if (wire != codec_item_wire(d->list_wire))
        return misuse(d, d->list_field, d->list_name, "wrong item type for this list");
    d->item = d->list_count - d->list_left--;
    return CV_OK;
}

/* Reads and checks the tag of field, expecting the given wire type. */
static int read_tag(cv_dec *d, uint32_t field, const char *name, unsigned wire)
{
    if (d->list_left)
        return misuse(d, field, name, "items of the previous list not all read");
    if (field != d->next_field)
        return misuse(d, field, name, "fields must be read in order, each one once");
    size_t at = d->pos;
    char where[256];
    if (at == d->len) {
        describe(d, field, name, where, sizeof where);
        return dec_error(d, cv_fail(CV_EDECODE, "expected %s at offset %zu, found end of message",
                                    where, d->base + at));
    }
    uint64_t tag;
    int rc = read_varint(d, field, name, &tag);
    if (rc)
        return rc;
    if (tag >> 3 != field) {
        describe(d, field, name, where, sizeof where);
        return dec_error(d, cv_fail(CV_EDECODE, "expected %s at offset %zu, found field %llu",
                                    where, d->base + at, (unsigned long long)(tag >> 3)));
    }
    if ((tag & 7) > CV_CODEC_MSG_LIST)
        return dec_fail(d, field, name, at, "unknown wire type %u", (unsigned)(tag & 7));
    if ((tag & 7) != wire)
        return dec_fail(d, field, name, at, "wire type %u (%s), expected %u (%s)",
                        (unsigned)(tag & 7), codec_wire_name(tag & 7), wire,
                        codec_wire_name(wire));
    d->next_field++;
    d->last_name = name;
    return CV_OK;
}

/* Starts reading a value: the field's tag, or the next item of the open list. */
static int begin_value(cv_dec *d, uint32_t field, const char *name, unsigned wire)
{
    if (d->err)
        return d->err;
    if (d->child_open)
        return misuse(d, field, name, "the previous nested message was not ended");
    return field == CV_CODEC_ITEM ? begin_item(d, wire) : read_tag(d, field, name, wire);
}

/* Reads a length or count (noun) of at most max that must also fit in the
 * bytes left, each counted unit taking at least one byte. */
static int read_size(cv_dec *d, uint32_t field, const char *name, const char *noun, size_t max,
                     size_t *out)
{
    size_t at = d->pos;
    uint64_t v;
    int rc = read_varint(d, field, name, &v);
    if (rc)
        return rc;
    if (v > d->len - d->pos)
        return dec_fail(d, field, name, at, "%s %llu exceeds the %zu remaining bytes", noun,
                        (unsigned long long)v, d->len - d->pos);
    if (v > max)
        return dec_fail(d, field, name, at, "%s %llu exceeds the maximum %zu", noun,
                        (unsigned long long)v, max);
    *out = (size_t)v;
    return CV_OK;
}

int cv_dec_uint_max(cv_dec *d, uint32_t field, const char *name, uint64_t *out, uint64_t max)
{
    *out = 0;
    int rc = begin_value(d, field, name, CV_CODEC_UINT);
    size_t at = d->pos;
    uint64_t v = 0;
    if (!rc)
        rc = read_varint(d, field, name, &v);
    if (!rc && v > max)
        rc = dec_fail(d, field, name, at, "value %llu exceeds the maximum %llu",
                      (unsigned long long)v, (unsigned long long)max);
    if (!rc)
        *out = v;
    return rc;
}

int cv_dec_uint(cv_dec *d, uint32_t field, const char *name, uint64_t *out)
{
    return cv_dec_uint_max(d, field, name, out, UINT64_MAX);
}

/* Reads a bytes value of at most max bytes; *at is where its length starts. */
static int read_bytes(cv_dec *d, uint32_t field, const char *name, size_t max,
                      const uint8_t **p, size_t *n, size_t *at)
{
    *p = NULL;
    *n = 0;
    int rc = begin_value(d, field, name, CV_CODEC_BYTES);
    *at = d->pos;
    size_t len = 0;
    if (!rc)
        rc = read_size(d, field, name, "length", max, &len);
    if (rc)
        return rc;
    *p = d->p + d->pos;
    *n = len;
    d->pos += len;
    return CV_OK;
}

int cv_dec_bytes(cv_dec *d, uint32_t field, const char *name, const uint8_t **p, size_t *n,
                 size_t max)
{
    size_t at;
    return read_bytes(d, field, name, max, p, n, &at);
}

int cv_dec_fixed(cv_dec *d, uint32_t field, const char *name, uint8_t *out, size_t n)
{
    memset(out, 0, n);
    const uint8_t *p;
    size_t len, at;
    int rc = read_bytes(d, field, name, n, &p, &len, &at);
    if (rc)
        return rc;
    if (len != n)
        return dec_fail(d, field, name, at, "length %zu, expected exactly %zu", len, n);
    memcpy(out, p, n);
    return CV_OK;
}

int cv_dec_str(cv_dec *d, uint32_t field, const char *name, char *out, size_t cap)
{
    if (cap == 0)
        return d->err ? d->err : misuse(d, field, name, "no room for the terminating NUL");
    out[0] = '\0';
    const uint8_t *p;
    size_t len, at;
    int rc = read_bytes(d, field, name, cap - 1, &p, &len, &at);
    if (rc)
        return rc;
    size_t bad = codec_utf8_bad_at(p, len);
    if (bad < len)
        return dec_fail(d, field, name, (size_t)(p - d->p) + bad, "%s in a string",
                        p[bad] ? "invalid UTF-8" : "NUL byte");
    memcpy(out, p, len);
    out[len] = '\0';
    return CV_OK;
}

int cv_dec_msg(cv_dec *d, uint32_t field, const char *name, cv_dec *sub, size_t max_len)
{
    cv_dec_init(sub, NULL, 0);
    int rc = begin_value(d, field, name, CV_CODEC_MSG);
    size_t at = d->pos, len = 0;
    if (!rc && d->depth == CV_CODEC_MAX_DEPTH)
        rc = dec_fail(d, field, name, at, "messages nested deeper than %d", CV_CODEC_MAX_DEPTH);
    if (!rc)
        rc = read_size(d, field, name, "length", max_len, &len);
    if (rc) {
        sub->err = rc;
        return rc;
    }
    sub->p = d->p + d->pos;
    sub->len = len;
    sub->base = d->base + d->pos;
    sub->parent = d;
    sub->depth = d->depth + 1;
    if (field == CV_CODEC_ITEM) {
        sub->name = d->list_name;
        sub->field = d->list_field;
        sub->index = d->item;
    } else {
        sub->name = name;
        sub->field = field;
    }
    d->pos += len;
    d->child_open = 1;
    return CV_OK;
}

int cv_dec_list(cv_dec *d, uint32_t field, const char *name, cv_codec_wire type, size_t *count,
                size_t max_count)
{
    *count = 0;
    if (d->err)
        return d->err;
    if (!codec_is_list(type))
        return misuse(d, field, name, "not a list type");
    int rc = begin_value(d, field, name, type);
    size_t n = 0;
    if (!rc)
        rc = read_size(d, field, name, "count", max_count, &n);
    if (rc)
        return rc;
    d->list_count = d->list_left = n;
    d->list_field = field;
    d->list_name = name;
    d->list_wire = (uint8_t)type;
    *count = n;
    return CV_OK;
}

/* Fails for bytes after the last field that the schema read. */
static int trailing_bytes(cv_dec *d)
{
    size_t n = d->len - d->pos, at = d->base + d->pos;
    char where[256];
    if (d->next_field == 1) {
        describe_path(d, where, sizeof where);
        return dec_error(d, cv_fail(CV_EDECODE, "%zu trailing bytes at offset %zu in a message "
                                    "without fields%s", n, at, where));
    }
    describe(d, (uint32_t)(d->next_field - 1), d->last_name, where, sizeof where);
    return dec_error(d, cv_fail(CV_EDECODE, "%zu trailing bytes at offset %zu, after %s", n, at,
                                where));
}

int cv_dec_end(cv_dec *d)
{
    if (d->err)
        return d->err;
    if (d->child_open)
        return dec_error(d, cv_fail(CV_EINVAL, "ending a message before its nested message"));
    if (d->list_left)
        return misuse(d, d->list_field, d->list_name, "ending the message before all list items");
    if (d->pos < d->len)
        return trailing_bytes(d);
    if (d->parent)
        d->parent->child_open = 0;
    return CV_OK;
}
