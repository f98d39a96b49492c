/* tests/unit/check_kw_conn.c: k8s-watch's connection settings (kubeconfig,
 * in-cluster) and its HTTP client's transport behaviour.
 *
 * The HTTP cases run the client on the core's loop against a tiny scripted
 * server (plain HTTP on loopback) that answers each path with fixed bytes,
 * in pieces and with pauses: only framing and transport are tested here
 * (chunk boundaries, cut streams, idle streams, caps, headers, the token
 * file). The API server's behaviour is tested against tests/k8sapi. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "tests/unit/testutil.h"
#include "modules/k8s-watch/kw.h"

/* ---- kubeconfig ---- */

static char *dir;
static char err[1024];

static void conn_setup(void)
{
	dir = tu_tmpdir();
	err[0] = '\0';
}

static void conn_teardown(void)
{
	tu_rmrf(dir);
	free(dir);
	dir = NULL;
}

/* base64 of "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n" etc. */
static char *b64(const char *s)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;
	char *out = malloc(n / 3 * 4 + 8);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? abc[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

static int load(const char *yaml, kw_conn_t *c)
{
	char *p = tu_write_file(dir, "sub/kubeconfig", yaml);
	int rc = kw_conn_from_kubeconfig(c, p, err, sizeof(err));
	free(p);
	return rc;
}

START_TEST(kubeconfig_data_forms)
{
	char *ca = b64("CA PEM\n"), *crt = b64("CERT PEM\n"), *key = b64("KEY PEM\n");
	char yaml[4096];
	snprintf(yaml, sizeof(yaml),
	         "apiVersion: v1\nkind: Config\ncurrent-context: b\n"
	         "contexts:\n- name: a\n  context: {cluster: wrong, user: wrong}\n"
	         "- name: b\n  context: {cluster: c1, user: u1, namespace: team}\n"
	         "clusters:\n- name: c1\n  cluster:\n    server: https://10.0.0.1:6443/\n"
	         "    certificate-authority-data: %s\n    tls-server-name: api.example\n"
	         "users:\n- name: u1\n  user:\n    client-certificate-data: %s\n"
	         "    client-key-data: %s\n    token: secret-token\n",
	         ca, crt, key);
	kw_conn_t c;
	ck_assert_int_eq(load(yaml, &c), CONTOUR_EOK);
	ck_assert_str_eq(c.server, "https://10.0.0.1:6443");
	ck_assert_str_eq(c.ca_pem, "CA PEM\n");
	ck_assert_str_eq(c.cert_pem, "CERT PEM\n");
	ck_assert_str_eq(c.key_pem, "KEY PEM\n");
	ck_assert_str_eq(c.token, "secret-token");
	ck_assert_str_eq(c.tls_server_name, "api.example");
	ck_assert_str_eq(c.namespace_, "team");
	ck_assert_int_eq(c.insecure_skip_verify, 0);
	ck_assert_ptr_null(c.token_file);
	kw_conn_fini(&c);
	free(ca);
	free(crt);
	free(key);
}
END_TEST

START_TEST(kubeconfig_file_forms)
{
	/* Relative paths are relative to the kubeconfig's folder (sub/). */
	free(tu_write_file(dir, "sub/pki/ca.crt", "FILE CA\n"));
	free(tu_write_file(dir, "sub/pki/c.crt", "FILE CERT\n"));
	free(tu_write_file(dir, "abs.key", "FILE KEY\n"));
	free(tu_write_file(dir, "sub/tok", "t1\n"));
	char yaml[4096];
	snprintf(
	    yaml, sizeof(yaml),
	    "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
	    "clusters:\n- name: c\n  cluster: {server: 'http://127.0.0.1:1', "
	    "certificate-authority: pki/ca.crt, insecure-skip-tls-verify: true}\n"
	    "users:\n- name: u\n  user: {client-certificate: pki/c.crt, client-key: %s/abs.key, "
	    "tokenFile: tok}\n",
	    dir);
	kw_conn_t c;
	ck_assert_msg(load(yaml, &c) == CONTOUR_EOK, "%s", err);
	ck_assert_str_eq(c.ca_pem, "FILE CA\n");
	ck_assert_str_eq(c.cert_pem, "FILE CERT\n");
	ck_assert_str_eq(c.key_pem, "FILE KEY\n");
	ck_assert_int_eq(c.insecure_skip_verify, 1);
	ck_assert_ptr_null(c.token);
	ck_assert_ptr_nonnull(strstr(c.token_file, "/sub/tok"));
	ck_assert_ptr_null(c.namespace_);
	kw_conn_fini(&c);
}
END_TEST

START_TEST(kubeconfig_errors)
{
	kw_conn_t c;
	/* The missing context is named, with the file. */
	ck_assert_int_eq(load("current-context: nope\ncontexts: []\n", &c), CONTOUR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "kubeconfig: contexts: no context named \"nope\""));
	ck_assert_int_eq(load("contexts: []\n", &c), CONTOUR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "current-context: not set"));
	ck_assert_int_eq(load("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
	                      "clusters:\n- name: c\n  cluster: {}\n",
	                      &c),
	                 CONTOUR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "clusters[c].cluster.server: not set"));
	ck_assert_int_eq(
	    load("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n", &c),
	    CONTOUR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "no cluster named \"c\" (context \"x\")"));
	ck_assert_int_eq(load("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
	                      "clusters:\n- name: c\n  cluster: {server: 'https://h', "
	                      "certificate-authority-data: '!!notb64'}\n",
	                      &c),
	                 CONTOUR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "certificate-authority-data: not valid base64"));
	ck_assert_int_eq(load("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, "
	                      "user: u}\nclusters:\n- name: c\n  cluster: {server: 'https://h', "
	                      "certificate-authority: missing.pem}\n",
	                      &c),
	                 CONTOUR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "certificate-authority: cannot read"));
	ck_assert_ptr_nonnull(strstr(err, "/sub/missing.pem"));
	ck_assert_int_eq(load("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, "
	                      "user: u}\nclusters:\n- name: c\n  cluster: {server: 'https://h'}\n"
	                      "users:\n- name: u\n  user: {exec: {command: aws}}\n",
	                      &c),
	                 CONTOUR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "users[u].user.exec: not supported"));
	char *crt = b64("C");
	char yaml[1024];
	snprintf(yaml, sizeof(yaml),
	         "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, "
	         "user: u}\nclusters:\n- name: c\n  cluster: {server: 'https://h'}\n"
	         "users:\n- name: u\n  user: {client-certificate-data: %s, token: SECRETTOK}\n",
	         crt);
	free(crt);
	ck_assert_int_eq(load(yaml, &c), CONTOUR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "client-key: not set"));
	ck_assert_ptr_null(strstr(err, "SECRETTOK"));
	ck_assert_int_eq(load("a: [", &c), CONTOUR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "kubeconfig:"));
	/* Nothing is left allocated on failure. */
	ck_assert_ptr_null(c.server);
}
END_TEST

