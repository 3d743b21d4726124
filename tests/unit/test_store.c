/* test_store.c: the LMDB ledger store: blocks, certificates, transaction,
 * replay-key and receipt indexes, state, scans, rejected commits, reopening,
 * readers during commits (and map growth), reads never going back, and a
 * 10,000-transaction block.
 * Blocks are generated deterministically from their height, so any reader
 * can check what it reads. */
#define _GNU_SOURCE /* sched_setaffinity: test_reads_never_go_back runs on one CPU */

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>

#include "check.h"
#include "store/store.h"
#include "store/txindex.h"

#define KEY_LEN 14   /* "t/" || height (8) || index (4) */
#define VALUE_LEN 16
#define BIG_VALUE_LEN ((size_t)72 << 20) /* more than the store's initial map */

enum { TAG_ROOT = 1, TAG_HASH, TAG_BLOCK, TAG_CERT, TAG_TX, TAG_BODY, TAG_RECEIPT, TAG_VALUE };

static char *make_dir(void)
{
    char tmpl[] = "/tmp/cv_store_XXXXXX";
    char *dir = mkdtemp(tmpl);
    return dir ? strdup(dir) : NULL;
}

static void remove_dir(char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    CHECK(rmdir(dir) == 0);
    free(dir);
}

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* n deterministic bytes for (tag, seed). */
static void fill(uint8_t *p, size_t n, uint64_t tag, uint64_t seed)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 8 == 0)
            x = mix(tag << 56 ^ mix(seed) ^ i);
        p[i] = (uint8_t)(x >> (i % 8 * 8));
    }
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int buf_is(const cv_buf *b, const void *p, size_t n)
{
    return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

/* The state root of height h starts with h, so readers can tell which block
 * it belongs to. */
static void root_of(uint64_t h, uint8_t root[CV_HASH_LEN])
{
    put_be64(root, h);
    fill(root + 8, CV_HASH_LEN - 8, TAG_ROOT, h);
}

static size_t block_len_of(uint64_t h)
{
    return 64 + h % 64;
}

static size_t receipt_len_of(size_t i)
{
    return 20 + i % 40;
}

static void state_key_of(uint64_t h, size_t i, uint8_t key[KEY_LEN])
{
    memcpy(key, "t/", 2);
    put_be64(key + 2, h);
    for (int j = 0; j < 4; j++)
        key[10 + j] = (uint8_t)(i >> (24 - 8 * j));
}

/* Block h with ntx transactions: each has a receipt and writes its own state
 * key; the block also sets "h" to its height, then applies extra writes.
 * Even heights carry a certificate. */
typedef struct {
    cv_store_batch b;
    uint8_t hash[CV_HASH_LEN], root[CV_HASH_LEN], height_be[8];
    uint8_t block[128], cert[48];
    uint8_t (*tx_hashes)[CV_HASH_LEN];
    uint8_t (*replay_keys)[CV_REPLAY_KEY_LEN];
    const uint8_t **receipts;
    size_t *receipt_lens;
    uint8_t *receipt_bytes;
    cv_kv *writes;
    uint8_t *state_bytes;
} test_block;

static void make_block(test_block *t, uint64_t h, size_t ntx, const cv_kv *extra, size_t nextra)
{
    memset(t, 0, sizeof *t);
    root_of(h, t->root);
    fill(t->hash, CV_HASH_LEN, TAG_HASH, h);
    fill(t->block, block_len_of(h), TAG_BLOCK, h);
    fill(t->cert, sizeof t->cert, TAG_CERT, h);
    put_be64(t->height_be, h);
    t->tx_hashes = malloc(ntx * CV_HASH_LEN + 1);
    t->replay_keys = malloc(ntx * CV_REPLAY_KEY_LEN + 1);
    t->receipts = malloc(ntx * sizeof *t->receipts + 1);
    t->receipt_lens = malloc(ntx * sizeof *t->receipt_lens + 1);
    t->receipt_bytes = malloc(ntx * 60 + 1);
    t->writes = malloc((ntx + 1 + nextra) * sizeof *t->writes);
    t->state_bytes = malloc(ntx * (KEY_LEN + VALUE_LEN) + 1);
    for (size_t i = 0; i < ntx; i++) {
        fill(t->tx_hashes[i], CV_HASH_LEN, TAG_TX, h << 20 | i);
        fill(t->replay_keys[i], CV_REPLAY_KEY_LEN, TAG_BODY, h << 20 | i);
        put_be64(t->replay_keys[i], h + 1000); /* expiry: far ahead, never pruned here */
        t->receipts[i] = t->receipt_bytes + i * 60;
        t->receipt_lens[i] = receipt_len_of(i);
        fill(t->receipt_bytes + i * 60, receipt_len_of(i), TAG_RECEIPT, h << 20 | i);
        uint8_t *key = t->state_bytes + i * (KEY_LEN + VALUE_LEN), *value = key + KEY_LEN;
        state_key_of(h, i, key);
        fill(value, VALUE_LEN, TAG_VALUE, h << 20 | i);
        t->writes[i] = (cv_kv){key, KEY_LEN, value, VALUE_LEN};
    }
    t->writes[ntx] = (cv_kv){(const uint8_t *)"h", 1, t->height_be, 8};
    for (size_t i = 0; i < nextra; i++)
        t->writes[ntx + 1 + i] = extra[i];
    t->b = (cv_store_batch){
        .height = h,
        .hash = t->hash,
        .block = t->block,
        .block_len = block_len_of(h),
        .cert = h % 2 == 0 ? t->cert : NULL,
        .cert_len = h % 2 == 0 ? sizeof t->cert : 0,
        .tx_count = ntx,
        .tx_hashes = (const uint8_t(*)[CV_HASH_LEN])t->tx_hashes,
        .tx_replay_keys = (const uint8_t(*)[CV_REPLAY_KEY_LEN])t->replay_keys,
        .receipts = t->receipts,
        .receipt_lens = t->receipt_lens,
        .writes = t->writes,
        .nwrites = ntx + 1 + nextra,
        .state_root = t->root,
    };
}

static void free_block(test_block *t)
{
    free(t->tx_hashes);
    free(t->replay_keys);
    free(t->receipts);
    free(t->receipt_lens);
    free(t->receipt_bytes);
    free(t->writes);
    free(t->state_bytes);
}

static int commit_block(cv_store *s, uint64_t h, size_t ntx)
{
    test_block t;
    make_block(&t, h, ntx, NULL, 0);
    int rc = cv_store_commit(s, &t.b);
    free_block(&t);
    return rc;
}

/* Whether everything block h (of ntx transactions) stored reads back
 * (without CHECK, so that reader threads can call it). */
static int block_matches(cv_store *s, uint64_t h, size_t ntx)
{
    test_block t;
    make_block(&t, h, ntx, NULL, 0);
    cv_buf buf = {0};
    uint64_t height = UINT64_MAX;
    int ok = cv_store_block(s, h, &buf) == CV_OK && buf_is(&buf, t.block, block_len_of(h));
    if (h % 2 == 0)
        ok &= cv_store_cert(s, h, &buf) == CV_OK && buf_is(&buf, t.cert, sizeof t.cert);
    else
        ok &= cv_store_cert(s, h, &buf) == CV_ENOTFOUND;
    ok &= cv_store_block_height(s, t.hash, &height) == CV_OK && height == h;
    for (size_t i = 0; i < ntx && ok; i++) {
        uint32_t index = UINT32_MAX;
        ok &= cv_store_tx_location(s, t.tx_hashes[i], &height, &index) == CV_OK && height == h &&
              index == i;
        ok &= cv_store_replay_seen(s, t.replay_keys[i]) == CV_OK;
        ok &= cv_store_receipt(s, h, (uint32_t)i, &buf) == CV_OK &&
              buf_is(&buf, t.receipts[i], t.receipt_lens[i]);
        ok &= cv_store_get(s, t.writes[i].key, KEY_LEN, &buf) == CV_OK &&
              buf_is(&buf, t.writes[i].value, VALUE_LEN);
    }
    ok &= cv_store_receipt(s, h, (uint32_t)ntx, &buf) == CV_ENOTFOUND;
    cv_buf_free(&buf);
    free_block(&t);
    return ok;
}

/* Whether the store's tip is block h: height, state root and "h". */
static int tip_is(cv_store *s, uint64_t h)
{
    uint64_t height = UINT64_MAX;
    uint8_t root[CV_HASH_LEN], want[CV_HASH_LEN];
    root_of(h, want);
    cv_buf buf = {0};
    int ok = cv_store_height(s, &height) == CV_OK && height == h &&
             cv_store_state_root(s, root) == CV_OK && memcmp(root, want, CV_HASH_LEN) == 0 &&
             cv_store_get(s, (const uint8_t *)"h", 1, &buf) == CV_OK && buf.len == 8 &&
             get_be64(buf.data) == h;
    cv_buf_free(&buf);
    return ok;
}

static size_t txs_at(uint64_t h)
{
    return h % 5;
}

static void test_empty(void)
{
    char *dir = make_dir();
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    uint64_t h;
    uint8_t root[CV_HASH_LEN], hash[CV_HASH_LEN] = {0};
    uint32_t index;
    cv_buf buf = {0};
    CHECK_ERR(cv_store_height(s, &h), CV_ENOTFOUND);
    CHECK_MSG("empty");
    CHECK_ERR(cv_store_state_root(s, root), CV_ENOTFOUND);
    CHECK_ERR(cv_store_block(s, 0, &buf), CV_ENOTFOUND);
    CHECK_MSG("no block at height 0");
    CHECK_ERR(cv_store_cert(s, 7, &buf), CV_ENOTFOUND);
    CHECK_MSG("no certificate for height 7");
    CHECK_ERR(cv_store_block_height(s, hash, &h), CV_ENOTFOUND);
    CHECK_MSG("no block has hash 0000");
    CHECK_ERR(cv_store_tx_location(s, hash, &h, &index), CV_ENOTFOUND);
    CHECK_MSG("is not committed");
    uint8_t replay_key[CV_REPLAY_KEY_LEN] = {0};
    CHECK_ERR(cv_store_replay_seen(s, replay_key), CV_ENOTFOUND);
    CHECK_MSG("no unexpired committed transaction has replay key");
    CHECK_ERR(cv_store_receipt(s, 3, 4, &buf), CV_ENOTFOUND);
    CHECK_MSG("no receipt for transaction 4 of block 3");
    CHECK_ERR(cv_store_get(s, (const uint8_t *)"nope", 4, &buf), CV_ENOTFOUND);
    CHECK_MSG("6e6f7065");
    CHECK(buf.len == 0);
    cv_store_close(s);
    remove_dir(dir);
}

static void test_round_trip(void)
{
    char *dir = make_dir();
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    for (uint64_t h = 0; h < 8; h++) {
        CHECK_OK(commit_block(s, h, txs_at(h)));
        CHECK(tip_is(s, h));
    }
    for (uint64_t h = 0; h < 8; h++)
        CHECK(block_matches(s, h, txs_at(h)));
    cv_buf buf = {0};
    CHECK_ERR(cv_store_block(s, 8, &buf), CV_ENOTFOUND);
    CHECK_MSG("no block at height 8");
    CHECK_ERR(cv_store_cert(s, 3, &buf), CV_ENOTFOUND);
    /* A block with no transactions, no certificate and no state writes. */
    uint8_t hash[CV_HASH_LEN], root[CV_HASH_LEN] = {0}, got[CV_HASH_LEN];
    fill(hash, CV_HASH_LEN, TAG_HASH, 1000);
    cv_store_batch bare = {.height = 8, .hash = hash, .block = hash, .block_len = 1, .state_root = root};
    CHECK_OK(cv_store_commit(s, &bare));
    CHECK_OK(cv_store_state_root(s, got));
    CHECK(memcmp(got, root, CV_HASH_LEN) == 0);
    CHECK_OK(cv_store_block(s, 8, &buf));
    CHECK(buf_is(&buf, hash, 1));
    cv_buf_free(&buf);
    cv_store_close(s);
    remove_dir(dir);
}

static int commit_writes(cv_store *s, uint64_t h, const cv_kv *writes, size_t n)
{
    test_block t;
    make_block(&t, h, 0, writes, n);
    int rc = cv_store_commit(s, &t.b);
    free_block(&t);
    return rc;
}

static int state_is(cv_store *s, const char *key, const char *value)
{
    cv_buf buf = {0};
    int rc = cv_store_get(s, (const uint8_t *)key, strlen(key), &buf);
    int ok = value ? rc == CV_OK && buf_is(&buf, value, strlen(value)) : rc == CV_ENOTFOUND;
    cv_buf_free(&buf);
    return ok;
}

#define KV(k, v) {(const uint8_t *)(k), strlen(k), (const uint8_t *)(v), (v) ? strlen(v) : 0}

static void test_state(void)
{
    char *dir = make_dir();
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    const char *none = NULL;
    cv_kv first[] = {KV("a", "1"), KV("b", "2"), KV("c", "3"), KV("empty", ""), KV("ghost", none)};
    CHECK_OK(commit_writes(s, 0, first, 5));
    CHECK(state_is(s, "a", "1") && state_is(s, "b", "2") && state_is(s, "c", "3"));
    CHECK(state_is(s, "empty", "") && state_is(s, "ghost", NULL));
    cv_kv second[] = {KV("b", "two"), KV("a", none), KV("d", "4")};
    CHECK_OK(commit_writes(s, 1, second, 3));
    CHECK(state_is(s, "a", NULL) && state_is(s, "b", "two") && state_is(s, "c", "3"));
    CHECK(state_is(s, "d", "4"));

    /* Key limits: reads and writes refuse empty and overlong keys. */
    uint8_t longest[CV_STORE_KEY_MAX + 1];
    memset(longest, 'k', sizeof longest);
    cv_buf buf = {0};
    CHECK_ERR(cv_store_get(s, longest, 0, &buf), CV_EINVAL);
    CHECK_ERR(cv_store_get(s, longest, CV_STORE_KEY_MAX + 1, &buf), CV_EINVAL);
    CHECK_MSG("512");
    CHECK_ERR(cv_store_get(s, longest, CV_STORE_KEY_MAX, &buf), CV_ENOTFOUND);
    cv_kv max_key = {longest, CV_STORE_KEY_MAX, (const uint8_t *)"m", 1};
    CHECK_OK(commit_writes(s, 2, &max_key, 1));
    CHECK_OK(cv_store_get(s, longest, CV_STORE_KEY_MAX, &buf));
    CHECK(buf_is(&buf, "m", 1));
    cv_kv too_long[] = {KV("e", "5"), {longest, CV_STORE_KEY_MAX + 1, (const uint8_t *)"x", 1}};
    CHECK_ERR(commit_writes(s, 3, too_long, 2), CV_EINVAL);
    CHECK_MSG("state write 2");
    cv_kv empty_key[] = {{longest, 0, (const uint8_t *)"x", 1}};
    CHECK_ERR(commit_writes(s, 3, empty_key, 1), CV_EINVAL);
    CHECK(tip_is(s, 2) && state_is(s, "e", NULL));
    cv_buf_free(&buf);
    cv_store_close(s);
    remove_dir(dir);
}

typedef struct {
    cv_store *s;
    size_t n, stop_after;
    char keys[16][8];
    int values_ok;
} scan_ctx;

/* Records each key and checks, by a nested read, that its value is right. */
static int collect(void *arg, const uint8_t *key, size_t key_len, const uint8_t *value,
                   size_t value_len)
{
    scan_ctx *c = arg;
    cv_buf buf = {0};
    c->values_ok &= cv_store_get(c->s, key, key_len, &buf) == CV_OK && buf_is(&buf, value, value_len);
    cv_buf_free(&buf);
    if (c->n < 16 && key_len < 8)
        memcpy(c->keys[c->n], key, key_len);
    c->n++;
    return c->n == c->stop_after ? 7 : 0;
}

static scan_ctx scan(cv_store *s, const char *prefix, size_t limit, size_t stop_after, int *rc)
{
    scan_ctx c = {.s = s, .stop_after = stop_after, .values_ok = 1};
    *rc = cv_store_scan(s, (const uint8_t *)prefix, strlen(prefix), limit, collect, &c);
    return c;
}

static void test_scan(void)
{
    char *dir = make_dir();
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    cv_kv writes[] = {KV("app/c", "3"), KV("ap", "x"), KV("app/a", "1"), KV("b", "y"),
                      KV("apq", "z"), KV("app/b", "2"), KV("app", "w")};
    CHECK_OK(commit_writes(s, 0, writes, 7));
    int rc;
    scan_ctx c = scan(s, "app/", SIZE_MAX, 0, &rc);
    CHECK(rc == CV_OK && c.n == 3 && c.values_ok);
    CHECK(strcmp(c.keys[0], "app/a") == 0 && strcmp(c.keys[1], "app/b") == 0 &&
          strcmp(c.keys[2], "app/c") == 0);
    c = scan(s, "app/", 2, 0, &rc);
    CHECK(rc == CV_OK && c.n == 2 && strcmp(c.keys[1], "app/b") == 0);
    c = scan(s, "app/", 0, 0, &rc);
    CHECK(rc == CV_OK && c.n == 0);
    c = scan(s, "app", SIZE_MAX, 2, &rc);
    CHECK(rc == 7 && c.n == 2 && strcmp(c.keys[0], "app") == 0 && strcmp(c.keys[1], "app/a") == 0);
    c = scan(s, "ap", SIZE_MAX, 0, &rc);
    CHECK(rc == CV_OK && c.n == 6 && strcmp(c.keys[5], "apq") == 0);
    c = scan(s, "", SIZE_MAX, 0, &rc); /* everything, "h" included */
    CHECK(rc == CV_OK && c.n == 8 && strcmp(c.keys[0], "ap") == 0 && strcmp(c.keys[7], "h") == 0);
    CHECK(c.values_ok);
    c = scan(s, "c", SIZE_MAX, 0, &rc);
    CHECK(rc == CV_OK && c.n == 0);
    c = scan(s, "zzz", SIZE_MAX, 0, &rc);
    CHECK(rc == CV_OK && c.n == 0);
    uint8_t long_prefix[CV_STORE_KEY_MAX + 1] = {0};
    CHECK_ERR(cv_store_scan(s, long_prefix, sizeof long_prefix, SIZE_MAX, collect, &c), CV_EINVAL);
    cv_store_close(s);
    remove_dir(dir);
}

static void test_rejects(void)
{
    char *dir = make_dir();
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    CHECK_ERR(commit_block(s, 1, 1), CV_EINVAL);
    CHECK_MSG("the store is empty, so the next block is 0");
    for (uint64_t h = 0; h < 3; h++)
        CHECK_OK(commit_block(s, h, txs_at(h) + 2));
    CHECK_ERR(commit_block(s, 2, 1), CV_EINVAL);
    CHECK_MSG("block height 2 is not the next height 3");
    CHECK_ERR(commit_block(s, 5, 1), CV_EINVAL);
    CHECK_ERR(commit_block(s, 0, 1), CV_EINVAL);

    /* Block 3 repeats a transaction of block 1 as its last (the same bytes:
     * its hash and its replay key) as executed: refused whole. */
    test_block t, old;
    make_block(&t, 3, 4, NULL, 0);
    make_block(&old, 1, 3, NULL, 0);
    memcpy(t.tx_hashes[3], old.tx_hashes[2], CV_HASH_LEN);
    memcpy(t.replay_keys[3], old.replay_keys[2], CV_REPLAY_KEY_LEN);
    CHECK_ERR(cv_store_commit(s, &t.b), CV_EEXIST);
    CHECK_MSG("transaction 3 (replay key");
    CHECK(tip_is(s, 2) && block_matches(s, 2, txs_at(2) + 2));
    cv_buf buf = {0};
    uint64_t h;
    uint32_t index;
    CHECK_ERR(cv_store_block(s, 3, &buf), CV_ENOTFOUND);
    CHECK_ERR(cv_store_block_height(s, t.hash, &h), CV_ENOTFOUND);
    CHECK_ERR(cv_store_tx_location(s, t.tx_hashes[0], &h, &index), CV_ENOTFOUND);
    CHECK_ERR(cv_store_replay_seen(s, t.replay_keys[0]), CV_ENOTFOUND);
    CHECK_ERR(cv_store_receipt(s, 3, 0, &buf), CV_ENOTFOUND);
    CHECK_ERR(cv_store_get(s, t.writes[0].key, KEY_LEN, &buf), CV_ENOTFOUND);
    CHECK_OK(cv_store_tx_location(s, old.tx_hashes[2], &h, &index));
    CHECK(h == 1 && index == 2);

    /* A block hash seen before is refused too. */
    free_block(&t);
    make_block(&t, 3, 4, NULL, 0);
    t.b.hash = old.hash;
    CHECK_ERR(cv_store_commit(s, &t.b), CV_EEXIST);
    CHECK_MSG("its hash");
    t.b.hash = NULL;
    CHECK_ERR(cv_store_commit(s, &t.b), CV_EINVAL);
    CHECK_MSG("lacks its hash");
    t.b.hash = t.hash;
    t.b.receipts = NULL;
    CHECK_ERR(cv_store_commit(s, &t.b), CV_EINVAL);
    CHECK_MSG("lacks their receipts");
    CHECK(tip_is(s, 2));
    free_block(&old);
    free_block(&t);
    make_block(&t, 3, 4, NULL, 0);
    CHECK_OK(cv_store_commit(s, &t.b));
    free_block(&t);
    CHECK(tip_is(s, 3) && block_matches(s, 3, 4));
    cv_buf_free(&buf);
    cv_store_close(s);
    remove_dir(dir);
}

/* A transaction execution rejected (tx_seen 0) claims no replay key: a
 * repeat of an indexed transaction keeps its first place, and a fresh key
 * stays unspent so its honest copy can still commit. */
static void test_unseen_transactions(void)
{
    char *dir = make_dir();
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    CHECK_OK(commit_block(s, 0, 2));
    test_block t, old;
    make_block(&old, 0, 2, NULL, 0);
    make_block(&t, 1, 3, NULL, 0);
    memcpy(t.tx_hashes[1], old.tx_hashes[1], CV_HASH_LEN); /* the same bytes again */
    memcpy(t.replay_keys[1], old.replay_keys[1], CV_REPLAY_KEY_LEN);
    uint8_t seen[3] = {1, 0, 0};
    t.b.tx_seen = seen;
    CHECK_OK(cv_store_commit(s, &t.b));
    uint64_t h;
    uint32_t index;
    CHECK_OK(cv_store_tx_location(s, old.tx_hashes[1], &h, &index));
    CHECK(h == 0 && index == 1);
    CHECK_OK(cv_store_replay_seen(s, t.replay_keys[0]));
    CHECK_ERR(cv_store_replay_seen(s, t.replay_keys[2]), CV_ENOTFOUND);
    CHECK_OK(cv_store_tx_location(s, t.tx_hashes[2], &h, &index)); /* still findable by hash */
    CHECK(h == 1 && index == 2);
    free_block(&t);
    free_block(&old);
    cv_store_close(s);
    remove_dir(dir);
}

/* The number of entries of a store's table, read with LMDB directly (the
 * store closed). */
static int table_entries(const char *dir, const char *table, size_t *out)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat st;
    int rc = mdb_env_create(&env);
    if (rc)
        return cv_fail(CV_EIO, "%s: %s", table, mdb_strerror(rc));
    if (!(rc = mdb_env_set_maxdbs(env, 16)) && !(rc = mdb_env_open(env, dir, MDB_RDONLY, 0600)) &&
        !(rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))) {
        if (!(rc = mdb_dbi_open(txn, table, 0, &dbi)) && !(rc = mdb_stat(txn, dbi, &st)))
            *out = st.ms_entries;
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return rc ? cv_fail(CV_EIO, "%s: %s", table, mdb_strerror(rc)) : CV_OK;
}

