/* fuzz_vote.c: libFuzzer target for the consensus decoders: votes,
 * proposals, commit certificates, validator sets (for both suites) and the
 * persisted consensus record.
 *
 * For every input and decoder: decoding either succeeds, and then encoding
 * the result gives back exactly the input (one encoding per value), or fails
 * with CV_EDECODE. Any violation aborts, which the fuzzer reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "consensus/tendermint.h"
#include "consensus/valset.h"
#include "consensus/vote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void expect_same(const char *what, int rc, const cv_buf *b, const uint8_t *data, size_t size)
{
    if (rc != CV_OK || b->len != size || memcmp(b->data, data, size) != 0) {
        fprintf(stderr, "%s: decoded input re-encodes differently (rc %d, %zu vs %zu bytes)\n", what, rc, b->len,
                size);
        abort();
    }
}

static void expect_decode_error(const char *what, int rc)
{
    if (rc != CV_EDECODE) {
        fprintf(stderr, "%s: decoder failed with %d (%s), not CV_EDECODE\n", what, rc, cv_errmsg());
        abort();
    }
}

static void check_valset(cv_suite suite, const uint8_t *data, size_t size, cv_buf *b)
{
    cv_valset *vs = malloc(sizeof *vs);
    int rc = vs ? cv_valset_decode(vs, suite, data, size) : CV_ENOMEM;
    if (rc == CV_OK) {
        cv_buf_reset(b);
        expect_same("validator set", cv_valset_encode(vs, b), b, data, size);
    } else if (vs) {
        expect_decode_error("validator set", rc);
    }
    free(vs);
}

static void check_suite(cv_suite suite, const uint8_t *data, size_t size, cv_buf *b)
{
    check_valset(suite, data, size, b);
    cv_vote v;
    cv_vote_proposal p;
    cv_cert *c = malloc(sizeof *c);
    int rc = cv_vote_decode(suite, data, size, &v);
    if (rc == CV_OK) {
        cv_buf_reset(b);
        expect_same("vote", cv_vote_encode(&v, b), b, data, size);
    } else {
        expect_decode_error("vote", rc);
    }
    rc = cv_vote_proposal_decode(suite, data, size, &p);
    if (rc == CV_OK) {
        cv_buf_reset(b);
        expect_same("proposal", cv_vote_proposal_encode(&p, b), b, data, size);
    } else {
        expect_decode_error("proposal", rc);
    }
    rc = c ? cv_cert_decode(suite, data, size, c) : CV_ENOMEM;
    if (rc == CV_OK) {
        cv_buf_reset(b);
        expect_same("certificate", cv_cert_encode(c, b), b, data, size);
    } else if (c) {
        expect_decode_error("certificate", rc);
    }
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cv_buf b = {0};
    cv_bft_record r;
    check_suite(CV_SUITE_STD, data, size, &b);
    check_suite(CV_SUITE_GM, data, size, &b);
    int rc = cv_bft_record_decode(data, size, &r);
    if (rc == CV_OK) {
        cv_buf_reset(&b);
        expect_same("record", cv_bft_record_encode(&r, &b), &b, data, size);
    } else {
        expect_decode_error("record", rc);
    }
    cv_buf_free(&b);
    return 0;
}
