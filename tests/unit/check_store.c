/* tests/unit/check_store.c: the object store. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/store_intern.h"
#include "tests/unit/testutil.h"

static core_t *core;
static contour_module_t m;
static contour_source_t *src;
static int hooks;
static char events[4096];

static void hook_cb(void *ud)
{
	(*(int *)ud)++;
}

static void setup(void)
{
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	m = (contour_module_t){.core = core, .name = "t", .state = CORE_MOD_INITIALISING};
	ck_assert_int_eq(contour_register_source(&m, "src", &src), CONTOUR_EOK);
	hooks = 0;
	events[0] = '\0';
	core_store_set_change_hook(core->store, hook_cb, &hooks);
}

static void teardown(void)
{
	tu_log_capture_stop();
	core_free(core);
	core = NULL;
}

/* An object with a `spec.v` that tells versions apart. */
static json_t *obj(const char *api, const char *kind, const char *ns, const char *name, int v)
{
	json_t *o = json_pack("{s:s, s:s, s:{s:s}, s:{s:i}}", "apiVersion", api, "kind", kind,
	                      "metadata", "name", name, "spec", "v", v);
	ck_assert_ptr_nonnull(o);
	if (ns)
		json_object_set_new(json_object_get(o, "metadata"), "namespace", json_string(ns));
	return o;
}

static contour_object_key_t key(const char *api, const char *kind, const char *ns, const char *name)
{
	return (contour_object_key_t){
	    .api_version = api, .kind = kind, .namespace_ = ns, .name = name};
}

static int spec_v(const json_t *o)
{
	return (int)json_integer_value(json_object_get(json_object_get(o, "spec"), "v"));
}

/* Appends "TAG:EV:name(old->new);" to `events`. */
static void record(const char *tag, contour_store_event_t ev, const json_t *old_obj,
                   const json_t *new_obj)
{
	static const char *names[] = {"add", "update", "delete"};
	const json_t *o = new_obj ? new_obj : old_obj;
	const char *name =
	    json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
	size_t len = strlen(events);
	snprintf(events + len, sizeof(events) - len, "%s:%s:%s(%d->%d);", tag, names[ev], name,
	         old_obj ? spec_v(old_obj) : -1, new_obj ? spec_v(new_obj) : -1);
}

static void watch_cb(contour_store_event_t ev, const json_t *old_obj, const json_t *new_obj,
                     void *ud)
{
	record(ud, ev, old_obj, new_obj);
}

/* Keys ------------------------------------------------------------------- */

START_TEST(test_key_of)
{
	contour_object_key_t k;
	const char *what = NULL;
	json_t *o = obj("v1", "Service", "default", "web", 1);
	ck_assert_int_eq(contour_object_key_of(o, &k, &what), CONTOUR_EOK);
	ck_assert_str_eq(k.api_version, "v1");
	ck_assert_str_eq(k.kind, "Service");
	ck_assert_str_eq(k.namespace_, "default");
	ck_assert_str_eq(k.name, "web");
	json_decref(o);

	o = obj("v1", "Namespace", NULL, "prod", 1);
	ck_assert_int_eq(contour_object_key_of(o, &k, &what), CONTOUR_EOK);
	ck_assert_str_eq(k.namespace_, "");
	json_decref(o);
}
END_TEST

START_TEST(test_key_of_errors)
{
	static const struct {
		const char *json;
		const char *what;
	} cases[] = {
	    {"{\"kind\":\"Service\",\"metadata\":{\"name\":\"a\"}}", "apiVersion"},
	    {"{\"apiVersion\":\"\",\"kind\":\"Service\",\"metadata\":{\"name\":\"a\"}}",
	     "apiVersion"},
	    {"{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\"}}", "kind"},
	    {"{\"apiVersion\":\"v1\",\"kind\":7,\"metadata\":{\"name\":\"a\"}}", "kind"},
	    {"{\"apiVersion\":\"v1\",\"kind\":\"Service\"}", "metadata.name"},
	    {"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"\"}}",
	     "metadata.name"},
	    {"{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":3}}",
	     "metadata.name"},
	    {"[1,2]", "apiVersion"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *o = json_loads(cases[i].json, 0, NULL);
		ck_assert_ptr_nonnull(o);
		contour_object_key_t k;
		const char *what = NULL;
		ck_assert_int_eq(contour_object_key_of(o, &k, &what), CONTOUR_EINVAL);
		ck_assert_msg(what && !strcmp(what, cases[i].what), "case %zu: what=%s, want %s", i,
		              what ? what : "(null)", cases[i].what);
		/* The store refuses it too, and still takes the reference. */
		ck_assert_int_eq(contour_store_put_new(src, o), CONTOUR_EINVAL);
	}
	ck_assert_uint_eq(contour_store_count(&m, NULL, NULL), 0);
	ck_assert_int_eq(hooks, 0);
}
END_TEST

/* Put, get, delete ------------------------------------------------------- */

