/* modules/xds-grpc/xds_server.c: the xDS server's listener, TLS and
 * connections, and publishing snapshots to every stream.
 *
 * TLS: TLS 1.2 or 1.3, a client certificate is required and verified against
 * ca-file, ALPN "h2". The three files are stat()ed on every new connection
 * and the SSL_CTX rebuilt when any of them changed, so a rotated certificate
 * is used from the next connection on without a restart; a rotation caught
 * half-written keeps the previous context.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>

#include "xds_srv.h"

/* Upstream's refusals (cmd/contour/servecontext.go). */
#define XDS_ERR_NO_TLS                                                                             \
	"no TLS parameters and --insecure not supplied. You must supply one or the other"
#define XDS_ERR_PARTIAL_TLS                                                                        \
	"invalid TLS configuration: you must supply all TLS parameters - --contour-cafile, "       \
	"--contour-cert-file, --contour-key-file, or none of them"

/* Stop handing nghttp2 output to the socket above this; resume below the
 * low watermark (the write callback). */
#define XDS_OUT_LOW (64u << 10)

static const char *const xds_grpc_labels[] = {"grpc_type", "grpc_service", "grpc_method", NULL};
static const char *const xds_handled_labels[] = {"grpc_type", "grpc_service", "grpc_method",
                                                 "grpc_code", NULL};
static const char *const xds_nack_labels[] = {"type_url", NULL};

void xds_srv_metric_add(contour_metric_t *m, const char *const *labels, double v)
{
	if (m)
		contour_metric_add(m, labels, v);
}

static void xds_server_gauges(xds_server_t *srv)
{
	if (srv->m_streams)
		contour_metric_set(srv->m_streams, NULL, (double)srv->nstreams);
	if (srv->m_conns)
		contour_metric_set(srv->m_conns, NULL, (double)srv->nconns);
}

static void xds_server_metrics(xds_server_t *srv)
{
	/* Upstream's names (go-grpc-prometheus) and ours. A failed registration
	 * (a second server in one test process) only loses that metric. */
	const struct {
		contour_metric_type_t type;
		const char *name, *help;
		const char *const *labels;
		contour_metric_t **out;
	} defs[] = {
	    {CONTOUR_METRIC_COUNTER, "grpc_server_started_total",
	     "Total number of RPCs started on the server.", xds_grpc_labels, &srv->m_started},
	    {CONTOUR_METRIC_COUNTER, "grpc_server_handled_total",
	     "Total number of RPCs completed on the server, regardless of success or failure.",
	     xds_handled_labels, &srv->m_handled},
	    {CONTOUR_METRIC_COUNTER, "grpc_server_msg_received_total",
	     "Total number of RPC stream messages received on the server.", xds_grpc_labels,
	     &srv->m_recv},
	    {CONTOUR_METRIC_COUNTER, "grpc_server_msg_sent_total",
	     "Total number of gRPC stream messages sent by the server.", xds_grpc_labels,
	     &srv->m_sent},
	    {CONTOUR_METRIC_COUNTER, "contour_xds_nack_total",
	     "Responses rejected by an xDS client (NACK), per type URL.", xds_nack_labels,
	     &srv->m_nack},
	    {CONTOUR_METRIC_GAUGE, "contour_xds_streams", "Open xDS gRPC streams.", NULL,
	     &srv->m_streams},
	    {CONTOUR_METRIC_GAUGE, "contour_xds_connections", "Open xDS client connections.", NULL,
	     &srv->m_conns},
	    {CONTOUR_METRIC_COUNTER, "contour_xds_dropped_connections_total",
	     "xDS connections closed because their unsent queue passed the limit.", NULL,
	     &srv->m_dropped},
	};
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
		contour_metric_desc_t d = {
		    .type = defs[i].type,
		    .name = defs[i].name,
		    .help = defs[i].help,
		    .labels = defs[i].labels,
		};
		if (contour_register_metric(srv->mod, &d, defs[i].out) != CONTOUR_EOK)
			*defs[i].out = NULL;
	}
}

