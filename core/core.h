/* core/core.h: the core's private types and functions. Never installed;
 * modules see only include/contour/. */
#ifndef CORE_CORE_H
#define CORE_CORE_H

#include <stdio.h>
#include <stdint.h>
#include <jansson.h>
#include <contour/module.h>

typedef struct core core_t;
typedef struct core_store core_store_t;
typedef struct core_pipeline core_pipeline_t;
typedef struct core_metrics core_metrics_t;
typedef struct core_conf core_conf_t;

/* Lifecycle of a module handle. Registration is allowed only while
 * CORE_MOD_INITIALISING, and always for the core's own handle. */
typedef enum {
	CORE_MOD_LOADED = 0,
	CORE_MOD_INITIALISING,
	CORE_MOD_INITIALISED,
	CORE_MOD_STARTED,
	CORE_MOD_STOPPED,
	CORE_MOD_FREED,
	CORE_MOD_CORE, /* the core's own handle: may register at any time */
} core_mod_state_t;

struct contour_module {
	core_t *core;
	const contour_module_desc_t *desc;
	void *dl;         /* dlopen handle, NULL for a built-in descriptor */
	char *name;       /* from the config entry */
	char *file;       /* shared object path, or "(built-in)" */
	json_t *config;   /* validated `config:` with defaults; owned */
	int config_line;  /* line of the module entry, 0 if unknown */
	void *ctx;
	core_mod_state_t state;
};

struct core {
	struct event_base *base;
	int own_base;
	core_conf_t *conf;         /* NULL until a config is loaded */
	core_store_t *store;
	core_pipeline_t *pipeline;
	core_metrics_t *metrics;
	contour_module_t self;     /* the core's own handle, named "core" */
	contour_module_t **mods;   /* in config order */
	size_t nmods;
	int64_t holdoff_ms, holdoff_max_ms;
	struct event *sig_term, *sig_int, *sig_hup;
	struct core_secret_cache *secret_cache; /* dag_lookup.c, across builds */
	struct core_render_format *render_formats; /* render.c, a list */
	struct core_command *commands;             /* command.c, a list */
	struct core_validator *validators;         /* admission.c, a list */
	struct contour_health_check *health;       /* health.c, a list */
	int render_mode; /* `contour render`: render-format modules are never started */
	json_t *cli_flags; /* serve's unknown flags: {"--flag": "value"}, consumed
	                      by modules' cli_flags tables; owned */
};

/* core.c */
core_t *core_new(struct event_base *base); /* base NULL: create one */
void core_free(core_t *core);              /* stops and frees modules first */
/* core_may_register: CONTOUR_EOK if mod may register now, else
 * CONTOUR_ESTATE (logged, naming the module and the call). */
int core_may_register(contour_module_t *mod, const char *what);
/* core_drop_registrations: undo everything mod registered (rollback). */
void core_drop_registrations(core_t *core, contour_module_t *mod);

/* log.c */
typedef enum { CORE_LOG_TEXT, CORE_LOG_JSON } core_log_format_t;
int core_log_format_parse(const char *s, core_log_format_t *out);
void core_log_configure(core_log_format_t fmt, contour_log_level_t min_level);
void core_log_set_stream(FILE *f); /* NULL: stderr */

/* duration.c: contour_duration_parse is public. */

/* conf.c: the config file. */
struct core_conf {
	char *path;              /* NULL for the embedded default */
	json_t *root;            /* the whole document */
	json_t *global;          /* root without `modules`, defaults filled */
	contour_yaml_pos_t *pos; /* positions in root */
	int modules_defaulted;   /* the file had no `modules:` list */
	int globals_checked;     /* core_conf_check_globals has run */
	json_t *unread;          /* global keys set that no loaded module types,
	                            as dotted paths (core_conf_check_globals) */
};
/* core_conf_load: parse the file and check the top level: the runtime's
 * keys, and that every other key is one of upstream's names. The keys
 * modules type, and module sections, are checked later, once the modules'
 * schemas are known.
 * Errors are appended to `errors` (a JSON array of "FILE:LINE: key: problem"
 * strings). Returns CONTOUR_EOK, CONTOUR_EPARSE or CONTOUR_ECONFIG. */
int core_conf_load_file(const char *path, core_conf_t **out, json_t *errors);
int core_conf_load_buf(const char *buf, size_t len, const char *name, core_conf_t **out,
                       json_t *errors);
void core_conf_free(core_conf_t *conf);
/* core_conf_validate: check `value` against `schema`, filling defaults into
 * value (which must be an object). `where` prefixes keys in messages
 * ("modules[1].config"). Appends messages to errors; returns their number. */
int core_conf_validate(const core_conf_t *conf, json_t *value, const contour_conf_item_t *schema,
                       const char *where, json_t *errors);
