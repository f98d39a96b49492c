/* tests/unit/check_kw_certgen.c: what `contour certgen` issues and writes
 * (modules/k8s-watch/kw_certs.c, kw_certgen_out.c): the SANs for a
 * namespace, issuer and basic constraints, key usages, validity, keys that
 * match their certificates, chains that verify against their CA and not
 * against another, the webhook certificate; the Secrets of both formats,
 * name validation, the YAML and Go's path.Join. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tests/unit/testutil.h"
#include "modules/k8s-watch/kw_certgen.h"

static X509 *pem_cert(const char *pem)
{
	ck_assert_ptr_nonnull(pem);
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	ck_assert_ptr_nonnull(x);
	return x;
}

static EVP_PKEY *pem_key(const char *pem)
{
	ck_assert_ptr_nonnull(pem);
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	ck_assert_ptr_nonnull(k);
	return k;
}

static void generate(kw_certs_t *c, const char *ns, unsigned long days, const char *webhook,
                     time_t now)
{
	char err[256] = "";
	kw_certs_opts_t o = {
	    .namespace_ = ns, .lifetime_days = days, .webhook_service = webhook, .now = now};
	int rc = kw_certs_generate(&o, c, err, sizeof(err));
	ck_assert_msg(rc == CONTOUR_EOK, "kw_certs_generate: %d %s", rc, err);
}

/* The DNS SANs, ", "-joined; "" when there is no SAN extension; fails on
 * any other kind of name. */
static const char *sans_of(X509 *x)
{
	static char buf[2048];
	buf[0] = '\0';
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		ck_assert_int_eq(g->type, GEN_DNS);
		size_t used = strlen(buf);
		snprintf(buf + used, sizeof(buf) - used, "%s%s", i ? ", " : "",
		         (const char *)ASN1_STRING_get0_data(g->d.dNSName));
	}
	GENERAL_NAMES_free(names);
	return buf;
}

static const char *cn_of(const X509_NAME *n)
{
	static char buf[256];
	buf[0] = '\0';
	X509_NAME_get_text_by_NID((X509_NAME *)n, NID_commonName, buf, sizeof(buf));
	return buf;
}

START_TEST(sans_for_namespace)
{
	kw_certs_t c;
	generate(&c, "team-a", 0, NULL, 0);
	X509 *contour = pem_cert(c.contour.cert), *envoy = pem_cert(c.envoy.cert);
	X509 *ca = pem_cert(c.ca.cert);
	ck_assert_str_eq(sans_of(contour), "contour, contour.team-a, contour.team-a.svc, "
	                                   "contour.team-a.svc.cluster.local");
	ck_assert_str_eq(sans_of(envoy),
	                 "envoy, envoy.team-a, envoy.team-a.svc, envoy.team-a.svc.cluster.local");
	ck_assert_str_eq(sans_of(ca), "");
	ck_assert_str_eq(cn_of(X509_get_subject_name(contour)), "contour");
	ck_assert_str_eq(cn_of(X509_get_subject_name(envoy)), "envoy");
	ck_assert_str_eq(cn_of(X509_get_subject_name(ca)), "Project Contour");
	ck_assert_ptr_null(c.webhook.cert);
	ck_assert_ptr_null(c.webhook.key);
	X509_free(contour);
	X509_free(envoy);
	X509_free(ca);
	kw_certs_fini(&c);

	/* A namespace is a name, never SAN syntax: one SAN each. */
	generate(&c, "a,DNS:evil.example.com,IP:10.0.0.1", 0, NULL, 0);
	envoy = pem_cert(c.envoy.cert);
	ck_assert_str_eq(sans_of(envoy),
	                 "envoy, envoy.a,DNS:evil.example.com,IP:10.0.0.1, "
	                 "envoy.a,DNS:evil.example.com,IP:10.0.0.1.svc, "
	                 "envoy.a,DNS:evil.example.com,IP:10.0.0.1.svc.cluster.local");
	X509_free(envoy);
	kw_certs_fini(&c);
	char err[256];
	kw_certs_opts_t o = {.namespace_ = "bad ns"};
	ck_assert_int_eq(kw_certs_generate(&o, &c, err, sizeof(err)), CONTOUR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "printable ASCII"));

	/* No namespace: upstream's default. */
	generate(&c, NULL, 0, NULL, 0);
	contour = pem_cert(c.contour.cert);
	ck_assert_str_eq(sans_of(contour),
	                 "contour, contour.projectcontour, contour.projectcontour.svc, "
	                 "contour.projectcontour.svc.cluster.local");
	X509_free(contour);
	kw_certs_fini(&c);
}
END_TEST

