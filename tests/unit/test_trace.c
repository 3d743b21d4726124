/* test_trace.c: the trace application: GS1 check digits and codes (known
 * answers from the GS1 General Specifications and EPC Tag Data Standard),
 * EPCIS documents and event hash IDs (known answers computed by epcis2.js,
 * see tests/interop/test_trace_interop.sh), facts decoding of hostile bytes,
 * and the contract's rules: roles per step, custody, codes issued once,
 * unknown codes, recalls, error declarations, history and recall impact. */
#include <string.h>

#include "apps/epcis.h"
#include "apps/gs1.h"
#include "apps/trace.h"
#include "check.h"
#include "exec_fixture.h"

/* ---- GS1 --------------------------------------------------------------------------- */

static void test_check_digits(void)
{
    static const char *const keys[] = {"4006381333931", "036000291452", "9780306406157", "106141411234567897",
                                       "80614141123458", "96385074", NULL};
    for (size_t i = 0; keys[i]; i++) {
        size_t n = strlen(keys[i]);
        CHECK(cv_gs1_check_digit(keys[i], n - 1) == keys[i][n - 1] - '0');
    }
}

static void expect_key(const char *text, const char *key, const char *batch)
{
    cv_gs1_code c;
    CHECK_OK(cv_gs1_parse(text, &c));
    if (strcmp(c.key, key) != 0 || strcmp(c.batch, batch) != 0)
        fprintf(stderr, "%s -> %s (batch %s), expected %s (%s)\n", text, c.key, c.batch, key, batch);
    CHECK(strcmp(c.key, key) == 0 && strcmp(c.batch, batch) == 0);
}

static void expect_bad(const char *text, const char *why)
{
    cv_gs1_code c;
    CHECK_ERR(cv_gs1_parse(text, &c), CV_EINVAL);
    CHECK_MSG(why);
}

static void test_codes(void)
{
    /* EPC Tag Data Standard examples */
    expect_key("urn:epc:id:sgtin:0614141.812345.6789", "01/80614141123458/21/6789", "");
    expect_key("urn:epc:id:sscc:0614141.1234567890", "00/106141412345678908", "");
    expect_key("urn:epc:id:sgln:0614141.12345.400", "414/0614141123452/254/400", "");
    expect_key("urn:epc:id:sgln:0614141.12345.0", "414/0614141123452", "");
    expect_key("urn:epc:id:pgln:0614141.12345", "417/0614141123452", "");
    expect_key("urn:epc:class:lgtin:0614141.812345.LOT-7", "01/80614141123458/10/LOT-7", "");
    expect_key("urn:epc:idpat:sgtin:0614141.812345.*", "01/80614141123458", "");
    /* Digital Link: any host and path prefix, GTIN-8/12/13 padded, CPV and query dropped */
    expect_key("https://example.com/shop/01/4006381333931/21/S1?17=261231", "01/04006381333931/21/S1", "");
    expect_key("https://id.gs1.org/01/09521234543213/22/V2/10/ABC123/21/12345", "01/09521234543213/21/12345",
               "01/09521234543213/10/ABC123");
    expect_key("01/96385074/10/L1", "01/00000096385074/10/L1", "");
    expect_key("https://id.gs1.org/00/106141412345678908", "00/106141412345678908", "");
    expect_bad("https://id.gs1.org/01/4006381333932/21/S1", "bad check digit: 2, expected 1");
    expect_bad("https://id.gs1.org/01/4006381333931/21/S1/10/L", "qualifier 10 after 21");
    expect_bad("https://id.gs1.org/01/4006381333931/21/S%201", "has the character '%'");
    expect_bad("https://id.gs1.org/01/40063813339/21/S1", "must have 8, 12, 13 or 14 digits");
    expect_bad("https://id.gs1.org/01/4006381333931/17/261231", "its qualifiers are 22, 10 and 21");
    expect_bad("urn:epc:id:grai:0614141.12345.1", "unsupported EPC URN");
    expect_bad("https://example.com/about", "no GS1 key");
    expect_bad("", "1 to 512 bytes");
}

