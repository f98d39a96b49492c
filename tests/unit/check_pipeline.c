/* tests/unit/check_pipeline.c: hold-off, builds, processors, observers and
 * snapshots. Timings use generous upper bounds so that a loaded machine or a
 * sanitizer build does not fail them. Lower bounds allow 5 ms because
 * libevent times events with CLOCK_MONOTONIC_COARSE (a few ms of
 * resolution) while contour_now_ms() reads CLOCK_MONOTONIC. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"

static core_t *core;
static contour_module_t m;
static contour_source_t *src;
static int seq; /* makes every put a change */

#define MAX_BUILDS 64
static struct {
	int builds;               /* processor runs */
	int64_t at[MAX_BUILDS];   /* contour_now_ms of each run */
	uint64_t gen[MAX_BUILDS]; /* generation under construction */
	char trace[512];          /* processor/observer names in call order */
	int fail;                 /* the failing processor returns this if non-zero */
	int request_in_build;     /* the counting processor requests one more build */
	contour_snapshot_t *observed;
	uint64_t observed_gen;
	int observed_count;
	int freed; /* free_fn calls */
} st;

static void trace(const char *s)
{
	size_t len = strlen(st.trace);
	snprintf(st.trace + len, sizeof(st.trace) - len, "%s ", s);
}

static int64_t now(void)
{
	return contour_now_ms(&core->self);
}

static int count_proc(contour_snapshot_t *b, void *ud)
{
	if (st.builds < MAX_BUILDS) {
		st.at[st.builds] = now();
		st.gen[st.builds] = contour_snapshot_generation(b);
	}
	st.builds++;
	if (st.request_in_build) {
		st.request_in_build = 0;
		contour_build_request(&m);
	}
	return CONTOUR_EOK;
}

static void setup(void)
{
	memset(&st, 0, sizeof(st));
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	core->holdoff_ms = 100;
	core->holdoff_max_ms = 500;
	m = (contour_module_t){.core = core, .name = "t", .state = CORE_MOD_INITIALISING};
	ck_assert_int_eq(contour_register_source(&m, "src", &src), CONTOUR_EOK);
}

/* Most tests: one synced source and a processor that counts. The sync
 * itself schedules a build; run it so each test starts from quiet. */
static void setup_synced(void)
{
	setup();
	ck_assert_int_eq(
	    contour_register_processor(&m, "count", CONTOUR_ORDER_PRIMARY, count_proc, NULL),
	    CONTOUR_EOK);
	contour_source_set_synced(src);
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	memset(&st, 0, sizeof(st));
}

static void teardown(void)
{
	tu_log_capture_stop();
	core_free(core);
	core = NULL;
}

static void change(void)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:i}}", "apiVersion", "v1", "kind", "ConfigMap",
	              "metadata", "namespace", "ns", "name", "cm", "data", "seq", ++seq);
	ck_assert_int_eq(contour_store_put_new(src, o), CONTOUR_EOK);
}

static int built_once(void *ud)
{
	return st.builds >= 1;
}

static int built_twice(void *ud)
{
	return st.builds >= 2;
}

/* Hold-off ----------------------------------------------------------------- */

START_TEST(test_burst_coalesces)
{
	for (int i = 0; i < 1000; i++)
		change();
	ck_assert_int_eq(st.builds, 0);
	ck_assert(tu_run_until(core, built_once, NULL, 2000));
	tu_run_loop_ms(core, 300);
	ck_assert_int_ge(st.builds, 1);
	ck_assert_int_le(st.builds, 2);
}
END_TEST

START_TEST(test_steady_changes_still_build)
{
	/* A change every 20 ms never leaves the 100 ms hold-off quiet, so only
	 * the 500 ms cap lets builds through: one per window of 500 ms plus up
	 * to 20 ms before the next window opens. Over 2 s that is 3 (a window
	 * that starts late) or 4 builds; 5 would mean the cap fires early, 2
	 * or fewer that it does not work. */
	int64_t start = now(), last = start;
	while (now() - start < 2000) {
		last = now();
		change();
		tu_run_loop_ms(core, 20);
	}
	int during = st.builds;
	ck_assert_int_ge(during, 3);
	ck_assert_int_le(during, 4);
	/* No gap between builds (or before the first) exceeds the cap by more
	 * than one change interval and some scheduling slack, and none is
	 * shorter than the cap. */
	int64_t prev = start;
	for (int i = 0; i < during; i++) {
		ck_assert_int_le(st.at[i] - prev, 500 + 20 + 80);
		ck_assert_int_ge(st.at[i] - prev, 490);
		prev = st.at[i];
	}
	/* Once the changes stop, the last one is built too, and only once. */
	tu_run_loop_ms(core, 700);
	ck_assert_int_le(st.builds, during + 1);
	ck_assert_int_ge(st.at[st.builds - 1], last);
}
END_TEST

