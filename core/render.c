/* core/render.c: `contour render` output formats that modules register
 * (the core's own status, dag and dot live in cli.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"

struct core_render_format {
	core_render_format_t *next;
	contour_module_t *mod;
	char *name;
	contour_render_fn fn;
	void *ud;
};

static const char *const builtin_formats[] = {"status", "dag", "dot"};

int contour_register_render_format(contour_module_t *mod, const char *name, contour_render_fn fn,
                                   void *ud)
{
	int rc = core_may_register(mod, "contour_register_render_format");
	if (rc != CONTOUR_EOK)
		return rc;
	if (!name || !*name || !fn)
		return CONTOUR_EINVAL;
	for (size_t i = 0; i < sizeof(builtin_formats) / sizeof(builtin_formats[0]); i++)
		if (!strcmp(name, builtin_formats[i]))
			return CONTOUR_EEXIST;
	if (core_render_find(mod->core, name))
		return CONTOUR_EEXIST;
	core_render_format_t *f = calloc(1, sizeof(*f));
	if (!f || !(f->name = strdup(name))) {
		free(f);
		return CONTOUR_ENOMEM;
	}
	f->mod = mod;
	f->fn = fn;
	f->ud = ud;
	/* Append, so names list in registration order. */
	core_render_format_t **pp = &mod->core->render_formats;
	while (*pp)
		pp = &(*pp)->next;
	*pp = f;
	return CONTOUR_EOK;
}

const core_render_format_t *core_render_find(core_t *core, const char *name)
{
	for (core_render_format_t *f = core->render_formats; f; f = f->next)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

int core_render_run(const core_render_format_t *f, contour_snapshot_t *snap, FILE *out)
{
	return f->fn(snap, out, f->ud);
}

const char *core_render_names(core_t *core)
{
	static char buf[512];
	size_t used = 0;
	buf[0] = '\0';
	for (core_render_format_t *f = core->render_formats; f && used < sizeof(buf); f = f->next)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, ", %s", f->name);
	return buf;
}

static void render_format_free(core_render_format_t *f)
{
	free(f->name);
	free(f);
}

void core_render_drop_module(core_t *core, contour_module_t *mod)
{
	core_render_format_t **pp = &core->render_formats;
	while (*pp) {
		core_render_format_t *f = *pp;
		if (f->mod == mod) {
			*pp = f->next;
			render_format_free(f);
		} else {
			pp = &f->next;
		}
	}
}

void core_render_free(core_t *core)
{
	while (core->render_formats) {
		core_render_format_t *f = core->render_formats;
		core->render_formats = f->next;
		render_format_free(f);
	}
}
