#!/bin/sh
# k8s-watch with `read-only: true` in `contour serve` against the test API
# server (tests/k8sapi): objects still fill the store (the build serves
# them: contour_httpproxy_valid on /metrics), but contour writes nothing:
# no status PUT/PATCH/POST, no Lease request, no write of any kind, even
# with a load-balancer address to publish; it says so once in its log.
. "${top_srcdir:?}/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/k8s_lib.sh"
k8s_require

k8s_pki
echo tok-ro,contour >"$T/tokens"
cat >"$T/seed.json" <<'JSON'
[{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"ports":[{"port":80,"protocol":"TCP"}]}},
 {"apiVersion":"v1","kind":"Service","metadata":{"name":"envoy","namespace":"projectcontour"},"spec":{"type":"LoadBalancer","ports":[{"port":80,"protocol":"TCP"}]},"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.7"}]}}},
 {"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"a","namespace":"default"},"spec":{"virtualhost":{"fqdn":"a.example.com"},"routes":[{"services":[{"name":"web","port":80}]}]}},
 {"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"broken","namespace":"default"},"spec":{"virtualhost":{"fqdn":"broken.example.com"},"routes":[{"services":[{"name":"nothere","port":80}]}]}}]
JSON
k8s_apiserver_start --token-file "$T/tokens" --seed "$T/seed.json"
k8s_kubeconfig "$T/kubeconfig" token=tok-ro
cat >"$T/contour.yaml" <<YAML
build-holdoff: 10ms
ingress-status-address: 192.0.2.10
modules:
  - name: k8s-watch
    config:
      kubeconfig: $T/kubeconfig
      read-only: true
      leader-election-lease-duration: 2s
      leader-election-renew-deadline: 1s
      leader-election-retry-period: 200ms
  - name: tls-delegation
  - name: httpproxy
  - name: metrics
    config: {address: 127.0.0.1, port: 0, debug-port: 0}
YAML
contour_start "$T/contour.yaml"
[ "$(grep -c 'read-only: no status writes, no leader election' "$CLOG")" = 1 ] ||
	{ cat "$CLOG" >&2; fail "no single read-only line in the log"; }
ok "read-only announced once"

HPS=/apis/projectcontour.io/v1/namespaces/default/httpproxies
wait_metric 'contour_httpproxy_valid{namespace="default",vhost="a.example.com"} 1' 15
ok "seeded HTTPProxy synced into the store and built"
api POST "$HPS" '{"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"b","namespace":"default"},"spec":{"virtualhost":{"fqdn":"b.example.com"},"routes":[{"services":[{"name":"web","port":80}]}]}}'
api_ok 201
wait_metric 'contour_httpproxy_valid{namespace="default",vhost="b.example.com"} 1' 15
api_edit "$HPS/a" 'o.spec.routes[0].conditions = [{prefix: "/v2"}]'
ok "objects created and changed later are watched"

# Long enough for a Lease attempt (retry 200 ms) and for status writes after
# the builds (the status queue writes at once when it may).
sleep 2
api GET /_test/requests
expect_json 'o.requests.filter((e) => e.user === "contour" && e.method !== "GET").map((e) => e.method + " " + e.path).join(",")' ''
expect_json 'o.requests.filter((e) => e.user === "contour" && /\/leases/.test(e.path)).length' 0
expect_json 'o.requests.filter((e) => /\/status$/.test(e.path)).length' 0
expect_json 'o.requests.filter((e) => e.user === "contour" && e.method === "GET").length > 0' true
ok "contour only read: no write, no /status request, no Lease request"
for p in a broken b; do
	api GET "$HPS/$p"
	expect_json 'o.status === undefined' true
done
ok "no status on any HTTPProxy (valid or not)"
grep -q '^contour_leader' "$T/metrics" && fail "a leader gauge with read-only"
contour_stop
api GET /_test/requests
expect_json 'o.requests.filter((e) => e.user === "contour" && e.method !== "GET").length' 0
ok "clean stop, still no write (no Lease release)"