/* A block repeating (as a refused replay) transaction src_index of block
 * src as its transaction 0. */
static int commit_with_repeat(cv_store *s, uint64_t h, size_t ntx, uint64_t src, size_t src_index)
{
    test_block t, old;
    make_block(&t, h, ntx, NULL, 0);
    make_block(&old, src, src_index + 1, NULL, 0);
    memcpy(t.tx_hashes[0], old.tx_hashes[src_index], CV_HASH_LEN);
    uint8_t *seen = malloc(ntx);
    memset(seen, 1, ntx);
    seen[0] = 0;
    t.b.tx_seen = seen;
    int rc = cv_store_commit(s, &t.b);
    free(seen);
    free_block(&t);
    free_block(&old);
    return rc;
}

static int first_place_is(cv_store *s, uint64_t src, size_t src_index)
{
    test_block old;
    make_block(&old, src, src_index + 1, NULL, 0);
    uint64_t h = 0;
    uint32_t index = 0;
    int ok = cv_store_tx_location(s, old.tx_hashes[src_index], &h, &index) == CV_OK && h == src &&
             index == src_index;
    free_block(&old);
    return ok;
}

/* The tx index in two levels (txindex.c): every transaction is found by
 * hash whether its entry still sits in its block's run or has moved into
 * the index, through many moves and a reopen; a repeated transaction keeps
 * its first place, whether the repeat comes while the original's run is
 * kept or after it moved. */
