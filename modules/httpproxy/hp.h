/* modules/httpproxy/hp.h: the httpproxy module's private interfaces.
 *
 *   hp_status.c   the status accumulator: upstream's `Valid` DetailedCondition
 *                 with errors[] and warnings[], and currentStatus/description
 *   hp_cond.c     which condition rules (the domain layer's
 *                 contour_conditions_check_*) apply to an include or a
 *                 route, and the status error each failure gets
 *   hp_policy_route.c    a route's timeouts, header policies (the domain
 *                 layer's builder, errors mapped to the status), retries,
 *                 prefix rewrites, redirects, direct responses
 *   hp_policy_cluster.c  health checks, load balancing, slow start
 *   hp_policy_cors.c     the virtual host's CORS policy
 *   hp_policy_ip_filter.c  IP allow/deny filters
 *                 Each translates a spec fragment into DAG structs and adds
 *                 upstream's errors and warnings to a status.
 *   hp_proxy.c    the processor: roots, TLS, includes, routes, services,
 *                 tcpproxy, orphans; one status per HTTPProxy per build
 *   httpproxy.c   the module: descriptor, schema, registration
 *
 * Upstream's behaviour is the specification (internal/dag/httpproxy_processor.go,
 * conditions.go, policy.go); messages must match it byte for byte.
 */
#ifndef HP_H
#define HP_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <contour/module.h>

#define HP_API_VERSION "projectcontour.io/v1"
#define HP_KIND "HTTPProxy"

/* ---- hp_status.c ------------------------------------------------------ */

typedef struct hp_status hp_status_t;

/* hp_status_new: an empty (valid) status for an HTTPProxy object; proxy is
 * borrowed for observedGeneration. */
hp_status_t *hp_status_new(const json_t *proxy);
void hp_status_free(hp_status_t *st);

/* hp_status_error: add an errors[] entry {type, status "True", reason,
 * message}. The Valid condition turns False/ErrorPresent. Messages longer
 * than 32760 bytes are truncated, as upstream does. */
void hp_status_error(hp_status_t *st, const char *type, const char *reason, const char *fmt,
                     ...) __attribute__((format(printf, 4, 5)));
/* hp_status_error_ref: the same, for an error caused by another object (a
 * Service, Secret, delegation or include missing or unusable). The status
 * does not tell them apart; the validator turns these into warnings, since
 * the object may simply have been applied first. */
void hp_status_error_ref(hp_status_t *st, const char *type, const char *reason, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));
int hp_status_error_is_ref(const hp_status_t *st, size_t i);
/* The errors[] and warnings[] entries so far ({type, status, reason,
 * message}), or NULL when none; borrowed. */
const json_t *hp_status_errors(const hp_status_t *st);
const json_t *hp_status_warnings(const hp_status_t *st);
/* hp_status_warning: add a warnings[] entry; the condition stays as it is. */
void hp_status_warning(hp_status_t *st, const char *type, const char *reason, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));
int hp_status_nerrors(const hp_status_t *st);
/* The vhost (fqdn) the proxy serves, for metrics; borrowed string copied. */
void hp_status_set_vhost(hp_status_t *st, const char *fqdn);
const char *hp_status_vhost(const hp_status_t *st);

/* hp_status_to_json: upstream's `status` stanza:
 *   {"currentStatus": "valid"|"invalid"|"orphaned", "description": ...,
 *    "loadBalancer": {},
 *    "conditions": [{"type": "Valid", "status": "True"|"False",
 *                    "observedGeneration": N, "lastTransitionTime": T,
 *                    "reason": ..., "message": ...,
 *                    "errors": [...], "warnings": [...]}]}
 * errors/warnings are omitted when empty; T is an RFC 3339 UTC time. A new
 * reference. */
json_t *hp_status_to_json(const hp_status_t *st, const char *transition_time);

/* ---- hp_cond.c, hp_policy_route.c, hp_policy_cluster.c, hp_policy_cors.c,
 *      hp_policy_ip_filter.c ----------------------------------------------- */
/* Each function reads a spec fragment (borrowed JSON, may be NULL when the
 * field is absent), fills DAG structs allocated in dag's arena, and reports
 * upstream's errors and warnings on st. Returns 0 on success, -1 when an
 * error was added (the caller stops as upstream does at that point). */

