/* modules/xds-grpc/xds_snapshot.c: the published set of resources, its
 * reference count and its per-type versions. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/xds-grpc/xds_translate.h"

xds_snapshot_t *xds_snapshot_ref(xds_snapshot_t *s)
{
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void xds_resources_free(xds_resource_t *const *res, const size_t *nres)
{
	for (int t = 0; t < XDS_NTYPES; t++) {
		for (size_t i = 0; i < nres[t]; i++) {
			free(res[t][i].name);
			free(res[t][i].bytes);
		}
		free(res[t]);
	}
}

static void xds_snapshot_free(xds_snapshot_t *s)
{
	xds_resources_free(s->res, s->nres);
	xds_cache_free(s->cache);
	free(s);
}

void xds_snapshot_unref(xds_snapshot_t *s)
{
	if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		xds_snapshot_free(s);
}

const xds_resource_t *xds_snapshot_find(const xds_snapshot_t *s, xds_type_t t, const char *name)
{
	if (!s || (unsigned)t >= XDS_NTYPES || !name)
		return NULL;
	size_t lo = 0, hi = s->nres[t];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->res[t][mid].name, name);
		if (!c)
			return &s->res[t][mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* A stable merge sort by name on resource indexes: runs already in order
 * (clusters come in DAG key order, close to name order) are not merged. */
static void xds_res_msort(const xds_resource_t *r, size_t *v, size_t *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	xds_res_msort(r, v, tmp, h);
	xds_res_msort(r, v + h, tmp, n - h);
	if (strcmp(r[v[h - 1]].name, r[v[h]].name) <= 0)
		return;
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = strcmp(r[v[j]].name, r[v[i]].name) < 0 ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

/* Sort r[0..n) by name, equal names in order of addition. */
static int xds_res_sort(xds_resource_t *r, size_t n)
{
	size_t *v = malloc(n * sizeof(*v)), *tmp = malloc(n * sizeof(*tmp));
	xds_resource_t *out = malloc(n * sizeof(*out));
	if (!v || !tmp || !out) {
		CONTOUR_FREE_ALL(v, tmp, out);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = i;
	xds_res_msort(r, v, tmp, n);
	for (size_t i = 0; i < n; i++)
		out[i] = r[v[i]];
	memcpy(r, out, n * sizeof(*r));
	CONTOUR_FREE_ALL(v, tmp, out);
	return 0;
}

/* Equal (name, hash) sets: the version stays, so streams see no change. */
static int xds_same_set(const xds_resource_t *a, size_t na, const xds_resource_t *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (a[i].hash != b[i].hash || a[i].len != b[i].len || strcmp(a[i].name, b[i].name))
			return 0;
	return 1;
}

xds_snapshot_t *xds_snapshot_from_build(xds_build_t *b, const xds_snapshot_t *prev)
{
	xds_snapshot_t *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->refs = 1;
	for (int t = 0; t < XDS_NTYPES; t++) {
		xds_resource_t *r = b->res[t];
		size_t n = b->nres[t], k = 0, sorted = 1;
		/* most types come out of the DAG in name order already */
		for (size_t i = 1; i < n && sorted; i++)
			sorted = strcmp(r[i - 1].name, r[i].name) < 0;
		if (!sorted && xds_res_sort(r, n)) {
			xds_snapshot_unref(s);
			return NULL;
		}
		/* upstream keeps one resource per name (e.g. clusters whose
		 * names collide after Hashname) */
		for (size_t i = 0; i < n; i++) {
			if (k && !strcmp(r[k - 1].name, r[i].name)) {
				free(r[i].name);
				free(r[i].bytes);
				continue;
			}
			r[k++] = r[i];
		}
		s->res[t] = r;
		s->nres[t] = k;
		b->res[t] = NULL;
		b->nres[t] = b->cap[t] = 0;

		uint64_t fp = 0xcbf29ce484222325ULL;
		for (size_t i = 0; i < k; i++) {
			fp ^= xds_hash_bytes(r[i].name, strlen(r[i].name));
			fp *= 0x100000001b3ULL;
			fp ^= r[i].hash;
			fp *= 0x100000001b3ULL;
		}
		if (prev && xds_same_set(r, k, prev->res[t], prev->nres[t])) {
			memcpy(s->version[t], prev->version[t], sizeof(s->version[t]));
			continue;
		}
		/* A counter for people, a fingerprint so that versions from
		 * before a restart are unlikely to match new content. */
		unsigned long long counter = prev ? strtoull(prev->version[t], NULL, 10) : 0;
		snprintf(s->version[t], sizeof(s->version[t]), "%llu-%08" PRIx32, counter + 1,
		         (uint32_t)(fp ^ (fp >> 32)));
	}
	return s;
}
