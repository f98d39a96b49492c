/* modules/httpproxy/hp_policy_cors.c: a virtual host's corsPolicy
 * translated into the DAG, with upstream's checks of origins, methods and
 * max age (internal/dag/policy.go, httpproxy_processor.go).
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
