/* args.c: option parsing, error reporting and passphrase input (cli.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "base/err.h"
#include "base/file.h"
#include "cli/cli.h"

static int usage_error(const cli_args *a, const char *fmt, const char *arg)
{
    fprintf(stderr, "civitas %s: ", a->cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: civitas %s\n", a->usage);
    return 2;
}

static cli_opt *find_opt(cli_args *a, const char *name)
{
    for (size_t i = 0; i < a->nopts; i++)
        if (strcmp(a->opts[i].name, name) == 0)
            return &a->opts[i];
    return NULL;
}

int cli_parse(cli_args *a, int argc, char **argv, int min_pos, int max_pos)
{
    a->npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            printf("usage: civitas %s\n", a->usage);
            exit(0);
        }
        if (arg[0] == '-' && arg[1] != '\0') {
            cli_opt *o = find_opt(a, arg);
            if (!o)
                return usage_error(a, "unknown option %s", arg);
            if (o->value)
                return usage_error(a, "option %s given twice", arg);
            if (o->takes_value && i + 1 >= argc)
                return usage_error(a, "option %s needs a value", arg);
            o->value = o->takes_value ? argv[++i] : "";
            continue;
        }
        if (a->npos >= max_pos || a->npos >= CLI_MAX_POS)
            return usage_error(a, "unexpected argument \"%s\"", arg);
        a->pos[a->npos++] = arg;
    }
    if (a->npos < min_pos)
        return usage_error(a, "%s", "missing argument");
    return 0;
}

const char *cli_get(const cli_args *a, const char *name)
{
    for (size_t i = 0; i < a->nopts; i++)
        if (strcmp(a->opts[i].name, name) == 0)
            return a->opts[i].value;
    return NULL;
}

int cli_fail(const cli_args *a, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "civitas %s: ", a->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int cli_usage(const cli_args *a, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "civitas %s: ", a->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: civitas %s\n", a->usage);
    return 2;
}

int cli_fail_cv(const cli_args *a)
{
    return cli_fail(a, "%s", cv_errmsg());
}

/* Reads one line from the terminal with echo off. */
static int prompt_line(const char *prompt, char *out, size_t cap)
{
    struct termios old, quiet;
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return -1;
    quiet = old;
    quiet.c_lflag &= (tcflag_t)~ECHO;
    fprintf(stderr, "%s", prompt);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    char *got = fgets(out, (int)cap, stdin);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    if (!got)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int passphrase_from_file(const cli_args *a, const char *path, char *out, size_t cap)
{
    cv_buf b = {0};
    if (cv_file_read(path, cap - 1, &b) != CV_OK)
        return cli_fail_cv(a);
    size_t n = b.len;
    while (n > 0 && (b.data[n - 1] == '\n' || b.data[n - 1] == '\r'))
        n--;
    memcpy(out, b.data, n);
    out[n] = '\0';
    cv_buf_free(&b);
    return 0;
}

int cli_passphrase(const cli_args *a, int required, int confirm, char *out, size_t cap, const char **result)
{
    const char *file = cli_get(a, "--passphrase-file");
    const char *env = getenv("CIVITAS_PASSPHRASE");
    *result = NULL;
    if (file) {
        if (passphrase_from_file(a, file, out, cap))
            return 1;
    } else if (env) {
        if (strlen(env) >= cap)
            return cli_fail(a, "CIVITAS_PASSPHRASE is longer than %zu characters", cap - 1);
        strcpy(out, env);
    } else if (required && isatty(STDIN_FILENO)) {
        char again[256];
        if (prompt_line("Passphrase: ", out, cap) != 0)
            return cli_fail(a, "no passphrase entered");
        if (confirm && (prompt_line("Repeat passphrase: ", again, sizeof again) != 0 ||
                        strcmp(again, out) != 0)) {
            sodium_memzero(again, sizeof again);
            return cli_fail(a, "the passphrases differ");
        }
        sodium_memzero(again, sizeof again);
    } else if (required) {
        return cli_fail(a, "a passphrase is needed: give --passphrase-file FILE or set CIVITAS_PASSPHRASE");
    } else {
        return 0;
    }
    if (out[0] == '\0')
        return cli_fail(a, "the passphrase is empty");
    *result = out;
    return 0;
}

int cli_read_input(const cli_args *a, const char *path, size_t max, cv_buf *out)
{
    if (strcmp(path, "-") != 0)
        return cv_file_read(path, max, out) == CV_OK ? 0 : cli_fail_cv(a);
    cv_buf_reset(out);
    for (;;) {
        if (cv_buf_reserve(out, 65536) != CV_OK)
            return cli_fail_cv(a);
        size_t n = fread(out->data + out->len, 1, out->cap - out->len, stdin);
        out->len += n;
        if (out->len > max)
            return cli_fail(a, "standard input is larger than %zu bytes", max);
        if (n == 0)
            return ferror(stdin) ? cli_fail(a, "cannot read standard input: %s", strerror(errno)) : 0;
    }
}
