/* modules/shutdown-manager/sm_drain.c: the drain, as upstream's
 * `contour envoy shutdown` runs it, on the loop.
 *
 *   ready file already there?   done (hooks are delivered at least once)
 *   take <ready-file>.lock      another drain holds it: wait for its
 *                               ready file instead of draining twice
 *   wait --drain-delay
 *   POST /healthcheck/fail      4 tries, 200 ms x5.0, jitter 0.1; all
 *                               failing is logged and the drain goes on
 *   wait --check-delay
 *   GET /stats/prometheus?filter=...   every --check-interval, until the
 *                               open connections are <= --min-open-connections
 *                               (and --min-drain-duration has passed)
 *   write the ready file
 *
 * and, beyond upstream, two ends that do not depend on Envoy answering:
 * --drain-timeout over the whole drain, and --unreachable-timeout while
 * nothing listens on the admin socket (without it, an Envoy that never
 * started holds the pod for the whole grace period). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "modules/shutdown-manager/sm.h"

typedef enum {
	SM_DRAIN_IDLE,
	SM_DRAIN_LOCK_WAIT, /* another process drains; we wait for its file */
	SM_DRAIN_DELAY,
	SM_DRAIN_HCFAIL,
	SM_DRAIN_CHECK_DELAY,
	SM_DRAIN_POLL,
	SM_DRAIN_DONE,
} sm_drain_state_t;

struct sm_drain {
	sm_ctx_t *ctx;
	sm_drain_done_fn done;
	sm_admin_t *admin;
	contour_timer_t *step;     /* the next step of the sequence */
	contour_timer_t *deadline; /* --drain-timeout */
	sm_drain_state_t state;
	int lock_fd;
	int hc_tries;
	int64_t started_ms;
	int64_t unreachable_since_ms; /* 0: the admin answered last time */
	int lock_wait_logged;
	int min_drain_logged;
	double last_open;
	char *filter_path; /* /stats/prometheus?filter=<escaped> */
};

static const char *sm_drain_exclude(const sm_drain_t *d)
{
	return d->ctx->set.exclude ? d->ctx->set.exclude : "";
}

static void sm_drain_seconds(sm_drain_t *d)
{
	double secs = (double)(contour_now_ms(d->ctx->mod) - d->started_ms) / 1000.0;
	contour_metric_set(d->ctx->metrics.drain_seconds, NULL, secs);
}

/* sm_drain_finish: the one way out. write: create the ready file (not when
 * another process did, or the drain was abandoned). */
static void sm_drain_finish(sm_drain_t *d, int write, const char *why)
{
	sm_ctx_t *ctx = d->ctx;
	int ok = 1;
	contour_timer_disarm(d->step);
	contour_timer_disarm(d->deadline);
	sm_admin_cancel(d->admin);
	if (write) {
		int rc = sm_ready_write(ctx->set.ready_file);
		if (rc != 0) {
			sm_log(ctx, CONTOUR_LOG_ERR, "cannot create the ready file %s: %s",
			       ctx->set.ready_file, strerror(-rc));
			ok = 0;
		}
	}
	sm_lock_release(d->lock_fd);
	d->lock_fd = -1;
	d->state = SM_DRAIN_DONE;
	sm_drain_seconds(d);
	double secs = (double)(contour_now_ms(ctx->mod) - d->started_ms) / 1000.0;
	if (ok)
		sm_log(ctx, CONTOUR_LOG_INFO, "drain finished after %.1fs: %s%s", secs, why,
		       write ? "; ready file written" : "");
	if (d->done)
		d->done(ctx, ok);
}

static void sm_drain_poll(sm_drain_t *d);
static void sm_drain_hcfail(sm_drain_t *d);

/* Note an admin failure; returns non-zero when --unreachable-timeout ended
 * the drain. Only "nothing listens" counts: an Envoy that answers 500 or
 * garbage is running and may hold connections, so only --drain-timeout
 * ends that. */
