/* tests/unit/check_metrics_module.c: the metrics module, loaded from its
 * shared object by the real loader and queried over HTTP on the same loop. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "tests/unit/testutil.h"

static char *tmp;
static core_t *core;

static void setup(void)
{
	tmp = tu_tmpdir();
	tu_log_capture_start();
	core = NULL;
}

static void teardown(void)
{
	if (core) {
		core_modules_stop_free(core);
		core_free(core);
	}
	core = NULL;
	tu_log_capture_stop();
	tu_rmrf(tmp);
	free(tmp);
}

/* A core with yaml loaded and its modules resolved; NULL (with the errors
 * in *errs, which the caller frees) when loading fails. */
static core_t *mx_core(const char *yaml, json_t **errs)
{
	char *path = tu_write_file(tmp, "contour.yaml", yaml);
	core_conf_t *conf = NULL;
	json_t *errors = json_array();
	ck_assert_int_eq(core_conf_load_file(path, &conf, errors), CONTOUR_EOK);
	free(path);
	core_t *c = core_new(NULL);
	c->conf = conf;
	if (core_loader_load_all(c, errors) != CONTOUR_EOK) {
		core_free(c);
		*errs = errors;
		return NULL;
	}
	json_decref(errors);
	*errs = NULL;
	return c;
}

/* The port from "listening on http://ADDR:PORT" in the captured log. */
static int mx_logged_port(void)
{
	const char *log = tu_log_text();
	const char *p = strstr(log, "listening on http://");
	ck_assert_msg(p != NULL, "no listening line in: %s", log);
	const char *sp = strchr(p + strlen("listening on http://"), ' ');
	ck_assert_ptr_nonnull(sp);
	const char *colon = sp;
	while (colon > p && *colon != ':')
		colon--;
	int port = atoi(colon + 1);
	ck_assert_int_gt(port, 0);
	return port;
}

/* The port from "serving /debug/dag on http://ADDR:PORT", or 0. */
static int mx_logged_debug_port(void)
{
	const char *p = strstr(tu_log_text(), "serving /debug/dag on http://");
	if (!p)
		return 0;
	p += strlen("serving /debug/dag on http://");
	const char *end = p + strcspn(p, " \"\n");
	const char *colon = end;
	while (colon > p && *colon != ':')
		colon--;
	return atoi(colon + 1);
}

/* Start a core whose only module is metrics with extra config `cfg`;
 * returns the bound port. The debug port is left to the kernel unless cfg
 * sets it (6060 may be taken, or wanted by a parallel test). */
static int mx_serve(const char *cfg)
{
	char yaml[512];
	json_t *errs = NULL;
	snprintf(yaml, sizeof(yaml), "modules:\n  - name: metrics\n    config: {%s%s}\n", cfg,
	         strstr(cfg, "debug-port") ? "" : ", debug-port: 0");
	core = mx_core(yaml, &errs);
	ck_assert_msg(core != NULL, "load failed");
	ck_assert_int_eq(core_modules_init_start(core), CONTOUR_EOK);
	return mx_logged_port();
}

typedef struct mx_resp {
	int done;
	int code; /* -1: no response */
	char ctype[128];
	char allow[64];
	int has_clen;
	char *body;
	size_t len;
} mx_resp_t;

static void mx_resp_cb(struct evhttp_request *req, void *arg)
{
	mx_resp_t *r = arg;
	r->done = 1;
	r->code = req ? evhttp_request_get_response_code(req) : -1;
	if (!req || r->code == 0) {
		r->code = -1;
		return;
	}
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *v = evhttp_find_header(h, "Content-Type");
	snprintf(r->ctype, sizeof(r->ctype), "%s", v ? v : "");
	v = evhttp_find_header(h, "Allow");
	snprintf(r->allow, sizeof(r->allow), "%s", v ? v : "");
	r->has_clen = evhttp_find_header(h, "Content-Length") != NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	r->len = evbuffer_get_length(in);
	r->body = calloc(1, r->len + 1);
	evbuffer_remove(in, r->body, r->len);
}