/* ---- EPCIS ----------------------------------------------------------------------------- */

/* Three events whose hash IDs epcis2.js 2.7.3 computes as below. */
static const char doc_text[] =
    "{\"@context\":[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\",{\"ex\":\"https://example.com/ns/\"}],"
    "\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"2024-03-01T08:00:00Z\",\"epcisBody\":{\"eventList\":["
    "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-03-01T08:00:00.5+08:00\",\"eventTimeZoneOffset\":\"+08:00\","
    "\"epcList\":[\"urn:epc:id:sgtin:9521234.054321.S2\",\"https://example.com/01/9521234543213/21/S3\"],"
    "\"action\":\"ADD\",\"bizStep\":\"commissioning\",\"disposition\":\"active\","
    "\"readPoint\":{\"id\":\"urn:epc:id:sgln:9521234.00001.0\"},\"bizLocation\":{\"id\":\"https://id.gs1.org/414/9521234000013/254/dock-1\"},"
    "\"quantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:9521234.054321.LOT1\",\"quantity\":5.0,\"uom\":\"KGM\"},"
    "{\"epcClass\":\"https://x.org/01/09521234543213/10/LOT.2\",\"quantity\":0.25}],"
    "\"sourceList\":[{\"type\":\"owning_party\",\"source\":\"urn:epc:id:pgln:9521234.00000\"}],"
    "\"destinationList\":[{\"type\":\"https://ref.gs1.org/cbv/SDT-location\",\"destination\":\"urn:epc:id:sgln:9521234.00001.7\"}],"
    "\"bizTransactionList\":[{\"type\":\"po\",\"bizTransaction\":\"urn:epcglobal:cbv:bt:9521234000006:PO-001\"}],"
    "\"ilmd\":{\"cbvmda:lotNumber\":\"LOT1\",\"ex:weight\":12.50,\"cbvmda:itemExpirationDate\":\"2025-12-31\","
    "\"ex:packed\":\"2024-02-29T23:59:59-05:00\"}},"
    "{\"type\":\"AggregationEvent\",\"eventTime\":\"2024-03-02T10:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","
    "\"parentID\":\"https://id.gs1.org/00/095212340000000013\",\"childEPCs\":[\"https://id.gs1.org/01/09521234543213/21/S2\"],"
    "\"action\":\"ADD\",\"bizStep\":\"https://ref.gs1.org/cbv/BizStep-packing\",\"eventID\":\"urn:uuid:1\"},"
    "{\"type\":\"TransformationEvent\",\"eventTime\":\"2024-03-03T10:00:00.123456Z\",\"eventTimeZoneOffset\":\"-03:30\","
    "\"recordTime\":\"2024-03-03T10:00:01Z\","
    "\"inputQuantityList\":[{\"epcClass\":\"urn:epc:class:lgtin:9521234.054321.LOT1\",\"quantity\":3,\"uom\":\"KGM\"}],"
    "\"outputEPCList\":[\"urn:epc:id:sgtin:9521234.154321.J1\",\"urn:epc:id:sgtin:9521234.154321.J0\"],"
    "\"transformationID\":\"urn:ex:t:0042\",\"bizStep\":\"commissioning\",\"disposition\":\"in_progress\"}]}}";

static const char *const doc_ids[] = {
    "ni:///sha-256;8b7897aba12fefabf6d2ce3d8dce5078dcd38f61d4558dcb2f4bbf6411d7552a?ver=CBV2.0",
    "ni:///sha-256;537c685cd0bc4257735a764141c3a4fdd17ffb427a253a18352e22a1d4a3d9e7?ver=CBV2.0",
    "ni:///sha-256;9f37ed2144308d92b0c66d8b5ac1d79395edc73b06a5f38266f815e5b96de68d?ver=CBV2.0",
};

