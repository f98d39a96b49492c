/* core/dag/dag_json.c: the sealed DAG as JSON (`contour render --format dag`)
 * and as a Graphviz digraph (`--format dot`, upstream's /debug/dag).
 *
 * Private keys never leave: a TLS secret shows its name, type and whether a
 * key is present, never the key. Certificates are public but long, so the
 * JSON leaves the PEM out altogether. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dag/dag_internal.h"

/* The enums named in the JSON count from 0, and 0 is each one's default:
 * a value outside the table reads as the first name. */
static const char *enum_name(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? names[v] : names[0];
}

#define ENUM_NAME(names, v) enum_name(names, sizeof(names) / sizeof(*names), (int)(v))

static const char *const path_type_names[] = {
    [CONTOUR_DAG_PATH_PREFIX] = "prefix",
    [CONTOUR_DAG_PATH_EXACT] = "exact",
    [CONTOUR_DAG_PATH_REGEX] = "regex",
    [CONTOUR_DAG_PATH_SEGMENT_PREFIX] = "segment-prefix",
};

static const char *const match_type_names[] = {
    [CONTOUR_DAG_MATCH_EXACT] = "exact",     [CONTOUR_DAG_MATCH_CONTAINS] = "contains",
    [CONTOUR_DAG_MATCH_PRESENT] = "present", [CONTOUR_DAG_MATCH_REGEX] = "regex",
    [CONTOUR_DAG_MATCH_PREFIX] = "prefix",   [CONTOUR_DAG_MATCH_SUFFIX] = "suffix",
};

static const char *const lb_names[] = {
    [CONTOUR_DAG_LB_ROUND_ROBIN] = "RoundRobin",
    [CONTOUR_DAG_LB_WEIGHTED_LEAST_REQUEST] = "WeightedLeastRequest",
    [CONTOUR_DAG_LB_RANDOM] = "Random",
    [CONTOUR_DAG_LB_COOKIE] = "Cookie",
    [CONTOUR_DAG_LB_REQUEST_HASH] = "RequestHash",
};

static const char *const hash_type_names[] = {
    [CONTOUR_DAG_HASH_HEADER] = "header",
    [CONTOUR_DAG_HASH_QUERY] = "query",
    [CONTOUR_DAG_HASH_SOURCE_IP] = "source-ip",
    [CONTOUR_DAG_HASH_COOKIE] = "cookie",
};

static const char *const secret_type_names[] = {
    [CONTOUR_DAG_SECRET_TLS] = "tls",
    [CONTOUR_DAG_SECRET_CA] = "ca",
    [CONTOUR_DAG_SECRET_CRL] = "crl",
};

/* Set key only when the value is meaningful, so the JSON stays small. */
static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static void set_int(json_t *o, const char *k, long long v)
{
	if (v)
		json_object_set_new(o, k, json_integer(v));
}

static void set_true(json_t *o, const char *k, int v)
{
	if (v)
		json_object_set_new(o, k, json_true());
}

static void set_timeout(json_t *o, const char *k, int64_t ms)
{
	if (ms == CONTOUR_DAG_TIMEOUT_INFINITE)
		json_object_set_new(o, k, json_string("infinity"));
	else if (ms != CONTOUR_DAG_TIMEOUT_DEFAULT && ms != 0)
		json_object_set_new(o, k, json_integer(ms));
}