START_TEST(test_put_get_delete)
{
	contour_object_key_t k = key("v1", "Service", "default", "web");
	ck_assert_ptr_null(contour_store_get(&m, &k));
	ck_assert_int_eq(contour_store_put_new(src, obj("v1", "Service", "default", "web", 1)),
	                 CONTOUR_EOK);
	ck_assert_int_eq(contour_store_put_new(src, obj("v1", "Service", "other", "web", 2)),
	                 CONTOUR_EOK);
	ck_assert_int_eq(contour_store_put_new(src, obj("v1", "Secret", "default", "web", 3)),
	                 CONTOUR_EOK);
	ck_assert_int_eq(hooks, 3);

	const json_t *got = contour_store_get(&m, &k);
	ck_assert_ptr_nonnull(got);
	ck_assert_int_eq(spec_v(got), 1);
	contour_object_key_t k2 = key("v1", "Service", "other", "web");
	ck_assert_int_eq(spec_v(contour_store_get(&m, &k2)), 2);
	contour_object_key_t k3 = key("v1", "Secret", "default", "web");
	ck_assert_int_eq(spec_v(contour_store_get(&m, &k3)), 3);
	contour_object_key_t k4 = key("v2", "Service", "default", "web");
	ck_assert_ptr_null(contour_store_get(&m, &k4));

	/* Replace. */
	ck_assert_int_eq(contour_store_put_new(src, obj("v1", "Service", "default", "web", 9)),
	                 CONTOUR_EOK);
	ck_assert_int_eq(spec_v(contour_store_get(&m, &k)), 9);
	ck_assert_uint_eq(contour_store_count(&m, "v1", "Service"), 2);
	ck_assert_int_eq(hooks, 4);

	ck_assert_int_eq(contour_store_delete(src, &k), CONTOUR_EOK);
	ck_assert_ptr_null(contour_store_get(&m, &k));
	ck_assert_int_eq(contour_store_delete(src, &k), CONTOUR_ENOENT);
	ck_assert_int_eq(contour_store_delete(src, &k4), CONTOUR_ENOENT);
	ck_assert_int_eq(spec_v(contour_store_get(&m, &k2)), 2);
	ck_assert_uint_eq(contour_store_count(&m, NULL, NULL), 2);
	ck_assert_int_eq(hooks, 5);
}
END_TEST

START_TEST(test_cluster_scoped)
{
	ck_assert_int_eq(contour_store_put_new(src, obj("v1", "Namespace", NULL, "prod", 1)),
	                 CONTOUR_EOK);
	/* "" and NULL both mean cluster-scoped. */
	contour_object_key_t k = key("v1", "Namespace", "", "prod");
	ck_assert_ptr_nonnull(contour_store_get(&m, &k));
	k.namespace_ = NULL;
	ck_assert_ptr_nonnull(contour_store_get(&m, &k));
	ck_assert_int_eq(contour_store_delete(src, &k), CONTOUR_EOK);
	ck_assert_uint_eq(contour_store_count(&m, NULL, NULL), 0);
}
END_TEST

START_TEST(test_many)
{
	/* Enough objects to grow the hash tables several times. */
	char name[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "obj-%d", i);
		ck_assert_int_eq(
		    contour_store_put_new(src, obj("v1", "ConfigMap", i % 2 ? "a" : "b", name, i)),
		    CONTOUR_EOK);
	}
	ck_assert_uint_eq(contour_store_count(&m, "v1", "ConfigMap"), 5000);
	for (int i = 0; i < 5000; i += 7) {
		snprintf(name, sizeof(name), "obj-%d", i);
		contour_object_key_t k = key("v1", "ConfigMap", i % 2 ? "a" : "b", name);
		const json_t *o = contour_store_get(&m, &k);
		ck_assert_ptr_nonnull(o);
		ck_assert_int_eq(spec_v(o), i);
		k.namespace_ = i % 2 ? "b" : "a";
		ck_assert_ptr_null(contour_store_get(&m, &k));
	}
}
END_TEST

START_TEST(test_strip)
{
	json_t *o = obj("projectcontour.io/v1", "HTTPProxy", "default", "p", 1);
	json_t *meta = json_object_get(o, "metadata");
	json_object_set_new(meta, "managedFields", json_pack("[{s:s}]", "manager", "kubectl"));
	json_object_set_new(meta, "annotations",
	                    json_pack("{s:s, s:s}",
	                              "kubectl.kubernetes.io/last-applied-configuration",
	                              "{\"huge\":true}", "keep/me", "yes"));
	json_object_set_new(meta, "labels", json_pack("{s:s}", "app", "web"));
	ck_assert_int_eq(contour_store_put_new(src, o), CONTOUR_EOK);

	contour_object_key_t k = key("projectcontour.io/v1", "HTTPProxy", "default", "p");
	const json_t *got = contour_store_get(&m, &k);
	const json_t *gm = json_object_get(got, "metadata");
	ck_assert_ptr_null(json_object_get(gm, "managedFields"));
	const json_t *ann = json_object_get(gm, "annotations");
	ck_assert_ptr_nonnull(ann);
	ck_assert_ptr_null(
	    json_object_get(ann, "kubectl.kubernetes.io/last-applied-configuration"));
	ck_assert_str_eq(json_string_value(json_object_get(ann, "keep/me")), "yes");
	ck_assert_uint_eq(json_object_size(ann), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(gm, "labels"), "app")),
	                 "web");
}
END_TEST

