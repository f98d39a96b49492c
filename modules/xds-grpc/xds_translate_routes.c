/* modules/xds-grpc/xds_translate_routes.c: RDS. `ingress_http` (always,
 * even empty) with every plain virtual host, `https/<fqdn>` per secure
 * virtual host, and `ingress_fallbackcert` with the secure virtual hosts
 * that enable the fallback certificate. Routes in upstream's order
 * (internal/sorter: exact, then regex and prefix longest first, then
 * method, header and query conditions). */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contour/error.h>
#include "modules/xds-grpc/xds_translate.h"

#define XDS_EXT_AUTHZ "envoy.filters.http.ext_authz"

/* Go's sort.Stable with a Less function: a merge sort on pointers. */
static void xds_msort(const void **v, const void **tmp, size_t n,
                      int (*less)(const void *, const void *))
{
	if (n < 2)
		return;
	size_t h = n / 2;
	xds_msort(v, tmp, h, less);
	xds_msort(v + h, tmp, n - h, less);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = less(v[j], v[i]) ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

static int xds_stable_sort(const void **v, size_t n, int (*less)(const void *, const void *))
{
	const void *stack[64];
	if (n < 2)
		return 0;
	const void **tmp = n <= 64 ? stack : malloc(n * sizeof(*tmp));
	if (!tmp)
		return -1;
	xds_msort(v, tmp, n, less);
	if (tmp != stack)
		free(tmp);
	return 0;
}

static int xds_header_rank(const contour_dag_header_match_t *h)
{
	switch (h->type) {
	case CONTOUR_DAG_MATCH_EXACT:
		return 0;
	case CONTOUR_DAG_MATCH_REGEX:
		return 1;
	case CONTOUR_DAG_MATCH_CONTAINS:
		return 2;
	default:
		return 3;
	}
}

static int xds_header_less(const void *pa, const void *pb)
{
	const contour_dag_header_match_t *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);
	if (c)
		return c < 0;
	int ra = xds_header_rank(a), rb = xds_header_rank(b);
	if (ra != rb)
		return ra < rb;
	if (ra != 3) {
		c = strcmp(a->value ? a->value : "", b->value ? b->value : "");
		if (c)
			return c < 0;
	}
	return a->invert != b->invert ? !a->invert : 0;
}

static int xds_query_rank(const contour_dag_query_match_t *q)
{
	switch (q->type) {
	case CONTOUR_DAG_MATCH_EXACT:
		return 0;
	case CONTOUR_DAG_MATCH_REGEX:
		return 1;
	case CONTOUR_DAG_MATCH_PREFIX:
		return 2;
	case CONTOUR_DAG_MATCH_SUFFIX:
		return 3;
	case CONTOUR_DAG_MATCH_CONTAINS:
		return 4;
	default:
		return 5;
	}
}

static int xds_query_less(const void *pa, const void *pb)
{
	const contour_dag_query_match_t *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);
	if (c)
		return c < 0;
	int ra = xds_query_rank(a), rb = xds_query_rank(b);
	if (ra != rb)
		return ra < rb;
	if (ra == 5)
		return 0;
	c = strcmp(a->value ? a->value : "", b->value ? b->value : "");
	if (c)
		return c < 0;
	return a->ignore_case != b->ignore_case ? !a->ignore_case : 0;
}

/* Sort both lists, then whether an item of a sorts before b's at the same
 * place (upstream's loop over the shorter list). */
static int xds_sorted_less(const void **a, size_t na, const void **b, size_t nb,
                           int (*less)(const void *, const void *))
{
	xds_stable_sort(a, na, less);
	xds_stable_sort(b, nb, less);
	for (size_t i = 0; i < na && i < nb; i++)
		if (less(a[i], b[i]))
			return 1;
	return 0;
}

