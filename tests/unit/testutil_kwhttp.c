/* tests/unit/testutil_kwhttp.c: the scripted HTTP client stand-in (see
 * testutil_kwhttp.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil_kwhttp.h"

struct kw_req *tu_kw_reqs[TU_KW_MAX];
int tu_kw_n;
long tu_kw_sync_status = 200;
char *tu_kw_sync_method;
char *tu_kw_sync_body;

static char *tu_kw_dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

kw_req_t *kw_http_request(kw_http_t *h, const char *method, const char *path, const char *body,
                          long timeout_ms, const char *ua_suffix, kw_done_fn done, void *ud)
{
	(void)h;
	ck_assert_int_lt(tu_kw_n, TU_KW_MAX);
	struct kw_req *r = calloc(1, sizeof(*r));
	ck_assert_ptr_nonnull(r);
	r->done = done;
	r->ud = ud;
	r->method = strdup(method);
	r->path = strdup(path);
	r->body = tu_kw_dup(body);
	r->ua = tu_kw_dup(ua_suffix);
	r->timeout_ms = timeout_ms;
	r->live = 1;
	tu_kw_reqs[tu_kw_n++] = r;
	return r;
}

/* The code under test still owns the handle after a cancel (it may hold
 * it): the record stays until tu_kw_reset. */
void kw_req_cancel(kw_req_t *r)
{
	if (r)
		r->live = 0;
}

long kw_http_request_sync(kw_http_t *h, const char *method, const char *path, const char *body,
                          long timeout_ms, const char *ua_suffix)
{
	(void)h;
	(void)path;
	(void)timeout_ms;
	(void)ua_suffix;
	free(tu_kw_sync_body);
	free(tu_kw_sync_method);
	tu_kw_sync_body = tu_kw_dup(body);
	tu_kw_sync_method = strdup(method);
	return tu_kw_sync_status;
}

/* The real one digs the message out of a Status body; the suites only need
 * a text that says the request failed. */
void kw_status_message(const kw_resp_t *resp, char *out, size_t cap)
{
	snprintf(out, cap, "%s", resp->error ? resp->error : "failed");
}

void tu_kw_reset(void)
{
	for (int i = 0; i < tu_kw_n; i++) {
		free(tu_kw_reqs[i]->method);
		free(tu_kw_reqs[i]->path);
		free(tu_kw_reqs[i]->body);
		free(tu_kw_reqs[i]->ua);
		free(tu_kw_reqs[i]);
		tu_kw_reqs[i] = NULL;
	}
	tu_kw_n = 0;
	free(tu_kw_sync_body);
	free(tu_kw_sync_method);
	tu_kw_sync_body = tu_kw_sync_method = NULL;
	tu_kw_sync_status = 200;
}

int tu_kw_nlive(void)
{
	int n = 0;
	for (int i = 0; i < tu_kw_n; i++)
		n += tu_kw_reqs[i]->live;
	return n;
}

struct kw_req *tu_kw_live(void)
{
	for (int i = 0; i < tu_kw_n; i++)
		if (tu_kw_reqs[i]->live)
			return tu_kw_reqs[i];
	ck_abort_msg("no request in flight");
	return NULL;
}

struct kw_req *tu_kw_only(void)
{
	struct kw_req *found = NULL;
	for (int i = 0; i < tu_kw_n; i++) {
		if (tu_kw_reqs[i]->live) {
			ck_assert_msg(found == NULL, "two requests in flight");
			found = tu_kw_reqs[i];
		}
	}
	ck_assert_msg(found != NULL, "no request in flight");
	return found;
}

void tu_kw_reply(struct kw_req *r, long status, const char *body)
{
	kw_resp_t resp = {.status = status,
	                  .body = body ? body : "",
	                  .len = body ? strlen(body) : 0,
	                  .retry_after = -1};
	r->live = 0;
	r->done(&resp, r->ud);
}

static int tu_kw_some_live(void *ud)
{
	(void)ud;
	return tu_kw_nlive() > 0;
}

static int tu_kw_one_live(void *ud)
{
	(void)ud;
	return tu_kw_nlive() == 1;
}

struct kw_req *tu_kw_wait(core_t *core, const char *method, int only, int64_t timeout_ms)
{
	ck_assert_msg(tu_run_until(core, only ? tu_kw_one_live : tu_kw_some_live, NULL, timeout_ms),
	              "no request came");
	struct kw_req *r = only ? tu_kw_only() : tu_kw_live();
	if (method)
		ck_assert_str_eq(r->method, method);
	return r;
}
