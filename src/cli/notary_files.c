/* notary_files.c: the batch of `civitas notary stamp` (notary.h): entries
 * from file names, a directory tree or a hash list, their hashes (files read
 * in pieces), and the receipt files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "cli/notary.h"

#define RECEIPT_SUFFIX ".receipt.json"
#define PATH_MAX_LEN 4096
#define LIST_MAX ((size_t)1 << 30) /* largest hash list read */

void cli_batch_free(cli_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->entries[i].source);
        free(b->entries[i].receipt);
    }
    free(b->entries);
    free(b->hashes);
    memset(b, 0, sizeof *b);
}

/* "a" + "b" + "c" in a new string, or NULL if too long or out of memory. */
static char *join3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = la + lb + lc < PATH_MAX_LEN ? malloc(la + lb + lc + 1) : NULL;
    if (s) {
        memcpy(s, a, la);
        memcpy(s + la, b, lb);
        memcpy(s + la + lb, c, lc + 1);
    }
    return s;
}

/* Appends an entry (taking source and receipt, which may be NULL on failure). */
static int add_entry(const cli_args *a, cli_batch *b, char *source, char *receipt)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 64;
        cli_entry *e = realloc(b->entries, cap * sizeof *e);
        uint8_t(*h)[CV_HASH_LEN] = e ? realloc(b->hashes, cap * CV_HASH_LEN) : NULL;
        if (e)
            b->entries = e;
        if (h) {
            b->hashes = h;
            b->cap = cap;
        }
    }
    if (b->n == b->cap || !receipt) {
        free(source);
        free(receipt);
        return cli_fail(a, "out of memory, or a path longer than %d bytes", PATH_MAX_LEN);
    }
    b->entries[b->n++] = (cli_entry){source, receipt};
    return 0;
}

int cli_batch_add_file(const cli_args *a, cli_batch *b, const char *path, const char *out_dir)
{
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char *receipt = out_dir ? join3(out_dir, "/", name) : NULL;
    char *full = join3(receipt ? receipt : path, RECEIPT_SUFFIX, "");
    free(receipt);
    char *source = strdup(path);
    if (!source) {
        free(full);
        return cli_fail(a, "out of memory");
    }
    return add_entry(a, b, source, full);
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The names in directory path, sorted bytewise; *n of them. */
static int list_dir(const cli_args *a, const char *path, char ***names, size_t *n)
{
    DIR *d = opendir(path);
    struct dirent *e;
    size_t cap = 0;
    *names = NULL;
    *n = 0;
    if (!d)
        return cli_fail(a, "cannot open directory %s: %s", path, strerror(errno));
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (*n == cap) {
            char **more = realloc(*names, (cap = cap ? 2 * cap : 32) * sizeof *more);
            if (!more) {
                rc = cli_fail(a, "out of memory listing %s", path);
                break;
            }
            *names = more;
        }
        if (!((*names)[*n] = strdup(e->d_name)))
            rc = cli_fail(a, "out of memory listing %s", path);
        else
            (*n)++;
    }
    closedir(d);
    if (!rc && *n)
        qsort(*names, *n, sizeof **names, by_name);
    return rc;
}

/* Adds the regular files under dir/rel (rel "" at the top). */
static int walk(const cli_args *a, cli_batch *b, const char *dir, const char *rel, const char *out_dir)
{
    char **names;
    size_t n;
    char *here = join3(dir, rel[0] ? "/" : "", rel);
    int rc = here ? list_dir(a, here, &names, &n) : cli_fail(a, "path too long under %s", dir);
    for (size_t i = 0; !rc && i < n; i++) {
        struct stat st;
        char *sub = join3(rel, rel[0] ? "/" : "", names[i]), *path = sub ? join3(dir, "/", sub) : NULL;
        if (!path)
            rc = cli_fail(a, "path too long under %s", dir);
        else if (lstat(path, &st) != 0)
            rc = cli_fail(a, "cannot stat %s: %s", path, strerror(errno));
        else if (S_ISDIR(st.st_mode))
            rc = walk(a, b, dir, sub, out_dir);
        else if (S_ISREG(st.st_mode) && !ends_with(names[i], RECEIPT_SUFFIX)) {
            char *receipt = join3(out_dir ? out_dir : dir, "/", sub), *full = receipt ? join3(receipt, RECEIPT_SUFFIX, "") : NULL;
            free(receipt);
            rc = add_entry(a, b, path, full);
            path = NULL; /* taken */
        }
        free(sub);
        free(path);
    }
    for (size_t i = 0; here && i < n; i++)
        free(names[i]);
    if (here)
        free(names);
    free(here);
    return rc;
}

int cli_batch_add_dir(const cli_args *a, cli_batch *b, const char *dir, const char *out_dir)
{
    return walk(a, b, dir, "", out_dir);
}

