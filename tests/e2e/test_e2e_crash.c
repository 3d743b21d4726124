/* test_e2e_crash.c: a node under load is killed with SIGKILL at random
 * moments, 20 times. After each restart every transaction whose commit the
 * client saw is still there with a valid proof, and the stored chain replays
 * from genesis to exactly the stored roots. The seed is printed; set
 * CV_SEED to replay a run. */
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
    e2e_chain c;
    CHECK_OK(e2e_init(&c, argv[1], "std"));
    loader ld = {.chain = &c, .seen_hash = calloc(MAX_SEEN, CV_HASH_LEN)};
    size_t checked = 0;
    for (int round = 0; round < ROUNDS && check_failures == 0; round++) {
        CHECK_OK(e2e_start(&c));
        atomic_store(&ld.stop, 0);
        pthread_t th;
        pthread_create(&th, NULL, load_main, &ld);
        struct timespec pause = {0, (long)(100 + rand() % 900) * 1000000L};
        nanosleep(&pause, NULL);
        CHECK(e2e_stop(&c, SIGKILL) == 128 + SIGKILL);
        atomic_store(&ld.stop, 1);
        pthread_join(th, NULL);
        CHECK_OK(e2e_start(&c));
        check_seen(&c, &ld, &checked);
        CHECK(e2e_run(argv[1], "replay", "--home", c.home, (char *)NULL) == 0);
        uint64_t height;
        CHECK_OK(e2e_height(&c, &height));
        fprintf(stderr, "round %d: killed after %ld ms; height %llu, %zu commits seen, all present; replay ok\n",
                round + 1, pause.tv_nsec / 1000000, (unsigned long long)height, ld.seen);
        CHECK(e2e_stop(&c, SIGTERM) == 0);
    }
    CHECK(ld.seen > 0);
    free(ld.seen_hash);
    e2e_cleanup(&c);
    cv_crypto_cleanup();
    return check_done();
}
