/* tests/xds/xds_testserver.c: the xDS server on its own, for the Node client.
 *
 *   xds_testserver [--insecure | --ca F --cert F --key F] [--queue-limit BYTES]
 *                  [--keepalive IDLE_MS TIMEOUT_MS]
 *
 * Prints "port N" once listening, then reads one JSON command per line on
 * stdin and answers one JSON line on stdout:
 *
 *   {"cmd":"publish","clusters":[["name","variant"],...],"listeners":[...],
 *    "routes":[...],"endpoints":[...],"secrets":[...],"runtimes":[...],"pad":N}
 *       publish a snapshot of hand-encoded Envoy messages (see below); the
 *       variant string changes a resource's content; pad adds N bytes to
 *       every cluster. Answers {"versions":{...}}.
 *   {"cmd":"stats"}  {"cpu_ms":N,"streams":N,"connections":N,"dropped":N,
 *                     "nacks":{...}}   (cpu_ms: the process's CPU time so far)
 *   {"cmd":"metrics"}  {"text":"<the registry in Prometheus text format>"}
 *   {"cmd":"quit"}   stop the server and exit 0 (so does EOF).
 *
 * Resources are real Envoy v3 messages, encoded by hand (only a name and one
 * field that carries the variant), so the client decodes them with Envoy's
 * own protos:
 *   Cluster{name=1, alt_stat_name=28}, Listener{name=1, stat_prefix=28},
 *   RouteConfiguration{name=1, virtual_hosts=2{name=1, domains=2 "*"}},
 *   ClusterLoadAssignment{cluster_name=1, endpoints=2{locality=1{zone=2}}},
 *   Secret{name=1, tls_certificate=2{certificate_chain=1{inline_string=3}}},
 *   Runtime{name=1, layer=2 Struct{"variant": string_value}}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "core/core.h"
#include "modules/xds-grpc/xds_srv.h"

typedef struct {
	uint8_t *b;
	size_t len, cap;
} pbuf_t;

static void pb_put(pbuf_t *p, const void *d, size_t n)
{
	if (p->len + n > p->cap) {
		p->cap = (p->len + n) * 2 + 64;
		p->b = realloc(p->b, p->cap);
		if (!p->b)
			abort();
	}
	memcpy(p->b + p->len, d, n);
	p->len += n;
}

static void pb_varint(pbuf_t *p, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;
	do {
		t[n] = v & 0x7f;
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	pb_put(p, t, n);
}

static void pb_bytes(pbuf_t *p, unsigned field, const void *d, size_t n)
{
	pb_varint(p, (uint64_t)field << 3 | 2);
	pb_varint(p, n);
	pb_put(p, d, n);
}

static void pb_str(pbuf_t *p, unsigned field, const char *s)
{
	pb_bytes(p, field, s, strlen(s));
}

/* field { inner_field: s } */
static void pb_nested_str(pbuf_t *p, unsigned field, unsigned inner, const char *s)
{
	pbuf_t q = {0};
	pb_str(&q, inner, s);
	pb_bytes(p, field, q.b, q.len);
	free(q.b);
}

