/* modules/xds-grpc/xds_stream.c: state-of-the-world xDS on one gRPC stream,
 * per type (CDS, EDS, LDS, RDS, SDS, RTDS) or aggregated (ADS: one watch per
 * type_url), as go-control-plane's sotw server and snapshot cache do it:
 *
 *   - a request that answers our last response (its response_nonce) is an
 *     ACK, or a NACK when it carries error_detail: a NACK is logged with
 *     Envoy's message and counted, and the rejected version is not resent;
 *     a request with another nonce while a response is pending is stale and
 *     ignored;
 *   - Listener and Cluster are full state: every response carries every
 *     subscribed resource (all of them for a wildcard), sent when the
 *     type's version differs from the client's or the set of names does;
 *   - Route, Endpoint, Secret and Runtime carry only the subscribed names
 *     that exist and whose content this client does not hold yet (new
 *     subscriptions, changed content): unchanged resources are not resent;
 *   - otherwise the watch is parked, and xds_stream_publish() answers it
 *     when a new snapshot changes what it would send. Nothing is sent while
 *     a response awaits its ACK: the ACK itself picks up what changed.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "xds_srv.h"
#include "envoy/service/discovery/v3/discovery.pb-c.h"

typedef Envoy__Service__Discovery__V3__DiscoveryRequest xds_req_t;
typedef Envoy__Service__Discovery__V3__DiscoveryResponse xds_resp_t;

static int xds_full_state(int t)
{
	return t == XDS_LISTENER || t == XDS_CLUSTER;
}

static void xds_watch_free_names(xds_watch_t *w)
{
	for (size_t i = 0; i < w->nnames; i++)
		free(w->names[i]);
	CONTOUR_FREE_ALL(w->names, w->has, w->held);
}

static void xds_watch_fini(xds_watch_t *w)
{
	xds_watch_free_names(w);
	memset(w, 0, sizeof(*w));
}

xds_stream_t *xds_stream_new(xds_conn_t *c, int32_t id, int method)
{
	xds_stream_t *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->conn = c;
	st->id = id;
	st->method = method;
	st->kind = -1;
	st->in = evbuffer_new();
	st->out = evbuffer_new();
	if (!st->in || !st->out) {
		if (st->in)
			evbuffer_free(st->in);
		if (st->out)
			evbuffer_free(st->out);
		free(st);
		return NULL;
	}
	st->next = c->streams;
	if (c->streams)
		c->streams->prev = st;
	c->streams = st;
	c->nstreams++;
	c->srv->nstreams++;
	if (c->srv->m_streams)
		contour_metric_set(c->srv->m_streams, NULL, (double)c->srv->nstreams);
	return st;
}

void xds_stream_free(xds_stream_t *st)
{
	if (!st)
		return;
	xds_conn_t *c = st->conn;
	xds_server_t *srv = c->srv;
	if (st->counted == 1 && st->method >= 0) {
		/* The client went away (RST_STREAM or connection closed). */
		const xds_method_t *me = &xds_methods[st->method];
		const char *l[] = {"bidi_stream", me->service, me->name, "Canceled"};
		xds_srv_metric_add(srv->m_handled, l, 1);
	}
	if (c->h2)
		nghttp2_session_set_stream_user_data(c->h2, st->id, NULL);
	if (st->prev)
		st->prev->next = st->next;
	else
		c->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	c->nstreams--;
	srv->nstreams--;
	if (srv->m_streams)
		contour_metric_set(srv->m_streams, NULL, (double)srv->nstreams);
	for (int t = 0; t < XDS_NTYPES; t++)
		xds_watch_fini(&st->w[t]);
	evbuffer_free(st->in);
	evbuffer_free(st->out);
	CONTOUR_FREE_ALL(st->message, st->node_id, st->node_cluster, st->node_version, st);
}

