/* tests/unit/check_file_watch.c: the file-watch module, driven through the
 * real core (built-in loader, store, loop) over real folders and inotify. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/testutil.h"
#include "modules/file-watch/fw.h"

extern const contour_module_desc_t contour_module;

#define FW_TIMEOUT_MS 5000

static core_t *core;
static contour_module_t *mod;
static char *dir; /* a fresh folder per test */

static void setup(void)
{
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	mod = NULL;
	dir = tu_tmpdir();
	tu_log_capture_start();
}

static void teardown(void)
{
	core_log_configure(CORE_LOG_TEXT, CONTOUR_LOG_INFO);
	core_free(core);
	core = NULL;
	tu_log_capture_stop();
	tu_rmrf(dir);
	free(dir);
	dir = NULL;
}

/* Add the module with `paths` (a JSON array or string) and start it.
 * Returns what core_modules_init_start returned. */
static int fw_start_paths(json_t *paths)
{
	json_t *errs = json_array();
	json_t *cfg = json_pack("{s:o, s:s}", "paths", paths, "rescan-delay", "10ms");
	int rc = core_module_add_builtin(core, &contour_module, cfg, errs, &mod);
	char *msg = json_dumps(errs, JSON_COMPACT);
	ck_assert_msg(rc == CONTOUR_EOK, "add_builtin: %s", msg);
	free(msg);
	json_decref(cfg);
	json_decref(errs);
	return core_modules_init_start(core);
}

static void fw_start_dir(const char *path)
{
	int rc = fw_start_paths(json_pack("[s]", path));
	ck_assert_msg(rc == CONTOUR_EOK, "start: %s\n%s", contour_strerror(rc), tu_log_text());
}

static const json_t *fw_get(const char *api, const char *kind, const char *ns, const char *name)
{
	contour_object_key_t key = {
	    .api_version = api, .kind = kind, .namespace_ = ns, .name = name};
	return contour_store_get(&core->self, &key);
}

/* Waiting for the watcher: until an object exists (and, with path, a string
 * field at that dotted path equals want), or until it is gone. */
typedef struct fw_wait {
	const char *api, *kind, *ns, *name, *path, *want;
	int gone;
} fw_wait_t;

static int fw_wait_pred(void *ud)
{
	fw_wait_t *w = ud;
	const json_t *o = fw_get(w->api, w->kind, w->ns, w->name);
	if (w->gone)
		return o == NULL;
	if (!o)
		return 0;
	if (!w->path)
		return 1;
	const char *s = json_string_value(core_conf_lookup(o, w->path));
	return s && !strcmp(s, w->want);
}

static int fw_wait_cm(const char *ns, const char *name, const char *path, const char *want)
{
	fw_wait_t w = {"v1", "ConfigMap", ns, name, path, want, 0};
	return tu_run_until(core, fw_wait_pred, &w, FW_TIMEOUT_MS);
}

static int fw_wait_cm_gone(const char *ns, const char *name)
{
	fw_wait_t w = {"v1", "ConfigMap", ns, name, NULL, NULL, 1};
	return tu_run_until(core, fw_wait_pred, &w, FW_TIMEOUT_MS);
}

static const json_t *fw_cm(const char *ns, const char *name)
{
	return fw_get("v1", "ConfigMap", ns, name);
}

static const char *fw_cm_data(const char *ns, const char *name, const char *key)
{
	return json_string_value(json_object_get(json_object_get(fw_cm(ns, name), "data"), key));
}

/* A ConfigMap manifest with one data item. Static buffer. */
static const char *cm_yaml(const char *name, const char *value)
{
	static char buf[512];
	snprintf(buf, sizeof(buf),
	         "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  v: \"%s\"\n",
	         name, value);
	return buf;
}

static void fw_write(const char *name, const char *content)
{
	free(tu_write_file(dir, name, content));
}

static char *fw_path(const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);
	sprintf(p, "%s/%s", dir, name);
	return p;
}

/* ---- core: the initial scan ---- */

