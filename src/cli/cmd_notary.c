/* cmd_notary.c: `civitas notary stamp` and `civitas notary verify`.
 *
 * stamp: gathers a batch (notary.h), hashes it with the chain's suite,
 * stamps the batch hash of its RFC 6962 tree in one notary.stamp
 * transaction, fetches where it landed (tx_get) and writes one receipt per
 * entry (src/proof), after checking the first one in full against the
 * node's genesis. verify: checks a file against its receipt and a genesis
 * file, with no node and no network, and says who stamped it and when. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/file.h"
#include "cli/notary.h"
#include "proof/proof.h"

#define PROGRESS_EVERY 1000 /* lines of progress for batches above this size */

static const char stamp_usage[] =
    "notary stamp (FILE... | --dir DIR | --hashes LIST) --key KEYFILE [--label TEXT] [--out DIR] "
    "[--rpc URL | --home DIR]";
static const char verify_usage[] = "notary verify (FILE | --hash HEX) RECEIPT --genesis GENESIS";

/* The chain's genesis, from the node (a receipt names its validators). */
static int fetch_genesis(const cli_args *a, cv_httpc *c, cv_genesis *g)
{
    json_t *r = NULL;
    if (cli_rpc(c, "genesis", json_object(), &r) != CV_OK)
        return cli_fail_cv(a);
    const char *text = json_string_value(json_object_get(r, "genesis"));
    int rc = !text ? cli_fail(a, "the node's genesis reply lacks the genesis document")
             : cv_genesis_parse(text, json_string_length(json_object_get(r, "genesis")), g) != CV_OK
                 ? cli_fail(a, "the node's genesis: %s", cv_errmsg())
                 : 0;
    json_decref(r);
    return rc;
}

/* Stamps the batch hash of the tree; its transaction hash to tx_hash. */
static int stamp_root(const cli_args *a, cv_httpc *c, const cv_keypair *key, const cv_merkle_tree *t,
                      uint8_t tx_hash[CV_HASH_LEN])
{
    uint8_t batch[CV_HASH_LEN];
    char hex[2 * CV_HASH_LEN + 1];
    const char *label = cli_get(a, "--label");
    if (cv_proof_batch_hash(key->suite, cv_merkle_tree_root(t), t->n, batch) != CV_OK)
        return cli_fail_cv(a);
    cv_hex_encode(batch, CV_HASH_LEN, hex);
    printf("batch of %zu: stamping batch hash %s\n", t->n, hex);
    json_t *args = json_pack("{s:s, s:s}", "hash", hex, "label", label ? label : "");
    int rc = args ? cli_send_tx(a, c, key, "notary", "stamp", args, tx_hash) : cli_fail(a, "out of memory");
    json_decref(args);
    return rc;
}

/* The validator-set changes from genesis up to height: the set of height,
 * the set before the one it replaced, and so on back to the genesis set. */
static int add_validator_changes(cv_httpc *c, uint64_t height, cv_proof_anchor *anchor)
{
    for (uint64_t at = height;;) {
        json_t *got = NULL;
        uint64_t from = 0;
        int rc = cli_rpc(c, "validators", json_pack("{s:I}", "height", (json_int_t)at), &got);
        if (!rc)
            rc = cv_proof_anchor_add_change(anchor, got, &from);
        json_decref(got);
        if (!rc && from > at)
            rc = cv_fail(CV_EINVAL, "the node says the set of height %llu took effect at %llu, after it",
                         (unsigned long long)at, (unsigned long long)from);
        if (rc || from == 0)
            return rc;
        at = from - 1;
    }
}

/* Where the stamp landed, as a receipt without its file section, checked
 * in full (with the batch's first entry) against the node's genesis. */
static int anchor_receipt(const cli_args *a, cv_httpc *c, const cv_genesis *g, const cv_merkle_tree *t,
                          const cli_batch *b, const uint8_t tx_hash[CV_HASH_LEN], cv_proof *p)
{
    char hex[2 * CV_HASH_LEN + 1];
    json_t *got = NULL;
    cv_proof_anchor anchor;
    cv_proof_verdict v;
    cv_hex_encode(tx_hash, CV_HASH_LEN, hex);
    if (cli_rpc(c, "tx_get", json_pack("{s:s}", "hash", hex), &got) != CV_OK)
        return cli_fail_cv(a);
    int rc = cv_proof_anchor_from_rpc(got, &anchor);
    uint64_t height = (uint64_t)json_integer_value(json_object_get(got, "height"));
    json_decref(got);
    if (!rc)
        rc = add_validator_changes(c, height, &anchor);
    if (rc) {
        cv_proof_anchor_free(&anchor);
        return cli_fail_cv(a);
    }
    if ((rc = cv_proof_build(g, &anchor, p)) || (rc = cv_proof_set_file(p, t, b->hashes[0], 0)) ||
        (rc = cv_proof_verify(p, g, b->hashes[0], &v)))
        rc = cli_fail(a, "the node's answer does not make a valid receipt: %s", cv_errmsg());
    cv_proof_anchor_free(&anchor);
    return rc;
}

