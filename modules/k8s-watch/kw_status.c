/* modules/k8s-watch/kw_status.c: status write-back, leader only.
 *
 * A snapshot observer compares, for every HTTPProxy status the build
 * recorded (and, when there is a load-balancer address, every Ingress of
 * our class), the status upstream would write (contour/status.h) with the
 * object's status in the store. A difference becomes a job in a bounded
 * queue that keeps only the newest desired status per object; jobs are
 * written at a bounded rate (a token bucket) by PUT of the whole object to
 * its /status subresource with the stored resourceVersion. A 409 re-reads
 * the object from the API (the store may lag) and retries with upstream's
 * retry.DefaultBackoff (10, 50, 250 ms; 4 attempts). Nothing here ever
 * waits: builds are never held up by writes.
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
	kw_status_t *s;
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

struct kw_status {
	contour_module_t *mod;
	kw_http_t *http;
	int leader;
	json_t *lb_static; /* from ingress-status-address, or NULL */
	json_t *lb_last;   /* for the "new address" log line */
	char *svc_name, *svc_ns;
	json_t *classes;
	kw_job_t *head, *tail;
	size_t queued;
	json_t *pending; /* key -> the queued job (as an integer) */
	kw_job_t *active[KW_STATUS_INFLIGHT];
	json_t *written; /* key -> {"rv": RV the PUT carried, "status": what it wrote} */
	int dropped;     /* the queue was full: rebuild when it drains */
	int pumping;     /* kw_st_pump is on the stack: a job ending inside it
	                    must not recurse (no-op jobs end at once) */
	double tokens;
	int64_t tokens_ms;
	contour_timer_t *pump;
	contour_metric_t *m_total, *m_success, *m_failed, *m_conflict, *m_noop, *m_duration;
};

static int64_t kw_st_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static const char *kw_st_kind(int ingress)
{
	return ingress ? "Ingress" : "HTTPProxy";
}

static void kw_st_path(const kw_job_t *j, int sub, char *out, size_t cap)
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
	free(j->key);
	free(j->rv_seen);
	free(j->ns);
	free(j->name);
	json_decref(j->computed);
	json_decref(j->lb);
	json_decref(j->base);
	json_decref(j->desired);
	free(j);
}

static json_t *kw_st_desired(const kw_job_t *j, const json_t *obj)
{
	const json_t *cur = json_object_get(obj, "status");
	return j->ingress ? contour_status_compose_ingress(cur, j->lb)
	                  : contour_status_compose_proxy(cur, j->computed, j->lb);
}

