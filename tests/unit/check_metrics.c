/* tests/unit/check_metrics.c: the metrics registry and its text rendering. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/testutil.h"

static core_t *core;
static core_metrics_t *core_own_metrics;

/* These tests compare whole renderings, so they use an empty registry; the
 * core's own families (store, pipeline) wait aside and come back for
 * core_free(). */
static void setup(void)
{
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	core_own_metrics = core->metrics;
	core->metrics = core_metrics_new();
}

static void teardown(void)
{
	tu_log_capture_stop();
	core_log_configure(CORE_LOG_TEXT, CONTOUR_LOG_INFO);
	core_metrics_free(core->metrics);
	core->metrics = core_own_metrics;
	core_free(core);
	core = NULL;
}

/* Register through the core's own handle; assert success. */
static contour_metric_t *reg(contour_metric_type_t type, const char *name, const char *help,
                             const char *const *labels, const double *bounds, size_t nbounds)
{
	contour_metric_desc_t d = {.type = type,
	                           .name = name,
	                           .help = help,
	                           .labels = labels,
	                           .bounds = bounds,
	                           .nbounds = nbounds};
	contour_metric_t *m = NULL;
	int rc = contour_register_metric(&core->self, &d, &m);
	ck_assert_msg(rc == CONTOUR_EOK, "register %s: %d", name, rc);
	ck_assert_ptr_nonnull(m);
	return m;
}

static int try_reg(contour_metric_type_t type, const char *name, const char *const *labels,
                   const double *bounds, size_t nbounds)
{
	contour_metric_desc_t d = {.type = type,
	                           .name = name,
	                           .help = "h",
	                           .labels = labels,
	                           .bounds = bounds,
	                           .nbounds = nbounds};
	contour_metric_t *m = NULL;
	return contour_register_metric(&core->self, &d, &m);
}

static char *render(void)
{
	size_t len = 12345;
	char *s = contour_metrics_render(&core->self, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(len, strlen(s));
	return s;
}

/* Assert that the rendering contains `line` as a whole line. */
static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	ck_abort_msg("line not found: [%s] in:\n%s", line, text);
}

START_TEST(test_counter_gauge)
{
	contour_metric_t *c = reg(CONTOUR_METRIC_COUNTER, "c_total", "a counter", NULL, NULL, 0);
	contour_metric_t *g = reg(CONTOUR_METRIC_GAUGE, "g", "a gauge", NULL, NULL, 0);
	ck_assert(contour_metric_value(c, NULL) == 0);
	contour_metric_add(c, NULL, 1);
	contour_metric_add(c, NULL, 2.5);
	contour_metric_add(c, NULL, -10); /* ignored: counters only go up */
	contour_metric_add(c, NULL, NAN); /* ignored too */
	ck_assert(contour_metric_value(c, NULL) == 3.5);

	contour_metric_set(g, NULL, 10);
	contour_metric_add(g, NULL, -3);
	ck_assert(contour_metric_value(g, NULL) == 7);
	contour_metric_set(g, NULL, -1.25);
	ck_assert(contour_metric_value(g, NULL) == -1.25);

	char *s = render();
	assert_line(s, "c_total 3.5");
	assert_line(s, "g -1.25");
	free(s);
}
END_TEST

START_TEST(test_histogram_summary_values)
{
	contour_metric_t *h = reg(CONTOUR_METRIC_HISTOGRAM, "h_seconds", "h", NULL, NULL, 0);
	contour_metric_t *s = reg(CONTOUR_METRIC_SUMMARY, "s_seconds", "s", NULL, NULL, 0);
	contour_metric_observe(h, NULL, 0.003);
	contour_metric_observe(h, NULL, 0.3);
	contour_metric_observe(h, NULL, 30);
	contour_metric_observe(s, NULL, 2);
	contour_metric_observe(s, NULL, 4);
	ck_assert(contour_metric_value(h, NULL) == 3);
	ck_assert(contour_metric_value(s, NULL) == 2);

	char *t = render();
	/* The default buckets, cumulative. */
	assert_line(t, "h_seconds_bucket{le=\"0.005\"} 1");
	assert_line(t, "h_seconds_bucket{le=\"0.25\"} 1");
	assert_line(t, "h_seconds_bucket{le=\"0.5\"} 2");
	assert_line(t, "h_seconds_bucket{le=\"10\"} 2");
	assert_line(t, "h_seconds_bucket{le=\"+Inf\"} 3");
	assert_line(t, "h_seconds_sum 30.303");
	assert_line(t, "h_seconds_count 3");
	ck_assert_ptr_null(strstr(t, "le=\"20\""));
	/* Default quantiles 0.5 0.9 0.99. */
	assert_line(t, "s_seconds{quantile=\"0.5\"} 2");
	assert_line(t, "s_seconds{quantile=\"0.9\"} 4");
	assert_line(t, "s_seconds{quantile=\"0.99\"} 4");
	assert_line(t, "s_seconds_sum 6");
	assert_line(t, "s_seconds_count 2");
	free(t);
}
END_TEST

