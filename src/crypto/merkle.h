/* merkle.h: binary Merkle trees over the suite hash, exactly as RFC 6962
 * (RFC 9162 section 2.1) defines them for Certificate Transparency:
 *
 *   leaf hash   H(0x00 || data)
 *   node hash   H(0x01 || left || right)
 *   tree of n   split at k, the largest power of two smaller than n:
 *               MTH(D[n]) = H(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
 *   empty tree  H("")
 *
 * Trees are given as arrays of leaf hashes, n * CV_HASH_LEN bytes. An audit
 * path (inclusion proof) lists sibling hashes from the leaf up to the root,
 * as PATH in RFC 9162 2.1.3.1; cv_merkle_verify is the algorithm of 2.1.3.2,
 * so proofs interoperate with other RFC 6962 implementations (for the std
 * suite, SHA-256; the gm suite uses SM3 the same way). */
#ifndef CV_CRYPTO_MERKLE_H
#define CV_CRYPTO_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/suite.h"

/* The longest audit path: a tree of up to 2^64 leaves. */
#define CV_MERKLE_MAX_DEPTH 64

/* H(0x00 || data). */
int cv_merkle_leaf_hash(cv_suite suite, const void *data, size_t len,
                        uint8_t out[CV_HASH_LEN]);

/* The root of the tree of n leaf hashes (H("") when n is 0). Uses
 * O(log n) memory and n - 1 node hashes. */
int cv_merkle_root(cv_suite suite, const uint8_t *leaf_hashes, size_t n,
                   uint8_t out[CV_HASH_LEN]);

/* The audit path of leaf index in the tree of n leaf hashes: *path_count
 * hashes (at most CV_MERKLE_MAX_DEPTH) written to path, which must hold
 * CV_MERKLE_MAX_DEPTH * CV_HASH_LEN bytes. CV_EINVAL if index >= n. */
int cv_merkle_proof(cv_suite suite, const uint8_t *leaf_hashes, size_t n, size_t index,
                    uint8_t *path, size_t *path_count);

/* Checks that leaf_hash is leaf index of a tree of n leaves with this root,
 * given its audit path of path_count hashes. CV_OK if so; CV_EINVAL if the
 * proof is malformed (index >= n, a path of the wrong length for index and
 * n); CV_EBADSIG if the path does not lead to root. */
int cv_merkle_verify(cv_suite suite, const uint8_t leaf_hash[CV_HASH_LEN], uint64_t index,
                     uint64_t n, const uint8_t *path, size_t path_count,
                     const uint8_t root[CV_HASH_LEN]);

/* A whole tree kept in memory, for the audit paths of many of its leaves (a
 * batch of stamped files): level 0 holds the n leaf hashes, each level above
 * the node hashes of adjacent pairs of the level below, and a level's
 * unpaired last node is carried up unchanged. That is exactly RFC 6962's tree
 * (its split at the largest power of two below n leaves the same nodes), in
 * about 2n hashes of memory; a path then costs O(log n) instead of O(n). */
typedef struct {
    size_t n;                                    /* leaves (at least 1) */
    size_t levels;                               /* the root's level + 1 */
    size_t offset[CV_MERKLE_MAX_DEPTH + 1];      /* first node of each level, in nodes */
    size_t width[CV_MERKLE_MAX_DEPTH + 1];       /* nodes of each level */
    uint8_t *nodes;                              /* owned: every level, bottom up */
} cv_merkle_tree;

/* Builds the tree of n >= 1 leaf hashes; free it with cv_merkle_tree_free. */
int cv_merkle_tree_build(cv_suite suite, const uint8_t *leaf_hashes, size_t n, cv_merkle_tree *out);
void cv_merkle_tree_free(cv_merkle_tree *t);
/* The root (the last level's only node), as cv_merkle_root gives it. */
const uint8_t *cv_merkle_tree_root(const cv_merkle_tree *t);
/* The audit path of leaf index, as cv_merkle_proof gives it. */
int cv_merkle_tree_path(const cv_merkle_tree *t, size_t index, uint8_t *path, size_t *path_count);

#endif
