/* buf.h: a growable byte buffer, and hex conversion.
 *
 * A cv_buf owns its bytes; a zero-initialised cv_buf is empty and valid.
 * Appends either succeed or leave the buffer unchanged and return CV_ENOMEM. */
#ifndef CV_BASE_BUF_H
#define CV_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} cv_buf;

int cv_buf_reserve(cv_buf *b, size_t extra);
int cv_buf_append(cv_buf *b, const void *p, size_t n);
int cv_buf_append_byte(cv_buf *b, uint8_t byte);
void cv_buf_reset(cv_buf *b);   /* len = 0, keeps the allocation */
void cv_buf_free(cv_buf *b);    /* frees and zeroes; wipes the bytes first */

/* Writes 2*n lowercase hex digits and a NUL to out (size >= 2*n+1). */
void cv_hex_encode(const uint8_t *p, size_t n, char *out);

/* Decodes exactly 2*n hex digits (either case) of hex into out[n].
 * CV_EINVAL if hex has another length or a non-hex character. */
int cv_hex_decode(const char *hex, uint8_t *out, size_t n);

/* Decodes a hex string of any even length into a new buffer. */
int cv_hex_decode_buf(const char *hex, cv_buf *out);

#endif
