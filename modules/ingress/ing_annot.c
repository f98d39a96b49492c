/* modules/ingress/ing_annot.c: upstream's Ingress annotations
 * (internal/annotation/annotations.go and the ingress*Policy helpers of
 * internal/dag/policy.go), read once per Ingress per build. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/ingress/ing.h"

const char *ing_annotation(const json_t *obj, const char *key)
{
	const char *s = json_string_value(
	    json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"), key));
	return s ? s : "";
}

const char *ing_tls_version(const char *v, const char *def)
{
	if (!strcmp(v, "1.2"))
		return "1.2";
	if (!strcmp(v, "1.3"))
		return "1.3";
	return def;
}

/* strconv.ParseInt(s, 10, 32): anything that does not parse is 0. */
static int32_t ing_parse_int32(const char *s)
{
	char *end;
	if (!*s || isspace((unsigned char)*s))
		return 0;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end || errno || v < INT32_MIN || v > INT32_MAX)
		return 0;
	return (int32_t)v;
}

uint32_t ing_num_retries(const char *s)
{
	int32_t v = ing_parse_int32(s);
	/* -1 disables retries; 0 (or unset) and 1 are Envoy's default of one;
	 * any other negative falls back to that default too. */
	if (v == -1)
		return 0;
	if (v <= 1)
		return 1;
	return (uint32_t)v;
}

/* timeout.Parse, where 0 means "Envoy's default". */
static int ing_timeout(const char *s, int64_t *ms, char *err, size_t errlen)
{
	if (contour_timeout_parse(s, ms, err, errlen) < 0)
		return -1;
	if (*ms == 0)
		*ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	return 0;
}

void ing_annot_read(ing_build_t *b, ing_object_t *ing)
{
	const json_t *obj = ing->obj;
	ing_annot_t *a = &ing->annot;
	char err[256];
	memset(a, 0, sizeof(*a));
	a->http_allowed = strcmp(ing_annotation(obj, "kubernetes.io/ingress.allow-http"), "false");
	a->tls_required =
	    !strcmp(ing_annotation(obj, "ingress.kubernetes.io/force-ssl-redirect"), "true");
	a->tls_cert_namespace = ing_annotation(obj, "projectcontour.io/tls-cert-namespace");
	a->min_tls = ing_tls_version(
	    ing_annotation(obj, "projectcontour.io/tls-minimum-protocol-version"), "1.2");
	a->max_tls = ing_tls_version(
	    ing_annotation(obj, "projectcontour.io/tls-maximum-protocol-version"), "1.3");
	a->websocket_routes = ing_annotation(obj, "projectcontour.io/websocket-routes");

	/* The legacy request-timeout (really a response timeout) counts only
	 * when response-timeout is absent or empty. */
	a->timeouts.response_ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	a->timeouts.idle_ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	const char *resp_key = "projectcontour.io/response-timeout";
	const char *resp = ing_annotation(obj, resp_key);
	if (!*resp) {
		resp_key = "projectcontour.io/request-timeout";
		resp = ing_annotation(obj, resp_key);
	}
	if (*resp && ing_timeout(resp, &a->timeouts.response_ms, err, sizeof(err)) < 0) {
		char field[128];
		snprintf(field, sizeof(field), "metadata.annotations[%s]", resp_key);
		ing_report(b, ing, CONTOUR_LOG_ERR, ING_PROBLEM_OWN, field,
		           "error parsing response-timeout annotation, using the default value: %s",
		           err);
		a->timeouts.response_ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	}

	const char *retry_on = ing_annotation(obj, "projectcontour.io/retry-on");
	if (*retry_on) {
		a->retry_on = retry_on;
		a->num_retries =
		    ing_num_retries(ing_annotation(obj, "projectcontour.io/num-retries"));
		const char *per_try = ing_annotation(obj, "projectcontour.io/per-try-timeout");
		if (ing_timeout(per_try, &a->per_try_timeout_ms, err, sizeof(err)) < 0) {
			ing_report(b, ing, CONTOUR_LOG_ERR, ING_PROBLEM_OWN,
			           "metadata.annotations[projectcontour.io/per-try-timeout]",
			           "error parsing per-try-timeout annotation: %s", err);
			a->per_try_timeout_ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
		}
	}
}

int ing_annot_websocket(const ing_annot_t *a, const char *path)
{
	size_t plen = strlen(path);
	for (const char *list = a->websocket_routes; list && *list;) {
		const char *comma = strchr(list, ',');
		const char *b = list, *e = comma ? comma : list + strlen(list);
		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (e > b && (size_t)(e - b) == plen && !memcmp(b, path, plen))
			return 1;
		if (!comma)
			break;
		list = comma + 1;
	}
	return 0;
}
