/* internal.h: the node's parts, shared by the files of src/node only.
 *
 *   node.c      opening and closing, admission (cv_node_submit), waits, status
 *   chain.c     building, checking and deciding blocks (every engine's path)
 *   writer.c    storing decided blocks, in line or on the writer thread
 *   solo.c      the single-validator producer thread
 *   bft.c       the BFT engine: consensus, network, gossip, block sync
 *   replay.c    re-executing a stored chain */
#ifndef CV_NODE_INTERNAL_H
#define CV_NODE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "base/err.h"
#include "consensus/valset.h"
#include "ledger/block.h"
#include "node/bft.h"
#include "node/mempool.h"
#include "node/node.h"

/* A block on the chain: its height, hash, time and state root. */
typedef struct {
    uint64_t height, time_ms;
    uint8_t hash[CV_HASH_LEN], state_root[CV_HASH_LEN];
} cv_node_pos;

/* A block executed and ready to commit: built by this node, or checked. */
typedef struct {
    cv_header header;
    uint8_t hash[CV_HASH_LEN];
    cv_buf encoded;       /* the block's encoding */
    cv_tx *txs;           /* decoded; point into encoded */
    size_t ntx;
    cv_exec_result result;
} cv_node_block;

/* The store writer (writer.c): the decided block it stores, or stored last,
 * and the thread's state under mu. */
typedef struct {
    cv_node_block block;
    cv_buf cert, valset;          /* block's certificate, the set it leaves */
    cv_state_overlay overlay;     /* the store's state with block on top */
    int held;                     /* block, cert, valset and overlay are set */
    char log_path[1100];          /* the decided-block log */
    pthread_t thread;
    int running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int busy, stop;               /* block is being stored; the thread must end */
    int rc;                       /* a failed store (sticky), with its message */
    char error[CV_ERROR_MAX + 1];
} cv_node_writer;

struct cv_node {
    cv_node_config cfg;
    cv_genesis genesis;
    cv_buf genesis_text;                  /* the genesis file's bytes (its hash is the genesis hash) */
    cv_keypair key;
    uint8_t self_addr[CV_ADDR_LEN];
    /* The validator sets of the two heights after the decided block (a
     * change decided at H applies from H + 2), changed only by decisions,
     * under mu; sets_seq counts their changes. The deciding thread reads
     * them without the lock; others use cv_node_validators. */
    cv_valset cur_set, next_set;
    uint64_t sets_seq;
    cv_store *store;
    cv_state_source src;
    cv_mempool *mempool;
    cv_pool *verify_pool;

    pthread_t engine_thread; /* solo */
    cv_node_bft *bft;        /* or BFT, when the chain has several validators */
    int started;
    atomic_int stopping;

    /* The last stored block, guarded by mu; commit_seq counts stores. It is
     * what RPC, waiters and peers' sync see. */
    pthread_mutex_t mu;
    pthread_cond_t committed;
    cv_node_pos stored;
    uint64_t commit_seq;

    /* The last decided block, on the deciding thread only: the stored one,
     * or the next while the writer stores it. Blocks are built and checked
     * on top of it, reading state through exec_src. */
    cv_node_pos decided;
    cv_state_source exec_src;
    cv_node_writer writer;

    atomic_uint_fast64_t txs_committed, txs_rejected, tx_max_bytes;
};

void cv_node_block_free(cv_node_block *b);

uint64_t cv_node_now_ms(void);
uint64_t cv_node_mono_ms(void);
void cv_node_home_path(const cv_node_config *cfg, const char *rel, char *out, size_t cap);
/* The path of a file in the node's data directory. */
void cv_node_data_path(const cv_node *n, const char *name, char *out, size_t cap);

/* The decided-block log's name in the data directory (writer.c). */
#define CV_NODE_DECIDED_LOG "consensus.decided"

/* The last stored block's height. */
uint64_t cv_node_stored_height(cv_node *n);

/* Builds the next block from up to max waiting transactions (this node
 * proposes): executes them at the next height and encodes the block. */
int cv_node_build(cv_node *n, size_t max, cv_node_block *out);

/* Checks a proposed or synced block for the next height: header fields, the
 * link to the last block, every signature (those of transactions this node
 * admitted were checked already), and, by executing it, its roots. */
int cv_node_check(cv_node *n, const uint8_t *block, size_t len, cv_node_block *out);

/* Checks a block for the next height and its commit certificate by that
 * height's validators, and commits it (block sync, and the decided log). */
int cv_node_commit_certified(cv_node *n, const uint8_t *block, size_t len, const uint8_t *cert, size_t cert_len);

/* Makes b (its validator-set change encoded in valset) the decided block:
 * its transactions leave the mempool and the validator sets advance. */
int cv_node_decide(cv_node *n, const cv_node_block *b, const cv_buf *valset);

/* Makes the stored tip b and wakes waiters. */
void cv_node_publish(cv_node *n, const cv_node_block *b, uint64_t started_ms);

/* ---- writer.c ---- */

/* Starts the writer thread; decided blocks are logged to
 * CV_NODE_DECIDED_LOG in the data directory. */
int cv_node_writer_start(cv_node *n);
/* Waits for the block in flight, then ends the thread. */
void cv_node_writer_stop(cv_node *n);

/* Commits b (with its certificate, or none) on the calling thread: stores
 * it, makes it the last block and decides it. */
int cv_node_commit(cv_node *n, cv_node_block *b, const uint8_t *cert, size_t cert_len);

/* Commits b, taking it over, without waiting for the store: logs it
 * durably, decides it and hands it to the writer thread. Blocks built or
 * checked next see its state. Waits first for the block in flight. */
int cv_node_commit_async(cv_node *n, cv_node_block *b, const uint8_t *cert, size_t cert_len);

/* Waits until the block in flight, if any, is stored; its error if the
 * store failed. */
int cv_node_flush(cv_node *n);

/* At start: commits the block of the decided log if the store lacks it. */
int cv_node_recover_decided(cv_node *n);

/* Commits block 0: the genesis state, its previous hash the genesis hash. */
int cv_node_commit_genesis(cv_node *n);

/* Admits transactions from a peer (no gossip back, no per-transaction
 * answers: refusals are counted). */
void cv_node_admit(cv_node *n, const uint8_t *const *txs, const size_t *lens, size_t count, int gossip);

/* Decodes the stored validator set of height (at most tip + 2) into out,
 * and the height it took effect at into *from (may be NULL). */
int cv_node_load_valset(cv_node *n, uint64_t height, cv_valset *out, uint64_t *from);

/* 1 if this node alone validates the next height (the solo engine's case). */
int cv_node_solo_validator(const cv_node *n);

/* The solo engine's thread. */
void *cv_node_solo_main(void *arg);

#endif
