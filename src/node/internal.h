/* internal.h: the node's parts, shared by the files of src/node only.
 *
 *   node.c      opening and closing, admission (cv_node_submit), waits, status
 *   chain.c     building, checking and committing blocks (every engine's path)
 *   solo.c      the single-validator producer thread
 *   bft.c       the BFT engine: consensus, network, gossip, block sync
 *   replay.c    re-executing a stored chain */
#ifndef CV_NODE_INTERNAL_H
#define CV_NODE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "consensus/valset.h"
#include "ledger/block.h"
#include "node/bft.h"
#include "node/mempool.h"
#include "node/node.h"

struct cv_node {
    cv_node_config cfg;
    cv_genesis genesis;
    cv_buf genesis_text;                  /* the genesis file's bytes (its hash is the genesis hash) */
    cv_keypair key;
    uint8_t self_addr[CV_ADDR_LEN];
    /* The validator sets of the next two heights (tip + 1 and tip + 2: a
     * change committed at H applies from H + 2), changed only by commits,
     * under mu; sets_seq counts their changes. The committing thread reads
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

    /* The last committed block, guarded by mu; commit_seq counts commits. */
    pthread_mutex_t mu;
    pthread_cond_t committed;
    uint64_t height;
    uint64_t last_time_ms;
    uint8_t last_hash[CV_HASH_LEN];
    uint8_t state_root[CV_HASH_LEN];
    uint64_t commit_seq;

    atomic_uint_fast64_t txs_committed, txs_rejected, tx_max_bytes;
};

/* A block executed and ready to commit: built by this node, or checked. */
typedef struct {
    cv_header header;
    uint8_t hash[CV_HASH_LEN];
    cv_buf encoded;       /* the block's encoding */
    cv_tx *txs;           /* decoded; point into encoded */
    size_t ntx;
    cv_exec_result result;
} cv_node_block;

void cv_node_block_free(cv_node_block *b);

uint64_t cv_node_now_ms(void);
uint64_t cv_node_mono_ms(void);
void cv_node_home_path(const cv_node_config *cfg, const char *rel, char *out, size_t cap);

/* The last committed block's height, hash, time and state root. */
void cv_node_tip(cv_node *n, uint64_t *height, uint8_t hash[CV_HASH_LEN], uint64_t *time_ms,
                 uint8_t state_root[CV_HASH_LEN]);

/* Builds the next block from up to max waiting transactions (this node
 * proposes): executes them at the next height and encodes the block. */
int cv_node_build(cv_node *n, size_t max, cv_node_block *out);

/* Checks a proposed or synced block for the next height: header fields, the
 * link to the last block, every signature (those of transactions this node
 * admitted were checked already), and, by executing it, its roots. */
int cv_node_check(cv_node *n, const uint8_t *block, size_t len, cv_node_block *out);

/* Commits b (with its certificate, or none) and makes it the last block;
 * removes its transactions from the mempool and wakes waiters. */
int cv_node_commit(cv_node *n, cv_node_block *b, const uint8_t *cert, size_t cert_len);

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
