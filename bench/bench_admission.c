/* bench/bench_admission.c: what an admission review costs with the
 * benchmark workload (10,000 root HTTPProxies) in the store.
 *
 *   in-process   contour_review_run alone: the validators' own time
 *   fresh TLS    one TLS connection per review, as an API server without
 *                keep-alive would make them (handshake included)
 *   keep-alive   reviews one after another on one connection
 *   concurrent   200 clients at once, each on its own connection
 *
 * The admission module serves on 127.0.0.1 from this process's loop (the
 * main thread); the clients are threads with blocking OpenSSL sockets.
 * Each review is a CREATE of a new root whose fqdn collides with one of the
 * 10,000 every other time, so half are denied through the fqdn index and
 * all go through the processor's rules. Figures, not a test. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "bench/workload.h"

#define NREVIEWS_FRESH     1000
#define NREVIEWS_KEEPALIVE 5000
#define NCONCURRENT        200

static int bench_port;
static atomic_int bench_done;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void print_row(const char *label, double *ms, size_t n, size_t errors)
{
	qsort(ms, n, sizeof(*ms), cmp_double);
	printf("%-28s %7zu %9.3f %9.3f %9.3f %9.3f %7zu\n", label, n, ms[n / 2],
	       ms[(size_t)(n * 0.99)], ms[n - 1], n ? ms[0] : 0.0, errors);
}

/* The review of a new root app-new-i: it collides with app-i when i is
 * even. */
static char *review_body(int i)
{
	char fqdn[96];
	if (i % 2 == 0)
		snprintf(fqdn, sizeof(fqdn), "APP-%d.bench.example.com", i % NPROXIES);
	else
		snprintf(fqdn, sizeof(fqdn), "new-%d.bench.example.com", i);
	json_t *obj = json_pack(
	    "{s:s, s:s, s:{s:s, s:s}, s:{s:{s:s}, s:[{s:[{s:s}], s:[{s:s, s:i}]}]}}", "apiVersion",
	    "projectcontour.io/v1", "kind", "HTTPProxy", "metadata", "namespace", "bench", "name",
	    "app-new", "spec", "virtualhost", "fqdn", fqdn, "routes", "conditions", "prefix", "/",
	    "services", "name", "app-1-a", "port", 80);
	json_t *review = json_pack(
	    "{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:o, s:b}}", "apiVersion",
	    "admission.k8s.io/v1", "kind", "AdmissionReview", "request", "uid", "bench-uid", "kind",
	    "group", "projectcontour.io", "version", "v1", "kind", "HTTPProxy", "operation",
	    "CREATE", "namespace", "bench", "name", "app-new", "object", obj, "dryRun", 0);
	char *s = json_dumps(review, JSON_COMPACT);
	json_decref(review);
	return s;
}

static size_t in_process(core_t *core, double *ms, size_t n)
{
	size_t denied = 0;
	for (size_t i = 0; i < n; i++) {
		char *body = review_body((int)i);
		json_t *review = json_loads(body, 0, NULL);
		json_t *req = json_object_get(review, "request");
		contour_review_t r = {.operation = "CREATE",
		                      .object = json_object_get(req, "object")};
		contour_verdict_t *v = contour_verdict_new();
		double t0 = bench_now_ms();
		contour_review_run(&core->self, "projectcontour.io/v1", "HTTPProxy", &r, v);
		ms[i] = bench_now_ms() - t0;
		denied += !contour_verdict_allowed(v);
		contour_verdict_free(v);
		json_decref(review);
		free(body);
	}
	return denied;
}

/* ---- the client side ---- */

typedef struct conn {
	int fd;
	SSL *ssl;
} conn_t;

static SSL_CTX *client_ctx;

static int conn_open(conn_t *c)
{
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)bench_port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(c->fd);
		return -1;
	}
	c->ssl = SSL_new(client_ctx);
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1) {
		SSL_free(c->ssl);
		close(c->fd);
		return -1;
	}
	return 0;
}

static void conn_close(conn_t *c)
{
	SSL_shutdown(c->ssl);
	SSL_free(c->ssl);
	close(c->fd);
}

