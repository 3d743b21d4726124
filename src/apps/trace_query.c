/* trace_query.c: the trace contract's graph queries (trace_state.h), a
 * breadth-first walk over the per-code event index.
 *
 * history(code): every event of the code and, upstream, of the inputs it
 * was made from (TransformationEvent outputs -> inputs), the containers it
 * was packed in (AggregationEvent child -> parent) and its batch (an item
 * written with one), transitively.
 *
 * impact(code): downstream of a recalled code: what was made from it
 * (inputs -> outputs), what it contains (parent -> children), the items of
 * a batch, the containers it was packed in and, as "shipped_with", the other
 * contents of those containers (not followed further).
 *
 * Both stop after `limit` codes or events (0: 10,000), saying truncated. */
#include <stdlib.h>
#include <string.h>

#include "apps/trace_state.h"
#include "base/err.h"

#define LIMIT_DEFAULT 10000

typedef enum { REL_SELF, REL_INPUT, REL_CONTAINER, REL_BATCH, REL_MADE_FROM, REL_CONTAINED, REL_IN_BATCH,
               REL_SHIPPED_WITH } relation;
static const char *const relation_names[] = {"self", "input", "container", "batch", "made_from", "contained",
                                             "in_batch", "shipped_with"};

typedef struct {
    char key[CV_GS1_KEY_MAX + 1];
    relation rel;
    unsigned depth;
    uint8_t via[CV_HASH_LEN]; /* the event that linked it */
} node;

typedef struct {
    uint64_t seq;
    json_t *json;
} found_event;

typedef struct {
    cv_call *call;
    int downstream;
    size_t limit;
    int truncated;
    node *nodes;
    size_t nnodes, cap;
    json_t *seen;           /* code key -> true */
    json_t *seen_events;    /* hex hash -> true */
    found_event *events;
    size_t nevents, ecap;
} walk;

static int no_memory(void)
{
    return cv_fail(CV_ENOMEM, "out of memory walking the trace graph");
}

/* Adds a code to visit unless it was seen; past the limit, marks truncated. */
static int visit(walk *w, const char *key, relation rel, unsigned depth, const uint8_t *via)
{
    if (json_object_get(w->seen, key))
        return CV_OK;
    if (w->nnodes == w->limit) {
        w->truncated = 1;
        return CV_OK;
    }
    if (w->nnodes == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        node *grown = realloc(w->nodes, cap * sizeof *grown);
        if (!grown)
            return no_memory();
        w->nodes = grown;
        w->cap = cap;
    }
    node *n = &w->nodes[w->nnodes++];
    memset(n, 0, sizeof *n);
    memcpy(n->key, key, strlen(key) + 1);
    n->rel = rel;
    n->depth = depth;
    if (via)
        memcpy(n->via, via, CV_HASH_LEN);
    return json_object_set_new(w->seen, key, json_true()) ? no_memory() : CV_OK;
}

static int add_event(walk *w, const uint8_t *hash, const cv_trace_event_rec *r, const cv_trace_facts *f)
{
    char hex[2 * CV_HASH_LEN + 1];
    cv_hex_encode(hash, CV_HASH_LEN, hex);
    if (json_object_get(w->seen_events, hex))
        return CV_OK;
    if (w->nevents == w->limit) {
        w->truncated = 1;
        return CV_OK;
    }
    if (w->nevents == w->ecap) {
        size_t cap = w->ecap ? 2 * w->ecap : 64;
        found_event *grown = realloc(w->events, cap * sizeof *grown);
        if (!grown)
            return no_memory();
        w->events = grown;
        w->ecap = cap;
    }
    json_t *v = cv_trace_event_json(w->call, hash, r, f);
    if (!v || json_object_set_new(w->seen_events, hex, json_true())) {
        json_decref(v);
        return no_memory();
    }
    w->events[w->nevents++] = (found_event){r->seq, v};
    return CV_OK;
}

static int in_list(const cv_trace_code *codes, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(codes[i].key, key) == 0)
            return 1;
    return 0;
}

static int visit_all(walk *w, const cv_trace_code *codes, size_t n, const char *skip, relation rel, unsigned depth,
                     const uint8_t *via)
{
    int rc = CV_OK;
    for (size_t i = 0; !rc && i < n; i++)
        if (strcmp(codes[i].key, skip) != 0)
            rc = visit(w, codes[i].key, rel, depth, via);
    return rc;
}

