/* core/pipeline.c: hold-off, builds, processors and observers.
 *
 * A change in the store (or a build request) opens a hold-off window: the
 * build waits until no change has come for holdoff_ms, but never more than
 * holdoff_max_ms after the first change of the window, so a steady trickle
 * of changes cannot starve the data plane. A build runs the processors in
 * ascending order over a fresh snapshot and publishes it only if every
 * processor succeeded; otherwise the current snapshot stays in service.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"

/* A processor or an observer: both lists hold entries of one kind, so
 * that dropping, naming and inserting are written once. */
typedef struct pipe_entry {
	contour_module_t *mod;
	char *name;
	int order;                 /* processors only */
	contour_processor_fn proc; /* set in the processor list */
	contour_observer_fn obs;   /* set in the observer list */
	void *ud;
} pipe_entry_t;

typedef struct pipe_list {
	pipe_entry_t *v;
	size_t n;
} pipe_list_t;

struct core_pipeline {
	core_t *core;
	contour_timer_t *timer;
	pipe_list_t procs;           /* sorted by order, ties in registration order */
	pipe_list_t obs;             /* registration order */
	contour_snapshot_t *current; /* the core's reference */
	uint64_t generation;         /* of the newest published snapshot */
	uint64_t builds;             /* builds run, published or not */
	int pending;                 /* a hold-off window is open */
	int64_t t0;                  /* first change of the open window */
	int building;
	contour_metric_t *m_total;
	contour_metric_t *m_timestamp;
	contour_metric_t *m_seconds;
	contour_metric_t *m_errors;
};

static const double pipe_quantiles[] = {0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1};

static double pipe_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pipe_fire(contour_timer_t *t, void *ud)
{
	core_pipeline_t *p = ud;
	/* Close the window either way: while a source is still listing, the
	 * next change (or its sync, which calls the change hook) opens a new
	 * one, so the timer does not spin until then. */
	p->pending = 0;
	if (!core_store_all_synced(p->core->store))
		return;
	core_pipeline_build_now(p);
}

static void pipe_hook(void *ud)
{
	core_pipeline_schedule(ud);
}

static void pipe_register_metric(core_pipeline_t *p, contour_metric_type_t type, const char *name,
                                 const char *help, contour_metric_t **out)
{
	contour_metric_desc_t d = {.type = type, .name = name, .help = help};
	if (type == CONTOUR_METRIC_SUMMARY) {
		d.bounds = pipe_quantiles;
		d.nbounds = sizeof(pipe_quantiles) / sizeof(pipe_quantiles[0]);
	}
	/* Builds go on without a metric that failed to register. */
	if (contour_register_metric(&p->core->self, &d, out) != CONTOUR_EOK)
		*out = NULL;
}

/* Drop the entries of mod (all of them when mod is NULL); the rest keep
 * their order. */
static void pipe_list_drop(pipe_list_t *l, const contour_module_t *mod)
{
	size_t j = 0;
	for (size_t i = 0; i < l->n; i++) {
		if (!mod || l->v[i].mod == mod)
			free(l->v[i].name);
		else
			l->v[j++] = l->v[i];
	}
	l->n = j;
}

static int pipe_list_has(const pipe_list_t *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return 1;
	return 0;
}

/* Insert e at index at, under its own copy of name. */
static int pipe_list_insert(pipe_list_t *l, size_t at, const char *name, pipe_entry_t e)
{
	pipe_entry_t *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return CONTOUR_ENOMEM;
	l->v = v;
	if (!(e.name = strdup(name)))
		return CONTOUR_ENOMEM;
	memmove(&v[at + 1], &v[at], (l->n - at) * sizeof(*v));
	v[at] = e;
	l->n++;
	return CONTOUR_EOK;
}

core_pipeline_t *core_pipeline_new(core_t *core)
{
	core_pipeline_t *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->core = core;
	p->timer = contour_timer_new(&core->self, pipe_fire, p);
	if (!p->timer) {
		free(p);
		return NULL;
	}
	pipe_register_metric(p, CONTOUR_METRIC_COUNTER, "contour_dagrebuild_total",
	                     "Total number of times DAG has been rebuilt since startup",
	                     &p->m_total);
	pipe_register_metric(p, CONTOUR_METRIC_GAUGE, "contour_dagrebuild_timestamp",
	                     "Timestamp of the last DAG rebuild.", &p->m_timestamp);
	pipe_register_metric(p, CONTOUR_METRIC_SUMMARY, "contour_dagrebuild_seconds",
	                     "Duration in seconds of DAG rebuilds", &p->m_seconds);
	pipe_register_metric(p, CONTOUR_METRIC_COUNTER, "contour_build_errors_total",
	                     "Total number of builds abandoned because a processor failed",
	                     &p->m_errors);
	core_store_set_change_hook(core->store, pipe_hook, p);
	return p;
}

void core_pipeline_free(core_pipeline_t *p)
{
	if (!p)
		return;
	if (p->core->store)
		core_store_set_change_hook(p->core->store, NULL, NULL);
	contour_timer_free(p->timer);
	contour_snapshot_unref(p->current);
	pipe_list_drop(&p->procs, NULL);
	free(p->procs.v);
	pipe_list_drop(&p->obs, NULL);
	free(p->obs.v);
	free(p);
}

void core_pipeline_schedule(core_pipeline_t *p)
{
	if (!p)
		return;
	int64_t now = contour_now_ms(&p->core->self);
	int64_t holdoff = p->core->holdoff_ms, max = p->core->holdoff_max_ms;
	int64_t due = now + holdoff;
	if (!p->pending) {
		p->pending = 1;
		p->t0 = now;
	}
	if (due > p->t0 + max)
		due = p->t0 + max;
	contour_timer_arm(p->timer, due - now);
}

