/* modules/httpproxy/hp_cond.c: HTTPProxy match conditions: the validity
 * rules of upstream's internal/dag/conditions.go, the merge of conditions
 * along an include chain into one route match, the duplicate-include
 * tracker, and an RE2 syntax check with Go's error wording.
 *
 * Conditions arrive as the JSON of contour_v1.MatchCondition; an absent
 * field reads as Go's zero value ("" or false), as the Go structs do. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <contour/dag.h>
#include <contour/error.h>

#include "modules/httpproxy/hp.h"

/* The members of a MatchCondition and of its header and queryParameter
 * objects. A condition usually sets one or two of them, so a hashed lookup
 * per possible field mostly pays for nothing: hp_cond_read walks the object
 * once and files each member under its slot (a JSON object has each name
 * at most once, so this finds what json_object_get would). */
enum {
	HP_C_NAME,
	HP_C_PREFIX,
	HP_C_SUFFIX,
	HP_C_EXACT,
	HP_C_NOTEXACT,
	HP_C_CONTAINS,
	HP_C_NOTCONTAINS,
	HP_C_REGEX,
	HP_C_PRESENT,
	HP_C_NOTPRESENT,
	HP_C_IGNORECASE,
	HP_C_TMAE,
	HP_C_HEADER,
	HP_C_QUERY,
	HP_C_N
};

typedef struct hp_cond {
	const json_t *m[HP_C_N]; /* NULL when absent */
} hp_cond_t;

/* The slot of member name k, or -1 for a name no rule reads. */
static int hp_cond_slot(const char *k)
{
	switch (k[0]) {
	case 'c':
		return strcmp(k, "contains") ? -1 : HP_C_CONTAINS;
	case 'e':
		return strcmp(k, "exact") ? -1 : HP_C_EXACT;
	case 'h':
		return strcmp(k, "header") ? -1 : HP_C_HEADER;
	case 'i':
		return strcmp(k, "ignoreCase") ? -1 : HP_C_IGNORECASE;
	case 'n':
		if (!strcmp(k, "name"))
			return HP_C_NAME;
		if (!strcmp(k, "notexact"))
			return HP_C_NOTEXACT;
		if (!strcmp(k, "notcontains"))
			return HP_C_NOTCONTAINS;
		return strcmp(k, "notpresent") ? -1 : HP_C_NOTPRESENT;
	case 'p':
		if (!strcmp(k, "prefix"))
			return HP_C_PREFIX;
		return strcmp(k, "present") ? -1 : HP_C_PRESENT;
	case 'q':
		return strcmp(k, "queryParameter") ? -1 : HP_C_QUERY;
	case 'r':
		return strcmp(k, "regex") ? -1 : HP_C_REGEX;
	case 's':
		return strcmp(k, "suffix") ? -1 : HP_C_SUFFIX;
	case 't':
		return strcmp(k, "treatMissingAsEmpty") ? -1 : HP_C_TMAE;
	default:
		return -1;
	}
}

/* Every slot of out from one walk of obj; all NULL when obj is not an
 * object (json_object_get's answer for a non-object). */
static void hp_cond_read(const json_t *obj, hp_cond_t *out)
{
	const char *k;
	json_t *v;
	memset(out, 0, sizeof(*out));
	json_object_foreach((json_t *)obj, k, v)
	{
		int slot = hp_cond_slot(k);
		if (slot >= 0)
			out->m[slot] = v;
	}
}

/* A member as Go's zero-valued string field: "" when absent or not a
 * string. */
static const char *hp_cond_str(const hp_cond_t *c, int slot)
{
	const char *s = json_string_value(c->m[slot]);
	return s ? s : "";
}

static int hp_cond_bool(const hp_cond_t *c, int slot)
{
	return json_is_true(c->m[slot]);
}

/* ---- RE2 syntax check ---------------------------------------------------
 *
 * Upstream validates with Go's regexp (RE2 syntax). The brief suggested
 * POSIX regcomp(REG_EXTENDED) as an approximation, but regcomp rejects
 * valid RE2 that users write ((?i), \d, a literal '{', ^*) and accepts
 * invalid RE2 (a**), and its messages are glibc's. So this is a small
 * recursive-descent check that follows Go's regexp/syntax parser for the
 * structure (groups, classes, repetition, escapes, Perl flags) and prints
 * Go's error text: "error parsing regexp: <code>: `<expr>`". Not checked:
 * Unicode class names beyond their shape, nesting depth, program size and
 * nested repeat counts (x{500}{3} style products over 1000). */

typedef struct hp_re {
	const char *whole;
	char *err;
	size_t errlen;
} hp_re_t;

static int hp_re_fail(hp_re_t *r, const char *code, const char *from, const char *to)
{
	snprintf(r->err, r->errlen, "error parsing regexp: %s: `%.*s`", code, (int)(to - from),
	         from);
	return -1;
}

