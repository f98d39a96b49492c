/* tests/unit/testutil.c: helpers shared by the Check suites. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/testutil.h"

char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];
	snprintf(tmpl, sizeof(tmpl), "%s/contour-test-XXXXXX", base && *base ? base : "/tmp");
	char *p = mkdtemp(tmpl);
	ck_assert_msg(p != NULL, "mkdtemp: %s", strerror(errno));
	return strdup(p);
}

void tu_rmrf(const char *path)
{
	struct stat st;
	if (!path || lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char sub[4096];
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			tu_rmrf(sub);
		}
		if (d)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static void mkparents(char *path)
{
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
}

char *tu_write_file(const char *dir, const char *name, const char *content)
{
	char path[4096], tmp[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	mkparents(path);
	/* Write then rename, so a watcher never sees a half-written file. */
	snprintf(tmp, sizeof(tmp), "%s/.tu-tmp-%d", dir, (int)getpid());
	FILE *f = fopen(tmp, "w");
	ck_assert_msg(f != NULL, "fopen %s: %s", tmp, strerror(errno));
	fputs(content, f);
	ck_assert(fclose(f) == 0);
	ck_assert_msg(rename(tmp, path) == 0, "rename %s: %s", path, strerror(errno));
	return strdup(path);
}

const char *tu_fixture(const char *name)
{
	static char buf[4096];
	const char *top = getenv("top_srcdir");
	snprintf(buf, sizeof(buf), "%s/tests/fixtures/%s", top ? top : ".", name);
	return buf;
}

const char *tu_reference_dir(void)
{
	const char *d = getenv("CONTOUR_REFERENCE_DIR");
	struct stat st;
	if (!d || stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "reference folder not found (CONTOUR_REFERENCE_DIR=%s)\n",
		        d ? d : "");
		return NULL;
	}
	return d;
}

