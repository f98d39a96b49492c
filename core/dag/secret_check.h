/* core/dag/secret_check.h: validation of Secret contents, as upstream's
 * internal/dag/secret.go does it, with the same error texts.
 *
 * Pure functions: bytes in, CONTOUR_EOK or CONTOUR_EINVAL and a message out.
 * No store, no DAG, no logging (the input holds private keys), so a fuzz
 * target can call them directly. PEM is read with a decoder that follows Go's
 * encoding/pem (which blocks exist, what is skipped, what fails), and the DER
 * inside with OpenSSL. Private. */
#ifndef CORE_SECRET_CHECK_H
#define CORE_SECRET_CHECK_H

#include <stddef.h>

/* Upstream's Secret types. A Secret without `type` is Opaque (the API server
 * defaults it). */
#define CORE_SECRET_TYPE_TLS    "kubernetes.io/tls"
#define CORE_SECRET_TYPE_OPAQUE "Opaque"

/* core_secret_check_tls: validTLSSecret. `type` is the Secret's type (NULL:
 * not a string); crt and key are the decoded `tls.crt` and `tls.key` (NULL:
 * the key is absent). Beyond upstream, the private key must match the first
 * certificate's public key (Envoy would reject the pair otherwise). */
int core_secret_check_tls(const char *type, const unsigned char *crt, size_t crt_len,
                          const unsigned char *key, size_t key_len, char *err, size_t errlen);

/* core_secret_check_ca: validCASecret over the decoded `ca.crt` (NULL: absent). */
int core_secret_check_ca(const char *type, const unsigned char *ca, size_t ca_len, char *err,
                         size_t errlen);

/* core_secret_check_crl: validCRLSecret over the decoded `crl.pem` (NULL: absent). */
int core_secret_check_crl(const char *type, const unsigned char *crl, size_t crl_len, char *err,
                          size_t errlen);

/* core_secret_base64_decode: Go's base64.StdEncoding.Decode (padding
 * required, CR and LF ignored), as encoding/json decodes a Secret's `data`.
 * *out is malloc'd with a NUL after the *out_len bytes. Returns CONTOUR_EOK,
 * CONTOUR_EINVAL on corrupt input or CONTOUR_ENOMEM. */
int core_secret_base64_decode(const char *in, size_t in_len, unsigned char **out, size_t *out_len);

#endif