static void test_hash_ids(void)
{
    cv_epcis_doc d;
    CHECK_OK(cv_epcis_doc_parse(doc_text, strlen(doc_text), &d));
    CHECK(cv_epcis_doc_count(&d) == 3);
    for (size_t i = 0; i < cv_epcis_doc_count(&d) && i < 3; i++) {
        cv_epcis_event ev;
        char id[CV_TRACE_ID_MAX + 1];
        uint8_t back[CV_HASH_LEN];
        CHECK_OK(cv_epcis_event_read(&d, i, &ev));
        cv_trace_event_id(ev.hash, id);
        CHECK(strcmp(id, doc_ids[i]) == 0);
        CHECK_OK(cv_trace_parse_event_id(id, back));
        CHECK(memcmp(back, ev.hash, CV_HASH_LEN) == 0);
        cv_epcis_event_free(&ev);
    }
    cv_epcis_event ev;
    CHECK_OK(cv_epcis_event_read(&d, 2, &ev));
    CHECK(ev.facts.type == CV_TRACE_TRANSFORMATION && ev.facts.ninputs == 1 && ev.facts.noutputs == 2);
    CHECK(strcmp(ev.facts.inputs[0].key, "01/09521234543213/10/LOT1") == 0);
    CHECK(ev.facts.event_time_ms == 1709460000123ull && strcmp(ev.facts.tz, "-03:30") == 0);
    cv_epcis_event_free(&ev);
    cv_epcis_doc_free(&d);
}

static void expect_event_error(const char *event, const char *why)
{
    char text[2048];
    cv_epcis_doc d;
    cv_epcis_event ev;
    snprintf(text, sizeof text,
             "{\"@context\":\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\",\"type\":\"EPCISDocument\","
             "\"schemaVersion\":\"2.0\",\"creationDate\":\"2024-01-01T00:00:00Z\",\"epcisBody\":{\"eventList\":[%s]}}",
             event);
    CHECK_OK(cv_epcis_doc_parse(text, strlen(text), &d));
    CHECK_ERR(cv_epcis_event_read(&d, 0, &ev), CV_EINVAL);
    CHECK_MSG(why);
    cv_epcis_doc_free(&d);
}

#define EV_HEAD "{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-01-01T00:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","

static void test_event_errors(void)
{
    expect_event_error(EV_HEAD "\"action\":\"ADD\",\"bizStep\":\"commissioning\",\"epcList\":[]}", "non-empty list");
    expect_event_error(EV_HEAD "\"action\":\"ADD\",\"bizStep\":\"urn:epcglobal:cbv:bizstep:shipping\","
                               "\"epcList\":[\"https://id.gs1.org/01/4006381333931/21/A\"]}",
                       "is not a CBV 2.0 business step");
    expect_event_error(EV_HEAD "\"action\":\"ADD\",\"bizStep\":\"shipping\",\"sensorElementList\":[],"
                               "\"epcList\":[\"https://id.gs1.org/01/4006381333931/21/A\"]}",
                       "field 'sensorElementList' is not supported");
    expect_event_error(EV_HEAD "\"action\":\"MOVE\",\"bizStep\":\"shipping\"}", "needs an action");
    expect_event_error(EV_HEAD "\"action\":\"ADD\",\"bizStep\":\"shipping\",\"eventID\":\"ni:///sha-256;"
                               "0000000000000000000000000000000000000000000000000000000000000000?ver=CBV2.0\","
                               "\"epcList\":[\"https://id.gs1.org/01/4006381333931/21/A\"]}",
                       "is not the event's hash ID");
    expect_event_error(EV_HEAD "\"action\":\"ADD\",\"bizStep\":\"shipping\",\"epcList\":[\"https://id.gs1.org/01/4006381333931/10/L\"]}",
                       "is a batch code");
    expect_event_error("{\"type\":\"ObjectEvent\",\"eventTime\":\"2024-02-30T00:00:00Z\",\"eventTimeZoneOffset\":\"+00:00\","
                       "\"action\":\"ADD\",\"bizStep\":\"shipping\",\"epcList\":[\"https://id.gs1.org/01/4006381333931/21/A\"]}",
                       "is not a date and time");
    cv_epcis_doc d;
    CHECK_ERR(cv_epcis_doc_parse("{\"type\":\"EPCISDocument\"", 24, &d), CV_EINVAL);
    CHECK_MSG("not JSON");
}

