/* tests/unit/check_xds_bootstrap.c: `contour bootstrap PATH` through
 * xds_bootstrap_main, as the CLI calls it. Every written file is parsed
 * back with jansson and compared with upstream's expected JSON
 * (internal/envoy/v3/bootstrap_test.go, field by field, the first
 * difference named by its path); flag errors are checked for their exit
 * status and a message that names the problem. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/testutil.h"
#include "modules/xds-grpc/xds_bootstrap.h"

static char *tmp;
static char cwd[4096];
static char out_text[65536], err_text[8192];

/* Upstream's "default configuration" with Namespace "testing-ns"; the
 * pipe's mode as protojson prints a uint32 (a number). */
static const char *want_default_json =
    "{\n"
    "  \"static_resources\": {\n"
    "    \"clusters\": [\n"
    "      {\n"
    "        \"name\": \"contour\",\n"
    "        \"alt_stat_name\": \"testing-ns_contour_8001\",\n"
    "        \"type\": \"STATIC\",\n"
    "        \"connect_timeout\": \"5s\",\n"
    "        \"load_assignment\": {\n"
    "          \"cluster_name\": \"contour\",\n"
    "          \"endpoints\": [{\"lb_endpoints\": [{\"endpoint\": {\"address\": {\n"
    "            \"socket_address\": {\"address\": \"127.0.0.1\", \"port_value\": 8001}\n"
    "          }}}]}]\n"
    "        },\n"
    "        \"circuit_breakers\": {\n"
    "          \"thresholds\": [\n"
    "            {\"priority\": \"HIGH\", \"max_connections\": 100000,\n"
    "             \"max_pending_requests\": 100000, \"max_requests\": 60000000,\n"
    "             \"max_retries\": 50, \"track_remaining\": true},\n"
    "            {\"max_connections\": 100000, \"max_pending_requests\": 100000,\n"
    "             \"max_requests\": 60000000, \"max_retries\": 50, \"track_remaining\": true}\n"
    "          ]\n"
    "        },\n"
    "        \"typed_extension_protocol_options\": {\n"
    "          \"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\": {\n"
    "            \"@type\": "
    "\"type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions\",\n"
    "            \"explicit_http_config\": {\"http2_protocol_options\": {}}\n"
    "          }\n"
    "        },\n"
    "        \"upstream_connection_options\": {\n"
    "          \"tcp_keepalive\": {\"keepalive_probes\": 3, \"keepalive_time\": 30,\n"
    "                            \"keepalive_interval\": 5}\n"
    "        }\n"
    "      },\n"
    "      {\n"
    "        \"name\": \"envoy-admin\",\n"
    "        \"alt_stat_name\": \"testing-ns_envoy-admin_9001\",\n"
    "        \"type\": \"STATIC\",\n"
    "        \"connect_timeout\": \"0.250s\",\n"
    "        \"load_assignment\": {\n"
    "          \"cluster_name\": \"envoy-admin\",\n"
    "          \"endpoints\": [{\"lb_endpoints\": [{\"endpoint\": {\"address\": {\n"
    "            \"pipe\": {\"path\": \"/admin/admin.sock\", \"mode\": 420}\n"
    "          }}}]}]\n"
    "        }\n"
    "      }\n"
    "    ]\n"
    "  },\n"
    "  \"dynamic_resources\": {\n"
    "    \"lds_config\": {\n"
    "      \"api_config_source\": {\"api_type\": \"GRPC\", \"transport_api_version\": \"V3\",\n"
    "        \"grpc_services\": [{\"envoy_grpc\": {\"cluster_name\": \"contour\",\n"
    "                                           \"authority\": \"contour\"}}]},\n"
    "      \"resource_api_version\": \"V3\"\n"
    "    },\n"
    "    \"cds_config\": {\n"
    "      \"api_config_source\": {\"api_type\": \"GRPC\", \"transport_api_version\": \"V3\",\n"
    "        \"grpc_services\": [{\"envoy_grpc\": {\"cluster_name\": \"contour\",\n"
    "                                           \"authority\": \"contour\"}}]},\n"
    "      \"resource_api_version\": \"V3\"\n"
    "    }\n"
    "  },\n"
    "  \"layered_runtime\": {\n"
    "    \"layers\": [\n"
    "      {\"name\": \"dynamic\", \"rtds_layer\": {\"name\": \"dynamic\", \"rtds_config\": {\n"
    "        \"api_config_source\": {\"api_type\": \"GRPC\", \"transport_api_version\": \"V3\",\n"
    "          \"grpc_services\": [{\"envoy_grpc\": {\"cluster_name\": \"contour\",\n"
    "                                             \"authority\": \"contour\"}}]},\n"
    "        \"resource_api_version\": \"V3\"}}},\n"
    "      {\"name\": \"admin\", \"admin_layer\": {}}\n"
    "    ]\n"
    "  },\n"
    "  \"admin\": {\n"
    "    \"access_log\": [{\"name\": \"envoy.access_loggers.file\", \"typed_config\": {\n"
    "      \"@type\": "
    "\"type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog\",\n"
    "      \"path\": \"/dev/null\"}}],\n"
    "    \"address\": {\"pipe\": {\"path\": \"/admin/admin.sock\", \"mode\": 420}}\n"
    "  },\n"
    "  \"default_regex_engine\": {\n"
    "    \"name\": \"envoy.regex_engines.google_re2\",\n"
    "    \"typed_config\": {\"@type\": "
    "\"type.googleapis.com/envoy.extensions.regex_engines.v3.GoogleRE2\"}\n"
    "  }\n"
    "}\n";

