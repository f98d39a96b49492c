/* core/dag/secret_check.c: Secret validation with upstream's semantics and
 * messages (internal/dag/secret.go).
 *
 * Upstream walks PEM with Go's encoding/pem, whose idea of a block differs
 * from OpenSSL's PEM reader (what counts as a header line, when a broken
 * block is skipped, trailing garbage), and the messages depend on it, so
 * sc_pem_decode follows pem.Decode step by step. The DER inside each block is
 * parsed with OpenSSL. Nothing here logs: the input holds private keys.
 */
#include "config.h"

/* EC_KEY and RSA are deprecated in OpenSSL 3, but they parse a key in a few
 * microseconds where the provider decoders behind d2i_AutoPrivateKey take
 * most of a millisecond (3.0 builds a decoder chain per call). */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "contour/error.h"
#include "core/dag/secret_check.h"

static int sc_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int sc_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* OpenSSL failures leave entries behind; they must not surface in some
	 * unrelated later call (libevent's TLS code reads the queue). */
	ERR_clear_error();
	return CONTOUR_EINVAL;
}

/* Base64 as Go's base64.StdEncoding.Decode: CR and LF are skipped anywhere,
 * the last quantum must be complete and padded, nothing may follow the
 * padding. out needs room for in_len * 3 / 4 bytes. Returns 0 or -1. */
static int sc_b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static size_t sc_skip_newlines(const unsigned char *in, size_t n, size_t i)
{
	while (i < n && (in[i] == '\n' || in[i] == '\r'))
		i++;
	return i;
}

static int sc_b64_decode(const unsigned char *in, size_t n, unsigned char *out, size_t *out_len)
{
	size_t si = 0, o = 0;
	for (;;) {
		unsigned v[4] = {0, 0, 0, 0};
		int j = 0, padded = 0;
		while (j < 4) {
			if (si == n) {
				if (j == 0) {
					*out_len = o;
					return 0;
				}
				return -1; /* an unpadded partial quantum */
			}
			unsigned char c = in[si++];
			if (c == '\n' || c == '\r')
				continue;
			int d = sc_b64_val(c);
			if (d >= 0) {
				v[j++] = (unsigned)d;
				continue;
			}
			if (c != '=' || j < 2)
				return -1;
			if (j == 2) {
				si = sc_skip_newlines(in, n, si);
				if (si == n || in[si] != '=')
					return -1;
				si++;
			}
			if (sc_skip_newlines(in, n, si) != n)
				return -1;
			padded = 1;
			break;
		}
		unsigned long q = (unsigned long)v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
		out[o++] = (unsigned char)(q >> 16);
		if (j >= 3)
			out[o++] = (unsigned char)(q >> 8);
		if (j == 4)
			out[o++] = (unsigned char)q;
		if (padded) {
			*out_len = o;
			return 0;
		}
	}
}

int core_secret_base64_decode(const char *in, size_t in_len, unsigned char **out, size_t *out_len)
{
	unsigned char *buf = malloc(in_len / 4 * 3 + 4);
	if (!buf)
		return CONTOUR_ENOMEM;
	size_t n = 0;
	if (sc_b64_decode((const unsigned char *)in, in_len, buf, &n) != 0) {
		free(buf);
		return CONTOUR_EINVAL;
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return CONTOUR_EOK;
}

/* PEM, as Go's encoding/pem. */

typedef struct sc_pem {
	const unsigned char *type; /* into the input, not NUL-terminated */
	size_t type_len;
	unsigned char *der; /* malloc'd */
	size_t der_len;
} sc_pem_t;

static const unsigned char *sc_find(const unsigned char *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; k <= n && i <= n - k; i++)
		if (p[i] == (unsigned char)needle[0] && !memcmp(p + i, needle, k))
			return p + i;
	return NULL;
}

static int sc_has_prefix(const unsigned char *p, size_t n, const char *pre)
{
	size_t k = strlen(pre);
	return n >= k && !memcmp(p, pre, k);
}

static int sc_is_type(const sc_pem_t *b, const char *type)
{
	return b->type_len == strlen(type) && !memcmp(b->type, type, b->type_len);
}

