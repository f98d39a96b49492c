/* contour/metrics.h: the metrics registry.
 *
 * Any module records into one registry, which renders it in the Prometheus
 * text exposition format (version 0.0.4). A metric family has a name, help
 * text, a type and a fixed list of label names; each distinct list of label
 * values is a child created on first use. Names and label names must match
 * Prometheus' rules ([a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]*);
 * label values are escaped on output.
 *
 * Families are registered only in init (the core registers its own at
 * startup) and removed with their module. Recording is cheap and allowed at
 * any time from the event loop.
 */
#ifndef CONTOUR_METRICS_H
#define CONTOUR_METRICS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct contour_module contour_module_t;
typedef struct contour_metric contour_metric_t;

typedef enum {
	CONTOUR_METRIC_COUNTER,
	CONTOUR_METRIC_GAUGE,
	CONTOUR_METRIC_HISTOGRAM, /* `bounds` are the bucket upper bounds, ascending;
	                             +Inf is implicit */
	CONTOUR_METRIC_SUMMARY,   /* `bounds` are the quantiles in [0,1], ascending;
	                             computed over the most recent observations */
} contour_metric_type_t;

typedef struct contour_metric_desc {
	contour_metric_type_t type;
	const char *name;
	const char *help;
	const char *const *labels; /* NULL-terminated label names, or NULL */
	const double *bounds;      /* buckets or quantiles; NULL for defaults */
	size_t nbounds;
} contour_metric_desc_t;

/* contour_register_metric: add a family. *out is owned by the registry.
 * Returns CONTOUR_EEXIST for a name already registered, CONTOUR_EINVAL for a
 * bad name, label or bound. Only in init. */
int contour_register_metric(contour_module_t *mod, const contour_metric_desc_t *desc,
                            contour_metric_t **out);

/* Recording. `values` holds one label value per label name, in order (NULL
 * when the family has no labels). Counters only go up: a negative add is
 * ignored. */
void contour_metric_add(contour_metric_t *m, const char *const *values, double v);
void contour_metric_set(contour_metric_t *m, const char *const *values, double v);
void contour_metric_observe(contour_metric_t *m, const char *const *values, double v);

/* contour_metric_reset: drop every child, for gauges recomputed from scratch
 * (per-namespace counts after a build). */
void contour_metric_reset(contour_metric_t *m);

/* contour_metric_value: current value of a counter or gauge child, or of a
 * histogram or summary child's count; 0 when the child does not exist. */
double contour_metric_value(const contour_metric_t *m, const char *const *values);

/* contour_metrics_render: the whole registry in the text format, families in
 * name order. Returns a new NUL-terminated string (caller frees with free()),
 * or NULL on allocation failure; *len (if non-NULL) receives its length. */
char *contour_metrics_render(contour_module_t *mod, size_t *len);

#ifdef __cplusplus
}
#endif
#endif
