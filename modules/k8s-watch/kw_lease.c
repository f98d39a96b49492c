/* modules/k8s-watch/kw_lease.c: leader election with a coordination.k8s.io/v1
 * Lease, as client-go's LeaderElector does it (tools/leaderelection,
 * resourcelock/leaselock.go), driven by timers on the loop.
 *
 * The rules live in the kw_elect_* functions, which only look at what this
 * candidate observed and when (its own monotonic clock): expiry is judged
 * from the moment the record last changed, never from renewTime, so no clock
 * needs to agree with another. kw_lease_t sequences them: fast path PUT with
 * the cached resourceVersion, else GET, POST on 404, PUT.
 *
 * One departure from upstream, so a lost lease never restarts the pod: when renewing fails
 * past the renew deadline (or another holder is seen) the replica steps down
 * and goes back to acquiring instead of exiting.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "modules/k8s-watch/kw.h"

/* client-go's JitterFactor. */
#define KW_LEASE_JITTER 1.2

int kw_lease_validate(int64_t lease_ms, int64_t renew_deadline_ms, int64_t retry_ms, char *err,
                      size_t errlen)
{
	const char *msg = NULL;
	/* Same order as NewLeaderElector, so the same message wins. */
	if (lease_ms <= renew_deadline_ms)
		msg = "leaseDuration must be greater than renewDeadline";
	else if ((double)renew_deadline_ms <= KW_LEASE_JITTER * (double)retry_ms)
		msg = "renewDeadline must be greater than retryPeriod*JitterFactor";
	else if (lease_ms < 1)
		msg = "leaseDuration must be greater than zero";
	else if (renew_deadline_ms < 1)
		msg = "renewDeadline must be greater than zero";
	else if (retry_ms < 1)
		msg = "retryPeriod must be greater than zero";
	if (!msg)
		return CONTOUR_EOK;
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return CONTOUR_ECONFIG;
}

static void kw_lease_random(unsigned char *buf, size_t n)
{
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	if (fd >= 0) {
		while (got < n) {
			ssize_t r = read(fd, buf + got, n - got);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		close(fd);
	}
	/* Without /dev/urandom the identity only needs to differ between
	 * replicas: time and pid do that well enough. */
	if (got < n) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		srandom((unsigned)(ts.tv_nsec ^ ts.tv_sec ^ getpid()));
		for (; got < n; got++)
			buf[got] = (unsigned char)random();
	}
}

char *kw_lease_identity(void)
{
	char host[256] = "";
	if (gethostname(host, sizeof(host) - 1) != 0 || !*host)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	unsigned char u[16];
	kw_lease_random(u, sizeof(u));
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	size_t len = strlen(host) + 1 + 36 + 1;
	char *id = malloc(len);
	if (!id)
		return NULL;
	snprintf(id, len, "%s_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         host, u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
	         u[12], u[13], u[14], u[15]);
	return id;
}

