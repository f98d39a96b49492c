/* modules/xds-grpc/xds_translate_endpoints.c: EDS. One
 * ClusterLoadAssignment per EDS service name that a cluster uses, filled
 * from the Service's EndpointSlices in the store as upstream's
 * EndpointSliceCache does: endpoints explicitly not ready are skipped, only
 * TCP ports, the Service port's name selects the slice ports, addresses[0]
 * only, unique by ip:port; a differently named health port becomes each
 * endpoint's health_check_config. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contour/error.h>
#include <contour/store.h>
#include "modules/xds-grpc/xds_translate.h"

typedef struct xds_ep {
	const char *addr;
	uint32_t port;
} xds_ep_t;

/* json_object_get for the small objects of an EndpointSlice: walking a few
 * keys is cheaper than hashing the key (this showed in profiles). */
static const json_t *xds_jget(const json_t *obj, const char *key)
{
	if (!json_is_object(obj))
		return NULL;
	if (json_object_size(obj) > 6)
		return json_object_get(obj, key);
	for (void *it = json_object_iter((json_t *)obj); it;
	     it = json_object_iter_next((json_t *)obj, it))
		if (!strcmp(json_object_iter_key(it), key))
			return json_object_iter_value(it);
	return NULL;
}

/* Collects the store's EndpointSlices into the new cache: the namespace
 * and Service of a slice the previous translation saw are taken from its
 * cache instead of the object (walking objects is what costs here). */
typedef struct xds_collect {
	xds_build_t *b;
	int oom;
} xds_collect_t;

static int xds_slice_visit(const json_t *obj, void *ud)
{
	xds_collect_t *col = ud;
	const xds_slice_t *known = xds_cache_slice(col->b, obj);
	xds_slice_t s;
	if (known) {
		s = *known;
	} else {
		const json_t *md = xds_jget(obj, "metadata");
		s.obj = obj;
		s.ns = json_string_value(xds_jget(md, "namespace"));
		s.svc = json_string_value(
		    xds_jget(xds_jget(md, "labels"), "kubernetes.io/service-name"));
		if (!s.ns || !s.svc)
			return 0;
		s.h = xds_mix_str(xds_mix_str(0, s.ns), s.svc);
	}
	if (xds_cache_add_slice(col->b, &s)) {
		col->oom = 1;
		return 1;
	}
	return 0;
}

static int xds_ep_cmp(const void *a, const void *b)
{
	const xds_ep_t *x = a, *y = b;
	int c = strcmp(x->addr, y->addr);
	return c ? c : (x->port > y->port) - (x->port < y->port);
}

/* The endpoints of one slice for the Service port; sets *health when the
 * slice names the health port. Ports are read once per slice. */
static int xds_slice_endpoints(const xds_slice_t *slice, const contour_dag_service_t *svc,
                               xds_ep_t **eps, size_t *neps, size_t *cap, uint32_t *health)
{
	uint32_t ports[32];
	size_t nports = 0, i;
	const json_t *ep, *port;
	const char *want = svc->port_name && *svc->port_name ? svc->port_name : NULL;
	const char *hname =
	    svc->health_port_name && *svc->health_port_name ? svc->health_port_name : NULL;
	const json_t *plist = xds_jget(slice->obj, "ports");
	const json_t *elist = xds_jget(slice->obj, "endpoints");
	json_array_foreach(plist, i, port)
	{
		const json_t *pn = xds_jget(port, "port");
		const char *proto = json_string_value(xds_jget(port, "protocol"));
		const char *name = json_string_value(xds_jget(port, "name"));
		if (!json_is_integer(pn))
			continue;
		/* the API server defaults protocol to TCP; manifests read
		 * from files may leave it out */
		if (proto && strcmp(proto, "TCP"))
			continue;
		if (name && hname && !strcmp(name, hname) && strcmp(want ? want : "", hname))
			*health = (uint32_t)json_integer_value(pn);
		if (want && name && strcmp(name, want))
			continue;
		if (nports < sizeof(ports) / sizeof(*ports))
			ports[nports++] = (uint32_t)json_integer_value(pn);
	}
	if (!nports)
		return CONTOUR_EOK;
	json_array_foreach(elist, i, ep)
	{
		const json_t *ready = xds_jget(xds_jget(ep, "conditions"), "ready");
		if (json_is_false(ready))
			continue;
		const char *addr = json_string_value(json_array_get(xds_jget(ep, "addresses"), 0));
		if (!addr)
			continue;
		for (size_t j = 0; j < nports; j++) {
			if (*neps == *cap) {
				size_t nc = *cap ? *cap * 2 : 16;
				xds_ep_t *ne = realloc(*eps, nc * sizeof(*ne));
				if (!ne)
					return CONTOUR_ENOMEM;
				*eps = ne;
				*cap = nc;
			}
			(*eps)[(*neps)++] = (xds_ep_t){addr, ports[j]};
		}
	}
	return CONTOUR_EOK;
}

