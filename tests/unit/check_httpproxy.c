/* tests/unit/check_httpproxy.c: the httpproxy processor driven through the
 * real core (built-in module, store, build pipeline): objects go into the
 * store through a fake source, a build runs, and the statuses and the DAG
 * of the published snapshot are compared with what upstream Contour
 * produces (messages byte for byte). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"
#include "modules/httpproxy/hp.h"

extern const contour_module_desc_t contour_module;

static core_t *core;
static contour_module_t fake;
static contour_source_t *src;

/* Services every test may route to. */
static const char *hp_services =
    "apiVersion: v1\nkind: Service\nmetadata: {namespace: roots, name: home}\n"
    "spec: {ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP},\n"
    "               {name: health, port: 8081, protocol: TCP}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Service\nmetadata: {namespace: roots, name: kuard}\n"
    "spec: {ports: [{port: 80, protocol: TCP}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Service\n"
    "metadata:\n  namespace: roots\n  name: secure\n"
    "  annotations: {projectcontour.io/upstream-protocol.tls: \"443\"}\n"
    "spec: {ports: [{name: https, port: 443, protocol: TCP}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Service\nmetadata: {namespace: teama, name: blog}\n"
    "spec: {ports: [{port: 80, protocol: TCP}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Service\nmetadata: {namespace: marketing, name: site}\n"
    "spec: {ports: [{port: 80, protocol: TCP}]}\n";

/* Stands in for the tls-delegation module: TLSCertificateDelegation objects
 * become DAG delegations before the httpproxy processor runs. */
static int hp_test_delegate_one(const json_t *obj, void *ud)
{
	contour_dag_t *dag = ud;
	const char *ns =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
	size_t i, j;
	json_t *d, *t;
	json_array_foreach(json_object_get(json_object_get(obj, "spec"), "delegations"), i, d)
	{
		const char *secret = json_string_value(json_object_get(d, "secretName"));
		json_array_foreach(json_object_get(d, "targetNamespaces"), j, t)
		    contour_dag_delegate(dag, ns, secret, json_string_value(t));
	}
	return 0;
}

static int hp_test_delegations(contour_snapshot_t *building, void *ud)
{
	(void)ud;
	contour_store_foreach(&fake, "projectcontour.io/v1", "TLSCertificateDelegation",
	                      hp_test_delegate_one, contour_snapshot_dag(building));
	return CONTOUR_EOK;
}

static void setup(void)
{
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	tu_log_capture_start();
	fake = (contour_module_t){.core = core, .name = "t", .state = CORE_MOD_INITIALISING};
	ck_assert_int_eq(contour_register_source(&fake, "src", &src), CONTOUR_EOK);
	ck_assert_int_eq(contour_register_processor(&fake, "delegations", CONTOUR_ORDER_EARLY,
	                                            hp_test_delegations, NULL),
	                 CONTOUR_EOK);
}

static void teardown(void)
{
	core_free(core);
	core = NULL;
	tu_log_capture_stop();
}

static void hp_put(const char *yaml)
{
	json_t *docs = NULL;
	contour_yaml_error_t err;
	int rc = contour_yaml_parse(yaml, strlen(yaml), &docs, NULL, &err);
	ck_assert_msg(rc == CONTOUR_EOK, "yaml: %d: %s", err.line, err.message);
	size_t i;
	json_t *d;
	json_array_foreach(docs, i, d)
	{
		ck_assert_int_eq(contour_store_put_new(src, json_incref(d)), CONTOUR_EOK);
	}
	json_decref(docs);
}

static void hp_put_file(const char *fixture)
{
	json_t *docs = NULL;
	contour_yaml_error_t err;
	int rc = contour_yaml_parse_file(tu_fixture(fixture), &docs, NULL, &err);
	ck_assert_msg(rc == CONTOUR_EOK, "%s: %s", fixture, err.message);
	size_t i;
	json_t *d;
	json_array_foreach(docs, i, d)
	{
		ck_assert_int_eq(contour_store_put_new(src, json_incref(d)), CONTOUR_EOK);
	}
	json_decref(docs);
}

