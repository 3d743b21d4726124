/* epcis_hash.c: the pre-hash string of the EPCIS event hash ID (epcis.h),
 * and the value normalisation it needs: UTC times with milliseconds, codes
 * as canonical Digital Link URIs, CBV values as Web URIs, numbers as
 * ECMAScript prints them, leading and trailing zeros of decimal strings
 * removed, as the GS1 algorithm and its implementations do. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/epcis.h"
#include "apps/gs1.h"
#include "base/err.h"

#define CBV_WEB "https://ref.gs1.org/cbv/"

/* CBV 2.0 vocabularies whose bare words stand for Web URIs. */
static const char *const biz_steps[] = {
    "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning", "creating_class_instance",
    "cycle_counting", "decommissioning", "departing", "destroying", "disassembling", "dispensing", "encoding",
    "entering_exiting", "holding", "inspecting", "installing", "killing", "loading", "other", "packing", "picking",
    "receiving", "removing", "repackaging", "repairing", "replacing", "reserving", "retail_selling", "sampling",
    "sensor_reporting", "shipping", "staging_outbound", "stock_taking", "stocking", "storing", "transporting",
    "unloading", "unpacking", "void_shipping", NULL};
static const char *const dispositions[] = {
    "active", "available", "completeness_inferred", "completeness_verified", "conformant", "container_closed",
    "container_open", "damaged", "destroyed", "dispensed", "disposed", "encoded", "expired", "in_progress",
    "in_transit", "inactive", "mismatch_instance", "mismatch_class", "mismatch_quantity", "needs_replacement",
    "no_pedigree_match", "non_conformant", "non_sellable_other", "partially_dispensed", "recalled", "reserved",
    "retail_sold", "returned", "sellable_accessible", "sellable_not_accessible", "stolen", "unavailable", "unknown",
    NULL};
static const char *const btt_types[] = {"bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder",
                                        "recadv", "rma", "testprd", "testres", "upevt", NULL};
static const char *const sdt_types[] = {"owning_party", "possessing_party", "location", NULL};

/* The namespaces every EPCIS 2.0 JSON-LD context defines. */
static const char *const default_context[][2] = {
    {"epcis", "https://ref.gs1.org/epcis/"}, {"cbv", "https://ref.gs1.org/cbv/"},
    {"cbvmda", "urn:epcglobal:cbv:mda:"},   {"gs1", "https://gs1.org/voc/"},
    {"rdfs", "http://www.w3.org/2000/01/rdf-schema#"}, {"owl", "http://www.w3.org/2002/07/owl#"},
    {"xsd", "http://www.w3.org/2001/XMLSchema#"}, {"dcterms", "http://purl.org/dc/terms/"},
};

static int in_list(const char *const *list, const char *s)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return 1;
    return 0;
}

const char *cv_epcis_cbv_word(const char *value, const char *kind)
{
    const char *const *vocab = strcmp(kind, "BizStep-") == 0 ? biz_steps : dispositions;
    size_t web = strlen(CBV_WEB), n = strlen(kind);
    if (strncmp(value, CBV_WEB, web) == 0 && strncmp(value + web, kind, n) == 0)
        value += web + n;
    return in_list(vocab, value) ? value : NULL;
}

/* ---- times -------------------------------------------------------------------- */

static int digits_at(const char *s, size_t n, int *out)
{
    *out = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        *out = *out * 10 + (s[i] - '0');
    }
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : days[m - 1];
}

/* "Z", "" or "+hh:mm"/"-hh:mm" as minutes east of UTC. */
static int zone_minutes(const char *z, int *minutes)
{
    int hh, mm;
    *minutes = 0;
    if (!*z || strcmp(z, "Z") == 0)
        return 1;
    if ((z[0] != '+' && z[0] != '-') || strlen(z) != 6 || z[3] != ':' || !digits_at(z + 1, 2, &hh) ||
        !digits_at(z + 4, 2, &mm) || hh > 23 || mm > 59)
        return 0;
    *minutes = (z[0] == '-' ? -1 : 1) * (hh * 60 + mm);
    return 1;
}

