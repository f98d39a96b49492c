/* modules/k8s-watch/kw.h: what the k8s-watch files share.
 *
 * The module talks to the Kubernetes API with libcurl's multi interface
 * driven by the core's libevent loop: no call on the loop ever blocks
 * (the one exception is releasing the Lease from the module's stop hook,
 * bounded by a short timeout, as the loop is already ending).
 *
 *   kw_conn.c         kubeconfig / in-cluster connection settings
 *   kw_http.c         the HTTP client (requests and watch streams), Status bodies
 *   kw_reflector.c    list + watch of one resource kind into the store
 *   kw_lease.c        leader election with a coordination.k8s.io/v1 Lease
 *   kw_status.c       status write-back (HTTPProxy, Ingress), leader only
 *   kw_status_queue.c the status writes: queue, rate limit, PUT and retries
 *   k8s-watch.c       the module entry point: schema, flags, wiring
 *   kw_certgen*.c     `contour certgen` (its own header, kw_certgen.h)
 *
 * Ownership: every `_new` has a `_free` that accepts NULL; strings in the
 * structs below are owned by the struct unless marked borrowed.
 */
#ifndef KW_H
#define KW_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <contour/module.h>

/* ---- connection settings (kw_conn.c) ---- */

typedef struct kw_conn {
	char *server; /* "https://host:port", no trailing slash */
	char *ca_pem; /* CA bundle (PEM text), or NULL: system roots */
	int insecure_skip_verify;
	char *tls_server_name; /* or NULL */
	char *token;           /* bearer token, or NULL */
	char *token_file;      /* re-read every minute when set */
	char *cert_pem;        /* client certificate (PEM text), or NULL */
	char *key_pem;         /* its private key: never logged */
	char *namespace_;      /* context / service-account namespace, or NULL */
} kw_conn_t;

/* kw_conn_from_kubeconfig: read a kubeconfig (current-context; *-data and
 * file paths, relative to the kubeconfig's folder). On error returns
 * CONTOUR_ECONFIG with a message naming the file and the field in err. */
int kw_conn_from_kubeconfig(kw_conn_t *c, const char *path, char *err, size_t errlen);

/* kw_conn_in_cluster: KUBERNETES_SERVICE_HOST/PORT, the service-account
 * token file, CA and namespace under `dir` (NULL: the standard
 * /var/run/secrets/kubernetes.io/serviceaccount). */
int kw_conn_in_cluster(kw_conn_t *c, const char *dir, char *err, size_t errlen);

void kw_conn_fini(kw_conn_t *c);

/* kw_conn_base64: decode standard base64 (a kubeconfig's *-data fields;
 * whitespace ignored, padding optional) into a new NUL-terminated string;
 * NULL when corrupt or when it decodes to bytes with a NUL. */
char *kw_conn_base64(const char *in);

/* ---- the HTTP client (kw_http.c) ---- */

typedef struct kw_http kw_http_t;
typedef struct kw_req kw_req_t;

/* A finished request. body is NUL-terminated (len excludes the NUL),
 * borrowed for the callback. status is 0 on a transport error, with
 * `error` saying what happened; retry_after is the Retry-After header in
 * seconds, or -1. */
typedef struct kw_resp {
	long status;
	const char *body;
	size_t len;
	int retry_after;
	const char *error;
	const char *content_type; /* or NULL */
} kw_resp_t;

typedef void (*kw_done_fn)(const kw_resp_t *resp, void *ud);

/* Streamed response bytes (watches): called with each piece as it
 * arrives, chunk boundaries meaningless. Return non-zero to abort the
 * stream (done then reports error "aborted"). */
typedef int (*kw_data_fn)(const char *p, size_t n, void *ud);

/* kw_http_new: a client for conn (copied). user_agent e.g.
 * "contour/1.0 (linux/amd64)". NULL on failure, with a message in err. */
kw_http_t *kw_http_new(contour_module_t *mod, const kw_conn_t *conn, const char *user_agent,
                       char *err, size_t errlen);
void kw_http_free(kw_http_t *h); /* cancels every request without callbacks */

/* kw_http_set_limits: the largest response body kept in memory (0: keep
 * the default, 64 MiB; a larger body ends the request with an error), and
 * how long a token read from conn->token_file is used before the file is
 * read again (-1: keep the default, 60 s; 0: on every request). For tests. */
void kw_http_set_limits(kw_http_t *h, size_t max_body, int64_t token_period_ms);

