/* modules/xds-grpc/xds_translate_listeners.c: LDS. `ingress_http` (when
 * some plain virtual host has routes), `ingress_https` (one filter chain per
 * secure virtual host matched by SNI, TLS inspector, passthrough and
 * tcpproxy chains, the fallback-certificate chain), and the static
 * `stats-health` and `envoy-admin` listeners, as upstream's ListenerCache
 * and StatsListeners/AdminListener build them with default settings. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <contour/error.h>
#include "modules/xds-grpc/xds_translate.h"

#define XDS_HCM_NAME "envoy.filters.network.http_connection_manager"
#define XDS_HCM_TYPE                                                                               \
	"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
#define XDS_TCP_PROXY_NAME "envoy.filters.network.tcp_proxy"
#define XDS_LUA_NAME       "envoy.filters.http.lua"
#define XDS_LUA_TYPE       "envoy.extensions.filters.http.lua.v3.Lua"

/* The misdirected-request check upstream puts first on each secure virtual
 * host's chain: a request whose :authority differs from the SNI gets 421. */
static const char xds_misdirected_lua[] =
    "\nfunction envoy_on_request(request_handle)\n"
    "\tlocal headers = request_handle:headers()\n"
    "\tlocal host = string.lower(headers:get(\":authority\"))\n"
    "\tlocal target = request_handle:streamInfo():requestedServerName()\n"
    "\n"
    "\ts, e = string.find(host, \":\", 1, true)\n"
    "\tif s ~= nil then\n"
    "\t\thost = string.sub(host, 1, s - 1)\n"
    "\tend\n"
    "\n"
    "\tif host ~= target then\n"
    "\t\trequest_handle:respond(\n"
    "\t\t\t{[\":status\"] = \"421\"},\n"
    "\t\t\tstring.format(\"misdirected request to %q\", host)\n"
    "\t\t)\n"
    "\tend\n"
    "end\n"
    "\t";

static const char *const xds_compress_types[] = {
    "text/html",
    "text/plain",
    "text/css",
    "application/javascript",
    "application/x-javascript",
    "text/javascript",
    "text/x-javascript",
    "text/ecmascript",
    "text/js",
    "text/jscript",
    "text/x-js",
    "application/ecmascript",
    "application/x-json",
    "application/xml",
    "application/json",
    "image/svg+xml",
    "text/xml",
    "application/xhtml+xml",
    "application/grpc-web",
    "application/grpc-web+proto",
    "application/grpc-web+json",
    "application/grpc-web+thrift",
    "application/grpc-web-text",
    "application/grpc-web-text+proto",
    "application/grpc-web-text+thrift",
};

/* Contour's default cipher list (SanitizedCipherSuites of the defaults). */
static const char *const xds_ciphers[] = {
    "[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]",
    "[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-CHACHA20-POLY1305]",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
};

static void xds_http_filter_begin_end_empty(xpb_t *w, const char *name, const char *type)
{
	size_t f = xpb_begin(w, 5);
	xpb_str(w, 1, name);
	xpb_any_empty(w, 4, type);
	xpb_end(w, f);
}

/* upstream's compressor filter: the configured library with Envoy's
 * defaults (an empty message), and upstream's content types */
static void xds_compressor_filter(xpb_t *w, int alg)
{
	static const char *const lib_name[] = {
	    [XDS_COMPRESS_GZIP] = "gzip",
	    [XDS_COMPRESS_BROTLI] = "brotli",
	    [XDS_COMPRESS_ZSTD] = "zstd",
	};
	static const char *const lib_type[] = {
	    [XDS_COMPRESS_GZIP] = "envoy.extensions.compression.gzip.compressor.v3.Gzip",
	    [XDS_COMPRESS_BROTLI] = "envoy.extensions.compression.brotli.compressor.v3.Brotli",
	    [XDS_COMPRESS_ZSTD] = "envoy.extensions.compression.zstd.compressor.v3.Zstd",
	};
	size_t f;
	xpb_any_t any;
	f = xpb_begin(w, 5);
	xpb_str(w, 1, "envoy.filters.http.compressor");
	any = xpb_any_begin(w, 4, "envoy.extensions.filters.http.compressor.v3.Compressor");
	size_t lib = xpb_begin(w, 6);
	xpb_str(w, 1, lib_name[alg]);
	xpb_any_empty(w, 2, lib_type[alg]);
	xpb_end(w, lib);
	size_t rd = xpb_begin(w, 8);
	size_t cc = xpb_begin(w, 1);
	for (size_t i = 0; i < sizeof(xds_compress_types) / sizeof(*xds_compress_types); i++)
		xpb_str_always(w, 3, xds_compress_types[i]);
	xpb_end(w, cc);
	xpb_end(w, rd);
	xpb_any_end(w, any);
	xpb_end(w, f);
}

