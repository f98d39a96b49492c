/* modules/k8s-watch/kw_lbstatus.c: the load-balancer address written into
 * status: upstream's parseStatusFlag (cmd/contour/ingressstatus.go),
 * coreToNetworkingLBStatus (internal/k8s/statusaddress.go) and the ingress
 * class rules (internal/ingressclass). */
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

static int kw_lb_copy_str(json_t *to, const json_t *from, const char *key)
{
	const char *s = json_string_value(json_object_get(from, key));
	/* omitempty */
	if (!s || !*s)
		return 0;
	return json_object_set_new(to, key, json_string(s));
}

json_t *kw_lb_to_networking(const json_t *core_lb)
{
	json_t *out = json_object();
	json_t *ingress = json_array();
	if (!out || !ingress)
		goto fail;
	size_t i, j;
	const json_t *ing, *ps;
	json_array_foreach(json_object_get(core_lb, "ingress"), i, ing)
	{
		json_t *e = json_object();
		json_t *ports = json_array();
		if (!e || !ports || json_array_append_new(ingress, e)) {
			json_decref(ports);
			goto fail;
		}
		kw_lb_copy_str(e, ing, "ip");
		kw_lb_copy_str(e, ing, "hostname");
		json_array_foreach(json_object_get(ing, "ports"), j, ps)
		{
			json_t *p =
			    json_pack("{s:I, s:s}", "port",
			              json_integer_value(json_object_get(ps, "port")), "protocol",
			              json_string_value(json_object_get(ps, "protocol"))
			                  ? json_string_value(json_object_get(ps, "protocol"))
			                  : "");
			if (!p)
				continue;
			/* error is a *string: kept when present, even empty. */
			const json_t *err = json_object_get(ps, "error");
			if (json_is_string(err))
				json_object_set(p, "error", (json_t *)err);
			json_array_append_new(ports, p);
		}
		if (json_array_size(ports))
			json_object_set(e, "ports", ports);
		json_decref(ports);
	}
	if (json_array_size(ingress))
		json_object_set(out, "ingress", ingress);
	json_decref(ingress);
	return out;
fail:
	json_decref(ingress);
	json_decref(out);
	return NULL;
}

int kw_lb_has_address(const json_t *lb)
{
	return json_array_size(json_object_get(lb, "ingress")) > 0;
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
