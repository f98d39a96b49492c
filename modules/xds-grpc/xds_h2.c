/* modules/xds-grpc/xds_h2.c: HTTP/2 (nghttp2) and gRPC framing for the xDS
 * server: one nghttp2 session per connection, fed from and writing to the
 * connection's bufferevent.
 *
 * Responses: HEADERS go out with the first message (so an error before any
 * message is a Trailers-Only reply), DATA comes from a per-stream evbuffer
 * through a data provider that defers while the buffer is empty, and the
 * stream ends with trailers carrying grpc-status. DATA is handed to the
 * socket without copying (NGHTTP2_DATA_FLAG_NO_COPY), and nghttp2 stops
 * producing frames while the socket's output is above a watermark, so a
 * client that does not read keeps its bytes in its own stream buffers,
 * where the server can count and bound them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "xds_srv.h"

/* Above this much unsent output on the socket, nghttp2 waits. */
#define XDS_OUT_HIGH (256u << 10)

#define XDS_GRPC_TYPE "bidi_stream"

#define XDS_SVC(pkg, svc) "envoy.service." pkg ".v3." svc
#define XDS_METHOD(pkg, svc, m, kind, delta)                                                       \
	{"/" XDS_SVC(pkg, svc) "/" m, XDS_SVC(pkg, svc), m, kind, delta},
/* Each service has a state-of-the-world method, Stream<x>, and an
 * incremental one, Delta<x>. */
#define XDS_STREAM(pkg, svc, x, kind) XDS_METHOD(pkg, svc, "Stream" x, kind, 0)
#define XDS_DELTA(pkg, svc, x, kind) XDS_METHOD(pkg, svc, "Delta" x, kind, 1)
#define XDS_SERVICES(M)                                                                            \
	M("discovery", "AggregatedDiscoveryService", "AggregatedResources", -1)                    \
	M("cluster", "ClusterDiscoveryService", "Clusters", XDS_CLUSTER)                           \
	M("endpoint", "EndpointDiscoveryService", "Endpoints", XDS_ENDPOINT)                       \
	M("listener", "ListenerDiscoveryService", "Listeners", XDS_LISTENER)                       \
	M("route", "RouteDiscoveryService", "Routes", XDS_ROUTE)                                   \
	M("secret", "SecretDiscoveryService", "Secrets", XDS_SECRET)                               \
	M("runtime", "RuntimeDiscoveryService", "Runtime", XDS_RUNTIME)
const xds_method_t xds_methods[] = {XDS_SERVICES(XDS_STREAM) XDS_SERVICES(XDS_DELTA)};
const size_t xds_nmethods = sizeof(xds_methods) / sizeof(xds_methods[0]);

int xds_method_find(const char *path, size_t len)
{
	for (size_t i = 0; i < xds_nmethods; i++)
		if (strlen(xds_methods[i].path) == len &&
		    memcmp(xds_methods[i].path, path, len) == 0)
			return (int)i;
	return -1;
}

#define XDS_NV(n, v, vl)                                                                           \
	{                                                                                          \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), NGHTTP2_NV_FLAG_NO_COPY_NAME  \
	}

/* ---- sending ---- */