/* getLine: up to the next LF (a CR before it dropped), trailing spaces and
 * tabs trimmed; *rest starts after the LF. */
static void sc_getline(const unsigned char *p, size_t n, const unsigned char **line,
                       size_t *line_len, const unsigned char **rest, size_t *rest_len)
{
	const unsigned char *nl = memchr(p, '\n', n);
	size_t i, j;
	if (!nl) {
		i = j = n;
	} else {
		i = (size_t)(nl - p);
		j = i + 1;
		if (i > 0 && p[i - 1] == '\r')
			i--;
	}
	while (i > 0 && (p[i - 1] == ' ' || p[i - 1] == '\t'))
		i--;
	*line = p;
	*line_len = i;
	*rest = p + j;
	*rest_len = n - j;
}

/* containsPEMHeader: "-----BEGIN", then "-----" with no LF in between
 * (upstream checks a shorter span than it means to; so do we). */
static int sc_contains_pem_header(const unsigned char *p, size_t n)
{
	const unsigned char *start = sc_find(p, n, "-----BEGIN");
	if (!start)
		return 0;
	size_t off = (size_t)(start - p);
	const unsigned char *end = sc_find(start + 10, n - off - 10, "-----");
	if (!end)
		return 0;
	size_t span = (size_t)(end - (start + 10));
	return memchr(start, '\n', span) == NULL;
}

/* pem.Decode: the next well-formed block, skipping malformed ones. Returns 1
 * with *b filled and *used bytes consumed, 0 when there is none, -1 without
 * memory. */
static int sc_pem_decode(const unsigned char *data, size_t len, sc_pem_t *b, size_t *used)
{
	const unsigned char *rest = data, *line, *next;
	size_t rlen = len, line_len, next_len;
	for (;;) {
		if (sc_has_prefix(rest, rlen, "-----BEGIN ")) {
			rest += 11;
			rlen -= 11;
		} else {
			const unsigned char *f = sc_find(rest, rlen, "\n-----BEGIN ");
			if (!f)
				return 0;
			rlen -= (size_t)(f + 12 - rest);
			rest = f + 12;
		}
		const unsigned char *type;
		size_t type_len;
		sc_getline(rest, rlen, &type, &type_len, &rest, &rlen);
		if (type_len < 5 || memcmp(type + type_len - 5, "-----", 5))
			continue;
		type_len -= 5;

		int headers = 0, truncated = 0;
		for (;;) {
			if (rlen == 0) {
				truncated = 1;
				break;
			}
			sc_getline(rest, rlen, &line, &line_len, &next, &next_len);
			if (!memchr(line, ':', line_len))
				break;
			headers = 1;
			rest = next;
			rlen = next_len;
		}
		if (truncated)
			return 0;

		size_t end_idx, trailer_idx;
		if (!headers && sc_has_prefix(rest, rlen, "-----END ")) {
			end_idx = 0;
			trailer_idx = 9;
		} else {
			const unsigned char *f = sc_find(rest, rlen, "\n-----END ");
			if (!f)
				continue;
			end_idx = (size_t)(f - rest);
			trailer_idx = end_idx + 10;
		}
		const unsigned char *trailer = rest + trailer_idx;
		size_t trailer_len = rlen - trailer_idx;
		if (trailer_len < type_len + 5)
			continue;
		if (memcmp(trailer, type, type_len) || memcmp(trailer + type_len, "-----", 5))
			continue;
		sc_getline(trailer + type_len + 5, trailer_len - type_len - 5, &line, &line_len,
		           &next, &next_len);
		if (line_len != 0)
			continue;

		unsigned char *body = malloc(end_idx + 4);
		if (!body)
			return -1;
		size_t blen = 0;
		for (size_t i = 0; i < end_idx; i++)
			if (rest[i] != ' ' && rest[i] != '\t')
				body[blen++] = rest[i];
		unsigned char *der = malloc(blen / 4 * 3 + 4);
		size_t der_len = 0;
		if (!der) {
			free(body);
			return -1;
		}
		int bad = sc_b64_decode(body, blen, der, &der_len);
		free(body);
		if (bad) {
			free(der);
			continue;
		}
		b->type = type;
		b->type_len = type_len;
		b->der = der;
		b->der_len = der_len;
		sc_getline(rest + end_idx + 9, rlen - end_idx - 9, &line, &line_len, &next,
		           &next_len);
		*used = (size_t)(next - data);
		return 1;
	}
}

