/* modules/shutdown-manager/sm_prom.c: the Prometheus text format parser.
 *
 * The grammar is the one Prometheus' own text parser accepts
 * (expfmt/text_parse.go), line by line:
 *
 *   # HELP name docstring        (escapes \\ and \n)
 *   # TYPE name counter|gauge|histogram|summary|untyped
 *   # anything else              (a comment)
 *   name[{label="value",...[,]}] value [timestamp]
 *
 * Label values escape \\, \" and \n; any other escape is malformed, as is a
 * duplicate label name, a second TYPE or HELP for one family, a bad name, a
 * value that is not a float (NaN, +Inf, -Inf and Inf in any case are) and a
 * timestamp that is not a 64-bit integer. Each line is copied into one
 * scratch buffer and parsed in place, so the input is never modified and a
 * sample's strings live until the callback returns. */
#include "modules/shutdown-manager/sm_prom.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

typedef struct sm_prom_families {
	char **help, **type_names, **types;
	size_t nhelp, ntype, cap_help, cap_type;
} sm_prom_families_t;

typedef struct sm_prom_parser {
	char *line; /* scratch: the current line, NUL-terminated */
	size_t lineno;
	char *err;
	size_t errlen;
	sm_prom_families_t fam;
} sm_prom_parser_t;

static int sm_prom_fail(sm_prom_parser_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int sm_prom_fail(sm_prom_parser_t *p, const char *fmt, ...)
{
	if (p->err && p->errlen) {
		int n = snprintf(p->err, p->errlen, "line %zu: ", p->lineno);
		if (n >= 0 && (size_t)n < p->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return SM_PROM_EPARSE;
}

static int sm_prom_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *sm_prom_skip_blanks(char *s)
{
	while (sm_prom_is_blank(*s))
		s++;
	return s;
}

static int sm_prom_name_start(char c, int metric)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
}

static int sm_prom_name_char(char c, int metric)
{
	return sm_prom_name_start(c, metric) || (c >= '0' && c <= '9');
}

/* sm_prom_name: the end of a metric (metric=1) or label name at s, or NULL
 * when s does not start one. */
static char *sm_prom_name(char *s, int metric)
{
	if (!sm_prom_name_start(*s, metric))
		return NULL;
	while (sm_prom_name_char(*s, metric))
		s++;
	return s;
}

/* The set of names that already had a HELP or TYPE line. Families are few
 * (tens with Envoy's filter), so a linear scan is the simple choice. */
static int sm_prom_names_add(char ***names, size_t *n, size_t *cap, const char *name)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char **nn = realloc(*names, ncap * sizeof(*nn));
		if (!nn)
			return SM_PROM_ENOMEM;
		*names = nn;
		*cap = ncap;
	}
	if (!((*names)[*n] = strdup(name)))
		return SM_PROM_ENOMEM;
	(*n)++;
	return 0;
}

static ssize_t sm_prom_names_find(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return (ssize_t)i;
	return -1;
}

static void sm_prom_families_fini(sm_prom_families_t *f)
{
	for (size_t i = 0; i < f->nhelp; i++)
		free(f->help[i]);
	for (size_t i = 0; i < f->ntype; i++) {
		free(f->type_names[i]);
		free(f->types[i]);
	}
	free(f->help);
	free(f->type_names);
	free(f->types);
	memset(f, 0, sizeof(*f));
}

static const char *const sm_prom_types[] = {"counter", "gauge", "histogram", "summary",
                                            "untyped", NULL};

/* The TYPE of the family a sample belongs to: its own name, or for
 * histograms and summaries the name without _bucket, _sum or _count. */
static const char *sm_prom_type_of(sm_prom_parser_t *p, const char *name)
{
	ssize_t i = sm_prom_names_find(p->fam.type_names, p->fam.ntype, name);
	if (i >= 0)
		return p->fam.types[i];
	static const char *const suffixes[] = {"_bucket", "_sum", "_count", NULL};
	size_t len = strlen(name);
	for (const char *const *sfx = suffixes; *sfx; sfx++) {
		size_t sl = strlen(*sfx);
		if (len <= sl || strcmp(name + len - sl, *sfx))
			continue;
		for (size_t j = 0; j < p->fam.ntype; j++) {
			const char *t = p->fam.types[j];
			if (strlen(p->fam.type_names[j]) == len - sl &&
			    !strncmp(p->fam.type_names[j], name, len - sl) &&
			    (!strcmp(t, "histogram") || !strcmp(t, "summary")))
				return t;
		}
	}
	return "untyped";
}

