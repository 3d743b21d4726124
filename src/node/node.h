/* node.h: a running civitas node: store, mempool, block production.
 *
 * The node owns the I/O around the deterministic core: it admits
 * transactions into the mempool (verifying each signature once, in parallel
 * batches on the thread pool), cuts blocks with the consensus engine,
 * executes and commits them (one store transaction per block). rpc/ serves
 * it over JSON-RPC: admission on RPC threads overlaps execution and storage
 * of the current block on the producer thread. */
#ifndef CV_NODE_NODE_H
#define CV_NODE_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "consensus/valset.h"
#include "exec/exec.h"
#include "ledger/genesis.h"
#include "store/store.h"

typedef struct cv_node cv_node;

#define CV_NODE_PEERS_MAX 64

/* A peer node to connect to: its address and its node key (hex). */
typedef struct {
    char addr[256];
    char public_key[2 * CV_PUB_MAX + 1];
} cv_node_peer;

/* Node configuration: home/config.json (docs/CONFIG.md). Paths are relative
 * to the home directory. */
typedef struct {
    char home[1024];
    char rpc_listen[64];  /* "127.0.0.1:8645" */
    char p2p_listen[64];  /* "127.0.0.1:26656"; used when the chain has several validators */
    size_t npeers;
    cv_node_peer peers[CV_NODE_PEERS_MAX];
    char genesis_file[1024];
    char key_file[1024];  /* the node's validator key */
    char data_dir[1024];
    uint64_t mempool_max; /* transactions waiting at most */
    uint64_t rpc_max_body; /* bytes of one HTTP request body at most */
    unsigned rpc_threads;  /* concurrent RPC connections served at most */
    unsigned verify_threads; /* signature verification threads (0: one per core) */
} cv_node_config;

/* Fills cfg with defaults for home, then applies home/config.json if present. */
int cv_node_config_load(const char *home, cv_node_config *cfg);
/* Writes cfg to home/config.json (refuses to overwrite). */
int cv_node_config_write(const cv_node_config *cfg);

/* Opens the node: loads genesis and key, opens the store, and commits the
 * genesis block if the store is empty (refusing a store of another chain). */
int cv_node_open(const cv_node_config *cfg, cv_node **out);
/* Starts block production. */
int cv_node_start(cv_node *n);
/* Stops block production (finishing the block in progress) and frees the
 * node. Stop the RPC server first. */
void cv_node_close(cv_node *n);

const cv_chain *cv_node_chain(const cv_node *n);
cv_store *cv_node_store(cv_node *n);
/* The source reading committed state, for queries. */
const cv_state_source *cv_node_state(const cv_node *n);
const cv_node_config *cv_node_get_config(const cv_node *n);
/* The genesis file's bytes as the node read them at open (not NUL-terminated). */
const char *cv_node_genesis_text(const cv_node *n, size_t *len);

/* Admits encoded transactions into the mempool. For each i, results[i] is
 * CV_OK or the reason it was refused (with a message in errors[i], which has
 * room for CV_ERROR_MAX + 1 bytes), and hashes[i] its hash when decoded. */
int cv_node_submit(cv_node *n, const uint8_t *const *txs, const size_t *lens, size_t count,
                   int *results, char (*errors)[CV_ERROR_MAX + 1], uint8_t (*hashes)[CV_HASH_LEN]);

/* Waits up to timeout_ms for the transaction to be committed; then
 * *height and *index give its place. CV_ENOTFOUND on timeout. */
int cv_node_wait_tx(cv_node *n, const uint8_t hash[CV_HASH_LEN], int timeout_ms, uint64_t *height,
                    uint32_t *index);

/* Waits up to timeout_ms for a block above `after`; *height is the current
 * height either way. */
int cv_node_wait_height(cv_node *n, uint64_t after, int timeout_ms, uint64_t *height);

/* The validator set of a height up to the last block's + CV_VALSET_DELAY
 * (CV_ENOTFOUND beyond), and the first height it applied at. */
int cv_node_validators(cv_node *n, uint64_t height, cv_valset *out, uint64_t *from);

/* Audits the chain in cfg's store (the node may be running): re-executes
 * every block from genesis into a scratch store, verifying every signature,
 * and checks each block's link to its parent, its tx root, receipt root,
 * state root and the validator sets it names. Progress goes to the log. *height gets the last block checked;
 * an error names the first block that does not match. */
int cv_node_replay(const cv_node_config *cfg, uint64_t *height);

typedef struct {
    uint64_t height;
    uint64_t mempool_size;
    uint64_t mempool_max;
    uint64_t peers;
    uint64_t txs_committed;  /* since start */
    uint64_t txs_rejected;   /* refused at admission since start */
    char proposer[CV_ADDR_STR_MAX];
} cv_node_status;
void cv_node_get_status(cv_node *n, cv_node_status *st);

#endif
