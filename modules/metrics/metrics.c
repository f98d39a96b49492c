/* modules/metrics/metrics.c: the metrics module's entry point.
 *
 * Serves the core's metrics registry and the health registry over HTTP, as
 * upstream Contour serves `:8000/metrics` and `/healthz` (its --http-address
 * and --http-port), and the DAG as Graphviz dot on `127.0.0.1:6060/debug/dag`
 * (--debug-http-address, --debug-http-port). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "modules/metrics/mx.h"

/* The build may pass -DCONTOUR_REVISION='"<git sha>"' and
 * -DCONTOUR_BRANCH='"<branch>"'; upstream sets these with -ldflags. */
#ifndef CONTOUR_REVISION
#define MX_REVISION "unknown"
#define MX_BRANCH   "unknown"
#else
#define MX_REVISION CONTOUR_REVISION
#ifdef CONTOUR_BRANCH
#define MX_BRANCH CONTOUR_BRANCH
#else
#define MX_BRANCH "unknown"
#endif
#endif

static const contour_conf_item_t mx_schema[] = {
    CONTOUR_CONF_OPT("address", STR, "0.0.0.0",
                     "numeric IPv4 or IPv6 address to listen on (upstream's --http-address)"),
    CONTOUR_CONF_RANGE("port", INT, "8000", 0, 65535,
                       "TCP port (upstream's --http-port); 0 picks a free port and logs it"),
    CONTOUR_CONF_OPT("debug-address", STR, "127.0.0.1",
                     "numeric IPv4 or IPv6 address of /debug/dag (upstream's "
                     "--debug-http-address)"),
    CONTOUR_CONF_RANGE("debug-port", INT, "6060", -1, 65535,
                       "TCP port of /debug/dag (upstream's --debug-http-port); 0 picks a free "
                       "port, -1 serves no debug port"),
    {.key = NULL},
};

static int mx_check(const json_t *config, char *err, size_t errlen)
{
	int rc = contour_conf_check_address(config, "address", err, errlen);
	if (rc != CONTOUR_EOK)
		return rc;
	return contour_conf_check_address(config, "debug-address", err, errlen);
}

static const char *const mx_build_labels[] = {"branch", "revision", "version", NULL};
static const char *const mx_request_labels[] = {"code", NULL};

static int mx_init(contour_module_t *mod, const json_t *config)
{
	int rc;
	mx_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return CONTOUR_ENOMEM;
	ctx->mod = mod;
	ctx->metrics = (mx_srv_t){
	    .ctx = ctx,
	    .log_prefix = "",
	    .address = contour_conf_get_str(mod, "address", "0.0.0.0"),
	    .port = (int)contour_conf_get_int(mod, "port", 8000),
	    .route = mx_route_metrics,
	    .counted = 1,
	};
	ctx->debug = (mx_srv_t){
	    .ctx = ctx,
	    .log_prefix = "debug listener: ",
	    .address = contour_conf_get_str(mod, "debug-address", "127.0.0.1"),
	    .port = (int)contour_conf_get_int(mod, "debug-port", 6060),
	    .route = mx_route_debug,
	};

	/* Upstream's name, help and labels, so existing dashboards work. */
	contour_metric_desc_t build = {
	    .type = CONTOUR_METRIC_GAUGE,
	    .name = "contour_build_info",
	    .help = "Build information for Contour. Labels include the branch and git SHA that "
	            "Contour was built from, and the Contour version.",
	    .labels = mx_build_labels,
	};
	contour_metric_desc_t requests = {
	    .type = CONTOUR_METRIC_COUNTER,
	    .name = "contour_metrics_http_requests_total",
	    .help = "HTTP requests answered by the metrics module's server, by status code.",
	    .labels = mx_request_labels,
	};
	rc = contour_register_metric(mod, &build, &ctx->build_info);
	if (rc != CONTOUR_EOK)
		goto fail;
	rc = contour_register_metric(mod, &requests, &ctx->requests);
	if (rc != CONTOUR_EOK)
		goto fail;
	const char *values[] = {MX_BRANCH, MX_REVISION, PACKAGE_VERSION};
	contour_metric_set(ctx->build_info, values, 1);
	contour_module_ctx_set(mod, ctx);
	return CONTOUR_EOK;
fail:
	/* The core drops this module's registrations when init fails. */
	contour_log(mod, CONTOUR_LOG_ERR, "cannot register metrics: %s", contour_strerror(rc));
	free(ctx);
	return rc;
}

static int mx_start(contour_module_t *mod)
{
	mx_ctx_t *ctx = contour_module_ctx_get(mod);
	/* A failed start gets its stop, which closes the one already open. */
	int rc = mx_http_start(&ctx->metrics);
	if (rc != CONTOUR_EOK)
		return rc;
	return mx_http_start(&ctx->debug);
}

static void mx_stop(contour_module_t *mod)
{
	mx_ctx_t *ctx = contour_module_ctx_get(mod);
	if (!ctx)
		return;
	mx_http_stop(&ctx->debug);
	mx_http_stop(&ctx->metrics);
}

static void mx_free(contour_module_t *mod)
{
	mx_ctx_t *ctx = contour_module_ctx_get(mod);
	if (!ctx)
		return;
	/* stop normally ran; this covers a core that skipped it. */
	mx_stop(mod);
	free(ctx);
	contour_module_ctx_set(mod, NULL);
}

/* Upstream's serve flags for the metrics and debug servers. */
static const contour_cli_flag_t mx_cli_flags[] = {
    {"--http-address", "address", NULL},
    {"--http-port", "port", NULL},
    {"--debug-http-address", "debug-address", NULL},
    {"--debug-http-port", "debug-port", NULL},
    {NULL, NULL, NULL},
};

CONTOUR_MODULE(.name = "metrics", .version = PACKAGE_VERSION,
               .description = "serves /metrics and /healthz, and /debug/dag on the debug port",
               .schema = mx_schema, .check = mx_check, .init = mx_init, .start = mx_start,
               .stop = mx_stop, .free = mx_free, .cli_flags = mx_cli_flags);
