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

#include <stdlib.h>
#include <string.h>

#include "modules/ingress/ing.h"

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
	ing_object_t *ing = &b->ings[b->n++];
	const json_t *meta = contour_json_get_obj(obj, "metadata");
	ing->obj = obj;
	ing->ns = contour_json_get_str(meta, "namespace");
	ing->name = contour_json_get_str(meta, "name");
	ing_annot_read(b->mod, obj, &ing->annot);
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
