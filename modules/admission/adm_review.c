/* modules/admission/adm_review.c: parse an AdmissionReview request, build
 * its answer (k8s-wire.md §5, admission-shutdown.md §4). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/admission/adm_review.h"

static int adm_review_fail(adm_review_t *r, char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	adm_review_fini(r);
	return -1;
}

/* A member that must be a string when present; NULL when absent. */
static int adm_review_opt_str(const json_t *obj, const char *key, const char **out)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	return 0;
}

/* object and oldObject: an object, or absent / null. */
static int adm_review_opt_obj(const json_t *obj, const char *key, const json_t **out)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return -1;
	*out = v;
	return 0;
}

int adm_review_parse(const char *body, size_t len, adm_review_t *out, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *s;
	memset(out, 0, sizeof(*out));
	if (!body)
		return adm_review_fail(out, err, errlen, "empty body");
	out->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!out->root) {
		char msg[256];
		snprintf(msg, sizeof(msg), "malformed JSON at line %d column %d: %s", jerr.line,
		         jerr.column, jerr.text);
		return adm_review_fail(out, err, errlen, msg);
	}
	if (!json_is_object(out->root))
		return adm_review_fail(out, err, errlen, "the body is not a JSON object");
	if (adm_review_opt_str(out->root, "apiVersion", &s) || !s ||
	    strcmp(s, ADM_REVIEW_API_VERSION))
		return adm_review_fail(out, err, errlen,
		                       "apiVersion must be " ADM_REVIEW_API_VERSION);
	if (adm_review_opt_str(out->root, "kind", &s) || !s || strcmp(s, ADM_REVIEW_KIND))
		return adm_review_fail(out, err, errlen, "kind must be " ADM_REVIEW_KIND);
	const json_t *req = json_object_get(out->root, "request");
	if (!json_is_object(req))
		return adm_review_fail(out, err, errlen, "request: missing or not an object");
	if (adm_review_opt_str(req, "uid", &out->uid) || !out->uid || !*out->uid)
		return adm_review_fail(out, err, errlen, "request.uid: missing or not a string");

	const json_t *gvk = json_object_get(req, "kind");
	if (!json_is_object(gvk))
		return adm_review_fail(out, err, errlen, "request.kind: missing or not an object");
	if (adm_review_opt_str(gvk, "group", &out->group))
		return adm_review_fail(out, err, errlen, "request.kind.group: not a string");
	if (!out->group)
		out->group = "";
	if (adm_review_opt_str(gvk, "version", &out->version) || !out->version || !*out->version)
		return adm_review_fail(out, err, errlen, "request.kind.version: missing");
	if (adm_review_opt_str(gvk, "kind", &out->kind) || !out->kind || !*out->kind)
		return adm_review_fail(out, err, errlen, "request.kind.kind: missing");

	if (adm_review_opt_str(req, "operation", &out->operation) || !out->operation ||
	    (strcmp(out->operation, "CREATE") && strcmp(out->operation, "UPDATE") &&
	     strcmp(out->operation, "DELETE") && strcmp(out->operation, "CONNECT")))
		return adm_review_fail(out, err, errlen,
		                       "request.operation: not CREATE, UPDATE, DELETE or CONNECT");
	if (adm_review_opt_obj(req, "object", &out->object))
		return adm_review_fail(out, err, errlen, "request.object: not an object");
	if (adm_review_opt_obj(req, "oldObject", &out->old_object))
		return adm_review_fail(out, err, errlen, "request.oldObject: not an object");
	const json_t *dry = json_object_get(req, "dryRun");
	if (dry && !json_is_null(dry) && !json_is_boolean(dry))
		return adm_review_fail(out, err, errlen, "request.dryRun: not a boolean");
	out->dry_run = json_is_true(dry);
	return 0;
}

void adm_review_fini(adm_review_t *r)
{
	if (!r)
		return;
	json_decref(r->root);
	memset(r, 0, sizeof(*r));
}

