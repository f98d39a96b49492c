/* modules/k8s-watch/kw_status_queue.c: the status writes, one job per
 * object.
 *
 * A bounded queue keeps only the newest desired status per object; jobs
 * are started at a bounded rate (a token bucket), at most
 * KW_STATUS_INFLIGHT at once, and each writes by PUT of the whole object
 * to its /status subresource with the stored resourceVersion. A 409
 * re-reads the object from the API (the store may lag) and retries with
 * upstream's retry.DefaultBackoff (10, 50, 250 ms; 4 attempts). Nothing
 * here ever waits. Upstream's contour_status_update_* metrics count the
 * outcomes.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/k8s-watch/kw.h"

#define KW_STATUS_QUEUE_MAX  10000 /* distinct objects waiting */
#define KW_STATUS_INFLIGHT   4     /* writes at once */
#define KW_STATUS_RATE       50.0  /* writes per second, and the burst */
#define KW_STATUS_STEPS      4     /* retry.DefaultBackoff.Steps */
#define KW_STATUS_TIMEOUT_MS 10000

typedef struct kw_job kw_job_t;

struct kw_job {
	kw_job_t *next;
	kw_status_queue_t *q;
	char *key; /* "Kind/ns/name" */
	int ingress;
	char *ns, *name;
	json_t *computed; /* HTTPProxy: the build's status; NULL for Ingress */
	json_t *lb;       /* core v1 LoadBalancerStatus, or NULL */
	json_t *base;     /* the object the PUT is built on */
	json_t *desired;  /* the status in that PUT */
	int attempt;      /* PUTs sent so far */
	int getting;      /* the request in flight is the re-read */
	int64_t start_ns;
	char *rv_seen; /* the store's resourceVersion when the job started */
	kw_req_t *req;
	contour_timer_t *backoff;
};

struct kw_status_queue {
	contour_module_t *mod;
	kw_http_t *http; /* borrowed; NULL: no job starts */
	kw_job_t *head, *tail;
	size_t queued;
	json_t *pending; /* key -> the queued job (as an integer) */
	kw_job_t *active[KW_STATUS_INFLIGHT];
	json_t *written; /* key -> {"rv": RV the PUT carried, "status": what it wrote} */
	json_t *keep;    /* during a sweep: written entries still ahead of the store */
	int dropped;     /* the queue was full: rebuild when it drains */
	int pumping;     /* kw_stq_pump is on the stack: a job ending inside it
	                    must not recurse (no-op jobs end at once) */
	double tokens;
	int64_t tokens_ms;
	contour_timer_t *pump;
	contour_metric_t *m_total, *m_success, *m_failed, *m_conflict, *m_noop, *m_duration;
};

int64_t kw_status_queue_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *kw_stq_kind(int ingress)
{
	return ingress ? "Ingress" : "HTTPProxy";
}

static void kw_stq_path(const kw_job_t *j, int sub, char *out, size_t cap)
{
	snprintf(out, cap, "%s/namespaces/%s/%s/%s%s",
	         j->ingress ? "/apis/networking.k8s.io/v1" : "/apis/projectcontour.io/v1", j->ns,
	         j->ingress ? "ingresses" : "httpproxies", j->name, sub ? "/status" : "");
}

static void kw_job_free(kw_job_t *j)
{
	if (!j)
		return;
	kw_req_cancel(j->req);
	contour_timer_free(j->backoff);
	CONTOUR_FREE_ALL(j->key, j->rv_seen, j->ns, j->name);
	CONTOUR_JSON_DECREF_ALL(j->computed, j->lb, j->base, j->desired);
	free(j);
}

static json_t *kw_stq_desired(const kw_job_t *j, const json_t *obj)
{
	const json_t *cur = json_object_get(obj, "status");
	return j->ingress ? contour_status_compose_ingress(cur, j->lb)
	                  : contour_status_compose_proxy(cur, j->computed, j->lb);
}

static const char *kw_stq_rv(const json_t *obj)
{
	const char *rv =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
	return rv ? rv : "";
}

/* obj is a version from before our write recorded in w. */
static int kw_stq_written_ahead(const json_t *w, const json_t *obj)
{
	if (!w)
		return 0;
	const char *rv = kw_stq_rv(obj);
	return !strcmp(json_string_value(json_object_get(w, "rv")), rv) ||
	       !strcmp(json_string_value(json_object_get(w, "rv_seen")), rv);
}

int kw_status_queue_already_written(kw_status_queue_t *q, const char *key, const json_t *obj,
                                    const json_t *desired)
{
	const json_t *w = json_object_get(q->written, key);
	if (!kw_stq_written_ahead(w, obj))
		return 0;
	return contour_status_equal(json_object_get(w, "status"), desired);
}

