/* tests/unit/check_ing_validate.c: the Ingress validator's decision table,
 * through the real core: the ingress module built in, objects in the
 * store through a fake source, reviews put with contour_review_run as the
 * admission module puts them. Messages are the build's log lines without
 * their "ingress NS/NAME: " prefix. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"

extern const contour_module_desc_t contour_module;

static core_t *core;
static contour_module_t fake;
static contour_source_t *src;

static const char *iv_cluster =
    "apiVersion: v1\nkind: Service\nmetadata: {namespace: roots, name: web}\n"
    "spec: {ports: [{name: http, port: 80, protocol: TCP}]}\n";

static void setup_with(const char *global)
{
	core = tu_core_with_module(&contour_module, global, iv_cluster, &fake, &src);
	tu_put_docs(src, tu_yaml_file(tu_fixture("httpproxy/secrets.yaml")), 0);
	contour_source_set_synced(src);
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
}

static void setup(void)
{
	setup_with(NULL);
}

static void teardown(void)
{
	core_free(core);
	core = NULL;
	tu_log_capture_stop();
}

/* One review of the first document of yaml; the verdict is the caller's. */
static contour_verdict_t *iv_review(const char *op, const char *yaml)
{
	json_t *docs = tu_yaml(yaml);
	json_t *obj = json_array_get(docs, 0);
	contour_review_t r = {.operation = op, .object = obj};
	if (!strcmp(op, "DELETE")) {
		r.object = NULL;
		r.old_object = obj;
	}
	contour_verdict_t *v = contour_verdict_new();
	ck_assert_int_eq(contour_review_run(&fake, "networking.k8s.io/v1", "Ingress", &r, v), 1);
	json_decref(docs);
	return v;
}

static const char *iv_denial(const contour_verdict_t *v, size_t i, const char *member)
{
	return json_string_value(
	    json_object_get(json_array_get(contour_verdict_denials(v), i), member));
}

static const char *iv_warning(const contour_verdict_t *v, size_t i)
{
	return json_string_value(json_array_get(contour_verdict_warnings(v), i));
}

static void iv_assert_clean(const contour_verdict_t *v)
{
	char *d = json_dumps(contour_verdict_denials(v), JSON_COMPACT);
	char *w = json_dumps(contour_verdict_warnings(v), JSON_COMPACT);
	ck_assert_msg(contour_verdict_allowed(v) && !contour_verdict_ignored(v), "denied: %s", d);
	ck_assert_msg(json_array_size(contour_verdict_denials(v)) == 0, "denials: %s", d);
	ck_assert_msg(json_array_size(contour_verdict_warnings(v)) == 0, "warnings: %s", w);
	free(d);
	free(w);
}

/* Exactly one denial, on field, with message. */
static void iv_assert_denied(const contour_verdict_t *v, const char *field, const char *message)
{
	char *d = json_dumps(contour_verdict_denials(v), JSON_COMPACT);
	ck_assert_msg(!contour_verdict_allowed(v), "allowed");
	ck_assert_msg(json_array_size(contour_verdict_denials(v)) == 1, "denials: %s", d);
	free(d);
	ck_assert_str_eq(iv_denial(v, 0, "field"), field);
	ck_assert_str_eq(iv_denial(v, 0, "message"), message);
}

/* An Ingress in roots: name, annotations (flow mapping body), spec. */
#define ING(name, annotations, spec)                                                               \
	"apiVersion: networking.k8s.io/v1\nkind: Ingress\n"                                        \
	"metadata: {namespace: roots, name: " name ", annotations: {" annotations "}}\n"           \
	"spec: " spec "\n"
#define PATH(path, type, svc)                                                                      \
	"{path: \"" path "\", pathType: " #type ", backend: {service: {name: " #svc                \
	", port: {number: 80}}}}"
#define RULE(host, paths) "{host: " host ", http: {paths: [" paths "]}}"
#define WEB_RULE          RULE("a.example.com", PATH("/", Prefix, web))

/* The domain layer's message for a duration, as the build logs it. */
static const char *iv_timeout_err(const char *s)
{
	static char err[256];
	int64_t ms;
	ck_assert_int_lt(contour_timeout_parse(s, &ms, err, sizeof(err)), 0);
	return err;
}

static const char *iv_regex_err(const char *re)
{
	static char err[1024];
	ck_assert_int_lt(contour_regex_check(re, err, sizeof(err)), 0);
	return err;
}