/* The length of the UTF-8 sequence at s, 0 at the end, -1 when invalid. */
static int hp_re_rune(const char *s, unsigned *out)
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
static int hp_re_next(hp_re_t *r, const char **pp, unsigned *out)
{
	int n = hp_re_rune(*pp, out);
	if (n < 0)
		return hp_re_fail(r, "invalid UTF-8", *pp, *pp + strlen(*pp));
	*pp += n;
	return 0;
}

static int hp_re_unhex(unsigned c)
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
static int hp_re_escape(hp_re_t *r, const char **pp, unsigned *out)
{
	const char *s = *pp, *t = s + 1;
	unsigned c;
	if (*t == '\0')
		return hp_re_fail(r, "trailing backslash at end of expression", t, t);
	if (hp_re_next(r, &t, &c) < 0)
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
		if (hp_re_next(r, &t, &d) < 0)
			return -1;
		if (d == '{') {
			int nhex = 0;
			unsigned v = 0;
			for (;;) {
				if (*t == '\0')
					goto bad;
				if (hp_re_next(r, &t, &d) < 0)
					return -1;
				if (d == '}')
					break;
				if (hp_re_unhex(d) < 0)
					goto bad;
				v = v * 16 + (unsigned)hp_re_unhex(d);
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
		int x = hp_re_unhex(d);
		unsigned e = 0;
		if (*t && hp_re_next(r, &t, &e) < 0)
			return -1;
		if (x < 0 || hp_re_unhex(e) < 0)
			break;
		*out = (unsigned)(x * 16 + hp_re_unhex(e));
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
	return hp_re_fail(r, "invalid escape sequence", s, t);
}

/* \pL, \p{Name}, \PL, \P{^Name}: only the shape of the name is checked. */
static int hp_re_unicode_class(hp_re_t *r, const char **pp)
{
	const char *s = *pp, *t = s + 2, *name, *end;
	unsigned c = 0;
	int n = hp_re_rune(t, &c);
	if (n < 0)
		return hp_re_fail(r, "invalid UTF-8", t, t + strlen(t));
	if (c != '{') {
		t += n;
		if (n == 0 || !strchr("LMNPSZC", (int)c))
			return hp_re_fail(r, "invalid character class range", s, t);
		*pp = t;
		return 0;
	}
	end = strchr(s, '}');
	if (!end)
		return hp_re_fail(r, "invalid character class range", s, s + strlen(s));
	name = s + 3;
	if (*name == '^')
		name++;
	if (name == end)
		return hp_re_fail(r, "invalid character class range", s, end + 1);
	for (const char *q = name; q < end; q++) {
		if (!isalpha((unsigned char)*q) && *q != '_')
			return hp_re_fail(r, "invalid character class range", s, end + 1);
	}
	*pp = end + 1;
	return 0;
}

static int hp_re_is_perl_class(const char *p)
{
	return p[0] == '\\' && p[1] && strchr("dDsSwW", p[1]);
}

static int hp_re_class_char(hp_re_t *r, const char **pp, const char *whole, unsigned *out)
{
	if (**pp == '\0')
		return hp_re_fail(r, "missing closing ]", whole, whole + strlen(whole));
	if (**pp == '\\')
		return hp_re_escape(r, pp, out);
	return hp_re_next(r, pp, out);
}

static const char *const hp_re_posix_names[] = {
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph",
    "lower", "print", "punct", "space", "upper", "word",  "xdigit",
};

/* Go's parseClass: *pp at '['. */
static int hp_re_class(hp_re_t *r, const char **pp)
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
				for (i = 0;
				     i < sizeof(hp_re_posix_names) / sizeof(*hp_re_posix_names);
				     i++) {
					if (strlen(hp_re_posix_names[i]) == len &&
					    !strncmp(hp_re_posix_names[i], name, len))
						break;
				}
				if (i == sizeof(hp_re_posix_names) / sizeof(*hp_re_posix_names))
					return hp_re_fail(r, "invalid character class range", t,
					                  end + 2);
				t = end + 2;
				continue;
			}
		}
		if (t[0] == '\\' && (t[1] == 'p' || t[1] == 'P')) {
			if (hp_re_unicode_class(r, &t) < 0)
				return -1;
			continue;
		}
		if (hp_re_is_perl_class(t)) {
			t += 2;
			continue;
		}
		const char *rng = t;
		unsigned lo, hi;
		if (hp_re_class_char(r, &t, whole, &lo) < 0)
			return -1;
		if (t[0] == '-' && t[1] && t[1] != ']') {
			t++;
			if (hp_re_class_char(r, &t, whole, &hi) < 0)
				return -1;
			if (hi < lo)
				return hp_re_fail(r, "invalid character class range", rng, t);
		}
	}
	*pp = t + 1;
	return 0;
}