START_TEST(test_equal_put_is_noop)
{
	ck_assert_int_eq(contour_store_subscribe(&m, NULL, NULL, watch_cb, "all"), CONTOUR_EOK);
	ck_assert_int_eq(contour_store_put_new(src, obj("v1", "Service", "ns", "a", 1)),
	                 CONTOUR_EOK);
	ck_assert_int_eq(hooks, 1);
	ck_assert_str_eq(events, "all:add:a(-1->1);");
	contour_object_key_t k = key("v1", "Service", "ns", "a");
	const json_t *before = contour_store_get(&m, &k);

	/* Equal, and equal once the noise fields are stripped. */
	ck_assert_int_eq(contour_store_put_new(src, obj("v1", "Service", "ns", "a", 1)),
	                 CONTOUR_EOK);
	json_t *o = obj("v1", "Service", "ns", "a", 1);
	json_object_set_new(json_object_get(o, "metadata"), "managedFields", json_array());
	ck_assert_int_eq(contour_store_put_new(src, o), CONTOUR_EOK);

	ck_assert_int_eq(hooks, 1);
	ck_assert_str_eq(events, "all:add:a(-1->1);");
	/* The stored object was kept, not swapped for the equal one. */
	ck_assert_ptr_eq(contour_store_get(&m, &k), before);
}
END_TEST

/* Subscriptions ------------------------------------------------------------ */

START_TEST(test_subscriptions)
{
	ck_assert_int_eq(contour_store_subscribe(&m, NULL, NULL, watch_cb, "any"), CONTOUR_EOK);
	ck_assert_int_eq(contour_store_subscribe(&m, "v1", NULL, watch_cb, "v1"), CONTOUR_EOK);
	ck_assert_int_eq(contour_store_subscribe(&m, NULL, "Service", watch_cb, "svc"),
	                 CONTOUR_EOK);
	ck_assert_int_eq(contour_store_subscribe(&m, "v1", "Secret", watch_cb, "sec"), CONTOUR_EOK);
	ck_assert_int_eq(contour_store_subscribe(&m, "x/v1", "Service", watch_cb, "xsvc"),
	                 CONTOUR_EOK);

	contour_store_put_new(src, obj("v1", "Service", "ns", "s", 1));
	ck_assert_str_eq(events, "any:add:s(-1->1);v1:add:s(-1->1);svc:add:s(-1->1);");
	events[0] = '\0';
	contour_store_put_new(src, obj("v1", "Service", "ns", "s", 2));
	ck_assert_str_eq(events, "any:update:s(1->2);v1:update:s(1->2);svc:update:s(1->2);");
	events[0] = '\0';
	contour_store_put_new(src, obj("v1", "Secret", "ns", "c", 3));
	ck_assert_str_eq(events, "any:add:c(-1->3);v1:add:c(-1->3);sec:add:c(-1->3);");
	events[0] = '\0';
	contour_store_put_new(src, obj("x/v1", "Service", "ns", "t", 4));
	ck_assert_str_eq(events, "any:add:t(-1->4);svc:add:t(-1->4);xsvc:add:t(-1->4);");
	events[0] = '\0';
	contour_object_key_t k = key("v1", "Service", "ns", "s");
	ck_assert_int_eq(contour_store_delete(src, &k), CONTOUR_EOK);
	ck_assert_str_eq(events, "any:delete:s(2->-1);v1:delete:s(2->-1);svc:delete:s(2->-1);");
	ck_assert_int_eq(hooks, 5);
}
END_TEST

/* The hook runs after the subscribers: a build it schedules sees the
 * subscribers' effects. */
static void order_hook(void *ud)
{
	size_t len = strlen(events);
	snprintf(events + len, sizeof(events) - len, "hook;");
}

START_TEST(test_hook_after_subscribers)
{
	core_store_set_change_hook(core->store, order_hook, NULL);
	ck_assert_int_eq(contour_store_subscribe(&m, NULL, NULL, watch_cb, "a"), CONTOUR_EOK);
	contour_store_put_new(src, obj("v1", "Service", "ns", "s", 1));
	ck_assert_str_eq(events, "a:add:s(-1->1);hook;");
}
END_TEST

/* Walks -------------------------------------------------------------------- */

typedef struct {
	char buf[1024];
	int stop_after;
	int seen;
} walk_t;

