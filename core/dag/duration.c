/* core/dag/duration.c: Go-style durations ("1h2m3.5s", "250ms"), as upstream's
 * config file and flags spell timeouts. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static const struct {
	const char *unit;
	double ms;
} units[] = {
    {"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1},
    {"s", 1000},  {"m", 60000}, {"h", 3600000},
};

int contour_duration_parse(const char *text, int64_t *ms)
{
	if (!text || !*text)
		return CONTOUR_EINVAL;
	const char *p = text;
	int neg = 0;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!strcmp(p, "0")) {
		*ms = 0;
		return CONTOUR_EOK;
	}
	double total = 0;
	if (!*p)
		return CONTOUR_EINVAL;
	while (*p) {
		if (!isdigit((unsigned char)*p) && *p != '.')
			return CONTOUR_EINVAL;
		char *end;
		double v = strtod(p, &end);
		if (end == p)
			return CONTOUR_EINVAL;
		p = end;
		size_t best = 0;
		double scale = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t n = strlen(units[i].unit);
			/* longest match: "ms" before "m" */
			if (n > best && !strncmp(p, units[i].unit, n)) {
				best = n;
				scale = units[i].ms;
			}
		}
		if (!best)
			return CONTOUR_EINVAL; /* a unit is required, as in Go */
		p += best;
		total += v * scale;
		if (total > 9.2e15)
			return CONTOUR_EINVAL;
	}
	*ms = (int64_t)llround(neg ? -total : total);
	return CONTOUR_EOK;
}
