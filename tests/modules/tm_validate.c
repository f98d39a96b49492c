/* tests/modules/tm_validate.c: a validator for the admission webhook's
 * tests. For test.contour.io/v1 Widget it denies an object whose
 * spec.bad is true (field "spec.bad", "bad is not allowed") and warns
 * with spec.warn when that is a string; it never ignores an object. */
#include <contour/module.h>

static void tm_validate_widget(contour_module_t *mod, const contour_review_t *review,
                               contour_verdict_t *v, void *ud)
{
	const json_t *spec = review->object ? json_object_get(review->object, "spec") : NULL;
	if (!json_is_object(spec))
		return;
	if (json_is_true(json_object_get(spec, "bad")))
		contour_verdict_deny(v, "spec.bad", "bad is not allowed");
	const json_t *warn = json_object_get(spec, "warn");
	if (json_is_string(warn))
		contour_verdict_warn(v, "%s", json_string_value(warn));
}

static int tm_validate_init(contour_module_t *mod, const json_t *config)
{
	return contour_register_validator(mod, "test.contour.io/v1", "Widget", tm_validate_widget,
	                                  NULL);
}

CONTOUR_MODULE(.name = "tm_validate", .version = "0.0.1",
               .description = "test validator for test.contour.io/v1 Widget",
               .init = tm_validate_init);
