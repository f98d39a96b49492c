#!/bin/sh
# Status write-back through `contour serve` with k8s-watch against the test
# API server (tests/k8sapi): HTTPProxy status with upstream's content and
# the configured load-balancer address, Ingress status.loadBalancer (only for
# our class), no write when nothing changed, and a 409 retried after
# re-reading the object.
. "${top_srcdir:?}/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/k8s_lib.sh"
k8s_require

# ---- the test API server ----

k8s_pki
echo "tok-contour,contour" >"$T/tokens"

cat >"$T/seed.ndjson" <<'EOF'
{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":8080}]}}
{"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"web","namespace":"default"},"spec":{"virtualhost":{"fqdn":"web.example.com"},"routes":[{"services":[{"name":"web","port":80}]}]}}
{"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"broken","namespace":"default"},"spec":{"virtualhost":{"fqdn":"broken.example.com"},"routes":[{"services":[{"name":"missing","port":80}]}]}}
{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"ing","namespace":"default"},"spec":{"defaultBackend":{"service":{"name":"web","port":{"number":80}}}}}
{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"nginx","namespace":"default"},"spec":{"ingressClassName":"nginx","defaultBackend":{"service":{"name":"web","port":{"number":80}}}}}
EOF
k8s_apiserver_start --token-file "$T/tokens" --seed "$T/seed.ndjson" --port 0

HP=/apis/projectcontour.io/v1/namespaces/default/httpproxies
ING=/apis/networking.k8s.io/v1/namespaces/default/ingresses

# ---- contour serve ----

k8s_kubeconfig "$T/kubeconfig" token=tok-contour
cat >"$T/contour.yaml" <<EOF
kubeconfig: $T/kubeconfig
ingress-status-address: 192.0.2.10, lb.example.com
modules:
  - name: k8s-watch
    config:
      leader-election-resource-namespace: projectcontour
  - name: tls-delegation
  - name: httpproxy
  - name: metrics
    config: {address: 127.0.0.1, port: 0, debug-port: 0}
EOF

contour_start "$T/contour.yaml"
wait_for "$CLOG" "became leader" 20

# HTTPProxy status as upstream writes it, with the address.
wait_api "$HP/web" 'o.status && o.status.currentStatus' valid
expect_json 'o.status.description' 'Valid HTTPProxy'
expect_json 'o.status.conditions[0].type + "/" + o.status.conditions[0].status + "/" + o.status.conditions[0].reason' 'Valid/True/Valid'
expect_json 'o.status.conditions[0].observedGeneration' '1'
expect_json 'o.status.loadBalancer.ingress' '[{"ip":"192.0.2.10"},{"hostname":"lb.example.com"}]'
LTT=$(json_eval "$T/resp" 'o.status.conditions[0].lastTransitionTime')
echo "$LTT" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' ||
	fail "lastTransitionTime '$LTT'"
ok "HTTPProxy status written with the load-balancer address"

wait_api "$HP/broken" 'o.status && o.status.currentStatus' invalid
expect_json 'o.status.conditions[0].errors[0].reason' 'ServiceUnresolvedReference'
ok "invalid HTTPProxy status written"

wait_api "$ING/ing" 'o.status && o.status.loadBalancer && o.status.loadBalancer.ingress' \
	'[{"ip":"192.0.2.10"},{"hostname":"lb.example.com"}]'
api GET "$ING/nginx"
expect_json 'o.status && o.status.loadBalancer && o.status.loadBalancer.ingress || null' 'null'
ok "Ingress status.loadBalancer for our class only"

# ---- no write when nothing changed ----
# A change that rebuilds without changing any status: a new Service.
sleep 1
api DELETE /_test/requests
api POST /api/v1/namespaces/default/services \
	'{"apiVersion":"v1","kind":"Service","metadata":{"name":"unrelated"},"spec":{"ports":[{"port":81}]}}'
api_ok 201
sleep 2
api GET /_test/requests
PUTS=$(json_eval "$T/resp" 'o.requests.filter((r) => r.method === "PUT" && /\/status$/.test(r.path)).length')
[ "$PUTS" = 0 ] || {
	cat "$T/resp" >&2
	fail "$PUTS status writes after a change that changed no status"
}
api GET /api/v1/namespaces/default/services/unrelated
api_ok 200
ok "no status write when nothing changed"

# ---- 409: re-read and retry ----
api POST /_test/faults '{"path":"httpproxies/web/status$","verb":"put","action":"conflict"}'
api DELETE /_test/requests
api_edit "$HP/web" 'o.spec.routes[0].conditions = [{prefix: "/v2"}]; delete o.status'
wait_api "$HP/web" 'o.status.conditions[0].observedGeneration' 2
api GET /_test/requests
SEQ=$(json_eval "$T/resp" 'o.requests.filter((r) => /httpproxies\/web(\/status)?$/.test(r.path) && r.user === "contour").map((r) => r.method + " " + r.status).join(",")')
case "$SEQ" in
"PUT 409,GET 200,PUT 200") ;;
*) fail "requests for web after the change: '$SEQ', want 'PUT 409,GET 200,PUT 200'" ;;
esac
api GET /_test/faults
expect_json '(o.faults || o)[0].hits' 1
ok "409 retried after re-reading the object"

