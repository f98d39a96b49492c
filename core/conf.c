/* core/conf.c: the config file: parse, validate against schemas, and the
 * typed accessors modules read their settings through.
 *
 * Validation edits the tree in place (defaults filled in, durations turned
 * into milliseconds, single strings into one-item lists), so that accessors
 * never need a fallback, and keeps the position map valid: values are looked
 * up by (containing object, key), which replacing a value does not change.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static const char *conf_name(const core_conf_t *conf)
{
	return conf && conf->path ? conf->path : "(built-in default)";
}

void core_conf_error(const core_conf_t *conf, int line, json_t *errors, const char *key,
                     const char *fmt, ...)
{
	char problem[512], msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(msg, sizeof(msg), "%s:%d: %s: %s", conf_name(conf), line, key, problem);
	else
		snprintf(msg, sizeof(msg), "%s: %s: %s", conf_name(conf), key, problem);
	json_array_append_new(errors, json_string(msg));
}

const json_t *core_conf_lookup(const json_t *obj, const char *path)
{
	char part[256];
	while (obj && path && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(part) || !json_is_object(obj))
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		obj = json_object_get(obj, part);
		path = dot ? dot + 1 : NULL;
	}
	return obj;
}

static const char *type_wanted(contour_conf_type_t t)
{
	switch (t) {
	case CONTOUR_CONF_STR:
		return "a string";
	case CONTOUR_CONF_INT:
		return "an integer";
	case CONTOUR_CONF_BOOL:
		return "true or false";
	case CONTOUR_CONF_DURATION:
		return "a duration such as 100ms, 2s or 1m30s";
	case CONTOUR_CONF_STR_LIST:
		return "a string or a list of strings";
	case CONTOUR_CONF_MAP:
		return "a mapping";
	case CONTOUR_CONF_LIST:
		return "a list";
	case CONTOUR_CONF_NUMBER:
		return "a number";
	default:
		return "a value";
	}
}

/* A short description of what was found, never more than a few words, so a
 * misplaced secret in a config file is not echoed whole into logs. */
static const char *type_found(const json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		if (json_string_length(v) <= 32)
			snprintf(buf, len, "string \"%s\"", json_string_value(v));
		else
			snprintf(buf, len, "a string of %zu characters", json_string_length(v));
		return buf;
	case JSON_INTEGER:
		snprintf(buf, len, "integer %lld", (long long)json_integer_value(v));
		return buf;
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	case JSON_OBJECT:
		return "a mapping";
	case JSON_ARRAY:
		return "a list";
	}
	return "a value";
}

static int key_line(const core_conf_t *conf, const json_t *obj, const char *key)
{
	if (!conf || !conf->pos)
		return 0;
	int line = contour_yaml_pos_key_line(conf->pos, obj, key);
	return line ? line : contour_yaml_pos_node_line(conf->pos, obj);
}

/* Parse a schema default ("8001", "[a, b]", "100ms") into a JSON value. */
static json_t *default_value(const char *text)
{
	json_t *docs = NULL;
	if (contour_yaml_parse(text, strlen(text), &docs, NULL, NULL) != CONTOUR_EOK)
		return NULL;
	json_t *v = json_array_size(docs) ? json_incref(json_array_get(docs, 0)) : NULL;
	json_decref(docs);
	return v;
}

static int check_range(const core_conf_t *conf, int line, json_t *errors, const char *path,
                       const contour_conf_item_t *it, int64_t v)
{
	if (it->min < it->max && (v < it->min || v > it->max)) {
		core_conf_error(conf, line, errors, path, "%lld is out of range [%lld, %lld]",
		                (long long)v, (long long)it->min, (long long)it->max);
		return 1;
	}
	return 0;
}

#define VAL_KNOWN_ONLY 0x1
#define VAL_CHECK_ONLY 0x2

/* Check one present value; may replace it in obj. Returns errors added. */
static int validate(const core_conf_t *conf, json_t *value, const contour_conf_item_t *schema,
                    const char *where, json_t *errors, int mode);