/* Start the module with global settings (YAML, or NULL), the standard
 * Services and Secrets, then the test's objects, and run one build. */
static void hp_run(const char *global, const char *objects)
{
	if (global)
		core->conf = tu_conf(global, NULL);
	json_t *errs = json_array();
	contour_module_t *mod = NULL;
	int rc = core_module_add_builtin(core, &contour_module, NULL, errs, &mod);
	ck_assert_msg(rc == CONTOUR_EOK, "add_builtin failed");
	json_decref(errs);
	ck_assert_int_eq(core_modules_init_start(core), CONTOUR_EOK);
	hp_put(hp_services);
	hp_put_file("httpproxy/secrets.yaml");
	if (objects)
		hp_put(objects);
	contour_source_set_synced(src);
	rc = core_pipeline_build_now(core->pipeline);
	ck_assert_msg(rc == CONTOUR_EOK, "build: %s\n%s", contour_strerror(rc), tu_log_text());
}

static void hp_rebuild(void)
{
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
}

static const json_t *hp_status(const char *ns, const char *name)
{
	contour_object_key_t key = {"projectcontour.io/v1", "HTTPProxy", ns, name};
	contour_snapshot_t *snap = contour_snapshot_current(&fake);
	ck_assert_ptr_nonnull(snap);
	return contour_snapshot_status(snap, &key);
}

static const contour_dag_t *hp_dag(void)
{
	return contour_snapshot_dag(contour_snapshot_current(&fake));
}

static char *hp_dump(const json_t *v)
{
	static char buf[8192];
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	snprintf(buf, sizeof(buf), "%s", s ? s : "(null)");
	free(s);
	return buf;
}

static const json_t *hp_cond(const char *ns, const char *name)
{
	const json_t *st = hp_status(ns, name);
	ck_assert_msg(st != NULL, "no status for %s/%s", ns, name);
	return json_array_get(json_object_get(st, "conditions"), 0);
}

static void hp_assert_current(const char *ns, const char *name, const char *want)
{
	const json_t *st = hp_status(ns, name);
	ck_assert_msg(st != NULL, "no status for %s/%s", ns, name);
	const char *cur = json_string_value(json_object_get(st, "currentStatus"));
	ck_assert_msg(cur && !strcmp(cur, want), "%s/%s: want %s, got %s", ns, name, want,
	              hp_dump(st));
}

static void hp_assert_valid(const char *ns, const char *name)
{
	hp_assert_current(ns, name, "valid");
	const json_t *c = hp_cond(ns, name);
	ck_assert_str_eq(json_string_value(json_object_get(c, "message")), "Valid HTTPProxy");
	ck_assert_ptr_null(json_object_get(c, "errors"));
}

/* The entry {type, reason, message} is among the errors (or warnings). */
static int hp_has(const char *ns, const char *name, const char *list, const char *type,
                  const char *reason, const char *message)
{
	size_t i;
	const json_t *e;
	json_array_foreach(json_object_get(hp_cond(ns, name), list), i, e)
	{
		if (!strcmp(json_string_value(json_object_get(e, "type")), type) &&
		    !strcmp(json_string_value(json_object_get(e, "reason")), reason) &&
		    !strcmp(json_string_value(json_object_get(e, "message")), message) &&
		    !strcmp(json_string_value(json_object_get(e, "status")), "True"))
			return 1;
	}
	return 0;
}

#define hp_assert_error(ns, name, type, reason, message)                                           \
	ck_assert_msg(hp_has(ns, name, "errors", type, reason, message),                           \
	              "%s/%s: want error %s/%s %s\ngot %s", ns, name, type, reason, message,       \
	              hp_dump(hp_status(ns, name)))