static ssize_t xds_h2_send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags,
                              void *ud)
{
	xds_conn_t *c = ud;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) >= XDS_OUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (evbuffer_add(out, data, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

static int xds_h2_send_data_cb(nghttp2_session *s, nghttp2_frame *frame, const uint8_t *framehd,
                               size_t length, nghttp2_data_source *source, void *ud)
{
	xds_conn_t *c = ud;
	xds_stream_t *st = source->ptr;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (evbuffer_get_length(out) >= XDS_OUT_HIGH)
		return NGHTTP2_ERR_WOULDBLOCK;
	if (evbuffer_add(out, framehd, 9) != 0 ||
	    evbuffer_remove_buffer(st->out, out, length) != (int)length)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return 0;
}

/* grpc-message is percent-encoded UTF-8; kept short for Envoy's header
 * limit. Returns the encoded length. */
static size_t xds_h2_grpc_message(const char *in, char *out, size_t outlen)
{
	size_t ml = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && ml + 4 < outlen; p++) {
		if (*p >= 0x20 && *p <= 0x7e && *p != '%')
			out[ml++] = (char)*p;
		else
			ml += (size_t)snprintf(out + ml, outlen - ml, "%%%02X", *p);
	}
	out[ml] = 0;
	return ml;
}

static int xds_h2_submit_trailers(xds_stream_t *st)
{
	char code[16], msg[256];
	nghttp2_nv nv[2];
	size_t n = 0;
	snprintf(code, sizeof(code), "%d", st->status);
	nv[n++] = (nghttp2_nv)XDS_NV("grpc-status", code, strlen(code));
	if (st->message)
		nv[n++] = (nghttp2_nv)XDS_NV("grpc-message", msg,
		                             xds_h2_grpc_message(st->message, msg, sizeof(msg)));
	st->ended = 1;
	return nghttp2_submit_trailer(st->conn->h2, st->id, nv, n);
}

static ssize_t xds_h2_read_cb(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length,
                              uint32_t *flags, nghttp2_data_source *source, void *ud)
{
	xds_stream_t *st = source->ptr;
	size_t have = evbuffer_get_length(st->out);
	if (have > 0) {
		*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
		return (ssize_t)(have < length ? have : length);
	}
	if (st->ending && !st->ended) {
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		if (xds_h2_submit_trailers(st) != 0)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		return 0;
	}
	st->deferred = 1;
	return NGHTTP2_ERR_DEFERRED;
}

static int xds_h2_respond(xds_stream_t *st)
{
	nghttp2_nv nv[] = {
	    XDS_NV(":status", "200", 3),
	    XDS_NV("content-type", "application/grpc", 16),
	};
	nghttp2_data_provider prd = {.source.ptr = st, .read_callback = xds_h2_read_cb};
	st->responding = 1;
	return nghttp2_submit_response(st->conn->h2, st->id, nv, 2, &prd);
}

static const char *xds_grpc_code_name(int code)
{
	static const char *const names[] = {
	    "OK",
	    "Canceled",
	    "Unknown",
	    "InvalidArgument",
	    "DeadlineExceeded",
	    "NotFound",
	    "AlreadyExists",
	    "PermissionDenied",
	    "ResourceExhausted",
	    "FailedPrecondition",
	    "Aborted",
	    "OutOfRange",
	    "Unimplemented",
	    "Internal",
	    "Unavailable",
	    "DataLoss",
	    "Unauthenticated",
	};
	return code >= 0 && (size_t)code < sizeof(names) / sizeof(names[0]) ? names[code]
	                                                                    : "Unknown";
}

static void xds_h2_count(xds_stream_t *st, contour_metric_t *m, const char *code)
{
	if (st->method < 0)
		return;
	const xds_method_t *me = &xds_methods[st->method];
	const char *l[] = {XDS_GRPC_TYPE, me->service, me->name, code};
	xds_srv_metric_add(m, l, 1);
}

void xds_blob_unref(xds_blob_t *b)
{
	if (b && --b->refs == 0)
		free(b);
}

static void xds_h2_blob_release(const void *data, size_t len, void *arg)
{
	xds_blob_unref(arg);
}

/* After a message is queued: headers with the first one, or wake the data
 * provider. */
static int xds_h2_queued(xds_stream_t *st)
{
	xds_h2_count(st, st->conn->srv->m_sent, NULL);
	if (!st->responding)
		return xds_h2_respond(st) == 0 ? CONTOUR_EOK : CONTOUR_ENOMEM;
	if (st->deferred) {
		st->deferred = 0;
		nghttp2_session_resume_data(st->conn->h2, st->id);
	}
	return CONTOUR_EOK;
}

int xds_h2_send_shared(xds_stream_t *st, xds_blob_t *body, const uint8_t *tail, size_t tlen)
{
	size_t len = body->len + tlen;
	if (st->ending || len > UINT32_MAX)
		return CONTOUR_EINVAL;
	uint8_t hdr[5] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
	                  (uint8_t)len};
	size_t before = evbuffer_get_length(st->out);
	body->refs++;
	if (evbuffer_add(st->out, hdr, 5) != 0 ||
	    evbuffer_add_reference(st->out, body->data, body->len, xds_h2_blob_release, body) !=
	        0) {
		body->refs--;
		goto fail;
	}
	if (evbuffer_add(st->out, tail, tlen) != 0)
		goto fail;
	return xds_h2_queued(st);
fail:
	/* Take back a partial message: the stream's framing must stay whole. */
	{
		struct evbuffer *keep = evbuffer_new();
		if (keep) {
			evbuffer_remove_buffer(st->out, keep, before);
			evbuffer_free(st->out);
			st->out = keep;
		}
	}
	return CONTOUR_ENOMEM;
}

static void xds_h2_buf_free(const void *data, size_t len, void *arg)
{
	free((void *)data);
}

int xds_h2_send_msg(xds_stream_t *st, uint8_t *buf, size_t len)
{
	if (st->ending || len > UINT32_MAX) {
		free(buf);
		return CONTOUR_EINVAL;
	}
	buf[0] = 0;
	buf[1] = (uint8_t)(len >> 24);
	buf[2] = (uint8_t)(len >> 16);
	buf[3] = (uint8_t)(len >> 8);
	buf[4] = (uint8_t)len;
	if (evbuffer_add_reference(st->out, buf, len + 5, xds_h2_buf_free, NULL) != 0) {
		free(buf);
		return CONTOUR_ENOMEM;
	}
	return xds_h2_queued(st);
}

