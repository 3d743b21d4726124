/* gov.c: the governance contract (gov.h; rules in docs/LEDGER.md, "gov").
 *
 * State (keys in gov's key space, values canonical messages):
 *   "meta"            {1: active orgs, 2: validators, 3: next proposal id}
 *   "org/" id         {1: name, 2: active (1, or 0 once removed)}
 *   "acct/" address   {1: org, 2: roles (list of strings), 3: suite, 4: public key}
 *   "val/" address    {1: suite, 2: public key, 3: power, 4: org}
 *   "param/" name     {1: value}
 *   "prop/" id (8 bytes big-endian; ids count from 1)
 *                     {1: kind, 2: key, 3: value, 4: proposer org, 5: created height,
 *                      6: deadline height, 7: status, 8: votes (list of {1: org, 2: approve})}
 *
 * A proposal passes when yes × 100 > gov_threshold_pct × active orgs, and is
 * rejected once it can no longer pass: (active orgs − no) × 100 <=
 * gov_threshold_pct × active orgs, counting only votes of active orgs. Each
 * organisation has one vote per proposal; voting again replaces its vote
 * (and re-counts, which also settles a proposal after an org was removed). */
#include "apps/gov.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"

#define GOV "gov"
#define KIND_MAX 16
#define PROP_KEY_MAX 160 /* a gm public key in hex is 130 characters */
#define PROP_VALUE_MAX CV_ORG_NAME_MAX
#define ROLES_TEXT_MAX CV_ATTR_VALUE_MAX /* the roles text is an event attribute */
#define POWER_MAX 1000000
#define VOTES_MAX 65536
#define SCAN_MAX 100000

enum { OPEN = 0, PASSED = 1, REJECTED = 2 };
static const char *const status_names[] = {"open", "passed", "rejected"};

typedef struct {
    uint64_t orgs, validators, next_proposal;
} meta_rec;

typedef struct {
    char name[CV_ORG_NAME_MAX + 1];
    uint64_t active;
} org_rec;

typedef struct {
    cv_pubkey pub;
    uint64_t power;
    char org[CV_ID_MAX + 1];
} validator_rec;

typedef struct {
    char org[CV_ID_MAX + 1];
    uint64_t approve;
} vote_rec;

typedef struct {
    uint64_t id;
    char kind[KIND_MAX + 1];
    char key[PROP_KEY_MAX + 1];
    char value[PROP_VALUE_MAX + 1];
    char org[CV_ID_MAX + 1];
    uint64_t created, deadline, status;
    size_t nvotes;
    vote_rec *votes; /* room for nvotes + 1 */
} proposal_rec;

/* ---- keys ----------------------------------------------------------------------- */

typedef struct {
    uint8_t bytes[CV_KEY_MAX];
    size_t len;
} gov_key;

/* prefix || id; a key too long for the key space gets a length that state
 * access refuses (every caller's ids are bounded well below it). */
static gov_key make_key(const char *prefix, const void *id, size_t n)
{
    gov_key k;
    size_t p = strlen(prefix);
    k.len = p + n;
    if (k.len > CV_KEY_MAX)
        return k;
    memcpy(k.bytes, prefix, p);
    if (n)
        memcpy(k.bytes + p, id, n);
    return k;
}

static gov_key str_key(const char *prefix, const char *id)
{
    return make_key(prefix, id, strlen(id));
}

static gov_key proposal_key(uint64_t id)
{
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(id >> (56 - 8 * i));
    return make_key("prop/", be, sizeof be);
}

/* ---- records -------------------------------------------------------------------- */

static int encode_meta(const void *rec, cv_buf *out)
{
    const meta_rec *m = rec;
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_uint(&e, 1, m->orgs);
    cv_enc_uint(&e, 2, m->validators);
    cv_enc_uint(&e, 3, m->next_proposal);
    return cv_enc_finish(&e);
}

static int decode_meta(const uint8_t *p, size_t len, void *rec)
{
    meta_rec *m = rec;
    cv_dec d;
    cv_dec_init(&d, p, len);
    cv_dec_uint(&d, 1, "orgs", &m->orgs);
    cv_dec_uint(&d, 2, "validators", &m->validators);
    cv_dec_uint(&d, 3, "next_proposal", &m->next_proposal);
    return cv_dec_end(&d);
}

static int encode_org(const void *rec, cv_buf *out)
{
    const org_rec *o = rec;
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_str(&e, 1, o->name);
    cv_enc_uint(&e, 2, o->active);
    return cv_enc_finish(&e);
}

static int decode_org(const uint8_t *p, size_t len, void *rec)
{
    org_rec *o = rec;
    cv_dec d;
    cv_dec_init(&d, p, len);
    cv_dec_str(&d, 1, "name", o->name, sizeof o->name);
    cv_dec_uint_max(&d, 2, "active", &o->active, 1);
    return cv_dec_end(&d);
}

static void enc_pubkey(cv_enc *e, uint32_t field, const cv_pubkey *pub)
{
    cv_enc_uint(e, field, (uint64_t)pub->suite);
    cv_enc_bytes(e, field + 1, pub->bytes, pub->len);
}

/* State was checked when written: the key is copied, not re-validated. */
static int dec_pubkey(cv_dec *d, uint32_t field, cv_pubkey *pub)
{
    uint64_t suite;
    const uint8_t *p;
    size_t n;
    cv_dec_uint_max(d, field, "suite", &suite, CV_SUITE_GM);
    int rc = cv_dec_bytes(d, field + 1, "public_key", &p, &n, CV_PUB_MAX);
    if (rc)
        return rc;
    pub->suite = (cv_suite)suite;
    pub->len = (uint8_t)n;
    memcpy(pub->bytes, p, n);
    return CV_OK;
}

