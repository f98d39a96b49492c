/* modules/metrics/mx_http.c: the HTTP side of the metrics module.
 *
 * One evhttp server on the core's loop. The listening socket is made here
 * rather than by evhttp_bind_socket, so a bind failure reports the real
 * errno (evhttp's cleanup path may overwrite it) and port 0 can be read
 * back with getsockname. */
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

typedef enum { MX_ROUTE_NONE, MX_ROUTE_METRICS, MX_ROUTE_HEALTH } mx_route_t;

static mx_route_t mx_http_route(const char *path)
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

/* mx_http_count: one answered request, by status code. Recorded after the
 * reply is queued, so a scrape does not count itself. */
static void mx_http_count(mx_ctx_t *ctx, int code)
{
	char buf[16];
	snprintf(buf, sizeof(buf), "%d", code);
	const char *values[] = {buf};
	contour_metric_add(ctx->requests, values, 1);
}

static void mx_http_free_body(const void *data, size_t len, void *extra)
{
	free((void *)data);
}

/* mx_http_reply: send code with a body. `owned` bodies were malloc'ed and
 * are handed to the evbuffer (no copy of a large scrape); others are
 * static text. */
static void mx_http_reply(mx_ctx_t *ctx, struct evhttp_request *req, int code, const char *reason,
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
	mx_http_count(ctx, code);
}

static void mx_http_text(mx_ctx_t *ctx, struct evhttp_request *req, int code, const char *reason,
                         const char *text)
{
	mx_http_reply(ctx, req, code, reason, "text/plain; charset=utf-8", (char *)text,
	              strlen(text), 0);
}

static void mx_http_cb(struct evhttp_request *req, void *arg)
{
	mx_ctx_t *ctx = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	mx_route_t route = mx_http_route(uri ? evhttp_uri_get_path(uri) : NULL);

	if (route == MX_ROUTE_NONE) {
		mx_http_text(ctx, req, HTTP_NOTFOUND, "Not Found", "404 page not found\n");
		return;
	}
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
		mx_http_text(ctx, req, HTTP_BADMETHOD, "Method Not Allowed",
		             "405 method not allowed\n");
		return;
	}
	if (route == MX_ROUTE_HEALTH) {
		/* Upstream's /healthz also lists the API server; this build has
		 * no API client yet, so being able to answer is the check. */
		mx_http_text(ctx, req, HTTP_OK, "OK", "OK");
		return;
	}
	size_t len = 0;
	char *text = contour_metrics_render(ctx->mod, &len);
	if (!text) {
		contour_log(ctx->mod, CONTOUR_LOG_ERR, "rendering the metrics registry failed");
		mx_http_text(ctx, req, HTTP_INTERNAL, "Internal Server Error",
		             "500 cannot render metrics\n");
		return;
	}
	mx_http_reply(ctx, req, HTTP_OK, "OK", MX_CONTENT_TYPE, text, len, 1);
}

int mx_http_start(mx_ctx_t *ctx)
{
	/* IPv6 literals are bracketed in messages, as in a URL. */
	int v6 = strchr(ctx->address, ':') != NULL;
	const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
	struct evconnlistener *lev = NULL;
	int fd = -1;

	if (ctx->http)
		return CONTOUR_ESTATE;
	fd = contour_listen_tcp(ctx->address, ctx->port, MX_HTTP_BACKLOG, &ctx->bound_port);
	if (fd < 0) {
		contour_log(ctx->mod, CONTOUR_LOG_ERR, "cannot listen on %s%s%s:%d: %s", lb,
		            ctx->address, rb, ctx->port, strerror(-fd));
		return fd;
	}
	ctx->http = evhttp_new(contour_event_base(ctx->mod));
	if (!ctx->http)
		goto fail;
	evhttp_set_timeout(ctx->http, MX_HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(ctx->http, MX_HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(ctx->http, MX_HTTP_MAX_BODY);
	evhttp_set_allowed_methods(ctx->http, MX_ALL_METHODS);
	evhttp_set_gencb(ctx->http, mx_http_cb, ctx);
	/* Our own listener, not evhttp_accept_socket_with_handle, so that who
	 * closes fd is unambiguous on every failure path. Backlog 0: fd
	 * already listens. */
	lev = evconnlistener_new(contour_event_base(ctx->mod), NULL, NULL,
	                         LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!lev)
		goto fail;
	fd = -1; /* the listener owns it now */
	/* On success evhttp owns the listener and frees it in evhttp_free. */
	if (!evhttp_bind_listener(ctx->http, lev))
		goto fail;
	contour_log(ctx->mod, CONTOUR_LOG_INFO,
	            "listening on http://%s%s%s:%d (/metrics, /healthz)", lb, ctx->address, rb,
	            ctx->bound_port);
	return CONTOUR_EOK;
fail:
	contour_log(ctx->mod, CONTOUR_LOG_ERR, "cannot serve on %s%s%s:%d: out of memory", lb,
	            ctx->address, rb, ctx->bound_port);
	if (ctx->http)
		evhttp_free(ctx->http);
	ctx->http = NULL;
	if (lev)
		evconnlistener_free(lev);
	if (fd >= 0)
		close(fd);
	return CONTOUR_ENOMEM;
}

void mx_http_stop(mx_ctx_t *ctx)
{
	if (!ctx || !ctx->http)
		return;
	/* Closes the listener and every connection still open. */
	evhttp_free(ctx->http);
	ctx->http = NULL;
	contour_log(ctx->mod, CONTOUR_LOG_DEBUG, "stopped listening on port %d", ctx->bound_port);
}
