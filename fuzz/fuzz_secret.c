/* fuzz/fuzz_secret.c: libFuzzer target for Secret validation
 * (core/dag/secret_check.c): the Go-compatible PEM reader, the DER parsing
 * through OpenSSL, the key/certificate match and the base64 decoder.
 * Secrets are outside input: anyone who can write a Secret in any namespace
 * feeds this code.
 *
 * Input: byte 0 picks the check (TLS, CA, CRL, base64), byte 1 the Secret
 * type; the rest is the data. For TLS a NUL splits tls.crt from tls.key (no
 * NUL: no key). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "contour/error.h"
#include "core/dag/secret_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fz_starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Every failure says why, in one of upstream's forms. */
static void fz_check_result(int rc, const char *err, int mode)
{
	if (rc == CONTOUR_EOK || rc == CONTOUR_ENOMEM)
		return;
	if (rc != CONTOUR_EINVAL || !err[0])
		abort();
	if (fz_starts(err, "secret type is not "))
		return;
	switch (mode) {
	case 0:
		if (!fz_starts(err, "missing TLS ") &&
		    !fz_starts(err, "invalid TLS certificate: ") &&
		    !fz_starts(err, "invalid TLS private key: "))
			abort();
		break;
	case 1:
		if (!fz_starts(err, "empty \"ca.crt\" key") &&
		    !fz_starts(err, "invalid CA certificate bundle: "))
			abort();
		break;
	default:
		if (strcmp(err, "empty \"crl.pem\" key") &&
		    strcmp(err, "failed to parse PEM block") && strcmp(err, "failed to locate CRL"))
			abort();
	}
}

/* Decoding, encoding and decoding again gives the same bytes. */
static void fz_base64(const uint8_t *data, size_t size)
{
	unsigned char *out = NULL, *again = NULL;
	size_t n = 0, m = 0;
	int rc = core_secret_base64_decode((const char *)data, size, &out, &n);
	if (rc != CONTOUR_EOK) {
		if (rc != CONTOUR_EINVAL && rc != CONTOUR_ENOMEM)
			abort();
		return;
	}
	if (n > size)
		abort();
	char *enc = malloc(4 * ((n + 2) / 3) + 1);
	if (!enc)
		abort();
	int elen = EVP_EncodeBlock((unsigned char *)enc, out, (int)n);
	if (core_secret_base64_decode(enc, (size_t)elen, &again, &m) != CONTOUR_EOK || m != n ||
	    memcmp(out, again, n))
		abort();
	free(enc);
	free(out);
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const types[] = {"kubernetes.io/tls", "Opaque",
	                                    "kubernetes.io/basic-auth", NULL};
	if (size < 2)
		return 0;
	int mode = data[0] % 4;
	const char *type = types[data[1] % 4];
	data += 2;
	size -= 2;
	/* Exactly the input's bytes on the heap, so ASan sees any overread. */
	unsigned char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	char err[512];
	err[0] = '\0';
	int rc;
	switch (mode) {
	case 0: {
		unsigned char *nul = memchr(buf, '\0', size);
		size_t crt_len = nul ? (size_t)(nul - buf) : size;
		const unsigned char *key = nul ? nul + 1 : NULL;
		size_t key_len = nul ? size - crt_len - 1 : 0;
		rc = core_secret_check_tls(type, buf, crt_len, key, key_len, err, sizeof(err));
		break;
	}
	case 1:
		rc = core_secret_check_ca(type, buf, size, err, sizeof(err));
		break;
	case 2:
		rc = core_secret_check_crl(type, buf, size, err, sizeof(err));
		break;
	default:
		fz_base64(buf, size);
		free(buf);
		return 0;
	}
	fz_check_result(rc, err, mode);
	free(buf);
	return 0;
}
