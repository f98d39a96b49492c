/* modules/k8s-watch/kw_reflector.c: list + watch of one kind into the store.
 *
 * The model is client-go's reflector (tools/cache/reflector.go):
 *
 *   LIST  ?limit=500&resourceVersion=0 the first time, then the last RV
 *         seen, then "" if that is expired; pages follow `continue` (its
 *         presence, not the item count) with only limit and continue set
 *         (and the kind's fieldSelector, which every request carries).
 *         The pages together REPLACE what this reflector had put: every
 *         item is put (the store ignores equal objects, so nothing flaps)
 *         and the keys it had that the list lacks are deleted at the end.
 *   WATCH ?allowWatchBookmarks=true&resourceVersion=RV&timeoutSeconds=N
 *         &watch=true, N random in [300,600]; a client-side idle guard of
 *         N + 30 s catches half-open connections.
 *   end   clean (or cut after events): watch again from the last RV at
 *         once. 410 as HTTP status or as an ERROR event, a bad event, or a
 *         watch that ends within 1 s with no event: back off, relist.
 *         429 / 5xx with Retry-After: wait that long and retry the same
 *         step (at most 10 times in a row); 429 or no connection at watch
 *         start: back off and retry the watch, not the list.
 *
 * Backoff: 800 ms doubling with full jitter, capped at 30 s, reset after
 * 2 minutes without an error. resourceVersions are opaque: only stored,
 * sent back and compared for equality.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/k8s-watch/kw.h"

#define KW_BACKOFF_INIT_MS  800
#define KW_BACKOFF_MAX_MS   30000
#define KW_BACKOFF_RESET_MS 120000
#define KW_RETRY_AFTER_MAX  10
#define KW_SHORT_WATCH_MS   1000
#define KW_IDLE_SLACK_MS    30000
#define KW_EVENT_MAX        (64u << 20)
#define KW_LIST_TIMEOUT_MS  60000

static const kw_kind_t kw_kind_table[] = {
    /* As upstream: Helm releases and service-account tokens are never
     * referenced by Contour and can be large, so the API server does not
     * even send them. */
    {"v1", "Secret", "secrets",
     "type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token"},
    {"v1", "Service", "services", NULL},
    {"discovery.k8s.io/v1", "EndpointSlice", "endpointslices", NULL},
    {"projectcontour.io/v1", "TLSCertificateDelegation", "tlscertificatedelegations", NULL},
    {"projectcontour.io/v1", "HTTPProxy", "httpproxies", NULL},
    {"networking.k8s.io/v1", "Ingress", "ingresses", NULL},
};

const kw_kind_t *kw_kinds(size_t *n)
{
	*n = sizeof(kw_kind_table) / sizeof(kw_kind_table[0]);
	return kw_kind_table;
}

typedef enum { KW_NEXT_LIST, KW_NEXT_WATCH } kw_next_t;

struct kw_reflector {
	kw_reflector_opts_t o;
	char *ns;
	char *rv;      /* last seen, "" before the first list */
	char *list_rv; /* the RV to list at: "0", rv or "" */
	char *cont;    /* continue token of the list in progress */
	json_t *keys;  /* "ns/name" -> true: what this reflector put */
	json_t *seen;  /* the same for the list in progress */
	kw_req_t *req; /* the list page or watch in flight */
	kw_split_t *split;
	contour_timer_t *timer;
	kw_next_t next; /* what the timer starts */
	int synced;
	int started;
	int lists;    /* completed lists */
	int ra_count; /* Retry-After waits in a row */
	int backoff_step;
	int64_t last_error_ms;
	int64_t watch_start_ms;
	long watch_events;
	int watch_expired;   /* an ERROR event said 410 */
	char watch_err[320]; /* a bad event or an ERROR event */
};

static const char *kw_refl_kindname(const kw_reflector_t *r)
{
	return r->o.kind->kind;
}

static void kw_refl_count(kw_reflector_t *r, contour_metric_t *m, double v)
{
	if (!m)
		return;
	const char *labels[] = {kw_refl_kindname(r)};
	contour_metric_add(m, labels, v);
}

static void kw_refl_set_str(char **dst, const char *v)
{
	char *n = strdup(v ? v : "");
	if (!n)
		return; /* keep the old value rather than lose it */
	free(*dst);
	*dst = n;
}

/* Percent-encode a query value: tokens and RVs are opaque and may hold
 * '=', '+' or '/'. */
static void kw_refl_qenc(const char *v, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)v; *p && o + 4 < cap; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

