/* tests/unit/check_loader.c: the loader against real shared objects built in
 * tests/modules/: accepted, refused with the right message, or rolled back. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/testutil.h"

static char *tmp;
static char trace_path[4200];

static void setup(void)
{
	tmp = tu_tmpdir();
	snprintf(trace_path, sizeof(trace_path), "%s/trace", tmp);
	setenv("CONTOUR_TM_TRACE", trace_path, 1);
	setenv("CONTOUR_MODULE_PATH", getenv("CONTOUR_TEST_MODULE_DIR"), 1);
	tu_log_capture_start();
}

static void teardown(void)
{
	tu_log_capture_stop();
	tu_rmrf(tmp);
	free(tmp);
}

static const char *trace(void)
{
	static char buf[8192];
	FILE *f = fopen(trace_path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	buf[n] = '\0';
	if (f)
		fclose(f);
	return buf;
}

/* A core with the config text loaded (not yet the modules). */
static core_t *core_with(const char *yaml)
{
	char *path = tu_write_file(tmp, "contour.yaml", yaml);
	core_conf_t *conf = NULL;
	json_t *errors = json_array();
	int rc = core_conf_load_file(path, &conf, errors);
	char *dump = json_dumps(errors, 0);
	ck_assert_msg(rc == CONTOUR_EOK, "%s", dump);
	free(dump);
	json_decref(errors);
	free(path);
	core_t *core = core_new(NULL);
	core->conf = conf;
	return core;
}

/* Load the modules of yaml; expect failure with exactly one error containing
 * every string of want[] (NULL-terminated). */
static void expect_refused(const char *yaml, const char *const *want)
{
	core_t *core = core_with(yaml);
	json_t *errors = json_array();
	ck_assert_int_ne(core_loader_load_all(core, errors), CONTOUR_EOK);
	char *dump = json_dumps(errors, 0);
	ck_assert_msg(json_array_size(errors) == 1, "errors: %s", dump);
	const char *msg = json_string_value(json_array_get(errors, 0));
	for (; *want; want++)
		ck_assert_msg(strstr(msg, *want), "'%s' not in '%s'", *want, msg);
	free(dump);
	json_decref(errors);
	core_free(core);
}

START_TEST(test_good_lifecycle)
{
	core_t *core = core_with("modules:\n"
	                         "  - name: tm_good\n"
	                         "    config:\n"
	                         "      greeting: hi\n"
	                         "      nested: {mode: fast}\n");
	json_t *errors = json_array();
	ck_assert_int_eq(core_loader_load_all(core, errors), CONTOUR_EOK);
	ck_assert_int_eq(core->nmods, 1);
	contour_module_t *mod = core->mods[0];
	ck_assert_str_eq(mod->desc->version, "1.2.3");
	ck_assert_ptr_nonnull(strstr(mod->file, "tm_good.so"));
	/* defaults were filled in, durations converted */
	ck_assert_int_eq(contour_conf_get_int(mod, "count", -1), 3);
	ck_assert_int_eq(contour_conf_get_duration_ms(mod, "interval", -1), 90000);
	ck_assert_int_eq(contour_conf_get_bool(mod, "nested.enabled", -1), 0);
	ck_assert_int_eq(contour_module_config_line(mod, "greeting"), 4);
	ck_assert_int_eq(contour_module_config_line(mod, "nested.mode"), 5);

	ck_assert_int_eq(core_modules_init_start(core), CONTOUR_EOK);
	ck_assert_int_eq(mod->state, CORE_MOD_STARTED);
	char *text = contour_metrics_render(&core->self, NULL);
	ck_assert_msg(text && strstr(text, "tm_good_starts_total 1"), "metrics: %s", text);
	free(text);
	core_modules_stop_free(core);
	ck_assert_str_eq(trace(), "tm_good:init greeting=hi count=3\n"
	                          "tm_good:start\n"
	                          "tm_good:late-register=-1001\n"
	                          "tm_good:stop\n"
	                          "tm_good:free\n");
	/* the module's metric went with it */
	text = contour_metrics_render(&core->self, NULL);
	ck_assert_msg(!text || !strstr(text, "tm_good_starts_total"), "metrics: %s", text);
	free(text);
	json_decref(errors);
	core_free(core);
}
END_TEST

START_TEST(test_newer_minor_refused)
{
	/* The message names both versions, whatever the current minor is. */
	char msg[128];
	snprintf(msg, sizeof(msg), "tm_minor.so) needs ABI 1.%d, newer than this contour's 1.%d",
	         CONTOUR_ABI_MINOR + 1, CONTOUR_ABI_MINOR);
	const char *want[] = {"contour.yaml:2: modules.tm_minor:", "module 'tm_minor' (", msg,
	                      NULL};
	expect_refused("modules:\n  - name: tm_minor\n", want);
}
END_TEST

