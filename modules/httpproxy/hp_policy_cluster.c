/* modules/httpproxy/hp_policy_cluster.c: the service policies that make
 * a cluster differ (health checks, load balancing, slow start) translated
 * into DAG structs with upstream's errors and warnings
 * (internal/dag/policy.go, httpproxy_processor.go).
 *
 * Spec fragments are read as Go reads them: an absent field is the zero
 * value. Functions return 0, -1 when they added an error to the status, or
 * CONTOUR_ENOMEM when the arena is exhausted. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contour/dag.h>
#include <contour/error.h>

#include "modules/httpproxy/hp.h"

int hp_policy_health_check(contour_dag_t *dag, const json_t *policy, int tcp,
                           contour_dag_health_check_t **out, hp_status_t *st)
{
	size_t i;
	json_t *e;
	*out = NULL;
	if (!json_is_object(policy))
		return 0;
	contour_dag_health_check_t *hc = contour_dag_health_check_new(dag);
	if (!hc)
		return CONTOUR_ENOMEM;
	hc->tcp = tcp;
	if (!tcp) {
		json_array_foreach(json_object_get(policy, "expectedStatuses"), i, e)
		{
			/* Half-open ranges, as Envoy's: start inclusive, end exclusive. */
			json_int_t start = contour_json_get_int(e, "start"),
			           end = contour_json_get_int(e, "end");
			const char *bad = NULL;
			if (start < 100 || start > 599)
				bad = "start must be in the range [100, 599]";
			else if (end < 101 || end > 600)
				bad = "end must be in the range [101, 600]";
			if (bad) {
				hp_status_error(st, "RouteError", "HealthCheckPolicyInvalid",
				                "invalid expected status range: %s", bad);
				return -1;
			}
			contour_dag_status_range_t *r = contour_dag_status_range_push(
			    dag, &hc->expected_statuses, &hc->nexpected_statuses);
			if (!r)
				return CONTOUR_ENOMEM;
			r->start = (uint32_t)start;
			r->end = (uint32_t)end;
		}
		hc->path = contour_dag_strdup(dag, contour_json_get_str(policy, "path"));
		hc->host = contour_dag_strdup(dag, *contour_json_get_str(policy, "host")
		                                       ? contour_json_get_str(policy, "host")
		                                       : "contour-envoy-healthcheck");
		if (!hc->path || !hc->host)
			return CONTOUR_ENOMEM;
	}
	/* As written, 0 when unset: the cluster name hashes only the fields
	 * the user set, as upstream's Clustername does, and the xDS translator
	 * applies Envoy's defaults (2 s, 10 s, 3, 2) where it writes the
	 * check. */
	json_int_t interval = contour_json_get_int(policy, "intervalSeconds");
	json_int_t timeout = contour_json_get_int(policy, "timeoutSeconds");
	json_int_t unhealthy = contour_json_get_int(policy, "unhealthyThresholdCount");
	json_int_t healthy = contour_json_get_int(policy, "healthyThresholdCount");
	hc->interval_ms = interval > 0 ? (int64_t)interval * 1000 : 0;
	hc->timeout_ms = timeout > 0 ? (int64_t)timeout * 1000 : 0;
	hc->unhealthy_threshold = unhealthy > 0 ? (uint32_t)unhealthy : 0;
	hc->healthy_threshold = healthy > 0 ? (uint32_t)healthy : 0;
	*out = hc;
	return 0;
}

static int hp_lb_parse(const char *s, contour_dag_lb_strategy_t *out)
{
	static const struct {
		const char *name;
		contour_dag_lb_strategy_t v;
	} names[] = {
	    {"WeightedLeastRequest", CONTOUR_DAG_LB_WEIGHTED_LEAST_REQUEST},
	    {"Random", CONTOUR_DAG_LB_RANDOM},
	    {"Cookie", CONTOUR_DAG_LB_COOKIE},
	    {"RequestHash", CONTOUR_DAG_LB_REQUEST_HASH},
	};
	*out = CONTOUR_DAG_LB_ROUND_ROBIN;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if (!strcmp(s, names[i].name)) {
			*out = names[i].v;
			return 1;
		}
	}
	return 0;
}

