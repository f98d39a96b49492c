/* core/cli.c: `contour serve | check-config | version | help`.
 *
 * Flags follow upstream's spelling (`--config-path`, `--log-format`,
 * `--debug`), accept both `--flag value` and `--flag=value`, and global flags
 * may come before or after the sub-command, as kingpin allows.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/core.h"

typedef struct cli_command {
	const char *name;
	int (*run)(cli_opts_t *o);
	const char *args;
	const char *summary;
} cli_command_t;

static int cmd_serve(cli_opts_t *o);
static int cmd_check_config(cli_opts_t *o);
static int cmd_version(cli_opts_t *o);
static int cmd_render(cli_opts_t *o);
static int cmd_review(cli_opts_t *o);
static int cmd_help(cli_opts_t *o);
static int start_none(const contour_module_t *mod);
static void print_errors(const json_t *errors, int as_log);
static int apply_logging(cli_opts_t *o, const core_conf_t *conf);

static const cli_command_t commands[] = {
    {"serve", cmd_serve, "[--config-path FILE]",
     "Run the controller: load the modules named in the config and serve."},
    {"check-config", cmd_check_config, "FILE [SERVE-FLAGS...]",
     "Validate a config file and every module's section, with serve's flags; start nothing."},
    {"render", cmd_render,
     "[--config FILE] [--format status|dag|dot|envoy] [--source MODULE] "
     "[--root-namespaces NS,...] [--ingress-class-name NAME,...] PATH...",
     "Read manifests with a source module (file-watch unless --source names another), run "
     "the processors once, print status, the DAG or a graph."},
    {"review", cmd_review,
     "--object FILE [--operation CREATE|UPDATE|DELETE] [--config FILE] [--source MODULE] "
     "[--root-namespaces NS,...] [--ingress-class-name NAME,...] PATH...",
     "Ask the loaded validators, as the admission webhook does, whether the objects in "
     "FILE may be applied to the cluster the manifests PATH... describe."},
    {"version", cmd_version, "", "Print the version and the module ABI."},
    {"help", cmd_help, "[COMMAND]", "Show this help."},
    {NULL, NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: contour [--log-format text|json] [--debug] <command> [<args>]\n\n"
	           "Contour: a Kubernetes ingress controller for Envoy, as a small core with\n"
	           "loadable modules.\n\nCommands:\n");
	for (const cli_command_t *c = commands; c->name; c++)
		fprintf(f, "  %-13s %s\n", c->name, c->summary);
	core_cli_help_global_flags(f);
	fprintf(f,
	        "\nEnvironment:\n"
	        "  CONTOUR_MODULE_PATH     colon-separated folders searched for modules first\n"
	        "                          (compiled-in folder: %s)\n"
	        "\nSee 'contour help COMMAND' or 'contour COMMAND --help'.\n",
	        CONTOUR_MODULE_DIR);
}

void core_cli_usage(FILE *f)
{
	usage(f);
}

int core_cli_builtin_info(const char *name, const char **args, const char **summary)
{
	for (const cli_command_t *c = commands; c->name; c++)
		if (!strcmp(c->name, name)) {
			*args = c->args;
			*summary = c->summary;
			return 1;
		}
	return 0;
}

int core_command_is_builtin(const char *name)
{
	for (const cli_command_t *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return 1;
	return 0;
}

/* A core with the installed modules that provide sub-commands loaded and
 * initialised (never started), or NULL. */
static core_t *module_command_core(json_t *errors)
{
	core_conf_t *conf = NULL;
	if (core_conf_load_buf("", 0, NULL, &conf, errors) != CONTOUR_EOK)
		return NULL;
	core_t *core = core_new(NULL);
	if (!core) {
		core_conf_free(conf);
		return NULL;
	}
	core->conf = conf;
	core->render_mode = 1;
	/* A module that fails to load is reported only if nothing runs. */
	core_loader_add_flagged(core, CONTOUR_MODULE_F_COMMAND, errors);
	core_loader_keep_flagged(core, CONTOUR_MODULE_F_COMMAND);
	if (core_modules_init_start_some(core, start_none) != CONTOUR_EOK) {
		core_free(core);
		return NULL;
	}
	return core;
}