static json_t *strs_json(const char **v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *header_policy_json(const contour_dag_header_policy_t *p)
{
	if (!p)
		return NULL;
	json_t *o = json_object();
	if (p->nset) {
		json_t *set = json_array();
		for (size_t i = 0; i < p->nset; i++)
			json_array_append_new(set, json_pack("{s:s, s:s}", "name", p->set[i].name,
			                                     "value", p->set[i].value));
		json_object_set_new(o, "set", set);
	}
	if (p->nremove)
		json_object_set_new(o, "remove", strs_json(p->remove, p->nremove));
	set_str(o, "hostRewrite", p->host_rewrite);
	set_str(o, "hostRewriteHeader", p->host_rewrite_header);
	return o;
}

static json_t *ip_filter_json(const contour_dag_ip_filter_t *f)
{
	if (!f)
		return NULL;
	json_t *rules = json_array();
	for (size_t i = 0; i < f->nrules; i++)
		json_array_append_new(rules, json_pack("{s:s, s:s}", "source",
		                                       f->rules[i].remote ? "Remote" : "Peer",
		                                       "cidr", f->rules[i].cidr));
	return json_pack("{s:s, s:o}", "policy", f->allow ? "allow" : "deny", "rules", rules);
}

static void set_new(json_t *o, const char *k, json_t *v)
{
	if (v)
		json_object_set_new(o, k, v);
}

static json_t *backend_json(const contour_dag_backend_t *b)
{
	json_t *o = json_pack("{s:s, s:I}", "cluster", b->cluster ? b->cluster->key : "", "weight",
	                      (json_int_t)b->weight);
	set_new(o, "requestHeaders", header_policy_json(b->request_headers));
	set_new(o, "responseHeaders", header_policy_json(b->response_headers));
	return o;
}

/* A header or a query match: name, type, then what is set of the rest. */
static json_t *match_json(const char *name, contour_dag_match_type_t type, const char *value)
{
	json_t *m =
	    json_pack("{s:s, s:s}", "name", name, "type", ENUM_NAME(match_type_names, type));
	set_str(m, "value", value);
	return m;
}

static json_t *header_match_json(const contour_dag_header_match_t *h)
{
	json_t *m = match_json(h->name, h->type, h->value);
	set_true(m, "invert", h->invert);
	set_true(m, "ignoreCase", h->ignore_case);
	set_true(m, "treatMissingAsEmpty", h->treat_missing_as_empty);
	return m;
}

static json_t *query_match_json(const contour_dag_query_match_t *q)
{
	json_t *m = match_json(q->name, q->type, q->value);
	set_true(m, "ignoreCase", q->ignore_case);
	return m;
}

static json_t *route_json(const contour_dag_route_t *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "match",
	                    json_pack("{s:s, s:s}", "type",
	                              ENUM_NAME(path_type_names, r->path.type), "path",
	                              r->path.value ? r->path.value : ""));
	if (r->nheaders) {
		json_t *a = json_array();
		for (size_t i = 0; i < r->nheaders; i++)
			json_array_append_new(a, header_match_json(&r->headers[i]));
		json_object_set_new(o, "headers", a);
	}
	if (r->nqueries) {
		json_t *a = json_array();
		for (size_t i = 0; i < r->nqueries; i++)
			json_array_append_new(a, query_match_json(&r->queries[i]));
		json_object_set_new(o, "queryParameters", a);
	}
	if (r->https_redirect) {
		json_object_set_new(o, "httpsRedirect", json_true());
	} else if (r->redirect) {
		const contour_dag_redirect_t *d = r->redirect;
		json_t *m = json_object();
		set_str(m, "scheme", d->scheme);
		set_str(m, "hostname", d->hostname);
		set_str(m, "path", d->path);
		set_str(m, "prefix", d->prefix);
		set_int(m, "port", d->port);
		set_int(m, "statusCode", d->status_code);
		json_object_set_new(o, "redirect", m);
	} else if (r->direct_response) {
		json_t *m =
		    json_pack("{s:I}", "statusCode", (json_int_t)r->direct_response->status_code);
		set_str(m, "body", r->direct_response->body);
		json_object_set_new(o, "directResponse", m);
	}
	if (r->nbackends && !r->https_redirect) {
		json_t *a = json_array();
		for (size_t i = 0; i < r->nbackends; i++)
			json_array_append_new(a, backend_json(&r->backends[i]));
		json_object_set_new(o, "backends", a);
	}
	if (r->nmirrors) {
		json_t *a = json_array();
		for (size_t i = 0; i < r->nmirrors; i++)
			json_array_append_new(a, json_pack("{s:s, s:I}", "cluster",
			                                   r->mirrors[i].cluster->key, "percent",
			                                   (json_int_t)r->mirrors[i].percent));
		json_object_set_new(o, "mirrors", a);
	}
	set_true(o, "websockets", r->websockets);
	set_timeout(o, "timeoutMs", r->timeouts.response_ms);
	set_timeout(o, "idleTimeoutMs", r->timeouts.idle_ms);
	if (r->retry) {
		json_t *m =
		    json_pack("{s:s, s:I}", "retryOn", r->retry->retry_on ? r->retry->retry_on : "",
		              "numRetries", (json_int_t)r->retry->num_retries);
		set_timeout(m, "perTryTimeoutMs", r->retry->per_try_timeout_ms);
		if (r->retry->nretriable_status_codes) {
			json_t *codes = json_array();
			for (size_t i = 0; i < r->retry->nretriable_status_codes; i++)
				json_array_append_new(
				    codes, json_integer(r->retry->retriable_status_codes[i]));
			json_object_set_new(m, "retriableStatusCodes", codes);
		}
		json_object_set_new(o, "retry", m);
	}
	set_new(o, "requestHeaders", header_policy_json(r->request_headers));
	set_new(o, "responseHeaders", header_policy_json(r->response_headers));
	if (r->nprefix_rewrites) {
		json_t *a = json_array();
		for (size_t i = 0; i < r->nprefix_rewrites; i++)
			json_array_append_new(
			    a, json_pack("{s:s, s:s}", "prefix", r->prefix_rewrites[i].prefix,
			                 "replacement", r->prefix_rewrites[i].replacement));
		json_object_set_new(o, "prefixRewrites", a);
	}
	if (r->nhash_policies) {
		json_t *a = json_array();
		for (size_t i = 0; i < r->nhash_policies; i++) {
			const contour_dag_hash_policy_t *p = &r->hash_policies[i];
			json_t *m = json_pack("{s:s}", "type", ENUM_NAME(hash_type_names, p->type));
			set_str(m, "name", p->name);
			set_true(m, "terminal", p->terminal);
			json_array_append_new(a, m);
		}
		json_object_set_new(o, "hashPolicies", a);
	}
	set_new(o, "ipFilter", ip_filter_json(r->ip_filter));
	if (r->origin.kind)
		json_object_set_new(o, "origin",
		                    json_pack("{s:s, s:s, s:s}", "kind", r->origin.kind,
		                              "namespace",
		                              r->origin.namespace_ ? r->origin.namespace_ : "",
		                              "name", r->origin.name ? r->origin.name : ""));
	return o;
}

