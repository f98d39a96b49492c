/* tests/modules/tm_initfail.c: registers things, then fails init; the core
 * must undo the registrations and not call its free hook. */
#include <contour/module.h>

#include "tests/modules/tm_trace.h"

static int tm_initfail_process(contour_snapshot_t *building, void *ud)
{
	return CONTOUR_EOK;
}

static int tm_initfail_init(contour_module_t *mod, const json_t *config)
{
	static const contour_metric_desc_t m = {
	    .type = CONTOUR_METRIC_GAUGE,
	    .name = "tm_initfail_gauge",
	    .help = "Must vanish when init fails.",
	};
	contour_metric_t *out;
	contour_source_t *src;
	tm_trace("tm_initfail", "init");
	contour_register_metric(mod, &m, &out);
	contour_register_source(mod, "tm_initfail", &src);
	contour_register_processor(mod, "tm_initfail", 10, tm_initfail_process, NULL);
	contour_log(mod, CONTOUR_LOG_ERR, "tm_initfail: refusing to initialise");
	return CONTOUR_EMODULE;
}

static void tm_initfail_free(contour_module_t *mod)
{
	tm_trace("tm_initfail", "free");
}

CONTOUR_MODULE(.name = "tm_initfail", .version = "0", .init = tm_initfail_init,
               .free = tm_initfail_free);
