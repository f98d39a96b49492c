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
 * - the names of upstream's contour.yaml keys (its ContourConfiguration,
 *   and the few it takes only as flags), so that an operator's file
 *   validates whatever modules are loaded: a name nothing loaded types is
 *   accepted with its value unchecked, and a key that is not one of these
 *   names is an unknown key as soon as the file is parsed.
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

/* Upstream's names. A leaf is ANY, or MAP where upstream takes a mapping; a
 * mapping lists its names when modules type keys inside it, so a misspelt
 * one is caught at parse time too. */
#define N(k) T(k, ANY)
#define M(k) T(k, MAP)
static const contour_conf_item_t names_name_ns[] = {N("name"), N("namespace"), {0}};
static const contour_conf_item_t names_tls[] = {
    N("minimum-protocol-version"),
    N("maximum-protocol-version"),
    N("cipher-suites"),
    N("ecdh-curves"),
    SUB("fallback-certificate", names_name_ns),
    SUB("envoy-client-certificate", names_name_ns),
    M("fingerprint"),
    {0},
};
static const contour_conf_item_t names_timeouts[] = {
    N("request-timeout"),       N("connection-idle-timeout"),
    N("stream-idle-timeout"),   N("max-connection-duration"),
    N("delayed-close-timeout"), N("connection-shutdown-grace-period"),
    N("connect-timeout"),       {0},
};
static const contour_conf_item_t names_header_policy[] = {M("set"), N("remove"), {0}};
static const contour_conf_item_t names_policy[] = {
    SUB("request-headers", names_header_policy),
    SUB("response-headers", names_header_policy),
    N("applyToIngress"),
    {0},
};
static const contour_conf_item_t names_cluster[] = {
    N("dns-lookup-family"),
    N("max-requests-per-connection"),
    N("per-connection-buffer-limit-bytes"),
    M("circuit-breakers"),
    M("upstream-tls"),
    {0},
};
static const contour_conf_item_t names_network[] = {
    N("num-trusted-hops"), N("admin-port"), N("strip-trailing-host-dot"), {0}};
static const contour_conf_item_t names_socket_options[] = {N("tos"), N("traffic-class"), {0}};
static const contour_conf_item_t names_listener[] = {
    N("connection-balancer"),
    N("max-requests-per-connection"),
    N("per-connection-buffer-limit-bytes"),
    SUB("socket-options", names_socket_options),
    N("max-requests-per-io-cycle"),
    N("http2-max-concurrent-streams"),
    N("max-connections-per-listener"),
    N("max-connections-to-accept-per-socket-event"),
    {0},
};
static const contour_conf_item_t names_compression[] = {N("algorithm"), {0}};
static const contour_conf_item_t names_gateway[] = {SUB("gatewayRef", names_name_ns), {0}};

const contour_conf_item_t core_upstream_names[] = {
    /* upstream's flags, accepted here as keys */
    N("root-namespaces"),
    N("ingress-class-name"),
    N("watch-namespaces"),
    /* upstream's contour.yaml */
    N("incluster"),
    N("kubeconfig"),
    N("kubernetesClientQPS"),
    N("kubernetesClientBurst"),
    SUB("gateway", names_gateway),
    N("ingress-status-address"),
    N("accesslog-format"),
    N("accesslog-format-string"),
    N("json-fields"),
    N("accesslog-level"),
    SUB("tls", names_tls),
    N("disablePermitInsecure"),
    N("disableAllowChunkedLength"),
    N("disableMergeSlashes"),
    N("serverHeaderTransformation"),
    N("enableExternalNameService"),
    SUB("timeouts", names_timeouts),
    SUB("policy", names_policy),
    N("envoy-service-name"),
    N("envoy-service-namespace"),
    N("default-http-versions"),
    SUB("cluster", names_cluster),
    SUB("network", names_network),
    SUB("listener", names_listener),
    M("rateLimitService"),
    M("globalExtAuth"),
    M("metrics"),
    M("tracing"),
    SUB("compression", names_compression),
    N("featureFlags"),
    M("omEnforcedHealthListener"),
    M("runtime-settings"),
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
