/* bench/bench_xds.c: translating a full DAG into Envoy resources.
 *
 * The benchmark workload (bench/workload.c) goes through the installed
 * processor modules (tls-delegation, httpproxy) as in bench_dag; then the
 * xds-grpc translation, linked in, turns the published snapshot into Envoy
 * resources. Prints the median translation time from scratch (per phase),
 * against the previous translation of the same DAG, and after one HTTPProxy
 * changed (what serve does on a manifest change), with the resources per
 * type. Figures, not a test. BENCH_RUNS=1 for a profile under callgrind
 * (--toggle-collect=xds_translate_timed).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/workload.h"
#include "modules/xds-grpc/xds_translate.h"

#define NRUNS_MAX 7

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return v[n / 2];
}

/* Replace HTTPProxy app-<i> with one whose first route has another prefix
 * (run k makes it differ from the previous run). */
static void bench_change_proxy(contour_source_t *src, int i, int k)
{
	char name[64], fqdn[96], svc[2][64], prefix[64];
	snprintf(name, sizeof(name), "app-%d", i);
	snprintf(fqdn, sizeof(fqdn), "app-%d.bench.example.com", i);
	snprintf(svc[0], sizeof(svc[0]), "app-%d-a", i);
	snprintf(svc[1], sizeof(svc[1]), "app-%d-b", i);
	snprintf(prefix, sizeof(prefix), "/changed-%d", k);
	json_t *routes = json_array();
	const char *prefixes[] = {prefix, "/api", "/static"};
	for (int r = 0; r < 3; r++)
		json_array_append_new(routes,
		                      json_pack("{s:[{s:s}], s:[{s:s, s:i, s:i}, {s:s, s:i, s:i}]}",
		                                "conditions", "prefix", prefixes[r], "services",
		                                "name", svc[0], "port", 80, "weight", 90, "name",
		                                svc[1], "port", 80, "weight", 10));
	json_t *vhost = json_pack("{s:s}", "fqdn", fqdn);
	if (i % 2 == 0)
		json_object_set_new(vhost, "tls", json_pack("{s:s}", "secretName", "tls-0"));
	contour_store_put_new(src,
	                      json_pack("{s:s, s:s, s:{s:s, s:s, s:i}, s:{s:o, s:o}}", "apiVersion",
	                                "projectcontour.io/v1", "kind", "HTTPProxy", "metadata",
	                                "name", name, "namespace", "bench", "generation", 2 + k,
	                                "spec", "virtualhost", vhost, "routes", routes));
}

/* The same resources, byte for byte, and the same names. */
static int bench_same(const xds_snapshot_t *a, const xds_snapshot_t *b)
{
	for (int t = 0; t < XDS_NTYPES; t++) {
		if (a->nres[t] != b->nres[t])
			return 0;
		for (size_t i = 0; i < a->nres[t]; i++)
			if (strcmp(a->res[t][i].name, b->res[t][i].name) ||
			    a->res[t][i].len != b->res[t][i].len ||
			    memcmp(a->res[t][i].bytes, b->res[t][i].bytes, a->res[t][i].len))
				return 0;
	}
	return 1;
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

	const char *env = getenv("BENCH_RUNS");
	int nruns = env && atoi(env) > 0 && atoi(env) < NRUNS_MAX ? atoi(env) : NRUNS_MAX;
	xds_settings_t settings = {0};
	double fresh[NRUNS_MAX], again[NRUNS_MAX], inc[NRUNS_MAX];
	double phase[XDS_NPHASES][NRUNS_MAX], iphase[XDS_NPHASES][NRUNS_MAX];
	size_t reused[XDS_NTYPES + 1] = {0};
	xds_snapshot_t *prev = NULL;
	for (int i = 0; i < nruns; i++) {
		double ph[XDS_NPHASES] = {0};
		double t = bench_cpu_ms();
		xds_snapshot_t *s =
		    xds_translate_timed(&core->self, snap, &settings, NULL, ph, NULL);
		fresh[i] = bench_cpu_ms() - t;
		for (int p = 0; p < XDS_NPHASES; p++)
			phase[p][i] = ph[p];
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
	printf("workload:          %d HTTPProxy (3 routes x 2 services, half TLS), %d Secrets\n",
	       NPROXIES, NSECRETS);
	double med = median(fresh, nruns);
	printf("full translation:  %.1f ms CPU median of %d (min %.1f, max %.1f)\n", med, nruns,
	       fresh[0], fresh[nruns - 1]);
	static const char *const pnames[XDS_NPHASES] = {"clusters",  "endpoints",       "routes",
	                                                "listeners", "secrets+runtime", "snapshot"};
	printf("  phases (median ms):");
	for (int p = 0; p < XDS_NPHASES; p++)
		printf(" %s %.1f%s", pnames[p], median(phase[p], nruns),
		       p + 1 < XDS_NPHASES ? "," : "\n");
	printf("same DAG again:    %.1f ms CPU median (all reused, versions kept)\n",
	       median(again, nruns));

	/* one HTTPProxy changed: a DAG build, then a translation against the
	 * previous one (a TLS one and a plain one in turn) */
	int same = 1;
	for (int i = 0; i < nruns; i++) {
		bench_change_proxy(src, 10 + i, i);
		if (core_pipeline_build_now(core->pipeline) != CONTOUR_EOK)
			return 1;
		snap = contour_snapshot_current(&core->self);
		double ph[XDS_NPHASES] = {0};
		double t = bench_cpu_ms();
		xds_snapshot_t *n =
		    xds_translate_timed(&core->self, snap, &settings, prev, ph, reused);
		inc[i] = bench_cpu_ms() - t;
		for (int p = 0; p < XDS_NPHASES; p++)
			iphase[p][i] = ph[p];
		if (!n) {
			fprintf(stderr, "bench_xds: translation failed\n");
			return 1;
		}
		if (i == 0) {
			xds_snapshot_t *f = xds_translate(&core->self, snap, &settings, NULL);
			same = f && bench_same(f, n);
			xds_snapshot_unref(f);
		}
		xds_snapshot_unref(prev);
		prev = n;
	}
	printf("one proxy changed: %.1f ms CPU median (reused: %zu listener chains and route "
	       "vhosts, %zu routes, %zu clusters, %zu assignments, %zu secrets)%s\n",
	       median(inc, nruns), reused[XDS_NTYPES], reused[XDS_ROUTE], reused[XDS_CLUSTER],
	       reused[XDS_ENDPOINT], reused[XDS_SECRET],
	       same ? "" : "\n  ERROR: differs from a fresh translation");
	printf("  phases (median ms):");
	for (int p = 0; p < XDS_NPHASES; p++)
		printf(" %s %.1f%s", pnames[p], median(iphase[p], nruns),
		       p + 1 < XDS_NPHASES ? "," : "\n");

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
	return same ? 0 : 1;
}
