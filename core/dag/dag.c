/* core/dag/dag.c: building and sealing the DAG.
 *
 * Processors fill one DAG per build through the functions here; everything
 * lives in the DAG's arena and dies with the snapshot. Lookups by name go
 * through string maps whose keys are arena strings.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dag/dag_internal.h"

#define DAG_SEALED(dag) ((dag)->priv->sealed)

contour_dag_t *core_dag_new(core_t *core)
{
	core_arena_t *arena = core_arena_new(0);
	if (!arena)
		return NULL;
	contour_dag_t *dag = core_arena_alloc(arena, sizeof(*dag));
	struct contour_dag_private *p = core_arena_alloc(arena, sizeof(*p));
	if (!dag || !p) {
		core_arena_free(arena);
		return NULL;
	}
	dag->priv = p;
	p->core = core;
	p->arena = arena;
	p->vhosts = core_strmap_new();
	p->svhosts = core_strmap_new();
	p->secrets = core_strmap_new();
	p->delegations = core_strmap_new();
	if (!p->vhosts || !p->svhosts || !p->secrets || !p->delegations) {
		core_dag_free(dag);
		return NULL;
	}
	dag->http =
	    (contour_dag_listener_t){.name = "ingress_http", .address = "0.0.0.0", .port = 8080};
	dag->https =
	    (contour_dag_listener_t){.name = "ingress_https", .address = "0.0.0.0", .port = 8443};
	return dag;
}

void core_dag_free(contour_dag_t *dag)
{
	if (!dag)
		return;
	struct contour_dag_private *p = dag->priv;
	core_dag_services_free(dag);
	core_strmap_free(p->vhosts);
	core_strmap_free(p->svhosts);
	free(p->cluster_slots);
	core_strmap_free(p->secrets);
	core_strmap_free(p->delegations);
	core_arena_free(p->arena); /* holds dag and p themselves */
}

core_t *core_dag_core(const contour_dag_t *dag)
{
	return dag->priv->core;
}

void *contour_dag_new(contour_dag_t *dag, size_t size)
{
	return core_arena_alloc(dag->priv->arena, size);
}

const char *contour_dag_strdup(contour_dag_t *dag, const char *s)
{
	return core_arena_strdup(dag->priv->arena, s);
}

const char *contour_dag_printf(contour_dag_t *dag, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	if ((size_t)n < sizeof(small))
		return core_arena_strndup(dag->priv->arena, small, (size_t)n);
	char *big = core_arena_alloc(dag->priv->arena, (size_t)n + 1);
	if (!big)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return big;
}

/* Arena arrays grow by copying into a doubled block; the old block stays in
 * the arena (it dies with it). The capacity is implicit: 4 for 1 to 4
 * elements, then the next power of two, so a full block is one whose count
 * is 4 or a larger power of two. Lists must only ever grow through here. */
void *contour_dag_push(contour_dag_t *dag, void *list, size_t *count, const void *elem,
                       size_t elem_size)
{
	void **lp = list;
	size_t n = *count;
	if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
		size_t cap = n ? n * 2 : 4;
		unsigned char *grown = core_arena_alloc(dag->priv->arena, cap * elem_size);
		if (!grown)
			return NULL;
		if (n)
			memcpy(grown, *lp, n * elem_size);
		*lp = grown;
	}
	unsigned char *slot = (unsigned char *)*lp + n * elem_size;
	memcpy(slot, elem, elem_size);
	*count = n + 1;
	return slot;
}

