/* contour/quote.h: Go's quoting of strings, as upstream's messages show
 * user input (domain layer, ABI 1.4).
 */
#ifndef CONTOUR_QUOTE_H
#define CONTOUR_QUOTE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	/* Go's %q (strconv.Quote), except that every valid non-ASCII rune is
	 * taken as printable. */
	CONTOUR_QUOTE_STRCONV = 0,
	/* The time package's simpler quote (its error messages): every byte
	 * outside printable ASCII becomes \xNN. */
	CONTOUR_QUOTE_TIME,
} contour_quote_style_t;

/* contour_quote: s between double quotes, escaped in the given style, into
 * buf (size bytes, always NUL-terminated, truncated when too small).
 * Returns buf, for use as a printf argument. */
const char *contour_quote(char *buf, size_t size, const char *s, contour_quote_style_t style);

#ifdef __cplusplus
}
#endif
#endif
