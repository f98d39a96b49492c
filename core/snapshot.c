/* core/snapshot.c: stub until implemented. */
#include "config.h"
#include <stdlib.h>
#include "core/core.h"
struct contour_snapshot { int refs; uint64_t gen; };
contour_snapshot_t *core_snapshot_new(uint64_t generation) { contour_snapshot_t *s = calloc(1, sizeof(*s)); if (s) { s->refs = 1; s->gen = generation; } return s; }
void core_snapshot_seal(contour_snapshot_t *snap) {}
contour_snapshot_t *contour_snapshot_ref(contour_snapshot_t *s) { s->refs++; return s; }
void contour_snapshot_unref(contour_snapshot_t *s) { if (s && --s->refs == 0) free(s); }
uint64_t contour_snapshot_generation(const contour_snapshot_t *s) { return s->gen; }
int contour_snapshot_attach(contour_snapshot_t *b, const char *name, void *data, void (*free_fn)(void *)) { if (free_fn) free_fn(data); return CONTOUR_EINVAL; }
void *contour_snapshot_find(const contour_snapshot_t *s, const char *name) { return NULL; }
int contour_snapshot_set_status_new(contour_snapshot_t *b, const contour_object_key_t *key, json_t *status) { json_decref(status); return CONTOUR_EINVAL; }
const json_t *contour_snapshot_status(const contour_snapshot_t *s, const contour_object_key_t *key) { return NULL; }
size_t contour_snapshot_foreach_status(const contour_snapshot_t *s, contour_status_visit_fn fn, void *ud) { return 0; }
