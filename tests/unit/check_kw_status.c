/* tests/unit/check_kw_status.c: k8s-watch's status write-back: the
 * ingress-status-address flag and the ingress class rule, then the
 * observer and its write queue on the real core and loop over a scripted
 * stand-in for the HTTP client. What status is written is the domain
 * layer's (tests/unit/check_status.c). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil_kwhttp.h"

/* ---- pure parts ---- */

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	ck_assert_msg(v != NULL, "bad JSON in test: %s: %s", e.text, text);
	return v;
}

START_TEST(parse_status_address)
{
	json_t *lb = contour_status_lb_new(" 192.0.2.1, lb.example.com ,,2001:db8::1,");
	json_t *want = J("{\"ingress\":[{\"ip\":\"192.0.2.1\"},{\"hostname\":\"lb.example.com\"},"
	                 "{\"ip\":\"2001:db8::1\"}]}");
	ck_assert(json_equal(lb, want));
	ck_assert(contour_status_lb_has_address(lb));
	json_decref(lb);
	json_decref(want);
	lb = contour_status_lb_new(" , ");
	ck_assert(!contour_status_lb_has_address(lb));
	ck_assert_int_eq(json_object_size(lb), 0);
	json_decref(lb);
	/* Not an IP (net.ParseIP would refuse it): a hostname. */
	lb = contour_status_lb_new("300.1.1.1");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(lb, "ingress"), 0), "hostname")),
	                 "300.1.1.1");
	json_decref(lb);
}
END_TEST

/* k8s-watch filters with the domain layer's contour_ingress_class_matches,
 * which reads the global ingress-class-name: ask it with `classes` (an
 * array) configured. */
static int kw_class_matches(const json_t *obj, const json_t *classes)
{
	char *list = json_dumps(classes, JSON_COMPACT);
	ck_assert_ptr_nonnull(list);
	char yaml[256];
	snprintf(yaml, sizeof(yaml), "ingress-class-name: %s\n", list);
	free(list);
	core_t *c = core_new(NULL);
	ck_assert_ptr_nonnull(c);
	c->conf = tu_conf(yaml, NULL);
	contour_module_t m = {.core = c, .name = "k8s-watch"};
	int match = contour_ingress_class_matches(&m, obj);
	core_free(c);
	return match;
}

START_TEST(class_matching)
{
	json_t *none = json_array();
	json_t *mine = J("[\"internal\"]");
	json_t *plain = J("{\"metadata\":{\"name\":\"a\"}}");
	json_t *contour = J("{\"metadata\":{\"annotations\":{\"kubernetes.io/ingress.class\":"
	                    "\"contour\"}}}");
	json_t *internal_spec = J("{\"spec\":{\"ingressClassName\":\"internal\"}}");
	/* The contour annotation wins over the other one and over the spec. */
	json_t *ann_wins = J("{\"metadata\":{\"annotations\":{\"projectcontour.io/ingress.class\":"
	                     "\"internal\",\"kubernetes.io/ingress.class\":\"other\"}},"
	                     "\"spec\":{\"ingressClassName\":\"other\"}}");
	ck_assert(kw_class_matches(plain, none));
	ck_assert(kw_class_matches(contour, none));
	ck_assert(!kw_class_matches(internal_spec, none));
	ck_assert(!kw_class_matches(plain, mine));
	ck_assert(kw_class_matches(internal_spec, mine));
	ck_assert(kw_class_matches(ann_wins, mine));
	ck_assert(!kw_class_matches(ann_wins, none));
	json_decref(none);
	json_decref(mine);
	json_decref(plain);
	json_decref(contour);
	json_decref(internal_spec);
	json_decref(ann_wins);
}
END_TEST

/* ---- the writer on the loop ---- */

static core_t *core;
static contour_module_t msrc, mkw;
static contour_source_t *src;
static kw_status_t *st;
static json_t *computed; /* HTTPProxy name -> status the test processor records */

