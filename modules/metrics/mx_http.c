/* modules/metrics/mx_http.c: the HTTP side of the metrics module.
 *
 * Two evhttp servers on the core's loop, sharing this code: the metrics
 * port (/metrics, /healthz, /health) and the debug port (/debug/dag), as
 * upstream serves them on --http-port and --debug-http-port. The listening
 * socket is made here rather than by evhttp_bind_socket, so a bind failure
 * reports the real errno (evhttp's cleanup path may overwrite it) and port
 * 0 can be read back with getsockname. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "modules/metrics/mx.h"

/* Every method evhttp can parse is let through to our callback, so that we,
 * not evhttp (which answers 501), say 405 with an Allow header. */
#define MX_ALL_METHODS                                                                             \
	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | \
	 EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH)

mx_route_t mx_route_metrics(const char *path)
{
	if (!path)
		return MX_ROUTE_NONE;
	if (!strcmp(path, "/metrics"))
		return MX_ROUTE_METRICS;
	/* Upstream serves both names on this port. */
	if (!strcmp(path, "/healthz") || !strcmp(path, "/health"))
		return MX_ROUTE_HEALTH;
	return MX_ROUTE_NONE;
}

mx_route_t mx_route_debug(const char *path)
{
	/* Upstream's /debug/pprof pages are Go's profiler: nothing to serve here. */
	if (path && !strcmp(path, "/debug/dag"))
		return MX_ROUTE_DAG;
	return MX_ROUTE_NONE;
}

/* mx_http_count: one answered request, by status code. Recorded after the
 * reply is queued, so a scrape does not count itself. */
static void mx_http_count(mx_srv_t *srv, int code)
{
	if (!srv->counted)
		return;
	char buf[16];
	snprintf(buf, sizeof(buf), "%d", code);
	const char *values[] = {buf};
	contour_metric_add(srv->ctx->requests, values, 1);
}

static void mx_http_free_body(const void *data, size_t len, void *extra)
{
	free((void *)data);
}

/* mx_http_reply: send code with a body. `owned` bodies were malloc'ed and
 * are handed to the evbuffer (no copy of a large scrape); others are
 * static text. */
static void mx_http_reply(mx_srv_t *srv, struct evhttp_request *req, int code, const char *reason,
                          const char *ctype, char *body, size_t len, int owned)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	evhttp_add_header(hdr, "Content-Type", ctype);
	/* Errors are plain text; never let a browser sniff them into HTML. */
	evhttp_add_header(hdr, "X-Content-Type-Options", "nosniff");
	if (code == HTTP_BADMETHOD)
		evhttp_add_header(hdr, "Allow", "GET, HEAD");
	/* libevent 2.1 writes a HEAD reply's body to the wire (and omits
	 * Content-Length), which breaks framing for the next request on a
	 * kept-alive connection: send the length alone. */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		char clen[32];
		snprintf(clen, sizeof(clen), "%zu", len);
		evhttp_add_header(hdr, "Content-Length", clen);
		if (owned)
			free(body);
	} else if ((owned ? evbuffer_add_reference(out, body, len, mx_http_free_body, NULL)
	                  : evbuffer_add(out, body, len)) != 0) {
		/* evbuffer_add_reference calls no cleanup when it fails. */
		if (owned)
			free(body);
		code = HTTP_INTERNAL;
		reason = "Internal Server Error";
		evbuffer_drain(out, evbuffer_get_length(out));
	}
	evhttp_send_reply(req, code, reason, NULL);
	mx_http_count(srv, code);
}

static void mx_http_text(mx_srv_t *srv, struct evhttp_request *req, int code, const char *reason,
                         const char *text)
{
	mx_http_reply(srv, req, code, reason, MX_TEXT_TYPE, (char *)text, strlen(text), 0);
}

/* Upstream's health handler: 200 "OK\n" (fmt.Fprintln), or http.Error's
 * 503 "Failed Kubernetes Check: <error>\n". Here the failing check names
 * itself, and with no check registered (no k8s-watch) it is always 200. */
static void mx_http_health(mx_srv_t *srv, struct evhttp_request *req)
{
	const char *name = NULL, *msg = NULL;
	if (contour_health_state(srv->ctx->mod, &name, &msg)) {
		mx_http_text(srv, req, HTTP_OK, "OK", "OK\n");
		return;
	}
	size_t cap = strlen(name) + strlen(msg) + 32;
	char *body = malloc(cap);
	if (!body) {
		mx_http_text(srv, req, HTTP_SERVUNAVAIL, "Service Unavailable",
		             "Failed health check\n");
		return;
	}
	int n = snprintf(body, cap, "Failed %s Check: %s\n", name, msg);
	mx_http_reply(srv, req, HTTP_SERVUNAVAIL, "Service Unavailable", MX_TEXT_TYPE, body,
	              (size_t)n, 1);
}

/* Upstream's /debug/dag: the DAG as Graphviz dot. Upstream builds a DAG
 * for each request; the current snapshot is what this process serves, and
 * the same text `contour render --format dot` prints. Before the first
 * build, an empty graph. Go sniffs the body's type: text/plain. */