START_TEST(test_holdoff_settings)
{
	core->holdoff_ms = 30;
	int64_t t = now();
	change();
	ck_assert(tu_run_until(core, built_once, NULL, 1000));
	int64_t waited = st.at[0] - t;
	ck_assert_int_ge(waited, 30 - 5);
	ck_assert_int_lt(waited, 100); /* well under the default 100 ms */

	/* A second change inside the hold-off pushes the build back. */
	memset(&st, 0, sizeof(st));
	t = now();
	change();
	tu_run_loop_ms(core, 20);
	change();
	ck_assert(tu_run_until(core, built_once, NULL, 1000));
	ck_assert_int_ge(st.at[0] - t, 20 + 30 - 5);
	tu_run_loop_ms(core, 100);
	ck_assert_int_eq(st.builds, 1);
}
END_TEST

START_TEST(test_holdoff_max_settings)
{
	/* The cap is read at each change: 200 ms hold-off, 250 ms cap, changes
	 * every 20 ms -> the build comes at the cap, not after the hold-off. */
	core->holdoff_ms = 200;
	core->holdoff_max_ms = 250;
	int64_t t = now();
	while (st.builds == 0 && now() - t < 2000) {
		change();
		tu_run_loop_ms(core, 20);
	}
	ck_assert_int_eq(st.builds, 1);
	ck_assert_int_ge(st.at[0] - t, 250 - 5);
	ck_assert_int_lt(st.at[0] - t, 250 + 80);
}
END_TEST

START_TEST(test_build_request)
{
	contour_build_request(&m);
	ck_assert_int_eq(st.builds, 0);
	int64_t t = now();
	ck_assert(tu_run_until(core, built_once, NULL, 1000));
	ck_assert_int_ge(st.at[0] - t, 100 - 5);
	ck_assert_uint_eq(contour_snapshot_generation(contour_snapshot_current(&m)), 2);
}
END_TEST

START_TEST(test_request_during_build)
{
	/* A request from inside a build is not lost: it schedules one more. */
	st.request_in_build = 1;
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	ck_assert_int_eq(st.builds, 1);
	ck_assert(tu_run_until(core, built_twice, NULL, 1000));
	tu_run_loop_ms(core, 250);
	ck_assert_int_eq(st.builds, 2);
	ck_assert_uint_eq(st.gen[0], 2);
	ck_assert_uint_eq(st.gen[1], 3);
}
END_TEST

START_TEST(test_build_now_cancels_holdoff)
{
	change();
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	ck_assert_int_eq(st.builds, 1);
	tu_run_loop_ms(core, 300);
	ck_assert_int_eq(st.builds, 1);
}
END_TEST

/* Sync --------------------------------------------------------------------- */

START_TEST(test_no_build_before_sync)
{
	contour_source_t *s2 = NULL;
	ck_assert_int_eq(contour_register_source(&m, "second", &s2), CONTOUR_EOK);
	ck_assert_int_eq(
	    contour_register_processor(&m, "count", CONTOUR_ORDER_PRIMARY, count_proc, NULL),
	    CONTOUR_EOK);
	for (int i = 0; i < 50; i++) {
		change();
		tu_run_loop_ms(core, 15);
	}
	tu_run_loop_ms(core, 600); /* past the cap */
	ck_assert_int_eq(st.builds, 0);
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_ESTATE);
	ck_assert_ptr_null(contour_snapshot_current(&m));

	contour_source_set_synced(src);
	tu_run_loop_ms(core, 600);
	ck_assert_int_eq(st.builds, 0);

	int64_t t = now();
	contour_source_set_synced(s2);
	ck_assert(tu_run_until(core, built_once, NULL, 2000));
	ck_assert_int_lt(st.at[0] - t, 100 + 100);
	tu_run_loop_ms(core, 600);
	ck_assert_int_eq(st.builds, 1);
	ck_assert_uint_eq(st.gen[0], 1);
	ck_assert_uint_eq(core_pipeline_builds(core->pipeline), 1);
}
END_TEST

/* Processors ----------------------------------------------------------------- */

static int named_proc(contour_snapshot_t *b, void *ud)
{
	trace(ud);
	return CONTOUR_EOK;
}

static int failing_proc(contour_snapshot_t *b, void *ud)
{
	trace(ud);
	return st.fail;
}

