/* tests/unit/check_hp_validate.c: the HTTPProxy validator's decision table,
 * through the real core: the httpproxy module built in, objects in the
 * store through a fake source, reviews put with contour_review_run as the
 * admission module puts them. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"

extern const contour_module_desc_t contour_module;

static core_t *core;
static contour_module_t fake;
static contour_source_t *src;

static const char *hv_cluster =
    "apiVersion: v1\nkind: Service\nmetadata: {namespace: a, name: web}\n"
    "spec: {ports: [{port: 80, protocol: TCP}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Service\nmetadata: {namespace: b, name: web}\n"
    "spec: {ports: [{port: 80, protocol: TCP}]}\n"
    "---\n"
    "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
    "metadata: {namespace: a, name: owner}\n"
    "spec:\n  virtualhost: {fqdn: Shop.Example.com}\n"
    "  routes: [{services: [{name: web, port: 80}]}]\n"
    "---\n"
    "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
    "metadata: {namespace: a, name: other-root}\n"
    "spec:\n  virtualhost: {fqdn: blog.example.com}\n"
    "  routes: [{services: [{name: web, port: 80}]}]\n"
    "---\n"
    "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
    "metadata: {namespace: b, name: child}\n"
    "spec:\n  routes: [{services: [{name: web, port: 80}]}]\n";

static void setup_with(const char *global)
{
	core = tu_core_with_module(&contour_module, global, hv_cluster, &fake, &src);
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
static contour_verdict_t *hv_review(const char *op, const char *yaml, const json_t *old)
{
	json_t *docs = tu_yaml(yaml);
	json_t *obj = json_array_get(docs, 0);
	contour_review_t r = {.operation = op, .object = obj, .old_object = old};
	if (!strcmp(op, "DELETE")) {
		r.object = NULL;
		r.old_object = obj;
	}
	contour_verdict_t *v = contour_verdict_new();
	ck_assert_int_eq(contour_review_run(&fake, "projectcontour.io/v1", "HTTPProxy", &r, v), 1);
	json_decref(docs);
	return v;
}

static const json_t *hv_stored(const char *ns, const char *name)
{
	contour_object_key_t key = {"projectcontour.io/v1", "HTTPProxy", ns, name};
	return contour_store_get(&fake, &key);
}

static const char *hv_denial(const contour_verdict_t *v, size_t i, const char *member)
{
	return json_string_value(
	    json_object_get(json_array_get(contour_verdict_denials(v), i), member));
}

static int hv_warned(const contour_verdict_t *v, const char *needle)
{
	size_t i;
	const json_t *w;
	json_array_foreach(contour_verdict_warnings(v), i, w)
	{
		if (strstr(json_string_value(w), needle))
			return 1;
	}
	return 0;
}

#define HV_ROOT(ns, name, fqdn, extra)                                                             \
	"apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"                                      \
	"metadata: {namespace: " ns ", name: " name extra "}\n"                                    \
	"spec:\n  virtualhost: {fqdn: " fqdn "}\n"                                                 \
	"  routes: [{services: [{name: web, port: 80}]}]\n"

START_TEST(collision_case_insensitive)
{
	contour_verdict_t *v =
	    hv_review("CREATE", HV_ROOT("b", "thief", "shop.EXAMPLE.com", ""), NULL);
	ck_assert(!contour_verdict_allowed(v));
	ck_assert_int_eq(json_array_size(contour_verdict_denials(v)), 1);
	ck_assert_str_eq(
	    hv_denial(v, 0, "message"),
	    "fqdn \"shop.example.com\" is used in multiple HTTPProxies: a/owner, b/thief");
	ck_assert_str_eq(hv_denial(v, 0, "field"), "spec.virtualhost.fqdn");
	ck_assert_str_eq(hv_denial(v, 0, "reason"), "DuplicateVhost");
	contour_verdict_free(v);
	/* dry-run asks the same question and gets the same answer */
	v = hv_review("CREATE", HV_ROOT("b", "thief", "shop.example.com", ""), NULL);
	ck_assert(!contour_verdict_allowed(v));
	contour_verdict_free(v);
	/* a free name passes with nothing to say */
	v = hv_review("CREATE", HV_ROOT("b", "new", "new.example.com", ""), NULL);
	ck_assert(contour_verdict_allowed(v));
	ck_assert_int_eq(json_array_size(contour_verdict_warnings(v)), 0);
	contour_verdict_free(v);
}
END_TEST