/* Stands in for the httpproxy processor: records computed[name]. */
static int test_processor(contour_snapshot_t *b, void *ud)
{
	(void)ud;
	const char *name;
	json_t *v;
	json_object_foreach(computed, name, v)
	{
		contour_object_key_t key = {.api_version = "projectcontour.io/v1",
		                            .kind = "HTTPProxy",
		                            .namespace_ = "default",
		                            .name = name};
		contour_snapshot_set_status_new(b, &key, json_incref(v));
	}
	return 0;
}

static void wr_setup_with(const char *yaml)
{
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	core->conf = tu_conf(yaml, NULL);
	msrc = (contour_module_t){.core = core, .name = "t", .state = CORE_MOD_INITIALISING};
	mkw = (contour_module_t){.core = core, .name = "k8s-watch", .state = CORE_MOD_INITIALISING};
	ck_assert_int_eq(contour_register_source(&msrc, "src", &src), CONTOUR_EOK);
	ck_assert_int_eq(
	    contour_register_processor(&msrc, "test", CONTOUR_ORDER_PRIMARY, test_processor, NULL),
	    CONTOUR_EOK);
	char err[256] = "";
	st = kw_status_new(&mkw, err, sizeof(err));
	ck_assert_msg(st != NULL, "%s", err);
	msrc.state = mkw.state = CORE_MOD_STARTED;
	contour_source_set_synced(src);
	computed = json_object();
	tu_log_capture_start();
}

static void wr_setup(void)
{
	wr_setup_with("ingress-status-address: 192.0.2.1\n");
}

static void wr_teardown(void)
{
	kw_status_stop(st);
	kw_status_free(st);
	st = NULL;
	json_decref(computed);
	core_free(core);
	core = NULL;
	tu_kw_reset();
	tu_log_capture_stop();
}

static json_t *proxy(const char *name, const char *rv, const char *status)
{
	json_t *p = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:i}, s:{s:{s:s}}}", "apiVersion",
	                      "projectcontour.io/v1", "kind", "HTTPProxy", "metadata", "name", name,
	                      "namespace", "default", "resourceVersion", rv, "generation", 1,
	                      "spec", "virtualhost", "fqdn", "a.example.com");
	if (status)
		json_object_set_new(p, "status", J(status));
	return p;
}

static void put(json_t *obj)
{
	ck_assert_int_eq(contour_store_put_new(src, obj), CONTOUR_EOK);
}

static void build(void)
{
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
}

static double metric(const char *name, const char *kind)
{
	char *text = contour_metrics_render(&core->self, NULL);
	char pat[256];
	snprintf(pat, sizeof(pat), "\n%s{kind=\"%s\"} ", name, kind);
	const char *p = strstr(text, pat);
	double v = p ? atof(p + strlen(pat)) : 0;
	free(text);
	return v;
}

/* Run the loop until a write is in flight (several may be: the oldest),
 * and check its method and, unless NULL, its path. */
static struct kw_req *wait_req(const char *method, const char *path)
{
	struct kw_req *r = tu_kw_wait(core, method, 0, 3000);
	if (path)
		ck_assert_str_eq(r->path, path);
	return r;
}

#define PROXY_STATUS_PATH "/apis/projectcontour.io/v1/namespaces/default/httpproxies/web/status"

