/* modules/admission/adm_validate.c: run the validators of one review.
 *
 * The body is parsed (adm_review.c), the validators of its kind run
 * (contour_review_run) and the verdict becomes the answer. Metrics labels
 * are bounded whatever a client sends: `kind` is the review's kind only
 * when a loaded module validates it ("other" otherwise, and for malformed
 * reviews), `operation` is one of the four the parser accepts ("other" for
 * a malformed review), a denial's `reason` is the status reason the
 * validator gave (DuplicateVhost, TimeoutPolicyNotValid: names in the
 * validators' code), else its field's top-level segment. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/admission/adm.h"
#include "modules/admission/adm_review.h"

static double adm_validate_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The body: prefix then detail, one line. */
static void adm_validate_text(adm_answer_t *a, int code, const char *reason, const char *prefix,
                              const char *detail)
{
	a->code = code;
	a->reason = reason;
	a->ctype = "text/plain; charset=utf-8";
	a->body = NULL;
	a->len = 0;
	size_t n = strlen(prefix) + strlen(detail) + 2;
	char *b = malloc(n);
	if (!b)
		return;
	a->len = (size_t)snprintf(b, n, "%s%s\n", prefix, detail);
	a->body = b;
}

static void adm_validate_count(adm_ctx_t *ctx, const char *kind, const char *op, const char *result,
                               double started)
{
	const char *rv[] = {kind, op, result};
	const char *dv[] = {kind};
	contour_metric_add(ctx->metrics.reviews, rv, 1);
	contour_metric_observe(ctx->metrics.duration, dv, adm_validate_now() - started);
}

void adm_validate(adm_ctx_t *ctx, const char *body, size_t len, adm_answer_t *a)
{
	double started = adm_validate_now();
	adm_review_t r;
	char err[320], api_version[512];
	contour_verdict_t *v = NULL;

	if (adm_review_parse(body, len, &r, err, sizeof(err)) != 0) {
		contour_log(ctx->mod, CONTOUR_LOG_DEBUG, "400 for a review: %s", err);
		adm_validate_text(a, 400, "Bad Request", "400 bad AdmissionReview: ", err);
		adm_validate_count(ctx, "other", "other", "error", started);
		return;
	}
	if (adm_review_api_version(&r, api_version, sizeof(api_version)) != 0) {
		adm_validate_text(a, 400, "Bad Request", "400 bad AdmissionReview: ",
		                  "request.kind: group and version too long");
		adm_validate_count(ctx, "other", "other", "error", started);
		adm_review_fini(&r);
		return;
	}
	v = contour_verdict_new();
	if (!v)
		goto oom;
	contour_review_t review = {
	    .operation = r.operation,
	    .object = r.object,
	    .old_object = r.old_object,
	    .dry_run = r.dry_run,
	};
	/* DELETE and CONNECT are run too: the validators decide. */
	int ran = contour_review_run(ctx->mod, api_version, r.kind, &review, v);
	const json_t *denials = contour_verdict_denials(v);
	const json_t *warnings = contour_verdict_warnings(v);
	int allowed = contour_verdict_allowed(v);
	a->body = adm_review_response(r.uid, allowed ? NULL : denials, warnings, &a->len);
	if (!a->body)
		goto oom;
	a->code = 200;
	a->reason = "OK";
	a->ctype = "application/json";
	const char *kind = ran ? r.kind : "other";
	if (!allowed) {
		size_t i;
		const json_t *d;
		json_array_foreach(denials, i, d)
		{
			/* The validator's reason when it gives one (a status reason:
			 * the validators' code names them all), else the field. */
			char reason[40];
			const char *given = json_string_value(json_object_get(d, "reason"));
			if (given)
				snprintf(reason, sizeof(reason), "%s", given);
			else
				adm_review_denial_reason(json_string_value(json_object_get(d, "field")),
				                         reason, sizeof(reason));
			const char *lv[] = {reason};
			contour_metric_add(ctx->metrics.denials, lv, 1);
		}
	}
	contour_log(ctx->mod, CONTOUR_LOG_DEBUG, "%s %s %s uid=%s%s: %s (%d validators)",
	            r.operation, api_version, r.kind, r.uid, r.dry_run ? " (dry run)" : "",
	            allowed ? "allowed" : "denied", ran);
	adm_validate_count(ctx, kind, r.operation, allowed ? "allowed" : "denied", started);
	contour_verdict_free(v);
	adm_review_fini(&r);
	return;
oom:
	contour_log(ctx->mod, CONTOUR_LOG_ERR, "out of memory answering review uid=%s", r.uid);
	adm_validate_text(a, 500, "Internal Server Error", "500 ", "out of memory");
	adm_validate_count(ctx, "other", r.operation, "error", started);
	contour_verdict_free(v);
	adm_review_fini(&r);
}