static int xds_strptrcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort names[0..k) and free the repeats; returns how many are left. */
static size_t xds_names_sort_unique(char **names, size_t k)
{
	qsort(names, k, sizeof(*names), xds_strptrcmp);
	size_t u = 0;
	for (size_t i = 0; i < k; i++) {
		if (u > 0 && strcmp(names[u - 1], names[i]) == 0)
			free(names[i]);
		else
			names[u++] = names[i];
	}
	return u;
}

/* Replace the watch's names by `names` (sorted, unique, owned from now on),
 * keeping what the client holds of the names in both. */
static int xds_watch_set_names(xds_watch_t *w, char **names, size_t n)
{
	uint8_t *has = calloc(n ? n : 1, 1);
	uint64_t *held = calloc(n ? n : 1, sizeof(*held));
	if (!has || !held) {
		free(has);
		free(held);
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return CONTOUR_ENOMEM;
	}
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		int c = 1;
		while (j < w->nnames && (c = strcmp(w->names[j], names[i])) < 0)
			j++;
		if (j < w->nnames && c == 0) {
			has[i] = w->has[j];
			held[i] = w->held[j];
		}
	}
	xds_watch_free_names(w);
	w->names = names;
	w->nnames = n;
	w->has = has;
	w->held = held;
	return CONTOUR_EOK;
}

/* The request's names, sorted and unique; "*" sets *star. */
static int xds_watch_subscribe(xds_watch_t *w, char **req, size_t n, int *star)
{
	char **names = calloc(n ? n : 1, sizeof(*names));
	size_t k = 0;
	*star = 0;
	if (!names)
		return CONTOUR_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(req[i], "*") == 0) {
			*star = 1;
			continue;
		}
		if (!(names[k] = strdup(req[i])))
			goto fail;
		k++;
	}
	size_t u = xds_names_sort_unique(names, k);
	return xds_watch_set_names(w, names, u);
fail:
	for (size_t i = 0; i < k; i++)
		free(names[i]);
	free(names);
	return CONTOUR_ENOMEM;
}

/* After a response with rs[0..n): the client holds those. Both lists are
 * sorted by name. */
static void xds_watch_mark_held(xds_watch_t *w, const xds_resource_t **rs, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < w->nnames && k < n; i++) {
		if (strcmp(w->names[i], rs[k]->name) == 0) {
			w->has[i] = 1;
			w->held[i] = rs[k++]->hash;
		}
	}
}

/* For a wildcard on a partial type: the names are the snapshot's. */
static int xds_watch_sync_all(xds_watch_t *w, const xds_snapshot_t *snap, int t)
{
	size_t n = snap->nres[t];
	char **names = calloc(n ? n : 1, sizeof(*names));
	if (!names)
		return CONTOUR_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!(names[i] = strdup(snap->res[t][i].name))) {
			for (size_t k = 0; k < i; k++)
				free(names[k]);
			free(names);
			return CONTOUR_ENOMEM;
		}
	}
	return xds_watch_set_names(w, names, n);
}

static const char *xds_node(const xds_stream_t *st)
{
	return st->node_id ? st->node_id : "-";
}

static void xds_stream_queue_check(xds_stream_t *st);

static void xds_any_wrap(Google__Protobuf__Any *a, const char *url, const xds_resource_t *r)
{
	google__protobuf__any__init(a);
	a->type_url = (char *)url;
	a->value.data = r->bytes;
	a->value.len = r->len;
}

/* A response went out: wait for the client to ACK or NACK it. */
static void xds_watch_sent(xds_watch_t *w, const char *version, const char *nonce)
{
	snprintf(w->sent_version, sizeof(w->sent_version), "%s", version);
	snprintf(w->nonce, sizeof(w->nonce), "%s", nonce);
	w->awaiting = 1;
}