static char *xds_strdup0(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

xds_server_t *xds_server_new(contour_module_t *mod, const xds_server_config_t *cfg)
{
	xds_server_t *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return NULL;
	srv->mod = mod;
	srv->base = contour_event_base(mod);
	srv->port = cfg->port;
	srv->insecure = cfg->insecure;
	srv->queue_limit = XDS_QUEUE_LIMIT_DEFAULT;
	srv->ka_idle_ms = XDS_KEEPALIVE_IDLE_MS;
	srv->ka_timeout_ms = XDS_KEEPALIVE_TIMEOUT_MS;
	srv->address = strdup(cfg->address && *cfg->address ? cfg->address : "127.0.0.1");
	srv->ca_file = xds_strdup0(cfg->ca_file);
	srv->cert_file = xds_strdup0(cfg->cert_file);
	srv->key_file = xds_strdup0(cfg->key_file);
	if (!srv->address || (cfg->ca_file && *cfg->ca_file && !srv->ca_file) ||
	    (cfg->cert_file && *cfg->cert_file && !srv->cert_file) ||
	    (cfg->key_file && *cfg->key_file && !srv->key_file))
		goto fail;
	int ntls = !!srv->ca_file + !!srv->cert_file + !!srv->key_file;
	if (ntls != 0 && ntls != 3) {
		contour_log(mod, CONTOUR_LOG_ERR, "%s", XDS_ERR_PARTIAL_TLS);
		goto fail;
	}
	if (ntls == 0 && !srv->insecure) {
		contour_log(mod, CONTOUR_LOG_ERR, "%s", XDS_ERR_NO_TLS);
		goto fail;
	}
	xds_server_metrics(srv);
	return srv;
fail:
	xds_server_free(srv);
	return NULL;
}

/* ---- TLS ---- */

static int xds_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                           const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h2[] = "\x02h2";
	unsigned char *sel;
	if (SSL_select_next_proto(&sel, outlen, h2, sizeof(h2) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

static void xds_ssl_errors(xds_server_t *srv, const char *what)
{
	unsigned long e;
	char buf[256];
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		contour_log(srv->mod, CONTOUR_LOG_ERR, "%s: %s", what, buf);
	}
}

static SSL_CTX *xds_tls_ctx_build(xds_server_t *srv)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		goto fail;
	/* TLS 1.3 minimum, as upstream's serve (MinVersion: tls.VersionTLS13):
	 * the bootstrap's contour cluster allows up to TLSv1_3 and Envoy's
	 * client negotiates it. */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
		xds_ssl_errors(srv, "TLS 1.3 minimum");
		goto fail;
	}
	/* IGNORE_UNEXPECTED_EOF: a peer that closes without close_notify has
	 * disconnected, it has not failed (OpenSSL 3 reports it as an error). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	                             SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (SSL_CTX_use_certificate_chain_file(ctx, srv->cert_file) != 1) {
		xds_ssl_errors(srv, srv->cert_file);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, srv->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		/* Not the key's content: OpenSSL's reason only. */
		xds_ssl_errors(srv, srv->key_file);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, srv->ca_file, NULL) != 1) {
		xds_ssl_errors(srv, srv->ca_file);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_alpn_select_cb(ctx, xds_alpn_select, NULL);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* The current context, rebuilt when a file's identity, size or mtime
 * changed since the last build. */
static SSL_CTX *xds_tls_ctx(xds_server_t *srv)
{
	char stamp[sizeof(srv->ssl_stamp)];
	size_t off = 0;
	const char *files[] = {srv->ca_file, srv->cert_file, srv->key_file};
	for (size_t i = 0; i < 3; i++) {
		struct stat sb;
		if (stat(files[i], &sb) != 0) {
			contour_log(srv->mod, CONTOUR_LOG_ERR, "xDS TLS: %s: %s", files[i],
			            strerror(errno));
			memset(&sb, 0, sizeof(sb));
		}
		int n = snprintf(stamp + off, sizeof(stamp) - off, "%llu:%lld:%lld.%ld|",
		                 (unsigned long long)sb.st_ino, (long long)sb.st_size,
		                 (long long)sb.st_mtim.tv_sec, (long)sb.st_mtim.tv_nsec);
		if (n > 0 && (size_t)n < sizeof(stamp) - off)
			off += (size_t)n;
	}
	if (srv->ssl && strcmp(stamp, srv->ssl_stamp) == 0)
		return srv->ssl;
	SSL_CTX *ctx = xds_tls_ctx_build(srv);
	if (!ctx) {
		if (srv->ssl)
			contour_log(
			    srv->mod, CONTOUR_LOG_WARN,
			    "xDS TLS: keeping the previous certificate until the files load");
		return srv->ssl;
	}
	if (srv->ssl)
		contour_log(srv->mod, CONTOUR_LOG_INFO, "xDS TLS: certificate files reloaded");
	SSL_CTX_free(srv->ssl);
	srv->ssl = ctx;
	memcpy(srv->ssl_stamp, stamp, sizeof(stamp));
	return ctx;
}

/* ---- connections ---- */

size_t xds_conn_queued(const xds_conn_t *c)
{
	size_t n = c->bev ? evbuffer_get_length(bufferevent_get_output(c->bev)) : 0;
	for (const xds_stream_t *st = c->streams; st; st = st->next)
		n += evbuffer_get_length(st->out);
	return n;
}

static void xds_conn_free(xds_conn_t *c)
{
	xds_server_t *srv = c->srv;
	/* Streams first: their frees may consult the session. */
	while (c->streams)
		xds_stream_free(c->streams);
	xds_h2_conn_fini(c);
	if (c->ka)
		event_free(c->ka);
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nconns--;
	xds_server_gauges(srv);
	contour_log(srv->mod, CONTOUR_LOG_DEBUG, "xDS connection from %s closed", c->peer);
	free(c);
}

void xds_conn_close(xds_conn_t *c, int graceful)
{
	if (c->dead)
		return;
	if (graceful && !c->closing) {
		c->closing = 1;
		xds_h2_goaway(c);
		xds_h2_flush(c);
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
			return; /* the write callback frees it once flushed */
	}
	if (c->in_cb) {
		c->dead = 1;
		return;
	}
	xds_conn_free(c);
}

/* Leave a callback: free the connection if it died meanwhile. */
static void xds_conn_leave(xds_conn_t *c)
{
	if (--c->in_cb == 0 && c->dead)
		xds_conn_free(c);
}

static void xds_conn_flush(xds_conn_t *c)
{
	if (xds_h2_flush(c) < 0)
		xds_conn_close(c, 0);
	else if (!c->dead && nghttp2_session_want_read(c->h2) == 0 &&
	         nghttp2_session_want_write(c->h2) == 0 &&
	         evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		xds_conn_close(c, 0);
}

static void xds_conn_readcb(struct bufferevent *bev, void *arg)
{
	xds_conn_t *c = arg;
	c->in_cb++;
	c->last_read_ms = contour_now_ms(c->srv->mod);
	if (xds_h2_recv(c) < 0)
		xds_conn_close(c, 0);
	else
		xds_conn_flush(c);
	xds_conn_leave(c);
}

static void xds_conn_writecb(struct bufferevent *bev, void *arg)
{
	xds_conn_t *c = arg;
	c->in_cb++;
	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		xds_conn_close(c, 0);
	else
		xds_conn_flush(c);
	xds_conn_leave(c);
}

static void xds_conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	xds_conn_t *c = arg;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_ERROR) {
		unsigned long e = bufferevent_get_openssl_error(bev);
		if (e) {
			char buf[256];
			ERR_error_string_n(e, buf, sizeof(buf));
			/* Refused handshakes (no or wrong client certificate) land
			 * here; one line per connection, no key material. */
			contour_log(c->srv->mod, CONTOUR_LOG_WARN, "xDS TLS connection from %s: %s",
			            c->peer, buf);
			while (bufferevent_get_openssl_error(bev))
				;
		} else if (EVUTIL_SOCKET_ERROR()) {
			contour_log(c->srv->mod, CONTOUR_LOG_DEBUG, "xDS connection from %s: %s",
			            c->peer, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		}
	}
	c->in_cb++;
	xds_conn_close(c, 0);
	xds_conn_leave(c);
}

static void xds_conn_keepalive(evutil_socket_t fd, short what, void *arg)
{
	xds_conn_t *c = arg;
	xds_server_t *srv = c->srv;
	int64_t now = contour_now_ms(srv->mod);
	c->in_cb++;
	if (c->ping_out) {
		contour_log(srv->mod, CONTOUR_LOG_INFO,
		            "xDS connection from %s: no PING ACK within %lld ms, closing", c->peer,
		            (long long)srv->ka_timeout_ms);
		xds_conn_close(c, 0);
	} else if (now - c->last_read_ms < srv->ka_idle_ms) {
		int64_t left = srv->ka_idle_ms - (now - c->last_read_ms);
		struct timeval tv = {left / 1000, (left % 1000) * 1000};
		event_add(c->ka, &tv);
	} else if (xds_h2_ping(c) == 0) {
		c->ping_out = 1;
		struct timeval tv = {srv->ka_timeout_ms / 1000, (srv->ka_timeout_ms % 1000) * 1000};
		event_add(c->ka, &tv);
		xds_conn_flush(c);
	} else {
		xds_conn_close(c, 0);
	}
	xds_conn_leave(c);
}

void xds_conn_ping_acked(xds_conn_t *c)
{
	if (!c->ping_out)
		return;
	c->ping_out = 0;
	struct timeval tv = {c->srv->ka_idle_ms / 1000, (c->srv->ka_idle_ms % 1000) * 1000};
	event_add(c->ka, &tv);
}

static void xds_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
                       int salen, void *arg)
{
	xds_server_t *srv = arg;
	xds_conn_t *c = calloc(1, sizeof(*c));
	SSL *ssl = NULL;
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->srv = srv;
	char host[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, host, sizeof(host));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof(host));
	snprintf(c->peer, sizeof(c->peer), "%s:%u", host,
	         sa->sa_family == AF_INET    ? ntohs(((struct sockaddr_in *)sa)->sin_port)
	         : sa->sa_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)sa)->sin6_port)
	                                     : 0u);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (srv->insecure && !srv->cert_file) {
		c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	} else {
		SSL_CTX *ctx = xds_tls_ctx(srv);
		ssl = ctx ? SSL_new(ctx) : NULL;
		if (!ssl) {
			contour_log(srv->mod, CONTOUR_LOG_ERR,
			            "xDS TLS: no usable certificate, refusing %s", c->peer);
			evutil_closesocket(fd);
			free(c);
			return;
		}
		c->bev = bufferevent_openssl_socket_new(
		    srv->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!c->bev) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		free(c);
		return;
	}
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	xds_server_gauges(srv);
	c->last_read_ms = contour_now_ms(srv->mod);
	c->ka = event_new(srv->base, -1, 0, xds_conn_keepalive, c);
	if (!c->ka || xds_h2_conn_init(c) < 0) {
		xds_conn_free(c);
		return;
	}
	struct timeval tv = {srv->ka_idle_ms / 1000, (srv->ka_idle_ms % 1000) * 1000};
	event_add(c->ka, &tv);
	bufferevent_setcb(c->bev, xds_conn_readcb, xds_conn_writecb, xds_conn_eventcb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, XDS_OUT_LOW, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	contour_log(srv->mod, CONTOUR_LOG_DEBUG, "xDS connection from %s", c->peer);
	c->in_cb++;
	xds_conn_flush(c); /* our SETTINGS */
	xds_conn_leave(c);
}

