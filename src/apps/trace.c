/* trace.c: the traceability contract (trace.h): recording events under the
 * rules of their business step, declaring errors, and looking an event up.
 *
 * The step of an event is "transforming" for a TransformationEvent,
 * "recalling" for an event with disposition recalled (CBV 2.0 has no recall
 * step), else its bizStep. Each step needs one of its roles and applies one
 * rule; "org" is the recording account's organisation:
 *
 *   commission  every code is new; org becomes its custodian
 *   transform   inputs are org's and not recalled; outputs are new (or
 *               org's); org becomes the outputs' custodian
 *   ship        codes are org's and not in transit; they go in transit
 *   receive     codes are in transit; org becomes their custodian
 *   pack        ADD: children are org's and in no container, the parent is
 *               new or org's; DELETE: children leave the parent and are
 *               org's; OBSERVE: as observe
 *   custody     codes are org's                   (storing, stocking)
 *   observe     codes are known                   (inspecting, holding, ...)
 *   recall      codes are known; they are marked recalled
 *   end         codes are org's; they become inactive (decommissioning,
 *               destroying)
 *   sell        as end, and neither the item nor its batch is recalled
 *
 * A code packed in a container has the custodian and transit status of its
 * outermost container. */
#include "apps/trace.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "apps/trace_state.h"
#include "base/err.h"

typedef enum { R_COMMISSION, R_TRANSFORM, R_SHIP, R_RECEIVE, R_PACK, R_CUSTODY, R_OBSERVE, R_RECALL, R_END, R_SELL } rule;

typedef struct {
    const char *step;
    rule rule;
    const char *roles[4];
} step_rule;

static const step_rule steps[] = {
    {"commissioning", R_COMMISSION, {"producer", "processor", NULL}},
    {"transforming", R_TRANSFORM, {"processor", NULL}},
    {"shipping", R_SHIP, {"logistics", NULL}},
    {"receiving", R_RECEIVE, {"logistics", "retailer", NULL}},
    {"packing", R_PACK, {"processor", "logistics", NULL}},
    {"unpacking", R_PACK, {"processor", "logistics", "retailer", NULL}},
    {"storing", R_CUSTODY, {"logistics", "processor", "retailer", NULL}},
    {"stocking", R_CUSTODY, {"retailer", NULL}},
    {"accepting", R_OBSERVE, {"logistics", "retailer", NULL}},
    {"arriving", R_OBSERVE, {"logistics", NULL}},
    {"departing", R_OBSERVE, {"logistics", NULL}},
    {"loading", R_OBSERVE, {"logistics", NULL}},
    {"unloading", R_OBSERVE, {"logistics", NULL}},
    {"transporting", R_OBSERVE, {"logistics", NULL}},
    {"inspecting", R_OBSERVE, {"inspector", "regulator", NULL}},
    {"sampling", R_OBSERVE, {"inspector", "regulator", NULL}},
    {"holding", R_OBSERVE, {"regulator", "inspector", NULL}},
    {"recalling", R_RECALL, {"regulator", NULL}},
    {"decommissioning", R_END, {"producer", "processor", "retailer", NULL}},
    {"destroying", R_END, {"processor", "retailer", "regulator", NULL}},
    {"retail_selling", R_SELL, {"retailer", NULL}},
};

/* ---- roles ------------------------------------------------------------------- */

static const char *step_of(const cv_trace_facts *f)
{
    if (f->type == CV_TRACE_TRANSFORMATION)
        return "transforming";
    return strcmp(f->disposition, "recalled") == 0 ? "recalling" : f->biz_step;
}

static int unsupported_step(const char *step)
{
    char list[600] = "";
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", steps[i].step);
    return cv_fail(CV_EINVAL, "trace does not record the business step '%s' (it records %s)", step, list);
}

static int check_role(const cv_call *call, const step_rule *s)
{
    char roles[100] = "";
    for (size_t i = 0; s->roles[i]; i++) {
        if (cv_call_has_role(call->sender, s->roles[i]))
            return CV_OK;
        snprintf(roles + strlen(roles), sizeof roles - strlen(roles), "%s%s", i ? " or " : "", s->roles[i]);
    }
    char who[CV_ADDR_STR_MAX];
    cv_call_address_string(call, call->sender->address, who);
    return cv_fail(CV_EPERM, "account %s (%s) lacks the role %s needed to record %s", who, call->sender->org, roles,
                   s->step);
}

static int find_step(const cv_call *call, const cv_trace_facts *f, const step_rule **out)
{
    const char *step = step_of(f);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (strcmp(steps[i].step, step) == 0) {
            *out = &steps[i];
            return check_role(call, &steps[i]);
        }
    return unsupported_step(step);
}

