/* core/dag/status_equal.c: upstream's isStatusEqual (internal/status):
 * cmp.Equal over the decoded statuses with lastTransitionTime of
 * conditions ignored and conditions matched by type. Kubernetes JSON
 * leaves out omitempty fields, so an absent member equals Go's zero value
 * here. */
#include "config.h"

#include <string.h>

#include <contour/status.h>

#include "core/dag/status_equal.h"

int core_status_zero(const json_t *v)
{
	if (!v)
		return 1;
	switch (json_typeof(v)) {
	case JSON_NULL:
	case JSON_FALSE:
		return 1;
	case JSON_STRING:
		return json_string_length(v) == 0;
	case JSON_INTEGER:
	case JSON_REAL:
		return json_number_value(v) == 0;
	case JSON_ARRAY:
		return json_array_size(v) == 0;
	case JSON_OBJECT: {
		const char *k;
		const json_t *x;
		json_object_foreach((json_t *)v, k, x)
		{
			if (!core_status_zero(x))
				return 0;
		}
		return 1;
	}
	default:
		return 0;
	}
}

/* Objects compared key by key over both key sets; skip names a key ignored
 * at this level (lastTransitionTime inside a condition). */
static int st_obj_eq(const json_t *a, const json_t *b, const char *skip)
{
	const char *k;
	const json_t *x;
	json_object_foreach((json_t *)a, k, x)
	{
		if (skip && !strcmp(k, skip))
			continue;
		if (!core_status_value_equal(x, json_object_get(b, k), NULL))
			return 0;
	}
	json_object_foreach((json_t *)b, k, x)
	{
		if (skip && !strcmp(k, skip))
			continue;
		if (!json_object_get(a, k) && !core_status_zero(x))
			return 0;
	}
	return 1;
}

int core_status_value_equal(const json_t *a, const json_t *b, const char *skip)
{
	if (!a || json_is_null(a))
		return core_status_zero(b);
	if (!b || json_is_null(b))
		return core_status_zero(a);
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_is_object(a) && json_is_object(b))
		return st_obj_eq(a, b, skip);
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!core_status_value_equal(json_array_get(a, i), json_array_get(b, i),
			                             NULL))
				return 0;
		return 1;
	}
	if (json_typeof(a) != json_typeof(b))
		return core_status_zero(a) && core_status_zero(b);
	return json_equal((json_t *)a, (json_t *)b);
}

const char *core_status_cond_type(const json_t *cond)
{
	const char *t = json_string_value(json_object_get(cond, "type"));
	return t ? t : "";
}

json_t *core_status_cond_find(const json_t *conds, const char *type, size_t *at)
{
	size_t i;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		if (!strcmp(core_status_cond_type(c), type)) {
			if (at)
				*at = i;
			return c;
		}
	}
	return NULL;
}

/* Conditions matched by type, lastTransitionTime ignored. */
static int st_conds_eq(const json_t *a, const json_t *b)
{
	if (json_array_size(a) != json_array_size(b))
		return 0;
	size_t i;
	const json_t *c;
	json_array_foreach(a, i, c)
	{
		const json_t *o = core_status_cond_find(b, core_status_cond_type(c), NULL);
		if (!o || !core_status_value_equal(c, o, "lastTransitionTime"))
			return 0;
	}
	return 1;
}

int contour_status_equal(const json_t *a, const json_t *b)
{
	if (!json_is_object(a))
		a = NULL;
	if (!json_is_object(b))
		b = NULL;
	if (!a || !b)
		return core_status_zero(a ? a : b);
	const char *k;
	const json_t *x;
	json_object_foreach((json_t *)a, k, x)
	{
		const json_t *y = json_object_get(b, k);
		if (!strcmp(k, "conditions") ? !st_conds_eq(x, y)
		                             : !core_status_value_equal(x, y, NULL))
			return 0;
	}
	json_object_foreach((json_t *)b, k, x)
	{
		if (json_object_get(a, k))
			continue;
		if (!core_status_zero(x))
			return 0;
	}
	return 1;
}