static void xds_default_filters(const xds_settings_t *set, xpb_t *w, int misdirected)
{
	size_t f;
	xpb_any_t any;
	if (misdirected) {
		f = xpb_begin(w, 5);
		xpb_str(w, 1, XDS_LUA_NAME);
		any = xpb_any_begin(w, 4, XDS_LUA_TYPE);
		size_t ds = xpb_begin(w, 3);
		xpb_str_always(w, 3, xds_misdirected_lua);
		xpb_end(w, ds);
		xpb_any_end(w, any);
		xpb_end(w, f);
	}
	if (set->compression > XDS_COMPRESS_DISABLED)
		xds_compressor_filter(w, set->compression);
	xds_http_filter_begin_end_empty(w, "envoy.filters.http.grpc_web",
	                                "envoy.extensions.filters.http.grpc_web.v3.GrpcWeb");
	f = xpb_begin(w, 5);
	xpb_str(w, 1, "envoy.filters.http.grpc_stats");
	any = xpb_any_begin(w, 4, "envoy.extensions.filters.http.grpc_stats.v3.FilterConfig");
	xpb_bool(w, 1, 1);
	xpb_bool(w, 4, 1);
	xpb_any_end(w, any);
	xpb_end(w, f);
	xds_http_filter_begin_end_empty(w, "envoy.filters.http.cors",
	                                "envoy.extensions.filters.http.cors.v3.Cors");
	f = xpb_begin(w, 5);
	xpb_str(w, 1, "envoy.filters.http.local_ratelimit");
	any =
	    xpb_any_begin(w, 4, "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit");
	xpb_str(w, 1, "http");
	xpb_any_end(w, any);
	xpb_end(w, f);
	/* upstream's cookie-rewrite script is only referenced per route by
	 * cookieRewritePolicies, which the DAG does not carry yet */
	xds_http_filter_begin_end_empty(w, XDS_LUA_NAME, XDS_LUA_TYPE);
	xds_http_filter_begin_end_empty(w, "envoy.filters.http.rbac",
	                                "envoy.extensions.filters.http.rbac.v3.RBAC");
	xds_http_filter_begin_end_empty(w, "router",
	                                "envoy.extensions.filters.http.router.v3.Router");
}

/* A timeout setting: omitted when unset (Envoy's default), a zero
 * Duration when disabled, as upstream's envoy.Timeout(). */
static void xds_timeout(xpb_t *w, uint32_t field, int64_t ms)
{
	if (ms == XDS_DUR_UNSET)
		return;
	xpb_duration_ms(w, field, ms == XDS_DUR_DISABLED ? 0 : ms);
}

/* upstream's jsonFields: JSON access log fields with a canonical Envoy
 * operator; any other name is its upper-cased operator, "k=v" is taken
 * as is */
static const char *const xds_json_known[][2] = {
    {"@timestamp", "%START_TIME%"},
    {"ts", "%START_TIME%"},
    {"authority", "%REQ(:AUTHORITY)%"},
    {"method", "%REQ(:METHOD)%"},
    {"path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"},
    {"request_id", "%REQ(X-REQUEST-ID)%"},
    {"uber_trace_id", "%REQ(UBER-TRACE-ID)%"},
    {"upstream_service_time", "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"},
    {"user_agent", "%REQ(USER-AGENT)%"},
    {"x_forwarded_for", "%REQ(X-FORWARDED-FOR)%"},
    {"x_trace_id", "%REQ(X-TRACE-ID)%"},
    {"tls_ja3_fingerprint", "%TLS_JA3_FINGERPRINT%"},
    {"tls_ja4_fingerprint", "%TLS_JA4_FINGERPRINT%"},
    {"contour_config_kind", "%METADATA(ROUTE:envoy.access_loggers.file:io.projectcontour.kind)%"},
    {"contour_config_namespace",
     "%METADATA(ROUTE:envoy.access_loggers.file:io.projectcontour.namespace)%"},
    {"contour_config_name", "%METADATA(ROUTE:envoy.access_loggers.file:io.projectcontour.name)%"},
};

/* upstream's DefaultAccessLogJSONFields */
static const char *const xds_json_default_fields[] = {
    "@timestamp",
    "authority",
    "bytes_received",
    "bytes_sent",
    "downstream_local_address",
    "downstream_remote_address",
    "duration",
    "method",
    "path",
    "protocol",
    "request_id",
    "requested_server_name",
    "response_code",
    "response_flags",
    "uber_trace_id",
    "upstream_cluster",
    "upstream_host",
    "upstream_local_address",
    "upstream_service_time",
    "user_agent",
    "x_forwarded_for",
    "grpc_status",
    "grpc_status_number",
};