int kw_status_queue_sweep_begin(kw_status_queue_t *q)
{
	json_decref(q->keep);
	q->keep = json_object();
	return q->keep ? 0 : -1;
}

void kw_status_queue_sweep_keep(kw_status_queue_t *q, const char *key, const json_t *obj)
{
	json_t *w = json_object_get(q->written, key);
	if (q->keep && kw_stq_written_ahead(w, obj))
		json_object_set(q->keep, key, w);
}

void kw_status_queue_sweep_end(kw_status_queue_t *q)
{
	if (!q->keep)
		return;
	json_decref(q->written);
	q->written = q->keep;
	q->keep = NULL;
}

static void kw_stq_count(contour_metric_t *m, int ingress)
{
	const char *v[] = {kw_stq_kind(ingress)};
	contour_metric_add(m, v, 1);
}

static void kw_stq_observe(kw_status_queue_t *q, int ingress, int64_t start_ns, int error)
{
	const char *v[] = {kw_stq_kind(ingress), error ? "true" : "false"};
	contour_metric_observe(q->m_duration, v,
	                       (double)(kw_status_queue_now_ns() - start_ns) / 1e9);
}

void kw_status_queue_count_noop(kw_status_queue_t *q, int ingress, int64_t start_ns)
{
	/* A no-op is a successful update, as upstream counts it. */
	kw_stq_count(q->m_total, ingress);
	kw_stq_count(q->m_noop, ingress);
	kw_stq_count(q->m_success, ingress);
	kw_stq_observe(q, ingress, start_ns, 0);
}

static void kw_stq_pump(kw_status_queue_t *q);

static void kw_job_end(kw_job_t *j, int ok)
{
	kw_status_queue_t *q = j->q;
	kw_stq_count(ok ? q->m_success : q->m_failed, j->ingress);
	kw_stq_observe(q, j->ingress, j->start_ns, !ok);
	for (size_t i = 0; i < KW_STATUS_INFLIGHT; i++)
		if (q->active[i] == j)
			q->active[i] = NULL;
	kw_job_free(j);
	kw_stq_pump(q);
}

static void kw_job_done(const kw_resp_t *resp, void *ud);

/* PUT base with desired as its status; the base's resourceVersion guards it. */
static void kw_job_put(kw_job_t *j)
{
	char path[1024];
	json_t *body = json_deep_copy(j->base);
	if (body)
		json_object_set(body, "status", j->desired);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text) {
		kw_job_end(j, 0);
		return;
	}
	kw_stq_path(j, 1, path, sizeof(path));
	j->attempt++;
	j->getting = 0;
	j->req = kw_http_request(j->q->http, "PUT", path, text, KW_STATUS_TIMEOUT_MS, NULL,
	                         kw_job_done, j);
	free(text);
	if (!j->req)
		kw_job_end(j, 0);
}

/* Compose against obj and write, or finish as a no-op. Takes obj. */
static void kw_job_try(kw_job_t *j, json_t *obj)
{
	json_decref(j->base);
	json_decref(j->desired);
	j->base = obj;
	j->desired = kw_stq_desired(j, obj);
	if (!j->desired) {
		kw_job_end(j, 0);
		return;
	}
	if (contour_status_equal(json_object_get(obj, "status"), j->desired)) {
		contour_log(j->q->mod, CONTOUR_LOG_DEBUG, "status update was a no-op kind=%s %s/%s",
		            kw_stq_kind(j->ingress), j->ns, j->name);
		kw_stq_count(j->q->m_noop, j->ingress);
		kw_job_end(j, 1);
		return;
	}
	kw_job_put(j);
}

static void kw_job_on_backoff(contour_timer_t *t, void *ud)
{
	(void)t;
	kw_job_t *j = ud;
	char path[1024];
	kw_stq_path(j, 0, path, sizeof(path));
	j->getting = 1;
	j->req = kw_http_request(j->q->http, "GET", path, NULL, KW_STATUS_TIMEOUT_MS, NULL,
	                         kw_job_done, j);
	if (!j->req)
		kw_job_end(j, 0);
}

static void kw_job_log(kw_job_t *j, const kw_resp_t *resp)
{
	char msg[256];
	kw_status_message(resp, msg, sizeof(msg));
	contour_log(j->q->mod, CONTOUR_LOG_ERR,
	            "unable to update status kind=%s namespace=%s name=%s status=%ld error=\"%s\"",
	            kw_stq_kind(j->ingress), j->ns, j->name, resp->status, msg);
}