START_TEST(test_tree_initial_scan)
{
	fw_start_dir(tu_fixture("file-watch/tree"));

	ck_assert_msg(core_store_all_synced(core->store), "source not synced after start");
	ck_assert_uint_eq(contour_store_count(&core->self, NULL, NULL), 10);
	/* Every extension, at every depth. */
	ck_assert_ptr_nonnull(fw_get("v1", "Namespace", "", "fw-ns"));
	ck_assert_ptr_nonnull(fw_get("v1", "Service", "fw-ns", "svc-a"));
	ck_assert_ptr_nonnull(fw_get("projectcontour.io/v1", "HTTPProxy", "default", "b"));
	ck_assert_str_eq(fw_cm_data("fw-ns", "c", "from"), "json");
	/* Not manifests: another extension, hidden file, hidden folder. */
	ck_assert_ptr_null(fw_cm("default", "ignored-txt"));
	ck_assert_ptr_null(fw_cm("default", "hidden-file"));
	ck_assert_ptr_null(fw_cm("default", "hidden-dir"));
	/* Lists are flattened; a cluster-scoped kind loses its namespace. */
	ck_assert_ptr_nonnull(fw_cm("default", "list-1"));
	ck_assert_ptr_nonnull(fw_get("networking.k8s.io/v1", "IngressClass", "", "contour"));
	ck_assert_ptr_null(json_object_get(
	    json_object_get(fw_get("networking.k8s.io/v1", "IngressClass", "", "contour"),
	                    "metadata"),
	    "namespace"));
	ck_assert_ptr_nonnull(fw_get("v1", "Service", "fw-ns", "list-svc"));
	ck_assert_uint_eq(contour_store_count(&core->self, "v1", "List"), 0);
	ck_assert_uint_eq(contour_store_count(&core->self, "v1", "ServiceList"), 0);
	/* Multi-document file, with empty documents and an explicit end. */
	ck_assert_ptr_nonnull(fw_cm("default", "multi-1"));
	ck_assert_ptr_nonnull(fw_cm("other", "multi-2"));
	ck_assert_ptr_nonnull(
	    fw_get("rbac.authorization.k8s.io/v1", "ClusterRole", "", "multi-role"));
	/* The default namespace is written into the object, not only the key. */
	ck_assert_str_eq(
	    json_string_value(core_conf_lookup(
	        fw_get("projectcontour.io/v1", "HTTPProxy", "default", "b"), "metadata.namespace")),
	    "default");
	ck_assert_msg(strstr(tu_log_text(), "5 files read") != NULL, "log: %s", tu_log_text());
	ck_assert_msg(strstr(tu_log_text(), "10 objects loaded") != NULL, "log: %s", tu_log_text());
}
END_TEST

START_TEST(test_missing_path_fails_start)
{
	char *missing = fw_path("does-not-exist");
	fw_write("ok.yaml", cm_yaml("ok", "1"));
	int rc = fw_start_paths(json_pack("[s,s]", dir, missing));
	ck_assert_int_ne(rc, CONTOUR_EOK);
	ck_assert_msg(strstr(tu_log_text(), missing) != NULL, "log does not name %s: %s", missing,
	              tu_log_text());
	/* Nothing was put before the failure. */
	ck_assert_ptr_null(fw_cm("default", "ok"));
	free(missing);
}
END_TEST

START_TEST(test_empty_paths_rejected)
{
	json_t *errs = json_array();
	json_t *cfg = json_pack("{s:[]}", "paths");
	int rc = core_module_add_builtin(core, &contour_module, cfg, errs, &mod);
	ck_assert_int_eq(rc, CONTOUR_ECONFIG);
	char *msg = json_dumps(errs, JSON_COMPACT);
	ck_assert_msg(strstr(msg, "paths") != NULL, "errors: %s", msg);
	free(msg);
	json_decref(cfg);
	json_decref(errs);
}
END_TEST

START_TEST(test_relative_path_from_cwd)
{
	char cwd[4096];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	fw_write("rel/r.yaml", cm_yaml("rel", "1"));
	ck_assert_int_eq(chdir(dir), 0);
	int rc = fw_start_paths(json_pack("[s]", "rel/"));
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_int_eq(rc, CONTOUR_EOK);
	ck_assert_ptr_nonnull(fw_cm("default", "rel"));
	/* Resolved once, at init: the cwd changing later does not matter. */
	fw_write("rel/r2.yaml", cm_yaml("rel2", "1"));
	ck_assert(fw_wait_cm("default", "rel2", NULL, NULL));
}
END_TEST