/* Go's parseInt for repeat counts: -1 when too big, -2 when not a number. */
static int hp_re_int(const char **pp)
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
static int hp_re_parse_repeat(const char *s, int *min, int *max, const char **rest)
{
	s++;
	if ((*min = hp_re_int(&s)) == -2 || *s == '\0')
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
			if ((*max = hp_re_int(&s)) == -2)
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
static int hp_re_repeat(hp_re_t *r, const char *before, const char **after, const char *last_repeat,
                        int operand)
{
	if (**after == '?')
		(*after)++;
	if (last_repeat)
		return hp_re_fail(r, "invalid nested repetition operator", last_repeat, *after);
	if (!operand)
		return hp_re_fail(r, "missing argument to repetition operator", before, *after);
	return 0;
}

/* Go's parsePerlFlags: *pp at "(?". *group is set when it opens a group. */
static int hp_re_perl_flags(hp_re_t *r, const char **pp, int *group)
{
	const char *s = *pp, *t;
	size_t len = strlen(s);
	*group = 0;
	if ((len > 4 && s[2] == 'P' && s[3] == '<') || (len > 3 && s[2] == '<')) {
		const char *name = s + (s[2] == '<' ? 3 : 4);
		const char *end = strchr(s, '>');
		if (!end)
			return hp_re_fail(r, "invalid named capture", s, s + len);
		if (name == end)
			return hp_re_fail(r, "invalid named capture", s, end + 1);
		for (const char *q = name; q < end; q++) {
			if (!isalnum((unsigned char)*q) && *q != '_' && !(*q & 0x80))
				return hp_re_fail(r, "invalid named capture", s, end + 1);
		}
		*group = 1;
		*pp = end + 1;
		return 0;
	}
	int sign = 1, saw = 0;
	t = s + 2;
	while (*t) {
		unsigned c;
		if (hp_re_next(r, &t, &c) < 0)
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
	return hp_re_fail(r, "invalid or unsupported Perl syntax", s, t);
}

int hp_regex_check(const char *re, char *err, size_t errlen)
{
	hp_re_t r = {re, err, errlen};
	const char *p = re, *last_repeat = NULL;
	int depth = 0, operand = 0, group;
	unsigned c;

	while (*p) {
		const char *repeat = NULL, *before = p, *after;
		int min, max;
		switch (*p) {
		case '(':
			if (p[1] == '?') {
				if (hp_re_perl_flags(&r, &p, &group) < 0)
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
				return hp_re_fail(&r, "unexpected )", re, re + strlen(re));
			depth--;
			operand = 1;
			p++;
			break;
		case '[':
			if (hp_re_class(&r, &p) < 0)
				return -1;
			operand = 1;
			break;
		case '*':
		case '+':
		case '?':
			after = p + 1;
			if (hp_re_repeat(&r, before, &after, last_repeat, operand) < 0)
				return -1;
			repeat = before;
			p = after;
			operand = 1;
			break;
		case '{':
			if (!hp_re_parse_repeat(p, &min, &max, &after)) {
				p++; /* not a repeat: a literal '{' */
				operand = 1;
				break;
			}
			if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max))
				return hp_re_fail(&r, "invalid repeat count", before, after);
			if (hp_re_repeat(&r, before, &after, last_repeat, operand) < 0)
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
				return hp_re_fail(&r, "invalid escape sequence", p, p + 2);
			} else if (p[1] == 'Q') {
				const char *end = strstr(p + 2, "\\E");
				const char *lit = p + 2, *stop = end ? end : p + strlen(p);
				while (lit < stop) {
					if (hp_re_next(&r, &lit, &c) < 0)
						return -1;
					operand = 1;
				}
				p = end ? end + 2 : stop;
			} else if (p[1] == 'p' || p[1] == 'P') {
				if (hp_re_unicode_class(&r, &p) < 0)
					return -1;
				operand = 1;
			} else if (hp_re_is_perl_class(p)) {
				p += 2;
				operand = 1;
			} else {
				if (hp_re_escape(&r, &p, &c) < 0)
					return -1;
				operand = 1;
			}
			break;
		default: /* literal, '.', '^', '$' */
			if (hp_re_next(&r, &p, &c) < 0)
				return -1;
			operand = 1;
			break;
		}
		last_repeat = repeat;
	}
	if (depth)
		return hp_re_fail(&r, "missing closing )", re, re + strlen(re));
	return 0;
}

/* ---- validity ------------------------------------------------------------ */

/* pathMatchConditionsValid. count=0 skips the one-per-block rule (see
 * hp_policy_route_conditions). */
