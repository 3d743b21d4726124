/* trace_state.h: the trace contract's state records and keys, shared by
 * its transactions (trace.c) and its queries (trace_query.c).
 *
 *   "n"                          the next event sequence number
 *   "e" || event hash            event record
 *   "o" || code key              custody record of a code
 *   "c" || code key || 0x00 || sequence (8, big-endian)
 *                                -> event hash: the events naming a code, in
 *                                   the order they were recorded */
#ifndef CV_APPS_TRACE_STATE_H
#define CV_APPS_TRACE_STATE_H

#include <stdint.h>

#include "apps/trace.h"

typedef enum {
    CV_TRACE_ACTIVE = 1,     /* held by its custodian */
    CV_TRACE_IN_TRANSIT = 2, /* shipped, not yet received */
    CV_TRACE_INACTIVE = 3,   /* sold, decommissioned or destroyed */
} cv_trace_status;

typedef struct {
    uint64_t seq, height, time_ms;
    uint8_t tx[CV_HASH_LEN];
    uint8_t recorder[CV_ADDR_LEN];
    char org[CV_ID_MAX + 1];
    cv_buf facts;                 /* encoded cv_trace_facts (owned) */
    uint64_t declared;            /* an error was declared on it */
    char reason[CV_TRACE_REASON_MAX + 1];
    uint8_t declared_by[CV_ADDR_LEN];
    uint64_t declared_height;
} cv_trace_event_rec;

typedef struct {
    char owner[CV_ID_MAX + 1];        /* custodian organisation */
    uint64_t status;                  /* cv_trace_status */
    uint64_t recalled;
    char parent[CV_GS1_KEY_MAX + 1];  /* container it is packed in, or "" */
    uint8_t last[CV_HASH_LEN];        /* last event that changed it */
} cv_trace_custody;

/* CV_ENOTFOUND (without a message) when absent. */
int cv_trace_load_event(const cv_call *call, const uint8_t hash[CV_HASH_LEN], cv_trace_event_rec *r);
int cv_trace_store_event(cv_call *call, const uint8_t hash[CV_HASH_LEN], const cv_trace_event_rec *r);
void cv_trace_event_rec_free(cv_trace_event_rec *r);
int cv_trace_load_custody(const cv_call *call, const char *key, cv_trace_custody *c);
int cv_trace_store_custody(cv_call *call, const char *key, const cv_trace_custody *c);

/* The custody that governs a code: that of its outermost container (its
 * owner and transit status; CV_ENOTFOUND, without a message, if unknown). */
int cv_trace_effective_custody(const cv_call *call, const char *code, cv_trace_custody *c);

/* The key prefix of a code's event index ("c" || key || 0x00); its length. */
size_t cv_trace_index_prefix(const char *key, uint8_t *out);

/* An event record with its facts as JSON: {id, seq, height, time_ms, tx,
 * recorder, org, facts..., error}; NULL on no memory. */
json_t *cv_trace_event_json(const cv_call *call, const uint8_t hash[CV_HASH_LEN], const cv_trace_event_rec *r,
                            const cv_trace_facts *f);

/* The graph queries (trace_query.c): trace.history and trace.impact. */
int cv_trace_q_history(cv_call *call, const cv_arg *args);
int cv_trace_q_impact(cv_call *call, const cv_arg *args);

#endif