static char *dag_lower(contour_dag_t *dag, const char *s)
{
	char *d = core_arena_strdup(dag->priv->arena, s);
	for (char *c = d; c && *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return d;
}

/* fqdn lower-cased into low (truncated as snprintf would). */
static const char *dag_lower_into(char *low, size_t len, const char *fqdn)
{
	size_t i = 0;
	for (; fqdn[i] && i + 1 < len; i++)
		low[i] = (char)tolower((unsigned char)fqdn[i]);
	low[i] = '\0';
	return low;
}

contour_dag_vhost_t *contour_dag_find_vhost(const contour_dag_t *dag, const char *fqdn)
{
	char low[512];
	return core_strmap_get(dag->priv->vhosts, dag_lower_into(low, sizeof(low), fqdn));
}

contour_dag_svhost_t *contour_dag_find_svhost(const contour_dag_t *dag, const char *fqdn)
{
	char low[512];
	return core_strmap_get(dag->priv->svhosts, dag_lower_into(low, sizeof(low), fqdn));
}

contour_dag_vhost_t *contour_dag_vhost(contour_dag_t *dag, const char *fqdn)
{
	if (DAG_SEALED(dag))
		return NULL;
	contour_dag_vhost_t *v = contour_dag_find_vhost(dag, fqdn);
	if (v)
		return v;
	v = contour_dag_new(dag, sizeof(*v));
	if (!v || !(v->fqdn = dag_lower(dag, fqdn)))
		return NULL;
	if (core_strmap_put(dag->priv->vhosts, v->fqdn, v) != 0)
		return NULL;
	return v;
}

contour_dag_svhost_t *contour_dag_svhost(contour_dag_t *dag, const char *fqdn)
{
	if (DAG_SEALED(dag))
		return NULL;
	contour_dag_svhost_t *s = contour_dag_find_svhost(dag, fqdn);
	if (s)
		return s;
	s = contour_dag_new(dag, sizeof(*s));
	if (!s || !(s->vhost.fqdn = dag_lower(dag, fqdn)))
		return NULL;
	s->min_tls_version = "1.2";
	s->max_tls_version = "1.3";
	if (core_strmap_put(dag->priv->svhosts, s->vhost.fqdn, s) != 0)
		return NULL;
	return s;
}

/* A growable byte builder for canonical keys. Keys are built for every
 * route and every backend of every build, so this avoids printf: appends
 * are memcpy and a hand-rolled decimal conversion. */
typedef struct dag_buf {
	char *p;
	size_t len, cap;
	int failed;
	char small[512];
} dag_buf_t;

static void buf_init(dag_buf_t *b)
{
	b->p = b->small;
	b->len = 0;
	b->cap = sizeof(b->small);
	b->failed = 0;
}

static void buf_fini(dag_buf_t *b)
{
	if (b->p != b->small)
		free(b->p);
}

/* Make room for n more bytes and the NUL: 0, or -1 once an allocation
 * failed (the key is then dropped by buf_key). */
static int buf_grow(dag_buf_t *b, size_t n)
{
	if (b->failed)
		return -1;
	size_t cap = b->cap * 2;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *g = b->p == b->small ? malloc(cap) : realloc(b->p, cap);
	if (!g) {
		b->failed = 1;
		return -1;
	}
	if (b->p == b->small)
		memcpy(g, b->small, b->len);
	b->p = g;
	b->cap = cap;
	return 0;
}

/* The common case inline: keys are short and fit the small buffer. */
static inline int buf_reserve(dag_buf_t *b, size_t n)
{
	if (!b->failed && b->len + n + 1 <= b->cap)
		return 0;
	return buf_grow(b, n);
}

static void buf_put(dag_buf_t *b, const void *data, size_t n)
{
	if (buf_reserve(b, n) != 0)
		return;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* v in decimal at b->p + b->len, which has room for 20 digits. */
static inline void buf_digits(dag_buf_t *b, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(b->p + b->len, tmp + i, sizeof(tmp) - i);
	b->len += sizeof(tmp) - i;
}

static void buf_u64(dag_buf_t *b, uint64_t v)
{
	if (buf_reserve(b, 20) != 0)
		return;
	buf_digits(b, v);
	b->p[b->len] = '\0';
}

static void buf_i64(dag_buf_t *b, int64_t v)
{
	if (v < 0) {
		buf_put(b, "-", 1);
		buf_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		buf_u64(b, (uint64_t)v);
	}
}

/* A tag, then numbers separated by '/'. */
static void buf_tag(dag_buf_t *b, const char *tag)
{
	buf_put(b, tag, strlen(tag));
}

/* Strings in keys are length-prefixed so no value can fake a separator:
 * "<len>:<bytes>;", written after one check for room (every route and
 * cluster key is mostly these). */
static void buf_str(dag_buf_t *b, const char *s)
{
	s = s ? s : "";
	size_t n = strlen(s);
	if (buf_reserve(b, n + 22) != 0)
		return;
	buf_digits(b, n);
	b->p[b->len++] = ':';
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len++] = ';';
	b->p[b->len] = '\0';
}

static const char *buf_key(contour_dag_t *dag, dag_buf_t *b)
{
	const char *key = b->failed ? NULL : core_arena_strndup(dag->priv->arena, b->p, b->len);
	buf_fini(b);
	return key;
}

static const char *route_key(contour_dag_t *dag, const contour_dag_route_t *r)
{
	dag_buf_t b;
	buf_init(&b);
	buf_tag(&b, "p");
	buf_u64(&b, (uint64_t)r->path.type);
	buf_str(&b, r->path.value);
	for (size_t i = 0; i < r->nheaders; i++) {
		const contour_dag_header_match_t *h = &r->headers[i];
		buf_tag(&b, "h");
		buf_u64(&b, (uint64_t)h->type << 3 | (uint64_t) !!h->invert << 2 |
		                (uint64_t) !!h->ignore_case << 1 |
		                (uint64_t) !!h->treat_missing_as_empty);
		buf_str(&b, h->name);
		buf_str(&b, h->value);
	}
	for (size_t i = 0; i < r->nqueries; i++) {
		const contour_dag_query_match_t *q = &r->queries[i];
		buf_tag(&b, "q");
		buf_u64(&b, (uint64_t)q->type << 1 | (uint64_t) !!q->ignore_case);
		buf_str(&b, q->name);
		buf_str(&b, q->value);
	}
	return buf_key(dag, &b);
}

int contour_dag_add_route(contour_dag_t *dag, contour_dag_vhost_t *vhost,
                          contour_dag_route_t *route)
{
	if (DAG_SEALED(dag))
		return CONTOUR_ESTATE;
	route->key = route_key(dag, route);
	if (!route->key)
		return CONTOUR_ENOMEM;
	for (size_t i = 0; i < vhost->nroutes; i++) {
		if (!strcmp(vhost->routes[i]->key, route->key)) {
			vhost->routes[i] = route;
			return CONTOUR_EOK;
		}
	}
	return contour_dag_push(dag, &vhost->routes, &vhost->nroutes, &route, sizeof(route))
	           ? CONTOUR_EOK
	           : CONTOUR_ENOMEM;
}

/* Build c's canonical key into b (initialised by the caller). */
static void cluster_key(dag_buf_t *bp, const contour_dag_cluster_t *c)
{
#define b (*bp)
	const contour_dag_service_t *s = &c->service;
	buf_str(&b, s->namespace_);
	buf_str(&b, s->name);
	buf_u64(&b, s->port);
	buf_tag(&b, "/");
	buf_u64(&b, s->health_port);
	buf_str(&b, s->port_name);
	buf_str(&b, s->health_port_name);
	buf_str(&b, s->external_name);
	buf_str(&b, c->protocol);
	buf_str(&b, c->sni);
	if (c->validation_ca) {
		buf_str(&b, c->validation_ca->namespace_);
		buf_str(&b, c->validation_ca->name);
	}
	buf_tag(&b, "san");
	buf_u64(&b, c->nsubject_names);
	for (size_t i = 0; i < c->nsubject_names; i++)
		buf_str(&b, c->subject_names[i]);
	buf_tag(&b, "lb");
	buf_u64(&b, (uint64_t)c->lb_strategy);
	const contour_dag_health_check_t *h = c->health_check;
	if (h) {
		buf_tag(&b, "hc");
		buf_u64(&b, (uint64_t) !!h->tcp);
		buf_tag(&b, "/");
		buf_i64(&b, h->interval_ms);
		buf_tag(&b, "/");
		buf_i64(&b, h->timeout_ms);
		buf_tag(&b, "/");
		buf_u64(&b, h->unhealthy_threshold);
		buf_tag(&b, "/");
		buf_u64(&b, h->healthy_threshold);
		buf_str(&b, h->path);
		buf_str(&b, h->host);
		for (size_t i = 0; i < h->nexpected_statuses; i++) {
			buf_u64(&b, h->expected_statuses[i].start);
			buf_tag(&b, "-");
			buf_u64(&b, h->expected_statuses[i].end);
			buf_tag(&b, ",");
		}
	}
	if (c->slow_start) {
		/* The aggression as its bit pattern: exact, and no printf. */
		uint64_t bits;
		memcpy(&bits, &c->slow_start->aggression, sizeof(bits));
		buf_tag(&b, "ss");
		buf_i64(&b, c->slow_start->window_ms);
		buf_tag(&b, "/");
		buf_u64(&b, bits);
		buf_tag(&b, "/");
		buf_u64(&b, c->slow_start->min_weight_percent);
	}
	buf_tag(&b, "idle");
	buf_i64(&b, c->idle_connection_timeout_ms);
	const contour_dag_circuit_breakers_t *cb = &c->circuit_breakers;
	buf_tag(&b, "cb");
	uint32_t cbv[] = {cb->max_connections, cb->max_pending_requests, cb->max_requests,
	                  cb->max_retries, cb->per_host_max_connections};
	for (size_t i = 0; i < sizeof(cbv) / sizeof(cbv[0]); i++) {
		buf_u64(&b, cbv[i]);
		buf_tag(&b, "/");
	}
#undef b
}

/* Cluster identity, field by field: true exactly when cluster_key() would
 * spell a and b alike (NULL strings read as ""). Keep the three in step:
 * cluster_key, cluster_same and core_dag_hash_cluster_id. */
static int cl_streq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static int cluster_same_hc(const contour_dag_health_check_t *a, const contour_dag_health_check_t *b)
{
	if (!a || !b)
		return a == b;
	if (!!a->tcp != !!b->tcp || a->interval_ms != b->interval_ms ||
	    a->timeout_ms != b->timeout_ms || a->unhealthy_threshold != b->unhealthy_threshold ||
	    a->healthy_threshold != b->healthy_threshold || !cl_streq(a->path, b->path) ||
	    !cl_streq(a->host, b->host) || a->nexpected_statuses != b->nexpected_statuses)
		return 0;
	for (size_t i = 0; i < a->nexpected_statuses; i++)
		if (a->expected_statuses[i].start != b->expected_statuses[i].start ||
		    a->expected_statuses[i].end != b->expected_statuses[i].end)
			return 0;
	return 1;
}

static int cluster_same(const contour_dag_cluster_t *a, const contour_dag_cluster_t *b)
{
	const contour_dag_service_t *x = &a->service, *y = &b->service;
	if (!cl_streq(x->namespace_, y->namespace_) || !cl_streq(x->name, y->name) ||
	    x->port != y->port || x->health_port != y->health_port ||
	    !cl_streq(x->port_name, y->port_name) ||
	    !cl_streq(x->health_port_name, y->health_port_name) ||
	    !cl_streq(x->external_name, y->external_name) || !cl_streq(a->protocol, b->protocol) ||
	    !cl_streq(a->sni, b->sni))
		return 0;
	if (!a->validation_ca != !b->validation_ca)
		return 0;
	if (a->validation_ca &&
	    (!cl_streq(a->validation_ca->namespace_, b->validation_ca->namespace_) ||
	     !cl_streq(a->validation_ca->name, b->validation_ca->name)))
		return 0;
	if (a->nsubject_names != b->nsubject_names)
		return 0;
	for (size_t i = 0; i < a->nsubject_names; i++)
		if (!cl_streq(a->subject_names[i], b->subject_names[i]))
			return 0;
	if (a->lb_strategy != b->lb_strategy || !cluster_same_hc(a->health_check, b->health_check))
		return 0;
	if (!a->slow_start != !b->slow_start)
		return 0;
	if (a->slow_start &&
	    (a->slow_start->window_ms != b->slow_start->window_ms ||
	     memcmp(&a->slow_start->aggression, &b->slow_start->aggression, sizeof(double)) ||
	     a->slow_start->min_weight_percent != b->slow_start->min_weight_percent))
		return 0;
	return a->idle_connection_timeout_ms == b->idle_connection_timeout_ms &&
	       !memcmp(&a->circuit_breakers, &b->circuit_breakers, sizeof(a->circuit_breakers));
}

struct dag_cluster_slot {
	uint64_t hash;
	contour_dag_cluster_t *cluster; /* NULL: empty */
};

/* The slot holding a cluster equal to c, or the empty one where it goes. */
static struct dag_cluster_slot *cluster_slot(const struct contour_dag_private *p,
                                             const contour_dag_cluster_t *c, uint64_t h)
{
	for (size_t i = (size_t)h & (p->cluster_cap - 1);; i = (i + 1) & (p->cluster_cap - 1)) {
		struct dag_cluster_slot *s = &p->cluster_slots[i];
		if (!s->cluster || (s->hash == h && cluster_same(s->cluster, c)))
			return s;
	}
}

static int cluster_slots_grow(struct contour_dag_private *p)
{
	size_t cap = p->cluster_cap ? p->cluster_cap * 2 : 64;
	struct dag_cluster_slot *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	for (size_t i = 0; i < p->cluster_cap; i++) {
		struct dag_cluster_slot *s = &p->cluster_slots[i];
		if (!s->cluster)
			continue;
		size_t j = (size_t)s->hash & (cap - 1);
		while (slots[j].cluster)
			j = (j + 1) & (cap - 1);
		slots[j] = *s;
	}
	free(p->cluster_slots);
	p->cluster_slots = slots;
	p->cluster_cap = cap;
	return 0;
}

contour_dag_cluster_t *contour_dag_cluster_intern(contour_dag_t *dag,
                                                  const contour_dag_cluster_t *tmpl)
{
	struct contour_dag_private *p = dag->priv;
	if (DAG_SEALED(dag))
		return NULL;
	/* Most calls find an existing cluster: compare fields, and spell the
	 * key only for a new one. */
	if ((p->ncluster_slots + 1) * 4 > p->cluster_cap * 3 && cluster_slots_grow(p) != 0)
		return NULL;
	uint64_t h = core_dag_hash_cluster_id(tmpl);
	struct dag_cluster_slot *slot = cluster_slot(p, tmpl, h);
	if (slot->cluster)
		return slot->cluster;
	dag_buf_t b;
	buf_init(&b);
	cluster_key(&b, tmpl);
	const char *key = buf_key(dag, &b);
	contour_dag_cluster_t *c = key ? contour_dag_new(dag, sizeof(*c)) : NULL;
	if (!c)
		return NULL;
	*c = *tmpl;
	c->key = key;
	if (!c->protocol)
		c->protocol = "";
	if (!c->service.port_name)
		c->service.port_name = "";
	slot->hash = h;
	slot->cluster = c;
	p->ncluster_slots++;
	return c;
}

static const char *secret_map_key(char *buf, size_t len, contour_dag_secret_type_t type,
                                  const char *ns, const char *name)
{
	snprintf(buf, len, "%d/%s/%s", (int)type, ns, name);
	return buf;
}

contour_dag_secret_t *core_dag_secret_get(const contour_dag_t *dag, contour_dag_secret_type_t type,
                                          const char *ns, const char *name)
{
	char key[600];
	return core_strmap_get(dag->priv->secrets,
	                       secret_map_key(key, sizeof(key), type, ns, name));
}

int core_dag_secret_put(contour_dag_t *dag, contour_dag_secret_t *s)
{
	char key[600];
	secret_map_key(key, sizeof(key), s->type, s->namespace_, s->name);
	const char *k = contour_dag_strdup(dag, key);
	if (!k || core_strmap_put(dag->priv->secrets, k, s) != 0)
		return CONTOUR_ENOMEM;
	return CONTOUR_EOK;
}

/* Delegations: "ns/name" -> a list of targets (dag_internal.h). */

int contour_dag_delegate(contour_dag_t *dag, const char *secret_ns, const char *secret_name,
                         const char *target_ns)
{
	if (DAG_SEALED(dag))
		return CONTOUR_ESTATE;
	const char *key = contour_dag_printf(dag, "%s/%s", secret_ns, secret_name);
	core_dag_delegation_t *d = contour_dag_new(dag, sizeof(*d));
	if (!key || !d || !(d->target = contour_dag_strdup(dag, target_ns)))
		return CONTOUR_ENOMEM;
	d->next = core_strmap_get(dag->priv->delegations, key);
	return core_strmap_put(dag->priv->delegations, key, d) == 0 ? CONTOUR_EOK : CONTOUR_ENOMEM;
}

int contour_dag_delegation_permitted(const contour_dag_t *dag, const char *secret_ns,
                                     const char *secret_name, const char *target_ns)
{
	if (!strcmp(secret_ns, target_ns))
		return 1;
	char key[600];
	snprintf(key, sizeof(key), "%s/%s", secret_ns, secret_name);
	for (core_dag_delegation_t *d = core_strmap_get(dag->priv->delegations, key); d; d = d->next)
		if (!strcmp(d->target, "*") || !strcmp(d->target, target_ns))
			return 1;
	return 0;
}

/* Sealing. */

/* A set of pointers (open addressing), to skip the objects sealing has
 * already met: every backend of every route names a cluster, most of them
 * one met before, and a pointer is cheaper to hash than its key. */
typedef struct dag_ptrset {
	const void **slots;
	size_t cap, count; /* cap: a power of two */
} dag_ptrset_t;

static size_t ptrset_slot(const dag_ptrset_t *ps, const void *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL;
	size_t i = (size_t)(h >> 32) & (ps->cap - 1);
	while (ps->slots[i] && ps->slots[i] != p)
		i = (i + 1) & (ps->cap - 1);
	return i;
}

/* 1: p is new (now added); 0: seen before; -1: out of memory. */
static int ptrset_add(dag_ptrset_t *ps, const void *p)
{
	if ((ps->count + 1) * 2 > ps->cap) {
		dag_ptrset_t g = {.cap = ps->cap ? ps->cap * 2 : 64};
		g.slots = calloc(g.cap, sizeof(*g.slots));
		if (!g.slots)
			return -1;
		for (size_t i = 0; i < ps->cap; i++)
			if (ps->slots[i])
				g.slots[ptrset_slot(&g, ps->slots[i])] = ps->slots[i];
		g.count = ps->count;
		free(ps->slots);
		*ps = g;
	}
	size_t i = ptrset_slot(ps, p);
	if (ps->slots[i])
		return 0;
	ps->slots[i] = p;
	ps->count++;
	return 1;
}

typedef struct dag_seal {
	contour_dag_t *dag;
	dag_ptrset_t cluster_ptrs, secret_ptrs;
	core_strmap_t *clusters_seen, *secrets_seen;
	int fallback_used;
	int failed;
} dag_seal_t;

static void seal_cluster(dag_seal_t *s, contour_dag_cluster_t *c)
{
	if (!c)
		return;
	int fresh = ptrset_add(&s->cluster_ptrs, c);
	if (fresh < 0)
		s->failed = 1;
	/* Interned clusters have unique keys, but one built by hand may
	 * repeat another's: the key decides, as it always did. */
	if (fresh <= 0 || core_strmap_get(s->clusters_seen, c->key))
		return;
	if (core_strmap_put(s->clusters_seen, c->key, c) != 0 ||
	    !contour_dag_push(s->dag, &s->dag->clusters, &s->dag->nclusters, &c, sizeof(c)))
		s->failed = 1;
}

static void seal_secret(dag_seal_t *s, contour_dag_secret_t *sec)
{
	char key[600];
	if (!sec)
		return;
	int fresh = ptrset_add(&s->secret_ptrs, sec);
	if (fresh < 0)
		s->failed = 1;
	if (fresh <= 0)
		return;
	snprintf(key, sizeof(key), "%s/%s", sec->namespace_, sec->name);
	if (core_strmap_get(s->secrets_seen, key))
		return;
	const char *k = contour_dag_strdup(s->dag, key);
	if (!k || core_strmap_put(s->secrets_seen, k, sec) != 0 ||
	    !contour_dag_push(s->dag, &s->dag->secrets, &s->dag->nsecrets, &sec, sizeof(sec)))
		s->failed = 1;
}

static void seal_routes(dag_seal_t *s, const contour_dag_vhost_t *v)
{
	for (size_t i = 0; i < v->nroutes; i++) {
		const contour_dag_route_t *r = v->routes[i];
		/* An HTTPS redirect sends nowhere; its backends stay on the TLS side. */
		if (r->https_redirect)
			continue;
		for (size_t j = 0; j < r->nbackends; j++)
			seal_cluster(s, r->backends[j].cluster);
		for (size_t j = 0; j < r->nmirrors; j++)
			seal_cluster(s, r->mirrors[j].cluster);
	}
}

static int seal_vhost(const char *key, void *value, void *ud)
{
	dag_seal_t *s = ud;
	contour_dag_vhost_t *v = value;
	/* A plain vhost exists only if it has at least one route. */
	if (v->nroutes == 0)
		return 0;
	if (!contour_dag_push(s->dag, &s->dag->vhosts, &s->dag->nvhosts, &v, sizeof(v)))
		s->failed = 1;
	seal_routes(s, v);
	return 0;
}

static int seal_svhost(const char *key, void *value, void *ud)
{
	dag_seal_t *s = ud;
	contour_dag_svhost_t *sv = value;
	/* A TLS vhost publishes a chain only with a valid secret and at least one
	 * route, or with a TCP proxy (upstream's rule). */
	if (!(sv->tcpproxy || (sv->secret && sv->vhost.nroutes > 0)))
		return 0;
	if (!contour_dag_push(s->dag, &s->dag->svhosts, &s->dag->nsvhosts, &sv, sizeof(sv)))
		s->failed = 1;
	if (sv->tcpproxy)
		for (size_t j = 0; j < sv->tcpproxy->nbackends; j++)
			seal_cluster(s, sv->tcpproxy->backends[j].cluster);
	else
		seal_routes(s, &sv->vhost);
	seal_secret(s, sv->secret);
	if (sv->fallback_certificate)
		s->fallback_used = 1;
	return 0;
}

static int cmp_vhost(const void *a, const void *b)
{
	return strcmp((*(contour_dag_vhost_t *const *)a)->fqdn,
	              (*(contour_dag_vhost_t *const *)b)->fqdn);
}

static int cmp_svhost(const void *a, const void *b)
{
	return strcmp((*(contour_dag_svhost_t *const *)a)->vhost.fqdn,
	              (*(contour_dag_svhost_t *const *)b)->vhost.fqdn);
}

static int cmp_cluster(const void *a, const void *b)
{
	return strcmp((*(contour_dag_cluster_t *const *)a)->key,
	              (*(contour_dag_cluster_t *const *)b)->key);
}

static int cmp_secret(const void *a, const void *b)
{
	const contour_dag_secret_t *x = *(contour_dag_secret_t *const *)a;
	const contour_dag_secret_t *y = *(contour_dag_secret_t *const *)b;
	int c = strcmp(x->namespace_, y->namespace_);
	return c ? c : strcmp(x->name, y->name);
}

/* tls.envoy-client-certificate: as upstream's processors, looked up without
 * a delegation check (the operator configured it); an invalid or missing
 * Secret is logged and left out, so no cluster names a secret SDS would not
 * serve. Configs without a namespace are refused at load by xds-grpc. */
static contour_dag_secret_t *dag_client_secret(contour_dag_t *dag)
{
	core_t *core = core_dag_core(dag);
	if (!core)
		return NULL;
	contour_module_t *self = &core->self;
	const char *name =
	    json_string_value(contour_conf_global(self, "tls.envoy-client-certificate.name"));
	const char *ns =
	    json_string_value(contour_conf_global(self, "tls.envoy-client-certificate.namespace"));
	if (!name || !*name || !ns || !*ns)
		return NULL;
	contour_dag_secret_t *sec = NULL;
	char err[256];
	if (contour_dag_lookup_secret(self, dag, ns, name, CONTOUR_DAG_SECRET_TLS, &sec, err,
	                              sizeof(err)) != CONTOUR_EOK) {
		contour_log(self, CONTOUR_LOG_ERR,
		            "tls.envoy-client-certificate Secret \"%s/%s\" is invalid: %s", ns,
		            name, err);
		return NULL;
	}
	return sec;
}

int core_dag_seal(contour_dag_t *dag)
{
	if (DAG_SEALED(dag))
		return CONTOUR_EOK;
	/* The Services parsed for this build and the cluster index are not
	 * needed any more. */
	core_dag_services_free(dag);
	free(dag->priv->cluster_slots);
	dag->priv->cluster_slots = NULL;
	dag->priv->cluster_cap = dag->priv->ncluster_slots = 0;
	dag_seal_t s = {.dag = dag};
	s.clusters_seen = core_strmap_new();
	s.secrets_seen = core_strmap_new();
	if (!s.clusters_seen || !s.secrets_seen) {
		core_strmap_free(s.clusters_seen);
		core_strmap_free(s.secrets_seen);
		return CONTOUR_ENOMEM;
	}
	core_strmap_foreach(dag->priv->vhosts, seal_vhost, &s);
	core_strmap_foreach(dag->priv->svhosts, seal_svhost, &s);
	if (s.fallback_used)
		seal_secret(&s, dag->fallback_secret);
	else
		dag->fallback_secret = NULL;
	/* upstream's GetSecrets: the client certificate of any cluster */
	dag->client_secret = dag->nclusters ? dag_client_secret(dag) : NULL;
	seal_secret(&s, dag->client_secret);
	core_strmap_free(s.clusters_seen);
	core_strmap_free(s.secrets_seen);
	free(s.cluster_ptrs.slots);
	free(s.secret_ptrs.slots);
	if (s.failed)
		return CONTOUR_ENOMEM;

	if (dag->nvhosts)
		qsort(dag->vhosts, dag->nvhosts, sizeof(*dag->vhosts), cmp_vhost);
	if (dag->nsvhosts)
		qsort(dag->svhosts, dag->nsvhosts, sizeof(*dag->svhosts), cmp_svhost);
	if (dag->nclusters)
		qsort(dag->clusters, dag->nclusters, sizeof(*dag->clusters), cmp_cluster);
	if (dag->nsecrets)
		qsort(dag->secrets, dag->nsecrets, sizeof(*dag->secrets), cmp_secret);

	/* Secrets and clusters first: vhost hashes fold theirs in. */
	for (size_t i = 0; i < dag->nsecrets; i++)
		dag->secrets[i]->hash = core_dag_hash_secret(dag->secrets[i]);
	for (size_t i = 0; i < dag->nclusters; i++)
		dag->clusters[i]->hash = core_dag_hash_cluster(dag->clusters[i]);
	for (size_t i = 0; i < dag->nvhosts; i++)
		dag->vhosts[i]->hash = core_dag_hash_vhost(dag->vhosts[i]);
	for (size_t i = 0; i < dag->nsvhosts; i++)
		dag->svhosts[i]->hash = core_dag_hash_svhost(dag->svhosts[i]);
	dag->priv->sealed = 1;
	return CONTOUR_EOK;
}
