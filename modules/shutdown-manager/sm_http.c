/* modules/shutdown-manager/sm_http.c: the sidecar's HTTP server.
 *
 *   GET /healthz   200 "OK"
 *   GET /shutdown  held open until the ready file exists, then 200 "OK";
 *                  with shutdown-drains it also starts the drain
 *
 * Envoy's preStop hook is `httpGet /shutdown`, so Envoy gets no SIGTERM
 * before the drain is over. The ready file is looked at every second, as
 * upstream does, and at once when our own drain finishes.
 *
 * Limits. evhttp bounds header and body sizes and idle reads; on top of it
 * each connection gets a total deadline per request (a client dripping one
 * header byte a second is cut at request-timeout) and the number of
 * connections is capped by pausing accept(2) at max-connections. libevent
 * 2.1 has no hook for a server connection's end, so each connection's
 * bufferevent is made here (evhttp_set_bevcb) and held with one reference:
 * evhttp's bufferevent_free clears its callbacks, which the sweep below
 * sees, and our reference is then the last one, closing the socket. A
 * waiting /shutdown has no deadline; a waiter whose client went away is
 * noticed with a MSG_PEEK at each tick and its connection freed without a
 * reply. */
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
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "modules/shutdown-manager/sm.h"

#define SM_HTTP_MAX_HEADERS 8192
#define SM_HTTP_MAX_BODY    1024
#define SM_HTTP_BACKLOG     64
/* How often connections are swept (closed ones released, deadlines
 * enforced) while any is open. */
#define SM_HTTP_SWEEP_MS 100

typedef struct sm_conn {
	struct bufferevent *bev; /* our reference; NULL: free slot */
	int64_t deadline_ms;     /* 0: none (a waiting /shutdown) */
	int flushing;            /* answered with Connection: close, not yet gone */
} sm_conn_t;

typedef struct sm_waiter {
	struct sm_waiter *next;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
} sm_waiter_t;

struct sm_http {
	sm_ctx_t *ctx;
	struct evhttp *http;
	struct evconnlistener *lev; /* owned by http once bound */
	int bound_port;
	int bound;  /* lev is owned by http */
	int paused; /* accept paused at the cap */
	sm_conn_t *conns;
	size_t nconns;
	sm_waiter_t *waiters;
	size_t nwaiters;
	int answered;
	contour_timer_t *tick;  /* the 1 s ready-file check */
	contour_timer_t *sweep; /* SM_HTTP_SWEEP_MS while connections exist */
};

static void sm_http_update_waiting(sm_http_t *h)
{
	contour_metric_set(h->ctx->metrics.waiting, NULL, (double)h->nwaiters);
}

static sm_conn_t *sm_http_conn_of(sm_http_t *h, struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	for (int i = 0; i < h->ctx->set.max_connections; i++)
		if (h->conns[i].bev && h->conns[i].bev == bev)
			return &h->conns[i];
	return NULL;
}

static void sm_http_arm_sweep(sm_http_t *h)
{
	if (h->nconns && !contour_timer_armed(h->sweep))
		contour_timer_arm(h->sweep, SM_HTTP_SWEEP_MS);
}

static struct bufferevent *sm_http_bevcb(struct event_base *base, void *arg)
{
	sm_http_t *h = arg;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		return NULL;
	for (int i = 0; i < h->ctx->set.max_connections; i++) {
		if (h->conns[i].bev)
			continue;
		bufferevent_incref(bev);
		h->conns[i].bev = bev;
		h->conns[i].deadline_ms = contour_now_ms(h->ctx->mod) + h->ctx->set.request_timeout_ms;
		h->nconns++;
		break;
	}
	/* Accept is paused before the table fills, so a slot was free. */
	if ((int)h->nconns >= h->ctx->set.max_connections && !h->paused) {
		evconnlistener_disable(h->lev);
		h->paused = 1;
		contour_log(h->ctx->mod, CONTOUR_LOG_WARN,
		            "%d connections open (max-connections): not accepting more for now",
		            h->ctx->set.max_connections);
	}
	sm_http_arm_sweep(h);
	return bev;
}

