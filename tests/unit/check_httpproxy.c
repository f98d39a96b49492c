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

static void setup(void)
{
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	tu_log_capture_start();
	fake = (contour_module_t){.core = core, .name = "t", .state = CORE_MOD_INITIALISING};
	ck_assert_int_eq(contour_register_source(&fake, "src", &src), CONTOUR_EOK);
	ck_assert_int_eq(tu_register_delegations(&fake), CONTOUR_EOK);
}

static void teardown(void)
{
	core_free(core);
	core = NULL;
	tu_log_capture_stop();
}

static void hp_put(const char *yaml)
{
	tu_put_docs(src, tu_yaml(yaml), 0);
}

static void hp_put_file(const char *fixture)
{
	tu_put_docs(src, tu_yaml_file(tu_fixture(fixture)), 0);
}

/* Start the module with global settings (YAML, or NULL) and put the
 * standard Services and Secrets into the store. */
static void hp_start(const char *global)
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
}

static char *hp_dump(const json_t *v);

static int hp_in(const json_t *list, const char *member, const char *msg)
{
	size_t i;
	const json_t *e;
	json_array_foreach(list, i, e)
	{
		const json_t *m = member ? json_object_get(e, member) : e;
		if (json_is_string(m) && !strcmp(json_string_value(m), msg))
			return 1;
	}
	return 0;
}

/* Every build of every test is also a test of the validator: asked about
 * each stored proxy as an unchanged UPDATE, it must find the errors the
 * build put into that proxy's status and no other. A denial is always one
 * of the status's errors; for a root, every error of its status (but a
 * collision, which an unchanged UPDATE keeps) is a denial or, when another
 * object causes it, a warning. Children are judged as the proxies they
 * include directly see them, so only the first half holds for them; an
 * orphan was never looked at by the build. */
static int hp_review_one(const json_t *obj, void *ud)
{
	(void)ud;
	const json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace")),
	           *name = json_string_value(json_object_get(meta, "name"));
	contour_object_key_t key = {"projectcontour.io/v1", "HTTPProxy", ns, name};
	const json_t *status = contour_snapshot_status(contour_snapshot_current(&fake), &key);
	contour_review_t r = {.operation = "UPDATE", .object = obj, .old_object = obj};
	contour_verdict_t *v = contour_verdict_new();
	ck_assert_int_eq(contour_review_run(&fake, "projectcontour.io/v1", "HTTPProxy", &r, v), 1);
	/* no status: another class, which the validator leaves alone */
	ck_assert_msg(!status == contour_verdict_ignored(v), "%s/%s: status %s, ignored %d", ns,
	              name, status ? "set" : "absent", contour_verdict_ignored(v));
	const json_t *cond = json_array_get(json_object_get(status, "conditions"), 0);
	const json_t *errors = json_object_get(cond, "errors");
	const char *current = json_string_value(json_object_get(status, "currentStatus"));
	if (!status || !strcmp(current, "orphaned") ||
	    hp_in(errors, "reason", "DuplicateVhost")) {
		contour_verdict_free(v);
		return 0;
	}
	size_t i;
	const json_t *d;
	json_array_foreach(contour_verdict_denials(v), i, d)
	{
		const char *msg = json_string_value(json_object_get(d, "message"));
		ck_assert_msg(hp_in(errors, "message", msg), "%s/%s: denial not in status: %s\n%s",
		              ns, name, msg, hp_dump(status));
	}
	if (json_object_get(json_object_get(obj, "spec"), "virtualhost")) {
		json_array_foreach(errors, i, d)
		{
			const char *msg = json_string_value(json_object_get(d, "message"));
			ck_assert_msg(hp_in(contour_verdict_denials(v), "message", msg) ||
			                  hp_in(contour_verdict_warnings(v), NULL, msg),
			              "%s/%s: status error neither denied nor warned: %s", ns, name,
			              msg);
		}
	}
	contour_verdict_free(v);
	return 0;
}

static void hp_review_all(void)
{
	contour_store_foreach(&fake, "projectcontour.io/v1", "HTTPProxy", hp_review_one, NULL);
}

/* The source is synced: the first build. */
static void hp_first_build(void)
{
	contour_source_set_synced(src);
	int rc = core_pipeline_build_now(core->pipeline);
	ck_assert_msg(rc == CONTOUR_EOK, "build: %s\n%s", contour_strerror(rc), tu_log_text());
	hp_review_all();
}

static void hp_run(const char *global, const char *objects)
{
	hp_start(global);
	if (objects)
		hp_put(objects);
	hp_first_build();
}

static void hp_rebuild(void)
{
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	hp_review_all();
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
	hp_assert_current(ns, name, strcmp(type, "Orphaned") ? "invalid" : "orphaned");
	hp_assert_error(ns, name, type, reason, message);
	ck_assert_msg(json_array_size(json_object_get(hp_cond(ns, name), "errors")) == 1,
	              "more than one error: %s", hp_dump(hp_status(ns, name)));
}

static const contour_dag_vhost_t *hp_vhost(const char *fqdn)
{
	return tu_dag_vhost(hp_dag(), fqdn);
}

