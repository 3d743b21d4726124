/* json.h: byte strings as JSON values (lowercase hex), shared by every layer
 * that writes JSON: RPC replies, contract results, notary receipts. */
#ifndef CV_BASE_JSON_H
#define CV_BASE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* A new JSON string of the 2n lowercase hex digits of p, or NULL when
 * memory runs out. */
json_t *cv_json_hex(const uint8_t *p, size_t n);

#endif
