/* tests/unit/check_hp_policy.c: the httpproxy module's policy and
 * condition translations (hp_policy_*.c, hp_cond.c, and the domain layer's
 * conditions, header policies and durations they use): DAG values and the
 * exact upstream status messages they produce. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"
#include "modules/httpproxy/hp.h"
#include <contour/snapshot.h>

/* hp_cond.c, not (yet) in hp.h. */
int hp_policy_route_conditions_split(const json_t *inherited, const json_t *own, hp_status_t *st);

static core_t *core;
static contour_snapshot_t *snap;
static contour_dag_t *dag;
static hp_status_t *st;
static json_t *owned; /* every fragment parsed by J(), freed in teardown */
static json_t *rendered;

static void setup(void)
{
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	snap = core_snapshot_new(core, 1);
	ck_assert_ptr_nonnull(snap);
	dag = contour_snapshot_dag(snap);
	json_t *proxy =
	    json_pack("{s:s, s:s, s:{s:s, s:s, s:i}}", "apiVersion", HP_API_VERSION, "kind",
	              HP_KIND, "metadata", "name", "p", "namespace", "roots", "generation", 3);
	st = hp_status_new(proxy);
	json_decref(proxy);
	ck_assert_ptr_nonnull(st);
	owned = json_array();
	rendered = NULL;
}

static void teardown(void)
{
	json_decref(rendered);
	json_decref(owned);
	hp_status_free(st);
	contour_snapshot_unref(snap);
	core_free(core);
}

/* A fresh status for the next case in a test. */
static void reset_status(void)
{
	hp_status_free(st);
	json_t *proxy = json_pack("{s:{s:i}}", "metadata", "generation", 3);
	st = hp_status_new(proxy);
	json_decref(proxy);
	ck_assert_ptr_nonnull(st);
}

/* A JSON fragment, alive until teardown. */
static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
	ck_assert_msg(v != NULL, "bad JSON in test: %s: %s", text, e.text);
	json_array_append_new(owned, v);
	return v;
}

/* The errors[] or warnings[] list of the rendered Valid condition. */
static json_t *status_list(const char *which)
{
	json_decref(rendered);
	rendered = hp_status_to_json(st, "2024-01-01T00:00:00Z");
	ck_assert_ptr_nonnull(rendered);
	json_t *cond = json_array_get(json_object_get(rendered, "conditions"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(cond, "observedGeneration")), 3);
	return json_object_get(cond, which);
}

static size_t nerrors(void)
{
	return json_array_size(status_list("errors"));
}

static size_t nwarnings(void)
{
	return json_array_size(status_list("warnings"));
}

/* Entry i of errors[]/warnings[] has this type, reason and message. */
static void expect_entry(const char *which, size_t i, const char *type, const char *reason,
                         const char *message)
{
	json_t *e = json_array_get(status_list(which), i);
	ck_assert_msg(e != NULL, "no %s[%zu]", which, i);
	ck_assert_str_eq(json_string_value(json_object_get(e, "type")), type);
	ck_assert_str_eq(json_string_value(json_object_get(e, "status")), "True");
	ck_assert_str_eq(json_string_value(json_object_get(e, "reason")), reason);
	ck_assert_str_eq(json_string_value(json_object_get(e, "message")), message);
}

/* Exactly one error, this one. */
static void expect_error(const char *type, const char *reason, const char *message)
{
	ck_assert_int_eq(nerrors(), 1);
	expect_entry("errors", 0, type, reason, message);
	ck_assert_str_eq(json_string_value(json_object_get(rendered, "currentStatus")), "invalid");
}

static void expect_clean(void)
{
	ck_assert_int_eq(nerrors(), 0);
	ck_assert_int_eq(nwarnings(), 0);
}

/* ---- conditions: validity ------------------------------------------------------ */

