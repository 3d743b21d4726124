/* test_keyfile.c: private key files and PEM interchange (crypto/keyfile.h).
 *
 *  - key files, plain and passphrase-encrypted, for both suites: written
 *    0600 whatever the umask, read back to the same key, never overwritten,
 *    refused when group or others may read them (naming the file), wrong or
 *    missing passphrases told apart, and every tampered field a clear error;
 *  - PEM: public (SubjectPublicKeyInfo) and private (PKCS#8) round trips,
 *    agreement with the openssl command line (run here into a temporary
 *    directory), the RFC 8410 example key, and refusal of other key types. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/file.h"
#include "check.h"
#include "crypto/keyfile.h"
#include "crypto/suite.h"

static char tmpdir[] = "/tmp/cv-test-keyfile-XXXXXX";
static const cv_suite suites[2] = {CV_SUITE_STD, CV_SUITE_GM};

/* dir/name in one of 32 rotating static buffers (long-lived paths are copied). */
static const char *tpath(const char *name)
{
    static char bufs[32][512];
    static int next;
    char *b = bufs[next++ % 32];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

static const char *spath(const char *stem, cv_suite suite)
{
    char name[128];
    snprintf(name, sizeof name, "%s-%s", stem, cv_suite_name(suite));
    return tpath(name);
}

static int file_mode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static char *slurp(const char *path)
{
    cv_buf b = {0};
    if (cv_file_read(path, 1 << 20, &b) != CV_OK)
        return NULL;
    char *s = malloc(b.len + 1);
    if (s) {
        memcpy(s, b.data, b.len);
        s[b.len] = '\0';
    }
    cv_buf_free(&b);
    return s;
}

/* Writes text to path with mode 0600 (for hand-made or tampered files). */
static void put_file(const char *path, const char *text, size_t len)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK(write(fd, text, len) == (ssize_t)len);
    close(fd);
    CHECK(chmod(path, 0600) == 0);
}

static int same_key(const cv_keypair *a, const cv_keypair *b)
{
    return a->suite == b->suite && a->pub.suite == b->pub.suite && a->pub.len == b->pub.len &&
           memcmp(a->pub.bytes, b->pub.bytes, a->pub.len) == 0 &&
           memcmp(a->secret, b->secret, CV_SECRET_LEN) == 0;
}

