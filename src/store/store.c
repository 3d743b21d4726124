/* store.c: the node's embedded ledger store on LMDB (see store.h).
 *
 * One LMDB environment per store directory (data.mdb, lock.mdb) holds these
 * named databases:
 *
 *   meta      "format" -> format version (4); "tip" -> height (8) ||
 *             block hash || state root of the last committed block
 *   blocks    height (8) -> encoded block
 *   certs     height (8) -> commit certificate
 *   hashes    block hash -> height (8)
 *   txs       tx hash -> height (8) || index (4), with
 *   txruns    height (8) -> the block's sorted (tx hash, index) entries not
 *             yet moved into txs (the two levels of txindex.c)
 *   replay    replay key (expiry (8) || body hash) -> empty; keys whose expiry
 *             is below the next height are pruned at each commit
 *   receipts  height (8) || index (4) -> encoded receipt
 *   state     key -> value
 *   valsets   first height (8) -> encoded validator set (consensus/valset.h)
 *             in effect from that height until the next entry's
 *   blobs     key -> bytes kept beside the chain, outside the state and the
 *             block commits (the EPCIS documents of trace events); written
 *             one at a time by cv_store_blob_put
 *
 * Integers are big-endian, so keys sort by height and index and blocks,
 * certificates and receipts are appended (MDB_APPEND) rather than searched
 * for.
 *
 * Each block is one write transaction, synced to disk before commit returns
 * (LMDB's default durability). LMDB writes new pages beside the old ones and
 * switches to them by one meta-page write, so a process killed at any instant
 * leaves either the previous block or the new one, never a mixture.
 *
 * The map (the file's address space) starts small and doubles whenever a
 * commit runs out of room. LMDB may remap only while no transaction is open
 * in the process, so every read holds map_lock shared and the growing commit
 * takes it exclusively.
 *
 * LMDB (0.9.24; its latest 0.9 and master sources alike) starts a read by
 * recording the last published transaction id T in its reader slot and then
 * copying meta page T % 2, without a lock. A reader descheduled between the
 * two can find that page rewritten: once T + 1 is published, the next
 * commit, T + 2, writes its meta page into slot T % 2, syncs it, and only
 * then publishes T + 2. Such a reader gets block T + 2 before its commit
 * returned or reached the disk (or a torn mixture of T and T + 2), and reads
 * begun just after it get T + 1: reads would go back. So read_begin begins
 * again any read during whose start a commit returned (counted in commits),
 * as the next commit may then have been writing a meta page; it never waits
 * for a commit. */
#include "store/store.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/endian.h"
#include "base/err.h"
#include "store/txindex.h"

#define FORMAT_VERSION 4 /* 3 lacked txruns: it is opened and upgraded */
#define MAP_INITIAL ((size_t)64 << 20) /* grows by doubling */
#define MAX_READERS 512                 /* read transactions open at once */
#define HEIGHT_LEN 8
#define LOC_LEN 12 /* height || index: a tx location and a receipt key */
#define TIP_LEN (HEIGHT_LEN + 2 * CV_HASH_LEN)
#define HEX_SHOWN 32 /* bytes of a key shown in messages */

enum {
    DB_META, DB_BLOCKS, DB_CERTS, DB_HASHES, DB_TXS, DB_REPLAY, DB_RECEIPTS, DB_STATE, DB_VALSETS, DB_BLOBS,
    DB_TXRUNS, DB_COUNT
};

static const char *const db_names[DB_COUNT] = {"meta",     "blocks", "certs",   "hashes", "txs",   "replay",
                                               "receipts", "state",  "valsets", "blobs",  "txruns"};

static const char tip_key[] = "tip";
static const char format_key[] = "format";

struct cv_store {
    MDB_env *env;
    MDB_dbi db[DB_COUNT];
    pthread_mutex_t commit_lock; /* one writer at a time */
    pthread_rwlock_t map_lock;   /* shared by reads, exclusive while the map grows */
    atomic_uint_fast64_t commits; /* LMDB commits that returned (see read_begin) */
    char dir[];
};

static MDB_val val(const void *p, size_t n)
{
    return (MDB_val){.mv_size = n, .mv_data = (void *)p};
}

