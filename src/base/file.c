/* file.c: whole-file reads and durable, atomic writes (see file.h). */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"

int cv_file_read(const char *path, size_t max_len, cv_buf *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cv_fail(CV_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    int rc = CV_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = cv_fail(CV_EINVAL, "%s is not a regular file", path);
        goto done;
    }
    if ((unsigned long long)st.st_size > max_len) {
        rc = cv_fail(CV_EINVAL, "%s is too large (%lld bytes, limit %zu)", path,
                     (long long)st.st_size, max_len);
        goto done;
    }
    cv_buf_reset(out);
    for (;;) {
        if ((rc = cv_buf_reserve(out, 65536)))
            goto done;
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = cv_fail(CV_EIO, "cannot read %s: %s", path, strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
        if (out->len > max_len) {
            rc = cv_fail(CV_EINVAL, "%s grew beyond the %zu-byte limit while read", path, max_len);
            goto done;
        }
    }
done:
    close(fd);
    return rc;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fsync_parent_dir(const char *path)
{
    char copy[4096];
    if (strlen(path) >= sizeof copy)
        return -1;
    strcpy(copy, path);
    int dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int rc = fsync(dfd);
    close(dfd);
    return rc;
}

int cv_file_write(const char *path, const void *data, size_t len, int mode, int exclusive)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return cv_fail(CV_EINVAL, "path too long: %s", path);
    if (exclusive && access(path, F_OK) == 0)
        return cv_fail(CV_EEXIST, "%s already exists; not overwriting it", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return cv_fail(CV_EIO, "cannot create %s: %s", tmp, strerror(errno));
    /* The umask may have narrowed the mode; set it exactly. */
    if (fchmod(fd, (mode_t)mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return cv_fail(CV_EIO, "cannot write %s: %s", path, strerror(e));
    }
    close(fd);
    int linked = exclusive ? link(tmp, path) : rename(tmp, path);
    int e = errno;
    if (exclusive)
        unlink(tmp);
    if (linked != 0) {
        unlink(tmp);
        if (e == EEXIST)
            return cv_fail(CV_EEXIST, "%s already exists; not overwriting it", path);
        return cv_fail(CV_EIO, "cannot create %s: %s", path, strerror(e));
    }
    if (fsync_parent_dir(path) != 0)
        return cv_fail(CV_EIO, "cannot sync the directory of %s: %s", path, strerror(errno));
    return CV_OK;
}

int cv_file_check_private(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return cv_fail(CV_EIO, "cannot stat %s: %s", path, strerror(errno));
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        return cv_fail(CV_EPERM,
                       "%s is accessible by group or others (mode %03o); "
                       "a private key file must be 0600: chmod 600 %s",
                       path, (unsigned)(st.st_mode & 0777), path);
    return CV_OK;
}
