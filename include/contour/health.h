/* contour/health.h: named health checks, and the process's overall health.
 *
 * A module that depends on something outside the process (the Kubernetes
 * API server) registers a check in init and reports into it whenever it
 * learns something: passing, or failing with a message naming the cause.
 * Whoever answers a health probe (the metrics module's /healthz) asks for
 * the overall state: healthy when every check passes, and none registered
 * counts as healthy; otherwise the first failing check, in registration
 * order, with its message. Upstream's /healthz answers
 * "Failed Kubernetes Check: <error>" from exactly that.
 *
 * Threads: every call here is made on the loop thread. Nothing blocks and
 * nothing calls back; a report only stores the state (and logs a change
 * between passing and failing).
 *
 * ABI 1.7.
 */
#ifndef CONTOUR_HEALTH_H
#define CONTOUR_HEALTH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct contour_module contour_module_t;
typedef struct contour_health_check contour_health_check_t;

/* The longest message kept, in bytes; a longer one is cut. */
#define CONTOUR_HEALTH_MESSAGE_MAX 512

/* contour_register_health_check: add the check `name` (copied; one word
 * such as "Kubernetes": answers say "Failed NAME Check: ..."). Only in
 * init. A new check is failing with the message "not checked yet", so a
 * probe before the first report fails; report as soon as something is
 * known. *out is owned by the core and valid until the module's free
 * returns (the core then drops it with the module's other registrations).
 * Returns CONTOUR_EOK, CONTOUR_EINVAL (no name or out), CONTOUR_EEXIST (a
 * check of that name exists), CONTOUR_ESTATE (outside init) or
 * CONTOUR_ENOMEM. */
int contour_register_health_check(contour_module_t *mod, const char *name,
                                  contour_health_check_t **out);

/* contour_health_pass: the check passes. Cheap when it already does, so it
 * may be called on every sign of life. NULL is ignored. */
void contour_health_pass(contour_health_check_t *check);

/* contour_health_fail: the check fails with the message fmt (printf-style,
 * cut to CONTOUR_HEALTH_MESSAGE_MAX - 1 bytes). A later call replaces the
 * message. The core logs a change from passing to failing (warning, with
 * the message) and back (info). NULL is ignored. */
void contour_health_fail(contour_health_check_t *check, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* contour_health_check_ok: non-zero when the check passes. */
int contour_health_check_ok(const contour_health_check_t *check);

/* contour_health_state: 1 when every registered check passes (or none is
 * registered); else 0, with the first failing check's name in *name and
 * its message in *message (either may be NULL). Both are borrowed: valid
 * until the next health call or until the check's module is freed, so copy
 * them to keep them. mod is the caller's handle. */
int contour_health_state(contour_module_t *mod, const char **name, const char **message);

#ifdef __cplusplus
}
#endif
#endif
