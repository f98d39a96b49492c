/* tests/unit/check_kw_lease.c: k8s-watch's leader election. The rules of
 * client-go's LeaderElector as pure functions (kw_elect_*), then the
 * elector on the real loop over a scripted stand-in for the HTTP client. */
#include "config.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/testutil_kwhttp.h"

/* ---- the rules ---- */

#define NOW   "2026-11-27T10:00:00.000000Z"
#define LATER "2026-11-27T10:00:20.000000Z"

static json_t *lease(const char *holder, int dur, const char *acquire, const char *renew,
                     int transitions, const char *rv)
{
	json_t *l = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:i, s:i}}", "apiVersion",
	                      "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name",
	                      "leader-elect", "namespace", "projectcontour", "resourceVersion", rv,
	                      "spec", "holderIdentity", holder, "leaseDurationSeconds", dur,
	                      "leaseTransitions", transitions);
	json_t *spec = json_object_get(l, "spec");
	if (acquire)
		json_object_set_new(spec, "acquireTime", json_string(acquire));
	if (renew)
		json_object_set_new(spec, "renewTime", json_string(renew));
	return l;
}

static const char *spec_str(const json_t *l, const char *k)
{
	return json_string_value(json_object_get(json_object_get(l, "spec"), k));
}

static json_int_t spec_int(const json_t *l, const char *k)
{
	return json_integer_value(json_object_get(json_object_get(l, "spec"), k));
}

static const char *rv_of(const json_t *l)
{
	return json_string_value(
	    json_object_get(json_object_get(l, "metadata"), "resourceVersion"));
}

START_TEST(validate_rules_and_messages)
{
	char err[128] = "";
	ck_assert_int_eq(kw_lease_validate(15000, 10000, 2000, err, sizeof(err)), CONTOUR_EOK);
	ck_assert_int_eq(kw_lease_validate(10000, 10000, 2000, err, sizeof(err)), CONTOUR_ECONFIG);
	ck_assert_str_eq(err, "leaseDuration must be greater than renewDeadline");
	/* 1.2 x 9s = 10.8s >= 10s */
	ck_assert_int_eq(kw_lease_validate(15000, 10000, 9000, err, sizeof(err)), CONTOUR_ECONFIG);
	ck_assert_str_eq(err, "renewDeadline must be greater than retryPeriod*JitterFactor");
	/* exactly 1.2 x retry is refused too (<=) */
	ck_assert_int_eq(kw_lease_validate(15000, 12000, 10000, err, sizeof(err)), CONTOUR_ECONFIG);
	ck_assert_int_eq(kw_lease_validate(15000, 10000, 8000, err, sizeof(err)), CONTOUR_EOK);
	ck_assert_int_eq(kw_lease_validate(15000, 10000, 0, err, sizeof(err)), CONTOUR_ECONFIG);
	ck_assert_str_eq(err, "retryPeriod must be greater than zero");
	ck_assert_int_eq(kw_lease_validate(0, -1, -2, err, sizeof(err)), CONTOUR_ECONFIG);
	ck_assert_str_eq(err, "leaseDuration must be greater than zero");
}
END_TEST

START_TEST(identity_and_microtime)
{
	char *a = kw_lease_identity(), *b = kw_lease_identity();
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	ck_assert_int_eq(strncmp(a, host, strlen(host)), 0);
	ck_assert_int_eq(a[strlen(host)], '_');
	regex_t re;
	ck_assert_int_eq(
	    regcomp(&re, "_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
	            REG_EXTENDED | REG_NOSUB),
	    0);
	ck_assert_int_eq(regexec(&re, a, 0, NULL, 0), 0);
	regfree(&re);
	ck_assert_str_ne(a, b);
	free(a);
	free(b);
	char t[40];
	kw_lease_micro_time(t, sizeof(t));
	ck_assert_int_eq(
	    regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$",
	            REG_EXTENDED | REG_NOSUB),
	    0);
	ck_assert_msg(regexec(&re, t, 0, NULL, 0) == 0, "bad MicroTime %s", t);
	regfree(&re);
}
END_TEST

