/* httpc.h: a minimal HTTP/1.1 client for JSON-RPC: the CLI and the load
 * generator talk to nodes with it. One connection, kept alive and reopened
 * when the server closes it; responses need a Content-Length (or are read to
 * the end of the connection). */
#ifndef CV_RPC_HTTPC_H
#define CV_RPC_HTTPC_H

#include <stddef.h>

#include <jansson.h>

#include "base/buf.h"

typedef struct {
    char host[256];
    char port[16];
    char path[256];
    int fd;
    int timeout_ms;
} cv_httpc;

/* Parses "http://host:port[/path]" (or "host:port"). */
int cv_httpc_init(cv_httpc *c, const char *url, int timeout_ms);
void cv_httpc_close(cv_httpc *c);

/* POSTs body with Content-Type type to the URL's path; the response body
 * goes to out and its status code to *status. */
int cv_httpc_post(cv_httpc *c, const char *type, const void *body, size_t len, int *status, cv_buf *out);

/* Calls a JSON-RPC method: *result is the "result" member (a new reference),
 * or CV_EINVAL with the server's error message (code in *rpc_code if given). */
int cv_httpc_call(cv_httpc *c, const char *method, json_t *params, json_t **result, int *rpc_code);

#endif