static int hp_cond_path_valid(const json_t *conds, int count, char *err, size_t errlen)
{
	/* The three path matchers, checked alike; only regexes compile. */
	static const char *const kinds[] = {"prefix", "exact", "regex"};
	static const int slots[] = {HP_C_PREFIX, HP_C_EXACT, HP_C_REGEX};
	int seen[3] = {0, 0, 0};
	size_t i;
	json_t *c;
	char rerr[512];
	json_array_foreach(conds, i, c)
	{
		hp_cond_t cm;
		hp_cond_read(c, &cm);
		for (int k = 0; k < 3; k++) {
			const char *v = hp_cond_str(&cm, slots[k]);
			if (!*v)
				continue;
			seen[k]++;
			if (*v != '/') {
				snprintf(err, errlen,
				         "%s conditions must start with /, %s was supplied",
				         kinds[k], v);
				return -1;
			}
			if (k == 2 && hp_regex_check(v, rerr, sizeof(rerr)) < 0) {
				snprintf(err, errlen, "supplied regex: %s invalid. error: %s", v,
				         rerr);
				return -1;
			}
		}
	}
	/* Inherited conditions are prefixes only, so in a merged list (count
	 * 0) more than one exact/regex can only come from the route's own
	 * block. */
	int paths = count ? seen[0] + seen[1] + seen[2] : seen[1] + seen[2];
	if (paths > 1) {
		snprintf(
		    err, errlen,
		    "more than one prefix, exact or regex is not allowed in a condition block");
		return -1;
	}
	return 0;
}

/* A header condition with its name lower-cased: the key of upstream's
 * seenMatchConditions map, compared field by field. */
typedef struct hp_hdr_key {
	const char *name; /* lower-cased, malloc'd */
	const char *contains, *notcontains, *exact, *notexact, *regex;
	int present, notpresent, ignore_case, tmae;
} hp_hdr_key_t;

static int hp_hdr_key_eq(const hp_hdr_key_t *a, const hp_hdr_key_t *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->contains, b->contains) &&
	       !strcmp(a->notcontains, b->notcontains) && !strcmp(a->exact, b->exact) &&
	       !strcmp(a->notexact, b->notexact) && !strcmp(a->regex, b->regex) &&
	       a->present == b->present && a->notpresent == b->notpresent &&
	       a->ignore_case == b->ignore_case && a->tmae == b->tmae;
}

static int hp_hdr_seen(const hp_hdr_key_t *seen, size_t n, const hp_hdr_key_t *probe)
{
	for (size_t i = 0; i < n; i++) {
		if (hp_hdr_key_eq(&seen[i], probe))
			return 1;
	}
	return 0;
}