static int sm_drain_admin_failed(sm_drain_t *d, const char *what, int unreachable)
{
	sm_ctx_t *ctx = d->ctx;
	const char *labels[] = {what};
	contour_metric_add(ctx->metrics.admin_errors, labels, 1);
	if (!unreachable) {
		d->unreachable_since_ms = 0;
		return 0;
	}
	int64_t now = contour_now_ms(ctx->mod);
	if (!d->unreachable_since_ms)
		d->unreachable_since_ms = now;
	if (ctx->set.unreachable_ms > 0 && now - d->unreachable_since_ms >= ctx->set.unreachable_ms) {
		sm_log(ctx, CONTOUR_LOG_WARN,
		       "nothing has listened on Envoy's admin socket %s for %.1fs "
		       "(--unreachable-timeout): Envoy is not running, so there is nothing to drain",
		       ctx->set.admin_address, (double)(now - d->unreachable_since_ms) / 1000.0);
		sm_drain_finish(d, 1, "Envoy's admin socket unreachable");
		return 1;
	}
	return 0;
}

static void sm_drain_check_delay(sm_drain_t *d)
{
	d->state = SM_DRAIN_CHECK_DELAY;
	contour_timer_arm(d->step, d->ctx->set.check_delay_ms);
}

static void sm_drain_hcfail_cb(void *ud, int rc, long status, const char *body, size_t len,
                               const char *errmsg, int unreachable)
{
	sm_drain_t *d = ud;
	sm_ctx_t *ctx = d->ctx;
	if (rc == 0 && status == 200) {
		sm_log(ctx, CONTOUR_LOG_INFO,
		       "Envoy's health checks now fail (POST /healthcheck/fail): it drains");
		d->unreachable_since_ms = 0;
		sm_drain_check_delay(d);
		return;
	}
	char why[256];
	if (rc == 0)
		snprintf(why, sizeof(why), "HTTP %ld", status);
	else
		snprintf(why, sizeof(why), "%s", errmsg ? errmsg : "error");
	if (sm_drain_admin_failed(d, "healthcheck_fail", rc != 0 && unreachable))
		return;
	if (d->hc_tries >= SM_HCFAIL_TRIES) {
		/* Upstream logs and goes on: the poll below still decides. */
		sm_log(ctx, CONTOUR_LOG_ERR,
		       "POST /healthcheck/fail failed %d times (last: %s); draining anyway",
		       d->hc_tries, why);
		sm_drain_check_delay(d);
		return;
	}
	/* Duration * Factor^(try-1), plus up to Jitter of it, as wait.Backoff. */
	double wait = SM_HCFAIL_FIRST_MS * pow(SM_HCFAIL_FACTOR, d->hc_tries - 1);
	wait += wait * SM_HCFAIL_JITTER * ((double)rand() / RAND_MAX);
	sm_log(ctx, CONTOUR_LOG_WARN, "POST /healthcheck/fail: %s; retrying in %.0fms", why, wait);
	contour_timer_arm(d->step, (int64_t)wait);
}

static void sm_drain_hcfail(sm_drain_t *d)
{
	d->state = SM_DRAIN_HCFAIL;
	d->hc_tries++;
	int rc = sm_admin_request(d->admin, "POST", "/healthcheck/fail", sm_drain_hcfail_cb, d);
	if (rc != CONTOUR_EOK)
		sm_drain_hcfail_cb(d, rc, 0, "", 0, contour_strerror(rc), 0);
}

static void sm_drain_next_poll(sm_drain_t *d, int64_t ms)
{
	d->state = SM_DRAIN_POLL;
	contour_timer_arm(d->step, ms);
}