static const contour_dag_svhost_t *hp_svhost(const char *fqdn)
{
	return tu_dag_svhost(hp_dag(), fqdn);
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

/* ---- TLS (SEED/CORE) ---- */

#define TLSROOT(name, fqdn, tls, routes)                                                           \
	"apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"                                      \
	"metadata: {namespace: roots, name: " name "}\n"                                           \
	"spec:\n  virtualhost:\n    fqdn: " fqdn "\n    tls: " tls "\n  routes: " routes "\n---\n"
#define HOME_ROUTE   "[{services: [{name: home, port: 80}]}]"
#define FALLBACK_TLS "{secretName: tls-cert, enableFallbackCertificate: true}"

START_TEST(tls_termination_and_redirect)
{
	hp_run(NULL, TLSROOT("tls", "tls.example.com",
	                     "{secretName: tls-cert, minimumProtocolVersion: \"1.3\"}",
	                     "[{conditions: [{prefix: /}], services: [{name: home, port: 80}]},"
	                     " {conditions: [{prefix: /insecure}], permitInsecure: true,"
	                     "  services: [{name: kuard, port: 80}]}]"));
	hp_assert_valid("roots", "tls");
	const contour_dag_svhost_t *sv = hp_svhost("tls.example.com");
	ck_assert_ptr_nonnull(sv);
	ck_assert_ptr_nonnull(sv->secret);
	ck_assert_str_eq(sv->secret->namespace_, "roots");
	ck_assert_str_eq(sv->secret->name, "tls-cert");
	ck_assert_str_eq(sv->min_tls_version, "1.3");
	ck_assert_str_eq(sv->max_tls_version, "1.3");
	ck_assert_uint_eq(sv->vhost.nroutes, 2);
	ck_assert_int_eq(hp_prefix(&sv->vhost, "/")->https_redirect, 0);
	hp_assert_backend(hp_prefix(&sv->vhost, "/"), 0, "roots", "home", 80);
	const contour_dag_vhost_t *vh = hp_vhost("tls.example.com");
	ck_assert_int_eq(hp_prefix(vh, "/")->https_redirect, 1);
	ck_assert_int_eq(hp_prefix(vh, "/insecure")->https_redirect, 0);
	hp_assert_backend(hp_prefix(vh, "/insecure"), 0, "roots", "kuard", 80);
	ck_assert_uint_eq(hp_dag()->nsecrets, 1);
}
END_TEST

START_TEST(tls_disable_permit_insecure)
{
	hp_run("disablePermitInsecure: true\n",
	       TLSROOT("tls", "tls.example.com", "{secretName: tls-cert}",
	               "[{permitInsecure: true, services: [{name: home, port: 80}]}]"));
	hp_assert_valid("roots", "tls");
	ck_assert_int_eq(hp_prefix(hp_vhost("tls.example.com"), "/")->https_redirect, 1);
	ck_assert_int_eq(hp_prefix(&hp_svhost("tls.example.com")->vhost, "/")->https_redirect, 0);
}
END_TEST

START_TEST(tls_config_errors)
{
	hp_run(NULL,
	       TLSROOT("both", "both.example.com", "{secretName: tls-cert, passthrough: true}",
	               HOME_ROUTE) TLSROOT("neither", "neither.example.com",
	                                   "{minimumProtocolVersion: \"1.2\"}", HOME_ROUTE)
	           TLSROOT("ptcv", "ptcv.example.com",
	                   "{passthrough: true, clientValidation: {caSecret: ca}}", HOME_ROUTE)
	               TLSROOT("versions", "versions.example.com",
	                       "{secretName: tls-cert, minimumProtocolVersion: \"1.3\","
	                       " maximumProtocolVersion: \"1.2\"}",
	                       HOME_ROUTE) TLSROOT("missing", "missing.example.com",
	                                           "{secretName: nope}", HOME_ROUTE)
	                   TLSROOT("badcert", "badcert.example.com", "{secretName: wrong-type}",
	                           HOME_ROUTE) ROOT("roots", "ok", "ok.example.com", ""));
	hp_assert_only_error(
	    "roots", "both", "TLSError", "TLSConfigNotValid",
	    "Spec.VirtualHost.TLS: both Passthrough and SecretName were specified");
	hp_assert_only_error("roots", "neither", "TLSError", "TLSConfigNotValid",
	                     "Spec.VirtualHost.TLS: neither Passthrough nor SecretName were "
	                     "specified");
	hp_assert_only_error("roots", "ptcv", "TLSError", "TLSIncompatibleFeatures",
	                     "Spec.VirtualHost.TLS passthrough cannot be combined with "
	                     "tls.clientValidation");
	hp_assert_only_error("roots", "versions", "TLSError", "TLSConfigNotValid",
	                     "Spec.Virtualhost.TLS the minimum protocol version is greater than "
	                     "the maximum protocol version");
	hp_assert_only_error("roots", "missing", "TLSError", "SecretNotValid",
	                     "Spec.VirtualHost.TLS Secret \"nope\" is invalid: Secret not found");
	hp_assert_only_error(
	    "roots", "badcert", "TLSError", "SecretNotValid",
	    "Spec.VirtualHost.TLS Secret \"wrong-type\" is invalid: secret type is "
	    "not \"kubernetes.io/tls\" or \"Opaque\"");
	/* None of them publishes anything; the valid neighbour does. */
	ck_assert_uint_eq(hp_dag()->nsvhosts, 0);
	ck_assert_ptr_null(hp_vhost("both.example.com"));
	ck_assert_ptr_null(hp_vhost("missing.example.com"));
	hp_assert_valid("roots", "ok");
	ck_assert_ptr_nonnull(hp_vhost("ok.example.com"));
}
END_TEST

START_TEST(tls_passthrough_with_fallback_still_routes)
{
	/* upstream records the error and carries on. */
	hp_run("tls:\n  fallback-certificate: {namespace: projectcontour, name: fallback}\n",
	       PROXY("roots", "pt",
	             "  virtualhost:\n    fqdn: pt.example.com\n"
	             "    tls: {passthrough: true, enableFallbackCertificate: true}\n"
	             "  tcpproxy: {services: [{name: secure, port: 443}]}\n"));
	hp_assert_only_error("roots", "pt", "TLSError", "TLSIncompatibleFeatures",
	                     "Spec.VirtualHost.TLS: both Passthrough and enableFallbackCertificate "
	                     "were specified");
	const contour_dag_svhost_t *sv = hp_svhost("pt.example.com");
	ck_assert_ptr_nonnull(sv);
	ck_assert_ptr_nonnull(sv->tcpproxy);
}
END_TEST

START_TEST(tls_delegation)
{
	const char *objs =
	    TLSROOT("cross", "cross.example.com", "{secretName: delegated/shared-cert}", HOME_ROUTE)
	        PROXY("marketing", "mkt",
	              "  virtualhost: {fqdn: mkt.example.com, tls: {secretName: "
	              "delegated/shared-cert}}\n"
	              "  routes: [{services: [{name: site, port: 80}]}]\n");
	hp_run(NULL, objs);
	hp_assert_only_error("roots", "cross", "TLSError", "DelegationNotPermitted",
	                     "Spec.VirtualHost.TLS Secret \"delegated/shared-cert\" certificate "
	                     "delegation not permitted");
	hp_assert_current("marketing", "mkt", "invalid");

	/* Delegate to roots by name, and to everyone with "*". */
	hp_put("apiVersion: projectcontour.io/v1\nkind: TLSCertificateDelegation\n"
	       "metadata: {namespace: delegated, name: d}\n"
	       "spec: {delegations: [{secretName: shared-cert, targetNamespaces: [roots]}]}\n");
	hp_rebuild();
	hp_assert_valid("roots", "cross");
	hp_assert_current("marketing", "mkt", "invalid");
	ck_assert_str_eq(hp_svhost("cross.example.com")->secret->namespace_, "delegated");
	hp_put("apiVersion: projectcontour.io/v1\nkind: TLSCertificateDelegation\n"
	       "metadata: {namespace: delegated, name: d}\n"
	       "spec: {delegations: [{secretName: shared-cert, targetNamespaces: [\"*\"]}]}\n");
	hp_rebuild();
	hp_assert_valid("marketing", "mkt");
	ck_assert_ptr_nonnull(hp_svhost("mkt.example.com"));
}
END_TEST

START_TEST(tls_fallback)
{
	hp_run(NULL, TLSROOT("fb", "fb.example.com", FALLBACK_TLS, HOME_ROUTE));
	hp_assert_only_error("roots", "fb", "TLSError", "FallbackNotPresent",
	                     "Spec.Virtualhost.TLS enabled fallback but the fallback Certificate "
	                     "Secret is not configured in Contour configuration file");
}
END_TEST

START_TEST(tls_fallback_delegation)
{
	hp_run("tls:\n  fallback-certificate: {namespace: projectcontour, name: fallback}\n",
	       TLSROOT("fb", "fb.example.com", FALLBACK_TLS, HOME_ROUTE)
	           TLSROOT("fbcv", "fbcv.example.com",
	                   "{secretName: tls-cert, enableFallbackCertificate: true,"
	                   " clientValidation: {caSecret: ca}}",
	                   HOME_ROUTE));
	hp_assert_only_error("roots", "fb", "TLSError", "FallbackNotDelegated",
	                     "Spec.VirtualHost.TLS Secret \"projectcontour/fallback\" is not "
	                     "configured for certificate delegation");
	hp_assert_only_error("roots", "fbcv", "TLSError", "TLSIncompatibleFeatures",
	                     "Spec.Virtualhost.TLS fallback & client validation are incompatible");
	ck_assert_ptr_null(hp_dag()->fallback_secret);
	hp_put("apiVersion: projectcontour.io/v1\nkind: TLSCertificateDelegation\n"
	       "metadata: {namespace: projectcontour, name: fallback}\n"
	       "spec: {delegations: [{secretName: fallback, targetNamespaces: [\"*\"]}]}\n");
	hp_rebuild();
	hp_assert_valid("roots", "fb");
	const contour_dag_svhost_t *sv = hp_svhost("fb.example.com");
	ck_assert_int_eq(sv->fallback_certificate, 1);
	ck_assert_ptr_nonnull(hp_dag()->fallback_secret);
	ck_assert_str_eq(hp_dag()->fallback_secret->name, "fallback");
}
END_TEST

START_TEST(tls_client_validation)
{
	hp_run(NULL,
	       TLSROOT("cv", "cv.example.com",
	               "{secretName: tls-cert, clientValidation: {caSecret: ca,"
	               " optionalClientCertificate: true,"
	               " forwardClientCertificate: {subject: true, dns: true}}}",
	               HOME_ROUTE)
	           TLSROOT("noca", "noca.example.com",
	                   "{secretName: tls-cert, clientValidation: {optionalClientCertificate: "
	                   "true}}",
	                   HOME_ROUTE) TLSROOT("skip", "skip.example.com",
	                                       "{secretName: tls-cert, clientValidation: "
	                                       "{skipClientCertValidation: true}}",
	                                       HOME_ROUTE)
	               TLSROOT("badca", "badca.example.com",
	                       "{secretName: tls-cert, clientValidation: {caSecret: nope}}",
	                       HOME_ROUTE)
	                   TLSROOT("xca", "xca.example.com",
	                           "{secretName: tls-cert, clientValidation: {caSecret: "
	                           "delegated/shared-ca}}",
	                           HOME_ROUTE));
	hp_assert_valid("roots", "cv");
	const contour_dag_client_validation_t *cv = hp_svhost("cv.example.com")->client_validation;
	ck_assert_ptr_nonnull(cv);
	ck_assert_ptr_nonnull(cv->ca);
	ck_assert_str_eq(cv->ca->name, "ca");
	ck_assert_int_eq(cv->optional, 1);
	ck_assert_int_eq(cv->skip_verify, 0);
	ck_assert_int_eq(cv->forward.subject, 1);
	ck_assert_int_eq(cv->forward.dns, 1);
	ck_assert_int_eq(cv->forward.cert, 0);
	/* No CA and no skip: an error, yet upstream still builds the vhost. */
	hp_assert_only_error("roots", "noca", "TLSError", "ClientValidationInvalid",
	                     "Spec.VirtualHost.TLS client validation is invalid: CA Secret must be "
	                     "specified");
	ck_assert_ptr_nonnull(hp_svhost("noca.example.com"));
	hp_assert_valid("roots", "skip");
	ck_assert_int_eq(hp_svhost("skip.example.com")->client_validation->skip_verify, 1);
	hp_assert_only_error("roots", "badca", "TLSError", "ClientValidationInvalid",
	                     "Spec.VirtualHost.TLS client validation is invalid: invalid CA Secret "
	                     "\"roots/nope\": Secret not found");
	ck_assert_ptr_null(hp_svhost("badca.example.com"));
	hp_assert_only_error("roots", "xca", "TLSError", "DelegationNotPermitted",
	                     "Spec.VirtualHost.TLS CA Secret \"delegated/shared-ca\" is invalid: "
	                     "certificate delegation not permitted");
}
END_TEST

START_TEST(tls_wildcard_fqdn)
{
	hp_run(NULL, TLSROOT("wild", "\"*.example.com\"", "{secretName: tls-cert}", HOME_ROUTE));
	hp_assert_valid("roots", "wild");
	const contour_dag_route_t *r = hp_prefix(&hp_svhost("*.example.com")->vhost, "/");
	ck_assert_uint_eq(r->nheaders, 1);
	ck_assert_str_eq(r->headers[0].name, ":authority");
	ck_assert_int_eq(r->headers[0].type, CONTOUR_DAG_MATCH_REGEX);
	ck_assert_str_eq(r->headers[0].value,
	                 "^[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.example\\.com(:[0-9]+)?");
}
END_TEST

/* ---- includes and orphans (SEED) ---- */

START_TEST(includes_merge_and_cross_namespace)
{
	hp_run(NULL,
	       PROXY("roots", "root",
	             "  virtualhost: {fqdn: inc.example.com}\n"
	             "  includes:\n"
	             "  - {name: blog, namespace: teama, conditions: [{prefix: /blog}]}\n"
	             "  - {name: local, conditions: [{prefix: /local}, {header: {name: x-a, "
	             "present: true}}]}\n"
	             "  routes: [{services: [{name: home, port: 80}]}]\n")
	           PROXY("teama", "blog",
	                 "  routes:\n"
	                 "  - {services: [{name: blog, port: 80}]}\n"
	                 "  - {conditions: [{prefix: /}], services: [{name: blog, port: 80}]}\n"
	                 "  - {conditions: [{prefix: /admin}], services: [{name: blog, port: "
	                 "80}]}\n") PROXY("roots", "local",
	                                  "  routes: [{conditions: [{prefix: /x}], services: "
	                                  "[{name: kuard, port: 80}]}]\n"));
	hp_assert_valid("roots", "root");
	hp_assert_valid("teama", "blog");
	hp_assert_valid("roots", "local");
	const contour_dag_vhost_t *vh = hp_vhost("inc.example.com");
	ck_assert_uint_eq(vh->nroutes, 5);
	hp_assert_backend(hp_prefix(vh, "/blog"), 0, "teama", "blog", 80);
	hp_assert_backend(hp_prefix(vh, "/blog/"), 0, "teama", "blog", 80);
	hp_assert_backend(hp_prefix(vh, "/blog/admin"), 0, "teama", "blog", 80);
	const contour_dag_route_t *x = hp_prefix(vh, "/local/x");
	hp_assert_backend(x, 0, "roots", "kuard", 80);
	ck_assert_uint_eq(x->nheaders, 1);
	ck_assert_str_eq(x->headers[0].name, "x-a");
	ck_assert_int_eq(x->headers[0].type, CONTOUR_DAG_MATCH_PRESENT);
	ck_assert_str_eq(x->origin.name, "local");
	hp_assert_backend(hp_prefix(vh, "/"), 0, "roots", "home", 80);
}
END_TEST

START_TEST(includes_errors_and_502)
{
	hp_run(NULL, PROXY("roots", "root",
	                   "  virtualhost: {fqdn: inc.example.com}\n"
	                   "  includes:\n"
	                   "  - {name: missing, conditions: [{prefix: /missing}]}\n"
	                   "  - {name: nocond}\n"
	                   "  - {name: other, conditions: [{prefix: /other}]}\n"
	                   "  - {name: child, conditions: [{exact: /foo}]}\n"
	                   "  - {name: child, conditions: [{prefix: /a}]}\n"
	                   "  - {name: child, namespace: roots, conditions: [{prefix: /a}]}\n"
	                   "  routes: [{services: [{name: home, port: 80}]}]\n")
	                 ROOT("roots", "other", "other.example.com", "")
	                     PROXY("roots", "child",
	                           "  routes: [{services: [{name: kuard, port: 80}]}]\n"));
	hp_assert_current("roots", "root", "invalid");
	hp_assert_error("roots", "root", "IncludeError", "IncludeNotFound",
	                "include roots/missing not found");
	hp_assert_error("roots", "root", "IncludeError", "IncludeNotFound",
	                "include roots/nocond not found");
	hp_assert_error("roots", "root", "IncludeError", "RootIncludesRoot",
	                "root httpproxy cannot include another root httpproxy (roots/other)");
	hp_assert_error("roots", "root", "IncludeError", "PathMatchConditionsNotValid",
	                "include: exact conditions are not allowed in includes block");
	hp_assert_error("roots", "root", "IncludeError", "DuplicateMatchConditions",
	                "duplicate conditions defined on an include");
	ck_assert_uint_eq(json_array_size(json_object_get(hp_cond("roots", "root"), "errors")), 5);
	const contour_dag_vhost_t *vh = hp_vhost("inc.example.com");
	/* 502 only for includes with conditions; the valid parts still route. */
	ck_assert_uint_eq(hp_prefix(vh, "/missing")->direct_response->status_code, 502);
	ck_assert_uint_eq(hp_prefix(vh, "/missing")->nbackends, 0);
	ck_assert_uint_eq(hp_prefix(vh, "/other")->direct_response->status_code, 502);
	hp_assert_backend(hp_prefix(vh, "/a"), 0, "roots", "kuard", 80);
	hp_assert_backend(hp_prefix(vh, "/"), 0, "roots", "home", 80);
	ck_assert_uint_eq(vh->nroutes, 4);
	hp_assert_valid("roots", "child");
	hp_assert_valid("roots", "other");
}
END_TEST

START_TEST(includes_cycle)
{
	hp_run(NULL,
	       PROXY("roots", "parent",
	             "  virtualhost: {fqdn: cycle.example.com}\n"
	             "  includes: [{name: child, conditions: [{prefix: /c}]}]\n"
	             "  routes: [{services: [{name: home, port: 80}]}]\n")
	           PROXY("roots", "child",
	                 "  includes: [{name: grandchild}]\n"
	                 "  routes: [{services: [{name: kuard, port: 80}]}]\n")
	               PROXY("roots", "grandchild",
	                     "  includes: [{name: child}]\n"
	                     "  routes: [{conditions: [{prefix: /g}], services: [{name: kuard, "
	                     "port: 80}]}]\n")
	                   PROXY("roots", "selfroot",
	                         "  virtualhost: {fqdn: self.example.com}\n"
	                         "  includes: [{name: selfroot, conditions: [{prefix: /s}]}]\n"
	                         "  routes: [{services: [{name: home, port: 80}]}]\n"));
	hp_assert_valid("roots", "parent");
	hp_assert_valid("roots", "grandchild");
	/* The child's later, valid visit does not hide the cycle error. */
	hp_assert_only_error("roots", "child", "IncludeError", "IncludeCreatesCycle",
	                     "include creates an include cycle: roots/parent -> roots/child -> "
	                     "roots/grandchild -> roots/child");
	const contour_dag_vhost_t *vh = hp_vhost("cycle.example.com");
	hp_assert_backend(hp_prefix(vh, "/c"), 0, "roots", "kuard", 80);
	hp_assert_backend(hp_prefix(vh, "/c/g"), 0, "roots", "kuard", 80);
	hp_assert_only_error("roots", "selfroot", "IncludeError", "RootIncludesRoot",
	                     "root httpproxy cannot include another root httpproxy "
	                     "(roots/selfroot)");
	ck_assert_uint_eq(
	    hp_prefix(hp_vhost("self.example.com"), "/s")->direct_response->status_code, 502);
}
END_TEST

START_TEST(orphans)
{
	hp_run(NULL,
	       PROXY("teama", "lonely", "  routes: [{services: [{name: blog, port: 80}]}]\n")
	           PROXY("roots", "badroot",
	                 "  virtualhost: {fqdn: bad.example.com, tls: {secretName: nope}}\n"
	                 "  includes: [{name: kid}]\n")
	               PROXY("roots", "kid", "  routes: [{services: [{name: home, port: 80}]}]\n")
	                   ROOT("roots", "good", "good.example.com", ""));
	const char *msg = "this HTTPProxy is not part of a delegation chain from a root HTTPProxy";
	hp_assert_only_error("teama", "lonely", "Orphaned", "Orphaned", msg);
	hp_assert_current("teama", "lonely", "orphaned");
	ck_assert_str_eq(
	    json_string_value(json_object_get(hp_status("teama", "lonely"), "description")), msg);
	/* A child of a root that failed before its includes is orphaned too. */
	hp_assert_current("roots", "kid", "orphaned");
	hp_assert_current("roots", "badroot", "invalid");
	hp_assert_valid("roots", "good");

	/* Gauges: per namespace (and vhost for valid/invalid). */
	httpproxy_ctx_t *ctx = NULL;
	for (size_t i = 0; i < core->nmods; i++)
		if (!strcmp(core->mods[i]->name, "httpproxy"))
			ctx = core->mods[i]->ctx;
	ck_assert_ptr_nonnull(ctx);
	const char *roots[] = {"roots"}, *teama[] = {"teama"};
	const char *good[] = {"roots", "good.example.com"}, *bad[] = {"roots", "bad.example.com"};
	ck_assert_double_eq(contour_metric_value(ctx->m_total, roots), 3);
	ck_assert_double_eq(contour_metric_value(ctx->m_total, teama), 1);
	ck_assert_double_eq(contour_metric_value(ctx->m_orphaned, roots), 1);
	ck_assert_double_eq(contour_metric_value(ctx->m_orphaned, teama), 1);
	ck_assert_double_eq(contour_metric_value(ctx->m_valid, good), 1);
	ck_assert_double_eq(contour_metric_value(ctx->m_invalid, bad), 1);
	ck_assert_double_eq(contour_metric_value(ctx->m_root, roots), 1);

	/* Deleting the orphan resets its gauges on the next build. */
	contour_object_key_t key = {"projectcontour.io/v1", "HTTPProxy", "teama", "lonely"};
	ck_assert_int_eq(contour_store_delete(src, &key), CONTOUR_EOK);
	hp_rebuild();
	ck_assert_ptr_null(hp_status("teama", "lonely"));
	ck_assert_double_eq(contour_metric_value(ctx->m_total, teama), 0);
	ck_assert_double_eq(contour_metric_value(ctx->m_orphaned, teama), 0);
}
END_TEST

/* ---- routes and services (SEED/CORE) ---- */

#define ROUTES(name, routes)                                                                       \
	PROXY("roots", name, "  virtualhost: {fqdn: " name ".example.com}\n  routes:\n" routes)

START_TEST(services_unresolved_and_503)
{
	hp_run(NULL, ROUTES("svc",
	                    "  - {conditions: [{prefix: /mixed}], services: [{name: invalid, port: "
	                    "80}, {name: home, port: 80}]}\n"
	                    "  - {conditions: [{prefix: /none}], services: [{name: home, port: "
	                    "9999}]}\n"));
	hp_assert_current("roots", "svc", "invalid");
	hp_assert_error("roots", "svc", "ServiceError", "ServiceUnresolvedReference",
	                "Spec.Routes unresolved service reference: service \"roots/invalid\" not "
	                "found");
	hp_assert_error("roots", "svc", "ServiceError", "ServiceUnresolvedReference",
	                "Spec.Routes unresolved service reference: port \"9999\" on service "
	                "\"roots/home\" not matched");
	const contour_dag_vhost_t *vh = hp_vhost("svc.example.com");
	const contour_dag_route_t *mixed = hp_prefix(vh, "/mixed");
	ck_assert_uint_eq(mixed->nbackends, 1);
	hp_assert_backend(mixed, 0, "roots", "home", 80);
	ck_assert_ptr_null(mixed->direct_response);
	const contour_dag_route_t *none = hp_prefix(vh, "/none");
	ck_assert_uint_eq(none->nbackends, 0);
	ck_assert_uint_eq(none->direct_response->status_code, 503);
}
END_TEST

START_TEST(services_port_and_action_errors)
{
	hp_run(NULL,
	       ROUTES("port", "  - {services: [{name: home, port: 70000}]}\n")
	           ROUTES("action", "  - {services: [{name: home, port: 80}],"
	                            " directResponsePolicy: {statusCode: 200}}\n")
	               ROUTES("noaction", "  - {conditions: [{prefix: /}]}\n")
	                   ROUTES("path", "  - {conditions: [{prefix: /a}, {prefix: /b}],"
	                                  " services: [{name: home, port: 80}]}\n")
	                       ROUTES("slash", "  - {conditions: [{prefix: api}],"
	                                       " services: [{name: home, port: 80}]}\n")
	                           ROUTES("hdr", "  - {conditions: [{header: {name: x, "
	                                         "present: true}}, {header: {name: x, "
	                                         "notpresent: true}}], services: [{name: "
	                                         "home, port: 80}]}\n")
	                               ROUTES("proto", "  - {services: [{name: home, port: 80, "
	                                               "protocol: udp}]}\n")
	                                   ROOT("roots", "fine", "fine.example.com", ""));
	hp_assert_only_error("roots", "port", "ServiceError", "ServicePortInvalid",
	                     "service \"home\": port must be in the range 1-65535");
	const char *action =
	    "must set exactly one of route.services or route.requestRedirectPolicy "
	    "or route.directResponsePolicy";
	hp_assert_only_error("roots", "action", "RouteError", "RouteActionCountNotValid", action);
	hp_assert_only_error("roots", "noaction", "RouteError", "RouteActionCountNotValid", action);
	hp_assert_only_error("roots", "path", "RouteError", "PathMatchConditionsNotValid",
	                     "route: more than one prefix, exact or regex is not allowed in a "
	                     "condition block");
	hp_assert_only_error("roots", "slash", "RouteError", "PathMatchConditionsNotValid",
	                     "route: prefix conditions must start with /, api was supplied");
	hp_assert_only_error("roots", "hdr", "RouteError", "HeaderMatchConditionsNotValid",
	                     "cannot specify contradictory 'present' and 'notpresent' conditions "
	                     "for the same route and header");
	hp_assert_only_error("roots", "proto", "ServiceError", "UnsupportedProtocol",
	                     "unsupported protocol: udp");
	/* A route error drops every route of the proxy: no vhost at all. */
	ck_assert_ptr_null(hp_vhost("port.example.com"));
	ck_assert_ptr_null(hp_vhost("action.example.com"));
	ck_assert_ptr_null(hp_vhost("path.example.com"));
	hp_assert_valid("roots", "fine");
	ck_assert_ptr_nonnull(hp_vhost("fine.example.com"));
}
END_TEST

START_TEST(services_weights_and_mirror)
{
	hp_run(NULL,
	       ROUTES("w", "  - {conditions: [{prefix: /w}], services: [{name: home, port: 80, "
	                   "weight: 90}, {name: kuard, port: 80, weight: 10}]}\n"
	                   "  - {conditions: [{prefix: /zero}], services: [{name: home, port: "
	                   "80}, {name: kuard, port: 80}]}\n"
	                   "  - {conditions: [{prefix: /m}], services: [{name: home, port: 80}, "
	                   "{name: kuard, port: 80, mirror: true, weight: 25}]}\n"
	                   "  - {conditions: [{prefix: /mall}], services: [{name: home, port: "
	                   "80}, {name: kuard, port: 80, mirror: true}]}\n")
	           ROUTES("twomirrors",
	                  "  - {services: [{name: home, port: 80, mirror: true}, {name: "
	                  "kuard, port: 80, mirror: true}]}\n"));
	hp_assert_valid("roots", "w");
	const contour_dag_vhost_t *vh = hp_vhost("w.example.com");
	const contour_dag_route_t *w = hp_prefix(vh, "/w");
	ck_assert_uint_eq(w->nbackends, 2);
	ck_assert_uint_eq(w->backends[0].weight, 90);
	ck_assert_uint_eq(w->backends[1].weight, 10);
	const contour_dag_route_t *z = hp_prefix(vh, "/zero");
	ck_assert_uint_eq(z->nbackends, 2);
	ck_assert_uint_eq(z->backends[0].weight, 0); /* an even split; Envoy gets 1 each */
	const contour_dag_route_t *m = hp_prefix(vh, "/m");
	ck_assert_uint_eq(m->nbackends, 1);
	ck_assert_uint_eq(m->nmirrors, 1);
	ck_assert_str_eq(m->mirrors[0].cluster->service.name, "kuard");
	ck_assert_uint_eq(m->mirrors[0].percent, 25);
	ck_assert_uint_eq(hp_prefix(vh, "/mall")->mirrors[0].percent, 100);
	hp_assert_only_error("roots", "twomirrors", "ServiceError", "OnlyOneMirror",
	                     "only one service per route may be nominated as mirror");
	/* Clusters are interned: home:80 and kuard:80 once each. */
	ck_assert_uint_eq(hp_dag()->nclusters, 2);
}
END_TEST

START_TEST(services_protocol_and_upstream_validation)
{
	hp_run(
	    NULL,
	    ROUTES("up",
	           "  - {conditions: [{prefix: /annot}], services: [{name: secure, port: 443}]}\n"
	           "  - {conditions: [{prefix: /h2c}], services: [{name: secure, port: 443, "
	           "protocol: h2c}]}\n"
	           "  - {conditions: [{prefix: /v}], services: [{name: secure, port: 443, "
	           "validation: {caSecret: ca, subjectName: backend.example.com}}]}\n"
	           "  - {conditions: [{prefix: /vs}], services: [{name: secure, port: 443,"
	           " validation: {caSecret: ca, subjectName: a.example.com,"
	           " subjectNames: [a.example.com, b.example.com]}}]}\n"
	           "  - {conditions: [{prefix: /plain}], requestHeadersPolicy: {set: [{name: "
	           "Host, value: sni.example.com}]}, services: [{name: home, port: 80, "
	           "validation: {caSecret: nope, subjectName: x}}]}\n")
	        ROUTES("nosan", "  - {services: [{name: secure, port: 443, validation: "
	                        "{caSecret: ca}}]}\n")
	            ROUTES("mismatch", "  - {services: [{name: secure, port: 443, validation: "
	                               "{caSecret: ca, subjectName: a, subjectNames: [b, a]}}]}\n")
	                ROUTES("noca", "  - {services: [{name: secure, port: 443, validation: "
	                               "{caSecret: nope, subjectName: a}}]}\n")
	                    ROUTES("xca", "  - {services: [{name: secure, port: 443, "
	                                  "validation: {caSecret: delegated/shared-ca, "
	                                  "subjectName: a}}]}\n"));
	hp_assert_valid("roots", "up");
	const contour_dag_vhost_t *vh = hp_vhost("up.example.com");
	ck_assert_str_eq(hp_prefix(vh, "/annot")->backends[0].cluster->protocol, "tls");
	ck_assert_str_eq(hp_prefix(vh, "/h2c")->backends[0].cluster->protocol, "h2c");
	const contour_dag_cluster_t *v = hp_prefix(vh, "/v")->backends[0].cluster;
	ck_assert_ptr_nonnull(v->validation_ca);
	ck_assert_str_eq(v->validation_ca->name, "ca");
	ck_assert_uint_eq(v->nsubject_names, 1);
	ck_assert_str_eq(v->subject_names[0], "backend.example.com");
	const contour_dag_cluster_t *vs = hp_prefix(vh, "/vs")->backends[0].cluster;
	ck_assert_uint_eq(vs->nsubject_names, 2);
	ck_assert_str_eq(vs->subject_names[1], "b.example.com");
	/* Validation only applies to tls/h2; the Host rewrite becomes the SNI. */
	const contour_dag_cluster_t *plain = hp_prefix(vh, "/plain")->backends[0].cluster;
	ck_assert_ptr_null(plain->validation_ca);
	ck_assert_str_eq(plain->protocol, "");
	ck_assert_str_eq(plain->sni, "sni.example.com");

	hp_assert_only_error("roots", "nosan", "ServiceError", "TLSUpstreamValidation",
	                     "Service [secure:443] TLS upstream validation policy error: missing "
	                     "subject alternative name");
	hp_assert_only_error("roots", "mismatch", "ServiceError", "TLSUpstreamValidation",
	                     "Service [secure:443] TLS upstream validation policy error: first "
	                     "entry of SubjectNames (b) does not match SubjectName (a)");
	hp_assert_only_error(
	    "roots", "noca", "ServiceError", "TLSUpstreamValidation",
	    "Service [secure:443] TLS upstream validation policy error: invalid CA "
	    "Secret \"roots/nope\": Secret not found");
	hp_assert_only_error(
	    "roots", "xca", "TLSError", "CACertificateNotDelegated",
	    "service.UpstreamValidation.CACertificate Secret "
	    "\"delegated/shared-ca\" is not configured for certificate delegation");
}
END_TEST

START_TEST(routes_policies_and_health_port)
{
	hp_run(NULL, ROUTES("pol", "  - conditions: [{prefix: /ws}]\n"
	                           "    enableWebsockets: true\n"
	                           "    services: [{name: home, port: 80}]\n"
	                           "  - conditions: [{prefix: /hc}]\n"
	                           "    healthCheckPolicy: {path: /healthz}\n"
	                           "    services: [{name: home, port: 80, healthPort: 8081}]\n"
	                           "  - conditions: [{prefix: /nohc}]\n"
	                           "    services: [{name: home, port: 80, healthPort: 8081}]\n"
	                           "  - conditions: [{prefix: /redirect}]\n"
	                           "    requestRedirectPolicy: {hostname: elsewhere.example.com}\n"
	                           "  - conditions: [{prefix: /direct}]\n"
	                           "    directResponsePolicy: {statusCode: 418}\n"
	                           "  - conditions: [{exact: /exact}]\n"
	                           "    services: [{name: kuard, port: 80}]\n"
	                           "  - conditions: [{prefix: /rw}]\n"
	                           "    pathRewritePolicy: {replacePrefix: [{replacement: /new}]}\n"
	                           "    services: [{name: kuard, port: 80}]\n"
	                           "    rateLimitPolicy: {local: {requests: 1, unit: second}}\n"));
	hp_assert_valid("roots", "pol");
	hp_assert_warning("roots", "pol", "SpecError", "IgnoredField",
	                  "ignoring field \"Spec.Routes.RateLimitPolicy\"; not supported by this "
	                  "implementation");
	const contour_dag_vhost_t *vh = hp_vhost("pol.example.com");
	ck_assert_int_eq(hp_prefix(vh, "/ws")->websockets, 1);
	ck_assert_int_eq(hp_prefix(vh, "/hc")->websockets, 0);
	const contour_dag_cluster_t *hc = hp_prefix(vh, "/hc")->backends[0].cluster;
	ck_assert_ptr_nonnull(hc->health_check);
	ck_assert_uint_eq(hc->service.health_port, 8081);
	/* healthPort only counts with a health check policy. */
	const contour_dag_cluster_t *nohc = hp_prefix(vh, "/nohc")->backends[0].cluster;
	ck_assert_ptr_null(nohc->health_check);
	ck_assert_uint_ne(nohc->service.health_port, 8081);
	ck_assert_ptr_nonnull(hp_prefix(vh, "/redirect")->redirect);
	ck_assert_ptr_null(hp_prefix(vh, "/redirect")->direct_response);
	ck_assert_uint_eq(hp_prefix(vh, "/direct")->direct_response->status_code, 418);
	ck_assert_ptr_nonnull(hp_route(vh, CONTOUR_DAG_PATH_EXACT, "/exact"));
	/* upstream's expandPrefixMatches: /rw -> /new and /rw/ -> /new/. */
	const contour_dag_route_t *rw = hp_prefix(vh, "/rw");
	ck_assert_uint_eq(rw->nprefix_rewrites, 1);
	ck_assert_str_eq(rw->prefix_rewrites[0].replacement, "/new");
	const contour_dag_route_t *rws = hp_prefix(vh, "/rw/");
	ck_assert_uint_eq(rws->nprefix_rewrites, 1);
	ck_assert_str_eq(rws->prefix_rewrites[0].replacement, "/new/");
}
END_TEST

/* ---- global header policies (policy.request-headers, response-headers) ---- */

/* The header policy's value for name, or NULL. */
static const char *hp_hdr(const contour_dag_header_policy_t *p, const char *name)
{
	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < p->nset; i++)
		if (!strcmp(p->set[i].name, name))
			return p->set[i].value;
	return NULL;
}

