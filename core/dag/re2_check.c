/* core/dag/re2_check.c: a syntax check of regular expressions as Go's
 * regexp (RE2 syntax) parses them, with Go's error text, for every
 * processor that takes a user's regex (HTTPProxy conditions and CORS
 * origins, Ingress ImplementationSpecific paths).
 *
 * POSIX regcomp(REG_EXTENDED) is no substitute: it rejects valid RE2 that
 * users write ((?i), \d, a literal '{', ^*), accepts invalid RE2 (a**), and
 * its messages are glibc's. So this is a small recursive-descent check that
 * follows Go's regexp/syntax parser for the structure (groups, classes,
 * repetition, escapes, Perl flags) and prints Go's error text:
 * "error parsing regexp: <code>: `<expr>`". Not checked: Unicode class
 * names beyond their shape, nesting depth, program size and nested repeat
 * counts (x{500}{3} style products over 1000). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <contour/regex.h>

typedef struct re2_state {
	const char *whole;
	char *err;
	size_t errlen;
} re2_t;

static int re2_fail(re2_t *r, const char *code, const char *from, const char *to)
{
	snprintf(r->err, r->errlen, "error parsing regexp: %s: `%.*s`", code, (int)(to - from),
	         from);
	return -1;
}

/* The length of the UTF-8 sequence at s, 0 at the end, -1 when invalid. */
static int re2_rune(const char *s, unsigned *out)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned c = u[0], r;
	int n, i;
	if (c == 0)
		return 0;
	if (c < 0x80) {
		*out = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		r = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		r = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		r = c & 0x07;
	} else {
		return -1;
	}
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return -1;
		r = (r << 6) | (u[i] & 0x3f);
	}
	if ((n == 3 && r < 0x800) || (n == 4 && (r < 0x10000 || r > 0x10ffff)) ||
	    (r >= 0xd800 && r <= 0xdfff))
		return -1;
	*out = r;
	return n;
}

/* One rune at *pp into *out; Go's nextRune. */
static int re2_next(re2_t *r, const char **pp, unsigned *out)
{
	int n = re2_rune(*pp, out);
	if (n < 0)
		return re2_fail(r, "invalid UTF-8", *pp, *pp + strlen(*pp));
	*pp += n;
	return 0;
}

