/* contour/loop.h: the event loop and timers.
 *
 * Everything in the process runs on one libevent loop. Modules add their own
 * events (listeners, bufferevents, fds) to the base returned here in their
 * start hook and remove them in stop. Nothing may block the loop: use
 * nonblocking sockets, libcurl's multi interface, and timers.
 */
#ifndef CONTOUR_LOOP_H
#define CONTOUR_LOOP_H

#include <stdint.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
typedef struct contour_module contour_module_t;
typedef struct contour_timer contour_timer_t;

/* contour_event_base: the loop. Borrowed; valid from init to free. */
struct event_base *contour_event_base(contour_module_t *mod);

typedef void (*contour_timer_fn)(contour_timer_t *t, void *ud);

/* contour_timer_new: a disarmed one-shot timer on the loop; NULL on
 * allocation failure. Free it with contour_timer_free() (NULL accepted),
 * which also disarms it. */
contour_timer_t *contour_timer_new(contour_module_t *mod, contour_timer_fn fn, void *ud);
void contour_timer_free(contour_timer_t *t);

/* contour_timer_arm: fire once after ms milliseconds, replacing any earlier
 * arming. contour_timer_disarm: cancel. contour_timer_armed: non-zero if
 * pending. */
int contour_timer_arm(contour_timer_t *t, int64_t ms);
void contour_timer_disarm(contour_timer_t *t);
int contour_timer_armed(const contour_timer_t *t);

/* contour_listen_tcp: a nonblocking, close-on-exec listening TCP socket on
 * a numeric IPv4 or IPv6 address and port (0 picks a free one), with
 * SO_REUSEADDR (a restart need not wait out TIME_WAIT; two listeners still
 * cannot share a port). The bound port in *bound (may be NULL). Returns the
 * fd, or a negative errno: -EINVAL for an address that is not numeric,
 * -EADDRINUSE, ... ABI 1.6. */
int contour_listen_tcp(const char *address, int port, int backlog, int *bound);

/* contour_conf_check_address: config[key] (a module's validated config)
 * is a numeric IPv4 or IPv6 address to listen on: CONTOUR_EOK, or
 * CONTOUR_ECONFIG with "KEY: 'x' is not a numeric IPv4 or IPv6 address" in
 * err. Numeric only: resolving a name would block the loop, and a name with
 * several addresses leaves unclear what is listened on. ABI 1.6. */
int contour_conf_check_address(const json_t *config, const char *key, char *err, size_t errlen);

/* contour_now_ms: monotonic milliseconds, cached per loop iteration. */
int64_t contour_now_ms(contour_module_t *mod);

#ifdef __cplusplus
}
#endif
#endif
