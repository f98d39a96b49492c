/* core/store.c: the object store.
 *
 * Objects are grouped by (apiVersion, kind) into a store_kind_t; each kind
 * holds a chained hash table of (namespace, name) -> object, so a lookup is
 * two hash probes. The kinds themselves are in a second, smaller hash table.
 * A per-kind array sorted by (namespace, name) serves contour_store_foreach;
 * it is built on the first walk and dropped when an object of that kind is
 * added or deleted (a replacement keeps the node, so the index stays valid),
 * so the builds over a kind that did not change do not sort again.
 *
 * A node borrows its namespace and name strings from the object it holds:
 * stored objects are never edited, and a replacement repoints the strings at
 * the new object before the old one is released.
 *
 * Every value below a stored object's root is interned (store_intern.c):
 * objects share equal subtrees, which is what makes 30,000 objects fit in
 * memory. The table is swept after deletes and replacements, outside any
 * walk, so shared values leave with the last object that held them.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/store_intern.h"

typedef struct store_node {
	struct store_node *next; /* hash chain */
	uint32_t hash;
	const char *namespace_; /* borrowed from obj */
	const char *name;       /* borrowed from obj */
	json_t *obj;            /* owned */
} store_node_t;

typedef struct store_kind {
	struct store_kind *next; /* hash chain in store->kinds */
	uint32_t hash;
	char *api_version;
	char *kind;
	store_node_t **buckets;
	size_t nbuckets;
	size_t count;
	store_node_t **sorted; /* NULL: not built or invalidated */
} store_kind_t;

typedef struct store_sub {
	contour_module_t *mod;
	char *api_version; /* NULL: any */
	char *kind;        /* NULL: any */
	contour_store_watch_fn fn;
	void *ud;
} store_sub_t;

struct contour_source {
	core_store_t *store;
	contour_module_t *mod;
	char *name;
	int synced;
	size_t errors; /* inputs the latest full read could not read */
};

struct core_store {
	core_t *core;
	store_kind_t **kinds; /* hash table of kinds */
	size_t nkinds_buckets;
	size_t nkinds;
	store_sub_t *subs;
	size_t nsubs;
	contour_source_t **sources;
	size_t nsources;
	void (*hook)(void *ud);
	void *hook_ud;
	store_intern_t *intern;    /* shared subtrees of every stored object */
	size_t nobjects;           /* over all kinds */
	contour_metric_t *m_ops;   /* contour_eventhandler_operation_total */
	contour_metric_t *m_cache; /* contour_dag_cache_object */
};

#define STORE_INITIAL_BUCKETS 16

static const char *const store_op_names[] = {
    [CONTOUR_STORE_ADD] = "add",
    [CONTOUR_STORE_UPDATE] = "update",
    [CONTOUR_STORE_DELETE] = "delete",
};

/* FNV-1a over two strings with a NUL between them, so ("ab","c") and
 * ("a","bc") hash apart. */
static uint32_t store_hash2(const char *a, const char *b)
{
	uint32_t h = 2166136261u;
	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 16777619u;
	h = (h ^ 0) * 16777619u;
	for (; *b; b++)
		h = (h ^ (unsigned char)*b) * 16777619u;
	return h;
}

/* Object keys ------------------------------------------------------------ */

static const char *store_nonempty(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && *s ? s : NULL;
}

int contour_object_key_of(const json_t *obj, contour_object_key_t *key, const char **what)
{
	const char *missing = NULL;
	const json_t *meta = json_object_get(obj, "metadata");
	memset(key, 0, sizeof(*key));
	if (!json_is_object(obj))
		missing = "apiVersion";
	else if (!(key->api_version = store_nonempty(obj, "apiVersion")))
		missing = "apiVersion";
	else if (!(key->kind = store_nonempty(obj, "kind")))
		missing = "kind";
	else if (!(key->name = store_nonempty(meta, "name")))
		missing = "metadata.name";
	if (missing) {
		if (what)
			*what = missing;
		return CONTOUR_EINVAL;
	}
	key->namespace_ = json_string_value(json_object_get(meta, "namespace"));
	if (!key->namespace_)
		key->namespace_ = "";
	return CONTOUR_EOK;
}

/* Kinds and nodes ---------------------------------------------------------- */