static void xds_accept_error(struct evconnlistener *lis, void *arg)
{
	xds_server_t *srv = arg;
	int err = EVUTIL_SOCKET_ERROR();
	/* EMFILE and friends: keep listening, the next accept may work. */
	contour_log(srv->mod, CONTOUR_LOG_WARN, "xDS accept: %s",
	            evutil_socket_error_to_string(err));
}

/* 127.0.0.0/8 and ::1 (also as ::ffff:127.x.y.z): only this host can
 * connect, so plaintext xDS there is the sidecar's case, not a leak. A unix
 * socket would count too, but the listener is TCP only. */
static int xds_addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return sa->sa_family == AF_UNIX;
}

int xds_server_start(xds_server_t *srv)
{
	if (srv->lis)
		return CONTOUR_EOK;
	if (!srv->insecure || srv->cert_file) {
		/* Fail at startup on unreadable files, not at the first Envoy. */
		if (!xds_tls_ctx(srv))
			return CONTOUR_ECONFIG;
	}
	struct evutil_addrinfo hints = {0}, *ai = NULL;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICHOST;
	char port[16];
	snprintf(port, sizeof(port), "%u", srv->port);
	int rc = evutil_getaddrinfo(srv->address, port, &hints, &ai);
	if (rc != 0) {
		contour_log(srv->mod, CONTOUR_LOG_ERR, "xDS address %s: %s", srv->address,
		            evutil_gai_strerror(rc));
		return CONTOUR_ECONFIG;
	}
	int loopback = xds_addr_is_loopback(ai->ai_addr);
	srv->lis = evconnlistener_new_bind(srv->base, xds_accept, srv,
	                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
	                                   ai->ai_addr, (int)ai->ai_addrlen);
	evutil_freeaddrinfo(ai);
	if (!srv->lis) {
		contour_log(srv->mod, CONTOUR_LOG_ERR, "xDS listen on %s:%u: %s", srv->address,
		            srv->port, evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		return -EADDRINUSE;
	}
	evconnlistener_set_error_cb(srv->lis, xds_accept_error);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (getsockname(evconnlistener_get_fd(srv->lis), (struct sockaddr *)&ss, &sl) == 0)
		srv->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                                           : ((struct sockaddr_in *)&ss)->sin_port);
	srv->started = 1;
	contour_log(srv->mod, CONTOUR_LOG_INFO, "xDS server listening on %s:%u (%s)", srv->address,
	            srv->port, srv->insecure && !srv->cert_file ? "insecure" : "mTLS");
	if (srv->insecure && !srv->cert_file && !loopback)
		contour_log(srv->mod, CONTOUR_LOG_WARN,
		            "xDS on %s:%u is plaintext (insecure) on a non-loopback address: "
		            "secrets (TLS private keys) travel in the clear to anyone who connects; "
		            "use mTLS (ca-file, cert-file, key-file) or a loopback address",
		            srv->address, srv->port);
	return CONTOUR_EOK;
}

