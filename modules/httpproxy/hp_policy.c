/* modules/httpproxy/hp_policy.c: HTTPProxy policies (headers, timeouts,
 * retries, health checks, load balancing, prefix rewrites, redirects,
 * direct responses, CORS, IP filters, slow start) translated into DAG
 * structs, with upstream's errors and warnings (internal/dag/policy.go and
 * httpproxy_processor.go; internal/timeout). Conditions are in hp_cond.c.
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
#include <contour/duration.h>
#include <contour/error.h>
#include <contour/header_policy.h>
#include <contour/quote.h>
#include <contour/regex.h>

#include "modules/httpproxy/hp.h"

int hp_policy_timeouts(const json_t *policy, contour_dag_timeout_policy_t *out,
                       int64_t *idle_connection_ms, hp_status_t *st)
{
	static const struct {
		const char *key, *what;
	} fields[] = {
	    {"response", "response timeout"},
	    {"idle", "idle timeout"},
	    {"idleConnection", "idle connection timeout"},
	};
	int64_t v[3] = {CONTOUR_DAG_TIMEOUT_DEFAULT, CONTOUR_DAG_TIMEOUT_DEFAULT,
	                CONTOUR_DAG_TIMEOUT_DEFAULT};
	char err[1024];
	out->response_ms = out->idle_ms = *idle_connection_ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	if (!json_is_object(policy))
		return 0;
	for (size_t i = 0; i < 3; i++) {
		if (contour_timeout_setting(contour_json_get_str(policy, fields[i].key), &v[i], err,
		                            sizeof(err)) < 0) {
			hp_status_error(st, "RouteError", "TimeoutPolicyNotValid",
			                "route.timeoutPolicy failed to parse: error parsing %s: %s",
			                fields[i].what, err);
			return -1;
		}
	}
	out->response_ms = v[0];
	out->idle_ms = v[1];
	*idle_connection_ms = v[2];
	return 0;
}

/* ---- headers: the shared builder, reported on the proxy's status ------------- */

int hp_policy_headers(contour_dag_t *dag, const json_t *policy, const json_t *defaults, int request,
                      const char *what, const char *ns, const char *svc, uint32_t port,
                      contour_dag_header_policy_t **out, hp_status_t *st)
{
	int service = what && !strcmp(what, "service");
	char err[1280];
	int rc = contour_header_policy_build(dag, policy, defaults,
	                                     (request ? CONTOUR_HEADERS_REQUEST : 0) |
	                                         (service ? CONTOUR_HEADERS_SERVICE : 0),
	                                     ns, svc, port, out, err, sizeof(err));
	if (rc == -1) {
		const char *reason = request   ? "RequestHeadersPolicyInvalid"
		                     : service ? "ResponseHeadersPolicyInvalid"
		                               : "ResponseHeaderPolicyInvalid"; /* sic, upstream */
		hp_status_error(st, service ? "ServiceError" : "RouteError", reason, "%s", err);
	}
	return rc;
}

/* ---- retry, health check, load balancing -------------------------------------- */

int hp_policy_retry(contour_dag_t *dag, const json_t *policy, contour_dag_retry_policy_t **out,
                    hp_status_t *st)
{
	size_t i, len = 0;
	json_t *e;
	int64_t ns;
	char err[256];
	*out = NULL;
	if (!json_is_object(policy))
		return 0;
	contour_dag_retry_policy_t *rp = contour_dag_retry_policy_new(dag);
	if (!rp)
		return CONTOUR_ENOMEM;

	json_int_t count = contour_json_get_int(policy, "count");
	rp->num_retries = count == -1 ? 0 : count == 0 || count == 1 ? 1 : (uint32_t)count;

	/* An unparsable perTryTimeout means Envoy's default, as upstream. */
	rp->per_try_timeout_ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	if (contour_duration_parse_ns(contour_json_get_str(policy, "perTryTimeout"), &ns, err,
	                              sizeof(err)) == 0 &&
	    ns > 0)
		rp->per_try_timeout_ms = contour_duration_ns_to_ms(ns);

	const json_t *on = json_object_get(policy, "retryOn");
	json_array_foreach(on, i, e) len +=
	    strlen(json_string_value(e) ? json_string_value(e) : "") + 1;
	if (len == 0) {
		rp->retry_on = "5xx";
	} else {
		char *buf = contour_dag_buf_new(dag, len);
		if (!buf)
			return CONTOUR_ENOMEM;
		json_array_foreach(on, i, e)
		{
			if (i)
				strcat(buf, ",");
			strcat(buf, json_string_value(e) ? json_string_value(e) : "");
		}
		rp->retry_on = buf;
	}
	json_array_foreach(json_object_get(policy, "retriableStatusCodes"), i, e)
	{
		if (contour_dag_u32_push(dag, &rp->retriable_status_codes,
		                         &rp->nretriable_status_codes,
		                         (uint32_t)json_integer_value(e)) != CONTOUR_EOK)
			return CONTOUR_ENOMEM;
	}
	*out = rp;
	return 0;
}

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