static int encode_account(const void *rec, cv_buf *out)
{
    const cv_account *a = rec;
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_str(&e, 1, a->org);
    cv_enc_list_begin(&e, 2, CV_CODEC_BYTES_LIST);
    for (size_t i = 0; i < a->nroles; i++)
        cv_enc_str(&e, CV_CODEC_ITEM, a->roles[i]);
    cv_enc_end(&e);
    enc_pubkey(&e, 3, &a->pub);
    return cv_enc_finish(&e);
}

static int decode_account(const uint8_t *p, size_t len, void *rec)
{
    cv_account *a = rec;
    cv_dec d;
    cv_dec_init(&d, p, len);
    cv_dec_str(&d, 1, "org", a->org, sizeof a->org);
    int rc = cv_dec_list(&d, 2, "roles", CV_CODEC_BYTES_LIST, &a->nroles, CV_ROLES_MAX);
    for (size_t i = 0; !rc && i < a->nroles; i++)
        rc = cv_dec_str(&d, CV_CODEC_ITEM, NULL, a->roles[i], sizeof a->roles[i]);
    if (!rc)
        rc = dec_pubkey(&d, 3, &a->pub);
    return rc ? rc : cv_dec_end(&d);
}

static int encode_validator(const void *rec, cv_buf *out)
{
    const validator_rec *v = rec;
    cv_enc e;
    cv_enc_init(&e, out);
    enc_pubkey(&e, 1, &v->pub);
    cv_enc_uint(&e, 3, v->power);
    cv_enc_str(&e, 4, v->org);
    return cv_enc_finish(&e);
}

static int decode_validator(const uint8_t *p, size_t len, void *rec)
{
    validator_rec *v = rec;
    cv_dec d;
    cv_dec_init(&d, p, len);
    int rc = dec_pubkey(&d, 1, &v->pub);
    if (rc)
        return rc;
    cv_dec_uint(&d, 3, "power", &v->power);
    cv_dec_str(&d, 4, "org", v->org, sizeof v->org);
    return cv_dec_end(&d);
}

static int encode_param(const void *rec, cv_buf *out)
{
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_uint(&e, 1, *(const uint64_t *)rec);
    return cv_enc_finish(&e);
}

static int decode_param(const uint8_t *p, size_t len, void *rec)
{
    cv_dec d;
    cv_dec_init(&d, p, len);
    cv_dec_uint(&d, 1, "value", rec);
    return cv_dec_end(&d);
}

static int encode_proposal(const void *rec, cv_buf *out)
{
    const proposal_rec *p = rec;
    cv_enc e;
    cv_enc_init(&e, out);
    cv_enc_str(&e, 1, p->kind);
    cv_enc_str(&e, 2, p->key);
    cv_enc_str(&e, 3, p->value);
    cv_enc_str(&e, 4, p->org);
    cv_enc_uint(&e, 5, p->created);
    cv_enc_uint(&e, 6, p->deadline);
    cv_enc_uint(&e, 7, p->status);
    cv_enc_list_begin(&e, 8, CV_CODEC_MSG_LIST);
    for (size_t i = 0; i < p->nvotes; i++) {
        cv_enc_msg_begin(&e, CV_CODEC_ITEM);
        cv_enc_str(&e, 1, p->votes[i].org);
        cv_enc_uint(&e, 2, p->votes[i].approve);
        cv_enc_end(&e);
    }
    cv_enc_end(&e);
    return cv_enc_finish(&e);
}

static int decode_votes(cv_dec *d, proposal_rec *p)
{
    size_t n;
    int rc = cv_dec_list(d, 8, "votes", CV_CODEC_MSG_LIST, &n, VOTES_MAX);
    if (!rc && !(p->votes = calloc(n + 1, sizeof *p->votes)))
        rc = cv_fail(CV_ENOMEM, "out of memory reading a proposal");
    for (size_t i = 0; !rc && i < n; i++) {
        cv_dec v;
        cv_dec_msg(d, CV_CODEC_ITEM, NULL, &v, 64);
        cv_dec_str(&v, 1, "org", p->votes[i].org, sizeof p->votes[i].org);
        cv_dec_uint_max(&v, 2, "approve", &p->votes[i].approve, 1);
        rc = cv_dec_end(&v);
    }
    p->nvotes = rc ? 0 : n;
    return rc;
}

static int decode_proposal(const uint8_t *bytes, size_t len, void *rec)
{
    proposal_rec *p = rec;
    cv_dec d;
    cv_dec_init(&d, bytes, len);
    cv_dec_str(&d, 1, "kind", p->kind, sizeof p->kind);
    cv_dec_str(&d, 2, "key", p->key, sizeof p->key);
    cv_dec_str(&d, 3, "value", p->value, sizeof p->value);
    cv_dec_str(&d, 4, "org", p->org, sizeof p->org);
    cv_dec_uint(&d, 5, "created", &p->created);
    cv_dec_uint(&d, 6, "deadline", &p->deadline);
    int rc = cv_dec_uint_max(&d, 7, "status", &p->status, REJECTED);
    if (!rc)
        rc = decode_votes(&d, p);
    return rc ? rc : cv_dec_end(&d);
}

/* ---- loading and storing records ---------------------------------------------- */