/* Hex of the first HEX_SHOWN bytes of p, with "..." if there are more. */
static const char *hex_shown(const uint8_t *p, size_t n, char out[2 * HEX_SHOWN + 4])
{
    size_t shown = n < HEX_SHOWN ? n : HEX_SHOWN;
    cv_hex_encode(p, shown, out);
    if (shown < n)
        strcpy(out + 2 * shown, "...");
    return out;
}

/* The cv_err for an LMDB error. */
static int mdb_code(int rc)
{
    switch (rc) {
    case MDB_NOTFOUND: return CV_ENOTFOUND;
    case MDB_KEYEXIST: return CV_EEXIST;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
    case MDB_READERS_FULL: return CV_EFULL;
    case MDB_BAD_VALSIZE: return CV_EINVAL;
    case ENOMEM: return CV_ENOMEM;
    default: return CV_EIO;
    }
}

/* Records "store DIR: CONTEXT WHAT: LMDB's message" and returns the cv_err. */
static int vfail_mdb(const cv_store *s, int rc, const char *context, const char *fmt, va_list ap)
{
    char what[256];
    vsnprintf(what, sizeof what, fmt, ap);
    return cv_fail(mdb_code(rc), "store %s: %s%s: %s", s->dir, context, what, mdb_strerror(rc));
}

static int fail_mdb(const cv_store *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_mdb(const cv_store *s, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int code = vfail_mdb(s, rc, "", fmt, ap);
    va_end(ap);
    return code;
}

/* ---- opening ---- */

/* LMDB creates data.mdb by writing its two meta pages in one write; a
 * process killed during it can leave a file shorter than two pages, which
 * LMDB rejects as invalid. Such a file cannot hold a committed block, so it
 * is removed and the store created afresh. Returns whether it was removed. */
static int remove_unfinished_data_file(const char *dir)
{
    char path[PATH_MAX];
    struct stat st;
    if (snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int)sizeof path || stat(path, &st) != 0 ||
        st.st_size >= 2 * sysconf(_SC_PAGESIZE))
        return 0;
    return unlink(path) == 0;
}

/* Creates and opens the LMDB environment; an LMDB error code. */
static int try_open_env(cv_store *s)
{
    int rc = mdb_env_create(&s->env);
    if (rc)
        return rc;
    if ((rc = mdb_env_set_maxdbs(s->env, DB_COUNT)) ||
        (rc = mdb_env_set_maxreaders(s->env, MAX_READERS)) ||
        (rc = mdb_env_set_mapsize(s->env, MAP_INITIAL)))
        return rc;
    return mdb_env_open(s->env, s->dir, MDB_NOTLS, 0600);
}

static int open_env(cv_store *s)
{
    int rc = try_open_env(s);
    if (rc == MDB_INVALID && remove_unfinished_data_file(s->dir)) {
        mdb_env_close(s->env);
        s->env = NULL;
        rc = try_open_env(s);
    }
    if (rc)
        return fail_mdb(s, rc, "cannot open");
    if (mdb_env_get_maxkeysize(s->env) < CV_STORE_KEY_MAX)
        return cv_fail(CV_EINVAL, "store %s: this LMDB takes keys of at most %d bytes, %d needed",
                       s->dir, mdb_env_get_maxkeysize(s->env), CV_STORE_KEY_MAX);
    int dead;
    if ((rc = mdb_reader_check(s->env, &dead))) /* frees slots of killed readers */
        return fail_mdb(s, rc, "cannot check its readers");
    return CV_OK;
}

/* Writes the format version into a new store, or checks an existing one's
 * (format 3 becomes 4: its tx index is a complete first level). */
static int check_format(cv_store *s, MDB_txn *txn)
{
    uint8_t mine[4];
    cv_put_be32(mine, FORMAT_VERSION);
    MDB_val k = val(format_key, sizeof format_key - 1), v;
    int rc = mdb_get(txn, s->db[DB_META], &k, &v);
    if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size == 4 && cv_get_be32(v.mv_data) == 3)) {
        v = val(mine, sizeof mine);
        rc = mdb_put(txn, s->db[DB_META], &k, &v, 0);
    }
    if (rc)
        return fail_mdb(s, rc, "cannot read or write its format");
    if (v.mv_size != sizeof mine || memcmp(v.mv_data, mine, sizeof mine) != 0)
        return cv_fail(CV_EINVAL, "store %s has format %" PRIu32 ", this build reads format %d",
                       s->dir, v.mv_size == 4 ? cv_get_be32(v.mv_data) : 0, FORMAT_VERSION);
    return CV_OK;
}