/* kw_http_set_health: report into check (borrowed until kw_http_free):
 * passing on any answer and on watch bytes; failing with `GET "URL":
 * cause` on a transport error (refused, reset, TLS, timeout) and on 401,
 * 403 and 5xx; and a GET /version (3 s timeout) whenever the server has
 * sent nothing for 2 s, so a dead or hung server is noticed even when only
 * quiet watches are open. A probe's success does not clear a 401/403/5xx
 * from a resource request. CONTOUR_EOK or CONTOUR_ENOMEM. */
int kw_http_set_health(kw_http_t *h, contour_health_check_t *check);

/* kw_http_request: method ("GET", "PUT", "POST"), path with query (e.g.
 * "/api/v1/secrets?limit=500"), optional JSON body (copied). timeout_ms 0:
 * none. ua_suffix (e.g. "/leader-election") appended to the User-Agent or
 * NULL. done is called exactly once, from the loop, never from inside this
 * call, unless the request is cancelled. NULL on allocation failure. */
kw_req_t *kw_http_request(kw_http_t *h, const char *method, const char *path, const char *body,
                          long timeout_ms, const char *ua_suffix, kw_done_fn done, void *ud);

/* kw_http_stream: a GET whose body is delivered to data as it arrives (a
 * watch). idle_ms > 0 aborts the stream when no byte arrives for that long.
 * done is called once at the end (clean end: status 200 and error NULL). */
kw_req_t *kw_http_stream(kw_http_t *h, const char *path, long idle_ms, kw_data_fn data,
                         kw_done_fn done, void *ud);

/* kw_req_cancel: stop a request; its done is not called. NULL is fine, and
 * so is a request whose done is running (nothing happens: it is freed when
 * done returns). A request must not be used after its done returned. */
void kw_req_cancel(kw_req_t *r);

/* kw_http_request_sync: a blocking request with a timeout, only for the
 * stop hook (releasing the Lease). Returns the HTTP status or 0. */
long kw_http_request_sync(kw_http_t *h, const char *method, const char *path, const char *body,
                          long timeout_ms, const char *ua_suffix);

/* kw_http_request_sync_resp: as kw_http_request_sync, for one-shot
 * commands that run no loop (`contour certgen`): done (may be NULL) is
 * called before it returns, with the whole response as for
 * kw_http_request. Returns the HTTP status, or 0 on a transport error. */
long kw_http_request_sync_resp(kw_http_t *h, const char *method, const char *path,
                               const char *body, long timeout_ms, const char *ua_suffix,
                               kw_done_fn done, void *ud);

/* ---- resources (kw_reflector.c) ---- */

/* A watched resource kind: its API group/version, plural, kind, and
 * whether it is namespaced. The static table is in kw_reflector.c. */
typedef struct kw_kind {
	const char *api_version; /* "v1", "projectcontour.io/v1", ... */
	const char *kind;        /* "Service" */
	const char *plural;      /* "services" */
	/* fieldSelector on every list and watch of the kind, or NULL */
	const char *field_selector;
} kw_kind_t;

/* kw_collection_path: the collection path of kind, cluster-wide when ns is
 * NULL, into out; e.g. "/apis/projectcontour.io/v1/namespaces/ns/httpproxies".
 * With name (may be NULL) and sub (may be NULL) the object / subresource. */
void kw_path(const kw_kind_t *kind, const char *ns, const char *name, const char *sub, char *out,
             size_t cap);

/* kw_status_message: the `message` of a Kubernetes Status body, or a text
 * made from the HTTP code when the body is not a Status (APF's plain-text
 * 429). Into out. */
void kw_status_message(const kw_resp_t *resp, char *out, size_t cap);

/* ---- the watch stream and objects (kw_watchparse.c) ---- */

#define KW_SPLIT_ESYNTAX CONTOUR_EPARSE /* not a sequence of JSON objects */
#define KW_SPLIT_ETOOBIG CONTOUR_EINVAL /* one value larger than the limit */

/* The splitter: feed it a watch body in pieces of any size; it calls fn
 * with each complete top-level JSON object (text borrowed for the call).
 * A non-zero return from fn stops it and is returned by kw_split_feed,
 * which also fails (and keeps failing until reset) on bytes that cannot
 * start an object or a value over max_value bytes. */
typedef struct kw_split kw_split_t;
typedef int (*kw_value_fn)(const char *p, size_t n, void *ud);
kw_split_t *kw_split_new(size_t max_value, kw_value_fn fn, void *ud);
int kw_split_feed(kw_split_t *s, const char *p, size_t n);
/* Bytes of an unfinished value held (0 between values). */
size_t kw_split_pending(const kw_split_t *s);
void kw_split_reset(kw_split_t *s);
void kw_split_free(kw_split_t *s);

