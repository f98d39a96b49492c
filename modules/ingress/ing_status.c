/* modules/ingress/ing_status.c: the status an accepted Ingress gets. An
 * Ingress has no conditions; upstream's leader writes only
 * status.loadBalancer, from --ingress-status-address (or the Envoy
 * Service's load balancer, which k8s-watch would have to supply). The
 * snapshot carries it so `contour render --format status` shows it and
 * k8s-watch can write it back. */
#include "config.h"

#include <contour/status.h>

#include "modules/ingress/ing.h"

json_t *ing_status_load_balancer(const char *addresses)
{
	return contour_status_lb_new(addresses);
}

int ing_status_record(ing_build_t *b, contour_snapshot_t *building, const ing_object_t *ing)
{
	contour_object_key_t key = {.api_version = ING_API_VERSION,
	                            .kind = ING_KIND,
	                            .namespace_ = ing->ns,
	                            .name = ing->name};
	json_t *status = json_pack("{s:O}", "loadBalancer", b->ctx->settings.load_balancer);
	if (!status)
		return CONTOUR_ENOMEM;
	return contour_snapshot_set_status_new(building, &key, status);
}