static const char *kw_st_rv(const json_t *obj)
{
	const char *rv =
	    json_string_value(json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
	return rv ? rv : "";
}

/* obj is a version from before our write recorded in w. */
static int kw_st_written_ahead(const json_t *w, const json_t *obj)
{
	if (!w)
		return 0;
	const char *rv = kw_st_rv(obj);
	return !strcmp(json_string_value(json_object_get(w, "rv")), rv) ||
	       !strcmp(json_string_value(json_object_get(w, "rv_seen")), rv);
}

/* The store has not caught up with our own last write, which already says
 * this: writing again would only earn a 409. */
static int kw_st_already_written(kw_status_t *s, const char *key, const json_t *obj,
                                 const json_t *desired)
{
	const json_t *w = json_object_get(s->written, key);
	if (!kw_st_written_ahead(w, obj))
		return 0;
	return contour_status_equal(json_object_get(w, "status"), desired);
}

static void kw_st_count(contour_metric_t *m, int ingress)
{
	const char *v[] = {kw_st_kind(ingress)};
	contour_metric_add(m, v, 1);
}

static void kw_st_observe(kw_status_t *s, int ingress, int64_t start_ns, int error)
{
	const char *v[] = {kw_st_kind(ingress), error ? "true" : "false"};
	contour_metric_observe(s->m_duration, v, (double)(kw_st_mono_ns() - start_ns) / 1e9);
}

static void kw_st_noop(kw_status_t *s, int ingress, int64_t start_ns)
{
	/* A no-op is a successful update, as upstream counts it. */
	kw_st_count(s->m_total, ingress);
	kw_st_count(s->m_noop, ingress);
	kw_st_count(s->m_success, ingress);
	kw_st_observe(s, ingress, start_ns, 0);
}

static void kw_st_pump(kw_status_t *s);

static void kw_job_end(kw_job_t *j, int ok)
{
	kw_status_t *s = j->s;
	kw_st_count(ok ? s->m_success : s->m_failed, j->ingress);
	kw_st_observe(s, j->ingress, j->start_ns, !ok);
	for (size_t i = 0; i < KW_STATUS_INFLIGHT; i++)
		if (s->active[i] == j)
			s->active[i] = NULL;
	kw_job_free(j);
	kw_st_pump(s);
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
	kw_st_path(j, 1, path, sizeof(path));
	j->attempt++;
	j->getting = 0;
	j->req = kw_http_request(j->s->http, "PUT", path, text, KW_STATUS_TIMEOUT_MS, NULL,
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
	j->desired = kw_st_desired(j, obj);
	if (!j->desired) {
		kw_job_end(j, 0);
		return;
	}
	if (contour_status_equal(json_object_get(obj, "status"), j->desired)) {
		contour_log(j->s->mod, CONTOUR_LOG_DEBUG, "status update was a no-op kind=%s %s/%s",
		            kw_st_kind(j->ingress), j->ns, j->name);
		kw_st_count(j->s->m_noop, j->ingress);
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
	kw_st_path(j, 0, path, sizeof(path));
	j->getting = 1;
	j->req = kw_http_request(j->s->http, "GET", path, NULL, KW_STATUS_TIMEOUT_MS, NULL,
	                         kw_job_done, j);
	if (!j->req)
		kw_job_end(j, 0);
}

static void kw_job_log(kw_job_t *j, const kw_resp_t *resp)
{
	char msg[256];
	kw_status_message(resp, msg, sizeof(msg));
	contour_log(j->s->mod, CONTOUR_LOG_ERR,
	            "unable to update status kind=%s namespace=%s name=%s status=%ld error=\"%s\"",
	            kw_st_kind(j->ingress), j->ns, j->name, resp->status, msg);
}

static void kw_job_done(const kw_resp_t *resp, void *ud)
{
	kw_job_t *j = ud;
	kw_status_t *s = j->s;
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
		json_t *w = json_pack("{s:s, s:s, s:O}", "rv", kw_st_rv(j->base), "rv_seen",
		                      j->rv_seen ? j->rv_seen : "", "status", j->desired);
		if (w)
			json_object_set_new(s->written, j->key, w);
		contour_log(s->mod, CONTOUR_LOG_DEBUG, "status updated kind=%s %s/%s",
		            kw_st_kind(j->ingress), j->ns, j->name);
		kw_job_end(j, 1);
		return;
	}
	if (resp->status == 409) {
		kw_st_count(s->m_conflict, j->ingress);
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

static int kw_st_take_token(kw_status_t *s)
{
	int64_t now = contour_now_ms(s->mod);
	s->tokens += (double)(now - s->tokens_ms) * KW_STATUS_RATE / 1000.0;
	s->tokens_ms = now;
	if (s->tokens > KW_STATUS_RATE)
		s->tokens = KW_STATUS_RATE;
	if (s->tokens < 1.0) {
		contour_timer_arm(s->pump,
		                  (int64_t)((1.0 - s->tokens) * 1000.0 / KW_STATUS_RATE) + 1);
		return 0;
	}
	s->tokens -= 1.0;
	return 1;
}

static void kw_st_start_job(kw_status_t *s, kw_job_t *j)
{
	j->start_ns = kw_st_mono_ns();
	kw_st_count(s->m_total, j->ingress);
	contour_object_key_t key = {
	    .api_version = j->ingress ? "networking.k8s.io/v1" : "projectcontour.io/v1",
	    .kind = kw_st_kind(j->ingress),
	    .namespace_ = j->ns,
	    .name = j->name,
	};
	const json_t *obj = contour_store_get(s->mod, &key);
	if (!obj) {
		/* Deleted since the build: nothing to write. */
		kw_job_end(j, 0);
		return;
	}
	j->rv_seen = strdup(kw_st_rv(obj));
	json_t *desired = kw_st_desired(j, obj);
	int skip = desired && kw_st_already_written(s, j->key, obj, desired);
	json_decref(desired);
	if (skip) {
		kw_st_count(s->m_noop, j->ingress);
		kw_job_end(j, 1);
		return;
	}
	kw_job_try(j, json_deep_copy(obj));
}

static void kw_st_pump(kw_status_t *s)
{
	if (s->pumping)
		return;
	s->pumping = 1;
	while (s->head && s->leader && s->http) {
		size_t slot = KW_STATUS_INFLIGHT;
		for (size_t i = 0; i < KW_STATUS_INFLIGHT; i++)
			if (!s->active[i])
				slot = i;
		if (slot == KW_STATUS_INFLIGHT || !kw_st_take_token(s))
			break;
		kw_job_t *j = s->head;
		s->head = j->next;
		if (!s->head)
			s->tail = NULL;
		j->next = NULL;
		s->queued--;
		json_object_del(s->pending, j->key);
		s->active[slot] = j;
		kw_st_start_job(s, j);
	}
	s->pumping = 0;
	if (!s->head && s->dropped && s->leader) {
		/* Some objects were turned away while the queue was full. */
		s->dropped = 0;
		contour_build_request(s->mod);
	}
}

static void kw_st_on_pump(contour_timer_t *t, void *ud)
{
	(void)t;
	kw_st_pump(ud);
}

/* Queue (or refresh) the write of one object; only the newest inputs of an
 * object are kept. */
static void kw_st_enqueue(kw_status_t *s, const char *key, int ingress, const char *ns,
                          const char *name, const json_t *computed, const json_t *lb)
{
	const json_t *p = json_object_get(s->pending, key);
	if (p) {
		kw_job_t *j = (kw_job_t *)(intptr_t)json_integer_value(p);
		json_decref(j->computed);
		json_decref(j->lb);
		j->computed = computed ? json_incref((json_t *)computed) : NULL;
		j->lb = lb ? json_incref((json_t *)lb) : NULL;
		return;
	}
	if (s->queued >= KW_STATUS_QUEUE_MAX) {
		if (!s->dropped)
			contour_log(
			    s->mod, CONTOUR_LOG_WARN,
			    "status queue full (%d objects): later updates wait for it to drain",
			    KW_STATUS_QUEUE_MAX);
		s->dropped = 1;
		return;
	}
	kw_job_t *j = calloc(1, sizeof(*j));
	if (!j)
		return;
	j->s = s;
	j->ingress = ingress;
	j->key = strdup(key);
	j->ns = strdup(ns);
	j->name = strdup(name);
	j->computed = computed ? json_incref((json_t *)computed) : NULL;
	j->lb = lb ? json_incref((json_t *)lb) : NULL;
	j->backoff = contour_timer_new(s->mod, kw_job_on_backoff, j);
	if (!j->key || !j->ns || !j->name || !j->backoff ||
	    json_object_set_new(s->pending, key, json_integer((json_int_t)(intptr_t)j))) {
		kw_job_free(j);
		return;
	}
	if (s->tail)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	s->queued++;
}

/* The address to publish: the configured one, else the Envoy Service's. */
static json_t *kw_st_lb(kw_status_t *s)
{
	json_t *lb = NULL;
	if (s->lb_static) {
		lb = json_incref(s->lb_static);
	} else {
		contour_object_key_t key = {.api_version = "v1",
		                            .kind = "Service",
		                            .namespace_ = s->svc_ns,
		                            .name = s->svc_name};
		const json_t *svc = contour_store_get(s->mod, &key);
		json_t *l = json_object_get(json_object_get(svc, "status"), "loadBalancer");
		if (l)
			lb = json_deep_copy(l);
	}
	if (contour_status_lb_has_address(lb) && !json_equal(lb, s->lb_last)) {
		const json_t *first = json_array_get(json_object_get(lb, "ingress"), 0);
		const char *addr = json_string_value(json_object_get(first, "ip"));
		if (!addr || !*addr)
			addr = json_string_value(json_object_get(first, "hostname"));
		contour_log(
		    s->mod, CONTOUR_LOG_INFO,
		    "received a new address for status.loadBalancer loadbalancer-address=%s",
		    addr ? addr : "");
		json_decref(s->lb_last);
		s->lb_last = json_incref(lb);
	}
	return lb;
}

typedef struct kw_st_pass {
	kw_status_t *s;
	json_t *lb;
	json_t *keep; /* written entries still ahead of the store */
	int64_t start_ns;
} kw_st_pass_t;

/* One object: compare what we would write with what is stored. */
static void kw_st_consider(kw_st_pass_t *ps, const json_t *obj, int ingress, const json_t *computed)
{
	kw_status_t *s = ps->s;
	const json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	if (!ns || !name)
		return;
	char key[768];
	snprintf(key, sizeof(key), "%s/%s/%s", kw_st_kind(ingress), ns, name);
	int match = kw_class_matches(obj, s->classes);
	/* An Ingress of another class is none of our business. */
	if (ingress && !match)
		return;
	const json_t *lb = match ? ps->lb : NULL;
	int64_t start = kw_st_mono_ns();
	const json_t *w = json_object_get(s->written, key);
	if (kw_st_written_ahead(w, obj))
		json_object_set(ps->keep, key, (json_t *)w);
	if (!ingress && !contour_status_proxy_changes(json_object_get(obj, "status"), computed, lb)) {
		kw_st_noop(s, ingress, start);
		return;
	}
	json_t *desired =
	    ingress ? contour_status_compose_ingress(json_object_get(obj, "status"), lb)
	            : contour_status_compose_proxy(json_object_get(obj, "status"), computed, lb);
	if (!desired)
		return;
	if (contour_status_equal(json_object_get(obj, "status"), desired))
		kw_st_noop(s, ingress, start);
	else if (!kw_st_already_written(s, key, obj, desired))
		kw_st_enqueue(s, key, ingress, ns, name, computed, lb);
	json_decref(desired);
}

static int kw_st_visit_status(const contour_object_key_t *key, const json_t *status, void *ud)
{
	kw_st_pass_t *ps = ud;
	if (strcmp(key->kind, "HTTPProxy") || strcmp(key->api_version, "projectcontour.io/v1"))
		return 0;
	const json_t *obj = contour_store_get(ps->s->mod, key);
	if (obj)
		kw_st_consider(ps, obj, 0, status);
	return 0;
}

static int kw_st_visit_ingress(const json_t *obj, void *ud)
{
	kw_st_consider(ud, obj, 1, NULL);
	return 0;
}

static void kw_st_observer(contour_snapshot_t *snap, void *ud)
{
	kw_status_t *s = ud;
	if (!s->leader || !s->http)
		return;
	kw_st_pass_t ps = {.s = s, .lb = kw_st_lb(s), .keep = json_object()};
	if (!ps.keep) {
		json_decref(ps.lb);
		return;
	}
	contour_snapshot_foreach_status(snap, kw_st_visit_status, &ps);
	/* Ingress only carries the address (StatusAddressUpdater does
	 * nothing without one). */
	if (contour_status_lb_has_address(ps.lb))
		contour_store_foreach(s->mod, "networking.k8s.io/v1", "Ingress",
		                      kw_st_visit_ingress, &ps);
	/* Entries the store has caught up with (or that are gone) are dropped. */
	json_decref(s->written);
	s->written = ps.keep;
	json_decref(ps.lb);
	kw_st_pump(s);
}

static const char *const kw_st_kind_label[] = {"kind", NULL};
static const char *const kw_st_duration_labels[] = {"kind", "error", NULL};
/* Upstream's summary objectives. */
static const double kw_st_quantiles[] = {0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0};

kw_status_t *kw_status_new(contour_module_t *mod, char *err, size_t errlen)
{
	kw_status_t *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->mod = mod;
	s->pending = json_object();
	s->written = json_object();
	s->classes = contour_conf_global_str_list(mod, "ingress-class-name");
	const json_t *addr = contour_conf_global(mod, "ingress-status-address");
	if (json_string_value(addr) && *json_string_value(addr))
		s->lb_static = kw_lb_parse_address(json_string_value(addr));
	const char *sn = json_string_value(contour_conf_global(mod, "envoy-service-name"));
	const char *sns = json_string_value(contour_conf_global(mod, "envoy-service-namespace"));
	s->svc_name = strdup(sn && *sn ? sn : "envoy");
	s->svc_ns = strdup(sns && *sns ? sns : "projectcontour");
	s->tokens = KW_STATUS_RATE;
	s->pump = contour_timer_new(mod, kw_st_on_pump, s);
	if (!s->pending || !s->written || !s->classes || !s->svc_name || !s->svc_ns || !s->pump) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	const struct {
		contour_metric_t **out;
		const char *name, *help;
	} counters[] = {
	    {&s->m_total, "contour_status_update_total",
	     "Total number of status updates by object kind."},
	    {&s->m_success, "contour_status_update_success_total",
	     "Number of status updates that succeeded by object kind."},
	    {&s->m_noop, "contour_status_update_noop_total",
	     "Number of status updates that are no-ops by object kind. This is a subset of "
	     "successful status updates."},
	    {&s->m_failed, "contour_status_update_failed_total",
	     "Number of status updates that failed by object kind."},
	    {&s->m_conflict, "contour_status_update_conflict_total",
	     "Number of status update conflicts encountered by object kind."},
	};
	int rc;
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		contour_metric_desc_t d = {.type = CONTOUR_METRIC_COUNTER,
		                           .name = counters[i].name,
		                           .help = counters[i].help,
		                           .labels = kw_st_kind_label};
		if ((rc = contour_register_metric(mod, &d, counters[i].out)) != CONTOUR_EOK) {
			snprintf(err, errlen, "%s: %s", counters[i].name, contour_strerror(rc));
			goto fail;
		}
	}
	contour_metric_desc_t dur = {.type = CONTOUR_METRIC_SUMMARY,
	                             .name = "contour_status_update_duration_seconds",
	                             .help = "How long a status update takes to finish.",
	                             .labels = kw_st_duration_labels,
	                             .bounds = kw_st_quantiles,
	                             .nbounds = sizeof(kw_st_quantiles) / sizeof(double)};
	if ((rc = contour_register_metric(mod, &dur, &s->m_duration)) != CONTOUR_EOK) {
		snprintf(err, errlen, "%s: %s", dur.name, contour_strerror(rc));
		goto fail;
	}
	if ((rc = contour_register_observer(mod, "k8s-watch-status", kw_st_observer, s)) !=
	    CONTOUR_EOK) {
		snprintf(err, errlen, "status observer: %s", contour_strerror(rc));
		goto fail;
	}
	return s;
fail:
	kw_status_free(s);
	return NULL;
}

void kw_status_start(kw_status_t *s, kw_http_t *http)
{
	if (s)
		s->http = http;
}

/* Drop everything queued or in flight. */
static void kw_st_clear(kw_status_t *s)
{
	while (s->head) {
		kw_job_t *j = s->head;
		s->head = j->next;
		kw_job_free(j);
	}
	s->tail = NULL;
	s->queued = 0;
	s->dropped = 0;
	json_object_clear(s->pending);
	json_object_clear(s->written);
	for (size_t i = 0; i < KW_STATUS_INFLIGHT; i++) {
		kw_job_free(s->active[i]);
		s->active[i] = NULL;
	}
	contour_timer_disarm(s->pump);
}

void kw_status_set_leader(kw_status_t *s, int leader)
{
	if (!s || s->leader == leader)
		return;
	s->leader = leader;
	if (!leader)
		kw_st_clear(s);
}

void kw_status_stop(kw_status_t *s)
{
	if (!s)
		return;
	s->leader = 0;
	kw_st_clear(s);
	s->http = NULL;
}

void kw_status_free(kw_status_t *s)
{
	if (!s)
		return;
	kw_st_clear(s);
	contour_timer_free(s->pump);
	json_decref(s->pending);
	json_decref(s->written);
	json_decref(s->classes);
	json_decref(s->lb_static);
	json_decref(s->lb_last);
	free(s->svc_name);
	free(s->svc_ns);
	free(s);
}
