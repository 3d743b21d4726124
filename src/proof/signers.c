/* signers.c: the validator sets a receipt relies on (proof.h): the genesis
 * set as a receipt lists it, the changes since, and the set that certified a
 * given height.
 *
 * A gov vote decided in block H changes the set from height E = H + 2
 * (docs/CONSENSUS.md §4.4). The header of block E - 1 names the set of E as
 * its next validator set and is certified by the set before the change; so a
 * verifier holding the genesis set follows every change, in order, by one
 * header and one certificate each (a light client's sequential check). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "consensus/vote.h"
#include "proof/internal.h"

/* The genesis validators as a cv_valset (sorted by address). */
static int genesis_set(const cv_genesis *g, cv_valset *out)
{
    cv_valset_entry *entries = calloc(g->nvalidators ? g->nvalidators : 1, sizeof *entries);
    if (!entries)
        return cv_fail(CV_ENOMEM, "out of memory for the genesis validators");
    for (size_t i = 0; i < g->nvalidators; i++)
        entries[i] = (cv_valset_entry){g->validators[i].pub, g->validators[i].power};
    int rc = cv_valset_init(out, g->chain.suite, entries, g->nvalidators);
    free(entries);
    return rc ? cv_fail(rc, "genesis validators: %s", cv_errmsg()) : CV_OK;
}

/* The organisation the genesis gives the validator with this key. */
static const char *validator_org(const cv_genesis *g, const cv_pubkey *pub)
{
    for (size_t i = 0; i < g->nvalidators; i++)
        if (g->validators[i].pub.len == pub->len && memcmp(g->validators[i].pub.bytes, pub->bytes, pub->len) == 0)
            return g->validators[i].org;
    return "";
}

int cv_proof_genesis_validators(const cv_genesis *g, cv_proof_validator *out, size_t *n)
{
    cv_valset *vs = malloc(sizeof *vs);
    int rc = vs ? genesis_set(g, vs) : cv_fail(CV_ENOMEM, "out of memory for a validator set");
    *n = 0;
    for (size_t i = 0; !rc && i < vs->n; i++) {
        cv_proof_validator *v = &out[i];
        memset(v, 0, sizeof *v);
        rc = cv_address_string(&vs->v[i].pub, v->address);
        memcpy(v->public_key, vs->v[i].pub.bytes, vs->v[i].pub.len);
        v->public_key_len = vs->v[i].pub.len;
        v->power = vs->v[i].power;
        strcpy(v->org, validator_org(g, &vs->v[i].pub));
        *n = i + 1;
    }
    free(vs);
    return rc;
}

void cv_proof_changes_free(cv_proof_change *c, size_t n)
{
    for (size_t k = 0; c && k < n; k++) {
        cv_buf_free(&c[k].header);
        cv_buf_free(&c[k].cert);
    }
    free(c);
}

static int by_height(const void *a, const void *b)
{
    uint64_t x = ((const cv_proof_change *)a)->height, y = ((const cv_proof_change *)b)->height;
    return x < y ? -1 : x > y;
}

int cv_proof_changes_copy(const cv_proof_change *from, size_t n, cv_proof_change **out)
{
    *out = NULL;
    if (n == 0)
        return CV_OK;
    cv_proof_change *c = calloc(n, sizeof *c);
    int rc = c ? CV_OK : cv_fail(CV_ENOMEM, "out of memory for validator-set changes");
    for (size_t k = 0; k < n && !rc; k++) {
        c[k] = from[k];
        memset(&c[k].header, 0, sizeof c[k].header);
        memset(&c[k].cert, 0, sizeof c[k].cert);
        if (!(rc = cv_buf_append(&c[k].header, from[k].header.data, from[k].header.len)))
            rc = cv_buf_append(&c[k].cert, from[k].cert.data, from[k].cert.len);
    }
    if (rc) {
        cv_proof_changes_free(c, n);
        return rc;
    }
    qsort(c, n, sizeof *c, by_height);
    *out = c;
    return CV_OK;
}

