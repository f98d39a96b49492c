/* modules/k8s-watch/kw_lbstatus.c: the load-balancer address written into
 * status from the ingress-status-address flag (upstream's parseStatusFlag,
 * cmd/contour/ingressstatus.go), and which objects' status is ours (the
 * ingress class rules, internal/ingressclass). */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "modules/k8s-watch/kw.h"

/* net.ParseIP: dotted IPv4 or IPv6 text. */
static int kw_lb_is_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

json_t *kw_lb_parse_address(const char *list)
{
	json_t *ingress = json_array();
	json_t *lb = json_object();
	if (!ingress || !lb)
		goto fail;
	const char *p = list ? list : "";
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		/* strings.TrimSpace */
		while (n && strchr(" \t\r\n\v\f", *p)) {
			p++;
			n--;
		}
		while (n && strchr(" \t\r\n\v\f", p[n - 1]))
			n--;
		if (n) {
			char *item = strndup(p, n);
			if (!item)
				goto fail;
			json_t *e = json_pack("{s:s}", kw_lb_is_ip(item) ? "ip" : "hostname", item);
			free(item);
			if (!e || json_array_append_new(ingress, e))
				goto fail;
		}
		if (!end)
			break;
		p = end + 1;
	}
	/* An empty list is Go's nil slice: omitted. */
	if (json_array_size(ingress))
		json_object_set(lb, "ingress", ingress);
	json_decref(ingress);
	return lb;
fail:
	json_decref(ingress);
	json_decref(lb);
	return NULL;
}

int kw_class_matches(const json_t *obj, const json_t *classes)
{
	const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
	/* annotation.IngressClass: the contour annotation wins, even empty. */
	const char *cls = contour_json_get_str(ann, "projectcontour.io/ingress.class");
	if (!json_object_get(ann, "projectcontour.io/ingress.class"))
		cls = contour_json_get_str(ann, "kubernetes.io/ingress.class");
	if (!*cls)
		cls = contour_json_get_str(json_object_get(obj, "spec"), "ingressClassName");
	if (json_array_size(classes) == 0)
		return !*cls || !strcmp(cls, "contour");
	size_t i;
	const json_t *c;
	json_array_foreach(classes, i, c)
	{
		const char *want = json_string_value(c);
		if (want && !strcmp(want, cls))
			return 1;
	}
	return 0;
}