START_TEST(test_exact_render)
{
	static const char *const lab[] = {"path", "code", NULL};
	static const char *const one[] = {"kind", NULL};
	contour_metric_t *req = reg(CONTOUR_METRIC_COUNTER, "http_requests_total",
	                            "Requests.\nBy \\path.", lab, NULL, 0);
	contour_metric_t *up = reg(CONTOUR_METRIC_GAUGE, "a_up", "Up.", NULL, NULL, 0);
	reg(CONTOUR_METRIC_GAUGE, "b_objects", "Objects.", one, NULL, 0);
	static const double b[] = {0.5, 1};
	contour_metric_t *lat = reg(CONTOUR_METRIC_HISTOGRAM, "lat_seconds", "Lat.", one, b, 2);
	static const double q[] = {0, 1};
	contour_metric_t *sum = reg(CONTOUR_METRIC_SUMMARY, "z_seconds", "Z.", NULL, q, 2);

	const char *v1[] = {"/b", "200"};
	const char *v2[] = {"/a\"x\"\\y\nz", "500"};
	const char *v3[] = {"/a", NULL}; /* NULL is "" */
	contour_metric_add(req, v1, 2);
	contour_metric_add(req, v2, 1);
	contour_metric_add(req, v3, 4);
	contour_metric_set(up, NULL, 1);
	const char *k1[] = {"svc"};
	contour_metric_observe(lat, k1, 0.25);
	contour_metric_observe(lat, k1, 0.75);
	contour_metric_observe(sum, NULL, 3);
	contour_metric_observe(sum, NULL, 1);

	const char *want = "# HELP a_up Up.\n"
	                   "# TYPE a_up gauge\n"
	                   "a_up 1\n"
	                   "# HELP b_objects Objects.\n"
	                   "# TYPE b_objects gauge\n"
	                   "# HELP http_requests_total Requests.\\nBy \\\\path.\n"
	                   "# TYPE http_requests_total counter\n"
	                   "http_requests_total{path=\"/a\",code=\"\"} 4\n"
	                   "http_requests_total{path=\"/a\\\"x\\\"\\\\y\\nz\",code=\"500\"} 1\n"
	                   "http_requests_total{path=\"/b\",code=\"200\"} 2\n"
	                   "# HELP lat_seconds Lat.\n"
	                   "# TYPE lat_seconds histogram\n"
	                   "lat_seconds_bucket{kind=\"svc\",le=\"0.5\"} 1\n"
	                   "lat_seconds_bucket{kind=\"svc\",le=\"1\"} 2\n"
	                   "lat_seconds_bucket{kind=\"svc\",le=\"+Inf\"} 2\n"
	                   "lat_seconds_sum{kind=\"svc\"} 1\n"
	                   "lat_seconds_count{kind=\"svc\"} 2\n"
	                   "# HELP z_seconds Z.\n"
	                   "# TYPE z_seconds summary\n"
	                   "z_seconds{quantile=\"0\"} 1\n"
	                   "z_seconds{quantile=\"1\"} 3\n"
	                   "z_seconds_sum 4\n"
	                   "z_seconds_count 2\n";
	char *s = render();
	ck_assert_str_eq(s, want);
	free(s);

	/* The same child whether the value is NULL or "". */
	const char *v3b[] = {"/a", ""};
	ck_assert(contour_metric_value(req, v3b) == 4);
	ck_assert(contour_metric_value(req, v2) == 1);
	const char *none[] = {"/nope", "200"};
	ck_assert(contour_metric_value(req, none) == 0);
}
END_TEST

