/* tests/unit/check_log.c: both output formats, levels, escaping, and the
 * module name on every line. */
#include "config.h"

#include <string.h>

#include "tests/unit/testutil.h"

static void setup(void)
{
	tu_log_capture_start();
}

static void teardown(void)
{
	tu_log_capture_stop();
	core_log_configure(CORE_LOG_TEXT, CONTOUR_LOG_INFO);
}

START_TEST(test_text_format)
{
	core_t *core = core_new(NULL);
	contour_module_t m = {.core = core, .name = "file-watch"};
	core_log_configure(CORE_LOG_TEXT, CONTOUR_LOG_INFO);
	contour_log(&m, CONTOUR_LOG_WARN, "read %d files from \"%s\"", 3, "ex\\amples");
	const char *out = tu_log_text();
	ck_assert_msg(!strncmp(out, "time=\"", 6), "%s", out);
	ck_assert_ptr_nonnull(
	    strstr(out, " level=warning msg=\"read 3 files from \\\"ex\\\\amples\\\"\" "
	                "module=file-watch\n"));
	contour_log(NULL, CONTOUR_LOG_INFO, "two\nlines");
	out = tu_log_text();
	ck_assert_ptr_nonnull(strstr(out, "msg=\"two\\nlines\" module=core\n"));
	/* one line per message */
	int lines = 0;
	for (const char *p = out; *p; p++)
		lines += *p == '\n';
	ck_assert_int_eq(lines, 2);
	core_free(core);
}
END_TEST

START_TEST(test_json_format)
{
	core_log_configure(CORE_LOG_JSON, CONTOUR_LOG_INFO);
	contour_log(NULL, CONTOUR_LOG_ERR, "bad \"thing\"");
	json_error_t jerr;
	json_t *o = json_loads(tu_log_text(), 0, &jerr);
	ck_assert_msg(o != NULL, "not JSON: %s", tu_log_text());
	ck_assert_str_eq(json_string_value(json_object_get(o, "level")), "error");
	ck_assert_str_eq(json_string_value(json_object_get(o, "msg")), "bad \"thing\"");
	ck_assert_str_eq(json_string_value(json_object_get(o, "module")), "core");
	ck_assert(json_is_string(json_object_get(o, "time")));
	json_decref(o);
}
END_TEST

START_TEST(test_levels)
{
	core_log_configure(CORE_LOG_TEXT, CONTOUR_LOG_INFO);
	ck_assert(!contour_log_enabled(CONTOUR_LOG_DEBUG));
	ck_assert(contour_log_enabled(CONTOUR_LOG_INFO));
	contour_log(NULL, CONTOUR_LOG_DEBUG, "hidden");
	ck_assert_str_eq(tu_log_text(), "");
	core_log_configure(CORE_LOG_TEXT, CONTOUR_LOG_DEBUG);
	contour_log(NULL, CONTOUR_LOG_DEBUG, "shown");
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "level=debug msg=\"shown\""));
	core_log_format_t f;
	ck_assert_int_eq(core_log_format_parse("json", &f), CONTOUR_EOK);
	ck_assert_int_eq(f, CORE_LOG_JSON);
	ck_assert_int_eq(core_log_format_parse("logfmt", &f), CONTOUR_EINVAL);
}
END_TEST

START_TEST(test_strerror)
{
	ck_assert_str_eq(contour_strerror(CONTOUR_EABI), "incompatible module ABI");
	ck_assert_str_eq(contour_strerror(-2), "No such file or directory");
	ck_assert_str_eq(contour_strerror(-99999), "unknown error");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_text_format);
	tcase_add_test(tc, test_json_format);
	tcase_add_test(tc, test_levels);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
