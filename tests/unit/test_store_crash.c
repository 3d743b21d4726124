/* test_store_crash.c: kill -9 at random instants while a child process
 * commits blocks, then check the store after each restart.
 *
 * The child opens the store, commits the next block in a loop and reports
 * each height whose commit returned through a pipe. The parent kills it after
 * a random delay, reopens the store and checks that its height H is at least
 * the last reported one and at most one more (the block in flight), that
 * blocks 0..H read back as the child wrote them, that the state and the
 * state root are block H's, and that nothing of block H+1 is visible. Then
 * the next child continues from H. Everything a block holds derives from its
 * height. The seed is printed; CV_SEED=n replays a run. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "store/store.h"

#define ROUNDS 24
#define MAX_DELAY_US 250000
#define RECEIPT_LEN 64
#define KEY_SLOTS 16 /* "k/<h % 16>" keys, overwritten in turn */
#define KEPT_MARKS 3 /* block h writes "d/<h>" and deletes "d/<h - 3>" */

enum { TAG_ROOT = 1, TAG_HASH, TAG_BLOCK, TAG_CERT, TAG_TX, TAG_BODY, TAG_RECEIPT, TAG_VALUE };

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void fill(uint8_t *p, size_t n, uint64_t tag, uint64_t seed)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 8 == 0)
            x = mix(tag << 56 ^ mix(seed) ^ i);
        p[i] = (uint8_t)(x >> (i % 8 * 8));
    }
}

static size_t txs_at(uint64_t h)
{
    return 10 + h % 40;
}

static size_t block_len_at(uint64_t h)
{
    return 200 + h % 300;
}

/* Block h, as the child commits it and the parent expects it. */
typedef struct {
    cv_store_batch b;
    uint8_t hash[CV_HASH_LEN], root[CV_HASH_LEN], cert[64], block[500];
    uint8_t tx_hashes[50][CV_HASH_LEN], replay_keys[50][CV_REPLAY_KEY_LEN];
    uint8_t receipt_bytes[50][RECEIPT_LEN];
    const uint8_t *receipts[50];
    size_t receipt_lens[50];
    char height_text[24], slot_key[8], mark_key[24], old_mark_key[24];
    uint8_t slot_value[32];
    cv_kv writes[4];
} crash_block;

static cv_kv text_kv(const char *key, const void *value, size_t value_len)
{
    return (cv_kv){(const uint8_t *)key, strlen(key), value, value_len};
}

static void make_block(crash_block *c, uint64_t h)
{
    memset(c, 0, sizeof *c);
    fill(c->hash, CV_HASH_LEN, TAG_HASH, h);
    fill(c->root, CV_HASH_LEN, TAG_ROOT, h);
    fill(c->cert, sizeof c->cert, TAG_CERT, h);
    fill(c->block, block_len_at(h), TAG_BLOCK, h);
    for (size_t i = 0; i < txs_at(h); i++) {
        fill(c->tx_hashes[i], CV_HASH_LEN, TAG_TX, h << 8 | i);
        fill(c->replay_keys[i], CV_REPLAY_KEY_LEN, TAG_BODY, h << 8 | i);
        memset(c->replay_keys[i], 0xff, 8); /* expiry: never pruned */
        fill(c->receipt_bytes[i], RECEIPT_LEN, TAG_RECEIPT, h << 8 | i);
        c->receipts[i] = c->receipt_bytes[i];
        c->receipt_lens[i] = RECEIPT_LEN;
    }
    snprintf(c->height_text, sizeof c->height_text, "%llu", (unsigned long long)h);
    snprintf(c->slot_key, sizeof c->slot_key, "k/%02u", (unsigned)(h % KEY_SLOTS));
    fill(c->slot_value, sizeof c->slot_value, TAG_VALUE, h);
    snprintf(c->mark_key, sizeof c->mark_key, "d/%llu", (unsigned long long)h);
    snprintf(c->old_mark_key, sizeof c->old_mark_key, "d/%llu", (unsigned long long)(h - KEPT_MARKS));
    size_t n = 0;
    c->writes[n++] = text_kv("height", c->height_text, strlen(c->height_text));
    c->writes[n++] = text_kv(c->slot_key, c->slot_value, sizeof c->slot_value);
    c->writes[n++] = text_kv(c->mark_key, "x", 1);
    if (h >= KEPT_MARKS)
        c->writes[n++] = text_kv(c->old_mark_key, NULL, 0);
    c->b = (cv_store_batch){
        .height = h,
        .hash = c->hash,
        .block = c->block,
        .block_len = block_len_at(h),
        .cert = c->cert,
        .cert_len = sizeof c->cert,
        .tx_count = txs_at(h),
        .tx_hashes = (const uint8_t(*)[CV_HASH_LEN])c->tx_hashes,
        .tx_replay_keys = (const uint8_t(*)[CV_REPLAY_KEY_LEN])c->replay_keys,
        .receipts = c->receipts,
        .receipt_lens = c->receipt_lens,
        .writes = c->writes,
        .nwrites = n,
        .state_root = c->root,
    };
}