static const char *hp_global_policies =
    "policy:\n"
    "  request-headers:\n"
    "    set: {X-Env: prod, host: default.example.com,\n"
    "          x-svc: \"%CONTOUR_NAMESPACE%/%CONTOUR_SERVICE_NAME%:%CONTOUR_SERVICE_PORT%\"}\n"
    "    remove: [x-internal]\n"
    "  response-headers:\n"
    "    set: {x-served-by: contour}\n"
    "    remove: [Server]\n";

START_TEST(global_header_policies)
{
	hp_run(hp_global_policies,
	       ROUTES("hdr",
	              "  - conditions: [{prefix: /plain}]\n"
	              "    services: [{name: home, port: 80}]\n"
	              "  - conditions: [{prefix: /own}]\n"
	              "    services:\n"
	              "    - name: kuard\n"
	              "      port: 80\n"
	              "      requestHeadersPolicy:\n"
	              "        set: [{name: x-env, value: dev}, {name: Host, value: "
	              "mine.example.com}]\n"
	              "        remove: [X-Internal, x-other]\n"
	              "      responseHeadersPolicy: {set: [{name: X-Served-By, value: me}]}\n"
	              "  - conditions: [{prefix: /route}]\n"
	              "    requestHeadersPolicy: {set: [{name: x-route, value: r}, {name: host, "
	              "value: route.example.com}]}\n"
	              "    services: [{name: home, port: 80}]\n"
	              "  - conditions: [{prefix: /dyn}]\n"
	              "    services:\n"
	              "    - {name: kuard, port: 80, requestHeadersPolicy: {set: [{name: Host, "
	              "value: \"%REQ(x-host)%\"}]}}\n"));
	hp_assert_valid("roots", "hdr");
	const contour_dag_vhost_t *vh = hp_vhost("hdr.example.com");

	/* Only the defaults, expanded for the service. */
	const contour_dag_route_t *plain = hp_prefix(vh, "/plain");
	const contour_dag_backend_t *be = &plain->backends[0];
	ck_assert_str_eq(hp_hdr(be->request_headers, "X-Env"), "prod");
	ck_assert_str_eq(hp_hdr(be->request_headers, "X-Svc"), "roots/home:80");
	ck_assert_uint_eq(be->request_headers->nset, 2);
	ck_assert_str_eq(be->request_headers->host_rewrite, "default.example.com");
	ck_assert_uint_eq(be->request_headers->nremove, 1);
	ck_assert_str_eq(be->request_headers->remove[0], "X-Internal");
	ck_assert_str_eq(hp_hdr(be->response_headers, "X-Served-By"), "contour");
	ck_assert_uint_eq(be->response_headers->nremove, 1);
	ck_assert_str_eq(be->response_headers->remove[0], "Server");
	/* Upstream's determineSNI sees the merged service policy. */
	ck_assert_str_eq(be->cluster->sni, "default.example.com");
	/* Route-level policies never take the defaults. */
	ck_assert_ptr_null(plain->request_headers);
	ck_assert_ptr_null(plain->response_headers);

	/* The service's own headers and Host win; removes are not doubled. */
	be = &hp_prefix(vh, "/own")->backends[0];
	ck_assert_str_eq(hp_hdr(be->request_headers, "X-Env"), "dev");
	ck_assert_str_eq(hp_hdr(be->request_headers, "X-Svc"), "roots/kuard:80");
	ck_assert_str_eq(be->request_headers->host_rewrite, "mine.example.com");
	ck_assert_uint_eq(be->request_headers->nremove, 2);
	ck_assert_str_eq(be->request_headers->remove[0], "X-Internal");
	ck_assert_str_eq(be->request_headers->remove[1], "X-Other");
	ck_assert_str_eq(hp_hdr(be->response_headers, "X-Served-By"), "me");
	ck_assert_uint_eq(be->response_headers->nset, 1);
	ck_assert_str_eq(be->cluster->sni, "mine.example.com");

	/* A route Host stays on the route; the service's default Host wins
	 * the SNI, as upstream orders it. */
	const contour_dag_route_t *route = hp_prefix(vh, "/route");
	ck_assert_str_eq(route->request_headers->host_rewrite, "route.example.com");
	ck_assert_ptr_null(hp_hdr(route->request_headers, "X-Env"));
	ck_assert_str_eq(route->backends[0].request_headers->host_rewrite, "default.example.com");
	ck_assert_str_eq(route->backends[0].cluster->sni, "default.example.com");

	/* A service's own %REQ()% Host is accepted and ignored (upstream):
	 * the default Host applies. */
	be = &hp_prefix(vh, "/dyn")->backends[0];
	ck_assert_str_eq(be->request_headers->host_rewrite, "default.example.com");
	ck_assert_ptr_null(be->request_headers->host_rewrite_header);
}
END_TEST

