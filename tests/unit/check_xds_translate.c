/* tests/unit/check_xds_translate.c: the xds-grpc translation driven through
 * the real core: manifests go into the store, the httpproxy processor
 * builds a DAG, xds_translate turns it into Envoy resources, and every
 * resource is decoded again with the code protoc-c generated from the
 * module's .proto files. Asserts names and key fields as upstream Contour
 * produces them, and the validation rules Envoy applies. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <protobuf-c/protobuf-c.h>

#include "tests/unit/testutil.h"
#include "modules/xds-grpc/xds_translate.h"
#include "envoy/config/accesslog/v3/accesslog.pb-c.h"
#include "envoy/config/cluster/v3/cluster.pb-c.h"
#include "envoy/config/endpoint/v3/endpoint.pb-c.h"
#include "envoy/config/listener/v3/listener.pb-c.h"
#include "envoy/config/route/v3/route.pb-c.h"
#include "envoy/extensions/access_loggers/file/v3/file.pb-c.h"
#include "envoy/extensions/compression/brotli/compressor/v3/brotli.pb-c.h"
#include "envoy/extensions/compression/gzip/compressor/v3/gzip.pb-c.h"
#include "envoy/extensions/compression/zstd/compressor/v3/zstd.pb-c.h"
#include "envoy/extensions/filters/http/compressor/v3/compressor.pb-c.h"
#include "envoy/extensions/filters/http/cors/v3/cors.pb-c.h"
#include "envoy/extensions/filters/http/rbac/v3/rbac.pb-c.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb-c.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb-c.h"
#include "envoy/extensions/transport_sockets/tls/v3/tls.pb-c.h"
#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb-c.h"
#include "envoy/service/runtime/v3/rtds.pb-c.h"

extern const contour_module_desc_t contour_module;

typedef Envoy__Config__Listener__V3__Listener Listener;
typedef Envoy__Config__Listener__V3__FilterChain FilterChain;
typedef Envoy__Config__Route__V3__RouteConfiguration RouteConfiguration;
typedef Envoy__Config__Route__V3__VirtualHost VirtualHost;
typedef Envoy__Config__Route__V3__Route Route;
typedef Envoy__Config__Cluster__V3__Cluster Cluster;
typedef Envoy__Config__Endpoint__V3__ClusterLoadAssignment CLA;
typedef Envoy__Extensions__TransportSockets__Tls__V3__Secret Secret;
typedef Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpConnectionManager HCM;
typedef Envoy__Extensions__Filters__Network__TcpProxy__V3__TcpProxy TcpProxy;
typedef Envoy__Extensions__TransportSockets__Tls__V3__DownstreamTlsContext DownstreamTls;
typedef Envoy__Extensions__TransportSockets__Tls__V3__UpstreamTlsContext UpstreamTls;

static core_t *core;
static contour_module_t fake;
static contour_source_t *src;
static xds_snapshot_t *snap;
/* decoded messages, freed at teardown */
static ProtobufCMessage *decoded[512];
static size_t ndecoded;

static const char *xt_services =
    "apiVersion: v1\nkind: Service\nmetadata: {namespace: roots, name: home}\n"
    "spec: {ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP},\n"
    "               {name: health, port: 8081, protocol: TCP}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Service\nmetadata: {namespace: roots, name: kuard}\n"
    "spec: {ports: [{port: 80, protocol: TCP}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Service\n"
    "metadata:\n  namespace: roots\n  name: secure\n"
    "  annotations: {projectcontour.io/upstream-protocol.tls: \"443\"}\n"
    "spec: {ports: [{name: https, port: 443, protocol: TCP}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Service\n"
    "metadata:\n  namespace: roots\n  name: grpc\n"
    "  annotations: {projectcontour.io/upstream-protocol.h2c: \"9000\"}\n"
    "spec: {ports: [{port: 9000, protocol: TCP}]}\n"
    "---\n"
    "apiVersion: v1\nkind: Service\nmetadata: {namespace: marketing, name: site}\n"
    "spec: {ports: [{port: 80, protocol: TCP}]}\n"
    "---\n"
    "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
    "metadata:\n  namespace: roots\n  name: home-abc\n"
    "  labels: {kubernetes.io/service-name: home}\n"
    "addressType: IPv4\n"
    "endpoints:\n"
    "- {addresses: [10.0.0.2], conditions: {ready: true}}\n"
    "- {addresses: [10.0.0.1]}\n"
    "- {addresses: [10.0.0.9], conditions: {ready: false}}\n"
    "ports: [{name: http, port: 8080, protocol: TCP}, {name: health, port: 9090, "
    "protocol: TCP},\n"
    "        {name: http, port: 53, protocol: UDP}]\n"
    "---\n"
    "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
    "metadata:\n  namespace: roots\n  name: home-def\n"
    "  labels: {kubernetes.io/service-name: home}\n"
    "addressType: IPv4\n"
    "endpoints: [{addresses: [10.0.0.1]}, {addresses: [10.0.0.3]}]\n"
    "ports: [{name: http, port: 8080, protocol: TCP}]\n";

static void setup(void)
{
	core = core_new(NULL);
	ck_assert_ptr_nonnull(core);
	tu_log_capture_start();
	fake = (contour_module_t){.core = core, .name = "t", .state = CORE_MOD_INITIALISING};
	ck_assert_int_eq(contour_register_source(&fake, "src", &src), CONTOUR_EOK);
	ck_assert_int_eq(tu_register_delegations(&fake), CONTOUR_EOK);
	snap = NULL;
	ndecoded = 0;
}

static void teardown(void)
{
	for (size_t i = 0; i < ndecoded; i++)
		protobuf_c_message_free_unpacked(decoded[i], NULL);
	ndecoded = 0;
	xds_snapshot_unref(snap);
	snap = NULL;
	core_free(core);
	core = NULL;
	tu_log_capture_stop();
}

/* Objects without a namespace go into "default", as kubectl applies them. */
static void xt_put(const char *yaml)
{
	tu_put_docs(src, tu_yaml(yaml), 1);
}

static void xt_put_path(const char *path)
{
	tu_put_docs(src, tu_yaml_file(path), 1);
}

static void xt_start_with(const char *global)
{
	if (global)
		core->conf = tu_conf(global, NULL);
	json_t *errs = json_array();
	contour_module_t *mod = NULL;
	int rc = core_module_add_builtin(core, &contour_module, NULL, errs, &mod);
	ck_assert_msg(rc == CONTOUR_EOK, "add_builtin failed");
	json_decref(errs);
	ck_assert_int_eq(core_modules_init_start(core), CONTOUR_EOK);
	xt_put(xt_services);
	xt_put_path(tu_fixture("httpproxy/secrets.yaml"));
}

static void xt_start(void)
{
	xt_start_with(NULL);
}

/* Build and translate (the previous xds snapshot continues the versions). */
static void xt_translate(void)
{
	contour_source_set_synced(src);
	int rc = core_pipeline_build_now(core->pipeline);
	ck_assert_msg(rc == CONTOUR_EOK, "build: %s\n%s", contour_strerror(rc), tu_log_text());
	xds_snapshot_t *next = xds_translate(&fake, contour_snapshot_current(&fake), NULL, snap);
	ck_assert_ptr_nonnull(next);
	xds_snapshot_unref(snap);
	snap = next;
}

static void xt_run(const char *objects)
{
	xt_start();
	if (objects)
		xt_put(objects);
	xt_translate();
}

static void *xt_keep(ProtobufCMessage *m)
{
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_lt(ndecoded, sizeof(decoded) / sizeof(*decoded));
	decoded[ndecoded++] = m;
	return m;
}

static void *xt_decode(xds_type_t t, const char *name, const ProtobufCMessageDescriptor *d)
{
	const xds_resource_t *r = xds_snapshot_find(snap, t, name);
	ck_assert_msg(r != NULL, "no resource %s of type %d", name, (int)t);
	ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, r->len, r->bytes);
	ck_assert_msg(m != NULL, "%s does not decode", name);
	return xt_keep(m);
}

#define xt_listener(n)                                                                             \
	((Listener *)xt_decode(XDS_LISTENER, n, &envoy__config__listener__v3__listener__descriptor))
#define xt_routes(n)                                                                               \
	((RouteConfiguration *)xt_decode(                                                          \
	    XDS_ROUTE, n, &envoy__config__route__v3__route_configuration__descriptor))
#define xt_cluster(n)                                                                              \
	((Cluster *)xt_decode(XDS_CLUSTER, n, &envoy__config__cluster__v3__cluster__descriptor))
#define xt_cla(n)                                                                                  \
	((CLA *)xt_decode(XDS_ENDPOINT, n,                                                         \
	                  &envoy__config__endpoint__v3__cluster_load_assignment__descriptor))
#define xt_secret(n)                                                                               \
	((Secret *)xt_decode(XDS_SECRET, n,                                                        \
	                     &envoy__extensions__transport_sockets__tls__v3__secret__descriptor))

/* The message inside an Any, checking its type URL. */
static void *xt_any(const Google__Protobuf__Any *any, const ProtobufCMessageDescriptor *d)
{
	ck_assert_ptr_nonnull(any);
	char want[256];
	snprintf(want, sizeof(want), "type.googleapis.com/%s", d->name);
	ck_assert_str_eq(any->type_url, want);
	return xt_keep(protobuf_c_message_unpack(d, NULL, any->value.len, any->value.data));
}

static HCM *xt_hcm(const FilterChain *fc)
{
	ck_assert_uint_eq(fc->n_filters, 1);
	ck_assert_str_eq(fc->filters[0]->name, "envoy.filters.network.http_connection_manager");
	return xt_any(
	    fc->filters[0]->typed_config,
	    &envoy__extensions__filters__network__http_connection_manager__v3__http_connection_manager__descriptor);
}

static TcpProxy *xt_tcp(const FilterChain *fc)
{
	ck_assert_uint_eq(fc->n_filters, 1);
	ck_assert_str_eq(fc->filters[0]->name, "envoy.filters.network.tcp_proxy");
	return xt_any(fc->filters[0]->typed_config,
	              &envoy__extensions__filters__network__tcp_proxy__v3__tcp_proxy__descriptor);
}

static DownstreamTls *xt_dtls(const FilterChain *fc)
{
	ck_assert_ptr_nonnull(fc->transport_socket);
	ck_assert_str_eq(fc->transport_socket->name, "envoy.transport_sockets.tls");
	return xt_any(
	    fc->transport_socket->typed_config,
	    &envoy__extensions__transport_sockets__tls__v3__downstream_tls_context__descriptor);
}

static const FilterChain *xt_chain(const Listener *l, const char *sni)
{
	for (size_t i = 0; i < l->n_filter_chains; i++) {
		const FilterChain *fc = l->filter_chains[i];
		if (fc->filter_chain_match && fc->filter_chain_match->n_server_names &&
		    !strcmp(fc->filter_chain_match->server_names[0], sni))
			return fc;
	}
	ck_abort_msg("no filter chain for %s", sni);
	return NULL;
}

static const VirtualHost *xt_vhost(const RouteConfiguration *rc, const char *name)
{
	for (size_t i = 0; i < rc->n_virtual_hosts; i++)
		if (!strcmp(rc->virtual_hosts[i]->name, name))
			return rc->virtual_hosts[i];
	ck_abort_msg("no virtual host %s in %s", name, rc->name);
	return NULL;
}

/* The route whose match is prefix (or exact path) p. */
static const Route *xt_route(const VirtualHost *vh, const char *p)
{
	for (size_t i = 0; i < vh->n_routes; i++) {
		const Envoy__Config__Route__V3__RouteMatch *m = vh->routes[i]->match;
		if ((m->path_specifier_case == 1 && !strcmp(m->prefix, p)) ||
		    (m->path_specifier_case == 2 && !strcmp(m->path, p)))
			return vh->routes[i];
	}
	ck_abort_msg("no route %s in %s", p, vh->name);
	return NULL;
}

static int64_t xt_ms(const Google__Protobuf__Duration *d)
{
	ck_assert_ptr_nonnull(d);
	return d->seconds * 1000 + d->nanos / 1000000;
}

static int xt_has(xds_type_t t, const char *name)
{
	return xds_snapshot_find(snap, t, name) != NULL;
}

/* Envoy's validation rules that a generator can break, over the
 * whole snapshot: unique names, references that resolve, no unknown
 * fields, known Any types, the router last, well-formed durations and
 * weights. */
static void xt_check_message(const ProtobufCMessage *m, const char *where)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	ck_assert_msg(m->n_unknown_fields == 0, "%s: %s has unknown fields", where, d->name);
	if (!strcmp(d->name, "google.protobuf.Any")) {
		const Google__Protobuf__Any *any = (const Google__Protobuf__Any *)m;
		const char *slash = strrchr(any->type_url, '/');
		ck_assert_msg(slash && !strncmp(any->type_url, "type.googleapis.com/", 20),
		              "%s: bad type url %s", where, any->type_url);
		const ProtobufCMessageDescriptor *inner = xds_json_descriptor(slash + 1);
		ck_assert_msg(inner != NULL, "%s: unknown Any type %s", where, any->type_url);
		ProtobufCMessage *im =
		    protobuf_c_message_unpack(inner, NULL, any->value.len, any->value.data);
		ck_assert_msg(im != NULL, "%s: %s does not decode", where, any->type_url);
		xt_check_message(im, where);
		protobuf_c_message_free_unpacked(im, NULL);
		return;
	}
	if (!strcmp(d->name, "google.protobuf.Duration")) {
		const Google__Protobuf__Duration *du = (const Google__Protobuf__Duration *)m;
		ck_assert_msg(du->seconds >= 0 && du->nanos >= 0 && du->nanos < 1000000000,
		              "%s: bad duration", where);
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		const char *base = (const char *)m;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			ProtobufCMessage *const *v =
			    *(ProtobufCMessage *const *const *)(base + f->offset);
			for (size_t k = 0; k < n; k++)
				xt_check_message(v[k], where);
		} else {
			if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
				continue;
			const ProtobufCMessage *sub =
			    *(ProtobufCMessage *const *)(base + f->offset);
			if (sub)
				xt_check_message(sub, where);
		}
	}
}

static void xt_check_hcm(const HCM *h, const char *where)
{
	ck_assert_msg(h->stat_prefix && *h->stat_prefix, "%s: empty stat_prefix", where);
	ck_assert_msg(h->route_specifier_case != 0, "%s: no route specifier", where);
	if (h->route_specifier_case == 3)
		ck_assert_msg(xt_has(XDS_ROUTE, h->rds->route_config_name), "%s: RDS %s not served",
		              where, h->rds->route_config_name);
	ck_assert_uint_gt(h->n_http_filters, 0);
	for (size_t i = 0; i < h->n_http_filters; i++) {
		ck_assert_msg(h->http_filters[i]->name && *h->http_filters[i]->name, "%s", where);
		ck_assert_msg(h->http_filters[i]->config_type_case == 4, "%s: filter %s untyped",
		              where, h->http_filters[i]->name);
	}
	ck_assert_str_eq(h->http_filters[h->n_http_filters - 1]->name, "router");
}