static void sm_http_drop_waiter(sm_http_t *h, struct evhttp_connection *evcon)
{
	for (sm_waiter_t **pp = &h->waiters; *pp; pp = &(*pp)->next) {
		if ((*pp)->evcon != evcon)
			continue;
		sm_waiter_t *w = *pp;
		*pp = w->next;
		free(w);
		h->nwaiters--;
		sm_http_update_waiting(h);
		return;
	}
}

/* evhttp is freeing a connection (client gone, error, or our own free):
 * forget a waiter on it before its request is freed under us. */
static void sm_http_closecb(struct evhttp_connection *evcon, void *arg)
{
	sm_http_drop_waiter(arg, evcon);
}

static void sm_http_sweep_cb(contour_timer_t *t, void *ud)
{
	sm_http_t *h = ud;
	int64_t now = contour_now_ms(h->ctx->mod);
	for (int i = 0; i < h->ctx->set.max_connections; i++) {
		sm_conn_t *c = &h->conns[i];
		if (!c->bev)
			continue;
		bufferevent_event_cb eventcb = NULL;
		bufferevent_getcb(c->bev, NULL, NULL, &eventcb, NULL);
		if (!eventcb) {
			/* evhttp freed it; ours is the last reference. */
			bufferevent_decref(c->bev);
			c->bev = NULL;
			h->nconns--;
			continue;
		}
		if (c->deadline_ms && now >= c->deadline_ms) {
			/* Shut the socket down: evhttp sees the error on its next
			 * read or write and frees the connection itself. */
			evutil_socket_t fd = bufferevent_getfd(c->bev);
			contour_log(h->ctx->mod, CONTOUR_LOG_DEBUG,
			            "closing a connection that took longer than %.1fs for a request",
			            (double)h->ctx->set.request_timeout_ms / 1000.0);
			if (fd >= 0)
				shutdown(fd, SHUT_RDWR);
			c->deadline_ms = 0;
		}
	}
	if (h->paused && (int)h->nconns < h->ctx->set.max_connections) {
		evconnlistener_enable(h->lev);
		h->paused = 0;
	}
	sm_http_arm_sweep(h);
}

static void sm_http_text(struct evhttp_request *req, int code, const char *reason,
                         const char *text)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	evhttp_add_header(hdr, "Content-Type", "text/plain; charset=utf-8");
	evhttp_add_header(hdr, "X-Content-Type-Options", "nosniff");
	if (code == HTTP_BADMETHOD)
		evhttp_add_header(hdr, "Allow", "GET, HEAD");
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* libevent 2.1 writes a HEAD reply's body; send its length only. */
		char clen[32];
		snprintf(clen, sizeof(clen), "%zu", strlen(text));
		evhttp_add_header(hdr, "Content-Length", clen);
	} else {
		evbuffer_add(evhttp_request_get_output_buffer(req), text, strlen(text));
	}
	evhttp_send_reply(req, code, reason, NULL);
}

/* A request was read in full: the next one on this connection gets a new
 * deadline; a waiter none. */
static void sm_http_request_read(sm_http_t *h, struct evhttp_request *req, int waiting)
{
	sm_conn_t *c = sm_http_conn_of(h, evhttp_request_get_connection(req));
	if (c)
		c->deadline_ms =
		    waiting ? 0 : contour_now_ms(h->ctx->mod) + h->ctx->set.request_timeout_ms;
}

/* /shutdown's 200 closes the connection: the kubelet's hook client does
 * not reuse it, and a stopping server can tell when the answer is out (the
 * connection is gone) before it closes everything. */
