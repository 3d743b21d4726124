/* sim.h: the deterministic consensus simulator's shared types.
 *
 * A whole network of validators runs in one process: each one a Tendermint
 * engine (src/consensus/tendermint.h) with a tiny "node" around it that
 * persists its record and its committed blocks, builds and checks blocks of
 * a toy application, and catches up with block sync. A seeded scheduler
 * orders every event (message deliveries, timers, faults) on a simulated
 * clock, so a seed replays the same run exactly. Files:
 *   sim.c       command line, scenarios, the run loop and the invariants
 *   sim_net.c   random numbers, the event queue, the network and its faults
 *   sim_node.c  an honest node: outputs, timers, blocks, commits, sync, crashes
 *   sim_byz.c   Byzantine validators: equivocation, double votes, garbage, ... */
#ifndef CV_SIM_SIM_H
#define CV_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "consensus/tendermint.h"

#define SIM_MAX_NODES 10
#define SIM_CHAIN "sim-chain"
#define SIM_SIGNED_RING 512 /* recent votes each honest node signed, for the double-sign check */

/* ---- random numbers (xoshiro256**, seeded by splitmix64) ------------------ */

typedef struct {
    uint64_t s[4];
} sim_rng;

void sim_rng_seed(sim_rng *r, uint64_t seed);
uint64_t sim_rand(sim_rng *r);
uint64_t sim_below(sim_rng *r, uint64_t n);          /* uniform in [0, n), n > 0 */
uint64_t sim_range(sim_rng *r, uint64_t lo, uint64_t hi); /* uniform in [lo, hi] */
int sim_chance(sim_rng *r, unsigned permille);

/* ---- events ------------------------------------------------------------------ */

typedef enum { MSG_PROPOSAL, MSG_VOTE, MSG_STATUS, MSG_SYNC } sim_msg_kind;

typedef enum {
    EV_DELIVER,     /* a message arrives at node */
    EV_TIMER,       /* an engine timer of node (stale if epoch changed) */
    EV_BLOCK,       /* node finished building the block it was asked for */
    EV_STATUS,      /* node tells its peers its height (block sync) */
    EV_CRASH,       /* node crashes (arg 1: in the middle of its next output batch) */
    EV_RESTART,     /* node restarts from what it persisted */
    EV_PARTITION,   /* the network splits: arg is the mask of one side */
    EV_HEAL,        /* the partition ends */
    EV_BYZ,         /* a Byzantine node's own initiative (garbage, replays) */
    EV_FAULTS_END,  /* faults stop: heal, restart, reliable network */
    EV_DEADLINE,    /* liveness must have been shown by now */
} sim_ev_kind;

typedef struct {
    uint64_t time, seq;
    sim_ev_kind kind;
    int node, from;
    uint32_t epoch;
    sim_msg_kind msg;
    cv_bft_timeout timeout;
    uint64_t height;
    int32_t round;
    uint64_t arg;
    uint8_t *data; /* owned */
    size_t len;
} sim_event;

typedef struct {
    sim_event *v;
    size_t n, cap;
    uint64_t seq;
} sim_heap;

/* ---- nodes ------------------------------------------------------------------ */

enum {
    BYZ_EQUIVOCATE = 1 << 0, /* two proposals per round it proposes */
    BYZ_DOUBLE_VOTE = 1 << 1, /* conflicting votes to different peers */
    BYZ_INVALID = 1 << 2,     /* proposes invalid blocks (and votes for them) */
    BYZ_GARBAGE = 1 << 3,     /* random and mangled bytes */
    BYZ_WRONG_HEIGHT = 1 << 4, /* validly signed votes for other heights and far rounds */
    BYZ_WRONG_KEY = 1 << 5,   /* votes in other validators' names, signed with its own key */
    BYZ_AMNESIA = 1 << 6,     /* ignores its lock */
    BYZ_SILENT = 1 << 7,      /* sends nothing at times */
    BYZ_ALL = (1 << 8) - 1,
};

typedef struct {
    uint64_t height;
    int32_t round;
    int type;
    int nil;
    uint8_t hash[CV_HASH_LEN];
} sim_signed;

