/* tests/unit/check_admission.c: validators and verdicts (core/admission.c):
 * registration, dispatch by kind, order, ignore, and dropping a module's. */
#include "config.h"

#include <string.h>

#include "tests/unit/testutil.h"

static void deny_fqdn(contour_module_t *mod, const contour_review_t *r, contour_verdict_t *v,
                      void *ud)
{
	const char *fqdn = json_string_value(json_object_get(
	    json_object_get(json_object_get(r->object, "spec"), "virtualhost"), "fqdn"));
	if (!fqdn || !*fqdn)
		contour_verdict_deny(v, "spec.virtualhost.fqdn",
		                     "Spec.VirtualHost.Fqdn must be specified");
	(*(int *)ud)++;
}

static void warn_service(contour_module_t *mod, const contour_review_t *r, contour_verdict_t *v,
                         void *ud)
{
	contour_verdict_warn(v, "Service %s/%s does not exist yet", "ns", "web");
	contour_verdict_warn(v, "Service %s/%s does not exist yet", "ns", "web");
	(*(int *)ud)++;
}

static void ignore_class(contour_module_t *mod, const contour_review_t *r, contour_verdict_t *v,
                         void *ud)
{
	contour_verdict_ignore(v);
	(*(int *)ud)++;
}

static contour_review_t review_of(const json_t *obj)
{
	return (contour_review_t){.operation = "CREATE", .object = obj};
}

START_TEST(test_dispatch_and_verdict)
{
	core_t *core = core_new(NULL);
	contour_module_t a = {.core = core, .name = "a", .state = CORE_MOD_INITIALISING};
	contour_module_t b = {.core = core, .name = "b", .state = CORE_MOD_INITIALISING};
	int na = 0, nb = 0;
	ck_assert_int_eq(
	    contour_register_validator(&a, "projectcontour.io/v1", "HTTPProxy", deny_fqdn, &na),
	    CONTOUR_EOK);
	ck_assert_int_eq(
	    contour_register_validator(&b, "projectcontour.io/v1", "HTTPProxy", warn_service, &nb),
	    CONTOUR_EOK);
	ck_assert_int_eq(contour_register_validator(&a, "", "HTTPProxy", deny_fqdn, &na),
	                 CONTOUR_EINVAL);

	json_t *obj = json_pack("{s:{s:{s:s}}}", "spec", "virtualhost", "fqdn", "");
	contour_review_t r = review_of(obj);
	contour_verdict_t *v = contour_verdict_new();
	ck_assert_int_eq(contour_review_run(&a, "projectcontour.io/v1", "HTTPProxy", &r, v), 2);
	ck_assert_int_eq(na, 1);
	ck_assert_int_eq(nb, 1);
	ck_assert(!contour_verdict_allowed(v));
	const json_t *d = json_array_get(contour_verdict_denials(v), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "field")), "spec.virtualhost.fqdn");
	ck_assert_str_eq(json_string_value(json_object_get(d, "message")),
	                 "Spec.VirtualHost.Fqdn must be specified");
	/* the same warning is told once */
	ck_assert_int_eq(json_array_size(contour_verdict_warnings(v)), 1);
	contour_verdict_free(v);

	/* a kind nobody validates: nothing runs */
	v = contour_verdict_new();
	ck_assert_int_eq(contour_review_run(&a, "networking.k8s.io/v1", "Ingress", &r, v), 0);
	ck_assert(contour_verdict_allowed(v));
	contour_verdict_free(v);

	/* outside init: refused */
	a.state = CORE_MOD_STARTED;
	ck_assert_int_eq(contour_register_validator(&a, "v1", "Secret", deny_fqdn, &na),
	                 CONTOUR_ESTATE);

	/* a module's validators go with it */
	core_validators_drop_module(core, &b);
	v = contour_verdict_new();
	ck_assert_int_eq(contour_review_run(&a, "projectcontour.io/v1", "HTTPProxy", &r, v), 1);
	ck_assert_int_eq(json_array_size(contour_verdict_warnings(v)), 0);
	contour_verdict_free(v);
	json_decref(obj);
	core_free(core);
}
END_TEST

START_TEST(test_reason_and_long_message)
{
	contour_verdict_t *v = contour_verdict_new();
	char *big = malloc(5001);
	memset(big, 'x', 5000);
	big[5000] = '\0';
	contour_verdict_deny_reason(v, "DuplicateVhost", "spec.virtualhost.fqdn", "fqdn %s", big);
	contour_verdict_deny(v, NULL, "whole object");
	const json_t *d = contour_verdict_denials(v);
	ck_assert_int_eq(json_array_size(d), 2);
	const json_t *d0 = json_array_get(d, 0), *d1 = json_array_get(d, 1);
	ck_assert_str_eq(json_string_value(json_object_get(d0, "reason")), "DuplicateVhost");
	/* a long message is kept whole, not cut at a buffer's size */
	ck_assert_uint_eq(strlen(json_string_value(json_object_get(d0, "message"))), 5005);
	/* no reason given: the member is absent; no field: null */
	ck_assert_ptr_null(json_object_get(d1, "reason"));
	ck_assert(json_is_null(json_object_get(d1, "field")));
	free(big);
	contour_verdict_free(v);
}
END_TEST

START_TEST(test_ignore_stops)
{
	core_t *core = core_new(NULL);
	contour_module_t a = {.core = core, .name = "a", .state = CORE_MOD_INITIALISING};
	int n1 = 0, n2 = 0, n3 = 0;
	contour_register_validator(&a, "projectcontour.io/v1", "HTTPProxy", deny_fqdn, &n1);
	contour_register_validator(&a, "projectcontour.io/v1", "HTTPProxy", ignore_class, &n2);
	contour_register_validator(&a, "projectcontour.io/v1", "HTTPProxy", warn_service, &n3);
	json_t *obj = json_object();
	contour_review_t r = review_of(obj);
	contour_verdict_t *v = contour_verdict_new();
	ck_assert_int_eq(contour_review_run(&a, "projectcontour.io/v1", "HTTPProxy", &r, v), 2);
	ck_assert_int_eq(n3, 0);
	ck_assert(contour_verdict_ignored(v));
	ck_assert(contour_verdict_allowed(v)); /* the denial found before is dropped */
	ck_assert_int_eq(json_array_size(contour_verdict_warnings(v)), 0);
	contour_verdict_deny(v, NULL, "late");
	ck_assert(contour_verdict_allowed(v));
	contour_verdict_free(v);
	json_decref(obj);
	core_free(core);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("admission");
	TCase *tc = tcase_create("validators");
	tcase_add_test(tc, test_dispatch_and_verdict);
	tcase_add_test(tc, test_ignore_stops);
	tcase_add_test(tc, test_reason_and_long_message);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