/* One receipt per entry of the batch. */
static int write_receipts(const cli_args *a, const cli_batch *b, const cv_merkle_tree *t, cv_proof *p)
{
    cv_buf text = {0};
    int rc = 0, progress = b->n > PROGRESS_EVERY;
    for (size_t i = 0; i < b->n && !rc; i++) {
        cv_buf_reset(&text);
        if (cv_proof_set_file(p, t, b->hashes[i], i) != CV_OK || cv_proof_render(p, &text) != CV_OK)
            rc = cli_fail_cv(a);
        else
            rc = cli_write_receipt(a, b->entries[i].receipt, &text);
        if (!rc && !progress) {
            char hex[2 * CV_HASH_LEN + 1];
            cv_hex_encode(b->hashes[i], CV_HASH_LEN, hex);
            printf("%s  %s -> %s\n", hex, b->entries[i].source ? b->entries[i].source : "(listed)",
                   b->entries[i].receipt);
        }
        if (!rc && progress && ((i + 1) % PROGRESS_EVERY == 0 || i + 1 == b->n))
            fprintf(stderr, "wrote %zu of %zu receipts\n", i + 1, b->n);
    }
    cv_buf_free(&text);
    return rc;
}

/* The batch's tree: leaf i = H(0x00 || hash of entry i). */
static int batch_tree(const cli_args *a, const cli_batch *b, cv_suite suite, cv_merkle_tree *t)
{
    uint8_t(*leaves)[CV_HASH_LEN] = malloc(b->n * CV_HASH_LEN);
    int rc = leaves ? CV_OK : CV_ENOMEM;
    for (size_t i = 0; i < b->n && !rc; i++)
        rc = cv_merkle_leaf_hash(suite, b->hashes[i], CV_HASH_LEN, leaves[i]);
    if (!rc)
        rc = cv_merkle_tree_build(suite, &leaves[0][0], b->n, t);
    free(leaves);
    return rc ? cli_fail(a, "cannot build the batch's tree: %s", cv_errmsg()) : 0;
}

/* Hashes, stamps and writes the receipts of a gathered batch. */
static int stamp_batch(const cli_args *a, cli_batch *b, const cv_keypair *key)
{
    cv_httpc c;
    cv_genesis g = {0};
    cv_merkle_tree t = {0};
    uint8_t tx_hash[CV_HASH_LEN];
    cv_proof *p = calloc(1, sizeof *p);
    int rc = p ? cli_batch_check(a, b) : cli_fail(a, "out of memory");
    if (rc || (rc = cli_open_client(a, &c))) {
        free(p);
        return rc;
    }
    if (!(rc = fetch_genesis(a, &c, &g)) && g.chain.suite != key->suite)
        rc = cli_fail(a, "the chain uses the %s suite but the key is %s", cv_suite_name(g.chain.suite),
                      cv_suite_name(key->suite));
    if (!rc)
        rc = cli_batch_hash(a, b, g.chain.suite, b->n > PROGRESS_EVERY ? PROGRESS_EVERY : 0);
    if (!rc && !(rc = batch_tree(a, b, g.chain.suite, &t)) && !(rc = stamp_root(a, &c, key, &t, tx_hash)) &&
        !(rc = anchor_receipt(a, &c, &g, &t, b, tx_hash, p)))
        rc = write_receipts(a, b, &t, p);
    if (!rc)
        printf("stamped %zu in block %llu at %s by %s\n", b->n, (unsigned long long)p->height, p->time, p->stamper);
    cv_proof_free(p);
    free(p);
    cv_merkle_tree_free(&t);
    cv_genesis_free(&g);
    cv_httpc_close(&c);
    return rc;
}

static int notary_stamp(int argc, char **argv)
{
    cli_opt opts[] = {CLIENT_OPTS,         {"--key", 1, NULL}, {"--passphrase-file", 1, NULL}, {"--label", 1, NULL},
                      {"--out", 1, NULL},  {"--dir", 1, NULL}, {"--hashes", 1, NULL}};
    cli_args a = {"notary stamp", stamp_usage, opts, sizeof opts / sizeof opts[0], {0}, 0};
    int rc = cli_parse(&a, argc, argv, 0, CLI_MAX_POS);
    const char *dir = cli_get(&a, "--dir"), *list = cli_get(&a, "--hashes"), *out = cli_get(&a, "--out");
    if (rc)
        return rc;
    if ((a.npos > 0) + (dir != NULL) + (list != NULL) != 1)
        return cli_usage(&a, "give files, or --dir DIR, or --hashes LIST (one of them)");
    cli_batch b = {0};
    for (int i = 0; i < a.npos && !rc; i++)
        rc = cli_batch_add_file(&a, &b, a.pos[i], out);
    if (!rc && dir)
        rc = cli_batch_add_dir(&a, &b, dir, out);
    if (!rc && list)
        rc = cli_batch_add_hashes(&a, &b, list, out);
    cv_keypair key;
    if (!rc && !(rc = cli_load_key(&a, &key))) {
        rc = stamp_batch(&a, &b, &key);
        cv_key_wipe(&key);
    }
    cli_batch_free(&b);
    return rc;
}