START_TEST(create_on_404)
{
	kw_elect_t e;
	kw_elect_init(&e, "me", 15);
	ck_assert(!kw_elect_is_leader(&e));
	ck_assert_ptr_null(kw_elect_fast_path(&e, 0, NOW));
	json_t *b = kw_elect_create_body(&e, "ns1", "le", NOW);
	ck_assert_str_eq(json_string_value(json_object_get(b, "kind")), "Lease");
	ck_assert_str_eq(json_string_value(json_object_get(b, "apiVersion")),
	                 "coordination.k8s.io/v1");
	const json_t *md = json_object_get(b, "metadata");
	ck_assert_str_eq(json_string_value(json_object_get(md, "name")), "le");
	ck_assert_str_eq(json_string_value(json_object_get(md, "namespace")), "ns1");
	ck_assert_str_eq(spec_str(b, "holderIdentity"), "me");
	ck_assert_int_eq(spec_int(b, "leaseDurationSeconds"), 15);
	ck_assert_int_eq(spec_int(b, "leaseTransitions"), 0);
	ck_assert_str_eq(spec_str(b, "acquireTime"), NOW);
	ck_assert_str_eq(spec_str(b, "renewTime"), NOW);
	/* Created: we are the leader, observed now. */
	json_t *resp = json_deep_copy(b);
	json_object_set_new(json_object_get(resp, "metadata"), "resourceVersion", json_string("7"));
	kw_elect_written(&e, b, resp, 1000);
	ck_assert(kw_elect_is_leader(&e));
	ck_assert(kw_elect_lease_valid(&e, 15999));
	ck_assert(!kw_elect_lease_valid(&e, 16000));
	json_decref(b);
	json_decref(resp);
	kw_elect_fini(&e);
}
END_TEST

START_TEST(fresh_other_holder_waits_by_local_clock)
{
	kw_elect_t e;
	kw_elect_init(&e, "me", 15);
	/* renewTime long past: only our own observation time counts. */
	json_t *l = lease("other", 15, "2000-01-01T00:00:00.000000Z", "2000-01-01T00:00:00.000000Z",
	                  4, "10");
	ck_assert_ptr_null(kw_elect_observe(&e, l, 100000, NOW));
	ck_assert_ptr_null(kw_elect_observe(&e, l, 114999, NOW));
	/* Expired by our clock: take it over, transitions + 1. */
	json_t *b = kw_elect_observe(&e, l, 115000, LATER);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(spec_str(b, "holderIdentity"), "me");
	ck_assert_int_eq(spec_int(b, "leaseTransitions"), 5);
	ck_assert_str_eq(spec_str(b, "acquireTime"), LATER);
	ck_assert_str_eq(spec_str(b, "renewTime"), LATER);
	ck_assert_int_eq(spec_int(b, "leaseDurationSeconds"), 15);
	ck_assert_str_eq(rv_of(b), "10"); /* the GET's resourceVersion guards the PUT */
	json_decref(b);
	json_decref(l);
	kw_elect_fini(&e);
}
END_TEST

START_TEST(changed_record_restarts_the_clock)
{
	kw_elect_t e;
	kw_elect_init(&e, "me", 15);
	json_t *r1 = lease("other", 15, NOW, NOW, 1, "10");
	json_t *r2 = lease("other", 15, NOW, LATER, 1, "11");
	ck_assert_ptr_null(kw_elect_observe(&e, r1, 0, NOW));
	ck_assert_ptr_null(kw_elect_observe(&e, r2, 10000, NOW)); /* renewed: seen at 10s */
	ck_assert_ptr_null(kw_elect_observe(&e, r2, 24999, NOW));
	/* Only the resourceVersion differs: the record did not change. */
	json_object_set_new(json_object_get(r2, "metadata"), "resourceVersion", json_string("12"));
	ck_assert_ptr_null(kw_elect_observe(&e, r2, 24999, NOW));
	json_t *b = kw_elect_observe(&e, r2, 25000, LATER);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(spec_int(b, "leaseTransitions"), 2);
	ck_assert_str_eq(rv_of(b), "12");
	json_decref(b);
	json_decref(r1);
	json_decref(r2);
	kw_elect_fini(&e);
}
END_TEST

START_TEST(observed_duration_is_the_records)
{
	kw_elect_t e;
	kw_elect_init(&e, "me", 15);
	/* Another holder with a 60 s lease: 15 s is not enough to expire it. */
	json_t *l = lease("other", 60, NOW, NOW, 0, "3");
	ck_assert_ptr_null(kw_elect_observe(&e, l, 0, NOW));
	ck_assert_ptr_null(kw_elect_observe(&e, l, 59999, NOW));
	json_t *b = kw_elect_observe(&e, l, 60000, NOW);
	ck_assert_ptr_nonnull(b);
	/* We write our own duration. */
	ck_assert_int_eq(spec_int(b, "leaseDurationSeconds"), 15);
	json_decref(b);
	json_decref(l);
	kw_elect_fini(&e);
}
END_TEST

