/* epcis.c: EPCIS 2.0 JSON-LD documents and events as civitas trace reads
 * them (epcis.h): the document's shape, each event's fields checked by its
 * type, its facts, errorDeclaration and hash ID. */
#include "apps/epcis.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "codec/codec.h"

/* The fields each event type may have (after the common ones). */
static const char *const common_fields[] = {
    "type", "eventTime", "eventTimeZoneOffset", "recordTime", "eventID", "errorDeclaration", "bizStep",
    "disposition", "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList", NULL};
static const char *const object_fields[] = {"action", "epcList", "quantityList", "ilmd", NULL};
static const char *const aggregation_fields[] = {"action", "parentID", "childEPCs", "childQuantityList", NULL};
static const char *const transformation_fields[] = {"inputEPCList", "inputQuantityList", "outputEPCList",
                                                    "outputQuantityList", "transformationID", "ilmd", NULL};
static const char *const type_names[] = {"ObjectEvent", "AggregationEvent", "TransformationEvent", NULL};
static const char *const actions[] = {"ADD", "OBSERVE", "DELETE", NULL};

#define ITEM_KINDS (1u << CV_GS1_SGTIN | 1u << CV_GS1_SSCC)
#define CLASS_KINDS (1u << CV_GS1_GTIN | 1u << CV_GS1_LGTIN)

static int index_of(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return i;
    return -1;
}

/* ---- documents ------------------------------------------------------------------- */

static int doc_shape(const json_t *doc, cv_epcis_doc *out)
{
    const json_t *body = json_object_get(doc, "epcisBody");
    out->context = json_object_get(doc, "@context");
    out->events = json_object_get(body, "eventList");
    if (!json_is_object(doc))
        return cv_fail(CV_EINVAL, "an EPCIS document must be a JSON object");
    if (!out->context)
        return cv_fail(CV_EINVAL, "the document has no @context (JSON-LD)");
    if (!json_is_string(json_object_get(doc, "type")) ||
        strcmp(json_string_value(json_object_get(doc, "type")), "EPCISDocument") != 0)
        return cv_fail(CV_EINVAL, "the document's type must be \"EPCISDocument\"");
    if (!json_is_string(json_object_get(doc, "schemaVersion")) ||
        strcmp(json_string_value(json_object_get(doc, "schemaVersion")), "2.0") != 0)
        return cv_fail(CV_EINVAL, "the document's schemaVersion must be \"2.0\"");
    if (!json_is_string(json_object_get(doc, "creationDate")))
        return cv_fail(CV_EINVAL, "the document has no creationDate");
    if (!json_is_array(out->events) || json_array_size(out->events) == 0 ||
        json_array_size(out->events) > CV_EPCIS_EVENTS_MAX)
        return cv_fail(CV_EINVAL, "epcisBody.eventList must list 1 to %d events", CV_EPCIS_EVENTS_MAX);
    return CV_OK;
}

int cv_epcis_doc_parse(const char *text, size_t len, cv_epcis_doc *out)
{
    json_error_t jerr;
    memset(out, 0, sizeof *out);
    if (len > CV_EPCIS_DOC_MAX)
        return cv_fail(CV_EINVAL, "an EPCIS document has at most %u bytes", CV_EPCIS_DOC_MAX);
    out->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!out->doc)
        return cv_fail(CV_EINVAL, "the EPCIS document is not JSON: %s (line %d)", jerr.text, jerr.line);
    int rc = doc_shape(out->doc, out);
    if (rc)
        cv_epcis_doc_free(out);
    return rc;
}

void cv_epcis_doc_free(cv_epcis_doc *d)
{
    json_decref(d->doc);
    memset(d, 0, sizeof *d);
}

size_t cv_epcis_doc_count(const cv_epcis_doc *d)
{
    return json_array_size(d->events);
}

json_t *cv_epcis_doc_single(const cv_epcis_doc *d, size_t i)
{
    return json_pack("{s:O, s:s, s:s, s:O, s:{s:[O]}}", "@context", d->context, "type", "EPCISDocument",
                     "schemaVersion", "2.0", "creationDate", json_object_get(d->doc, "creationDate"), "epcisBody",
                     "eventList", json_array_get(d->events, i));
}