/* The items of batch n among codes. */
static int visit_batch_items(walk *w, const node *n, const cv_trace_code *codes, size_t count, const uint8_t *via)
{
    int rc = CV_OK;
    for (size_t i = 0; !rc && i < count; i++)
        if (strcmp(codes[i].batch, n->key) == 0)
            rc = visit(w, codes[i].key, REL_IN_BATCH, n->depth + 1, via);
    return rc;
}

static int follow_up(walk *w, const node *n, const cv_trace_facts *f, const uint8_t *via)
{
    unsigned d = n->depth + 1;
    int rc = CV_OK;
    if (f->type == CV_TRACE_TRANSFORMATION && in_list(f->outputs, f->noutputs, n->key))
        rc = visit_all(w, f->inputs, f->ninputs, "", REL_INPUT, d, via);
    if (!rc && f->type == CV_TRACE_AGGREGATION && f->action == CV_TRACE_ADD && in_list(f->what, f->nwhat, n->key))
        rc = visit(w, f->parent, REL_CONTAINER, d, via);
    for (size_t i = 0; !rc && i < f->nwhat; i++)
        if (strcmp(f->what[i].key, n->key) == 0 && *f->what[i].batch)
            rc = visit(w, f->what[i].batch, REL_BATCH, d, via);
    return rc;
}

static int follow_down(walk *w, const node *n, const cv_trace_facts *f, const uint8_t *via)
{
    unsigned d = n->depth + 1;
    int rc = CV_OK;
    if (n->rel == REL_SHIPPED_WITH)
        return CV_OK;
    if (f->type == CV_TRACE_TRANSFORMATION && in_list(f->inputs, f->ninputs, n->key))
        rc = visit_all(w, f->outputs, f->noutputs, "", REL_MADE_FROM, d, via);
    if (!rc && f->type == CV_TRACE_AGGREGATION && f->action == CV_TRACE_ADD) {
        if (strcmp(f->parent, n->key) == 0)
            rc = visit_all(w, f->what, f->nwhat, "", n->rel == REL_CONTAINER ? REL_SHIPPED_WITH : REL_CONTAINED, d,
                           via);
        else if (in_list(f->what, f->nwhat, n->key) && !(rc = visit(w, f->parent, REL_CONTAINER, d, via)))
            rc = visit_all(w, f->what, f->nwhat, n->key, REL_SHIPPED_WITH, d, via);
    }
    if (!rc)
        rc = visit_batch_items(w, n, f->what, f->nwhat, via);
    if (!rc)
        rc = visit_batch_items(w, n, f->outputs, f->noutputs, via);
    return rc;
}

/* One event of node i: listed, and followed. */
static int step(walk *w, size_t i, const uint8_t *hash)
{
    cv_trace_event_rec r;
    cv_trace_facts f;
    int rc = cv_trace_load_event(w->call, hash, &r);
    if (rc == CV_ENOTFOUND)
        rc = cv_fail(CV_ESTATE, "trace: the index names an event that is not recorded");
    if (!rc && !(rc = cv_trace_facts_load(r.facts.data, r.facts.len, &f))) {
        node n = w->nodes[i]; /* visit may move the array */
        size_t before = w->nnodes;
        rc = w->downstream ? follow_down(w, &n, &f, hash) : follow_up(w, &n, &f, hash);
        /* impact lists the code's own events and those that reached further */
        if (!rc && (!w->downstream || n.rel == REL_SELF || w->nnodes > before))
            rc = add_event(w, hash, &r, &f);
        cv_trace_facts_free(&f);
    }
    cv_trace_event_rec_free(&r);
    return rc;
}

static int collect_hash(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len)
{
    return value_len == CV_HASH_LEN ? cv_buf_append(ctx, value, value_len)
                                    : cv_fail(CV_ESTATE, "trace: corrupt event index");
}

/* The hashes of the events naming node i, in recording order. */
static int events_of(walk *w, size_t i, cv_buf *hashes)
{
    uint8_t prefix[1 + CV_GS1_KEY_MAX + 1];
    cv_buf_reset(hashes);
    size_t n = cv_trace_index_prefix(w->nodes[i].key, prefix);
    return cv_call_scan(w->call, prefix, n, w->limit + 1, collect_hash, hashes);
}

