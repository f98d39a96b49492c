/* tests/unit/check_lookup.c: the shared Service and Secret lookups
 * (core/dag/dag_lookup.c, core/dag/secret_check.c) and the delegation check,
 * through the real core and store. Certificates and keys are real ones
 * from tests/fixtures/lookup/ (see the README there). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tests/unit/testutil.h"
#include "core/dag/dag_internal.h"
#include "core/dag/secret_check.h"

static core_t *core;
static contour_module_t m;
static contour_source_t *src;
static contour_snapshot_t *snap;
static contour_dag_t *dag;
static char err[1024];

static void setup(void)
{
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	m = (contour_module_t){.core = core, .name = "t", .state = CORE_MOD_INITIALISING};
	ck_assert_int_eq(contour_register_source(&m, "src", &src), CONTOUR_EOK);
	snap = core_snapshot_new(core, 1);
	ck_assert_ptr_nonnull(snap);
	dag = contour_snapshot_dag(snap);
	err[0] = '\0';
}

static void teardown(void)
{
	contour_snapshot_unref(snap);
	snap = NULL;
	core_free(core);
	core = NULL;
}

/* A fresh snapshot, as the next build would use. */
static void next_build(void)
{
	contour_snapshot_unref(snap);
	snap = core_snapshot_new(core, 2);
	ck_assert_ptr_nonnull(snap);
	dag = contour_snapshot_dag(snap);
}

static void use_global(const char *yaml)
{
	core_conf_free(core->conf);
	core->conf = tu_conf(yaml, NULL);
}

static void put(json_t *obj)
{
	ck_assert_ptr_nonnull(obj);
	ck_assert_int_eq(contour_store_put_new(src, obj), CONTOUR_EOK);
}

static char *slurp(const char *fixture)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "lookup/%s", fixture);
	const char *path = tu_fixture(rel);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "open %s", path);
	char *buf = malloc(65536);
	size_t n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static json_t *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	json_t *j = json_string(out);
	free(out);
	return j;
}

/* Fixture contents joined: "rsa.crt+ca.crt". */
static char *fixtures(const char *spec)
{
	char *all = calloc(1, 1), *copy = strdup(spec), *save = NULL;
	for (char *f = strtok_r(copy, "+", &save); f; f = strtok_r(NULL, "+", &save)) {
		char *part = slurp(f);
		all = realloc(all, strlen(all) + strlen(part) + 1);
		strcat(all, part);
		free(part);
	}
	free(copy);
	return all;
}

/* A Secret. type NULL: no type field. Each data item is a fixture spec
 * ("rsa.crt+ca.crt"), or "=literal text"; NULL leaves the key out. */
static json_t *secret_obj(const char *ns, const char *name, const char *type, const char *k1,
                          const char *v1, const char *k2, const char *v2)
{
	json_t *data = json_object();
	const char *keys[2] = {k1, k2}, *vals[2] = {v1, v2};
	for (int i = 0; i < 2; i++) {
		if (!keys[i] || !vals[i])
			continue;
		char *text = vals[i][0] == '=' ? strdup(vals[i] + 1) : fixtures(vals[i]);
		json_object_set_new(data, keys[i], b64(text));
		free(text);
	}
	json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "v1", "kind",
	                        "Secret", "metadata", "namespace", ns, "name", name, "data", data);
	if (type)
		json_object_set_new(obj, "type", json_string(type));
	return obj;
}

static void put_tls(const char *name, const char *type, const char *crt, const char *key)
{
	put(secret_obj("ns", name, type, "tls.crt", crt, "tls.key", key));
}

static int lookup(const char *name, contour_dag_secret_type_t type, contour_dag_secret_t **out)
{
	err[0] = '\0';
	return contour_dag_lookup_secret(&m, dag, "ns", name, type, out, err, sizeof(err));
}

/* The lookup of ns/name as type fails with exactly msg. */
static void expect_secret_err(const char *name, contour_dag_secret_type_t type, int rc,
                              const char *msg)
{
	contour_dag_secret_t *s = (void *)1;
	ck_assert_int_eq(lookup(name, type, &s), rc);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(err, msg);
}

static void expect_tls_err(const char *type, const char *crt, const char *key, const char *msg)
{
	put_tls("bad", type, crt, key);
	expect_secret_err("bad", CONTOUR_DAG_SECRET_TLS, CONTOUR_EINVAL, msg);
}

/* Services. */

static void put_service(json_t *annotations, json_t *spec_extra, json_t *ports)
{
	json_t *spec = json_pack("{s:o}", "ports", ports);
	if (spec_extra)
		json_object_update(spec, spec_extra);
	json_decref(spec_extra);
	json_t *obj =
	    json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "v1", "kind", "Service",
	              "metadata", "namespace", "ns", "name", "web", "spec", spec);
	if (annotations)
		json_object_set_new(json_object_get(obj, "metadata"), "annotations", annotations);
	put(obj);
}

static json_t *two_ports(void)
{
	return json_pack("[{s:s, s:i, s:i, s:s}, {s:s, s:i, s:i}]", "name", "http", "port", 80,
	                 "targetPort", 8080, "protocol", "TCP", "name", "https", "port", 443,
	                 "targetPort", 8443);
}

static contour_dag_service_t svc;
static const char *proto;
static contour_dag_circuit_breakers_t cb;

static int svc_lookup(uint32_t number, const char *name)
{
	memset(&svc, 0, sizeof(svc));
	memset(&cb, 0xff, sizeof(cb));
	proto = NULL;
	err[0] = '\0';
	return contour_dag_lookup_service(&m, dag, "ns", "web", number, name, &svc, &proto, &cb,
	                                  err, sizeof(err));
}