/* SHA-1 of the modulus, as upstream's bigIntHash. */
static void modulus_sha1(X509 *x, unsigned char md[20])
{
	BIGNUM *n = NULL;
	unsigned char buf[600];
	unsigned int len = 0;
	ck_assert(EVP_PKEY_get_bn_param(X509_get0_pubkey(x), OSSL_PKEY_PARAM_RSA_N, &n));
	int bl = BN_bn2bin(n, buf);
	ck_assert(EVP_Digest(buf, (size_t)bl, md, &len, EVP_sha1(), NULL));
	ck_assert_uint_eq(len, 20);
	BN_free(n);
}

START_TEST(issuer_constraints_usages)
{
	kw_certs_t c;
	generate(&c, "projectcontour", 0, "contour-webhook", 0);
	X509 *ca = pem_cert(c.ca.cert);
	const char *leaves[] = {c.contour.cert, c.envoy.cert, c.webhook.cert};
	unsigned char md[20];

	/* The CA: self-issued, CA:TRUE (critical), may sign certificates. */
	ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(ca), X509_get_issuer_name(ca)), 0);
	ck_assert_int_eq(X509_check_issued(ca, ca), X509_V_OK);
	ck_assert(X509_get_extension_flags(ca) & EXFLAG_CA);
	int idx = X509_get_ext_by_NID(ca, NID_basic_constraints, -1);
	ck_assert_int_ge(idx, 0);
	ck_assert_int_eq(X509_EXTENSION_get_critical(X509_get_ext(ca, idx)), 1);
	ck_assert_uint_eq(X509_get_key_usage(ca),
	                  KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_CERT_SIGN);
	idx = X509_get_ext_by_NID(ca, NID_key_usage, -1);
	ck_assert_int_eq(X509_EXTENSION_get_critical(X509_get_ext(ca, idx)), 1);
	/* serial = subject serialNumber, the nanosecond of the second */
	char sn[64] = "";
	X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_serialNumber, sn, sizeof(sn));
	int64_t serial = 0;
	ck_assert(ASN1_INTEGER_get_int64(&serial, X509_get0_serialNumber(ca)));
	ck_assert_int_gt(serial, 0);
	ck_assert_int_lt(serial, 1000000000);
	char want[64];
	snprintf(want, sizeof(want), "%lld", (long long)serial);
	ck_assert_str_eq(sn, want);
	modulus_sha1(ca, md);
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca);
	ck_assert_ptr_nonnull(ski);
	ck_assert_int_eq(ASN1_STRING_length(ski), 20);
	ck_assert_mem_eq(ASN1_STRING_get0_data(ski), md, 20);

	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		X509 *x = pem_cert(leaves[i]);
		ck_assert_int_eq(X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(ca)),
		                 0);
		ck_assert_int_eq(X509_check_issued(ca, x), X509_V_OK);
		ck_assert_int_eq(X509_check_ca(x), 0);
		ck_assert(!(X509_get_extension_flags(x) & EXFLAG_CA));
		ck_assert_int_lt(X509_get_ext_by_NID(x, NID_basic_constraints, -1), 0);
		ck_assert_int_lt(X509_get_ext_by_NID(x, NID_ext_key_usage, -1), 0);
		ck_assert_uint_eq(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION |
		                                             KU_KEY_ENCIPHERMENT |
		                                             KU_DATA_ENCIPHERMENT);
		/* authorityKeyIdentifier = the CA's subjectKeyIdentifier */
		const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
		ck_assert_ptr_nonnull(aki);
		ck_assert_int_eq(ASN1_STRING_cmp(aki, ski), 0);
		modulus_sha1(x, md);
		ck_assert_mem_eq(ASN1_STRING_get0_data(X509_get0_subject_key_id(x)), md, 20);
		ck_assert_int_eq(X509_get_signature_nid(x), NID_sha256WithRSAEncryption);
		ck_assert_int_eq(X509_get_version(x), 2);
		X509_free(x);
	}
	X509_free(ca);
	kw_certs_fini(&c);
}
END_TEST

