/* modules/xds-grpc/xds_format.c: text helpers for names and keys: bounded
 * appends and Go's Duration.String(). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "modules/xds-grpc/xds_translate.h"

/* Go's time.Duration.String() for whole milliseconds: "0s", "500ms",
 * "2s", "1.5s", "3m0s", "1h0m0s". */
void xds_go_duration(int64_t ms, char *out, size_t cap)
{
	if (ms == 0) {
		snprintf(out, cap, "0s");
		return;
	}
	if (ms < 1000) {
		snprintf(out, cap, "%" PRId64 "ms", ms);
		return;
	}
	int64_t h = ms / 3600000, m = (ms / 60000) % 60, s = (ms / 1000) % 60, frac = ms % 1000;
	char sec[32];
	if (frac) {
		char f[8];
		snprintf(f, sizeof(f), "%03" PRId64, frac);
		for (int i = 2; i > 0 && f[i] == '0'; i--)
			f[i] = 0;
		snprintf(sec, sizeof(sec), "%" PRId64 ".%ss", s, f);
	} else {
		snprintf(sec, sizeof(sec), "%" PRId64 "s", s);
	}
	if (h)
		snprintf(out, cap, "%" PRId64 "h%" PRId64 "m%s", h, m, sec);
	else if (m)
		snprintf(out, cap, "%" PRId64 "m%s", m, sec);
	else
		snprintf(out, cap, "%s", sec);
}

/* Appends src to out[*o] within cap (keeping room for the NUL). */
void xds_cat(char *out, size_t cap, size_t *o, const char *src)
{
	size_t n = strlen(src);
	if (*o + n >= cap)
		n = *o + 1 < cap ? cap - *o - 1 : 0;
	memcpy(out + *o, src, n);
	*o += n;
}

void xds_cat_u32(char *out, size_t cap, size_t *o, uint32_t v)
{
	char d[12], *p = d + sizeof(d);
	*--p = 0;
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	xds_cat(out, cap, o, p);
}
