/* internal.h: pieces shared by the codec's writer, reader and walker:
 * LEB128 varints, strict UTF-8 checking and wire-type names.
 * Not part of the public API (see codec.h). */
#ifndef CV_CODEC_INTERNAL_H
#define CV_CODEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "codec/codec.h"

#define CV_VARINT_MAX 10 /* bytes in the longest varint (a 64-bit value) */

/* Writes v as an unsigned LEB128 varint (always minimal); returns its length. */
static inline size_t codec_put_varint(uint8_t out[CV_VARINT_MAX], uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/* Reads a canonical varint from p[0..len). Returns NULL and sets *v and *used,
 * or returns what is wrong with it. */
static inline const char *codec_get_varint(const uint8_t *p, size_t len, uint64_t *v, size_t *used)
{
    uint64_t x = 0;
    for (size_t i = 0;; i++) {
        if (i == len)
            return "truncated varint";
        uint8_t b = p[i];
        if (i == CV_VARINT_MAX - 1 && (b & 0x80))
            return "varint longer than 10 bytes";
        if (i == CV_VARINT_MAX - 1 && b > 1)
            return "varint overflows 64 bits";
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (b == 0 && i > 0)
                return "non-minimal varint (ends in a zero byte)";
            *v = x;
            *used = i + 1;
            return NULL;
        }
    }
}

/* Index of the first byte of p[0..n) that is not part of valid UTF-8 (RFC 3629:
 * no overlong forms, surrogates or code points above U+10FFFF) or is a NUL;
 * n when the whole string is valid. */
static inline size_t codec_utf8_bad_at(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t more;
        uint8_t lo = 0x80, hi = 0xbf; /* range of the second byte */
        if (c == 0)
            return i;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            more = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            more = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else
            return i;
        if (n - i <= more || p[i + 1] < lo || p[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= more; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return i;
        i += more + 1;
    }
    return n;
}

/* cv_codec_walk for a message nested at the given depth (1 = top level). */
int cv_codec_walk_depth(const void *p, size_t len, int depth, const cv_codec_visitor *v,
                        void *ctx);

static inline int codec_is_list(unsigned wire)
{
    return wire >= CV_CODEC_UINT_LIST && wire <= CV_CODEC_MSG_LIST;
}

/* The wire type of a list's items: uint, bytes or message. */
static inline unsigned codec_item_wire(unsigned list_wire)
{
    return list_wire - CV_CODEC_UINT_LIST;
}

static inline const char *codec_wire_name(unsigned wire)
{
    static const char *const names[] = {"uint",      "bytes",      "message",
                                        "uint list", "bytes list", "message list"};
    return wire <= CV_CODEC_MSG_LIST ? names[wire] : "unknown";
}

#endif
