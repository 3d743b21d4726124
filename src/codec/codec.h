/* codec.h: the canonical binary encoding of everything that is hashed or signed.
 *
 * A message is a sequence of fields, each a tag varint(field << 3 | wire type)
 * and a value. A schema's fields all appear, always, numbered 1, 2, 3, ... in
 * order (an "absent" value is 0 or empty), varints are minimal LEB128, and so
 * every value has exactly one encoding. docs/CODEC.md specifies the format.
 *
 * Writer: a cv_enc appends one message to a cv_buf. Nested messages and lists
 * are opened with cv_enc_msg_begin / cv_enc_list_begin and closed with
 * cv_enc_end; inside a list, write items with field CV_CODEC_ITEM.
 *
 *     cv_enc e;
 *     cv_enc_init(&e, &buf);
 *     cv_enc_uint(&e, 1, tx->nonce);
 *     cv_enc_bytes(&e, 2, tx->to, 20);
 *     cv_enc_list_begin(&e, 3, CV_CODEC_UINT_LIST);
 *     for (i = 0; i < tx->n; i++)
 *         cv_enc_uint(&e, CV_CODEC_ITEM, tx->amounts[i]);
 *     cv_enc_end(&e);
 *     rc = cv_enc_finish(&e);
 *
 * Reader: a cv_dec cursor that the caller drives in schema order, naming each
 * field for error messages and giving the schema's limits. A nested message
 * gets its own cursor; every cursor is finished with cv_dec_end, which rejects
 * trailing bytes.
 *
 *     cv_dec d;
 *     cv_dec_init(&d, p, len);
 *     cv_dec_uint(&d, 1, "nonce", &tx->nonce);
 *     cv_dec_fixed(&d, 2, "to", tx->to, 20);
 *     cv_dec_list(&d, 3, "amounts", CV_CODEC_UINT_LIST, &tx->n, MAX_AMOUNTS);
 *     for (i = 0; i < tx->n; i++)
 *         cv_dec_uint(&d, CV_CODEC_ITEM, NULL, &tx->amounts[i]);
 *     return cv_dec_end(&d);
 *
 * Errors are sticky in both: every function returns CV_OK or the error, and
 * after the first error every later call on that writer or cursor (or, for a
 * reader, on any cursor it is nested in) does nothing and returns the same
 * error, so checking only the last call is enough. Readers clear their outputs
 * when they fail. Malformed input gives CV_EDECODE with a message naming the
 * field, its byte offset and what is wrong; calls out of schema order give
 * CV_EINVAL. */
#ifndef CV_CODEC_CODEC_H
#define CV_CODEC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define CV_CODEC_MAX_DEPTH 32 /* messages nest at most this deep (the top level is 1) */
#define CV_CODEC_ITEM 0       /* the "field number" of the next item of an open list */

typedef enum {
    CV_CODEC_UINT = 0,       /* varint */
    CV_CODEC_BYTES = 1,      /* varint length, bytes */
    CV_CODEC_MSG = 2,        /* varint length, message */
    CV_CODEC_UINT_LIST = 3,  /* varint count, count varints */
    CV_CODEC_BYTES_LIST = 4, /* varint count, count times (length, bytes) */
    CV_CODEC_MSG_LIST = 5,   /* varint count, count times (length, message) */
} cv_codec_wire;

/* ---- writer --------------------------------------------------------------- */

typedef struct {
    size_t start;   /* offset in the output of the frame's first value byte */
    uint64_t count; /* fields (message) or items (list) written so far */
    uint32_t field; /* the frame's field number in its parent */
    uint8_t wire;   /* CV_CODEC_MSG or a list type */
} cv_enc_frame;

typedef struct {
    cv_buf *out;
    size_t origin; /* out->len when the writer started; restored on error */
    int err;
    int top;       /* innermost open frame; frames[0] is the top-level message */
    int depth;     /* open messages, the top level included */
    cv_enc_frame frames[2 * CV_CODEC_MAX_DEPTH];
} cv_enc;

/* Starts a message at the end of out. */
void cv_enc_init(cv_enc *e, cv_buf *out);
int cv_enc_uint(cv_enc *e, uint32_t field, uint64_t v);
int cv_enc_bytes(cv_enc *e, uint32_t field, const void *p, size_t n);
/* A NUL-terminated string; CV_EINVAL unless it is valid UTF-8. */
int cv_enc_str(cv_enc *e, uint32_t field, const char *s);
/* Opens a nested message (or, with CV_CODEC_ITEM, a message item). */
int cv_enc_msg_begin(cv_enc *e, uint32_t field);
/* Opens a list of type CV_CODEC_UINT_LIST, _BYTES_LIST or _MSG_LIST. */
int cv_enc_list_begin(cv_enc *e, uint32_t field, cv_codec_wire type);
/* Writes p[0..n), a message encoded earlier (such as a signed body), as a
 * nested message; CV_EINVAL unless it is canonical (checked as by
 * cv_codec_walk, nesting depth included). */
