/* genesis.c: parsing, validating and writing genesis documents (genesis.h). */
#include "ledger/genesis.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "base/err.h"
#include "base/file.h"

static const cv_param_info param_table[] = {
    {"block_max_txs", 5000, 1, 100000, "most transactions in one block"},
    {"block_interval_ms", 200, 10, 60000, "a block is cut when full or when this time has passed"},
    {"tx_max_bytes", 65536, 256, 1u << 20, "largest encoded transaction"},
    {"tx_window", 1000, 1, 1000000, "a transaction's expiry may be at most this many blocks ahead"},
    {"gov_threshold_pct", 66, 1, 99, "a proposal passes when more than this % of organisations vote yes"},
    {"gov_vote_window", 100000, 1, 100000000, "blocks a proposal stays open"},
};

const cv_param_info *cv_params(size_t *count)
{
    *count = sizeof param_table / sizeof param_table[0];
    return param_table;
}

const cv_param_info *cv_param_find(const char *name)
{
    for (size_t i = 0; i < sizeof param_table / sizeof param_table[0]; i++)
        if (strcmp(param_table[i].name, name) == 0)
            return &param_table[i];
    return NULL;
}

void cv_genesis_free(cv_genesis *g)
{
    free(g->orgs);
    free(g->accounts);
    free(g->validators);
    free(g->params);
    memset(g, 0, sizeof *g);
}

/* A lowercase identifier: [a-z0-9_-], 1..CV_ID_MAX characters. */
static int check_id(const char *what, const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > CV_ID_MAX)
        return cv_fail(CV_EINVAL, "genesis: %s \"%.40s\" must have 1 to %d characters", what, s, CV_ID_MAX);
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return cv_fail(CV_EINVAL, "genesis: %s \"%s\" may use only a-z, 0-9, _ and -", what, s);
    return CV_OK;
}

static int get_string(json_t *obj, const char *key, const char *where, char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(obj, key));
    if (!s)
        return cv_fail(CV_EINVAL, "genesis: %s needs a string \"%s\"", where, key);
    if (strlen(s) >= cap)
        return cv_fail(CV_EINVAL, "genesis: %s: \"%s\" is longer than %zu bytes", where, key, cap - 1);
    strcpy(out, s);
    return CV_OK;
}

static int find_org(const cv_genesis *g, const char *id)
{
    for (size_t i = 0; i < g->norgs; i++)
        if (strcmp(g->orgs[i].id, id) == 0)
            return (int)i;
    return -1;
}

static int get_pubkey(json_t *obj, const cv_genesis *g, const char *where, cv_pubkey *out)
{
    const char *hex = json_string_value(json_object_get(obj, "public_key"));
    cv_buf raw = {0};
    if (!hex)
        return cv_fail(CV_EINVAL, "genesis: %s needs \"public_key\" (hex)", where);
    int rc = cv_hex_decode_buf(hex, &raw);
    if (!rc)
        rc = cv_pubkey_parse(g->chain.suite, raw.data, raw.len, out);
    cv_buf_free(&raw);
    if (rc)
        return cv_fail(CV_EINVAL, "genesis: %s: public_key is not a %s key: %s", where,
                       cv_suite_name(g->chain.suite), cv_errmsg());
    return CV_OK;
}

static int get_org_ref(json_t *obj, const cv_genesis *g, const char *where, char *out)
{
    int rc = get_string(obj, "org", where, out, CV_ID_MAX + 1);
    if (!rc && find_org(g, out) < 0)
        rc = cv_fail(CV_EINVAL, "genesis: %s names org \"%s\", which is not in \"orgs\"", where, out);
    return rc;
}

/* Allocates an array of n elements of size sz (n may be 0). */
static int alloc_array(void **out, size_t n, size_t sz)
{
    *out = calloc(n ? n : 1, sz);
    return *out ? CV_OK : cv_fail(CV_ENOMEM, "genesis: out of memory");
}

