/* core/command.c: `contour NAME` sub-commands that modules register. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"

struct core_command {
	core_command_t *next;
	contour_module_t *mod;
	char *name, *usage;
	contour_command_fn fn;
};

int contour_register_command(contour_module_t *mod, const char *name, const char *usage,
                             contour_command_fn fn)
{
	int rc = core_may_register(mod, "contour_register_command");
	if (rc != CONTOUR_EOK)
		return rc;
	if (!name || !*name || name[0] == '-' || !fn)
		return CONTOUR_EINVAL;
	if (core_command_is_builtin(name) || core_command_find(mod->core, name))
		return CONTOUR_EEXIST;
	core_command_t *c = calloc(1, sizeof(*c));
	if (!c || !(c->name = strdup(name)) || !(c->usage = strdup(usage ? usage : ""))) {
		if (c)
			free(c->name);
		free(c);
		return CONTOUR_ENOMEM;
	}
	c->mod = mod;
	c->fn = fn;
	core_command_t **pp = &mod->core->commands;
	while (*pp)
		pp = &(*pp)->next;
	*pp = c;
	return CONTOUR_EOK;
}

const core_command_t *core_command_find(core_t *core, const char *name)
{
	for (core_command_t *c = core->commands; c; c = c->next)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

int core_command_run(const core_command_t *c, int argc, char **argv)
{
	return c->fn(c->mod, argc, argv);
}

const char *core_command_help(core_t *core)
{
	static char buf[2048];
	size_t used = 0;
	buf[0] = '\0';
	for (core_command_t *c = core->commands; c && used < sizeof(buf); c = c->next)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "  %-13s %s\n", c->name,
		                         c->usage);
	return buf;
}

static void command_free(core_command_t *c)
{
	free(c->name);
	free(c->usage);
	free(c);
}

void core_command_drop_module(core_t *core, contour_module_t *mod)
{
	core_command_t **pp = &core->commands;
	while (*pp) {
		core_command_t *c = *pp;
		if (c->mod == mod) {
			*pp = c->next;
			command_free(c);
		} else {
			pp = &c->next;
		}
	}
}

void core_command_free(core_t *core)
{
	while (core->commands) {
		core_command_t *c = core->commands;
		core->commands = c->next;
		command_free(c);
	}
}