START_TEST(test_empty_families)
{
	static const char *const lab[] = {"x", NULL};
	reg(CONTOUR_METRIC_COUNTER, "e_total", "E.", NULL, NULL, 0);
	reg(CONTOUR_METRIC_GAUGE, "f_labelled", "F.", lab, NULL, 0);
	static const double b[] = {1};
	reg(CONTOUR_METRIC_HISTOGRAM, "g_seconds", "G.", NULL, b, 1);
	reg(CONTOUR_METRIC_SUMMARY, "h_seconds", "H.", NULL, NULL, 0);
	const char *want = "# HELP e_total E.\n"
	                   "# TYPE e_total counter\n"
	                   "e_total 0\n"
	                   "# HELP f_labelled F.\n"
	                   "# TYPE f_labelled gauge\n"
	                   "# HELP g_seconds G.\n"
	                   "# TYPE g_seconds histogram\n"
	                   "g_seconds_bucket{le=\"1\"} 0\n"
	                   "g_seconds_bucket{le=\"+Inf\"} 0\n"
	                   "g_seconds_sum 0\n"
	                   "g_seconds_count 0\n"
	                   "# HELP h_seconds H.\n"
	                   "# TYPE h_seconds summary\n"
	                   "h_seconds{quantile=\"0.5\"} NaN\n"
	                   "h_seconds{quantile=\"0.9\"} NaN\n"
	                   "h_seconds{quantile=\"0.99\"} NaN\n"
	                   "h_seconds_sum 0\n"
	                   "h_seconds_count 0\n";
	char *s = render();
	ck_assert_str_eq(s, want);
	free(s);

	/* An empty registry renders as an empty string, not NULL. */
	core_metrics_drop_module(core->metrics, &core->self);
	s = render();
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_number_format)
{
	static const char *const lab[] = {"v", NULL};
	contour_metric_t *g = reg(CONTOUR_METRIC_GAUGE, "n", "N.", lab, NULL, 0);
	static const struct {
		const char *label;
		double v;
		const char *want;
	} cases[] = {
	    {"a", 3, "3"},
	    {"b", 0.25, "0.25"},
	    {"c", 1.5e-7, "1.5e-07"},
	    {"d", 1e6, "1000000"},
	    {"e", -0.0, "0"},
	    {"f", -42, "-42"},
	    {"g", 0.1, "0.1"},
	    {"h", 1.0 / 3, "0.3333333333333333"},
	    {"i", INFINITY, "+Inf"},
	    {"j", -INFINITY, "-Inf"},
	    {"k", NAN, "NaN"},
	    {"l", 1234567890123.0, "1234567890123"},
	    {"m", 2.5e300, "2.5e+300"},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	for (size_t i = 0; i < n; i++) {
		const char *v[] = {cases[i].label};
		contour_metric_set(g, v, cases[i].v);
	}
	char *s = render();
	for (size_t i = 0; i < n; i++) {
		char line[128];
		snprintf(line, sizeof(line), "n{v=\"%s\"} %s", cases[i].label, cases[i].want);
		assert_line(s, line);
	}
	free(s);
}
END_TEST

START_TEST(test_registration_state)
{
	contour_module_t m = {.core = core, .name = "t", .state = CORE_MOD_INITIALISED};
	contour_metric_desc_t d = {.type = CONTOUR_METRIC_COUNTER, .name = "t_total", .help = "T."};
	contour_metric_t *out = NULL;
	tu_log_capture_start();
	ck_assert_int_eq(contour_register_metric(&m, &d, &out), CONTOUR_ESTATE);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "contour_register_metric"));
	m.state = CORE_MOD_STARTED;
	ck_assert_int_eq(contour_register_metric(&m, &d, &out), CONTOUR_ESTATE);
	char *s = render();
	ck_assert_ptr_null(strstr(s, "t_total"));
	free(s);

	m.state = CORE_MOD_INITIALISING;
	ck_assert_int_eq(contour_register_metric(&m, &d, &out), CONTOUR_EOK);
	ck_assert_ptr_nonnull(out);
	core_metrics_drop_module(core->metrics, &m);
}
END_TEST

START_TEST(test_bad_names)
{
	static const char *const bad[] = {"", "1abc", "a-b", "a b", "é", "a.b", NULL};
	for (size_t i = 0; bad[i]; i++)
		ck_assert_msg(try_reg(CONTOUR_METRIC_GAUGE, bad[i], NULL, NULL, 0) ==
		                  CONTOUR_EINVAL,
		              "%s accepted", bad[i]);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_GAUGE, NULL, NULL, NULL, 0), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg((contour_metric_type_t)7, "ok", NULL, NULL, 0), CONTOUR_EINVAL);
	ck_assert_int_eq(contour_register_metric(&core->self, NULL, NULL), CONTOUR_EINVAL);
	/* Colons, digits after the first, leading underscore are all valid. */
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_GAUGE, "_a:b_9", NULL, NULL, 0), CONTOUR_EOK);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_GAUGE, ":x", NULL, NULL, 0), CONTOUR_EOK);
}
END_TEST

START_TEST(test_bad_labels)
{
	static const char *const digit[] = {"1x", NULL};
	static const char *const colon[] = {"a:b", NULL};
	static const char *const reserved[] = {"__name", NULL};
	static const char *const dup[] = {"a", "b", "a", NULL};
	static const char *const empty[] = {"", NULL};
	static const char *const le[] = {"le", NULL};
	static const char *const quantile[] = {"quantile", NULL};
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_GAUGE, "l1", digit, NULL, 0), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_GAUGE, "l2", colon, NULL, 0), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_GAUGE, "l3", reserved, NULL, 0), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_GAUGE, "l4", dup, NULL, 0), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_GAUGE, "l5", empty, NULL, 0), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_HISTOGRAM, "l6", le, NULL, 0), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_SUMMARY, "l7", quantile, NULL, 0), CONTOUR_EINVAL);
	/* Reserved only for their own type. */
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_SUMMARY, "l8", le, NULL, 0), CONTOUR_EOK);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_HISTOGRAM, "l9", quantile, NULL, 0), CONTOUR_EOK);
	static const char *const good[] = {"_a", "b_2", "_", NULL};
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_GAUGE, "l10", good, NULL, 0), CONTOUR_EOK);
	/* Nothing of the refused ones was left behind. */
	char *s = render();
	ck_assert_ptr_null(strstr(s, "l1 "));
	ck_assert_ptr_null(strstr(s, "l7"));
	ck_assert_ptr_nonnull(strstr(s, "# TYPE l8 summary"));
	free(s);
}
END_TEST