START_TEST(service_not_found)
{
	ck_assert_int_eq(contour_dag_lookup_service(&m, dag, "ns", "nope", 80, NULL, &svc, &proto,
	                                            &cb, err, sizeof(err)),
	                 CONTOUR_ENOENT);
	ck_assert_str_eq(err, "service \"ns/nope\" not found");
	/* Same name, other namespace. */
	put_service(NULL, NULL, two_ports());
	ck_assert_int_eq(contour_dag_lookup_service(&m, dag, "other", "web", 80, NULL, &svc, &proto,
	                                            &cb, err, sizeof(err)),
	                 CONTOUR_ENOENT);
	ck_assert_str_eq(err, "service \"other/web\" not found");
}
END_TEST

START_TEST(service_port_by_number)
{
	put_service(NULL, NULL, two_ports());
	ck_assert_int_eq(svc_lookup(443, NULL), CONTOUR_EOK);
	ck_assert_str_eq(svc.namespace_, "ns");
	ck_assert_str_eq(svc.name, "web");
	ck_assert_uint_eq(svc.port, 443);
	ck_assert_str_eq(svc.port_name, "https");
	ck_assert_ptr_null(svc.external_name);
	ck_assert_str_eq(proto, "");
	ck_assert_uint_eq(cb.max_connections, 0);
	ck_assert_uint_eq(cb.max_pending_requests, 0);
	ck_assert_uint_eq(cb.max_requests, 0);
	ck_assert_uint_eq(cb.max_retries, 0);
	ck_assert_uint_eq(cb.per_host_max_connections, 0);
	/* Strings live in the DAG's arena, not in the store object. */
	contour_object_key_t k = {"v1", "Service", "ns", "web"};
	const json_t *ports =
	    json_object_get(json_object_get(contour_store_get(&m, &k), "spec"), "ports");
	ck_assert_ptr_ne(svc.port_name,
	                 json_string_value(json_object_get(json_array_get(ports, 1), "name")));
}
END_TEST

START_TEST(service_port_by_name)
{
	put_service(NULL, NULL, two_ports());
	ck_assert_int_eq(svc_lookup(0, "http"), CONTOUR_EOK);
	ck_assert_uint_eq(svc.port, 80);
	ck_assert_str_eq(svc.port_name, "http");
	/* A name that reads as a number matches by number (intstr.IntValue). */
	ck_assert_int_eq(svc_lookup(0, "443"), CONTOUR_EOK);
	ck_assert_uint_eq(svc.port, 443);
}
END_TEST

START_TEST(service_unnamed_port)
{
	put_service(NULL, NULL, json_pack("[{s:i}]", "port", 8080));
	ck_assert_int_eq(svc_lookup(8080, NULL), CONTOUR_EOK);
	ck_assert_uint_eq(svc.port, 8080);
	ck_assert_str_eq(svc.port_name, "");
}
END_TEST

START_TEST(service_port_not_matched)
{
	put_service(NULL, NULL, two_ports());
	ck_assert_int_eq(svc_lookup(9999, NULL), CONTOUR_ENOENT);
	ck_assert_str_eq(err, "port \"9999\" on service \"ns/web\" not matched");
	/* targetPort is not the Service port. */
	ck_assert_int_eq(svc_lookup(8080, NULL), CONTOUR_ENOENT);
	ck_assert_str_eq(err, "port \"8080\" on service \"ns/web\" not matched");
	ck_assert_int_eq(svc_lookup(0, "grpc"), CONTOUR_ENOENT);
	ck_assert_str_eq(err, "port \"grpc\" on service \"ns/web\" not matched");
}
END_TEST

START_TEST(service_udp)
{
	put_service(NULL, NULL,
	            json_pack("[{s:s, s:i, s:s}, {s:s, s:i, s:s}]", "name", "dns", "port", 53,
	                      "protocol", "UDP", "name", "sctp", "port", 54, "protocol", "SCTP"));
	ck_assert_int_eq(svc_lookup(53, NULL), CONTOUR_EINVAL);
	ck_assert_str_eq(err, "unsupported service protocol \"UDP\"");
	ck_assert_int_eq(svc_lookup(0, "sctp"), CONTOUR_EINVAL);
	ck_assert_str_eq(err, "unsupported service protocol \"SCTP\"");
}
END_TEST

START_TEST(service_protocol_annotations)
{
	put_service(json_pack("{s:s, s:s, s:s}", "projectcontour.io/upstream-protocol.h2", "http",
	                      "projectcontour.io/upstream-protocol.h2c", " 81 , 82",
	                      "projectcontour.io/upstream-protocol.tls", "443,84"),
	            NULL,
	            json_pack("[{s:s, s:i}, {s:i}, {s:s, s:i}, {s:s, s:i}, {s:i}]", "name", "http",
	                      "port", 80, "port", 81, "name", "x", "port", 82, "name", "https",
	                      "port", 443, "port", 85));
	ck_assert_int_eq(svc_lookup(80, NULL), CONTOUR_EOK); /* by port name */
	ck_assert_str_eq(proto, "h2");
	ck_assert_int_eq(svc_lookup(81, NULL), CONTOUR_EOK); /* by number, spaces trimmed */
	ck_assert_str_eq(proto, "h2c");
	ck_assert_int_eq(svc_lookup(0, "x"), CONTOUR_EOK); /* named port listed by number */
	ck_assert_str_eq(proto, "h2c");
	ck_assert_int_eq(svc_lookup(0, "https"), CONTOUR_EOK);
	ck_assert_str_eq(proto, "tls");
	ck_assert_int_eq(svc_lookup(85, NULL), CONTOUR_EOK); /* not listed */
	ck_assert_str_eq(proto, "");
}
END_TEST

