/* modules/httpproxy/hp_routes.c: routes and includes, as upstream's
 * computeRoutes does them (internal/dag/httpproxy_processor.go): includes
 * first (recursively, with cycle detection and 502 routes for missing or
 * root targets), then the proxy's own routes in order, each checked in
 * upstream's order; any route error drops every route of the proxy being
 * processed, an unresolved service only drops that backend, and a route
 * left with no backend answers 503. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/httpproxy/hp_proc.h"

int hp_resolve_service(hp_build_t *b, const hp_proxy_t *px, const char *name, uint32_t port,
                       uint32_t health_port, contour_dag_service_t *svc, const char **protocol,
                       contour_dag_circuit_breakers_t *breakers, char *err, size_t errlen)
{
	memset(svc, 0, sizeof(*svc));
	if (contour_dag_lookup_service(b->mod, b->dag, px->ns, name, port, NULL, svc, protocol,
	                               breakers, err, errlen) != CONTOUR_EOK)
		return -1;
	if (health_port && health_port != port) {
		contour_dag_service_t hs;
		const char *hproto = NULL;
		contour_dag_circuit_breakers_t hcb;
		memset(&hs, 0, sizeof(hs));
		if (contour_dag_lookup_service(b->mod, b->dag, px->ns, name, health_port, NULL, &hs,
		                               &hproto, &hcb, err, errlen) != CONTOUR_EOK)
			return -1;
		svc->health_port = hs.port;
		svc->health_port_name = hs.port_name;
	}
	return 0;
}

/* hp_service_protocol on the service's `protocol` member p (or NULL). */
static int hp_protocol_of(hp_status_t *st, const json_t *p, const char *annotated, const char **out)
{
	if (!json_is_string(p)) {
		*out = annotated ? annotated : "";
		return 0;
	}
	const char *s = json_string_value(p);
	if (strcmp(s, "h2c") && strcmp(s, "h2") && strcmp(s, "tls")) {
		hp_status_error_ref(st, "ServiceError", "UnsupportedProtocol",
		                    "unsupported protocol: %s", s);
		return -1;
	}
	*out = s;
	return 0;
}

int hp_service_protocol(hp_status_t *st, const json_t *service, const char *annotated,
                        const char **out)
{
	return hp_protocol_of(st, json_object_get(service, "protocol"), annotated, out);
}

/* The members of a route and of a service that the processor reads, found
 * in one walk over the object. Each is read at least once per build and
 * most are absent; a hashed json_object_get per read cost more than the
 * rest of the route put together (callgrind on bench_dag). */
enum {
	HP_R_CONDITIONS,
	HP_R_SERVICES,
	HP_R_REQUEST_HEADERS,
	HP_R_RESPONSE_HEADERS,
	HP_R_COOKIE_REWRITE,
	HP_R_TIMEOUT,
	HP_R_RATE_LIMIT,
	HP_R_LOAD_BALANCER,
	HP_R_REDIRECT,
	HP_R_INTERNAL_REDIRECT,
	HP_R_DIRECT,
	HP_R_WEBSOCKETS,
	HP_R_PERMIT_INSECURE,
	HP_R_RETRY,
	HP_R_AUTH,
	HP_R_PATH_REWRITE,
	HP_R_HEALTH_CHECK,
	HP_R_JWT,
	HP_R_IP_ALLOW,
	HP_R_IP_DENY,
	HP_R_N
};

static const char *const hp_route_members[HP_R_N] = {
    [HP_R_CONDITIONS] = "conditions",
    [HP_R_SERVICES] = "services",
    [HP_R_REQUEST_HEADERS] = "requestHeadersPolicy",
    [HP_R_RESPONSE_HEADERS] = "responseHeadersPolicy",
    [HP_R_COOKIE_REWRITE] = "cookieRewritePolicies",
    [HP_R_TIMEOUT] = "timeoutPolicy",
    [HP_R_RATE_LIMIT] = "rateLimitPolicy",
    [HP_R_LOAD_BALANCER] = "loadBalancerPolicy",
    [HP_R_REDIRECT] = "requestRedirectPolicy",
    [HP_R_INTERNAL_REDIRECT] = "internalRedirectPolicy",
    [HP_R_DIRECT] = "directResponsePolicy",
    [HP_R_WEBSOCKETS] = "enableWebsockets",
    [HP_R_PERMIT_INSECURE] = "permitInsecure",
    [HP_R_RETRY] = "retryPolicy",
    [HP_R_AUTH] = "authPolicy",
    [HP_R_PATH_REWRITE] = "pathRewritePolicy",
    [HP_R_HEALTH_CHECK] = "healthCheckPolicy",
    [HP_R_JWT] = "jwtVerificationPolicy",
    [HP_R_IP_ALLOW] = "ipAllowPolicy",
    [HP_R_IP_DENY] = "ipDenyPolicy",
};