#define hp_assert_warning(ns, name, type, reason, message)                                         \
	ck_assert_msg(hp_has(ns, name, "warnings", type, reason, message),                         \
	              "%s/%s: want warning %s/%s %s\ngot %s", ns, name, type, reason, message,     \
	              hp_dump(hp_status(ns, name)))

/* The single error of an invalid proxy. */
static void hp_assert_only_error(const char *ns, const char *name, const char *type,
                                 const char *reason, const char *message)
{
	hp_assert_current(ns, name, "invalid");
	hp_assert_error(ns, name, type, reason, message);
	ck_assert_msg(json_array_size(json_object_get(hp_cond(ns, name), "errors")) == 1,
	              "more than one error: %s", hp_dump(hp_status(ns, name)));
}

static const contour_dag_vhost_t *hp_vhost(const char *fqdn)
{
	const contour_dag_t *dag = hp_dag();
	for (size_t i = 0; i < dag->nvhosts; i++)
		if (!strcmp(dag->vhosts[i]->fqdn, fqdn))
			return dag->vhosts[i];
	return NULL;
}

static const contour_dag_svhost_t *hp_svhost(const char *fqdn)
{
	const contour_dag_t *dag = hp_dag();
	for (size_t i = 0; i < dag->nsvhosts; i++)
		if (!strcmp(dag->svhosts[i]->vhost.fqdn, fqdn))
			return dag->svhosts[i];
	return NULL;
}

/* The route of vh whose path is (type, value). */
static const contour_dag_route_t *hp_route(const contour_dag_vhost_t *vh,
                                           contour_dag_path_type_t type, const char *value)
{
	ck_assert_msg(vh != NULL, "no such vhost");
	for (size_t i = 0; i < vh->nroutes; i++)
		if (vh->routes[i]->path.type == type && !strcmp(vh->routes[i]->path.value, value))
			return vh->routes[i];
	return NULL;
}

static const contour_dag_route_t *hp_prefix(const contour_dag_vhost_t *vh, const char *value)
{
	const contour_dag_route_t *r = hp_route(vh, CONTOUR_DAG_PATH_PREFIX, value);
	ck_assert_msg(r != NULL, "no prefix route %s on %s", value, vh->fqdn);
	return r;
}

static void hp_assert_backend(const contour_dag_route_t *r, size_t i, const char *ns,
                              const char *name, uint32_t port)
{
	ck_assert_uint_gt(r->nbackends, i);
	const contour_dag_service_t *s = &r->backends[i].cluster->service;
	ck_assert_str_eq(s->namespace_, ns);
	ck_assert_str_eq(s->name, name);
	ck_assert_uint_eq(s->port, port);
}

/* A minimal root: fqdn, one route on "/" to roots/home:80, extra spec. */
#define ROOT(ns, name, fqdn, extra)                                                                \
	"apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"                                      \
	"metadata: {namespace: " ns ", name: " name ", generation: 3}\n"                           \
	"spec:\n  virtualhost: {fqdn: " fqdn "}\n"                                                 \
	"  routes: [{conditions: [{prefix: /}], services: [{name: home, port: 80}]}]\n" extra      \
	"---\n"
#define PROXY(ns, name, spec)                                                                      \
	"apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"                                      \
	"metadata: {namespace: " ns ", name: " name "}\n"                                          \
	"spec:\n" spec "---\n"

/* ---- roots (SEED) ---- */

