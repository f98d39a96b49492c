/* bench/workload.h: the shared benchmark workload (see workload.c). */
#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

#include "core/core.h"

#define NPROXIES 10000
#define NSECRETS 1000

/* Put the whole workload into the store through src. */
void bench_fill(contour_source_t *src);
double bench_now_ms(void);
double bench_cpu_ms(void);
long bench_rss_kib(void);

#endif