static int check_value(const core_conf_t *conf, json_t *obj, const char *key, json_t *v,
                       const contour_conf_item_t *it, const char *path, json_t *errors,
                       int mode)
{
	int line = key_line(conf, obj, key);
	char found[64];
	int64_t ms;

	switch (it->type) {
	case CONTOUR_CONF_STR:
		if (json_is_string(v))
			return 0;
		break;
	case CONTOUR_CONF_INT:
		if (json_is_integer(v))
			return check_range(conf, line, errors, path, it, json_integer_value(v));
		break;
	case CONTOUR_CONF_BOOL:
		if (json_is_boolean(v))
			return 0;
		break;
	case CONTOUR_CONF_NUMBER:
		if (json_is_number(v)) {
			double d = json_number_value(v);
			if (it->min < it->max && (d < (double)it->min || d > (double)it->max)) {
				core_conf_error(conf, line, errors, path,
				                "%g is out of range [%lld, %lld]", d,
				                (long long)it->min, (long long)it->max);
				return 1;
			}
			return 0;
		}
		break;
	case CONTOUR_CONF_DURATION:
		if (json_is_integer(v)) {
			json_int_t sec = json_integer_value(v); /* bare numbers are seconds */
			if (sec > INT64_MAX / 1000 || sec < INT64_MIN / 1000) {
				core_conf_error(conf, line, errors, path,
				                "%lld seconds is out of range", (long long)sec);
				return 1;
			}
			ms = sec * 1000;
		} else if (json_is_string(v) && (!strcmp(json_string_value(v), "infinity") ||
		                                 !strcmp(json_string_value(v), "infinite"))) {
			ms = -1;
		} else if (!json_is_string(v) ||
		           contour_duration_parse(json_string_value(v), &ms) != CONTOUR_EOK) {
			break;
		}
		if (ms >= 0 && check_range(conf, line, errors, path, it, ms))
			return 1;
		if (!(mode & VAL_CHECK_ONLY))
			json_object_set_new(obj, key, json_integer(ms));
		return 0;
	case CONTOUR_CONF_STR_LIST:
		if (json_is_string(v)) {
			if (!(mode & VAL_CHECK_ONLY))
				json_object_set_new(obj, key, json_pack("[O]", v));
			return 0;
		}
		if (json_is_array(v)) {
			size_t i;
			json_t *e;
			int n = 0;
			json_array_foreach(v, i, e)
			{
				if (json_is_string(e))
					continue;
				int eline = conf && conf->pos
				                ? contour_yaml_pos_index_line(conf->pos, v, i)
				                : 0;
				core_conf_error(conf, eline ? eline : line, errors, path,
				                "item %zu must be a string, not %s", i,
				                type_found(e, found, sizeof(found)));
				n++;
			}
			return n;
		}
		break;
	case CONTOUR_CONF_MAP:
		if (json_is_object(v))
			return it->children
			           ? validate(conf, v, it->children, path, errors, mode)
			           : 0;
		break;
	case CONTOUR_CONF_LIST:
		if (json_is_array(v))
			return 0;
		break;
	case CONTOUR_CONF_ANY:
	case CONTOUR_CONF_END:
		return 0;
	}
	core_conf_error(conf, line, errors, path, "expected %s, not %s", type_wanted(it->type),
	                type_found(v, found, sizeof(found)));
	return 1;
}

static void join_path(char *buf, size_t len, const char *where, const char *key)
{
	if (where && *where)
		snprintf(buf, len, "%s.%s", where, key);
	else
		snprintf(buf, len, "%s", key);
}

/* mode VAL_KNOWN_ONLY: keys the schema does not name are left alone, not
 * unknown (another table has already checked the names). VAL_CHECK_ONLY:
 * values are checked, not converted (durations stay as written, a string
 * is not made a list), and no defaults are filled in: for a table whose
 * keys a later pass types and converts. */