void kw_lease_micro_time(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

/* ---- the pure part: client-go's rules ---- */

void kw_elect_init(kw_elect_t *e, const char *identity, int lease_s)
{
	memset(e, 0, sizeof(*e));
	e->identity = strdup(identity ? identity : "");
	e->lease_s = lease_s;
}

void kw_elect_fini(kw_elect_t *e)
{
	if (!e)
		return;
	free(e->identity);
	json_decref(e->observed);
	free(e->observed_raw);
	json_decref(e->lease);
	memset(e, 0, sizeof(*e));
}

/* A Lease's spec as a LeaderElectionRecord (LeaseSpecToLeaderElectionRecord):
 * the five fields, absent ones at their zero value. */
static json_t *kw_elect_record_of(const json_t *lease)
{
	const json_t *spec = json_object_get(lease, "spec");
	json_t *rec = json_pack(
	    "{s:s, s:I, s:I}", "holderIdentity", contour_json_get_str(spec, "holderIdentity"),
	    "leaseDurationSeconds",
	    json_integer_value(json_object_get(spec, "leaseDurationSeconds")), "leaseTransitions",
	    json_integer_value(json_object_get(spec, "leaseTransitions")));
	if (!rec)
		return NULL;
	const char *t = json_string_value(json_object_get(spec, "acquireTime"));
	if (t)
		json_object_set_new(rec, "acquireTime", json_string(t));
	t = json_string_value(json_object_get(spec, "renewTime"));
	if (t)
		json_object_set_new(rec, "renewTime", json_string(t));
	return rec;
}

int kw_elect_is_leader(const kw_elect_t *e)
{
	return e->observed &&
	       !strcmp(contour_json_get_str(e->observed, "holderIdentity"), e->identity);
}

int kw_elect_lease_valid(const kw_elect_t *e, int64_t now_ms)
{
	if (!e->observed)
		return 0;
	json_int_t secs = json_integer_value(json_object_get(e->observed, "leaseDurationSeconds"));
	return e->observed_ms + (int64_t)secs * 1000 > now_ms;
}

/* A Lease object: base (the cached or fetched Lease, may be NULL) with its
 * spec replaced by a new record, as leaselock.Update does. */
static json_t *kw_elect_lease_with(const json_t *base, const char *holder, int duration_s,
                                   const char *acquire, const char *renew, json_int_t transitions)
{
	json_t *obj = base ? json_deep_copy(base) : json_object();
	json_t *spec =
	    json_pack("{s:s, s:i, s:I}", "holderIdentity", holder, "leaseDurationSeconds",
	              duration_s, "leaseTransitions", transitions);
	if (!obj || !spec) {
		json_decref(obj);
		json_decref(spec);
		return NULL;
	}
	if (acquire)
		json_object_set_new(spec, "acquireTime", json_string(acquire));
	if (renew)
		json_object_set_new(spec, "renewTime", json_string(renew));
	json_object_set_new(obj, "spec", spec);
	return obj;
}

json_t *kw_elect_fast_path(const kw_elect_t *e, int64_t now_ms, const char *now_micro)
{
	if (!e->lease || !kw_elect_is_leader(e) || !kw_elect_lease_valid(e, now_ms))
		return NULL;
	return kw_elect_lease_with(
	    e->lease, e->identity, e->lease_s, contour_json_get_str_opt(e->observed, "acquireTime"),
	    now_micro, json_integer_value(json_object_get(e->observed, "leaseTransitions")));
}

json_t *kw_elect_create_body(const kw_elect_t *e, const char *ns, const char *name,
                             const char *now_micro)
{
	json_t *base = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "coordination.k8s.io/v1",
	                         "kind", "Lease", "metadata", "name", name, "namespace", ns);
	if (!base)
		return NULL;
	json_t *obj = kw_elect_lease_with(base, e->identity, e->lease_s, now_micro, now_micro, 0);
	json_decref(base);
	return obj;
}

json_t *kw_elect_observe(kw_elect_t *e, const json_t *fetched, int64_t now_ms,
                         const char *now_micro)
{
	json_t *rec = kw_elect_record_of(fetched);
	char *raw = rec ? json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!rec || !raw) {
		json_decref(rec);
		free(raw);
		return NULL;
	}
	/* Lock.Get caches the object: later writes carry its resourceVersion. */
	json_decref(e->lease);
	e->lease = json_deep_copy(fetched);
	if (!e->observed_raw || strcmp(e->observed_raw, raw)) {
		json_decref(e->observed);
		e->observed = json_incref(rec);
		free(e->observed_raw);
		e->observed_raw = raw;
		e->observed_ms = now_ms;
	} else {
		free(raw);
	}
	json_t *body = NULL;
	const char *holder = contour_json_get_str(rec, "holderIdentity");
	if (*holder && kw_elect_lease_valid(e, now_ms) && !kw_elect_is_leader(e))
		goto out; /* held by another, not yet expired by our clock */
	json_int_t transitions = json_integer_value(json_object_get(rec, "leaseTransitions"));
	if (kw_elect_is_leader(e))
		body = kw_elect_lease_with(fetched, e->identity, e->lease_s,
		                           contour_json_get_str_opt(rec, "acquireTime"), now_micro,
		                           transitions);
	else
		body = kw_elect_lease_with(fetched, e->identity, e->lease_s, now_micro, now_micro,
		                           transitions + 1);
