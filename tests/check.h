/* check.h: the minimal test harness every unit test uses.
 *
 * CHECK(cond) records a failure with file, line and the expression and goes
 * on; CHECK_OK(expr) expects CV_OK and prints cv_errmsg() if not;
 * CHECK_ERR(expr, code) expects a specific error code. main() ends with
 * `return check_done();`, which prints a summary and returns non-zero if any
 * check failed. check_scale(full, quick) sizes the heavy tests: it returns
 * quick when the environment variable CV_TEST_QUICK is set (as it is for the
 * runs under valgrind), so they do fewer rounds of the same checks. */
#ifndef CV_TESTS_CHECK_H
#define CV_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static int check_failures;
static long check_count;

#define CHECK(cond)                                                              \
    do {                                                                         \
        check_count++;                                                           \
        if (!(cond)) {                                                           \
            check_failures++;                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

#define CHECK_OK(expr)                                                           \
    do {                                                                         \
        check_count++;                                                           \
        int check_rc_ = (expr);                                                  \
        if (check_rc_ != CV_OK) {                                                \
            check_failures++;                                                    \
            fprintf(stderr, "%s:%d: %s returned %d (%s): %s\n", __FILE__, __LINE__, \
                    #expr, check_rc_, cv_strerror(check_rc_), cv_errmsg());      \
        }                                                                        \
    } while (0)

#define CHECK_ERR(expr, code)                                                    \
    do {                                                                         \
        check_count++;                                                           \
        int check_rc_ = (expr);                                                  \
        if (check_rc_ != (code)) {                                               \
            check_failures++;                                                    \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s)\n",    \
                    __FILE__, __LINE__, #expr, check_rc_, cv_strerror(check_rc_), \
                    (int)(code), cv_strerror(code));                             \
        }                                                                        \
    } while (0)

/* Expects cv_errmsg() to contain text (for error messages that must name what is wrong). */
#define CHECK_MSG(text)                                                          \
    do {                                                                         \
        check_count++;                                                           \
        if (!strstr(cv_errmsg(), (text))) {                                      \
            check_failures++;                                                    \
            fprintf(stderr, "%s:%d: error message \"%s\" lacks \"%s\"\n",       \
                    __FILE__, __LINE__, cv_errmsg(), (text));                    \
        }                                                                        \
    } while (0)

static inline long check_scale(long full, long quick)
{
    return getenv("CV_TEST_QUICK") ? quick : full;
}

static inline int check_done(void)
{
    fprintf(stderr, "%ld checks, %d failed\n", check_count, check_failures);
    return check_failures ? 1 : 0;
}

#endif