#define XDS_JSON_MAX 64

typedef struct xds_json_field {
	char key[96];
	char op[160];
} xds_json_field_t;

/* Add name (or "key=value") to f[0..*n), sorted by key as Go's
 * deterministic map encoding, a later duplicate replacing the earlier. */
static void xds_json_field_add(xds_json_field_t *f, size_t *n, const char *name)
{
	xds_json_field_t e;
	const char *eq = strchr(name, '=');
	if (eq) {
		snprintf(e.key, sizeof(e.key), "%.*s", (int)(eq - name), name);
		snprintf(e.op, sizeof(e.op), "%s", eq + 1);
	} else {
		snprintf(e.key, sizeof(e.key), "%s", name);
		e.op[0] = 0;
		for (size_t i = 0; i < sizeof(xds_json_known) / sizeof(*xds_json_known); i++)
			if (!strcmp(name, xds_json_known[i][0]))
				snprintf(e.op, sizeof(e.op), "%s", xds_json_known[i][1]);
		if (!e.op[0]) {
			size_t k = 0;
			e.op[k++] = '%';
			for (const char *p = name; *p && k < sizeof(e.op) - 2; p++)
				e.op[k++] = (char)toupper((unsigned char)*p);
			e.op[k++] = '%';
			e.op[k] = 0;
		}
	}
	if (!e.key[0] || !e.op[0])
		return;
	size_t j = 0;
	while (j < *n && strcmp(f[j].key, e.key) < 0)
		j++;
	if (j < *n && !strcmp(f[j].key, e.key)) {
		f[j] = e;
		return;
	}
	if (*n == XDS_JSON_MAX)
		return;
	memmove(&f[j + 1], &f[j], (*n - j) * sizeof(*f));
	f[j] = e;
	(*n)++;
}

/* SubstitutionFormatString.json_format: a Struct of field -> operator */
static void xds_json_format(xpb_t *w, uint32_t field, const json_t *fields)
{
	xds_json_field_t f[XDS_JSON_MAX];
	size_t n = 0;
	if (fields) {
		size_t i;
		const json_t *v;
		json_array_foreach(fields, i, v)
		{
			if (json_is_string(v))
				xds_json_field_add(f, &n, json_string_value(v));
		}
	} else {
		for (size_t i = 0;
		     i < sizeof(xds_json_default_fields) / sizeof(*xds_json_default_fields); i++)
			xds_json_field_add(f, &n, xds_json_default_fields[i]);
	}
	size_t st = xpb_begin(w, field);
	for (size_t i = 0; i < n; i++) {
		size_t ent = xpb_begin(w, 1);
		xpb_str_always(w, 1, f[i].key);
		size_t val = xpb_begin(w, 2);
		xpb_str_always(w, 3, f[i].op);
		xpb_end(w, val);
		xpb_end(w, ent);
	}
	xpb_end(w, st);
}

/* upstream's filterOnlyErrors: status >= min, or any response flag */
static void xds_access_log_filter(xpb_t *w, uint32_t field, uint32_t min)
{
	size_t flt = xpb_begin(w, field);
	size_t orf = xpb_begin(w, 7);
	size_t a = xpb_begin(w, 1);
	size_t sc = xpb_begin(w, 1);
	size_t cmp = xpb_begin(w, 1);
	xpb_uint(w, 1, 1); /* GE */
	size_t v = xpb_begin(w, 2);
	xpb_uint(w, 2, min);
	xpb_str(w, 3, "contour.accesslog.filter.status_code");
	xpb_end(w, v);
	xpb_end(w, cmp);
	xpb_end(w, sc);
	xpb_end(w, a);
	a = xpb_begin(w, 1);
	xpb_empty(w, 9);
	xpb_end(w, a);
	xpb_end(w, orf);
	xpb_end(w, flt);
}

/* The file access log of Contour's listeners: accesslog-level picks the
 * filter (or none at all), accesslog-format json a Struct format,
 * accesslog-format-string a text format. (The formatter extensions
 * upstream adds for REQ_WITHOUT_QUERY and METADATA are not generated.) */
