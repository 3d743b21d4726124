/* render.c: a receipt's canonical JSON text (proof.h, docs/RECEIPT.md):
 * members in the documented order, two-space indentation, one member or
 * element per line, byte strings as lowercase hex, and a final newline.
 * cv_proof_parse accepts only text that renders back to itself. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/json.h"
#include "proof/proof.h"

static json_t *path_json(const cv_proof_path *path)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < path->n; i++)
        if (json_array_append_new(a, cv_json_hex(path->hashes[i], CV_HASH_LEN)) != 0) {
            json_decref(a);
            a = NULL;
        }
    return a;
}

static json_t *chain_json(const cv_proof *p)
{
    return json_pack("{s:s, s:s, s:o}", "chain_id", p->chain_id, "suite", cv_suite_name(p->suite), "genesis_hash",
                     cv_json_hex(p->genesis_hash, CV_HASH_LEN));
}

static json_t *file_json(const cv_proof *p)
{
    return json_pack("{s:o, s:I, s:I, s:o, s:o}", "hash", cv_json_hex(p->file_hash, CV_HASH_LEN), "index",
                     (json_int_t)p->file_index, "count", (json_int_t)p->file_count, "path", path_json(&p->file_path),
                     "root", cv_json_hex(p->batch_root, CV_HASH_LEN));
}

static json_t *stamp_json(const cv_proof *p)
{
    return json_pack("{s:o, s:o, s:s, s:s, s:s, s:I, s:o, s:o, s:o}", "tx", cv_json_hex(p->tx.data, p->tx.len), "tx_hash",
                     cv_json_hex(p->tx_hash, CV_HASH_LEN), "stamper", p->stamper, "org", p->org, "label", p->label,
                     "index", (json_int_t)p->tx_index, "tx_path", path_json(&p->tx_path), "result",
                     cv_json_hex(p->result.data, p->result.len), "result_path", path_json(&p->result_path));
}

static json_t *block_json(const cv_proof *p)
{
    return json_pack("{s:I, s:s, s:o, s:o, s:o}", "height", (json_int_t)p->height, "time", p->time, "hash",
                     cv_json_hex(p->block_hash, CV_HASH_LEN), "header", cv_json_hex(p->header.data, p->header.len), "cert",
                     cv_json_hex(p->cert.data, p->cert.len));
}

/* [{address, public_key, power[, org]}] of n validators. */
static json_t *validator_list_json(const cv_proof_validator *vals, size_t n, int with_org)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++) {
        const cv_proof_validator *v = &vals[i];
        json_t *item = json_pack("{s:s, s:o, s:I}", "address", v->address, "public_key",
                                 cv_json_hex(v->public_key, v->public_key_len), "power", (json_int_t)v->power);
        if (item && with_org && json_object_set_new(item, "org", json_string(v->org)) != 0) {
            json_decref(item);
            item = NULL;
        }
        if (json_array_append_new(list, item) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return list;
}

static json_t *changes_json(const cv_proof *p)
{
    json_t *list = json_array();
    for (size_t k = 0; list && k < p->nchanges; k++) {
        const cv_proof_change *c = &p->changes[k];
        json_t *item = json_pack("{s:I, s:o, s:o, s:o}", "height", (json_int_t)c->height, "header",
                                 cv_json_hex(c->header.data, c->header.len), "cert", cv_json_hex(c->cert.data, c->cert.len),
                                 "validators", validator_list_json(c->validators, c->nvalidators, 0));
        if (json_array_append_new(list, item) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return list;
}

static json_t *validators_json(const cv_proof *p)
{
    return json_pack("{s:o, s:o}", "genesis", validator_list_json(p->validators, p->nvalidators, 1), "changes",
                     changes_json(p));
}

int cv_proof_render(const cv_proof *p, cv_buf *out)
{
    json_t *doc = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "format", CV_PROOF_FORMAT, "chain", chain_json(p),
                            "file", file_json(p), "stamp", stamp_json(p), "block", block_json(p), "validators",
                            validators_json(p));
    if (!doc)
        return cv_fail(CV_EINVAL, "cannot render the receipt (out of memory, or text that is not UTF-8)");
    size_t n = json_dumpb(doc, NULL, 0, JSON_INDENT(2));
    int rc = cv_buf_reserve(out, n + 1);
    if (!rc) {
        out->len += json_dumpb(doc, (char *)out->data + out->len, n, JSON_INDENT(2));
        out->data[out->len++] = '\n';
    }
    json_decref(doc);
    return rc;
}
