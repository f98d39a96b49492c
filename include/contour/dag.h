/* contour/dag.h: the routing graph (DAG) that processors fill and observers
 * read.
 *
 * Every build starts with an empty DAG attached to the snapshot under
 * construction. Processors (tls-delegation, httpproxy, ingress, ...) add
 * delegations, virtual hosts, routes, clusters and secrets through the
 * functions below; when the build ends the core seals the DAG: it drops
 * virtual hosts that would publish nothing (as upstream does), sorts
 * everything by name and computes a content hash for each virtual host,
 * cluster and secret, so the xDS translator can resend only what changed
 * by comparing hashes with the previous snapshot.
 *
 * Memory: everything hangs off one arena that lives as long as the
 * snapshot. Pointers into the DAG stay valid while the snapshot is held;
 * nothing is freed individually. Strings are NUL-terminated and borrowed.
 *
 * The structs are public so observers can walk them without accessor
 * calls. Processors allocate them with the core's constructors below
 * (contour_dag_route_new() and the like: zeroed, in the arena, at the
 * size the core was built with) and never free them. Lists are (pointer,
 * count) pairs; a list of DAG structs grows with its typed
 * contour_dag_<thing>_push(), which returns the new zeroed element to
 * fill. See module.h's ABI notes for which structs may grow.
 */
#ifndef CONTOUR_DAG_H
#define CONTOUR_DAG_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct contour_module contour_module_t;
typedef struct contour_snapshot contour_snapshot_t;
typedef struct contour_dag contour_dag_t;

/* Timeouts: milliseconds, or one of these. */
#define CONTOUR_DAG_TIMEOUT_DEFAULT (-2) /* not set: Envoy's default */
#define CONTOUR_DAG_TIMEOUT_INFINITE (-1) /* disabled ("infinity", Envoy 0s) */

typedef enum {
	CONTOUR_DAG_PATH_PREFIX = 0,     /* string prefix */
	CONTOUR_DAG_PATH_EXACT,          /* exact path */
	CONTOUR_DAG_PATH_REGEX,          /* RE2, anchored by the translator */
	CONTOUR_DAG_PATH_SEGMENT_PREFIX, /* Ingress `Prefix`: whole path segments */
} contour_dag_path_type_t;

typedef struct contour_dag_path_match {
	contour_dag_path_type_t type;
	const char *value;
} contour_dag_path_match_t;

typedef enum {
	CONTOUR_DAG_MATCH_EXACT = 0,
	CONTOUR_DAG_MATCH_CONTAINS,
	CONTOUR_DAG_MATCH_PRESENT,
	CONTOUR_DAG_MATCH_REGEX,
	CONTOUR_DAG_MATCH_PREFIX, /* query parameters only */
	CONTOUR_DAG_MATCH_SUFFIX, /* query parameters only */
} contour_dag_match_type_t;

/* A header condition. `notpresent` is PRESENT inverted, `notexact` EXACT
 * inverted, `notcontains` CONTAINS inverted. */
typedef struct contour_dag_header_match {
	const char *name;
	const char *value; /* NULL for PRESENT */
	contour_dag_match_type_t type;
	int invert;
	int ignore_case;
	int treat_missing_as_empty; /* only meaningful with invert */
} contour_dag_header_match_t;

typedef struct contour_dag_query_match {
	const char *name;
	const char *value; /* NULL for PRESENT */
	contour_dag_match_type_t type;
	int ignore_case;
} contour_dag_query_match_t;

typedef struct contour_dag_header_value {
	const char *name;
	const char *value;
} contour_dag_header_value_t;

/* Request or response header changes. A Host in a request `set` becomes
 * host_rewrite (or, at route level only, host_rewrite_header for
 * `%REQ(X)%`: upstream ignores a dynamic Host on a backend). */
typedef struct contour_dag_header_policy {
	contour_dag_header_value_t *set;
	size_t nset;
	const char **remove;
	size_t nremove;
	const char *host_rewrite;
	const char *host_rewrite_header;
} contour_dag_header_policy_t;

typedef enum {
	CONTOUR_DAG_LB_ROUND_ROBIN = 0,
	CONTOUR_DAG_LB_WEIGHTED_LEAST_REQUEST,
	CONTOUR_DAG_LB_RANDOM,
	CONTOUR_DAG_LB_COOKIE,
	CONTOUR_DAG_LB_REQUEST_HASH,
} contour_dag_lb_strategy_t;