/* upstream's compareRoutesByMethodHeaderQueryParams */
static int xds_route_cond_less(const contour_dag_route_t *a, const contour_dag_route_t *b)
{
	int am = 0, bm = 0;
	size_t ah = 0, bh = 0;
	for (size_t i = 0; i < a->nheaders; i++)
		a->headers[i].name && !strcmp(a->headers[i].name, ":method") ? am = 1 : ah++;
	for (size_t i = 0; i < b->nheaders; i++)
		b->headers[i].name && !strcmp(b->headers[i].name, ":method") ? bm = 1 : bh++;
	if (am != bm)
		return am;
	if (ah != bh)
		return ah > bh;
	if (a->nqueries != b->nqueries)
		return a->nqueries > b->nqueries;
	/* item by item over the non-method headers (unsorted copies are
	 * compared the way upstream does after its per-route sort) */
	const contour_dag_header_match_t *ha[64], *hb[64];
	size_t na = 0, nb = 0;
	for (size_t i = 0; i < a->nheaders && na < 64; i++)
		if (strcmp(a->headers[i].name, ":method"))
			ha[na++] = &a->headers[i];
	for (size_t i = 0; i < b->nheaders && nb < 64; i++)
		if (strcmp(b->headers[i].name, ":method"))
			hb[nb++] = &b->headers[i];
	if (xds_sorted_less((const void **)ha, na, (const void **)hb, nb, xds_header_less))
		return 1;
	const contour_dag_query_match_t *qa[64], *qb[64];
	size_t nqa = 0, nqb = 0;
	for (size_t i = 0; i < a->nqueries && nqa < 64; i++)
		qa[nqa++] = &a->queries[i];
	for (size_t i = 0; i < b->nqueries && nqb < 64; i++)
		qb[nqb++] = &b->queries[i];
	return xds_sorted_less((const void **)qa, nqa, (const void **)qb, nqb, xds_query_less);
}

static int xds_is_prefix(contour_dag_path_type_t t)
{
	return t == CONTOUR_DAG_PATH_PREFIX || t == CONTOUR_DAG_PATH_SEGMENT_PREFIX;
}

/* upstream's routeSorter.Less */
static int xds_route_less(const void *pa, const void *pb)
{
	const contour_dag_route_t *a = pa, *b = pb;
	const char *av = a->path.value ? a->path.value : "",
	           *bv = b->path.value ? b->path.value : "";
	size_t al = strlen(av), bl = strlen(bv);
	int c;
	switch (a->path.type) {
	case CONTOUR_DAG_PATH_PREFIX:
	case CONTOUR_DAG_PATH_SEGMENT_PREFIX:
		if (!xds_is_prefix(b->path.type))
			return 0;
		if (al != bl)
			return al > bl;
		c = strcmp(av, bv);
		if (c)
			return c > 0;
		if (a->path.type == b->path.type)
			return xds_route_cond_less(a, b);
		return a->path.type == CONTOUR_DAG_PATH_SEGMENT_PREFIX;
	case CONTOUR_DAG_PATH_REGEX:
		if (xds_is_prefix(b->path.type))
			return 1;
		if (b->path.type != CONTOUR_DAG_PATH_REGEX)
			return 0;
		if (al != bl)
			return al > bl;
		c = strcmp(av, bv);
		return c ? c > 0 : xds_route_cond_less(a, b);
	case CONTOUR_DAG_PATH_EXACT:
		if (b->path.type != CONTOUR_DAG_PATH_EXACT)
			return 1;
		c = strcmp(av, bv);
		return c ? c > 0 : xds_route_cond_less(a, b);
	}
	return 0;
}

