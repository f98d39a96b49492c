/* core/loader.c: find, dlopen and check modules, validate their config, and
 * drive their lifecycle with rollback.
 *
 * The checks follow Varnish (major equal, minor not newer) and Knot (a
 * duplicate name, or a descriptor name that differs from the config entry, is
 * refused). Every message names the module and the file, since an operator
 * with a dozen modules needs to know which one to rebuild.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core.h"

/* Modules are never unmapped: dlclose() only drops our handle. A module's
 * libraries (libcurl, OpenSSL, nghttp2 ...) may hold thread-local storage,
 * atexit handlers or destructors that outlive a dlclose(); unmapping them
 * crashed LeakSanitizer's exit-time scan now and then. The handle is still
 * closed and the module's hooks are never called again. */
#define LOADER_DLOPEN_FLAGS (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)

/* The smallest descriptor we can read: everything before `reserved`. */
#define DESC_MIN_SIZE offsetof(contour_module_desc_t, reserved)

static int is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Relative `path:` entries are taken from the config file's folder. */
static char *resolve_relative(const core_conf_t *conf, const char *p)
{
	if (p[0] == '/' || !conf->path)
		return strdup(p);
	char *copy = strdup(conf->path);
	if (!copy)
		return NULL;
	char *dir = dirname(copy);
	size_t n = strlen(dir) + strlen(p) + 2;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s/%s", dir, p);
	free(copy);
	return out;
}

/* Search order: $CONTOUR_MODULE_PATH, then `module-path:`, then the
 * compiled-in folder. Each a colon-separated list. */
static void search_dirs(const core_conf_t *conf, json_t *dirs)
{
	const char *env = getenv("CONTOUR_MODULE_PATH");
	if (env && *env) {
		char *copy = strdup(env), *save = NULL;
		for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
			json_array_append_new(dirs, json_string(d));
		free(copy);
	}
	const json_t *cfg = core_conf_lookup(conf->global, "module-path");
	size_t i;
	json_t *e;
	json_array_foreach(cfg, i, e)
	{
		char *r = resolve_relative(conf, json_string_value(e));
		if (r)
			json_array_append_new(dirs, json_string(r));
		free(r);
	}
	json_array_append_new(dirs, json_string(CONTOUR_MODULE_DIR));
}

static char *find_module(const core_conf_t *conf, const char *name, char *tried, size_t tlen)
{
	json_t *dirs = json_array();
	size_t i, used = 0;
	json_t *d;
	char *found = NULL;
	search_dirs(conf, dirs);
	tried[0] = '\0';
	json_array_foreach(dirs, i, d)
	{
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s.so", json_string_value(d), name);
		if (is_file(p)) {
			found = strdup(p);
			break;
		}
		used += (size_t)snprintf(tried + used, used < tlen ? tlen - used : 0, "%s%s",
		                         i ? ":" : "", json_string_value(d));
		if (used >= tlen)
			used = tlen;
	}
	json_decref(dirs);
	return found;
}

/* Check a descriptor against the core and the config entry. */
static int check_desc(const core_conf_t *conf, int line, const char *name, const char *file,
                      const contour_module_desc_t *d, json_t *errors)
{
	char key[128];
	snprintf(key, sizeof(key), "modules.%s", name);
	if (d->abi_major != CONTOUR_ABI_MAJOR) {
		core_conf_error(conf, line, errors, key,
		                "module '%s' (%s) was built for ABI %u.%u, but this contour "
		                "provides ABI %d.%d: rebuild the module",
		                name, file, d->abi_major, d->abi_minor, CONTOUR_ABI_MAJOR,
		                CONTOUR_ABI_MINOR);
		return CONTOUR_EABI;
	}
	if (d->abi_minor > CONTOUR_ABI_MINOR) {
		core_conf_error(conf, line, errors, key,
		                "module '%s' (%s) needs ABI %u.%u, newer than this contour's "
		                "%d.%d: upgrade contour",
		                name, file, d->abi_major, d->abi_minor, CONTOUR_ABI_MAJOR,
		                CONTOUR_ABI_MINOR);
		return CONTOUR_EABI;
	}
	if (d->size < DESC_MIN_SIZE) {
		core_conf_error(conf, line, errors, key,
		                "module '%s' (%s) has a truncated descriptor (%u bytes)", name,
		                file, d->size);
		return CONTOUR_EABI;
	}
	if (!d->name || strcmp(d->name, name)) {
		core_conf_error(conf, line, errors, key,
		                "module file %s declares the name '%s', but the config entry "
		                "names '%s'",
		                file, d->name ? d->name : "(none)", name);
		return CONTOUR_EINVAL;
	}
	return CONTOUR_EOK;
}

