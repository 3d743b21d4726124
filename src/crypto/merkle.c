/* merkle.c: RFC 6962 / RFC 9162 Merkle tree roots, audit paths and their
 * verification (see merkle.h).
 *
 * Roots are computed left to right with a stack of complete subtrees, one per
 * bit of the leaf count, instead of by recursion: the same tree as RFC 6962's
 * recursive split, in O(log n) memory. Each call hashes through one reused
 * cv_hasher. A cv_merkle_tree keeps every level instead, for many paths. */
#include "crypto/merkle.h"

#include <stdlib.h>
#include <string.h>

#include "base/err.h"

#define H CV_HASH_LEN

/* out = H(0x01 || left || right); out may alias left or right. */
static int node_hash(cv_hasher *h, const uint8_t *left, const uint8_t *right, uint8_t *out)
{
    uint8_t in[1 + 2 * H];
    in[0] = 0x01;
    memcpy(in + 1, left, H);
    memcpy(in + 1 + H, right, H);
    int rc = cv_hasher_update(h, in, sizeof in);
    return rc ? rc : cv_hasher_final(h, out);
}

/* The root of the subtree of n leaf hashes. */
static int subtree_root(cv_hasher *h, const uint8_t *leaves, size_t n, uint8_t out[H])
{
    if (n == 0)
        return cv_hasher_final(h, out); /* H("") */
    uint8_t stack[CV_MERKLE_MAX_DEPTH + 1][H];
    size_t top = 0;
    int rc = CV_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        memcpy(stack[top++], leaves + i * H, H);
        /* Leaf i completes one subtree of each size 2, 4, ... dividing i + 1. */
        for (size_t done = i + 1; !(done & 1) && !rc; done >>= 1, top--)
            rc = node_hash(h, stack[top - 2], stack[top - 1], stack[top - 2]);
    }
    /* What is left are complete subtrees of decreasing size: fold from the right. */
    for (; top > 1 && !rc; top--)
        rc = node_hash(h, stack[top - 2], stack[top - 1], stack[top - 2]);
    if (!rc)
        memcpy(out, stack[0], H);
    return rc;
}

/* The largest power of two smaller than n (n >= 2). */
static size_t split_point(size_t n)
{
    size_t k = 1;
    while (k <= (n - 1) / 2)
        k <<= 1;
    return k;
}

int cv_merkle_leaf_hash(cv_suite suite, const void *data, size_t len, uint8_t out[H])
{
    static const uint8_t prefix = 0x00;
    return cv_hash2(suite, &prefix, 1, data, len, out);
}

int cv_merkle_root(cv_suite suite, const uint8_t *leaf_hashes, size_t n, uint8_t out[H])
{
    cv_hasher h;
    int rc = cv_hasher_init(&h, suite);
    if (rc)
        return rc;
    rc = subtree_root(&h, leaf_hashes, n, out);
    cv_hasher_free(&h);
    return rc;
}

/* Reverses the order of the count hashes in path. */
static void reverse_hashes(uint8_t *path, size_t count)
{
    uint8_t tmp[H];
    for (size_t i = 0, j = count - 1; i < j; i++, j--) {
        memcpy(tmp, path + i * H, H);
        memcpy(path + i * H, path + j * H, H);
        memcpy(path + j * H, tmp, H);
    }
}

int cv_merkle_proof(cv_suite suite, const uint8_t *leaf_hashes, size_t n, size_t index,
                    uint8_t *path, size_t *path_count)
{
    *path_count = 0;
    if (index >= n)
        return cv_fail(CV_EINVAL, "leaf index %zu is outside a tree of %zu leaves", index, n);
    cv_hasher h;
    int rc = cv_hasher_init(&h, suite);
    if (rc)
        return rc;
    /* Walk down from the root; each step records the sibling subtree's root. */
    size_t lo = 0, size = n, count = 0;
    while (size > 1 && !rc) {
        size_t k = split_point(size);
        if (index - lo < k) {
            rc = subtree_root(&h, leaf_hashes + (lo + k) * H, size - k, path + count * H);
            size = k;
        } else {
            rc = subtree_root(&h, leaf_hashes + lo * H, k, path + count * H);
            lo += k;
            size -= k;
        }
        count++;
    }
    cv_hasher_free(&h);
    if (rc)
        return rc;
    if (count)
        reverse_hashes(path, count); /* RFC 9162 order: from the leaf up */
    *path_count = count;
    return CV_OK;
}