typedef enum {
	CONTOUR_DAG_HASH_HEADER = 0,
	CONTOUR_DAG_HASH_QUERY,
	CONTOUR_DAG_HASH_SOURCE_IP,
	CONTOUR_DAG_HASH_COOKIE, /* the session-affinity cookie of the Cookie strategy */
} contour_dag_hash_type_t;

typedef struct contour_dag_hash_policy {
	contour_dag_hash_type_t type;
	const char *name; /* header, query parameter or cookie name */
	int terminal;
} contour_dag_hash_policy_t;

typedef struct contour_dag_retry_policy {
	const char *retry_on;  /* comma-separated Envoy conditions, e.g. "5xx" */
	uint32_t num_retries;
	int64_t per_try_timeout_ms; /* or CONTOUR_DAG_TIMEOUT_DEFAULT */
	uint32_t *retriable_status_codes;
	size_t nretriable_status_codes;
} contour_dag_retry_policy_t;

typedef struct contour_dag_timeout_policy {
	int64_t response_ms; /* route timeout */
	int64_t idle_ms;     /* per-route stream idle timeout */
} contour_dag_timeout_policy_t;

/* An HTTP status range, half-open as Envoy's: start inclusive, end
 * exclusive. (ABI 1.4 named the type; the layout is the anonymous struct
 * 1.3 had.) */
typedef struct contour_dag_status_range {
	uint32_t start, end;
} contour_dag_status_range_t;

/* As the user wrote it: interval_ms, timeout_ms and the thresholds are 0
 * when unset (upstream's cluster name hashes only the fields that are set;
 * the xDS translator applies Envoy's defaults where it writes the check).
 * host is "contour-envoy-healthcheck" when unset. */
typedef struct contour_dag_health_check {
	int tcp;            /* TCP check (tcpproxy) instead of HTTP */
	const char *path;   /* HTTP */
	const char *host;   /* HTTP, default contour-envoy-healthcheck */
	int64_t interval_ms, timeout_ms;
	uint32_t unhealthy_threshold, healthy_threshold;
	contour_dag_status_range_t *expected_statuses;
	size_t nexpected_statuses;
} contour_dag_health_check_t;

typedef struct contour_dag_slow_start {
	int64_t window_ms;
	double aggression;
	uint32_t min_weight_percent;
} contour_dag_slow_start_t;

typedef struct contour_dag_circuit_breakers {
	/* 0 = not set */
	uint32_t max_connections, max_pending_requests, max_requests, max_retries;
	uint32_t per_host_max_connections;
} contour_dag_circuit_breakers_t;

typedef struct contour_dag_secret contour_dag_secret_t;

/* The Service port a cluster sends to. */
typedef struct contour_dag_service {
	const char *namespace_;
	const char *name;
	uint32_t port;           /* the Service port (not targetPort) */
	const char *port_name;   /* "" when unnamed */
	const char *external_name; /* ExternalName services only, else NULL */
	uint32_t health_port;    /* 0: same as port */
	const char *health_port_name;
} contour_dag_service_t;

/* An upstream cluster: a Service port plus everything that makes Envoy
 * treat it differently. Interned: equal clusters are one object. */
typedef struct contour_dag_cluster {
	contour_dag_service_t service;
	const char *protocol; /* "", "h2", "h2c", "tls" */
	const char *sni;      /* upstream SNI, or NULL */
	contour_dag_secret_t *validation_ca; /* upstream validation CA, or NULL */
	const char **subject_names;
	size_t nsubject_names;
	contour_dag_lb_strategy_t lb_strategy;
	contour_dag_health_check_t *health_check;
	contour_dag_slow_start_t *slow_start;
	int64_t idle_connection_timeout_ms;
	contour_dag_circuit_breakers_t circuit_breakers;
	/* Filled by the core when interned / sealed. */
	const char *key;   /* canonical identity used for interning */
	uint64_t hash;
} contour_dag_cluster_t;

/* One weighted backend of a route or TCP proxy. */
typedef struct contour_dag_backend {
	contour_dag_cluster_t *cluster;
	uint32_t weight;
	contour_dag_header_policy_t *request_headers;
	contour_dag_header_policy_t *response_headers;
} contour_dag_backend_t;

typedef struct contour_dag_mirror {
	contour_dag_cluster_t *cluster;
	uint32_t percent; /* 1-100 */
} contour_dag_mirror_t;