static void xt_check_routes(const RouteConfiguration *rc)
{
	for (size_t i = 0; i < rc->n_virtual_hosts; i++) {
		const VirtualHost *vh = rc->virtual_hosts[i];
		ck_assert_msg(vh->name && *vh->name, "%s: unnamed vhost", rc->name);
		ck_assert_uint_ge(vh->n_domains, 1);
		for (size_t j = 0; j < i; j++) {
			ck_assert_str_ne(rc->virtual_hosts[j]->name, vh->name);
			ck_assert_str_ne(rc->virtual_hosts[j]->domains[0], vh->domains[0]);
		}
		for (size_t r = 0; r < vh->n_routes; r++) {
			const Route *rt = vh->routes[r];
			ck_assert_ptr_nonnull(rt->match);
			ck_assert_msg(rt->match->path_specifier_case != 0, "%s: no path", vh->name);
			if (rt->match->path_specifier_case == 14) {
				const char *p = rt->match->path_separated_prefix;
				size_t n = strlen(p);
				ck_assert_msg(n > 1 && p[n - 1] != '/',
				              "bad path_separated_prefix %s", p);
			}
			ck_assert_msg(rt->action_case != 0, "%s: route without action", vh->name);
			if (rt->action_case != 2)
				continue;
			const Envoy__Config__Route__V3__RouteAction *ra = rt->route;
			ck_assert_int_ne(ra->cluster_specifier_case, 0);
			if (ra->cluster_specifier_case == 1) {
				ck_assert_msg(xt_has(XDS_CLUSTER, ra->cluster),
				              "cluster %s not served", ra->cluster);
				continue;
			}
			uint32_t sum = 0;
			ck_assert_uint_ge(ra->weighted_clusters->n_clusters, 1);
			for (size_t k = 0; k < ra->weighted_clusters->n_clusters; k++) {
				const Envoy__Config__Route__V3__WeightedCluster__ClusterWeight *cw =
				    ra->weighted_clusters->clusters[k];
				ck_assert_msg(xt_has(XDS_CLUSTER, cw->name),
				              "cluster %s not served", cw->name);
				ck_assert_ptr_nonnull(cw->weight);
				sum += cw->weight->value;
			}
			ck_assert_uint_gt(sum, 0);
		}
	}
}

static void xt_check_snapshot(void)
{
	ck_assert_ptr_nonnull(snap);
	for (int t = 0; t < XDS_NTYPES; t++) {
		for (size_t i = 0; i < snap->nres[t]; i++) {
			if (i)
				ck_assert_msg(
				    strcmp(snap->res[t][i - 1].name, snap->res[t][i].name) < 0,
				    "type %d not sorted/unique at %s", t, snap->res[t][i].name);
			ck_assert_uint_eq(
			    snap->res[t][i].hash,
			    xds_hash_bytes(snap->res[t][i].bytes, snap->res[t][i].len));
		}
		ck_assert_msg(snap->version[t][0], "type %d has no version", t);
	}
	static const ProtobufCMessageDescriptor *const descs[XDS_NTYPES] = {
	    &envoy__config__listener__v3__listener__descriptor,
	    &envoy__config__route__v3__route_configuration__descriptor,
	    &envoy__config__cluster__v3__cluster__descriptor,
	    &envoy__config__endpoint__v3__cluster_load_assignment__descriptor,
	    &envoy__extensions__transport_sockets__tls__v3__secret__descriptor,
	    NULL,
	};
	for (int t = 0; t < XDS_RUNTIME; t++) {
		for (size_t i = 0; i < snap->nres[t]; i++) {
			const xds_resource_t *r = &snap->res[t][i];
			ProtobufCMessage *m =
			    xt_keep(protobuf_c_message_unpack(descs[t], NULL, r->len, r->bytes));
			xt_check_message(m, r->name);
			/* re-encoding gives the same bytes: field order and
			 * defaults as a proto library writes them */
			size_t n = protobuf_c_message_get_packed_size(m);
			ck_assert_msg(n == r->len, "%s: %zu bytes re-encode to %zu", r->name,
			              r->len, n);
			uint8_t *buf = malloc(n ? n : 1);
			protobuf_c_message_pack(m, buf);
			ck_assert_msg(!memcmp(buf, r->bytes, n), "%s: bytes differ on re-encoding",
			              r->name);
			free(buf);
		}
	}
	for (size_t i = 0; i < snap->nres[XDS_LISTENER]; i++) {
		const Listener *l = xt_listener(snap->res[XDS_LISTENER][i].name);
		ck_assert_ptr_nonnull(l->address);
		ck_assert_int_eq(l->address->address_case, 1);
		ck_assert_msg(l->address->socket_address->address &&
		                  *l->address->socket_address->address,
		              "%s: no address", l->name);
		ck_assert_uint_le(l->address->socket_address->port_value, 65535);
		for (size_t c = 0; c < l->n_filter_chains; c++) {
			const FilterChain *fc = l->filter_chains[c];
			for (size_t k = 0; k < c; k++) {
				/* no two chains with identical matches */
				const Envoy__Config__Listener__V3__FilterChainMatch
				    *a = fc->filter_chain_match,
				    *b = l->filter_chains[k]->filter_chain_match;
				if (!a || !b)
					continue;
				int same = a->n_server_names == b->n_server_names &&
				           !strcmp(a->transport_protocol, b->transport_protocol) &&
				           (!a->n_server_names ||
				            !strcmp(a->server_names[0], b->server_names[0]));
				ck_assert_msg(!same, "%s: duplicate filter chain match", l->name);
			}
			for (size_t k = 0; k < fc->n_filters; k++)
				ck_assert_int_eq(fc->filters[k]->config_type_case, 4);
			if (!strcmp(fc->filters[0]->name,
			            "envoy.filters.network.http_connection_manager"))
				xt_check_hcm(xt_hcm(fc), l->name);
			else {
				const TcpProxy *tp = xt_tcp(fc);
				ck_assert_msg(tp->stat_prefix && *tp->stat_prefix, "%s", l->name);
				ck_assert_int_ne(tp->cluster_specifier_case, 0);
				if (tp->cluster_specifier_case == 2)
					ck_assert(xt_has(XDS_CLUSTER, tp->cluster));
				else
					for (size_t k = 0; k < tp->weighted_clusters->n_clusters;
					     k++)
						ck_assert_uint_ge(
						    tp->weighted_clusters->clusters[k]->weight, 1);
			}
			if (fc->transport_socket) {
				const DownstreamTls *dt = xt_dtls(fc);
				for (size_t k = 0;
				     k <
				     dt->common_tls_context->n_tls_certificate_sds_secret_configs;
				     k++)
					ck_assert(xt_has(XDS_SECRET,
					                 dt->common_tls_context
					                     ->tls_certificate_sds_secret_configs[k]
					                     ->name));
			}
		}
	}
	for (size_t i = 0; i < snap->nres[XDS_ROUTE]; i++)
		xt_check_routes(xt_routes(snap->res[XDS_ROUTE][i].name));
	for (size_t i = 0; i < snap->nres[XDS_CLUSTER]; i++) {
		const Cluster *c = xt_cluster(snap->res[XDS_CLUSTER][i].name);
		ck_assert_msg(xt_ms(c->connect_timeout) > 0, "%s: connect_timeout 0", c->name);
		if (c->type == ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__EDS) {
			ck_assert_ptr_nonnull(c->eds_cluster_config);
			ck_assert_ptr_nonnull(c->eds_cluster_config->eds_config);
			ck_assert_ptr_null(c->load_assignment);
			ck_assert_msg(xt_has(XDS_ENDPOINT, c->eds_cluster_config->service_name),
			              "%s: no CLA %s", c->name,
			              c->eds_cluster_config->service_name);
		}
		for (size_t k = 0; k < c->n_health_checks; k++) {
			ck_assert_int_gt(xt_ms(c->health_checks[k]->timeout), 0);
			ck_assert_int_gt(xt_ms(c->health_checks[k]->interval), 0);
			ck_assert_ptr_nonnull(c->health_checks[k]->unhealthy_threshold);
			ck_assert_ptr_nonnull(c->health_checks[k]->healthy_threshold);
			ck_assert_int_ne(c->health_checks[k]->health_checker_case, 0);
		}
	}
	for (size_t i = 0; i < snap->nres[XDS_ENDPOINT]; i++) {
		const CLA *cla = xt_cla(snap->res[XDS_ENDPOINT][i].name);
		ck_assert_msg(cla->cluster_name && *cla->cluster_name, "empty cluster_name");
		for (size_t k = 0; k < cla->n_endpoints; k++)
			ck_assert(!cla->endpoints[k]->load_balancing_weight ||
			          cla->endpoints[k]->load_balancing_weight->value >= 1);
	}
}

/* Clusters are named as upstream's Clustername: the SHA-1 known values. */
static void xt_name_of(contour_dag_cluster_t *c, char *out)
{
	xds_cluster_name_of(c, out, 128);
}

START_TEST(cluster_names)
{
	contour_dag_cluster_t c = {.service = {"default", "kuard", 8080, "", NULL, 0, NULL},
	                           .protocol = "",
	                           .idle_connection_timeout_ms = CONTOUR_DAG_TIMEOUT_DEFAULT};
	char out[128];
	xt_name_of(&c, out);
	ck_assert_str_eq(out, "default/kuard/8080/da39a3ee5e");
	c.protocol = "tls";
	xt_name_of(&c, out);
	ck_assert_str_eq(out, "default/kuard/8080/4929fca9d4");
	c.protocol = "h2";
	xt_name_of(&c, out);
	ck_assert_str_eq(out, "default/kuard/8080/bf1c365741");
	c.protocol = "h2c";
	xt_name_of(&c, out);
	ck_assert_str_eq(out, "default/kuard/8080/f4f94965ec");
	c.protocol = "";
	c.lb_strategy = CONTOUR_DAG_LB_COOKIE;
	xt_name_of(&c, out);
	ck_assert_str_eq(out, "default/kuard/8080/e4f81994fe");
	c.lb_strategy = CONTOUR_DAG_LB_ROUND_ROBIN;
	contour_dag_secret_t ca = {.namespace_ = "default",
	                           .name = "backendcacert",
	                           .type = CONTOUR_DAG_SECRET_CA,
	                           .ca = "x"};
	const char *sans[] = {"subjname"};
	c.validation_ca = &ca;
	c.subject_names = sans;
	c.nsubject_names = 1;
	c.protocol = "tls";
	xt_name_of(&c, out);
	ck_assert_str_eq(out, "default/kuard/8080/950c17581f");
	c.validation_ca = NULL;
	c.subject_names = NULL;
	c.nsubject_names = 0;
	c.protocol = "";
	c.idle_connection_timeout_ms = 180000;
	xt_name_of(&c, out);
	ck_assert_str_eq(out, "default/kuard/8080/b7427dbbf9");
}
END_TEST

START_TEST(hashname_and_durations)
{
	char out[128], d[32];
	const char *short_parts[] = {"a", "b"};
	xds_hashname(out, sizeof(out), 60, short_parts, 2);
	ck_assert_str_eq(out, "a/b");
	/* upstream's Hashname test: each part truncated to l/len(s) with a
	 * short SHA-256 suffix, last part first */
	const char *parts[] = {"a-very-long-namespace-name-that-goes-on",
	                       "a-very-long-service-name-that-goes-on-and-on", "8080",
	                       "da39a3ee5e"};
	xds_hashname(out, sizeof(out), 60, parts, 4);
	ck_assert_uint_lt(strlen(out), 60);
	ck_assert_ptr_nonnull(strstr(out, "/8080/da39a3ee5e"));
	ck_assert_int_eq(strncmp(out, "a-very-", 7), 0);
	contour_duration_format(180000, d, sizeof(d));
	ck_assert_str_eq(d, "3m0s");
	contour_duration_format(2000, d, sizeof(d));
	ck_assert_str_eq(d, "2s");
	contour_duration_format(1500, d, sizeof(d));
	ck_assert_str_eq(d, "1.5s");
	contour_duration_format(250, d, sizeof(d));
	ck_assert_str_eq(d, "250ms");
	contour_duration_format(3600000, d, sizeof(d));
	ck_assert_str_eq(d, "1h0m0s");
	contour_duration_format(0, d, sizeof(d));
	ck_assert_str_eq(d, "0s");
}
END_TEST

#define XT_ROOT(name, fqdn, routes)                                                                \
	"---\napiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"                                 \
	"metadata: {namespace: roots, name: " name "}\n"                                           \
	"spec:\n  virtualhost: {fqdn: " fqdn "}\n  routes: " routes "\n"
#define XT_TLSROOT(name, fqdn, tls, routes)                                                        \
	"---\napiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"                                 \
	"metadata: {namespace: roots, name: " name "}\n"                                           \
	"spec:\n  virtualhost: {fqdn: " fqdn ", tls: " tls "}\n  routes: " routes "\n"