/* Conditions. `conds` is the list of MatchCondition objects accumulated
 * along the include chain (include conditions first, then the route's). */
/* includeMatchConditionsValid + pathMatchConditionsValid on an include's own
 * conditions: IncludeError/PathMatchConditionsNotValid "include: <err>";
 * then header and query validity (RouteError/HeaderMatchConditionsNotValid,
 * RouteError/QueryParameterMatchConditionsNotValid). */
int hp_policy_include_conditions(const json_t *conds, hp_status_t *st);
/* pathMatchConditionsValid for a route: RouteError/PathMatchConditionsNotValid
 * "route: <err>" (including regex compile errors); then header and query
 * validity over the merged list. */
int hp_policy_route_conditions(const json_t *conds, hp_status_t *st);
/* The exact form: upstream applies "at most one prefix/exact/regex" to the
 * route's own conditions only, and header/query validity to the merged
 * list (inherited then own). Prefer this one. */
int hp_policy_route_conditions_split(const json_t *inherited, const json_t *own, hp_status_t *st);
/* hp_cond_concat: a ++ c (either may be NULL or not an array, read as
 * empty) as a new array the caller owns, NULL when out of memory: the
 * conditions along an include chain. */
json_t *hp_cond_concat(const json_t *a, const json_t *c);

/* Merging conditions into a route and the duplicate-include tracker are
 * the domain layer's: contour_conditions_merge, contour_conditions_seen_*. */

/* Header policies (route or service level). `what` is "route" or
 * "service": selects upstream's error types and wording. request=1 for
 * requestHeadersPolicy (Host allowed: becomes host_rewrite, or
 * host_rewrite_header for %REQ(x)% at route level; a service's own
 * %REQ(x)% Host is accepted and ignored, as upstream does), 0 for
 * responseHeadersPolicy (Host is an error).
 * %CONTOUR_NAMESPACE%, %CONTOUR_SERVICE_NAME%, %CONTOUR_SERVICE_PORT% are
 * expanded with ns/svc/port (svc NULL at route level: left as is).
 * defaults is the global `policy.request-headers` (or response-headers)
 * mapping {set: {name: value}, remove: [names]}, merged at service level
 * only (upstream's headersPolicyService; NULL at route level, ignored
 * there): the user's headers win, a default Host applies when the user set
 * no static Host (a dynamic one is an error), default removes are appended.
 * *out stays NULL when there is neither a policy nor anything from the
 * defaults. */
int hp_policy_headers(contour_dag_t *dag, const json_t *policy, const json_t *defaults, int request,
                      const char *what, const char *ns, const char *svc, uint32_t port,
                      contour_dag_header_policy_t **out, hp_status_t *st);

/* timeoutPolicy -> route->timeouts and *idle_connection_ms (cluster level);
 * RouteError/TimeoutPolicyNotValid with upstream's parse messages. */
int hp_policy_timeouts(const json_t *policy, contour_dag_timeout_policy_t *out,
                       int64_t *idle_connection_ms, hp_status_t *st);
/* retryPolicy (count rules: -1 -> 0, 0 or 1 -> 1, n -> n; retryOn default
 * "5xx"; an unparsable perTryTimeout falls back to default). NULL policy:
 * *out = NULL. */
int hp_policy_retry(contour_dag_t *dag, const json_t *policy, contour_dag_retry_policy_t **out,
                    hp_status_t *st);
/* healthCheckPolicy (HTTP when tcp=0, TCP for tcpproxy) as written:
 * interval, timeout and thresholds 0 when unset (the xDS translator
 * applies Envoy's defaults), host "contour-envoy-healthcheck" when unset;
 * RouteError/HealthCheckPolicyInvalid for bad expected statuses. */
int hp_policy_health_check(contour_dag_t *dag, const json_t *policy, int tcp,
                           contour_dag_health_check_t **out, hp_status_t *st);
