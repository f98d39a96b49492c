/* core/store_intern.c: one shared copy of every repeated subtree.
 *
 * jansson spends about 9 KB on a 600-byte HTTPProxy, and most of it goes on
 * values that repeat across objects: label and annotation maps, ports,
 * "RoundRobin", "30s", whole route conditions. Stored objects are never
 * modified, so equal values can be one reference-counted value.
 *
 * The table is open addressing with linear probing over (value, hash)
 * slots. The hash is structural and computed bottom-up in the same walk
 * that replaces children: a leaf hashes its type and value, an array its
 * elements' hashes in order, an object its keys and children's hashes in
 * iteration order. Equal objects whose keys were inserted in another order
 * hash apart: that only misses a share, because a hit is always confirmed
 * with json_equal. The confirmation is cheap since children are interned
 * first and json_equal returns at once for identical pointers.
 *
 * Invariant: every value below an entry is an entry too (the walk is
 * bottom-up), so an entry's children are never garbage while it lives.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/store_intern.h"
#include "core/util.h"

typedef struct store_intern_slot {
	json_t *v; /* NULL: empty; STORE_INTERN_TOMB: swept; otherwise one
	              reference owned by the table */
	uint64_t hash;
} store_intern_slot_t;

struct store_intern {
	store_intern_slot_t *slots;
	size_t cap; /* a power of two, or 0 before the first value */
	size_t count;
	size_t tombs;       /* swept slots not yet reclaimed by a rehash */
	size_t released;    /* stored objects dropped since the last sweep */
	size_t after_sweep; /* count right after the last sweep */
	int oom;            /* the current walk could not add a value */
};

/* A swept slot keeps probe sequences through it intact until the next
 * rehash, so a sweep never depends on getting memory. */
static json_t store_intern_tomb;
#define STORE_INTERN_TOMB    (&store_intern_tomb)
#define STORE_INTERN_LIVE(v) ((v) && (v) != STORE_INTERN_TOMB)

#define STORE_INTERN_MIN_CAP 1024
/* With objects released, sweep once the table has grown by this many
 * entries beyond twice its size after the last sweep. */
#define STORE_INTERN_SWEEP_SLACK 4096

/* Hashing ------------------------------------------------------------------ */

enum {
	STORE_INTERN_SEED_OBJECT = 1,
	STORE_INTERN_SEED_ARRAY,
	STORE_INTERN_SEED_STRING,
	STORE_INTERN_SEED_INTEGER,
	STORE_INTERN_SEED_REAL,
	STORE_INTERN_SEED_TRUE,
	STORE_INTERN_SEED_FALSE,
	STORE_INTERN_SEED_NULL,
	STORE_INTERN_SEED_KEY,
};

/* Order-dependent: [a, b] and [b, a] hash apart. */
static uint64_t store_intern_combine(uint64_t h, uint64_t x)
{
	return core_hash_mix64(h * 0x9e3779b97f4a7c15ull + x);
}

static uint64_t store_intern_bytes(uint64_t seed, const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ull ^ seed;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return core_hash_mix64(h ^ len);
}

/* The table ---------------------------------------------------------------- */

store_intern_t *store_intern_new(void)
{
	return calloc(1, sizeof(store_intern_t));
}

void store_intern_free(store_intern_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		if (STORE_INTERN_LIVE(t->slots[i].v))
			json_decref(t->slots[i].v);
	free(t->slots);
	free(t);
}

size_t store_intern_count(const store_intern_t *t)
{
	return t ? t->count : 0;
}

void store_intern_released(store_intern_t *t)
{
	if (t)
		t->released++;
}

/* store_intern_place: put a slot into a fresh array (no tombs) that has
 * room and does not hold an equal value already. */
static void store_intern_place(store_intern_slot_t *slots, size_t cap, store_intern_slot_t e)
{
	size_t i = e.hash & (cap - 1);
	while (slots[i].v)
		i = (i + 1) & (cap - 1);
	slots[i] = e;
}

