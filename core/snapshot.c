/* core/snapshot.c: the reference-counted result of one build.
 *
 * Attachments are few (one or two per processor), so they live in a small
 * array searched linearly. Statuses are one per owned source object (tens of
 * thousands in a large cluster): a chained hash table finds them by key, and
 * an array in insertion order is sorted by key once, at seal time, for the
 * ordered walk. The entries live in an arena: they are never freed one by
 * one (a second status for a key replaces the value, not the entry), and
 * tens of thousands of small mallocs and frees per build add up.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/dag/dag_internal.h"

typedef struct snap_attach {
	char *name;
	void *data;
	void (*free_fn)(void *data);
} snap_attach_t;

typedef struct snap_status {
	struct snap_status *next; /* hash chain */
	uint32_t hash;
	contour_object_key_t key; /* strings point into keybuf */
	json_t *status;
	char keybuf[]; /* the four key strings, NUL-separated */
} snap_status_t;

struct contour_snapshot {
	unsigned refs;
	contour_dag_t *dag;
	int sealed;
	uint64_t generation;
	snap_attach_t *attach;
	size_t nattach;
	snap_status_t **buckets;
	size_t nbuckets;
	core_arena_t *arena;   /* the status entries */
	snap_status_t **order; /* every status; sorted by key when `sorted` */
	size_t nstatus;
	size_t cap;
	int sorted;
};

#define SNAP_INITIAL_BUCKETS 64

contour_snapshot_t *core_snapshot_new(core_t *core, uint64_t generation)
{
	contour_snapshot_t *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->dag = core_dag_new(core);
	s->arena = core_arena_new(0);
	if (!s->dag || !s->arena) {
		core_dag_free(s->dag);
		core_arena_free(s->arena);
		free(s);
		return NULL;
	}
	s->dag->priv->snap = s;
	s->refs = 1;
	s->generation = generation;
	s->sorted = 1;
	return s;
}

static void snap_free(contour_snapshot_t *s)
{
	for (size_t i = 0; i < s->nattach; i++) {
		if (s->attach[i].free_fn)
			s->attach[i].free_fn(s->attach[i].data);
		free(s->attach[i].name);
	}
	free(s->attach);
	for (size_t i = 0; i < s->nstatus; i++)
		json_decref(s->order[i]->status);
	core_arena_free(s->arena);
	free(s->order);
	free(s->buckets);
	core_dag_free(s->dag);
	free(s);
}

static int snap_key_cmp(const contour_object_key_t *a, const contour_object_key_t *b)
{
	int c = strcmp(a->api_version, b->api_version);
	if (!c)
		c = strcmp(a->kind, b->kind);
	if (!c)
		c = strcmp(a->namespace_, b->namespace_);
	if (!c)
		c = strcmp(a->name, b->name);
	return c;
}

static int snap_status_cmp(const void *a, const void *b)
{
	const snap_status_t *x = *(snap_status_t *const *)a;
	const snap_status_t *y = *(snap_status_t *const *)b;
	return snap_key_cmp(&x->key, &y->key);
}

static void snap_sort(contour_snapshot_t *s)
{
	if (!s->sorted) {
		qsort(s->order, s->nstatus, sizeof(*s->order), snap_status_cmp);
		s->sorted = 1;
	}
}

void core_snapshot_seal(contour_snapshot_t *snap)
{
	if (!snap)
		return;
	snap_sort(snap);
	if (core_dag_seal(snap->dag) != CONTOUR_EOK)
		contour_log(NULL, CONTOUR_LOG_ERR, "snapshot %llu: out of memory sealing the DAG",
		            (unsigned long long)snap->generation);
	snap->sealed = 1;
}

contour_dag_t *contour_snapshot_dag(const contour_snapshot_t *snap)
{
	return snap ? snap->dag : NULL;
}

contour_snapshot_t *contour_snapshot_ref(contour_snapshot_t *snap)
{
	if (snap)
		snap->refs++;
	return snap;
}

void contour_snapshot_unref(contour_snapshot_t *snap)
{
	if (snap && --snap->refs == 0)
		snap_free(snap);
}

uint64_t contour_snapshot_generation(const contour_snapshot_t *snap)
{
	return snap ? snap->generation : 0;
}

int contour_snapshot_attach(contour_snapshot_t *building, const char *name, void *data,
                            void (*free_fn)(void *data))
{
	int rc = CONTOUR_EINVAL;
	if (!building || !name)
		goto fail;
	rc = CONTOUR_ESTATE;
	if (building->sealed)
		goto fail;
	rc = CONTOUR_EEXIST;
	for (size_t i = 0; i < building->nattach; i++)
		if (!strcmp(building->attach[i].name, name))
			goto fail;
	rc = CONTOUR_ENOMEM;
	snap_attach_t *v = realloc(building->attach, (building->nattach + 1) * sizeof(*v));
	if (!v)
		goto fail;
	building->attach = v;
	char *copy = strdup(name);
	if (!copy)
		goto fail;
	v[building->nattach++] = (snap_attach_t){.name = copy, .data = data, .free_fn = free_fn};
	return CONTOUR_EOK;
fail:
	if (free_fn)
		free_fn(data);
	return rc;
}

