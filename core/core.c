/* core/core.c: the core object and module handles. */
#include "config.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/dag/dag_internal.h"

core_t *core_new(struct event_base *base)
{
	core_t *core = calloc(1, sizeof(*core));
	if (!core)
		return NULL;
	core->own_base = base == NULL;
	if (!base) {
		/* Precise timers: the hold-off is measured against the monotonic
		 * clock, and the coarse one fires a few milliseconds early. */
		struct event_config *cfg = event_config_new();
		if (cfg) {
			event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
			base = event_base_new_with_config(cfg);
			event_config_free(cfg);
		}
	}
	core->base = base;
	core->self.core = core;
	core->self.name = (char *)"core";
	core->self.file = (char *)"(core)";
	core->self.state = CORE_MOD_CORE;
	core->holdoff_ms = 100;
	core->holdoff_max_ms = 500;
	if (!core->base)
		goto fail;
	core->metrics = core_metrics_new();
	if (!core->metrics)
		goto fail;
	core->store = core_store_new(core);
	if (!core->store)
		goto fail;
	core->pipeline = core_pipeline_new(core);
	if (!core->pipeline)
		goto fail;
	return core;
fail:
	core_free(core);
	return NULL;
}

void core_free(core_t *core)
{
	if (!core)
		return;
	core_modules_stop_free(core);
	core_loop_signals_remove(core);
	core_render_free(core);
	json_decref(core->cli_flags);
	core_command_free(core);
	core_validators_drop_module(core, NULL);
	core_health_drop_module(core, NULL);
	/* The pipeline drops its snapshot (and the observers' data) before the
	 * store and the metrics it records into go away. */
	core_pipeline_free(core->pipeline);
	core_store_free(core->store);
	core_metrics_free(core->metrics);
	core_secret_cache_free(core->secret_cache);
	core_conf_free(core->conf);

	if (core->own_base && core->base)
		event_base_free(core->base);
	free(core);
}

int core_may_register(contour_module_t *mod, const char *what)
{
	if (!mod)
		return CONTOUR_EINVAL;
	if (mod->state == CORE_MOD_INITIALISING || mod->state == CORE_MOD_CORE)
		return CONTOUR_EOK;
	contour_log(mod, CONTOUR_LOG_ERR, "%s: registration is only allowed in init", what);
	return CONTOUR_ESTATE;
}

void core_drop_registrations(core_t *core, contour_module_t *mod)
{
	core_pipeline_drop_module(core->pipeline, mod);
	core_store_drop_module(core->store, mod);
	core_metrics_drop_module(core->metrics, mod);
	core_render_drop_module(core, mod);
	core_command_drop_module(core, mod);
	core_validators_drop_module(core, mod);
	core_health_drop_module(core, mod);
}

const char *contour_module_name(const contour_module_t *mod)
{
	return mod ? mod->name : "core";
}

void contour_module_ctx_set(contour_module_t *mod, void *ctx)
{
	mod->ctx = ctx;
}

void *contour_module_ctx_get(const contour_module_t *mod)
{
	return mod->ctx;
}

int contour_module_render_only(const contour_module_t *mod)
{
	return mod && mod->core && mod->core->render_mode && mod->desc &&
	       (mod->desc->flags & (CONTOUR_MODULE_F_RENDER | CONTOUR_MODULE_F_COMMAND)) &&
	       !(mod->desc->flags & CONTOUR_MODULE_F_PROCESSOR);
}

const char *contour_module_config_path(const contour_module_t *mod)
{
	return mod->core->conf ? mod->core->conf->path : NULL;
}
