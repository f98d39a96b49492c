/* core/conf_global.c: the core's tables of global keys.
 *
 * Top-level keys other than `modules` are settings every module can read
 * (contour_conf_global). Three tables say what they may be:
 *
 * - the runtime's own keys, read before any module is loaded (the module
 *   search path, the log level, the build hold-off): typed here and checked
 *   as soon as the file is parsed; no module may type them;
 * - the domain layer's keys (core/dag/: ingress classes, ExternalName
 *   Services, the Envoy client certificate, the global header policies both
 *   processors apply): typed here, checked with the modules' keys;
 * - upstream's contour.yaml keys (its ContourConfiguration, and the few it
 *   takes only as flags) with upstream's types, so that an operator's file
 *   validates whatever modules are loaded: a key that is not one of these,
 *   or of the wrong type, is an error as soon as the file is parsed; one
 *   that no loaded module reads is warned about once.
 *
 * Each module types the global keys it reads in its descriptor's
 * global_schema; conf_merge.c merges those tables with the domain's.
 */
#include "config.h"

#include "core/core.h"

#define T   CONTOUR_CONF_KEY
#define SUB CONTOUR_CONF_SUB

const contour_conf_item_t core_runtime_schema[] = {
    {.key = "module-path",
     .type = CONTOUR_CONF_STR_LIST,
     .help = "folders searched for modules before the compiled-in one"},
    {.key = "build-holdoff",
     .type = CONTOUR_CONF_DURATION,
     .def = "100ms",
     .min = 0,
     .max = 60000,
     .help = "wait after a change before rebuilding"},
    {.key = "build-holdoff-max",
     .type = CONTOUR_CONF_DURATION,
     .def = "500ms",
     .min = 0,
     .max = 600000,
     .help = "longest a pending change waits for a rebuild"},
    T("debug", BOOL),
    {0},
};

static const contour_conf_item_t name_ns[] = {T("name", STR), T("namespace", STR), {0}};
static const contour_conf_item_t domain_tls[] = {SUB("envoy-client-certificate", name_ns), {0}};
static const contour_conf_item_t header_policy[] = {T("set", MAP), T("remove", STR_LIST), {0}};
static const contour_conf_item_t domain_policy[] = {
    SUB("request-headers", header_policy),
    SUB("response-headers", header_policy),
    T("applyToIngress", BOOL),
    {0},
};

const contour_conf_item_t core_domain_global_schema[] = {
    T("ingress-class-name", STR_LIST),
    T("enableExternalNameService", BOOL),
    SUB("tls", domain_tls),
    SUB("policy", domain_policy),
    {0},
};

/* Upstream's contour.yaml (pkg/config/parameters.go, read with
 * yaml.v3 KnownFields), typed as upstream types it, so a misspelt or
 * mistyped key is an error with its line whatever modules are loaded. A
 * module that reads a key types it again in its global_schema; a key that no
 * loaded module types is accepted and warned about once at startup
 * (core_conf_warn_unread). */
static const contour_conf_item_t names_name_ns[] = {T("name", STR), T("namespace", STR), {0}};
static const contour_conf_item_t names_fingerprint[] = {T("ja3", BOOL), T("ja4", BOOL), {0}};
static const contour_conf_item_t names_tls[] = {
    T("minimum-protocol-version", STR),
    T("maximum-protocol-version", STR),
    T("cipher-suites", STR_LIST),
    T("ecdh-curves", STR_LIST),
    SUB("fallback-certificate", names_name_ns),
    SUB("envoy-client-certificate", names_name_ns),
    SUB("fingerprint", names_fingerprint),
    {0},
};
static const contour_conf_item_t names_timeouts[] = {
    T("request-timeout", DURATION),       T("connection-idle-timeout", DURATION),
    T("stream-idle-timeout", DURATION),   T("max-connection-duration", DURATION),
    T("delayed-close-timeout", DURATION), T("connection-shutdown-grace-period", DURATION),
    T("connect-timeout", DURATION),       {0},
};
static const contour_conf_item_t names_header_policy[] = {T("set", MAP), T("remove", STR_LIST),
                                                          {0}};
static const contour_conf_item_t names_policy[] = {
    SUB("request-headers", names_header_policy),
    SUB("response-headers", names_header_policy),
    T("applyToIngress", BOOL),
    {0},
};
/* contour_v1alpha1.CircuitBreakers' yaml tags. */
static const contour_conf_item_t names_circuit_breakers[] = {
    T("max-connections", INT),  T("max-pending-requests", INT),
    T("max-requests", INT),     T("max-retries", INT),
    T("per-host-max-connections", INT), {0},
};
static const contour_conf_item_t names_protocol[] = {
    T("minimum-protocol-version", STR),
    T("maximum-protocol-version", STR),
    T("cipher-suites", STR_LIST),
    T("ecdh-curves", STR_LIST),
    {0},
};
static const contour_conf_item_t names_cluster[] = {
    T("dns-lookup-family", STR),
    T("max-requests-per-connection", INT),
    T("per-connection-buffer-limit-bytes", INT),
    SUB("circuit-breakers", names_circuit_breakers),
    SUB("upstream-tls", names_protocol),
    {0},
};
static const contour_conf_item_t names_network[] = {
    T("num-trusted-hops", INT), T("admin-port", INT), T("strip-trailing-host-dot", BOOL), {0}};
static const contour_conf_item_t names_socket_options[] = {T("tos", INT), T("traffic-class", INT),
                                                           {0}};
