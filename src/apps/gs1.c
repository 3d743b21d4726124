/* gs1.c: GS1 keys, check digits and code parsing (gs1.h). */
#include "apps/gs1.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"

#define VALUE_MAX 20  /* batch, serial, CPV, GLN extension */
#define SEGMENTS_MAX 32

static const char *const kind_names[] = {"?", "product", "batch", "item", "logistic unit", "location", "party"};

const char *cv_gs1_kind_name(cv_gs1_kind kind)
{
    return (unsigned)kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : "?";
}

int cv_gs1_check_digit(const char *digits, size_t n)
{
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) /* weights 3, 1, 3, ... from the right */
        sum += (unsigned)(digits[n - 1 - i] - '0') * (i % 2 == 0 ? 3 : 1);
    return (int)((10 - sum % 10) % 10);
}

int cv_gs1_uri(const char *key, char *out, size_t cap)
{
    if ((size_t)snprintf(out, cap, "%s%s", CV_GS1_DOMAIN, key) >= cap)
        return cv_fail(CV_EINVAL, "code %.64s: URI longer than %zu bytes", key, cap - 1);
    return CV_OK;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n > 0;
}

/* A batch, serial, CPV or extension value. */
static int check_value(const char *what, const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > VALUE_MAX)
        return cv_fail(CV_EINVAL, "%s '%.40s' must have 1 to %d characters", what, s, VALUE_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.' || c == '_'))
            return cv_fail(CV_EINVAL, "%s '%.40s' has the character '%c': codes use letters, digits, '-', '.' and '_'",
                           what, s, c >= 0x20 && c < 0x7f ? c : '?');
    }
    return CV_OK;
}

/* A key of `len` digits whose last is its check digit. */
static int check_key(const char *what, const char *digits, size_t len)
{
    int want = cv_gs1_check_digit(digits, len - 1);
    if (digits[len - 1] - '0' != want)
        return cv_fail(CV_EINVAL, "%s %.*s has a bad check digit: %c, expected %d", what, (int)len, digits,
                       digits[len - 1], want);
    return CV_OK;
}

/* A GTIN of 8, 12, 13 or 14 digits, zero-padded to 14 into gtin. */
static int read_gtin(const char *s, char gtin[15])
{
    size_t n = strlen(s);
    if (!all_digits(s, n) || (n != 8 && n != 12 && n != 13 && n != 14))
        return cv_fail(CV_EINVAL, "GTIN '%.40s' must have 8, 12, 13 or 14 digits", s);
    memset(gtin, '0', 14 - n);
    memcpy(gtin + 14 - n, s, n + 1);
    return check_key("GTIN", gtin, 14);
}

static int read_fixed_key(const char *what, const char *s, size_t len)
{
    if (strlen(s) != len || !all_digits(s, len))
        return cv_fail(CV_EINVAL, "%s '%.40s' must have %zu digits", what, s, len);
    return check_key(what, s, len);
}

static int set_key(cv_gs1_code *out, cv_gs1_kind kind, const char *fmt, const char *a, const char *b)
{
    out->kind = kind;
    snprintf(out->key, sizeof out->key, fmt, a, b);
    return CV_OK;
}

/* ---- Digital Link paths ------------------------------------------------------ */

typedef struct {
    char *seg[SEGMENTS_MAX];
    size_t n;
} segments;

/* The values of a GTIN's qualifiers, which must come in the order 22, 10, 21. */
static int gtin_qualifiers(const segments *sg, size_t at, const char **cpv, const char **lot, const char **serial)
{
    static const char *const order[] = {"22", "10", "21"};
    const char **slot[] = {cpv, lot, serial};
    size_t next = 0;
    for (size_t i = at; i < sg->n; i += 2) {
        size_t q = 0;
        while (q < 3 && strcmp(sg->seg[i], order[q]) != 0)
            q++;
        if (q == 3)
            return cv_fail(CV_EINVAL, "unexpected '/%.20s/' after a GTIN: its qualifiers are 22, 10 and 21", sg->seg[i]);
        if (q < next)
            return cv_fail(CV_EINVAL, "qualifier %s after %s: GS1 Digital Link orders GTIN qualifiers 22, 10, 21",
                           order[q], order[next - 1]);
        if (i + 1 >= sg->n)
            return cv_fail(CV_EINVAL, "qualifier %s has no value", order[q]);
        *slot[q] = sg->seg[i + 1];
        next = q + 1;
    }
    return CV_OK;
}

