/* modules/xds-grpc/xds_settings.c: the global config keys xds-grpc reads
 * (typed in xds_globals.c): the rules across them that a schema cannot
 * state, and reading them into xds_settings_t. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <contour/conf.h>
#include "modules/xds-grpc/xds_translate.h"

/* A timeouts.* duration: the config stores milliseconds, -1 for
 * "infinity"; upstream's timeout.Parse also reads an explicit 0 as
 * disabled. */
static int64_t xds_global_duration(contour_module_t *mod, const char *key, int64_t def)
{
	const json_t *v = contour_conf_global(mod, key);
	if (!json_is_integer(v))
		return def;
	json_int_t ms = json_integer_value(v);
	return ms <= 0 ? XDS_DUR_DISABLED : (int64_t)ms;
}

static unsigned xds_global_tls_version(contour_module_t *mod, const char *key, unsigned def)
{
	const char *v = json_string_value(contour_conf_global(mod, key));
	if (v && !strcmp(v, "1.2"))
		return 3;
	if (v && !strcmp(v, "1.3"))
		return 4;
	return def;
}

/* An integer setting that fits a uint32 (Envoy's UInt32Value), or def. */
static int64_t xds_global_u32(contour_module_t *mod, const char *key, int64_t def)
{
	const json_t *v = contour_conf_global(mod, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)UINT32_MAX)
		return def;
	return (int64_t)json_integer_value(v);
}

/* A string setting that names one of names[] (NULL: a gap): its index, or
 * 0 for anything else. */
static unsigned xds_global_enum(contour_module_t *mod, const char *key,
                                const char *const *names, size_t n)
{
	const char *v = json_string_value(contour_conf_global(mod, key));
	for (size_t i = 0; v && i < n; i++)
		if (names[i] && !strcmp(v, names[i]))
			return (unsigned)i;
	return 0;
}
#define XDS_GLOBAL_ENUM(mod, key, names)                                                           \
	xds_global_enum(mod, key, names, sizeof(names) / sizeof(names[0]))

static const json_t *xds_global_list(contour_module_t *mod, const char *key)
{
	const json_t *v = contour_conf_global(mod, key);
	return json_is_array(v) && json_array_size(v) ? v : NULL;
}

/* default-http-versions: ALPN lists what is wanted, h2 first; one version
 * alone also fixes the HCM codec. None (or none known) means both, AUTO. */
static void xds_settings_http_versions(contour_module_t *mod, xds_settings_t *s)
{
	const json_t *list = contour_conf_global(mod, "default-http-versions");
	size_t i;
	const json_t *v;
	s->alpn_h1 = s->alpn_h2 = 0;
	json_array_foreach(list, i, v)
	{
		const char *t = json_string_value(v);
		if (t && !strcasecmp(t, "HTTP/1.1"))
			s->alpn_h1 = 1;
		else if (t && !strcasecmp(t, "HTTP/2"))
			s->alpn_h2 = 1;
	}
	s->codec = s->alpn_h1 && !s->alpn_h2 ? 1 : s->alpn_h2 && !s->alpn_h1 ? 2 : 0;
	if (!s->alpn_h1 && !s->alpn_h2)
		s->alpn_h1 = s->alpn_h2 = 1;
}

/* Not blank (Go's strings.TrimSpace(s) != ""). */
static int xds_not_blank(const char *s)
{
	for (; s && *s; s++)
		if (!strchr(" \t\n\r\v\f", *s))
			return 1;
	return 0;
}

/* compression.algorithm -> XDS_COMPRESS_*; -1 for a value upstream refuses. */
static int xds_compression(const char *alg)
{
	static const char *const names[] = {"disabled", "gzip", "brotli", "zstd"};
	if (!alg || !*alg)
		return XDS_COMPRESS_GZIP;
	for (int i = 0; i < 4; i++)
		if (!strcmp(alg, names[i]))
			return i;
	return -1;
}

