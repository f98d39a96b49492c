/* modules/xds-grpc/xds_translate_clusters.c: CDS. One Cluster per DAG
 * cluster, shaped as upstream's EnvoyGen.Cluster: EDS (or STRICT_DNS for
 * ExternalName), health checks, circuit breakers, upstream TLS, HTTP/2 and
 * idle-timeout protocol options, slow start. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <contour/error.h>
#include "modules/xds-grpc/xds_translate.h"

#define XDS_TLS_SOCKET "envoy.transport_sockets.tls"

void xds_pb_validation_context(xpb_t *w, uint32_t field, const char *ca, const char **sans,
                               size_t nsans, int skip_verify, const char *crl, int only_leaf)
{
	size_t vc = xpb_begin(w, field);
	if (ca && *ca) {
		size_t ds = xpb_begin(w, 1);
		xpb_bytes_always(w, 2, ca, strlen(ca));
		xpb_end(w, ds);
	}
	if (crl && *crl) {
		size_t ds = xpb_begin(w, 7);
		xpb_bytes_always(w, 2, crl, strlen(crl));
		xpb_end(w, ds);
	}
	xpb_uint(w, 10, skip_verify ? 1 : 0); /* ACCEPT_UNTRUSTED */
	if (crl && *crl)
		xpb_bool(w, 14, only_leaf);
	for (size_t i = 0; i < nsans; i++) {
		size_t m = xpb_begin(w, 15);
		xpb_uint(w, 1, 2); /* DNS */
		xds_pb_string_matcher(w, 2, CONTOUR_DAG_MATCH_EXACT, sans[i], 0);
		xpb_end(w, m);
	}
	xpb_end(w, vc);
}

static void xds_cluster_health_check(xpb_t *w, const contour_dag_cluster_t *c)
{
	const contour_dag_health_check_t *hc = c->health_check;
	size_t m = xpb_begin(w, 8);
	xpb_duration_ms(w, 1, hc->timeout_ms > 0 ? hc->timeout_ms : 2000);
	xpb_duration_ms(w, 2, hc->interval_ms > 0 ? hc->interval_ms : 10000);
	xpb_u32value(w, 4, hc->unhealthy_threshold ? hc->unhealthy_threshold : 3);
	xpb_u32value(w, 5, hc->healthy_threshold ? hc->healthy_threshold : 2);
	if (hc->tcp) {
		xpb_empty(w, 9);
	} else {
		size_t h = xpb_begin(w, 8);
		xpb_str(w, 1, hc->host && *hc->host ? hc->host : "contour-envoy-healthcheck");
		xpb_str(w, 2, hc->path);
		for (size_t i = 0; i < hc->nexpected_statuses; i++) {
			size_t r = xpb_begin(w, 9);
			xpb_int(w, 1, hc->expected_statuses[i].start);
			xpb_int(w, 2, hc->expected_statuses[i].end);
			xpb_end(w, r);
		}
		int h2 = c->protocol && (!strcmp(c->protocol, "h2") || !strcmp(c->protocol, "h2c"));
		xpb_uint(w, 10, h2 ? 1 : 0);
		xpb_end(w, h);
	}
	xpb_end(w, m);
}

static void xds_cluster_breakers(xpb_t *w, const contour_dag_circuit_breakers_t *svc,
                                 const xds_settings_t *set)
{
	/* the global defaults fill what the Service's annotations leave at 0,
	 * as upstream's serviceCircuitBreakerPolicy */
	contour_dag_circuit_breakers_t merged = *svc, *cb = &merged;
	if (!cb->max_connections)
		cb->max_connections = set->cb_max_connections;
	if (!cb->max_pending_requests)
		cb->max_pending_requests = set->cb_max_pending_requests;
	if (!cb->max_requests)
		cb->max_requests = set->cb_max_requests;
	if (!cb->max_retries)
		cb->max_retries = set->cb_max_retries;
	if (!cb->per_host_max_connections)
		cb->per_host_max_connections = set->cb_per_host_max_connections;
	if (!cb->max_connections && !cb->max_pending_requests && !cb->max_requests &&
	    !cb->max_retries && !cb->per_host_max_connections)
		return;
	size_t m = xpb_begin(w, 10);
	size_t t = xpb_begin(w, 1);
	if (cb->max_connections)
		xpb_u32value(w, 2, cb->max_connections);
	if (cb->max_pending_requests)
		xpb_u32value(w, 3, cb->max_pending_requests);
	if (cb->max_requests)
		xpb_u32value(w, 4, cb->max_requests);
	if (cb->max_retries)
		xpb_u32value(w, 5, cb->max_retries);
	xpb_bool(w, 6, 1);
	xpb_end(w, t);
	t = xpb_begin(w, 2);
	if (cb->per_host_max_connections)
		xpb_u32value(w, 2, cb->per_host_max_connections);
	xpb_bool(w, 6, 1);
	xpb_end(w, t);
	xpb_end(w, m);
}