static contour_module_t *module_new(core_t *core, const char *name, const char *file)
{
	contour_module_t *mod = calloc(1, sizeof(*mod));
	contour_module_t **grown = realloc(core->mods, (core->nmods + 1) * sizeof(*grown));
	if (!mod || !grown) {
		free(mod);
		if (grown)
			core->mods = grown;
		return NULL;
	}
	core->mods = grown;
	mod->core = core;
	mod->name = strdup(name);
	mod->file = strdup(file);
	mod->state = CORE_MOD_LOADED;
	core->mods[core->nmods++] = mod;
	return mod;
}

static void module_unload(contour_module_t *mod)
{
	if (!mod)
		return;
	json_decref(mod->config);
	if (mod->dl)
		dlclose(mod->dl);
	free(mod->name);
	free(mod->file);
	free(mod);
}

/* Validate the config section and run the module's own check. */
/* The module's serve flags (and their environment variables) override its
 * config file keys. A flag consumed here is removed from core->cli_flags, so
 * the CLI can report the ones no module knows. */
/* A flag's value checked alone against its key's schema item, so a bad
 * value is reported as the flag's ("--xds-port: expected ..."), not as a
 * line of the config file. Returns the number of errors. */
static int check_flag_value(const contour_module_desc_t *d, const contour_cli_flag_t *f,
                            const json_t *v, json_t *errors)
{
	const contour_conf_item_t *it = d->schema;
	while (it && it->type != CONTOUR_CONF_END && strcmp(it->key, f->key))
		it++;
	if (!it || it->type == CONTOUR_CONF_END)
		return 0;
	contour_conf_item_t one[2] = {*it, {0}};
	json_t *obj = json_object(), *errs = json_array();
	json_object_set_new(obj, f->key, json_deep_copy(v));
	int nerr = core_conf_validate_known(NULL, obj, one, errs);
	size_t i;
	json_t *e;
	json_array_foreach(errs, i, e)
	{
		/* "(built-in default): key: problem" -> "flag --x: problem" */
		const char *m = json_string_value(e);
		char pre[160];
		snprintf(pre, sizeof(pre), "%s: ", f->key);
		const char *p = strstr(m, pre);
		json_array_append_new(errors,
		                      json_sprintf("flag %s: %s", f->flag, p ? p + strlen(pre) : m));
	}
	json_decref(obj);
	json_decref(errs);
	return nerr;
}

