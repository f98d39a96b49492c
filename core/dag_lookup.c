/* core/dag_lookup.c: stub */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include "core/dag_internal.h"
int contour_dag_lookup_service(contour_module_t *mod, contour_dag_t *dag, const char *ns,
                               const char *name, uint32_t port_number, const char *port_name,
                               contour_dag_service_t *svc, const char **protocol,
                               contour_dag_circuit_breakers_t *breakers, char *err, size_t errlen)
{ snprintf(err, errlen, "not implemented"); return CONTOUR_ENOENT; }
int contour_dag_lookup_secret(contour_module_t *mod, contour_dag_t *dag, const char *ns,
                              const char *name, contour_dag_secret_type_t type,
                              contour_dag_secret_t **out, char *err, size_t errlen)
{ snprintf(err, errlen, "not implemented"); return CONTOUR_ENOENT; }
void core_secret_cache_free(core_secret_cache_t *c) {}