/* Slices grouped by the hash of their (namespace, Service): heads of the
 * chains through xds_slice_t.next. */
typedef struct xds_groups {
	xds_slice_t *v;
	size_t n;
	size_t *head; /* index + 1 */
	uint64_t *key;
	size_t cap;
} xds_groups_t;

static size_t xds_group_slot(const xds_groups_t *g, uint64_t h)
{
	size_t i = (size_t)((h * 0x9E3779B97F4A7C15ULL) >> 20) & (g->cap - 1);
	while (g->head[i] && g->key[i] != h)
		i = (i + 1) & (g->cap - 1);
	return i;
}

static int xds_groups_init(xds_groups_t *g, xds_slice_t *v, size_t n)
{
	g->v = v;
	g->n = n;
	g->cap = 16;
	while (g->cap < n * 2)
		g->cap *= 2;
	g->head = calloc(g->cap, sizeof(*g->head));
	g->key = calloc(g->cap, sizeof(*g->key));
	if (!g->head || !g->key)
		return CONTOUR_ENOMEM;
	/* backwards, so that each chain is in store order */
	for (size_t i = n; i-- > 0;) {
		size_t j = xds_group_slot(g, v[i].h);
		v[i].next = g->head[j];
		g->head[j] = i + 1;
		g->key[j] = v[i].h;
	}
	return CONTOUR_EOK;
}

static void xds_groups_fini(xds_groups_t *g)
{
	free(g->head);
	free(g->key);
}

