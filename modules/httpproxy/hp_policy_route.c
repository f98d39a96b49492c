/* modules/httpproxy/hp_policy_route.c: an HTTPProxy route's own policies
 * (timeouts, header policies, retries, prefix rewrites, redirects, direct
 * responses) translated into DAG structs with upstream's errors
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
