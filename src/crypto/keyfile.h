/* keyfile.h: private key files and PEM interchange.
 *
 * A key file is JSON (docs/KEYS.md): suite, public key, and the secret in
 * clear or sealed under a passphrase (Argon2id, then XChaCha20-Poly1305 for
 * std or SM4-GCM for gm). It is written with mode 0600 and refused when its
 * group or others can read it. PEM uses the standard forms other tools read:
 * SubjectPublicKeyInfo for public keys and PKCS#8 for private keys. */
#ifndef CV_CRYPTO_KEYFILE_H
#define CV_CRYPTO_KEYFILE_H

#include "base/buf.h"
#include "crypto/suite.h"

/* passphrase NULL: the secret is stored in clear. Refuses to overwrite. */
int cv_keyfile_write(const char *path, const cv_keypair *key, const char *passphrase);

/* CV_EPERM if the file is not private or is encrypted and no passphrase is
 * given; CV_EBADSIG if the passphrase is wrong. */
int cv_keyfile_read(const char *path, const char *passphrase, cv_keypair *out);

/* The public key of a key file; needs no passphrase. */
int cv_keyfile_read_public(const char *path, cv_pubkey *out);

/* 1 if the key file at path is passphrase-protected, 0 if not, <0 on error. */
int cv_keyfile_is_encrypted(const char *path);

int cv_pem_write_public(const cv_pubkey *pub, cv_buf *out);
int cv_pem_write_private(const cv_keypair *key, cv_buf *out);
int cv_pem_read_public(const char *pem, size_t len, cv_pubkey *out);
int cv_pem_read_private(const char *pem, size_t len, cv_keypair *out);

#endif
