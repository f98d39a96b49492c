/* bench/workload.h: the shared benchmark workload (see workload.c). */
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

#include "core/core.h"

#define NPROXIES 10000
#define NSECRETS 1000

/* A core with the installed processor modules (tls-delegation, httpproxy)
 * loaded from $CONTOUR_MODULE_PATH and started, and a source to feed; NULL
 * with a message naming prog on failure. */
core_t *bench_core_new(const char *prog, contour_source_t **src);
/* Put the whole workload into the store through src. */
void bench_fill(contour_source_t *src);
double bench_now_ms(void);
double bench_cpu_ms(void);
long bench_rss_kib(void);

#endif