START_TEST(base64_decoding)
{
	char *s = kw_conn_base64("aGVsbG8=");
	ck_assert_str_eq(s, "hello");
	free(s);
	s = kw_conn_base64("aGVs\nbG8");
	ck_assert_str_eq(s, "hello");
	free(s);
	ck_assert_ptr_null(kw_conn_base64("aGV*bG8="));
	ck_assert_ptr_null(kw_conn_base64("aGVsbG8=x"));
	ck_assert_ptr_null(kw_conn_base64("A"));
	ck_assert_ptr_null(kw_conn_base64("AAAA")); /* NUL bytes */
}
END_TEST

START_TEST(in_cluster)
{
	kw_conn_t c;
	free(tu_write_file(dir, "sa/token", "tok\n"));
	free(tu_write_file(dir, "sa/ca.crt", "SA CA\n"));
	free(tu_write_file(dir, "sa/namespace", "projectcontour\n"));
	char sa[4096];
	snprintf(sa, sizeof(sa), "%s/sa", dir);
	unsetenv("KUBERNETES_SERVICE_HOST");
	ck_assert_int_eq(kw_conn_in_cluster(&c, sa, err, sizeof(err)), CONTOUR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "KUBERNETES_SERVICE_HOST"));
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	ck_assert_int_eq(kw_conn_in_cluster(&c, sa, err, sizeof(err)), CONTOUR_EOK);
	ck_assert_str_eq(c.server, "https://[fd00::1]:443");
	ck_assert_str_eq(c.ca_pem, "SA CA\n");
	ck_assert_str_eq(c.namespace_, "projectcontour");
	ck_assert_ptr_nonnull(strstr(c.token_file, "/sa/token"));
	ck_assert_ptr_null(c.token);
	kw_conn_fini(&c);
	/* No token: an error naming the file. */
	snprintf(sa, sizeof(sa), "%s/none", dir);
	ck_assert_int_eq(kw_conn_in_cluster(&c, sa, err, sizeof(err)), CONTOUR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "/none/token"));
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}
END_TEST