static void xds_access_log(const xds_settings_t *set, xpb_t *w, uint32_t field, const char *path)
{
	if (set->access_log_level == 3)
		return;
	if (!set->access_log_json && !set->access_log_format && !set->access_log_level) {
		xds_pb_file_access_log(w, field, path);
		return;
	}
	size_t al = xpb_begin(w, field);
	xpb_str(w, 1, "envoy.access_loggers.file");
	if (set->access_log_level == 1 || set->access_log_level == 2)
		xds_access_log_filter(w, 2, set->access_log_level == 1 ? 300 : 500);
	xpb_any_t any =
	    xpb_any_begin(w, 4, "envoy.extensions.access_loggers.file.v3.FileAccessLog");
	xpb_str(w, 1, path);
	if (set->access_log_json) {
		size_t lf = xpb_begin(w, 5);
		xds_json_format(w, 2, set->json_fields);
		xpb_bool(w, 3, 1); /* omit_empty_values */
		xpb_end(w, lf);
	} else if (set->access_log_format) {
		size_t lf = xpb_begin(w, 5);
		size_t ds = xpb_begin(w, 5); /* text_format_source */
		xpb_str_always(w, 3, set->access_log_format);
		xpb_end(w, ds);
		xpb_end(w, lf);
	}
	xpb_any_end(w, any);
	xpb_end(w, al);
}

/* The HCM's fields 5 to 14 (filters, HTTP/1 options, drain timeout,
 * access log, use_remote_address): the same for every chain of a listener. */
static void xds_hcm_middle(const xds_settings_t *set, xpb_t *w, int misdirected,
                           const char *access_log)
{
	xds_default_filters(set, w, misdirected);
	size_t h1 = xpb_begin(w, 8);
	xpb_bool(w, 2, 1); /* accept_http_10 */
	xpb_bool(w, 6, set->allow_chunked_length);
	xpb_end(w, h1);
	if (set->http2_max_concurrent_streams > 0) { /* listener.http2-max-concurrent-streams */
		size_t h2 = xpb_begin(w, 9);
		xpb_u32value(w, 2, (uint32_t)set->http2_max_concurrent_streams);
		xpb_end(w, h2);
	}
	xds_timeout(w, 12, set->drain_timeout);
	xds_access_log(set, w, 13, access_log);
	xpb_boolvalue(w, 14, 1); /* use_remote_address */
}

/* Fields 19 to 47: the settings' alone. */
static void xds_hcm_tail(const xds_settings_t *set, xpb_t *w)
{
	xpb_uint(w, 19, set->num_trusted_hops);
	xds_timeout(w, 24, set->stream_idle_timeout);
	xds_timeout(w, 26, set->delayed_close_timeout);
	xds_timeout(w, 28, set->request_timeout);
	xpb_boolvalue(w, 30, 1); /* normalize_path */
	xpb_bool(w, 32, 1);      /* preserve_external_request_id */
	xpb_bool(w, 33, set->merge_slashes);
	xpb_uint(w, 34, set->server_header);
	size_t cp = xpb_begin(w, 35);
	xds_timeout(w, 1, set->connection_idle_timeout);
	xds_timeout(w, 3, set->max_connection_duration);
	if (set->l_max_requests_per_connection > 0) /* listener.max-requests-per-connection */
		xpb_u32value(w, 6, (uint32_t)set->l_max_requests_per_connection);
	xpb_end(w, cp);
	xpb_bool(w, 47, set->strip_trailing_host_dot);
}

/* Copy memo (writing it first if empty): the parts of 5,000 HCMs that do
 * not change from chain to chain are encoded once per build. */
static void xds_memo_copy(xpb_t *w, xpb_t *memo)
{
	if (memo->oom)
		w->oom = 1;
	else
		xpb_raw(w, memo->buf, memo->len);
}

/* A Filter holding upstream's HTTP connection manager for Contour's
 * listeners, at `field` of the enclosing FilterChain. */
static void xds_hcm(xds_build_t *b, xpb_t *w, uint32_t field, const char *rds,
                    const char *stat_prefix, int misdirected, const char *access_log,
                    const contour_dag_client_validation_t *cv)
{
	const xds_settings_t *set = &b->set;
	size_t f = xpb_begin(w, field);
	xpb_str(w, 1, XDS_HCM_NAME);
	xpb_any_t any = xpb_any_begin(w, 4, XDS_HCM_TYPE);
	xpb_uint(w, 1, set->codec);
	xpb_str(w, 2, stat_prefix);
	size_t r = xpb_begin(w, 3);
	xds_pb_config_source(w, 1);
	xpb_str(w, 2, rds);
	xpb_end(w, r);
	if (misdirected && access_log == set->https_access_log) {
		/* the secure chains' */
		if (!b->memo[0].len)
			xds_hcm_middle(set, &b->memo[0], misdirected, access_log);
		xds_memo_copy(w, &b->memo[0]);
	} else {
		xds_hcm_middle(set, w, misdirected, access_log);
	}
	if (cv && (cv->forward.subject || cv->forward.cert || cv->forward.chain ||
	           cv->forward.dns || cv->forward.uri)) {
		xpb_uint(w, 16, 3); /* SANITIZE_SET */
		size_t cd = xpb_begin(w, 17);
		xpb_boolvalue(w, 1, cv->forward.subject);
		xpb_bool(w, 3, cv->forward.cert);
		xpb_bool(w, 4, cv->forward.dns);
		xpb_bool(w, 5, cv->forward.uri);
		xpb_bool(w, 6, cv->forward.chain);
		xpb_end(w, cd);
	}
	if (!b->memo[1].len)
		xds_hcm_tail(set, &b->memo[1]);
	xds_memo_copy(w, &b->memo[1]);
	xpb_any_end(w, any);
	xpb_end(w, f);
}

