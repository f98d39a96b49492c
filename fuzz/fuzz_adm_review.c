/* fuzz/fuzz_adm_review.c: libFuzzer target for the admission module's
 * AdmissionReview parser and answer builder.
 *
 * Any bytes: the parser either fails with a reason or yields a review whose
 * fields are the strings the contract says (uid non-empty, operation one of
 * four, object and oldObject objects or NULL). A parsed review is answered
 * with denials and warnings made from its own strings, and the answer must
 * be JSON that echoes the uid and says allowed exactly when there was no
 * denial. Parsing twice gives the same result. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Compiled in rather than linked: `make fuzz` builds each target from its
 * one file plus the core sources. */
#include "modules/admission/adm_review.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_check_answer(const adm_review_t *r, int deny)
{
	json_t *denials = json_array(), *warnings = json_array();
	if (deny)
		json_array_append_new(
		    denials, json_pack("{s:s, s:s}", "field", r->kind, "message", r->operation));
	json_array_append_new(warnings, json_string(r->uid));
	json_array_append_new(warnings, json_string(r->version));
	char *text = adm_review_response(r->uid, denials, warnings, NULL);
	if (!text)
		abort();
	json_t *root = json_loads(text, 0, NULL);
	if (!root)
		abort();
	json_t *resp = json_object_get(root, "response");
	if (strcmp(json_string_value(json_object_get(resp, "uid")), r->uid))
		abort();
	if (json_is_true(json_object_get(resp, "allowed")) == deny)
		abort();
	if (json_object_get(resp, "patch"))
		abort();
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(resp, "warnings"), i, w)
	{
		if (json_string_length(w) > ADM_REVIEW_WARNING_MAX)
			abort();
	}
	char av[64];
	(void)adm_review_api_version(r, av, sizeof(av));
	char reason[40];
	adm_review_denial_reason(r->kind, reason, sizeof(reason));
	if (strlen(reason) > 32 || !*reason)
		abort();
	json_decref(root);
	free(text);
	json_decref(denials);
	json_decref(warnings);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	adm_review_t r, r2;
	char err[256], err2[256];
	int rc = adm_review_parse((const char *)data, size, &r, err, sizeof(err));
	int rc2 = adm_review_parse((const char *)data, size, &r2, err2, sizeof(err2));
	if (rc != rc2)
		abort();
	if (rc != 0) {
		if (!*err || strcmp(err, err2) || r.root || r.uid)
			abort();
		return 0;
	}
	if (!r.uid || !*r.uid || !r.group || !r.version || !*r.version || !r.kind || !*r.kind)
		abort();
	if (strcmp(r.operation, "CREATE") && strcmp(r.operation, "UPDATE") &&
	    strcmp(r.operation, "DELETE") && strcmp(r.operation, "CONNECT"))
		abort();
	if ((r.object && !json_is_object(r.object)) ||
	    (r.old_object && !json_is_object(r.old_object)))
		abort();
	if (strcmp(r.uid, r2.uid) || r.dry_run != r2.dry_run)
		abort();
	fz_check_answer(&r, 0);
	fz_check_answer(&r, 1);
	adm_review_fini(&r);
	adm_review_fini(&r2);
	return 0;
}