static int kw_refl_key(const json_t *obj, char *out, size_t cap)
{
	const json_t *meta = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	if (!name)
		return -1;
	int n = snprintf(out, cap, "%s/%s", ns ? ns : "", name);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static void kw_refl_delete_key(kw_reflector_t *r, const char *k)
{
	const char *slash = strchr(k, '/');
	char ns[512];
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - k), k);
	contour_object_key_t key = {.api_version = r->o.kind->api_version,
	                            .kind = r->o.kind->kind,
	                            .namespace_ = ns,
	                            .name = slash + 1};
	contour_store_delete(r->o.src, &key);
}

/* Put one object (a reference is taken over) and remember its key in set. */
static void kw_refl_put(kw_reflector_t *r, json_t *obj, json_t *set)
{
	char k[1024];
	kw_object_prepare(r->o.kind, obj);
	if (kw_refl_key(obj, k, sizeof(k)) != 0) {
		json_decref(obj);
		return;
	}
	if (contour_store_put_new(r->o.src, obj) == CONTOUR_EOK)
		json_object_set_new(set, k, json_true());
	kw_refl_count(r, r->o.metrics ? r->o.metrics->received : NULL, 1);
}

/* ---- scheduling ---- */

static void kw_refl_list(kw_reflector_t *r);
static void kw_refl_watch(kw_reflector_t *r);

static void kw_refl_timer_cb(contour_timer_t *t, void *ud)
{
	kw_reflector_t *r = ud;
	if (r->next == KW_NEXT_LIST)
		kw_refl_list(r);
	else
		kw_refl_watch(r);
}

static void kw_refl_after(kw_reflector_t *r, kw_next_t next, int64_t ms)
{
	r->next = next;
	contour_timer_arm(r->timer, ms);
}

