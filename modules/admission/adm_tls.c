/* modules/admission/adm_tls.c: the serving certificate.
 *
 * cert-file and key-file are loaded into an SSL_CTX (TLS 1.2 and 1.3,
 * ALPN http/1.1 only: kube-apiserver calls webhooks over HTTP/1.1). Every
 * ADM_RELOAD_MS the files are stat()ed; when the device, inode, size,
 * mtime or ctime of either changed (a Secret volume swaps a symlink, an
 * operator rewrites the files) the pair is loaded again. A pair that loads
 * replaces the context for new connections; open connections hold a
 * reference to theirs. One that does not (a half-written rotation, a key
 * that does not match) is logged and the old context kept; it is tried
 * again when the files change again, so a rotation written file by file
 * succeeds once both files are in place. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>

#include "modules/admission/adm.h"

typedef struct adm_fstat {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	int err; /* errno of stat, 0 when it worked */
} adm_fstat_t;

struct adm_tls {
	adm_ctx_t *ctx;
	SSL_CTX *ssl_ctx;
	adm_fstat_t cert_st, key_st; /* as last tried */
	contour_timer_t *timer;
};

static void adm_tls_stat(const char *path, adm_fstat_t *out)
{
	struct stat st;
	memset(out, 0, sizeof(*out));
	if (stat(path, &st) != 0) {
		out->err = errno;
		return;
	}
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	out->size = st.st_size;
	out->mtime = st.st_mtim;
	out->ctime = st.st_ctim;
}

static int adm_tls_same(const adm_fstat_t *a, const adm_fstat_t *b)
{
	return a->err == b->err && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static int adm_tls_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                        const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h11[] = "\x08http/1.1";
	unsigned char *sel = NULL;
	if (SSL_select_next_proto(&sel, outlen, h11, sizeof(h11) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK; /* no ALPN: HTTP/1.1 all the same */
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* The last OpenSSL error as text (no secret material: file names and
 * reasons only). */
static const char *adm_tls_err(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	if (!e)
		snprintf(buf, len, "unknown error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/* A file must be readable before OpenSSL is asked, so the message says
 * "No such file or directory" rather than OpenSSL's system library code. */
static int adm_tls_readable(adm_ctx_t *ctx, const char *key, const char *path, int level)
{
	FILE *f = fopen(path, "r");
	if (f) {
		fclose(f);
		return 0;
	}
	contour_log(ctx->mod, level, "%s: cannot read '%s': %s", key, path, strerror(errno));
	return -1;
}

static SSL_CTX *adm_tls_load(adm_ctx_t *ctx, int level)
{
	char e[256];
	const char *cert = ctx->set.cert_file, *key = ctx->set.key_file;
	if (adm_tls_readable(ctx, "cert-file", cert, level) ||
	    adm_tls_readable(ctx, "key-file", key, level))
		return NULL;
	ERR_clear_error();
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());
	if (!c) {
		contour_log(ctx->mod, level, "cannot create a TLS context: %s",
		            adm_tls_err(e, sizeof(e)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	                           SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_alpn_select_cb(c, adm_tls_alpn, NULL);
	if (SSL_CTX_use_certificate_chain_file(c, cert) != 1) {
		contour_log(ctx->mod, level, "cert-file: cannot load '%s': %s", cert,
		            adm_tls_err(e, sizeof(e)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1) {
		/* OpenSSL checks the key against the certificate here already. */
		unsigned long last = ERR_peek_last_error();
		if (ERR_GET_LIB(last) == ERR_LIB_X509 &&
		    ERR_GET_REASON(last) == X509_R_KEY_VALUES_MISMATCH)
			contour_log(ctx->mod, level, "key-file: '%s' does not match cert-file '%s'",
			            key, cert);
		else
			contour_log(ctx->mod, level, "key-file: cannot load '%s': %s", key,
			            adm_tls_err(e, sizeof(e)));
		ERR_clear_error();
		goto fail;
	}
	if (SSL_CTX_check_private_key(c) != 1) {
		contour_log(ctx->mod, level, "key-file: '%s' does not match cert-file '%s': %s",
		            key, cert, adm_tls_err(e, sizeof(e)));
		goto fail;
	}
	return c;
fail:
	SSL_CTX_free(c);
	return NULL;
}

static void adm_tls_log_loaded(adm_tls_t *t, const char *what)
{
	X509 *x = SSL_CTX_get0_certificate(t->ssl_ctx);
	char subject[256] = "?";
	if (x)
		X509_NAME_oneline(X509_get_subject_name(x), subject, sizeof(subject));
	contour_log(t->ctx->mod, CONTOUR_LOG_INFO, "%s certificate %s (%s)", what,
	            t->ctx->set.cert_file, subject);
}

static void adm_tls_tick(contour_timer_t *timer, void *ud);

adm_tls_t *adm_tls_new(adm_ctx_t *ctx)
{
	adm_tls_t *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ctx = ctx;
	/* Stat before loading: a change while loading is seen next time. */
	adm_tls_stat(ctx->set.cert_file, &t->cert_st);
	adm_tls_stat(ctx->set.key_file, &t->key_st);
	t->ssl_ctx = adm_tls_load(ctx, CONTOUR_LOG_ERR);
	t->timer = contour_timer_new(ctx->mod, adm_tls_tick, t); /* armed in start */
	if (!t->ssl_ctx || !t->timer) {
		adm_tls_free(t);
		return NULL;
	}
	adm_tls_log_loaded(t, "loaded");
	return t;
}

void adm_tls_free(adm_tls_t *t)
{
	if (!t)
		return;
	contour_timer_free(t->timer);
	SSL_CTX_free(t->ssl_ctx);
	free(t);
}

void adm_tls_check_now(adm_tls_t *t)
{
	adm_fstat_t c, k;
	adm_tls_stat(t->ctx->set.cert_file, &c);
	adm_tls_stat(t->ctx->set.key_file, &k);
	if (adm_tls_same(&c, &t->cert_st) && adm_tls_same(&k, &t->key_st))
		return;
	t->cert_st = c;
	t->key_st = k;
	SSL_CTX *n = adm_tls_load(t->ctx, CONTOUR_LOG_ERR);
	if (!n) {
		contour_log(t->ctx->mod, CONTOUR_LOG_ERR,
		            "the certificate files changed but do not load: still serving the "
		            "previous certificate");
		return;
	}
	SSL_CTX_free(t->ssl_ctx);
	t->ssl_ctx = n;
	adm_tls_log_loaded(t, "reloaded");
}

static void adm_tls_tick(contour_timer_t *timer, void *ud)
{
	adm_tls_t *t = ud;
	adm_tls_check_now(t);
	contour_timer_arm(t->timer, ADM_RELOAD_MS);
}

int adm_tls_start(adm_tls_t *t)
{
	/* Files replaced between init and start are picked up at once. */
	adm_tls_check_now(t);
	return contour_timer_arm(t->timer, ADM_RELOAD_MS);
}

void adm_tls_stop(adm_tls_t *t)
{
	if (t && t->timer)
		contour_timer_disarm(t->timer);
}

SSL *adm_tls_ssl(adm_tls_t *t)
{
	return SSL_new(t->ssl_ctx);
}
