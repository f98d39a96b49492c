/* tests/unit/check_dag.c: the DAG builder, sealing (pruning, collection,
 * order), interning, delegations, content hashes, JSON and dot output. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/dag/dag_internal.h"
#include "tests/unit/testutil.h"

static contour_snapshot_t *snap;
static contour_dag_t *dag;

static void setup(void)
{
	snap = core_snapshot_new(NULL, 1);
	dag = contour_snapshot_dag(snap);
	ck_assert_ptr_nonnull(dag);
}

static void teardown(void)
{
	contour_snapshot_unref(snap);
}

static contour_dag_cluster_t *cluster(const char *ns, const char *name, uint32_t port,
                                      const char *protocol)
{
	contour_dag_cluster_t t = {0};
	t.service.namespace_ = ns;
	t.service.name = name;
	t.service.port = port;
	t.protocol = protocol;
	return contour_dag_cluster_intern(dag, &t);
}

static contour_dag_route_t *route(const char *prefix, contour_dag_cluster_t *c)
{
	contour_dag_route_t *r = contour_dag_new(dag, sizeof(*r));
	r->path.type = CONTOUR_DAG_PATH_PREFIX;
	r->path.value = contour_dag_strdup(dag, prefix);
	if (c) {
		contour_dag_backend_t b = {.cluster = c, .weight = 1};
		ck_assert_ptr_nonnull(
		    contour_dag_push(dag, &r->backends, &r->nbackends, &b, sizeof(b)));
	}
	return r;
}

START_TEST(test_push_grows)
{
	int *list = NULL;
	size_t n = 0;
	for (int i = 0; i < 1000; i++)
		ck_assert_ptr_nonnull(contour_dag_push(dag, &list, &n, &i, sizeof(i)));
	ck_assert_int_eq(n, 1000);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(list[i], i);
}
END_TEST

START_TEST(test_vhosts_case_insensitive)
{
	contour_dag_vhost_t *a = contour_dag_vhost(dag, "Example.COM");
	ck_assert_str_eq(a->fqdn, "example.com");
	ck_assert_ptr_eq(contour_dag_vhost(dag, "example.com"), a);
	ck_assert_ptr_eq(contour_dag_find_vhost(dag, "EXAMPLE.com"), a);
	ck_assert_ptr_null(contour_dag_find_svhost(dag, "example.com"));
	contour_dag_svhost_t *s = contour_dag_svhost(dag, "example.com");
	ck_assert_str_eq(s->min_tls_version, "1.2");
	ck_assert_str_eq(s->max_tls_version, "1.3");
}
END_TEST

START_TEST(test_cluster_interning)
{
	contour_dag_cluster_t *a = cluster("default", "kuard", 80, NULL);
	ck_assert_ptr_eq(cluster("default", "kuard", 80, ""), a);
	ck_assert_ptr_ne(cluster("default", "kuard", 80, "h2"), a);
	ck_assert_ptr_ne(cluster("default", "kuard", 8080, NULL), a);
	ck_assert_ptr_ne(cluster("other", "kuard", 80, NULL), a);
	contour_dag_cluster_t t = {0};
	t.service.namespace_ = "default";
	t.service.name = "kuard";
	t.service.port = 80;
	t.lb_strategy = CONTOUR_DAG_LB_COOKIE;
	ck_assert_ptr_ne(contour_dag_cluster_intern(dag, &t), a);
	/* Strings that could fake a separator do not collide. */
	ck_assert_ptr_ne(cluster("a;b", "c", 1, NULL), cluster("a", "b;c", 1, NULL));
}
END_TEST

START_TEST(test_route_replacement)
{
	contour_dag_vhost_t *v = contour_dag_vhost(dag, "a.com");
	contour_dag_cluster_t *c1 = cluster("ns", "one", 80, NULL);
	contour_dag_cluster_t *c2 = cluster("ns", "two", 80, NULL);
	ck_assert_int_eq(contour_dag_add_route(dag, v, route("/", c1)), CONTOUR_EOK);
	ck_assert_int_eq(contour_dag_add_route(dag, v, route("/api", c1)), CONTOUR_EOK);
	/* same conditions: replaces, as upstream's map of routes */
	ck_assert_int_eq(contour_dag_add_route(dag, v, route("/", c2)), CONTOUR_EOK);
	ck_assert_int_eq(v->nroutes, 2);
	ck_assert_ptr_eq(v->routes[0]->backends[0].cluster, c2);
	/* a header condition makes it different */
	contour_dag_route_t *r = route("/", c1);
	contour_dag_header_match_t h = {
	    .name = "x-a", .value = "1", .type = CONTOUR_DAG_MATCH_EXACT};
	contour_dag_push(dag, &r->headers, &r->nheaders, &h, sizeof(h));
	ck_assert_int_eq(contour_dag_add_route(dag, v, r), CONTOUR_EOK);
	ck_assert_int_eq(v->nroutes, 3);
}
END_TEST

