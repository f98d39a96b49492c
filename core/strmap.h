/* core/strmap.h: string-keyed hash map (open addressing). Keys are
 * borrowed: they must outlive the map (arena strings, object fields).
 * Private to the core. */
#ifndef CORE_STRMAP_H
#define CORE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct core_strmap core_strmap_t;

core_strmap_t *core_strmap_new(void);
void core_strmap_free(core_strmap_t *m);
/* core_strmap_free_all: free_fn on every value, then core_strmap_free.
 * Accepts NULL. */
void core_strmap_free_all(core_strmap_t *m, void (*free_fn)(void *value));
/* The value for key, or NULL. */
void *core_strmap_get(const core_strmap_t *m, const char *key);
/* Set key to value (replacing). Returns 0, or -1 without memory. */
int core_strmap_put(core_strmap_t *m, const char *key, void *value);
size_t core_strmap_count(const core_strmap_t *m);
/* Walk every entry in no particular order; fn returns non-zero to stop. */
void core_strmap_foreach(const core_strmap_t *m, int (*fn)(const char *key, void *value, void *ud),
                         void *ud);
uint64_t core_hash_str(const char *s);

#endif
