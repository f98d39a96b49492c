/* modules/admission/adm.h: the admission module's private declarations. */
#ifndef ADM_ADM_H
#define ADM_ADM_H

#include <stdint.h>
#include <sys/stat.h>
#include <contour/module.h>

/* Fixed bounds (the configurable ones are in adm_set_t). */
#define ADM_MAX_HEADER_BYTES (16 * 1024) /* request line and headers; larger: 431 */
/* API servers open connections in bursts (every replica, every webhook
 * call at once after a restart): a short accept queue drops SYNs, which
 * clients retry only after a second. The kernel caps it at somaxconn. */
#define ADM_BACKLOG          1024
#define ADM_RELOAD_MS        1000 /* how often cert-file and key-file are looked at */
/* After an answer that closes the connection while the client may still be
 * sending (413, 431), what it sends is read and dropped, up to this much,
 * so that closing does not reset the connection before it read the
 * answer. */
#define ADM_DISCARD_MAX (4 * 1024 * 1024)

typedef struct adm_set {
	const char *address; /* borrowed from the core until free */
	int port;
	char *cert_file; /* resolved against the config file's folder; owned */
	char *key_file;
	size_t max_request_bytes;
	int64_t read_timeout_ms;
	int max_connections;
} adm_set_t;

typedef struct adm_tls adm_tls_t;
typedef struct adm_http adm_http_t;

typedef struct adm_ctx {
	contour_module_t *mod;
	adm_set_t set;
	adm_tls_t *tls;   /* from init to free */
	adm_http_t *http; /* from start to stop */
	struct {
		contour_metric_t *reviews;  /* {kind, operation, result} */
		contour_metric_t *duration; /* {kind} */
		contour_metric_t *denials;  /* {reason} */
	} metrics;
} adm_ctx_t;

/* adm_tls.c: the server's TLS context, reloaded when the files change. */

/* adm_tls_new: load cert-file and key-file (a certificate chain and its key,
 * PEM). On failure logs which file and why, and returns NULL. */
adm_tls_t *adm_tls_new(adm_ctx_t *ctx);
void adm_tls_free(adm_tls_t *t);
/* adm_tls_start / _stop: look at the files every ADM_RELOAD_MS; a changed
 * pair that loads replaces the context for new connections (open ones keep
 * theirs), one that does not is logged and the old one kept. */
int adm_tls_start(adm_tls_t *t);
void adm_tls_stop(adm_tls_t *t);
/* adm_tls_check_now: compare the files with what was loaded and reload if
 * they changed (what the timer does). */
void adm_tls_check_now(adm_tls_t *t);
/* adm_tls_ssl: a new SSL for one accepted connection, or NULL. */
struct ssl_st *adm_tls_ssl(adm_tls_t *t);

/* adm_http.c: the HTTPS/1.1 server. */
int adm_http_start(adm_ctx_t *ctx);
void adm_http_stop(adm_ctx_t *ctx);

/* adm_validate.c: one POST /validate body to its answer. */
typedef struct adm_answer {
	int code;           /* HTTP status */
	const char *reason; /* HTTP reason phrase */
	const char *ctype;  /* Content-Type */
	char *body;         /* malloc'ed */
	size_t len;
} adm_answer_t;

/* adm_validate: fills *a (a->body owned by the caller afterwards; NULL
 * only if even the error text could not be allocated). */
void adm_validate(adm_ctx_t *ctx, const char *body, size_t len, adm_answer_t *a);

#endif