/* ---- the scripted server ---- */

#define SRV_MAX_REQS 16

/* One answer: pieces written one after another, `pause` ms apart. A NULL
 * piece ends the script; `stall` then keeps the connection open. */
typedef struct srv_script {
	const char *path;
	const char *pieces[8];
	int pause;
	int stall;
} srv_script_t;

typedef struct srv_conn {
	struct bufferevent *bev;
	const srv_script_t *script;
	int step;
	struct event *timer;
	int got_head;
} srv_conn_t;

static core_t *core;
static struct evconnlistener *lst;
static int srv_port;
static const srv_script_t *scripts;
static char *heads[SRV_MAX_REQS];
static int nheads;
static srv_conn_t *conns[SRV_MAX_REQS];
static int nconns;

static void srv_conn_close(srv_conn_t *sc)
{
	if (sc->timer)
		event_free(sc->timer);
	if (sc->bev)
		bufferevent_free(sc->bev);
	sc->timer = NULL;
	sc->bev = NULL;
}

static void srv_close_when_flushed(struct bufferevent *bev, void *arg)
{
	srv_conn_close(arg);
}

static void srv_step(evutil_socket_t fd, short what, void *arg)
{
	srv_conn_t *sc = arg;
	const char *p = sc->script->pieces[sc->step];
	if (!p) {
		if (!sc->script->stall) {
			bufferevent_setcb(sc->bev, NULL, srv_close_when_flushed, NULL, sc);
			if (!evbuffer_get_length(bufferevent_get_output(sc->bev)))
				srv_conn_close(sc);
		}
		return;
	}
	bufferevent_write(sc->bev, p, strlen(p));
	sc->step++;
	struct timeval tv = {0, sc->script->pause * 1000};
	evtimer_add(sc->timer, &tv);
}

static void srv_read(struct bufferevent *bev, void *arg)
{
	srv_conn_t *sc = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	if (sc->got_head)
		return;
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0)
		return;
	size_t hlen = (size_t)end.pos + 4;
	char *head = malloc(hlen + 1);
	evbuffer_remove(in, head, hlen);
	head[hlen] = '\0';
	/* A body: wait for Content-Length bytes, keep them in the head. */
	const char *cl = strstr(head, "Content-Length:");
	if (cl) {
		size_t blen = strtoul(cl + 15, NULL, 10);
		if (evbuffer_get_length(in) < blen) {
			evbuffer_prepend(in, head, hlen);
			free(head);
			return;
		}
		head = realloc(head, hlen + blen + 1);
		evbuffer_remove(in, head + hlen, blen);
		head[hlen + blen] = '\0';
	}
	sc->got_head = 1;
	if (nheads < SRV_MAX_REQS)
		heads[nheads++] = head;
	else
		free(head);
	char path[1024];
	sscanf(strchr(heads[nheads - 1], ' ') + 1, "%1023s", path);
	static const srv_script_t notfound = {
	    .path = "",
	    .pieces = {"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"}};
	sc->script = &notfound;
	for (const srv_script_t *s = scripts; s && s->path; s++)
		if (!strcmp(s->path, path))
			sc->script = s;
	srv_step(-1, 0, sc);
}

static void srv_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		srv_conn_close(arg);
}

static void srv_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                       int socklen, void *arg)
{
	if (nconns >= SRV_MAX_REQS) {
		close(fd);
		return;
	}
	srv_conn_t *sc = calloc(1, sizeof(*sc));
	sc->bev = bufferevent_socket_new(core->base, fd, BEV_OPT_CLOSE_ON_FREE);
	sc->timer = evtimer_new(core->base, srv_step, sc);
	conns[nconns++] = sc;
	bufferevent_setcb(sc->bev, srv_read, NULL, srv_event, sc);
	bufferevent_enable(sc->bev, EV_READ | EV_WRITE);
}