static void xds_route_match(xpb_t *w, const contour_dag_route_t *r)
{
	size_t m = xpb_begin(w, 1);
	const char *v = r->path.value ? r->path.value : "/";
	switch (r->path.type) {
	case CONTOUR_DAG_PATH_EXACT:
		xpb_str_always(w, 2, v);
		break;
	case CONTOUR_DAG_PATH_REGEX: {
		char *re = malloc(strlen(v) + 2);
		size_t rx = xpb_begin(w, 10);
		if (re) {
			re[0] = '^';
			strcpy(re + 1, v);
			xpb_str(w, 2, re);
			free(re);
		} else {
			w->oom = 1;
		}
		xpb_end(w, rx);
		break;
	}
	case CONTOUR_DAG_PATH_SEGMENT_PREFIX: {
		/* path_separated_prefix takes no trailing slash */
		size_t n = strlen(v);
		while (n > 0 && v[n - 1] == '/')
			n--;
		if (n)
			xpb_bytes_always(w, 14, v, n);
		else
			xpb_str_always(w, 1, "/"); /* "/" is every path: a plain prefix */
		break;
	}
	default:
		xpb_str_always(w, 1, v);
		break;
	}
	const contour_dag_header_match_t *hs[64];
	size_t nh = 0;
	for (size_t i = 0; i < r->nheaders && nh < 64; i++)
		hs[nh++] = &r->headers[i];
	xds_stable_sort((const void **)hs, nh, xds_header_less);
	for (size_t i = 0; i < nh; i++) {
		const contour_dag_header_match_t *h = hs[i];
		size_t hm = xpb_begin(w, 6);
		xpb_str(w, 1, h->name);
		if (h->type == CONTOUR_DAG_MATCH_PRESENT)
			xpb_uint_always(w, 7, 1);
		xpb_bool(w, 8, h->invert);
		if (h->type != CONTOUR_DAG_MATCH_PRESENT)
			xds_pb_string_matcher(w, 13, h->type, h->value,
			                      h->type == CONTOUR_DAG_MATCH_REGEX ? 0
			                                                         : h->ignore_case);
		xpb_bool(w, 14, h->invert && h->treat_missing_as_empty);
		xpb_end(w, hm);
	}
	const contour_dag_query_match_t *qs[64];
	size_t nq = 0;
	for (size_t i = 0; i < r->nqueries && nq < 64; i++)
		qs[nq++] = &r->queries[i];
	xds_stable_sort((const void **)qs, nq, xds_query_less);
	for (size_t i = 0; i < nq; i++) {
		const contour_dag_query_match_t *q = qs[i];
		size_t qm = xpb_begin(w, 7);
		xpb_str(w, 1, q->name);
		if (q->type == CONTOUR_DAG_MATCH_PRESENT)
			xpb_uint_always(w, 6, 1);
		else
			xds_pb_string_matcher(w, 5, q->type, q->value,
			                      q->type == CONTOUR_DAG_MATCH_REGEX ? 0
			                                                         : q->ignore_case);
		xpb_end(w, qm);
	}
	xpb_end(w, m);
}

static int xds_str_less(const void *a, const void *b)
{
	return strcmp(((const contour_dag_header_value_t *)a)->name,
	              ((const contour_dag_header_value_t *)b)->name) < 0;
}

/* headers_to_add: OVERWRITE_IF_EXISTS_OR_ADD, sorted by key. */
static void xds_header_adds(xpb_t *w, uint32_t field, const contour_dag_header_policy_t *p)
{
	if (!p)
		return;
	const contour_dag_header_value_t *hv[128];
	size_t n = 0;
	for (size_t i = 0; i < p->nset && n < 128; i++)
		hv[n++] = &p->set[i];
	xds_stable_sort((const void **)hv, n, xds_str_less);
	for (size_t i = 0; i < n; i++)
		xds_pb_header_value_option(w, field, hv[i]->name, hv[i]->value, 2);
}

static void xds_header_removes(xpb_t *w, uint32_t field, const contour_dag_header_policy_t *p)
{
	for (size_t i = 0; p && i < p->nremove; i++)
		xpb_str_always(w, field, p->remove[i]);
}

static int xds_policy_empty(const contour_dag_header_policy_t *p)
{
	return !p || (!p->nset && !p->nremove && !p->host_rewrite && !p->host_rewrite_header);
}

static void xds_timeout(xpb_t *w, uint32_t field, int64_t ms)
{
	if (ms == CONTOUR_DAG_TIMEOUT_DEFAULT)
		return;
	xpb_duration_ms(w, field, ms < 0 ? 0 : ms);
}

typedef struct xds_wc {
	const char *name;
	uint32_t weight;
	const contour_dag_backend_t *be;
} xds_wc_t;

static int xds_wc_less(const void *pa, const void *pb)
{
	const xds_wc_t *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);
	return c ? c < 0 : a->weight < b->weight;
}