out:
	json_decref(rec);
	return body;
}

void kw_elect_written(kw_elect_t *e, const json_t *sent, const json_t *resp, int64_t now_ms)
{
	json_t *rec = kw_elect_record_of(sent);
	if (rec) {
		/* setObservedRecord: the raw record stays the last fetched one. */
		json_decref(e->observed);
		e->observed = rec;
		e->observed_ms = now_ms;
	}
	json_decref(e->lease);
	e->lease = json_deep_copy(resp ? resp : sent);
}

json_t *kw_elect_release_body(const kw_elect_t *e, const json_t *current, const char *now_micro)
{
	if (!current || !kw_elect_is_leader(e))
		return NULL;
	/* Decide from the record just read: never release another's lease. */
	const json_t *spec = json_object_get(current, "spec");
	if (strcmp(contour_json_get_str(spec, "holderIdentity"), e->identity))
		return NULL;
	return kw_elect_lease_with(current, "", 1, now_micro, now_micro,
	                           json_integer_value(json_object_get(spec, "leaseTransitions")));
}

/* ---- the elector on the loop ---- */

typedef enum {
	KW_LEASE_IDLE,
	KW_LEASE_FAST,   /* optimistic PUT with the cached Lease */
	KW_LEASE_GET,    /* slow path: read the Lease */
	KW_LEASE_CREATE, /* POST after a 404 */
	KW_LEASE_UPDATE, /* PUT after the GET */
} kw_lease_step_t;

struct kw_lease {
	contour_module_t *mod;
	kw_http_t *http; /* borrowed between start and stop */
	kw_lease_change_fn fn;
	void *ud;
	int disabled;
	char *name, *ns;
	int64_t lease_ms, renew_ms, retry_ms, timeout_ms;
	kw_elect_t el;
	contour_timer_t *tick;     /* next attempt */
	contour_timer_t *deadline; /* renew deadline while leading */
	kw_req_t *req;
	json_t *sent; /* the body of the write in flight */
	kw_lease_step_t step;
	int64_t attempt_ms; /* when the current attempt started */
	int leader;
	int started;
	contour_metric_t *gauge;
	char path[1024], coll[512];
};

static void kw_lease_set_leader(kw_lease_t *l, int leader)
{
	if (l->leader == leader)
		return;
	l->leader = leader;
	contour_metric_set(l->gauge, NULL, leader ? 1 : 0);
	if (leader)
		contour_log(l->mod, CONTOUR_LOG_INFO, "became leader lease=%s/%s identity=%s",
		            l->ns, l->name, l->el.identity);
	else
		contour_log(l->mod, CONTOUR_LOG_WARN, "lost leadership lease=%s/%s identity=%s",
		            l->ns, l->name, l->el.identity);
	if (l->fn)
		l->fn(leader, l->ud);
	/* Status depends on leadership: rebuild so the new leader writes it. */
	contour_build_request(l->mod);
}

/* wait.JitterUntil's wait: retry + rand * 1.2 * retry. */
static int64_t kw_lease_jittered(const kw_lease_t *l)
{
	return l->retry_ms +
	       (int64_t)((double)random() / RAND_MAX * KW_LEASE_JITTER * (double)l->retry_ms);
}

