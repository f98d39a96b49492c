/* modules/ingress/ing_rules.c: the routes of an Ingress, as upstream's
 * computeIngresses, computeIngressRule and route (ingress_processor.go).
 *
 * What upstream skips, and how much: an unresolved backend skips that path
 * only; an invalid regex (or a global header policy upstream refuses)
 * skips the rest of that rule, paths already added staying in place. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/ingress/ing.h"

int ing_path_match(contour_dag_t *dag, const char *path, const char *path_type,
                   contour_dag_path_match_t *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!strcmp(path_type, "Prefix")) {
		/* "/" is every path: a plain string prefix. Otherwise whole
		 * segments, without the trailing slashes (so /foo/ matches /foo). */
		if (!strcmp(path, "/")) {
			out->type = CONTOUR_DAG_PATH_PREFIX;
			out->value = contour_dag_strdup(dag, path);
		} else {
			size_t n = strlen(path);
			while (n > 0 && path[n - 1] == '/')
				n--;
			out->type = CONTOUR_DAG_PATH_SEGMENT_PREFIX;
			out->value = contour_dag_printf(dag, "%.*s", (int)n, path);
		}
	} else if (!strcmp(path_type, "Exact")) {
		out->type = CONTOUR_DAG_PATH_EXACT;
		out->value = contour_dag_strdup(dag, path);
	} else if (!strcmp(path_type, "ImplementationSpecific")) {
		/* A path that "looks like" a regex is one, once it compiles. */
		if (strpbrk(path, "^+*[]%")) {
			if (contour_regex_check(path, err, errlen) < 0)
				return -1;
			out->type = CONTOUR_DAG_PATH_REGEX;
		} else {
			out->type = CONTOUR_DAG_PATH_PREFIX;
		}
		out->value = contour_dag_strdup(dag, path);
	} else {
		/* The API server refuses other types; upstream leaves the route
		 * without a path match, which Envoy cannot express. */
		snprintf(err, errlen, "unsupported pathType \"%s\"", path_type);
		return -1;
	}
	return out->value ? 0 : CONTOUR_ENOMEM;
}

/* The :authority match of a route on a wildcard host. */
static int ing_authority_match(ing_build_t *b, contour_dag_route_t *r, const char *host)
{
	const char *value = contour_dag_wildcard_authority(b->dag, host);
	contour_dag_header_match_t *m =
	    value ? contour_dag_header_match_push(b->dag, &r->headers, &r->nheaders) : NULL;
	if (!m)
		return CONTOUR_ENOMEM;
	m->name = ":authority";
	m->type = CONTOUR_DAG_MATCH_REGEX;
	m->value = value;
	return 0;
}

/* headersPolicyService(default, nil, ...): the global policies, when they
 * apply to Ingress, on the route's one backend. Returns 0, CONTOUR_ENOMEM,
 * or -1 with upstream's message in err. */
static int ing_backend_headers(ing_build_t *b, const ing_object_t *ing, const char *svc,
                               uint32_t port, contour_dag_backend_t *be, char *err, size_t errlen)
{
	const ing_settings_t *s = &b->ctx->settings;
	if (!s->request_headers && !s->response_headers)
		return 0;
	int rc = contour_header_policy_build(b->dag, NULL, s->request_headers,
	                                     CONTOUR_HEADERS_REQUEST | CONTOUR_HEADERS_SERVICE,
	                                     ing->ns, svc, port, &be->request_headers, err, errlen);
	if (rc == 0)
		rc = contour_header_policy_build(b->dag, NULL, s->response_headers,
		                                 CONTOUR_HEADERS_SERVICE, ing->ns, svc, port,
		                                 &be->response_headers, err, errlen);
	return rc;
}

/* A route on the secure listener is never a redirect to itself. */
static int ing_add_secure(ing_build_t *b, contour_dag_vhost_t *vh, const contour_dag_route_t *r)
{
	contour_dag_route_t *copy = contour_dag_route_copy(b->dag, r);
	if (!copy)
		return CONTOUR_ENOMEM;
	copy->https_redirect = 0;
	return contour_dag_add_route(b->dag, vh, copy);
}

/* The field of path number idx of rule number rule (-1: the default
 * backend, a rule of its own), member "backend", "path" or "pathType". */