static int apply_cli_flags(core_t *core, contour_module_t *mod, json_t *errors)
{
	const contour_module_desc_t *d = mod->desc;
	int nerr = 0;
	if (d->size < offsetof(contour_module_desc_t, cli_flags) + sizeof(d->cli_flags) ||
	    !d->cli_flags)
		return 0;
	for (const contour_cli_flag_t *f = d->cli_flags; f->flag; f++) {
		const json_t *given =
		    core->cli_flags ? json_object_get(core->cli_flags, f->flag) : NULL;
		if (given && json_is_null(given)) {
			/* A bare flag: true for a boolean key, else a value is missing. */
			const contour_conf_item_t *it = d->schema;
			while (it && it->type != CONTOUR_CONF_END && strcmp(it->key, f->key))
				it++;
			if (!it || it->type != CONTOUR_CONF_BOOL) {
				json_array_append_new(errors,
				                      json_sprintf("flag '%s' needs a value", f->flag));
				nerr++;
				json_object_del(core->cli_flags, f->flag);
				continue;
			}
			given = NULL;
			json_object_set_new(core->cli_flags, f->flag, json_string("true"));
			given = json_object_get(core->cli_flags, f->flag);
		}
		const char *text =
		    given ? json_string_value(given) : (f->env ? getenv(f->env) : NULL);
		if (!text || (!given && !*text))
			continue;
		json_t *docs = NULL;
		json_t *v = NULL;
		/* A scalar as YAML reads it; anything else stays the string. */
		if (*text &&
		    contour_yaml_parse(text, strlen(text), &docs, NULL, NULL) == CONTOUR_EOK &&
		    json_array_size(docs) == 1 && !json_is_object(json_array_get(docs, 0)) &&
		    !json_is_array(json_array_get(docs, 0)))
			v = json_incref(json_array_get(docs, 0));
		json_decref(docs);
		if (!v)
			v = json_string(text);
		nerr += check_flag_value(d, f, v, errors);
		json_object_set_new(mod->config, f->key, v);
		if (given)
			json_object_del(core->cli_flags, f->flag);
	}
	return nerr;
}

static int module_configure(core_t *core, contour_module_t *mod, json_t *config, int line,
                            json_t *errors)
{
	char where[160];
	snprintf(where, sizeof(where), "modules.%s.config", mod->name);
	/* The file's own mapping, so validation errors keep their lines; flags
	 * are written into it. */
	mod->config = config ? json_incref(config) : json_object();
	if (!mod->config)
		return CONTOUR_ENOMEM;
	if (apply_cli_flags(core, mod, errors))
		return CONTOUR_ECONFIG;
	if (core_conf_validate(core->conf, mod->config, mod->desc->schema, where, errors))
		return CONTOUR_ECONFIG;
	/* A module render loads only for its formats is never started: rules
	 * about serving (its check) do not apply. */
	if (mod->desc->check && !contour_module_render_only(mod)) {
		char err[512] = "";
		if (mod->desc->check(mod->config, err, sizeof(err)) != CONTOUR_EOK) {
			snprintf(where, sizeof(where), "modules.%s", mod->name);
			core_conf_error(core->conf, line, errors, where, "%s",
			                err[0] ? err : "rejected by the module's check");
			return CONTOUR_ECONFIG;
		}
	}
	return CONTOUR_EOK;
}

static contour_module_t *find_loaded(core_t *core, const char *name)
{
	for (size_t i = 0; i < core->nmods; i++)
		if (!strcmp(core->mods[i]->name, name))
			return core->mods[i];
	return NULL;
}

/* Load the module `name` (from `path` when given, else the search path),
 * check it and validate its config. line is the config entry's, or 0. */
static int load_named(core_t *core, const char *name, const char *path, json_t *config, int line,
                      json_t *errors, contour_module_t **out)
{
	core_conf_t *conf = core->conf;
	char key[128], tried[2048];
	snprintf(key, sizeof(key), "modules.%s", name);
	if (out)
		*out = NULL;

	contour_module_t *prev = find_loaded(core, name);
	if (prev) {
		core_conf_error(conf, line, errors, key,
		                "module '%s' is listed twice (first at line %d)", name,
		                prev->config_line);
		return CONTOUR_EEXIST;
	}

	char *file =
	    path ? resolve_relative(conf, path) : find_module(conf, name, tried, sizeof(tried));
	if (!file) {
		core_conf_error(conf, line, errors, key,
		                "module '%s' not found: no %s.so in %s (set module-path or "
		                "CONTOUR_MODULE_PATH)",
		                name, name, tried);
		return CONTOUR_ENOENT;
	}
	void *dl = dlopen(file, LOADER_DLOPEN_FLAGS);
	if (!dl) {
		core_conf_error(conf, line, errors, key, "cannot load module '%s': %s", name,
		                dlerror());
		free(file);
		return CONTOUR_ENOENT;
	}
	const contour_module_desc_t *desc = dlsym(dl, CONTOUR_MODULE_SYMBOL);
	int rc = CONTOUR_EOK;
	if (!desc) {
		core_conf_error(conf, line, errors, key,
		                "%s is not a contour module: it does not export the symbol '%s'",
		                file, CONTOUR_MODULE_SYMBOL);
		rc = CONTOUR_EABI;
	} else {
		rc = check_desc(conf, line, name, file, desc, errors);
	}
	if (rc != CONTOUR_EOK) {
		dlclose(dl);
		free(file);
		return rc;
	}
	contour_module_t *mod = module_new(core, name, file);
	free(file);
	if (!mod) {
		dlclose(dl);
		return CONTOUR_ENOMEM;
	}
	mod->dl = dl;
	mod->desc = desc;
	mod->config_line = line;
	rc = module_configure(core, mod, config, line, errors);
	if (rc == CONTOUR_EOK && out)
		*out = mod;
	return rc;
}

