/* core/conf_merge.c: merge schema tables of global keys.
 *
 * The core's table of global keys and each loaded module's global_schema
 * are merged into one table. A key typed by two tables must agree (type,
 * flags, default, range); two mappings with children merge key by key;
 * anything else refuses the load, naming both owners. The merged table is
 * a deep copy of the item arrays (keys, defaults and help stay borrowed from
 * the tables, which live as long as their modules).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define MERGE_DEPTH 8

static size_t table_len(const contour_conf_item_t *t)
{
	size_t n = 0;
	while (t && t[n].type != CONTOUR_CONF_END)
		n++;
	return n;
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* Items agree when a value they accept is checked and defaulted alike. */
static int items_agree(const contour_conf_item_t *a, const contour_conf_item_t *b)
{
	return a->type == b->type && a->flags == b->flags && same_str(a->def, b->def) &&
	       a->min == b->min && a->max == b->max &&
	       (a->type != CONTOUR_CONF_MAP || !a->children == !b->children);
}

void core_conf_merged_free(contour_conf_item_t *table)
{
	if (!table)
		return;
	for (size_t i = 0; table[i].type != CONTOUR_CONF_END; i++)
		core_conf_merged_free((contour_conf_item_t *)table[i].children);
	free(table);
}

/* The item at path[0..depth] in t, or NULL. */
static const contour_conf_item_t *find_path(const contour_conf_item_t *t, const char **path,
                                            size_t depth)
{
	for (size_t lvl = 0; t; lvl++) {
		const contour_conf_item_t *hit = NULL;
		for (size_t i = 0; t[i].type != CONTOUR_CONF_END; i++)
			if (strcmp(t[i].key, path[lvl]) == 0) {
				hit = &t[i];
				break;
			}
		if (!hit || lvl == depth)
			return hit;
		t = hit->children;
	}
	return NULL;
}

/* Report that tables[cur] types path differently from the first earlier
 * table that types it. */
static void disagree(json_t *errors, const core_conf_table_t *tables, size_t cur, const char **path,
                     size_t depth)
{
	const char *first = "?";
	for (size_t i = 0; i < cur; i++)
		if (find_path(tables[i].schema, path, depth)) {
			first = tables[i].owner;
			break;
		}
	char key[512] = "";
	size_t len = 0;
	for (size_t i = 0; i <= depth && len < sizeof(key); i++)
		len +=
		    (size_t)snprintf(key + len, sizeof(key) - len, "%s%s", i ? "." : "", path[i]);
	json_array_append_new(errors, json_sprintf("global key %s: typed differently by %s and %s",
	                                           key, first, tables[cur].owner));
}

/* Merge src, one level of tables[cur].schema at path[0..depth), into *dst
 * (a malloc'd table). Returns the number of problems. */
static int merge_into(contour_conf_item_t **dst, const contour_conf_item_t *src,
                      const core_conf_table_t *tables, size_t cur, const char **path, size_t depth,
                      json_t *errors)
{
	int nerr = 0;
	if (depth >= MERGE_DEPTH)
		return 1;
	for (size_t s = 0; src && src[s].type != CONTOUR_CONF_END; s++) {
		const contour_conf_item_t *it = &src[s];
		path[depth] = it->key;
		size_t n = table_len(*dst), d;
		for (d = 0; d < n; d++)
			if (strcmp((*dst)[d].key, it->key) == 0)
				break;
		if (d == n) {
			contour_conf_item_t *t = realloc(*dst, (n + 2) * sizeof(*t));
			if (!t)
				return nerr + 1;
			*dst = t;
			t[n] = *it;
			t[n].children = NULL;
			t[n + 1] = (contour_conf_item_t){0};
			if (it->type == CONTOUR_CONF_MAP && it->children) {
				contour_conf_item_t *c = calloc(1, sizeof(*c));
				if (!c)
					return nerr + 1;
				nerr += merge_into(&c, it->children, tables, cur, path, depth + 1,
				                   errors);
				(*dst)[n].children = c;
			}
			continue;
		}
		if (!items_agree(&(*dst)[d], it)) {
			disagree(errors, tables, cur, path, depth);
			nerr++;
			continue;
		}
		if (it->type != CONTOUR_CONF_MAP || !it->children)
			continue;
		contour_conf_item_t *c = (contour_conf_item_t *)(*dst)[d].children;
		nerr += merge_into(&c, it->children, tables, cur, path, depth + 1, errors);
		(*dst)[d].children = c;
	}
	return nerr;
}