START_TEST(writes_only_as_leader_and_retries_conflicts)
{
	json_object_set_new(computed, "web", J(VALID_STATUS(1, "2026-11-27T10:00:00Z")));
	put(proxy("web", "10", NULL));
	kw_status_start(st, (kw_http_t *)&mkw);
	build();
	tu_run_loop_ms(core, 20);
	ck_assert_int_eq(tu_kw_n, 0); /* not the leader */

	kw_status_set_leader(st, 1);
	build();
	struct kw_req *r = wait_req("PUT", PROXY_STATUS_PATH);
	json_t *body = J(r->body);
	ck_assert_str_eq(json_string_value(
	                     json_object_get(json_object_get(body, "metadata"), "resourceVersion")),
	                 "10");
	ck_assert_str_eq(json_string_value(json_object_get(body, "kind")), "HTTPProxy");
	const json_t *s = json_object_get(body, "status");
	ck_assert_str_eq(json_string_value(json_object_get(s, "currentStatus")), "valid");
	ck_assert_str_eq(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(json_object_get(s, "loadBalancer"), "ingress"), 0),
	        "ip")),
	    "192.0.2.1");
	json_decref(body);

	/* 409: re-read from the API (the store lags), then PUT with that version. */
	tu_kw_reply(r, 409, "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"code\":409}");
	ck_assert_double_eq(metric("contour_status_update_conflict_total", "HTTPProxy"), 1);
	r = wait_req("GET", "/apis/projectcontour.io/v1/namespaces/default/httpproxies/web");
	json_t *fresh = proxy("web", "12", NULL);
	char *text = json_dumps(fresh, 0);
	json_decref(fresh);
	tu_kw_reply(r, 200, text);
	free(text);
	r = wait_req("PUT", PROXY_STATUS_PATH);
	body = J(r->body);
	ck_assert_str_eq(json_string_value(
	                     json_object_get(json_object_get(body, "metadata"), "resourceVersion")),
	                 "12");
	json_object_set_new(json_object_get(body, "metadata"), "resourceVersion",
	                    json_string("13"));
	text = json_dumps(body, 0);
	tu_kw_reply(r, 200, text);
	free(text);
	ck_assert_double_eq(metric("contour_status_update_success_total", "HTTPProxy"), 1);
	ck_assert_double_eq(metric("contour_status_update_total", "HTTPProxy"), 1);
	ck_assert_double_eq(metric("contour_status_update_failed_total", "HTTPProxy"), 0);

	/* Another build before the store caught up: nothing is written again. */
	int before = tu_kw_n;
	build();
	tu_run_loop_ms(core, 30);
	ck_assert_int_eq(tu_kw_n, before);

	/* The store catches up: a no-op, counted as upstream counts it. */
	put(body);
	build();
	tu_run_loop_ms(core, 30);
	ck_assert_int_eq(tu_kw_n, before);
	ck_assert_double_eq(metric("contour_status_update_noop_total", "HTTPProxy"), 1);
	ck_assert_double_eq(metric("contour_status_update_success_total", "HTTPProxy"), 2);

	/* Losing leadership drops writes. */
	json_object_set_new(computed, "web", J(INVALID_STATUS(1, "2026-11-27T10:00:00Z")));
	kw_status_set_leader(st, 0);
	build();
	tu_run_loop_ms(core, 30);
	ck_assert_int_eq(tu_kw_n, before);
	char *m = contour_metrics_render(&core->self, NULL);
	ck_assert_ptr_nonnull(strstr(m, "# TYPE contour_status_update_duration_seconds summary"));
	ck_assert_ptr_nonnull(strstr(m, "error=\"false\""));
	free(m);
}
END_TEST

START_TEST(conflicts_give_up_after_four_attempts)
{
	json_object_set_new(computed, "web", J(VALID_STATUS(1, "2026-11-27T10:00:00Z")));
	put(proxy("web", "10", NULL));
	kw_status_start(st, (kw_http_t *)&mkw);
	kw_status_set_leader(st, 1);
	build();
	int puts = 0;
	for (;;) {
		struct kw_req *r = wait_req(puts ? "GET" : "PUT", NULL);
		if (puts) {
			json_t *fresh = proxy("web", "20", NULL);
			char *text = json_dumps(fresh, 0);
			json_decref(fresh);
			tu_kw_reply(r, 200, text);
			free(text);
			r = wait_req("PUT", PROXY_STATUS_PATH);
		}
		puts++;
		tu_kw_reply(r, 409, "{}");
		if (puts == 4)
			break;
	}
	tu_run_loop_ms(core, 400);
	ck_assert_int_eq(tu_kw_nlive(), 0);
	ck_assert_double_eq(metric("contour_status_update_conflict_total", "HTTPProxy"), 4);
	ck_assert_double_eq(metric("contour_status_update_failed_total", "HTTPProxy"), 1);
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "unable to update status"));
}
END_TEST