/* The smallest power of two that keeps count entries at most half full. */
static size_t store_intern_cap_for(size_t count)
{
	size_t cap = STORE_INTERN_MIN_CAP;
	while (cap < count * 2)
		cap *= 2;
	return cap;
}

/* store_intern_rehash: move every entry into a fresh array sized for
 * count (growing, or shrinking after a sweep), dropping the tombs. */
static int store_intern_rehash(store_intern_t *t, size_t count)
{
	size_t cap = store_intern_cap_for(count);
	store_intern_slot_t *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return CONTOUR_ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (STORE_INTERN_LIVE(t->slots[i].v))
			store_intern_place(slots, cap, t->slots[i]);
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	t->tombs = 0;
	return CONTOUR_EOK;
}

/* store_intern_same: whether a (an entry) and b (interned children) are
 * equal. Both have canonical children, so equal children in the same order
 * are the same pointers: a member-by-member walk in iteration order
 * replaces json_equal's key lookups. Never wrong when it says yes; it says
 * no for equal objects whose keys are in another order, which hash apart
 * anyway and only miss a share. */
static int store_intern_same(json_t *a, json_t *b)
{
	if (a == b)
		return 1;
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_OBJECT: {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		void *ia = json_object_iter(a), *ib = json_object_iter(b);
		for (; ia && ib;
		     ia = json_object_iter_next(a, ia), ib = json_object_iter_next(b, ib)) {
			size_t len = json_object_iter_key_len(ia);
			if (json_object_iter_value(ia) != json_object_iter_value(ib) ||
			    len != json_object_iter_key_len(ib) ||
			    memcmp(json_object_iter_key(ia), json_object_iter_key(ib), len))
				return 0;
		}
		return !ia && !ib;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(a);
		if (n != json_array_size(b))
			return 0;
		for (size_t i = 0; i < n; i++)
			if (json_array_get(a, i) != json_array_get(b, i))
				return 0;
		return 1;
	}
	default:
		return json_equal(a, b);
	}
}

/* store_intern_find_or_add: the entry equal to v (hash h), or v itself once
 * added. Without memory to grow, v is returned unshared. */
static json_t *store_intern_find_or_add(store_intern_t *t, json_t *v, uint64_t h)
{
	/* Rehash at 3/4 used: linear probing degrades fast beyond that. */
	if ((t->count + t->tombs + 1) * 4 > t->cap * 3 &&
	    store_intern_rehash(t, t->count + 1) != CONTOUR_EOK) {
		t->oom = 1;
		if (t->count + t->tombs + 1 >= t->cap)
			return v; /* keep one slot empty so probes end */
	}
	size_t mask = t->cap - 1;
	size_t i = h & mask, tomb = SIZE_MAX;
	for (; t->slots[i].v; i = (i + 1) & mask) {
		json_t *e = t->slots[i].v;
		if (e == STORE_INTERN_TOMB) {
			if (tomb == SIZE_MAX)
				tomb = i;
		} else if (t->slots[i].hash == h && store_intern_same(e, v)) {
			return e;
		}
	}
	if (tomb != SIZE_MAX) {
		i = tomb;
		t->tombs--;
	}
	t->slots[i].v = json_incref(v);
	t->slots[i].hash = h;
	t->count++;
	return v;
}

/* The walk ----------------------------------------------------------------- */

static uint64_t store_intern_walk(store_intern_t *t, json_t *v, json_t **canon);

/* store_intern_children: replace v's children by their canonical values;
 * returns v's structural hash. */