static int same_pub(const cv_pubkey *a, const cv_pubkey *b)
{
    return a->suite == b->suite && a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* A signature by key verifies under pub: the key read back really works. */
static void check_signs_for(const cv_keypair *key, const cv_pubkey *pub)
{
    cv_sig sig;
    CHECK_OK(cv_sign(key, "key file test", 13, &sig));
    CHECK_OK(cv_verify(pub, "key file test", 13, &sig));
}

/* ---- plain and encrypted key files --------------------------------------- */

static void test_plain(cv_suite suite)
{
    const char *path = spath("plain.key", suite);
    cv_keypair key, back;
    cv_pubkey pub;
    CHECK_OK(cv_key_generate(suite, &key));
    mode_t old = umask(0); /* the file must be 0600 even with a permissive umask */
    CHECK_OK(cv_keyfile_write(path, &key, NULL));
    umask(old);
    CHECK(file_mode(path) == 0600);
    CHECK(cv_keyfile_is_encrypted(path) == 0);
    CHECK_OK(cv_keyfile_read(path, NULL, &back));
    CHECK(same_key(&key, &back));
    check_signs_for(&back, &key.pub);
    cv_key_wipe(&back);
    /* a passphrase given for a plain file is not needed and does no harm */
    CHECK_OK(cv_keyfile_read(path, "unused", &back));
    CHECK(same_key(&key, &back));
    cv_key_wipe(&back);
    CHECK_OK(cv_keyfile_read_public(path, &pub));
    CHECK(same_pub(&pub, &key.pub));
    /* The file is JSON recording the suite, the address and the public key. */
    char *text = slurp(path);
    CHECK(text != NULL);
    json_error_t jerr;
    json_t *doc = text ? json_loads(text, 0, &jerr) : NULL;
    CHECK(doc != NULL);
    char addr[CV_ADDR_STR_MAX], hex[2 * CV_PUB_MAX + 1];
    CHECK_OK(cv_address_string(&key.pub, addr));
    cv_hex_encode(key.pub.bytes, key.pub.len, hex);
    CHECK(doc && strcmp(json_string_value(json_object_get(doc, "suite")), cv_suite_name(suite)) == 0);
    CHECK(doc && strcmp(json_string_value(json_object_get(doc, "address")), addr) == 0);
    CHECK(doc && strcmp(json_string_value(json_object_get(doc, "public")), hex) == 0);
    json_decref(doc);
    free(text);
    /* An existing file is never overwritten, and nothing is left behind. */
    cv_keypair other;
    CHECK_OK(cv_key_generate(suite, &other));
    char *before = slurp(path);
    CHECK_ERR(cv_keyfile_write(path, &other, NULL), CV_EEXIST);
    CHECK_MSG(path);
    char *after = slurp(path);
    CHECK(before && after && strcmp(before, after) == 0);
    free(before);
    free(after);
    cv_key_wipe(&other);
    cv_key_wipe(&key);
}

static void test_encrypted(cv_suite suite)
{
    const char *path = spath("enc.key", suite), *path2 = spath("enc2.key", suite);
    cv_keypair key, back;
    cv_pubkey pub;
    CHECK_OK(cv_key_generate(suite, &key));
    mode_t old = umask(022);
    CHECK_OK(cv_keyfile_write(path, &key, "correct horse battery staple"));
    umask(old);
    CHECK(file_mode(path) == 0600);
    CHECK(cv_keyfile_is_encrypted(path) == 1);
    /* the secret is not in the file, in any case */
    char *text = slurp(path);
    char secret_hex[2 * CV_SECRET_LEN + 1];
    cv_hex_encode(key.secret, CV_SECRET_LEN, secret_hex);
    CHECK(text && !strstr(text, secret_hex));
    CHECK(text && !strstr(text, "\"secret\""));
    /* sealed with the suite's cipher and a nonce of its length */
    json_error_t jerr;
    json_t *doc = text ? json_loads(text, 0, &jerr) : NULL;
    json_t *enc = json_object_get(doc, "encrypted");
    const char *cipher = json_string_value(json_object_get(enc, "cipher"));
    const char *nonce = json_string_value(json_object_get(enc, "nonce"));
    CHECK(cipher && strcmp(cipher, suite == CV_SUITE_GM ? "sm4-gcm" : "xchacha20poly1305") == 0);
    CHECK(nonce && strlen(nonce) == 2 * cv_aead_nonce_len(suite));
    json_decref(doc);
    free(text);

    CHECK_OK(cv_keyfile_read(path, "correct horse battery staple", &back));
    CHECK(same_key(&key, &back));
    check_signs_for(&back, &key.pub);
    cv_key_wipe(&back);
    /* wrong passphrase: CV_EBADSIG, naming the file; the output stays wiped */
    CHECK_ERR(cv_keyfile_read(path, "correct horse battery stapler", &back), CV_EBADSIG);
    CHECK_MSG(path);
    CHECK_MSG("passphrase");
    CHECK(back.impl == NULL);
    cv_key_wipe(&back);
    /* missing passphrase: CV_EPERM, saying how to give one */
    CHECK_ERR(cv_keyfile_read(path, NULL, &back), CV_EPERM);
    CHECK_MSG(path);
    CHECK_MSG("passphrase");
    cv_key_wipe(&back);
    /* the public part needs no passphrase */
    CHECK_OK(cv_keyfile_read_public(path, &pub));
    CHECK(same_pub(&pub, &key.pub));
    /* the same key sealed twice gives different files (fresh salt and nonce) */
    CHECK_OK(cv_keyfile_write(path2, &key, "correct horse battery staple"));
    char *t1 = slurp(path), *t2 = slurp(path2);
    CHECK(t1 && t2 && strcmp(t1, t2) != 0);
    free(t1);
    free(t2);
    cv_key_wipe(&key);
}

/* Group- or world-accessible key files are refused, naming the file. */
static void test_permissions(void)
{
    const char *path = tpath("perm.key");
    cv_keypair key, back;
    CHECK_OK(cv_key_generate(CV_SUITE_GM, &key));
    CHECK_OK(cv_keyfile_write(path, &key, NULL));
    static const int refused[] = {0640, 0604, 0644, 0660, 0606, 0620, 0602, 0610, 0601, 0666, 0700 | 040};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK(chmod(path, (mode_t)refused[i]) == 0);
        CHECK_ERR(cv_keyfile_read(path, NULL, &back), CV_EPERM);
        CHECK_MSG(path);
        CHECK(back.impl == NULL);
        cv_key_wipe(&back);
    }
    static const int allowed[] = {0600, 0400, 0700};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        CHECK(chmod(path, (mode_t)allowed[i]) == 0);
        CHECK_OK(cv_keyfile_read(path, NULL, &back));
        CHECK(same_key(&key, &back));
        cv_key_wipe(&back);
    }
    CHECK(chmod(path, 0600) == 0);
    /* a missing file is an I/O error naming it */
    CHECK_ERR(cv_keyfile_read(tpath("no-such.key"), NULL, &back), CV_EIO);
    CHECK_MSG("no-such.key");
    cv_key_wipe(&back);
    cv_key_wipe(&key);
}