/* The contour cluster's transport socket with file paths (upstream's
 * "--envoy-cafile=CA.cert --envoy-client-cert=client.cert ..." case). */
static const char *want_file_tls_json =
    "{\"name\": \"envoy.transport_sockets.tls\", \"typed_config\": {\n"
    "  \"@type\": "
    "\"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\",\n"
    "  \"common_tls_context\": {\n"
    "    \"tls_params\": {\"tls_maximum_protocol_version\": \"TLSv1_3\"},\n"
    "    \"tls_certificates\": [{\"certificate_chain\": {\"filename\": \"client.cert\"},\n"
    "                          \"private_key\": {\"filename\": \"client.key\"}}],\n"
    "    \"validation_context\": {\n"
    "      \"trusted_ca\": {\"filename\": \"CA.cert\"},\n"
    "      \"match_typed_subject_alt_names\": [{\"san_type\": \"DNS\",\n"
    "                                         \"matcher\": {\"exact\": \"contour\"}}]\n"
    "    }\n"
    "  }\n"
    "}}";

/* The same through SDS files under DIR (%s, twice); a macro so that the
 * format is a literal the compiler checks. */
#define WANT_SDS_TLS_FMT                                                                           \
	"{\"name\": \"envoy.transport_sockets.tls\", \"typed_config\": {\n"                        \
	"  \"@type\": "                                                                            \
	"\"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\",\n"  \
	"  \"common_tls_context\": {\n"                                                            \
	"    \"tls_params\": {\"tls_maximum_protocol_version\": \"TLSv1_3\",\n"                    \
	"      \"signature_algorithms\": [\"ecdsa_secp256r1_sha256\", \"rsa_pss_rsae_sha256\",\n"  \
	"        \"rsa_pkcs1_sha256\", \"ecdsa_secp384r1_sha384\", \"rsa_pss_rsae_sha384\",\n"     \
	"        \"rsa_pkcs1_sha384\", \"ecdsa_secp521r1_sha512\", \"rsa_pss_rsae_sha512\",\n"     \
	"        \"rsa_pkcs1_sha512\", \"rsa_pkcs1_sha1\"]},\n"                                    \
	"    \"tls_certificate_sds_secret_configs\": [{\"name\": "                                 \
	"\"contour_xds_tls_certificate\",\n"                                                       \
	"      \"sds_config\": {\"resource_api_version\": \"V3\",\n"                               \
	"        \"path_config_source\": {\"path\": \"%s/sds/xds-tls-certificate.json\"}}}],\n"    \
	"    \"validation_context_sds_secret_config\": {\n"                                        \
	"      \"name\": \"contour_xds_tls_validation_context\",\n"                                \
	"      \"sds_config\": {\"resource_api_version\": \"V3\",\n"                               \
	"        \"path_config_source\": {\"path\": \"%s/sds/xds-validation-context.json\"}}}\n"   \
	"  }\n"                                                                                    \
	"}}"

static const char *want_sds_cert_json =
    "{\"resources\": [{\n"
    "  \"@type\": \"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret\",\n"
    "  \"name\": \"contour_xds_tls_certificate\",\n"
    "  \"tls_certificate\": {\"certificate_chain\": {\"filename\": \"client.cert\"},\n"
    "                      \"private_key\": {\"filename\": \"client.key\"}}}]}";

static const char *want_sds_validation_json =
    "{\"resources\": [{\n"
    "  \"@type\": \"type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret\",\n"
    "  \"name\": \"contour_xds_tls_validation_context\",\n"
    "  \"validation_context\": {\"trusted_ca\": {\"filename\": \"CA.cert\"},\n"
    "    \"match_typed_subject_alt_names\": [{\"san_type\": \"DNS\",\n"
    "                                       \"matcher\": {\"exact\": \"contour\"}}]}}]}";

