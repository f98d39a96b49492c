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
#include "core/dag_internal.h"

#define NPROXIES  10000
#define NSECRETS  1000
#define NBUILDS   7
#define MAXBUILDS 1000

static double clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

/* CPU time of this process: on a shared machine it moves much less than
 * wall time when other work competes for the cores. */
static double cpu_ms(void)
{
	return clock_ms(CLOCK_PROCESS_CPUTIME_ID);
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

/* One self-signed P-256 certificate and key, PEM, base64-encoded for a
 * Secret's data. */
static void make_cert(char **crt_b64, char **key_b64)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 24 * 3600);
	X509_set_pubkey(x, pkey);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                           (const unsigned char *)"bench.example.com", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_sign(x, pkey, EVP_sha256());
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *crt = strndup(p, (size_t)n);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &p);
	char *key = strndup(p, (size_t)n);
	BIO_free(b);
	*crt_b64 = b64(crt);
	*key_b64 = b64(key);
	free(crt);
	free(key);
	X509_free(x);
	EVP_PKEY_free(pkey);
}

static void put(contour_source_t *src, json_t *obj)
{
	if (!obj || contour_store_put_new(src, obj) != CONTOUR_EOK) {
		fprintf(stderr, "bench_dag: bad object\n");
		exit(1);
	}
}

static void fill(contour_source_t *src)
{
	char *crt, *key;
	make_cert(&crt, &key);
	for (int i = 0; i < NSECRETS; i++) {
		char name[64];
		snprintf(name, sizeof(name), "tls-%d", i);
		put(src,
		    json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:{s:s, s:s}}", "apiVersion", "v1",
		              "kind", "Secret", "metadata", "name", name, "namespace", "bench",
		              "type", "kubernetes.io/tls", "data", "tls.crt", crt, "tls.key", key));
	}
	free(crt);
	free(key);
	for (int i = 0; i < NPROXIES; i++) {
		char name[64], fqdn[96], svc[2][64], secret[64], slice[160];
		snprintf(name, sizeof(name), "app-%d", i);
		snprintf(fqdn, sizeof(fqdn), "app-%d.bench.example.com", i);
		for (int s = 0; s < 2; s++) {
			snprintf(svc[s], sizeof(svc[s]), "app-%d-%c", i, 'a' + s);
			put(src,
			    json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:[{s:s, s:i, s:s, s:i}]}}",
			              "apiVersion", "v1", "kind", "Service", "metadata", "name",
			              svc[s], "namespace", "bench", "spec", "ports", "name", "http",
			              "port", 80, "protocol", "TCP", "targetPort", 8080));

			snprintf(slice, sizeof(slice), "%s-x1", svc[s]);
			put(src,
			    json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:s, s:[{s:s, s:i, s:s}], "
			              "s:[{s:[s], s:{s:b}}]}",
			              "apiVersion", "discovery.k8s.io/v1", "kind", "EndpointSlice",
			              "metadata", "name", slice, "namespace", "bench", "labels",
			              "kubernetes.io/service-name", svc[s], "addressType", "IPv4",
			              "ports", "name", "http", "port", 8080, "protocol", "TCP",
			              "endpoints", "addresses", "10.0.0.1", "conditions", "ready",
			              1));
		}
		json_t *routes = json_array();
		static const char *const prefixes[] = {"/", "/api", "/static"};
		for (int r = 0; r < 3; r++)
			json_array_append_new(
			    routes, json_pack("{s:[{s:s}], s:[{s:s, s:i, s:i}, {s:s, s:i, s:i}]}",
			                      "conditions", "prefix", prefixes[r], "services",
			                      "name", svc[0], "port", 80, "weight", 90, "name",
			                      svc[1], "port", 80, "weight", 10));
		json_t *vhost = json_pack("{s:s}", "fqdn", fqdn);
		if (i % 2 == 0) {
			snprintf(secret, sizeof(secret), "tls-%d", (i / 2) % NSECRETS);
			json_object_set_new(vhost, "tls", json_pack("{s:s}", "secretName", secret));
		}
		put(src, json_pack("{s:s, s:s, s:{s:s, s:s, s:i}, s:{s:o, s:o}}", "apiVersion",
		                   "projectcontour.io/v1", "kind", "HTTPProxy", "metadata", "name",
		                   name, "namespace", "bench", "generation", 1, "spec",
		                   "virtualhost", vhost, "routes", routes));
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	core_log_configure(CORE_LOG_TEXT, CONTOUR_LOG_WARN);
	core_t *core = core_new(NULL);
	json_t *errors = json_array();
	const char *conf_text = "modules: [{name: tls-delegation}, {name: httpproxy}]\n";
	if (core_conf_load_buf(conf_text, strlen(conf_text), "bench", &core->conf, errors) !=
	        CONTOUR_EOK ||
	    core_loader_load_all(core, errors) != CONTOUR_EOK) {
		fprintf(stderr, "bench_dag: %s\n(set CONTOUR_MODULE_PATH to the built modules)\n",
		        json_string_value(json_array_get(errors, 0)));
		return 1;
	}
	contour_module_t feeder = {.core = core, .name = "bench", .state = CORE_MOD_INITIALISING};
	contour_source_t *src = NULL;
	contour_register_source(&feeder, "bench", &src);
	if (core_modules_init_start(core) != CONTOUR_EOK)
		return 1;
	feeder.state = CORE_MOD_STARTED;

	double t0 = now_ms();
	fill(src);
	contour_source_set_synced(src);
	printf("objects:           %d HTTPProxy, %d Service, %d EndpointSlice, %d Secret "
	       "(%.0f ms to generate and insert)\n",
	       NPROXIES, 2 * NPROXIES, 2 * NPROXIES, NSECRETS, now_ms() - t0);

	/* BENCH_DAG_BUILDS: more builds, e.g. to profile the steady state. */
	int nbuilds = NBUILDS;
	const char *nb = getenv("BENCH_DAG_BUILDS");
	if (nb && atoi(nb) >= 2 && atoi(nb) <= MAXBUILDS)
		nbuilds = atoi(nb);
	static double times[MAXBUILDS], cpus[MAXBUILDS];
	long rss_before = rss_kib(), rss_first = 0;
	for (int b = 0; b < nbuilds; b++) {
		double s = now_ms(), c = cpu_ms();
		if (core_pipeline_build_now(core->pipeline) != CONTOUR_EOK) {
			fprintf(stderr, "bench_dag: build failed\n");
			return 1;
		}
		times[b] = now_ms() - s;
		cpus[b] = cpu_ms() - c;
		if (b == 0)
			rss_first = rss_kib();
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
	json_decref(errors);
	return 0;
}