int cv_merkle_verify(cv_suite suite, const uint8_t leaf_hash[H], uint64_t index, uint64_t n,
                     const uint8_t *path, size_t path_count, const uint8_t root[H])
{
    if (index >= n)
        return cv_fail(CV_EINVAL, "leaf index %llu is outside a tree of %llu leaves",
                       (unsigned long long)index, (unsigned long long)n);
    cv_hasher h;
    int rc = cv_hasher_init(&h, suite);
    if (rc)
        return rc;
    uint8_t r[H];
    uint64_t fn = index, sn = n - 1;
    memcpy(r, leaf_hash, H);
    for (size_t i = 0; i < path_count && !rc; i++) {
        const uint8_t *p = path + i * H;
        if (sn == 0) {
            rc = cv_fail(CV_EINVAL, "audit path of %zu hashes is too long for leaf %llu of %llu",
                         path_count, (unsigned long long)index, (unsigned long long)n);
            break;
        }
        if ((fn & 1) || fn == sn) {
            rc = node_hash(&h, p, r, r);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else
            rc = node_hash(&h, r, p, r);
        fn >>= 1;
        sn >>= 1;
    }
    cv_hasher_free(&h);
    if (rc)
        return rc;
    if (sn != 0)
        return cv_fail(CV_EINVAL, "audit path of %zu hashes is too short for leaf %llu of %llu",
                       path_count, (unsigned long long)index, (unsigned long long)n);
    if (memcmp(r, root, H) != 0)
        return cv_fail(CV_EBADSIG, "audit path of leaf %llu of %llu does not lead to the root",
                       (unsigned long long)index, (unsigned long long)n);
    return CV_OK;
}

/* Fills level `level` of t from the one below it. */
static int build_level(cv_hasher *h, cv_merkle_tree *t, size_t level)
{
    const uint8_t *below = t->nodes + t->offset[level - 1] * H;
    size_t n = t->width[level - 1];
    uint8_t *out = t->nodes + t->offset[level] * H;
    int rc = CV_OK;
    for (size_t i = 0; i + 1 < n && !rc; i += 2)
        rc = node_hash(h, below + i * H, below + (i + 1) * H, out + (i / 2) * H);
    if (!rc && (n & 1))
        memcpy(out + (n / 2) * H, below + (n - 1) * H, H); /* unpaired: carried up */
    return rc;
}

int cv_merkle_tree_build(cv_suite suite, const uint8_t *leaf_hashes, size_t n, cv_merkle_tree *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return cv_fail(CV_EINVAL, "a Merkle tree needs at least one leaf");
    size_t total = 0, width = n, levels = 0;
    for (;; width = (width + 1) / 2) {
        out->offset[levels] = total;
        out->width[levels++] = width;
        total += width;
        if (width == 1)
            break;
    }
    out->n = n;
    out->levels = levels;
    if (n > SIZE_MAX / (2 * H) || !(out->nodes = malloc(total * H)))
        return cv_fail(CV_ENOMEM, "out of memory for a Merkle tree of %zu leaves", n);
    memcpy(out->nodes, leaf_hashes, n * H);
    cv_hasher h;
    int rc = cv_hasher_init(&h, suite);
    if (!rc) {
        for (size_t level = 1; level < levels && !rc; level++)
            rc = build_level(&h, out, level);
        cv_hasher_free(&h);
    }
    if (rc)
        cv_merkle_tree_free(out);
    return rc;
}

void cv_merkle_tree_free(cv_merkle_tree *t)
{
    free(t->nodes);
    memset(t, 0, sizeof *t);
}

const uint8_t *cv_merkle_tree_root(const cv_merkle_tree *t)
{
    return t->nodes + t->offset[t->levels - 1] * H;
}

int cv_merkle_tree_path(const cv_merkle_tree *t, size_t index, uint8_t *path, size_t *path_count)
{
    *path_count = 0;
    if (index >= t->n)
        return cv_fail(CV_EINVAL, "leaf index %zu is outside a tree of %zu leaves", index, t->n);
    size_t count = 0;
    for (size_t level = 0; level + 1 < t->levels; level++, index /= 2) {
        size_t sibling = index ^ 1;
        if (sibling < t->width[level]) /* else this node is carried up: no hash on the path */
            memcpy(path + count++ * H, t->nodes + (t->offset[level] + sibling) * H, H);
    }
    *path_count = count;
    return CV_OK;
}