static void test_tx_index_levels(void)
{
    char *dir = make_dir();
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    const uint64_t blocks = 3 * 64 + 10;
    for (uint64_t h = 0; h < blocks && check_failures == 0; h++) {
        if (h == 100)
            CHECK_OK(commit_with_repeat(s, h, 7, 5, 2)); /* block 5's run moved whole long ago */
        else if (h == 190)
            CHECK_OK(commit_with_repeat(s, h, 7, 180, 3)); /* block 180's run is still kept */
        else
            CHECK_OK(commit_block(s, h, 7));
        /* The block just committed, and one whose run is partly moved. */
        CHECK(h == 100 || h == 190 || block_matches(s, h, 7));
        CHECK(h < 40 || h - 40 == 100 || block_matches(s, h - 40, 7));
    }
    for (int pass = 0; pass < 2; pass++) {
        size_t found = 0;
        for (uint64_t h = 0; h < blocks; h++)
            if (h != 100 && h != 190)
                found += block_matches(s, h, 7);
        CHECK(found == blocks - 2);
        CHECK(first_place_is(s, 5, 2));
        CHECK(first_place_is(s, 180, 3));
        test_block t;
        make_block(&t, 100, 7, NULL, 0);
        uint64_t h;
        uint32_t index;
        CHECK_OK(cv_store_tx_location(s, t.tx_hashes[1], &h, &index));
        CHECK(h == 100 && index == 1);
        CHECK_ERR(cv_store_tx_location(s, t.tx_hashes[0], &h, &index), CV_ENOTFOUND); /* replaced by the repeat */
        free_block(&t);
        cv_store_close(s);
        CHECK_OK(cv_store_open(dir, &s));
    }
    cv_store_close(s);
    /* Entries did move: the runs of the last 64 blocks are kept, the older
     * ones are gone and their entries are in the index (block 100's repeat
     * of a transaction of block 5 added none). */
    size_t runs = 0, indexed = 0;
    CHECK_OK(table_entries(dir, "txruns", &runs));
    CHECK_OK(table_entries(dir, "txs", &indexed));
    CHECK(runs == CV_TXINDEX_SLICES);
    CHECK(indexed >= (blocks - CV_TXINDEX_SLICES) * 7 - 1 && indexed < blocks * 7);
    remove_dir(dir);
}

