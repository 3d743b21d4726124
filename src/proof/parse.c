/* parse.c: reading a receipt's JSON text into a cv_proof (proof.h). The text
 * is hostile input: every object must have exactly its documented members,
 * of the documented types (integers 0 to 2^53, lowercase hex of the right
 * length, text without NUL), and the text must be exactly the canonical
 * rendering of what it holds, so that no byte of a receipt can change
 * without the receipt being refused. Errors name the member by its path
 * ("stamp.tx_path[3]"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "proof/internal.h"

typedef struct {
    const char *prefix; /* the object's path: "stamp" */
    json_t *obj;
} jobj;

/* The member's value; every member is required. */
static json_t *member(const jobj *o, const char *key)
{
    json_t *v = json_object_get(o->obj, key);
    if (!v)
        cv_fail(CV_EINVAL, "receipt: %s.%s is missing", o->prefix, key);
    return v;
}

/* Checks that v is an object with exactly the given members. */
static int open_obj(json_t *v, const char *prefix, const char *const *keys, jobj *out)
{
    const char *key;
    json_t *value;
    out->prefix = prefix;
    out->obj = v;
    if (!json_is_object(v))
        return cv_fail(CV_EINVAL, "receipt: %s must be an object", prefix);
    json_object_foreach(v, key, value) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], key) != 0)
            i++;
        if (!keys[i])
            return cv_fail(CV_EINVAL, "receipt: %s has an unknown member \"%.40s\"", prefix, key);
    }
    for (size_t i = 0; keys[i]; i++)
        if (!member(out, keys[i]))
            return CV_EINVAL;
    return CV_OK;
}

static int get_uint(const jobj *o, const char *key, uint64_t *out)
{
    json_t *v = member(o, key);
    if (!v)
        return CV_EINVAL;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > CV_PROOF_INT_MAX)
        return cv_fail(CV_EINVAL, "receipt: %s.%s must be an integer from 0 to 2^53", o->prefix, key);
    *out = (uint64_t)json_integer_value(v);
    return CV_OK;
}

static int get_text(const jobj *o, const char *key, char *out, size_t cap)
{
    json_t *v = member(o, key);
    if (!v)
        return CV_EINVAL;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return cv_fail(CV_EINVAL, "receipt: %s.%s must be a string (without NUL)", o->prefix, key);
    if (json_string_length(v) >= cap)
        return cv_fail(CV_EINVAL, "receipt: %s.%s is longer than %zu bytes", o->prefix, key, cap - 1);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return CV_OK;
}

int cv_proof_hex_value(const json_t *v, const char *what, size_t max, int exact, cv_buf *out)
{
    const char *s = json_string_value(v);
    size_t n = s ? json_string_length(v) : 0;
    int ok = s && n > 0 && n % 2 == 0 && n / 2 <= max && (!exact || n / 2 == max);
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
    if (!ok)
        return exact ? cv_fail(CV_EINVAL, "%s must be %zu lowercase hex digits", what, 2 * max)
                     : cv_fail(CV_EINVAL, "%s must be lowercase hex of 1 to %zu bytes", what, max);
    cv_buf_reset(out);
    return cv_hex_decode_buf(s, out);
}

int cv_proof_path_value(const json_t *v, const char *what, cv_proof_path *out)
{
    cv_buf b = {0};
    if (!json_is_array(v) || json_array_size(v) > CV_MERKLE_MAX_DEPTH)
        return cv_fail(CV_EINVAL, "%s must be an array of at most %d hashes", what, CV_MERKLE_MAX_DEPTH);
    int rc = CV_OK;
    out->n = json_array_size(v);
    for (size_t i = 0; i < out->n && !rc; i++) {
        char item[200];
        snprintf(item, sizeof item, "%s[%zu]", what, i);
        if (!(rc = cv_proof_hex_value(json_array_get(v, i), item, CV_HASH_LEN, 1, &b)))
            memcpy(out->hashes[i], b.data, CV_HASH_LEN);
    }
    cv_buf_free(&b);
    return rc;
}

/* "receipt: stamp.tx" for member key of o. */
static void name_of(const jobj *o, const char *key, char *out, size_t cap)
{
    snprintf(out, cap, "receipt: %s.%s", o->prefix, key);
}

static int get_hex(const jobj *o, const char *key, size_t max, cv_buf *out)
{
    char what[160];
    json_t *v = member(o, key);
    name_of(o, key, what, sizeof what);
    return v ? cv_proof_hex_value(v, what, max, 0, out) : CV_EINVAL;
}

static int get_hash(const jobj *o, const char *key, uint8_t out[CV_HASH_LEN])
{
    char what[160];
    cv_buf b = {0};
    json_t *v = member(o, key);
    name_of(o, key, what, sizeof what);
    int rc = v ? cv_proof_hex_value(v, what, CV_HASH_LEN, 1, &b) : CV_EINVAL;
    if (!rc)
        memcpy(out, b.data, CV_HASH_LEN);
    cv_buf_free(&b);
    return rc;
}

