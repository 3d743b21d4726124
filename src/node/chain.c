/* chain.c: building, checking and committing blocks on a node (see
 * internal.h). Every engine goes through here: the solo producer builds and
 * commits; a BFT proposer builds, the other validators check, and all commit
 * what consensus decides; block sync checks and commits certified blocks. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "consensus/vote.h"
#include "node/commit.h"
#include "node/internal.h"

void cv_node_block_free(cv_node_block *b)
{
    cv_buf_free(&b->encoded);
    free(b->txs);
    if (b->result.receipts || b->result.writes)
        cv_exec_result_free(&b->result);
    memset(b, 0, sizeof *b);
}

uint64_t cv_node_stored_height(cv_node *n)
{
    pthread_mutex_lock(&n->mu);
    uint64_t h = n->stored.height;
    pthread_mutex_unlock(&n->mu);
    return h;
}

/* The execution context of the block after the decided one. */
static void next_block_ctx(cv_node *n, cv_block_ctx *ctx, cv_header *h, uint64_t time_ms)
{
    const cv_node_pos *tip = &n->decided;
    memset(ctx, 0, sizeof *ctx);
    memset(h, 0, sizeof *h);
    ctx->chain = &n->genesis.chain;
    memcpy(ctx->prev_state_root, tip->state_root, CV_HASH_LEN);
    memcpy(h->prev_hash, tip->hash, CV_HASH_LEN);
    h->height = tip->height + 1;
    h->time_ms = time_ms > tip->time_ms ? time_ms : tip->time_ms + 1; /* block times strictly increase */
    ctx->height = h->height;
    ctx->time_ms = h->time_ms;
    strcpy(h->chain_id, n->genesis.chain.chain_id);
    memcpy(h->validators_hash, n->cur_set.hash, CV_HASH_LEN);
    memcpy(h->next_validators_hash, n->next_set.hash, CV_HASH_LEN);
}

/* Encodes b's header and transactions, hashes the header, and repoints
 * b->txs at the copies inside the encoding. */
static int encode_block(cv_node *n, cv_node_block *b, const uint8_t *const *raws, const size_t *lens)
{
    cv_block decoded;
    int rc = cv_commit_header(n->genesis.chain.suite, &b->header, &b->result, b->txs, b->ntx);
    if (!rc)
        rc = cv_block_encode(&b->header, raws, lens, b->ntx, &b->encoded);
    if (!rc)
        rc = cv_header_hash(n->genesis.chain.suite, &b->header, b->hash);
    if (!rc)
        rc = cv_block_decode(b->encoded.data, b->encoded.len, b->ntx, CV_TX_HARD_MAX, &decoded);
    if (rc)
        return rc;
    for (size_t i = 0; i < b->ntx; i++)
        b->txs[i] = cv_tx_moved(&b->txs[i], raws[i], decoded.txs[i]);
    cv_block_free(&decoded);
    return CV_OK;
}

/* Takes up to max waiting transactions into out, in arrival order, leaving
 * out (and dropping from the mempool) those already committed: a copy that
 * was admitted while its block was being decided or stored. */
static size_t take_waiting(cv_node *n, uint64_t height, size_t max, const cv_mempool_entry **entries,
                           cv_node_block *out, const uint8_t **raws, size_t *lens)
{
    size_t peeked = cv_mempool_peek(n->mempool, height, max, entries), taken = 0, dropped = 0;
    uint8_t key[CV_REPLAY_KEY_LEN];
    for (size_t i = 0; i < peeked; i++) {
        cv_tx_replay_key(&entries[i]->tx, key);
        if (n->exec_src.replay_seen(n->exec_src.ctx, key) == CV_OK) {
            entries[dropped++] = entries[i]; /* i >= dropped + taken: not overwritten yet */
            continue;
        }
        out->txs[taken] = entries[i]->tx;
        raws[taken] = entries[i]->raw;
        lens[taken++] = entries[i]->len;
    }
    for (size_t i = 0; i < dropped; i++)
        cv_mempool_remove(n->mempool, entries[i]->tx.body_hash);
    return taken;
}