static json_t *vhost_json(const contour_dag_vhost_t *v)
{
	json_t *routes = json_array();
	for (size_t i = 0; i < v->nroutes; i++)
		json_array_append_new(routes, route_json(v->routes[i]));
	json_t *o = json_pack("{s:s, s:o}", "fqdn", v->fqdn, "routes", routes);
	if (v->cors) {
		const contour_dag_cors_t *c = v->cors;
		json_t *m = json_object();
		set_true(m, "allowCredentials", c->allow_credentials);
		set_true(m, "allowPrivateNetwork", c->allow_private_network);
		json_object_set_new(m, "allowOrigin", strs_json(c->allow_origin, c->nallow_origin));
		json_object_set_new(m, "allowMethods",
		                    strs_json(c->allow_methods, c->nallow_methods));
		json_object_set_new(m, "allowHeaders",
		                    strs_json(c->allow_headers, c->nallow_headers));
		json_object_set_new(m, "exposeHeaders",
		                    strs_json(c->expose_headers, c->nexpose_headers));
		set_str(m, "maxAge", c->max_age);
		json_object_set_new(o, "cors", m);
	}
	set_new(o, "ipFilter", ip_filter_json(v->ip_filter));
	return o;
}

static json_t *secret_ref(const contour_dag_secret_t *s)
{
	return s ? json_sprintf("%s/%s", s->namespace_, s->name) : json_null();
}

static json_t *svhost_json(const contour_dag_svhost_t *s)
{
	json_t *o = vhost_json(&s->vhost);
	if (s->secret)
		json_object_set_new(o, "secret", secret_ref(s->secret));
	set_str(o, "minTLSVersion", s->min_tls_version);
	set_str(o, "maxTLSVersion", s->max_tls_version);
	set_true(o, "passthrough", s->passthrough);
	set_true(o, "fallbackCertificate", s->fallback_certificate);
	const contour_dag_client_validation_t *cv = s->client_validation;
	if (cv) {
		json_t *m = json_object();
		if (cv->ca)
			json_object_set_new(m, "ca", secret_ref(cv->ca));
		if (cv->crl)
			json_object_set_new(m, "crl", secret_ref(cv->crl));
		set_true(m, "skipClientCertValidation", cv->skip_verify);
		set_true(m, "optionalClientCertificate", cv->optional);
		set_true(m, "crlOnlyVerifyLeafCert", cv->crl_only_leaf);
		json_object_set_new(o, "clientValidation", m);
	}
	if (s->tcpproxy) {
		json_t *a = json_array();
		for (size_t i = 0; i < s->tcpproxy->nbackends; i++)
			json_array_append_new(a, backend_json(&s->tcpproxy->backends[i]));
		json_object_set_new(o, "tcpproxy", json_pack("{s:o}", "backends", a));
	}
	return o;
}

static json_t *health_check_json(const contour_dag_health_check_t *h)
{
	json_t *o =
	    json_pack("{s:s, s:I, s:I, s:I, s:I}", "type", h->tcp ? "tcp" : "http", "intervalMs",
	              (json_int_t)h->interval_ms, "timeoutMs", (json_int_t)h->timeout_ms,
	              "unhealthyThreshold", (json_int_t)h->unhealthy_threshold, "healthyThreshold",
	              (json_int_t)h->healthy_threshold);
	set_str(o, "path", h->path);
	set_str(o, "host", h->host);
	return o;
}