static int open_databases(cv_store *s)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc)
        return fail_mdb(s, rc, "cannot begin a write transaction");
    for (int i = 0; i < DB_COUNT && rc == 0; i++)
        rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->db[i]);
    int err = rc ? fail_mdb(s, rc, "cannot open its databases") : check_format(s, txn);
    if (err) {
        mdb_txn_abort(txn);
        return err;
    }
    if ((rc = mdb_txn_commit(txn)))
        return fail_mdb(s, rc, "cannot commit its databases");
    return CV_OK;
}

int cv_store_open(const char *dir, cv_store **out)
{
    *out = NULL;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return cv_fail(CV_EIO, "cannot create store directory %s: %s", dir, strerror(errno));
    size_t dir_len = strlen(dir);
    cv_store *s = calloc(1, sizeof *s + dir_len + 1);
    if (!s)
        return cv_fail(CV_ENOMEM, "out of memory opening store %s", dir);
    memcpy(s->dir, dir, dir_len + 1);
    atomic_init(&s->commits, 0);
    if (pthread_mutex_init(&s->commit_lock, NULL) != 0) {
        free(s);
        return cv_fail(CV_ENOMEM, "cannot create the commit lock of store %s", dir);
    }
    if (pthread_rwlock_init(&s->map_lock, NULL) != 0) {
        pthread_mutex_destroy(&s->commit_lock);
        free(s);
        return cv_fail(CV_ENOMEM, "cannot create the map lock of store %s", dir);
    }
    int rc = open_env(s);
    if (rc == CV_OK)
        rc = open_databases(s);
    if (rc) {
        cv_store_close(s);
        return rc;
    }
    *out = s;
    return CV_OK;
}

void cv_store_close(cv_store *s)
{
    if (!s)
        return;
    if (s->env)
        mdb_env_close(s->env);
    pthread_rwlock_destroy(&s->map_lock);
    pthread_mutex_destroy(&s->commit_lock);
    free(s);
}

/* ---- committing ---- */

static int check_batch(const cv_store_batch *b)
{
    if (!b->hash || !b->block || !b->state_root)
        return cv_fail(CV_EINVAL, "block %" PRIu64 " lacks its %s", b->height,
                       !b->hash ? "hash" : !b->block ? "encoding" : "state root");
    if (b->tx_count > UINT32_MAX)
        return cv_fail(CV_EINVAL, "block %" PRIu64 " has %zu transactions, more than a store index holds",
                       b->height, b->tx_count);
    if (b->tx_count && (!b->tx_hashes || !b->tx_replay_keys || !b->receipts || !b->receipt_lens))
        return cv_fail(CV_EINVAL, "block %" PRIu64 " has %zu transactions but lacks their %s", b->height,
                       b->tx_count,
                       !b->tx_hashes ? "hashes" : !b->tx_replay_keys ? "replay keys" : "receipts");
    if (b->valset && b->height && b->valset_from <= b->height)
        return cv_fail(CV_EINVAL, "block %" PRIu64 " sets validators from height %" PRIu64 ", not a later one",
                       b->height, b->valset_from);
    if (b->nwrites && !b->writes)
        return cv_fail(CV_EINVAL, "block %" PRIu64 " has %zu state writes but lacks them", b->height,
                       b->nwrites);
    return CV_OK;
}

/* One block's write transaction. */
typedef struct {
    cv_store *s;
    const cv_store_batch *b;
    MDB_txn *txn;
    int map_full; /* LMDB ran out of map: grow it and write the block again */
} writer;