/* Replay keys are forgotten once their expiry is below the next height. */
static void test_replay_pruning(void)
{
    char *dir = make_dir();
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    test_block t;
    make_block(&t, 0, 3, NULL, 0);
    put_be64(t.replay_keys[0], 1); /* spendable up to block 1 */
    put_be64(t.replay_keys[1], 2);
    CHECK_OK(cv_store_commit(s, &t.b));
    CHECK_OK(cv_store_replay_seen(s, t.replay_keys[0]));
    CHECK_OK(commit_block(s, 1, 1));
    CHECK_ERR(cv_store_replay_seen(s, t.replay_keys[0]), CV_ENOTFOUND); /* expiry 1 <= height 1 */
    CHECK_OK(cv_store_replay_seen(s, t.replay_keys[1]));
    CHECK_OK(commit_block(s, 2, 1));
    CHECK_ERR(cv_store_replay_seen(s, t.replay_keys[1]), CV_ENOTFOUND);
    CHECK_OK(cv_store_replay_seen(s, t.replay_keys[2])); /* expiry 1000 */
    free_block(&t);
    cv_store_close(s);
    remove_dir(dir);
}

static void test_reopen(void)
{
    char *dir = make_dir();
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    for (uint64_t h = 0; h < 10; h++)
        CHECK_OK(commit_block(s, h, txs_at(h)));
    cv_store_close(s);
    CHECK_OK(cv_store_open(dir, &s));
    CHECK(tip_is(s, 9));
    for (uint64_t h = 0; h < 10; h++)
        CHECK(block_matches(s, h, txs_at(h)));
    CHECK_ERR(commit_block(s, 9, 1), CV_EINVAL);
    CHECK_OK(commit_block(s, 10, 3));
    cv_store_close(s);
    CHECK_OK(cv_store_open(dir, &s));
    CHECK(tip_is(s, 10) && block_matches(s, 10, 3));
    cv_store_close(s);
    remove_dir(dir);
}

