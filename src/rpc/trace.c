/* trace.c: the JSON-RPC methods of the trace application (docs/RPC.md) and
 * the JSON behind its public page, GET /trace/{Digital Link path}.
 *
 * The node keeps each event's EPCIS document in its blob store (store.h)
 * under "trace/event/" || event hash (an errorDeclaration under
 * "trace/error/" || hash), accepted only with the signed transaction that
 * records that very event: trace_submit recomputes the event's hash ID and
 * facts from the document and refuses it unless the transaction's arguments
 * are exactly those. Documents are served only for events the chain has
 * recorded, each with its transaction's inclusion proof. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/epcis.h"
#include "base/err.h"
#include "rpc/internal.h"

#define BLOB_EVENT "trace/event/"
#define BLOB_ERROR "trace/error/"

static int out_of_memory(cv_rpc_call *c)
{
    return cv_rpc_fail(c->err, CV_RPC_INTERNAL_ERROR, "internal error: out of memory");
}

static size_t blob_key(const char *kind, const uint8_t hash[CV_HASH_LEN], uint8_t key[64])
{
    size_t n = strlen(kind);
    memcpy(key, kind, n);
    memcpy(key + n, hash, CV_HASH_LEN);
    return n + CV_HASH_LEN;
}

/* ---- trace_submit ----------------------------------------------------------------- */

/* The one event of a submitted document, read. */
static int read_document(cv_rpc_call *c, const json_t *doc, cv_buf *text, cv_epcis_event *ev)
{
    cv_epcis_doc d;
    int rc = cv_rpc_dump(doc, text);
    if (rc)
        return out_of_memory(c);
    if ((rc = cv_epcis_doc_parse((const char *)text->data, text->len, &d)))
        return cv_rpc_fail_cv(c->err, rc);
    if (cv_epcis_doc_count(&d) != 1)
        rc = cv_rpc_fail(c->err, cv_rpc_app_code(CV_EINVAL),
                         "a submitted document holds exactly one event, not %zu (civitas trace record splits files)",
                         cv_epcis_doc_count(&d));
    else if ((rc = cv_epcis_event_read(&d, 0, ev)))
        rc = cv_rpc_fail_cv(c->err, rc);
    cv_epcis_doc_free(&d);
    return rc;
}

/* The transaction must be trace.<method>(args) for exactly this event. */
static int check_tx(cv_rpc_call *c, const cv_buf *raw, const cv_epcis_event *ev)
{
    cv_tx tx;
    cv_buf args = {0};
    const char *method;
    int rc = cv_tx_decode(raw->data, raw->len, CV_TX_HARD_MAX, &tx);
    if (rc)
        return cv_rpc_fail(c->err, cv_rpc_app_code(CV_EINVAL), "malformed transaction: %s", cv_errmsg());
    if ((rc = cv_epcis_event_tx(ev, &method, &args)))
        rc = cv_rpc_fail_cv(c->err, rc);
    else if (strcmp(tx.contract, "trace") != 0 || strcmp(tx.method, method) != 0)
        rc = cv_rpc_fail(c->err, cv_rpc_app_code(CV_EINVAL), "the transaction calls %s.%s, the document needs trace.%s",
                         tx.contract, tx.method, method);
    else if (tx.args_len != args.len || memcmp(tx.args, args.data, args.len) != 0)
        rc = cv_rpc_fail(c->err, cv_rpc_app_code(CV_EINVAL),
                         "the transaction's arguments are not the document's event hash and facts");
    cv_buf_free(&args);
    return rc;
}

static int submit(cv_rpc_call *c, const cv_buf *raw, uint8_t hash[CV_HASH_LEN])
{
    const uint8_t *txs[1] = {raw->data};
    size_t lens[1] = {raw->len};
    int result = 0;
    char errors[1][CV_ERROR_MAX + 1];
    uint8_t hashes[1][CV_HASH_LEN];
    int rc = cv_node_submit(c->node, txs, lens, 1, &result, errors, hashes);
    if (rc)
        return cv_rpc_fail_cv(c->err, rc);
    if (result)
        return cv_rpc_fail(c->err, cv_rpc_app_code(result), "%s", errors[0]);
    memcpy(hash, hashes[0], CV_HASH_LEN);
    return CV_OK;
}

