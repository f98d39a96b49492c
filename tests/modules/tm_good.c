/* tests/modules/tm_good.c: a module that does everything right, records its
 * lifecycle, registers one of each capability in init and proves that
 * registering outside init is refused. */
#include <stdio.h>
#include <contour/module.h>

#include "tests/modules/tm_trace.h"

typedef struct tm_good_ctx {
	contour_source_t *src;
	contour_metric_t *starts;
} tm_good_ctx_t;

static tm_good_ctx_t tm_good_state;

static int tm_good_process(contour_snapshot_t *building, void *ud)
{
	return CONTOUR_EOK;
}

static int tm_good_init(contour_module_t *mod, const json_t *config)
{
	char line[160];
	tm_good_ctx_t *ctx = &tm_good_state;
	snprintf(line, sizeof(line), "init greeting=%s count=%lld",
	         contour_conf_get_str(mod, "greeting", "?"),
	         (long long)contour_conf_get_int(mod, "count", -1));
	tm_trace("tm_good", line);
	contour_module_ctx_set(mod, ctx);
	static const contour_metric_desc_t starts = {
	    .type = CONTOUR_METRIC_COUNTER,
	    .name = "tm_good_starts_total",
	    .help = "Times tm_good started.",
	};
	if (contour_register_metric(mod, &starts, &ctx->starts) != CONTOUR_EOK)
		return CONTOUR_EMODULE;
	return contour_register_processor(mod, "tm_good", CONTOUR_ORDER_PRIMARY, tm_good_process,
	                                  NULL);
}

static int tm_good_start(contour_module_t *mod)
{
	char line[64];
	tm_good_ctx_t *ctx = contour_module_ctx_get(mod);
	tm_trace("tm_good", "start");
	contour_metric_add(ctx->starts, NULL, 1);
	int rc = contour_register_processor(mod, "tm_good_late", 1, tm_good_process, NULL);
	snprintf(line, sizeof(line), "late-register=%d", rc);
	tm_trace("tm_good", line);
	return CONTOUR_EOK;
}

static void tm_good_stop(contour_module_t *mod)
{
	tm_trace("tm_good", "stop");
}

static void tm_good_free(contour_module_t *mod)
{
	tm_trace("tm_good", "free");
}

static const contour_conf_item_t tm_good_schema[] = {
    {.key = "greeting", .type = CONTOUR_CONF_STR, .def = "hello"},
    {.key = "count", .type = CONTOUR_CONF_INT, .def = "3", .min = 1, .max = 10},
    {.key = "interval", .type = CONTOUR_CONF_DURATION, .def = "1m30s"},
    {.key = "tags", .type = CONTOUR_CONF_STR_LIST},
    {.key = "nested",
     .type = CONTOUR_CONF_MAP,
     .children =
         (const contour_conf_item_t[]){
             {.key = "enabled", .type = CONTOUR_CONF_BOOL, .def = "false"},
             {.key = "mode", .type = CONTOUR_CONF_STR, .flags = CONTOUR_CONF_REQUIRED},
             {0},
         }},
    {0},
};

static int tm_good_check(const json_t *config, char *err, size_t errlen)
{
	const json_t *g = json_object_get(config, "greeting");
	if (json_is_string(g) && json_string_length(g) == 0) {
		snprintf(err, errlen, "greeting must not be empty");
		return CONTOUR_ECONFIG;
	}
	return CONTOUR_EOK;
}

CONTOUR_MODULE(.name = "tm_good", .version = "1.2.3", .description = "loader test module",
               .schema = tm_good_schema, .check = tm_good_check, .init = tm_good_init,
               .start = tm_good_start, .stop = tm_good_stop, .free = tm_good_free);
