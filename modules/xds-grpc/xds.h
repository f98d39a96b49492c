/* modules/xds-grpc/xds.h: the xds-grpc module's private interfaces.
 *
 *   translation (xds_translate*.c): a sealed DAG snapshot (plus
 *       EndpointSlices read from the store) -> Envoy v3 resources,
 *       serialised with protobuf-c, named and shaped as upstream Contour's
 *       (internal/envoy/v3) and valid by Envoy's own validation rules
 *   server (xds_server*.c, xds_h2*.c, xds_stream*.c): gRPC over HTTP/2
 *       (nghttp2 on libevent bufferevents, optional mTLS) serving the per-type
 *       SotW services and ADS from the latest published xds_snapshot_t
 *   xds-grpc.c: the module (descriptor, schema, observer that translates each
 *       new DAG snapshot and publishes it to the server)
 */
#ifndef XDS_H
#define XDS_H

#include <stddef.h>
#include <stdint.h>
#include <contour/module.h>

#define XDS_TYPE_LISTENER "type.googleapis.com/envoy.config.listener.v3.Listener"
#define XDS_TYPE_ROUTE    "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
#define XDS_TYPE_CLUSTER  "type.googleapis.com/envoy.config.cluster.v3.Cluster"
#define XDS_TYPE_ENDPOINT "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
#define XDS_TYPE_SECRET   "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
#define XDS_TYPE_RUNTIME  "type.googleapis.com/envoy.service.runtime.v3.Runtime"

typedef enum {
	XDS_LISTENER = 0,
	XDS_ROUTE,
	XDS_CLUSTER,
	XDS_ENDPOINT,
	XDS_SECRET,
	XDS_RUNTIME,
	XDS_NTYPES,
} xds_type_t;

/* The type URL of t, and the xds_type_t of a type URL (-1 if unknown). */
const char *xds_type_url(xds_type_t t);
int xds_type_of_url(const char *url);

/* One serialised resource (the bytes of the Envoy message itself, not an
 * Any). `hash` is a content hash: equal hash, equal bytes. `src` is a hash
 * of the inputs it was built from (DAG hashes, settings, EndpointSlices),
 * 0 when unknown: the next translation copies a resource whose inputs hash
 * the same instead of building it again. */
typedef struct xds_resource {
	char *name;
	uint8_t *bytes;
	size_t len;
	uint64_t hash;
	uint64_t src;
} xds_resource_t;

struct xds_cache;

/* Everything served at one moment: per type, resources sorted by name, and a
 * version string that changes whenever that type's content changes.
 * Immutable once published; reference counted. */
typedef struct xds_snapshot {
	unsigned refs;
	xds_resource_t *res[XDS_NTYPES];
	size_t nres[XDS_NTYPES];
	char version[XDS_NTYPES][40];
	/* the translation's reusable parts (fragments of the big resources,
	 * the EndpointSlices they were built from); private to xds_translate */
	struct xds_cache *cache;
} xds_snapshot_t;

xds_snapshot_t *xds_snapshot_ref(xds_snapshot_t *s);
void xds_snapshot_unref(xds_snapshot_t *s); /* NULL accepted */
/* Free per-type resource arrays (names, bytes and the arrays themselves);
 * the snapshot's and the translation's build use it. */
void xds_resources_free(xds_resource_t *const *res, const size_t *nres);
/* Binary search by name; NULL when absent. */
const xds_resource_t *xds_snapshot_find(const xds_snapshot_t *s, xds_type_t t, const char *name);

/* Settings the translation needs (from the module config and the globals). */
/* compression.algorithm, as upstream: gzip unless set otherwise. */
enum {
	XDS_COMPRESS_DISABLED = 0,
	XDS_COMPRESS_GZIP,
	XDS_COMPRESS_BROTLI,
	XDS_COMPRESS_ZSTD,
};