int xds_settings_check(contour_module_t *mod, char *err, size_t errlen)
{
	/* CompressionAlgorithm.Validate */
	const char *alg = json_string_value(contour_conf_global(mod, "compression.algorithm"));
	if (xds_compression(alg) < 0) {
		snprintf(err, errlen, "invalid compression type: \"%s\"", alg);
		return CONTOUR_ECONFIG;
	}
	/* NamespacedName.Validate: both or neither */
	const json_t *cc = contour_conf_global(mod, "tls.envoy-client-certificate");
	int ns = xds_not_blank(json_string_value(json_object_get(cc, "namespace")));
	int name = xds_not_blank(json_string_value(json_object_get(cc, "name")));
	if (ns != name) {
		snprintf(err, errlen, "invalid TLS client certificate: %s must be defined",
		         ns ? "name" : "namespace");
		return CONTOUR_ECONFIG;
	}
	/* ListenerParameters.Validate, in its order */
	const char *bal =
	    json_string_value(contour_conf_global(mod, "listener.connection-balancer"));
	if (bal && *bal && strcmp(bal, "exact")) {
		snprintf(err, errlen,
		         "invalid listener connection balancer value \"%s\", only 'exact' "
		         "connection balancing is supported for now",
		         bal);
		return CONTOUR_ECONFIG;
	}
	static const struct {
		const char *key, *what;
	} mins[] = {
	    {"max-requests-per-connection", "max connections per request"},
	    {"per-connection-buffer-limit-bytes", "per connections buffer limit bytes"},
	    {"max-requests-per-io-cycle", "max connections per IO cycle"},
	    {"http2-max-concurrent-streams", "max HTTP/2 concurrent streams"},
	    {"max-connections-per-listener", "max connections per listener"},
	    {"max-connections-to-accept-per-socket-event", NULL},
	};
	for (size_t i = 0; i < sizeof(mins) / sizeof(*mins); i++) {
		char key[80];
		snprintf(key, sizeof(key), "listener.%s", mins[i].key);
		const json_t *v = contour_conf_global(mod, key);
		if (!json_is_integer(v))
			continue;
		json_int_t n = json_integer_value(v);
		if (n > UINT32_MAX) { /* upstream's YAML decoding into a uint32 */
			snprintf(err, errlen, "%s: %" JSON_INTEGER_FORMAT " does not fit a uint32",
			         key, n);
			return CONTOUR_ECONFIG;
		}
		if (n >= 1)
			continue;
		if (mins[i].what)
			snprintf(err, errlen,
			         "invalid %s value %" JSON_INTEGER_FORMAT
			         " set on listener, minimum value is 1",
			         mins[i].what, n);
		else
			snprintf(err, errlen, "%s must be greater than 0", mins[i].key);
		return CONTOUR_ECONFIG;
	}
	static const char *const sock[][2] = {{"tos", "IPv4 TOS"},
	                                      {"traffic-class", "IPv6 TrafficClass"}};
	for (size_t i = 0; i < 2; i++) {
		char key[80];
		snprintf(key, sizeof(key), "listener.socket-options.%s", sock[i][0]);
		const json_t *v = contour_conf_global(mod, key);
		json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
		if (n < 0 || n > 255) {
			snprintf(err, errlen,
			         "invalid listener %s value %" JSON_INTEGER_FORMAT
			         ", must be in the range 0-255",
			         sock[i][1], n);
			return CONTOUR_ECONFIG;
		}
	}
	return CONTOUR_EOK;
}