START_TEST(http_basic)
{
	xt_run(XT_ROOT("basic", "basic.example.com",
	               "[{conditions: [{prefix: /}], services: [{name: home, port: 80}]},"
	               " {conditions: [{prefix: /kuard}], services: [{name: kuard, port: 80}],"
	               "  timeoutPolicy: {response: 3s, idle: infinity},"
	               "  retryPolicy: {count: 2, perTryTimeout: 150ms}}]"));
	xt_check_snapshot();
	/* listeners: ingress_http and the static ones; no HTTPS listener */
	ck_assert_uint_eq(snap->nres[XDS_LISTENER], 3);
	ck_assert(!xt_has(XDS_LISTENER, "ingress_https"));
	const Listener *l = xt_listener("ingress_http");
	ck_assert_str_eq(l->address->socket_address->address, "0.0.0.0");
	ck_assert_uint_eq(l->address->socket_address->port_value, 8080);
	ck_assert_uint_eq(l->n_listener_filters, 0);
	ck_assert_uint_eq(l->n_socket_options, 4);
	ck_assert_int_eq(l->socket_options[1]->int_value, 45);
	ck_assert_uint_eq(l->n_filter_chains, 1);
	const HCM *h = xt_hcm(l->filter_chains[0]);
	ck_assert_str_eq(h->stat_prefix, "ingress_http");
	ck_assert_str_eq(h->rds->route_config_name, "ingress_http");
	ck_assert_int_eq(h->rds->config_source->config_source_specifier_case, 2);
	ck_assert_str_eq(
	    h->rds->config_source->api_config_source->grpc_services[0]->envoy_grpc->cluster_name,
	    "contour");
	static const char *const filters[] = {"envoy.filters.http.compressor",
	                                      "envoy.filters.http.grpc_web",
	                                      "envoy.filters.http.grpc_stats",
	                                      "envoy.filters.http.cors",
	                                      "envoy.filters.http.local_ratelimit",
	                                      "envoy.filters.http.lua",
	                                      "envoy.filters.http.rbac",
	                                      "router"};
	ck_assert_uint_eq(h->n_http_filters, 8);
	for (size_t i = 0; i < 8; i++)
		ck_assert_str_eq(h->http_filters[i]->name, filters[i]);
	ck_assert(h->use_remote_address && h->use_remote_address->value);
	ck_assert(h->normalize_path && h->normalize_path->value);
	ck_assert(h->http_protocol_options->accept_http_10);
	ck_assert(h->preserve_external_request_id && h->merge_slashes);
	ck_assert_int_eq(xt_ms(h->common_http_protocol_options->idle_timeout), 60000);
	ck_assert_uint_eq(h->n_access_log, 1);
	const Envoy__Extensions__AccessLoggers__File__V3__FileAccessLog *al =
	    xt_any(h->access_log[0]->typed_config,
	           &envoy__extensions__access_loggers__file__v3__file_access_log__descriptor);
	ck_assert_str_eq(al->path, "/dev/stdout");

	const Listener *stats = xt_listener("stats-health");
	ck_assert_uint_eq(stats->address->socket_address->port_value, 8002);
	ck_assert(stats->ignore_global_conn_limit);
	const HCM *sh = xt_hcm(stats->filter_chains[0]);
	ck_assert_str_eq(sh->stat_prefix, "stats");
	ck_assert_int_eq(sh->route_specifier_case, 4);
	const VirtualHost *backend = sh->route_config->virtual_hosts[0];
	ck_assert_str_eq(backend->name, "backend");
	ck_assert_uint_eq(backend->n_routes, 3);
	ck_assert_str_eq(backend->routes[0]->match->path, "/ready");
	ck_assert_str_eq(backend->routes[0]->match->headers[0]->string_match->exact, "GET");
	ck_assert_str_eq(backend->routes[0]->route->cluster, "envoy-admin");
	const Listener *admin = xt_listener("envoy-admin");
	ck_assert_str_eq(admin->address->socket_address->address, "127.0.0.1");
	ck_assert_uint_eq(admin->address->socket_address->port_value, 9001);
	ck_assert_uint_eq(xt_hcm(admin->filter_chains[0])->route_config->virtual_hosts[0]->n_routes,
	                  11);

	/* routes: longest prefix first, plain cluster for one backend */
	const RouteConfiguration *rc = xt_routes("ingress_http");
	ck_assert(rc->ignore_port_in_host_matching);
	ck_assert_str_eq(rc->request_headers_to_add[0]->header->key, "x-request-start");
	const VirtualHost *vh = xt_vhost(rc, "basic.example.com");
	ck_assert_str_eq(vh->domains[0], "basic.example.com");
	ck_assert_uint_eq(vh->n_routes, 2);
	ck_assert_str_eq(vh->routes[0]->match->prefix, "/kuard");
	ck_assert_str_eq(vh->routes[1]->match->prefix, "/");
	ck_assert_int_eq(vh->routes[1]->action_case, 2);
	ck_assert_str_eq(vh->routes[1]->route->cluster, "roots/home/80/da39a3ee5e");
	const Envoy__Config__Route__V3__RouteAction *ra = vh->routes[0]->route;
	ck_assert_str_eq(ra->cluster, "roots/kuard/80/da39a3ee5e");
	ck_assert_int_eq(xt_ms(ra->timeout), 3000);
	ck_assert_int_eq(xt_ms(ra->idle_timeout), 0);
	ck_assert_ptr_nonnull(ra->retry_policy);
	ck_assert_str_eq(ra->retry_policy->retry_on, "5xx");
	ck_assert_uint_eq(ra->retry_policy->num_retries->value, 2);
	ck_assert_int_eq(xt_ms(ra->retry_policy->per_try_timeout), 150);
	ck_assert_ptr_null(vh->routes[1]->route->timeout);
	/* origin metadata for access logs */
	ck_assert_ptr_nonnull(vh->routes[1]->metadata);
	ck_assert_str_eq(vh->routes[1]->metadata->filter_metadata[0]->key,
	                 "envoy.access_loggers.file");

	/* clusters and endpoints */
	const Cluster *c = xt_cluster("roots/home/80/da39a3ee5e");
	ck_assert_int_eq(c->type, ENVOY__CONFIG__CLUSTER__V3__CLUSTER__DISCOVERY_TYPE__EDS);
	ck_assert_str_eq(c->eds_cluster_config->service_name, "roots/home/http");
	ck_assert_str_eq(c->alt_stat_name, "roots_home_80");
	ck_assert_int_eq(xt_ms(c->connect_timeout), 2000);
	ck_assert_ptr_nonnull(c->common_lb_config->healthy_panic_threshold);
	ck_assert_uint_eq(c->n_typed_extension_protocol_options, 0);
	ck_assert_ptr_null(c->transport_socket);
	ck_assert_str_eq(xt_cluster("roots/kuard/80/da39a3ee5e")->eds_cluster_config->service_name,
	                 "roots/kuard");
	const CLA *cla = xt_cla("roots/home/http");
	ck_assert_uint_eq(cla->n_endpoints, 1);
	/* 10.0.0.9 is not ready, the UDP port and the duplicate are dropped;
	 * the named health port becomes health_check_config */
	ck_assert_uint_eq(cla->endpoints[0]->n_lb_endpoints, 3);
	ck_assert_ptr_null(cla->endpoints[0]->load_balancing_weight);
	static const char *const ips[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
	for (size_t i = 0; i < 3; i++) {
		const Envoy__Config__Endpoint__V3__Endpoint *ep =
		    cla->endpoints[0]->lb_endpoints[i]->endpoint;
		ck_assert_str_eq(ep->address->socket_address->address, ips[i]);
		ck_assert_uint_eq(ep->address->socket_address->port_value, 8080);
	}
	/* no slices for kuard: an empty assignment */
	ck_assert_uint_eq(xt_cla("roots/kuard")->n_endpoints, 0);
	ck_assert_uint_eq(snap->nres[XDS_SECRET], 0);
	ck_assert_uint_eq(snap->nres[XDS_RUNTIME], 1);
}
END_TEST

START_TEST(https_redirect_and_secrets)
{
	xt_run(XT_TLSROOT("tls", "tls.example.com",
	                  "{secretName: tls-cert, minimumProtocolVersion: \"1.3\"}",
	                  "[{conditions: [{prefix: /}], services: [{name: home, port: 80}]},"
	                  " {conditions: [{prefix: /insecure}], permitInsecure: true,"
	                  "  services: [{name: kuard, port: 80}]}]"));
	xt_check_snapshot();
	/* plain listener: / redirects to https, /insecure is proxied */
	const VirtualHost *vh = xt_vhost(xt_routes("ingress_http"), "tls.example.com");
	const Route *r = xt_route(vh, "/");
	ck_assert_int_eq(r->action_case, 3);
	ck_assert(r->redirect->https_redirect);
	ck_assert_uint_eq(r->n_typed_per_filter_config, 1);
	ck_assert_str_eq(r->typed_per_filter_config[0]->key, "envoy.filters.http.ext_authz");
	ck_assert_int_eq(xt_route(vh, "/insecure")->action_case, 2);
	/* the secure route config */
	const RouteConfiguration *rc = xt_routes("https/tls.example.com");
	ck_assert_uint_eq(rc->n_virtual_hosts, 1);
	const Route *sr = xt_route(rc->virtual_hosts[0], "/");
	ck_assert_int_eq(sr->action_case, 2);
	ck_assert_str_eq(sr->route->cluster, "roots/home/80/da39a3ee5e");
	/* listener: one chain by SNI with TLS 1.3 and the SDS secret */
	const Listener *l = xt_listener("ingress_https");
	ck_assert_uint_eq(l->address->socket_address->port_value, 8443);
	ck_assert_uint_eq(l->n_listener_filters, 1);
	ck_assert_str_eq(l->listener_filters[0]->name, "envoy.filters.listener.tls_inspector");
	ck_assert_uint_eq(l->n_filter_chains, 1);
	const FilterChain *fc = xt_chain(l, "tls.example.com");
	const HCM *h = xt_hcm(fc);
	ck_assert_str_eq(h->stat_prefix, "ingress_https");
	ck_assert_str_eq(h->rds->route_config_name, "https/tls.example.com");
	ck_assert_str_eq(h->http_filters[0]->name, "envoy.filters.http.lua"); /* misdirected */
	ck_assert_uint_eq(h->n_http_filters, 9);
	const DownstreamTls *dt = xt_dtls(fc);
	const Envoy__Extensions__TransportSockets__Tls__V3__CommonTlsContext *ctx =
	    dt->common_tls_context;
	ck_assert_int_eq(ctx->tls_params->tls_minimum_protocol_version, 4);
	ck_assert_int_eq(ctx->tls_params->tls_maximum_protocol_version, 4);
	ck_assert_uint_eq(ctx->n_alpn_protocols, 2);
	ck_assert_str_eq(ctx->alpn_protocols[0], "h2");
	ck_assert_str_eq(ctx->alpn_protocols[1], "http/1.1");
	ck_assert_uint_eq(ctx->n_tls_certificate_sds_secret_configs, 1);
	const char *sds = ctx->tls_certificate_sds_secret_configs[0]->name;
	ck_assert_int_eq(strncmp(sds, "roots/tls-cert/", 15), 0);
	ck_assert_uint_eq(strlen(sds), 25);
	ck_assert_ptr_null(dt->require_client_certificate);
	/* the secret: inline chain and key, named as upstream's Secretname */
	ck_assert_uint_eq(snap->nres[XDS_SECRET], 1);
	const Secret *s = xt_secret(sds);
	ck_assert_int_eq(s->type_case, 2);
	const contour_dag_secret_t *ds =
	    contour_snapshot_dag(contour_snapshot_current(&fake))->svhosts[0]->secret;
	char want[128];
	xds_secret_name(ds, want, sizeof(want));
	ck_assert_str_eq(sds, want);
	ck_assert_uint_eq(s->tls_certificate->certificate_chain->inline_bytes.len,
	                  strlen(ds->cert));
	ck_assert_uint_eq(s->tls_certificate->private_key->inline_bytes.len, strlen(ds->key));
	ck_assert_int_eq(
	    memcmp(s->tls_certificate->private_key->inline_bytes.data, ds->key, strlen(ds->key)),
	    0);
	/* the key never reaches the JSON rendering, nor the log */
	json_t *j = xds_snapshot_to_json(snap);
	char *text = json_dumps(j, JSON_COMPACT);
	ck_assert_ptr_null(strstr(text, "PRIVATE KEY"));
	ck_assert_ptr_null(strstr(text, "LS0tLS1CRUdJTiBQUklWQVRF")); /* base64 of it */
	ck_assert_ptr_nonnull(strstr(text, "\"private_key\":\"[redacted]\""));
	ck_assert_ptr_null(strstr(tu_log_text(), "PRIVATE KEY"));
	free(text);
	json_decref(j);
}
END_TEST

START_TEST(upstream_tls_validation)
{
	xt_run(XT_ROOT("up", "up.example.com",
	               "[{services: [{name: secure, port: 443,"
	               "   validation: {caSecret: ca, subjectName: backend.example.com}}]},"
	               " {conditions: [{prefix: /grpc}], services: [{name: grpc, port: 9000}]}]"));
	xt_check_snapshot();
	const VirtualHost *vh = xt_vhost(xt_routes("ingress_http"), "up.example.com");
	const char *name = xt_route(vh, "/")->route->cluster;
	ck_assert_int_eq(strncmp(name, "roots/secure/443/", 17), 0);
	ck_assert_str_ne(name, "roots/secure/443/4929fca9d4"); /* validation is in the hash */
	const Cluster *c = xt_cluster(name);
	ck_assert_str_eq(c->eds_cluster_config->service_name, "roots/secure/https");
	ck_assert_ptr_nonnull(c->transport_socket);
	ck_assert_str_eq(c->transport_socket->name, "envoy.transport_sockets.tls");
	const UpstreamTls *ut = xt_any(
	    c->transport_socket->typed_config,
	    &envoy__extensions__transport_sockets__tls__v3__upstream_tls_context__descriptor);
	const Envoy__Extensions__TransportSockets__Tls__V3__CertificateValidationContext *vc =
	    ut->common_tls_context->validation_context;
	ck_assert_int_eq(ut->common_tls_context->validation_context_type_case, 3);
	ck_assert_uint_gt(vc->trusted_ca->inline_bytes.len, 0);
	ck_assert_uint_eq(vc->n_match_typed_subject_alt_names, 1);
	ck_assert_int_eq(vc->match_typed_subject_alt_names[0]->san_type, 2);
	ck_assert_str_eq(vc->match_typed_subject_alt_names[0]->matcher->exact,
	                 "backend.example.com");
	ck_assert_uint_eq(ut->common_tls_context->n_alpn_protocols, 0);
	/* upstream's default UpstreamTLS: 1.2 to 1.3, Contour's ciphers */
	const Envoy__Extensions__TransportSockets__Tls__V3__TlsParameters *tp =
	    ut->common_tls_context->tls_params;
	ck_assert_ptr_nonnull(tp);
	ck_assert_int_eq(tp->tls_minimum_protocol_version, 3);
	ck_assert_int_eq(tp->tls_maximum_protocol_version, 4);
	ck_assert_uint_eq(tp->n_cipher_suites, 4);
	ck_assert_str_eq(tp->cipher_suites[2], "ECDHE-ECDSA-AES256-GCM-SHA384");
	ck_assert_uint_eq(tp->n_ecdh_curves, 0);
	/* h2c: HTTP/2 protocol options, no TLS */
	const Cluster *g = xt_cluster("roots/grpc/9000/f4f94965ec");
	ck_assert_ptr_null(g->transport_socket);
	ck_assert_uint_eq(g->n_typed_extension_protocol_options, 1);
	ck_assert_str_eq(g->typed_extension_protocol_options[0]->key,
	                 "envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
	const Envoy__Extensions__Upstreams__Http__V3__HttpProtocolOptions *po =
	    xt_any(g->typed_extension_protocol_options[0]->value,
	           &envoy__extensions__upstreams__http__v3__http_protocol_options__descriptor);
	ck_assert_int_eq(po->explicit_http_config->protocol_config_case, 2);
}
END_TEST

START_TEST(tcpproxy_passthrough_and_termination)
{
	xt_run("apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
	       "metadata: {namespace: roots, name: pass}\n"
	       "spec:\n  virtualhost: {fqdn: pass.example.com, tls: {passthrough: true}}\n"
	       "  tcpproxy: {services: [{name: secure, port: 443}]}\n"
	       "---\n"
	       "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
	       "metadata: {namespace: roots, name: term}\n"
	       "spec:\n  virtualhost: {fqdn: term.example.com, tls: {secretName: tls-cert}}\n"
	       "  tcpproxy: {services: [{name: home, port: 80, weight: 0},"
	       "                        {name: kuard, port: 80, weight: 0}]}\n");
	xt_check_snapshot();
	const Listener *l = xt_listener("ingress_https");
	ck_assert_uint_eq(l->n_filter_chains, 2);
	ck_assert_str_eq(l->filter_chains[0]->filter_chain_match->server_names[0],
	                 "pass.example.com");
	const FilterChain *pass = xt_chain(l, "pass.example.com");
	ck_assert_ptr_null(pass->transport_socket);
	const TcpProxy *tp = xt_tcp(pass);
	ck_assert_str_eq(tp->stat_prefix, "ingress_https");
	ck_assert_int_eq(tp->cluster_specifier_case, 2);
	ck_assert_int_eq(strncmp(tp->cluster, "roots/secure/443/", 17), 0);
	ck_assert_int_eq(xt_ms(tp->idle_timeout), 9001000);
	const FilterChain *term = xt_chain(l, "term.example.com");
	const DownstreamTls *dt = xt_dtls(term);
	ck_assert_uint_eq(dt->common_tls_context->n_alpn_protocols, 0);
	const TcpProxy *tt = xt_tcp(term);
	/* all weights zero: every backend, evenly */
	ck_assert_int_eq(tt->cluster_specifier_case, 10);
	ck_assert_uint_eq(tt->weighted_clusters->n_clusters, 2);
	ck_assert_str_eq(tt->weighted_clusters->clusters[0]->name, "roots/home/80/da39a3ee5e");
	ck_assert_uint_eq(tt->weighted_clusters->clusters[0]->weight, 1);
	ck_assert_uint_eq(tt->weighted_clusters->clusters[1]->weight, 1);
	/* no HTTP routes: no ingress_http listener, but the route config */
	ck_assert(!xt_has(XDS_LISTENER, "ingress_http"));
	ck_assert(xt_has(XDS_ROUTE, "ingress_http"));
	ck_assert(!xt_has(XDS_ROUTE, "https/pass.example.com"));
}
END_TEST

START_TEST(weights_and_inclusion)
{
	xt_run(XT_ROOT("root", "inc.example.com",
	               "[{conditions: [{prefix: /zero}], services: [{name: home, port: 80, "
	               "weight: 0}, {name: kuard, port: 80, weight: 0}]},"
	               " {conditions: [{prefix: /split}], services: [{name: kuard, port: 80, "
	               "weight: 90}, {name: home, port: 80, weight: 10}]},"
	               " {conditions: [{prefix: /exact}, {header: {name: x-a, present: true}}],"
	               "  services: [{name: home, port: 80}]},"
	               " {conditions: [{prefix: /exact}], services: [{name: home, port: 80}]}]\n"
	               "  includes: [{name: site, namespace: marketing, conditions: [{prefix: "
	               "/blog}]}]") "---\n"
	                            "apiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
	                            "metadata: {namespace: marketing, name: site}\n"
	                            "spec:\n  routes: [{services: [{name: site, port: 80}]},"
	                            " {conditions: [{prefix: /static}], services: [{name: site, "
	                            "port: 80}]}]\n");
	xt_check_snapshot();
	const VirtualHost *vh = xt_vhost(xt_routes("ingress_http"), "inc.example.com");
	/* upstream's order: longest prefix first; equal lengths in reverse
	 * lexical order; equal prefixes by header count */
	static const char *const order[] = {"/blog/static", "/split", "/exact",
	                                    "/exact",       "/zero",  "/blog"};
	ck_assert_uint_eq(vh->n_routes, 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_str_eq(vh->routes[i]->match->prefix, order[i]);
	ck_assert_uint_eq(vh->routes[2]->match->n_headers, 1);
	ck_assert_uint_eq(vh->routes[3]->match->n_headers, 0);
	ck_assert_str_eq(vh->routes[5]->route->cluster, "marketing/site/80/da39a3ee5e");
	ck_assert_str_eq(vh->routes[0]->route->cluster, "marketing/site/80/da39a3ee5e");
	const Envoy__Config__Route__V3__WeightedCluster *wz =
	    vh->routes[4]->route->weighted_clusters;
	ck_assert_int_eq(vh->routes[4]->route->cluster_specifier_case, 3);
	ck_assert_uint_eq(wz->n_clusters, 2);
	ck_assert_uint_eq(wz->clusters[0]->weight->value, 1);
	ck_assert_uint_eq(wz->clusters[1]->weight->value, 1);
	const Envoy__Config__Route__V3__WeightedCluster *ws =
	    vh->routes[1]->route->weighted_clusters;
	/* sorted by name, then weight */
	ck_assert_str_eq(ws->clusters[0]->name, "roots/home/80/da39a3ee5e");
	ck_assert_uint_eq(ws->clusters[0]->weight->value, 10);
	ck_assert_str_eq(ws->clusters[1]->name, "roots/kuard/80/da39a3ee5e");
	ck_assert_uint_eq(ws->clusters[1]->weight->value, 90);
}
END_TEST

START_TEST(versions_follow_content)
{
	xt_run(XT_ROOT("basic", "basic.example.com", "[{services: [{name: home, port: 80}]}]"));
	char v[XDS_NTYPES][40];
	memcpy(v, snap->version, sizeof(v));
	/* nothing changed: same versions */
	xt_translate();
	for (int t = 0; t < XDS_NTYPES; t++)
		ck_assert_str_eq(snap->version[t], v[t]);
	/* an endpoint changes: only EDS moves on */
	xt_put("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	       "metadata:\n  namespace: roots\n  name: home-xyz\n"
	       "  labels: {kubernetes.io/service-name: home}\n"
	       "endpoints: [{addresses: [10.0.0.7]}]\n"
	       "ports: [{name: http, port: 8080, protocol: TCP}]\n");
	xt_translate();
	for (int t = 0; t < XDS_NTYPES; t++)
		if (t == XDS_ENDPOINT)
			ck_assert_str_ne(snap->version[t], v[t]);
		else
			ck_assert_str_eq(snap->version[t], v[t]);
	ck_assert_uint_eq(xt_cla("roots/home/http")->endpoints[0]->n_lb_endpoints, 4);
	ck_assert_int_eq(strncmp(snap->version[XDS_ENDPOINT], "2-", 2), 0);
}
END_TEST

START_TEST(json_rendering)
{
	xt_run(XT_ROOT("basic", "basic.example.com", "[{services: [{name: home, port: 80}]}]"));
	json_t *j = xds_snapshot_to_json(snap);
	ck_assert_ptr_nonnull(j);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "listeners")), 3);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "clusters")), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "secrets")), 0);
	json_t *c = json_array_get(json_object_get(j, "clusters"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(c, "name")), "roots/home/80/da39a3ee5e");
	ck_assert_str_eq(json_string_value(json_object_get(c, "type")), "EDS");
	ck_assert_str_eq(json_string_value(json_object_get(c, "connect_timeout")), "2s");
	json_t *l = NULL, *it;
	size_t i;
	json_array_foreach(
	    json_object_get(j, "listeners"), i,
	    it) if (!strcmp(json_string_value(json_object_get(it, "name")), "ingress_http")) l = it;
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(
	        json_object_get(json_object_get(l, "address"), "socket_address"), "port_value")),
	    8080);
	json_t *hcm = json_object_get(
	    json_array_get(
	        json_object_get(json_array_get(json_object_get(l, "filter_chains"), 0), "filters"),
	        0),
	    "typed_config");
	ck_assert_str_eq(json_string_value(json_object_get(hcm, "@type")),
	                 "type.googleapis.com/envoy.extensions.filters.network."
	                 "http_connection_manager.v3.HttpConnectionManager");
	ck_assert(json_is_true(json_object_get(hcm, "use_remote_address")));
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(json_object_get(l, "socket_options"), 1), "level")),
	                 "6");
	json_decref(j);
}
END_TEST