START_TEST(basic_root_routes_and_status)
{
	hp_run(NULL, ROOT("roots", "basic", "www.example.com", ""));
	hp_assert_valid("roots", "basic");
	const json_t *st = hp_status("roots", "basic");
	ck_assert_str_eq(json_string_value(json_object_get(st, "description")), "Valid HTTPProxy");
	const json_t *c = hp_cond("roots", "basic");
	ck_assert_str_eq(json_string_value(json_object_get(c, "type")), "Valid");
	ck_assert_str_eq(json_string_value(json_object_get(c, "status")), "True");
	ck_assert_str_eq(json_string_value(json_object_get(c, "reason")), "Valid");
	ck_assert_int_eq(json_integer_value(json_object_get(c, "observedGeneration")), 3);
	const char *t = json_string_value(json_object_get(c, "lastTransitionTime"));
	ck_assert_uint_eq(strlen(t), 20); /* 2026-11-27T04:22:00Z */
	ck_assert_int_eq(t[10], 'T');
	ck_assert_int_eq(t[19], 'Z');

	const contour_dag_vhost_t *vh = hp_vhost("www.example.com");
	ck_assert_ptr_nonnull(vh);
	ck_assert_uint_eq(vh->nroutes, 1);
	const contour_dag_route_t *r = hp_prefix(vh, "/");
	ck_assert_int_eq(r->https_redirect, 0);
	hp_assert_backend(r, 0, "roots", "home", 80);
	ck_assert_str_eq(r->origin.kind, "HTTPProxy");
	ck_assert_str_eq(r->origin.namespace_, "roots");
	ck_assert_str_eq(r->origin.name, "basic");
	ck_assert_uint_eq(hp_dag()->nsvhosts, 0);
	ck_assert_uint_eq(hp_dag()->nclusters, 1);
}
END_TEST

START_TEST(fqdn_not_specified)
{
	hp_run(NULL, PROXY("roots", "nofqdn",
	                   "  virtualhost: {fqdn: \" \"}\n"
	                   "  routes: [{services: [{name: home, port: 80}]}]\n"));
	hp_assert_only_error("roots", "nofqdn", "VirtualHostError", "FQDNNotSpecified",
	                     "Spec.VirtualHost.Fqdn must be specified");
	const json_t *st = hp_status("roots", "nofqdn");
	ck_assert_str_eq(json_string_value(json_object_get(st, "description")),
	                 "At least one error present, see Errors for details");
	const json_t *c = hp_cond("roots", "nofqdn");
	ck_assert_str_eq(json_string_value(json_object_get(c, "status")), "False");
	ck_assert_str_eq(json_string_value(json_object_get(c, "reason")), "ErrorPresent");
}
END_TEST

START_TEST(root_namespaces)
{
	hp_run("root-namespaces: [roots]\n",
	       ROOT("roots", "ok", "ok.example.com",
	            "  includes: [{name: blog, namespace: teama, conditions: [{prefix: /blog}]}]\n")
	           ROOT("teama", "notroot", "no.example.com", "") PROXY(
	               "teama", "blog", "  routes: [{services: [{name: blog, port: 80}]}]\n"));
	hp_assert_valid("roots", "ok");
	hp_assert_valid("teama", "blog");
	hp_assert_only_error("teama", "notroot", "RootNamespaceError",
	                     "RootProxyNotAllowedInNamespace",
	                     "root HTTPProxy cannot be defined in this namespace");
	ck_assert_ptr_null(hp_vhost("no.example.com"));
	hp_assert_backend(hp_prefix(hp_vhost("ok.example.com"), "/blog"), 0, "teama", "blog", 80);
}
END_TEST

START_TEST(nothing_defined)
{
	hp_run(NULL, PROXY("roots", "empty", "  virtualhost: {fqdn: empty.example.com}\n"));
	hp_assert_only_error("roots", "empty", "SpecError", "NothingDefined",
	                     "HTTPProxy.Spec must have at least one Route, Include, or a TCPProxy");
}
END_TEST

START_TEST(duplicate_fqdn_case_insensitive)
{
	hp_run(NULL, ROOT("roots", "b", "Dup.Example.com", "")
	                 ROOT("marketing", "a", "dup.example.com", "")
	                     ROOT("roots", "other", "other.example.com", ""));
	const char *msg = "fqdn \"dup.example.com\" is used in multiple HTTPProxies: "
	                  "marketing/a, roots/b";
	hp_assert_only_error("roots", "b", "VirtualHostError", "DuplicateVhost", msg);
	hp_assert_only_error("marketing", "a", "VirtualHostError", "DuplicateVhost", msg);
	ck_assert_ptr_null(hp_vhost("dup.example.com"));
	hp_assert_valid("roots", "other");
	ck_assert_ptr_nonnull(hp_vhost("other.example.com"));
}
END_TEST

