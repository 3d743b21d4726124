/* err.c: per-thread last-error message (see err.h). */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_msg[512];

int cv_fail(int code, const char *fmt, ...)
{
    /* Formatted apart, then copied: callers add context to the last message
     * by passing cv_errmsg() as an argument, which must not be overwritten
     * while it is read. */
    char msg[sizeof last_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(last_msg, msg, sizeof msg);
    return code;
}

const char *cv_errmsg(void)
{
    return last_msg[0] ? last_msg : "no error recorded";
}

const char *cv_strerror(int code)
{
    switch (code) {
    case CV_OK: return "ok";
    case CV_ENOMEM: return "out of memory";
    case CV_EINVAL: return "invalid argument";
    case CV_EDECODE: return "malformed encoding";
    case CV_EBADSIG: return "bad signature";
    case CV_ECRYPTO: return "crypto failure";
    case CV_EIO: return "I/O error";
    case CV_EPERM: return "permission denied";
    case CV_ENOTFOUND: return "not found";
    case CV_EEXIST: return "already exists";
    case CV_EFULL: return "full";
    case CV_ESTATE: return "invalid state";
    default: return "unknown error";
    }
}
