/* modules/xds-grpc/xds_translate_cache.c: incremental translation.
 *
 * The sealed DAG hashes every virtual host, cluster and secret. A resource
 * (or a fragment of the two big ones: a virtual host of `ingress_http`, a
 * filter chain of `ingress_https`) records a key made of the settings'
 * fingerprint, a kind and the hash of the inputs it is built from; the next
 * translation copies the bytes of whatever has the same key instead of
 * encoding it again, so a rebuild that changed one HTTPProxy encodes one
 * virtual host. Assignments are keyed by the addresses of the EndpointSlice
 * objects they read: store objects never change once stored, and the cache
 * holds a reference to each, so no other object can take its address while
 * a snapshot that keyed on it lives.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <contour/error.h>
#include "modules/xds-grpc/xds_translate.h"

/* A fragment is a top-level field of one resource (a filter chain of
 * ingress_https, a virtual host of ingress_http): its bytes are those of
 * the resource at off, so the cache copies nothing; base is the resource's
 * bytes, set when the resource is added (the snapshot owns them). */
struct xds_frag {
	uint64_t key; /* 0 = empty slot */
	const uint8_t *base;
	size_t off, len;
};

struct xds_cache {
	struct xds_frag *e;
	size_t cap, n;
	uint64_t *pending; /* keys whose base is the resource being written */
	size_t npending, pcap;
	xds_slice_t *slices;
	size_t nslices, scap;
	size_t *sidx; /* slices by object address: index + 1, 0 = empty */
	size_t sidxcap;
};

#define XDS_P1 0x9E3779B185EBCA87ULL
#define XDS_P2 0xC2B2AE3D27D4EB4FULL

uint64_t xds_mix(uint64_t h, uint64_t v)
{
	h += v * XDS_P2;
	h = (h << 31) | (h >> 33);
	return h * XDS_P1;
}

uint64_t xds_mix_str(uint64_t h, const char *s)
{
	if (!s)
		return xds_mix(h, UINT64_MAX);
	size_t n = strlen(s);
	return xds_mix(xds_mix(h, n), xds_hash_bytes(s, n));
}

static uint64_t xds_mix_json(uint64_t h, const json_t *v)
{
	if (!v)
		return xds_mix(h, 0);
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	/* no memory: a fingerprint nothing else has, so nothing is reused */
	h = s ? xds_mix_str(h, s) : xds_mix(h, (uint64_t)(uintptr_t)&h);
	free(s);
	return h;
}

uint64_t xds_settings_fp(const xds_settings_t *s)
{
	uint64_t h = 0x27D4EB2F165667C5ULL;
	const char *strs[] = {s->http_address,    s->https_address,    s->stats_address,
	                      s->http_access_log, s->https_access_log, s->access_log_format};
	for (size_t i = 0; i < sizeof(strs) / sizeof(*strs); i++)
		h = xds_mix_str(h, strs[i]);
	const int64_t nums[] = {
	    s->http_port,
	    s->https_port,
	    s->stats_port,
	    s->admin_port,
	    s->request_timeout,
	    s->connection_idle_timeout,
	    s->stream_idle_timeout,
	    s->max_connection_duration,
	    s->delayed_close_timeout,
	    s->drain_timeout,
	    s->connect_timeout,
	    s->tls_min,
	    s->tls_max,
	    s->compression,
	    s->alpn_h2,
	    s->alpn_h1,
	    s->codec,
	    s->merge_slashes,
	    s->allow_chunked_length,
	    s->server_header,
	    s->num_trusted_hops,
	    s->strip_trailing_host_dot,
	    s->dns_lookup_family,
	    s->max_requests_per_connection,
	    s->per_connection_buffer_limit_bytes,
	    s->cb_max_connections,
	    s->cb_max_pending_requests,
	    s->cb_max_requests,
	    s->cb_max_retries,
	    s->cb_per_host_max_connections,
	    s->access_log_level,
	    s->access_log_json,
	    s->up_tls_min,
	    s->up_tls_max,
	    s->conn_balance_exact,
	    s->l_max_requests_per_connection,
	    s->l_per_connection_buffer_limit_bytes,
	    s->http2_max_concurrent_streams,
	    s->max_requests_per_io_cycle,
	    s->max_connections_per_listener,
	    s->max_accept_per_socket_event,
	    s->socket_tos,
	    s->socket_traffic_class,
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(*nums); i++)
		h = xds_mix(h, (uint64_t)nums[i]);
	h = xds_mix_json(h, s->cipher_suites);
	h = xds_mix_json(h, s->ecdh_curves);
	h = xds_mix_json(h, s->up_cipher_suites);
	h = xds_mix_json(h, s->up_ecdh_curves);
	return xds_mix_json(h, s->json_fields);
}

