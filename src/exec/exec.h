/* exec.h: transaction checks and execution: the chain's deterministic core.
 *
 * Execution is a pure function of (committed state, block context,
 * transactions): no clock, randomness or I/O. Committed state is read through
 * a cv_state_source (the store in a node, a map in tests and the simulator);
 * the result of a block is its receipts and a write set, which the caller
 * commits. A transaction that fails any check (signature, chain id, replay
 * guard, expiry, size, unknown contract or method, malformed arguments,
 * sender's role) or whose method fails gets a failed receipt naming the
 * reason and changes no state.
 *
 * State root: root(h) = H(root(h-1) || H(write set of block h)), where the
 * write set is the canonical encoding of the block's writes sorted by key
 * (docs/LEDGER.md). It changes with every write and is identical on every
 * honest node, so divergence shows at the next header. */
#ifndef CV_EXEC_EXEC_H
#define CV_EXEC_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"
#include "crypto/suite.h"
#include "ledger/genesis.h"
#include "ledger/receipt.h"
#include "ledger/tx.h"
#include "store/store.h"

/* Read access to committed state. */
typedef struct {
    /* A value by full (namespaced) key; CV_ENOTFOUND if absent. */
    int (*get)(void *ctx, const uint8_t *key, size_t key_len, cv_buf *value);
    /* CV_OK if a committed transaction has this replay key (cv_tx_replay_key),
     * else CV_ENOTFOUND. Keys whose expiry has passed may be forgotten. */
    int (*replay_seen)(void *ctx, const uint8_t key[CV_REPLAY_KEY_LEN]);
    /* Keys with a prefix, in order (for queries); as cv_store_scan. */
    int (*scan)(void *ctx, const uint8_t *prefix, size_t prefix_len, size_t limit, cv_store_scan_fn fn,
                void *fn_ctx);
    void *ctx;
} cv_state_source;

/* A source reading the node's store. */
cv_state_source cv_state_source_store(cv_store *store);

/* What a block's execution depends on besides state and transactions. */
typedef struct {
    const cv_chain *chain; /* chain id and suite (from genesis) */
    uint64_t height;       /* the block being executed */
    uint64_t time_ms;      /* its header time */
    uint8_t proposer[CV_ADDR_LEN];
    uint8_t prev_state_root[CV_HASH_LEN];
} cv_block_ctx;

typedef struct {
    size_t ntx;
    cv_buf *receipts;                 /* ntx encoded receipts */
    uint8_t (*receipt_hashes)[CV_HASH_LEN]; /* suite hash of each encoding */
    /* RFC 6962 root with the receipt hashes as entries (leaf = H(0x00 || hash)) */
    uint8_t receipt_root[CV_HASH_LEN];
    cv_kv *writes;                    /* sorted by key; owned */
    size_t nwrites;
    uint8_t state_root[CV_HASH_LEN];
    size_t failed;                    /* transactions with a failed receipt */
    /* ntx flags: 1 if tx i's replay key joins the spent set (its signature
     * and envelope are valid and it is not itself a replay); the caller
     * records exactly these (cv_store_batch.tx_seen). */
    uint8_t *seen;
} cv_exec_result;

/* Executes txs in order. sig_ok[i] says whether tx i's signature was
 * verified (the node verifies once, in parallel, before execution); NULL
 * means verify here. */
int cv_exec_block(const cv_block_ctx *ctx, const cv_state_source *src, const cv_tx *txs, size_t n,
                  const uint8_t *sig_ok, cv_exec_result *out);
void cv_exec_result_free(cv_exec_result *r);

/* The state writes of the genesis document (organisations, accounts,
 * validators, parameters) and the resulting state root. */
int cv_exec_genesis(const cv_genesis *g, cv_exec_result *out);

/* Admission checks for the mempool at the given (next) height, against
 * committed state: chain id, expiry window (height <= expiry <= height +
 * tx_window), replay, size (tx_len, the encoded length), contract and method
 * exist and take transactions, arguments decode, sender holds the role.
 * Does not verify the signature. CV_OK or an error with its reason. */
int cv_exec_check_tx(const cv_chain *chain, const cv_state_source *src, uint64_t height,
                     const cv_tx *tx, size_t tx_len);

/* Runs a read-only method against committed state; *result is a new JSON
 * value the caller frees with json_decref. */
int cv_exec_query(const cv_chain *chain, const cv_state_source *src, uint64_t height,
                  const char *contract, const char *method, const uint8_t *args, size_t args_len,
                  json_t **result);

/* Encodes a method's arguments from a JSON object by the method's schema
 * (uint: number or decimal string; str: string; bytes/hash: hex string;
 * address: "std:<hex>"/"gm:<hex>" or hex), appending to out. Errors name the
 * argument. */
int cv_exec_args_from_json(const char *contract, const char *method, const json_t *args, cv_buf *out);
/* Renders encoded arguments of a method as a JSON object. */
int cv_exec_args_to_json(const char *contract, const char *method, const uint8_t *args, size_t len,
                         json_t **out);

/* A chain parameter's current value (governance can change it). */
int cv_exec_param(const cv_state_source *src, const char *name, uint64_t *value);

/* Committed state with one executed block on top: reads see the block's
 * writes and spent replay keys, as they will be once it is stored. It
 * points into r and txs, which must outlive it. */
typedef struct {
    const cv_state_source *base;
    const cv_kv *writes; /* r's, sorted by key */
    size_t nwrites;
    uint8_t (*spent)[CV_REPLAY_KEY_LEN]; /* sorted */
    size_t nspent;
} cv_state_overlay;

int cv_state_overlay_init(cv_state_overlay *o, const cv_state_source *base, const cv_exec_result *r,
                          const cv_tx *txs);
void cv_state_overlay_free(cv_state_overlay *o);
cv_state_source cv_state_overlay_source(cv_state_overlay *o);

/* 1 if a block's writes change the validators (gov's validator records). */
int cv_exec_changes_validators(const cv_exec_result *r);
/* The validators in src's state (gov's records), in address order: at most
 * max (else CV_EFULL); their count in *n. */
int cv_exec_validators(const cv_state_source *src, cv_genesis_validator *out, size_t max, size_t *n);

/* A JSON description of every contract, method, argument and required role. */
json_t *cv_exec_describe(void);

#endif