int cv_rpc_m_trace_submit(cv_rpc_call *c, json_t **result)
{
    cv_buf raw = {0}, text = {0};
    json_t *doc = NULL;
    cv_epcis_event ev;
    uint8_t tx_hash[CV_HASH_LEN], key[64];
    char id[CV_TRACE_ID_MAX + 1];
    memset(&ev, 0, sizeof ev);
    int rc = cv_rpc_param_hex(c, "tx", CV_TX_HARD_MAX, &raw);
    if (!rc && !cv_rpc_param_present(c, "document"))
        rc = cv_rpc_fail(c->err, CV_RPC_INVALID_PARAMS, "invalid params: missing param \"document\"");
    if (!rc)
        rc = cv_rpc_param_object(c, "document", &doc);
    if (!rc)
        rc = read_document(c, doc, &text, &ev);
    if (!rc)
        rc = check_tx(c, &raw, &ev);
    if (!rc)
        rc = submit(c, &raw, tx_hash);
    if (!rc && (rc = cv_store_blob_put(cv_node_store(c->node), key,
                                       blob_key(ev.error_declaration ? BLOB_ERROR : BLOB_EVENT, ev.hash, key),
                                       text.data, text.len)))
        rc = cv_rpc_fail_cv(c->err, rc);
    if (!rc) {
        cv_trace_event_id(ev.hash, id);
        *result = json_pack("{s:o, s:s}", "hash", cv_rpc_hex(tx_hash, CV_HASH_LEN), "event_id", id);
        rc = *result ? CV_OK : out_of_memory(c);
    }
    cv_epcis_event_free(&ev);
    json_decref(doc);
    cv_buf_free(&raw);
    cv_buf_free(&text);
    return rc;
}

/* ---- reading events back ------------------------------------------------------------ */

/* Runs trace.<method>(args) against committed state (steals args). */
static int query(cv_node *node, const char *method, json_t *args, json_t **out)
{
    cv_buf encoded = {0};
    uint64_t height;
    int rc = args ? cv_store_height(cv_node_store(node), &height) : cv_fail(CV_ENOMEM, "out of memory");
    if (!rc)
        rc = cv_exec_args_from_json("trace", method, args, &encoded);
    if (!rc)
        rc = cv_exec_query(cv_node_chain(node), cv_node_state(node), height, "trace", method, encoded.data,
                           encoded.len, out);
    json_decref(args);
    cv_buf_free(&encoded);
    return rc;
}

/* The stored document of kind for an event, parsed, or null. */
static json_t *document_json(cv_node *node, const char *kind, const uint8_t hash[CV_HASH_LEN])
{
    uint8_t key[64];
    cv_buf text = {0};
    json_t *v = NULL;
    if (cv_store_blob_get(cv_node_store(node), key, blob_key(kind, hash, key), &text) == CV_OK)
        v = json_loadb((const char *)text.data, text.len, 0, NULL);
    cv_buf_free(&text);
    return v ? v : json_null();
}

/* The block of the last proof, kept while events come from it. */
typedef struct {
    cv_node *node;
    int loaded;
    uint64_t height;
    cv_rpc_block block;
} prover;

static int prove(prover *p, const char *tx_hex, json_t **out)
{
    uint8_t tx[CV_HASH_LEN];
    uint64_t height;
    uint32_t index;
    int rc = tx_hex && strlen(tx_hex) == 2 * CV_HASH_LEN ? cv_hex_decode(tx_hex, tx, CV_HASH_LEN)
                                                          : cv_fail(CV_ESTATE, "trace: an event without its tx");
    if (!rc)
        rc = cv_store_tx_location(cv_node_store(p->node), tx, &height, &index);
    if (!rc && (!p->loaded || p->height != height)) {
        if (p->loaded)
            cv_rpc_block_free(&p->block);
        p->loaded = 1;
        p->height = height;
        rc = cv_rpc_block_load(p->node, height, &p->block);
        if (!rc)
            rc = cv_rpc_block_tx_hashes(p->node, &p->block);
    }
    return rc ? rc : cv_rpc_tx_proof(p->node, &p->block, index, out);
}