START_TEST(test_relative_path_from_config_file)
{
	/* The config file lives in dir/etc; `../m` is dir/m whatever the cwd. */
	fw_write("m/a.yaml", cm_yaml("cfg-rel", "1"));
	char *cfg = tu_write_file(dir, "etc/contour.yaml",
	                          "modules:\n  - name: file-watch\n    config:\n"
	                          "      paths: [../m]\n");
	json_t *errs = json_array();
	ck_assert_int_eq(core_conf_load_file(cfg, &core->conf, errs), CONTOUR_EOK);
	json_decref(errs);
	fw_start_dir("../m");
	ck_assert_str_eq(fw_cm_data("default", "cfg-rel", "v"), "1");
	free(cfg);
}
END_TEST

START_TEST(test_named_file)
{
	char *file = tu_write_file(dir, "one.yaml", cm_yaml("named", "1"));
	fw_write("sibling.yaml", cm_yaml("sibling", "1"));
	fw_start_dir(file);
	ck_assert_str_eq(fw_cm_data("default", "named", "v"), "1");
	ck_assert_ptr_null(fw_cm("default", "sibling"));
	free(tu_write_file(dir, "one.yaml", cm_yaml("named", "2")));
	ck_assert(fw_wait_cm("default", "named", "data.v", "2"));
	/* Appending in place (same inode) is a change too. */
	FILE *f = fopen(file, "a");
	ck_assert_ptr_nonnull(f);
	fputs("---\n", f);
	fputs(cm_yaml("appended", "1"), f);
	fclose(f);
	ck_assert(fw_wait_cm("default", "appended", NULL, NULL));
	/* Gone, then back. */
	ck_assert_int_eq(unlink(file), 0);
	ck_assert(fw_wait_cm_gone("default", "named"));
	free(tu_write_file(dir, "one.yaml", cm_yaml("named", "3")));
	ck_assert(fw_wait_cm("default", "named", "data.v", "3"));
	free(file);
}
END_TEST

/* ---- changes ---- */

START_TEST(test_add_modify_remove)
{
	fw_write("a.yaml", cm_yaml("a", "1"));
	fw_start_dir(dir);
	ck_assert_str_eq(fw_cm_data("default", "a", "v"), "1");

	/* Add a file. */
	fw_write("b.yaml", cm_yaml("b", "1"));
	ck_assert(fw_wait_cm("default", "b", NULL, NULL));
	/* Modify it: the object changes. */
	fw_write("b.yaml", cm_yaml("b", "2"));
	ck_assert(fw_wait_cm("default", "b", "data.v", "2"));
	/* A second object, then remove it from the file again. */
	char two[1024];
	snprintf(two, sizeof(two), "%s---\n", cm_yaml("b", "2"));
	strcat(two, cm_yaml("b-extra", "x"));
	fw_write("b.yaml", two);
	ck_assert(fw_wait_cm("default", "b-extra", NULL, NULL));
	fw_write("b.yaml", cm_yaml("b", "3"));
	ck_assert(fw_wait_cm_gone("default", "b-extra"));
	ck_assert_str_eq(fw_cm_data("default", "b", "v"), "3");
	/* Delete the file: its objects go, the other file's stay. */
	char *b = fw_path("b.yaml");
	ck_assert_int_eq(unlink(b), 0);
	free(b);
	ck_assert(fw_wait_cm_gone("default", "b"));
	ck_assert_ptr_nonnull(fw_cm("default", "a"));
	ck_assert_uint_eq(contour_store_count(&core->self, NULL, NULL), 1);
}
END_TEST

