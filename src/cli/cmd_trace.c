/* cmd_trace.c: `civitas trace`, the traceability application (docs/TRACE.md):
 *   record FILE --key KEY   sign and submit each event of an EPCIS 2.0
 *                           JSON-LD document, with its document
 *   history CODE            an item's history, with proofs and documents
 *   recall-impact CODE      what a recalled code reaches downstream
 *   event ID                one event with its document and proof
 *   id FILE                 the event hash IDs of a document (offline)
 *   code CODE               a code's canonical Digital Link URI (offline)
 *   qr CODE -o FILE.png     a QR code of the node's trace page for a code */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps/epcis.h"
#include "base/err.h"
#include "cli/cli.h"
#include "crypto/keyfile.h"
#include "node/node.h"

#define USAGE                                                                                             \
    "trace record FILE --key KEYFILE [--no-wait] | trace history CODE [--limit N] [--no-documents] |"    \
    " trace recall-impact CODE [--limit N] | trace event ID | trace id FILE | trace code CODE |"         \
    " trace qr CODE -o FILE.png [--base URL]   [--rpc URL | --home DIR]"

typedef struct {
    const char *name;
    int (*run)(cli_args *a);
} trace_cmd;

/* ---- offline ------------------------------------------------------------------ */

static int load_document(cli_args *a, const char *path, cv_epcis_doc *d)
{
    cv_buf text = {0};
    memset(d, 0, sizeof *d);
    if (cli_read_input(a, path, CV_EPCIS_DOC_MAX, &text))
        return 1;
    int rc = cv_epcis_doc_parse((const char *)text.data, text.len, d) ? cli_fail(a, "%s: %s", path, cv_errmsg()) : 0;
    cv_buf_free(&text);
    return rc;
}

static int t_id(cli_args *a)
{
    cv_epcis_doc d;
    int rc = load_document(a, a->pos[1], &d);
    for (size_t i = 0; !rc && i < cv_epcis_doc_count(&d); i++) {
        cv_epcis_event ev;
        char id[CV_TRACE_ID_MAX + 1];
        if (cv_epcis_event_read(&d, i, &ev))
            rc = cli_fail(a, "%s: %s", a->pos[1], cv_errmsg());
        else {
            cv_trace_event_id(ev.hash, id);
            printf("%s\n", id);
        }
        cv_epcis_event_free(&ev);
    }
    cv_epcis_doc_free(&d);
    return rc;
}

static int t_code(cli_args *a)
{
    cv_gs1_code code;
    char uri[sizeof CV_GS1_DOMAIN + CV_GS1_KEY_MAX];
    if (cv_gs1_parse(a->pos[1], &code) || cv_gs1_uri(code.key, uri, sizeof uri))
        return cli_fail_cv(a);
    printf("%s\n", uri);
    return 0;
}

/* ---- talking to the node -------------------------------------------------------------- */

/* Signs the trace transaction of event i and submits it with its document. */
static int submit_event(cli_args *a, cv_httpc *c, const cv_keypair *key, const cv_epcis_doc *d, size_t i,
                        char hash_hex[65], char id[CV_TRACE_ID_MAX + 1])
{
    cv_epcis_event ev;
    cv_buf args = {0}, raw = {0};
    const char *method;
    json_t *reply = NULL;
    char *hex = NULL;
    int rc = cv_epcis_event_read(d, i, &ev) ? cli_fail(a, "%s: %s", a->pos[1], cv_errmsg()) : 0;
    if (!rc && cv_epcis_event_tx(&ev, &method, &args))
        rc = cli_fail_cv(a);
    if (!rc)
        rc = cli_sign_tx(a, c, key, "trace", method, &args, &raw, hash_hex);
    if (!rc && !(hex = malloc(2 * raw.len + 1)))
        rc = cli_fail(a, "out of memory");
    if (!rc) {
        cv_hex_encode(raw.data, raw.len, hex);
        cv_trace_event_id(ev.hash, id);
        json_t *params = json_pack("{s:s, s:o}", "tx", hex, "document", cv_epcis_doc_single(d, i));
        if (cli_rpc(c, "trace_submit", params, &reply) != CV_OK)
            rc = cli_fail(a, "event %zu (%s): %s", i + 1, id, cv_errmsg());
    }
    json_decref(reply);
    free(hex);
    cv_buf_free(&args);
    cv_buf_free(&raw);
    cv_epcis_event_free(&ev);
    return rc;
}

