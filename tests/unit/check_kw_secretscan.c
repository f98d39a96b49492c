/* tests/unit/check_kw_secretscan.c: the raw-text Secret pre-filter
 * (kw_secretscan): what it cuts, what it leaves alone, text jansson
 * refuses, and a property check: for many generated list pages and watch
 * events, parsing the cut text then kw_secret_filter gives exactly what
 * parsing the original then kw_secret_filter gives. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/unit/testutil.h"
#include "modules/k8s-watch/kw.h"

/* Cut s, expecting rc; returns the cut text (static) or NULL. */
static const char *cut(const char *s, kw_secretscan_what_t what, size_t flags, int expect)
{
	static char buf[8192];
	char *out = (char *)"x";
	size_t len = 7;
	int rc = kw_secretscan(s, strlen(s), what, flags, &out, &len);
	ck_assert_msg(rc == expect, "rc %d, expected %d for %s", rc, expect, s);
	if (rc != 1) {
		ck_assert_ptr_null(out);
		ck_assert_uint_eq(len, 0);
		return NULL;
	}
	ck_assert_uint_eq(strlen(out), len);
	ck_assert_uint_lt(len, sizeof(buf));
	memcpy(buf, out, len + 1);
	free(out);
	return buf;
}

START_TEST(cuts_opaque_keeps_tls_and_ca)
{
	const char *page =
	    "{\"kind\":\"SecretList\",\"metadata\":{\"resourceVersion\":\"7\"},\"items\":["
	    "{\"type\":\"Opaque\",\"data\":{\"release\":\"SDRzSUFBQUFBQUFB\"},\"metadata\":"
	    "{\"name\":\"helm\"}},"
	    "{\"metadata\":{\"name\":\"tls\"},\"data\":{\"tls.crt\":\"QQ==\"},\"type\":"
	    "\"kubernetes.io/tls\",\"stringData\":{\"x\":\"y\"}},"
	    "{\"type\":\"Opaque\",\"data\":{\"x\":\"eA==\",\"ca.crt\":\"Qw==\"}},"
	    "{\"type\":\"Opaque\",\"data\":{\"crl.pem\":\"Qw==\"},\"stringData\":{}},"
	    "{\"data\":null,\"metadata\":{}}]}";
	const char *out = cut(page, KW_SECRETSCAN_LIST, 0, 1);
	ck_assert_str_eq(out, "{\"kind\":\"SecretList\",\"metadata\":{\"resourceVersion\":\"7\"},"
	                      "\"items\":["
	                      "{\"type\":\"Opaque\",\"metadata\":{\"name\":\"helm\"}},"
	                      "{\"metadata\":{\"name\":\"tls\"},\"data\":{\"tls.crt\":\"QQ==\"},"
	                      "\"type\":\"kubernetes.io/tls\"},"
	                      "{\"type\":\"Opaque\",\"data\":{\"x\":\"eA==\",\"ca.crt\":\"Qw==\"}},"
	                      "{\"type\":\"Opaque\",\"data\":{\"crl.pem\":\"Qw==\"}},"
	                      "{\"metadata\":{}}]}");
	/* Nothing to cut: the text is used as it is. */
	cut("{\"items\":[{\"type\":\"kubernetes.io/tls\",\"data\":{\"a\":\"b\"}}]}",
	    KW_SECRETSCAN_LIST, 0, 0);
	cut("{\"items\":[]}", KW_SECRETSCAN_LIST, 0, 0);
	cut("{\"items\":null}", KW_SECRETSCAN_LIST, 0, 0);
	/* Only the root's items (and an event's object) are Secrets. */
	cut("{\"metadata\":{\"items\":[{\"data\":{}}]},\"object\":{\"data\":{}}}",
	    KW_SECRETSCAN_LIST, 0, 0);
	ck_assert_str_eq(cut("{\"type\":\"ADDED\",\"object\":{\"data\":{\"a\":\"b\"},\"kind\":"
	                     "\"Secret\"}}",
	                     KW_SECRETSCAN_EVENT, JSON_REJECT_DUPLICATES, 1),
	                 "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Secret\"}}");
	ck_assert_str_eq(
	    cut(" {\"stringData\" : {\"a\":1} , \"b\" : [ 1 , 2 ] }\n", KW_SECRETSCAN_OBJECT, 0, 1),
	    " {\"b\" : [ 1 , 2 ]}\n");
	ck_assert_str_eq(cut("{\"data\":\"x\",\"stringData\":{}}", KW_SECRETSCAN_OBJECT, 0, 1),
	                 "{}");
}
END_TEST