/* Without globals, a service's own %REQ()% Host is still no error. */
START_TEST(service_dynamic_host_ignored)
{
	hp_run(NULL, ROUTES("dyn", "  - services:\n"
	                           "    - {name: kuard, port: 80, requestHeadersPolicy: {set: "
	                           "[{name: Host, value: \"%REQ(x-host)%\"}]}}\n"));
	hp_assert_valid("roots", "dyn");
	const contour_dag_backend_t *be = &hp_prefix(hp_vhost("dyn.example.com"), "/")->backends[0];
	ck_assert_ptr_null(be->request_headers->host_rewrite);
	ck_assert_ptr_null(be->request_headers->host_rewrite_header);
	ck_assert_ptr_null(be->cluster->sni);
}
END_TEST

START_TEST(global_header_policy_dynamic_host)
{
	hp_run("policy:\n  request-headers:\n    set: {Host: \"%REQ(x-host)%\"}\n",
	       ROUTES("dflt", "  - services: [{name: home, port: 80}]\n")
	           ROUTES("own", "  - services:\n"
	                         "    - {name: home, port: 80, requestHeadersPolicy: {set: "
	                         "[{name: host, value: own.example.com}]}}\n"));
	hp_assert_only_error("roots", "dflt", "ServiceError", "RequestHeadersPolicyInvalid",
	                     "rewriting \"Host\" host header with dynamic value is not supported "
	                     "on service on request headers");
	ck_assert_ptr_null(hp_vhost("dflt.example.com"));
	/* The user's static Host wins, so the dynamic default is never read. */
	hp_assert_valid("roots", "own");
	const contour_dag_backend_t *be = &hp_prefix(hp_vhost("own.example.com"), "/")->backends[0];
	ck_assert_str_eq(be->request_headers->host_rewrite, "own.example.com");
}
END_TEST

