/* modules/ingress/ingress.c: the ingress module: networking.k8s.io/v1
 * Ingress objects in the store become virtual hosts, routes and clusters in
 * the DAG, beside (and merged with) what httpproxy builds, and every
 * Ingress of our class gets its status.loadBalancer. */
#include "config.h"

#include <string.h>

#include "modules/ingress/ing.h"

static ingress_ctx_t ingress_state;

/* Upstream's builder runs the Ingress processor before the HTTPProxy one,
 * whatever the config's module order. */
#define ING_ORDER (CONTOUR_ORDER_PRIMARY - 10)

static int ingress_settings_read(contour_module_t *mod, ing_settings_t *s)
{
	/* The global header policies reach Ingress routes only on request. */
	if (json_is_true(contour_conf_global(mod, "policy.applyToIngress"))) {
		s->request_headers =
		    json_incref((json_t *)contour_conf_global(mod, "policy.request-headers"));
		s->response_headers =
		    json_incref((json_t *)contour_conf_global(mod, "policy.response-headers"));
	}
	s->load_balancer = ing_status_load_balancer(
	    json_string_value(contour_conf_global(mod, "ingress-status-address")));
	return s->load_balancer ? CONTOUR_EOK : CONTOUR_ENOMEM;
}

static void ingress_settings_fini(ing_settings_t *s)
{
	CONTOUR_JSON_DECREF_ALL(s->request_headers, s->response_headers, s->load_balancer);
	memset(s, 0, sizeof(*s));
}

static int ingress_init(contour_module_t *mod, const json_t *config)
{
	(void)config;
	ingress_ctx_t *ctx = &ingress_state;
	memset(ctx, 0, sizeof(*ctx));
	ctx->mod = mod;
	int rc = ingress_settings_read(mod, &ctx->settings);
	if (rc != CONTOUR_EOK)
		goto fail;
	contour_module_ctx_set(mod, ctx);
	rc = contour_register_processor(mod, "ingress", ING_ORDER, ing_process, ctx);
	if (rc == CONTOUR_EOK)
		rc = contour_register_validator(mod, ING_API_VERSION, ING_KIND, ing_validate, ctx);
	if (rc != CONTOUR_EOK)
		goto fail;
	return CONTOUR_EOK;
fail:
	/* free runs only after a successful init. */
	ingress_settings_fini(&ctx->settings);
	return rc;
}

static void ingress_free(contour_module_t *mod)
{
	ingress_ctx_t *ctx = contour_module_ctx_get(mod);
	if (!ctx)
		return;
	ingress_settings_fini(&ctx->settings);
	memset(ctx, 0, sizeof(*ctx));
}

CONTOUR_MODULE(.name = "ingress", .version = PACKAGE_VERSION,
               .description = "Ingress processor: networking.k8s.io/v1 Ingress and classes",
               .flags = CONTOUR_MODULE_F_PROCESSOR, .global_schema = ing_global_schema,
               .init = ingress_init, .free = ingress_free);
