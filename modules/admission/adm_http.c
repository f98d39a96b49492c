/* modules/admission/adm_http.c: the webhook's HTTPS/1.1 server.
 *
 * kube-apiserver calls a webhook with an HTTP/1.1 client that keeps
 * connections alive and sends each review as one POST with a
 * Content-Length. That is all this server speaks: no chunked bodies (501),
 * no HTTP/2 (ALPN offers http/1.1 only), one request at a time per
 * connection (a pipelined request waits until the answer before it is
 * flushed, so nothing queues without bound).
 *
 * libevent's evhttp is not used: its limits answer 413 for headers too
 * large and restart the idle timer on every byte, and it has no cap on
 * connections. Here each connection is a bufferevent_openssl with one
 * timer, armed for read-timeout when the connection starts waiting for a
 * request (accept, which includes the TLS handshake, or the previous answer
 * flushed), again when the headers are in (for the body), and again when
 * the answer is queued (for the client to take it). When it fires the
 * connection is closed, so a client that sends nothing, drips a request or
 * stops reading costs a socket for read-timeout at most. The input is held
 * to the header bound, then to the body length, by read watermarks. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "modules/admission/adm.h"

#define ADM_PATH "/validate"

typedef enum {
	ADM_C_HEAD,    /* waiting for the request line and headers */
	ADM_C_BODY,    /* waiting for body_len bytes of body */
	ADM_C_WRITE,   /* the answer is queued */
	ADM_C_DISCARD, /* answered and closing: dropping what the client still sends */
} adm_cstate_t;

/* What the server needs from a request's head. */
typedef struct adm_head {
	int post;
	int head;     /* HEAD: the answer has no body */
	int validate; /* the path is /validate (a query is allowed) */
	int json;     /* Content-Type: application/json */
	int keep_alive;
	int expect_continue;
	int has_length;
	size_t length;
	int http10;
} adm_head_t;

typedef struct adm_conn adm_conn_t;

struct adm_http {
	adm_ctx_t *ctx;
	struct evconnlistener *lev;
	struct event *resume; /* re-enables accept after an accept(2) error */
	int bound_port;
	int paused; /* accept disabled at max-connections */
	int nconns;
	adm_conn_t *conns;
};

struct adm_conn {
	adm_http_t *h;
	adm_conn_t *prev, *next;
	struct bufferevent *bev;
	struct event *timer;
	adm_cstate_t state;
	adm_head_t head;
	int keep_alive; /* after the queued answer */
	int discard;    /* after the queued answer, drop input before closing */
	size_t discarded;
};

static void adm_conn_arm(adm_conn_t *c)
{
	int64_t ms = c->h->ctx->set.read_timeout_ms;
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	evtimer_add(c->timer, &tv);
}

static void adm_conn_free(adm_conn_t *c, int clean)
{
	adm_http_t *h = c->h;
	if (c->bev) {
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		/* A close_notify after a complete answer; never on errors or
		 * timeouts, where the peer may not be reading. */
		if (clean && ssl && SSL_is_init_finished(ssl))
			SSL_shutdown(ssl);
		bufferevent_free(c->bev); /* closes the socket and frees ssl */
	}
	if (c->timer)
		event_free(c->timer);
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	h->nconns--;
	if (h->paused && h->nconns < h->ctx->set.max_connections && h->lev) {
		evconnlistener_enable(h->lev);
		h->paused = 0;
	}
}

/* adm_conn_send: queue one answer. keep: the connection stays open for
 * the next request; otherwise it is closed once the answer is out, after
 * dropping the rest of the request when discard is set. */
static void adm_conn_send(adm_conn_t *c, int code, const char *reason, const char *ctype,
                          const char *body, size_t len, int keep, int discard)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	c->keep_alive = keep;
	c->discard = discard;
	evbuffer_add_printf(out,
	                    "HTTP/1.1 %d %s\r\n"
	                    "Content-Type: %s\r\n"
	                    "Content-Length: %zu\r\n"
	                    "X-Content-Type-Options: nosniff\r\n"
	                    "%s%s\r\n",
	                    code, reason, ctype, len, code == 405 ? "Allow: POST\r\n" : "",
	                    !keep ? "Connection: close\r\n"
	                          : (c->head.http10 ? "Connection: keep-alive\r\n" : ""));
	if (len && !c->head.head)
		evbuffer_add(out, body, len);
	c->state = ADM_C_WRITE;
	bufferevent_disable(c->bev, EV_READ);
	adm_conn_arm(c);
}