static int mx_resp_done(void *ud)
{
	return ((mx_resp_t *)ud)->done;
}

/* One request on a fresh connection; the caller frees r->body. `hname`
 * and `hval` add a header when non-NULL; `body` a request body. */
static mx_resp_t mx_request(const char *host, int port, enum evhttp_cmd_type method,
                            const char *uri, const char *hname, const char *hval, const char *body)
{
	mx_resp_t r = {.code = -1};
	struct evhttp_connection *conn =
	    evhttp_connection_base_new(core->base, NULL, host, (unsigned short)port);
	ck_assert_ptr_nonnull(conn);
	struct evhttp_request *req = evhttp_request_new(mx_resp_cb, &r);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", host);
	if (hname)
		evhttp_add_header(h, hname, hval);
	if (body)
		evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	ck_assert_int_eq(evhttp_make_request(conn, req, method, uri), 0);
	ck_assert(tu_run_until(core, mx_resp_done, &r, 5000));
	evhttp_connection_free(conn);
	return r;
}

static mx_resp_t mx_get(int port, const char *uri)
{
	return mx_request("127.0.0.1", port, EVHTTP_REQ_GET, uri, NULL, NULL, NULL);
}

/* mx_raw: send `text` on a plain socket and read until the server closes;
 * the reply as a new string. For what evhttp's client hides (a HEAD body). */