START_TEST(test_processor_order)
{
	contour_register_processor(&m, "a500", 500, named_proc, "a500");
	contour_register_processor(&m, "b100", 100, named_proc, "b100");
	contour_register_processor(&m, "c500", 500, named_proc, "c500");
	contour_register_processor(&m, "d900", 900, named_proc, "d900");
	contour_register_processor(&m, "e100", 100, named_proc, "e100");
	contour_register_processor(&m, "f-5", -5, named_proc, "f-5");
	contour_source_set_synced(src);
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	ck_assert_str_eq(st.trace, "f-5 b100 e100 a500 c500 d900 ");
}
END_TEST

START_TEST(test_failing_processor)
{
	contour_register_processor(&m, "first", 100, named_proc, "first");
	contour_register_processor(&m, "flaky", 200, failing_proc, "flaky");
	contour_register_processor(&m, "last", 300, named_proc, "last");
	contour_source_set_synced(src);
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	contour_snapshot_t *good = contour_snapshot_current(&m);
	ck_assert_uint_eq(contour_snapshot_generation(good), 1);

	st.fail = CONTOUR_EINVAL;
	st.trace[0] = '\0';
	tu_log_capture_start();
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EINVAL);
	ck_assert_str_eq(st.trace, "first flaky ");
	ck_assert_ptr_eq(contour_snapshot_current(&m), good);
	ck_assert_uint_eq(contour_snapshot_generation(contour_snapshot_current(&m)), 1);
	const char *log = tu_log_text();
	ck_assert_ptr_nonnull(strstr(log, "level=error"));
	ck_assert_ptr_nonnull(strstr(log, "flaky"));

	/* A failure does not use up a generation number. */
	st.fail = CONTOUR_EOK;
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	ck_assert_uint_eq(contour_snapshot_generation(contour_snapshot_current(&m)), 2);
}
END_TEST

/* Snapshots ------------------------------------------------------------------ */

static void count_free(void *data)
{
	st.freed++;
	free(data);
}

static int attach_proc(contour_snapshot_t *b, void *ud)
{
	uint64_t *gen = malloc(sizeof(*gen));
	ck_assert_ptr_nonnull(gen);
	*gen = contour_snapshot_generation(b);
	ck_assert_int_eq(contour_snapshot_attach(b, "gen", gen, count_free), CONTOUR_EOK);
	/* A duplicate name is refused and its data released at once. */
	int before = st.freed;
	ck_assert_int_eq(contour_snapshot_attach(b, "gen", malloc(4), count_free), CONTOUR_EEXIST);
	ck_assert_int_eq(st.freed, before + 1);
	ck_assert_ptr_eq(contour_snapshot_find(b, "gen"), gen);

	contour_object_key_t k = {"projectcontour.io/v1", "HTTPProxy", "ns", "p"};
	ck_assert_int_eq(
	    contour_snapshot_set_status_new(
	        b, &k, json_pack("{s:s, s:I}", "currentStatus", "valid", "gen", (json_int_t)*gen)),
	    CONTOUR_EOK);
	return CONTOUR_EOK;
}

START_TEST(test_held_snapshot)
{
	contour_register_processor(&m, "attach", 500, attach_proc, NULL);
	contour_source_set_synced(src);
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	ck_assert_int_eq(st.freed, 1); /* the refused duplicate */
	contour_snapshot_t *old = contour_snapshot_ref(contour_snapshot_current(&m));

	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	ck_assert_ptr_ne(contour_snapshot_current(&m), old);
	ck_assert_int_eq(st.freed, 2); /* only the second duplicate */

	/* The held snapshot still has what gen 1 attached and recorded. */
	ck_assert_uint_eq(contour_snapshot_generation(old), 1);
	uint64_t *g = contour_snapshot_find(old, "gen");
	ck_assert_ptr_nonnull(g);
	ck_assert_uint_eq(*g, 1);
	contour_object_key_t k = {"projectcontour.io/v1", "HTTPProxy", "ns", "p"};
	const json_t *status = contour_snapshot_status(old, &k);
	ck_assert_ptr_nonnull(status);
	ck_assert_int_eq(json_integer_value(json_object_get(status, "gen")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(
	                     contour_snapshot_status(contour_snapshot_current(&m), &k), "gen")),
	                 2);

	/* Sealed: no more attachments or statuses, and what was given is freed. */
	int before = st.freed;
	ck_assert_int_eq(contour_snapshot_attach(old, "late", malloc(4), count_free),
	                 CONTOUR_ESTATE);
	ck_assert_int_eq(st.freed, before + 1);
	ck_assert_int_eq(contour_snapshot_set_status_new(old, &k, json_object()), CONTOUR_ESTATE);
	ck_assert_ptr_null(contour_snapshot_find(old, "late"));

	/* The last unref frees gen 1's attachment, exactly once. */
	before = st.freed;
	contour_snapshot_ref(old);
	contour_snapshot_unref(old);
	ck_assert_int_eq(st.freed, before);
	contour_snapshot_unref(old);
	ck_assert_int_eq(st.freed, before + 1);
	contour_snapshot_unref(NULL);

	/* The core drops the current one on free. */
	core_free(core);
	core = NULL;
	ck_assert_int_eq(st.freed, before + 2);
}
END_TEST