START_TEST(test_bad_bounds)
{
	static const double desc[] = {1, 0.5};
	static const double same[] = {1, 1};
	static const double nan[] = {1, NAN};
	static const double inf[] = {1, INFINITY};
	static const double q_hi[] = {0.5, 1.5};
	static const double q_lo[] = {-0.1, 0.5};
	static const double q_ok[] = {0, 0.25, 1};
	static const double h_ok[] = {-1, 0, 1e9};
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_HISTOGRAM, "b1", NULL, desc, 2), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_HISTOGRAM, "b2", NULL, same, 2), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_HISTOGRAM, "b3", NULL, nan, 2), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_HISTOGRAM, "b4", NULL, inf, 2), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_HISTOGRAM, "b5", NULL, h_ok, 0), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_SUMMARY, "b6", NULL, q_hi, 2), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_SUMMARY, "b7", NULL, q_lo, 2), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_SUMMARY, "b8", NULL, same, 2), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_COUNTER, "b9", NULL, h_ok, 3), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_GAUGE, "b10", NULL, h_ok, 3), CONTOUR_EINVAL);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_SUMMARY, "b11", NULL, q_ok, 3), CONTOUR_EOK);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_HISTOGRAM, "b12", NULL, h_ok, 3), CONTOUR_EOK);
	char *s = render();
	ck_assert_ptr_null(strstr(s, "b1 "));
	assert_line(s, "b11{quantile=\"0.25\"} NaN");
	assert_line(s, "b12_bucket{le=\"-1\"} 0");
	assert_line(s, "b12_bucket{le=\"1000000000\"} 0");
	free(s);
}
END_TEST

START_TEST(test_duplicates)
{
	static const char *const lab[] = {"a", NULL};
	contour_metric_t *g = reg(CONTOUR_METRIC_GAUGE, "dup", "first", NULL, NULL, 0);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_GAUGE, "dup", NULL, NULL, 0), CONTOUR_EEXIST);
	ck_assert_int_eq(try_reg(CONTOUR_METRIC_COUNTER, "dup", lab, NULL, 0), CONTOUR_EEXIST);
	/* Another module may not take the name either. */
	contour_module_t m = {.core = core, .name = "t", .state = CORE_MOD_INITIALISING};
	contour_metric_desc_t d = {.type = CONTOUR_METRIC_GAUGE, .name = "dup", .help = "x"};
	contour_metric_t *out = NULL;
	ck_assert_int_eq(contour_register_metric(&m, &d, &out), CONTOUR_EEXIST);
	contour_metric_set(g, NULL, 5);
	char *s = render();
	ck_assert_str_eq(s, "# HELP dup first\n# TYPE dup gauge\ndup 5\n");
	free(s);
}
END_TEST

START_TEST(test_desc_copied)
{
	char name[16], help[16], l0[16];
	strcpy(name, "copied");
	strcpy(help, "Help.");
	strcpy(l0, "lab");
	const char *labels[] = {l0, NULL};
	double bounds[] = {1, 2};
	contour_metric_t *h = reg(CONTOUR_METRIC_HISTOGRAM, name, help, labels, bounds, 2);
	memset(name, 'X', sizeof(name) - 1);
	memset(help, 'X', sizeof(help) - 1);
	memset(l0, 'X', sizeof(l0) - 1);
	bounds[0] = 100;
	bounds[1] = 200;
	char v0[8];
	strcpy(v0, "v");
	const char *vals[] = {v0};
	contour_metric_observe(h, vals, 1.5);
	strcpy(v0, "w");
	char *s = render();
	assert_line(s, "# HELP copied Help.");
	assert_line(s, "copied_bucket{lab=\"v\",le=\"2\"} 1");
	free(s);
}
END_TEST