typedef enum {
	KW_EV_NONE = 0,
	KW_EV_ADDED,
	KW_EV_MODIFIED,
	KW_EV_DELETED,
	KW_EV_BOOKMARK,
	KW_EV_ERROR,
} kw_event_type_t;

/* One watch event. object is owned (kw_event_fini); resource_version is
 * borrowed from it (NULL if absent). For ERROR, code and message come from
 * the Status. */
typedef struct kw_event {
	kw_event_type_t type;
	json_t *object;
	const char *resource_version;
	int code;
	char message[256];
} kw_event_t;

/* kw_event_parse: one event's JSON text. CONTOUR_EPARSE, with a reason in
 * err, for bad JSON, an unknown type or a missing object. */
int kw_event_parse(const char *p, size_t n, kw_event_t *ev, char *err, size_t errlen);
void kw_event_fini(kw_event_t *ev);

/* kw_object_prepare: what every listed or watched object goes through
 * before the store: kind/apiVersion set when missing (built-in list items
 * lack them), Secrets filtered. Returns 1 when a Secret's payload was
 * dropped, else 0. */
int kw_object_prepare(const kw_kind_t *kind, json_t *obj);

/* kw_secret_filter: keep `data` only for kubernetes.io/tls Secrets and for
 * Secrets with ca.crt or crl.pem; always drop stringData. Returns 1 when
 * data was dropped. */
int kw_secret_filter(json_t *secret);

/* ---- reflectors (kw_reflector.c) ---- */

/* The kinds the module watches, in start order. */
const kw_kind_t *kw_kinds(size_t *n);

typedef struct kw_metrics {
	contour_metric_t *received; /* counter {kind}: objects and events taken in */
	contour_metric_t *restarts; /* counter {kind}: watches started again */
	contour_metric_t *relists;  /* counter {kind}: lists after the first */
	contour_metric_t *errors;   /* counter {kind}: failed requests and streams */
} kw_metrics_t;

typedef struct kw_reflector kw_reflector_t;

typedef struct kw_reflector_opts {
	contour_module_t *mod;
	kw_http_t *http;             /* borrowed */
	contour_source_t *src;       /* where objects go */
	const kw_kind_t *kind;       /* borrowed, static */
	const char *ns;              /* NULL: cluster-wide (copied) */
	int64_t watch_timeout_ms;    /* 0: random in [300 s, 600 s], as client-go */
	size_t page_limit;           /* 0: 500 */
	const kw_metrics_t *metrics; /* or NULL */
	/* Called once, after the first complete list is in the store. */
	void (*synced)(kw_reflector_t *r, void *ud);
	void *ud;
} kw_reflector_opts_t;

/* kw_reflector_new: client-go's reflector for one kind (and namespace):
 * list in pages, then watch from the list's resourceVersion, resuming
 * after a clean end, relisting (and replacing what it put) after a 410,
 * backing off on errors. Nothing happens before kw_reflector_start. */
kw_reflector_t *kw_reflector_new(const kw_reflector_opts_t *o);
int kw_reflector_start(kw_reflector_t *r);
/* Stop every request and timer (idempotent); the objects stay in the store. */
void kw_reflector_stop(kw_reflector_t *r);
void kw_reflector_free(kw_reflector_t *r);
int kw_reflector_synced(const kw_reflector_t *r);
/* The last resourceVersion seen (list, event or bookmark), or "". */
const char *kw_reflector_rv(const kw_reflector_t *r);

/* ---- leader election (kw_lease.c) ----
 *
 * client-go's LeaderElector over a coordination.k8s.io/v1 Lease. The
 * decisions are pure functions over kw_elect_t (what this candidate last
 * observed and when, on its own monotonic clock), so every rule is testable
 * without HTTP; kw_lease_t drives them on the loop. Unlike upstream,
 * losing the lease steps down (no status writes) and goes back to
 * acquiring; the process never exits for it. */

#define KW_LEASE_DEFAULT_NAME      "leader-elect"
#define KW_LEASE_DEFAULT_NAMESPACE "projectcontour"

/* client-go's NewLeaderElector rules and messages: lease > renew deadline,
 * renew deadline > 1.2 x retry period, each > 0. CONTOUR_EOK or
 * CONTOUR_ECONFIG with the message in err. */
