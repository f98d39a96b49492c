/* modules/xds-grpc/xds_translate.c: DAG -> Envoy resources, the driver,
 * and the names upstream gives resources (Hashname, cluster, EDS and SDS
 * names). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <time.h>
#include <openssl/evp.h>
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

static inline uint64_t xds_rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

/* A content fingerprint, not a defence: eight bytes a step, multiply and
 * fold (resources reach megabytes; a byte-wise hash showed in profiles),
 * in four independent lanes over 32-byte blocks so the multiplies overlap
 * (every translation hashes all it encodes, 30 MB for 10,000 proxies). */
uint64_t xds_hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ (n * 0x9E3779B97F4A7C15ULL);
	if (n >= 32) {
		uint64_t l[4] = {h, h ^ 0xC2B2AE3D27D4EB4FULL, h ^ 0x165667B19E3779F9ULL,
		                 h ^ 0x27D4EB2F165667C5ULL};
		while (n >= 32) {
			for (int i = 0; i < 4; i++) {
				uint64_t v;
				memcpy(&v, b + 8 * i, 8);
				l[i] = (l[i] ^ v) * 0x9E3779B97F4A7C15ULL;
				l[i] ^= l[i] >> 29;
			}
			b += 32;
			n -= 32;
		}
		h = (l[0] ^ xds_rotl(l[1], 17) ^ xds_rotl(l[2], 31) ^ xds_rotl(l[3], 47)) *
		    0x9E3779B97F4A7C15ULL;
	}
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, b, 8);
		h = (h ^ v) * 0x9E3779B97F4A7C15ULL;
		h ^= h >> 29;
		b += 8;
		n -= 8;
	}
	uint64_t t = 0;
	memcpy(&t, b, n);
	h = (h ^ t) * 0x9E3779B97F4A7C15ULL;
	h ^= h >> 32;
	return h;
}

/* SHA-1 and SHA-256 through digests fetched once: the one-shot SHA1()
 * fetches the implementation on every call (a lock and a lookup). */
static EVP_MD *xds_md_sha1, *xds_md_sha256;
static pthread_once_t xds_md_once = PTHREAD_ONCE_INIT;

static void xds_md_init(void)
{
	xds_md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	xds_md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void xds_translate_cleanup(void)
{
	/* the once-control cannot be reset: xds_digest falls back to SHA1() */
	pthread_once(&xds_md_once, xds_md_init);
	EVP_MD_free(xds_md_sha1);
	EVP_MD_free(xds_md_sha256);
	xds_md_sha1 = NULL;
	xds_md_sha256 = NULL;
}

static void xds_digest(int sha256, const void *p, size_t n, uint8_t *out)
{
	pthread_once(&xds_md_once, xds_md_init);
	EVP_MD *md = sha256 ? xds_md_sha256 : xds_md_sha1;
	if (!md || !EVP_Digest(p, n, out, NULL, md, NULL)) {
		if (sha256)
			SHA256(p, n, out);
		else
			SHA1(p, n, out);
	}
}

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

/* Appends src to out[*o] within cap (keeping room for the NUL). */
void xds_cat(char *out, size_t cap, size_t *o, const char *src)
{
	size_t n = strlen(src);
	if (*o + n >= cap)
		n = *o + 1 < cap ? cap - *o - 1 : 0;
	memcpy(out + *o, src, n);
	*o += n;
}

void xds_cat_u32(char *out, size_t cap, size_t *o, uint32_t v)
{
	char d[12], *p = d + sizeof(d);
	*--p = 0;
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	xds_cat(out, cap, o, p);
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
		xds_go_duration((ms), d, sizeof(d));                                               \
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

static size_t xds_pmap_slot(const xds_pmap_t *m, const void *k)
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

static void xds_pmap_fini(xds_pmap_t *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->e[i].v);
	free(m->e);
	*m = (xds_pmap_t){0};
}

/* The cached name of k, computing it with fn on first use. */
static const char *xds_pmap_name(xds_build_t *b, xds_pmap_t *m, const void *k,
                                 void (*fn)(const void *, char *, size_t))
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
	b->oom = 1;
	return NULL;
}

/* Record name for k (a reused resource's: nothing to compute). */
static int xds_pmap_set(xds_build_t *b, xds_pmap_t *m, const void *k, const char *name)
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
	b->oom = 1;
	return CONTOUR_ENOMEM;
}

int xds_secret_name_set(xds_build_t *b, const contour_dag_secret_t *s, const char *name)
{
	return xds_pmap_set(b, &b->snames, s, name);
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
	if (p && !xds_pmap_set(b, &b->cnames, c, p->name))
		return xds_cluster_name(b, c);
	return xds_pmap_name(b, &b->cnames, c, xds_cluster_name_fn);
}