void xds_h2_end(xds_stream_t *st, int status, const char *message)
{
	if (st->ending)
		return;
	st->ending = 1;
	st->status = status;
	free(st->message);
	st->message = message ? strdup(message) : NULL;
	if (st->method >= 0) {
		xds_h2_count(st, st->conn->srv->m_handled, xds_grpc_code_name(status));
		st->counted = 2; /* handled recorded */
	}
	if (!st->responding) {
		/* Trailers-Only: one HEADERS frame with END_STREAM. */
		char code[16], msg[256];
		snprintf(code, sizeof(code), "%d", status);
		nghttp2_nv nv[4] = {
		    XDS_NV(":status", "200", 3),
		    XDS_NV("content-type", "application/grpc", 16),
		    XDS_NV("grpc-status", code, strlen(code)),
		};
		size_t n = 3;
		if (st->message)
			nv[n++] =
			    (nghttp2_nv)XDS_NV("grpc-message", msg,
			                       xds_h2_grpc_message(st->message, msg, sizeof(msg)));
		st->responding = 1;
		st->ended = 1;
		nghttp2_submit_response(st->conn->h2, st->id, nv, n, NULL);
		return;
	}
	if (st->deferred) {
		st->deferred = 0;
		nghttp2_session_resume_data(st->conn->h2, st->id);
	}
}

/* ---- receiving ---- */

static int xds_h2_begin_headers_cb(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
	xds_conn_t *c = ud;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	xds_stream_t *st = xds_stream_new(c, frame->hd.stream_id, -1);
	if (!st)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	nghttp2_session_set_stream_user_data(s, frame->hd.stream_id, st);
	return 0;
}

static int xds_h2_header_cb(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                            size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                            void *ud)
{
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	xds_stream_t *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	if (!st)
		return 0;
	if (namelen == 5 && memcmp(name, ":path", 5) == 0)
		st->method = xds_method_find((const char *)value, valuelen);
	else if (namelen == 12 && memcmp(name, "content-type", 12) == 0)
		st->ctype_ok = valuelen >= 16 && memcmp(value, "application/grpc", 16) == 0 &&
		               (valuelen == 16 || value[16] == '+' || value[16] == ';');
	return 0;
}

/* The request's headers are complete: answer what cannot be served. */
static void xds_h2_request_headers(xds_stream_t *st)
{
	if (!st->ctype_ok) {
		nghttp2_nv nv[] = {XDS_NV(":status", "415", 3)};
		st->method = -1; /* not gRPC: not counted */
		st->responding = st->ending = st->ended = 1;
		nghttp2_submit_response(st->conn->h2, st->id, nv, 1, NULL);
		return;
	}
	if (st->method < 0) {
		xds_h2_end(st, XDS_GRPC_UNIMPLEMENTED, "unknown service or method");
		return;
	}
	st->kind = xds_methods[st->method].kind;
	st->delta = xds_methods[st->method].delta;
	st->counted = 1;
	xds_h2_count(st, st->conn->srv->m_started, NULL);
}

/* Cut whole gRPC messages out of the stream's input. */
static void xds_h2_messages(xds_stream_t *st)
{
	while (!st->ending) {
		size_t have = evbuffer_get_length(st->in);
		uint8_t hdr[5];
		if (have < 5)
			return;
		evbuffer_copyout(st->in, hdr, 5);
		uint32_t len = (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 |
		               (uint32_t)hdr[3] << 8 | hdr[4];
		if (hdr[0] != 0) {
			xds_h2_end(st, XDS_GRPC_INTERNAL,
			           "grpc: compressed flag set with identity or empty encoding");
			return;
		}
		if (len > XDS_MAX_REQUEST) {
			xds_h2_end(st, XDS_GRPC_RESOURCE_EXHAUSTED,
			           "grpc: received message larger than max");
			return;
		}
		if (have < 5 + (size_t)len)
			return;
		evbuffer_drain(st->in, 5);
		const uint8_t *msg = len ? evbuffer_pullup(st->in, len) : (const uint8_t *)"";
		xds_h2_count(st, st->conn->srv->m_recv, NULL);
		const char *err = NULL;
		int rc = xds_stream_request(st, msg, len, &err);
		evbuffer_drain(st->in, len);
		if (rc != 0)
			xds_h2_end(st, rc, err);
	}
}

static int xds_h2_data_cb(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                          size_t len, void *ud)
{
	xds_stream_t *st = nghttp2_session_get_stream_user_data(s, id);
	if (!st || st->method < 0 || st->ending)
		return 0;
	if (evbuffer_add(st->in, data, len) != 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	xds_h2_messages(st);
	return 0;
}

static int xds_h2_frame_recv_cb(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
	xds_conn_t *c = ud;
	if (frame->hd.type == NGHTTP2_PING) {
		if (frame->hd.flags & NGHTTP2_FLAG_ACK)
			xds_conn_ping_acked(c);
		return 0;
	}
	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	xds_stream_t *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
	if (!st)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
		xds_h2_request_headers(st);
	if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) && !st->ending) {
		/* The client half-closed: as grpc-go's Recv returning EOF, the
		 * handler returns and the stream ends OK. A partial message left
		 * in the buffer is an error. */
		if (evbuffer_get_length(st->in) > 0)
			xds_h2_end(st, XDS_GRPC_INTERNAL, "grpc: truncated message");
		else
			xds_h2_end(st, XDS_GRPC_OK, NULL);
	}
	return 0;
}

