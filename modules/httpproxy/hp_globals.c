/* modules/httpproxy/hp_globals.c: the types of the global keys the
 * HTTPProxy processor reads (the descriptor's global_schema). The global
 * header policies are the domain layer's (both processors apply them). */
#include "config.h"

#include "modules/httpproxy/hp.h"

#define T   CONTOUR_CONF_KEY
#define SUB CONTOUR_CONF_SUB

static const contour_conf_item_t hp_name_ns[] = {T("name", STR), T("namespace", STR), {0}};

static const contour_conf_item_t hp_tls_keys[] = {SUB("fallback-certificate", hp_name_ns), {0}};

const contour_conf_item_t hp_global_schema[] = {
    T("root-namespaces", STR_LIST),
    T("disablePermitInsecure", BOOL),
    SUB("tls", hp_tls_keys),
    {0},
};
