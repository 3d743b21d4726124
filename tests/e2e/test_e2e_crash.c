/* test_e2e_crash.c: a node under load is killed with SIGKILL at random
 * moments, 20 times. After each restart every transaction whose commit the
 * client saw is still there with a valid proof, and the stored chain replays
 * from genesis to exactly the stored roots. Then the same with a network of
 * four validators, all killed at once, 6 times: the chain resumes (a node
 * whose store was behind its last decision stores the decided block from
 * its log first), no seen commit is lost on any node, and all four hold the
 * same chain. The seed is printed; set CV_SEED to replay a run. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"

#define ROUNDS 20
#define NET_ROUNDS 6
#define NODES 4
#define BATCH 40
#define MAX_SEEN 200000

typedef struct {
    e2e_chain *chain;
    atomic_int stop;
    size_t seen;                              /* commits the client saw */
    uint8_t (*seen_hash)[CV_HASH_LEN];
} loader;

/* Sends batches and waits for the last of each; records what it saw
 * committed, until told to stop or the node dies. */
static void *load_main(void *arg)
{
    loader *ld = arg;
    e2e_chain c = *ld->chain; /* own connection */
    cv_httpc_init(&c.client, c.rpc, 10000);
    uint64_t height = 0;
    if (e2e_height(&c, &height) != CV_OK)
        return NULL;
    while (!atomic_load(&ld->stop)) {
        uint8_t hashes[BATCH][CV_HASH_LEN];
        json_t *res = NULL;
        if (e2e_send_stamps(&c, BATCH, "crash", height + 1000, hashes) != CV_OK)
            break;
        for (int i = 0; i < BATCH; i++) {
            if (e2e_call(&c, "tx_wait", json_pack("{s:o, s:i}", "hash", e2e_hex(hashes[i], CV_HASH_LEN),
                                                   "timeout_ms", 10000), &res) != CV_OK)
                goto out;
            json_decref(res);
            res = NULL;
            if (ld->seen < MAX_SEEN)
                memcpy(ld->seen_hash[ld->seen++], hashes[i], CV_HASH_LEN);
        }
    }
out:
    cv_httpc_close(&c.client);
    return NULL;
}

/* Checks every commit seen since the last check, and 100 older ones at
 * random (a later crash must not lose earlier blocks either). */