static void xt_encode(pbuf_t *p, int t, const char *name, const char *variant, size_t pad)
{
	pbuf_t q = {0};
	switch (t) {
	case XDS_CLUSTER: {
		pb_str(p, 1, name);
		char *v = malloc(strlen(variant) + pad + 1);
		memset(v, 'x', strlen(variant) + pad);
		memcpy(v, variant, strlen(variant));
		v[strlen(variant) + pad] = 0;
		pb_str(p, 28, v);
		free(v);
		break;
	}
	case XDS_LISTENER:
		pb_str(p, 1, name);
		pb_str(p, 28, variant);
		break;
	case XDS_ROUTE:
		pb_str(p, 1, name);
		pb_str(&q, 1, variant);
		pb_str(&q, 2, "*");
		pb_bytes(p, 2, q.b, q.len);
		break;
	case XDS_ENDPOINT:
		pb_str(p, 1, name);
		pb_nested_str(&q, 1, 2, variant);
		pb_bytes(p, 2, q.b, q.len);
		break;
	case XDS_SECRET:
		pb_str(p, 1, name);
		pb_nested_str(&q, 1, 3,
		              variant); /* TlsCertificate{certificate_chain{inline_string}} */
		pb_bytes(p, 2, q.b, q.len);
		break;
	case XDS_RUNTIME: {
		/* Runtime{name=1, layer=2 Struct{fields=1 {key=1 "variant",
		 * value=2 Value{string_value=3}}}} */
		pbuf_t e = {0};
		pb_str(p, 1, name);
		pb_str(&e, 1, "variant");
		pb_nested_str(&e, 2, 3, variant);
		pb_bytes(&q, 1, e.b, e.len);
		pb_bytes(p, 2, q.b, q.len);
		free(e.b);
		break;
	}
	default:
		pb_str(p, 1, name);
		break;
	}
	free(q.b);
}

static uint64_t xt_fnv(const uint8_t *d, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= d[i];
		h *= 1099511628211ull;
	}
	return h;
}

static int xt_rescmp(const void *a, const void *b)
{
	return strcmp(((const xds_resource_t *)a)->name, ((const xds_resource_t *)b)->name);
}

static const char *const xt_keys[XDS_NTYPES] = {
    [XDS_LISTENER] = "listeners", [XDS_ROUTE] = "routes",   [XDS_CLUSTER] = "clusters",
    [XDS_ENDPOINT] = "endpoints", [XDS_SECRET] = "secrets", [XDS_RUNTIME] = "runtimes",
};

static xds_snapshot_t *xt_snapshot(json_t *cmd)
{
	xds_snapshot_t *s = calloc(1, sizeof(*s));
	size_t pad = (size_t)json_integer_value(json_object_get(cmd, "pad"));
	s->refs = 1;
	for (int t = 0; t < XDS_NTYPES; t++) {
		json_t *arr = json_object_get(cmd, xt_keys[t]), *e;
		size_t i, n = json_array_size(arr);
		s->res[t] = calloc(n ? n : 1, sizeof(xds_resource_t));
		json_array_foreach(arr, i, e)
		{
			xds_resource_t *r = &s->res[t][i];
			const char *variant = json_string_value(json_array_get(e, 1));
			pbuf_t p = {0};
			r->name = strdup(json_string_value(json_array_get(e, 0)));
			xt_encode(&p, t, r->name, variant ? variant : "", pad);
			r->bytes = p.b;
			r->len = p.len;
			r->hash = xt_fnv(p.b, p.len, 14695981039346656037ull);
		}
		s->nres[t] = n;
		qsort(s->res[t], n, sizeof(xds_resource_t), xt_rescmp);
		/* The version follows the content, as the translation's does. */
		uint64_t h = 14695981039346656037ull;
		for (i = 0; i < n; i++) {
			h = xt_fnv((const uint8_t *)s->res[t][i].name,
			           strlen(s->res[t][i].name) + 1, h);
			h = xt_fnv((const uint8_t *)&s->res[t][i].hash, 8, h);
		}
		snprintf(s->version[t], sizeof(s->version[t]), "%016llx", (unsigned long long)h);
	}
	return s;
}

typedef struct {
	core_t *core;
	xds_server_t *srv;
	struct event *ev;
	struct evbuffer *in;
} xt_t;

static void xt_reply(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(j);
}