/* Readers check, while blocks are committed, that what they see is always a
 * whole, published block: heights never go back, and a read sees every block
 * whose commit returned before it began. */
typedef struct reader reader;
struct reader {
    cv_store *s;
    atomic_int *done;
    atomic_uint_least64_t *committed; /* blocks whose commit returned */
    int (*round)(reader *r, uint64_t *last, cv_buf *buf);
    long rounds;
    int bad;
};

/* "h" and the state root lie between the heights read before and after
 * them, and block "h" reads back entire. */
static int consistent_round(reader *r, uint64_t *last, cv_buf *buf)
{
    uint64_t before, after, committed = atomic_load(r->committed);
    uint8_t root[CV_HASH_LEN], want[CV_HASH_LEN];
    if (cv_store_height(r->s, &before) != CV_OK)
        return committed == 0; /* nothing committed yet */
    if (cv_store_get(r->s, (const uint8_t *)"h", 1, buf) != CV_OK || buf->len != 8 ||
        cv_store_state_root(r->s, root) != CV_OK || cv_store_height(r->s, &after) != CV_OK)
        return 0;
    uint64_t h = get_be64(buf->data), root_h = get_be64(root);
    root_of(root_h, want);
    int ok = *last <= before && before + 1 >= committed && before <= h && h <= after &&
             before <= root_h && root_h <= after && memcmp(root, want, CV_HASH_LEN) == 0 &&
             block_matches(r->s, h, txs_at(h));
    *last = after;
    return ok;
}