int cv_node_build(cv_node *n, size_t max, cv_node_block *out)
{
    cv_block_ctx ctx;
    memset(out, 0, sizeof *out);
    next_block_ctx(n, &ctx, &out->header, cv_node_now_ms());
    memcpy(out->header.proposer, n->self_addr, CV_ADDR_LEN);
    memcpy(ctx.proposer, n->self_addr, CV_ADDR_LEN);
    size_t slots = max ? max : 1;
    const cv_mempool_entry **entries = malloc(slots * sizeof *entries);
    const uint8_t **raws = malloc(slots * sizeof *raws);
    size_t *lens = malloc(slots * sizeof *lens);
    uint8_t *sig_ok = malloc(slots);
    out->txs = malloc(slots * sizeof *out->txs);
    int rc = entries && raws && lens && sig_ok && out->txs
                 ? CV_OK : cv_fail(CV_ENOMEM, "out of memory building a block of %zu", max);
    int pinned = !rc && cv_store_pin(n->store) == CV_OK; /* one read for the whole block */
    if (!rc) {
        out->ntx = take_waiting(n, ctx.height, max, entries, out, raws, lens);
        memset(sig_ok, 1, out->ntx); /* verified at admission */
        rc = cv_exec_block(&ctx, &n->exec_src, out->txs, out->ntx, sig_ok, &out->result);
    }
    if (pinned)
        cv_store_unpin(n->store);
    if (!rc)
        rc = encode_block(n, out, raws, lens);
    free(entries);
    free(raws);
    free(lens);
    free(sig_ok);
    if (rc)
        cv_node_block_free(out);
    return rc;
}

/* The header fields a block must have to follow the tip. */
static int check_header(cv_node *n, const cv_header *got)
{
    cv_block_ctx ctx;
    cv_header want;
    next_block_ctx(n, &ctx, &want, 0);
    if (strcmp(got->chain_id, want.chain_id) != 0)
        return cv_fail(CV_EINVAL, "block for chain '%.64s', this is '%s'", got->chain_id, want.chain_id);
    if (got->height != want.height)
        return cv_fail(CV_EINVAL, "block at height %llu, expected %llu", (unsigned long long)got->height,
                       (unsigned long long)want.height);
    if (memcmp(got->prev_hash, want.prev_hash, CV_HASH_LEN) != 0)
        return cv_fail(CV_EINVAL, "block %llu does not follow this node's last block",
                       (unsigned long long)got->height);
    if (got->time_ms < want.time_ms)
        return cv_fail(CV_EINVAL, "block %llu's time is not after its parent's", (unsigned long long)got->height);
    if (memcmp(got->validators_hash, want.validators_hash, CV_HASH_LEN) != 0)
        return cv_fail(CV_EINVAL, "block %llu names another validator set", (unsigned long long)got->height);
    if (memcmp(got->next_validators_hash, want.next_validators_hash, CV_HASH_LEN) != 0)
        return cv_fail(CV_EINVAL, "block %llu names another validator set for the next height",
                       (unsigned long long)got->height);
    if (cv_valset_find_addr(&n->cur_set, got->proposer) < 0)
        return cv_fail(CV_EPERM, "block %llu's proposer is not a validator", (unsigned long long)got->height);
    return CV_OK;
}

/* A block holds at most block_max_txs transactions (the parameter as
 * committed before it). */
static int check_size(cv_node *n, const cv_header *h)
{
    uint64_t max;
    int rc = cv_exec_param(&n->exec_src, "block_max_txs", &max);
    if (!rc && h->tx_count > max)
        rc = cv_fail(CV_EINVAL, "block %llu has %llu transactions, more than block_max_txs = %llu",
                     (unsigned long long)h->height, (unsigned long long)h->tx_count, (unsigned long long)max);
    return rc;
}

/* Decodes the transactions and verifies the signatures this node has not
 * verified before (those not in its mempool), in parallel. */
