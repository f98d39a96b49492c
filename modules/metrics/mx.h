/* modules/metrics/mx.h: the metrics module's private declarations. */
#ifndef MX_MX_H
#define MX_MX_H

#include <stdint.h>
#include <contour/module.h>

struct evhttp;
struct evhttp_request;

/* Limits that keep a slow or hostile client from costing the loop more than
 * a socket and a few kilobytes: scrapers send small GETs with no body. */
#define MX_HTTP_TIMEOUT_S   30
#define MX_HTTP_MAX_HEADERS 8192
#define MX_HTTP_MAX_BODY    1024
#define MX_HTTP_BACKLOG     64
#define MX_CONTENT_TYPE     "text/plain; version=0.0.4; charset=utf-8"
/* What Go's net/http writes for text (http.Error, a sniffed body). */
#define MX_TEXT_TYPE "text/plain; charset=utf-8"

typedef struct mx_ctx mx_ctx_t;
typedef struct mx_srv mx_srv_t;

/* Which page a path names. */
typedef enum {
	MX_ROUTE_NONE,
	MX_ROUTE_METRICS,
	MX_ROUTE_HEALTH,
	MX_ROUTE_DAG,
} mx_route_t;

/* One HTTP server of the module: the metrics port, or the debug port. */
struct mx_srv {
	mx_ctx_t *ctx;
	const char *log_prefix; /* before its log lines: "" or "debug listener: " */
	/* Config, borrowed from the core until free. port -1: not served. */
	const char *address;
	int port;
	/* The paths it serves. */
	mx_route_t (*route)(const char *path);
	/* Its answers count in contour_metrics_http_requests_total. */
	int counted;
	/* Runtime, from start to stop. */
	struct evhttp *http;
	int bound_port; /* the port actually bound (differs from `port` when 0) */
};

struct mx_ctx {
	contour_module_t *mod;

	/* Registered in init; owned by the registry. */
	contour_metric_t *build_info;
	contour_metric_t *requests;

	mx_srv_t metrics; /* /metrics, /healthz, /health */
	mx_srv_t debug;   /* /debug/dag */
};

/* mx_http.c */

/* mx_http_start: bind the server's address:port, listen, and serve on the
 * module's event base (nothing for port -1). On failure logs the address,
 * port and errno text, leaves nothing open, and returns a negative code. */
int mx_http_start(mx_srv_t *srv);
/* mx_http_stop: close the listener and every open connection. Idempotent. */
void mx_http_stop(mx_srv_t *srv);

/* The route tables of the two servers. */
mx_route_t mx_route_metrics(const char *path);
mx_route_t mx_route_debug(const char *path);

#endif