static json_t *cluster_json(const contour_dag_cluster_t *c)
{
	const contour_dag_service_t *s = &c->service;
	json_t *svc = json_pack("{s:s, s:s, s:I}", "namespace", s->namespace_, "name", s->name,
	                        "port", (json_int_t)s->port);
	if (s->port_name && *s->port_name)
		json_object_set_new(svc, "portName", json_string(s->port_name));
	set_str(svc, "externalName", s->external_name);
	set_int(svc, "healthPort", s->health_port);
	json_t *o = json_pack("{s:o, s:s}", "service", svc, "lbStrategy",
	                      ENUM_NAME(lb_names, c->lb_strategy));
	if (c->protocol && *c->protocol)
		json_object_set_new(o, "protocol", json_string(c->protocol));
	set_str(o, "sni", c->sni);
	if (c->validation_ca || c->nsubject_names) {
		json_t *v = json_object();
		if (c->validation_ca)
			json_object_set_new(v, "caSecret", secret_ref(c->validation_ca));
		json_object_set_new(v, "subjectNames",
		                    strs_json(c->subject_names, c->nsubject_names));
		json_object_set_new(o, "upstreamValidation", v);
	}
	if (c->health_check)
		json_object_set_new(o, "healthCheck", health_check_json(c->health_check));
	if (c->slow_start)
		json_object_set_new(o, "slowStart",
		                    json_pack("{s:I, s:f, s:I}", "windowMs",
		                              (json_int_t)c->slow_start->window_ms, "aggression",
		                              c->slow_start->aggression, "minWeightPercent",
		                              (json_int_t)c->slow_start->min_weight_percent));
	set_timeout(o, "idleConnectionTimeoutMs", c->idle_connection_timeout_ms);
	const contour_dag_circuit_breakers_t *cb = &c->circuit_breakers;
	if (cb->max_connections || cb->max_pending_requests || cb->max_requests ||
	    cb->max_retries || cb->per_host_max_connections) {
		json_t *m = json_object();
		set_int(m, "maxConnections", cb->max_connections);
		set_int(m, "maxPendingRequests", cb->max_pending_requests);
		set_int(m, "maxRequests", cb->max_requests);
		set_int(m, "maxRetries", cb->max_retries);
		set_int(m, "perHostMaxConnections", cb->per_host_max_connections);
		json_object_set_new(o, "circuitBreakers", m);
	}
	json_object_set_new(o, "key", json_string(c->key));
	return o;
}

json_t *contour_dag_to_json(const contour_dag_t *dag)
{
	json_t *vhosts = json_array(), *svhosts = json_array(), *clusters = json_array(),
	       *secrets = json_array();
	for (size_t i = 0; i < dag->nvhosts; i++)
		json_array_append_new(vhosts, vhost_json(dag->vhosts[i]));
	for (size_t i = 0; i < dag->nsvhosts; i++)
		json_array_append_new(svhosts, svhost_json(dag->svhosts[i]));
	for (size_t i = 0; i < dag->nclusters; i++)
		json_array_append_new(clusters, cluster_json(dag->clusters[i]));
	for (size_t i = 0; i < dag->nsecrets; i++) {
		const contour_dag_secret_t *s = dag->secrets[i];
		json_array_append_new(secrets, json_pack("{s:s, s:s, s:s, s:b}", "namespace",
		                                         s->namespace_, "name", s->name, "type",
		                                         ENUM_NAME(secret_type_names, s->type),
		                                         "hasKey", s->key != NULL));
	}
	return json_pack("{s:{s:s, s:s, s:I, s:o}, s:{s:s, s:s, s:I, s:o}, s:o, s:o}", "http",
	                 "name", dag->http.name, "address", dag->http.address, "port",
	                 (json_int_t)dag->http.port, "virtualhosts", vhosts, "https", "name",
	                 dag->https.name, "address", dag->https.address, "port",
	                 (json_int_t)dag->https.port, "virtualhosts", svhosts, "clusters", clusters,
	                 "secrets", secrets);
}

/* Dot output. */

typedef struct dot_buf {
	char *p;
	size_t len, cap;
	int failed;
} dot_buf_t;

static void dot_add(dot_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void dot_add(dot_buf_t *b, const char *fmt, ...)
{
	va_list ap;
	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if (b->p && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *g = realloc(b->p, cap);
		if (!g) {
			b->failed = 1;
			return;
		}
		b->p = g;
		b->cap = cap;
	}
}

/* The picture (README "Rendering offline"): one node per listener, virtual
 * host, secure virtual host, cluster and secret, as upstream's
 * internal/debug/dot.go draws them, with readable node names instead of
 * upstream's pointers. Routes are edges from a vhost to a cluster,
 * labelled with the match and, when a route splits traffic, each
 * backend's share; objects whose status is not valid are drawn apart, red
 * (invalid) or grey (orphaned), with their errors. */

/* Escape s for the inside of a quoted dot string: quotes and backslashes,
 * a newline as dot's \n line break, other control bytes as spaces. In a
 * record label (record != 0) the field syntax {}|<> and spaces are escaped
 * too, so a name cannot split a field. */
static void dot_esc(dot_buf_t *b, const char *s, int record)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\' || (record && c && strchr("{}|<> ", c)))
			dot_add(b, "\\%c", c);
		else if (c == '\n')
			dot_add(b, "\\n");
		else if (c < 0x20 || c == 0x7f)
			dot_add(b, " ");
		else
			dot_add(b, "%c", c);
	}
}

