/* cmd_crypto.c: key management and crypto subcommands for interop and
 * debugging: keygen, key (show, export-pub, export-priv, import), hash,
 * sign, verify. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "base/err.h"
#include "base/file.h"
#include "cli/cli.h"
#include "crypto/keyfile.h"
#include "crypto/suite.h"

#define SIGN_INPUT_MAX ((size_t)1 << 30)
#define PEM_INPUT_MAX ((size_t)1 << 16)
#define PASS_MAX 256

static void print_key_summary(const cv_pubkey *key, const char *path)
{
    char addr[CV_ADDR_STR_MAX], pub[2 * CV_PUB_MAX + 1];
    cv_address_string(key, addr);
    cv_hex_encode(key->bytes, key->len, pub);
    printf("file:    %s\nsuite:   %s\naddress: %s\npublic:  %s\n", path, cv_suite_name(key->suite), addr, pub);
}

/* Loads a key file, asking for its passphrase when it is encrypted. */
static int load_key(const cli_args *a, const char *path, cv_keypair *key)
{
    char pass[PASS_MAX];
    const char *passphrase = NULL;
    int enc = cv_keyfile_is_encrypted(path);
    if (enc < 0)
        return cli_fail_cv(a);
    if (enc && cli_passphrase(a, 1, 0, pass, sizeof pass, &passphrase))
        return 1;
    int rc = cv_keyfile_read(path, passphrase, key);
    sodium_memzero(pass, sizeof pass);
    return rc == CV_OK ? 0 : cli_fail_cv(a);
}

/* Writes key to path, encrypted when a passphrase is given or --encrypt asks for one. */
static int save_key(const cli_args *a, const char *path, const cv_keypair *key)
{
    char pass[PASS_MAX];
    const char *passphrase = NULL;
    if (cli_passphrase(a, cli_get(a, "--encrypt") != NULL, 1, pass, sizeof pass, &passphrase))
        return 1;
    int rc = cv_keyfile_write(path, key, passphrase);
    sodium_memzero(pass, sizeof pass);
    if (rc)
        return cli_fail_cv(a);
    print_key_summary(&key->pub, path);
    printf("encrypted: %s\n", passphrase ? "yes" : "no");
    return 0;
}

int cmd_keygen(int argc, char **argv)
{
    cli_opt opts[] = {{"--suite", 1, NULL}, {"-o", 1, NULL}, {"--encrypt", 0, NULL},
                      {"--passphrase-file", 1, NULL}};
    cli_args a = {"keygen", "keygen --suite std|gm -o FILE [--encrypt] [--passphrase-file FILE]",
                  opts, 4, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 0, 0);
    if (rc)
        return rc;
    const char *suite_name = cli_get(&a, "--suite"), *out = cli_get(&a, "-o");
    cv_suite suite;
    if (!suite_name || !out)
        return cli_usage(&a, "--suite and -o are required");
    if (cv_suite_parse(suite_name, &suite))
        return cli_fail_cv(&a);
    cv_keypair key;
    if (cv_key_generate(suite, &key))
        return cli_fail_cv(&a);
    rc = save_key(&a, out, &key);
    cv_key_wipe(&key);
    return rc;
}

static int key_import(cli_args *a)
{
    const char *out = cli_get(a, "-o");
    if (!out)
        return cli_usage(a, "import needs -o FILE");
    cv_buf pem = {0};
    cv_keypair key;
    if (cli_read_input(a, a->pos[1], PEM_INPUT_MAX, &pem))
        return 1;
    int rc = cv_pem_read_private((const char *)pem.data, pem.len, &key);
    cv_buf_free(&pem);
    if (rc)
        return cli_fail_cv(a);
    rc = save_key(a, out, &key);
    cv_key_wipe(&key);
    return rc;
}

/* key show / key export-pub: only the public part, so no passphrase. */
static int key_show_public(const cli_args *a, const char *path, int summary)
{
    cv_pubkey pub;
    cv_buf pem = {0};
    if (cv_keyfile_read_public(path, &pub) != CV_OK)
        return cli_fail_cv(a);
    if (summary) {
        print_key_summary(&pub, path);
        return 0;
    }
    if (cv_pem_write_public(&pub, &pem) != CV_OK)
        return cli_fail_cv(a);
    fwrite(pem.data, 1, pem.len, stdout);
    cv_buf_free(&pem);
    return 0;
}

int cmd_key(int argc, char **argv)
{
    cli_opt opts[] = {{"-o", 1, NULL}, {"--encrypt", 0, NULL}, {"--passphrase-file", 1, NULL}};
    cli_args a = {"key", "key show|export-pub|export-priv KEYFILE | key import PEMFILE -o FILE [--encrypt]",
                  opts, 3, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 2, 2);
    if (rc)
        return rc;
    const char *sub = a.pos[0], *path = a.pos[1];
    if (strcmp(sub, "import") == 0)
        return key_import(&a);
    if (strcmp(sub, "show") == 0 || strcmp(sub, "export-pub") == 0)
        return key_show_public(&a, path, strcmp(sub, "show") == 0);
    if (strcmp(sub, "export-priv") != 0)
        return cli_usage(&a, "unknown key command \"%s\"", sub);
    cv_keypair key;
    if (load_key(&a, path, &key))
        return 1;
    cv_buf pem = {0};
    if (cv_pem_write_private(&key, &pem) != CV_OK)
        rc = cli_fail_cv(&a);
    else
        fwrite(pem.data, 1, pem.len, stdout);
    cv_buf_free(&pem);
    cv_key_wipe(&key);
    return rc;
}