static void check_validity(X509 *x, time_t now, unsigned long days)
{
	int d = 0, s = 0;
	ASN1_TIME *t = ASN1_TIME_set(NULL, now);
	ck_assert(ASN1_TIME_diff(&d, &s, t, X509_get0_notAfter(x)));
	ck_assert_int_eq(d, (int)days);
	ck_assert_int_eq(s, 0);
	ck_assert(ASN1_TIME_diff(&d, &s, t, X509_get0_notBefore(x)));
	ck_assert_int_eq(d, -1);
	ck_assert_int_eq(s, 0);
	ASN1_TIME_free(t);
}

START_TEST(validity_is_lifetime)
{
	const time_t now = 1800000000; /* 2027-01-15 */
	const unsigned long cases[][2] = {{30, 30}, {0, 365}, {365, 365}, {36500, 36500}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kw_certs_t c;
		generate(&c, "ns", cases[i][0], "hook", now);
		const char *all[] = {c.ca.cert, c.contour.cert, c.envoy.cert, c.webhook.cert};
		for (size_t j = 0; j < 4; j++) {
			X509 *x = pem_cert(all[j]);
			check_validity(x, now, cases[i][1]);
			X509_free(x);
		}
		kw_certs_fini(&c);
	}
	/* Past the year 9999 is refused. */
	kw_certs_t c;
	char err[256] = "";
	kw_certs_opts_t o = {.lifetime_days = 3000000, .now = now};
	ck_assert_int_eq(kw_certs_generate(&o, &c, err, sizeof(err)), CONTOUR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "3000000 days"));
	ck_assert_ptr_null(c.ca.cert);
}
END_TEST

START_TEST(keys_match)
{
	kw_certs_t c, other;
	generate(&c, "ns", 0, "hook", 0);
	generate(&other, "ns", 0, NULL, 0);
	const kw_pem_pair_t *pairs[] = {&c.ca, &c.contour, &c.envoy, &c.webhook};
	for (size_t i = 0; i < 4; i++) {
		ck_assert(!strncmp(pairs[i]->key, "-----BEGIN RSA PRIVATE KEY-----\n", 32));
		ck_assert(!strncmp(pairs[i]->cert, "-----BEGIN CERTIFICATE-----\n", 28));
		X509 *x = pem_cert(pairs[i]->cert);
		EVP_PKEY *k = pem_key(pairs[i]->key);
		ck_assert_int_eq(EVP_PKEY_get_base_id(k), EVP_PKEY_RSA);
		ck_assert_int_eq(EVP_PKEY_get_bits(k), 2048);
		ck_assert_int_eq(X509_check_private_key(x, k), 1);
		EVP_PKEY *wrong = pem_key(other.envoy.key);
		ck_assert_int_eq(X509_check_private_key(x, wrong), 0);
		EVP_PKEY_free(wrong);
		EVP_PKEY_free(k);
		X509_free(x);
	}
	/* every key is a new one */
	ck_assert_str_ne(c.contour.key, c.envoy.key);
	ck_assert_str_ne(c.ca.key, c.contour.key);
	kw_certs_fini(&other);
	kw_certs_fini(&c);
}
END_TEST

