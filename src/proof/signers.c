/* signers.c: the validator sets a receipt relies on (proof.h): the genesis
 * set as a receipt lists it, and the set that certified a given height.
 *
 * Today every height is certified by the genesis set. When validator-set
 * changes come (gov votes taking effect at H + 2, docs/CONSENSUS.md §4.4), a
 * receipt lists them in validators.changes and cv_proof_signing_set applies
 * them: it is the one function that knows how sets follow from one another. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proof/proof.h"

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

int cv_proof_signing_set(const cv_proof *p, const cv_genesis *g, uint64_t height, cv_valset *out)
{
    (void)p;      /* its validators.changes, once receipts carry them */
    (void)height; /* every height is certified by the genesis set until then */
    return genesis_set(g, out);
}
