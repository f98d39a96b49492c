/* tests/unit/check_tls_delegation.c: the tls-delegation module, linked in
 * and driven through the real core: built-in loader, store, build pipeline;
 * the result is read from the published snapshot's DAG. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"

extern const contour_module_desc_t contour_module;

static core_t *core;
static contour_module_t m; /* the test's source */
static contour_source_t *src;

static void setup(void)
{
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	m = (contour_module_t){.core = core, .name = "t", .state = CORE_MOD_INITIALISING};
	ck_assert_int_eq(contour_register_source(&m, "src", &src), CONTOUR_EOK);
	json_t *errs = json_array();
	contour_module_t *mod = NULL;
	ck_assert_int_eq(core_module_add_builtin(core, &contour_module, NULL, errs, &mod),
	                 CONTOUR_EOK);
	json_decref(errs);
	ck_assert_int_eq(core_modules_init_start(core), CONTOUR_EOK);
	contour_source_set_synced(src);
	tu_log_capture_start();
}

static void teardown(void)
{
	core_free(core);
	core = NULL;
	tu_log_capture_stop();
}

static json_t *delegation(const char *ns, const char *name, json_t *delegations)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:o}}", "apiVersion", "projectcontour.io/v1",
	                 "kind", "TLSCertificateDelegation", "metadata", "namespace", ns, "name",
	                 name, "spec", "delegations", delegations);
}

static void put(json_t *obj)
{
	ck_assert_ptr_nonnull(obj);
	ck_assert_int_eq(contour_store_put_new(src, obj), CONTOUR_EOK);
}

/* Build and return the published DAG. */
static const contour_dag_t *build(void)
{
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	contour_snapshot_t *snap = contour_snapshot_current(&core->self);
	ck_assert_ptr_nonnull(snap);
	return contour_snapshot_dag(snap);
}

START_TEST(descriptor)
{
	ck_assert_str_eq(contour_module.name, "tls-delegation");
	ck_assert_uint_eq(contour_module.flags & CONTOUR_MODULE_F_PROCESSOR,
	                  CONTOUR_MODULE_F_PROCESSOR);
}
END_TEST

START_TEST(delegated_to_namespace)
{
	put(delegation("certs", "d",
	               json_pack("[{s:s, s:[s, s]}, {s:s, s:[s]}]", "secretName", "wild",
	                         "targetNamespaces", "app", "web", "secretName", "other",
	                         "targetNamespaces", "ops")));
	const contour_dag_t *dag = build();
	ck_assert(contour_dag_delegation_permitted(dag, "certs", "wild", "app"));
	ck_assert(contour_dag_delegation_permitted(dag, "certs", "wild", "web"));
	ck_assert(contour_dag_delegation_permitted(dag, "certs", "other", "ops"));
	ck_assert(!contour_dag_delegation_permitted(dag, "certs", "wild", "ops"));
	ck_assert(!contour_dag_delegation_permitted(dag, "certs", "other", "app"));
	/* The Secret is the delegation's namespace's, nobody else's. */
	ck_assert(!contour_dag_delegation_permitted(dag, "app", "wild", "web"));
	/* Same namespace needs no delegation. */
	ck_assert(contour_dag_delegation_permitted(dag, "app", "x", "app"));
}
END_TEST

START_TEST(delegated_to_all)
{
	put(delegation("certs", "d",
	               json_pack("[{s:s, s:[s]}]", "secretName", "wild", "targetNamespaces", "*")));
	const contour_dag_t *dag = build();
	ck_assert(contour_dag_delegation_permitted(dag, "certs", "wild", "app"));
	ck_assert(contour_dag_delegation_permitted(dag, "certs", "wild", "anything"));
	ck_assert(!contour_dag_delegation_permitted(dag, "certs", "tame", "app"));
}
END_TEST

START_TEST(star_among_others)
{
	/* Upstream: "*" is a wildcard only as the sole target. */
	put(delegation(
	    "certs", "d",
	    json_pack("[{s:s, s:[s, s]}]", "secretName", "wild", "targetNamespaces", "app", "*")));
	const contour_dag_t *dag = build();
	ck_assert(contour_dag_delegation_permitted(dag, "certs", "wild", "app"));
	ck_assert(!contour_dag_delegation_permitted(dag, "certs", "wild", "web"));
}
END_TEST

START_TEST(not_delegated)
{
	const contour_dag_t *dag = build();
	ck_assert(!contour_dag_delegation_permitted(dag, "certs", "wild", "app"));
	/* Delegations from several objects add up; deleting one withdraws it. */
	put(delegation(
	    "certs", "a",
	    json_pack("[{s:s, s:[s]}]", "secretName", "wild", "targetNamespaces", "app")));
	put(delegation(
	    "certs", "b",
	    json_pack("[{s:s, s:[s]}]", "secretName", "wild", "targetNamespaces", "web")));
	dag = build();
	ck_assert(contour_dag_delegation_permitted(dag, "certs", "wild", "app"));
	ck_assert(contour_dag_delegation_permitted(dag, "certs", "wild", "web"));
	contour_object_key_t k = {"projectcontour.io/v1", "TLSCertificateDelegation", "certs", "a"};
	ck_assert_int_eq(contour_store_delete(src, &k), CONTOUR_EOK);
	dag = build();
	ck_assert(!contour_dag_delegation_permitted(dag, "certs", "wild", "app"));
	ck_assert(contour_dag_delegation_permitted(dag, "certs", "wild", "web"));
}
END_TEST