START_TEST(global_header_policy_response_host)
{
	hp_run("policy:\n  response-headers:\n    set: {host: a.example.com}\n",
	       ROUTES("resp", "  - services: [{name: home, port: 80}]\n")
	           ROUTES("redir", "  - requestRedirectPolicy: {hostname: x.example.com}\n"));
	hp_assert_only_error("roots", "resp", "ServiceError", "ResponseHeadersPolicyInvalid",
	                     "rewriting \"Host\" header is not supported on response headers");
	/* No service, no service-level policy: nothing to merge into. */
	hp_assert_valid("roots", "redir");
}
END_TEST

/* Upstream refuses to start on a bad default header name (the log line is
 * logfmt: its quotes come escaped). */
START_TEST(global_header_policy_bad_name)
{
	core->conf = tu_conf("policy:\n  request-headers:\n    remove: [ok, \"x foo\"]\n", NULL);
	json_t *errs = json_array();
	contour_module_t *mod = NULL;
	ck_assert_int_eq(core_module_add_builtin(core, &contour_module, NULL, errs, &mod),
	                 CONTOUR_EOK);
	json_decref(errs);
	ck_assert_int_ne(core_modules_init_start(core), CONTOUR_EOK);
	ck_assert_msg(
	    strstr(tu_log_text(),
	           "policy.request-headers: invalid header name \\\"x foo\\\": [a valid HTTP "
	           "header must consist of alphanumeric characters or '-'"),
	    "log: %s", tu_log_text());
}
END_TEST

