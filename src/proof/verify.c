/* verify.c: the verification of a receipt (proof.h; docs/RECEIPT.md,
 * "Verification", lists the same steps in the same order). Each step
 * compares what the receipt says with what its bytes, the genesis file or
 * the file's hash say, and fails with a message naming the receipt field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "consensus/vote.h"
#include "proof/internal.h"

/* Fails with code, the last error message prefixed with what. */
static int blame(int code, const char *what)
{
    char why[320];
    snprintf(why, sizeof why, "%s", cv_errmsg());
    return cv_fail(code, "%s: %s", what, why);
}

/* The first 8 bytes of a hash in hex, for messages. */
static const char *short_hex(const uint8_t *hash, char out[17])
{
    cv_hex_encode(hash, 8, out);
    return out;
}

/* Step 1: the receipt is for the chain of this genesis file. */
static int check_chain(const cv_proof *p, const cv_genesis *g)
{
    char a[17], b[17];
    if (p->suite != g->chain.suite)
        return cv_fail(CV_EINVAL, "chain.suite: the receipt says %s, the genesis file %s", cv_suite_name(p->suite),
                       cv_suite_name(g->chain.suite));
    if (strcmp(p->chain_id, g->chain.chain_id) != 0)
        return cv_fail(CV_EINVAL, "chain.chain_id: the receipt is for chain \"%s\", the genesis file is chain \"%s\"",
                       p->chain_id, g->chain.chain_id);
    if (memcmp(p->genesis_hash, g->chain.genesis_hash, CV_HASH_LEN) != 0)
        return cv_fail(CV_EINVAL, "chain.genesis_hash: the receipt names genesis %s..., the genesis file hashes to %s...",
                       short_hex(p->genesis_hash, a), short_hex(g->chain.genesis_hash, b));
    return CV_OK;
}

/* Step 2: the file is the receipt's leaf, and its path leads to the batch root. */
static int check_file(const cv_proof *p, const uint8_t file_hash[CV_HASH_LEN])
{
    char a[17], b[17];
    uint8_t leaf[CV_HASH_LEN];
    if (memcmp(p->file_hash, file_hash, CV_HASH_LEN) != 0)
        return cv_fail(CV_EINVAL, "file.hash: the file hashes to %s..., the receipt is for %s...: it is not the "
                                  "file that was stamped (or it was changed since)",
                       short_hex(file_hash, a), short_hex(p->file_hash, b));
    int rc = cv_merkle_leaf_hash(p->suite, p->file_hash, CV_HASH_LEN, leaf);
    if (!rc && cv_merkle_verify(p->suite, leaf, p->file_index, p->file_count, &p->file_path.hashes[0][0],
                                p->file_path.n, p->batch_root) != CV_OK)
        rc = blame(CV_EINVAL, "file.index, file.count, file.path: no path from file.hash to file.root");
    return rc;
}

/* Validator i as the receipt lists it (got) and as the genesis file has it. */
static int check_validator(const cv_proof_validator *got, const cv_proof_validator *want, size_t i)
{
    const char *field = strcmp(got->address, want->address) != 0 ? "address"
                        : got->public_key_len != want->public_key_len ||
                                memcmp(got->public_key, want->public_key, want->public_key_len) != 0
                            ? "public_key"
                        : got->power != want->power  ? "power"
                        : strcmp(got->org, want->org) ? "org"
                                                      : NULL;
    return field ? cv_fail(CV_EINVAL, "validators.genesis[%zu].%s differs from the genesis file's validator %zu", i,
                           field, i)
                 : CV_OK;
}

/* Step 3: the receipt lists the genesis file's validators. */
static int check_validators(const cv_proof *p, const cv_genesis *g)
{
    size_t n = 0;
    cv_proof_validator *want = malloc(CV_VALSET_MAX * sizeof *want);
    int rc = want ? cv_proof_genesis_validators(g, want, &n) : cv_fail(CV_ENOMEM, "out of memory for validators");
    if (!rc && n != p->nvalidators)
        rc = cv_fail(CV_EINVAL, "validators.genesis lists %zu validators, the genesis file %zu", p->nvalidators, n);
    for (size_t i = 0; i < n && !rc; i++)
        rc = check_validator(&p->validators[i], &want[i], i);
    free(want);
    return rc;
}