static void dot_str(dot_buf_t *b, const char *s)
{
	dot_add(b, "\"");
	dot_esc(b, s, 0);
	dot_add(b, "\"");
}

/* Record fields: {a|b|c} with each field escaped. */
static void dot_record(dot_buf_t *b, const char *const *fields, size_t n)
{
	dot_add(b, "\"{");
	for (size_t i = 0; i < n; i++) {
		if (i)
			dot_add(b, "|");
		dot_esc(b, fields[i], 1);
	}
	dot_add(b, "}\"");
}

/* A cluster's node name: cluster/ns/name:port[/protocol], and #N for the
 * second and later clusters to the same Service port (they differ in
 * policy: load balancing, health checks, upstream TLS). */
static char **dot_cluster_ids(const contour_dag_t *dag)
{
	char **ids = calloc(dag->nclusters ? dag->nclusters : 1, sizeof(*ids));
	if (!ids)
		return NULL;
	for (size_t i = 0; i < dag->nclusters; i++) {
		const contour_dag_cluster_t *c = dag->clusters[i];
		dot_buf_t id = {0};
		dot_add(&id, "cluster/%s/%s:%u", c->service.namespace_, c->service.name,
		        c->service.port);
		if (c->protocol && *c->protocol)
			dot_add(&id, "/%s", c->protocol);
		size_t same = 0;
		for (size_t j = 0; j < i && !id.failed; j++)
			if (ids[j] && !strncmp(ids[j], id.p, id.len) &&
			    (ids[j][id.len] == '\0' || ids[j][id.len] == '#'))
				same++;
		if (same)
			dot_add(&id, "#%zu", same + 1);
		ids[i] = id.failed ? NULL : id.p;
		if (!ids[i]) {
			free(id.p);
			for (size_t j = 0; j < i; j++)
				free(ids[j]);
			free(ids);
			return NULL;
		}
	}
	return ids;
}

static int dot_cluster_cmp(const void *k, const void *e)
{
	return strcmp((const char *)k, (*(const contour_dag_cluster_t *const *)e)->key);
}

/* The node name of c, or NULL when it is not in the sealed list. */
static const char *dot_cluster_id(const contour_dag_t *dag, char **ids,
                                  const contour_dag_cluster_t *c)
{
	if (!c)
		return NULL;
	if (c->key) {
		const contour_dag_cluster_t *const *f = bsearch(
		    c->key, dag->clusters, dag->nclusters, sizeof(*dag->clusters), dot_cluster_cmp);
		if (f && *f == c)
			return ids[f - (const contour_dag_cluster_t *const *)dag->clusters];
	}
	for (size_t i = 0; i < dag->nclusters; i++)
		if (dag->clusters[i] == c)
			return ids[i];
	return NULL;
}

static const char *const dot_path_names[] = {
    [CONTOUR_DAG_PATH_PREFIX] = "prefix",
    [CONTOUR_DAG_PATH_EXACT] = "exact",
    [CONTOUR_DAG_PATH_REGEX] = "regex",
    [CONTOUR_DAG_PATH_SEGMENT_PREFIX] = "prefix (segments)",
};

/* A condition in short form: "==", "!=", "contains", "!contains",
 * "present", "absent", "=~", "!~", "^=", "$=", "(i)" for ignore case. */
static void dot_condition(dot_buf_t *l, const char *what, const char *name, const char *value,
                          contour_dag_match_type_t type, int invert, int ignore_case)
{
	static const char *const ops[][2] = {
	    [CONTOUR_DAG_MATCH_EXACT] = {"==", "!="},
	    [CONTOUR_DAG_MATCH_CONTAINS] = {"contains", "!contains"},
	    [CONTOUR_DAG_MATCH_PRESENT] = {"present", "absent"},
	    [CONTOUR_DAG_MATCH_REGEX] = {"=~", "!~"},
	    [CONTOUR_DAG_MATCH_PREFIX] = {"^=", "!^="},
	    [CONTOUR_DAG_MATCH_SUFFIX] = {"$=", "!$="},
	};
	size_t t = (size_t)type < sizeof(ops) / sizeof(*ops) ? (size_t)type : 0;
	dot_add(l, "\n%s %s %s", what, name ? name : "", ops[t][invert ? 1 : 0]);
	if (type != CONTOUR_DAG_MATCH_PRESENT && value)
		dot_add(l, " %s", value);
	if (ignore_case)
		dot_add(l, " (i)");
}