static int re2_unhex(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* Go's parseEscape: *pp at the backslash; the escaped rune into *out. */
static int re2_escape(re2_t *r, const char **pp, unsigned *out)
{
	const char *s = *pp, *t = s + 1;
	unsigned c;
	if (*t == '\0')
		return re2_fail(r, "trailing backslash at end of expression", t, t);
	if (re2_next(r, &t, &c) < 0)
		return -1;
	if (c < 0x80 && !isalnum((int)c)) {
		*out = c;
		*pp = t;
		return 0;
	}
	switch (c) {
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
		/* A lone non-zero digit is a backreference: unsupported. */
		if (*t < '0' || *t > '7')
			break;
		/* fall through */
	case '0':
		*out = c - '0';
		for (int i = 1; i < 3 && *t >= '0' && *t <= '7'; i++, t++)
			*out = *out * 8 + (unsigned)(*t - '0');
		*pp = t;
		return 0;
	case 'x': {
		unsigned d;
		if (*t == '\0')
			break;
		if (re2_next(r, &t, &d) < 0)
			return -1;
		if (d == '{') {
			int nhex = 0;
			unsigned v = 0;
			for (;;) {
				if (*t == '\0')
					goto bad;
				if (re2_next(r, &t, &d) < 0)
					return -1;
				if (d == '}')
					break;
				if (re2_unhex(d) < 0)
					goto bad;
				v = v * 16 + (unsigned)re2_unhex(d);
				if (v > 0x10ffff)
					goto bad;
				nhex++;
			}
			if (nhex == 0)
				break;
			*out = v;
			*pp = t;
			return 0;
		}
		int x = re2_unhex(d);
		unsigned e = 0;
		if (*t && re2_next(r, &t, &e) < 0)
			return -1;
		if (x < 0 || re2_unhex(e) < 0)
			break;
		*out = (unsigned)(x * 16 + re2_unhex(e));
		*pp = t;
		return 0;
	}
	case 'a':
	case 'f':
	case 'n':
	case 'r':
	case 't':
	case 'v':
		*out = c;
		*pp = t;
		return 0;
	default:
		break;
	}
bad:
	return re2_fail(r, "invalid escape sequence", s, t);
}

/* \pL, \p{Name}, \PL, \P{^Name}: only the shape of the name is checked. */
static int re2_unicode_class(re2_t *r, const char **pp)
{
	const char *s = *pp, *t = s + 2, *name, *end;
	unsigned c = 0;
	int n = re2_rune(t, &c);
	if (n < 0)
		return re2_fail(r, "invalid UTF-8", t, t + strlen(t));
	if (c != '{') {
		t += n;
		if (n == 0 || !strchr("LMNPSZC", (int)c))
			return re2_fail(r, "invalid character class range", s, t);
		*pp = t;
		return 0;
	}
	end = strchr(s, '}');
	if (!end)
		return re2_fail(r, "invalid character class range", s, s + strlen(s));
	name = s + 3;
	if (*name == '^')
		name++;
	if (name == end)
		return re2_fail(r, "invalid character class range", s, end + 1);
	for (const char *q = name; q < end; q++) {
		if (!isalpha((unsigned char)*q) && *q != '_')
			return re2_fail(r, "invalid character class range", s, end + 1);
	}
	*pp = end + 1;
	return 0;
}

static int re2_is_perl_class(const char *p)
{
	return p[0] == '\\' && p[1] && strchr("dDsSwW", p[1]);
}

static int re2_class_char(re2_t *r, const char **pp, const char *whole, unsigned *out)
{
	if (**pp == '\0')
		return re2_fail(r, "missing closing ]", whole, whole + strlen(whole));
	if (**pp == '\\')
		return re2_escape(r, pp, out);
	return re2_next(r, pp, out);
}

static const char *const re2_posix_names[] = {
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph",
    "lower", "print", "punct", "space", "upper", "word",  "xdigit",
};

/* Go's parseClass: *pp at '['. */
static int re2_class(re2_t *r, const char **pp)
{
	const char *whole = *pp, *t = *pp + 1;
	int first = 1;
	if (*t == '^')
		t++;
	while (*t == '\0' || *t != ']' || first) {
		first = 0;
		if (t[0] == '[' && t[1] == ':' && t[2]) {
			const char *end = strstr(t + 2, ":]");
			if (end) {
				const char *name = t + 2;
				size_t len = (size_t)(end - name), i;
				if (*name == '^') {
					name++;
					len--;
				}
				for (i = 0; i < sizeof(re2_posix_names) / sizeof(*re2_posix_names);
				     i++) {
					if (strlen(re2_posix_names[i]) == len &&
					    !strncmp(re2_posix_names[i], name, len))
						break;
				}
				if (i == sizeof(re2_posix_names) / sizeof(*re2_posix_names))
					return re2_fail(r, "invalid character class range", t,
					                end + 2);
				t = end + 2;
				continue;
			}
		}
		if (t[0] == '\\' && (t[1] == 'p' || t[1] == 'P')) {
			if (re2_unicode_class(r, &t) < 0)
				return -1;
			continue;
		}
		if (re2_is_perl_class(t)) {
			t += 2;
			continue;
		}
		const char *rng = t;
		unsigned lo, hi;
		if (re2_class_char(r, &t, whole, &lo) < 0)
			return -1;
		if (t[0] == '-' && t[1] && t[1] != ']') {
			t++;
			if (re2_class_char(r, &t, whole, &hi) < 0)
				return -1;
			if (hi < lo)
				return re2_fail(r, "invalid character class range", rng, t);
		}
	}
	*pp = t + 1;
	return 0;
}

/* Go's parseInt for repeat counts: -1 when too big, -2 when not a number. */
static int re2_int(const char **pp)
{
	const char *s = *pp;
	int n = 0;
	if (*s < '0' || *s > '9')
		return -2;
	if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
		return -2;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n >= 100000000)
			n = -1;
		else if (n >= 0)
			n = n * 10 + (*s - '0');
	}
	*pp = s;
	return n;
}

/* Go's parseRepeat: 1 (with min, max and rest) when s is {n}, {n,} or
 * {n,m}. */
static int re2_parse_repeat(const char *s, int *min, int *max, const char **rest)
{
	s++;
	if ((*min = re2_int(&s)) == -2 || *s == '\0')
		return 0;
	if (*s != ',') {
		*max = *min;
	} else {
		s++;
		if (*s == '\0')
			return 0;
		if (*s == '}') {
			*max = -1;
		} else {
			if ((*max = re2_int(&s)) == -2)
				return 0;
			if (*max == -1)
				*min = -1;
		}
	}
	if (*s != '}')
		return 0;
	*rest = s + 1;
	return 1;
}

/* Go's repeat() checks: a trailing '?' makes it non-greedy; stacked
 * operators and operators with nothing to repeat are errors. */