static int validate(const core_conf_t *conf, json_t *value, const contour_conf_item_t *schema,
                    const char *where, json_t *errors, int mode)
{
	int nerr = 0;
	char path[512];
	const char *key;
	json_t *v;
	void *tmp;

	/* Unknown keys first, in file order, so the operator reads them top down. */
	json_object_foreach_safe(value, tmp, key, v)
	{
		const contour_conf_item_t *it = schema;
		while (it && it->type != CONTOUR_CONF_END && strcmp(it->key, key))
			it++;
		join_path(path, sizeof(path), where, key);
		if ((!it || it->type == CONTOUR_CONF_END) && (mode & VAL_KNOWN_ONLY))
			continue;
		if (!it || it->type == CONTOUR_CONF_END) {
			core_conf_error(conf, key_line(conf, value, key), errors, path,
			                "unknown key");
			nerr++;
			continue;
		}
		/* An explicit null (`key:` with nothing after it) means unset. */
		if (json_is_null(v) && it->type != CONTOUR_CONF_ANY) {
			json_object_del(value, key);
			continue;
		}
		nerr += check_value(conf, value, key, v, it, path, errors, mode);
	}

	for (const contour_conf_item_t *it = schema;
	     !(mode & VAL_CHECK_ONLY) && it && it->type != CONTOUR_CONF_END; it++) {
		if (json_object_get(value, it->key))
			continue;
		join_path(path, sizeof(path), where, it->key);
		if (it->flags & CONTOUR_CONF_REQUIRED) {
			int line =
			    conf && conf->pos ? contour_yaml_pos_node_line(conf->pos, value) : 0;
			core_conf_error(conf, line, errors, path, "required key is missing");
			nerr++;
			continue;
		}
		if (it->def) {
			json_t *d = default_value(it->def);
			if (!d) {
				core_conf_error(conf, 0, errors, path,
				                "bad built-in default \"%s\"", it->def);
				nerr++;
				continue;
			}
			json_object_set_new(value, it->key, d);
			nerr += check_value(conf, value, it->key, d, it, path, errors, mode);
		} else if (it->type == CONTOUR_CONF_MAP && it->children) {
			/* Descend so nested defaults exist; drop the map if none did. */
			json_t *m = json_object();
			nerr += validate(conf, m, it->children, path, errors, mode);
			if (json_object_size(m))
				json_object_set_new(value, it->key, m);
			else
				json_decref(m);
		}
	}
	return nerr;
}

int core_conf_validate(const core_conf_t *conf, json_t *value, const contour_conf_item_t *schema,
                       const char *where, json_t *errors)
{
	return validate(conf, value, schema, where, errors, 0);
}

int core_conf_validate_known(const core_conf_t *conf, json_t *value,
                             const contour_conf_item_t *schema, json_t *errors)
{
	return validate(conf, value, schema, "", errors, VAL_KNOWN_ONLY);
}

static const contour_conf_item_t module_entry_schema[] = {
    {.key = "name", .type = CONTOUR_CONF_STR, .flags = CONTOUR_CONF_REQUIRED},
    {.key = "path", .type = CONTOUR_CONF_STR},
    {.key = "config", .type = CONTOUR_CONF_MAP},
    {0},
};

static size_t table_len(const contour_conf_item_t *t)
{
	size_t n = 0;
	while (t[n].type != CONTOUR_CONF_END)
		n++;
	return n;
}

/* The top level as parsed, in two passes. The first checks and converts
 * the runtime's keys (read before any module is loaded) and leaves the rest
 * alone; the second names every key allowed (the runtime's, upstream's and
 * `modules`) and checks upstream's types without converting them, since the
 * modules that read a key type and convert it once they are loaded
 * (core_conf_check_globals). */
static int validate_top(const core_conf_t *conf, json_t *root, json_t *errors)
{
	size_t r = table_len(core_runtime_schema), u = table_len(core_upstream_names);
	contour_conf_item_t *s = calloc(r + u + 2, sizeof(*s));
	if (!s)
		return 1;
	int nerr = validate(conf, root, core_runtime_schema, "", errors, VAL_KNOWN_ONLY);
	for (size_t i = 0; i < r; i++)
		s[i] = (contour_conf_item_t){.key = core_runtime_schema[i].key,
		                             .type = CONTOUR_CONF_ANY};
	memcpy(s + r, core_upstream_names, u * sizeof(*s));
	s[r + u] = (contour_conf_item_t){.key = "modules", .type = CONTOUR_CONF_LIST};
	nerr += validate(conf, root, s, "", errors, VAL_CHECK_ONLY);
	free(s);
	return nerr;
}

