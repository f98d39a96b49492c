/* modules/httpproxy/hp_tcpproxy.c: spec.tcpproxy (upstream's
 * processHTTPProxyTCPProxy): services on the root's secure vhost, or an
 * include of a child proxy whose tcpproxy is followed in turn, with
 * upstream's cycle detection and messages. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "modules/httpproxy/hp_proc.h"

static int hp_tcpproxy_services(hp_build_t *b, hp_status_t *st, hp_proxy_t *px, const json_t *tcp,
                                const char *host, int passthrough,
                                contour_dag_lb_strategy_t strategy)
{
	contour_dag_tcpproxy_t *proxy = contour_dag_tcpproxy_new(b->dag);
	if (!proxy)
		goto nomem;
	const json_t *hcp = json_object_get(tcp, "healthCheckPolicy");
	size_t i;
	const json_t *service;
	json_array_foreach(contour_json_get_arr(tcp, "services"), i, service)
	{
		contour_dag_health_check_t *hc = NULL;
		if (hcp && hp_policy_health_check(b->dag, hcp, 1, &hc, st) != 0)
			return -1;
		const char *name = contour_json_get_str(service, "name");
		json_int_t port = contour_json_get_int(service, "port");
		/* No range check here: upstream lets the lookup fail. */
		if (port < 0 || port > 65535)
			port = 0;
		json_int_t health_port = port;
		if (hc && contour_json_get_int(service, "healthPort") > 0)
			health_port = contour_json_get_int(service, "healthPort");
		contour_dag_cluster_t *c = contour_dag_cluster_new(b->dag);
		if (!c)
			goto nomem;
		const char *annotated = NULL;
		char err[1024];
		if (hp_resolve_service(b, px, name, (uint32_t)port, (uint32_t)health_port,
		                       &c->service, &annotated, &c->circuit_breakers, err,
		                       sizeof(err)) != 0) {
			hp_status_error_ref(st, "TCPProxyError", "ServiceUnresolvedReference",
			                    "Spec.TCPProxy unresolved service reference: %s", err);
			return -1;
		}
		if (hp_service_protocol(st, service, annotated, &c->protocol) != 0)
			return -1;
		c->protocol = contour_dag_strdup(b->dag, c->protocol);
		if ((!strcmp(c->protocol, "tls") || !strcmp(c->protocol, "h2")) &&
		    contour_json_get_obj(service, "validation") &&
		    hp_tls_upstream_validation(b, st, px, service, c) != 0)
			return -1;
		c->lb_strategy = strategy;
		c->health_check = hc;
		c->idle_connection_timeout_ms = CONTOUR_DAG_TIMEOUT_DEFAULT;
		if (c->service.external_name && *c->service.external_name)
			c->sni = c->service.external_name;
		contour_dag_cluster_t *cl = contour_dag_cluster_intern(b->dag, c);
		json_int_t weight = contour_json_get_int(service, "weight");
		contour_dag_backend_t *be =
		    cl ? contour_dag_backend_push(b->dag, &proxy->backends, &proxy->nbackends)
		       : NULL;
		if (!be)
			goto nomem;
		be->cluster = cl;
		be->weight = weight > 0 ? (uint32_t)weight : 0;
	}
	contour_dag_svhost_t *sv = contour_dag_svhost(b->dag, host);
	if (!sv)
		goto nomem;
	sv->tcpproxy = proxy;
	sv->passthrough = passthrough;
	return 0;
nomem:
	b->nomem = 1;
	return -1;
}

int hp_tcpproxy(hp_build_t *b, hp_status_t *st, hp_proxy_t *px, const hp_visit_t *visited,
                const char *host, int passthrough)
{
	const json_t *tcp = contour_json_get_obj(px->spec, "tcpproxy");
	if (!tcp)
		return 0;
	hp_visit_t here = {.px = px, .up = visited};
	/* The singular key wins over the legacy plural one. */
	const json_t *inc = contour_json_get_obj(tcp, "include");
	if (!inc)
		inc = contour_json_get_obj(tcp, "includes");
	if (json_array_size(contour_json_get_arr(tcp, "services")) > 0 && inc) {
		hp_status_error(st, "TCPProxyError", "NoServicesAndInclude",
		                "cannot specify services and include in the same httpproxy");
		return -1;
	}
	/* Cookie and RequestHash are ignored with a warning, whichever way the
	 * proxy goes on. */
	contour_dag_lb_strategy_t strategy = CONTOUR_DAG_LB_ROUND_ROBIN;
	contour_dag_hash_policy_t *hash = NULL;
	size_t nhash = 0;
	if (hp_policy_load_balancer(b->dag, json_object_get(tcp, "loadBalancerPolicy"), 1,
	                            &strategy, &hash, &nhash, st) != 0)
		return -1;
	if (json_array_size(contour_json_get_arr(tcp, "services")) > 0)
		return hp_tcpproxy_services(b, st, px, tcp, host, passthrough, strategy);
	if (!inc) {
		hp_status_error(st, "TCPProxyError", "NothingDefined",
		                "either services or inclusion must be specified");
		return -1;
	}
	const char *ns = contour_json_get_str(inc, "namespace");
	const char *name = contour_json_get_str(inc, "name");
	if (!*ns)
		ns = px->ns;
	hp_proxy_t *dest = hp_build_find(b, ns, name);
	if (!dest) {
		hp_status_error_ref(st, "TCPProxyIncludeError", "IncludeNotFound",
		                    "include %s/%s not found", ns, name);
		return -1;
	}
	if (contour_json_get_obj(dest->spec, "virtualhost")) {
		hp_status_error_ref(st, "TCPProxyIncludeError", "RootIncludesRoot",
		                    "root httpproxy cannot include another root httpproxy (%s/%s)",
		                    dest->ns, dest->name);
		return -1;
	}
	dest->orphaned = 0;
	for (const hp_visit_t *v = &here; v; v = v->up) {
		if (v->px == dest) {
			hp_status_error_ref(st, "TCPProxyIncludeError", "IncludeCreatesCycle",
			                    "include creates a cycle: %s",
			                    hp_visit_path(b, &here, dest));
			return -1;
		}
	}
	hp_status_t *dst = hp_build_accessor(b, dest);
	if (!dst)
		return -1;
	int rc = hp_tcpproxy(b, dst, dest, &here, host, passthrough);
	hp_build_commit(b, dest, dst);
	return rc;
}
