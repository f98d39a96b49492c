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

typedef struct xds_slice {
	const char *ns, *svc; /* borrowed from the object */
	const json_t *obj;
} xds_slice_t;

typedef struct xds_slices {
	xds_build_t *b;
	xds_slice_t *v;
	size_t n, cap;
	int oom;
} xds_slices_t;

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

static int xds_slice_visit(const json_t *obj, void *ud)
{
	xds_slices_t *s = ud;
	const json_t *md = xds_jget(obj, "metadata");
	const char *ns = json_string_value(xds_jget(md, "namespace"));
	const char *svc =
	    json_string_value(xds_jget(xds_jget(md, "labels"), "kubernetes.io/service-name"));
	if (!ns || !svc)
		return 0;
	/* held by the new snapshot: see xds_translate_cache.c */
	if (xds_cache_hold(s->b, obj)) {
		s->oom = 1;
		return 1;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		xds_slice_t *nv = realloc(s->v, cap * sizeof(*nv));
		if (!nv) {
			s->oom = 1;
			return 1;
		}
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = (xds_slice_t){ns, svc, obj};
	return 0;
}

static int xds_slice_cmp(const void *a, const void *b)
{
	const xds_slice_t *x = a, *y = b;
	int c = strcmp(x->svc, y->svc);
	return c ? c : strcmp(x->ns, y->ns);
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

static int xds_cla_one(xds_build_t *b, const contour_dag_service_t *svc, const char *eds,
                       const xds_slices_t *slices)
{
	xpb_t *w = &b->w;
	xds_ep_t *eps = NULL;
	size_t neps = 0, cap = 0;
	uint32_t health = 0;
	xds_slice_t probe = {svc->namespace_, svc->name, NULL};
	xds_slice_t *hit =
	    slices->n ? bsearch(&probe, slices->v, slices->n, sizeof(*slices->v), xds_slice_cmp)
	              : NULL;
	xds_slice_t *end = hit;
	/* the inputs: the slice objects (stored objects never change, and
	 * the cache holds them) and what of the Service selects their ports */
	uint64_t in =
	    xds_mix_str(xds_mix_str(xds_mix_str(0, eds), svc->port_name), svc->health_port_name);
	if (hit) {
		/* a sum: the order of a Service's slices here is qsort's */
		uint64_t objs = 0;
		while (hit > slices->v && !xds_slice_cmp(hit - 1, &probe))
			hit--;
		for (end = hit; end < slices->v + slices->n && !xds_slice_cmp(end, &probe); end++)
			objs += xds_mix(0, (uint64_t)(uintptr_t)end->obj);
		in = xds_mix(xds_mix(in, objs), (uint64_t)(end - hit));
	}
	uint64_t src = xds_key(b, XDS_ENDPOINT, in);
	const xds_resource_t *prev = xds_build_prev(b, XDS_ENDPOINT, src);
	if (prev)
		return xds_build_copy(b, XDS_ENDPOINT, prev);
	for (; hit && hit < end; hit++)
		if (xds_slice_endpoints(hit, svc, &eps, &neps, &cap, &health)) {
			free(eps);
			return CONTOUR_ENOMEM;
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

static int xds_svc_cmp(const void *a, const void *b)
{
	const contour_dag_cluster_t *x = *(contour_dag_cluster_t *const *)a;
	const contour_dag_cluster_t *y = *(contour_dag_cluster_t *const *)b;
	int c = strcmp(x->service.namespace_, y->service.namespace_);
	if (!c)
		c = strcmp(x->service.name, y->service.name);
	if (!c)
		c = strcmp(x->service.port_name ? x->service.port_name : "",
		           y->service.port_name ? y->service.port_name : "");
	return c;
}

int xds_translate_endpoints(xds_build_t *b)
{
	xds_slices_t slices = {.b = b};
	int rc = CONTOUR_EOK;
	size_t n = b->dag->nclusters, k = 0;
	contour_dag_cluster_t **cl = calloc(n ? n : 1, sizeof(*cl));
	if (!cl)
		return CONTOUR_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!b->dag->clusters[i]->service.external_name)
			cl[k++] = b->dag->clusters[i];
	if (k) {
		contour_store_foreach(b->mod, "discovery.k8s.io/v1", "EndpointSlice",
		                      xds_slice_visit, &slices);
		if (slices.oom) {
			rc = CONTOUR_ENOMEM;
			goto out;
		}
		if (slices.n)
			qsort(slices.v, slices.n, sizeof(*slices.v), xds_slice_cmp);
		qsort(cl, k, sizeof(*cl), xds_svc_cmp);
	}
	char eds[512], prev[512] = "";
	for (size_t i = 0; i < k; i++) {
		xds_eds_name(&cl[i]->service, eds, sizeof(eds));
		if (!strcmp(eds, prev))
			continue;
		memcpy(prev, eds, sizeof(prev));
		rc = xds_cla_one(b, &cl[i]->service, eds, &slices);
		if (rc)
			break;
	}
out:
	free(slices.v);
	free(cl);
	return rc;
}