/* One requestHashPolicies entry; 1 when it is kept in *h. */
static int hp_lb_hash_entry(contour_dag_t *dag, const json_t *e, hp_hash_entry_t *h,
                            int *source_ip, const contour_dag_hash_policy_t *kept, size_t nkept,
                            hp_status_t *st)
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
		for (size_t i = 0; i < nkept; i++) {
			if (kept[i].type == CONTOUR_DAG_HASH_HEADER &&
			    !strcmp(kept[i].name, name)) {
				HP_IGNORED(
				    st,
				    "ignoring invalid header hash policy options with duplicated "
				    "header name %s",
				    name);
				return 0;
			}
		}
		h->type = CONTOUR_DAG_HASH_HEADER;
		h->name = name;
		return 1;
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
	for (size_t i = 0; i < nkept; i++) {
		if (kept[i].type == CONTOUR_DAG_HASH_QUERY && !strcmp(kept[i].name, name)) {
			HP_IGNORED(st,
			           "ignoring invalid query parameter hash policy options with "
			           "duplicated query parameter name %s",
			           name);
			return 0;
		}
	}
	h->type = CONTOUR_DAG_HASH_QUERY;
	h->name = name;
	return 1;
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
		contour_dag_hash_policy_t *kept = keep ? contour_dag_hash_policy_push(dag, hash, nhash) : NULL;
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

/* ---- rewrites, redirects, direct responses ------------------------------------- */

/* The replacement upstream picks: the one whose prefix equals the route's
 * prefix, else the one with an empty prefix; *out holds that one (or
 * none). The /foo vs /foo/ expansion is the route builder's. */
int hp_policy_prefix_rewrite(contour_dag_t *dag, const json_t *policy,
                             const contour_dag_route_t *route, hp_status_t *st,
                             contour_dag_prefix_rewrite_t **out, size_t *nout)
{
	const json_t *reps = json_object_get(policy, "replacePrefix");
	size_t i, j;
	json_t *e, *f;
	*out = NULL;
	*nout = 0;
	if (json_array_size(reps) == 0)
		return 0;
	if (route->path.type != CONTOUR_DAG_PATH_PREFIX) {
		hp_status_error(st, "PrefixReplaceError", "MustHavePrefix",
		                "cannot specify prefix replacements without a prefix condition");
		return -1;
	}
	json_array_foreach(reps, i, e)
	{
		json_array_foreach(reps, j, f)
		{
			if (j >= i)
				break;
			if (strcmp(contour_json_get_str(e, "prefix"),
			           contour_json_get_str(f, "prefix")))
				continue;
			if (*contour_json_get_str(e, "prefix"))
				hp_status_error(st, "PrefixReplaceError", "DuplicateReplacement",
				                "duplicate replacement prefix '%s'",
				                contour_json_get_str(e, "prefix"));
			else
				hp_status_error(st, "PrefixReplaceError", "AmbiguousReplacement",
				                "ambiguous prefix replacement");
			return -1;
		}
	}
	const json_t *pick = NULL;
	json_array_foreach(reps, i, e)
	{
		const char *p = contour_json_get_str(e, "prefix");
		if (!pick && *p && route->path.value && !strcmp(p, route->path.value))
			pick = e;
	}
	json_array_foreach(reps, i, e)
	{
		if (!pick && !*contour_json_get_str(e, "prefix"))
			pick = e;
	}
	if (!pick)
		return 0;
	const char *prefix = contour_dag_strdup(dag, contour_json_get_str(pick, "prefix"));
	const char *replacement =
	    contour_dag_strdup(dag, contour_json_get_str(pick, "replacement"));
	contour_dag_prefix_rewrite_t *r =
	    prefix && replacement ? contour_dag_prefix_rewrite_push(dag, out, nout) : NULL;
	if (!r)
		return CONTOUR_ENOMEM;
	r->prefix = prefix;
	r->replacement = replacement;
	return 0;
}

