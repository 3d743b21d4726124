/* fuzz_epcis.c: libFuzzer target for the trace decoders: EPCIS JSON-LD
 * documents (apps/epcis.h), GS1 codes (apps/gs1.h) and encoded facts
 * (apps/trace.h).
 *
 * The input is tried three ways. As a document: it parses or fails with
 * CV_EINVAL; every event it accepts has a hash ID, facts that encode and
 * decode back to the same bytes, and a trace transaction. As a code (up to
 * its first NUL): it parses or fails with CV_EINVAL, and an accepted code's
 * canonical key parses to itself. As facts: decoding accepts them or fails
 * with CV_EINVAL, and accepted facts encode back to the input. */
#include <string.h>

#include "apps/epcis.h"
#include "apps/gs1.h"
#include "apps/trace.h"
#include "fuzz_common.h"

static void as_document(const uint8_t *data, size_t size)
{
    cv_epcis_doc d;
    int rc = cv_epcis_doc_parse((const char *)data, size, &d);
    FUZZ_REQUIRE(rc == CV_OK || rc == CV_EINVAL);
    for (size_t i = 0; rc == CV_OK && i < cv_epcis_doc_count(&d); i++) {
        cv_epcis_event ev;
        int erc = cv_epcis_event_read(&d, i, &ev);
        FUZZ_REQUIRE(erc == CV_OK || erc == CV_EINVAL || erc == CV_EFULL);
        if (erc != CV_OK)
            continue;
        cv_buf enc = {0}, args = {0};
        cv_trace_facts back;
        const char *method;
        FUZZ_REQUIRE(cv_trace_facts_encode(&ev.facts, &enc) == CV_OK);
        FUZZ_REQUIRE(ev.error_declaration || cv_trace_facts_decode(enc.data, enc.len, &back) == CV_OK);
        if (!ev.error_declaration)
            cv_trace_facts_free(&back);
        FUZZ_REQUIRE(cv_epcis_event_tx(&ev, &method, &args) == CV_OK);
        cv_buf_free(&enc);
        cv_buf_free(&args);
        cv_epcis_event_free(&ev);
    }
    cv_epcis_doc_free(&d);
}

static void as_code(const uint8_t *data, size_t size)
{
    char text[CV_GS1_INPUT_MAX + 2];
    cv_gs1_code code, again;
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    int rc = cv_gs1_parse(text, &code);
    FUZZ_REQUIRE(rc == CV_OK || rc == CV_EINVAL);
    if (rc == CV_OK)
        FUZZ_REQUIRE(cv_gs1_parse(code.key, &again) == CV_OK && strcmp(again.key, code.key) == 0);
}

static void as_facts(const uint8_t *data, size_t size)
{
    cv_trace_facts f;
    int rc = cv_trace_facts_decode(data, size, &f);
    FUZZ_REQUIRE(rc == CV_OK || rc == CV_EINVAL || rc == CV_ENOMEM);
    if (rc != CV_OK)
        return;
    cv_buf again = {0};
    FUZZ_REQUIRE(cv_trace_facts_encode(&f, &again) == CV_OK && fuzz_same(&again, data, size));
    cv_buf_free(&again);
    cv_trace_facts_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_document(data, size);
    as_code(data, size);
    as_facts(data, size);
    return 0;
}