/* ---- custody ------------------------------------------------------------------ */

static int unknown_code(const char *key)
{
    return cv_fail(CV_ENOTFOUND, "unknown code %s%s: it was never commissioned", CV_GS1_DOMAIN, key);
}

/* The custody record of key, which must exist. */
static int known(const cv_call *call, const char *key, cv_trace_custody *c)
{
    int rc = cv_trace_load_custody(call, key, c);
    return rc == CV_ENOTFOUND ? unknown_code(key) : rc;
}

/* The custody that governs key: that of its outermost container. */
static int effective(const cv_call *call, const char *key, cv_trace_custody *out)
{
    int rc = cv_trace_effective_custody(call, key, out);
    return rc == CV_ENOTFOUND ? unknown_code(key) : rc;
}

static int require_custodian(const cv_call *call, const char *key, int not_in_transit)
{
    cv_trace_custody c;
    int rc = effective(call, key, &c);
    if (rc)
        return rc;
    if (strcmp(c.owner, call->sender->org) != 0)
        return cv_fail(CV_EPERM, "%s is not the custodian of %s%s (its custodian is %s)", call->sender->org,
                       CV_GS1_DOMAIN, key, c.owner);
    if (not_in_transit && c.status == CV_TRACE_IN_TRANSIT)
        return cv_fail(CV_ESTATE, "%s%s is in transit: it must be received first", CV_GS1_DOMAIN, key);
    if (c.status == CV_TRACE_INACTIVE)
        return cv_fail(CV_ESTATE, "%s%s is no longer active (sold, decommissioned or destroyed)", CV_GS1_DOMAIN, key);
    return CV_OK;
}

/* A batch named only in its items' codes has no record: it is not recalled. */
static int not_recalled(const cv_call *call, const char *key, const char *what)
{
    cv_trace_custody c;
    int rc = *key ? cv_trace_load_custody(call, key, &c) : CV_ENOTFOUND;
    if (!rc && c.recalled)
        return cv_fail(CV_ESTATE, "%s %s%s is recalled", what, CV_GS1_DOMAIN, key);
    return rc == CV_ENOTFOUND ? CV_OK : rc;
}

/* ---- applying an event to custody ------------------------------------------------ */

typedef struct {
    cv_call *call;
    const cv_trace_facts *f;
    const uint8_t *hash;
} applying;

typedef int (*code_fn)(applying *a, const cv_trace_code *code);

static int each(applying *a, const cv_trace_code *codes, size_t n, code_fn fn)
{
    int rc = CV_OK;
    for (size_t i = 0; !rc && i < n; i++)
        rc = fn(a, &codes[i]);
    return rc;
}

/* Updates key's record through fn after loading it. */
static int update(applying *a, const char *key, void (*fn)(applying *a, cv_trace_custody *c))
{
    cv_trace_custody c;
    int rc = known(a->call, key, &c);
    if (rc)
        return rc;
    fn(a, &c);
    memcpy(c.last, a->hash, CV_HASH_LEN);
    return cv_trace_store_custody(a->call, key, &c);
}

static void set_in_transit(applying *a, cv_trace_custody *c) { c->status = CV_TRACE_IN_TRANSIT; }
static void set_received(applying *a, cv_trace_custody *c)
{
    snprintf(c->owner, sizeof c->owner, "%s", a->call->sender->org);
    c->status = CV_TRACE_ACTIVE;
}
static void set_recalled(applying *a, cv_trace_custody *c) { c->recalled = 1; }
static void set_inactive(applying *a, cv_trace_custody *c) { c->status = CV_TRACE_INACTIVE; }
static void set_packed(applying *a, cv_trace_custody *c) { memcpy(c->parent, a->f->parent, sizeof c->parent); }
static void set_unpacked(applying *a, cv_trace_custody *c)
{
    c->parent[0] = '\0';
    set_received(a, c);
}
static void set_touched(applying *a, cv_trace_custody *c) { (void)c; }

static int create(applying *a, const cv_trace_code *code)
{
    cv_trace_custody c;
    int rc = cv_trace_load_custody(a->call, code->key, &c);
    if (rc != CV_ENOTFOUND)
        return rc ? rc : cv_fail(CV_EEXIST, "%s%s was already commissioned (codes are issued once)", CV_GS1_DOMAIN,
                                 code->key);
    memset(&c, 0, sizeof c);
    set_received(a, &c);
    memcpy(c.last, a->hash, CV_HASH_LEN);
    return cv_trace_store_custody(a->call, code->key, &c);
}

