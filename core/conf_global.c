/* core/conf_global.c: the global keys of the config file.
 *
 * Top-level keys other than `modules` are settings every module can read.
 * They are upstream's contour.yaml keys (pkg/config/parameters.go), so an
 * operator's existing file validates unchanged, plus the few that upstream
 * takes only as flags (root-namespaces, ingress-class-name,
 * watch-namespaces) and the core's own. Subtrees that later modules own in
 * detail (listener, metrics, tracing, ...) are accepted as any mapping until
 * those modules describe them.
 */
#include "config.h"

#include "core/core.h"

#define STR(k)                                                                                     \
	{                                                                                          \
		.key = k, .type = CONTOUR_CONF_STR                                                 \
	}
#define BOOL(k)                                                                                    \
	{                                                                                          \
		.key = k, .type = CONTOUR_CONF_BOOL                                                \
	}
#define INT(k)                                                                                     \
	{                                                                                          \
		.key = k, .type = CONTOUR_CONF_INT                                                 \
	}
#define DUR(k)                                                                                     \
	{                                                                                          \
		.key = k, .type = CONTOUR_CONF_DURATION                                            \
	}
#define LIST(k)                                                                                    \
	{                                                                                          \
		.key = k, .type = CONTOUR_CONF_STR_LIST                                            \
	}
#define ANYMAP(k)                                                                                  \
	{                                                                                          \
		.key = k, .type = CONTOUR_CONF_MAP                                                 \
	}
#define ANY(k)                                                                                     \
	{                                                                                          \
		.key = k, .type = CONTOUR_CONF_ANY                                                 \
	}
#define MAP(k, c)                                                                                  \
	{                                                                                          \
		.key = k, .type = CONTOUR_CONF_MAP, .children = c                                  \
	}
#define END                                                                                        \
	{                                                                                          \
		0                                                                                  \
	}

static const contour_conf_item_t name_ns[] = {STR("name"), STR("namespace"), END};

static const contour_conf_item_t tls_keys[] = {
    STR("minimum-protocol-version"),
    STR("maximum-protocol-version"),
    LIST("cipher-suites"),
    LIST("ecdh-curves"),
    MAP("fallback-certificate", name_ns),
    MAP("envoy-client-certificate", name_ns),
    ANYMAP("fingerprint"),
    END,
};

/* Upstream accepts the word "infinity" for the unbounded timeouts; the
 * DURATION type stores it as -1. */
static const contour_conf_item_t timeout_keys[] = {
    DUR("request-timeout"),       DUR("connection-idle-timeout"),
    DUR("stream-idle-timeout"),   DUR("max-connection-duration"),
    DUR("delayed-close-timeout"), DUR("connection-shutdown-grace-period"),
    DUR("connect-timeout"),       END,
};

static const contour_conf_item_t header_policy[] = {ANYMAP("set"), LIST("remove"), END};

static const contour_conf_item_t policy_keys[] = {
    MAP("request-headers", header_policy),
    MAP("response-headers", header_policy),
    BOOL("applyToIngress"),
    END,
};

static const contour_conf_item_t cluster_keys[] = {
    STR("dns-lookup-family"),
    INT("max-requests-per-connection"),
    INT("per-connection-buffer-limit-bytes"),
    ANYMAP("circuit-breakers"),
    ANYMAP("upstream-tls"),
    END,
};

static const contour_conf_item_t network_keys[] = {
    INT("num-trusted-hops"),
    {.key = "admin-port", .type = CONTOUR_CONF_INT, .min = 0, .max = 65535},
    BOOL("strip-trailing-host-dot"),
    END,
};

/* Upstream's ListenerParameters. Ranges are checked by xds-grpc, with
 * upstream's messages (its Validate). */
static const contour_conf_item_t socket_option_keys[] = {INT("tos"), INT("traffic-class"), END};

static const contour_conf_item_t listener_keys[] = {
    STR("connection-balancer"),
    INT("max-requests-per-connection"),
    INT("per-connection-buffer-limit-bytes"),
    MAP("socket-options", socket_option_keys),
    INT("max-requests-per-io-cycle"),
    INT("http2-max-concurrent-streams"),
    INT("max-connections-per-listener"),
    INT("max-connections-to-accept-per-socket-event"),
    END,
};

static const contour_conf_item_t compression_keys[] = {STR("algorithm"), END};

static const contour_conf_item_t gateway_keys[] = {MAP("gatewayRef", name_ns), END};

const contour_conf_item_t core_global_schema[] = {
    /* ours */
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
    /* upstream flags, accepted here as keys */
    LIST("root-namespaces"),
    LIST("ingress-class-name"),
    LIST("watch-namespaces"),
    /* upstream contour.yaml */
    BOOL("debug"),
    BOOL("incluster"),
    STR("kubeconfig"),
    ANY("kubernetesClientQPS"),
    INT("kubernetesClientBurst"),
    MAP("gateway", gateway_keys),
    STR("ingress-status-address"),
    STR("accesslog-format"),
    STR("accesslog-format-string"),
    LIST("json-fields"),
    STR("accesslog-level"),
    MAP("tls", tls_keys),
    BOOL("disablePermitInsecure"),
    BOOL("disableAllowChunkedLength"),
    BOOL("disableMergeSlashes"),
    STR("serverHeaderTransformation"),
    BOOL("enableExternalNameService"),
    MAP("timeouts", timeout_keys),
    MAP("policy", policy_keys),
    STR("envoy-service-name"),
    STR("envoy-service-namespace"),
    LIST("default-http-versions"),
    MAP("cluster", cluster_keys),
    MAP("network", network_keys),
    MAP("listener", listener_keys),
    ANYMAP("rateLimitService"),
    ANYMAP("globalExtAuth"),
    ANYMAP("metrics"),
    ANYMAP("tracing"),
    MAP("compression", compression_keys),
    LIST("featureFlags"),
    ANYMAP("omEnforcedHealthListener"),
    ANYMAP("runtime-settings"),
    END,
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
