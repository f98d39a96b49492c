/* core/pipeline.c: stub until implemented. */
#include "config.h"
#include <stdlib.h>
#include "core/core.h"
struct core_pipeline { int unused; };
core_pipeline_t *core_pipeline_new(core_t *core) { return calloc(1, sizeof(core_pipeline_t)); }
void core_pipeline_free(core_pipeline_t *p) { free(p); }
void core_pipeline_schedule(core_pipeline_t *p) {}
int core_pipeline_build_now(core_pipeline_t *p) { return CONTOUR_ESTATE; }
uint64_t core_pipeline_builds(const core_pipeline_t *p) { return 0; }
void core_pipeline_drop_module(core_pipeline_t *p, contour_module_t *mod) {}
int contour_register_processor(contour_module_t *mod, const char *name, int order, contour_processor_fn fn, void *ud) { return CONTOUR_EOK; }
int contour_register_observer(contour_module_t *mod, const char *name, contour_observer_fn fn, void *ud) { return CONTOUR_EOK; }
void contour_build_request(contour_module_t *mod) {}
contour_snapshot_t *contour_snapshot_current(contour_module_t *mod) { return NULL; }
void core_pipeline_release_snapshot(core_pipeline_t *p) {}
