/* modules/k8s-watch/kw_certgen.h: what the files of `contour certgen` share.
 *
 *   kw_certs.c        the CA and the leaf certificates (OpenSSL), as upstream's
 *                     pkg/certs: RSA 2048, PKCS#1 keys, SHA-256 signatures
 *   kw_certgen_out.c  the Secret objects (both formats), --pem and --yaml files
 *   kw_certgen_kube.c --kube: Secrets through the API, the webhook's caBundle
 *   kw_certgen.c      the command: flags, usage, the order of the outputs
 *
 * Private keys live only in the structs below (wiped by their _fini), in the
 * files and Secrets they are written to, and in request bodies; never in a
 * message or a log line.
 */
#ifndef KW_CERTGEN_H
#define KW_CERTGEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <jansson.h>

#include "modules/k8s-watch/kw.h"

/* ---- certificates (kw_certs.c) ---- */

#define KW_CERTS_DEFAULT_LIFETIME  365 /* days, upstream's DefaultCertificateLifetime */
#define KW_CERTS_DEFAULT_NAMESPACE "projectcontour"
#define KW_CERTS_CA_CN             "Project Contour"
#define KW_CERTS_DNS_SUFFIX        "cluster.local"
#define KW_CERTS_KEY_BITS          2048

/* One certificate and its key, PEM text ("CERTIFICATE", "RSA PRIVATE KEY"). */
typedef struct kw_pem_pair {
	char *cert;
	char *key; /* secret: never logged */
} kw_pem_pair_t;

typedef struct kw_certs {
	kw_pem_pair_t ca; /* ca.key stays in memory: upstream never writes it */
	kw_pem_pair_t contour;
	kw_pem_pair_t envoy;
	kw_pem_pair_t webhook; /* both NULL unless a webhook service was named */
} kw_certs_t;

typedef struct kw_certs_opts {
	const char *namespace_;      /* in the SANs; NULL: projectcontour */
	unsigned long lifetime_days; /* 0: 365, as upstream */
	const char *webhook_service; /* NULL: no webhook certificate */
	time_t now;                  /* 0: the clock (tests pin it) */
} kw_certs_opts_t;

/* kw_certs_generate: a self-signed CA ("Project Contour") and the contour,
 * envoy (and webhook) leaves it signs, each with SANs SERVICE,
 * SERVICE.NS, SERVICE.NS.svc and SERVICE.NS.svc.cluster.local. Valid from a
 * day before now to now + lifetime days. CONTOUR_EOK, or CONTOUR_EINVAL /
 * CONTOUR_ENOMEM with a message in err; *out is then empty. */
int kw_certs_generate(const kw_certs_opts_t *o, kw_certs_t *out, char *err, size_t errlen);
void kw_certs_fini(kw_certs_t *c); /* wipes the keys; NULL is fine */

/* ---- Secrets and files (kw_certgen_out.c) ---- */

#define KW_SECRETS_LEGACY  0 /* contourcert, envoycert (tls) + cacert (Opaque) */
#define KW_SECRETS_COMPACT 1 /* contourcert, envoycert (tls) with ca.crt */

/* kw_certgen_validate_names: upstream's validateSecretNamespaceAndName:
 * ns a DNS-1123 label and "contourcert" + suffix a DNS-1123 subdomain,
 * with apimachinery's messages, "; "-joined into err. 0 or CONTOUR_EINVAL. */
int kw_certgen_validate_names(const char *ns, const char *suffix, char *err, size_t errlen);

/* kw_certgen_secrets: the Secrets upstream's AsLegacySecrets / AsSecrets
 * build (apiVersion v1, kind Secret, label app: contour, data base64),
 * plus webhookcert<suffix> (kubernetes.io/tls with ca.crt, both formats)
 * when certs has a webhook certificate. A new array, or NULL (memory). */
json_t *kw_certgen_secrets(const kw_certs_t *certs, int format, const char *ns, const char *suffix);

/* kw_certgen_write_pem: cacert.pem, contourcert.pem, contourkey.pem,
 * envoycert.pem, envoykey.pem (then webhookcert.pem, webhookkey.pem) in dir,
 * as upstream's WriteCertsPEM: the folder made (0755), each file created
 * 0600 and "PATH created" printed; an existing file is an error unless
 * overwrite (then it is removed first). Stops at the first error, message
 * in err. */
int kw_certgen_write_pem(const char *dir, const kw_certs_t *certs, int overwrite, char *err,
                         size_t errlen);

/* kw_certgen_write_yaml: each Secret as NAME.yaml in dir, as
 * WriteSecretsYAML, with the same rules as kw_certgen_write_pem. */
int kw_certgen_write_yaml(const char *dir, const json_t *secrets, int overwrite, char *err,
                          size_t errlen);

/* kw_certgen_yaml: one object as the YAML Kubernetes' serializer writes
 * (keys sorted, two-space indent, plain scalars); the caller frees. Only
 * strings and objects of strings are expected (a Secret). */
char *kw_certgen_yaml(const json_t *obj);

/* kw_certgen_path_join: Go's path.Join(dir, name), into out. */
void kw_certgen_path_join(const char *dir, const char *name, char *out, size_t cap);

/* ---- --kube (kw_certgen_kube.c) ---- */

/* What happened to one Secret on the API server. */
typedef enum {
	KW_SECRET_CREATED,
	KW_SECRET_KEPT, /* already there, not overwritten */
	KW_SECRET_UPDATED,
} kw_secret_outcome_t;

/* kw_certgen_write_kube: each Secret (from kw_certgen_secrets) created in
 * its namespace; on AlreadyExists kept, or replaced (PUT) with overwrite.
 * Prints "secret/NAME created", "secret/NAME already exists, not
 * overwritten" or "secret/NAME updated". outcomes (may be NULL) gets one
 * entry per Secret. 0, or CONTOUR_EIO with a message in err. */
int kw_certgen_write_kube(kw_http_t *h, const json_t *secrets, int overwrite,
                          kw_secret_outcome_t *outcomes, char *err, size_t errlen);

typedef struct kw_webhook_patch {
	const char *configuration; /* the ValidatingWebhookConfiguration */
	const char *ns;            /* the namespace of the webhook's Secret */
	const char *secret;        /* its name */
	const char *ca_pem;        /* the CA of this run */
	int secret_kept;           /* the Secret predates this run: use its ca.crt */
	int64_t wait_ms;           /* how long a missing configuration is waited for */
	int64_t retry_ms;          /* between tries (2000) */
} kw_webhook_patch_t;

/* kw_certgen_patch_webhook: set clientConfig.caBundle of every webhook in
 * the configuration to the CA the serving certificate in use was signed by
 * (ca_pem, or the kept Secret's ca.crt), PUT with its resourceVersion,
 * again on 409. A configuration not found yet is asked for again every
 * retry_ms until wait_ms has passed. 0, or CONTOUR_EIO with err. */
int kw_certgen_patch_webhook(kw_http_t *h, const kw_webhook_patch_t *p, char *err, size_t errlen);

/* kw_certgen_command: `contour certgen`. The process exit status: 0, 1 on
 * an error, 2 on a usage error. */
int kw_certgen_command(contour_module_t *mod, int argc, char **argv);

#endif
