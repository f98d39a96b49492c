/* core/dag/status_compose.c: the status upstream writes: ProxyUpdate.Mutate
 * (internal/status/proxystatus.go) for HTTPProxy, with the legacy
 * currentStatus and description fields, and StatusAddressUpdater
 * (internal/k8s/statusaddress.go) for Ingress. */
#include "config.h"

#include <string.h>

#include <contour/status.h>

#include "core/dag/status_equal.h"

static json_int_t st_gen(const json_t *cond)
{
	return json_integer_value(json_object_get(cond, "observedGeneration"));
}

/* The legacy fields ProxyUpdate.Mutate derives from the Valid condition:
 * currentStatus and description, or 0 without a decided Valid condition. */
static int st_legacy(const json_t *valid, const char **current, const char **desc)
{
	const char *vs = json_string_value(json_object_get(valid, "status"));
	const char *msg = json_string_value(json_object_get(valid, "message"));
	if (vs && !strcmp(vs, "True")) {
		*current = "valid";
	} else if (vs && !strcmp(vs, "False")) {
		*current = "invalid";
		const json_t *e =
		    core_status_cond_find(json_object_get(valid, "errors"), "Orphaned", NULL);
		if (e) {
			*current = "orphaned";
			msg = json_string_value(json_object_get(e, "message"));
		}
	} else {
		return 0;
	}
	*desc = msg ? msg : "";
	return 1;
}

json_t *contour_status_compose_proxy(const json_t *current, const json_t *computed,
                                     const json_t *lb)
{
	json_t *st = json_is_object(current) ? json_deep_copy(current) : json_object();
	if (!st)
		return NULL;
	json_t *conds = json_object_get(st, "conditions");
	if (!json_is_array(conds)) {
		conds = json_array();
		if (!conds || json_object_set_new(st, "conditions", conds)) {
			json_decref(st);
			return NULL;
		}
	}
	size_t i;
	const json_t *cc;
	json_array_foreach(json_object_get(computed, "conditions"), i, cc)
	{
		size_t at = 0;
		json_t *cur = core_status_cond_find(conds, core_status_cond_type(cc), &at);
		json_t *cond = json_deep_copy(cc);
		if (!cond)
			continue;
		if (!cur) {
			json_array_append_new(conds, cond);
			continue;
		}
		/* Don't update the condition if our observation is stale. */
		if (st_gen(cur) > st_gen(cond)) {
			json_decref(cond);
			continue;
		}
		/* Unchanged but for the time: the transition did not happen now. */
		json_t *ltt = json_object_get(cur, "lastTransitionTime");
		if (ltt && core_status_value_equal(cur, cond, "lastTransitionTime"))
			json_object_set(cond, "lastTransitionTime", ltt);
		json_array_set_new(conds, at, cond);
	}
	/* The legacy fields from the Valid condition (ProxyUpdate.Mutate). */
	const char *current_status, *desc;
	if (st_legacy(core_status_cond_find(conds, "Valid", NULL), &current_status, &desc)) {
		json_object_set_new(st, "currentStatus", json_string(current_status));
		json_object_set_new(st, "description", json_string(desc));
	}
	if (contour_status_lb_has_address(lb))
		json_object_set_new(st, "loadBalancer", json_deep_copy(lb));
	return st;
}

/* The same walk as contour_status_compose_proxy, comparing instead of
 * copying: the common no-op costs no copy. */
int contour_status_proxy_changes(const json_t *current, const json_t *computed, const json_t *lb)
{
	const json_t *conds = json_object_get(current, "conditions");
	size_t i;
	const json_t *cc;
	json_array_foreach(json_object_get(computed, "conditions"), i, cc)
	{
		const json_t *cur = core_status_cond_find(conds, core_status_cond_type(cc), NULL);
		if (!cur)
			return 1;
		if (st_gen(cur) > st_gen(cc))
			continue;
		if (!core_status_value_equal(cur, cc, "lastTransitionTime"))
			return 1;
	}
	/* Conditions unchanged: the legacy fields follow the stored Valid. */
	const char *cs, *desc;
	if (st_legacy(core_status_cond_find(conds, "Valid", NULL), &cs, &desc)) {
		const json_t *a = json_object_get(current, "currentStatus");
		const json_t *d = json_object_get(current, "description");
		if (strcmp(json_string_value(a) ? json_string_value(a) : "", cs) ||
		    strcmp(json_string_value(d) ? json_string_value(d) : "", desc))
			return 1;
	}
	return contour_status_lb_has_address(lb) &&
	       !core_status_value_equal(json_object_get(current, "loadBalancer"), lb, NULL);
}

json_t *contour_status_compose_ingress(const json_t *current, const json_t *lb)
{
	json_t *st = json_is_object(current) ? json_deep_copy(current) : json_object();
	json_t *n = contour_status_lb_to_networking(lb);
	if (!st || !n) {
		json_decref(st);
		json_decref(n);
		return NULL;
	}
	json_object_set_new(st, "loadBalancer", n);
	return st;
}
