/* modules/k8s-watch/kw_secretscan.c: drop the payload of uninteresting
 * Secrets from the raw JSON text, before jansson sees it.
 *
 * A Helm release Secret carries ~50 KB of base64; jansson builds such a
 * string byte by byte only for kw_secret_filter to throw it away, and
 * 20,000 of them made the first sync 14 times slower. This scanner walks
 * the text once: strings are checked eight bytes at a time and never
 * copied (only keys and `type` are decoded, into small buffers), and the
 * `data` / `stringData` members kw_secret_filter would delete are cut out
 * of a copy of the text.
 *
 * It must never change what the caller ends up with. Two rules make that
 * hold:
 *  - what is cut is validated exactly as jansson 2.14 reads it (UTF-8,
 *    escapes, surrogates, no NUL, number ranges, nesting depth, and with
 *    JSON_REJECT_DUPLICATES the keys it would have seen), so the copy
 *    fails to parse exactly when the original does; the parts kept are
 *    the original bytes;
 *  - whenever in doubt (text jansson would refuse, a Secret whose cut
 *    could hide a duplicate key, flags not understood) the text or the
 *    Secret is left as it is: kw_secret_filter, run on the parsed object,
 *    stays the final authority and takes care of it, only slower.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modules/k8s-watch/kw.h"

#define KW_SS_MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */
#define KW_SS_KEYS      64   /* keys of a cut object checked for duplicates */
#define KW_SS_KEYLEN    128

enum { KW_SS_OTHER, KW_SS_DATA, KW_SS_STRINGDATA, KW_SS_TYPE };

typedef struct kw_ss_member {
	size_t start, end; /* from the key's quote to the end of the value */
	int what;
} kw_ss_member_t;

typedef struct kw_ss {
	const char *p;
	size_t n, i;
	int strict; /* JSON_REJECT_DUPLICATES */
	int bad;    /* jansson would refuse the text */
	int nomem;
	size_t objects; /* objects entered so far */
	/* the Secret being scanned (Secrets do not nest) */
	kw_ss_member_t *m;
	size_t nm, mcap;
	int is_tls, has_ca, unsafe;
	size_t ndata, nstringdata;
	/* keys of the data / stringData object being scanned (strict mode) */
	char keys[KW_SS_KEYS][KW_SS_KEYLEN];
	size_t keylen[KW_SS_KEYS];
	size_t nkeys;
	/* the filtered copy, once something is cut */
	char *out;
	size_t outlen, copied;
} kw_ss_t;

static int kw_ss_value(kw_ss_t *s, int depth);

static void kw_ss_ws(kw_ss_t *s)
{
	while (s->i < s->n) {
		char c = s->p[s->i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		s->i++;
	}
}

static int kw_ss_fail(kw_ss_t *s)
{
	s->bad = 1;
	return -1;
}

/* Any byte that needs a closer look: < 0x20, >= 0x80, '"' or '\\'. Exact
 * as to whether one exists (the borrow tricks only err when an earlier
 * byte already matched). */
static int kw_ss_special8(const char *p)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t v, q, b;
	memcpy(&v, p, 8);
	q = v ^ (ones * '"');
	b = v ^ (ones * '\\');
	return ((v & high) | ((v - ones * 0x20) & ~v & high) | ((q - ones) & ~q & high) |
	        ((b - ones) & ~b & high)) != 0;
}

/* The length of a UTF-8 sequence jansson accepts at p (n bytes left), or 0. */
static size_t kw_ss_utf8(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* The second byte rules out overlong forms, surrogates, > U+10FFFF. */
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 2; k < len; k++)
		if (p[k] < 0x80 || p[k] > 0xBF)
			return 0;
	return len;
}

