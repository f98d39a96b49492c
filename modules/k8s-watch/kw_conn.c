/* modules/k8s-watch/kw_conn.c: where the API server is and how to log in.
 *
 * Two ways, as upstream (internal/k8s/clients.go): a kubeconfig file
 * (clientcmd.BuildConfigFromFlags) or the pod's service account
 * (rest.InClusterConfig). Only what a controller needs from a kubeconfig is
 * read: the current context's cluster (server, CA, insecure-skip-tls-verify,
 * tls-server-name), user (token, tokenFile, client certificate and key) and
 * namespace. exec and auth-provider plugins are refused by name rather than
 * ignored, so a config that depends on them fails clearly.
 *
 * File contents are read once here; only the token file is re-read later
 * (by kw_http.c). Errors name the file and the field; they never quote a
 * token or a key.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "modules/k8s-watch/kw.h"

#define KW_CONN_FILE_MAX (4u << 20) /* certificates and tokens are small */
#define KW_SA_DIR        "/var/run/secrets/kubernetes.io/serviceaccount"

void kw_conn_fini(kw_conn_t *c)
{
	if (!c)
		return;
	CONTOUR_FREE_ALL(c->server, c->ca_pem, c->tls_server_name);
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	CONTOUR_FREE_ALL(c->token, c->token_file, c->cert_pem);
	if (c->key_pem)
		explicit_bzero(c->key_pem, strlen(c->key_pem));
	free(c->key_pem);
	free(c->namespace_);
	memset(c, 0, sizeof(*c));
}