/* The organisation the receipt's genesis list gives this key ("" if none). */
static const char *genesis_org(const cv_proof *p, const cv_pubkey *pub)
{
    for (size_t i = 0; i < p->nvalidators; i++)
        if (p->validators[i].public_key_len == pub->len && memcmp(p->validators[i].public_key, pub->bytes, pub->len) == 0)
            return p->validators[i].org;
    return "";
}

/* The certificate's signers and their power, for the verdict. */
static int note_signers(const cv_proof *p, const cv_valset *vs, cv_proof_verdict *out)
{
    cv_cert *c = malloc(sizeof *c);
    int rc = c ? cv_cert_decode(p->suite, p->cert.data, p->cert.len, c) : cv_fail(CV_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < c->n; i++) {
        const cv_validator *v = &vs->v[c->sigs[i].validator];
        cv_proof_validator *s = &out->signers[out->nsigners++];
        rc = cv_address_string(&v->pub, s->address);
        memcpy(s->public_key, v->pub.bytes, v->pub.len);
        s->public_key_len = v->pub.len;
        s->power = v->power;
        snprintf(s->org, sizeof s->org, "%s", genesis_org(p, &v->pub));
        out->signed_power += v->power;
    }
    out->nvalidators = vs->n;
    out->total_power = vs->total;
    free(c);
    return rc;
}

/* Step 4: block.hash is the header's hash, the header names the set that
 * certified its height, and the certificate holds that set's signatures of
 * more than two thirds of its power over the block hash. */
static int check_cert(const cv_proof *p, const cv_genesis *g, const cv_proof_header_facts *h, cv_proof_verdict *out)
{
    if (memcmp(h->hash, p->block_hash, CV_HASH_LEN) != 0)
        return cv_fail(CV_EINVAL, "block.hash does not match block.header (one of them was changed)");
    cv_valset *vs = malloc(sizeof *vs);
    int rc = vs ? cv_proof_signing_set(p, g, h->header.height, vs) : cv_fail(CV_ENOMEM, "out of memory");
    if (!rc && memcmp(vs->hash, h->header.validators_hash, CV_HASH_LEN) != 0)
        rc = cv_fail(CV_EINVAL, "block.header names another validator set than the one that follows from the "
                                "genesis file");
    if (!rc && cv_cert_verify(p->suite, p->chain_id, vs, h->header.height, h->hash, p->cert.data, p->cert.len) != CV_OK)
        rc = blame(CV_EBADSIG, "block.cert does not certify block.hash");
    if (!rc)
        rc = note_signers(p, vs, out);
    free(vs);
    return rc;
}

/* Step 5: the transaction and its receipt entry are in the block. */
static int check_inclusion(const cv_proof *p, const cv_proof_stamp_facts *st, const cv_header *h)
{
    uint8_t leaf[CV_HASH_LEN], entry[CV_HASH_LEN];
    if (memcmp(st->tx.hash, p->tx_hash, CV_HASH_LEN) != 0)
        return cv_fail(CV_EINVAL, "stamp.tx_hash does not match stamp.tx (one of them was changed)");
    int rc = cv_merkle_leaf_hash(p->suite, p->tx_hash, CV_HASH_LEN, leaf);
    if (!rc && cv_merkle_verify(p->suite, leaf, p->tx_index, h->tx_count, &p->tx_path.hashes[0][0], p->tx_path.n,
                                h->tx_root) != CV_OK)
        return blame(CV_EINVAL, "stamp.index, stamp.tx_path: no path from stamp.tx to the header's tx root");
    if (!rc)
        rc = cv_hash(p->suite, p->result.data, p->result.len, entry);
    if (!rc)
        rc = cv_merkle_leaf_hash(p->suite, entry, CV_HASH_LEN, leaf);
    if (!rc && cv_merkle_verify(p->suite, leaf, p->tx_index, h->tx_count, &p->result_path.hashes[0][0],
                                p->result_path.n, h->receipt_root) != CV_OK)
        return blame(CV_EINVAL, "stamp.result, stamp.result_path: no path from stamp.result to the header's "
                                "receipt root");
    return rc;
}

/* Step 6: the transaction is a signed notary.stamp, on this chain, of the
 * batch hash of file.count files under file.root, with the stamper and label
 * the receipt names. */