uint64_t xds_key(const xds_build_t *b, uint64_t kind, uint64_t h)
{
	uint64_t k = xds_mix(xds_mix(b->setfp, kind), h);
	return k ? k : 1; /* 0 means "no key" */
}

xds_cache_t *xds_cache_new(void)
{
	return calloc(1, sizeof(xds_cache_t));
}

void xds_cache_free(xds_cache_t *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nslices; i++)
		json_decref((json_t *)c->slices[i].obj);
	CONTOUR_FREE_ALL(c->slices, c->sidx, c->e, c->pending, c);
}

static size_t xds_slot_of(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 17) & (cap - 1);
}

static const struct xds_frag *xds_cache_find(const xds_cache_t *c, uint64_t key)
{
	if (!c || !c->cap)
		return NULL;
	for (size_t i = xds_slot_of(key, c->cap);; i = (i + 1) & (c->cap - 1)) {
		if (c->e[i].key == key)
			return &c->e[i];
		if (!c->e[i].key)
			return NULL;
	}
}

static int xds_cache_grow(xds_cache_t *c)
{
	size_t cap = c->cap ? c->cap * 2 : 1024;
	struct xds_frag *e = calloc(cap, sizeof(*e));
	if (!e)
		return CONTOUR_ENOMEM;
	for (size_t i = 0; i < c->cap; i++) {
		if (!c->e[i].key)
			continue;
		size_t j = xds_slot_of(c->e[i].key, cap);
		while (e[j].key)
			j = (j + 1) & (cap - 1);
		e[j] = c->e[i];
	}
	free(c->e);
	c->e = e;
	c->cap = cap;
	return CONTOUR_EOK;
}

/* Keep [off, off + n) of the resource being written under key (the first
 * one wins: equal keys, equal bytes). */
static int xds_cache_put(xds_cache_t *c, uint64_t key, size_t off, size_t n)
{
	if ((c->n + 1) * 2 > c->cap && xds_cache_grow(c))
		return CONTOUR_ENOMEM;
	if (c->npending == c->pcap) {
		size_t cap = c->pcap ? c->pcap * 2 : 1024;
		uint64_t *p = realloc(c->pending, cap * sizeof(*p));
		if (!p)
			return CONTOUR_ENOMEM;
		c->pending = p;
		c->pcap = cap;
	}
	size_t i = xds_slot_of(key, c->cap);
	while (c->e[i].key && c->e[i].key != key)
		i = (i + 1) & (c->cap - 1);
	if (c->e[i].key)
		return CONTOUR_EOK;
	c->e[i] = (struct xds_frag){key, NULL, off, n};
	c->pending[c->npending++] = key;
	c->n++;
	return CONTOUR_EOK;
}

void xds_frag_resolve(xds_build_t *b, const uint8_t *bytes)
{
	xds_cache_t *c = b->cache;
	if (!c)
		return;
	/* by key: slots move when the table grows */
	for (size_t i = 0; i < c->npending; i++) {
		struct xds_frag *f = (struct xds_frag *)xds_cache_find(c, c->pending[i]);
		if (f)
			f->base = bytes;
	}
	c->npending = 0;
}

int xds_frag_reuse(xds_build_t *b, uint64_t key)
{
	const xds_cache_t *pc = b->prev ? b->prev->cache : NULL;
	const struct xds_frag *f = xds_cache_find(pc, key);
	if (!f || !f->base)
		return 0;
	xpb_t *w = &b->w;
	size_t mark = w->len;
	xpb_raw(w, f->base + f->off, f->len);
	xds_frag_keep(b, key, mark);
	b->frags_reused++;
	return 1;
}