START_TEST(released_lease_is_taken_at_once)
{
	kw_elect_t e;
	kw_elect_init(&e, "me", 15);
	json_t *l = lease("", 1, NOW, NOW, 3, "20");
	json_t *b = kw_elect_observe(&e, l, 0, LATER);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(spec_str(b, "holderIdentity"), "me");
	ck_assert_int_eq(spec_int(b, "leaseTransitions"), 4);
	json_decref(b);
	json_decref(l);
	kw_elect_fini(&e);
}
END_TEST

START_TEST(renew_keeps_acquire_time_and_transitions)
{
	kw_elect_t e;
	kw_elect_init(&e, "me", 15);
	/* We hold it (after a restart of our observation): slow path renew. */
	json_t *l = lease("me", 15, NOW, NOW, 6, "30");
	json_t *b = kw_elect_observe(&e, l, 0, LATER);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(spec_str(b, "acquireTime"), NOW);
	ck_assert_str_eq(spec_str(b, "renewTime"), LATER);
	ck_assert_int_eq(spec_int(b, "leaseTransitions"), 6);
	json_t *resp = json_deep_copy(b);
	json_object_set_new(json_object_get(resp, "metadata"), "resourceVersion",
	                    json_string("31"));
	kw_elect_written(&e, b, resp, 1000);
	ck_assert(kw_elect_is_leader(&e));
	/* Fast path: the cached object with its new resourceVersion. */
	json_t *f = kw_elect_fast_path(&e, 2000, "2026-11-27T10:00:22.000000Z");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(rv_of(f), "31");
	ck_assert_str_eq(spec_str(f, "acquireTime"), NOW);
	ck_assert_str_eq(spec_str(f, "renewTime"), "2026-11-27T10:00:22.000000Z");
	ck_assert_int_eq(spec_int(f, "leaseTransitions"), 6);
	/* Not once the lease expired by our clock: the slow path reads first. */
	ck_assert_ptr_null(kw_elect_fast_path(&e, 16000, NOW));
	json_decref(f);
	json_decref(b);
	json_decref(resp);
	json_decref(l);
	kw_elect_fini(&e);
}
END_TEST

START_TEST(lost_to_another_holder)
{
	kw_elect_t e;
	kw_elect_init(&e, "me", 15);
	json_t *mine = lease("me", 15, NOW, NOW, 1, "5");
	json_t *b = kw_elect_observe(&e, mine, 0, NOW);
	kw_elect_written(&e, b, NULL, 0);
	ck_assert(kw_elect_is_leader(&e));
	/* Someone took it over (we stalled): not leader, and it is fresh. */
	json_t *theirs = lease("other", 15, LATER, LATER, 2, "9");
	ck_assert_ptr_null(kw_elect_observe(&e, theirs, 20000, LATER));
	ck_assert(!kw_elect_is_leader(&e));
	ck_assert_ptr_null(kw_elect_fast_path(&e, 20001, LATER));
	json_decref(b);
	json_decref(mine);
	json_decref(theirs);
	kw_elect_fini(&e);
}
END_TEST

START_TEST(release_body)
{
	kw_elect_t e;
	kw_elect_init(&e, "me", 15);
	json_t *mine = lease("me", 15, NOW, NOW, 7, "40");
	/* Not the leader yet: nothing to release. */
	ck_assert_ptr_null(kw_elect_release_body(&e, mine, LATER));
	json_t *b = kw_elect_observe(&e, mine, 0, NOW);
	kw_elect_written(&e, b, NULL, 0);
	json_t *r = kw_elect_release_body(&e, b, LATER);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(json_object_get(json_object_get(r, "spec"), "holderIdentity"));
	ck_assert_str_eq(spec_str(r, "holderIdentity"), "");
	ck_assert_int_eq(spec_int(r, "leaseDurationSeconds"), 1);
	ck_assert_int_eq(spec_int(r, "leaseTransitions"), 7);
	ck_assert_str_eq(spec_str(r, "acquireTime"), LATER);
	ck_assert_str_eq(spec_str(r, "renewTime"), LATER);
	ck_assert_str_eq(rv_of(r), "40");
	json_decref(r);
	/* The record read says someone else holds it: leave it alone. */
	json_t *theirs = lease("other", 15, NOW, NOW, 8, "41");
	ck_assert_ptr_null(kw_elect_release_body(&e, theirs, LATER));
	json_decref(theirs);
	json_decref(b);
	json_decref(mine);
	kw_elect_fini(&e);
}
END_TEST