START_TEST(service_protocol_precedence)
{
	/* A port in several lists: tls beats h2c beats h2, as upstream's map
	 * is filled in that order. appProtocol, when set, decides alone. */
	put_service(json_pack("{s:s, s:s, s:s}", "projectcontour.io/upstream-protocol.h2",
	                      "a,b,c,d", "projectcontour.io/upstream-protocol.h2c", "a,b",
	                      "projectcontour.io/upstream-protocol.tls", "a"),
	            NULL,
	            json_pack("[{s:s, s:i}, {s:s, s:i}, {s:s, s:i, s:s}, {s:s, s:i, s:s}]", "name",
	                      "a", "port", 1, "name", "b", "port", 2, "name", "c", "port", 3,
	                      "appProtocol", "kubernetes.io/h2c", "name", "d", "port", 4,
	                      "appProtocol", "something/else"));
	ck_assert_int_eq(svc_lookup(1, NULL), CONTOUR_EOK);
	ck_assert_str_eq(proto, "tls");
	ck_assert_int_eq(svc_lookup(2, NULL), CONTOUR_EOK);
	ck_assert_str_eq(proto, "h2c");
	ck_assert_int_eq(svc_lookup(3, NULL), CONTOUR_EOK);
	ck_assert_str_eq(proto, "h2c");
	ck_assert_int_eq(svc_lookup(4, NULL), CONTOUR_EOK);
	ck_assert_str_eq(proto, "");
}
END_TEST

START_TEST(service_app_protocol_https)
{
	put_service(NULL, NULL, json_pack("[{s:i, s:s}]", "port", 443, "appProtocol", "https"));
	ck_assert_int_eq(svc_lookup(443, NULL), CONTOUR_EOK);
	ck_assert_str_eq(proto, "tls");
}
END_TEST

START_TEST(service_breakers)
{
	put_service(json_pack("{s:s, s:s, s:s, s:s, s:s}", "projectcontour.io/max-connections", "9",
	                      "projectcontour.io/max-pending-requests", "4294967295",
	                      "projectcontour.io/max-requests", "17",
	                      "projectcontour.io/max-retries", "3",
	                      "projectcontour.io/per-host-max-connections", "1"),
	            NULL, two_ports());
	ck_assert_int_eq(svc_lookup(80, NULL), CONTOUR_EOK);
	ck_assert_uint_eq(cb.max_connections, 9);
	ck_assert_uint_eq(cb.max_pending_requests, 4294967295u);
	ck_assert_uint_eq(cb.max_requests, 17);
	ck_assert_uint_eq(cb.max_retries, 3);
	ck_assert_uint_eq(cb.per_host_max_connections, 1);
}
END_TEST

START_TEST(service_breakers_unparsable)
{
	/* Upstream's parseUInt32: anything but plain decimal in range is 0. */
	put_service(json_pack("{s:s, s:s, s:s, s:s, s:i}", "projectcontour.io/max-connections",
	                      "-1", "projectcontour.io/max-pending-requests", "4294967296",
	                      "projectcontour.io/max-requests", "1e3",
	                      "projectcontour.io/max-retries", "+3",
	                      "projectcontour.io/per-host-max-connections", 5),
	            NULL, two_ports());
	ck_assert_int_eq(svc_lookup(80, NULL), CONTOUR_EOK);
	ck_assert_uint_eq(cb.max_connections, 0);
	ck_assert_uint_eq(cb.max_pending_requests, 0);
	ck_assert_uint_eq(cb.max_requests, 0);
	ck_assert_uint_eq(cb.max_retries, 0);
	ck_assert_uint_eq(cb.per_host_max_connections, 0);
}
END_TEST

static void put_external(const char *en)
{
	put_service(NULL, json_pack("{s:s, s:s}", "type", "ExternalName", "externalName", en),
	            json_pack("[{s:i}]", "port", 443));
}

START_TEST(service_external_name_disabled)
{
	put_external("example.com");
	ck_assert_int_eq(svc_lookup(443, NULL), CONTOUR_EINVAL);
	ck_assert_str_eq(err, "ns/web is an ExternalName service, these are not currently "
	                      "enabled. See the config.enableExternalNameService config file "
	                      "setting");
	use_global("enableExternalNameService: false\n");
	ck_assert_int_eq(svc_lookup(443, NULL), CONTOUR_EINVAL);
}
END_TEST

START_TEST(service_external_name_enabled)
{
	use_global("enableExternalNameService: true\n");
	put_external("example.com");
	ck_assert_int_eq(svc_lookup(443, NULL), CONTOUR_EOK);
	ck_assert_str_eq(svc.external_name, "example.com");
	ck_assert_uint_eq(svc.port, 443);
	/* A port mismatch is reported before the ExternalName checks. */
	ck_assert_int_eq(svc_lookup(80, NULL), CONTOUR_ENOENT);
	ck_assert_str_eq(err, "port \"80\" on service \"ns/web\" not matched");
}
END_TEST

START_TEST(service_external_name_localhost)
{
	static const char *const local[] = {"localhost", "localhost.", "localhost.localdomain",
	                                    "local.projectcontour.io"};
	use_global("enableExternalNameService: true\n");
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		put_external(local[i]);
		ck_assert_int_eq(svc_lookup(443, NULL), CONTOUR_EINVAL);
		ck_assert_str_eq(err, "ns/web is an ExternalName service that points to "
		                      "localhost, this is not allowed");
	}
	static const char *const ips[] = {"127.0.0.1", "127.9.9.9.", "0.0.0.0", "169.254.1.2",
	                                  "::1",       "::",         "fe80::1", "::ffff:127.0.0.1"};
	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		put_external(ips[i]);
		ck_assert_int_eq(svc_lookup(443, NULL), CONTOUR_EINVAL);
		ck_assert_str_eq(err, "ns/web is an ExternalName service that points to a "
		                      "loopback, link-local or unspecified IP address, this is "
		                      "not allowed");
	}
	static const char *const fine[] = {"10.0.0.1", "2001:db8::1", "localhost.example.com",
	                                   "127.0.0.1.nip.io"};
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		put_external(fine[i]);
		ck_assert_msg(svc_lookup(443, NULL) == CONTOUR_EOK, "%s: %s", fine[i], err);
		ck_assert_str_eq(svc.external_name, fine[i]);
	}
}
END_TEST