START_TEST(test_include_conditions)
{
	static const struct {
		const char *conds, *message;
	} cases[] = {
	    {"[{\"prefix\":\"/a\"},{\"prefix\":\"/b\"}]",
	     "include: more than one prefix, exact or regex is not allowed in a condition block"},
	    {"[{\"prefix\":\"api\"}]",
	     "include: prefix conditions must start with /, api was supplied"},
	    {"[{\"exact\":\"/a\"}]", "include: exact conditions are not allowed in includes block"},
	    {"[{\"regex\":\"/a.*\"}]",
	     "include: regex conditions are not allowed in includes block"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		reset_status();
		ck_assert_int_eq(hp_policy_include_conditions(J(cases[i].conds), st), -1);
		expect_error("IncludeError", "PathMatchConditionsNotValid", cases[i].message);
	}
	reset_status();
	ck_assert_int_eq(
	    hp_policy_include_conditions(
	        J("[{\"prefix\":\"/blog\"},{\"header\":{\"name\":\"x\",\"present\":true}}]"), st),
	    0);
	ck_assert_int_eq(hp_policy_include_conditions(NULL, st), 0);
	expect_clean();
	/* Header rules apply to an include's own conditions, as RouteError. */
	ck_assert_int_eq(
	    hp_policy_include_conditions(J("[{\"header\":{\"name\":\"x\",\"present\":true}},"
	                                   "{\"header\":{\"name\":\"X\",\"notpresent\":true}}]"),
	                                 st),
	    -1);
	expect_error(
	    "RouteError", "HeaderMatchConditionsNotValid",
	    "cannot specify contradictory 'present' and 'notpresent' conditions for the same "
	    "route and header");
}
END_TEST

static void route_cond_case(const char *conds, const char *message)
{
	reset_status();
	ck_assert_int_eq(hp_policy_route_conditions_split(NULL, J(conds), st), -1);
	expect_error("RouteError", "PathMatchConditionsNotValid", message);
}

START_TEST(test_route_path_conditions)
{
	route_cond_case("[{\"prefix\":\"/a\"},{\"exact\":\"/b\"}]",
	                "route: more than one prefix, exact or regex is not allowed in a condition "
	                "block");
	route_cond_case("[{\"prefix\":\"api\"}]",
	                "route: prefix conditions must start with /, api was supplied");
	route_cond_case("[{\"exact\":\"foo\"}]",
	                "route: exact conditions must start with /, foo was supplied");
	route_cond_case("[{\"regex\":\"foo.*\"}]",
	                "route: regex conditions must start with /, foo.* was supplied");
	route_cond_case(
	    "[{\"regex\":\"/foo(\"}]",
	    "route: supplied regex: /foo( invalid. error: error parsing regexp: missing "
	    "closing ): `/foo(`");
	route_cond_case("[{\"regex\":\"/[a-\"}]",
	                "route: supplied regex: /[a- invalid. error: error parsing regexp: missing "
	                "closing ]: `[a-`");
	route_cond_case("[{\"regex\":\"/a**\"}]",
	                "route: supplied regex: /a** invalid. error: error parsing regexp: invalid "
	                "nested repetition operator: `**`");
}
END_TEST

START_TEST(test_route_conditions_merged_list)
{
	/* An inherited prefix plus the route's own is fine in the merged form. */
	ck_assert_int_eq(
	    hp_policy_route_conditions(J("[{\"prefix\":\"/blog\"},{\"prefix\":\"/x\"}]"), st), 0);
	ck_assert_int_eq(
	    hp_policy_route_conditions(J("[{\"prefix\":\"/blog\"},{\"exact\":\"/x\"}]"), st), 0);
	ck_assert_int_eq(hp_policy_route_conditions_split(J("[{\"prefix\":\"/blog\"}]"),
	                                                  J("[{\"regex\":\"/x.*\"}]"), st),
	                 0);
	expect_clean();
	/* Two of exact/regex can only come from the route's own block. */
	ck_assert_int_eq(
	    hp_policy_route_conditions(J("[{\"exact\":\"/a\"},{\"regex\":\"/b\"}]"), st), -1);
	expect_error("RouteError", "PathMatchConditionsNotValid",
	             "route: more than one prefix, exact or regex is not allowed in a condition "
	             "block");
}
END_TEST

static void header_case(const char *conds, const char *message)
{
	reset_status();
	ck_assert_int_eq(hp_policy_route_conditions(J(conds), st), -1);
	expect_error("RouteError", "HeaderMatchConditionsNotValid", message);
}

START_TEST(test_header_conditions)
{
	header_case("[{\"header\":{\"name\":\"x-a\",\"exact\":\"1\"}},"
	            "{\"header\":{\"name\":\"X-A\",\"exact\":\"2\"}}]",
	            "cannot specify duplicate header 'exact match' conditions in the same route");
	header_case("[{\"header\":{\"name\":\"x-a\",\"notpresent\":true}},"
	            "{\"header\":{\"name\":\"x-a\",\"present\":true}}]",
	            "cannot specify contradictory 'present' and 'notpresent' conditions for the "
	            "same route and header");
	header_case("[{\"header\":{\"name\":\"x-a\",\"exact\":\"v\"}},"
	            "{\"header\":{\"name\":\"x-A\",\"notexact\":\"v\"}}]",
	            "cannot specify contradictory 'exact' and 'notexact' conditions for the same "
	            "route and header");
	header_case("[{\"header\":{\"name\":\"x-a\",\"notcontains\":\"v\"}},"
	            "{\"header\":{\"name\":\"x-a\",\"contains\":\"v\"}}]",
	            "cannot specify contradictory 'contains' and 'notcontains' conditions for the "
	            "same route and header");
	header_case("[{\"header\":{\"name\":\"x-a\",\"regex\":\"a(\"}}]",
	            "invalid regular expression specified for 'regex' condition");

	/* Different values are not contradictions, nor is an earlier
	 * condition with ignoreCase (upstream looks the whole earlier
	 * condition up in a map). */
	reset_status();
	ck_assert_int_eq(
	    hp_policy_route_conditions(J("[{\"header\":{\"name\":\"x-a\",\"exact\":\"v\"}},"
	                                 "{\"header\":{\"name\":\"x-a\",\"notexact\":\"w\"}},"
	                                 "{\"header\":{\"name\":\"x-b\",\"contains\":\"v\","
	                                 "\"ignoreCase\":true}},"
	                                 "{\"header\":{\"name\":\"x-b\",\"notcontains\":\"v\"}}]"),
	                               st),
	    0);
	expect_clean();
}
END_TEST

static void query_case(const char *conds, const char *message)
{
	reset_status();
	ck_assert_int_eq(hp_policy_route_conditions(J(conds), st), -1);
	expect_error("RouteError", "QueryParameterMatchConditionsNotValid", message);
}

START_TEST(test_query_conditions)
{
	query_case("[{\"queryParameter\":{\"name\":\"a\",\"exact\":\"1\"}},"
	           "{\"queryParameter\":{\"name\":\"A\",\"exact\":\"2\"}}]",
	           "cannot specify duplicate query parameter 'exact match' conditions in the same "
	           "route");
	query_case("[{\"queryParameter\":{\"name\":\"a\",\"exact\":\"1\",\"prefix\":\"x\"}}]",
	           "cannot specify more than one condition in the same match condition branch");
	query_case("[{\"queryParameter\":{\"name\":\"a\",\"present\":true,\"suffix\":\"x\"}}]",
	           "cannot specify more than one condition in the same match condition branch");
	query_case("[{\"queryParameter\":{\"name\":\"a\"}}]",
	           "must specify at least one query parameter condition");
	query_case("[{\"queryParameter\":{\"name\":\"a\",\"regex\":\"[\"}}]",
	           "invalid regular expression specified for 'regex' condition");
}
END_TEST

START_TEST(test_regex_syntax)
{
	static const char *const valid[] = {
	    "/foo",       "(?i)/foo",        "/foo\\d+\\.html", "/a{2,3}",      "/x{",
	    "^*",         "/api/(v1|v2)/.*", "/[[:alpha:]]+",   "/\\p{Greek}",  "/\\pL",
	    "/(?P<id>x)", "/(?<id>x)",       "/a*?b",           "/[]a]",        "/[^-a]",
	    "/\\Q*+\\E",  "/(?i:ab)+",       "/\\x41\\x{263a}", "/caf\xc3\xa9", "()*",
	    "/a{,3}",     "/[a-z0-9_-]+$",   "/\\.\\/\\-",      "/\\012",       "/(?s-i:a)",
	};
	static const struct {
		const char *re, *err;
	} invalid[] = {
	    {"/a(", "missing closing ): `/a(`"},
	    {"/a)", "unexpected ): `/a)`"},
	    {"/[a", "missing closing ]: `[a`"},
	    {"/a**", "invalid nested repetition operator: `**`"},
	    {"/a+*b", "invalid nested repetition operator: `+*`"},
	    {"/a{2}{3}", "invalid nested repetition operator: `{2}{3}`"},
	    {"*a", "missing argument to repetition operator: `*`"},
	    {"/(*)", "missing argument to repetition operator: `*`"},
	    {"/a|+", "missing argument to repetition operator: `+`"},
	    {"/a{1001}", "invalid repeat count: `{1001}`"},
	    {"/a{3,2}", "invalid repeat count: `{3,2}`"},
	    {"/\\q", "invalid escape sequence: `\\q`"},
	    {"/\\1", "invalid escape sequence: `\\1`"},
	    {"/a\\", "trailing backslash at end of expression: ``"},
	    {"/(?x)", "invalid or unsupported Perl syntax: `(?x`"},
	    {"/(?P<a-b>x)", "invalid named capture: `(?P<a-b>`"},
	    {"/[z-a]", "invalid character class range: `z-a`"},
	    {"/[[:foo:]]", "invalid character class range: `[:foo:]`"},
	    {"/\\pX", "invalid character class range: `\\pX`"},
	    {"/\xff", "invalid UTF-8: `\xff`"},
	};
	char err[256], want[300];
	for (size_t i = 0; i < sizeof(valid) / sizeof(*valid); i++) {
		err[0] = '\0';
		ck_assert_msg(contour_regex_check(valid[i], err, sizeof(err)) == 0, "%s: %s",
		              valid[i], err);
	}
	for (size_t i = 0; i < sizeof(invalid) / sizeof(*invalid); i++) {
		ck_assert_msg(contour_regex_check(invalid[i].re, err, sizeof(err)) == -1,
		              "%s accepted", invalid[i].re);
		snprintf(want, sizeof(want), "error parsing regexp: %s", invalid[i].err);
		ck_assert_str_eq(err, want);
	}
}
END_TEST

/* ---- conditions: merge ------------------------------------------------------------- */

static contour_dag_route_t *merged(const char *conds)
{
	contour_dag_route_t *r = contour_dag_new(dag, sizeof(*r));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(contour_conditions_merge(dag, J(conds), r), 0);
	return r;
}

static void expect_path(const char *conds, contour_dag_path_type_t type, const char *value)
{
	contour_dag_route_t *r = merged(conds);
	ck_assert_msg(r->path.type == type, "%s: type %d", conds, (int)r->path.type);
	ck_assert_str_eq(r->path.value, value);
}

START_TEST(test_merge_paths)
{
	expect_path("[]", CONTOUR_DAG_PATH_PREFIX, "/");
	expect_path("[{\"prefix\":\"/blog\"}]", CONTOUR_DAG_PATH_PREFIX, "/blog");
	/* include /blog + a child route without a path condition */
	expect_path("[{\"prefix\":\"/blog\"},{\"header\":{\"name\":\"x\",\"present\":true}}]",
	            CONTOUR_DAG_PATH_PREFIX, "/blog");
	expect_path("[{\"prefix\":\"/blog\"},{\"prefix\":\"/\"}]", CONTOUR_DAG_PATH_PREFIX,
	            "/blog/");
	expect_path("[{\"prefix\":\"/blog/\"},{\"prefix\":\"/infotech\"}]", CONTOUR_DAG_PATH_PREFIX,
	            "/blog/infotech");
	expect_path("[{\"prefix\":\"/\"},{\"prefix\":\"//a//b\"}]", CONTOUR_DAG_PATH_PREFIX,
	            "/a/b");
	expect_path("[{\"prefix\":\"/api\"},{\"exact\":\"/v1\"}]", CONTOUR_DAG_PATH_EXACT,
	            "/api/v1");
	expect_path("[{\"prefix\":\"/api\"},{\"regex\":\"/v[0-9]+\"}]", CONTOUR_DAG_PATH_REGEX,
	            "/api/v[0-9]+");
	expect_path("[{\"prefix\":\"/\"}]", CONTOUR_DAG_PATH_PREFIX, "/");
}
END_TEST

START_TEST(test_merge_headers_queries)
{
	contour_dag_route_t *r = merged(
	    "[{\"prefix\":\"/\"},"
	    "{\"header\":{\"name\":\"X-A\",\"exact\":\"v\",\"ignoreCase\":true}},"
	    "{\"header\":{\"name\":\"x-b\",\"notpresent\":true}},"
	    "{\"header\":{\"name\":\"x-c\",\"notcontains\":\"w\",\"treatMissingAsEmpty\":true}},"
	    "{\"header\":{\"name\":\"x-d\",\"regex\":\"a.*\",\"ignoreCase\":true}},"
	    "{\"queryParameter\":{\"name\":\"q\",\"prefix\":\"p\",\"ignoreCase\":true}},"
	    "{\"queryParameter\":{\"name\":\"r\",\"regex\":\"x\",\"ignoreCase\":true}},"
	    "{\"queryParameter\":{\"name\":\"s\",\"present\":true}}]");
	ck_assert_uint_eq(r->nheaders, 4);
	ck_assert_str_eq(r->headers[0].name, "X-A");
	ck_assert_int_eq(r->headers[0].type, CONTOUR_DAG_MATCH_EXACT);
	ck_assert_str_eq(r->headers[0].value, "v");
	ck_assert_int_eq(r->headers[0].ignore_case, 1);
	ck_assert_int_eq(r->headers[0].invert, 0);
	ck_assert_int_eq(r->headers[1].type, CONTOUR_DAG_MATCH_PRESENT);
	ck_assert_int_eq(r->headers[1].invert, 1);
	ck_assert_ptr_null(r->headers[1].value);
	ck_assert_int_eq(r->headers[2].type, CONTOUR_DAG_MATCH_CONTAINS);
	ck_assert_int_eq(r->headers[2].invert, 1);
	ck_assert_int_eq(r->headers[2].treat_missing_as_empty, 1);
	ck_assert_int_eq(r->headers[3].type, CONTOUR_DAG_MATCH_REGEX);
	ck_assert_int_eq(r->headers[3].ignore_case, 0); /* no effect on regex */
	ck_assert_uint_eq(r->nqueries, 3);
	ck_assert_int_eq(r->queries[0].type, CONTOUR_DAG_MATCH_PREFIX);
	ck_assert_int_eq(r->queries[0].ignore_case, 1);
	ck_assert_str_eq(r->queries[0].value, "p");
	ck_assert_int_eq(r->queries[1].type, CONTOUR_DAG_MATCH_REGEX);
	ck_assert_int_eq(r->queries[1].ignore_case, 0);
	ck_assert_int_eq(r->queries[2].type, CONTOUR_DAG_MATCH_PRESENT);
	ck_assert_ptr_null(r->queries[2].value);
}
END_TEST

START_TEST(test_seen_duplicates)
{
	contour_conditions_seen_t *seen = contour_conditions_seen_new();
	ck_assert_ptr_nonnull(seen);
	/* Empty and bare "/" are never duplicates. */
	ck_assert_int_eq(contour_conditions_seen_add(seen, J("[]")), 0);
	ck_assert_int_eq(contour_conditions_seen_add(seen, J("[]")), 0);
	ck_assert_int_eq(contour_conditions_seen_add(seen, J("[{\"prefix\":\"/\"}]")), 0);
	ck_assert_int_eq(contour_conditions_seen_add(seen, J("[{\"prefix\":\"/\"}]")), 0);
	ck_assert_int_eq(contour_conditions_seen_add(seen, J("[{\"prefix\":\"/blog\"}]")), 0);
	ck_assert_int_eq(contour_conditions_seen_add(seen, J("[{\"prefix\":\"/blog/\"}]")), 0);
	ck_assert_int_eq(contour_conditions_seen_add(seen, J("[{\"prefix\":\"/blog\"}]")), 1);
	/* Same header conditions in another order: identical. */
	ck_assert_int_eq(
	    contour_conditions_seen_add(seen, J("[{\"prefix\":\"/\"},"
	                                        "{\"header\":{\"name\":\"a\",\"present\":true}},"
	                                        "{\"header\":{\"name\":\"b\",\"exact\":\"1\"}}]")),
	    0);
	ck_assert_int_eq(
	    contour_conditions_seen_add(seen, J("[{\"header\":{\"name\":\"b\",\"exact\":\"1\"}},"
	                                        "{\"header\":{\"name\":\"a\",\"present\":true}}]")),
	    1);
	/* A different value, or an added query condition, is not. */
	ck_assert_int_eq(
	    contour_conditions_seen_add(seen, J("[{\"header\":{\"name\":\"b\",\"exact\":\"2\"}},"
	                                        "{\"header\":{\"name\":\"a\",\"present\":true}}]")),
	    0);
	ck_assert_int_eq(contour_conditions_seen_add(
	                     seen, J("[{\"header\":{\"name\":\"b\",\"exact\":\"1\"}},"
	                             "{\"header\":{\"name\":\"a\",\"present\":true}},"
	                             "{\"queryParameter\":{\"name\":\"q\",\"exact\":\"1\"}}]")),
	                 0);
	contour_conditions_seen_free(seen);
	contour_conditions_seen_free(NULL);
}
END_TEST

/* ---- header policies --------------------------------------------------------------- */

static contour_dag_header_policy_t *headers_ok(const char *policy, int request, const char *what,
                                               const char *svc)
{
	contour_dag_header_policy_t *hp = NULL;
	ck_assert_int_eq(
	    hp_policy_headers(dag, J(policy), NULL, request, what, "roots", svc, 8080, &hp, st), 0);
	ck_assert_ptr_nonnull(hp);
	return hp;
}

START_TEST(test_headers_route)
{
	contour_dag_header_policy_t *hp =
	    headers_ok("{\"set\":[{\"name\":\"x-foo\",\"value\":\"bar\"},"
	               "{\"name\":\"a-first\",\"value\":\"1\"},"
	               "{\"name\":\"host\",\"value\":\"example.com\"}],"
	               "\"remove\":[\"x-b\",\"X-A\"]}",
	               1, "route", NULL);
	ck_assert_uint_eq(hp->nset, 2);
	ck_assert_str_eq(hp->set[0].name, "A-First");
	ck_assert_str_eq(hp->set[1].name, "X-Foo");
	ck_assert_str_eq(hp->set[1].value, "bar");
	ck_assert_str_eq(hp->host_rewrite, "example.com");
	ck_assert_ptr_null(hp->host_rewrite_header);
	ck_assert_uint_eq(hp->nremove, 2);
	ck_assert_str_eq(hp->remove[0], "X-A");
	ck_assert_str_eq(hp->remove[1], "X-B");

	hp = headers_ok("{\"set\":[{\"name\":\"Host\",\"value\":\"%REQ(x-host-src)%\"}]}", 1,
	                "route", NULL);
	ck_assert_str_eq(hp->host_rewrite_header, "X-Host-Src");
	ck_assert_ptr_null(hp->host_rewrite);
	ck_assert_uint_eq(hp->nset, 0);

	/* Absent policy: none. */
	contour_dag_header_policy_t *none = (void *)1;
	ck_assert_int_eq(
	    hp_policy_headers(dag, NULL, NULL, 1, "route", "roots", NULL, 0, &none, st), 0);
	ck_assert_ptr_null(none);
	expect_clean();
}
END_TEST

START_TEST(test_headers_variables)
{
	contour_dag_header_policy_t *hp = headers_ok(
	    "{\"set\":[{\"name\":\"x-a\",\"value\":\"%CONTOUR_NAMESPACE%/%CONTOUR_SERVICE_NAME%:"
	    "%CONTOUR_SERVICE_PORT%\"},"
	    "{\"name\":\"x-b\",\"value\":\"100%\"},"
	    "{\"name\":\"x-c\",\"value\":\"%DOWNSTREAM_REMOTE_ADDRESS% %REQ(x-y)% %BOGUS%\"},"
	    "{\"name\":\"x-d\",\"value\":\"%REQ(:authority?x-z):10%\"}]}",
	    1, "service", "web");
	ck_assert_uint_eq(hp->nset, 4);
	ck_assert_str_eq(hp->set[0].value, "roots/web:8080");
	ck_assert_str_eq(hp->set[1].value, "100%%");
	ck_assert_str_eq(hp->set[2].value, "%DOWNSTREAM_REMOTE_ADDRESS% %REQ(x-y)% %%BOGUS%%");
	ck_assert_str_eq(hp->set[3].value, "%REQ(:authority?x-z):10%");

	/* Route level: no service, its variables stay (escaped) literal. */
	hp = headers_ok("{\"set\":[{\"name\":\"x-a\",\"value\":\"%CONTOUR_NAMESPACE%-"
	                "%CONTOUR_SERVICE_NAME%\"}]}",
	                1, "route", NULL);
	ck_assert_str_eq(hp->set[0].value, "roots-%%CONTOUR_SERVICE_NAME%%");
	expect_clean();
}
END_TEST

static void headers_err(const char *policy, int request, const char *what, const char *type,
                        const char *reason, const char *message)
{
	contour_dag_header_policy_t *hp = (void *)1;
	reset_status();
	ck_assert_int_eq(
	    hp_policy_headers(dag, J(policy), NULL, request, what, "roots", "web", 80, &hp, st),
	    -1);
	ck_assert_ptr_null(hp);
	expect_error(type, reason, message);
}

START_TEST(test_headers_errors)
{
	headers_err("{\"set\":[{\"name\":\"x-foo\",\"value\":\"1\"},{\"name\":\"X-Foo\",\"value\":"
	            "\"2\"}]}",
	            1, "route", "RouteError", "RequestHeadersPolicyInvalid",
	            "duplicate header addition: \"X-Foo\" on request headers");
	headers_err("{\"remove\":[\"x-foo\",\"X-FOO\"]}", 0, "route", "RouteError",
	            "ResponseHeaderPolicyInvalid",
	            "duplicate header removal: \"X-Foo\" on response headers");
	headers_err("{\"set\":[{\"name\":\"Host\",\"value\":\"x\"}]}", 0, "route", "RouteError",
	            "ResponseHeaderPolicyInvalid",
	            "rewriting \"Host\" header is not supported on response headers");
	headers_err("{\"set\":[{\"name\":\"x foo\",\"value\":\"1\"}]}", 1, "service",
	            "ServiceError", "RequestHeadersPolicyInvalid",
	            "invalid set header \"x foo\": [a valid HTTP header must consist of "
	            "alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for "
	            "validation is '[-A-Za-z0-9]+')] on request headers");
	headers_err("{\"remove\":[\"x_foo\"]}", 0, "service", "ServiceError",
	            "ResponseHeadersPolicyInvalid",
	            "invalid remove header \"X_foo\": [a valid HTTP header must consist of "
	            "alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for "
	            "validation is '[-A-Za-z0-9]+')] on response headers");
}
END_TEST

/* A service's own %REQ(x)% Host: upstream's headersPolicyRoute accepts it
 * (the cluster's HostRewriteHeader, which Envoy never reads). No error, and
 * nothing in the DAG. */
START_TEST(test_headers_service_dynamic_host)
{
	contour_dag_header_policy_t *hp =
	    headers_ok("{\"set\":[{\"name\":\"Host\",\"value\":\"%REQ(x-h)%\"},"
	               "{\"name\":\"x-a\",\"value\":\"1\"}]}",
	               1, "service", "web");
	ck_assert_ptr_null(hp->host_rewrite_header);
	ck_assert_ptr_null(hp->host_rewrite);
	ck_assert_uint_eq(hp->nset, 1);
	ck_assert_str_eq(hp->set[0].name, "X-A");
	expect_clean();
}
END_TEST

/* hp_policy_headers at service level with the global defaults. */
static contour_dag_header_policy_t *defaults_ok(const char *policy, const char *defaults,
                                                int request)
{
	contour_dag_header_policy_t *hp = (void *)1;
	ck_assert_int_eq(hp_policy_headers(dag, policy ? J(policy) : NULL, J(defaults), request,
	                                   "service", "roots", "web", 8080, &hp, st),
	                 0);
	return hp;
}

START_TEST(test_headers_defaults_merge)
{
	/* The user's X-Foo wins over the default (any case); defaults are
	 * canonicalised, escaped and expanded, and the set stays sorted. */
	contour_dag_header_policy_t *hp =
	    defaults_ok("{\"set\":[{\"name\":\"x-foo\",\"value\":\"mine\"}],\"remove\":[\"x-z\"]}",
	                "{\"set\":{\"X-FOO\":\"theirs\",\"a-svc\":\"%CONTOUR_SERVICE_NAME%:"
	                "%CONTOUR_SERVICE_PORT% 5%\",\"x-num\":42,\"x-on\":true,\"x-r\":1.5},"
	                "\"remove\":[\"x-secret\",\"X-Z\",\"a-gone\"]}",
	                1);
	ck_assert_ptr_nonnull(hp);
	ck_assert_uint_eq(hp->nset, 5);
	ck_assert_str_eq(hp->set[0].name, "A-Svc");
	ck_assert_str_eq(hp->set[0].value, "web:8080 5%%");
	ck_assert_str_eq(hp->set[1].name, "X-Foo");
	ck_assert_str_eq(hp->set[1].value, "mine");
	ck_assert_str_eq(hp->set[2].name, "X-Num");
	ck_assert_str_eq(hp->set[2].value, "42");
	ck_assert_str_eq(hp->set[3].name, "X-On");
	ck_assert_str_eq(hp->set[3].value, "true");
	ck_assert_str_eq(hp->set[4].name, "X-R");
	ck_assert_str_eq(hp->set[4].value, "1.5");
	/* The user's removals (sorted), then the defaults in their order,
	 * except the one the user already removes. */
	ck_assert_uint_eq(hp->nremove, 3);
	ck_assert_str_eq(hp->remove[0], "X-Z");
	ck_assert_str_eq(hp->remove[1], "X-Secret");
	ck_assert_str_eq(hp->remove[2], "A-Gone");
	ck_assert_ptr_null(hp->host_rewrite);

	/* No policy of the user's: the defaults alone. A default removal
	 * listed twice is appended twice, as upstream does. */
	hp = defaults_ok(NULL, "{\"set\":{\"x-a\":\"1\"},\"remove\":[\"x-b\",\"X-B\"]}", 1);
	ck_assert_ptr_nonnull(hp);
	ck_assert_uint_eq(hp->nset, 1);
	ck_assert_str_eq(hp->set[0].value, "1");
	ck_assert_uint_eq(hp->nremove, 2);
	ck_assert_str_eq(hp->remove[0], "X-B");
	ck_assert_str_eq(hp->remove[1], "X-B");

	/* Nothing from either side: no policy at all. */
	ck_assert_ptr_null(defaults_ok(NULL, "{}", 1));
	ck_assert_ptr_null(defaults_ok(NULL, "{\"set\":{},\"remove\":[]}", 0));

	/* Route level never takes the defaults. */
	contour_dag_header_policy_t *r = (void *)1;
	ck_assert_int_eq(hp_policy_headers(dag, NULL, J("{\"set\":{\"x-a\":\"1\"}}"), 1, "route",
	                                   "roots", NULL, 0, &r, st),
	                 0);
	ck_assert_ptr_null(r);
	r = headers_ok("{\"set\":[{\"name\":\"x-b\",\"value\":\"2\"}]}", 1, "route", NULL);
	ck_assert_uint_eq(r->nset, 1);

	/* Response defaults merge the same way. */
	hp = defaults_ok("{\"remove\":[\"server\"]}", "{\"set\":{\"x-served-by\":\"c\"}}", 0);
	ck_assert_uint_eq(hp->nset, 1);
	ck_assert_str_eq(hp->set[0].name, "X-Served-By");
	ck_assert_uint_eq(hp->nremove, 1);
	ck_assert_str_eq(hp->remove[0], "Server");
	expect_clean();
}
END_TEST

START_TEST(test_headers_defaults_host)
{
	/* A default Host applies when the user set none... */
	contour_dag_header_policy_t *hp =
	    defaults_ok(NULL, "{\"set\":{\"host\":\"default.example.com\"}}", 1);
	ck_assert_str_eq(hp->host_rewrite, "default.example.com");
	ck_assert_uint_eq(hp->nset, 0);
	/* ...but the user's static Host wins... */
	hp = defaults_ok("{\"set\":[{\"name\":\"host\",\"value\":\"mine.example.com\"}]}",
	                 "{\"set\":{\"Host\":\"default.example.com\"}}", 1);
	ck_assert_str_eq(hp->host_rewrite, "mine.example.com");
	/* ...even over a dynamic default, which is then not an error... */
	hp = defaults_ok("{\"set\":[{\"name\":\"Host\",\"value\":\"mine.example.com\"}]}",
	                 "{\"set\":{\"Host\":\"%REQ(x-h)%\"}}", 1);
	ck_assert_str_eq(hp->host_rewrite, "mine.example.com");
	/* ...and a user's dynamic Host (ignored) lets the default apply. */
	hp = defaults_ok("{\"set\":[{\"name\":\"Host\",\"value\":\"%REQ(x-h)%\"}]}",
	                 "{\"set\":{\"Host\":\"default.example.com\"}}", 1);
	ck_assert_str_eq(hp->host_rewrite, "default.example.com");
	ck_assert_ptr_null(hp->host_rewrite_header);
	expect_clean();
}
END_TEST

static void defaults_err(const char *policy, const char *defaults, int request, const char *reason,
                         const char *message)
{
	contour_dag_header_policy_t *hp = (void *)1;
	reset_status();
	ck_assert_int_eq(hp_policy_headers(dag, policy ? J(policy) : NULL, J(defaults), request,
	                                   "service", "roots", "web", 80, &hp, st),
	                 -1);
	ck_assert_ptr_null(hp);
	expect_error("ServiceError", reason, message);
}

START_TEST(test_headers_defaults_errors)
{
	defaults_err(NULL, "{\"set\":{\"Host\":\"%REQ(x-h)%\"}}", 1, "RequestHeadersPolicyInvalid",
	             "rewriting \"Host\" host header with dynamic value is not supported on "
	             "service on request headers");
	defaults_err(NULL, "{\"set\":{\"host\":\"a.example.com\"}}", 0,
	             "ResponseHeadersPolicyInvalid",
	             "rewriting \"Host\" header is not supported on response headers");
	/* Even when the user's policy would have been fine. */
	defaults_err("{\"set\":[{\"name\":\"x-a\",\"value\":\"1\"}]}", "{\"set\":{\"x_b\":\"1\"}}",
	             1, "RequestHeadersPolicyInvalid",
	             "invalid set header \"X_b\": [a valid HTTP header must consist of "
	             "alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for "
	             "validation is '[-A-Za-z0-9]+')] on request headers");
	/* A bad default removal reads "set", as upstream's message does. */
	defaults_err(NULL, "{\"remove\":[\"x b\"]}", 0, "ResponseHeadersPolicyInvalid",
	             "invalid set header \"x b\": [a valid HTTP header must consist of "
	             "alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for "
	             "validation is '[-A-Za-z0-9]+')] on response headers");
	/* The user's own errors come first. */
	defaults_err("{\"remove\":[\"a\",\"A\"]}", "{\"set\":{\"Host\":\"%REQ(x)%\"}}", 1,
	             "RequestHeadersPolicyInvalid",
	             "duplicate header removal: \"A\" on request headers");
}
END_TEST

START_TEST(test_headers_check)
{
	char err[1024];
	ck_assert_int_eq(contour_header_policy_check(NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(contour_header_policy_check(J("{\"set\":{\"x-a\":\"1\",\"Host\":1},"
	                                               "\"remove\":[\"x-b\"]}"),
	                                             err, sizeof(err)),
	                 0);
	ck_assert_int_eq(
	    contour_header_policy_check(J("{\"set\":{\"x a\":\"1\"}}"), err, sizeof(err)), -1);
	ck_assert_str_eq(err, "invalid header name \"x a\": [a valid HTTP header must consist of "
	                      "alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used "
	                      "for validation is '[-A-Za-z0-9]+')]");
	ck_assert_int_eq(
	    contour_header_policy_check(J("{\"remove\":[\"ok\",\"x_b\"]}"), err, sizeof(err)), -1);
	ck_assert_str_eq(err, "invalid header name \"x_b\": [a valid HTTP header must consist of "
	                      "alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used "
	                      "for validation is '[-A-Za-z0-9]+')]");
	ck_assert_int_eq(
	    contour_header_policy_check(J("{\"set\":{\"x-a\":[1]}}"), err, sizeof(err)), -1);
	ck_assert_str_eq(err, "header \"x-a\": the value must be a string");
}
END_TEST

/* ---- timeouts and retries ------------------------------------------------------------- */

START_TEST(test_parse_timeout)
{
	int64_t ms;
	char err[256];
	ck_assert_int_eq(contour_timeout_parse(NULL, &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, CONTOUR_DAG_TIMEOUT_DEFAULT);
	ck_assert_int_eq(contour_timeout_parse("", &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, CONTOUR_DAG_TIMEOUT_DEFAULT);
	ck_assert_int_eq(contour_timeout_parse("infinity", &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, CONTOUR_DAG_TIMEOUT_INFINITE);
	ck_assert_int_eq(contour_timeout_parse("infinite", &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, CONTOUR_DAG_TIMEOUT_INFINITE);
	ck_assert_int_eq(contour_timeout_parse("0s", &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, 0);
	ck_assert_int_eq(contour_timeout_parse("1h2m3.5s", &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, 3723500);
	ck_assert_int_eq(contour_timeout_parse("250ms", &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, 250);
	ck_assert_int_eq(contour_timeout_parse("1500us", &ms, err, sizeof(err)), 0);
	ck_assert_int_eq(ms, 2); /* rounded up to whole milliseconds */
	ck_assert_int_eq(contour_timeout_parse("600", &ms, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "time: missing unit in duration \"600\"");
	ck_assert_int_eq(contour_timeout_parse("10x", &ms, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "time: unknown unit \"x\" in duration \"10x\"");
	ck_assert_int_eq(contour_timeout_parse("forever", &ms, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "time: invalid duration \"forever\"");
	ck_assert_int_eq(contour_timeout_parse("-1s", &ms, err, sizeof(err)), -1);
	ck_assert_int_eq(contour_timeout_parse("3000000h", &ms, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "time: invalid duration \"3000000h\"");
}
END_TEST

START_TEST(test_timeouts)
{
	contour_dag_timeout_policy_t t;
	int64_t idle_conn;
	ck_assert_int_eq(hp_policy_timeouts(NULL, &t, &idle_conn, st), 0);
	ck_assert_int_eq(t.response_ms, CONTOUR_DAG_TIMEOUT_DEFAULT);
	ck_assert_int_eq(t.idle_ms, CONTOUR_DAG_TIMEOUT_DEFAULT);
	ck_assert_int_eq(idle_conn, CONTOUR_DAG_TIMEOUT_DEFAULT);
	ck_assert_int_eq(hp_policy_timeouts(J("{\"response\":\"infinity\",\"idle\":\"0s\","
	                                      "\"idleConnection\":\"1m30s\"}"),
	                                    &t, &idle_conn, st),
	                 0);
	ck_assert_int_eq(t.response_ms, CONTOUR_DAG_TIMEOUT_INFINITE);
	ck_assert_int_eq(t.idle_ms, CONTOUR_DAG_TIMEOUT_DEFAULT); /* 0 = Envoy's default */
	ck_assert_int_eq(idle_conn, 90000);
	expect_clean();

	ck_assert_int_eq(hp_policy_timeouts(J("{\"response\":\"600\"}"), &t, &idle_conn, st), -1);
	expect_error(
	    "RouteError", "TimeoutPolicyNotValid",
	    "route.timeoutPolicy failed to parse: error parsing response timeout: unable to "
	    "parse timeout string \"600\": time: missing unit in duration \"600\"");
	reset_status();
	ck_assert_int_eq(
	    hp_policy_timeouts(J("{\"response\":\"1s\",\"idle\":\"1x\"}"), &t, &idle_conn, st), -1);
	expect_entry(
	    "errors", 0, "RouteError", "TimeoutPolicyNotValid",
	    "route.timeoutPolicy failed to parse: error parsing idle timeout: unable to parse "
	    "timeout string \"1x\": time: unknown unit \"x\" in duration \"1x\"");
	reset_status();
	ck_assert_int_eq(hp_policy_timeouts(J("{\"idleConnection\":\"soon\"}"), &t, &idle_conn, st),
	                 -1);
	expect_entry("errors", 0, "RouteError", "TimeoutPolicyNotValid",
	             "route.timeoutPolicy failed to parse: error parsing idle connection timeout: "
	             "unable to parse timeout string \"soon\": time: invalid duration \"soon\"");
}
END_TEST

static contour_dag_retry_policy_t *retry(const char *policy)
{
	contour_dag_retry_policy_t *rp = NULL;
	ck_assert_int_eq(hp_policy_retry(dag, J(policy), &rp, st), 0);
	ck_assert_ptr_nonnull(rp);
	return rp;
}

START_TEST(test_retry)
{
	ck_assert_uint_eq(retry("{\"count\":-1}")->num_retries, 0);
	ck_assert_uint_eq(retry("{\"count\":0}")->num_retries, 1);
	ck_assert_uint_eq(retry("{\"count\":1}")->num_retries, 1);
	ck_assert_uint_eq(retry("{}")->num_retries, 1);
	ck_assert_uint_eq(retry("{\"count\":7}")->num_retries, 7);
	contour_dag_retry_policy_t *rp = retry("{\"perTryTimeout\":\"bogus\"}");
	ck_assert_str_eq(rp->retry_on, "5xx");
	ck_assert_int_eq(rp->per_try_timeout_ms, CONTOUR_DAG_TIMEOUT_DEFAULT);
	ck_assert_int_eq(retry("{\"perTryTimeout\":\"infinity\"}")->per_try_timeout_ms,
	                 CONTOUR_DAG_TIMEOUT_DEFAULT);
	rp = retry("{\"count\":3,\"perTryTimeout\":\"150ms\",\"retryOn\":[\"5xx\","
	           "\"retriable-status-codes\"],\"retriableStatusCodes\":[502,504]}");
	ck_assert_int_eq(rp->per_try_timeout_ms, 150);
	ck_assert_str_eq(rp->retry_on, "5xx,retriable-status-codes");
	ck_assert_uint_eq(rp->nretriable_status_codes, 2);
	ck_assert_uint_eq(rp->retriable_status_codes[1], 504);
	rp = (void *)1;
	ck_assert_int_eq(hp_policy_retry(dag, NULL, &rp, st), 0);
	ck_assert_ptr_null(rp);
	expect_clean();
}
END_TEST

/* ---- health checks, load balancing ------------------------------------------------ */

START_TEST(test_health_check)
{
	contour_dag_health_check_t *hc = NULL;
	ck_assert_int_eq(hp_policy_health_check(dag, J("{\"path\":\"/healthz\"}"), 0, &hc, st), 0);
	ck_assert_str_eq(hc->path, "/healthz");
	ck_assert_str_eq(hc->host, "contour-envoy-healthcheck");
	/* As upstream's DAG keeps them: unset is 0 (the Envoy defaults 10 s,
	 * 2 s, 3 and 2 are the translator's, see check_xds_translate). */
	ck_assert_int_eq(hc->interval_ms, 0);
	ck_assert_int_eq(hc->timeout_ms, 0);
	ck_assert_uint_eq(hc->unhealthy_threshold, 0);
	ck_assert_uint_eq(hc->healthy_threshold, 0);
	ck_assert_int_eq(hc->tcp, 0);
	ck_assert_int_eq(hp_policy_health_check(
	                     dag,
	                     J("{\"path\":\"/h\",\"host\":\"h.example\",\"intervalSeconds\":5,"
	                       "\"timeoutSeconds\":1,\"unhealthyThresholdCount\":4,"
	                       "\"healthyThresholdCount\":6,"
	                       "\"expectedStatuses\":[{\"start\":200,\"end\":300}]}"),
	                     0, &hc, st),
	                 0);
	ck_assert_str_eq(hc->host, "h.example");
	ck_assert_int_eq(hc->interval_ms, 5000);
	ck_assert_int_eq(hc->timeout_ms, 1000);
	ck_assert_uint_eq(hc->unhealthy_threshold, 4);
	ck_assert_uint_eq(hc->healthy_threshold, 6);
	ck_assert_uint_eq(hc->nexpected_statuses, 1);
	ck_assert_uint_eq(hc->expected_statuses[0].start, 200);
	ck_assert_uint_eq(hc->expected_statuses[0].end, 300);
	ck_assert_int_eq(hp_policy_health_check(dag, J("{\"intervalSeconds\":3}"), 1, &hc, st), 0);
	ck_assert_int_eq(hc->tcp, 1);
	ck_assert_ptr_null(hc->path);
	ck_assert_int_eq(hc->interval_ms, 3000);
	ck_assert_int_eq(hp_policy_health_check(dag, NULL, 0, &hc, st), 0);
	ck_assert_ptr_null(hc);
	expect_clean();

	ck_assert_int_eq(
	    hp_policy_health_check(dag, J("{\"expectedStatuses\":[{\"start\":99,\"end\":200}]}"), 0,
	                           &hc, st),
	    -1);
	expect_error("RouteError", "HealthCheckPolicyInvalid",
	             "invalid expected status range: start must be in the range [100, 599]");
	reset_status();
	ck_assert_int_eq(
	    hp_policy_health_check(dag, J("{\"expectedStatuses\":[{\"start\":200,\"end\":601}]}"),
	                           0, &hc, st),
	    -1);
	expect_error("RouteError", "HealthCheckPolicyInvalid",
	             "invalid expected status range: end must be in the range [101, 600]");
}
END_TEST

static contour_dag_lb_strategy_t lb(const char *policy, int tcp, contour_dag_hash_policy_t **h,
                                    size_t *n)
{
	contour_dag_lb_strategy_t s = (contour_dag_lb_strategy_t)-1;
	ck_assert_int_eq(hp_policy_load_balancer(dag, policy ? J(policy) : NULL, tcp, &s, h, n, st),
	                 0);
	return s;
}

START_TEST(test_load_balancer)
{
	contour_dag_hash_policy_t *h;
	size_t n;
	ck_assert_int_eq(lb(NULL, 0, &h, &n), CONTOUR_DAG_LB_ROUND_ROBIN);
	ck_assert_int_eq(lb("{\"strategy\":\"Random\"}", 0, &h, &n), CONTOUR_DAG_LB_RANDOM);
	ck_assert_int_eq(lb("{\"strategy\":\"WeightedLeastRequest\"}", 0, &h, &n),
	                 CONTOUR_DAG_LB_WEIGHTED_LEAST_REQUEST);
	ck_assert_int_eq(lb("{\"strategy\":\"Fastest\"}", 0, &h, &n), CONTOUR_DAG_LB_ROUND_ROBIN);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(lb("{\"strategy\":\"Cookie\"}", 0, &h, &n), CONTOUR_DAG_LB_COOKIE);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(h[0].type, CONTOUR_DAG_HASH_COOKIE);
	ck_assert_str_eq(h[0].name, "X-Contour-Session-Affinity");
	expect_clean();

	ck_assert_int_eq(
	    lb("{\"strategy\":\"RequestHash\",\"requestHashPolicies\":["
	       "{\"headerHashOptions\":{\"headerName\":\"x-user\"},\"terminal\":true},"
	       "{\"headerHashOptions\":{\"headerName\":\"X-USER\"}},"
	       "{\"hashSourceIP\":true,\"headerHashOptions\":{\"headerName\":\"x-a\"}},"
	       "{\"hashSourceIP\":true},"
	       "{\"hashSourceIP\":true},"
	       "{\"queryParameterHashOptions\":{\"parameterName\":\"Q\"}},"
	       "{\"queryParameterHashOptions\":{\"parameterName\":\"q\"}},"
	       "{\"queryParameterHashOptions\":{\"parameterName\":\"\"}},"
	       "{\"headerHashOptions\":{\"headerName\":\"bad header\"}}]}",
	       0, &h, &n),
	    CONTOUR_DAG_LB_REQUEST_HASH);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(h[0].type, CONTOUR_DAG_HASH_HEADER);
	ck_assert_str_eq(h[0].name, "X-User");
	ck_assert_int_eq(h[0].terminal, 1);
	ck_assert_int_eq(h[1].type, CONTOUR_DAG_HASH_SOURCE_IP);
	ck_assert_int_eq(h[2].type, CONTOUR_DAG_HASH_QUERY);
	ck_assert_str_eq(h[2].name, "q");
	ck_assert_int_eq(nerrors(), 0);
	ck_assert_int_eq(nwarnings(), 6);
	expect_entry(
	    "warnings", 0, "SpecError", "IgnoredField",
	    "ignoring invalid header hash policy options with duplicated header name X-User");
	expect_entry(
	    "warnings", 1, "SpecError", "IgnoredField",
	    "ignoring invalid request hash policy, must set exactly one of hashSourceIP or "
	    "headerHashOptions or queryParameterHashOptions");
	expect_entry("warnings", 2, "SpecError", "IgnoredField",
	             "ignoring invalid request hash policy, hashSourceIP specified multiple times");
	expect_entry("warnings", 3, "SpecError", "IgnoredField",
	             "ignoring invalid query parameter hash policy options with duplicated query "
	             "parameter name q");
	expect_entry("warnings", 4, "SpecError", "IgnoredField",
	             "ignoring invalid query parameter hash policy options with an invalid empty "
	             "query parameter name");
	expect_entry(
	    "warnings", 5, "SpecError", "IgnoredField",
	    "ignoring invalid header hash policy options with invalid header name \"bad "
	    "header\": [a valid HTTP header must consist of alphanumeric characters or '-' "
	    "(e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')]");

	reset_status();
	ck_assert_int_eq(
	    lb("{\"strategy\":\"RequestHash\",\"requestHashPolicies\":[{}]}", 0, &h, &n),
	    CONTOUR_DAG_LB_ROUND_ROBIN);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(h);
	ck_assert_int_eq(nwarnings(), 2);
	expect_entry("warnings", 1, "SpecError", "IgnoredField",
	             "ignoring invalid request hash policy options, setting load balancer strategy "
	             "to default RoundRobin");

	reset_status();
	ck_assert_int_eq(lb("{\"strategy\":\"Cookie\"}", 1, &h, &n), CONTOUR_DAG_LB_ROUND_ROBIN);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(lb("{\"strategy\":\"Random\"}", 1, &h, &n), CONTOUR_DAG_LB_RANDOM);
	ck_assert_int_eq(nwarnings(), 1);
	ck_assert_int_eq(nerrors(), 0);
	expect_entry("warnings", 0, "TCPProxyError", "IgnoredField",
	             "ignoring field \"Spec.TCPProxy.LoadBalancerPolicy\"; Cookie load balancer "
	             "policy is not supported for TCPProxies");
}
END_TEST

/* ---- rewrites, redirects, direct responses ----------------------------------------- */

static contour_dag_route_t *route_with(contour_dag_path_type_t type, const char *value)
{
	contour_dag_route_t *r = contour_dag_new(dag, sizeof(*r));
	r->path.type = type;
	r->path.value = value;
	return r;
}

START_TEST(test_prefix_rewrite)
{
	contour_dag_prefix_rewrite_t *pr;
	size_t n;
	const char *two = "{\"replacePrefix\":[{\"replacement\":\"/default\"},"
	                  "{\"prefix\":\"/foo\",\"replacement\":\"/bar\"}]}";
	ck_assert_int_eq(hp_policy_prefix_rewrite(
	                     dag, J(two), route_with(CONTOUR_DAG_PATH_PREFIX, "/foo"), st, &pr, &n),
	                 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(pr[0].prefix, "/foo");
	ck_assert_str_eq(pr[0].replacement, "/bar");
	ck_assert_int_eq(hp_policy_prefix_rewrite(dag, J(two),
	                                          route_with(CONTOUR_DAG_PATH_PREFIX, "/other"), st,
	                                          &pr, &n),
	                 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(pr[0].prefix, "");
	ck_assert_str_eq(pr[0].replacement, "/default");
	ck_assert_int_eq(
	    hp_policy_prefix_rewrite(dag,
	                             J("{\"replacePrefix\":[{\"prefix\":\"/a\",\"replacement\":"
	                               "\"/b\"}]}"),
	                             route_with(CONTOUR_DAG_PATH_PREFIX, "/c"), st, &pr, &n),
	    0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(hp_policy_prefix_rewrite(
	                     dag, NULL, route_with(CONTOUR_DAG_PATH_EXACT, "/c"), st, &pr, &n),
	                 0);
	expect_clean();

	ck_assert_int_eq(hp_policy_prefix_rewrite(
	                     dag, J(two), route_with(CONTOUR_DAG_PATH_EXACT, "/foo"), st, &pr, &n),
	                 -1);
	expect_error("PrefixReplaceError", "MustHavePrefix",
	             "cannot specify prefix replacements without a prefix condition");
	reset_status();
	ck_assert_int_eq(
	    hp_policy_prefix_rewrite(dag,
	                             J("{\"replacePrefix\":[{\"prefix\":\"/foo\",\"replacement\":"
	                               "\"/a\"},{\"prefix\":\"/foo\",\"replacement\":\"/b\"}]}"),
	                             route_with(CONTOUR_DAG_PATH_PREFIX, "/foo"), st, &pr, &n),
	    -1);
	expect_error("PrefixReplaceError", "DuplicateReplacement",
	             "duplicate replacement prefix '/foo'");
	reset_status();
	ck_assert_int_eq(hp_policy_prefix_rewrite(dag,
	                                          J("{\"replacePrefix\":[{\"replacement\":\"/a\"},"
	                                            "{\"prefix\":\"\",\"replacement\":\"/b\"}]}"),
	                                          route_with(CONTOUR_DAG_PATH_PREFIX, "/"), st, &pr,
	                                          &n),
	                 -1);
	expect_error("PrefixReplaceError", "AmbiguousReplacement", "ambiguous prefix replacement");
}
END_TEST

START_TEST(test_redirect_direct)
{
	contour_dag_redirect_t *r = NULL;
	ck_assert_int_eq(hp_policy_redirect(dag, J("{\"hostname\":\"example.com\"}"), &r, st), 0);
	ck_assert_str_eq(r->hostname, "example.com");
	ck_assert_uint_eq(r->status_code, 302); /* the CRD's default */
	ck_assert_ptr_null(r->scheme);
	ck_assert_ptr_null(r->path);
	ck_assert_uint_eq(r->port, 0);
	ck_assert_int_eq(
	    hp_policy_redirect(dag,
	                       J("{\"scheme\":\"https\",\"port\":8443,\"statusCode\":301,"
	                         "\"prefix\":\"/new\"}"),
	                       &r, st),
	    0);
	ck_assert_str_eq(r->scheme, "https");
	ck_assert_uint_eq(r->port, 8443);
	ck_assert_uint_eq(r->status_code, 301);
	ck_assert_str_eq(r->prefix, "/new");
	ck_assert_int_eq(hp_policy_redirect(dag, J("{\"statusCode\":308}"), &r, st), 0);
	ck_assert_uint_eq(r->status_code, 308);
	ck_assert_int_eq(hp_policy_redirect(dag, NULL, &r, st), 0);
	ck_assert_ptr_null(r);

	contour_dag_direct_response_t *d = NULL;
	ck_assert_int_eq(
	    hp_policy_direct_response(dag, J("{\"statusCode\":404,\"body\":\"nope\"}"), &d, st), 0);
	ck_assert_uint_eq(d->status_code, 404);
	ck_assert_str_eq(d->body, "nope");
	ck_assert_int_eq(hp_policy_direct_response(dag, J("{\"statusCode\":200}"), &d, st), 0);
	ck_assert_ptr_null(d->body);
	expect_clean();

	ck_assert_int_eq(hp_policy_redirect(dag, J("{\"path\":\"/a\",\"prefix\":\"/b\"}"), &r, st),
	                 -1);
	ck_assert_ptr_null(r);
	expect_error(
	    "RouteError", "RequestRedirectPolicy",
	    "route.requestRedirectPolicy is invalid: cannot specify both redirect path and "
	    "redirect prefix");
}
END_TEST

/* ---- CORS, IP filters, slow start -------------------------------------------------- */

static void cors_err(const char *policy, const char *message)
{
	contour_dag_cors_t *c = (void *)1;
	reset_status();
	ck_assert_int_eq(hp_policy_cors(dag, J(policy), &c, st), -1);
	ck_assert_ptr_null(c);
	expect_error("CORSError", "PolicyDidNotParse", message);
}

START_TEST(test_cors)
{
	contour_dag_cors_t *c = NULL;
	ck_assert_int_eq(
	    hp_policy_cors(dag,
	                   J("{\"allowCredentials\":true,\"allowOrigin\":[\"*\","
	                     "\"https://example.com\",\"https://.*\\\\.example\\\\.com\"],"
	                     "\"allowMethods\":[\"GET\",\"POST\"],"
	                     "\"allowHeaders\":[\"x-a\"],\"exposeHeaders\":[\"x-b\"],"
	                     "\"maxAge\":\"10m\"}"),
	                   &c, st),
	    0);
	ck_assert_int_eq(c->allow_credentials, 1);
	ck_assert_uint_eq(c->nallow_origin, 3);
	ck_assert_str_eq(c->allow_origin[1], "https://example.com");
	ck_assert_uint_eq(c->nallow_methods, 2);
	ck_assert_str_eq(c->allow_methods[1], "POST");
	ck_assert_str_eq(c->allow_headers[0], "x-a");
	ck_assert_str_eq(c->expose_headers[0], "x-b");
	ck_assert_str_eq(c->max_age, "10m");
	ck_assert_int_eq(hp_policy_cors(dag, NULL, &c, st), 0);
	ck_assert_ptr_null(c);
	expect_clean();

	cors_err("{\"allowOrigin\":[],\"allowMethods\":[\"GET\"]}",
	         "Spec.VirtualHost.CORSPolicy: invalid allowed origin configuration with length 0");
	cors_err("{\"allowOrigin\":[\"*.example.com\"],\"allowMethods\":[\"GET\"]}",
	         "Spec.VirtualHost.CORSPolicy: invalid allowed origin \"*.example.com\": allowed "
	         "origin is invalid exact match and invalid regex match");
	cors_err(
	    "{\"allowOrigin\":[\"*\"]}",
	    "Spec.VirtualHost.CORSPolicy: invalid allowed methods configuration with length 0");
	cors_err("{\"allowOrigin\":[\"*\"],\"allowMethods\":[\"GET\"],\"maxAge\":\"infinity\"}",
	         "Spec.VirtualHost.CORSPolicy: unable to parse timeout string \"infinity\": time: "
	         "invalid duration \"infinity\"");
	cors_err("{\"allowOrigin\":[\"*\"],\"allowMethods\":[\"GET\"],\"maxAge\":\"-5m\"}",
	         "Spec.VirtualHost.CORSPolicy: invalid max age value \"-5m\"");
}
END_TEST

START_TEST(test_ip_filter)
{
	contour_dag_ip_filter_t *f = NULL;
	ck_assert_int_eq(
	    hp_policy_ip_filter(dag,
	                        J("[{\"source\":\"Peer\",\"cidr\":\"10.1.2.3/8\"},"
	                          "{\"source\":\"Remote\",\"cidr\":\"192.168.1.1\"},"
	                          "{\"source\":\"Peer\",\"cidr\":\"2001:db8::1\"},"
	                          "{\"source\":\"Peer\",\"cidr\":\"2001:db8::ff/32\"}]"),
	                        NULL, 1, &f, st),
	    0);
	ck_assert_int_eq(f->allow, 1);
	ck_assert_uint_eq(f->nrules, 4);
	ck_assert_str_eq(f->rules[0].cidr, "10.0.0.0/8");
	ck_assert_int_eq(f->rules[0].remote, 0);
	ck_assert_str_eq(f->rules[1].cidr, "192.168.1.1/32");
	ck_assert_int_eq(f->rules[1].remote, 1);
	ck_assert_str_eq(f->rules[2].cidr, "2001:db8::1/128");
	ck_assert_str_eq(f->rules[3].cidr, "2001:db8::/32");
	ck_assert_int_eq(
	    hp_policy_ip_filter(dag, J("[]"), J("[{\"cidr\":\"0.0.0.0/0\"}]"), 0, &f, st), 0);
	ck_assert_int_eq(f->allow, 0);
	ck_assert_str_eq(f->rules[0].cidr, "0.0.0.0/0");
	ck_assert_int_eq(hp_policy_ip_filter(dag, NULL, NULL, 0, &f, st), 0);
	ck_assert_ptr_null(f);
	expect_clean();

	const char *one = "[{\"cidr\":\"1.2.3.4\"}]";
	ck_assert_int_eq(hp_policy_ip_filter(dag, J(one), J(one), 1, &f, st), -1);
	expect_error("IPFilterError", "IncompatibleIPAddressFilters",
	             "cannot specify both `ipAllowPolicy` and `ipDenyPolicy`");
	reset_status();
	ck_assert_int_eq(hp_policy_ip_filter(dag, J(one), J(one), 0, &f, st), -1);
	expect_error(
	    "IPFilterError", "IncompatibleIPAddressFilters",
	    "Spec.VirtualHost.IPAllowFilterPolicy and Spec.VirtualHost.IPDepnyFilterPolicy "
	    "cannot both be defined.");

	/* Vhost level: each bad CIDR, then the policy as a whole. */
	reset_status();
	ck_assert_int_eq(hp_policy_ip_filter(dag,
	                                     J("[{\"cidr\":\"1.2.3\"},{\"cidr\":\"10.0.0.0/33\"}]"),
	                                     NULL, 0, &f, st),
	                 -1);
	ck_assert_ptr_null(f);
	ck_assert_int_eq(nerrors(), 3);
	expect_entry("errors", 0, "IPFilterError", "InvalidCIDR",
	             "1.2.3 failed to parse: invalid CIDR address: 1.2.3/32");
	expect_entry("errors", 1, "IPFilterError", "InvalidCIDR",
	             "10.0.0.0/33 failed to parse: invalid CIDR address: 10.0.0.0/33");
	expect_entry(
	    "errors", 2, "IPFilterError", "IPFilterPolicyNotValid",
	    "Spec.VirtualHost.IPAllowFilterPolicy or Spec.VirtualHost.IPDenyFilterPolicy is "
	    "invalid: invalid CIDR address: 10.0.0.0/33");

	/* Route level: InvalidCIDR only. */
	reset_status();
	ck_assert_int_eq(hp_policy_ip_filter(dag, NULL, J("[{\"cidr\":\"fe80::x\"}]"), 1, &f, st),
	                 -1);
	expect_error("IPFilterError", "InvalidCIDR",
	             "fe80::x failed to parse: invalid CIDR address: fe80::x/128");
}
END_TEST

START_TEST(test_slow_start)
{
	contour_dag_slow_start_t *ss = NULL;
	ck_assert_int_eq(hp_policy_slow_start(dag, J("{\"window\":\"5s\"}"),
	                                      CONTOUR_DAG_LB_ROUND_ROBIN, &ss, st),
	                 0);
	ck_assert_int_eq(ss->window_ms, 5000);
	ck_assert(ss->aggression == 1.0);
	ck_assert_uint_eq(ss->min_weight_percent, 10);
	ck_assert_int_eq(hp_policy_slow_start(dag,
	                                      J("{\"window\":\"1m\",\"aggression\":\"1.5\","
	                                        "\"minWeightPercent\":25}"),
	                                      CONTOUR_DAG_LB_WEIGHTED_LEAST_REQUEST, &ss, st),
	                 0);
	ck_assert_int_eq(ss->window_ms, 60000);
	ck_assert(ss->aggression == 1.5);
	ck_assert_uint_eq(ss->min_weight_percent, 25);
	ck_assert_int_eq(hp_policy_slow_start(dag, NULL, CONTOUR_DAG_LB_RANDOM, &ss, st), 0);
	ck_assert_ptr_null(ss);
	expect_clean();

	ck_assert_int_eq(
	    hp_policy_slow_start(dag, J("{\"window\":\"5s\"}"), CONTOUR_DAG_LB_RANDOM, &ss, st),
	    -1);
	expect_error("ServiceError", "SlowStartInvalid",
	             "slow start is only supported with RoundRobin or WeightedLeastRequest load "
	             "balancer strategy");
	reset_status();
	ck_assert_int_eq(
	    hp_policy_slow_start(dag, J("{\"window\":\"5\"}"), CONTOUR_DAG_LB_ROUND_ROBIN, &ss, st),
	    -1);
	expect_error("ServiceError", "SlowStartInvalid",
	             "error parsing window: time: missing unit in duration \"5\" on slow start");
	reset_status();
	ck_assert_int_eq(hp_policy_slow_start(dag, J("{\"window\":\"5s\",\"aggression\":\"fast\"}"),
	                                      CONTOUR_DAG_LB_ROUND_ROBIN, &ss, st),
	                 -1);
	expect_error("ServiceError", "SlowStartInvalid",
	             "error parsing aggression: \"fast\" is not a decimal number on slow start");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hp_policy");
	TCase *tc = tcase_create("conditions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_include_conditions);
	tcase_add_test(tc, test_route_path_conditions);
	tcase_add_test(tc, test_route_conditions_merged_list);
	tcase_add_test(tc, test_header_conditions);
	tcase_add_test(tc, test_query_conditions);
	tcase_add_test(tc, test_regex_syntax);
	tcase_add_test(tc, test_merge_paths);
	tcase_add_test(tc, test_merge_headers_queries);
	tcase_add_test(tc, test_seen_duplicates);
	suite_add_tcase(s, tc);

	tc = tcase_create("policies");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_headers_route);
	tcase_add_test(tc, test_headers_variables);
	tcase_add_test(tc, test_headers_errors);
	tcase_add_test(tc, test_headers_service_dynamic_host);
	tcase_add_test(tc, test_headers_defaults_merge);
	tcase_add_test(tc, test_headers_defaults_host);
	tcase_add_test(tc, test_headers_defaults_errors);
	tcase_add_test(tc, test_headers_check);
	tcase_add_test(tc, test_parse_timeout);
	tcase_add_test(tc, test_timeouts);
	tcase_add_test(tc, test_retry);
	tcase_add_test(tc, test_health_check);
	tcase_add_test(tc, test_load_balancer);
	tcase_add_test(tc, test_prefix_rewrite);
	tcase_add_test(tc, test_redirect_direct);
	tcase_add_test(tc, test_cors);
	tcase_add_test(tc, test_ip_filter);
	tcase_add_test(tc, test_slow_start);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