static char *mx_raw(int port, const char *text)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	                          .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	/* The kernel completes the handshake from the listen queue, so a
	 * blocking connect and a small send do not need the loop to run. */
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(send(fd, text, strlen(text), 0), (ssize_t)strlen(text));
	ck_assert_int_eq(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	size_t cap = 1 << 16, len = 0;
	char *buf = calloc(1, cap);
	for (int waited = 0; waited < 5000; waited += 10) {
		tu_run_loop_ms(core, 10);
		ssize_t n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n == 0)
			break;
		if (n > 0)
			len += (size_t)n;
		ck_assert_uint_lt(len, cap - 1);
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* The registry as rendered now. */
static char *mx_render(void)
{
	char *text = contour_metrics_render(&core->self, NULL);
	ck_assert_ptr_nonnull(text);
	return text;
}

START_TEST(test_metrics_endpoint)
{
	int port = mx_serve("address: 127.0.0.1, port: 0");
	mx_resp_t r = mx_get(port, "/metrics");
	ck_assert_int_eq(r.code, 200);
	ck_assert_str_eq(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	char want[256];
	snprintf(want, sizeof(want),
	         "\ncontour_build_info{branch=\"unknown\",revision=\"unknown\",version=\"%s\"} 1\n",
	         PACKAGE_VERSION);
	ck_assert_msg(strstr(r.body, want), "no build info in:\n%s", r.body);
	ck_assert_ptr_nonnull(strstr(r.body, "# TYPE contour_build_info gauge\n"));
	/* The body is the registry's text, whole. */
	char *text = mx_render();
	ck_assert_ptr_nonnull(
	    strstr(text, "contour_metrics_http_requests_total{code=\"200\"} 1\n"));
	ck_assert_int_eq(strlen(r.body), r.len);
	ck_assert_ptr_null(strstr(r.body, "contour_metrics_http_requests_total{"));
	free(text);
	free(r.body);

	/* A query string does not change the route. */
	r = mx_get(port, "/metrics?name[]=x");
	ck_assert_int_eq(r.code, 200);
	ck_assert_ptr_nonnull(
	    strstr(r.body, "contour_metrics_http_requests_total{code=\"200\"} 1\n"));
	free(r.body);
}
END_TEST

START_TEST(test_health_and_errors)
{
	int port = mx_serve("address: 127.0.0.1, port: 0");
	/* Upstream's fmt.Fprintln(w, "OK"). */
	mx_resp_t r = mx_get(port, "/healthz");
	ck_assert_int_eq(r.code, 200);
	ck_assert_str_eq(r.body, "OK\n");
	ck_assert_str_eq(r.ctype, "text/plain; charset=utf-8");
	free(r.body);
	r = mx_get(port, "/health");
	ck_assert_int_eq(r.code, 200);
	ck_assert_str_eq(r.body, "OK\n");
	free(r.body);

	const char *missing[] = {"/", "/metricsx", "/metrics/", "/healthz/x", "/debug/pprof"};
	for (size_t i = 0; i < sizeof(missing) / sizeof(*missing); i++) {
		r = mx_get(port, missing[i]);
		ck_assert_msg(r.code == 404, "%s: %d", missing[i], r.code);
		free(r.body);
	}

	r = mx_request("127.0.0.1", port, EVHTTP_REQ_POST, "/metrics", NULL, NULL, "a=b");
	ck_assert_int_eq(r.code, 405);
	ck_assert_str_eq(r.allow, "GET, HEAD");
	free(r.body);
	r = mx_request("127.0.0.1", port, EVHTTP_REQ_DELETE, "/healthz", NULL, NULL, NULL);
	ck_assert_int_eq(r.code, 405);
	free(r.body);
	/* evhttp on its own would answer PATCH with 501. */
	r = mx_request("127.0.0.1", port, EVHTTP_REQ_PATCH, "/metrics", NULL, NULL, NULL);
	ck_assert_int_eq(r.code, 405);
	free(r.body);

	/* HEAD: the GET's status and type, no body. */
	r = mx_request("127.0.0.1", port, EVHTTP_REQ_HEAD, "/metrics", NULL, NULL, NULL);
	ck_assert_int_eq(r.code, 200);
	ck_assert_str_eq(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_uint_eq(r.len, 0);
	free(r.body);
	/* On the wire, not just as evhttp's client reads it: headers only,
	 * with the length, so a request pipelined after it is framed right. */
	char *raw = mx_raw(port, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	                         "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	ck_assert_msg(!strncmp(raw, "HTTP/1.1 200 OK\r\n", 17), "reply: %s", raw);
	ck_assert_msg(strstr(raw, "\r\nContent-Length: 3\r\n"), "reply: %s", raw);
	char *end = strstr(raw, "\r\n\r\n");
	ck_assert_msg(end && !strncmp(end + 4, "HTTP/1.1 200 OK\r\n", 17),
	              "HEAD reply has a body: %s", raw);
	ck_assert_msg(strstr(end, "\r\n\r\nOK\n") && !strcmp(raw + strlen(raw) - 3, "OK\n"),
	              "GET after HEAD: %s", raw);
	free(raw);

	char *text = mx_render();
	ck_assert_msg(strstr(text, "contour_metrics_http_requests_total{code=\"200\"} 5\n") &&
	                  strstr(text, "contour_metrics_http_requests_total{code=\"404\"} 5\n") &&
	                  strstr(text, "contour_metrics_http_requests_total{code=\"405\"} 3\n"),
	              "counters wrong:\n%s", text);
	free(text);
}
END_TEST

/* A failing check turns /healthz into upstream's 503; the first failing
 * check, in registration order, is named. */
START_TEST(test_health_checks)
{
	int port = mx_serve("address: 127.0.0.1, port: 0");
	contour_health_check_t *k = NULL, *o = NULL;
	/* The core's own handle may register at any time. */
	ck_assert_int_eq(contour_register_health_check(&core->self, "Kubernetes", &k), CONTOUR_EOK);
	ck_assert_int_eq(contour_register_health_check(&core->self, "Other", &o), CONTOUR_EOK);
	contour_health_fail(k, "Get \"https://127.0.0.1:1/version\": connection refused");
	contour_health_pass(o);
	const char *paths[] = {"/healthz", "/health"};
	for (size_t i = 0; i < 2; i++) {
		mx_resp_t r = mx_get(port, paths[i]);
		ck_assert_int_eq(r.code, 503);
		ck_assert_str_eq(r.body,
		                 "Failed Kubernetes Check: Get \"https://127.0.0.1:1/version\": "
		                 "connection refused\n");
		ck_assert_str_eq(r.ctype, "text/plain; charset=utf-8");
		free(r.body);
	}
	/* HEAD: same status, the length, no body. */
	mx_resp_t r = mx_request("127.0.0.1", port, EVHTTP_REQ_HEAD, "/healthz", NULL, NULL, NULL);
	ck_assert_int_eq(r.code, 503);
	ck_assert_uint_eq(r.len, 0);
	free(r.body);
	contour_health_pass(k);
	contour_health_fail(o, "down");
	r = mx_get(port, "/healthz");
	ck_assert_int_eq(r.code, 503);
	ck_assert_str_eq(r.body, "Failed Other Check: down\n");
	free(r.body);
	contour_health_pass(o);
	r = mx_get(port, "/healthz");
	ck_assert_int_eq(r.code, 200);
	ck_assert_str_eq(r.body, "OK\n");
	free(r.body);
	char *text = mx_render();
	ck_assert_msg(strstr(text, "contour_metrics_http_requests_total{code=\"503\"} 4\n"),
	              "503s not counted:\n%s", text);
	free(text);
}
END_TEST

/* The debug port: /debug/dag as dot, 404 elsewhere, 405 for other
 * methods, and not counted with the metrics port's requests. */
START_TEST(test_debug_dag)
{
	int port = mx_serve("address: 127.0.0.1, port: 0");
	int dport = mx_logged_debug_port();
	ck_assert_int_gt(dport, 0);
	ck_assert_int_ne(dport, port);
	mx_resp_t r = mx_get(dport, "/debug/dag");
	ck_assert_int_eq(r.code, 200);
	ck_assert_str_eq(r.ctype, "text/plain; charset=utf-8");
	ck_assert_msg(!strncmp(r.body, "digraph DAG {", 13), "body: %s", r.body);
	ck_assert_msg(r.len > 2 && !strcmp(r.body + r.len - 2, "}\n"), "body: %s", r.body);
	free(r.body);
	/* Once built, the snapshot's graph: the listeners at least. */
	tu_run_loop_ms(core, 300);
	ck_assert_ptr_nonnull(contour_snapshot_current(&core->self));
	r = mx_get(dport, "/debug/dag?x=1");
	ck_assert_int_eq(r.code, 200);
	ck_assert_msg(strstr(r.body, "ingress_http"), "body: %s", r.body);
	free(r.body);
	const char *missing[] = {"/", "/metrics", "/healthz", "/debug/dag/", "/debug/pprof/"};
	for (size_t i = 0; i < sizeof(missing) / sizeof(*missing); i++) {
		r = mx_get(dport, missing[i]);
		ck_assert_msg(r.code == 404, "%s: %d", missing[i], r.code);
		ck_assert_str_eq(r.body, "404 page not found\n");
		free(r.body);
	}
	/* And the metrics port does not serve the DAG. */
	r = mx_get(port, "/debug/dag");
	ck_assert_int_eq(r.code, 404);
	free(r.body);
	r = mx_request("127.0.0.1", dport, EVHTTP_REQ_POST, "/debug/dag", NULL, NULL, "a");
	ck_assert_int_eq(r.code, 405);
	free(r.body);
	r = mx_request("127.0.0.1", dport, EVHTTP_REQ_HEAD, "/debug/dag", NULL, NULL, NULL);
	ck_assert_int_eq(r.code, 200);
	ck_assert_uint_eq(r.len, 0);
	free(r.body);
	char *text = mx_render();
	ck_assert_msg(strstr(text, "contour_metrics_http_requests_total{code=\"404\"} 1\n"),
	              "debug requests counted:\n%s", text);
	free(text);
}
END_TEST

START_TEST(test_debug_off)
{
	mx_serve("address: 127.0.0.1, port: 0, debug-port: -1");
	ck_assert_int_eq(mx_logged_debug_port(), 0);
}
END_TEST

START_TEST(test_limits)
{
	int port = mx_serve("address: 127.0.0.1, port: 0");
	/* Headers past the limit are refused before our callback runs. */
	char *big = malloc(16384);
	memset(big, 'a', 16383);
	big[16383] = '\0';
	mx_resp_t r = mx_request("127.0.0.1", port, EVHTTP_REQ_GET, "/metrics", "X-Big", big, NULL);
	ck_assert_int_eq(r.code, 400);
	free(r.body);
	/* So is a body past the limit. */
	r = mx_request("127.0.0.1", port, EVHTTP_REQ_POST, "/metrics", NULL, NULL, big);
	ck_assert_int_eq(r.code, 413);
	free(r.body);
	free(big);
	/* A client that sends half a request and stalls does not hold up
	 * others: the loop keeps serving while its timeout runs. */
	struct sockaddr_in sin = {.sin_family = AF_INET,
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	                          .sin_port = htons((uint16_t)port)};
	int slow = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(slow, (struct sockaddr *)&sin, sizeof(sin)), 0);
	const char *half = "GET /metrics HTTP/1.1\r\nHo";
	ck_assert_int_eq(send(slow, half, strlen(half), 0), (ssize_t)strlen(half));
	tu_run_loop_ms(core, 50);
	/* The server still answers afterwards. */
	r = mx_get(port, "/healthz");
	ck_assert_int_eq(r.code, 200);
	free(r.body);
	close(slow);
}
END_TEST

/* A listening socket on 127.0.0.1, port chosen by the kernel. */
static int mx_occupy(int *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static int mx_refused(int port);

START_TEST(test_bind_failure)
{
	int port, fd = mx_occupy(&port);
	char yaml[256], want[128];
	json_t *errs = NULL;
	snprintf(yaml, sizeof(yaml),
	         "modules:\n  - name: metrics\n    config: {address: 127.0.0.1, port: %d}\n", port);
	core = mx_core(yaml, &errs);
	ck_assert_ptr_nonnull(core);
	ck_assert_int_ne(core_modules_init_start(core), CONTOUR_EOK);
	snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%d: %s", port,
	         strerror(EADDRINUSE));
	ck_assert_msg(strstr(tu_log_text(), want), "'%s' not in:\n%s", want, tu_log_text());
	core_modules_stop_free(core);
	core_free(core);

	/* A taken debug port fails the start too, and the metrics port it had
	 * opened is closed again. */
	snprintf(yaml, sizeof(yaml),
	         "modules:\n  - name: metrics\n    config: {address: 127.0.0.1, port: 0, "
	         "debug-port: %d}\n",
	         port);
	core = mx_core(yaml, &errs);
	ck_assert_ptr_nonnull(core);
	ck_assert_int_ne(core_modules_init_start(core), CONTOUR_EOK);
	snprintf(want, sizeof(want), "debug listener: cannot listen on 127.0.0.1:%d: %s", port,
	         strerror(EADDRINUSE));
	ck_assert_msg(strstr(tu_log_text(), want), "'%s' not in:\n%s", want, tu_log_text());
	ck_assert(mx_refused(mx_logged_port()));
	close(fd);
}
END_TEST

/* Connecting to 127.0.0.1:port is refused. */
static int mx_refused(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	                          .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int rc = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	int err = errno;
	close(fd);
	return rc != 0 && err == ECONNREFUSED;
}

START_TEST(test_stop_twice)
{
	int port = mx_serve("address: 127.0.0.1, port: 0");
	contour_module_t *mod = core->mods[0];
	ck_assert(!mx_refused(port));
	mod->desc->stop(mod);
	ck_assert(mx_refused(port));
	mod->desc->stop(mod);
	ck_assert(mx_refused(port));
	/* The core's own stop and free follow in teardown. */
}
END_TEST

START_TEST(test_ipv6)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	int ok = fd >= 0 && bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok) {
		fprintf(stderr, "test_ipv6: no IPv6 loopback here, skipped\n");
		return;
	}
	int port = mx_serve("address: '::1', port: 0");
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "listening on http://[::1]:"));
	mx_resp_t r = mx_request("::1", port, EVHTTP_REQ_GET, "/healthz", NULL, NULL, NULL);
	ck_assert_int_eq(r.code, 200);
	free(r.body);
}
END_TEST