/* ---- tampered key files --------------------------------------------------- */

/* Loads the key file at src, lets edit change it, writes it (0600) to a new file. */
static const char *tampered(const char *src, const char *name, void (*edit)(json_t *doc, void *arg), void *arg)
{
    char *text = slurp(src);
    json_error_t jerr;
    json_t *doc = text ? json_loads(text, 0, &jerr) : NULL;
    CHECK(doc != NULL);
    free(text);
    if (!doc)
        return tpath("missing");
    edit(doc, arg);
    char *out = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    const char *path = tpath(name);
    put_file(path, out, strlen(out));
    free(out);
    return path;
}

typedef struct {
    const char *member; /* "a" or "encrypted.b" */
    json_t *value;      /* NULL: delete the member */
} field_edit;

static void set_field(json_t *doc, void *arg)
{
    field_edit *e = arg;
    json_t *obj = doc;
    const char *name = e->member;
    if (strncmp(name, "encrypted.", 10) == 0) {
        obj = json_object_get(doc, "encrypted");
        name += 10;
    }
    if (e->value)
        json_object_set_new(obj, name, e->value);
    else
        json_object_del(obj, name);
}

/* Replaces one hex digit of a string member (keeps the length and the hex). */
static void flip_hex_digit(json_t *doc, void *arg)
{
    field_edit *e = arg;
    json_t *obj = strncmp(e->member, "encrypted.", 10) == 0 ? json_object_get(doc, "encrypted") : doc;
    const char *name = strchr(e->member, '.') ? strchr(e->member, '.') + 1 : e->member;
    const char *old = json_string_value(json_object_get(obj, name));
    CHECK(old != NULL);
    if (!old)
        return;
    char *s = strdup(old);
    size_t i = strlen(s) / 2;
    s[i] = s[i] == '0' ? '1' : '0';
    json_object_set_new(obj, name, json_string(s));
    free(s);
}

static void expect_read(const char *path, const char *pass, int code, const char *msg)
{
    cv_keypair k;
    int rc = cv_keyfile_read(path, pass, &k);
    CHECK_ERR(rc, code);
    if (rc == code && msg)
        CHECK_MSG(msg);
    cv_key_wipe(&k);
}

/* sealed_flips: also the altered sealed files that fail only after Argon2id
 * (slow under valgrind, so quick runs do them for one suite). */
