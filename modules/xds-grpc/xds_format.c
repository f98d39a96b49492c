/* modules/xds-grpc/xds_format.c: text helpers for names and keys: bounded
 * appends. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "modules/xds-grpc/xds_translate.h"

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