static void xds_weighted_clusters(xds_build_t *b, xpb_t *w, const contour_dag_route_t *r)
{
	xds_wc_t *wc = calloc(r->nbackends, sizeof(*wc));
	const void **order = calloc(r->nbackends, sizeof(*order));
	uint32_t total = 0;
	if (!wc || !order) {
		w->oom = 1;
		goto out;
	}
	for (size_t i = 0; i < r->nbackends; i++) {
		const char *name = xds_cluster_name(b, r->backends[i].cluster);
		wc[i] = (xds_wc_t){name ? name : "", r->backends[i].weight, &r->backends[i]};
		total += r->backends[i].weight;
		order[i] = &wc[i];
	}
	for (size_t i = 0; total == 0 && i < r->nbackends; i++)
		wc[i].weight = 1;
	xds_stable_sort(order, r->nbackends, xds_wc_less);
	size_t m = xpb_begin(w, 3);
	for (size_t i = 0; i < r->nbackends; i++) {
		const xds_wc_t *c = order[i];
		const contour_dag_header_policy_t *rq = c->be->request_headers;
		const contour_dag_header_policy_t *rs = c->be->response_headers;
		size_t cw = xpb_begin(w, 1);
		xpb_str(w, 1, c->name);
		xpb_u32value(w, 2, c->weight);
		xds_header_adds(w, 4, rq);
		xds_header_adds(w, 5, rs);
		xds_header_removes(w, 6, rs);
		xds_header_removes(w, 9, rq);
		if (rq && rq->host_rewrite)
			xpb_str_always(w, 11, rq->host_rewrite);
		xpb_end(w, cw);
	}
	xpb_end(w, m);
out:
	free(wc);
	free(order);
}

static int xds_single_simple(const contour_dag_route_t *r)
{
	return r->nbackends == 1 && xds_policy_empty(r->backends[0].request_headers) &&
	       xds_policy_empty(r->backends[0].response_headers);
}

static void xds_route_action(xds_build_t *b, xpb_t *w, const contour_dag_route_t *r)
{
	size_t ra = xpb_begin(w, 2);
	if (xds_single_simple(r)) {
		const char *name = xds_cluster_name(b, r->backends[0].cluster);
		xpb_str_always(w, 1, name ? name : "");
	} else {
		xds_weighted_clusters(b, w, r);
	}
	if (r->nprefix_rewrites) {
		const char *rep = r->prefix_rewrites[0].replacement;
		xpb_str_always(w, 5, rep && *rep ? rep : "/");
	}
	const contour_dag_header_policy_t *rq = r->request_headers;
	if (rq && rq->host_rewrite)
		xpb_str_always(w, 6, rq->host_rewrite);
	xds_timeout(w, 8, r->timeouts.response_ms);
	if (r->retry && r->retry->retry_on && *r->retry->retry_on) {
		size_t rp = xpb_begin(w, 9);
		xpb_str(w, 1, r->retry->retry_on);
		xpb_u32value(w, 2, r->retry->num_retries);
		xds_timeout(w, 3, r->retry->per_try_timeout_ms);
		if (r->retry->nretriable_status_codes) {
			size_t pk = xpb_begin(w, 7);
			for (size_t i = 0; i < r->retry->nretriable_status_codes; i++)
				xpb_raw_varint(w, r->retry->retriable_status_codes[i]);
			xpb_end(w, pk);
		}
		xpb_end(w, rp);
	}
	for (size_t i = 0; i < r->nhash_policies; i++) {
		const contour_dag_hash_policy_t *hp = &r->hash_policies[i];
		size_t h = xpb_begin(w, 15);
		size_t s;
		switch (hp->type) {
		case CONTOUR_DAG_HASH_HEADER:
			s = xpb_begin(w, 1);
			xpb_str(w, 1, hp->name);
			xpb_end(w, s);
			break;
		case CONTOUR_DAG_HASH_COOKIE:
			s = xpb_begin(w, 2);
			xpb_str(w, 1, hp->name ? hp->name : "X-Contour-Session-Affinity");
			xpb_duration_ms(w, 2, 0);
			xpb_str(w, 3, "/");
			xpb_end(w, s);
			break;
		case CONTOUR_DAG_HASH_SOURCE_IP:
			s = xpb_begin(w, 3);
			xpb_bool(w, 1, 1);
			xpb_end(w, s);
			break;
		case CONTOUR_DAG_HASH_QUERY:
			s = xpb_begin(w, 5);
			xpb_str(w, 1, hp->name);
			xpb_end(w, s);
			break;
		}
		xpb_bool(w, 4, hp->terminal);
		xpb_end(w, h);
	}
	xds_timeout(w, 24, r->timeouts.idle_ms);
	if (r->websockets) {
		size_t u = xpb_begin(w, 25);
		xpb_str(w, 1, "websocket");
		xpb_end(w, u);
	}
	if (rq && !rq->host_rewrite && rq->host_rewrite_header)
		xpb_str_always(w, 29, rq->host_rewrite_header);
	for (size_t i = 0; i < r->nmirrors; i++) {
		const char *name = xds_cluster_name(b, r->mirrors[i].cluster);
		size_t mp = xpb_begin(w, 30);
		xpb_str(w, 1, name);
		size_t rf = xpb_begin(w, 3);
		size_t dv = xpb_begin(w, 1);
		xpb_uint(w, 1, r->mirrors[i].percent);
		xpb_end(w, dv);
		xpb_end(w, rf);
		xpb_end(w, mp);
	}
	xpb_end(w, ra);
}

