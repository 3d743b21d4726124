/* keyfile.c: JSON key files, optionally sealed under a passphrase (keyfile.h). */
#include "crypto/keyfile.h"

#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "base/err.h"
#include "base/file.h"

#define KEYFILE_MAX 65536
#define KEYFILE_TYPE "civitas-key"

typedef struct {
    unsigned long long opslimit;
    size_t memlimit;
    uint8_t salt[crypto_pwhash_SALTBYTES];
    uint8_t nonce[CV_AEAD_NONCE_MAX];
} seal_params;

static const char *cipher_name(cv_suite suite)
{
    return suite == CV_SUITE_GM ? "sm4-gcm" : "xchacha20poly1305";
}

/* The AEAD key for this suite from the passphrase (Argon2id). */
static int derive_key(cv_suite suite, const char *passphrase, const seal_params *sp, uint8_t *key)
{
    if (crypto_pwhash(key, cv_aead_key_len(suite), passphrase, strlen(passphrase), sp->salt,
                      sp->opslimit, sp->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return cv_fail(CV_ENOMEM, "Argon2id needs more memory than is available");
    return CV_OK;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char hex[2 * 128 + 1];
    cv_hex_encode(p, n, hex);
    return json_string(hex);
}

/* Seals the secret; the public key is the associated data, binding the two. */
static int seal_secret(const cv_keypair *key, const char *passphrase, json_t *doc)
{
    seal_params sp = {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE, {0}, {0}};
    uint8_t aead_key[CV_AEAD_KEY_MAX], sealed[CV_SECRET_LEN + CV_AEAD_TAG_LEN];
    size_t nonce_len = cv_aead_nonce_len(key->suite);
    cv_random(sp.salt, sizeof sp.salt);
    cv_random(sp.nonce, nonce_len);
    int rc = derive_key(key->suite, passphrase, &sp, aead_key);
    if (!rc)
        rc = cv_aead_seal(key->suite, aead_key, sp.nonce, key->pub.bytes, key->pub.len, key->secret,
                          CV_SECRET_LEN, sealed);
    sodium_memzero(aead_key, sizeof aead_key);
    if (rc)
        return rc;
    json_t *enc = json_object();
    json_object_set_new(enc, "kdf", json_string("argon2id"));
    json_object_set_new(enc, "opslimit", json_integer((json_int_t)sp.opslimit));
    json_object_set_new(enc, "memlimit", json_integer((json_int_t)sp.memlimit));
    json_object_set_new(enc, "salt", hex_json(sp.salt, sizeof sp.salt));
    json_object_set_new(enc, "cipher", json_string(cipher_name(key->suite)));
    json_object_set_new(enc, "nonce", hex_json(sp.nonce, nonce_len));
    json_object_set_new(enc, "sealed", hex_json(sealed, sizeof sealed));
    json_object_set_new(doc, "encrypted", enc);
    return CV_OK;
}

int cv_keyfile_write(const char *path, const cv_keypair *key, const char *passphrase)
{
    char addr[CV_ADDR_STR_MAX];
    int rc = cv_address_string(&key->pub, addr);
    if (rc)
        return rc;
    json_t *doc = json_object();
    json_object_set_new(doc, "type", json_string(KEYFILE_TYPE));
    json_object_set_new(doc, "version", json_integer(1));
    json_object_set_new(doc, "suite", json_string(cv_suite_name(key->suite)));
    json_object_set_new(doc, "address", json_string(addr));
    json_object_set_new(doc, "public", hex_json(key->pub.bytes, key->pub.len));
    if (passphrase)
        rc = seal_secret(key, passphrase, doc);
    else
        json_object_set_new(doc, "secret", hex_json(key->secret, CV_SECRET_LEN));
    char *text = rc ? NULL : json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    if (rc)
        return rc;
    if (!text)
        return cv_fail(CV_ENOMEM, "out of memory writing a key file");
    size_t len = strlen(text);
    rc = cv_file_write(path, text, len, 0600, 1);
    sodium_memzero(text, len);
    free(text);
    return rc;
}

/* Reads a hex string member of exactly n bytes. */
static int get_hex(json_t *obj, const char *name, uint8_t *out, size_t n, const char *path)
{
    const char *s = json_string_value(json_object_get(obj, name));
    if (!s)
        return cv_fail(CV_EINVAL, "%s: missing \"%s\"", path, name);
    if (cv_hex_decode(s, out, n))
        return cv_fail(CV_EINVAL, "%s: \"%s\" must be %zu bytes of hex", path, name, n);
    return CV_OK;
}

static int open_secret(json_t *enc, const cv_pubkey *pub, const char *passphrase, const char *path,
                       uint8_t secret[CV_SECRET_LEN])
{
    seal_params sp;
    uint8_t aead_key[CV_AEAD_KEY_MAX], sealed[CV_SECRET_LEN + CV_AEAD_TAG_LEN];
    json_int_t ops = json_integer_value(json_object_get(enc, "opslimit"));
    json_int_t mem = json_integer_value(json_object_get(enc, "memlimit"));
    const char *kdf = json_string_value(json_object_get(enc, "kdf"));
    const char *cipher = json_string_value(json_object_get(enc, "cipher"));
    if (!kdf || strcmp(kdf, "argon2id") != 0 || !cipher || strcmp(cipher, cipher_name(pub->suite)) != 0)
        return cv_fail(CV_EINVAL, "%s: expected kdf argon2id and cipher %s", path, cipher_name(pub->suite));
    if (ops < (json_int_t)crypto_pwhash_OPSLIMIT_MIN || ops > 64 ||
        mem < (json_int_t)crypto_pwhash_MEMLIMIT_MIN || mem > (json_int_t)1 << 32)
        return cv_fail(CV_EINVAL, "%s: Argon2id limits out of range", path);
    sp.opslimit = (unsigned long long)ops;
    sp.memlimit = (size_t)mem;
    int rc;
    if ((rc = get_hex(enc, "salt", sp.salt, sizeof sp.salt, path)) ||
        (rc = get_hex(enc, "nonce", sp.nonce, cv_aead_nonce_len(pub->suite), path)) ||
        (rc = get_hex(enc, "sealed", sealed, sizeof sealed, path)) ||
        (rc = derive_key(pub->suite, passphrase, &sp, aead_key)))
        return rc;
    rc = cv_aead_open(pub->suite, aead_key, sp.nonce, pub->bytes, pub->len, sealed, sizeof sealed, secret);
    sodium_memzero(aead_key, sizeof aead_key);
    if (rc == CV_EBADSIG)
        return cv_fail(CV_EBADSIG, "%s: wrong passphrase (or the file was altered)", path);
    return rc;
}

static int load_doc(const char *path, json_t **out)
{
    cv_buf text = {0};
    int rc = cv_file_read(path, KEYFILE_MAX, &text);
    if (rc)
        return rc;
    json_error_t jerr;
    *out = json_loadb((const char *)text.data, text.len, 0, &jerr);
    cv_buf_free(&text);
    if (!*out)
        return cv_fail(CV_EINVAL, "%s: not JSON (line %d: %s)", path, jerr.line, jerr.text);
    const char *type = json_string_value(json_object_get(*out, "type"));
    if (!type || strcmp(type, KEYFILE_TYPE) != 0) {
        json_decref(*out);
        return cv_fail(CV_EINVAL, "%s: not a civitas key file (\"type\" is not \"%s\")", path, KEYFILE_TYPE);
    }
    return CV_OK;
}

int cv_keyfile_is_encrypted(const char *path)
{
    json_t *doc;
    int rc = load_doc(path, &doc);
    if (rc)
        return rc;
    int enc = json_object_get(doc, "encrypted") != NULL;
    json_decref(doc);
    return enc;
}

static int read_secret(json_t *doc, const cv_pubkey *pub, const char *passphrase, const char *path,
                       uint8_t secret[CV_SECRET_LEN])
{
    json_t *enc = json_object_get(doc, "encrypted");
    if (!enc)
        return get_hex(doc, "secret", secret, CV_SECRET_LEN, path);
    if (!passphrase)
        return cv_fail(CV_EPERM, "%s is encrypted: give its passphrase (--passphrase-file FILE or "
                                 "CIVITAS_PASSPHRASE)", path);
    return open_secret(enc, pub, passphrase, path, secret);
}

/* The suite and public key recorded in a loaded key file. */
static int doc_public(json_t *doc, const char *path, cv_pubkey *pub)
{
    cv_suite suite;
    uint8_t bytes[CV_PUB_MAX];
    const char *suite_name = json_string_value(json_object_get(doc, "suite"));
    if (!suite_name)
        return cv_fail(CV_EINVAL, "%s: missing \"suite\"", path);
    int rc = cv_suite_parse(suite_name, &suite);
    if (rc)
        return rc;
    size_t len = suite == CV_SUITE_GM ? 65 : 32;
    if ((rc = get_hex(doc, "public", bytes, len, path)))
        return rc;
    return cv_pubkey_parse(suite, bytes, len, pub);
}

int cv_keyfile_read_public(const char *path, cv_pubkey *out)
{
    json_t *doc;
    int rc = load_doc(path, &doc);
    if (rc)
        return rc;
    rc = doc_public(doc, path, out);
    json_decref(doc);
    return rc;
}

int cv_keyfile_read(const char *path, const char *passphrase, cv_keypair *out)
{
    memset(out, 0, sizeof *out);
    int rc = cv_file_check_private(path);
    if (rc)
        return rc;
    json_t *doc;
    if ((rc = load_doc(path, &doc)))
        return rc;
    uint8_t secret[CV_SECRET_LEN];
    cv_pubkey pub;
    if (!(rc = doc_public(doc, path, &pub)) && !(rc = read_secret(doc, &pub, passphrase, path, secret)))
        rc = cv_key_from_secret(pub.suite, secret, out);
    sodium_memzero(secret, sizeof secret);
    json_decref(doc);
    if (!rc && memcmp(out->pub.bytes, pub.bytes, pub.len) != 0) {
        cv_key_wipe(out);
        rc = cv_fail(CV_EINVAL, "%s: the secret does not match the public key", path);
    }
    return rc;
}
