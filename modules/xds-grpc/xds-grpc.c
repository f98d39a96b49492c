/* modules/xds-grpc/xds-grpc.c: the xds-grpc module. Each new DAG snapshot
 * is translated into Envoy v3 resources and published to every connected
 * Envoy; `contour render --format envoy` prints the same translation. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/xds-grpc/xds.h"
#include "modules/xds-grpc/xds_bootstrap.h"

typedef struct xds_ctx {
	contour_module_t *mod;
	xds_settings_t settings;
	xds_server_config_t server_cfg;
	xds_server_t *server;
	xds_snapshot_t *current; /* the last translation, for versions */
} xds_ctx_t;

static const contour_conf_item_t xds_schema[] = {
    CONTOUR_CONF_OPT("address", STR, "127.0.0.1", "xDS listen address (upstream --xds-address)"),
    CONTOUR_CONF_RANGE("port", INT, "8001", 0, 65535,
                       "xDS port (upstream --xds-port); 0 picks a free one"),
    CONTOUR_CONF_OPT("insecure", BOOL, "false",
                     "plaintext xDS (upstream --insecure): loopback and the sidecar role only"),
    CONTOUR_CONF_OPT("ca-file", STR, NULL, "CA for client certificates"),
    CONTOUR_CONF_OPT("cert-file", STR, NULL, "server certificate"),
    CONTOUR_CONF_OPT("key-file", STR, NULL, "server private key"),
    CONTOUR_CONF_OPT("envoy-http-address", STR, "0.0.0.0",
                     "address of Envoy's HTTP listener (bootstrap and listeners)"),
    CONTOUR_CONF_RANGE("envoy-http-port", INT, "8080", 1, 65535, "port of Envoy's HTTP listener"),
    CONTOUR_CONF_OPT("envoy-https-address", STR, "0.0.0.0", "address of Envoy's HTTPS listener"),
    CONTOUR_CONF_RANGE("envoy-https-port", INT, "8443", 1, 65535, "port of Envoy's HTTPS listener"),
    CONTOUR_CONF_OPT("stats-address", STR, "0.0.0.0",
                     "address of Envoy's stats and health listener"),
    CONTOUR_CONF_RANGE("stats-port", INT, "8002", 1, 65535,
                       "port of Envoy's stats and health listener"),
    CONTOUR_CONF_OPT("envoy-http-access-log", STR, "/dev/stdout",
                     "Envoy's access log file for HTTP"),
    CONTOUR_CONF_OPT("envoy-https-access-log", STR, "/dev/stdout",
                     "Envoy's access log file for HTTPS"),
    {0},
};

/* Upstream's `contour serve` flags for what this module does. */
static const contour_cli_flag_t xds_cli_flags[] = {
    {"--xds-address", "address", NULL},
    {"--xds-port", "port", NULL},
    {"--insecure", "insecure", NULL},
    {"--contour-cafile", "ca-file", "CONTOUR_CAFILE"},
    {"--contour-cert-file", "cert-file", "CONTOUR_CERT_FILE"},
    {"--contour-key-file", "key-file", "CONTOUR_KEY_FILE"},
    {"--envoy-service-http-address", "envoy-http-address", NULL},
    {"--envoy-service-http-port", "envoy-http-port", NULL},
    {"--envoy-service-https-address", "envoy-https-address", NULL},
    {"--envoy-service-https-port", "envoy-https-port", NULL},
    {"--stats-address", "stats-address", NULL},
    {"--stats-port", "stats-port", NULL},
    {"--envoy-http-access-log", "envoy-http-access-log", NULL},
    {"--envoy-https-access-log", "envoy-https-access-log", NULL},
    {NULL, NULL, NULL},
};

/* Upstream's verifyTLSFlags, with its messages. */
static int xds_check(const json_t *config, char *err, size_t errlen)
{
	if (json_is_true(json_object_get(config, "insecure")))
		return CONTOUR_EOK;
	int n = !!json_object_get(config, "ca-file") + !!json_object_get(config, "cert-file") +
	        !!json_object_get(config, "key-file");
	if (n == 0) {
		snprintf(err, errlen,
		         "no TLS parameters and --insecure not supplied. You must "
		         "supply one or the other");
		return CONTOUR_ECONFIG;
	}
	if (n != 3) {
		snprintf(err, errlen,
		         "you must supply all three TLS parameters - --contour-cafile, "
		         "--contour-cert-file, --contour-key-file, or none of them");
		return CONTOUR_ECONFIG;
	}
	return CONTOUR_EOK;
}

static double xds_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void xds_observe(contour_snapshot_t *snap, void *ud)
{
	xds_ctx_t *ctx = ud;
	double t0 = xds_now_ms();
	xds_snapshot_t *next = xds_translate(ctx->mod, snap, &ctx->settings, ctx->current);
	if (!next) {
		contour_log(ctx->mod, CONTOUR_LOG_ERR,
		            "translating snapshot %llu failed: out of memory; still serving the "
		            "previous one",
		            (unsigned long long)contour_snapshot_generation(snap));
		return;
	}
	xds_snapshot_t *old = ctx->current;
	ctx->current = next;
	double t1 = xds_now_ms();
	if (ctx->server)
		xds_server_publish(ctx->server, next);
	/* the last reference to the previous snapshot may be this one: freed
	 * once the clients have the new one */
	double t2 = xds_now_ms();
	xds_snapshot_unref(old);
	/* where a change's latency goes (bench/xds_latency.js reads it) */
	contour_log(ctx->mod, CONTOUR_LOG_DEBUG,
	            "translated generation=%llu translate=%.3fms publish=%.3fms free=%.3fms",
	            (unsigned long long)contour_snapshot_generation(snap), t1 - t0, t2 - t1,
	            xds_now_ms() - t2);
}

