/* modules/k8s-watch/kw_certgen_out.c: the Secrets `contour certgen` builds,
 * and its --pem and --yaml files.
 *
 * As upstream's internal/certgen: Secret names contourcert, envoycert and
 * (legacy) cacert, each with the --secrets-name-suffix, label app: contour;
 * legacy: two kubernetes.io/tls Secrets (tls.crt, tls.key) and an Opaque
 * one with cacert.pem; compact: the two TLS Secrets carry ca.crt as well.
 * Ours on top: webhookcert<suffix>, kubernetes.io/tls with ca.crt in both
 * formats, when a webhook certificate was issued.
 *
 * Files as createFile/checkFile: the folder made 0755, a file created 0600
 * with O_EXCL (removed first with --overwrite, so the mode is reset),
 * "PATH created" printed once it is open, a file whose write failed removed
 * again. Error texts are upstream's, with Go's error strings inside.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "modules/k8s-watch/kw_certgen.h"

/* ---- names (apimachinery's validation.IsDNS1123Label / Subdomain) ---- */

#define KO_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define KO_LABEL_MSG                                                                               \
	"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "   \
	"and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', "    \
	"regex used for validation is '" KO_LABEL_FMT "')"
#define KO_SUBDOMAIN_MSG                                                                           \
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "  \
	"or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "      \
	"regex used for validation is '" KO_LABEL_FMT "(\\." KO_LABEL_FMT ")*')"

static int ko_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One label of [a-z0-9]([-a-z0-9]*[a-z0-9])? in s[0..n). */
static int ko_label_ok(const char *s, size_t n)
{
	if (n == 0 || !ko_alnum(s[0]) || !ko_alnum(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!ko_alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

static int ko_subdomain_ok(const char *s)
{
	for (;;) {
		size_t n = strcspn(s, ".");
		if (!ko_label_ok(s, n))
			return 0;
		if (!s[n])
			return 1;
		s += n + 1;
	}
}

/* "invalid WHAT name \"NAME\": WHY", "; "-joined after what err holds. */
static void ko_append(char *err, size_t errlen, const char *what, const char *name, const char *why)
{
	size_t used = strlen(err);
	if (used + 1 >= errlen)
		return;
	snprintf(err + used, errlen - used, "%sinvalid %s name \"%s\": %s", used ? "; " : "", what,
	         name, why);
}

int kw_certgen_validate_names(const char *ns, const char *suffix, char *err, size_t errlen)
{
	char name[512];
	err[0] = '\0';
	if (strlen(ns) > 63)
		ko_append(err, errlen, "namespace", ns, "must be no more than 63 characters");
	if (!ko_label_ok(ns, strlen(ns)))
		ko_append(err, errlen, "namespace", ns,
		          ko_subdomain_ok(ns) ? "must not contain dots" : KO_LABEL_MSG);
	snprintf(name, sizeof(name), "contourcert%s", suffix);
	if (strlen(name) > 253)
		ko_append(err, errlen, "secret", name, "must be no more than 253 characters");
	if (!ko_subdomain_ok(name))
		ko_append(err, errlen, "secret", name, KO_SUBDOMAIN_MSG);
	return err[0] ? CONTOUR_EINVAL : CONTOUR_EOK;
}

/* ---- the Secrets ---- */

/* Standard base64 with padding, no line breaks (a Secret's data). */
static json_t *ko_b64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	json_t *j = json_string(out);
	explicit_bzero(out, strlen(out)); /* may be a key */
	free(out);
	return j;
}

static json_t *ko_secret(const char *type, const char *name, const char *suffix, const char *ns)
{
	char full[512];
	snprintf(full, sizeof(full), "%s%s", name, suffix);
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:s, s:{}}", "apiVersion", "v1", "kind",
	                 "Secret", "metadata", "name", full, "namespace", ns, "labels", "app",
	                 "contour", "type", type, "data");
}

static int ko_data(json_t *secret, const char *key, const char *pem)
{
	json_t *v = ko_b64(pem);
	return v && !json_object_set_new(json_object_get(secret, "data"), key, v) ? 0 : -1;
}

/* A kubernetes.io/tls Secret; ca_pem NULL: without ca.crt. */
static json_t *ko_tls_secret(const char *name, const char *suffix, const char *ns,
                             const kw_pem_pair_t *pair, const char *ca_pem)
{
	json_t *s = ko_secret("kubernetes.io/tls", name, suffix, ns);
	if (!s || (ca_pem && ko_data(s, "ca.crt", ca_pem)) || ko_data(s, "tls.crt", pair->cert) ||
	    ko_data(s, "tls.key", pair->key)) {
		json_decref(s);
		return NULL;
	}
	return s;
}