typedef struct got {
	int done;
	kw_resp_t resp; /* strings copied below */
	char body[8192];
	char error[256];
	char ctype[128];
	char data[8192];
	size_t ndata;
	int pieces;
	int abort_after;
} got_t;

static void got_done(const kw_resp_t *r, void *ud)
{
	got_t *g = ud;
	g->done++;
	g->resp = *r;
	snprintf(g->body, sizeof(g->body), "%.*s", (int)r->len, r->body);
	snprintf(g->error, sizeof(g->error), "%s", r->error ? r->error : "");
	snprintf(g->ctype, sizeof(g->ctype), "%s", r->content_type ? r->content_type : "");
	g->resp.body = g->body;
	g->resp.error = r->error ? g->error : NULL;
}

static int got_data(const char *p, size_t n, void *ud)
{
	got_t *g = ud;
	if (g->ndata + n < sizeof(g->data)) {
		memcpy(g->data + g->ndata, p, n);
		g->ndata += n;
	}
	g->pieces++;
	return g->abort_after && g->pieces >= g->abort_after;
}

static int got_is_done(void *ud)
{
	return ((got_t *)ud)->done > 0;
}

static kw_http_t *h;
static char token_path[4096];

static void http_setup(void)
{
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	dir = tu_tmpdir();
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	lst = evconnlistener_new_bind(core->base, srv_accept, NULL,
	                              LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	                              (struct sockaddr *)&sin, sizeof(sin));
	ck_assert_ptr_nonnull(lst);
	socklen_t sl = sizeof(sin);
	getsockname(evconnlistener_get_fd(lst), (struct sockaddr *)&sin, &sl);
	srv_port = ntohs(sin.sin_port);
	char server[64];
	snprintf(server, sizeof(server), "http://127.0.0.1:%d/", srv_port);
	char *tp = tu_write_file(dir, "token", "tok-one\n");
	snprintf(token_path, sizeof(token_path), "%s", tp);
	free(tp);
	kw_conn_t c = {.server = server, .token_file = token_path};
	h = kw_http_new(&core->self, &c, "test-ua/1", err, sizeof(err));
	ck_assert_msg(h != NULL, "%s", err);
	nheads = 0;
	nconns = 0;
	scripts = NULL;
}

static void http_teardown(void)
{
	kw_http_free(h);
	h = NULL;
	for (int i = 0; i < nconns; i++) {
		srv_conn_close(conns[i]);
		free(conns[i]);
	}
	for (int i = 0; i < nheads; i++)
		free(heads[i]);
	evconnlistener_free(lst);
	core_free(core);
	core = NULL;
	tu_rmrf(dir);
	free(dir);
}