static int xds_render_envoy(contour_snapshot_t *snap, FILE *out, void *ud)
{
	xds_ctx_t *ctx = ud;
	xds_snapshot_t *xs = xds_translate(ctx->mod, snap, &ctx->settings, NULL);
	json_t *j = xs ? xds_snapshot_to_json(xs) : NULL;
	int rc = j && json_dumpf(j, out, JSON_INDENT(2)) == 0 ? CONTOUR_EOK : CONTOUR_ENOMEM;
	if (rc == CONTOUR_EOK)
		fputc('\n', out);
	json_decref(j);
	xds_snapshot_unref(xs);
	return rc;
}

/* `contour bootstrap PATH [flags]`: Envoy's bootstrap, as upstream writes
 * it. */
static int xds_bootstrap_command(contour_module_t *mod, int argc, char **argv)
{
	return xds_bootstrap_main(argc, argv);
}

static xds_ctx_t xds_state;

static int xds_init(contour_module_t *mod, const json_t *config)
{
	xds_ctx_t *ctx = &xds_state;
	memset(ctx, 0, sizeof(*ctx));
	ctx->mod = mod;
	xds_settings_t *s = &ctx->settings;
	s->http_address = contour_conf_get_str(mod, "envoy-http-address", "0.0.0.0");
	s->http_port = (uint32_t)contour_conf_get_int(mod, "envoy-http-port", 8080);
	s->https_address = contour_conf_get_str(mod, "envoy-https-address", "0.0.0.0");
	s->https_port = (uint32_t)contour_conf_get_int(mod, "envoy-https-port", 8443);
	s->stats_address = contour_conf_get_str(mod, "stats-address", "0.0.0.0");
	s->stats_port = (uint32_t)contour_conf_get_int(mod, "stats-port", 8002);
	s->http_access_log = contour_conf_get_str(mod, "envoy-http-access-log", "/dev/stdout");
	s->https_access_log = contour_conf_get_str(mod, "envoy-https-access-log", "/dev/stdout");
	const json_t *admin = contour_conf_global(mod, "network.admin-port");
	s->admin_port = json_is_integer(admin) ? (uint32_t)json_integer_value(admin) : 9001;
	char err[256];
	int rc = xds_settings_check(mod, err, sizeof(err));
	if (rc != CONTOUR_EOK) {
		contour_log(mod, CONTOUR_LOG_ERR, "%s", err);
		return rc;
	}
	xds_settings_globals(mod, s);

	contour_module_ctx_set(mod, ctx);
	rc = contour_register_command(mod, "bootstrap",
	                              "Write Envoy's bootstrap configuration (upstream's flags).",
	                              xds_bootstrap_command);
	if (rc != CONTOUR_EOK)
		return rc;
	if (contour_module_render_only(mod))
		return contour_register_render_format(mod, "envoy", xds_render_envoy, ctx);

	xds_server_config_t *c = &ctx->server_cfg;
	c->address = contour_conf_get_str(mod, "address", "127.0.0.1");
	c->port = (uint32_t)contour_conf_get_int(mod, "port", 8001);
	c->insecure = contour_conf_get_bool(mod, "insecure", 0);
	c->ca_file = contour_conf_get_str(mod, "ca-file", NULL);
	c->cert_file = contour_conf_get_str(mod, "cert-file", NULL);
	c->key_file = contour_conf_get_str(mod, "key-file", NULL);
	ctx->server = xds_server_new(mod, c);
	if (!ctx->server)
		return CONTOUR_EMODULE; /* it logged why */
	rc = contour_register_observer(mod, "xds-grpc", xds_observe, ctx);
	if (rc == CONTOUR_EOK)
		rc = contour_register_render_format(mod, "envoy", xds_render_envoy, ctx);
	if (rc != CONTOUR_EOK) {
		xds_server_free(ctx->server);
		ctx->server = NULL;
	}
	return rc;
}

static int xds_start(contour_module_t *mod)
{
	xds_ctx_t *ctx = contour_module_ctx_get(mod);
	int rc = xds_server_start(ctx->server);
	if (rc == CONTOUR_EOK && ctx->current)
		xds_server_publish(ctx->server, ctx->current);
	return rc;
}

static void xds_stop(contour_module_t *mod)
{
	xds_ctx_t *ctx = contour_module_ctx_get(mod);
	if (ctx && ctx->server)
		xds_server_stop(ctx->server);
}

static void xds_free(contour_module_t *mod)
{
	xds_ctx_t *ctx = contour_module_ctx_get(mod);
	if (!ctx)
		return;
	xds_server_free(ctx->server);
	xds_snapshot_unref(ctx->current);
	xds_translate_cleanup();
	memset(ctx, 0, sizeof(*ctx));
}

CONTOUR_MODULE(.name = "xds-grpc", .version = PACKAGE_VERSION,
               .description = "Envoy v3 xDS over gRPC: the DAG translated for every Envoy",
               .flags = CONTOUR_MODULE_F_RENDER | CONTOUR_MODULE_F_COMMAND, .schema = xds_schema,
               .global_schema = xds_global_schema, .check = xds_check, .cli_flags = xds_cli_flags,
               .init = xds_init, .start = xds_start, .stop = xds_stop, .free = xds_free);
