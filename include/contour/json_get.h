/* contour/json_get.h: typed reads of Kubernetes objects and config values
 * (jansson), where a member of the wrong type reads as absent, as a Go
 * struct field that failed to decode keeps its zero value.
 *
 * Every function accepts a NULL or non-object `obj` (and reads it as
 * empty), never allocates, and returns borrowed values that live as long
 * as `obj`. They belong to the domain layer (ABI 1.4).
 */
#ifndef CONTOUR_JSON_GET_H
#define CONTOUR_JSON_GET_H

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* contour_json_get_str: obj[key] when it is a string, else "" (Go's zero
 * value). Never NULL. */
const char *contour_json_get_str(const json_t *obj, const char *key);
/* contour_json_get_str_opt: obj[key] when it is a string (possibly ""),
 * else NULL: for fields where absent and empty differ. */
const char *contour_json_get_str_opt(const json_t *obj, const char *key);
/* contour_json_get_nonempty: obj[key] when it is a non-empty string, else
 * NULL. */
const char *contour_json_get_nonempty(const json_t *obj, const char *key);
/* contour_json_get_obj / _arr: obj[key] when it is an object / an array,
 * else NULL. */
const json_t *contour_json_get_obj(const json_t *obj, const char *key);
const json_t *contour_json_get_arr(const json_t *obj, const char *key);
/* contour_json_get_int: obj[key] as an integer (a real is truncated, as
 * YAML may give 80.0 for 80), else 0. */
json_int_t contour_json_get_int(const json_t *obj, const char *key);
/* contour_json_get_bool: 1 when obj[key] is true, else 0. */
int contour_json_get_bool(const json_t *obj, const char *key);
/* contour_json_has: 1 when obj[key] is present and not null (Go's non-nil
 * pointer field), else 0. */
int contour_json_has(const json_t *obj, const char *key);

/* The same reads on a value already in hand (a member found by walking an
 * object once): v as a string ("" otherwise), an object or an array (NULL
 * otherwise), an integer (0 otherwise). v may be NULL. */
const char *contour_json_as_str(const json_t *v);
const json_t *contour_json_as_obj(const json_t *v);
const json_t *contour_json_as_arr(const json_t *v);
json_int_t contour_json_as_int(const json_t *v);

#ifdef __cplusplus
}
#endif
#endif
