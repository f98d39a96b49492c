/* modules/tls-delegation/td.h: the tls-delegation module's private
 * interfaces.
 *
 *   tls-delegation.c  the descriptor and the processor: delegations into
 *                     the DAG
 *   td_check.c        what a well-formed TLSCertificateDelegation is, for
 *                     the processor (a malformed one is ignored, as
 *                     upstream's decoder drops it) and the validator (a
 *                     malformed one is refused at apply time)
 */
#ifndef TD_H
#define TD_H

#include <stddef.h>
#include <contour/module.h>

#define TD_API  "projectcontour.io/v1"
#define TD_KIND "TLSCertificateDelegation"

/* The first field of obj that does not have the type upstream's Go struct
 * gives it: returns what is wrong ("is not a list") with the field's path
 * in field, or NULL when the object decodes. Upstream decodes the whole
 * object or none of it, so one bad field discards the object. */
const char *td_malformed(const json_t *obj, char *field, size_t len);

/* The validator (contour/admission.h). */
void td_validate(contour_module_t *mod, const contour_review_t *r, contour_verdict_t *v, void *ud);

#endif