/* Pack a DiscoveryResponse into buf + off (NULL: only measure). */
static size_t xds_pack(const xds_server_t *srv, int t, const xds_resource_t **rs, size_t n,
                       const char *nonce, uint8_t **out, size_t off)
{
	const char *url = xds_type_url(t);
	Google__Protobuf__Any *anys = calloc(n ? n : 1, sizeof(*anys));
	Google__Protobuf__Any **pa = calloc(n ? n : 1, sizeof(*pa));
	size_t sz = 0;
	*out = NULL;
	if (!anys || !pa)
		goto done;
	for (size_t i = 0; i < n; i++) {
		xds_any_wrap(&anys[i], url, rs[i]);
		pa[i] = &anys[i];
	}
	xds_resp_t r = ENVOY__SERVICE__DISCOVERY__V3__DISCOVERY_RESPONSE__INIT;
	r.version_info = (char *)srv->snap->version[t];
	r.n_resources = n;
	r.resources = pa;
	r.type_url = (char *)url;
	if (nonce)
		r.nonce = (char *)nonce;
	sz = envoy__service__discovery__v3__discovery_response__get_packed_size(&r);
	if ((*out = malloc(off + sz + 1)) != NULL)
		envoy__service__discovery__v3__discovery_response__pack(&r, *out + off);
done:
	free(anys);
	free(pa);
	return sz;
}

/* The full-state wildcard body of type t in the current snapshot: every
 * resource, the version and the type, without a nonce; built once per
 * snapshot and shared by every stream. */
static xds_blob_t *xds_full_body(xds_server_t *srv, int t, const xds_resource_t **rs, size_t n)
{
	if (srv->full[t])
		return srv->full[t];
	uint8_t *buf;
	size_t off = offsetof(xds_blob_t, data);
	size_t sz = xds_pack(srv, t, rs, n, NULL, &buf, off);
	if (!buf)
		return NULL;
	xds_blob_t *b = (xds_blob_t *)(void *)buf;
	b->refs = 1; /* the server's */
	b->len = sz;
	srv->full[t] = b;
	return b;
}

/* Serialise and queue one DiscoveryResponse. */
static int xds_stream_send(xds_stream_t *st, int t, const xds_resource_t **rs, size_t n, int shared)
{
	xds_server_t *srv = st->conn->srv;
	xds_watch_t *w = &st->w[t];
	char nonce[24];
	size_t sz;
	int rc;
	snprintf(nonce, sizeof(nonce), "%llu", (unsigned long long)++st->nonce_seq);
	if (shared) {
		xds_blob_t *body = xds_full_body(srv, t, rs, n);
		uint8_t tail[2 + sizeof(nonce)];
		size_t nl = strlen(nonce);
		if (!body)
			return CONTOUR_ENOMEM;
		/* DiscoveryResponse.nonce = 5, length-delimited. */
		tail[0] = 5 << 3 | 2;
		tail[1] = (uint8_t)nl;
		memcpy(tail + 2, nonce, nl);
		sz = body->len + 2 + nl;
		rc = xds_h2_send_shared(st, body, tail, 2 + nl);
	} else {
		uint8_t *buf;
		sz = xds_pack(srv, t, rs, n, nonce, &buf, 5);
		if (!buf)
			return CONTOUR_ENOMEM;
		rc = xds_h2_send_msg(st, buf, sz);
	}
	if (rc != CONTOUR_EOK)
		return rc;
	xds_watch_sent(w, srv->snap->version[t], nonce);
	contour_log(srv->mod, CONTOUR_LOG_DEBUG,
	            "xDS response: type_url=%s version=%s nonce=%s resources=%zu bytes=%zu node=%s",
	            xds_type_url(t), w->sent_version, nonce, n, sz, xds_node(st));
	xds_stream_queue_check(st);
	return CONTOUR_EOK;
}

/* After queueing a response: drop a connection whose client does not read
 * once its unsent bytes pass the limit. */
static void xds_stream_queue_check(xds_stream_t *st)
{
	xds_server_t *srv = st->conn->srv;
	size_t queued = xds_conn_queued(st->conn);
	if (queued > srv->queue_limit) {
		/* A client that does not read must not hold the server's memory:
		 * drop it, Envoy reconnects and gets the current state. */
		contour_log(srv->mod, CONTOUR_LOG_WARN,
		            "xDS client %s (node %s) is not reading: %zu bytes queued, limit %zu; "
		            "closing the connection",
		            st->conn->peer, xds_node(st), queued, srv->queue_limit);
		srv->dropped++;
		xds_srv_metric_add(srv->m_dropped, NULL, 1);
		xds_conn_close(st->conn, 0);
	}
}