#define HP_IGNORED(st, ...) hp_status_warning(st, "SpecError", "IgnoredField", __VA_ARGS__)

/* A hash policy being read, before the core appends it to the list. */
typedef struct hp_hash_entry {
	contour_dag_hash_type_t type;
	const char *name;
	int terminal;
} hp_hash_entry_t;

/* A header or query parameter hash (what names it in the message) on name,
 * in *h unless kept already hashes on it: 1 when kept. */
static int hp_lb_hash_keep(hp_hash_entry_t *h, contour_dag_hash_type_t type, const char *name,
                           const char *what, const contour_dag_hash_policy_t *kept, size_t nkept,
                           hp_status_t *st)
{
	for (size_t i = 0; i < nkept; i++) {
		if (kept[i].type == type && !strcmp(kept[i].name, name)) {
			HP_IGNORED(
			    st,
			    "ignoring invalid %s hash policy options with duplicated %s name %s",
			    what, what, name);
			return 0;
		}
	}
	h->type = type;
	h->name = name;
	return 1;
}

/* One requestHashPolicies entry; 1 when it is kept in *h. */
static int hp_lb_hash_entry(contour_dag_t *dag, const json_t *e, hp_hash_entry_t *h, int *source_ip,
                            const contour_dag_hash_policy_t *kept, size_t nkept, hp_status_t *st)
{
	int attrs = contour_json_get_bool(e, "hashSourceIP") +
	            contour_json_has(e, "headerHashOptions") +
	            contour_json_has(e, "queryParameterHashOptions");
	char q[512];
	memset(h, 0, sizeof(*h));
	h->terminal = contour_json_get_bool(e, "terminal");
	if (attrs != 1) {
		HP_IGNORED(st, "ignoring invalid request hash policy, must set exactly one of "
		               "hashSourceIP or headerHashOptions or queryParameterHashOptions");
		return 0;
	}
	if (contour_json_get_bool(e, "hashSourceIP")) {
		if (*source_ip) {
			HP_IGNORED(st,
			           "ignoring invalid request hash policy, hashSourceIP specified "
			           "multiple times");
			return 0;
		}
		*source_ip = 1;
		h->type = CONTOUR_DAG_HASH_SOURCE_IP;
		return 1;
	}
	if (contour_json_has(e, "headerHashOptions")) {
		const char *name = contour_header_name_canonical(
		    dag,
		    contour_json_get_str(json_object_get(e, "headerHashOptions"), "headerName"));
		if (!name)
			return CONTOUR_ENOMEM;
		if (!contour_header_name_valid(name)) {
			HP_IGNORED(
			    st,
			    "ignoring invalid header hash policy options with invalid header "
			    "name %s: " CONTOUR_HEADER_NAME_MSG,
			    contour_quote(q, sizeof(q), name, CONTOUR_QUOTE_STRCONV));
			return 0;
		}
		return hp_lb_hash_keep(h, CONTOUR_DAG_HASH_HEADER, name, "header", kept, nkept, st);
	}
	/* Query parameter names are taken as case-insensitive, as upstream. */
	char *name = (char *)contour_dag_strdup(
	    dag,
	    contour_json_get_str(json_object_get(e, "queryParameterHashOptions"), "parameterName"));
	if (!name)
		return CONTOUR_ENOMEM;
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!*name) {
		HP_IGNORED(st,
		           "ignoring invalid query parameter hash policy options with an invalid "
		           "empty query parameter name");
		return 0;
	}
	return hp_lb_hash_keep(h, CONTOUR_DAG_HASH_QUERY, name, "query parameter", kept, nkept, st);
}

