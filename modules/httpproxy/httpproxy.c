/* modules/httpproxy/httpproxy.c: the httpproxy module: HTTPProxy
 * (projectcontour.io/v1) objects in the store become virtual hosts, routes
 * and clusters in the DAG, and every HTTPProxy gets upstream's status. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "modules/httpproxy/hp.h"

static httpproxy_ctx_t httpproxy_state;

static void httpproxy_settings_read(contour_module_t *mod, hp_settings_t *s)
{
	s->root_namespaces = contour_conf_global_str_list(mod, "root-namespaces");
	s->disable_permit_insecure =
	    json_is_true(contour_conf_global(mod, "disablePermitInsecure"));
	s->fallback_ns =
	    json_string_value(contour_conf_global(mod, "tls.fallback-certificate.namespace"));
	s->fallback_name =
	    json_string_value(contour_conf_global(mod, "tls.fallback-certificate.name"));
	s->request_headers =
	    json_incref((json_t *)contour_conf_global(mod, "policy.request-headers"));
	s->response_headers =
	    json_incref((json_t *)contour_conf_global(mod, "policy.response-headers"));
}

static void httpproxy_settings_fini(hp_settings_t *s)
{
	CONTOUR_JSON_DECREF_ALL(s->root_namespaces, s->request_headers, s->response_headers);
	memset(s, 0, sizeof(*s));
}

/* Upstream refuses to start with a bad default header name; so does the
 * module, naming the key. */
static int httpproxy_settings_check(contour_module_t *mod, const hp_settings_t *s)
{
	const struct {
		const char *key;
		const json_t *policy;
	} defaults[] = {
	    {"policy.request-headers", s->request_headers},
	    {"policy.response-headers", s->response_headers},
	};
	char err[1024];
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		if (contour_header_policy_check(defaults[i].policy, err, sizeof(err)) < 0) {
			contour_log(mod, CONTOUR_LOG_ERR, "%s: %s", defaults[i].key, err);
			return CONTOUR_ECONFIG;
		}
	}
	return CONTOUR_EOK;
}

static int httpproxy_init(contour_module_t *mod, const json_t *config)
{
	httpproxy_ctx_t *ctx = &httpproxy_state;
	memset(ctx, 0, sizeof(*ctx));
	ctx->mod = mod;
	httpproxy_settings_read(mod, &ctx->settings);
	int rc = CONTOUR_ENOMEM;
	if (!ctx->settings.root_namespaces)
		goto fail;
	if ((rc = httpproxy_settings_check(mod, &ctx->settings)) != CONTOUR_EOK)
		goto fail;
	contour_module_ctx_set(mod, ctx);
	/* Upstream's gauges, labelled as upstream labels them. */
	static const char *const ns_label[] = {"namespace", NULL};
	static const char *const ns_vhost[] = {"namespace", "vhost", NULL};
	const contour_metric_desc_t descs[] = {
	    {CONTOUR_METRIC_GAUGE, "contour_httpproxy",
	     "Total number of HTTPProxies that exist regardless of status.", ns_label, NULL, 0},
	    {CONTOUR_METRIC_GAUGE, "contour_httpproxy_root",
	     "Total number of root HTTPProxies. Note there will only be a single root HTTPProxy "
	     "per vhost.",
	     ns_label, NULL, 0},
	    {CONTOUR_METRIC_GAUGE, "contour_httpproxy_valid", "Total number of valid HTTPProxies.",
	     ns_vhost, NULL, 0},
	    {CONTOUR_METRIC_GAUGE, "contour_httpproxy_invalid",
	     "Total number of invalid HTTPProxies.", ns_vhost, NULL, 0},
	    {CONTOUR_METRIC_GAUGE, "contour_httpproxy_orphaned",
	     "Total number of orphaned HTTPProxies which have no root delegating to them.",
	     ns_label, NULL, 0},
	};
	contour_metric_t **outs[] = {&ctx->m_total, &ctx->m_root, &ctx->m_valid, &ctx->m_invalid,
	                             &ctx->m_orphaned};
	for (size_t i = 0; i < sizeof(descs) / sizeof(descs[0]); i++) {
		rc = contour_register_metric(mod, &descs[i], outs[i]);
		if (rc != CONTOUR_EOK)
			goto fail;
	}
	rc = contour_register_processor(mod, "httpproxy", CONTOUR_ORDER_PRIMARY, hp_process, ctx);
	if (rc != CONTOUR_EOK)
		goto fail;
	/* The admission webhook's questions: the same rules, one object. */
	rc = CONTOUR_ENOMEM;
	if (!(ctx->index = hp_index_new(mod)))
		goto fail;
	rc = contour_store_subscribe(mod, HP_API_VERSION, HP_KIND, hp_index_event, ctx->index);
	if (rc == CONTOUR_EOK)
		rc = contour_register_validator(mod, HP_API_VERSION, HP_KIND, hp_validate, ctx);
	if (rc != CONTOUR_EOK)
		goto fail;
	return CONTOUR_EOK;
fail:
	/* free runs only after a successful init. */
	hp_index_free(ctx->index);
	ctx->index = NULL;
	httpproxy_settings_fini(&ctx->settings);
	return rc;
}

static void httpproxy_free(contour_module_t *mod)
{
	httpproxy_ctx_t *ctx = contour_module_ctx_get(mod);
	if (!ctx)
		return;
	hp_index_free(ctx->index);
	httpproxy_settings_fini(&ctx->settings);
	memset(ctx, 0, sizeof(*ctx));
}

CONTOUR_MODULE(.name = "httpproxy", .version = PACKAGE_VERSION,
               .description = "HTTPProxy processor: routes, TLS, includes and status",
               .flags = CONTOUR_MODULE_F_PROCESSOR, .global_schema = hp_global_schema,
               .init = httpproxy_init, .free = httpproxy_free);