static void sm_http_answer(sm_http_t *h, struct evhttp_request *req)
{
	sm_conn_t *c = sm_http_conn_of(h, evhttp_request_get_connection(req));
	if (c) {
		c->deadline_ms = contour_now_ms(h->ctx->mod) + h->ctx->set.request_timeout_ms;
		c->flushing = 1;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
	sm_http_text(req, HTTP_OK, "OK", "OK");
	h->answered = 1;
}

size_t sm_http_flushing(const sm_http_t *h)
{
	size_t n = 0;
	for (int i = 0; h && i < h->ctx->set.max_connections; i++)
		n += h->conns[i].bev && h->conns[i].flushing;
	return n;
}

static int sm_http_ready(sm_http_t *h)
{
	return sm_ready_exists(h->ctx->set.ready_file) ||
	       (h->ctx->drain && sm_drain_finished(h->ctx->drain));
}

static void sm_http_answer_all(sm_http_t *h)
{
	while (h->waiters) {
		sm_waiter_t *w = h->waiters;
		h->waiters = w->next;
		h->nwaiters--;
		struct evhttp_request *req = w->req;
		free(w);
		sm_http_answer(h, req);
	}
	sm_http_update_waiting(h);
	contour_log(h->ctx->mod, CONTOUR_LOG_INFO, "the ready file exists: /shutdown answered");
}

/* A waiter whose client closed: upstream returns without a reply when the
 * request's context is cancelled; evhttp does not read while a reply is
 * pending, so we look. */
static int sm_http_client_gone(struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	if (fd < 0)
		return 1;
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void sm_http_tick_cb(contour_timer_t *t, void *ud)
{
	sm_http_t *h = ud;
	sm_http_check_now(h);
	if (h->waiters)
		contour_timer_arm(h->tick, SM_READY_CHECK_MS);
}

void sm_http_check_now(sm_http_t *h)
{
	if (!h || !h->waiters)
		return;
	/* Gone clients first, so they are not "answered". */
	for (sm_waiter_t *w = h->waiters, *next; w; w = next) {
		next = w->next;
		if (sm_http_client_gone(w->evcon)) {
			contour_log(h->ctx->mod, CONTOUR_LOG_INFO,
			            "a /shutdown client went away; dropped without a reply");
			struct evhttp_connection *evcon = w->evcon;
			sm_http_drop_waiter(h, evcon);
			/* Frees its request too; our closecb finds no waiter. */
			evhttp_connection_free(evcon);
		}
	}
	if (h->waiters && sm_http_ready(h))
		sm_http_answer_all(h);
}

static void sm_http_shutdown(sm_http_t *h, struct evhttp_request *req)
{
	sm_ctx_t *ctx = h->ctx;
	if (ctx->set.shutdown_drains) {
		sm_drain_t *d = sm_drain_get(ctx);
		if (!d) {
			sm_http_text(req, HTTP_INTERNAL, "Internal Server Error", "out of memory\n");
			return;
		}
		if (!sm_drain_running(d) && !sm_drain_finished(d))
			sm_log(ctx, CONTOUR_LOG_INFO, "GET /shutdown: starting the drain");
		sm_drain_start(d);
	}
	if (sm_http_ready(h)) {
		sm_http_answer(h, req);
		return;
	}
	sm_waiter_t *w = calloc(1, sizeof(*w));
	if (!w) {
		sm_http_text(req, HTTP_INTERNAL, "Internal Server Error", "out of memory\n");
		return;
	}
	w->req = req;
	w->evcon = evhttp_request_get_connection(req);
	evhttp_connection_set_closecb(w->evcon, sm_http_closecb, h);
	/* No idle timeout while the answer is pending: it may take minutes. */
	struct bufferevent *bev = evhttp_connection_get_bufferevent(w->evcon);
	if (bev)
		bufferevent_set_timeouts(bev, NULL, NULL);
	w->next = h->waiters;
	h->waiters = w;
	h->nwaiters++;
	sm_http_update_waiting(h);
	sm_http_request_read(h, req, 1);
	if (!contour_timer_armed(h->tick))
		contour_timer_arm(h->tick, SM_READY_CHECK_MS);
	contour_log(ctx->mod, CONTOUR_LOG_INFO,
	            "GET /shutdown: waiting for the ready file %s (%zu waiting)",
	            ctx->set.ready_file, h->nwaiters);
}

static void sm_http_cb(struct evhttp_request *req, void *arg)
{
	sm_http_t *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	int is_health = path && !strcmp(path, "/healthz");
	int is_shutdown = path && !strcmp(path, "/shutdown");
	if (!is_health && !is_shutdown) {
		sm_http_request_read(h, req, 0);
		sm_http_text(req, HTTP_NOTFOUND, "Not Found", "404 page not found\n");
		return;
	}
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
		sm_http_request_read(h, req, 0);
		sm_http_text(req, HTTP_BADMETHOD, "Method Not Allowed", "405 method not allowed\n");
		return;
	}
	if (is_health) {
		sm_http_request_read(h, req, 0);
		sm_http_text(req, HTTP_OK, "OK", "OK");
		return;
	}
	sm_http_shutdown(h, req);
}

sm_http_t *sm_http_new(sm_ctx_t *ctx)
{
	sm_http_t *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->ctx = ctx;
	h->conns = calloc((size_t)ctx->set.max_connections, sizeof(*h->conns));
	h->tick = contour_timer_new(ctx->mod, sm_http_tick_cb, h);
	h->sweep = contour_timer_new(ctx->mod, sm_http_sweep_cb, h);
	if (!h->conns || !h->tick || !h->sweep) {
		sm_http_free(h);
		return NULL;
	}
	return h;
}

int sm_http_start(sm_http_t *h)
{
	sm_ctx_t *ctx = h->ctx;
	const char *addr = ctx->set.address;
	int v6 = strchr(addr, ':') != NULL;
	const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
	if (h->http)
		return CONTOUR_ESTATE;
	int fd = contour_listen_tcp(addr, ctx->set.port, SM_HTTP_BACKLOG, &h->bound_port);
	if (fd < 0) {
		contour_log(ctx->mod, CONTOUR_LOG_ERR, "cannot listen on %s%s%s:%d: %s%s", lb, addr, rb,
		            ctx->set.port, strerror(-fd),
		            fd == -EADDRINUSE ? " (another process has the port: pick one with "
		                                "--serve-port and the same port in Envoy's preStop hook)"
		                              : "");
		return fd;
	}
	struct event_base *base = contour_event_base(ctx->mod);
	h->http = evhttp_new(base);
	if (!h->http)
		goto fail;
	evhttp_set_timeout(h->http, (int)((ctx->set.request_timeout_ms + 999) / 1000));
	evhttp_set_max_headers_size(h->http, SM_HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(h->http, SM_HTTP_MAX_BODY);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
	                                        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	                                        EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->http, sm_http_cb, h);
	evhttp_set_bevcb(h->http, sm_http_bevcb, h);
	h->lev = evconnlistener_new(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
	                            0, fd);
	if (!h->lev)
		goto fail;
	fd = -1;
	if (!evhttp_bind_listener(h->http, h->lev))
		goto fail;
	h->bound = 1; /* evhttp_free frees the listener from now on */
	contour_log(ctx->mod, CONTOUR_LOG_INFO,
	            "listening on http://%s%s%s:%d (/healthz, /shutdown); ready file %s%s", lb, addr,
	            rb, h->bound_port, ctx->set.ready_file,
	            ctx->set.shutdown_drains ? "; /shutdown starts the drain" : "");
	return CONTOUR_EOK;
fail:
	contour_log(ctx->mod, CONTOUR_LOG_ERR, "cannot serve on %s%s%s:%d: out of memory", lb, addr,
	            rb, h->bound_port);
	if (h->lev && !h->bound)
		evconnlistener_free(h->lev);
	if (h->http)
		evhttp_free(h->http);
	h->http = NULL;
	h->lev = NULL;
	if (fd >= 0)
		close(fd);
	return CONTOUR_ENOMEM;
}

void sm_http_free(sm_http_t *h)
{
	if (!h)
		return;
	/* Waiters' requests go with their connections in evhttp_free. */
	while (h->waiters) {
		sm_waiter_t *w = h->waiters;
		h->waiters = w->next;
		free(w);
	}
	h->nwaiters = 0;
	if (h->http)
		evhttp_free(h->http);
	for (int i = 0; h->conns && i < h->ctx->set.max_connections; i++)
		if (h->conns[i].bev)
			bufferevent_decref(h->conns[i].bev);
	contour_timer_free(h->tick);
	contour_timer_free(h->sweep);
	free(h->conns);
	free(h);
}

size_t sm_http_waiting(const sm_http_t *h)
{
	return h ? h->nwaiters : 0;
}

int sm_http_answered(const sm_http_t *h)
{
	return h && h->answered;
}