START_TEST(collision_other_class)
{
	/* another class's proxy: allowed untouched, whatever it holds */
	contour_verdict_t *v =
	    hv_review("CREATE",
	              HV_ROOT("b", "thief", "shop.example.com",
	                      ", annotations: {kubernetes.io/ingress.class: other}"),
	              NULL);
	ck_assert(contour_verdict_allowed(v));
	ck_assert(contour_verdict_ignored(v));
	contour_verdict_free(v);
	/* ... and it claims nothing: ours may take a name it holds */
	tu_put_docs(src,
	            tu_yaml(HV_ROOT("c", "theirs", "theirs.example.com",
	                            ", annotations: {projectcontour.io/ingress.class: other}")),
	            0);
	v = hv_review("CREATE", HV_ROOT("b", "ours", "theirs.example.com", ""), NULL);
	ck_assert(contour_verdict_allowed(v));
	contour_verdict_free(v);
}
END_TEST

START_TEST(collision_update_and_delete)
{
	/* an edit that keeps its own name is fine */
	contour_verdict_t *v = hv_review("UPDATE", HV_ROOT("a", "owner", "shop.example.com", ""),
	                                 hv_stored("a", "owner"));
	ck_assert(contour_verdict_allowed(v));
	contour_verdict_free(v);
	/* moving onto a claimed name is refused */
	v = hv_review("UPDATE", HV_ROOT("a", "other-root", "SHOP.example.com", ""),
	              hv_stored("a", "other-root"));
	ck_assert(!contour_verdict_allowed(v));
	ck_assert_str_eq(hv_denial(v, 0, "reason"), "DuplicateVhost");
	contour_verdict_free(v);
	/* a collision that already exists never blocks an unrelated edit */
	tu_put_docs(src, tu_yaml(HV_ROOT("c", "twin", "shop.example.com", "")), 0);
	v = hv_review("UPDATE", HV_ROOT("c", "twin", "shop.example.com", ", labels: {x: y}"),
	              hv_stored("c", "twin"));
	ck_assert(contour_verdict_allowed(v));
	ck_assert(hv_warned(v, "already used by another HTTPProxy"));
	contour_verdict_free(v);
	/* being deleted, or deleted: allowed */
	v = hv_review(
	    "UPDATE",
	    HV_ROOT("c", "twin", "shop.example.com", ", deletionTimestamp: '2026-12-07T10:00:00Z'"),
	    NULL);
	ck_assert(contour_verdict_allowed(v));
	contour_verdict_free(v);
	v = hv_review("DELETE", HV_ROOT("a", "owner", "shop.example.com", ""), NULL);
	ck_assert(contour_verdict_allowed(v));
	contour_verdict_free(v);
}
END_TEST

START_TEST(index_follows_store)
{
	/* the index is made by the first question, then follows changes */
	contour_verdict_t *v = hv_review("CREATE", HV_ROOT("b", "x", "shop.example.com", ""), NULL);
	ck_assert(!contour_verdict_allowed(v));
	contour_verdict_free(v);
	contour_object_key_t owner = {"projectcontour.io/v1", "HTTPProxy", "a", "owner"};
	ck_assert_int_eq(contour_store_delete(src, &owner), CONTOUR_EOK);
	v = hv_review("CREATE", HV_ROOT("b", "x", "shop.example.com", ""), NULL);
	ck_assert(contour_verdict_allowed(v));
	contour_verdict_free(v);
	/* a root that changes its name frees the old one and claims the new */
	tu_put_docs(src, tu_yaml(HV_ROOT("a", "other-root", "moved.example.com", "")), 0);
	v = hv_review("CREATE", HV_ROOT("b", "y", "blog.example.com", ""), NULL);
	ck_assert(contour_verdict_allowed(v));
	contour_verdict_free(v);
	v = hv_review("CREATE", HV_ROOT("b", "y", "Moved.example.com", ""), NULL);
	ck_assert(!contour_verdict_allowed(v));
	ck_assert_str_eq(hv_denial(v, 0, "message"),
	                 "fqdn \"moved.example.com\" is used in multiple HTTPProxies: "
	                 "a/other-root, b/y");
	contour_verdict_free(v);
}
END_TEST

START_TEST(late_binding_warns)
{
	contour_verdict_t *v =
	    hv_review("CREATE",
	              "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
	              "metadata: {namespace: b, name: early}\n"
	              "spec:\n  virtualhost:\n    fqdn: early.example.com\n"
	              "    tls: {secretName: not-yet}\n"
	              "  includes: [{name: child}, {name: later, namespace: c}]\n"
	              "  routes: [{services: [{name: not-yet, port: 80}]}]\n",
	              NULL);
	ck_assert_msg(contour_verdict_allowed(v), "denied: %s", hv_denial(v, 0, "message"));
	ck_assert_msg(hv_warned(v, "not-yet"), "no warning about the Secret");
	contour_verdict_free(v);
	/* with the Secret in place, the missing Service and include remain */
	v = hv_review("CREATE",
	              "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
	              "metadata: {namespace: b, name: early}\n"
	              "spec:\n  virtualhost: {fqdn: early.example.com}\n"
	              "  includes: [{name: child}, {name: later, namespace: c}]\n"
	              "  routes: [{services: [{name: not-yet, port: 80}]}]\n",
	              NULL);
	ck_assert(contour_verdict_allowed(v));
	ck_assert(hv_warned(v, "include c/later not found"));
	ck_assert(!hv_warned(v, "b/child")); /* it exists: nothing to say */
	ck_assert(hv_warned(v, "not-yet"));
	ck_assert_int_eq(json_array_size(contour_verdict_warnings(v)), 2);
	contour_verdict_free(v);
}
END_TEST