const char *tu_test_module(const char *name)
{
	static char buf[4096];
	const char *d = getenv("CONTOUR_TEST_MODULE_DIR");
	snprintf(buf, sizeof(buf), "%s/%s.so", d ? d : "tests/modules/.libs", name);
	return buf;
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

void tu_run_loop_ms(core_t *core, int64_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	struct event *ev = evtimer_new(core->base, stop_cb, core->base);
	evtimer_add(ev, &tv);
	event_base_dispatch(core->base);
	event_free(ev);
}

int tu_run_until(core_t *core, int (*pred)(void *ud), void *ud, int64_t timeout_ms)
{
	for (int64_t waited = 0; !pred(ud) && waited < timeout_ms; waited += 10)
		tu_run_loop_ms(core, 10);
	return pred(ud);
}

static FILE *capture;
static char *capture_buf;
static size_t capture_len;

void tu_log_capture_start(void)
{
	tu_log_capture_stop();
	capture = open_memstream(&capture_buf, &capture_len);
	core_log_set_stream(capture);
}

const char *tu_log_text(void)
{
	if (!capture)
		return "";
	fflush(capture);
	return capture_buf ? capture_buf : "";
}

void tu_log_capture_stop(void)
{
	core_log_set_stream(NULL);
	if (capture)
		fclose(capture);
	free(capture_buf);
	capture = NULL;
	capture_buf = NULL;
	capture_len = 0;
}

/* The global key tables of the modules whose sources a suite compiles in;
 * weak, so a suite without a module's sources leaves its table NULL. */
extern const contour_conf_item_t hp_global_schema[] __attribute__((weak));
extern const contour_conf_item_t ing_global_schema[] __attribute__((weak));
extern const contour_conf_item_t kw_global_schema[] __attribute__((weak));
extern const contour_conf_item_t xds_global_schema[] __attribute__((weak));

int tu_check_globals(core_conf_t *conf, json_t *errors)
{
	core_conf_table_t tables[] = {
	    {"core", core_domain_global_schema}, {"httpproxy", hp_global_schema},
	    {"ingress", ing_global_schema},      {"k8s-watch", kw_global_schema},
	    {"xds-grpc", xds_global_schema},
	};
	return core_conf_check_globals(conf, tables, sizeof(tables) / sizeof(*tables), errors);
}

core_conf_t *tu_conf(const char *yaml, json_t *errors)
{
	core_conf_t *conf = NULL;
	json_t *errs = errors ? errors : json_array();
	int rc = core_conf_load_buf(yaml, strlen(yaml), "test.yaml", &conf, errs);
	if (rc == CONTOUR_EOK && (rc = tu_check_globals(conf, errs)) != CONTOUR_EOK) {
		core_conf_free(conf);
		conf = NULL;
	}
	if (!errors) {
		ck_assert_msg(rc == CONTOUR_EOK, "config failed: %s",
		              json_dumps(errs, JSON_COMPACT) ? json_dumps(errs, JSON_COMPACT) : "");
		json_decref(errs);
	}
	return conf;
}

json_t *tu_yaml(const char *yaml)
{
	json_t *docs = NULL;
	contour_yaml_error_t err = {0};
	int rc = contour_yaml_parse(yaml, strlen(yaml), &docs, NULL, &err);
	ck_assert_msg(rc == CONTOUR_EOK, "yaml: %d: %s", err.line, err.message);
	return docs;
}

json_t *tu_yaml_file(const char *path)
{
	json_t *docs = NULL;
	contour_yaml_error_t err = {0};
	int rc = contour_yaml_parse_file(path, &docs, NULL, &err);
	ck_assert_msg(rc == CONTOUR_EOK, "%s: %s", path, err.message);
	return docs;
}

void tu_put_docs(contour_source_t *src, json_t *docs, int default_ns)
{
	size_t i;
	json_t *d;
	json_array_foreach(docs, i, d)
	{
		const char *kind = json_string_value(json_object_get(d, "kind"));
		json_t *meta = json_object_get(d, "metadata");
		if (default_ns && kind && strcmp(kind, "Namespace") && json_is_object(meta) &&
		    !json_object_get(meta, "namespace"))
			json_object_set_new(meta, "namespace", json_string("default"));
		ck_assert_int_eq(contour_store_put_new(src, json_incref(d)), CONTOUR_EOK);
	}
	json_decref(docs);
}

static int tu_delegate_one(const json_t *obj, void *ud)
{
	contour_dag_t *dag = ud;
	const char *ns =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
	size_t i, j;
	json_t *d, *t;
	json_array_foreach(json_object_get(json_object_get(obj, "spec"), "delegations"), i, d)
	{
		const char *secret = json_string_value(json_object_get(d, "secretName"));
		json_array_foreach(json_object_get(d, "targetNamespaces"), j, t)
		    contour_dag_delegate(dag, ns, secret, json_string_value(t));
	}
	return 0;
}

static int tu_delegations(contour_snapshot_t *building, void *ud)
{
	contour_store_foreach(ud, "projectcontour.io/v1", "TLSCertificateDelegation",
	                      tu_delegate_one, contour_snapshot_dag(building));
	return CONTOUR_EOK;
}

const contour_dag_vhost_t *tu_dag_vhost(const contour_dag_t *dag, const char *fqdn)
{
	for (size_t i = 0; i < dag->nvhosts; i++)
		if (!strcmp(dag->vhosts[i]->fqdn, fqdn))
			return dag->vhosts[i];
	return NULL;
}

const contour_dag_svhost_t *tu_dag_svhost(const contour_dag_t *dag, const char *fqdn)
{
	for (size_t i = 0; i < dag->nsvhosts; i++)
		if (!strcmp(dag->svhosts[i]->vhost.fqdn, fqdn))
			return dag->svhosts[i];
	return NULL;
}

int tu_register_delegations(contour_module_t *fake)
{
	return contour_register_processor(fake, "delegations", CONTOUR_ORDER_EARLY, tu_delegations,
	                                  fake);
}

core_t *tu_core_with_module(const contour_module_desc_t *desc, const char *global,
                            const char *yaml, contour_module_t *fake, contour_source_t **src)
{
	core_t *core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	tu_log_capture_start();
	if (global)
		core->conf = tu_conf(global, NULL);
	*fake = (contour_module_t){.core = core, .name = "t", .state = CORE_MOD_INITIALISING};
	ck_assert_int_eq(contour_register_source(fake, "src", src), CONTOUR_EOK);
	ck_assert_int_eq(tu_register_delegations(fake), CONTOUR_EOK);
	json_t *errs = json_array();
	contour_module_t *mod = NULL;
	ck_assert_int_eq(core_module_add_builtin(core, desc, NULL, errs, &mod), CONTOUR_EOK);
	json_decref(errs);
	ck_assert_int_eq(core_modules_init_start(core), CONTOUR_EOK);
	tu_put_docs(*src, tu_yaml(yaml), 0);
	return core;
}

int tu_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