enum {
	HP_S_NAME,
	HP_S_PORT,
	HP_S_HEALTH_PORT,
	HP_S_PROTOCOL,
	HP_S_VALIDATION,
	HP_S_REQUEST_HEADERS,
	HP_S_RESPONSE_HEADERS,
	HP_S_COOKIE_REWRITE,
	HP_S_SLOW_START,
	HP_S_WEIGHT,
	HP_S_MIRROR,
	HP_S_N
};

static const char *const hp_service_members[HP_S_N] = {
    [HP_S_NAME] = "name",
    [HP_S_PORT] = "port",
    [HP_S_HEALTH_PORT] = "healthPort",
    [HP_S_PROTOCOL] = "protocol",
    [HP_S_VALIDATION] = "validation",
    [HP_S_REQUEST_HEADERS] = "requestHeadersPolicy",
    [HP_S_RESPONSE_HEADERS] = "responseHeadersPolicy",
    [HP_S_COOKIE_REWRITE] = "cookieRewritePolicies",
    [HP_S_SLOW_START] = "slowStartPolicy",
    [HP_S_WEIGHT] = "weight",
    [HP_S_MIRROR] = "mirror",
};

/* Arena copies of px's namespace and name, for route origins. */
static void hp_origin(hp_build_t *b, const hp_proxy_t *px, contour_dag_route_t *r)
{
	r->origin.kind = HP_KIND;
	r->origin.namespace_ = contour_dag_strdup(b->dag, px->ns);
	r->origin.name = contour_dag_strdup(b->dag, px->name);
	if (!r->origin.namespace_ || !r->origin.name)
		b->nomem = 1;
}

/* A 502 route on an include's own conditions (upstream's
 * addStatusBadGatewayRoute: only when the include has conditions). */
static void hp_bad_gateway(hp_build_t *b, const hp_proxy_t *px, const json_t *iconds,
                           hp_routes_t *out)
{
	if (json_array_size(iconds) == 0)
		return;
	contour_dag_route_t *r = contour_dag_route_new(b->dag);
	contour_dag_direct_response_t *dr = contour_dag_direct_response_new(b->dag);
	if (!r || !dr) {
		b->nomem = 1;
		return;
	}
	r->timeouts.response_ms = r->timeouts.idle_ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	contour_conditions_merge(b->dag, iconds, r);
	dr->status_code = 502;
	r->direct_response = dr;
	hp_origin(b, px, r);
	hp_routes_push(b, out, r);
}

/* Header matches rebuilt through the core's appender, so one more can be
 * appended whatever way the list was allocated. */
static int hp_add_authority_match(hp_build_t *b, contour_dag_route_t *r, const char *fqdn)
{
	contour_dag_header_match_t *list = NULL;
	size_t n = 0;
	for (size_t i = 0; i < r->nheaders; i++) {
		contour_dag_header_match_t *copy = contour_dag_header_match_push(b->dag, &list, &n);
		if (!copy)
			goto nomem;
		*copy = r->headers[i];
	}
	const char *value = contour_dag_wildcard_authority(b->dag, fqdn);
	contour_dag_header_match_t *m =
	    value ? contour_dag_header_match_push(b->dag, &list, &n) : NULL;
	if (!m)
		goto nomem;
	m->name = ":authority";
	m->type = CONTOUR_DAG_MATCH_REGEX;
	m->value = value;
	r->headers = list;
	r->nheaders = n;
	return 0;
nomem:
	b->nomem = 1;
	return -1;
}

/* Pick the one replacement upstream applies: the entry whose prefix is the
 * routing prefix, else the entry with an empty prefix. */