static int xds_cla_one(xds_build_t *b, const contour_dag_service_t *svc, const char *eds,
                       const xds_groups_t *g)
{
	xpb_t *w = &b->w;
	xds_ep_t *eps = NULL;
	size_t neps = 0, cap = 0;
	uint32_t health = 0;
	uint64_t h = xds_mix_str(xds_mix_str(0, svc->namespace_), svc->name);
	size_t first = g->cap ? g->head[xds_group_slot(g, h)] : 0;
	/* the inputs: the slice objects (stored objects never change, and
	 * the cache holds them), as a sum since their order is the store's,
	 * and what of the Service selects their ports */
	uint64_t in =
	    xds_mix_str(xds_mix_str(xds_mix_str(0, eds), svc->port_name), svc->health_port_name);
	uint64_t objs = 0, nobjs = 0;
	for (size_t i = first; i; i = g->v[i - 1].next) {
		const xds_slice_t *s = &g->v[i - 1];
		if (!strcmp(s->svc, svc->name) && !strcmp(s->ns, svc->namespace_)) {
			objs += xds_mix(0, (uint64_t)(uintptr_t)s->obj);
			nobjs++;
		}
	}
	uint64_t src = xds_key(b, XDS_ENDPOINT, xds_mix(xds_mix(in, objs), nobjs));
	const xds_resource_t *prev = xds_build_prev(b, XDS_ENDPOINT, src);
	if (prev)
		return xds_build_copy(b, XDS_ENDPOINT, prev);
	for (size_t i = first; i; i = g->v[i - 1].next) {
		const xds_slice_t *s = &g->v[i - 1];
		if (strcmp(s->svc, svc->name) || strcmp(s->ns, svc->namespace_))
			continue;
		if (xds_slice_endpoints(s, svc, &eps, &neps, &cap, &health)) {
			free(eps);
			return CONTOUR_ENOMEM;
		}
	}
	xpb_str(w, 1, eds);
	if (neps) {
		qsort(eps, neps, sizeof(*eps), xds_ep_cmp);
		size_t le = xpb_begin(w, 2);
		for (size_t i = 0; i < neps; i++) {
			if (i && !xds_ep_cmp(&eps[i - 1], &eps[i]))
				continue;
			size_t lb = xpb_begin(w, 2);
			size_t ep = xpb_begin(w, 1);
			xds_pb_socket_address(w, 1, eps[i].addr, eps[i].port);
			if (health) {
				size_t hc = xpb_begin(w, 2);
				xpb_uint(w, 1, health);
				xpb_end(w, hc);
			}
			xpb_end(w, ep);
			xpb_end(w, lb);
		}
		xpb_end(w, le);
	}
	free(eps);
	return xds_build_add_src(b, XDS_ENDPOINT, eds, src);
}

/* The EDS names done, by hash; equal names have equal namespace, name
 * and port name. */
typedef struct xds_edsset {
	const contour_dag_service_t **v;
	uint64_t *h;
	size_t cap;
} xds_edsset_t;

/* 1 when svc's EDS name was met before (else it is added). */
static int xds_eds_seen(xds_edsset_t *set, const contour_dag_service_t *svc, uint64_t h)
{
	size_t i = (size_t)((h * 0x9E3779B97F4A7C15ULL) >> 20) & (set->cap - 1);
	for (; set->v[i]; i = (i + 1) & (set->cap - 1)) {
		const contour_dag_service_t *o = set->v[i];
		if (set->h[i] == h && !strcmp(o->name, svc->name) &&
		    !strcmp(o->namespace_, svc->namespace_) &&
		    !strcmp(o->port_name ? o->port_name : "", svc->port_name ? svc->port_name : ""))
			return 1;
	}
	set->v[i] = svc;
	set->h[i] = h;
	return 0;
}

int xds_translate_endpoints(xds_build_t *b)
{
	xds_collect_t col = {.b = b};
	xds_groups_t g = {0};
	xds_edsset_t set = {0};
	int rc = CONTOUR_EOK;
	size_t n = b->dag->nclusters, nslices = 0;
	contour_store_foreach(b->mod, "discovery.k8s.io/v1", "EndpointSlice", xds_slice_visit,
	                      &col);
	xds_slice_t *slices = xds_cache_slices(b, &nslices);
	if (col.oom || xds_cache_index_slices(b) || xds_groups_init(&g, slices, nslices))
		goto oom;
	set.cap = 16;
	while (set.cap < n * 2)
		set.cap *= 2;
	set.v = calloc(set.cap, sizeof(*set.v));
	set.h = calloc(set.cap, sizeof(*set.h));
	if (!set.v || !set.h)
		goto oom;
	char eds[512];
	for (size_t i = 0; i < n && !rc; i++) {
		const contour_dag_service_t *svc = &b->dag->clusters[i]->service;
		if (svc->external_name)
			continue;
		size_t len = xds_eds_name(svc, eds, sizeof(eds));
		if (xds_eds_seen(&set, svc, xds_hash_bytes(eds, len)))
			continue;
		rc = xds_cla_one(b, svc, eds, &g);
	}
	goto out;
oom:
	rc = CONTOUR_ENOMEM;
out:
	free(set.v);
	free(set.h);
	xds_groups_fini(&g);
	return rc;
}