/* Keys and type are compared decoded, wherever they are and however they
 * are escaped; the last duplicate counts, as in jansson. */
START_TEST(escapes_order_duplicates)
{
	/* "kubernetes.io\/tls" and an escaped "type" key: still TLS. */
	cut("{\"d\\u0061ta\":{\"k\":\"v\"},\"typ\\u0065\":\"kubernetes.io\\/tls\"}",
	    KW_SECRETSCAN_OBJECT, 0, 0);
	/* "ca\u002ecrt" is ca.crt. */
	cut("{\"type\":\"Opaque\",\"data\":{\"a\":\"\\u00e9\",\"ca\\u002ecrt\":\"x\"}}",
	    KW_SECRETSCAN_OBJECT, 0, 0);
	/* An escaped data key is still cut, whatever its value holds. */
	ck_assert_str_eq(cut("{\"d\\u0061ta\":{\"k\":\"\\\"}\\\\\\ud83d\\ude00\xc3\xa9\"},"
	                     "\"a\":1}",
	                     KW_SECRETSCAN_OBJECT, 0, 1),
	                 "{\"a\":1}");
	/* A type that only looks like TLS. */
	cut("{\"type\":\"kubernetes.io/tls \",\"data\":{}}", KW_SECRETSCAN_OBJECT, 0, 1);
	cut("{\"type\":[\"kubernetes.io/tls\"],\"data\":{}}", KW_SECRETSCAN_OBJECT, 0, 1);
	/* Without JSON_REJECT_DUPLICATES the last type and data count. */
	cut("{\"type\":\"kubernetes.io/tls\",\"type\":\"Opaque\",\"data\":{}}",
	    KW_SECRETSCAN_OBJECT, 0, 1);
	cut("{\"type\":\"Opaque\",\"type\":\"kubernetes.io/tls\",\"data\":{}}",
	    KW_SECRETSCAN_OBJECT, 0, 0);
	ck_assert_str_eq(cut("{\"data\":{\"ca.crt\":\"\"},\"x\":0,\"data\":{\"a\":\"\"}}",
	                     KW_SECRETSCAN_OBJECT, 0, 1),
	                 "{\"x\":0}");
	cut("{\"data\":{\"a\":\"\"},\"data\":{\"ca.crt\":\"\"}}", KW_SECRETSCAN_OBJECT, 0, 0);
	/* Duplicate keys in data: cut when jansson would take them... */
	cut("{\"data\":{\"a\":\"1\",\"\\u0061\":\"2\"}}", KW_SECRETSCAN_OBJECT, 0, 1);
	/* ...and left for jansson to refuse when it would refuse them. */
	cut("{\"data\":{\"a\":\"1\",\"\\u0061\":\"2\"}}", KW_SECRETSCAN_OBJECT,
	    JSON_REJECT_DUPLICATES, 0);
	cut("{\"data\":{},\"data\":{}}", KW_SECRETSCAN_OBJECT, JSON_REJECT_DUPLICATES, 0);
	cut("{\"data\":{\"a\":{\"b\":1}}}", KW_SECRETSCAN_OBJECT, JSON_REJECT_DUPLICATES, 0);
	cut("{\"data\":{\"a\":[1,\"2\"],\"b\":\"3\"}}", KW_SECRETSCAN_OBJECT,
	    JSON_REJECT_DUPLICATES, 1);
	/* Flags that change what jansson accepts: left alone. */
	cut("{\"data\":{}}", KW_SECRETSCAN_OBJECT, JSON_DECODE_ANY, 0);
}
END_TEST

