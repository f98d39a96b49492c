/* core/dag/ingress_class.c: the ingress class filter shared by the routing
 * processors (upstream's internal/ingressclass), so HTTPProxy and Ingress
 * can never disagree about which objects this controller owns. */
#include "config.h"

#include <string.h>

#include "core/core.h"

/* The class an object asks for, as upstream's annotation.IngressClass and
 * then the spec field: a present projectcontour.io annotation wins even
 * when empty, and an empty annotation class falls back to the spec. */
static const char *ic_object_class(const json_t *obj)
{
	const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
	const json_t *v = json_object_get(ann, "projectcontour.io/ingress.class");
	if (!v)
		v = json_object_get(ann, "kubernetes.io/ingress.class");
	const char *cls = json_string_value(v);
	if (cls && *cls)
		return cls;
	cls = json_string_value(json_object_get(json_object_get(obj, "spec"), "ingressClassName"));
	return cls ? cls : "";
}

/* One configured entry may itself be "a, b" (the flag's form): compare
 * against each trimmed, non-empty item. *seen counts the items. */
static int ic_list_has(const char *list, const char *cls, size_t *seen)
{
	size_t clen = strlen(cls);
	while (*list) {
		const char *comma = strchr(list, ',');
		const char *b = list, *e = comma ? comma : list + strlen(list);
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > b) {
			++*seen;
			if ((size_t)(e - b) == clen && !memcmp(b, cls, clen))
				return 1;
		}
		if (!comma)
			break;
		list = comma + 1;
	}
	return 0;
}

int contour_ingress_class_matches(contour_module_t *mod, const json_t *obj)
{
	const char *cls = ic_object_class(obj);
	/* Read on every call, without allocating: builds visit every object. */
	const json_t *want = contour_conf_global(mod, "ingress-class-name");
	size_t seen = 0;
	if (json_is_string(want)) {
		if (ic_list_has(json_string_value(want), cls, &seen))
			return 1;
	} else if (json_is_array(want)) {
		size_t i;
		const json_t *w;
		json_array_foreach(want, i, w)
		{
			if (json_is_string(w) && ic_list_has(json_string_value(w), cls, &seen))
				return 1;
		}
	}
	if (seen)
		return 0;
	return !*cls || !strcmp(cls, "contour");
}