/* The hash a receipt is checked against: of FILE, or --hash HEX. */
static int subject_hash(const cli_args *a, cv_suite suite, const char *file, uint8_t out[CV_HASH_LEN])
{
    const char *hex = cli_get(a, "--hash");
    if (!hex)
        return cli_hash_file(a, suite, file, out);
    return cv_hex_decode(hex, out, CV_HASH_LEN) == CV_OK ? 0 : cli_usage(a, "--hash must be %d hex digits", 2 * CV_HASH_LEN);
}

static void print_verdict(const cv_proof *p, const cv_proof_verdict *v, const char *subject, const char *receipt)
{
    char hex[2 * CV_HASH_LEN + 1];
    printf("OK: %s is proven by %s\n", subject, receipt);
    cv_hex_encode(p->file_hash, CV_HASH_LEN, hex);
    printf("  hash         %s (%s)\n", hex, p->suite == CV_SUITE_GM ? "SM3" : "SHA-256");
    printf("  stamped by   %s, organisation %s\n", v->stamper, v->org);
    printf("  label        \"%s\"\n", v->label);
    printf("  block        %llu, at %s (UTC)\n", (unsigned long long)v->height, v->time);
    cv_hex_encode(v->block_hash, CV_HASH_LEN, hex);
    printf("  block hash   %s\n", hex);
    cv_hex_encode(v->tx_hash, CV_HASH_LEN, hex);
    printf("  transaction  %s\n", hex);
    printf("  batch        entry %llu of %llu\n", (unsigned long long)p->file_index, (unsigned long long)p->file_count);
    printf("  chain        %s\n", p->chain_id);
    printf("  certified by %zu of %zu validators (power %llu of %llu):", v->nsigners, v->nvalidators,
           (unsigned long long)v->signed_power, (unsigned long long)v->total_power);
    for (size_t i = 0; i < v->nsigners; i++)
        printf(v->signers[i].org[0] ? " %s (%s)" : " %s%s", v->signers[i].address, v->signers[i].org);
    printf("\n");
}

static int notary_verify(int argc, char **argv)
{
    cli_opt opts[] = {{"--genesis", 1, NULL}, {"--hash", 1, NULL}};
    cli_args a = {"notary verify", verify_usage, opts, 2, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 1, 2);
    if (rc)
        return rc;
    int by_hash = cli_get(&a, "--hash") != NULL;
    if (a.npos != (by_hash ? 1 : 2) || !cli_get(&a, "--genesis"))
        return cli_usage(&a, "give FILE (or --hash HEX), RECEIPT and --genesis GENESIS");
    const char *file = by_hash ? cli_get(&a, "--hash") : a.pos[0], *receipt = a.pos[by_hash ? 0 : 1];
    cv_genesis g;
    cv_buf text = {0};
    cv_proof *p = calloc(1, sizeof *p);
    cv_proof_verdict v;
    uint8_t hash[CV_HASH_LEN];
    if (!p)
        return cli_fail(&a, "out of memory");
    if (cv_genesis_load(cli_get(&a, "--genesis"), &g) != CV_OK) {
        free(p);
        return cli_fail_cv(&a);
    }
    if (!(rc = subject_hash(&a, g.chain.suite, file, hash))) {
        if (cv_file_read(receipt, CV_PROOF_MAX_BYTES, &text) != CV_OK)
            rc = cli_fail_cv(&a);
        else if (cv_proof_parse(text.data, text.len, p) != CV_OK || cv_proof_verify(p, &g, hash, &v) != CV_OK)
            rc = cli_fail(&a, "%s does not prove %s: %s", receipt, file, cv_errmsg());
        else
            print_verdict(p, &v, file, receipt);
    }
    cv_proof_free(p);
    free(p);
    cv_buf_free(&text);
    cv_genesis_free(&g);
    return rc;
}

int cmd_notary(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "stamp") == 0)
        return notary_stamp(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return notary_verify(argc - 1, argv + 1);
    fprintf(stderr, "civitas notary: expected stamp or verify\nusage: civitas %s\n       civitas %s\n", stamp_usage,
            verify_usage);
    return 2;
}