typedef struct contour_dag_prefix_rewrite {
	const char *prefix; /* the matched prefix it replaces ("" = whatever matched) */
	const char *replacement;
} contour_dag_prefix_rewrite_t;

typedef struct contour_dag_redirect {
	const char *scheme, *hostname, *path, *prefix; /* NULL when unset */
	uint32_t port;        /* 0 when unset */
	uint32_t status_code; /* 301, 302, 303, 307, 308 */
} contour_dag_redirect_t;

typedef struct contour_dag_direct_response {
	uint32_t status_code;
	const char *body; /* or NULL */
} contour_dag_direct_response_t;

typedef struct contour_dag_ip_rule {
	int remote; /* 0: Peer (connection source), 1: Remote (XFF) */
	const char *cidr;
} contour_dag_ip_rule_t;

typedef struct contour_dag_ip_filter {
	int allow; /* 1: allow list, 0: deny list */
	contour_dag_ip_rule_t *rules;
	size_t nrules;
} contour_dag_ip_filter_t;

typedef struct contour_dag_cors {
	int allow_credentials;
	int allow_private_network;
	const char **allow_origin;
	size_t nallow_origin;
	const char **allow_methods;
	size_t nallow_methods;
	const char **allow_headers;
	size_t nallow_headers;
	const char **expose_headers;
	size_t nexpose_headers;
	const char *max_age; /* Go duration as written, or NULL */
} contour_dag_cors_t;

/* Where a route came from, for Envoy access-log metadata and debugging. */
typedef struct contour_dag_origin {
	const char *kind, *namespace_, *name;
} contour_dag_origin_t;

typedef struct contour_dag_route {
	contour_dag_path_match_t path;
	contour_dag_header_match_t *headers;
	size_t nheaders;
	contour_dag_query_match_t *queries;
	size_t nqueries;

	/* Exactly one action: backends (proxy), redirect, or direct response.
	 * https_redirect overrides all of them on the HTTP listener. */
	contour_dag_backend_t *backends;
	size_t nbackends;
	contour_dag_redirect_t *redirect;
	contour_dag_direct_response_t *direct_response;
	int https_redirect;

	contour_dag_mirror_t *mirrors;
	size_t nmirrors;
	int websockets;
	contour_dag_timeout_policy_t timeouts;
	contour_dag_retry_policy_t *retry;
	contour_dag_header_policy_t *request_headers;
	contour_dag_header_policy_t *response_headers;
	contour_dag_prefix_rewrite_t *prefix_rewrites;
	size_t nprefix_rewrites;
	contour_dag_hash_policy_t *hash_policies;
	size_t nhash_policies;
	contour_dag_ip_filter_t *ip_filter;
	contour_dag_origin_t origin;
	const char *key; /* canonical match conditions, filled by the core */
} contour_dag_route_t;

typedef struct contour_dag_vhost {
	const char *fqdn; /* lower case; "*" for Ingress rules without a host */
	contour_dag_route_t **routes;
	size_t nroutes;
	contour_dag_cors_t *cors;
	contour_dag_ip_filter_t *ip_filter;
	uint64_t hash;
} contour_dag_vhost_t;

typedef struct contour_dag_client_validation {
	contour_dag_secret_t *ca; /* NULL with skip_verify */
	contour_dag_secret_t *crl;
	int skip_verify;
	int optional;
	int crl_only_leaf;
	struct {
		int subject, cert, chain, dns, uri;
	} forward;
} contour_dag_client_validation_t;

typedef struct contour_dag_tcpproxy {
	contour_dag_backend_t *backends;
	size_t nbackends;
} contour_dag_tcpproxy_t;

/* A virtual host on the HTTPS listener: one filter chain per fqdn. */
typedef struct contour_dag_svhost {
	contour_dag_vhost_t vhost;   /* fqdn, routes (served as https/<fqdn>) */
	contour_dag_secret_t *secret; /* NULL for passthrough */
	const char *min_tls_version;  /* "1.2" or "1.3" */
	const char *max_tls_version;
	int fallback_certificate;     /* also serve non-SNI clients */
	contour_dag_client_validation_t *client_validation;
	contour_dag_tcpproxy_t *tcpproxy; /* passthrough or terminated L4 */
	int passthrough;
	uint64_t hash;
} contour_dag_svhost_t;

typedef enum {
	CONTOUR_DAG_SECRET_TLS = 0, /* tls.crt + tls.key */
	CONTOUR_DAG_SECRET_CA,      /* ca.crt bundle */
	CONTOUR_DAG_SECRET_CRL,     /* crl.pem */
} contour_dag_secret_type_t;

