/* modules/httpproxy/hp_policy.c: HTTPProxy policies (headers, timeouts,
 * retries, health checks, load balancing, prefix rewrites, redirects,
 * direct responses, CORS, IP filters, slow start) translated into DAG
 * structs, with upstream's errors and warnings (internal/dag/policy.go and
 * httpproxy_processor.go; internal/timeout). Conditions are in hp_cond.c.
 *
 * Spec fragments are read as Go reads them: an absent field is the zero
 * value. Functions return 0, -1 when they added an error to the status, or
 * CONTOUR_ENOMEM when the arena is exhausted. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contour/dag.h>
#include <contour/error.h>

#include "modules/httpproxy/hp.h"


/* k8s.io/apimachinery IsHTTPHeaderName's message, as Go prints []string. */
#define HP_HEADER_NAME_MSG                                                                         \
	"[a valid HTTP header must consist of alphanumeric characters or '-' (e.g. "               \
	"'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')]"

#define HP_NS_PER_MS 1000000LL

/* ---- Go string quoting ------------------------------------------------------ */

/* The length of a valid UTF-8 sequence at s, or 0. */
static int hp_utf8_len(const unsigned char *s)
{
	int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	return n;
}

/* Go's %q (strconv.Quote), except that every valid non-ASCII rune is taken
 * as printable. time=1 gives the time package's simpler quote instead: all
 * bytes outside printable ASCII become \xNN. */
static const char *hp_quote(char *buf, size_t size, const char *s, int time)
{
	size_t o = 0;
#define HP_PUT(...)                                                                                \
	do {                                                                                       \
		int k_ = snprintf(buf + o, o < size ? size - o : 0, __VA_ARGS__);                  \
		o += k_ > 0 ? (size_t)k_ : 0;                                                      \
	} while (0)
	HP_PUT("\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		static const char esc[] = "\a\b\f\n\r\t\v", letter[] = "abfnrtv";
		const char *e = *p ? strchr(esc, *p) : NULL;
		int n;
		if (*p == '"' || *p == '\\')
			HP_PUT("\\%c", *p);
		else if (*p >= 0x20 && *p < 0x7f)
			HP_PUT("%c", *p);
		else if (!time && e)
			HP_PUT("\\%c", letter[e - esc]);
		else if (!time && *p >= 0x80 && (n = hp_utf8_len(p)) > 0) {
			HP_PUT("%.*s", n, (const char *)p);
			p += n - 1;
		} else
			HP_PUT("\\x%02x", *p);
	}
	HP_PUT("\"");
#undef HP_PUT
	return buf;
}

/* ---- durations ------------------------------------------------------------------ */

/* Go's time.ParseDuration into nanoseconds, with its error text. */
static int hp_go_duration(const char *orig, int64_t *out, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
	    {"ns", 1},
	    {"us", 1000},
	    {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
	    {"\xce\xbcs", 1000}, /* U+03BC Greek mu */
	    {"ms", 1000000},
	    {"s", 1000000000ULL},
	    {"m", 60000000000ULL},
	    {"h", 3600000000000ULL},
	};
	const uint64_t lim = 1ULL << 63;
	const char *s = orig;
	char q1[256], q2[256];
	uint64_t d = 0;
	int neg = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	if (!*s)
		goto invalid;
	while (*s) {
		uint64_t v = 0, f = 0, unit = 0;
		double scale = 1;
		const char *start = s;
		if (*s != '.' && !isdigit((unsigned char)*s))
			goto invalid;
		for (; isdigit((unsigned char)*s); s++) {
			if (v > lim / 10)
				goto invalid;
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > lim)
				goto invalid;
		}
		int pre = s != start, post = 0;
		if (*s == '.') {
			const char *frac = ++s;
			int overflow = 0;
			for (; isdigit((unsigned char)*s); s++) {
				if (overflow)
					continue;
				if (f > (lim - 1) / 10) {
					overflow = 1;
					continue;
				}
				uint64_t y = f * 10 + (uint64_t)(*s - '0');
				if (y > lim) {
					overflow = 1;
					continue;
				}
				f = y;
				scale *= 10;
			}
			post = s != frac;
		}
		if (!pre && !post)
			goto invalid;
		const char *u = s;
		while (*s && *s != '.' && !isdigit((unsigned char)*s))
			s++;
		if (s == u) {
			snprintf(err, errlen, "time: missing unit in duration %s",
			         hp_quote(q1, sizeof(q1), orig, 1));
			return -1;
		}
		for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
			if (strlen(units[i].name) == (size_t)(s - u) &&
			    !strncmp(units[i].name, u, (size_t)(s - u)))
				unit = units[i].ns;
		}
		if (!unit) {
			char name[128];
			snprintf(name, sizeof(name), "%.*s", (int)(s - u), u);
			snprintf(err, errlen, "time: unknown unit %s in duration %s",
			         hp_quote(q1, sizeof(q1), name, 1),
			         hp_quote(q2, sizeof(q2), orig, 1));
			return -1;
		}
		if (v > lim / unit)
			goto invalid;
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > lim)
				goto invalid;
		}
		d += v;
		if (d > lim)
			goto invalid;
	}
	if (neg) {
		*out = d == lim ? INT64_MIN : -(int64_t)d;
		return 0;
	}
	if (d > lim - 1)
		goto invalid;
	*out = (int64_t)d;
	return 0;
invalid:
	snprintf(err, errlen, "time: invalid duration %s", hp_quote(q1, sizeof(q1), orig, 1));
	return -1;
}

/* Nanoseconds to the DAG's milliseconds, rounding up so a sub-millisecond
 * duration stays a set one. */
static int64_t hp_ns_to_ms(int64_t ns)
{
	return ns / HP_NS_PER_MS + (ns % HP_NS_PER_MS > 0);
}