static const char *want_heap_monitor_json =
    "{\"name\": \"envoy.resource_monitors.fixed_heap\", \"typed_config\": {\n"
    "  \"@type\": "
    "\"type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig\",\n"
    "  \"max_heap_size_bytes\": \"2147483648\"}}";

static const char *want_heap_actions_json =
    "[{\"name\": \"envoy.overload_actions.shrink_heap\", \"triggers\": [\n"
    "   {\"name\": \"envoy.resource_monitors.fixed_heap\", \"threshold\": {\"value\": 0.95}}]},\n"
    " {\"name\": \"envoy.overload_actions.stop_accepting_requests\", \"triggers\": [\n"
    "   {\"name\": \"envoy.resource_monitors.fixed_heap\", \"threshold\": {\"value\": 0.98}}]}]";

static const char *want_conn_monitor_json =
    "{\"name\": \"envoy.resource_monitors.global_downstream_max_connections\",\n"
    " \"typed_config\": {\"@type\": \"type.googleapis.com/envoy.extensions.resource_monitors."
    "downstream_connections.v3.DownstreamConnectionsConfig\",\n"
    "  \"max_active_downstream_connections\": \"54321\"}}";

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	ck_assert_msg(j != NULL, "bad JSON at line %d: %s", e.line, e.text);
	return j;
}

static json_t *load(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);
	ck_assert_msg(j != NULL, "%s: line %d: %s", path, e.line, e.text);
	return j;
}

/* The first difference between got and want, by path ("" when equal). */
static void json_diff(const char *at, const json_t *got, const json_t *want, char *out, size_t n)
{
	char sub[1024];

	if (out[0])
		return;
	if (json_typeof(got) != json_typeof(want)) {
		char *g = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
		char *w = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);
		snprintf(out, n, "%s: got %.200s, want %.200s", at, g, w);
		free(g);
		free(w);
		return;
	}
	if (json_is_object(want)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)want, k, v)
		{
			snprintf(sub, sizeof(sub), "%s.%s", at, k);
			if (!json_object_get(got, k))
				snprintf(out, n, "%s: missing", sub);
			else
				json_diff(sub, json_object_get(got, k), v, out, n);
		}
		json_object_foreach((json_t *)got, k, v)
		{
			if (!out[0] && !json_object_get(want, k))
				snprintf(out, n, "%s.%s: unexpected", at, k);
		}
		return;
	}
	if (json_is_array(want)) {
		if (json_array_size(got) != json_array_size(want)) {
			snprintf(out, n, "%s: %zu elements, want %zu", at, json_array_size(got),
			         json_array_size(want));
			return;
		}
		for (size_t i = 0; i < json_array_size(want); i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", at, i);
			json_diff(sub, json_array_get(got, i), json_array_get(want, i), out, n);
		}
		return;
	}
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_ENCODE_ANY);
		char *w = json_dumps(want, JSON_ENCODE_ANY);
		snprintf(out, n, "%s: got %s, want %s", at, g, w);
		free(g);
		free(w);
	}
}

#define ck_json_eq(got, want)                                                                      \
	do {                                                                                       \
		char d_[2048] = "";                                                                \
		json_diff("$", (got), (want), d_, sizeof(d_));                                     \
		ck_assert_msg(d_[0] == '\0', "%s", d_);                                            \
	} while (0)

/* Replace (v non-NULL, stolen) or delete the member at a dotted path;
 * numeric components index arrays. */
static void jset(json_t *root, const char *path, json_t *v)
{
	char buf[512], *save = NULL, *tok, *next;
	json_t *cur = root;

	snprintf(buf, sizeof(buf), "%s", path);
	tok = strtok_r(buf, ".", &save);
	while ((next = strtok_r(NULL, ".", &save)) != NULL) {
		cur = json_is_array(cur) ? json_array_get(cur, strtoul(tok, NULL, 10))
		                         : json_object_get(cur, tok);
		ck_assert_msg(cur != NULL, "no %s in %s", tok, path);
		tok = next;
	}
	if (v)
		ck_assert(json_object_set_new(cur, tok, v) == 0);
	else
		ck_assert(json_object_del(cur, tok) == 0);
}

static json_t *want_default(void)
{
	return parse(want_default_json);
}