static int walk_cb(const json_t *o, void *ud)
{
	walk_t *w = ud;
	const json_t *meta = json_object_get(o, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	size_t len = strlen(w->buf);
	snprintf(w->buf + len, sizeof(w->buf) - len, "%s/%s ", ns ? ns : "",
	         json_string_value(json_object_get(meta, "name")));
	return ++w->seen == w->stop_after;
}

START_TEST(test_foreach_order)
{
	static const char *const objs[][2] = {
	    {"b", "z"}, {"a", "y"}, {"B", "x"}, {"a", "a"}, {"a", "B"}, {NULL, "c"}, {"b", "a"},
	};
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		contour_store_put_new(src, obj("v1", "Service", objs[i][0], objs[i][1], (int)i));
	contour_store_put_new(src, obj("v1", "Secret", "a", "0", 0));

	walk_t w = {.stop_after = -1};
	ck_assert_uint_eq(contour_store_foreach(&m, "v1", "Service", walk_cb, &w), 7);
	/* Byte order: "" < "B" < "a" < "b". */
	ck_assert_str_eq(w.buf, "/c B/x a/B a/a a/y b/a b/z ");

	/* A second walk over an unchanged kind gives the same answer. */
	walk_t w2 = {.stop_after = -1};
	contour_store_foreach(&m, "v1", "Service", walk_cb, &w2);
	ck_assert_str_eq(w2.buf, w.buf);

	/* An add and a delete are reflected in the next walk. */
	contour_store_put_new(src, obj("v1", "Service", "a", "m", 1));
	contour_object_key_t k = key("v1", "Service", "b", "a");
	ck_assert_int_eq(contour_store_delete(src, &k), CONTOUR_EOK);
	/* A replacement keeps the index and shows the new object. */
	contour_store_put_new(src, obj("v1", "Service", "B", "x", 77));
	walk_t w3 = {.stop_after = -1};
	ck_assert_uint_eq(contour_store_foreach(&m, "v1", "Service", walk_cb, &w3), 7);
	ck_assert_str_eq(w3.buf, "/c B/x a/B a/a a/m a/y b/z ");
	contour_object_key_t kx = key("v1", "Service", "B", "x");
	ck_assert_int_eq(spec_v(contour_store_get(&m, &kx)), 77);

	/* Unknown kind, or a kind that is only a prefix. */
	walk_t w4 = {.stop_after = -1};
	ck_assert_uint_eq(contour_store_foreach(&m, "v1", "Serv", walk_cb, &w4), 0);
	ck_assert_uint_eq(contour_store_foreach(&m, "v2", "Service", walk_cb, &w4), 0);
	ck_assert_str_eq(w4.buf, "");
}
END_TEST

START_TEST(test_foreach_early_stop)
{
	for (int i = 0; i < 10; i++) {
		char name[8];
		snprintf(name, sizeof(name), "n%d", i);
		contour_store_put_new(src, obj("v1", "Service", "ns", name, i));
	}
	walk_t w = {.stop_after = 3};
	ck_assert_uint_eq(contour_store_foreach(&m, "v1", "Service", walk_cb, &w), 3);
	ck_assert_str_eq(w.buf, "ns/n0 ns/n1 ns/n2 ");
}
END_TEST

START_TEST(test_counts)
{
	contour_store_put_new(src, obj("v1", "Service", "a", "1", 0));
	contour_store_put_new(src, obj("v1", "Service", "b", "1", 0));
	contour_store_put_new(src, obj("v1", "Secret", "a", "1", 0));
	contour_store_put_new(src, obj("x/v1", "Service", "a", "1", 0));
	contour_store_put_new(src, obj("x/v1", "Thing", "a", "1", 0));
	ck_assert_uint_eq(contour_store_count(&m, NULL, NULL), 5);
	ck_assert_uint_eq(contour_store_count(&m, "v1", NULL), 3);
	ck_assert_uint_eq(contour_store_count(&m, NULL, "Service"), 3);
	ck_assert_uint_eq(contour_store_count(&m, "v1", "Service"), 2);
	ck_assert_uint_eq(contour_store_count(&m, "x/v1", "Thing"), 1);
	ck_assert_uint_eq(contour_store_count(&m, "v9", NULL), 0);
	contour_object_key_t k = key("v1", "Secret", "a", "1");
	contour_store_delete(src, &k);
	ck_assert_uint_eq(contour_store_count(&m, "v1", NULL), 2);
	ck_assert_uint_eq(contour_store_count(&m, "v1", "Secret"), 0);
}
END_TEST

/* Sources -------------------------------------------------------------------- */

START_TEST(test_sources_synced)
{
	contour_source_t *s2 = NULL, *dup = NULL;
	ck_assert_int_eq(contour_register_source(&m, "second", &s2), CONTOUR_EOK);
	ck_assert_int_eq(contour_register_source(&m, "src", &dup), CONTOUR_EEXIST);
	ck_assert_ptr_null(dup);
	ck_assert(!core_store_all_synced(core->store));

	tu_log_capture_start();
	contour_source_set_synced(src);
	ck_assert_int_eq(hooks, 1);
	ck_assert(!core_store_all_synced(core->store));
	contour_source_set_synced(src); /* harmless, no second line or hook */
	ck_assert_int_eq(hooks, 1);
	contour_source_set_synced(s2);
	ck_assert_int_eq(hooks, 2);
	ck_assert(core_store_all_synced(core->store));

	const char *log = tu_log_text();
	const char *first = strstr(log, "source src synced");
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_null(strstr(first + 1, "source src synced"));
	ck_assert_ptr_nonnull(strstr(log, "source second synced"));
	ck_assert_ptr_nonnull(strstr(log, "info"));
}
END_TEST

START_TEST(test_no_sources_is_synced)
{
	core_t *c = core_new(NULL);
	ck_assert(core_store_all_synced(c->store));
	core_free(c);
}
END_TEST

START_TEST(test_register_only_in_init)
{
	contour_source_t *s2 = NULL;
	m.state = CORE_MOD_STARTED;
	tu_log_capture_start();
	ck_assert_int_eq(contour_register_source(&m, "late", &s2), CONTOUR_ESTATE);
	ck_assert_int_eq(contour_store_subscribe(&m, NULL, NULL, watch_cb, "late"), CONTOUR_ESTATE);
	contour_store_put_new(src, obj("v1", "Service", "ns", "s", 1));
	ck_assert_str_eq(events, "");
	/* The late source was not registered: a sync of the first is enough. */
	contour_source_set_synced(src);
	ck_assert(core_store_all_synced(core->store));
	/* The core may always register. */
	ck_assert_int_eq(contour_register_source(&core->self, "core-src", &s2), CONTOUR_EOK);
}
END_TEST

START_TEST(test_drop_module)
{
	contour_module_t other = {.core = core, .name = "o", .state = CORE_MOD_INITIALISING};
	contour_source_t *osrc = NULL;
	ck_assert_int_eq(contour_register_source(&other, "osrc", &osrc), CONTOUR_EOK);
	ck_assert_int_eq(contour_store_subscribe(&m, NULL, NULL, watch_cb, "m1"), CONTOUR_EOK);
	ck_assert_int_eq(contour_store_subscribe(&other, NULL, NULL, watch_cb, "o"), CONTOUR_EOK);
	ck_assert_int_eq(contour_store_subscribe(&m, NULL, NULL, watch_cb, "m2"), CONTOUR_EOK);
	contour_store_put_new(osrc, obj("v1", "Service", "ns", "s", 1));
	ck_assert_str_eq(events, "m1:add:s(-1->1);o:add:s(-1->1);m2:add:s(-1->1);");
	contour_source_set_synced(src);
	ck_assert(!core_store_all_synced(core->store));

	core_store_drop_module(core->store, &other);
	/* Its unsynced source no longer holds builds back; its object stays. */
	ck_assert(core_store_all_synced(core->store));
	contour_object_key_t k = key("v1", "Service", "ns", "s");
	ck_assert_ptr_nonnull(contour_store_get(&m, &k));
	/* Its subscription is gone, the others keep their order. */
	events[0] = '\0';
	contour_store_put_new(src, obj("v1", "Service", "ns", "s", 2));
	ck_assert_str_eq(events, "m1:update:s(1->2);m2:update:s(1->2);");
	/* Its source name is free again. */
	ck_assert_int_eq(contour_register_source(&m, "osrc", &osrc), CONTOUR_EOK);
}
END_TEST

START_TEST(test_bad_args)
{
	ck_assert_int_eq(contour_store_put_new(NULL, obj("v1", "S", "n", "a", 1)), CONTOUR_EINVAL);
	ck_assert_int_eq(contour_store_put_new(src, NULL), CONTOUR_EINVAL);
	contour_object_key_t k = key("v1", "S", "n", NULL);
	ck_assert_int_eq(contour_store_delete(src, &k), CONTOUR_EINVAL);
	ck_assert_ptr_null(contour_store_get(&m, &k));
	contour_source_t *s2;
	ck_assert_int_eq(contour_register_source(&m, "", &s2), CONTOUR_EINVAL);
	ck_assert_int_eq(contour_store_subscribe(&m, NULL, NULL, NULL, NULL), CONTOUR_EINVAL);
}
END_TEST

/* Shared subtrees ---------------------------------------------------------- */

/* A Service-like object: name, namespace and port vary; the labels, the
 * selector and the rest of the spec are the same for every port. */
static json_t *svc(const char *ns, const char *name, int port)
{
	json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}},"
	                      " s:{s:s, s:[{s:s, s:i, s:s, s:f}], s:{s:s}, s:b, s:n, s:[], s:{}}}",
	                      "apiVersion", "v1", "kind", "Service", "metadata", "name", name,
	                      "namespace", ns, "labels", "app", "web", "tier", "frontend", "spec",
	                      "type", "ClusterIP", "ports", "protocol", "TCP", "port", port, "name",
	                      "http", "weight", 0.5, "selector", "app", "web",
	                      "publishNotReadyAddresses", 0, "clusterIP", "ipFamilies", "extra");
	ck_assert_ptr_nonnull(o);
	return o;
}