/* ---- events -------------------------------------------------------------------- */

static const char *str_of(const json_t *ev, const char *name)
{
    return json_string_value(json_object_get(ev, name));
}

static int check_fields(const json_t *ev, int type)
{
    const char *const *own = type == 0 ? object_fields : type == 1 ? aggregation_fields : transformation_fields;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)ev, key, v) if (index_of(common_fields, key) < 0 && index_of(own, key) < 0) return cv_fail(
        CV_EINVAL, "field '%.60s' is not supported in a %s by civitas trace", key, type_names[type]);
    return CV_OK;
}

/* A code of one of `kinds` (a bit mask of cv_gs1_kind). */
static int read_code(const char *field, const json_t *v, unsigned kinds, cv_gs1_code *code)
{
    if (!json_is_string(v))
        return cv_fail(CV_EINVAL, "%s must be a GS1 code string", field);
    if (cv_gs1_parse(json_string_value(v), code))
        return CV_EINVAL;
    if (!(kinds & 1u << code->kind))
        return cv_fail(CV_EINVAL, "%s: '%.100s' is a %s code", field, json_string_value(v),
                       cv_gs1_kind_name(code->kind));
    return CV_OK;
}

/* Adds the codes of an EPC list (or, with classes, a quantity list's epcClass). */
static int read_codes(const json_t *ev, const char *name, int classes, cv_trace_facts *f, int list)
{
    const json_t *arr = json_object_get(ev, name), *el;
    size_t i;
    cv_gs1_code code;
    if (!arr)
        return CV_OK;
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return cv_fail(CV_EINVAL, "%s must be a non-empty list", name);
    json_array_foreach(arr, i, el) {
        const json_t *v = classes ? json_object_get(el, "epcClass") : el;
        int rc = read_code(name, v, classes ? CLASS_KINDS : ITEM_KINDS, &code);
        if (!rc)
            rc = cv_trace_facts_add(f, list, &code);
        if (rc)
            return rc;
    }
    return CV_OK;
}

static int read_what(const json_t *ev, cv_trace_facts *f)
{
    int rc = read_codes(ev, "epcList", 0, f, 0);
    if (!rc)
        rc = read_codes(ev, "quantityList", 1, f, 0);
    if (!rc)
        rc = read_codes(ev, "childEPCs", 0, f, 0);
    if (!rc)
        rc = read_codes(ev, "childQuantityList", 1, f, 0);
    if (!rc)
        rc = read_codes(ev, "inputEPCList", 0, f, 1);
    if (!rc)
        rc = read_codes(ev, "inputQuantityList", 1, f, 1);
    if (!rc)
        rc = read_codes(ev, "outputEPCList", 0, f, 2);
    if (!rc)
        rc = read_codes(ev, "outputQuantityList", 1, f, 2);
    if (!rc && !f->nwhat && !f->ninputs && !f->noutputs && f->type != CV_TRACE_AGGREGATION)
        rc = cv_fail(CV_EINVAL, "the event names no EPC or quantity");
    return rc;
}

/* A key field (readPoint.id, parentID...) into out, if present. */
static int read_key(const json_t *v, const char *field, unsigned kinds, char out[CV_GS1_KEY_MAX + 1])
{
    cv_gs1_code code;
    int rc = v ? read_code(field, v, kinds, &code) : CV_OK;
    if (!rc && v)
        memcpy(out, code.key, sizeof code.key);
    return rc;
}

