/* tests/modules/tm_startfail.c: initialises, then fails start. */
#include <contour/module.h>

#include "tests/modules/tm_trace.h"

static int tm_startfail_init(contour_module_t *mod, const json_t *config)
{
	tm_trace("tm_startfail", "init");
	return CONTOUR_EOK;
}

static int tm_startfail_start(contour_module_t *mod)
{
	tm_trace("tm_startfail", "start");
	contour_log(mod, CONTOUR_LOG_ERR, "tm_startfail: cannot bind port 1");
	return -13; /* -EACCES: the core reports the module's own error */
}

static void tm_startfail_stop(contour_module_t *mod)
{
	tm_trace("tm_startfail", "stop");
}

static void tm_startfail_free(contour_module_t *mod)
{
	tm_trace("tm_startfail", "free");
}

CONTOUR_MODULE(.name = "tm_startfail", .version = "0", .init = tm_startfail_init,
               .start = tm_startfail_start, .stop = tm_startfail_stop, .free = tm_startfail_free);
