/* tests/unit/check_adm_review.c: the admission module's AdmissionReview
 * parser and answer builder (modules/admission/adm_review.c, compiled in). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <check.h>
#include <jansson.h>

#include "modules/admission/adm_review.h"

#define REVIEW(req)                                                                                \
	"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","                    \
	"\"request\":" req "}"

static int parse(const char *text, adm_review_t *r, char *err)
{
	return adm_review_parse(text, strlen(text), r, err, 256);
}

START_TEST(test_parse_full)
{
	adm_review_t r;
	char err[256], av[128];
	const char *t =
	    REVIEW("{\"uid\":\"705ab4f5\",\"kind\":{\"group\":\"projectcontour.io\","
	           "\"version\":\"v1\",\"kind\":\"HTTPProxy\"},\"operation\":\"UPDATE\","
	           "\"object\":{\"spec\":{}},\"oldObject\":{\"a\":1},\"dryRun\":true,"
	           "\"userInfo\":{\"username\":\"x\"},\"options\":null}");
	ck_assert_int_eq(parse(t, &r, err), 0);
	ck_assert_str_eq(r.uid, "705ab4f5");
	ck_assert_str_eq(r.group, "projectcontour.io");
	ck_assert_str_eq(r.version, "v1");
	ck_assert_str_eq(r.kind, "HTTPProxy");
	ck_assert_str_eq(r.operation, "UPDATE");
	ck_assert(json_is_object(r.object) && json_object_get(r.object, "spec"));
	ck_assert(json_is_object(r.old_object));
	ck_assert_int_eq(r.dry_run, 1);
	ck_assert_int_eq(adm_review_api_version(&r, av, sizeof(av)), 0);
	ck_assert_str_eq(av, "projectcontour.io/v1");
	ck_assert_int_eq(adm_review_api_version(&r, av, 5), -1);
	adm_review_fini(&r);
	ck_assert_ptr_null(r.root);
	adm_review_fini(&r); /* twice is harmless */
}
END_TEST

START_TEST(test_parse_core_group_delete)
{
	adm_review_t r;
	char err[256], av[64];
	const char *t = REVIEW("{\"uid\":\"u\",\"kind\":{\"group\":\"\",\"version\":\"v1\","
	                       "\"kind\":\"Secret\"},\"operation\":\"DELETE\",\"object\":null,"
	                       "\"oldObject\":{\"kind\":\"Secret\"}}");
	ck_assert_int_eq(parse(t, &r, err), 0);
	ck_assert_ptr_null(r.object);
	ck_assert_ptr_nonnull(r.old_object);
	ck_assert_int_eq(r.dry_run, 0);
	ck_assert_int_eq(adm_review_api_version(&r, av, sizeof(av)), 0);
	ck_assert_str_eq(av, "v1");
	adm_review_fini(&r);
	/* No group member at all: the core group too. */
	t = REVIEW("{\"uid\":\"u\",\"kind\":{\"version\":\"v1\",\"kind\":\"Service\"},"
	           "\"operation\":\"CONNECT\"}");
	ck_assert_int_eq(parse(t, &r, err), 0);
	ck_assert_str_eq(r.group, "");
	ck_assert_ptr_null(r.object);
	ck_assert_ptr_null(r.old_object);
	adm_review_fini(&r);
}
END_TEST

