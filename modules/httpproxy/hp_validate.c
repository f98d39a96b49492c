/* modules/httpproxy/hp_validate.c: the HTTPProxy validator (contour/admission.h).
 *
 * It runs the processor's own code (hp_build_root, hp_compute_routes) on
 * the object under review in a DAG of its own, with no other proxy than
 * the ones it includes directly, so every message is the status the build
 * would write. What the object gets wrong on its own is a denial; an
 * error caused by another object (hp_status_error_ref: a Service, Secret,
 * delegation or include missing or unusable) is a warning, so the order
 * objects are applied in does not matter. The fqdn index answers
 * collisions without a build.
 *
 * A collision is the build's rule: every root claiming one fqdn (case
 * folded, same ingress class) is invalid, with one message naming them
 * all. The denial is that message, so the webhook and the status agree on
 * who holds a name: if two creates slip past together (the webhook reads a
 * cache; so does every webhook), both become invalid, as upstream, and each
 * status names the other.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "modules/httpproxy/hp_proc.h"

/* The field an error type concerns: the status has no paths; the type says
 * which part of the spec the message is about. */
static const struct {
	const char *type, *field;
} hp_error_fields[] = {
    {"VirtualHostError", "spec.virtualhost"},
    {"TLSError", "spec.virtualhost.tls"},
    {"JWTVerificationError", "spec.virtualhost.jwtProviders"},
    {"AuthError", "spec.virtualhost.authorization"},
    {"IPFilterError", "spec.virtualhost"},
    {"CORSError", "spec.virtualhost.corsPolicy"},
    {"RootNamespaceError", "metadata.namespace"},
    {"IncludeError", "spec.includes"},
    {"TCPProxyError", "spec.tcpproxy"},
    {"TCPProxyIncludeError", "spec.tcpproxy.include"},
    {"RouteError", "spec.routes"},
    {"ServiceError", "spec.routes"},
    {"PrefixReplaceError", "spec.routes"},
    {"SpecError", "spec"},
};

static const char *hp_error_field(const char *type, const char *reason)
{
	if (!strcmp(reason, "FQDNNotSpecified") || !strcmp(reason, "DuplicateVhost"))
		return "spec.virtualhost.fqdn";
	for (size_t i = 0; i < sizeof(hp_error_fields) / sizeof(hp_error_fields[0]); i++)
		if (!strcmp(type, hp_error_fields[i].type))
			return hp_error_fields[i].field;
	return "spec";
}

/* ---- collisions ---- */

static int hp_claim_cmp(const void *a, const void *b)
{
	return hp_index_key_cmp(*(const char *const *)a, *(const char *const *)b);
}

/* The build's DuplicateVhost message for fqdn claimed by list plus self. */
static void hp_deny_duplicate(contour_verdict_t *v, const char *fqdn, const json_t *list,
                              const char *self)
{
	size_t n = json_array_size(list);
	const char **keys = calloc(n + 1, sizeof(*keys));
	size_t len = strlen(self) + 1, k = 0;
	if (!keys) {
		contour_verdict_deny(v, NULL, "out of memory");
		return;
	}
	keys[k++] = self;
	for (size_t i = 0; i < n; i++) {
		const char *o = json_string_value(json_array_get(list, i));
		if (strcmp(o, self)) {
			keys[k++] = o;
			len += strlen(o) + 2;
		}
	}
	qsort(keys, k, sizeof(*keys), hp_claim_cmp);
	char *joined = calloc(1, len);
	if (!joined) {
		free(keys);
		contour_verdict_deny(v, NULL, "out of memory");
		return;
	}
	size_t o = 0;
	for (size_t i = 0; i < k; i++)
		o += (size_t)snprintf(joined + o, len - o, "%s%s", i ? ", " : "", keys[i]);
	char q[HP_FQDN_MAX + 16];
	contour_quote(q, sizeof(q), fqdn, CONTOUR_QUOTE_STRCONV);
	contour_verdict_deny_reason(v, "DuplicateVhost", "spec.virtualhost.fqdn",
	                            "fqdn %s is used in multiple HTTPProxies: %s", q, joined);
	free(joined);
	free(keys);
}

static void hp_validate_fqdn(httpproxy_ctx_t *ctx, const contour_review_t *r, contour_verdict_t *v)
{
	char fqdn[HP_FQDN_MAX], old_fqdn[HP_FQDN_MAX], self[2 * HP_KEY_MAX];
	if (!hp_index_claim(ctx->mod, r->object, fqdn, sizeof(fqdn)))
		return;
	const json_t *meta = contour_json_get_obj(r->object, "metadata");
	snprintf(self, sizeof(self), "%s/%s", contour_json_get_str(meta, "namespace"),
	         contour_json_get_str(meta, "name"));
	const json_t *list = hp_index_claimants(ctx->index, fqdn);
	size_t others = 0;
	for (size_t i = 0; i < json_array_size(list); i++)
		others += strcmp(json_string_value(json_array_get(list, i)), self) != 0;
	if (!others)
		return;
	/* An update that keeps its fqdn keeps its place: a collision that
	 * already exists never blocks an unrelated edit (the status already
	 * says so). Only moving into a claimed name is refused. */
	if (r->old_object && hp_index_claim(ctx->mod, r->old_object, old_fqdn, sizeof(old_fqdn)) &&
	    !strcmp(fqdn, old_fqdn)) {
		contour_verdict_warn(v,
		                     "fqdn %s is already used by another HTTPProxy: the proxies "
		                     "claiming it are invalid until one gives it up",
		                     fqdn);
		return;
	}
	hp_deny_duplicate(v, fqdn, list, self);
}