static void test_facts_hostile(void)
{
    static const uint8_t junk[][6] = {{0}, {0x08, 0x09}, {0xff, 0xff, 0xff}, {0x08, 0x01, 0x10, 0x01, 0x1a, 0x7f}};
    cv_trace_facts f;
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        CHECK(cv_trace_facts_decode(junk[i], sizeof junk[i], &f) != CV_OK);
}

/* ---- the contract -------------------------------------------------------------------------- */

static void add_role(fx_chain *f, size_t account, const char *role)
{
    cv_genesis_account *a = &f->g.accounts[account];
    snprintf(a->roles[a->nroles++], sizeof a->roles[0], "%s", role);
}

/* A trace.record of synthetic facts; its event hash from seed. */
static int record(fx_chain *f, const cv_keypair *key, unsigned seed, cv_trace_facts *facts)
{
    uint8_t hash[CV_HASH_LEN];
    cv_buf enc = {0};
    CHECK_OK(cv_hash(CV_SUITE_STD, &seed, sizeof seed, hash));
    CHECK_OK(cv_trace_facts_encode(facts, &enc));
    char *json = malloc(2 * enc.len + 200), hex[2 * CV_HASH_LEN + 1];
    cv_hex_encode(hash, CV_HASH_LEN, hex);
    int n = sprintf(json, "{\"event\":\"%s\",\"facts\":\"", hex);
    cv_hex_encode(enc.data, enc.len, json + n);
    strcat(json, "\"}");
    int rc = fx_run(f, fx_tx(f, key, "trace", "record", json));
    free(json);
    cv_buf_free(&enc);
    return rc;
}

static void facts_of(cv_trace_facts *f, cv_trace_type type, cv_trace_action action, const char *step)
{
    memset(f, 0, sizeof *f);
    f->type = type;
    f->action = action;
    snprintf(f->biz_step, sizeof f->biz_step, "%s", step);
    f->event_time_ms = 1700000000000ull;
    strcpy(f->tz, "+08:00");
}

static void add_code(cv_trace_facts *f, int list, const char *text)
{
    cv_gs1_code c;
    CHECK_OK(cv_gs1_parse(text, &c));
    CHECK_OK(cv_trace_facts_add(f, list, &c));
}

#define LOT "01/04006381333931/10/L1"
#define ITEM(n) "01/00000096385074/21/I" #n