/* The owning party of a sourceList or destinationList into out. */
static int read_parties(const json_t *ev, const char *name, const char *key, char out[CV_GS1_KEY_MAX + 1])
{
    const json_t *arr = json_object_get(ev, name), *el;
    size_t i;
    json_array_foreach(arr, i, el) {
        const char *type = str_of(el, "type");
        char party[CV_GS1_KEY_MAX + 1];
        int rc = read_key(json_object_get(el, key), name, 1u << CV_GS1_PGLN | 1u << CV_GS1_SGLN, party);
        if (rc)
            return rc;
        if (!type)
            return cv_fail(CV_EINVAL, "%s: each element needs a type", name);
        if ((strcmp(type, "owning_party") == 0 || strcmp(type, "https://ref.gs1.org/cbv/SDT-owning_party") == 0) &&
            !*out)
            memcpy(out, party, sizeof party);
    }
    return CV_OK;
}

static int read_where_why(const json_t *ev, cv_trace_facts *f)
{
    const char *step = str_of(ev, "bizStep"), *disp = str_of(ev, "disposition"), *word;
    if (!step)
        return cv_fail(CV_EINVAL, "the event has no bizStep (civitas trace needs one)");
    if (!(word = cv_epcis_cbv_word(step, "BizStep-")))
        return cv_fail(CV_EINVAL, "bizStep '%.80s' is not a CBV 2.0 business step (a bare word or "
                                  "https://ref.gs1.org/cbv/BizStep-...)", step);
    snprintf(f->biz_step, sizeof f->biz_step, "%s", word);
    if (json_object_get(ev, "disposition") && !(disp && (word = cv_epcis_cbv_word(disp, "Disp-"))))
        return cv_fail(CV_EINVAL, "disposition '%.80s' is not a CBV 2.0 disposition", disp ? disp : "(not a string)");
    if (disp)
        snprintf(f->disposition, sizeof f->disposition, "%s", word);
    int rc = read_key(json_object_get(json_object_get(ev, "readPoint"), "id"), "readPoint.id", 1u << CV_GS1_SGLN,
                      f->read_point);
    if (!rc)
        rc = read_key(json_object_get(json_object_get(ev, "bizLocation"), "id"), "bizLocation.id",
                      1u << CV_GS1_SGLN, f->biz_location);
    if (!rc)
        rc = read_parties(ev, "sourceList", "source", f->source);
    if (!rc)
        rc = read_parties(ev, "destinationList", "destination", f->destination);
    return rc ? rc : read_key(json_object_get(ev, "parentID"), "parentID", ITEM_KINDS, f->parent);
}

static int read_when(const json_t *ev, cv_trace_facts *f)
{
    const char *t = str_of(ev, "eventTime"), *tz = str_of(ev, "eventTimeZoneOffset"), *rt = str_of(ev, "recordTime");
    uint64_t ms;
    if (!t || !tz)
        return cv_fail(CV_EINVAL, "the event needs eventTime and eventTimeZoneOffset");
    if (cv_epcis_time_parse(t, &f->event_time_ms))
        return cv_fail(CV_EINVAL, "eventTime: %s", cv_errmsg());
    char probe[40];
    snprintf(probe, sizeof probe, "1970-01-02T00:00%.20s", tz);
    if (strlen(tz) != 6 || cv_epcis_time_parse(probe, &ms))
        return cv_fail(CV_EINVAL, "eventTimeZoneOffset '%.20s' must be +hh:mm or -hh:mm", tz);
    memcpy(f->tz, tz, 7);
    if (json_object_get(ev, "recordTime") && (!rt || cv_epcis_time_parse(rt, &ms)))
        return cv_fail(CV_EINVAL, "recordTime must be a date and time");
    return CV_OK;
}

static int read_type(const json_t *ev, cv_trace_facts *f, int *type)
{
    const char *t = str_of(ev, "type"), *action = str_of(ev, "action");
    if (!t || (*type = index_of(type_names, t)) < 0)
        return cv_fail(CV_EINVAL, "event type '%.60s' is not supported (ObjectEvent, AggregationEvent, "
                                  "TransformationEvent)", t ? t : "(none)");
    f->type = (uint64_t)(*type + 1);
    if (*type == 2)
        return CV_OK;
    int a = action ? index_of(actions, action) : -1;
    if (a < 0)
        return cv_fail(CV_EINVAL, "a %s needs an action: ADD, OBSERVE or DELETE", t);
    f->action = (uint64_t)(a + 1);
    if (*type == 1 && !json_object_get(ev, "parentID"))
        return cv_fail(CV_EINVAL, "an AggregationEvent needs its parentID (civitas trace)");
    return CV_OK;
}