typedef struct {
    int id; /* validator index */
    unsigned byz;  /* BYZ_* flags; 0: honest */
    int alive;
    uint32_t epoch;
    cv_keypair key;
    cv_bft *bft;
    /* Durable: survives a crash. */
    cv_buf record, valid; /* the last PERSIST's record and valid value */
    uint64_t height; /* committed */
    cv_buf *blocks, *certs; /* by height, 1 .. height */
    size_t cap;
    /* Volatile. */
    int crash_after; /* >= 0: crash after this many more outputs */
    uint64_t status_due;
    sim_signed signed_ring[SIM_SIGNED_RING];
    size_t nsigned;
    /* Byzantine: its last equivocation: at (height, round) the peers in mask
     * got the proposal of block hash[0], the others that of hash[1]. */
    uint64_t eq_height;
    int32_t eq_round;
    uint32_t eq_mask;
    int eq_decider; /* a lock attack's decider, or -1 */
    uint8_t eq_hash[2][CV_HASH_LEN];
    cv_buf eq_other; /* its second proposal, encoded */
    int has_eq;
    /* Byzantine: the last proposal it received, to vote for it whatever its lock. */
    uint64_t seen_height;
    int32_t seen_round;
    uint8_t seen_hash[CV_HASH_LEN];
} sim_node;

typedef struct {
    /* options */
    uint64_t seed;
    int verbose;
    int mutate_lock, mutate_amnesia;
    int long_mode;
    /* the run */
    sim_rng rng;
    uint64_t now;
    sim_heap heap;
    int n;
    sim_node nodes[SIM_MAX_NODES];
    cv_valset *vs;
    /* the network */
    int faults;
    unsigned loss, dup, spike; /* per mille: typical loss; duplication, delay spikes */
    unsigned link_loss[SIM_MAX_NODES][SIM_MAX_NODES]; /* per directed link: none, typical or bad */
    uint64_t delay_min, delay_max;
    uint64_t link_delay[SIM_MAX_NODES][SIM_MAX_NODES]; /* per directed link: the longest delay */
    uint64_t status_ms; /* how often nodes announce their height (block sync) */
    uint32_t partition;        /* mask of one side; 0: none */
    uint64_t faults_end, deadline;
    /* what honest nodes agreed on, by height */
    uint8_t (*agreed)[CV_HASH_LEN];
    uint64_t nagreed, agreed_cap;
    uint64_t h_star; /* the highest honest height when faults ended */
    int live;        /* every honest node passed h_star + SIM_LIVE_HEIGHTS */
    char failure[600];
    int safety_failure;
    /* counters */
    uint64_t events, messages, commits, syncs, crashes, rejected_syncs;
} sim_world;

#define SIM_LIVE_HEIGHTS 2

/* sim.c */
/* Records the run's first failure (safety: an invariant of the protocol, not
 * of the harness); returns -1. */
int sim_fail(sim_world *w, int safety, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void sim_log(sim_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* sim_net.c */
void sim_push(sim_world *w, sim_event ev);
int sim_pop(sim_world *w, sim_event *ev);
void sim_heap_free(sim_heap *h);
/* Sends bytes from -> to through the network (faults applied). */
void sim_send(sim_world *w, int from, int to, sim_msg_kind kind, const uint8_t *p, size_t len);
void sim_broadcast(sim_world *w, int from, sim_msg_kind kind, const uint8_t *p, size_t len);
int sim_linked(const sim_world *w, int a, int b);

/* sim_node.c */
int sim_node_boot(sim_world *w, sim_node *nd);
void sim_node_crash(sim_world *w, sim_node *nd);
void sim_node_event(sim_world *w, sim_node *nd, const sim_event *ev);
void sim_node_free(sim_node *nd);
int sim_block_make(sim_world *w, uint64_t height, int proposer, int valid, cv_buf *out, uint8_t hash[CV_HASH_LEN]);
int sim_block_valid(void *ctx, uint64_t height, const uint8_t hash[CV_HASH_LEN], const uint8_t *block, size_t len);
int sim_sign(void *ctx, const uint8_t *msg, size_t len, cv_sig *sig);

/* A block-sync message: {1: list of {1: height, 2: block, 3: certificate}},
 * n consecutive heights from first. */
int sim_sync_encode(cv_buf *out, uint64_t first, const cv_buf *blocks, const cv_buf *certs, size_t n);

/* sim_byz.c */
/* A Byzantine node's version of an engine output (sent instead of it). */
void sim_byz_send(sim_world *w, sim_node *nd, cv_bft_out_kind kind, const uint8_t *p, size_t len);
void sim_byz_tick(sim_world *w, sim_node *nd);
/* A Byzantine node notes the proposals it receives. */
void sim_byz_saw(sim_node *nd, const uint8_t *p, size_t len);

#endif