START_TEST(service_external_name_empty)
{
	/* type ExternalName without a name is an ordinary Service upstream. */
	put_service(NULL, json_pack("{s:s}", "type", "ExternalName"),
	            json_pack("[{s:i}]", "port", 80));
	ck_assert_int_eq(svc_lookup(80, NULL), CONTOUR_EOK);
	ck_assert_ptr_null(svc.external_name);
}
END_TEST

/* Secrets: TLS. */

START_TEST(secret_not_found)
{
	expect_secret_err("nope", CONTOUR_DAG_SECRET_TLS, CONTOUR_ENOENT, "Secret not found");
	expect_secret_err("nope", CONTOUR_DAG_SECRET_CA, CONTOUR_ENOENT, "Secret not found");
	expect_secret_err("nope", CONTOUR_DAG_SECRET_CRL, CONTOUR_ENOENT, "Secret not found");
}
END_TEST

static void expect_tls_ok(const char *name, const char *crt, const char *key)
{
	contour_dag_secret_t *s = NULL;
	ck_assert_msg(lookup(name, CONTOUR_DAG_SECRET_TLS, &s) == CONTOUR_EOK, "%s: %s", name, err);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->namespace_, "ns");
	ck_assert_str_eq(s->name, name);
	ck_assert_int_eq(s->type, CONTOUR_DAG_SECRET_TLS);
	char *c = fixtures(crt), *k = fixtures(key);
	ck_assert_str_eq(s->cert, c);
	ck_assert_str_eq(s->key, k);
	ck_assert_ptr_null(s->ca);
	free(c);
	free(k);
}

START_TEST(secret_tls_rsa)
{
	put_tls("rsa", "kubernetes.io/tls", "rsa.crt", "rsa.key");
	expect_tls_ok("rsa", "rsa.crt", "rsa.key");
	put_tls("pkcs1", "kubernetes.io/tls", "rsa.crt", "rsa-pkcs1.key");
	expect_tls_ok("pkcs1", "rsa.crt", "rsa-pkcs1.key");
	/* A chain: only the first certificate needs a name. */
	put_tls("chain", "kubernetes.io/tls", "rsa.crt+ca.crt+nocn.crt", "rsa.key");
	expect_tls_ok("chain", "rsa.crt+ca.crt+nocn.crt", "rsa.key");
}
END_TEST

START_TEST(secret_tls_ecdsa)
{
	/* SEC1 key after an EC PARAMETERS block; a certificate with a SAN and
	 * no CN. */
	put_tls("ec", "kubernetes.io/tls", "ec.crt", "ec.key");
	expect_tls_ok("ec", "ec.crt", "ec.key");
}
END_TEST

START_TEST(secret_tls_opaque)
{
	put_tls("opaque", "Opaque", "rsa.crt", "rsa.key");
	expect_tls_ok("opaque", "rsa.crt", "rsa.key");
	put_tls("untyped", NULL, "ec.crt", "ec.key"); /* the API server's default */
	expect_tls_ok("untyped", "ec.crt", "ec.key");
}
END_TEST

#define TYPE_ERR "secret type is not \"kubernetes.io/tls\" or \"Opaque\""

START_TEST(secret_tls_wrong_type)
{
	expect_tls_err("kubernetes.io/basic-auth", "rsa.crt", "rsa.key", TYPE_ERR);
	put(json_pack("{s:s, s:s, s:{s:s, s:s}, s:i}", "apiVersion", "v1", "kind", "Secret",
	              "metadata", "namespace", "ns", "name", "bad", "type", 7));
	expect_secret_err("bad", CONTOUR_DAG_SECRET_TLS, CONTOUR_EINVAL, TYPE_ERR);
}
END_TEST

START_TEST(secret_tls_missing)
{
	expect_tls_err("kubernetes.io/tls", NULL, "rsa.key", "missing TLS certificate");
	expect_tls_err("kubernetes.io/tls", "rsa.crt", NULL, "missing TLS private key");
}
END_TEST

START_TEST(secret_tls_bad_certificate)
{
	expect_tls_err("kubernetes.io/tls", "=not a certificate", "rsa.key",
	               "invalid TLS certificate: failed to locate certificate");
	expect_tls_err("kubernetes.io/tls", "=", "rsa.key",
	               "invalid TLS certificate: failed to locate certificate");
	expect_tls_err("kubernetes.io/tls",
	               "=-----BEGIN CERTIFICATE-----\nno base64 here!\n-----END CERTIFICATE-----\n",
	               "rsa.key", "invalid TLS certificate: failed to parse PEM block");
	expect_tls_err("kubernetes.io/tls", "=-----BEGIN CERTIFICATE-----\nAAAA\n", "rsa.key",
	               "invalid TLS certificate: failed to parse PEM block");
	expect_tls_err("kubernetes.io/tls",
	               "=-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n",
	               "rsa.key", "invalid TLS certificate: x509: malformed certificate");
	expect_tls_err("kubernetes.io/tls", "rsa.key", "rsa.key",
	               "invalid TLS certificate: unexpected block type 'PRIVATE KEY'");
	expect_tls_err("kubernetes.io/tls", "rsa.crt+ec.key", "rsa.key",
	               "invalid TLS certificate: unexpected block type 'EC PARAMETERS'");
	expect_tls_err("kubernetes.io/tls", "nocn.crt", "nocn.key",
	               "invalid TLS certificate: certificate has no common name or subject alt "
	               "name");
}
END_TEST

