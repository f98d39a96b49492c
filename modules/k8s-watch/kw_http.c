/* modules/k8s-watch/kw_http.c: the HTTP client of the k8s-watch module.
 *
 * libcurl's multi interface driven by libevent: curl tells us which sockets
 * to watch (CURLMOPT_SOCKETFUNCTION) and when to wake it
 * (CURLMOPT_TIMERFUNCTION); we turn those into events on the core's loop and
 * hand readiness back with curl_multi_socket_action. Nothing here blocks
 * except kw_http_request_sync, which only the stop hook uses.
 *
 * HTTP/2 over TLS when the server offers it (every request and watch
 * multiplexed on one connection, as client-go does), HTTP/1.1 otherwise.
 *
 * libcurl refuses most multi calls from inside its own callbacks, and our
 * callbacks run user code (a watch's data function puts objects into the
 * store, a done function may start the next request). So new requests are
 * queued and added from a separate event, and cancels made while curl is on
 * the stack are only marked and swept once it returns.
 *
 * Secrets (the bearer token, the client key) never reach a log line.
 *
 * Health (kw_http_set_health): every answer is reported into the module's
 * "Kubernetes" check, and a GET /version probes a server that has sent
 * nothing for a while (see k8s-watch.md, "Health").
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "modules/k8s-watch/kw.h"

#define KW_HTTP_MAX_BODY     (64u << 20) /* list pages are far smaller */
#define KW_HTTP_TOKEN_PERIOD 60000       /* client-go re-reads every minute */
#define KW_HTTP_CONNECT_MS   30000
#define KW_HTTP_TOKEN_MAX    16384
/* The health probe: looked at every tick; sent when nothing came from the
 * server for IDLE, and failing when it has no answer within TIMEOUT. A
 * hung server is noticed within IDLE + TICK + TIMEOUT (6 s). */
#define KW_HTTP_PROBE_TICK_MS    1000
#define KW_HTTP_PROBE_IDLE_MS    2000
#define KW_HTTP_PROBE_TIMEOUT_MS 3000

struct kw_req {
	kw_http_t *h;
	CURL *easy;
	struct curl_slist *headers;
	char *method;
	char *path;
	char *body; /* request body, or NULL */
	char *buf;  /* response body (non-streamed, or a stream's error body) */
	size_t len, cap;
	char *content_type;
	int retry_after;
	kw_done_fn done;
	kw_data_fn data; /* streams only */
	void *ud;
	long idle_ms;
	struct event *idle;
	int added;        /* in the multi handle */
	int cancelled;    /* cancel while curl was on the stack: sweep later */
	int in_done;      /* its done function is running */
	const char *fail; /* our own reason for ending it (too big, aborted, idle) */
	char failbuf[96];
	char errbuf[CURL_ERROR_SIZE];
	kw_req_t *prev, *next;
};

struct kw_http {
	contour_module_t *mod;
	struct event_base *base;
	CURLM *multi;
	struct event *timer; /* curl's timeout */
	struct event *kick;  /* adds queued requests, sweeps cancelled ones */
	kw_conn_t conn;
	char *url_base; /* server, or https://tls-server-name:port with connect_to */
	struct curl_slist *connect_to;
	char *user_agent;
	char *token; /* the current bearer token, or NULL */
	int64_t token_read_ms;
	int64_t token_period_ms;
	size_t max_body;
	int in_curl; /* curl_multi_* is on the stack */
	kw_req_t *reqs;
	struct kw_sock *socks; /* events for curl's sockets */
	/* Health: the check (borrowed), the probe's timer and request, when
	 * the server last sent a byte, and whether the failure came from an
	 * HTTP answer to a resource request (401, 403, 5xx), which a probe's
	 * 200 must not clear: /version is often open to anyone. */
	contour_health_check_t *health;
	struct event *probe_tick;
	kw_req_t *probe;
	int64_t last_rx_ms;
	int health_sticky;
};

/* One socket curl asked us to watch. Kept in a list so that sockets curl
 * still holds when the client is freed lose their events too. */