/* The config is refused before anything starts, naming file, line, key. */
static void mx_expect_refused(const char *cfg, const char *want)
{
	char yaml[256];
	json_t *errs = NULL;
	snprintf(yaml, sizeof(yaml), "modules:\n  - name: metrics\n    config: {%s}\n", cfg);
	ck_assert_ptr_null(mx_core(yaml, &errs));
	char *dump = json_dumps(errs, 0);
	ck_assert_msg(strstr(dump, want), "'%s' not in %s", want, dump);
	ck_assert_msg(strstr(dump, "contour.yaml:"), "no file in %s", dump);
	free(dump);
	json_decref(errs);
}

START_TEST(test_config_errors)
{
	mx_expect_refused("address: localhost",
	                  "address: 'localhost' is not a numeric IPv4 or IPv6 address");
	mx_expect_refused("address: '1.2.3'", "'1.2.3' is not a numeric");
	mx_expect_refused("address: '[::1]'", "'[::1]' is not a numeric");
	mx_expect_refused("address: ''", "'' is not a numeric");
	mx_expect_refused("port: 65536", "port");
	mx_expect_refused("port: -1", "port");
	mx_expect_refused("port: '8000'", "port");
	mx_expect_refused("listen: 1", "listen: unknown key");
	mx_expect_refused("debug-address: localhost",
	                  "debug-address: 'localhost' is not a numeric IPv4 or IPv6 address");
	mx_expect_refused("debug-port: 65536", "debug-port");
	mx_expect_refused("debug-port: -2", "debug-port");
}
END_TEST