static void kw_lease_finish(kw_lease_t *l, int ok)
{
	l->step = KW_LEASE_IDLE;
	int64_t now = contour_now_ms(l->mod);
	if (!l->leader) {
		if (ok) {
			kw_lease_set_leader(l, 1);
			/* The renew loop's first poll runs at once. */
			contour_timer_arm(l->tick, 0);
		} else {
			contour_timer_arm(l->tick, kw_lease_jittered(l));
		}
		return;
	}
	if (ok) {
		/* This poll is done: the next one starts after the retry period
		 * with a fresh deadline. */
		contour_timer_disarm(l->deadline);
		contour_timer_arm(l->tick, l->retry_ms);
		return;
	}
	if (!kw_elect_is_leader(&l->el)) {
		/* Another holder was observed: no point writing status until the
		 * deadline; step down now (client-go would wait for it). */
		contour_timer_disarm(l->deadline);
		kw_lease_set_leader(l, 0);
		contour_timer_arm(l->tick, kw_lease_jittered(l));
		return;
	}
	int64_t next = l->attempt_ms + l->retry_ms - now;
	contour_timer_arm(l->tick, next > 0 ? next : 0);
}

static void kw_lease_done(const kw_resp_t *resp, void *ud);

static void kw_lease_send(kw_lease_t *l, kw_lease_step_t step, const char *method, const char *path,
                          json_t *body)
{
	char *text = NULL;
	json_decref(l->sent);
	l->sent = body;
	if (body && !(text = json_dumps(body, JSON_COMPACT))) {
		kw_lease_finish(l, 0);
		return;
	}
	l->step = step;
	l->req = kw_http_request(l->http, method, path, text, l->timeout_ms, "/leader-election",
	                         kw_lease_done, l);
	free(text);
	if (!l->req) {
		contour_log(l->mod, CONTOUR_LOG_ERR, "lease request failed: out of memory");
		kw_lease_finish(l, 0);
	}
}

static void kw_lease_error(kw_lease_t *l, const char *what, const kw_resp_t *resp, int level)
{
	char msg[256];
	kw_status_message(resp, msg, sizeof(msg));
	contour_log(l->mod, (contour_log_level_t)level, "%s lease=%s/%s status=%ld error=\"%s\"",
	            what, l->ns, l->name, resp->status, msg);
}