/* An error: wait with exponential backoff and jitter, then do next. */
static void kw_refl_backoff(kw_reflector_t *r, kw_next_t next, const char *what)
{
	int64_t now = contour_now_ms(r->o.mod);
	if (r->last_error_ms && now - r->last_error_ms >= KW_BACKOFF_RESET_MS)
		r->backoff_step = 0;
	r->last_error_ms = now;
	int64_t d = KW_BACKOFF_INIT_MS;
	for (int i = 0; i < r->backoff_step && d < KW_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (r->backoff_step < 30)
		r->backoff_step++;
	/* client-go's jitter 1.0: somewhere in [d, 2d), then the cap. */
	d += (int64_t)((double)d * ((double)random() / ((double)RAND_MAX + 1.0)));
	if (d > KW_BACKOFF_MAX_MS)
		d = KW_BACKOFF_MAX_MS;
	r->ra_count = 0;
	kw_refl_count(r, r->o.metrics ? r->o.metrics->errors : NULL, 1);
	contour_log(r->o.mod, CONTOUR_LOG_WARN, "%s%s%s: %s; %s again in %lld ms",
	            kw_refl_kindname(r), r->ns ? " in " : "", r->ns ? r->ns : "", what,
	            next == KW_NEXT_LIST ? "listing" : "watching", (long long)d);
	kw_refl_after(r, next, d);
}

/* 429 / 5xx: honour Retry-After (at most 10 times in a row); returns 1
 * when it scheduled the retry. */
static int kw_refl_retry_after(kw_reflector_t *r, const kw_resp_t *resp, kw_next_t next)
{
	if (resp->retry_after < 0 || !(resp->status == 429 || resp->status >= 500))
		return 0;
	if (r->ra_count >= KW_RETRY_AFTER_MAX)
		return 0;
	r->ra_count++;
	kw_refl_count(r, r->o.metrics ? r->o.metrics->errors : NULL, 1);
	contour_log(r->o.mod, CONTOUR_LOG_INFO, "%s: HTTP %ld, retrying after %d s",
	            kw_refl_kindname(r), resp->status, resp->retry_after);
	kw_refl_after(r, next, (int64_t)resp->retry_after * 1000);
	return 1;
}

/* "fieldSelector=ENC&" for a kind with a selector, else "": the same on
 * the first page, every continuation and the watch, as the API requires. */
static void kw_refl_selector(const kw_reflector_t *r, char *out, size_t cap)
{
	out[0] = '\0';
	if (!r->o.kind->field_selector)
		return;
	char enc[400];
	kw_refl_qenc(r->o.kind->field_selector, enc, sizeof(enc));
	snprintf(out, cap, "fieldSelector=%s&", enc);
}

/* client-go's isTooLargeResourceVersionError: 504 with the cause
 * ResourceVersionTooLarge (or, from older servers, only its message). */
static int kw_refl_too_large(const kw_resp_t *resp)
{
	if (resp->status != 504 || !resp->body)
		return 0;
	return strstr(resp->body, "\"ResourceVersionTooLarge\"") != NULL ||
	       strstr(resp->body, "Too large resource version") != NULL;
}

/* ---- LIST ---- */

static void kw_refl_list_done(const kw_resp_t *resp, void *ud);

static void kw_refl_list(kw_reflector_t *r)
{
	char base[1024], path[4096], enc[2048], sel[512];
	kw_path(r->o.kind, r->ns, NULL, NULL, base, sizeof(base));
	kw_refl_selector(r, sel, sizeof(sel));
	size_t limit = r->o.page_limit ? r->o.page_limit : 500;
	if (r->cont) {
		/* Later pages: only limit and continue (client-go's pager clears
		 * resourceVersion, which the server refuses with continue). */
		kw_refl_qenc(r->cont, enc, sizeof(enc));
		snprintf(path, sizeof(path), "%s?continue=%s&%slimit=%zu", base, enc, sel, limit);
	} else {
		/* A fresh list. Keys put by an earlier list that failed half-way
		 * join the known ones, so the new list can delete them. */
		if (r->seen)
			json_object_update(r->keys, r->seen);
		json_decref(r->seen);
		r->seen = json_object();
		kw_refl_qenc(r->list_rv, enc, sizeof(enc));
		snprintf(path, sizeof(path), "%s?%slimit=%zu&resourceVersion=%s", base, sel, limit,
		         enc);
	}
	r->req = kw_http_request(r->o.http, "GET", path, NULL, KW_LIST_TIMEOUT_MS, NULL,
	                         kw_refl_list_done, r);
	if (!r->req)
		kw_refl_backoff(r, KW_NEXT_LIST, "out of memory");
}

/* The list is complete: delete what vanished, keep the new key set. */
static void kw_refl_list_complete(kw_reflector_t *r)
{
	const char *k;
	json_t *v;
	size_t gone = 0;
	json_object_foreach(r->keys, k, v)
	{
		if (!json_object_get(r->seen, k)) {
			kw_refl_delete_key(r, k);
			gone++;
		}
	}
	json_decref(r->keys);
	r->keys = r->seen;
	r->seen = NULL;
	if (r->lists++ > 0)
		kw_refl_count(r, r->o.metrics ? r->o.metrics->relists : NULL, 1);
	contour_log(r->o.mod, CONTOUR_LOG_DEBUG, "%s: listed %zu objects at %s (%zu gone)",
	            kw_refl_kindname(r), json_object_size(r->keys), r->rv, gone);
	/* The next relist asks for "not older than" what we have. */
	kw_refl_set_str(&r->list_rv, r->rv);
	if (!r->synced) {
		r->synced = 1;
		if (r->o.synced)
			r->o.synced(r, r->o.ud);
	}
	kw_refl_watch(r);
}

static int kw_refl_is_secret(const kw_reflector_t *r)
{
	return !strcmp(r->o.kind->kind, "Secret") && !strcmp(r->o.kind->api_version, "v1");
}

static void kw_refl_list_done(const kw_resp_t *resp, void *ud)
{
	kw_reflector_t *r = ud;
	char msg[512];
	r->req = NULL;
	if (resp->status == 200 && !resp->error) {
		json_error_t je;
		char *cut = NULL;
		size_t cutlen = 0;
		json_t *page;
		/* Cut uninteresting Secret payloads before jansson builds them. */
		if (kw_refl_is_secret(r) &&
		    kw_secretscan(resp->body, resp->len, KW_SECRETSCAN_LIST, 0, &cut, &cutlen) == 1)
			page = json_loadb(cut, cutlen, 0, &je);
		else
			page = json_loadb(resp->body, resp->len, 0, &je);
		free(cut);
		json_t *items = json_object_get(page, "items");
		if (!json_is_object(page) ||
		    !(json_is_array(items) || json_is_null(items) || !items)) {
			json_decref(page);
			snprintf(msg, sizeof(msg), "bad list response: %s",
			         page ? "no items" : je.text);
			goto fail;
		}
		r->ra_count = 0;
		const json_t *meta = json_object_get(page, "metadata");
		const char *cont = json_string_value(json_object_get(meta, "continue"));
		if (!r->cont) /* every page carries the first page's RV */
			kw_refl_set_str(
			    &r->rv, json_string_value(json_object_get(meta, "resourceVersion")));
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it)
		{
			/* Detach the item so the page's memory goes as we go. */
			json_t *own = json_incref(it);
			json_array_set_new(items, i, json_null());
			kw_refl_put(r, own, r->seen);
		}
		/* `cont` lives in the page: keep a copy before the page goes. */
		int more = cont && *cont;
		if (more)
			kw_refl_set_str(&r->cont, cont);
		json_decref(page);
		if (more) {
			kw_refl_list(r);
			return;
		}
		free(r->cont);
		r->cont = NULL;
		kw_refl_list_complete(r);
		return;
	}
	int too_large = kw_refl_too_large(resp);
	if (!too_large && kw_refl_retry_after(r, resp, KW_NEXT_LIST))
		return;
	kw_status_message(resp, msg, sizeof(msg));
	if ((resp->status == 410 || too_large) && (r->cont || strcmp(r->list_rv, ""))) {
		/* Expired RV or continue token, or an RV the server has not seen
		 * (a restarted or restored API server): a consistent list from
		 * scratch, at once (the pages put so far stay in `seen`).
		 * Retrying the same RV would never succeed. */
		contour_log(r->o.mod, CONTOUR_LOG_INFO, "%s: %s; listing from the latest version",
		            kw_refl_kindname(r), msg);
		free(r->cont);
		r->cont = NULL;
		kw_refl_set_str(&r->list_rv, "");
		kw_refl_list(r);
		return;
	}
fail:
	free(r->cont);
	r->cont = NULL;
	kw_refl_backoff(r, KW_NEXT_LIST, msg);
}

