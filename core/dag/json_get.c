/* core/dag/json_get.c: the typed JSON reads of include/contour/json_get.h,
 * one definition for every processor and source instead of a private copy
 * in each. */
#include "config.h"

#include <contour/json_get.h>

const char *contour_json_as_str(const json_t *v)
{
	const char *s = json_string_value(v);
	return s ? s : "";
}

const json_t *contour_json_as_obj(const json_t *v)
{
	return json_is_object(v) ? v : NULL;
}

const json_t *contour_json_as_arr(const json_t *v)
{
	return json_is_array(v) ? v : NULL;
}

json_int_t contour_json_as_int(const json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_real(v))
		return (json_int_t)json_real_value(v);
	return 0;
}

const char *contour_json_get_str(const json_t *obj, const char *key)
{
	return contour_json_as_str(json_object_get(obj, key));
}

const char *contour_json_get_str_opt(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

const char *contour_json_get_nonempty(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s && *s ? s : NULL;
}

const json_t *contour_json_get_obj(const json_t *obj, const char *key)
{
	return contour_json_as_obj(json_object_get(obj, key));
}

const json_t *contour_json_get_arr(const json_t *obj, const char *key)
{
	return contour_json_as_arr(json_object_get(obj, key));
}

json_int_t contour_json_get_int(const json_t *obj, const char *key)
{
	return contour_json_as_int(json_object_get(obj, key));
}

int contour_json_get_bool(const json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

int contour_json_has(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return v && !json_is_null(v);
}