typedef struct kw_sock {
	struct event *ev;
	struct kw_sock *prev, *next;
} kw_sock_t;

/* ---- helpers ---- */

static char *kw_http_strdup0(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void kw_http_list_add(kw_http_t *h, kw_req_t *r)
{
	r->prev = NULL;
	r->next = h->reqs;
	if (h->reqs)
		h->reqs->prev = r;
	h->reqs = r;
}

static void kw_http_list_del(kw_http_t *h, kw_req_t *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else if (h->reqs == r)
		h->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
}

static void kw_req_free(kw_req_t *r)
{
	if (!r)
		return;
	if (r->easy) {
		if (r->added)
			curl_multi_remove_handle(r->h->multi, r->easy);
		curl_easy_cleanup(r->easy);
	}
	if (r->idle)
		event_free(r->idle);
	curl_slist_free_all(r->headers);
	if (r->body) /* a Secret certgen writes */
		explicit_bzero(r->body, strlen(r->body));
	CONTOUR_FREE_ALL(r->method, r->path, r->body, r->buf, r->content_type, r);
}

/* Re-read the token file when the cached value is older than the period:
 * the next request (and the next watch) then carries the rotated token, and
 * an open watch keeps the one it started with. A read failure keeps the old
 * token, as client-go's cached token source does. */
static void kw_http_refresh_token(kw_http_t *h)
{
	if (!h->conn.token_file)
		return;
	int64_t now = contour_now_ms(h->mod);
	if (h->token && now - h->token_read_ms < h->token_period_ms)
		return;
	h->token_read_ms = now;
	int fd = open(h->conn.token_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		contour_log(h->mod, CONTOUR_LOG_WARN, "cannot read token file %s: %s",
		            h->conn.token_file, strerror(errno));
		return;
	}
	char buf[KW_HTTP_TOKEN_MAX];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		contour_log(h->mod, CONTOUR_LOG_WARN, "token file %s is empty or unreadable",
		            h->conn.token_file);
		return;
	}
	/* Surrounding whitespace is not part of the token (files end in \n). */
	size_t s = 0, e = (size_t)n;
	while (s < e && isspace((unsigned char)buf[s]))
		s++;
	while (e > s && isspace((unsigned char)buf[e - 1]))
		e--;
	if (s == e)
		return;
	char *tok = strndup(buf + s, e - s);
	explicit_bzero(buf, sizeof(buf));
	if (!tok)
		return;
	if (h->token) {
		explicit_bzero(h->token, strlen(h->token));
		free(h->token);
	}
	h->token = tok;
}

/* ---- health ---- */

/* The server answered (or streamed) successfully: the check passes. A
 * probe's answer does not clear a failure a resource request reported. */
static void kw_http_health_ok(kw_http_t *h, const kw_req_t *r)
{
	if (!h->health || (r == h->probe && h->health_sticky))
		return;
	h->health_sticky = 0;
	contour_health_pass(h->health);
}

/* A finished request: what it says about reaching the API server. Our own
 * reasons for ending it (a body too big, an abort, the idle guard) say
 * nothing: the probe covers a silent server. */
static void kw_http_health_report(kw_http_t *h, const kw_req_t *r, const kw_resp_t *resp)
{
	if (!h->health || r->fail)
		return;
	char why[512];
	if (resp->error) {
		/* Refused, reset, TLS, timed out; or a stream cut after 200. */
		snprintf(why, sizeof(why), "%s", resp->error);
	} else if (resp->status == 401 || resp->status == 403 || resp->status >= 500) {
		kw_status_message(resp, why, sizeof(why));
	} else {
		kw_http_health_ok(h, r);
		return;
	}
	h->health_sticky = resp->error == NULL && r != h->probe;
	/* Go's url.Error form, without the query: `Get "URL": cause`. */
	contour_health_fail(h->health, "%s \"%s%.*s\": %s", r->method, h->conn.server,
	                    (int)strcspn(r->path, "?"), r->path, why);
}