/* ---- WATCH ---- */

static void kw_refl_watch_done(const kw_resp_t *resp, void *ud);

static int kw_refl_value(const char *p, size_t n, void *ud)
{
	kw_reflector_t *r = ud;
	kw_event_t ev;
	char err[256], *cut = NULL;
	size_t cutlen = 0;
	int rc;
	/* kw_event_parse reads with JSON_REJECT_DUPLICATES. */
	if (kw_refl_is_secret(r) &&
	    kw_secretscan(p, n, KW_SECRETSCAN_EVENT, JSON_REJECT_DUPLICATES, &cut, &cutlen) == 1)
		rc = kw_event_parse(cut, cutlen, &ev, err, sizeof(err));
	else
		rc = kw_event_parse(p, n, &ev, err, sizeof(err));
	free(cut);
	if (rc != CONTOUR_EOK) {
		snprintf(r->watch_err, sizeof(r->watch_err), "%s", err);
		return -1;
	}
	r->watch_events++;
	char k[1024];
	switch (ev.type) {
	case KW_EV_ADDED:
	case KW_EV_MODIFIED:
		if (ev.resource_version)
			kw_refl_set_str(&r->rv, ev.resource_version);
		kw_refl_put(r, json_incref(ev.object), r->keys);
		break;
	case KW_EV_DELETED:
		if (ev.resource_version)
			kw_refl_set_str(&r->rv, ev.resource_version);
		if (kw_refl_key(ev.object, k, sizeof(k)) == 0) {
			kw_refl_delete_key(r, k);
			json_object_del(r->keys, k);
		}
		kw_refl_count(r, r->o.metrics ? r->o.metrics->received : NULL, 1);
		break;
	case KW_EV_BOOKMARK:
		/* Only the RV moves; the store is not touched. */
		if (ev.resource_version)
			kw_refl_set_str(&r->rv, ev.resource_version);
		break;
	case KW_EV_ERROR:
		r->watch_expired = ev.code == 410;
		snprintf(r->watch_err, sizeof(r->watch_err), "watch error: %s (code %d)",
		         ev.message, ev.code);
		kw_event_fini(&ev);
		return -1; /* an ERROR event ends the watch */
	default:
		break;
	}
	kw_event_fini(&ev);
	return 0;
}

static int kw_refl_data(const char *p, size_t n, void *ud)
{
	kw_reflector_t *r = ud;
	return kw_split_feed(r->split, p, n) != CONTOUR_EOK;
}