/* "# HELP name doc", "# TYPE name type" or a plain comment. s is past '#'. */
static int sm_prom_comment(sm_prom_parser_t *p, char *s)
{
	s = sm_prom_skip_blanks(s);
	int help = !strncmp(s, "HELP", 4) && (sm_prom_is_blank(s[4]) || !s[4]);
	int type = !strncmp(s, "TYPE", 4) && (sm_prom_is_blank(s[4]) || !s[4]);
	if (!help && !type)
		return 0; /* an ordinary comment */
	s = sm_prom_skip_blanks(s + 4);
	char *end = sm_prom_name(s, 1);
	if (!end)
		return sm_prom_fail(p, "%s: invalid metric name", help ? "HELP" : "TYPE");
	if (*end && !sm_prom_is_blank(*end))
		return sm_prom_fail(p, "%s: invalid metric name", help ? "HELP" : "TYPE");
	char *rest = *end ? end + 1 : end;
	*end = '\0';
	const char *name = s;
	if (help) {
		/* The docstring may escape only backslash and newline. */
		for (char *c = rest; *c; c++) {
			if (*c != '\\')
				continue;
			if (c[1] != '\\' && c[1] != 'n')
				return sm_prom_fail(p, "HELP %s: invalid escape sequence", name);
			c++;
		}
		if (sm_prom_names_find(p->fam.help, p->fam.nhelp, name) >= 0)
			return sm_prom_fail(p, "second HELP line for metric name %s", name);
		return sm_prom_names_add(&p->fam.help, &p->fam.nhelp, &p->fam.cap_help, name);
	}
	rest = sm_prom_skip_blanks(rest);
	char *tend = rest;
	while (*tend && !sm_prom_is_blank(*tend))
		tend++;
	if (*sm_prom_skip_blanks(tend))
		return sm_prom_fail(p, "TYPE %s: unexpected text after the type", name);
	*tend = '\0';
	const char *const *t = sm_prom_types;
	while (*t && strcmp(*t, rest))
		t++;
	if (!*t)
		return sm_prom_fail(p, "TYPE %s: unknown metric type '%s'", name, rest);
	if (sm_prom_names_find(p->fam.type_names, p->fam.ntype, name) >= 0)
		return sm_prom_fail(p, "second TYPE line for metric name %s", name);
	size_t cap = p->fam.cap_type;
	int rc = sm_prom_names_add(&p->fam.type_names, &p->fam.ntype, &p->fam.cap_type, name);
	if (rc)
		return rc;
	/* Keep types[] as large as type_names[]. */
	if (p->fam.cap_type != cap) {
		char **nt = realloc(p->fam.types, p->fam.cap_type * sizeof(*nt));
		if (!nt)
			goto nomem;
		p->fam.types = nt;
	}
	if (!(p->fam.types[p->fam.ntype - 1] = strdup(*t)))
		goto nomem;
	return 0;
nomem:
	/* Undo the name so _fini frees only what has a type. */
	free(p->fam.type_names[--p->fam.ntype]);
	return SM_PROM_ENOMEM;
}

/* The label set at s (just past '{'); unescapes values in place (they only
 * get shorter). *out is set past the closing '}'. */
static int sm_prom_labels(sm_prom_parser_t *p, char *s, sm_prom_sample_t *smp, char **out)
{
	for (;;) {
		s = sm_prom_skip_blanks(s);
		if (*s == '}') {
			*out = s + 1;
			return 0;
		}
		char *nend = sm_prom_name(s, 0);
		if (!nend)
			return sm_prom_fail(p, "invalid label name");
		char *name = s;
		s = sm_prom_skip_blanks(nend);
		if (*s != '=')
			return sm_prom_fail(p, "expected '=' after label name");
		*nend = '\0';
		s = sm_prom_skip_blanks(s + 1);
		if (*s != '"')
			return sm_prom_fail(p, "expected '\"' to start label value");
		char *value = ++s, *w = s;
		for (;;) {
			if (!*s)
				return sm_prom_fail(p, "unterminated label value");
			if (*s == '"')
				break;
			if (*s == '\\') {
				s++;
				if (*s == '\\' || *s == '"')
					*w++ = *s++;
				else if (*s == 'n') {
					*w++ = '\n';
					s++;
				} else
					return sm_prom_fail(p, "invalid escape sequence in label value");
				continue;
			}
			*w++ = *s++;
		}
		s++; /* past the closing quote, before w's NUL can overwrite it */
		*w = '\0';
		for (size_t i = 0; i < smp->nlabels; i++)
			if (!strcmp(smp->label_names[i], name))
				return sm_prom_fail(p, "duplicate label name %s", name);
		if (smp->nlabels == SM_PROM_MAX_LABELS)
			return sm_prom_fail(p, "more than %d labels", SM_PROM_MAX_LABELS);
		smp->label_names[smp->nlabels] = name;
		smp->label_values[smp->nlabels] = value;
		smp->nlabels++;
		s = sm_prom_skip_blanks(s);
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s != '}')
			return sm_prom_fail(p, "expected ',' or '}' after label value");
	}
}

/* A float as Go's strconv.ParseFloat reads it in the text format: decimal
 * with optional exponent, or NaN/Inf words. Hex floats and locale forms that
 * strtod would also take are refused. */