static void kw_http_probe_done(const kw_resp_t *resp, void *ud)
{
	kw_http_t *h = ud;
	h->probe = NULL; /* judged in kw_http_finish, before this */
}

static void kw_http_probe_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	kw_http_t *h = arg;
	if (h->probe || contour_now_ms(h->mod) - h->last_rx_ms < KW_HTTP_PROBE_IDLE_MS)
		return;
	h->probe = kw_http_request(h, "GET", "/version", NULL, KW_HTTP_PROBE_TIMEOUT_MS, "/health",
	                           kw_http_probe_done, h);
}

/* ---- curl callbacks ---- */

static size_t kw_http_header_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	kw_req_t *r = ud;
	size_t n = size * nmemb;
	r->h->last_rx_ms = contour_now_ms(r->h->mod);
	/* The end of a watch's headers: a 2xx means it is established. */
	if (r->data && n <= 2 && (n == 0 || p[0] == '\r' || p[0] == '\n')) {
		long code = 0;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200 && code < 300)
			kw_http_health_ok(r->h, r);
		return n;
	}
	/* A new status line (after a 100 Continue, say): forget earlier headers. */
	if (n >= 5 && !strncmp(p, "HTTP/", 5)) {
		r->retry_after = -1;
		free(r->content_type);
		r->content_type = NULL;
		return n;
	}
	const char *colon = memchr(p, ':', n);
	if (!colon)
		return n;
	size_t klen = (size_t)(colon - p);
	const char *v = colon + 1, *end = p + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	if (klen == 11 && !strncasecmp(p, "Retry-After", 11)) {
		/* Integer seconds only, as client-go reads it (an HTTP date is
		 * ignored there too). */
		long secs = 0;
		const char *q = v;
		for (; q < end && isdigit((unsigned char)*q) && secs < 1000000; q++)
			secs = secs * 10 + (*q - '0');
		r->retry_after = (q == end && q > v) ? (int)secs : -1;
	} else if (klen == 12 && !strncasecmp(p, "Content-Type", 12)) {
		free(r->content_type);
		r->content_type = strndup(v, (size_t)(end - v));
	}
	return n;
}

static void kw_http_idle_cb(evutil_socket_t fd, short what, void *arg);

static size_t kw_http_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
	kw_req_t *r = ud;
	size_t n = size * nmemb;
	if (r->cancelled)
		return 0;
	long code = 0;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	if (r->idle && r->idle_ms > 0) {
		struct timeval tv = {r->idle_ms / 1000, (r->idle_ms % 1000) * 1000};
		event_add(r->idle, &tv);
	}
	/* A watch's events go straight to its reader; an error answer (a
	 * Status, a plain-text 429) is kept for done like any other body. */
	r->h->last_rx_ms = contour_now_ms(r->h->mod);
	if (r->data && code >= 200 && code < 300) {
		kw_http_health_ok(r->h, r);
		if (n && r->data(p, n, r->ud) != 0) {
			r->fail = "aborted";
			return 0;
		}
		return n;
	}
	if (n > r->h->max_body - r->len) {
		snprintf(r->failbuf, sizeof(r->failbuf),
		         "response body larger than the limit of %zu MiB", r->h->max_body >> 20);
		r->fail = r->failbuf;
		return 0;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 16384;
		while (cap < r->len + n + 1)
			cap *= 2;
		char *nb = realloc(r->buf, cap);
		if (!nb) {
			r->fail = "out of memory";
			return 0;
		}
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return n;
}

/* ---- finishing ---- */

/* kw_resp_read: the answer of a finished transfer, as callbacks see it.
 * msg (CURL_ERROR_SIZE + 64 bytes) holds curl's message when resp->error
 * points at it. A transport error after the headers keeps the code. */