static int read_error_declaration(const json_t *ev, cv_epcis_event *out)
{
    const json_t *decl = json_object_get(ev, "errorDeclaration"), *ids = json_object_get(decl, "correctiveEventIDs");
    const char *when = json_string_value(json_object_get(decl, "declarationTime"));
    const json_t *reason = json_object_get(decl, "reason");
    uint64_t ms;
    if (!decl)
        return CV_OK;
    if (!json_is_object(decl) || !when || cv_epcis_time_parse(when, &ms))
        return cv_fail(CV_EINVAL, "errorDeclaration needs a declarationTime");
    if (reason && (!json_is_string(reason) || json_string_length(reason) > CV_TRACE_REASON_MAX))
        return cv_fail(CV_EINVAL, "errorDeclaration.reason must be a string of at most %d bytes", CV_TRACE_REASON_MAX);
    if (ids && !json_is_array(ids))
        return cv_fail(CV_EINVAL, "errorDeclaration.correctiveEventIDs must be a list");
    out->error_declaration = 1;
    snprintf(out->reason, sizeof out->reason, "%s", reason ? json_string_value(reason) : "");
    return CV_OK;
}

static int read_hash(const cv_epcis_doc *d, const json_t *ev, cv_epcis_event *out)
{
    cv_buf pre = {0};
    int rc = cv_epcis_prehash(ev, d->context, &pre);
    if (!rc)
        rc = cv_hash(CV_SUITE_STD, pre.data, pre.len, out->hash);
    cv_buf_free(&pre);
    const char *id = str_of(ev, "eventID");
    char mine[CV_TRACE_ID_MAX + 1];
    cv_trace_event_id(out->hash, mine);
    if (!rc && id && strncmp(id, "ni:///", 6) == 0 && strcmp(id, mine) != 0)
        rc = cv_fail(CV_EINVAL, "eventID %.100s is not the event's hash ID %s", id, mine);
    return rc;
}

int cv_epcis_event_read(const cv_epcis_doc *d, size_t i, cv_epcis_event *out)
{
    const json_t *ev = json_array_get(d->events, i);
    int type = 0;
    memset(out, 0, sizeof *out);
    int rc = json_is_object(ev) ? read_type(ev, &out->facts, &type) : cv_fail(CV_EINVAL, "not a JSON object");
    if (!rc)
        rc = check_fields(ev, type);
    if (!rc)
        rc = read_when(ev, &out->facts);
    if (!rc)
        rc = read_what(ev, &out->facts);
    if (!rc)
        rc = read_where_why(ev, &out->facts);
    if (!rc)
        rc = read_error_declaration(ev, out);
    if (!rc)
        rc = read_hash(d, ev, out);
    if (rc) {
        char why[400];
        snprintf(why, sizeof why, "%s", cv_errmsg());
        cv_epcis_event_free(out);
        return cv_fail(rc, "event %zu: %s", i + 1, why);
    }
    return CV_OK;
}

void cv_epcis_event_free(cv_epcis_event *e)
{
    cv_trace_facts_free(&e->facts);
}

int cv_epcis_event_tx(const cv_epcis_event *e, const char **method, cv_buf *args)
{
    cv_buf facts = {0};
    cv_enc enc;
    int rc = e->error_declaration ? CV_OK : cv_trace_facts_encode(&e->facts, &facts);
    *method = e->error_declaration ? "declare_error" : "record";
    cv_enc_init(&enc, args);
    cv_enc_bytes(&enc, 1, e->hash, CV_HASH_LEN);
    if (e->error_declaration)
        cv_enc_str(&enc, 2, e->reason);
    else
        cv_enc_bytes(&enc, 2, facts.data ? facts.data : (const uint8_t *)"", facts.len);
    cv_buf_free(&facts);
    return rc ? rc : cv_enc_finish(&enc);
}
