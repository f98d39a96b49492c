/* modules/k8s-watch/kw_globals.c: the types of the global keys k8s-watch
 * reads (the descriptor's global_schema): how to reach the API server,
 * what to watch, and what its status writer needs. */
#include "config.h"

#include "modules/k8s-watch/kw.h"

#define T CONTOUR_CONF_KEY

const contour_conf_item_t kw_global_schema[] = {
    T("incluster", BOOL),
    T("kubeconfig", STR),
    T("watch-namespaces", STR_LIST),
    T("ingress-class-name", STR_LIST),
    T("ingress-status-address", STR),
    T("envoy-service-name", STR),
    T("envoy-service-namespace", STR),
    {0},
};