static void hp_choose_rewrite(hp_build_t *b, contour_dag_route_t *r,
                              const contour_dag_prefix_rewrite_t *list, size_t n)
{
	const contour_dag_prefix_rewrite_t *pick = NULL;
	const char *routing = r->path.value ? r->path.value : "/";
	for (size_t i = 0; i < n && !pick; i++)
		if (list[i].prefix && *list[i].prefix && !strcmp(list[i].prefix, routing))
			pick = &list[i];
	for (size_t i = 0; i < n && !pick; i++)
		if (!list[i].prefix || !*list[i].prefix)
			pick = &list[i];
	r->prefix_rewrites = NULL;
	r->nprefix_rewrites = 0;
	if (!pick)
		return;
	contour_dag_prefix_rewrite_t *rw = contour_dag_prefix_rewrite_new(b->dag);
	if (!rw) {
		b->nomem = 1;
		return;
	}
	rw->prefix = routing;
	rw->replacement = pick->replacement ? pick->replacement : "";
	r->prefix_rewrites = rw;
	r->nprefix_rewrites = 1;
}

/* The route's services; -1 drops every route of the proxy. */
static int hp_route_services(hp_build_t *b, hp_status_t *st, const hp_proxy_t *px,
                             const json_t *services, contour_dag_route_t *r,
                             contour_dag_lb_strategy_t strategy, contour_dag_health_check_t *hc,
                             int64_t idle_connection_ms)
{
	size_t i;
	const json_t *service;
	json_array_foreach(services, i, service)
	{
		const json_t *m[HP_S_N];
		hp_members(service, hp_service_members, HP_S_N, m);
		const char *name = contour_json_as_str(m[HP_S_NAME]);
		json_int_t port = contour_json_as_int(m[HP_S_PORT]);
		char q[600], err[1024];
		if (port < 1 || port > 65535) {
			hp_status_error(st, "ServiceError", "ServicePortInvalid",
			                "service %s: port must be in the range 1-65535",
			                contour_quote(q, sizeof(q), name, CONTOUR_QUOTE_STRCONV));
			return -1;
		}
		json_int_t health_port = port;
		if (hc && contour_json_as_int(m[HP_S_HEALTH_PORT]) > 0)
			health_port = contour_json_as_int(m[HP_S_HEALTH_PORT]);

		contour_dag_cluster_t *c = contour_dag_cluster_new(b->dag);
		if (!c)
			goto nomem;
		const char *annotated = NULL;
		if (hp_resolve_service(b, px, name, (uint32_t)port, (uint32_t)health_port,
		                       &c->service, &annotated, &c->circuit_breakers, err,
		                       sizeof(err)) != 0) {
			hp_status_error_ref(st, "ServiceError", "ServiceUnresolvedReference",
			                    "Spec.Routes unresolved service reference: %s", err);
			continue;
		}
		if (hp_protocol_of(st, m[HP_S_PROTOCOL], annotated, &c->protocol) != 0)
			return -1;
		c->protocol = contour_dag_strdup(b->dag, c->protocol);
		const json_t *validation = contour_json_as_obj(m[HP_S_VALIDATION]);
		if ((!strcmp(c->protocol, "tls") || !strcmp(c->protocol, "h2")) && validation &&
		    hp_tls_upstream_validation(b, st, px, service, c) != 0)
			return -1;

		contour_dag_header_policy_t *sreq = NULL, *sresp = NULL;
		const hp_settings_t *set = &b->ctx->settings;
		if (hp_policy_headers(b->dag, m[HP_S_REQUEST_HEADERS], set->request_headers, 1,
		                      "service", px->ns, name, (uint32_t)port, &sreq, st) != 0)
			return -1;
		if (hp_policy_headers(b->dag, m[HP_S_RESPONSE_HEADERS], set->response_headers, 0,
		                      "service", px->ns, name, (uint32_t)port, &sresp, st) != 0)
			return -1;
		if (m[HP_S_COOKIE_REWRITE])
			hp_ignored(st, "\"Spec.Routes.Services.CookieRewritePolicies\"");
		const json_t *ssp = contour_json_as_obj(m[HP_S_SLOW_START]);
		if (ssp && hp_policy_slow_start(b->dag, ssp, strategy, &c->slow_start, st) != 0)
			return -1;

		c->lb_strategy = strategy;
		c->health_check = hc;
		c->idle_connection_timeout_ms = idle_connection_ms;
		/* upstream's determineSNI: service Host rewrite, then the route's,
		 * then the ExternalName. */
		if (sreq && sreq->host_rewrite && *sreq->host_rewrite)
			c->sni = sreq->host_rewrite;
		else if (r->request_headers && r->request_headers->host_rewrite &&
		         *r->request_headers->host_rewrite)
			c->sni = r->request_headers->host_rewrite;
		else if (c->service.external_name && *c->service.external_name)
			c->sni = c->service.external_name;

		contour_dag_cluster_t *cl = contour_dag_cluster_intern(b->dag, c);
		if (!cl) {
			b->nomem = 1;
			return -1;
		}
		json_int_t weight = contour_json_as_int(m[HP_S_WEIGHT]);
		if (weight < 0)
			weight = 0;
		int mirror = json_is_true(m[HP_S_MIRROR]);
		if (mirror && r->nmirrors > 0) {
			hp_status_error(st, "ServiceError", "OnlyOneMirror",
			                "only one service per route may be nominated as mirror");
			return -1;
		}
		if (mirror) {
			/* An omitted (or zero) weight mirrors everything. */
			contour_dag_mirror_t *mi =
			    contour_dag_mirror_push(b->dag, &r->mirrors, &r->nmirrors);
			if (!mi)
				goto nomem;
			mi->cluster = cl;
			mi->percent = weight == 0 ? 100 : (uint32_t)weight;
		} else {
			contour_dag_backend_t *be =
			    contour_dag_backend_push(b->dag, &r->backends, &r->nbackends);
			if (!be)
				goto nomem;
			be->cluster = cl;
			be->weight = (uint32_t)weight;
			be->request_headers = sreq;
			be->response_headers = sresp;
		}
	}
	return 0;
nomem:
	b->nomem = 1;
	return -1;
}