static char *hp_cond_lower(const char *s)
{
	char *l = strdup(s);
	if (l) {
		for (char *p = l; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	return l;
}

/* headerMatchConditionsValid. Returns 0, -1 with err, or CONTOUR_ENOMEM. */
static int hp_cond_headers_valid(const json_t *conds, char *err, size_t errlen)
{
	size_t n = json_array_size(conds), nseen = 0, nexact = 0, i;
	hp_hdr_key_t *seen = NULL;
	char **exact_names = NULL;
	const char *msg = NULL;
	int rc = 0;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		hp_cond_t cm, hm;
		hp_cond_read(c, &cm);
		if (!json_is_object(cm.m[HP_C_HEADER]))
			continue;
		/* Most routes match no header: the tables wait for the first. */
		if (!seen) {
			seen = calloc(n, sizeof(*seen));
			exact_names = calloc(n, sizeof(*exact_names));
			if (!seen || !exact_names) {
				rc = CONTOUR_ENOMEM;
				goto fail;
			}
		}
		hp_cond_read(cm.m[HP_C_HEADER], &hm);
		hp_hdr_key_t k = {
		    .name = hp_cond_lower(hp_cond_str(&hm, HP_C_NAME)),
		    .contains = hp_cond_str(&hm, HP_C_CONTAINS),
		    .notcontains = hp_cond_str(&hm, HP_C_NOTCONTAINS),
		    .exact = hp_cond_str(&hm, HP_C_EXACT),
		    .notexact = hp_cond_str(&hm, HP_C_NOTEXACT),
		    .regex = hp_cond_str(&hm, HP_C_REGEX),
		    .present = hp_cond_bool(&hm, HP_C_PRESENT),
		    .notpresent = hp_cond_bool(&hm, HP_C_NOTPRESENT),
		    .ignore_case = hp_cond_bool(&hm, HP_C_IGNORECASE),
		    .tmae = hp_cond_bool(&hm, HP_C_TMAE),
		};
		hp_hdr_key_t probe = {.name = k.name,
		                      .contains = "",
		                      .notcontains = "",
		                      .exact = "",
		                      .notexact = "",
		                      .regex = ""};
		if (!k.name) {
			rc = CONTOUR_ENOMEM;
			goto fail;
		}
		seen[nseen++] = k; /* owns k.name from here; checked below */
		if (k.present) {
			probe.notpresent = 1;
			if (hp_hdr_seen(seen, nseen - 1, &probe))
				msg = "cannot specify contradictory 'present' and 'notpresent' "
				      "conditions for the same route and header";
		} else if (k.notpresent) {
			probe.present = 1;
			if (hp_hdr_seen(seen, nseen - 1, &probe))
				msg = "cannot specify contradictory 'present' and 'notpresent' "
				      "conditions for the same route and header";
		} else if (*k.exact) {
			for (size_t j = 0; j < nexact; j++) {
				if (!strcmp(exact_names[j], k.name))
					msg = "cannot specify duplicate header 'exact match' "
					      "conditions in the same route";
			}
			exact_names[nexact++] = (char *)k.name;
			probe.notexact = k.exact;
			if (!msg && hp_hdr_seen(seen, nseen - 1, &probe))
				msg = "cannot specify contradictory 'exact' and 'notexact' "
				      "conditions for the same route and header";
		} else if (*k.notexact) {
			probe.exact = k.notexact;
			if (hp_hdr_seen(seen, nseen - 1, &probe))
				msg = "cannot specify contradictory 'exact' and 'notexact' "
				      "conditions for the same route and header";
		} else if (*k.contains) {
			probe.notcontains = k.contains;
			if (hp_hdr_seen(seen, nseen - 1, &probe))
				msg = "cannot specify contradictory 'contains' and 'notcontains' "
				      "conditions for the same route and header";
		} else if (*k.notcontains) {
			probe.contains = k.notcontains;
			if (hp_hdr_seen(seen, nseen - 1, &probe))
				msg = "cannot specify contradictory 'contains' and 'notcontains' "
				      "conditions for the same route and header";
		} else if (*k.regex) {
			char rerr[256];
			if (hp_regex_check(k.regex, rerr, sizeof(rerr)) < 0)
				msg = "invalid regular expression specified for 'regex' condition";
		}
		if (msg) {
			snprintf(err, errlen, "%s", msg);
			rc = -1;
			goto fail;
		}
	}
fail:
	if (seen) {
		for (i = 0; i < nseen; i++)
			free((char *)seen[i].name);
	}
	free(seen);
	free(exact_names);
	return rc;
}

/* queryParameterMatchConditionsValid. */
static int hp_cond_queries_valid(const json_t *conds, char *err, size_t errlen)
{
	size_t n = json_array_size(conds), nexact = 0, i;
	char **exact_names = NULL; /* allocated at the first exact match */
	const char *msg = NULL;
	int rc = 0;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		hp_cond_t cm, q;
		hp_cond_read(c, &cm);
		if (!json_is_object(cm.m[HP_C_QUERY]))
			continue;
		hp_cond_read(cm.m[HP_C_QUERY], &q);
		static const int ops[] = {HP_C_EXACT, HP_C_PREFIX, HP_C_SUFFIX, HP_C_REGEX,
		                          HP_C_CONTAINS};
		int set = hp_cond_bool(&q, HP_C_PRESENT);
		for (size_t j = 0; j < sizeof(ops) / sizeof(*ops); j++)
			set += *hp_cond_str(&q, ops[j]) != '\0';
		if (set == 0) {
			msg = "must specify at least one query parameter condition";
			break;
		}
		if (set > 1) {
			msg = "cannot specify more than one condition in the same match condition "
			      "branch";
			break;
		}
		if (*hp_cond_str(&q, HP_C_EXACT)) {
			if (!exact_names && !(exact_names = calloc(n, sizeof(*exact_names)))) {
				rc = CONTOUR_ENOMEM;
				goto fail;
			}
			char *name = hp_cond_lower(hp_cond_str(&q, HP_C_NAME));
			if (!name) {
				rc = CONTOUR_ENOMEM;
				goto fail;
			}
			for (size_t j = 0; j < nexact && !msg; j++) {
				if (!strcmp(exact_names[j], name))
					msg = "cannot specify duplicate query parameter 'exact "
					      "match' "
					      "conditions in the same route";
			}
			exact_names[nexact++] = name;
			if (msg)
				break;
		}
		const char *regex = hp_cond_str(&q, HP_C_REGEX);
		char rerr[256];
		if (*regex && hp_regex_check(regex, rerr, sizeof(rerr)) < 0) {
			msg = "invalid regular expression specified for 'regex' condition";
			break;
		}
	}
	if (msg) {
		snprintf(err, errlen, "%s", msg);
		rc = -1;
	}
fail:
	for (i = 0; i < nexact; i++)
		free(exact_names[i]);
	free(exact_names);
	return rc;
}

/* Header then query validity, with upstream's RouteError reasons. */
static int hp_cond_match_valid(const json_t *conds, hp_status_t *st)
{
	char err[512];
	int rc = hp_cond_headers_valid(conds, err, sizeof(err));
	if (rc == -1)
		hp_status_error(st, "RouteError", "HeaderMatchConditionsNotValid", "%s", err);
	if (rc)
		return rc;
	rc = hp_cond_queries_valid(conds, err, sizeof(err));
	if (rc == -1)
		hp_status_error(st, "RouteError", "QueryParameterMatchConditionsNotValid", "%s",
		                err);
	return rc;
}

