/* core/dag/lb_status.c: the load-balancer status built from the
 * ingress-status-address flag, upstream's parseStatusFlag
 * (cmd/contour/ingressstatus.go). One parser, so the address the ingress
 * module puts in its snapshots and the one k8s-watch writes back can never
 * differ. */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <contour/status.h>

/* strings.TrimSpace's ASCII set. */
#define LB_SPACE " \t\r\n\v\f"

/* net.ParseIP: dotted IPv4 or IPv6 text, nothing else. */
static int lb_is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

json_t *contour_status_lb_new(const char *addresses)
{
	json_t *ingress = json_array();
	json_t *lb = json_object();
	if (!ingress || !lb)
		goto fail;
	for (const char *p = addresses ? addresses : ""; *p;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		while (n && strchr(LB_SPACE, *p)) {
			p++;
			n--;
		}
		while (n && strchr(LB_SPACE, p[n - 1]))
			n--;
		if (n) {
			char *item = strndup(p, n);
			if (!item)
				goto fail;
			json_t *e = json_pack("{s:s}", lb_is_ip(item) ? "ip" : "hostname", item);
			free(item);
			if (!e || json_array_append_new(ingress, e))
				goto fail;
		}
		if (!end)
			break;
		p = end + 1;
	}
	/* An empty list is Go's nil slice, which omitempty drops. */
	if (json_array_size(ingress) && json_object_set(lb, "ingress", ingress))
		goto fail;
	json_decref(ingress);
	return lb;
fail:
	json_decref(ingress);
	json_decref(lb);
	return NULL;
}