static void kw_job_done(const kw_resp_t *resp, void *ud)
{
	kw_job_t *j = ud;
	kw_status_queue_t *q = j->q;
	j->req = NULL;
	int ok = resp->status >= 200 && resp->status < 300;
	if (j->getting) {
		json_t *obj = ok ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
		if (!json_is_object(obj)) {
			json_decref(obj);
			kw_job_log(j, resp);
			kw_job_end(j, 0);
			return;
		}
		kw_job_try(j, obj);
		return;
	}
	if (ok) {
		/* Both versions are older than what we just wrote. */
		json_t *w = json_pack("{s:s, s:s, s:O}", "rv", kw_stq_rv(j->base), "rv_seen",
		                      j->rv_seen ? j->rv_seen : "", "status", j->desired);
		if (w)
			json_object_set_new(q->written, j->key, w);
		contour_log(q->mod, CONTOUR_LOG_DEBUG, "status updated kind=%s %s/%s",
		            kw_stq_kind(j->ingress), j->ns, j->name);
		kw_job_end(j, 1);
		return;
	}
	if (resp->status == 409) {
		kw_stq_count(q->m_conflict, j->ingress);
		if (j->attempt < KW_STATUS_STEPS) {
			/* DefaultBackoff: 10ms x 5^n, jitter 0.1. */
			double ms = 10;
			for (int i = 1; i < j->attempt; i++)
				ms *= 5;
			ms += ms * 0.1 * ((double)random() / RAND_MAX);
			contour_timer_arm(j->backoff, (int64_t)ms);
			return;
		}
	}
	kw_job_log(j, resp);
	kw_job_end(j, 0);
}

static int kw_stq_take_token(kw_status_queue_t *q)
{
	int64_t now = contour_now_ms(q->mod);
	q->tokens += (double)(now - q->tokens_ms) * KW_STATUS_RATE / 1000.0;
	q->tokens_ms = now;
	if (q->tokens > KW_STATUS_RATE)
		q->tokens = KW_STATUS_RATE;
	if (q->tokens < 1.0) {
		contour_timer_arm(q->pump,
		                  (int64_t)((1.0 - q->tokens) * 1000.0 / KW_STATUS_RATE) + 1);
		return 0;
	}
	q->tokens -= 1.0;
	return 1;
}

static void kw_stq_start_job(kw_status_queue_t *q, kw_job_t *j)
{
	j->start_ns = kw_status_queue_now_ns();
	kw_stq_count(q->m_total, j->ingress);
	contour_object_key_t key = {
	    .api_version = j->ingress ? "networking.k8s.io/v1" : "projectcontour.io/v1",
	    .kind = kw_stq_kind(j->ingress),
	    .namespace_ = j->ns,
	    .name = j->name,
	};
	const json_t *obj = contour_store_get(q->mod, &key);
	if (!obj) {
		/* Deleted since the build: nothing to write. */
		kw_job_end(j, 0);
		return;
	}
	j->rv_seen = strdup(kw_stq_rv(obj));
	json_t *desired = kw_stq_desired(j, obj);
	int skip = desired && kw_status_queue_already_written(q, j->key, obj, desired);
	json_decref(desired);
	if (skip) {
		kw_stq_count(q->m_noop, j->ingress);
		kw_job_end(j, 1);
		return;
	}
	kw_job_try(j, json_deep_copy(obj));
}

static void kw_stq_pump(kw_status_queue_t *q)
{
	if (q->pumping)
		return;
	q->pumping = 1;
	while (q->head && q->http) {
		size_t slot = KW_STATUS_INFLIGHT;
		for (size_t i = 0; i < KW_STATUS_INFLIGHT; i++)
			if (!q->active[i])
				slot = i;
		if (slot == KW_STATUS_INFLIGHT || !kw_stq_take_token(q))
			break;
		kw_job_t *j = q->head;
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		j->next = NULL;
		q->queued--;
		json_object_del(q->pending, j->key);
		q->active[slot] = j;
		kw_stq_start_job(q, j);
	}
	q->pumping = 0;
	if (!q->head && q->dropped && q->http) {
		/* Some objects were turned away while the queue was full. */
		q->dropped = 0;
		contour_build_request(q->mod);
	}
}

void kw_status_queue_run(kw_status_queue_t *q)
{
	kw_stq_pump(q);
}

static void kw_stq_on_pump(contour_timer_t *t, void *ud)
{
	(void)t;
	kw_stq_pump(ud);
}

