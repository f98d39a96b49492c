/* tests/unit/check_conf_merge.c: merging the domain layer's table of global
 * keys with the global_schema tables of modules, and checking a file's
 * global keys against the result (core/conf_merge.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"

static const contour_conf_item_t to_a[] = {
    {.key = "request-timeout", .type = CONTOUR_CONF_DURATION},
    {0},
};
static const contour_conf_item_t to_b[] = {
    {.key = "request-timeout", .type = CONTOUR_CONF_DURATION},
    {.key = "connect-timeout", .type = CONTOUR_CONF_DURATION, .def = "2s"},
    {0},
};
static const contour_conf_item_t mod_a[] = {
    {.key = "timeouts", .type = CONTOUR_CONF_MAP, .children = to_a},
    {.key = "root-namespaces", .type = CONTOUR_CONF_STR_LIST},
    {0},
};
static const contour_conf_item_t mod_b[] = {
    {.key = "root-namespaces", .type = CONTOUR_CONF_STR_LIST},
    {.key = "timeouts", .type = CONTOUR_CONF_MAP, .children = to_b},
    {.key = "accesslog-level", .type = CONTOUR_CONF_STR, .def = "info"},
    {0},
};
static const contour_conf_item_t net_ranged[] = {
    {.key = "admin-port", .type = CONTOUR_CONF_INT, .min = 0, .max = 65535},
    {0},
};
static const contour_conf_item_t mod_ranged[] = {
    {.key = "network", .type = CONTOUR_CONF_MAP, .children = net_ranged},
    {0},
};
static const contour_conf_item_t mod_bad[] = {
    {.key = "accesslog-level", .type = CONTOUR_CONF_STR, .def = "error"},
    {0},
};
static const contour_conf_item_t to_bad[] = {
    {.key = "connect-timeout", .type = CONTOUR_CONF_INT},
    {0},
};
static const contour_conf_item_t mod_bad_nested[] = {
    {.key = "timeouts", .type = CONTOUR_CONF_MAP, .children = to_bad},
    {0},
};

static const contour_conf_item_t *find(const contour_conf_item_t *t, const char *key)
{
	for (; t && t->type != CONTOUR_CONF_END; t++)
		if (strcmp(t->key, key) == 0)
			return t;
	return NULL;
}

START_TEST(test_agreeing_tables)
{
	core_conf_table_t tables[] = {{"xds-grpc", mod_a}, {"httpproxy", mod_b}, {"none", NULL}};
	contour_conf_item_t *m = NULL;
	json_t *errors = json_array();
	ck_assert_int_eq(core_conf_merge(tables, 3, &m, errors), CONTOUR_EOK);
	ck_assert_int_eq(json_array_size(errors), 0);
	ck_assert_ptr_nonnull(find(m, "root-namespaces"));
	ck_assert_str_eq(find(m, "accesslog-level")->def, "info");
	size_t n = 0;
	while (m[n].type != CONTOUR_CONF_END)
		n++;
	ck_assert_int_eq(n, 3); /* the shared key is typed once */
	core_conf_merged_free(m);
	json_decref(errors);
}
END_TEST

START_TEST(test_nested_merge)
{
	core_conf_table_t tables[] = {{"xds-grpc", mod_a}, {"httpproxy", mod_b}};
	contour_conf_item_t *m = NULL;
	json_t *errors = json_array();
	ck_assert_int_eq(core_conf_merge(tables, 2, &m, errors), CONTOUR_EOK);
	const contour_conf_item_t *to = find(m, "timeouts");
	ck_assert_ptr_nonnull(to);
	ck_assert_ptr_nonnull(find(to->children, "request-timeout"));
	ck_assert_str_eq(find(to->children, "connect-timeout")->def, "2s");
	core_conf_merged_free(m);
	json_decref(errors);
}
END_TEST

START_TEST(test_disagreeing_tables)
{
	core_conf_table_t tables[] = {{"core", mod_a}, {"xds-grpc", mod_b}, {"metrics", mod_bad}};
	contour_conf_item_t *m = (contour_conf_item_t *)1;
	json_t *errors = json_array();
	ck_assert_int_eq(core_conf_merge(tables, 3, &m, errors), CONTOUR_ECONFIG);
	ck_assert_ptr_null(m);
	ck_assert_int_eq(json_array_size(errors), 1);
	ck_assert_str_eq(json_string_value(json_array_get(errors, 0)),
	                 "global key accesslog-level: typed differently by xds-grpc and metrics");
	json_decref(errors);
}
END_TEST