static void xt_command(xt_t *x, const char *line)
{
	json_error_t err;
	json_t *cmd = json_loads(line, 0, &err);
	const char *c = json_string_value(json_object_get(cmd, "cmd"));
	if (!c) {
		xt_reply(json_pack("{s:s}", "error", "bad command"));
	} else if (strcmp(c, "publish") == 0) {
		xds_snapshot_t *s = xt_snapshot(cmd);
		xds_server_publish(x->srv, s);
		json_t *v = json_object();
		for (int t = 0; t < XDS_NTYPES; t++)
			json_object_set_new(v, xt_keys[t], json_string(s->version[t]));
		xds_snapshot_unref(s);
		xt_reply(json_pack("{s:o}", "versions", v));
	} else if (strcmp(c, "stats") == 0) {
		json_t *nacks = json_object();
		for (int t = 0; t < XDS_NTYPES; t++) {
			const char *l[] = {xds_type_url(t)};
			json_object_set_new(
			    nacks, xt_keys[t],
			    json_integer((json_int_t)contour_metric_value(x->srv->m_nack, l)));
		}
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		json_int_t cpu_ms = (json_int_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
		                    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
		xt_reply(json_pack("{s:I,s:I,s:I,s:I,s:o}", "cpu_ms", cpu_ms, "streams",
		                   (json_int_t)xds_server_nstreams(x->srv), "connections",
		                   (json_int_t)xds_server_nconns(x->srv), "dropped",
		                   (json_int_t)xds_server_dropped(x->srv), "nacks", nacks));
	} else if (strcmp(c, "metrics") == 0) {
		char *text = contour_metrics_render(&x->core->self, NULL);
		xt_reply(json_pack("{s:s}", "text", text ? text : ""));
		free(text);
	} else if (strcmp(c, "quit") == 0) {
		core_loop_exit(x->core);
	} else {
		xt_reply(json_pack("{s:s}", "error", "unknown command"));
	}
	json_decref(cmd);
}

static void xt_stdin(evutil_socket_t fd, short what, void *arg)
{
	xt_t *x = arg;
	int n = evbuffer_read(x->in, fd, 1 << 20);
	if (n <= 0) {
		core_loop_exit(x->core);
		return;
	}
	char *line;
	size_t len;
	while ((line = evbuffer_readln(x->in, &len, EVBUFFER_EOL_LF)) != NULL) {
		xt_command(x, line);
		free(line);
	}
}

int main(int argc, char **argv)
{
	xds_server_config_t cfg = {.address = "127.0.0.1", .port = 0};
	size_t limit = 0;
	int64_t ka_idle = 0, ka_to = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--insecure") == 0)
			cfg.insecure = 1;
		else if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
			cfg.ca_file = argv[++i];
		else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc)
			cfg.cert_file = argv[++i];
		else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
			cfg.key_file = argv[++i];
		else if (strcmp(argv[i], "--queue-limit") == 0 && i + 1 < argc)
			limit = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--keepalive") == 0 && i + 2 < argc) {
			ka_idle = strtoll(argv[++i], NULL, 10);
			ka_to = strtoll(argv[++i], NULL, 10);
		} else {
			fprintf(stderr,
			        "usage: %s [--insecure | --ca F --cert F --key F] "
			        "[--queue-limit B] [--keepalive IDLE TIMEOUT]\n",
			        argv[0]);
			return 2;
		}
	}
	core_log_configure(CORE_LOG_TEXT,
	                   getenv("XDS_TEST_DEBUG") ? CONTOUR_LOG_DEBUG : CONTOUR_LOG_INFO);
	xt_t x = {0};
	int rc = 1;
	x.core = core_new(NULL);
	if (!x.core)
		return 1;
	x.srv = xds_server_new(&x.core->self, &cfg);
	if (!x.srv)
		goto out;
	if (limit)
		xds_server_set_queue_limit(x.srv, limit);
	if (ka_idle)
		xds_server_set_keepalive(x.srv, ka_idle, ka_to);
	if (xds_server_start(x.srv) != CONTOUR_EOK)
		goto out;
	printf("port %u\n", xds_server_port(x.srv));
	fflush(stdout);
	x.in = evbuffer_new();
	x.ev = event_new(x.core->base, 0, EV_READ | EV_PERSIST, xt_stdin, &x);
	event_add(x.ev, NULL);
	core_loop_run(x.core);
	rc = 0;
out:
	if (x.ev)
		event_free(x.ev);
	if (x.in)
		evbuffer_free(x.in);
	xds_server_free(x.srv);
	core_free(x.core);
	return rc;
}
