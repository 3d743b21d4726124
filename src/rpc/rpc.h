/* rpc.h: the node's JSON-RPC 2.0 server over HTTP (docs/RPC.md).
 *
 * cv_rpc_start serves a node on "host:port" with libmicrohttpd, one thread
 * per connection (long polls and the event stream block a connection):
 *   POST /        JSON-RPC 2.0 requests (single, batch or notification),
 *                 Content-Type application/json, body at most rpc_max_body
 *   GET  /health  {"ok":true,"height":N}
 *   GET  /events  server-sent events: one `event: block` per new block
 *
 * cv_rpc_handle is the transport-free dispatcher behind POST /: JSON text in,
 * JSON text out. Every malformed or hostile request gets a JSON-RPC error
 * naming what is wrong; no input makes it crash or leak. */
#ifndef CV_RPC_RPC_H
#define CV_RPC_RPC_H

#include <stddef.h>

#include "base/buf.h"
#include "node/node.h"

/* JSON-RPC 2.0 error codes. */
#define CV_RPC_PARSE_ERROR -32700
#define CV_RPC_INVALID_REQUEST -32600
#define CV_RPC_METHOD_NOT_FOUND -32601
#define CV_RPC_INVALID_PARAMS -32602
#define CV_RPC_INTERNAL_ERROR -32603
/* Application errors: CV_RPC_APP_ERROR + a cv_err code (base/err.h), so
 * -32002 is CV_EINVAL, -32004 CV_EBADSIG, ..., -32011 CV_ESTATE. */
#define CV_RPC_APP_ERROR -32000

/* Limits on what one request may ask for. */
#define CV_RPC_BATCH_MAX 1000        /* requests in one JSON-RPC batch */
#define CV_RPC_TX_BATCH_MAX 10000    /* transactions in one tx_send_batch */
#define CV_RPC_WAIT_MAX_MS 60000     /* longest tx_wait / block_wait */

typedef struct cv_rpc cv_rpc;

/* Starts serving node on listen ("host:port"; port 0 picks a free port,
 * which cv_rpc_address then reports). Uses the node's rpc_max_body and
 * rpc_threads (connections served at once). */
int cv_rpc_start(cv_node *node, const char *listen, cv_rpc **out);

/* "host:port" actually bound. */
const char *cv_rpc_address(const cv_rpc *r);

/* Stops accepting, ends event streams and long polls, waits for the
 * connection threads and frees r. Call before cv_node_close. */
void cv_rpc_stop(cv_rpc *r);

/* Handles one HTTP body of JSON-RPC: a request, a notification or a batch.
 * Replaces response's contents with the JSON reply; leaves it empty when
 * there is nothing to reply (notifications only). CV_OK unless memory ran
 * out: every bad request is answered with a JSON-RPC error. */
int cv_rpc_handle(cv_node *node, const char *body, size_t len, cv_buf *response);

#endif