START_TEST(malformed_skipped)
{
	put(delegation(
	    "certs", "good",
	    json_pack("[{s:s, s:[s]}]", "secretName", "wild", "targetNamespaces", "app")));
	put(delegation("certs", "notlist", json_string("wild")));
	/* One bad target discards the whole object, its good entries too. */
	put(delegation("certs", "badtarget",
	               json_pack("[{s:s, s:[s]}, {s:s, s:[i]}]", "secretName", "x",
	                         "targetNamespaces", "web", "secretName", "y", "targetNamespaces",
	                         7)));
	put(delegation("certs", "badname",
	               json_pack("[{s:i, s:[s]}]", "secretName", 3, "targetNamespaces", "web")));
	put(delegation("certs", "badentry", json_pack("[s]", "wild")));
	put(delegation("certs", "targetsnotlist",
	               json_pack("[{s:s, s:s}]", "secretName", "z", "targetNamespaces", "web")));
	put(json_pack("{s:s, s:s, s:{s:s, s:s}, s:s}", "apiVersion", "projectcontour.io/v1", "kind",
	              "TLSCertificateDelegation", "metadata", "namespace", "certs", "name",
	              "specstring", "spec", "nope"));
	/* Missing fields delegate nothing, quietly. */
	put(json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "projectcontour.io/v1", "kind",
	              "TLSCertificateDelegation", "metadata", "namespace", "certs", "name",
	              "empty"));
	const contour_dag_t *dag = build();
	ck_assert(contour_dag_delegation_permitted(dag, "certs", "wild", "app"));
	ck_assert(!contour_dag_delegation_permitted(dag, "certs", "x", "web"));
	ck_assert(!contour_dag_delegation_permitted(dag, "certs", "z", "web"));
	const char *log = tu_log_text();
	ck_assert_msg(strstr(log, "TLSCertificateDelegation certs/notlist: spec.delegations is "
	                          "not a list; ignored"),
	              "%s", log);
	ck_assert_msg(strstr(log, "TLSCertificateDelegation certs/badtarget: "
	                          "spec.delegations[1].targetNamespaces[0] is not a string"),
	              "%s", log);
	ck_assert_msg(strstr(log, "certs/badname: spec.delegations[0].secretName is not a string"),
	              "%s", log);
	ck_assert_msg(strstr(log, "certs/badentry: spec.delegations[0] is not a mapping"), "%s",
	              log);
	ck_assert_msg(strstr(log, "certs/targetsnotlist: spec.delegations[0].targetNamespaces is "
	                          "not a list"),
	              "%s", log);
	ck_assert_msg(strstr(log, "certs/specstring: spec is not a mapping"), "%s", log);
	ck_assert_msg(!strstr(log, "certs/good"), "%s", log);
	ck_assert_msg(!strstr(log, "certs/empty"), "%s", log);
	ck_assert_msg(strstr(log, "tls-delegation"), "%s", log);
}
END_TEST

START_TEST(reference_example)
{
	const char *ref = tu_reference_dir();
	if (!ref) {
		/* Skipped like the other suites' reference tests, except in CI. */
		const char *strict = getenv("CONTOUR_STRICT_TESTS");
		ck_assert_msg(!(strict && !strcmp(strict, "1")),
		              "the reference folder is missing and CONTOUR_STRICT_TESTS=1");
		fprintf(stderr, "reference_example: skipped (no reference folder)\n");
		return;
	}
	char path[4096];
	snprintf(path, sizeof(path),
	         "%s/contour-examples/example-workload/httpproxy/02-tls-options/"
	         "httpproxy-tls-cert-delegation.yaml",
	         ref);
	json_t *docs = NULL;
	contour_yaml_error_t yerr;
	ck_assert_int_eq(contour_yaml_parse_file(path, &docs, NULL, &yerr), CONTOUR_EOK);
	size_t i;
	json_t *doc;
	json_array_foreach(docs, i, doc)
	{
		put(json_incref(doc));
	}
	json_decref(docs);
	const contour_dag_t *dag = build();
	ck_assert(contour_dag_delegation_permitted(dag, "www-admin", "example-com-wildcard",
	                                           "example-com"));
	ck_assert(
	    !contour_dag_delegation_permitted(dag, "www-admin", "example-com-wildcard", "kuard"));
}
END_TEST

/* A processor after tls-delegation sees its delegations in the same build. */
static int seen;
static int later_proc(contour_snapshot_t *building, void *ud)
{
	seen = contour_dag_delegation_permitted(contour_snapshot_dag(building), "certs", "wild",
	                                        "app");
	return CONTOUR_EOK;
}

START_TEST(runs_before_primary)
{
	/* The test's handle may register outside init in the core's state. */
	m.state = CORE_MOD_CORE;
	ck_assert_int_eq(
	    contour_register_processor(&m, "later", CONTOUR_ORDER_PRIMARY, later_proc, NULL),
	    CONTOUR_EOK);
	put(delegation(
	    "certs", "d",
	    json_pack("[{s:s, s:[s]}]", "secretName", "wild", "targetNamespaces", "app")));
	seen = 0;
	build();
	ck_assert_int_eq(seen, 1);
}
END_TEST

static Suite *tls_delegation_suite(void)
{
	Suite *s = suite_create("tls-delegation");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, descriptor);
	tcase_add_test(tc, delegated_to_namespace);
	tcase_add_test(tc, delegated_to_all);
	tcase_add_test(tc, star_among_others);
	tcase_add_test(tc, not_delegated);
	tcase_add_test(tc, reference_example);
	tcase_add_test(tc, runs_before_primary);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, malformed_skipped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(tls_delegation_suite());
}
