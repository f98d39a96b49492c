/* contour/admission.h: validators, the rules a processor applies to one
 * object on its own, offered to an admission webhook.
 *
 * A processor module registers, in init, a validator per kind it reads. The
 * validator answers for one object under review: the errors the DAG would
 * put into that object's status that do not depend on other objects are
 * denials (with upstream's status message and the field they concern);
 * references to objects that may not exist yet are warnings, never
 * denials, so creation order does not matter. A validator may read the
 * store (contour_store_get, contour_store_foreach) but must not change it,
 * and runs on the core's loop like every hook.
 *
 * A webhook module (admission) runs the validators of a review's kind with
 * contour_review_run and turns the verdict into its answer. Neither side
 * knows the other.
 */
#ifndef CONTOUR_ADMISSION_H
#define CONTOUR_ADMISSION_H

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct contour_module contour_module_t;

/* One object under review. */
typedef struct contour_review {
	const char *operation;    /* "CREATE", "UPDATE", "DELETE" or "CONNECT" */
	const json_t *object;     /* as it would be stored; NULL for DELETE */
	const json_t *old_object; /* UPDATE and DELETE: as it is stored; else NULL */
	int dry_run;              /* the answer must be the same; nothing changes */
} contour_review_t;

/* What the validators found; the webhook owns it. */
typedef struct contour_verdict contour_verdict_t;

contour_verdict_t *contour_verdict_new(void);
void contour_verdict_free(contour_verdict_t *v);

/* contour_verdict_deny: one reason to refuse the object. field is the path
 * of the field it concerns ("spec.routes[0].timeoutPolicy.response"), or
 * NULL for the object as a whole; the message is upstream's, as in the
 * object's status. */
void contour_verdict_deny(contour_verdict_t *v, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* contour_verdict_deny_reason: the same, with the status reason the object
 * would get ("DuplicateVhost", "TimeoutPolicyNotValid"), a short CamelCase
 * word a webhook may count denials by. */
void contour_verdict_deny_reason(contour_verdict_t *v, const char *reason, const char *field,
                                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* contour_verdict_warn: allowed, but the client is told (a Service or
 * Secret that does not exist yet, ...). */
void contour_verdict_warn(contour_verdict_t *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* contour_verdict_ignore: the object is not this controller's (another
 * ingress class): allow it untouched, dropping what was found so far;
 * later validators of the review are not run. */
void contour_verdict_ignore(contour_verdict_t *v);

/* Reading a verdict. Denials are [{"reason": "..." (only when given),
 * "field": "..." or null, "message": "..."}], warnings are strings; both
 * borrowed from v. */
int contour_verdict_allowed(const contour_verdict_t *v);
int contour_verdict_ignored(const contour_verdict_t *v);
const json_t *contour_verdict_denials(const contour_verdict_t *v);
const json_t *contour_verdict_warnings(const contour_verdict_t *v);

typedef void (*contour_validator_fn)(contour_module_t *mod, const contour_review_t *review,
                                     contour_verdict_t *v, void *ud);

/* contour_register_validator: validate objects of (api_version, kind) for
 * the calling module, both required ("projectcontour.io/v1", "HTTPProxy").
 * Only in init. Several modules may validate one kind; they run in
 * registration order. */
int contour_register_validator(contour_module_t *mod, const char *api_version, const char *kind,
                               contour_validator_fn fn, void *ud);

/* contour_review_run: run the validators of (api_version, kind) on review,
 * into v. Returns how many ran: 0 means no loaded module validates the kind
 * (the webhook then allows it). */
int contour_review_run(contour_module_t *mod, const char *api_version, const char *kind,
                       const contour_review_t *review, contour_verdict_t *v);

/* contour_review_is_ours: 1 when a routing object's validator has work:
 * a CREATE or UPDATE, of an object not being deleted (its finalizers must
 * stay removable), of this controller's ingress class. For another class
 * it calls contour_verdict_ignore (the object is allowed untouched). A
 * DELETE or CONNECT, or a deletion under way: 0, allowed. */
int contour_review_is_ours(contour_module_t *mod, const contour_review_t *r, contour_verdict_t *v);

#ifdef __cplusplus
}
#endif
#endif