/* ---- the object on its own ---- */

static void hp_add_ref(hp_build_t *b, const char *def_ns, const json_t *ref)
{
	const char *name = contour_json_get_str(ref, "name");
	if (!*name)
		return;
	const char *ns = contour_json_get_str(ref, "namespace");
	contour_object_key_t key = {.api_version = HP_API_VERSION,
	                            .kind = HP_KIND,
	                            .namespace_ = *ns ? ns : def_ns,
	                            .name = name};
	const json_t *obj = contour_store_get(b->mod, &key);
	if (!obj || !contour_ingress_class_matches(b->mod, obj))
		return;
	/* not sorted yet: a linear look, over a handful */
	for (size_t i = 0; i < b->nproxies; i++)
		if (!strcmp(b->proxies[i].ns, key.namespace_) && !strcmp(b->proxies[i].name, name))
			return;
	hp_build_add(b, obj);
}

static int hp_proxy_cmp(const void *a, const void *b)
{
	const hp_proxy_t *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);
	return c ? c : strcmp(x->name, y->name);
}

/* The reviewed object and what it includes directly, as the build would
 * find them (the object replaces its stored self). */
static hp_proxy_t *hp_review_table(hp_build_t *b, const json_t *obj)
{
	if (hp_build_add(b, obj) != 0)
		return NULL;
	const hp_proxy_t *self = &b->proxies[0];
	const char *ns = self->ns;
	size_t i;
	const json_t *inc;
	json_array_foreach(contour_json_get_arr(self->spec, "includes"), i, inc)
	{
		hp_add_ref(b, ns, inc);
		/* the array may move */
		self = &b->proxies[0];
		ns = self->ns;
	}
	hp_add_ref(b, ns,
	           contour_json_get_obj(contour_json_get_obj(self->spec, "tcpproxy"), "include"));
	if (b->nomem)
		return NULL;
	const json_t *meta = contour_json_get_obj(obj, "metadata");
	const char *sns = contour_json_get_str(meta, "namespace"),
	           *sname = contour_json_get_str(meta, "name");
	qsort(b->proxies, b->nproxies, sizeof(*b->proxies), hp_proxy_cmp);
	return hp_build_find(b, sns, sname);
}

static void hp_report(const hp_proxy_t *px, contour_verdict_t *v)
{
	const hp_status_t *st = px->st;
	if (!st)
		return;
	size_t i;
	const json_t *e;
	json_array_foreach(hp_status_errors(st), i, e)
	{
		const char *type = contour_json_get_str(e, "type"),
		           *reason = contour_json_get_str(e, "reason"),
		           *msg = contour_json_get_str(e, "message");
		if (hp_status_error_is_ref(st, i))
			contour_verdict_warn(v, "%s", msg);
		else
			contour_verdict_deny_reason(v, reason, hp_error_field(type, reason), "%s",
			                            msg);
	}
	json_array_foreach(hp_status_warnings(st), i, e)
	    contour_verdict_warn(v, "%s", contour_json_get_str(e, "message"));
}

static void hp_validate_alone(httpproxy_ctx_t *ctx, const json_t *obj, contour_verdict_t *v)
{
	hp_build_t b = {.ctx = ctx, .mod = ctx->mod, .dag = contour_dag_review_new(ctx->mod)};
	hp_proxy_t *px = b.dag ? hp_review_table(&b, obj) : NULL;
	if (px && contour_json_get_obj(px->spec, "virtualhost")) {
		hp_build_root(&b, px);
	} else if (px) {
		/* A proxy others include: its routes, as an include would see them. */
		hp_status_t *st = hp_build_accessor(&b, px);
		hp_routes_t routes = {0};
		if (st)
			hp_compute_routes(&b, st, px, px, NULL, NULL, 0, &routes);
		hp_build_commit(&b, px, st);
	}
	if (!px || b.nomem)
		contour_verdict_deny(v, NULL, "contour: out of memory validating this HTTPProxy");
	else
		hp_report(px, v);
	for (size_t i = 0; i < b.nproxies; i++)
		hp_status_free(b.proxies[i].st);
	free(b.proxies);
	contour_dag_review_free(b.dag);
}

void hp_validate(contour_module_t *mod, const contour_review_t *r, contour_verdict_t *v, void *ud)
{
	httpproxy_ctx_t *ctx = ud;
	if (!contour_review_is_ours(mod, r, v))
		return;
	hp_validate_fqdn(ctx, r, v);
	hp_validate_alone(ctx, r->object, v);
}