START_TEST(test_seal_prunes_and_collects)
{
	contour_dag_cluster_t *used = cluster("ns", "used", 80, NULL);
	contour_dag_cluster_t *tcp = cluster("ns", "tcp", 443, NULL);
	cluster("ns", "unused", 80, NULL);
	contour_dag_vhost(dag, "empty.com"); /* no routes: dropped */
	contour_dag_add_route(dag, contour_dag_vhost(dag, "b.com"), route("/", used));
	contour_dag_add_route(dag, contour_dag_vhost(dag, "a.com"), route("/", used));

	contour_dag_secret_t *sec = contour_dag_new(dag, sizeof(*sec));
	sec->namespace_ = "ns";
	sec->name = "cert";
	sec->cert = "CERT";
	sec->key = "KEY";
	/* TLS with a secret but no routes: no chain */
	contour_dag_svhost_t *lonely = contour_dag_svhost(dag, "lonely.com");
	lonely->secret = sec;
	/* TLS with routes but no secret: no chain */
	contour_dag_add_route(dag, &contour_dag_svhost(dag, "nosecret.com")->vhost,
	                      route("/", used));
	/* TLS with secret and routes: published, secret served */
	contour_dag_svhost_t *ok = contour_dag_svhost(dag, "secure.com");
	ok->secret = sec;
	contour_dag_add_route(dag, &ok->vhost, route("/", used));
	/* passthrough: tcpproxy without secret, published */
	contour_dag_svhost_t *pt = contour_dag_svhost(dag, "pass.com");
	pt->passthrough = 1;
	pt->tcpproxy = contour_dag_new(dag, sizeof(*pt->tcpproxy));
	contour_dag_backend_t b = {.cluster = tcp, .weight = 1};
	contour_dag_push(dag, &pt->tcpproxy->backends, &pt->tcpproxy->nbackends, &b, sizeof(b));

	core_snapshot_seal(snap);
	ck_assert_int_eq(dag->nvhosts, 2);
	ck_assert_str_eq(dag->vhosts[0]->fqdn, "a.com");
	ck_assert_str_eq(dag->vhosts[1]->fqdn, "b.com");
	ck_assert_int_eq(dag->nsvhosts, 2);
	ck_assert_str_eq(dag->svhosts[0]->vhost.fqdn, "pass.com");
	ck_assert_str_eq(dag->svhosts[1]->vhost.fqdn, "secure.com");
	ck_assert_int_eq(dag->nclusters, 2); /* used and tcp, not unused */
	ck_assert_int_eq(dag->nsecrets, 1);
	ck_assert_str_eq(dag->secrets[0]->name, "cert");
	ck_assert(dag->vhosts[0]->hash != 0);
	/* equal content, equal hash: a.com and b.com differ only by name */
	ck_assert(dag->vhosts[0]->hash != dag->vhosts[1]->hash);
	/* sealed: building refused */
	ck_assert_ptr_null(contour_dag_vhost(dag, "late.com"));
	ck_assert_int_eq(contour_dag_add_route(dag, dag->vhosts[0], route("/x", used)),
	                 CONTOUR_ESTATE);
}
END_TEST

/* The same content in two snapshots hashes the same; a change does not. */
START_TEST(test_hash_stable_across_snapshots)
{
	uint64_t h[3];
	for (int i = 0; i < 3; i++) {
		contour_snapshot_t *s = core_snapshot_new(NULL, 2);
		contour_dag_t *d = contour_snapshot_dag(s);
		contour_dag_cluster_t t = {0};
		t.service.namespace_ = "ns";
		t.service.name = "svc";
		t.service.port = 80;
		contour_dag_route_t *r = contour_dag_new(d, sizeof(*r));
		r->path.value = "/";
		r->timeouts.response_ms = i == 2 ? 5000 : CONTOUR_DAG_TIMEOUT_DEFAULT;
		contour_dag_backend_t b = {.cluster = contour_dag_cluster_intern(d, &t),
		                           .weight = 1};
		contour_dag_push(d, &r->backends, &r->nbackends, &b, sizeof(b));
		contour_dag_add_route(d, contour_dag_vhost(d, "x.com"), r);
		core_snapshot_seal(s);
		h[i] = d->vhosts[0]->hash;
		contour_snapshot_unref(s);
	}
	ck_assert(h[0] == h[1]);
	ck_assert(h[0] != h[2]);
}
END_TEST