/* Only the height and "h", as fast as possible: the most reads begun while
 * commits end. */
static int height_round(reader *r, uint64_t *last, cv_buf *buf)
{
    uint64_t height, committed = atomic_load(r->committed);
    if (cv_store_height(r->s, &height) != CV_OK)
        return committed == 0;
    if (cv_store_get(r->s, (const uint8_t *)"h", 1, buf) != CV_OK || buf->len != 8)
        return 0;
    uint64_t h = get_be64(buf->data);
    int ok = *last <= height && height + 1 >= committed && height <= h;
    *last = h;
    return ok;
}

static void *reader_main(void *arg)
{
    reader *r = arg;
    cv_buf buf = {0};
    uint64_t last = 0;
    while (!atomic_load(r->done) && !r->bad) {
        r->bad = !r->round(r, &last, &buf);
        r->rounds++;
    }
    cv_buf_free(&buf);
    return NULL;
}

/* Commits blocks 0 to blocks - 1 (block blocks / 2 also writes *halfway, if
 * given) while nreaders threads check their rounds. */
static void commit_while_reading(cv_store *s, int nreaders, int (*round)(reader *, uint64_t *, cv_buf *),
                                 uint64_t blocks, const cv_kv *halfway)
{
    atomic_int done = 0;
    atomic_uint_least64_t committed = 0;
    reader *readers = calloc((size_t)nreaders, sizeof *readers);
    pthread_t *threads = calloc((size_t)nreaders, sizeof *threads);
    for (int i = 0; i < nreaders; i++) {
        readers[i] = (reader){.s = s, .done = &done, .committed = &committed, .round = round};
        CHECK(pthread_create(&threads[i], NULL, reader_main, &readers[i]) == 0);
    }
    for (uint64_t h = 0; h < blocks; h++) {
        test_block t;
        make_block(&t, h, txs_at(h), halfway, halfway && h == blocks / 2);
        CHECK_OK(cv_store_commit(s, &t.b));
        atomic_store(&committed, h + 1);
        free_block(&t);
    }
    atomic_store(&done, 1);
    for (int i = 0; i < nreaders; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        CHECK(!readers[i].bad);
        CHECK(readers[i].rounds > 0);
        fprintf(stderr, "reader %d: %ld consistent rounds\n", i, readers[i].rounds);
    }
    free(threads);
    free(readers);
}

