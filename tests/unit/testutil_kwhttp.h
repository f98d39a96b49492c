/* tests/unit/testutil_kwhttp.h: a scripted stand-in for k8s-watch's HTTP
 * client, for the suites that link kw_lease.c or kw_status.c without
 * kw_http.c (check_kw_lease, check_kw_status). It defines kw_http_request,
 * kw_req_cancel, kw_http_request_sync and kw_status_message: every request
 * is recorded and stays in flight until the test answers it with
 * tu_kw_reply, so the test decides what the API server says and when. */
#ifndef TESTS_TESTUTIL_KWHTTP_H
#define TESTS_TESTUTIL_KWHTTP_H

#include "tests/unit/testutil.h"
#include "modules/k8s-watch/kw.h"

/* One request, as the code under test made it (strings are copies). */
struct kw_req {
	kw_done_fn done;
	void *ud;
	char *method, *path;
	char *body, *ua; /* NULL when the caller passed none */
	long timeout_ms;
	int live; /* neither answered nor cancelled yet */
};

#define TU_KW_MAX 256
/* Every request since the last tu_kw_reset, oldest first. */
extern struct kw_req *tu_kw_reqs[TU_KW_MAX];
extern int tu_kw_n;

/* kw_http_request_sync (the Lease release at shutdown) answers
 * tu_kw_sync_status, 200 after a reset, and keeps the method and body of
 * its last call here (NULL until one came). */
extern long tu_kw_sync_status;
extern char *tu_kw_sync_method, *tu_kw_sync_body;

/* Forget every request (the code under test must hold none: stop it
 * first) and the sync call; the sync status goes back to 200. */
void tu_kw_reset(void);
/* How many requests are in flight. */
int tu_kw_nlive(void);
/* The oldest request in flight; fails the test when there is none. */
struct kw_req *tu_kw_live(void);
/* The request in flight; fails the test when there are none or several. */
struct kw_req *tu_kw_only(void);
/* Answer r with status and body (NULL: empty), without Retry-After: r
 * leaves the flight and its done callback runs now. */
void tu_kw_reply(struct kw_req *r, long status, const char *body);
/* Run core's loop until a request is in flight (with only: exactly one) or
 * timeout_ms passed, and return it: tu_kw_only with only, else tu_kw_live.
 * Fails the test on timeout, or when its method is not method (unless
 * NULL). */
struct kw_req *tu_kw_wait(core_t *core, const char *method, int only, int64_t timeout_ms);

#endif