int hp_policy_load_balancer(contour_dag_t *dag, const json_t *policy, int tcp,
                            contour_dag_lb_strategy_t *strategy, contour_dag_hash_policy_t **hash,
                            size_t *nhash, hp_status_t *st)
{
	const char *name = contour_json_get_str(policy, "strategy");
	size_t i;
	json_t *e;
	int source_ip = 0;
	*strategy = CONTOUR_DAG_LB_ROUND_ROBIN;
	*hash = NULL;
	*nhash = 0;
	if (!json_is_object(policy))
		return 0;
	hp_lb_parse(name, strategy);
	if (tcp) {
		if (*strategy == CONTOUR_DAG_LB_COOKIE ||
		    *strategy == CONTOUR_DAG_LB_REQUEST_HASH) {
			hp_status_warning(
			    st, "TCPProxyError", "IgnoredField",
			    "ignoring field \"Spec.TCPProxy.LoadBalancerPolicy\"; %s load "
			    "balancer policy is not supported for TCPProxies",
			    name);
			*strategy = CONTOUR_DAG_LB_ROUND_ROBIN;
		}
		return 0;
	}
	if (*strategy == CONTOUR_DAG_LB_COOKIE) {
		contour_dag_hash_policy_t *h = contour_dag_hash_policy_push(dag, hash, nhash);
		if (!h)
			return CONTOUR_ENOMEM;
		h->type = CONTOUR_DAG_HASH_COOKIE;
		h->name = "X-Contour-Session-Affinity";
		return 0;
	}
	if (*strategy != CONTOUR_DAG_LB_REQUEST_HASH)
		return 0;
	json_array_foreach(json_object_get(policy, "requestHashPolicies"), i, e)
	{
		hp_hash_entry_t h;
		int keep = hp_lb_hash_entry(dag, e, &h, &source_ip, *hash, *nhash, st);
		if (keep < 0)
			return keep;
		contour_dag_hash_policy_t *kept =
		    keep ? contour_dag_hash_policy_push(dag, hash, nhash) : NULL;
		if (keep && !kept)
			return CONTOUR_ENOMEM;
		if (kept) {
			kept->type = h.type;
			kept->name = h.name;
			kept->terminal = h.terminal;
		}
	}
	if (*nhash == 0) {
		HP_IGNORED(st,
		           "ignoring invalid request hash policy options, setting load balancer "
		           "strategy to default RoundRobin");
		*hash = NULL;
		*strategy = CONTOUR_DAG_LB_ROUND_ROBIN;
	}
	return 0;
}

/* ---- slow start ------------------------------------------------------------------ */

int hp_policy_slow_start(contour_dag_t *dag, const json_t *policy,
                         contour_dag_lb_strategy_t strategy, contour_dag_slow_start_t **out,
                         hp_status_t *st)
{
	char err[512];
	int64_t ns;
	*out = NULL;
	if (!json_is_object(policy))
		return 0;
	/* Envoy has slow start for these two strategies only. */
	if (strategy != CONTOUR_DAG_LB_ROUND_ROBIN &&
	    strategy != CONTOUR_DAG_LB_WEIGHTED_LEAST_REQUEST) {
		hp_status_error(st, "ServiceError", "SlowStartInvalid",
		                "slow start is only supported with RoundRobin or "
		                "WeightedLeastRequest load balancer strategy");
		return -1;
	}
	if (contour_duration_parse_ns(contour_json_get_str(policy, "window"), &ns, err,
	                              sizeof(err)) < 0) {
		hp_status_error(st, "ServiceError", "SlowStartInvalid",
		                "error parsing window: %s on slow start", err);
		return -1;
	}
	double aggression = 1.0;
	const char *a = contour_json_get_str(policy, "aggression");
	if (*a) {
		char *end;
		errno = 0;
		aggression = strtod(a, &end);
		if (isspace((unsigned char)*a) || *end || errno == ERANGE) {
			hp_status_error(
			    st, "ServiceError", "SlowStartInvalid",
			    "error parsing aggression: \"%s\" is not a decimal number on "
			    "slow start",
			    a);
			return -1;
		}
	}
	contour_dag_slow_start_t *ss = contour_dag_slow_start_new(dag);
	if (!ss)
		return CONTOUR_ENOMEM;
	ss->window_ms = ns > 0 ? contour_duration_ns_to_ms(ns) : 0;
	ss->aggression = aggression;
	/* Absent: the CRD's default 10. */
	ss->min_weight_percent = contour_json_has(policy, "minWeightPercent")
	                             ? (uint32_t)contour_json_get_int(policy, "minWeightPercent")
	                             : 10;
	*out = ss;
	return 0;
}