void kw_status_queue_add(kw_status_queue_t *q, const char *key, int ingress, const char *ns,
                         const char *name, const json_t *computed, const json_t *lb)
{
	const json_t *p = json_object_get(q->pending, key);
	if (p) {
		kw_job_t *j = (kw_job_t *)(intptr_t)json_integer_value(p);
		json_decref(j->computed);
		json_decref(j->lb);
		j->computed = computed ? json_incref((json_t *)computed) : NULL;
		j->lb = lb ? json_incref((json_t *)lb) : NULL;
		return;
	}
	if (q->queued >= KW_STATUS_QUEUE_MAX) {
		if (!q->dropped)
			contour_log(
			    q->mod, CONTOUR_LOG_WARN,
			    "status queue full (%d objects): later updates wait for it to drain",
			    KW_STATUS_QUEUE_MAX);
		q->dropped = 1;
		return;
	}
	kw_job_t *j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->q = q;
	j->ingress = ingress;
	j->key = strdup(key);
	j->ns = strdup(ns);
	j->name = strdup(name);
	j->computed = computed ? json_incref((json_t *)computed) : NULL;
	j->lb = lb ? json_incref((json_t *)lb) : NULL;
	j->backoff = contour_timer_new(q->mod, kw_job_on_backoff, j);
	if (!j->key || !j->ns || !j->name || !j->backoff ||
	    json_object_set_new(q->pending, key, json_integer((json_int_t)(intptr_t)j))) {
		kw_job_free(j);
		return;
	}
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->queued++;
}

static const char *const kw_stq_kind_label[] = {"kind", NULL};
static const char *const kw_stq_duration_labels[] = {"kind", "error", NULL};
/* Upstream's summary objectives. */
static const double kw_stq_quantiles[] = {0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0};

kw_status_queue_t *kw_status_queue_new(contour_module_t *mod, char *err, size_t errlen)
{
	kw_status_queue_t *q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->mod = mod;
	q->pending = json_object();
	q->written = json_object();
	q->tokens = KW_STATUS_RATE;
	q->pump = contour_timer_new(mod, kw_stq_on_pump, q);
	if (!q->pending || !q->written || !q->pump) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	const struct {
		contour_metric_t **out;
		const char *name, *help;
	} counters[] = {
	    {&q->m_total, "contour_status_update_total",
	     "Total number of status updates by object kind."},
	    {&q->m_success, "contour_status_update_success_total",
	     "Number of status updates that succeeded by object kind."},
	    {&q->m_noop, "contour_status_update_noop_total",
	     "Number of status updates that are no-ops by object kind. This is a subset of "
	     "successful status updates."},
	    {&q->m_failed, "contour_status_update_failed_total",
	     "Number of status updates that failed by object kind."},
	    {&q->m_conflict, "contour_status_update_conflict_total",
	     "Number of status update conflicts encountered by object kind."},
	};
	int rc;
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		contour_metric_desc_t d = {.type = CONTOUR_METRIC_COUNTER,
		                           .name = counters[i].name,
		                           .help = counters[i].help,
		                           .labels = kw_stq_kind_label};
		if ((rc = contour_register_metric(mod, &d, counters[i].out)) != CONTOUR_EOK) {
			snprintf(err, errlen, "%s: %s", counters[i].name, contour_strerror(rc));
			goto fail;
		}
	}
	contour_metric_desc_t dur = {.type = CONTOUR_METRIC_SUMMARY,
	                             .name = "contour_status_update_duration_seconds",
	                             .help = "How long a status update takes to finish.",
	                             .labels = kw_stq_duration_labels,
	                             .bounds = kw_stq_quantiles,
	                             .nbounds = sizeof(kw_stq_quantiles) / sizeof(double)};
	if ((rc = contour_register_metric(mod, &dur, &q->m_duration)) != CONTOUR_EOK) {
		snprintf(err, errlen, "%s: %s", dur.name, contour_strerror(rc));
		goto fail;
	}
	return q;
fail:
	kw_status_queue_free(q);
	return NULL;
}

void kw_status_queue_set_http(kw_status_queue_t *q, kw_http_t *http)
{
	q->http = http;
}

void kw_status_queue_clear(kw_status_queue_t *q)
{
	while (q->head) {
		kw_job_t *j = q->head;
		q->head = j->next;
		kw_job_free(j);
	}
	q->tail = NULL;
	q->queued = 0;
	q->dropped = 0;
	json_object_clear(q->pending);
	json_object_clear(q->written);
	for (size_t i = 0; i < KW_STATUS_INFLIGHT; i++) {
		kw_job_free(q->active[i]);
		q->active[i] = NULL;
	}
	contour_timer_disarm(q->pump);
}

void kw_status_queue_free(kw_status_queue_t *q)
{
	if (!q)
		return;
	kw_status_queue_clear(q);
	contour_timer_free(q->pump);
	CONTOUR_JSON_DECREF_ALL(q->pending, q->written, q->keep);
	free(q);
}