const char *xds_secret_name_cached(xds_build_t *b, const contour_dag_secret_t *s)
{
	return xds_pmap_name(b, &b->snames, s, xds_secret_name_fn);
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

static void xds_build_fini(xds_build_t *b)
{
	for (int t = 0; t < XDS_NTYPES; t++) {
		for (size_t i = 0; i < b->nres[t]; i++) {
			free(b->res[t][i].name);
			free(b->res[t][i].bytes);
		}
		free(b->res[t]);
	}
	xds_pmap_fini(&b->cnames);
	xds_pmap_fini(&b->snames);
	xds_build_reuse_fini(b);
	xpb_fini(&b->w);
	for (size_t i = 0; i < sizeof(b->memo) / sizeof(*b->memo); i++)
		xpb_fini(&b->memo[i]);
}

/* A timeouts.* duration: the config stores milliseconds, -1 for
 * "infinity"; upstream's timeout.Parse also reads an explicit 0 as
 * disabled. */
static int64_t xds_global_duration(contour_module_t *mod, const char *key, int64_t def)
{
	const json_t *v = contour_conf_global(mod, key);
	if (!json_is_integer(v))
		return def;
	json_int_t ms = json_integer_value(v);
	return ms <= 0 ? XDS_DUR_DISABLED : (int64_t)ms;
}

static unsigned xds_global_tls_version(contour_module_t *mod, const char *key, unsigned def)
{
	const char *v = json_string_value(contour_conf_global(mod, key));
	if (v && !strcmp(v, "1.2"))
		return 3;
	if (v && !strcmp(v, "1.3"))
		return 4;
	return def;
}

/* An integer setting that fits a uint32 (Envoy's UInt32Value), or def. */
static int64_t xds_global_u32(contour_module_t *mod, const char *key, int64_t def)
{
	const json_t *v = contour_conf_global(mod, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)UINT32_MAX)
		return def;
	return (int64_t)json_integer_value(v);
}

static const json_t *xds_global_list(contour_module_t *mod, const char *key)
{
	const json_t *v = contour_conf_global(mod, key);
	return json_is_array(v) && json_array_size(v) ? v : NULL;
}

/* default-http-versions: ALPN lists what is wanted, h2 first; one version
 * alone also fixes the HCM codec. None (or none known) means both, AUTO. */
static void xds_settings_http_versions(contour_module_t *mod, xds_settings_t *s)
{
	const json_t *list = contour_conf_global(mod, "default-http-versions");
	size_t i;
	const json_t *v;
	s->alpn_h1 = s->alpn_h2 = 0;
	json_array_foreach(list, i, v)
	{
		const char *t = json_string_value(v);
		if (t && !strcasecmp(t, "HTTP/1.1"))
			s->alpn_h1 = 1;
		else if (t && !strcasecmp(t, "HTTP/2"))
			s->alpn_h2 = 1;
	}
	s->codec = s->alpn_h1 && !s->alpn_h2 ? 1 : s->alpn_h2 && !s->alpn_h1 ? 2 : 0;
	if (!s->alpn_h1 && !s->alpn_h2)
		s->alpn_h1 = s->alpn_h2 = 1;
}

/* Not blank (Go's strings.TrimSpace(s) != ""). */
static int xds_not_blank(const char *s)
{
	for (; s && *s; s++)
		if (!strchr(" \t\n\r\v\f", *s))
			return 1;
	return 0;
}

/* compression.algorithm -> XDS_COMPRESS_*; -1 for a value upstream refuses. */
static int xds_compression(const char *alg)
{
	static const char *const names[] = {"disabled", "gzip", "brotli", "zstd"};
	if (!alg || !*alg)
		return XDS_COMPRESS_GZIP;
	for (int i = 0; i < 4; i++)
		if (!strcmp(alg, names[i]))
			return i;
	return -1;
}