/* ---- tcpproxy (SEED) ---- */

#define TCP(name, tls, tcp, extra)                                                                 \
	"apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"                                      \
	"metadata: {namespace: roots, name: " name "}\n"                                           \
	"spec:\n  virtualhost: {fqdn: " name ".example.com, tls: " tls "}\n  tcpproxy: " tcp       \
	"\n" extra "---\n"

START_TEST(tcpproxy_passthrough_and_termination)
{
	hp_run(NULL,
	       TCP("pass", "{passthrough: true}",
	           "{services: [{name: secure, port: 443, weight: 0}, {name: kuard, port: 80, "
	           "weight: 1}]}",
	           "")
	           TCP("term", "{secretName: tls-cert}", "{services: [{name: kuard, port: 80}]}",
	               "  routes: [{services: [{name: home, port: 80}]},"
	               " {conditions: [{prefix: /open}], permitInsecure: true,"
	               "  services: [{name: home, port: 80}]}]\n"));
	hp_assert_valid("roots", "pass");
	const contour_dag_svhost_t *pass = hp_svhost("pass.example.com");
	ck_assert_ptr_nonnull(pass);
	ck_assert_int_eq(pass->passthrough, 1);
	ck_assert_ptr_null(pass->secret);
	ck_assert_uint_eq(pass->tcpproxy->nbackends, 2);
	ck_assert_str_eq(pass->tcpproxy->backends[0].cluster->protocol, "tls");
	ck_assert_uint_eq(pass->tcpproxy->backends[1].weight, 1);
	ck_assert_ptr_null(hp_vhost("pass.example.com"));

	hp_assert_valid("roots", "term");
	const contour_dag_svhost_t *term = hp_svhost("term.example.com");
	ck_assert_int_eq(term->passthrough, 0);
	ck_assert_ptr_nonnull(term->secret);
	hp_assert_backend(
	    (const contour_dag_route_t *)&(contour_dag_route_t){
	        .backends = term->tcpproxy->backends, .nbackends = term->tcpproxy->nbackends},
	    0, "roots", "kuard", 80);
	/* The tcpproxy owns the TLS side; the routes stay on port 80. */
	ck_assert_uint_eq(term->vhost.nroutes, 0);
	const contour_dag_vhost_t *vh = hp_vhost("term.example.com");
	ck_assert_int_eq(hp_prefix(vh, "/")->https_redirect, 1);
	ck_assert_int_eq(hp_prefix(vh, "/open")->https_redirect, 0);
}
END_TEST

