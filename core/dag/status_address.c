/* core/dag/status_address.c: the load-balancer address in status:
 * upstream's coreToNetworkingLBStatus (internal/k8s/statusaddress.go),
 * the form Ingress carries, and whether there is an address to write. */
#include "config.h"

#include <contour/status.h>

static int st_copy_str(json_t *to, const json_t *from, const char *key)
{
	const char *s = json_string_value(json_object_get(from, key));
	/* omitempty */
	if (!s || !*s)
		return 0;
	return json_object_set_new(to, key, json_string(s));
}

json_t *contour_status_lb_to_networking(const json_t *core_lb)
{
	json_t *out = json_object();
	json_t *ingress = json_array();
	if (!out || !ingress)
		goto fail;
	size_t i, j;
	const json_t *ing, *ps;
	json_array_foreach(json_object_get(core_lb, "ingress"), i, ing)
	{
		json_t *e = json_object();
		json_t *ports = json_array();
		if (!e || !ports || json_array_append_new(ingress, e)) {
			json_decref(ports);
			goto fail;
		}
		st_copy_str(e, ing, "ip");
		st_copy_str(e, ing, "hostname");
		json_array_foreach(json_object_get(ing, "ports"), j, ps)
		{
			json_t *p =
			    json_pack("{s:I, s:s}", "port",
			              json_integer_value(json_object_get(ps, "port")), "protocol",
			              json_string_value(json_object_get(ps, "protocol"))
			                  ? json_string_value(json_object_get(ps, "protocol"))
			                  : "");
			if (!p)
				continue;
			/* error is a *string: kept when present, even empty. */
			const json_t *err = json_object_get(ps, "error");
			if (json_is_string(err))
				json_object_set(p, "error", (json_t *)err);
			json_array_append_new(ports, p);
		}
		if (json_array_size(ports))
			json_object_set(e, "ports", ports);
		json_decref(ports);
	}
	if (json_array_size(ingress))
		json_object_set(out, "ingress", ingress);
	json_decref(ingress);
	return out;
fail:
	json_decref(ingress);
	json_decref(out);
	return NULL;
}

int contour_status_lb_has_address(const json_t *lb)
{
	return json_array_size(json_object_get(lb, "ingress")) > 0;
}