START_TEST(other_errors_are_dropped)
{
	json_object_set_new(computed, "web", J(VALID_STATUS(1, "2026-11-27T10:00:00Z")));
	put(proxy("web", "10", NULL));
	kw_status_start(st, (kw_http_t *)&mkw);
	kw_status_set_leader(st, 1);
	build();
	struct kw_req *r = wait_req("PUT", PROXY_STATUS_PATH);
	tu_kw_reply(r, 422, "{\"kind\":\"Status\",\"reason\":\"Invalid\"}");
	tu_run_loop_ms(core, 100);
	ck_assert_int_eq(tu_kw_nlive(), 0);
	ck_assert_int_eq(tu_kw_n, 1);
	ck_assert_double_eq(metric("contour_status_update_failed_total", "HTTPProxy"), 1);
}
END_TEST

/* The no-op shortcut must agree with composing: each stored status below
 * differs from what the build says in one place only. */
START_TEST(every_difference_is_written)
{
	static const char *const stored[] = {
	    /* the legacy fields disagree with the Valid condition */
	    "{\"currentStatus\":\"invalid\",\"description\":\"Valid HTTPProxy\","
	    "\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.1\"}]},"
	    "\"conditions\":[" VALID_COND(1, "2026-01-01T00:00:00Z") "]}",
	    /* another address */
	    "{\"currentStatus\":\"valid\",\"description\":\"Valid HTTPProxy\","
	    "\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.2\"}]},"
	    "\"conditions\":[" VALID_COND(1, "2026-01-01T00:00:00Z") "]}",
	    /* an older generation */
	    "{\"currentStatus\":\"valid\",\"description\":\"Valid HTTPProxy\","
	    "\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.1\"}]},"
	    "\"conditions\":[" VALID_COND(0, "2026-01-01T00:00:00Z") "]}",
	    /* no condition */
	    "{\"currentStatus\":\"valid\",\"description\":\"Valid HTTPProxy\","
	    "\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.1\"}]}}",
	};
	/* ...and the same, but for the time: a no-op. */
	const char *same = "{\"currentStatus\":\"valid\",\"description\":\"Valid HTTPProxy\","
	                   "\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.1\"}]},"
	                   "\"conditions\":[" VALID_COND(1, "2026-01-01T00:00:00Z") "]}";
	size_t n = sizeof(stored) / sizeof(stored[0]);
	for (size_t i = 0; i <= n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "p%zu", i);
		json_object_set_new(computed, name, J(VALID_STATUS(1, "2026-11-27T10:00:00Z")));
		put(proxy(name, "1", i < n ? stored[i] : same));
	}
	kw_status_start(st, (kw_http_t *)&mkw);
	kw_status_set_leader(st, 1);
	build();
	tu_run_loop_ms(core, 20);
	ck_assert_int_eq(tu_kw_n, 4); /* four in flight at most, and four differ */
	for (int i = 0; i < tu_kw_n; i++) {
		char want[128];
		snprintf(want, sizeof(want), "/httpproxies/p%d/status", i);
		ck_assert_ptr_nonnull(strstr(tu_kw_reqs[i]->path, want));
		tu_kw_reply(tu_kw_reqs[i], 200, "{}");
	}
	tu_run_loop_ms(core, 20);
	ck_assert_int_eq(tu_kw_n, 4);
	ck_assert_double_eq(metric("contour_status_update_noop_total", "HTTPProxy"), 1);
}
END_TEST

static json_t *ingress(const char *name, const char *cls, const char *status)
{
	json_t *i = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{}}", "apiVersion",
	                      "networking.k8s.io/v1", "kind", "Ingress", "metadata", "name", name,
	                      "namespace", "default", "resourceVersion", "5", "spec");
	if (cls)
		json_object_set_new(json_object_get(i, "spec"), "ingressClassName",
		                    json_string(cls));
	if (status)
		json_object_set_new(i, "status", J(status));
	return i;
}