static int dl_gtin(const segments *sg, size_t at, cv_gs1_code *out)
{
    char gtin[15];
    const char *cpv = NULL, *lot = NULL, *serial = NULL;
    int rc = read_gtin(sg->seg[at + 1], gtin);
    if (!rc)
        rc = gtin_qualifiers(sg, at + 2, &cpv, &lot, &serial);
    if (!rc && cpv)
        rc = check_value("CPV", cpv);
    if (!rc && lot)
        rc = check_value("batch", lot);
    if (!rc && serial)
        rc = check_value("serial", serial);
    if (rc)
        return rc;
    if (serial && lot)
        snprintf(out->batch, sizeof out->batch, "01/%s/10/%s", gtin, lot);
    if (serial)
        return set_key(out, CV_GS1_SGTIN, "01/%s/21/%s", gtin, serial);
    if (lot)
        return set_key(out, CV_GS1_LGTIN, "01/%s/10/%s", gtin, lot);
    return set_key(out, CV_GS1_GTIN, "01/%s%s", gtin, "");
}

static int no_qualifiers(const segments *sg, size_t at, const char *what)
{
    if (sg->n > at)
        return cv_fail(CV_EINVAL, "unexpected '/%.20s/' after %s", sg->seg[at], what);
    return CV_OK;
}

static int dl_gln(const segments *sg, size_t at, cv_gs1_code *out)
{
    const char *gln = sg->seg[at + 1];
    int rc = read_fixed_key("GLN", gln, 13);
    if (rc)
        return rc;
    if (sg->n == at + 2)
        return set_key(out, CV_GS1_SGLN, "414/%s%s", gln, "");
    if (sg->n != at + 4 || strcmp(sg->seg[at + 2], "254") != 0)
        return cv_fail(CV_EINVAL, "a GLN takes only the qualifier 254 (its extension)");
    if ((rc = check_value("GLN extension", sg->seg[at + 3])))
        return rc;
    return set_key(out, CV_GS1_SGLN, "414/%s/254/%s", gln, sg->seg[at + 3]);
}

static int dl_key(const segments *sg, size_t at, cv_gs1_code *out)
{
    const char *ai = sg->seg[at], *v = sg->seg[at + 1];
    int rc;
    if (strcmp(ai, "01") == 0)
        return dl_gtin(sg, at, out);
    if (strcmp(ai, "414") == 0)
        return dl_gln(sg, at, out);
    if (strcmp(ai, "00") == 0) {
        rc = read_fixed_key("SSCC", v, 18);
        return rc ? rc : (rc = no_qualifiers(sg, at + 2, "an SSCC")) ? rc : set_key(out, CV_GS1_SSCC, "00/%s%s", v, "");
    }
    rc = read_fixed_key("GLN", v, 13);
    return rc ? rc : (rc = no_qualifiers(sg, at + 2, "a party GLN")) ? rc : set_key(out, CV_GS1_PGLN, "417/%s%s", v, "");
}

static int is_primary(const char *ai)
{
    return strcmp(ai, "01") == 0 || strcmp(ai, "00") == 0 || strcmp(ai, "414") == 0 || strcmp(ai, "417") == 0;
}

/* Splits path (modified in place) at '/' into sg; one leading and one
 * trailing '/' are allowed. */
