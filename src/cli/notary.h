/* notary.h: what the files of `civitas notary` share (cmd_notary.c runs the
 * commands; notary_files.c gathers a batch and writes its receipts).
 *
 * A batch is a list of entries, each a hash to stamp (a file's, or one given
 * in a hash list) and the path its receipt goes to:
 *   FILE...            FILE.receipt.json, or OUT/<file name>.receipt.json
 *   --dir DIR          every regular file under DIR (recursively, in
 *                      bytewise order of paths; symbolic links and existing
 *                      *.receipt.json files are left out): next to each
 *                      file, or under OUT at the file's path relative to DIR
 *   --hashes LIST      one hex hash per line: OUT/<hash>.receipt.json */
#ifndef CV_CLI_NOTARY_H
#define CV_CLI_NOTARY_H

#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"
#include "crypto/suite.h"

typedef struct {
    char *source;  /* the file to hash, or NULL for a listed hash */
    char *receipt; /* where its receipt goes */
} cli_entry;

typedef struct {
    size_t n, cap;
    cli_entry *entries;
    uint8_t (*hashes)[CV_HASH_LEN]; /* of the entries, once hashed */
} cli_batch;

void cli_batch_free(cli_batch *b);

/* Add entries; out_dir may be NULL (receipts next to the files). */
int cli_batch_add_file(const cli_args *a, cli_batch *b, const char *path, const char *out_dir);
int cli_batch_add_dir(const cli_args *a, cli_batch *b, const char *dir, const char *out_dir);
int cli_batch_add_hashes(const cli_args *a, cli_batch *b, const char *list, const char *out_dir);

/* Refuses a batch that is empty, or would overwrite a receipt, or write one
 * twice: checked before anything is stamped. */
int cli_batch_check(const cli_args *a, const cli_batch *b);

/* Hashes every file entry with the suite, printing progress on standard
 * error every `every` files (0: never). */
int cli_batch_hash(const cli_args *a, cli_batch *b, cv_suite suite, size_t every);

/* The suite hash of a file's contents, read in pieces. */
int cli_hash_file(const cli_args *a, cv_suite suite, const char *path, uint8_t out[CV_HASH_LEN]);

/* Writes a receipt to a new file (never over an existing one), creating its
 * directory if needed. */
int cli_write_receipt(const cli_args *a, const char *path, const cv_buf *text);

#endif