static int pipe_run(core_pipeline_t *p, contour_snapshot_t *snap)
{
	for (size_t i = 0; i < p->procs.n; i++) {
		pipe_entry_t *proc = &p->procs.v[i];
		int rc = proc->proc(snap, proc->ud);
		if (rc != CONTOUR_EOK) {
			contour_log(&p->core->self, CONTOUR_LOG_ERR,
			            "build abandoned: processor %s (module %s) failed: %s",
			            proc->name, contour_module_name(proc->mod),
			            contour_strerror(rc));
			return rc;
		}
	}
	return CONTOUR_EOK;
}

int core_pipeline_build_now(core_pipeline_t *p)
{
	if (!p)
		return CONTOUR_EINVAL;
	if (p->building) {
		/* A processor or observer asked for a build: run it later. */
		core_pipeline_schedule(p);
		return CONTOUR_ESTATE;
	}
	if (!core_store_all_synced(p->core->store))
		return CONTOUR_ESTATE;
	/* Changes from here on open a new window and lead to another build. */
	contour_timer_disarm(p->timer);
	p->pending = 0;

	double start = pipe_clock(CLOCK_MONOTONIC);
	contour_snapshot_t *snap = core_snapshot_new(p->core, p->generation + 1);
	if (!snap)
		return CONTOUR_ENOMEM;
	p->building = 1;
	p->builds++;
	int rc = pipe_run(p, snap);
	if (rc != CONTOUR_EOK) {
		p->building = 0;
		contour_snapshot_unref(snap);
		if (p->m_errors)
			contour_metric_add(p->m_errors, NULL, 1);
		return rc;
	}
	core_snapshot_seal(snap);
	contour_snapshot_unref(p->current);
	p->current = snap;
	p->generation++;
	for (size_t i = 0; i < p->obs.n; i++)
		p->obs.v[i].obs(snap, p->obs.v[i].ud);
	p->building = 0;

	double secs = pipe_clock(CLOCK_MONOTONIC) - start;
	if (p->m_total)
		contour_metric_add(p->m_total, NULL, 1);
	if (p->m_timestamp)
		contour_metric_set(p->m_timestamp, NULL, pipe_clock(CLOCK_REALTIME));
	if (p->m_seconds)
		contour_metric_observe(p->m_seconds, NULL, secs);
	contour_log(&p->core->self, CONTOUR_LOG_DEBUG,
	            "build generation=%llu duration=%.3fms objects=%zu",
	            (unsigned long long)p->generation, secs * 1e3,
	            contour_store_count(&p->core->self, NULL, NULL));
	return CONTOUR_EOK;
}

uint64_t core_pipeline_builds(const core_pipeline_t *p)
{
	return p ? p->builds : 0;
}

void core_pipeline_drop_module(core_pipeline_t *p, contour_module_t *mod)
{
	if (!p)
		return;
	pipe_list_drop(&p->procs, mod);
	pipe_list_drop(&p->obs, mod);
	/* The current snapshot may hold data whose free_fn lives in mod's
	 * code, which is about to be unloaded: release the core's reference
	 * now. (Before the first build, as on an init failure, there is none.) */
	contour_snapshot_unref(p->current);
	p->current = NULL;
}

/* The checks shared by both registrations: lifecycle, arguments, and a name
 * unique across processors and observers, so a log line naming one is
 * never ambiguous. */
static int pipe_may_add(contour_module_t *mod, const char *what, const char *name, int has_fn)
{
	int rc = core_may_register(mod, what);
	if (rc != CONTOUR_EOK)
		return rc;
	if (!name || !*name || !has_fn)
		return CONTOUR_EINVAL;
	const core_pipeline_t *p = mod->core->pipeline;
	return pipe_list_has(&p->procs, name) || pipe_list_has(&p->obs, name) ? CONTOUR_EEXIST
	                                                                      : CONTOUR_EOK;
}

int contour_register_processor(contour_module_t *mod, const char *name, int order,
                               contour_processor_fn fn, void *ud)
{
	int rc = pipe_may_add(mod, "contour_register_processor", name, fn != NULL);
	if (rc != CONTOUR_EOK)
		return rc;
	pipe_list_t *l = &mod->core->pipeline->procs;
	/* After every processor of the same or a lower order: ties keep
	 * registration order. */
	size_t at = l->n;
	while (at > 0 && l->v[at - 1].order > order)
		at--;
	return pipe_list_insert(l, at, name,
	                        (pipe_entry_t){.mod = mod, .order = order, .proc = fn, .ud = ud});
}

int contour_register_observer(contour_module_t *mod, const char *name, contour_observer_fn fn,
                              void *ud)
{
	int rc = pipe_may_add(mod, "contour_register_observer", name, fn != NULL);
	if (rc != CONTOUR_EOK)
		return rc;
	pipe_list_t *l = &mod->core->pipeline->obs;
	return pipe_list_insert(l, l->n, name, (pipe_entry_t){.mod = mod, .obs = fn, .ud = ud});
}

void contour_build_request(contour_module_t *mod)
{
	if (mod && mod->core)
		core_pipeline_schedule(mod->core->pipeline);
}

contour_snapshot_t *contour_snapshot_current(contour_module_t *mod)
{
	if (!mod || !mod->core || !mod->core->pipeline)
		return NULL;
	return mod->core->pipeline->current;
}

void core_pipeline_release_snapshot(core_pipeline_t *p)
{
	if (!p)
		return;
	contour_snapshot_unref(p->current);
	p->current = NULL;
}