# The status metrics count it.
curl -s "$M" >"$T/metrics"
# at least the forced 409 (a loaded machine can add a real one: the writer
# racing this test's own PUT of the spec)
grep -q 'contour_status_update_conflict_total{kind="HTTPProxy"} [1-9]' "$T/metrics" ||
	fail "the 409 was not counted"
expect_in "$T/metrics" 'contour_status_update_noop_total{kind="HTTPProxy"}'
expect_in "$T/metrics" 'contour_status_update_success_total{kind="Ingress"}'
expect_in "$T/metrics" 'contour_leader 1'
ok "status metrics"

contour_stop
api GET /apis/coordination.k8s.io/v1/namespaces/projectcontour/leases/leader-elect
expect_json 'o.spec.holderIdentity' ""
ok "lease released on shutdown"

# ---- the Envoy Service's address; --disable-leader-election ----
# Without ingress-status-address the address comes from the Envoy Service's
# status.loadBalancer; with leader election disabled this replica writes at
# once and takes no Lease.
api_edit /apis/coordination.k8s.io/v1/namespaces/projectcontour/leases/leader-elect \
	'o.spec.holderIdentity = "someone-else"'
api POST /api/v1/namespaces/projectcontour/services \
	'{"apiVersion":"v1","kind":"Service","metadata":{"name":"envoy"},"spec":{"type":"LoadBalancer","ports":[{"port":80}]}}'
api_ok 201
api_edit /api/v1/namespaces/projectcontour/services/envoy \
	'o.status = {loadBalancer: {ingress: [{hostname: "envoy-lb.example.com", ipMode: "Proxy",
		ports: [{port: 80, protocol: "TCP"}]}]}}' /api/v1/namespaces/projectcontour/services/envoy/status
sed -i '/^ingress-status-address/d' "$T/contour.yaml"
contour_start "$T/contour.yaml" --disable-leader-election
wait_for "$CLOG" "leader election disabled" 20
wait_api "$ING/ing" 'o.status.loadBalancer.ingress' \
	'[{"hostname":"envoy-lb.example.com","ports":[{"port":80,"protocol":"TCP"}]}]'
wait_api "$HP/web" 'o.status.loadBalancer.ingress' \
	'[{"hostname":"envoy-lb.example.com","ipMode":"Proxy","ports":[{"port":80,"protocol":"TCP"}]}]'
api GET /apis/coordination.k8s.io/v1/namespaces/projectcontour/leases/leader-elect
expect_json 'o.spec.holderIdentity' someone-else
ok "Envoy Service address (networking form on Ingress, core form on HTTPProxy), no lease"
contour_stop