static void xds_route_redirect(xpb_t *w, const contour_dag_redirect_t *rd)
{
	size_t m = xpb_begin(w, 3);
	xpb_str(w, 1, rd->hostname);
	if (rd->path && *rd->path)
		xpb_str_always(w, 2, rd->path);
	unsigned code = 0;
	switch (rd->status_code) {
	case 302:
		code = 1;
		break;
	case 303:
		code = 2;
		break;
	case 307:
		code = 3;
		break;
	case 308:
		code = 4;
		break;
	}
	xpb_uint(w, 3, code);
	if (!(rd->path && *rd->path) && rd->prefix && *rd->prefix)
		xpb_str_always(w, 5, rd->prefix);
	if (rd->scheme && *rd->scheme)
		xpb_str_always(w, 7, rd->scheme);
	xpb_uint(w, 8, rd->port);
	xpb_end(w, m);
}

/* Route.metadata: the origin for access logs, keys sorted as Go's
 * deterministic marshalling sorts map keys. */
static void xds_route_metadata(xpb_t *w, const contour_dag_origin_t *o)
{
	const char *keys[3] = {"io.projectcontour.kind", "io.projectcontour.name",
	                       "io.projectcontour.namespace"};
	const char *vals[3] = {o->kind, o->name, o->namespace_};
	if (!(o->kind && *o->kind) && !(o->name && *o->name) && !(o->namespace_ && *o->namespace_))
		return;
	size_t md = xpb_begin(w, 4);
	size_t fe = xpb_begin(w, 1); /* filter_metadata entry */
	xpb_str(w, 1, "envoy.access_loggers.file");
	size_t st = xpb_begin(w, 2);
	for (int i = 0; i < 3; i++) {
		if (!vals[i] || !*vals[i])
			continue;
		size_t e = xpb_begin(w, 1);
		xpb_str(w, 1, keys[i]);
		size_t v = xpb_begin(w, 2);
		xpb_str_always(w, 3, vals[i]);
		xpb_end(w, v);
		xpb_end(w, e);
	}
	xpb_end(w, st);
	xpb_end(w, fe);
	xpb_end(w, md);
}

/* The routes of one HTTPProxy share their origin: its metadata is
 * encoded once and copied. */
static int xds_same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void xds_route_origin(xds_build_t *b, xpb_t *w, const contour_dag_origin_t *o)
{
	xpb_t *m = &b->memo[2];
	const char **k = b->memo_origin;
	if (!m->len || !xds_same_str(k[0], o->kind) || !xds_same_str(k[1], o->namespace_) ||
	    !xds_same_str(k[2], o->name)) {
		xpb_reset(m);
		xds_route_metadata(m, o);
		k[0] = o->kind;
		k[1] = o->namespace_;
		k[2] = o->name;
	}
	if (m->oom)
		w->oom = 1;
	else
		xpb_raw(w, m->buf, m->len);
}

static void xds_authz_disabled(xpb_t *w, uint32_t field)
{
	size_t e = xpb_begin(w, field);
	xpb_str(w, 1, XDS_EXT_AUTHZ);
	xpb_any_t any =
	    xpb_any_begin(w, 2, "envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute");
	xpb_uint_always(w, 1, 1);
	xpb_any_end(w, any);
	xpb_end(w, e);
}