typedef struct xds_settings {
	const char *http_address;     /* Envoy's HTTP listener, default 0.0.0.0 */
	uint32_t http_port;           /* default 8080 */
	const char *https_address;    /* default 0.0.0.0 */
	uint32_t https_port;          /* default 8443 */
	const char *stats_address;    /* default 0.0.0.0 */
	uint32_t stats_port;          /* default 8002 */
	uint32_t admin_port;          /* network.admin-port, default 9001, 0 = none */
	const char *http_access_log;  /* default /dev/stdout */
	const char *https_access_log; /* default /dev/stdout */
	/* The global config (contour_conf_global), read by xds_settings_globals.
	 * Durations in milliseconds: XDS_DUR_UNSET leaves Envoy's default (the
	 * field is omitted), XDS_DUR_DISABLED ("infinity" or "0s") is written as
	 * a zero Duration, which Envoy reads as "no timeout". */
	int globals; /* set once the fields below were read */
	int64_t request_timeout, connection_idle_timeout, stream_idle_timeout;
	int64_t max_connection_duration, delayed_close_timeout, drain_timeout;
	int64_t connect_timeout;
	unsigned tls_min, tls_max;   /* TlsParameters.TlsProtocol: 3 = 1.2, 4 = 1.3 */
	const json_t *cipher_suites; /* array of strings; NULL = Contour's list */
	const json_t *ecdh_curves;   /* array of strings; NULL = Envoy's default */
	int compression;             /* compression.algorithm: XDS_COMPRESS_* */
	int alpn_h2, alpn_h1;        /* default-http-versions (both by default) */
	unsigned codec;              /* HCM CodecType: 0 AUTO, 1 HTTP1, 2 HTTP2 */
	int merge_slashes;           /* !disableMergeSlashes */
	int allow_chunked_length;    /* !disableAllowChunkedLength */
	unsigned server_header;      /* 0 OVERWRITE, 1 APPEND_IF_ABSENT, 2 PASS_THROUGH */
	uint32_t num_trusted_hops;   /* network.num-trusted-hops */
	int strip_trailing_host_dot; /* network.strip-trailing-host-dot */
	unsigned dns_lookup_family;  /* Cluster.DnsLookupFamily: 0 AUTO, 1 V4, 2 V6, 4 ALL */
	int64_t max_requests_per_connection;       /* -1 = unset */
	int64_t per_connection_buffer_limit_bytes; /* -1 = unset */
	/* cluster.circuit-breakers: for each field a Service leaves at 0 */
	uint32_t cb_max_connections, cb_max_pending_requests, cb_max_requests;
	uint32_t cb_max_retries, cb_per_host_max_connections;
	unsigned access_log_level; /* accesslog-level: 0 info, 1 error, 2 critical, 3 disabled */
	int access_log_json;       /* accesslog-format: json (else envoy) */
	const json_t *json_fields; /* json-fields; NULL = upstream's default list */
	const char *access_log_format; /* accesslog-format-string (envoy), or NULL */
	/* cluster.upstream-tls: every upstream TLS context's tls_params */
	unsigned up_tls_min, up_tls_max; /* 3 = 1.2 (default), 4 = 1.3 (default) */
	const json_t *up_cipher_suites;  /* NULL = Contour's list */
	const json_t *up_ecdh_curves;    /* NULL = Envoy's default */
	/* listener.*: -1 = unset (what Envoy defaults) */
	int conn_balance_exact;                      /* connection-balancer: exact */
	int64_t l_max_requests_per_connection;       /* HCM common_http_protocol_options */
	int64_t l_per_connection_buffer_limit_bytes; /* ingress listeners */
	int64_t http2_max_concurrent_streams;        /* HCM http2_protocol_options */
	int64_t max_requests_per_io_cycle;           /* runtime http.max_requests_per_io_cycle */
	int64_t max_connections_per_listener;        /* runtime per-listener connection_limit */
	int64_t max_accept_per_socket_event;       /* max_connections_to_accept_per_socket_event */
	uint32_t socket_tos, socket_traffic_class; /* socket-options; 0 = not set */
} xds_settings_t;

#define XDS_DUR_UNSET    0
#define XDS_DUR_DISABLED (-1)

/* xds_settings_globals: fill the global-config fields of s from mod's
 * config (defaults where unset) and set s->globals. xds_translate calls it
 * itself when given settings without them. */
void xds_settings_globals(contour_module_t *mod, xds_settings_t *s);
/* xds_settings_check: the global keys' rules the core's schema cannot
 * state, with upstream's messages (pkg/config/parameters.go Validate).
 * Returns 0, or CONTOUR_ECONFIG with the message in err. */
int xds_settings_check(contour_module_t *mod, char *err, size_t errlen);

/* xds_translate: translate a sealed snapshot into a new xds snapshot whose
 * versions continue from prev (NULL at first): a type's version changes only
 * when its set of (name, hash) changed. What was built from inputs that hash
 * as in prev (same settings) is copied from prev, byte for byte what a
 * fresh translation would write. Returns NULL on allocation failure. */
xds_snapshot_t *xds_translate(contour_module_t *mod, contour_snapshot_t *snap,
                              const xds_settings_t *settings, const xds_snapshot_t *prev);

/* xds_translate_cleanup: release the digests translation fetched once. The
 * module's free calls it: they live in OpenSSL's heap, and after dlclose()
 * nothing points to them any more (a leak for LeakSanitizer). Translating
 * afterwards still works, with OpenSSL's one-shot digests. */
void xds_translate_cleanup(void);

/* xds_snapshot_to_json: the snapshot as
 * {"listeners":[],"routes":[],"clusters":[],"endpoints":[],"secrets":[]} with
 * each resource decoded to Envoy's proto3 JSON mapping (for `contour render
 * --format envoy`); private keys replaced by "[redacted]". */
json_t *xds_snapshot_to_json(const xds_snapshot_t *s);

/* The server. */
typedef struct xds_server xds_server_t;
typedef struct xds_server_config {
	const char *address; /* default 127.0.0.1 */
	uint32_t port;       /* default 8001; 0 = pick (tests) */
	int insecure;
	const char *ca_file, *cert_file, *key_file; /* all three, or insecure */
} xds_server_config_t;

xds_server_t *xds_server_new(contour_module_t *mod, const xds_server_config_t *cfg);
int xds_server_start(xds_server_t *srv); /* bind and listen; logs the port */
void xds_server_stop(xds_server_t *srv); /* close listener and connections */
void xds_server_free(xds_server_t *srv);
/* xds_server_publish: serve snap from now on (takes a reference) and push
 * what changed to every stream that is waiting for it. */
void xds_server_publish(xds_server_t *srv, xds_snapshot_t *snap);
uint32_t xds_server_port(const xds_server_t *srv);

/* xds_globals.c: the global keys xds-grpc reads (the descriptor's
 * global_schema). */
extern const contour_conf_item_t xds_global_schema[];

#endif