/* The whole file as a NUL-terminated string, or NULL with errno set. */
static char *kw_conn_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
		if (len + 1 == cap) {
			if (cap >= KW_CONN_FILE_MAX) {
				errno = EFBIG;
				free(buf);
				buf = NULL;
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	int ferr = ferror(f);
	fclose(f);
	if (buf && ferr) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* Standard base64 (the kubeconfig *-data fields), whitespace ignored,
 * padding optional. A new NUL-terminated string, or NULL if corrupt. */
char *kw_conn_base64(const char *in)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in);
	char *out = malloc(n / 4 * 3 + 4);
	if (!out)
		return NULL;
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0, pad = 0;
	for (const char *p = in; *p; p++) {
		if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			continue;
		if (*p == '=') {
			pad++;
			continue;
		}
		const char *q = strchr(abc, *p);
		if (!q || pad) /* data after padding */
			goto bad;
		acc = (acc << 6) | (unsigned)(q - abc);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	/* 6 leftover bits cannot encode a byte; more than two pads is wrong. */
	if (bits >= 6 || pad > 2)
		goto bad;
	out[o] = '\0';
	if (strlen(out) != o) /* a NUL inside: not PEM text */
		goto bad;
	return out;
bad:
	free(out);
	return NULL;
}

/* The folder of path, for relative file names inside a kubeconfig. */
static void kw_conn_dir(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(out, cap, ".");
	else if (slash == path)
		snprintf(out, cap, "/");
	else
		snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

static char *kw_conn_resolve(const char *dir, const char *p)
{
	char buf[8192];
	if (p[0] == '/')
		snprintf(buf, sizeof(buf), "%s", p);
	else
		snprintf(buf, sizeof(buf), "%s/%s", dir, p);
	return strdup(buf);
}

/* The entry of a kubeconfig list (clusters, users, contexts) named name. */
static const json_t *kw_conn_named(const json_t *doc, const char *list, const char *name,
                                   const char *inner)
{
	size_t i;
	const json_t *e;
	json_array_foreach(json_object_get(doc, list), i, e)
	{
		const char *n = json_string_value(json_object_get(e, "name"));
		if (n && !strcmp(n, name))
			return json_object_get(e, inner);
	}
	return NULL;
}

typedef struct kw_conn_ctx {
	const char *path; /* the kubeconfig */
	char dir[4096];
	char *err;
	size_t errlen;
} kw_conn_ctx_t;

/* One PEM (or token) from `<field>-data` (base64) or `<field>` (a file
 * path), into *out. Absent: *out stays NULL. */
static int kw_conn_material(kw_conn_ctx_t *x, const json_t *obj, const char *where,
                            const char *field, const char *data_field, char **out)
{
	const char *data = contour_json_get_nonempty(obj, data_field);
	const char *file = contour_json_get_nonempty(obj, field);
	if (data) {
		*out = kw_conn_base64(data);
		if (!*out) {
			snprintf(x->err, x->errlen, "%s: %s.%s: not valid base64", x->path, where,
			         data_field);
			return CONTOUR_ECONFIG;
		}
		return CONTOUR_EOK;
	}
	if (!file)
		return CONTOUR_EOK;
	char *p = kw_conn_resolve(x->dir, file);
	if (!p)
		return CONTOUR_ENOMEM;
	*out = kw_conn_read_file(p);
	if (!*out) {
		snprintf(x->err, x->errlen, "%s: %s.%s: cannot read %s: %s", x->path, where, field,
		         p, strerror(errno));
		free(p);
		return CONTOUR_ECONFIG;
	}
	free(p);
	return CONTOUR_EOK;
}

static int kw_conn_cluster(kw_conn_ctx_t *x, kw_conn_t *c, const json_t *cl, const char *name)
{
	char where[512];
	snprintf(where, sizeof(where), "clusters[%s].cluster", name);
	const char *server = contour_json_get_nonempty(cl, "server");
	if (!server) {
		snprintf(x->err, x->errlen, "%s: %s.server: not set", x->path, where);
		return CONTOUR_ECONFIG;
	}
	if (strncmp(server, "https://", 8) && strncmp(server, "http://", 7)) {
		snprintf(x->err, x->errlen, "%s: %s.server: %s is not an http(s) URL", x->path,
		         where, server);
		return CONTOUR_ECONFIG;
	}
	if (json_object_get(cl, "proxy-url")) {
		snprintf(x->err, x->errlen, "%s: %s.proxy-url: not supported", x->path, where);
		return CONTOUR_ECONFIG;
	}
	c->server = strdup(server);
	if (!c->server)
		return CONTOUR_ENOMEM;
	size_t sl = strlen(c->server);
	while (sl > 0 && c->server[sl - 1] == '/')
		c->server[--sl] = '\0';
	c->insecure_skip_verify = json_is_true(json_object_get(cl, "insecure-skip-tls-verify"));
	const char *sni = contour_json_get_nonempty(cl, "tls-server-name");
	if (sni && !(c->tls_server_name = strdup(sni)))
		return CONTOUR_ENOMEM;
	return kw_conn_material(x, cl, where, "certificate-authority", "certificate-authority-data",
	                        &c->ca_pem);
}

static int kw_conn_user(kw_conn_ctx_t *x, kw_conn_t *c, const json_t *u, const char *name)
{
	char where[512];
	snprintf(where, sizeof(where), "users[%s].user", name);
	static const char *const unsupported[] = {"exec", "auth-provider", "username", NULL};
	for (int i = 0; unsupported[i]; i++) {
		if (json_object_get(u, unsupported[i])) {
			snprintf(x->err, x->errlen,
			         "%s: %s.%s: not supported (use a token, "
			         "tokenFile or a client certificate)",
			         x->path, where, unsupported[i]);
			return CONTOUR_ECONFIG;
		}
	}
	const char *tok = contour_json_get_nonempty(u, "token");
	if (tok && !(c->token = strdup(tok)))
		return CONTOUR_ENOMEM;
	const char *tf = contour_json_get_nonempty(u, "tokenFile");
	/* client-go: an inline token wins over the file. */
	if (tf && !tok) {
		c->token_file = kw_conn_resolve(x->dir, tf);
		if (!c->token_file)
			return CONTOUR_ENOMEM;
		struct stat st;
		if (stat(c->token_file, &st) != 0) {
			snprintf(x->err, x->errlen, "%s: %s.tokenFile: cannot read %s: %s", x->path,
			         where, c->token_file, strerror(errno));
			return CONTOUR_ECONFIG;
		}
	}
	int rc = kw_conn_material(x, u, where, "client-certificate", "client-certificate-data",
	                          &c->cert_pem);
	if (rc == CONTOUR_EOK)
		rc = kw_conn_material(x, u, where, "client-key", "client-key-data", &c->key_pem);
	if (rc != CONTOUR_EOK)
		return rc;
	if (!c->cert_pem != !c->key_pem) {
		snprintf(x->err, x->errlen,
		         "%s: %s.%s: not set (a client certificate needs its key)", x->path, where,
		         c->cert_pem ? "client-key" : "client-certificate");
		return CONTOUR_ECONFIG;
	}
	return CONTOUR_EOK;
}

int kw_conn_from_kubeconfig(kw_conn_t *c, const char *path, char *err, size_t errlen)
{
	json_t *docs = NULL;
	contour_yaml_error_t yerr = {0};
	kw_conn_ctx_t x = {.path = path, .err = err, .errlen = errlen};
	memset(c, 0, sizeof(*c));
	kw_conn_dir(path, x.dir, sizeof(x.dir));
	int rc = contour_yaml_parse_file(path, &docs, NULL, &yerr);
	if (rc != CONTOUR_EOK) {
		if (yerr.line)
			snprintf(err, errlen, "%s:%d: %s", path, yerr.line, yerr.message);
		else
			snprintf(err, errlen, "%s: %s", path, yerr.message);
		return CONTOUR_ECONFIG;
	}
	const json_t *doc = json_array_get(docs, 0);
	rc = CONTOUR_ECONFIG;
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "%s: not a kubeconfig (expected a mapping)", path);
		goto fail;
	}
	const char *cur = contour_json_get_nonempty(doc, "current-context");
	if (!cur) {
		snprintf(err, errlen, "%s: current-context: not set", path);
		goto fail;
	}
	const json_t *ctx = kw_conn_named(doc, "contexts", cur, "context");
	if (!json_is_object(ctx)) {
		snprintf(err, errlen, "%s: contexts: no context named \"%s\" (current-context)",
		         path, cur);
		goto fail;
	}
	const char *cluster = contour_json_get_nonempty(ctx, "cluster");
	if (!cluster) {
		snprintf(err, errlen, "%s: contexts[%s].context.cluster: not set", path, cur);
		goto fail;
	}
	const json_t *cl = kw_conn_named(doc, "clusters", cluster, "cluster");
	if (!json_is_object(cl)) {
		snprintf(err, errlen, "%s: clusters: no cluster named \"%s\" (context \"%s\")",
		         path, cluster, cur);
		goto fail;
	}
	if ((rc = kw_conn_cluster(&x, c, cl, cluster)) != CONTOUR_EOK)
		goto fail;
	const char *user = contour_json_get_nonempty(ctx, "user");
	if (user) {
		const json_t *u = kw_conn_named(doc, "users", user, "user");
		if (!json_is_object(u)) {
			snprintf(err, errlen, "%s: users: no user named \"%s\" (context \"%s\")",
			         path, user, cur);
			rc = CONTOUR_ECONFIG;
			goto fail;
		}
		if ((rc = kw_conn_user(&x, c, u, user)) != CONTOUR_EOK)
			goto fail;
	}
	const char *ns = contour_json_get_nonempty(ctx, "namespace");
	if (ns && !(c->namespace_ = strdup(ns))) {
		rc = CONTOUR_ENOMEM;
		goto fail;
	}
	json_decref(docs);
	return CONTOUR_EOK;
fail:
	if (rc == CONTOUR_ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	json_decref(docs);
	kw_conn_fini(c);
	return rc == CONTOUR_ENOMEM ? rc : CONTOUR_ECONFIG;
}

int kw_conn_in_cluster(kw_conn_t *c, const char *dir, char *err, size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	char buf[8192];
	memset(c, 0, sizeof(*c));
	if (!dir)
		dir = KW_SA_DIR;
	if (!host || !*host || !port || !*port) {
		snprintf(err, errlen,
		         "not running in a cluster: KUBERNETES_SERVICE_HOST and "
		         "KUBERNETES_SERVICE_PORT must be set");
		return CONTOUR_ECONFIG;
	}
	/* JoinHostPort: an IPv6 address gets brackets. */
	if (strchr(host, ':'))
		snprintf(buf, sizeof(buf), "https://[%s]:%s", host, port);
	else
		snprintf(buf, sizeof(buf), "https://%s:%s", host, port);
	c->server = strdup(buf);
	snprintf(buf, sizeof(buf), "%s/token", dir);
	c->token_file = strdup(buf);
	if (!c->server || !c->token_file)
		goto nomem;
	/* client-go fails without a token, but only logs a missing CA. */
	char *tok = kw_conn_read_file(c->token_file);
	if (!tok) {
		snprintf(err, errlen, "%s: cannot read the service account token: %s",
		         c->token_file, strerror(errno));
		kw_conn_fini(c);
		return CONTOUR_ECONFIG;
	}
	explicit_bzero(tok, strlen(tok));
	free(tok);
	snprintf(buf, sizeof(buf), "%s/ca.crt", dir);
	c->ca_pem = kw_conn_read_file(buf);
	snprintf(buf, sizeof(buf), "%s/namespace", dir);
	char *ns = kw_conn_read_file(buf);
	if (ns) {
		ns[strcspn(ns, " \t\r\n")] = '\0';
		if (*ns)
			c->namespace_ = ns;
		else
			free(ns);
	}
	return CONTOUR_EOK;
nomem:
	snprintf(err, errlen, "out of memory");
	kw_conn_fini(c);
	return CONTOUR_ENOMEM;
}