int kw_lease_validate(int64_t lease_ms, int64_t renew_deadline_ms, int64_t retry_ms, char *err,
                      size_t errlen);

/* kw_lease_identity: hostname + "_" + a random (v4) UUID; free() it. */
char *kw_lease_identity(void);

/* kw_lease_micro_time: the wall clock as a Kubernetes MicroTime
 * ("2006-01-02T15:04:05.000000Z"), into out (at least 32 bytes). */
void kw_lease_micro_time(char *out, size_t cap);

/* What one candidate knows: client-go's observedRecord/observedRawRecord/
 * observedTime and the lock's cached Lease object. */
typedef struct kw_elect {
	char *identity;
	int lease_s;         /* our leaseDurationSeconds */
	json_t *observed;    /* the observed record (a Lease spec), or NULL */
	char *observed_raw;  /* that record as last fetched, for the byte compare */
	int64_t observed_ms; /* local monotonic time the record was last observed */
	json_t *lease;       /* the Lease as the server last returned it, or NULL */
} kw_elect_t;

void kw_elect_init(kw_elect_t *e, const char *identity, int lease_s);
void kw_elect_fini(kw_elect_t *e);
/* The observed holder is this candidate (client-go's IsLeader). */
int kw_elect_is_leader(const kw_elect_t *e);
/* observed_ms + observed leaseDurationSeconds > now_ms (isLeaseValid). */
int kw_elect_lease_valid(const kw_elect_t *e, int64_t now_ms);
/* Step 1, the fast path: when leader and the lease is valid, the cached Lease
 * with a renewed spec (acquireTime and leaseTransitions kept) to PUT; else
 * NULL. The caller owns the result. */
json_t *kw_elect_fast_path(const kw_elect_t *e, int64_t now_ms, const char *now_micro);
/* Step 2 on 404: the Lease to POST (transitions 0). */
json_t *kw_elect_create_body(const kw_elect_t *e, const char *ns, const char *name,
                             const char *now_micro);
/* Steps 3-4: take the fetched Lease (a changed record is observed at
 * now_ms); the Lease to PUT, or NULL when another holder's record is still
 * fresh by local time. */
json_t *kw_elect_observe(kw_elect_t *e, const json_t *fetched, int64_t now_ms,
                         const char *now_micro);
/* A write of `sent` succeeded with the server's answer `resp` (may be NULL):
 * the sent record becomes the observed one at now_ms, resp the cached Lease. */
void kw_elect_written(kw_elect_t *e, const json_t *sent, const json_t *resp, int64_t now_ms);
/* Release: the Lease to PUT (holderIdentity "", leaseDurationSeconds 1,
 * acquireTime = renewTime = now, transitions kept), or NULL when this
 * candidate is not the holder of `current` (or not leader at all). */
json_t *kw_elect_release_body(const kw_elect_t *e, const json_t *current, const char *now_micro);

typedef struct kw_lease kw_lease_t;
typedef void (*kw_lease_change_fn)(int leader, void *ud);

/* kw_lease_new: in init. Reads the module's leader-election keys
 * (disable-leader-election, leader-election-*, $CONTOUR_NAMESPACE),
 * registers the contour_leader gauge. NULL with a message in err. */
kw_lease_t *kw_lease_new(contour_module_t *mod, kw_lease_change_fn fn, void *ud, char *err,
                         size_t errlen);
/* kw_lease_start: begin acquiring over http (borrowed until stop). With
 * leader election disabled, this replica becomes leader at once. */
int kw_lease_start(kw_lease_t *l, kw_http_t *http);
/* kw_lease_stop: cancel timers and requests; a leader releases the Lease
 * (blocking, bounded). Harmless twice. */
void kw_lease_stop(kw_lease_t *l);
void kw_lease_free(kw_lease_t *l);
int kw_lease_is_leader(const kw_lease_t *l);

/* ---- status write-back (kw_status.c, kw_status_queue.c) ----
 *
 * What status to write and when two statuses are equal is the domain
 * layer's (contour/status.h), and so are the address from
 * ingress-status-address (contour_status_lb_new) and which objects are
 * ours (contour_ingress_class_matches, contour/dag.h). */

/* The write queue (kw_status_queue.c): one job per object, the newest
 * inputs only, at most 10000 objects waiting, 4 writes in flight and 50
 * started per second. A job composes the status against the stored
 * object, PUTs it to /status, and on 409 re-reads the object and retries
 * (upstream's retry.DefaultBackoff). It owns upstream's
 * contour_status_update_* metrics. */
