/* core/dag/header_policy.c: request and response header policies as
 * upstream builds them (internal/dag/policy.go headersPolicyRoute and
 * headersPolicyService): canonical names, Envoy's %-escaping with the
 * %CONTOUR_*% and %REQ()% variables, Host as a rewrite, and the merge of the
 * global default policies at service level. Shared by the HTTPProxy and
 * Ingress processors, which report the messages their own way. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contour/dag.h>
#include <contour/error.h>
#include <contour/header_policy.h>
#include <contour/json_get.h>
#include <contour/quote.h>

static int hdr_token_byte(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Go's http.CanonicalHeaderKey into a new arena string: "x-foo" becomes
 * "X-Foo"; a name with a byte outside the token set is left alone. */
const char *contour_header_name_canonical(contour_dag_t *dag, const char *name)
{
	char *c = (char *)contour_dag_strdup(dag, name);
	int upper = 1;
	if (!c)
		return NULL;
	for (const char *p = c; *p; p++) {
		if (!hdr_token_byte((unsigned char)*p))
			return c;
	}
	for (char *p = c; *p; p++) {
		if (upper && *p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
		else if (!upper && *p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		upper = *p == '-';
	}
	return c;
}

int contour_header_name_valid(const char *name)
{
	if (!*name)
		return 0;
	for (; *name; name++) {
		if (!isalnum((unsigned char)*name) && *name != '-')
			return 0;
	}
	return 1;
}

/* s with every `from` replaced by `to`; s is freed. NULL on ENOMEM. */
static char *hdr_replace(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	if (!s)
		return NULL;
	for (const char *p = strstr(s, from); p; p = strstr(p + fl, from))
		n++;
	if (!n)
		return s;
	char *out = malloc(strlen(s) - n * fl + n * tl + 1), *w = out;
	if (!out) {
		free(s);
		return NULL;
	}
	const char *r = s;
	for (const char *p = strstr(r, from); p; p = strstr(r, from)) {
		memcpy(w, r, (size_t)(p - r));
		w += p - r;
		memcpy(w, to, tl);
		w += tl;
		r = p + fl;
	}
	strcpy(w, r);
	free(s);
	return out;
}

static int hdr_word(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* The length of a match of `%(%REQ\(:?[\w-]+(\?:?[\w-]+)?\)(:\d+)?%)%` at
 * s, or 0. */
static size_t hdr_req_var(const char *s)
{
	const char *p = s + 6, *k;
	if (strncmp(s, "%%REQ(", 6))
		return 0;
	if (*p == ':')
		p++;
	for (k = p; hdr_word(*p); p++)
		;
	if (p == k)
		return 0;
	if (*p == '?') {
		const char *t = p + 1;
		if (*t == ':')
			t++;
		for (k = t; hdr_word(*t); t++)
			;
		if (t > k)
			p = t;
	}
	if (*p++ != ')')
		return 0;
	if (p[0] == ':' && isdigit((unsigned char)p[1]))
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (p[0] != '%' || p[1] != '%')
		return 0;
	return (size_t)(p + 2 - s);
}

/* escapeHeaderValue: literal '%' doubled for Envoy, except the known Envoy
 * variables, %REQ(...)% and the expanded %CONTOUR_*% ones. */
static const char *hdr_escape_value(contour_dag_t *dag, const char *value, const char *const *dyn)
{
	static const char *const envoy_vars[] = {
	    "DOWNSTREAM_REMOTE_ADDRESS",
	    "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
	    "DOWNSTREAM_LOCAL_ADDRESS",
	    "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
	    "DOWNSTREAM_LOCAL_PORT",
	    "DOWNSTREAM_LOCAL_URI_SAN",
	    "DOWNSTREAM_PEER_URI_SAN",
	    "DOWNSTREAM_LOCAL_SUBJECT",
	    "DOWNSTREAM_PEER_SUBJECT",
	    "DOWNSTREAM_PEER_ISSUER",
	    "DOWNSTREAM_TLS_SESSION_ID",
	    "DOWNSTREAM_TLS_CIPHER",
	    "DOWNSTREAM_TLS_VERSION",
	    "DOWNSTREAM_PEER_FINGERPRINT_256",
	    "DOWNSTREAM_PEER_FINGERPRINT_1",
	    "DOWNSTREAM_PEER_SERIAL",
	    "DOWNSTREAM_PEER_CERT",
	    "DOWNSTREAM_PEER_CERT_V_START",
	    "DOWNSTREAM_PEER_CERT_V_END",
	    "HOSTNAME",
	    "PROTOCOL",
	    "UPSTREAM_REMOTE_ADDRESS",
	    "RESPONSE_FLAGS",
	    "RESPONSE_CODE_DETAILS",
	    "TLS_JA3_FINGERPRINT",
	    "TLS_JA4_FINGERPRINT",
	};
	char from[64], to[64];
	if (!strchr(value, '%'))
		return contour_dag_strdup(dag, value);
	char *e = hdr_replace(strdup(value), "%", "%%");
	for (size_t i = 0; dyn[i]; i += 2) {
		snprintf(from, sizeof(from), "%%%%%s%%%%", dyn[i]);
		if (dyn[i + 1])
			e = hdr_replace(e, from, dyn[i + 1]);
	}
	for (size_t i = 0; i < sizeof(envoy_vars) / sizeof(*envoy_vars); i++) {
		snprintf(from, sizeof(from), "%%%%%s%%%%", envoy_vars[i]);
		snprintf(to, sizeof(to), "%%%s%%", envoy_vars[i]);
		e = hdr_replace(e, from, to);
	}
	if (!e)
		return NULL;
	/* %%REQ(X)%% -> %REQ(X)%, in place: the result is never longer. */
	char *w = e;
	for (const char *r = e; *r;) {
		size_t n = hdr_req_var(r);
		if (n) {
			memmove(w, r + 1, n - 2);
			w += n - 2;
			r += n;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	const char *out = contour_dag_strdup(dag, e);
	free(e);
	return out;
}

/* The X of the first %REQ(X)% in s (hostRewriteHeaderRegex), copied into
 * buf, or NULL. */
static const char *hdr_host_rewrite_header(const char *s, char *buf, size_t size)
{
	for (const char *p = strstr(s, "%REQ("); p; p = strstr(p + 1, "%REQ(")) {
		const char *n = p + 5, *e = n;
		while (isalnum((unsigned char)*e) || *e == '-')
			e++;
		if (e > n && e[0] == ')' && e[1] == '%') {
			snprintf(buf, size, "%.*s", (int)(e - n), n);
			return buf;
		}
	}
	return NULL;
}

static int hdr_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int hdr_hv_cmp(const void *a, const void *b)
{
	return strcmp(((const contour_dag_header_value_t *)a)->name,
	              ((const contour_dag_header_value_t *)b)->name);
}

/* Append {name, value} to pol's set list; value NULL is ENOMEM upstream. */
static int hdr_set_push(contour_dag_t *dag, contour_dag_header_policy_t *pol, const char *name,
                        const char *value)
{
	contour_dag_header_value_t *hv =
	    value ? contour_dag_header_value_push(dag, &pol->set, &pol->nset) : NULL;
	if (!hv)
		return CONTOUR_ENOMEM;
	hv->name = name;
	hv->value = value;
	return 0;
}

static int hdr_header_set_has(const contour_dag_header_policy_t *pol, const char *key)
{
	for (size_t i = 0; i < pol->nset; i++) {
		if (!strcmp(pol->set[i].name, key))
			return 1;
	}
	return 0;
}

/* -1 with "invalid <what> <name>: ..." in err when name is no header name. */
static int hdr_name_check(const char *name, const char *what, char *err, size_t errlen)
{
	char q[512];
	if (contour_header_name_valid(name))
		return 0;
	snprintf(err, errlen, "invalid %s %s: " CONTOUR_HEADER_NAME_MSG, what,
	         contour_quote(q, sizeof(q), name, CONTOUR_QUOTE_STRCONV));
	return -1;
}

/* headersPolicyRoute; err gets upstream's message without the " on
 * request headers" suffix. */
static int hdr_headers_build(contour_dag_t *dag, const json_t *policy, int request, int service,
                             const char *const *dyn, contour_dag_header_policy_t *pol, char *err,
                             size_t errlen)
{
	size_t i;
	json_t *e;
	char q[512], hdr[256];
	json_array_foreach(json_object_get(policy, "set"), i, e)
	{
		const char *key =
		    contour_header_name_canonical(dag, contour_json_get_str(e, "name"));
		const char *value = contour_json_get_str(e, "value");
		if (!key)
			return CONTOUR_ENOMEM;
		if (hdr_header_set_has(pol, key)) {
			snprintf(err, errlen, "duplicate header addition: %s",
			         contour_quote(q, sizeof(q), key, CONTOUR_QUOTE_STRCONV));
			return -1;
		}
		if (!strcmp(key, "Host")) {
			const char *from = hdr_host_rewrite_header(value, hdr, sizeof(hdr));
			if (!request) {
				snprintf(err, errlen, "rewriting \"Host\" header is not supported");
				return -1;
			}
			/* Upstream keeps a service's %REQ(x)% Host in the cluster's
			 * policy, where Envoy never reads it (weighted clusters have
			 * no header-based rewrite): accepted, and dropped here. */
			if (from && service)
				continue;
			if (from) {
				if (!(pol->host_rewrite_header =
				          contour_header_name_canonical(dag, from)))
					return CONTOUR_ENOMEM;
			} else if (!(pol->host_rewrite = contour_dag_strdup(dag, value))) {
				return CONTOUR_ENOMEM;
			}
			continue;
		}
		if (hdr_name_check(key, "set header", err, errlen))
			return -1;
		if (hdr_set_push(dag, pol, key, hdr_escape_value(dag, value, dyn)) != 0)
			return CONTOUR_ENOMEM;
	}
	json_array_foreach(json_object_get(policy, "remove"), i, e)
	{
		const char *key = contour_header_name_canonical(
		    dag, json_string_value(e) ? json_string_value(e) : "");
		if (!key)
			return CONTOUR_ENOMEM;
		for (size_t j = 0; j < pol->nremove; j++) {
			if (!strcmp(pol->remove[j], key)) {
				snprintf(err, errlen, "duplicate header removal: %s",
				         contour_quote(q, sizeof(q), key, CONTOUR_QUOTE_STRCONV));
				return -1;
			}
		}
		if (hdr_name_check(key, "remove header", err, errlen))
			return -1;
		if (contour_dag_str_push(dag, &pol->remove, &pol->nremove, key) != CONTOUR_EOK)
			return CONTOUR_ENOMEM;
	}
	/* Upstream keeps a map (emitted sorted) and a sorted set. */
	if (pol->nset > 1)
		qsort(pol->set, pol->nset, sizeof(*pol->set), hdr_hv_cmp);
	if (pol->nremove > 1)
		qsort(pol->remove, pol->nremove, sizeof(*pol->remove), hdr_str_cmp);
	return 0;
}

/* A default's value as text: the config's YAML scalars arrive typed, and
 * upstream decodes each into a Go string. Anything else (refused when the
 * module starts) reads as "". */
static const char *hdr_scalar_text(const json_t *v, char *buf, size_t size)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
	else if (json_is_real(v)) {
		/* The shortest text that reads back as the same number. */
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(buf, size, "%.*g", prec, json_real_value(v));
			if (strtod(buf, NULL) == json_real_value(v))
				break;
		}
	} else
		buf[0] = '\0';
	return buf;
}

/* headersPolicyService's merge of the global default policy (a config
 * mapping {set: {name: value}, remove: [names]}) into the user's: a header
 * the user sets wins; the default Host applies only when the user set no
 * static Host; default removes are appended after the user's (sorted) ones
 * unless the user removes them too. Go walks the `set` map in random
 * order; we walk it in file order, so of two names that canonicalise alike
 * the first wins, and of two errors the first is reported. */
static int hdr_headers_merge(contour_dag_t *dag, const json_t *defaults, int request,
                             const char *const *dyn, contour_dag_header_policy_t *pol, char *err,
                             size_t errlen)
{
	const char *name;
	const json_t *v;
	size_t i, nuser = pol->nremove;
	json_t *e;
	char hdr[256], text[64];
	json_object_foreach((json_t *)json_object_get(defaults, "set"), name, v)
	{
		const char *key = contour_header_name_canonical(dag, name);
		const char *value = hdr_scalar_text(v, text, sizeof(text));
		if (!key)
			return CONTOUR_ENOMEM;
		if (!strcmp(key, "Host")) {
			if (!request) {
				snprintf(err, errlen, "rewriting \"Host\" header is not supported");
				return -1;
			}
			if (pol->host_rewrite && *pol->host_rewrite)
				continue;
			if (hdr_host_rewrite_header(value, hdr, sizeof(hdr))) {
				snprintf(err, errlen,
				         "rewriting \"Host\" host header with dynamic value is not "
				         "supported on service");
				return -1;
			}
			if (!(pol->host_rewrite = contour_dag_strdup(dag, value)))
				return CONTOUR_ENOMEM;
			continue;
		}
		if (hdr_name_check(key, "set header", err, errlen))
			return -1;
		if (hdr_header_set_has(pol, key))
			continue;
		if (hdr_set_push(dag, pol, key, hdr_escape_value(dag, value, dyn)) != 0)
			return CONTOUR_ENOMEM;
	}
	if (pol->nset > 1)
		qsort(pol->set, pol->nset, sizeof(*pol->set), hdr_hv_cmp);
	json_array_foreach(json_object_get(defaults, "remove"), i, e)
	{
		const char *key = contour_header_name_canonical(
		    dag, json_string_value(e) ? json_string_value(e) : "");
		int present = 0;
		if (!key)
			return CONTOUR_ENOMEM;
		/* "set" is upstream's wording for a bad default removal too. */
		if (hdr_name_check(key, "set header", err, errlen))
			return -1;
		/* Only the user's own removals count: upstream does not add the
		 * appended defaults to its set, so a default listed twice is
		 * appended twice. */
		for (size_t j = 0; j < nuser && !present; j++)
			present = !strcmp(pol->remove[j], key);
		if (!present &&
		    contour_dag_str_push(dag, &pol->remove, &pol->nremove, key) != CONTOUR_EOK)
			return CONTOUR_ENOMEM;
	}
	return 0;
}

int contour_header_policy_check(const json_t *defaults, char *err, size_t errlen)
{
	const char *name;
	const json_t *v;
	size_t i;
	json_t *e;
	char q[512];
	json_object_foreach((json_t *)json_object_get(defaults, "set"), name, v)
	{
		if (hdr_name_check(name, "header name", err, errlen))
			return -1;
		/* Go's YAML decoder refuses a mapping or a list for a string. */
		if (json_is_object(v) || json_is_array(v)) {
			snprintf(err, errlen, "header %s: the value must be a string",
			         contour_quote(q, sizeof(q), name, CONTOUR_QUOTE_STRCONV));
			return -1;
		}
	}
	json_array_foreach(json_object_get(defaults, "remove"), i, e)
	{
		const char *s = json_string_value(e) ? json_string_value(e) : "";
		if (hdr_name_check(s, "header name", err, errlen))
			return -1;
	}
	return 0;
}

int contour_header_policy_build(contour_dag_t *dag, const json_t *policy, const json_t *defaults,
                                unsigned flags, const char *ns, const char *svc, uint32_t port,
                                contour_dag_header_policy_t **out, char *err, size_t errlen)
{
	int request = (flags & CONTOUR_HEADERS_REQUEST) != 0;
	int service = (flags & CONTOUR_HEADERS_SERVICE) != 0;
	char portbuf[16], msg[1024];
	const char *dyn[] = {
	    "CONTOUR_NAMESPACE",  ns,  "CONTOUR_SERVICE_NAME", svc, "CONTOUR_SERVICE_PORT",
	    svc ? portbuf : NULL, NULL};
	int rc = 0;
	*out = NULL;
	/* Defaults are merged at service level only, as upstream does. */
	if (!service || !json_is_object(defaults))
		defaults = NULL;
	if (!json_is_object(policy) && !defaults)
		return 0;
	snprintf(portbuf, sizeof(portbuf), "%u", port);
	contour_dag_header_policy_t *pol = contour_dag_header_policy_new(dag);
	if (!pol)
		return CONTOUR_ENOMEM;
	if (json_is_object(policy))
		rc = hdr_headers_build(dag, policy, request, service, dyn, pol, msg, sizeof(msg));
	if (rc == 0 && defaults)
		rc = hdr_headers_merge(dag, defaults, request, dyn, pol, msg, sizeof(msg));
	if (rc == -1)
		snprintf(err, errlen, "%s on %s headers", msg, request ? "request" : "response");
	if (rc)
		return rc;
	/* No policy of the user's and nothing from the defaults: none, as
	 * without defaults (upstream's empty policy has the same effect). */
	if (!json_is_object(policy) && !pol->nset && !pol->nremove && !pol->host_rewrite)
		return 0;
	*out = pol;
	return 0;
}