static int hp_route_action_count(const json_t *const *m)
{
	int n = 0;
	if (json_array_size(contour_json_as_arr(m[HP_R_SERVICES])) > 0)
		n++;
	if (m[HP_R_REDIRECT])
		n++;
	if (m[HP_R_DIRECT])
		n++;
	return n;
}

/* One route of px; -1 drops every route of px (upstream's `return nil`). */
static int hp_route(hp_build_t *b, hp_status_t *st, const hp_proxy_t *root, const hp_proxy_t *px,
                    const json_t *conds, int enforce_tls, const json_t *route, hp_routes_t *out)
{
	int rc = -1;
	json_t *merged = NULL;
	const json_t *m[HP_R_N];
	hp_members(route, hp_route_members, HP_R_N, m);
	const json_t *own = contour_json_as_arr(m[HP_R_CONDITIONS]);

	if (hp_route_action_count(m) != 1) {
		hp_status_error(st, "RouteError", "RouteActionCountNotValid",
		                "must set exactly one of route.services or "
		                "route.requestRedirectPolicy or route.directResponsePolicy");
		return -1;
	}
	merged = hp_cond_concat(conds, own);
	if (!merged) {
		b->nomem = 1;
		goto out;
	}
	if (hp_policy_route_conditions_split(conds, own, st) != 0)
		goto out;

	contour_dag_route_t *r = contour_dag_route_new(b->dag);
	if (!r) {
		b->nomem = 1;
		goto out;
	}
	r->timeouts.response_ms = r->timeouts.idle_ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	if (hp_policy_headers(b->dag, m[HP_R_REQUEST_HEADERS], NULL, 1, "route", px->ns, NULL, 0,
	                      &r->request_headers, st) != 0)
		goto out;
	if (hp_policy_headers(b->dag, m[HP_R_RESPONSE_HEADERS], NULL, 0, "route", px->ns, NULL, 0,
	                      &r->response_headers, st) != 0)
		goto out;
	if (m[HP_R_COOKIE_REWRITE])
		hp_ignored(st, "\"Spec.Routes.CookieRewritePolicies\"");
	int64_t idle_connection_ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	if (hp_policy_timeouts(m[HP_R_TIMEOUT], &r->timeouts, &idle_connection_ms, st) != 0)
		goto out;
	if (m[HP_R_RATE_LIMIT])
		hp_ignored(st, "\"Spec.Routes.RateLimitPolicy\"");
	contour_dag_lb_strategy_t strategy = CONTOUR_DAG_LB_ROUND_ROBIN;
	if (hp_policy_load_balancer(b->dag, m[HP_R_LOAD_BALANCER], 0, &strategy, &r->hash_policies,
	                            &r->nhash_policies, st) != 0)
		goto out;
	const json_t *redirect = m[HP_R_REDIRECT];
	if (redirect && hp_policy_redirect(b->dag, redirect, &r->redirect, st) != 0)
		goto out;
	if (m[HP_R_INTERNAL_REDIRECT])
		hp_ignored(st, "\"Spec.Routes.InternalRedirectPolicy\"");
	const json_t *direct = m[HP_R_DIRECT];
	if (direct && hp_policy_direct_response(b->dag, direct, &r->direct_response, st) != 0)
		goto out;

	if (contour_conditions_merge(b->dag, merged, r) != 0) {
		b->nomem = 1;
		goto out;
	}
	r->websockets = json_is_true(m[HP_R_WEBSOCKETS]);
	int permit =
	    json_is_true(m[HP_R_PERMIT_INSECURE]) && !b->ctx->settings.disable_permit_insecure;
	r->https_redirect = enforce_tls && !permit;
	if (hp_policy_retry(b->dag, m[HP_R_RETRY], &r->retry, st) != 0)
		goto out;
	if (m[HP_R_AUTH])
		hp_ignored(st, "\"Spec.Routes.AuthPolicy\"");
	hp_origin(b, px, r);

	const json_t *rewrite = m[HP_R_PATH_REWRITE];
	if (json_array_size(contour_json_get_arr(rewrite, "replacePrefix")) > 0) {
		contour_dag_prefix_rewrite_t *list = NULL;
		size_t n = 0;
		if (hp_policy_prefix_rewrite(b->dag, rewrite, r, st, &list, &n) != 0)
			goto out;
		hp_choose_rewrite(b, r, list, n);
	}

	contour_dag_health_check_t *hc = NULL;
	if (hp_policy_health_check(b->dag, m[HP_R_HEALTH_CHECK], 0, &hc, st) != 0)
		goto out;
	if (hp_route_services(b, st, px, contour_json_as_arr(m[HP_R_SERVICES]), r, strategy, hc,
	                      idle_connection_ms) != 0)
		goto out;
	if (r->nbackends == 0 && !redirect && !direct) {
		contour_dag_direct_response_t *dr = contour_dag_direct_response_new(b->dag);
		if (!dr) {
			b->nomem = 1;
			goto out;
		}
		dr->status_code = 503;
		r->direct_response = dr;
	}
	const char *fqdn =
	    contour_json_get_str(contour_json_get_obj(root->spec, "virtualhost"), "fqdn");
	if (!strncmp(fqdn, "*.", 2) && hp_add_authority_match(b, r, fqdn) != 0)
		goto out;
	if (m[HP_R_JWT])
		hp_ignored(st, "\"Spec.Routes.JWTVerificationPolicy\"");
	if (hp_policy_ip_filter(b->dag, contour_json_as_arr(m[HP_R_IP_ALLOW]),
	                        contour_json_as_arr(m[HP_R_IP_DENY]), 1, &r->ip_filter, st) != 0)
		goto out;
	rc = hp_routes_push(b, out, r);
out:
	json_decref(merged);
	return rc;
}