/* An output of a transformation: new, or already org's (a batch produced in runs). */
static int produce(applying *a, const cv_trace_code *code)
{
    cv_trace_custody c;
    int rc = cv_trace_load_custody(a->call, code->key, &c);
    if (rc == CV_ENOTFOUND)
        return create(a, code);
    return rc ? rc : require_custodian(a->call, code->key, 1);
}

static int consume(applying *a, const cv_trace_code *code)
{
    int rc = require_custodian(a->call, code->key, 1);
    if (!rc)
        rc = not_recalled(a->call, code->key, "input");
    return rc ? rc : not_recalled(a->call, code->batch, "input batch");
}

static int ship(applying *a, const cv_trace_code *code)
{
    int rc = require_custodian(a->call, code->key, 1);
    return rc ? rc : update(a, code->key, set_in_transit);
}

static int receive(applying *a, const cv_trace_code *code)
{
    cv_trace_custody c;
    int rc = effective(a->call, code->key, &c);
    if (!rc && c.status != CV_TRACE_IN_TRANSIT)
        rc = cv_fail(CV_ESTATE, "%s%s is not in transit: only a shipped code can be received", CV_GS1_DOMAIN,
                     code->key);
    return rc ? rc : update(a, code->key, set_received);
}

static int pack_child(applying *a, const cv_trace_code *code)
{
    cv_trace_custody c;
    int rc = require_custodian(a->call, code->key, 1);
    if (!rc && (rc = known(a->call, code->key, &c)) == CV_OK && *c.parent)
        rc = cv_fail(CV_ESTATE, "%s%s is already packed in %s%s", CV_GS1_DOMAIN, code->key, CV_GS1_DOMAIN, c.parent);
    return rc ? rc : update(a, code->key, set_packed);
}

static int unpack_child(applying *a, const cv_trace_code *code)
{
    cv_trace_custody c;
    int rc = known(a->call, code->key, &c);
    if (!rc && strcmp(c.parent, a->f->parent) != 0)
        rc = cv_fail(CV_ESTATE, "%s%s is not packed in %s%s", CV_GS1_DOMAIN, code->key, CV_GS1_DOMAIN, a->f->parent);
    return rc ? rc : update(a, code->key, set_unpacked);
}

static int is_known(applying *a, const cv_trace_code *code)
{
    cv_trace_custody c;
    int rc = known(a->call, code->key, &c);
    return rc ? rc : update(a, code->key, set_touched);
}

static int hold(applying *a, const cv_trace_code *code)
{
    int rc = require_custodian(a->call, code->key, 1);
    return rc ? rc : update(a, code->key, set_touched);
}

static int recall(applying *a, const cv_trace_code *code)
{
    return update(a, code->key, set_recalled);
}

static int end(applying *a, const cv_trace_code *code)
{
    int rc = require_custodian(a->call, code->key, 1);
    return rc ? rc : update(a, code->key, set_inactive);
}

static int sell(applying *a, const cv_trace_code *code)
{
    int rc = not_recalled(a->call, code->key, "item");
    if (!rc)
        rc = not_recalled(a->call, code->batch, "the batch of item");
    return rc ? rc : end(a, code);
}

static int each_code(applying *a, code_fn fn);

static int pack(applying *a)
{
    cv_trace_code parent;
    memset(&parent, 0, sizeof parent);
    memcpy(parent.key, a->f->parent, sizeof parent.key);
    if (a->f->action == CV_TRACE_DELETE)
        return each(a, a->f->what, a->f->nwhat, unpack_child);
    if (a->f->action == CV_TRACE_OBSERVE)
        return each_code(a, is_known);
    cv_trace_custody c;
    int rc = cv_trace_load_custody(a->call, parent.key, &c);
    rc = rc == CV_ENOTFOUND ? create(a, &parent) : rc ? rc : hold(a, &parent);
    return rc ? rc : each(a, a->f->what, a->f->nwhat, pack_child);
}

/* Applies fn to every code the event names (parent first). */
static int each_code(applying *a, code_fn fn)
{
    cv_trace_code parent;
    memset(&parent, 0, sizeof parent);
    memcpy(parent.key, a->f->parent, sizeof parent.key);
    int rc = *parent.key ? fn(a, &parent) : CV_OK;
    if (!rc)
        rc = each(a, a->f->what, a->f->nwhat, fn);
    return rc;
}