#define XT_HOME "[{services: [{name: home, port: 80}]}]"

START_TEST(client_validation)
{
	xt_run(XT_TLSROOT("cv", "cv.example.com",
	                  "{secretName: tls-cert, clientValidation: {caSecret: ca,"
	                  " optionalClientCertificate: true,"
	                  " forwardClientCertificate: {subject: true, dns: true}}}",
	                  XT_HOME) XT_TLSROOT("skip", "skip.example.com",
	                                      "{secretName: tls-cert, clientValidation: "
	                                      "{skipClientCertValidation: true}}",
	                                      XT_HOME));
	xt_check_snapshot();
	const Listener *l = xt_listener("ingress_https");
	const FilterChain *cv = xt_chain(l, "cv.example.com");
	const DownstreamTls *dt = xt_dtls(cv);
	ck_assert_int_eq(dt->common_tls_context->validation_context_type_case, 3);
	const Envoy__Extensions__TransportSockets__Tls__V3__CertificateValidationContext *vc =
	    dt->common_tls_context->validation_context;
	ck_assert_uint_gt(vc->trusted_ca->inline_bytes.len, 0);
	ck_assert_int_eq(vc->trust_chain_verification, 0);
	ck_assert_uint_eq(vc->n_match_typed_subject_alt_names, 0);
	ck_assert_ptr_nonnull(dt->require_client_certificate);
	ck_assert(!dt->require_client_certificate->value);
	const HCM *h = xt_hcm(cv);
	ck_assert_int_eq(
	    h->forward_client_cert_details,
	    ENVOY__EXTENSIONS__FILTERS__NETWORK__HTTP_CONNECTION_MANAGER__V3__HTTP_CONNECTION_MANAGER__FORWARD_CLIENT_CERT_DETAILS__SANITIZE_SET);
	ck_assert(h->set_current_client_cert_details->subject->value);
	ck_assert(h->set_current_client_cert_details->dns);
	ck_assert(!h->set_current_client_cert_details->cert);
	const DownstreamTls *sk = xt_dtls(xt_chain(l, "skip.example.com"));
	ck_assert_int_eq(sk->common_tls_context->validation_context->trust_chain_verification, 1);
	ck_assert(sk->require_client_certificate->value);
	ck_assert_int_eq(xt_hcm(xt_chain(l, "skip.example.com"))->forward_client_cert_details, 0);
}
END_TEST

START_TEST(fallback_certificate)
{
	xt_start_with(
	    "tls:\n  fallback-certificate: {namespace: projectcontour, name: fallback}\n");
	xt_put(
	    "apiVersion: projectcontour.io/v1\nkind: TLSCertificateDelegation\n"
	    "metadata: {namespace: projectcontour, name: fallback}\n"
	    "spec: {delegations: [{secretName: fallback, targetNamespaces: [\"*\"]}]}\n" XT_TLSROOT(
	        "fb", "fb.example.com", "{secretName: tls-cert, enableFallbackCertificate: true}",
	        XT_HOME)
	        XT_TLSROOT("plain", "plain.example.com", "{secretName: tls-cert}", XT_HOME));
	xt_translate();
	xt_check_snapshot();
	const Listener *l = xt_listener("ingress_https");
	ck_assert_uint_eq(l->n_filter_chains, 3);
	/* SNI chains first, sorted, then the fallback chain */
	ck_assert_str_eq(l->filter_chains[0]->filter_chain_match->server_names[0],
	                 "fb.example.com");
	ck_assert_str_eq(l->filter_chains[1]->filter_chain_match->server_names[0],
	                 "plain.example.com");
	const FilterChain *fc = l->filter_chains[2];
	ck_assert_str_eq(fc->name, "fallback-certificate");
	ck_assert_uint_eq(fc->filter_chain_match->n_server_names, 0);
	ck_assert_str_eq(fc->filter_chain_match->transport_protocol, "tls");
	const HCM *h = xt_hcm(fc);
	ck_assert_str_eq(h->rds->route_config_name, "ingress_fallbackcert");
	ck_assert_str_ne(h->http_filters[0]->name, "envoy.filters.http.lua");
	const DownstreamTls *dt = xt_dtls(fc);
	const char *sds = dt->common_tls_context->tls_certificate_sds_secret_configs[0]->name;
	ck_assert_int_eq(strncmp(sds, "projectcontour/fallback/", 24), 0);
	ck_assert(xt_has(XDS_SECRET, sds));
	ck_assert_uint_eq(snap->nres[XDS_SECRET], 2);
	const RouteConfiguration *rc = xt_routes("ingress_fallbackcert");
	ck_assert_uint_eq(rc->n_virtual_hosts, 1);
	ck_assert_str_eq(rc->virtual_hosts[0]->name, "fb.example.com");
}
END_TEST

/* timeouts.*: the HCM of every HTTP listener and the clusters' connect
 * timeout; "infinity" is a zero Duration, unset ones are omitted. */
START_TEST(global_timeouts)
{
	xt_start_with("timeouts:\n  request-timeout: 30s\n  connection-idle-timeout: infinity\n"
	              "  stream-idle-timeout: 5m\n  max-connection-duration: 1h\n"
	              "  delayed-close-timeout: 2s\n  connection-shutdown-grace-period: 10s\n"
	              "  connect-timeout: 5s\n");
	xt_put(XT_ROOT("basic", "basic.example.com", XT_HOME)
	           XT_TLSROOT("tls", "tls.example.com", "{secretName: tls-cert}", XT_HOME));
	xt_translate();
	xt_check_snapshot();
	const HCM *hs[] = {xt_hcm(xt_listener("ingress_http")->filter_chains[0]),
	                   xt_hcm(xt_chain(xt_listener("ingress_https"), "tls.example.com"))};
	for (size_t i = 0; i < 2; i++) {
		const HCM *h = hs[i];
		ck_assert_int_eq(xt_ms(h->request_timeout), 30000);
		ck_assert_int_eq(xt_ms(h->common_http_protocol_options->idle_timeout), 0);
		ck_assert_int_eq(xt_ms(h->stream_idle_timeout), 300000);
		ck_assert_int_eq(xt_ms(h->common_http_protocol_options->max_connection_duration),
		                 3600000);
		ck_assert_int_eq(xt_ms(h->delayed_close_timeout), 2000);
		ck_assert_int_eq(xt_ms(h->drain_timeout), 10000);
	}
	const Cluster *c = xt_cluster("roots/home/80/da39a3ee5e");
	ck_assert_int_eq(xt_ms(c->connect_timeout), 5000);
}
END_TEST

/* Without timeouts.*: idle 60s, the others left to Envoy. */
START_TEST(global_timeouts_default)
{
	xt_run(XT_ROOT("basic", "basic.example.com", XT_HOME));
	const HCM *h = xt_hcm(xt_listener("ingress_http")->filter_chains[0]);
	ck_assert_int_eq(xt_ms(h->common_http_protocol_options->idle_timeout), 60000);
	ck_assert_ptr_null(h->common_http_protocol_options->max_connection_duration);
	ck_assert_ptr_null(h->request_timeout);
	ck_assert_ptr_null(h->stream_idle_timeout);
	ck_assert_ptr_null(h->delayed_close_timeout);
	ck_assert_ptr_null(h->drain_timeout);
	ck_assert_int_eq(xt_ms(xt_cluster("roots/home/80/da39a3ee5e")->connect_timeout), 2000);
}
END_TEST