/* upstream's expandPrefixMatches: a route that rewrites a prefix other than
 * "/" is split into "/foo" and "/foo/" forms unless both already exist. */
static void hp_expand_prefixes(hp_build_t *b, hp_routes_t *routes)
{
	size_t n = routes->n;
	if (n == 0)
		return;
	char **keys = calloc(n, sizeof(*keys));
	size_t *count = calloc(n, sizeof(*count));
	if (!keys || !count) {
		free(keys);
		free(count);
		b->nomem = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const contour_dag_route_t *r = routes->v[i];
		if (r->path.type != CONTOUR_DAG_PATH_PREFIX)
			continue;
		const char *p = r->path.value ? r->path.value : "/";
		size_t len = strlen(p);
		if (strcmp(p, "/"))
			while (len > 0 && p[len - 1] == '/')
				len--;
		keys[i] = strndup(p, len);
		if (!keys[i])
			b->nomem = 1;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n && keys[i]; j++)
			if (keys[j] && !strcmp(keys[i], keys[j]))
				count[i]++;
	for (size_t i = 0; i < n && !b->nomem; i++) {
		contour_dag_route_t *r = routes->v[i];
		if (!keys[i] || count[i] != 1 || r->nprefix_rewrites == 0 ||
		    !strcmp(r->path.value, "/"))
			continue;
		const char *repl = r->prefix_rewrites[0].replacement;
		size_t rlen = strlen(repl);
		while (rlen > 0 && repl[rlen - 1] == '/')
			rlen--;
		contour_dag_route_t *slash = contour_dag_route_copy(b->dag, r);
		contour_dag_prefix_rewrite_t *rw1 = contour_dag_prefix_rewrite_new(b->dag);
		contour_dag_prefix_rewrite_t *rw2 = contour_dag_prefix_rewrite_new(b->dag);
		if (!slash || !rw1 || !rw2) {
			b->nomem = 1;
			break;
		}
		rw1->prefix = r->path.value = contour_dag_strdup(b->dag, keys[i]);
		rw1->replacement = rlen ? contour_dag_printf(b->dag, "%.*s", (int)rlen, repl) : "/";
		rw2->prefix = slash->path.value = contour_dag_printf(b->dag, "%s/", keys[i]);
		rw2->replacement = contour_dag_printf(b->dag, "%.*s/", (int)rlen, repl);
		r->prefix_rewrites = rw1;
		slash->prefix_rewrites = rw2;
		slash->nprefix_rewrites = 1;
		if (!r->path.value || !rw1->replacement || !slash->path.value ||
		    !rw2->replacement) {
			b->nomem = 1;
			break;
		}
		hp_routes_push(b, routes, slash);
	}
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	free(count);
}

