/* modules/ingress/ing_proc.c: the Ingress processor, one run per build, as
 * upstream's IngressProcessor.Run: class filtering, then every Ingress's
 * TLS (so the secure vhosts are settled), then every Ingress's rules, then
 * a status for each accepted Ingress.
 *
 * It is registered just before httpproxy (ingress.c), as upstream's
 * builder runs its Ingress processor before the HTTPProxy one: on a host
 * both serve, an HTTPProxy route with the same match replaces the
 * Ingress's and an HTTPProxy's TLS settings replace the Ingress's. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/ingress/ing.h"

void ing_report(ing_build_t *b, const ing_object_t *ing, contour_log_level_t level,
                ing_problem_t kind, const char *field, const char *fmt, ...)
{
	/* Messages hold paths and regex errors of any length: never cut. */
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *msg = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (msg)
		vsnprintf(msg, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	if (!msg) {
		/* a build goes on without its log line; a review cannot answer */
		if (b->verdict)
			b->nomem = 1;
		return;
	}
	if (!b->verdict)
		contour_log(b->mod, level, "ingress %s/%s: %s", ing->ns, ing->name, msg);
	else if (kind == ING_PROBLEM_OWN)
		contour_verdict_deny(b->verdict, field, "%s", msg);
	else
		contour_verdict_warn(b->verdict, "%s", msg);
	free(msg);
}

void ing_object_init(ing_build_t *b, ing_object_t *ing, const json_t *obj)
{
	const json_t *meta = contour_json_get_obj(obj, "metadata");
	ing->obj = obj;
	ing->ns = contour_json_get_str(meta, "namespace");
	ing->name = contour_json_get_str(meta, "name");
	ing_annot_read(b, ing);
}

static int ing_collect(const json_t *obj, void *ud)
{
	ing_build_t *b = ud;
	/* Upstream drops other classes' Ingresses from its cache: no status. */
	if (!contour_ingress_class_matches(b->mod, obj))
		return 0;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		ing_object_t *grown = realloc(b->ings, cap * sizeof(*grown));
		if (!grown) {
			b->nomem = 1;
			return 1;
		}
		b->ings = grown;
		b->cap = cap;
	}
	ing_object_init(b, &b->ings[b->n++], obj);
	return 0;
}

int ing_process(contour_snapshot_t *building, void *ud)
{
	ingress_ctx_t *ctx = ud;
	ing_build_t b = {.ctx = ctx, .mod = ctx->mod, .dag = contour_snapshot_dag(building)};
	int rc = CONTOUR_EOK;

	contour_store_foreach(ctx->mod, ING_API_VERSION, ING_KIND, ing_collect, &b);
	for (size_t i = 0; i < b.n && !b.nomem; i++)
		ing_tls_vhosts(&b, &b.ings[i]);
	for (size_t i = 0; i < b.n && !b.nomem; i++)
		ing_rules(&b, &b.ings[i]);
	if (b.nomem) {
		rc = CONTOUR_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < b.n; i++) {
		rc = ing_status_record(&b, building, &b.ings[i]);
		if (rc != CONTOUR_EOK)
			goto out;
	}
out:
	free(b.ings);
	return rc;
}
