/* modules/xds-grpc/xds_bootstrap.c: `contour bootstrap PATH`, the Envoy
 * bootstrap JSON upstream Contour writes (internal/envoy/v3/bootstrap.go,
 * cmd/contour/bootstrap.go).
 *
 * The JSON is what Go's protojson prints for upstream's Bootstrap message
 * with UseProtoNames: proto field names, fields in the order the .proto
 * files declare them, proto3 defaults left out (lb_policy ROUND_ROBIN,
 * priority DEFAULT, dns_lookup_family AUTO, protocol TCP), 64-bit integers
 * as strings, durations as "5s" / "0.250s", and "@type" first in every Any.
 * It is indented by 2 so that an operator can read it in the pod.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <jansson.h>
#include <contour/error.h>
#include <contour/mem.h>

#include "modules/xds-grpc/xds_bootstrap.h"

#define XB_TYPE_PREFIX           "type.googleapis.com/"
#define XB_XDS_CLUSTER           "contour"
#define XB_ADMIN_CLUSTER         "envoy-admin"
#define XB_SDS_SUBDIR            "sds"
#define XB_SDS_CERT_FILE         "xds-tls-certificate.json"
#define XB_SDS_VALIDATION_FILE   "xds-validation-context.json"
#define XB_SDS_CERT_NAME         "contour_xds_tls_certificate"
#define XB_SDS_VALIDATION_NAME   "contour_xds_tls_validation_context"
#define XB_DEFAULT_XDS_ADDRESS   "127.0.0.1"
#define XB_DEFAULT_XDS_PORT      8001
#define XB_DEFAULT_ADMIN_ADDRESS "/admin/admin.sock"
#define XB_DEFAULT_ADMIN_PORT    9001
#define XB_DEFAULT_NAMESPACE     "projectcontour"
/* 0.95 and 0.98 print as such, not as their 17-digit binary neighbours. */
#define XB_JSON_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

/* The command's settings. Empty strings and zero numbers mean "use the
 * default", as upstream's Get* accessors do (an explicit --xds-port=0 is
 * 8001 there too). */
typedef struct xb_opts {
	const char *path;
	const char *admin_address;
	long admin_port;
	const char *dns_lookup_family;
	const char *cafile;
	const char *cert_file;
	const char *key_file;
	const char *namespace;
	int64_t max_conn;
	uint64_t max_heap;
	const char *resources_dir;
	const char *xds_address;
	long xds_port;
	const char *xds_resource_version;
	const char *log_format; /* upstream's global flag, accepted here too */
} xb_opts_t;

typedef enum { XB_STR, XB_PORT, XB_INT64, XB_UINT64 } xb_kind_t;

typedef struct xb_flag {
	const char *name; /* without the leading "--" */
	xb_kind_t kind;
	size_t off;
	const char *env; /* used when the flag is absent and the variable non-empty */
	const char *help;
} xb_flag_t;

#define XB_OFF(f) offsetof(xb_opts_t, f)

/* Upstream's flags, in kingpin's (alphabetical) help order. */
static const xb_flag_t xb_flags[] = {
    {"admin-address", XB_STR, XB_OFF(admin_address), NULL,
     "Path to Envoy admin unix domain socket (default /admin/admin.sock)."},
    {"admin-port", XB_PORT, XB_OFF(admin_port), NULL,
     "DEPRECATED: Envoy admin interface port (only in the envoy-admin stat name; default 9001)."},
    {"dns-lookup-family", XB_STR, XB_OFF(dns_lookup_family), NULL,
     "DNS resolution policy for Envoy -> Contour cluster name lookup: v4, v6, auto, or all."},
    {"envoy-cafile", XB_STR, XB_OFF(cafile), "ENVOY_CAFILE",
     "CA filename for Envoy secure xDS gRPC communication."},
    {"envoy-cert-file", XB_STR, XB_OFF(cert_file), "ENVOY_CERT_FILE",
     "Client certificate filename for Envoy secure xDS gRPC communication."},
    {"envoy-key-file", XB_STR, XB_OFF(key_file), "ENVOY_KEY_FILE",
     "Client key filename for Envoy secure xDS gRPC communication."},
    {"log-format", XB_STR, XB_OFF(log_format), NULL, "Log output format: text or json."},
    {"namespace", XB_STR, XB_OFF(namespace), "CONTOUR_NAMESPACE",
     "The namespace the Envoy container will run in (default projectcontour)."},
    {"overload-downstream-max-conn", XB_INT64, XB_OFF(max_conn), NULL,
     "Defines the Envoy global downstream connection limit."},
    {"overload-max-heap", XB_UINT64, XB_OFF(max_heap), NULL,
     "Maximum heap size in bytes until overload manager stops accepting new connections."},
    {"resources-dir", XB_STR, XB_OFF(resources_dir), NULL,
     "Directory where configuration files will be written to."},
    {"xds-address", XB_STR, XB_OFF(xds_address), NULL, "xDS gRPC API address (default 127.0.0.1)."},
    {"xds-port", XB_PORT, XB_OFF(xds_port), NULL, "xDS gRPC API port (default 8001)."},
    {"xds-resource-version", XB_STR, XB_OFF(xds_resource_version), NULL,
     "The versions of the xDS resources to request from Contour (default v3)."},
    {NULL, XB_STR, 0, NULL, NULL},
};