static void sm_drain_stats_cb(void *ud, int rc, long status, const char *body, size_t len,
                              const char *errmsg, int unreachable)
{
	sm_drain_t *d = ud;
	sm_ctx_t *ctx = d->ctx;
	const sm_settings_t *s = &ctx->set;
	char err[256];
	double open = 0;
	size_t series = 0;
	sm_drain_seconds(d);
	if (rc != 0 || status != 200) {
		if (rc == 0)
			snprintf(err, sizeof(err), "HTTP %ld", status);
		else
			snprintf(err, sizeof(err), "%s", errmsg ? errmsg : "error");
		sm_log(ctx, CONTOUR_LOG_WARN, "GET /stats/prometheus: %s", err);
		if (sm_drain_admin_failed(d, "stats", rc != 0 && unreachable))
			return;
		sm_drain_next_poll(d, s->check_interval_ms);
		return;
	}
	d->unreachable_since_ms = 0;
	if (sm_count_open(body, len, s->count, sm_drain_exclude(d), &open, &series, err,
	                  sizeof(err)) != 0) {
		/* Upstream logs a parse error and polls again. */
		sm_log(ctx, CONTOUR_LOG_WARN, "cannot read Envoy's stats: %s", err);
		sm_drain_admin_failed(d, "stats_parse", 0);
		sm_drain_next_poll(d, s->check_interval_ms);
		return;
	}
	d->last_open = open;
	contour_metric_set(ctx->metrics.open_connections, NULL, open);
	int64_t elapsed = contour_now_ms(ctx->mod) - d->started_ms;
	if (open > (double)s->min_open_connections) {
		sm_log(ctx, CONTOUR_LOG_INFO,
		       "%.0f open connections (%zu series), waiting for %" PRId64 " or fewer", open,
		       series, s->min_open_connections);
		sm_drain_next_poll(d, s->check_interval_ms);
		return;
	}
	if (elapsed < s->min_drain_ms) {
		if (!d->min_drain_logged)
			sm_log(ctx, CONTOUR_LOG_INFO,
			       "%.0f open connections; waiting out --min-drain-duration (%.1fs left) "
			       "for endpoints to be de-programmed",
			       open, (double)(s->min_drain_ms - elapsed) / 1000.0);
		d->min_drain_logged = 1;
		int64_t left = s->min_drain_ms - elapsed;
		sm_drain_next_poll(d, left < s->check_interval_ms ? left : s->check_interval_ms);
		return;
	}
	char why[128];
	snprintf(why, sizeof(why), "%.0f open connections (minimum %" PRId64 ")", open,
	         s->min_open_connections);
	sm_drain_finish(d, 1, why);
}

static void sm_drain_poll(sm_drain_t *d)
{
	d->state = SM_DRAIN_POLL;
	int rc = sm_admin_request(d->admin, "GET", d->filter_path, sm_drain_stats_cb, d);
	if (rc != CONTOUR_EOK)
		sm_drain_stats_cb(d, rc, 0, "", 0, contour_strerror(rc), 0);
}

/* Another process holds the lock: it drains, we wait for its file. The
 * lock is retried too, so a holder that died lets us take over. */
static void sm_drain_lock(sm_drain_t *d)
{
	sm_ctx_t *ctx = d->ctx;
	if (sm_ready_exists(ctx->set.ready_file)) {
		sm_drain_finish(d, 0, "the ready file exists (another drain finished)");
		return;
	}
	int fd = sm_lock_try(ctx->set.ready_file);
	if (fd == -EWOULDBLOCK) {
		if (!d->lock_wait_logged)
			sm_log(ctx, CONTOUR_LOG_INFO,
			       "another shutdown holds %s.lock and drains Envoy; waiting for its ready "
			       "file",
			       ctx->set.ready_file);
		d->lock_wait_logged = 1;
		d->state = SM_DRAIN_LOCK_WAIT;
		contour_timer_arm(d->step, SM_LOCK_RETRY_MS);
		return;
	}
	if (fd < 0)
		/* A read-only or missing folder: no lock, but then the ready
		 * file cannot be written either, which finish reports. */
		sm_log(ctx, CONTOUR_LOG_WARN, "cannot lock %s.lock: %s; draining without the lock",
		       ctx->set.ready_file, strerror(-fd));
	d->lock_fd = fd;
	/* Re-check under the lock: the holder may have finished in between. */
	if (fd >= 0 && sm_ready_exists(ctx->set.ready_file)) {
		sm_drain_finish(d, 0, "the ready file exists (another drain finished)");
		return;
	}
	d->state = SM_DRAIN_DELAY;
	if (ctx->set.drain_delay_ms > 0)
		sm_log(ctx, CONTOUR_LOG_INFO, "waiting --drain-delay %.1fs before draining",
		       (double)ctx->set.drain_delay_ms / 1000.0);
	contour_timer_arm(d->step, ctx->set.drain_delay_ms);
}

static void sm_drain_step_cb(contour_timer_t *t, void *ud)
{
	sm_drain_t *d = ud;
	switch (d->state) {
	case SM_DRAIN_LOCK_WAIT:
		sm_drain_lock(d);
		break;
	case SM_DRAIN_DELAY:
		d->hc_tries = 0;
		sm_drain_hcfail(d);
		break;
	case SM_DRAIN_HCFAIL:
		sm_drain_hcfail(d);
		break;
	case SM_DRAIN_CHECK_DELAY:
	case SM_DRAIN_POLL:
		sm_drain_poll(d);
		break;
	default:
		break;
	}
}