START_TEST(test_older_minor_accepted)
{
	core_t *core = core_with("modules:\n  - name: tm_oldminor\n");
	json_t *errors = json_array();
	ck_assert_int_eq(core_loader_load_all(core, errors), CONTOUR_EOK);
	ck_assert_int_eq(core->mods[0]->desc->abi_minor, 0);
	ck_assert_int_eq(core_modules_init_start(core), CONTOUR_EOK);
	json_decref(errors);
	core_free(core);
}
END_TEST

START_TEST(test_other_major_refused)
{
	char msg[128];
	snprintf(msg, sizeof(msg),
	         "tm_major.so) was built for ABI 2.0, but this contour provides ABI 1.%d",
	         CONTOUR_ABI_MINOR);
	const char *want[] = {"contour.yaml:4: modules.tm_major:", "(", msg, NULL};
	expect_refused("modules:\n  - name: tm_good\n    config: {nested: {mode: a}}\n"
	               "  - name: tm_major\n",
	               want);
}
END_TEST

START_TEST(test_missing_symbol_refused)
{
	const char *want[] = {"modules.tm_nosym:", "tm_nosym.so is not a contour module",
	                      "does not export the symbol 'contour_module'", NULL};
	expect_refused("modules:\n  - name: tm_nosym\n", want);
}
END_TEST

START_TEST(test_wrong_name_refused)
{
	const char *want[] = {"declares the name 'something-else'",
	                      "but the config entry names 'tm_wrongname'", NULL};
	expect_refused("modules:\n  - name: tm_wrongname\n", want);
}
END_TEST

START_TEST(test_duplicate_refused)
{
	const char *want[] = {"contour.yaml:4: modules.tm_good:",
	                      "module 'tm_good' is listed twice (first at line 2)", NULL};
	expect_refused("modules:\n"
	               "  - name: tm_good\n    config: {nested: {mode: a}}\n"
	               "  - name: tm_good\n    config: {nested: {mode: b}}\n",
	               want);
}
END_TEST

START_TEST(test_not_found)
{
	const char *want[] = {"contour.yaml:2: modules.no-such-module:",
	                      "module 'no-such-module' not found: no no-such-module.so in ", NULL};
	expect_refused("modules:\n  - name: no-such-module\n", want);
}
END_TEST

START_TEST(test_module_config_errors)
{
	const char *unknown[] = {"contour.yaml:5: modules.tm_good.config.bogus: unknown key", NULL};
	expect_refused("modules:\n  - name: tm_good\n    config:\n"
	               "      nested: {mode: a}\n      bogus: 1\n",
	               unknown);
	const char *type[] = {"contour.yaml:4: modules.tm_good.config.count: expected an integer, "
	                      "not string \"many\"",
	                      NULL};
	expect_refused("modules:\n  - name: tm_good\n    config:\n"
	               "      count: many\n      nested: {mode: a}\n",
	               type);
	const char *range[] = {"modules.tm_good.config.count: 11 is out of range [1, 10]", NULL};
	expect_refused("modules:\n  - name: tm_good\n    config:\n"
	               "      count: 11\n      nested: {mode: a}\n",
	               range);
	const char *required[] = {
	    "contour.yaml:4: modules.tm_good.config.nested.mode: required key "
	    "is missing",
	    NULL};
	expect_refused("modules:\n  - name: tm_good\n    config:\n"
	               "      nested: {enabled: true}\n",
	               required);
	const char *check[] = {"contour.yaml:2: modules.tm_good: greeting must not be empty", NULL};
	expect_refused("modules:\n  - name: tm_good\n    config:\n"
	               "      greeting: \"\"\n      nested: {mode: a}\n",
	               check);
}
END_TEST

START_TEST(test_init_failure_rolls_back)
{
	core_t *core = core_with("modules:\n"
	                         "  - name: tm_good\n    config: {nested: {mode: a}}\n"
	                         "  - name: tm_initfail\n"
	                         "  - name: tm_startfail\n");
	json_t *errors = json_array();
	ck_assert_int_eq(core_loader_load_all(core, errors), CONTOUR_EOK);
	ck_assert_int_eq(core_modules_init_start(core), CONTOUR_EMODULE);
	/* tm_initfail's free never runs (its init failed); nothing started */
	ck_assert_str_eq(trace(), "tm_good:init greeting=hello count=3\n"
	                          "tm_initfail:init\n"
	                          "tm_good:free\n");
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "tm_initfail: refusing to initialise"));
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "module tm_initfail ("));
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "init failed: module failed"));
	/* its registrations were undone: metric gone, source gone (so a build
	 * is not blocked waiting for it), and tm_good's too after its free */
	char *text = contour_metrics_render(&core->self, NULL);
	ck_assert_msg(!text || !strstr(text, "tm_initfail_gauge"), "%s", text);
	ck_assert_msg(!text || !strstr(text, "tm_good_starts_total"), "%s", text);
	free(text);
	ck_assert(core_store_all_synced(core->store));
	core_modules_stop_free(core);
	/* nothing more happens at teardown */
	ck_assert_str_eq(trace(), "tm_good:init greeting=hello count=3\n"
	                          "tm_initfail:init\n"
	                          "tm_good:free\n");
	json_decref(errors);
	core_free(core);
}
END_TEST