/* The next block while upstream's loop would look for one: 1 with *b, 0 at
 * the end, or CONTOUR_EINVAL ("failed to parse PEM block") / ENOMEM. */
static int sc_next_block(const unsigned char **p, size_t *n, sc_pem_t *b)
{
	if (!sc_contains_pem_header(*p, *n))
		return 0;
	size_t used = 0;
	int rc = sc_pem_decode(*p, *n, b, &used);
	if (rc < 0)
		return CONTOUR_ENOMEM;
	if (rc == 0)
		return CONTOUR_EINVAL;
	*p += used;
	*n -= used;
	return 1;
}

/* After a walk of sc_next_block: CONTOUR_EOK when it reached the end, the
 * message for a broken block (after prefix), or ENOMEM. */
static int sc_walk_end(int rc, const char *prefix, char *err, size_t errlen)
{
	if (rc == CONTOUR_EINVAL)
		return sc_fail(err, errlen, "%sfailed to parse PEM block", prefix);
	return rc < 0 ? rc : CONTOUR_EOK;
}

/* Go's %q for the block types in messages is plain '%s' upstream; types
 * can hold anything, so print them bounded. */
#define SC_TYPE_FMT    "%.*s"
#define SC_TYPE_ARG(b) (int)((b)->type_len > 64 ? 64 : (b)->type_len), (const char *)(b)->type

static int sc_has_common_name(X509 *x)
{
	X509_NAME *subj = X509_get_subject_name(x);
	int idx = -1, last = -1;
	while ((idx = X509_NAME_get_index_by_NID(subj, NID_commonName, idx)) >= 0)
		last = idx;
	if (last < 0)
		return 0;
	/* Go keeps the last CN and trims white space. */
	ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, last));
	unsigned char *utf8 = NULL;
	int n = ASN1_STRING_to_UTF8(&utf8, s);
	int found = 0;
	for (int i = 0; i < n && !found; i++)
		if (!strchr(" \t\n\v\f\r", utf8[i]))
			found = 1;
	OPENSSL_free(utf8);
	return found;
}

static int sc_has_dns_or_ip_san(X509 *x)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int found = 0;
	for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		int t = sk_GENERAL_NAME_value(names, i)->type;
		if (t == GEN_DNS || t == GEN_IPADD)
			found = 1;
	}
	GENERAL_NAMES_free(names);
	return found;
}

static X509 *sc_parse_cert(const sc_pem_t *b, const char **why)
{
	const unsigned char *p = b->der;
	X509 *x = d2i_X509(NULL, &p, (long)b->der_len);
	if (!x) {
		*why = "x509: malformed certificate";
		return NULL;
	}
	if (p != b->der + b->der_len) {
		X509_free(x);
		*why = "x509: trailing data";
		return NULL;
	}
	return x;
}

/* validateServingBundle; *leaf gets the first certificate. */
static int sc_serving_bundle(const unsigned char *p, size_t n, X509 **leaf, char *err,
                             size_t errlen)
{
	sc_pem_t b;
	int rc, count = 0;
	while ((rc = sc_next_block(&p, &n, &b)) == 1) {
		const char *why = NULL;
		X509 *x = NULL;
		if (!sc_is_type(&b, "CERTIFICATE"))
			rc = sc_fail(err, errlen, "unexpected block type '" SC_TYPE_FMT "'",
			             SC_TYPE_ARG(&b));
		else if (!(x = sc_parse_cert(&b, &why)))
			rc = sc_fail(err, errlen, "%s", why);
		else if (count == 0 && !sc_has_common_name(x) && !sc_has_dns_or_ip_san(x))
			rc = sc_fail(err, errlen,
			             "certificate has no common name or subject alt name");
		free(b.der);
		if (rc != 1) {
			X509_free(x);
			return rc;
		}
		if (count++ == 0)
			*leaf = x;
		else
			X509_free(x);
	}
	if ((rc = sc_walk_end(rc, "", err, errlen)) != CONTOUR_EOK)
		return rc;
	if (count == 0)
		return sc_fail(err, errlen, "failed to locate certificate");
	return CONTOUR_EOK;
}