/* NULL for an absent or empty string, else an arena copy (or "" on ENOMEM
 * checks by the caller through *nomem). */
static const char *hp_opt_str(contour_dag_t *dag, const json_t *obj, const char *key, int *nomem)
{
	const char *s = contour_json_get_str(obj, key);
	if (!*s)
		return NULL;
	const char *c = contour_dag_strdup(dag, s);
	if (!c)
		*nomem = 1;
	return c;
}

int hp_policy_redirect(contour_dag_t *dag, const json_t *policy, contour_dag_redirect_t **out,
                       hp_status_t *st)
{
	int nomem = 0;
	*out = NULL;
	if (!json_is_object(policy))
		return 0;
	if (contour_json_has(policy, "path") && contour_json_has(policy, "prefix")) {
		hp_status_error(
		    st, "RouteError", "RequestRedirectPolicy",
		    "route.requestRedirectPolicy is invalid: cannot specify both redirect "
		    "path and redirect prefix");
		return -1;
	}
	contour_dag_redirect_t *r = contour_dag_redirect_new(dag);
	if (!r)
		return CONTOUR_ENOMEM;
	r->scheme = hp_opt_str(dag, policy, "scheme", &nomem);
	r->hostname = hp_opt_str(dag, policy, "hostname", &nomem);
	r->path = hp_opt_str(dag, policy, "path", &nomem);
	r->prefix = hp_opt_str(dag, policy, "prefix", &nomem);
	json_int_t port = contour_json_get_int(policy, "port");
	r->port = port > 0 && port <= 65535 ? (uint32_t)port : 0;
	/* Absent: the CRD's default 302 (manifests read from files are not
	 * defaulted by an API server). A code outside the CRD's enum gets
	 * Envoy's own default, 301, as upstream's translator leaves it. */
	switch (contour_json_has(policy, "statusCode") ? contour_json_get_int(policy, "statusCode")
	                                               : 302) {
	case 301:
	case 302:
	case 303:
	case 307:
	case 308:
		r->status_code = (uint32_t)(contour_json_has(policy, "statusCode")
		                                ? contour_json_get_int(policy, "statusCode")
		                                : 302);
		break;
	default:
		r->status_code = 301;
	}
	if (nomem)
		return CONTOUR_ENOMEM;
	*out = r;
	return 0;
}

int hp_policy_direct_response(contour_dag_t *dag, const json_t *policy,
                              contour_dag_direct_response_t **out, hp_status_t *st)
{
	int nomem = 0;
	*out = NULL;
	if (!json_is_object(policy))
		return 0;
	contour_dag_direct_response_t *d = contour_dag_direct_response_new(dag);
	if (!d)
		return CONTOUR_ENOMEM;
	/* The CRD bounds statusCode to 200-599; upstream does not check again. */
	d->status_code = (uint32_t)contour_json_get_int(policy, "statusCode");
	d->body = hp_opt_str(dag, policy, "body", &nomem);
	if (nomem)
		return CONTOUR_ENOMEM;
	*out = d;
	return 0;
}

/* ---- CORS ------------------------------------------------------------------------ */

/* Whether Go's url.Parse(ao) gives scheme://host == ao: a lower-case
 * scheme, "://", and a host with no path, query, fragment or userinfo. */
