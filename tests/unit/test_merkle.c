/* test_merkle.c: RFC 6962 Merkle trees: the Certificate Transparency known
 * answers (SHA-256), agreement with a direct recursive implementation of the
 * RFC's definitions for every tree size 1..300 and every leaf (both suites),
 * rejection of every altered proof, a tree of a million leaves, and the
 * in-memory tree (cv_merkle_tree) giving the same roots and paths (fewer and
 * smaller trees when CV_TEST_QUICK is set). */
#include <stdlib.h>
#include <time.h>

#include "base/buf.h"
#include "check.h"
#include "crypto/merkle.h"

#define H CV_HASH_LEN

/* ---- the RFC's definitions, written out recursively ------------------------ */

static size_t ref_split(size_t n)
{
    size_t k = 1;
    while (2 * k < n)
        k *= 2;
    return k;
}

/* MTH(D[n]) of RFC 9162 2.1.1, with one-shot cv_hash calls. */
static void ref_root(cv_suite s, const uint8_t *leaves, size_t n, uint8_t out[H])
{
    if (n == 0) {
        cv_hash(s, "", 0, out);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves, H);
        return;
    }
    size_t k = ref_split(n);
    uint8_t in[1 + 2 * H] = {0x01};
    ref_root(s, leaves, k, in + 1);
    ref_root(s, leaves + k * H, n - k, in + 1 + H);
    cv_hash(s, in, sizeof in, out);
}

/* PATH(m, D[lo:lo+n]) of RFC 9162 2.1.3.1 (leaf first), and the side of each
 * sibling, 'L' or 'R', in sides. With path NULL only the sides. */
static size_t ref_path(cv_suite s, const uint8_t *leaves, size_t lo, size_t n, size_t m,
                       uint8_t *path, char *sides)
{
    if (n == 1)
        return 0;
    size_t k = ref_split(n), c;
    if (m < k) {
        c = ref_path(s, leaves, lo, k, m, path, sides);
        if (path)
            ref_root(s, leaves + (lo + k) * H, n - k, path + c * H);
        sides[c] = 'R';
    } else {
        c = ref_path(s, leaves, lo + k, n - k, m - k, path, sides);
        if (path)
            ref_root(s, leaves + lo * H, k, path + c * H);
        sides[c] = 'L';
    }
    return c + 1;
}

/* The length of leaf m's audit path in a tree of n. */
static size_t ref_path_len(size_t m, size_t n)
{
    char sides[CV_MERKLE_MAX_DEPTH];
    return ref_path(CV_SUITE_STD, NULL, 0, n, m, NULL, sides);
}

/* Whether leaf m's audit path has the same shape in trees of n and n2 leaves:
 * then one path serves both (RFC 6962 roots do not commit to the size). */
static int same_shape(size_t m, size_t n, size_t n2)
{
    char a[CV_MERKLE_MAX_DEPTH], b[CV_MERKLE_MAX_DEPTH];
    size_t ca = ref_path(CV_SUITE_STD, NULL, 0, n, m, NULL, a);
    size_t cb = ref_path(CV_SUITE_STD, NULL, 0, n2, m, NULL, b);
    return ca == cb && !memcmp(a, b, ca);
}

/* ---- known answers (Certificate Transparency, transparency-dev/merkle) ---- */

static const char *const ct_leaves[] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