static const char *ing_path_field(char *buf, size_t len, long rule, size_t idx, const char *member)
{
	if (rule < 0)
		snprintf(buf, len, "spec.defaultBackend");
	else
		snprintf(buf, len, "spec.rules[%ld].http.paths[%zu].%s", rule, idx, member);
	return buf;
}

/* The build's message for a path match ing_path_match refused. Only an
 * ImplementationSpecific path can be refused for its text (a regex);
 * anything else is refused for its pathType. */
static void ing_report_path(ing_build_t *b, const ing_object_t *ing, const char *host,
                            const char *path, const char *path_type, long rule, size_t idx,
                            const char *err)
{
	char field[96];
	ing_report(
	    b, ing, CONTOUR_LOG_ERR, ING_PROBLEM_OWN,
	    ing_path_field(field, sizeof(field), rule, idx,
	                   strcmp(path_type, "ImplementationSpecific") ? "pathType" : "path"),
	    "rule %s skipped: path %s is not valid: %s", host, path, err);
}

/* A review only: a path the build skips for another object's sake (a
 * Service not there yet) or the config's, checked as the build will check
 * it once that is fixed. 0, or -1 when the rest of the rule is skipped. */
static int ing_review_path(ing_build_t *b, const ing_object_t *ing, const char *host,
                           const char *path, const char *path_type, long rule, size_t idx, int skip)
{
	if (!b->verdict)
		return skip;
	contour_dag_path_match_t m;
	char err[1024];
	int rc = ing_path_match(b->dag, path, path_type, &m, err, sizeof(err));
	if (rc == CONTOUR_ENOMEM) {
		b->nomem = 1;
		return -1;
	}
	if (rc != 0) {
		ing_report_path(b, ing, host, path, path_type, rule, idx, err);
		return -1;
	}
	return skip;
}

/* The route for one HTTPIngressPath, number idx of rule number rule: 0
 * added (or the path skipped), -1 when the rest of the rule is skipped. */