/* Adds the hash on one line (line_no counts from 1). */
static int add_listed(const cli_args *a, cli_batch *b, const char *line, size_t len, size_t line_no,
                      const char *out_dir)
{
    char hex[2 * CV_HASH_LEN + 1];
    uint8_t hash[CV_HASH_LEN];
    if (len != 2 * CV_HASH_LEN)
        return cli_fail(a, "hash list line %zu: expected %d hex digits, found %zu characters", line_no,
                        2 * CV_HASH_LEN, len);
    memcpy(hex, line, len);
    hex[len] = '\0';
    if (cv_hex_decode(hex, hash, CV_HASH_LEN) != CV_OK)
        return cli_fail(a, "hash list line %zu: \"%s\" is not hex", line_no, hex);
    cv_hex_encode(hash, CV_HASH_LEN, hex); /* receipts are named in lowercase */
    char *receipt = join3(out_dir, "/", hex), *full = receipt ? join3(receipt, RECEIPT_SUFFIX, "") : NULL;
    free(receipt);
    int rc = add_entry(a, b, NULL, full);
    if (!rc)
        memcpy(b->hashes[b->n - 1], hash, CV_HASH_LEN);
    return rc;
}

int cli_batch_add_hashes(const cli_args *a, cli_batch *b, const char *list, const char *out_dir)
{
    cv_buf text = {0};
    if (!out_dir)
        return cli_usage(a, "--hashes needs --out DIR for the receipts");
    if (cv_file_read(list, LIST_MAX, &text) != CV_OK)
        return cli_fail_cv(a);
    int rc = 0;
    size_t line_no = 0;
    for (size_t at = 0; !rc && at < text.len;) {
        const char *line = (const char *)text.data + at;
        const char *nl = memchr(line, '\n', text.len - at);
        size_t len = nl ? (size_t)(nl - line) : text.len - at;
        at += len + (nl != NULL);
        line_no++;
        if (len && line[len - 1] == '\r')
            len--;
        if (len)
            rc = add_listed(a, b, line, len, line_no, out_dir);
    }
    cv_buf_free(&text);
    return rc;
}

static int by_receipt(const void *x, const void *y)
{
    return strcmp(((const cli_entry *)x)->receipt, ((const cli_entry *)y)->receipt);
}

int cli_batch_check(const cli_args *a, const cli_batch *b)
{
    if (b->n == 0)
        return cli_fail(a, "nothing to stamp: no files found");
    cli_entry *sorted = malloc(b->n * sizeof *sorted);
    if (!sorted)
        return cli_fail(a, "out of memory");
    memcpy(sorted, b->entries, b->n * sizeof *sorted);
    qsort(sorted, b->n, sizeof *sorted, by_receipt);
    int rc = 0;
    for (size_t i = 0; i < b->n && !rc; i++) {
        if (i > 0 && strcmp(sorted[i].receipt, sorted[i - 1].receipt) == 0)
            rc = cli_fail(a, "two entries of the batch would write the receipt %s (the same name twice)",
                          sorted[i].receipt);
        else if (access(sorted[i].receipt, F_OK) == 0)
            rc = cli_fail(a, "%s already exists: move it away (it may prove an earlier stamp) or use --out DIR",
                          sorted[i].receipt);
    }
    free(sorted);
    return rc;
}

int cli_hash_file(const cli_args *a, cv_suite suite, const char *path, uint8_t out[CV_HASH_LEN])
{
    static uint8_t chunk[1 << 16];
    cv_hasher h;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
    if (fd < 0)
        return cli_fail(a, "cannot open %s: %s", path, strerror(errno));
    if (cv_hasher_init(&h, suite) != CV_OK) {
        close(fd);
        return cli_fail_cv(a);
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = cli_fail(a, "cannot read %s: %s", path, strerror(errno));
        else if (n > 0 && cv_hasher_update(&h, chunk, (size_t)n) != CV_OK)
            rc = cli_fail_cv(a);
        if (rc || n == 0)
            break;
    }
    if (!rc && cv_hasher_final(&h, out) != CV_OK)
        rc = cli_fail_cv(a);
    cv_hasher_free(&h);
    close(fd);
    return rc;
}

int cli_batch_hash(const cli_args *a, cli_batch *b, cv_suite suite, size_t every)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->entries[i].source && cli_hash_file(a, suite, b->entries[i].source, b->hashes[i]))
            return 1;
        if (every && ((i + 1) % every == 0 || i + 1 == b->n))
            fprintf(stderr, "hashed %zu of %zu files\n", i + 1, b->n);
    }
    return 0;
}

/* Creates the directories leading to path (mode 0755), as mkdir -p. */
static int make_parents(const cli_args *a, const char *path)
{
    char dir[PATH_MAX_LEN];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return cli_fail(a, "cannot create directory %s: %s", dir, strerror(errno));
        *p = '/';
    }
    return 0;
}

int cli_write_receipt(const cli_args *a, const char *path, const cv_buf *text)
{
    if (make_parents(a, path))
        return 1;
    FILE *f = fopen(path, "wx");
    if (!f)
        return cli_fail(a, "cannot create %s: %s", path, strerror(errno));
    int ok = fwrite(text->data, 1, text->len, f) == text->len;
    if (fclose(f) != 0 || !ok) {
        unlink(path);
        return cli_fail(a, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}