int hp_parse_timeout(const char *s, int64_t *ms, char *err, size_t errlen)
{
	int64_t ns;
	if (!s || !*s) {
		*ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
		return 0;
	}
	if (!strcmp(s, "infinity") || !strcmp(s, "infinite")) {
		*ms = CONTOUR_DAG_TIMEOUT_INFINITE;
		return 0;
	}
	if (hp_go_duration(s, &ns, err, errlen) < 0)
		return -1;
	/* Go takes "-5s"; the CRD pattern does not, and the DAG's negative
	 * values are sentinels, so it is refused here. */
	if (ns < 0) {
		char q[256];
		snprintf(err, errlen, "time: invalid duration %s", hp_quote(q, sizeof(q), s, 1));
		return -1;
	}
	*ms = hp_ns_to_ms(ns);
	return 0;
}

/* timeout.Parse: hp_parse_timeout, with 0 meaning "use the default". */
static int hp_timeout_setting(const char *s, int64_t *ms, char *err, size_t errlen)
{
	char perr[512], q[256];
	if (hp_parse_timeout(s, ms, perr, sizeof(perr)) < 0) {
		snprintf(err, errlen, "unable to parse timeout string %s: %s",
		         hp_quote(q, sizeof(q), s, 0), perr);
		return -1;
	}
	if (*ms == 0)
		*ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	return 0;
}

int hp_policy_timeouts(const json_t *policy, contour_dag_timeout_policy_t *out,
                       int64_t *idle_connection_ms, hp_status_t *st)
{
	static const struct {
		const char *key, *what;
	} fields[] = {
	    {"response", "response timeout"},
	    {"idle", "idle timeout"},
	    {"idleConnection", "idle connection timeout"},
	};
	int64_t v[3] = {CONTOUR_DAG_TIMEOUT_DEFAULT, CONTOUR_DAG_TIMEOUT_DEFAULT,
	                CONTOUR_DAG_TIMEOUT_DEFAULT};
	char err[1024];
	out->response_ms = out->idle_ms = *idle_connection_ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	if (!json_is_object(policy))
		return 0;
	for (size_t i = 0; i < 3; i++) {
		if (hp_timeout_setting(contour_json_get_str(policy, fields[i].key), &v[i], err,
		                       sizeof(err)) < 0) {
			hp_status_error(st, "RouteError", "TimeoutPolicyNotValid",
			                "route.timeoutPolicy failed to parse: error parsing %s: %s",
			                fields[i].what, err);
			return -1;
		}
	}
	out->response_ms = v[0];
	out->idle_ms = v[1];
	*idle_connection_ms = v[2];
	return 0;
}

/* ---- headers ------------------------------------------------------------------- */