int adm_review_api_version(const adm_review_t *r, char *buf, size_t len)
{
	int n = *r->group ? snprintf(buf, len, "%s/%s", r->group, r->version)
	                  : snprintf(buf, len, "%s", r->version);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The longest prefix of s within max bytes that ends on a UTF-8 character
 * boundary (jansson has already checked the encoding). */
static size_t adm_review_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

static json_t *adm_review_warnings(const json_t *warnings)
{
	json_t *out = json_array();
	size_t i, j;
	const json_t *w;
	if (!out)
		return NULL;
	json_array_foreach(warnings, i, w)
	{
		if (!json_is_string(w) || !json_string_length(w))
			continue;
		size_t n = adm_review_utf8_cut(json_string_value(w), json_string_length(w),
		                               ADM_REVIEW_WARNING_MAX);
		json_t *cut = json_stringn(json_string_value(w), n);
		if (!cut)
			goto fail;
		int dup = 0;
		json_t *seen;
		json_array_foreach(out, j, seen) dup |= json_equal(seen, cut);
		if (dup)
			json_decref(cut);
		else if (json_array_append_new(out, cut))
			goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* status of a denial: 403 Forbidden, every message in one line (what
 * kubectl prints after "denied the request:"), one cause per denial. */
static json_t *adm_review_status(const json_t *denials)
{
	json_t *causes = json_array();
	char *msg = NULL;
	size_t mlen = 0, i;
	const json_t *d;
	if (!causes)
		return NULL;
	json_array_foreach(denials, i, d)
	{
		const char *field = json_string_value(json_object_get(d, "field"));
		const char *m = json_string_value(json_object_get(d, "message"));
		if (!m)
			m = "denied";
		if (field && !*field)
			field = NULL;
		size_t add = (mlen ? 2 : 0) + (field ? strlen(field) + 2 : 0) + strlen(m);
		char *nm = realloc(msg, mlen + add + 1);
		if (!nm)
			goto fail;
		msg = nm;
		mlen += (size_t)sprintf(msg + mlen, "%s%s%s%s", mlen ? "; " : "",
		                        field ? field : "", field ? ": " : "", m);
		json_t *c = json_pack("{s:s, s:s}", "reason", "FieldValueInvalid", "message", m);
		/* The _new setters take the reference even when they fail. */
		if (!c || json_array_append_new(causes, c) ||
		    (field && json_object_set_new(c, "field", json_string(field))))
			goto fail;
	}
	json_t *st =
	    json_pack("{s:s, s:i, s:s, s:s, s:{s:o}}", "status", "Failure", "code", 403, "reason",
	              "Forbidden", "message", msg ? msg : "denied", "details", "causes", causes);
	free(msg);
	return st;
fail:
	free(msg);
	json_decref(causes);
	return NULL;
}

char *adm_review_response(const char *uid, const json_t *denials, const json_t *warnings,
                          size_t *len)
{
	int allowed = json_array_size(denials) == 0;
	json_t *resp = json_pack("{s:s, s:b}", "uid", uid ? uid : "", "allowed", allowed);
	json_t *root = NULL;
	char *text = NULL;
	if (!resp)
		return NULL;
	if (json_array_size(warnings)) {
		json_t *w = adm_review_warnings(warnings);
		if (!w || json_object_set_new(resp, "warnings", w))
			goto done;
		if (!json_array_size(w))
			json_object_del(resp, "warnings");
	}
	if (!allowed) {
		json_t *st = adm_review_status(denials);
		if (!st || json_object_set_new(resp, "status", st))
			goto done;
	}
	root = json_pack("{s:s, s:s, s:O}", "apiVersion", ADM_REVIEW_API_VERSION, "kind",
	                 ADM_REVIEW_KIND, "response", resp);
	if (!root)
		goto done;
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text && len)
		*len = strlen(text);
done:
	json_decref(root);
	json_decref(resp);
	return text;
}

void adm_review_denial_reason(const char *field, char *buf, size_t len)
{
	size_t n = 0;
	if (!len)
		return;
	if (!field || !*field) {
		snprintf(buf, len, "object");
		return;
	}
	for (const char *p = field; *p && *p != '.' && *p != '[' && n + 1 < len && n < 32; p++) {
		char c = *p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-')
			buf[n++] = c;
	}
	buf[n] = '\0';
	if (!n)
		snprintf(buf, len, "other");
}