START_TEST(secret_tls_trailing_text)
{
	/* Text around the blocks is fine, as with OpenSSL's reader. */
	char *crt = fixtures("rsa.crt");
	char *text = malloc(strlen(crt) + 64);
	sprintf(text, "=leaf certificate:\n%strailing words\n", crt);
	put_tls("text", "kubernetes.io/tls", text, "rsa.key");
	contour_dag_secret_t *s = NULL;
	ck_assert_msg(lookup("text", CONTOUR_DAG_SECRET_TLS, &s) == CONTOUR_EOK, "%s", err);
	free(crt);
	free(text);
}
END_TEST

START_TEST(secret_tls_bad_key)
{
	expect_tls_err("kubernetes.io/tls", "rsa.crt", "=junk",
	               "invalid TLS private key: failed to locate private key");
	expect_tls_err("kubernetes.io/tls", "rsa.crt", "rsa.key+other.key",
	               "invalid TLS private key: multiple private keys");
	expect_tls_err("kubernetes.io/tls", "rsa.crt", "rsa.crt",
	               "invalid TLS private key: unexpected block type 'CERTIFICATE'");
	expect_tls_err("kubernetes.io/tls", "rsa.crt",
	               "=-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----\n",
	               "invalid TLS private key: failed to parse PEM block");
	expect_tls_err("kubernetes.io/tls", "rsa.crt",
	               "=-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n",
	               "invalid TLS private key: x509: failed to parse private key");
	expect_tls_err("kubernetes.io/tls", "rsa.crt",
	               "=-----BEGIN EC PRIVATE KEY-----\nMAMCAQA=\n-----END EC PRIVATE KEY-----\n",
	               "invalid TLS private key: x509: failed to parse EC private key");
}
END_TEST

START_TEST(secret_tls_pkcs8_in_rsa_block)
{
	/* Go's ParsePKCS1PrivateKey refuses a PKCS#8 body under an
	 * "RSA PRIVATE KEY" header; so do we. */
	char *key = fixtures("rsa.key");
	char *p = strstr(key, "-----BEGIN PRIVATE KEY-----");
	char *e = strstr(key, "-----END PRIVATE KEY-----");
	ck_assert(p && e);
	char *body = strndup(p + strlen("-----BEGIN PRIVATE KEY-----"),
	                     (size_t)(e - p) - strlen("-----BEGIN PRIVATE KEY-----"));
	char *text = malloc(strlen(body) + 128);
	sprintf(text, "=-----BEGIN RSA PRIVATE KEY-----%s-----END RSA PRIVATE KEY-----\n", body);
	expect_tls_err("kubernetes.io/tls", "rsa.crt", text,
	               "invalid TLS private key: x509: failed to parse private key");
	free(key);
	free(body);
	free(text);
}
END_TEST

START_TEST(secret_tls_key_mismatch)
{
	expect_tls_err("kubernetes.io/tls", "rsa.crt", "other.key",
	               "invalid TLS private key: private key does not match public key");
	expect_tls_err("kubernetes.io/tls", "rsa.crt", "ec.key",
	               "invalid TLS private key: private key does not match public key");
	expect_tls_err("kubernetes.io/tls", "ec.crt", "nocn.key",
	               "invalid TLS private key: private key does not match public key");
}
END_TEST

START_TEST(secret_string_data)
{
	char *crt = fixtures("rsa.crt"), *key = fixtures("rsa.key");
	put(json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s}, s:{s:s}}", "apiVersion", "v1", "kind",
	              "Secret", "type", "kubernetes.io/tls", "metadata", "namespace", "ns", "name",
	              "sd", "data", "tls.crt", "bm90IGEgY2VydA==", "stringData", "tls.crt", crt));
	/* stringData wins over data; the key is missing altogether. */
	expect_secret_err("sd", CONTOUR_DAG_SECRET_TLS, CONTOUR_EINVAL, "missing TLS private key");
	put(json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
	              "Secret", "type", "kubernetes.io/tls", "metadata", "namespace", "ns", "name",
	              "sd", "stringData", "tls.crt", crt, "tls.key", key));
	expect_tls_ok("sd", "rsa.crt", "rsa.key");
	free(crt);
	free(key);
}
END_TEST

START_TEST(secret_bad_base64)
{
	put(json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
	              "Secret", "type", "kubernetes.io/tls", "metadata", "namespace", "ns", "name",
	              "b", "data", "tls.crt", "QUJD*", "tls.key", "QUJD"));
	expect_secret_err("b", CONTOUR_DAG_SECRET_TLS, CONTOUR_EINVAL,
	                  "data \"tls.crt\" is not valid base64");
}
END_TEST

/* Secrets: CA and CRL. */

START_TEST(secret_ca)
{
	put(secret_obj("ns", "ca", "Opaque", "ca.crt", "ca.crt+rsa.crt", NULL, NULL));
	contour_dag_secret_t *s = NULL;
	ck_assert_msg(lookup("ca", CONTOUR_DAG_SECRET_CA, &s) == CONTOUR_EOK, "%s", err);
	char *want = fixtures("ca.crt+rsa.crt");
	ck_assert_str_eq(s->ca, want);
	ck_assert_int_eq(s->type, CONTOUR_DAG_SECRET_CA);
	ck_assert_ptr_null(s->cert);
	ck_assert_ptr_null(s->key);
	free(want);
	/* The same Secret is no TLS secret. */
	expect_secret_err("ca", CONTOUR_DAG_SECRET_TLS, CONTOUR_EINVAL, "missing TLS certificate");
	/* And a TLS secret with a ca.crt is also a CA secret. */
	put(secret_obj("ns", "both", "kubernetes.io/tls", "tls.crt", "rsa.crt", "ca.crt",
	               "ca.crt"));
	ck_assert_msg(lookup("both", CONTOUR_DAG_SECRET_CA, &s) == CONTOUR_EOK, "%s", err);
}
END_TEST

