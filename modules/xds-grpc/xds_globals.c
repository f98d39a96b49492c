/* modules/xds-grpc/xds_globals.c: the types of the global keys xds-grpc
 * reads (the descriptor's global_schema). Ranges and the rules across keys
 * are checked by xds_settings_check, with upstream's messages. */
#include "config.h"

#include "modules/xds-grpc/xds.h"

#define T   CONTOUR_CONF_KEY
#define SUB CONTOUR_CONF_SUB

static const contour_conf_item_t xds_name_ns[] = {T("name", STR), T("namespace", STR), {0}};

static const contour_conf_item_t xds_tls_keys[] = {
    T("minimum-protocol-version", STR),
    T("maximum-protocol-version", STR),
    T("cipher-suites", STR_LIST),
    T("ecdh-curves", STR_LIST),
    SUB("envoy-client-certificate", xds_name_ns),
    {0},
};

/* Upstream accepts the word "infinity" for the unbounded timeouts; the
 * DURATION type stores it as -1. */
static const contour_conf_item_t xds_timeout_keys[] = {
    T("request-timeout", DURATION),       T("connection-idle-timeout", DURATION),
    T("stream-idle-timeout", DURATION),   T("max-connection-duration", DURATION),
    T("delayed-close-timeout", DURATION), T("connection-shutdown-grace-period", DURATION),
    T("connect-timeout", DURATION),       {0},
};

/* contour_v1alpha1.CircuitBreakers' yaml tags (the json ones are
 * camelCase; contour.yaml is read with the yaml tags). */
static const contour_conf_item_t xds_circuit_breaker_keys[] = {
    T("max-connections", INT), T("max-pending-requests", INT), T("max-requests", INT),
    T("max-retries", INT),     T("per-host-max-connections", INT), {0},
};

static const contour_conf_item_t xds_cluster_keys[] = {
    T("dns-lookup-family", STR),
    T("max-requests-per-connection", INT),
    T("per-connection-buffer-limit-bytes", INT),
    SUB("circuit-breakers", xds_circuit_breaker_keys),
    T("upstream-tls", MAP),
    {0},
};

static const contour_conf_item_t xds_network_keys[] = {
    T("num-trusted-hops", INT),
    {.key = "admin-port", .type = CONTOUR_CONF_INT, .min = 0, .max = 65535},
    T("strip-trailing-host-dot", BOOL),
    {0},
};

static const contour_conf_item_t xds_socket_option_keys[] = {
    T("tos", INT), T("traffic-class", INT), {0}};

static const contour_conf_item_t xds_listener_keys[] = {
    T("connection-balancer", STR),
    T("max-requests-per-connection", INT),
    T("per-connection-buffer-limit-bytes", INT),
    SUB("socket-options", xds_socket_option_keys),
    T("max-requests-per-io-cycle", INT),
    T("http2-max-concurrent-streams", INT),
    T("max-connections-per-listener", INT),
    T("max-connections-to-accept-per-socket-event", INT),
    {0},
};

static const contour_conf_item_t xds_compression_keys[] = {T("algorithm", STR), {0}};

const contour_conf_item_t xds_global_schema[] = {
    SUB("tls", xds_tls_keys),
    SUB("timeouts", xds_timeout_keys),
    SUB("cluster", xds_cluster_keys),
    SUB("network", xds_network_keys),
    SUB("listener", xds_listener_keys),
    SUB("compression", xds_compression_keys),
    T("default-http-versions", STR_LIST),
    T("disableMergeSlashes", BOOL),
    T("disableAllowChunkedLength", BOOL),
    T("serverHeaderTransformation", STR),
    T("accesslog-format", STR),
    T("accesslog-format-string", STR),
    T("accesslog-level", STR),
    T("json-fields", STR_LIST),
    {0},
};