int xds_settings_check(contour_module_t *mod, char *err, size_t errlen)
{
	/* CompressionAlgorithm.Validate */
	const char *alg = json_string_value(contour_conf_global(mod, "compression.algorithm"));
	if (xds_compression(alg) < 0) {
		snprintf(err, errlen, "invalid compression type: \"%s\"", alg);
		return CONTOUR_ECONFIG;
	}
	/* NamespacedName.Validate: both or neither */
	const json_t *cc = contour_conf_global(mod, "tls.envoy-client-certificate");
	int ns = xds_not_blank(json_string_value(json_object_get(cc, "namespace")));
	int name = xds_not_blank(json_string_value(json_object_get(cc, "name")));
	if (ns != name) {
		snprintf(err, errlen, "invalid TLS client certificate: %s must be defined",
		         ns ? "name" : "namespace");
		return CONTOUR_ECONFIG;
	}
	/* ListenerParameters.Validate, in its order */
	const char *bal =
	    json_string_value(contour_conf_global(mod, "listener.connection-balancer"));
	if (bal && *bal && strcmp(bal, "exact")) {
		snprintf(err, errlen,
		         "invalid listener connection balancer value \"%s\", only 'exact' "
		         "connection balancing is supported for now",
		         bal);
		return CONTOUR_ECONFIG;
	}
	static const struct {
		const char *key, *what;
	} mins[] = {
	    {"max-requests-per-connection", "max connections per request"},
	    {"per-connection-buffer-limit-bytes", "per connections buffer limit bytes"},
	    {"max-requests-per-io-cycle", "max connections per IO cycle"},
	    {"http2-max-concurrent-streams", "max HTTP/2 concurrent streams"},
	    {"max-connections-per-listener", "max connections per listener"},
	    {"max-connections-to-accept-per-socket-event", NULL},
	};
	for (size_t i = 0; i < sizeof(mins) / sizeof(*mins); i++) {
		char key[80];
		snprintf(key, sizeof(key), "listener.%s", mins[i].key);
		const json_t *v = contour_conf_global(mod, key);
		if (!json_is_integer(v))
			continue;
		json_int_t n = json_integer_value(v);
		if (n > UINT32_MAX) { /* upstream's YAML decoding into a uint32 */
			snprintf(err, errlen, "%s: %" JSON_INTEGER_FORMAT " does not fit a uint32",
			         key, n);
			return CONTOUR_ECONFIG;
		}
		if (n >= 1)
			continue;
		if (mins[i].what)
			snprintf(err, errlen,
			         "invalid %s value %" JSON_INTEGER_FORMAT
			         " set on listener, minimum value is 1",
			         mins[i].what, n);
		else
			snprintf(err, errlen, "%s must be greater than 0", mins[i].key);
		return CONTOUR_ECONFIG;
	}
	static const char *const sock[][2] = {{"tos", "IPv4 TOS"},
	                                      {"traffic-class", "IPv6 TrafficClass"}};
	for (size_t i = 0; i < 2; i++) {
		char key[80];
		snprintf(key, sizeof(key), "listener.socket-options.%s", sock[i][0]);
		const json_t *v = contour_conf_global(mod, key);
		json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;
		if (n < 0 || n > 255) {
			snprintf(err, errlen,
			         "invalid listener %s value %" JSON_INTEGER_FORMAT
			         ", must be in the range 0-255",
			         sock[i][1], n);
			return CONTOUR_ECONFIG;
		}
	}
	return CONTOUR_EOK;
}