static const json_t *path(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);
	return b ? json_object_get(v, b) : v;
}

static const json_t *get(const char *ns, const char *name)
{
	contour_object_key_t k = key("v1", "Service", ns, name);
	const json_t *o = contour_store_get(&m, &k);
	ck_assert_msg(o != NULL, "%s/%s missing", ns, name);
	return o;
}

static size_t intern_count(void)
{
	return store_intern_count(core_store_intern_table(core->store));
}

START_TEST(test_intern_shares_subtrees)
{
	ck_assert_int_eq(contour_store_put_new(src, svc("ns1", "a", 80)), CONTOUR_EOK);
	ck_assert_int_eq(contour_store_put_new(src, svc("ns2", "b", 80)), CONTOUR_EOK);
	ck_assert_int_eq(contour_store_put_new(src, svc("ns1", "c", 81)), CONTOUR_EOK);
	const json_t *a = get("ns1", "a"), *b = get("ns2", "b"), *c = get("ns1", "c");
	ck_assert_ptr_ne(a, b);
	/* Equal subtrees are one value; parents of a difference are not. */
	ck_assert_ptr_eq(path(a, "spec", NULL), path(b, "spec", NULL));
	ck_assert_ptr_ne(path(a, "spec", NULL), path(c, "spec", NULL));
	ck_assert_ptr_eq(path(a, "metadata", "labels"), path(c, "metadata", "labels"));
	ck_assert_ptr_eq(path(a, "spec", "selector"), path(c, "spec", "selector"));
	ck_assert_ptr_ne(path(a, "metadata", NULL), path(b, "metadata", NULL));
	/* Leaves too, wherever they sit. */
	ck_assert_ptr_eq(path(a, "metadata", "namespace"), path(c, "metadata", "namespace"));
	ck_assert_ptr_eq(path(path(a, "metadata", "labels"), "app", NULL),
	                 path(path(a, "spec", "selector"), "app", NULL));
	const json_t *pa = json_array_get(path(a, "spec", "ports"), 0);
	const json_t *pc = json_array_get(path(c, "spec", "ports"), 0);
	ck_assert_ptr_ne(pa, pc);
	ck_assert_ptr_eq(json_object_get(pa, "protocol"), json_object_get(pc, "protocol"));
	/* The store's keys still resolve (the node's strings were retaken
	 * from the interned object: ASan would see a stale one). */
	ck_assert_str_eq(json_string_value(path(c, "metadata", "namespace")), "ns1");
	ck_assert_uint_eq(contour_store_count(&m, "v1", "Service"), 3);
}
END_TEST

