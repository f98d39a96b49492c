/* modules/k8s-watch/kw_status.c: status write-back, leader only.
 *
 * A snapshot observer compares, for every HTTPProxy status the build
 * recorded (and, when there is a load-balancer address, every Ingress of
 * our class), the status upstream would write (contour/status.h) with the
 * object's status in the store. A difference goes to the write queue
 * (kw_status_queue.c), which writes in the background: builds are never
 * held up by writes. Only the leader with a client writes; losing
 * leadership drops everything queued or in flight.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/k8s-watch/kw.h"

struct kw_status {
	contour_module_t *mod;
	kw_http_t *http;
	int leader;
	json_t *lb_static; /* from ingress-status-address, or NULL */
	json_t *lb_last;   /* for the "new address" log line */
	char *svc_name, *svc_ns;
	kw_status_queue_t *queue;
};

static const char *kw_st_kind(int ingress)
{
	return ingress ? "Ingress" : "HTTPProxy";
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
	int match = contour_ingress_class_matches(s->mod, obj);
	/* An Ingress of another class is none of our business. */
	if (ingress && !match)
		return;
	const json_t *lb = match ? ps->lb : NULL;
	int64_t start = kw_status_queue_now_ns();
	kw_status_queue_sweep_keep(s->queue, key, obj);
	if (!ingress &&
	    !contour_status_proxy_changes(json_object_get(obj, "status"), computed, lb)) {
		kw_status_queue_count_noop(s->queue, ingress, start);
		return;
	}
	json_t *desired =
	    ingress ? contour_status_compose_ingress(json_object_get(obj, "status"), lb)
	            : contour_status_compose_proxy(json_object_get(obj, "status"), computed, lb);
	if (!desired)
		return;
	if (contour_status_equal(json_object_get(obj, "status"), desired))
		kw_status_queue_count_noop(s->queue, ingress, start);
	else if (!kw_status_queue_already_written(s->queue, key, obj, desired))
		kw_status_queue_add(s->queue, key, ingress, ns, name, computed, lb);
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
	kw_st_pass_t ps = {.s = s, .lb = kw_st_lb(s)};
	if (kw_status_queue_sweep_begin(s->queue)) {
		json_decref(ps.lb);
		return;
	}
	contour_snapshot_foreach_status(snap, kw_st_visit_status, &ps);
	/* Ingress only carries the address (StatusAddressUpdater does
	 * nothing without one). */
	if (contour_status_lb_has_address(ps.lb))
		contour_store_foreach(s->mod, "networking.k8s.io/v1", "Ingress",
		                      kw_st_visit_ingress, &ps);
	/* Records of our writes the store has caught up with (or whose
	 * object is gone) are dropped. */
	kw_status_queue_sweep_end(s->queue);
	json_decref(ps.lb);
	kw_status_queue_run(s->queue);
}

kw_status_t *kw_status_new(contour_module_t *mod, char *err, size_t errlen)
{
	kw_status_t *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->mod = mod;
	const json_t *addr = contour_conf_global(mod, "ingress-status-address");
	if (json_string_value(addr) && *json_string_value(addr))
		s->lb_static = contour_status_lb_new(json_string_value(addr));
	const char *sn = json_string_value(contour_conf_global(mod, "envoy-service-name"));
	const char *sns = json_string_value(contour_conf_global(mod, "envoy-service-namespace"));
	s->svc_name = strdup(sn && *sn ? sn : "envoy");
	s->svc_ns = strdup(sns && *sns ? sns : "projectcontour");
	if (!s->svc_name || !s->svc_ns) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!(s->queue = kw_status_queue_new(mod, err, errlen)))
		goto fail;
	int rc;
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

/* The queue writes only while this replica leads and has a client. */
static void kw_st_gate(kw_status_t *s)
{
	kw_status_queue_set_http(s->queue, s->leader ? s->http : NULL);
}

void kw_status_start(kw_status_t *s, kw_http_t *http)
{
	if (!s)
		return;
	s->http = http;
	kw_st_gate(s);
}

void kw_status_set_leader(kw_status_t *s, int leader)
{
	if (!s || s->leader == leader)
		return;
	s->leader = leader;
	if (!leader)
		kw_status_queue_clear(s->queue);
	kw_st_gate(s);
}

void kw_status_stop(kw_status_t *s)
{
	if (!s)
		return;
	s->leader = 0;
	kw_status_queue_clear(s->queue);
	s->http = NULL;
	kw_st_gate(s);
}

void kw_status_free(kw_status_t *s)
{
	if (!s)
		return;
	kw_status_queue_free(s->queue);
	json_decref(s->lb_static);
	json_decref(s->lb_last);
	CONTOUR_FREE_ALL(s->svc_name, s->svc_ns, s);
}