/* Adds "proof" and "document" (and "error_document") to one event. */
static int attach(prover *p, json_t *event, int documents)
{
    uint8_t hash[CV_HASH_LEN];
    json_t *proof = NULL;
    int rc = cv_trace_parse_event_id(json_string_value(json_object_get(event, "id")), hash);
    if (!rc)
        rc = prove(p, json_string_value(json_object_get(event, "tx")), &proof);
    if (!rc && json_object_set_new(event, "proof", proof))
        rc = cv_fail(CV_ENOMEM, "out of memory");
    if (!rc && documents && json_object_set_new(event, "document", document_json(p->node, BLOB_EVENT, hash)))
        rc = cv_fail(CV_ENOMEM, "out of memory");
    if (!rc && documents && !json_is_null(json_object_get(event, "error")) &&
        json_object_set_new(event, "error_document", document_json(p->node, BLOB_ERROR, hash)))
        rc = cv_fail(CV_ENOMEM, "out of memory");
    return rc;
}

static int attach_all(cv_node *node, json_t *events, int documents)
{
    prover p;
    size_t i;
    json_t *ev;
    int rc = CV_OK;
    memset(&p, 0, sizeof p);
    p.node = node;
    json_array_foreach(events, i, ev) if (!rc) rc = attach(&p, ev, documents);
    if (p.loaded)
        cv_rpc_block_free(&p.block);
    return rc;
}

int cv_rpc_m_trace_event(cv_rpc_call *c, json_t **result)
{
    const char *id;
    uint8_t hash[CV_HASH_LEN];
    char hex[2 * CV_HASH_LEN + 1];
    int rc = cv_rpc_param_str(c, "id", CV_TRACE_ID_MAX, &id);
    if (rc)
        return rc;
    if (!(rc = cv_trace_parse_event_id(id, hash))) {
        cv_hex_encode(hash, CV_HASH_LEN, hex);
        rc = query(c->node, "event", json_pack("{s:s}", "event", hex), result);
    }
    if (!rc) {
        json_t *one = json_pack("[O]", *result);
        if ((rc = one ? attach_all(c->node, one, 1) : cv_fail(CV_ENOMEM, "out of memory")))
            json_decref(*result);
        json_decref(one);
    }
    return rc ? cv_rpc_fail_cv(c->err, rc) : CV_OK;
}

/* history or impact of a code, with proofs and (optionally) documents. */
int cv_rpc_trace_walk(cv_node *node, const char *method, const char *code, uint64_t limit, int documents,
                      json_t **out)
{
    int rc = query(node, method, json_pack("{s:s, s:I}", "code", code, "limit", (json_int_t)limit), out);
    if (!rc && (rc = attach_all(node, json_object_get(*out, "events"), documents)))
        json_decref(*out);
    return rc;
}

static int walk_method(cv_rpc_call *c, const char *method, json_t **result)
{
    const char *code;
    uint64_t limit;
    int documents;
    int rc = cv_rpc_param_str(c, "code", CV_GS1_INPUT_MAX, &code);
    if (!rc)
        rc = cv_rpc_param_uint(c, "limit", 0, 0, 100000, &limit);
    if (!rc)
        rc = cv_rpc_param_bool(c, "documents", 1, &documents);
    if (!rc && (rc = cv_rpc_trace_walk(c->node, method, code, limit, documents, result)))
        rc = cv_rpc_fail_cv(c->err, rc);
    return rc;
}

int cv_rpc_m_trace_history(cv_rpc_call *c, json_t **result)
{
    return walk_method(c, "history", result);
}

int cv_rpc_m_trace_impact(cv_rpc_call *c, json_t **result)
{
    return walk_method(c, "impact", result);
}