static void test_tampered(cv_suite suite, int sealed_flips)
{
    char plain[512], enc[512];
    snprintf(plain, sizeof plain, "%s", spath("tamper-plain.key", suite));
    snprintf(enc, sizeof enc, "%s", spath("tamper-enc.key", suite));
    const char *pass = "tamper test passphrase";
    cv_keypair key, other;
    CHECK_OK(cv_key_generate(suite, &key));
    CHECK_OK(cv_key_generate(suite, &other));
    CHECK_OK(cv_keyfile_write(plain, &key, NULL));
    CHECK_OK(cv_keyfile_write(enc, &key, pass));
    char other_pub[2 * CV_PUB_MAX + 1];
    cv_hex_encode(other.pub.bytes, other.pub.len, other_pub);
    const char *other_suite = suite == CV_SUITE_STD ? "gm" : "std";

    /* not a key file at all */
    put_file(tpath("notjson.key"), "{\"type\": \"civitas-key\", ", 24);
    expect_read(tpath("notjson.key"), NULL, CV_EINVAL, "not JSON");
    put_file(tpath("empty.key"), "", 0);
    expect_read(tpath("empty.key"), NULL, CV_EINVAL, "empty.key");
    put_file(tpath("array.key"), "[1, 2, 3]", 9);
    expect_read(tpath("array.key"), NULL, CV_EINVAL, "array.key");

    field_edit e;
    const char *p;
    e = (field_edit){"type", json_string("bitcoin-key")};
    p = tampered(plain, "t-type.key", set_field, &e);
    expect_read(p, NULL, CV_EINVAL, "not a civitas key file");
    e = (field_edit){"type", NULL};
    p = tampered(plain, "t-notype.key", set_field, &e);
    expect_read(p, NULL, CV_EINVAL, "not a civitas key file");
    e = (field_edit){"suite", json_string("rsa")};
    p = tampered(plain, "t-suite.key", set_field, &e);
    expect_read(p, NULL, CV_EINVAL, "rsa");
    e = (field_edit){"suite", json_string(other_suite)};
    p = tampered(plain, "t-suite2.key", set_field, &e);
    expect_read(p, NULL, CV_EINVAL, "public");
    e = (field_edit){"suite", NULL};
    p = tampered(plain, "t-nosuite.key", set_field, &e);
    expect_read(p, NULL, CV_EINVAL, "suite");
    e = (field_edit){"public", json_string(other_pub)};
    p = tampered(plain, "t-public.key", set_field, &e);
    expect_read(p, NULL, CV_EINVAL, "does not match");
    e = (field_edit){"public", json_string("zz")};
    p = tampered(plain, "t-public2.key", set_field, &e);
    expect_read(p, NULL, CV_EINVAL, "public");
    e = (field_edit){"public", json_integer(4)};
    p = tampered(plain, "t-public3.key", set_field, &e);
    expect_read(p, NULL, CV_EINVAL, "public");
    e = (field_edit){"secret", NULL};
    p = tampered(plain, "t-nosecret.key", set_field, &e);
    expect_read(p, NULL, CV_EINVAL, "secret");
    e = (field_edit){"secret", json_string("00112233")};
    p = tampered(plain, "t-shortsecret.key", set_field, &e);
    expect_read(p, NULL, CV_EINVAL, "secret");
    e = (field_edit){"secret", NULL};
    p = tampered(plain, "t-flipsecret.key", flip_hex_digit, &(field_edit){"secret", NULL});
    expect_read(p, NULL, CV_EINVAL, "does not match");
    if (suite == CV_SUITE_GM) { /* d = n is not a private key */
        e = (field_edit){"secret", json_string("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123")};
        p = tampered(plain, "t-range.key", set_field, &e);
        expect_read(p, NULL, CV_EINVAL, "range");
    }
    /* the public key of a tampered file is refused too */
    cv_pubkey pub;
    p = tpath("t-public2.key");
    CHECK_ERR(cv_keyfile_read_public(p, &pub), CV_EINVAL);

    /* encrypted files */
    if (sealed_flips) {
        p = tampered(enc, "t-sealed.key", flip_hex_digit, &(field_edit){"encrypted.sealed", NULL});
        expect_read(p, pass, CV_EBADSIG, "altered");
        p = tampered(enc, "t-salt.key", flip_hex_digit, &(field_edit){"encrypted.salt", NULL});
        expect_read(p, pass, CV_EBADSIG, "passphrase");
        p = tampered(enc, "t-nonce.key", flip_hex_digit, &(field_edit){"encrypted.nonce", NULL});
        expect_read(p, pass, CV_EBADSIG, "passphrase");
        /* the public key is bound to the sealed secret */
        e = (field_edit){"public", json_string(other_pub)};
        p = tampered(enc, "t-encpublic.key", set_field, &e);
        expect_read(p, pass, CV_EBADSIG, NULL);
    }
    e = (field_edit){"encrypted.cipher", json_string("aes-256-gcm")};
    p = tampered(enc, "t-cipher.key", set_field, &e);
    expect_read(p, pass, CV_EINVAL, "cipher");
    e = (field_edit){"encrypted.kdf", json_string("scrypt")};
    p = tampered(enc, "t-kdf.key", set_field, &e);
    expect_read(p, pass, CV_EINVAL, "argon2id");
    e = (field_edit){"encrypted.opslimit", json_integer(100000)};
    p = tampered(enc, "t-ops.key", set_field, &e);
    expect_read(p, pass, CV_EINVAL, "limits");
    e = (field_edit){"encrypted.memlimit", json_integer((json_int_t)1 << 40)};
    p = tampered(enc, "t-mem.key", set_field, &e);
    expect_read(p, pass, CV_EINVAL, "limits");
    e = (field_edit){"encrypted.memlimit", json_string("lots")};
    p = tampered(enc, "t-mem2.key", set_field, &e);
    expect_read(p, pass, CV_EINVAL, "limits");
    e = (field_edit){"encrypted.salt", json_string("0011")};
    p = tampered(enc, "t-salt2.key", set_field, &e);
    expect_read(p, pass, CV_EINVAL, "salt");
    e = (field_edit){"encrypted.nonce", json_string("00")};
    p = tampered(enc, "t-nonce2.key", set_field, &e);
    expect_read(p, pass, CV_EINVAL, "nonce");
    e = (field_edit){"encrypted.sealed", NULL};
    p = tampered(enc, "t-nosealed.key", set_field, &e);
    expect_read(p, pass, CV_EINVAL, "sealed");
    /* the original still reads */
    expect_read(enc, pass, CV_OK, NULL);
    cv_key_wipe(&key);
    cv_key_wipe(&other);
}