static int get_path(const jobj *o, const char *key, cv_proof_path *out)
{
    char what[160];
    json_t *v = member(o, key);
    name_of(o, key, what, sizeof what);
    return v ? cv_proof_path_value(v, what, out) : CV_EINVAL;
}

static int parse_chain(json_t *v, cv_proof *p)
{
    static const char *const keys[] = {"chain_id", "suite", "genesis_hash", NULL};
    char suite[8];
    jobj o;
    int rc = open_obj(v, "chain", keys, &o);
    if (!rc)
        rc = get_text(&o, "chain_id", p->chain_id, sizeof p->chain_id);
    if (!rc && !(rc = get_text(&o, "suite", suite, sizeof suite)) && cv_suite_parse(suite, &p->suite) != CV_OK)
        rc = cv_fail(CV_EINVAL, "receipt: chain.suite must be \"std\" or \"gm\"");
    return rc ? rc : get_hash(&o, "genesis_hash", p->genesis_hash);
}

static int parse_file(json_t *v, cv_proof *p)
{
    static const char *const keys[] = {"hash", "index", "count", "path", "root", NULL};
    jobj o;
    int rc = open_obj(v, "file", keys, &o);
    if (!rc && !(rc = get_hash(&o, "hash", p->file_hash)) && !(rc = get_uint(&o, "index", &p->file_index)) &&
        !(rc = get_uint(&o, "count", &p->file_count)) && !(rc = get_path(&o, "path", &p->file_path)))
        rc = get_hash(&o, "root", p->batch_root);
    return rc;
}

static int parse_stamp(json_t *v, cv_proof *p)
{
    static const char *const keys[] = {"tx",    "tx_hash", "stamper", "org",         "label",
                                       "index", "tx_path", "result",  "result_path", NULL};
    jobj o;
    int rc = open_obj(v, "stamp", keys, &o);
    if (!rc && !(rc = get_hex(&o, "tx", CV_TX_HARD_MAX, &p->tx)) && !(rc = get_hash(&o, "tx_hash", p->tx_hash)) &&
        !(rc = get_text(&o, "stamper", p->stamper, sizeof p->stamper)) &&
        !(rc = get_text(&o, "org", p->org, sizeof p->org)) && !(rc = get_text(&o, "label", p->label, sizeof p->label)) &&
        !(rc = get_uint(&o, "index", &p->tx_index)) && !(rc = get_path(&o, "tx_path", &p->tx_path)) &&
        !(rc = get_hex(&o, "result", CV_TX_HARD_MAX, &p->result)))
        rc = get_path(&o, "result_path", &p->result_path);
    return rc;
}

static int parse_block(json_t *v, cv_proof *p)
{
    static const char *const keys[] = {"height", "time", "hash", "header", "cert", NULL};
    jobj o;
    int rc = open_obj(v, "block", keys, &o);
    if (!rc && !(rc = get_uint(&o, "height", &p->height)) && !(rc = get_text(&o, "time", p->time, sizeof p->time)) &&
        !(rc = get_hash(&o, "hash", p->block_hash)) && !(rc = get_hex(&o, "header", CV_TX_HARD_MAX, &p->header)))
        rc = get_hex(&o, "cert", CV_TX_HARD_MAX, &p->cert);
    return rc;
}

/* One validator of list (its path, e.g. "validators.genesis"): genesis
 * validators carry their organisation, those of a change do not. */
static int parse_validator(json_t *v, const char *list, size_t i, int with_org, cv_proof_validator *out)
{
    static const char *const genesis_keys[] = {"address", "public_key", "power", "org", NULL};
    static const char *const change_keys[] = {"address", "public_key", "power", NULL};
    char prefix[80];
    cv_buf key = {0};
    jobj o;
    snprintf(prefix, sizeof prefix, "%s[%zu]", list, i);
    int rc = open_obj(v, prefix, with_org ? genesis_keys : change_keys, &o);
    if (!rc && !(rc = get_text(&o, "address", out->address, sizeof out->address)) &&
        !(rc = get_hex(&o, "public_key", CV_PUB_MAX, &key)) && !(rc = get_uint(&o, "power", &out->power)) && with_org)
        rc = get_text(&o, "org", out->org, sizeof out->org);
    if (!rc) {
        memcpy(out->public_key, key.data, key.len);
        out->public_key_len = key.len;
    }
    cv_buf_free(&key);
    return rc;
}

static int parse_validator_list(json_t *v, const char *list, int with_org, cv_proof_validator *out, size_t *n)
{
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > CV_VALSET_MAX)
        return cv_fail(CV_EINVAL, "receipt: %s must be an array of 1 to %d validators", list, CV_VALSET_MAX);
    int rc = CV_OK;
    for (size_t i = 0; i < json_array_size(v) && !rc; i++)
        if (!(rc = parse_validator(json_array_get(v, i), list, i, with_org, &out[i])))
            *n = i + 1;
    return rc;
}