static int conf_modules(core_conf_t *conf, json_t *errors)
{
	json_t *mods = json_object_get(conf->root, "modules");
	int nerr = 0;
	if (!mods) {
		/* Upstream's contour.yaml has no module list: run the default set. */
		conf->modules_defaulted = 1;
		json_t *docs = NULL;
		const char *def = core_conf_default_text();
		if (contour_yaml_parse(def, strlen(def), &docs, NULL, NULL) != CONTOUR_EOK)
			return 1;
		json_object_set(conf->root, "modules",
		                json_object_get(json_array_get(docs, 0), "modules"));
		json_decref(docs);
		mods = json_object_get(conf->root, "modules");
	}
	size_t i;
	json_t *e;
	char where[64];
	json_array_foreach(mods, i, e)
	{
		snprintf(where, sizeof(where), "modules[%zu]", i);
		if (!json_is_object(e)) {
			int line = conf->pos ? contour_yaml_pos_index_line(conf->pos, mods, i) : 0;
			core_conf_error(conf, line, errors, where,
			                "expected a mapping with name, path and config");
			nerr++;
			continue;
		}
		nerr += core_conf_validate(conf, e, module_entry_schema, where, errors);
	}
	if (json_array_size(mods) == 0) {
		core_conf_error(conf, key_line(conf, conf->root, "modules"), errors, "modules",
		                "no modules listed");
		nerr++;
	}
	return nerr;
}

int core_conf_use_modules(core_conf_t *conf, const char *text)
{
	json_t *docs = NULL;
	if (contour_yaml_parse(text, strlen(text), &docs, NULL, NULL) != CONTOUR_EOK)
		return CONTOUR_EINVAL;
	json_object_set(conf->root, "modules", json_object_get(json_array_get(docs, 0), "modules"));
	json_decref(docs);
	conf->modules_defaulted = 1;
	return CONTOUR_EOK;
}

char *core_conf_module_names(const core_conf_t *conf)
{
	size_t i, used = 0, cap = 1;
	json_t *e, *mods = json_object_get(conf->root, "modules");
	json_array_foreach(mods, i, e)
	    cap += strlen(json_string_value(json_object_get(e, "name")) ?: "") + 2;
	char *out = calloc(1, cap);
	if (!out)
		return NULL;
	json_array_foreach(mods, i, e)
	    used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? ", " : "",
	                             json_string_value(json_object_get(e, "name")) ?: "");
	return out;
}

static int conf_from_docs(core_conf_t *conf, json_t *docs, json_t *errors)
{
	if (json_array_size(docs) > 1) {
		int line =
		    conf->pos ? contour_yaml_pos_node_line(conf->pos, json_array_get(docs, 1)) : 0;
		core_conf_error(conf, line, errors, "(document)",
		                "the config must be a single YAML document");
		return 1;
	}
	json_t *root = json_array_size(docs) ? json_array_get(docs, 0) : NULL;
	if (root && !json_is_object(root)) {
		core_conf_error(conf, 1, errors, "(document)", "the config must be a mapping");
		return 1;
	}
	conf->root = root ? json_incref(root) : json_object();

	int nerr = validate_top(conf, conf->root, errors);
	if (json_is_array(json_object_get(conf->root, "modules")) ||
	    !json_object_get(conf->root, "modules"))
		nerr += conf_modules(conf, errors);

	conf->global = json_copy(conf->root);
	json_object_del(conf->global, "modules");
	return nerr;
}

