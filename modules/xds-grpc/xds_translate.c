/* modules/xds-grpc/xds_translate.c: DAG -> Envoy resources, the driver,
 * and the names upstream gives resources (Hashname, cluster, EDS and SDS
 * names). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>

#include <contour/error.h>
#include <contour/log.h>
#include <contour/snapshot.h>
#include "modules/xds-grpc/xds_translate.h"

static const char *const xds_type_urls[XDS_NTYPES] = {
    XDS_TYPE_LISTENER, XDS_TYPE_ROUTE,  XDS_TYPE_CLUSTER,
    XDS_TYPE_ENDPOINT, XDS_TYPE_SECRET, XDS_TYPE_RUNTIME,
};

const char *xds_type_url(xds_type_t t)
{
	return (unsigned)t < XDS_NTYPES ? xds_type_urls[t] : NULL;
}

int xds_type_of_url(const char *url)
{
	for (int t = 0; url && t < XDS_NTYPES; t++)
		if (!strcmp(url, xds_type_urls[t]))
			return t;
	return -1;
}

/* FNV-1a, 64 bits: a content fingerprint, not a defence. */
uint64_t xds_hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int xds_build_add(xds_build_t *b, xds_type_t t, const char *name)
{
	xpb_t *w = &b->w;
	if (w->oom)
		goto fail;
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
	r->bytes = malloc(w->len ? w->len : 1);
	if (!r->name || !r->bytes) {
		free(r->name);
		free(r->bytes);
		goto fail;
	}
	memcpy(r->bytes, w->buf, w->len);
	r->len = w->len;
	r->hash = xds_hash_bytes(w->buf, w->len);
	b->nres[t]++;
	xpb_reset(w);
	return CONTOUR_EOK;
fail:
	xpb_reset(w);
	b->oom = 1;
	return CONTOUR_ENOMEM;
}

static void xds_hex(const uint8_t *d, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[d[i] >> 4];
		out[2 * i + 1] = hx[d[i] & 15];
	}
	out[2 * n] = 0;
}

/* upstream's Hashname: join with "/"; when not shorter than l, truncate the
 * parts from the last one, each to l/nparts as <prefix>-<6 hex of the
 * SHA-256 of the whole joined string>. */
void xds_hashname(char *out, size_t cap, size_t l, const char **parts, size_t nparts)
{
	char full[1024], hash[65], tmp[1024];
	size_t off = 0;
	for (size_t i = 0; i < nparts; i++)
		off += (size_t)snprintf(full + off, off < sizeof(full) ? sizeof(full) - off : 0,
		                        "%s%s", i ? "/" : "", parts[i]);
	if (off < l || off >= sizeof(full)) {
		snprintf(out, cap, "%s", full);
		if (off < l)
			return;
	}
	uint8_t d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)full, strlen(full), d);
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

/* Go's time.Duration.String() for whole milliseconds: "0s", "500ms",
 * "2s", "1.5s", "3m0s", "1h0m0s". */
void xds_go_duration(int64_t ms, char *out, size_t cap)
{
	if (ms == 0) {
		snprintf(out, cap, "0s");
		return;
	}
	if (ms < 1000) {
		snprintf(out, cap, "%" PRId64 "ms", ms);
		return;
	}
	int64_t h = ms / 3600000, m = (ms / 60000) % 60, s = (ms / 1000) % 60, frac = ms % 1000;
	char sec[32];
	if (frac) {
		char f[8];
		snprintf(f, sizeof(f), "%03" PRId64, frac);
		for (int i = 2; i > 0 && f[i] == '0'; i--)
			f[i] = 0;
		snprintf(sec, sizeof(sec), "%" PRId64 ".%ss", s, f);
	} else {
		snprintf(sec, sizeof(sec), "%" PRId64 "s", s);
	}
	if (h)
		snprintf(out, cap, "%" PRId64 "h%" PRId64 "m%s", h, m, sec);
	else if (m)
		snprintf(out, cap, "%" PRId64 "m%s", m, sec);
	else
		snprintf(out, cap, "%s", sec);
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
	char buf[2048], d[64];
	size_t o = 0;
#define XDS_CAT(...)                                                                               \
	do {                                                                                       \
		if (o < sizeof(buf))                                                               \
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, __VA_ARGS__);              \
	} while (0)
	XDS_CAT("%s", xds_lb_name(c->lb_strategy));
	const contour_dag_health_check_t *hc = c->health_check;
	if (hc && !hc->tcp) {
		if (hc->timeout_ms > 0) {
			xds_go_duration(hc->timeout_ms, d, sizeof(d));
			XDS_CAT("%s", d);
		}
		if (hc->interval_ms > 0) {
			xds_go_duration(hc->interval_ms, d, sizeof(d));
			XDS_CAT("%s", d);
		}
		if (hc->unhealthy_threshold > 0)
			XDS_CAT("%u", hc->unhealthy_threshold);
		if (hc->healthy_threshold > 0)
			XDS_CAT("%u", hc->healthy_threshold);
		XDS_CAT("%s", hc->path ? hc->path : "");
	}
	if (c->validation_ca)
		XDS_CAT("%s", c->validation_ca->name);
	if (c->nsubject_names)
		XDS_CAT("%s", c->subject_names[0]);
	XDS_CAT("%s%s", c->protocol ? c->protocol : "", c->sni ? c->sni : "");
	if (c->idle_connection_timeout_ms != CONTOUR_DAG_TIMEOUT_DEFAULT) {
		xds_go_duration(c->idle_connection_timeout_ms < 0 ? 0
		                                                  : c->idle_connection_timeout_ms,
		                d, sizeof(d));
		XDS_CAT("%s", d);
	}
	if (c->slow_start) {
		xds_go_duration(c->slow_start->window_ms, d, sizeof(d));
		XDS_CAT("%s%f%u", d, c->slow_start->aggression, c->slow_start->min_weight_percent);
	}
