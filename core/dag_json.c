/* core/dag_json.c: stub */
#include "config.h"
#include <stdlib.h>
#include "core/dag_internal.h"
json_t *contour_dag_to_json(const contour_dag_t *dag) { return json_object(); }
char *contour_dag_to_dot(const contour_dag_t *dag) { return NULL; }