static int sm_prom_float(const char *s, double *v)
{
	const char *w = s;
	if (*w == '+' || *w == '-')
		w++;
	if (!strcasecmp(w, "inf") || !strcasecmp(w, "infinity")) {
		*v = *s == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (!strcasecmp(s, "nan")) {
		*v = NAN;
		return 0;
	}
	int digits = 0;
	for (const char *c = w; *c; c++) {
		if (*c >= '0' && *c <= '9')
			digits = 1;
		else if (*c != '.' && *c != 'e' && *c != 'E' && *c != '+' && *c != '-')
			return -1;
	}
	if (!digits)
		return -1;
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	/* ERANGE: Go returns +-Inf or 0 with an error; refuse it too. */
	if (*end || end == s || errno == ERANGE)
		return -1;
	return 0;
}

static int sm_prom_int64(const char *s, int64_t *v)
{
	const char *d = s;
	if (*d == '-' || *d == '+')
		d++;
	if (!*d)
		return -1;
	for (const char *c = d; *c; c++)
		if (*c < '0' || *c > '9')
			return -1;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (*end || errno == ERANGE)
		return -1;
	*v = (int64_t)x;
	return 0;
}

static int sm_prom_sample(sm_prom_parser_t *p, char *s, sm_prom_sample_fn fn, void *ud)
{
	sm_prom_sample_t smp;
	smp.nlabels = 0;
	smp.has_timestamp = 0;
	smp.timestamp_ms = 0;
	char *nend = sm_prom_name(s, 1);
	if (!nend)
		return sm_prom_fail(p, "invalid metric name");
	char *rest = nend;
	int rc;
	char *q = sm_prom_skip_blanks(nend);
	if (*q == '{') {
		*nend = '\0'; /* may be the '{' itself: the labels start past it */
		if ((rc = sm_prom_labels(p, q + 1, &smp, &rest)))
			return rc;
		if (!sm_prom_is_blank(*rest))
			return sm_prom_fail(p, *rest ? "expected a blank before the value"
			                             : "missing value");
	} else {
		if (!sm_prom_is_blank(*rest))
			return sm_prom_fail(p, *rest ? "invalid metric name" : "missing value");
		*nend = '\0';
		rest++;
	}
	smp.name = s;
	char *v = sm_prom_skip_blanks(rest);
	char *vend = v;
	while (*vend && !sm_prom_is_blank(*vend))
		vend++;
	char *ts = sm_prom_skip_blanks(vend);
	*vend = '\0';
	if (!*v)
		return sm_prom_fail(p, "missing value");
	if (sm_prom_float(v, &smp.value))
		return sm_prom_fail(p, "invalid value '%.32s'", v);
	if (*ts) {
		char *tend = ts;
		while (*tend && !sm_prom_is_blank(*tend))
			tend++;
		if (*sm_prom_skip_blanks(tend))
			return sm_prom_fail(p, "unexpected text after the timestamp");
		*tend = '\0';
		if (sm_prom_int64(ts, &smp.timestamp_ms))
			return sm_prom_fail(p, "invalid timestamp '%.32s'", ts);
		smp.has_timestamp = 1;
	}
	smp.type = sm_prom_type_of(p, smp.name);
	return fn ? fn(&smp, ud) : 0;
}

int sm_prom_parse(const char *text, size_t len, sm_prom_sample_fn fn, void *ud, char *err,
                  size_t errlen)
{
	sm_prom_parser_t p = {.err = err, .errlen = errlen};
	int rc = 0;
	if (err && errlen)
		err[0] = '\0';
	if (memchr(text, '\0', len)) {
		p.lineno = 1;
		for (size_t i = 0; i < len && text[i]; i++)
			p.lineno += text[i] == '\n';
		return sm_prom_fail(&p, "NUL byte");
	}
	size_t linecap = 0;
	for (size_t off = 0; off < len && rc == 0;) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		p.lineno++;
		if (n + 1 > linecap) {
			char *nb = realloc(p.line, n + 1);
			if (!nb) {
				rc = SM_PROM_ENOMEM;
				break;
			}
			p.line = nb;
			linecap = n + 1;
		}
		memcpy(p.line, text + off, n);
		p.line[n] = '\0';
		/* A CR before the LF is tolerated, as Go's bufio would not:
		 * Envoy never sends one, and refusing it helps nobody. */
		if (n && p.line[n - 1] == '\r')
			p.line[n - 1] = '\0';
		off += n + (nl ? 1 : 0);
		char *s = sm_prom_skip_blanks(p.line);
		if (!*s)
			continue;
		if (*s == '#')
			rc = sm_prom_comment(&p, s + 1);
		else
			rc = sm_prom_sample(&p, s, fn, ud);
	}
	free(p.line);
	sm_prom_families_fini(&p.fam);
	return rc;
}