void *contour_snapshot_find(const contour_snapshot_t *snap, const char *name)
{
	if (!snap || !name)
		return NULL;
	for (size_t i = 0; i < snap->nattach; i++)
		if (!strcmp(snap->attach[i].name, name))
			return snap->attach[i].data;
	return NULL;
}

/* FNV-1a over the four strings, NUL-separated. */
static uint32_t snap_key_hash(const contour_object_key_t *k)
{
	const char *parts[] = {k->api_version, k->kind, k->namespace_, k->name};
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < 4; i++) {
		for (const char *p = parts[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		h *= 16777619u;
	}
	return h;
}

static int snap_key_valid(const contour_object_key_t *k)
{
	return k && k->api_version && k->kind && k->name;
}

/* snap_key_norm: a copy of *k with a NULL namespace read as "". */
static contour_object_key_t snap_key_norm(const contour_object_key_t *k)
{
	contour_object_key_t n = *k;
	if (!n.namespace_)
		n.namespace_ = "";
	return n;
}

static snap_status_t *snap_status_find(const contour_snapshot_t *s, const contour_object_key_t *k,
                                       uint32_t h)
{
	if (!s->nbuckets)
		return NULL;
	for (snap_status_t *e = s->buckets[h % s->nbuckets]; e; e = e->next)
		if (e->hash == h && !snap_key_cmp(&e->key, k))
			return e;
	return NULL;
}

static int snap_grow(contour_snapshot_t *s)
{
	size_t n = s->nbuckets ? s->nbuckets * 2 : SNAP_INITIAL_BUCKETS;
	snap_status_t **b = calloc(n, sizeof(*b));
	snap_status_t **o = realloc(s->order, n * sizeof(*o));
	if (!b || !o) {
		free(b);
		if (o)
			s->order = o;
		return CONTOUR_ENOMEM;
	}
	/* The order array holds every entry: rehash from it. */
	for (size_t i = 0; i < s->nstatus; i++) {
		snap_status_t *e = o[i];
		e->next = b[e->hash % n];
		b[e->hash % n] = e;
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
	s->order = o;
	s->cap = n;
	return CONTOUR_EOK;
}

static snap_status_t *snap_status_alloc(core_arena_t *a, const contour_object_key_t *k, uint32_t h)
{
	size_t la = strlen(k->api_version) + 1, lk = strlen(k->kind) + 1;
	size_t ln = strlen(k->namespace_) + 1, lm = strlen(k->name) + 1;
	snap_status_t *e = core_arena_alloc(a, sizeof(*e) + la + lk + ln + lm);
	if (!e)
		return NULL;
	char *p = e->keybuf;
	e->next = NULL;
	e->hash = h;
	e->status = NULL;
	e->key.api_version = memcpy(p, k->api_version, la);
	e->key.kind = memcpy(p += la, k->kind, lk);
	e->key.namespace_ = memcpy(p += lk, k->namespace_, ln);
	e->key.name = memcpy(p += ln, k->name, lm);
	return e;
}

int contour_snapshot_set_status_new(contour_snapshot_t *building, const contour_object_key_t *key,
                                    json_t *status)
{
	int rc = CONTOUR_EINVAL;
	if (!building || !snap_key_valid(key) || !status)
		goto fail;
	rc = CONTOUR_ESTATE;
	if (building->sealed)
		goto fail;
	contour_object_key_t k = snap_key_norm(key);
	uint32_t h = snap_key_hash(&k);
	snap_status_t *e = snap_status_find(building, &k, h);
	if (e) {
		json_decref(e->status);
		e->status = status;
		return CONTOUR_EOK;
	}
	rc = CONTOUR_ENOMEM;
	if (building->nstatus >= building->cap && snap_grow(building) != CONTOUR_EOK)
		goto fail;
	e = snap_status_alloc(building->arena, &k, h);
	if (!e)
		goto fail;
	e->status = status;
	e->next = building->buckets[h % building->nbuckets];
	building->buckets[h % building->nbuckets] = e;
	building->order[building->nstatus++] = e;
	building->sorted = 0;
	return CONTOUR_EOK;
fail:
	json_decref(status);
	return rc;
}

const json_t *contour_snapshot_status(const contour_snapshot_t *snap,
                                      const contour_object_key_t *key)
{
	if (!snap || !snap_key_valid(key))
		return NULL;
	contour_object_key_t k = snap_key_norm(key);
	snap_status_t *e = snap_status_find(snap, &k, snap_key_hash(&k));
	return e ? e->status : NULL;
}

size_t contour_snapshot_foreach_status(const contour_snapshot_t *snap, contour_status_visit_fn fn,
                                       void *ud)
{
	if (!snap || !fn)
		return 0;
	/* A sealed snapshot is already sorted; one still being built sorts its
	 * own index, which changes no observable content. */
	snap_sort((contour_snapshot_t *)snap);
	size_t visited = 0;
	for (size_t i = 0; i < snap->nstatus; i++) {
		visited++;
		if (fn(&snap->order[i]->key, snap->order[i]->status, ud))
			break;
	}
	return visited;
}
