/* bench/workload.c: the benchmark workload (a large cluster), shared by
 * bench_dag and bench_xds: 10,000 root HTTPProxies (3 routes, 2 services
 * each, half with TLS over 1,000 real Secrets) with their Services and
 * EndpointSlices, plus clocks and resident memory. */
#include "config.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/workload.h"

static double clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double bench_now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

/* CPU time of this process: on a shared machine it moves much less than
 * wall time when other work competes for the cores. */
double bench_cpu_ms(void)
{
	return clock_ms(CLOCK_PROCESS_CPUTIME_ID);
}

long bench_rss_kib(void)
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

void bench_fill(contour_source_t *src)
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

/* The feeding source's handle: registration needs a module in init. */
static contour_module_t bench_feeder;

core_t *bench_core_new(const char *prog, contour_source_t **src)
{
	core_log_configure(CORE_LOG_TEXT, CONTOUR_LOG_WARN);
	core_t *core = core_new(NULL);
	json_t *errors = json_array();
	/* BENCH_CONF: another module list (bench_admission adds admission). */
	const char *conf_text = getenv("BENCH_CONF");
	if (!conf_text)
		conf_text = "modules: [{name: tls-delegation}, {name: httpproxy}]\n";
	if (!core ||
	    core_conf_load_buf(conf_text, strlen(conf_text), "bench", &core->conf, errors) !=
	        CONTOUR_EOK ||
	    core_loader_load_all(core, errors) != CONTOUR_EOK) {
		fprintf(stderr, "%s: %s\n(set CONTOUR_MODULE_PATH to the built modules)\n", prog,
		        json_string_value(json_array_get(errors, 0)));
		json_decref(errors);
		core_free(core);
		return NULL;
	}
	json_decref(errors);
	bench_feeder =
	    (contour_module_t){.core = core, .name = "bench", .state = CORE_MOD_INITIALISING};
	if (contour_register_source(&bench_feeder, "bench", src) != CONTOUR_EOK ||
	    core_modules_init_start(core) != CONTOUR_EOK) {
		core_free(core);
		return NULL;
	}
	bench_feeder.state = CORE_MOD_STARTED;
	return core;
}