START_TEST(test_rename_in_and_out)
{
	char *outside = tu_tmpdir();
	char *watched = fw_path("w");
	ck_assert_int_eq(mkdir(watched, 0755), 0);
	free(tu_write_file(outside, "in.yaml", cm_yaml("moved-in", "1")));
	fw_write("w/out.yaml", cm_yaml("moved-out", "1"));
	fw_start_dir(watched);
	ck_assert_ptr_nonnull(fw_cm("default", "moved-out"));
	ck_assert_ptr_null(fw_cm("default", "moved-in"));

	char from[8192], to[8192];
	snprintf(from, sizeof(from), "%s/in.yaml", outside);
	snprintf(to, sizeof(to), "%s/in.yaml", watched);
	ck_assert_int_eq(rename(from, to), 0);
	ck_assert(fw_wait_cm("default", "moved-in", NULL, NULL));

	snprintf(from, sizeof(from), "%s/out.yaml", watched);
	snprintf(to, sizeof(to), "%s/out.yaml", outside);
	ck_assert_int_eq(rename(from, to), 0);
	ck_assert(fw_wait_cm_gone("default", "moved-out"));

	/* Renaming to a name that is not a manifest takes it out too. */
	snprintf(from, sizeof(from), "%s/in.yaml", watched);
	snprintf(to, sizeof(to), "%s/in.yaml.bak", watched);
	ck_assert_int_eq(rename(from, to), 0);
	ck_assert(fw_wait_cm_gone("default", "moved-in"));

	tu_rmrf(outside);
	free(outside);
	free(watched);
}
END_TEST

START_TEST(test_new_subdirectory)
{
	fw_write("a.yaml", cm_yaml("a", "1"));
	fw_start_dir(dir);
	fw_write("sub/deeper/s.yaml", cm_yaml("sub-1", "1"));
	ck_assert(fw_wait_cm("default", "sub-1", NULL, NULL));
	/* The new folders are watched now: a later file there is seen. */
	fw_write("sub/deeper/t.yml", cm_yaml("sub-2", "1"));
	ck_assert(fw_wait_cm("default", "sub-2", NULL, NULL));
	/* And the whole subtree vanishing removes its objects. */
	char *sub = fw_path("sub");
	tu_rmrf(sub);
	free(sub);
	ck_assert(fw_wait_cm_gone("default", "sub-1"));
	ck_assert(fw_wait_cm_gone("default", "sub-2"));
	ck_assert_ptr_nonnull(fw_cm("default", "a"));
	ck_assert_msg(strstr(tu_log_text(), "is gone") != NULL, "log: %s", tu_log_text());
}
END_TEST

START_TEST(test_watched_dir_vanishes_and_returns)
{
	char *w = fw_path("w");
	fw_write("w/a.yaml", cm_yaml("a", "1"));
	fw_start_dir(w);
	ck_assert_ptr_nonnull(fw_cm("default", "a"));
	tu_rmrf(w);
	ck_assert(fw_wait_cm_gone("default", "a"));
	ck_assert_msg(strstr(tu_log_text(), w) != NULL, "log: %s", tu_log_text());
	/* The parent is watched, so the folder coming back is noticed. */
	fw_write("w/a.yaml", cm_yaml("a", "2"));
	ck_assert(fw_wait_cm("default", "a", "data.v", "2"));
	free(w);
}
END_TEST

START_TEST(test_symlinks)
{
	char *outside = tu_tmpdir();
	free(tu_write_file(outside, "target.yaml", cm_yaml("linked-file", "1")));
	free(tu_write_file(outside, "d/x.yaml", cm_yaml("linked-dir", "1")));
	fw_write("a.yaml", cm_yaml("a", "1"));
	char *p = fw_path("file-link.yaml"), *q = fw_path("dir-link"), *loop = fw_path("loop");
	char t[8192];
	snprintf(t, sizeof(t), "%s/target.yaml", outside);
	ck_assert_int_eq(symlink(t, p), 0);
	snprintf(t, sizeof(t), "%s/d", outside);
	ck_assert_int_eq(symlink(t, q), 0);
	ck_assert_int_eq(symlink(dir, loop), 0); /* a loop back to the top */
	fw_start_dir(dir);
	ck_assert_ptr_nonnull(fw_cm("default", "a"));
	ck_assert_ptr_nonnull(fw_cm("default", "linked-file"));
	ck_assert_ptr_nonnull(fw_cm("default", "linked-dir"));
	ck_assert_uint_eq(contour_store_count(&core->self, NULL, NULL), 3);
	/* The target of a file link is watched even outside the tree. */
	free(tu_write_file(outside, "target.yaml", cm_yaml("linked-file", "2")));
	ck_assert(fw_wait_cm("default", "linked-file", "data.v", "2"));
	tu_rmrf(outside);
	free(outside);
	free(p);
	free(q);
	free(loop);
}
END_TEST