/* The route's match: its path, then one line per header and query
 * condition. */
static void dot_match(dot_buf_t *l, const contour_dag_route_t *r)
{
	size_t t = (size_t)r->path.type < sizeof(dot_path_names) / sizeof(*dot_path_names)
	               ? (size_t)r->path.type
	               : 0;
	dot_add(l, "%s %s", dot_path_names[t], r->path.value ? r->path.value : "/");
	for (size_t i = 0; i < r->nheaders; i++) {
		const contour_dag_header_match_t *h = &r->headers[i];
		dot_condition(l, "header", h->name, h->value, h->type, h->invert, h->ignore_case);
	}
	for (size_t i = 0; i < r->nqueries; i++) {
		const contour_dag_query_match_t *q = &r->queries[i];
		dot_condition(l, "query", q->name, q->value, q->type, 0, q->ignore_case);
	}
}

/* A backend's share of its route, as Envoy applies it: with one backend,
 * nothing (it gets everything); with weights set, "weight W (P%)"; with
 * none set, upstream gives each weight 1: "P% (even split)". */
static void dot_share(dot_buf_t *l, const contour_dag_backend_t *bs, size_t n, size_t i)
{
	if (n < 2)
		return;
	uint64_t total = 0;
	for (size_t j = 0; j < n; j++)
		total += bs[j].weight;
	uint64_t w = total ? bs[i].weight : 1;
	uint64_t t = total ? total : n;
	uint64_t pm = (w * 1000 + t / 2) / t; /* per mille, rounded */
	if (total)
		dot_add(l, "\nweight %u (", bs[i].weight);
	else
		dot_add(l, "\n");
	if (pm % 10)
		dot_add(l, "%llu.%llu%%", (unsigned long long)(pm / 10), (unsigned long long)(pm % 10));
	else
		dot_add(l, "%llu%%", (unsigned long long)(pm / 10));
	dot_add(l, total ? ")" : " (even split)");
}

static void dot_edge(dot_buf_t *b, const char *from, const char *to, const char *label,
                     const char *attrs)
{
	dot_add(b, "  ");
	dot_str(b, from);
	dot_add(b, " -> ");
	dot_str(b, to);
	if (label || attrs) {
		dot_add(b, " [");
		if (label) {
			dot_add(b, "label=");
			dot_str(b, label);
		}
		if (attrs)
			dot_add(b, "%s%s", label ? ", " : "", attrs);
		dot_add(b, "]");
	}
	dot_add(b, ";\n");
}

static void dot_backends(dot_buf_t *b, const contour_dag_t *dag, char **ids, const char *vid,
                         const char *match, const contour_dag_backend_t *bs, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		const char *cid = dot_cluster_id(dag, ids, bs[j].cluster);
		if (!cid)
			continue;
		dot_buf_t l = {0};
		dot_add(&l, "%s", match);
		dot_share(&l, bs, n, j);
		dot_edge(b, vid, cid, l.failed ? match : l.p, NULL);
		b->failed |= l.failed;
		free(l.p);
	}
}

/* A route without a cluster (redirect, direct response) ends in a small
 * node of its own: <vhost>/route N. */
static void dot_action(dot_buf_t *b, const char *vid, size_t i, const char *match,
                       const char *what)
{
	dot_buf_t id = {0};
	dot_add(&id, "%s/route %zu", vid, i + 1);
	if (!id.failed) {
		dot_add(b, "  ");
		dot_str(b, id.p);
		dot_add(b, " [shape=plaintext, label=");
		dot_str(b, what);
		dot_add(b, "];\n");
		dot_edge(b, vid, id.p, match, NULL);
	}
	b->failed |= id.failed;
	free(id.p);
}

static const contour_dag_svhost_t *dot_find_svhost(const contour_dag_t *dag, const char *fqdn)
{
	for (size_t i = 0; i < dag->nsvhosts; i++)
		if (!strcmp(dag->svhosts[i]->vhost.fqdn, fqdn))
			return dag->svhosts[i];
	return NULL;
}