/* A validated Secret. `key` holds a private key: never log it. */
struct contour_dag_secret {
	const char *namespace_, *name;
	contour_dag_secret_type_t type;
	const char *cert; /* PEM chain (TLS) */
	const char *key;  /* PEM private key (TLS) */
	const char *ca;   /* PEM bundle (CA) */
	const char *crl;  /* PEM (CRL) */
	uint64_t hash;
};

typedef struct contour_dag_listener {
	const char *name; /* "ingress_http" or "ingress_https" */
	const char *address;
	uint32_t port;
} contour_dag_listener_t;

/* The whole graph, as observers read it after the build. */
struct contour_dag {
	contour_dag_listener_t http, https;
	contour_dag_vhost_t **vhosts; /* HTTP listener, sorted by fqdn */
	size_t nvhosts;
	contour_dag_svhost_t **svhosts; /* HTTPS listener, sorted by fqdn */
	size_t nsvhosts;
	contour_dag_cluster_t **clusters; /* referenced by some route, sorted by key */
	size_t nclusters;
	contour_dag_secret_t **secrets; /* TLS secrets of published svhosts (and the
	                                   fallback), i.e. what SDS serves; sorted */
	size_t nsecrets;
	/* tls.fallback-certificate, validated; set by the processor that first
	 * needs it (a vhost with enableFallbackCertificate). */
	contour_dag_secret_t *fallback_secret;
	struct contour_dag_private *priv;    /* the core's building state */
	/* ABI 1.3 (last, so earlier fields keep their offsets):
	 * tls.envoy-client-certificate, validated by the core when the DAG is
	 * sealed with at least one cluster (upstream gives it to every
	 * cluster): the certificate Envoy presents to TLS upstreams. NULL when
	 * unset, invalid (logged) or unused; when set it is in `secrets`. */
	contour_dag_secret_t *client_secret;
};

/* contour_snapshot_dag: the snapshot's DAG; never NULL. While building it is
 * being filled; after publication it is sealed and read-only. */
contour_dag_t *contour_snapshot_dag(const contour_snapshot_t *snap);

/* Building. All of these are for processors during a build only. */

/* contour_dag_new: zeroed arena memory of a size the caller names.
 * Modules built against ABI 1.3 or older allocate DAG structs with it;
 * from 1.4 on, DAG structs come from the constructors below and plain
 * bytes from contour_dag_buf_new. contour_dag_strdup: an arena copy (NULL
 * for NULL). All of these return NULL on allocation failure; the caller
 * then abandons the build (CONTOUR_ENOMEM). */
void *contour_dag_new(contour_dag_t *dag, size_t size);

/* Constructors (ABI 1.4). Each returns a zeroed struct in the DAG's arena,
 * allocated at the core's own sizeof so the struct may gain trailing fields
 * in a minor version without breaking the module (module.h's ABI notes),
 * or NULL on allocation failure. The DAG owns the result; never free it. */
contour_dag_route_t *contour_dag_route_new(contour_dag_t *dag);
/* contour_dag_route_copy: a shallow copy of *route (lists and policies are
 * shared, as they are arena memory) with `key` cleared, for adding the
 * same route to a second virtual host with a field changed. */
contour_dag_route_t *contour_dag_route_copy(contour_dag_t *dag, const contour_dag_route_t *route);
contour_dag_backend_t *contour_dag_backend_new(contour_dag_t *dag);
contour_dag_direct_response_t *contour_dag_direct_response_new(contour_dag_t *dag);
contour_dag_prefix_rewrite_t *contour_dag_prefix_rewrite_new(contour_dag_t *dag);
contour_dag_header_policy_t *contour_dag_header_policy_new(contour_dag_t *dag);
contour_dag_retry_policy_t *contour_dag_retry_policy_new(contour_dag_t *dag);
contour_dag_health_check_t *contour_dag_health_check_new(contour_dag_t *dag);
contour_dag_redirect_t *contour_dag_redirect_new(contour_dag_t *dag);
contour_dag_cors_t *contour_dag_cors_new(contour_dag_t *dag);
contour_dag_ip_filter_t *contour_dag_ip_filter_new(contour_dag_t *dag);
contour_dag_slow_start_t *contour_dag_slow_start_new(contour_dag_t *dag);
contour_dag_tcpproxy_t *contour_dag_tcpproxy_new(contour_dag_t *dag);
contour_dag_client_validation_t *contour_dag_client_validation_new(contour_dag_t *dag);
/* contour_dag_cluster_new: a zeroed cluster to fill and hand to
 * contour_dag_cluster_intern (which copies it), instead of one on the
 * module's stack at the module's sizeof. */