/* X509_verify_cert of leaf against a store holding only ca. */
static int verify(const char *ca_pem, const char *leaf_pem, int *error)
{
	X509 *ca = pem_cert(ca_pem), *leaf = pem_cert(leaf_pem);
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	ck_assert(X509_STORE_add_cert(store, ca));
	ck_assert(X509_STORE_CTX_init(ctx, store, leaf, NULL));
	int ok = X509_verify_cert(ctx);
	*error = X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	X509_free(leaf);
	X509_free(ca);
	return ok;
}

START_TEST(chains_verify)
{
	kw_certs_t c, other;
	int e;
	generate(&c, "projectcontour", 0, "contour-webhook", 0);
	generate(&other, "projectcontour", 0, "contour-webhook", 0);
	const char *leaves[] = {c.contour.cert, c.envoy.cert, c.webhook.cert};
	for (size_t i = 0; i < 3; i++) {
		ck_assert_msg(verify(c.ca.cert, leaves[i], &e) == 1, "leaf %zu: %s", i,
		              X509_verify_cert_error_string(e));
		ck_assert_int_ne(verify(other.ca.cert, leaves[i], &e), 1);
		ck_assert_int_eq(e, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	}
	/* The same subject on both CAs: only the key tells them apart. */
	ck_assert_int_ne(verify(c.ca.cert, other.envoy.cert, &e), 1);
	ck_assert_int_eq(verify(other.ca.cert, other.envoy.cert, &e), 1);
	kw_certs_fini(&other);
	kw_certs_fini(&c);
}
END_TEST

START_TEST(webhook_certificate)
{
	kw_certs_t c;
	generate(&c, "team-b", 0, "contour-webhook", 0);
	X509 *x = pem_cert(c.webhook.cert);
	ck_assert_str_eq(sans_of(x), "contour-webhook, contour-webhook.team-b, "
	                             "contour-webhook.team-b.svc, "
	                             "contour-webhook.team-b.svc.cluster.local");
	ck_assert_str_eq(cn_of(X509_get_subject_name(x)), "contour-webhook");
	/* a serving certificate for exactly those names */
	ck_assert_int_eq(X509_check_host(x, "contour-webhook.team-b.svc", 0, 0, NULL), 1);
	ck_assert_int_ne(X509_check_host(x, "contour.team-b.svc", 0, 0, NULL), 1);
	X509_free(x);
	kw_certs_fini(&c);
}
END_TEST

/* ---- Secrets, names, YAML, paths ---- */

static const json_t *secret_named(const json_t *list, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach((json_t *)list, i, s)
	{
		const char *n =
		    json_string_value(json_object_get(json_object_get(s, "metadata"), "name"));
		if (n && !strcmp(n, name))
			return s;
	}
	ck_abort_msg("no Secret %s", name);
	return NULL;
}

/* data[key], base64-decoded, equals want. */
static void data_is(const json_t *s, const char *key, const char *want)
{
	const char *b64 = json_string_value(json_object_get(json_object_get(s, "data"), key));
	ck_assert_msg(b64 != NULL, "no data[%s]", key);
	char *got = kw_conn_base64(b64);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
}

static void common_fields(const json_t *s, const char *ns, const char *type, size_t ndata)
{
	ck_assert_str_eq(json_string_value(json_object_get(s, "apiVersion")), "v1");
	ck_assert_str_eq(json_string_value(json_object_get(s, "kind")), "Secret");
	ck_assert_str_eq(json_string_value(json_object_get(s, "type")), type);
	const json_t *md = json_object_get(s, "metadata");
	ck_assert_str_eq(json_string_value(json_object_get(md, "namespace")), ns);
	const json_t *labels = json_object_get(md, "labels");
	ck_assert_int_eq(json_object_size(labels), 1);
	ck_assert_str_eq(json_string_value(json_object_get(labels, "app")), "contour");
	ck_assert_uint_eq(json_object_size(json_object_get(s, "data")), ndata);
}

START_TEST(secrets_legacy_and_compact)
{
	kw_certs_t c;
	generate(&c, "ns1", 0, NULL, 0);
	json_t *legacy = kw_certgen_secrets(&c, KW_SECRETS_LEGACY, "ns1", "");
	ck_assert_uint_eq(json_array_size(legacy), 3);
	const json_t *s = secret_named(legacy, "contourcert");
	ck_assert_ptr_eq(s, json_array_get(legacy, 0));
	common_fields(s, "ns1", "kubernetes.io/tls", 2);
	data_is(s, "tls.crt", c.contour.cert);
	data_is(s, "tls.key", c.contour.key);
	s = secret_named(legacy, "envoycert");
	common_fields(s, "ns1", "kubernetes.io/tls", 2);
	data_is(s, "tls.crt", c.envoy.cert);
	data_is(s, "tls.key", c.envoy.key);
	s = secret_named(legacy, "cacert");
	common_fields(s, "ns1", "Opaque", 1);
	data_is(s, "cacert.pem", c.ca.cert);
	json_decref(legacy);

	json_t *compact = kw_certgen_secrets(&c, KW_SECRETS_COMPACT, "ns1", "-v2");
	ck_assert_uint_eq(json_array_size(compact), 2);
	s = secret_named(compact, "contourcert-v2");
	common_fields(s, "ns1", "kubernetes.io/tls", 3);
	data_is(s, "ca.crt", c.ca.cert);
	data_is(s, "tls.crt", c.contour.cert);
	s = secret_named(compact, "envoycert-v2");
	common_fields(s, "ns1", "kubernetes.io/tls", 3);
	data_is(s, "ca.crt", c.ca.cert);
	data_is(s, "tls.key", c.envoy.key);
	json_decref(compact);
	kw_certs_fini(&c);

	/* The webhook's Secret: last, TLS with ca.crt, in both formats. */
	generate(&c, "ns1", 0, "hook", 0);
	for (int f = 0; f < 2; f++) {
		json_t *l = kw_certgen_secrets(&c, f, "ns1", "-x");
		ck_assert_uint_eq(json_array_size(l), f == KW_SECRETS_LEGACY ? 4 : 3);
		s = secret_named(l, "webhookcert-x");
		ck_assert_ptr_eq(s, json_array_get(l, json_array_size(l) - 1));
		common_fields(s, "ns1", "kubernetes.io/tls", 3);
		data_is(s, "ca.crt", c.ca.cert);
		data_is(s, "tls.crt", c.webhook.cert);
		data_is(s, "tls.key", c.webhook.key);
		json_decref(l);
	}
	kw_certs_fini(&c);
}
END_TEST

START_TEST(names_validated)
{
	char err[2048];
	ck_assert_int_eq(kw_certgen_validate_names("projectcontour", "", err, sizeof(err)), 0);
	ck_assert_int_eq(kw_certgen_validate_names("a-1", "-x.y", err, sizeof(err)), 0);
	ck_assert_int_eq(kw_certgen_validate_names("Bad_NS", "", err, sizeof(err)), CONTOUR_EINVAL);
	ck_assert_str_eq(err, "invalid namespace name \"Bad_NS\": a lowercase RFC 1123 label must "
	                      "consist of lower case alphanumeric characters or '-', and must "
	                      "start and end with an alphanumeric character (e.g. 'my-name', or "
	                      "'123-abc', regex used for validation is "
	                      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
	ck_assert_int_eq(kw_certgen_validate_names("a.b", "", err, sizeof(err)), CONTOUR_EINVAL);
	ck_assert_str_eq(err, "invalid namespace name \"a.b\": must not contain dots");
	ck_assert_int_eq(kw_certgen_validate_names("ns", "_X", err, sizeof(err)), CONTOUR_EINVAL);
	ck_assert(!strncmp(err,
	                   "invalid secret name \"contourcert_X\": a lowercase RFC 1123 "
	                   "subdomain",
	                   62));
	ck_assert_int_eq(kw_certgen_validate_names("ns", "-", err, sizeof(err)), CONTOUR_EINVAL);
	char longns[80];
	memset(longns, 'a', 64);
	longns[64] = '\0';
	ck_assert_int_eq(kw_certgen_validate_names(longns, "", err, sizeof(err)), CONTOUR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "must be no more than 63 characters"));
	/* both wrong: both reported */
	ck_assert_int_eq(kw_certgen_validate_names("", "/", err, sizeof(err)), CONTOUR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "invalid namespace name \"\""));
	ck_assert_ptr_nonnull(strstr(err, "; invalid secret name \"contourcert/\""));
}
END_TEST

