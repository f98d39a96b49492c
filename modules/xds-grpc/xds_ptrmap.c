/* modules/xds-grpc/xds_ptrmap.c: a pointer -> string map (open addressing,
 * Fibonacci hashing) for names computed once per build. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <contour/error.h>
#include "modules/xds-grpc/xds_translate.h"

size_t xds_pmap_slot(const xds_pmap_t *m, const void *k)
{
	/* Fibonacci hashing: the high bits of the product */
	int bits = 0;
	while (((size_t)1 << bits) < m->cap)
		bits++;
	size_t i = (size_t)(((uint64_t)(uintptr_t)k * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
	while (m->e[i].k && m->e[i].k != k)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int xds_pmap_grow(xds_pmap_t *m)
{
	xds_pmap_t nm = {.cap = m->cap ? m->cap * 2 : 256};
	nm.e = calloc(nm.cap, sizeof(*nm.e));
	if (!nm.e)
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		if (m->e[i].k)
			nm.e[xds_pmap_slot(&nm, m->e[i].k)] = m->e[i];
	nm.n = m->n;
	free(m->e);
	*m = nm;
	return 0;
}

void xds_pmap_fini(xds_pmap_t *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->e[i].v);
	free(m->e);
	*m = (xds_pmap_t){0};
}

const char *xds_pmap_name(xds_pmap_t *m, const void *k, void (*fn)(const void *, char *, size_t))
{
	if ((m->n + 1) * 2 > m->cap && xds_pmap_grow(m))
		goto oom;
	size_t i = xds_pmap_slot(m, k);
	if (m->e[i].k)
		return m->e[i].v;
	char name[128];
	fn(k, name, sizeof(name));
	m->e[i].v = strdup(name);
	if (!m->e[i].v)
		goto oom;
	m->e[i].k = k;
	m->n++;
	return m->e[i].v;
oom:
	return NULL;
}

int xds_pmap_set(xds_pmap_t *m, const void *k, const char *name)
{
	if ((m->n + 1) * 2 > m->cap && xds_pmap_grow(m))
		goto oom;
	size_t i = xds_pmap_slot(m, k);
	if (m->e[i].k)
		return CONTOUR_EOK;
	m->e[i].v = strdup(name);
	if (!m->e[i].v)
		goto oom;
	m->e[i].k = k;
	m->n++;
	return CONTOUR_EOK;
oom:
	return CONTOUR_ENOMEM;
}