/* ---- the elector on the loop ---- */

static core_t *core;
static contour_module_t m;
static int changes[8], nchanges;

static void on_change(int leader, void *ud)
{
	(void)ud;
	if (nchanges < 8)
		changes[nchanges++] = leader;
}

static void drv_setup(void)
{
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	m = (contour_module_t){.core = core, .name = "k8s-watch", .state = CORE_MOD_INITIALISING};
	nchanges = 0;
	tu_log_capture_start();
}

static void drv_teardown(void)
{
	json_decref(m.config);
	m.config = NULL;
	core_free(core);
	core = NULL;
	tu_kw_reset();
	tu_log_capture_stop();
}

static double leader_gauge(void)
{
	char *text = contour_metrics_render(&core->self, NULL);
	ck_assert_ptr_nonnull(text);
	const char *p = strstr(text, "\ncontour_leader ");
	ck_assert_msg(p != NULL, "no contour_leader in %s", text);
	double v = atof(p + strlen("\ncontour_leader "));
	free(text);
	return v;
}

/* Run the loop until the elector sends its next request (of this method,
 * unless NULL): one at a time, never two. */
static struct kw_req *next_req(const char *method)
{
	return tu_kw_wait(core, method, 1, 5000);
}

START_TEST(elector_acquires_renews_steps_down_and_releases)
{
	/* Short times so the deadline passes quickly; validated as upstream. */
	m.config = json_pack("{s:s, s:s, s:s, s:s, s:s}", "leader-election-lease-duration", "2s",
	                     "leader-election-renew-deadline", "1s", "leader-election-retry-period",
	                     "200ms", "leader-election-resource-name", "my-lease",
	                     "leader-election-resource-namespace", "ns1");
	/* The schema would have turned these into milliseconds. */
	json_object_set_new(m.config, "leader-election-lease-duration", json_integer(2000));
	json_object_set_new(m.config, "leader-election-renew-deadline", json_integer(1000));
	json_object_set_new(m.config, "leader-election-retry-period", json_integer(200));
	char err[256] = "";
	kw_lease_t *l = kw_lease_new(&m, on_change, NULL, err, sizeof(err));
	ck_assert_msg(l != NULL, "%s", err);
	m.state = CORE_MOD_STARTED;
	ck_assert_double_eq(leader_gauge(), 0);
	ck_assert_int_eq(kw_lease_start(l, (kw_http_t *)&m), CONTOUR_EOK);

	/* GET -> 404 -> POST */
	struct kw_req *r = next_req("GET");
	ck_assert_str_eq(r->path, "/apis/coordination.k8s.io/v1/namespaces/ns1/leases/my-lease");
	ck_assert_str_eq(r->ua, "/leader-election");
	ck_assert_int_eq(r->timeout_ms, 1000); /* max(renew/2, 1s) */
	tu_kw_reply(r, 404, "{\"kind\":\"Status\",\"code\":404}");
	r = next_req("POST");
	ck_assert_str_eq(r->path, "/apis/coordination.k8s.io/v1/namespaces/ns1/leases");
	json_t *sent = json_loads(r->body, 0, NULL);
	ck_assert_int_eq(spec_int(sent, "leaseDurationSeconds"), 2);
	json_object_set_new(json_object_get(sent, "metadata"), "resourceVersion", json_string("1"));
	char *created = json_dumps(sent, 0);
	json_decref(sent);
	tu_kw_reply(r, 201, created);
	free(created);
	ck_assert(kw_lease_is_leader(l));
	ck_assert_int_eq(nchanges, 1);
	ck_assert_int_eq(changes[0], 1);
	ck_assert_double_eq(leader_gauge(), 1);
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "became leader"));

	/* Renew: the fast path PUTs the cached object with resourceVersion 1. */
	r = next_req("PUT");
	sent = json_loads(r->body, 0, NULL);
	ck_assert_str_eq(rv_of(sent), "1");
	ck_assert_int_eq(spec_int(sent, "leaseTransitions"), 0);
	json_object_set_new(json_object_get(sent, "metadata"), "resourceVersion", json_string("2"));
	char *renewed = json_dumps(sent, 0);
	json_decref(sent);
	tu_kw_reply(r, 200, renewed);
	free(renewed);
	r = next_req("PUT");
	sent = json_loads(r->body, 0, NULL);
	ck_assert_str_eq(rv_of(sent), "2");
	json_decref(sent);

	/* The API fails from now on: after the renew deadline, step down. */
	int64_t t0 = contour_now_ms(&m);
	tu_kw_reply(r, 500, "oops");
	while (kw_lease_is_leader(l)) {
		ck_assert_int_lt(contour_now_ms(&m) - t0, 3000);
		if (tu_kw_nlive() == 1)
			tu_kw_reply(tu_kw_only(), 500, "oops");
		tu_run_loop_ms(core, 20);
	}
	int64_t took = contour_now_ms(&m) - t0;
	ck_assert_msg(took >= 700 && took < 2000, "stepped down after %lldms", (long long)took);
	ck_assert_int_eq(nchanges, 2);
	ck_assert_int_eq(changes[1], 0);
	ck_assert_double_eq(leader_gauge(), 0);
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "lost leadership"));

	/* ...and goes back to acquiring: still our lease on the server. The
	 * first attempt may be the fast path (our record has not expired by
	 * our clock yet): refuse it as a conflict to get to the GET. */
	r = next_req(NULL);
	if (!strcmp(r->method, "PUT")) {
		tu_kw_reply(r, 409, "{}");
		r = next_req("GET");
	}
	ck_assert_str_eq(r->method, "GET");
	char *ident = NULL;
	for (int i = 0; i < tu_kw_n; i++) {
		if (!strcmp(tu_kw_reqs[i]->method, "POST")) {
			json_t *p = json_loads(tu_kw_reqs[i]->body, 0, NULL);
			ident = strdup(spec_str(p, "holderIdentity"));
			json_decref(p);
		}
	}
	ck_assert_ptr_nonnull(ident);
	json_t *srv = lease(ident, 2, NOW, NOW, 0, "5");
	char *srv_text = json_dumps(srv, 0);
	json_decref(srv);
	tu_kw_reply(r, 200, srv_text);
	free(srv_text);
	r = next_req("PUT");
	sent = json_loads(r->body, 0, NULL);
	ck_assert_str_eq(rv_of(sent), "5");
	ck_assert_str_eq(spec_str(sent, "acquireTime"), NOW); /* still ours: kept */
	ck_assert_int_eq(spec_int(sent, "leaseTransitions"), 0);
	char *back = json_dumps(sent, 0);
	json_decref(sent);
	tu_kw_reply(r, 200, back);
	free(back);
	ck_assert(kw_lease_is_leader(l));
	ck_assert_int_eq(nchanges, 3);

	/* Clean shutdown releases it. */
	kw_lease_stop(l);
	ck_assert_int_eq(tu_kw_nlive(), 0);
	ck_assert_ptr_nonnull(tu_kw_sync_body);
	ck_assert_str_eq(tu_kw_sync_method, "PUT");
	json_t *rel = json_loads(tu_kw_sync_body, 0, NULL);
	ck_assert_str_eq(spec_str(rel, "holderIdentity"), "");
	ck_assert_int_eq(spec_int(rel, "leaseDurationSeconds"), 1);
	ck_assert_int_eq(spec_int(rel, "leaseTransitions"), 0);
	json_decref(rel);
	ck_assert(!kw_lease_is_leader(l));
	kw_lease_stop(l); /* harmless twice */
	kw_lease_free(l);
	free(ident);
}
END_TEST