static int apply_rule(applying *a, rule r)
{
    const cv_trace_facts *f = a->f;
    int rc;
    switch (r) {
    case R_COMMISSION: return each_code(a, create);
    case R_TRANSFORM:
        rc = each(a, f->inputs, f->ninputs, consume);
        return rc ? rc : each(a, f->outputs, f->noutputs, produce);
    case R_SHIP: return each_code(a, ship);
    case R_RECEIVE: return each_code(a, receive);
    case R_PACK: return pack(a);
    case R_CUSTODY: return each_code(a, hold);
    case R_RECALL: return each_code(a, recall);
    case R_END: return each_code(a, end);
    case R_SELL: return each_code(a, sell);
    default: return each_code(a, is_known);
    }
}

/* ---- indexing ------------------------------------------------------------------- */

static int index_key(cv_call *call, const char *key, uint64_t seq, const uint8_t hash[CV_HASH_LEN])
{
    uint8_t k[1 + CV_GS1_KEY_MAX + 1 + 8];
    size_t n = cv_trace_index_prefix(key, k);
    for (int i = 7; i >= 0; i--, seq >>= 8)
        k[n + (size_t)i] = (uint8_t)seq;
    return cv_call_put(call, k, n + 8, hash, CV_HASH_LEN);
}

static int index_list(cv_call *call, const cv_trace_code *codes, size_t n, uint64_t seq, const uint8_t *hash)
{
    int rc = CV_OK;
    for (size_t i = 0; !rc && i < n; i++) {
        rc = index_key(call, codes[i].key, seq, hash);
        if (!rc && *codes[i].batch) /* an item is traced to its batch */
            rc = index_key(call, codes[i].batch, seq, hash);
    }
    return rc;
}

static int index_event(cv_call *call, const cv_trace_facts *f, uint64_t seq, const uint8_t *hash)
{
    int rc = *f->parent ? index_key(call, f->parent, seq, hash) : CV_OK;
    if (!rc)
        rc = index_list(call, f->what, f->nwhat, seq, hash);
    if (!rc)
        rc = index_list(call, f->inputs, f->ninputs, seq, hash);
    return rc ? rc : index_list(call, f->outputs, f->noutputs, seq, hash);
}

static int next_seq(cv_call *call, uint64_t *seq)
{
    cv_buf v = {0};
    uint8_t next[8];
    int rc = cv_call_get(call, "n", 1, &v);
    *seq = 0;
    if (rc == CV_ENOTFOUND)
        rc = CV_OK;
    else if (!rc && v.len != sizeof next)
        rc = cv_fail(CV_ESTATE, "trace: corrupt event counter");
    for (size_t i = 0; !rc && i < v.len; i++)
        *seq = *seq << 8 | v.data[i];
    cv_buf_free(&v);
    for (int i = 7, shift = 0; i >= 0; i--, shift += 8)
        next[i] = (uint8_t)((*seq + 1) >> shift);
    return rc ? rc : cv_call_put(call, "n", 1, next, sizeof next);
}

/* ---- methods -------------------------------------------------------------------- */

static int emit(cv_call *call, const char *name, const uint8_t hash[CV_HASH_LEN], const char *key, const char *value)
{
    char id[CV_TRACE_ID_MAX + 1];
    cv_event ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.name, sizeof ev.name, "%s", name);
    cv_trace_event_id(hash, id);
    int rc = cv_event_attr(&ev, "id", id);
    if (!rc)
        rc = cv_event_attr(&ev, key, value);
    return rc ? rc : cv_call_emit(call, &ev);
}

static int already_recorded(const cv_call *call, const uint8_t *hash, int rc, const cv_trace_event_rec *r)
{
    char id[CV_TRACE_ID_MAX + 1];
    cv_trace_event_id(hash, id);
    return rc ? rc : cv_fail(CV_EEXIST, "event %s was already recorded at height %" PRIu64, id, r->height);
}

static int record(cv_call *call, const uint8_t *hash, const cv_arg *facts_arg, const cv_trace_facts *f)
{
    const step_rule *s = NULL;
    cv_trace_event_rec r;
    int rc = cv_trace_load_event(call, hash, &r);
    if (rc != CV_ENOTFOUND) {
        rc = already_recorded(call, hash, rc, &r);
        cv_trace_event_rec_free(&r);
        return rc;
    }
    applying a = {call, f, hash};
    if ((rc = find_step(call, f, &s)) || (rc = apply_rule(&a, s->rule)) || (rc = next_seq(call, &r.seq)) ||
        (rc = index_event(call, f, r.seq, hash)))
        return rc;
    r.height = call->height;
    r.time_ms = call->time_ms;
    memcpy(r.tx, call->tx_hash, CV_HASH_LEN);
    memcpy(r.recorder, call->sender->address, CV_ADDR_LEN);
    snprintf(r.org, sizeof r.org, "%s", call->sender->org);
    rc = cv_buf_append(&r.facts, facts_arg->b, facts_arg->len);
    if (!rc)
        rc = cv_trace_store_event(call, hash, &r);
    cv_trace_event_rec_free(&r);
    return rc ? rc : emit(call, "recorded", hash, "step", s->step);
}

