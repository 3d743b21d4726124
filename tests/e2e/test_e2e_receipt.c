/* test_e2e_receipt.c: notary receipts end to end, in both suites. A real
 * node; `civitas notary stamp` stamps one file (a batch of 1), a directory
 * tree (--dir) and a list of generated hashes (100,000 with std, 2,000 with
 * gm: --hashes), each batch in one transaction, writing a receipt per entry;
 * then the node is stopped and `civitas notary verify` checks receipts with
 * nothing but the genesis file: every file of the tree, a spread of the
 * hashes, and the single file, whose verdict names the stamper, the label,
 * the block and the certifying validator. A changed file, another file's
 * receipt, a changed receipt byte and another chain's genesis are refused,
 * naming what did not match; an existing receipt is never overwritten. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/file.h"
#include "check.h"
#include "harness.h"

#define TREE_DIRS 3
#define TREE_FILES 12 /* per directory */
#define SAMPLES 24    /* hashes of the list verified */

typedef struct {
    e2e_chain c;
    char work[300], key[300], genesis[300], log[300];
} setup;

static void write_text(const char *path, const char *text)
{
    CHECK_OK(cv_file_write(path, text, strlen(text), 0644, 0));
}

/* Whether the last command's output (s->log) contains text; prints it if not. */
static int said(const setup *s, const char *text)
{
    cv_buf out = {0};
    int found = cv_file_read(s->log, 1 << 20, &out) == CV_OK && cv_buf_append_byte(&out, 0) == CV_OK &&
                strstr((const char *)out.data, text) != NULL;
    if (!found)
        fprintf(stderr, "output lacks \"%s\":\n%s\n", text, out.data ? (const char *)out.data : "(none)");
    cv_buf_free(&out);
    return found;
}

static int stamp_file(setup *s, const char *path)
{
    return e2e_run_log(s->log, s->c.civitas, "notary", "stamp", path, "--label", "deed of sale", "--key", s->key,
                       "--rpc", s->c.rpc, (char *)NULL);
}

static int verify(setup *s, const char *file, const char *receipt, const char *genesis)
{
    return e2e_run_log(s->log, s->c.civitas, "notary", "verify", file, receipt, "--genesis", genesis, (char *)NULL);
}

static int verify_hash(setup *s, const char *hex, const char *receipt)
{
    return e2e_run_log(s->log, s->c.civitas, "notary", "verify", "--hash", hex, receipt, "--genesis", s->genesis,
                       (char *)NULL);
}

/* A tree of TREE_DIRS directories of TREE_FILES files each under work/tree. */
static void make_tree(setup *s)
{
    char path[400];
    snprintf(path, sizeof path, "%s/tree", s->work);
    CHECK(mkdir(path, 0755) == 0);
    for (int d = 0; d < TREE_DIRS; d++) {
        snprintf(path, sizeof path, "%s/tree/dir%d", s->work, d);
        CHECK(mkdir(path, 0755) == 0);
        for (int f = 0; f < TREE_FILES; f++) {
            char text[64];
            snprintf(path, sizeof path, "%s/tree/dir%d/file%02d.txt", s->work, d, f);
            snprintf(text, sizeof text, "file %d of directory %d\n", f, d);
            write_text(path, text);
        }
    }
}

/* A list of n random hashes, one hex per line, in work/list.txt. */
static uint8_t (*make_list(setup *s, size_t n))[CV_HASH_LEN]
{
    uint8_t(*hashes)[CV_HASH_LEN] = malloc(n * CV_HASH_LEN);
    char *text = malloc(n * (2 * CV_HASH_LEN + 1) + 1), path[400];
    for (size_t i = 0; i < n; i++) {
        cv_random(hashes[i], CV_HASH_LEN);
        cv_hex_encode(hashes[i], CV_HASH_LEN, text + i * (2 * CV_HASH_LEN + 1));
        text[(i + 1) * (2 * CV_HASH_LEN + 1) - 1] = '\n';
    }
    text[n * (2 * CV_HASH_LEN + 1)] = '\0';
    snprintf(path, sizeof path, "%s/list.txt", s->work);
    write_text(path, text);
    free(text);
    return hashes;
}

/* Every file of the tree verifies with its receipt, and not with its neighbour's. */
static void verify_tree(setup *s)
{
    char file[400], receipt[420];
    for (int d = 0; d < TREE_DIRS; d++)
        for (int f = 0; f < TREE_FILES; f++) {
            snprintf(file, sizeof file, "%s/tree/dir%d/file%02d.txt", s->work, d, f);
            snprintf(receipt, sizeof receipt, "%s.receipt.json", file);
            CHECK(verify(s, file, receipt, s->genesis) == 0);
            CHECK(said(s, "entry"));
        }
    snprintf(receipt, sizeof receipt, "%s/tree/dir1/file03.txt.receipt.json", s->work);
    CHECK(verify(s, file, receipt, s->genesis) == 1);
    CHECK(said(s, "file.hash: the file hashes to"));
}