START_TEST(tcpproxy_errors)
{
	hp_run(NULL,
	       PROXY("roots", "notls",
	             "  virtualhost: {fqdn: notls.example.com}\n"
	             "  tcpproxy: {services: [{name: kuard, port: 80}]}\n")
	           TCP("both", "{passthrough: true}",
	               "{services: [{name: kuard, port: 80}], include: {name: kid}}",
	               "") TCP("nothing", "{passthrough: true}",
	                       "{loadBalancerPolicy: {strategy: Cookie}}",
	                       "") TCP("unresolved", "{passthrough: true}",
	                               "{services: [{name: nope, port: 80}]}", "")
	               TCP("incmissing", "{passthrough: true}", "{include: {name: ghost}}", "")
	                   TCP("incroot", "{passthrough: true}", "{include: {name: notls}}", "")
	                       TCP("cyc", "{passthrough: true}", "{include: {name: loop}}", "")
	                           PROXY("roots", "loop", "  tcpproxy: {include: {name: loop}}\n")
	                               TCP("lb", "{passthrough: true}",
	                                   "{loadBalancerPolicy: {strategy: RequestHash},"
	                                   " services: [{name: kuard, port: 80}]}",
	                                   ""));
	hp_assert_only_error("roots", "notls", "TCPProxyError", "TLSMustBeConfigured",
	                     "Spec.TCPProxy requires that either Spec.TLS.Passthrough or "
	                     "Spec.TLS.SecretName be set");
	hp_assert_only_error("roots", "both", "TCPProxyError", "NoServicesAndInclude",
	                     "cannot specify services and include in the same httpproxy");
	hp_assert_only_error("roots", "nothing", "TCPProxyError", "NothingDefined",
	                     "either services or inclusion must be specified");
	hp_assert_only_error("roots", "unresolved", "TCPProxyError", "ServiceUnresolvedReference",
	                     "Spec.TCPProxy unresolved service reference: service \"roots/nope\" "
	                     "not found");
	hp_assert_only_error("roots", "incmissing", "TCPProxyIncludeError", "IncludeNotFound",
	                     "include roots/ghost not found");
	hp_assert_only_error("roots", "incroot", "TCPProxyIncludeError", "RootIncludesRoot",
	                     "root httpproxy cannot include another root httpproxy (roots/notls)");
	hp_assert_only_error("roots", "loop", "TCPProxyIncludeError", "IncludeCreatesCycle",
	                     "include creates a cycle: roots/cyc -> roots/loop -> roots/loop");
	hp_assert_valid("roots", "lb");
	hp_assert_warning("roots", "lb", "TCPProxyError", "IgnoredField",
	                  "ignoring field \"Spec.TCPProxy.LoadBalancerPolicy\"; RequestHash load "
	                  "balancer policy is not supported for TCPProxies");
	ck_assert_ptr_null(hp_svhost("unresolved.example.com"));
	ck_assert_ptr_null(hp_svhost("incmissing.example.com"));
	ck_assert_ptr_nonnull(hp_svhost("lb.example.com"));
}
END_TEST