static int parse_orgs(json_t *arr, cv_genesis *g)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return cv_fail(CV_EINVAL, "genesis: \"orgs\" must be a non-empty array");
    int rc = alloc_array((void **)&g->orgs, json_array_size(arr), sizeof *g->orgs);
    for (size_t i = 0; !rc && i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        cv_genesis_org *org = &g->orgs[i];
        char where[48];
        snprintf(where, sizeof where, "orgs[%zu]", i);
        if ((rc = get_string(o, "id", where, org->id, sizeof org->id)) || (rc = check_id("org id", org->id)) ||
            (rc = get_string(o, "name", where, org->name, sizeof org->name)))
            break;
        if (find_org(g, org->id) >= 0)
            rc = cv_fail(CV_EINVAL, "genesis: org id \"%s\" appears twice", org->id);
        g->norgs = i + 1;
    }
    return rc;
}

static int parse_roles(json_t *arr, const char *where, cv_genesis_account *a)
{
    if (!json_is_array(arr) || json_array_size(arr) > CV_ROLES_MAX)
        return cv_fail(CV_EINVAL, "genesis: %s: \"roles\" must be an array of at most %d names", where,
                       CV_ROLES_MAX);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *r = json_string_value(json_array_get(arr, i));
        if (!r)
            return cv_fail(CV_EINVAL, "genesis: %s: roles[%zu] is not a string", where, i);
        int rc = check_id("role", r);
        if (rc)
            return rc;
        strcpy(a->roles[a->nroles++], r);
    }
    return CV_OK;
}

static int parse_accounts(json_t *arr, cv_genesis *g)
{
    if (!json_is_array(arr))
        return cv_fail(CV_EINVAL, "genesis: \"accounts\" must be an array");
    int rc = alloc_array((void **)&g->accounts, json_array_size(arr), sizeof *g->accounts);
    for (size_t i = 0; !rc && i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        cv_genesis_account *a = &g->accounts[i];
        char where[48];
        snprintf(where, sizeof where, "accounts[%zu]", i);
        if ((rc = get_pubkey(o, g, where, &a->pub)) || (rc = get_org_ref(o, g, where, a->org)) ||
            (rc = parse_roles(json_object_get(o, "roles"), where, a)))
            break;
        for (size_t j = 0; j < i; j++)
            if (g->accounts[j].pub.len == a->pub.len && memcmp(g->accounts[j].pub.bytes, a->pub.bytes, a->pub.len) == 0)
                return cv_fail(CV_EINVAL, "genesis: accounts[%zu] repeats accounts[%zu]'s key", i, j);
        g->naccounts = i + 1;
    }
    return rc;
}

static int parse_validators(json_t *arr, cv_genesis *g)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return cv_fail(CV_EINVAL, "genesis: \"validators\" must be a non-empty array");
    int rc = alloc_array((void **)&g->validators, json_array_size(arr), sizeof *g->validators);
    for (size_t i = 0; !rc && i < json_array_size(arr); i++) {
        json_t *o = json_array_get(arr, i);
        cv_genesis_validator *v = &g->validators[i];
        char where[48];
        snprintf(where, sizeof where, "validators[%zu]", i);
        json_t *power = json_object_get(o, "power");
        if ((rc = get_pubkey(o, g, where, &v->pub)) || (rc = get_org_ref(o, g, where, v->org)))
            break;
        if (!json_is_integer(power) || json_integer_value(power) < 1 || json_integer_value(power) > 1000000)
            return cv_fail(CV_EINVAL, "genesis: %s: \"power\" must be an integer from 1 to 1000000", where);
        v->power = (uint64_t)json_integer_value(power);
        for (size_t j = 0; j < i; j++)
            if (memcmp(g->validators[j].pub.bytes, v->pub.bytes, v->pub.len) == 0)
                return cv_fail(CV_EINVAL, "genesis: validators[%zu] repeats validators[%zu]'s key", i, j);
        g->nvalidators = i + 1;
    }
    return rc;
}