/* A CidrRange from "a.b.c.d[/n]" or an IPv6 form: the network address as
 * Go's IPNet prints it, and the prefix length. */
static void xds_cidr(xpb_t *w, uint32_t field, const char *cidr)
{
	char addr[64], out[INET6_ADDRSTRLEN];
	uint8_t ip[16];
	const char *slash = strchr(cidr, '/');
	size_t n = slash ? (size_t)(slash - cidr) : strlen(cidr);
	if (n >= sizeof(addr))
		n = sizeof(addr) - 1;
	memcpy(addr, cidr, n);
	addr[n] = 0;
	int v6 = strchr(addr, ':') != NULL;
	long bits = slash ? strtol(slash + 1, NULL, 10) : (v6 ? 128 : 32);
	size_t m = xpb_begin(w, field);
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr, ip) == 1) {
		int len = v6 ? 16 : 4;
		for (int i = 0; i < len; i++) {
			long keep = bits - 8L * i;
			if (keep <= 0)
				ip[i] = 0;
			else if (keep < 8)
				ip[i] &= (uint8_t)(0xff << (8 - keep));
		}
		inet_ntop(v6 ? AF_INET6 : AF_INET, ip, out, sizeof(out));
		xpb_str(w, 1, out);
	} else {
		xpb_str(w, 1, addr);
	}
	xpb_u32value(w, 2, (uint32_t)bits);
	xpb_end(w, m);
}

/* typed_per_filter_config entry for IP allow/deny lists (upstream's
 * ipFilterConfig): an RBAC policy "ip-rules" of any permission for the
 * listed peers (direct_remote_ip) or XFF addresses (remote_ip). */
static void xds_ip_filter(xpb_t *w, uint32_t field, const contour_dag_ip_filter_t *f)
{
	size_t e = xpb_begin(w, field);
	xpb_str(w, 1, "envoy.filters.http.rbac");
	xpb_any_t any = xpb_any_begin(w, 2, "envoy.extensions.filters.http.rbac.v3.RBACPerRoute");
	size_t rbac = xpb_begin(w, 2);
	size_t rules = xpb_begin(w, 1);
	xpb_uint(w, 1, f->allow ? 0 : 1);
	size_t pe = xpb_begin(w, 2);
	xpb_str(w, 1, "ip-rules");
	size_t pol = xpb_begin(w, 2);
	size_t perm = xpb_begin(w, 1);
	xpb_uint_always(w, 3, 1);
	xpb_end(w, perm);
	for (size_t i = 0; i < f->nrules; i++) {
		size_t pr = xpb_begin(w, 2);
		xds_cidr(w, f->rules[i].remote ? 11 : 10, f->rules[i].cidr);
		xpb_end(w, pr);
	}
	xpb_end(w, pol);
	xpb_end(w, pe);
	xpb_end(w, rules);
	xpb_end(w, rbac);
	xpb_any_end(w, any);
	xpb_end(w, e);
}

static void xds_route(xds_build_t *b, xpb_t *w, const contour_dag_route_t *r, int secure)
{
	size_t m = xpb_begin(w, 3);
	xds_route_match(w, r);
	if (r->https_redirect && !secure) {
		size_t rd = xpb_begin(w, 3);
		xpb_uint_always(w, 4, 1);
		xpb_end(w, rd);
		xds_route_origin(b, w, &r->origin);
		xds_authz_disabled(w, 13);
	} else if (r->direct_response) {
		xds_route_origin(b, w, &r->origin);
		size_t dr = xpb_begin(w, 7);
		xpb_uint(w, 1, r->direct_response->status_code);
		if (r->direct_response->body && *r->direct_response->body) {
			size_t ds = xpb_begin(w, 2);
			xpb_str_always(w, 3, r->direct_response->body);
			xpb_end(w, ds);
		}
		xpb_end(w, dr);
	} else if (r->redirect) {
		xds_route_redirect(w, r->redirect);
		xds_route_origin(b, w, &r->origin);
	} else {
		xds_route_action(b, w, r);
		xds_route_origin(b, w, &r->origin);
		const contour_dag_header_policy_t *rq = r->request_headers,
		                                  *rs = r->response_headers;
		xds_header_adds(w, 9, rq);
		xds_header_adds(w, 10, rs);
		xds_header_removes(w, 11, rs);
		xds_header_removes(w, 12, rq);
		if (r->ip_filter && r->ip_filter->nrules)
			xds_ip_filter(w, 13, r->ip_filter);
	}
	xpb_end(w, m);
}