static int hp_cors_exact_origin(const char *ao)
{
	const char *p = ao;
	if (!(*p >= 'a' && *p <= 'z'))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || isdigit((unsigned char)*p) || *p == '+' || *p == '-' ||
	       *p == '.')
		p++;
	if (strncmp(p, "://", 3) || !p[3])
		return 0;
	for (p += 3; *p; p++) {
		if (strchr("/?#@ %\\", *p) || (unsigned char)*p < 0x20)
			return 0;
	}
	const char *colon = strrchr(ao + strlen("a://"), ':');
	if (colon && !strchr(colon, ']')) {
		for (const char *d = colon + 1; *d; d++) {
			if (!isdigit((unsigned char)*d))
				return 0;
		}
	}
	return 1;
}

static int hp_str_list(contour_dag_t *dag, const json_t *arr, const char ***out, size_t *n)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
	{
		const char *s =
		    contour_dag_strdup(dag, json_string_value(e) ? json_string_value(e) : "");
		if (!s || contour_dag_str_push(dag, out, n, s) != CONTOUR_EOK)
			return CONTOUR_ENOMEM;
	}
	return 0;
}

static int hp_cors_check(const json_t *policy, char *err, size_t errlen)
{
	const json_t *origins = json_object_get(policy, "allowOrigin");
	size_t i;
	json_t *e;
	char q[512], perr[512], rerr[512];
	int64_t ns;
	if (json_array_size(origins) == 0) {
		snprintf(err, errlen, "invalid allowed origin configuration with length 0");
		return -1;
	}
	json_array_foreach(origins, i, e)
	{
		const char *ao = json_string_value(e) ? json_string_value(e) : "";
		if (!strcmp(ao, "*") || hp_cors_exact_origin(ao) ||
		    contour_regex_check(ao, rerr, sizeof(rerr)) == 0)
			continue;
		snprintf(err, errlen,
		         "invalid allowed origin %s: allowed origin is invalid exact match and "
		         "invalid regex match",
		         contour_quote(q, sizeof(q), ao, CONTOUR_QUOTE_STRCONV));
		return -1;
	}
	if (json_array_size(json_object_get(policy, "allowMethods")) == 0) {
		snprintf(err, errlen, "invalid allowed methods configuration with length 0");
		return -1;
	}
	/* timeout.ParseMaxAge: "" default, 0 disables caching; no infinity. */
	const char *max_age = contour_json_get_str(policy, "maxAge");
	if (*max_age && contour_duration_parse_ns(max_age, &ns, perr, sizeof(perr)) < 0) {
		snprintf(err, errlen, "unable to parse timeout string %s: %s",
		         contour_quote(q, sizeof(q), max_age, CONTOUR_QUOTE_STRCONV), perr);
		return -1;
	}
	if (*max_age && ns < 0) {
		snprintf(err, errlen, "invalid max age value %s",
		         contour_quote(q, sizeof(q), max_age, CONTOUR_QUOTE_STRCONV));
		return -1;
	}
	return 0;
}

int hp_policy_cors(contour_dag_t *dag, const json_t *policy, contour_dag_cors_t **out,
                   hp_status_t *st)
{
	char err[1024];
	int nomem = 0;
	*out = NULL;
	if (!json_is_object(policy))
		return 0;
	if (hp_cors_check(policy, err, sizeof(err)) < 0) {
		hp_status_error(st, "CORSError", "PolicyDidNotParse",
		                "Spec.VirtualHost.CORSPolicy: %s", err);
		return -1;
	}
	contour_dag_cors_t *c = contour_dag_cors_new(dag);
	if (!c)
		return CONTOUR_ENOMEM;
	c->allow_credentials = contour_json_get_bool(policy, "allowCredentials");
	c->allow_private_network = contour_json_get_bool(policy, "allowPrivateNetwork");
	c->max_age = hp_opt_str(dag, policy, "maxAge", &nomem);
	if (nomem ||
	    hp_str_list(dag, json_object_get(policy, "allowOrigin"), &c->allow_origin,
	                &c->nallow_origin) ||
	    hp_str_list(dag, json_object_get(policy, "allowMethods"), &c->allow_methods,
	                &c->nallow_methods) ||
	    hp_str_list(dag, json_object_get(policy, "allowHeaders"), &c->allow_headers,
	                &c->nallow_headers) ||
	    hp_str_list(dag, json_object_get(policy, "exposeHeaders"), &c->expose_headers,
	                &c->nexpose_headers))
		return CONTOUR_ENOMEM;
	*out = c;
	return 0;
}