static void kw_resp_read(const kw_req_t *r, CURLcode cc, kw_resp_t *resp, char *msg, size_t cap)
{
	long code = 0;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	*resp = (kw_resp_t){.retry_after = r->retry_after, .content_type = r->content_type};
	resp->status = code;
	if (r->fail) {
		/* Our own reason wins over curl's "write error". */
		resp->error = r->fail;
	} else if (cc != CURLE_OK) {
		snprintf(msg, cap, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
		resp->error = msg;
	}
	if (!resp->error && code == 0)
		resp->error = "no response";
	resp->body = r->buf ? r->buf : "";
	resp->len = r->len;
	if (contour_log_enabled(CONTOUR_LOG_DEBUG))
		contour_log(r->h->mod, CONTOUR_LOG_DEBUG, "%s %s: %ld%s%s", r->method, r->path, code,
		            resp->error ? ": " : "", resp->error ? resp->error : "");
}

static void kw_http_finish(kw_req_t *r, CURLcode cc)
{
	kw_http_t *h = r->h;
	kw_resp_t resp;
	char msg[CURL_ERROR_SIZE + 64];
	/* A watch cut mid-stream reports 200 with an error, not a clean end. */
	kw_resp_read(r, cc, &resp, msg, sizeof(msg));
	kw_http_list_del(h, r);
	if (r->added) {
		curl_multi_remove_handle(h->multi, r->easy);
		r->added = 0;
	}
	if (r->idle)
		event_del(r->idle);
	kw_http_health_report(h, r, &resp);
	r->in_done = 1;
	if (r->done)
		r->done(&resp, r->ud);
	kw_req_free(r);
}

static void kw_http_read_info(kw_http_t *h)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(h->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		kw_req_t *r = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		CURLcode cc = m->data.result;
		if (!r)
			continue;
		if (r->cancelled) {
			kw_http_list_del(h, r);
			kw_req_free(r);
			continue;
		}
		kw_http_finish(r, cc);
	}
}

/* Requests cancelled while curl was on the stack. */
static void kw_http_sweep(kw_http_t *h)
{
	kw_req_t *r = h->reqs, *next;
	for (; r; r = next) {
		next = r->next;
		if (r->cancelled && !r->in_done) {
			kw_http_list_del(h, r);
			kw_req_free(r);
		}
	}
}

static void kw_http_action(kw_http_t *h, curl_socket_t fd, int flags)
{
	int running = 0;
	h->in_curl++;
	curl_multi_socket_action(h->multi, fd, flags, &running);
	h->in_curl--;
	kw_http_sweep(h);
	kw_http_read_info(h);
}

static void kw_http_sock_event_cb(evutil_socket_t fd, short what, void *arg)
{
	kw_http_t *h = arg;
	int flags = 0;
	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	kw_http_action(h, fd, flags);
}

static void kw_http_timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
	kw_http_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

static void kw_sock_free(kw_http_t *h, kw_sock_t *ks)
{
	if (ks->prev)
		ks->prev->next = ks->next;
	else
		h->socks = ks->next;
	if (ks->next)
		ks->next->prev = ks->prev;
	if (ks->ev)
		event_free(ks->ev);
	free(ks);
}

static int kw_http_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	kw_http_t *h = userp;
	kw_sock_t *ks = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (ks) {
			kw_sock_free(h, ks);
			curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	if (!ks) {
		ks = calloc(1, sizeof(*ks));
		if (!ks)
			return -1;
		ks->next = h->socks;
		if (h->socks)
			h->socks->prev = ks;
		h->socks = ks;
		curl_multi_assign(h->multi, s, ks);
	}
	short kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (ks->ev)
		event_free(ks->ev);
	ks->ev = event_new(h->base, s, kind, kw_http_sock_event_cb, h);
	if (!ks->ev)
		return -1;
	event_add(ks->ev, NULL);
	return 0;
}

static int kw_http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	kw_http_t *h = userp;
	if (timeout_ms < 0) {
		event_del(h->timer);
		return 0;
	}
	/* 0 means "now": still go through the loop, curl is on the stack. */
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	evtimer_add(h->timer, &tv);
	return 0;
}

static void kw_http_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	kw_req_t *r = arg;
	r->fail = "watch idle timeout";
	kw_http_finish(r, CURLE_OPERATION_TIMEDOUT);
}