/* Origin header values upstream matches exactly: "*" and scheme://host[:port]
 * (what url.Parse gives back unchanged); anything else is a regex. */
static int xds_origin_exact(const char *o)
{
	if (!strcmp(o, "*"))
		return 1;
	const char *sep = strstr(o, "://");
	if (!sep || sep == o || !((*o >= 'a' && *o <= 'z') || (*o >= 'A' && *o <= 'Z')))
		return 0;
	for (const char *p = o; p < sep; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.",
		            *p))
			return 0;
	const char *host = sep + 3;
	return *host && !strpbrk(host, "/?#@ %\\");
}

/* A Go duration ("90s", "1h30m", "1.5m") in whole seconds; -1 if bad. */
static double xds_go_seconds(const char *s)
{
	double total = 0;
	if (!strcmp(s, "0"))
		return 0;
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		if (end == s)
			return -1;
		s = end;
		double unit;
		if (!strncmp(s, "ns", 2))
			unit = 1e-9, s += 2;
		else if (!strncmp(s, "us", 2) || !strncmp(s, "\xc2\xb5s", 3))
			unit = 1e-6, s += *s == 'u' ? 2 : 3;
		else if (!strncmp(s, "ms", 2))
			unit = 1e-3, s += 2;
		else if (*s == 's')
			unit = 1, s++;
		else if (*s == 'm')
			unit = 60, s++;
		else if (*s == 'h')
			unit = 3600, s++;
		else
			return -1;
		total += v * unit;
	}
	return total;
}

static void xds_join(xpb_t *w, uint32_t field, const char **v, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	if (!len)
		return;
	char *buf = malloc(len);
	if (!buf) {
		w->oom = 1;
		return;
	}
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]);
		if (i)
			buf[o++] = ',';
		memcpy(buf + o, v[i], l);
		o += l;
	}
	xpb_bytes_always(w, field, buf, o);
	free(buf);
}

/* VirtualHost.typed_per_filter_config: the CORS policy (upstream's
 * corsPolicy). */
static void xds_vhost_cors(xpb_t *w, const contour_dag_cors_t *c)
{
	size_t e = xpb_begin(w, 15);
	xpb_str(w, 1, "envoy.filters.http.cors");
	xpb_any_t any = xpb_any_begin(w, 2, "envoy.extensions.filters.http.cors.v3.CorsPolicy");
	for (size_t i = 0; i < c->nallow_origin; i++) {
		const char *o = c->allow_origin[i];
		if (xds_origin_exact(o))
			xds_pb_string_matcher(w, 1, CONTOUR_DAG_MATCH_EXACT, o, 1);
		else
			xds_pb_string_matcher(w, 1, CONTOUR_DAG_MATCH_REGEX, o, 0);
	}
	xds_join(w, 2, c->allow_methods, c->nallow_methods);
	xds_join(w, 3, c->allow_headers, c->nallow_headers);
	xds_join(w, 4, c->expose_headers, c->nexpose_headers);
	if (c->max_age && *c->max_age) {
		double secs = xds_go_seconds(c->max_age);
		char buf[32];
		if (secs >= 0) {
			snprintf(buf, sizeof(buf), "%.0f", secs);
			xpb_str_always(w, 5, buf);
		}
	}
	xpb_boolvalue(w, 6, c->allow_credentials);
	xpb_boolvalue(w, 9, c->allow_private_network);
	xpb_any_end(w, any);
	xpb_end(w, e);
}

