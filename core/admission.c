/* core/admission.c: the validators modules register, and the verdict they
 * write (contour/admission.h). */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

struct core_validator {
	core_validator_t *next;
	contour_module_t *mod;
	char *api_version, *kind;
	contour_validator_fn fn;
	void *ud;
};

struct contour_verdict {
	json_t *denials, *warnings;
	int ignored;
};

contour_verdict_t *contour_verdict_new(void)
{
	contour_verdict_t *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->denials = json_array();
	v->warnings = json_array();
	if (!v->denials || !v->warnings) {
		contour_verdict_free(v);
		return NULL;
	}
	return v;
}

void contour_verdict_free(contour_verdict_t *v)
{
	if (!v)
		return;
	json_decref(v->denials);
	json_decref(v->warnings);
	free(v);
}

static void verdict_vdeny(contour_verdict_t *v, const char *reason, const char *field,
                          const char *fmt, va_list ap)
{
	json_t *msg = json_vsprintf(fmt, ap);
	json_array_append_new(v->denials,
	                      json_pack("{s:s*, s:s?, s:o}", "reason", reason, "field", field,
	                                "message", msg ? msg : json_string("?")));
}

void contour_verdict_deny(contour_verdict_t *v, const char *field, const char *fmt, ...)
{
	if (!v || v->ignored)
		return;
	va_list ap;
	va_start(ap, fmt);
	verdict_vdeny(v, NULL, field, fmt, ap);
	va_end(ap);
}

void contour_verdict_deny_reason(contour_verdict_t *v, const char *reason, const char *field,
                                 const char *fmt, ...)
{
	if (!v || v->ignored)
		return;
	va_list ap;
	va_start(ap, fmt);
	verdict_vdeny(v, reason, field, fmt, ap);
	va_end(ap);
}

void contour_verdict_warn(contour_verdict_t *v, const char *fmt, ...)
{
	if (!v || v->ignored)
		return;
	va_list ap;
	va_start(ap, fmt);
	json_t *msg = json_vsprintf(fmt, ap);
	va_end(ap);
	/* The same warning from two validators is told once. */
	size_t i;
	json_t *w;
	json_array_foreach(v->warnings, i, w)
	{
		if (msg && json_equal(w, msg)) {
			json_decref(msg);
			return;
		}
	}
	if (msg)
		json_array_append_new(v->warnings, msg);
}

void contour_verdict_ignore(contour_verdict_t *v)
{
	if (!v)
		return;
	v->ignored = 1;
	json_array_clear(v->denials);
	json_array_clear(v->warnings);
}

int contour_verdict_allowed(const contour_verdict_t *v)
{
	return v && json_array_size(v->denials) == 0;
}

int contour_verdict_ignored(const contour_verdict_t *v)
{
	return v && v->ignored;
}

const json_t *contour_verdict_denials(const contour_verdict_t *v)
{
	return v ? v->denials : NULL;
}

const json_t *contour_verdict_warnings(const contour_verdict_t *v)
{
	return v ? v->warnings : NULL;
}

int contour_register_validator(contour_module_t *mod, const char *api_version, const char *kind,
                               contour_validator_fn fn, void *ud)
{
	int rc = core_may_register(mod, "contour_register_validator");
	if (rc != CONTOUR_EOK)
		return rc;
	if (!api_version || !*api_version || !kind || !*kind || !fn)
		return CONTOUR_EINVAL;
	core_validator_t *val = calloc(1, sizeof(*val));
	if (!val || !(val->api_version = strdup(api_version)) || !(val->kind = strdup(kind))) {
		if (val)
			free(val->api_version);
		free(val);
		return CONTOUR_ENOMEM;
	}
	val->mod = mod;
	val->fn = fn;
	val->ud = ud;
	core_validator_t **pp = &mod->core->validators;
	while (*pp)
		pp = &(*pp)->next;
	*pp = val;
	return CONTOUR_EOK;
}

int contour_review_run(contour_module_t *mod, const char *api_version, const char *kind,
                       const contour_review_t *review, contour_verdict_t *v)
{
	int n = 0;
	if (!mod || !api_version || !kind || !review || !v)
		return 0;
	for (core_validator_t *val = mod->core->validators; val && !v->ignored; val = val->next) {
		if (strcmp(val->api_version, api_version) || strcmp(val->kind, kind))
			continue;
		val->fn(val->mod, review, v, val->ud);
		n++;
	}
	return n;
}

static void validator_free(core_validator_t *val)
{
	free(val->api_version);
	free(val->kind);
	free(val);
}

void core_validators_drop_module(core_t *core, contour_module_t *mod)
{
	core_validator_t **pp = &core->validators;
	while (*pp) {
		core_validator_t *val = *pp;
		if (mod && val->mod != mod) {
			pp = &val->next;
			continue;
		}
		*pp = val->next;
		validator_free(val);
	}
}