START_TEST(yaml_round_trip)
{
	kw_certs_t c;
	generate(&c, "projectcontour", 0, NULL, 0);
	json_t *l = kw_certgen_secrets(&c, KW_SECRETS_COMPACT, "projectcontour", "");
	char *y = kw_certgen_yaml(json_array_get(l, 0));
	ck_assert_ptr_nonnull(y);
	/* keys sorted at every level, as the Kubernetes serializer writes */
	ck_assert(!strncmp(y, "apiVersion: v1\ndata:\n  ca.crt: LS0tLS1CRUdJTi", 45));
	ck_assert_ptr_nonnull(strstr(y, "\nkind: Secret\nmetadata:\n  labels:\n    app: contour\n"
	                                "  name: contourcert\n  namespace: projectcontour\n"
	                                "type: kubernetes.io/tls\n"));
	json_t *docs = NULL;
	contour_yaml_error_t yerr = {0};
	ck_assert_int_eq(contour_yaml_parse(y, strlen(y), &docs, NULL, &yerr), CONTOUR_EOK);
	ck_assert(json_equal(json_array_get(docs, 0), json_array_get(l, 0)));
	json_decref(docs);
	free(y);
	/* what YAML would read as something else is quoted */
	json_t *o = json_pack("{s:s, s:s, s:s, s:{}}", "a", "123", "b", "true", "c", "x: y", "d");
	y = kw_certgen_yaml(o);
	ck_assert_str_eq(y, "a: \"123\"\nb: \"true\"\nc: \"x: y\"\nd: {}\n");
	ck_assert_int_eq(contour_yaml_parse(y, strlen(y), &docs, NULL, &yerr), CONTOUR_EOK);
	ck_assert(json_equal(json_array_get(docs, 0), o));
	json_decref(docs);
	free(y);
	json_decref(o);
	json_decref(l);
	kw_certs_fini(&c);
}
END_TEST

