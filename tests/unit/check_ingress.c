/* tests/unit/check_ingress.c: the ingress processor driven through the real
 * core (built-in module, store, build pipeline): Ingress objects go into
 * the store through a fake source, a build runs, and the DAG and statuses
 * of the published snapshot are compared with what upstream Contour's
 * IngressProcessor builds. The merge cases load the real httpproxy module
 * from the build tree beside it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"
#include "modules/ingress/ing.h"

extern const contour_module_desc_t contour_module;

static core_t *core;
static contour_module_t fake;
static contour_source_t *src;

/* Services every test may route to. */
static const char *ing_services =
    "apiVersion: v1\nkind: Service\nmetadata: {namespace: roots, name: home}\n"
    "spec: {ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP},\n"
    "               {name: admin, port: 9000, protocol: TCP}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Service\nmetadata: {namespace: roots, name: kuard}\n"
    "spec: {ports: [{port: 80, protocol: TCP}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Service\n"
    "metadata:\n  namespace: roots\n  name: secure\n"
    "  annotations: {projectcontour.io/upstream-protocol.tls: \"443\",\n"
    "                projectcontour.io/max-connections: \"9\"}\n"
    "spec: {ports: [{name: https, port: 443, protocol: TCP}]}\n";

/* An Ingress in roots: name, annotations (a flow mapping body), spec. */
#define ING(name, annotations, spec)                                                               \
	"apiVersion: networking.k8s.io/v1\nkind: Ingress\n"                                        \
	"metadata: {namespace: roots, name: " name ", annotations: {" annotations "}}\n"           \
	"spec: " spec "\n---\n"
/* A rule for host with one path. */
#define RULE(host, path, type, svc, port)                                                          \
	"{host: \"" host "\", http: {paths: [{path: \"" path "\", pathType: " #type                \
	", backend: {service: {name: " #svc ", port: " port "}}}]}}"
#define HOME_RULE(host) RULE(host, "/", Prefix, home, "{number: 80}")

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

static void ing_put(const char *yaml)
{
	tu_put_docs(src, tu_yaml(yaml), 0);
}

/* Load httpproxy from the build tree ($CONTOUR_MODULE_PATH). */
static void ing_add_httpproxy(void)
{
	json_t *errs = json_array();
	contour_module_t *mod = NULL;
	int rc = core_loader_add(core, "httpproxy", NULL, errs, &mod);
	char *e = json_dumps(errs, 0);
	ck_assert_msg(rc == CONTOUR_EOK, "loading httpproxy: %s", e);
	free(e);
	json_decref(errs);
}

/* The log lines the build wrote for ns/name: their messages, after
 * "ingress NS/NAME: ", unquoted (core/log.c writes msg="..." escaped). */
