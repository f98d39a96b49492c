/* core/dag/dag_lookup.c: the Service and Secret lookups processors share
 * (upstream's KubernetesCache.LookupService and EnsureService, and
 * LookupTLSSecret / LookupCASecret / LookupCRLSecret), with upstream's
 * error texts.
 *
 * Secret validation parses certificates and keys, which is the expensive
 * part of a build with many TLS vhosts, so results are kept twice: in the
 * DAG (once per Secret and type per build) and in core->secret_cache across
 * builds, keyed by the Secret object itself. Store objects are never
 * modified, so the same pointer means the same content; the cache holds a
 * reference on each object so a freed object's address cannot come back as
 * a different Secret while an entry still names it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contour/json_get.h>

#include "core/dag/dag_internal.h"
#include "core/dag/secret_check.h"

/* Go's %q for the strings upstream quotes: printable ASCII as is, quotes
 * and backslashes escaped, everything else as \xNN. */
static const char *lk_quote(char *buf, size_t len, const char *s)
{
	size_t o = 0;
	if (len < 3)
		return "";
	buf[o++] = '"';
	for (; *s && o + 6 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			buf[o++] = (char)c;
		} else {
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static int lk_err(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int lk_err(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static const json_t *lk_annotation(const json_t *obj, const char *key)
{
	return json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"),
	                       key);
}

/* Services. */

/* strconv.ParseUint(s, 10, 32): digits only; anything else (or too big)
 * is 0, as upstream's annotation helpers treat it. */
static uint32_t lk_parse_u32(const json_t *v)
{
	const char *s = json_string_value(v);
	uint64_t n = 0;
	if (!s || !*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > UINT32_MAX)
			return 0;
	}
	return (uint32_t)n;
}

/* strconv.Atoi for intstr.IntValue(): an optional sign and decimal digits,
 * 0 when it does not parse. */
static long long lk_atoi(const char *s)
{
	char *end;
	if (!s || !*s || isspace((unsigned char)*s))
		return 0;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end || errno)
		return 0;
	return v;
}

/* ParseUpstreamProtocols, for one port: h2, then h2c, then tls, a later
 * annotation overriding an earlier one for the same port. */
static const char *lk_annotated_protocol(const json_t *svc, const char *port)
{
	static const char *const protos[] = {"h2", "h2c", "tls"};
	static const char *const keys[] = {"projectcontour.io/upstream-protocol.h2",
	                                   "projectcontour.io/upstream-protocol.h2c",
	                                   "projectcontour.io/upstream-protocol.tls"};
	const char *found = "";
	if (!port || !*port)
		return "";
	size_t plen = strlen(port);
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		const char *list = json_string_value(lk_annotation(svc, keys[i]));
		while (list && *list) {
			const char *comma = strchr(list, ',');
			const char *b = list, *e = comma ? comma : list + strlen(list);
			while (b < e && isspace((unsigned char)*b))
				b++;
			while (e > b && isspace((unsigned char)e[-1]))
				e--;
			if ((size_t)(e - b) == plen && !memcmp(b, port, plen))
				found = protos[i];
			list = comma ? comma + 1 : e;
			if (!comma)
				break;
		}
	}
	return found;
}

/* upstreamProtocol: a port's appProtocol decides alone when set. */
static const char *lk_protocol(const json_t *svc, const json_t *port, const char *port_name,
                               uint32_t number)
{
	const json_t *app = json_object_get(port, "appProtocol");
	if (json_is_string(app)) {
		const char *a = json_string_value(app);
		if (!strcmp(a, "kubernetes.io/h2c"))
			return "h2c";
		if (!strcmp(a, "https"))
			return "tls";
		return "";
	}
	/* Most Services carry no annotations: skip the parsing. */
	if (!json_object_size(json_object_get(json_object_get(svc, "metadata"), "annotations")))
		return "";
	const char *p = lk_annotated_protocol(svc, port_name);
	if (!*p) {
		char num[16];
		snprintf(num, sizeof(num), "%u", number);
		p = lk_annotated_protocol(svc, num);
	}
	return p;
}