/* tls.*: the global floor and ceiling combined with each vhost's, the
 * cipher list and the curves, also on the fallback chain. */
START_TEST(global_tls)
{
	xt_start_with("tls:\n  minimum-protocol-version: \"1.3\"\n"
	              "  cipher-suites: [ECDHE-RSA-AES256-GCM-SHA384]\n"
	              "  ecdh-curves: [X25519, P-256]\n"
	              "  fallback-certificate: {namespace: projectcontour, name: fallback}\n");
	xt_put(
	    "apiVersion: projectcontour.io/v1\nkind: TLSCertificateDelegation\n"
	    "metadata: {namespace: projectcontour, name: fallback}\n"
	    "spec: {delegations: [{secretName: fallback, targetNamespaces: [\"*\"]}]}\n" XT_TLSROOT(
	        "low", "low.example.com",
	        "{secretName: tls-cert, minimumProtocolVersion: \"1.2\","
	        " enableFallbackCertificate: true}",
	        XT_HOME));
	xt_translate();
	xt_check_snapshot();
	const Listener *l = xt_listener("ingress_https");
	ck_assert_uint_eq(l->n_filter_chains, 2);
	for (size_t i = 0; i < 2; i++) {
		const Envoy__Extensions__TransportSockets__Tls__V3__TlsParameters *tp =
		    xt_dtls(l->filter_chains[i])->common_tls_context->tls_params;
		/* the vhost asks for 1.2, the global floor is 1.3 */
		ck_assert_int_eq(tp->tls_minimum_protocol_version, 4);
		ck_assert_int_eq(tp->tls_maximum_protocol_version, 4);
		ck_assert_uint_eq(tp->n_cipher_suites, 1);
		ck_assert_str_eq(tp->cipher_suites[0], "ECDHE-RSA-AES256-GCM-SHA384");
		ck_assert_uint_eq(tp->n_ecdh_curves, 2);
		ck_assert_str_eq(tp->ecdh_curves[0], "X25519");
		ck_assert_str_eq(tp->ecdh_curves[1], "P-256");
	}
}
END_TEST

/* A global ceiling of 1.2 caps a vhost that does not ask for more; the
 * default cipher list stays. */
START_TEST(global_tls_ceiling)
{
	xt_start_with("tls:\n  maximum-protocol-version: \"1.2\"\n");
	xt_put(XT_TLSROOT("tls", "tls.example.com", "{secretName: tls-cert}", XT_HOME));
	xt_translate();
	xt_check_snapshot();
	const Envoy__Extensions__TransportSockets__Tls__V3__TlsParameters *tp =
	    xt_dtls(xt_chain(xt_listener("ingress_https"), "tls.example.com"))
	        ->common_tls_context->tls_params;
	ck_assert_int_eq(tp->tls_minimum_protocol_version, 3);
	ck_assert_int_eq(tp->tls_maximum_protocol_version, 3);
	ck_assert_uint_eq(tp->n_cipher_suites, 4);
	ck_assert_uint_eq(tp->n_ecdh_curves, 0);
}
END_TEST

/* compression, default-http-versions and the HCM switches. */
START_TEST(global_hcm_settings)
{
	xt_start_with("compression: {algorithm: disabled}\n"
	              "default-http-versions: [\"HTTP/1.1\"]\n"
	              "disableMergeSlashes: true\ndisableAllowChunkedLength: true\n"
	              "serverHeaderTransformation: pass_through\n"
	              "network: {num-trusted-hops: 2, strip-trailing-host-dot: true}\n");
	xt_put(XT_ROOT("basic", "basic.example.com", XT_HOME)
	           XT_TLSROOT("tls", "tls.example.com", "{secretName: tls-cert}", XT_HOME));
	xt_translate();
	xt_check_snapshot();
	const FilterChain *fc = xt_chain(xt_listener("ingress_https"), "tls.example.com");
	const HCM *hs[] = {xt_hcm(xt_listener("ingress_http")->filter_chains[0]), xt_hcm(fc)};
	for (size_t i = 0; i < 2; i++) {
		const HCM *h = hs[i];
		ck_assert_int_eq(h->codec_type, 1); /* HTTP1 */
		for (size_t k = 0; k < h->n_http_filters; k++)
			ck_assert_str_ne(h->http_filters[k]->name, "envoy.filters.http.compressor");
		ck_assert(!h->merge_slashes);
		ck_assert(!h->http_protocol_options->allow_chunked_length);
		ck_assert(h->http_protocol_options->accept_http_10);
		ck_assert_int_eq(h->server_header_transformation, 2);
		ck_assert_uint_eq(h->xff_num_trusted_hops, 2);
		ck_assert(h->strip_trailing_host_dot);
	}
	ck_assert_uint_eq(hs[1]->n_http_filters, 8); /* misdirected lua, no compressor */
	const DownstreamTls *dt = xt_dtls(fc);
	ck_assert_uint_eq(dt->common_tls_context->n_alpn_protocols, 1);
	ck_assert_str_eq(dt->common_tls_context->alpn_protocols[0], "http/1.1");
}
END_TEST

/* compression.algorithm: upstream's library names and empty messages
 * (Envoy's defaults) for gzip (the default), brotli and zstd; anything
 * else refused with upstream's message. */
START_TEST(global_compression_algorithms)
{
	static const struct {
		const char *conf, *name;
		const ProtobufCMessageDescriptor *d;
	} cases[] = {
	    {NULL, "gzip", &envoy__extensions__compression__gzip__compressor__v3__gzip__descriptor},
	    {"gzip", "gzip", &envoy__extensions__compression__gzip__compressor__v3__gzip__descriptor},
	    {"brotli", "brotli",
	     &envoy__extensions__compression__brotli__compressor__v3__brotli__descriptor},
	    {"zstd", "zstd", &envoy__extensions__compression__zstd__compressor__v3__zstd__descriptor},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char text[100] = "";
		if (cases[i].conf)
			snprintf(text, sizeof(text), "compression: {algorithm: %s}\n", cases[i].conf);
		xt_start_with(text);
		xt_put(XT_ROOT("basic", "basic.example.com", XT_HOME));
		xt_translate();
		xt_check_snapshot();
		const HCM *h = xt_hcm(xt_listener("ingress_http")->filter_chains[0]);
		const Envoy__Extensions__Filters__Network__HttpConnectionManager__V3__HttpFilter *f =
		    NULL;
		for (size_t k = 0; k < h->n_http_filters; k++)
			if (!strcmp(h->http_filters[k]->name, "envoy.filters.http.compressor"))
				f = h->http_filters[k];
		ck_assert_msg(f != NULL, "no compressor filter for %s", cases[i].name);
		const Envoy__Extensions__Filters__Http__Compressor__V3__Compressor *c = xt_any(
		    f->typed_config,
		    &envoy__extensions__filters__http__compressor__v3__compressor__descriptor);
		ck_assert_str_eq(c->compressor_library->name, cases[i].name);
		xt_any(c->compressor_library->typed_config, cases[i].d);
		ck_assert_uint_eq(c->compressor_library->typed_config->value.len, 0);
		teardown();
		setup();
	}
	char err[200] = "";
	core->conf = tu_conf("compression: {algorithm: lzma}\n", NULL);
	ck_assert_int_eq(xds_settings_check(&fake, err, sizeof(err)), CONTOUR_ECONFIG);
	ck_assert_str_eq(err, "invalid compression type: \"lzma\"");
}
END_TEST

/* The defaults of the same settings. */
START_TEST(global_hcm_defaults)
{
	xt_run(XT_TLSROOT("tls", "tls.example.com", "{secretName: tls-cert}", XT_HOME));
	const HCM *h = xt_hcm(xt_chain(xt_listener("ingress_https"), "tls.example.com"));
	ck_assert_int_eq(h->codec_type, 0); /* AUTO */
	ck_assert_str_eq(h->http_filters[1]->name, "envoy.filters.http.compressor");
	ck_assert(h->merge_slashes);
	ck_assert(h->http_protocol_options->allow_chunked_length);
	ck_assert_int_eq(h->server_header_transformation, 0);
	ck_assert_uint_eq(h->xff_num_trusted_hops, 0);
	ck_assert(!h->strip_trailing_host_dot);
}
END_TEST

/* Only HTTP/2: ALPN h2 alone and the HTTP2 codec. */
START_TEST(global_http2_only)
{
	xt_start_with("default-http-versions: [\"HTTP/2\"]\n");
	xt_put(XT_TLSROOT("tls", "tls.example.com", "{secretName: tls-cert}", XT_HOME));
	xt_translate();
	xt_check_snapshot();
	const FilterChain *fc = xt_chain(xt_listener("ingress_https"), "tls.example.com");
	ck_assert_int_eq(xt_hcm(fc)->codec_type, 2);
	const DownstreamTls *dt = xt_dtls(fc);
	ck_assert_uint_eq(dt->common_tls_context->n_alpn_protocols, 1);
	ck_assert_str_eq(dt->common_tls_context->alpn_protocols[0], "h2");
}
END_TEST

/* cluster.*: DNS family, buffer limit, requests per connection (which
 * brings the protocol options with explicit HTTP/1), and the global
 * circuit breakers under each Service's annotations. */
/* cluster.upstream-tls: the TLS parameters of every upstream TLS context,
 * lists deduplicated as upstream's Sanitized* do. */
START_TEST(global_upstream_tls)
{
	xt_start_with("cluster:\n  upstream-tls:\n    minimum-protocol-version: \"1.3\"\n"
	              "    cipher-suites: [ECDHE-RSA-AES256-GCM-SHA384, "
	              "ECDHE-RSA-AES256-GCM-SHA384, ECDHE-ECDSA-AES256-GCM-SHA384]\n"
	              "    ecdh-curves: [X25519]\n");
	xt_put(XT_ROOT("up", "up.example.com", "[{services: [{name: secure, port: 443}]}]"));
	xt_translate();
	xt_check_snapshot();
	const VirtualHost *vh = xt_vhost(xt_routes("ingress_http"), "up.example.com");
	const Cluster *c = xt_cluster(xt_route(vh, "/")->route->cluster);
	const UpstreamTls *ut = xt_any(
	    c->transport_socket->typed_config,
	    &envoy__extensions__transport_sockets__tls__v3__upstream_tls_context__descriptor);
	const Envoy__Extensions__TransportSockets__Tls__V3__TlsParameters *tp =
	    ut->common_tls_context->tls_params;
	ck_assert_int_eq(tp->tls_minimum_protocol_version, 4);
	ck_assert_int_eq(tp->tls_maximum_protocol_version, 4);
	ck_assert_uint_eq(tp->n_cipher_suites, 2);
	ck_assert_str_eq(tp->cipher_suites[0], "ECDHE-RSA-AES256-GCM-SHA384");
	ck_assert_str_eq(tp->cipher_suites[1], "ECDHE-ECDSA-AES256-GCM-SHA384");
	ck_assert_uint_eq(tp->n_ecdh_curves, 1);
	ck_assert_str_eq(tp->ecdh_curves[0], "X25519");
}
END_TEST

/* tls.envoy-client-certificate: every upstream TLS context (tls and h2)
 * names the Secret by SDS, as upstream's UpstreamTLSContext, and SDS
 * serves it under upstream's Secretname; plain and h2c clusters have no
 * TLS context. No delegation is needed (the operator configured it). */
START_TEST(global_client_certificate)
{
	xt_start_with(
	    "tls:\n  envoy-client-certificate: {namespace: delegated, name: shared-cert}\n");
	xt_put(XT_ROOT("up", "up.example.com",
	               "[{services: [{name: secure, port: 443}]},"
	               " {conditions: [{prefix: /grpc}], services: [{name: grpc, port: 9000}]},"
	               " {conditions: [{prefix: /plain}], services: [{name: kuard, port: 80}]}]"));
	xt_translate();
	xt_check_snapshot();
	const contour_dag_t *dag = contour_snapshot_dag(contour_snapshot_current(&fake));
	ck_assert_ptr_nonnull(dag->client_secret);
	ck_assert_str_eq(dag->client_secret->name, "shared-cert");
	char want[128];
	xds_secret_name(dag->client_secret, want, sizeof(want));
	ck_assert_int_eq(strncmp(want, "delegated/shared-cert/", 22), 0);
	const VirtualHost *vh = xt_vhost(xt_routes("ingress_http"), "up.example.com");
	const Cluster *c = xt_cluster(xt_route(vh, "/")->route->cluster);
	/* the client certificate is not part of the cluster's name */
	ck_assert_str_eq(c->name, "roots/secure/443/4929fca9d4");
	const UpstreamTls *ut = xt_any(
	    c->transport_socket->typed_config,
	    &envoy__extensions__transport_sockets__tls__v3__upstream_tls_context__descriptor);
	const Envoy__Extensions__TransportSockets__Tls__V3__CommonTlsContext *ctx =
	    ut->common_tls_context;
	ck_assert_uint_eq(ctx->n_tls_certificate_sds_secret_configs, 1);
	ck_assert_str_eq(ctx->tls_certificate_sds_secret_configs[0]->name, want);
	const Envoy__Config__Core__V3__ConfigSource *cs =
	    ctx->tls_certificate_sds_secret_configs[0]->sds_config;
	ck_assert_ptr_nonnull(cs);
	ck_assert_int_eq(cs->resource_api_version, 2);         /* V3 */
	ck_assert_int_eq(cs->config_source_specifier_case, 2); /* api_config_source */
	ck_assert_str_eq(cs->api_config_source->grpc_services[0]->envoy_grpc->cluster_name,
	                 "contour");
	ck_assert_uint_eq(ctx->n_tls_certificates, 0);
	/* h2c: no TLS at all */
	ck_assert_ptr_null(xt_cluster("roots/grpc/9000/f4f94965ec")->transport_socket);
	ck_assert_ptr_null(xt_cluster("roots/kuard/80/da39a3ee5e")->transport_socket);
	/* SDS serves it, chain and key inline */
	const Secret *s = xt_secret(want);
	ck_assert_int_eq(s->type_case, 2);
	ck_assert_uint_eq(s->tls_certificate->certificate_chain->inline_bytes.len,
	                  strlen(dag->client_secret->cert));
	ck_assert_uint_eq(s->tls_certificate->private_key->inline_bytes.len,
	                  strlen(dag->client_secret->key));
}
END_TEST

/* Without clusters the client certificate is not served (upstream's
 * GetSecrets walks the clusters). */
START_TEST(global_client_certificate_unused)
{
	xt_start_with(
	    "tls:\n  envoy-client-certificate: {namespace: delegated, name: shared-cert}\n");
	xt_translate();
	const contour_dag_t *dag = contour_snapshot_dag(contour_snapshot_current(&fake));
	ck_assert_ptr_null(dag->client_secret);
	ck_assert_uint_eq(snap->nres[XDS_SECRET], 0);
}
END_TEST

/* An invalid or missing Secret is logged with upstream's message and no
 * cluster names it: Envoy would wait for a secret SDS never sends. */