/* A mounted ConfigMap: visible names are symlinks through `..data`, which
 * the kubelet swaps atomically to publish a new version. */
START_TEST(test_configmap_mount)
{
	char *m = fw_path("mount");
	fw_write("mount/..v1/cfg.yaml", cm_yaml("mounted", "1"));
	char *data = fw_path("mount/..data"), *cfg = fw_path("mount/cfg.yaml");
	ck_assert_int_eq(symlink("..v1", data), 0);
	ck_assert_int_eq(symlink("..data/cfg.yaml", cfg), 0);
	fw_start_dir(m);
	ck_assert_str_eq(fw_cm_data("default", "mounted", "v"), "1");
	ck_assert_uint_eq(contour_store_count(&core->self, NULL, NULL), 1);

	fw_write("mount/..v2/cfg.yaml", cm_yaml("mounted", "2"));
	char *tmp = fw_path("mount/..data_tmp");
	ck_assert_int_eq(symlink("..v2", tmp), 0);
	ck_assert_int_eq(rename(tmp, data), 0);
	ck_assert(fw_wait_cm("default", "mounted", "data.v", "2"));
	ck_assert_uint_eq(contour_store_count(&core->self, NULL, NULL), 1);
	free(m);
	free(data);
	free(cfg);
	free(tmp);
}
END_TEST

static int count_rescans(void)
{
	int n = 0;
	for (const char *p = tu_log_text(); (p = strstr(p, "rescan:")) != NULL; p++)
		n++;
	return n;
}

/* rescan-delay: a burst of changes is one rescan, after the delay. */
START_TEST(test_rescan_delay_coalesces)
{
	core_log_configure(CORE_LOG_TEXT, CONTOUR_LOG_DEBUG);
	fw_write("a.yaml", cm_yaml("a", "1"));
	json_t *errs = json_array();
	json_t *cfg = json_pack("{s:[s], s:s}", "paths", dir, "rescan-delay", "300ms");
	ck_assert_int_eq(core_module_add_builtin(core, &contour_module, cfg, errs, &mod),
	                 CONTOUR_EOK);
	json_decref(cfg);
	json_decref(errs);
	ck_assert_int_eq(core_modules_init_start(core), CONTOUR_EOK);
	ck_assert_int_eq(count_rescans(), 0);

	fw_write("b.yaml", cm_yaml("b", "1"));
	fw_write("c.yaml", cm_yaml("c", "1"));
	fw_write("a.yaml", cm_yaml("a", "2"));
	tu_run_loop_ms(core, 100);
	ck_assert_ptr_null(fw_cm("default", "b")); /* still waiting */
	ck_assert(fw_wait_cm("default", "c", NULL, NULL));
	ck_assert_ptr_nonnull(fw_cm("default", "b"));
	ck_assert_str_eq(fw_cm_data("default", "a", "v"), "2");
	tu_run_loop_ms(core, 400);
	ck_assert_msg(count_rescans() == 1, "%d rescans: %s", count_rescans(), tu_log_text());
	ck_assert_msg(strstr(tu_log_text(), "3 files, 3 read, 0 failed, 0 gone; 3 objects"),
	              "log: %s", tu_log_text());
}
END_TEST

START_TEST(test_stop_is_idempotent)
{
	fw_write("a.yaml", cm_yaml("a", "1"));
	fw_start_dir(dir);
	contour_module.stop(mod);
	contour_module.stop(mod);
	/* Stopped: changes are no longer followed. */
	fw_write("b.yaml", cm_yaml("b", "1"));
	tu_run_loop_ms(core, 100);
	ck_assert_ptr_null(fw_cm("default", "b"));
	ck_assert_ptr_nonnull(fw_cm("default", "a"));
	/* core_free stops once more, then frees. */
}
END_TEST

/* ---- errors ---- */