START_TEST(test_intern_content_unchanged)
{
	json_t *copies[4];
	const char *names[] = {"a", "b", "c", "d"};
	for (int i = 0; i < 4; i++) {
		json_t *o = svc(i % 2 ? "x" : "y", names[i], 80 + i % 2);
		/* The same keys in another order, and values that only look
		 * alike: 1 and 1.0, "1" and 1, an empty array and object. */
		json_object_set_new(
		    o, "data",
		    json_pack("{s:i, s:f, s:s, s:[], s:{}, s:{s:i, s:i}, s:[i, i, s]}", "one", 1,
		              "onef", 1.0, "ones", "1", "ea", "eo", "ab", "a", 1, "b", 2, "list", i,
		              1, "x"));
		if (i == 3)
			json_object_set_new(json_object_get(o, "data"), "ab",
			                    json_pack("{s:i, s:i}", "b", 2, "a", 1));
		json_object_set_new(o, "blob", json_stringn("a\0b", 3));
		copies[i] = json_deep_copy(o);
		ck_assert_int_eq(contour_store_put_new(src, o), CONTOUR_EOK);
	}
	for (int i = 0; i < 4; i++) {
		const json_t *o = get(i % 2 ? "x" : "y", names[i]);
		ck_assert_msg(json_equal(o, copies[i]), "object %d changed", i);
		/* json_equal ignores the difference between these two. */
		const json_t *data = json_object_get(o, "data");
		ck_assert(json_is_integer(json_object_get(data, "one")));
		ck_assert(json_is_real(json_object_get(data, "onef")));
		ck_assert_uint_eq(json_string_length(json_object_get(o, "blob")), 3);
		json_decref(copies[i]);
	}
	const json_t *d0 = json_object_get(get("y", "a"), "data");
	const json_t *d3 = json_object_get(get("x", "d"), "data");
	ck_assert_ptr_ne(json_object_get(d0, "one"), json_object_get(d0, "onef"));
	ck_assert_ptr_ne(json_object_get(d0, "one"), json_object_get(d0, "ones"));
	ck_assert_ptr_eq(json_object_get(d0, "ea"), json_object_get(d3, "ea"));
	ck_assert_ptr_ne(json_object_get(d0, "ea"), json_object_get(d0, "eo"));
	/* The reordered object is equal to the first one whatever its
	 * pointer, and its own leaves are shared. */
	ck_assert(json_equal(json_object_get(d0, "ab"), json_object_get(d3, "ab")));
	ck_assert_ptr_eq(json_object_get(json_object_get(d0, "ab"), "a"),
	                 json_object_get(json_object_get(d3, "ab"), "a"));
}
END_TEST