static void store_kind_free(store_kind_t *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->nbuckets; i++) {
		store_node_t *n = k->buckets[i];
		while (n) {
			store_node_t *next = n->next;
			json_decref(n->obj);
			free(n);
			n = next;
		}
	}
	free(k->buckets);
	free(k->sorted);
	free(k->api_version);
	free(k->kind);
	free(k);
}

static store_kind_t *store_kind_find(const core_store_t *s, const char *api_version,
                                     const char *kind)
{
	if (!s->nkinds_buckets)
		return NULL;
	uint32_t h = store_hash2(api_version, kind);
	for (store_kind_t *k = s->kinds[h % s->nkinds_buckets]; k; k = k->next)
		if (k->hash == h && !strcmp(k->kind, kind) && !strcmp(k->api_version, api_version))
			return k;
	return NULL;
}

static int store_kinds_grow(core_store_t *s)
{
	size_t n = s->nkinds_buckets ? s->nkinds_buckets * 2 : STORE_INITIAL_BUCKETS;
	store_kind_t **b = calloc(n, sizeof(*b));
	if (!b)
		return CONTOUR_ENOMEM;
	for (size_t i = 0; i < s->nkinds_buckets; i++) {
		store_kind_t *k = s->kinds[i];
		while (k) {
			store_kind_t *next = k->next;
			k->next = b[k->hash % n];
			b[k->hash % n] = k;
			k = next;
		}
	}
	free(s->kinds);
	s->kinds = b;
	s->nkinds_buckets = n;
	return CONTOUR_EOK;
}

/* store_kind_get: the kind, created empty when absent; NULL without memory. */
static store_kind_t *store_kind_get(core_store_t *s, const char *api_version, const char *kind)
{
	store_kind_t *k = store_kind_find(s, api_version, kind);
	if (k)
		return k;
	if (s->nkinds >= s->nkinds_buckets && store_kinds_grow(s) != CONTOUR_EOK)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->hash = store_hash2(api_version, kind);
	k->api_version = strdup(api_version);
	k->kind = strdup(kind);
	k->nbuckets = STORE_INITIAL_BUCKETS;
	k->buckets = calloc(k->nbuckets, sizeof(*k->buckets));
	if (!k->api_version || !k->kind || !k->buckets) {
		store_kind_free(k);
		return NULL;
	}
	k->next = s->kinds[k->hash % s->nkinds_buckets];
	s->kinds[k->hash % s->nkinds_buckets] = k;
	s->nkinds++;
	return k;
}

/* store_node_slot: the link that points at the node for (ns, name), or at
 * the chain's terminating NULL when there is none; for unlinking. */
static store_node_t **store_node_slot(store_kind_t *k, uint32_t h, const char *ns, const char *name)
{
	store_node_t **pp = &k->buckets[h % k->nbuckets];
	for (; *pp; pp = &(*pp)->next) {
		store_node_t *n = *pp;
		if (n->hash == h && !strcmp(n->name, name) && !strcmp(n->namespace_, ns))
			break;
	}
	return pp;
}

static void store_kind_grow(store_kind_t *k)
{
	size_t n = k->nbuckets * 2;
	store_node_t **b = calloc(n, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < k->nbuckets; i++) {
		store_node_t *node = k->buckets[i];
		while (node) {
			store_node_t *next = node->next;
			node->next = b[node->hash % n];
			b[node->hash % n] = node;
			node = next;
		}
	}
	free(k->buckets);
	k->buckets = b;
	k->nbuckets = n;
}

static void store_kind_invalidate(store_kind_t *k)
{
	free(k->sorted);
	k->sorted = NULL;
}

static int store_node_cmp(const void *a, const void *b)
{
	const store_node_t *x = *(store_node_t *const *)a;
	const store_node_t *y = *(store_node_t *const *)b;
	int c = strcmp(x->namespace_, y->namespace_);
	return c ? c : strcmp(x->name, y->name);
}

static int store_kind_sort(store_kind_t *k)
{
	if (k->sorted || !k->count)
		return CONTOUR_EOK;
	store_node_t **v = malloc(k->count * sizeof(*v));
	if (!v)
		return CONTOUR_ENOMEM;
	size_t j = 0;
	for (size_t i = 0; i < k->nbuckets; i++)
		for (store_node_t *n = k->buckets[i]; n; n = n->next)
			v[j++] = n;
	qsort(v, k->count, sizeof(*v), store_node_cmp);
	k->sorted = v;
	return CONTOUR_EOK;
}

/* Notifications ---------------------------------------------------------- */