static void xds_keepalive_options(xpb_t *w)
{
	static const struct {
		const char *desc;
		int level, name, value;
	} opts[] = {
	    {"Enable TCP keep-alive", 1, 9, 1},
	    {"TCP keep-alive initial idle time", 6, 4, 45},
	    {"TCP keep-alive time between probes", 6, 5, 5},
	    {"TCP keep-alive probe count", 6, 6, 9},
	};
	for (size_t i = 0; i < sizeof(opts) / sizeof(*opts); i++) {
		size_t o = xpb_begin(w, 13);
		xpb_str(w, 1, opts[i].desc);
		xpb_int(w, 2, opts[i].level);
		xpb_int(w, 3, opts[i].name);
		xpb_uint_always(w, 4, (uint64_t)opts[i].value);
		xpb_uint(w, 6, 2); /* STATE_LISTENING */
		xpb_end(w, o);
	}
}

/* What follows the filter chains of ingress_http and ingress_https:
 * listener.per-connection-buffer-limit-bytes, the TLS inspector (secure
 * only), keep-alive and listener.socket-options (upstream's TOS and
 * TrafficClass options), listener.connection-balancer and
 * max-connections-to-accept-per-socket-event. */
static void xds_ingress_listener_tail(const xds_settings_t *set, xpb_t *w, int tls_inspector)
{
	if (set->l_per_connection_buffer_limit_bytes > 0)
		xpb_u32value(w, 5, (uint32_t)set->l_per_connection_buffer_limit_bytes);
	if (tls_inspector) {
		size_t lf = xpb_begin(w, 9);
		xpb_str(w, 1, "envoy.filters.listener.tls_inspector");
		xpb_any_empty(w, 3,
		              "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector");
		xpb_end(w, lf);
	}
	xds_keepalive_options(w);
	static const struct {
		const char *desc;
		int level, name;
	} sock[] = {
	    {"Set IPv4 TOS field", 0, 1},             /* IPPROTO_IP, IP_TOS */
	    {"Set IPv6 Traffic Class field", 41, 67}, /* IPPROTO_IPV6, IPV6_TCLASS */
	};
	const uint32_t val[] = {set->socket_tos, set->socket_traffic_class};
	for (size_t i = 0; i < 2; i++) {
		if (!val[i])
			continue;
		size_t o = xpb_begin(w, 13);
		xpb_str(w, 1, sock[i].desc);
		xpb_int(w, 2, sock[i].level);
		xpb_int(w, 3, sock[i].name);
		xpb_uint_always(w, 4, val[i]);
		xpb_uint(w, 6, 2); /* STATE_LISTENING */
		xpb_end(w, o);
	}
	if (set->conn_balance_exact) {
		size_t cb = xpb_begin(w, 20);
		xpb_empty(w, 1); /* exact_balance */
		xpb_end(w, cb);
	}
	if (set->max_accept_per_socket_event > 0)
		xpb_u32value(w, 34, (uint32_t)set->max_accept_per_socket_event);
}

static unsigned xds_tls_version(const char *v)
{
	if (!v)
		return 0;
	if (!strcmp(v, "1.2"))
		return 3;
	if (!strcmp(v, "1.3"))
		return 4;
	return 0;
}

/* The strings of a JSON array (from the config) as a repeated field. */
static void xds_str_list(xpb_t *w, uint32_t field, const json_t *list)
{
	size_t i;
	const json_t *v;
	json_array_foreach(list, i, v)
	{
		if (json_is_string(v))
			xpb_str_always(w, field, json_string_value(v));
	}
}