/* Add every queued request to the multi handle. */
static void kw_http_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	kw_http_t *h = arg;
	kw_http_sweep(h);
	for (kw_req_t *r = h->reqs; r; r = r->next) {
		if (r->added || r->cancelled)
			continue;
		CURLMcode mc = curl_multi_add_handle(h->multi, r->easy);
		if (mc != CURLM_OK) {
			snprintf(r->errbuf, sizeof(r->errbuf), "%s", curl_multi_strerror(mc));
			continue;
		}
		r->added = 1;
		if (r->idle && r->idle_ms > 0) {
			struct timeval tv = {r->idle_ms / 1000, (r->idle_ms % 1000) * 1000};
			event_add(r->idle, &tv);
		}
	}
	/* Requests curl would not take end here, with their reason. */
	kw_req_t *r = h->reqs, *next;
	for (; r; r = next) {
		next = r->next;
		if (!r->added && !r->cancelled && r->errbuf[0])
			kw_http_finish(r, CURLE_FAILED_INIT);
	}
}

/* ---- easy handle setup ---- */

static int kw_http_setup_easy(kw_http_t *h, kw_req_t *r, long timeout_ms, const char *ua_suffix)
{
	char url[8192], hdr[KW_HTTP_TOKEN_MAX + 32];
	CURL *e = r->easy;
	snprintf(url, sizeof(url), "%s%s", h->url_base, r->path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* Wait for a connection in progress rather than open a second one,
	 * so every watch shares one HTTP/2 connection. */
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)KW_HTTP_CONNECT_MS);
	if (timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, kw_http_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, kw_http_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	if (h->connect_to)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, h->connect_to);

	if (h->conn.ca_pem) {
		struct curl_blob ca = {
		    .data = h->conn.ca_pem, .len = strlen(h->conn.ca_pem), .flags = CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
	}
	if (h->conn.insecure_skip_verify) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->conn.cert_pem && h->conn.key_pem) {
		struct curl_blob cert = {.data = h->conn.cert_pem,
		                         .len = strlen(h->conn.cert_pem),
		                         .flags = CURL_BLOB_COPY};
		struct curl_blob key = {.data = h->conn.key_pem,
		                        .len = strlen(h->conn.key_pem),
		                        .flags = CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cert);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &key);
	}

	struct curl_slist *l = NULL, *n;
#define KW_ADD(text)                                                                               \
	do {                                                                                       \
		n = curl_slist_append(l, text);                                                    \
		if (!n)                                                                            \
			goto fail;                                                                 \
		l = n;                                                                             \
	} while (0)
	KW_ADD("Accept: application/json");
	/* No 100-continue round trip on PUTs over HTTP/1.1. */
	KW_ADD("Expect:");
	if (r->body)
		KW_ADD("Content-Type: application/json");
	snprintf(hdr, sizeof(hdr), "User-Agent: %s%s", h->user_agent, ua_suffix ? ua_suffix : "");
	KW_ADD(hdr);
	kw_http_refresh_token(h);
	const char *tok = h->token ? h->token : h->conn.token;
	if (tok) {
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", tok);
		n = curl_slist_append(l, hdr);
		explicit_bzero(hdr, sizeof(hdr));
		if (!n)
			goto fail;
		l = n;
	}
#undef KW_ADD
	r->headers = l;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, l);

	if (!strcmp(r->method, "GET")) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(r->body ? strlen(r->body) : 0));
	}
	return CONTOUR_EOK;
fail:
	curl_slist_free_all(l);
	return CONTOUR_ENOMEM;
}

static kw_req_t *kw_req_new(kw_http_t *h, const char *method, const char *path, const char *body,
                            long timeout_ms, const char *ua_suffix)
{
	kw_req_t *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->h = h;
	r->retry_after = -1;
	r->method = strdup(method);
	r->path = strdup(path);
	r->body = kw_http_strdup0(body);
	r->easy = curl_easy_init();
	if (!r->method || !r->path || (body && !r->body) || !r->easy)
		goto fail;
	if (kw_http_setup_easy(h, r, timeout_ms, ua_suffix) != CONTOUR_EOK)
		goto fail;
	return r;
fail:
	kw_req_free(r);
	return NULL;
}