static int xds_h2_frame_send_cb(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
	/* We ended our side while the client's is open: reset it, as grpc-go
	 * does, so the stream does not linger. */
	if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
	    (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) &&
	    nghttp2_session_get_stream_remote_close(s, frame->hd.stream_id) == 0)
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
		                          NGHTTP2_NO_ERROR);
	return 0;
}

static int xds_h2_stream_close_cb(nghttp2_session *s, int32_t id, uint32_t error_code, void *ud)
{
	xds_stream_t *st = nghttp2_session_get_stream_user_data(s, id);
	if (st) {
		nghttp2_session_set_stream_user_data(s, id, NULL);
		xds_stream_free(st);
	}
	return 0;
}

int xds_h2_conn_init(xds_conn_t *c)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return CONTOUR_ENOMEM;
	nghttp2_session_callbacks_set_send_callback(cbs, xds_h2_send_cb);
	nghttp2_session_callbacks_set_send_data_callback(cbs, xds_h2_send_data_cb);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, xds_h2_begin_headers_cb);
	nghttp2_session_callbacks_set_on_header_callback(cbs, xds_h2_header_cb);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, xds_h2_data_cb);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, xds_h2_frame_recv_cb);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, xds_h2_frame_send_cb);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, xds_h2_stream_close_cb);
	if (nghttp2_option_new(&opt) != 0) {
		nghttp2_session_callbacks_del(cbs);
		return CONTOUR_ENOMEM;
	}
	/* Stream ids are only ever the client's; a closed stream needs no
	 * bookkeeping beyond nghttp2's default. */
	nghttp2_option_set_no_closed_streams(opt, 1);
	int rc = nghttp2_session_server_new2(&c->h2, cbs, c, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	if (rc != 0)
		return CONTOUR_ENOMEM;
	/* Envoy may open one EDS stream per cluster. */
	nghttp2_settings_entry iv[] = {
	    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1u << 20},
	    {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1u << 20},
	};
	if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, 2) != 0)
		return CONTOUR_ENOMEM;
	/* Requests are small, but many streams may send at once. */
	nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, 16u << 20);
	return CONTOUR_EOK;
}

void xds_h2_conn_fini(xds_conn_t *c)
{
	if (c->h2) {
		nghttp2_session_del(c->h2);
		c->h2 = NULL;
	}
}

int xds_h2_recv(xds_conn_t *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len = evbuffer_get_length(in);
	while (len > 0 && !c->dead) {
		/* Feed contiguous chunks without pulling the whole buffer up. */
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			break;
		ssize_t n = nghttp2_session_mem_recv(c->h2, v.iov_base, v.iov_len);
		if (n < 0) {
			contour_log(c->srv->mod, CONTOUR_LOG_DEBUG, "xDS connection from %s: %s",
			            c->peer, nghttp2_strerror((int)n));
			return -1;
		}
		evbuffer_drain(in, (size_t)n);
		len -= (size_t)n;
	}
	return 0;
}

int xds_h2_flush(xds_conn_t *c)
{
	if (!c->h2 || c->dead)
		return 0;
	int rc = nghttp2_session_send(c->h2);
	if (rc != 0) {
		contour_log(c->srv->mod, CONTOUR_LOG_DEBUG, "xDS connection from %s: %s", c->peer,
		            nghttp2_strerror(rc));
		return -1;
	}
	return 0;
}

void xds_h2_goaway(xds_conn_t *c)
{
	if (c->h2)
		nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE,
		                      nghttp2_session_get_last_proc_stream_id(c->h2),
		                      NGHTTP2_NO_ERROR, NULL, 0);
}

int xds_h2_ping(xds_conn_t *c)
{
	return nghttp2_submit_ping(c->h2, NGHTTP2_FLAG_NONE, NULL) == 0 ? 0 : -1;
}