static void store_changed(core_store_t *s, store_kind_t *k, contour_store_event_t ev,
                          const json_t *old_obj, const json_t *new_obj)
{
	for (size_t i = 0; i < s->nsubs; i++) {
		store_sub_t *sub = &s->subs[i];
		if (sub->api_version && strcmp(sub->api_version, k->api_version))
			continue;
		if (sub->kind && strcmp(sub->kind, k->kind))
			continue;
		sub->fn(ev, old_obj, new_obj, sub->ud);
	}
	if (s->m_ops) {
		const char *labels[] = {store_op_names[ev], k->kind};
		contour_metric_add(s->m_ops, labels, 1);
	}
	if (s->m_cache) {
		const char *labels[] = {k->kind};
		contour_metric_set(s->m_cache, labels, (double)k->count);
	}
	if (s->hook)
		s->hook(s->hook_ud);
}

/* The store ---------------------------------------------------------------- */

static const char *const store_kind_labels[] = {"kind", NULL};
static const char *const store_op_labels[] = {"op", "kind", NULL};

core_store_t *core_store_new(core_t *core)
{
	core_store_t *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->core = core;
	s->intern = store_intern_new();
	if (!s->intern) {
		free(s);
		return NULL;
	}
	const contour_metric_desc_t ops = {
	    .type = CONTOUR_METRIC_COUNTER,
	    .name = "contour_eventhandler_operation_total",
	    .help = "Total number of Kubernetes object changes Contour has received by "
	            "operation and object kind.",
	    .labels = store_op_labels,
	};
	const contour_metric_desc_t cache = {
	    .type = CONTOUR_METRIC_GAUGE,
	    .name = "contour_dag_cache_object",
	    .help = "Total number of items that are currently in the DAG cache.",
	    .labels = store_kind_labels,
	};
	/* A store without metrics still works: record only what registered. */
	if (contour_register_metric(&core->self, &ops, &s->m_ops) != CONTOUR_EOK)
		s->m_ops = NULL;
	if (contour_register_metric(&core->self, &cache, &s->m_cache) != CONTOUR_EOK)
		s->m_cache = NULL;
	return s;
}

static void store_source_free(contour_source_t *src)
{
	if (!src)
		return;
	free(src->name);
	free(src);
}

static void store_sub_fini(store_sub_t *sub)
{
	free(sub->api_version);
	free(sub->kind);
}

void core_store_free(core_store_t *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nkinds_buckets; i++) {
		store_kind_t *k = s->kinds[i];
		while (k) {
			store_kind_t *next = k->next;
			store_kind_free(k);
			k = next;
		}
	}
	free(s->kinds);
	store_intern_free(s->intern);
	for (size_t i = 0; i < s->nsubs; i++)
		store_sub_fini(&s->subs[i]);
	free(s->subs);
	for (size_t i = 0; i < s->nsources; i++)
		store_source_free(s->sources[i]);
	free(s->sources);
	free(s);
}

int core_store_all_synced(const core_store_t *s)
{
	for (size_t i = 0; i < s->nsources; i++)
		if (!s->sources[i]->synced)
			return 0;
	return 1;
}

void core_store_set_change_hook(core_store_t *s, void (*fn)(void *ud), void *ud)
{
	s->hook = fn;
	s->hook_ud = ud;
}

store_intern_t *core_store_intern_table(core_store_t *s)
{
	return s ? s->intern : NULL;
}

/* store_release: drop the store's reference to a stored object. */
static void store_release(core_store_t *s, json_t *obj)
{
	json_decref(obj);
	store_intern_released(s->intern);
}

void core_store_drop_module(core_store_t *s, contour_module_t *mod)
{
	size_t j = 0;
	for (size_t i = 0; i < s->nsubs; i++) {
		if (s->subs[i].mod == mod)
			store_sub_fini(&s->subs[i]);
		else
			s->subs[j++] = s->subs[i];
	}
	s->nsubs = j;
	j = 0;
	for (size_t i = 0; i < s->nsources; i++) {
		if (s->sources[i]->mod == mod)
			store_source_free(s->sources[i]);
		else
			s->sources[j++] = s->sources[i];
	}
	s->nsources = j;
}

/* Sources ------------------------------------------------------------------ */