static int parse_params(json_t *obj, cv_genesis *g)
{
    size_t n;
    const cv_param_info *info = cv_params(&n);
    int rc = alloc_array((void **)&g->params, n, sizeof *g->params);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        g->params[i] = (cv_param){info[i].name, info[i].def};
    g->nparams = n;
    if (!obj)
        return CV_OK;
    if (!json_is_object(obj))
        return cv_fail(CV_EINVAL, "genesis: \"params\" must be an object");
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        const cv_param_info *p = cv_param_find(key);
        if (!p)
            return cv_fail(CV_EINVAL, "genesis: unknown parameter \"%s\"", key);
        json_int_t v = json_integer_value(val);
        if (!json_is_integer(val) || v < 0 || (uint64_t)v < p->min || (uint64_t)v > p->max)
            return cv_fail(CV_EINVAL, "genesis: parameter %s must be an integer from %llu to %llu", key,
                           (unsigned long long)p->min, (unsigned long long)p->max);
        g->params[p - info].value = (uint64_t)v;
    }
    return CV_OK;
}

/* "YYYY-MM-DDTHH:MM:SSZ" or with ".mmm" before the Z, as milliseconds. */
static int parse_time(const char *s, uint64_t *ms)
{
    struct tm tm = {0};
    unsigned frac = 0;
    int used = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &used) != 6)
        return cv_fail(CV_EINVAL, "genesis: genesis_time \"%.40s\" is not YYYY-MM-DDTHH:MM:SSZ", s);
    const char *rest = s + used;
    if (rest[0] == '.' && sscanf(rest, ".%3u", &frac) == 1 && strlen(rest) == 5)
        rest += 4;
    if (strcmp(rest, "Z") != 0 || tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || frac > 999)
        return cv_fail(CV_EINVAL, "genesis: genesis_time \"%.40s\" is not YYYY-MM-DDTHH:MM:SS[.mmm]Z", s);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    struct tm given = tm;
    time_t t = timegm(&tm);
    /* timegm normalises out-of-range fields (second -5, hour 24, February
     * 30, into year 10000): refuse them rather than store another time. */
    if (tm.tm_year != given.tm_year || tm.tm_mon != given.tm_mon || tm.tm_mday != given.tm_mday ||
        tm.tm_hour != given.tm_hour || tm.tm_min != given.tm_min || tm.tm_sec != given.tm_sec)
        return cv_fail(CV_EINVAL, "genesis: genesis_time \"%.40s\" is not a valid UTC date and time", s);
    *ms = (uint64_t)t * 1000 + frac;
    return CV_OK;
}

static int parse_doc(json_t *doc, cv_genesis *g)
{
    char suite[8], when[40];
    int rc;
    if (!json_is_object(doc))
        return cv_fail(CV_EINVAL, "genesis: not a JSON object");
    if ((rc = get_string(doc, "chain_id", "the document", g->chain.chain_id, sizeof g->chain.chain_id)) ||
        (rc = get_string(doc, "suite", "the document", suite, sizeof suite)) ||
        (rc = cv_suite_parse(suite, &g->chain.suite)) ||
        (rc = get_string(doc, "genesis_time", "the document", when, sizeof when)) ||
        (rc = parse_time(when, &g->time_ms)))
        return rc;
    if (g->chain.chain_id[0] == '\0')
        return cv_fail(CV_EINVAL, "genesis: chain_id is empty");
    if ((rc = parse_orgs(json_object_get(doc, "orgs"), g)) ||
        (rc = parse_accounts(json_object_get(doc, "accounts"), g)) ||
        (rc = parse_validators(json_object_get(doc, "validators"), g)) ||
        (rc = parse_params(json_object_get(doc, "params"), g)))
        return rc;
    return CV_OK;
}