/* One DER header at p[*i]: tag and length, *i moved past it. */
static int sc_der_header(const unsigned char *p, size_t n, size_t *i, unsigned *tag, size_t *len)
{
	if (*i + 2 > n)
		return -1;
	*tag = p[(*i)++];
	size_t l = p[(*i)++];
	if (l & 0x80) {
		size_t k = l & 0x7f;
		if (k == 0 || k > sizeof(size_t) || *i + k > n)
			return -1;
		for (l = 0; k; k--)
			l = l << 8 | p[(*i)++];
	}
	if (l > n - *i)
		return -1;
	*len = l;
	return 0;
}

/* The tag of the element after the version in the DER SEQUENCE at p, or
 * -1. PKCS#1 (INTEGER modulus), SEC1 (OCTET STRING key) and PKCS#8
 * (SEQUENCE algorithm) differ there. */
static int sc_der_second_tag(const unsigned char *p, size_t n)
{
	size_t i = 0, len;
	unsigned tag;
	if (sc_der_header(p, n, &i, &tag, &len) || tag != 0x30)
		return -1;
	if (sc_der_header(p, n, &i, &tag, &len))
		return -1;
	i += len;
	return i < n ? p[i] : -1;
}

/* Wrap a parsed RSA or EC key (taken over, freed on failure). */
static EVP_PKEY *sc_wrap_rsa(RSA *rsa)
{
	EVP_PKEY *pkey = rsa ? EVP_PKEY_new() : NULL;
	if (pkey && EVP_PKEY_assign_RSA(pkey, rsa) == 1)
		return pkey;
	EVP_PKEY_free(pkey);
	RSA_free(rsa);
	return NULL;
}

static EVP_PKEY *sc_wrap_ec(EC_KEY *ec)
{
	EVP_PKEY *pkey = ec ? EVP_PKEY_new() : NULL;
	if (pkey && EVP_PKEY_assign_EC_KEY(pkey, ec) == 1)
		return pkey;
	EVP_PKEY_free(pkey);
	EC_KEY_free(ec);
	return NULL;
}

/* The EC key inside PKCS#8, with the curve from the algorithm parameters
 * (a named curve or explicit parameters), as OpenSSL's own PKCS#8 reader
 * does it. */
static EVP_PKEY *sc_pkcs8_ec(const X509_ALGOR *alg, const unsigned char *pk, int pklen)
{
	int ptype;
	const void *pval;
	EC_KEY *ec = NULL;
	X509_ALGOR_get0(NULL, &ptype, &pval, alg);
	if (ptype == V_ASN1_OBJECT) {
		int nid = OBJ_obj2nid(pval);
		if (nid == NID_undef || !(ec = EC_KEY_new_by_curve_name(nid)))
			return NULL;
	} else if (ptype == V_ASN1_SEQUENCE) {
		const ASN1_STRING *params = pval;
		const unsigned char *pm = ASN1_STRING_get0_data(params);
		if (!d2i_ECParameters(&ec, &pm, ASN1_STRING_length(params)))
			return NULL;
	} else {
		return NULL;
	}
	if (!d2i_ECPrivateKey(&ec, &pk, pklen)) {
		EC_KEY_free(ec);
		return NULL;
	}
	return sc_wrap_ec(ec);
}

/* PKCS#8 (DER already checked for its shape). RSA and EC, by far the common
 * keys, are read directly; anything else (Ed25519, ...) goes through
 * d2i_AutoPrivateKey, which reads the algorithm itself. */