int contour_register_source(contour_module_t *mod, const char *name, contour_source_t **out)
{
	int rc = core_may_register(mod, "contour_register_source");
	if (rc != CONTOUR_EOK)
		return rc;
	if (!name || !*name || !out)
		return CONTOUR_EINVAL;
	core_store_t *s = mod->core->store;
	for (size_t i = 0; i < s->nsources; i++)
		if (!strcmp(s->sources[i]->name, name))
			return CONTOUR_EEXIST;
	contour_source_t **v = realloc(s->sources, (s->nsources + 1) * sizeof(*v));
	if (!v)
		return CONTOUR_ENOMEM;
	s->sources = v;
	contour_source_t *src = calloc(1, sizeof(*src));
	if (!src)
		return CONTOUR_ENOMEM;
	src->name = strdup(name);
	if (!src->name) {
		free(src);
		return CONTOUR_ENOMEM;
	}
	src->store = s;
	src->mod = mod;
	s->sources[s->nsources++] = src;
	*out = src;
	return CONTOUR_EOK;
}

void contour_source_set_synced(contour_source_t *src)
{
	if (!src || src->synced)
		return;
	src->synced = 1;
	contour_log(src->mod, CONTOUR_LOG_INFO, "source %s synced", src->name);
	/* The build held back for this sync may start now. */
	if (src->store->hook)
		src->store->hook(src->store->hook_ud);
}

void contour_source_set_errors(contour_source_t *src, size_t n)
{
	if (src)
		src->errors = n;
}

int contour_source_once(const contour_source_t *src)
{
	return src && src->mod && src->mod->core && src->mod->core->render_mode;
}

size_t core_store_source_errors(const core_store_t *s)
{
	size_t n = 0;
	for (size_t i = 0; s && i < s->nsources; i++)
		n += s->sources[i]->errors;
	return n;
}

/* Changes ------------------------------------------------------------------ */

/* Fields that change on every apply but never matter to a build: dropping
 * them saves memory and makes re-applies compare equal. */
static void store_strip(json_t *obj)
{
	json_t *meta = json_object_get(obj, "metadata");
	if (!json_is_object(meta))
		return;
	json_object_del(meta, "managedFields");
	json_t *ann = json_object_get(meta, "annotations");
	if (json_is_object(ann))
		json_object_del(ann, "kubectl.kubernetes.io/last-applied-configuration");
}

