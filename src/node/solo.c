/* solo.c: the single-validator engine's thread: asks the solo state machine
 * (consensus/solo.h) when to cut a block, then builds it, certifies it with
 * the validator's one precommit (cv_cert_sign_single, the commit
 * certificate of consensus/vote.h) and commits it with its certificate. */
#include <stdlib.h>

#include "base/err.h"
#include "base/log.h"
#include "consensus/solo.h"
#include "consensus/vote.h"
#include "node/internal.h"

static void read_block_params(cv_node *n, uint64_t *max_txs, uint64_t *interval_ms)
{
    uint64_t tx_max;
    if (cv_exec_param(&n->src, "block_max_txs", max_txs) != CV_OK)
        *max_txs = cv_param_find("block_max_txs")->def;
    if (cv_exec_param(&n->src, "block_interval_ms", interval_ms) != CV_OK)
        *interval_ms = cv_param_find("block_interval_ms")->def;
    if (cv_exec_param(&n->src, "tx_max_bytes", &tx_max) == CV_OK)
        atomic_store(&n->tx_max_bytes, tx_max);
}

/* Commits b with its certificate signed by this node, the only validator. */
static int certify_and_commit(cv_node *n, cv_node_block *b)
{
    cv_buf cert = {0};
    int self = cv_valset_find_key(&n->cur_set, &n->key.pub);
    int rc = self >= 0 ? CV_OK : cv_fail(CV_EPERM, "this node's key is not the chain's validator");
    if (!rc)
        rc = cv_cert_sign_single(n->genesis.chain.chain_id, &n->key, (uint32_t)self, b->header.height, b->hash,
                                 &cert);
    if (!rc)
        rc = cv_node_commit(n, b, cert.data, cert.len);
    cv_buf_free(&cert);
    return rc;
}

void *cv_node_solo_main(void *arg)
{
    cv_node *n = arg;
    cv_solo solo;
    uint64_t max_txs, interval_ms;
    read_block_params(n, &max_txs, &interval_ms);
    cv_solo_init(&solo, interval_ms, max_txs, cv_node_now_ms());
    while (!atomic_load(&n->stopping)) {
        size_t pending = cv_mempool_size(n->mempool);
        cv_solo_decision d = cv_solo_step(&solo, cv_node_now_ms(), pending);
        if (!d.cut) {
            cv_mempool_wait(n->mempool, pending ? max_txs : 1, d.wake_ms);
            continue;
        }
        if (!cv_node_solo_validator(n)) {
            cv_error("the validator set changed: this node no longer validates alone; restart it with its "
                     "peers configured to run BFT consensus");
            break;
        }
        cv_node_block b;
        int rc = cv_node_build(n, max_txs, &b);
        if (!rc) {
            if (b.ntx > 0) /* all may have expired */
                rc = certify_and_commit(n, &b);
            cv_node_block_free(&b);
        }
        if (rc) {
            cv_error("block production stopped: %s", cv_errmsg());
            break;
        }
        read_block_params(n, &solo.max_txs, &solo.interval_ms);
        max_txs = solo.max_txs;
    }
    return NULL;
}
