/* err.h: error codes shared by every layer, and the thread's last error text.
 *
 * Functions return CV_OK (0) or a negative cv_err. A function that fails
 * for a reason worth telling records a one-line message with cv_fail(), which
 * returns the code so that callers can write `return cv_fail(CV_EINVAL, ...)`.
 * cv_errmsg() gives the message of the thread's most recent failure. */
#ifndef CV_BASE_ERR_H
#define CV_BASE_ERR_H

typedef enum {
    CV_OK = 0,
    CV_ENOMEM = -1,    /* allocation failed */
    CV_EINVAL = -2,    /* bad argument or malformed input */
    CV_EDECODE = -3,   /* not a canonical encoding */
    CV_EBADSIG = -4,   /* signature does not verify */
    CV_ECRYPTO = -5,   /* crypto library failure */
    CV_EIO = -6,       /* file or socket I/O failed */
    CV_EPERM = -7,     /* refused: permissions or role */
    CV_ENOTFOUND = -8, /* no such item */
    CV_EEXIST = -9,    /* already exists (duplicate) */
    CV_EFULL = -10,    /* capacity reached */
    CV_ESTATE = -11,   /* operation not valid in this state */
} cv_err;

/* Records a printf-style message for this thread and returns code. */
int cv_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The message of this thread's last cv_fail(), or a generic text for code. */
const char *cv_errmsg(void);

/* A fixed name for an error code ("invalid argument", ...). */
const char *cv_strerror(int code);

#endif