static void check_seen(e2e_chain *c, const loader *ld, size_t *checked)
{
    size_t missing = 0, older = *checked;
    for (size_t k = 0; k < 100 && older > 0; k++) {
        size_t i = (size_t)rand() % older;
        uint64_t h;
        if (e2e_check_tx(c, ld->seen_hash[i], &h) != CV_OK) {
            fprintf(stderr, "seen tx %zu lost: %s\n", i, cv_errmsg());
            missing++;
        }
    }
    for (size_t i = *checked; i < ld->seen; i++) {
        uint64_t h;
        if (e2e_check_tx(c, ld->seen_hash[i], &h) != CV_OK) {
            fprintf(stderr, "seen tx %zu lost: %s\n", i, cv_errmsg());
            missing++;
        }
    }
    *checked = ld->seen;
    CHECK(missing == 0);
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void solo_rounds(const char *civitas, loader *ld)
{
    e2e_chain c;
    CHECK_OK(e2e_init(&c, civitas, "std"));
    ld->chain = &c;
    size_t checked = 0;
    for (int round = 0; round < ROUNDS && check_failures == 0; round++) {
        CHECK_OK(e2e_start(&c));
        atomic_store(&ld->stop, 0);
        pthread_t th;
        pthread_create(&th, NULL, load_main, ld);
        long after = 100 + rand() % 900;
        pause_ms(after);
        CHECK(e2e_stop(&c, SIGKILL) == 128 + SIGKILL);
        atomic_store(&ld->stop, 1);
        pthread_join(th, NULL);
        CHECK_OK(e2e_start(&c));
        check_seen(&c, ld, &checked);
        CHECK(e2e_run(civitas, "replay", "--home", c.home, (char *)NULL) == 0);
        uint64_t height;
        CHECK_OK(e2e_height(&c, &height));
        fprintf(stderr, "round %d: killed after %ld ms; height %llu, %zu commits seen, all present; replay ok\n",
                round + 1, after, (unsigned long long)height, ld->seen);
        CHECK(e2e_stop(&c, SIGTERM) == 0);
    }
    e2e_cleanup(&c);
}

/* Waits until node c is above height (or 30 s pass); 1 if it got there. */
static int wait_above(e2e_chain *c, uint64_t height)
{
    uint64_t h = 0;
    for (int i = 0; i < 300 && (e2e_height(c, &h) != CV_OK || h <= height); i++)
        pause_ms(100);
    return h > height;
}

static void network_rounds(const char *civitas, loader *ld)
{
    e2e_chain c[NODES];
    char dir[256];
    int alive[NODES] = {1, 1, 1, 1};
    CHECK_OK(e2e_init_consortium(c, NODES, civitas, "std", dir));
    ld->chain = &c[0];
    ld->seen = 0;
    size_t checked[NODES] = {0};
    for (int i = 0; i < NODES; i++)
        CHECK_OK(e2e_start(&c[i]));
    for (int round = 0; round < NET_ROUNDS && check_failures == 0; round++) {
        uint64_t before;
        CHECK_OK(e2e_height(&c[0], &before));
        atomic_store(&ld->stop, 0);
        pthread_t th;
        pthread_create(&th, NULL, load_main, ld);
        long after = 300 + rand() % 1500;
        pause_ms(after);
        int first = rand() % NODES;
        for (int k = 0; k < NODES; k++)
            CHECK(e2e_stop(&c[(first + k) % NODES], SIGKILL) == 128 + SIGKILL);
        atomic_store(&ld->stop, 1);
        pthread_join(th, NULL);
        for (int i = 0; i < NODES; i++)
            CHECK_OK(e2e_start(&c[i]));
        uint64_t height;
        CHECK_OK(e2e_height(&c[0], &height));
        CHECK(wait_above(&c[0], height + 1)); /* the chain resumes */
        for (int i = 0; i < NODES; i++) {
            CHECK(wait_above(&c[i], height));
            check_seen(&c[i], ld, &checked[i]);
        }
        CHECK(e2e_same_chain(c, NODES, alive));
        fprintf(stderr, "network round %d: all killed after %ld ms (from height %llu); resumed above %llu, "
                "%zu commits seen, all present on every node\n", round + 1, after, (unsigned long long)before,
                (unsigned long long)height, ld->seen);
    }
    for (int i = 0; i < NODES; i++) {
        CHECK(e2e_stop(&c[i], SIGTERM) == 0);
        CHECK(e2e_run(civitas, "replay", "--home", c[i].home, (char *)NULL) == 0);
        cv_key_wipe(&c[i].admin);
    }
    if (!getenv("CV_KEEP_E2E"))
        e2e_remove_tree(dir);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-CIVITAS\n", argv[0]);
        return 2;
    }
    unsigned seed = getenv("CV_SEED") ? (unsigned)atoi(getenv("CV_SEED")) : (unsigned)time(NULL);
    fprintf(stderr, "seed %u (CV_SEED=%u to replay the same kill times)\n", seed, seed);
    srand(seed);
    CHECK_OK(cv_crypto_init());
    loader ld = {.seen_hash = calloc(MAX_SEEN, CV_HASH_LEN)};
    solo_rounds(argv[1], &ld);
    CHECK(ld.seen > 0);
    if (check_failures == 0)
        network_rounds(argv[1], &ld);
    CHECK(ld.seen > 0);
    free(ld.seen_hash);
    cv_crypto_cleanup();
    return check_done();
}