static void test_rules(void)
{
    fx_chain f;
    cv_trace_facts e;
    fx_setup(&f, CV_SUITE_STD, 2);
    add_role(&f, 0, "producer"); /* org1: farm and shipper */
    add_role(&f, 0, "logistics");
    add_role(&f, 1, "processor"); /* org2: processor and receiver */
    add_role(&f, 1, "logistics");
    fx_start(&f);

    facts_of(&e, CV_TRACE_OBJECT, CV_TRACE_ADD, "commissioning");
    add_code(&e, 0, LOT);
    CHECK_ERR(record(&f, &f.notary, 1, &e), CV_EPERM);
    CHECK_MSG("lacks the role producer or processor needed to record commissioning");
    CHECK_OK(record(&f, &f.admin[0], 1, &e));
    CHECK_ERR(record(&f, &f.admin[0], 1, &e), CV_EEXIST); /* the same event */
    CHECK_ERR(record(&f, &f.admin[0], 2, &e), CV_EEXIST); /* the same code again */
    CHECK_MSG("already commissioned");
    cv_trace_facts_free(&e);

    facts_of(&e, CV_TRACE_OBJECT, CV_TRACE_OBSERVE, "shipping");
    add_code(&e, 0, LOT);
    CHECK_ERR(record(&f, &f.admin[1], 3, &e), CV_EPERM);
    CHECK_MSG("org2 is not the custodian of https://id.gs1.org/" LOT " (its custodian is org1)");
    CHECK_OK(record(&f, &f.admin[0], 3, &e));
    CHECK_ERR(record(&f, &f.admin[0], 4, &e), CV_ESTATE);
    CHECK_MSG("is in transit");
    cv_trace_facts_free(&e);

    facts_of(&e, CV_TRACE_TRANSFORMATION, CV_TRACE_NO_ACTION, "commissioning");
    add_code(&e, 1, LOT);
    add_code(&e, 2, ITEM(1));
    CHECK_ERR(record(&f, &f.admin[1], 5, &e), CV_EPERM); /* not received yet: still org1's */
    cv_trace_facts_free(&e);
    facts_of(&e, CV_TRACE_OBJECT, CV_TRACE_OBSERVE, "receiving");
    add_code(&e, 0, LOT);
    CHECK_OK(record(&f, &f.admin[1], 6, &e));
    cv_trace_facts_free(&e);
    facts_of(&e, CV_TRACE_TRANSFORMATION, CV_TRACE_NO_ACTION, "commissioning");
    add_code(&e, 1, LOT);
    add_code(&e, 2, ITEM(1));
    add_code(&e, 2, ITEM(2));
    CHECK_OK(record(&f, &f.admin[1], 5, &e));
    cv_trace_facts_free(&e);

    facts_of(&e, CV_TRACE_OBJECT, CV_TRACE_OBSERVE, "inspecting");
    add_code(&e, 0, "01/00000096385074/21/NOPE");
    CHECK_ERR(record(&f, &f.admin[1], 7, &e), CV_EPERM); /* no inspector role */
    cv_trace_facts_free(&e);
    facts_of(&e, CV_TRACE_OBJECT, CV_TRACE_OBSERVE, "storing");
    add_code(&e, 0, "01/00000096385074/21/NOPE");
    CHECK_ERR(record(&f, &f.admin[1], 7, &e), CV_ENOTFOUND);
    CHECK_MSG("unknown code https://id.gs1.org/01/00000096385074/21/NOPE");
    cv_trace_facts_free(&e);

    json_t *h = fx_query(&f, "trace", "history", "{\"code\":\"https://id.gs1.org/" ITEM(2) "\",\"limit\":0}", CV_OK);
    CHECK(json_array_size(json_object_get(h, "events")) == 4); /* commission, ship, receive, transform */
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(json_object_get(h, "codes"), 1), "relation")),
                 "input") == 0);
    json_decref(h);
    json_t *imp = fx_query(&f, "trace", "impact", "{\"code\":\"" LOT "\",\"limit\":0}", CV_OK);
    CHECK(json_array_size(json_object_get(imp, "codes")) == 3);
    json_decref(imp);
    fx_query(&f, "trace", "history", "{\"code\":\"01/00000096385074/21/NOPE\",\"limit\":0}", CV_ENOTFOUND);

    /* error declarations: by the recording organisation, once */
    uint8_t hash[CV_HASH_LEN];
    unsigned seed = 6;
    char json[200], hex[2 * CV_HASH_LEN + 1];
    cv_hash(CV_SUITE_STD, &seed, sizeof seed, hash);
    cv_hex_encode(hash, CV_HASH_LEN, hex);
    snprintf(json, sizeof json, "{\"event\":\"%s\",\"reason\":\"incorrect_data\"}", hex);
    CHECK_ERR(fx_run(&f, fx_tx(&f, &f.admin[0], "trace", "declare_error", json)), CV_EPERM);
    CHECK_OK(fx_run(&f, fx_tx(&f, &f.admin[1], "trace", "declare_error", json)));
    CHECK_ERR(fx_run(&f, fx_tx(&f, &f.admin[1], "trace", "declare_error", json)), CV_EEXIST);
    snprintf(json, sizeof json, "{\"event\":\"%s\"}", hex);
    json_t *ev = fx_query(&f, "trace", "event", json, CV_OK);
    CHECK(strcmp(json_string_value(json_object_get(json_object_get(ev, "error"), "reason")), "incorrect_data") == 0);
    json_decref(ev);
    fx_free(&f);
}

int main(void)
{
    CHECK_OK(cv_crypto_init());
    test_check_digits();
    test_codes();
    test_hash_ids();
    test_event_errors();
    test_facts_hostile();
    test_rules();
    cv_crypto_cleanup();
    return check_done();
}
