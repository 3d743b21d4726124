/* internal.h: what the files of src/proof share: the facts derived from a
 * receipt's bytes (derive.c), which building fills in and verification
 * compares.
 *
 *   derive.c    facts of the stamp transaction, its receipt entry, the header
 *   build.c     a receipt from the chain's answers
 *   anchor.c    the chain's answers from an RPC tx_get reply
 *   parse.c     receipt JSON -> cv_proof (strict)
 *   render.c    cv_proof -> canonical receipt JSON
 *   verify.c    the verification algorithm
 *   signers.c   validator sets: the genesis list, the changes, the set of a
 *               height */
#ifndef CV_PROOF_INTERNAL_H
#define CV_PROOF_INTERNAL_H

#include "ledger/block.h"
#include "ledger/receipt.h"
#include "proof/proof.h"

/* What a notary.stamp transaction says. */
typedef struct {
    cv_tx tx;                          /* decoded; points into the bytes */
    uint8_t stamped[CV_HASH_LEN];      /* the stamped hash: a batch hash */
    char label[CV_NOTARY_LABEL_MAX + 1];
    char stamper[CV_ADDR_STR_MAX];     /* the sender's address */
} cv_proof_stamp_facts;

/* What the stamp's receipt entry says. */
typedef struct {
    uint8_t tx_hash[CV_HASH_LEN];
    uint64_t status;                   /* 0: the stamp succeeded */
    char error[CV_ERROR_MAX + 1];
    int stamped;                       /* a notary "stamped" event is present */
    char hash[2 * CV_HASH_LEN + 1];    /* its attributes */
    char label[CV_NOTARY_LABEL_MAX + 1];
    char org[CV_ID_MAX + 1];
} cv_proof_result_facts;

/* What the block header says. */
typedef struct {
    cv_header header;
    uint8_t hash[CV_HASH_LEN];         /* the block hash: H(header bytes) */
    char time[CV_PROOF_TIME_LEN + 1];  /* header time in UTC, ISO 8601 */
} cv_proof_header_facts;

/* Each names the receipt field ("stamp.tx", ...) in its errors. */
int cv_proof_stamp_of(cv_suite suite, const cv_buf *tx, cv_proof_stamp_facts *out);
int cv_proof_result_of(const cv_buf *result, cv_proof_result_facts *out);
int cv_proof_header_of(cv_suite suite, const cv_buf *header, cv_proof_header_facts *out);

/* JSON values (parse.c), named `what` in errors: lowercase hex of 1 to max
 * bytes (exactly max with exact) into out; an audit path of hex hashes. */
int cv_proof_hex_value(const json_t *v, const char *what, size_t max, int exact, cv_buf *out);
int cv_proof_path_value(const json_t *v, const char *what, cv_proof_path *out);

/* Frees n changes and the array (signers.c). */
void cv_proof_changes_free(cv_proof_change *c, size_t n);
/* Copies n changes, sorted by height, into a new array (signers.c). */
int cv_proof_changes_copy(const cv_proof_change *from, size_t n, cv_proof_change **out);

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" of a time in ms since the Unix epoch; CV_EINVAL
 * after the year 9999. */
int cv_proof_format_time(uint64_t time_ms, char out[CV_PROOF_TIME_LEN + 1]);

#endif