/* core_conf_error: append "FILE:LINE: key: problem" to errors. */
void core_conf_error(const core_conf_t *conf, int line, json_t *errors, const char *key,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* core_conf_validate_known: as core_conf_validate at the top level, but a
 * key the schema does not name is left alone (its name was checked when the
 * file was parsed). */
int core_conf_validate_known(const core_conf_t *conf, json_t *value,
                             const contour_conf_item_t *schema, json_t *errors);
/* conf_global.c: the runtime's keys (typed at parse time, the core's only),
 * the domain layer's keys, and the names of upstream's contour.yaml keys. */
extern const contour_conf_item_t core_runtime_schema[];
extern const contour_conf_item_t core_domain_global_schema[];
extern const contour_conf_item_t core_upstream_names[];
/* conf_merge.c */
/* One table of global keys and who contributed it ("core", a module name). */
typedef struct core_conf_table {
	const char *owner;
	const contour_conf_item_t *schema; /* NULL for none */
} core_conf_table_t;
/* core_conf_merge: merge tables[0..n) into *out (free with
 * core_conf_merged_free). A key two tables type must agree (type, flags,
 * default, range); mappings with children merge key by key. Each
 * disagreement appends "global key K: typed differently by A and B" to
 * errors. Returns CONTOUR_EOK, CONTOUR_ECONFIG or CONTOUR_ENOMEM. */
int core_conf_merge(const core_conf_table_t *tables, size_t n, contour_conf_item_t **out,
                    json_t *errors);
void core_conf_merged_free(contour_conf_item_t *table);
/* core_conf_check_globals: check the file's global keys against the merged
 * tables (the domain's and the loaded modules'), fill their defaults, and
 * make conf->global the result. A table may type only upstream's names and
 * never the runtime's keys. The keys the file sets that no table types
 * (upstream's, accepted but read by nothing loaded) are listed in
 * conf->unread. Runs once per conf; a second call returns CONTOUR_EOK.
 * Returns CONTOUR_EOK, CONTOUR_ECONFIG or CONTOUR_ENOMEM. */
int core_conf_check_globals(core_conf_t *conf, const core_conf_table_t *tables, size_t n,
                            json_t *errors);
/* The embedded default config (file-watch over the installed examples). */
const char *core_conf_default_text(void);
/* The split control plane's modules (k8s-watch ... metrics), for a file
 * without `modules` run against a cluster. */
const char *core_conf_split_text(void);
/* core_conf_use_modules: replace the defaulted module list of conf (one
 * with modules_defaulted set) by the `modules:` of the YAML text. */
int core_conf_use_modules(core_conf_t *conf, const char *text);
/* core_conf_module_names: "a, b, c" for the modules conf lists; the caller
 * frees it. */
char *core_conf_module_names(const core_conf_t *conf);
/* core_conf_lookup: value at dotted path in obj, or NULL. */
const json_t *core_conf_lookup(const json_t *obj, const char *path);

/* loader.c */
/* core_loader_load_all: resolve, dlopen and check every module entry of
 * core->conf, validate its config, run each descriptor's check, then check
 * the global keys (core_loader_check_globals). Errors are appended to
 * errors. Returns CONTOUR_EOK or the first error code. */
int core_loader_load_all(core_t *core, json_t *errors);
/* core_loader_add_source: load the source module `name` with config, as
 * core_loader_add does, refusing one whose descriptor lacks
 * CONTOUR_MODULE_F_SOURCE before its config is checked. */
int core_loader_add_source(core_t *core, const char *name, json_t *config, json_t *errors);
/* core_loader_check_globals: check the file's global keys against the
 * domain layer's table and the global_schema of every loaded module
 * (core_conf_check_globals). Once per config. */
int core_loader_check_globals(core_t *core, json_t *errors);
/* core_loader_add: load module `name` from the search path with config
 * (borrowed; NULL = {}), appended after those already loaded. */
int core_loader_add(core_t *core, const char *name, json_t *config, json_t *errors,
                    contour_module_t **out);
/* core_loader_add_processors: load every module in the search path whose
 * descriptor has CONTOUR_MODULE_F_PROCESSOR or CONTOUR_MODULE_F_RENDER and
 * is not loaded yet. */
int core_loader_add_processors(core_t *core, json_t *errors);
/* core_loader_add_flagged: the same for modules with any of the flags in
 * mask. */
int core_loader_add_flagged(core_t *core, uint32_t mask, json_t *errors);
/* core_loader_keep_processors: unload every loaded module (not yet
 * initialised) that is neither a processor nor a render-format provider. */
void core_loader_keep_processors(core_t *core);
void core_loader_keep_flagged(core_t *core, uint32_t mask);
/* core_module_add_builtin: a module handle for a descriptor linked into the
 * process (tests, benchmarks). config may be NULL (= {}); it is validated. */
int core_module_add_builtin(core_t *core, const contour_module_desc_t *desc, json_t *config,
                            json_t *errors, contour_module_t **out);
/* core_modules_init_start_some: as core_modules_init_start, but start only
 * the modules for which start_it returns non-zero (render: not the
 * CONTOUR_MODULE_F_RENDER ones). */
int core_modules_init_start_some(core_t *core, int (*start_it)(const contour_module_t *mod));
/* core_modules_init_start: init every module in order, then start every
 * module in order; on any failure roll back (stop started ones in reverse,
 * free initialised ones in reverse, undo registrations) and return the error. */
int core_modules_init_start(core_t *core);
/* core_modules_stop_free: stop then free every module in reverse order and
 * unload them. Idempotent. */
void core_modules_stop_free(core_t *core);

/* loop.c */
/* core_loop_signals_install: route SIGTERM/SIGINT to a clean loop exit
 * (SIGHUP is logged and ignored, SIGPIPE ignored). Install before starting
 * modules, so a signal that arrives during startup waits for the loop
 * instead of killing the process. Idempotent; removed by core_free. */
int core_loop_signals_install(core_t *core);
void core_loop_signals_remove(core_t *core);
/* core_loop_run: install the signals if needed, then dispatch until
 * SIGTERM/SIGINT or core_loop_exit(). */
int core_loop_run(core_t *core);
void core_loop_exit(core_t *core);

/* store.c */
core_store_t *core_store_new(core_t *core);
void core_store_free(core_store_t *store);
/* Every source registered so far has called contour_source_set_synced(). */
int core_store_all_synced(const core_store_t *store);
/* core_store_source_errors: the inputs the sources' latest full reads could
 * not read or parse (contour_source_set_errors), summed. */
size_t core_store_source_errors(const core_store_t *store);
/* Called by the store whenever something changed or a source synced. */
void core_store_set_change_hook(core_store_t *store, void (*fn)(void *ud), void *ud);
void core_store_drop_module(core_store_t *store, contour_module_t *mod);

/* admission.c: validators registered by modules. */
typedef struct core_validator core_validator_t;
/* Drop mod's validators (NULL: all of them). */
void core_validators_drop_module(core_t *core, contour_module_t *mod);

/* health.c: health checks registered by modules. */
/* Drop mod's checks (NULL: all of them). */
void core_health_drop_module(core_t *core, contour_module_t *mod);

/* render.c: output formats registered by modules. */
typedef struct core_render_format core_render_format_t;
/* The format called name, or NULL. */
const core_render_format_t *core_render_find(core_t *core, const char *name);
int core_render_run(const core_render_format_t *f, contour_snapshot_t *snap, FILE *out);
/* A comma-separated list of registered names (static buffer). */
const char *core_render_names(core_t *core);
void core_render_drop_module(core_t *core, contour_module_t *mod);
void core_render_free(core_t *core);

/* command.c: sub-commands registered by modules. */
typedef struct core_command core_command_t;
const core_command_t *core_command_find(core_t *core, const char *name);
int core_command_run(const core_command_t *c, int argc, char **argv);
/* One "  name  usage" line per command, for help (static buffer). */
const char *core_command_help(core_t *core);
int core_command_is_builtin(const char *name); /* cli.c */
void core_command_drop_module(core_t *core, contour_module_t *mod);
void core_command_free(core_t *core);

/* pipeline.c */
core_pipeline_t *core_pipeline_new(core_t *core);
void core_pipeline_free(core_pipeline_t *p);
/* core_pipeline_schedule: a change happened; arm the hold-off timer. */
void core_pipeline_schedule(core_pipeline_t *p);
/* core_pipeline_build_now: run one build at once if every source is synced.
 * Returns CONTOUR_EOK, CONTOUR_ESTATE (not synced) or a processor's error. */
int core_pipeline_build_now(core_pipeline_t *p);
/* Builds completed since startup. */
uint64_t core_pipeline_builds(const core_pipeline_t *p);
void core_pipeline_drop_module(core_pipeline_t *p, contour_module_t *mod);
/* core_pipeline_release_snapshot: drop the core's reference to the current
 * snapshot (before modules whose code its attachments point into unload). */
void core_pipeline_release_snapshot(core_pipeline_t *p);

/* snapshot.c */
contour_snapshot_t *core_snapshot_new(core_t *core, uint64_t generation); /* core may be NULL */
void core_snapshot_seal(contour_snapshot_t *snap); /* no more attach/status */

/* metrics.c */
core_metrics_t *core_metrics_new(void);
void core_metrics_free(core_metrics_t *m);
void core_metrics_drop_module(core_metrics_t *m, contour_module_t *mod);

#endif
