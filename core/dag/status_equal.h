/* core/dag/status_equal.h: the value comparison and condition lookup
 * shared by core/dag/status_equal.c and core/dag/status_compose.c.
 * Private to core/dag/. */
#ifndef CORE_DAG_STATUS_EQUAL_H
#define CORE_DAG_STATUS_EQUAL_H

#include <stddef.h>
#include <jansson.h>

/* core_status_zero: v is Go's zero value (NULL, null, false, 0, "", [],
 * or an object of zero values), as omitempty drops it. */
int core_status_zero(const json_t *v);

/* core_status_value_equal: a and b compare equal as cmp.Equal sees the
 * decoded Go values: numbers by value, objects over both key sets with an
 * absent key equal to a zero value, arrays element by element. skip names
 * a key ignored in the top-level objects only (NULL: none). */
int core_status_value_equal(const json_t *a, const json_t *b, const char *skip);

/* core_status_cond_type: a condition's `type`, or "" (never NULL). */
const char *core_status_cond_type(const json_t *cond);

/* core_status_cond_find: the first condition of `type` in the array
 * conds, or NULL; its index in *at when at is not NULL. Borrowed. */
json_t *core_status_cond_find(const json_t *conds, const char *type, size_t *at);

#endif