/* ---- PEM -------------------------------------------------------------------- */

static void test_pem_round_trip(cv_suite suite)
{
    cv_keypair key, back;
    cv_pubkey pub;
    cv_buf pem = {0}, priv = {0};
    CHECK_OK(cv_key_generate(suite, &key));
    CHECK_OK(cv_pem_write_public(&key.pub, &pem));
    CHECK(pem.len > 40 && memcmp(pem.data, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
    CHECK_OK(cv_pem_read_public((const char *)pem.data, pem.len, &pub));
    CHECK(same_pub(&pub, &key.pub));
    CHECK_OK(cv_pem_write_private(&key, &priv));
    CHECK(priv.len > 40 && memcmp(priv.data, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
    CHECK_OK(cv_pem_read_private((const char *)priv.data, priv.len, &back));
    CHECK(same_key(&key, &back));
    check_signs_for(&back, &pub);
    cv_key_wipe(&back);
    /* each reader refuses the other's form */
    CHECK_ERR(cv_pem_read_public((const char *)priv.data, priv.len, &pub), CV_EINVAL);
    CHECK_ERR(cv_pem_read_private((const char *)pem.data, pem.len, &back), CV_EINVAL);
    cv_key_wipe(&back);
    /* a damaged PEM body is refused */
    cv_buf bad = {0};
    CHECK_OK(cv_buf_append(&bad, pem.data, pem.len));
    bad.data[30] = bad.data[30] == 'A' ? 'B' : 'A';
    bad.data[31] = '!';
    CHECK_ERR(cv_pem_read_public((const char *)bad.data, bad.len, &pub), CV_EINVAL);
    CHECK_ERR(cv_pem_read_public("", 0, &pub), CV_EINVAL);
    CHECK_ERR(cv_pem_read_public("hello", 5, &pub), CV_EINVAL);
    cv_buf_free(&bad);
    /* the public PEM of the key read from private PEM is the same text */
    cv_buf pem2 = {0};
    CHECK_OK(cv_pem_read_private((const char *)priv.data, priv.len, &back));
    CHECK_OK(cv_pem_write_public(&back.pub, &pem2));
    CHECK(pem2.len == pem.len && memcmp(pem2.data, pem.data, pem.len) == 0);
    cv_key_wipe(&back);
    cv_buf_free(&pem2);
    cv_buf_free(&pem);
    cv_buf_free(&priv);
    cv_key_wipe(&key);
}

/* RFC 8410 section 10.3 example private key, and its public key (10.1). */
static void test_pem_rfc8410(void)
{
    static const char priv[] = "-----BEGIN PRIVATE KEY-----\n"
                               "MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n"
                               "-----END PRIVATE KEY-----\n";
    static const char pub_pem[] = "-----BEGIN PUBLIC KEY-----\n"
                                  "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
                                  "-----END PUBLIC KEY-----\n";
    uint8_t d[32], q[32];
    CHECK_OK(cv_hex_decode("d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842", d, 32));
    CHECK_OK(cv_hex_decode("19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1", q, 32));
    cv_keypair key;
    cv_pubkey pub;
    CHECK_OK(cv_pem_read_private(priv, strlen(priv), &key));
    CHECK(key.suite == CV_SUITE_STD && memcmp(key.secret, d, 32) == 0 && memcmp(key.pub.bytes, q, 32) == 0);
    CHECK_OK(cv_pem_read_public(pub_pem, strlen(pub_pem), &pub));
    CHECK(pub.suite == CV_SUITE_STD && pub.len == 32 && memcmp(pub.bytes, q, 32) == 0);
    /* and civitas writes exactly the RFC's text back */
    cv_buf out = {0};
    CHECK_OK(cv_pem_write_private(&key, &out));
    CHECK(out.len == strlen(priv) && memcmp(out.data, priv, out.len) == 0);
    CHECK_OK(cv_pem_write_public(&pub, &out));
    CHECK(out.len == strlen(pub_pem) && memcmp(out.data, pub_pem, out.len) == 0);
    cv_buf_free(&out);
    cv_key_wipe(&key);
}

/* Runs a shell command; 0 on success. */
static int run(const char *fmt, const char *a, const char *b)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    return rc;
}

static int read_file_buf(const char *path, cv_buf *out)
{
    return cv_file_read(path, 1 << 16, out);
}

/* Keys made by the openssl command line import, and civitas's PEM is what
 * openssl derives. */
static void test_pem_openssl(cv_suite suite)
{
    const char *priv_path = spath("ossl-priv.pem", suite), *pub_path = spath("ossl-pub.pem", suite),
               *der_path = spath("ossl-pub.der", suite), *civ_priv = spath("civ-priv.pem", suite),
               *civ_pub = spath("civ-pub-by-openssl.pem", suite);
    const char *gen = suite == CV_SUITE_STD ? "-algorithm ed25519"
                                            : "-algorithm EC -pkeyopt ec_paramgen_curve:SM2";
    CHECK(run("openssl genpkey %s -out %s 2>&1", gen, priv_path) == 0);
    CHECK(run("openssl pkey -in %s -pubout -out %s 2>&1", priv_path, pub_path) == 0);
    CHECK(run("openssl pkey -in %s -pubout -outform DER -out %s 2>&1", priv_path, der_path) == 0);
    cv_buf priv = {0}, pub = {0}, der = {0};
    CHECK_OK(read_file_buf(priv_path, &priv));
    CHECK_OK(read_file_buf(pub_path, &pub));
    CHECK_OK(read_file_buf(der_path, &der));
    size_t raw_len = suite == CV_SUITE_STD ? 32 : 65;
    cv_keypair key;
    cv_pubkey pk;
    CHECK_OK(cv_pem_read_private((const char *)priv.data, priv.len, &key));
    CHECK_OK(cv_pem_read_public((const char *)pub.data, pub.len, &pk));
    CHECK(key.suite == suite && pk.suite == suite);
    /* the raw key is the BIT STRING at the end of the DER SubjectPublicKeyInfo */
    CHECK(der.len > raw_len && pk.len == raw_len &&
          memcmp(der.data + der.len - raw_len, pk.bytes, raw_len) == 0);
    CHECK(same_pub(&key.pub, &pk));
    check_signs_for(&key, &pk);
    /* civitas's PEM of the same keys: public identical to openssl's; the
     * private key gives openssl the same public key */
    cv_buf out = {0};
    CHECK_OK(cv_pem_write_public(&pk, &out));
    CHECK(out.len == pub.len && memcmp(out.data, pub.data, pub.len) == 0);
    CHECK_OK(cv_pem_write_private(&key, &out));
    CHECK_OK(cv_file_write(civ_priv, out.data, out.len, 0600, 1));
    CHECK(run("openssl pkey -in %s -pubout -out %s 2>&1", civ_priv, civ_pub) == 0);
    cv_buf from_civ = {0};
    CHECK_OK(read_file_buf(civ_pub, &from_civ));
    CHECK(from_civ.len == pub.len && memcmp(from_civ.data, pub.data, pub.len) == 0);
    /* the imported key makes a key file that reads back the same */
    const char *kf = spath("imported.key", suite);
    cv_keypair back;
    CHECK_OK(cv_keyfile_write(kf, &key, NULL));
    CHECK_OK(cv_keyfile_read(kf, NULL, &back));
    CHECK(same_key(&key, &back));
    cv_key_wipe(&back);
    cv_buf_free(&from_civ);
    cv_buf_free(&out);
    cv_buf_free(&priv);
    cv_buf_free(&pub);
    cv_buf_free(&der);
    cv_key_wipe(&key);
}

/* Other key types are refused with a message saying what they are. */
static void test_pem_foreign(void)
{
    static const struct {
        const char *name, *gen;
    } foreign[] = {
        {"p256", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256"},
        {"x25519", "-algorithm x25519"},
        {"ed448", "-algorithm ed448"},
    };
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        char name[64], pubname[64];
        snprintf(name, sizeof name, "foreign-%s.pem", foreign[i].name);
        snprintf(pubname, sizeof pubname, "foreign-%s-pub.pem", foreign[i].name);
        const char *path = tpath(name), *pub_path = tpath(pubname);
        CHECK(run("openssl genpkey %s -out %s 2>&1", foreign[i].gen, path) == 0);
        CHECK(run("openssl pkey -in %s -pubout -out %s 2>&1", path, pub_path) == 0);
        cv_buf priv = {0}, pub = {0};
        cv_keypair key;
        cv_pubkey pk;
        CHECK_OK(read_file_buf(path, &priv));
        CHECK_OK(read_file_buf(pub_path, &pub));
        CHECK_ERR(cv_pem_read_private((const char *)priv.data, priv.len, &key), CV_EINVAL);
        CHECK_MSG("neither Ed25519 nor SM2");
        CHECK(key.impl == NULL);
        cv_key_wipe(&key);
        CHECK_ERR(cv_pem_read_public((const char *)pub.data, pub.len, &pk), CV_EINVAL);
        CHECK_MSG("neither Ed25519 nor SM2");
        cv_buf_free(&priv);
        cv_buf_free(&pub);
    }
}

/* No temporary files are left in the directory by cv_keyfile_write. */
static void test_no_leftovers(void)
{
    DIR *d = opendir(tmpdir);
    CHECK(d != NULL);
    if (!d)
        return;
    struct dirent *e;
    size_t leftovers = 0;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp"))
            leftovers++;
    closedir(d);
    CHECK(leftovers == 0);
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlink(tpath(e->d_name));
    closedir(d);
    CHECK(rmdir(tmpdir) == 0);
}

int main(void)
{
    CHECK_OK(cv_crypto_init());
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    long sealed_flip_suites = check_scale(2, 1);
    for (int si = 0; si < 2; si++) {
        test_plain(suites[si]);
        test_encrypted(suites[si]);
        test_tampered(suites[si], si < sealed_flip_suites);
        test_pem_round_trip(suites[si]);
        test_pem_openssl(suites[si]);
    }
    test_permissions();
    test_pem_rfc8410();
    test_pem_foreign();
    test_no_leftovers();
    remove_tmpdir();
    cv_crypto_cleanup();
    return check_done();
}
