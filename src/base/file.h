/* file.h: whole-file reads and durable writes. */
#ifndef CV_BASE_FILE_H
#define CV_BASE_FILE_H

#include <stddef.h>

#include "base/buf.h"

/* Reads the whole file into out (replacing its contents). Files larger than
 * max_len are refused with CV_EINVAL so that a hostile path cannot exhaust
 * memory. */
int cv_file_read(const char *path, size_t max_len, cv_buf *out);

/* Writes data to path durably: a temporary file in the same directory with
 * the given mode, fsync, rename over path, fsync of the directory. With
 * exclusive set, an existing path is refused with CV_EEXIST. */
int cv_file_write(const char *path, const void *data, size_t len, int mode, int exclusive);

/* CV_EPERM, naming the file, if path can be read by its group or by others. */
int cv_file_check_private(const char *path);

#endif