void xds_frag_keep(xds_build_t *b, uint64_t key, size_t mark)
{
	xpb_t *w = &b->w;
	if (w->oom || !b->cache)
		return;
	if (xds_cache_put(b->cache, key, mark, w->len - mark))
		b->oom = 1;
}

int xds_cache_add_slice(xds_build_t *b, const xds_slice_t *s)
{
	xds_cache_t *c = b->cache;
	if (c->nslices == c->scap) {
		size_t cap = c->scap ? c->scap * 2 : 256;
		xds_slice_t *v = realloc(c->slices, cap * sizeof(*v));
		if (!v) {
			b->oom = 1;
			return CONTOUR_ENOMEM;
		}
		c->slices = v;
		c->scap = cap;
	}
	c->slices[c->nslices] = *s;
	c->slices[c->nslices++].next = 0;
	json_incref((json_t *)s->obj);
	return CONTOUR_EOK;
}

xds_slice_t *xds_cache_slices(xds_build_t *b, size_t *n)
{
	*n = b->cache->nslices;
	return b->cache->slices;
}

/* The slices by address, for the next translation's xds_cache_slice (built
 * here: a published snapshot is never written to again). */
int xds_cache_index_slices(xds_build_t *b)
{
	xds_cache_t *c = b->cache;
	size_t cap = 16;
	while (cap < c->nslices * 2)
		cap *= 2;
	c->sidx = calloc(cap, sizeof(*c->sidx));
	if (!c->sidx) {
		b->oom = 1;
		return CONTOUR_ENOMEM;
	}
	c->sidxcap = cap;
	for (size_t i = 0; i < c->nslices; i++) {
		size_t j = xds_slot_of((uint64_t)(uintptr_t)c->slices[i].obj, cap);
		while (c->sidx[j])
			j = (j + 1) & (cap - 1);
		c->sidx[j] = i + 1;
	}
	return CONTOUR_EOK;
}

const xds_slice_t *xds_cache_slice(xds_build_t *b, const json_t *obj)
{
	const xds_cache_t *c = b->prev ? b->prev->cache : NULL;
	if (!c || !c->sidxcap)
		return NULL;
	for (size_t j = xds_slot_of((uint64_t)(uintptr_t)obj, c->sidxcap);;
	     j = (j + 1) & (c->sidxcap - 1)) {
		if (!c->sidx[j])
			return NULL;
		if (c->slices[c->sidx[j] - 1].obj == obj)
			return &c->slices[c->sidx[j] - 1];
	}
}

/* prev's resources of type t by src, built on first use. */
static int xds_srcidx_build(xds_build_t *b, xds_type_t t)
{
	xds_srcidx_t *x = &b->pidx[t];
	const xds_snapshot_t *p = b->prev;
	x->built = 1;
	if (!p || !p->nres[t])
		return CONTOUR_EOK;
	size_t cap = 16;
	while (cap < p->nres[t] * 2)
		cap *= 2;
	x->slot = calloc(cap, sizeof(*x->slot));
	if (!x->slot)
		return CONTOUR_ENOMEM;
	x->cap = cap;
	for (size_t i = 0; i < p->nres[t]; i++) {
		uint64_t src = p->res[t][i].src;
		if (!src)
			continue;
		size_t j = xds_slot_of(src, cap);
		while (x->slot[j] && p->res[t][x->slot[j] - 1].src != src)
			j = (j + 1) & (cap - 1);
		if (!x->slot[j])
			x->slot[j] = i + 1;
	}
	return CONTOUR_EOK;
}

const xds_resource_t *xds_build_prev(xds_build_t *b, xds_type_t t, uint64_t src)
{
	xds_srcidx_t *x = &b->pidx[t];
	if (!x->built && xds_srcidx_build(b, t))
		b->oom = 1;
	if (!x->cap || !src)
		return NULL;
	const xds_resource_t *r = b->prev->res[t];
	for (size_t j = xds_slot_of(src, x->cap);; j = (j + 1) & (x->cap - 1)) {
		if (!x->slot[j])
			return NULL;
		if (r[x->slot[j] - 1].src == src)
			return &r[x->slot[j] - 1];
	}
}

void xds_build_reuse_fini(xds_build_t *b)
{
	for (int t = 0; t < XDS_NTYPES; t++)
		free(b->pidx[t].slot);
	xds_cache_free(b->cache);
	b->cache = NULL;
}