/* Fails with rc and "<prefix>: <the current message>". */
static int prefix_error(int rc, const char *prefix)
{
    char why[300];
    snprintf(why, sizeof why, "%s", cv_errmsg());
    return cv_fail(rc, "%s: %s", prefix, why);
}

typedef int (*decode_fn)(const uint8_t *p, size_t len, void *rec);
typedef int (*encode_fn)(const void *rec, cv_buf *out);

/* CV_ENOTFOUND (without a message) if the key is absent. */
static int load(const cv_call *call, gov_key k, decode_fn decode, void *rec)
{
    cv_buf v = {0};
    int rc = cv_call_get_in(call, GOV, k.bytes, k.len, &v);
    if (!rc && (rc = decode(v.data ? v.data : (const uint8_t *)"", v.len, rec)))
        rc = prefix_error(rc, "gov: corrupt record");
    cv_buf_free(&v);
    return rc;
}

static int store(cv_call *call, gov_key k, encode_fn encode, const void *rec)
{
    cv_buf v = {0};
    int rc = encode(rec, &v);
    if (!rc)
        rc = cv_call_put(call, k.bytes, k.len, v.data, v.len);
    cv_buf_free(&v);
    return rc;
}

static int load_meta(const cv_call *call, meta_rec *m)
{
    memset(m, 0, sizeof *m);
    int rc = load(call, make_key("meta", NULL, 0), decode_meta, m);
    return rc == CV_ENOTFOUND ? CV_OK : rc;
}

static int load_proposal(const cv_call *call, uint64_t id, proposal_rec *p)
{
    memset(p, 0, sizeof *p);
    p->id = id;
    int rc = load(call, proposal_key(id), decode_proposal, p);
    if (rc == CV_ENOTFOUND)
        return cv_fail(CV_ENOTFOUND, "no proposal %" PRIu64, id);
    return rc;
}

static void free_proposal(proposal_rec *p)
{
    free(p->votes);
    p->votes = NULL;
}

/* ---- helpers for other contracts and the executor ------------------------------ */

int cv_gov_account(const cv_call *call, const uint8_t addr[CV_ADDR_LEN], cv_account *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->address, addr, CV_ADDR_LEN);
    return load(call, make_key("acct/", addr, CV_ADDR_LEN), decode_account, out);
}

int cv_gov_org_active(const cv_call *call, const char *org)
{
    org_rec o;
    int rc = load(call, str_key("org/", org), decode_org, &o);
    return rc ? rc : o.active ? CV_OK : CV_ENOTFOUND;
}

int cv_gov_param(const cv_call *call, const char *name, uint64_t *value)
{
    const cv_param_info *info = cv_param_find(name);
    if (!info)
        return cv_fail(CV_ENOTFOUND, "unknown parameter '%.40s'", name);
    int rc = load(call, str_key("param/", name), decode_param, value);
    if (rc == CV_ENOTFOUND)
        *value = info->def;
    return rc == CV_ENOTFOUND ? CV_OK : rc;
}

/* ---- validation ----------------------------------------------------------------- */

/* An identifier (org id, role): 1 to CV_ID_MAX of [a-z0-9_-], as in genesis. */
static int check_id(const char *what, const char *s, size_t n)
{
    if (n == 0 || n > CV_ID_MAX)
        return cv_fail(CV_EINVAL, "%s '%.*s' must have 1 to %d characters", what, (int)(n > 40 ? 40 : n),
                       s, CV_ID_MAX);
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return cv_fail(CV_EINVAL, "%s '%.*s' may use only a-z, 0-9, _ and -", what, (int)n, s);
    return CV_OK;
}

static int add_role(cv_account *a, const char *role, size_t n)
{
    int rc = check_id("role", role, n);
    if (rc)
        return rc;
    for (size_t i = 0; i < a->nroles; i++)
        if (strlen(a->roles[i]) == n && memcmp(a->roles[i], role, n) == 0)
            return cv_fail(CV_EINVAL, "role '%.*s' is listed twice", (int)n, role);
    if (a->nroles == CV_ROLES_MAX)
        return cv_fail(CV_EINVAL, "an account holds at most %d roles", CV_ROLES_MAX);
    memcpy(a->roles[a->nroles], role, n);
    a->roles[a->nroles++][n] = '\0';
    return CV_OK;
}

/* Comma-separated roles ("" for none) into a. */
static int parse_roles(const char *text, cv_account *a)
{
    a->nroles = 0;
    if (!*text)
        return CV_OK;
    for (const char *s = text;; s++) {
        size_t n = strcspn(s, ",");
        int rc = add_role(a, s, n);
        if (rc)
            return rc;
        s += n;
        if (!*s)
            return CV_OK;
    }
}

/* ---- events --------------------------------------------------------------------- */

/* Emits event name with attributes given as key, value, ..., NULL. */
static int emit(cv_call *call, const char *name, ...)
{
    cv_event ev;
    va_list ap;
    int rc = CV_OK;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.name, sizeof ev.name, "%s", name);
    va_start(ap, name);
    for (const char *k; !rc && (k = va_arg(ap, const char *));)
        rc = cv_event_attr(&ev, k, va_arg(ap, const char *));
    va_end(ap);
    return rc ? rc : cv_call_emit(call, &ev);
}

static void u64_text(uint64_t v, char out[24])
{
    snprintf(out, 24, "%" PRIu64, v);
}

/* ---- proposal kinds: each checks its change and, with apply, makes it ----------- */

typedef int (*change_fn)(cv_call *call, const proposal_rec *p, int apply);