static void test_concurrent_readers(void)
{
    enum { BLOCKS = 120 };
    char *dir = make_dir();
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    /* Halfway, a value larger than the initial map makes the store grow its
     * map while the readers read. */
    uint8_t *big = malloc(BIG_VALUE_LEN);
    memset(big, 0xb1, BIG_VALUE_LEN);
    cv_kv big_write = {(const uint8_t *)"big", 3, big, BIG_VALUE_LEN};
    commit_while_reading(s, 3, consistent_round, BLOCKS, &big_write);
    /* Reopened, the grown store has it all and takes more blocks. */
    cv_store_close(s);
    CHECK_OK(cv_store_open(dir, &s));
    cv_buf buf = {0};
    CHECK_OK(cv_store_get(s, (const uint8_t *)"big", 3, &buf));
    CHECK(buf_is(&buf, big, BIG_VALUE_LEN));
    CHECK(tip_is(s, BLOCKS - 1) && block_matches(s, BLOCKS / 2, txs_at(BLOCKS / 2)));
    CHECK_OK(commit_block(s, BLOCKS, 2));
    cv_buf_free(&buf);
    free(big);
    cv_store_close(s);
    remove_dir(dir);
}

/* LMDB let a read that began as one commit ended copy the meta page the
 * next commit was still writing: it saw that block before its commit
 * returned, and the reads after it the block before (see store.c). That
 * takes a reader descheduled within a few instructions of LMDB's begin until
 * the writer reaches its next meta write, which one CPU shared by more
 * readers makes likely: before the fix, 77 of 80 runs of this test failed
 * (test_concurrent_readers, on every CPU, 5 of 40). */
static void test_reads_never_go_back(void)
{
    enum { READERS = 6, BLOCKS = 500 };
    cpu_set_t all, one;
    int pinned = sched_getaffinity(0, sizeof all, &all) == 0;
    if (pinned) {
        CPU_ZERO(&one);
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
            if (CPU_ISSET(cpu, &all)) {
                CPU_SET(cpu, &one);
                break;
            }
        pinned = sched_setaffinity(0, sizeof one, &one) == 0; /* the readers inherit it */
    }
    char *dir = make_dir();
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    commit_while_reading(s, READERS, height_round, BLOCKS, NULL);
    CHECK(tip_is(s, BLOCKS - 1));
    cv_store_close(s);
    remove_dir(dir);
    if (pinned)
        CHECK(sched_setaffinity(0, sizeof all, &all) == 0);
}

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_large_block(void)
{
    enum { TXS = 10000 };
    char *dir = make_dir();
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    CHECK_OK(commit_block(s, 0, 1));
    double start = seconds_now();
    CHECK_OK(commit_block(s, 1, TXS));
    double took = seconds_now() - start;
    fprintf(stderr, "a %d-transaction block committed in %.1f ms\n", TXS, took * 1e3);
    CHECK(tip_is(s, 1) && block_matches(s, 1, TXS) && block_matches(s, 0, 1));
    CHECK_OK(commit_block(s, 2, 2));
    cv_store_close(s);
    remove_dir(dir);
}