static json_t *kw_lease_parse(const kw_resp_t *resp)
{
	if (!resp->body)
		return NULL;
	json_t *o = json_loadb(resp->body, resp->len, 0, NULL);
	if (o && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* A write of ours (the fast-path PUT, the create or the update) succeeded. */
static void kw_lease_written(kw_lease_t *l, const kw_resp_t *resp, int64_t now)
{
	json_t *got = kw_lease_parse(resp);
	kw_elect_written(&l->el, l->sent, got, now);
	json_decref(got);
	kw_lease_finish(l, 1);
}

static void kw_lease_done(const kw_resp_t *resp, void *ud)
{
	kw_lease_t *l = ud;
	l->req = NULL;
	int64_t now = contour_now_ms(l->mod);
	char micro[40];
	int ok2xx = resp->status >= 200 && resp->status < 300;

	switch (l->step) {
	case KW_LEASE_FAST:
		if (ok2xx) {
			kw_lease_written(l, resp, now);
			return;
		}
		kw_lease_error(l,
		               "failed to update lease optimistically, falling back to slow path",
		               resp, CONTOUR_LOG_DEBUG);
		kw_lease_send(l, KW_LEASE_GET, "GET", l->path, NULL);
		return;
	case KW_LEASE_GET: {
		if (resp->status == 404) {
			kw_lease_micro_time(micro, sizeof(micro));
			json_t *body = kw_elect_create_body(&l->el, l->ns, l->name, micro);
			if (!body) {
				kw_lease_finish(l, 0);
				return;
			}
			kw_lease_send(l, KW_LEASE_CREATE, "POST", l->coll, body);
			return;
		}
		json_t *got = ok2xx ? kw_lease_parse(resp) : NULL;
		if (!got) {
			kw_lease_error(l, "error retrieving lease", resp, CONTOUR_LOG_ERR);
			kw_lease_finish(l, 0);
			return;
		}
		kw_lease_micro_time(micro, sizeof(micro));
		json_t *body = kw_elect_observe(&l->el, got, now, micro);
		json_decref(got);
		if (!body) {
			contour_log(l->mod, CONTOUR_LOG_DEBUG,
			            "lease is held by %s and has not yet expired",
			            contour_json_get_str(l->el.observed, "holderIdentity"));
			kw_lease_finish(l, 0);
			return;
		}
		kw_lease_send(l, KW_LEASE_UPDATE, "PUT", l->path, body);
		return;
	}
	case KW_LEASE_CREATE:
	case KW_LEASE_UPDATE:
		if (ok2xx) {
			kw_lease_written(l, resp, now);
			return;
		}
		kw_lease_error(l,
		               l->step == KW_LEASE_CREATE ? "error initially creating lease"
		                                          : "failed to update lease",
		               resp, resp->status == 409 ? CONTOUR_LOG_INFO : CONTOUR_LOG_ERR);
		kw_lease_finish(l, 0);
		return;
	case KW_LEASE_IDLE:
		break;
	}
}

/* One tryAcquireOrRenew. */
static void kw_lease_on_tick(contour_timer_t *t, void *ud)
{
	(void)t;
	kw_lease_t *l = ud;
	if (l->req)
		return;
	int64_t now = contour_now_ms(l->mod);
	l->attempt_ms = now;
	if (l->leader && !contour_timer_armed(l->deadline))
		contour_timer_arm(l->deadline, l->renew_ms);
	char micro[40];
	kw_lease_micro_time(micro, sizeof(micro));
	json_t *fast = kw_elect_fast_path(&l->el, now, micro);
	if (fast)
		kw_lease_send(l, KW_LEASE_FAST, "PUT", l->path, fast);
	else
		kw_lease_send(l, KW_LEASE_GET, "GET", l->path, NULL);
}

/* Renewing kept failing for the whole renew deadline. */
static void kw_lease_on_deadline(contour_timer_t *t, void *ud)
{
	(void)t;
	kw_lease_t *l = ud;
	kw_req_cancel(l->req);
	l->req = NULL;
	l->step = KW_LEASE_IDLE;
	contour_log(l->mod, CONTOUR_LOG_WARN, "failed to renew lease %s/%s within %lldms", l->ns,
	            l->name, (long long)l->renew_ms);
	kw_lease_set_leader(l, 0);
	contour_timer_arm(l->tick, kw_lease_jittered(l));
}

kw_lease_t *kw_lease_new(contour_module_t *mod, kw_lease_change_fn fn, void *ud, char *err,
                         size_t errlen)
{
	kw_lease_t *l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->mod = mod;
	l->fn = fn;
	l->ud = ud;
	l->disabled = contour_conf_get_bool(mod, "disable-leader-election", 0);
	l->lease_ms = contour_conf_get_duration_ms(mod, "leader-election-lease-duration", 15000);
	l->renew_ms = contour_conf_get_duration_ms(mod, "leader-election-renew-deadline", 10000);
	l->retry_ms = contour_conf_get_duration_ms(mod, "leader-election-retry-period", 2000);
	/* leaderelection's client: max(RenewDeadline/2, 1s) per request. */
	l->timeout_ms = l->renew_ms / 2 > 1000 ? l->renew_ms / 2 : 1000;
	const char *name =
	    contour_conf_get_str(mod, "leader-election-resource-name", KW_LEASE_DEFAULT_NAME);
	const char *ns = contour_conf_get_str(mod, "leader-election-resource-namespace", NULL);
	if (!ns || !*ns)
		ns = getenv("CONTOUR_NAMESPACE");
	if (!ns || !*ns)
		ns = KW_LEASE_DEFAULT_NAMESPACE;
	if (!name || !*name)
		name = KW_LEASE_DEFAULT_NAME;
	l->name = strdup(name);
	l->ns = strdup(ns);
	char *id = kw_lease_identity();
	if (!l->name || !l->ns || !id) {
		free(id);
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	kw_elect_init(&l->el, id, (int)(l->lease_ms / 1000));
	free(id);
	if (!l->disabled &&
	    kw_lease_validate(l->lease_ms, l->renew_ms, l->retry_ms, err, errlen) != CONTOUR_EOK)
		goto fail;
	snprintf(l->coll, sizeof(l->coll), "/apis/coordination.k8s.io/v1/namespaces/%.253s/leases",
	         l->ns);
	snprintf(l->path, sizeof(l->path), "%.500s/%.253s", l->coll, l->name);
	static const contour_metric_desc_t gauge = {
	    .type = CONTOUR_METRIC_GAUGE,
	    .name = "contour_leader",
	    .help = "Whether this replica holds the leader-election Lease (1) or not (0).",
	};
	int rc = contour_register_metric(mod, &gauge, &l->gauge);
	if (rc != CONTOUR_EOK) {
		snprintf(err, errlen, "contour_leader: %s", contour_strerror(rc));
		goto fail;
	}
	contour_metric_set(l->gauge, NULL, 0);
	l->tick = contour_timer_new(mod, kw_lease_on_tick, l);
	l->deadline = contour_timer_new(mod, kw_lease_on_deadline, l);
	if (!l->tick || !l->deadline) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return l;
fail:
	kw_lease_free(l);
	return NULL;
}

int kw_lease_start(kw_lease_t *l, kw_http_t *http)
{
	if (!l)
		return CONTOUR_EINVAL;
	l->http = http;
	l->started = 1;
	if (l->disabled) {
		contour_log(l->mod, CONTOUR_LOG_INFO, "leader election disabled");
		kw_lease_set_leader(l, 1);
		return CONTOUR_EOK;
	}
	contour_log(l->mod, CONTOUR_LOG_INFO,
	            "attempting to acquire leader lease %s/%s identity=%s", l->ns, l->name,
	            l->el.identity);
	return contour_timer_arm(l->tick, 0);
}

/* release(): PUT the cached Lease (our last write's resourceVersion) with
 * holderIdentity "". The blocking client returns no body, so a 409 (a
 * renew that raced the cancel) cannot be re-read and retried: the lease
 * then simply expires. */
static void kw_lease_release(kw_lease_t *l)
{
	char micro[40];
	kw_lease_micro_time(micro, sizeof(micro));
	json_t *body = kw_elect_release_body(&l->el, l->el.lease, micro);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return;
	long st =
	    kw_http_request_sync(l->http, "PUT", l->path, text, l->timeout_ms, "/leader-election");
	free(text);
	if (st >= 200 && st < 300)
		contour_log(l->mod, CONTOUR_LOG_INFO, "released leader lease %s/%s", l->ns,
		            l->name);
	else
		contour_log(l->mod, CONTOUR_LOG_WARN, "failed to release lease %s/%s status=%ld",
		            l->ns, l->name, st);
}

void kw_lease_stop(kw_lease_t *l)
{
	if (!l || !l->started)
		return;
	l->started = 0;
	contour_timer_disarm(l->tick);
	contour_timer_disarm(l->deadline);
	kw_req_cancel(l->req);
	l->req = NULL;
	l->step = KW_LEASE_IDLE;
	if (l->leader && !l->disabled && l->http)
		kw_lease_release(l);
	if (l->leader) {
		/* No callback or rebuild while stopping: just the gauge. */
		l->leader = 0;
		contour_metric_set(l->gauge, NULL, 0);
	}
	l->http = NULL;
}

void kw_lease_free(kw_lease_t *l)
{
	if (!l)
		return;
	kw_req_cancel(l->req);
	contour_timer_free(l->tick);
	contour_timer_free(l->deadline);
	json_decref(l->sent);
	kw_elect_fini(&l->el);
	CONTOUR_FREE_ALL(l->name, l->ns, l);
}

int kw_lease_is_leader(const kw_lease_t *l)
{
	return l && l->leader;
}
