/* modules/ingress/ing_status.c: the status an accepted Ingress gets. An
 * Ingress has no conditions; upstream's leader writes only
 * status.loadBalancer, from --ingress-status-address (or the Envoy
 * Service's load balancer, which k8s-watch would have to supply). The
 * snapshot carries it so `contour render --format status` shows it and
 * k8s-watch can write it back. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "modules/ingress/ing.h"

/* net.ParseIP: a dotted IPv4 or an IPv6 address, nothing else. */
static int ing_is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

json_t *ing_status_load_balancer(const char *addresses)
{
	json_t *lb = json_object();
	json_t *list = json_array();
	if (!lb || !list)
		goto fail;
	for (const char *s = addresses ? addresses : ""; *s;) {
		const char *comma = strchr(s, ',');
		const char *b = s, *e = comma ? comma : s + strlen(s);
		while (b < e && (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
			e--;
		if (e > b) {
			char item[256];
			size_t n =
			    (size_t)(e - b) < sizeof(item) - 1 ? (size_t)(e - b) : sizeof(item) - 1;
			memcpy(item, b, n);
			item[n] = '\0';
			if (json_array_append_new(
			        list,
			        json_pack("{s:s}", ing_is_ip(item) ? "ip" : "hostname", item)) != 0)
				goto fail;
		}
		if (!comma)
			break;
		s = comma + 1;
	}
	/* An empty list is omitted, as Go's omitempty does. */
	if (json_array_size(list) > 0 && json_object_set(lb, "ingress", list) != 0)
		goto fail;
	json_decref(list);
	return lb;
fail:
	json_decref(list);
	json_decref(lb);
	return NULL;
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
