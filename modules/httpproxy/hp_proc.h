/* modules/httpproxy/hp_proc.h: the HTTPProxy processor's internals, shared
 * by its four files:
 *
 *   hp_proxy.c     the build: class filtering, duplicate FQDNs, roots,
 *                  orphans, status commits, metrics
 *   hp_routes.c    routes and includes (upstream's computeRoutes)
 *   hp_tls.c       vhost TLS, client validation, upstream validation
 *   hp_tcpproxy.c  spec.tcpproxy and its include chain
 *
 * Upstream's status cache is reproduced exactly: every visit of a proxy
 * works on a fresh status (an "accessor"), and committing it replaces the
 * proxy's recorded status, except that a valid status never replaces an
 * invalid one (httpproxy_processor.go relies on that for include cycles).
 */
#ifndef HP_PROC_H
#define HP_PROC_H

#include "modules/httpproxy/hp.h"

/* One HTTPProxy that passed class filtering, for one build. */
typedef struct hp_proxy {
	const json_t *obj;
	const json_t *spec; /* the spec object, or NULL */
	const char *ns, *name;
	hp_status_t *st; /* the committed status, or NULL */
	int orphaned;
} hp_proxy_t;

/* The state of one build. */
typedef struct hp_build {
	httpproxy_ctx_t *ctx;
	contour_module_t *mod;
	contour_dag_t *dag;
	hp_proxy_t *proxies; /* in namespace, name order (the store's) */
	size_t nproxies, cap;
	int nomem; /* an allocation failed: abandon the build */
} hp_build_t;

/* A chain of proxies being visited, innermost first (for cycle checks). */
typedef struct hp_visit {
	const hp_proxy_t *px;
	const struct hp_visit *up;
} hp_visit_t;

/* A growing list of routes (arena memory). */
typedef struct hp_routes {
	contour_dag_route_t **v;
	size_t n;
} hp_routes_t;

/* ---- hp_proxy.c ---- */
/* Append obj (borrowed) to the table, unsorted; -1 sets b->nomem. */
int hp_build_add(hp_build_t *b, const json_t *obj);
/* upstream's computeHTTPProxy for the root px: its status committed. */
void hp_build_root(hp_build_t *b, hp_proxy_t *px);
hp_proxy_t *hp_build_find(hp_build_t *b, const char *ns, const char *name);
/* A fresh status for px (an upstream ProxyAccessor); NULL sets b->nomem. */
hp_status_t *hp_build_accessor(hp_build_t *b, const hp_proxy_t *px);
/* Record st as px's status (upstream's commit rule, see above); takes st. */
void hp_build_commit(hp_build_t *b, hp_proxy_t *px, hp_status_t *st);
int hp_routes_push(hp_build_t *b, hp_routes_t *r, contour_dag_route_t *route);
/* "ns/name" of the chain from the outermost visit down to v, then last
 * (may be NULL), joined with " -> "; arena string. */
const char *hp_visit_path(hp_build_t *b, const hp_visit_t *v, const hp_proxy_t *last);

/* out[i]: o's member names[i] (n of them), or NULL, as json_object_get
 * would find each, in one walk of o. */
void hp_members(const json_t *o, const char *const *names, size_t n, const json_t **out);
/* Upstream's isBlank: empty or only white space. */
int hp_blank(const char *s);
/* k8s.NamespacedNameFrom(s, DefaultNamespace(def_ns)): "a/b" -> (a, b),
 * "b" -> (def_ns, b). Borrowed pieces copied into ns/name buffers. */
void hp_split_name(const char *s, const char *def_ns, char *ns, size_t nslen, char *name,
                   size_t namelen);
/* An ADVANCED field we parse but do not implement: a SpecError/IgnoredField
 * warning naming it. */
void hp_ignored(hp_status_t *st, const char *field);

/* ---- hp_routes.c ---- */
/* upstream's computeRoutes: routes of px (and, recursively, of what it
 * includes) under the accumulated include conditions `conds` (an array,
 * may be NULL). Returns 0 with routes appended to out, or -1 when px's
 * routes are all dropped (upstream's `return nil`). root is the root proxy
 * (for the wildcard authority match). */
int hp_compute_routes(hp_build_t *b, hp_status_t *st, const hp_proxy_t *root, hp_proxy_t *px,
                      const json_t *conds, const hp_visit_t *visited, int enforce_tls,
                      hp_routes_t *out);

/* ---- hp_tls.c ---- */
/* The vhost's spec.virtualhost.tls: returns 0 to go on (with *tls_enabled
 * set), -1 when the root stops here (error recorded on st). */
int hp_tls_vhost(hp_build_t *b, hp_status_t *st, const hp_proxy_t *px, const char *host,
                 int *tls_enabled);
/* A service's validation stanza (protocol tls or h2): fills the cluster's
 * CA and subject names, or records upstream's error and returns -1. */
int hp_tls_upstream_validation(hp_build_t *b, hp_status_t *st, const hp_proxy_t *px,
                               const json_t *service, contour_dag_cluster_t *c);

/* ---- hp_tcpproxy.c ---- */
/* upstream's processHTTPProxyTCPProxy for px (root or included child):
 * returns 0 on success, -1 on error (recorded on st). */
int hp_tcpproxy(hp_build_t *b, hp_status_t *st, hp_proxy_t *px, const hp_visit_t *visited,
                const char *host, int passthrough);

/* Service resolution shared by routes and tcpproxy: looks up name:port
 * (and health port when non-zero and different) in px's namespace. Returns
 * 0, or -1 with upstream's error text in err. */
int hp_resolve_service(hp_build_t *b, const hp_proxy_t *px, const char *name, uint32_t port,
                       uint32_t health_port, contour_dag_service_t *svc, const char **protocol,
                       contour_dag_circuit_breakers_t *breakers, char *err, size_t errlen);
/* upstream's getProtocol: the service's protocol field wins over the
 * annotation; an unknown one is ServiceError/UnsupportedProtocol (-1). */
int hp_service_protocol(hp_status_t *st, const json_t *service, const char *annotated,
                        const char **out);

/* ---- hp_index.c: fqdn -> the roots claiming it, from the store ---- */
#define HP_FQDN_MAX 1024
#define HP_KEY_MAX 512
/* The "ns/name" keys claiming fqdn (lower case), in (ns, name) order, or
 * NULL when none; borrowed until the store changes. */
const json_t *hp_index_claimants(hp_index_t *ix, const char *fqdn);
size_t hp_index_size(const hp_index_t *ix);
/* The fqdn obj claims, lower-cased into fqdn: 1, or 0 when it claims none
 * (not a root, blank, another class, NULL). */
int hp_index_claim(contour_module_t *mod, const json_t *obj, char *fqdn, size_t len);
/* "ns/name" keys in (ns, name) order, as the build sorts claimants. */
int hp_index_key_cmp(const char *a, const char *b);

#endif