/* Hashes a file in chunks, so any size works. */
static int hash_stream(const cli_args *a, cv_suite suite, const char *path, uint8_t out[CV_HASH_LEN])
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return cli_fail(a, "cannot open %s", path);
    cv_hasher h;
    uint8_t chunk[65536];
    size_t n;
    int rc = cv_hasher_init(&h, suite);
    while (rc == CV_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = cv_hasher_update(&h, chunk, n);
    if (rc == CV_OK && ferror(f))
        rc = cv_fail(CV_EIO, "cannot read %s", path);
    if (rc == CV_OK)
        rc = cv_hasher_final(&h, out);
    cv_hasher_free(&h);
    if (f != stdin)
        fclose(f);
    return rc == CV_OK ? 0 : cli_fail_cv(a);
}

int cmd_hash(int argc, char **argv)
{
    cli_opt opts[] = {{"--suite", 1, NULL}};
    cli_args a = {"hash", "hash --suite std|gm FILE   (FILE - is standard input)", opts, 1, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 1, 1);
    if (rc)
        return rc;
    cv_suite suite;
    const char *suite_name = cli_get(&a, "--suite");
    if (cv_suite_parse(suite_name ? suite_name : "std", &suite))
        return cli_fail_cv(&a);
    uint8_t digest[CV_HASH_LEN];
    char hex[2 * CV_HASH_LEN + 1];
    if (hash_stream(&a, suite, a.pos[0], digest))
        return 1;
    cv_hex_encode(digest, sizeof digest, hex);
    printf("%s\n", hex);
    return 0;
}

int cmd_sign(int argc, char **argv)
{
    cli_opt opts[] = {{"--key", 1, NULL}, {"--passphrase-file", 1, NULL}};
    cli_args a = {"sign", "sign --key KEYFILE FILE   (prints the signature in hex)", opts, 2, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 1, 1);
    if (rc)
        return rc;
    const char *key_path = cli_get(&a, "--key");
    if (!key_path)
        return cli_usage(&a, "--key KEYFILE is required");
    cv_keypair key;
    cv_buf msg = {0};
    cv_sig sig;
    if (load_key(&a, key_path, &key))
        return 1;
    if (cli_read_input(&a, a.pos[0], SIGN_INPUT_MAX, &msg))
        rc = 1;
    else if (cv_sign(&key, msg.data, msg.len, &sig))
        rc = cli_fail_cv(&a);
    else {
        char hex[2 * CV_SIG_MAX + 1];
        cv_hex_encode(sig.bytes, sig.len, hex);
        printf("%s\n", hex);
    }
    cv_buf_free(&msg);
    cv_key_wipe(&key);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    cli_opt opts[] = {{"--pub", 1, NULL}, {"--sig", 1, NULL}};
    cli_args a = {"verify", "verify --pub PEMFILE --sig HEX FILE", opts, 2, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 1, 1);
    if (rc)
        return rc;
    const char *pub_path = cli_get(&a, "--pub"), *sig_hex = cli_get(&a, "--sig");
    if (!pub_path || !sig_hex)
        return cli_usage(&a, "--pub PEMFILE and --sig HEX are required");
    cv_buf pem = {0}, raw = {0}, msg = {0};
    cv_pubkey pub;
    cv_sig sig;
    if (cli_read_input(&a, pub_path, PEM_INPUT_MAX, &pem))
        rc = 1;
    else if (cv_pem_read_public((const char *)pem.data, pem.len, &pub))
        rc = cli_fail(&a, "%s: %s", pub_path, cv_errmsg());
    else if (cv_hex_decode_buf(sig_hex, &raw) || cv_sig_parse(pub.suite, raw.data, raw.len, &sig))
        rc = cli_fail(&a, "INVALID: --sig is not a %s signature: %s", cv_suite_name(pub.suite), cv_errmsg());
    else if (cli_read_input(&a, a.pos[0], SIGN_INPUT_MAX, &msg))
        rc = 1;
    else if (cv_verify(&pub, msg.data, msg.len, &sig) != CV_OK)
        rc = cli_fail(&a, "INVALID: the signature does not match %s under this %s key", a.pos[0],
                      cv_suite_name(pub.suite));
    else
        printf("valid %s signature\n", cv_suite_name(pub.suite));
    cv_buf_free(&pem);
    cv_buf_free(&raw);
    cv_buf_free(&msg);
    return rc;
}
