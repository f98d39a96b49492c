/* tests/unit/check_status.c: the status the domain layer composes
 * (contour/status.h): equality as upstream's isStatusEqual, HTTPProxy status
 * as ProxyUpdate.Mutate, Ingress status as StatusAddressUpdater, and the
 * networking form of the load-balancer address. */
#include "config.h"

#include <contour/status.h>

#include "tests/unit/testutil.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, 0, &e);
	ck_assert_msg(v != NULL, "bad JSON in test: %s: %s", e.text, text);
	return v;
}

START_TEST(equal_ignores_transition_time_order_and_empties)
{
	json_t *a = J("{\"currentStatus\":\"valid\",\"description\":\"Valid HTTPProxy\","
	              "\"loadBalancer\":{},\"conditions\":["
	              "{\"type\":\"Valid\",\"status\":\"True\",\"observedGeneration\":2,"
	              "\"lastTransitionTime\":\"2026-01-01T00:00:00Z\",\"reason\":\"Valid\","
	              "\"message\":\"Valid HTTPProxy\",\"errors\":[]},"
	              "{\"type\":\"Other\",\"status\":\"True\"}]}");
	json_t *b = J("{\"conditions\":[{\"type\":\"Other\",\"status\":\"True\"},"
	              "{\"type\":\"Valid\",\"status\":\"True\",\"observedGeneration\":2,"
	              "\"lastTransitionTime\":\"2026-11-27T09:09:09Z\",\"reason\":\"Valid\","
	              "\"message\":\"Valid HTTPProxy\"}],"
	              "\"currentStatus\":\"valid\",\"description\":\"Valid HTTPProxy\"}");
	ck_assert(contour_status_equal(a, b));
	ck_assert(contour_status_equal(b, a));
	/* A different message, generation or address is a change. */
	json_object_set_new(json_array_get(json_object_get(b, "conditions"), 1), "message",
	                    json_string("x"));
	ck_assert(!contour_status_equal(a, b));
	json_object_set_new(json_array_get(json_object_get(b, "conditions"), 1), "message",
	                    json_string("Valid HTTPProxy"));
	json_object_set_new(json_array_get(json_object_get(b, "conditions"), 1),
	                    "observedGeneration", json_integer(3));
	ck_assert(!contour_status_equal(a, b));
	json_object_set_new(json_array_get(json_object_get(b, "conditions"), 1),
	                    "observedGeneration", json_integer(2));
	json_object_set_new(b, "loadBalancer", J("{\"ingress\":[{\"ip\":\"1.2.3.4\"}]}"));
	ck_assert(!contour_status_equal(a, b));
	/* A missing condition is a change. */
	json_t *c = J("{\"currentStatus\":\"valid\",\"description\":\"Valid HTTPProxy\","
	              "\"conditions\":[{\"type\":\"Other\",\"status\":\"True\"}]}");
	ck_assert(!contour_status_equal(a, c));
	/* No status equals an empty one, not a real one. */
	json_t *e = J("{\"loadBalancer\":{},\"conditions\":[]}");
	ck_assert(contour_status_equal(NULL, e));
	ck_assert(!contour_status_equal(NULL, a));
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(e);
}
END_TEST

START_TEST(core_to_networking)
{
	json_t *core_lb = J("{\"ingress\":[{\"ip\":\"192.0.2.1\",\"ipMode\":\"VIP\",\"ports\":[]},"
	                    "{\"hostname\":\"lb.example.com\",\"ports\":[{\"port\":443,"
	                    "\"protocol\":\"TCP\"},{\"port\":53,\"protocol\":\"UDP\","
	                    "\"error\":\"boom\"}]}]}");
	json_t *n = contour_status_lb_to_networking(core_lb);
	json_t *want = J("{\"ingress\":[{\"ip\":\"192.0.2.1\"},{\"hostname\":\"lb.example.com\","
	                 "\"ports\":[{\"port\":443,\"protocol\":\"TCP\"},{\"port\":53,"
	                 "\"protocol\":\"UDP\",\"error\":\"boom\"}]}]}");
	ck_assert_msg(json_equal(n, want), "got %s", json_dumps(n, JSON_COMPACT));
	json_decref(n);
	json_decref(want);
	json_decref(core_lb);
	n = contour_status_lb_to_networking(NULL);
	ck_assert_int_eq(json_object_size(n), 0);
	json_decref(n);
}
END_TEST


