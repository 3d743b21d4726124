/* receipt.h: the outcome of one transaction: status, error, events.
 *
 * receipt = {1: tx hash, 2: status (0 = ok, else a cv_err code negated),
 *            3: error message, 4: events (list of messages)}
 * event   = {1: contract, 2: name, 3: attributes (list of messages)}
 * attr    = {1: key, 2: value}
 * A failed transaction has no events and changed no state. */
#ifndef CV_LEDGER_RECEIPT_H
#define CV_LEDGER_RECEIPT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "crypto/suite.h"
#include "ledger/tx.h"

#define CV_EVENTS_MAX 64
#define CV_ATTRS_MAX 8
#define CV_ATTR_KEY_MAX 32
#define CV_ATTR_VALUE_MAX 256
#define CV_ERROR_MAX 256

typedef struct {
    char key[CV_ATTR_KEY_MAX + 1];
    char value[CV_ATTR_VALUE_MAX + 1];
} cv_attr;

typedef struct {
    char contract[CV_NAME_MAX + 1];
    char name[CV_NAME_MAX + 1];
    size_t nattrs;
    cv_attr attrs[CV_ATTRS_MAX];
} cv_event;

typedef struct {
    uint8_t tx_hash[CV_HASH_LEN];
    uint64_t status; /* 0 ok; otherwise -cv_err */
    char error[CV_ERROR_MAX + 1];
    size_t nevents;
    cv_event *events; /* owned: free with cv_receipt_free */
} cv_receipt;

int cv_receipt_encode(const cv_receipt *r, cv_buf *out);
/* Decodes into out, allocating its events; free with cv_receipt_free. */
int cv_receipt_decode(const uint8_t *p, size_t len, cv_receipt *out);
void cv_receipt_free(cv_receipt *r);

/* Appends an event to r (allocating); CV_EFULL past CV_EVENTS_MAX. */
int cv_receipt_add_event(cv_receipt *r, const cv_event *ev);

/* Adds key=value to ev; CV_EFULL / CV_EINVAL when it does not fit. */
int cv_event_attr(cv_event *ev, const char *key, const char *value);

#endif