int hp_policy_include_conditions(const json_t *conds, hp_status_t *st)
{
	size_t i;
	json_t *c;
	char err[1024];
	json_array_foreach(conds, i, c)
	{
		const char *what = NULL;
		hp_cond_t cm;
		hp_cond_read(c, &cm);
		if (*hp_cond_str(&cm, HP_C_EXACT))
			what = "exact conditions are not allowed in includes block";
		else if (*hp_cond_str(&cm, HP_C_REGEX))
			what = "regex conditions are not allowed in includes block";
		if (what) {
			hp_status_error(st, "IncludeError", "PathMatchConditionsNotValid",
			                "include: %s", what);
			return -1;
		}
	}
	if (hp_cond_path_valid(conds, 1, err, sizeof(err)) < 0) {
		hp_status_error(st, "IncludeError", "PathMatchConditionsNotValid", "include: %s",
		                err);
		return -1;
	}
	return hp_cond_match_valid(conds, st);
}

/* The exact upstream order: the route's own block must hold at most one
 * path condition; header and query rules apply to the merged list. */
int hp_policy_route_conditions_split(const json_t *inherited, const json_t *own, hp_status_t *st)
{
	char err[1024];
	if (hp_cond_path_valid(own, 1, err, sizeof(err)) < 0) {
		hp_status_error(st, "RouteError", "PathMatchConditionsNotValid", "route: %s", err);
		return -1;
	}
	json_t *merged = json_array();
	if (!merged)
		return CONTOUR_ENOMEM;
	if (json_is_array(inherited))
		json_array_extend(merged, (json_t *)inherited);
	if (json_is_array(own))
		json_array_extend(merged, (json_t *)own);
	int rc = hp_cond_match_valid(merged, st);
	json_decref(merged);
	return rc;
}

/* hp.h passes the merged list only, where an inherited prefix cannot be
 * told from the route's own: the one-per-block rule is applied to what
 * only a route can add (exact, regex). A root's routes (nothing inherited)
 * get the full rule through hp_policy_route_conditions_split. */
int hp_policy_route_conditions(const json_t *conds, hp_status_t *st)
{
	char err[1024];
	if (hp_cond_path_valid(conds, 0, err, sizeof(err)) < 0) {
		hp_status_error(st, "RouteError", "PathMatchConditionsNotValid", "route: %s", err);
		return -1;
	}
	return hp_cond_match_valid(conds, st);
}

/* ---- merge ------------------------------------------------------------------ */

/* mergePathMatchConditions: the path strings concatenated, runs of '/'
 * collapsed. */
static int hp_cond_merge_path(contour_dag_t *dag, const json_t *conds,
                              contour_dag_path_match_t *out)
{
	size_t i, len = 0, n = json_array_size(conds);
	json_t *c;
	hp_cond_t cm;
	int regex = 0, exact = 0;
	json_array_foreach(conds, i, c)
	{
		hp_cond_read(c, &cm);
		const char *p = hp_cond_str(&cm, HP_C_PREFIX);
		if (!*p)
			p = hp_cond_str(&cm, HP_C_EXACT);
		if (!*p)
			p = hp_cond_str(&cm, HP_C_REGEX);
		len += strlen(p);
	}
	char *buf = malloc(len + 1), *w = buf;
	if (!buf)
		return CONTOUR_ENOMEM;
	json_array_foreach(conds, i, c)
	{
		hp_cond_read(c, &cm);
		const char *p = hp_cond_str(&cm, HP_C_PREFIX);
		/* Whether the last condition is an exact one (prefix unset). */
		exact = !*p && *hp_cond_str(&cm, HP_C_EXACT);
		if (!*p)
			p = hp_cond_str(&cm, HP_C_EXACT);
		if (!*p && *(p = hp_cond_str(&cm, HP_C_REGEX)))
			regex = 1;
		for (; *p; p++) {
			if (*p == '/' && w > buf && w[-1] == '/')
				continue;
			*w++ = *p;
		}
	}
	*w = '\0';
	out->type = CONTOUR_DAG_PATH_PREFIX;
	if (!*buf || n == 0) {
		out->value = contour_dag_strdup(dag, "/");
	} else {
		if (regex)
			out->type = CONTOUR_DAG_PATH_REGEX;
		else if (exact)
			out->type = CONTOUR_DAG_PATH_EXACT;
		out->value = contour_dag_strdup(dag, buf);
	}
	free(buf);
	return out->value ? 0 : CONTOUR_ENOMEM;
}

/* headerMatchConditions for one condition; 0 when it sets no operator.
 * present/notpresent first, then the string operators in upstream's order;
 * the negated ones honour treatMissingAsEmpty. */
