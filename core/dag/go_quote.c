/* core/dag/go_quote.c: Go's string quoting (strconv.Quote and the time
 * package's quote), so messages that show user input match upstream's byte
 * for byte. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <contour/quote.h>

/* The length of a valid UTF-8 sequence at s, or 0. */
static int quote_utf8_len(const unsigned char *s)
{
	int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	return n;
}

const char *contour_quote(char *buf, size_t size, const char *s, contour_quote_style_t style)
{
	int time = style == CONTOUR_QUOTE_TIME;
	size_t o = 0;
#define QUOTE_PUT(...)                                                                             \
	do {                                                                                       \
		int k_ = snprintf(buf + o, o < size ? size - o : 0, __VA_ARGS__);                  \
		o += k_ > 0 ? (size_t)k_ : 0;                                                      \
	} while (0)
	QUOTE_PUT("\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		static const char esc[] = "\a\b\f\n\r\t\v", letter[] = "abfnrtv";
		const char *e = *p ? strchr(esc, *p) : NULL;
		int n;
		if (*p == '"' || *p == '\\')
			QUOTE_PUT("\\%c", *p);
		else if (*p >= 0x20 && *p < 0x7f)
			QUOTE_PUT("%c", *p);
		else if (!time && e)
			QUOTE_PUT("\\%c", letter[e - esc]);
		else if (!time && *p >= 0x80 && (n = quote_utf8_len(p)) > 0) {
			QUOTE_PUT("%.*s", n, (const char *)p);
			p += n - 1;
		} else
			QUOTE_PUT("\\x%02x", *p);
	}
	QUOTE_PUT("\"");
#undef QUOTE_PUT
	return buf;
}
