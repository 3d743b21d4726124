/* proof.h: notary receipts: the self-contained proof that a file (or any
 * hash) was stamped on a civitas chain, checked offline with nothing but the
 * chain's genesis file (docs/RECEIPT.md specifies the format and the
 * verification algorithm).
 *
 * A client hashes a batch of files with the chain's suite hash, builds an
 * RFC 6962 tree over the file hashes and stamps only its batch hash
 * H(0x02 || leaf count (8 bytes, big-endian) || tree root) (notary.stamp,
 * one transaction): the count is bound too, since an RFC 6962 audit path
 * alone fits several tree sizes. Each file then gets a receipt holding:
 *   chain       chain id, suite, genesis hash
 *   file        the file's hash, its leaf index, the batch size, its audit
 *               path and the batch root
 *   stamp       the signed stamp transaction, its hash, stamper, organisation
 *               and label, its index in the block, its audit path to the tx
 *               root, and its receipt entry with the path to the receipt root
 *   block       height, time, hash, header bytes and commit certificate
 *   validators  the genesis validator set, and every change of the set
 *               from genesis up to the block, each with the header and
 *               certificate by which the set before it chose it
 * Bytes that are hashed are carried as they are (hex); the readable fields
 * beside them are derived from those bytes and checked against them.
 *
 * The life of a receipt: cv_proof_build (from the chain's answers) and
 * cv_proof_set_file (per file) fill a cv_proof; cv_proof_render writes its
 * canonical JSON; cv_proof_parse reads one back (strictly: every member
 * present, none unknown, and the text exactly the canonical rendering of
 * what it holds); cv_proof_verify checks it against a genesis and the file's
 * hash. Every failure is a cv_err with a message that names the receipt
 * field that did not match. A cv_proof owns its byte buffers: free it with
 * cv_proof_free. */
#ifndef CV_PROOF_PROOF_H
#define CV_PROOF_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "apps/notary.h"
#include "base/buf.h"
#include "consensus/valset.h"
#include "crypto/merkle.h"
#include "ledger/genesis.h"

#define CV_PROOF_FORMAT "civitas-notary-receipt/1"
#define CV_PROOF_MAX_BYTES (8u << 20) /* largest receipt file accepted */
#define CV_PROOF_TIME_LEN 24          /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
#define CV_PROOF_INT_MAX (1ull << 53) /* integers in a receipt: JSON's exact range */
#define CV_PROOF_CHANGES_MAX 4096     /* validator-set changes one receipt may carry */

/* An RFC 6962 audit path, leaf to root. */
typedef struct {
    size_t n;
    uint8_t hashes[CV_MERKLE_MAX_DEPTH][CV_HASH_LEN];
} cv_proof_path;

/* A validator as a receipt lists it. */
typedef struct {
    char address[CV_ADDR_STR_MAX];
    uint8_t public_key[CV_PUB_MAX];
    size_t public_key_len;
    uint64_t power;
    char org[CV_ID_MAX + 1];
} cv_proof_validator;

/* A change of the validator set: the set that certifies the blocks from
 * height on, and the evidence that the set before it chose it: the header
 * of block height - 1, whose next validator-set hash is this set's, and that
 * block's commit certificate. */
typedef struct {
    uint64_t height;
    cv_buf header;
    cv_buf cert;
    size_t nvalidators;
    cv_proof_validator validators[CV_VALSET_MAX]; /* address order; org unused */
} cv_proof_change;

typedef struct {
    /* chain */
    char chain_id[CV_CHAIN_ID_MAX + 1];
    cv_suite suite;
    uint8_t genesis_hash[CV_HASH_LEN];
    /* file: its hash and place in the batch */
    uint8_t file_hash[CV_HASH_LEN];
    uint64_t file_index, file_count;
    cv_proof_path file_path;
    uint8_t batch_root[CV_HASH_LEN];
    /* stamp: the transaction and its receipt entry */
    cv_buf tx;
    uint8_t tx_hash[CV_HASH_LEN];
    char stamper[CV_ADDR_STR_MAX];
    char org[CV_ID_MAX + 1];
    char label[CV_NOTARY_LABEL_MAX + 1];
    uint64_t tx_index;
    cv_proof_path tx_path;
    cv_buf result;
    cv_proof_path result_path;
    /* block */
    uint64_t height;
    char time[CV_PROOF_TIME_LEN + 1];
    uint8_t block_hash[CV_HASH_LEN];
    cv_buf header;
    cv_buf cert;
    /* validators: the genesis set, in address order; the changes since, by
     * increasing height (owned) */
    size_t nvalidators;
    cv_proof_validator validators[CV_VALSET_MAX];
    cv_proof_change *changes;
    size_t nchanges;
} cv_proof;