static const srv_script_t basic[] = {
    {.path = "/api/v1/services?limit=500",
     .pieces = {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                "Content-Length: 12\r\n\r\n{\"items\":",
                "[]}"},
     .pause = 20},
    {.path = "/apf",
     .pieces = {"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Type: text/plain\r\n"
                "Content-Length: 42\r\nConnection: close\r\n\r\n"
                "Too many requests, please try again later."}},
    {.path = "/gone",
     .pieces =
         {"HTTP/1.1 410 Gone\r\nContent-Type: application/json\r\nConnection: close\r\n"
          "Content-Length: 128\r\n\r\n"
          "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
          "\"message\":\"too old resource version: 1 (5)\",\"reason\":\"Expired\",\"code\":410}"}},
    {.path = "/put",
     .pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"}},
    {.path = "/big",
     .pieces =
         {"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\nConnection: close\r\n\r\n",
          "................................................................................"
          "................................................................................"
          "................................................................................"
          "................................................................................"
          "................................................................................"
          "................................................................................"
          "................................................................................"
          "................................................................................"
          "................................................................................"
          "................................................................................"
          "................................................................................"
          "................................................................................"
          "................................................................................"
          "................................................................................"}},
    {.path = "/stall",
     .pieces = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
     .stall = 1},
    {.path = NULL},
};

START_TEST(http_get_headers)
{
	scripts = basic;
	got_t g = {0};
	kw_req_t *r =
	    kw_http_request(h, "GET", "/api/v1/services?limit=500", NULL, 5000, NULL, got_done, &g);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(g.done, 0); /* never from inside the call */
	ck_assert(tu_run_until(core, got_is_done, &g, 5000));
	ck_assert_int_eq(g.done, 1);
	ck_assert_int_eq(g.resp.status, 200);
	ck_assert_ptr_null(g.resp.error);
	ck_assert_str_eq(g.body, "{\"items\":[]}");
	ck_assert_uint_eq(g.resp.len, 12);
	ck_assert_str_eq(g.ctype, "application/json");
	ck_assert_int_eq(g.resp.retry_after, -1);
	ck_assert_int_eq(nheads, 1);
	ck_assert_ptr_nonnull(strstr(heads[0], "GET /api/v1/services?limit=500 HTTP/1.1\r\n"));
	ck_assert_ptr_nonnull(strstr(heads[0], "\r\nAccept: application/json\r\n"));
	ck_assert_ptr_nonnull(strstr(heads[0], "\r\nUser-Agent: test-ua/1\r\n"));
	ck_assert_ptr_nonnull(strstr(heads[0], "\r\nAuthorization: Bearer tok-one\r\n"));
	ck_assert_ptr_null(strstr(heads[0], "Content-Type"));
}
END_TEST

START_TEST(http_retry_after_and_status)
{
	scripts = basic;
	got_t a = {0}, b = {0};
	char msg[512];
	kw_http_request(h, "GET", "/apf", NULL, 5000, NULL, got_done, &a);
	kw_http_request(h, "GET", "/gone", NULL, 5000, NULL, got_done, &b);
	ck_assert(tu_run_until(core, got_is_done, &a, 5000));
	ck_assert(tu_run_until(core, got_is_done, &b, 5000));
	ck_assert_int_eq(a.resp.status, 429);
	ck_assert_int_eq(a.resp.retry_after, 3);
	ck_assert_ptr_null(a.resp.error);
	kw_status_message(&a.resp, msg, sizeof(msg));
	ck_assert_str_eq(msg, "Too Many Requests (HTTP 429)");
	ck_assert_int_eq(b.resp.status, 410);
	kw_status_message(&b.resp, msg, sizeof(msg));
	ck_assert_str_eq(msg, "too old resource version: 1 (5) (Expired, HTTP 410)");
}
END_TEST

START_TEST(http_put_body_and_ua_suffix)
{
	scripts = basic;
	got_t g = {0};
	kw_http_request(h, "PUT", "/put", "{\"a\":1}", 5000, "/leader-election", got_done, &g);
	ck_assert(tu_run_until(core, got_is_done, &g, 5000));
	ck_assert_int_eq(g.resp.status, 200);
	ck_assert_ptr_nonnull(strstr(heads[0], "PUT /put HTTP/1.1\r\n"));
	ck_assert_ptr_nonnull(strstr(heads[0], "\r\nContent-Type: application/json\r\n"));
	ck_assert_ptr_nonnull(strstr(heads[0], "\r\nUser-Agent: test-ua/1/leader-election\r\n"));
	ck_assert_ptr_null(strstr(heads[0], "Expect:"));
	ck_assert_ptr_nonnull(strstr(heads[0], "\r\n\r\n{\"a\":1}"));
}
END_TEST

START_TEST(http_body_cap)
{
	scripts = basic;
	got_t g = {0};
	kw_http_set_limits(h, 1000, -1);
	kw_http_request(h, "GET", "/big", NULL, 5000, NULL, got_done, &g);
	ck_assert(tu_run_until(core, got_is_done, &g, 5000));
	ck_assert_ptr_nonnull(g.resp.error);
	ck_assert_ptr_nonnull(strstr(g.error, "larger than the limit"));
}
END_TEST

START_TEST(http_token_rotation)
{
	scripts = basic;
	got_t a = {0}, b = {0}, c = {0};
	kw_http_request(h, "GET", "/put", NULL, 5000, NULL, got_done, &a);
	ck_assert(tu_run_until(core, got_is_done, &a, 5000));
	free(tu_write_file(dir, "token", "tok-two\n"));
	/* Within the period the cached token is used... */
	kw_http_request(h, "GET", "/put", NULL, 5000, NULL, got_done, &b);
	ck_assert(tu_run_until(core, got_is_done, &b, 5000));
	/* ...after it, the file is read again. */
	kw_http_set_limits(h, 0, 0);
	kw_http_request(h, "GET", "/put", NULL, 5000, NULL, got_done, &c);
	ck_assert(tu_run_until(core, got_is_done, &c, 5000));
	ck_assert_int_eq(nheads, 3);
	ck_assert_ptr_nonnull(strstr(heads[0], "Authorization: Bearer tok-one\r\n"));
	ck_assert_ptr_nonnull(strstr(heads[1], "Authorization: Bearer tok-one\r\n"));
	ck_assert_ptr_nonnull(strstr(heads[2], "Authorization: Bearer tok-two\r\n"));
}
END_TEST

/* Events cut anywhere: the client hands the bytes on in order, whatever
 * the chunking, and a clean end is status 200 with no error. */
static const srv_script_t chunks[] = {
    {.path = "/w?watch=true",
     .pieces =
         {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
          "5\r\n{\"typ\r\n", "a\r\ne\":\"ADDED\"\r\n", "3\r\n}\n{\r\n", "a\r\n\"a\":1}\n{}\n\r\n",
          "0\r\n\r\n"},
     .pause = 15},
    {.path = "/cut?watch=true",
     .pieces = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "4\r\n{\"a\"\r\n"},
     .pause = 15},
    {.path = "/stall",
     .pieces = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "2\r\n{}\r\n"},
     .stall = 1},
    {.path = "/gone",
     .pieces = {"HTTP/1.1 410 Gone\r\nContent-Type: application/json\r\nConnection: close\r\n"
                "Content-Length: 14\r\n\r\n{\"code\":410} \n"}},
    {.path = NULL},
};

