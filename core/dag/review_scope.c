/* core/dag/review_scope.c: which reviews a routing processor's validator
 * judges at all (contour/admission.h). */
#include "config.h"

#include <string.h>

#include "core/core.h"

int contour_review_is_ours(contour_module_t *mod, const contour_review_t *r, contour_verdict_t *v)
{
	const json_t *obj = r->object;
	/* DELETE and CONNECT: nothing to check. */
	if (!obj || (strcmp(r->operation, "CREATE") && strcmp(r->operation, "UPDATE")))
		return 0;
	/* Being deleted: finalizers must stay removable, whatever it holds. */
	if (json_object_get(contour_json_get_obj(obj, "metadata"), "deletionTimestamp"))
		return 0;
	/* Another class's: the build never looks at it. */
	if (!contour_ingress_class_matches(mod, obj)) {
		contour_verdict_ignore(v);
		return 0;
	}
	return 1;
}