typedef struct {
	char buf[512];
	int stop_after;
	int seen;
} swalk_t;

static int status_walk(const contour_object_key_t *k, const json_t *status, void *ud)
{
	swalk_t *w = ud;
	size_t len = strlen(w->buf);
	snprintf(w->buf + len, sizeof(w->buf) - len, "%s|%s|%s|%s=%d ", k->api_version, k->kind,
	         k->namespace_, k->name, (int)json_integer_value(status));
	return ++w->seen == w->stop_after;
}

START_TEST(test_snapshot_statuses)
{
	contour_snapshot_t *s = core_snapshot_new(NULL, 7);
	ck_assert_uint_eq(contour_snapshot_generation(s), 7);
	static const contour_object_key_t keys[] = {
	    {"v1", "Service", "b", "x"}, {"v1", "Secret", "a", "x"},  {"a/v1", "Thing", "", "x"},
	    {"v1", "Service", "a", "y"}, {"v1", "Service", "a", "x"}, {"v1", "Service", NULL, "z"},
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_int_eq(contour_snapshot_set_status_new(s, &keys[i], json_integer((int)i)),
		                 CONTOUR_EOK);
	/* The key strings are copied: a key from a temporary buffer works. */
	char ns[8] = "b", name[8] = "x";
	contour_object_key_t tmp = {"v1", "Service", ns, name};
	ck_assert_int_eq(contour_snapshot_set_status_new(s, &tmp, json_integer(40)), CONTOUR_EOK);
	strcpy(ns, "zz");
	ck_assert_int_eq(json_integer_value(contour_snapshot_status(s, &keys[0])), 40);

	/* Many more, to grow the table; then look the first ones up again. */
	for (int i = 0; i < 300; i++) {
		char n[16];
		snprintf(n, sizeof(n), "m%03d", i);
		contour_object_key_t k = {"v9", "Bulk", "ns", n};
		ck_assert_int_eq(contour_snapshot_set_status_new(s, &k, json_integer(i)),
		                 CONTOUR_EOK);
	}
	ck_assert_int_eq(json_integer_value(contour_snapshot_status(s, &keys[4])), 4);
	contour_object_key_t missing = {"v1", "Service", "a", "q"};
	ck_assert_ptr_null(contour_snapshot_status(s, &missing));

	core_snapshot_seal(s);
	swalk_t w = {.stop_after = 6};
	ck_assert_uint_eq(contour_snapshot_foreach_status(s, status_walk, &w), 6);
	ck_assert_str_eq(w.buf, "a/v1|Thing||x=2 v1|Secret|a|x=1 v1|Service||z=5 "
	                        "v1|Service|a|x=4 v1|Service|a|y=3 v1|Service|b|x=40 ");
	swalk_t all = {.stop_after = -1};
	ck_assert_uint_eq(contour_snapshot_foreach_status(s, status_walk, &all), 306);
	contour_snapshot_unref(s);
}
END_TEST

/* Observers ------------------------------------------------------------------ */

static void observer_a(contour_snapshot_t *snap, void *ud)
{
	trace("obsA");
	st.observed = snap;
	st.observed_gen = contour_snapshot_generation(snap);
	st.observed_count++;
	/* Already current, and sealed. */
	ck_assert_ptr_eq(contour_snapshot_current(&m), snap);
	ck_assert_int_eq(contour_snapshot_attach(snap, "x", NULL, NULL), CONTOUR_ESTATE);
}

static void observer_b(contour_snapshot_t *snap, void *ud)
{
	trace("obsB");
}

START_TEST(test_observers)
{
	contour_register_processor(&m, "p", 500, named_proc, "p");
	contour_register_processor(&m, "flaky", 600, failing_proc, "flaky");
	ck_assert_int_eq(contour_register_observer(&m, "b", observer_b, NULL), CONTOUR_EOK);
	ck_assert_int_eq(contour_register_observer(&m, "a", observer_a, NULL), CONTOUR_EOK);
	contour_source_set_synced(src);
	/* The sync schedules the first build through the hold-off. */
	ck_assert_int_eq(st.observed_count, 0);
	int64_t t = now();
	while (!st.observed_count && now() - t < 2000)
		tu_run_loop_ms(core, 10);
	ck_assert_int_eq(st.observed_count, 1);
	ck_assert_str_eq(st.trace, "p flaky obsB obsA ");
	ck_assert_ptr_eq(st.observed, contour_snapshot_current(&m));
	ck_assert_uint_eq(st.observed_gen, 1);

	/* No observer call for a failed build. */
	st.fail = CONTOUR_EIO;
	tu_log_capture_start();
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EIO);
	ck_assert_int_eq(st.observed_count, 1);
	st.fail = CONTOUR_EOK;
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	ck_assert_int_eq(st.observed_count, 2);
	ck_assert_uint_eq(st.observed_gen, 2);
}
END_TEST

