/* modules/httpproxy/hp_proxy.c: the HTTPProxy processor, one run per build.
 *
 * Follows upstream's HTTPProxyProcessor.Run (internal/dag/
 * httpproxy_processor.go): class filtering, duplicate FQDNs, then every
 * child (which is only marked orphaned) before every root, then the
 * orphans that no valid root reached. Statuses are committed with
 * upstream's status-cache rule (hp_proc.h) and published on the snapshot;
 * the contour_httpproxy* gauges are recomputed from them.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/httpproxy/hp_proc.h"

/* ---- small helpers shared by the processor's files ---- */

const char *hp_opt_str(contour_dag_t *dag, const json_t *obj, const char *key, int *nomem)
{
	const char *s = contour_json_get_str(obj, key);
	if (!*s)
		return NULL;
	const char *c = contour_dag_strdup(dag, s);
	if (!c)
		*nomem = 1;
	return c;
}

int hp_blank(const char *s)
{
	for (; s && *s; s++)
		if (!isspace((unsigned char)*s))
			return 0;
	return 1;
}

void hp_split_name(const char *s, const char *def_ns, char *ns, size_t nslen, char *name,
                   size_t namelen)
{
	const char *slash = strchr(s, '/');
	if (!slash) {
		snprintf(ns, nslen, "%s", def_ns);
		snprintf(name, namelen, "%s", s);
		return;
	}
	snprintf(ns, nslen, "%.*s", (int)(slash - s), s);
	snprintf(name, namelen, "%s", slash + 1);
	/* DefaultNamespace only fills an empty namespace ("/name"). */
	if (!*ns)
		snprintf(ns, nslen, "%s", def_ns);
}

void hp_ignored(hp_status_t *st, const char *field)
{
	hp_status_warning(st, "SpecError", "IgnoredField",
	                  "ignoring field %s; not supported by this implementation", field);
}

int hp_routes_push(hp_build_t *b, hp_routes_t *r, contour_dag_route_t *route)
{
	if (contour_dag_ptr_push(b->dag, &r->v, &r->n, route) != CONTOUR_EOK) {
		b->nomem = 1;
		return -1;
	}
	return 0;
}

const char *hp_visit_path(hp_build_t *b, const hp_visit_t *v, const hp_proxy_t *last)
{
	size_t n = 0, len = 1;
	for (const hp_visit_t *p = v; p; p = p->up) {
		n++;
		len += strlen(p->px->ns) + strlen(p->px->name) + 5;
	}
	if (last)
		len += strlen(last->ns) + strlen(last->name) + 5;
	const hp_proxy_t **chain = calloc(n + 1, sizeof(*chain));
	char *out = calloc(1, len);
	if (!chain || !out) {
		free(chain);
		free(out);
		b->nomem = 1;
		return "";
	}
	size_t i = n;
	for (const hp_visit_t *p = v; p; p = p->up)
		chain[--i] = p->px;
	if (last)
		chain[n++] = last;
	size_t o = 0;
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s/%s", i ? " -> " : "", chain[i]->ns,
		                      chain[i]->name);
	const char *res = contour_dag_strdup(b->dag, out);
	free(chain);
	free(out);
	if (!res)
		b->nomem = 1;
	return res ? res : "";
}

/* ---- the proxy table ---- */

static int hp_cmp_key(const char *ns, const char *name, const hp_proxy_t *px)
{
	int c = strcmp(ns, px->ns);
	return c ? c : strcmp(name, px->name);
}

