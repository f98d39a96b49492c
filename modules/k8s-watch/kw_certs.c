/* modules/k8s-watch/kw_certs.c: the certificates `contour certgen` issues.
 *
 * The same certificates as upstream's pkg/certs/certgen.go, built with
 * OpenSSL instead of Go's crypto/x509:
 *
 *   - every key RSA 2048, written as PKCS#1 ("RSA PRIVATE KEY");
 *   - the CA: subject CN=Project Contour plus serialNumber=<its serial>,
 *     self-signed, basicConstraints CA:TRUE (critical), keyUsage
 *     digitalSignature, keyEncipherment, keyCertSign (critical);
 *   - each leaf: subject CN=<service>, issued by the CA (authorityKeyIdentifier
 *     = the CA's subjectKeyIdentifier), no basicConstraints, keyUsage
 *     digitalSignature, contentCommitment, keyEncipherment, dataEncipherment
 *     (critical), no extendedKeyUsage, SANs <service>, <service>.<ns>,
 *     <service>.<ns>.svc, <service>.<ns>.svc.cluster.local;
 *   - subjectKeyIdentifier: SHA-1 of the modulus' big-endian bytes
 *     (upstream's bigIntHash);
 *   - serial: the nanosecond within the current second (newSerial);
 *   - validity: from a day before now to now + lifetime days, one expiry
 *     for all; signatures SHA-256 with RSA, as Go picks for an RSA key.
 *
 * Printable names are PrintableString as Go encodes them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "modules/k8s-watch/kw_certgen.h"

/* 9999-12-31T23:59:59Z: the last instant a GeneralizedTime can hold. */
#define KC_MAX_TIME 253402300799LL

typedef struct kc_issuer {
	X509 *cert;
	EVP_PKEY *key;
} kc_issuer_t;

static void kc_pem_pair_fini(kw_pem_pair_t *p)
{
	if (p->key)
		explicit_bzero(p->key, strlen(p->key));
	CONTOUR_FREE_ALL(p->cert, p->key);
	p->cert = p->key = NULL;
}

void kw_certs_fini(kw_certs_t *c)
{
	if (!c)
		return;
	kc_pem_pair_fini(&c->ca);
	kc_pem_pair_fini(&c->contour);
	kc_pem_pair_fini(&c->envoy);
	kc_pem_pair_fini(&c->webhook);
}

/* The last OpenSSL error as text, appended to what. */
static int kc_fail(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];
	if (e) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, errlen, "%s: %s", what, buf);
	} else {
		snprintf(err, errlen, "%s", what);
	}
	ERR_clear_error();
	return CONTOUR_EINVAL;
}

/* A memory BIO's contents as a new NUL-terminated string. */
static char *kc_bio_string(BIO *b)
{
	char *data = NULL;
	long n = BIO_get_mem_data(b, &data);
	if (n < 0)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

static char *kc_cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;
	if (b && PEM_write_bio_X509(b, x))
		s = kc_bio_string(b);
	BIO_free(b);
	return s;
}

/* PKCS#1, as x509.MarshalPKCS1PrivateKey under "RSA PRIVATE KEY". The
 * memory BIO is in secure memory, cleared when freed. */
static char *kc_key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *s = NULL;
	if (b && PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL))
		s = kc_bio_string(b);
	BIO_free(b);
	return s;
}

/* The serial upstream's newSerial makes: now.Nanosecond(). Never 0 (RFC
 * 5280 wants a positive serial; Go's would be 0 once in 10^9 runs). */
static int64_t kc_serial(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_nsec ? (int64_t)ts.tv_nsec : 1;
}