START_TEST(test_bad_yaml)
{
	char src[8192];
	snprintf(src, sizeof(src), "%s", tu_fixture("file-watch/bad/broken.yaml"));
	FILE *in = fopen(src, "r");
	ck_assert_ptr_nonnull(in);
	char broken[4096] = "";
	size_t n = fread(broken, 1, sizeof(broken) - 1, in);
	broken[n] = '\0';
	fclose(in);

	fw_write("broken.yaml", broken);
	fw_write("good.yaml", cm_yaml("good", "1"));
	fw_write("later.yaml", cm_yaml("later", "1"));
	fw_start_dir(dir);
	/* The other files still load. */
	ck_assert_ptr_nonnull(fw_cm("default", "good"));
	ck_assert_ptr_nonnull(fw_cm("default", "later"));
	ck_assert_ptr_null(fw_cm("default", "broken"));
	char *want = fw_path("broken.yaml:");
	ck_assert_msg(strstr(tu_log_text(), want) != NULL, "no FILE:LINE:COL in: %s",
	              tu_log_text());
	ck_assert_msg(strstr(tu_log_text(), "level=error") != NULL, "log: %s", tu_log_text());
	free(want);
	ck_assert_msg(strstr(tu_log_text(), "1 with errors") != NULL, "log: %s", tu_log_text());

	/* A previously good file turning bad keeps its objects... */
	fw_write("good.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good\n");
	fw_write("marker.yaml", cm_yaml("marker", "1"));
	ck_assert(fw_wait_cm("default", "marker", NULL, NULL));
	tu_run_loop_ms(core, 100);
	ck_assert_str_eq(fw_cm_data("default", "good", "v"), "1");
	/* ...until it is fixed. */
	fw_write("good.yaml", cm_yaml("good", "2"));
	ck_assert(fw_wait_cm("default", "good", "data.v", "2"));
	/* Fixing the broken one loads it. */
	fw_write("broken.yaml", cm_yaml("broken", "ok"));
	ck_assert(fw_wait_cm("default", "broken", "data.v", "ok"));
}
END_TEST

START_TEST(test_missing_fields)
{
	fw_start_dir(tu_fixture("file-watch/bad/fields.yaml"));
	ck_assert_ptr_nonnull(fw_cm("default", "fields-ok"));
	ck_assert_uint_eq(contour_store_count(&core->self, NULL, NULL), 1);
	const char *log = tu_log_text();
	ck_assert_msg(strstr(log, "fields.yaml:1: object skipped: no apiVersion"), "log: %s", log);
	ck_assert_msg(strstr(log, "fields.yaml:5: object skipped: no kind"), "log: %s", log);
	ck_assert_msg(strstr(log, "fields.yaml:9: object skipped: no metadata.name"), "log: %s",
	              log);
	ck_assert_msg(strstr(log, "fields.yaml:19: document skipped: not a mapping"), "log: %s",
	              log);
}
END_TEST

/* ---- objects ---- */

START_TEST(test_secret_string_data)
{
	fw_write("s.yaml", "apiVersion: v1\n"
	                   "kind: Secret\n"
	                   "metadata:\n"
	                   "  name: s\n"
	                   "type: Opaque\n"
	                   "data:\n"
	                   "  kept: a2VwdA==\n"
	                   "  both: b2xk\n"
	                   "stringData:\n"
	                   "  both: s3cr3t-new\n"
	                   "  one: a\n"
	                   "  empty: \"\"\n"
	                   "---\n"
	                   "apiVersion: v1\n"
	                   "kind: Secret\n"
	                   "metadata:\n"
	                   "  name: only-string\n"
	                   "stringData:\n"
	                   "  tls.key: s3cr3t-key\n"
	                   "---\n"
	                   "apiVersion: v1\n"
	                   "kind: Secret\n"
	                   "metadata:\n"
	                   "  name: bad\n"
	                   "stringData:\n"
	                   "  n: {s3cr3t: x}\n");
	fw_start_dir(dir);
	const json_t *s = fw_get("v1", "Secret", "default", "s");
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_null(json_object_get(s, "stringData"));
	const json_t *data = json_object_get(s, "data");
	ck_assert_str_eq(json_string_value(json_object_get(data, "kept")), "a2VwdA==");
	/* stringData wins over data. */
	ck_assert_str_eq(json_string_value(json_object_get(data, "both")), "czNjcjN0LW5ldw==");
	ck_assert_str_eq(json_string_value(json_object_get(data, "one")), "YQ==");
	ck_assert_str_eq(json_string_value(json_object_get(data, "empty")), "");
	const json_t *o = fw_get("v1", "Secret", "default", "only-string");
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "data"), "tls.key")),
	                 "czNjcjN0LWtleQ==");
	ck_assert_ptr_null(fw_get("v1", "Secret", "default", "bad"));
	ck_assert_msg(strstr(tu_log_text(), "s3cr3t") == NULL, "secret in log: %s", tu_log_text());
}
END_TEST