static int kw_ss_hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int k = 0; k < 4; k++) {
		char c = p[k];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

static void kw_ss_put(char *dec, size_t cap, size_t *len, int *over, const char *b, size_t n)
{
	if (!dec)
		return;
	if (*len + n > cap) {
		*over = 1;
		return;
	}
	memcpy(dec + *len, b, n);
	*len += n;
}

/* A string at s->i (on its quote). With dec, its decoded bytes go there
 * (*over set when they do not fit in cap). */
static int kw_ss_string(kw_ss_t *s, char *dec, size_t cap, size_t *declen, int *over)
{
	const char *p = s->p;
	size_t i = s->i + 1, n = s->n, len = 0;
	int ov = 0;
	for (;;) {
		size_t run = i;
		while (n - i >= 8 && !kw_ss_special8(p + i))
			i += 8;
		while (i < n) {
			unsigned char c = (unsigned char)p[i];
			if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
				break;
			i++;
		}
		kw_ss_put(dec, cap, &len, &ov, p + run, i - run);
		if (i >= n)
			return kw_ss_fail(s);
		unsigned char c = (unsigned char)p[i];
		if (c == '"')
			break;
		if (c < 0x20)
			return kw_ss_fail(s);
		if (c >= 0x80) {
			size_t l = kw_ss_utf8((const unsigned char *)p + i, n - i);
			if (!l)
				return kw_ss_fail(s);
			kw_ss_put(dec, cap, &len, &ov, p + i, l);
			i += l;
			continue;
		}
		/* an escape */
		if (n - i < 2)
			return kw_ss_fail(s);
		char e = p[i + 1], b[4];
		const char *simple = strchr("\"\\/bfnrt", e);
		if (e && simple) {
			static const char to[] = "\"\\/\b\f\n\r\t";
			b[0] = to[simple - "\"\\/bfnrt"];
			kw_ss_put(dec, cap, &len, &ov, b, 1);
			i += 2;
			continue;
		}
		unsigned v, v2;
		if (e != 'u' || n - i < 6 || kw_ss_hex4(p + i + 2, &v))
			return kw_ss_fail(s);
		i += 6;
		if (v >= 0xD800 && v <= 0xDBFF) {
			if (n - i < 6 || p[i] != '\\' || p[i + 1] != 'u' ||
			    kw_ss_hex4(p + i + 2, &v2) || v2 < 0xDC00 || v2 > 0xDFFF)
				return kw_ss_fail(s);
			i += 6;
			v = 0x10000 + ((v - 0xD800) << 10) + (v2 - 0xDC00);
		} else if (v >= 0xDC00 && v <= 0xDFFF) {
			return kw_ss_fail(s);
		}
		if (v == 0) /* no JSON_ALLOW_NUL, and never in keys */
			return kw_ss_fail(s);
		size_t bl;
		if (v < 0x80) {
			b[0] = (char)v;
			bl = 1;
		} else if (v < 0x800) {
			b[0] = (char)(0xC0 | (v >> 6));
			b[1] = (char)(0x80 | (v & 0x3F));
			bl = 2;
		} else if (v < 0x10000) {
			b[0] = (char)(0xE0 | (v >> 12));
			b[1] = (char)(0x80 | ((v >> 6) & 0x3F));
			b[2] = (char)(0x80 | (v & 0x3F));
			bl = 3;
		} else {
			b[0] = (char)(0xF0 | (v >> 18));
			b[1] = (char)(0x80 | ((v >> 12) & 0x3F));
			b[2] = (char)(0x80 | ((v >> 6) & 0x3F));
			b[3] = (char)(0x80 | (v & 0x3F));
			bl = 4;
		}
		kw_ss_put(dec, cap, &len, &ov, b, bl);
	}
	s->i = i + 1;
	if (declen)
		*declen = len;
	if (over)
		*over = ov;
	return 0;
}

static int kw_ss_digits(kw_ss_t *s)
{
	size_t from = s->i;
	while (s->i < s->n && s->p[s->i] >= '0' && s->p[s->i] <= '9')
		s->i++;
	return s->i > from ? 0 : kw_ss_fail(s);
}

/* jansson's number grammar and ranges: integers must fit a long long,
 * reals must not overflow. */
static int kw_ss_number(kw_ss_t *s)
{
	size_t from = s->i;
	int real = 0;
	char buf[64];
	if (s->p[s->i] == '-')
		s->i++;
	if (s->i < s->n && s->p[s->i] == '0') {
		s->i++;
		if (s->i < s->n && s->p[s->i] >= '0' && s->p[s->i] <= '9')
			return kw_ss_fail(s);
	} else if (kw_ss_digits(s)) {
		return -1;
	}
	if (s->i < s->n && s->p[s->i] == '.') {
		real = 1;
		s->i++;
		if (kw_ss_digits(s))
			return -1;
	}
	if (s->i < s->n && (s->p[s->i] == 'e' || s->p[s->i] == 'E')) {
		real = 1;
		s->i++;
		if (s->i < s->n && (s->p[s->i] == '+' || s->p[s->i] == '-'))
			s->i++;
		if (kw_ss_digits(s))
			return -1;
	}
	/* Longer numbers are left to jansson: treat them as refused. */
	if (s->i - from >= sizeof(buf))
		return kw_ss_fail(s);
	memcpy(buf, s->p + from, s->i - from);
	buf[s->i - from] = '\0';
	errno = 0;
	if (!real) {
		(void)strtoll(buf, NULL, 10);
		if (errno == ERANGE)
			return kw_ss_fail(s);
	} else {
		double d = strtod(buf, NULL);
		if (errno == ERANGE && (d > 1.0 || d < -1.0))
			return kw_ss_fail(s);
	}
	return 0;
}

static int kw_ss_literal(kw_ss_t *s, const char *lit)
{
	size_t l = strlen(lit);
	if (s->n - s->i < l || memcmp(s->p + s->i, lit, l))
		return kw_ss_fail(s);
	s->i += l;
	/* jansson reads a whole identifier: "truex" is no "true". */
	if (s->i < s->n) {
		char c = s->p[s->i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			return kw_ss_fail(s);
	}
	return 0;
}

/* kw_ss_open: past an object's or array's opening bracket and whitespace;
 * 1 when the closing one follows at once (consumed: it is empty). */
static int kw_ss_open(kw_ss_t *s, char close)
{
	s->i++;
	kw_ss_ws(s);
	if (s->i < s->n && s->p[s->i] == close) {
		s->i++;
		return 1;
	}
	return 0;
}

/* kw_ss_more: after a member or element, 1 past a comma (another follows),
 * 0 past the closing bracket, -1 for anything else. */
static int kw_ss_more(kw_ss_t *s, char close)
{
	kw_ss_ws(s);
	if (s->i >= s->n)
		return kw_ss_fail(s);
	if (s->p[s->i] == close) {
		s->i++;
		return 0;
	}
	if (s->p[s->i] != ',')
		return kw_ss_fail(s);
	s->i++;
	kw_ss_ws(s);
	return 1;
}

/* An object's members: for each, the key (decoded into key/keylen, *over
 * when longer than KW_SS_KEYLEN) then fn to read the value. */
typedef int (*kw_ss_member_fn)(kw_ss_t *s, int depth, size_t start, const char *key, size_t keylen,
                               int over, void *ud);

static int kw_ss_object(kw_ss_t *s, int depth, kw_ss_member_fn fn, void *ud)
{
	char key[KW_SS_KEYLEN];
	s->objects++;
	if (kw_ss_open(s, '}'))
		return 0;
	int r;
	do {
		size_t klen = 0, start = s->i;
		int over = 0;
		if (s->i >= s->n || s->p[s->i] != '"')
			return kw_ss_fail(s);
		if (kw_ss_string(s, key, sizeof(key), &klen, &over))
			return -1;
		kw_ss_ws(s);
		if (s->i >= s->n || s->p[s->i] != ':')
			return kw_ss_fail(s);
		s->i++;
		kw_ss_ws(s);
		if (fn(s, depth + 1, start, key, klen, over, ud))
			return -1;
	} while ((r = kw_ss_more(s, '}')) > 0);
	return r;
}

static int kw_ss_any_member(kw_ss_t *s, int depth, size_t start, const char *key, size_t keylen,
                            int over, void *ud)
{
	(void)start, (void)key, (void)keylen, (void)over, (void)ud;
	return kw_ss_value(s, depth);
}

/* An array's elements, each read by fn (or as any value). */
typedef int (*kw_ss_elem_fn)(kw_ss_t *s, int depth, void *ud);

static int kw_ss_array(kw_ss_t *s, int depth, kw_ss_elem_fn fn, void *ud)
{
	if (kw_ss_open(s, ']'))
		return 0;
	int r;
	do {
		if (fn ? fn(s, depth + 1, ud) : kw_ss_value(s, depth + 1))
			return -1;
	} while ((r = kw_ss_more(s, ']')) > 0);
	return r;
}

/* Any value at s->i (whitespace skipped before), depth as jansson counts. */
static int kw_ss_value(kw_ss_t *s, int depth)
{
	if (depth > KW_SS_MAX_DEPTH || s->i >= s->n)
		return kw_ss_fail(s);
	switch (s->p[s->i]) {
	case '{':
		return kw_ss_object(s, depth, kw_ss_any_member, NULL);
	case '[':
		return kw_ss_array(s, depth, NULL, NULL);
	case '"':
		return kw_ss_string(s, NULL, 0, NULL, NULL);
	case 't':
		return kw_ss_literal(s, "true");
	case 'f':
		return kw_ss_literal(s, "false");
	case 'n':
		return kw_ss_literal(s, "null");
	default:
		if (s->p[s->i] == '-' || (s->p[s->i] >= '0' && s->p[s->i] <= '9'))
			return kw_ss_number(s);
		return kw_ss_fail(s);
	}
}

static int kw_ss_key_is(const char *key, size_t keylen, int over, const char *name)
{
	return !over && keylen == strlen(name) && !memcmp(key, name, keylen);
}

/* A member of `data` or `stringData`: note ca.crt / crl.pem (data only)
 * and, in strict mode, the keys, so that a duplicate jansson would refuse
 * is not cut away. */
static int kw_ss_data_member(kw_ss_t *s, int depth, size_t start, const char *key, size_t keylen,
                             int over, void *ud)
{
	int is_data = *(int *)ud;
	(void)start;
	if (is_data && (kw_ss_key_is(key, keylen, over, "ca.crt") ||
	                kw_ss_key_is(key, keylen, over, "crl.pem")))
		s->has_ca = 1;
	if (s->strict) {
		if (over || s->nkeys >= KW_SS_KEYS) {
			s->unsafe = 1;
		} else {
			for (size_t k = 0; k < s->nkeys; k++)
				if (s->keylen[k] == keylen && !memcmp(s->keys[k], key, keylen))
					s->unsafe = 1;
			memcpy(s->keys[s->nkeys], key, keylen);
			s->keylen[s->nkeys++] = keylen;
		}
	}
	return kw_ss_value(s, depth);
}

static int kw_ss_secret_member(kw_ss_t *s, int depth, size_t start, const char *key, size_t keylen,
                               int over, void *ud)
{
	int what = KW_SS_OTHER;
	(void)ud;
	if (kw_ss_key_is(key, keylen, over, "data"))
		what = KW_SS_DATA;
	else if (kw_ss_key_is(key, keylen, over, "stringData"))
		what = KW_SS_STRINGDATA;
	else if (kw_ss_key_is(key, keylen, over, "type"))
		what = KW_SS_TYPE;
	if (s->nm == s->mcap) {
		size_t cap = s->mcap ? 2 * s->mcap : 16;
		kw_ss_member_t *m = realloc(s->m, cap * sizeof(*m));
		if (!m) {
			s->nomem = 1;
			return -1;
		}
		s->m = m;
		s->mcap = cap;
	}
	kw_ss_member_t *m = &s->m[s->nm++];
	m->start = start;
	m->what = what;
	switch (what) {
	case KW_SS_TYPE:
		/* The last one counts, as jansson keeps the last duplicate. */
		if (s->i < s->n && s->p[s->i] == '"') {
			char t[32];
			size_t tl = 0;
			int tover = 0;
			if (kw_ss_string(s, t, sizeof(t), &tl, &tover))
				return -1;
			s->is_tls = kw_ss_key_is(t, tl, tover, "kubernetes.io/tls");
		} else {
			s->is_tls = 0;
			if (kw_ss_value(s, depth))
				return -1;
		}
		break;
	case KW_SS_DATA:
	case KW_SS_STRINGDATA: {
		size_t objects = s->objects;
		int is_data = what == KW_SS_DATA, is_obj = 0;
		if (is_data) {
			s->ndata++;
			s->has_ca = 0; /* a later data replaces an earlier one */
		} else {
			s->nstringdata++;
		}
		if (s->i < s->n && s->p[s->i] == '{') {
			is_obj = 1;
			s->nkeys = 0;
			if (depth > KW_SS_MAX_DEPTH)
				return kw_ss_fail(s);
			if (kw_ss_object(s, depth, kw_ss_data_member, &is_data))
				return -1;
		} else if (kw_ss_value(s, depth)) {
			return -1;
		}
		/* Objects nested in the payload could hide duplicate keys. */
		if (s->strict && s->objects - objects > (size_t)is_obj)
			s->unsafe = 1;
		break;
	}
	default:
		if (kw_ss_value(s, depth))
			return -1;
	}
	m->end = s->i;
	return 0;
}

static void kw_ss_emit(kw_ss_t *s, const char *p, size_t n)
{
	memcpy(s->out + s->outlen, p, n);
	s->outlen += n;
}

/* A Secret object at s->i: scan it, then cut what kw_secret_filter would. */
static int kw_ss_secret(kw_ss_t *s, int depth)
{
	size_t obj_start = s->i;
	if (depth > KW_SS_MAX_DEPTH)
		return kw_ss_fail(s);
	s->nm = 0;
	s->is_tls = s->has_ca = s->unsafe = 0;
	s->ndata = s->nstringdata = 0;
	if (kw_ss_object(s, depth, kw_ss_secret_member, NULL))
		return -1;
	int drop_data = s->ndata && !s->is_tls && !s->has_ca;
	if ((!drop_data && !s->nstringdata) || s->unsafe)
		return 0;
	/* Strict mode: two data members are an error to keep, not to cut. */
	if (s->strict && (s->ndata > 1 || s->nstringdata > 1))
		return 0;
	if (!s->out) {
		/* The copy is never longer than the original. */
		s->out = malloc(s->n + 1);
		if (!s->out) {
			s->nomem = 1;
			return -1;
		}
	}
	kw_ss_emit(s, s->p + s->copied, obj_start - s->copied);
	kw_ss_emit(s, "{", 1);
	int first = 1;
	for (size_t k = 0; k < s->nm; k++) {
		const kw_ss_member_t *m = &s->m[k];
		if (m->what == KW_SS_STRINGDATA || (m->what == KW_SS_DATA && drop_data))
			continue;
		if (!first)
			kw_ss_emit(s, ",", 1);
		kw_ss_emit(s, s->p + m->start, m->end - m->start);
		first = 0;
	}
	kw_ss_emit(s, "}", 1);
	s->copied = s->i;
	return 0;
}

static int kw_ss_item(kw_ss_t *s, int depth, void *ud)
{
	(void)ud;
	if (s->i < s->n && s->p[s->i] == '{')
		return kw_ss_secret(s, depth);
	return kw_ss_value(s, depth);
}

static int kw_ss_root_member(kw_ss_t *s, int depth, size_t start, const char *key, size_t keylen,
                             int over, void *ud)
{
	kw_secretscan_what_t what = *(kw_secretscan_what_t *)ud;
	(void)start;
	if (s->i < s->n && depth <= KW_SS_MAX_DEPTH) {
		if (what == KW_SECRETSCAN_LIST && s->p[s->i] == '[' &&
		    kw_ss_key_is(key, keylen, over, "items"))
			return kw_ss_array(s, depth, kw_ss_item, NULL);
		if (what == KW_SECRETSCAN_EVENT && s->p[s->i] == '{' &&
		    kw_ss_key_is(key, keylen, over, "object"))
			return kw_ss_secret(s, depth);
	}
	return kw_ss_value(s, depth);
}

int kw_secretscan(const char *p, size_t n, kw_secretscan_what_t what, size_t flags, char **out,
                  size_t *outlen)
{
	kw_ss_t *s;
	int rc = 0;
	*out = NULL;
	*outlen = 0;
	/* Other flags change what jansson accepts: not worth following. */
	if (flags & ~(size_t)JSON_REJECT_DUPLICATES)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return CONTOUR_ENOMEM;
	s->p = p;
	s->n = n;
	s->strict = (flags & JSON_REJECT_DUPLICATES) != 0;
	kw_ss_ws(s);
	if (s->i >= s->n || p[s->i] != '{')
		goto fail; /* not an object: nothing of ours */
	if (what == KW_SECRETSCAN_OBJECT)
		kw_ss_secret(s, 1);
	else
		kw_ss_object(s, 1, kw_ss_root_member, &what);
	if (s->nomem) {
		rc = CONTOUR_ENOMEM;
		goto fail;
	}
	kw_ss_ws(s);
	if (s->bad || s->i != s->n || !s->out)
		goto fail; /* refused by jansson as well, or nothing cut */
	kw_ss_emit(s, p + s->copied, n - s->copied);
	s->out[s->outlen] = '\0';
	*out = s->out;
	*outlen = s->outlen;
	s->out = NULL;
	rc = 1;
fail:
	CONTOUR_FREE_ALL(s->out, s->m, s);
	return rc;
}
