/* tests/unit/check_sm_prom.c: the shutdown-manager's Prometheus text parser
 * (sm_prom.c) and the open-connection count over it (sm_count.c), on
 * Envoy's output and on malformed input. Both files are compiled in; they
 * need nothing from the core. */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/shutdown-manager/sm.h"
#include "modules/shutdown-manager/sm_prom.h"

/* What one parse saw, flattened to text for simple comparisons. */
typedef struct seen {
	int n;
	char text[4096];
	double values[64];
	int has_ts[64];
	int64_t ts[64];
	char types[64][16];
} seen_t;

static int record(const sm_prom_sample_t *s, void *ud)
{
	seen_t *r = ud;
	size_t used = strlen(r->text);
	used += (size_t)snprintf(r->text + used, sizeof(r->text) - used, "%s", s->name);
	for (size_t i = 0; i < s->nlabels; i++)
		used += (size_t)snprintf(r->text + used, sizeof(r->text) - used, "%c%s=[%s]",
		                         i ? ',' : '{', s->label_names[i], s->label_values[i]);
	snprintf(r->text + used, sizeof(r->text) - used, "%s;", s->nlabels ? "}" : "");
	if (r->n < 64) {
		r->values[r->n] = s->value;
		r->has_ts[r->n] = s->has_timestamp;
		r->ts[r->n] = s->timestamp_ms;
		snprintf(r->types[r->n], sizeof(r->types[0]), "%s", s->type);
	}
	r->n++;
	return 0;
}

static int parse(const char *text, seen_t *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	return sm_prom_parse(text, strlen(text), record, r, err, errlen);
}

/* What Envoy 1.3x writes for /stats/prometheus?filter=^listener\..*\.downstream_cx_active$
 * (families sorted, TYPE lines only, a blank line after each family). */
static const char envoy_listeners[] =
    "# TYPE envoy_listener_admin_downstream_cx_active gauge\n"
    "envoy_listener_admin_downstream_cx_active{} 1\n"
    "\n"
    "# TYPE envoy_listener_downstream_cx_active gauge\n"
    "envoy_listener_downstream_cx_active{envoy_listener_address=\"0.0.0.0_8080\"} 3\n"
    "envoy_listener_downstream_cx_active{envoy_listener_address=\"0.0.0.0_8443\"} 4\n"
    "envoy_listener_downstream_cx_active{envoy_listener_address=\"0.0.0.0_8002\"} 1\n"
    "envoy_listener_downstream_cx_active{envoy_listener_address=\"[__]_8002\"} 1\n"
    "\n"
    "# TYPE envoy_listener_worker_downstream_cx_active gauge\n"
    "envoy_listener_worker_downstream_cx_active{envoy_listener_address=\"0.0.0.0_8080\","
    "envoy_worker_id=\"0\"} 3\n";

static const char envoy_http[] =
    "# TYPE envoy_http_downstream_cx_active gauge\n"
    "envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix=\"admin\"} 1\n"
    "envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix=\"ingress_http\"} 2\n"
    "envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix=\"ingress_https\"} 5\n"
    "envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix=\"stats\"} 1\n"
    "envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix=\"stats-health\"} 1\n"
    "envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix=\"envoy-admin\"} 1\n"
    "envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix=\"health\"} 1\n";

#define EXCLUDE "admin,envoy-admin,stats,health,stats-health,0.0.0.0_8002,[__]_8002"

