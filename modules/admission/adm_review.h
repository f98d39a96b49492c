/* modules/admission/adm_review.h: the AdmissionReview wire format.
 *
 * Pure functions over jansson and nothing else (no core, no loop): the
 * module, its unit suite and the fuzz target link adm_review.c alone. */
#ifndef ADM_REVIEW_H
#define ADM_REVIEW_H

#include <stddef.h>
#include <jansson.h>

#define ADM_REVIEW_API_VERSION "admission.k8s.io/v1"
#define ADM_REVIEW_KIND        "AdmissionReview"
/* kube-apiserver cuts warnings to 256 runes once their total is large; we
 * keep each one within 256 bytes (so within 256 runes) ourselves. */
#define ADM_REVIEW_WARNING_MAX 256

/* One parsed request. Every pointer is borrowed from root. */
typedef struct adm_review {
	json_t *root;
	const char *uid;
	const char *group;        /* request.kind.group; "" for the core group */
	const char *version;      /* request.kind.version */
	const char *kind;         /* request.kind.kind */
	const char *operation;    /* CREATE, UPDATE, DELETE or CONNECT */
	const json_t *object;     /* NULL when absent or null */
	const json_t *old_object; /* NULL when absent or null */
	int dry_run;
} adm_review_t;

/* adm_review_parse: body (len bytes, not NUL-terminated) as an
 * admission.k8s.io/v1 AdmissionReview request. Returns 0 and fills *out
 * (release it with adm_review_fini), or -1 with a short reason in err (the
 * answer's 400 text) and *out zeroed. */
int adm_review_parse(const char *body, size_t len, adm_review_t *out, char *err, size_t errlen);
void adm_review_fini(adm_review_t *r);

/* adm_review_api_version: "group/version", or "version" for the core
 * group, into buf. Returns 0, or -1 when it does not fit. */
int adm_review_api_version(const adm_review_t *r, char *buf, size_t len);

/* adm_review_response: the answer to the review uid. denials are
 * [{"field": "..." or null, "message": "..."}] (contour_verdict_denials),
 * warnings are strings; either may be NULL. Allowed when there is no
 * denial; otherwise status 403 Forbidden, the messages joined with "; "
 * ("field: message" when a field is given) and one cause per denial.
 * Warnings are de-duplicated and cut to ADM_REVIEW_WARNING_MAX bytes at a
 * UTF-8 character boundary. Never a patch. Returns a new NUL-terminated
 * string (free()), its length in *len if non-NULL, or NULL on allocation
 * failure. */
char *adm_review_response(const char *uid, const json_t *denials, const json_t *warnings,
                          size_t *len);

/* adm_review_denial_reason: the label of a denial for the denials counter:
 * the top-level segment of its field ("spec" for "spec.routes[0].x"),
 * "object" without a field; only [A-Za-z0-9_-], at most 32 bytes, "other"
 * when nothing is left. Written into buf (at least 33 bytes). */
void adm_review_denial_reason(const char *field, char *buf, size_t len);

#endif