static int hp_cond_header_match(const json_t *hdr, contour_dag_header_match_t *m)
{
	static const struct {
		int slot;
		contour_dag_match_type_t type;
		int invert, folds;
	} ops[] = {
	    {HP_C_CONTAINS, CONTOUR_DAG_MATCH_CONTAINS, 0, 1},
	    {HP_C_NOTCONTAINS, CONTOUR_DAG_MATCH_CONTAINS, 1, 1},
	    {HP_C_EXACT, CONTOUR_DAG_MATCH_EXACT, 0, 1},
	    {HP_C_NOTEXACT, CONTOUR_DAG_MATCH_EXACT, 1, 1},
	    {HP_C_REGEX, CONTOUR_DAG_MATCH_REGEX, 0, 0},
	};
	hp_cond_t h;
	memset(m, 0, sizeof(*m));
	if (!json_is_object(hdr))
		return 0;
	hp_cond_read(hdr, &h);
	m->name = hp_cond_str(&h, HP_C_NAME);
	if (hp_cond_bool(&h, HP_C_PRESENT) || hp_cond_bool(&h, HP_C_NOTPRESENT)) {
		m->type = CONTOUR_DAG_MATCH_PRESENT;
		m->invert = !hp_cond_bool(&h, HP_C_PRESENT);
		return 1;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
		if (*hp_cond_str(&h, ops[i].slot)) {
			m->type = ops[i].type;
			m->value = hp_cond_str(&h, ops[i].slot);
			m->invert = ops[i].invert;
			m->ignore_case = ops[i].folds && hp_cond_bool(&h, HP_C_IGNORECASE);
			m->treat_missing_as_empty = ops[i].invert && hp_cond_bool(&h, HP_C_TMAE);
			return 1;
		}
	}
	return 0;
}

/* queryParameterMatchConditions for one condition. */
static int hp_cond_query_match(const json_t *query, contour_dag_query_match_t *m)
{
	static const struct {
		int slot;
		contour_dag_match_type_t type;
		int folds;
	} ops[] = {
	    {HP_C_EXACT, CONTOUR_DAG_MATCH_EXACT, 1},
	    {HP_C_PREFIX, CONTOUR_DAG_MATCH_PREFIX, 1},
	    {HP_C_SUFFIX, CONTOUR_DAG_MATCH_SUFFIX, 1},
	    {HP_C_REGEX, CONTOUR_DAG_MATCH_REGEX, 0},
	    {HP_C_CONTAINS, CONTOUR_DAG_MATCH_CONTAINS, 1},
	};
	hp_cond_t q;
	memset(m, 0, sizeof(*m));
	if (!json_is_object(query))
		return 0;
	hp_cond_read(query, &q);
	m->name = hp_cond_str(&q, HP_C_NAME);
	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
		if (*hp_cond_str(&q, ops[i].slot)) {
			m->type = ops[i].type;
			m->value = hp_cond_str(&q, ops[i].slot);
			m->ignore_case = ops[i].folds && hp_cond_bool(&q, HP_C_IGNORECASE);
			return 1;
		}
	}
	if (hp_cond_bool(&q, HP_C_PRESENT)) {
		m->type = CONTOUR_DAG_MATCH_PRESENT;
		return 1;
	}
	return 0;
}

int hp_policy_merge_conditions(contour_dag_t *dag, const json_t *conds, contour_dag_route_t *route)
{
	size_t i;
	json_t *c;
	int rc = hp_cond_merge_path(dag, conds, &route->path);
	if (rc)
		return rc;
	json_array_foreach(conds, i, c)
	{
		contour_dag_header_match_t hm;
		contour_dag_query_match_t qm;
		hp_cond_t cm;
		hp_cond_read(c, &cm);
		if (hp_cond_header_match(cm.m[HP_C_HEADER], &hm)) {
			hm.name = contour_dag_strdup(dag, hm.name);
			hm.value = hm.value ? contour_dag_strdup(dag, hm.value) : NULL;
			contour_dag_header_match_t *slot =
			    hm.name ? contour_dag_header_match_push(dag, &route->headers,
			                                            &route->nheaders)
			            : NULL;
			if (!slot)
				return CONTOUR_ENOMEM;
			*slot = hm;
		}
		if (hp_cond_query_match(cm.m[HP_C_QUERY], &qm)) {
			qm.name = contour_dag_strdup(dag, qm.name);
			qm.value = qm.value ? contour_dag_strdup(dag, qm.value) : NULL;
			contour_dag_query_match_t *slot =
			    qm.name ? contour_dag_query_match_push(dag, &route->queries,
			                                           &route->nqueries)
			            : NULL;
			if (!slot)
				return CONTOUR_ENOMEM;
			*slot = qm;
		}
	}
	return 0;
}

/* ---- duplicate include conditions ------------------------------------------ */

struct hp_seen {
	char **keys;
	size_t nkeys;
};

hp_seen_t *hp_seen_new(void)
{
	return calloc(1, sizeof(hp_seen_t));
}

