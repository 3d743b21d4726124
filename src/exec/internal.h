/* internal.h: pieces shared by the files of exec/ and not used elsewhere:
 * the byte-keyed hash map, the layered state overlay, argument decoding and
 * the contract registry. */
#ifndef CV_EXEC_INTERNAL_H
#define CV_EXEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "exec/contract.h"
#include "exec/exec.h"

/* ---- map: byte keys -> byte values (or a deletion mark) ----------------------
 * Open addressing over an insertion-ordered entry array; keys and values are
 * copied into an arena of chunks, so pointers to them stay valid until the map
 * is cleared. Iteration (the entry array) is in insertion order, which does
 * not depend on the hash seed. */

typedef struct {
    const uint8_t *key;
    const uint8_t *value; /* NULL: the key is deleted */
    size_t key_len, value_len;
    uint64_t hash;
} cv_state_entry;

typedef struct cv_state_chunk cv_state_chunk;

typedef struct {
    cv_state_entry *entries; /* insertion order */
    size_t n, cap;
    uint32_t *slots;         /* 0: empty; else index into entries + 1 */
    size_t nslots;           /* a power of two */
    cv_state_chunk *chunks;  /* arena, newest first */
    uint8_t seed[16];
} cv_state_map;

int cv_state_map_init(cv_state_map *m);
void cv_state_map_free(cv_state_map *m);
/* Empties the map, keeping one arena chunk and a small slot table. */
void cv_state_map_clear(cv_state_map *m);
/* The entry of key, or NULL. */
const cv_state_entry *cv_state_map_find(const cv_state_map *m, const uint8_t *key, size_t key_len);
/* Sets key to value (NULL: marks it deleted). */
int cv_state_map_set(cv_state_map *m, const uint8_t *key, size_t key_len, const uint8_t *value,
                     size_t value_len);

/* ---- state: committed source <- block overlay <- transaction overlay --------- */

struct cv_state {
    const cv_state_source *src;
    cv_state_map block; /* writes of the block's successful transactions so far */
    cv_state_map tx;    /* writes of the running transaction */
};
typedef struct cv_state cv_state;

int cv_state_init(cv_state *s, const cv_state_source *src);
void cv_state_free(cv_state *s);
/* Replaces out's contents with key's current value; CV_ENOTFOUND (without a
 * message) if absent or deleted. */
int cv_state_get(cv_state *s, const uint8_t *key, size_t key_len, cv_buf *out);
/* Writes into the transaction overlay; value NULL deletes. */
int cv_state_set(cv_state *s, const uint8_t *key, size_t key_len, const uint8_t *value,
                 size_t value_len);
/* Merges the transaction overlay into the block overlay, or drops it. */
int cv_state_commit_tx(cv_state *s);
void cv_state_discard_tx(cv_state *s);
/* The block overlay as a write set sorted by key, deletes as value NULL, in
 * one allocation (free(*out) frees keys and values too). */
int cv_state_write_set(const cv_state *s, cv_kv **out, size_t *n);
/* H(prev || H(encoding of the sorted write set)), see docs/LEDGER.md. */
int cv_state_root(cv_suite suite, const uint8_t prev[CV_HASH_LEN], const cv_kv *writes, size_t n,
                  uint8_t out[CV_HASH_LEN]);

/* ---- registry and arguments ---------------------------------------------------- */

/* The contract or method by name; NULL (with a message) if there is none. */
#define CV_FULL_KEY_MAX (CV_NAME_MAX + 1 + CV_KEY_MAX)
/* full = contract || 0x00 || key (contract.h); its length, or 0 if key is too long. */
size_t cv_exec_full_key(const char *contract, const void *key, size_t key_len, uint8_t full[CV_FULL_KEY_MAX]);

const cv_contract *cv_exec_contract(const char *name);
const cv_method *cv_exec_method(const cv_contract *c, const char *name);
/* Every registered contract. */
const cv_contract *const *cv_exec_contracts(size_t *count);

/* "uint", "str", "bytes", "hash", "address" or "pubkey". */
const char *cv_exec_arg_type_name(cv_arg_type t);

/* Decodes args by m's specs into out[0..m->nargs). Strings are copied,
 * NUL-terminated, into scratch (reset first). With suite 0 public keys are
 * only length-checked (out[i].b, .len); otherwise also parsed into .pub.
 * Errors are CV_EINVAL naming the method and argument. */
int cv_exec_args_decode(const cv_contract *c, const cv_method *m, cv_suite suite, const uint8_t *p,
                        size_t len, cv_arg *out, cv_buf *scratch);

#endif