/* Prefixes of the three kinds of failure, as upstream reports them:
 * kingpin's parse errors, then the two logrus Fatal messages. */
#define XB_WHAT_PARSE "error"
#define XB_WHAT_ARGS  "failed to parse bootstrap args"
#define XB_WHAT_WRITE "failed to write bootstrap configuration"

__attribute__((format(printf, 2, 3))) static void xb_err(const char *what, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "contour: %s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	/* kingpin points at the help after every parse error */
	fputs(strcmp(what, XB_WHAT_PARSE) ? "\n" : ", try --help\n", stderr);
}

static void xb_usage(FILE *f)
{
	fprintf(f, "usage: contour bootstrap [<flags>] <path>\n\n"
	           "Generate bootstrap configuration.\n\nFlags:\n");
	for (const xb_flag_t *fl = xb_flags; fl->name; fl++) {
		fprintf(f, "  --%s%s\n        %s", fl->name, fl->kind == XB_STR ? "=STRING" : "=N",
		        fl->help);
		if (fl->env)
			fprintf(f, " ($%s)", fl->env);
		fputc('\n', f);
	}
	fprintf(f, "\nArgs:\n  <path>  Configuration file ('-' for standard output).\n");
}

static const xb_flag_t *xb_flag_find(const char *name, size_t len)
{
	for (const xb_flag_t *fl = xb_flags; fl->name; fl++)
		if (strlen(fl->name) == len && !strncmp(fl->name, name, len))
			return fl;
	return NULL;
}

/* Decimal only: a "0x" or leading-zero port is more likely a typo than
 * intent. Returns 0 or CONTOUR_EINVAL (message printed). */
static int xb_flag_set(xb_opts_t *o, const xb_flag_t *fl, const char *val)
{
	char *field = (char *)o + fl->off;
	char *end = NULL;

	errno = 0;
	switch (fl->kind) {
	case XB_STR:
		*(const char **)(void *)field = val;
		return CONTOUR_EOK;
	case XB_PORT: {
		long v = strtol(val, &end, 10);
		if (!*val || *end || errno || v < 0 || v > 65535) {
			xb_err(XB_WHAT_PARSE,
			       "invalid value \"%s\" for flag '--%s': must be a port number "
			       "from 0 to 65535",
			       val, fl->name);
			return CONTOUR_EINVAL;
		}
		*(long *)(void *)field = v;
		return CONTOUR_EOK;
	}
	case XB_INT64: {
		long long v = strtoll(val, &end, 10);
		if (!*val || *end || errno) {
			xb_err(XB_WHAT_PARSE,
			       "invalid value \"%s\" for flag '--%s': not an integer", val,
			       fl->name);
			return CONTOUR_EINVAL;
		}
		*(int64_t *)(void *)field = v;
		return CONTOUR_EOK;
	}
	case XB_UINT64: {
		/* strtoull would wrap "-1" around to UINT64_MAX */
		unsigned long long v = strtoull(val, &end, 10);
		if (!*val || *end || errno || strchr(val, '-')) {
			xb_err(XB_WHAT_PARSE,
			       "invalid value \"%s\" for flag '--%s': not an unsigned integer", val,
			       fl->name);
			return CONTOUR_EINVAL;
		}
		*(uint64_t *)(void *)field = v;
		return CONTOUR_EOK;
	}
	}
	return CONTOUR_EINVAL;
}

