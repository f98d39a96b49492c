/* tests/unit/check_kw_parse.c: k8s-watch's pure parts: the watch stream
 * splitter (events split across pieces, several per piece, bad JSON), the
 * events (types, ERROR Status), API paths, Secret payload filtering and
 * Status messages. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"
#include "modules/k8s-watch/kw.h"

typedef struct vals {
	char text[16][256];
	int n;
	int stop_at; /* return non-zero on this value (1-based), 0: never */
} vals_t;

static int vals_fn(const char *p, size_t n, void *ud)
{
	vals_t *v = ud;
	if (v->n < 16)
		snprintf(v->text[v->n], sizeof(v->text[0]), "%.*s", (int)n, p);
	v->n++;
	return v->stop_at && v->n == v->stop_at ? 7 : 0;
}

static const char stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a}\\\"{\"}}}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"12\"}}}"
    "{\"type\":\"DELETED\",\"object\":{\"a\":[1,{\"b\":\"]\"}]}}\r\n  \n";

/* Every way of cutting the stream into two or three pieces gives the same
 * three values. */
START_TEST(split_every_cut)
{
	size_t n = strlen(stream);
	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j += 7) {
			vals_t v = {0};
			kw_split_t *s = kw_split_new(1024, vals_fn, &v);
			ck_assert_int_eq(kw_split_feed(s, stream, i), 0);
			ck_assert_int_eq(kw_split_feed(s, stream + i, j - i), 0);
			ck_assert_int_eq(kw_split_feed(s, stream + j, n - j), 0);
			ck_assert_int_eq(v.n, 3);
			ck_assert_str_eq(v.text[0],
			                 "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":"
			                 "\"a}\\\"{\"}}}");
			ck_assert_str_eq(
			    v.text[2],
			    "{\"type\":\"DELETED\",\"object\":{\"a\":[1,{\"b\":\"]\"}]}}");
			ck_assert_uint_eq(kw_split_pending(s), 0);
			kw_split_free(s);
		}
	}
}
END_TEST

START_TEST(split_one_byte_at_a_time)
{
	vals_t v = {0};
	kw_split_t *s = kw_split_new(1024, vals_fn, &v);
	for (size_t i = 0; stream[i]; i++)
		ck_assert_int_eq(kw_split_feed(s, stream + i, 1), 0);
	ck_assert_int_eq(v.n, 3);
	ck_assert_ptr_nonnull(strstr(v.text[1], "\"12\""));
	/* Half a value is pending until the rest comes. */
	ck_assert_int_eq(kw_split_feed(s, "{\"a\":", 5), 0);
	ck_assert_uint_eq(kw_split_pending(s), 5);
	ck_assert_int_eq(v.n, 3);
	kw_split_free(s);
}
END_TEST

START_TEST(split_errors)
{
	vals_t v = {0};
	kw_split_t *s = kw_split_new(1024, vals_fn, &v);
	/* Junk between events breaks the stream, and it stays broken. */
	ck_assert_int_eq(kw_split_feed(s, "{}\nxyz{}", 8), KW_SPLIT_ESYNTAX);
	ck_assert_int_eq(v.n, 1);
	ck_assert_int_eq(kw_split_feed(s, "{}", 2), KW_SPLIT_ESYNTAX);
	ck_assert_int_eq(v.n, 1);
	kw_split_reset(s);
	ck_assert_int_eq(kw_split_feed(s, "{}", 2), 0);
	ck_assert_int_eq(v.n, 2);
	kw_split_free(s);
	/* Over the size limit, whole or in pieces. */
	v.n = 0;
	s = kw_split_new(8, vals_fn, &v);
	ck_assert_int_eq(kw_split_feed(s, "{\"a\":12345}", 11), KW_SPLIT_ETOOBIG);
	kw_split_reset(s);
	ck_assert_int_eq(kw_split_feed(s, "{\"a\":", 5), 0);
	ck_assert_int_eq(kw_split_feed(s, "12345}", 6), KW_SPLIT_ETOOBIG);
	ck_assert_int_eq(v.n, 0);
	kw_split_free(s);
	/* The callback's non-zero return stops the feed. */
	vals_t w = {.stop_at = 1};
	s = kw_split_new(64, vals_fn, &w);
	ck_assert_int_eq(kw_split_feed(s, "{}{}", 4), 7);
	ck_assert_int_eq(w.n, 1);
	kw_split_free(s);
}
END_TEST