/* Text jansson refuses, mostly inside what would be cut: left as it is,
 * so that jansson still reports it. */
START_TEST(refused_text_unchanged)
{
	static const char *bad[] = {
	    "{\"data\":{\"a\":\"\\u0000\"}}",
	    "{\"data\":{\"a\":\"\\ud800\"}}",
	    "{\"data\":{\"a\":\"\\udc00\\ud800\"}}",
	    "{\"data\":{\"a\":\"\\ud800\\u0041\"}}",
	    "{\"data\":{\"a\":\"\\x\"}}",
	    "{\"data\":{\"a\":\"\\u12G4\"}}",
	    "{\"data\":{\"a\":\"\xc0\xaf\"}}",
	    "{\"data\":{\"a\":\"\xed\xa0\x80\"}}",
	    "{\"data\":{\"a\":\"\xf4\x90\x80\x80\"}}",
	    "{\"data\":{\"a\":\"\xe2\x82\"}}",
	    "{\"data\":{\"a\":\"tab\there\"}}",
	    "{\"data\":{\"a\":\"unterminated}}",
	    "{\"data\":{\"a\":1,}}",
	    "{\"data\":{\"a\" 1}}",
	    "{\"data\":{\"a\":01}}",
	    "{\"data\":{\"a\":1.}}",
	    "{\"data\":{\"a\":-}}",
	    "{\"data\":{\"a\":1e}}",
	    "{\"data\":{\"a\":99999999999999999999}}",
	    "{\"data\":{\"a\":1e999}}",
	    "{\"data\":{\"a\":truex}}",
	    "{\"data\":{\"a\":nul}}",
	    "{\"data\":{\"\\u0000\":\"\"}}",
	    "{\"data\":{}} x",
	    "{\"data\":{}}{}",
	    "{\"data\":{}",
	    "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cut(bad[i], KW_SECRETSCAN_OBJECT, 0, 0);
		ck_assert_ptr_null(json_loads(bad[i], 0, NULL));
	}
	/* Not an object: none of ours, left alone. */
	cut("[{\"data\":{}}]", KW_SECRETSCAN_OBJECT, 0, 0);
	/* Near the limits jansson accepts: still cut. */
	cut("{\"data\":{\"a\":-9223372036854775808,\"b\":1e-999,\"c\":\"\xf4\x8f\xbf\xbf\"}}",
	    KW_SECRETSCAN_OBJECT, 0, 1);
	/* jansson's nesting limit (2048 values deep) in the cut part. */
	for (int depth = 2045; depth <= 2049; depth++) {
		size_t n = 0;
		char *t = malloc(2 * (size_t)depth + 64);
		n += (size_t)sprintf(t, "{\"data\":");
		for (int k = 2; k < depth; k++)
			t[n++] = '[';
		n += (size_t)sprintf(t + n, "1");
		for (int k = 2; k < depth; k++)
			t[n++] = ']';
		n += (size_t)sprintf(t + n, "}");
		json_t *j = json_loadb(t, n, 0, NULL);
		char *out = NULL;
		size_t len = 0;
		int rc = kw_secretscan(t, n, KW_SECRETSCAN_OBJECT, 0, &out, &len);
		ck_assert_int_eq(rc, j ? 1 : 0);
		ck_assert_int_eq(depth <= 2048, j != NULL);
		free(out);
		json_decref(j);
		free(t);
	}
}
END_TEST

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the property check ---- */

static unsigned long long prop_seed = 88172645463325252ull;

static unsigned prop_rand(unsigned n)
{
	prop_seed ^= prop_seed << 13;
	prop_seed ^= prop_seed >> 7;
	prop_seed ^= prop_seed << 17;
	return (unsigned)(prop_seed % n);
}

typedef struct gbuf {
	char *p;
	size_t n, cap;
} gbuf_t;