int cv_genesis_parse(const char *text, size_t len, cv_genesis *out)
{
    memset(out, 0, sizeof *out);
    if (len > CV_GENESIS_MAX)
        return cv_fail(CV_EINVAL, "genesis: larger than %u bytes", CV_GENESIS_MAX);
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        return cv_fail(CV_EINVAL, "genesis: not JSON (line %d: %s)", jerr.line, jerr.text);
    int rc = parse_doc(doc, out);
    json_decref(doc);
    if (!rc)
        rc = cv_hash(out->chain.suite, text, len, out->chain.genesis_hash);
    if (rc)
        cv_genesis_free(out);
    return rc;
}

int cv_genesis_load(const char *path, cv_genesis *out)
{
    cv_buf text = {0};
    int rc = cv_file_read(path, CV_GENESIS_MAX, &text);
    if (!rc)
        rc = cv_genesis_parse((const char *)text.data, text.len, out);
    cv_buf_free(&text);
    if (rc && !strstr(cv_errmsg(), path))
        rc = cv_fail(rc, "%s: %s", path, cv_errmsg());
    return rc;
}

static json_t *pubkey_json(const cv_pubkey *pub)
{
    char hex[2 * CV_PUB_MAX + 1];
    cv_hex_encode(pub->bytes, pub->len, hex);
    return json_string(hex);
}

static json_t *build_doc(const cv_genesis *g)
{
    char when[40];
    time_t secs = (time_t)(g->time_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + n, sizeof when - n, ".%03uZ", (unsigned)(g->time_ms % 1000));
    json_t *doc = json_object(), *orgs = json_array(), *accts = json_array(), *vals = json_array(),
           *params = json_object();
    json_object_set_new(doc, "chain_id", json_string(g->chain.chain_id));
    json_object_set_new(doc, "suite", json_string(cv_suite_name(g->chain.suite)));
    json_object_set_new(doc, "genesis_time", json_string(when));
    for (size_t i = 0; i < g->norgs; i++)
        json_array_append_new(orgs, json_pack("{s:s, s:s}", "id", g->orgs[i].id, "name", g->orgs[i].name));
    for (size_t i = 0; i < g->naccounts; i++) {
        json_t *roles = json_array();
        for (size_t r = 0; r < g->accounts[i].nroles; r++)
            json_array_append_new(roles, json_string(g->accounts[i].roles[r]));
        json_array_append_new(accts, json_pack("{s:o, s:s, s:o}", "public_key", pubkey_json(&g->accounts[i].pub),
                                               "org", g->accounts[i].org, "roles", roles));
    }
    for (size_t i = 0; i < g->nvalidators; i++)
        json_array_append_new(vals, json_pack("{s:o, s:s, s:I}", "public_key", pubkey_json(&g->validators[i].pub),
                                              "org", g->validators[i].org, "power", (json_int_t)g->validators[i].power));
    for (size_t i = 0; i < g->nparams; i++)
        json_object_set_new(params, g->params[i].name, json_integer((json_int_t)g->params[i].value));
    json_object_set_new(doc, "orgs", orgs);
    json_object_set_new(doc, "accounts", accts);
    json_object_set_new(doc, "validators", vals);
    json_object_set_new(doc, "params", params);
    return doc;
}

int cv_genesis_to_json(const cv_genesis *g, cv_buf *out)
{
    json_t *doc = build_doc(g);
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!text)
        return cv_fail(CV_ENOMEM, "out of memory writing genesis");
    cv_buf_reset(out);
    int rc = cv_buf_append(out, text, strlen(text));
    if (!rc)
        rc = cv_buf_append_byte(out, '\n');
    free(text);
    return rc;
}

int cv_genesis_write(const cv_genesis *g, const char *path)
{
    cv_buf text = {0};
    int rc = cv_genesis_to_json(g, &text);
    if (!rc)
        rc = cv_file_write(path, text.data, text.len, 0644, 1);
    cv_buf_free(&text);
    return rc;
}