static int load_one(core_t *core, json_t *mods, size_t idx, json_t *errors)
{
	core_conf_t *conf = core->conf;
	json_t *entry = json_array_get(mods, idx);
	int line = conf->pos ? contour_yaml_pos_index_line(conf->pos, mods, idx) : 0;
	return load_named(core, json_string_value(json_object_get(entry, "name")),
	                  json_string_value(json_object_get(entry, "path")),
	                  json_object_get(entry, "config"), line, errors, NULL);
}

int core_loader_add(core_t *core, const char *name, json_t *config, json_t *errors,
                    contour_module_t **out)
{
	return load_named(core, name, NULL, config, 0, errors, out);
}

/* Peek at a shared object's descriptor without keeping it loaded. */
static int peek_flags(const char *file, const char *name, uint32_t *flags)
{
	void *dl = dlopen(file, LOADER_DLOPEN_FLAGS);
	if (!dl)
		return CONTOUR_ENOENT;
	const contour_module_desc_t *d = dlsym(dl, CONTOUR_MODULE_SYMBOL);
	int rc = CONTOUR_EABI;
	if (d && d->abi_major == CONTOUR_ABI_MAJOR && d->abi_minor <= CONTOUR_ABI_MINOR &&
	    d->size >= DESC_MIN_SIZE && d->name && !strcmp(d->name, name)) {
		*flags = d->flags;
		rc = CONTOUR_EOK;
	}
	dlclose(dl);
	return rc;
}