static int change_param(cv_call *call, const proposal_rec *p, int apply)
{
    const cv_param_info *info = cv_param_find(p->key);
    uint64_t v;
    if (!info)
        return cv_fail(CV_EINVAL, "set_param: unknown parameter '%.40s'", p->key);
    if (cv_exec_parse_uint(p->value, UINT64_MAX, &v) || v < info->min || v > info->max)
        return cv_fail(CV_EINVAL, "set_param: %s must be a decimal number from %" PRIu64 " to %" PRIu64
                       ", not '%.40s'", info->name, info->min, info->max, p->value);
    return apply ? store(call, str_key("param/", info->name), encode_param, &v) : CV_OK;
}

static int change_add_org(cv_call *call, const proposal_rec *p, int apply)
{
    org_rec o;
    meta_rec m;
    int rc = check_id("org id", p->key, strlen(p->key));
    if (rc)
        return rc;
    if (!p->value[0])
        return cv_fail(CV_EINVAL, "add_org: the value must be the organisation's name");
    if ((rc = load(call, str_key("org/", p->key), decode_org, &o)) != CV_ENOTFOUND)
        return rc ? rc : cv_fail(CV_EEXIST, "add_org: organisation '%s' %s", p->key,
                                 o.active ? "already exists" : "was removed; ids are not reused");
    if (!apply)
        return CV_OK;
    if ((rc = load_meta(call, &m)))
        return rc;
    snprintf(o.name, sizeof o.name, "%s", p->value);
    o.active = 1;
    m.orgs++;
    rc = store(call, str_key("org/", p->key), encode_org, &o);
    return rc ? rc : store(call, make_key("meta", NULL, 0), encode_meta, &m);
}

static int change_remove_org(cv_call *call, const proposal_rec *p, int apply)
{
    org_rec o;
    meta_rec m;
    if (p->value[0])
        return cv_fail(CV_EINVAL, "remove_org: the value must be empty");
    int rc = load(call, str_key("org/", p->key), decode_org, &o);
    if (rc == CV_ENOTFOUND || (!rc && !o.active))
        return cv_fail(CV_ENOTFOUND, "remove_org: no organisation '%.40s'", p->key);
    if (!rc)
        rc = load_meta(call, &m);
    if (!rc && m.orgs <= 1)
        return cv_fail(CV_ESTATE, "remove_org: '%s' is the last organisation", p->key);
    if (rc || !apply)
        return rc;
    o.active = 0;
    m.orgs--;
    rc = store(call, str_key("org/", p->key), encode_org, &o);
    return rc ? rc : store(call, make_key("meta", NULL, 0), encode_meta, &m);
}

/* The validator key (hex) and power of a set_validator proposal. */
static int parse_validator(const cv_call *call, const proposal_rec *p, validator_rec *v)
{
    cv_buf raw = {0};
    int rc = cv_hex_decode_buf(p->key, &raw);
    if (!rc)
        rc = cv_pubkey_parse(call->chain->suite, raw.data, raw.len, &v->pub);
    cv_buf_free(&raw);
    if (rc)
        return cv_fail(CV_EINVAL, "set_validator: the key must be a %s public key in hex",
                       cv_suite_name(call->chain->suite));
    if (cv_exec_parse_uint(p->value, POWER_MAX, &v->power))
        return cv_fail(CV_EINVAL, "set_validator: power must be a decimal number from 0 to %d, not "
                       "'%.40s'", POWER_MAX, p->value);
    return CV_OK;
}

/* Writes validator v at addr (power 0: removes it), keeping meta's count. */
static int write_validator(cv_call *call, const uint8_t addr[CV_ADDR_LEN], const validator_rec *v,
                           int existed, meta_rec *m)
{
    gov_key k = make_key(CV_GOV_VALIDATOR_PREFIX, addr, CV_ADDR_LEN);
    m->validators += (v->power > 0) - existed;
    int rc = v->power ? store(call, k, encode_validator, v) : cv_call_del(call, k.bytes, k.len);
    return rc ? rc : store(call, make_key("meta", NULL, 0), encode_meta, m);
}

/* The organisation of the account with this address, or "" if none. */
static int validator_org(const cv_call *call, const uint8_t addr[CV_ADDR_LEN], char org[CV_ID_MAX + 1])
{
    cv_account acct;
    int rc = cv_gov_account(call, addr, &acct);
    snprintf(org, CV_ID_MAX + 1, "%s", rc ? "" : acct.org);
    return rc == CV_ENOTFOUND ? CV_OK : rc;
}

static int change_validator(cv_call *call, const proposal_rec *p, int apply)
{
    validator_rec v, old;
    meta_rec m;
    uint8_t addr[CV_ADDR_LEN];
    memset(&v, 0, sizeof v);
    int rc = parse_validator(call, p, &v);
    if (!rc)
        rc = cv_address(&v.pub, addr);
    if (!rc)
        rc = load_meta(call, &m);
    if (rc)
        return rc;
    rc = load(call, make_key(CV_GOV_VALIDATOR_PREFIX, addr, CV_ADDR_LEN), decode_validator, &old);
    if (rc && rc != CV_ENOTFOUND)
        return rc;
    int existed = rc == CV_OK;
    if (v.power == 0 && !existed)
        return cv_fail(CV_ENOTFOUND, "set_validator: %.16s... is not a validator", p->key);
    if (v.power == 0 && m.validators <= 1)
        return cv_fail(CV_ESTATE, "set_validator: cannot remove the last validator");
    if (v.power > 0 && !existed && m.validators >= CV_GOV_VALIDATORS_MAX)
        return cv_fail(CV_EFULL, "set_validator: the chain already has %d validators, the most it can have",
                       CV_GOV_VALIDATORS_MAX);
    if (!apply)
        return CV_OK;
    rc = validator_org(call, addr, v.org);
    return rc ? rc : write_validator(call, addr, &v, existed, &m);
}