static int m_record(cv_call *call, const cv_arg *a)
{
    cv_trace_facts f;
    int rc = cv_trace_facts_decode(a[1].b, a[1].len, &f);
    if (rc)
        return rc;
    rc = record(call, a[0].b, &a[1], &f);
    cv_trace_facts_free(&f);
    return rc;
}

static int unknown_event(const uint8_t *hash)
{
    char id[CV_TRACE_ID_MAX + 1];
    cv_trace_event_id(hash, id);
    return cv_fail(CV_ENOTFOUND, "event %s was never recorded", id);
}

static int may_declare(const cv_call *call, const cv_trace_event_rec *r)
{
    if (strcmp(r->org, call->sender->org) == 0 || cv_call_has_role(call->sender, "regulator"))
        return CV_OK;
    return cv_fail(CV_EPERM, "only the recording organisation (%s) or a regulator may declare an error on this event",
                   r->org);
}

static int m_declare_error(cv_call *call, const cv_arg *a)
{
    cv_trace_event_rec r;
    int rc = cv_trace_load_event(call, a[0].b, &r);
    if (rc == CV_ENOTFOUND)
        return unknown_event(a[0].b);
    if (!rc)
        rc = may_declare(call, &r);
    if (!rc && r.declared)
        rc = cv_fail(CV_EEXIST, "an error was already declared on this event at height %" PRIu64, r.declared_height);
    if (!rc) {
        r.declared = 1;
        snprintf(r.reason, sizeof r.reason, "%s", a[1].s);
        memcpy(r.declared_by, call->sender->address, CV_ADDR_LEN);
        r.declared_height = call->height;
        rc = cv_trace_store_event(call, a[0].b, &r);
    }
    cv_trace_event_rec_free(&r);
    return rc ? rc : emit(call, "error_declared", a[0].b, "reason", a[1].s);
}

static int q_event(cv_call *call, const cv_arg *a)
{
    cv_trace_event_rec r;
    cv_trace_facts f;
    int rc = cv_trace_load_event(call, a[0].b, &r);
    if (rc == CV_ENOTFOUND)
        return unknown_event(a[0].b);
    if (!rc && !(rc = cv_trace_facts_load(r.facts.data, r.facts.len, &f))) {
        json_t *v = cv_trace_event_json(call, a[0].b, &r, &f);
        rc = v ? CV_OK : cv_fail(CV_ENOMEM, "out of memory rendering an event");
        cv_call_result(call, v);
        cv_trace_facts_free(&f);
    }
    cv_trace_event_rec_free(&r);
    return rc;
}

static const cv_method methods[] = {
    {"record", m_record, NULL, 0, 2, {{"event", CV_ARG_HASH, 0}, {"facts", CV_ARG_BYTES, CV_TRACE_FACTS_MAX}},
     "record an EPCIS event: its hash ID's SHA-256 and its facts (the role and custody its step needs)"},
    {"declare_error", m_declare_error, NULL, 0, 2,
     {{"event", CV_ARG_HASH, 0}, {"reason", CV_ARG_STR, CV_TRACE_REASON_MAX}},
     "declare an error on a recorded event (its recording organisation or a regulator)"},
    {"event", q_event, NULL, 1, 1, {{"event", CV_ARG_HASH, 0}}, "a recorded event: facts, recorder, block"},
    {"history", cv_trace_q_history, NULL, 1, 2, {{"code", CV_ARG_STR, CV_GS1_INPUT_MAX}, {"limit", CV_ARG_UINT, 100000}},
     "an item's events, with its upstream inputs (through transformations) and containers (through aggregations)"},
    {"impact", cv_trace_q_impact, NULL, 1, 2, {{"code", CV_ARG_STR, CV_GS1_INPUT_MAX}, {"limit", CV_ARG_UINT, 100000}},
     "what a recalled code reaches downstream: items made from it, packed in it, in its batch or shipped with it"},
};

const cv_contract cv_trace_contract = {
    "trace",
    "traceability: GS1 EPCIS 2.0 events with role and custody rules, item history, recall impact",
    methods,
    sizeof methods / sizeof methods[0],
    NULL,
};