START_TEST(test_same_object_in_two_files)
{
	fw_write("a.yaml", cm_yaml("dup", "from-a"));
	fw_write("b.yaml", cm_yaml("dup", "from-b"));
	fw_start_dir(dir);
	/* Read in name order: b is read last and wins. */
	ck_assert_str_eq(fw_cm_data("default", "dup", "v"), "from-b");
	char *a = fw_path("a.yaml"), *b = fw_path("b.yaml");
	ck_assert_msg(strstr(tu_log_text(), a) && strstr(tu_log_text(), b),
	              "warning does not name both files: %s", tu_log_text());
	/* Re-reading a makes it the later one. */
	fw_write("a.yaml", cm_yaml("dup", "from-a2"));
	ck_assert(fw_wait_cm("default", "dup", "data.v", "from-a2"));
	/* Deleting the winner falls back to the other definition. */
	ck_assert_int_eq(unlink(a), 0);
	ck_assert(fw_wait_cm("default", "dup", "data.v", "from-b"));
	/* Two again; deleting the one not in use keeps the object as it is. */
	fw_write("a.yaml", cm_yaml("dup", "from-a3"));
	ck_assert(fw_wait_cm("default", "dup", "data.v", "from-a3"));
	ck_assert_int_eq(unlink(b), 0);
	fw_write("marker.yaml", cm_yaml("marker", "1"));
	ck_assert(fw_wait_cm("default", "marker", NULL, NULL));
	tu_run_loop_ms(core, 50);
	ck_assert_str_eq(fw_cm_data("default", "dup", "v"), "from-a3");
	/* Deleting the last definition deletes the object. */
	ck_assert_int_eq(unlink(a), 0);
	ck_assert(fw_wait_cm_gone("default", "dup"));
	free(a);
	free(b);
}
END_TEST

START_TEST(test_namespaces)
{
	fw_write("ns.yaml",
	         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n---\n"
	         "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: prod}\n"
	         "---\napiVersion: apiextensions.k8s.io/v1\n"
	         "kind: CustomResourceDefinition\nmetadata: {name: a.b.c}\n---\n"
	         "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\n"
	         "metadata: {name: gc}\n---\n"
	         "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
	         "metadata: {name: gw}\n");
	fw_start_dir(dir);
	ck_assert_ptr_nonnull(fw_cm("default", "plain"));
	ck_assert_ptr_nonnull(fw_cm("prod", "x"));
	ck_assert_ptr_null(fw_cm("default", "x"));
	ck_assert_ptr_nonnull(
	    fw_get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "a.b.c"));
	ck_assert_ptr_nonnull(fw_get("gateway.networking.k8s.io/v1", "GatewayClass", "", "gc"));
	ck_assert_ptr_nonnull(fw_get("gateway.networking.k8s.io/v1", "Gateway", "default", "gw"));
}
END_TEST

/* fw_manifest_parse_buf on its own (the fuzz target's entry point). */
START_TEST(test_manifest_buf)
{
	json_t *out = NULL;
	const char *text = "{\"apiVersion\": \"v1\", \"kind\": \"PodList\", \"items\": ["
	                   "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": "
	                   "\"p\"}}, 7]}";
	ck_assert_int_eq(fw_manifest_parse_buf(NULL, "mem.json", text, strlen(text), &out),
	                 CONTOUR_EOK);
	ck_assert_uint_eq(json_object_size(out), 1);
	char key[FW_KEY_MAX];
	json_t *pod = json_object_get(out, "v1\x1fPod\x1f"
	                                   "default\x1fp");
	ck_assert_ptr_nonnull(pod);
	ck_assert_str_eq(fw_object_key_str(pod, key, sizeof(key)), "v1\x1fPod\x1f"
	                                                           "default\x1fp");
	json_decref(out);

	/* A *List without items is an ordinary object. */
	text = "apiVersion: v1\nkind: WatchList\nmetadata: {name: w}\n";
	ck_assert_int_eq(fw_manifest_parse_buf(NULL, "mem.yaml", text, strlen(text), &out),
	                 CONTOUR_EOK);
	ck_assert_uint_eq(json_object_size(out), 1);
	json_decref(out);

	text = "a: [\n";
	ck_assert_int_eq(fw_manifest_parse_buf(NULL, "mem.yaml", text, strlen(text), &out),
	                 CONTOUR_EPARSE);
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(tu_log_text(), "mem.yaml:"), "log: %s", tu_log_text());
}
END_TEST