/* loadBalancerPolicy: strategy (unknown -> RoundRobin) and request hash
 * policies (invalid entries ignored with upstream's SpecError/IgnoredField
 * warnings; none valid -> RoundRobin with a warning). Cookie adds the
 * session-affinity cookie hash policy. For tcpproxy (tcp=1) Cookie and
 * RequestHash are ignored with TCPProxyError/IgnoredField. */
int hp_policy_load_balancer(contour_dag_t *dag, const json_t *policy, int tcp,
                            contour_dag_lb_strategy_t *strategy,
                            contour_dag_hash_policy_t **hash, size_t *nhash, hp_status_t *st);
/* pathRewritePolicy.replacePrefix against the route's merged conditions:
 * PrefixReplaceError MustHavePrefix / DuplicateReplacement /
 * AmbiguousReplacement. */
int hp_policy_prefix_rewrite(contour_dag_t *dag, const json_t *policy,
                             const contour_dag_route_t *route, hp_status_t *st,
                             contour_dag_prefix_rewrite_t **out, size_t *nout);
/* requestRedirectPolicy / directResponsePolicy. */
int hp_policy_redirect(contour_dag_t *dag, const json_t *policy, contour_dag_redirect_t **out,
                       hp_status_t *st);
int hp_policy_direct_response(contour_dag_t *dag, const json_t *policy,
                              contour_dag_direct_response_t **out, hp_status_t *st);
/* corsPolicy: CORSError/PolicyDidNotParse "Spec.VirtualHost.CORSPolicy: ...". */
int hp_policy_cors(contour_dag_t *dag, const json_t *policy, contour_dag_cors_t **out,
                   hp_status_t *st);
/* ipAllowPolicy/ipDenyPolicy at vhost (route=0) or route (route=1) level,
 * with upstream's IPFilterError reasons; both NULL -> *out = NULL. */
int hp_policy_ip_filter(contour_dag_t *dag, const json_t *allow, const json_t *deny, int route,
                        contour_dag_ip_filter_t **out, hp_status_t *st);
/* slowStartPolicy for a service under `strategy`: ServiceError/SlowStartInvalid. */
int hp_policy_slow_start(contour_dag_t *dag, const json_t *policy,
                         contour_dag_lb_strategy_t strategy, contour_dag_slow_start_t **out,
                         hp_status_t *st);

/* ---- hp_proxy.c ---------------------------------------------------------- */

/* obj[key] as an arena copy, or NULL when absent or empty (Go's unset
 * optional string); an allocation failure sets *nomem. */
const char *hp_opt_str(contour_dag_t *dag, const json_t *obj, const char *key, int *nomem);

/* The processor registered by httpproxy.c (order CONTOUR_ORDER_PRIMARY). */
int hp_process(contour_snapshot_t *building, void *ud);

/* Settings read once at init from the global config. */
typedef struct hp_settings {
	json_t *root_namespaces;   /* array of strings; empty = any namespace */
	int disable_permit_insecure;
	const char *fallback_ns, *fallback_name; /* tls.fallback-certificate */
	/* policy.request-headers / policy.response-headers (a reference each,
	 * NULL when unset): the defaults of every service's header policies. */
	json_t *request_headers, *response_headers;
} hp_settings_t;

typedef struct hp_index hp_index_t;

typedef struct httpproxy_ctx {
	contour_module_t *mod;
	hp_settings_t settings;
	hp_index_t *index; /* fqdn claims, for the validator */
	contour_metric_t *m_total, *m_root, *m_valid, *m_invalid, *m_orphaned;
} httpproxy_ctx_t;

/* ---- hp_validate.c: the HTTPProxy validator (contour/admission.h) ---- */
void hp_validate(contour_module_t *mod, const contour_review_t *r, contour_verdict_t *v,
                 void *ud);

/* ---- hp_index.c: the roots claiming each fqdn, for the validator ---- */
hp_index_t *hp_index_new(contour_module_t *mod);
void hp_index_free(hp_index_t *ix);
/* The store subscription that keeps the index current. */
void hp_index_event(contour_store_event_t ev, const json_t *old_obj, const json_t *new_obj,
                    void *ud);

/* ---- hp_globals.c ---- */
/* The global keys httpproxy reads: the descriptor's global_schema. */
extern const contour_conf_item_t hp_global_schema[];

#endif