int core_conf_merge(const core_conf_table_t *tables, size_t n, contour_conf_item_t **out,
                    json_t *errors)
{
	const char *path[MERGE_DEPTH];
	int nerr = 0;
	*out = NULL;
	contour_conf_item_t *merged = calloc(1, sizeof(*merged));
	if (!merged)
		return CONTOUR_ENOMEM;
	for (size_t i = 0; i < n; i++)
		nerr += merge_into(&merged, tables[i].schema, tables, i, path, 0, errors);
	if (nerr) {
		core_conf_merged_free(merged);
		return CONTOUR_ECONFIG;
	}
	*out = merged;
	return CONTOUR_EOK;
}

/* The item named key in t, or NULL. */
static const contour_conf_item_t *find_key(const contour_conf_item_t *t, const char *key)
{
	for (size_t i = 0; t && t[i].type != CONTOUR_CONF_END; i++)
		if (strcmp(t[i].key, key) == 0)
			return &t[i];
	return NULL;
}

/* Problems with what one table types under `names` at `where`: a key that is
 * not one of upstream's names, or one of the runtime's own. */
static int check_owned(const core_conf_table_t *table, const contour_conf_item_t *items,
                       const contour_conf_item_t *names, const char *where, int depth,
                       json_t *errors)
{
	int nerr = 0;
	char path[512];
	for (size_t i = 0; items && items[i].type != CONTOUR_CONF_END; i++) {
		const contour_conf_item_t *it = &items[i];
		snprintf(path, sizeof(path), "%s%s%s", where, *where ? "." : "", it->key);
		if (depth == 0 && find_key(core_runtime_schema, it->key)) {
			json_array_append_new(
			    errors, json_sprintf("global key %s: %s cannot type it, it is "
			                         "the core's own",
			                         path, table->owner));
			nerr++;
			continue;
		}
		const contour_conf_item_t *name = find_key(names, it->key);
		if (!name) {
			json_array_append_new(
			    errors,
			    json_sprintf("global key %s typed by %s is not one of upstream's "
			                 "contour.yaml keys; a module's own settings belong in "
			                 "its config: mapping",
			                 path, table->owner));
			nerr++;
			continue;
		}
		/* Below a name upstream leaves open, anything may be typed. */
		if (name->children && it->type == CONTOUR_CONF_MAP && it->children &&
		    depth + 1 < MERGE_DEPTH)
			nerr += check_owned(table, it->children, name->children, path, depth + 1,
			                    errors);
	}
	return nerr;
}

/* Append to out the dotted path of every key set in value (below where)
 * that the merged table does not type, leaf by leaf; a mapping typed
 * without children is read whole. */
static void list_unread(const json_t *value, const contour_conf_item_t *typed, const char *where,
                        int depth, json_t *out)
{
	const char *key;
	const json_t *v;
	char path[512];
	json_object_foreach((json_t *)value, key, v)
	{
		if (depth == 0 && (!strcmp(key, "modules") || find_key(core_runtime_schema, key)))
			continue;
		snprintf(path, sizeof(path), "%s%s%s", where, *where ? "." : "", key);
		const contour_conf_item_t *it = find_key(typed, key);
		if (!it && json_is_object(v) && json_object_size(v) && depth + 1 < MERGE_DEPTH)
			list_unread(v, NULL, path, depth + 1, out); /* its leaves, by name */
		else if (!it)
			json_array_append_new(out, json_string(path));
		else if (it->type == CONTOUR_CONF_MAP && it->children && json_is_object(v) &&
		         depth + 1 < MERGE_DEPTH)
			list_unread(v, it->children, path, depth + 1, out);
	}
}

int core_conf_check_globals(core_conf_t *conf, const core_conf_table_t *tables, size_t n,
                            json_t *errors)
{
	if (conf->globals_checked)
		return CONTOUR_EOK;
	int nerr = 0;
	for (size_t i = 0; i < n; i++)
		nerr +=
		    check_owned(&tables[i], tables[i].schema, core_upstream_names, "", 0, errors);
	if (nerr)
		return CONTOUR_ECONFIG;
	contour_conf_item_t *merged = NULL;
	int rc = core_conf_merge(tables, n, &merged, errors);
	if (rc != CONTOUR_EOK)
		return rc;
	conf->globals_checked = 1;
	nerr = core_conf_validate_known(conf, conf->root, merged, errors);
	json_decref(conf->unread);
	conf->unread = json_array();
	if (conf->unread)
		list_unread(conf->root, merged, "", 0, conf->unread);
	core_conf_merged_free(merged);
	json_t *global = json_copy(conf->root);
	if (!global)
		return CONTOUR_ENOMEM;
	json_object_del(global, "modules");
	json_decref(conf->global);
	conf->global = global;
	return nerr ? CONTOUR_ECONFIG : CONTOUR_EOK;
}