static int lk_v4_forbidden(const unsigned char *a)
{
	/* loopback, unspecified, link-local unicast */
	return a[0] == 127 || (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0) ||
	       (a[0] == 169 && a[1] == 254);
}

/* net.ParseIP plus IsLoopback / IsUnspecified / IsLinkLocalUnicast. */
static int lk_ip_forbidden(const char *s)
{
	unsigned char a[16];
	if (inet_pton(AF_INET, s, a) == 1)
		return lk_v4_forbidden(a);
	if (inet_pton(AF_INET6, s, a) != 1)
		return 0;
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (!memcmp(a, mapped, sizeof(mapped)))
		return lk_v4_forbidden(a + 12);
	int zero = 1;
	for (int i = 0; i < 15; i++)
		zero &= a[i] == 0;
	if (zero && (a[15] == 0 || a[15] == 1))
		return 1;
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/* validateExternalName. */
static int lk_external_name(contour_module_t *mod, const char *ns, const char *name, const char *en,
                            char *err, size_t errlen)
{
	if (!json_is_true(contour_conf_global(mod, "enableExternalNameService")))
		return lk_err(err, errlen, CONTOUR_EINVAL,
		              "%s/%s is an ExternalName service, these are not currently enabled. "
		              "See the config.enableExternalNameService config file setting",
		              ns, name);
	char host[256];
	size_t n = strlen(en);
	if (n > 0 && en[n - 1] == '.')
		n--;
	if (n >= sizeof(host))
		return CONTOUR_EOK;
	memcpy(host, en, n);
	host[n] = '\0';
	if (!strcmp(host, "localhost") || !strcmp(host, "localhost.localdomain") ||
	    !strcmp(host, "local.projectcontour.io"))
		return lk_err(err, errlen, CONTOUR_EINVAL,
		              "%s/%s is an ExternalName service that points to localhost, this is "
		              "not allowed",
		              ns, name);
	if (lk_ip_forbidden(host))
		return lk_err(err, errlen, CONTOUR_EINVAL,
		              "%s/%s is an ExternalName service that points to a loopback, "
		              "link-local or unspecified IP address, this is not allowed",
		              ns, name);
	return CONTOUR_EOK;
}

/* The cross-build cache of the lookups (core->secret_cache): validated
 * Secrets (below), and parsed Services. */
struct core_secret_cache {
	core_strmap_t *map; /* Secrets: "ns/name" -> lk_entry_t */
	uint64_t swept_at;  /* core_pipeline_builds() at the last sweep */
	uint64_t validations;
	core_strmap_t *services; /* "ns/name" -> lk_parsed_t */
	uint64_t services_swept_at;
};

static core_secret_cache_t *lk_cache(core_t *core);

/* Services are cached twice. Every backend of every route names a Service,
 * usually one that other routes name too, and parsing one (ports, upstream
 * protocols, circuit-breaker annotations) means a dozen JSON look-ups:
 *
 * - across builds, in core->secret_cache, the parse of each Service object
 *   (lk_parsed_t), which holds a reference on the object so its address
 *   cannot come back as another; an entry no build used since the previous
 *   one is dropped;
 * - per build, in the DAG's private state, a copy with the strings the DAG
 *   hands out (namespace, name, port names) in the DAG's arena, made on the
 *   first lookup of the build, so every later lookup shares them. The copy
 *   lives in an arena of its own, dropped at seal.
 *
 * Both check that the store still holds the object they were made from:
 * callers may change the store between lookups of one DAG (the tests do). */
typedef struct lk_port {
	json_int_t number;
	const char *name;     /* into the object; NULL when unnamed */
	const char *dag_name; /* per build: DAG arena copy, "" when unnamed */
	const char *protocol; /* the port's `protocol`, into the object, or NULL */
	const char *upstream; /* "", "h2", "h2c" or "tls" (appProtocol, annotations) */
} lk_port_t;

typedef struct lk_parsed {
	json_t *obj;               /* our reference */
	char *key;                 /* the map's key, malloc'd */
	uint64_t used_at;          /* core_pipeline_builds() when last used */
	const char *external_name; /* into the object, or NULL */
	contour_dag_circuit_breakers_t breakers;
	size_t nports;
	lk_port_t ports[];
} lk_parsed_t;

typedef struct lk_service {
	json_t *obj;               /* our reference */
	const char *ns, *name;     /* DAG arena */
	const char *external_name; /* into the object, or NULL */
	const char *dag_external_name;
	contour_dag_circuit_breakers_t breakers;
	size_t nports;
	lk_port_t *ports; /* services arena */
} lk_service_t;

static void lk_parsed_free(void *value)
{
	lk_parsed_t *pa = value;
	if (!pa)
		return;
	json_decref(pa->obj);
	free(pa->key);
	free(pa);
}

/* Parse the Service obj, found in the store as key ("ns/name"). */
static lk_parsed_t *lk_parse_service(const char *key, const json_t *obj)
{
	const json_t *spec = json_object_get(obj, "spec");
	const json_t *ports = json_object_get(spec, "ports");
	size_t n = json_array_size(ports);
	lk_parsed_t *pa = calloc(1, sizeof(*pa) + n * sizeof(pa->ports[0]));
	if (!pa)
		return NULL;
	if (!(pa->key = strdup(key))) {
		free(pa);
		return NULL;
	}
	pa->nports = n;
	size_t i;
	const json_t *p;
	json_array_foreach(ports, i, p)
	{
		lk_port_t *lp = &pa->ports[i];
		lp->number = json_integer_value(json_object_get(p, "port"));
		lp->name = contour_json_get_str_opt(p, "name");
		lp->protocol = contour_json_get_str_opt(p, "protocol");
		lp->upstream = lk_protocol(obj, p, lp->name, (uint32_t)lp->number);
	}
	const char *type = contour_json_get_str_opt(spec, "type");
	if (type && !strcmp(type, "ExternalName")) {
		const char *en = contour_json_get_str_opt(spec, "externalName");
		if (en && *en)
			pa->external_name = en;
	}
	/* Most Services carry no annotations: nothing to look up. */
	if (json_object_size(json_object_get(json_object_get(obj, "metadata"), "annotations"))) {
		contour_dag_circuit_breakers_t *cb = &pa->breakers;
		cb->max_connections =
		    lk_parse_u32(lk_annotation(obj, "projectcontour.io/max-connections"));
		cb->max_pending_requests =
		    lk_parse_u32(lk_annotation(obj, "projectcontour.io/max-pending-requests"));
		cb->max_requests =
		    lk_parse_u32(lk_annotation(obj, "projectcontour.io/max-requests"));
		cb->max_retries = lk_parse_u32(lk_annotation(obj, "projectcontour.io/max-retries"));
		cb->per_host_max_connections =
		    lk_parse_u32(lk_annotation(obj, "projectcontour.io/per-host-max-connections"));
	}
	pa->obj = json_incref((json_t *)obj);
	return pa;
}

typedef struct lk_svc_sweep {
	core_strmap_t *keep;
	uint64_t since;
	int failed;
} lk_svc_sweep_t;

static int lk_svc_sweep_cb(const char *key, void *value, void *ud)
{
	lk_svc_sweep_t *s = ud;
	lk_parsed_t *pa = value;
	if (!s->failed && pa->used_at >= s->since) {
		if (core_strmap_put(s->keep, pa->key, pa) == 0)
			return 0;
		s->failed = 1;
	}
	lk_parsed_free(pa);
	return 0;
}

typedef struct lk_svc_count {
	uint64_t since;
	size_t stale;
} lk_svc_count_t;

static int lk_svc_count_cb(const char *key, void *value, void *ud)
{
	lk_svc_count_t *n = ud;
	n->stale += ((lk_parsed_t *)value)->used_at < n->since;
	return 0;
}

/* Once per build: drop the parses no build used since the previous one (the
 * Service was deleted, replaced, or is no longer named). The map has no
 * removal, so the survivors move to a new one, only when there are stale
 * entries. */
static int lk_services_sweep(core_secret_cache_t *c, uint64_t builds)
{
	if (c->services_swept_at == builds)
		return CONTOUR_EOK;
	c->services_swept_at = builds;
	lk_svc_count_t n = {.since = builds > 0 ? builds - 1 : 0};
	core_strmap_foreach(c->services, lk_svc_count_cb, &n);
	if (!n.stale)
		return CONTOUR_EOK;
	lk_svc_sweep_t s = {.keep = core_strmap_new(), .since = n.since};
	if (!s.keep)
		return CONTOUR_ENOMEM;
	core_strmap_foreach(c->services, lk_svc_sweep_cb, &s);
	core_strmap_free(c->services);
	c->services = s.keep;
	return CONTOUR_EOK;
}

/* The parse of obj (the store's Service key), from core's cache when it
 * has it. NULL without memory. *owned is set when the result is not cached
 * and the caller frees it. */
static lk_parsed_t *lk_parsed(core_t *core, const char *key, const json_t *obj, int *owned)
{
	*owned = 0;
	core_secret_cache_t *c = core ? lk_cache(core) : NULL;
	if (c && !c->services && !(c->services = core_strmap_new()))
		c = NULL;
	if (!c) {
		*owned = 1;
		return lk_parse_service(key, obj);
	}
	uint64_t builds = core_pipeline_builds(core->pipeline);
	if (lk_services_sweep(c, builds) != CONTOUR_EOK)
		return NULL;
	lk_parsed_t *pa = core_strmap_get(c->services, key);
	if (!pa || pa->obj != obj) {
		lk_parsed_t *fresh = lk_parse_service(key, obj);
		if (!fresh)
			return NULL;
		/* The map keeps the key string it has: a replacement takes over
		 * the old entry's (and gives it back if the map fails). */
		if (pa) {
			free(fresh->key);
			fresh->key = pa->key;
			pa->key = NULL;
		}
		if (core_strmap_put(c->services, fresh->key, fresh) != 0) {
			if (pa) {
				pa->key = fresh->key;
				fresh->key = NULL;
			}
			lk_parsed_free(fresh);
			return NULL;
		}
		lk_parsed_free(pa);
		pa = fresh;
	}
	pa->used_at = builds;
	return pa;
}

static int lk_service_release(const char *key, void *value, void *ud)
{
	lk_service_t *e = value;
	json_decref(e->obj);
	e->obj = NULL;
	return 0;
}

void core_dag_services_free(contour_dag_t *dag)
{
	struct contour_dag_private *p = dag->priv;
	if (p->services)
		core_strmap_foreach(p->services, lk_service_release, NULL);
	core_strmap_free(p->services);
	core_arena_free(p->services_arena);
	p->services = NULL;
	p->services_arena = NULL;
}

/* This build's copy of pa in e: the strings the DAG hands out go to the
 * DAG's arena. */
static int lk_service_copy(contour_dag_t *dag, core_arena_t *a, const char *ns, const char *name,
                           const lk_parsed_t *pa, lk_service_t *e)
{
	e->ns = contour_dag_strdup(dag, ns);
	e->name = contour_dag_strdup(dag, name);
	if (!e->ns || !e->name)
		return CONTOUR_ENOMEM;
	e->external_name = pa->external_name;
	if (pa->external_name &&
	    !(e->dag_external_name = contour_dag_strdup(dag, pa->external_name)))
		return CONTOUR_ENOMEM;
	e->breakers = pa->breakers;
	e->nports = pa->nports;
	if (!e->nports)
		return CONTOUR_EOK;
	e->ports = core_arena_alloc(a, e->nports * sizeof(*e->ports));
	if (!e->ports)
		return CONTOUR_ENOMEM;
	memcpy(e->ports, pa->ports, e->nports * sizeof(*e->ports));
	for (size_t i = 0; i < e->nports; i++) {
		lk_port_t *lp = &e->ports[i];
		if (!(lp->dag_name = contour_dag_strdup(dag, lp->name ? lp->name : "")))
			return CONTOUR_ENOMEM;
	}
	return CONTOUR_EOK;
}

/* This build's entry for obj (found in the store as ns/name), or NULL
 * without memory. */
static const lk_service_t *lk_service(contour_dag_t *dag, const char *ns, const char *name,
                                      const json_t *obj)
{
	struct contour_dag_private *p = dag->priv;
	if (!p->services) {
		p->services = core_strmap_new();
		p->services_arena = core_arena_new(0);
		if (!p->services || !p->services_arena) {
			core_dag_services_free(dag);
			return NULL;
		}
	}
	size_t nl = strlen(ns), ml = strlen(name);
	char small[256], *key = small;
	if (nl + ml + 2 > sizeof(small) &&
	    !(key = core_arena_alloc(p->services_arena, nl + ml + 2)))
		return NULL;
	memcpy(key, ns, nl);
	key[nl] = '/';
	memcpy(key + nl + 1, name, ml + 1);

	lk_service_t *e = core_strmap_get(p->services, key);
	if (e && e->obj == obj)
		return e;
	/* New, or the store holds another object now (an outdated entry is
	 * replaced; its arena memory stays until seal). */
	int owned;
	lk_parsed_t *pa = lk_parsed(core_dag_core(dag), key, obj, &owned);
	lk_service_t *n = pa ? core_arena_alloc(p->services_arena, sizeof(*n)) : NULL;
	int rc = n ? lk_service_copy(dag, p->services_arena, ns, name, pa, n) : CONTOUR_ENOMEM;
	if (owned)
		lk_parsed_free(pa);
	if (rc != CONTOUR_EOK)
		return NULL;
	/* A replacement keeps the key the map already holds; a new entry needs
	 * one that lives as long as the map. */
	if (!e && key == small && !(key = core_arena_strdup(p->services_arena, small)))
		return NULL;
	if (core_strmap_put(p->services, key, n) != 0)
		return NULL;
	n->obj = json_incref((json_t *)obj);
	if (e) {
		json_decref(e->obj);
		e->obj = NULL;
	}
	return n;
}

int contour_dag_lookup_service(contour_module_t *mod, contour_dag_t *dag, const char *ns,
                               const char *name, uint32_t port_number, const char *port_name,
                               contour_dag_service_t *svc, const char **protocol,
                               contour_dag_circuit_breakers_t *breakers, char *err, size_t errlen)
{
	char q1[600], q2[300];
	char meta[520];
	contour_object_key_t key = {
	    .api_version = "v1", .kind = "Service", .namespace_ = ns, .name = name};
	const json_t *obj = contour_store_get(mod, &key);
	if (!obj) {
		snprintf(meta, sizeof(meta), "%s/%s", ns, name);
		return lk_err(err, errlen, CONTOUR_ENOENT, "service %s not found",
		              lk_quote(q1, sizeof(q1), meta));
	}
	const lk_service_t *e = lk_service(dag, ns, name, obj);
	if (!e)
		return lk_err(err, errlen, CONTOUR_ENOMEM, "out of memory");

	/* intstr semantics: a number matches by number; a name matches by name,
	 * and by number too when it reads as one (IntValue()). */
	char want_str[32];
	const char *want = port_name ? port_name : "";
	long long want_int = 0;
	if (port_number > 0) {
		/* Decimal without printf: this runs for every backend. */
		size_t i = sizeof(want_str);
		want_str[--i] = '\0';
		for (uint32_t v = port_number; v; v /= 10)
			want_str[--i] = (char)('0' + v % 10);
		want = want_str + i;
		want_int = port_number;
	} else {
		want_int = lk_atoi(want);
	}

	const lk_port_t *match = NULL;
	for (size_t i = 0; i < e->nports && !match; i++) {
		const lk_port_t *p = &e->ports[i];
		if ((p->number > 0 && p->number == want_int) || (p->name && !strcmp(p->name, want)))
			match = p;
	}
	if (!match) {
		snprintf(meta, sizeof(meta), "%s/%s", ns, name);
		return lk_err(err, errlen, CONTOUR_ENOENT, "port %s on service %s not matched",
		              lk_quote(q2, sizeof(q2), want), lk_quote(q1, sizeof(q1), meta));
	}
	if (match->protocol && *match->protocol && strcmp(match->protocol, "TCP"))
		return lk_err(err, errlen, CONTOUR_EINVAL, "unsupported service protocol %s",
		              lk_quote(q1, sizeof(q1), match->protocol));
	/* Not cached: it depends on the global settings, and is rare. */
	if (e->external_name) {
		int rc = lk_external_name(mod, ns, name, e->external_name, err, errlen);
		if (rc != CONTOUR_EOK)
			return rc;
	}

	memset(svc, 0, sizeof(*svc));
	svc->namespace_ = e->ns;
	svc->name = e->name;
	svc->port = (uint32_t)match->number;
	svc->port_name = match->dag_name;
	svc->external_name = e->dag_external_name;
	if (protocol)
		*protocol = match->upstream;
	if (breakers)
		*breakers = e->breakers;
	return CONTOUR_EOK;
}

/* Secrets. */

#define LK_NTYPES 3

/* One validation of one Secret object as one type. pem[] holds the decoded
 * data the DAG copies: TLS cert and key, the CA bundle, or the CRL. */
typedef struct lk_result {
	int done;
	int rc;
	char *err;
	char *pem[2];
} lk_result_t;

typedef struct lk_entry {
	char *key;       /* "ns/name", the map's key */
	char *ns, *name; /* name points into ns's block */
	json_t *obj;     /* our reference */
	lk_result_t res[LK_NTYPES];
} lk_entry_t;

static void lk_result_clear(lk_result_t *r)
{
	free(r->err);
	free(r->pem[0]);
	free(r->pem[1]);
	memset(r, 0, sizeof(*r));
}

static void lk_entry_free(void *value)
{
	lk_entry_t *e = value;
	if (!e)
		return;
	for (int t = 0; t < LK_NTYPES; t++)
		lk_result_clear(&e->res[t]);
	json_decref(e->obj);
	free(e->key);
	free(e->ns);
	free(e);
}

void core_secret_cache_free(core_secret_cache_t *c)
{
	if (!c)
		return;
	core_strmap_free_all(c->map, lk_entry_free);
	core_strmap_free_all(c->services, lk_parsed_free);
	free(c);
}

uint64_t core_secret_cache_validations(const core_t *core)
{
	return core && core->secret_cache ? core->secret_cache->validations : 0;
}

typedef struct lk_sweep {
	core_t *core;
	core_strmap_t *keep;
	int failed;
} lk_sweep_t;

static int lk_sweep_cb(const char *key, void *value, void *ud)
{
	lk_sweep_t *s = ud;
	lk_entry_t *e = value;
	contour_object_key_t k = {
	    .api_version = "v1", .kind = "Secret", .namespace_ = e->ns, .name = e->name};
	if (!s->failed && contour_store_get(&s->core->self, &k) == e->obj) {
		if (core_strmap_put(s->keep, e->key, e) == 0)
			return 0;
		s->failed = 1;
	}
	lk_entry_free(e);
	return 0;
}

/* Once per build: drop entries whose Secret was deleted or replaced, so the
 * cache holds no key material the store no longer has. The map has no
 * removal, so the survivors move to a new one. */
static int lk_cache_sweep(core_t *core, core_secret_cache_t *c)
{
	uint64_t builds = core_pipeline_builds(core->pipeline);
	if (builds == c->swept_at)
		return CONTOUR_EOK;
	lk_sweep_t s = {.core = core, .keep = core_strmap_new()};
	if (!s.keep)
		return CONTOUR_ENOMEM;
	core_strmap_foreach(c->map, lk_sweep_cb, &s);
	core_strmap_free(c->map);
	c->map = s.keep;
	c->swept_at = builds;
	return CONTOUR_EOK;
}

static core_secret_cache_t *lk_cache(core_t *core)
{
	if (!core->secret_cache) {
		core_secret_cache_t *c = calloc(1, sizeof(*c));
		if (!c || !(c->map = core_strmap_new())) {
			free(c);
			return NULL;
		}
		c->swept_at = core_pipeline_builds(core->pipeline);
		core->secret_cache = c;
	}
	return core->secret_cache;
}

/* The entry for ns/name holding obj: found, reset when the object changed,
 * or created. */
static lk_entry_t *lk_entry(core_secret_cache_t *c, const char *ns, const char *name,
                            const json_t *obj)
{
	size_t nl = strlen(ns), ml = strlen(name);
	char *key = malloc(nl + ml + 2);
	if (!key)
		return NULL;
	memcpy(key, ns, nl);
	key[nl] = '/';
	memcpy(key + nl + 1, name, ml + 1);
	lk_entry_t *e = core_strmap_get(c->map, key);
	if (e) {
		free(key);
		if (e->obj != obj) {
			for (int t = 0; t < LK_NTYPES; t++)
				lk_result_clear(&e->res[t]);
			json_decref(e->obj);
			e->obj = json_incref((json_t *)obj);
		}
		return e;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		free(key);
		return NULL;
	}
	/* ns and name share one block: a copy of key split at the slash. */
	e->key = key;
	e->ns = malloc(nl + ml + 2);
	if (!e->ns) {
		lk_entry_free(e);
		return NULL;
	}
	memcpy(e->ns, key, nl + ml + 2);
	e->ns[nl] = '\0';
	e->name = e->ns + nl + 1;
	e->obj = json_incref((json_t *)obj);
	if (core_strmap_put(c->map, e->key, e) != 0) {
		lk_entry_free(e);
		return NULL;
	}
	return e;
}

/* A data item, decoded: stringData (which the API server merges over data
 * on write; manifests read from files still carry it) wins over data.
 * *out is NULL when the key is absent. */
static int lk_secret_item(const json_t *obj, const char *item, unsigned char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	const json_t *sd = json_object_get(json_object_get(obj, "stringData"), item);
	if (json_is_string(sd)) {
		*len = json_string_length(sd);
		*out = malloc(*len + 1);
		if (!*out)
			return CONTOUR_ENOMEM;
		memcpy(*out, json_string_value(sd), *len + 1);
		return CONTOUR_EOK;
	}
	const json_t *d = json_object_get(json_object_get(obj, "data"), item);
	if (!d)
		return CONTOUR_EOK;
	if (!json_is_string(d)) {
		/* JSON null decodes to an empty value in Go: present, empty. */
		*out = calloc(1, 1);
		return *out ? CONTOUR_EOK : CONTOUR_ENOMEM;
	}
	return core_secret_base64_decode(json_string_value(d), json_string_length(d), out, len);
}

static void lk_validate(const json_t *obj, contour_dag_secret_type_t type, lk_result_t *r)
{
	static const char *const items[LK_NTYPES][2] = {
	    [CONTOUR_DAG_SECRET_TLS] = {"tls.crt", "tls.key"},
	    [CONTOUR_DAG_SECRET_CA] = {"ca.crt", NULL},
	    [CONTOUR_DAG_SECRET_CRL] = {"crl.pem", NULL},
	};
	char msg[512];
	unsigned char *v[2] = {NULL, NULL};
	size_t n[2] = {0, 0};
	const json_t *tj = json_object_get(obj, "type");
	const char *stype = tj ? json_string_value(tj) : CORE_SECRET_TYPE_OPAQUE;
	r->done = 1;
	r->rc = CONTOUR_EOK;
	for (int i = 0; i < 2 && items[type][i] && r->rc == CONTOUR_EOK; i++) {
		r->rc = lk_secret_item(obj, items[type][i], &v[i], &n[i]);
		if (r->rc == CONTOUR_EINVAL)
			snprintf(msg, sizeof(msg), "data \"%s\" is not valid base64",
			         items[type][i]);
		else if (r->rc == CONTOUR_ENOMEM)
			snprintf(msg, sizeof(msg), "out of memory");
	}
	if (r->rc == CONTOUR_EOK) {
		switch (type) {
		case CONTOUR_DAG_SECRET_TLS:
			r->rc =
			    core_secret_check_tls(stype, v[0], n[0], v[1], n[1], msg, sizeof(msg));
			break;
		case CONTOUR_DAG_SECRET_CA:
			r->rc = core_secret_check_ca(stype, v[0], n[0], msg, sizeof(msg));
			break;
		case CONTOUR_DAG_SECRET_CRL:
			r->rc = core_secret_check_crl(stype, v[0], n[0], msg, sizeof(msg));
			break;
		}
		if (r->rc == CONTOUR_ENOMEM)
			snprintf(msg, sizeof(msg), "out of memory");
	}
	if (r->rc != CONTOUR_EOK) {
		/* An allocation failure is not a property of the Secret: try again
		 * next time. */
		r->done = r->rc != CONTOUR_ENOMEM;
		r->err = strdup(msg);
		if (!r->err)
			r->done = 0;
		free(v[0]);
		free(v[1]);
		return;
	}
	r->pem[0] = (char *)v[0];
	r->pem[1] = (char *)v[1];
}

int contour_dag_lookup_secret(contour_module_t *mod, contour_dag_t *dag, const char *ns,
                              const char *name, contour_dag_secret_type_t type,
                              contour_dag_secret_t **out, char *err, size_t errlen)
{
	*out = NULL;
	if ((unsigned)type >= LK_NTYPES)
		return lk_err(err, errlen, CONTOUR_EINVAL, "unknown secret type");
	contour_dag_secret_t *s = core_dag_secret_get(dag, type, ns, name);
	if (s) {
		*out = s;
		return CONTOUR_EOK;
	}
	contour_object_key_t key = {
	    .api_version = "v1", .kind = "Secret", .namespace_ = ns, .name = name};
	const json_t *obj = contour_store_get(mod, &key);
	if (!obj)
		return lk_err(err, errlen, CONTOUR_ENOENT, "Secret not found");

	core_t *core = core_dag_core(dag);
	core_secret_cache_t *c = lk_cache(core);
	if (!c || lk_cache_sweep(core, c) != CONTOUR_EOK)
		return lk_err(err, errlen, CONTOUR_ENOMEM, "out of memory");
	lk_entry_t *e = lk_entry(c, ns, name, obj);
	if (!e)
		return lk_err(err, errlen, CONTOUR_ENOMEM, "out of memory");
	lk_result_t *r = &e->res[type];
	if (!r->done) {
		lk_result_clear(r);
		lk_validate(obj, type, r);
		c->validations++;
	}
	if (r->rc != CONTOUR_EOK) {
		int rc = r->rc;
		lk_err(err, errlen, rc, "%s", r->err ? r->err : "out of memory");
		if (!r->done)
			lk_result_clear(r);
		return rc;
	}

	s = contour_dag_new(dag, sizeof(*s));
	if (!s)
		return lk_err(err, errlen, CONTOUR_ENOMEM, "out of memory");
	s->namespace_ = contour_dag_strdup(dag, ns);
	s->name = contour_dag_strdup(dag, name);
	s->type = type;
	const char **dst[LK_NTYPES][2] = {
	    [CONTOUR_DAG_SECRET_TLS] = {&s->cert, &s->key},
	    [CONTOUR_DAG_SECRET_CA] = {&s->ca, NULL},
	    [CONTOUR_DAG_SECRET_CRL] = {&s->crl, NULL},
	};
	int oom = !s->namespace_ || !s->name;
	for (int i = 0; i < 2; i++) {
		if (!dst[type][i])
			continue;
		*dst[type][i] = contour_dag_strdup(dag, r->pem[i]);
		oom |= !*dst[type][i];
	}
	if (oom || core_dag_secret_put(dag, s) != CONTOUR_EOK)
		return lk_err(err, errlen, CONTOUR_ENOMEM, "out of memory");
	*out = s;
	return CONTOUR_EOK;
}