static const contour_conf_item_t names_listener[] = {
    T("connection-balancer", STR),
    T("max-requests-per-connection", INT),
    T("per-connection-buffer-limit-bytes", INT),
    SUB("socket-options", names_socket_options),
    T("max-requests-per-io-cycle", INT),
    T("http2-max-concurrent-streams", INT),
    T("max-connections-per-listener", INT),
    T("max-connections-to-accept-per-socket-event", INT),
    {0},
};
static const contour_conf_item_t names_compression[] = {T("algorithm", STR), {0}};
static const contour_conf_item_t names_gateway[] = {SUB("gatewayRef", names_name_ns), {0}};
/* ServerParameters is an empty struct: no key is allowed inside. */
static const contour_conf_item_t names_server[] = {{0}};
static const contour_conf_item_t names_rate_limit[] = {
    T("extensionService", STR),
    T("domain", STR),
    T("failOpen", BOOL),
    T("enableXRateLimitHeaders", BOOL),
    T("enableResourceExhaustedCode", BOOL),
    T("defaultGlobalRateLimitPolicy", MAP),
    {0},
};
static const contour_conf_item_t names_auth_policy[] = {T("disabled", BOOL), T("context", MAP),
                                                        {0}};
static const contour_conf_item_t names_request_body[] = {
    T("maxRequestBytes", INT), T("allowPartialMessage", BOOL), T("packAsBytes", BOOL), {0}};
static const contour_conf_item_t names_ext_auth[] = {
    T("extensionService", STR),
    T("serviceType", STR),
    T("httpSettings", MAP),
    SUB("authPolicy", names_auth_policy),
    T("responseTimeout", STR),
    T("failOpen", BOOL),
    SUB("withRequestBody", names_request_body),
    {0},
};
static const contour_conf_item_t names_metrics_server[] = {
    T("address", STR),
    T("port", INT),
    T("server-certificate-path", STR),
    T("server-key-path", STR),
    T("ca-certificate-path", STR),
    {0},
};
static const contour_conf_item_t names_metrics[] = {
    SUB("contour", names_metrics_server), SUB("envoy", names_metrics_server), {0}};
static const contour_conf_item_t names_tracing[] = {
    T("includePodDetail", BOOL),
    T("serviceName", STR),
    T("overallSampling", STR),
    T("clientSampling", STR),
    T("randomSampling", STR),
    T("maxPathTagLength", INT),
    T("customTags", LIST),
    T("extensionService", STR),
    {0},
};
static const contour_conf_item_t names_om_health[] = {T("address", STR), T("port", INT), {0}};

const contour_conf_item_t core_upstream_names[] = {
    /* upstream's flags, accepted here as keys */
    T("root-namespaces", STR_LIST),
    T("ingress-class-name", STR_LIST),
    T("watch-namespaces", STR_LIST),
    /* upstream's contour.yaml */
    T("incluster", BOOL),
    T("kubeconfig", STR),
    T("kubernetesClientQPS", NUMBER),
    T("kubernetesClientBurst", INT),
    SUB("server", names_server),
    SUB("gateway", names_gateway),
    T("ingress-status-address", STR),
    T("accesslog-format", STR),
    T("accesslog-format-string", STR),
    T("json-fields", STR_LIST),
    T("accesslog-level", STR),
    SUB("tls", names_tls),
    T("disablePermitInsecure", BOOL),
    T("disableAllowChunkedLength", BOOL),
    T("disableMergeSlashes", BOOL),
    T("serverHeaderTransformation", STR),
    T("enableExternalNameService", BOOL),
    SUB("timeouts", names_timeouts),
    SUB("policy", names_policy),
    T("envoy-service-name", STR),
    T("envoy-service-namespace", STR),
    T("default-http-versions", STR_LIST),
    SUB("cluster", names_cluster),
    SUB("network", names_network),
    SUB("listener", names_listener),
    SUB("rateLimitService", names_rate_limit),
    SUB("globalExtAuth", names_ext_auth),
    SUB("metrics", names_metrics),
    SUB("tracing", names_tracing),
    SUB("compression", names_compression),
    T("featureFlags", STR_LIST),
    SUB("omEnforcedHealthListener", names_om_health),
    T("runtime-settings", MAP),
    {0},
};

/* Used when `serve` has no --config, and for a file without `modules`: the
 * local role over the installed examples, serving on loopback only. */
const char *core_conf_default_text(void)
{
	return "modules:\n"
	       "  - name: file-watch\n"
	       "    config:\n"
	       "      paths: [\"" CONTOUR_DATA_DIR "/examples\"]\n"
	       "  - name: tls-delegation\n"
	       "  - name: httpproxy\n"
	       "  - name: xds-grpc\n"
	       "    config: {address: 127.0.0.1, port: 8001, insecure: true}\n"
	       "  - name: metrics\n"
	       "    config: {address: 127.0.0.1, port: 8000}\n";
}

/* A file without `modules` (or no file) whose flags or keys point at a
 * cluster (`--incluster`, `--kubeconfig`, the keys `incluster` and
 * `kubeconfig`) runs the split control plane, as upstream's own Deployment
 * does: the modules of conf/split.yaml, with upstream's defaults (xDS on
 * 127.0.0.1:8001 with TLS unless --insecure, metrics on 0.0.0.0:8000) for
 * its flags to override. */
const char *core_conf_split_text(void)
{
	return "modules:\n"
	       "  - name: k8s-watch\n"
	       "  - name: tls-delegation\n"
	       "  - name: httpproxy\n"
	       "  - name: ingress\n"
	       "  - name: xds-grpc\n"
	       "  - name: metrics\n";
}