static EVP_PKEY *sc_parse_pkcs8(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
	if (!p8)
		return NULL;
	EVP_PKEY *pkey = NULL;
	const ASN1_OBJECT *obj;
	const unsigned char *pk;
	int pklen;
	const X509_ALGOR *alg;
	if (p != der + len || !PKCS8_pkey_get0(&obj, &pk, &pklen, &alg, p8))
		goto out;
	switch (OBJ_obj2nid(obj)) {
	case NID_rsaEncryption:
		pkey = sc_wrap_rsa(d2i_RSAPrivateKey(NULL, &pk, pklen));
		break;
	case NID_X9_62_id_ecPublicKey:
		pkey = sc_pkcs8_ec(alg, pk, pklen);
		break;
	default:
		p = der;
		pkey = d2i_AutoPrivateKey(NULL, &p, (long)len);
		if (pkey && p != der + len) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
		break;
	}
out:
	PKCS8_PRIV_KEY_INFO_free(p8);
	return pkey;
}

/* One DER key in the structure its PEM type promises. OpenSSL's generic
 * readers also take PKCS#8 under an "RSA PRIVATE KEY" or "EC PRIVATE KEY"
 * header, which Go refuses, so the shape is checked first. */
static EVP_PKEY *sc_parse_key(const sc_pem_t *b, int keytype)
{
	const unsigned char *p = b->der;
	EVP_PKEY *pkey = NULL;
	if (keytype == EVP_PKEY_NONE) {
		/* PKCS#8: the version, then the algorithm SEQUENCE. */
		if (sc_der_second_tag(b->der, b->der_len) != 0x30)
			return NULL;
		return sc_parse_pkcs8(b->der, b->der_len);
	}
	/* PKCS#1 has an INTEGER (the modulus) after the version, SEC1 an
	 * OCTET STRING (the key). */
	int want = keytype == EVP_PKEY_RSA ? 0x02 : 0x04;
	if (sc_der_second_tag(b->der, b->der_len) != want)
		return NULL;
	if (keytype == EVP_PKEY_RSA)
		pkey = sc_wrap_rsa(d2i_RSAPrivateKey(NULL, &p, (long)b->der_len));
	else
		pkey = sc_wrap_ec(d2i_ECPrivateKey(NULL, &p, (long)b->der_len));
	if (pkey && p != b->der + b->der_len) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	return pkey;
}

/* validatePrivateKey; *out gets the key. */
static int sc_private_key(const unsigned char *p, size_t n, EVP_PKEY **out, char *err,
                          size_t errlen)
{
	sc_pem_t b;
	int rc, keys = 0;
	while ((rc = sc_next_block(&p, &n, &b)) == 1) {
		EVP_PKEY *k = NULL;
		const char *why = NULL;
		if (sc_is_type(&b, "PRIVATE KEY")) {
			if (!(k = sc_parse_key(&b, EVP_PKEY_NONE)))
				why = "x509: failed to parse private key";
		} else if (sc_is_type(&b, "RSA PRIVATE KEY")) {
			if (!(k = sc_parse_key(&b, EVP_PKEY_RSA)))
				why = "x509: failed to parse private key";
		} else if (sc_is_type(&b, "EC PRIVATE KEY")) {
			if (!(k = sc_parse_key(&b, EVP_PKEY_EC)))
				why = "x509: failed to parse EC private key";
		} else if (!sc_is_type(&b, "EC PARAMETERS")) {
			rc = sc_fail(err, errlen, "unexpected block type '" SC_TYPE_FMT "'",
			             SC_TYPE_ARG(&b));
		}
		free(b.der);
		if (why)
			rc = sc_fail(err, errlen, "%s", why);
		if (rc != 1)
			return rc;
		if (k) {
			/* Keep the first; a second one fails below anyway. */
			if (keys++ == 0)
				*out = k;
			else
				EVP_PKEY_free(k);
		}
	}
	if ((rc = sc_walk_end(rc, "", err, errlen)) != CONTOUR_EOK)
		return rc;
	if (keys == 0)
		return sc_fail(err, errlen, "failed to locate private key");
	if (keys > 1)
		return sc_fail(err, errlen, "multiple private keys");
	return CONTOUR_EOK;
}

static int sc_type_ok(const char *type)
{
	return type &&
	       (!strcmp(type, CORE_SECRET_TYPE_TLS) || !strcmp(type, CORE_SECRET_TYPE_OPAQUE));
}

