/* core/arena.h: a bump allocator for data that dies all at once (a DAG with
 * its snapshot). Private to the core. */
#ifndef CORE_ARENA_H
#define CORE_ARENA_H

#include <stddef.h>

typedef struct core_arena core_arena_t;

core_arena_t *core_arena_new(size_t chunk_size);
void core_arena_free(core_arena_t *a);
/* Zeroed, 16-byte aligned; NULL on allocation failure. */
void *core_arena_alloc(core_arena_t *a, size_t size);
char *core_arena_strdup(core_arena_t *a, const char *s);
char *core_arena_strndup(core_arena_t *a, const char *s, size_t n);
/* Bytes handed out, and bytes reserved from malloc. */
size_t core_arena_used(const core_arena_t *a);
size_t core_arena_reserved(const core_arena_t *a);

#endif