static char *slurp(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t len = 0;

	buf[0] = '\0';
	if (!f)
		return buf;
	len = fread(buf, 1, n - 1, f);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

/* xds_bootstrap_main(["bootstrap", args...]) with stdout and stderr sent to
 * out_text and err_text. Returns its exit status. */
static int run(const char *first, ...)
{
	char *argv[40];
	int argc = 0, so, se, fo, fe, rc;
	va_list ap;

	argv[argc++] = "bootstrap";
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *)) {
		ck_assert(argc < 39);
		argv[argc++] = (char *)a;
	}
	va_end(ap);
	argv[argc] = NULL;

	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	fo = open(".run-stdout", O_CREAT | O_TRUNC | O_WRONLY, 0600);
	fe = open(".run-stderr", O_CREAT | O_TRUNC | O_WRONLY, 0600);
	ck_assert(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
	dup2(fo, 1);
	dup2(fe, 2);
	rc = xds_bootstrap_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(fo);
	close(fe);
	slurp(".run-stdout", out_text, sizeof(out_text));
	slurp(".run-stderr", err_text, sizeof(err_text));
	unlink(".run-stdout");
	unlink(".run-stderr");
	return rc;
}
#define RUN(...) run(__VA_ARGS__, (const char *)NULL)

static int exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void write_certs(void)
{
	free(tu_write_file(tmp, "CA.cert", "ca\n"));
	free(tu_write_file(tmp, "client.cert", "cert\n"));
	free(tu_write_file(tmp, "client.key", "key\n"));
}