START_TEST(test_disagreeing_nested)
{
	core_conf_table_t tables[] = {
	    {"xds-grpc", mod_a}, {"httpproxy", mod_b}, {"ingress", mod_bad_nested}};
	contour_conf_item_t *m = NULL;
	json_t *errors = json_array();
	ck_assert_int_eq(core_conf_merge(tables, 3, &m, errors), CONTOUR_ECONFIG);
	ck_assert_str_eq(json_string_value(json_array_get(errors, 0)),
	                 "global key timeouts.connect-timeout: typed differently by httpproxy "
	                 "and ingress");
	json_decref(errors);
}
END_TEST

/* Parse yaml and check its globals against the domain's table and mod. */
static json_t *check(const char *yaml, const contour_conf_item_t *mod, core_conf_t **conf, int *rc)
{
	core_conf_table_t tables[] = {{"core", core_domain_global_schema}, {"httpproxy", mod}};
	json_t *errors = json_array();
	ck_assert_int_eq(core_conf_load_buf(yaml, strlen(yaml), "test.yaml", conf, errors),
	                 CONTOUR_EOK);
	*rc = core_conf_check_globals(*conf, tables, 2, errors);
	return errors;
}

START_TEST(test_upstream_key_accepted)
{
	core_conf_t *conf = NULL;
	int rc;
	/* Upstream's keys that nothing here types: accepted as they are, and
	 * listed as unread, leaf by leaf. */
	json_t *errors = check("rateLimitService: {extensionService: a/b, failOpen: true}\n"
	                       "kubernetesClientQPS: 2.5\n"
	                       "timeouts: {connect-timeout: 1s}\n",
	                       mod_b, &conf, &rc);
	ck_assert_int_eq(rc, CONTOUR_EOK);
	ck_assert_int_eq(json_array_size(errors), 0);
	ck_assert(json_number_value(core_conf_lookup(conf->global, "kubernetesClientQPS")) == 2.5);
	ck_assert_int_eq(json_array_size(conf->unread), 3);
	ck_assert_str_eq(json_string_value(json_array_get(conf->unread, 0)),
	                 "rateLimitService.extensionService");
	ck_assert_str_eq(json_string_value(json_array_get(conf->unread, 1)),
	                 "rateLimitService.failOpen");
	ck_assert_str_eq(json_string_value(json_array_get(conf->unread, 2)),
	                 "kubernetesClientQPS");
	/* typed and defaulted by the module's table, converted once */
	ck_assert_int_eq(
	    json_integer_value(core_conf_lookup(conf->global, "timeouts.connect-timeout")), 1000);
	ck_assert_str_eq(json_string_value(core_conf_lookup(conf->global, "accesslog-level")),
	                 "info");
	/* once only: a second check does not read 1000 as seconds */
	ck_assert_int_eq(core_conf_check_globals(conf, NULL, 0, errors), CONTOUR_EOK);
	ck_assert_int_eq(
	    json_integer_value(core_conf_lookup(conf->global, "timeouts.connect-timeout")), 1000);
	core_conf_free(conf);
	json_decref(errors);
}
END_TEST

/* A module's table can be stricter than upstream's type: its range is
 * checked once it is loaded, with the line. */
START_TEST(test_typed_by_module)
{
	core_conf_t *conf = NULL;
	int rc;
	json_t *errors = check("modules: [{name: x}]\n"
	                       "network:\n  admin-port: 70000\n",
	                       mod_ranged, &conf, &rc);
	ck_assert_int_eq(rc, CONTOUR_ECONFIG);
	ck_assert_int_eq(json_array_size(errors), 1);
	ck_assert_str_eq(json_string_value(json_array_get(errors, 0)),
	                 "test.yaml:3: network.admin-port: 70000 is out of range [0, 65535]");
	core_conf_free(conf);
	json_decref(errors);
	/* without the module that types it, upstream's INT is all that holds */
	errors = check("network:\n  admin-port: 70000\n", NULL, &conf, &rc);
	ck_assert_int_eq(rc, CONTOUR_EOK);
	core_conf_free(conf);
	json_decref(errors);
}
END_TEST

/* Upstream's types hold when no module types the key: checked at parse
 * time, with the line, and not converted there. */