static int write_failed(writer *w, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int write_failed(writer *w, int rc, const char *fmt, ...)
{
    char context[64];
    snprintf(context, sizeof context, "cannot commit block %" PRIu64 ": ", w->b->height);
    w->map_full = rc == MDB_MAP_FULL;
    va_list ap;
    va_start(ap, fmt);
    int code = vfail_mdb(w->s, rc, context, fmt, ap);
    va_end(ap);
    return code;
}

static int put(writer *w, int db, const void *key, size_t key_len, const void *value,
               size_t value_len, unsigned flags)
{
    MDB_val k = val(key, key_len), v = val(value, value_len);
    return mdb_put(w->txn, w->s->db[db], &k, &v, flags);
}

static int check_next_height(writer *w)
{
    MDB_val k = val(tip_key, sizeof tip_key - 1), v;
    int rc = mdb_get(w->txn, w->s->db[DB_META], &k, &v);
    if (rc == MDB_NOTFOUND) {
        if (w->b->height == 0)
            return CV_OK;
        return cv_fail(CV_EINVAL, "block height %" PRIu64 " is not the next height: the store is empty, "
                       "so the next block is 0", w->b->height);
    }
    if (rc)
        return write_failed(w, rc, "cannot read the last height");
    if (v.mv_size != TIP_LEN)
        return cv_fail(CV_EIO, "store %s is corrupt: its tip has %zu bytes", w->s->dir, v.mv_size);
    uint64_t next = cv_get_be64(v.mv_data) + 1;
    if (w->b->height != next)
        return cv_fail(CV_EINVAL, "block height %" PRIu64 " is not the next height %" PRIu64,
                       w->b->height, next);
    return CV_OK;
}

/* The block, its certificate, its hash index and the new tip. */
static int put_block(writer *w)
{
    const cv_store_batch *b = w->b;
    uint8_t tip[TIP_LEN];
    cv_put_be64(tip, b->height);
    memcpy(tip + HEIGHT_LEN, b->hash, CV_HASH_LEN);
    memcpy(tip + HEIGHT_LEN + CV_HASH_LEN, b->state_root, CV_HASH_LEN);
    int rc;
    char hex[2 * HEX_SHOWN + 4];
    if ((rc = put(w, DB_BLOCKS, tip, HEIGHT_LEN, b->block, b->block_len, MDB_APPEND)))
        return write_failed(w, rc, "the block");
    if (b->cert && (rc = put(w, DB_CERTS, tip, HEIGHT_LEN, b->cert, b->cert_len, MDB_APPEND)))
        return write_failed(w, rc, "its certificate");
    if ((rc = put(w, DB_HASHES, b->hash, CV_HASH_LEN, tip, HEIGHT_LEN, MDB_NOOVERWRITE)))
        return write_failed(w, rc, "its hash %s", hex_shown(b->hash, CV_HASH_LEN, hex));
    if ((rc = put(w, DB_META, tip_key, sizeof tip_key - 1, tip, TIP_LEN, 0)))
        return write_failed(w, rc, "the tip");
    uint8_t from[HEIGHT_LEN];
    cv_put_be64(from, b->valset_from);
    if (b->valset && (rc = put(w, DB_VALSETS, from, HEIGHT_LEN, b->valset, b->valset_len, MDB_APPEND)))
        return write_failed(w, rc, "the validator set from height %" PRIu64, b->valset_from);
    return CV_OK;
}

/* The block's run of the tx index (and this height's move of older runs),
 * then per transaction its replay key and its receipt. */
static int put_transactions(writer *w)
{
    const cv_store_batch *b = w->b;
    uint8_t loc[LOC_LEN];
    cv_put_be64(loc, b->height);
    char hex[2 * HEX_SHOWN + 4];
    int rc = cv_txindex_put_run(w->txn, w->s->db[DB_TXRUNS], b->height, b->tx_hashes, b->tx_count);
    if (rc)
        return write_failed(w, rc, "its transaction index");
    if ((rc = cv_txindex_merge(w->txn, w->s->db[DB_TXS], w->s->db[DB_TXRUNS], b->height)))
        return write_failed(w, rc, "the transaction index's move");
    for (size_t i = 0; i < b->tx_count; i++) {
        int seen = !b->tx_seen || b->tx_seen[i];
        cv_put_be32(loc + HEIGHT_LEN, (uint32_t)i);
        if (seen && (rc = put(w, DB_REPLAY, b->tx_replay_keys[i], CV_REPLAY_KEY_LEN, loc, 0, MDB_NOOVERWRITE)))
            return write_failed(w, rc, "transaction %zu (replay key %s)", i,
                                hex_shown(b->tx_replay_keys[i], CV_REPLAY_KEY_LEN, hex));
        if ((rc = put(w, DB_RECEIPTS, loc, LOC_LEN, b->receipts[i], b->receipt_lens[i], MDB_APPEND)))
            return write_failed(w, rc, "receipt %zu", i);
    }
    return CV_OK;
}

static int put_state(writer *w)
{
    MDB_dbi dbi = w->s->db[DB_STATE];
    char hex[2 * HEX_SHOWN + 4];
    for (size_t i = 0; i < w->b->nwrites; i++) {
        const cv_kv *kv = &w->b->writes[i];
        MDB_val k = val(kv->key, kv->key_len), v = val(kv->value, kv->value_len);
        int rc = kv->value ? mdb_put(w->txn, dbi, &k, &v, 0) : mdb_del(w->txn, dbi, &k, NULL);
        if (rc && !(rc == MDB_NOTFOUND && !kv->value))
            return write_failed(w, rc, "state write %zu (key %s, %zu bytes)", i,
                                hex_shown(kv->key, kv->key_len, hex), kv->key_len);
    }
    return CV_OK;
}

/* Forgets replay keys that expired: no transaction in a later block may
 * carry an expiry below the next height, so they can never match again. Keys
 * sort by expiry, so this removes a run from the front of the index. */
static int prune_replay_keys(writer *w)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(w->txn, w->s->db[DB_REPLAY], &cur);
    if (rc)
        return write_failed(w, rc, "cannot open the replay index");
    while ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0 && k.mv_size == CV_REPLAY_KEY_LEN &&
           cv_get_be64(k.mv_data) <= w->b->height)
        if ((rc = mdb_cursor_del(cur, 0)))
            break;
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return write_failed(w, rc, "cannot prune the replay index");
    return CV_OK;
}