START_TEST(event_parse)
{
	kw_event_t ev;
	char err[256];
	const char *e = "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Service\",\"metadata\":"
	                "{\"name\":\"s\",\"resourceVersion\":\"rv-9\"}}}";
	ck_assert_int_eq(kw_event_parse(e, strlen(e), &ev, err, sizeof(err)), CONTOUR_EOK);
	ck_assert_int_eq(ev.type, KW_EV_MODIFIED);
	ck_assert_str_eq(ev.resource_version, "rv-9");
	ck_assert_str_eq(json_string_value(json_object_get(ev.object, "kind")), "Service");
	kw_event_fini(&ev);
	e = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
	    "\"metadata\":{},\"status\":\"Failure\",\"message\":\"too old resource version: 100 "
	    "(250)\",\"reason\":\"Expired\",\"code\":410}}";
	ck_assert_int_eq(kw_event_parse(e, strlen(e), &ev, err, sizeof(err)), CONTOUR_EOK);
	ck_assert_int_eq(ev.type, KW_EV_ERROR);
	ck_assert_int_eq(ev.code, 410);
	ck_assert_str_eq(ev.message, "too old resource version: 100 (250)");
	ck_assert_ptr_null(ev.resource_version);
	kw_event_fini(&ev);
	e = "{\"type\":\"SYNC\",\"object\":{}}";
	ck_assert_int_eq(kw_event_parse(e, strlen(e), &ev, err, sizeof(err)), CONTOUR_EPARSE);
	ck_assert_ptr_nonnull(strstr(err, "unknown type SYNC"));
	e = "{\"type\":\"ADDED\"}";
	ck_assert_int_eq(kw_event_parse(e, strlen(e), &ev, err, sizeof(err)), CONTOUR_EPARSE);
	ck_assert_ptr_nonnull(strstr(err, "without an object"));
	e = "{\"type\":\"ADDED\",\"object\":{]}";
	ck_assert_int_eq(kw_event_parse(e, strlen(e), &ev, err, sizeof(err)), CONTOUR_EPARSE);
	ck_assert_ptr_null(ev.object);
}
END_TEST

START_TEST(paths)
{
	size_t n;
	const kw_kind_t *k = kw_kinds(&n);
	ck_assert_uint_eq(n, 6);
	char out[256];
	const kw_kind_t *svc = NULL, *hp = NULL, *eps = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(k[i].kind, "Service"))
			svc = &k[i];
		if (!strcmp(k[i].kind, "HTTPProxy"))
			hp = &k[i];
		if (!strcmp(k[i].kind, "EndpointSlice"))
			eps = &k[i];
	}
	ck_assert_ptr_nonnull(svc);
	kw_path(svc, NULL, NULL, NULL, out, sizeof(out));
	ck_assert_str_eq(out, "/api/v1/services");
	kw_path(svc, "ns1", "web", NULL, out, sizeof(out));
	ck_assert_str_eq(out, "/api/v1/namespaces/ns1/services/web");
	kw_path(hp, "default", "web", "status", out, sizeof(out));
	ck_assert_str_eq(out,
	                 "/apis/projectcontour.io/v1/namespaces/default/httpproxies/web/status");
	kw_path(eps, "", NULL, NULL, out, sizeof(out));
	ck_assert_str_eq(out, "/apis/discovery.k8s.io/v1/endpointslices");
	/* Truncation stays within the buffer and NUL-terminated. */
	char small[12];
	kw_path(hp, "default", "web", "status", small, sizeof(small));
	ck_assert_uint_eq(strlen(small), 11);
}
END_TEST