void xds_pb_route_virtual_host(xds_build_t *b, xpb_t *w, uint32_t field,
                               const contour_dag_vhost_t *vh, int secure)
{
	char name[128];
	const char *parts[1] = {vh->fqdn};
	xds_hashname(name, sizeof(name), 60, parts, 1);
	const void *stack[32];
	const void **routes = vh->nroutes <= 32 ? stack : calloc(vh->nroutes, sizeof(*routes));
	if (!routes) {
		w->oom = 1;
		return;
	}
	for (size_t i = 0; i < vh->nroutes; i++)
		routes[i] = vh->routes[i];
	if (xds_stable_sort(routes, vh->nroutes, xds_route_less))
		w->oom = 1;
	size_t m = xpb_begin(w, field);
	xpb_str(w, 1, name);
	xpb_str_always(w, 2, vh->fqdn);
	for (size_t i = 0; i < vh->nroutes; i++)
		xds_route(b, w, routes[i], secure);
	if (vh->cors)
		xds_vhost_cors(w, vh->cors);
	if (vh->ip_filter && vh->ip_filter->nrules)
		xds_ip_filter(w, 15, vh->ip_filter);
	xpb_end(w, m);
	if (routes != stack)
		free(routes);
}

static void xds_route_config_begin(xpb_t *w, const char *name)
{
	xpb_str(w, 1, name);
}

static void xds_route_config_end(xpb_t *w)
{
	xds_pb_header_value_option(w, 6, "x-request-start", "t=%START_TIME(%s.%3f)%", 0);
	xpb_bool(w, 14, 1);
}

/* Fragment kinds: a virtual host of ingress_http, of ingress_fallbackcert. */
#define XDS_FRAG_VHOST        101
#define XDS_FRAG_VHOST_SECURE 102

/* A virtual host as field 2 of a route configuration, reused from the
 * previous translation when its DAG hash is the same. */
static void xds_vhost_frag(xds_build_t *b, const contour_dag_vhost_t *vh, uint64_t hash, int secure)
{
	uint64_t key = xds_key(b, secure ? XDS_FRAG_VHOST_SECURE : XDS_FRAG_VHOST, hash);
	if (xds_frag_reuse(b, key))
		return;
	size_t mark = b->w.len;
	xds_pb_route_virtual_host(b, &b->w, 2, vh, secure);
	xds_frag_keep(b, key, mark);
}

int xds_translate_routes(xds_build_t *b)
{
	const contour_dag_t *dag = b->dag;
	xpb_t *w = &b->w;
	/* dag->vhosts and svhosts are sorted by fqdn; the vhost name is the
	 * fqdn (Hashname only shortens names of 60 characters and more) */
	xds_route_config_begin(w, "ingress_http");
	for (size_t i = 0; i < dag->nvhosts; i++)
		if (dag->vhosts[i]->nroutes)
			xds_vhost_frag(b, dag->vhosts[i], dag->vhosts[i]->hash, 0);
	xds_route_config_end(w);
	int rc = xds_build_add(b, XDS_ROUTE, "ingress_http");
	if (rc)
		return rc;

	int fallback = 0;
	for (size_t i = 0; i < dag->nsvhosts; i++) {
		const contour_dag_svhost_t *sv = dag->svhosts[i];
		if (!sv->vhost.nroutes)
			continue;
		fallback |= sv->fallback_certificate;
		/* the svhost's hash covers its vhost's (sealing does not store
		 * the latter) */
		uint64_t src = xds_key(b, XDS_ROUTE, sv->hash);
		const xds_resource_t *prev = xds_build_prev(b, XDS_ROUTE, src);
		if (prev) {
			if ((rc = xds_build_copy(b, XDS_ROUTE, prev)))
				return rc;
			continue;
		}
		char name[600];
		size_t o = 0;
		xds_cat(name, sizeof(name), &o, "https/");
		xds_cat(name, sizeof(name), &o, sv->vhost.fqdn);
		name[o] = 0;
		xds_route_config_begin(w, name);
		xds_pb_route_virtual_host(b, w, 2, &sv->vhost, 1);
		xds_route_config_end(w);
		if ((rc = xds_build_add_src(b, XDS_ROUTE, name, src)))
			return rc;
	}
	if (fallback) {
		xds_route_config_begin(w, "ingress_fallbackcert");
		for (size_t i = 0; i < dag->nsvhosts; i++)
			if (dag->svhosts[i]->vhost.nroutes && dag->svhosts[i]->fallback_certificate)
				xds_vhost_frag(b, &dag->svhosts[i]->vhost, dag->svhosts[i]->hash,
				               1);
		xds_route_config_end(w);
		if ((rc = xds_build_add(b, XDS_ROUTE, "ingress_fallbackcert")))
			return rc;
	}
	return CONTOUR_EOK;
}