/* Write what is queued straight to the socket (through TLS if any) and
 * half-close it: the loop may not run again. One attempt; what does not
 * fit is lost with the process. Unread input is drained first: closing a
 * socket with unread data sends a reset, and the peer may drop our GOAWAY
 * with it. */
static void xds_conn_last_write(xds_conn_t *c)
{
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	char sink[4096];
	/* The bufferevent keeps its output frozen for anyone else: write a
	 * copy. A TLS write libevent left pending began with these same bytes,
	 * which is what OpenSSL's retry rule asks for. */
	size_t n = evbuffer_get_length(out);
	unsigned char *p = n ? evbuffer_pullup(out, (ssize_t)n) : NULL;
	if (ssl) {
		if (p && SSL_is_init_finished(ssl))
			SSL_write(ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
		SSL_shutdown(ssl);
		ERR_clear_error();
	} else if (p && send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		contour_log(c->srv->mod, CONTOUR_LOG_DEBUG, "xDS GOAWAY to %s: %s", c->peer,
		            strerror(errno));
	}
	shutdown(fd, SHUT_WR);
	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
}

void xds_server_stop(xds_server_t *srv)
{
	if (!srv)
		return;
	if (srv->lis) {
		evconnlistener_free(srv->lis);
		srv->lis = NULL;
	}
	/* GOAWAY to each client, written out now if the socket takes it: the
	 * loop may not run again. */
	while (srv->conns) {
		xds_conn_t *c = srv->conns;
		if (!c->dead && !c->closing) {
			xds_h2_goaway(c);
			xds_h2_flush(c);
			xds_conn_last_write(c);
		}
		xds_conn_free(c);
	}
	srv->started = 0;
}

void xds_server_free(xds_server_t *srv)
{
	if (!srv)
		return;
	xds_server_stop(srv);
	for (int t = 0; t < XDS_NTYPES; t++)
		xds_blob_unref(srv->full[t]);
	xds_snapshot_unref(srv->snap);
	SSL_CTX_free(srv->ssl);
	CONTOUR_FREE_ALL(srv->address, srv->ca_file, srv->cert_file, srv->key_file, srv);
}

void xds_server_publish(xds_server_t *srv, xds_snapshot_t *snap)
{
	xds_snapshot_t *old = srv->snap;
	for (int t = 0; t < XDS_NTYPES; t++) {
		/* Streams keep their own references to bodies already queued. */
		xds_blob_unref(srv->full[t]);
		srv->full[t] = NULL;
	}
	srv->snap = xds_snapshot_ref(snap);
	xds_conn_t *next;
	for (xds_conn_t *c = srv->conns; c; c = next) {
		c->in_cb++;
		for (xds_stream_t *st = c->streams; st && !c->dead; st = st->next)
			xds_stream_publish(st);
		if (!c->dead)
			xds_conn_flush(c);
		next = c->next;
		xds_conn_leave(c);
	}
	/* Freeing a big snapshot takes milliseconds: after the responses
	 * are on their way, not before. */
	xds_snapshot_unref(old);
}

uint32_t xds_server_port(const xds_server_t *srv)
{
	return srv ? srv->port : 0;
}

void xds_server_set_queue_limit(xds_server_t *srv, size_t bytes)
{
	srv->queue_limit = bytes;
}

void xds_server_set_keepalive(xds_server_t *srv, int64_t idle_ms, int64_t timeout_ms)
{
	srv->ka_idle_ms = idle_ms;
	srv->ka_timeout_ms = timeout_ms;
}

size_t xds_server_nstreams(const xds_server_t *srv)
{
	return srv->nstreams;
}

size_t xds_server_nconns(const xds_server_t *srv)
{
	return srv->nconns;
}

uint64_t xds_server_dropped(const xds_server_t *srv)
{
	return srv->dropped;
}