START_TEST(compose_proxy_status)
{
	/* The address as ingress-status-address: 192.0.2.1 gives it. */
	json_t *lb = J("{\"ingress\":[{\"ip\":\"192.0.2.1\"}]}");
	json_t *computed = J(VALID_STATUS(2, "2026-11-27T10:00:00Z"));
	/* Nothing stored yet: the computed status plus the address. */
	json_t *d = contour_status_compose_proxy(NULL, computed, lb);
	ck_assert_str_eq(json_string_value(json_object_get(d, "currentStatus")), "valid");
	ck_assert(json_equal(json_object_get(d, "loadBalancer"), lb));
	ck_assert_int_eq(json_array_size(json_object_get(d, "conditions")), 1);
	json_decref(d);

	/* Stored: same condition, older time, another condition type, an
	 * address. The time is kept, the other condition too; without an
	 * address of our own the stored one stays. */
	json_t *cur = J(
	    "{\"currentStatus\":\"valid\",\"description\":\"Valid HTTPProxy\","
	    "\"loadBalancer\":{\"ingress\":[{\"hostname\":\"old\"}]},\"conditions\":["
	    "{\"type\":\"Extra\",\"status\":\"True\"}," VALID_COND(2, "2026-01-01T00:00:00Z") "]}");
	d = contour_status_compose_proxy(cur, computed, NULL);
	ck_assert(contour_status_equal(d, cur));
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(json_object_get(d, "conditions"), 1),
	                                      "lastTransitionTime")),
	    "2026-01-01T00:00:00Z");
	ck_assert_str_eq(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(json_object_get(d, "loadBalancer"), "ingress"), 0),
	        "hostname")),
	    "old");
	json_decref(d);

	/* An invalid build: the condition changes, with the new time. */
	json_t *bad = J(INVALID_STATUS(3, "2026-11-27T11:00:00Z"));
	d = contour_status_compose_proxy(cur, bad, lb);
	ck_assert(!contour_status_equal(d, cur));
	ck_assert_str_eq(json_string_value(json_object_get(d, "currentStatus")), "invalid");
	ck_assert_str_eq(json_string_value(json_object_get(d, "description")),
	                 "At least one error present, see Errors for details");
	const json_t *vc = json_array_get(json_object_get(d, "conditions"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(vc, "lastTransitionTime")),
	                 "2026-11-27T11:00:00Z");
	ck_assert_int_eq(json_integer_value(json_object_get(vc, "observedGeneration")), 3);
	ck_assert(json_equal(json_object_get(d, "loadBalancer"), lb));
	/* Stale: a build that saw generation 1 does not overwrite generation 3. */
	json_t *stale = J(VALID_STATUS(1, "2026-11-27T12:00:00Z"));
	json_t *d2 = contour_status_compose_proxy(d, stale, lb);
	ck_assert(contour_status_equal(d2, d));
	ck_assert_str_eq(json_string_value(json_object_get(d2, "currentStatus")), "invalid");
	json_decref(d2);
	json_decref(stale);
	json_decref(d);

	/* Orphaned: the description is the Orphaned error's message. */
	json_t *orphan = J("{\"conditions\":[{\"type\":\"Valid\",\"status\":\"False\","
	                   "\"observedGeneration\":1,\"reason\":\"Orphaned\",\"message\":\"m\","
	                   "\"errors\":[{\"type\":\"Orphaned\",\"status\":\"True\",\"reason\":"
	                   "\"Orphaned\",\"message\":\"this HTTPProxy is not part of a delegation "
	                   "chain from a root HTTPProxy\"}]}]}");
	d = contour_status_compose_proxy(NULL, orphan, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(d, "currentStatus")), "orphaned");
	ck_assert_str_eq(json_string_value(json_object_get(d, "description")),
	                 "this HTTPProxy is not part of a delegation chain from a root HTTPProxy");
	json_decref(d);
	json_decref(orphan);
	json_decref(bad);
	json_decref(cur);
	json_decref(computed);
	json_decref(lb);
}
END_TEST

START_TEST(compose_ingress_status)
{
	json_t *lb = J("{\"ingress\":[{\"ip\":\"192.0.2.1\",\"ipMode\":\"Proxy\"}]}");
	json_t *d = contour_status_compose_ingress(NULL, lb);
	json_t *want = J("{\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.1\"}]}}");
	ck_assert(json_equal(d, want));
	ck_assert(contour_status_equal(d, want));
	json_t *old = J("{\"loadBalancer\":{\"ingress\":[{\"ip\":\"192.0.2.9\"}]}}");
	ck_assert(!contour_status_equal(old, d));
	json_decref(old);
	json_decref(want);
	json_decref(d);
	json_decref(lb);
}
END_TEST

static Suite *status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("equal");
	tcase_add_test(tc, equal_ignores_transition_time_order_and_empties);
	suite_add_tcase(s, tc);
	tc = tcase_create("compose");
	tcase_add_test(tc, core_to_networking);
	tcase_add_test(tc, compose_proxy_status);
	tcase_add_test(tc, compose_ingress_status);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(status_suite());
}