/* The child: commits blocks after the stored height until it is killed,
 * writing each committed height to fd. */
static void run_committer(const char *dir, int fd)
{
    cv_store *s;
    if (cv_store_open(dir, &s) != CV_OK) {
        fprintf(stderr, "child: %s\n", cv_errmsg());
        _exit(2);
    }
    uint64_t h;
    int rc = cv_store_height(s, &h);
    h = rc == CV_OK ? h + 1 : 0;
    crash_block *c = malloc(sizeof *c);
    if (!c)
        _exit(2);
    for (;; h++) {
        make_block(c, h);
        if (cv_store_commit(s, &c->b) != CV_OK || write(fd, &h, sizeof h) != sizeof h) {
            fprintf(stderr, "child: block %llu: %s\n", (unsigned long long)h, cv_errmsg());
            _exit(3);
        }
    }
}

static int buf_is(const cv_buf *b, const void *p, size_t n)
{
    return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

static int state_is(cv_store *s, const char *key, const void *value, size_t len, cv_buf *buf)
{
    int rc = cv_store_get(s, (const uint8_t *)key, strlen(key), buf);
    return value ? rc == CV_OK && buf_is(buf, value, len) : rc == CV_ENOTFOUND;
}

/* Whether block h reads back whole; its transactions too if with_txs. */
static int block_intact(cv_store *s, uint64_t h, int with_txs, crash_block *c, cv_buf *buf)
{
    make_block(c, h);
    uint64_t at = UINT64_MAX;
    uint32_t index = UINT32_MAX;
    int ok = cv_store_block(s, h, buf) == CV_OK && buf_is(buf, c->block, block_len_at(h)) &&
             cv_store_cert(s, h, buf) == CV_OK && buf_is(buf, c->cert, sizeof c->cert) &&
             cv_store_block_height(s, c->hash, &at) == CV_OK && at == h;
    for (size_t i = 0; with_txs && ok && i < txs_at(h); i++)
        ok = cv_store_tx_location(s, c->tx_hashes[i], &at, &index) == CV_OK && at == h &&
             index == i && cv_store_replay_seen(s, c->replay_keys[i]) == CV_OK &&
             cv_store_receipt(s, h, (uint32_t)i, buf) == CV_OK &&
             buf_is(buf, c->receipt_bytes[i], RECEIPT_LEN);
    return ok;
}

/* Whether nothing of block h (never committed) is visible. */
static int block_absent(cv_store *s, uint64_t h, crash_block *c, cv_buf *buf)
{
    make_block(c, h);
    uint64_t at;
    uint32_t index;
    int ok = cv_store_block(s, h, buf) == CV_ENOTFOUND && cv_store_cert(s, h, buf) == CV_ENOTFOUND &&
             cv_store_block_height(s, c->hash, &at) == CV_ENOTFOUND &&
             cv_store_receipt(s, h, 0, buf) == CV_ENOTFOUND && state_is(s, c->mark_key, NULL, 0, buf);
    for (size_t i = 0; ok && i < txs_at(h); i++)
        ok = cv_store_tx_location(s, c->tx_hashes[i], &at, &index) == CV_ENOTFOUND &&
             cv_store_replay_seen(s, c->replay_keys[i]) == CV_ENOTFOUND;
    return ok;
}

/* Whether the state is exactly what blocks 0..h left. */
static int state_after(cv_store *s, uint64_t h, crash_block *c, cv_buf *buf)
{
    make_block(c, h);
    uint8_t root[CV_HASH_LEN];
    int ok = cv_store_state_root(s, root) == CV_OK && memcmp(root, c->root, CV_HASH_LEN) == 0 &&
             state_is(s, "height", c->height_text, strlen(c->height_text), buf);
    /* Slot h - back was last written by block h - back, if that exists. */
    for (uint64_t back = 0; ok && back < KEY_SLOTS; back++) {
        if (back > h) {
            make_block(c, h + KEY_SLOTS - back);
            ok = state_is(s, c->slot_key, NULL, 0, buf);
        } else {
            make_block(c, h - back);
            ok = state_is(s, c->slot_key, c->slot_value, sizeof c->slot_value, buf) &&
                 state_is(s, c->mark_key, back < KEPT_MARKS ? "x" : NULL, 1, buf);
        }
    }
    return ok;
}

/* Checks the store after a kill; sets *height to its height (or -1). */
static void check_restart(const char *dir, int64_t last_reported, int64_t *height)
{
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    if (!s)
        return;
    crash_block *c = malloc(sizeof *c);
    cv_buf buf = {0};
    uint64_t h;
    int rc = cv_store_height(s, &h);
    if (rc == CV_ENOTFOUND) {
        CHECK(last_reported < 0 && block_absent(s, 0, c, &buf));
        *height = -1;
    } else {
        CHECK_OK(rc);
        CHECK((int64_t)h >= last_reported && (int64_t)h <= last_reported + 1);
        int intact = 1;
        for (uint64_t i = 0; i <= h; i++)
            intact &= block_intact(s, i, i + 3 > h || i % 97 == 0, c, &buf);
        CHECK(intact);
        CHECK(state_after(s, h, c, &buf));
        CHECK(block_absent(s, h + 1, c, &buf));
        *height = (int64_t)h;
    }
    cv_buf_free(&buf);
    free(c);
    cv_store_close(s);
}

/* Runs one child for a random time, kills it; the last height it reported. */
static int64_t run_and_kill(const char *dir, useconds_t delay, int64_t last)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        run_committer(dir, fds[1]);
    }
    close(fds[1]);
    usleep(delay);
    CHECK(kill(pid, SIGKILL) == 0);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    uint64_t h;
    while (read(fds[0], &h, sizeof h) == sizeof h) {
        CHECK((int64_t)h == last + 1);
        last = (int64_t)h;
    }
    close(fds[0]);
    return last;
}

int main(void)
{
    const char *env = getenv("CV_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
    fprintf(stderr, "test_store_crash: seed %llu (CV_SEED=%llu replays it)\n", (unsigned long long)seed,
            (unsigned long long)seed);
    char tmpl[] = "/tmp/cv_store_crash_XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL);
    if (!dir)
        return check_done();
    int64_t height = -1;
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t r = mix(seed + (uint64_t)round);
        /* One round in eight kills within a millisecond: while opening. */
        useconds_t delay = (useconds_t)(r % 8 == 0 ? r % 1000 : r % MAX_DELAY_US);
        int64_t reported = run_and_kill(dir, delay, height);
        check_restart(dir, reported, &height);
        fprintf(stderr, "round %d: killed after %u us, %lld reported, height %lld\n", round,
                (unsigned)delay, (long long)reported, (long long)height);
    }
    CHECK(height > ROUNDS);
    char path[64];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    CHECK(rmdir(dir) == 0);
    return check_done();
}