static json_t *ing_logged(const char *ns, const char *name)
{
	char tag[512], msg[4096];
	snprintf(tag, sizeof(tag), "ingress %s/%s: ", ns, name);
	json_t *out = json_array();
	for (const char *p = tu_log_text(); (p = strstr(p, tag)) != NULL;) {
		size_t n = 0;
		for (p += strlen(tag); *p && *p != '"' && *p != '\n' && n + 1 < sizeof(msg); p++) {
			if (*p == '\\' && p[1]) {
				p++;
				msg[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
			} else {
				msg[n++] = *p;
			}
		}
		msg[n] = '\0';
		json_array_append_new(out, json_string(msg));
	}
	return out;
}

static int ing_in(const json_t *list, const char *member, const char *msg)
{
	size_t i;
	const json_t *e;
	json_array_foreach(list, i, e)
	{
		const char *s = json_string_value(member ? json_object_get(e, member) : e);
		if (s && !strcmp(s, msg))
			return 1;
	}
	return 0;
}

/* The validator against the build, for every stored Ingress (as
 * hp_review_all in check_httpproxy.c): every log line of the build for it
 * is a denial or a warning; a denial is a line of the build, unless the
 * build stopped short of it at another problem it logged (the review
 * checks a path whose Service is missing, or the TLS versions of an entry
 * whose Secret is, where the build skips them); a warning is a line. An
 * Ingress without a status is another class's: ignored. */
static int ing_review_one(const json_t *obj, void *ud)
{
	(void)ud;
	const json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace")),
	           *name = json_string_value(json_object_get(meta, "name"));
	contour_object_key_t key = {"networking.k8s.io/v1", "Ingress", ns, name};
	const json_t *status = contour_snapshot_status(contour_snapshot_current(&fake), &key);
	contour_review_t r = {.operation = "UPDATE", .object = obj, .old_object = obj};
	contour_verdict_t *v = contour_verdict_new();
	ck_assert_int_eq(contour_review_run(&fake, "networking.k8s.io/v1", "Ingress", &r, v), 1);
	ck_assert_msg(!status == contour_verdict_ignored(v), "%s/%s: status %s, ignored %d", ns,
	              name, status ? "set" : "absent", contour_verdict_ignored(v));
	json_t *logged = ing_logged(ns, name);
	const json_t *denials = contour_verdict_denials(v), *warnings = contour_verdict_warnings(v);
	size_t i;
	const json_t *e;
	if (status) {
		json_array_foreach(logged, i, e)
		{
			const char *msg = json_string_value(e);
			ck_assert_msg(
			    ing_in(denials, "message", msg) || ing_in(warnings, NULL, msg),
			    "%s/%s: logged, neither denied nor warned: %s", ns, name, msg);
		}
	}
	json_array_foreach(denials, i, e)
	{
		const char *msg = json_string_value(json_object_get(e, "message"));
		/* the only checks a review makes past the build's stop */
		int beyond =
		    strstr(msg, " is not valid: ") || strstr(msg, "error TLS protocol version");
		ck_assert_msg(ing_in(logged, NULL, msg) || (beyond && json_array_size(logged) > 0),
		              "%s/%s: denied, not logged by the build: %s\n%s", ns, name, msg,
		              tu_log_text());
	}
	json_array_foreach(warnings, i, e)
	{
		ck_assert_msg(ing_in(logged, NULL, json_string_value(e)),
		              "%s/%s: warned, not logged by the build: %s", ns, name,
		              json_string_value(e));
	}
	json_decref(logged);
	contour_verdict_free(v);
	return 0;
}

static void ing_review_all(void)
{
	contour_store_foreach(&fake, "networking.k8s.io/v1", "Ingress", ing_review_one, NULL);
}

/* Start the module(s) with global settings (YAML, or NULL), put the
 * standard Services and Secrets into the store, then objects, and build.
 * httpproxy: 0 none, 1 loaded after ingress, 2 loaded before it. */
static void ing_run_with(const char *global, const char *objects, int httpproxy)
{
	core->conf = tu_conf(global ? global : "build-holdoff: 100ms\n", NULL);
	if (httpproxy == 2)
		ing_add_httpproxy();
	json_t *errs = json_array();
	contour_module_t *mod = NULL;
	int rc = core_module_add_builtin(core, &contour_module, NULL, errs, &mod);
	ck_assert_msg(rc == CONTOUR_EOK, "add_builtin failed");
	json_decref(errs);
	if (httpproxy == 1)
		ing_add_httpproxy();
	ck_assert_int_eq(core_modules_init_start(core), CONTOUR_EOK);
	ing_put(ing_services);
	tu_put_docs(src, tu_yaml_file(tu_fixture("httpproxy/secrets.yaml")), 0);
	if (objects)
		ing_put(objects);
	contour_source_set_synced(src);
	rc = core_pipeline_build_now(core->pipeline);
	ck_assert_msg(rc == CONTOUR_EOK, "build: %s\n%s", contour_strerror(rc), tu_log_text());
	ing_review_all();
}

static void ing_run(const char *global, const char *objects)
{
	ing_run_with(global, objects, 0);
}

static const contour_dag_t *ing_dag(void)
{
	return contour_snapshot_dag(contour_snapshot_current(&fake));
}

static const json_t *ing_status(const char *name)
{
	contour_object_key_t key = {"networking.k8s.io/v1", "Ingress", "roots", name};
	return contour_snapshot_status(contour_snapshot_current(&fake), &key);
}

static const contour_dag_vhost_t *ing_vhost(const char *fqdn)
{
	return tu_dag_vhost(ing_dag(), fqdn);
}

static const contour_dag_svhost_t *ing_svhost(const char *fqdn)
{
	return tu_dag_svhost(ing_dag(), fqdn);
}

/* The route of vh whose path is (type, value), or NULL. */
static const contour_dag_route_t *ing_find(const contour_dag_vhost_t *vh,
                                           contour_dag_path_type_t type, const char *value)
{
	for (size_t i = 0; vh && i < vh->nroutes; i++) {
		const contour_dag_route_t *r = vh->routes[i];
		if (r->path.type == type && !strcmp(r->path.value, value))
			return r;
	}
	return NULL;
}

static const contour_dag_route_t *ing_route(const contour_dag_vhost_t *vh,
                                            contour_dag_path_type_t type, const char *value)
{
	ck_assert_msg(vh != NULL, "no vhost for route %s", value);
	const contour_dag_route_t *r = ing_find(vh, type, value);
	ck_assert_msg(r != NULL, "no route %d %s on %s", (int)type, value, vh->fqdn);
	return r;
}

static void ing_assert_backend(const contour_dag_route_t *r, const char *name, uint32_t port)
{
	ck_assert_uint_eq(r->nbackends, 1);
	const contour_dag_service_t *s = &r->backends[0].cluster->service;
	ck_assert_str_eq(s->namespace_, "roots");
	ck_assert_str_eq(s->name, name);
	ck_assert_uint_eq(s->port, port);
}

static void ing_assert_logged(const char *text)
{
	ck_assert_msg(strstr(tu_log_text(), text) != NULL, "'%s' not logged:\n%s", text,
	              tu_log_text());
}

/* ---- rules and paths ---- */

START_TEST(paths_and_backends)
{
	ing_run(NULL, ING("web", "",
	                  "{rules: [{host: web.example.com, http: {paths: ["
	                  "{path: /exact, pathType: Exact, backend: {service: {name: kuard, port: "
	                  "{number: 80}}}},"
	                  "{path: /app/, pathType: Prefix, backend: {service: {name: home, port: "
	                  "{name: admin}}}},"
	                  "{path: /, pathType: Prefix, backend: {service: {name: home, port: "
	                  "{name: http}}}},"
	                  "{path: /static, pathType: ImplementationSpecific, backend: {service: "
	                  "{name: kuard, port: {number: 80}}}},"
	                  "{path: \"/v[0-9]+/api\", backend: {service: {name: secure, port: "
	                  "{number: 443}}}},"
	                  "{backend: {service: {name: kuard, port: {number: 80}}}}]}}]}"));
	const contour_dag_vhost_t *vh = ing_vhost("web.example.com");
	ck_assert_ptr_nonnull(vh);
	ck_assert_uint_eq(vh->nroutes, 5);
	ing_assert_backend(ing_route(vh, CONTOUR_DAG_PATH_EXACT, "/exact"), "kuard", 80);
	/* Prefix trims trailing slashes and matches whole segments. */
	ing_assert_backend(ing_route(vh, CONTOUR_DAG_PATH_SEGMENT_PREFIX, "/app"), "home", 9000);
	ck_assert_ptr_null(ing_find(vh, CONTOUR_DAG_PATH_SEGMENT_PREFIX, "/app/"));
	/* Prefix "/" is a plain string prefix; an empty path is "/" too and,
	 * later, replaces it (same match). */
	const contour_dag_route_t *root = ing_route(vh, CONTOUR_DAG_PATH_PREFIX, "/");
	ing_assert_backend(root, "kuard", 80);
	ing_assert_backend(ing_route(vh, CONTOUR_DAG_PATH_PREFIX, "/static"), "kuard", 80);
	const contour_dag_route_t *re = ing_route(vh, CONTOUR_DAG_PATH_REGEX, "/v[0-9]+/api");
	ing_assert_backend(re, "secure", 443);
	/* The Service's annotations reach the cluster. */
	ck_assert_str_eq(re->backends[0].cluster->protocol, "tls");
	ck_assert_uint_eq(re->backends[0].cluster->circuit_breakers.max_connections, 9);
	ck_assert_str_eq(root->origin.kind, "Ingress");
	ck_assert_str_eq(root->origin.namespace_, "roots");
	ck_assert_str_eq(root->origin.name, "web");
	ck_assert_int_eq(root->https_redirect, 0);
	ck_assert_ptr_null(root->retry);
	ck_assert_int_eq(root->timeouts.response_ms, CONTOUR_DAG_TIMEOUT_DEFAULT);
	ck_assert_uint_eq(root->nheaders, 0);
	/* No TLS: nothing on the HTTPS listener. */
	ck_assert_ptr_null(ing_svhost("web.example.com"));
}
END_TEST

START_TEST(path_match_unit)
{
	contour_snapshot_t *snap = core_snapshot_new(NULL, 1);
	contour_dag_t *dag = contour_snapshot_dag(snap);
	contour_dag_path_match_t m;
	char err[256];
	ck_assert_int_eq(ing_path_match(dag, "/foo//", "Prefix", &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.type, CONTOUR_DAG_PATH_SEGMENT_PREFIX);
	ck_assert_str_eq(m.value, "/foo");
	ck_assert_int_eq(ing_path_match(dag, "/", "Prefix", &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.type, CONTOUR_DAG_PATH_PREFIX);
	ck_assert_int_eq(ing_path_match(dag, "/a/", "Exact", &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.type, CONTOUR_DAG_PATH_EXACT);
	ck_assert_str_eq(m.value, "/a/");
	/* Each regex character makes a regex; none keeps a string prefix. */
	const char *regexes[] = {"/a^", "/a+", "/a*", "/[a]", "/a%20"};
	for (size_t i = 0; i < sizeof(regexes) / sizeof(*regexes); i++) {
		ck_assert_int_eq(
		    ing_path_match(dag, regexes[i], "ImplementationSpecific", &m, err, sizeof(err)),
		    0);
		ck_assert_msg(m.type == CONTOUR_DAG_PATH_REGEX, "%s", regexes[i]);
	}
	ck_assert_int_eq(
	    ing_path_match(dag, "/a.b(c)", "ImplementationSpecific", &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.type, CONTOUR_DAG_PATH_PREFIX);
	ck_assert_int_eq(ing_path_match(dag, "/a[", "ImplementationSpecific", &m, err, sizeof(err)),
	                 -1);
	ck_assert_msg(strstr(err, "missing closing ]") != NULL, "%s", err);
	ck_assert_int_eq(ing_path_match(dag, "/a", "Bogus", &m, err, sizeof(err)), -1);
	contour_snapshot_unref(snap);
}
END_TEST

START_TEST(default_backend_and_empty_host)
{
	ing_run(NULL,
	        ING("dflt", "", "{defaultBackend: {service: {name: kuard, port: {number: 80}}}}")
	            ING("override", "",
	                "{defaultBackend: {service: {name: kuard, port: {number: 80}}},"
	                " rules: [" RULE("", "/", ImplementationSpecific, home,
	                                 "{number: 80}") "," RULE("", "/other", Exact, home,
	                                                          "{number: 80}") "]}"));
	const contour_dag_vhost_t *star = ing_vhost("*");
	ck_assert_ptr_nonnull(star);
	ck_assert_uint_eq(star->nroutes, 2);
	/* The later Ingress's no-host rule replaces every default "/" route. */
	ing_assert_backend(ing_route(star, CONTOUR_DAG_PATH_PREFIX, "/"), "home", 80);
	ck_assert_str_eq(ing_route(star, CONTOUR_DAG_PATH_PREFIX, "/")->origin.name, "override");
	ing_assert_backend(ing_route(star, CONTOUR_DAG_PATH_EXACT, "/other"), "home", 80);
	ck_assert_ptr_nonnull(ing_status("dflt"));
}
END_TEST

START_TEST(default_backend_alone)
{
	ing_run(NULL,
	        ING("dflt", "", "{defaultBackend: {service: {name: home, port: {name: admin}}}}"));
	ing_assert_backend(ing_route(ing_vhost("*"), CONTOUR_DAG_PATH_PREFIX, "/"), "home", 9000);
}
END_TEST

START_TEST(wildcard_host)
{
	ing_run(NULL, ING("wild", "", "{rules: [" HOME_RULE("*.example.com") "]}"));
	const contour_dag_route_t *r =
	    ing_route(ing_vhost("*.example.com"), CONTOUR_DAG_PATH_PREFIX, "/");
	ck_assert_uint_eq(r->nheaders, 1);
	ck_assert_str_eq(r->headers[0].name, ":authority");
	ck_assert_int_eq(r->headers[0].type, CONTOUR_DAG_MATCH_REGEX);
	ck_assert_str_eq(r->headers[0].value,
	                 "^[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.example\\.com(:[0-9]+)?");
}
END_TEST

START_TEST(bad_inputs_skipped)
{
	ing_run(NULL,
	        ING("badre", "",
	            "{rules: [{host: re.example.com, http: {paths: ["
	            "{path: /first, pathType: Exact, backend: {service: {name: home, port: "
	            "{number: 80}}}},"
	            "{path: \"/a[\", backend: {service: {name: home, port: {number: 80}}}},"
	            "{path: /after, pathType: Exact, backend: {service: {name: home, port: "
	            "{number: 80}}}}]}}," HOME_RULE("re2.example.com") "]}")
	            ING("badsvc", "",
	                "{rules: [{host: svc.example.com, http: {paths: ["
	                "{path: /missing, pathType: Exact, backend: {service: {name: nope, port: "
	                "{number: 80}}}},"
	                "{path: /badport, pathType: Exact, backend: {service: {name: home, port: "
	                "{name: nope}}}},"
	                "{path: /resource, pathType: Exact, backend: {resource: {kind: Bucket, "
	                "name: b}}},"
	                "{path: /ok, pathType: Exact, backend: {service: {name: home, port: "
	                "{number: 80}}}}]}},"
	                "{host: nohttp.example.com}]}")
	                ING("fine", "", "{rules: [" HOME_RULE("fine.example.com") "]}"));
	/* A bad regex skips the rest of its rule only. */
	const contour_dag_vhost_t *vh = ing_vhost("re.example.com");
	ck_assert_ptr_nonnull(ing_find(vh, CONTOUR_DAG_PATH_EXACT, "/first"));
	ck_assert_ptr_null(ing_find(vh, CONTOUR_DAG_PATH_EXACT, "/after"));
	ck_assert_uint_eq(vh->nroutes, 1);
	ck_assert_ptr_nonnull(ing_vhost("re2.example.com"));
	ing_assert_logged(
	    "ingress roots/badre: rule re.example.com skipped: path /a[ is not valid: "
	    "error parsing regexp: missing closing ]: `[`");
	/* An unresolved backend skips its path only. */
	vh = ing_vhost("svc.example.com");
	ck_assert_uint_eq(vh->nroutes, 1);
	ck_assert_ptr_nonnull(ing_find(vh, CONTOUR_DAG_PATH_EXACT, "/ok"));
	ing_assert_logged("ingress roots/badsvc: unresolved service reference nope");
	ing_assert_logged("ingress roots/badsvc: path /resource: only Service backends");
	ck_assert_ptr_null(ing_vhost("nohttp.example.com"));
	ck_assert_ptr_nonnull(ing_vhost("fine.example.com"));
	/* Skipping never costs an Ingress its status. */
	ck_assert_ptr_nonnull(ing_status("badre"));
	ck_assert_ptr_nonnull(ing_status("badsvc"));
}
END_TEST

/* ---- annotations ---- */

START_TEST(annotation_timeouts)
{
	ing_run(NULL, ING("resp",
	                  "projectcontour.io/response-timeout: 30s, "
	                  "projectcontour.io/request-timeout: 5s",
	                  "{rules: [" HOME_RULE("resp.example.com") "]}")
	                  ING("legacy", "projectcontour.io/request-timeout: 1m",
	                      "{rules: [" HOME_RULE("legacy.example.com") "]}")
	                      ING("inf", "projectcontour.io/response-timeout: infinity",
	                          "{rules: [" HOME_RULE("inf.example.com") "]}")
	                          ING("bad", "projectcontour.io/response-timeout: \"600\"",
	                              "{rules: [" HOME_RULE("bad.example.com") "]}"));
#define TIMEOUT(host) ing_route(ing_vhost(host), CONTOUR_DAG_PATH_PREFIX, "/")->timeouts.response_ms
	ck_assert_int_eq(TIMEOUT("resp.example.com"), 30000);
	ck_assert_int_eq(TIMEOUT("legacy.example.com"), 60000);
	ck_assert_int_eq(TIMEOUT("inf.example.com"), CONTOUR_DAG_TIMEOUT_INFINITE);
	ck_assert_int_eq(TIMEOUT("bad.example.com"), CONTOUR_DAG_TIMEOUT_DEFAULT);
#undef TIMEOUT
	ing_assert_logged("ingress roots/bad: error parsing response-timeout annotation");
	ing_assert_logged("missing unit in duration");
}
END_TEST

START_TEST(annotation_retries)
{
	ing_run(NULL, ING("retry",
	                  "projectcontour.io/retry-on: \"5xx,gateway-error\", "
	                  "projectcontour.io/num-retries: \"7\", "
	                  "projectcontour.io/per-try-timeout: 150ms",
	                  "{rules: [" HOME_RULE("retry.example.com") "]}")
	                  ING("noretry",
	                      "projectcontour.io/num-retries: \"7\", "
	                      "projectcontour.io/per-try-timeout: 150ms",
	                      "{rules: [" HOME_RULE("noretry.example.com") "]}"));
	const contour_dag_route_t *r =
	    ing_route(ing_vhost("retry.example.com"), CONTOUR_DAG_PATH_PREFIX, "/");
	ck_assert_ptr_nonnull(r->retry);
	ck_assert_str_eq(r->retry->retry_on, "5xx,gateway-error");
	ck_assert_uint_eq(r->retry->num_retries, 7);
	ck_assert_int_eq(r->retry->per_try_timeout_ms, 150);
	/* Retries need retry-on. */
	ck_assert_ptr_null(
	    ing_route(ing_vhost("noretry.example.com"), CONTOUR_DAG_PATH_PREFIX, "/")->retry);
}
END_TEST

START_TEST(annotation_num_retries)
{
	ck_assert_uint_eq(ing_num_retries("-1"), 0);
	ck_assert_uint_eq(ing_num_retries("0"), 1);
	ck_assert_uint_eq(ing_num_retries("1"), 1);
	ck_assert_uint_eq(ing_num_retries(""), 1);
	ck_assert_uint_eq(ing_num_retries("-5"), 1);
	ck_assert_uint_eq(ing_num_retries("12"), 12);
	ck_assert_uint_eq(ing_num_retries("x"), 1);
	ck_assert_uint_eq(ing_num_retries("99999999999"), 1);
	ck_assert_str_eq(ing_tls_version("1.3", "1.2"), "1.3");
	ck_assert_str_eq(ing_tls_version("1.1", "1.2"), "1.2");
	ck_assert_str_eq(ing_tls_version("", "1.3"), "1.3");
}
END_TEST

START_TEST(annotation_websockets)
{
	ing_run(NULL, ING("ws", "projectcontour.io/websocket-routes: \" /ws , /chat/\"",
	                  "{rules: [{host: ws.example.com, http: {paths: ["
	                  "{path: /ws, pathType: Prefix, backend: {service: {name: home, port: "
	                  "{number: 80}}}},"
	                  "{path: /chat/, pathType: Prefix, backend: {service: {name: home, port: "
	                  "{number: 80}}}},"
	                  "{path: /, pathType: Prefix, backend: {service: {name: home, port: "
	                  "{number: 80}}}}]}}]}"));
	const contour_dag_vhost_t *vh = ing_vhost("ws.example.com");
	ck_assert_int_eq(ing_route(vh, CONTOUR_DAG_PATH_SEGMENT_PREFIX, "/ws")->websockets, 1);
	/* Matched against the path as written, before Prefix trimming. */
	ck_assert_int_eq(ing_route(vh, CONTOUR_DAG_PATH_SEGMENT_PREFIX, "/chat")->websockets, 1);
	ck_assert_int_eq(ing_route(vh, CONTOUR_DAG_PATH_PREFIX, "/")->websockets, 0);
}
END_TEST

#define TLS(host, secret) "tls: [{hosts: [" host "], secretName: " secret "}]"

START_TEST(annotation_allow_http_and_redirect)
{
	ing_run(NULL, ING("nohttp", "kubernetes.io/ingress.allow-http: \"false\"",
	                  "{" TLS("nohttp.example.com",
	                          "tls-cert") ", rules: [" HOME_RULE("nohttp.example.com") "]}")
	                  ING("redirect", "ingress.kubernetes.io/force-ssl-redirect: \"true\"",
	                      "{" TLS("redirect.example.com", "tls-cert") ", rules: [" HOME_RULE(
	                          "redirect.example.com") "]}")
	                      ING("both",
	                          "ingress.kubernetes.io/force-ssl-redirect: \"true\", "
	                          "kubernetes.io/ingress.allow-http: \"false\"",
	                          "{rules: [" HOME_RULE("both.example.com") "]}"));
	/* allow-http false: HTTPS only. */
	ck_assert_ptr_null(ing_vhost("nohttp.example.com"));
	ck_assert_ptr_nonnull(
	    ing_find(&ing_svhost("nohttp.example.com")->vhost, CONTOUR_DAG_PATH_PREFIX, "/"));
	/* force-ssl-redirect: port 80 redirects, port 443 serves. */
	ck_assert_int_eq(ing_route(ing_vhost("redirect.example.com"), CONTOUR_DAG_PATH_PREFIX, "/")
	                     ->https_redirect,
	                 1);
	const contour_dag_route_t *sr =
	    ing_route(&ing_svhost("redirect.example.com")->vhost, CONTOUR_DAG_PATH_PREFIX, "/");
	ck_assert_int_eq(sr->https_redirect, 0);
	ing_assert_backend(sr, "home", 80);
	/* force-ssl-redirect wins over allow-http false for the port-80 route. */
	ck_assert_int_eq(
	    ing_route(ing_vhost("both.example.com"), CONTOUR_DAG_PATH_PREFIX, "/")->https_redirect,
	    1);
}
END_TEST

/* ---- TLS ---- */

START_TEST(tls_hosts_and_versions)
{
	ing_run(
	    NULL,
	    ING("tls", "projectcontour.io/tls-minimum-protocol-version: \"1.3\"",
	        "{tls: [{hosts: [a.example.com, \"*\"], secretName: tls-cert}],"
	        " rules: [" HOME_RULE("a.example.com") "," HOME_RULE("b.example.com") "," RULE(
	            "", "/", Prefix, kuard, "{number: 80}") "]}")
	        ING("badrange",
	            "projectcontour.io/tls-minimum-protocol-version: \"1.3\", "
	            "projectcontour.io/tls-maximum-protocol-version: \"1.2\"",
	            "{" TLS("range.example.com",
	                    "tls-cert") ", rules: [" HOME_RULE("range.example.com") "]}")
	            ING("missing", "",
	                "{" TLS("missing.example.com",
	                        "nope") ", rules: [" HOME_RULE("missing.example.com") "]}")
	                ING("wrongtype", "",
	                    "{" TLS("wrongtype.example.com", "wrong-type") ", rules: [" HOME_RULE(
	                        "wrongtype.example.com") "]}"));
	const contour_dag_svhost_t *sv = ing_svhost("a.example.com");
	ck_assert_ptr_nonnull(sv);
	ck_assert_str_eq(sv->secret->namespace_, "roots");
	ck_assert_str_eq(sv->secret->name, "tls-cert");
	ck_assert_str_eq(sv->min_tls_version, "1.3");
	ck_assert_str_eq(sv->max_tls_version, "1.3");
	ck_assert_uint_eq(sv->vhost.nroutes, 1);
	/* Only exactly named TLS hosts get routes, and never "*". */
	ck_assert_ptr_null(ing_svhost("b.example.com"));
	ck_assert_ptr_nonnull(ing_vhost("b.example.com"));
	ck_assert_ptr_null(ing_svhost("*"));
	ck_assert_ptr_nonnull(ing_vhost("*"));
	/* Skipped TLS leaves the plain routes. */
	ck_assert_ptr_null(ing_svhost("range.example.com"));
	ck_assert_ptr_nonnull(ing_vhost("range.example.com"));
	ing_assert_logged("ingress roots/badrange: error TLS protocol version");
	ck_assert_ptr_null(ing_svhost("missing.example.com"));
	ing_assert_logged("ingress roots/missing: unresolved secret reference roots/nope");
	ck_assert_ptr_null(ing_svhost("wrongtype.example.com"));
	ing_assert_logged("ingress roots/wrongtype: unresolved secret reference roots/wrong-type");
	ck_assert_ptr_nonnull(ing_vhost("missing.example.com"));
}
END_TEST

#define DELEGATED(name, secret)                                                                    \
	ING(name, "projectcontour.io/tls-cert-namespace: delegated",                               \
	    "{" TLS(name ".example.com", secret) ", rules: [" HOME_RULE(name ".example.com") "]}")

START_TEST(tls_cert_namespace_without_delegation)
{
	ing_run(NULL,
	        DELEGATED("bare", "shared-cert") DELEGATED("qualified", "delegated/shared-cert"));
	ck_assert_ptr_null(ing_svhost("bare.example.com"));
	ck_assert_ptr_null(ing_svhost("qualified.example.com"));
	ing_assert_logged("ingress roots/bare: secret delegated/shared-cert: certificate "
	                  "delegation not permitted");
	ck_assert_ptr_nonnull(ing_vhost("bare.example.com"));
}
END_TEST

START_TEST(tls_cert_namespace_with_delegation)
{
	ing_run(
	    NULL,
	    "apiVersion: projectcontour.io/v1\nkind: TLSCertificateDelegation\n"
	    "metadata: {namespace: delegated, name: d}\n"
	    "spec: {delegations: [{secretName: shared-cert, targetNamespaces: [roots]}]}\n"
	    "---\n" DELEGATED("bare", "shared-cert") DELEGATED("qualified", "delegated/shared-cert")
	        ING("plain", "",
	            "{" TLS("plain.example.com", "delegated/shared-cert") ", rules: [" HOME_RULE(
	                "plain.example.com") "]}"));
	const contour_dag_svhost_t *sv = ing_svhost("bare.example.com");
	ck_assert_ptr_nonnull(sv);
	ck_assert_str_eq(sv->secret->namespace_, "delegated");
	ck_assert_str_eq(sv->secret->name, "shared-cert");
	ck_assert_ptr_nonnull(ing_svhost("qualified.example.com"));
	/* A namespaced secretName needs no annotation, only the delegation. */
	ck_assert_ptr_nonnull(ing_svhost("plain.example.com"));
}
END_TEST

/* ---- class selection ---- */

#define CLASSED(name, annotations, spec)                                                           \
	ING(name, annotations, "{" spec " rules: [" HOME_RULE(name ".example.com") "]}")

START_TEST(class_default)
{
	ing_run(NULL, CLASSED("none", "", "") CLASSED("contour", "", "ingressClassName: contour,")
	                  CLASSED("other", "", "ingressClassName: other,")
	                      CLASSED("annot", "kubernetes.io/ingress.class: other",
	                              "ingressClassName: contour,")
	                          CLASSED("annotwins", "projectcontour.io/ingress.class: contour",
	                                  "ingressClassName: other,")
	                              CLASSED("emptyannot",
	                                      "projectcontour.io/ingress.class: \"\", "
	                                      "kubernetes.io/ingress.class: other",
	                                      ""));
	const char *in[] = {"none", "contour", "annotwins", "emptyannot"};
	const char *out[] = {"other", "annot"};
	for (size_t i = 0; i < sizeof(in) / sizeof(*in); i++) {
		ck_assert_msg(ing_status(in[i]) != NULL, "%s has no status", in[i]);
		char host[64];
		snprintf(host, sizeof(host), "%s.example.com", in[i]);
		ck_assert_msg(ing_vhost(host) != NULL, "%s not served", in[i]);
	}
	for (size_t i = 0; i < sizeof(out) / sizeof(*out); i++) {
		ck_assert_msg(ing_status(out[i]) == NULL, "%s has a status", out[i]);
		char host[64];
		snprintf(host, sizeof(host), "%s.example.com", out[i]);
		ck_assert_msg(ing_vhost(host) == NULL, "%s served", out[i]);
	}
}
END_TEST

START_TEST(class_configured)
{
	/* The seed's example: served only by the controller of that class. */
	ing_run("ingress-class-name: [my-ingress-class, edge]\n",
	        CLASSED("mine", "kubernetes.io/ingress.class: my-ingress-class", "")
	            CLASSED("none", "", "") CLASSED("contour", "", "ingressClassName: contour,")
	                CLASSED("edge", "", "ingressClassName: edge,")
	                    CLASSED("both",
	                            "projectcontour.io/ingress.class: other, "
	                            "kubernetes.io/ingress.class: edge",
	                            ""));
	ck_assert_ptr_nonnull(ing_vhost("mine.example.com"));
	ck_assert_ptr_nonnull(ing_vhost("edge.example.com"));
	ck_assert_ptr_nonnull(ing_status("mine"));
	ck_assert_ptr_null(ing_vhost("none.example.com"));
	ck_assert_ptr_null(ing_vhost("contour.example.com"));
	ck_assert_ptr_null(ing_vhost("both.example.com"));
	ck_assert_ptr_null(ing_status("none"));
}
END_TEST

START_TEST(class_flag_string)
{
	/* --ingress-class-name gives a comma-separated string. */
	ing_run("ingress-class-name: \" a , my-ingress-class\"\n",
	        CLASSED("mine", "kubernetes.io/ingress.class: my-ingress-class", "")
	            CLASSED("none", "", ""));
	ck_assert_ptr_nonnull(ing_vhost("mine.example.com"));
	ck_assert_ptr_null(ing_vhost("none.example.com"));
}
END_TEST

/* ---- merging with HTTPProxy ---- */

#define PROXY(name, annotations, fqdn, routes)                                                     \
	"apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"                                      \
	"metadata: {namespace: roots, name: " name ", annotations: {" annotations "}}\n"           \
	"spec:\n  virtualhost: {fqdn: " fqdn "}\n  routes: " routes "\n---\n"

static void merge_case(int order)
{
	ing_run_with(NULL,
	             ING("ing", "",
	                 "{rules: [{host: shared.example.com, http: {paths: ["
	                 "{path: /, pathType: Prefix, backend: {service: {name: kuard, port: "
	                 "{number: 80}}}},"
	                 "{path: /ing, pathType: Prefix, backend: {service: {name: kuard, port: "
	                 "{number: 80}}}}]}}]}")
	                 PROXY("proxy", "", "shared.example.com",
	                       "[{conditions: [{prefix: /}], services: [{name: home, port: 80}]}]")
	                     PROXY("otherclass", "kubernetes.io/ingress.class: other",
	                           "hidden.example.com", "[{services: [{name: home, port: 80}]}]"),
	             order);
	const contour_dag_vhost_t *vh = ing_vhost("shared.example.com");
	ck_assert_uint_eq(vh->nroutes, 2);
	/* Upstream runs Ingress first: the HTTPProxy's equal match wins. */
	const contour_dag_route_t *r = ing_route(vh, CONTOUR_DAG_PATH_PREFIX, "/");
	ing_assert_backend(r, "home", 80);
	ck_assert_str_eq(r->origin.kind, "HTTPProxy");
	r = ing_route(vh, CONTOUR_DAG_PATH_SEGMENT_PREFIX, "/ing");
	ck_assert_str_eq(r->origin.kind, "Ingress");
	/* The shared class filter applies to HTTPProxy too. */
	ck_assert_ptr_null(ing_vhost("hidden.example.com"));
	contour_object_key_t key = {"projectcontour.io/v1", "HTTPProxy", "roots", "otherclass"};
	ck_assert_ptr_null(contour_snapshot_status(contour_snapshot_current(&fake), &key));
	key.name = "proxy";
	ck_assert_ptr_nonnull(contour_snapshot_status(contour_snapshot_current(&fake), &key));
}

START_TEST(merge_httpproxy_after)
{
	merge_case(1);
}
END_TEST

START_TEST(merge_httpproxy_before)
{
	merge_case(2);
}
END_TEST

/* ---- global header policy and status ---- */

#define HEADERS_POLICY                                                                             \
	"policy:\n  request-headers:\n    set: {x-ns: \"%CONTOUR_NAMESPACE%\", "                   \
	"X-Svc: \"%CONTOUR_SERVICE_NAME%:%CONTOUR_SERVICE_PORT%\"}\n"                              \
	"    remove: [x-drop]\n  response-headers:\n    set: {x-resp: yes}\n"

START_TEST(headers_apply_to_ingress)
{
	ing_run(HEADERS_POLICY "  applyToIngress: true\n",
	        ING("h", "", "{rules: [" HOME_RULE("h.example.com") "]}"));
	const contour_dag_backend_t *be =
	    &ing_route(ing_vhost("h.example.com"), CONTOUR_DAG_PATH_PREFIX, "/")->backends[0];
	ck_assert_ptr_nonnull(be->request_headers);
	ck_assert_uint_eq(be->request_headers->nset, 2);
	ck_assert_str_eq(be->request_headers->set[0].name, "X-Ns");
	ck_assert_str_eq(be->request_headers->set[0].value, "roots");
	ck_assert_str_eq(be->request_headers->set[1].name, "X-Svc");
	ck_assert_str_eq(be->request_headers->set[1].value, "home:80");
	ck_assert_uint_eq(be->request_headers->nremove, 1);
	ck_assert_str_eq(be->request_headers->remove[0], "X-Drop");
	ck_assert_ptr_nonnull(be->response_headers);
	ck_assert_str_eq(be->response_headers->set[0].name, "X-Resp");
}
END_TEST

START_TEST(headers_not_applied_by_default)
{
	ing_run(HEADERS_POLICY, ING("h", "", "{rules: [" HOME_RULE("h.example.com") "]}"));
	const contour_dag_backend_t *be =
	    &ing_route(ing_vhost("h.example.com"), CONTOUR_DAG_PATH_PREFIX, "/")->backends[0];
	ck_assert_ptr_null(be->request_headers);
	ck_assert_ptr_null(be->response_headers);
}
END_TEST

START_TEST(headers_refused_skip_rule)
{
	ing_run("policy:\n  response-headers:\n    set: {Host: x}\n  applyToIngress: true\n",
	        ING("h", "", "{rules: [" HOME_RULE("h.example.com") "]}"));
	ck_assert_ptr_null(ing_vhost("h.example.com"));
	ing_assert_logged("ingress roots/h: rule h.example.com skipped: rewriting");
	ing_assert_logged("header is not supported on response headers");
}
END_TEST

START_TEST(status_load_balancer)
{
	ing_run("ingress-status-address: \"10.0.0.1, lb.example.com,2001:db8::1\"\n",
	        ING("s", "", "{rules: [" HOME_RULE("s.example.com") "]}"));
	const json_t *st = ing_status("s");
	ck_assert_ptr_nonnull(st);
	const json_t *list = json_object_get(json_object_get(st, "loadBalancer"), "ingress");
	ck_assert_uint_eq(json_array_size(list), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "ip")),
	                 "10.0.0.1");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 1), "hostname")),
	                 "lb.example.com");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 2), "ip")),
	                 "2001:db8::1");
}
END_TEST

