/* harness.h: helpers for end-to-end tests that run real civitas processes:
 * temporary homes, starting and killing nodes, an RPC client, signed
 * notary transactions, and checking inclusion proofs. */
#ifndef CV_TESTS_E2E_HARNESS_H
#define CV_TESTS_E2E_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "crypto/suite.h"
#include "ledger/tx.h"
#include "rpc/httpc.h"

typedef struct {
    const char *civitas; /* path of the binary */
    char home[256];
    char rpc[64];        /* host:port */
    pid_t pid;           /* the running node, or 0 */
    cv_httpc client;
    cv_keypair admin;    /* home/admin.key: roles admin and notary */
    char chain_id[CV_CHAIN_ID_MAX + 1];
    cv_suite suite;
} e2e_chain;

/* Creates a temporary home with `civitas init` (suite "std" or "gm") and
 * loads its admin key. */
int e2e_init(e2e_chain *c, const char *civitas, const char *suite);
/* Creates n homes with `civitas init --orgs n` in a temporary directory
 * (dir gets its path), one validator per organisation, on free loopback
 * ports; fills c[0..n) (not started). */
int e2e_init_consortium(e2e_chain *c, size_t n, const char *civitas, const char *suite, char dir[256]);

/* A block hash at height as a node reports it (hex), via block_get. */
int e2e_block_hash(e2e_chain *c, uint64_t height, char hex[2 * CV_HASH_LEN + 1]);

/* 1 if every node c[i] with alive[i] reports the same block hash at every
 * height up to the lowest of their heights (printed, with any difference). */
int e2e_same_chain(e2e_chain *c, size_t n, const int *alive);

/* Removes a directory tree (the consortium's). */
void e2e_remove_tree(const char *dir);

/* Starts `civitas node` and waits until its RPC answers. */
int e2e_start(e2e_chain *c);
/* Sends sig to the node and waits for it; returns its exit status (or
 * 128 + signal). */
int e2e_stop(e2e_chain *c, int sig);
/* Stops the node if running and removes the home. */
void e2e_cleanup(e2e_chain *c);

/* Runs `civitas ARGS...` (NULL-terminated) and returns its exit status. */
int e2e_run(const char *civitas, ...);
/* The same, with its standard output and error written to the file log
 * (replaced). */
int e2e_run_log(const char *log, const char *civitas, ...);

/* Calls method; *result is a new reference. */
int e2e_call(e2e_chain *c, const char *method, json_t *params, json_t **result);

/* The current height, from status. */
int e2e_height(e2e_chain *c, uint64_t *height);

/* A transaction contract.method(args) signed with c's admin key, appended
 * to raw; its hash in tx_hash. Takes the reference to args. */
int e2e_sign_tx(e2e_chain *c, const char *contract, const char *method, json_t *args, uint64_t expiry,
                cv_buf *raw, uint8_t tx_hash[CV_HASH_LEN]);
/* Signs n notary stamps of random hashes with label and expiry and sends
 * them in one tx_send_batch; their transaction hashes in hashes. */
int e2e_send_stamps(e2e_chain *c, size_t n, const char *label, uint64_t expiry, uint8_t (*hashes)[CV_HASH_LEN]);
/* Signs, sends and waits for contract.method(args) on node c; CV_OK if its
 * receipt says ok, with its block height. Takes the reference to args. */
int e2e_send_wait(e2e_chain *c, const char *contract, const char *method, json_t *args, uint64_t *height);

/* A signed notary.stamp of hash with label, appended to raw; its hash in
 * tx_hash. */
int e2e_stamp_tx(e2e_chain *c, const uint8_t hash[CV_HASH_LEN], const char *label, uint64_t expiry,
                 cv_buf *raw, uint8_t tx_hash[CV_HASH_LEN]);

/* Hex of raw into a new JSON string. */
json_t *e2e_hex(const uint8_t *p, size_t n);

/* Fetches the transaction with tx_get and checks that its receipt is ok and
 * that its inclusion proof leads to the tx root of a header whose hash is
 * the block's hash as block_get reports it. */
int e2e_check_tx(e2e_chain *c, const uint8_t tx_hash[CV_HASH_LEN], uint64_t *height);

#endif