START_TEST(http_stream_pieces)
{
	scripts = chunks;
	got_t g = {0};
	kw_http_stream(h, "/w?watch=true", 5000, got_data, got_done, &g);
	ck_assert(tu_run_until(core, got_is_done, &g, 5000));
	ck_assert_int_eq(g.resp.status, 200);
	ck_assert_ptr_null(g.resp.error);
	ck_assert_uint_eq(g.ndata, 28);
	ck_assert(!memcmp(g.data, "{\"type\":\"ADDED\"}\n{\"a\":1}\n{}\n", 28));
	ck_assert_int_ge(g.pieces, 3);
	/* A stream's bytes are not kept for done. */
	ck_assert_uint_eq(g.resp.len, 0);
}
END_TEST

START_TEST(http_stream_cut_idle_abort)
{
	scripts = chunks;
	got_t cut = {0}, idle = {0}, ab = {0}, gone = {0};
	kw_http_stream(h, "/cut?watch=true", 5000, got_data, got_done, &cut);
	kw_http_stream(h, "/stall", 200, got_data, got_done, &idle);
	kw_http_stream(h, "/w?watch=true", 5000, got_data, got_done, &ab);
	ab.abort_after = 1;
	kw_http_stream(h, "/gone", 5000, got_data, got_done, &gone);
	ck_assert(tu_run_until(core, got_is_done, &cut, 5000));
	ck_assert(tu_run_until(core, got_is_done, &idle, 5000));
	ck_assert(tu_run_until(core, got_is_done, &ab, 5000));
	ck_assert(tu_run_until(core, got_is_done, &gone, 5000));
	/* Cut without the final chunk: 200 but an error, never a clean end. */
	ck_assert_int_eq(cut.resp.status, 200);
	ck_assert_ptr_nonnull(cut.resp.error);
	ck_assert_str_eq(idle.error, "watch idle timeout");
	ck_assert_uint_eq(idle.ndata, 2);
	ck_assert_str_eq(ab.error, "aborted");
	ck_assert_int_eq(ab.pieces, 1);
	/* An error answer to a watch goes to done, not to the reader. */
	ck_assert_int_eq(gone.resp.status, 410);
	ck_assert_uint_eq(gone.ndata, 0);
	ck_assert_str_eq(gone.body, "{\"code\":410} \n");
}
END_TEST