/* Registration ---------------------------------------------------------------- */

static void noop_observer(contour_snapshot_t *snap, void *ud)
{
}

START_TEST(test_registration)
{
	ck_assert_int_eq(contour_register_processor(&m, "x", 1, named_proc, "x"), CONTOUR_EOK);
	ck_assert_int_eq(contour_register_processor(&m, "x", 2, named_proc, "x"), CONTOUR_EEXIST);
	ck_assert_int_eq(contour_register_observer(&m, "x", noop_observer, NULL), CONTOUR_EEXIST);
	ck_assert_int_eq(contour_register_observer(&m, "o", noop_observer, NULL), CONTOUR_EOK);
	ck_assert_int_eq(contour_register_processor(&m, "o", 2, named_proc, "o"), CONTOUR_EEXIST);
	ck_assert_int_eq(contour_register_processor(&m, "n", 2, NULL, NULL), CONTOUR_EINVAL);

	m.state = CORE_MOD_STARTED;
	tu_log_capture_start();
	ck_assert_int_eq(contour_register_processor(&m, "late", 1, named_proc, "late"),
	                 CONTOUR_ESTATE);
	ck_assert_int_eq(contour_register_observer(&m, "late", noop_observer, NULL),
	                 CONTOUR_ESTATE);
	ck_assert_ptr_nonnull(strstr(tu_log_text(), "contour_register_processor"));
	contour_source_set_synced(src);
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	ck_assert_str_eq(st.trace, "x ");
}
END_TEST

START_TEST(test_drop_module)
{
	contour_module_t other = {.core = core, .name = "o", .state = CORE_MOD_INITIALISING};
	contour_register_processor(&m, "m1", 1, named_proc, "m1");
	contour_register_processor(&other, "o1", 2, named_proc, "o1");
	contour_register_processor(&m, "m3", 3, named_proc, "m3");
	contour_register_observer(&other, "oobs", observer_b, NULL);
	contour_source_set_synced(src);
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	ck_assert_str_eq(st.trace, "m1 o1 m3 obsB ");

	core_pipeline_drop_module(core->pipeline, &other);
	/* Its code may be unloaded next: the snapshot it fed is released. */
	ck_assert_ptr_null(contour_snapshot_current(&m));
	st.trace[0] = '\0';
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	ck_assert_str_eq(st.trace, "m1 m3 ");
	ck_assert_uint_eq(contour_snapshot_generation(contour_snapshot_current(&m)), 2);
	/* The names are free again. */
	ck_assert_int_eq(contour_register_observer(&m, "oobs", observer_b, NULL), CONTOUR_EOK);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("holdoff");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup_synced, teardown);
	tcase_add_test(tc, test_burst_coalesces);
	tcase_add_test(tc, test_steady_changes_still_build);
	tcase_add_test(tc, test_holdoff_settings);
	tcase_add_test(tc, test_holdoff_max_settings);
	tcase_add_test(tc, test_build_request);
	tcase_add_test(tc, test_request_during_build);
	tcase_add_test(tc, test_build_now_cancels_holdoff);
	suite_add_tcase(s, tc);

	tc = tcase_create("builds");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_no_build_before_sync);
	tcase_add_test(tc, test_processor_order);
	tcase_add_test(tc, test_failing_processor);
	tcase_add_test(tc, test_held_snapshot);
	tcase_add_test(tc, test_snapshot_statuses);
	tcase_add_test(tc, test_observers);
	tcase_add_test(tc, test_registration);
	tcase_add_test(tc, test_drop_module);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