hp_proxy_t *hp_build_find(hp_build_t *b, const char *ns, const char *name)
{
	size_t lo = 0, hi = b->nproxies;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = hp_cmp_key(ns, name, &b->proxies[mid]);
		if (!c)
			return &b->proxies[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

hp_status_t *hp_build_accessor(hp_build_t *b, const hp_proxy_t *px)
{
	hp_status_t *st = hp_status_new(px->obj);
	if (!st)
		b->nomem = 1;
	return st;
}

void hp_build_commit(hp_build_t *b, hp_proxy_t *px, hp_status_t *st)
{
	(void)b;
	if (!st)
		return;
	/* A later visit that found nothing wrong never hides an earlier error. */
	if (px->st && hp_status_nerrors(px->st) > 0 && hp_status_nerrors(st) == 0) {
		hp_status_free(st);
		return;
	}
	hp_status_free(px->st);
	px->st = st;
}

int hp_build_add(hp_build_t *b, const json_t *obj)
{
	const json_t *meta = contour_json_get_obj(obj, "metadata");
	if (b->nproxies == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		hp_proxy_t *grown = realloc(b->proxies, cap * sizeof(*grown));
		if (!grown) {
			b->nomem = 1;
			return -1;
		}
		b->proxies = grown;
		b->cap = cap;
	}
	hp_proxy_t *px = &b->proxies[b->nproxies++];
	memset(px, 0, sizeof(*px));
	px->obj = obj;
	px->spec = contour_json_get_obj(obj, "spec");
	px->ns = contour_json_get_str(meta, "namespace");
	px->name = contour_json_get_str(meta, "name");
	return 0;
}

static int hp_collect(const json_t *obj, void *ud)
{
	hp_build_t *b = ud;
	/* Upstream drops other classes' proxies from its cache: no status. */
	if (!contour_ingress_class_matches(b->mod, obj))
		return 0;
	return hp_build_add(b, obj) != 0;
}

/* ---- roots ---- */

static int hp_root_allowed(const httpproxy_ctx_t *ctx, const char *ns)
{
	const json_t *roots = ctx->settings.root_namespaces;
	if (json_array_size(roots) == 0)
		return 1;
	size_t i;
	const json_t *r;
	json_array_foreach(roots, i, r)
	{
		if (!strcmp(json_string_value(r), ns))
			return 1;
	}
	return 0;
}

/* Routes carry https_redirect as the HTTP listener serves them. */
static int hp_add_routes(hp_build_t *b, contour_dag_vhost_t *vh, const hp_routes_t *routes)
{
	for (size_t i = 0; i < routes->n; i++) {
		if (contour_dag_add_route(b->dag, vh, routes->v[i]) != CONTOUR_EOK) {
			b->nomem = 1;
			return -1;
		}
	}
	return 0;
}

/* The route as the HTTPS listener serves it: never a redirect to itself. */
static int hp_add_secure_routes(hp_build_t *b, contour_dag_vhost_t *vh, const hp_routes_t *routes)
{
	for (size_t i = 0; i < routes->n; i++) {
		contour_dag_route_t *r = routes->v[i];
		if (r->https_redirect) {
			contour_dag_route_t *copy = contour_dag_route_copy(b->dag, r);
			if (!copy) {
				b->nomem = 1;
				return -1;
			}
			copy->https_redirect = 0;
			r = copy;
		}
		if (contour_dag_add_route(b->dag, vh, r) != CONTOUR_EOK) {
			b->nomem = 1;
			return -1;
		}
	}
	return 0;
}

/* upstream's computeHTTPProxy: everything about one proxy that is visited as
 * a root candidate (children are only marked orphaned here). */
/* out[i]: o's member names[i], or NULL, found in one walk of o: most of
 * the members a root or route reads are absent, and a hashed json_object_get for
 * each cost more than the walk (a JSON object has each name at most once,
 * so this finds what json_object_get would). */
void hp_members(const json_t *o, const char *const *names, size_t n, const json_t **out)
{
	const char *k;
	json_t *v;
	memset(out, 0, n * sizeof(*out));
	json_object_foreach((json_t *)o, k, v)
	{
		for (size_t i = 0; i < n; i++) {
			if (names[i][0] == k[0] && !strcmp(names[i], k)) {
				out[i] = v;
				break;
			}
		}
	}
}

enum { HP_SP_VHOST, HP_SP_TCPPROXY, HP_SP_ROUTES, HP_SP_INCLUDES, HP_SP_N };
static const char *const hp_spec_members[HP_SP_N] = {"virtualhost", "tcpproxy", "routes",
                                                     "includes"};
enum {
	HP_VH_FQDN,
	HP_VH_TLS,
	HP_VH_JWT,
	HP_VH_AUTH,
	HP_VH_ALLOW,
	HP_VH_DENY,
	HP_VH_CORS,
	HP_VH_RATELIMIT,
	HP_VH_N
};
static const char *const hp_vhost_members[HP_VH_N] = {
    "fqdn",          "tls",          "jwtProviders", "authorization",
    "ipAllowPolicy", "ipDenyPolicy", "corsPolicy",   "rateLimitPolicy"};

/* hp_obj, hp_arr and hp_str on a member already found. */
void hp_build_root(hp_build_t *b, hp_proxy_t *px)
{
	hp_status_t *st = hp_build_accessor(b, px);
	if (!st)
		return;
	const json_t *spec = px->spec, *sm[HP_SP_N], *vm[HP_VH_N];
	hp_members(spec, hp_spec_members, HP_SP_N, sm);
	const json_t *vh = contour_json_as_obj(sm[HP_SP_VHOST]);
	if (!vh) {
		px->orphaned = 1;
		goto done;
	}
	hp_members(vh, hp_vhost_members, HP_VH_N, vm);
	const char *host = contour_json_as_str(vm[HP_VH_FQDN]);
	if (hp_blank(host)) {
		hp_status_error(st, "VirtualHostError", "FQDNNotSpecified",
		                "Spec.VirtualHost.Fqdn must be specified");
		goto done;
	}
	hp_status_set_vhost(st, host);

	if (!hp_root_allowed(b->ctx, px->ns)) {
		hp_status_error(st, "RootNamespaceError", "RootProxyNotAllowedInNamespace",
		                "root HTTPProxy cannot be defined in this namespace");
		goto done;
	}
	const json_t *tcpproxy = contour_json_as_obj(sm[HP_SP_TCPPROXY]);
	if (json_array_size(contour_json_as_arr(sm[HP_SP_ROUTES])) == 0 &&
	    json_array_size(contour_json_as_arr(sm[HP_SP_INCLUDES])) == 0 && !tcpproxy) {
		hp_status_error(
		    st, "SpecError", "NothingDefined",
		    "HTTPProxy.Spec must have at least one Route, Include, or a TCPProxy");
		goto done;
	}
	const json_t *tls = contour_json_as_obj(vm[HP_VH_TLS]);
	if (json_array_size(contour_json_as_arr(vm[HP_VH_JWT])) > 0 &&
	    (!tls || !*contour_json_get_str(tls, "secretName"))) {
		hp_status_error(
		    st, "JWTVerificationError", "JWTVerificationNotPermitted",
		    "Spec.VirtualHost.JWTProviders can only be defined for root HTTPProxies that "
		    "terminate TLS");
		goto done;
	}
	if (!tls && *contour_json_get_str(
	                contour_json_get_obj(contour_json_as_obj(vm[HP_VH_AUTH]), "extensionRef"),
	                "name")) {
		hp_status_error(st, "AuthError", "AuthNotPermitted",
		                "Spec.VirtualHost.Authorization.ExtensionServiceRef can only be "
		                "defined for root HTTPProxies that terminate TLS");
		goto done;
	}
	const json_t *allow = contour_json_as_arr(vm[HP_VH_ALLOW]),
	             *deny = contour_json_as_arr(vm[HP_VH_DENY]);
	if (json_array_size(allow) > 0 && json_array_size(deny) > 0) {
		hp_status_error(st, "IPFilterError", "IncompatibleIPAddressFilters",
		                "Spec.VirtualHost.IPAllowFilterPolicy and "
		                "Spec.VirtualHost.IPDepnyFilterPolicy cannot both be defined.");
		goto done;
	}

	int tls_enabled = 0;
	if (hp_tls_vhost(b, st, px, host, &tls_enabled) != 0)
		goto done;

	if (tcpproxy) {
		if (!tls_enabled) {
			hp_status_error(
			    st, "TCPProxyError", "TLSMustBeConfigured",
			    "Spec.TCPProxy requires that either Spec.TLS.Passthrough or "
			    "Spec.TLS.SecretName be set");
			goto done;
		}
		if (hp_tcpproxy(b, st, px, NULL, host, contour_json_get_bool(tls, "passthrough")) !=
		    0)
			goto done;
	}

	hp_routes_t routes = {0};
	if (hp_compute_routes(b, st, px, px, NULL, NULL, tls_enabled, &routes) != 0)
		routes.n = 0;

	contour_dag_vhost_t *insecure = contour_dag_vhost(b->dag, host);
	if (!insecure) {
		b->nomem = 1;
		goto done;
	}
	contour_dag_cors_t *cors = NULL;
	if (hp_policy_cors(b->dag, vm[HP_VH_CORS], &cors, st) != 0)
		goto done;
	insecure->cors = cors;
	if (vm[HP_VH_RATELIMIT])
		hp_ignored(st, "\"Spec.VirtualHost.RateLimitPolicy\"");
	contour_dag_ip_filter_t *filter = NULL;
	if (hp_policy_ip_filter(b->dag, allow, deny, 0, &filter, st) != 0)
		goto done;
	insecure->ip_filter = filter;
	if (hp_add_routes(b, insecure, &routes) != 0)
		goto done;

	if (tls_enabled && !tcpproxy) {
		contour_dag_svhost_t *secure = contour_dag_svhost(b->dag, host);
		if (!secure) {
			b->nomem = 1;
			goto done;
		}
		secure->vhost.cors = cors;
		secure->vhost.ip_filter = filter;
		hp_add_secure_routes(b, &secure->vhost, &routes);
	}
done:
	hp_build_commit(b, px, st);
}

/* ---- duplicate FQDNs (upstream's validHTTPProxies) ---- */

typedef struct hp_rootref {
	hp_proxy_t *px;
	char *fqdn; /* lower case */
} hp_rootref_t;

static int hp_rootref_cmp(const void *a, const void *b)
{
	const hp_rootref_t *x = a, *y = b;
	int c = strcmp(x->fqdn, y->fqdn);
	if (c)
		return c;
	c = strcmp(x->px->ns, y->px->ns);
	return c ? c : strcmp(x->px->name, y->px->name);
}

static void hp_duplicate(hp_build_t *b, hp_rootref_t *group, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(group[i].px->ns) + strlen(group[i].px->name) + 3;
	char *list = calloc(1, len);
	if (!list) {
		b->nomem = 1;
		return;
	}
	size_t o = 0;
	/* Sorted by ns then name, as "ns/name" strings sort (names have no '/'). */
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(list + o, len - o, "%s%s/%s", i ? ", " : "", group[i].px->ns,
		                      group[i].px->name);
	char q[600];
	contour_quote(q, sizeof(q), group[0].fqdn, CONTOUR_QUOTE_STRCONV);
	for (size_t i = 0; i < n; i++) {
		hp_status_t *st = hp_build_accessor(b, group[i].px);
		if (!st)
			break;
		hp_status_set_vhost(st, group[i].fqdn);
		hp_status_error(st, "VirtualHostError", "DuplicateVhost",
		                "fqdn %s is used in multiple HTTPProxies: %s", q, list);
		hp_build_commit(b, group[i].px, st);
	}
	free(list);
}

static void hp_run(hp_build_t *b)
{
	hp_rootref_t *roots = calloc(b->nproxies + 1, sizeof(*roots));
	size_t nroots = 0;
	if (!roots) {
		b->nomem = 1;
		return;
	}
	/* Children first: they are only marked orphaned, and a root that
	 * includes one later clears the mark. */
	for (size_t i = 0; i < b->nproxies; i++) {
		hp_proxy_t *px = &b->proxies[i];
		const json_t *vh = contour_json_get_obj(px->spec, "virtualhost");
		if (!vh) {
			hp_build_root(b, px);
			continue;
		}
		char *low = strdup(contour_json_get_str(vh, "fqdn"));
		if (!low) {
			b->nomem = 1;
			break;
		}
		for (char *c = low; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		roots[nroots++] = (hp_rootref_t){px, low};
	}
	qsort(roots, nroots, sizeof(*roots), hp_rootref_cmp);
	for (size_t i = 0; i < nroots && !b->nomem;) {
		size_t j = i + 1;
		while (j < nroots && !strcmp(roots[j].fqdn, roots[i].fqdn))
			j++;
		if (j - i == 1)
			hp_build_root(b, roots[i].px);
		else
			hp_duplicate(b, &roots[i], j - i);
		i = j;
	}
	for (size_t i = 0; i < nroots; i++)
		free(roots[i].fqdn);
	free(roots);

	for (size_t i = 0; i < b->nproxies && !b->nomem; i++) {
		hp_proxy_t *px = &b->proxies[i];
		if (!px->orphaned)
			continue;
		hp_status_t *st = hp_build_accessor(b, px);
		if (!st)
			break;
		hp_status_error(
		    st, "Orphaned", "Orphaned",
		    "this HTTPProxy is not part of a delegation chain from a root HTTPProxy");
		hp_build_commit(b, px, st);
	}
}

/* ---- metrics (upstream's calculateRouteMetric + SetHTTPProxyMetric) ---- */

static void hp_metrics(hp_build_t *b)
{
	httpproxy_ctx_t *ctx = b->ctx;
	contour_metric_reset(ctx->m_total);
	contour_metric_reset(ctx->m_root);
	contour_metric_reset(ctx->m_valid);
	contour_metric_reset(ctx->m_invalid);
	contour_metric_reset(ctx->m_orphaned);
	/* Roots are counted per (namespace, vhost) but published per namespace
	 * with Set, so upstream's gauge shows one vhost's count: the last one
	 * (here, in vhost order). The proxies are sorted by namespace, so each
	 * namespace is one run: track its greatest vhost and how many roots
	 * serve it. */
	for (size_t i = 0; i < b->nproxies;) {
		const char *ns = b->proxies[i].ns;
		const char *last = NULL;
		size_t nlast = 0, j = i;
		for (; j < b->nproxies && !strcmp(b->proxies[j].ns, ns); j++) {
			const hp_proxy_t *px = &b->proxies[j];
			if (!px->st)
				continue;
			const char *vhost = hp_status_vhost(px->st);
			vhost = vhost ? vhost : "";
			const char *ns_only[] = {px->ns};
			const char *ns_vhost[] = {px->ns, vhost};
			if (hp_status_nerrors(px->st) == 0)
				contour_metric_add(ctx->m_valid, ns_vhost, 1);
			else if (px->orphaned) /* its last commit was the Orphaned error */
				contour_metric_add(ctx->m_orphaned, ns_only, 1);
			else
				contour_metric_add(ctx->m_invalid, ns_vhost, 1);
			contour_metric_add(ctx->m_total, ns_only, 1);
			if (!*vhost)
				continue;
			int c = last ? strcmp(vhost, last) : 1;
			if (c > 0) {
				last = vhost;
				nlast = 1;
			} else if (c == 0) {
				nlast++;
			}
		}
		const char *labels[] = {ns};
		if (last)
			contour_metric_set(ctx->m_root, labels, (double)nlast);
		i = j;
	}
}

static void hp_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int hp_process(contour_snapshot_t *building, void *ud)
{
	httpproxy_ctx_t *ctx = ud;
	hp_build_t b = {.ctx = ctx, .mod = ctx->mod, .dag = contour_snapshot_dag(building)};
	int rc = CONTOUR_EOK;

	contour_store_foreach(ctx->mod, HP_API_VERSION, HP_KIND, hp_collect, &b);
	if (!b.nomem)
		hp_run(&b);
	if (b.nomem) {
		rc = CONTOUR_ENOMEM;
		goto out;
	}

	char now[32];
	hp_now(now, sizeof(now));
	for (size_t i = 0; i < b.nproxies; i++) {
		hp_proxy_t *px = &b.proxies[i];
		if (!px->st)
			continue;
		contour_object_key_t key = {.api_version = HP_API_VERSION,
		                            .kind = HP_KIND,
		                            .namespace_ = px->ns,
		                            .name = px->name};
		json_t *status = hp_status_to_json(px->st, now);
		if (!status ||
		    contour_snapshot_set_status_new(building, &key, status) != CONTOUR_EOK) {
			rc = CONTOUR_ENOMEM;
			goto out;
		}
	}
	hp_metrics(&b);
out:
	for (size_t i = 0; i < b.nproxies; i++)
		hp_status_free(b.proxies[i].st);
	free(b.proxies);
	return rc;
}