static const char *const ct_roots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", /* empty */
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static const struct {
    size_t index, size, count;
    const char *path[3];
} ct_proofs[] = {
    {0, 1, 0, {NULL}},
    {0, 8, 3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5, 8, 3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1, 5, 3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static void hex32(const char *hex, uint8_t out[H])
{
    CHECK_OK(cv_hex_decode(hex, out, H));
}

static void ct_leaf_hashes(uint8_t leaves[8][H])
{
    for (size_t i = 0; i < 8; i++) {
        cv_buf data = {0};
        CHECK_OK(cv_hex_decode_buf(ct_leaves[i], &data));
        CHECK_OK(cv_merkle_leaf_hash(CV_SUITE_STD, data.data, data.len, leaves[i]));
        cv_buf_free(&data);
    }
}

static void test_known_roots(void)
{
    uint8_t leaves[8][H], root[H], want[H];
    ct_leaf_hashes(leaves);
    for (size_t n = 0; n <= 8; n++) {
        hex32(ct_roots[n], want);
        CHECK_OK(cv_merkle_root(CV_SUITE_STD, leaves[0], n, root));
        CHECK(!memcmp(root, want, H));
    }
    /* The leaf hash of "" is the root of the one-leaf tree. */
    hex32(ct_roots[1], want);
    CHECK(!memcmp(leaves[0], want, H));
}

/* Known proofs are produced exactly, verify, and every alteration that
 * transparency-dev/merkle probes is rejected. */
static void test_known_proofs(void)
{
    uint8_t leaves[8][H], root[H], other[H];
    uint8_t path[CV_MERKLE_MAX_DEPTH * H], want[3 * H], bad[(CV_MERKLE_MAX_DEPTH + 1) * H];
    size_t count;
    ct_leaf_hashes(leaves);
    for (size_t t = 0; t < sizeof ct_proofs / sizeof ct_proofs[0]; t++) {
        size_t m = ct_proofs[t].index, n = ct_proofs[t].size, c = ct_proofs[t].count;
        const uint8_t *leaf = leaves[m];
        hex32(ct_roots[n], root);
        for (size_t i = 0; i < c; i++)
            hex32(ct_proofs[t].path[i], want + i * H);
        CHECK_OK(cv_merkle_proof(CV_SUITE_STD, leaves[0], n, m, path, &count));
        CHECK(count == c && !memcmp(path, want, c * H));
        CHECK_OK(cv_merkle_verify(CV_SUITE_STD, leaf, m, n, want, c, root));

        /* Wrong index, wrong size, wrong leaf, wrong root. */
        CHECK(cv_merkle_verify(CV_SUITE_STD, leaf, m - 1, n, want, c, root) != CV_OK);
        CHECK(cv_merkle_verify(CV_SUITE_STD, leaf, m + 1, n, want, c, root) != CV_OK);
        CHECK(cv_merkle_verify(CV_SUITE_STD, leaf, m ^ 2, n, want, c, root) != CV_OK);
        CHECK(cv_merkle_verify(CV_SUITE_STD, leaf, m, n * 2, want, c, root) != CV_OK);
        CHECK(cv_merkle_verify(CV_SUITE_STD, leaf, m, n / 2, want, c, root) != CV_OK);
        CHECK_ERR(cv_merkle_verify(CV_SUITE_STD, leaves[(m + 1) % 8], m, n, want, c, root),
                  CV_EBADSIG);
        hex32(ct_roots[0], other);
        CHECK_ERR(cv_merkle_verify(CV_SUITE_STD, leaf, m, n, want, c, other), CV_EBADSIG);

        /* A hash added at the end or the front, one removed, one inserted. */
        memcpy(bad, want, c * H);
        memcpy(bad + c * H, root, H);
        CHECK_ERR(cv_merkle_verify(CV_SUITE_STD, leaf, m, n, bad, c + 1, root), CV_EINVAL);
        CHECK_MSG("too long");
        memcpy(bad, root, H);
        memcpy(bad + H, want, c * H);
        CHECK_ERR(cv_merkle_verify(CV_SUITE_STD, leaf, m, n, bad, c + 1, root), CV_EINVAL);
        if (c > 0) {
            CHECK_ERR(cv_merkle_verify(CV_SUITE_STD, leaf, m, n, want, c - 1, root), CV_EINVAL);
            CHECK_MSG("too short");
        }
        if (c > 1) {
            memcpy(bad, want, H);
            memcpy(bad + H, other, H);
            memcpy(bad + 2 * H, want + H, (c - 1) * H);
            CHECK_ERR(cv_merkle_verify(CV_SUITE_STD, leaf, m, n, bad, c + 1, root), CV_EINVAL);
        }
        /* One bit flipped in each element. */
        for (size_t i = 0; i < c; i++) {
            memcpy(bad, want, c * H);
            bad[i * H] ^= 8;
            CHECK_ERR(cv_merkle_verify(CV_SUITE_STD, leaf, m, n, bad, c, root), CV_EBADSIG);
            CHECK_MSG("does not lead to the root");
        }
    }
}

static void test_bad_arguments(void)
{
    uint8_t leaf[H] = {0}, path[CV_MERKLE_MAX_DEPTH * H];
    size_t count = 99;
    CHECK_ERR(cv_merkle_proof(CV_SUITE_STD, leaf, 1, 1, path, &count), CV_EINVAL);
    CHECK_MSG("leaf index 1 is outside a tree of 1 leaves");
    CHECK(count == 0);
    CHECK_ERR(cv_merkle_proof(CV_SUITE_STD, leaf, 0, 0, path, &count), CV_EINVAL);
    CHECK_ERR(cv_merkle_verify(CV_SUITE_STD, leaf, 0, 0, path, 0, leaf), CV_EINVAL);
    CHECK_ERR(cv_merkle_verify(CV_SUITE_STD, leaf, 5, 5, path, 0, leaf), CV_EINVAL);
    CHECK_MSG("leaf index 5 is outside a tree of 5 leaves");
    CHECK_OK(cv_merkle_verify(CV_SUITE_STD, leaf, 0, 1, path, 0, leaf));
    CHECK_ERR(cv_merkle_root((cv_suite)7, leaf, 1, leaf), CV_EINVAL);
    /* The largest sizes need no more than CV_MERKLE_MAX_DEPTH hashes. */
    CHECK_ERR(cv_merkle_verify(CV_SUITE_STD, leaf, UINT64_MAX - 1, UINT64_MAX, path, 0, leaf),
              CV_EINVAL);
    CHECK_MSG("too short");
}

/* ---- every tree size and leaf ------------------------------------------------ */

static void make_leaves(cv_suite s, uint8_t *leaves, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t data[4] = {(uint8_t)i, (uint8_t)(i >> 8), 0xc5, (uint8_t)s};
        CHECK_OK(cv_merkle_leaf_hash(s, data, sizeof data, leaves + i * H));
    }
}

/* Checks leaf m's proof in a tree of n and that every alteration fails. */
static void check_leaf(cv_suite s, const uint8_t *leaves, size_t n, size_t m,
                       const uint8_t root[H], int compare_ref)
{
    uint8_t path[CV_MERKLE_MAX_DEPTH * H], ref[CV_MERKLE_MAX_DEPTH * H];
    uint8_t bad[(CV_MERKLE_MAX_DEPTH + 1) * H], bad_root[H];
    char sides[CV_MERKLE_MAX_DEPTH];
    size_t c;
    const uint8_t *leaf = leaves + m * H;
    CHECK_OK(cv_merkle_proof(s, leaves, n, m, path, &c));
    if (compare_ref)
        CHECK(ref_path(s, leaves, 0, n, m, ref, sides) == c && !memcmp(ref, path, c * H));
    CHECK_OK(cv_merkle_verify(s, leaf, m, n, path, c, root));

    for (size_t i = 0; i < c; i++) {
        memcpy(bad, path, c * H);
        bad[i * H + (i * 7) % H] ^= (uint8_t)(1u << (i % 8));
        CHECK_ERR(cv_merkle_verify(s, leaf, m, n, bad, c, root), CV_EBADSIG);
    }
    memcpy(bad_root, root, H);
    bad_root[m % H] ^= 0x40;
    CHECK_ERR(cv_merkle_verify(s, leaf, m, n, path, c, bad_root), CV_EBADSIG);
    if (m + 1 < n)
        CHECK(cv_merkle_verify(s, leaf, m + 1, n, path, c, root) != CV_OK);
    if (m > 0)
        CHECK(cv_merkle_verify(s, leaf, m - 1, n, path, c, root) != CV_OK);
    if (m > 0)
        CHECK(cv_merkle_verify(s, leaves, m, n, path, c, root) != CV_OK); /* another leaf */
    /* Another tree size is accepted only where the path has the same shape. */
    if (m + 1 < n)
        CHECK((cv_merkle_verify(s, leaf, m, n - 1, path, c, root) == CV_OK) ==
              same_shape(m, n, n - 1));
    CHECK((cv_merkle_verify(s, leaf, m, n + 1, path, c, root) == CV_OK) ==
          same_shape(m, n, n + 1));
    CHECK(cv_merkle_verify(s, leaf, m, 2 * n, path, c, root) != CV_OK);
    if (c > 0)
        CHECK_ERR(cv_merkle_verify(s, leaf, m, n, path, c - 1, root), CV_EINVAL);
    memcpy(bad, path, c * H);
    memcpy(bad + c * H, root, H);
    CHECK_ERR(cv_merkle_verify(s, leaf, m, n, bad, c + 1, root), CV_EINVAL);
}

/* Every tree of 1..max_n leaves: its root, and the proofs of every leaf (of
 * the first, second, middle and last two leaves above every_leaf_upto). */
static void test_every_size(cv_suite s, size_t max_n, size_t ref_paths_upto,
                            size_t every_leaf_upto)
{
    uint8_t *leaves = malloc(max_n * H);
    uint8_t root[H], ref[H];
    clock_t t0 = clock();
    make_leaves(s, leaves, max_n);
    for (size_t n = 1; n <= max_n; n++) {
        CHECK_OK(cv_merkle_root(s, leaves, n, root));
        ref_root(s, leaves, n, ref);
        CHECK(!memcmp(root, ref, H));
        if (n <= every_leaf_upto) {
            for (size_t m = 0; m < n; m++)
                check_leaf(s, leaves, n, m, root, n <= ref_paths_upto);
        } else {
            size_t picks[] = {0, 1, n / 2, n - 2, n - 1};
            for (size_t i = 0; i < 5; i++)
                check_leaf(s, leaves, n, picks[i], root, n <= ref_paths_upto);
        }
    }
    fprintf(stderr, "%s: trees of 1..%zu leaves, every leaf up to %zu: %.2f s\n",
            cv_suite_name(s), max_n, every_leaf_upto, (double)(clock() - t0) / CLOCKS_PER_SEC);
    free(leaves);
}

/* A million leaves (16,000 when quick): the root matches the recursive
 * definition, and proofs of the first, a middle and the last leaf verify. */
static void test_large_tree(void)
{
    size_t log_n = (size_t)check_scale(20, 14), n = ((size_t)1 << log_n) + 3;
    uint8_t *leaves = malloc(n * H);
    uint8_t root[H], ref[H], path[CV_MERKLE_MAX_DEPTH * H];
    size_t c;
    CHECK(ref_path_len(0, n) == log_n + 1 && ref_path_len(n - 1, n) == 2);
    for (size_t i = 0; i < n; i++) {
        memset(leaves + i * H, 0, H);
        memcpy(leaves + i * H, &i, sizeof i);
    }
    clock_t t0 = clock();
    CHECK_OK(cv_merkle_root(CV_SUITE_STD, leaves, n, root));
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    fprintf(stderr, "root of %zu leaves: %.3f s\n", n, secs);
    ref_root(CV_SUITE_STD, leaves, n, ref);
    CHECK(!memcmp(root, ref, H));
    size_t picks[] = {0, n / 2 + 1, n - 1};
    for (size_t i = 0; i < 3; i++) {
        CHECK_OK(cv_merkle_proof(CV_SUITE_STD, leaves, n, picks[i], path, &c));
        CHECK(c == ref_path_len(picks[i], n));
        CHECK_OK(cv_merkle_verify(CV_SUITE_STD, leaves + picks[i] * H, picks[i], n, path, c,
                                  root));
    }
    free(leaves);
}

/* cv_merkle_tree gives cv_merkle_root's root and cv_merkle_proof's path for
 * every leaf of every tree of 1..max_n leaves; refuses empty trees and
 * leaves outside the tree. */
static void test_tree(cv_suite s, size_t max_n)
{
    uint8_t *leaves = malloc(max_n * H);
    uint8_t root[H], path[CV_MERKLE_MAX_DEPTH * H], want[CV_MERKLE_MAX_DEPTH * H];
    size_t c, want_c;
    cv_merkle_tree t;
    make_leaves(s, leaves, max_n);
    CHECK_ERR(cv_merkle_tree_build(s, leaves, 0, &t), CV_EINVAL);
    for (size_t n = 1; n <= max_n; n++) {
        CHECK_OK(cv_merkle_tree_build(s, leaves, n, &t));
        CHECK_OK(cv_merkle_root(s, leaves, n, root));
        CHECK(!memcmp(cv_merkle_tree_root(&t), root, H));
        for (size_t m = 0; m < n; m++) {
            CHECK_OK(cv_merkle_tree_path(&t, m, path, &c));
            CHECK_OK(cv_merkle_proof(s, leaves, n, m, want, &want_c));
            CHECK(c == want_c && !memcmp(path, want, c * H));
        }
        CHECK_ERR(cv_merkle_tree_path(&t, n, path, &c), CV_EINVAL);
        cv_merkle_tree_free(&t);
    }
    free(leaves);
}

int main(void)
{
    CHECK_OK(cv_crypto_init());
    test_known_roots();
    test_known_proofs();
    test_bad_arguments();
    /* The tree logic does not depend on the suite: the full matrix runs with
     * SHA-256, and SM3 (3x slower) checks every leaf of the smaller trees.
     * Quick runs stop at 70 leaves (paths of 1 to 7 nodes). */
    size_t max_n = (size_t)check_scale(300, 70), ref_upto = (size_t)check_scale(100, 40);
    test_every_size(CV_SUITE_STD, max_n, ref_upto, max_n);
    test_every_size(CV_SUITE_GM, max_n, ref_upto, ref_upto);
    test_large_tree();
    test_tree(CV_SUITE_STD, (size_t)check_scale(300, 70));
    test_tree(CV_SUITE_GM, 40);
    return check_done();
}
