/* modules/k8s-watch/kw_globals.c: the types of the global keys k8s-watch
 * reads (the descriptor's global_schema): how to reach the API server,
 * what to watch, and what its status writer needs. */
#include "config.h"

#include "modules/k8s-watch/kw.h"

const contour_conf_item_t kw_global_schema[] = {
    {.key = "incluster", .type = CONTOUR_CONF_BOOL},
    {.key = "kubeconfig", .type = CONTOUR_CONF_STR},
    {.key = "watch-namespaces", .type = CONTOUR_CONF_STR_LIST},
    {.key = "ingress-class-name", .type = CONTOUR_CONF_STR_LIST},
    {.key = "ingress-status-address", .type = CONTOUR_CONF_STR},
    {.key = "envoy-service-name", .type = CONTOUR_CONF_STR},
    {.key = "envoy-service-namespace", .type = CONTOUR_CONF_STR},
    {0},
};