START_TEST(test_reset)
{
	static const char *const lab[] = {"ns", NULL};
	contour_metric_t *g = reg(CONTOUR_METRIC_GAUGE, "per_ns", "P.", lab, NULL, 0);
	contour_metric_t *s = reg(CONTOUR_METRIC_SUMMARY, "obs", "O.", NULL, NULL, 0);
	const char *a[] = {"a"}, *b[] = {"b"};
	contour_metric_set(g, a, 1);
	contour_metric_set(g, b, 2);
	contour_metric_observe(s, NULL, 7);
	contour_metric_reset(g);
	contour_metric_reset(s);
	contour_metric_reset(NULL);
	ck_assert(contour_metric_value(g, a) == 0);
	ck_assert(contour_metric_value(s, NULL) == 0);
	char *t = render();
	ck_assert_ptr_null(strstr(t, "per_ns{"));
	assert_line(t, "obs{quantile=\"0.5\"} NaN");
	assert_line(t, "obs_count 0");
	free(t);
	/* Usable again after a reset. */
	contour_metric_set(g, b, 3);
	ck_assert(contour_metric_value(g, b) == 3);
	t = render();
	assert_line(t, "per_ns{ns=\"b\"} 3");
	ck_assert_ptr_null(strstr(t, "ns=\"a\""));
	free(t);
}
END_TEST

START_TEST(test_drop_module)
{
	contour_module_t m1 = {.core = core, .name = "m1", .state = CORE_MOD_INITIALISING};
	contour_module_t m2 = {.core = core, .name = "m2", .state = CORE_MOD_INITIALISING};
	static const char *const lab[] = {"k", NULL};
	contour_metric_desc_t d1 = {
	    .type = CONTOUR_METRIC_COUNTER, .name = "m1_a_total", .help = "x"};
	contour_metric_desc_t d2 = {
	    .type = CONTOUR_METRIC_GAUGE, .name = "m1_b", .help = "x", .labels = lab};
	contour_metric_desc_t d3 = {.type = CONTOUR_METRIC_GAUGE, .name = "m2_c", .help = "x"};
	contour_metric_t *a, *b, *c;
	ck_assert_int_eq(contour_register_metric(&m1, &d1, &a), CONTOUR_EOK);
	ck_assert_int_eq(contour_register_metric(&m2, &d3, &c), CONTOUR_EOK);
	ck_assert_int_eq(contour_register_metric(&m1, &d2, &b), CONTOUR_EOK);
	const char *k[] = {"v"};
	contour_metric_set(b, k, 1);
	contour_metric_add(a, NULL, 1);
	contour_metric_set(c, NULL, 9);

	core_metrics_drop_module(core->metrics, &m1);
	char *s = render();
	ck_assert_str_eq(s, "# HELP m2_c x\n# TYPE m2_c gauge\nm2_c 9\n");
	free(s);
	/* The names are free again. */
	ck_assert_int_eq(contour_register_metric(&m2, &d1, &a), CONTOUR_EOK);
	/* The loader's rollback path does the same. */
	core_drop_registrations(core, &m2);
	s = render();
	ck_assert_str_eq(s, "");
	free(s);
}
END_TEST

START_TEST(test_histogram_edges)
{
	static const double b[] = {1, 2, 5};
	contour_metric_t *h = reg(CONTOUR_METRIC_HISTOGRAM, "edge", "E.", NULL, b, 3);
	contour_metric_observe(h, NULL, 1);         /* equal to a bound: that bucket */
	contour_metric_observe(h, NULL, 1.0000001); /* just above: the next one */
	contour_metric_observe(h, NULL, 2);
	contour_metric_observe(h, NULL, -100); /* below everything: the first */
	contour_metric_observe(h, NULL, 5);
	contour_metric_observe(h, NULL, 5.5); /* only +Inf */
	char *s = render();
	assert_line(s, "edge_bucket{le=\"1\"} 2");
	assert_line(s, "edge_bucket{le=\"2\"} 4");
	assert_line(s, "edge_bucket{le=\"5\"} 5");
	assert_line(s, "edge_bucket{le=\"+Inf\"} 6");
	assert_line(s, "edge_count 6");
	free(s);
}
END_TEST

START_TEST(test_summary_quantiles)
{
	static const double q[] = {0, 0.25, 0.5, 0.9, 0.99, 1};
	contour_metric_t *s = reg(CONTOUR_METRIC_SUMMARY, "q", "Q.", NULL, q, 6);
	/* 1..100 in a scrambled order (37 is coprime with 100). */
	for (int i = 0; i < 100; i++)
		contour_metric_observe(s, NULL, (double)((i * 37) % 100 + 1));
	char *t = render();
	assert_line(t, "q{quantile=\"0\"} 1");
	assert_line(t, "q{quantile=\"0.25\"} 25");
	assert_line(t, "q{quantile=\"0.5\"} 50");
	assert_line(t, "q{quantile=\"0.9\"} 90");
	assert_line(t, "q{quantile=\"0.99\"} 99");
	assert_line(t, "q{quantile=\"1\"} 100");
	assert_line(t, "q_sum 5050");
	assert_line(t, "q_count 100");
	free(t);
}
END_TEST