/* Answer watch t now if there is something to send; cv is the version the
 * client holds. */
static int xds_stream_try(xds_stream_t *st, int t, const char *cv)
{
	const xds_snapshot_t *snap = st->conn->srv->snap;
	xds_watch_t *w = &st->w[t];
	if (!snap || w->awaiting || st->ending || st->conn->dead)
		return CONTOUR_EOK;
	int full = xds_full_state(t);
	if (w->wildcard && !full && xds_watch_sync_all(w, snap, t) != CONTOUR_EOK)
		return CONTOUR_ENOMEM;
	size_t cap = w->wildcard ? snap->nres[t] : w->nnames;
	const xds_resource_t **rs = calloc(cap ? cap : 1, sizeof(*rs));
	size_t n = 0;
	int need = 0, rc = CONTOUR_EOK;
	if (!rs)
		return CONTOUR_ENOMEM;
	if (full && w->wildcard) {
		for (size_t i = 0; i < snap->nres[t]; i++)
			rs[n++] = &snap->res[t][i];
		need = strcmp(cv, snap->version[t]) != 0;
	} else if (full) {
		need = strcmp(cv, snap->version[t]) != 0;
		for (size_t i = 0; i < w->nnames; i++) {
			const xds_resource_t *r = xds_snapshot_find(snap, t, w->names[i]);
			if (r)
				rs[n++] = r;
			if (!!r != !!w->has[i] || (r && r->hash != w->held[i]))
				need = 1;
		}
	} else {
		for (size_t i = 0; i < w->nnames; i++) {
			const xds_resource_t *r = xds_snapshot_find(snap, t, w->names[i]);
			if (!r)
				w->has[i] = 0; /* gone: send it again if it comes back */
			else if (!w->has[i] || w->held[i] != r->hash)
				rs[n++] = r;
		}
		need = n > 0;
	}
	if (need) {
		rc = xds_stream_send(st, t, rs, n, full && w->wildcard);
		if (rc == CONTOUR_EOK && !(full && w->wildcard)) {
			xds_watch_mark_held(w, rs, n);
			if (full)
				for (size_t i = 0; i < w->nnames; i++)
					if (!xds_snapshot_find(snap, t, w->names[i]))
						w->has[i] = 0;
		}
	}
	free(rs);
	return rc;
}

static char *xds_dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

static void xds_stream_node(xds_stream_t *st, const Envoy__Config__Core__V3__Node *node)
{
	if (st->node_id || !node)
		return;
	st->node_id = xds_dup_or_null(node->id);
	st->node_cluster = xds_dup_or_null(node->cluster);
	if (node->user_agent_version_type_case ==
	        ENVOY__CONFIG__CORE__V3__NODE__USER_AGENT_VERSION_TYPE_USER_AGENT_BUILD_VERSION &&
	    node->user_agent_build_version && node->user_agent_build_version->version) {
		const Envoy__Type__V3__SemanticVersion *v = node->user_agent_build_version->version;
		char buf[48];
		snprintf(buf, sizeof(buf), "%u.%u.%u", v->major_number, v->minor_number, v->patch);
		st->node_version = strdup(buf);
	} else if (node->user_agent_version_type_case ==
	           ENVOY__CONFIG__CORE__V3__NODE__USER_AGENT_VERSION_TYPE_USER_AGENT_VERSION) {
		st->node_version = xds_dup_or_null(node->user_agent_version);
	}
}

/* The type a request is for: the service's, or the request's on ADS.
 * Returns -1 with *rc = 0 to ignore the request (unknown type on ADS), or
 * with *rc a gRPC status to end the stream with. */