START_TEST(valid_allowed)
{
	const char *before = strdup(tu_log_text());
	contour_verdict_t *v = iv_review(
	    "CREATE",
	    ING("ok",
	        "projectcontour.io/response-timeout: 30s, projectcontour.io/retry-on: 5xx,"
	        "projectcontour.io/per-try-timeout: 250ms, projectcontour.io/num-retries: \"3\","
	        "projectcontour.io/tls-minimum-protocol-version: \"1.3\"",
	        "{tls: [{hosts: [a.example.com], secretName: tls-cert}],"
	        " defaultBackend: {service: {name: web, port: {name: http}}},"
	        " rules: [" RULE("a.example.com",
	                         PATH("/", Prefix, web) "," PATH("/x", Exact, web) "," PATH(
	                             "/v[0-9]+", ImplementationSpecific, web)) "]}"));
	iv_assert_clean(v);
	contour_verdict_free(v);
	/* a review writes no log line: the log is the build's */
	ck_assert_str_eq(tu_log_text(), before);
	free((void *)before);
	/* UPDATE of a stored one, the same */
	tu_put_docs(src, tu_yaml(ING("ok", "", "{rules: [" WEB_RULE "]}")), 0);
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	v = iv_review("UPDATE", ING("ok", "", "{rules: [" WEB_RULE "]}"));
	iv_assert_clean(v);
	contour_verdict_free(v);
}
END_TEST

START_TEST(bad_annotations)
{
	char msg[512];
	contour_verdict_t *v =
	    iv_review("CREATE", ING("t", "projectcontour.io/response-timeout: forever",
	                            "{rules: [" WEB_RULE "]}"));
	snprintf(msg, sizeof(msg),
	         "error parsing response-timeout annotation, using the default value: %s",
	         iv_timeout_err("forever"));
	iv_assert_denied(v, "metadata.annotations[projectcontour.io/response-timeout]", msg);
	contour_verdict_free(v);

	/* the legacy request-timeout, when response-timeout is absent */
	v = iv_review("CREATE", ING("t", "projectcontour.io/request-timeout: 10parsecs",
	                            "{rules: [" WEB_RULE "]}"));
	snprintf(msg, sizeof(msg),
	         "error parsing response-timeout annotation, using the default value: %s",
	         iv_timeout_err("10parsecs"));
	iv_assert_denied(v, "metadata.annotations[projectcontour.io/request-timeout]", msg);
	contour_verdict_free(v);
	/* ... and not looked at when response-timeout is given */
	v = iv_review("CREATE", ING("t",
	                            "projectcontour.io/request-timeout: 10parsecs,"
	                            "projectcontour.io/response-timeout: 1s",
	                            "{rules: [" WEB_RULE "]}"));
	iv_assert_clean(v);
	contour_verdict_free(v);

	/* per-try-timeout counts with a retry policy only */
	v = iv_review("CREATE", ING("t",
	                            "projectcontour.io/retry-on: 5xx,"
	                            "projectcontour.io/per-try-timeout: soon",
	                            "{rules: [" WEB_RULE "]}"));
	snprintf(msg, sizeof(msg), "error parsing per-try-timeout annotation: %s",
	         iv_timeout_err("soon"));
	iv_assert_denied(v, "metadata.annotations[projectcontour.io/per-try-timeout]", msg);
	contour_verdict_free(v);
	v = iv_review("CREATE", ING("t", "projectcontour.io/per-try-timeout: soon",
	                            "{rules: [" WEB_RULE "]}"));
	iv_assert_clean(v);
	contour_verdict_free(v);

	/* a TLS version range upside down, with TLS hosts */
	v = iv_review("CREATE", ING("t",
	                            "projectcontour.io/tls-minimum-protocol-version: \"1.3\","
	                            "projectcontour.io/tls-maximum-protocol-version: \"1.2\"",
	                            "{tls: [{hosts: [a.example.com], secretName: tls-cert}],"
	                            " rules: [" WEB_RULE "]}"));
	iv_assert_denied(v, "metadata.annotations[projectcontour.io/tls-minimum-protocol-version]",
	                 "error TLS protocol version, the minimum protocol version is greater "
	                 "than the maximum protocol version (minTLSVersion=1.3 "
	                 "maxTLSVersion=1.2); TLS skipped");
	contour_verdict_free(v);
	/* ... still refused while its Secret does not exist yet, with a warning */
	v = iv_review("CREATE", ING("t",
	                            "projectcontour.io/tls-minimum-protocol-version: \"1.3\","
	                            "projectcontour.io/tls-maximum-protocol-version: \"1.2\"",
	                            "{tls: [{hosts: [a.example.com], secretName: later}],"
	                            " rules: [" WEB_RULE "]}"));
	ck_assert_int_eq(json_array_size(contour_verdict_denials(v)), 1);
	ck_assert_int_eq(json_array_size(contour_verdict_warnings(v)), 1);
	ck_assert_ptr_nonnull(strstr(iv_warning(v, 0), "unresolved secret reference roots/later"));
	contour_verdict_free(v);

	/* every problem at once, annotations first */
	v = iv_review("CREATE", ING("t",
	                            "projectcontour.io/response-timeout: x,"
	                            "projectcontour.io/retry-on: 5xx,"
	                            "projectcontour.io/per-try-timeout: y",
	                            "{rules: [" WEB_RULE "]}"));
	ck_assert_int_eq(json_array_size(contour_verdict_denials(v)), 2);
	ck_assert_str_eq(iv_denial(v, 0, "field"),
	                 "metadata.annotations[projectcontour.io/response-timeout]");
	ck_assert_str_eq(iv_denial(v, 1, "field"),
	                 "metadata.annotations[projectcontour.io/per-try-timeout]");
	contour_verdict_free(v);
}
END_TEST