START_TEST(test_config_defaults)
{
	json_t *errs = NULL;
	core = mx_core("modules:\n  - name: metrics\n", &errs);
	ck_assert_ptr_nonnull(core);
	contour_module_t *mod = core->mods[0];
	ck_assert_str_eq(contour_conf_get_str(mod, "address", NULL), "0.0.0.0");
	ck_assert_int_eq(contour_conf_get_int(mod, "port", -1), 8000);
	/* Upstream's --debug-http-address and --debug-http-port defaults. */
	ck_assert_str_eq(contour_conf_get_str(mod, "debug-address", NULL), "127.0.0.1");
	ck_assert_int_eq(contour_conf_get_int(mod, "debug-port", -2), 6060);
	/* Other accepted forms. */
	core_free(core);
	core = mx_core("modules:\n  - name: metrics\n    config: {address: '::', port: 65535}\n",
	               &errs);
	ck_assert_ptr_nonnull(core);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics_module");
	TCase *tc = tcase_create("http");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_metrics_endpoint);
	tcase_add_test(tc, test_health_and_errors);
	tcase_add_test(tc, test_health_checks);
	tcase_add_test(tc, test_debug_dag);
	tcase_add_test(tc, test_debug_off);
	tcase_add_test(tc, test_ipv6);
	suite_add_tcase(s, tc);
	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_bind_failure);
	tcase_add_test(tc, test_stop_twice);
	suite_add_tcase(s, tc);
	tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_config_errors);
	tcase_add_test(tc, test_config_defaults);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