/* Writes block b in one transaction; on failure nothing is written. */
static int write_block(cv_store *s, const cv_store_batch *b, int *map_full)
{
    writer w = {.s = s, .b = b};
    int rc = mdb_txn_begin(s->env, NULL, 0, &w.txn);
    if (rc)
        return write_failed(&w, rc, "cannot begin its transaction");
    int err = check_next_height(&w);
    if (!err)
        err = put_block(&w);
    if (!err)
        err = put_transactions(&w);
    if (!err)
        err = put_state(&w);
    if (!err)
        err = prune_replay_keys(&w);
    if (err)
        mdb_txn_abort(w.txn);
    else {
        rc = mdb_txn_commit(w.txn);
        /* Counted even when it failed: it may have written a meta page. */
        atomic_fetch_add(&s->commits, 1);
        if (rc)
            err = write_failed(&w, rc, "cannot write it to disk");
    }
    *map_full = w.map_full;
    return err;
}

/* Doubles the map; no read may be open while LMDB remaps. */
static int grow_map(cv_store *s)
{
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    if (info.me_mapsize > SIZE_MAX / 2)
        return cv_fail(CV_EFULL, "store %s is full at %zu MiB", s->dir, info.me_mapsize >> 20);
    size_t size = info.me_mapsize * 2;
    pthread_rwlock_wrlock(&s->map_lock);
    int rc = mdb_env_set_mapsize(s->env, size);
    pthread_rwlock_unlock(&s->map_lock);
    if (rc)
        return fail_mdb(s, rc, "cannot grow its map to %zu MiB", size >> 20);
    return CV_OK;
}

int cv_store_commit(cv_store *s, const cv_store_batch *b)
{
    int rc = check_batch(b);
    if (rc)
        return rc;
    pthread_mutex_lock(&s->commit_lock);
    int map_full = 0;
    do
        rc = write_block(s, b, &map_full);
    while (map_full && (rc = grow_map(s)) == CV_OK);
    pthread_mutex_unlock(&s->commit_lock);
    return rc;
}

