/* modules/xds-grpc/xds_srv.h: the server's private types, shared by
 * xds_server.c (listener, TLS, connections, publish), xds_h2.c (HTTP/2 and
 * gRPC framing) and xds_stream.c (SotW semantics per type and for ADS).
 *
 * Ownership: the server owns its connections (a list), a connection owns its
 * nghttp2 session and its streams (a list), a stream owns its buffers and
 * subscriptions. Everything runs on the one libevent loop.
 */
#ifndef XDS_SRV_H
#define XDS_SRV_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include <nghttp2/nghttp2.h>

#include "modules/xds-grpc/xds.h"

struct bufferevent;
struct evbuffer;
struct event;
struct evconnlistener;

typedef struct xds_conn xds_conn_t;

/* A serialised response body shared by every stream that sends it (the
 * full-state wildcard LDS/CDS response of one snapshot: the same bytes for
 * every Envoy but the nonce, which each stream appends as its own field). */
typedef struct xds_blob {
	unsigned refs;
	size_t len;
	uint8_t data[];
} xds_blob_t;
void xds_blob_unref(xds_blob_t *b); /* NULL accepted */
typedef struct xds_stream xds_stream_t;

/* gRPC status codes used here. */
enum {
	XDS_GRPC_OK = 0,
	XDS_GRPC_INVALID_ARGUMENT = 3,
	XDS_GRPC_RESOURCE_EXHAUSTED = 8,
	XDS_GRPC_UNIMPLEMENTED = 12,
	XDS_GRPC_INTERNAL = 13,
	XDS_GRPC_UNAVAILABLE = 14,
};

/* Limits. */
#define XDS_MAX_REQUEST          (4u << 20)   /* as grpc-go's default */
#define XDS_QUEUE_LIMIT_DEFAULT  (256u << 20) /* unsent bytes per connection */
#define XDS_KEEPALIVE_IDLE_MS    60000
#define XDS_KEEPALIVE_TIMEOUT_MS 20000

/* One subscription (a type on a per-type stream, or one type_url of ADS). */
typedef struct xds_watch {
	int active;   /* a request for this type was seen */
	int wildcard; /* legacy (empty first request) or explicit "*" */
	int awaiting; /* a response was sent, its ACK/NACK not seen yet */
	char **names; /* subscription, sorted, unique; for a wildcard on a
	               * partial type, every name in the snapshot */
	size_t nnames;
	/* What this stream's client holds of each name: has[i] and the content
	 * hash held[i] of names[i] as last sent. */
	uint8_t *has;
	uint64_t *held;
	char sent_version[40]; /* version of the last response ("" none) */
	char nonce[24];        /* nonce of the last response ("" none) */
} xds_watch_t;

struct xds_stream {
	xds_conn_t *conn;
	xds_stream_t *prev, *next;
	int32_t id;
	int kind;             /* an xds_type_t for a per-type stream, -1 for ADS */
	int delta;            /* incremental xDS (Delta* methods) */
	int method;           /* index into the method table, -1 for an unknown path */
	int ctype_ok;         /* content-type starts with application/grpc */
	int counted;          /* grpc_server_started_total recorded */
	struct evbuffer *in;  /* request bytes not yet a whole message */
	struct evbuffer *out; /* framed responses not yet given to nghttp2 */
	int responding;       /* response HEADERS submitted */
	int deferred;         /* the data provider returned DEFERRED */
	int ending;           /* trailers wanted after `out` drains */
	int ended;            /* trailers submitted */
	int status;           /* grpc-status for the trailers */
	char *message;        /* grpc-message, or NULL */
	uint64_t nonce_seq;
	char *node_id, *node_cluster, *node_version; /* from the first request */
	xds_watch_t w[XDS_NTYPES];
};

struct xds_conn {
	xds_server_t *srv;
	xds_conn_t *prev, *next;
	struct bufferevent *bev;
	nghttp2_session *h2;
	xds_stream_t *streams;
	size_t nstreams;
	struct event *ka; /* keepalive: idle timer, then ACK timeout */
	int ping_out;     /* a keepalive PING awaits its ACK */
	int64_t last_read_ms;
	int closing; /* flush what is queued, then free */
	int dead;    /* freed as soon as the current callback returns */
	int in_cb;   /* nesting depth of callbacks that use the conn */
	char peer[64];
};