START_TEST(secret_filter)
{
	size_t n;
	const kw_kind_t *k = kw_kinds(&n), *secret = NULL, *svc = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(k[i].kind, "Secret"))
			secret = &k[i];
		if (!strcmp(k[i].kind, "Service"))
			svc = &k[i];
	}
	json_t *helm = json_pack("{s:s, s:{s:s}, s:{s:s}, s:{s:s}}", "type", "helm.sh/release.v1",
	                         "metadata", "name", "r", "data", "release", "SDRzSUFBQUFBQUFBLytT",
	                         "stringData", "x", "y");
	ck_assert_int_eq(kw_object_prepare(secret, helm), 1);
	ck_assert_ptr_null(json_object_get(helm, "data"));
	ck_assert_ptr_null(json_object_get(helm, "stringData"));
	/* Built-in list items get their kind and apiVersion. */
	ck_assert_str_eq(json_string_value(json_object_get(helm, "kind")), "Secret");
	ck_assert_str_eq(json_string_value(json_object_get(helm, "apiVersion")), "v1");
	json_decref(helm);
	json_t *tls = json_pack("{s:s, s:{s:s, s:s}}", "type", "kubernetes.io/tls", "data",
	                        "tls.crt", "Yw==", "tls.key", "aw==");
	ck_assert_int_eq(kw_secret_filter(tls), 0);
	ck_assert_uint_eq(json_object_size(json_object_get(tls, "data")), 2);
	json_decref(tls);
	json_t *ca = json_pack("{s:s, s:{s:s}}", "type", "Opaque", "data", "ca.crt", "Yw==");
	ck_assert_int_eq(kw_secret_filter(ca), 0);
	json_decref(ca);
	json_t *crl = json_pack("{s:{s:s}}", "data", "crl.pem", "Yw==");
	ck_assert_int_eq(kw_secret_filter(crl), 0);
	json_decref(crl);
	/* Other kinds keep everything, and their own kind. */
	json_t *s = json_pack("{s:s, s:{s:s}}", "kind", "Other", "data", "k", "v");
	ck_assert_int_eq(kw_object_prepare(svc, s), 0);
	ck_assert_str_eq(json_string_value(json_object_get(s, "kind")), "Other");
	ck_assert_ptr_nonnull(json_object_get(s, "data"));
	json_decref(s);
}
END_TEST

START_TEST(status_messages)
{
	char out[256];
	const char *conflict = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
	                       "\"message\":\"Operation cannot be fulfilled\",\"reason\":"
	                       "\"Conflict\",\"code\":409}";
	kw_resp_t r = {.status = 409, .body = conflict, .len = strlen(conflict), .retry_after = -1};
	kw_status_message(&r, out, sizeof(out));
	ck_assert_str_eq(out, "Operation cannot be fulfilled (Conflict, HTTP 409)");
	const char *text = "Internal Server Error: \"/api\": boom";
	kw_resp_t p = {.status = 500, .body = text, .len = strlen(text), .retry_after = -1};
	kw_status_message(&p, out, sizeof(out));
	ck_assert_str_eq(out, "Internal Server Error (HTTP 500)");
	/* A JSON body that is not a Status does not count as one. */
	const char *obj = "{\"kind\":\"Service\",\"message\":\"no\"}";
	kw_resp_t q = {.status = 418, .body = obj, .len = strlen(obj), .retry_after = -1};
	kw_status_message(&q, out, sizeof(out));
	ck_assert_str_eq(out, "unexpected response (HTTP 418)");
	kw_resp_t t = {.status = 0, .body = "", .error = "Connection refused"};
	kw_status_message(&t, out, sizeof(out));
	ck_assert_str_eq(out, "Connection refused");
}
END_TEST

static Suite *kw_parse_suite(void)
{
	Suite *s = suite_create("kw_parse");
	TCase *tc = tcase_create("stream");
	tcase_add_test(tc, split_every_cut);
	tcase_add_test(tc, split_one_byte_at_a_time);
	tcase_add_test(tc, split_errors);
	tcase_add_test(tc, event_parse);
	suite_add_tcase(s, tc);
	tc = tcase_create("objects");
	tcase_add_test(tc, paths);
	tcase_add_test(tc, secret_filter);
	tcase_add_test(tc, status_messages);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run_suite(kw_parse_suite());
}