static const struct {
    const char *name;
    change_fn fn;
} kinds[] = {
    {"set_param", change_param},
    {"add_org", change_add_org},
    {"remove_org", change_remove_org},
    {"set_validator", change_validator},
};

static change_fn find_kind(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].name, name) == 0)
            return kinds[i].fn;
    return NULL;
}

/* ---- the validator set, for the node -------------------------------------------- */

typedef struct {
    cv_genesis_validator *out;
    size_t max, n;
} validator_list;

static int add_validator(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value, size_t len)
{
    validator_list *l = ctx;
    validator_rec v;
    (void)key;
    (void)key_len;
    if (l->n == l->max)
        return cv_fail(CV_EFULL, "gov lists more than %zu validators", l->max);
    int rc = decode_validator(value, len, &v);
    if (rc)
        return cv_fail(rc, "gov's validator record %zu is malformed: %s", l->n, cv_errmsg());
    cv_genesis_validator *g = &l->out[l->n++];
    g->pub = v.pub;
    g->power = v.power;
    snprintf(g->org, sizeof g->org, "%s", v.org);
    return 0;
}

int cv_gov_validators(const cv_call *call, cv_genesis_validator *out, size_t max, size_t *n)
{
    validator_list l = {out, max, 0};
    const char *prefix = CV_GOV_VALIDATOR_PREFIX;
    int rc = cv_call_scan(call, prefix, strlen(prefix), SIZE_MAX, add_validator, &l);
    *n = l.n;
    return rc;
}

/* ---- voting ----------------------------------------------------------------------- */

/* Yes and no votes of organisations that are still members. */
static int count_votes(const cv_call *call, const proposal_rec *p, uint64_t *yes, uint64_t *no)
{
    *yes = *no = 0;
    for (size_t i = 0; i < p->nvotes; i++) {
        int rc = cv_gov_org_active(call, p->votes[i].org);
        if (rc == CV_ENOTFOUND)
            continue;
        if (rc)
            return rc;
        *(p->votes[i].approve ? yes : no) += 1;
    }
    return CV_OK;
}

/* Passes (and applies) or rejects p if the votes decide it. */
static int decide(cv_call *call, proposal_rec *p)
{
    uint64_t yes, no, pct;
    meta_rec m;
    char id[24];
    int rc = count_votes(call, p, &yes, &no);
    if (!rc)
        rc = load_meta(call, &m);
    if (!rc)
        rc = cv_gov_param(call, "gov_threshold_pct", &pct);
    if (rc)
        return rc;
    u64_text(p->id, id);
    if (yes * 100 > pct * m.orgs) {
        change_fn apply = find_kind(p->kind);
        if (!apply)
            return cv_fail(CV_EDECODE, "gov: proposal %s has unknown kind '%s'", id, p->kind);
        if ((rc = apply(call, p, 1))) {
            char prefix[64];
            snprintf(prefix, sizeof prefix, "proposal %s passed but cannot be applied", id);
            return prefix_error(rc, prefix);
        }
        p->status = PASSED;
        return emit(call, "passed", "id", id, "kind", p->kind, "key", p->key, "value", p->value, NULL);
    }
    if ((no > m.orgs ? 0 : m.orgs - no) * 100 <= pct * m.orgs) {
        p->status = REJECTED;
        return emit(call, "rejected", "id", id, NULL);
    }
    return CV_OK;
}

/* Records org's vote (replacing an earlier one), decides and stores p. */
static int cast_vote(cv_call *call, proposal_rec *p, const char *org, int approve)
{
    char id[24];
    size_t i = 0;
    u64_text(p->id, id);
    while (i < p->nvotes && strcmp(p->votes[i].org, org) != 0)
        i++;
    if (i == p->nvotes && p->nvotes == VOTES_MAX)
        return cv_fail(CV_EFULL, "proposal %s has %d votes, the most it can hold", id, VOTES_MAX);
    if (i == p->nvotes)
        snprintf(p->votes[p->nvotes++].org, sizeof p->votes[0].org, "%s", org);
    p->votes[i].approve = (uint64_t)approve;
    int rc = emit(call, "voted", "id", id, "org", org, "approve", approve ? "1" : "0", NULL);
    if (!rc)
        rc = decide(call, p);
    return rc ? rc : store(call, proposal_key(p->id), encode_proposal, p);
}

static int m_propose(cv_call *call, const cv_arg *a)
{
    proposal_rec p;
    meta_rec m;
    uint64_t window;
    char id[24];
    memset(&p, 0, sizeof p);
    snprintf(p.kind, sizeof p.kind, "%s", a[0].s);
    snprintf(p.key, sizeof p.key, "%s", a[1].s);
    snprintf(p.value, sizeof p.value, "%s", a[2].s);
    snprintf(p.org, sizeof p.org, "%s", call->sender->org);
    change_fn fn = find_kind(p.kind);
    if (!fn)
        return cv_fail(CV_EINVAL, "unknown proposal kind '%.16s' (set_param, add_org, remove_org, "
                       "set_validator)", a[0].s);
    int rc = fn(call, &p, 0);
    if (!rc)
        rc = load_meta(call, &m);
    if (!rc)
        rc = cv_gov_param(call, "gov_vote_window", &window);
    if (rc)
        return rc;
    p.id = m.next_proposal ? m.next_proposal : 1;
    m.next_proposal = p.id + 1;
    p.created = call->height;
    p.deadline = window > UINT64_MAX - call->height ? UINT64_MAX : call->height + window;
    if (!(p.votes = calloc(1, sizeof *p.votes)))
        return cv_fail(CV_ENOMEM, "out of memory creating a proposal");
    u64_text(p.id, id);
    rc = store(call, make_key("meta", NULL, 0), encode_meta, &m);
    if (!rc)
        rc = emit(call, "proposed", "id", id, "kind", p.kind, "key", p.key, "value", p.value, "org",
                  p.org, NULL);
    if (!rc)
        rc = cast_vote(call, &p, p.org, 1);
    free_proposal(&p);
    return rc;
}

