/* tests/unit/check_conf.c: the config file, global keys, schema validation
 * and the errors operators see (FILE:LINE: key: problem). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"

/* Load text; return the errors array (caller decrefs) and *rc. */
static json_t *load(const char *yaml, core_conf_t **conf, int *rc)
{
	json_t *errors = json_array();
	*rc = core_conf_load_buf(yaml, strlen(yaml), "test.yaml", conf, errors);
	/* The global keys the modules type, as the loader checks them. */
	if (*rc == CONTOUR_EOK && (*rc = tu_check_globals(*conf, errors)) != CONTOUR_EOK) {
		core_conf_free(*conf);
		*conf = NULL;
	}
	return errors;
}

/* Assert that exactly one error was reported and that it equals want. */
static void expect_error(const char *yaml, const char *want)
{
	core_conf_t *conf = NULL;
	int rc;
	json_t *errors = load(yaml, &conf, &rc);
	char *dump = json_dumps(errors, 0);
	ck_assert_int_ne(rc, CONTOUR_EOK);
	ck_assert_ptr_null(conf);
	ck_assert_msg(json_array_size(errors) == 1, "want one error, got %s", dump);
	ck_assert_str_eq(json_string_value(json_array_get(errors, 0)), want);
	free(dump);
	json_decref(errors);
}

START_TEST(test_good_file)
{
	const char *yaml = "root-namespaces: [roots, more]\n"
	                   "ingress-class-name: contour\n"
	                   "build-holdoff: 30ms\n"
	                   "timeouts:\n"
	                   "  request-timeout: infinity\n"
	                   "  connect-timeout: 5s\n"
	                   "tls:\n"
	                   "  fallback-certificate:\n"
	                   "  minimum-protocol-version: \"1.3\"\n"
	                   "modules:\n"
	                   "  - name: file-watch\n"
	                   "    config: {paths: [a]}\n";
	core_conf_t *conf = NULL;
	int rc;
	json_t *errors = load(yaml, &conf, &rc);
	ck_assert_int_eq(rc, CONTOUR_EOK);
	ck_assert_int_eq(json_array_size(errors), 0);
	const json_t *g = conf->global;
	ck_assert_ptr_null(json_object_get(g, "modules"));
	ck_assert_int_eq(json_array_size(core_conf_lookup(g, "root-namespaces")), 2);
	/* a single string becomes a one-item list */
	ck_assert_str_eq(
	    json_string_value(json_array_get(core_conf_lookup(g, "ingress-class-name"), 0)),
	    "contour");
	ck_assert_int_eq(json_integer_value(core_conf_lookup(g, "build-holdoff")), 30);
	/* defaults filled in */
	ck_assert_int_eq(json_integer_value(core_conf_lookup(g, "build-holdoff-max")), 500);
	ck_assert_int_eq(json_integer_value(core_conf_lookup(g, "timeouts.request-timeout")), -1);
	ck_assert_int_eq(json_integer_value(core_conf_lookup(g, "timeouts.connect-timeout")), 5000);
	/* an explicit null is "unset" */
	ck_assert_ptr_null(core_conf_lookup(g, "tls.fallback-certificate"));
	ck_assert_str_eq(json_string_value(core_conf_lookup(g, "tls.minimum-protocol-version")),
	                 "1.3");
	ck_assert_int_eq(json_array_size(json_object_get(conf->root, "modules")), 1);
	core_conf_free(conf);
	json_decref(errors);
}
END_TEST

START_TEST(test_unknown_top_key)
{
	expect_error("debug: false\n"
	             "colour: blue\n"
	             "modules: [{name: x}]\n",
	             "test.yaml:2: colour: unknown key");
}
END_TEST

START_TEST(test_wrong_types)
{
	expect_error("modules: [{name: x}]\n"
	             "debug: yes\n",
	             "test.yaml:2: debug: expected true or false, not string \"yes\"");
	expect_error("modules: [{name: x}]\n"
	             "network:\n"
	             "  admin-port: 70000\n",
	             "test.yaml:3: network.admin-port: 70000 is out of range [0, 65535]");
	expect_error("modules: [{name: x}]\n"
	             "timeouts:\n"
	             "  connect-timeout: soon\n",
	             "test.yaml:3: timeouts.connect-timeout: expected a duration such as 100ms, "
	             "2s or 1m30s, not string \"soon\"");
	expect_error("modules: [{name: x}]\n"
	             "root-namespaces:\n"
	             "  - a\n"
	             "  - {b: c}\n",
	             "test.yaml:4: root-namespaces: item 1 must be a string, not a mapping");
	expect_error("modules: {name: x}\n",
	             "test.yaml:1: modules: expected a list, not a mapping");
}
END_TEST

/* Bare numbers are seconds: one too large for milliseconds is refused, not
 * wrapped. */
START_TEST(test_duration_overflow)
{
	expect_error("modules: [{name: x}]\n"
	             "timeouts:\n"
	             "  request-timeout: 111111111121111111\n",
	             "test.yaml:3: timeouts.request-timeout: 111111111121111111 seconds is out of "
	             "range");
	expect_error("build-holdoff: -9223372036854776\n"
	             "modules: [{name: x}]\n",
	             "test.yaml:1: build-holdoff: -9223372036854776 seconds is out of range");
}
END_TEST

