/* modules/ingress/ing_validate.c: the Ingress validator (contour/admission.h).
 *
 * It runs the processor's own passes (ing_object_init, ing_tls_vhosts,
 * ing_rules) on the object under review alone, in a DAG of its own, with
 * the build's verdict sink set: every problem the build would log for it
 * is reported instead, with the same message. What the Ingress gets wrong
 * on its own (an annotation that does not parse, a path or pathType the
 * build refuses, a backend that is not a Service) is a denial naming the
 * field; what depends on another object (a Service, a TLS Secret, a
 * TLSCertificateDelegation) or on the controller's config is a warning, so
 * the order objects are applied in does not matter.
 *
 * An Ingress has no status: the log line is the build's only word, and
 * the verdict never denies what the build would accept. A review goes one
 * step further than a build in one way only: a path (or a TLS version
 * range) the build does not look at because its Service (or Secret) is
 * missing is still checked, since the build refuses it once that exists.
 */
#include "config.h"

#include <string.h>

#include "modules/ingress/ing.h"

void ing_validate(contour_module_t *mod, const contour_review_t *r, contour_verdict_t *v, void *ud)
{
	ingress_ctx_t *ctx = ud;
	if (!contour_review_is_ours(mod, r, v))
		return;
	const json_t *obj = r->object;
	ing_build_t b = {.ctx = ctx, .mod = mod, .dag = contour_dag_review_new(mod), .verdict = v};
	ing_object_t ing = {0};
	if (b.dag) {
		ing_object_init(&b, &ing, obj);
		if (!b.nomem)
			ing_tls_vhosts(&b, &ing);
		if (!b.nomem)
			ing_rules(&b, &ing);
	}
	if (!b.dag || b.nomem)
		contour_verdict_deny(v, NULL, "contour: out of memory validating this Ingress");
	contour_dag_review_free(b.dag);
}