void hp_seen_free(hp_seen_t *seen)
{
	if (!seen)
		return;
	for (size_t i = 0; i < seen->nkeys; i++)
		free(seen->keys[i]);
	free(seen->keys);
	free(seen);
}

static char *hp_cond_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *hp_cond_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = n < 0 ? NULL : malloc((size_t)n + 1);
	if (s) {
		va_start(ap, fmt);
		vsnprintf(s, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	return s;
}

static int hp_seen_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends "\x1e" + each sorted entry to *buf; entries are freed. */
static int hp_seen_append_sorted(char **buf, size_t *len, char **entries, size_t n)
{
	qsort(entries, n, sizeof(*entries), hp_seen_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t el = strlen(entries[i]);
		char *grown = realloc(*buf, *len + el + 2);
		if (!grown)
			return CONTOUR_ENOMEM;
		*buf = grown;
		grown[(*len)++] = '\x1e';
		memcpy(grown + *len, entries[i], el + 1);
		*len += el;
	}
	return 0;
}

/* includeMatchConditionsIdentical: the key is the merged prefix plus the
 * sorted header and query conditions, every field of each, so two keys are
 * equal exactly when upstream's sorted element-wise comparison is. */
int hp_seen_check_add(hp_seen_t *seen, const json_t *conds)
{
	size_t n = json_array_size(conds), nh = 0, nq = 0, i, len;
	char **hs = calloc(n ? n : 1, sizeof(*hs)), **qs = calloc(n ? n : 1, sizeof(*qs));
	char *key = NULL, *prefix = NULL;
	int dup = 0;
	json_t *c;
	if (!hs || !qs)
		goto fail;

	/* Include conditions are validated prefixes, so the merge is a plain
	 * concatenation with '/' runs collapsed. */
	hp_cond_t cm;
	len = 0;
	json_array_foreach(conds, i, c)
	{
		hp_cond_read(c, &cm);
		len += strlen(hp_cond_str(&cm, HP_C_PREFIX));
	}
	if (!(prefix = malloc(len + 2)))
		goto fail;
	char *w = prefix;
	json_array_foreach(conds, i, c)
	{
		hp_cond_read(c, &cm);
		if (*hp_cond_str(&cm, HP_C_EXACT) || *hp_cond_str(&cm, HP_C_REGEX)) {
			dup = 1; /* upstream: "can never happen", treated as identical */
			goto fail;
		}
		for (const char *p = hp_cond_str(&cm, HP_C_PREFIX); *p; p++) {
			if (*p == '/' && w > prefix && w[-1] == '/')
				continue;
			*w++ = *p;
		}
	}
	if (w == prefix)
		*w++ = '/';
	*w = '\0';

	json_array_foreach(conds, i, c)
	{
		contour_dag_header_match_t hm;
		contour_dag_query_match_t qm;
		hp_cond_read(c, &cm);
		if (hp_cond_header_match(cm.m[HP_C_HEADER], &hm) &&
		    !(hs[nh++] = hp_cond_printf(
		          "%d\x1f%d\x1f%d\x1f%d\x1f%s\x1f%s", (int)hm.type, hm.ignore_case,
		          hm.invert, hm.treat_missing_as_empty, hm.name, hm.value ? hm.value : "")))
			goto fail;
		if (hp_cond_query_match(cm.m[HP_C_QUERY], &qm) &&
		    !(qs[nq++] = hp_cond_printf("%d\x1f%d\x1f%s\x1f%s", (int)qm.type,
		                                qm.ignore_case, qm.name, qm.value ? qm.value : "")))
			goto fail;
	}
	/* A bare "/" (or nothing) is never a duplicate: upstream keeps this
	 * for trees that rely on it. */
	if (!strcmp(prefix, "/") && nh == 0 && nq == 0)
		goto fail;

	len = strlen(prefix);
	key = prefix;
	prefix = NULL;
	if (hp_seen_append_sorted(&key, &len, hs, nh) < 0)
		goto fail;
	char *grown = realloc(key, len + 2);
	if (!grown)
		goto fail;
	key = grown;
	key[len++] = '\x1d';
	key[len] = '\0';
	if (hp_seen_append_sorted(&key, &len, qs, nq) < 0)
		goto fail;

	for (i = 0; i < seen->nkeys; i++) {
		if (!strcmp(seen->keys[i], key)) {
			dup = 1;
			goto fail;
		}
	}
	char **keys = realloc(seen->keys, (seen->nkeys + 1) * sizeof(*keys));
	if (!keys)
		goto fail;
	seen->keys = keys;
	seen->keys[seen->nkeys++] = key;
	key = NULL;
fail:
	for (i = 0; i < nh; i++)
		free(hs[i]);
	for (i = 0; i < nq; i++)
		free(qs[i]);
	free(hs);
	free(qs);
	free(prefix);
	free(key);
	return dup;
}