/* The strings of list not seen before in it (upstream's Sanitized*). */
static void xds_str_list_unique(xpb_t *w, uint32_t field, const json_t *list)
{
	size_t i, j;
	const json_t *v, *u;
	json_array_foreach(list, i, v)
	{
		const char *s = json_string_value(v);
		int dup = 0;
		for (j = 0; s && j < i && !dup; j++) {
			u = json_array_get(list, j);
			dup = json_is_string(u) && !strcmp(json_string_value(u), s);
		}
		if (s && !dup)
			xpb_str_always(w, field, s);
	}
}

void xds_pb_tls_params(xpb_t *w, uint32_t field, unsigned minv, unsigned maxv,
                       const json_t *ciphers, const json_t *curves)
{
	size_t tp = xpb_begin(w, field);
	xpb_uint(w, 1, minv);
	xpb_uint(w, 2, maxv);
	if (ciphers)
		xds_str_list_unique(w, 3, ciphers);
	else
		for (size_t i = 0; i < sizeof(xds_ciphers) / sizeof(*xds_ciphers); i++)
			xpb_str_always(w, 3, xds_ciphers[i]);
	if (curves)
		xds_str_list_unique(w, 4, curves);
	xpb_end(w, tp);
}

/* A transport socket with upstream's DownstreamTlsContext. */
static void xds_downstream_tls(xds_build_t *b, xpb_t *w, const contour_dag_secret_t *secret,
                               unsigned minv, unsigned maxv,
                               const contour_dag_client_validation_t *cv, int alpn)
{
	const char *sds = xds_secret_name_cached(b, secret);
	size_t ts = xpb_begin(w, 6);
	xpb_str(w, 1, "envoy.transport_sockets.tls");
	xpb_any_t any =
	    xpb_any_begin(w, 3, "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext");
	size_t ctx = xpb_begin(w, 1);
	size_t tp = xpb_begin(w, 1);
	xpb_uint(w, 1, minv);
	xpb_uint(w, 2, maxv);
	if (b->set.cipher_suites)
		xds_str_list(w, 3, b->set.cipher_suites);
	else
		for (size_t i = 0; i < sizeof(xds_ciphers) / sizeof(*xds_ciphers); i++)
			xpb_str_always(w, 3, xds_ciphers[i]);
	if (b->set.ecdh_curves)
		xds_str_list(w, 4, b->set.ecdh_curves);
	xpb_end(w, tp);
	if (cv)
		xds_pb_validation_context(w, 3, cv->ca ? cv->ca->ca : NULL, NULL, 0,
		                          cv->skip_verify, cv->crl ? cv->crl->crl : NULL,
		                          cv->crl_only_leaf);
	if (alpn) {
		if (b->set.alpn_h2)
			xpb_str_always(w, 4, "h2");
		if (b->set.alpn_h1)
			xpb_str_always(w, 4, "http/1.1");
	}
	size_t sc = xpb_begin(w, 6);
	xpb_str(w, 1, sds);
	xds_pb_config_source(w, 2);
	xpb_end(w, sc);
	xpb_end(w, ctx);
	if (cv)
		xpb_boolvalue(w, 2, !cv->optional);
	xpb_any_end(w, any);
	xpb_end(w, ts);
}

static void xds_tcp_proxy(xds_build_t *b, xpb_t *w, const contour_dag_tcpproxy_t *tp,
                          const char *access_log)
{
	size_t f = xpb_begin(w, 3);
	xpb_str(w, 1, XDS_TCP_PROXY_NAME);
	xpb_any_t any =
	    xpb_any_begin(w, 4, "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy");
	xpb_str(w, 1, "ingress_https");
	/* zero weights get no traffic (TcpProxy rejects weight 0) unless all
	 * are zero, then all share evenly */
	uint32_t total = 0;
	size_t keep = 0, last = 0;
	for (size_t i = 0; i < tp->nbackends; i++)
		if (tp->backends[i].weight) {
			total += tp->backends[i].weight;
			keep++;
			last = i;
		}
	if (!total) {
		keep = tp->nbackends;
		last = 0;
	}
	if (keep == 1) {
		const char *name = xds_cluster_name(b, tp->backends[last].cluster);
		xpb_str_always(w, 2, name ? name : "");
	}
	xds_access_log(&b->set, w, 5, access_log);
	xpb_duration_ms(w, 8, 9001000);
	if (keep > 1) {
		/* sorted by name, then weight */
		const contour_dag_backend_t *v[256];
		const char *names[256];
		size_t n = 0;
		for (size_t i = 0; i < tp->nbackends && n < 256; i++) {
			if (total && !tp->backends[i].weight)
				continue;
			const char *name = xds_cluster_name(b, tp->backends[i].cluster);
			size_t j = n;
			uint32_t wt = total ? tp->backends[i].weight : 1;
			while (j > 0) {
				int c = strcmp(names[j - 1], name ? name : "");
				uint32_t pw = total ? v[j - 1]->weight : 1;
				if (c < 0 || (c == 0 && pw <= wt))
					break;
				v[j] = v[j - 1];
				names[j] = names[j - 1];
				j--;
			}
			v[j] = &tp->backends[i];
			names[j] = name ? name : "";
			n++;
		}
		size_t wc = xpb_begin(w, 10);
		for (size_t i = 0; i < n; i++) {
			size_t cw = xpb_begin(w, 1);
			xpb_str(w, 1, names[i]);
			xpb_uint(w, 2, total ? v[i]->weight : 1);
			xpb_end(w, cw);
		}
		xpb_end(w, wc);
	}
	xpb_any_end(w, any);
	xpb_end(w, f);
}

