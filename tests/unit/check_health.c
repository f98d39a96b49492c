/* tests/unit/check_health.c: the health registry (contour/health.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"

static core_t *core;
/* A module handle in init state, as the loader makes one. */
static contour_module_t fake;

static void setup(void)
{
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	memset(&fake, 0, sizeof(fake));
	fake.core = core;
	fake.name = (char *)"fake";
	fake.file = (char *)"(test)";
	fake.state = CORE_MOD_INITIALISING;
	tu_log_capture_start();
}

static void teardown(void)
{
	tu_log_capture_stop();
	core_free(core);
	core = NULL;
}

START_TEST(test_none_is_healthy)
{
	const char *name = "x", *msg = "y";
	ck_assert_int_eq(contour_health_state(&core->self, &name, &msg), 1);
	/* Untouched when healthy. */
	ck_assert_str_eq(name, "x");
	ck_assert_str_eq(msg, "y");
	ck_assert_int_eq(contour_health_state(&core->self, NULL, NULL), 1);
}
END_TEST

START_TEST(test_new_check_fails)
{
	contour_health_check_t *c = NULL;
	ck_assert_int_eq(contour_register_health_check(&fake, "Kubernetes", &c), CONTOUR_EOK);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(contour_health_check_ok(c), 0);
	const char *name = NULL, *msg = NULL;
	ck_assert_int_eq(contour_health_state(&core->self, &name, &msg), 0);
	ck_assert_str_eq(name, "Kubernetes");
	ck_assert_str_eq(msg, "not checked yet");
}
END_TEST

START_TEST(test_pass_fail)
{
	contour_health_check_t *c = NULL;
	ck_assert_int_eq(contour_register_health_check(&fake, "Kubernetes", &c), CONTOUR_EOK);
	contour_health_fail(c, "not yet connected to %s", "https://127.0.0.1:1");
	const char *name = NULL, *msg = NULL;
	ck_assert_int_eq(contour_health_state(&core->self, &name, &msg), 0);
	ck_assert_str_eq(msg, "not yet connected to https://127.0.0.1:1");
	/* Still failing from the start: no transition, nothing logged. */
	ck_assert_ptr_null(strstr(tu_log_text(), "failing"));

	contour_health_pass(c);
	ck_assert_int_eq(contour_health_check_ok(c), 1);
	ck_assert_int_eq(contour_health_state(&core->self, &name, &msg), 1);
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "health check Kubernetes passing"));
	/* Passing again is a no-op: logged once. */
	contour_health_pass(c);
	const char *log = tu_log_text();
	const char *first = strstr(log, "passing");
	ck_assert_ptr_null(strstr(first + 1, "passing"));

	contour_health_fail(c, "connection refused");
	ck_assert_int_eq(contour_health_check_ok(c), 0);
	ck_assert_int_eq(contour_health_state(&core->self, &name, &msg), 0);
	ck_assert_str_eq(name, "Kubernetes");
	ck_assert_str_eq(msg, "connection refused");
	ck_assert_ptr_nonnull(
	    strstr(tu_log_text(), "health check Kubernetes failing: connection refused"));
	/* A new message replaces the old one. */
	contour_health_fail(c, "timed out");
	contour_health_state(&core->self, &name, &msg);
	ck_assert_str_eq(msg, "timed out");
}
END_TEST

START_TEST(test_first_failing_in_order)
{
	contour_health_check_t *a = NULL, *b = NULL;
	ck_assert_int_eq(contour_register_health_check(&fake, "Alpha", &a), CONTOUR_EOK);
	ck_assert_int_eq(contour_register_health_check(&fake, "Beta", &b), CONTOUR_EOK);
	contour_health_fail(a, "a down");
	contour_health_fail(b, "b down");
	const char *name = NULL, *msg = NULL;
	contour_health_state(&core->self, &name, &msg);
	ck_assert_str_eq(name, "Alpha");
	contour_health_pass(a);
	ck_assert_int_eq(contour_health_state(&core->self, &name, &msg), 0);
	ck_assert_str_eq(name, "Beta");
	ck_assert_str_eq(msg, "b down");
	contour_health_pass(b);
	ck_assert_int_eq(contour_health_state(&core->self, &name, &msg), 1);
}
END_TEST

START_TEST(test_long_message_cut)
{
	contour_health_check_t *c = NULL;
	ck_assert_int_eq(contour_register_health_check(&fake, "Kubernetes", &c), CONTOUR_EOK);
	char big[2000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	contour_health_fail(c, "%s", big);
	const char *msg = NULL;
	contour_health_state(&core->self, NULL, &msg);
	ck_assert_uint_eq(strlen(msg), CONTOUR_HEALTH_MESSAGE_MAX - 1);
}
END_TEST

START_TEST(test_errors)
{
	contour_health_check_t *c = NULL, *d = NULL;
	ck_assert_int_eq(contour_register_health_check(&fake, NULL, &c), CONTOUR_EINVAL);
	ck_assert_int_eq(contour_register_health_check(&fake, "", &c), CONTOUR_EINVAL);
	ck_assert_int_eq(contour_register_health_check(&fake, "K", NULL), CONTOUR_EINVAL);
	ck_assert_int_eq(contour_register_health_check(&fake, "K", &c), CONTOUR_EOK);
	ck_assert_int_eq(contour_register_health_check(&fake, "K", &d), CONTOUR_EEXIST);
	ck_assert_ptr_null(d);
	/* Only in init. */
	fake.state = CORE_MOD_STARTED;
	ck_assert_int_eq(contour_register_health_check(&fake, "L", &d), CONTOUR_ESTATE);
	ck_assert_ptr_null(d);
	/* NULL handles are ignored. */
	contour_health_pass(NULL);
	contour_health_fail(NULL, "x");
	ck_assert_int_eq(contour_health_check_ok(NULL), 0);
}
END_TEST

START_TEST(test_drop_module)
{
	contour_module_t other = fake;
	other.name = (char *)"other";
	contour_health_check_t *a = NULL, *b = NULL;
	ck_assert_int_eq(contour_register_health_check(&fake, "Alpha", &a), CONTOUR_EOK);
	ck_assert_int_eq(contour_register_health_check(&other, "Beta", &b), CONTOUR_EOK);
	contour_health_pass(b);
	/* The module's rollback (or its free) takes its checks away. */
	core_drop_registrations(core, &fake);
	ck_assert_int_eq(contour_health_state(&core->self, NULL, NULL), 1);
	/* Its name is free again. */
	ck_assert_int_eq(contour_register_health_check(&other, "Alpha", &a), CONTOUR_EOK);
	const char *name = NULL;
	ck_assert_int_eq(contour_health_state(&core->self, &name, NULL), 0);
	ck_assert_str_eq(name, "Alpha");
	/* core_free drops the rest. */
}
END_TEST

static Suite *health_suite(void)
{
	Suite *s = suite_create("health");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_none_is_healthy);
	tcase_add_test(tc, test_new_check_fails);
	tcase_add_test(tc, test_pass_fail);
	tcase_add_test(tc, test_first_failing_in_order);
	tcase_add_test(tc, test_drop_module);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_long_message_cut);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(health_suite());
}
