/* hello.c: a complete out-of-tree contour module. It logs a greeting from
 * its config and counts its starts. Build it with the Makefile, then:
 *   modules:
 *     - name: hello
 *       path: /path/to/hello.so
 *       config: {greeting: "hi there"}
 */
#include <stdlib.h>
#include <contour/module.h>

typedef struct hello_ctx {
	contour_metric_t *starts;
} hello_ctx_t;

static const contour_conf_item_t hello_schema[] = {
    {.key = "greeting", .type = CONTOUR_CONF_STR, .def = "hello", .help = "What init logs."},
    {0},
};

static const contour_metric_desc_t hello_starts = {
    .type = CONTOUR_METRIC_COUNTER,
    .name = "hello_starts_total",
    .help = "Times the hello module started.",
};

static int hello_init(contour_module_t *mod, const json_t *config)
{
	hello_ctx_t *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return CONTOUR_ENOMEM;
	int rc = contour_register_metric(mod, &hello_starts, &ctx->starts);
	if (rc != CONTOUR_EOK) {
		free(ctx); /* free() is not called after a failed init */
		return rc;
	}
	contour_module_ctx_set(mod, ctx);
	/* The schema filled in the default, so the fallback is never used. */
	contour_log(mod, CONTOUR_LOG_INFO, "%s", contour_conf_get_str(mod, "greeting", NULL));
	return CONTOUR_EOK;
}

static int hello_start(contour_module_t *mod)
{
	hello_ctx_t *ctx = contour_module_ctx_get(mod);
	contour_metric_add(ctx->starts, NULL, 1);
	return CONTOUR_EOK;
}

static void hello_stop(contour_module_t *mod)
{
	contour_log(mod, CONTOUR_LOG_INFO, "goodbye");
}

static void hello_free(contour_module_t *mod)
{
	free(contour_module_ctx_get(mod));
}

CONTOUR_MODULE(.name = "hello", .version = "1.0.0", .description = "example module",
               .schema = hello_schema, .init = hello_init, .start = hello_start, .stop = hello_stop,
               .free = hello_free);
