/* anchor.c: where a stamp landed, read from a node's tx_get reply
 * (docs/RPC.md): the signed transaction ("raw") and, from "proof", its index
 * and path to the tx root, its receipt entry and path to the receipt root,
 * the header's bytes and the commit certificate. The reply may be hostile;
 * whatever it says is checked again when the receipt is verified. */
#include <stdio.h>
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