/* One blob write in its own transaction; *map_full when LMDB ran out of map. */
static int write_blob(cv_store *s, const uint8_t *key, size_t key_len, const uint8_t *value, size_t len,
                      int *map_full)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (!rc) {
        MDB_val k = val(key, key_len), v = val(value, len);
        rc = mdb_put(txn, s->db[DB_BLOBS], &k, &v, 0);
        rc = rc ? (mdb_txn_abort(txn), rc) : mdb_txn_commit(txn);
        atomic_fetch_add(&s->commits, 1);
    }
    *map_full = rc == MDB_MAP_FULL;
    return rc ? fail_mdb(s, rc, "cannot write a blob") : CV_OK;
}

int cv_store_blob_put(cv_store *s, const uint8_t *key, size_t key_len, const uint8_t *value, size_t len)
{
    if (key_len == 0 || key_len > CV_STORE_KEY_MAX)
        return cv_fail(CV_EINVAL, "a blob key has 1 to %d bytes, not %zu", CV_STORE_KEY_MAX, key_len);
    pthread_mutex_lock(&s->commit_lock);
    int map_full = 0, rc;
    do
        rc = write_blob(s, key, key_len, value, len, &map_full);
    while (map_full && (rc = grow_map(s)) == CV_OK);
    pthread_mutex_unlock(&s->commit_lock);
    return rc;
}

/* ---- reading ---- */

/* Begins a read of the last published block. LMDB's begin copies the meta
 * page of a commit still in progress (see the top of this file) only if the
 * commit before that one returned while the begin ran; such a read is begun
 * again. Commits take milliseconds and a begin microseconds, so retries are
 * rare. */
/* The read this thread pinned (cv_store_pin), reused by its reads of that store. */
static _Thread_local struct {
    cv_store *s;
    MDB_txn *txn;
} pinned;

static int begin_snapshot(cv_store *s, MDB_txn **txn)
{
    pthread_rwlock_rdlock(&s->map_lock);
    for (;;) {
        uint_fast64_t commits = atomic_load(&s->commits);
        int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn);
        /* LMDB's copy of the meta page is read before the count is. */
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->commits, memory_order_relaxed) == commits) {
            if (rc == 0)
                return CV_OK;
            pthread_rwlock_unlock(&s->map_lock);
            return fail_mdb(s, rc, "cannot begin a read");
        }
        if (rc == 0) /* an error from a torn meta page is retried too */
            mdb_txn_abort(*txn);
    }
}

static void end_snapshot(cv_store *s, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&s->map_lock);
}

/* A read: this thread's pinned snapshot of s if it has one, else a new one. */
static int read_begin(cv_store *s, MDB_txn **txn)
{
    if (pinned.s == s) {
        *txn = pinned.txn;
        return CV_OK;
    }
    return begin_snapshot(s, txn);
}

static void read_end(cv_store *s, MDB_txn *txn)
{
    if (txn != pinned.txn)
        end_snapshot(s, txn);
}

int cv_store_pin(cv_store *s)
{
    assert(!pinned.s);
    int rc = begin_snapshot(s, &pinned.txn);
    if (!rc)
        pinned.s = s;
    return rc;
}

void cv_store_unpin(cv_store *s)
{
    assert(pinned.s == s);
    end_snapshot(s, pinned.txn);
    pinned.s = NULL;
    pinned.txn = NULL;
}

/* Copies the value of key in db to buf, or else to fixed, which it must fill
 * exactly. CV_ENOTFOUND, without a message, when absent. */
static int read_value(cv_store *s, int db, const void *key, size_t key_len, cv_buf *buf,
                      uint8_t *fixed, size_t fixed_len)
{
    MDB_txn *txn;
    int rc = read_begin(s, &txn);
    if (rc)
        return rc;
    MDB_val k = val(key, key_len), v;
    int mrc = mdb_get(txn, s->db[db], &k, &v);
    if (mrc == MDB_NOTFOUND)
        rc = CV_ENOTFOUND;
    else if (mrc)
        rc = fail_mdb(s, mrc, "cannot read from %s", db_names[db]);
    else if (buf) {
        cv_buf_reset(buf);
        rc = cv_buf_append(buf, v.mv_data, v.mv_size);
    } else if (v.mv_size != fixed_len)
        rc = cv_fail(CV_EIO, "store %s is corrupt: a value in %s has %zu bytes, not %zu", s->dir,
                     db_names[db], v.mv_size, fixed_len);
    else if (fixed_len)
        memcpy(fixed, v.mv_data, fixed_len);
    read_end(s, txn);
    return rc;
}