START_TEST(secret_ca_errors)
{
	put(secret_obj("ns", "c", "Opaque", "other", "ca.crt", NULL, NULL));
	expect_secret_err("c", CONTOUR_DAG_SECRET_CA, CONTOUR_EINVAL, "empty \"ca.crt\" key");
	put(secret_obj("ns", "c", "Opaque", "ca.crt", "=", NULL, NULL));
	expect_secret_err("c", CONTOUR_DAG_SECRET_CA, CONTOUR_EINVAL, "empty \"ca.crt\" key");
	put(secret_obj("ns", "c", "kubernetes.io/dockercfg", "ca.crt", "ca.crt", NULL, NULL));
	expect_secret_err("c", CONTOUR_DAG_SECRET_CA, CONTOUR_EINVAL, TYPE_ERR);
	put(secret_obj("ns", "c", "Opaque", "ca.crt", "=junk", NULL, NULL));
	expect_secret_err("c", CONTOUR_DAG_SECRET_CA, CONTOUR_EINVAL,
	                  "invalid CA certificate bundle: failed to locate certificate");
	put(secret_obj("ns", "c", "Opaque", "ca.crt", "ca.crt+rsa.key", NULL, NULL));
	expect_secret_err("c", CONTOUR_DAG_SECRET_CA, CONTOUR_EINVAL,
	                  "invalid CA certificate bundle: unexpected block type 'PRIVATE KEY'");
	put(secret_obj("ns", "c", "Opaque", "ca.crt",
	               "=-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----\n", NULL,
	               NULL));
	expect_secret_err("c", CONTOUR_DAG_SECRET_CA, CONTOUR_EINVAL,
	                  "invalid CA certificate bundle: failed to parse PEM block");
}
END_TEST

START_TEST(secret_crl)
{
	put(secret_obj("ns", "crl", "Opaque", "crl.pem", "ca.crt+crl.pem", NULL, NULL));
	contour_dag_secret_t *s = NULL;
	ck_assert_msg(lookup("crl", CONTOUR_DAG_SECRET_CRL, &s) == CONTOUR_EOK, "%s", err);
	char *want = fixtures("ca.crt+crl.pem");
	ck_assert_str_eq(s->crl, want);
	ck_assert_int_eq(s->type, CONTOUR_DAG_SECRET_CRL);
	free(want);
}
END_TEST

START_TEST(secret_crl_errors)
{
	put(secret_obj("ns", "c", "Opaque", "ca.crt", "ca.crt", NULL, NULL));
	expect_secret_err("c", CONTOUR_DAG_SECRET_CRL, CONTOUR_EINVAL, "empty \"crl.pem\" key");
	put(secret_obj("ns", "c", "Opaque", "crl.pem", "ca.crt", NULL, NULL));
	expect_secret_err("c", CONTOUR_DAG_SECRET_CRL, CONTOUR_EINVAL, "failed to locate CRL");
	put(secret_obj("ns", "c", "Opaque", "crl.pem",
	               "=-----BEGIN X509 CRL-----\n@@@\n-----END X509 CRL-----\n", NULL, NULL));
	expect_secret_err("c", CONTOUR_DAG_SECRET_CRL, CONTOUR_EINVAL, "failed to parse PEM block");
	put(secret_obj("ns", "c", "bootstrap.kubernetes.io/token", "crl.pem", "crl.pem", NULL,
	               NULL));
	expect_secret_err("c", CONTOUR_DAG_SECRET_CRL, CONTOUR_EINVAL, TYPE_ERR);
}
END_TEST

/* Caching. */

START_TEST(secret_interned_per_build)
{
	put_tls("rsa", "kubernetes.io/tls", "rsa.crt", "rsa.key");
	contour_dag_secret_t *a = NULL, *b = NULL;
	ck_assert_int_eq(lookup("rsa", CONTOUR_DAG_SECRET_TLS, &a), CONTOUR_EOK);
	ck_assert_uint_eq(core_secret_cache_validations(core), 1);
	ck_assert_int_eq(lookup("rsa", CONTOUR_DAG_SECRET_TLS, &b), CONTOUR_EOK);
	ck_assert_ptr_eq(a, b);
	ck_assert_ptr_eq(core_dag_secret_get(dag, CONTOUR_DAG_SECRET_TLS, "ns", "rsa"), a);
	ck_assert_uint_eq(core_secret_cache_validations(core), 1);
}
END_TEST

