/* buf.c: growable byte buffer and hex conversion (see buf.h). */
#include "base/buf.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"

int cv_buf_reserve(cv_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return CV_OK;
    if (extra > SIZE_MAX / 2 - b->len)
        return cv_fail(CV_ENOMEM, "buffer size overflow");
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return cv_fail(CV_ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
    b->data = p;
    b->cap = cap;
    return CV_OK;
}

int cv_buf_append(cv_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return CV_OK;
    int rc = cv_buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return CV_OK;
}

int cv_buf_append_byte(cv_buf *b, uint8_t byte)
{
    return cv_buf_append(b, &byte, 1);
}

void cv_buf_reset(cv_buf *b)
{
    b->len = 0;
}

void cv_buf_free(cv_buf *b)
{
    if (b->data)
        sodium_memzero(b->data, b->cap);
    free(b->data);
    memset(b, 0, sizeof *b);
}

void cv_hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int hex_decode_into(const char *hex, size_t digits, uint8_t *out)
{
    for (size_t i = 0; i < digits; i += 2) {
        int hi = hex_nibble(hex[i]), lo = hex_nibble(hex[i + 1]);
        if (hi < 0 || lo < 0)
            return cv_fail(CV_EINVAL, "not a hex digit at position %zu", hi < 0 ? i : i + 1);
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return CV_OK;
}

int cv_hex_decode(const char *hex, uint8_t *out, size_t n)
{
    size_t len = strlen(hex);
    if (len != 2 * n)
        return cv_fail(CV_EINVAL, "expected %zu hex digits, got %zu", 2 * n, len);
    return hex_decode_into(hex, len, out);
}

int cv_hex_decode_buf(const char *hex, cv_buf *out)
{
    size_t len = strlen(hex);
    if (len % 2)
        return cv_fail(CV_EINVAL, "odd number of hex digits (%zu)", len);
    cv_buf_reset(out);
    int rc = cv_buf_reserve(out, len / 2);
    if (rc)
        return rc;
    rc = hex_decode_into(hex, len, out->data);
    if (rc)
        return rc;
    out->len = len / 2;
    return CV_OK;
}