int core_loader_add_source(core_t *core, const char *name, json_t *config, json_t *errors)
{
	char tried[2048], key[128];
	snprintf(key, sizeof(key), "modules.%s", name);
	char *file = find_module(core->conf, name, tried, sizeof(tried));
	uint32_t flags = 0;
	/* A module missing or broken is reported by load_named, as for any. */
	if (file && peek_flags(file, name, &flags) == CONTOUR_EOK &&
	    !(flags & CONTOUR_MODULE_F_SOURCE)) {
		core_conf_error(core->conf, 0, errors, key,
		                "module '%s' is not a file source (its descriptor lacks "
		                "CONTOUR_MODULE_F_SOURCE)",
		                name);
		free(file);
		return CONTOUR_EINVAL;
	}
	free(file);
	return load_named(core, name, NULL, config, 0, errors, NULL);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int core_loader_add_processors(core_t *core, json_t *errors)
{
	return core_loader_add_flagged(core, CONTOUR_MODULE_F_PROCESSOR | CONTOUR_MODULE_F_RENDER,
	                               errors);
}

int core_loader_add_flagged(core_t *core, uint32_t mask, json_t *errors)
{
	json_t *dirs = json_array();
	json_t *names = json_object(); /* name -> first file found, search order wins */
	size_t i;
	json_t *d;
	search_dirs(core->conf, dirs);
	json_array_foreach(dirs, i, d)
	{
		DIR *dir = opendir(json_string_value(d));
		struct dirent *e;
		while (dir && (e = readdir(dir)) != NULL) {
			size_t n = strlen(e->d_name);
			if (n <= 3 || strcmp(e->d_name + n - 3, ".so"))
				continue;
			char name[256];
			snprintf(name, sizeof(name), "%.*s", (int)(n - 3), e->d_name);
			if (json_object_get(names, name))
				continue;
			char file[4096];
			snprintf(file, sizeof(file), "%s/%s", json_string_value(d), e->d_name);
			uint32_t flags = 0;
			if (peek_flags(file, name, &flags) == CONTOUR_EOK && (flags & mask))
				json_object_set_new(names, name, json_string(file));
		}
		if (dir)
			closedir(dir);
	}
	/* Load in name order, so the run is the same whatever readdir says;
	 * processors order themselves by their declared order anyway. */
	size_t n = json_object_size(names), k = 0;
	const char **sorted = calloc(n ? n : 1, sizeof(*sorted));
	const char *name;
	json_t *file;
	int rc = CONTOUR_EOK;
	json_object_foreach(names, name, file)
	{
		if (sorted)
			sorted[k++] = name;
	}
	if (sorted)
		qsort(sorted, k, sizeof(*sorted), cmp_str);
	for (size_t j = 0; sorted && j < k; j++) {
		if (find_loaded(core, sorted[j]))
			continue;
		int r = load_named(core, sorted[j],
		                   json_string_value(json_object_get(names, sorted[j])), NULL, 0,
		                   errors, NULL);
		if (r != CONTOUR_EOK && rc == CONTOUR_EOK)
			rc = r;
	}
	free(sorted);
	json_decref(names);
	json_decref(dirs);
	return sorted ? rc : CONTOUR_ENOMEM;
}

void core_loader_keep_processors(core_t *core)
{
	core_loader_keep_flagged(core, CONTOUR_MODULE_F_PROCESSOR | CONTOUR_MODULE_F_RENDER);
}

void core_loader_keep_flagged(core_t *core, uint32_t mask)
{
	size_t j = 0;
	for (size_t i = 0; i < core->nmods; i++) {
		contour_module_t *mod = core->mods[i];
		if (mod->desc->flags & mask)
			core->mods[j++] = mod;
		else
			module_unload(mod);
	}
	core->nmods = j;
}

int core_loader_load_all(core_t *core, json_t *errors)
{
	if (!core->conf)
		return CONTOUR_EINVAL;
	const json_t *h = core_conf_lookup(core->conf->global, "build-holdoff");
	const json_t *hm = core_conf_lookup(core->conf->global, "build-holdoff-max");
	if (json_is_integer(h))
		core->holdoff_ms = json_integer_value(h);
	if (json_is_integer(hm))
		core->holdoff_max_ms = json_integer_value(hm);

	json_t *mods = json_object_get(core->conf->root, "modules");
	int first = CONTOUR_EOK;
	for (size_t i = 0; i < json_array_size(mods); i++) {
		int rc = load_one(core, mods, i, errors);
		if (rc != CONTOUR_EOK && first == CONTOUR_EOK)
			first = rc;
	}
	/* Every module's global keys are known now. */
	return first != CONTOUR_EOK ? first : core_loader_check_globals(core, errors);
}

int core_loader_check_globals(core_t *core, json_t *errors)
{
	core_conf_table_t *tables = calloc(core->nmods + 1, sizeof(*tables));
	if (!tables)
		return CONTOUR_ENOMEM;
	size_t n = 0;
	tables[n++] = (core_conf_table_t){"core", core_domain_global_schema};
	for (size_t i = 0; i < core->nmods; i++) {
		const contour_module_desc_t *d = core->mods[i]->desc;
		/* A module built before ABI 1.5 has no global_schema field. */
		if (d->size >=
		        offsetof(contour_module_desc_t, global_schema) + sizeof(d->global_schema) &&
		    d->global_schema)
			tables[n++] = (core_conf_table_t){core->mods[i]->name, d->global_schema};
	}
	int rc = core_conf_check_globals(core->conf, tables, n, errors);
	free(tables);
	return rc;
}

int core_module_add_builtin(core_t *core, const contour_module_desc_t *desc, json_t *config,
                            json_t *errors, contour_module_t **out)
{
	if (out)
		*out = NULL;
	if (!desc || !desc->name)
		return CONTOUR_EINVAL;
	if (find_loaded(core, desc->name)) {
		core_conf_error(core->conf, 0, errors, desc->name, "module '%s' is listed twice",
		                desc->name);
		return CONTOUR_EEXIST;
	}
	int rc = check_desc(core->conf, 0, desc->name, "(built-in)", desc, errors);
	if (rc != CONTOUR_EOK)
		return rc;
	contour_module_t *mod = module_new(core, desc->name, "(built-in)");
	if (!mod)
		return CONTOUR_ENOMEM;
	mod->desc = desc;
	rc = module_configure(core, mod, config, 0, errors);
	if (rc == CONTOUR_EOK && out)
		*out = mod;
	return rc;
}

static void module_stop(contour_module_t *mod)
{
	if (mod->state != CORE_MOD_STARTED)
		return;
	contour_log(NULL, CONTOUR_LOG_DEBUG, "stopping module %s", mod->name);
	if (mod->desc->stop)
		mod->desc->stop(mod);
	mod->state = CORE_MOD_STOPPED;
}

static void module_free(contour_module_t *mod)
{
	if (mod->state != CORE_MOD_INITIALISED && mod->state != CORE_MOD_STOPPED)
		return;
	if (mod->desc->free)
		mod->desc->free(mod);
	core_drop_registrations(mod->core, mod);
	mod->state = CORE_MOD_FREED;
}

/* Undo in reverse: stop what started, then free what initialised. */
static void rollback(core_t *core)
{
	for (size_t i = core->nmods; i-- > 0;)
		module_stop(core->mods[i]);
	core_pipeline_release_snapshot(core->pipeline);
	for (size_t i = core->nmods; i-- > 0;)
		module_free(core->mods[i]);
}

static int start_all(const contour_module_t *mod)
{
	return 1;
}

int core_modules_init_start(core_t *core)
{
	return core_modules_init_start_some(core, start_all);
}

int core_modules_init_start_some(core_t *core, int (*start_it)(const contour_module_t *mod))
{
	for (size_t i = 0; i < core->nmods; i++) {
		contour_module_t *mod = core->mods[i];
		mod->state = CORE_MOD_INITIALISING;
		int rc = mod->desc->init ? mod->desc->init(mod, mod->config) : CONTOUR_EOK;
		if (rc != CONTOUR_EOK) {
			contour_log(NULL, CONTOUR_LOG_ERR, "module %s (%s): init failed: %s",
			            mod->name, mod->file, contour_strerror(rc));
			core_drop_registrations(core, mod);
			mod->state = CORE_MOD_LOADED;
			rollback(core);
			return rc;
		}
		mod->state = CORE_MOD_INITIALISED;
	}
	for (size_t i = 0; i < core->nmods; i++) {
		contour_module_t *mod = core->mods[i];
		if (!start_it(mod))
			continue;
		int rc = mod->desc->start ? mod->desc->start(mod) : CONTOUR_EOK;
		/* A failed start still gets its stop, so half-opened resources close. */
		mod->state = CORE_MOD_STARTED;
		if (rc != CONTOUR_EOK) {
			contour_log(NULL, CONTOUR_LOG_ERR, "module %s (%s): start failed: %s",
			            mod->name, mod->file, contour_strerror(rc));
			rollback(core);
			return rc;
		}
	}
	/* With no source to wait for, the first build can run now. */
	core_pipeline_schedule(core->pipeline);
	return CONTOUR_EOK;
}

void core_modules_stop_free(core_t *core)
{
	rollback(core);
	/* Unload last: snapshot attachments and registrations point into module
	 * code until everything above has run. */
	for (size_t i = core->nmods; i-- > 0;)
		module_unload(core->mods[i]);
	free(core->mods);
	core->mods = NULL;
	core->nmods = 0;
}