void xds_settings_globals(contour_module_t *mod, xds_settings_t *s)
{
	s->request_timeout = xds_global_duration(mod, "timeouts.request-timeout", XDS_DUR_UNSET);
	s->connection_idle_timeout =
	    xds_global_duration(mod, "timeouts.connection-idle-timeout", 60000);
	s->stream_idle_timeout =
	    xds_global_duration(mod, "timeouts.stream-idle-timeout", XDS_DUR_UNSET);
	s->max_connection_duration =
	    xds_global_duration(mod, "timeouts.max-connection-duration", XDS_DUR_UNSET);
	s->delayed_close_timeout =
	    xds_global_duration(mod, "timeouts.delayed-close-timeout", XDS_DUR_UNSET);
	s->drain_timeout =
	    xds_global_duration(mod, "timeouts.connection-shutdown-grace-period", XDS_DUR_UNSET);
	s->connect_timeout = xds_global_duration(mod, "timeouts.connect-timeout", 2000);
	s->tls_min = xds_global_tls_version(mod, "tls.minimum-protocol-version", 3);
	s->tls_max = xds_global_tls_version(mod, "tls.maximum-protocol-version", 4);
	s->cipher_suites = xds_global_list(mod, "tls.cipher-suites");
	s->ecdh_curves = xds_global_list(mod, "tls.ecdh-curves");
	s->compression = xds_compression(
	    json_string_value(contour_conf_global(mod, "compression.algorithm")));
	xds_settings_http_versions(mod, s);
	s->merge_slashes = !json_is_true(contour_conf_global(mod, "disableMergeSlashes"));
	s->allow_chunked_length =
	    !json_is_true(contour_conf_global(mod, "disableAllowChunkedLength"));
	static const char *const server_header[] = {"overwrite", "append_if_absent",
	                                             "pass_through"};
	s->server_header = XDS_GLOBAL_ENUM(mod, "serverHeaderTransformation", server_header);
	const json_t *hops = contour_conf_global(mod, "network.num-trusted-hops");
	s->num_trusted_hops = json_is_integer(hops) && json_integer_value(hops) > 0
	                          ? (uint32_t)json_integer_value(hops)
	                          : 0;
	s->strip_trailing_host_dot =
	    json_is_true(contour_conf_global(mod, "network.strip-trailing-host-dot"));
	static const char *const family[] = {"auto", "v4", "v6", NULL, "all"};
	s->dns_lookup_family = XDS_GLOBAL_ENUM(mod, "cluster.dns-lookup-family", family);
	s->max_requests_per_connection =
	    xds_global_u32(mod, "cluster.max-requests-per-connection", -1);
	s->per_connection_buffer_limit_bytes =
	    xds_global_u32(mod, "cluster.per-connection-buffer-limit-bytes", -1);
	s->cb_max_connections =
	    (uint32_t)xds_global_u32(mod, "cluster.circuit-breakers.max-connections", 0);
	s->cb_max_pending_requests =
	    (uint32_t)xds_global_u32(mod, "cluster.circuit-breakers.max-pending-requests", 0);
	s->cb_max_requests =
	    (uint32_t)xds_global_u32(mod, "cluster.circuit-breakers.max-requests", 0);
	s->cb_max_retries = (uint32_t)xds_global_u32(mod, "cluster.circuit-breakers.max-retries", 0);
	s->cb_per_host_max_connections =
	    (uint32_t)xds_global_u32(mod, "cluster.circuit-breakers.per-host-max-connections", 0);
	static const char *const log_level[] = {"info", "error", "critical", "disabled"};
	s->access_log_level = XDS_GLOBAL_ENUM(mod, "accesslog-level", log_level);
	/* upstream's serve always sets an UpstreamTLS: defaults 1.2 and 1.3,
	 * the cipher list sanitised (Contour's when empty) */
	const json_t *up = contour_conf_global(mod, "cluster.upstream-tls");
	const char *v = json_string_value(json_object_get(up, "minimum-protocol-version"));
	s->up_tls_min = v && !strcmp(v, "1.3") ? 4 : 3;
	v = json_string_value(json_object_get(up, "maximum-protocol-version"));
	s->up_tls_max = v && !strcmp(v, "1.2") ? 3 : 4;
	const json_t *l = json_object_get(up, "cipher-suites");
	s->up_cipher_suites = json_is_array(l) && json_array_size(l) ? l : NULL;
	l = json_object_get(up, "ecdh-curves");
	s->up_ecdh_curves = json_is_array(l) && json_array_size(l) ? l : NULL;
	const char *bal =
	    json_string_value(contour_conf_global(mod, "listener.connection-balancer"));
	s->conn_balance_exact = bal && !strcmp(bal, "exact");
	s->l_max_requests_per_connection =
	    xds_global_u32(mod, "listener.max-requests-per-connection", -1);
	s->l_per_connection_buffer_limit_bytes =
	    xds_global_u32(mod, "listener.per-connection-buffer-limit-bytes", -1);
	s->http2_max_concurrent_streams =
	    xds_global_u32(mod, "listener.http2-max-concurrent-streams", -1);
	s->max_requests_per_io_cycle =
	    xds_global_u32(mod, "listener.max-requests-per-io-cycle", -1);
	s->max_connections_per_listener =
	    xds_global_u32(mod, "listener.max-connections-per-listener", -1);
	s->max_accept_per_socket_event =
	    xds_global_u32(mod, "listener.max-connections-to-accept-per-socket-event", -1);
	int64_t tos = xds_global_u32(mod, "listener.socket-options.tos", 0);
	int64_t tc = xds_global_u32(mod, "listener.socket-options.traffic-class", 0);
	s->socket_tos = tos > 0 && tos <= 255 ? (uint32_t)tos : 0;
	s->socket_traffic_class = tc > 0 && tc <= 255 ? (uint32_t)tc : 0;
	const char *fmt = json_string_value(contour_conf_global(mod, "accesslog-format"));
	s->access_log_json = fmt && !strcmp(fmt, "json");
	s->json_fields = xds_global_list(mod, "json-fields");
	s->access_log_format =
	    json_string_value(contour_conf_global(mod, "accesslog-format-string"));
	if (s->access_log_format && !*s->access_log_format)
		s->access_log_format = NULL;
	s->globals = 1;
}