/* ---- the upstream examples ---- */

static int count_visit(const json_t *obj, void *ud)
{
	(*(size_t *)ud)++;
	return 0;
}

START_TEST(test_reference_examples)
{
	const char *ref = tu_reference_dir();
	if (!ref) {
		const char *strict = getenv("CONTOUR_STRICT_TESTS");
		ck_assert_msg(!(strict && !strcmp(strict, "1")),
		              "CONTOUR_REFERENCE_DIR is missing and CONTOUR_STRICT_TESTS=1");
		fprintf(stderr, "test_reference_examples: skipped (no reference folder)\n");
		return;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/contour-examples", ref);
	fw_start_dir(path);
	/* 58 objects in 32 files; two HTTPProxies are defined twice
	 * (default/multiple-paths and default/example). */
	ck_assert_uint_eq(contour_store_count(&core->self, NULL, NULL), 56);
	ck_assert_uint_eq(contour_store_count(&core->self, "projectcontour.io/v1", "HTTPProxy"),
	                  24);
	size_t n = 0;
	contour_store_foreach(&core->self, "apiextensions.k8s.io/v1", "CustomResourceDefinition",
	                      count_visit, &n);
	ck_assert_uint_eq(n, 5);
	const json_t *basic = fw_get("projectcontour.io/v1", "HTTPProxy", "default", "basic");
	ck_assert_ptr_nonnull(basic);
	ck_assert_str_eq(json_string_value(core_conf_lookup(basic, "spec.virtualhost.fqdn")),
	                 "foo-basic.bar.com");
	ck_assert_ptr_nonnull(fw_get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "",
	                             "httpproxies.projectcontour.io"));
	ck_assert_ptr_nonnull(fw_get("projectcontour.io/v1", "HTTPProxy", "marketing", "blog"));
	ck_assert_ptr_nonnull(
	    fw_get("projectcontour.io/v1alpha1", "HTTPProxy", "default", "response-timeout"));
	ck_assert_ptr_nonnull(fw_get("v1", "Namespace", "", "marketing"));
	ck_assert_msg(strstr(tu_log_text(), "level=error") == NULL, "errors: %s", tu_log_text());
}
END_TEST

int main(void)
{
	Suite *s = suite_create("file_watch");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tree_initial_scan);
	tcase_add_test(tc, test_missing_path_fails_start);
	tcase_add_test(tc, test_empty_paths_rejected);
	tcase_add_test(tc, test_relative_path_from_cwd);
	tcase_add_test(tc, test_relative_path_from_config_file);
	tcase_add_test(tc, test_named_file);
	tcase_add_test(tc, test_reference_examples);
	suite_add_tcase(s, tc);

	tc = tcase_create("changes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_add_modify_remove);
	tcase_add_test(tc, test_rename_in_and_out);
	tcase_add_test(tc, test_new_subdirectory);
	tcase_add_test(tc, test_watched_dir_vanishes_and_returns);
	tcase_add_test(tc, test_symlinks);
	tcase_add_test(tc, test_configmap_mount);
	tcase_add_test(tc, test_rescan_delay_coalesces);
	tcase_add_test(tc, test_stop_is_idempotent);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bad_yaml);
	tcase_add_test(tc, test_missing_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("objects");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_secret_string_data);
	tcase_add_test(tc, test_same_object_in_two_files);
	tcase_add_test(tc, test_namespaces);
	tcase_add_test(tc, test_manifest_buf);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