static uint64_t store_intern_children(store_intern_t *t, json_t *v)
{
	uint64_t h;
	json_t *c, *cc;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		h = STORE_INTERN_SEED_OBJECT;
		for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
			c = json_object_iter_value(it);
			uint64_t ch = store_intern_walk(t, c, &cc);
			/* Takes a reference on cc and releases c. */
			if (cc != c)
				json_object_iter_set(v, it, cc);
			const char *key = json_object_iter_key(it);
			h = store_intern_combine(h,
			                         store_intern_bytes(STORE_INTERN_SEED_KEY, key,
			                                            json_object_iter_key_len(it)));
			h = store_intern_combine(h, ch);
		}
		return h;
	case JSON_ARRAY:
		h = STORE_INTERN_SEED_ARRAY;
		for (size_t i = 0; i < json_array_size(v); i++) {
			c = json_array_get(v, i);
			h = store_intern_combine(h, store_intern_walk(t, c, &cc));
			if (cc != c)
				json_array_set(v, i, cc);
		}
		return h;
	case JSON_STRING:
		return store_intern_bytes(STORE_INTERN_SEED_STRING, json_string_value(v),
		                          json_string_length(v));
	case JSON_INTEGER:
		return store_intern_combine(STORE_INTERN_SEED_INTEGER,
		                            (uint64_t)json_integer_value(v));
	case JSON_REAL: {
		double d = json_real_value(v);
		uint64_t bits;
		memcpy(&bits, &d, sizeof(bits));
		return store_intern_combine(STORE_INTERN_SEED_REAL, bits);
	}
	case JSON_TRUE:
		return core_hash_mix64(STORE_INTERN_SEED_TRUE);
	case JSON_FALSE:
		return core_hash_mix64(STORE_INTERN_SEED_FALSE);
	case JSON_NULL:
	default:
		return core_hash_mix64(STORE_INTERN_SEED_NULL);
	}
}

/* store_intern_walk: intern v's subtree and set *canon to the value that
 * should stand in v's place (borrowed: the table holds it). */
static uint64_t store_intern_walk(store_intern_t *t, json_t *v, json_t **canon)
{
	uint64_t h = store_intern_children(t, v);
	/* true, false and null are jansson singletons already. */
	if (json_is_true(v) || json_is_false(v) || json_is_null(v))
		*canon = v;
	else
		*canon = store_intern_find_or_add(t, v, h);
	return h;
}

int store_intern(store_intern_t *t, json_t *obj)
{
	if (!t || !obj)
		return CONTOUR_EINVAL;
	t->oom = 0;
	(void)store_intern_children(t, obj);
	return t->oom ? CONTOUR_ENOMEM : CONTOUR_EOK;
}

/* Sweeping ----------------------------------------------------------------- */

size_t store_intern_sweep(store_intern_t *t)
{
	if (!t || !t->count)
		return 0;
	size_t freed = 0, pass;
	/* Releasing an entry drops its children's counts, possibly to the
	 * table's one: repeat until a pass finds nothing (one pass per level
	 * of nesting at most). */
	do {
		pass = 0;
		for (size_t i = 0; i < t->cap; i++) {
			json_t *v = t->slots[i].v;
			if (STORE_INTERN_LIVE(v) && v->refcount == 1) {
				t->slots[i].v = STORE_INTERN_TOMB;
				json_decref(v);
				pass++;
			}
		}
		freed += pass;
	} while (pass);
	t->count -= freed;
	t->tombs += freed;
	/* Give memory back when the table can shrink, and clear the tombs
	 * once they are many; otherwise (or without memory) inserts reuse
	 * them and the next rehash drops them. */
	if (store_intern_cap_for(t->count) < t->cap || t->tombs * 4 > t->cap)
		(void)store_intern_rehash(t, t->count);
	t->released = 0;
	t->after_sweep = t->count;
	return freed;
}

size_t store_intern_maybe_sweep(store_intern_t *t, size_t nobjects)
{
	if (!t || !t->released)
		return 0;
	/* As many objects dropped as are stored, or a table that doubled
	 * while objects were dropped: in both cases much of it may be
	 * garbage. A sweep costs a pass over the table per level of nesting,
	 * so sweeps are spaced out geometrically: deleting everything sweeps
	 * about log2(n) times, over ever smaller tables. */
	if (t->released >= nobjects || t->count >= 2 * t->after_sweep + STORE_INTERN_SWEEP_SLACK)
		return store_intern_sweep(t);
	return 0;
}