void cv_proof_free(cv_proof *p);

/* ---- building ----------------------------------------------------------- */

/* Where a stamp transaction landed, as the chain reports it (RPC tx_get). */
typedef struct {
    cv_buf tx;              /* the signed transaction */
    uint64_t index;         /* its place in the block */
    cv_proof_path tx_path;  /* to the header's tx root */
    cv_buf result;          /* its receipt entry (ledger/receipt.h encoding) */
    cv_proof_path result_path; /* to the header's receipt root */
    cv_buf header;          /* the block header's encoding */
    cv_buf cert;            /* the block's commit certificate */
    cv_proof_change *changes; /* the validator-set changes up to the block, any order (owned) */
    size_t nchanges;
} cv_proof_anchor;

void cv_proof_anchor_free(cv_proof_anchor *a);

/* Reads an anchor from the result of RPC tx_get (docs/RPC.md), which may be
 * hostile: every member is checked, errors name it. */
int cv_proof_anchor_from_rpc(const json_t *tx_get, cv_proof_anchor *out);

/* Adds the change a node's RPC validators reply describes (docs/RPC.md:
 * {from_height, validators, header_raw, cert}), if the set it gives took
 * effect after genesis; 0 in *from for the genesis set. The reply may be
 * hostile: it is checked again when the receipt is verified. */
int cv_proof_anchor_add_change(cv_proof_anchor *a, const json_t *validators, uint64_t *from);

/* The hash that stamps a batch: H(0x02 || count (8 bytes, big-endian) ||
 * root) for the RFC 6962 tree of count file hashes with this root. */
int cv_proof_batch_hash(cv_suite suite, const uint8_t root[CV_HASH_LEN], uint64_t count, uint8_t out[CV_HASH_LEN]);

/* Fills p (all but its file section) from the anchor and the genesis: the
 * readable fields are derived from the bytes. */
int cv_proof_build(const cv_genesis *g, const cv_proof_anchor *a, cv_proof *p);

/* Sets p's file section to leaf index of the batch tree over the file
 * hashes (leaf i = H(0x00 || file hash i)), whose batch hash p's stamp
 * should stamp (cv_proof_verify checks that it does). */
int cv_proof_set_file(cv_proof *p, const cv_merkle_tree *batch, const uint8_t file_hash[CV_HASH_LEN],
                      size_t index);

/* ---- the JSON form -------------------------------------------------------- */

/* Appends the canonical JSON text of p (ending with a newline) to out. */
int cv_proof_render(const cv_proof *p, cv_buf *out);

/* Parses a receipt; CV_EINVAL naming the member that is missing, unknown,
 * of the wrong type or malformed, or the first byte where the text differs
 * from the canonical rendering of what it holds. Free with cv_proof_free. */
int cv_proof_parse(const uint8_t *text, size_t len, cv_proof *out);

/* ---- verification ----------------------------------------------------------- */

/* What a verified receipt proves. */
typedef struct {
    char stamper[CV_ADDR_STR_MAX];
    char org[CV_ID_MAX + 1];
    char label[CV_NOTARY_LABEL_MAX + 1];
    uint64_t height;
    uint64_t time_ms;
    char time[CV_PROOF_TIME_LEN + 1];
    uint8_t tx_hash[CV_HASH_LEN];
    uint8_t block_hash[CV_HASH_LEN];
    size_t nvalidators;               /* in the set that certified the block */
    size_t nsigners;                  /* validators whose signatures certify the block */
    cv_proof_validator signers[CV_VALSET_MAX]; /* they, with their genesis org ("" if none) */
    uint64_t signed_power, total_power;
} cv_proof_verdict;

/* Checks p against the chain's genesis and the hash of the file it claims to
 * cover (docs/RECEIPT.md, "Verification"): CV_OK and the verdict, or an
 * error naming the first field that does not match. */
int cv_proof_verify(const cv_proof *p, const cv_genesis *g, const uint8_t file_hash[CV_HASH_LEN],
                    cv_proof_verdict *out);

/* ---- validator sets ---------------------------------------------------------- */

/* The genesis validators as a receipt lists them: in address order (the
 * order of validator indices in certificates), with their organisations. */
int cv_proof_genesis_validators(const cv_genesis *g, cv_proof_validator *out, size_t *n);

/* The validator set that certified blocks at height: the genesis set, then
 * each of the receipt's changes up to height in turn, each checked: its
 * header is certified by the set before it and names it as the next set
 * (docs/RECEIPT.md §5). The one place that knows how sets follow from one
 * another; errors name the change and field that did not match. */
int cv_proof_signing_set(const cv_proof *p, const cv_genesis *g, uint64_t height, cv_valset *out);

#endif