static void sm_drain_deadline_cb(contour_timer_t *t, void *ud)
{
	sm_drain_t *d = ud;
	sm_ctx_t *ctx = d->ctx;
	if (d->state == SM_DRAIN_LOCK_WAIT) {
		/* The other drain has the same limit; do not race it. */
		sm_log(ctx, CONTOUR_LOG_WARN,
		       "--drain-timeout (%.1fs) reached while another drain holds the lock; "
		       "writing the ready file",
		       (double)ctx->set.drain_timeout_ms / 1000.0);
	} else {
		char open[64];
		if (isnan(d->last_open))
			snprintf(open, sizeof(open), "no connection count from Envoy yet");
		else
			snprintf(open, sizeof(open), "%.0f connections open", d->last_open);
		sm_log(ctx, CONTOUR_LOG_WARN,
		       "--drain-timeout (%.1fs) reached with %s; writing the ready file anyway",
		       (double)ctx->set.drain_timeout_ms / 1000.0, open);
	}
	sm_drain_finish(d, 1, "--drain-timeout reached");
}

sm_drain_t *sm_drain_new(sm_ctx_t *ctx, sm_drain_done_fn done)
{
	sm_drain_t *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->ctx = ctx;
	d->done = done;
	d->lock_fd = -1;
	d->last_open = NAN;
	d->admin = sm_admin_new(ctx->mod, ctx->set.admin_address);
	d->step = contour_timer_new(ctx->mod, sm_drain_step_cb, d);
	d->deadline = contour_timer_new(ctx->mod, sm_drain_deadline_cb, d);
	char *esc = curl_easy_escape(NULL, sm_count_filter(ctx->set.count), 0);
	if (esc) {
		size_t n = strlen(esc) + 64;
		d->filter_path = malloc(n);
		if (d->filter_path)
			snprintf(d->filter_path, n, "/stats/prometheus?filter=%s", esc);
		curl_free(esc);
	}
	if (!d->admin || !d->step || !d->deadline || !d->filter_path) {
		sm_drain_free(d);
		return NULL;
	}
	return d;
}

void sm_drain_free(sm_drain_t *d)
{
	if (!d)
		return;
	sm_admin_free(d->admin);
	contour_timer_free(d->step);
	contour_timer_free(d->deadline);
	sm_lock_release(d->lock_fd);
	free(d->filter_path);
	free(d);
}

int sm_drain_start(sm_drain_t *d)
{
	if (d->state != SM_DRAIN_IDLE)
		return CONTOUR_EOK;
	sm_ctx_t *ctx = d->ctx;
	const sm_settings_t *s = &ctx->set;
	d->started_ms = contour_now_ms(ctx->mod);
	contour_metric_set(ctx->metrics.drain_started, NULL, 1);
	contour_metric_set(ctx->metrics.drain_seconds, NULL, 0);
	sm_log(ctx, CONTOUR_LOG_INFO,
	       "drain started: admin %s, counting %s, min-open-connections %" PRId64
	       ", check-interval %.1fs, drain-timeout %.1fs, ready file %s",
	       s->admin_address, s->count == SM_COUNT_HTTP ? "HTTP connections" : "all connections",
	       s->min_open_connections, (double)s->check_interval_ms / 1000.0,
	       (double)s->drain_timeout_ms / 1000.0, s->ready_file);
	if (s->drain_timeout_ms > 0)
		contour_timer_arm(d->deadline, s->drain_timeout_ms);
	d->state = SM_DRAIN_LOCK_WAIT;
	sm_drain_lock(d);
	return CONTOUR_EOK;
}

int sm_drain_running(const sm_drain_t *d)
{
	return d && d->state != SM_DRAIN_IDLE && d->state != SM_DRAIN_DONE;
}

int sm_drain_finished(const sm_drain_t *d)
{
	return d && d->state == SM_DRAIN_DONE;
}

void sm_drain_stop(sm_drain_t *d)
{
	if (!sm_drain_running(d))
		return;
	sm_log(d->ctx, CONTOUR_LOG_WARN, "drain abandoned: the ready file is not written");
	d->done = NULL;
	sm_drain_finish(d, 0, "abandoned");
}