static void xds_cluster_tls(xpb_t *w, const contour_dag_cluster_t *c, int h2,
                            const xds_settings_t *set, const char *client_sds)
{
	size_t ts = xpb_begin(w, 24);
	xpb_str(w, 1, XDS_TLS_SOCKET);
	xpb_any_t any =
	    xpb_any_begin(w, 3, "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext");
	size_t ctx = xpb_begin(w, 1);
	/* cluster.upstream-tls (upstream always sets it, defaults included) */
	xds_pb_tls_params(w, 1, set->up_tls_min, set->up_tls_max, set->up_cipher_suites,
	                  set->up_ecdh_curves);
	if (c->validation_ca && c->validation_ca->ca && c->nsubject_names)
		xds_pb_validation_context(w, 3, c->validation_ca->ca, c->subject_names,
		                          c->nsubject_names, 0, NULL, 0);
	if (h2)
		xpb_str_always(w, 4, "h2");
	/* tls.envoy-client-certificate, served by SDS as upstream does */
	if (client_sds) {
		size_t sc = xpb_begin(w, 6);
		xpb_str(w, 1, client_sds);
		xds_pb_config_source(w, 2);
		xpb_end(w, sc);
	}
	xpb_end(w, ctx);
	xpb_str(w, 2, c->sni);
	xpb_any_end(w, any);
	xpb_end(w, ts);
}

