/* internal.h: what the files of src/rpc share, and nothing outside rpc/
 * uses: the error a call builds, the call context, parameter extraction
 * (params.c), the method table (methods.c), JSON rendering of ledger objects
 * (render.c) and the dispatcher entry that the HTTP server calls with its
 * stop flag (dispatch.c). */
#ifndef CV_RPC_INTERNAL_H
#define CV_RPC_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "consensus/valset.h"
#include "crypto/merkle.h"
#include "ledger/block.h"
#include "ledger/receipt.h"
#include "ledger/tx.h"
#include "rpc/rpc.h"

#define CV_RPC_MSG_MAX 600

/* A JSON-RPC error being built. */
typedef struct {
    int code;
    char message[CV_RPC_MSG_MAX];
    json_t *data; /* optional "data" member; owned */
} cv_rpc_error;

/* One method call. */
typedef struct {
    cv_node *node;
    const json_t *params;   /* the params object, or NULL when absent */
    const atomic_int *stop; /* set when the server stops (NULL: never) */
    uint64_t wait_until_ms; /* long polls of one body end by then, together */
    cv_rpc_error *err;
} cv_rpc_call;

/* Fills e and returns code (negative, so handlers can `return cv_rpc_fail(...)`). */
int cv_rpc_fail(cv_rpc_error *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The JSON-RPC code of a cv_err: CV_RPC_APP_ERROR + code (-32603 if unknown). */
int cv_rpc_app_code(int cv_code);
/* An application error from a cv_err code and this thread's cv_errmsg(). */
int cv_rpc_fail_cv(cv_rpc_error *e, int cv_code);

/* ---- dispatch.c --------------------------------------------------------- */

/* cv_rpc_handle with a stop flag that ends long polls early. */
int cv_rpc_dispatch(cv_node *node, const char *body, size_t len, const atomic_int *stop,
                    cv_buf *response);

/* Milliseconds of the monotonic clock. */
uint64_t cv_rpc_now_ms(void);

/* Appends the compact JSON text of v to out. */
int cv_rpc_dump(const json_t *v, cv_buf *out);

/* ---- methods.c ---------------------------------------------------------- */

typedef int (*cv_rpc_fn)(cv_rpc_call *c, json_t **result);

typedef struct {
    const char *name;
    cv_rpc_fn fn;
    const char *params[6]; /* the parameter names it takes, NULL-terminated */
} cv_rpc_method;

const cv_rpc_method *cv_rpc_method_find(const char *name);

/* tx_send_batch with the transactions in one canonical encoding,
 * {1: list of bytes} (the body of POST /txs), instead of JSON hex. */
int cv_rpc_send_encoded(cv_rpc_call *c, const uint8_t *body, size_t len, json_t **result);
/* The JSON-RPC response (id null) of cv_rpc_send_encoded into response. */
int cv_rpc_dispatch_encoded(cv_node *node, const uint8_t *body, size_t len, cv_buf *response);

/* A block's header as the event stream sends it: {"height", "hash", "header"}. */
int cv_rpc_block_event(cv_node *node, uint64_t height, json_t **out);

/* ---- proof.c: committed blocks and inclusion proofs ------------------------ */

typedef struct {
    cv_buf raw;
    cv_block blk;
    uint8_t hash[CV_HASH_LEN];
    uint8_t (*tx_hashes)[CV_HASH_LEN]; /* filled by cv_rpc_block_tx_hashes */
    cv_merkle_tree tree;                /* built by the first cv_rpc_tx_proof */
    cv_merkle_tree receipt_tree;        /* likewise, over the receipt hashes */
} cv_rpc_block;

/* Loads and decodes the block at height (a cv_err on failure; free b either way). */
int cv_rpc_block_load(cv_node *node, uint64_t height, cv_rpc_block *b);
/* The hash of every transaction of b, in order. */
int cv_rpc_block_tx_hashes(cv_node *node, cv_rpc_block *b);
void cv_rpc_block_free(cv_rpc_block *b);
/* The block's commit certificate as hex, or null when it has none. */
json_t *cv_rpc_block_cert(cv_node *node, uint64_t height);
/* {index, tx_count, leaf, leaf_hash, path, tx_root, block_hash, header, cert,
 * header_raw, receipt_raw, receipt_path}: what a client needs to check that
 * transaction index and its receipt are in block b (whose tx hashes are
 * loaded), after checking that b's transactions and receipts give its
 * header's roots. */
int cv_rpc_tx_proof(cv_node *node, cv_rpc_block *b, uint32_t index, json_t **out);

/* ---- trace.c: the trace application's methods and page ------------------ */

int cv_rpc_m_trace_submit(cv_rpc_call *c, json_t **result);
int cv_rpc_m_trace_event(cv_rpc_call *c, json_t **result);
int cv_rpc_m_trace_history(cv_rpc_call *c, json_t **result);
int cv_rpc_m_trace_impact(cv_rpc_call *c, json_t **result);
/* trace.history or trace.impact (method) of a code, each event with its
 * inclusion proof and, with documents, its EPCIS document. */
int cv_rpc_trace_walk(cv_node *node, const char *method, const char *code, uint64_t limit, int documents,
                      json_t **out);

/* ---- params.c: one helper per kind of parameter; errors name the param -- */

/* -32602 naming the first member of params not in names (NULL-terminated). */
int cv_rpc_params_known(cv_rpc_call *c, const char *const *names);
/* 1 if params has the member. */
int cv_rpc_param_present(const cv_rpc_call *c, const char *name);
/* An unsigned integer in [0, max]; def when absent and not required. */
int cv_rpc_param_uint(cv_rpc_call *c, const char *name, int required, uint64_t def, uint64_t max,
                      uint64_t *out);
int cv_rpc_param_bool(cv_rpc_call *c, const char *name, int def, int *out);
/* A required string of 1 to max bytes. */
int cv_rpc_param_str(cv_rpc_call *c, const char *name, size_t max, const char **out);
/* A required hex string of exactly CV_HASH_LEN bytes. */
int cv_rpc_param_hash(cv_rpc_call *c, const char *name, uint8_t out[CV_HASH_LEN]);
/* A required hex string of 1 to max bytes, appended to out. */
int cv_rpc_param_hex(cv_rpc_call *c, const char *name, size_t max, cv_buf *out);
/* A required array of 1 to max elements. */
int cv_rpc_param_array(cv_rpc_call *c, const char *name, size_t max, const json_t **out);
/* An object; an empty object when absent. *out is a new reference. */
int cv_rpc_param_object(cv_rpc_call *c, const char *name, json_t **out);
/* Decodes v, a hex string of 1 to max bytes ("0x" prefix allowed), appending
 * to out; `what` names it in errors ("txs[3]"). */
int cv_rpc_hex_value(cv_rpc_error *e, const char *what, const json_t *v, size_t max, cv_buf *out);

/* ---- render.c: ledger objects as JSON (NULL when memory runs out) -------- */

json_t *cv_rpc_hex(const uint8_t *p, size_t n);
/* A JSON string of s, with any byte that is not valid UTF-8 replaced by '?'. */
json_t *cv_rpc_text(const char *s);
/* An integer, or a decimal string above 2^53 (beyond exact JSON numbers). */
json_t *cv_rpc_u64(uint64_t v);
json_t *cv_rpc_render_header(cv_suite suite, const cv_header *h);
json_t *cv_rpc_render_tx(const cv_tx *tx);
/* {hash, total_power, validators: [{address, public_key, power}]} in address order. */
json_t *cv_rpc_render_valset(const cv_valset *vs);
json_t *cv_rpc_render_receipt(const cv_receipt *r);
/* {"code", "message"} of an admission refusal. */
json_t *cv_rpc_render_error(int cv_code, const char *message);

#endif