START_TEST(status_without_address)
{
	json_t *lb = ing_status_load_balancer(NULL);
	ck_assert_int_eq(json_object_size(lb), 0);
	json_decref(lb);
	lb = ing_status_load_balancer(" , 300.1.1.1 ,");
	const json_t *list = json_object_get(lb, "ingress");
	ck_assert_uint_eq(json_array_size(list), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "hostname")),
	                 "300.1.1.1");
	json_decref(lb);
	ing_run(NULL, ING("s", "", "{rules: [" HOME_RULE("s.example.com") "]}"));
	ck_assert_int_eq(json_object_size(json_object_get(ing_status("s"), "loadBalancer")), 0);
}
END_TEST

static Suite *ingress_suite(void)
{
	Suite *s = suite_create("ingress");
	TCase *tc = tcase_create("rules");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, paths_and_backends);
	tcase_add_test(tc, path_match_unit);
	tcase_add_test(tc, default_backend_and_empty_host);
	tcase_add_test(tc, default_backend_alone);
	tcase_add_test(tc, wildcard_host);
	tcase_add_test(tc, bad_inputs_skipped);
	suite_add_tcase(s, tc);

	tc = tcase_create("annotations");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, annotation_timeouts);
	tcase_add_test(tc, annotation_retries);
	tcase_add_test(tc, annotation_num_retries);
	tcase_add_test(tc, annotation_websockets);
	tcase_add_test(tc, annotation_allow_http_and_redirect);
	suite_add_tcase(s, tc);

	tc = tcase_create("tls");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tls_hosts_and_versions);
	tcase_add_test(tc, tls_cert_namespace_without_delegation);
	tcase_add_test(tc, tls_cert_namespace_with_delegation);
	suite_add_tcase(s, tc);

	tc = tcase_create("class");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, class_default);
	tcase_add_test(tc, class_configured);
	tcase_add_test(tc, class_flag_string);
	suite_add_tcase(s, tc);

	tc = tcase_create("merge");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, merge_httpproxy_after);
	tcase_add_test(tc, merge_httpproxy_before);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, headers_apply_to_ingress);
	tcase_add_test(tc, headers_not_applied_by_default);
	tcase_add_test(tc, headers_refused_skip_rule);
	tcase_add_test(tc, status_load_balancer);
	tcase_add_test(tc, status_without_address);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(ingress_suite());
}
