/* modules/xds-grpc/xds_names.c: the names upstream gives resources
 * (Hashname, cluster, EDS and SDS names), computed once per build. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>

#include <contour/error.h>
#include "modules/xds-grpc/xds_translate.h"

/* upstream's Hashname: join with "/"; when not shorter than l, truncate the
 * parts from the last one, each to l/nparts as <prefix>-<6 hex of the
 * SHA-256 of the whole joined string>. */
void xds_hashname(char *out, size_t cap, size_t l, const char **parts, size_t nparts)
{
	char full[1024], hash[65], tmp[1024];
	size_t off = 0, total = nparts ? nparts - 1 : 0;
	for (size_t i = 0; i < nparts; i++)
		total += strlen(parts[i]);
	if (total < l && total < cap) {
		/* the usual case: short enough, just joined */
		char *o = out;
		for (size_t i = 0; i < nparts; i++) {
			size_t n = strlen(parts[i]);
			if (i)
				*o++ = '/';
			memcpy(o, parts[i], n);
			o += n;
		}
		*o = 0;
		return;
	}
	full[0] = 0;
	for (size_t i = 0; i < nparts; i++)
		off += (size_t)snprintf(full + off, off < sizeof(full) ? sizeof(full) - off : 0,
		                        "%s%s", i ? "/" : "", parts[i]);
	if (off < l || off >= sizeof(full)) {
		snprintf(out, cap, "%s", full);
		if (off < l)
			return;
	}
	uint8_t d[SHA256_DIGEST_LENGTH];
	xds_digest(1, full, strlen(full), d);
	xds_hex(d, sizeof(d), hash);
	/* the truncated parts live in tmp, one slot of l+1 bytes each */
	const char *cur[16];
	size_t np = nparts < 16 ? nparts : 16;
	char slots[16][72];
	for (size_t i = 0; i < np; i++)
		cur[i] = parts[i];
	size_t per = l / np;
	for (size_t n = np; n-- > 0;) {
		size_t sl = strlen(cur[n]);
		if (per < sl) {
			if (per <= 6)
				snprintf(slots[n], sizeof(slots[n]), "%.*s", (int)per, hash);
			else
				snprintf(slots[n], sizeof(slots[n]), "%.*s-%.6s", (int)(per - 7),
				         cur[n], hash);
			cur[n] = slots[n];
		}
		size_t o = 0;
		for (size_t i = 0; i < np; i++)
			o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "%s%s", i ? "/" : "",
			                      cur[i]);
		if (o < l) {
			snprintf(out, cap, "%s", tmp);
			return;
		}
	}
	snprintf(out, cap, "%.*s", (int)(l < 64 ? l : 64), hash);
}


static const char *xds_lb_name(contour_dag_lb_strategy_t s)
{
	switch (s) {
	case CONTOUR_DAG_LB_WEIGHTED_LEAST_REQUEST:
		return "WeightedLeastRequest";
	case CONTOUR_DAG_LB_RANDOM:
		return "Random";
	case CONTOUR_DAG_LB_COOKIE:
		return "Cookie";
	case CONTOUR_DAG_LB_REQUEST_HASH:
		return "RequestHash";
	default:
		return "";
	}
}


/* upstream's Clustername: the SHA-1 of everything that makes Envoy treat the
 * cluster differently, in upstream's order and formatting. */