/* SHA-1 of the modulus' bytes, as upstream's bigIntHash(key.N). */
static int kc_set_ski(X509 *x, EVP_PKEY *k)
{
	BIGNUM *n = NULL;
	unsigned char buf[KW_CERTS_KEY_BITS / 8 + 16], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int ok = 0;
	if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    BN_num_bytes(n) > (int)sizeof(buf))
		goto out;
	int len = BN_bn2bin(n, buf);
	if (!EVP_Digest(buf, (size_t)len, md, &mdlen, EVP_sha1(), NULL))
		goto out;
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	if (os && ASN1_OCTET_STRING_set(os, md, (int)mdlen))
		ok = X509_add1_ext_i2d(x, NID_subject_key_identifier, os, 0, X509V3_ADD_DEFAULT) ==
		     1;
	ASN1_OCTET_STRING_free(os);
out:
	BN_free(n);
	return ok;
}

static int kc_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* subjectAltName from the DNS names, built directly: a namespace given on
 * the command line never goes through OpenSSL's "DNS:a,DNS:b" parser. */
static int kc_add_sans(X509 *x, const char *const *names, size_t n)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	int ok = gens != NULL;
	for (size_t i = 0; ok && i < n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
		ok = g && ia5 && ASN1_STRING_set(ia5, names[i], -1);
		if (ok) {
			GENERAL_NAME_set0_value(g, GEN_DNS, ia5);
			ia5 = NULL;
			ok = sk_GENERAL_NAME_push(gens, g) > 0;
			if (ok)
				g = NULL;
		}
		ASN1_IA5STRING_free(ia5);
		GENERAL_NAME_free(g);
	}
	ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(gens);
	return ok;
}

static int kc_name_add(X509_NAME *n, int nid, const char *v)
{
	return X509_NAME_add_entry_by_NID(n, nid, V_ASN1_PRINTABLESTRING, (const unsigned char *)v,
	                                  -1, -1, 0);
}

/* One certificate: for key, subject CN=cn (plus serialNumber for the CA),
 * signed by issuer (NULL: itself), with the nsans DNS names sans. */
static X509 *kc_issue(EVP_PKEY *key, const char *cn, int is_ca, const char *const *sans,
                      size_t nsans, const kc_issuer_t *issuer, time_t now, time_t expiry)
{
	X509 *x = X509_new();
	char serial_text[32];
	int64_t serial = kc_serial();
	X509_NAME *subject = NULL;
	if (!x || !X509_set_version(x, 2) ||
	    !ASN1_INTEGER_set_int64(X509_get_serialNumber(x), serial))
		goto fail;
	subject = X509_NAME_new();
	snprintf(serial_text, sizeof(serial_text), "%lld", (long long)serial);
	if (!subject || !kc_name_add(subject, NID_commonName, cn) ||
	    (is_ca && !kc_name_add(subject, NID_serialNumber, serial_text)) ||
	    !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert) : subject))
		goto fail;
	if (!ASN1_TIME_set(X509_getm_notBefore(x), now - 86400) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), expiry) || !X509_set_pubkey(x, key) ||
	    !kc_set_ski(x, key))
		goto fail;

	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer ? issuer->cert : x, x, NULL, NULL, 0);
	if (is_ca) {
		if (!kc_add_ext(x, &ctx, NID_key_usage,
		                "critical,digitalSignature,keyEncipherment,keyCertSign") ||
		    !kc_add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE"))
			goto fail;
	} else {
		if (!kc_add_ext(x, &ctx, NID_key_usage,
		                "critical,digitalSignature,nonRepudiation,keyEncipherment,"
		                "dataEncipherment") ||
		    !kc_add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") ||
		    (nsans && !kc_add_sans(x, sans, nsans)))
			goto fail;
	}
	if (!X509_sign(x, issuer ? issuer->key : key, EVP_sha256()))
		goto fail;
	X509_NAME_free(subject);
	return x;
fail:
	X509_NAME_free(subject);
	X509_free(x);
	return NULL;
}

