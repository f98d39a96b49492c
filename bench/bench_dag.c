/* bench/bench_dag.c: one full DAG build from the store.
 *
 * 10,000 root HTTPProxies (3 routes and 2 services each, half of them with
 * TLS), their Services and EndpointSlices, and 1,000 TLS Secrets (one real
 * self-signed ECDSA certificate under 1,000 names). The processors are the
 * installed modules (tls-delegation, httpproxy) loaded from
 * $CONTOUR_MODULE_PATH, exactly as `contour serve` would load them.
 *
 * Prints the median time of several full builds, the DAG's arena bytes per
 * proxy, and the growth of resident memory across the first build.
 * Figures, not a test: nothing here fails on a slow machine.
 */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "core/dag/dag_internal.h"
#include "bench/workload.h"

#define NBUILDS   7
#define MAXBUILDS 1000

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	contour_source_t *src = NULL;
	core_t *core = bench_core_new("bench_dag", &src);
	if (!core)
		return 1;

	double t0 = bench_now_ms();
	bench_fill(src);
	contour_source_set_synced(src);
	printf("objects:           %d HTTPProxy, %d Service, %d EndpointSlice, %d Secret "
	       "(%.0f ms to generate and insert)\n",
	       NPROXIES, 2 * NPROXIES, 2 * NPROXIES, NSECRETS, bench_now_ms() - t0);

	/* BENCH_DAG_BUILDS: more builds, e.g. to profile the steady state. */
	int nbuilds = NBUILDS;
	const char *nb = getenv("BENCH_DAG_BUILDS");
	if (nb && atoi(nb) >= 2 && atoi(nb) <= MAXBUILDS)
		nbuilds = atoi(nb);
	static double times[MAXBUILDS], cpus[MAXBUILDS];
	long rss_before = bench_rss_kib(), rss_first = 0;
	for (int b = 0; b < nbuilds; b++) {
		double s = bench_now_ms(), c = bench_cpu_ms();
		if (core_pipeline_build_now(core->pipeline) != CONTOUR_EOK) {
			fprintf(stderr, "bench_dag: build failed\n");
			return 1;
		}
		times[b] = bench_now_ms() - s;
		cpus[b] = bench_cpu_ms() - c;
		if (b == 0)
			rss_first = bench_rss_kib();
	}
	contour_snapshot_t *snap = contour_snapshot_current(&core->self);
	contour_dag_t *dag = contour_snapshot_dag(snap);
	if (getenv("BENCH_DAG_DEBUG")) {
		contour_object_key_t k = {"projectcontour.io/v1", "HTTPProxy", "bench", "app-0"};
		char *st = json_dumps(contour_snapshot_status(snap, &k), JSON_COMPACT);
		fprintf(stderr, "status of bench/app-0: %s\n", st ? st : "(none)");
		free(st);
	}
	double first = times[0], first_cpu = cpus[0];
	/* The steady state: every build after the first. */
	int n = nbuilds - 1;
	qsort(times + 1, (size_t)n, sizeof(times[0]), cmp_double);
	qsort(cpus + 1, (size_t)n, sizeof(cpus[0]), cmp_double);
	printf("first build:       %.1f ms, %.1f ms CPU (secrets validated, caches cold)\n", first,
	       first_cpu);
	printf("full build:        %.1f ms median of the next %d (min %.1f, max %.1f); "
	       "CPU %.1f ms median\n",
	       times[1 + n / 2], n, times[1], times[n], cpus[1 + n / 2]);
	printf("dag:               %zu vhosts, %zu secure vhosts, %zu clusters, %zu secrets\n",
	       dag->nvhosts, dag->nsvhosts, dag->nclusters, dag->nsecrets);
	printf("dag memory:        %zu bytes per proxy (arena in use), %zu reserved\n",
	       core_arena_used(dag->priv->arena) / NPROXIES,
	       core_arena_reserved(dag->priv->arena) / NPROXIES);
	printf("rss growth:        %ld KiB over the first build (%.0f bytes per proxy: DAG, "
	       "statuses, caches)\n",
	       rss_first - rss_before, (rss_first - rss_before) * 1024.0 / NPROXIES);
	core_free(core);
	return 0;
}