#define XDS_FRAG_CHAIN 301

/* One filter chain of ingress_https for a secure virtual host: everything
 * in it comes from the svhost (its hash covers the secret, the validation
 * secrets and the tcpproxy clusters) and the settings. */
static void xds_svhost_chain(xds_build_t *b, xpb_t *w, const contour_dag_svhost_t *sv)
{
	uint64_t key = xds_key(b, XDS_FRAG_CHAIN, sv->hash);
	if (xds_frag_reuse(b, key))
		return;
	size_t mark = w->len;
	char rds[600];
	size_t fc = xpb_begin(w, 3);
	size_t m = xpb_begin(w, 1);
	if (!strcmp(sv->vhost.fqdn, "*"))
		xpb_str(w, 9, "tls");
	else
		xpb_str_always(w, 11, sv->vhost.fqdn);
	xpb_end(w, m);
	if (sv->tcpproxy) {
		xds_tcp_proxy(b, w, sv->tcpproxy, b->set.https_access_log);
	} else {
		size_t o = 0;
		xds_cat(rds, sizeof(rds), &o, "https/");
		xds_cat(rds, sizeof(rds), &o, sv->vhost.fqdn);
		rds[o] = 0;
		xds_hcm(b, w, 3, rds, "ingress_https", 1, b->set.https_access_log,
		        sv->client_validation);
	}
	if (sv->secret) {
		/* a vhost may raise the global floor and lower the global
		 * ceiling, never the reverse */
		unsigned minv = xds_tls_version(sv->min_tls_version);
		unsigned maxv = xds_tls_version(sv->max_tls_version);
		if (minv < b->set.tls_min)
			minv = b->set.tls_min;
		if (!maxv || maxv > b->set.tls_max)
			maxv = b->set.tls_max;
		if (maxv < minv) /* Envoy rejects min > max: the floor wins */
			maxv = minv;
		xds_downstream_tls(b, w, sv->secret, minv, maxv, sv->client_validation,
		                   sv->tcpproxy == NULL);
	}
	xpb_end(w, fc);
	xds_frag_keep(b, key, mark);
}

static void xds_fallback_chain(xds_build_t *b, xpb_t *w, const contour_dag_svhost_t *sv)
{
	size_t fc = xpb_begin(w, 3);
	size_t m = xpb_begin(w, 1);
	xpb_str(w, 9, "tls");
	xpb_end(w, m);
	xds_hcm(b, w, 3, "ingress_fallbackcert", "ingress_https", 0, b->set.https_access_log,
	        sv->client_validation);
	xds_downstream_tls(b, w, b->dag->fallback_secret, b->set.tls_min,
	                   b->set.tls_max < b->set.tls_min ? b->set.tls_min : b->set.tls_max,
	                   sv->client_validation, 1);
	xpb_str(w, 7, "fallback-certificate");
	xpb_end(w, fc);
}

static int xds_ingress_https(xds_build_t *b)
{
	const contour_dag_t *dag = b->dag;
	xpb_t *w = &b->w;
	if (!dag->nsvhosts)
		return CONTOUR_EOK;
	xpb_str(w, 1, "ingress_https");
	xds_pb_socket_address(w, 2, b->set.https_address, b->set.https_port);
	/* upstream sorts chains by server name, stably, with the chains
	 * without one ("*" and the fallback) last in insertion order */
	for (size_t i = 0; i < dag->nsvhosts; i++)
		if (strcmp(dag->svhosts[i]->vhost.fqdn, "*"))
			xds_svhost_chain(b, w, dag->svhosts[i]);
	int fallback_done = 0;
	for (size_t i = 0; i < dag->nsvhosts; i++) {
		const contour_dag_svhost_t *sv = dag->svhosts[i];
		if (!strcmp(sv->vhost.fqdn, "*"))
			xds_svhost_chain(b, w, sv);
		if (sv->fallback_certificate && !fallback_done && dag->fallback_secret &&
		    !sv->tcpproxy) {
			xds_fallback_chain(b, w, sv);
			fallback_done = 1;
		}
	}
	xds_ingress_listener_tail(&b->set, w, 1);
	return xds_build_add(b, XDS_LISTENER, "ingress_https");
}