static void mx_http_dag(mx_srv_t *srv, struct evhttp_request *req)
{
	contour_snapshot_t *snap = contour_snapshot_current(srv->ctx->mod);
	char *dot = contour_dag_to_dot(snap ? contour_snapshot_dag(snap) : NULL);
	if (!dot) {
		contour_log(srv->ctx->mod, CONTOUR_LOG_ERR, "rendering the DAG as dot failed");
		mx_http_text(srv, req, HTTP_INTERNAL, "Internal Server Error",
		             "500 cannot render the DAG\n");
		return;
	}
	mx_http_reply(srv, req, HTTP_OK, "OK", MX_TEXT_TYPE, dot, strlen(dot), 1);
}

static void mx_http_metrics(mx_srv_t *srv, struct evhttp_request *req)
{
	size_t len = 0;
	char *text = contour_metrics_render(srv->ctx->mod, &len);
	if (!text) {
		contour_log(srv->ctx->mod, CONTOUR_LOG_ERR,
		            "rendering the metrics registry failed");
		mx_http_text(srv, req, HTTP_INTERNAL, "Internal Server Error",
		             "500 cannot render metrics\n");
		return;
	}
	mx_http_reply(srv, req, HTTP_OK, "OK", MX_CONTENT_TYPE, text, len, 1);
}

static void mx_http_cb(struct evhttp_request *req, void *arg)
{
	mx_srv_t *srv = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	mx_route_t route = srv->route(uri ? evhttp_uri_get_path(uri) : NULL);

	if (route == MX_ROUTE_NONE) {
		mx_http_text(srv, req, HTTP_NOTFOUND, "Not Found", "404 page not found\n");
		return;
	}
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
		mx_http_text(srv, req, HTTP_BADMETHOD, "Method Not Allowed",
		             "405 method not allowed\n");
		return;
	}
	switch (route) {
	case MX_ROUTE_HEALTH:
		mx_http_health(srv, req);
		break;
	case MX_ROUTE_DAG:
		mx_http_dag(srv, req);
		break;
	default:
		mx_http_metrics(srv, req);
		break;
	}
}

int mx_http_start(mx_srv_t *srv)
{
	/* IPv6 literals are bracketed in messages, as in a URL. */
	int v6 = strchr(srv->address, ':') != NULL;
	const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
	contour_module_t *mod = srv->ctx->mod;
	struct evconnlistener *lev = NULL;
	int fd = -1;

	if (srv->port < 0)
		return CONTOUR_EOK;
	if (srv->http)
		return CONTOUR_ESTATE;
	fd = contour_listen_tcp(srv->address, srv->port, MX_HTTP_BACKLOG, &srv->bound_port);
	if (fd < 0) {
		contour_log(mod, CONTOUR_LOG_ERR, "%scannot listen on %s%s%s:%d: %s",
		            srv->log_prefix, lb, srv->address, rb, srv->port, strerror(-fd));
		return fd;
	}
	srv->http = evhttp_new(contour_event_base(mod));
	if (!srv->http)
		goto fail;
	evhttp_set_timeout(srv->http, MX_HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(srv->http, MX_HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(srv->http, MX_HTTP_MAX_BODY);
	evhttp_set_allowed_methods(srv->http, MX_ALL_METHODS);
	evhttp_set_gencb(srv->http, mx_http_cb, srv);
	/* Our own listener, not evhttp_accept_socket_with_handle, so that who
	 * closes fd is unambiguous on every failure path. Backlog 0: fd
	 * already listens. */
	lev = evconnlistener_new(contour_event_base(mod), NULL, NULL,
	                         LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!lev)
		goto fail;
	fd = -1; /* the listener owns it now */
	/* On success evhttp owns the listener and frees it in evhttp_free. */
	if (!evhttp_bind_listener(srv->http, lev))
		goto fail;
	if (srv->route == mx_route_debug)
		contour_log(mod, CONTOUR_LOG_INFO, "serving /debug/dag on http://%s%s%s:%d", lb,
		            srv->address, rb, srv->bound_port);
	else
		contour_log(mod, CONTOUR_LOG_INFO,
		            "listening on http://%s%s%s:%d (/metrics, /healthz)", lb, srv->address,
		            rb, srv->bound_port);
	return CONTOUR_EOK;
fail:
	contour_log(mod, CONTOUR_LOG_ERR, "%scannot serve on %s%s%s:%d: out of memory",
	            srv->log_prefix, lb, srv->address, rb, srv->bound_port);
	if (srv->http)
		evhttp_free(srv->http);
	srv->http = NULL;
	if (lev)
		evconnlistener_free(lev);
	if (fd >= 0)
		close(fd);
	return CONTOUR_ENOMEM;
}

void mx_http_stop(mx_srv_t *srv)
{
	if (!srv || !srv->http)
		return;
	/* Closes the listener and every connection still open. */
	evhttp_free(srv->http);
	srv->http = NULL;
	contour_log(srv->ctx->mod, CONTOUR_LOG_DEBUG, "%sstopped listening on port %d",
	            srv->log_prefix, srv->bound_port);
}