START_TEST(global_client_certificate_invalid)
{
	static const char *const bad[] = {"not-a-cert", "missing"};
	for (size_t i = 0; i < 2; i++) {
		char conf[200];
		snprintf(conf, sizeof(conf),
		         "tls:\n  envoy-client-certificate: {namespace: roots, name: %s}\n",
		         bad[i]);
		xt_start_with(conf);
		xt_put(
		    XT_ROOT("up", "up.example.com", "[{services: [{name: secure, port: 443}]}]"));
		xt_translate();
		xt_check_snapshot();
		const contour_dag_t *dag = contour_snapshot_dag(contour_snapshot_current(&fake));
		ck_assert_ptr_null(dag->client_secret);
		ck_assert_uint_eq(snap->nres[XDS_SECRET], 0);
		const Cluster *c = xt_cluster("roots/secure/443/4929fca9d4");
		const UpstreamTls *ut = xt_any(
		    c->transport_socket->typed_config,
		    &envoy__extensions__transport_sockets__tls__v3__upstream_tls_context__descriptor);
		ck_assert_uint_eq(ut->common_tls_context->n_tls_certificate_sds_secret_configs, 0);
		char msg[160]; /* the log line quotes the message: \" */
		snprintf(
		    msg, sizeof(msg),
		    "tls.envoy-client-certificate Secret \\\"roots/%s\\\" is invalid: ", bad[i]);
		ck_assert_msg(strstr(tu_log_text(), msg), "log: %s", tu_log_text());
		if (i == 1)
			ck_assert_ptr_nonnull(strstr(tu_log_text(), "Secret not found"));
		teardown();
		setup();
	}
}
END_TEST

/* Upstream's NamespacedName.Validate: both or neither, refused at load
 * (xds-grpc's init logs the message and fails). */
START_TEST(global_client_certificate_needs_namespace)
{
	static const char *const conf[][2] = {
	    {"{name: shared-cert}", "invalid TLS client certificate: namespace must be defined"},
	    {"{namespace: \" \"}", NULL}, /* blank both: unset */
	    {"{namespace: roots, name: \" \"}",
	     "invalid TLS client certificate: name must be defined"},
	    {"{namespace: roots, name: x}", NULL},
	};
	for (size_t i = 0; i < sizeof(conf) / sizeof(*conf); i++) {
		char text[200], err[200] = "";
		snprintf(text, sizeof(text), "tls:\n  envoy-client-certificate: %s\n", conf[i][0]);
		core->conf = tu_conf(text, NULL);
		int rc = xds_settings_check(&fake, err, sizeof(err));
		if (conf[i][1]) {
			ck_assert_int_eq(rc, CONTOUR_ECONFIG);
			ck_assert_str_eq(err, conf[i][1]);
		} else {
			ck_assert_int_eq(rc, CONTOUR_EOK);
		}
		teardown();
		setup();
	}
}
END_TEST

/* listener.*: upstream's ListenerCache and RuntimeCache. ingress_http and
 * ingress_https get the buffer limit, TOS and Traffic Class socket options
 * after the keep-alive ones, the exact balancer and the accept limit; every
 * HCM the request limit and HTTP/2 stream limit; the runtime layer the
 * per-listener connection limits and the IO-cycle limit. The static
 * listeners keep their own options. */
START_TEST(global_listener_settings)
{
	xt_start_with("listener:\n  connection-balancer: exact\n  max-requests-per-connection: 3\n"
	              "  per-connection-buffer-limit-bytes: 65536\n"
	              "  socket-options: {tos: 64, traffic-class: 32}\n"
	              "  max-requests-per-io-cycle: 10\n  http2-max-concurrent-streams: 50\n"
	              "  max-connections-per-listener: 1000\n"
	              "  max-connections-to-accept-per-socket-event: 4\n");
	xt_put(XT_TLSROOT("tls", "tls.example.com", "{secretName: tls-cert}",
	                  "[{services: [{name: home, port: 80}], permitInsecure: true}]"));
	xt_translate();
	xt_check_snapshot();
	static const char *const names[] = {"ingress_http", "ingress_https"};
	for (size_t i = 0; i < 2; i++) {
		const Listener *l = xt_listener(names[i]);
		ck_assert_uint_eq(l->per_connection_buffer_limit_bytes->value, 65536);
		ck_assert_uint_eq(l->n_socket_options, 6);
		const Envoy__Config__Core__V3__SocketOption *tos = l->socket_options[4];
		ck_assert_str_eq(tos->description, "Set IPv4 TOS field");
		ck_assert_int_eq(tos->level, 0);
		ck_assert_int_eq(tos->name, 1);
		ck_assert_int_eq(tos->int_value, 64);
		ck_assert_int_eq(tos->state, 2);
		const Envoy__Config__Core__V3__SocketOption *tc = l->socket_options[5];
		ck_assert_str_eq(tc->description, "Set IPv6 Traffic Class field");
		ck_assert_int_eq(tc->level, 41);
		ck_assert_int_eq(tc->name, 67);
		ck_assert_int_eq(tc->int_value, 32);
		ck_assert_ptr_nonnull(l->connection_balance_config);
		ck_assert_int_eq(
		    l->connection_balance_config->balance_type_case,
		    ENVOY__CONFIG__LISTENER__V3__LISTENER__CONNECTION_BALANCE_CONFIG__BALANCE_TYPE_EXACT_BALANCE);
		ck_assert_uint_eq(l->max_connections_to_accept_per_socket_event->value, 4);
		const HCM *h = xt_hcm(l->filter_chains[0]);
		ck_assert_uint_eq(
		    h->common_http_protocol_options->max_requests_per_connection->value, 3);
		ck_assert_int_eq(xt_ms(h->common_http_protocol_options->idle_timeout), 60000);
		ck_assert_uint_eq(h->http2_protocol_options->max_concurrent_streams->value, 50);
	}
	const Listener *st = xt_listener("stats-health");
	ck_assert_ptr_null(st->per_connection_buffer_limit_bytes);
	ck_assert_uint_eq(st->n_socket_options, 4);
	ck_assert_ptr_null(st->connection_balance_config);
	ck_assert_ptr_null(st->max_connections_to_accept_per_socket_event);
	/* the runtime layer, keys sorted */
	const Envoy__Service__Runtime__V3__Runtime *rt =
	    xt_decode(XDS_RUNTIME, "dynamic", &envoy__service__runtime__v3__runtime__descriptor);
	static const struct {
		const char *key;
		double v;
	} want[] = {
	    {"envoy.resource_limits.listener.ingress_http.connection_limit", 1000},
	    {"envoy.resource_limits.listener.ingress_https.connection_limit", 1000},
	    {"http.max_requests_per_io_cycle", 10},
	    {"re2.max_program_size.error_level", 1048576},
	    {"re2.max_program_size.warn_level", 1000},
	};
	ck_assert_uint_eq(rt->layer->n_fields, 5);
	for (size_t i = 0; i < 5; i++) {
		ck_assert_str_eq(rt->layer->fields[i]->key, want[i].key);
		ck_assert_double_eq(rt->layer->fields[i]->value->number_value, want[i].v);
	}
}
END_TEST

/* Without listener.* nothing of the above appears. */
START_TEST(global_listener_defaults)
{
	xt_run(XT_ROOT("d", "d.example.com", "[{services: [{name: home, port: 80}]}]"));
	const Listener *l = xt_listener("ingress_http");
	ck_assert_ptr_null(l->per_connection_buffer_limit_bytes);
	ck_assert_uint_eq(l->n_socket_options, 4);
	ck_assert_ptr_null(l->connection_balance_config);
	ck_assert_ptr_null(l->max_connections_to_accept_per_socket_event);
	const HCM *h = xt_hcm(l->filter_chains[0]);
	ck_assert_ptr_null(h->common_http_protocol_options->max_requests_per_connection);
	ck_assert_ptr_null(h->http2_protocol_options);
	const Envoy__Service__Runtime__V3__Runtime *rt =
	    xt_decode(XDS_RUNTIME, "dynamic", &envoy__service__runtime__v3__runtime__descriptor);
	ck_assert_uint_eq(rt->layer->n_fields, 2);
}
END_TEST

/* Upstream's ListenerParameters.Validate messages; the schema refuses
 * wrong types itself. */