/* Deleting and replacing objects: the table gives back what only it holds. */
START_TEST(test_intern_sweep)
{
	char name[32];
	ck_assert_uint_eq(intern_count(), 0);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "s-%d", i);
		ck_assert_int_eq(contour_store_put_new(src, svc("ns", name, 8000 + i % 10)),
		                 CONTOUR_EOK);
	}
	size_t full = intern_count();
	/* Per object: its name, its ports array and entry, spec, metadata;
	 * shared: ns, labels, selector, "web", ... */
	ck_assert_uint_gt(full, 200);
	ck_assert_uint_lt(full, 200 * 3 + 50);

	/* A holder's own reference keeps a value out of the sweep. */
	json_t *held = json_incref((json_t *)path(get("ns", "s-5"), "spec", NULL));
	json_t *held_copy = json_deep_copy(held);

	/* Delete every object whose port ends in 5..9: their specs and ports
	 * become garbage, the rest stays. */
	for (int i = 0; i < 200; i++) {
		if (i % 10 < 5)
			continue;
		snprintf(name, sizeof(name), "s-%d", i);
		contour_object_key_t k = key("v1", "Service", "ns", name);
		ck_assert_int_eq(contour_store_delete(src, &k), CONTOUR_EOK);
	}
	store_intern_sweep(core_store_intern_table(core->store));
	size_t half = intern_count();
	ck_assert_uint_lt(half, full);
	ck_assert_uint_gt(half, 100);
	ck_assert(json_equal(held, held_copy));
	for (int i = 0; i < 200; i += 10) {
		snprintf(name, sizeof(name), "s-%d", i);
		json_t *want = svc("ns", name, 8000);
		ck_assert(json_equal(get("ns", name), want));
		json_decref(want);
	}

	/* Without being asked, deleting the rest sweeps everything but the
	 * held spec and what is below it. */
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "s-%d", i);
		contour_object_key_t k = key("v1", "Service", "ns", name);
		contour_store_delete(src, &k);
	}
	ck_assert_uint_eq(contour_store_count(&m, NULL, NULL), 0);
	size_t left = intern_count();
	ck_assert_uint_gt(left, 0);
	ck_assert_uint_lt(left, 20);
	ck_assert(json_equal(held, held_copy));
	json_decref(held);
	json_decref(held_copy);
	ck_assert_uint_eq(store_intern_sweep(core_store_intern_table(core->store)), left);
	ck_assert_uint_eq(intern_count(), 0);
}
END_TEST

/* After replacements and a sweep, the table is what the new objects alone
 * would have made. */
START_TEST(test_intern_replace_sweep)
{
	char name[32];
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "s-%d", i);
		contour_store_put_new(src, svc("ns", name, 1000 + i));
	}
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "s-%d", i);
		contour_store_put_new(src, svc("ns", name, 2000 + i));
		ck_assert_int_eq(
		    json_integer_value(json_object_get(
		        json_array_get(path(get("ns", name), "spec", "ports"), 0), "port")),
		    2000 + i);
	}
	ck_assert_int_eq(hooks, 100);
	store_intern_sweep(core_store_intern_table(core->store));
	size_t after = intern_count();

	core_t *fresh = core_new(NULL);
	contour_module_t fm = {.core = fresh, .name = "f", .state = CORE_MOD_INITIALISING};
	contour_source_t *fsrc;
	ck_assert_int_eq(contour_register_source(&fm, "src", &fsrc), CONTOUR_EOK);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "s-%d", i);
		contour_store_put_new(fsrc, svc("ns", name, 2000 + i));
	}
	ck_assert_uint_eq(store_intern_count(core_store_intern_table(fresh->store)), after);
	core_free(fresh);

	/* The swept slots are reused; lookups still find what lies past them. */
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "n-%d", i);
		contour_store_put_new(src, svc("ns", name, 1000 + i));
		snprintf(name, sizeof(name), "s-%d", i);
		json_t *o = svc("ns", name, 2000 + i);
		ck_assert_int_eq(contour_store_put_new(src, json_deep_copy(o)), CONTOUR_EOK);
		ck_assert(json_equal(get("ns", name), o));
		json_decref(o);
	}
	ck_assert_int_eq(hooks, 150);
	const json_t *a = get("ns", "n-7"), *b = get("ns", "s-7");
	ck_assert_ptr_eq(path(a, "metadata", "labels"), path(b, "metadata", "labels"));
	ck_assert_ptr_eq(path(a, "metadata", "namespace"), path(b, "metadata", "namespace"));
}
END_TEST