static void setup(void)
{
	static const char *vars[] = {"ENVOY_CAFILE", "ENVOY_CERT_FILE", "ENVOY_KEY_FILE",
	                             "CONTOUR_NAMESPACE"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	ck_assert(getcwd(cwd, sizeof(cwd)) != NULL);
	tmp = tu_tmpdir();
	ck_assert(chdir(tmp) == 0);
}

static void teardown(void)
{
	ck_assert(chdir(cwd) == 0);
	tu_rmrf(tmp);
	free(tmp);
	tmp = NULL;
}

/* ---- the JSON of each variant --------------------------------------- */

START_TEST(default_configuration)
{
	ck_assert_int_eq(RUN("envoy.json", "--namespace=testing-ns"), 0);
	ck_assert_str_eq(err_text, "");
	ck_assert_str_eq(out_text, "");
	json_t *got = load("envoy.json"), *want = want_default();
	ck_json_eq(got, want);
	/* no ADS, no overload manager, no TLS, and no SDS folder */
	ck_assert_ptr_null(
	    json_object_get(json_object_get(got, "dynamic_resources"), "ads_config"));
	ck_assert(!exists("sds"));
	json_decref(got);
	json_decref(want);
}
END_TEST

START_TEST(namespace_flag_env_default)
{
	ck_assert_int_eq(RUN("a.json"), 0);
	json_t *got = load("a.json"), *want = want_default();
	jset(want, "static_resources.clusters.0.alt_stat_name",
	     json_string("projectcontour_contour_8001"));
	jset(want, "static_resources.clusters.1.alt_stat_name",
	     json_string("projectcontour_envoy-admin_9001"));
	ck_json_eq(got, want);
	json_decref(got);

	setenv("CONTOUR_NAMESPACE", "from-env", 1);
	ck_assert_int_eq(RUN("b.json"), 0);
	got = load("b.json");
	ck_assert_str_eq(
	    json_string_value(json_object_get(
	        json_array_get(
	            json_object_get(json_object_get(got, "static_resources"), "clusters"), 0),
	        "alt_stat_name")),
	    "from-env_contour_8001");
	json_decref(got);

	/* the flag wins over the environment; "--f v" as well as "--f=v" */
	ck_assert_int_eq(RUN("--namespace", "testing-ns", "c.json"), 0);
	got = load("c.json");
	json_decref(want);
	want = want_default();
	ck_json_eq(got, want);
	json_decref(got);
	json_decref(want);
}
END_TEST

START_TEST(xds_address_and_port)
{
	static const struct {
		const char *addr, *type;
		int ipv4_compat;
	} cases[] = {
	    {"8.8.8.8", "STATIC", 0},
	    {"contour", "STRICT_DNS", 0},
	    {"::1", "STATIC", 0},
	    {"::", "STATIC", 1},
	    {"contour.projectcontour.svc.cluster.local", "STRICT_DNS", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char flag[128];
		snprintf(flag, sizeof(flag), "--xds-address=%s", cases[i].addr);
		ck_assert_int_eq(
		    RUN("--namespace=testing-ns", flag, "--xds-port", "9200", "x.json"), 0);
		json_t *got = load("x.json"), *want = want_default();
		jset(want, "static_resources.clusters.0.alt_stat_name",
		     json_string("testing-ns_contour_9200"));
		jset(want, "static_resources.clusters.0.type", json_string(cases[i].type));
		const char *sa = "static_resources.clusters.0.load_assignment.endpoints.0."
		                 "lb_endpoints.0.endpoint.address.socket_address";
		char p[256];
		snprintf(p, sizeof(p), "%s.address", sa);
		jset(want, p, json_string(cases[i].addr));
		snprintf(p, sizeof(p), "%s.port_value", sa);
		jset(want, p, json_integer(9200));
		if (cases[i].ipv4_compat) {
			snprintf(p, sizeof(p), "%s.ipv4_compat", sa);
			jset(want, p, json_true());
		}
		ck_json_eq(got, want);
		json_decref(got);
		json_decref(want);
	}

	/* --xds-port=0 is the default, as upstream's intOrDefault */
	ck_assert_int_eq(RUN("--namespace=testing-ns", "--xds-port=0", "y.json"), 0);
	json_t *got = load("y.json"), *want = want_default();
	ck_json_eq(got, want);
	json_decref(got);
	json_decref(want);
}
END_TEST

START_TEST(dns_lookup_family)
{
	static const char *flags[][2] = {
	    {"v4", "V4_ONLY"}, {"v6", "V6_ONLY"}, {"all", "ALL"}, {"auto", NULL}};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char flag[64];
		snprintf(flag, sizeof(flag), "--dns-lookup-family=%s", flags[i][0]);
		ck_assert_int_eq(RUN("--namespace=testing-ns", flag, "d.json"), 0);
		json_t *got = load("d.json"), *want = want_default();
		if (flags[i][1])
			jset(want, "static_resources.clusters.0.dns_lookup_family",
			     json_string(flags[i][1]));
		ck_json_eq(got, want);
		json_decref(got);
		json_decref(want);
	}
	ck_assert_int_eq(RUN("--dns-lookup-family=ipv4", "e.json"), 1);
	ck_assert_ptr_nonnull(strstr(err_text, "--dns-lookup-family"));
	ck_assert_ptr_nonnull(strstr(err_text, "\"ipv4\""));
	ck_assert(!exists("e.json"));
}
END_TEST

START_TEST(admin_address_and_port)
{
	ck_assert_int_eq(RUN("--namespace=testing-ns", "--admin-address=someaddr",
	                     "--admin-port=9100", "a.json"),
	                 0);
	json_t *got = load("a.json"), *want = want_default();
	jset(want,
	     "static_resources.clusters.1.load_assignment.endpoints.0.lb_endpoints.0.endpoint."
	     "address.pipe.path",
	     json_string("someaddr"));
	jset(want, "static_resources.clusters.1.alt_stat_name",
	     json_string("testing-ns_envoy-admin_9100"));
	jset(want, "admin.address.pipe.path", json_string("someaddr"));
	ck_json_eq(got, want);
	json_decref(got);
	json_decref(want);

	/* a TCP admin address is refused: only a unix socket */
	static const char *bad[] = {"localhost", "127.0.0.1", "::1", "0.0.0.0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char flag[64], msg[128];
		snprintf(flag, sizeof(flag), "--admin-address=%s", bad[i]);
		ck_assert_int_eq(RUN(flag, "b.json"), 1);
		snprintf(msg, sizeof(msg),
		         "--admin-address: invalid value \"%s\", cannot be `localhost` or an ip "
		         "address",
		         bad[i]);
		ck_assert_msg(strstr(err_text, msg), "stderr: %s", err_text);
		ck_assert(!exists("b.json"));
	}
}
END_TEST

START_TEST(tls_with_file_paths)
{
	write_certs();
	ck_assert_int_eq(RUN("--namespace=testing-ns", "--envoy-cafile=CA.cert",
	                     "--envoy-cert-file", "client.cert", "--envoy-key-file=client.key",
	                     "envoy.json"),
	                 0);
	json_t *got = load("envoy.json"), *want = want_default();
	jset(want, "static_resources.clusters.0.transport_socket", parse(want_file_tls_json));
	ck_json_eq(got, want);
	json_decref(got);
	/* no SDS files without --resources-dir */
	ck_assert(!exists("sds"));

	/* the same from the environment */
	setenv("ENVOY_CAFILE", "CA.cert", 1);
	setenv("ENVOY_CERT_FILE", "client.cert", 1);
	setenv("ENVOY_KEY_FILE", "client.key", 1);
	ck_assert_int_eq(RUN("--namespace=testing-ns", "env.json"), 0);
	got = load("env.json");
	ck_json_eq(got, want);
	json_decref(got);
	json_decref(want);
}
END_TEST

START_TEST(tls_errors)
{
	static const char *all_three =
	    "you must supply all TLS parameters - \"--envoy-cafile\", \"--envoy-cert-file\", "
	    "\"--envoy-key-file\", or none of them";
	write_certs();

	ck_assert_int_eq(RUN("--envoy-cert-file=client.cert", "--envoy-key-file=client.key",
	                     "--resources-dir=res", "envoy.json"),
	                 1);
	ck_assert_msg(strstr(err_text, all_three), "stderr: %s", err_text);
	ck_assert(!exists("envoy.json"));
	ck_assert(!exists("res"));

	/* one from the environment, two missing */
	setenv("ENVOY_CAFILE", "CA.cert", 1);
	ck_assert_int_eq(RUN("envoy.json"), 1);
	ck_assert_msg(strstr(err_text, all_three), "stderr: %s", err_text);

	ck_assert_int_eq(
	    RUN("--envoy-cert-file=nope.cert", "--envoy-key-file=client.key", "envoy.json"), 1);
	ck_assert_msg(strstr(err_text, "stat nope.cert: No such file or directory"), "stderr: %s",
	              err_text);

	free(tu_write_file(tmp, "empty.key", ""));
	ck_assert_int_eq(
	    RUN("--envoy-cert-file=client.cert", "--envoy-key-file=empty.key", "envoy.json"), 1);
	ck_assert_msg(strstr(err_text, "\"empty.key\" is empty"), "stderr: %s", err_text);
	ck_assert(!exists("envoy.json"));
}
END_TEST

static void check_resources_dir(const char *flag_dir, const char *clean_dir)
{
	char flag[512], path[512];
	snprintf(flag, sizeof(flag), "--resources-dir=%s", flag_dir);
	ck_assert_int_eq(RUN("--namespace=testing-ns", flag, "--envoy-cafile=CA.cert",
	                     "--envoy-cert-file=client.cert", "--envoy-key-file=client.key",
	                     "envoy.json"),
	                 0);
	ck_assert_str_eq(err_text, "");

	char ts[4096];
	snprintf(ts, sizeof(ts), WANT_SDS_TLS_FMT, clean_dir, clean_dir);
	json_t *got = load("envoy.json"), *want = want_default();
	jset(want, "static_resources.clusters.0.transport_socket", parse(ts));
	ck_json_eq(got, want);
	json_decref(got);
	json_decref(want);

	snprintf(path, sizeof(path), "%s/sds/xds-tls-certificate.json", clean_dir);
	got = load(path);
	want = parse(want_sds_cert_json);
	ck_json_eq(got, want);
	json_decref(got);
	json_decref(want);

	snprintf(path, sizeof(path), "%s/sds/xds-validation-context.json", clean_dir);
	got = load(path);
	want = parse(want_sds_validation_json);
	ck_json_eq(got, want);
	json_decref(got);
	json_decref(want);
}

START_TEST(tls_with_resources_dir)
{
	write_certs();
	umask(0);
	check_resources_dir("resources", "resources");
	/* 0777 as upstream asks, visible only with a zero umask */
	struct stat st;
	ck_assert(stat("resources/sds", &st) == 0);
	ck_assert_int_eq(st.st_mode & 07777, 0777);
	ck_assert(stat("resources", &st) == 0);
	ck_assert_int_eq(st.st_mode & 07777, 0777);

	umask(022);
	/* path.Join cleaning of the paths in the bootstrap */
	check_resources_dir("out//x/./y/", "out/x/y");
	ck_assert(stat("out/x/y/sds", &st) == 0);
	ck_assert_int_eq(st.st_mode & 07777, 0755);
	check_resources_dir("./a/../b", "b");

	char abs_dir[1024], abs_clean[1024];
	snprintf(abs_dir, sizeof(abs_dir), "%s//abs/", tmp);
	snprintf(abs_clean, sizeof(abs_clean), "%s/abs", tmp);
	check_resources_dir(abs_dir, abs_clean);
}
END_TEST

START_TEST(resources_dir_errors)
{
	/* without TLS the sds folder is still made, but no SDS file */
	ck_assert_int_eq(RUN("--resources-dir", "plain", "envoy.json"), 0);
	struct stat st;
	ck_assert(stat("plain/sds", &st) == 0 && S_ISDIR(st.st_mode));
	ck_assert(!exists("plain/sds/xds-tls-certificate.json"));
	json_t *got = load("envoy.json");
	ck_assert_ptr_null(json_object_get(
	    json_array_get(json_object_get(json_object_get(got, "static_resources"), "clusters"),
	                   0),
	    "transport_socket"));
	json_decref(got);

	/* a file where the folder should be */
	free(tu_write_file(tmp, "file", "x"));
	ck_assert_int_eq(RUN("--resources-dir=file", "e.json"), 1);
	ck_assert_msg(strstr(err_text, "mkdir file: Not a directory"), "stderr: %s", err_text);
	ck_assert(!exists("e.json"));
}
END_TEST

START_TEST(overload_manager)
{
	ck_assert_int_eq(RUN("--namespace=testing-ns", "--overload-max-heap=2147483648", "h.json"),
	                 0);
	json_t *got = load("h.json"), *want = want_default();
	json_t *om =
	    json_pack("{s:s,s:[o],s:o}", "refresh_interval", "0.250s", "resource_monitors",
	              parse(want_heap_monitor_json), "actions", parse(want_heap_actions_json));
	jset(want, "overload_manager", json_incref(om));
	ck_json_eq(got, want);
	/* the thresholds print as 0.95 and 0.98, not 0.94999999999999996 */
	ck_assert_ptr_nonnull(strstr(slurp("h.json", out_text, sizeof(out_text)), "0.95\n"));
	json_decref(got);

	/* both monitors: the heap one first, as upstream appends them */
	ck_assert_int_eq(RUN("--namespace=testing-ns", "--overload-max-heap", "2147483648",
	                     "--overload-downstream-max-conn=54321", "b.json"),
	                 0);
	got = load("b.json");
	ck_assert(json_array_append_new(json_object_get(om, "resource_monitors"),
	                                parse(want_conn_monitor_json)) == 0);
	ck_json_eq(got, want);
	json_decref(got);
	json_decref(want);
	json_decref(om);

	ck_assert_int_eq(
	    RUN("--namespace=testing-ns", "--overload-downstream-max-conn=54321", "c.json"), 0);
	got = load("c.json");
	want = want_default();
	jset(want, "overload_manager",
	     json_pack("{s:s,s:[o]}", "refresh_interval", "0.250s", "resource_monitors",
	               parse(want_conn_monitor_json)));
	ck_json_eq(got, want);
	json_decref(got);
	json_decref(want);

	/* zero is "off" */
	ck_assert_int_eq(RUN("--namespace=testing-ns", "--overload-max-heap=0",
	                     "--overload-downstream-max-conn=0", "z.json"),
	                 0);
	got = load("z.json");
	want = want_default();
	ck_json_eq(got, want);
	json_decref(got);
	json_decref(want);

	ck_assert_int_eq(RUN("--overload-downstream-max-conn=-1", "n.json"), 1);
	ck_assert_msg(strstr(err_text, "--overload-downstream-max-conn: invalid value -1, cannot "
	                               "be < 0"),
	              "stderr: %s", err_text);
	ck_assert_int_eq(RUN("--overload-max-heap=-1", "n.json"), 1);
	ck_assert_ptr_nonnull(strstr(err_text, "'--overload-max-heap'"));
	ck_assert_int_eq(RUN("--overload-max-heap=2G", "n.json"), 1);
	ck_assert_ptr_nonnull(strstr(err_text, "\"2G\""));
	ck_assert(!exists("n.json"));
}
END_TEST

/* ---- the command line ----------------------------------------------- */

START_TEST(flag_errors)
{
	static const struct {
		const char *args[4];
		const char *msg;
	} cases[] = {
	    {{"--xds-adress=x", "f.json"}, "unknown long flag '--xds-adress'"},
	    {{"-x", "f.json"}, "unknown short flag '-x'"},
	    {{"f.json", "--xds-port"}, "expected argument for flag '--xds-port'"},
	    {{"--xds-port", "--namespace=x", "f.json"}, "expected argument for flag '--xds-port'"},
	    {{"--namespace=x"}, "required argument 'path' not provided"},
	    {{"f.json", "g.json"}, "unexpected g.json"},
	    {{"--xds-port=1", "--xds-port=2", "f.json"}, "flag 'xds-port' cannot be repeated"},
	    {{"--xds-port=70000", "f.json"}, "\"70000\" for flag '--xds-port'"},
	    {{"--xds-port=eighty", "f.json"}, "\"eighty\" for flag '--xds-port'"},
	    {{"--admin-port=-1", "f.json"}, "\"-1\" for flag '--admin-port'"},
	    {{"--xds-resource-version=v2", "f.json"}, "invalid xDS version \"v2\""},
	    {{"--log-format=xml", "f.json"}, "'xml'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *a = cases[i].args;
		ck_assert_int_eq(run(a[0], a[1], a[2], a[3], (const char *)NULL), 1);
		ck_assert_msg(strstr(err_text, cases[i].msg), "case %zu: stderr: %s", i, err_text);
		ck_assert_msg(!strncmp(err_text, "contour: ", 9), "stderr: %s", err_text);
		ck_assert(!exists("f.json"));
	}
	/* upstream's global flag is accepted after the command too */
	ck_assert_int_eq(RUN("--log-format=json", "--xds-resource-version=v3", "ok.json"), 0);
	ck_assert(exists("ok.json"));
	/* "--" ends the flags: a path may start with a dash */
	ck_assert_int_eq(RUN("--", "--odd.json"), 0);
	ck_assert(exists("--odd.json"));
}
END_TEST

START_TEST(stdout_dash)
{
	ck_assert_int_eq(RUN("--namespace=testing-ns", "-"), 0);
	ck_assert_str_eq(err_text, "");
	ck_assert(!exists("-"));
	json_t *got = parse(out_text), *want = want_default();
	ck_json_eq(got, want);
	json_decref(got);
	json_decref(want);

	/* byte for byte what the file gets */
	char first[65536], file[65536];
	snprintf(first, sizeof(first), "%s", out_text);
	ck_assert_int_eq(RUN("--namespace=testing-ns", "f.json"), 0);
	ck_assert_str_eq(slurp("f.json", file, sizeof(file)), first);
}
END_TEST

START_TEST(stable_layout)
{
	char a[65536], b[65536];
	write_certs();
	ck_assert_int_eq(RUN("--resources-dir=r", "--envoy-cafile=CA.cert",
	                     "--envoy-cert-file=client.cert", "--envoy-key-file=client.key",
	                     "--overload-max-heap=1", "--overload-downstream-max-conn=2", "a.json"),
	                 0);
	ck_assert_int_eq(RUN("--resources-dir=r", "--envoy-cafile=CA.cert",
	                     "--envoy-cert-file=client.cert", "--envoy-key-file=client.key",
	                     "--overload-max-heap=1", "--overload-downstream-max-conn=2", "b.json"),
	                 0);
	slurp("a.json", a, sizeof(a));
	slurp("b.json", b, sizeof(b));
	ck_assert_str_eq(a, b);

	/* indent 2, keys in bootstrap.proto's order, "@type" first in an Any */
	static const char *head = "{\n  \"static_resources\": {\n    \"clusters\": [\n      {\n"
	                          "        \"name\": \"contour\",\n";
	ck_assert_msg(!strncmp(a, head, strlen(head)), "%.200s", a);
	static const char *order[] = {"\"static_resources\"",
	                              "\"alt_stat_name\"",
	                              "\"connect_timeout\"",
	                              "\"load_assignment\"",
	                              "\"circuit_breakers\"",
	                              "\"typed_extension_protocol_options\"",
	                              "\"transport_socket\"",
	                              "\"upstream_connection_options\"",
	                              "\"dynamic_resources\"",
	                              "\"lds_config\"",
	                              "\"cds_config\"",
	                              "\"layered_runtime\"",
	                              "\"admin\": {",
	                              "\"overload_manager\"",
	                              "\"default_regex_engine\""};
	const char *prev = a;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *at = strstr(prev, order[i]);
		ck_assert_msg(at != NULL, "%s missing or out of order", order[i]);
		prev = at;
	}
	int anys = 0;
	for (const char *t = strstr(a, "\"typed_config\": {\n"); t;
	     t = strstr(t + 1, "\"typed_config\": {\n")) {
		t += strlen("\"typed_config\": {\n");
		ck_assert_msg(!strncmp(t + strspn(t, " "), "\"@type\"", 7), "%.80s", t);
		anys++;
	}
	/* transport socket, access log, two monitors, regex engine */
	ck_assert_int_eq(anys, 5);
	ck_assert(a[strlen(a) - 1] == '\n');
}
END_TEST

START_TEST(write_failures_and_help)
{
	ck_assert_int_eq(RUN("no/such/dir/envoy.json"), 1);
	ck_assert_msg(strstr(err_text, "failed to write bootstrap configuration: open "
	                               "no/such/dir/envoy.json: No such file or directory"),
	              "stderr: %s", err_text);

	ck_assert_int_eq(RUN("--help"), 0);
	ck_assert_ptr_nonnull(strstr(out_text, "usage: contour bootstrap [<flags>] <path>"));
	ck_assert_ptr_nonnull(strstr(out_text, "--xds-port"));
	ck_assert_ptr_nonnull(strstr(out_text, "$ENVOY_CAFILE"));
	ck_assert_str_eq(err_text, "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xds_bootstrap");
	TCase *tc = tcase_create("json");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, default_configuration);
	tcase_add_test(tc, namespace_flag_env_default);
	tcase_add_test(tc, xds_address_and_port);
	tcase_add_test(tc, dns_lookup_family);
	tcase_add_test(tc, admin_address_and_port);
	tcase_add_test(tc, overload_manager);
	tcase_add_test(tc, stable_layout);
	suite_add_tcase(s, tc);

	tc = tcase_create("tls");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, tls_with_file_paths);
	tcase_add_test(tc, tls_errors);
	tcase_add_test(tc, tls_with_resources_dir);
	tcase_add_test(tc, resources_dir_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("cli");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, flag_errors);
	tcase_add_test(tc, stdout_dash);
	tcase_add_test(tc, write_failures_and_help);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
