/* core/metrics.c: stub until implemented. */
#include "config.h"
#include <stdlib.h>
#include "core/core.h"
struct core_metrics { int unused; };
core_metrics_t *core_metrics_new(void) { return calloc(1, sizeof(core_metrics_t)); }
void core_metrics_free(core_metrics_t *m) { free(m); }
void core_metrics_drop_module(core_metrics_t *m, contour_module_t *mod) {}
int contour_register_metric(contour_module_t *mod, const contour_metric_desc_t *desc, contour_metric_t **out) { *out = NULL; return CONTOUR_EOK; }
void contour_metric_add(contour_metric_t *m, const char *const *values, double v) {}
void contour_metric_set(contour_metric_t *m, const char *const *values, double v) {}
void contour_metric_observe(contour_metric_t *m, const char *const *values, double v) {}
void contour_metric_reset(contour_metric_t *m) {}
double contour_metric_value(const contour_metric_t *m, const char *const *values) { return 0; }
char *contour_metrics_render(contour_module_t *mod, size_t *len) { return NULL; }