START_TEST(test_intern_equal_put_is_noop)
{
	ck_assert_int_eq(contour_store_subscribe(&m, NULL, NULL, watch_cb, "all"), CONTOUR_EOK);
	ck_assert_int_eq(contour_store_put_new(src, svc("ns", "a", 80)), CONTOUR_EOK);
	const json_t *before = get("ns", "a");
	const json_t *spec = path(before, "spec", NULL);
	size_t n = intern_count();
	/* Equal, with the top-level keys in another order. */
	json_t *o = svc("ns", "a", 80);
	json_t *re = json_object();
	json_object_set(re, "spec", json_object_get(o, "spec"));
	json_object_set(re, "metadata", json_object_get(o, "metadata"));
	json_object_set(re, "kind", json_object_get(o, "kind"));
	json_object_set(re, "apiVersion", json_object_get(o, "apiVersion"));
	json_decref(o);
	ck_assert_int_eq(contour_store_put_new(src, re), CONTOUR_EOK);
	ck_assert_int_eq(hooks, 1);
	ck_assert_str_eq(events, "all:add:a(-1->0);");
	ck_assert_ptr_eq(get("ns", "a"), before);
	ck_assert_ptr_eq(path(before, "spec", NULL), spec);
	ck_assert_uint_eq(intern_count(), n);
}
END_TEST

/* The same objects make the same table, in whatever order they come, and
 * the same sharing. */
START_TEST(test_intern_deterministic)
{
	store_intern_t *t[2] = {store_intern_new(), store_intern_new()};
	json_t *objs[2][6];
	char name[32];
	for (int r = 0; r < 2; r++) {
		for (int i = 0; i < 6; i++) {
			int j = r ? 5 - i : i;
			snprintf(name, sizeof(name), "s-%d", j);
			objs[r][j] = svc(j % 2 ? "a" : "b", name, 80 + j % 3);
			ck_assert_int_eq(store_intern(t[r], objs[r][j]), CONTOUR_EOK);
		}
	}
	ck_assert_uint_eq(store_intern_count(t[0]), store_intern_count(t[1]));
	ck_assert_uint_gt(store_intern_count(t[0]), 0);
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 6; j++) {
			int s0 = path(objs[0][i], "spec", NULL) == path(objs[0][j], "spec", NULL);
			int s1 = path(objs[1][i], "spec", NULL) == path(objs[1][j], "spec", NULL);
			ck_assert_int_eq(s0, s1);
			ck_assert_int_eq(s0, (i % 3) == (j % 3));
		}
	/* Interning again adds nothing and changes no pointer. */
	size_t n = store_intern_count(t[0]);
	const json_t *spec = path(objs[0][0], "spec", NULL);
	ck_assert_int_eq(store_intern(t[0], objs[0][0]), CONTOUR_EOK);
	ck_assert_uint_eq(store_intern_count(t[0]), n);
	ck_assert_ptr_eq(path(objs[0][0], "spec", NULL), spec);
	for (int r = 0; r < 2; r++) {
		for (int i = 0; i < 6; i++)
			json_decref(objs[r][i]);
		ck_assert_uint_eq(store_intern_sweep(t[r]), n);
		ck_assert_uint_eq(store_intern_count(t[r]), 0);
		store_intern_free(t[r]);
	}
	store_intern_free(NULL);
}
END_TEST

/* Enough distinct values to grow the table several times. */
START_TEST(test_intern_grow)
{
	char name[32];
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "s-%d", i);
		ck_assert_int_eq(contour_store_put_new(src, svc("ns", name, i)), CONTOUR_EOK);
	}
	ck_assert_uint_gt(intern_count(), 3 * 3000);
	for (int i = 0; i < 3000; i += 37) {
		snprintf(name, sizeof(name), "s-%d", i);
		json_t *want = svc("ns", name, i);
		ck_assert(json_equal(get("ns", name), want));
		json_decref(want);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_key_of);
	tcase_add_test(tc, test_put_get_delete);
	tcase_add_test(tc, test_cluster_scoped);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_strip);
	tcase_add_test(tc, test_equal_put_is_noop);
	tcase_add_test(tc, test_subscriptions);
	tcase_add_test(tc, test_hook_after_subscribers);
	tcase_add_test(tc, test_foreach_order);
	tcase_add_test(tc, test_foreach_early_stop);
	tcase_add_test(tc, test_counts);
	suite_add_tcase(s, tc);

	tc = tcase_create("sources");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_sources_synced);
	tcase_add_test(tc, test_no_sources_is_synced);
	tcase_add_test(tc, test_register_only_in_init);
	tcase_add_test(tc, test_drop_module);
	suite_add_tcase(s, tc);

	tc = tcase_create("intern");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_intern_shares_subtrees);
	tcase_add_test(tc, test_intern_content_unchanged);
	tcase_add_test(tc, test_intern_sweep);
	tcase_add_test(tc, test_intern_replace_sweep);
	tcase_add_test(tc, test_intern_equal_put_is_noop);
	tcase_add_test(tc, test_intern_deterministic);
	tcase_add_test(tc, test_intern_grow);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_key_of_errors);
	tcase_add_test(tc, test_bad_args);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