static int xds_stream_type(xds_stream_t *st, const char *url, const char **msg, int *rc)
{
	int t = st->kind;
	*rc = 0;
	if (t >= 0) {
		if (url && *url && strcmp(url, xds_type_url(t)) != 0) {
			*msg = "type URL does not match the service";
			*rc = XDS_GRPC_INVALID_ARGUMENT;
			return -1;
		}
		return t;
	}
	if (!url || !*url) {
		*msg = "type URL is required for ADS";
		*rc = XDS_GRPC_INVALID_ARGUMENT;
		return -1;
	}
	t = xds_type_of_url(url);
	if (t < 0) {
		/* As go-control-plane: nothing is served for it, and the stream
		 * goes on with the types it knows. */
		contour_log(st->conn->srv->mod, CONTOUR_LOG_WARN,
		            "xDS request for unknown type_url %.200s from node %s", url,
		            xds_node(st));
	}
	return t;
}

/* What every decoded request starts with, SotW or delta: note the node
 * (the first request carries it), then the type it is for, as
 * xds_stream_type. */
static int xds_stream_begin(xds_stream_t *st, const Envoy__Config__Core__V3__Node *node,
                            const char *url, const char **msg, int *rc)
{
	xds_stream_node(st, node);
	return xds_stream_type(st, url, msg, rc);
}

static void xds_stream_nack(xds_stream_t *st, int t, const char *nonce,
                            const Google__Rpc__Status *err)
{
	xds_server_t *srv = st->conn->srv;
	const char *url = xds_type_url(t);
	contour_log(srv->mod, CONTOUR_LOG_ERR,
	            "xDS NACK: type_url=%s version=%s nonce=%s node=%s code=%d error=%.1000s", url,
	            st->w[t].sent_version, nonce, xds_node(st), err->code,
	            err->message ? err->message : "");
	const char *l[] = {url};
	xds_srv_metric_add(srv->m_nack, l, 1);
}

static int xds_delta_request(xds_stream_t *st, const uint8_t *buf, size_t len, const char **msg);

/* A request that does not decode ends the stream, as grpc-go's codec does. */
static int xds_stream_undecodable(xds_stream_t *st, const char **msg)
{
	contour_log(st->conn->srv->mod, CONTOUR_LOG_WARN,
	            "xDS client %s sent a request that does not decode; ending the stream",
	            st->conn->peer);
	*msg = "grpc: error unmarshalling request";
	return XDS_GRPC_INTERNAL;
}

int xds_stream_request(xds_stream_t *st, const uint8_t *buf, size_t len, const char **msg)
{
	if (st->delta)
		return xds_delta_request(st, buf, len, msg);
	xds_server_t *srv = st->conn->srv;
	xds_req_t *req = envoy__service__discovery__v3__discovery_request__unpack(NULL, len, buf);
	int rc = 0;
	if (!req)
		return xds_stream_undecodable(st, msg);
	int t = xds_stream_begin(st, req->node, req->type_url, msg, &rc);
	if (t < 0)
		goto out;
	const char *url = xds_type_url(t);
	xds_watch_t *w = &st->w[t];
	const char *nonce = req->response_nonce ? req->response_nonce : "";
	const char *version = req->version_info ? req->version_info : "";
	contour_log(srv->mod, CONTOUR_LOG_DEBUG,
	            "xDS request: type_url=%s version_info=%s response_nonce=%s resource_names=%zu "
	            "node=%s cluster=%s envoy=%s",
	            url, version, nonce, req->n_resource_names, xds_node(st),
	            st->node_cluster ? st->node_cluster : "-",
	            st->node_version ? st->node_version : "-");
	if (w->nonce[0] && strcmp(nonce, w->nonce) != 0) {
		/* Superseded by a response the client has not seen yet. */
		contour_log(srv->mod, CONTOUR_LOG_DEBUG,
		            "xDS stale request ignored: type_url=%s nonce=%s (current %s)", url,
		            nonce, w->nonce);
		goto out;
	}
	const char *cv = version;
	if (!w->nonce[0]) {
		/* Nothing sent on this stream yet: remember what the client
		 * holds, so a publish compares against it. */
		snprintf(w->sent_version, sizeof(w->sent_version), "%s", version);
	} else {
		/* It answers our last response: the client has seen sent_version,
		 * applied (ACK) or rejected (NACK); either way, do not resend it. */
		w->awaiting = 0;
		cv = w->sent_version;
		if (req->error_detail)
			xds_stream_nack(st, t, nonce, req->error_detail);
	}
	int star = 0;
	int first = !w->active;
	if (xds_watch_subscribe(w, req->resource_names, req->n_resource_names, &star) != 0) {
		*msg = "out of memory";
		rc = XDS_GRPC_INTERNAL;
		goto out;
	}
	/* Legacy wildcard: an empty first request for LDS or CDS; it lasts as
	 * long as the requests stay empty. */
	if (star)
		w->wildcard = 1;
	else if (req->n_resource_names == 0 && xds_full_state(t))
		w->wildcard = first ? 2 : w->wildcard == 2 ? 2 : 0;
	else
		w->wildcard = 0;
	w->active = 1;
	if (xds_stream_try(st, t, cv) != CONTOUR_EOK && !st->conn->dead) {
		*msg = "out of memory";
		rc = XDS_GRPC_INTERNAL;
	}
out:
	envoy__service__discovery__v3__discovery_request__free_unpacked(req, NULL);
	return rc;
}