static int check_can_vote(const cv_call *call, const proposal_rec *p)
{
    if (p->status != OPEN)
        return cv_fail(CV_ESTATE, "proposal %" PRIu64 " was already %s", p->id, status_names[p->status]);
    if (call->height >= p->deadline)
        return cv_fail(CV_ESTATE, "proposal %" PRIu64 " expired at height %" PRIu64, p->id, p->deadline);
    return CV_OK;
}

static int m_vote(cv_call *call, const cv_arg *a)
{
    proposal_rec p;
    int rc = load_proposal(call, a[0].u, &p);
    if (!rc)
        rc = check_can_vote(call, &p);
    if (!rc)
        rc = cast_vote(call, &p, call->sender->org, (int)a[1].u);
    free_proposal(&p);
    return rc;
}

/* ---- accounts ------------------------------------------------------------------- */

/* The account at addr, which must belong to the sender's organisation. */
static int load_own_account(const cv_call *call, const uint8_t *addr, cv_account *acct)
{
    char who[CV_ADDR_STR_MAX];
    cv_call_address_string(call, addr, who);
    int rc = cv_gov_account(call, addr, acct);
    if (rc == CV_ENOTFOUND)
        return cv_fail(CV_ENOTFOUND, "no account %s", who);
    if (!rc && strcmp(acct->org, call->sender->org) != 0)
        return cv_fail(CV_EPERM, "account %s belongs to organisation %s; an admin of %s manages only "
                       "its own organisation's accounts", who, acct->org, call->sender->org);
    return rc;
}

static int account_event(cv_call *call, const char *name, const cv_account *acct, const char *roles)
{
    char who[CV_ADDR_STR_MAX];
    cv_call_address_string(call, acct->address, who);
    return emit(call, name, "address", who, "org", acct->org, "roles", roles, NULL);
}

static int m_add_account(cv_call *call, const cv_arg *a)
{
    cv_account acct;
    uint8_t derived[CV_ADDR_LEN];
    char who[CV_ADDR_STR_MAX];
    int rc = cv_address(&a[1].pub, derived);
    if (rc)
        return rc;
    cv_call_address_string(call, a[0].b, who);
    if (memcmp(derived, a[0].b, CV_ADDR_LEN) != 0)
        return cv_fail(CV_EINVAL, "address %s is not the address of the given public key", who);
    if ((rc = cv_gov_account(call, a[0].b, &acct)) != CV_ENOTFOUND)
        return rc ? rc : cv_fail(CV_EEXIST, "account %s already exists (organisation %s)", who, acct.org);
    if ((rc = parse_roles(a[2].s, &acct)))
        return rc;
    snprintf(acct.org, sizeof acct.org, "%s", call->sender->org);
    acct.pub = a[1].pub;
    rc = store(call, make_key("acct/", a[0].b, CV_ADDR_LEN), encode_account, &acct);
    return rc ? rc : account_event(call, "account_added", &acct, a[2].s);
}

static int m_remove_account(cv_call *call, const cv_arg *a)
{
    cv_account acct;
    gov_key k = make_key("acct/", a[0].b, CV_ADDR_LEN);
    int rc = load_own_account(call, a[0].b, &acct);
    if (!rc)
        rc = cv_call_del(call, k.bytes, k.len);
    return rc ? rc : account_event(call, "account_removed", &acct, "");
}

static int m_set_roles(cv_call *call, const cv_arg *a)
{
    cv_account acct;
    int rc = load_own_account(call, a[0].b, &acct);
    if (!rc)
        rc = parse_roles(a[1].s, &acct);
    if (!rc)
        rc = store(call, make_key("acct/", a[0].b, CV_ADDR_LEN), encode_account, &acct);
    return rc ? rc : account_event(call, "roles_set", &acct, a[1].s);
}

/* ---- queries -------------------------------------------------------------------- */

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char hex[2 * CV_PUB_MAX + 1];
    cv_hex_encode(p, n, hex);
    return json_string(hex);
}

static json_t *org_json(const char *id, size_t id_len, const org_rec *o)
{
    return json_pack("{s:s%, s:s, s:b}", "id", id, id_len, "name", o->name, "active", (int)o->active);
}

static int q_org(cv_call *call, const cv_arg *a)
{
    org_rec o;
    int rc = load(call, str_key("org/", a[0].s), decode_org, &o);
    if (rc == CV_ENOTFOUND)
        return cv_fail(CV_ENOTFOUND, "no organisation '%.40s'", a[0].s);
    if (!rc)
        cv_call_result(call, org_json(a[0].s, a[0].len, &o));
    return rc;
}