START_TEST(test_upstream_types_at_parse)
{
	core_conf_t *conf = NULL;
	json_t *errors = json_array();
	const char *bad = "timeouts:\n  connect-timeout: soon\nkubernetesClientQPS: lots\n"
	                  "metrics:\n  contour:\n    prot: 8000\nserver: {xds-server-type: envoy}\n";
	ck_assert_int_eq(core_conf_load_buf(bad, strlen(bad), "test.yaml", &conf, errors),
	                 CONTOUR_ECONFIG);
	ck_assert_int_eq(json_array_size(errors), 4);
	ck_assert_str_eq(json_string_value(json_array_get(errors, 0)),
	                 "test.yaml:2: timeouts.connect-timeout: expected a duration such as "
	                 "100ms, 2s or 1m30s, not string \"soon\"");
	ck_assert_str_eq(json_string_value(json_array_get(errors, 1)),
	                 "test.yaml:3: kubernetesClientQPS: expected a number, not string \"lots\"");
	ck_assert_str_eq(json_string_value(json_array_get(errors, 2)),
	                 "test.yaml:6: metrics.contour.prot: unknown key");
	ck_assert_str_eq(json_string_value(json_array_get(errors, 3)),
	                 "test.yaml:7: server.xds-server-type: unknown key");
	json_decref(errors);
	errors = json_array();
	const char *good = "timeouts:\n  connect-timeout: 2s\n";
	ck_assert_int_eq(core_conf_load_buf(good, strlen(good), "test.yaml", &conf, errors),
	                 CONTOUR_EOK);
	ck_assert_str_eq(json_string_value(core_conf_lookup(conf->root, "timeouts.connect-timeout")),
	                 "2s");
	core_conf_free(conf);
	json_decref(errors);
}
END_TEST

START_TEST(test_unknown_key_refused)
{
	core_conf_t *conf = NULL;
	json_t *errors = json_array();
	ck_assert_int_eq(core_conf_load_buf("no-such-key: 1\n", 15, "test.yaml", &conf, errors),
	                 CONTOUR_ECONFIG);
	ck_assert_str_eq(json_string_value(json_array_get(errors, 0)),
	                 "test.yaml:1: no-such-key: unknown key");
	json_decref(errors);
}
END_TEST

static const contour_conf_item_t own_key[] = {
    {.key = "colour", .type = CONTOUR_CONF_STR},
    {0},
};
static const contour_conf_item_t runtime_key[] = {
    {.key = "build-holdoff", .type = CONTOUR_CONF_DURATION},
    {0},
};
static const contour_conf_item_t nested_own[] = {
    {.key = "fallback-certificate", .type = CONTOUR_CONF_MAP, .children = own_key},
    {0},
};
static const contour_conf_item_t tls_nested_own[] = {
    {.key = "tls", .type = CONTOUR_CONF_MAP, .children = nested_own},
    {0},
};

START_TEST(test_module_cannot_type)
{
	core_conf_t *conf = NULL;
	int rc;
	json_t *errors = check("debug: true\n", own_key, &conf, &rc);
	ck_assert_int_eq(rc, CONTOUR_ECONFIG);
	ck_assert_str_eq(json_string_value(json_array_get(errors, 0)),
	                 "global key colour typed by httpproxy is not one of upstream's "
	                 "contour.yaml keys; a module's own settings belong in its config: "
	                 "mapping");
	core_conf_free(conf);
	json_decref(errors);
	errors = check("debug: true\n", runtime_key, &conf, &rc);
	ck_assert_int_eq(rc, CONTOUR_ECONFIG);
	ck_assert_str_eq(
	    json_string_value(json_array_get(errors, 0)),
	    "global key build-holdoff: httpproxy cannot type it, it is the core's own");
	core_conf_free(conf);
	json_decref(errors);
	errors = check("debug: true\n", tls_nested_own, &conf, &rc);
	ck_assert_int_eq(rc, CONTOUR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(errors, 0)),
	                             "tls.fallback-certificate.colour"));
	core_conf_free(conf);
	json_decref(errors);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("conf_merge");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_agreeing_tables);
	tcase_add_test(tc, test_nested_merge);
	tcase_add_test(tc, test_upstream_key_accepted);
	suite_add_tcase(s, tc);
	TCase *te = tcase_create("errors");
	tcase_add_test(te, test_disagreeing_tables);
	tcase_add_test(te, test_disagreeing_nested);
	tcase_add_test(te, test_unknown_key_refused);
	tcase_add_test(te, test_typed_by_module);
	tcase_add_test(te, test_upstream_types_at_parse);
	tcase_add_test(te, test_module_cannot_type);
	suite_add_tcase(s, te);
	return tu_run_suite(s);
}