int cv_epcis_time_parse(const char *s, uint64_t *ms)
{
    int y, mo, d, h, mi, sec = 0, frac = 0, zone;
    size_t n = strlen(s), pos = 16;
    int ok = n >= 16 && digits_at(s, 4, &y) && s[4] == '-' && digits_at(s + 5, 2, &mo) && s[7] == '-' &&
             digits_at(s + 8, 2, &d) && s[10] == 'T' && digits_at(s + 11, 2, &h) && s[13] == ':' &&
             digits_at(s + 14, 2, &mi);
    if (ok && s[pos] == ':') {
        ok = digits_at(s + pos + 1, 2, &sec);
        pos += 3;
        if (ok && s[pos] == '.') {
            size_t k = 0;
            for (pos++; isdigit((unsigned char)s[pos]); pos++, k++)
                if (k < 3) /* milliseconds; further digits are truncated */
                    frac = frac * 10 + (s[pos] - '0');
            for (; ok && k < 3; k++)
                frac *= 10;
            ok = ok && s[pos - 1] != '.';
        }
    }
    ok = ok && zone_minutes(s + pos, &zone) && y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 &&
         d <= days_in_month(y, mo) && h < 24 && mi < 60 && sec < 60;
    int64_t t = ok ? ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi - zone) * 60 + sec : -1;
    if (!ok || t < 0)
        return cv_fail(CV_EINVAL, "'%.60s' is not a date and time after 1970 (YYYY-MM-DDThh:mm:ss[.sss](Z|+hh:mm))", s);
    *ms = (uint64_t)t * 1000 + (uint64_t)frac;
    return CV_OK;
}

/* "YYYY-MM-DDThh:mm:ss.sssZ" */
static void time_format(uint64_t ms, char out[32])
{
    int y, m, d;
    uint64_t secs = ms / 1000;
    civil_from_days((int64_t)(secs / 86400), &y, &m, &d);
    snprintf(out, 32, "%04d-%02d-%02dT%02u:%02u:%02u.%03uZ", y, m, d, (unsigned)(secs % 86400 / 3600),
             (unsigned)(secs % 3600 / 60), (unsigned)(secs % 60), (unsigned)(ms % 1000));
}

/* ---- values ------------------------------------------------------------------- */

/* ECMAScript's Number#toString for 0 or 1e-6 <= |v| < 1e15 (the fewest
 * decimals that read back as v). */
static int number_text(double v, char out[64])
{
    double a = v < 0 ? -v : v;
    if (!(a == 0 || (a >= 1e-6 && a < 1e15)))
        return cv_fail(CV_EINVAL, "number %g is outside the range civitas hashes (1e-6 to 1e15)", v);
    for (int decimals = 0; decimals <= 20; decimals++) {
        snprintf(out, 64, "%.*f", decimals, v);
        if (strtod(out, NULL) == v)
            break;
    }
    if (strcmp(out, "-0") == 0)
        strcpy(out, "0");
    return CV_OK;
}

/* The algorithm's trailing-zero rule for strings of digits and dots. */
static void strip_zeros(char *s)
{
    size_t n = strlen(s);
    if (n == 0 || strspn(s, "0123456789.") != n)
        return;
    size_t lead = 0;
    while (s[lead] == '0' && n - lead > 2)
        lead++;
    memmove(s, s + lead, n - lead + 1);
    n -= lead;
    while (n > 3 && s[n - 1] == '0' && strchr(s, '.'))
        s[--n] = '\0';
    if (n && s[n - 1] == '.')
        s[--n] = '\0';
}

/* A string value as the algorithm writes it: trimmed, a time in UTC with
 * milliseconds, a GS1 code as its canonical Digital Link URI. */