/* upstream's newCert for one service. */
static int kc_leaf(const kc_issuer_t *ca, const char *service, const char *ns, time_t now,
                   time_t expiry, kw_pem_pair_t *out, char *err, size_t errlen)
{
	char names[4][600];
	const char *sans[4] = {names[0], names[1], names[2], names[3]};
	snprintf(names[0], sizeof(names[0]), "%s", service);
	snprintf(names[1], sizeof(names[1]), "%s.%s", service, ns);
	snprintf(names[2], sizeof(names[2]), "%s.%s.svc", service, ns);
	int n =
	    snprintf(names[3], sizeof(names[3]), "%s.%s.svc.%s", service, ns, KW_CERTS_DNS_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(names[3])) {
		snprintf(err, errlen, "service name or namespace too long");
		return CONTOUR_EINVAL;
	}
	/* Go's x509 refuses what is not an IA5String; nor are controls DNS. */
	for (const char *p = names[3]; *p; p++) {
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
			snprintf(err, errlen,
			         "SAN \"%s\": a DNS name is printable ASCII without spaces",
			         names[3]);
			return CONTOUR_EINVAL;
		}
	}
	EVP_PKEY *key = EVP_RSA_gen(KW_CERTS_KEY_BITS);
	if (!key)
		return kc_fail(err, errlen, "cannot generate key");
	X509 *x = kc_issue(key, service, 0, sans, 4, ca, now, expiry);
	if (!x) {
		EVP_PKEY_free(key);
		return kc_fail(err, errlen, "cannot issue the certificate");
	}
	out->cert = kc_cert_pem(x);
	out->key = kc_key_pem(key);
	X509_free(x);
	EVP_PKEY_free(key);
	if (!out->cert || !out->key) {
		kc_pem_pair_fini(out);
		snprintf(err, errlen, "out of memory");
		return CONTOUR_ENOMEM;
	}
	return CONTOUR_EOK;
}

int kw_certs_generate(const kw_certs_opts_t *o, kw_certs_t *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	const char *ns = o->namespace_ ? o->namespace_ : KW_CERTS_DEFAULT_NAMESPACE;
	unsigned long days = o->lifetime_days ? o->lifetime_days : KW_CERTS_DEFAULT_LIFETIME;
	time_t now = o->now ? o->now : time(NULL);
	if (days > (unsigned long)((KC_MAX_TIME - (long long)now) / 86400)) {
		snprintf(err, errlen, "a certificate lifetime of %lu days ends after the year 9999",
		         days);
		return CONTOUR_EINVAL;
	}
	time_t expiry = now + (time_t)days * 86400;
	kc_issuer_t ca = {0};
	int rc;

	ca.key = EVP_RSA_gen(KW_CERTS_KEY_BITS);
	if (!ca.key) {
		rc = kc_fail(err, errlen, "cannot generate the CA key");
		goto fail;
	}
	ca.cert = kc_issue(ca.key, KW_CERTS_CA_CN, 1, NULL, 0, NULL, now, expiry);
	if (!ca.cert) {
		rc = kc_fail(err, errlen, "cannot issue the CA certificate");
		goto fail;
	}
	out->ca.cert = kc_cert_pem(ca.cert);
	out->ca.key = kc_key_pem(ca.key);
	if (!out->ca.cert || !out->ca.key) {
		snprintf(err, errlen, "out of memory");
		rc = CONTOUR_ENOMEM;
		goto fail;
	}
	if ((rc = kc_leaf(&ca, "contour", ns, now, expiry, &out->contour, err, errlen)) ||
	    (rc = kc_leaf(&ca, "envoy", ns, now, expiry, &out->envoy, err, errlen)) ||
	    (o->webhook_service &&
	     (rc = kc_leaf(&ca, o->webhook_service, ns, now, expiry, &out->webhook, err, errlen))))
		goto fail;
	X509_free(ca.cert);
	EVP_PKEY_free(ca.key);
	return CONTOUR_EOK;
fail:
	X509_free(ca.cert);
	EVP_PKEY_free(ca.key);
	kw_certs_fini(out);
	return rc ? rc : CONTOUR_EINVAL;
}