START_TEST(bad_paths)
{
	char msg[1400];
	char *before = strdup(tu_log_text());
	contour_verdict_t *v = iv_review(
	    "CREATE", ING("t", "",
	                  "{rules: [" WEB_RULE
	                  "," RULE("b.example.com", PATH("/ok", Prefix, web) "," PATH(
	                                                "/a[", ImplementationSpecific, web)) "]}"));
	snprintf(msg, sizeof(msg), "rule b.example.com skipped: path /a[ is not valid: %s",
	         iv_regex_err("/a["));
	iv_assert_denied(v, "spec.rules[1].http.paths[1].path", msg);
	contour_verdict_free(v);

	/* a bad regex is refused even while its Service does not exist yet */
	v = iv_review("CREATE",
	              ING("t", "",
	                  "{rules: [" RULE("b.example.com",
	                                   PATH("/a[", ImplementationSpecific, later)) "]}"));
	iv_assert_denied(v, "spec.rules[0].http.paths[0].path", msg);
	ck_assert_int_eq(json_array_size(contour_verdict_warnings(v)), 1);
	ck_assert_ptr_nonnull(strstr(iv_warning(v, 0), "unresolved service reference later"));
	contour_verdict_free(v);

	/* a pathType the build does not know */
	v = iv_review("CREATE",
	              ING("t", "", "{rules: [" RULE("b.example.com", PATH("/a", Bogus, web)) "]}"));
	iv_assert_denied(v, "spec.rules[0].http.paths[0].pathType",
	                 "rule b.example.com skipped: path /a is not valid: unsupported pathType "
	                 "\"Bogus\"");
	contour_verdict_free(v);

	/* a backend that is not a Service */
	v = iv_review("CREATE",
	              ING("t", "",
	                  "{rules: [{host: b.example.com, http: {paths: [{path: /r, pathType: "
	                  "Prefix, backend: {resource: {kind: Bucket, name: b}}}]}}]}"));
	iv_assert_denied(v, "spec.rules[0].http.paths[0].backend",
	                 "path /r: only Service backends are supported; skipped");
	contour_verdict_free(v);
	v = iv_review("CREATE",
	              ING("t", "", "{defaultBackend: {resource: {kind: Bucket, name: b}}}"));
	iv_assert_denied(v, "spec.defaultBackend",
	                 "path /: only Service backends are supported; skipped");
	contour_verdict_free(v);
	/* a review writes no log line, even for what the build would log */
	ck_assert_str_eq(tu_log_text(), before);
	free(before);
}
END_TEST

START_TEST(references_warn)
{
	/* a Service that does not exist yet */
	contour_verdict_t *v = iv_review(
	    "CREATE",
	    ING("t", "", "{rules: [" RULE("a.example.com", PATH("/", Prefix, later)) "]}"));
	ck_assert(contour_verdict_allowed(v));
	ck_assert_int_eq(json_array_size(contour_verdict_denials(v)), 0);
	ck_assert_int_eq(json_array_size(contour_verdict_warnings(v)), 1);
	ck_assert_ptr_nonnull(strstr(iv_warning(v, 0), "unresolved service reference later: "));
	contour_verdict_free(v);
	/* a port the Service does not have */
	v = iv_review("CREATE",
	              ING("t", "", "{defaultBackend: {service: {name: web, port: {number: 81}}}}"));
	ck_assert(contour_verdict_allowed(v));
	ck_assert_int_eq(json_array_size(contour_verdict_warnings(v)), 1);
	ck_assert_ptr_nonnull(strstr(iv_warning(v, 0), "unresolved service reference web: "));
	contour_verdict_free(v);

	/* a TLS Secret that does not exist yet */
	v = iv_review("CREATE", ING("t", "",
	                            "{tls: [{hosts: [a.example.com], secretName: missing}],"
	                            " rules: [" WEB_RULE "]}"));
	ck_assert(contour_verdict_allowed(v));
	ck_assert_int_eq(json_array_size(contour_verdict_denials(v)), 0);
	ck_assert_int_eq(json_array_size(contour_verdict_warnings(v)), 1);
	ck_assert_ptr_nonnull(
	    strstr(iv_warning(v, 0), "unresolved secret reference roots/missing: "));
	contour_verdict_free(v);

	/* a Secret in another namespace, not delegated (yet) */
	const char *elsewhere = ING("t", "projectcontour.io/tls-cert-namespace: delegated",
	                            "{tls: [{hosts: [a.example.com], secretName: shared-cert}],"
	                            " rules: [" WEB_RULE "]}");
	v = iv_review("CREATE", elsewhere);
	ck_assert(contour_verdict_allowed(v));
	ck_assert_int_eq(json_array_size(contour_verdict_warnings(v)), 1);
	ck_assert_str_eq(iv_warning(v, 0),
	                 "secret delegated/shared-cert: certificate delegation not permitted");
	contour_verdict_free(v);
	/* once delegated (the current snapshot's delegations), nothing to say */
	tu_put_docs(src,
	            tu_yaml("apiVersion: projectcontour.io/v1\nkind: TLSCertificateDelegation\n"
	                    "metadata: {namespace: delegated, name: d}\n"
	                    "spec: {delegations: [{secretName: shared-cert, "
	                    "targetNamespaces: [roots]}]}\n"),
	            0);
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	v = iv_review("CREATE", elsewhere);
	iv_assert_clean(v);
	contour_verdict_free(v);
}
END_TEST