START_TEST(http_cancel_and_refused)
{
	scripts = basic;
	got_t a = {0}, b = {0};
	kw_req_t *r = kw_http_stream(h, "/stall", 0, got_data, got_done, &a);
	tu_run_loop_ms(core, 100);
	ck_assert_int_eq(nheads, 1);
	kw_req_cancel(r);
	kw_req_cancel(NULL);
	tu_run_loop_ms(core, 50);
	ck_assert_int_eq(a.done, 0);
	/* A port nobody listens on: status 0 and a reason. */
	kw_conn_t c = {.server = "http://127.0.0.1:1"};
	kw_http_t *h2 = kw_http_new(&core->self, &c, "x", err, sizeof(err));
	kw_http_request(h2, "GET", "/", NULL, 2000, NULL, got_done, &b);
	ck_assert(tu_run_until(core, got_is_done, &b, 5000));
	ck_assert_int_eq(b.resp.status, 0);
	ck_assert_ptr_nonnull(b.resp.error);
	char msg[256];
	kw_status_message(&b.resp, msg, sizeof(msg));
	ck_assert_str_eq(msg, b.error);
	/* Freeing with a request in flight: no callback, no leak. */
	got_t d = {0};
	kw_http_request(h2, "GET", "/", NULL, 2000, NULL, got_done, &d);
	kw_http_free(h2);
	tu_run_loop_ms(core, 20);
	ck_assert_int_eq(d.done, 0);
}
END_TEST

START_TEST(http_sync)
{
	scripts = basic;
	/* The server runs on the same loop, so a blocking call can only time
	 * out; what matters is that it returns within its bound. */
	int64_t t0 = contour_now_ms(&core->self);
	ck_assert_int_eq(kw_http_request_sync(h, "PUT", "/put", "{}", 300, NULL), 0);
	ck_assert_int_lt(contour_now_ms(&core->self) - t0, 2000);
}
END_TEST

/* ---- health (kw_http_set_health) ---- */