START_TEST(test_start_failure_rolls_back)
{
	core_t *core = core_with("modules:\n"
	                         "  - name: tm_good\n    config: {nested: {mode: a}}\n"
	                         "  - name: tm_startfail\n");
	json_t *errors = json_array();
	ck_assert_int_eq(core_loader_load_all(core, errors), CONTOUR_EOK);
	ck_assert_int_eq(core_modules_init_start(core), -13);
	ck_assert_str_eq(trace(), "tm_good:init greeting=hello count=3\n"
	                          "tm_startfail:init\n"
	                          "tm_good:start\n"
	                          "tm_good:late-register=-1001\n"
	                          "tm_startfail:start\n"
	                          "tm_startfail:stop\n"
	                          "tm_good:stop\n"
	                          "tm_startfail:free\n"
	                          "tm_good:free\n");
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "start failed: Permission denied"));
	json_decref(errors);
	core_free(core);
}
END_TEST

START_TEST(test_search_path_and_explicit_path)
{
	/* Without the environment variable, `module-path:` finds it. */
	unsetenv("CONTOUR_MODULE_PATH");
	char yaml[8192];
	snprintf(
	    yaml, sizeof(yaml),
	    "module-path: [\"%s\"]\nmodules:\n  - name: tm_good\n    config: {nested: {mode: a}}\n",
	    getenv("CONTOUR_TEST_MODULE_DIR"));
	core_t *core = core_with(yaml);
	json_t *errors = json_array();
	ck_assert_int_eq(core_loader_load_all(core, errors), CONTOUR_EOK);
	core_free(core);

	/* The environment variable comes first: a folder holding a module of
	 * the same name that is refused proves which one was picked. */
	char *decoy = NULL;
	char dir[4300];
	snprintf(dir, sizeof(dir), "%s/decoy", tmp);
	decoy = tu_write_file(tmp, "decoy/tm_good.so", "not an ELF file\n");
	setenv("CONTOUR_MODULE_PATH", dir, 1);
	core = core_with(yaml);
	ck_assert_int_ne(core_loader_load_all(core, errors), CONTOUR_EOK);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(errors, 0)), decoy));
	core_free(core);
	free(decoy);

	/* An explicit relative path is taken from the config file's folder. */
	unsetenv("CONTOUR_MODULE_PATH");
	char cmd[9000];
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/mods-tm_good.so'", tu_test_module("tm_good"), tmp);
	ck_assert_int_eq(system(cmd), 0);
	core = core_with("modules:\n  - name: tm_good\n    path: mods-tm_good.so\n"
	                 "    config: {nested: {mode: a}}\n");
	json_decref(errors);
	errors = json_array();
	ck_assert_int_eq(core_loader_load_all(core, errors), CONTOUR_EOK);
	ck_assert_ptr_nonnull(strstr(core->mods[0]->file, "/mods-tm_good.so"));
	core_free(core);
	json_decref(errors);
}
END_TEST

START_TEST(test_builtin_descriptor_checked)
{
	static const contour_module_desc_t bad = {
	    .abi_major = CONTOUR_ABI_MAJOR,
	    .abi_minor = CONTOUR_ABI_MINOR + 5,
	    .size = sizeof(contour_module_desc_t),
	    .name = "builtin-bad",
	};
	static const contour_module_desc_t small = {
	    .abi_major = CONTOUR_ABI_MAJOR,
	    .abi_minor = 0,
	    .size = 8,
	    .name = "builtin-small",
	};
	core_t *core = core_new(NULL);
	json_t *errors = json_array();
	contour_module_t *mod = (void *)1;
	ck_assert_int_eq(core_module_add_builtin(core, &bad, NULL, errors, &mod), CONTOUR_EABI);
	ck_assert_ptr_null(mod);
	ck_assert_int_eq(core_module_add_builtin(core, &small, NULL, errors, &mod), CONTOUR_EABI);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(errors, 1)), "truncated"));
	json_decref(errors);
	core_free(core);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_good_lifecycle);
	tcase_add_test(tc, test_search_path_and_explicit_path);
	tcase_add_test(tc, test_older_minor_accepted);
	suite_add_tcase(s, tc);
	TCase *te = tcase_create("errors");
	tcase_add_checked_fixture(te, setup, teardown);
	tcase_add_test(te, test_newer_minor_refused);
	tcase_add_test(te, test_other_major_refused);
	tcase_add_test(te, test_missing_symbol_refused);
	tcase_add_test(te, test_wrong_name_refused);
	tcase_add_test(te, test_duplicate_refused);
	tcase_add_test(te, test_not_found);
	tcase_add_test(te, test_module_config_errors);
	tcase_add_test(te, test_builtin_descriptor_checked);
	suite_add_tcase(s, te);
	TCase *tr = tcase_create("rollback");
	tcase_add_checked_fixture(tr, setup, teardown);
	tcase_add_test(tr, test_init_failure_rolls_back);
	tcase_add_test(tr, test_start_failure_rolls_back);
	suite_add_tcase(s, tr);
	return tu_run_suite(s);
}