/* The Content-Length header's value in the head [buf, end), or -1. */
static long content_length(const char *buf, const char *end)
{
	static const char name[] = "content-length:";
	for (const char *p = buf; p + sizeof(name) - 1 < end; p++)
		if ((p == buf || p[-1] == '\n') && !strncasecmp(p, name, sizeof(name) - 1))
			return strtol(p + sizeof(name) - 1, NULL, 10);
	return -1;
}

/* POST one review and read the answer: 0 when it is a 200 with a body. */
static int conn_review(conn_t *c, const char *body, int keep_alive)
{
	char head[256];
	int hn = snprintf(head, sizeof(head),
	                  "POST /validate?timeout=10s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	                  "Content-Type: application/json\r\nContent-Length: %zu\r\n%s\r\n",
	                  strlen(body), keep_alive ? "" : "Connection: close\r\n");
	if (SSL_write(c->ssl, head, hn) != hn ||
	    SSL_write(c->ssl, body, (int)strlen(body)) != (int)strlen(body))
		return -1;
	char buf[16384];
	size_t got = 0;
	long want = -1;
	for (;;) {
		int n = SSL_read(c->ssl, buf + got, (int)(sizeof(buf) - 1 - got));
		if (n <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (end && want < 0) {
			long cl = content_length(buf, end);
			if (cl < 0)
				return -1;
			want = (long)(end + 4 - buf) + cl;
		}
		if (want >= 0 && (long)got >= want)
			break;
		if (got >= sizeof(buf) - 1)
			return -1;
	}
	return strncmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf, "\"uid\"") ? 0 : -1;
}

typedef struct run {
	double *ms;
	size_t n, errors;
	char **bodies;
} run_t;

static void *run_fresh(void *ud)
{
	run_t *r = ud;
	for (size_t i = 0; i < r->n; i++) {
		conn_t c;
		double t0 = bench_now_ms();
		int rc = conn_open(&c);
		if (rc == 0) {
			rc = conn_review(&c, r->bodies[i % 64], 0);
			conn_close(&c);
		}
		r->ms[i] = bench_now_ms() - t0;
		r->errors += rc != 0;
	}
	return NULL;
}

static void *run_keepalive(void *ud)
{
	run_t *r = ud;
	conn_t c;
	if (conn_open(&c) != 0) {
		r->errors = r->n;
		return NULL;
	}
	for (size_t i = 0; i < r->n; i++) {
		double t0 = bench_now_ms();
		int rc = conn_review(&c, r->bodies[i % 64], 1);
		r->ms[i] = bench_now_ms() - t0;
		r->errors += rc != 0;
	}
	conn_close(&c);
	return NULL;
}

typedef struct one {
	pthread_barrier_t *go;
	const char *body;
	double ms;
	int err;
} one_t;

static void *run_one(void *ud)
{
	one_t *o = ud;
	pthread_barrier_wait(o->go);
	conn_t c;
	double t0 = bench_now_ms();
	o->err = conn_open(&c) != 0;
	if (!o->err) {
		o->err = conn_review(&c, o->body, 0) != 0;
		conn_close(&c);
	}
	o->ms = bench_now_ms() - t0;
	return NULL;
}