struct xds_server {
	contour_module_t *mod;
	struct event_base *base;
	char *address;
	uint32_t port;
	int insecure;
	char *ca_file, *cert_file, *key_file;
	struct evconnlistener *lis;
	SSL_CTX *ssl; /* cached until a certificate file changes */
	char ssl_stamp[256];
	xds_snapshot_t *snap;
	xds_blob_t *full[XDS_NTYPES]; /* shared wildcard bodies of snap, lazily */
	xds_conn_t *conns;
	size_t nconns, nstreams;
	size_t queue_limit;
	int64_t ka_idle_ms, ka_timeout_ms;
	uint64_t dropped;
	int started;
	/* metrics (NULL when registration failed) */
	contour_metric_t *m_started, *m_handled, *m_recv, *m_sent, *m_nack, *m_streams, *m_conns,
	    *m_dropped;
};

/* Method table: gRPC method paths the server answers (xds_h2.c). */
typedef struct xds_method {
	const char *path;
	const char *service; /* grpc_service label */
	const char *name;    /* grpc_method label */
	int kind;            /* xds_type_t, or -1 for ADS */
	int delta;           /* DeltaDiscoveryRequest/Response */
} xds_method_t;
extern const xds_method_t xds_methods[];
extern const size_t xds_nmethods;
/* The method index of a :path, or -1. */
int xds_method_find(const char *path, size_t len);

/* xds_server.c */
/* Bytes queued on the connection and not yet written to the socket. */
size_t xds_conn_queued(const xds_conn_t *c);
/* Close the connection: GOAWAY if graceful, then free once flushed (or at
 * once if !graceful). */
void xds_conn_close(xds_conn_t *c, int graceful);
/* A keepalive PING was acknowledged (xds_h2.c). */
void xds_conn_ping_acked(xds_conn_t *c);
/* Test and tuning knobs (not in xds.h: no config key sets them). */
void xds_server_set_queue_limit(xds_server_t *srv, size_t bytes);
void xds_server_set_keepalive(xds_server_t *srv, int64_t idle_ms, int64_t timeout_ms);
size_t xds_server_nstreams(const xds_server_t *srv);
size_t xds_server_nconns(const xds_server_t *srv);
uint64_t xds_server_dropped(const xds_server_t *srv);
/* Record into a metric family if it exists. */
void xds_srv_metric_add(contour_metric_t *m, const char *const *labels, double v);

/* xds_h2.c */
int xds_h2_conn_init(xds_conn_t *c); /* session, SETTINGS */
void xds_h2_conn_fini(xds_conn_t *c);
/* Feed bytes read from the socket; negative on a fatal session error. */
int xds_h2_recv(xds_conn_t *c);
/* Let nghttp2 write what it can; negative on a fatal session error. */
int xds_h2_flush(xds_conn_t *c);
void xds_h2_goaway(xds_conn_t *c);
int xds_h2_ping(xds_conn_t *c);
/* Queue one message on the stream. buf holds 5 spare bytes for the gRPC
 * prefix, then the len bytes of the message; ownership passes to the stream
 * (freed with free()), also on failure. */
int xds_h2_send_msg(xds_stream_t *st, uint8_t *buf, size_t len);
/* Queue one message made of a shared body (a reference is taken) and a
 * short tail (copied). */
int xds_h2_send_shared(xds_stream_t *st, xds_blob_t *body, const uint8_t *tail, size_t tlen);
/* End the stream with a gRPC status (trailers, or Trailers-Only). */
void xds_h2_end(xds_stream_t *st, int status, const char *message);

/* xds_stream.c */
xds_stream_t *xds_stream_new(xds_conn_t *c, int32_t id, int method);
void xds_stream_free(xds_stream_t *st);
/* One whole request message arrived. Returns 0, or a gRPC status to end
 * the stream with (message in *msg, static). */
int xds_stream_request(xds_stream_t *st, const uint8_t *buf, size_t len, const char **msg);
/* A new snapshot is published: answer parked watches whose content
 * changed. */
void xds_stream_publish(xds_stream_t *st);

#endif