START_TEST(test_summary_window)
{
	contour_metric_t *s = reg(CONTOUR_METRIC_SUMMARY, "w", "W.", NULL, NULL, 0);
	/* 1..3000: only the last 1024 (1977..3000) count for quantiles. */
	for (int i = 1; i <= 3000; i++)
		contour_metric_observe(s, NULL, i);
	char *t = render();
	assert_line(t, "w{quantile=\"0.5\"} 2488");
	assert_line(t, "w{quantile=\"0.9\"} 2898");
	assert_line(t, "w{quantile=\"0.99\"} 2990");
	assert_line(t, "w_sum 4501500");
	assert_line(t, "w_count 3000");
	free(t);
}
END_TEST

START_TEST(test_wrong_op)
{
	contour_metric_t *c = reg(CONTOUR_METRIC_COUNTER, "wc_total", "C.", NULL, NULL, 0);
	contour_metric_t *h = reg(CONTOUR_METRIC_HISTOGRAM, "wh", "H.", NULL, NULL, 0);
	core_log_configure(CORE_LOG_TEXT, CONTOUR_LOG_DEBUG);
	tu_log_capture_start();
	contour_metric_add(c, NULL, 2);
	contour_metric_observe(c, NULL, 5);
	contour_metric_set(c, NULL, 100);
	contour_metric_set(c, NULL, 100);
	contour_metric_add(h, NULL, 1);
	contour_metric_set(h, NULL, 1);
	ck_assert(contour_metric_value(c, NULL) == 2);
	ck_assert(contour_metric_value(h, NULL) == 0);

	const char *log = tu_log_text();
	const char *p = strstr(log, "wc_total");
	ck_assert_msg(p != NULL, "no debug line: %s", log);
	ck_assert_ptr_nonnull(strstr(log, "level=debug"));
	ck_assert_ptr_null(strstr(p + 1, "wc_total")); /* once */
	p = strstr(log, "metric wh");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(strstr(p + 1, "metric wh"));
	char *s = render();
	assert_line(s, "wc_total 2");
	assert_line(s, "wh_count 0");
	free(s);
}
END_TEST

START_TEST(test_many_children)
{
	static const char *const lab[] = {"a", "b", NULL};
	contour_metric_t *c = reg(CONTOUR_METRIC_COUNTER, "many_total", "M.", lab, NULL, 0);
	enum { N = 5000 };
	char x[16], y[16];
	for (int round = 0; round < 2; round++) {
		for (int i = N - 1; i >= 0; i--) {
			snprintf(x, sizeof(x), "%05d", i);
			snprintf(y, sizeof(y), "%d", i % 7);
			const char *v[] = {x, y};
			contour_metric_add(c, v, i);
		}
	}
	for (int i = 0; i < N; i += 97) {
		snprintf(x, sizeof(x), "%05d", i);
		snprintf(y, sizeof(y), "%d", i % 7);
		const char *v[] = {x, y};
		ck_assert(contour_metric_value(c, v) == 2.0 * i);
		/* Swapped values name another child. */
		const char *w[] = {y, x};
		ck_assert(contour_metric_value(c, w) == 0);
	}
	char *s = render();
	/* Sorted by label values. */
	const char *p0 = strstr(s, "many_total{a=\"00000\",b=\"0\"} 0\n");
	const char *p1 = strstr(s, "many_total{a=\"00001\",b=\"1\"} 2\n");
	const char *p2 = strstr(s, "many_total{a=\"04999\",b=\"1\"} 9998\n");
	ck_assert_ptr_nonnull(p0);
	ck_assert_ptr_nonnull(p1);
	ck_assert_ptr_nonnull(p2);
	ck_assert(p0 < p1 && p1 < p2);
	size_t lines = 0;
	for (const char *p = s; *p; p++)
		lines += *p == '\n';
	ck_assert_uint_eq(lines, N + 2);
	free(s);
}
END_TEST

START_TEST(test_sorted_families)
{
	reg(CONTOUR_METRIC_GAUGE, "m_b", "x", NULL, NULL, 0);
	reg(CONTOUR_METRIC_GAUGE, "z_a", "x", NULL, NULL, 0);
	reg(CONTOUR_METRIC_GAUGE, "a_c", "x", NULL, NULL, 0);
	reg(CONTOUR_METRIC_GAUGE, "m_a", "x", NULL, NULL, 0);
	char *s = render();
	ck_assert_str_eq(s, "# HELP a_c x\n# TYPE a_c gauge\na_c 0\n"
	                    "# HELP m_a x\n# TYPE m_a gauge\nm_a 0\n"
	                    "# HELP m_b x\n# TYPE m_b gauge\nm_b 0\n"
	                    "# HELP z_a x\n# TYPE z_a gauge\nz_a 0\n");
	free(s);
}
END_TEST

/* Run "$PROMTOOL check metrics < file"; returns its exit status and leaves
 * its output in *out (malloc'd). */
