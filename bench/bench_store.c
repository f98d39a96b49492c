/* bench/bench_store.c: insertion, no-op re-insertion, one build,
 * replacement and deletion over 10,000 HTTPProxy-sized objects, with the
 * memory the store keeps (stored objects share equal subtrees through the
 * intern table). Prints figures; asserts nothing. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <malloc.h>

#include "core/core.h"
#include "core/store_intern.h"

#define BENCH_N    10000
#define BENCH_API  "projectcontour.io/v1"
#define BENCH_KIND "HTTPProxy"

static double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident set size in bytes, from /proc/self/statm (second field, pages). */
static long bench_rss(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* Bytes malloc has handed out and not had back: unlike RSS, this goes down
 * when objects are freed, so it measures what the store keeps. */
static double bench_heap(void)
{
	struct mallinfo2 mi = mallinfo2();
	return (double)mi.uordblks + (double)mi.hblkhd;
}

static json_t *bench_route(int i, int r)
{
	char prefix[64], tenant[32], svc[64], canary[64];
	snprintf(prefix, sizeof(prefix), "/api/v%d/svc-%d", r + 1, i % 97);
	snprintf(tenant, sizeof(tenant), "tenant-%d", i % 13);
	snprintf(svc, sizeof(svc), "app-%d-svc-%d", i, r);
	snprintf(canary, sizeof(canary), "app-%d-svc-%d-canary", i, r);
	json_t *route =
	    json_pack("{s:[{s:s}, {s:{s:s, s:s}}],"
	              " s:[{s:s, s:i, s:i}, {s:s, s:i, s:i}],"
	              " s:{s:s, s:s}, s:{s:s}}",
	              "conditions", "prefix", prefix, "header", "name", "x-tenant", "exact", tenant,
	              "services", "name", svc, "port", 8080 + r, "weight", 90, "name", canary,
	              "port", 8080 + r, "weight", 10, "timeoutPolicy", "response", "30s", "idle",
	              "5m", "loadBalancerPolicy", "strategy", "RoundRobin");
	/* Only the main route retries, as is common. */
	if (route && r == 0)
		json_object_set_new(route, "retryPolicy",
		                    json_pack("{s:i, s:s}", "count", 3, "perTryTimeout", "2s"));
	return route;
}

/* A realistic HTTPProxy, distinct for every i, about 1.5-2 KB of JSON. */
static json_t *bench_proxy(int i)
{
	char name[32], ns[32], fqdn[96], secret[48], uid[40], rv[16], owner[64];
	snprintf(name, sizeof(name), "app-%d", i);
	snprintf(ns, sizeof(ns), "team-%d", i % 50);
	snprintf(fqdn, sizeof(fqdn), "app-%d.team-%d.apps.example.com", i, i % 50);
	snprintf(secret, sizeof(secret), "app-%d-tls", i);
	snprintf(uid, sizeof(uid), "6f0c1d2e-%04x-4a5b-9c8d-%012x", i & 0xffff, i * 2654435761u);
	snprintf(rv, sizeof(rv), "%d", 100000 + i);
	snprintf(owner, sizeof(owner), "team-%d@example.com", i % 50);
	json_t *routes = json_array();
	for (int r = 0; r < 3 + i % 3; r++)
		json_array_append_new(routes, bench_route(i, r));
	return json_pack("{s:s, s:s,"
	                 " s:{s:s, s:s, s:s, s:s, s:i, s:s,"
	                 "    s:{s:s, s:s, s:s, s:s},"
	                 "    s:{s:s, s:s, s:s}},"
	                 " s:{s:{s:s, s:{s:s, s:s}}, s:o}}",
	                 "apiVersion", BENCH_API, "kind", BENCH_KIND, "metadata", "name", name,
	                 "namespace", ns, "uid", uid, "resourceVersion", rv, "generation", 1,
	                 "creationTimestamp", "2024-05-01T12:00:00Z", "labels", "app", name, "team",
	                 ns, "tier", "frontend", "environment", "production", "annotations",
	                 "projectcontour.io/ingress.class", "contour", "owner", owner,
	                 "description", "Public API, managed by CI", "spec", "virtualhost", "fqdn",
	                 fqdn, "tls", "secretName", secret, "minimumProtocolVersion", "1.2",
	                 "routes", routes);
}

static json_t **bench_generate(size_t *bytes)
{
	json_t **v = calloc(BENCH_N, sizeof(*v));
	if (!v)
		return NULL;
	for (int i = 0; i < BENCH_N; i++) {
		v[i] = bench_proxy(i);
		if (!v[i]) {
			fprintf(stderr, "bench_store: could not build object %d\n", i);
			exit(1);
		}
		if (bytes) {
			char *s = json_dumps(v[i], JSON_COMPACT);
			*bytes += s ? strlen(s) : 0;
			free(s);
		}
	}
	return v;
}

static int bench_count_one(const json_t *obj, void *ud)
{
	/* Touch the object the way a processor would. */
	const json_t *routes = json_object_get(json_object_get(obj, "spec"), "routes");
	*(size_t *)ud += json_array_size(routes) ? 1 : 0;
	return 0;
}

static int bench_processor(contour_snapshot_t *b, void *ud)
{
	contour_module_t *mod = ud;
	size_t *count = calloc(1, sizeof(*count));
	if (!count)
		return CONTOUR_ENOMEM;
	contour_store_foreach(mod, BENCH_API, BENCH_KIND, bench_count_one, count);
	return contour_snapshot_attach(b, "httpproxy-count", count, free);
}

static double bench_build_ms(core_t *core, size_t *count)
{
	double t = bench_now();
	if (core_pipeline_build_now(core->pipeline) != CONTOUR_EOK) {
		fprintf(stderr, "bench_store: build failed\n");
		exit(1);
	}
	t = bench_now() - t;
	size_t *c = contour_snapshot_find(contour_snapshot_current(&core->self), "httpproxy-count");
	*count = c ? *c : 0;
	return t * 1e3;
}

int main(void)
{
	core_t *core = core_new(NULL);
	contour_source_t *src = NULL;
	if (!core || contour_register_source(&core->self, "bench", &src) != CONTOUR_EOK ||
	    contour_register_processor(&core->self, "count", CONTOUR_ORDER_PRIMARY, bench_processor,
	                               &core->self) != CONTOUR_EOK) {
		fprintf(stderr, "bench_store: setup failed\n");
		return 1;
	}

	long rss0 = bench_rss();
	double heap0 = bench_heap();
	size_t bytes = 0;
	json_t **objs = bench_generate(&bytes);
	long rss1 = bench_rss();
	double t = bench_now();
	for (int i = 0; i < BENCH_N; i++)
		contour_store_put_new(src, objs[i]); /* takes the reference */
	t = bench_now() - t;
	long rss2 = bench_rss();
	double heap2 = bench_heap();
	free(objs);
	contour_source_set_synced(src);
	printf("objects:            %d HTTPProxy, %.0f bytes of compact JSON each on average\n",
	       BENCH_N, (double)bytes / BENCH_N);
	printf("insert:             %.1f ms, %.0f objects/s\n", t * 1e3, BENCH_N / t);
	printf("rss:                %.1f MiB before, %.1f MiB after generating, "
	       "%.1f MiB after insert\n",
	       rss0 / 1048576.0, rss1 / 1048576.0, rss2 / 1048576.0);
	printf("rss per object:     %.0f bytes (generated and stored), "
	       "%.0f bytes (insert alone)\n",
	       (double)(rss2 - rss0) / BENCH_N, (double)(rss2 - rss1) / BENCH_N);
	printf("heap per object:    %.0f bytes in use after insert (%.1f MiB for the store)\n",
	       (heap2 - heap0) / BENCH_N, (heap2 - heap0) / 1048576.0);

	objs = bench_generate(NULL);
	t = bench_now();
	for (int i = 0; i < BENCH_N; i++)
		contour_store_put_new(src, objs[i]);
	t = bench_now() - t;
	free(objs);
	printf("equal re-insert:    %.1f ms, %.0f objects/s (no-op path)\n", t * 1e3, BENCH_N / t);
	/* Most of the no-op path is releasing the caller's copy: show that part. */
	objs = bench_generate(NULL);
	t = bench_now();
	for (int i = 0; i < BENCH_N; i++)
		json_decref(objs[i]);
	t = bench_now() - t;
	free(objs);
	printf("  of which freeing: ~%.1f ms (json_decref of %d equal objects alone)\n", t * 1e3,
	       BENCH_N);

	size_t count = 0;
	double ms = bench_build_ms(core, &count);
	printf("first build:        %.2f ms (%zu HTTPProxy walked, index sorted)\n", ms, count);
	ms = bench_build_ms(core, &count);
	printf("second build:       %.2f ms (%zu HTTPProxy walked, index reused)\n", ms, count);
	printf("store count:        %zu\n", contour_store_count(&core->self, NULL, NULL));
	store_intern_t *table = core_store_intern_table(core->store);
	printf("intern table:       %zu shared values (%.1f per object)\n",
	       store_intern_count(table), (double)store_intern_count(table) / BENCH_N);

	/* Every object modified, as a resync after a watch gap would: only
	 * resourceVersion changes, the old versions' values become garbage. */
	objs = bench_generate(NULL);
	for (int i = 0; i < BENCH_N; i++) {
		char rv[16];
		snprintf(rv, sizeof(rv), "%d", 200000 + i);
		json_object_set_new(json_object_get(objs[i], "metadata"), "resourceVersion",
		                    json_string(rv));
	}
	t = bench_now();
	for (int i = 0; i < BENCH_N; i++)
		contour_store_put_new(src, objs[i]);
	t = bench_now() - t;
	free(objs);
	printf("replace all:        %.1f ms, %.0f objects/s; heap %.1f MiB, %zu shared values\n",
	       t * 1e3, BENCH_N / t, (bench_heap() - heap0) / 1048576.0, store_intern_count(table));

	/* The pause a sweep costs the loop (the next put or delete would run
	 * it now). */
	t = bench_now();
	size_t swept = store_intern_sweep(table);
	t = bench_now() - t;
	printf("sweep:              %.1f ms, %zu values released; heap %.1f MiB\n", t * 1e3, swept,
	       (bench_heap() - heap0) / 1048576.0);

	t = bench_now();
	for (int i = 0; i < BENCH_N; i++) {
		char name[32], ns[32];
		snprintf(name, sizeof(name), "app-%d", i);
		snprintf(ns, sizeof(ns), "team-%d", i % 50);
		contour_object_key_t k = {
		    .api_version = BENCH_API, .kind = BENCH_KIND, .namespace_ = ns, .name = name};
		contour_store_delete(src, &k);
	}
	t = bench_now() - t;
	/* The snapshot of the last build still holds nothing of the store's:
	 * what is left is the core's own. */
	printf("delete all:         %.1f ms; heap %.1f MiB above the start, %zu shared values\n",
	       t * 1e3, (bench_heap() - heap0) / 1048576.0, store_intern_count(table));
	core_free(core);
	return 0;
}
