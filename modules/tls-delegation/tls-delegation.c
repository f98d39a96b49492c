/* modules/tls-delegation/tls-delegation.c: TLSCertificateDelegation
 * (projectcontour.io/v1) objects become delegations in the DAG, early in
 * every build, so the routing processors can ask
 * contour_dag_delegation_permitted() whether a Secret in another namespace
 * may be used (upstream's KubernetesCache.delegationPermitted). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <contour/module.h>

#define TD_API  "projectcontour.io/v1"
#define TD_KIND "TLSCertificateDelegation"

typedef struct td_walk {
	contour_module_t *mod;
	contour_dag_t *dag;
	int rc;
} td_walk_t;

/* The first field of obj that does not have the type upstream's Go struct
 * gives it, or NULL. Upstream decodes the whole object or none of it, so one
 * bad field discards the object. */
static const char *td_malformed(const json_t *obj, char *buf, size_t len)
{
	const json_t *spec = json_object_get(obj, "spec");
	if (spec && !json_is_object(spec))
		return "spec is not a mapping";
	const json_t *dels = json_object_get(spec, "delegations");
	if (dels && !json_is_array(dels))
		return "spec.delegations is not a list";
	size_t i, j;
	const json_t *d, *t;
	json_array_foreach(dels, i, d)
	{
		if (!json_is_object(d)) {
			snprintf(buf, len, "spec.delegations[%zu] is not a mapping", i);
			return buf;
		}
		const json_t *secret = json_object_get(d, "secretName");
		if (secret && !json_is_string(secret)) {
			snprintf(buf, len, "spec.delegations[%zu].secretName is not a string", i);
			return buf;
		}
		const json_t *targets = json_object_get(d, "targetNamespaces");
		if (targets && !json_is_array(targets)) {
			snprintf(buf, len, "spec.delegations[%zu].targetNamespaces is not a list",
			         i);
			return buf;
		}
		json_array_foreach(targets, j, t)
		{
			if (!json_is_string(t)) {
				snprintf(
				    buf, len,
				    "spec.delegations[%zu].targetNamespaces[%zu] is not a string",
				    i, j);
				return buf;
			}
		}
	}
	return NULL;
}

static int td_visit(const json_t *obj, void *ud)
{
	td_walk_t *w = ud;
	const json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	ns = ns ? ns : "";
	char buf[128];
	const char *bad = td_malformed(obj, buf, sizeof(buf));
	if (bad) {
		contour_log(w->mod, CONTOUR_LOG_WARN, "%s %s/%s: %s; ignored", TD_KIND, ns,
		            name ? name : "", bad);
		return 0;
	}
	const json_t *dels = json_object_get(json_object_get(obj, "spec"), "delegations");
	size_t i, j;
	const json_t *d, *t;
	json_array_foreach(dels, i, d)
	{
		const char *secret = json_string_value(json_object_get(d, "secretName"));
		const json_t *targets = json_object_get(d, "targetNamespaces");
		if (!secret || !*secret)
			continue;
		/* Upstream reads "*" as every namespace only when it is the sole
		 * entry; elsewhere in the list it would have to equal a namespace
		 * name, and no namespace can be called "*". */
		int wildcard = json_array_size(targets) == 1 &&
		               !strcmp(json_string_value(json_array_get(targets, 0)), "*");
		json_array_foreach(targets, j, t)
		{
			const char *target = json_string_value(t);
			if (!strcmp(target, "*") && !wildcard)
				continue;
			w->rc = contour_dag_delegate(w->dag, ns, secret, target);
			if (w->rc != CONTOUR_EOK)
				return 1;
		}
	}
	return 0;
}

static int td_process(contour_snapshot_t *building, void *ud)
{
	td_walk_t w = {.mod = ud, .dag = contour_snapshot_dag(building), .rc = CONTOUR_EOK};
	contour_store_foreach(w.mod, TD_API, TD_KIND, td_visit, &w);
	return w.rc;
}

static int td_init(contour_module_t *mod, const json_t *config)
{
	return contour_register_processor(mod, "tls-delegation", CONTOUR_ORDER_EARLY, td_process,
	                                  mod);
}

CONTOUR_MODULE(.name = "tls-delegation", .version = PACKAGE_VERSION,
               .description = "TLSCertificateDelegation processor: cross-namespace Secret use",
               .flags = CONTOUR_MODULE_F_PROCESSOR, .init = td_init);