static int run_promtool(const char *promtool, const char *file, char **out)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "'%s' check metrics < '%s' 2>&1", promtool, file);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	buf[len] = '\0';
	*out = buf;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Upstream Contour's metric families (every type), with some labels with
 * awkward values. */
static void fill_upstream_registry(void)
{
	static const char *const build[] = {"branch", "revision", "version", NULL};
	static const char *const ns[] = {"namespace", NULL};
	static const char *const ns_vhost[] = {"namespace", "vhost", NULL};
	static const char *const kind[] = {"kind", NULL};
	static const char *const op_kind[] = {"op", "kind", NULL};
	static const char *const kind_err[] = {"kind", "error", NULL};
	static const char *const grpc[] = {"grpc_type", "grpc_service", "grpc_method", NULL};
	static const char *const grpc_code[] = {"grpc_type", "grpc_service", "grpc_method",
	                                        "grpc_code", NULL};
	static const double rebuild_q[] = {0, .25, .5, .75, .9, .95, .99, 1};
/* A positional table: omitted trailing fields are meant to be zero. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
	static const struct {
		contour_metric_type_t type;
		const char *name;
		const char *help;
		const char *const *labels;
		const double *bounds;
		size_t nbounds;
	} fams[] = {
	    {CONTOUR_METRIC_GAUGE, "contour_build_info", "Build information for Contour.", build},
	    {CONTOUR_METRIC_GAUGE, "contour_httpproxy", "Total number of HTTPProxies.", ns},
	    {CONTOUR_METRIC_GAUGE, "contour_httpproxy_root", "Total number of root HTTPProxies.",
	     ns},
	    {CONTOUR_METRIC_GAUGE, "contour_httpproxy_invalid",
	     "Total number of invalid HTTPProxies.", ns_vhost},
	    {CONTOUR_METRIC_GAUGE, "contour_httpproxy_valid", "Total number of valid HTTPProxies.",
	     ns_vhost},
	    {CONTOUR_METRIC_GAUGE, "contour_httpproxy_orphaned",
	     "Total number of orphaned HTTPProxies.", ns},
	    {CONTOUR_METRIC_GAUGE, "contour_dagrebuild_timestamp",
	     "Timestamp of the last DAG rebuild."},
	    {CONTOUR_METRIC_COUNTER, "contour_dagrebuild_total", "Total number of DAG rebuilds."},
	    {CONTOUR_METRIC_SUMMARY, "contour_dagrebuild_seconds", "Duration of DAG rebuilds.",
	     NULL, rebuild_q, 8},
	    {CONTOUR_METRIC_GAUGE, "contour_dag_cache_object", "Objects in the DAG cache.", kind},
	    {CONTOUR_METRIC_SUMMARY, "contour_cachehandler_onupdate_duration_seconds",
	     "Histogram for the runtime of xDS cache regeneration."},
	    {CONTOUR_METRIC_COUNTER, "contour_eventhandler_operation_total",
	     "Total number of Kubernetes object changes Contour has received.", op_kind},
	    {CONTOUR_METRIC_COUNTER, "contour_status_update_total",
	     "Total number of status updates by object kind.", kind},
	    {CONTOUR_METRIC_COUNTER, "contour_status_update_success_total",
	     "Number of status updates that succeeded by object kind.", kind},
	    {CONTOUR_METRIC_COUNTER, "contour_status_update_failed_total",
	     "Number of status updates that failed by object kind.", kind},
	    {CONTOUR_METRIC_COUNTER, "contour_status_update_conflict_total",
	     "Number of status update conflicts encountered by object kind.", kind},
	    {CONTOUR_METRIC_COUNTER, "contour_status_update_noop_total",
	     "Number of status updates that are no-ops by object kind.", kind},
	    {CONTOUR_METRIC_SUMMARY, "contour_status_update_duration_seconds",
	     "How long a status update takes to finish.", kind_err},
	    {CONTOUR_METRIC_COUNTER, "grpc_server_started_total", "Total number of RPCs started.",
	     grpc},
	    {CONTOUR_METRIC_COUNTER, "grpc_server_handled_total", "Total number of RPCs completed.",
	     grpc_code},
	    {CONTOUR_METRIC_COUNTER, "grpc_server_msg_received_total",
	     "Total number of RPC stream messages received.", grpc},
	    {CONTOUR_METRIC_COUNTER, "grpc_server_msg_sent_total",
	     "Total number of gRPC stream messages sent.", grpc},
	    /* Ours, for the remaining type and awkward text. */
	    {CONTOUR_METRIC_HISTOGRAM, "contour_test_latency_seconds",
	     "A histogram.\nWith a \\ backslash and \"quotes\".", kind},
	    {CONTOUR_METRIC_GAUGE, "contour_test_empty", "Labelled, never set.", kind},
	};