START_TEST(own_errors_all_at_once)
{
	/* the status's errors, as the build finds them: a route's first
	 * error drops the proxy's routes (upstream's computeRoutes), and what
	 * it finds besides (an ignored field) still comes back */
	contour_verdict_t *v =
	    hv_review("CREATE",
	              "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
	              "metadata: {namespace: b, name: bad}\n"
	              "spec:\n  virtualhost:\n    fqdn: bad.example.com\n"
	              "    rateLimitPolicy: {local: {requests: 1, unit: second}}\n"
	              "  routes:\n"
	              "  - conditions: [{prefix: nope}]\n"
	              "    services: [{name: web, port: 80}]\n",
	              NULL);
	ck_assert(!contour_verdict_allowed(v));
	ck_assert_int_eq(json_array_size(contour_verdict_denials(v)), 1);
	ck_assert_str_eq(hv_denial(v, 0, "field"), "spec.routes");
	ck_assert_str_eq(hv_denial(v, 0, "reason"), "PathMatchConditionsNotValid");
	ck_assert_str_eq(hv_denial(v, 0, "message"),
	                 "route: prefix conditions must start with /, nope was supplied");
	ck_assert(hv_warned(v, "RateLimitPolicy"));
	contour_verdict_free(v);
	v = hv_review("CREATE",
	              "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
	              "metadata: {namespace: b, name: bad}\n"
	              "spec:\n  virtualhost: {fqdn: bad.example.com}\n"
	              "  routes:\n"
	              "  - services: [{name: web, port: 80}]\n"
	              "    timeoutPolicy: {response: banana}\n",
	              NULL);
	ck_assert_str_eq(hv_denial(v, 0, "reason"), "TimeoutPolicyNotValid");
	contour_verdict_free(v);
	/* a child on its own: its routes are judged as an include sees them */
	v = hv_review("UPDATE",
	              "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
	              "metadata: {namespace: b, name: child}\n"
	              "spec:\n  routes: [{services: [{name: web, port: 0}]}]\n",
	              hv_stored("b", "child"));
	ck_assert(!contour_verdict_allowed(v));
	ck_assert_str_eq(hv_denial(v, 0, "reason"), "ServicePortInvalid");
	contour_verdict_free(v);
	/* no fqdn */
	v = hv_review("CREATE", HV_ROOT("b", "blank", "''", ""), NULL);
	ck_assert_str_eq(hv_denial(v, 0, "message"), "Spec.VirtualHost.Fqdn must be specified");
	ck_assert_str_eq(hv_denial(v, 0, "field"), "spec.virtualhost.fqdn");
	contour_verdict_free(v);
}
END_TEST

START_TEST(root_namespaces)
{
	teardown();
	setup_with("root-namespaces: [a]\n");
	contour_verdict_t *v = hv_review("CREATE", HV_ROOT("b", "r", "r.example.com", ""), NULL);
	ck_assert(!contour_verdict_allowed(v));
	ck_assert_str_eq(hv_denial(v, 0, "message"),
	                 "root HTTPProxy cannot be defined in this namespace");
	ck_assert_str_eq(hv_denial(v, 0, "field"), "metadata.namespace");
	contour_verdict_free(v);
	v = hv_review("CREATE", HV_ROOT("a", "r", "r.example.com", ""), NULL);
	ck_assert(contour_verdict_allowed(v));
	contour_verdict_free(v);
}
END_TEST

START_TEST(ingress_class_configured)
{
	teardown();
	setup_with("ingress-class-name: edge\n");
	/* no class: not ours when a class is configured */
	contour_verdict_t *v = hv_review("CREATE", HV_ROOT("b", "r", "''", ""), NULL);
	ck_assert(contour_verdict_ignored(v));
	contour_verdict_free(v);
	v = hv_review(
	    "CREATE",
	    HV_ROOT("b", "r", "''", ", annotations: {projectcontour.io/ingress.class: edge}"),
	    NULL);
	ck_assert(!contour_verdict_allowed(v));
	contour_verdict_free(v);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hp_validate");
	TCase *tc = tcase_create("collisions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, collision_case_insensitive);
	tcase_add_test(tc, collision_other_class);
	tcase_add_test(tc, collision_update_and_delete);
	tcase_add_test(tc, index_follows_store);
	suite_add_tcase(s, tc);
	tc = tcase_create("rules");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, late_binding_warns);
	tcase_add_test(tc, own_errors_all_at_once);
	tcase_add_test(tc, root_namespaces);
	tcase_add_test(tc, ingress_class_configured);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
