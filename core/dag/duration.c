/* core/dag/duration.c: Go durations ("1h2m3.5s", "250ms", "1.5µs"), the one
 * parser behind every duration the project reads: config values and flags
 * (contour_duration_parse) and every timeout, window and max-age in
 * HTTPProxy and Ingress objects. It follows Go's time.ParseDuration step
 * for step, so what it accepts, its overflow limits (2^63 ns) and its error
 * text are Go's. Units: ns, us, µs (U+00B5), μs (U+03BC), ms, s, m, h. */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <contour/conf.h>
#include <contour/duration.h>
#include <contour/error.h>
#include <contour/quote.h>

#define DURATION_NS_PER_MS 1000000LL

int contour_duration_parse_ns(const char *orig, int64_t *out, char *err, size_t errlen)
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
	const char *s = orig ? orig : "";
	char q1[256], q2[256];
	uint64_t d = 0;
	int neg = 0;

	if (!orig)
		orig = "";
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
			         contour_quote(q1, sizeof(q1), orig, CONTOUR_QUOTE_TIME));
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
			         contour_quote(q1, sizeof(q1), name, CONTOUR_QUOTE_TIME),
			         contour_quote(q2, sizeof(q2), orig, CONTOUR_QUOTE_TIME));
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
	snprintf(err, errlen, "time: invalid duration %s",
	         contour_quote(q1, sizeof(q1), orig, CONTOUR_QUOTE_TIME));
	return -1;
}

int64_t contour_duration_ns_to_ms(int64_t ns)
{
	/* Rounded up, so a set sub-millisecond duration does not read as 0
	 * (which means "unset" or "disabled" to most callers). */
	if (ns <= 0)
		return ns / DURATION_NS_PER_MS;
	return ns / DURATION_NS_PER_MS + (ns % DURATION_NS_PER_MS > 0);
}

int contour_duration_parse(const char *text, int64_t *ms)
{
	char err[8];
	int64_t ns;
	if (!text || contour_duration_parse_ns(text, &ns, err, sizeof(err)) < 0)
		return CONTOUR_EINVAL;
	/* Config values round to the nearest millisecond, half away from 0. */
	int64_t q = ns / DURATION_NS_PER_MS, r = ns % DURATION_NS_PER_MS;
	if (r >= DURATION_NS_PER_MS / 2)
		q++;
	else if (r <= -DURATION_NS_PER_MS / 2)
		q--;
	*ms = q;
	return CONTOUR_EOK;
}

void contour_duration_format(int64_t ms, char *buf, size_t len)
{
	if (ms == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	if (ms < 1000) {
		snprintf(buf, len, "%" PRId64 "ms", ms);
		return;
	}
	int64_t h = ms / 3600000, m = (ms / 60000) % 60, s = (ms / 1000) % 60, frac = ms % 1000;
	char sec[32];
	if (frac) {
		char f[8];
		snprintf(f, sizeof(f), "%03" PRId64, frac);
		/* Go prints the fraction without trailing zeros. */
		for (int i = 2; i > 0 && f[i] == '0'; i--)
			f[i] = 0;
		snprintf(sec, sizeof(sec), "%" PRId64 ".%ss", s, f);
	} else {
		snprintf(sec, sizeof(sec), "%" PRId64 "s", s);
	}
	if (h)
		snprintf(buf, len, "%" PRId64 "h%" PRId64 "m%s", h, m, sec);
	else if (m)
		snprintf(buf, len, "%" PRId64 "m%s", m, sec);
	else
		snprintf(buf, len, "%s", sec);
}