static int run(walk *w)
{
    cv_buf hashes = {0};
    int rc = CV_OK;
    for (size_t i = 0; !rc && i < w->nnodes; i++) {
        rc = events_of(w, i, &hashes);
        for (size_t k = 0; !rc && k < hashes.len / CV_HASH_LEN; k++)
            rc = step(w, i, hashes.data + k * CV_HASH_LEN);
    }
    cv_buf_free(&hashes);
    return rc;
}

/* ---- the result -------------------------------------------------------------------- */

static int by_seq(const void *a, const void *b)
{
    uint64_t x = ((const found_event *)a)->seq, y = ((const found_event *)b)->seq;
    return x < y ? -1 : x > y;
}

/* Whether the code itself is recalled (not its container). */
static int recalled(const walk *w, const char *key)
{
    cv_trace_custody c;
    return cv_trace_load_custody(w->call, key, &c) == CV_OK && c.recalled;
}

static json_t *node_json(const walk *w, const node *n)
{
    char uri[sizeof CV_GS1_DOMAIN + CV_GS1_KEY_MAX], via[CV_TRACE_ID_MAX + 1];
    cv_trace_custody c;
    cv_gs1_uri(n->key, uri, sizeof uri);
    cv_trace_event_id(n->via, via);
    int known = cv_trace_effective_custody(w->call, n->key, &c) == CV_OK;
    static const char *const status[] = {"unknown", "active", "in_transit", "inactive"};
    return json_pack("{s:s, s:s, s:i, s:s?, s:s?, s:s?, s:b}", "code", uri, "relation", relation_names[n->rel],
                     "depth", (int)n->depth, "via", n->rel == REL_SELF ? NULL : via, "custodian",
                     known ? c.owner : NULL, "status", status[known && c.status <= 3 ? c.status : 0], "recalled",
                     recalled(w, n->key));
}

static json_t *result_json(walk *w)
{
    json_t *codes = json_array(), *events = json_array();
    qsort(w->events, w->nevents, sizeof *w->events, by_seq);
    for (size_t i = 0; codes && i < w->nnodes; i++)
        json_array_append_new(codes, node_json(w, &w->nodes[i]));
    for (size_t i = 0; events && i < w->nevents; i++)
        json_array_append(events, w->events[i].json);
    json_t *first = json_array_get(codes, 0);
    return json_pack("{s:O, s:o, s:o, s:b}", "code", json_object_get(first, "code"), "codes", codes, "events", events,
                     "truncated", w->truncated);
}

static void walk_free(walk *w)
{
    for (size_t i = 0; i < w->nevents; i++)
        json_decref(w->events[i].json);
    free(w->events);
    free(w->nodes);
    json_decref(w->seen);
    json_decref(w->seen_events);
}

static int query(cv_call *call, const cv_arg *a, int downstream)
{
    cv_gs1_code code;
    walk w = {.call = call, .downstream = downstream, .limit = a[1].u ? (size_t)a[1].u : LIMIT_DEFAULT};
    uint8_t prefix[1 + CV_GS1_KEY_MAX + 1];
    cv_buf first = {0};
    int rc = cv_gs1_parse(a[0].s, &code);
    if (!rc && (!(w.seen = json_object()) || !(w.seen_events = json_object())))
        rc = no_memory();
    if (!rc)
        rc = cv_call_scan(call, prefix, cv_trace_index_prefix(code.key, prefix), 1, collect_hash, &first);
    if (!rc && first.len == 0)
        rc = cv_fail(CV_ENOTFOUND, "unknown code %s%s: no event records it", CV_GS1_DOMAIN, code.key);
    cv_buf_free(&first);
    if (!rc)
        rc = visit(&w, code.key, REL_SELF, 0, NULL);
    if (!rc)
        rc = run(&w);
    json_t *v = rc ? NULL : result_json(&w);
    if (!rc && !v)
        rc = no_memory();
    if (!rc)
        cv_call_result(call, v);
    walk_free(&w);
    return rc;
}

int cv_trace_q_history(cv_call *call, const cv_arg *args)
{
    return query(call, args, 0);
}

int cv_trace_q_impact(cv_call *call, const cv_arg *args)
{
    return query(call, args, 1);
}