static int conf_load(const char *buf, size_t len, const char *path, int from_file,
                     core_conf_t **out, json_t *errors)
{
	*out = NULL;
	core_conf_t *conf = calloc(1, sizeof(*conf));
	if (!conf)
		return CONTOUR_ENOMEM;
	conf->path = path ? strdup(path) : NULL;
	json_t *docs = NULL;
	contour_yaml_error_t yerr = {0};
	int rc = from_file ? contour_yaml_parse_file(path, &docs, &conf->pos, &yerr)
	                   : contour_yaml_parse(buf, len, &docs, &conf->pos, &yerr);
	if (rc != CONTOUR_EOK) {
		char msg[512];
		if (yerr.line > 0)
			snprintf(msg, sizeof(msg), "%s:%d:%d: %s", conf_name(conf), yerr.line,
			         yerr.column, yerr.message);
		else
			snprintf(msg, sizeof(msg), "%s",
			         yerr.message[0] ? yerr.message : conf_name(conf));
		json_array_append_new(errors, json_string(msg));
		core_conf_free(conf);
		return rc == CONTOUR_EPARSE ? CONTOUR_EPARSE : rc;
	}
	int nerr = conf_from_docs(conf, docs, errors);
	json_decref(docs);
	if (nerr) {
		core_conf_free(conf);
		return CONTOUR_ECONFIG;
	}
	*out = conf;
	return CONTOUR_EOK;
}

int core_conf_load_file(const char *path, core_conf_t **out, json_t *errors)
{
	return conf_load(NULL, 0, path, 1, out, errors);
}

int core_conf_load_buf(const char *buf, size_t len, const char *name, core_conf_t **out,
                       json_t *errors)
{
	return conf_load(buf, len, name, 0, out, errors);
}

void core_conf_free(core_conf_t *conf)
{
	if (!conf)
		return;
	json_decref(conf->global);
	json_decref(conf->root);
	json_decref(conf->unread);
	contour_yaml_pos_free(conf->pos);
	free(conf->path);
	free(conf);
}

/* Accessors */

const json_t *contour_conf_get(contour_module_t *mod, const char *key)
{
	return mod ? core_conf_lookup(mod->config, key) : NULL;
}

const char *contour_conf_get_str(contour_module_t *mod, const char *key, const char *def)
{
	const json_t *v = contour_conf_get(mod, key);
	return json_is_string(v) ? json_string_value(v) : def;
}

int64_t contour_conf_get_int(contour_module_t *mod, const char *key, int64_t def)
{
	const json_t *v = contour_conf_get(mod, key);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

int contour_conf_get_bool(contour_module_t *mod, const char *key, int def)
{
	const json_t *v = contour_conf_get(mod, key);
	return json_is_boolean(v) ? json_is_true(v) : def;
}

double contour_conf_get_number(contour_module_t *mod, const char *key, double def)
{
	const json_t *v = contour_conf_get(mod, key);
	return json_is_number(v) ? json_number_value(v) : def;
}

int64_t contour_conf_get_duration_ms(contour_module_t *mod, const char *key, int64_t def)
{
	return contour_conf_get_int(mod, key, def);
}

const json_t *contour_conf_global(contour_module_t *mod, const char *path)
{
	if (!mod || !mod->core || !mod->core->conf)
		return NULL;
	return core_conf_lookup(mod->core->conf->global, path);
}

static void split_commas(json_t *out, const char *s)
{
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		const char *b = s, *e = s + n;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > b)
			json_array_append_new(out, json_stringn(b, (size_t)(e - b)));
		s = comma ? comma + 1 : s + n;
	}
}

json_t *contour_conf_global_str_list(contour_module_t *mod, const char *path)
{
	json_t *out = json_array();
	const json_t *v = contour_conf_global(mod, path);
	if (!out)
		return NULL;
	if (json_is_string(v)) {
		split_commas(out, json_string_value(v));
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e)
		{
			if (json_is_string(e))
				split_commas(out, json_string_value(e));
		}
	}
	return out;
}

int contour_module_config_line(const contour_module_t *mod, const char *key)
{
	core_conf_t *conf = mod && mod->core ? mod->core->conf : NULL;
	if (!conf || !conf->pos || !mod->config)
		return 0;
	const json_t *parent = mod->config;
	const char *last = strrchr(key, '.');
	char head[256];
	if (last) {
		size_t n = (size_t)(last - key);
		if (n >= sizeof(head))
			return 0;
		memcpy(head, key, n);
		head[n] = '\0';
		parent = core_conf_lookup(mod->config, head);
		key = last + 1;
	}
	return parent ? contour_yaml_pos_key_line(conf->pos, parent, key) : 0;
}
