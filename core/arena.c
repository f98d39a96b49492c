/* core/arena.c: chunks from malloc, handed out by bumping a pointer.
 * Allocations bigger than a quarter chunk get a chunk of their own so they
 * do not waste the tail of the current one.
 *
 * A large arena (a big cluster's DAG: tens of megabytes) would be hundreds
 * of chunks of the base size, and each large malloc or free makes glibc
 * consolidate its fast bins, so a new chunk is half the size of everything
 * reserved so far (at least the base size, at most ARENA_MAX_CHUNK): a few
 * dozen chunks, and a small arena stays small. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"

#define ARENA_MAX_CHUNK (1024 * 1024)

typedef struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
} arena_chunk_t;

struct core_arena {
	arena_chunk_t *head;
	size_t chunk_size;
	size_t used, reserved;
};

core_arena_t *core_arena_new(size_t chunk_size)
{
	core_arena_t *a = calloc(1, sizeof(*a));
	if (a)
		a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
	return a;
}

void core_arena_free(core_arena_t *a)
{
	if (!a)
		return;
	for (arena_chunk_t *c = a->head, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

static arena_chunk_t *arena_chunk_new(size_t size)
{
	arena_chunk_t *c = malloc(sizeof(*c) + size);
	if (c) {
		c->size = size;
		c->used = 0;
		c->next = NULL;
	}
	return c;
}

void *core_arena_alloc(core_arena_t *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	if (size == 0)
		size = 16;
	arena_chunk_t *c = a->head;
	if (size > a->chunk_size / 4) {
		/* Its own chunk, linked behind the current one. */
		arena_chunk_t *big = arena_chunk_new(size);
		if (!big)
			return NULL;
		big->used = size;
		if (c) {
			big->next = c->next;
			c->next = big;
		} else {
			a->head = big;
		}
		a->reserved += size;
		a->used += size;
		memset(big->data, 0, size);
		return big->data;
	}
	if (!c || c->size - c->used < size) {
		size_t grow = a->reserved / 2;
		if (grow > ARENA_MAX_CHUNK)
			grow = ARENA_MAX_CHUNK;
		if (grow < a->chunk_size)
			grow = a->chunk_size;
		grow = (grow + 15) & ~(size_t)15;
		c = arena_chunk_new(grow);
		if (!c)
			return NULL;
		c->next = a->head;
		a->head = c;
		a->reserved += grow;
	}
	void *p = c->data + c->used;
	c->used += size;
	a->used += size;
	memset(p, 0, size);
	return p;
}

char *core_arena_strndup(core_arena_t *a, const char *s, size_t n)
{
	char *d = core_arena_alloc(a, n + 1);
	if (d)
		memcpy(d, s, n); /* the arena zeroed the terminator */
	return d;
}

char *core_arena_strdup(core_arena_t *a, const char *s)
{
	return s ? core_arena_strndup(a, s, strlen(s)) : NULL;
}

size_t core_arena_used(const core_arena_t *a)
{
	return a->used;
}

size_t core_arena_reserved(const core_arena_t *a)
{
	return a->reserved;
}