static int xds_delta_try(xds_stream_t *st, int t);

void xds_stream_publish(xds_stream_t *st)
{
	for (int t = 0; t < XDS_NTYPES && !st->conn->dead; t++) {
		xds_watch_t *w = &st->w[t];
		if (!w->active || w->awaiting)
			continue;
		if (st->delta)
			xds_delta_try(st, t);
		else
			xds_stream_try(st, t, w->sent_version);
	}
}

/* ---- incremental (delta) xDS ----
 *
 * As go-control-plane's delta server: the client names what it subscribes
 * to and unsubscribes from (or "*"; an empty first request for LDS/CDS is
 * the legacy wildcard), and on a reconnect what it already holds
 * (initial_resource_versions). Each response carries the subscribed
 * resources that changed, with a per-resource version (the content hash),
 * and in removed_resources those the client holds that are gone. As for
 * SotW, nothing more is sent before the last response is ACKed or NACKed.
 */
typedef Envoy__Service__Discovery__V3__DeltaDiscoveryRequest xds_dreq_t;
typedef Envoy__Service__Discovery__V3__DeltaDiscoveryResponse xds_dresp_t;

static int xds_strcmp_bs(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

/* names := (names + add) - del, "*" left out. */
static int xds_watch_merge(xds_watch_t *w, char **add, size_t nadd, char **del, size_t ndel)
{
	char **dsort = calloc(ndel ? ndel : 1, sizeof(*dsort));
	char **names = calloc(w->nnames + nadd + 1, sizeof(*names));
	size_t k = 0;
	int rc = CONTOUR_ENOMEM;
	if (!dsort || !names)
		goto out;
	if (ndel)
		memcpy(dsort, del, ndel * sizeof(*del));
	qsort(dsort, ndel, sizeof(*dsort), xds_strptrcmp);
	for (size_t i = 0; i < w->nnames + nadd; i++) {
		const char *n = i < w->nnames ? w->names[i] : add[i - w->nnames];
		if (strcmp(n, "*") == 0 ||
		    bsearch(n, dsort, ndel, sizeof(*dsort), xds_strcmp_bs) != NULL)
			continue;
		if (!(names[k] = strdup(n)))
			goto out;
		k++;
	}
	size_t u = xds_names_sort_unique(names, k);
	rc = xds_watch_set_names(w, names, u);
	names = NULL; /* owned by the watch, or freed */
	k = 0;
out:
	if (names)
		for (size_t i = 0; i < k; i++)
			free(names[i]);
	free(names);
	free(dsort);
	return rc;
}

static int xds_delta_send(xds_stream_t *st, int t, const xds_resource_t **rs, size_t n,
                          char **removed, size_t nrem)
{
	xds_server_t *srv = st->conn->srv;
	xds_watch_t *w = &st->w[t];
	const char *url = xds_type_url(t);
	Google__Protobuf__Any *anys = calloc(n ? n : 1, sizeof(*anys));
	Envoy__Service__Discovery__V3__Resource *res = calloc(n ? n : 1, sizeof(*res));
	Envoy__Service__Discovery__V3__Resource **pr = calloc(n ? n : 1, sizeof(*pr));
	char(*vers)[17] = calloc(n ? n : 1, sizeof(*vers));
	int rc = CONTOUR_ENOMEM;
	if (!anys || !res || !pr || !vers)
		goto out;
	for (size_t i = 0; i < n; i++) {
		xds_any_wrap(&anys[i], url, rs[i]);
		envoy__service__discovery__v3__resource__init(&res[i]);
		snprintf(vers[i], sizeof(vers[i]), "%016llx", (unsigned long long)rs[i]->hash);
		res[i].name = rs[i]->name;
		res[i].version = vers[i];
		res[i].resource = &anys[i];
		pr[i] = &res[i];
	}
	char nonce[24];
	snprintf(nonce, sizeof(nonce), "%llu", (unsigned long long)++st->nonce_seq);
	xds_dresp_t r = ENVOY__SERVICE__DISCOVERY__V3__DELTA_DISCOVERY_RESPONSE__INIT;
	r.system_version_info = srv->snap->version[t];
	r.n_resources = n;
	r.resources = pr;
	r.type_url = (char *)url;
	r.n_removed_resources = nrem;
	r.removed_resources = removed;
	r.nonce = nonce;
	size_t sz = envoy__service__discovery__v3__delta_discovery_response__get_packed_size(&r);
	uint8_t *buf = malloc(sz + 5);
	if (!buf)
		goto out;
	envoy__service__discovery__v3__delta_discovery_response__pack(&r, buf + 5);
	rc = xds_h2_send_msg(st, buf, sz);
	if (rc != CONTOUR_EOK)
		goto out;
	xds_watch_sent(w, srv->snap->version[t], nonce);
	contour_log(srv->mod, CONTOUR_LOG_DEBUG,
	            "xDS delta response: type_url=%s version=%s nonce=%s resources=%zu removed=%zu "
	            "bytes=%zu node=%s",
	            url, w->sent_version, nonce, n, nrem, sz, xds_node(st));
	xds_stream_queue_check(st);
out:
	CONTOUR_FREE_ALL(anys, res, pr, vers);
	return rc;
}

static int xds_delta_try(xds_stream_t *st, int t)
{
	const xds_snapshot_t *snap = st->conn->srv->snap;
	xds_watch_t *w = &st->w[t];
	if (!snap || w->awaiting || st->ending || st->conn->dead)
		return CONTOUR_EOK;
	char **removed = calloc(w->nnames + 1, sizeof(*removed));
	const xds_resource_t **rs = NULL;
	size_t nrem = 0, n = 0;
	int rc = CONTOUR_ENOMEM;
	if (!removed)
		return rc;
	if (w->wildcard) {
		/* Gone since the client got them: the sync below forgets them. */
		for (size_t i = 0; i < w->nnames; i++)
			if (w->has[i] && !xds_snapshot_find(snap, t, w->names[i]) &&
			    !(removed[nrem++] = strdup(w->names[i])))
				goto out;
		if (xds_watch_sync_all(w, snap, t) != CONTOUR_EOK)
			goto out;
	}
	if (!(rs = calloc(w->nnames + 1, sizeof(*rs))))
		goto out;
	for (size_t i = 0; i < w->nnames; i++) {
		const xds_resource_t *r = xds_snapshot_find(snap, t, w->names[i]);
		if (!r) {
			if (w->has[i] && !(removed[nrem++] = strdup(w->names[i])))
				goto out;
			w->has[i] = 0;
		} else if (!w->has[i] || w->held[i] != r->hash) {
			rs[n++] = r;
		}
	}
	rc = CONTOUR_EOK;
	if (n == 0 && nrem == 0)
		goto out;
	rc = xds_delta_send(st, t, rs, n, removed, nrem);
	if (rc == CONTOUR_EOK) {
		xds_watch_mark_held(w, rs, n);
	}
out:
	for (size_t i = 0; i < nrem; i++)
		free(removed[i]);
	free(removed);
	free(rs);
	return rc;
}

static int xds_delta_request(xds_stream_t *st, const uint8_t *buf, size_t len, const char **msg)
{
	xds_server_t *srv = st->conn->srv;
	xds_dreq_t *req =
	    envoy__service__discovery__v3__delta_discovery_request__unpack(NULL, len, buf);
	int rc = 0;
	if (!req)
		return xds_stream_undecodable(st, msg);
	int t = xds_stream_begin(st, req->node, req->type_url, msg, &rc);
	if (t < 0)
		goto out;
	xds_watch_t *w = &st->w[t];
	const char *nonce = req->response_nonce ? req->response_nonce : "";
	contour_log(
	    srv->mod, CONTOUR_LOG_DEBUG,
	    "xDS delta request: type_url=%s response_nonce=%s subscribe=%zu unsubscribe=%zu "
	    "initial=%zu node=%s",
	    xds_type_url(t), nonce, req->n_resource_names_subscribe,
	    req->n_resource_names_unsubscribe, req->n_initial_resource_versions, xds_node(st));
	if (*nonce) {
		if (strcmp(nonce, w->nonce) != 0) {
			contour_log(srv->mod, CONTOUR_LOG_DEBUG,
			            "xDS stale delta request ignored: nonce=%s (current %s)", nonce,
			            w->nonce);
			goto out;
		}
		w->awaiting = 0;
		if (req->error_detail)
			xds_stream_nack(st, t, nonce, req->error_detail);
	}
	int first = !w->active;
	for (size_t i = 0; i < req->n_resource_names_subscribe; i++)
		if (strcmp(req->resource_names_subscribe[i], "*") == 0)
			w->wildcard = 1;
	for (size_t i = 0; i < req->n_resource_names_unsubscribe; i++)
		if (strcmp(req->resource_names_unsubscribe[i], "*") == 0)
			w->wildcard = 0;
	if (first && req->n_resource_names_subscribe == 0 && xds_full_state(t))
		w->wildcard = 2;
	if (xds_watch_merge(w, req->resource_names_subscribe, req->n_resource_names_subscribe,
	                    req->resource_names_unsubscribe,
	                    req->n_resource_names_unsubscribe) != CONTOUR_EOK)
		goto nomem;
	if (first && req->n_initial_resource_versions > 0) {
		/* What the client kept from an earlier stream: versions are our
		 * content hashes, so unchanged resources are not sent again. */
		size_t n = req->n_initial_resource_versions;
		char **names = calloc(n, sizeof(*names));
		if (!names)
			goto nomem;
		for (size_t i = 0; i < n; i++)
			names[i] = req->initial_resource_versions[i]->key;
		rc = xds_watch_merge(w, names, n, NULL, 0);
		free(names);
		if (rc != CONTOUR_EOK)
			goto nomem;
		for (size_t i = 0; i < n; i++) {
			const char *key = req->initial_resource_versions[i]->key;
			const char *ver = req->initial_resource_versions[i]->value;
			char **hit =
			    bsearch(key, w->names, w->nnames, sizeof(*w->names), xds_strcmp_bs);
			char *end = NULL;
			if (!hit)
				continue;
			size_t k = (size_t)(hit - w->names);
			w->has[k] = 1;
			w->held[k] = ver ? strtoull(ver, &end, 16) : 0;
			if (!ver || !*ver || *end)
				w->held[k] = ~w->held[k]; /* not ours: differs */
		}
	}
	w->active = 1;
	if (xds_delta_try(st, t) != CONTOUR_EOK && !st->conn->dead)
		goto nomem;
	goto out;
nomem:
	*msg = "out of memory";
	rc = XDS_GRPC_INTERNAL;
out:
	envoy__service__discovery__v3__delta_discovery_request__free_unpacked(req, NULL);
	return rc;
}