static void adm_conn_text(adm_conn_t *c, int code, const char *reason, const char *text, int keep,
                          int discard)
{
	adm_conn_send(c, code, reason, "text/plain; charset=utf-8", text, strlen(text), keep,
	              discard);
}

/* Case-insensitive equality of a header value's token with s. */
static int adm_tok_eq(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && !strncasecmp(p, s, n);
}

static int adm_tchar(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* adm_head_parse: buf (len bytes, ending in CRLF CRLF) into *hd. Returns 0
 * or the HTTP status to refuse the request with. Bare CR, LF or NUL, folded
 * lines, a space before a header's colon and conflicting lengths are
 * refused: they are how requests get smuggled past a proxy. */
static int adm_head_parse(const char *buf, size_t len, adm_head_t *hd)
{
	const char *p = buf, *end = buf + len;
	memset(hd, 0, sizeof(*hd));
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\0')
			return 400;
		if (buf[i] == '\r' && (i + 1 >= len || buf[i + 1] != '\n'))
			return 400;
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
			return 400;
	}
	/* Request line: METHOD SP target SP HTTP/1.x CRLF. */
	const char *eol = strstr(p, "\r\n");
	if (!eol || eol >= end)
		return 400;
	const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
	if (!sp1 || sp1 == p)
		return 400;
	for (const char *q = p; q < sp1; q++)
		if (!adm_tchar(*q))
			return 400;
	const char *target = sp1 + 1;
	const char *sp2 = memchr(target, ' ', (size_t)(eol - target));
	if (!sp2 || sp2 == target || *target != '/')
		return 400;
	const char *ver = sp2 + 1;
	size_t vlen = (size_t)(eol - ver);
	if (vlen == 8 && !memcmp(ver, "HTTP/1.1", 8))
		hd->http10 = 0;
	else if (vlen == 8 && !memcmp(ver, "HTTP/1.0", 8))
		hd->http10 = 1;
	else if (vlen >= 5 && !memcmp(ver, "HTTP/", 5))
		return 505;
	else
		return 400;
	hd->post = (sp1 - p) == 4 && !memcmp(p, "POST", 4);
	hd->head = (sp1 - p) == 4 && !memcmp(p, "HEAD", 4);
	const char *qm = memchr(target, '?', (size_t)(sp2 - target));
	size_t plen = (size_t)((qm ? qm : sp2) - target);
	hd->validate = plen == strlen(ADM_PATH) && !memcmp(target, ADM_PATH, plen);

	int conn_close = 0, conn_keep = 0, te = 0;
	for (p = eol + 2; p < end;) {
		eol = strstr(p, "\r\n");
		if (!eol || eol >= end)
			return 400;
		if (eol == p)
			break; /* the empty line */
		if (*p == ' ' || *p == '\t')
			return 400; /* obsolete line folding */
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon || colon == p)
			return 400;
		for (const char *q = p; q < colon; q++)
			if (!adm_tchar(*q))
				return 400;
		size_t nlen = (size_t)(colon - p);
		const char *v = colon + 1, *ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		size_t value_len = (size_t)(ve - v);
		if (adm_tok_eq(p, nlen, "Content-Length")) {
			size_t n = 0;
			if (!value_len)
				return 400;
			for (const char *q = v; q < ve; q++) {
				if (*q < '0' || *q > '9')
					return 400;
				/* Saturate: anything this large is refused as 413. */
				n = n > (SIZE_MAX - 9) / 10 ? SIZE_MAX
				                            : n * 10 + (size_t)(*q - '0');
			}
			if (hd->has_length && hd->length != n)
				return 400;
			hd->has_length = 1;
			hd->length = n;
		} else if (adm_tok_eq(p, nlen, "Transfer-Encoding")) {
			te = 1;
		} else if (adm_tok_eq(p, nlen, "Connection")) {
			/* A comma-separated list of options. */
			for (const char *t = v; t < ve;) {
				const char *comma = memchr(t, ',', (size_t)(ve - t));
				const char *te_ = comma ? comma : ve, *ts = t;
				while (ts < te_ && (*ts == ' ' || *ts == '\t'))
					ts++;
				while (te_ > ts && (te_[-1] == ' ' || te_[-1] == '\t'))
					te_--;
				if (adm_tok_eq(ts, (size_t)(te_ - ts), "close"))
					conn_close = 1;
				else if (adm_tok_eq(ts, (size_t)(te_ - ts), "keep-alive"))
					conn_keep = 1;
				t = comma ? comma + 1 : ve;
			}
		} else if (adm_tok_eq(p, nlen, "Content-Type")) {
			const char *semi = memchr(v, ';', value_len);
			const char *me = semi ? semi : ve;
			while (me > v && (me[-1] == ' ' || me[-1] == '\t'))
				me--;
			hd->json = adm_tok_eq(v, (size_t)(me - v), "application/json");
		} else if (adm_tok_eq(p, nlen, "Expect")) {
			hd->expect_continue = adm_tok_eq(v, value_len, "100-continue");
		}
		p = eol + 2;
	}
	hd->keep_alive = hd->http10 ? conn_keep && !conn_close : !conn_close;
	if (te)
		return 501;
	if (hd->post && !hd->has_length)
		return 411;
	return 0;
}