contour_dag_cluster_t *contour_dag_cluster_new(contour_dag_t *dag);

/* contour_dag_buf_new: size zeroed bytes in the arena for memory that is
 * no DAG struct (a string being assembled, a module's own records). */
char *contour_dag_buf_new(contour_dag_t *dag, size_t size);

/* Typed appenders (ABI 1.4): append one zeroed element to the arena list
 * *list of *count elements and return it for the caller to fill, or NULL
 * on allocation failure (the list is then unchanged). The core picks the
 * element size, so no module takes the sizeof of a DAG struct. */
contour_dag_header_match_t *contour_dag_header_match_push(contour_dag_t *dag,
                                                          contour_dag_header_match_t **list,
                                                          size_t *count);
contour_dag_query_match_t *contour_dag_query_match_push(contour_dag_t *dag,
                                                        contour_dag_query_match_t **list,
                                                        size_t *count);
contour_dag_header_value_t *contour_dag_header_value_push(contour_dag_t *dag,
                                                          contour_dag_header_value_t **list,
                                                          size_t *count);
contour_dag_backend_t *contour_dag_backend_push(contour_dag_t *dag, contour_dag_backend_t **list,
                                                size_t *count);
contour_dag_mirror_t *contour_dag_mirror_push(contour_dag_t *dag, contour_dag_mirror_t **list,
                                              size_t *count);
contour_dag_prefix_rewrite_t *contour_dag_prefix_rewrite_push(contour_dag_t *dag,
                                                              contour_dag_prefix_rewrite_t **list,
                                                              size_t *count);
contour_dag_hash_policy_t *contour_dag_hash_policy_push(contour_dag_t *dag,
                                                        contour_dag_hash_policy_t **list,
                                                        size_t *count);
contour_dag_ip_rule_t *contour_dag_ip_rule_push(contour_dag_t *dag, contour_dag_ip_rule_t **list,
                                                size_t *count);
contour_dag_status_range_t *contour_dag_status_range_push(contour_dag_t *dag,
                                                          contour_dag_status_range_t **list,
                                                          size_t *count);