static int re2_repeat(re2_t *r, const char *before, const char **after, const char *last_repeat,
                      int operand)
{
	if (**after == '?')
		(*after)++;
	if (last_repeat)
		return re2_fail(r, "invalid nested repetition operator", last_repeat, *after);
	if (!operand)
		return re2_fail(r, "missing argument to repetition operator", before, *after);
	return 0;
}

/* Go's parsePerlFlags: *pp at "(?". *group is set when it opens a group. */
static int re2_perl_flags(re2_t *r, const char **pp, int *group)
{
	const char *s = *pp, *t;
	size_t len = strlen(s);
	*group = 0;
	if ((len > 4 && s[2] == 'P' && s[3] == '<') || (len > 3 && s[2] == '<')) {
		const char *name = s + (s[2] == '<' ? 3 : 4);
		const char *end = strchr(s, '>');
		if (!end)
			return re2_fail(r, "invalid named capture", s, s + len);
		if (name == end)
			return re2_fail(r, "invalid named capture", s, end + 1);
		for (const char *q = name; q < end; q++) {
			if (!isalnum((unsigned char)*q) && *q != '_' && !(*q & 0x80))
				return re2_fail(r, "invalid named capture", s, end + 1);
		}
		*group = 1;
		*pp = end + 1;
		return 0;
	}
	int sign = 1, saw = 0;
	t = s + 2;
	while (*t) {
		unsigned c;
		if (re2_next(r, &t, &c) < 0)
			return -1;
		if (c == 'i' || c == 'm' || c == 's' || c == 'U') {
			saw = 1;
			continue;
		}
		if (c == '-') {
			if (sign < 0)
				break;
			sign = -1;
			saw = 0;
			continue;
		}
		if (c == ':' || c == ')') {
			if (sign < 0 && !saw)
				break;
			*group = c == ':';
			*pp = t;
			return 0;
		}
		break;
	}
	return re2_fail(r, "invalid or unsupported Perl syntax", s, t);
}

int contour_regex_check(const char *re, char *err, size_t errlen)
{
	re2_t r = {re, err, errlen};
	const char *p = re, *last_repeat = NULL;
	int depth = 0, operand = 0, group;
	unsigned c;

	while (*p) {
		const char *repeat = NULL, *before = p, *after;
		int min, max;
		switch (*p) {
		case '(':
			if (p[1] == '?') {
				if (re2_perl_flags(&r, &p, &group) < 0)
					return -1;
				if (group) {
					depth++;
					operand = 0;
				}
				break;
			}
			depth++;
			operand = 0;
			p++;
			break;
		case '|':
			operand = 0;
			p++;
			break;
		case ')':
			if (depth == 0)
				return re2_fail(&r, "unexpected )", re, re + strlen(re));
			depth--;
			operand = 1;
			p++;
			break;
		case '[':
			if (re2_class(&r, &p) < 0)
				return -1;
			operand = 1;
			break;
		case '*':
		case '+':
		case '?':
		case '{':
			after = p + 1;
			if (*p == '{') {
				if (!re2_parse_repeat(p, &min, &max, &after)) {
					p++; /* not a repeat: a literal '{' */
					operand = 1;
					break;
				}
				if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max))
					return re2_fail(&r, "invalid repeat count", before, after);
			}
			if (re2_repeat(&r, before, &after, last_repeat, operand) < 0)
				return -1;
			repeat = before;
			p = after;
			operand = 1;
			break;
		case '\\':
			if (p[1] && strchr("AbBz", p[1])) {
				p += 2;
				operand = 1;
			} else if (p[1] == 'C') {
				return re2_fail(&r, "invalid escape sequence", p, p + 2);
			} else if (p[1] == 'Q') {
				const char *end = strstr(p + 2, "\\E");
				const char *lit = p + 2, *stop = end ? end : p + strlen(p);
				while (lit < stop) {
					if (re2_next(&r, &lit, &c) < 0)
						return -1;
					operand = 1;
				}
				p = end ? end + 2 : stop;
			} else if (p[1] == 'p' || p[1] == 'P') {
				if (re2_unicode_class(&r, &p) < 0)
					return -1;
				operand = 1;
			} else if (re2_is_perl_class(p)) {
				p += 2;
				operand = 1;
			} else {
				if (re2_escape(&r, &p, &c) < 0)
					return -1;
				operand = 1;
			}
			break;
		default: /* literal, '.', '^', '$' */
			if (re2_next(&r, &p, &c) < 0)
				return -1;
			operand = 1;
			break;
		}
		last_repeat = repeat;
	}
	if (depth)
		return re2_fail(&r, "missing closing )", re, re + strlen(re));
	return 0;
}