START_TEST(tcpproxy_include)
{
	hp_run(
	    NULL,
	    TCP("parent", "{passthrough: true}", "{includes: {name: child, namespace: teama}}", "")
	        PROXY("teama", "child", "  tcpproxy: {services: [{name: blog, port: 80}]}\n"));
	hp_assert_valid("roots", "parent");
	hp_assert_valid("teama", "child");
	const contour_dag_svhost_t *sv = hp_svhost("parent.example.com");
	ck_assert_ptr_nonnull(sv);
	ck_assert_uint_eq(sv->tcpproxy->nbackends, 1);
	ck_assert_str_eq(sv->tcpproxy->backends[0].cluster->service.namespace_, "teama");
}
END_TEST

START_TEST(invalid_beside_valid)
{
	/* Wrong types and garbage in one proxy leave the others alone. */
	hp_run(NULL, PROXY("roots", "garbage",
	                   "  virtualhost: {fqdn: [not, a, string]}\n"
	                   "  routes: {not: a list}\n") PROXY("roots", "nospec", "  {}\n")
	                 ROUTES("weird", "  - {services: [{name: home, port: \"80\"}]}\n")
	                     ROOT("roots", "good", "good.example.com", ""));
	hp_assert_only_error("roots", "garbage", "VirtualHostError", "FQDNNotSpecified",
	                     "Spec.VirtualHost.Fqdn must be specified");
	hp_assert_current("roots", "nospec", "orphaned");
	hp_assert_only_error("roots", "weird", "ServiceError", "ServicePortInvalid",
	                     "service \"home\": port must be in the range 1-65535");
	hp_assert_valid("roots", "good");
	hp_assert_backend(hp_prefix(hp_vhost("good.example.com"), "/"), 0, "roots", "home", 80);
}
END_TEST

/* ---- upstream's example HTTPProxies ---- */

/* Put every object of a manifest file, namespaced ones without a namespace
 * into "default" (as kubectl applies them). */
static void hp_put_manifest(const char *path)
{
	tu_put_docs(src, tu_yaml_file(path), 1);
}

static int hp_count_status(const contour_object_key_t *key, const json_t *status, void *ud)
{
	(void)key;
	(void)status;
	(void)ud;
	return 0;
}

static const struct hp_example {
	const char *file;
	const char *proxies[4]; /* "ns/name" that must be valid */
} hp_examples[] = {
    {"01-ingress-to-httpproxy/basic-httpproxy.yaml", {"default/basic"}},
    {"01-ingress-to-httpproxy/httpproxy-name.yaml",
     {"default/name-example-foo", "default/name-example-bar"}},
    {"01-ingress-to-httpproxy/httpproxy-tls.yaml", {"default/tls-example"}},
    {"02-tls-options/httpproxy-tls-cert-delegation.yaml", {"example-com/www"}},
    {"02-tls-options/httpproxy-tls-upstream.yaml", {"default/secure-backend"}},
    {"03-routes/httpproxy-header-rewrite.yaml", {"default/header-rewrite"}},
    {"03-routes/httpproxy-health-checks.yaml", {"default/health-check"}},
    {"03-routes/httpproxy-lb-request-hash.yaml", {"default/lb-request-hash"}},
    {"03-routes/httpproxy-lb-strategy.yaml", {"default/lb-strategy"}},
    {"03-routes/httpproxy-multiple-headers.yaml", {"default/multiple-paths"}},
    {"03-routes/httpproxy-multiple-paths.yaml", {"default/multiple-paths"}},
    {"03-routes/httpproxy-multiple-upstreams.yaml", {"default/multiple-upstreams"}},
    /* apiVersion projectcontour.io/v1alpha1: not an HTTPProxy anyone serves. */
    {"03-routes/httpproxy-response-timeout.yaml", {NULL}},
    {"03-routes/httpproxy-sticky-sessions.yaml", {"default/httpbin"}},
    {"03-routes/httpproxy-tls-permitinsecure.yaml", {"default/tls-example-insecure"}},
    {"03-routes/httpproxy-websockets.yaml", {"default/chat"}},
    {"03-routes/httpproxy-weight-shfiting.yaml", {"default/weight-shifting"}},
    {"04-inclusion/httpproxy-inclusion-across-namespaces.yaml",
     {"default/namespace-delegation-root", "marketing/blog"}},
    {"04-inclusion/httpproxy-inclusion-mutipleroots.yaml",
     {"default/multiple-root", "default/multiple-root-www", "default/main"}},
    {"04-inclusion/httpproxy-inclusion-samenamespace.yaml",
     {"default/include-root", "default/service2"}},
    {"05-tcp-proxy/httpproxy-tls-passthrough.yaml", {"default/example"}},
    {"05-tcp-proxy/httpproxy-tls-termination.yaml", {"default/example"}},
};

START_TEST(upstream_examples)
{
	const char *ref = tu_reference_dir();
	if (!ref)
		return;
	char dir[4096], path[4200];
	snprintf(dir, sizeof(dir), "%s/contour-examples/example-workload/httpproxy", ref);
	const struct hp_example *ex = &hp_examples[_i];
	hp_start(NULL);
	snprintf(path, sizeof(path), "%s/00-common/01-services.yaml", dir);
	hp_put_manifest(path);
	hp_put_file("httpproxy/examples-support.yaml");
	snprintf(path, sizeof(path), "%s/%s", dir, ex->file);
	hp_put_manifest(path);
	hp_first_build();
	size_t nvalid = 0;
	for (size_t i = 0; i < 4 && ex->proxies[i]; i++, nvalid++) {
		char ns[64], name[128];
		const char *slash = strchr(ex->proxies[i], '/');
		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - ex->proxies[i]), ex->proxies[i]);
		snprintf(name, sizeof(name), "%s", slash + 1);
		hp_assert_valid(ns, name);
	}
	/* Nothing else got a status, and what is valid is served. */
	ck_assert_uint_eq(
	    contour_snapshot_foreach_status(contour_snapshot_current(&fake), hp_count_status, NULL),
	    nvalid);
	ck_assert_uint_eq(hp_dag()->nvhosts + hp_dag()->nsvhosts > 0, nvalid > 0);
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

	tc = tcase_create("tls");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tls_termination_and_redirect);
	tcase_add_test(tc, tls_disable_permit_insecure);
	tcase_add_test(tc, tls_config_errors);
	tcase_add_test(tc, tls_passthrough_with_fallback_still_routes);
	tcase_add_test(tc, tls_delegation);
	tcase_add_test(tc, tls_fallback);
	tcase_add_test(tc, tls_fallback_delegation);
	tcase_add_test(tc, tls_client_validation);
	tcase_add_test(tc, tls_wildcard_fqdn);
	suite_add_tcase(s, tc);

	tc = tcase_create("includes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, includes_merge_and_cross_namespace);
	tcase_add_test(tc, includes_errors_and_502);
	tcase_add_test(tc, includes_cycle);
	tcase_add_test(tc, orphans);
	suite_add_tcase(s, tc);

	tc = tcase_create("services");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, services_unresolved_and_503);
	tcase_add_test(tc, services_port_and_action_errors);
	tcase_add_test(tc, services_weights_and_mirror);
	tcase_add_test(tc, services_protocol_and_upstream_validation);
	tcase_add_test(tc, routes_policies_and_health_port);
	tcase_add_test(tc, invalid_beside_valid);
	tcase_add_test(tc, global_header_policies);
	tcase_add_test(tc, service_dynamic_host_ignored);
	tcase_add_test(tc, global_header_policy_dynamic_host);
	tcase_add_test(tc, global_header_policy_response_host);
	tcase_add_test(tc, global_header_policy_bad_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("tcpproxy");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tcpproxy_passthrough_and_termination);
	tcase_add_test(tc, tcpproxy_errors);
	tcase_add_test(tc, tcpproxy_include);
	suite_add_tcase(s, tc);

	tc = tcase_create("examples");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, upstream_examples, 0,
	                    (int)(sizeof(hp_examples) / sizeof(hp_examples[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(httpproxy_suite());
}