static int read_tip(cv_store *s, uint8_t tip[TIP_LEN])
{
    int rc = read_value(s, DB_META, tip_key, sizeof tip_key - 1, NULL, tip, TIP_LEN);
    if (rc == CV_ENOTFOUND)
        return cv_fail(rc, "the store is empty (no genesis block yet)");
    return rc;
}

int cv_store_height(cv_store *s, uint64_t *height)
{
    uint8_t tip[TIP_LEN];
    int rc = read_tip(s, tip);
    if (rc == CV_OK)
        *height = cv_get_be64(tip);
    return rc;
}

int cv_store_state_root(cv_store *s, uint8_t out[CV_HASH_LEN])
{
    uint8_t tip[TIP_LEN];
    int rc = read_tip(s, tip);
    if (rc == CV_OK)
        memcpy(out, tip + HEIGHT_LEN + CV_HASH_LEN, CV_HASH_LEN);
    return rc;
}

/* The value stored under a height in db; CV_ENOTFOUND naming what. */
static int read_by_height(cv_store *s, int db, uint64_t height, cv_buf *out, const char *what)
{
    uint8_t key[HEIGHT_LEN];
    cv_put_be64(key, height);
    int rc = read_value(s, db, key, sizeof key, out, NULL, 0);
    if (rc == CV_ENOTFOUND)
        return cv_fail(rc, "no %s height %" PRIu64, what, height);
    return rc;
}

int cv_store_block(cv_store *s, uint64_t height, cv_buf *out)
{
    return read_by_height(s, DB_BLOCKS, height, out, "block at");
}

int cv_store_cert(cv_store *s, uint64_t height, cv_buf *out)
{
    return read_by_height(s, DB_CERTS, height, out, "certificate for");
}

/* The entry of the valsets database with the greatest key <= height. */
static int read_valset(cv_store *s, MDB_txn *txn, uint64_t height, uint64_t *from, cv_buf *out)
{
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(txn, s->db[DB_VALSETS], &cur);
    if (mrc)
        return fail_mdb(s, mrc, "cannot open the validator sets");
    uint8_t key[HEIGHT_LEN];
    cv_put_be64(key, height);
    MDB_val k = val(key, sizeof key), v;
    mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (mrc == MDB_NOTFOUND)
        mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    else if (mrc == 0 && memcmp(k.mv_data, key, HEIGHT_LEN) != 0)
        mrc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
    int rc = CV_OK;
    if (mrc == MDB_NOTFOUND)
        rc = cv_fail(CV_ENOTFOUND, "no validator set is stored for height %" PRIu64, height);
    else if (mrc)
        rc = fail_mdb(s, mrc, "cannot read the validator sets");
    else if (k.mv_size != HEIGHT_LEN)
        rc = cv_fail(CV_EIO, "store %s is corrupt: a validator-set key has %zu bytes", s->dir, k.mv_size);
    else {
        *from = cv_get_be64(k.mv_data);
        cv_buf_reset(out);
        rc = cv_buf_append(out, v.mv_data, v.mv_size);
    }
    mdb_cursor_close(cur);
    return rc;
}

int cv_store_valset(cv_store *s, uint64_t height, uint64_t *from, cv_buf *out)
{
    MDB_txn *txn;
    int rc = read_begin(s, &txn);
    if (rc)
        return rc;
    rc = read_valset(s, txn, height, from, out);
    read_end(s, txn);
    return rc;
}

int cv_store_block_height(cv_store *s, const uint8_t hash[CV_HASH_LEN], uint64_t *height)
{
    uint8_t value[HEIGHT_LEN];
    char hex[2 * HEX_SHOWN + 4];
    int rc = read_value(s, DB_HASHES, hash, CV_HASH_LEN, NULL, value, sizeof value);
    if (rc == CV_ENOTFOUND)
        return cv_fail(rc, "no block has hash %s", hex_shown(hash, CV_HASH_LEN, hex));
    if (rc == CV_OK)
        *height = cv_get_be64(value);
    return rc;
}