static int check_tx(const cv_proof *p, const cv_proof_stamp_facts *st)
{
    char a[17], b[17];
    if (strcmp(st->tx.chain_id, p->chain_id) != 0)
        return cv_fail(CV_EINVAL, "stamp.tx is for chain \"%s\", not \"%s\"", st->tx.chain_id, p->chain_id);
    if (cv_tx_verify(&st->tx) != CV_OK)
        return cv_fail(CV_EBADSIG, "stamp.tx: its signature does not verify for its sender's key");
    uint8_t batch[CV_HASH_LEN];
    int rc = cv_proof_batch_hash(p->suite, p->batch_root, p->file_count, batch);
    if (rc)
        return rc;
    if (memcmp(st->stamped, batch, CV_HASH_LEN) != 0)
        return cv_fail(CV_EINVAL, "file.root, file.count: the transaction stamps %s..., not the batch hash %s... "
                                  "of file.count files under file.root",
                       short_hex(st->stamped, a), short_hex(batch, b));
    if (strcmp(st->stamper, p->stamper) != 0)
        return cv_fail(CV_EINVAL, "stamp.stamper: the receipt says %s, the transaction is signed by %s", p->stamper,
                       st->stamper);
    if (strcmp(st->label, p->label) != 0)
        return cv_fail(CV_EINVAL, "stamp.label: the receipt says \"%s\", the transaction's label is \"%s\"", p->label,
                       st->label);
    return CV_OK;
}

/* Step 7: the receipt entry is the transaction's, and says it succeeded. */
static int check_result(const cv_proof *p, const cv_proof_stamp_facts *st, const cv_proof_result_facts *r)
{
    char stamped[2 * CV_HASH_LEN + 1];
    cv_hex_encode(st->stamped, CV_HASH_LEN, stamped);
    if (memcmp(r->tx_hash, p->tx_hash, CV_HASH_LEN) != 0)
        return cv_fail(CV_EINVAL, "stamp.result is the receipt of another transaction than stamp.tx");
    if (r->status != 0)
        return cv_fail(CV_EINVAL, "stamp.result: the stamp transaction failed: %s", r->error);
    if (!r->stamped || strcmp(r->hash, stamped) != 0)
        return cv_fail(CV_EINVAL, "stamp.result records no notary stamp of the hash stamp.tx stamps");
    if (strcmp(r->org, p->org) != 0)
        return cv_fail(CV_EINVAL, "stamp.org: the receipt says \"%s\", the chain recorded \"%s\"", p->org, r->org);
    return CV_OK;
}

/* Step 8: the header says what the receipt says of the block. */
static int check_header(const cv_proof *p, const cv_proof_header_facts *h)
{
    if (strcmp(h->header.chain_id, p->chain_id) != 0)
        return cv_fail(CV_EINVAL, "block.header is for chain \"%s\", not \"%s\"", h->header.chain_id, p->chain_id);
    if (h->header.height != p->height)
        return cv_fail(CV_EINVAL, "block.height: the receipt says %llu, the header %llu", (unsigned long long)p->height,
                       (unsigned long long)h->header.height);
    if (strcmp(h->time, p->time) != 0)
        return cv_fail(CV_EINVAL, "block.time: the receipt says %s, the header %s", p->time, h->time);
    return CV_OK;
}

int cv_proof_verify(const cv_proof *p, const cv_genesis *g, const uint8_t file_hash[CV_HASH_LEN], cv_proof_verdict *out)
{
    cv_proof_stamp_facts st;
    cv_proof_result_facts r;
    cv_proof_header_facts h;
    memset(out, 0, sizeof *out);
    int rc = check_chain(p, g);
    if (!rc)
        rc = check_file(p, file_hash);
    if (!rc)
        rc = check_validators(p, g);
    if (!rc && !(rc = cv_proof_header_of(p->suite, &p->header, &h)))
        rc = check_cert(p, g, &h, out);
    if (!rc && !(rc = cv_proof_stamp_of(p->suite, &p->tx, &st)))
        rc = check_inclusion(p, &st, &h.header);
    if (!rc)
        rc = check_tx(p, &st);
    if (!rc && !(rc = cv_proof_result_of(&p->result, &r)))
        rc = check_result(p, &st, &r);
    if (!rc)
        rc = check_header(p, &h);
    if (rc)
        return rc;
    strcpy(out->stamper, p->stamper);
    strcpy(out->org, p->org);
    strcpy(out->label, p->label);
    out->height = h.header.height;
    out->time_ms = h.header.time_ms;
    strcpy(out->time, h.time);
    memcpy(out->tx_hash, p->tx_hash, CV_HASH_LEN);
    memcpy(out->block_hash, p->block_hash, CV_HASH_LEN);
    return CV_OK;
}
