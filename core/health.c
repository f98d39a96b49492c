/* core/health.c: the health registry (contour/health.h).
 *
 * A list in registration order, so "the first failing check" is the same
 * one on every probe. Messages live in a fixed buffer in each check: a
 * report on the hot path (every chunk of a watch) never allocates. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

struct contour_health_check {
	contour_health_check_t *next;
	contour_module_t *mod;
	char *name;
	int ok;
	char message[CONTOUR_HEALTH_MESSAGE_MAX];
};

int contour_register_health_check(contour_module_t *mod, const char *name,
                                  contour_health_check_t **out)
{
	int rc = core_may_register(mod, "contour_register_health_check");
	if (rc != CONTOUR_EOK)
		return rc;
	if (!name || !*name || !out)
		return CONTOUR_EINVAL;
	contour_health_check_t **pp = &mod->core->health;
	for (; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->name, name))
			return CONTOUR_EEXIST;
	contour_health_check_t *c = calloc(1, sizeof(*c));
	if (!c || !(c->name = strdup(name))) {
		free(c);
		return CONTOUR_ENOMEM;
	}
	c->mod = mod;
	snprintf(c->message, sizeof(c->message), "not checked yet");
	*pp = c;
	*out = c;
	return CONTOUR_EOK;
}

void contour_health_pass(contour_health_check_t *c)
{
	if (!c || c->ok)
		return;
	c->ok = 1;
	contour_log(c->mod, CONTOUR_LOG_INFO, "health check %s passing (was: %s)", c->name,
	            c->message);
	c->message[0] = '\0';
}

void contour_health_fail(contour_health_check_t *c, const char *fmt, ...)
{
	if (!c)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt ? fmt : "failing", ap);
	va_end(ap);
	if (c->ok) {
		c->ok = 0;
		contour_log(c->mod, CONTOUR_LOG_WARN, "health check %s failing: %s", c->name,
		            c->message);
	}
}

int contour_health_check_ok(const contour_health_check_t *c)
{
	return c && c->ok;
}

int contour_health_state(contour_module_t *mod, const char **name, const char **message)
{
	for (contour_health_check_t *c = mod->core->health; c; c = c->next) {
		if (c->ok)
			continue;
		if (name)
			*name = c->name;
		if (message)
			*message = c->message;
		return 0;
	}
	return 1;
}

static void health_check_free(contour_health_check_t *c)
{
	free(c->name);
	free(c);
}

void core_health_drop_module(core_t *core, contour_module_t *mod)
{
	contour_health_check_t **pp = &core->health;
	while (*pp) {
		contour_health_check_t *c = *pp;
		if (!mod || c->mod == mod) {
			*pp = c->next;
			health_check_free(c);
		} else {
			pp = &c->next;
		}
	}
}