static void xds_cluster_protocol_options(xpb_t *w, const contour_dag_cluster_t *c, int h2,
                                         int64_t max_requests)
{
	int idle = c->idle_connection_timeout_ms != CONTOUR_DAG_TIMEOUT_DEFAULT;
	if (!h2 && !idle && max_requests < 0)
		return;
	size_t e = xpb_begin(w, 36);
	xpb_str(w, 1, "envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
	xpb_any_t any =
	    xpb_any_begin(w, 2, "envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
	if (idle || max_requests >= 0) {
		size_t m = xpb_begin(w, 1);
		if (idle)
			xpb_duration_ms(
			    w, 1,
			    c->idle_connection_timeout_ms < 0 ? 0 : c->idle_connection_timeout_ms);
		if (max_requests >= 0)
			xpb_u32value(w, 6, (uint32_t)max_requests);
		xpb_end(w, m);
	}
	size_t ex = xpb_begin(w, 3);
	xpb_empty(w, h2 ? 2 : 1);
	xpb_end(w, ex);
	xpb_any_end(w, any);
	xpb_end(w, e);
}

static void xds_cluster_slow_start(xpb_t *w, const contour_dag_cluster_t *c)
{
	const contour_dag_slow_start_t *ss = c->slow_start;
	uint32_t field;
	if (c->lb_strategy == CONTOUR_DAG_LB_WEIGHTED_LEAST_REQUEST)
		field = 37;
	else if (c->lb_strategy == CONTOUR_DAG_LB_ROUND_ROBIN)
		field = 56;
	else
		return; /* Envoy supports slow start only for these two */
	size_t m = xpb_begin(w, field);
	size_t s = xpb_begin(w, field == 37 ? 3 : 1);
	xpb_duration_ms(w, 1, ss->window_ms);
	size_t a = xpb_begin(w, 2);
	xpb_double(w, 1, ss->aggression);
	xpb_str(w, 2, "contour.slowstart.aggression");
	xpb_end(w, a);
	size_t p = xpb_begin(w, 3);
	xpb_double(w, 1, (double)ss->min_weight_percent);
	xpb_end(w, p);
	xpb_end(w, s);
	xpb_end(w, m);
}

static int xds_cluster_one(xds_build_t *b, const contour_dag_cluster_t *c)
{
	xpb_t *w = &b->w;
	const contour_dag_service_t *svc = &c->service;
	const char *proto = c->protocol ? c->protocol : "";
	int tls = !strcmp(proto, "tls"), h2 = !strcmp(proto, "h2"), h2c = !strcmp(proto, "h2c");
	/* the cluster's hash covers its key (every field) and the CA's
	 * content; a TLS cluster also names the client certificate */
	const contour_dag_secret_t *client = (tls || h2) ? b->dag->client_secret : NULL;
	uint64_t src = xds_key(b, XDS_CLUSTER, client ? xds_mix(c->hash, client->hash) : c->hash);
	const xds_resource_t *prev = xds_build_prev(b, XDS_CLUSTER, src);
	if (prev) /* its name is looked up when a route needs it */
		return xds_build_copy(b, XDS_CLUSTER, prev);
	const char *name = xds_cluster_name(b, c);
	const char *client_sds = client ? xds_secret_name_cached(b, client) : NULL;
	if (!name || (client && !client_sds))
		return CONTOUR_ENOMEM;
	char eds[512];
	xds_eds_name(svc, eds, sizeof(eds));

	xpb_str(w, 1, name);
	/* STRICT_DNS (LOGICAL_DNS for the ALL family) or EDS */
	xpb_uint_always(w, 2, svc->external_name ? (b->set.dns_lookup_family == 4 ? 2 : 1) : 3);
	if (!svc->external_name) {
		size_t m = xpb_begin(w, 3);
		xds_pb_config_source(w, 1);
		xpb_str(w, 2, eds);
		xpb_end(w, m);
	}
	/* Envoy requires connect_timeout > 0: "infinity" keeps the default */
	xpb_duration_ms(w, 4, b->set.connect_timeout > 0 ? b->set.connect_timeout : 2000);
	if (b->set.per_connection_buffer_limit_bytes >= 0)
		xpb_u32value(w, 5, (uint32_t)b->set.per_connection_buffer_limit_bytes);
	static const unsigned lb[] = {
	    [CONTOUR_DAG_LB_ROUND_ROBIN] = 0,  [CONTOUR_DAG_LB_WEIGHTED_LEAST_REQUEST] = 1,
	    [CONTOUR_DAG_LB_RANDOM] = 3,       [CONTOUR_DAG_LB_COOKIE] = 2,
	    [CONTOUR_DAG_LB_REQUEST_HASH] = 2,
	};
	xpb_uint(w, 6, (unsigned)c->lb_strategy < 5 ? lb[c->lb_strategy] : 0);
	if (c->health_check)
		xds_cluster_health_check(w, c);
	xds_cluster_breakers(w, &c->circuit_breakers, &b->set);
	xpb_uint(w, 17, b->set.dns_lookup_family);
	if (tls || h2)
		xds_cluster_tls(w, c, h2, &b->set, client_sds);
	/* common_lb_config: healthy_panic_threshold 0% (an empty Percent) */
	size_t lbc = xpb_begin(w, 27);
	xpb_empty(w, 1);
	xpb_end(w, lbc);
	char alt[512];
	size_t o = 0;
	xds_cat(alt, sizeof(alt), &o, svc->namespace_);
	xds_cat(alt, sizeof(alt), &o, "_");
	xds_cat(alt, sizeof(alt), &o, svc->name);
	xds_cat(alt, sizeof(alt), &o, "_");
	xds_cat_u32(alt, sizeof(alt), &o, svc->port);
	alt[o] = 0;
	xpb_str(w, 28, alt);
	xpb_bool(w, 32, c->health_check != NULL);
	if (svc->external_name) {
		/* an inline assignment to externalName:port */
		size_t la = xpb_begin(w, 33);
		xpb_str(w, 1, eds);
		size_t le = xpb_begin(w, 2);
		size_t lbe = xpb_begin(w, 2);
		size_t ep = xpb_begin(w, 1);
		xds_pb_socket_address(w, 1, svc->external_name, svc->port);
		if (svc->health_port && svc->health_port != svc->port) {
			size_t hc = xpb_begin(w, 2);
			xpb_uint(w, 1, svc->health_port);
			xpb_end(w, hc);
		}
		xpb_end(w, ep);
		xpb_end(w, lbe);
		xpb_end(w, le);
		xpb_end(w, la);
	}
	xds_cluster_protocol_options(w, c, h2 || h2c, b->set.max_requests_per_connection);
	if (c->slow_start)
		xds_cluster_slow_start(w, c);
	return xds_build_add_src(b, XDS_CLUSTER, name, src);
}

int xds_translate_clusters(xds_build_t *b)
{
	for (size_t i = 0; i < b->dag->nclusters; i++) {
		int rc = xds_cluster_one(b, b->dag->clusters[i]);
		if (rc)
			return rc;
	}
	return CONTOUR_EOK;
}
