/* test_mempool.c: the mempool keeps FIFO order through removals, refuses
 * duplicates while they wait, enforces its bound, drops expired
 * transactions, knows which exact transactions it verified, and wakes its
 * waiter. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "crypto/suite.h"
#include "ledger/tx.h"
#include "node/mempool.h"

static cv_keypair key;

/* A signed transaction with the given nonce, encoded into raw. */
static void make_tx(uint64_t nonce, cv_buf *raw, cv_tx *tx)
{
    memset(tx, 0, sizeof *tx);
    strcpy(tx->chain_id, "test");
    strcpy(tx->contract, "notary");
    strcpy(tx->method, "stamp");
    tx->nonce = nonce;
    tx->expiry = 10;
    cv_buf_reset(raw);
    CHECK_OK(cv_tx_sign(tx, &key, raw));
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_order_and_duplicates(void)
{
    cv_mempool *m;
    cv_buf raw = {0};
    cv_tx tx;
    CHECK_OK(cv_mempool_create(4, &m));
    for (uint64_t i = 0; i < 4; i++) {
        make_tx(i, &raw, &tx);
        CHECK_OK(cv_mempool_add(m, raw.data, raw.len, &tx));
        CHECK_ERR(cv_mempool_add(m, raw.data, raw.len, &tx), CV_EEXIST);
        CHECK(cv_mempool_contains(m, &tx));
    }
    make_tx(99, &raw, &tx);
    CHECK_ERR(cv_mempool_add(m, raw.data, raw.len, &tx), CV_EFULL);
    CHECK_MSG("mempool full");
    CHECK(!cv_mempool_contains(m, &tx));
    CHECK(cv_mempool_size(m) == 4);

    const cv_mempool_entry *out[8];
    size_t n = cv_mempool_peek(m, 1, 3, out);
    CHECK(n == 3 && cv_mempool_size(m) == 4); /* peeking takes nothing out */
    for (size_t i = 0; i < n; i++) {
        CHECK(out[i]->tx.nonce == i); /* FIFO */
        cv_tx again;
        CHECK_OK(cv_tx_decode(out[i]->raw, out[i]->len, CV_TX_HARD_MAX, &again));
        CHECK(memcmp(again.hash, out[i]->tx.hash, CV_HASH_LEN) == 0);
        CHECK(out[i]->tx.body >= out[i]->raw && out[i]->tx.body < out[i]->raw + out[i]->len);
        CHECK_OK(cv_tx_verify(&out[i]->tx)); /* pointers were moved to the copy */
    }
    /* Removing from the middle keeps the order of the rest. */
    make_tx(1, &raw, &tx);
    cv_mempool_remove(m, tx.body_hash);
    CHECK(!cv_mempool_contains(m, &tx));
    CHECK_OK(cv_mempool_add(m, raw.data, raw.len, &tx)); /* no longer a duplicate here */
    n = cv_mempool_peek(m, 1, 8, out);
    CHECK(n == 4 && out[0]->tx.nonce == 0 && out[1]->tx.nonce == 2 && out[2]->tx.nonce == 3 &&
          out[3]->tx.nonce == 1);
    cv_mempool_remove(m, tx.body_hash); /* twice: the second does nothing */
    cv_mempool_remove(m, tx.body_hash);
    CHECK(cv_mempool_size(m) == 3);
    cv_buf_free(&raw);
    cv_mempool_destroy(m); /* frees what still waits */
}

/* A re-signed copy (same body, other signature) is the same transaction for
 * duplicates, but contains() says it was not the one verified. */
static void test_contains_needs_same_signature(void)
{
    cv_keypair gm;
    cv_mempool *m;
    cv_buf raw = {0}, raw2 = {0};
    cv_tx tx, copy;
    CHECK_OK(cv_key_generate(CV_SUITE_GM, &gm));
    CHECK_OK(cv_mempool_create(4, &m));
    memset(&tx, 0, sizeof tx);
    strcpy(tx.chain_id, "test");
    strcpy(tx.contract, "notary");
    strcpy(tx.method, "stamp");
    tx.expiry = 10;
    CHECK_OK(cv_tx_sign(&tx, &gm, &raw));
    copy = tx;
    CHECK_OK(cv_tx_sign(&copy, &gm, &raw2)); /* SM2 signatures are randomised */
    CHECK(memcmp(copy.body_hash, tx.body_hash, CV_HASH_LEN) == 0);
    CHECK_OK(cv_mempool_add(m, raw.data, raw.len, &tx));
    CHECK_ERR(cv_mempool_add(m, raw2.data, raw2.len, &copy), CV_EEXIST);
    CHECK(cv_mempool_contains(m, &tx));
    CHECK(!cv_mempool_contains(m, &copy));
    cv_buf_free(&raw);
    cv_buf_free(&raw2);
    cv_mempool_destroy(m);
    cv_key_wipe(&gm);
}

/* Transactions that expired before the next height are dropped by peek. */
static void test_expiry(void)
{
    cv_mempool *m;
    cv_buf raw = {0};
    cv_tx tx;
    const cv_mempool_entry *out[4];
    CHECK_OK(cv_mempool_create(4, &m));
    make_tx(1, &raw, &tx); /* expiry 10 */
    CHECK_OK(cv_mempool_add(m, raw.data, raw.len, &tx));
    CHECK(cv_mempool_peek(m, 10, 4, out) == 1); /* still includable at height 10 */
    CHECK(cv_mempool_peek(m, 11, 4, out) == 0);
    CHECK(cv_mempool_size(m) == 0 && cv_mempool_expired(m) == 1);
    cv_buf_free(&raw);
    cv_mempool_destroy(m);
}

static void test_many_keys(void)
{
    /* Fill and drain in a scattered order so deletions shift probe runs. */
    cv_mempool *m;
    cv_buf raw = {0};
    cv_tx tx;
    const cv_mempool_entry **out = calloc(500, sizeof *out);
    CHECK_OK(cv_mempool_create(500, &m));
    for (int round = 0; round < 4; round++) {
        for (uint64_t i = 0; i < 500; i++) {
            make_tx(round * 1000 + i, &raw, &tx);
            CHECK_OK(cv_mempool_add(m, raw.data, raw.len, &tx));
        }
        for (uint64_t i = 0; i < 500; i += 2) {
            make_tx(round * 1000 + i, &raw, &tx);
            cv_mempool_remove(m, tx.body_hash);
        }
        int found = 1;
        for (uint64_t i = 0; i < 500; i++) {
            make_tx(round * 1000 + i, &raw, &tx);
            found &= cv_mempool_contains(m, &tx) == (int)(i % 2);
        }
        CHECK(found);
        size_t n = cv_mempool_peek(m, 1, 500, out);
        CHECK(n == 250 && out[0]->tx.nonce == (uint64_t)round * 1000 + 1);
        for (uint64_t i = 1; i < 500; i += 2) {
            make_tx(round * 1000 + i, &raw, &tx);
            cv_mempool_remove(m, tx.body_hash);
        }
        CHECK(cv_mempool_size(m) == 0);
    }
    free(out);
    cv_buf_free(&raw);
    cv_mempool_destroy(m);
}

static void *add_later(void *arg)
{
    cv_mempool *m = arg;
    cv_buf raw = {0};
    cv_tx tx;
    struct timespec pause = {0, 50 * 1000000L};
    nanosleep(&pause, NULL);
    make_tx(7, &raw, &tx);
    cv_mempool_add(m, raw.data, raw.len, &tx);
    cv_buf_free(&raw);
    return NULL;
}

static void test_wait(void)
{
    cv_mempool *m;
    CHECK_OK(cv_mempool_create(10, &m));
    uint64_t t0 = now_ms();
    cv_mempool_wait(m, 1, t0 + 100);
    CHECK(now_ms() >= t0 + 90); /* timed out: nothing came */
    pthread_t th;
    pthread_create(&th, NULL, add_later, m);
    uint64_t t1 = now_ms();
    cv_mempool_wait(m, 1, t1 + 10000);
    CHECK(cv_mempool_size(m) == 1);
    CHECK(now_ms() - t1 < 5000); /* woken by the add, not by the 10 s deadline */
    pthread_join(th, NULL);
    cv_mempool_destroy(m); /* frees the waiting transaction */
}

int main(void)
{
    CHECK_OK(cv_crypto_init());
    CHECK_OK(cv_key_generate(CV_SUITE_STD, &key));
    test_order_and_duplicates();
    test_contains_needs_same_signature();
    test_expiry();
    test_many_keys();
    test_wait();
    cv_key_wipe(&key);
    cv_crypto_cleanup();
    return check_done();
}