START_TEST(test_nested_unknown_key)
{
	expect_error("modules: [{name: x}]\n"
	             "tls:\n"
	             "  minimum-protocol-version: \"1.2\"\n"
	             "  fallback-certificate:\n"
	             "    name: fb\n"
	             "    namespce: projectcontour\n",
	             "test.yaml:6: tls.fallback-certificate.namespce: unknown key");
}
END_TEST

START_TEST(test_syntax_error)
{
	core_conf_t *conf = NULL;
	int rc;
	json_t *errors = load("modules:\n  - name: x\n  bad: [unclosed\n", &conf, &rc);
	ck_assert_int_eq(rc, CONTOUR_EPARSE);
	ck_assert_int_eq(json_array_size(errors), 1);
	const char *msg = json_string_value(json_array_get(errors, 0));
	/* FILE:LINE:COLUMN: message */
	ck_assert_msg(!strncmp(msg, "test.yaml:3:", 12), "got %s", msg);
	json_decref(errors);
}
END_TEST

START_TEST(test_document_shape)
{
	expect_error("modules: [{name: x}]\n---\nmodules: [{name: y}]\n",
	             "test.yaml:3: (document): the config must be a single YAML document");
	expect_error("- a\n- b\n", "test.yaml:1: (document): the config must be a mapping");
	expect_error("modules: []\n", "test.yaml:1: modules: no modules listed");
}
END_TEST

START_TEST(test_module_entries)
{
	expect_error("modules:\n"
	             "  - name: a\n"
	             "  - paht: /x.so\n"
	             "    name: b\n",
	             "test.yaml:3: modules[1].paht: unknown key");
	expect_error("modules:\n"
	             "  - name: a\n"
	             "  - config: {}\n",
	             "test.yaml:3: modules[1].name: required key is missing");
	expect_error("modules:\n"
	             "  - name: a\n"
	             "  - just-a-string\n",
	             "test.yaml:3: modules[1]: expected a mapping with name, path and config");
}
END_TEST

START_TEST(test_several_errors_reported)
{
	core_conf_t *conf = NULL;
	int rc;
	json_t *errors = load("a: 1\nb: 2\nmodules: [{name: x, c: 3}]\n", &conf, &rc);
	ck_assert_int_eq(rc, CONTOUR_ECONFIG);
	ck_assert_int_eq(json_array_size(errors), 3);
	ck_assert_str_eq(json_string_value(json_array_get(errors, 2)),
	                 "test.yaml:3: modules[0].c: unknown key");
	json_decref(errors);
}
END_TEST

/* An operator's upstream contour.yaml (no module list) validates unchanged and
 * runs the default module set. */
START_TEST(test_upstream_contour_yaml)
{
	const char *ref = tu_reference_dir();
	if (!ref) {
		ck_assert_msg(!getenv("CONTOUR_STRICT_TESTS"), "reference folder missing");
		return;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/contour-examples/contour/01-contour-config.yaml", ref);
	json_t *docs = NULL;
	ck_assert_int_eq(contour_yaml_parse_file(path, &docs, NULL, NULL), CONTOUR_EOK);
	const json_t *text =
	    json_object_get(json_object_get(json_array_get(docs, 0), "data"), "contour.yaml");
	ck_assert(json_is_string(text));
	core_conf_t *conf = NULL;
	int rc;
	json_t *errors = load(json_string_value(text), &conf, &rc);
	char *dump = json_dumps(errors, 0);
	ck_assert_msg(rc == CONTOUR_EOK, "errors: %s", dump);
	free(dump);
	ck_assert_str_eq(json_string_value(core_conf_lookup(conf->global, "accesslog-format")),
	                 "envoy");
	const json_t *mods = json_object_get(conf->root, "modules");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(mods, 0), "name")),
	                 "file-watch");
	core_conf_free(conf);
	json_decref(errors);
	json_decref(docs);
}
END_TEST

START_TEST(test_global_str_list)
{
	core_conf_t *conf = NULL;
	int rc;
	json_t *errors = load("root-namespaces: \"a, b,,c \"\n"
	                      "watch-namespaces: [x, \"y,z\"]\n"
	                      "modules: [{name: m}]\n",
	                      &conf, &rc);
	ck_assert_int_eq(rc, CONTOUR_EOK);
	core_t *core = core_new(NULL);
	core->conf = conf;
	json_t *l = contour_conf_global_str_list(&core->self, "root-namespaces");
	char *s = json_dumps(l, JSON_COMPACT);
	ck_assert_str_eq(s, "[\"a\",\"b\",\"c\"]");
	free(s);
	json_decref(l);
	l = contour_conf_global_str_list(&core->self, "watch-namespaces");
	s = json_dumps(l, JSON_COMPACT);
	ck_assert_str_eq(s, "[\"x\",\"y\",\"z\"]");
	free(s);
	json_decref(l);
	l = contour_conf_global_str_list(&core->self, "ingress-class-name");
	ck_assert_int_eq(json_array_size(l), 0);
	json_decref(l);
	ck_assert_ptr_null(contour_conf_global(&core->self, "nope.nothing"));
	core_free(core);
	json_decref(errors);
}
END_TEST