/* A spread of the listed hashes verifies with --hash. */
static void verify_list(setup *s, uint8_t (*hashes)[CV_HASH_LEN], size_t n)
{
    char hex[2 * CV_HASH_LEN + 1], receipt[420];
    for (size_t k = 0; k < SAMPLES; k++) {
        size_t i = k == 0 ? 0 : k == 1 ? n - 1 : (k * 7919 + 13) % n;
        cv_hex_encode(hashes[i], CV_HASH_LEN, hex);
        snprintf(receipt, sizeof receipt, "%s/receipts/%s.receipt.json", s->work, hex);
        CHECK(verify_hash(s, hex, receipt) == 0);
        char entry[80];
        snprintf(entry, sizeof entry, "entry %zu of %zu", i, n);
        CHECK(said(s, entry));
    }
}

/* The single file's receipt: its verdict, and what is refused. */
static void verify_single(setup *s, const char *other_genesis)
{
    char file[400], receipt[420], addr[CV_ADDR_STR_MAX], line[120];
    snprintf(file, sizeof file, "%s/deed.txt", s->work);
    snprintf(receipt, sizeof receipt, "%s.receipt.json", file);
    CHECK(verify(s, file, receipt, s->genesis) == 0);
    cv_address_string(&s->c.admin.pub, addr);
    snprintf(line, sizeof line, "stamped by   %s, organisation org1", addr);
    CHECK(said(s, line) && said(s, "label        \"deed of sale\"") && said(s, "entry 0 of 1"));
    CHECK(said(s, "certified by 1 of 1 validators (power 10 of 10)"));
    CHECK(verify(s, file, receipt, other_genesis) == 1);
    CHECK(said(s, "chain.chain_id: the receipt is for chain \"e2e-chain\", the genesis file is chain \"other\""));
    /* One byte of the receipt changed: the label. */
    cv_buf text = {0};
    char tampered[440];
    CHECK_OK(cv_file_read(receipt, 1 << 20, &text));
    CHECK_OK(cv_buf_append_byte(&text, 0));
    char *at = strstr((char *)text.data, "deed of sale");
    if (at)
        at[0] = 'D';
    snprintf(tampered, sizeof tampered, "%s/tampered.json", s->work);
    CHECK_OK(cv_file_write(tampered, text.data, text.len - 1, 0644, 0));
    CHECK(verify(s, file, tampered, s->genesis) == 1);
    CHECK(said(s, "stamp.label: the receipt says \"Deed of sale\""));
    cv_buf_free(&text);
    /* The file changed. */
    write_text(file, "deed of sale, amended\n");
    CHECK(verify(s, file, receipt, s->genesis) == 1);
    CHECK(said(s, "file.hash"));
}

static void run(const char *civitas, const char *suite, size_t list_size)
{
    setup s;
    char path[400], other[400];
    fprintf(stderr, "== %s suite\n", suite);
    CHECK_OK(e2e_init(&s.c, civitas, suite));
    snprintf(s.work, sizeof s.work, "%s/work", s.c.home);
    snprintf(s.key, sizeof s.key, "%s/admin.key", s.c.home);
    snprintf(s.genesis, sizeof s.genesis, "%s/genesis.json", s.c.home);
    snprintf(s.log, sizeof s.log, "%s/cli.log", s.c.home);
    CHECK(mkdir(s.work, 0755) == 0);
    CHECK_OK(e2e_start(&s.c));

    snprintf(path, sizeof path, "%s/deed.txt", s.work);
    write_text(path, "deed of sale\n");
    CHECK(stamp_file(&s, path) == 0);
    CHECK(said(&s, "batch of 1: stamping batch hash"));
    CHECK(stamp_file(&s, path) == 1); /* its receipt exists: never overwritten */
    CHECK(said(&s, "deed.txt.receipt.json already exists"));
    make_tree(&s);
    snprintf(path, sizeof path, "%s/tree", s.work);
    CHECK(e2e_run_log(s.log, civitas, "notary", "stamp", "--dir", path, "--key", s.key, "--rpc", s.c.rpc,
                      (char *)NULL) == 0);
    CHECK(said(&s, "dir2/file11.txt.receipt.json"));
    uint8_t(*hashes)[CV_HASH_LEN] = make_list(&s, list_size);
    snprintf(path, sizeof path, "%s/list.txt", s.work);
    snprintf(other, sizeof other, "%s/receipts", s.work);
    CHECK(e2e_run_log(s.log, civitas, "notary", "stamp", "--hashes", path, "--out", other, "--key", s.key, "--rpc",
                      s.c.rpc, (char *)NULL) == 0);
    char wrote[80];
    snprintf(wrote, sizeof wrote, "wrote %zu of %zu receipts", list_size, list_size);
    CHECK(said(&s, wrote));
    CHECK(e2e_stop(&s.c, SIGTERM) == 0);

    /* Offline: the node is gone. Another chain's genesis for the refusals. */
    snprintf(other, sizeof other, "%s/other", s.c.home);
    CHECK(e2e_run(civitas, "init", "--home", other, "--suite", suite, "--chain-id", "other", (char *)NULL) == 0);
    snprintf(other, sizeof other, "%s/other/genesis.json", s.c.home);
    verify_tree(&s);
    verify_list(&s, hashes, list_size);
    verify_single(&s, other);
    free(hashes);
    e2e_cleanup(&s.c);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH-TO-CIVITAS\n", argv[0]);
        return 2;
    }
    CHECK_OK(cv_crypto_init());
    run(argv[1], "std", 100000);
    run(argv[1], "gm", 2000);
    cv_crypto_cleanup();
    return check_done();
}