static int write_file(const char *dir, const char *name, size_t len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    for (size_t i = 0; i < len; i++)
        fputc(i % 7, f);
    return fclose(f);
}

static void test_open_errors(void)
{
    cv_store *s = (cv_store *)&s;
    CHECK_ERR(cv_store_open("/nonexistent/dir/store", &s), CV_EIO);
    CHECK_MSG("cannot create store directory /nonexistent/dir/store");
    CHECK(s == NULL);
    /* A data file cut short while LMDB created it holds no block: the store
     * is created afresh. */
    char *dir = make_dir();
    CHECK(write_file(dir, "data.mdb", 4096) == 0);
    CHECK_OK(cv_store_open(dir, &s));
    CHECK_OK(commit_block(s, 0, 1));
    cv_store_close(s);
    remove_dir(dir);
    /* Any other damaged data file is refused. */
    dir = make_dir();
    CHECK(write_file(dir, "data.mdb", 65536) == 0);
    CHECK_ERR(cv_store_open(dir, &s), CV_EIO);
    CHECK_MSG("cannot open");
    CHECK(s == NULL);
    remove_dir(dir);
}

/* A pinned read sees the store as it was at the pin, whatever is committed
 * meanwhile; after unpinning, reads see the latest block again. */
static void test_pin(void)
{
    char *dir = make_dir();
    cv_store *s;
    uint64_t h = 0;
    CHECK_OK(cv_store_open(dir, &s));
    for (uint64_t i = 0; i <= 3; i++)
        CHECK_OK(commit_block(s, i, txs_at(i)));
    CHECK_OK(cv_store_pin(s));
    CHECK(tip_is(s, 3));
    CHECK_OK(commit_block(s, 4, txs_at(4)));
    CHECK(tip_is(s, 3) && block_matches(s, 3, txs_at(3)));
    CHECK_ERR(cv_store_block(s, 4, &(cv_buf){0}), CV_ENOTFOUND);
    cv_store_unpin(s);
    CHECK(tip_is(s, 4) && block_matches(s, 4, txs_at(4)));
    CHECK_OK(cv_store_height(s, &h));
    CHECK(h == 4);
    cv_store_close(s);
    remove_dir(dir);
}

/* Validator sets stored with the blocks that change them: each height reads
 * the last set that took effect at or before it. */
static void test_valsets(void)
{
    char *dir = make_dir();
    cv_store *s;
    CHECK_OK(cv_store_open(dir, &s));
    cv_buf out = {0};
    uint64_t from = 99;
    CHECK_ERR(cv_store_valset(s, 0, &from, &out), CV_ENOTFOUND);
    static const struct {
        uint64_t height, from;
        const char *set;
    } changes[] = {{0, 0, "genesis"}, {2, 4, "A"}, {3, 5, "B"}, {9, 11, "C"}};
    size_t next = 0;
    for (uint64_t h = 0; h <= 10; h++) {
        test_block t;
        make_block(&t, h, txs_at(h), NULL, 0);
        if (next < 4 && changes[next].height == h) {
            t.b.valset = (const uint8_t *)changes[next].set;
            t.b.valset_len = strlen(changes[next].set);
            t.b.valset_from = changes[next++].from;
        }
        CHECK_OK(cv_store_commit(s, &t.b));
        free_block(&t);
    }
    static const char *const want[] = {"genesis", "genesis", "genesis", "genesis", "A", "B",
                                       "B",       "B",       "B",       "B",       "B", "C", "C"};
    static const uint64_t want_from[] = {0, 0, 0, 0, 4, 5, 5, 5, 5, 5, 5, 11, 11};
    for (uint64_t h = 0; h < 13; h++) {
        CHECK_OK(cv_store_valset(s, h, &from, &out));
        CHECK(buf_is(&out, (const uint8_t *)want[h], strlen(want[h])) && from == want_from[h]);
    }
    /* A set must take effect after the block that stores it. */
    test_block t;
    make_block(&t, 11, 0, NULL, 0);
    t.b.valset = (const uint8_t *)"D";
    t.b.valset_len = 1;
    t.b.valset_from = 11;
    CHECK_ERR(cv_store_commit(s, &t.b), CV_EINVAL);
    CHECK_MSG("not a later one");
    free_block(&t);
    cv_store_close(s);
    CHECK_OK(cv_store_open(dir, &s)); /* and they persist */
    CHECK_OK(cv_store_valset(s, 4, &from, &out));
    CHECK(buf_is(&out, (const uint8_t *)"A", 1) && from == 4);
    cv_store_close(s);
    cv_buf_free(&out);
    remove_dir(dir);
}

int main(void)
{
    test_empty();
    test_valsets();
    test_pin();
    test_round_trip();
    test_state();
    test_scan();
    test_rejects();
    test_unseen_transactions();
    test_tx_index_levels();
    test_replay_pruning();
    test_reopen();
    test_concurrent_readers();
    test_reads_never_go_back();
    test_large_block();
    test_open_errors();
    return check_done();
}