/* Appends each scanned record, rendered by the query, to a JSON array. */
typedef struct {
    const cv_call *call;
    json_t *list;
    size_t skip; /* key prefix length */
    json_t *(*render)(const cv_call *call, const uint8_t *id, size_t id_len, const uint8_t *value,
                      size_t len);
} scan_list;

static int add_scanned(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                       size_t value_len)
{
    scan_list *s = ctx;
    json_t *item = s->render(s->call, key + s->skip, key_len - s->skip, value, value_len);
    if (!item)
        return cv_fail(CV_EDECODE, "gov: corrupt record under %.*s", (int)s->skip, (const char *)key);
    return json_array_append_new(s->list, item) ? cv_fail(CV_ENOMEM, "out of memory") : 0;
}

static int list_query(cv_call *call, const char *prefix, json_t *(*render)(const cv_call *, const uint8_t *,
                                                                        size_t, const uint8_t *, size_t))
{
    scan_list s = {call, json_array(), strlen(prefix), render};
    int rc = cv_call_scan(call, prefix, s.skip, SCAN_MAX, add_scanned, &s);
    if (rc) {
        json_decref(s.list);
        return rc;
    }
    cv_call_result(call, s.list);
    return CV_OK;
}

static json_t *render_org(const cv_call *call, const uint8_t *id, size_t id_len, const uint8_t *value,
                          size_t len)
{
    org_rec o;
    return decode_org(value, len, &o) ? NULL : org_json((const char *)id, id_len, &o);
}

static int q_orgs(cv_call *call, const cv_arg *a)
{
    return list_query(call, "org/", render_org);
}

static json_t *account_json(const cv_call *call, const cv_account *acct)
{
    char who[CV_ADDR_STR_MAX];
    json_t *roles = json_array();
    for (size_t i = 0; i < acct->nroles; i++)
        json_array_append_new(roles, json_string(acct->roles[i]));
    cv_call_address_string(call, acct->address, who);
    return json_pack("{s:s, s:s, s:o, s:o}", "address", who, "org", acct->org, "roles", roles,
                     "public_key", hex_json(acct->pub.bytes, acct->pub.len));
}

static int q_account(cv_call *call, const cv_arg *a)
{
    cv_account acct;
    char who[CV_ADDR_STR_MAX];
    int rc = cv_gov_account(call, a[0].b, &acct);
    cv_call_address_string(call, a[0].b, who);
    if (rc == CV_ENOTFOUND)
        return cv_fail(CV_ENOTFOUND, "no account %s", who);
    if (!rc)
        cv_call_result(call, account_json(call, &acct));
    return rc;
}

static json_t *param_json(const cv_param_info *info, uint64_t v)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:I, s:s}", "name", info->name, "value", (json_int_t)v, "default",
                     (json_int_t)info->def, "min", (json_int_t)info->min, "max", (json_int_t)info->max,
                     "doc", info->doc);
}

static int q_param(cv_call *call, const cv_arg *a)
{
    uint64_t v;
    int rc = cv_gov_param(call, a[0].s, &v);
    if (!rc)
        cv_call_result(call, param_json(cv_param_find(a[0].s), v));
    return rc;
}

static int q_params(cv_call *call, const cv_arg *a)
{
    size_t n;
    const cv_param_info *info = cv_params(&n);
    json_t *list = json_array();
    int rc = CV_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        uint64_t v;
        if (!(rc = cv_gov_param(call, info[i].name, &v)))
            json_array_append_new(list, param_json(&info[i], v));
    }
    if (rc)
        json_decref(list);
    else
        cv_call_result(call, list);
    return rc;
}

static json_t *proposal_json(const cv_call *call, const proposal_rec *p, uint64_t yes, uint64_t no)
{
    json_t *votes = json_array();
    for (size_t i = 0; i < p->nvotes; i++)
        json_array_append_new(votes, json_pack("{s:s, s:b}", "org", p->votes[i].org, "approve",
                                               (int)p->votes[i].approve));
    const char *status = p->status == OPEN && call->height >= p->deadline ? "expired"
                                                                            : status_names[p->status];
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:o}", "id", (json_int_t)p->id,
                     "kind", p->kind, "key", p->key, "value", p->value, "proposer_org", p->org, "created",
                     (json_int_t)p->created, "deadline", (json_int_t)p->deadline, "status", status, "yes",
                     (json_int_t)yes, "no", (json_int_t)no, "votes", votes);
}

static int q_proposal(cv_call *call, const cv_arg *a)
{
    proposal_rec p;
    uint64_t yes, no;
    int rc = load_proposal(call, a[0].u, &p);
    if (!rc)
        rc = count_votes(call, &p, &yes, &no);
    if (!rc)
        cv_call_result(call, proposal_json(call, &p, yes, no));
    free_proposal(&p);
    return rc;
}

static json_t *render_validator(const cv_call *call, const uint8_t *id, size_t id_len,
                                const uint8_t *value, size_t len)
{
    validator_rec v;
    char who[CV_ADDR_STR_MAX];
    if (id_len != CV_ADDR_LEN || decode_validator(value, len, &v))
        return NULL;
    cv_call_address_string(call, id, who);
    return json_pack("{s:s, s:o, s:I, s:s}", "address", who, "public_key", hex_json(v.pub.bytes, v.pub.len),
                     "power", (json_int_t)v.power, "org", v.org);
}

static int q_validators(cv_call *call, const cv_arg *a)
{
    return list_query(call, CV_GOV_VALIDATOR_PREFIX, render_validator);
}

/* ---- genesis -------------------------------------------------------------------- */