START_TEST(ingress_gets_the_envoy_service_address)
{
	/* No static address: the Envoy Service's, from the store. */
	put(json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:{s:[{s:s, s:s}]}}}", "apiVersion", "v1",
	              "kind", "Service", "metadata", "name", "envoy", "namespace", "projectcontour",
	              "status", "loadBalancer", "ingress", "hostname", "lb.example.com", "ipMode",
	              "VIP"));
	put(ingress("mine", NULL, NULL));
	put(ingress("theirs", "nginx", NULL));
	put(ingress("done", "contour",
	            "{\"loadBalancer\":{\"ingress\":[{\"hostname\":\"lb.example.com\"}]}}"));
	kw_status_start(st, (kw_http_t *)&mkw);
	kw_status_set_leader(st, 1);
	build();
	struct kw_req *r =
	    wait_req("PUT", "/apis/networking.k8s.io/v1/namespaces/default/ingresses/mine/status");
	json_t *body = J(r->body);
	json_t *want = J("{\"loadBalancer\":{\"ingress\":[{\"hostname\":\"lb.example.com\"}]}}");
	ck_assert(json_equal(json_object_get(body, "status"), want));
	json_decref(want);
	json_decref(body);
	tu_kw_reply(r, 200, "{}");
	tu_run_loop_ms(core, 50);
	ck_assert_int_eq(tu_kw_n, 1); /* not "theirs" (class), not "done" (no change) */
	ck_assert_double_eq(metric("contour_status_update_noop_total", "Ingress"), 1);
	ck_assert_double_eq(metric("contour_status_update_success_total", "Ingress"), 2);
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "loadbalancer-address=lb.example.com"));
}
END_TEST

static void wr_setup_envoy(void)
{
	wr_setup_with("envoy-service-name: envoy\n");
}

START_TEST(coalesces_and_bounds_the_rate)
{
	/* 120 proxies at once: 50 writes at once at most (the burst), four in
	 * flight, the rest as the bucket refills. */
	for (int i = 0; i < 120; i++) {
		char name[32];
		snprintf(name, sizeof(name), "p%03d", i);
		json_object_set_new(computed, name, J(VALID_STATUS(1, "2026-11-27T10:00:00Z")));
		put(proxy(name, "1", NULL));
	}
	kw_status_start(st, (kw_http_t *)&mkw);
	kw_status_set_leader(st, 1);
	build();
	build(); /* the same objects again: coalesced, not queued twice */
	tu_run_loop_ms(core, 10);
	ck_assert_int_eq(tu_kw_nlive(), 4);
	int64_t t0 = contour_now_ms(&mkw);
	int done = 0;
	while (done < 120) {
		ck_assert_int_lt(contour_now_ms(&mkw) - t0, 5000);
		for (int i = 0; i < tu_kw_n; i++) {
			if (tu_kw_reqs[i]->live) {
				tu_kw_reply(tu_kw_reqs[i], 200, "{}");
				done++;
			}
		}
		tu_run_loop_ms(core, 5);
	}
	int64_t took = contour_now_ms(&mkw) - t0;
	ck_assert_int_eq(tu_kw_n, 120);
	/* 120 writes at 50/s with a burst of 50: at least 1.4 s. */
	ck_assert_msg(took >= 1300, "120 writes took only %lldms", (long long)took);
}
END_TEST

static Suite *kw_status_suite(void)
{
	Suite *s = suite_create("kw_status");
	TCase *tc = tcase_create("pure");
	tcase_add_test(tc, parse_status_address);
	tcase_add_test(tc, class_matching);
	suite_add_tcase(s, tc);
	tc = tcase_create("writer");
	tcase_add_checked_fixture(tc, wr_setup, wr_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, writes_only_as_leader_and_retries_conflicts);
	tcase_add_test(tc, conflicts_give_up_after_four_attempts);
	tcase_add_test(tc, other_errors_are_dropped);
	tcase_add_test(tc, every_difference_is_written);
	tcase_add_test(tc, coalesces_and_bounds_the_rate);
	suite_add_tcase(s, tc);
	tc = tcase_create("ingress");
	tcase_add_checked_fixture(tc, wr_setup_envoy, wr_teardown);
	tcase_add_test(tc, ingress_gets_the_envoy_service_address);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(kw_status_suite());
}