void xds_cluster_name_of(const contour_dag_cluster_t *c, char *out, size_t cap)
{
	/* appends, not snprintf: this runs for every cluster of a full
	 * translation */
	char buf[2048], d[64];
	size_t o = 0;
#define XDS_CAT(s) xds_cat(buf, sizeof(buf), &o, (s))
#define XDS_CAT_DUR(ms)                                                                            \
	do {                                                                                       \
		contour_duration_format((ms), d, sizeof(d));                                               \
		XDS_CAT(d);                                                                        \
	} while (0)
	XDS_CAT(xds_lb_name(c->lb_strategy));
	const contour_dag_health_check_t *hc = c->health_check;
	if (hc && !hc->tcp) {
		if (hc->timeout_ms > 0)
			XDS_CAT_DUR(hc->timeout_ms);
		if (hc->interval_ms > 0)
			XDS_CAT_DUR(hc->interval_ms);
		if (hc->unhealthy_threshold > 0)
			xds_cat_u32(buf, sizeof(buf), &o, hc->unhealthy_threshold);
		if (hc->healthy_threshold > 0)
			xds_cat_u32(buf, sizeof(buf), &o, hc->healthy_threshold);
		XDS_CAT(hc->path ? hc->path : "");
	}
	if (c->validation_ca)
		XDS_CAT(c->validation_ca->name);
	if (c->nsubject_names)
		XDS_CAT(c->subject_names[0]);
	XDS_CAT(c->protocol ? c->protocol : "");
	XDS_CAT(c->sni ? c->sni : "");
	if (c->idle_connection_timeout_ms != CONTOUR_DAG_TIMEOUT_DEFAULT)
		XDS_CAT_DUR(c->idle_connection_timeout_ms < 0 ? 0 : c->idle_connection_timeout_ms);
	if (c->slow_start) {
		XDS_CAT_DUR(c->slow_start->window_ms);
		snprintf(d, sizeof(d), "%f", c->slow_start->aggression);
		XDS_CAT(d);
		xds_cat_u32(buf, sizeof(buf), &o, c->slow_start->min_weight_percent);
	}
#undef XDS_CAT_DUR
#undef XDS_CAT
	uint8_t sha[SHA_DIGEST_LENGTH];
	xds_digest(0, buf, o, sha);
	char hex[11], port[16];
	size_t po = 0;
	xds_hex(sha, 5, hex);
	xds_cat_u32(port, sizeof(port), &po, c->service.port);
	port[po] = 0;
	const char *parts[4] = {c->service.namespace_, c->service.name, port, hex};
	xds_hashname(out, cap, 60, parts, 4);
}

/* The ptrmap's allocation failures fail the whole build. */
static const char *xds_names_cached(xds_build_t *b, xds_pmap_t *m, const void *k,
                                    void (*fn)(const void *, char *, size_t))
{
	const char *v = xds_pmap_name(m, k, fn);
	if (!v)
		b->oom = 1;
	return v;
}

static int xds_names_set(xds_build_t *b, xds_pmap_t *m, const void *k, const char *name)
{
	int rc = xds_pmap_set(m, k, name);
	if (rc != CONTOUR_EOK)
		b->oom = 1;
	return rc;
}

int xds_secret_name_set(xds_build_t *b, const contour_dag_secret_t *s, const char *name)
{
	return xds_names_set(b, &b->snames, s, name);
}

static void xds_cluster_name_fn(const void *k, char *out, size_t cap)
{
	xds_cluster_name_of(k, out, cap);
}

static void xds_secret_name_fn(const void *k, char *out, size_t cap)
{
	xds_secret_name(k, out, cap);
}

const char *xds_cluster_name(xds_build_t *b, const contour_dag_cluster_t *c)
{
	if (b->prev && b->cnames.cap) {
		size_t i = xds_pmap_slot(&b->cnames, c);
		if (b->cnames.e[i].k)
			return b->cnames.e[i].v;
	}
	/* a cluster reused from prev: its name is the resource's (no SHA-1) */
	const xds_resource_t *p =
	    b->prev ? xds_build_prev(b, XDS_CLUSTER, xds_key(b, XDS_CLUSTER, c->hash)) : NULL;
	if (p && !xds_names_set(b, &b->cnames, c, p->name))
		return xds_cluster_name(b, c);
	return xds_names_cached(b, &b->cnames, c, xds_cluster_name_fn);
}

const char *xds_secret_name_cached(xds_build_t *b, const contour_dag_secret_t *s)
{
	return xds_names_cached(b, &b->snames, s, xds_secret_name_fn);
}

size_t xds_eds_name(const contour_dag_service_t *s, char *out, size_t cap)
{
	size_t o = 0;
	xds_cat(out, cap, &o, s->namespace_);
	xds_cat(out, cap, &o, "/");
	xds_cat(out, cap, &o, s->name);
	if (s->port_name && *s->port_name) {
		xds_cat(out, cap, &o, "/");
		xds_cat(out, cap, &o, s->port_name);
	}
	out[o] = 0;
	return o;
}

void xds_secret_name(const contour_dag_secret_t *s, char *out, size_t cap)
{
	const char *pem = s->type == CONTOUR_DAG_SECRET_TLS  ? s->cert
	                  : s->type == CONTOUR_DAG_SECRET_CA ? s->ca
	                                                     : s->crl;
	uint8_t sha[SHA_DIGEST_LENGTH];
	char hex[11];
	xds_digest(0, pem ? pem : "", pem ? strlen(pem) : 0, sha);
	xds_hex(sha, 5, hex);
	const char *parts[3] = {s->namespace_, s->name, hex};
	xds_hashname(out, cap, 60, parts, 3);
}
