/* kx.h: ephemeral Diffie-Hellman key exchange in suite terms.
 *
 *   std  X25519 (libsodium): 32-byte public keys, 32-byte shared secret
 *   gm   ECDH on the SM2 curve (OpenSSL 3): 65-byte public keys 04||x||y,
 *        the shared secret is the 32-byte x coordinate of d*Q
 *
 * A cv_kx_key holds a secret: call cv_kx_wipe() on every one. The shared
 * secret is raw group output; feed it to a KDF (crypto/kdf.h), never use it
 * as a key directly. */
#ifndef CV_CRYPTO_KX_H
#define CV_CRYPTO_KX_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/suite.h"

#define CV_KX_PUB_MAX 65
#define CV_KX_SHARED_LEN 32

typedef struct {
    cv_suite suite;
    uint8_t pub_len;
    uint8_t pub[CV_KX_PUB_MAX];
    uint8_t secret[32]; /* std: the X25519 scalar; gm: the SM2 scalar d */
} cv_kx_key;

/* The length of a public key of suite (32 or 65), 0 for an unknown suite. */
size_t cv_kx_pub_len(cv_suite suite);

/* A fresh random key pair. */
int cv_kx_keypair(cv_suite suite, cv_kx_key *out);

/* The shared secret of own and the peer's public key. CV_EINVAL if the
 * peer's key has the wrong length, is not a valid point, or gives a
 * degenerate (all-zero) result. */
int cv_kx_shared(const cv_kx_key *own, const uint8_t *peer_pub, size_t len,
                 uint8_t out[CV_KX_SHARED_LEN]);

void cv_kx_wipe(cv_kx_key *key);

#endif