static const srv_script_t health_scripts[] = {
    {.path = "/ok",
     .pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"}},
    {.path = "/denied",
     .pieces =
         {"HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\n"
          "Connection: close\r\nContent-Length: 71\r\n\r\n"
          "{\"kind\":\"Status\",\"message\":\"secrets is forbidden\",\"reason\":\"Forbidden\"}"}},
    {.path = "/boom?x=1",
     .pieces = {"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                "Connection: close\r\n\r\n"}},
    {.path = "/version",
     .pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"}},
    {.path = "/w?watch=true",
     .pieces = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"},
     .stall = 1},
    {.path = NULL},
};

/* A server that takes the request and never answers. */
static const srv_script_t hung_version[] = {
    {.path = "/ok",
     .pieces = {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"}},
    {.path = "/version", .pieces = {NULL}, .stall = 1},
    {.path = NULL},
};

static const char *health_msg(void)
{
	const char *msg = "";
	contour_health_state(&core->self, NULL, &msg);
	return msg;
}

static void health_get(const char *path)
{
	got_t g = {0};
	kw_http_request(h, "GET", path, NULL, 5000, NULL, got_done, &g);
	ck_assert(tu_run_until(core, got_is_done, &g, 5000));
}

static int health_failing(void *ud)
{
	return !contour_health_check_ok(ud);
}

/* 401/403/5xx fail with the URL and the cause; any other answer and an
 * established watch pass; the probe's 200 does not clear a 403. */
START_TEST(http_health_answers)
{
	scripts = health_scripts;
	contour_health_check_t *c = NULL;
	char want[512];
	ck_assert_int_eq(contour_register_health_check(&core->self, "Kubernetes", &c), CONTOUR_EOK);
	ck_assert_int_eq(kw_http_set_health(h, c), CONTOUR_EOK);
	tu_log_capture_start();

	health_get("/denied");
	ck_assert(!contour_health_check_ok(c));
	snprintf(want, sizeof(want),
	         "GET \"http://127.0.0.1:%d/denied\": secrets is forbidden (Forbidden, HTTP 403)",
	         srv_port);
	ck_assert_str_eq(health_msg(), want);
	/* After 2 s of silence the probe asks for /version: its 200 shows the
	 * server is there, not that we may read secrets. */
	tu_run_loop_ms(core, 3500);
	int probed = 0;
	for (int i = 0; i < nheads; i++)
		if (strstr(heads[i], "GET /version HTTP/1.1\r\n") &&
		    strstr(heads[i], "\r\nUser-Agent: test-ua/1/health\r\n"))
			probed++;
	ck_assert_int_eq(probed, 1);
	ck_assert(!contour_health_check_ok(c));
	ck_assert_str_eq(health_msg(), want);

	health_get("/ok");
	ck_assert(contour_health_check_ok(c));

	health_get("/boom?x=1");
	snprintf(want, sizeof(want),
	         "GET \"http://127.0.0.1:%d/boom\": Service Unavailable (HTTP 503)", srv_port);
	ck_assert_str_eq(health_msg(), want);

	/* A watch's 200 headers are enough, with no event yet. */
	got_t g = {0};
	kw_req_t *w = kw_http_stream(h, "/w?watch=true", 0, got_data, got_done, &g);
	ck_assert(tu_run_until(core, (int (*)(void *))contour_health_check_ok, c, 5000));
	kw_req_cancel(w);
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "health check Kubernetes passing"));
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "health check Kubernetes failing: GET"));
	tu_log_capture_stop();
}
END_TEST

/* A hung server: the probe times out; a refused connection fails at once. */
START_TEST(http_health_probe_timeout)
{
	scripts = hung_version;
	contour_health_check_t *c = NULL, *c2 = NULL;
	ck_assert_int_eq(contour_register_health_check(&core->self, "Kubernetes", &c), CONTOUR_EOK);
	ck_assert_int_eq(kw_http_set_health(h, c), CONTOUR_EOK);
	health_get("/ok");
	ck_assert(contour_health_check_ok(c));
	int64_t t0 = contour_now_ms(&core->self);
	ck_assert(tu_run_until(core, health_failing, c, 10000));
	int64_t took = contour_now_ms(&core->self) - t0;
	ck_assert_msg(took >= 4000 && took <= 7500, "failed after %lld ms", (long long)took);
	char want[128];
	snprintf(want, sizeof(want), "GET \"http://127.0.0.1:%d/version\": ", srv_port);
	ck_assert_msg(!strncmp(health_msg(), want, strlen(want)), "message: %s", health_msg());
	ck_assert_msg(strstr(health_msg(), "timed out"), "message: %s", health_msg());

	kw_conn_t conn = {.server = "http://127.0.0.1:1"};
	kw_http_t *h2 = kw_http_new(&core->self, &conn, "x", err, sizeof(err));
	ck_assert_int_eq(contour_register_health_check(&core->self, "Other", &c2), CONTOUR_EOK);
	ck_assert_int_eq(kw_http_set_health(h2, c2), CONTOUR_EOK);
	got_t g = {0};
	kw_http_request(h2, "GET", "/api?limit=1", NULL, 2000, NULL, got_done, &g);
	ck_assert(tu_run_until(core, got_is_done, &g, 5000));
	ck_assert(!contour_health_check_ok(c2));
	const char *msg = NULL;
	contour_health_pass(c);
	contour_health_state(&core->self, NULL, &msg);
	const char *pre = "GET \"http://127.0.0.1:1/api\": ";
	ck_assert_msg(!strncmp(msg, pre, strlen(pre)), "message: %s", msg);
	kw_http_free(h2);
}
END_TEST

static Suite *kw_conn_suite(void)
{
	Suite *s = suite_create("kw_conn");
	TCase *tc = tcase_create("kubeconfig");
	tcase_add_checked_fixture(tc, conn_setup, conn_teardown);
	tcase_add_test(tc, kubeconfig_data_forms);
	tcase_add_test(tc, kubeconfig_file_forms);
	tcase_add_test(tc, kubeconfig_errors);
	tcase_add_test(tc, base64_decoding);
	tcase_add_test(tc, in_cluster);
	suite_add_tcase(s, tc);
	tc = tcase_create("http");
	tcase_add_checked_fixture(tc, http_setup, http_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, http_get_headers);
	tcase_add_test(tc, http_retry_after_and_status);
	tcase_add_test(tc, http_put_body_and_ua_suffix);
	tcase_add_test(tc, http_body_cap);
	tcase_add_test(tc, http_token_rotation);
	tcase_add_test(tc, http_stream_pieces);
	tcase_add_test(tc, http_stream_cut_idle_abort);
	tcase_add_test(tc, http_cancel_and_refused);
	tcase_add_test(tc, http_sync);
	tcase_add_test(tc, http_health_answers);
	tcase_add_test(tc, http_health_probe_timeout);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(kw_conn_suite());
}
