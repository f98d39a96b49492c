/* modules/ingress/ing_globals.c: the types of the global keys the Ingress
 * processor reads (the descriptor's global_schema); policy.* is the domain
 * layer's. */
#include "config.h"

#include "modules/ingress/ing.h"

const contour_conf_item_t ing_global_schema[] = {
    CONTOUR_CONF_KEY("ingress-status-address", STR),
    {0},
};