static int xds_ingress_http(xds_build_t *b)
{
	const contour_dag_t *dag = b->dag;
	xpb_t *w = &b->w;
	int any = 0;
	for (size_t i = 0; i < dag->nvhosts && !any; i++)
		any = dag->vhosts[i]->nroutes > 0;
	if (!any)
		return CONTOUR_EOK;
	xpb_str(w, 1, "ingress_http");
	xds_pb_socket_address(w, 2, b->set.http_address, b->set.http_port);
	size_t fc = xpb_begin(w, 3);
	xds_hcm(b, w, 3, "ingress_http", "ingress_http", 0, b->set.http_access_log, NULL);
	xpb_end(w, fc);
	xds_ingress_listener_tail(&b->set, w, 0);
	return xds_build_add(b, XDS_LISTENER, "ingress_http");
}

/* The static listeners' HCM: an inline route table of GET-only exact paths
 * to the envoy-admin cluster, the router, normalize_path. */
static void xds_admin_chain(xpb_t *w, const char *stat_prefix, const char *const *paths,
                            size_t npaths)
{
	size_t fc = xpb_begin(w, 3);
	size_t f = xpb_begin(w, 3);
	xpb_str(w, 1, XDS_HCM_NAME);
	xpb_any_t any = xpb_any_begin(w, 4, XDS_HCM_TYPE);
	xpb_str(w, 2, stat_prefix);
	size_t rc = xpb_begin(w, 4);
	size_t vh = xpb_begin(w, 2);
	xpb_str(w, 1, "backend");
	xpb_str_always(w, 2, "*");
	for (size_t i = 0; i < npaths; i++) {
		size_t r = xpb_begin(w, 3);
		size_t m = xpb_begin(w, 1);
		xpb_str_always(w, 2, paths[i]);
		size_t h = xpb_begin(w, 6);
		xpb_str(w, 1, ":method");
		xds_pb_string_matcher(w, 13, CONTOUR_DAG_MATCH_EXACT, "GET", 1);
		xpb_end(w, h);
		xpb_end(w, m);
		size_t ra = xpb_begin(w, 2);
		xpb_str_always(w, 1, "envoy-admin");
		xpb_end(w, ra);
		xpb_end(w, r);
	}
	xpb_end(w, vh);
	xpb_end(w, rc);
	xds_http_filter_begin_end_empty(w, "router",
	                                "envoy.extensions.filters.http.router.v3.Router");
	xpb_boolvalue(w, 30, 1);
	xpb_any_end(w, any);
	xpb_end(w, f);
	xpb_end(w, fc);
}

static int xds_static_listeners(xds_build_t *b)
{
	xpb_t *w = &b->w;
	static const char *const stats[] = {"/ready", "/stats", "/stats/prometheus"};
	static const char *const admin[] = {
	    "/certs",
	    "/clusters",
	    "/listeners",
	    "/config_dump",
	    "/memory",
	    "/ready",
	    "/runtime",
	    "/server_info",
	    "/stats",
	    "/stats/prometheus",
	    "/stats/recentlookups",
	};
	int rc;
	xpb_str(w, 1, "stats-health");
	xds_pb_socket_address(w, 2, b->set.stats_address, b->set.stats_port);
	xds_admin_chain(w, "stats", stats, sizeof(stats) / sizeof(*stats));
	xds_keepalive_options(w);
	xpb_bool(w, 31, 1);
	if ((rc = xds_build_add(b, XDS_LISTENER, "stats-health")))
		return rc;
	if (!b->set.admin_port)
		return CONTOUR_EOK;
	xpb_str(w, 1, "envoy-admin");
	xds_pb_socket_address(w, 2, "127.0.0.1", b->set.admin_port);
	xds_admin_chain(w, "envoy-admin", admin, sizeof(admin) / sizeof(*admin));
	xds_keepalive_options(w);
	xpb_bool(w, 31, 1);
	return xds_build_add(b, XDS_LISTENER, "envoy-admin");
}

int xds_translate_listeners(xds_build_t *b)
{
	int rc;
	if ((rc = xds_ingress_http(b)) || (rc = xds_ingress_https(b)))
		return rc;
	return xds_static_listeners(b);
}
