/* trace.h: the traceability contract (溯源, docs/TRACE.md).
 *
 * Events are GS1 EPCIS 2.0 events; the chain keeps each event's hash ID
 * (the EPCIS event hash ID, ni:///sha-256;{hex}?ver=CBV2.0) and the facts
 * its rules need, as cv_trace_facts below, while the node keeps the full
 * JSON-LD document off the state (rpc/trace.c). The contract checks who may
 * record what (a role per business step), custody (only an item's current
 * custodian organisation may ship, pack, transform or sell it) and that
 * codes are issued once; it indexes every event by the codes it names, for
 * an item's history (upstream through transformations, up through
 * aggregations) and a recall's downstream impact (apps/trace_query.c).
 * Errors are declared on an earlier event, never edited away. */
#ifndef CV_APPS_TRACE_H
#define CV_APPS_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "apps/gs1.h"
#include "base/buf.h"
#include "exec/contract.h"

#define CV_TRACE_CODES_MAX 1000  /* codes named by one event, in all its lists */
#define CV_TRACE_FACTS_MAX 131072 /* bytes of an event's encoded facts */
#define CV_TRACE_STEP_MAX 32      /* a CBV business step or disposition (bare word) */
#define CV_TRACE_TZ_MAX 6         /* "+08:00" */
#define CV_TRACE_REASON_MAX 256   /* an error declaration's reason */
#define CV_TRACE_ID_MAX 100       /* "ni:///sha-256;{64 hex}?ver=CBV2.0" with room */

typedef enum {
    CV_TRACE_OBJECT = 1,
    CV_TRACE_AGGREGATION = 2,
    CV_TRACE_TRANSFORMATION = 3,
} cv_trace_type;

typedef enum {
    CV_TRACE_NO_ACTION = 0, /* TransformationEvent */
    CV_TRACE_ADD = 1,
    CV_TRACE_OBSERVE = 2,
    CV_TRACE_DELETE = 3,
} cv_trace_action;

/* One code an event names: its canonical key and, for an item written with
 * its batch, the batch's key. */
typedef struct {
    char key[CV_GS1_KEY_MAX + 1];
    char batch[CV_GS1_KEY_MAX + 1];
} cv_trace_code;

/* What the chain keeps of an event. Lists: what (epcList and quantityList
 * classes of an ObjectEvent, childEPCs and childQuantityList of an
 * AggregationEvent), inputs and outputs (of a TransformationEvent). Keys
 * of locations and parties are "" when absent. */
typedef struct {
    uint64_t type;       /* cv_trace_type */
    uint64_t action;     /* cv_trace_action */
    char biz_step[CV_TRACE_STEP_MAX + 1];
    char disposition[CV_TRACE_STEP_MAX + 1];
    uint64_t event_time_ms; /* eventTime, UTC milliseconds since 1970 */
    char tz[CV_TRACE_TZ_MAX + 1];
    char read_point[CV_GS1_KEY_MAX + 1];
    char biz_location[CV_GS1_KEY_MAX + 1];
    char source[CV_GS1_KEY_MAX + 1];      /* owning party it comes from */
    char destination[CV_GS1_KEY_MAX + 1]; /* owning party it goes to */
    char parent[CV_GS1_KEY_MAX + 1];      /* AggregationEvent parentID */
    size_t nwhat, ninputs, noutputs;
    cv_trace_code *what, *inputs, *outputs; /* owned (cv_trace_facts_free) */
} cv_trace_facts;

extern const cv_contract cv_trace_contract;

void cv_trace_facts_free(cv_trace_facts *f);
/* Appends one code to a list of f (0 what, 1 inputs, 2 outputs); CV_EFULL
 * past CV_TRACE_CODES_MAX codes in all. */
int cv_trace_facts_add(cv_trace_facts *f, int list, const cv_gs1_code *code);
/* The canonical encoding (the argument `facts` of trace.record). */
int cv_trace_facts_encode(const cv_trace_facts *f, cv_buf *out);
/* Decodes and checks facts: known type, action and step, every key
 * canonical (re-read by cv_gs1_parse). CV_EINVAL naming what is wrong. */
int cv_trace_facts_decode(const uint8_t *p, size_t len, cv_trace_facts *out);
/* Decodes facts the contract stored (already checked): no key checks. */
int cv_trace_facts_load(const uint8_t *p, size_t len, cv_trace_facts *out);
/* The facts as JSON (keys as canonical Digital Link URIs); NULL on no memory. */
json_t *cv_trace_facts_json(const cv_trace_facts *f);

/* "ni:///sha-256;{hex}?ver=CBV2.0" of an event hash; and back (also plain hex). */
void cv_trace_event_id(const uint8_t hash[CV_HASH_LEN], char out[CV_TRACE_ID_MAX + 1]);
int cv_trace_parse_event_id(const char *text, uint8_t hash[CV_HASH_LEN]);

#endif