static void dot_routes(dot_buf_t *b, const contour_dag_t *dag, char **ids, const char *vid,
                       const contour_dag_vhost_t *v, int secure)
{
	for (size_t i = 0; i < v->nroutes; i++) {
		const contour_dag_route_t *r = v->routes[i];
		dot_buf_t m = {0};
		dot_match(&m, r);
		if (m.failed) {
			b->failed = 1;
			free(m.p);
			return;
		}
		if (r->https_redirect && !secure) {
			if (dot_find_svhost(dag, v->fqdn)) {
				char to[600];
				snprintf(to, sizeof(to), "https/%s", v->fqdn);
				dot_buf_t l = {0};
				dot_add(&l, "%s\nredirect to https", m.p);
				dot_edge(b, vid, to, l.failed ? m.p : l.p, "style=dashed");
				free(l.p);
			} else {
				dot_action(b, vid, i, m.p, "redirect to https");
			}
		} else if (r->redirect) {
			const contour_dag_redirect_t *rd = r->redirect;
			dot_buf_t w = {0};
			dot_add(&w, "redirect %u", rd->status_code ? rd->status_code : 302);
			if (rd->scheme)
				dot_add(&w, "\nscheme %s", rd->scheme);
			if (rd->hostname)
				dot_add(&w, "\nhost %s", rd->hostname);
			if (rd->port)
				dot_add(&w, "\nport %u", rd->port);
			if (rd->path)
				dot_add(&w, "\npath %s", rd->path);
			if (rd->prefix)
				dot_add(&w, "\nprefix %s", rd->prefix);
			dot_action(b, vid, i, m.p, w.failed ? "redirect" : w.p);
			free(w.p);
		} else if (r->direct_response) {
			char w[64];
			snprintf(w, sizeof(w), "direct response %u", r->direct_response->status_code);
			dot_action(b, vid, i, m.p, w);
		} else {
			dot_backends(b, dag, ids, vid, m.p, r->backends, r->nbackends);
		}
		for (size_t j = 0; j < r->nmirrors; j++) {
			const char *cid = dot_cluster_id(dag, ids, r->mirrors[j].cluster);
			if (!cid)
				continue;
			dot_buf_t l = {0};
			dot_add(&l, "%s\nmirror %u%%", m.p, r->mirrors[j].percent);
			dot_edge(b, vid, cid, l.failed ? m.p : l.p, "style=dashed");
			free(l.p);
		}
		free(m.p);
	}
}

static void dot_node_record(dot_buf_t *b, const char *id, const char *const *fields, size_t n,
                            const char *attrs)
{
	dot_add(b, "  ");
	dot_str(b, id);
	dot_add(b, " [shape=record, label=");
	dot_record(b, fields, n);
	if (attrs)
		dot_add(b, ", %s", attrs);
	dot_add(b, "];\n");
}

static void dot_listener(dot_buf_t *b, const contour_dag_listener_t *l)
{
	char addr[300];
	snprintf(addr, sizeof(addr), "%s:%u", l->address, l->port);
	const char *f[] = {"listener", l->name, addr};
	dot_node_record(b, l->name, f, 3, NULL);
}

/* Objects the processors refused: every recorded status whose
 * currentStatus is set and is not "valid" (HTTPProxy's invalid and
 * orphaned). The label names the object and carries its error messages;
 * the tooltip its description. */
typedef struct dot_rejects {
	dot_buf_t *b;
	int any;
} dot_rejects_t;

static int dot_reject(const contour_object_key_t *key, const json_t *status, void *ud)
{
	dot_rejects_t *rj = ud;
	dot_buf_t *b = rj->b;
	const char *cur = json_string_value(json_object_get(status, "currentStatus"));
	if (!cur || !strcmp(cur, "valid"))
		return 0;
	if (!rj->any)
		dot_add(b, "  subgraph cluster_not_served {\n    label=\"not served\";\n"
		           "    style=dashed;\n");
	rj->any = 1;
	const char *kind = key->kind ? key->kind : "object";
	const char *ns = key->namespace_ && *key->namespace_ ? key->namespace_ : NULL;
	dot_buf_t id = {0}, l = {0};
	dot_add(&id, "%s/%s%s%s", kind, ns ? ns : "", ns ? "/" : "", key->name ? key->name : "");
	dot_add(&l, "%s %s%s%s\n%s", kind, ns ? ns : "", ns ? "/" : "",
	        key->name ? key->name : "", cur);
	size_t nerr = 0;
	size_t i, j;
	json_t *c, *e;
	json_array_foreach(json_object_get(status, "conditions"), i, c)
	{
		json_array_foreach(json_object_get(c, "errors"), j, e)
		{
			const char *msg = json_string_value(json_object_get(e, "message"));
			if (msg && nerr++ < 8)
				dot_add(&l, "\n%s", msg);
		}
	}
	const char *desc = json_string_value(json_object_get(status, "description"));
	if (!nerr && desc)
		dot_add(&l, "\n%s", desc);
	if (nerr > 8)
		dot_add(&l, "\n(%zu more)", nerr - 8);
	if (!id.failed && !l.failed) {
		int invalid = !strcmp(cur, "invalid");
		dot_add(b, "    ");
		dot_str(b, id.p);
		dot_add(b, " [shape=box, style=\"dashed\", color=%s, fontcolor=%s, label=",
		        invalid ? "red" : "gray50", invalid ? "red" : "gray30");
		dot_str(b, l.p);
		if (desc) {
			dot_add(b, ", tooltip=");
			dot_str(b, desc);
		}
		dot_add(b, "];\n");
	}
	b->failed |= id.failed | l.failed;
	free(id.p);
	free(l.p);
	return 0;
}