/* A command the core does not know: run the module command called
 * argv[0]. Returns the exit status, or -1 when no module provides it. */
static int run_module_command(cli_opts_t *o, int argc, char **argv)
{
	json_t *errors = json_array();
	core_t *core = module_command_core(errors);
	int status = -1;
	const core_command_t *c = core ? core_command_find(core, argv[0]) : NULL;
	if (c)
		status = core_command_run(c, argc, argv);
	if (status < 0 && o->debug)
		print_errors(errors, 0);
	core_free(core);
	json_decref(errors);
	return status;
}

int core_cli_run_module_command(cli_opts_t *o, int argc, char **argv)
{
	return run_module_command(o, argc, argv);
}

/* Upstream's boolean serve flags (kingpin Bool): a bare `--flag` is true
 * and the next word is never its value. Every other serve flag takes one. */
static const char *const serve_bool_flags[] = {
    "--insecure", "--incluster", "--disable-leader-election", "--use-proxy-protocol", NULL,
};

static int serve_flag_is_bool(const char *name)
{
	for (const char *const *b = serve_bool_flags; *b; b++)
		if (!strcmp(*b, name))
			return 1;
	return 0;
}

/* `--flag=value`, `--flag value`, or a bare boolean `--flag` (true). Any
 * other flag with no value (the end of the line, or another flag next) is
 * kept as null: whoever takes it says it needs a value (a boolean key of a
 * module's schema takes it as true). */
static int serve_flag(cli_opts_t *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	const char *eq = strchr(a, '=');
	char name[128];
	const char *value = "true";
	if (eq) {
		snprintf(name, sizeof(name), "%.*s", (int)(eq - a), a);
		value = eq + 1;
	} else {
		snprintf(name, sizeof(name), "%s", a);
		if (!serve_flag_is_bool(name)) {
			if (*i + 1 >= argc || (argv[*i + 1][0] == '-' && argv[*i + 1][1] == '-'))
				value = NULL;
			else
				value = argv[++*i];
		}
	}
	if (!o->serve_flags)
		o->serve_flags = json_object();
	/* --disable-feature repeats (kingpin's EnumsVar): keep every value. */
	const json_t *had = json_object_get(o->serve_flags, name);
	if (value && json_is_string(had) && !strcmp(name, "--disable-feature"))
		return json_object_set_new(o->serve_flags, name,
		                           json_sprintf("%s,%s", json_string_value(had), value));
	return json_object_set_new(o->serve_flags, name, value ? json_string(value) : json_null());
}

/* Upstream serve flags that set global settings rather than a module's. */
static const struct {
	const char *flag, *key;
} global_flags[] = {
    {"--root-namespaces", "root-namespaces"},
    {"--ingress-class-name", "ingress-class-name"},
    {"--watch-namespaces", "watch-namespaces"},
    {"--ingress-status-address", "ingress-status-address"},
    {"--envoy-service-name", "envoy-service-name"},
    {"--envoy-service-namespace", "envoy-service-namespace"},
    {"--accesslog-format", "accesslog-format"},
};

static void apply_global_flags(core_conf_t *conf, json_t *flags)
{
	for (size_t i = 0; flags && i < sizeof(global_flags) / sizeof(global_flags[0]); i++) {
		const json_t *v = json_object_get(flags, global_flags[i].flag);
		if (!v)
			continue;
		/* In root too: the global keys are checked again once the modules
		 * are loaded, and conf->global is then rebuilt from root. */
		json_object_set(conf->root, global_flags[i].key, (json_t *)v);
		json_object_set(conf->global, global_flags[i].key, (json_t *)v);
		json_object_del(flags, global_flags[i].flag);
	}
}

static int is_global_flag(const char *arg)
{
	size_t n = strcspn(arg, "=");
	for (size_t i = 0; i < sizeof(global_flags) / sizeof(global_flags[0]); i++)
		if (strlen(global_flags[i].flag) == n && !strncmp(global_flags[i].flag, arg, n))
			return 1;
	return 0;
}