int cv_store_tx_location(cv_store *s, const uint8_t tx_hash[CV_HASH_LEN], uint64_t *height,
                         uint32_t *index)
{
    MDB_txn *txn;
    char hex[2 * HEX_SHOWN + 4];
    int rc = read_begin(s, &txn);
    if (rc)
        return rc;
    int mrc = cv_txindex_find(txn, s->db[DB_TXS], s->db[DB_TXRUNS], tx_hash, height, index);
    read_end(s, txn);
    if (mrc == MDB_NOTFOUND)
        return cv_fail(CV_ENOTFOUND, "transaction %s is not committed", hex_shown(tx_hash, CV_HASH_LEN, hex));
    return mrc ? fail_mdb(s, mrc, "cannot read the transaction index") : CV_OK;
}

int cv_store_replay_seen(cv_store *s, const uint8_t key[CV_REPLAY_KEY_LEN])
{
    char hex[2 * HEX_SHOWN + 4];
    int rc = read_value(s, DB_REPLAY, key, CV_REPLAY_KEY_LEN, NULL, NULL, 0);
    if (rc == CV_ENOTFOUND)
        return cv_fail(rc, "no unexpired committed transaction has replay key %s",
                       hex_shown(key, CV_REPLAY_KEY_LEN, hex));
    return rc;
}

int cv_store_receipt(cv_store *s, uint64_t height, uint32_t index, cv_buf *out)
{
    uint8_t key[LOC_LEN];
    cv_put_be64(key, height);
    cv_put_be32(key + HEIGHT_LEN, index);
    int rc = read_value(s, DB_RECEIPTS, key, sizeof key, out, NULL, 0);
    if (rc == CV_ENOTFOUND)
        return cv_fail(rc, "no receipt for transaction %" PRIu32 " of block %" PRIu64, index, height);
    return rc;
}

int cv_store_get(cv_store *s, const uint8_t *key, size_t key_len, cv_buf *value)
{
    if (key_len == 0 || key_len > CV_STORE_KEY_MAX)
        return cv_fail(CV_EINVAL, "a state key has 1 to %d bytes, not %zu", CV_STORE_KEY_MAX, key_len);
    char hex[2 * HEX_SHOWN + 4];
    int rc = read_value(s, DB_STATE, key, key_len, value, NULL, 0);
    if (rc == CV_ENOTFOUND)
        return cv_fail(rc, "no state value for key %s", hex_shown(key, key_len, hex));
    return rc;
}

int cv_store_blob_get(cv_store *s, const uint8_t *key, size_t key_len, cv_buf *out)
{
    if (key_len == 0 || key_len > CV_STORE_KEY_MAX)
        return cv_fail(CV_EINVAL, "a blob key has 1 to %d bytes, not %zu", CV_STORE_KEY_MAX, key_len);
    return read_value(s, DB_BLOBS, key, key_len, out, NULL, 0);
}

static int has_prefix(const MDB_val *k, const uint8_t *prefix, size_t prefix_len)
{
    return k->mv_size >= prefix_len && (prefix_len == 0 || memcmp(k->mv_data, prefix, prefix_len) == 0);
}

int cv_store_scan(cv_store *s, const uint8_t *prefix, size_t prefix_len, size_t limit,
                  cv_store_scan_fn fn, void *ctx)
{
    if (prefix_len > CV_STORE_KEY_MAX)
        return cv_fail(CV_EINVAL, "a state key prefix has at most %d bytes, not %zu", CV_STORE_KEY_MAX,
                       prefix_len);
    MDB_txn *txn;
    int rc = read_begin(s, &txn);
    if (rc)
        return rc;
    MDB_cursor *cur;
    int mrc = mdb_cursor_open(txn, s->db[DB_STATE], &cur);
    if (mrc) {
        read_end(s, txn);
        return fail_mdb(s, mrc, "cannot open a state cursor");
    }
    MDB_val k = val(prefix, prefix_len), v;
    mrc = mdb_cursor_get(cur, &k, &v, prefix_len ? MDB_SET_RANGE : MDB_FIRST);
    for (size_t visited = 0; mrc == 0 && visited < limit && has_prefix(&k, prefix, prefix_len);
         visited++) {
        if ((rc = fn(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size)) != 0)
            break;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = fail_mdb(s, mrc, "cannot scan the state");
    mdb_cursor_close(cur);
    read_end(s, txn);
    return rc;
}