static void g_put(gbuf_t *b, const char *s)
{
	size_t l = strlen(s);
	if (b->n + l + 1 > b->cap) {
		b->cap = (b->n + l + 1) * 2;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	memcpy(b->p + b->n, s, l + 1);
	b->n += l;
}

static void g_ws(gbuf_t *b)
{
	static const char *ws[] = {"", "", "", " ", "\n", " \t\r\n "};
	g_put(b, ws[prop_rand(6)]);
}

/* A string: plain, or with escapes, raw UTF-8, or (rarely) something
 * jansson refuses. */
static void g_str(gbuf_t *b, const char *plain)
{
	static const char *bits[] = {
	    "\\\"",
	    "\\\\",
	    "\\/",
	    "\\n",
	    "\\u00e9",
	    "\\ud83d\\ude00",
	    "\xc3\xa9",
	    "}",
	    "]",
	    "{\\\"data\\\":",
	    "QUJD",
	    "\\u002e",
	    "\xf0\x9f\x98\x80",
	    ",",
	    "\\u0000",
	    "\xc3",
	    "\\ud800",
	    "\x01",
	};
	g_put(b, "\"");
	if (plain && prop_rand(3)) {
		g_put(b, plain);
	} else {
		if (plain)
			g_put(b, plain);
		int n = (int)prop_rand(5);
		for (int k = 0; k < n; k++) {
			/* The last four are refused: rare. */
			unsigned i = prop_rand(prop_rand(20) ? 14 : 18);
			g_put(b, bits[i]);
		}
	}
	g_put(b, "\"");
}

/* A key that decodes to name, escaped sometimes. */
static void g_key(gbuf_t *b, const char *name)
{
	if (prop_rand(4) == 0 && name[0]) {
		char esc[16];
		g_put(b, "\"");
		snprintf(esc, sizeof(esc), "\\u%04x", (unsigned char)name[0]);
		g_put(b, esc);
		g_put(b, name + 1);
		g_put(b, "\"");
	} else {
		g_put(b, "\"");
		g_put(b, name);
		g_put(b, "\"");
	}
	g_ws(b);
	g_put(b, ":");
	g_ws(b);
}

static void g_value(gbuf_t *b, int depth)
{
	static const char *scalars[] = {
	    "1", "-0.5e3", "true", "null", "false", "1e400", "12345678901234567890", "0"};
	unsigned k = prop_rand(depth > 2 ? 3 : 5);
	if (k == 0) {
		g_str(b, "v");
	} else if (k == 1) {
		g_str(b, NULL);
	} else if (k == 2) {
		g_put(b, scalars[prop_rand(prop_rand(10) ? 5 : 8)]);
	} else if (k == 3) {
		g_put(b, "[");
		int n = (int)prop_rand(3);
		for (int i = 0; i < n; i++) {
			if (i)
				g_put(b, ",");
			g_ws(b);
			g_value(b, depth + 1);
		}
		g_put(b, "]");
	} else {
		static const char *keys[] = {"a", "b", "a", "ca.crt", "data"};
		g_put(b, "{");
		int n = (int)prop_rand(3);
		for (int i = 0; i < n; i++) {
			if (i)
				g_put(b, ",");
			g_key(b, keys[prop_rand(5)]);
			g_value(b, depth + 1);
		}
		g_put(b, "}");
	}
}

static void g_secret(gbuf_t *b)
{
	static const char *types[] = {"kubernetes.io/tls", "Opaque", "helm.sh/release.v1",
	                              "kubernetes.io\\/tls", "kubernetes.io/tl\\u0073"};
	static const char *dkeys[] = {"release", "tls.crt", "ca.crt", "crl.pem",
	                              "ca.crt ", "x",       "release"};
	const char *members[] = {"metadata", "type", "data", "stringData", "kind", "type", "data"};
	int order[7], n = 0;
	for (int i = 0; i < 7; i++)
		if (i < 4 ? prop_rand(6) != 0 : prop_rand(8) == 0)
			order[n++] = i;
	for (int i = n - 1; i > 0; i--) {
		int j = (int)prop_rand((unsigned)i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	g_put(b, "{");
	g_ws(b);
	for (int i = 0; i < n; i++) {
		const char *m = members[order[i]];
		if (i) {
			g_put(b, ",");
			g_ws(b);
		}
		g_key(b, m);
		if (!strcmp(m, "type")) {
			if (prop_rand(8))
				g_str(b, types[prop_rand(5)]);
			else
				g_value(b, 2);
		} else if (!strcmp(m, "data") || !strcmp(m, "stringData")) {
			if (prop_rand(8) == 0) {
				g_value(b, 2);
				continue;
			}
			g_put(b, "{");
			int nk = (int)prop_rand(4);
			for (int k = 0; k < nk; k++) {
				if (k)
					g_put(b, ",");
				g_ws(b);
				g_key(b, dkeys[prop_rand(7)]);
				if (prop_rand(6))
					g_str(b, "SGVsbG8gd29ybGQ=");
				else
					g_value(b, 3);
			}
			g_ws(b);
			g_put(b, "}");
		} else if (!strcmp(m, "metadata")) {
			g_put(b, "{\"name\":");
			g_str(b, "s");
			g_put(b, ",\"resourceVersion\":\"5\"}");
		} else {
			g_value(b, 2);
		}
		g_ws(b);
	}
	g_put(b, "}");
}

static void g_doc(gbuf_t *b, kw_secretscan_what_t what)
{
	b->n = 0;
	g_put(b, "");
	g_ws(b);
	if (what == KW_SECRETSCAN_LIST) {
		g_put(b, "{\"metadata\":{\"continue\":\"c\"},");
		g_key(b, "items");
		g_put(b, "[");
		int n = (int)prop_rand(4);
		for (int i = 0; i < n; i++) {
			if (i)
				g_put(b, ",");
			g_ws(b);
			if (prop_rand(10))
				g_secret(b);
			else
				g_value(b, 2);
		}
		g_put(b, "]");
		if (prop_rand(10) == 0) {
			g_put(b, ",\"items\":[");
			g_secret(b);
			g_put(b, "]");
		}
		g_put(b, "}");
	} else if (what == KW_SECRETSCAN_EVENT) {
		static const char *types[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};
		g_put(b, "{");
		if (prop_rand(2)) {
			g_key(b, "type");
			g_str(b, types[prop_rand(5)]);
			g_put(b, ",");
			g_key(b, "object");
			g_secret(b);
		} else {
			g_key(b, "object");
			g_secret(b);
			g_put(b, ",");
			g_key(b, "type");
			g_str(b, types[prop_rand(5)]);
		}
		g_put(b, "}");
	} else {
		g_secret(b);
	}
	g_ws(b);
	/* Now and then a byte broken anywhere. */
	if (prop_rand(12) == 0 && b->n) {
		static const char junk[] = "{}[],:\"\\ x0";
		b->p[prop_rand((unsigned)b->n)] = junk[prop_rand(sizeof(junk) - 1)];
	}
}

/* What the reflector keeps from an event's text, after the filter. */
static json_t *event_oracle(const char *p, size_t n)
{
	kw_event_t ev;
	char err[256];
	if (kw_event_parse(p, n, &ev, err, sizeof(err)) != CONTOUR_EOK)
		return NULL;
	kw_secret_filter(ev.object);
	json_t *r = json_pack("{s:i,s:O,s:s?,s:i,s:s}", "type", (int)ev.type, "object", ev.object,
	                      "rv", ev.resource_version, "code", ev.code, "message", ev.message);
	kw_event_fini(&ev);
	return r;
}

START_TEST(property_equivalent)
{
	gbuf_t b = {0};
	int cuts = 0, refused = 0, total = 0;
	for (int round = 0; round < 30000; round++) {
		kw_secretscan_what_t what = (kw_secretscan_what_t)(round % 3);
		size_t flags =
		    what == KW_SECRETSCAN_EVENT || prop_rand(4) == 0 ? JSON_REJECT_DUPLICATES : 0;
		if (what == KW_SECRETSCAN_EVENT)
			flags = JSON_REJECT_DUPLICATES; /* as kw_event_parse */
		g_doc(&b, what);
		char *out = NULL;
		size_t len = 0;
		int rc = kw_secretscan(b.p, b.n, what, flags, &out, &len);
		ck_assert_int_ge(rc, 0);
		json_t *a, *c;
		if (what == KW_SECRETSCAN_EVENT) {
			a = event_oracle(b.p, b.n);
			c = rc == 1 ? event_oracle(out, len) : NULL;
		} else {
			json_error_t je;
			/* Non-event texts are parsed with the flags given. */
			a = json_loadb(b.p, b.n, flags, &je);
			c = rc == 1 ? json_loadb(out, len, flags, &je) : NULL;
			json_t *items;
			size_t i;
			json_t *it;
			if (what == KW_SECRETSCAN_OBJECT) {
				kw_secret_filter(a);
				kw_secret_filter(c);
			} else {
				items = json_object_get(a, "items");
				json_array_foreach(items, i, it) kw_secret_filter(it);
				items = json_object_get(c, "items");
				json_array_foreach(items, i, it) kw_secret_filter(it);
			}
		}
		total++;
		if (rc == 1) {
			cuts++;
			ck_assert_uint_lt(len, b.n);
			ck_assert_msg((a == NULL) == (c == NULL) && (!a || json_equal(a, c)),
			              "not equivalent (flags %zu):\n%.*s\n%s", flags, (int)b.n, b.p,
			              out);
		}
		if (!a)
			refused++;
		json_decref(a);
		json_decref(c);
		free(out);
	}
	free(b.p);
	/* The generator must exercise both sides. */
	ck_assert_int_gt(cuts, total / 5);
	ck_assert_int_gt(refused, total / 50);
}
END_TEST

/* A large Helm-like page: cut fast, and the result is small. */
START_TEST(large_page)
{
	size_t blob = 50 * 1024, nitems = 200;
	gbuf_t b = {0};
	char *payload = malloc(blob + 1);
	for (size_t i = 0; i < blob; i++)
		payload[i] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i % 64];
	payload[blob] = '\0';
	g_put(&b, "{\"kind\":\"SecretList\",\"items\":[");
	for (size_t i = 0; i < nitems; i++) {
		char meta[128];
		snprintf(meta, sizeof(meta),
		         "%s{\"metadata\":{\"name\":\"r%zu\"},\"type\":\"Opaque\",\"data\":{"
		         "\"release\":\"",
		         i ? "," : "", i);
		g_put(&b, meta);
		g_put(&b, payload);
		g_put(&b, "\"}}");
	}
	g_put(&b, "]}");
	char *out = NULL;
	size_t len = 0;
	int64_t t0 = mono_ms();
	ck_assert_int_eq(kw_secretscan(b.p, b.n, KW_SECRETSCAN_LIST, 0, &out, &len), 1);
	int64_t took = mono_ms() - t0;
	ck_assert_uint_lt(len, nitems * 80);
	json_t *page = json_loadb(out, len, 0, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), nitems);
	ck_assert_ptr_null(
	    json_object_get(json_array_get(json_object_get(page, "items"), 7), "data"));
	/* 10 MB: well under a second even under the sanitizers. */
	ck_assert_int_lt(took, 2000);
	json_decref(page);
	free(out);
	free(payload);
	free(b.p);
}
END_TEST

static Suite *kw_secretscan_suite(void)
{
	Suite *s = suite_create("kw_secretscan");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, cuts_opaque_keeps_tls_and_ca);
	tcase_add_test(tc, escapes_order_duplicates);
	tcase_add_test(tc, refused_text_unchanged);
	tcase_add_test(tc, large_page);
	suite_add_tcase(s, tc);
	tc = tcase_create("property");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, property_equivalent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(kw_secretscan_suite());
}