static const cli_command_t *find_command(const char *name)
{
	for (const cli_command_t *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* The value of a flag given as `--flag=value` or `--flag value`. */
static const char *flag_value(int argc, char **argv, int *i, const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (eq)
		return eq + 1;
	if (*i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static int flag_is(const char *arg, const char *name)
{
	size_t n = strlen(name);
	return !strncmp(arg, name, n) && (arg[n] == '\0' || arg[n] == '=');
}

static int apply_logging(cli_opts_t *o, const core_conf_t *conf)
{
	core_log_format_t fmt = CORE_LOG_TEXT;
	if (o->log_format && core_log_format_parse(o->log_format, &fmt) != CONTOUR_EOK) {
		fprintf(stderr, "contour: --log-format must be text or json, not '%s'\n",
		        o->log_format);
		return 1;
	}
	int debug = o->debug;
	if (!debug && conf)
		debug = json_is_true(core_conf_lookup(conf->global, "debug"));
	core_log_configure(fmt, debug ? CONTOUR_LOG_DEBUG : CONTOUR_LOG_INFO);
	return 0;
}

static void print_errors(const json_t *errors, int as_log)
{
	size_t i;
	json_t *e;
	json_array_foreach(errors, i, e)
	{
		if (as_log)
			contour_log(NULL, CONTOUR_LOG_ERR, "%s", json_string_value(e));
		else
			fprintf(stderr, "%s\n", json_string_value(e));
	}
}

/* One message of a command: a log line when the command logs (serve), else
 * a line on stderr, "warning: " first for a warning (check-config). */
static void __attribute__((format(printf, 3, 4)))
cli_say(int as_log, contour_log_level_t level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (as_log) {
		contour_logv(NULL, level, fmt, ap);
	} else {
		if (level == CONTOUR_LOG_WARN)
			fputs("warning: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

static int load_conf(cli_opts_t *o, core_conf_t **conf, json_t *errors)
{
	if (o->config)
		return core_conf_load_file(o->config, conf, errors);
	/* No file is a file without `modules`: the default set, as below. */
	return core_conf_load_buf("", 0, NULL, conf, errors);
}

/* ---- the default role: a config without `modules` ---- */

/* Why a config without `modules` runs against a cluster: a serve flag or
 * a global key that names one (never the environment, so that a local
 * `contour serve` inside a pod still runs the local role). NULL: none. */
static const char *cluster_reason(const cli_opts_t *o, const core_conf_t *conf, char *buf,
                                  size_t len)
{
	const json_t *f = json_object_get(o->serve_flags, "--incluster");
	if (f && strcmp(json_string_value(f), "false"))
		return "--incluster given";
	if (json_object_get(o->serve_flags, "--kubeconfig"))
		return "--kubeconfig given";
	const char *file = conf->path ? conf->path : "the config";
	if (json_is_true(json_object_get(conf->global, "incluster")))
		return snprintf(buf, len, "incluster: true in %s", file), buf;
	if (json_is_string(json_object_get(conf->global, "kubeconfig")))
		return snprintf(buf, len, "kubeconfig set in %s", file), buf;
	return NULL;
}

/* Pick the module set of a config without `modules` and say which and why
 * (the first log line). A config with `modules` is left alone. */
static int pick_default_role(const cli_opts_t *o, core_conf_t *conf)
{
	if (!conf->modules_defaulted)
		return 0;
	char why[4096], where[4096];
	const char *reason = cluster_reason(o, conf, why, sizeof(why));
	if (reason && core_conf_use_modules(conf, core_conf_split_text()) != CONTOUR_EOK)
		return 1;
	if (conf->path)
		snprintf(where, sizeof(where), "no modules in %s", conf->path);
	else
		snprintf(where, sizeof(where), "no --config-path");
	char *names = core_conf_module_names(conf);
	if (reason)
		contour_log(NULL, CONTOUR_LOG_INFO,
		            "%s and %s: running the split control plane (%s)", where, reason,
		            names ? names : "");
	else
		contour_log(NULL, CONTOUR_LOG_INFO,
		            "%s and no --incluster, --kubeconfig, incluster or kubeconfig: running "
		            "the local role (%s)",
		            where, names ? names : "");
	free(names);
	return 0;
}

/* Upstream serve flags this project does not implement yet: accepted, with
 * a warning, so upstream's command lines run. same_as/def: the flag is
 * silent when its value equals that flag's (both with upstream's
 * defaults): health served on the metrics listener, as upstream does. */
static const struct {
	const char *flag, *same_as, *def, *same_def;
} unimplemented_flags[] = {
    {"--contour-config-name", NULL, NULL, NULL},
    {"--health-address", "--http-address", "0.0.0.0", "0.0.0.0"},
    {"--health-port", "--http-port", "8000", "8000"},
    {"--use-proxy-protocol", NULL, NULL, NULL},
    {"--kubernetes-client-qps", NULL, NULL, NULL},
    {"--kubernetes-client-burst", NULL, NULL, NULL},
    {"--kubernetes-debug", NULL, NULL, NULL},
};

/* Warn once for each unimplemented flag given and drop it, before the
 * modules take theirs. */
static void accept_unimplemented_flags(json_t *flags, json_t *warnings)
{
	size_t n = sizeof(unimplemented_flags) / sizeof(unimplemented_flags[0]);
	for (size_t i = 0; flags && i < n; i++) {
		const json_t *v = json_object_get(flags, unimplemented_flags[i].flag);
		if (!v)
			continue;
		if (unimplemented_flags[i].same_as) {
			const json_t *o = json_object_get(flags, unimplemented_flags[i].same_as);
			const char *other = o ? json_string_value(o) : unimplemented_flags[i].same_def;
			if (json_is_string(v) && !strcmp(json_string_value(v), other)) {
				json_object_del(flags, unimplemented_flags[i].flag);
				continue;
			}
		}
		json_array_append_new(warnings,
		                      json_sprintf("flag %s is accepted but not implemented yet: "
		                                   "ignored",
		                                   unimplemented_flags[i].flag));
		json_object_del(flags, unimplemented_flags[i].flag);
	}
}

/* --disable-feature stops upstream from starting the informers of kinds
 * this project does not watch at all: each value is checked against
 * upstream's enum, and then there is nothing to disable. Returns the
 * number of bad values. */
static int disable_feature_flag(json_t *flags, int as_log)
{
	static const char *const features[] = {"extensionservices", "tlsroutes", "grpcroutes",
	                                       "tcproutes", "backendtlspolicies", NULL};
	const json_t *v = json_object_get(flags, "--disable-feature");
	if (json_is_null(v)) {
		cli_say(as_log, CONTOUR_LOG_ERR, "flag '--disable-feature' needs a value");
		return 1;
	}
	if (!json_is_string(v))
		return 0;
	int nerr = 0;
	const char *p = json_string_value(v);
	while (*p) {
		size_t n = strcspn(p, ",");
		const char *const *f = features;
		while (*f && (strlen(*f) != n || strncmp(*f, p, n)))
			f++;
		if (!*f) {
			cli_say(as_log, CONTOUR_LOG_ERR,
			        "flag --disable-feature: enum value must be one of extensionservices,"
			        "tlsroutes,grpcroutes,tcproutes,backendtlspolicies, got '%.*s'",
			        (int)n, p);
			nerr++;
		}
		p += n + (p[n] == ',');
	}
	if (!nerr)
		contour_log(NULL, CONTOUR_LOG_INFO,
		            "--disable-feature=%s: this project starts no informer for those kinds "
		            "(it serves none of them), so there is nothing to disable",
		            json_string_value(v));
	json_object_del(flags, "--disable-feature");
	return nerr;
}

/* The flags serve's core takes itself, before the modules take theirs:
 * the global settings (a missing value is an error naming the flag) and
 * the unimplemented ones (a warning each). Returns 0, or 1 after printing
 * the errors. */
static int core_serve_flags(cli_opts_t *o, core_conf_t *conf, int as_log)
{
	int nerr = 0;
	for (size_t i = 0; o->serve_flags && i < sizeof(global_flags) / sizeof(global_flags[0]);
	     i++) {
		if (!json_is_null(json_object_get(o->serve_flags, global_flags[i].flag)))
			continue;
		cli_say(as_log, CONTOUR_LOG_ERR, "flag '%s' needs a value", global_flags[i].flag);
		nerr++;
	}
	nerr += disable_feature_flag(o->serve_flags, as_log);
	if (nerr)
		return 1;
	apply_global_flags(conf, o->serve_flags);
	json_t *warnings = json_array();
	accept_unimplemented_flags(o->serve_flags, warnings);
	size_t i;
	json_t *e;
	json_array_foreach(warnings, i, e)
	    contour_log(NULL, CONTOUR_LOG_WARN, "%s", json_string_value(e));
	json_decref(warnings);
	return 0;
}

/* Upstream's keys the file sets that no loaded module reads: accepted, so
 * upstream's contour.yaml loads, and named once so nobody believes them in
 * effect. */
static void warn_unread(const core_t *core, int as_log)
{
	char *names = core_conf_module_names(core->conf);
	size_t i;
	json_t *e;
	json_array_foreach(core->conf->unread, i, e)
	    cli_say(as_log, CONTOUR_LOG_WARN,
	            "config key %s is accepted but not implemented by the loaded modules (%s): "
	            "ignored",
	            json_string_value(e), names ? names : "");
	free(names);
}

static int cmd_serve(cli_opts_t *o)
{
	json_t *errors = json_array();
	core_conf_t *conf = NULL;
	core_t *core = NULL;
	int status = 1;

	if (load_conf(o, &conf, errors) != CONTOUR_EOK) {
		print_errors(errors, 1);
		goto out;
	}
	if (apply_logging(o, conf))
		goto out;
	if (pick_default_role(o, conf))
		goto out;
	core = core_new(NULL);
	if (!core) {
		contour_log(NULL, CONTOUR_LOG_ERR, "cannot create the event loop");
		goto out;
	}
	core->conf = conf;
	conf = NULL;
	if (core_serve_flags(o, core->conf, 1))
		goto out;
	core->cli_flags = o->serve_flags;
	o->serve_flags = NULL;
	if (core_loader_load_all(core, errors) != CONTOUR_EOK) {
		print_errors(errors, 1);
		goto out;
	}
	if (json_object_size(core->cli_flags)) {
		const char *flag;
		json_t *v;
		json_object_foreach(core->cli_flags, flag, v)
		{
			contour_log(
			    NULL, CONTOUR_LOG_ERR,
			    "unknown flag '%s': no loaded module takes it; see 'contour help'",
			    flag);
		}
		goto out;
	}
	warn_unread(core, 1);
	int rc = core_loop_signals_install(core);
	if (rc == CONTOUR_EOK)
		rc = core_modules_init_start(core);
	if (rc != CONTOUR_EOK) {
		contour_log(NULL, CONTOUR_LOG_ERR, "startup failed: %s", contour_strerror(rc));
		goto out;
	}
	contour_log(NULL, CONTOUR_LOG_INFO, "contour %s started: %zu modules, config %s",
	            PACKAGE_VERSION, core->nmods,
	            core->conf->path ? core->conf->path : "(built-in default)");
	if (core_loop_run(core) != CONTOUR_EOK)
		goto out;
	status = 0;
out:
	core_free(core);
	if (status == 0)
		contour_log(NULL, CONTOUR_LOG_INFO, "stopped");
	core_conf_free(conf);
	json_decref(errors);
	return status;
}

static int cmd_check_config(cli_opts_t *o)
{
	if (!o->config && o->npositional == 1)
		o->config = o->positional[0];
	if (!o->config || o->npositional > 1) {
		fprintf(stderr, "usage: contour check-config FILE [SERVE-FLAGS...]\n");
		return 1;
	}
	json_t *errors = json_array();
	core_conf_t *conf = NULL;
	core_t *core = NULL;
	int status = 1;
	if (core_conf_load_file(o->config, &conf, errors) != CONTOUR_EOK)
		goto out;
	if (pick_default_role(o, conf))
		goto out;
	core = core_new(NULL);
	if (!core)
		goto out;
	core->conf = conf;
	conf = NULL;
	/* serve's own flags, as serve applies them: check-config validates
	 * exactly the command line a manifest runs. */
	if (core_serve_flags(o, core->conf, 0))
		goto out;
	core->cli_flags = o->serve_flags;
	o->serve_flags = NULL;
	/* Loading runs every module's schema and check hook; nothing starts. */
	if (core_loader_load_all(core, errors) != CONTOUR_EOK)
		goto out;
	if (json_object_size(core->cli_flags)) {
		const char *flag;
		json_t *v;
		json_object_foreach(core->cli_flags, flag, v)
		{
			json_array_append_new(
			    errors, json_sprintf("unknown flag '%s': no loaded module takes it", flag));
		}
		goto out;
	}
	warn_unread(core, 0);
	printf("%s: OK (%zu modules)\n", o->config, core->nmods);
	status = 0;
out:
	print_errors(errors, 0);
	core_free(core);
	core_conf_free(conf);
	json_decref(errors);
	return status;
}

/* The status records of a snapshot as render prints them. */
typedef struct render_status {
	json_t *list;
} render_status_t;

static int render_collect(const contour_object_key_t *key, const json_t *status, void *ud)
{
	render_status_t *r = ud;
	json_array_append_new(r->list,
	                      json_pack("{s:s, s:s, s:s, s:s, s:O}", "apiVersion", key->api_version,
	                                "kind", key->kind, "namespace", key->namespace_, "name",
	                                key->name, "status", status));
	return 0;
}

static int render_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	static const char *const fields[] = {"kind", "namespace", "name", "apiVersion"};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		int c = strcmp(json_string_value(json_object_get(x, fields[i])),
		               json_string_value(json_object_get(y, fields[i])));
		if (c)
			return c;
	}
	return 0;
}

/* Sorted by kind, namespace and name, as the format says. */
static json_t *render_statuses(contour_snapshot_t *snap)
{
	render_status_t r = {.list = json_array()};
	contour_snapshot_foreach_status(snap, render_collect, &r);
	size_t n = json_array_size(r.list);
	json_t **items = calloc(n ? n : 1, sizeof(*items));
	for (size_t i = 0; items && i < n; i++)
		items[i] = json_incref(json_array_get(r.list, i));
	if (items)
		qsort(items, n, sizeof(*items), render_cmp);
	json_t *sorted = json_array();
	for (size_t i = 0; items && i < n; i++)
		json_array_append_new(sorted, items[i]);
	free(items);
	json_decref(r.list);
	return sorted;
}

/* Manifest paths for file-watch, made absolute: it resolves relative paths
 * against the config file's folder, but on the command line they are the
 * operator's, relative to the cwd. */
static json_t *render_paths(cli_opts_t *o)
{
	json_t *paths = json_array();
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	for (int i = 0; i < o->npositional; i++) {
		const char *p = o->positional[i];
		if (p[0] == '/')
			json_array_append_new(paths, json_string(p));
		else
			json_array_append_new(paths, json_sprintf("%s/%s", cwd, p));
	}
	return paths;
}

static int start_none(const contour_module_t *mod)
{
	return 0;
}

static int render_starts(const contour_module_t *mod)
{
	return !(mod->desc->flags & CONTOUR_MODULE_F_RENDER);
}

core_t *core_cli_offline_new(cli_opts_t *o, const char *what, json_t *errors)
{
	core_conf_t *conf = NULL;
	core_t *core = NULL;
	json_t *fw = NULL;
	int rc = o->config ? core_conf_load_file(o->config, &conf, errors)
	                   : core_conf_load_buf("", 0, NULL, &conf, errors);
	if (rc != CONTOUR_EOK)
		goto fail;
	core = core_new(NULL);
	if (!core)
		goto fail;
	core->conf = conf;
	conf = NULL;
	core->render_mode = 1;
	apply_global_flags(core->conf, o->serve_flags);
	/* The same processors as serve: those the config lists, or, with no
	 * module list, every installed processor module. */
	if (core->conf->modules_defaulted) {
		rc = core_loader_add_processors(core, errors);
	} else {
		rc = core_loader_load_all(core, errors);
		core_loader_keep_processors(core);
	}
	if (rc != CONTOUR_EOK)
		goto fail;
	/* The source that reads the files: any module that declares it can,
	 * given {paths: [...]}. */
	fw = json_pack("{s:o}", "paths", render_paths(o));
	if (core_loader_add_source(core, o->source ? o->source : "file-watch", fw, errors) !=
	    CONTOUR_EOK)
		goto fail;
	if (core_loader_check_globals(core, errors) != CONTOUR_EOK)
		goto fail;
	/* Format providers are initialised (they register their formats) but
	 * never started: an offline command opens no socket. */
	if (core_modules_init_start_some(core, render_starts) != CONTOUR_EOK)
		goto fail;
	rc = core_pipeline_build_now(core->pipeline);
	if (rc != CONTOUR_EOK || !contour_snapshot_current(&core->self)) {
		fprintf(stderr, "contour %s: the build failed: %s\n", what, contour_strerror(rc));
		goto fail;
	}
	json_decref(fw);
	return core;
fail:
	core_free(core);
	core_conf_free(conf);
	json_decref(fw);
	return NULL;
}

void core_cli_print_errors(const json_t *errors)
{
	print_errors(errors, 0);
}

/* Keep stdout for the result and stderr for problems only. */
static void offline_logging(cli_opts_t *o)
{
	if (o->debug)
		return;
	core_log_format_t fmt = CORE_LOG_TEXT;
	if (o->log_format)
		core_log_format_parse(o->log_format, &fmt);
	core_log_configure(fmt, CONTOUR_LOG_WARN);
}

static int render_print(core_t *core, const char *format)
{
	int builtin = !strcmp(format, "status") || !strcmp(format, "dag") || !strcmp(format, "dot");
	const core_render_format_t *extra = builtin ? NULL : core_render_find(core, format);
	if (!builtin && !extra) {
		fprintf(stderr, "contour render: --format must be status, dag, dot%s, not '%s'\n",
		        core_render_names(core), format);
		return 1;
	}
	contour_snapshot_t *snap = contour_snapshot_current(&core->self);
	if (extra) {
		int rc = core_render_run(extra, snap, stdout);
		if (rc != CONTOUR_EOK) {
			fprintf(stderr, "contour render: %s: %s\n", format, contour_strerror(rc));
			return 1;
		}
	} else if (!strcmp(format, "dot")) {
		char *dot = contour_dag_to_dot(contour_snapshot_dag(snap));
		if (!dot)
			return 1;
		fputs(dot, stdout);
		free(dot);
	} else {
		json_t *out = !strcmp(format, "dag")
		                  ? contour_dag_to_json(contour_snapshot_dag(snap))
		                  : render_statuses(snap);
		if (!out || json_dumpf(out, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
			json_decref(out);
			return 1;
		}
		fputc('\n', stdout);
		json_decref(out);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_render(cli_opts_t *o)
{
	if (o->npositional == 0) {
		fprintf(stderr, "usage: contour render [--config FILE] [--format status|dag|dot] "
		                "[--source MODULE] PATH...\n");
		return 1;
	}
	offline_logging(o);
	json_t *errors = json_array();
	core_t *core = core_cli_offline_new(o, "render", errors);
	int status = core ? render_print(core, o->format ? o->format : "status") : 1;
	size_t failed = core ? core_store_source_errors(core->store) : 0;
	if (failed) {
		fprintf(stderr, "contour render: %zu input(s) could not be read or parsed\n", failed);
		status = 1;
	}
	print_errors(errors, 0);
	core_free(core);
	json_decref(errors);
	return status;
}

static int cmd_review(cli_opts_t *o)
{
	if (o->npositional == 0 || !o->object) {
		fprintf(stderr, "usage: contour review --object FILE [--operation CREATE|UPDATE|DELETE] "
		                "[--config FILE] [--source MODULE] PATH...\n");
		return 1;
	}
	offline_logging(o);
	return core_cli_review(o);
}

static int cmd_version(cli_opts_t *o)
{
	printf("contour %s (module ABI %d.%d)\n", PACKAGE_VERSION, CONTOUR_ABI_MAJOR,
	       CONTOUR_ABI_MINOR);
	return 0;
}

static int cmd_help(cli_opts_t *o)
{
	if (o->npositional >= 1)
		return core_cli_help_command(o, o->npositional, o->positional);
	usage(stdout);
	json_t *errors = json_array();
	core_t *core = module_command_core(errors);
	const char *more = core ? core_command_help(core) : "";
	if (*more)
		printf("\nCommands from installed modules:\n%s", more);
	core_free(core);
	json_decref(errors);
	return 0;
}

int core_cli_main(int argc, char **argv)
{
	cli_opts_t o = {0};
	const cli_command_t *cmd = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (flag_is(a, "--config") || flag_is(a, "--config-path") || !strcmp(a, "-c")) {
			if (!(o.config = flag_value(argc, argv, &i, a)))
				goto missing;
		} else if (flag_is(a, "--format")) {
			if (!(o.format = flag_value(argc, argv, &i, a)))
				goto missing;
		} else if (flag_is(a, "--source")) {
			if (!(o.source = flag_value(argc, argv, &i, a)))
				goto missing;
		} else if (flag_is(a, "--object")) {
			if (!(o.object = flag_value(argc, argv, &i, a)))
				goto missing;
		} else if (flag_is(a, "--operation")) {
			if (!(o.operation = flag_value(argc, argv, &i, a)))
				goto missing;
		} else if (flag_is(a, "--log-format")) {
			if (!(o.log_format = flag_value(argc, argv, &i, a)))
				goto missing;
		} else if (!strcmp(a, "--debug") || !strcmp(a, "-d")) {
			o.debug = 1;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			if (!cmd) {
				usage(stdout);
				return 0;
			}
			o.help = 1;
		} else if (a[0] == '-' && a[1] == '-' && a[2] != '\0' && cmd &&
		           (cmd->run == cmd_serve || cmd->run == cmd_check_config)) {
			/* Upstream's serve flags belong to modules (their cli_flags
			 * tables) or to the global settings; kept for the loader.
			 * check-config takes them too (FILE first, or --config). */
			if (serve_flag(&o, argc, argv, &i) != 0)
				return 1;
		} else if (cmd && (cmd->run == cmd_render || cmd->run == cmd_review) &&
		           is_global_flag(a)) {
			/* render builds what serve would: the same class and
			 * root-namespace filters apply. */
			if (serve_flag(&o, argc, argv, &i) != 0)
				return 1;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "contour: unknown flag '%s'; see 'contour help'\n", a);
			return 1;
		} else if (!cmd) {
			cmd = find_command(a);
			if (!cmd) {
				/* Everything from here on is the module command's. */
				if (apply_logging(&o, NULL))
					return 1;
				int rc = run_module_command(&o, argc - i, argv + i);
				if (rc >= 0)
					return rc;
				fprintf(stderr, "contour: unknown command '%s'\n\n", a);
				usage(stderr);
				return 2;
			}
		} else if (o.npositional < (int)(sizeof(o.positional) / sizeof(o.positional[0]))) {
			o.positional[o.npositional++] = a;
		} else {
			fprintf(stderr, "contour: too many arguments\n");
			return 1;
		}
		continue;
	missing:
		fprintf(stderr, "contour: flag '%s' needs a value\n", a);
		return 1;
	}
	if (!cmd) {
		usage(stderr);
		return 2;
	}
	if (cmd->run != cmd_help && cmd->run != cmd_check_config && cmd->run != cmd_render &&
	    cmd->run != cmd_review && o.npositional) {
		fprintf(stderr, "contour %s: unexpected argument '%s'\n", cmd->name,
		        o.positional[0]);
		return 1;
	}
	/* A bad --log-format is an error whatever the command. */
	if (apply_logging(&o, NULL)) {
		json_decref(o.serve_flags);
		return 1;
	}
	int status = o.help ? core_cli_help_command(&o, 1, &cmd->name) : cmd->run(&o);
	json_decref(o.serve_flags);
	return status;
}