START_TEST(test_delegation)
{
	ck_assert(contour_dag_delegation_permitted(dag, "a", "s", "a"));
	ck_assert(!contour_dag_delegation_permitted(dag, "a", "s", "b"));
	contour_dag_delegate(dag, "a", "s", "b");
	ck_assert(contour_dag_delegation_permitted(dag, "a", "s", "b"));
	ck_assert(!contour_dag_delegation_permitted(dag, "a", "s", "c"));
	ck_assert(!contour_dag_delegation_permitted(dag, "a", "other", "b"));
	contour_dag_delegate(dag, "a", "wild", "*");
	ck_assert(contour_dag_delegation_permitted(dag, "a", "wild", "anything"));
}
END_TEST

START_TEST(test_json_and_dot)
{
	contour_dag_cluster_t *c = cluster("default", "kuard", 80, "h2");
	contour_dag_add_route(dag, contour_dag_vhost(dag, "kuard.local"), route("/", c));
	contour_dag_secret_t *sec = contour_dag_new(dag, sizeof(*sec));
	sec->namespace_ = "default";
	sec->name = "tls";
	sec->cert = "-----BEGIN CERTIFICATE-----";
	sec->key = "-----BEGIN PRIVATE KEY----- very secret";
	contour_dag_svhost_t *s = contour_dag_svhost(dag, "kuard.local");
	s->secret = sec;
	contour_dag_add_route(dag, &s->vhost, route("/", c));
	core_snapshot_seal(snap);

	json_t *j = contour_dag_to_json(dag);
	char *text = json_dumps(j, JSON_COMPACT);
	ck_assert_ptr_null(strstr(text, "very secret"));
	ck_assert_ptr_null(strstr(text, "BEGIN"));
	json_t *vh = json_array_get(json_object_get(json_object_get(j, "http"), "virtualhosts"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(vh, "fqdn")), "kuard.local");
	json_t *cl = json_array_get(json_object_get(j, "clusters"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(cl, "protocol")), "h2");
	ck_assert_int_eq(json_integer_value(core_conf_lookup(cl, "service.port")), 80);
	json_t *sv =
	    json_array_get(json_object_get(json_object_get(j, "https"), "virtualhosts"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(sv, "secret")), "default/tls");
	ck_assert(json_is_true(
	    json_object_get(json_array_get(json_object_get(j, "secrets"), 0), "hasKey")));
	free(text);
	json_decref(j);

	char *dot = contour_dag_to_dot(dag);
	ck_assert_ptr_nonnull(dot);
	ck_assert(!strncmp(dot, "digraph DAG {", 13));
	ck_assert_ptr_nonnull(strstr(dot, "\"ingress_http\" -> \"http/kuard.local\""));
	ck_assert_ptr_nonnull(strstr(dot, "\"https/kuard.local\" -> \"secret/default/tls\""));
	ck_assert_ptr_null(strstr(dot, "very secret"));
	free(dot);
}
END_TEST

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void backend(contour_dag_route_t *r, contour_dag_cluster_t *c, uint32_t weight)
{
	contour_dag_backend_t b = {.cluster = c, .weight = weight};
	ck_assert_ptr_nonnull(contour_dag_push(dag, &r->backends, &r->nbackends, &b, sizeof(b)));
}

/* Each line of the output is a statement whose quotes balance once
 * escapes are skipped: no label can end a string early. */
static void assert_quotes_balance(const char *dot)
{
	int in = 0;
	for (const char *p = dot; *p; p++) {
		if (in && *p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '"')
			in = !in;
		if (*p == '\n')
			ck_assert_msg(!in, "a newline inside a quoted string");
	}
	ck_assert(!in);
}