static void *clients(void *ud)
{
	char **bodies = ud;
	printf("%-28s %7s %9s %9s %9s %9s %7s\n", "over HTTPS (ms)", "n", "p50", "p99", "max",
	       "min", "errors");
	run_t fresh = {
	    .ms = calloc(NREVIEWS_FRESH, sizeof(double)), .n = NREVIEWS_FRESH, .bodies = bodies};
	run_fresh(&fresh);
	print_row("fresh TLS connection", fresh.ms, fresh.n, fresh.errors);
	run_t ka = {.ms = calloc(NREVIEWS_KEEPALIVE, sizeof(double)),
	            .n = NREVIEWS_KEEPALIVE,
	            .bodies = bodies};
	run_keepalive(&ka);
	print_row("kept-alive connection", ka.ms, ka.n, ka.errors);

	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, NCONCURRENT);
	one_t ones[NCONCURRENT];
	pthread_t th[NCONCURRENT];
	double t0 = bench_now_ms();
	for (int i = 0; i < NCONCURRENT; i++) {
		ones[i] = (one_t){.go = &go, .body = bodies[i % 64]};
		pthread_create(&th[i], NULL, run_one, &ones[i]);
	}
	double cms[NCONCURRENT];
	size_t cerr = 0;
	for (int i = 0; i < NCONCURRENT; i++) {
		pthread_join(th[i], NULL);
		cms[i] = ones[i].ms;
		cerr += ones[i].err;
	}
	double wall = bench_now_ms() - t0;
	print_row("200 concurrent (each)", cms, NCONCURRENT, cerr);
	printf("%-28s %9.1f ms for all %d\n", "200 concurrent (wall)", wall, NCONCURRENT);
	pthread_barrier_destroy(&go);
	free(fresh.ms);
	free(ka.ms);
	atomic_store(&bench_done, 1);
	return NULL;
}

static void tick(evutil_socket_t fd, short what, void *ud)
{
	(void)fd;
	(void)what;
	if (atomic_load(&bench_done))
		event_base_loopbreak(ud);
}

static int make_cert(const char *dir)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
	         "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
	         "-keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
	         dir, dir);
	return system(cmd);
}

int main(void)
{
	char dir[] = "/tmp/bench-admission-XXXXXX";
	if (!mkdtemp(dir) || make_cert(dir) != 0) {
		fprintf(stderr, "bench_admission: cannot make a certificate (openssl)\n");
		return 1;
	}
	bench_port = 20000 + (int)(getpid() % 20000);
	char conf[1024];
	snprintf(conf, sizeof(conf),
	         "modules:\n  - name: tls-delegation\n  - name: httpproxy\n"
	         "  - name: admission\n    config: {address: 127.0.0.1, port: %d, "
	         "cert-file: %s/cert.pem, key-file: %s/key.pem}\n",
	         bench_port, dir, dir);
	setenv("BENCH_CONF", conf, 1);
	contour_source_t *src = NULL;
	core_t *core = bench_core_new("bench_admission", &src);
	if (!core)
		return 1;
	double t0 = bench_now_ms();
	bench_fill(src);
	contour_source_set_synced(src);
	core_pipeline_build_now(core->pipeline);
	printf("workload: %d HTTPProxies, store filled and built in %.0f ms, RSS %ld MiB\n",
	       NPROXIES, bench_now_ms() - t0, bench_rss_kib() / 1024);

	size_t n = 10000;
	double *ms = calloc(n, sizeof(double));
	double rss0 = (double)bench_rss_kib();
	double first = bench_now_ms();
	size_t denied = in_process(core, ms, 1);
	printf("first review (builds the fqdn index): %.2f ms, index RSS +%.1f MiB\n",
	       bench_now_ms() - first, ((double)bench_rss_kib() - rss0) / 1024);
	denied = in_process(core, ms, n);
	printf("%-28s %7s %9s %9s %9s %9s %7s\n", "in-process (ms)", "n", "p50", "p99", "max",
	       "min", "denied");
	print_row("contour_review_run", ms, n, denied);
	free(ms);

	char *bodies[64];
	for (int i = 0; i < 64; i++)
		bodies[i] = review_body(i);
	SSL_library_init();
	client_ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(client_ctx, TLS1_2_VERSION);
	char ca[600];
	snprintf(ca, sizeof(ca), "%s/cert.pem", dir);
	SSL_CTX_load_verify_locations(client_ctx, ca, NULL);
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_PEER, NULL);
	pthread_t th;
	pthread_create(&th, NULL, clients, bodies);
	struct event *t = event_new(core->base, -1, EV_PERSIST, tick, core->base);
	struct timeval tv = {0, 10000};
	event_add(t, &tv);
	event_base_dispatch(core->base);
	pthread_join(th, NULL);
	event_free(t);
	for (int i = 0; i < 64; i++)
		free(bodies[i]);
	SSL_CTX_free(client_ctx);
	core_free(core);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return 0;
}