int contour_store_put_new(contour_source_t *src, json_t *obj)
{
	contour_object_key_t key;
	const char *what = NULL;
	store_kind_t *k;
	store_node_t *n;
	int rc = CONTOUR_EINVAL, interned = 0;
	if (!src || !obj)
		goto fail;
	core_store_t *s = src->store;
	if (contour_object_key_of(obj, &key, &what) != CONTOUR_EOK) {
		contour_log(src->mod, CONTOUR_LOG_DEBUG, "source %s: object without %s ignored",
		            src->name, what);
		goto fail;
	}
	store_strip(obj);
	rc = CONTOUR_ENOMEM;
	k = store_kind_get(s, key.api_version, key.kind);
	if (!k)
		goto fail;
	uint32_t h = store_hash2(key.namespace_, key.name);
	n = *store_node_slot(k, h, key.namespace_, key.name);
	if (n && json_equal(n->obj, obj)) {
		json_decref(obj);
		return CONTOUR_EOK;
	}
	/* Sweep before the walk, never during it. Interning replaces values
	 * inside obj, the key's strings among them: take the key again. The
	 * content is unchanged, so are h and the node found. */
	store_intern_maybe_sweep(s->intern, s->nobjects);
	if (store_intern(s->intern, obj) == CONTOUR_ENOMEM)
		contour_log(src->mod, CONTOUR_LOG_DEBUG,
		            "store: intern table full, object kept unshared");
	interned = 1;
	contour_object_key_of(obj, &key, NULL);
	if (n) {
		json_t *old = n->obj;
		n->obj = obj;
		n->namespace_ = key.namespace_;
		n->name = key.name;
		store_changed(s, k, CONTOUR_STORE_UPDATE, old, obj);
		store_release(s, old);
		return CONTOUR_EOK;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		goto fail;
	n->hash = h;
	n->namespace_ = key.namespace_;
	n->name = key.name;
	n->obj = obj;
	/* Prepend: the slot found above is the chain's tail. */
	store_node_t **head = &k->buckets[h % k->nbuckets];
	n->next = *head;
	*head = n;
	k->count++;
	s->nobjects++;
	store_kind_invalidate(k);
	if (k->count > k->nbuckets)
		store_kind_grow(k);
	store_changed(s, k, CONTOUR_STORE_ADD, NULL, obj);
	return CONTOUR_EOK;
fail:
	/* Once interned, its shares may become garbage with it. */
	if (interned)
		store_release(src->store, obj);
	else
		json_decref(obj);
	return rc;
}

int contour_store_delete(contour_source_t *src, const contour_object_key_t *key)
{
	if (!src || !key || !key->api_version || !key->kind || !key->name)
		return CONTOUR_EINVAL;
	core_store_t *s = src->store;
	const char *ns = key->namespace_ ? key->namespace_ : "";
	store_kind_t *k = store_kind_find(s, key->api_version, key->kind);
	if (!k)
		return CONTOUR_ENOENT;
	store_node_t **slot = store_node_slot(k, store_hash2(ns, key->name), ns, key->name);
	store_node_t *n = *slot;
	if (!n)
		return CONTOUR_ENOENT;
	*slot = n->next;
	k->count--;
	s->nobjects--;
	store_kind_invalidate(k);
	/* Subscribers see the old object; release it only afterwards (key
	 * itself may point into it). */
	store_changed(s, k, CONTOUR_STORE_DELETE, n->obj, NULL);
	store_release(s, n->obj);
	free(n);
	store_intern_maybe_sweep(s->intern, s->nobjects);
	return CONTOUR_EOK;
}

/* Reading ------------------------------------------------------------------ */

const json_t *contour_store_get(contour_module_t *mod, const contour_object_key_t *key)
{
	if (!mod || !key || !key->api_version || !key->kind || !key->name)
		return NULL;
	const char *ns = key->namespace_ ? key->namespace_ : "";
	store_kind_t *k = store_kind_find(mod->core->store, key->api_version, key->kind);
	if (!k)
		return NULL;
	store_node_t *n = *store_node_slot(k, store_hash2(ns, key->name), ns, key->name);
	return n ? n->obj : NULL;
}

size_t contour_store_foreach(contour_module_t *mod, const char *api_version, const char *kind,
                             contour_store_visit_fn fn, void *ud)
{
	if (!mod || !api_version || !kind || !fn)
		return 0;
	store_kind_t *k = store_kind_find(mod->core->store, api_version, kind);
	if (!k || !k->count)
		return 0;
	if (store_kind_sort(k) != CONTOUR_EOK) {
		contour_log(mod, CONTOUR_LOG_ERR, "store: out of memory sorting %s %s", api_version,
		            kind);
		return 0;
	}
	size_t visited = 0;
	for (size_t i = 0; i < k->count; i++) {
		visited++;
		if (fn(k->sorted[i]->obj, ud))
			break;
	}
	return visited;
}

size_t contour_store_count(contour_module_t *mod, const char *api_version, const char *kind)
{
	if (!mod)
		return 0;
	core_store_t *s = mod->core->store;
	if (api_version && kind) {
		store_kind_t *k = store_kind_find(s, api_version, kind);
		return k ? k->count : 0;
	}
	size_t total = 0;
	for (size_t i = 0; i < s->nkinds_buckets; i++)
		for (store_kind_t *k = s->kinds[i]; k; k = k->next)
			if ((!api_version || !strcmp(api_version, k->api_version)) &&
			    (!kind || !strcmp(kind, k->kind)))
				total += k->count;
	return total;
}

/* Subscriptions ------------------------------------------------------------ */

int contour_store_subscribe(contour_module_t *mod, const char *api_version, const char *kind,
                            contour_store_watch_fn fn, void *ud)
{
	int rc = core_may_register(mod, "contour_store_subscribe");
	if (rc != CONTOUR_EOK)
		return rc;
	if (!fn)
		return CONTOUR_EINVAL;
	core_store_t *s = mod->core->store;
	store_sub_t *v = realloc(s->subs, (s->nsubs + 1) * sizeof(*v));
	if (!v)
		return CONTOUR_ENOMEM;
	s->subs = v;
	store_sub_t sub = {.mod = mod, .fn = fn, .ud = ud};
	if (api_version && !(sub.api_version = strdup(api_version)))
		goto fail;
	if (kind && !(sub.kind = strdup(kind)))
		goto fail;
	s->subs[s->nsubs++] = sub;
	return CONTOUR_EOK;
fail:
	store_sub_fini(&sub);
	return CONTOUR_ENOMEM;
}