static int decode_and_verify(cv_node *n, const cv_block *blk, cv_node_block *out, uint8_t *sig_ok)
{
    size_t tx_max = (size_t)atomic_load(&n->tx_max_bytes), todo = 0;
    cv_verify_item *items = malloc((blk->tx_count ? blk->tx_count : 1) * sizeof *items);
    size_t *which = malloc((blk->tx_count ? blk->tx_count : 1) * sizeof *which);
    uint8_t *ok = malloc(blk->tx_count ? blk->tx_count : 1);
    int rc = items && which && ok ? CV_OK : cv_fail(CV_ENOMEM, "out of memory checking a block");
    for (size_t i = 0; i < blk->tx_count && !rc; i++) {
        if ((rc = cv_tx_decode(blk->txs[i], blk->tx_lens[i], tx_max, &out->txs[i])))
            rc = cv_fail(CV_EINVAL, "block transaction %zu: %s", i, cv_errmsg());
        else if (!(sig_ok[i] = (uint8_t)cv_mempool_contains(n->mempool, &out->txs[i]))) {
            items[todo] = cv_tx_verify_item(&out->txs[i]);
            which[todo++] = i;
        }
    }
    if (!rc) {
        cv_verify_batch(todo > 1 ? n->verify_pool : NULL, items, todo, ok);
        for (size_t j = 0; j < todo; j++)
            sig_ok[which[j]] = ok[j];
    }
    free(items);
    free(which);
    free(ok);
    return rc;
}

/* Executes the decoded block and compares its roots with the header's. */
static int execute_and_compare(cv_node *n, cv_node_block *out, const uint8_t *sig_ok)
{
    cv_block_ctx ctx;
    cv_header rebuilt;
    next_block_ctx(n, &ctx, &rebuilt, out->header.time_ms);
    ctx.time_ms = out->header.time_ms;
    memcpy(ctx.proposer, out->header.proposer, CV_ADDR_LEN);
    int rc = cv_exec_block(&ctx, &n->exec_src, out->txs, out->ntx, sig_ok, &out->result);
    if (rc)
        return rc;
    rebuilt = out->header;
    if ((rc = cv_commit_header(n->genesis.chain.suite, &rebuilt, &out->result, out->txs, out->ntx)))
        return rc;
    if (memcmp(rebuilt.tx_root, out->header.tx_root, CV_HASH_LEN) != 0)
        return cv_fail(CV_EINVAL, "block %llu: its tx root does not match its transactions",
                       (unsigned long long)out->header.height);
    if (memcmp(rebuilt.receipt_root, out->header.receipt_root, CV_HASH_LEN) != 0 ||
        memcmp(rebuilt.state_root, out->header.state_root, CV_HASH_LEN) != 0)
        return cv_fail(CV_EINVAL, "block %llu: executing it gives other %s roots than its header",
                       (unsigned long long)out->header.height,
                       memcmp(rebuilt.state_root, out->header.state_root, CV_HASH_LEN) ? "state" : "receipt");
    return CV_OK;
}

int cv_node_check(cv_node *n, const uint8_t *block, size_t len, cv_node_block *out)
{
    cv_block blk;
    memset(out, 0, sizeof *out);
    int rc = cv_buf_append(&out->encoded, block, len);
    if (!rc)
        rc = cv_block_decode(out->encoded.data, out->encoded.len, CV_BLOCK_TX_HARD_MAX, CV_TX_HARD_MAX, &blk);
    if (rc) {
        cv_node_block_free(out);
        return rc;
    }
    out->header = blk.header;
    out->ntx = blk.tx_count;
    uint8_t *sig_ok = malloc(blk.tx_count ? blk.tx_count : 1);
    out->txs = calloc(blk.tx_count ? blk.tx_count : 1, sizeof *out->txs);
    if (!sig_ok || !out->txs)
        rc = cv_fail(CV_ENOMEM, "out of memory checking a block");
    if (!rc)
        rc = check_header(n, &out->header);
    if (!rc)
        rc = check_size(n, &out->header);
    if (!rc)
        rc = decode_and_verify(n, &blk, out, sig_ok);
    int pinned = !rc && cv_store_pin(n->store) == CV_OK; /* one read for the whole block */
    if (!rc)
        rc = execute_and_compare(n, out, sig_ok);
    if (pinned)
        cv_store_unpin(n->store);
    if (!rc)
        rc = cv_header_hash(n->genesis.chain.suite, &out->header, out->hash);
    free(sig_ok);
    cv_block_free(&blk);
    if (rc)
        cv_node_block_free(out);
    return rc;
}