static const char *adm_reason(int code)
{
	switch (code) {
	case 400:
		return "Bad Request";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Error";
	}
}

/* The request is in full: its answer. */
static void adm_conn_dispatch(adm_conn_t *c, const char *body, size_t len)
{
	adm_head_t *hd = &c->head;
	if (!hd->validate) {
		adm_conn_text(c, 404, "Not Found", "404 page not found\n", hd->keep_alive, 0);
		return;
	}
	if (!hd->post) {
		adm_conn_text(c, 405, "Method Not Allowed", "405 method not allowed\n",
		              hd->keep_alive, 0);
		return;
	}
	if (!hd->json) {
		adm_conn_text(c, 415, "Unsupported Media Type",
		              "415 Content-Type must be application/json\n", hd->keep_alive, 0);
		return;
	}
	adm_answer_t a;
	adm_validate(c->h->ctx, body, len, &a);
	if (!a.body) {
		adm_conn_text(c, 500, "Internal Server Error", "500 out of memory\n", 0, 0);
		return;
	}
	adm_conn_send(c, a.code, a.reason, a.ctype, a.body, a.len, hd->keep_alive, 0);
	free(a.body);
}

/* Refuse a request whose framing cannot be trusted or whose rest is not
 * wanted: answer, then close (after dropping what the client still sends). */
static void adm_conn_refuse(adm_conn_t *c, int code, const char *text)
{
	contour_log(c->h->ctx->mod, CONTOUR_LOG_DEBUG, "refusing a request: %d %s", code,
	            adm_reason(code));
	adm_conn_text(c, code, adm_reason(code), text, 0, 1);
}

/* Returns -1 when c was freed. */
static int adm_conn_head(adm_conn_t *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t have = evbuffer_get_length(in);
	struct evbuffer_ptr pos = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (pos.pos < 0 || (size_t)pos.pos + 4 > ADM_MAX_HEADER_BYTES) {
		if (pos.pos >= 0 || have > ADM_MAX_HEADER_BYTES)
			adm_conn_refuse(c, 431, "431 request header fields too large\n");
		return 0;
	}
	size_t hlen = (size_t)pos.pos + 4;
	char *buf = malloc(hlen + 1);
	if (!buf) {
		adm_conn_free(c, 0);
		return -1;
	}
	evbuffer_remove(in, buf, hlen);
	buf[hlen] = '\0';
	int rc = adm_head_parse(buf, hlen, &c->head);
	free(buf);
	if (rc) {
		char text[64];
		snprintf(text, sizeof(text), "%d %s\n", rc, adm_reason(rc));
		adm_conn_refuse(c, rc, text);
		return 0;
	}
	if (c->head.length > c->h->ctx->set.max_request_bytes) {
		char text[96];
		snprintf(text, sizeof(text), "413 request body larger than %zu bytes\n",
		         c->h->ctx->set.max_request_bytes);
		adm_conn_refuse(c, 413, text);
		return 0;
	}
	c->state = ADM_C_BODY;
	if (c->head.length) {
		bufferevent_setwatermark(c->bev, EV_READ, 0, c->head.length);
		if (c->head.expect_continue && evbuffer_get_length(in) < c->head.length)
			evbuffer_add_printf(bufferevent_get_output(c->bev),
			                    "HTTP/1.1 100 Continue\r\n\r\n");
	}
	adm_conn_arm(c); /* the body gets read-timeout of its own */
	return 0;
}