/* ---- public ---- */

/* Split "https://host:port" so that a tls-server-name can be used as the
 * URL's host (SNI and certificate check) while connecting to the real
 * address, the way client-go's TLSClientConfig.ServerName works. */
static int kw_http_server_name(kw_http_t *h, char *err, size_t errlen)
{
	const char *s = h->conn.server;
	const char *hostp = strstr(s, "://");
	hostp = hostp ? hostp + 3 : s;
	const char *port = NULL, *end = hostp + strcspn(hostp, "/");
	if (*hostp == '[') {
		const char *rb = memchr(hostp, ']', (size_t)(end - hostp));
		if (rb && rb + 1 < end && rb[1] == ':')
			port = rb + 2;
	} else {
		const char *c = memchr(hostp, ':', (size_t)(end - hostp));
		if (c)
			port = c + 1;
	}
	int hostlen = (int)((port ? port - 1 : end) - hostp);
	const char *portstr = port ? port : "443";
	int portlen = port ? (int)(end - port) : 3;
	char buf[1024];
	snprintf(buf, sizeof(buf), "https://%s:%.*s", h->conn.tls_server_name, portlen, portstr);
	h->url_base = strdup(buf);
	snprintf(buf, sizeof(buf), "%s:%.*s:%.*s:%.*s", h->conn.tls_server_name, portlen, portstr,
	         hostlen, hostp, portlen, portstr);
	h->connect_to = curl_slist_append(NULL, buf);
	if (!h->url_base || !h->connect_to) {
		snprintf(err, errlen, "out of memory");
		return CONTOUR_ENOMEM;
	}
	return CONTOUR_EOK;
}

static int kw_conn_copy(kw_conn_t *dst, const kw_conn_t *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->insecure_skip_verify = src->insecure_skip_verify;
#define KW_DUP(f)                                                                                  \
	do {                                                                                       \
		if (src->f && !(dst->f = strdup(src->f)))                                          \
			return CONTOUR_ENOMEM;                                                     \
	} while (0)
	KW_DUP(server);
	KW_DUP(ca_pem);
	KW_DUP(tls_server_name);
	KW_DUP(token);
	KW_DUP(token_file);
	KW_DUP(cert_pem);
	KW_DUP(key_pem);
	KW_DUP(namespace_);
#undef KW_DUP
	return CONTOUR_EOK;
}