START_TEST(test_duration_parse)
{
	static const struct {
		const char *in;
		int64_t ms;
		int ok;
	} cases[] = {
	    {"0", 0, 1},        {"100ms", 100, 1}, {"2s", 2000, 1},  {"1m30s", 90000, 1},
	    {"1h", 3600000, 1}, {"1.5s", 1500, 1}, {"500us", 1, 1},  {"-1s", -1000, 1},
	    {"", 0, 0},         {"10", 0, 0},      {"s", 0, 0},      {"1x", 0, 0},
	    {"1s2", 0, 0},      {"abc", 0, 0},     {"1m 30s", 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = -42;
		int rc = contour_duration_parse(cases[i].in, &ms);
		ck_assert_msg((rc == CONTOUR_EOK) == cases[i].ok, "%s: rc %d", cases[i].in, rc);
		if (cases[i].ok)
			ck_assert_msg(ms == cases[i].ms, "%s: %lld", cases[i].in, (long long)ms);
	}
}
END_TEST

/* The one duration parser is Go's time.ParseDuration: every unit Go
 * accepts (both micro signs), Go's limits and its error text. */
START_TEST(test_duration_go_units)
{
	static const struct {
		const char *in;
		int64_t ns;
	} ok[] = {
	    {"1ns", 1},
	    {"1us", 1000},
	    {"1\xc2\xb5s", 1000}, /* U+00B5 */
	    {"1\xce\xbcs", 1000}, /* U+03BC */
	    {"1.5ms", 1500000},
	    {"1h2m3.5s", 3723500000000LL},
	    {".5s", 500000000},
	    {"-0", 0},
	    {"2562047h47m16.854775807s", INT64_MAX},
	};
	char err[256];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t ns = -42;
		ck_assert_msg(contour_duration_parse_ns(ok[i].in, &ns, err, sizeof(err)) == 0,
		              "%s: %s", ok[i].in, err);
		ck_assert_msg(ns == ok[i].ns, "%s: %lld", ok[i].in, (long long)ns);
	}
	int64_t ns, ms;
	ck_assert_int_eq(contour_duration_parse_ns("1e3s", &ns, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "time: unknown unit \"e\" in duration \"1e3s\"");
	ck_assert_int_eq(contour_duration_parse_ns("0x10s", &ns, err, sizeof(err)), -1);
	ck_assert_int_eq(
	    contour_duration_parse_ns("2562047h47m16.854775808s", &ns, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "time: invalid duration \"2562047h47m16.854775808s\"");
	ck_assert_int_eq(contour_duration_parse_ns("600", &ns, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "time: missing unit in duration \"600\"");
	/* Config values in milliseconds, rounded to the nearest. */
	ck_assert_int_eq(contour_duration_parse("1500\xce\xbcs", &ms), CONTOUR_EOK);
	ck_assert_int_eq(ms, 2);
	ck_assert_int_eq(contour_duration_parse("1400us", &ms), CONTOUR_EOK);
	ck_assert_int_eq(ms, 1);
	ck_assert_int_eq(contour_duration_parse("1e3s", &ms), CONTOUR_EINVAL);
}
END_TEST

START_TEST(test_default_text_is_valid)
{
	core_conf_t *conf = NULL;
	json_t *errors = json_array();
	const char *def = core_conf_default_text();
	ck_assert_int_eq(core_conf_load_buf(def, strlen(def), NULL, &conf, errors), CONTOUR_EOK);
	ck_assert_ptr_null(conf->path);
	core_conf_free(conf);
	json_decref(errors);
}
END_TEST

START_TEST(test_missing_file)
{
	core_conf_t *conf = NULL;
	json_t *errors = json_array();
	int rc = core_conf_load_file("/nonexistent/contour.yaml", &conf, errors);
	ck_assert_int_ne(rc, CONTOUR_EOK);
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_array_get(errors, 0)), "/nonexistent/contour.yaml"));
	json_decref(errors);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_good_file);
	tcase_add_test(tc, test_global_str_list);
	tcase_add_test(tc, test_duration_parse);
	tcase_add_test(tc, test_duration_go_units);
	tcase_add_test(tc, test_default_text_is_valid);
	tcase_add_test(tc, test_upstream_contour_yaml);
	suite_add_tcase(s, tc);
	TCase *te = tcase_create("errors");
	tcase_add_test(te, test_unknown_top_key);
	tcase_add_test(te, test_wrong_types);
	tcase_add_test(te, test_nested_unknown_key);
	tcase_add_test(te, test_duration_overflow);
	tcase_add_test(te, test_syntax_error);
	tcase_add_test(te, test_document_shape);
	tcase_add_test(te, test_module_entries);
	tcase_add_test(te, test_several_errors_reported);
	tcase_add_test(te, test_missing_file);
	suite_add_tcase(s, te);
	return tu_run_suite(s);
}