static int parse_change(json_t *v, size_t k, cv_proof_change *c)
{
    static const char *const keys[] = {"height", "header", "cert", "validators", NULL};
    char prefix[48], list[64];
    jobj o;
    snprintf(prefix, sizeof prefix, "validators.changes[%zu]", k);
    snprintf(list, sizeof list, "%s.validators", prefix);
    int rc = open_obj(v, prefix, keys, &o);
    if (!rc && !(rc = get_uint(&o, "height", &c->height)) && !(rc = get_hex(&o, "header", CV_TX_HARD_MAX, &c->header)) &&
        !(rc = get_hex(&o, "cert", CV_TX_HARD_MAX, &c->cert)))
        rc = parse_validator_list(member(&o, "validators"), list, 0, c->validators, &c->nvalidators);
    return rc;
}

static int parse_changes(json_t *v, cv_proof *p)
{
    if (!json_is_array(v) || json_array_size(v) > CV_PROOF_CHANGES_MAX)
        return cv_fail(CV_EINVAL, "receipt: validators.changes must be an array of at most %d changes",
                       CV_PROOF_CHANGES_MAX);
    size_t n = json_array_size(v);
    if (n && !(p->changes = calloc(n, sizeof *p->changes)))
        return cv_fail(CV_ENOMEM, "out of memory for validator-set changes");
    int rc = CV_OK;
    for (size_t k = 0; k < n && !rc; k++) {
        p->nchanges = k + 1;
        rc = parse_change(json_array_get(v, k), k, &p->changes[k]);
    }
    return rc;
}

static int parse_validators(json_t *v, cv_proof *p)
{
    static const char *const keys[] = {"genesis", "changes", NULL};
    jobj o;
    int rc = open_obj(v, "validators", keys, &o);
    if (!rc)
        rc = parse_validator_list(member(&o, "genesis"), "validators.genesis", 1, p->validators, &p->nvalidators);
    return rc ? rc : parse_changes(member(&o, "changes"), p);
}

static int parse_doc(json_t *doc, cv_proof *p)
{
    static const char *const keys[] = {"format", "chain", "file", "stamp", "block", "validators", NULL};
    char format[64];
    jobj o;
    int rc = open_obj(doc, "receipt", keys, &o);
    if (!rc && !(rc = get_text(&o, "format", format, sizeof format)) && strcmp(format, CV_PROOF_FORMAT) != 0)
        rc = cv_fail(CV_EINVAL, "receipt: format \"%s\" is not \"%s\"", format, CV_PROOF_FORMAT);
    if (!rc && !(rc = parse_chain(member(&o, "chain"), p)) && !(rc = parse_file(member(&o, "file"), p)) &&
        !(rc = parse_stamp(member(&o, "stamp"), p)) && !(rc = parse_block(member(&o, "block"), p)))
        rc = parse_validators(member(&o, "validators"), p);
    return rc;
}

/* The text must be the canonical rendering of what it holds. */
static int check_canonical(const cv_proof *p, const uint8_t *text, size_t len)
{
    cv_buf want = {0};
    int rc = cv_proof_render(p, &want);
    if (!rc && (want.len != len || memcmp(want.data, text, len) != 0)) {
        size_t at = 0, line = 1;
        while (at < len && at < want.len && text[at] == want.data[at])
            line += text[at++] == '\n';
        rc = cv_fail(CV_EINVAL,
                     "receipt: its text differs from the canonical form at byte %zu (line %zu): whitespace, "
                     "escapes or member order were changed",
                     at, line);
    }
    cv_buf_free(&want);
    return rc;
}

void cv_proof_free(cv_proof *p)
{
    cv_buf_free(&p->tx);
    cv_buf_free(&p->result);
    cv_buf_free(&p->header);
    cv_buf_free(&p->cert);
    cv_proof_changes_free(p->changes, p->nchanges);
    memset(p, 0, sizeof *p);
}

int cv_proof_parse(const uint8_t *text, size_t len, cv_proof *out)
{
    json_error_t jerr;
    memset(out, 0, sizeof *out);
    if (len > CV_PROOF_MAX_BYTES)
        return cv_fail(CV_EINVAL, "receipt: larger than %u bytes", CV_PROOF_MAX_BYTES);
    json_t *doc = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return cv_fail(CV_EINVAL, "receipt: not JSON: %s at line %d, column %d", jerr.text, jerr.line, jerr.column);
    int rc = parse_doc(doc, out);
    json_decref(doc);
    if (!rc)
        rc = check_canonical(out, text, len);
    if (rc)
        cv_proof_free(out);
    return rc;
}
