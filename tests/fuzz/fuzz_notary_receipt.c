/* fuzz_notary_receipt.c: libFuzzer target for notary receipts (proof/proof.h).
 *
 * An input is a receipt, or a genesis document, a NUL byte and a receipt
 * (so that inputs can reach the whole verification). cv_proof_parse must
 * accept the receipt or fail with CV_EINVAL; what it accepts must render
 * back to exactly its text (the canonical form is the only form). With a
 * genesis that parses, cv_proof_verify must return without crashing; a
 * receipt it accepts must carry the genesis's chain id and genesis hash and
 * a certificate whose signers hold more than two thirds of the power. */
#include "fuzz_common.h"
#include "proof/proof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    const uint8_t *text = nul ? nul + 1 : data;
    size_t len = nul ? size - (size_t)(text - data) : size;
    cv_proof *p = calloc(1, sizeof *p);
    FUZZ_REQUIRE(p != NULL);
    int rc = cv_proof_parse(text, len, p);
    FUZZ_REQUIRE(rc == CV_OK || rc == CV_EINVAL);
    if (rc == CV_OK) {
        cv_buf again = {0};
        FUZZ_REQUIRE(cv_proof_render(p, &again) == CV_OK && fuzz_same(&again, text, len));
        cv_buf_free(&again);
    }
    cv_genesis g;
    if (rc == CV_OK && nul && cv_genesis_parse((const char *)data, (size_t)(nul - data), &g) == CV_OK) {
        cv_proof_verdict v;
        if (cv_proof_verify(p, &g, p->file_hash, &v) == CV_OK) {
            FUZZ_REQUIRE(strcmp(p->chain_id, g.chain.chain_id) == 0);
            FUZZ_REQUIRE(memcmp(p->genesis_hash, g.chain.genesis_hash, CV_HASH_LEN) == 0);
            FUZZ_REQUIRE(3 * v.signed_power > 2 * v.total_power && v.nsigners >= 1);
        }
        cv_genesis_free(&g);
    }
    cv_proof_free(p);
    free(p);
    return 0;
}