START_TEST(ip_filters_incompatible)
{
	hp_run(NULL, PROXY("roots", "ip",
	                   "  virtualhost:\n    fqdn: ip.example.com\n"
	                   "    ipAllowPolicy: [{source: Peer, cidr: 10.0.0.0/8}]\n"
	                   "    ipDenyPolicy: [{source: Remote, cidr: 10.1.0.0/16}]\n"
	                   "  routes: [{services: [{name: home, port: 80}]}]\n")
	                 ROOT("roots", "fine", "fine.example.com", ""));
	hp_assert_only_error("roots", "ip", "IPFilterError", "IncompatibleIPAddressFilters",
	                     "Spec.VirtualHost.IPAllowFilterPolicy and "
	                     "Spec.VirtualHost.IPDepnyFilterPolicy cannot both be defined.");
	ck_assert_ptr_null(hp_vhost("ip.example.com"));
	hp_assert_valid("roots", "fine");
}
END_TEST

/* ---- ingress class (SEED) ---- */

#define CLASSED(name, annotations, spec_class)                                                     \
	"apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"                                      \
	"metadata: {namespace: roots, name: " name ", annotations: {" annotations "}}\n"           \
	"spec:\n  " spec_class "\n  virtualhost: {fqdn: " name ".example.com}\n"                   \
	"  routes: [{services: [{name: home, port: 80}]}]\n---\n"

START_TEST(class_default)
{
	hp_run(NULL, CLASSED("none", "", "") CLASSED("contour", "", "ingressClassName: contour")
	                 CLASSED("other", "", "ingressClassName: other")
	                     CLASSED("annot", "kubernetes.io/ingress.class: other",
	                             "ingressClassName: contour")
	                         CLASSED("annotwins", "projectcontour.io/ingress.class: contour",
	                                 "ingressClassName: other"));
	hp_assert_valid("roots", "none");
	hp_assert_valid("roots", "contour");
	hp_assert_valid("roots", "annotwins");
	ck_assert_ptr_null(hp_status("roots", "other"));
	ck_assert_ptr_null(hp_status("roots", "annot"));
	ck_assert_ptr_null(hp_vhost("other.example.com"));
	ck_assert_ptr_nonnull(hp_vhost("annotwins.example.com"));
}
END_TEST

START_TEST(class_configured)
{
	hp_run("ingress-class-name: internal,edge\n",
	       CLASSED("none", "", "") CLASSED("contour", "", "ingressClassName: contour")
	           CLASSED("internal", "", "ingressClassName: internal") CLASSED(
	               "edge", "projectcontour.io/ingress.class: edge", "ingressClassName: other")
	               CLASSED("both",
	                       "projectcontour.io/ingress.class: other, "
	                       "kubernetes.io/ingress.class: internal",
	                       ""));
	ck_assert_ptr_null(hp_status("roots", "none"));
	ck_assert_ptr_null(hp_status("roots", "contour"));
	ck_assert_ptr_null(hp_status("roots", "both"));
	hp_assert_valid("roots", "internal");
	hp_assert_valid("roots", "edge");
}
END_TEST

Suite *httpproxy_suite(void);
Suite *httpproxy_suite(void)
{
	Suite *s = suite_create("httpproxy");
	TCase *tc = tcase_create("roots");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, basic_root_routes_and_status);
	tcase_add_test(tc, fqdn_not_specified);
	tcase_add_test(tc, root_namespaces);
	tcase_add_test(tc, nothing_defined);
	tcase_add_test(tc, duplicate_fqdn_case_insensitive);
	tcase_add_test(tc, ip_filters_incompatible);
	tcase_add_test(tc, class_default);
	tcase_add_test(tc, class_configured);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(httpproxy_suite());
}
