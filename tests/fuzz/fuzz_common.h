/* fuzz_common.h: what the libFuzzer targets of the ledger decoders and the
 * node configuration (fuzz_tx, fuzz_block, fuzz_receipt, fuzz_genesis,
 * fuzz_config) share: the entry points, crypto set up once before the first
 * input, and FUZZ_REQUIRE, which aborts (a crash to the fuzzer) naming the
 * violated invariant and the last error. Include it from exactly one file of
 * a target. */
#ifndef CV_FUZZ_COMMON_H
#define CV_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/suite.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_REQUIRE(cond) fuzz_require((cond), #cond, __FILE__, __LINE__)

static inline void fuzz_require(int ok, const char *what, const char *file, int line)
{
    if (!ok) {
        fprintf(stderr, "%s:%d: invariant violated: %s (last error: %s)\n", file, line, what,
                cv_errmsg());
        abort();
    }
}

/* Whether p[0..n) lies inside outer[0..outer_len). */
static inline int fuzz_inside(const uint8_t *p, size_t n, const uint8_t *outer, size_t outer_len)
{
    return p >= outer && n <= outer_len && (size_t)(p - outer) <= outer_len - n;
}

/* Whether b holds exactly p[0..n). */
static inline int fuzz_same(const cv_buf *b, const uint8_t *p, size_t n)
{
    return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_REQUIRE(cv_crypto_init() == CV_OK);
    return 0;
}

#endif