START_TEST(test_dot_picture)
{
	contour_dag_cluster_t *web = cluster("shop", "web", 80, NULL);
	contour_dag_cluster_t *canary = cluster("shop", "web-canary", 80, NULL);
	contour_dag_cluster_t *odd = cluster("shop", "a\"b\\c\nd", 80, "h2");
	contour_dag_vhost_t *v = contour_dag_vhost(dag, "shop.example.com");
	contour_dag_route_t *r = route("/", NULL);
	backend(r, web, 80);
	backend(r, canary, 20);
	contour_dag_add_route(dag, v, r);
	r = route("/api", NULL);
	backend(r, web, 0);
	contour_dag_header_match_t h = {
	    .name = "x-beta", .value = "yes", .type = CONTOUR_DAG_MATCH_EXACT};
	contour_dag_push(dag, &r->headers, &r->nheaders, &h, sizeof(h));
	contour_dag_header_match_t h2 = {.name = "x-old", .type = CONTOUR_DAG_MATCH_PRESENT,
	                                 .invert = 1};
	contour_dag_push(dag, &r->headers, &r->nheaders, &h2, sizeof(h2));
	contour_dag_add_route(dag, v, r);
	r = route("/even", NULL);
	r->path.type = CONTOUR_DAG_PATH_EXACT;
	backend(r, web, 0);
	backend(r, odd, 0);
	backend(r, canary, 0);
	contour_dag_add_route(dag, v, r);

	contour_object_key_t key = {.api_version = "projectcontour.io/v1",
	                            .kind = "HTTPProxy",
	                            .namespace_ = "shop",
	                            .name = "broken"};
	json_t *st = json_pack(
	    "{s:s, s:s, s:[{s:s, s:s, s:[{s:s}]}]}", "currentStatus", "invalid", "description",
	    "At least one error present, see Errors for details", "conditions", "type", "Valid",
	    "status", "False", "errors", "message", "Service \"shop/missing\" not found");
	ck_assert_int_eq(contour_snapshot_set_status_new(snap, &key, st), CONTOUR_EOK);
	key.name = "fine";
	ck_assert_int_eq(contour_snapshot_set_status_new(
	                     snap, &key, json_pack("{s:s}", "currentStatus", "valid")),
	                 CONTOUR_EOK);
	core_snapshot_seal(snap);

	char *dot = contour_dag_to_dot(dag);
	ck_assert_ptr_nonnull(dot);
	/* One node per cluster, however many routes use it. */
	ck_assert_uint_eq(count(dot, "\"cluster/shop/web:80\" [shape=record"), 1);
	ck_assert_uint_eq(count(dot, "\"cluster/shop/web-canary:80\" [shape=record"), 1);
	ck_assert_ptr_nonnull(strstr(dot, "label=\"{cluster|shop/web:80}\""));
	/* Edges carry the match and the share. */
	ck_assert_ptr_nonnull(strstr(dot, "\"http/shop.example.com\" -> \"cluster/shop/web:80\" "
	                                  "[label=\"prefix /\\nweight 80 (80%)\"]"));
	ck_assert_ptr_nonnull(strstr(dot, "-> \"cluster/shop/web-canary:80\" "
	                                  "[label=\"prefix /\\nweight 20 (20%)\"]"));
	ck_assert_ptr_nonnull(
	    strstr(dot, "-> \"cluster/shop/web:80\" "
	                "[label=\"prefix /api\\nheader x-beta == yes\\nheader x-old absent\"]"));
	ck_assert_ptr_nonnull(strstr(dot, "[label=\"exact /even\\n33.3% (even split)\"]"));
	ck_assert_ptr_null(strstr(dot, "weight 0"));
	/* Names are escaped, in ids and in record fields. */
	ck_assert_ptr_nonnull(strstr(dot, "\"cluster/shop/a\\\"b\\\\c\\nd:80/h2\""));
	ck_assert_ptr_nonnull(strstr(dot, "shop/a\\\"b\\\\c\\nd:80|h2}"));
	assert_quotes_balance(dot);
	/* The invalid proxy, with its error; the valid one is not drawn apart. */
	ck_assert_ptr_nonnull(strstr(dot, "subgraph cluster_not_served {"));
	ck_assert_ptr_nonnull(strstr(dot, "\"HTTPProxy/shop/broken\" [shape=box, style=\"dashed\", "
	                                  "color=red"));
	ck_assert_ptr_nonnull(strstr(dot, "invalid\\nService \\\"shop/missing\\\" not found"));
	ck_assert_ptr_null(strstr(dot, "HTTPProxy/shop/fine"));
	/* No internal key leaks. */
	ck_assert_ptr_null(strstr(dot, web->key));
	ck_assert_ptr_null(strstr(dot, "0x"));
	free(dot);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dag");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_push_grows);
	tcase_add_test(tc, test_vhosts_case_insensitive);
	tcase_add_test(tc, test_cluster_interning);
	tcase_add_test(tc, test_route_replacement);
	tcase_add_test(tc, test_seal_prunes_and_collects);
	tcase_add_test(tc, test_hash_stable_across_snapshots);
	tcase_add_test(tc, test_delegation);
	tcase_add_test(tc, test_json_and_dot);
	tcase_add_test(tc, test_dot_picture);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