void xds_settings_globals(contour_module_t *mod, xds_settings_t *s)
{
	s->request_timeout = xds_global_duration(mod, "timeouts.request-timeout", XDS_DUR_UNSET);
	s->connection_idle_timeout =
	    xds_global_duration(mod, "timeouts.connection-idle-timeout", 60000);
	s->stream_idle_timeout =
	    xds_global_duration(mod, "timeouts.stream-idle-timeout", XDS_DUR_UNSET);
	s->max_connection_duration =
	    xds_global_duration(mod, "timeouts.max-connection-duration", XDS_DUR_UNSET);
	s->delayed_close_timeout =
	    xds_global_duration(mod, "timeouts.delayed-close-timeout", XDS_DUR_UNSET);
	s->drain_timeout =
	    xds_global_duration(mod, "timeouts.connection-shutdown-grace-period", XDS_DUR_UNSET);
	s->connect_timeout = xds_global_duration(mod, "timeouts.connect-timeout", 2000);
	s->tls_min = xds_global_tls_version(mod, "tls.minimum-protocol-version", 3);
	s->tls_max = xds_global_tls_version(mod, "tls.maximum-protocol-version", 4);
	s->cipher_suites = xds_global_list(mod, "tls.cipher-suites");
	s->ecdh_curves = xds_global_list(mod, "tls.ecdh-curves");
	s->compression = xds_compression(
	    json_string_value(contour_conf_global(mod, "compression.algorithm")));
	xds_settings_http_versions(mod, s);
	s->merge_slashes = !json_is_true(contour_conf_global(mod, "disableMergeSlashes"));
	s->allow_chunked_length =
	    !json_is_true(contour_conf_global(mod, "disableAllowChunkedLength"));
	const char *sh = json_string_value(contour_conf_global(mod, "serverHeaderTransformation"));
	s->server_header = !sh                               ? 0
	                   : !strcmp(sh, "append_if_absent") ? 1
	                   : !strcmp(sh, "pass_through")     ? 2
	                                                     : 0;
	const json_t *hops = contour_conf_global(mod, "network.num-trusted-hops");
	s->num_trusted_hops = json_is_integer(hops) && json_integer_value(hops) > 0
	                          ? (uint32_t)json_integer_value(hops)
	                          : 0;
	s->strip_trailing_host_dot =
	    json_is_true(contour_conf_global(mod, "network.strip-trailing-host-dot"));
	const char *fam = json_string_value(contour_conf_global(mod, "cluster.dns-lookup-family"));
	s->dns_lookup_family = !fam                  ? 0
	                       : !strcmp(fam, "v4")  ? 1
	                       : !strcmp(fam, "v6")  ? 2
	                       : !strcmp(fam, "all") ? 4
	                                             : 0;
	s->max_requests_per_connection =
	    xds_global_u32(mod, "cluster.max-requests-per-connection", -1);
	s->per_connection_buffer_limit_bytes =
	    xds_global_u32(mod, "cluster.per-connection-buffer-limit-bytes", -1);
	s->cb_max_connections =
	    (uint32_t)xds_global_u32(mod, "cluster.circuit-breakers.maxConnections", 0);
	s->cb_max_pending_requests =
	    (uint32_t)xds_global_u32(mod, "cluster.circuit-breakers.maxPendingRequests", 0);
	s->cb_max_requests =
	    (uint32_t)xds_global_u32(mod, "cluster.circuit-breakers.maxRequests", 0);
	s->cb_max_retries = (uint32_t)xds_global_u32(mod, "cluster.circuit-breakers.maxRetries", 0);
	s->cb_per_host_max_connections =
	    (uint32_t)xds_global_u32(mod, "cluster.circuit-breakers.perHostMaxConnections", 0);
	const char *lvl = json_string_value(contour_conf_global(mod, "accesslog-level"));
	s->access_log_level = !lvl                       ? 0
	                      : !strcmp(lvl, "error")    ? 1
	                      : !strcmp(lvl, "critical") ? 2
	                      : !strcmp(lvl, "disabled") ? 3
	                                                 : 0;
	/* upstream's serve always sets an UpstreamTLS: defaults 1.2 and 1.3,
	 * the cipher list sanitised (Contour's when empty) */
	const json_t *up = contour_conf_global(mod, "cluster.upstream-tls");
	const char *v = json_string_value(json_object_get(up, "minimum-protocol-version"));
	s->up_tls_min = v && !strcmp(v, "1.3") ? 4 : 3;
	v = json_string_value(json_object_get(up, "maximum-protocol-version"));
	s->up_tls_max = v && !strcmp(v, "1.2") ? 3 : 4;
	const json_t *l = json_object_get(up, "cipher-suites");
	s->up_cipher_suites = json_is_array(l) && json_array_size(l) ? l : NULL;
	l = json_object_get(up, "ecdh-curves");
	s->up_ecdh_curves = json_is_array(l) && json_array_size(l) ? l : NULL;
	const char *bal =
	    json_string_value(contour_conf_global(mod, "listener.connection-balancer"));
	s->conn_balance_exact = bal && !strcmp(bal, "exact");
	s->l_max_requests_per_connection =
	    xds_global_u32(mod, "listener.max-requests-per-connection", -1);
	s->l_per_connection_buffer_limit_bytes =
	    xds_global_u32(mod, "listener.per-connection-buffer-limit-bytes", -1);
	s->http2_max_concurrent_streams =
	    xds_global_u32(mod, "listener.http2-max-concurrent-streams", -1);
	s->max_requests_per_io_cycle =
	    xds_global_u32(mod, "listener.max-requests-per-io-cycle", -1);
	s->max_connections_per_listener =
	    xds_global_u32(mod, "listener.max-connections-per-listener", -1);
	s->max_accept_per_socket_event =
	    xds_global_u32(mod, "listener.max-connections-to-accept-per-socket-event", -1);
	int64_t tos = xds_global_u32(mod, "listener.socket-options.tos", 0);
	int64_t tc = xds_global_u32(mod, "listener.socket-options.traffic-class", 0);
	s->socket_tos = tos > 0 && tos <= 255 ? (uint32_t)tos : 0;
	s->socket_traffic_class = tc > 0 && tc <= 255 ? (uint32_t)tc : 0;
	const char *fmt = json_string_value(contour_conf_global(mod, "accesslog-format"));
	s->access_log_json = fmt && !strcmp(fmt, "json");
	s->json_fields = xds_global_list(mod, "json-fields");
	s->access_log_format =
	    json_string_value(contour_conf_global(mod, "accesslog-format-string"));
	if (s->access_log_format && !*s->access_log_format)
		s->access_log_format = NULL;
	s->globals = 1;
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
