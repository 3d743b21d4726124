/* epcis.h: GS1 EPCIS 2.0 JSON-LD documents as civitas trace reads them:
 * the document's shape, each event's facts (apps/trace.h), its errorDeclaration,
 * and its EPCIS event hash ID (CBV 2.0, "ni:///sha-256;{hex}?ver=CBV2.0").
 *
 * civitas reads ObjectEvent, AggregationEvent and TransformationEvent with
 * these fields: eventTime, eventTimeZoneOffset, epcList, parentID,
 * childEPCs, inputEPCList, outputEPCList, the four quantity lists, action,
 * transformationID, bizStep, disposition, readPoint, bizLocation,
 * bizTransactionList, sourceList, destinationList and ilmd (a flat object of
 * prefixed names); recordTime, eventID and errorDeclaration are not hashed.
 * Any other field, an empty list, a CBV value in URN form or a code that is
 * not a GS1 key civitas reads (gs1.h) is refused with a message naming it,
 * so that no event is hashed over content civitas does not understand.
 *
 * The hash ID follows the algorithm of the GS1 EPCIS event hash generator
 * (github.com/RalphTro/epcis-event-hash-generator): a pre-hash string of
 * name=value pairs in canonical field order, lists sorted, codes as
 * canonical Digital Link URIs, times in UTC with milliseconds, CBV values as
 * Web URIs; its SHA-256. */
#ifndef CV_APPS_EPCIS_H
#define CV_APPS_EPCIS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "apps/trace.h"
#include "base/buf.h"

#define CV_EPCIS_DOC_MAX (1u << 20) /* bytes of a JSON-LD document */
#define CV_EPCIS_EVENTS_MAX 1000    /* events of one document */
#define CV_EPCIS_VALUE_MAX 512      /* bytes of one string value */

typedef struct {
    json_t *doc;             /* owned */
    const json_t *context;   /* its "@context" */
    const json_t *events;    /* its epcisBody.eventList */
} cv_epcis_doc;

typedef struct {
    uint8_t hash[CV_HASH_LEN];   /* the event hash ID's SHA-256 */
    cv_trace_facts facts;        /* owned: cv_epcis_event_free */
    int error_declaration;       /* the event has an errorDeclaration */
    char reason[CV_TRACE_REASON_MAX + 1]; /* its reason ("" if none) */
} cv_epcis_event;

/* Parses and checks a document: type EPCISDocument, schemaVersion "2.0",
 * creationDate, @context, 1 to CV_EPCIS_EVENTS_MAX events. */
int cv_epcis_doc_parse(const char *text, size_t len, cv_epcis_doc *out);
void cv_epcis_doc_free(cv_epcis_doc *d);
size_t cv_epcis_doc_count(const cv_epcis_doc *d);
/* A new document holding only event i, with d's context and creationDate. */
json_t *cv_epcis_doc_single(const cv_epcis_doc *d, size_t i);

/* Reads event i of d: checks it, computes its hash and facts. An eventID
 * in hash-ID form must equal the computed one. Errors name the event and
 * field. */
int cv_epcis_event_read(const cv_epcis_doc *d, size_t i, cv_epcis_event *out);
void cv_epcis_event_free(cv_epcis_event *e);

/* The trace transaction that records e: method "record" (arguments: the
 * hash and the encoded facts) or, for an errorDeclaration, "declare_error"
 * (the hash and the reason); args are the encoded arguments, appended. */
int cv_epcis_event_tx(const cv_epcis_event *e, const char **method, cv_buf *args);

/* The pre-hash string of an event (epcis_hash.c), with the namespace
 * prefixes of context for ilmd names. */
int cv_epcis_prehash(const json_t *event, const json_t *context, cv_buf *out);

/* The CBV word of a business step (kind "BizStep-") or disposition
 * ("Disp-") written as a bare word or as its Web URI
 * (https://ref.gs1.org/cbv/BizStep-shipping); NULL if it is not one. */
const char *cv_epcis_cbv_word(const char *value, const char *kind);

/* An xsd:dateTime ("2024-03-01T08:00:00.5+08:00"; no zone is UTC) as UTC
 * milliseconds since 1970; CV_EINVAL if it is not one. */
int cv_epcis_time_parse(const char *s, uint64_t *ms);

#endif
