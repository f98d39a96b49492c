#!/bin/sh
# Status write-back through `contour serve` with k8s-watch against the test
# API server (tests/k8sapi): HTTPProxy status with upstream's content and
# the configured load-balancer address, Ingress status.loadBalancer (only for
# our class), no write when nothing changed, and a 409 retried after
# re-reading the object.
. "${top_srcdir:?}/tests/integration/lib.sh"

skip() {
	echo "SKIP: $*"
	[ -n "${CONTOUR_STRICT_TESTS:-}" ] && exit 1
	exit 77
}
command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"
command -v curl >/dev/null 2>&1 || skip "curl is not installed"

# ---- the test API server ----

ossl() { openssl "$@" >/dev/null 2>&1 || fail "openssl $*"; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/ca.key" \
	-subj /CN=ca -days 2 -out "$T/ca.crt"
ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/srv.key" \
	-subj /CN=apiserver -out "$T/srv.csr"
echo "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$T/srv.ext"
ossl x509 -req -in "$T/srv.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 \
	-extfile "$T/srv.ext" -out "$T/srv.crt"
echo "tok-contour,contour" >"$T/tokens"

cat >"$T/seed.ndjson" <<'EOF'
{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":8080}]}}
{"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"web","namespace":"default"},"spec":{"virtualhost":{"fqdn":"web.example.com"},"routes":[{"services":[{"name":"web","port":80}]}]}}
{"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"broken","namespace":"default"},"spec":{"virtualhost":{"fqdn":"broken.example.com"},"routes":[{"services":[{"name":"missing","port":80}]}]}}
{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"ing","namespace":"default"},"spec":{"defaultBackend":{"service":{"name":"web","port":{"number":80}}}}}
{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"nginx","namespace":"default"},"spec":{"ingressClassName":"nginx","defaultBackend":{"service":{"name":"web","port":{"number":80}}}}}
EOF

node "$top_srcdir/tests/k8sapi/apiserver.js" --cert "$T/srv.crt" --key "$T/srv.key" \
	--ca "$T/ca.crt" --token-file "$T/tokens" --admin-token ADMIN --seed "$T/seed.ndjson" \
	--port 0 >"$T/api.out" 2>"$T/api.err" &
PIDS="$PIDS $!"
wait_for "$T/api.out" "listening on https://" 20
URL=$(sed -n 's/^listening on \(https:[^ ]*\).*/\1/p' "$T/api.out" | head -1)

# api METHOD PATH [BODY]: call the API as admin; the answer in $T/resp.
api() {
	if [ $# -ge 3 ]; then
		curl -sS -o "$T/resp" -w '%{http_code}' --cacert "$T/ca.crt" -X "$1" \
			-H 'Authorization: Bearer ADMIN' -H 'Content-Type: application/json' \
			--data-binary "$3" "$URL$2" >"$T/code"
	else
		curl -sS -o "$T/resp" -w '%{http_code}' --cacert "$T/ca.crt" -X "$1" \
			-H 'Authorization: Bearer ADMIN' "$URL$2" >"$T/code"
	fi
}

# jq_ FILE EXPR: evaluate a JavaScript expression over the JSON in FILE (as o).
jq_() {
	node -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const v = eval(process.argv[2]);
		process.stdout.write(typeof v === "string" ? v : JSON.stringify(v === undefined ? null : v));' "$1" "$2"
}

HP=/apis/projectcontour.io/v1/namespaces/default/httpproxies
ING=/apis/networking.k8s.io/v1/namespaces/default/ingresses

# wait_api PATH EXPR WANT [SECONDS]: until EXPR over the object at PATH is WANT.
wait_api() {
	i=0
	while :; do
		api GET "$1"
		got=$(jq_ "$T/resp" "$2")
		[ "$got" = "$3" ] && return 0
		i=$((i + 1))
		[ $i -gt $(( ${4:-15} * 5 )) ] && {
			cat "$T/resp" >&2
			cat "$T/serve.err" >&2
			fail "$1: $2 is '$got', want '$3'"
		}
		sleep 0.2
	done
}

# ---- contour serve ----

cat >"$T/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: $URL
    certificate-authority: $T/ca.crt
users:
- name: contour
  user:
    token: tok-contour
contexts:
- name: test
  context: {cluster: test, user: contour}
current-context: test
EOF
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
    config: {address: 127.0.0.1, port: 0}
EOF

"$CONTOUR" serve --config "$T/contour.yaml" >"$T/serve.out" 2>"$T/serve.err" &
SERVE=$!
PIDS="$PIDS $SERVE"
wait_for "$T/serve.err" "became leader" 20

# HTTPProxy status as upstream writes it, with the address.
wait_api "$HP/web" 'o.status && o.status.currentStatus' valid
expect_status() {
	[ "$(jq_ "$T/resp" "$1")" = "$2" ] || {
		cat "$T/resp" >&2
		fail "$1 is '$(jq_ "$T/resp" "$1")', want '$2'"
	}
}
expect_status 'o.status.description' 'Valid HTTPProxy'
expect_status 'o.status.conditions[0].type + "/" + o.status.conditions[0].status + "/" + o.status.conditions[0].reason' 'Valid/True/Valid'
expect_status 'o.status.conditions[0].observedGeneration' '1'
expect_status 'o.status.loadBalancer.ingress' '[{"ip":"192.0.2.10"},{"hostname":"lb.example.com"}]'
LTT=$(jq_ "$T/resp" 'o.status.conditions[0].lastTransitionTime')
echo "$LTT" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' ||
	fail "lastTransitionTime '$LTT'"
ok "HTTPProxy status written with the load-balancer address"

wait_api "$HP/broken" 'o.status && o.status.currentStatus' invalid
expect_status 'o.status.conditions[0].errors[0].reason' 'ServiceUnresolvedReference'
ok "invalid HTTPProxy status written"

wait_api "$ING/ing" 'o.status && o.status.loadBalancer && o.status.loadBalancer.ingress' \
	'[{"ip":"192.0.2.10"},{"hostname":"lb.example.com"}]'
api GET "$ING/nginx"
expect_status 'o.status && o.status.loadBalancer && o.status.loadBalancer.ingress || null' 'null'
ok "Ingress status.loadBalancer for our class only"

# ---- no write when nothing changed ----
# A change that rebuilds without changing any status: a new Service.
sleep 1
api DELETE /_test/requests
api POST /api/v1/namespaces/default/services \
	'{"apiVersion":"v1","kind":"Service","metadata":{"name":"unrelated"},"spec":{"ports":[{"port":81}]}}'
[ "$(cat "$T/code")" = 201 ] || fail "creating a Service: $(cat "$T/resp")"
sleep 2
api GET /_test/requests
PUTS=$(jq_ "$T/resp" 'o.requests.filter((r) => r.method === "PUT" && /\/status$/.test(r.path)).length')
[ "$PUTS" = 0 ] || {
	cat "$T/resp" >&2
	fail "$PUTS status writes after a change that changed no status"
}
api GET /api/v1/namespaces/default/services/unrelated
[ "$(cat "$T/code")" = 200 ] || fail "the Service is not there"
ok "no status write when nothing changed"

# ---- 409: re-read and retry ----
api POST /_test/faults '{"path":"httpproxies/web/status$","verb":"put","action":"conflict"}'
api DELETE /_test/requests
api GET "$HP/web"
node -e 'const fs = require("fs"); const o = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
	o.spec.routes[0].conditions = [{prefix: "/v2"}]; delete o.status;
	fs.writeFileSync(process.argv[2], JSON.stringify(o));' "$T/resp" "$T/web2.json"
api PUT "$HP/web" "$(cat "$T/web2.json")"
[ "$(cat "$T/code")" = 200 ] || fail "updating web: $(cat "$T/resp")"
wait_api "$HP/web" 'o.status.conditions[0].observedGeneration' 2
api GET /_test/requests
SEQ=$(jq_ "$T/resp" 'o.requests.filter((r) => /httpproxies\/web(\/status)?$/.test(r.path) && r.user === "contour").map((r) => r.method + " " + r.status).join(",")')
case "$SEQ" in
"PUT 409,GET 200,PUT 200") ;;
*) fail "requests for web after the change: '$SEQ', want 'PUT 409,GET 200,PUT 200'" ;;
esac
api GET /_test/faults
[ "$(jq_ "$T/resp" '(o.faults || o)[0].hits')" = 1 ] || fail "the conflict fault was not hit: $(cat "$T/resp")"
ok "409 retried after re-reading the object"

# The status metrics count it.
PORT=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$T/serve.err" | head -1)
if [ -n "$PORT" ]; then
	curl -s "http://127.0.0.1:$PORT/metrics" >"$T/metrics"
	# at least the forced 409 (a loaded machine can add a real one: the
	# writer racing this test's own PUT of the spec)
	grep -q 'contour_status_update_conflict_total{kind="HTTPProxy"} [1-9]' "$T/metrics" ||
		fail "the 409 was not counted"
	expect_in "$T/metrics" 'contour_status_update_noop_total{kind="HTTPProxy"}'
	expect_in "$T/metrics" 'contour_status_update_success_total{kind="Ingress"}'
	expect_in "$T/metrics" 'contour_leader 1'
	ok "status metrics"
fi

kill -TERM "$SERVE"
wait_exit "$SERVE" 10
[ "$rc" = 0 ] || fail "contour serve exited $rc"
api GET /apis/coordination.k8s.io/v1/namespaces/projectcontour/leases/leader-elect
[ "$(jq_ "$T/resp" 'o.spec.holderIdentity')" = "" ] || fail "lease not released: $(cat "$T/resp")"
ok "lease released on shutdown"

# ---- the Envoy Service's address; --disable-leader-election ----
# Without ingress-status-address the address comes from the Envoy Service's
# status.loadBalancer; with leader election disabled this replica writes at
# once and takes no Lease.
api PUT /apis/coordination.k8s.io/v1/namespaces/projectcontour/leases/leader-elect \
	"$(sed 's/"holderIdentity":""/"holderIdentity":"someone-else"/' "$T/resp")"
[ "$(cat "$T/code")" = 200 ] || fail "taking the lease: $(cat "$T/resp")"
api POST /api/v1/namespaces/projectcontour/services \
	'{"apiVersion":"v1","kind":"Service","metadata":{"name":"envoy"},"spec":{"type":"LoadBalancer","ports":[{"port":80}]}}'
[ "$(cat "$T/code")" = 201 ] || fail "creating the Envoy Service: $(cat "$T/resp")"
node -e 'const o = JSON.parse(process.argv[1]);
	o.status = {loadBalancer: {ingress: [{hostname: "envoy-lb.example.com", ipMode: "Proxy",
		ports: [{port: 80, protocol: "TCP"}]}]}};
	process.stdout.write(JSON.stringify(o));' "$(cat "$T/resp")" >"$T/svc.json"
api PUT /api/v1/namespaces/projectcontour/services/envoy/status "$(cat "$T/svc.json")"
[ "$(cat "$T/code")" = 200 ] || fail "Envoy Service status: $(cat "$T/resp")"
sed -i '/^ingress-status-address/d' "$T/contour.yaml"
"$CONTOUR" serve --config "$T/contour.yaml" --disable-leader-election \
	>"$T/serve.out" 2>"$T/serve.err" &
SERVE=$!
PIDS="$PIDS $SERVE"
wait_for "$T/serve.err" "leader election disabled" 20
wait_api "$ING/ing" 'o.status.loadBalancer.ingress' \
	'[{"hostname":"envoy-lb.example.com","ports":[{"port":80,"protocol":"TCP"}]}]'
wait_api "$HP/web" 'o.status.loadBalancer.ingress' \
	'[{"hostname":"envoy-lb.example.com","ipMode":"Proxy","ports":[{"port":80,"protocol":"TCP"}]}]'
api GET /apis/coordination.k8s.io/v1/namespaces/projectcontour/leases/leader-elect
[ "$(jq_ "$T/resp" 'o.spec.holderIdentity')" = someone-else ] ||
	fail "the lease was touched: $(cat "$T/resp")"
ok "Envoy Service address (networking form on Ingress, core form on HTTPProxy), no lease"
kill -TERM "$SERVE"
wait_exit "$SERVE" 10
[ "$rc" = 0 ] || fail "contour serve exited $rc"