static const struct {
	const char *text;
	const char *err;
} bad[] = {
    {"", "malformed JSON"},
    {"{\"apiVersion\":", "malformed JSON"},
    {"[1,2]", "not a JSON object"},
    {"{}", "apiVersion must be admission.k8s.io/v1"},
    {"{\"apiVersion\":\"admission.k8s.io/v1beta1\",\"kind\":\"AdmissionReview\"}",
     "apiVersion must be"},
    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Status\"}",
     "kind must be AdmissionReview"},
    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}", "request: missing"},
    {REVIEW("[]"), "request: missing or not an object"},
    {REVIEW("{}"), "request.uid: missing"},
    {REVIEW("{\"uid\":\"\"}"), "request.uid: missing"},
    {REVIEW("{\"uid\":7}"), "request.uid: missing or not a string"},
    {REVIEW("{\"uid\":\"u\"}"), "request.kind: missing"},
    {REVIEW("{\"uid\":\"u\",\"kind\":{\"group\":1,\"version\":\"v1\",\"kind\":\"K\"}}"),
     "request.kind.group"},
    {REVIEW("{\"uid\":\"u\",\"kind\":{\"version\":\"\",\"kind\":\"K\"}}"), "request.kind.version"},
    {REVIEW("{\"uid\":\"u\",\"kind\":{\"version\":\"v1\"}}"), "request.kind.kind"},
    {REVIEW("{\"uid\":\"u\",\"kind\":{\"version\":\"v1\",\"kind\":\"K\"}}"), "request.operation"},
    {REVIEW("{\"uid\":\"u\",\"kind\":{\"version\":\"v1\",\"kind\":\"K\"},\"operation\":\"PATCH\"}"),
     "request.operation"},
    {REVIEW("{\"uid\":\"u\",\"kind\":{\"version\":\"v1\",\"kind\":\"K\"},\"operation\":\"CREATE\","
            "\"object\":[1]}"),
     "request.object: not an object"},
    {REVIEW("{\"uid\":\"u\",\"kind\":{\"version\":\"v1\",\"kind\":\"K\"},\"operation\":\"CREATE\","
            "\"oldObject\":\"x\"}"),
     "request.oldObject"},
    {REVIEW("{\"uid\":\"u\",\"kind\":{\"version\":\"v1\",\"kind\":\"K\"},\"operation\":\"CREATE\","
            "\"dryRun\":\"yes\"}"),
     "request.dryRun"},
    /* Two values for one key: which one counts would be a guess. */
    {"{\"apiVersion\":\"admission.k8s.io/v1\",\"apiVersion\":\"admission.k8s.io/v1\"}",
     "malformed JSON"},
};

START_TEST(test_parse_errors)
{
	adm_review_t r;
	char err[256];
	ck_assert_int_eq(parse(bad[_i].text, &r, err), -1);
	ck_assert_msg(strstr(err, bad[_i].err), "case %d: '%s' has no '%s'", _i, err, bad[_i].err);
	ck_assert_ptr_null(r.root);
	ck_assert_ptr_null(r.uid);
}
END_TEST

START_TEST(test_parse_nul_and_null_body)
{
	adm_review_t r;
	char err[256];
	const char t[] = "{\"apiVersion\":\"admission.k8s.io/v1\"\0}";
	ck_assert_int_eq(adm_review_parse(t, sizeof(t) - 1, &r, err, sizeof(err)), -1);
	ck_assert_int_eq(adm_review_parse(NULL, 0, &r, err, sizeof(err)), -1);
	/* A tiny error buffer is filled, cut, and terminated. */
	ck_assert_int_eq(adm_review_parse("{}", 2, &r, err, 4), -1);
	ck_assert_int_eq(strlen(err), 3);
}
END_TEST

START_TEST(test_response_allowed)
{
	size_t len = 0;
	char *s = adm_review_response("u-1", NULL, NULL, &len);
	ck_assert_str_eq(s, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
	                    "\"response\":{\"uid\":\"u-1\",\"allowed\":true}}");
	ck_assert_int_eq(len, strlen(s));
	free(s);
	/* Empty lists: the same answer, no "warnings" member. */
	json_t *d = json_array(), *w = json_array();
	json_array_append_new(w, json_string(""));
	s = adm_review_response("u-1", d, w, NULL);
	ck_assert_str_eq(s, "{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\","
	                    "\"response\":{\"uid\":\"u-1\",\"allowed\":true}}");
	free(s);
	json_decref(d);
	json_decref(w);
}
END_TEST