static void adm_conn_body(adm_conn_t *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = c->head.length;
	if (evbuffer_get_length(in) < len)
		return;
	const char *body = len ? (const char *)evbuffer_pullup(in, (ev_ssize_t)len) : "";
	if (!body) {
		adm_conn_free(c, 0);
		return;
	}
	adm_conn_dispatch(c, body, len);
	evbuffer_drain(in, len);
}

static void adm_conn_process(adm_conn_t *c)
{
	if (c->state == ADM_C_HEAD && adm_conn_head(c) < 0)
		return;
	if (c->state == ADM_C_BODY)
		adm_conn_body(c);
}

static void adm_conn_readcb(struct bufferevent *bev, void *arg)
{
	adm_conn_t *c = arg;
	if (c->state == ADM_C_DISCARD) {
		struct evbuffer *in = bufferevent_get_input(bev);
		c->discarded += evbuffer_get_length(in);
		evbuffer_drain(in, evbuffer_get_length(in));
		if (c->discarded > ADM_DISCARD_MAX)
			adm_conn_free(c, 0);
		return;
	}
	adm_conn_process(c);
}

static void adm_conn_writecb(struct bufferevent *bev, void *arg)
{
	adm_conn_t *c = arg;
	if (c->state != ADM_C_WRITE)
		return; /* a 100 Continue went out */
	if (!c->keep_alive) {
		if (!c->discard) {
			adm_conn_free(c, 1);
			return;
		}
		c->state = ADM_C_DISCARD;
		bufferevent_setwatermark(bev, EV_READ, 0, 0);
		bufferevent_enable(bev, EV_READ);
		adm_conn_arm(c);
		adm_conn_readcb(bev, c);
		return;
	}
	c->state = ADM_C_HEAD;
	memset(&c->head, 0, sizeof(c->head));
	bufferevent_setwatermark(bev, EV_READ, 0, ADM_MAX_HEADER_BYTES + 4);
	bufferevent_enable(bev, EV_READ);
	adm_conn_arm(c);
	/* A pipelined request may already be in. */
	adm_conn_process(c);
}

static void adm_conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	adm_conn_t *c = arg;
	if (what & BEV_EVENT_CONNECTED)
		return; /* the handshake is done */
	if (what & BEV_EVENT_ERROR)
		contour_log(c->h->ctx->mod, CONTOUR_LOG_DEBUG, "connection closed on an error");
	adm_conn_free(c, 0);
}

static void adm_conn_timeout(evutil_socket_t fd, short what, void *arg)
{
	adm_conn_t *c = arg;
	if (c->state != ADM_C_DISCARD)
		contour_log(c->h->ctx->mod, CONTOUR_LOG_DEBUG,
		            "closing a connection idle or incomplete for %.1fs (read-timeout)",
		            (double)c->h->ctx->set.read_timeout_ms / 1000.0);
	adm_conn_free(c, 0);
}