json_t *kw_certgen_secrets(const kw_certs_t *certs, int format, const char *ns, const char *suffix)
{
	const char *ca = format == KW_SECRETS_COMPACT ? certs->ca.cert : NULL;
	json_t *list = json_array();
	if (!list ||
	    json_array_append_new(list,
	                          ko_tls_secret("contourcert", suffix, ns, &certs->contour, ca)) ||
	    json_array_append_new(list, ko_tls_secret("envoycert", suffix, ns, &certs->envoy, ca)))
		goto fail;
	if (format == KW_SECRETS_LEGACY) {
		json_t *s = ko_secret("Opaque", "cacert", suffix, ns);
		if (!s || ko_data(s, "cacert.pem", certs->ca.cert)) {
			json_decref(s);
			goto fail;
		}
		if (json_array_append_new(list, s))
			goto fail;
	}
	if (certs->webhook.cert &&
	    json_array_append_new(
	        list, ko_tls_secret("webhookcert", suffix, ns, &certs->webhook, certs->ca.cert)))
		goto fail;
	return list;
fail:
	json_decref(list);
	return NULL;
}

/* ---- YAML, as sigs.k8s.io/yaml writes a Secret ---- */

typedef struct ko_buf {
	char *p;
	size_t len, cap;
	int failed;
} ko_buf_t;

static void ko_put(ko_buf_t *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = malloc(cap);
		if (!np) {
			b->failed = 1;
			return;
		}
		/* Copied rather than realloc'd: the old buffer may hold a key. */
		if (b->p) {
			memcpy(np, b->p, b->len);
			explicit_bzero(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void ko_puts(ko_buf_t *b, const char *s)
{
	ko_put(b, s, strlen(s));
}

/* A plain scalar unless YAML would read it as something else. */
static void ko_scalar(ko_buf_t *b, const char *s)
{
	static const char *const special[] = {"true", "false", "yes", "no", "on", "off",
	                                      "null", "y",     "n",   "~",  NULL};
	int plain = *s && isalpha((unsigned char)s[0]);
	for (const char *p = s; plain && *p; p++)
		plain = isalnum((unsigned char)*p) || strchr("._/+=-", *p);
	for (int i = 0; plain && special[i]; i++)
		plain = strcasecmp(s, special[i]) != 0;
	if (plain) {
		ko_puts(b, s);
		return;
	}
	ko_puts(b, "\"");
	for (const char *p = s; *p; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = *p;
			ko_put(b, esc, 2);
		} else if ((unsigned char)*p < 0x20) {
			snprintf(esc, sizeof(esc), "\\x%02x", (unsigned char)*p);
			ko_puts(b, esc);
		} else {
			ko_put(b, p, 1);
		}
	}
	ko_puts(b, "\"");
}

static int ko_keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void ko_mapping(ko_buf_t *b, const json_t *obj, int indent)
{
	size_t n = json_object_size(obj), i = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	const char *k;
	json_t *v;
	if (!keys) {
		b->failed = 1;
		return;
	}
	json_object_foreach((json_t *)obj, k, v) keys[i++] = k;
	qsort(keys, n, sizeof(*keys), ko_keycmp);
	for (i = 0; i < n; i++) {
		v = json_object_get(obj, keys[i]);
		for (int s = 0; s < indent; s++)
			ko_puts(b, " ");
		ko_scalar(b, keys[i]);
		if (json_is_object(v) && json_object_size(v)) {
			ko_puts(b, ":\n");
			ko_mapping(b, v, indent + 2);
		} else if (json_is_object(v)) {
			ko_puts(b, ": {}\n");
		} else {
			ko_puts(b, ": ");
			ko_scalar(b, json_is_string(v) ? json_string_value(v) : "");
			ko_puts(b, "\n");
		}
	}
	free(keys);
}

char *kw_certgen_yaml(const json_t *obj)
{
	ko_buf_t b = {0};
	ko_mapping(&b, obj, 0);
	if (b.failed) {
		if (b.p)
			explicit_bzero(b.p, b.cap);
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* ---- files ---- */

void kw_certgen_path_join(const char *dir, const char *name, char *out, size_t cap)
{
	char in[4096];
	if (dir && *dir)
		snprintf(in, sizeof(in), "%s/%s", dir, name);
	else
		snprintf(in, sizeof(in), "%s", name);
	/* Go's path.Clean: one slash, no ".", ".." eaten with its parent. */
	int rooted = in[0] == '/';
	size_t o = 0;
	char *segs[512];
	size_t nseg = 0;
	for (char *save = NULL, *t = strtok_r(in, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, "."))
			continue;
		if (!strcmp(t, "..") && nseg > 0 && strcmp(segs[nseg - 1], "..")) {
			nseg--;
			continue;
		}
		if (!strcmp(t, "..") && rooted)
			continue;
		if (nseg < sizeof(segs) / sizeof(segs[0]))
			segs[nseg++] = t;
	}
	out[0] = '\0';
	if (rooted)
		o += (size_t)snprintf(out, cap, "/");
	for (size_t i = 0; i < nseg && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "/" : "", segs[i]);
	if (!out[0])
		snprintf(out, cap, ".");
}

/* Go's syscall error text: strerror in lower case ("file exists"). */
static const char *ko_errno_text(int e, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", strerror(e));
	if (buf[0])
		buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

/* os.MkdirAll(dir, 0755). */
static int ko_mkdir_all(const char *dir, char *err, size_t errlen)
{
	char p[4096], e[128];
	struct stat st;
	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "unable to create %s: mkdir %s: %s", dir, p,
			         ko_errno_text(errno, e, sizeof(e)));
			return CONTOUR_EIO;
		}
		*s = c;
		if (!c)
			break;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "unable to create %s: mkdir %s: not a directory", dir, dir);
		return CONTOUR_EIO;
	}
	return CONTOUR_EOK;
}

