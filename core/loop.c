/* core/loop.c: the event loop, timers and signal handling. */
#include "config.h"

#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "core/core.h"

struct contour_timer {
	struct event *ev;
	contour_timer_fn fn;
	void *ud;
};

struct event_base *contour_event_base(contour_module_t *mod)
{
	return mod->core->base;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	contour_timer_t *t = arg;
	t->fn(t, t->ud);
}

contour_timer_t *contour_timer_new(contour_module_t *mod, contour_timer_fn fn, void *ud)
{
	contour_timer_t *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->fn = fn;
	t->ud = ud;
	t->ev = evtimer_new(mod->core->base, timer_cb, t);
	if (!t->ev) {
		free(t);
		return NULL;
	}
	return t;
}

void contour_timer_free(contour_timer_t *t)
{
	if (!t)
		return;
	event_free(t->ev);
	free(t);
}

int contour_timer_arm(contour_timer_t *t, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	return evtimer_add(t->ev, &tv) == 0 ? CONTOUR_EOK : CONTOUR_EIO;
}

void contour_timer_disarm(contour_timer_t *t)
{
	if (t)
		evtimer_del(t->ev);
}

int contour_timer_armed(const contour_timer_t *t)
{
	return t && evtimer_pending(t->ev, NULL);
}

int64_t contour_now_ms(contour_module_t *mod)
{
	/* libevent's cached time is wall-clock; hold-offs need monotonic time. */
	(void)mod;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	core_t *core = arg;
	contour_log(NULL, CONTOUR_LOG_INFO, "received %s, shutting down",
	            sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopbreak(core->base);
}

static void sighup_cb(evutil_socket_t sig, short what, void *arg)
{
	contour_log(NULL, CONTOUR_LOG_INFO, "received SIGHUP: reload is not supported, ignoring");
}

int core_loop_signals_install(core_t *core)
{
	if (core->sig_term)
		return CONTOUR_EOK;
	core->sig_term = evsignal_new(core->base, SIGTERM, signal_cb, core);
	core->sig_int = evsignal_new(core->base, SIGINT, signal_cb, core);
	core->sig_hup = evsignal_new(core->base, SIGHUP, sighup_cb, core);
	if (!core->sig_term || !core->sig_int || !core->sig_hup)
		return CONTOUR_ENOMEM;
	evsignal_add(core->sig_term, NULL);
	evsignal_add(core->sig_int, NULL);
	evsignal_add(core->sig_hup, NULL);
	/* A peer closing a socket must not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	return CONTOUR_EOK;
}

void core_loop_signals_remove(core_t *core)
{
	struct event **evs[] = {&core->sig_term, &core->sig_int, &core->sig_hup};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		if (*evs[i])
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
}

int core_loop_run(core_t *core)
{
	int rc = core_loop_signals_install(core);
	if (rc != CONTOUR_EOK)
		return rc;
	return event_base_dispatch(core->base) < 0 ? CONTOUR_EIO : CONTOUR_EOK;
}

void core_loop_exit(core_t *core)
{
	event_base_loopbreak(core->base);
}