static int normalise(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    while (n && isspace((unsigned char)in[n - 1]))
        n--;
    while (n && isspace((unsigned char)*in))
        in++, n--;
    if (n >= cap)
        return cv_fail(CV_EINVAL, "a value has more than %zu bytes", cap - 1);
    memcpy(out, in, n);
    out[n] = '\0';
    uint64_t ms;
    cv_gs1_code code;
    if (n > 17 && cv_epcis_time_parse(out, &ms) == CV_OK)
        time_format(ms, out);
    else if (strchr(out, '.') && (strncmp(out, "urn:epc:", 8) == 0 || strncmp(out, "http", 4) == 0) &&
             cv_gs1_parse(out, &code) == CV_OK)
        return cv_gs1_uri(code.key, out, cap);
    strip_zeros(out);
    return CV_OK;
}

/* ---- the writer ------------------------------------------------------------------ */

typedef struct {
    char **items;
    size_t n;
} strings;

static void strings_free(strings *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->items[i]);
    free(s->items);
    s->items = NULL;
    s->n = 0;
}

static int strings_add(strings *s, const char *a, const char *b, const char *c)
{
    char **grown = realloc(s->items, (s->n + 1) * sizeof *s->items);
    if (!grown)
        return cv_fail(CV_ENOMEM, "out of memory hashing an event");
    s->items = grown;
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    if (!(grown[s->n] = malloc(n)))
        return cv_fail(CV_ENOMEM, "out of memory hashing an event");
    snprintf(grown[s->n++], n, "%s%s%s", a, b, c);
    return CV_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the strings sorted (the algorithm's lexical order) and frees them. */
static int strings_flush(strings *s, cv_buf *out)
{
    int rc = CV_OK;
    qsort(s->items, s->n, sizeof *s->items, cmp_str);
    for (size_t i = 0; !rc && i < s->n; i++)
        rc = cv_buf_append(out, s->items[i], strlen(s->items[i]));
    strings_free(s);
    return rc;
}

typedef struct {
    cv_buf *out;
    const json_t *context;
} writer;

static int put(writer *w, const char *s)
{
    return cv_buf_append(w->out, s, strlen(s));
}

static int need_string(const char *name, const json_t *v, const char **s)
{
    if (!json_is_string(v) || json_string_length(v) > CV_EPCIS_VALUE_MAX)
        return cv_fail(CV_EINVAL, "%s must be a string of at most %d bytes", name, CV_EPCIS_VALUE_MAX);
    *s = json_string_value(v);
    return CV_OK;
}

/* "name=value" with value normalised. */
static int pair(writer *w, const char *name, const json_t *v)
{
    char norm[CV_EPCIS_VALUE_MAX + 1];
    const char *s = NULL;
    int rc = need_string(name, v, &s);
    if (!rc)
        rc = normalise(s, norm, sizeof norm);
    if (!rc)
        rc = put(w, name);
    if (!rc)
        rc = put(w, "=");
    return rc ? rc : put(w, norm);
}

/* A CBV value: a bare word of the vocabulary becomes its Web URI. */
static int cbv_pair(writer *w, const char *name, const json_t *v, const char *const *vocab, const char *prefix)
{
    const char *s = NULL;
    int rc = need_string(name, v, &s);
    if (rc || !in_list(vocab, s))
        return rc ? rc : pair(w, name, v);
    json_t *web = json_sprintf("%s%s%s", CBV_WEB, prefix, s);
    rc = web ? pair(w, name, web) : cv_fail(CV_ENOMEM, "out of memory hashing an event");
    json_decref(web);
    return rc;
}

/* One element of a list, rendered into a scratch buffer by fn. */
typedef int (*element_fn)(writer *w, const json_t *el, const char *list);

static int list(writer *w, const char *name, const json_t *v, const char *prefix, element_fn fn)
{
    strings items = {0};
    cv_buf one = {0};
    int rc = json_is_array(v) && json_array_size(v) ? put(w, name)
                                                     : cv_fail(CV_EINVAL, "%s must be a non-empty list", name);
    for (size_t i = 0; !rc && i < json_array_size(v); i++) {
        writer sub = {&one, w->context};
        cv_buf_reset(&one);
        if (!(rc = fn(&sub, json_array_get(v, i), name)) && !(rc = cv_buf_append_byte(&one, 0)))
            rc = strings_add(&items, prefix, (const char *)one.data, "");
    }
    if (!rc)
        rc = strings_flush(&items, w->out);
    strings_free(&items);
    cv_buf_free(&one);
    return rc;
}

static int el_epc(writer *w, const json_t *el, const char *list_name)
{
    return pair(w, "epc", el);
}

static int el_quantity(writer *w, const json_t *el, const char *list_name)
{
    const json_t *cls = json_object_get(el, "epcClass"), *q = json_object_get(el, "quantity"),
                 *uom = json_object_get(el, "uom");
    char num[64];
    if (!json_is_object(el) || !cls)
        return cv_fail(CV_EINVAL, "%s: each element needs an epcClass", list_name);
    int rc = pair(w, "epcClass", cls);
    if (!rc && q && !json_is_number(q))
        rc = cv_fail(CV_EINVAL, "%s: quantity must be a number", list_name);
    if (!rc && q && !(rc = number_text(json_number_value(q), num)))
        rc = put(w, "quantity=") ? CV_ENOMEM : put(w, num);
    if (!rc && uom)
        rc = pair(w, "uom", uom);
    return rc;
}

/* A bizTransactionList, sourceList or destinationList element: "type"
 * (a CBV word or URI) and its value under `key`. */
static int typed_element(writer *w, const json_t *el, const char *key, const char *const *vocab, const char *prefix)
{
    const json_t *type = json_object_get(el, "type"), *value = json_object_get(el, key);
    if (!json_is_object(el) || !value)
        return cv_fail(CV_EINVAL, "each element needs '%s'", key);
    int rc = type ? cbv_pair(w, "type", type, vocab, prefix) : CV_OK;
    return rc ? rc : pair(w, key, value);
}

static int el_btt(writer *w, const json_t *el, const char *list_name)
{
    return typed_element(w, el, "bizTransaction", btt_types, "BTT-");
}

static int el_source(writer *w, const json_t *el, const char *list_name)
{
    return typed_element(w, el, "source", sdt_types, "SDT-");
}

static int el_destination(writer *w, const json_t *el, const char *list_name)
{
    return typed_element(w, el, "destination", sdt_types, "SDT-");
}

/* The namespace URI of prefix: the document's @context first, then the
 * EPCIS defaults; NULL if neither defines it. */
static const char *namespace_of(const json_t *context, const char *prefix)
{
    size_t i;
    const json_t *c;
    const char *hit = json_string_value(json_object_get(context, prefix));
    json_array_foreach(context, i, c) if (json_is_string(json_object_get(c, prefix))) hit =
        json_string_value(json_object_get(c, prefix));
    for (i = 0; !hit && i < sizeof default_context / sizeof default_context[0]; i++)
        if (strcmp(default_context[i][0], prefix) == 0)
            hit = default_context[i][1];
    return hit;
}

/* "{namespace}local=value" of one ilmd member. */
static int ilmd_member(writer *w, const char *key, const json_t *v, strings *items)
{
    char prefix[64], num[64], norm[CV_EPCIS_VALUE_MAX + 1];
    const char *colon = strchr(key, ':'), *ns;
    size_t n = colon ? (size_t)(colon - key) : 0;
    if (!n || n >= sizeof prefix)
        return cv_fail(CV_EINVAL, "ilmd member '%.60s' needs a namespace prefix (such as cbvmda:)", key);
    memcpy(prefix, key, n);
    prefix[n] = '\0';
    if (!(ns = namespace_of(w->context, prefix)))
        return cv_fail(CV_EINVAL, "ilmd member '%.60s': prefix '%s' is not defined in @context", key, prefix);
    int rc = json_is_number(v) ? number_text(json_number_value(v), num)
             : json_is_string(v) && json_string_length(v) <= CV_EPCIS_VALUE_MAX
                 ? normalise(json_string_value(v), norm, sizeof norm)
                 : cv_fail(CV_EINVAL, "ilmd member '%.60s' must be a string or a number", key);
    json_t *text = rc ? NULL : json_sprintf("{%s}%s=%s", ns, colon + 1, json_is_number(v) ? num : norm);
    if (!rc)
        rc = text ? strings_add(items, json_string_value(text), "", "") : cv_fail(CV_ENOMEM, "out of memory");
    json_decref(text);
    return rc;
}

static int ilmd(writer *w, const char *name, const json_t *v)
{
    strings items = {0};
    const char *key;
    const json_t *member;
    int rc = json_is_object(v) ? put(w, "ilmd") : cv_fail(CV_EINVAL, "ilmd must be an object");
    json_object_foreach((json_t *)v, key, member) if (!rc) rc = ilmd_member(w, key, member, &items);
    if (!rc)
        rc = strings_flush(&items, w->out);
    strings_free(&items);
    return rc;
}

static int location(writer *w, const char *name, const json_t *v)
{
    const json_t *id = json_object_get(v, "id");
    if (!json_is_object(v) || !id || json_object_size(v) != 1)
        return cv_fail(CV_EINVAL, "%s must be an object with only an id", name);
    int rc = put(w, name);
    return rc ? rc : pair(w, "id", id);
}

/* One field of the canonical order. */
static int field(writer *w, const char *name, const json_t *v)
{
    static const char *const epc_lists[] = {"epcList", "inputEPCList", "childEPCs", "outputEPCList", NULL};
    static const char *const quantity_lists[] = {"quantityList", "childQuantityList", "inputQuantityList",
                                                 "outputQuantityList", NULL};
    if (strcmp(name, "type") == 0)
        return pair(w, "eventType", v);
    if (in_list(epc_lists, name))
        return list(w, name, v, "", el_epc);
    if (in_list(quantity_lists, name))
        return list(w, name, v, "quantityElement", el_quantity);
    if (strcmp(name, "bizStep") == 0)
        return cbv_pair(w, name, v, biz_steps, "BizStep-");
    if (strcmp(name, "disposition") == 0)
        return cbv_pair(w, name, v, dispositions, "Disp-");
    if (strcmp(name, "readPoint") == 0 || strcmp(name, "bizLocation") == 0)
        return location(w, name, v);
    if (strcmp(name, "bizTransactionList") == 0)
        return list(w, name, v, "", el_btt);
    if (strcmp(name, "sourceList") == 0)
        return list(w, name, v, "", el_source);
    if (strcmp(name, "destinationList") == 0)
        return list(w, name, v, "", el_destination);
    if (strcmp(name, "ilmd") == 0)
        return ilmd(w, name, v);
    return pair(w, name, v);
}

int cv_epcis_prehash(const json_t *event, const json_t *context, cv_buf *out)
{
    static const char *const order[] = {
        "type", "eventTime", "eventTimeZoneOffset", "epcList", "parentID", "inputEPCList", "childEPCs",
        "quantityList", "childQuantityList", "inputQuantityList", "outputEPCList", "outputQuantityList", "action",
        "transformationID", "bizStep", "disposition", "readPoint", "bizLocation", "bizTransactionList",
        "sourceList", "destinationList", "ilmd"};
    writer w = {out, context};
    int rc = json_is_object(event) ? CV_OK : cv_fail(CV_EINVAL, "an event must be a JSON object");
    cv_buf_reset(out);
    for (size_t i = 0; !rc && i < sizeof order / sizeof order[0]; i++) {
        const json_t *v = json_object_get(event, order[i]);
        if (v && (rc = field(&w, order[i], v))) {
            char why[300];
            snprintf(why, sizeof why, "%s", cv_errmsg());
            rc = cv_fail(rc, "%s: %s", order[i], why);
        }
    }
    return rc;
}