START_TEST(path_join_as_go)
{
	const char *cases[][3] = {
	    {"certs", "cacert.pem", "certs/cacert.pem"},
	    {"certs/", "a", "certs/a"},
	    {"./certs//x/", "a", "certs/x/a"},
	    {".", "a", "a"},
	    {"", "a", "a"},
	    {"/tmp/x/../y", "a", "/tmp/y/a"},
	    {"../up", "a", "../up/a"},
	    {"/", "a", "/a"},
	    {"/..", "a", "/a"},
	    {"a/..", "b", "b"},
	};
	char out[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kw_certgen_path_join(cases[i][0], cases[i][1], out, sizeof(out));
		ck_assert_msg(!strcmp(out, cases[i][2]), "join(%s, %s) = %s, want %s", cases[i][0],
		              cases[i][1], out, cases[i][2]);
	}
}
END_TEST

static Suite *kw_certgen_suite(void)
{
	Suite *s = suite_create("kw_certgen");
	TCase *tc = tcase_create("certificates");
	/* RSA key generation: slow under the sanitizers */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, sans_for_namespace);
	tcase_add_test(tc, issuer_constraints_usages);
	tcase_add_test(tc, validity_is_lifetime);
	tcase_add_test(tc, keys_match);
	tcase_add_test(tc, chains_verify);
	tcase_add_test(tc, webhook_certificate);
	suite_add_tcase(s, tc);
	tc = tcase_create("outputs");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, secrets_legacy_and_compact);
	tcase_add_test(tc, names_validated);
	tcase_add_test(tc, yaml_round_trip);
	tcase_add_test(tc, path_join_as_go);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(kw_certgen_suite());
}