static void adm_http_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                            int salen, void *arg)
{
	adm_http_t *h = arg;
	struct event_base *base = contour_event_base(h->ctx->mod);
	adm_conn_t *c = NULL;
	SSL *ssl = NULL;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = calloc(1, sizeof(*c));
	ssl = adm_tls_ssl(h->ctx->tls);
	if (!c || !ssl)
		goto fail;
	c->h = h;
	c->timer = evtimer_new(base, adm_conn_timeout, c);
	if (!c->timer)
		goto fail;
	c->bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
	                                        BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev)
		goto fail; /* fd and ssl are still ours */
	ssl = NULL;
	fd = -1;
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, adm_conn_readcb, adm_conn_writecb, adm_conn_eventcb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, ADM_MAX_HEADER_BYTES + 4);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	c->state = ADM_C_HEAD;
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	h->nconns++;
	adm_conn_arm(c);
	if (h->nconns >= h->ctx->set.max_connections && !h->paused) {
		evconnlistener_disable(h->lev);
		h->paused = 1;
		contour_log(h->ctx->mod, CONTOUR_LOG_WARN,
		            "%d connections open (max-connections): not accepting more for now",
		            h->nconns);
	}
	return;
fail:
	contour_log(h->ctx->mod, CONTOUR_LOG_ERR, "cannot set up a connection: out of memory");
	if (ssl)
		SSL_free(ssl);
	if (c && c->timer)
		event_free(c->timer);
	free(c);
	if (fd >= 0)
		close(fd);
}

static void adm_http_resume(evutil_socket_t fd, short what, void *arg)
{
	adm_http_t *h = arg;
	if (h->lev && !h->paused)
		evconnlistener_enable(h->lev);
}

/* accept(2) failed (EMFILE, ENFILE, ENOBUFS): the listener would spin on
 * the pending connection, so it rests for a second. */
static void adm_http_accept_error(struct evconnlistener *lev, void *arg)
{
	adm_http_t *h = arg;
	int err = EVUTIL_SOCKET_ERROR();
	contour_log(h->ctx->mod, CONTOUR_LOG_WARN, "accept: %s; retrying in 1s", strerror(err));
	evconnlistener_disable(lev);
	struct timeval tv = {1, 0};
	evtimer_add(h->resume, &tv);
}

int adm_http_start(adm_ctx_t *ctx)
{
	int v6 = strchr(ctx->set.address, ':') != NULL;
	const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
	struct event_base *base = contour_event_base(ctx->mod);
	if (ctx->http)
		return CONTOUR_ESTATE;
	adm_http_t *h = calloc(1, sizeof(*h));
	if (!h)
		return CONTOUR_ENOMEM;
	h->ctx = ctx;
	int fd = contour_listen_tcp(ctx->set.address, ctx->set.port, ADM_BACKLOG, &h->bound_port);
	if (fd < 0) {
		contour_log(ctx->mod, CONTOUR_LOG_ERR, "cannot listen on %s%s%s:%d: %s", lb,
		            ctx->set.address, rb, ctx->set.port, strerror(-fd));
		free(h);
		return fd;
	}
	h->resume = evtimer_new(base, adm_http_resume, h);
	if (h->resume)
		h->lev = evconnlistener_new(base, adm_http_accept, h,
		                            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!h->lev) {
		contour_log(ctx->mod, CONTOUR_LOG_ERR, "cannot serve on %s%s%s:%d: out of memory",
		            lb, ctx->set.address, rb, h->bound_port);
		if (h->resume)
			event_free(h->resume);
		close(fd);
		free(h);
		return CONTOUR_ENOMEM;
	}
	evconnlistener_set_error_cb(h->lev, adm_http_accept_error);
	ctx->http = h;
	contour_log(ctx->mod, CONTOUR_LOG_INFO, "listening on https://%s%s%s:%d (%s)", lb,
	            ctx->set.address, rb, h->bound_port, ADM_PATH);
	return CONTOUR_EOK;
}

void adm_http_stop(adm_ctx_t *ctx)
{
	adm_http_t *h = ctx ? ctx->http : NULL;
	if (!h)
		return;
	evconnlistener_free(h->lev);
	h->lev = NULL;
	while (h->conns)
		adm_conn_free(h->conns, 0);
	event_free(h->resume);
	free(h);
	ctx->http = NULL;
	contour_log(ctx->mod, CONTOUR_LOG_DEBUG, "stopped listening");
}