static int hp_token_byte(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Go's http.CanonicalHeaderKey into a new arena string: "x-foo" becomes
 * "X-Foo"; a name with a byte outside the token set is left alone. */
static const char *hp_canonical(contour_dag_t *dag, const char *name)
{
	char *c = (char *)contour_dag_strdup(dag, name);
	int upper = 1;
	if (!c)
		return NULL;
	for (const char *p = c; *p; p++) {
		if (!hp_token_byte((unsigned char)*p))
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

static int hp_header_name_valid(const char *name)
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
static char *hp_replace(char *s, const char *from, const char *to)
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

static int hp_word(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* The length of a match of `%(%REQ\(:?[\w-]+(\?:?[\w-]+)?\)(:\d+)?%)%` at
 * s, or 0. */
static size_t hp_req_var(const char *s)
{
	const char *p = s + 6, *k;
	if (strncmp(s, "%%REQ(", 6))
		return 0;
	if (*p == ':')
		p++;
	for (k = p; hp_word(*p); p++)
		;
	if (p == k)
		return 0;
	if (*p == '?') {
		const char *t = p + 1;
		if (*t == ':')
			t++;
		for (k = t; hp_word(*t); t++)
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
static const char *hp_escape_value(contour_dag_t *dag, const char *value, const char *const *dyn)
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
	char *e = hp_replace(strdup(value), "%", "%%");
	for (size_t i = 0; dyn[i]; i += 2) {
		snprintf(from, sizeof(from), "%%%%%s%%%%", dyn[i]);
		if (dyn[i + 1])
			e = hp_replace(e, from, dyn[i + 1]);
	}
	for (size_t i = 0; i < sizeof(envoy_vars) / sizeof(*envoy_vars); i++) {
		snprintf(from, sizeof(from), "%%%%%s%%%%", envoy_vars[i]);
		snprintf(to, sizeof(to), "%%%s%%", envoy_vars[i]);
		e = hp_replace(e, from, to);
	}
	if (!e)
		return NULL;
	/* %%REQ(X)%% -> %REQ(X)%, in place: the result is never longer. */
	char *w = e;
	for (const char *r = e; *r;) {
		size_t n = hp_req_var(r);
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
static const char *hp_host_rewrite_header(const char *s, char *buf, size_t size)
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

static int hp_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int hp_hv_cmp(const void *a, const void *b)
{
	return strcmp(((const contour_dag_header_value_t *)a)->name,
	              ((const contour_dag_header_value_t *)b)->name);
}

/* headersPolicyRoute; err gets upstream's message without the " on
 * request headers" suffix. */
static int hp_headers_build(contour_dag_t *dag, const json_t *policy, int request, int service,
                            const char *const *dyn, contour_dag_header_policy_t *hp, char *err,
                            size_t errlen)
{
	size_t i;
	json_t *e;
	char q[512], hdr[256];
	json_array_foreach(json_object_get(policy, "set"), i, e)
	{
		const char *key = hp_canonical(dag, contour_json_get_str(e, "name"));
		const char *value = contour_json_get_str(e, "value");
		if (!key)
			return CONTOUR_ENOMEM;
		for (size_t j = 0; j < hp->nset; j++) {
			if (!strcmp(hp->set[j].name, key)) {
				snprintf(err, errlen, "duplicate header addition: %s",
				         hp_quote(q, sizeof(q), key, 0));
				return -1;
			}
		}
		if (!strcmp(key, "Host")) {
			const char *from = hp_host_rewrite_header(value, hdr, sizeof(hdr));
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
				if (!(hp->host_rewrite_header = hp_canonical(dag, from)))
					return CONTOUR_ENOMEM;
			} else if (!(hp->host_rewrite = contour_dag_strdup(dag, value))) {
				return CONTOUR_ENOMEM;
			}
			continue;
		}
		if (!hp_header_name_valid(key)) {
			snprintf(err, errlen, "invalid set header %s: " HP_HEADER_NAME_MSG,
			         hp_quote(q, sizeof(q), key, 0));
			return -1;
		}
		contour_dag_header_value_t hv = {key, hp_escape_value(dag, value, dyn)};
		if (!hv.value || !contour_dag_push(dag, &hp->set, &hp->nset, &hv, sizeof(hv)))
			return CONTOUR_ENOMEM;
	}
	json_array_foreach(json_object_get(policy, "remove"), i, e)
	{
		const char *key =
		    hp_canonical(dag, json_string_value(e) ? json_string_value(e) : "");
		if (!key)
			return CONTOUR_ENOMEM;
		for (size_t j = 0; j < hp->nremove; j++) {
			if (!strcmp(hp->remove[j], key)) {
				snprintf(err, errlen, "duplicate header removal: %s",
				         hp_quote(q, sizeof(q), key, 0));
				return -1;
			}
		}
		if (!hp_header_name_valid(key)) {
			snprintf(err, errlen, "invalid remove header %s: " HP_HEADER_NAME_MSG,
			         hp_quote(q, sizeof(q), key, 0));
			return -1;
		}
		if (!contour_dag_push(dag, &hp->remove, &hp->nremove, &key, sizeof(key)))
			return CONTOUR_ENOMEM;
	}
	/* Upstream keeps a map (emitted sorted) and a sorted set. */
	if (hp->nset > 1)
		qsort(hp->set, hp->nset, sizeof(*hp->set), hp_hv_cmp);
	if (hp->nremove > 1)
		qsort(hp->remove, hp->nremove, sizeof(*hp->remove), hp_str_cmp);
	return 0;
}

/* A default's value as text: the config's YAML scalars arrive typed, and
 * upstream decodes each into a Go string. Anything else (refused when the
 * module starts) reads as "". */
static const char *hp_scalar_text(const json_t *v, char *buf, size_t size)
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

static int hp_header_set_has(const contour_dag_header_policy_t *hp, const char *key)
{
	for (size_t i = 0; i < hp->nset; i++) {
		if (!strcmp(hp->set[i].name, key))
			return 1;
	}
	return 0;
}

/* headersPolicyService's merge of the global default policy (a config
 * mapping {set: {name: value}, remove: [names]}) into the user's: a header
 * the user sets wins; the default Host applies only when the user set no
 * static Host; default removes are appended after the user's (sorted) ones
 * unless the user removes them too. Go walks the `set` map in random
 * order; we walk it in file order, so of two names that canonicalise alike
 * the first wins, and of two errors the first is reported. */
static int hp_headers_merge(contour_dag_t *dag, const json_t *defaults, int request,
                            const char *const *dyn, contour_dag_header_policy_t *hp, char *err,
                            size_t errlen)
{
	const char *name;
	const json_t *v;
	size_t i, nuser = hp->nremove;
	json_t *e;
	char q[512], hdr[256], text[64];
	json_object_foreach((json_t *)json_object_get(defaults, "set"), name, v)
	{
		const char *key = hp_canonical(dag, name);
		const char *value = hp_scalar_text(v, text, sizeof(text));
		if (!key)
			return CONTOUR_ENOMEM;
		if (!strcmp(key, "Host")) {
			if (!request) {
				snprintf(err, errlen, "rewriting \"Host\" header is not supported");
				return -1;
			}
			if (hp->host_rewrite && *hp->host_rewrite)
				continue;
			if (hp_host_rewrite_header(value, hdr, sizeof(hdr))) {
				snprintf(err, errlen,
				         "rewriting \"Host\" host header with dynamic value is not "
				         "supported on service");
				return -1;
			}
			if (!(hp->host_rewrite = contour_dag_strdup(dag, value)))
				return CONTOUR_ENOMEM;
			continue;
		}
		if (!hp_header_name_valid(key)) {
			snprintf(err, errlen, "invalid set header %s: " HP_HEADER_NAME_MSG,
			         hp_quote(q, sizeof(q), key, 0));
			return -1;
		}
		if (hp_header_set_has(hp, key))
			continue;
		contour_dag_header_value_t hv = {key, hp_escape_value(dag, value, dyn)};
		if (!hv.value || !contour_dag_push(dag, &hp->set, &hp->nset, &hv, sizeof(hv)))
			return CONTOUR_ENOMEM;
	}
	if (hp->nset > 1)
		qsort(hp->set, hp->nset, sizeof(*hp->set), hp_hv_cmp);
	json_array_foreach(json_object_get(defaults, "remove"), i, e)
	{
		const char *key =
		    hp_canonical(dag, json_string_value(e) ? json_string_value(e) : "");
		int present = 0;
		if (!key)
			return CONTOUR_ENOMEM;
		/* "set" is upstream's wording for a bad default removal too. */
		if (!hp_header_name_valid(key)) {
			snprintf(err, errlen, "invalid set header %s: " HP_HEADER_NAME_MSG,
			         hp_quote(q, sizeof(q), key, 0));
			return -1;
		}
		/* Only the user's own removals count: upstream does not add the
		 * appended defaults to its set, so a default listed twice is
		 * appended twice. */
		for (size_t j = 0; j < nuser && !present; j++)
			present = !strcmp(hp->remove[j], key);
		if (!present &&
		    !contour_dag_push(dag, &hp->remove, &hp->nremove, &key, sizeof(key)))
			return CONTOUR_ENOMEM;
	}
	return 0;
}

int hp_policy_headers_check(const json_t *defaults, char *err, size_t errlen)
{
	const char *name;
	const json_t *v;
	size_t i;
	json_t *e;
	char q[512];
	json_object_foreach((json_t *)json_object_get(defaults, "set"), name, v)
	{
		if (!hp_header_name_valid(name)) {
			snprintf(err, errlen, "invalid header name %s: " HP_HEADER_NAME_MSG,
			         hp_quote(q, sizeof(q), name, 0));
			return -1;
		}
		/* Go's YAML decoder refuses a mapping or a list for a string. */
		if (json_is_object(v) || json_is_array(v)) {
			snprintf(err, errlen, "header %s: the value must be a string",
			         hp_quote(q, sizeof(q), name, 0));
			return -1;
		}
	}
	json_array_foreach(json_object_get(defaults, "remove"), i, e)
	{
		const char *s = json_string_value(e) ? json_string_value(e) : "";
		if (!hp_header_name_valid(s)) {
			snprintf(err, errlen, "invalid header name %s: " HP_HEADER_NAME_MSG,
			         hp_quote(q, sizeof(q), s, 0));
			return -1;
		}
	}
	return 0;
}

int hp_policy_headers(contour_dag_t *dag, const json_t *policy, const json_t *defaults, int request,
                      const char *what, const char *ns, const char *svc, uint32_t port,
                      contour_dag_header_policy_t **out, hp_status_t *st)
{
	int service = what && !strcmp(what, "service");
	char portbuf[16], err[1024];
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
	contour_dag_header_policy_t *hp = contour_dag_new(dag, sizeof(*hp));
	if (!hp)
		return CONTOUR_ENOMEM;
	if (json_is_object(policy))
		rc = hp_headers_build(dag, policy, request, service, dyn, hp, err, sizeof(err));
	if (rc == 0 && defaults)
		rc = hp_headers_merge(dag, defaults, request, dyn, hp, err, sizeof(err));
	if (rc == -1) {
		const char *reason = request   ? "RequestHeadersPolicyInvalid"
		                     : service ? "ResponseHeadersPolicyInvalid"
		                               : "ResponseHeaderPolicyInvalid"; /* sic, upstream */
		hp_status_error(st, service ? "ServiceError" : "RouteError", reason,
		                "%s on %s headers", err, request ? "request" : "response");
	}
	if (rc)
		return rc;
	/* No policy of the user's and nothing from the defaults: none, as
	 * without defaults (upstream's empty policy has the same effect). */
	if (!json_is_object(policy) && !hp->nset && !hp->nremove && !hp->host_rewrite)
		return 0;
	*out = hp;
	return 0;
}

/* ---- retry, health check, load balancing -------------------------------------- */

int hp_policy_retry(contour_dag_t *dag, const json_t *policy, contour_dag_retry_policy_t **out,
                    hp_status_t *st)
{
	size_t i, len = 0;
	json_t *e;
	int64_t ns;
	char err[256];
	*out = NULL;
	if (!json_is_object(policy))
		return 0;
	contour_dag_retry_policy_t *rp = contour_dag_retry_policy_new(dag);
	if (!rp)
		return CONTOUR_ENOMEM;

	json_int_t count = contour_json_get_int(policy, "count");
	rp->num_retries = count == -1 ? 0 : count == 0 || count == 1 ? 1 : (uint32_t)count;

	/* An unparsable perTryTimeout means Envoy's default, as upstream. */
	rp->per_try_timeout_ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
	if (hp_go_duration(contour_json_get_str(policy, "perTryTimeout"), &ns, err, sizeof(err)) ==
	        0 &&
	    ns > 0)
		rp->per_try_timeout_ms = hp_ns_to_ms(ns);

	const json_t *on = json_object_get(policy, "retryOn");
	json_array_foreach(on, i, e) len +=
	    strlen(json_string_value(e) ? json_string_value(e) : "") + 1;
	if (len == 0) {
		rp->retry_on = "5xx";
	} else {
		char *buf = contour_dag_buf_new(dag, len);
		if (!buf)
			return CONTOUR_ENOMEM;
		json_array_foreach(on, i, e)
		{
			if (i)
				strcat(buf, ",");
			strcat(buf, json_string_value(e) ? json_string_value(e) : "");
		}
		rp->retry_on = buf;
	}
	json_array_foreach(json_object_get(policy, "retriableStatusCodes"), i, e)
	{
		if (contour_dag_u32_push(dag, &rp->retriable_status_codes,
		                         &rp->nretriable_status_codes,
		                         (uint32_t)json_integer_value(e)) != CONTOUR_EOK)
			return CONTOUR_ENOMEM;
	}
	*out = rp;
	return 0;
}

int hp_policy_health_check(contour_dag_t *dag, const json_t *policy, int tcp,
                           contour_dag_health_check_t **out, hp_status_t *st)
{
	size_t i;
	json_t *e;
	*out = NULL;
	if (!json_is_object(policy))
		return 0;
	contour_dag_health_check_t *hc = contour_dag_health_check_new(dag);
	if (!hc)
		return CONTOUR_ENOMEM;
	hc->tcp = tcp;
	if (!tcp) {
		json_array_foreach(json_object_get(policy, "expectedStatuses"), i, e)
		{
			/* Half-open ranges, as Envoy's: start inclusive, end exclusive. */
			json_int_t start = contour_json_get_int(e, "start"),
			           end = contour_json_get_int(e, "end");
			const char *bad = NULL;
			if (start < 100 || start > 599)
				bad = "start must be in the range [100, 599]";
			else if (end < 101 || end > 600)
				bad = "end must be in the range [101, 600]";
			if (bad) {
				hp_status_error(st, "RouteError", "HealthCheckPolicyInvalid",
				                "invalid expected status range: %s", bad);
				return -1;
			}
			contour_dag_status_range_t *r = contour_dag_status_range_push(
			    dag, &hc->expected_statuses, &hc->nexpected_statuses);
			if (!r)
				return CONTOUR_ENOMEM;
			r->start = (uint32_t)start;
			r->end = (uint32_t)end;
		}
		hc->path = contour_dag_strdup(dag, contour_json_get_str(policy, "path"));
		hc->host = contour_dag_strdup(dag, *contour_json_get_str(policy, "host")
		                                       ? contour_json_get_str(policy, "host")
		                                       : "contour-envoy-healthcheck");
		if (!hc->path || !hc->host)
			return CONTOUR_ENOMEM;
	}
	/* As written, 0 when unset: the cluster name hashes only the fields
	 * the user set, as upstream's Clustername does, and the xDS translator
	 * applies Envoy's defaults (2 s, 10 s, 3, 2) where it writes the
	 * check. */
	json_int_t interval = contour_json_get_int(policy, "intervalSeconds");
	json_int_t timeout = contour_json_get_int(policy, "timeoutSeconds");
	json_int_t unhealthy = contour_json_get_int(policy, "unhealthyThresholdCount");
	json_int_t healthy = contour_json_get_int(policy, "healthyThresholdCount");
	hc->interval_ms = interval > 0 ? (int64_t)interval * 1000 : 0;
	hc->timeout_ms = timeout > 0 ? (int64_t)timeout * 1000 : 0;
	hc->unhealthy_threshold = unhealthy > 0 ? (uint32_t)unhealthy : 0;
	hc->healthy_threshold = healthy > 0 ? (uint32_t)healthy : 0;
	*out = hc;
	return 0;
}

static int hp_lb_parse(const char *s, contour_dag_lb_strategy_t *out)
{
	static const struct {
		const char *name;
		contour_dag_lb_strategy_t v;
	} names[] = {
	    {"WeightedLeastRequest", CONTOUR_DAG_LB_WEIGHTED_LEAST_REQUEST},
	    {"Random", CONTOUR_DAG_LB_RANDOM},
	    {"Cookie", CONTOUR_DAG_LB_COOKIE},
	    {"RequestHash", CONTOUR_DAG_LB_REQUEST_HASH},
	};
	*out = CONTOUR_DAG_LB_ROUND_ROBIN;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if (!strcmp(s, names[i].name)) {
			*out = names[i].v;
			return 1;
		}
	}
	return 0;
}

#define HP_IGNORED(st, ...) hp_status_warning(st, "SpecError", "IgnoredField", __VA_ARGS__)

/* A hash policy being read, before the core appends it to the list. */
typedef struct hp_hash_entry {
	contour_dag_hash_type_t type;
	const char *name;
	int terminal;
} hp_hash_entry_t;

/* One requestHashPolicies entry; 1 when it is kept in *h. */
static int hp_lb_hash_entry(contour_dag_t *dag, const json_t *e, hp_hash_entry_t *h,
                            int *source_ip, const contour_dag_hash_policy_t *kept, size_t nkept,
                            hp_status_t *st)
{
	int attrs = contour_json_get_bool(e, "hashSourceIP") +
	            contour_json_has(e, "headerHashOptions") +
	            contour_json_has(e, "queryParameterHashOptions");
	char q[512];
	memset(h, 0, sizeof(*h));
	h->terminal = contour_json_get_bool(e, "terminal");
	if (attrs != 1) {
		HP_IGNORED(st, "ignoring invalid request hash policy, must set exactly one of "
		               "hashSourceIP or headerHashOptions or queryParameterHashOptions");
		return 0;
	}
	if (contour_json_get_bool(e, "hashSourceIP")) {
		if (*source_ip) {
			HP_IGNORED(st,
			           "ignoring invalid request hash policy, hashSourceIP specified "
			           "multiple times");
			return 0;
		}
		*source_ip = 1;
		h->type = CONTOUR_DAG_HASH_SOURCE_IP;
		return 1;
	}
	if (contour_json_has(e, "headerHashOptions")) {
		const char *name =
		    hp_canonical(dag, contour_json_get_str(json_object_get(e, "headerHashOptions"),
		                                           "headerName"));
		if (!name)
			return CONTOUR_ENOMEM;
		if (!hp_header_name_valid(name)) {
			HP_IGNORED(
			    st,
			    "ignoring invalid header hash policy options with invalid header "
			    "name %s: " HP_HEADER_NAME_MSG,
			    hp_quote(q, sizeof(q), name, 0));
			return 0;
		}
		for (size_t i = 0; i < nkept; i++) {
			if (kept[i].type == CONTOUR_DAG_HASH_HEADER &&
			    !strcmp(kept[i].name, name)) {
				HP_IGNORED(
				    st,
				    "ignoring invalid header hash policy options with duplicated "
				    "header name %s",
				    name);
				return 0;
			}
		}
		h->type = CONTOUR_DAG_HASH_HEADER;
		h->name = name;
		return 1;
	}
	/* Query parameter names are taken as case-insensitive, as upstream. */
	char *name = (char *)contour_dag_strdup(
	    dag,
	    contour_json_get_str(json_object_get(e, "queryParameterHashOptions"), "parameterName"));
	if (!name)
		return CONTOUR_ENOMEM;
	for (char *p = name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!*name) {
		HP_IGNORED(st,
		           "ignoring invalid query parameter hash policy options with an invalid "
		           "empty query parameter name");
		return 0;
	}
	for (size_t i = 0; i < nkept; i++) {
		if (kept[i].type == CONTOUR_DAG_HASH_QUERY && !strcmp(kept[i].name, name)) {
			HP_IGNORED(st,
			           "ignoring invalid query parameter hash policy options with "
			           "duplicated query parameter name %s",
			           name);
			return 0;
		}
	}
	h->type = CONTOUR_DAG_HASH_QUERY;
	h->name = name;
	return 1;
}

int hp_policy_load_balancer(contour_dag_t *dag, const json_t *policy, int tcp,
                            contour_dag_lb_strategy_t *strategy, contour_dag_hash_policy_t **hash,
                            size_t *nhash, hp_status_t *st)
{
	const char *name = contour_json_get_str(policy, "strategy");
	size_t i;
	json_t *e;
	int source_ip = 0;
	*strategy = CONTOUR_DAG_LB_ROUND_ROBIN;
	*hash = NULL;
	*nhash = 0;
	if (!json_is_object(policy))
		return 0;
	hp_lb_parse(name, strategy);
	if (tcp) {
		if (*strategy == CONTOUR_DAG_LB_COOKIE ||
		    *strategy == CONTOUR_DAG_LB_REQUEST_HASH) {
			hp_status_warning(
			    st, "TCPProxyError", "IgnoredField",
			    "ignoring field \"Spec.TCPProxy.LoadBalancerPolicy\"; %s load "
			    "balancer policy is not supported for TCPProxies",
			    name);
			*strategy = CONTOUR_DAG_LB_ROUND_ROBIN;
		}
		return 0;
	}
	if (*strategy == CONTOUR_DAG_LB_COOKIE) {
		contour_dag_hash_policy_t *h = contour_dag_hash_policy_push(dag, hash, nhash);
		if (!h)
			return CONTOUR_ENOMEM;
		h->type = CONTOUR_DAG_HASH_COOKIE;
		h->name = "X-Contour-Session-Affinity";
		return 0;
	}
	if (*strategy != CONTOUR_DAG_LB_REQUEST_HASH)
		return 0;
	json_array_foreach(json_object_get(policy, "requestHashPolicies"), i, e)
	{
		hp_hash_entry_t h;
		int keep = hp_lb_hash_entry(dag, e, &h, &source_ip, *hash, *nhash, st);
		if (keep < 0)
			return keep;
		contour_dag_hash_policy_t *kept = keep ? contour_dag_hash_policy_push(dag, hash, nhash) : NULL;
		if (keep && !kept)
			return CONTOUR_ENOMEM;
		if (kept) {
			kept->type = h.type;
			kept->name = h.name;
			kept->terminal = h.terminal;
		}
	}
	if (*nhash == 0) {
		HP_IGNORED(st,
		           "ignoring invalid request hash policy options, setting load balancer "
		           "strategy to default RoundRobin");
		*hash = NULL;
		*strategy = CONTOUR_DAG_LB_ROUND_ROBIN;
	}
	return 0;
}

/* ---- rewrites, redirects, direct responses ------------------------------------- */

/* The replacement upstream picks: the one whose prefix equals the route's
 * prefix, else the one with an empty prefix; *out holds that one (or
 * none). The /foo vs /foo/ expansion is the route builder's. */
int hp_policy_prefix_rewrite(contour_dag_t *dag, const json_t *policy,
                             const contour_dag_route_t *route, hp_status_t *st,
                             contour_dag_prefix_rewrite_t **out, size_t *nout)
{
	const json_t *reps = json_object_get(policy, "replacePrefix");
	size_t i, j;
	json_t *e, *f;
	*out = NULL;
	*nout = 0;
	if (json_array_size(reps) == 0)
		return 0;
	if (route->path.type != CONTOUR_DAG_PATH_PREFIX) {
		hp_status_error(st, "PrefixReplaceError", "MustHavePrefix",
		                "cannot specify prefix replacements without a prefix condition");
		return -1;
	}
	json_array_foreach(reps, i, e)
	{
		json_array_foreach(reps, j, f)
		{
			if (j >= i)
				break;
			if (strcmp(contour_json_get_str(e, "prefix"),
			           contour_json_get_str(f, "prefix")))
				continue;
			if (*contour_json_get_str(e, "prefix"))
				hp_status_error(st, "PrefixReplaceError", "DuplicateReplacement",
				                "duplicate replacement prefix '%s'",
				                contour_json_get_str(e, "prefix"));
			else
				hp_status_error(st, "PrefixReplaceError", "AmbiguousReplacement",
				                "ambiguous prefix replacement");
			return -1;
		}
	}
	const json_t *pick = NULL;
	json_array_foreach(reps, i, e)
	{
		const char *p = contour_json_get_str(e, "prefix");
		if (!pick && *p && route->path.value && !strcmp(p, route->path.value))
			pick = e;
	}
	json_array_foreach(reps, i, e)
	{
		if (!pick && !*contour_json_get_str(e, "prefix"))
			pick = e;
	}
	if (!pick)
		return 0;
	const char *prefix = contour_dag_strdup(dag, contour_json_get_str(pick, "prefix"));
	const char *replacement =
	    contour_dag_strdup(dag, contour_json_get_str(pick, "replacement"));
	contour_dag_prefix_rewrite_t *r =
	    prefix && replacement ? contour_dag_prefix_rewrite_push(dag, out, nout) : NULL;
	if (!r)
		return CONTOUR_ENOMEM;
	r->prefix = prefix;
	r->replacement = replacement;
	return 0;
}

/* NULL for an absent or empty string, else an arena copy (or "" on ENOMEM
 * checks by the caller through *nomem). */
static const char *hp_opt_str(contour_dag_t *dag, const json_t *obj, const char *key, int *nomem)
{
	const char *s = contour_json_get_str(obj, key);
	if (!*s)
		return NULL;
	const char *c = contour_dag_strdup(dag, s);
	if (!c)
		*nomem = 1;
	return c;
}

int hp_policy_redirect(contour_dag_t *dag, const json_t *policy, contour_dag_redirect_t **out,
                       hp_status_t *st)
{
	int nomem = 0;
	*out = NULL;
	if (!json_is_object(policy))
		return 0;
	if (contour_json_has(policy, "path") && contour_json_has(policy, "prefix")) {
		hp_status_error(
		    st, "RouteError", "RequestRedirectPolicy",
		    "route.requestRedirectPolicy is invalid: cannot specify both redirect "
		    "path and redirect prefix");
		return -1;
	}
	contour_dag_redirect_t *r = contour_dag_redirect_new(dag);
	if (!r)
		return CONTOUR_ENOMEM;
	r->scheme = hp_opt_str(dag, policy, "scheme", &nomem);
	r->hostname = hp_opt_str(dag, policy, "hostname", &nomem);
	r->path = hp_opt_str(dag, policy, "path", &nomem);
	r->prefix = hp_opt_str(dag, policy, "prefix", &nomem);
	json_int_t port = contour_json_get_int(policy, "port");
	r->port = port > 0 && port <= 65535 ? (uint32_t)port : 0;
	/* Absent: the CRD's default 302 (manifests read from files are not
	 * defaulted by an API server). A code outside the CRD's enum gets
	 * Envoy's own default, 301, as upstream's translator leaves it. */
	switch (contour_json_has(policy, "statusCode") ? contour_json_get_int(policy, "statusCode")
	                                               : 302) {
	case 301:
	case 302:
	case 303:
	case 307:
	case 308:
		r->status_code = (uint32_t)(contour_json_has(policy, "statusCode")
		                                ? contour_json_get_int(policy, "statusCode")
		                                : 302);
		break;
	default:
		r->status_code = 301;
	}
	if (nomem)
		return CONTOUR_ENOMEM;
	*out = r;
	return 0;
}

int hp_policy_direct_response(contour_dag_t *dag, const json_t *policy,
                              contour_dag_direct_response_t **out, hp_status_t *st)
{
	int nomem = 0;
	*out = NULL;
	if (!json_is_object(policy))
		return 0;
	contour_dag_direct_response_t *d = contour_dag_direct_response_new(dag);
	if (!d)
		return CONTOUR_ENOMEM;
	/* The CRD bounds statusCode to 200-599; upstream does not check again. */
	d->status_code = (uint32_t)contour_json_get_int(policy, "statusCode");
	d->body = hp_opt_str(dag, policy, "body", &nomem);
	if (nomem)
		return CONTOUR_ENOMEM;
	*out = d;
	return 0;
}

/* ---- CORS ------------------------------------------------------------------------ */

/* Whether Go's url.Parse(ao) gives scheme://host == ao: a lower-case
 * scheme, "://", and a host with no path, query, fragment or userinfo. */
static int hp_cors_exact_origin(const char *ao)
{
	const char *p = ao;
	if (!(*p >= 'a' && *p <= 'z'))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || isdigit((unsigned char)*p) || *p == '+' || *p == '-' ||
	       *p == '.')
		p++;
	if (strncmp(p, "://", 3) || !p[3])
		return 0;
	for (p += 3; *p; p++) {
		if (strchr("/?#@ %\\", *p) || (unsigned char)*p < 0x20)
			return 0;
	}
	const char *colon = strrchr(ao + strlen("a://"), ':');
	if (colon && !strchr(colon, ']')) {
		for (const char *d = colon + 1; *d; d++) {
			if (!isdigit((unsigned char)*d))
				return 0;
		}
	}
	return 1;
}

static int hp_str_list(contour_dag_t *dag, const json_t *arr, const char ***out, size_t *n)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
	{
		const char *s =
		    contour_dag_strdup(dag, json_string_value(e) ? json_string_value(e) : "");
		if (!s || contour_dag_str_push(dag, out, n, s) != CONTOUR_EOK)
			return CONTOUR_ENOMEM;
	}
	return 0;
}

static int hp_cors_check(const json_t *policy, char *err, size_t errlen)
{
	const json_t *origins = json_object_get(policy, "allowOrigin");
	size_t i;
	json_t *e;
	char q[512], perr[512], rerr[512];
	int64_t ns;
	if (json_array_size(origins) == 0) {
		snprintf(err, errlen, "invalid allowed origin configuration with length 0");
		return -1;
	}
	json_array_foreach(origins, i, e)
	{
		const char *ao = json_string_value(e) ? json_string_value(e) : "";
		if (!strcmp(ao, "*") || hp_cors_exact_origin(ao) ||
		    hp_regex_check(ao, rerr, sizeof(rerr)) == 0)
			continue;
		snprintf(err, errlen,
		         "invalid allowed origin %s: allowed origin is invalid exact match and "
		         "invalid regex match",
		         hp_quote(q, sizeof(q), ao, 0));
		return -1;
	}
	if (json_array_size(json_object_get(policy, "allowMethods")) == 0) {
		snprintf(err, errlen, "invalid allowed methods configuration with length 0");
		return -1;
	}
	/* timeout.ParseMaxAge: "" default, 0 disables caching; no infinity. */
	const char *max_age = contour_json_get_str(policy, "maxAge");
	if (*max_age && hp_go_duration(max_age, &ns, perr, sizeof(perr)) < 0) {
		snprintf(err, errlen, "unable to parse timeout string %s: %s",
		         hp_quote(q, sizeof(q), max_age, 0), perr);
		return -1;
	}
	if (*max_age && ns < 0) {
		snprintf(err, errlen, "invalid max age value %s",
		         hp_quote(q, sizeof(q), max_age, 0));
		return -1;
	}
	return 0;
}

int hp_policy_cors(contour_dag_t *dag, const json_t *policy, contour_dag_cors_t **out,
                   hp_status_t *st)
{
	char err[1024];
	int nomem = 0;
	*out = NULL;
	if (!json_is_object(policy))
		return 0;
	if (hp_cors_check(policy, err, sizeof(err)) < 0) {
		hp_status_error(st, "CORSError", "PolicyDidNotParse",
		                "Spec.VirtualHost.CORSPolicy: %s", err);
		return -1;
	}
	contour_dag_cors_t *c = contour_dag_cors_new(dag);
	if (!c)
		return CONTOUR_ENOMEM;
	c->allow_credentials = contour_json_get_bool(policy, "allowCredentials");
	c->allow_private_network = contour_json_get_bool(policy, "allowPrivateNetwork");
	c->max_age = hp_opt_str(dag, policy, "maxAge", &nomem);
	if (nomem ||
	    hp_str_list(dag, json_object_get(policy, "allowOrigin"), &c->allow_origin,
	                &c->nallow_origin) ||
	    hp_str_list(dag, json_object_get(policy, "allowMethods"), &c->allow_methods,
	                &c->nallow_methods) ||
	    hp_str_list(dag, json_object_get(policy, "allowHeaders"), &c->allow_headers,
	                &c->nallow_headers) ||
	    hp_str_list(dag, json_object_get(policy, "exposeHeaders"), &c->expose_headers,
	                &c->nexpose_headers))
		return CONTOUR_ENOMEM;
	*out = c;
	return 0;
}

/* ---- IP filters ------------------------------------------------------------------ */

/* net.ParseCIDR on addr/len, canonical (masked) text into out. */
static int hp_cidr_parse(const char *s, char *out, size_t outlen)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	unsigned char bytes[16];
	int family, bits, len = 0;
	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	bits = family == AF_INET6 ? 128 : 32;
	if (inet_pton(family, addr, bytes) != 1)
		return -1;
	const char *m = slash + 1;
	if (!*m)
		return -1;
	for (; *m; m++) {
		if (!isdigit((unsigned char)*m))
			return -1;
		len = len * 10 + (*m - '0');
		if (len > bits)
			return -1;
	}
	for (int i = 0; i < bits / 8; i++) {
		int keep = len - i * 8;
		bytes[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
	}
	if (!inet_ntop(family, bytes, addr, sizeof(addr)))
		return -1;
	if ((size_t)snprintf(out, outlen, "%s/%d", addr, len) >= outlen)
		return -1;
	return 0;
}

/* toIPFilterRules. Upstream's loop keeps only the last parse error, so a
 * bad CIDR followed by a good one is reported (InvalidCIDR) but does not
 * fail the filter: the good rules are kept and 0 returned, as upstream. */
int hp_policy_ip_filter(contour_dag_t *dag, const json_t *allow, const json_t *deny, int route,
                        contour_dag_ip_filter_t **out, hp_status_t *st)
{
	size_t nallow = json_array_size(allow), ndeny = json_array_size(deny), i;
	json_t *e;
	char last_err[512] = "";
	*out = NULL;
	if (nallow && ndeny) {
		if (route)
			hp_status_error(st, "IPFilterError", "IncompatibleIPAddressFilters",
			                "cannot specify both `ipAllowPolicy` and `ipDenyPolicy`");
		else /* "IPDepny" is upstream's spelling */
			hp_status_error(
			    st, "IPFilterError", "IncompatibleIPAddressFilters",
			    "Spec.VirtualHost.IPAllowFilterPolicy and "
			    "Spec.VirtualHost.IPDepnyFilterPolicy cannot both be defined.");
		return -1;
	}
	if (!nallow && !ndeny)
		return 0;
	contour_dag_ip_filter_t *f = contour_dag_ip_filter_new(dag);
	if (!f)
		return CONTOUR_ENOMEM;
	f->allow = nallow > 0;
	json_array_foreach(nallow ? allow : deny, i, e)
	{
		const char *cidr = contour_json_get_str(e, "cidr");
		char unparsed[256], canon[INET6_ADDRSTRLEN + 64];
		snprintf(unparsed, sizeof(unparsed), "%s%s", cidr,
		         strchr(cidr, '/')   ? ""
		         : strchr(cidr, ':') ? "/128"
		                             : "/32");
		if (hp_cidr_parse(unparsed, canon, sizeof(canon)) < 0) {
			snprintf(last_err, sizeof(last_err), "invalid CIDR address: %s", unparsed);
			hp_status_error(st, "IPFilterError", "InvalidCIDR",
			                "%s failed to parse: %s", cidr, last_err);
			continue;
		}
		last_err[0] = '\0';
		const char *copy = contour_dag_strdup(dag, canon);
		contour_dag_ip_rule_t *r = copy ? contour_dag_ip_rule_push(dag, &f->rules, &f->nrules) : NULL;
		if (!r)
			return CONTOUR_ENOMEM;
		r->remote = !strcmp(contour_json_get_str(e, "source"), "Remote");
		r->cidr = copy;
	}
	if (last_err[0]) {
		if (!route)
			hp_status_error(st, "IPFilterError", "IPFilterPolicyNotValid",
			                "Spec.VirtualHost.IPAllowFilterPolicy or "
			                "Spec.VirtualHost.IPDenyFilterPolicy is invalid: %s",
			                last_err);
		return -1;
	}
	*out = f;
	return 0;
}

/* ---- slow start ------------------------------------------------------------------ */

int hp_policy_slow_start(contour_dag_t *dag, const json_t *policy,
                         contour_dag_lb_strategy_t strategy, contour_dag_slow_start_t **out,
                         hp_status_t *st)
{
	char err[512];
	int64_t ns;
	*out = NULL;
	if (!json_is_object(policy))
		return 0;
	/* Envoy has slow start for these two strategies only. */
	if (strategy != CONTOUR_DAG_LB_ROUND_ROBIN &&
	    strategy != CONTOUR_DAG_LB_WEIGHTED_LEAST_REQUEST) {
		hp_status_error(st, "ServiceError", "SlowStartInvalid",
		                "slow start is only supported with RoundRobin or "
		                "WeightedLeastRequest load balancer strategy");
		return -1;
	}
	if (hp_go_duration(contour_json_get_str(policy, "window"), &ns, err, sizeof(err)) < 0) {
		hp_status_error(st, "ServiceError", "SlowStartInvalid",
		                "error parsing window: %s on slow start", err);
		return -1;
	}
	double aggression = 1.0;
	const char *a = contour_json_get_str(policy, "aggression");
	if (*a) {
		char *end;
		errno = 0;
		aggression = strtod(a, &end);
		if (isspace((unsigned char)*a) || *end || errno == ERANGE) {
			hp_status_error(
			    st, "ServiceError", "SlowStartInvalid",
			    "error parsing aggression: \"%s\" is not a decimal number on "
			    "slow start",
			    a);
			return -1;
		}
	}
	contour_dag_slow_start_t *ss = contour_dag_slow_start_new(dag);
	if (!ss)
		return CONTOUR_ENOMEM;
	ss->window_ms = ns > 0 ? hp_ns_to_ms(ns) : 0;
	ss->aggression = aggression;
	/* Absent: the CRD's default 10. */
	ss->min_weight_percent = contour_json_has(policy, "minWeightPercent")
	                             ? (uint32_t)contour_json_get_int(policy, "minWeightPercent")
	                             : 10;
	*out = ss;
	return 0;
}