/* kingpin's rules: "--f v" and "--f=v", a flag at most once, the one
 * positional argument anywhere, "--" ends the flags. Returns 0, 1 when
 * --help was asked for, or CONTOUR_EINVAL (message printed). */
static int xb_parse(int argc, char **argv, xb_opts_t *o)
{
	unsigned long seen = 0;
	int flags_done = 0;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!flags_done && !strcmp(arg, "--")) {
			flags_done = 1;
			continue;
		}
		if (flags_done || arg[0] != '-' || !strcmp(arg, "-")) {
			if (o->path) {
				xb_err(XB_WHAT_PARSE, "unexpected %s", arg);
				return CONTOUR_EINVAL;
			}
			o->path = arg;
			continue;
		}
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h"))
			return 1;
		if (strncmp(arg, "--", 2)) {
			xb_err(XB_WHAT_PARSE, "unknown short flag '%s'", arg);
			return CONTOUR_EINVAL;
		}
		const char *name = arg + 2;
		size_t len = strcspn(name, "=");
		const xb_flag_t *fl = xb_flag_find(name, len);
		if (!fl) {
			xb_err(XB_WHAT_PARSE, "unknown long flag '--%.*s'", (int)len, name);
			return CONTOUR_EINVAL;
		}
		const char *val;
		if (name[len] == '=') {
			val = name + len + 1;
		} else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2)) {
			val = argv[++i];
		} else {
			xb_err(XB_WHAT_PARSE, "expected argument for flag '--%s'", fl->name);
			return CONTOUR_EINVAL;
		}
		unsigned long bit = 1ul << (fl - xb_flags);
		if (seen & bit) {
			xb_err(XB_WHAT_PARSE, "flag '%s' cannot be repeated", fl->name);
			return CONTOUR_EINVAL;
		}
		seen |= bit;
		if (xb_flag_set(o, fl, val))
			return CONTOUR_EINVAL;
	}
	if (!o->path) {
		xb_err(XB_WHAT_PARSE, "required argument 'path' not provided");
		return CONTOUR_EINVAL;
	}
	for (const xb_flag_t *fl = xb_flags; fl->name; fl++) {
		const char *v = fl->env ? getenv(fl->env) : NULL;
		if (v && *v && !(seen & (1ul << (fl - xb_flags))) && xb_flag_set(o, fl, v))
			return CONTOUR_EINVAL;
	}
	return CONTOUR_EOK;
}

/* Go's net.ParseIP: dotted-quad IPv4 or IPv6, no zone, no brackets. */
static int xb_is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The checks upstream's main runs before writing anything, plus one of
 * ours: an unknown --dns-lookup-family is refused instead of silently
 * becoming "auto". Returns 0 or CONTOUR_EINVAL (message printed). */
static int xb_validate(const xb_opts_t *o)
{
	static const char *const families[] = {"", "auto", "v4", "v6", "all", NULL};
	const char *const *f;

	if (strcmp(o->xds_resource_version, "v3")) {
		xb_err(XB_WHAT_ARGS, "invalid xDS version \"%s\"", o->xds_resource_version);
		return CONTOUR_EINVAL;
	}
	/* Only a unix socket: Envoy's admin API must not be reachable over TCP. */
	if (!strcmp(o->admin_address, "localhost") || xb_is_ip(o->admin_address)) {
		xb_err(XB_WHAT_ARGS,
		       "--admin-address: invalid value \"%s\", cannot be `localhost` or an ip "
		       "address",
		       o->admin_address);
		return CONTOUR_EINVAL;
	}
	if (o->max_conn < 0) {
		xb_err(XB_WHAT_ARGS,
		       "--overload-downstream-max-conn: invalid value %" PRId64 ", cannot be < 0",
		       o->max_conn);
		return CONTOUR_EINVAL;
	}
	if (o->log_format && strcmp(o->log_format, "text") && strcmp(o->log_format, "json")) {
		xb_err(XB_WHAT_PARSE, "enum value must be one of text,json, got '%s'",
		       o->log_format);
		return CONTOUR_EINVAL;
	}
	for (f = families; *f && strcmp(*f, o->dns_lookup_family); f++)
		;
	if (!*f) {
		xb_err(XB_WHAT_ARGS,
		       "--dns-lookup-family: invalid value \"%s\", must be v4, v6, auto or all",
		       o->dns_lookup_family);
		return CONTOUR_EINVAL;
	}
	return CONTOUR_EOK;
}