#undef XDS_CAT
	uint8_t sha[SHA_DIGEST_LENGTH];
	SHA1((const unsigned char *)buf, o < sizeof(buf) ? o : sizeof(buf) - 1, sha);
	char hex[11], port[16];
	xds_hex(sha, 5, hex);
	snprintf(port, sizeof(port), "%u", c->service.port);
	const char *parts[4] = {c->service.namespace_, c->service.name, port, hex};
	xds_hashname(out, cap, 60, parts, 4);
}

const char *xds_cluster_name(xds_build_t *b, const contour_dag_cluster_t *c)
{
	if (!b->cnames) {
		size_t cap = 64;
		while (cap < b->dag->nclusters * 2 + 16)
			cap *= 2;
		b->cnames = calloc(cap, sizeof(*b->cnames));
		if (!b->cnames) {
			b->oom = 1;
			return NULL;
		}
		b->ncnames_cap = cap;
	}
	size_t mask = b->ncnames_cap - 1;
	size_t i = (size_t)(((uintptr_t)c >> 4) * 0x9E3779B97F4A7C15ULL) & mask;
	while (b->cnames[i].c && b->cnames[i].c != c)
		i = (i + 1) & mask;
	if (b->cnames[i].c)
		return b->cnames[i].name;
	if (b->ncnames * 2 + 2 > b->ncnames_cap) {
		/* Clusters outside dag->clusters are not expected; do not cache. */
		static __thread char spill[128];
		xds_cluster_name_of(c, spill, sizeof(spill));
		return spill;
	}
	char name[128];
	xds_cluster_name_of(c, name, sizeof(name));
	b->cnames[i].name = strdup(name);
	if (!b->cnames[i].name) {
		b->oom = 1;
		return NULL;
	}
	b->cnames[i].c = c;
	b->ncnames++;
	return b->cnames[i].name;
}

void xds_eds_name(const contour_dag_service_t *s, char *out, size_t cap)
{
	if (s->port_name && *s->port_name)
		snprintf(out, cap, "%s/%s/%s", s->namespace_, s->name, s->port_name);
	else
		snprintf(out, cap, "%s/%s", s->namespace_, s->name);
}

void xds_secret_name(const contour_dag_secret_t *s, char *out, size_t cap)
{
	const char *pem = s->type == CONTOUR_DAG_SECRET_TLS  ? s->cert
	                  : s->type == CONTOUR_DAG_SECRET_CA ? s->ca
	                                                     : s->crl;
	uint8_t sha[SHA_DIGEST_LENGTH];
	char hex[11];
	SHA1((const unsigned char *)(pem ? pem : ""), pem ? strlen(pem) : 0, sha);
	xds_hex(sha, 5, hex);
	const char *parts[3] = {s->namespace_, s->name, hex};
	xds_hashname(out, cap, 60, parts, 3);
}

static void xds_build_fini(xds_build_t *b)
{
	for (int t = 0; t < XDS_NTYPES; t++) {
		for (size_t i = 0; i < b->nres[t]; i++) {
			free(b->res[t][i].name);
			free(b->res[t][i].bytes);
		}
		free(b->res[t]);
	}
	for (size_t i = 0; i < b->ncnames_cap; i++)
		free(b->cnames[i].name);
	free(b->cnames);
	xpb_fini(&b->w);
}

xds_snapshot_t *xds_translate(contour_module_t *mod, contour_snapshot_t *snap,
                              const xds_settings_t *settings, const xds_snapshot_t *prev)
{
	xds_build_t b = {.mod = mod, .dag = contour_snapshot_dag(snap)};
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

	if (xds_translate_clusters(&b) || xds_translate_endpoints(&b) || xds_translate_routes(&b) ||
	    xds_translate_listeners(&b) || xds_translate_secrets(&b) || xds_translate_runtime(&b) ||
	    b.oom)
		goto fail;
	out = xds_snapshot_from_build(&b, prev);
	if (!out)
		goto fail;
	xds_build_fini(&b);
	return out;
fail:
	contour_log(mod, CONTOUR_LOG_ERR, "xds: translation failed: out of memory");
	xds_build_fini(&b);
	return NULL;
}