static int genesis_orgs(cv_call *call, const cv_genesis *g)
{
    int rc = CV_OK;
    for (size_t i = 0; i < g->norgs && !rc; i++) {
        org_rec o = {.active = 1};
        snprintf(o.name, sizeof o.name, "%s", g->orgs[i].name);
        if (!(rc = check_id("org id", g->orgs[i].id, strlen(g->orgs[i].id))))
            rc = store(call, str_key("org/", g->orgs[i].id), encode_org, &o);
    }
    return rc;
}

static int genesis_accounts(cv_call *call, const cv_genesis *g)
{
    int rc = CV_OK;
    for (size_t i = 0; i < g->naccounts && !rc; i++) {
        const cv_genesis_account *ga = &g->accounts[i];
        cv_account acct;
        memset(&acct, 0, sizeof acct);
        snprintf(acct.org, sizeof acct.org, "%s", ga->org);
        acct.pub = ga->pub;
        for (size_t r = 0; r < ga->nroles && !rc; r++)
            rc = add_role(&acct, ga->roles[r], strlen(ga->roles[r]));
        if (!rc)
            rc = cv_address(&ga->pub, acct.address);
        if (!rc)
            rc = store(call, make_key("acct/", acct.address, CV_ADDR_LEN), encode_account, &acct);
    }
    return rc;
}

static int genesis_validators(cv_call *call, const cv_genesis *g)
{
    int rc = CV_OK;
    for (size_t i = 0; i < g->nvalidators && !rc; i++) {
        validator_rec v = {.pub = g->validators[i].pub, .power = g->validators[i].power};
        uint8_t addr[CV_ADDR_LEN];
        snprintf(v.org, sizeof v.org, "%s", g->validators[i].org);
        if (!(rc = cv_address(&v.pub, addr)))
            rc = store(call, make_key(CV_GOV_VALIDATOR_PREFIX, addr, CV_ADDR_LEN), encode_validator, &v);
    }
    return rc;
}

static int genesis_params(cv_call *call, const cv_genesis *g)
{
    int rc = CV_OK;
    for (size_t i = 0; i < g->nparams && !rc; i++) {
        const cv_param_info *info = cv_param_find(g->params[i].name);
        uint64_t v = g->params[i].value;
        if (!info || v < info->min || v > info->max)
            return cv_fail(CV_EINVAL, "genesis: parameter %s is unknown or out of range", g->params[i].name);
        rc = store(call, str_key("param/", info->name), encode_param, &v);
    }
    return rc;
}

static int gov_genesis(cv_call *call, const cv_genesis *g)
{
    meta_rec m = {g->norgs, g->nvalidators, 1};
    int rc = genesis_orgs(call, g);
    if (!rc)
        rc = genesis_accounts(call, g);
    if (!rc)
        rc = genesis_validators(call, g);
    if (!rc)
        rc = genesis_params(call, g);
    return rc ? rc : store(call, make_key("meta", NULL, 0), encode_meta, &m);
}

/* ---- the contract ----------------------------------------------------------------- */

#define ARG(n, t, m) {n, t, m}

static const cv_method methods[] = {
    {"propose", m_propose, "admin", 0, 3,
     {ARG("kind", CV_ARG_STR, KIND_MAX), ARG("key", CV_ARG_STR, PROP_KEY_MAX),
      ARG("value", CV_ARG_STR, PROP_VALUE_MAX)},
     "propose a change (set_param, add_org, remove_org, set_validator); the proposer's "
     "organisation votes yes"},
    {"vote", m_vote, "admin", 0, 2, {ARG("id", CV_ARG_UINT, UINT64_MAX), ARG("approve", CV_ARG_UINT, 1)},
     "vote on an open proposal for the sender's organisation (a new vote replaces its earlier one)"},
    {"add_account", m_add_account, "admin", 0, 3,
     {ARG("address", CV_ARG_ADDR, 0), ARG("pubkey", CV_ARG_PUBKEY, 0),
      ARG("roles", CV_ARG_STR, ROLES_TEXT_MAX)},
     "register an account in the sender's organisation; roles comma-separated"},
    {"remove_account", m_remove_account, "admin", 0, 1, {ARG("address", CV_ARG_ADDR, 0)},
     "remove an account of the sender's organisation"},
    {"set_roles", m_set_roles, "admin", 0, 2,
     {ARG("address", CV_ARG_ADDR, 0), ARG("roles", CV_ARG_STR, ROLES_TEXT_MAX)},
     "replace the roles of an account of the sender's organisation"},
    {"org", q_org, NULL, 1, 1, {ARG("id", CV_ARG_STR, CV_ID_MAX)}, "an organisation"},
    {"orgs", q_orgs, NULL, 1, 0, {{0}}, "every organisation, removed ones included"},
    {"account", q_account, NULL, 1, 1, {ARG("address", CV_ARG_ADDR, 0)}, "an account"},
    {"param", q_param, NULL, 1, 1, {ARG("name", CV_ARG_STR, CV_ID_MAX)}, "a chain parameter"},
    {"params", q_params, NULL, 1, 0, {{0}}, "every chain parameter"},
    {"proposal", q_proposal, NULL, 1, 1, {ARG("id", CV_ARG_UINT, UINT64_MAX)}, "a proposal and its votes"},
    {"validators", q_validators, NULL, 1, 0, {{0}}, "the validators and their voting power"},
};

const cv_contract cv_gov_contract = {
    "gov",
    "consortium governance: organisations, accounts, roles, validators, parameters",
    methods,
    sizeof methods / sizeof methods[0],
    gov_genesis,
};