typedef struct kw_status_queue kw_status_queue_t;

/* kw_status_queue_new: in init. Registers the metrics. NULL with a
 * message in err. */
kw_status_queue_t *kw_status_queue_new(contour_module_t *mod, char *err, size_t errlen);
/* Drops everything queued and in flight (requests cancelled), and the
 * records of past writes. */
void kw_status_queue_clear(kw_status_queue_t *q);
void kw_status_queue_free(kw_status_queue_t *q);
/* kw_status_queue_set_http: jobs write over http (borrowed until set
 * again); NULL: no job starts. */
void kw_status_queue_set_http(kw_status_queue_t *q, kw_http_t *http);
/* kw_status_queue_add: queue the write of the object key ("Kind/ns/name"),
 * or refresh the inputs of the job already queued for it. computed (the
 * build's HTTPProxy status; NULL for an Ingress) and lb (core v1 form, or
 * NULL) are referenced, not copied. When the queue is full the object is
 * turned away and a build is requested once the queue drains. */
void kw_status_queue_add(kw_status_queue_t *q, const char *key, int ingress, const char *ns,
                         const char *name, const json_t *computed, const json_t *lb);
/* kw_status_queue_run: start what the slots and the rate allow. */
void kw_status_queue_run(kw_status_queue_t *q);
/* kw_status_queue_already_written: the store's obj predates our last write
 * of key, which already said desired: writing again would only earn a
 * 409. */
int kw_status_queue_already_written(kw_status_queue_t *q, const char *key, const json_t *obj,
                                    const json_t *desired);
/* A sweep over the stored objects, once per snapshot: the records of past
 * writes that _sweep_keep finds still ahead of the stored object survive
 * _sweep_end, the rest are dropped. _sweep_begin returns -1 when out of
 * memory (then nothing is dropped). */
int kw_status_queue_sweep_begin(kw_status_queue_t *q);
void kw_status_queue_sweep_keep(kw_status_queue_t *q, const char *key, const json_t *obj);
void kw_status_queue_sweep_end(kw_status_queue_t *q);
/* kw_status_queue_count_noop: an update found to be a no-op, started at
 * start_ns (kw_status_queue_now_ns): a successful update in the metrics. */
void kw_status_queue_count_noop(kw_status_queue_t *q, int ingress, int64_t start_ns);
/* kw_status_queue_now_ns: the monotonic clock the duration metric uses. */
int64_t kw_status_queue_now_ns(void);

typedef struct kw_status kw_status_t;

/* kw_status_new: in init. Registers the snapshot observer and upstream's
 * contour_status_update_* metrics; reads ingress-status-address,
 * envoy-service-name/-namespace and ingress-class-name. */
kw_status_t *kw_status_new(contour_module_t *mod, char *err, size_t errlen);
/* Start writing over http (borrowed until stop); nothing is written until
 * kw_status_set_leader(s, 1). */
void kw_status_start(kw_status_t *s, kw_http_t *http);
/* Leadership changed: on loss the queue is dropped and requests cancelled. */
void kw_status_set_leader(kw_status_t *s, int leader);
void kw_status_stop(kw_status_t *s);
void kw_status_free(kw_status_t *s);

/* ---- Secret payloads cut from the raw text (kw_secretscan.c) ---- */

typedef enum {
	KW_SECRETSCAN_LIST,   /* a list page: every object of the root's "items" */
	KW_SECRETSCAN_EVENT,  /* a watch event: the root's "object" */
	KW_SECRETSCAN_OBJECT, /* the root itself */
} kw_secretscan_what_t;

/* kw_secretscan: the Secrets' JSON text p (n bytes) without the `data` and
 * `stringData` members kw_secret_filter would delete, found without
 * building their values. flags are those the text will be parsed with
 * (json_loadb; 0 or JSON_REJECT_DUPLICATES, else nothing is done).
 * Parsing the result then kw_secret_filter gives what parsing p then
 * kw_secret_filter gives, errors included. Returns 1 with a new
 * NUL-terminated text in *out (free() it) and its length in *outlen; 0
 * when p is to be used as it is (nothing to cut, or text jansson refuses);
 * CONTOUR_ENOMEM. */
int kw_secretscan(const char *p, size_t n, kw_secretscan_what_t what, size_t flags, char **out,
                  size_t *outlen);

/* kw_globals.c: the global keys k8s-watch reads (the descriptor's
 * global_schema). */
extern const contour_conf_item_t kw_global_schema[];

#endif