/* createFile, then the write and checkFile. */
static int ko_write_file(const char *path, const char *data, int overwrite, char *err,
                         size_t errlen)
{
	char dir[4096], e[128];
	const char *slash = strrchr(path, '/');
	if (slash && slash != path)
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		snprintf(dir, sizeof(dir), "%s", slash ? "/" : ".");
	int rc = ko_mkdir_all(dir, err, errlen);
	if (rc != CONTOUR_EOK)
		return rc;
	int flags = O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC;
	if (overwrite) {
		if (unlink(path) != 0 && errno != ENOENT) {
			snprintf(err, errlen, "unable to remove %s: remove %s: %s", path, path,
			         ko_errno_text(errno, e, sizeof(e)));
			return CONTOUR_EIO;
		}
	} else {
		flags |= O_EXCL;
	}
	int fd = open(path, flags, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "can't create file %s: open %s: %s", path, path,
		         ko_errno_text(errno, e, sizeof(e)));
		return CONTOUR_EIO;
	}
	printf("%s created\n", path);
	fflush(stdout);
	size_t n = strlen(data), off = 0;
	int werr = 0;
	while (off < n) {
		ssize_t w = write(fd, data + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			werr = w < 0 ? errno : EIO;
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 && !werr)
		werr = errno;
	if (!werr)
		return CONTOUR_EOK;
	if (unlink(path) != 0)
		snprintf(err, errlen, "couldn't write out %s and failed to clean up, remove %s: %s",
		         path, path, ko_errno_text(errno, e, sizeof(e)));
	else
		snprintf(err, errlen, "write %s: %s", path, ko_errno_text(werr, e, sizeof(e)));
	return CONTOUR_EIO;
}

int kw_certgen_write_pem(const char *dir, const kw_certs_t *certs, int overwrite, char *err,
                         size_t errlen)
{
	const struct {
		const char *name, *data;
	} files[] = {
	    {"cacert.pem", certs->ca.cert},         {"contourcert.pem", certs->contour.cert},
	    {"contourkey.pem", certs->contour.key}, {"envoycert.pem", certs->envoy.cert},
	    {"envoykey.pem", certs->envoy.key},     {"webhookcert.pem", certs->webhook.cert},
	    {"webhookkey.pem", certs->webhook.key},
	};
	char path[4096];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!files[i].data)
			continue;
		kw_certgen_path_join(dir, files[i].name, path, sizeof(path));
		int rc = ko_write_file(path, files[i].data, overwrite, err, errlen);
		if (rc != CONTOUR_EOK)
			return rc;
	}
	return CONTOUR_EOK;
}

int kw_certgen_write_yaml(const char *dir, const json_t *secrets, int overwrite, char *err,
                          size_t errlen)
{
	size_t i;
	json_t *s;
	char file[600], path[4096];
	json_array_foreach((json_t *)secrets, i, s)
	{
		const char *name =
		    json_string_value(json_object_get(json_object_get(s, "metadata"), "name"));
		snprintf(file, sizeof(file), "%s.yaml", name ? name : "secret");
		kw_certgen_path_join(dir, file, path, sizeof(path));
		char *text = kw_certgen_yaml(s);
		if (!text) {
			snprintf(err, errlen, "out of memory");
			return CONTOUR_ENOMEM;
		}
		int rc = ko_write_file(path, text, overwrite, err, errlen);
		explicit_bzero(text, strlen(text));
		free(text);
		if (rc != CONTOUR_EOK)
			return rc;
	}
	return CONTOUR_EOK;
}
