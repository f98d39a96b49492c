/* modules/xds-grpc/xds_translate.c: DAG -> Envoy resources: the driver that
 * runs each resource type's translation and collects what they build. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <contour/error.h>
#include <contour/log.h>
#include <contour/snapshot.h>
#include "modules/xds-grpc/xds_translate.h"

/* Append one resource (name and bytes copied; with steal, bytes is
 * malloc'd memory the resource takes over). */
static int xds_build_push(xds_build_t *b, xds_type_t t, const char *name, const uint8_t *bytes,
                          size_t len, uint64_t hash, uint64_t src, uint8_t *steal)
{
	if (b->nres[t] == b->cap[t]) {
		size_t cap = b->cap[t] ? b->cap[t] * 2 : 16;
		xds_resource_t *nr = realloc(b->res[t], cap * sizeof(*nr));
		if (!nr)
			goto fail;
		b->res[t] = nr;
		b->cap[t] = cap;
	}
	xds_resource_t *r = &b->res[t][b->nres[t]];
	r->name = strdup(name);
	r->bytes = steal ? steal : malloc(len ? len : 1);
	if (!r->name || !r->bytes) {
		free(r->name);
		if (!steal)
			free(r->bytes);
		goto fail;
	}
	if (!steal)
		memcpy(r->bytes, bytes, len);
	xds_frag_resolve(b, r->bytes);
	r->len = len;
	r->hash = hash;
	r->src = src;
	b->nres[t]++;
	return CONTOUR_EOK;
fail:
	b->oom = 1;
	return CONTOUR_ENOMEM;
}

int xds_build_add_src(xds_build_t *b, xds_type_t t, const char *name, uint64_t src)
{
	xpb_t *w = &b->w;
	int rc = CONTOUR_ENOMEM;
	/* the big ones (listeners, ingress_http's routes) take the writer's
	 * buffer instead of a copy; the writer starts a new one */
	uint8_t *steal = w->len >= (1 << 20) ? w->buf : NULL;
	if (w->oom) {
		b->oom = 1;
	} else {
		rc = xds_build_push(b, t, name, w->buf, w->len, xds_hash_bytes(w->buf, w->len), src,
		                    steal);
		if (rc == CONTOUR_EOK && steal) {
			w->buf = NULL;
			w->cap = 0;
		}
	}
	xpb_reset(w);
	return rc;
}

int xds_build_add(xds_build_t *b, xds_type_t t, const char *name)
{
	return xds_build_add_src(b, t, name, 0);
}

int xds_build_copy(xds_build_t *b, xds_type_t t, const xds_resource_t *r)
{
	b->reused[t]++;
	return xds_build_push(b, t, r->name, r->bytes, r->len, r->hash, r->src, NULL);
}

static void xds_build_fini(xds_build_t *b)
{
	xds_resources_free(b->res, b->nres);
	xds_pmap_fini(&b->cnames);
	xds_pmap_fini(&b->snames);
	xds_build_reuse_fini(b);
	xpb_fini(&b->w);
	for (size_t i = 0; i < sizeof(b->memo) / sizeof(*b->memo); i++)
		xpb_fini(&b->memo[i]);
}

static double xds_cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

xds_snapshot_t *xds_translate_timed(contour_module_t *mod, contour_snapshot_t *snap,
                                    const xds_settings_t *settings, const xds_snapshot_t *prev,
                                    double phase_ms[XDS_NPHASES], size_t reused[XDS_NTYPES + 1])
{
	xds_build_t b = {.mod = mod, .dag = contour_snapshot_dag(snap), .prev = prev};
	xds_snapshot_t *out = NULL;
	if (settings)
		b.set = *settings;
	if (!b.set.http_address)
		b.set.http_address = "0.0.0.0";
	if (!b.set.http_port)
		b.set.http_port = 8080;
	if (!b.set.https_address)
		b.set.https_address = "0.0.0.0";
	if (!b.set.https_port)
		b.set.https_port = 8443;
	if (!b.set.stats_address)
		b.set.stats_address = "0.0.0.0";
	if (!b.set.stats_port)
		b.set.stats_port = 8002;
	if (!settings)
		b.set.admin_port = 9001;
	if (!b.set.http_access_log)
		b.set.http_access_log = "/dev/stdout";
	if (!b.set.https_access_log)
		b.set.https_access_log = "/dev/stdout";
	if (!b.set.globals)
		xds_settings_globals(mod, &b.set);
	b.setfp = xds_settings_fp(&b.set);
	b.cache = xds_cache_new();
	if (!b.cache)
		goto fail;

	static int (*const phases[])(xds_build_t *) = {
	    xds_translate_clusters,  xds_translate_endpoints, xds_translate_routes,
	    xds_translate_listeners, xds_translate_secrets,   xds_translate_runtime,
	};
	double t0 = phase_ms ? xds_cpu_ms() : 0;
	for (size_t i = 0; i < sizeof(phases) / sizeof(*phases); i++) {
		if (phases[i](&b) || b.oom)
			goto fail;
		if (phase_ms && i < XDS_NPHASES - 1) {
			/* secrets and runtime share a slot */
			double t1 = xds_cpu_ms();
			phase_ms[i < 4 ? i : 4] += t1 - t0;
			t0 = t1;
		}
	}
	if (reused) {
		for (int t = 0; t < XDS_NTYPES; t++)
			reused[t] = b.reused[t];
		reused[XDS_NTYPES] = b.frags_reused;
	}
	out = xds_snapshot_from_build(&b, prev);
	if (!out)
		goto fail;
	out->cache = b.cache;
	b.cache = NULL;
	if (phase_ms)
		phase_ms[5] = xds_cpu_ms() - t0;
	xds_build_fini(&b);
	return out;
fail:
	contour_log(mod, CONTOUR_LOG_ERR, "xds: translation failed: out of memory");
	xds_build_fini(&b);
	return NULL;
}

xds_snapshot_t *xds_translate(contour_module_t *mod, contour_snapshot_t *snap,
                              const xds_settings_t *settings, const xds_snapshot_t *prev)
{
	return xds_translate_timed(mod, snap, settings, prev, NULL, NULL);
}