static void kw_refl_watch(kw_reflector_t *r)
{
	char base[1024], path[4096], enc[2048], sel[512];
	int64_t timeout_ms = r->o.watch_timeout_ms;
	if (timeout_ms <= 0)
		timeout_ms = (300 + random() % 301) * 1000;
	long secs = (long)((timeout_ms + 999) / 1000);
	kw_path(r->o.kind, r->ns, NULL, NULL, base, sizeof(base));
	kw_refl_selector(r, sel, sizeof(sel));
	kw_refl_qenc(r->rv, enc, sizeof(enc));
	snprintf(path, sizeof(path),
	         "%s?allowWatchBookmarks=true&%sresourceVersion=%s&timeoutSeconds=%ld&watch=true",
	         base, sel, enc, secs);
	kw_split_reset(r->split);
	r->watch_events = 0;
	r->watch_expired = 0;
	r->watch_err[0] = '\0';
	r->watch_start_ms = contour_now_ms(r->o.mod);
	r->req = kw_http_stream(r->o.http, path, (long)(secs * 1000 + KW_IDLE_SLACK_MS),
	                        kw_refl_data, kw_refl_watch_done, r);
	if (!r->req)
		kw_refl_backoff(r, KW_NEXT_WATCH, "out of memory");
}

static void kw_refl_watch_done(const kw_resp_t *resp, void *ud)
{
	kw_reflector_t *r = ud;
	char msg[512];
	r->req = NULL;
	int64_t lasted = contour_now_ms(r->o.mod) - r->watch_start_ms;
	/* A relist asks for "not older than" the last RV seen. */
	kw_refl_set_str(&r->list_rv, r->rv);
	kw_refl_count(r, r->o.metrics ? r->o.metrics->restarts : NULL, 1);
	if (r->watch_err[0]) {
		/* A 410 ERROR event, another ERROR event, or a bad event. */
		if (r->watch_expired)
			contour_log(r->o.mod, CONTOUR_LOG_INFO, "%s: %s; relisting",
			            kw_refl_kindname(r), r->watch_err);
		kw_refl_backoff(r, KW_NEXT_LIST, r->watch_err);
		return;
	}
	if (resp->status == 200) {
		if (r->watch_events == 0 && lasted < KW_SHORT_WATCH_MS) {
			/* client-go's VeryShortWatchError: not a busy loop. */
			kw_refl_backoff(r, KW_NEXT_LIST,
			                "very short watch: ended at once with no "
			                "events");
			return;
		}
		/* Timeout, server restart, cut or idle connection: resume from
		 * the last RV at once; a stale RV gets a 410 and a relist. */
		if (resp->error)
			contour_log(r->o.mod, CONTOUR_LOG_DEBUG, "%s: watch ended: %s",
			            kw_refl_kindname(r), resp->error);
		r->ra_count = 0;
		kw_refl_watch(r);
		return;
	}
	if (kw_refl_retry_after(r, resp, KW_NEXT_WATCH))
		return;
	kw_status_message(resp, msg, sizeof(msg));
	/* 429 or no connection: retry the watch, the list is still good. */
	if (resp->status == 429 || resp->status == 0) {
		kw_refl_backoff(r, KW_NEXT_WATCH, msg);
		return;
	}
	kw_refl_backoff(r, KW_NEXT_LIST, msg);
}

/* ---- lifecycle ---- */

kw_reflector_t *kw_reflector_new(const kw_reflector_opts_t *o)
{
	kw_reflector_t *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->o = *o;
	r->o.ns = NULL;
	if (o->ns && *o->ns && !(r->ns = strdup(o->ns)))
		goto fail;
	r->rv = strdup("");
	r->list_rv = strdup("0");
	r->keys = json_object();
	r->split = kw_split_new(KW_EVENT_MAX, kw_refl_value, r);
	r->timer = contour_timer_new(o->mod, kw_refl_timer_cb, r);
	if (!r->rv || !r->list_rv || !r->keys || !r->split || !r->timer)
		goto fail;
	return r;
fail:
	kw_reflector_free(r);
	return NULL;
}

int kw_reflector_start(kw_reflector_t *r)
{
	if (r->started)
		return CONTOUR_EOK;
	r->started = 1;
	/* From the loop, so every reflector starts the same way. */
	kw_refl_after(r, KW_NEXT_LIST, 0);
	return CONTOUR_EOK;
}

void kw_reflector_stop(kw_reflector_t *r)
{
	if (!r)
		return;
	kw_req_cancel(r->req);
	r->req = NULL;
	contour_timer_disarm(r->timer);
	r->started = 0;
}

void kw_reflector_free(kw_reflector_t *r)
{
	if (!r)
		return;
	kw_reflector_stop(r);
	contour_timer_free(r->timer);
	kw_split_free(r->split);
	json_decref(r->keys);
	json_decref(r->seen);
	CONTOUR_FREE_ALL(r->ns, r->rv, r->list_rv, r->cont, r);
}

int kw_reflector_synced(const kw_reflector_t *r)
{
	return r->synced;
}

const char *kw_reflector_rv(const kw_reflector_t *r)
{
	return r->rv;
}
