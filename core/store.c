/* core/store.c: stub until implemented. */
#include "config.h"
#include <stdlib.h>
#include "core/core.h"
struct core_store { int unused; };
core_store_t *core_store_new(core_t *core) { return calloc(1, sizeof(core_store_t)); }
void core_store_free(core_store_t *s) { free(s); }
int core_store_all_synced(const core_store_t *s) { return 1; }
void core_store_set_change_hook(core_store_t *s, void (*fn)(void *ud), void *ud) {}
void core_store_drop_module(core_store_t *s, contour_module_t *mod) {}
int contour_object_key_of(const json_t *obj, contour_object_key_t *key, const char **what) { return CONTOUR_EINVAL; }
int contour_register_source(contour_module_t *mod, const char *name, contour_source_t **out) { return CONTOUR_EINVAL; }
void contour_source_set_synced(contour_source_t *src) {}
int contour_store_put_new(contour_source_t *src, json_t *obj) { json_decref(obj); return CONTOUR_EINVAL; }
int contour_store_delete(contour_source_t *src, const contour_object_key_t *key) { return CONTOUR_ENOENT; }
const json_t *contour_store_get(contour_module_t *mod, const contour_object_key_t *key) { return NULL; }
size_t contour_store_foreach(contour_module_t *mod, const char *a, const char *k, contour_store_visit_fn fn, void *ud) { return 0; }
size_t contour_store_count(contour_module_t *mod, const char *a, const char *k) { return 0; }
int contour_store_subscribe(contour_module_t *mod, const char *a, const char *k, contour_store_watch_fn fn, void *ud) { return CONTOUR_EOK; }