/* Lists of borrowed pointers and of numbers: 0, or CONTOUR_ENOMEM. */
int contour_dag_str_push(contour_dag_t *dag, const char ***list, size_t *count, const char *s);
int contour_dag_ptr_push(contour_dag_t *dag, void *list, size_t *count, const void *ptr);
int contour_dag_u32_push(contour_dag_t *dag, uint32_t **list, size_t *count, uint32_t v);
const char *contour_dag_strdup(contour_dag_t *dag, const char *s);
const char *contour_dag_printf(contour_dag_t *dag, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* contour_dag_push: append the element at *elem (elem_size bytes) to the
 * arena array *list of *count elements. Returns the new element or NULL.
 * For a module's own element types; lists of DAG structs use the typed
 * appenders above. */
void *contour_dag_push(contour_dag_t *dag, void *list, size_t *count, const void *elem,
                       size_t elem_size);

/* contour_dag_vhost / contour_dag_svhost: the virtual host for fqdn on the
 * HTTP or HTTPS listener, created empty on first use. fqdn is lower-cased. */
contour_dag_vhost_t *contour_dag_vhost(contour_dag_t *dag, const char *fqdn);
contour_dag_svhost_t *contour_dag_svhost(contour_dag_t *dag, const char *fqdn);
/* Look up without creating; NULL when absent. */
contour_dag_vhost_t *contour_dag_find_vhost(const contour_dag_t *dag, const char *fqdn);
contour_dag_svhost_t *contour_dag_find_svhost(const contour_dag_t *dag, const char *fqdn);

/* contour_dag_wildcard_authority: for the wildcard host fqdn
 * ("*.example.com"), the :authority regex upstream adds to each of its
 * routes as a header match: one DNS label for the '*', the rest of the
 * name quoted as Go's regexp.QuoteMeta does, an optional port. An arena
 * string, or NULL on allocation failure. (ABI 1.4) */
const char *contour_dag_wildcard_authority(contour_dag_t *dag, const char *fqdn);

/* contour_dag_add_route: add route to vhost. A route whose match conditions
 * (path, headers, queries) equal an existing route's replaces it, as
 * upstream's map of routes does. */
int contour_dag_add_route(contour_dag_t *dag, contour_dag_vhost_t *vhost,
                          contour_dag_route_t *route);

/* contour_dag_cluster_intern: the cluster equal to *tmpl (copied on first
 * sight), so equal clusters are shared. NULL on allocation failure. */
contour_dag_cluster_t *contour_dag_cluster_intern(contour_dag_t *dag,
                                                  const contour_dag_cluster_t *tmpl);

/* Delegations (TLSCertificateDelegation): filled by the tls-delegation
 * processor, which runs early. target_ns "*" means every namespace; as
 * upstream, a "*" counts only when it is a delegation's sole target, which
 * the caller decides (tls-delegation passes it only then). */
int contour_dag_delegate(contour_dag_t *dag, const char *secret_ns, const char *secret_name,
                         const char *target_ns);
/* A Secret in secret_ns may be used from target_ns: same namespace, or
 * delegated. */
int contour_dag_delegation_permitted(const contour_dag_t *dag, const char *secret_ns,
                                     const char *secret_name, const char *target_ns);

/* contour_dag_review_new: a DAG for a validator (contour/admission.h) to
 * run its processor's code on one object in: never built, sealed or
 * published, empty but for the current snapshot's delegations, so the
 * checks that read the DAG answer as the next build would. NULL on OOM.
 * The caller frees it with contour_dag_review_free (accepts NULL). */
contour_dag_t *contour_dag_review_new(contour_module_t *mod);
void contour_dag_review_free(contour_dag_t *dag);

/* Shared lookups for processors. Errors are written to err as upstream's
 * message fragment (e.g. `service "ns/name" not found`) and return
 * CONTOUR_ENOENT or CONTOUR_EINVAL. */

/* contour_dag_lookup_service: resolve Service ns/name and a port given as
 * port_number (when > 0) or port_name, filling svc (strings arena-owned) and
 * *protocol from the upstream-protocol annotations ("" when none) and
 * *breakers from the circuit-breaker annotations. ExternalName Services
 * resolve only when the global enableExternalNameService is true, and never
 * to localhost. */
int contour_dag_lookup_service(contour_module_t *mod, contour_dag_t *dag, const char *ns,
                               const char *name, uint32_t port_number, const char *port_name,
                               contour_dag_service_t *svc, const char **protocol,
                               contour_dag_circuit_breakers_t *breakers, char *err,
                               size_t errlen);

/* contour_dag_lookup_secret: the Secret ns/name validated as `type` (TLS:
 * type kubernetes.io/tls or Opaque, certificate and key parse and match, a
 * certificate with a CN or SAN; CA: a parsable ca.crt bundle; CRL: crl.pem),
 * interned in the DAG. Results are cached across builds per Secret object.
 * Delegation is the caller's check. */
int contour_dag_lookup_secret(contour_module_t *mod, contour_dag_t *dag, const char *ns,
                              const char *name, contour_dag_secret_type_t type,
                              contour_dag_secret_t **out, char *err, size_t errlen);

/* contour_ingress_class_matches: upstream's ingressclass.MatchesIngress /
 * MatchesHTTPProxy, the one class filter every routing processor applies
 * before looking at an object. The object's class is the annotation
 * `projectcontour.io/ingress.class` when present (even empty), else
 * `kubernetes.io/ingress.class`; when that is empty, `spec.ingressClassName`.
 * The configured classes are the global `ingress-class-name` (a list or a
 * comma-separated string, as `--ingress-class-name` gives it). With none
 * configured, an object matches when its class is empty or "contour";
 * otherwise its class must be one of them (an unclassed object does not
 * match). Returns 1 or 0. Objects that do not match get no status. */
int contour_ingress_class_matches(contour_module_t *mod, const json_t *obj);

/* Output. */

/* contour_dag_to_json: the sealed DAG as a new JSON value (caller decrefs).
 * Private keys are never included. */
json_t *contour_dag_to_json(const contour_dag_t *dag);
/* contour_dag_to_dot: the sealed DAG as a Graphviz digraph, malloc'd
 * (NULL when out of memory); `contour render --format dot` and the metrics
 * module's /debug/dag print it. dag NULL: a graph with no nodes, for a
 * process that has not built yet (ABI 1.7). */
char *contour_dag_to_dot(const contour_dag_t *dag);

#ifdef __cplusplus
}
#endif
#endif