/* Either none of the three TLS files or all of them, each an existing,
 * non-empty file: a missing secret mount then fails the init container,
 * visibly, instead of an Envoy that never connects. Same order and
 * messages as upstream. Returns 1 (TLS), 0 (plaintext) or CONTOUR_EINVAL. */
static int xb_check_tls(const xb_opts_t *o)
{
	const char *files[] = {o->cert_file, o->key_file, o->cafile};
	struct stat st;

	if (!*o->cert_file && !*o->key_file && !*o->cafile)
		return 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!*files[i]) {
			xb_err(XB_WHAT_WRITE,
			       "you must supply all TLS parameters - \"--envoy-cafile\", "
			       "\"--envoy-cert-file\", \"--envoy-key-file\", or none of them");
			return CONTOUR_EINVAL;
		}
		if (stat(files[i], &st)) {
			xb_err(XB_WHAT_WRITE, "stat %s: %s", files[i], strerror(errno));
			return CONTOUR_EINVAL;
		}
		if (st.st_size == 0) {
			xb_err(XB_WHAT_WRITE, "\"%s\" is empty", files[i]);
			return CONTOUR_EINVAL;
		}
	}
	return 1;
}

/* Go's path.Clean, so that the SDS paths in the bootstrap are the ones
 * upstream's path.Join writes ("dir/" and "./dir" give "dir/sds/..."). */
