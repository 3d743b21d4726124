/* contract.h: the API a system contract is written against.
 *
 * A contract is a name and a table of methods. A method declares its
 * arguments (name, type, limit), the role its sender must hold and whether
 * it is a read-only query; the executor decodes and checks the arguments by
 * that declaration before the method runs, so a method sees only well-formed
 * values. Methods are deterministic functions of (state, arguments, call
 * context): they read and write state and emit events only through the
 * cv_call handed to them, and report failure by returning a cv_fail() code
 * whose message names what is wrong. A failing method's writes and events
 * are discarded by the executor.
 *
 * State: each contract has its own key space; the full key of a contract's
 * key k is name || 0x00 || k. Values are canonical encodings (codec/), never
 * raw structs. Accounts (address -> organisation, roles, public key) belong
 * to gov; other contracts read them with cv_gov_account (apps/gov.h). */
#ifndef CV_EXEC_CONTRACT_H
#define CV_EXEC_CONTRACT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"
#include "crypto/suite.h"
#include "exec/exec.h"
#include "ledger/genesis.h"
#include "ledger/receipt.h"
#include "store/store.h"

#define CV_ARGS_MAX 8   /* arguments of one method */
#define CV_KEY_MAX 256  /* bytes of a key inside a contract's key space */

typedef enum {
    CV_ARG_UINT,   /* varint; max = largest value */
    CV_ARG_STR,    /* UTF-8 without NUL; max = most bytes */
    CV_ARG_BYTES,  /* max = most bytes */
    CV_ARG_HASH,   /* exactly CV_HASH_LEN bytes */
    CV_ARG_ADDR,   /* exactly CV_ADDR_LEN bytes */
    CV_ARG_PUBKEY, /* a public key of the chain's suite (checked to be valid) */
} cv_arg_type;

typedef struct {
    const char *name;
    cv_arg_type type;
    uint64_t max; /* uint: largest value; str and bytes: most bytes; else unused */
} cv_arg_spec;

/* A decoded argument; which member is set depends on its spec's type. */
typedef struct {
    uint64_t u;         /* uint */
    const char *s;      /* str: NUL-terminated */
    const uint8_t *b;   /* bytes, hash, addr */
    size_t len;         /* str and bytes: length in bytes */
    cv_pubkey pub;      /* pubkey */
} cv_arg;

/* A registered account (gov's record of it). */
typedef struct {
    uint8_t address[CV_ADDR_LEN];
    char org[CV_ID_MAX + 1];
    size_t nroles;
    char roles[CV_ROLES_MAX][CV_ID_MAX + 1];
    cv_pubkey pub;
} cv_account;

typedef struct cv_call cv_call;
typedef struct cv_contract cv_contract;

/* A method's body: args[i] is the value of spec args[i]. */
typedef int (*cv_method_fn)(cv_call *call, const cv_arg *args);

typedef struct {
    const char *name;
    cv_method_fn fn;
    const char *role; /* role the sender must hold; NULL: any registered account */
    int readonly;     /* 1: a query (cv_exec_query), never a transaction */
    size_t nargs;
    cv_arg_spec args[CV_ARGS_MAX];
    const char *doc;
} cv_method;

struct cv_contract {
    const char *name;
    const char *doc;
    const cv_method *methods;
    size_t nmethods;
    /* Writes the contract's part of the genesis state; NULL: nothing. */
    int (*genesis)(cv_call *call, const cv_genesis *g);
};

struct cv_state; /* exec's overlay of a block's writes (internal) */

/* The context of one method call. Contracts read the public fields and use
 * the functions below; the rest belongs to the executor. */
struct cv_call {
    const cv_contract *contract;
    const cv_chain *chain;
    uint64_t height;             /* the block being executed (queries: the next one) */
    uint64_t time_ms;            /* its header time (queries: 0) */
    const uint8_t *tx_hash;      /* the transaction (queries and genesis: NULL) */
    int readonly;                /* a query or a parameter read: writes are refused */
    const cv_account *sender;    /* the sender's account (queries and genesis: NULL) */
    /* private to exec/ */
    struct cv_state *state;      /* current state; NULL: read src directly */
    const cv_state_source *src;  /* committed state */
    cv_receipt *receipt;         /* where events go (NULL: nowhere) */
    json_t *result;              /* a query's result */
};

/* ---- state, in the contract's own key space ------------------------------- */

/* Replaces out's contents with the value of key; CV_ENOTFOUND (without a
 * message) if absent. */
int cv_call_get(const cv_call *call, const void *key, size_t key_len, cv_buf *out);
/* The same, in another contract's key space (read only). */
int cv_call_get_in(const cv_call *call, const char *contract, const void *key, size_t key_len,
                   cv_buf *out);
int cv_call_put(cv_call *call, const void *key, size_t key_len, const void *value, size_t len);
int cv_call_del(cv_call *call, const void *key, size_t key_len);
/* Calls fn(ctx, key, key_len, value, value_len) for the contract's keys that
 * start with prefix, in key order (key without the namespace), until fn
 * returns non-zero (returned) or limit keys were visited. Queries only:
 * CV_ESTATE in a transaction. */
int cv_call_scan(const cv_call *call, const void *prefix, size_t prefix_len, size_t limit,
                 cv_store_scan_fn fn, void *ctx);

/* ---- outputs ---------------------------------------------------------------- */

/* Adds ev to the transaction's receipt, with ev->contract set to the
 * calling contract. CV_ESTATE in a query. */
int cv_call_emit(cv_call *call, cv_event *ev);
/* Sets a query's result (takes the reference). */
void cv_call_result(cv_call *call, json_t *value);

/* ---- helpers ----------------------------------------------------------------- */

/* "std:<hex>" / "gm:<hex>" for an address on this chain. */
void cv_call_address_string(const cv_call *call, const uint8_t addr[CV_ADDR_LEN],
                            char out[CV_ADDR_STR_MAX]);
/* 1 if the account holds role, else 0. */
int cv_call_has_role(const cv_account *acct, const char *role);
/* A canonical decimal number (digits only, no leading zero) of at most max;
 * CV_EINVAL quoting s otherwise. */
int cv_exec_parse_uint(const char *s, uint64_t max, uint64_t *out);

#endif