START_TEST(global_listener_validation)
{
	static const char *const bad[][2] = {
	    {"connection-balancer: random",
	     "invalid listener connection balancer value \"random\", only 'exact' connection "
	     "balancing is supported for now"},
	    {"max-requests-per-connection: 0",
	     "invalid max connections per request value 0 set on listener, minimum value is 1"},
	    {"per-connection-buffer-limit-bytes: -1", "invalid per connections buffer limit bytes "
	                                              "value -1 set on listener, minimum value is "
	                                              "1"},
	    {"max-requests-per-io-cycle: 0",
	     "invalid max connections per IO cycle value 0 set on listener, minimum value is 1"},
	    {"http2-max-concurrent-streams: 0",
	     "invalid max HTTP/2 concurrent streams value 0 set on listener, minimum value is 1"},
	    {"max-connections-per-listener: 0",
	     "invalid max connections per listener value 0 set on listener, minimum value is 1"},
	    {"max-connections-to-accept-per-socket-event: 0",
	     "max-connections-to-accept-per-socket-event must be greater than 0"},
	    {"socket-options: {tos: 256}",
	     "invalid listener IPv4 TOS value 256, must be in the range 0-255"},
	    {"socket-options: {traffic-class: -1}",
	     "invalid listener IPv6 TrafficClass value -1, must be in the range 0-255"},
	    {"connection-balancer: exact", NULL},
	    {"socket-options: {tos: 255, traffic-class: 0}", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char text[200], err[200] = "";
		snprintf(text, sizeof(text), "listener:\n  %s\n", bad[i][0]);
		core->conf = tu_conf(text, NULL);
		int rc = xds_settings_check(&fake, err, sizeof(err));
		if (bad[i][1]) {
			ck_assert_int_eq(rc, CONTOUR_ECONFIG);
			ck_assert_str_eq(err, bad[i][1]);
		} else {
			ck_assert_int_eq(rc, CONTOUR_EOK);
		}
		teardown();
		setup();
	}
	/* unknown keys and wrong types: the core's schema */
	json_t *errs = json_array();
	core_conf_t *c = tu_conf("listener:\n  max-requests-per-connection: lots\n", errs);
	ck_assert_ptr_null(c);
	ck_assert_uint_gt(json_array_size(errs), 0);
	json_decref(errs);
	errs = json_array();
	c = tu_conf("listener:\n  use-proxy-protocol: true\n", errs);
	ck_assert_ptr_null(c);
	json_decref(errs);
}
END_TEST

START_TEST(global_cluster_settings)
{
	xt_start_with("cluster:\n  dns-lookup-family: v6\n  max-requests-per-connection: 7\n"
	              "  per-connection-buffer-limit-bytes: 32768\n"
	              "  circuit-breakers: {max-connections: 100, max-requests: 50}\n");
	xt_put("apiVersion: v1\nkind: Service\n"
	       "metadata:\n  namespace: roots\n  name: limited\n"
	       "  annotations: {projectcontour.io/max-connections: \"9\"}\n"
	       "spec: {ports: [{port: 80, protocol: TCP}]}\n" XT_ROOT(
	           "cl", "cl.example.com",
	           "[{services: [{name: home, port: 80}]},"
	           " {conditions: [{prefix: /l}], services: [{name: limited, port: 80}]}]"));
	xt_translate();
	xt_check_snapshot();
	const Cluster *c = xt_cluster("roots/home/80/da39a3ee5e");
	ck_assert_int_eq(c->dns_lookup_family, 2); /* V6_ONLY */
	ck_assert_uint_eq(c->per_connection_buffer_limit_bytes->value, 32768);
	ck_assert_uint_eq(c->circuit_breakers->thresholds[0]->max_connections->value, 100);
	ck_assert_uint_eq(c->circuit_breakers->thresholds[0]->max_requests->value, 50);
	ck_assert_ptr_null(c->circuit_breakers->thresholds[0]->max_retries);
	ck_assert_ptr_null(c->circuit_breakers->per_host_thresholds[0]->max_connections);
	ck_assert_uint_eq(c->n_typed_extension_protocol_options, 1);
	const Envoy__Extensions__Upstreams__Http__V3__HttpProtocolOptions *po =
	    xt_any(c->typed_extension_protocol_options[0]->value,
	           &envoy__extensions__upstreams__http__v3__http_protocol_options__descriptor);
	ck_assert_uint_eq(po->common_http_protocol_options->max_requests_per_connection->value, 7);
	ck_assert_ptr_null(po->common_http_protocol_options->idle_timeout);
	ck_assert_int_eq(po->explicit_http_config->protocol_config_case, 1);
	const Cluster *lim = xt_cluster("roots/limited/80/da39a3ee5e");
	ck_assert_uint_eq(lim->circuit_breakers->thresholds[0]->max_connections->value, 9);
	ck_assert_uint_eq(lim->circuit_breakers->thresholds[0]->max_requests->value, 50);
}
END_TEST

typedef Envoy__Extensions__AccessLoggers__File__V3__FileAccessLog FileAccessLog;

static const FileAccessLog *xt_file_log(const Envoy__Config__Accesslog__V3__AccessLog *al)
{
	ck_assert_str_eq(al->name, "envoy.access_loggers.file");
	return xt_any(al->typed_config,
	              &envoy__extensions__access_loggers__file__v3__file_access_log__descriptor);
}

static const char *xt_struct_str(const Google__Protobuf__Struct *st, const char *key)
{
	for (size_t i = 0; i < st->n_fields; i++)
		if (!strcmp(st->fields[i]->key, key)) {
			ck_assert_int_eq(st->fields[i]->value->kind_case,
			                 GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE);
			return st->fields[i]->value->string_value;
		}
	return NULL;
}

/* accesslog-format json with json-fields, accesslog-level error: a Struct
 * format and upstream's status >= 300 or response-flag filter, on HCMs
 * and tcp proxies alike. */
START_TEST(global_access_log_json)
{
	xt_start_with("accesslog-format: json\naccesslog-level: error\n"
	              "json-fields: [\"@timestamp\", method, duration, \"x=%REQ(X)%\"]\n");
	xt_put(XT_ROOT("basic", "basic.example.com", XT_HOME));
	xt_translate();
	xt_check_snapshot();
	const HCM *h = xt_hcm(xt_listener("ingress_http")->filter_chains[0]);
	ck_assert_uint_eq(h->n_access_log, 1);
	const Envoy__Config__Accesslog__V3__AccessLog *al = h->access_log[0];
	ck_assert_ptr_nonnull(al->filter);
	ck_assert_int_eq(
	    al->filter->filter_specifier_case,
	    ENVOY__CONFIG__ACCESSLOG__V3__ACCESS_LOG_FILTER__FILTER_SPECIFIER_OR_FILTER);
	ck_assert_uint_eq(al->filter->or_filter->n_filters, 2);
	const Envoy__Config__Accesslog__V3__ComparisonFilter *cmp =
	    al->filter->or_filter->filters[0]->status_code_filter->comparison;
	ck_assert_int_eq(cmp->op, ENVOY__CONFIG__ACCESSLOG__V3__COMPARISON_FILTER__OP__GE);
	ck_assert_uint_eq(cmp->value->default_value, 300);
	ck_assert_str_eq(cmp->value->runtime_key, "contour.accesslog.filter.status_code");
	ck_assert_ptr_nonnull(al->filter->or_filter->filters[1]->response_flag_filter);
	const FileAccessLog *fl = xt_file_log(al);
	ck_assert_str_eq(fl->path, "/dev/stdout");
	ck_assert_ptr_nonnull(fl->log_format);
	ck_assert(fl->log_format->omit_empty_values);
	const Google__Protobuf__Struct *st = fl->log_format->json_format;
	ck_assert_ptr_nonnull(st);
	ck_assert_uint_eq(st->n_fields, 4);
	ck_assert_str_eq(xt_struct_str(st, "@timestamp"), "%START_TIME%");
	ck_assert_str_eq(xt_struct_str(st, "method"), "%REQ(:METHOD)%");
	ck_assert_str_eq(xt_struct_str(st, "duration"), "%DURATION%");
	ck_assert_str_eq(xt_struct_str(st, "x"), "%REQ(X)%");
}
END_TEST

/* json with the default field list; critical: status >= 500 */
START_TEST(global_access_log_defaults_json)
{
	xt_start_with("accesslog-format: json\naccesslog-level: critical\n");
	xt_put(XT_ROOT("basic", "basic.example.com", XT_HOME));
	xt_translate();
	xt_check_snapshot();
	const HCM *h = xt_hcm(xt_listener("ingress_http")->filter_chains[0]);
	const Envoy__Config__Accesslog__V3__AccessLog *al = h->access_log[0];
	ck_assert_uint_eq(
	    al->filter->or_filter->filters[0]->status_code_filter->comparison->value->default_value,
	    500);
	const Google__Protobuf__Struct *st = xt_file_log(al)->log_format->json_format;
	ck_assert_uint_eq(st->n_fields, 23);
	ck_assert_str_eq(xt_struct_str(st, "path"), "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%");
	ck_assert_str_eq(xt_struct_str(st, "response_code"), "%RESPONSE_CODE%");
	/* keys sorted, as Go's deterministic encoding */
	for (size_t i = 1; i < st->n_fields; i++)
		ck_assert_int_lt(strcmp(st->fields[i - 1]->key, st->fields[i]->key), 0);
}
END_TEST

/* accesslog-level disabled: no access log at all; info (default): the
 * plain file log without filter or format. */
START_TEST(global_access_log_levels)
{
	xt_start_with("accesslog-level: disabled\n");
	xt_put(XT_ROOT(
	    "basic", "basic.example.com",
	    XT_HOME) "---\napiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
	             "metadata: {namespace: roots, name: pass}\n"
	             "spec:\n  virtualhost: {fqdn: pass.example.com, tls: {passthrough: true}}\n"
	             "  tcpproxy: {services: [{name: secure, port: 443}]}\n");
	xt_translate();
	xt_check_snapshot();
	ck_assert_uint_eq(xt_hcm(xt_listener("ingress_http")->filter_chains[0])->n_access_log, 0);
	ck_assert_uint_eq(
	    xt_tcp(xt_chain(xt_listener("ingress_https"), "pass.example.com"))->n_access_log, 0);
}
END_TEST

START_TEST(global_access_log_info)
{
	xt_run(XT_ROOT("basic", "basic.example.com", XT_HOME));
	const HCM *h = xt_hcm(xt_listener("ingress_http")->filter_chains[0]);
	ck_assert_uint_eq(h->n_access_log, 1);
	ck_assert_ptr_null(h->access_log[0]->filter);
	ck_assert_ptr_null(xt_file_log(h->access_log[0])->log_format);
}
END_TEST

/* accesslog-format-string: a text format source */
START_TEST(global_access_log_format_string)
{
	xt_start_with("accesslog-format-string: \"%START_TIME% %REQ(:METHOD)%\\n\"\n");
	xt_put(XT_ROOT("basic", "basic.example.com", XT_HOME));
	xt_translate();
	xt_check_snapshot();
	const HCM *h = xt_hcm(xt_listener("ingress_http")->filter_chains[0]);
	const FileAccessLog *fl = xt_file_log(h->access_log[0]);
	ck_assert_ptr_null(h->access_log[0]->filter);
	ck_assert_ptr_nonnull(fl->log_format);
	ck_assert_ptr_nonnull(fl->log_format->text_format_source);
	ck_assert_str_eq(fl->log_format->text_format_source->inline_string,
	                 "%START_TIME% %REQ(:METHOD)%\n");
}
END_TEST

START_TEST(health_checks_and_breakers)
{
	xt_start();
	xt_put("apiVersion: v1\nkind: Service\n"
	       "metadata:\n  namespace: roots\n  name: limited\n"
	       "  annotations: {projectcontour.io/max-connections: \"9\","
	       " projectcontour.io/per-host-max-connections: \"2\"}\n"
	       "spec: {ports: [{port: 80, protocol: TCP}]}\n" XT_ROOT(
	           "hc", "hc.example.com",
	           "[{healthCheckPolicy: {path: /healthz, intervalSeconds: 5, timeoutSeconds: 2,"
	           " unhealthyThresholdCount: 3, healthyThresholdCount: 5},"
	           "  services: [{name: home, port: 80}]},"
	           " {conditions: [{prefix: /l}], services: [{name: limited, port: 80}]}]"));
	xt_translate();
	xt_check_snapshot();
	const VirtualHost *vh = xt_vhost(xt_routes("ingress_http"), "hc.example.com");
	const char *name = xt_route(vh, "/")->route->cluster;
	/* upstream's Clustername over "2s5s35/healthz" */
	contour_dag_health_check_t hc = {.path = "/healthz",
	                                 .interval_ms = 5000,
	                                 .timeout_ms = 2000,
	                                 .unhealthy_threshold = 3,
	                                 .healthy_threshold = 5};
	contour_dag_cluster_t want = {.service = {"roots", "home", 80, "http", NULL, 0, NULL},
	                              .protocol = "",
	                              .health_check = &hc,
	                              .idle_connection_timeout_ms = CONTOUR_DAG_TIMEOUT_DEFAULT};
	char wname[128];
	xt_name_of(&want, wname);
	ck_assert_str_eq(name, wname);
	ck_assert_str_eq(name, "roots/home/80/0ec33ae2c5"); /* sha1("2s5s35/healthz") */
	const Cluster *c = xt_cluster(name);
	ck_assert_uint_eq(c->n_health_checks, 1);
	const Envoy__Config__Core__V3__HealthCheck *h = c->health_checks[0];
	ck_assert_int_eq(xt_ms(h->timeout), 2000);
	ck_assert_int_eq(xt_ms(h->interval), 5000);
	ck_assert_uint_eq(h->unhealthy_threshold->value, 3);
	ck_assert_uint_eq(h->healthy_threshold->value, 5);
	ck_assert_str_eq(h->http_health_check->path, "/healthz");
	ck_assert_str_eq(h->http_health_check->host, "contour-envoy-healthcheck");
	ck_assert(c->ignore_health_on_host_removal);
	const Cluster *lim = xt_cluster(xt_route(vh, "/l")->route->cluster);
	ck_assert_ptr_nonnull(lim->circuit_breakers);
	ck_assert_uint_eq(lim->circuit_breakers->thresholds[0]->max_connections->value, 9);
	ck_assert_ptr_null(lim->circuit_breakers->thresholds[0]->max_requests);
	ck_assert(lim->circuit_breakers->thresholds[0]->track_remaining);
	ck_assert_uint_eq(lim->circuit_breakers->per_host_thresholds[0]->max_connections->value, 2);
	ck_assert_ptr_null(c->circuit_breakers);
}
END_TEST

/* upstream's Clustername adds a timeout, interval or threshold only when
 * the policy sets it: the expected names are the SHA-1 of the string
 * upstream hashes, computed here, not by the translator. */
static void xt_upstream_name(const char *ns, const char *svc, const char *port,
                             const char *hashed, char *out, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	ck_assert(EVP_Digest(hashed, strlen(hashed), md, &mdlen, EVP_sha1(), NULL));
	snprintf(out, len, "%s/%s/%s/%02x%02x%02x%02x%02x", ns, svc, port, md[0], md[1], md[2],
	         md[3], md[4]);
}

START_TEST(health_check_cluster_name_as_written)
{
	xt_start();
	xt_put(XT_ROOT("hc", "hc.example.com",
	               "[{healthCheckPolicy: {path: /healthz},"
	               "  services: [{name: home, port: 80}]},"
	               " {conditions: [{prefix: /all}],"
	               "  healthCheckPolicy: {path: /healthy, intervalSeconds: 90,"
	               "   timeoutSeconds: 3, unhealthyThresholdCount: 4,"
	               "   healthyThresholdCount: 7},"
	               "  services: [{name: home, port: 80}]}]"));
	xt_translate();
	xt_check_snapshot();
	const VirtualHost *vh = xt_vhost(xt_routes("ingress_http"), "hc.example.com");
	char want[128];

	/* Only the path is set: upstream hashes "" + "/healthz". */
	const char *name = xt_route(vh, "/")->route->cluster;
	xt_upstream_name("roots", "home", "80", "/healthz", want, sizeof(want));
	ck_assert_str_eq(name, want);
	ck_assert_str_eq(name, "roots/home/80/bc862a33ca");
	/* Envoy still gets the defaults. */
	const Cluster *c = xt_cluster(name);
	ck_assert_uint_eq(c->n_health_checks, 1);
	const Envoy__Config__Core__V3__HealthCheck *h = c->health_checks[0];
	ck_assert_int_eq(xt_ms(h->timeout), 2000);
	ck_assert_int_eq(xt_ms(h->interval), 10000);
	ck_assert_uint_eq(h->unhealthy_threshold->value, 3);
	ck_assert_uint_eq(h->healthy_threshold->value, 2);
	ck_assert_str_eq(h->http_health_check->path, "/healthz");
	ck_assert_str_eq(h->http_health_check->host, "contour-envoy-healthcheck");

	/* Every field set: timeout, interval (Go's Duration.String),
	 * unhealthy, healthy, path. */
	name = xt_route(vh, "/all")->route->cluster;
	xt_upstream_name("roots", "home", "80", "3s1m30s47/healthy", want, sizeof(want));
	ck_assert_str_eq(name, want);
	ck_assert_str_eq(name, "roots/home/80/83be62f6e1");
	c = xt_cluster(name);
	ck_assert_uint_eq(c->n_health_checks, 1);
	h = c->health_checks[0];
	ck_assert_int_eq(xt_ms(h->timeout), 3000);
	ck_assert_int_eq(xt_ms(h->interval), 90000);
	ck_assert_uint_eq(h->unhealthy_threshold->value, 4);
	ck_assert_uint_eq(h->healthy_threshold->value, 7);
	ck_assert_str_eq(h->http_health_check->path, "/healthy");
}
END_TEST

START_TEST(cors_policy)
{
	xt_run("---\napiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
	       "metadata: {namespace: roots, name: cors}\n"
	       "spec:\n  virtualhost:\n    fqdn: cors.example.com\n"
	       "    corsPolicy:\n"
	       "      allowCredentials: true\n"
	       "      allowOrigin: [\"*\", \"https://a.example.com\", "
	       "\"https://.*\\\\.example\\\\.org\"]\n"
	       "      allowMethods: [GET, POST]\n"
	       "      allowHeaders: [authorization]\n"
	       "      maxAge: 10m\n"
	       "  routes: " XT_HOME "\n");
	xt_check_snapshot();
	const VirtualHost *vh = xt_vhost(xt_routes("ingress_http"), "cors.example.com");
	ck_assert_uint_eq(vh->n_typed_per_filter_config, 1);
	ck_assert_str_eq(vh->typed_per_filter_config[0]->key, "envoy.filters.http.cors");
	const Envoy__Extensions__Filters__Http__Cors__V3__CorsPolicy *cp =
	    xt_any(vh->typed_per_filter_config[0]->value,
	           &envoy__extensions__filters__http__cors__v3__cors_policy__descriptor);
	ck_assert_uint_eq(cp->n_allow_origin_string_match, 3);
	ck_assert_str_eq(cp->allow_origin_string_match[0]->exact, "*");
	ck_assert(cp->allow_origin_string_match[0]->ignore_case);
	ck_assert_str_eq(cp->allow_origin_string_match[1]->exact, "https://a.example.com");
	ck_assert_int_eq(cp->allow_origin_string_match[2]->match_pattern_case, 5);
	ck_assert_str_eq(cp->allow_origin_string_match[2]->safe_regex->regex,
	                 "https://.*\\.example\\.org");
	ck_assert_str_eq(cp->allow_methods, "GET,POST");
	ck_assert_str_eq(cp->allow_headers, "authorization");
	ck_assert_str_eq(cp->max_age, "600");
	ck_assert(cp->allow_credentials->value);
	ck_assert(!cp->allow_private_network_access->value);
}
END_TEST

static const Envoy__Config__Rbac__V3__RBAC *xt_rbac(const Google__Protobuf__Any *any)
{
	const Envoy__Extensions__Filters__Http__Rbac__V3__RBACPerRoute *pr =
	    xt_any(any, &envoy__extensions__filters__http__rbac__v3__rbacper_route__descriptor);
	ck_assert_ptr_nonnull(pr->rbac);
	ck_assert_ptr_nonnull(pr->rbac->rules);
	return pr->rbac->rules;
}

START_TEST(ip_filters)
{
	xt_run("---\napiVersion: projectcontour.io/v1\nkind: HTTPProxy\n"
	       "metadata: {namespace: roots, name: ip}\n"
	       "spec:\n  virtualhost:\n    fqdn: ip.example.com\n"
	       "    ipAllowPolicy: [{source: Peer, cidr: 10.1.2.3/8}, {source: Remote, cidr: "
	       "192.168.0.7}]\n"
	       "  routes:\n"
	       "  - services: [{name: home, port: 80}]\n"
	       "  - conditions: [{prefix: /deny}]\n"
	       "    ipDenyPolicy: [{source: Peer, cidr: \"2001:db8::1/32\"}]\n"
	       "    services: [{name: home, port: 80}]\n");
	xt_check_snapshot();
	const VirtualHost *vh = xt_vhost(xt_routes("ingress_http"), "ip.example.com");
	ck_assert_uint_eq(vh->n_typed_per_filter_config, 1);
	ck_assert_str_eq(vh->typed_per_filter_config[0]->key, "envoy.filters.http.rbac");
	const Envoy__Config__Rbac__V3__RBAC *r = xt_rbac(vh->typed_per_filter_config[0]->value);
	ck_assert_int_eq(r->action, ENVOY__CONFIG__RBAC__V3__RBAC__ACTION__ALLOW);
	ck_assert_uint_eq(r->n_policies, 1);
	ck_assert_str_eq(r->policies[0]->key, "ip-rules");
	const Envoy__Config__Rbac__V3__Policy *p = r->policies[0]->value;
	ck_assert_uint_eq(p->n_permissions, 1);
	ck_assert(p->permissions[0]->any);
	ck_assert_uint_eq(p->n_principals, 2);
	ck_assert_int_eq(p->principals[0]->identifier_case, 10);
	ck_assert_str_eq(p->principals[0]->direct_remote_ip->address_prefix, "10.0.0.0");
	ck_assert_uint_eq(p->principals[0]->direct_remote_ip->prefix_len->value, 8);
	ck_assert_int_eq(p->principals[1]->identifier_case, 11);
	ck_assert_str_eq(p->principals[1]->remote_ip->address_prefix, "192.168.0.7");
	ck_assert_uint_eq(p->principals[1]->remote_ip->prefix_len->value, 32);
	const Route *d = xt_route(vh, "/deny");
	ck_assert_uint_eq(d->n_typed_per_filter_config, 1);
	const Envoy__Config__Rbac__V3__RBAC *dr = xt_rbac(d->typed_per_filter_config[0]->value);
	ck_assert_int_eq(dr->action, ENVOY__CONFIG__RBAC__V3__RBAC__ACTION__DENY);
	ck_assert_str_eq(dr->policies[0]->value->principals[0]->direct_remote_ip->address_prefix,
	                 "2001:db8::");
	ck_assert_uint_eq(xt_route(vh, "/")->n_typed_per_filter_config, 0);
}
END_TEST

/* Every reference example translates into a snapshot Envoy would accept. */
static const char *const xt_examples[] = {
    "01-ingress-to-httpproxy/basic-httpproxy.yaml",
    "01-ingress-to-httpproxy/httpproxy-name.yaml",
    "01-ingress-to-httpproxy/httpproxy-tls.yaml",
    "02-tls-options/httpproxy-tls-cert-delegation.yaml",
    "02-tls-options/httpproxy-tls-upstream.yaml",
    "03-routes/httpproxy-header-rewrite.yaml",
    "03-routes/httpproxy-health-checks.yaml",
    "03-routes/httpproxy-lb-request-hash.yaml",
    "03-routes/httpproxy-lb-strategy.yaml",
    "03-routes/httpproxy-multiple-headers.yaml",
    "03-routes/httpproxy-multiple-paths.yaml",
    "03-routes/httpproxy-multiple-upstreams.yaml",
    "03-routes/httpproxy-sticky-sessions.yaml",
    "03-routes/httpproxy-tls-permitinsecure.yaml",
    "03-routes/httpproxy-websockets.yaml",
    "03-routes/httpproxy-weight-shfiting.yaml",
    "04-inclusion/httpproxy-inclusion-across-namespaces.yaml",
    "04-inclusion/httpproxy-inclusion-mutipleroots.yaml",
    "04-inclusion/httpproxy-inclusion-samenamespace.yaml",
    "05-tcp-proxy/httpproxy-tls-passthrough.yaml",
    "05-tcp-proxy/httpproxy-tls-termination.yaml",
};

START_TEST(upstream_examples)
{
	const char *ref = tu_reference_dir();
	if (!ref)
		return;
	char dir[4096], path[4200];
	snprintf(dir, sizeof(dir), "%s/contour-examples/example-workload/httpproxy", ref);
	xt_start();
	snprintf(path, sizeof(path), "%s/00-common/01-services.yaml", dir);
	xt_put_path(path);
	xt_put_path(tu_fixture("httpproxy/examples-support.yaml"));
	snprintf(path, sizeof(path), "%s/%s", dir, xt_examples[_i]);
	xt_put_path(path);
	xt_translate();
	xt_check_snapshot();
	const contour_dag_t *dag = contour_snapshot_dag(contour_snapshot_current(&fake));
	/* one cluster per DAG cluster, one chain per secure vhost */
	ck_assert_uint_ge(snap->nres[XDS_CLUSTER], 1);
	ck_assert_uint_le(snap->nres[XDS_CLUSTER], dag->nclusters);
	if (dag->nsvhosts)
		ck_assert_uint_ge(xt_listener("ingress_https")->n_filter_chains, dag->nsvhosts);
	json_t *j = xds_snapshot_to_json(snap);
	ck_assert_ptr_nonnull(j);
	json_decref(j);
}
END_TEST

START_TEST(sort_examples_websockets_health)
{
	const char *ref = tu_reference_dir();
	if (!ref)
		return;
	char path[4200];
	xt_start();
	snprintf(path, sizeof(path),
	         "%s/contour-examples/example-workload/httpproxy/00-common/01-services.yaml", ref);
	xt_put_path(path);
	xt_put_path(tu_fixture("httpproxy/examples-support.yaml"));
	snprintf(path, sizeof(path),
	         "%s/contour-examples/example-workload/httpproxy/03-routes/"
	         "httpproxy-health-checks.yaml",
	         ref);
	xt_put_path(path);
	xt_translate();
	int found = 0;
	for (size_t i = 0; i < snap->nres[XDS_CLUSTER]; i++) {
		const Cluster *c = xt_cluster(snap->res[XDS_CLUSTER][i].name);
		if (!c->n_health_checks)
			continue;
		found = 1;
		ck_assert(c->ignore_health_on_host_removal);
		ck_assert_int_eq(c->health_checks[0]->health_checker_case, 8);
		ck_assert_str_ne(strrchr(c->name, '/'), "/da39a3ee5e");
	}
	ck_assert(found);
}
END_TEST

/* Incremental translation: after each change, the translation against the
 * previous snapshot (reusing what hashes the same) must equal a fresh one
 * resource by resource, and move exactly the versions of the types whose
 * content changed. Returns the number of resources and fragments reused. */
static size_t xt_step(const xds_settings_t *set)
{
	contour_source_set_synced(src);
	ck_assert_int_eq(core_pipeline_build_now(core->pipeline), CONTOUR_EOK);
	contour_snapshot_t *cs = contour_snapshot_current(&fake);
	size_t reused[XDS_NTYPES + 1] = {0}, total = 0;
	xds_snapshot_t *inc = xds_translate_timed(&fake, cs, set, snap, NULL, reused);
	xds_snapshot_t *fresh = xds_translate(&fake, cs, set, NULL);
	ck_assert_ptr_nonnull(inc);
	ck_assert_ptr_nonnull(fresh);
	for (int t = 0; t < XDS_NTYPES; t++) {
		ck_assert_uint_eq(inc->nres[t], fresh->nres[t]);
		for (size_t i = 0; i < inc->nres[t]; i++) {
			const xds_resource_t *a = &inc->res[t][i], *b = &fresh->res[t][i];
			ck_assert_str_eq(a->name, b->name);
			ck_assert_msg(a->len == b->len && !memcmp(a->bytes, b->bytes, a->len),
			              "%s differs from a fresh translation", a->name);
			ck_assert_uint_eq(a->hash, b->hash);
			ck_assert_uint_eq(a->src, b->src);
		}
		if (!snap)
			continue;
		int changed = snap->nres[t] != fresh->nres[t];
		for (size_t i = 0; !changed && i < fresh->nres[t]; i++)
			changed = strcmp(snap->res[t][i].name, fresh->res[t][i].name) ||
			          snap->res[t][i].len != fresh->res[t][i].len ||
			          memcmp(snap->res[t][i].bytes, fresh->res[t][i].bytes,
			                 fresh->res[t][i].len);
		ck_assert_msg(!strcmp(inc->version[t], snap->version[t]) == !changed,
		              "type %d: version %s -> %s, content %s", t, snap->version[t],
		              inc->version[t], changed ? "changed" : "unchanged");
	}
	for (int t = 0; t <= XDS_NTYPES; t++)
		total += reused[t];
	xds_snapshot_unref(fresh);
	xds_snapshot_unref(snap);
	snap = inc;
	xt_check_snapshot();
	return total;
}

/* A copy of Secret roots/tls-cert whose chain has one more newline: the
 * same certificate to OpenSSL, other bytes (and SDS name) to Envoy. */
static void xt_touch_secret(void)
{
	contour_object_key_t k = {"v1", "Secret", "roots", "tls-cert"};
	json_t *s = json_deep_copy(contour_store_get(&fake, &k));
	ck_assert_ptr_nonnull(s);
	json_t *data = json_object_get(s, "data");
	const char *b64 = json_string_value(json_object_get(data, "tls.crt"));
	size_t n = strlen(b64);
	unsigned char *pem = malloc(n + 2);
	char *out = malloc(2 * n + 8);
	int len = EVP_DecodeBlock(pem, (const unsigned char *)b64, (int)n);
	ck_assert_int_gt(len, 0);
	while (len > 0 && pem[len - 1] == 0) /* the padding's zero bytes */
		len--;
	pem[len++] = '\n';
	EVP_EncodeBlock((unsigned char *)out, pem, len);
	json_object_set_new(data, "tls.crt", json_string(out));
	free(pem);
	free(out);
	ck_assert_int_eq(contour_store_put_new(src, s), CONTOUR_EOK);
}

START_TEST(incremental_equals_fresh)
{
	xt_start_with(
	    "tls:\n  fallback-certificate: {namespace: projectcontour, name: fallback}\n");
	xt_put("apiVersion: projectcontour.io/v1\nkind: TLSCertificateDelegation\n"
	       "metadata: {namespace: projectcontour, name: fallback}\n"
	       "spec: {delegations: [{secretName: fallback, targetNamespaces: [\"*\"]}]}\n" XT_ROOT(
	           "a", "a.example.com", XT_HOME) XT_ROOT("b", "b.example.com",
	                                                  "[{services: [{name: kuard, port: 80}]}]")
	           XT_TLSROOT("s", "s.example.com",
	                      "{secretName: tls-cert, enableFallbackCertificate: true}", XT_HOME)
	               XT_TLSROOT("t", "t.example.com", "{secretName: other-cert}",
	                          "[{services: [{name: secure, port: 443}]}]")
	                   XT_TLSROOT("p", "p.example.com", "{passthrough: true}",
	                              "[]\n  tcpproxy: {services: [{name: kuard, port: 80}]}"));
	/* the first translation has nothing to reuse */
	ck_assert_uint_eq(xt_step(NULL), 0);
	ck_assert_uint_eq(snap->nres[XDS_ROUTE], 4);
	/* the same DAG: everything reused, no version moves */
	size_t all = xt_step(NULL);
	ck_assert_uint_gt(all, 8);
	/* one plain proxy changes: ingress_http's vhost and nothing else */
	xt_put(XT_ROOT("a", "a.example.com",
	               "[{conditions: [{prefix: /v2}], services: [{name: home, port: 80}]}]"));
	ck_assert_uint_eq(xt_step(NULL), all - 1);
	/* a secure one: its chain, route configuration, fallback vhost and
	 * HTTPS-redirect vhost on ingress_http */
	xt_put(XT_TLSROOT("s", "s.example.com",
	                  "{secretName: tls-cert, enableFallbackCertificate: true}",
	                  "[{services: [{name: kuard, port: 80}]}]"));
	ck_assert_uint_eq(xt_step(NULL), all - 4);
	/* a Service's annotations change its cluster (and its users) */
	xt_put("apiVersion: v1\nkind: Service\nmetadata: {namespace: roots, name: kuard,\n"
	       "  annotations: {projectcontour.io/upstream-protocol.h2c: \"80\"}}\n"
	       "spec: {ports: [{port: 80, protocol: TCP}]}\n");
	ck_assert_uint_lt(xt_step(NULL), all);
	/* an EndpointSlice: one assignment */
	xt_put("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
	       "metadata:\n  namespace: roots\n  name: home-xyz\n"
	       "  labels: {kubernetes.io/service-name: home}\n"
	       "endpoints: [{addresses: [10.0.0.7]}]\n"
	       "ports: [{name: http, port: 8080, protocol: TCP}]\n");
	ck_assert_uint_eq(xt_step(NULL), all - 1);
	/* a Secret's content: its SDS resource, the chain that names it */
	xt_touch_secret();
	ck_assert_uint_lt(xt_step(NULL), all);
	all = xt_step(NULL);
	/* other settings: nothing may be reused */
	xds_settings_t set = {.http_port = 8081};
	ck_assert_uint_eq(xt_step(&set), 0);
	ck_assert_uint_eq(xt_step(&set), all);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("xds_translate");
	TCase *tc = tcase_create("names");
	tcase_add_test(tc, cluster_names);
	tcase_add_test(tc, hashname_and_durations);
	suite_add_tcase(s, tc);

	tc = tcase_create("resources");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, http_basic);
	tcase_add_test(tc, https_redirect_and_secrets);
	tcase_add_test(tc, upstream_tls_validation);
	tcase_add_test(tc, tcpproxy_passthrough_and_termination);
	tcase_add_test(tc, weights_and_inclusion);
	tcase_add_test(tc, versions_follow_content);
	tcase_add_test(tc, incremental_equals_fresh);
	tcase_add_test(tc, json_rendering);
	tcase_add_test(tc, client_validation);
	tcase_add_test(tc, fallback_certificate);
	tcase_add_test(tc, health_checks_and_breakers);
	tcase_add_test(tc, health_check_cluster_name_as_written);
	tcase_add_test(tc, cors_policy);
	tcase_add_test(tc, ip_filters);
	tcase_add_test(tc, global_timeouts);
	tcase_add_test(tc, global_timeouts_default);
	tcase_add_test(tc, global_tls);
	tcase_add_test(tc, global_tls_ceiling);
	tcase_add_test(tc, global_hcm_settings);
	tcase_add_test(tc, global_hcm_defaults);
	tcase_add_test(tc, global_compression_algorithms);
	tcase_add_test(tc, global_http2_only);
	tcase_add_test(tc, global_cluster_settings);
	tcase_add_test(tc, global_upstream_tls);
	tcase_add_test(tc, global_client_certificate);
	tcase_add_test(tc, global_client_certificate_unused);
	tcase_add_test(tc, global_client_certificate_invalid);
	tcase_add_test(tc, global_client_certificate_needs_namespace);
	tcase_add_test(tc, global_listener_settings);
	tcase_add_test(tc, global_listener_defaults);
	tcase_add_test(tc, global_listener_validation);
	tcase_add_test(tc, global_access_log_json);
	tcase_add_test(tc, global_access_log_defaults_json);
	tcase_add_test(tc, global_access_log_levels);
	tcase_add_test(tc, global_access_log_info);
	tcase_add_test(tc, global_access_log_format_string);
	suite_add_tcase(s, tc);

	tc = tcase_create("examples");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, upstream_examples, 0,
	                    (int)(sizeof(xt_examples) / sizeof(xt_examples[0])));
	tcase_add_test(tc, sort_examples_websockets_health);
	suite_add_tcase(s, tc);
	return tu_run_suite(s);
}