int hp_compute_routes(hp_build_t *b, hp_status_t *st, const hp_proxy_t *root, hp_proxy_t *px,
                      const json_t *conds, const hp_visit_t *visited, int enforce_tls,
                      hp_routes_t *out)
{
	for (const hp_visit_t *v = visited; v; v = v->up) {
		if (v->px == px) {
			hp_status_error_ref(st, "IncludeError", "IncludeCreatesCycle",
			                    "include creates an include cycle: %s",
			                    hp_visit_path(b, visited, px));
			return -1;
		}
	}
	hp_visit_t here = {.px = px, .up = visited};
	hp_routes_t local = {0};
	int rc = -1;
	contour_conditions_seen_t *seen = contour_conditions_seen_new();
	if (!seen) {
		b->nomem = 1;
		return -1;
	}

	size_t i;
	const json_t *inc;
	json_array_foreach(contour_json_get_arr(px->spec, "includes"), i, inc)
	{
		const char *ns = contour_json_get_str(inc, "namespace");
		const char *name = contour_json_get_str(inc, "name");
		if (!*ns)
			ns = px->ns;
		const json_t *iconds = contour_json_get_arr(inc, "conditions");
		json_t *empty = NULL;
		if (!iconds)
			iconds = empty = json_array();
		if (hp_policy_include_conditions(iconds, st) != 0)
			goto next;
		if (contour_conditions_seen_add(seen, iconds)) {
			hp_status_error(st, "IncludeError", "DuplicateMatchConditions",
			                "duplicate conditions defined on an include");
			goto next;
		}
		hp_proxy_t *child = hp_build_find(b, ns, name);
		if (!child) {
			hp_status_error_ref(st, "IncludeError", "IncludeNotFound",
			                    "include %s/%s not found", ns, name);
			hp_bad_gateway(b, px, iconds, &local);
			goto next;
		}
		if (contour_json_get_obj(child->spec, "virtualhost")) {
			hp_status_error_ref(
			    st, "IncludeError", "RootIncludesRoot",
			    "root httpproxy cannot include another root httpproxy (%s/%s)",
			    child->ns, child->name);
			hp_bad_gateway(b, px, iconds, &local);
			goto next;
		}
		hp_status_t *cst = hp_build_accessor(b, child);
		json_t *merged = hp_cond_concat(conds, iconds);
		if (!cst || !merged) {
			hp_status_free(cst);
			json_decref(merged);
			json_decref(empty);
			b->nomem = 1;
			goto out;
		}
		hp_compute_routes(b, cst, root, child, merged, &here, enforce_tls, &local);
		json_decref(merged);
		hp_build_commit(b, child, cst);
		child->orphaned = 0;
	next:
		json_decref(empty);
		if (b->nomem)
			goto out;
	}

	const json_t *route;
	json_array_foreach(contour_json_get_arr(px->spec, "routes"), i, route)
	{
		if (hp_route(b, st, root, px, conds, enforce_tls, route, &local) != 0)
			goto out;
	}
	hp_expand_prefixes(b, &local);
	for (i = 0; i < local.n; i++)
		if (hp_routes_push(b, out, local.v[i]) != 0)
			goto out;
	rc = 0;
out:
	contour_conditions_seen_free(seen);
	return rc;
}