static char *xb_path_clean(const char *in)
{
	size_t n = strlen(in), w = 0, dotdot;
	int rooted = in[0] == '/';
	char *out = malloc(n + 2);
	const char *p = in;

	if (!out)
		return NULL;
	if (rooted)
		out[w++] = '/';
	dotdot = w;
	while (*p) {
		size_t len = strcspn(p, "/");
		if (len == 0) {
			p++;
			continue;
		}
		if (len == 1 && p[0] == '.') {
			/* nothing */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if (w != (size_t)rooted)
				out[w++] = '/';
			memcpy(out + w, p, len);
			w += len;
		}
		p += len;
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

static char *xb_path_join(const char *dir, const char *sub, const char *file)
{
	size_t n = strlen(dir) + strlen(sub) + (file ? strlen(file) : 0) + 3;
	char *tmp = malloc(n), *out;

	if (!tmp)
		return NULL;
	snprintf(tmp, n, "%s/%s%s%s", dir, sub, file ? "/" : "", file ? file : "");
	out = xb_path_clean(tmp);
	free(tmp);
	return out;
}

/* os.MkdirAll(dir, 0777): the mode is still subject to the umask, as in
 * upstream: the SDS files only point at the real secrets, so whoever runs
 * Envoy may read them. Returns 0 or CONTOUR_EIO. */
static int xb_mkdir_all(const char *dir)
{
	char *p = strdup(dir);
	struct stat st;
	int rc = CONTOUR_EOK;

	if (!p)
		return CONTOUR_ENOMEM;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (stat(p, &st) == 0) {
			if (!S_ISDIR(st.st_mode)) {
				xb_err(XB_WHAT_WRITE, "mkdir %s: %s", p, strerror(ENOTDIR));
				rc = CONTOUR_EIO;
				goto fail;
			}
		} else if (mkdir(p, 0777) &&
		           !(errno == EEXIST && !stat(p, &st) && S_ISDIR(st.st_mode))) {
			xb_err(XB_WHAT_WRITE, "mkdir %s: %s", p, strerror(errno));
			rc = CONTOUR_EIO;
			goto fail;
		}
		*s = c;
		if (!c)
			break;
	}
fail:
	free(p);
	return rc;
}

/* ---- JSON pieces ------------------------------------------------------- */

/* An Any with no fields of its own (the type URL carries the meaning). */
static json_t *xb_any_empty(const char *type)
{
	return json_pack("{s:s+}", "@type", XB_TYPE_PREFIX, type);
}

/* ConfigSource of every xDS type: GRPC to the contour cluster, no ADS. */
static json_t *xb_grpc_config_source(void)
{
	return json_pack("{s:{s:s,s:s,s:[{s:{s:s,s:s}}]},s:s}", "api_config_source", "api_type",
	                 "GRPC", "transport_api_version", "V3", "grpc_services", "envoy_grpc",
	                 "cluster_name", XB_XDS_CLUSTER, "authority", XB_XDS_CLUSTER,
	                 "resource_api_version", "V3");
}

static json_t *xb_path_config_source(const char *path)
{
	return json_pack("{s:{s:s},s:s}", "path_config_source", "path", path,
	                 "resource_api_version", "V3");
}

/* Contour's serving certificate carries the DNS name "contour". */
static json_t *xb_san_contour(void)
{
	return json_pack("[{s:s,s:{s:s}}]", "san_type", "DNS", "matcher", "exact", XB_XDS_CLUSTER);
}

static json_t *xb_filename(const char *file)
{
	return json_pack("{s:s}", "filename", file);
}

static json_t *xb_threshold(const char *priority)
{
	/* DEFAULT is the enum's zero value, so protojson leaves it out */
	return json_pack("{s:s*,s:i,s:i,s:i,s:i,s:b}", "priority", priority, "max_connections",
	                 100000, "max_pending_requests", 100000, "max_requests", 60000000,
	                 "max_retries", 50, "track_remaining", 1);
}

static json_t *xb_load_assignment(const char *cluster, json_t *address)
{
	return json_pack("{s:s,s:[{s:[{s:{s:o}}]}]}", "cluster_name", cluster, "endpoints",
	                 "lb_endpoints", "endpoint", "address", address);
}

static json_t *xb_pipe(const char *path)
{
	/* mode 0644, the socket Envoy's admin creates */
	return json_pack("{s:{s:s,s:i}}", "pipe", "path", path, "mode", 0644);
}

static json_t *xb_socket_address(const char *address, long port)
{
	/* "::" also accepts IPv4 clients only with ipv4_compat (upstream's
	 * SocketAddress); TCP is the zero protocol, left out */
	return json_pack("{s:{s:s,s:i,s:o*}}", "socket_address", "address", address, "port_value",
	                 (int)port, "ipv4_compat", !strcmp(address, "::") ? json_true() : NULL);
}

static json_t *xb_file_tls_context(const xb_opts_t *o)
{
	return json_pack(
	    "{s:s,s:{s:{s:s},s:[{s:o,s:o}],s:{s:o,s:o}}}", "@type",
	    XB_TYPE_PREFIX "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
	    "common_tls_context", "tls_params", "tls_maximum_protocol_version", "TLSv1_3",
	    "tls_certificates", "certificate_chain", xb_filename(o->cert_file), "private_key",
	    xb_filename(o->key_file), "validation_context", "trusted_ca", xb_filename(o->cafile),
	    "match_typed_subject_alt_names", xb_san_contour());
}

/* The override lets Contour serve an ECDSA P-521 certificate: BoringSSL's
 * default list lacks ecdsa_secp521r1_sha512 (upstream's workaround). */
static json_t *xb_sds_tls_context(const char *cert_sds, const char *validation_sds)
{
	json_t *algs = json_pack(
	    "[s,s,s,s,s,s,s,s,s,s]", "ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256",
	    "rsa_pkcs1_sha256", "ecdsa_secp384r1_sha384", "rsa_pss_rsae_sha384", "rsa_pkcs1_sha384",
	    "ecdsa_secp521r1_sha512", "rsa_pss_rsae_sha512", "rsa_pkcs1_sha512", "rsa_pkcs1_sha1");

	return json_pack(
	    "{s:s,s:{s:{s:s,s:o},s:[{s:s,s:o}],s:{s:s,s:o}}}", "@type",
	    XB_TYPE_PREFIX "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
	    "common_tls_context", "tls_params", "tls_maximum_protocol_version", "TLSv1_3",
	    "signature_algorithms", algs, "tls_certificate_sds_secret_configs", "name",
	    XB_SDS_CERT_NAME, "sds_config", xb_path_config_source(cert_sds),
	    "validation_context_sds_secret_config", "name", XB_SDS_VALIDATION_NAME, "sds_config",
	    xb_path_config_source(validation_sds));
}

/* The SDS files are DiscoveryResponses with one Secret each. */
static json_t *xb_sds_cert_file(const xb_opts_t *o)
{
	return json_pack("{s:[{s:s,s:s,s:{s:o,s:o}}]}", "resources", "@type",
	                 XB_TYPE_PREFIX "envoy.extensions.transport_sockets.tls.v3.Secret", "name",
	                 XB_SDS_CERT_NAME, "tls_certificate", "certificate_chain",
	                 xb_filename(o->cert_file), "private_key", xb_filename(o->key_file));
}

static json_t *xb_sds_validation_file(const xb_opts_t *o)
{
	return json_pack("{s:[{s:s,s:s,s:{s:o,s:o}}]}", "resources", "@type",
	                 XB_TYPE_PREFIX "envoy.extensions.transport_sockets.tls.v3.Secret", "name",
	                 XB_SDS_VALIDATION_NAME, "validation_context", "trusted_ca",
	                 xb_filename(o->cafile), "match_typed_subject_alt_names", xb_san_contour());
}

static const char *xb_dns_family(const char *flag)
{
	if (!strcmp(flag, "v4"))
		return "V4_ONLY";
	if (!strcmp(flag, "v6"))
		return "V6_ONLY";
	if (!strcmp(flag, "all"))
		return "ALL";
	return NULL; /* AUTO, the zero value */
}

/* "<namespace>_<cluster>_<port>": the clusters' alt_stat_name. */
static char *xb_stat_name(const char *ns, const char *cluster, long port)
{
	size_t n = strlen(ns) + strlen(cluster) + 24;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s_%s_%ld", ns, cluster, port);
	return s;
}

/* tls: the cluster's transport socket's typed_config (stolen), or NULL. */
static json_t *xb_contour_cluster(const xb_opts_t *o, json_t *tls)
{
	const char *addr = *o->xds_address ? o->xds_address : XB_DEFAULT_XDS_ADDRESS;
	long port = o->xds_port ? o->xds_port : XB_DEFAULT_XDS_PORT;
	char *stat_name = NULL;
	json_t *ts = NULL, *c = NULL;

	stat_name = xb_stat_name(o->namespace, XB_XDS_CLUSTER, port);
	if (!stat_name)
		goto fail;
	if (tls) {
		ts = json_pack("{s:s,s:o}", "name", "envoy.transport_sockets.tls", "typed_config",
		               tls);
		tls = NULL;
		if (!ts)
			goto fail;
	}
	c = json_pack("{s:s,s:s,s:s,s:s,s:o,s:{s:[o,o]},s:{s:{s:s,s:{s:{}}}},s:s*,s:o*,s:{s:{s:i,s:"
	              "i,s:i}}}",
	              "name", XB_XDS_CLUSTER, "alt_stat_name", stat_name, "type",
	              xb_is_ip(addr) ? "STATIC" : "STRICT_DNS", "connect_timeout", "5s",
	              "load_assignment",
	              xb_load_assignment(XB_XDS_CLUSTER, xb_socket_address(addr, port)),
	              "circuit_breakers", "thresholds", xb_threshold("HIGH"), xb_threshold(NULL),
	              "typed_extension_protocol_options",
	              "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", "@type",
	              XB_TYPE_PREFIX "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
	              "explicit_http_config", "http2_protocol_options", "dns_lookup_family",
	              xb_dns_family(o->dns_lookup_family), "transport_socket", ts,
	              "upstream_connection_options", "tcp_keepalive", "keepalive_probes", 3,
	              "keepalive_time", 30, "keepalive_interval", 5);
	ts = NULL; /* stolen by json_pack, even on failure */
fail:
	json_decref(tls);
	json_decref(ts);
	free(stat_name);
	return c;
}

static json_t *xb_admin_cluster(const xb_opts_t *o, const char *admin_addr)
{
	char *stat_name = NULL;
	json_t *c;

	stat_name = xb_stat_name(o->namespace, XB_ADMIN_CLUSTER,
	                         o->admin_port ? o->admin_port : XB_DEFAULT_ADMIN_PORT);
	if (!stat_name)
		return NULL;
	/* always STATIC: the admin address is a socket path, never an IP */
	c = json_pack("{s:s,s:s,s:s,s:s,s:o}", "name", XB_ADMIN_CLUSTER, "alt_stat_name", stat_name,
	              "type", "STATIC", "connect_timeout", "0.250s", "load_assignment",
	              xb_load_assignment(XB_ADMIN_CLUSTER, xb_pipe(admin_addr)));
	free(stat_name);
	return c;
}

/* The fixed-heap monitor (with its two actions) and the downstream
 * connection limit, each only when its flag is positive. */
static json_t *xb_overload_manager(const xb_opts_t *o)
{
	char num[32];
	json_t *om = NULL, *mons, *actions;

	om = json_pack("{s:s,s:[],s:[]}", "refresh_interval", "0.250s", "resource_monitors",
	               "actions");
	if (!om)
		return NULL;
	mons = json_object_get(om, "resource_monitors");
	actions = json_object_get(om, "actions");
	if (o->max_heap > 0) {
		/* 64-bit integers are strings in protojson */
		snprintf(num, sizeof(num), "%" PRIu64, o->max_heap);
		if (json_array_append_new(
		        mons,
		        json_pack("{s:s,s:{s:s,s:s}}", "name", "envoy.resource_monitors.fixed_heap",
		                  "typed_config", "@type",
		                  XB_TYPE_PREFIX "envoy.extensions.resource_monitors.fixed_heap."
		                                 "v3.FixedHeapConfig",
		                  "max_heap_size_bytes", num)) ||
		    json_array_append_new(actions, json_pack("{s:s,s:[{s:s,s:{s:f}}]}", "name",
		                                             "envoy.overload_actions.shrink_heap",
		                                             "triggers", "name",
		                                             "envoy.resource_monitors.fixed_heap",
		                                             "threshold", "value", 0.95)) ||
		    json_array_append_new(
		        actions, json_pack("{s:s,s:[{s:s,s:{s:f}}]}", "name",
		                           "envoy.overload_actions.stop_accepting_requests",
		                           "triggers", "name", "envoy.resource_monitors.fixed_heap",
		                           "threshold", "value", 0.98)))
			goto fail;
	}
	if (o->max_conn > 0) {
		snprintf(num, sizeof(num), "%" PRId64, o->max_conn);
		if (json_array_append_new(
		        mons, json_pack("{s:s,s:{s:s,s:s}}", "name",
		                        "envoy.resource_monitors.global_downstream_max_connections",
		                        "typed_config", "@type",
		                        XB_TYPE_PREFIX "envoy.extensions.resource_monitors."
		                                       "downstream_connections.v3."
		                                       "DownstreamConnectionsConfig",
		                        "max_active_downstream_connections", num)))
			goto fail;
	}
	if (json_array_size(actions) == 0)
		json_object_del(om, "actions");
	return om;
fail:
	json_decref(om);
	return NULL;
}

/* The Bootstrap message, fields in bootstrap.proto's order. tls as for
 * xb_contour_cluster (stolen). */
static json_t *xb_bootstrap(const xb_opts_t *o, json_t *tls)
{
	const char *admin_addr = *o->admin_address ? o->admin_address : XB_DEFAULT_ADMIN_ADDRESS;
	json_t *om = NULL;

	if (o->max_heap > 0 || o->max_conn > 0) {
		om = xb_overload_manager(o);
		if (!om) {
			json_decref(tls);
			return NULL;
		}
	}
	return json_pack(
	    "{s:{s:[o,o]},s:{s:o,s:o},s:{s:[{s:s,s:{s:s,s:o}},{s:s,s:{}}]},s:{s:[{s:s,s:{s:s,s:s}}]"
	    ","
	    "s:o},s:o*,s:{s:s,s:o}}",
	    "static_resources", "clusters", xb_contour_cluster(o, tls),
	    xb_admin_cluster(o, admin_addr), "dynamic_resources", "lds_config",
	    xb_grpc_config_source(), "cds_config", xb_grpc_config_source(), "layered_runtime",
	    "layers", "name", "dynamic", "rtds_layer", "name", "dynamic", "rtds_config",
	    xb_grpc_config_source(), "name", "admin", "admin_layer", "admin", "access_log", "name",
	    "envoy.access_loggers.file", "typed_config", "@type",
	    XB_TYPE_PREFIX "envoy.extensions.access_loggers.file.v3.FileAccessLog", "path",
	    "/dev/null", "address", xb_pipe(admin_addr), "overload_manager", om,
	    "default_regex_engine", "name", "envoy.regex_engines.google_re2", "typed_config",
	    xb_any_empty("envoy.extensions.regex_engines.v3.GoogleRE2"));
}

/* os.Create semantics (mode 0666 before the umask, truncate); "-" is
 * stdout. Returns 0 or CONTOUR_EIO (message printed). */
static int xb_write(const char *path, const json_t *doc)
{
	int to_stdout = !strcmp(path, "-");
	FILE *f = to_stdout ? stdout : fopen(path, "w");
	int rc;

	if (!f) {
		xb_err(XB_WHAT_WRITE, "open %s: %s", path, strerror(errno));
		return CONTOUR_EIO;
	}
	rc = json_dumpf(doc, f, XB_JSON_FLAGS);
	if (rc == 0 && fputc('\n', f) == EOF)
		rc = -1;
	if (to_stdout ? fflush(f) : fclose(f))
		rc = -1;
	if (rc) {
		xb_err(XB_WHAT_WRITE, "write %s: %s", to_stdout ? "/dev/stdout" : path,
		       strerror(errno ? errno : EIO));
		return CONTOUR_EIO;
	}
	return CONTOUR_EOK;
}

static int xb_oom(void)
{
	xb_err(XB_WHAT_WRITE, "%s", strerror(ENOMEM));
	return CONTOUR_ENOMEM;
}

/* xb_write_new: write a document just built (NULL: it ran out of memory)
 * and drop it. */
static int xb_write_new(const char *path, json_t *doc)
{
	if (!doc)
		return xb_oom();
	int rc = xb_write(path, doc);
	json_decref(doc);
	return rc;
}

/* Checks, then the SDS folder, the SDS files and the bootstrap, in
 * upstream's order. Returns 0 or a negative code (message printed). */
static int xb_run(const xb_opts_t *o)
{
	char *sds_dir = NULL, *cert_sds = NULL, *validation_sds = NULL;
	json_t *tls = NULL;
	int rc, with_tls;

	rc = xb_validate(o);
	if (rc)
		return rc;
	with_tls = xb_check_tls(o);
	if (with_tls < 0)
		return with_tls;

	if (*o->resources_dir) {
		sds_dir = xb_path_join(o->resources_dir, XB_SDS_SUBDIR, NULL);
		cert_sds = xb_path_join(o->resources_dir, XB_SDS_SUBDIR, XB_SDS_CERT_FILE);
		validation_sds =
		    xb_path_join(o->resources_dir, XB_SDS_SUBDIR, XB_SDS_VALIDATION_FILE);
		if (!sds_dir || !cert_sds || !validation_sds) {
			rc = xb_oom();
			goto fail;
		}
		/* the folder even without TLS, as upstream */
		rc = xb_mkdir_all(sds_dir);
		if (rc)
			goto fail;
	}

	if (with_tls && *o->resources_dir) {
		rc = xb_write_new(cert_sds, xb_sds_cert_file(o));
		if (!rc)
			rc = xb_write_new(validation_sds, xb_sds_validation_file(o));
		if (rc)
			goto fail;
		tls = xb_sds_tls_context(cert_sds, validation_sds);
	} else if (with_tls) {
		/* no rotation: Envoy reads these paths once */
		tls = xb_file_tls_context(o);
	}
	if (with_tls && !tls) {
		rc = xb_oom();
		goto fail;
	}

	rc = xb_write_new(o->path, xb_bootstrap(o, tls));
fail:
	CONTOUR_FREE_ALL(validation_sds, cert_sds, sds_dir);
	return rc;
}

int xds_bootstrap_main(int argc, char **argv)
{
	xb_opts_t o = {
	    .admin_address = XB_DEFAULT_ADMIN_ADDRESS,
	    .dns_lookup_family = "",
	    .cafile = "",
	    .cert_file = "",
	    .key_file = "",
	    .namespace = XB_DEFAULT_NAMESPACE,
	    .resources_dir = "",
	    .xds_address = "",
	    .xds_resource_version = "v3",
	};
	int rc = xb_parse(argc, argv, &o);

	if (rc == 1) {
		xb_usage(stdout);
		fflush(stdout);
		return 0;
	}
	if (rc || xb_run(&o))
		return 1;
	return 0;
}
