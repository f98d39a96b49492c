/* modules/httpproxy/hp_globals.c: the types of the global keys the
 * HTTPProxy processor reads (the descriptor's global_schema). The global
 * header policies are the domain layer's (both processors apply them). */
#include "config.h"

#include "modules/httpproxy/hp.h"

static const contour_conf_item_t hp_name_ns[] = {
    {.key = "name", .type = CONTOUR_CONF_STR},
    {.key = "namespace", .type = CONTOUR_CONF_STR},
    {0},
};

static const contour_conf_item_t hp_tls_keys[] = {
    {.key = "fallback-certificate", .type = CONTOUR_CONF_MAP, .children = hp_name_ns},
    {0},
};

const contour_conf_item_t hp_global_schema[] = {
    {.key = "root-namespaces", .type = CONTOUR_CONF_STR_LIST},
    {.key = "disablePermitInsecure", .type = CONTOUR_CONF_BOOL},
    {.key = "tls", .type = CONTOUR_CONF_MAP, .children = hp_tls_keys},
    {0},
};