START_TEST(elector_waits_for_a_fresh_holder)
{
	m.config =
	    json_pack("{s:i, s:i, s:i}", "leader-election-lease-duration", 2000,
	              "leader-election-renew-deadline", 1000, "leader-election-retry-period", 200);
	char err[256] = "";
	kw_lease_t *l = kw_lease_new(&m, on_change, NULL, err, sizeof(err));
	ck_assert_msg(l != NULL, "%s", err);
	m.state = CORE_MOD_STARTED;
	kw_lease_start(l, (kw_http_t *)&m);
	json_t *theirs = lease("other", 2, NOW, NOW, 3, "8");
	char *text = json_dumps(theirs, 0);
	json_decref(theirs);
	int64_t t0 = contour_now_ms(&m);
	int gets = 0;
	/* The same record again and again: it expires 2 s after we first saw it. */
	struct kw_req *r = next_req("GET");
	for (;;) {
		ck_assert_str_eq(r->method, "GET");
		gets++;
		tu_kw_reply(r, 200, text);
		ck_assert_int_lt(contour_now_ms(&m) - t0, 5000);
		r = next_req(NULL);
		if (!strcmp(r->method, "PUT"))
			break;
	}
	int64_t took = contour_now_ms(&m) - t0;
	ck_assert_msg(took >= 2000, "took over after %lldms", (long long)took);
	ck_assert_int_ge(gets, 2);
	json_t *sent = json_loads(r->body, 0, NULL);
	ck_assert_int_eq(spec_int(sent, "leaseTransitions"), 4);
	ck_assert_str_eq(rv_of(sent), "8");
	json_decref(sent);
	ck_assert(!kw_lease_is_leader(l));
	tu_kw_reply(r, 409, "{\"kind\":\"Status\",\"reason\":\"Conflict\"}");
	ck_assert(!kw_lease_is_leader(l)); /* someone else won the race */
	ck_assert_int_eq(nchanges, 0);
	free(text);
	kw_lease_stop(l);
	ck_assert_ptr_null(tu_kw_sync_body); /* never leader: nothing released */
	kw_lease_free(l);
}
END_TEST

