/* wire.h: the transport's byte formats (docs/NETWORK.md), free of I/O:
 * frame headers, the hello and auth handshake messages, the key schedule,
 * and sealing and opening records. Internal to net/ (and its tests and
 * fuzz target).
 *
 * A frame is a 4-byte big-endian payload length and the payload. Hellos
 * are plaintext payloads; every other payload is a record: the suite AEAD
 * of its plaintext under the direction's key, with a nonce made from the
 * direction's record counter and the 4-byte header as associated data. */
#ifndef CV_NET_WIRE_H
#define CV_NET_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/kx.h"
#include "crypto/suite.h"
#include "ledger/tx.h"

#define CV_NET_LABEL "civitas/net/1"        /* transcript hash prefix */
#define CV_NET_KEYS_INFO "civitas/net/1 keys" /* HKDF info */
#define CV_NET_AUTH_LABEL "civitas/net/1 auth" /* signed message prefix */
#define CV_NET_MAGIC "CVN1"
#define CV_NET_VERSION 1
#define CV_NET_ROLE_INIT 'I'
#define CV_NET_ROLE_RESP 'R'

#define CV_NET_HEADER_LEN 4
#define CV_NET_HS_PAYLOAD_MAX 512 /* any handshake frame's payload */
#define CV_NET_HELLO_MAX (7 + CV_KX_PUB_MAX)
/* chain id, genesis hash, public key, signature, each but the hash with a length byte */
#define CV_NET_AUTH_MAX (1 + CV_CHAIN_ID_MAX + CV_HASH_LEN + 1 + CV_PUB_MAX + 1 + CV_SIG_MAX)
#define CV_NET_RECORD_MIN (1 + CV_AEAD_TAG_LEN) /* an application record: type + tag */

/* ---- frames --------------------------------------------------------------- */

/* The payload length in a frame header, checked against [min, max] before
 * anything is allocated. CV_EDECODE for a length under min, CV_EFULL for
 * one over max; the message names both. */
int cv_net_frame_check(const uint8_t header[CV_NET_HEADER_LEN], size_t min, size_t max,
                       size_t *payload_len);

/* ---- hello: magic, version, suite, role, ephemeral public key -------------- */

typedef struct {
    cv_suite suite;
    uint8_t role; /* CV_NET_ROLE_INIT or CV_NET_ROLE_RESP */
    uint8_t eph_len;
    uint8_t eph[CV_KX_PUB_MAX];
} cv_net_hello;

/* Writes the hello payload to out[CV_NET_HELLO_MAX]; returns its length. */
size_t cv_net_hello_encode(const cv_net_hello *h, uint8_t *out);

/* Decodes a hello payload. CV_EDECODE for bytes that are not a hello;
 * CV_ESTATE for another protocol version; CV_EINVAL for a suite other than
 * `suite`. The ephemeral key is checked by the key exchange. */
int cv_net_hello_decode(cv_suite suite, const uint8_t *p, size_t len, cv_net_hello *out);

/* ---- auth: who the sender is, and its signature over the transcript -------- */

typedef struct {
    uint8_t chain_id_len;
    char chain_id[CV_CHAIN_ID_MAX + 1]; /* NUL-terminated for printing; may hold any bytes */
    uint8_t genesis_hash[CV_HASH_LEN];
    cv_pubkey pub;
    cv_sig sig;
} cv_net_auth;

/* Writes the auth payload to out[CV_NET_AUTH_MAX]; returns its length. */
size_t cv_net_auth_encode(const cv_net_auth *a, uint8_t *out);

/* Decodes an auth payload of suite; CV_EDECODE naming the bad field. */
int cv_net_auth_decode(cv_suite suite, const uint8_t *p, size_t len, cv_net_auth *out);

/* The message a node signs: auth label, the signer's role, the transcript
 * hash, then the auth payload without its signature. out must hold
 * CV_NET_AUTH_SIGNED_MAX bytes; returns the length. */
#define CV_NET_AUTH_SIGNED_MAX (sizeof CV_NET_AUTH_LABEL - 1 + 1 + CV_HASH_LEN + CV_NET_AUTH_MAX)
size_t cv_net_auth_signed(const cv_net_auth *a, uint8_t role, const uint8_t th[CV_HASH_LEN],
                          uint8_t *out);

/* ---- key schedule ------------------------------------------------------------ */

typedef struct {
    uint8_t th[CV_HASH_LEN];           /* H(label || hello_i || hello_r) */
    uint8_t i2r[CV_AEAD_KEY_MAX];      /* initiator-to-responder record key */
    uint8_t r2i[CV_AEAD_KEY_MAX];
} cv_net_keys;

/* The transcript hash of the two hello payloads, and the two record keys:
 * HKDF(salt = th, ikm = shared, info = "civitas/net/1 keys"). */
int cv_net_derive(cv_suite suite, const uint8_t shared[CV_KX_SHARED_LEN], const uint8_t *hello_i,
                  size_t hello_i_len, const uint8_t *hello_r, size_t hello_r_len, cv_net_keys *out);

/* ---- records ----------------------------------------------------------------- */

/* The bytes of a frame carrying a record of plain_len bytes. */
size_t cv_net_record_frame_len(size_t plain_len);

/* Seals in place: frame + CV_NET_HEADER_LEN holds plain_len plaintext bytes
 * and room for the tag; writes the header and replaces the plaintext by
 * the record. *counter is the nonce and is incremented; CV_EFULL when it
 * is exhausted. */
int cv_net_record_seal(cv_suite suite, const uint8_t *key, uint64_t *counter, uint8_t *frame,
                       size_t plain_len);

/* Opens in place the record of a whole frame (header and payload_len
 * bytes): the plaintext, payload_len - CV_AEAD_TAG_LEN bytes, replaces it
 * at frame + CV_NET_HEADER_LEN. CV_EBADSIG if it does not authenticate. */
int cv_net_record_open(cv_suite suite, const uint8_t *key, uint64_t *counter, uint8_t *frame,
                       size_t payload_len);

#endif