kw_http_t *kw_http_new(contour_module_t *mod, const kw_conn_t *conn, const char *user_agent,
                       char *err, size_t errlen)
{
	if (!conn->server || !*conn->server) {
		snprintf(err, errlen, "no API server address");
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl initialisation failed");
		return NULL;
	}
	kw_http_t *h = calloc(1, sizeof(*h));
	if (!h) {
		curl_global_cleanup();
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->mod = mod;
	h->base = contour_event_base(mod);
	h->token_period_ms = KW_HTTP_TOKEN_PERIOD;
	h->max_body = KW_HTTP_MAX_BODY;
	if (kw_conn_copy(&h->conn, conn) != CONTOUR_EOK)
		goto nomem;
	/* A trailing slash would double in every path. */
	size_t sl = strlen(h->conn.server);
	while (sl > 0 && h->conn.server[sl - 1] == '/')
		h->conn.server[--sl] = '\0';
	h->user_agent = strdup(user_agent ? user_agent : "contour");
	if (!h->user_agent)
		goto nomem;
	if (h->conn.tls_server_name && *h->conn.tls_server_name &&
	    !strncmp(h->conn.server, "https://", 8)) {
		if (kw_http_server_name(h, err, errlen) != CONTOUR_EOK)
			goto fail;
	} else if (!(h->url_base = strdup(h->conn.server))) {
		goto nomem;
	}
	h->multi = curl_multi_init();
	h->timer = evtimer_new(h->base, kw_http_timer_event_cb, h);
	h->kick = event_new(h->base, -1, 0, kw_http_kick_cb, h);
	if (!h->multi || !h->timer || !h->kick)
		goto nomem;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, kw_http_socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, kw_http_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	return h;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	kw_http_free(h);
	return NULL;
}

int kw_http_set_health(kw_http_t *h, contour_health_check_t *check)
{
	if (h->probe_tick || !check)
		return CONTOUR_EOK;
	h->probe_tick = event_new(h->base, -1, EV_PERSIST, kw_http_probe_tick_cb, h);
	if (!h->probe_tick)
		return CONTOUR_ENOMEM;
	struct timeval tv = {KW_HTTP_PROBE_TICK_MS / 1000, (KW_HTTP_PROBE_TICK_MS % 1000) * 1000};
	if (event_add(h->probe_tick, &tv) != 0)
		return CONTOUR_ENOMEM;
	h->health = check;
	return CONTOUR_EOK;
}

void kw_http_set_limits(kw_http_t *h, size_t max_body, int64_t token_period_ms)
{
	if (max_body)
		h->max_body = max_body;
	if (token_period_ms >= 0)
		h->token_period_ms = token_period_ms;
}

void kw_http_free(kw_http_t *h)
{
	if (!h)
		return;
	while (h->reqs) {
		kw_req_t *r = h->reqs;
		kw_http_list_del(h, r);
		kw_req_free(r);
	}
	if (h->multi)
		curl_multi_cleanup(h->multi);
	while (h->socks)
		kw_sock_free(h, h->socks);
	if (h->timer)
		event_free(h->timer);
	if (h->kick)
		event_free(h->kick);
	if (h->probe_tick)
		event_free(h->probe_tick);
	curl_slist_free_all(h->connect_to);
	free(h->url_base);
	free(h->user_agent);
	if (h->token) {
		explicit_bzero(h->token, strlen(h->token));
		free(h->token);
	}
	kw_conn_fini(&h->conn);
	free(h);
	curl_global_cleanup();
}

static kw_req_t *kw_http_queue(kw_http_t *h, kw_req_t *r)
{
	kw_http_list_add(h, r);
	/* Added from the loop, so done can never run inside the caller. */
	event_active(h->kick, 0, 0);
	return r;
}

kw_req_t *kw_http_request(kw_http_t *h, const char *method, const char *path, const char *body,
                          long timeout_ms, const char *ua_suffix, kw_done_fn done, void *ud)
{
	kw_req_t *r = kw_req_new(h, method, path, body, timeout_ms, ua_suffix);
	if (!r)
		return NULL;
	r->done = done;
	r->ud = ud;
	return kw_http_queue(h, r);
}

kw_req_t *kw_http_stream(kw_http_t *h, const char *path, long idle_ms, kw_data_fn data,
                         kw_done_fn done, void *ud)
{
	kw_req_t *r = kw_req_new(h, "GET", path, NULL, 0, NULL);
	if (!r)
		return NULL;
	r->data = data;
	r->done = done;
	r->ud = ud;
	r->idle_ms = idle_ms;
	if (idle_ms > 0) {
		r->idle = evtimer_new(h->base, kw_http_idle_cb, r);
		if (!r->idle) {
			kw_req_free(r);
			return NULL;
		}
	}
	return kw_http_queue(h, r);
}

void kw_req_cancel(kw_req_t *r)
{
	if (!r || r->in_done)
		return;
	kw_http_t *h = r->h;
	if (h->in_curl) {
		/* curl is on the stack: the write callback refuses more data and
		 * the sweep after curl returns frees it. */
		r->cancelled = 1;
		return;
	}
	kw_http_list_del(h, r);
	kw_req_free(r);
}

long kw_http_request_sync(kw_http_t *h, const char *method, const char *path, const char *body,
                          long timeout_ms, const char *ua_suffix)
{
	kw_req_t *r =
	    kw_req_new(h, method, path, body, timeout_ms > 0 ? timeout_ms : 5000, ua_suffix);
	if (!r)
		return 0;
	CURLcode cc = curl_easy_perform(r->easy);
	long code = 0;
	if (cc == CURLE_OK)
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
	else
		contour_log(h->mod, CONTOUR_LOG_WARN, "%s %s: %s", method, path,
		            r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
	kw_req_free(r);
	return code;
}

long kw_http_request_sync_resp(kw_http_t *h, const char *method, const char *path,
                               const char *body, long timeout_ms, const char *ua_suffix,
                               kw_done_fn done, void *ud)
{
	kw_req_t *r =
	    kw_req_new(h, method, path, body, timeout_ms > 0 ? timeout_ms : 5000, ua_suffix);
	if (!r) {
		kw_resp_t resp = {.retry_after = -1, .body = "", .error = "out of memory"};
		if (done)
			done(&resp, ud);
		return 0;
	}
	CURLcode cc = curl_easy_perform(r->easy);
	kw_resp_t resp;
	char msg[CURL_ERROR_SIZE + 64];
	kw_resp_read(r, cc, &resp, msg, sizeof(msg));
	/* A blocking caller has no stream to finish: any error is no answer. */
	if (resp.error)
		resp.status = 0;
	long code = resp.status;
	if (done)
		done(&resp, ud);
	kw_req_free(r);
	return code;
}

/* ---- paths and Status bodies ---- */

void kw_path(const kw_kind_t *kind, const char *ns, const char *name, const char *sub, char *out,
             size_t cap)
{
	/* The core group has no group name: /api/v1; named groups /apis/g/v. */
	const char *prefix = strchr(kind->api_version, '/') ? "/apis/" : "/api/";
	int n = snprintf(out, cap, "%s%s", prefix, kind->api_version);
	if (ns && *ns && n >= 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "/namespaces/%s", ns);
	if (n >= 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "/%s", kind->plural);
	if (name && *name && n >= 0 && (size_t)n < cap)
		n += snprintf(out + n, cap - (size_t)n, "/%s", name);
	if (sub && *sub && n >= 0 && (size_t)n < cap)
		snprintf(out + n, cap - (size_t)n, "/%s", sub);
}

void kw_status_message(const kw_resp_t *resp, char *out, size_t cap)
{
	if (resp->status == 0) {
		snprintf(out, cap, "%s", resp->error ? resp->error : "no response");
		return;
	}
	if (resp->body && resp->len) {
		json_t *st = json_loadb(resp->body, resp->len, 0, NULL);
		const char *msg = json_string_value(json_object_get(st, "message"));
		const char *kind = json_string_value(json_object_get(st, "kind"));
		if (msg && *msg && (!kind || !strcmp(kind, "Status"))) {
			const char *reason = json_string_value(json_object_get(st, "reason"));
			if (reason && *reason)
				snprintf(out, cap, "%s (%s, HTTP %ld)", msg, reason, resp->status);
			else
				snprintf(out, cap, "%s (HTTP %ld)", msg, resp->status);
			json_decref(st);
			return;
		}
		json_decref(st);
	}
	/* Not a Status: APF's plain-text 429, a proxy's HTML page. Name the code
	 * as Go's http.StatusText would, not the body (it could be anything). */
	const char *text;
	switch (resp->status) {
	case 400:
		text = "Bad Request";
		break;
	case 401:
		text = "Unauthorized";
		break;
	case 403:
		text = "Forbidden";
		break;
	case 404:
		text = "Not Found";
		break;
	case 409:
		text = "Conflict";
		break;
	case 410:
		text = "Gone";
		break;
	case 422:
		text = "Unprocessable Entity";
		break;
	case 429:
		text = "Too Many Requests";
		break;
	case 500:
		text = "Internal Server Error";
		break;
	case 502:
		text = "Bad Gateway";
		break;
	case 503:
		text = "Service Unavailable";
		break;
	case 504:
		text = "Gateway Timeout";
		break;
	default:
		text = resp->status >= 500 ? "server error" : "unexpected response";
		break;
	}
	if (resp->error)
		snprintf(out, cap, "%s (HTTP %ld): %s", text, resp->status, resp->error);
	else
		snprintf(out, cap, "%s (HTTP %ld)", text, resp->status);
}