static int record_all(cli_args *a, cv_httpc *c, const cv_keypair *key, const cv_epcis_doc *d)
{
    size_t n = cv_epcis_doc_count(d), sent = 0;
    char(*hashes)[65] = calloc(n, 65), (*ids)[CV_TRACE_ID_MAX + 1] = calloc(n, CV_TRACE_ID_MAX + 1);
    int rc = hashes && ids ? 0 : cli_fail(a, "out of memory");
    for (; !rc && sent < n; sent++)
        rc = submit_event(a, c, key, d, sent, hashes[sent], ids[sent]);
    for (size_t i = 0; i < sent && !rc; i++) {
        if (cli_get(a, "--no-wait"))
            printf("sent %s: tx %s\n", ids[i], hashes[i]);
        else
            rc = cli_wait_tx(a, c, ids[i], hashes[i]);
    }
    free(hashes);
    free(ids);
    return rc;
}

static int t_record(cli_args *a)
{
    cv_epcis_doc d;
    cv_keypair key;
    cv_httpc c;
    int rc = cli_load_key(a, &key);
    if (rc)
        return rc;
    if (!(rc = load_document(a, a->pos[1], &d))) {
        if (!(rc = cli_open_client(a, &c)))
            rc = record_all(a, &c, &key, &d);
        cv_httpc_close(&c);
        cv_epcis_doc_free(&d);
    }
    cv_key_wipe(&key);
    return rc;
}

static int walk(cli_args *a, const char *method)
{
    const char *limit = cli_get(a, "--limit");
    char *end = NULL;
    unsigned long long n = limit ? strtoull(limit, &end, 10) : 0;
    if (limit && (*end || end == limit || n > 100000))
        return cli_usage(a, "--limit must be a number from 0 to 100000");
    return cli_call_print(a, method, json_pack("{s:s, s:I, s:b}", "code", a->pos[1], "limit", (json_int_t)n,
                                                "documents", cli_get(a, "--no-documents") == NULL));
}

static int t_history(cli_args *a)
{
    return walk(a, "trace_history");
}

static int t_impact(cli_args *a)
{
    return walk(a, "trace_impact");
}

static int t_event(cli_args *a)
{
    return cli_call_print(a, "trace_event", json_pack("{s:s}", "id", a->pos[1]));
}

/* "http://" + the node's RPC address, where it serves /trace/. */
static int node_base(cli_args *a, char *out, size_t cap)
{
    const char *base = cli_get(a, "--base"), *url = cli_get(a, "--rpc"), *home = cli_get(a, "--home");
    cv_node_config cfg;
    if (!base && !url && (home || (home = "civitas-demo"))) {
        if (cv_node_config_load(home, &cfg) != CV_OK)
            return cli_fail(a, "%s (give --base URL, --rpc URL or --home DIR)", cv_errmsg());
        url = cfg.rpc_listen;
    }
    snprintf(out, cap, "%s%s", base ? "" : strncmp(url, "http", 4) == 0 ? "" : "http://", base ? base : url);
    size_t n = strlen(out);
    if (n && out[n - 1] == '/')
        out[n - 1] = '\0';
    return 0;
}

static int t_qr(cli_args *a)
{
    const char *png = cli_get(a, "-o");
    cv_gs1_code code;
    char base[600], url[800];
    if (!png)
        return cli_usage(a, "-o FILE.png is required");
    if (cv_gs1_parse(a->pos[1], &code))
        return cli_fail_cv(a);
    int rc = node_base(a, base, sizeof base);
    if (rc)
        return rc;
    snprintf(url, sizeof url, "%s/trace/%s", base, code.key);
    if (cli_qr_png(url, png))
        return cli_fail_cv(a);
    printf("%s\n", url);
    return 0;
}

static const trace_cmd commands[] = {
    {"record", t_record},  {"history", t_history}, {"recall-impact", t_impact}, {"event", t_event},
    {"id", t_id},          {"code", t_code},       {"qr", t_qr},
};

int cmd_trace(int argc, char **argv)
{
    cli_opt opts[] = {{"--rpc", 1, NULL},     {"--home", 1, NULL},   {"--key", 1, NULL},
                      {"--passphrase-file", 1, NULL}, {"--no-wait", 0, NULL}, {"--limit", 1, NULL},
                      {"--no-documents", 0, NULL},    {"-o", 1, NULL},       {"--base", 1, NULL}};
    cli_args a = {"trace", USAGE, opts, sizeof opts / sizeof opts[0], {0}, 0};
    int rc = cli_parse(&a, argc, argv, 2, 2);
    if (rc)
        return rc;
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(a.pos[0], commands[i].name) == 0)
            return commands[i].run(&a);
    return cli_usage(&a, "unknown trace command \"%s\"", a.pos[0]);
}