/* The set change k lists; its addresses must be its keys' and in order. */
static int change_set(cv_suite suite, const cv_proof_change *c, size_t k, cv_valset *out)
{
    cv_valset_entry *entries = calloc(c->nvalidators ? c->nvalidators : 1, sizeof *entries);
    int rc = entries ? CV_OK : cv_fail(CV_ENOMEM, "out of memory for a validator set");
    for (size_t i = 0; i < c->nvalidators && !rc; i++) {
        entries[i].power = c->validators[i].power;
        if (cv_pubkey_parse(suite, c->validators[i].public_key, c->validators[i].public_key_len, &entries[i].pub))
            rc = cv_fail(CV_EINVAL, "validators.changes[%zu].validators[%zu].public_key is not a %s public key", k, i,
                         cv_suite_name(suite));
    }
    if (!rc && cv_valset_init(out, suite, entries, c->nvalidators) != CV_OK)
        rc = cv_fail(CV_EINVAL, "validators.changes[%zu].validators: %s", k, cv_errmsg());
    for (size_t i = 0; i < c->nvalidators && !rc; i++) {
        char addr[CV_ADDR_STR_MAX];
        cv_address_string(&out->v[i].pub, addr);
        if (strcmp(addr, c->validators[i].address) != 0)
            rc = cv_fail(CV_EINVAL, "validators.changes[%zu].validators[%zu].address: expected %s (the validators "
                                    "in address order, each with its key's address)", k, i, addr);
    }
    free(entries);
    return rc;
}

/* Change k, from the set vs before it: its header (block height - 1) is
 * certified by vs and names vs as its set and the change's as the next. On
 * success vs becomes the change's set. */
static int apply_change(const cv_proof *p, const cv_proof_change *c, size_t k, cv_valset *vs)
{
    cv_header h;
    uint8_t hash[CV_HASH_LEN];
    cv_valset *next = malloc(sizeof *next);
    int rc = next ? change_set(p->suite, c, k, next) : cv_fail(CV_ENOMEM, "out of memory for a validator set");
    if (!rc && cv_header_decode(c->header.data, c->header.len, &h) != CV_OK)
        rc = cv_fail(CV_EINVAL, "validators.changes[%zu].header is not a block header: %s", k, cv_errmsg());
    if (!rc && (strcmp(h.chain_id, p->chain_id) != 0 || h.height + 1 != c->height))
        rc = cv_fail(CV_EINVAL, "validators.changes[%zu].header is not the header of block %llu of chain \"%s\"", k,
                     (unsigned long long)c->height - 1, p->chain_id);
    if (!rc && memcmp(h.validators_hash, vs->hash, CV_HASH_LEN) != 0)
        rc = cv_fail(CV_EINVAL, "validators.changes[%zu].header names another validator set than the one that "
                                "follows from the genesis file and the changes before it (a change is missing?)", k);
    if (!rc && memcmp(h.next_validators_hash, next->hash, CV_HASH_LEN) != 0)
        rc = cv_fail(CV_EINVAL, "validators.changes[%zu].validators is not the set its header names as the next", k);
    if (!rc)
        rc = cv_header_hash(p->suite, &h, hash);
    if (!rc && cv_cert_verify(p->suite, p->chain_id, vs, h.height, hash, c->cert.data, c->cert.len) != CV_OK)
        rc = cv_fail(CV_EBADSIG, "validators.changes[%zu].cert does not certify its header: %s", k, cv_errmsg());
    if (!rc)
        *vs = *next;
    free(next);
    return rc;
}

int cv_proof_signing_set(const cv_proof *p, const cv_genesis *g, uint64_t height, cv_valset *out)
{
    int rc = genesis_set(g, out);
    for (size_t k = 0; k < p->nchanges && !rc; k++) {
        const cv_proof_change *c = &p->changes[k];
        if (c->height < 2 || c->height > height || (k > 0 && c->height <= p->changes[k - 1].height))
            return cv_fail(CV_EINVAL, "validators.changes[%zu].height: %llu is not after the change before it and "
                                      "at most the block's height %llu", k, (unsigned long long)c->height,
                           (unsigned long long)height);
        rc = apply_change(p, c, k, out);
    }
    return rc;
}