char *contour_dag_to_dot(const contour_dag_t *dag)
{
	dot_buf_t b = {0};
	dot_add(&b, "digraph DAG {\n  rankdir=LR;\n");
	if (!dag) {
		/* Nothing built yet: a graph with no nodes, still valid dot. */
		dot_add(&b, "}\n");
		if (b.failed) {
			free(b.p);
			return NULL;
		}
		return b.p;
	}
	char **ids = dot_cluster_ids(dag);
	if (!ids) {
		free(b.p);
		return NULL;
	}
	dot_listener(&b, &dag->http);
	dot_listener(&b, &dag->https);
	char vid[600];
	for (size_t i = 0; i < dag->nvhosts; i++) {
		const contour_dag_vhost_t *v = dag->vhosts[i];
		snprintf(vid, sizeof(vid), "http/%s", v->fqdn);
		char url[600];
		snprintf(url, sizeof(url), "http://%s", v->fqdn);
		const char *f[] = {url};
		dot_node_record(&b, vid, f, 1, NULL);
		dot_edge(&b, dag->http.name, vid, NULL, NULL);
		dot_routes(&b, dag, ids, vid, v, 0);
	}
	for (size_t i = 0; i < dag->nsvhosts; i++) {
		const contour_dag_svhost_t *s = dag->svhosts[i];
		snprintf(vid, sizeof(vid), "https/%s", s->vhost.fqdn);
		char url[600];
		snprintf(url, sizeof(url), "https://%s", s->vhost.fqdn);
		const char *f[] = {url, s->passthrough ? "tls passthrough" : "tls"};
		dot_node_record(&b, vid, f, 2, NULL);
		dot_edge(&b, dag->https.name, vid, NULL, NULL);
		if (s->secret) {
			char sid[600];
			snprintf(sid, sizeof(sid), "secret/%s/%s", s->secret->namespace_,
			         s->secret->name);
			dot_edge(&b, vid, sid, NULL, NULL);
		}
		dot_routes(&b, dag, ids, vid, &s->vhost, 1);
		if (s->tcpproxy)
			for (size_t j = 0; j < s->tcpproxy->nbackends; j++) {
				const char *cid = dot_cluster_id(dag, ids, s->tcpproxy->backends[j].cluster);
				if (!cid)
					continue;
				dot_buf_t l = {0};
				dot_add(&l, "tcp");
				dot_share(&l, s->tcpproxy->backends, s->tcpproxy->nbackends, j);
				dot_edge(&b, vid, cid, l.failed ? "tcp" : l.p, NULL);
				free(l.p);
			}
	}
	for (size_t i = 0; i < dag->nclusters; i++) {
		const contour_dag_cluster_t *c = dag->clusters[i];
		char svc[600];
		snprintf(svc, sizeof(svc), "%s/%s:%u", c->service.namespace_, c->service.name,
		         c->service.port);
		const char *f[4] = {"cluster", svc};
		size_t n = 2;
		if (c->protocol && *c->protocol)
			f[n++] = c->protocol;
		if (c->service.external_name)
			f[n++] = c->service.external_name;
		dot_node_record(&b, ids[i], f, n, NULL);
	}
	for (size_t i = 0; i < dag->nsecrets; i++) {
		char sid[620], nn[600];
		snprintf(nn, sizeof(nn), "%s/%s", dag->secrets[i]->namespace_, dag->secrets[i]->name);
		snprintf(sid, sizeof(sid), "secret/%s", nn);
		const char *f[] = {"secret", nn};
		dot_node_record(&b, sid, f, 2, NULL);
	}
	if (dag->priv && dag->priv->snap) {
		dot_rejects_t rj = {.b = &b};
		contour_snapshot_foreach_status(dag->priv->snap, dot_reject, &rj);
		if (rj.any)
			dot_add(&b, "  }\n");
	}
	dot_add(&b, "}\n");
	for (size_t i = 0; i < dag->nclusters; i++)
		free(ids[i]);
	free(ids);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