/* ---- IP filters ------------------------------------------------------------------ */

/* net.ParseCIDR on addr/len, canonical (masked) text into out. */
static int hp_cidr_parse(const char *s, char *out, size_t outlen)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	unsigned char bytes[16];
	int family, bits, len = 0;
	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	bits = family == AF_INET6 ? 128 : 32;
	if (inet_pton(family, addr, bytes) != 1)
		return -1;
	const char *m = slash + 1;
	if (!*m)
		return -1;
	for (; *m; m++) {
		if (!isdigit((unsigned char)*m))
			return -1;
		len = len * 10 + (*m - '0');
		if (len > bits)
			return -1;
	}
	for (int i = 0; i < bits / 8; i++) {
		int keep = len - i * 8;
		bytes[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
	}
	if (!inet_ntop(family, bytes, addr, sizeof(addr)))
		return -1;
	if ((size_t)snprintf(out, outlen, "%s/%d", addr, len) >= outlen)
		return -1;
	return 0;
}

/* toIPFilterRules. Upstream's loop keeps only the last parse error, so a
 * bad CIDR followed by a good one is reported (InvalidCIDR) but does not
 * fail the filter: the good rules are kept and 0 returned, as upstream. */
int hp_policy_ip_filter(contour_dag_t *dag, const json_t *allow, const json_t *deny, int route,
                        contour_dag_ip_filter_t **out, hp_status_t *st)
{
	size_t nallow = json_array_size(allow), ndeny = json_array_size(deny), i;
	json_t *e;
	char last_err[512] = "";
	*out = NULL;
	if (nallow && ndeny) {
		if (route)
			hp_status_error(st, "IPFilterError", "IncompatibleIPAddressFilters",
			                "cannot specify both `ipAllowPolicy` and `ipDenyPolicy`");
		else /* "IPDepny" is upstream's spelling */
			hp_status_error(
			    st, "IPFilterError", "IncompatibleIPAddressFilters",
			    "Spec.VirtualHost.IPAllowFilterPolicy and "
			    "Spec.VirtualHost.IPDepnyFilterPolicy cannot both be defined.");
		return -1;
	}
	if (!nallow && !ndeny)
		return 0;
	contour_dag_ip_filter_t *f = contour_dag_ip_filter_new(dag);
	if (!f)
		return CONTOUR_ENOMEM;
	f->allow = nallow > 0;
	json_array_foreach(nallow ? allow : deny, i, e)
	{
		const char *cidr = contour_json_get_str(e, "cidr");
		char unparsed[256], canon[INET6_ADDRSTRLEN + 64];
		snprintf(unparsed, sizeof(unparsed), "%s%s", cidr,
		         strchr(cidr, '/')   ? ""
		         : strchr(cidr, ':') ? "/128"
		                             : "/32");
		if (hp_cidr_parse(unparsed, canon, sizeof(canon)) < 0) {
			snprintf(last_err, sizeof(last_err), "invalid CIDR address: %s", unparsed);
			hp_status_error(st, "IPFilterError", "InvalidCIDR",
			                "%s failed to parse: %s", cidr, last_err);
			continue;
		}
		last_err[0] = '\0';
		const char *copy = contour_dag_strdup(dag, canon);
		contour_dag_ip_rule_t *r = copy ? contour_dag_ip_rule_push(dag, &f->rules, &f->nrules) : NULL;
		if (!r)
			return CONTOUR_ENOMEM;
		r->remote = !strcmp(contour_json_get_str(e, "source"), "Remote");
		r->cidr = copy;
	}
	if (last_err[0]) {
		if (!route)
			hp_status_error(st, "IPFilterError", "IPFilterPolicyNotValid",
			                "Spec.VirtualHost.IPAllowFilterPolicy or "
			                "Spec.VirtualHost.IPDenyFilterPolicy is invalid: %s",
			                last_err);
		return -1;
	}
	*out = f;
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