START_TEST(elector_disabled_is_leader)
{
	m.config = json_pack("{s:b}", "disable-leader-election", 1);
	char err[256] = "";
	kw_lease_t *l = kw_lease_new(&m, on_change, NULL, err, sizeof(err));
	ck_assert_msg(l != NULL, "%s", err);
	m.state = CORE_MOD_STARTED;
	kw_lease_start(l, (kw_http_t *)&m);
	ck_assert(kw_lease_is_leader(l));
	ck_assert_int_eq(nchanges, 1);
	ck_assert_double_eq(leader_gauge(), 1);
	tu_run_loop_ms(core, 50);
	ck_assert_int_eq(tu_kw_n, 0);
	kw_lease_stop(l);
	ck_assert_ptr_null(tu_kw_sync_body);
	kw_lease_free(l);
}
END_TEST

START_TEST(elector_refuses_bad_durations)
{
	m.config = json_pack("{s:i, s:i}", "leader-election-lease-duration", 5000,
	                     "leader-election-renew-deadline", 6000);
	char err[256] = "";
	kw_lease_t *l = kw_lease_new(&m, on_change, NULL, err, sizeof(err));
	ck_assert_ptr_null(l);
	ck_assert_str_eq(err, "leaseDuration must be greater than renewDeadline");
}
END_TEST

START_TEST(elector_namespace_from_env)
{
	setenv("CONTOUR_NAMESPACE", "from-env", 1);
	char err[256] = "";
	kw_lease_t *l = kw_lease_new(&m, on_change, NULL, err, sizeof(err));
	unsetenv("CONTOUR_NAMESPACE");
	ck_assert_msg(l != NULL, "%s", err);
	m.state = CORE_MOD_STARTED;
	kw_lease_start(l, (kw_http_t *)&m);
	struct kw_req *r = next_req("GET");
	ck_assert_str_eq(r->path,
	                 "/apis/coordination.k8s.io/v1/namespaces/from-env/leases/leader-elect");
	ck_assert_int_eq(r->timeout_ms, 5000);
	kw_lease_stop(l);
	kw_lease_free(l);
}
END_TEST

static Suite *kw_lease_suite(void)
{
	Suite *s = suite_create("kw_lease");
	TCase *tc = tcase_create("rules");
	tcase_add_test(tc, validate_rules_and_messages);
	tcase_add_test(tc, identity_and_microtime);
	tcase_add_test(tc, create_on_404);
	tcase_add_test(tc, fresh_other_holder_waits_by_local_clock);
	tcase_add_test(tc, changed_record_restarts_the_clock);
	tcase_add_test(tc, observed_duration_is_the_records);
	tcase_add_test(tc, released_lease_is_taken_at_once);
	tcase_add_test(tc, renew_keeps_acquire_time_and_transitions);
	tcase_add_test(tc, lost_to_another_holder);
	tcase_add_test(tc, release_body);
	suite_add_tcase(s, tc);
	tc = tcase_create("elector");
	tcase_add_checked_fixture(tc, drv_setup, drv_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, elector_acquires_renews_steps_down_and_releases);
	tcase_add_test(tc, elector_waits_for_a_fresh_holder);
	tcase_add_test(tc, elector_disabled_is_leader);
	tcase_add_test(tc, elector_refuses_bad_durations);
	tcase_add_test(tc, elector_namespace_from_env);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(kw_lease_suite());
}
