/* modules/metrics/mx.h: the metrics module's private declarations. */
#ifndef MX_MX_H
#define MX_MX_H

#include <stdint.h>
#include <contour/module.h>

struct evhttp;

/* Limits that keep a slow or hostile client from costing the loop more than
 * a socket and a few kilobytes: scrapers send small GETs with no body. */
#define MX_HTTP_TIMEOUT_S   30
#define MX_HTTP_MAX_HEADERS 8192
#define MX_HTTP_MAX_BODY    1024
#define MX_HTTP_BACKLOG     64
#define MX_CONTENT_TYPE     "text/plain; version=0.0.4; charset=utf-8"

typedef struct mx_ctx {
	contour_module_t *mod;

	/* Config, borrowed from the core until free. */
	const char *address;
	int port;

	/* Registered in init; owned by the registry. */
	contour_metric_t *build_info;
	contour_metric_t *requests;

	/* Runtime, from start to stop. */
	struct evhttp *http;
	int bound_port; /* the port actually bound (differs from `port` when 0) */
} mx_ctx_t;

/* mx_http.c */

/* mx_http_start: bind address:port, listen, and serve on the module's event
 * base. On failure logs the address, port and errno text, leaves nothing
 * open, and returns a negative code. */
int mx_http_start(mx_ctx_t *ctx);
/* mx_http_stop: close the listener and every open connection. Idempotent. */
void mx_http_stop(mx_ctx_t *ctx);

#endif
