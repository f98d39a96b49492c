/* core/strmap.c: open addressing with linear probing, hashes kept beside
 * the keys so probes rarely touch the strings. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/strmap.h"

typedef struct strmap_slot {
	const char *key; /* NULL: empty */
	uint64_t hash;
	void *value;
} strmap_slot_t;

struct core_strmap {
	strmap_slot_t *slots;
	size_t cap, count; /* cap is a power of two */
};

/* Eight bytes at a time (the keys are DAG keys some tens of bytes long):
 * xxHash64's round per word, the length folded in, and its final avalanche,
 * since the low bits pick the slot. */
uint64_t core_hash_str(const char *s)
{
	const uint64_t p1 = 0x9E3779B185EBCA87ULL, p2 = 0xC2B2AE3D27D4EB4FULL;
	size_t n = strlen(s);
	uint64_t h = 0x27D4EB2F165667C5ULL + n, w;
	for (; n >= 8; n -= 8, s += 8) {
		memcpy(&w, s, 8);
		h += w * p2;
		h = ((h << 31) | (h >> 33)) * p1;
	}
	if (n) {
		w = 0;
		memcpy(&w, s, n);
		h += w * p2;
		h = ((h << 31) | (h >> 33)) * p1;
	}
	h ^= h >> 33;
	h *= p2;
	h ^= h >> 29;
	h *= 0x165667B19E3779F9ULL;
	h ^= h >> 32;
	return h;
}

core_strmap_t *core_strmap_new(void)
{
	return calloc(1, sizeof(core_strmap_t));
}

void core_strmap_free(core_strmap_t *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

void core_strmap_free_all(core_strmap_t *m, void (*free_fn)(void *value))
{
	for (size_t i = 0; m && i < m->cap; i++)
		if (m->slots[i].key)
			free_fn(m->slots[i].value);
	core_strmap_free(m);
}

static strmap_slot_t *strmap_find(const core_strmap_t *m, const char *key, uint64_t h)
{
	if (!m->cap)
		return NULL;
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		strmap_slot_t *s = &m->slots[i];
		if (!s->key || (s->hash == h && !strcmp(s->key, key)))
			return s;
	}
}

static int strmap_grow(core_strmap_t *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	strmap_slot_t *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		strmap_slot_t *s = &m->slots[i];
		if (!s->key)
			continue;
		size_t j = s->hash & (cap - 1);
		while (slots[j].key)
			j = (j + 1) & (cap - 1);
		slots[j] = *s;
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

void *core_strmap_get(const core_strmap_t *m, const char *key)
{
	strmap_slot_t *s = strmap_find(m, key, core_hash_str(key));
	return s && s->key ? s->value : NULL;
}

int core_strmap_put(core_strmap_t *m, const char *key, void *value)
{
	if ((m->count + 1) * 4 > m->cap * 3 && strmap_grow(m) != 0)
		return -1;
	uint64_t h = core_hash_str(key);
	strmap_slot_t *s = strmap_find(m, key, h);
	if (!s->key) {
		s->key = key;
		s->hash = h;
		m->count++;
	}
	s->value = value;
	return 0;
}

size_t core_strmap_count(const core_strmap_t *m)
{
	return m->count;
}

void core_strmap_foreach(const core_strmap_t *m, int (*fn)(const char *key, void *value, void *ud),
                         void *ud)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && fn(m->slots[i].key, m->slots[i].value, ud))
			return;
}