START_TEST(secret_cached_across_builds)
{
	put_tls("rsa", "kubernetes.io/tls", "rsa.crt", "rsa.key");
	put_tls("bad", "kubernetes.io/tls", "rsa.crt", "other.key");
	contour_dag_secret_t *a = NULL, *b = NULL;
	ck_assert_int_eq(lookup("rsa", CONTOUR_DAG_SECRET_TLS, &a), CONTOUR_EOK);
	ck_assert_int_eq(lookup("bad", CONTOUR_DAG_SECRET_TLS, &b), CONTOUR_EINVAL);
	ck_assert_int_eq(lookup("bad", CONTOUR_DAG_SECRET_TLS, &b), CONTOUR_EINVAL);
	ck_assert_uint_eq(core_secret_cache_validations(core), 2);

	next_build();
	ck_assert_int_eq(lookup("rsa", CONTOUR_DAG_SECRET_TLS, &b), CONTOUR_EOK);
	ck_assert_ptr_eq(core_dag_secret_get(dag, CONTOUR_DAG_SECRET_TLS, "ns", "rsa"), b);
	ck_assert_str_eq(b->name, "rsa");
	char *c = fixtures("rsa.crt");
	ck_assert_str_eq(b->cert, c);
	free(c);
	expect_secret_err("bad", CONTOUR_DAG_SECRET_TLS, CONTOUR_EINVAL,
	                  "invalid TLS private key: private key does not match public key");
	ck_assert_uint_eq(core_secret_cache_validations(core), 2);
	/* Another type of the same object is a separate validation. */
	expect_secret_err("rsa", CONTOUR_DAG_SECRET_CA, CONTOUR_EINVAL, "empty \"ca.crt\" key");
	ck_assert_uint_eq(core_secret_cache_validations(core), 3);
}
END_TEST

START_TEST(secret_changed_revalidated)
{
	put_tls("s", "kubernetes.io/tls", "rsa.crt", "rsa.key");
	contour_dag_secret_t *a = NULL;
	ck_assert_int_eq(lookup("s", CONTOUR_DAG_SECRET_TLS, &a), CONTOUR_EOK);
	ck_assert_uint_eq(core_secret_cache_validations(core), 1);

	/* Replaced by an invalid one: the next build sees it. */
	next_build();
	put_tls("s", "kubernetes.io/tls", "rsa.crt", "ec.key");
	expect_secret_err("s", CONTOUR_DAG_SECRET_TLS, CONTOUR_EINVAL,
	                  "invalid TLS private key: private key does not match public key");
	ck_assert_uint_eq(core_secret_cache_validations(core), 2);

	/* Fixed again, with other content. */
	next_build();
	put_tls("s", "kubernetes.io/tls", "ec.crt", "ec.key");
	expect_tls_ok("s", "ec.crt", "ec.key");
	ck_assert_uint_eq(core_secret_cache_validations(core), 3);

	/* Putting an equal object changes nothing in the store: no revalidation. */
	next_build();
	put_tls("s", "kubernetes.io/tls", "ec.crt", "ec.key");
	expect_tls_ok("s", "ec.crt", "ec.key");
	ck_assert_uint_eq(core_secret_cache_validations(core), 3);

	/* Deleted. */
	next_build();
	contour_object_key_t k = {"v1", "Secret", "ns", "s"};
	ck_assert_int_eq(contour_store_delete(src, &k), CONTOUR_EOK);
	expect_secret_err("s", CONTOUR_DAG_SECRET_TLS, CONTOUR_ENOENT, "Secret not found");
}
END_TEST

/* The pipeline's build: the processor looks up whatever `want` names. */
static const char *want;
static int lookup_proc(contour_snapshot_t *building, void *ud)
{
	contour_dag_secret_t *s;
	contour_dag_lookup_secret(&m, contour_snapshot_dag(building), "ns", want,
	                          CONTOUR_DAG_SECRET_TLS, &s, err, sizeof(err));
	return CONTOUR_EOK;
}

START_TEST(secret_cache_drops_deleted)
{
	ck_assert_int_eq(
	    contour_register_processor(&m, "lookup", CONTOUR_ORDER_PRIMARY, lookup_proc, NULL),
	    CONTOUR_EOK);
	contour_source_set_synced(src);
	json_t *obj =
	    secret_obj("ns", "gone", "kubernetes.io/tls", "rsa.crt", "rsa.key", NULL, NULL);
	put_tls("keep", "kubernetes.io/tls", "rsa.crt", "rsa.key");
	json_incref(obj); /* ours, to watch the count */
	put(obj);
	want = "gone";
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	ck_assert_uint_eq(core_secret_cache_validations(core), 1);
	ck_assert_uint_eq(obj->refcount, 3); /* ours, the store's, the cache's */

	contour_object_key_t k = {"v1", "Secret", "ns", "gone"};
	ck_assert_int_eq(contour_store_delete(src, &k), CONTOUR_EOK);
	ck_assert_uint_eq(obj->refcount, 2);
	/* The next build that looks anything up sweeps the cache. */
	want = "keep";
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	ck_assert_uint_eq(obj->refcount, 1);
	ck_assert_uint_eq(core_secret_cache_validations(core), 2);
	json_decref(obj);
}
END_TEST

/* Delegation. */

START_TEST(delegation_rules)
{
	ck_assert_int_eq(contour_dag_delegate(dag, "certs", "wild", "app"), CONTOUR_EOK);
	ck_assert_int_eq(contour_dag_delegate(dag, "certs", "wild", "web"), CONTOUR_EOK);
	ck_assert_int_eq(contour_dag_delegate(dag, "certs", "any", "*"), CONTOUR_EOK);
	/* Same namespace: always. */
	ck_assert(contour_dag_delegation_permitted(dag, "app", "own", "app"));
	/* Delegated by name to a namespace. */
	ck_assert(contour_dag_delegation_permitted(dag, "certs", "wild", "app"));
	ck_assert(contour_dag_delegation_permitted(dag, "certs", "wild", "web"));
	ck_assert(!contour_dag_delegation_permitted(dag, "certs", "wild", "other"));
	/* Delegated to every namespace. */
	ck_assert(contour_dag_delegation_permitted(dag, "certs", "any", "other"));
	/* Not delegated: other Secret, or same name in another namespace. */
	ck_assert(!contour_dag_delegation_permitted(dag, "certs", "private", "app"));
	ck_assert(!contour_dag_delegation_permitted(dag, "elsewhere", "wild", "app"));
}
END_TEST

