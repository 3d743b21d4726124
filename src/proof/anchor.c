/* anchor.c: where a stamp landed, read from a node's tx_get reply
 * (docs/RPC.md): the signed transaction ("raw") and, from "proof", its index
 * and path to the tx root, its receipt entry and path to the receipt root,
 * the header's bytes and the commit certificate; and the validator-set
 * changes up to its block, from validators replies. The replies may be
 * hostile; whatever they say is checked again when the receipt is verified. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proof/internal.h"

#define WHAT "the node's tx_get reply"

void cv_proof_anchor_free(cv_proof_anchor *a)
{
    cv_buf_free(&a->tx);
    cv_buf_free(&a->result);
    cv_buf_free(&a->header);
    cv_buf_free(&a->cert);
    cv_proof_changes_free(a->changes, a->nchanges);
    memset(a, 0, sizeof *a);
}

static int hex_member(const json_t *obj, const char *key, cv_buf *out)
{
    char what[96];
    snprintf(what, sizeof what, WHAT ": %s", key);
    return cv_proof_hex_value(json_object_get(obj, key), what, CV_TX_HARD_MAX, 0, out);
}

static int path_member(const json_t *obj, const char *key, cv_proof_path *out)
{
    char what[96];
    snprintf(what, sizeof what, WHAT ": proof.%s", key);
    return cv_proof_path_value(json_object_get(obj, key), what, out);
}

int cv_proof_anchor_from_rpc(const json_t *tx_get, cv_proof_anchor *out)
{
    const json_t *proof = json_object_get(tx_get, "proof"), *index = json_object_get(proof, "index");
    memset(out, 0, sizeof *out);
    if (!json_is_object(proof) || !json_is_integer(index) || json_integer_value(index) < 0)
        return cv_fail(CV_EINVAL, WHAT " lacks a proof with an index");
    if (json_is_null(json_object_get(proof, "cert")))
        return cv_fail(CV_ENOTFOUND, "block %lld has no commit certificate (committed before solo chains "
                                     "certified their blocks): no receipt can be made for it",
                       (long long)json_integer_value(json_object_get(tx_get, "height")));
    out->index = (uint64_t)json_integer_value(index);
    int rc = hex_member(tx_get, "raw", &out->tx);
    if (!rc)
        rc = path_member(proof, "path", &out->tx_path);
    if (!rc)
        rc = hex_member(proof, "receipt_raw", &out->result);
    if (!rc)
        rc = path_member(proof, "receipt_path", &out->result_path);
    if (!rc)
        rc = hex_member(proof, "header_raw", &out->header);
    if (!rc)
        rc = hex_member(proof, "cert", &out->cert);
    if (rc)
        cv_proof_anchor_free(out);
    return rc;
}

/* A validators reply's list: {address, public_key, power} in address order. */
static int change_validators(const json_t *list, cv_proof_change *c)
{
    cv_buf key = {0};
    const json_t *v;
    size_t i;
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > CV_VALSET_MAX)
        return cv_fail(CV_EINVAL, "the node's validators reply: validators must list 1 to %d", CV_VALSET_MAX);
    int rc = CV_OK;
    json_array_foreach (list, i, v) {
        cv_proof_validator *out = &c->validators[i];
        const char *addr = json_string_value(json_object_get(v, "address"));
        const json_t *power = json_object_get(v, "power");
        if (!addr || strlen(addr) >= sizeof out->address || !json_is_integer(power) || json_integer_value(power) < 1)
            rc = cv_fail(CV_EINVAL, "the node's validators reply: validator %zu lacks an address or power", i);
        if (!rc)
            rc = cv_proof_hex_value(json_object_get(v, "public_key"), "the node's validators reply: public_key",
                                    CV_PUB_MAX, 0, &key);
        if (rc)
            break;
        strcpy(out->address, addr);
        memcpy(out->public_key, key.data, key.len);
        out->public_key_len = key.len;
        out->power = (uint64_t)json_integer_value(power);
        c->nvalidators = i + 1;
    }
    cv_buf_free(&key);
    return rc;
}

int cv_proof_anchor_add_change(cv_proof_anchor *a, const json_t *validators, uint64_t *from)
{
    const json_t *h = json_object_get(validators, "from_height");
    if (!json_is_integer(h) || json_integer_value(h) < 0)
        return cv_fail(CV_EINVAL, "the node's validators reply lacks from_height");
    *from = (uint64_t)json_integer_value(h);
    if (*from == 0)
        return CV_OK;
    if (a->nchanges == CV_PROOF_CHANGES_MAX)
        return cv_fail(CV_EFULL, "more than %d validator-set changes: too many for one receipt", CV_PROOF_CHANGES_MAX);
    cv_proof_change *grown = realloc(a->changes, (a->nchanges + 1) * sizeof *grown);
    if (!grown)
        return cv_fail(CV_ENOMEM, "out of memory for validator-set changes");
    a->changes = grown;
    cv_proof_change *c = &a->changes[a->nchanges++];
    memset(c, 0, sizeof *c);
    c->height = *from;
    int rc = change_validators(json_object_get(validators, "validators"), c);
    if (!rc)
        rc = hex_member(validators, "header_raw", &c->header);
    if (!rc)
        rc = hex_member(validators, "cert", &c->cert);
    return rc;
}