static int ing_path(ing_build_t *b, const ing_object_t *ing, const char *rule_host, long rule,
                    size_t idx, const json_t *hp)
{
	const ing_annot_t *a = &ing->annot;
	const char *host = *rule_host ? rule_host : "*";
	const char *path = contour_json_get_str(hp, "path");
	const char *path_type = contour_json_get_str(hp, "pathType");
	const json_t *svc = contour_json_get_obj(contour_json_get_obj(hp, "backend"), "service");
	const json_t *port = contour_json_get_obj(svc, "port");
	const char *svc_name = contour_json_get_str(svc, "name");
	char err[1024], field[96];
	if (!*path)
		path = "/";
	if (!*path_type)
		path_type = "ImplementationSpecific";
	if (!svc) {
		ing_report(b, ing, CONTOUR_LOG_WARN, ING_PROBLEM_OWN,
		           ing_path_field(field, sizeof(field), rule, idx, "backend"),
		           "path %s: only Service backends are supported; skipped", path);
		return ing_review_path(b, ing, host, path, path_type, rule, idx, 0);
	}

	json_int_t number = json_integer_value(json_object_get(port, "number"));
	const char *port_name = contour_json_get_str(port, "name");
	contour_dag_cluster_t *c = contour_dag_cluster_new(b->dag);
	if (!c)
		goto nomem;
	if (contour_dag_lookup_service(b->mod, b->dag, ing->ns, svc_name,
	                               *port_name ? 0 : (uint32_t)(number > 0 ? number : 0),
	                               *port_name ? port_name : NULL, &c->service, &c->protocol,
	                               &c->circuit_breakers, err, sizeof(err)) != CONTOUR_EOK) {
		ing_report(b, ing, CONTOUR_LOG_ERR, ING_PROBLEM_ELSEWHERE, NULL,
		           "unresolved service reference %s: %s", svc_name, err);
		return ing_review_path(b, ing, host, path, path_type, rule, idx, 0);
	}
	c->lb_strategy = CONTOUR_DAG_LB_ROUND_ROBIN;
	c->idle_connection_timeout_ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	contour_dag_cluster_t *cl = contour_dag_cluster_intern(b->dag, c);
	contour_dag_route_t *r = contour_dag_route_new(b->dag);
	contour_dag_backend_t *be = contour_dag_backend_new(b->dag);
	if (!cl || !r || !be)
		goto nomem;

	/* The websocket list names paths as written, before Prefix trimming. */
	r->websockets = ing_annot_websocket(a, path);
	r->https_redirect = a->tls_required;
	r->timeouts = a->timeouts;
	if (a->retry_on) {
		r->retry = contour_dag_retry_policy_new(b->dag);
		if (!r->retry)
			goto nomem;
		r->retry->retry_on = contour_dag_strdup(b->dag, a->retry_on);
		if (!r->retry->retry_on)
			goto nomem;
		r->retry->num_retries = a->num_retries;
		r->retry->per_try_timeout_ms = a->per_try_timeout_ms;
	}
	be->cluster = cl;
	/* upstream's `number` is 0 for a named port here. */
	int rc = ing_backend_headers(b, ing, svc_name, (uint32_t)(number > 0 ? number : 0), be, err,
	                             sizeof(err));
	if (rc == CONTOUR_ENOMEM)
		goto nomem;
	if (rc != 0) {
		/* the global policy refuses this Service: the config's doing */
		ing_report(b, ing, CONTOUR_LOG_ERR, ING_PROBLEM_ELSEWHERE, NULL,
		           "rule %s skipped: %s", host, err);
		return ing_review_path(b, ing, host, path, path_type, rule, idx, -1);
	}
	r->backends = be;
	r->nbackends = 1;
	/* The snapshot outlives the store's objects: arena copies. */
	r->origin.kind = ING_KIND;
	r->origin.namespace_ = contour_dag_strdup(b->dag, ing->ns);
	r->origin.name = contour_dag_strdup(b->dag, ing->name);
	if (!r->origin.namespace_ || !r->origin.name)
		goto nomem;

	rc = ing_path_match(b->dag, path, path_type, &r->path, err, sizeof(err));
	if (rc == CONTOUR_ENOMEM)
		goto nomem;
	if (rc != 0) {
		ing_report_path(b, ing, host, path, path_type, rule, idx, err);
		return -1;
	}
	if (!strncmp(host, "*.", 2) && ing_authority_match(b, r, host) != 0)
		goto nomem;

	if (a->tls_required || a->http_allowed) {
		contour_dag_vhost_t *vh = contour_dag_vhost(b->dag, host);
		if (!vh || contour_dag_add_route(b->dag, vh, r) != CONTOUR_EOK)
			goto nomem;
	}
	/* Only a TLS host named exactly; the default vhost is never secure. */
	contour_dag_svhost_t *sv = contour_dag_find_svhost(b->dag, host);
	if (sv && strcmp(host, "*") && ing_add_secure(b, &sv->vhost, r) != CONTOUR_EOK)
		goto nomem;
	return 0;
nomem:
	b->nomem = 1;
	return -1;
}

static void ing_rule(ing_build_t *b, const ing_object_t *ing, const char *host, long rule,
                     const json_t *paths)
{
	size_t i;
	const json_t *p;
	json_array_foreach(paths, i, p)
	{
		if (ing_path(b, ing, host, rule, i, p) != 0 || b->nomem)
			return;
	}
}

void ing_rules(ing_build_t *b, const ing_object_t *ing)
{
	const json_t *spec = contour_json_get_obj(ing->obj, "spec");
	/* The default backend is a rule of its own, with no host and one
	 * path "/", put first so a later rule for "*" and "/" replaces it. */
	const json_t *def = contour_json_get_obj(spec, "defaultBackend");
	if (def) {
		json_t *paths = json_pack("[{s:O}]", "backend", def);
		if (!paths) {
			b->nomem = 1;
			return;
		}
		ing_rule(b, ing, "", -1, paths);
		json_decref(paths);
	}
	size_t i;
	const json_t *rule;
	json_array_foreach(contour_json_get_arr(spec, "rules"), i, rule)
	{
		if (b->nomem)
			return;
		/* A rule without `http` has nothing to route. */
		ing_rule(b, ing, contour_json_get_str(rule, "host"), (long)i,
		         contour_json_get_arr(contour_json_get_obj(rule, "http"), "paths"));
	}
}