static int split_path(char *path, segments *sg)
{
    size_t n = strlen(path);
    if (n && path[n - 1] == '/')
        path[--n] = '\0';
    if (*path == '/')
        path++;
    sg->n = 0;
    for (char *p = path; *p || sg->n == 0;) {
        if (sg->n == SEGMENTS_MAX)
            return cv_fail(CV_EINVAL, "a code has at most %d path segments", SEGMENTS_MAX);
        sg->seg[sg->n++] = p;
        char *slash = strchr(p, '/');
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    return CV_OK;
}

/* A Digital Link path; with prefix, segments before the key are a path prefix. */
static int parse_dl_path(char *path, int prefix, cv_gs1_code *out)
{
    segments sg;
    int rc = split_path(path, &sg);
    if (rc)
        return rc;
    for (size_t i = 0; i + 1 < sg.n; i++) {
        if (is_primary(sg.seg[i]))
            return dl_key(&sg, i, out);
        if (!prefix)
            break;
    }
    return cv_fail(CV_EINVAL, "no GS1 key in the path: expected /01/{GTIN}, /00/{SSCC}, /414/{GLN} or /417/{GLN}");
}

static int parse_web_uri(char *uri, cv_gs1_code *out)
{
    char *host = strstr(uri, "://") + 3;
    char *path = strchr(host, '/');
    if (!path || path == host)
        return cv_fail(CV_EINVAL, "a Digital Link URI needs a host and a path (https://HOST/01/{GTIN}...)");
    path[strcspn(path, "?#")] = '\0'; /* data attributes are not part of the code */
    return parse_dl_path(path, 1, out);
}

/* ---- EPC URNs ---------------------------------------------------------------- */

/* "CP.REF[.REST]": the company prefix (6 to 12 digits) and a reference of
 * total - len(CP) digits; *rest is what follows the second '.' (or NULL). */
static int urn_parts(char *body, size_t total, char **cp, char **ref, char **rest)
{
    *cp = body;
    char *dot = strchr(body, '.');
    if (!dot)
        return cv_fail(CV_EINVAL, "EPC URN body '%.40s' lacks its company prefix and reference", body);
    *dot = '\0';
    *ref = dot + 1;
    char *dot2 = strchr(*ref, '.');
    if (dot2)
        *dot2 = '\0';
    *rest = dot2 ? dot2 + 1 : NULL;
    size_t ncp = strlen(*cp), nref = strlen(*ref);
    if (ncp < 6 || ncp > 12 || !all_digits(*cp, ncp) || (nref && !all_digits(*ref, nref)) || ncp + nref != total)
        return cv_fail(CV_EINVAL, "EPC URN: company prefix (6 to 12 digits) and reference must have %zu digits", total);
    return CV_OK;
}

/* digits = first + cp + rest of ref, then the check digit. */
static void urn_key(const char *cp, const char *ref, int indicator_first, char *out, size_t len)
{
    if (indicator_first)
        snprintf(out, len, "%.1s%s%s", ref, cp, ref + 1);
    else
        snprintf(out, len, "%s%s", cp, ref);
    size_t n = strlen(out);
    out[n] = (char)('0' + cv_gs1_check_digit(out, n));
    out[n + 1] = '\0';
}

static int urn_gtin_scheme(char *body, int rest_kind, cv_gs1_code *out)
{
    char *cp, *ref, *rest, gtin[16];
    int rc = urn_parts(body, 13, &cp, &ref, &rest);
    if (rc)
        return rc;
    if (!rest)
        return cv_fail(CV_EINVAL, "EPC URN lacks its %s", rest_kind == CV_GS1_LGTIN ? "batch" : "serial");
    urn_key(cp, ref, 1, gtin, sizeof gtin);
    if (rest_kind == CV_GS1_GTIN)
        return strcmp(rest, "*") == 0 ? set_key(out, CV_GS1_GTIN, "01/%s%s", gtin, "")
                                      : cv_fail(CV_EINVAL, "an SGTIN pattern URN must end in '.*'");
    rc = check_value(rest_kind == CV_GS1_LGTIN ? "batch" : "serial", rest);
    if (rc)
        return rc;
    return set_key(out, (cv_gs1_kind)rest_kind, rest_kind == CV_GS1_LGTIN ? "01/%s/10/%s" : "01/%s/21/%s", gtin, rest);
}

static int urn_sscc(char *body, cv_gs1_code *out)
{
    char *cp, *ref, *rest, sscc[20];
    int rc = urn_parts(body, 17, &cp, &ref, &rest);
    if (rc)
        return rc;
    if (rest)
        return cv_fail(CV_EINVAL, "an SSCC URN has two parts (company prefix.serial reference)");
    urn_key(cp, ref, 1, sscc, sizeof sscc);
    return set_key(out, CV_GS1_SSCC, "00/%s%s", sscc, "");
}

static int urn_gln(char *body, int location, cv_gs1_code *out)
{
    char *cp, *ref, *rest, gln[15];
    int rc = urn_parts(body, 12, &cp, &ref, &rest);
    if (rc)
        return rc;
    urn_key(cp, ref, 0, gln, sizeof gln);
    if (!location)
        return rest ? cv_fail(CV_EINVAL, "a PGLN URN has two parts (company prefix.party reference)")
                    : set_key(out, CV_GS1_PGLN, "417/%s%s", gln, "");
    if (!rest)
        return cv_fail(CV_EINVAL, "an SGLN URN lacks its extension ('0' for none)");
    if (strcmp(rest, "0") == 0)
        return set_key(out, CV_GS1_SGLN, "414/%s%s", gln, "");
    return (rc = check_value("GLN extension", rest)) ? rc : set_key(out, CV_GS1_SGLN, "414/%s/254/%s", gln, rest);
}

static int parse_urn(char *urn, cv_gs1_code *out)
{
    static const struct {
        const char *prefix;
        int scheme;
    } schemes[] = {
        {"urn:epc:id:sgtin:", CV_GS1_SGTIN}, {"urn:epc:class:lgtin:", CV_GS1_LGTIN},
        {"urn:epc:idpat:sgtin:", CV_GS1_GTIN}, {"urn:epc:id:sscc:", CV_GS1_SSCC},
        {"urn:epc:id:sgln:", CV_GS1_SGLN}, {"urn:epc:id:pgln:", CV_GS1_PGLN},
    };
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i].prefix);
        if (strncmp(urn, schemes[i].prefix, n) != 0)
            continue;
        char *body = urn + n;
        switch (schemes[i].scheme) {
        case CV_GS1_SSCC: return urn_sscc(body, out);
        case CV_GS1_SGLN: return urn_gln(body, 1, out);
        case CV_GS1_PGLN: return urn_gln(body, 0, out);
        default: return urn_gtin_scheme(body, schemes[i].scheme, out);
        }
    }
    return cv_fail(CV_EINVAL, "unsupported EPC URN '%.60s': civitas reads sgtin, lgtin, sgtin patterns, sscc, sgln and pgln",
                   urn);
}

int cv_gs1_parse(const char *text, cv_gs1_code *out)
{
    char copy[CV_GS1_INPUT_MAX + 1];
    memset(out, 0, sizeof *out);
    size_t n = strlen(text);
    if (n == 0 || n > CV_GS1_INPUT_MAX)
        return cv_fail(CV_EINVAL, "a code must have 1 to %d bytes", CV_GS1_INPUT_MAX);
    memcpy(copy, text, n + 1);
    int rc;
    if (strncmp(copy, "urn:epc:", 8) == 0)
        rc = parse_urn(copy, out);
    else if (strncmp(copy, "https://", 8) == 0 || strncmp(copy, "http://", 7) == 0)
        rc = parse_web_uri(copy, out);
    else
        rc = parse_dl_path(copy, 0, out);
    if (rc) {
        char why[300];
        snprintf(why, sizeof why, "%s", cv_errmsg());
        memset(out, 0, sizeof *out);
        return cv_fail(CV_EINVAL, "code '%.100s': %s", text, why);
    }
    return CV_OK;
}
