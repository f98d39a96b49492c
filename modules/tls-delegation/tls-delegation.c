/* modules/tls-delegation/tls-delegation.c: TLSCertificateDelegation
 * (projectcontour.io/v1) objects become delegations in the DAG, early in
 * every build, so the routing processors can ask
 * contour_dag_delegation_permitted() whether a Secret in another namespace
 * may be used (upstream's KubernetesCache.delegationPermitted). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "modules/tls-delegation/td.h"

typedef struct td_walk {
	contour_module_t *mod;
	contour_dag_t *dag;
	int rc;
} td_walk_t;

static int td_visit(const json_t *obj, void *ud)
{
	td_walk_t *w = ud;
	const json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	ns = ns ? ns : "";
	char field[96];
	const char *bad = td_malformed(obj, field, sizeof(field));
	if (bad) {
		contour_log(w->mod, CONTOUR_LOG_WARN, "%s %s/%s: %s %s; ignored", TD_KIND, ns,
		            name ? name : "", field, bad);
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
	int rc =
	    contour_register_processor(mod, "tls-delegation", CONTOUR_ORDER_EARLY, td_process, mod);
	if (rc == CONTOUR_EOK)
		rc = contour_register_validator(mod, TD_API, TD_KIND, td_validate, NULL);
	return rc;
}

CONTOUR_MODULE(.name = "tls-delegation", .version = PACKAGE_VERSION,
               .description = "TLSCertificateDelegation processor: cross-namespace Secret use",
               .flags = CONTOUR_MODULE_F_PROCESSOR, .init = td_init);
