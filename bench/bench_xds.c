/* bench/bench_xds.c: translating a full DAG into Envoy resources.
 *
 * The DAG issue's workload (bench/workload.c) goes through the installed
 * processor modules (tls-delegation, httpproxy) as in bench_dag; then the
 * xds-grpc translation, linked in, turns the published snapshot into Envoy
 * resources. Prints the median translation time (from scratch, and against
 * the previous translation as serve does), resources and encoded bytes per
 * type. Figures, not a test.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/workload.h"
#include "modules/xds-grpc/xds.h"

#define NRUNS 7

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	contour_source_t *src = NULL;
	core_t *core = bench_core_new("bench_xds", &src);
	if (!core)
		return 1;
	bench_fill(src);
	contour_source_set_synced(src);
	if (core_pipeline_build_now(core->pipeline) != CONTOUR_EOK)
		return 1;
	contour_snapshot_t *snap = contour_snapshot_current(&core->self);

	xds_settings_t settings = {0};
	double fresh[NRUNS], again[NRUNS];
	xds_snapshot_t *prev = NULL;
	for (int i = 0; i < NRUNS; i++) {
		double t = bench_cpu_ms();
		xds_snapshot_t *s = xds_translate(&core->self, snap, &settings, NULL);
		fresh[i] = bench_cpu_ms() - t;
		t = bench_cpu_ms();
		xds_snapshot_t *n = xds_translate(&core->self, snap, &settings, s);
		again[i] = bench_cpu_ms() - t;
		if (!s || !n) {
			fprintf(stderr, "bench_xds: translation failed\n");
			return 1;
		}
		xds_snapshot_unref(prev);
		xds_snapshot_unref(s);
		prev = n;
	}
	qsort(fresh, NRUNS, sizeof(double), cmp_double);
	qsort(again, NRUNS, sizeof(double), cmp_double);
	printf("workload:          %d HTTPProxy (3 routes x 2 services, half TLS), %d Secrets\n",
	       NPROXIES, NSECRETS);
	printf("full translation:  %.1f ms CPU median of %d (min %.1f, max %.1f)\n",
	       fresh[NRUNS / 2], NRUNS, fresh[0], fresh[NRUNS - 1]);
	printf("same DAG again:    %.1f ms CPU median (versions kept: nothing changed)\n",
	       again[NRUNS / 2]);
	static const char *const names[XDS_NTYPES] = {"listeners", "routes",  "clusters",
	                                              "endpoints", "secrets", "runtime"};
	for (int t = 0; t < XDS_NTYPES; t++) {
		size_t bytes = 0;
		for (size_t i = 0; i < prev->nres[t]; i++)
			bytes += prev->res[t][i].len;
		printf("  %-10s %6zu resources, %9zu bytes encoded (%zu per resource)\n", names[t],
		       prev->nres[t], bytes, prev->nres[t] ? bytes / prev->nres[t] : 0);
	}
	xds_snapshot_unref(prev);
	core_free(core);
	return 0;
}