#pragma GCC diagnostic pop
	contour_metric_t *m[sizeof(fams) / sizeof(fams[0])];
	for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++)
		m[i] = reg(fams[i].type, fams[i].name, fams[i].help, fams[i].labels, fams[i].bounds,
		           fams[i].nbounds);

	const char *b[] = {"main", "abc123", "v1.30.0"};
	contour_metric_set(m[0], b, 1);
	const char *n1[] = {"default"}, *n2[] = {"we\"ird\\ns\nx"};
	contour_metric_set(m[1], n1, 3);
	contour_metric_set(m[1], n2, 1);
	contour_metric_set(m[2], n1, 2);
	const char *nv[] = {"default", "www.example.com"};
	contour_metric_set(m[3], nv, 1);
	contour_metric_set(m[4], nv, 2);
	contour_metric_set(m[6], NULL, 1700000000.25);
	contour_metric_add(m[7], NULL, 12);
	for (int i = 1; i <= 20; i++)
		contour_metric_observe(m[8], NULL, i * 0.001);
	const char *k[] = {"HTTPProxy"}, *k2[] = {""};
	contour_metric_set(m[9], k, 4);
	contour_metric_observe(m[10], NULL, 0.0003);
	const char *ok[] = {"add", "HTTPProxy"}, *ok2[] = {"update", "Secret"};
	contour_metric_add(m[11], ok, 5);
	contour_metric_add(m[11], ok2, 1);
	for (int i = 12; i <= 16; i++)
		contour_metric_add(m[i], k, 1);
	const char *ke[] = {"HTTPProxy", "false"};
	contour_metric_observe(m[17], ke, 0.02);
	const char *g[] = {"bidi_stream", "envoy.service.cluster.v3.ClusterDiscoveryService",
	                   "StreamClusters"};
	const char *gc[] = {"bidi_stream", "envoy.service.cluster.v3.ClusterDiscoveryService",
	                    "StreamClusters", "OK"};
	contour_metric_add(m[18], g, 2);
	contour_metric_add(m[19], gc, 1);
	contour_metric_add(m[20], g, 7);
	contour_metric_add(m[21], g, 9);
	contour_metric_observe(m[22], k, 0.07);
	contour_metric_observe(m[22], k2, 1e-9);
	contour_metric_observe(m[22], k2, 1e12);
}

START_TEST(test_promtool)
{
	const char *promtool = getenv("PROMTOOL");
	if (!promtool || !*promtool) {
		const char *strict = getenv("CONTOUR_STRICT_TESTS");
		ck_assert_msg(!(strict && !strcmp(strict, "1")),
		              "PROMTOOL is not set and CONTOUR_STRICT_TESTS=1");
		fprintf(stderr, "check_metrics: PROMTOOL is empty, skipping promtool check\n");
		return;
	}
	fill_upstream_registry();
	size_t len;
	char *s = contour_metrics_render(&core->self, &len);
	ck_assert_ptr_nonnull(s);
	/* Spot checks that the registry really holds what promtool will see. */
	assert_line(s, "contour_httpproxy{namespace=\"we\\\"ird\\\\ns\\nx\"} 1");
	assert_line(s, "contour_dagrebuild_seconds{quantile=\"0.95\"} 0.019");
	assert_line(s, "contour_dagrebuild_timestamp 1700000000.25");
	assert_line(s, "# TYPE contour_test_empty gauge");

	char *dir = tu_tmpdir();
	char *file = tu_write_file(dir, "metrics.prom", s);
	char *out = NULL;
	int rc = run_promtool(promtool, file, &out);
	/* Check carries failure messages through a pipe with a size limit, so the
	 * long texts go to stderr. */
	if (rc != 0)
		fprintf(stderr, "promtool said:\n%s\n--- input:\n%s", out, s);
	ck_assert_msg(rc == 0, "promtool check metrics exited %d (details on stderr)", rc);

	/* And promtool does reject a broken exposition, so the check is real. */
	char *bad = tu_write_file(dir, "bad.prom", "# TYPE x counter\nx{a=\"unterminated} 1\n");
	free(out);
	rc = run_promtool(promtool, bad, &out);
	ck_assert_int_ne(rc, 0);

	free(out);
	free(bad);
	free(file);
	tu_rmrf(dir);
	free(dir);
	free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_counter_gauge);
	tcase_add_test(tc, test_histogram_summary_values);
	tcase_add_test(tc, test_exact_render);
	tcase_add_test(tc, test_empty_families);
	tcase_add_test(tc, test_number_format);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_drop_module);
	tcase_add_test(tc, test_histogram_edges);
	tcase_add_test(tc, test_summary_quantiles);
	tcase_add_test(tc, test_summary_window);
	tcase_add_test(tc, test_sorted_families);
	tcase_add_test(tc, test_desc_copied);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_registration_state);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_bad_labels);
	tcase_add_test(tc, test_bad_bounds);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_wrong_op);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_many_children);
	tcase_add_test(tc, test_promtool);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