START_TEST(test_envoy_output)
{
	seen_t r;
	char err[256];
	ck_assert_int_eq(parse(envoy_listeners, &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.n, 6);
	ck_assert_str_eq(
	    r.text, "envoy_listener_admin_downstream_cx_active;"
	            "envoy_listener_downstream_cx_active{envoy_listener_address=[0.0.0.0_8080]};"
	            "envoy_listener_downstream_cx_active{envoy_listener_address=[0.0.0.0_8443]};"
	            "envoy_listener_downstream_cx_active{envoy_listener_address=[0.0.0.0_8002]};"
	            "envoy_listener_downstream_cx_active{envoy_listener_address=[[__]_8002]};"
	            "envoy_listener_worker_downstream_cx_active{envoy_listener_address=[0.0.0.0_"
	            "8080],envoy_worker_id=[0]};");
	ck_assert_str_eq(r.types[1], "gauge");
	ck_assert(r.values[1] == 3 && r.values[2] == 4);
	ck_assert_int_eq(r.has_ts[0], 0);
}
END_TEST

START_TEST(test_values_and_timestamps)
{
	seen_t r;
	char err[256];
	ck_assert_int_eq(parse("a NaN\nb +Inf\nc -Inf\nd inf\ne 1.5e3 1700000000000\n"
	                       "f -0.25 -12\ng 7\t\t42  \nh 3e-2\ni .5\nj 5.\n",
	                       &r, err, sizeof(err)),
	                 0);
	ck_assert_int_eq(r.n, 10);
	ck_assert(isnan(r.values[0]));
	ck_assert(isinf(r.values[1]) && r.values[1] > 0);
	ck_assert(isinf(r.values[2]) && r.values[2] < 0);
	ck_assert(isinf(r.values[3]));
	ck_assert(r.values[4] == 1500.0);
	ck_assert(r.has_ts[4] && r.ts[4] == 1700000000000LL);
	ck_assert(r.values[5] == -0.25 && r.has_ts[5] && r.ts[5] == -12);
	ck_assert(r.values[6] == 7 && r.ts[6] == 42);
	ck_assert(fabs(r.values[7] - 0.03) < 1e-12);
	ck_assert(r.values[8] == 0.5 && r.values[9] == 5.0);
	ck_assert_int_eq(r.has_ts[9], 0);
}
END_TEST

START_TEST(test_labels_escapes)
{
	seen_t r;
	char err[256];
	ck_assert_int_eq(parse("m{a=\"x\\\"y\",b=\"back\\\\slash\",c=\"two\\nlines\",} 1\n"
	                       "m { d = \"sp ace\" , e=\"\" } 2\n"
	                       "m{} 3\n"
	                       "m{f=\"}{,=\"} 4\n",
	                       &r, err, sizeof(err)),
	                 0);
	ck_assert_str_eq(r.text, "m{a=[x\"y],b=[back\\slash],c=[two\nlines]};"
	                         "m{d=[sp ace],e=[]};m;m{f=[}{,=]};");
}
END_TEST

START_TEST(test_comments_help_type)
{
	seen_t r;
	char err[256];
	ck_assert_int_eq(parse("# just a comment\n#\n   \n# HELP h_total Docs with \\\\ and \\n.\n"
	                       "# TYPE h_total counter\nh_total 1\r\n"
	                       "# TYPE lat histogram\nlat_bucket{le=\"+Inf\"} 3\nlat_sum 1.5\n"
	                       "lat_count 3\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\n"
	                       "untyped_one 5\n# HELP\tonly_help x\nonly_help 1\n",
	                       &r, err, sizeof(err)),
	                 0);
	ck_assert_int_eq(r.n, 8);
	ck_assert_str_eq(r.types[0], "counter");
	ck_assert_str_eq(r.types[1], "histogram");
	ck_assert_str_eq(r.types[2], "histogram");
	ck_assert_str_eq(r.types[3], "histogram");
	ck_assert_str_eq(r.types[4], "summary");
	ck_assert_str_eq(r.types[5], "summary");
	ck_assert_str_eq(r.types[6], "untyped");
	ck_assert_str_eq(r.types[7], "untyped");
	/* No final newline, empty input, only blanks. */
	ck_assert_int_eq(parse("x 1", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.n, 1);
	ck_assert_int_eq(parse("", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(parse("\n\n \t\n", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(r.n, 0);
}
END_TEST

/* Every malformed input is an error naming its line, never a crash. */
static const struct {
	const char *text;
	int line;
	const char *why;
} bad[] = {
    {"name\n", 1, "missing value"},
    {"ok 1\nname \n", 2, "missing value"},
    {"name{", 1, "invalid label name"},
    {"name{a=\"b\"", 1, "expected ',' or '}'"},
    {"name{a=\"b} 1", 1, "unterminated label value"},
    {"name{a=b} 1", 1, "expected '\"'"},
    {"name{a} 1", 1, "expected '='"},
    {"name{1a=\"b\"} 1", 1, "invalid label name"},
    {"name{a:b=\"c\"} 1", 1, "expected '='"},
    {"name{,} 1", 1, "invalid label name"},
    {"name{a=\"b\",a=\"c\"} 1", 1, "duplicate label name a"},
    {"name{a=\"\\x\"} 1", 1, "invalid escape sequence"},
    {"name{a=\"b\"}1", 1, "expected a blank"},
    {"name abc", 1, "invalid value"},
    {"name 0x10", 1, "invalid value"},
    {"name 1e999", 1, "invalid value"},
    {"name 1..2", 1, "invalid value"},
    {"name -", 1, "invalid value"},
    {"name 1 1.5", 1, "invalid timestamp"},
    {"name 1 99999999999999999999", 1, "invalid timestamp"},
    {"name 1 2 3", 1, "unexpected text after the timestamp"},
    {"1name 1", 1, "invalid metric name"},
    {"na-me 1", 1, "invalid metric name"},
    {"{a=\"b\"} 1", 1, "invalid metric name"},
    {"# TYPE name foo", 1, "unknown metric type 'foo'"},
    {"# TYPE name", 1, "unknown metric type ''"},
    {"# TYPE name gauge extra", 1, "unexpected text after the type"},
    {"# TYPE 9x gauge", 1, "invalid metric name"},
    {"# TYPE name gauge\n# TYPE name counter\n", 2, "second TYPE line"},
    {"# HELP x a\n# HELP x b\n", 2, "second HELP line"},
    {"# HELP x bad\\escape\n", 1, "invalid escape sequence"},
    {"ok 1\nok 2\nname\0 1\n", 3, "NUL byte"},
};

START_TEST(test_bad_input)
{
	seen_t r;
	char err[256], want[64];
	size_t len = strlen(bad[_i].text);
	if (strstr(bad[_i].why, "NUL"))
		len = 20; /* "ok 1\nok 2\nname\0 1\n" */
	memset(&r, 0, sizeof(r));
	int rc = sm_prom_parse(bad[_i].text, len, record, &r, err, sizeof(err));
	ck_assert_msg(rc == SM_PROM_EPARSE, "'%s' parsed (rc %d)", bad[_i].text, rc);
	snprintf(want, sizeof(want), "line %d: ", bad[_i].line);
	ck_assert_msg(!strncmp(err, want, strlen(want)), "'%s': error '%s', want line %d",
	              bad[_i].text, err, bad[_i].line);
	ck_assert_msg(strstr(err, bad[_i].why), "'%s': error '%s', want '%s'", bad[_i].text, err,
	              bad[_i].why);
}
END_TEST

START_TEST(test_limits)
{
	char text[8192], err[256];
	seen_t r;
	size_t used = (size_t)snprintf(text, sizeof(text), "m{");
	for (int i = 0; i < SM_PROM_MAX_LABELS; i++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "l%d=\"v\",", i);
	snprintf(text + used, sizeof(text) - used, "} 1\n");
	ck_assert_int_eq(parse(text, &r, err, sizeof(err)), 0);
	snprintf(text + used, sizeof(text) - used, "extra=\"v\"} 1\n");
	ck_assert_int_eq(parse(text, &r, err, sizeof(err)), SM_PROM_EPARSE);
	ck_assert_ptr_nonnull(strstr(err, "more than 64 labels"));
	/* A long value on one line (no fixed-size line buffer). */
	size_t n = 200000;
	char *big = malloc(n + 32);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "m{a=\"", 5);
	memset(big + 5, 'x', n);
	strcpy(big + 5 + n, "\"} 1\n");
	ck_assert_int_eq(sm_prom_parse(big, strlen(big), NULL, NULL, err, sizeof(err)), 0);
	free(big);
	/* A tiny error buffer is never overrun. */
	char tiny[4];
	ck_assert_int_eq(sm_prom_parse("bad", 3, NULL, NULL, tiny, sizeof(tiny)), SM_PROM_EPARSE);
	ck_assert_int_eq(strlen(tiny), 3);
}
END_TEST

static int stop_at_second(const sm_prom_sample_t *s, void *ud)
{
	return ++*(int *)ud == 2 ? 42 : 0;
}

START_TEST(test_callback_stops)
{
	int n = 0;
	char err[64];
	ck_assert_int_eq(sm_prom_parse("a 1\nb 2\nc 3\n", 12, stop_at_second, &n, err, sizeof(err)),
	                 42);
	ck_assert_int_eq(n, 2);
}
END_TEST

START_TEST(test_count_listener)
{
	double sum = -1;
	size_t series = 0;
	char err[256];
	/* 8080 and 8443; the stats listener (8002, v4 and v6), the admin's own
	 * and the per-worker gauges are left out. */
	ck_assert_int_eq(sm_count_open(envoy_listeners, strlen(envoy_listeners), SM_COUNT_LISTENER,
	                               EXCLUDE, &sum, &series, err, sizeof(err)),
	                 0);
	ck_assert(sum == 7.0);
	ck_assert_int_eq(series, 2);
	/* Nothing excluded: the stats listener counts too. */
	ck_assert_int_eq(sm_count_open(envoy_listeners, strlen(envoy_listeners), SM_COUNT_LISTENER,
	                               "", &sum, &series, err, sizeof(err)),
	                 0);
	ck_assert(sum == 9.0);
	/* The listener mode ignores the HTTP gauge and vice versa. */
	ck_assert_int_eq(sm_count_open(envoy_http, strlen(envoy_http), SM_COUNT_LISTENER, EXCLUDE,
	                               &sum, &series, err, sizeof(err)),
	                 0);
	ck_assert(sum == 0.0 && series == 0);
}
END_TEST

START_TEST(test_count_http)
{
	double sum = -1;
	size_t series = 0;
	char err[256];
	ck_assert_int_eq(sm_count_open(envoy_http, strlen(envoy_http), SM_COUNT_HTTP, EXCLUDE, &sum,
	                               &series, err, sizeof(err)),
	                 0);
	ck_assert(sum == 7.0); /* ingress_http + ingress_https */
	ck_assert_int_eq(series, 2);
	ck_assert_str_eq(sm_count_filter(SM_COUNT_HTTP), "^http\\..*\\.downstream_cx_active$");
	ck_assert_str_eq(sm_count_filter(SM_COUNT_LISTENER), "^listener\\..*\\.downstream_cx_active$");
	/* A label value that only starts like an excluded one is counted. */
	const char *t = "envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix=\"statsx\"} 2\n";
	ck_assert_int_eq(sm_count_open(t, strlen(t), SM_COUNT_HTTP, EXCLUDE, &sum, &series, err,
	                               sizeof(err)),
	                 0);
	ck_assert(sum == 2.0);
}
END_TEST

START_TEST(test_count_errors)
{
	double sum = 5;
	size_t series = 0;
	char err[256];
	const char *bad_values[] = {
	    "envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix=\"a\"} NaN\n",
	    "envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix=\"a\"} +Inf\n",
	    "envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix=\"a\"} -1\n",
	};
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(sm_count_open(bad_values[i], strlen(bad_values[i]), SM_COUNT_HTTP,
		                               EXCLUDE, &sum, &series, err, sizeof(err)),
		                 -1);
		ck_assert_ptr_nonnull(strstr(err, "not a count"));
	}
	ck_assert(sum == 5); /* untouched on error */
	const char *garbage = "<html>503 Service Unavailable</html>\n";
	ck_assert_int_eq(sm_count_open(garbage, strlen(garbage), SM_COUNT_HTTP, EXCLUDE, &sum,
	                               &series, err, sizeof(err)),
	                 -1);
	ck_assert_ptr_nonnull(strstr(err, "line 1:"));
	/* An excluded NaN is not an error: it is not counted. */
	const char *t = "envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix=\"admin\"} NaN\n";
	ck_assert_int_eq(sm_count_open(t, strlen(t), SM_COUNT_HTTP, EXCLUDE, &sum, &series, err,
	                               sizeof(err)),
	                 0);
	ck_assert(sum == 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sm_prom");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_envoy_output);
	tcase_add_test(tc, test_values_and_timestamps);
	tcase_add_test(tc, test_labels_escapes);
	tcase_add_test(tc, test_comments_help_type);
	tcase_add_test(tc, test_callback_stops);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_bad_input, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("count");
	tcase_add_test(tc, test_count_listener);
	tcase_add_test(tc, test_count_http);
	tcase_add_test(tc, test_count_errors);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