#define SC_TYPE_ERR                                                                                \
	"secret type is not \"" CORE_SECRET_TYPE_TLS "\" or \"" CORE_SECRET_TYPE_OPAQUE "\""

/* What the CA and CRL checks test before any PEM: the Secret's type, and
 * data under key. */
static int sc_bundle_present(const char *type, const unsigned char *data, size_t len,
                             const char *key, char *err, size_t errlen)
{
	if (!sc_type_ok(type))
		return sc_fail(err, errlen, SC_TYPE_ERR);
	if (!data || len == 0)
		return sc_fail(err, errlen, "empty \"%s\" key", key);
	return CONTOUR_EOK;
}

int core_secret_check_tls(const char *type, const unsigned char *crt, size_t crt_len,
                          const unsigned char *key, size_t key_len, char *err, size_t errlen)
{
	X509 *leaf = NULL;
	EVP_PKEY *pkey = NULL;
	char why[256];
	int rc;
	if (!sc_type_ok(type))
		return sc_fail(err, errlen, SC_TYPE_ERR);
	if (!crt)
		return sc_fail(err, errlen, "missing TLS certificate");
	rc = sc_serving_bundle(crt, crt_len, &leaf, why, sizeof(why));
	if (rc != CONTOUR_EOK) {
		if (rc == CONTOUR_EINVAL)
			sc_fail(err, errlen, "invalid TLS certificate: %s", why);
		goto fail;
	}
	if (!key) {
		rc = sc_fail(err, errlen, "missing TLS private key");
		goto fail;
	}
	rc = sc_private_key(key, key_len, &pkey, why, sizeof(why));
	if (rc != CONTOUR_EOK) {
		if (rc == CONTOUR_EINVAL)
			sc_fail(err, errlen, "invalid TLS private key: %s", why);
		goto fail;
	}
	/* Upstream stops here and lets Envoy refuse a key that does not belong
	 * to the certificate; refusing it here names the Secret instead. */
	EVP_PKEY *pub = X509_get0_pubkey(leaf);
	if (!pub || EVP_PKEY_eq(pub, pkey) != 1)
		rc = sc_fail(err, errlen,
		             "invalid TLS private key: private key does not match public key");
fail:
	X509_free(leaf);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

/* validateCABundle: upstream only checks the blocks' types. */
int core_secret_check_ca(const char *type, const unsigned char *ca, size_t ca_len, char *err,
                         size_t errlen)
{
	int rc = sc_bundle_present(type, ca, ca_len, "ca.crt", err, errlen);
	if (rc != CONTOUR_EOK)
		return rc;
	sc_pem_t b;
	int count = 0;
	while ((rc = sc_next_block(&ca, &ca_len, &b)) == 1) {
		int ok = sc_is_type(&b, "CERTIFICATE");
		if (!ok)
			sc_fail(err, errlen,
			        "invalid CA certificate bundle: unexpected block type '" SC_TYPE_FMT
			        "'",
			        SC_TYPE_ARG(&b));
		free(b.der);
		if (!ok)
			return CONTOUR_EINVAL;
		count++;
	}
	if ((rc = sc_walk_end(rc, "invalid CA certificate bundle: ", err, errlen)) != CONTOUR_EOK)
		return rc;
	if (count == 0)
		return sc_fail(err, errlen,
		               "invalid CA certificate bundle: failed to locate certificate");
	return CONTOUR_EOK;
}

/* validateCRL: the first "X509 CRL" block wins; upstream adds no prefix. */
int core_secret_check_crl(const char *type, const unsigned char *crl, size_t crl_len, char *err,
                          size_t errlen)
{
	int rc = sc_bundle_present(type, crl, crl_len, "crl.pem", err, errlen);
	if (rc != CONTOUR_EOK)
		return rc;
	sc_pem_t b;
	while ((rc = sc_next_block(&crl, &crl_len, &b)) == 1) {
		int found = sc_is_type(&b, "X509 CRL");
		free(b.der);
		if (found)
			return CONTOUR_EOK;
	}
	if ((rc = sc_walk_end(rc, "", err, errlen)) != CONTOUR_EOK)
		return rc;
	return sc_fail(err, errlen, "failed to locate CRL");
}