/* The pure checks, without the store. */

START_TEST(base64_go_rules)
{
	unsigned char *out;
	size_t n;
	ck_assert_int_eq(core_secret_base64_decode("QUJD", 4, &out, &n), CONTOUR_EOK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq((char *)out, "ABC");
	free(out);
	ck_assert_int_eq(core_secret_base64_decode("QU\r\nI=\n", 7, &out, &n), CONTOUR_EOK);
	ck_assert_str_eq((char *)out, "AB");
	free(out);
	ck_assert_int_eq(core_secret_base64_decode("QQ==", 4, &out, &n), CONTOUR_EOK);
	ck_assert_uint_eq(n, 1);
	free(out);
	ck_assert_int_eq(core_secret_base64_decode("", 0, &out, &n), CONTOUR_EOK);
	ck_assert_uint_eq(n, 0);
	free(out);
	static const char *const bad[] = {"QUJ", "QQ=", "QQ==QUJD", "Q===", "QUJD ", "=AAA"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(core_secret_base64_decode(bad[i], strlen(bad[i]), &out, &n) ==
		                  CONTOUR_EINVAL,
		              "%s", bad[i]);
}
END_TEST

START_TEST(pem_go_rules)
{
	/* encoding/pem skips a malformed block (no matching END) and reads the
	 * next good one, where OpenSSL would stop. */
	char *crt = fixtures("ec.crt"), *key = fixtures("ec.key");
	char *text = malloc(strlen(crt) + 128);
	sprintf(text, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END FOO-----\n%s", crt);
	ck_assert_int_eq(core_secret_check_tls("Opaque", (unsigned char *)text, strlen(text),
	                                       (unsigned char *)key, strlen(key), err, sizeof(err)),
	                 CONTOUR_EOK);
	/* Headers before the body are allowed. */
	sprintf(text, "-----BEGIN CERTIFICATE-----\nProc-Type: 4,x\n\n%s",
	        crt + strlen("-----BEGIN CERTIFICATE-----\n"));
	ck_assert_int_eq(core_secret_check_tls("Opaque", (unsigned char *)text, strlen(text),
	                                       (unsigned char *)key, strlen(key), err, sizeof(err)),
	                 CONTOUR_EOK);
	/* upstream's containsPEMHeader looks for a line break in a span that
	 * ends at the offset of "-----" counted from after "-----BEGIN": here
	 * the break falls outside it, so this counts as a (broken) block... */
	const char *h1 = "-----BEGIN\n-----";
	ck_assert_int_eq(
	    core_secret_check_ca("Opaque", (const unsigned char *)h1, strlen(h1), err, sizeof(err)),
	    CONTOUR_EINVAL);
	ck_assert_str_eq(err, "invalid CA certificate bundle: failed to parse PEM block");
	/* ...and here inside it, so there is no block at all. */
	const char *h2 = "-----BEGIN\nAAAAAAAAAAAA-----";
	ck_assert_int_eq(
	    core_secret_check_ca("Opaque", (const unsigned char *)h2, strlen(h2), err, sizeof(err)),
	    CONTOUR_EINVAL);
	ck_assert_str_eq(err, "invalid CA certificate bundle: failed to locate certificate");
	free(crt);
	free(key);
	free(text);
}
END_TEST

static Suite *lookup_suite(void)
{
	Suite *s = suite_create("lookup");
	TCase *tc = tcase_create("service");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, service_not_found);
	tcase_add_test(tc, service_port_by_number);
	tcase_add_test(tc, service_port_by_name);
	tcase_add_test(tc, service_unnamed_port);
	tcase_add_test(tc, service_port_not_matched);
	tcase_add_test(tc, service_udp);
	tcase_add_test(tc, service_protocol_annotations);
	tcase_add_test(tc, service_protocol_precedence);
	tcase_add_test(tc, service_app_protocol_https);
	tcase_add_test(tc, service_breakers);
	tcase_add_test(tc, service_breakers_unparsable);
	tcase_add_test(tc, service_external_name_disabled);
	tcase_add_test(tc, service_external_name_enabled);
	tcase_add_test(tc, service_external_name_localhost);
	tcase_add_test(tc, service_external_name_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("secret");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, secret_not_found);
	tcase_add_test(tc, secret_tls_rsa);
	tcase_add_test(tc, secret_tls_ecdsa);
	tcase_add_test(tc, secret_tls_opaque);
	tcase_add_test(tc, secret_tls_wrong_type);
	tcase_add_test(tc, secret_tls_missing);
	tcase_add_test(tc, secret_tls_bad_certificate);
	tcase_add_test(tc, secret_tls_trailing_text);
	tcase_add_test(tc, secret_tls_bad_key);
	tcase_add_test(tc, secret_tls_pkcs8_in_rsa_block);
	tcase_add_test(tc, secret_tls_key_mismatch);
	tcase_add_test(tc, secret_string_data);
	tcase_add_test(tc, secret_bad_base64);
	tcase_add_test(tc, secret_ca);
	tcase_add_test(tc, secret_ca_errors);
	tcase_add_test(tc, secret_crl);
	tcase_add_test(tc, secret_crl_errors);
	tcase_add_test(tc, base64_go_rules);
	tcase_add_test(tc, pem_go_rules);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, secret_interned_per_build);
	tcase_add_test(tc, secret_cached_across_builds);
	tcase_add_test(tc, secret_changed_revalidated);
	tcase_add_test(tc, secret_cache_drops_deleted);
	suite_add_tcase(s, tc);

	tc = tcase_create("delegation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, delegation_rules);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(lookup_suite());
}