int cv_node_commit_certified(cv_node *n, const uint8_t *block, size_t len, const uint8_t *cert, size_t cert_len)
{
    cv_node_block blk;
    int rc = cv_node_check(n, block, len, &blk);
    if (rc)
        return rc;
    rc = cv_cert_verify(n->genesis.chain.suite, n->genesis.chain.chain_id, &n->cur_set, blk.header.height,
                        blk.hash, cert, cert_len);
    if (rc)
        rc = cv_fail(rc, "block %llu has no valid commit certificate: %s", (unsigned long long)blk.header.height,
                     cv_errmsg());
    else
        rc = cv_node_commit(n, &blk, cert, cert_len);
    cv_node_block_free(&blk);
    return rc;
}

/* The sets of the two heights after b: that of b + 1 was known, that of
 * b + 2 is the one b leaves (changed, if b changes it). */
static void advance_sets(cv_node *n, const cv_node_block *b, const cv_valset *changed)
{
    if (memcmp(n->cur_set.hash, n->next_set.hash, CV_HASH_LEN) != 0)
        n->sets_seq++;
    n->cur_set = n->next_set;
    if (changed) {
        n->next_set = *changed;
        n->sets_seq++;
        cv_info("block %llu changes the validators: %zu from height %llu (set %02x%02x%02x%02x...)",
                (unsigned long long)b->header.height, changed->n,
                (unsigned long long)b->header.height + CV_VALSET_DELAY, changed->hash[0], changed->hash[1],
                changed->hash[2], changed->hash[3]);
    }
}

static void set_pos(cv_node_pos *p, const cv_node_block *b)
{
    p->height = b->header.height;
    p->time_ms = b->header.time_ms;
    memcpy(p->hash, b->hash, CV_HASH_LEN);
    memcpy(p->state_root, b->result.state_root, CV_HASH_LEN);
}

int cv_node_decide(cv_node *n, const cv_node_block *b, const cv_buf *valset)
{
    assert(b->header.height == 0 || b->header.height == n->decided.height + 1);
    cv_valset *changed = NULL;
    if (b->header.height > 0 && valset->len > 0) {
        int rc = (changed = malloc(sizeof *changed)) ? CV_OK : cv_fail(CV_ENOMEM, "out of memory deciding a block");
        if (!rc)
            rc = cv_valset_decode(changed, n->genesis.chain.suite, valset->data, valset->len);
        if (rc) {
            free(changed);
            return cv_fail(rc, "the validators block %llu leaves: %s", (unsigned long long)b->header.height,
                           cv_errmsg());
        }
    }
    pthread_mutex_lock(&n->mu);
    if (b->header.height > 0)
        advance_sets(n, b, changed);
    pthread_mutex_unlock(&n->mu);
    free(changed);
    set_pos(&n->decided, b);
    for (size_t i = 0; i < b->ntx; i++)
        cv_mempool_remove(n->mempool, b->txs[i].body_hash);
    return CV_OK;
}

void cv_node_publish(cv_node *n, const cv_node_block *b, uint64_t started_ms)
{
    pthread_mutex_lock(&n->mu);
    set_pos(&n->stored, b);
    n->commit_seq++;
    pthread_cond_broadcast(&n->committed);
    pthread_mutex_unlock(&n->mu);
    atomic_fetch_add(&n->txs_committed, b->ntx);
    cv_info("block %llu: %zu txs (%zu failed), stored in %llu ms", (unsigned long long)b->header.height, b->ntx,
            b->result.failed, (unsigned long long)(cv_node_mono_ms() - started_ms));
}

int cv_node_commit_genesis(cv_node *n)
{
    cv_node_block b;
    memset(&b, 0, sizeof b);
    int rc = cv_exec_genesis(&n->genesis, &b.result);
    if (rc)
        return rc;
    cv_header *h = &b.header;
    strcpy(h->chain_id, n->genesis.chain.chain_id);
    h->time_ms = n->genesis.time_ms;
    memcpy(h->prev_hash, n->genesis.chain.genesis_hash, CV_HASH_LEN);
    memcpy(h->validators_hash, n->cur_set.hash, CV_HASH_LEN);
    memcpy(h->next_validators_hash, n->next_set.hash, CV_HASH_LEN);
    rc = encode_block(n, &b, NULL, NULL);
    if (!rc)
        rc = cv_node_commit(n, &b, NULL, 0);
    cv_node_block_free(&b);
    return rc;
}