START_TEST(test_response_denied)
{
	json_t *d = json_pack("[{s:s, s:s}, {s:n, s:s}]", "field", "spec.bad", "message",
	                      "bad is not allowed", "field", "message", "the whole thing");
	json_t *w = json_pack("[s, s, s]", "look out", "look out", "again");
	char *s = adm_review_response("u-2", d, w, NULL);
	json_t *root = json_loads(s, 0, NULL);
	ck_assert_ptr_nonnull(root);
	json_t *resp = json_object_get(root, "response");
	ck_assert_str_eq(json_string_value(json_object_get(root, "apiVersion")),
	                 "admission.k8s.io/v1");
	ck_assert_str_eq(json_string_value(json_object_get(root, "kind")), "AdmissionReview");
	ck_assert_str_eq(json_string_value(json_object_get(resp, "uid")), "u-2");
	ck_assert(json_is_false(json_object_get(resp, "allowed")));
	ck_assert_ptr_null(json_object_get(resp, "patch"));
	ck_assert_ptr_null(json_object_get(resp, "patchType"));
	json_t *st = json_object_get(resp, "status");
	ck_assert_int_eq(json_integer_value(json_object_get(st, "code")), 403);
	ck_assert_str_eq(json_string_value(json_object_get(st, "reason")), "Forbidden");
	ck_assert_str_eq(json_string_value(json_object_get(st, "status")), "Failure");
	ck_assert_str_eq(json_string_value(json_object_get(st, "message")),
	                 "spec.bad: bad is not allowed; the whole thing");
	json_t *causes = json_object_get(json_object_get(st, "details"), "causes");
	ck_assert_int_eq(json_array_size(causes), 2);
	json_t *c0 = json_array_get(causes, 0), *c1 = json_array_get(causes, 1);
	ck_assert_str_eq(json_string_value(json_object_get(c0, "reason")), "FieldValueInvalid");
	ck_assert_str_eq(json_string_value(json_object_get(c0, "field")), "spec.bad");
	ck_assert_str_eq(json_string_value(json_object_get(c0, "message")), "bad is not allowed");
	ck_assert_ptr_null(json_object_get(c1, "field"));
	ck_assert_str_eq(json_string_value(json_object_get(c1, "message")), "the whole thing");
	json_t *ws = json_object_get(resp, "warnings");
	ck_assert_int_eq(json_array_size(ws), 2);
	ck_assert_str_eq(json_string_value(json_array_get(ws, 0)), "look out");
	ck_assert_str_eq(json_string_value(json_array_get(ws, 1)), "again");
	json_decref(root);
	free(s);
	json_decref(d);
	json_decref(w);
}
END_TEST

START_TEST(test_response_warning_cut)
{
	/* 255 ASCII bytes then a 2-byte character: cut before it, not inside. */
	char long1[300], long2[400];
	memset(long1, 'a', 255);
	strcpy(long1 + 255, "\xc3\xa9tail");
	memset(long2, 'b', 399);
	long2[399] = '\0';
	json_t *w = json_pack("[s, s, s]", long1, long2, "short");
	char *s = adm_review_response("u", NULL, w, NULL);
	json_t *root = json_loads(s, 0, NULL);
	ck_assert_ptr_nonnull(root);
	json_t *ws = json_object_get(json_object_get(root, "response"), "warnings");
	ck_assert_int_eq(json_array_size(ws), 3);
	ck_assert_int_eq(json_string_length(json_array_get(ws, 0)), 255);
	ck_assert_int_eq(json_string_length(json_array_get(ws, 1)), ADM_REVIEW_WARNING_MAX);
	ck_assert_str_eq(json_string_value(json_array_get(ws, 2)), "short");
	json_decref(root);
	free(s);
	json_decref(w);
}
END_TEST

START_TEST(test_response_escapes_uid)
{
	char *s = adm_review_response("a\"b\\c", NULL, NULL, NULL);
	json_t *root = json_loads(s, 0, NULL);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(root, "response"), "uid")),
	    "a\"b\\c");
	json_decref(root);
	free(s);
}
END_TEST

START_TEST(test_denial_reason)
{
	char b[40];
	adm_review_denial_reason("spec.routes[0].timeoutPolicy", b, sizeof(b));
	ck_assert_str_eq(b, "spec");
	adm_review_denial_reason("metadata", b, sizeof(b));
	ck_assert_str_eq(b, "metadata");
	adm_review_denial_reason(NULL, b, sizeof(b));
	ck_assert_str_eq(b, "object");
	adm_review_denial_reason("", b, sizeof(b));
	ck_assert_str_eq(b, "object");
	adm_review_denial_reason("[0].x", b, sizeof(b));
	ck_assert_str_eq(b, "other");
	adm_review_denial_reason("sp\"ec{}.x", b, sizeof(b));
	ck_assert_str_eq(b, "spec");
	adm_review_denial_reason("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", b, sizeof(b));
	ck_assert_int_eq(strlen(b), 32);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("adm_review");
	TCase *tp = tcase_create("parse");
	tcase_add_test(tp, test_parse_full);
	tcase_add_test(tp, test_parse_core_group_delete);
	tcase_add_test(tp, test_parse_nul_and_null_body);
	suite_add_tcase(s, tp);
	TCase *te = tcase_create("errors");
	tcase_add_loop_test(te, test_parse_errors, 0, (int)(sizeof(bad) / sizeof(bad[0])));
	suite_add_tcase(s, te);
	TCase *tr = tcase_create("response");
	tcase_add_test(tr, test_response_allowed);
	tcase_add_test(tr, test_response_denied);
	tcase_add_test(tr, test_response_warning_cut);
	tcase_add_test(tr, test_response_escapes_uid);
	tcase_add_test(tr, test_denial_reason);
	suite_add_tcase(s, tr);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