int cv_enc_msg_encoded(cv_enc *e, uint32_t field, const void *p, size_t n);
/* Closes the innermost open message or list. */
int cv_enc_end(cv_enc *e);
/* CV_OK if the message is complete and nothing failed. On any error the
 * output is cut back to its length at cv_enc_init. */
int cv_enc_finish(cv_enc *e);

/* ---- reader --------------------------------------------------------------- */

typedef struct cv_dec {
    const uint8_t *p;       /* this message's bytes */
    size_t len;
    size_t pos;             /* next byte to read */
    size_t base;            /* offset of p[0] in the outermost input */
    struct cv_dec *parent;  /* enclosing message's cursor; NULL at the top */
    const char *name;       /* this message's field name in its parent, or NULL */
    uint32_t field;         /* this message's field number in its parent */
    uint64_t index;         /* its item index if it is a list item, else UINT64_MAX */
    int depth;              /* 1 at the top level */
    int err;
    int child_open;         /* a nested cursor has not been ended yet */
    uint64_t next_field;    /* the field the schema reads next */
    const char *last_name;  /* the name of the last field read */
    uint64_t list_count;    /* items in the open list */
    uint64_t list_left;     /* items of it still to read */
    uint64_t item;          /* index of the list item being read */
    uint32_t list_field;
    uint8_t list_wire;
    const char *list_name;
} cv_dec;

void cv_dec_init(cv_dec *d, const void *p, size_t len);
int cv_dec_uint(cv_dec *d, uint32_t field, const char *name, uint64_t *out);
/* As cv_dec_uint, and rejects values above max. */
int cv_dec_uint_max(cv_dec *d, uint32_t field, const char *name, uint64_t *out, uint64_t max);
/* Points *p at the field's bytes inside the input (zero copy). */
int cv_dec_bytes(cv_dec *d, uint32_t field, const char *name, const uint8_t **p, size_t *n,
                 size_t max);
/* Exactly n bytes, copied to out (a hash, a key, an address). */
int cv_dec_fixed(cv_dec *d, uint32_t field, const char *name, uint8_t *out, size_t n);
/* Valid UTF-8 without NUL, of at most cap - 1 bytes; copied to out and
 * NUL-terminated. */
int cv_dec_str(cv_dec *d, uint32_t field, const char *name, char *out, size_t cap);
/* Opens a nested message of at most max_len bytes as the cursor sub; read its
 * fields from sub and finish it with cv_dec_end(sub) before reading on in d. */
int cv_dec_msg(cv_dec *d, uint32_t field, const char *name, cv_dec *sub, size_t max_len);
/* Reads a list header of the given list type and at most max_count items; then
 * read the *count items from d with field CV_CODEC_ITEM (the name is taken
 * from the list). */
int cv_dec_list(cv_dec *d, uint32_t field, const char *name, cv_codec_wire type, size_t *count,
                size_t max_count);
/* Checks the message has no bytes left, and closes a nested cursor. */
int cv_dec_end(cv_dec *d);

/* ---- schema-less walking -------------------------------------------------- */

/* Callbacks for cv_codec_walk; field is CV_CODEC_ITEM for list items. A
 * non-zero return stops the walk and is returned by it. */
typedef struct {
    int (*on_uint)(void *ctx, uint32_t field, uint64_t v);
    int (*on_bytes)(void *ctx, uint32_t field, const uint8_t *p, size_t n);
    /* A nested message (count 0) or a list of count items begins. */
    int (*on_begin)(void *ctx, uint32_t field, cv_codec_wire type, uint64_t count);
    int (*on_end)(void *ctx);
} cv_codec_visitor;

/* Checks that p[0..len) is a canonical message of any schema (fields 1, 2, 3,
 * ... in order, known wire types, minimal varints, lengths in range, nesting
 * at most CV_CODEC_MAX_DEPTH, no trailing bytes) and reports its values, in
 * order, to v (NULL: only validate). Bytes and nested messages are told apart
 * by their wire type. */
int cv_codec_walk(const void *p, size_t len, const cv_codec_visitor *v, void *ctx);

/* Validates like cv_codec_walk and appends a readable JSON-like rendering to
 * text: messages as {"1": ..., "2": ...}, lists as [...], bytes as "0x<hex>".
 * text is NUL-terminated (the NUL is not counted in text->len). On error the
 * part rendered so far stays in text. */
int cv_codec_dump(const void *p, size_t len, cv_buf *text);

/* Validates like cv_codec_walk and re-encodes what it read with the writer,
 * appending to out. For every accepted input the copy equals the input: this
 * is the codec's canonical property, which tests and fuzzers check. */
int cv_codec_copy(const void *p, size_t len, cv_buf *out);

#endif