START_TEST(other_class_ignored)
{
	contour_verdict_t *v = iv_review(
	    "CREATE",
	    ING("t",
	        "kubernetes.io/ingress.class: other,"
	        "projectcontour.io/response-timeout: forever",
	        "{rules: [" RULE("a.example.com", PATH("/a[", ImplementationSpecific, web)) "]}"));
	ck_assert(contour_verdict_allowed(v));
	ck_assert(contour_verdict_ignored(v));
	ck_assert_int_eq(json_array_size(contour_verdict_denials(v)), 0);
	contour_verdict_free(v);
	v = iv_review("CREATE",
	              ING("t", "",
	                  "{ingressClassName: other, rules: [" RULE(
	                      "a.example.com", PATH("/a[", ImplementationSpecific, web)) "]}"));
	ck_assert(contour_verdict_ignored(v));
	contour_verdict_free(v);
	/* "contour" is ours when no class is configured */
	v = iv_review("CREATE", ING("t",
	                            "kubernetes.io/ingress.class: contour,"
	                            "projectcontour.io/response-timeout: forever",
	                            "{rules: [" WEB_RULE "]}"));
	ck_assert(!contour_verdict_allowed(v));
	contour_verdict_free(v);
}
END_TEST

START_TEST(class_configured)
{
	teardown();
	setup_with("ingress-class-name: edge\n");
	contour_verdict_t *v = iv_review("CREATE", ING("t", "", "{rules: [" WEB_RULE "]}"));
	/* an unclassed Ingress is not ours once a class is configured */
	ck_assert(contour_verdict_ignored(v));
	contour_verdict_free(v);
	v = iv_review("CREATE", ING("t",
	                            "kubernetes.io/ingress.class: edge,"
	                            "projectcontour.io/response-timeout: forever",
	                            "{rules: [" WEB_RULE "]}"));
	ck_assert(!contour_verdict_allowed(v));
	contour_verdict_free(v);
}
END_TEST

START_TEST(deletion_allowed)
{
	const char *bad =
	    ING("t", "projectcontour.io/response-timeout: forever",
	        "{rules: [" RULE("a.example.com", PATH("/a[", ImplementationSpecific, web)) "]}");
	contour_verdict_t *v = iv_review("DELETE", bad);
	iv_assert_clean(v);
	contour_verdict_free(v);
	v = iv_review("CONNECT", bad);
	iv_assert_clean(v);
	contour_verdict_free(v);
	/* being deleted: finalizers must stay removable */
	v = iv_review("UPDATE", "apiVersion: networking.k8s.io/v1\nkind: Ingress\n"
	                        "metadata: {namespace: roots, name: t, deletionTimestamp: "
	                        "\"2026-12-07T00:00:00Z\", annotations: "
	                        "{projectcontour.io/response-timeout: forever}}\n"
	                        "spec: {rules: [" WEB_RULE "]}\n");
	iv_assert_clean(v);
	contour_verdict_free(v);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ing_validate");
	TCase *tc = tcase_create("own");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, valid_allowed);
	tcase_add_test(tc, bad_annotations);
	tcase_add_test(tc, bad_paths);
	suite_add_tcase(s, tc);
	tc = tcase_create("others");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, references_warn);
	tcase_add_test(tc, other_class_ignored);
	tcase_add_test(tc, class_configured);
	tcase_add_test(tc, deletion_allowed);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
