#!/bin/sh
# Upstream's invocation means upstream's behaviour: the `contour serve`
# command line of upstream's Deployment (03-contour.yaml) with its
# contour.yaml (01-contour-config.yaml, no `modules:`) runs the split
# control plane. --incluster becomes --kubeconfig for the test API server,
# 0.0.0.0 becomes 127.0.0.1 with free ports, and /certs are certgen's
# files. Checked: the first log line names the role and why, the Lease is
# taken, an HTTPProxy's route reaches envoy_like.js over mTLS, every serve
# flag of upstream is accepted (the unimplemented ones warn), a value flag
# at the end of the line is an error naming it, and without a cluster flag
# the local role is still the default.
. "${top_srcdir:?}/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/k8s_lib.sh"

skip() {
	echo "SKIP: $*"
	if [ -n "${CONTOUR_STRICT_TESTS:-}" ]; then exit 1; fi
	exit 77
}
ref="${CONTOUR_REFERENCE_DIR:-}/contour-examples/contour"
[ -f "$ref/03-contour.yaml" ] && [ -f "$ref/01-contour-config.yaml" ] ||
	skip "reference folder missing: $ref"
k8s_require
command -v npm >/dev/null 2>&1 || skip "npm is not installed"

xds_client client-upstream envoy_like.js envoy_api.js || skip "npm ci failed (no registry access?)"

cd "$T"

# ---- upstream's files ----

# contour.yaml: the ConfigMap's data, unindented.
awk '/^  contour.yaml: \|/ {on = 1; next}
	on && /^[^ ]/ {exit}
	on && /^  [^ ]/ {exit}
	on {sub(/^    /, ""); print}' "$ref/01-contour-config.yaml" >contour.yaml
grep -q '^modules:' contour.yaml && fail "upstream's contour.yaml has modules:?"
[ -s contour.yaml ] || fail "no contour.yaml in 01-contour-config.yaml"
# The Deployment's args after `serve`, one a line.
awk '/^      - args:/ {on = 1; next}
	on && /^        - / {sub(/^        - /, ""); print; next}
	on {exit}' "$ref/03-contour.yaml" | sed -n '/^serve$/,$p' | sed 1d >args.txt
grep -qx -- --incluster args.txt || { cat args.txt; fail "no --incluster in 03-contour.yaml's args"; }
ok "upstream's args: $(tr '\n' ' ' <args.txt)"

"$CONTOUR" certgen --pem pki >certgen.out 2>&1 || { cat certgen.out; fail "certgen"; }

k8s_pki
echo "tok,contour" >"$T/tokens"
cat >"$T/seed.ndjson" <<'EOF'
{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":8080}]}}
{"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"web","namespace":"default"},"spec":{"virtualhost":{"fqdn":"web.example.com"},"routes":[{"conditions":[{"prefix":"/upstream-route"}],"services":[{"name":"web","port":80}]}]}}
EOF
k8s_apiserver_start --token-file "$T/tokens" --seed "$T/seed.ndjson" --port 0
k8s_kubeconfig "$T/kubeconfig" token=tok

# The args, rewritten for the test; metrics and debug on free ports too
# (upstream's defaults, 8000 and 6060, may be taken).
set --
while IFS= read -r a; do
	case $a in
	--incluster) a="--kubeconfig=$T/kubeconfig" ;;
	--xds-address=0.0.0.0) a="--xds-address=127.0.0.1" ;;
	--xds-port=*) a="--xds-port=0" ;;
	--contour-cafile=*) a="--contour-cafile=$T/pki/cacert.pem" ;;
	--contour-cert-file=*) a="--contour-cert-file=$T/pki/contourcert.pem" ;;
	--contour-key-file=*) a="--contour-key-file=$T/pki/contourkey.pem" ;;
	--config-path=*) a="--config-path=$T/contour.yaml" ;;
	esac
	set -- "$@" "$a"
done <args.txt
set -- "$@" --http-address=127.0.0.1 --http-port=0 --debug-http-port=0

log="$T/serve.log"
"$CONTOUR" serve "$@" >"$log" 2>&1 &
pid=$!
PIDS="$PIDS $pid"
k8s_wait_log "$log" " started: " 20 "$pid"
first=$(head -1 "$log")
case $first in
*"no modules in $T/contour.yaml and --kubeconfig given: running the split control plane (k8s-watch, tls-delegation, httpproxy, ingress, xds-grpc, metrics)"*) ;;
*) cat "$log"; fail "first log line: $first" ;;
esac
ok "first line: ${first#*: }"

LEASE=/apis/coordination.k8s.io/v1/namespaces/projectcontour/leases/leader-elect
k8s_wait_log "$log" "became leader" 20 "$pid"
api GET "$LEASE"
api_ok 200
holder=$(json_eval "$T/resp" 'o.spec.holderIdentity')
[ -n "$holder" ] || fail "the Lease has no holder"
ok "the leader-elect Lease in projectcontour is held by $holder"

port=$(sed -n 's/.*xDS server listening on 127\.0\.0\.1:\([0-9]*\) (mTLS).*/\1/p' "$log")
[ -n "$port" ] || { cat "$log"; fail "no mTLS xDS port in the log"; }
# The update: envoy_like.js runs it once it holds everything, then waits for
# the new vhost and its cluster default/web2/80/... in RDS and CDS.
svc2='{"apiVersion":"v1","kind":"Service","metadata":{"name":"web2","namespace":"default"},"spec":{"ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":8080}]}}'
hp2='{"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"web2","namespace":"default"},"spec":{"virtualhost":{"fqdn":"web2.example.com"},"routes":[{"services":[{"name":"web2","port":80}]}]}}'
printf '%s' "$svc2" >"$T/svc2.json"
printf '%s' "$hp2" >"$T/hp2.json"
printf '%s' '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"web2-a","namespace":"default","labels":{"kubernetes.io/service-name":"web2"}},"addressType":"IPv4","endpoints":[{"addresses":["10.0.0.9"],"conditions":{"ready":true}}],"ports":[{"name":"http","port":8080,"protocol":"TCP"}]}' >"$T/eps2.json"
post="curl -sS -o /dev/null -f --cacert $T/ca.crt -H 'Authorization: Bearer $K8S_ADMIN' -H 'Content-Type: application/json'"
update="$post --data-binary @$T/svc2.json $API/api/v1/namespaces/default/services && \
$post --data-binary @$T/eps2.json $API/apis/discovery.k8s.io/v1/namespaces/default/endpointslices && \
$post --data-binary @$T/hp2.json $API/apis/projectcontour.io/v1/namespaces/default/httpproxies"
env XDS_ADDR="127.0.0.1:$port" XDS_MODE=sotw XDS_EXAMPLES=all \
	XDS_CA=pki/cacert.pem XDS_CERT=pki/envoycert.pem XDS_KEY=pki/envoykey.pem \
	XDS_UPDATE_FQDN=web2.example.com XDS_UPDATE_SERVICE=web2 XDS_UPDATE_CMD="$update" \
	timeout 60 node "$client/envoy_like.js" >"$T/client.log" 2>&1 ||
	{ cat "$T/client.log" "$log"; fail "envoy_like.js over mTLS"; }
grep -q 'ok - sotw: [1-9][0-9]* listeners, [1-9][0-9]* route configs, [1-9][0-9]* clusters' \
	"$T/client.log" || { cat "$T/client.log"; fail "no resources over mTLS"; }
expect_in "$T/client.log" "the update reached the client"
ok "over mTLS: $(grep -o '[0-9]* listeners.*clusters' "$T/client.log"); a new HTTPProxy's vhost and cluster arrived"

kill -TERM "$pid"
wait_exit "$pid" 10
[ "$rc" = 0 ] || { cat "$log" >&2; fail "contour serve exited $rc after SIGTERM"; }
ok "SIGTERM: exit 0"

# ---- every serve flag of upstream (contour-features.md §4.2) ----

# FLAG=VALUE, or a bare boolean FLAG; ! marks the unimplemented ones.
base="--kubeconfig=$T/kubeconfig --contour-cafile=$T/pki/cacert.pem \
--contour-cert-file=$T/pki/contourcert.pem --contour-key-file=$T/pki/contourkey.pem"
while read -r mark flag; do
	# shellcheck disable=SC2086
	"$CONTOUR" check-config "$T/contour.yaml" $base "$flag" >"$T/out" 2>"$T/err" ||
		{ cat "$T/out" "$T/err"; fail "check-config with $flag"; }
	name=${flag%%=*}
	if [ "$mark" = "!" ]; then
		expect_in "$T/err" "flag $name is accepted but not implemented yet: ignored"
		[ "$(grep -c "flag $name is accepted" "$T/err")" = 1 ] || fail "$name warned twice"
	else
		grep -q "not implemented" "$T/err" && { cat "$T/err"; fail "$flag warned"; }
	fi
done <<EOF
= --config-path=$T/contour.yaml
! --contour-config-name=contour
= --insecure
= --xds-address=127.0.0.1
= --xds-port=8001
= --http-address=0.0.0.0
= --http-port=8000
= --health-address=0.0.0.0
= --health-port=8000
! --health-address=127.0.0.2
! --health-port=8009
= --debug-http-address=127.0.0.1
= --debug-http-port=6060
= --envoy-service-http-address=0.0.0.0
= --envoy-service-http-port=8080
= --envoy-service-https-address=0.0.0.0
= --envoy-service-https-port=8443
= --stats-address=0.0.0.0
= --stats-port=8002
= --envoy-http-access-log=/dev/stdout
= --envoy-https-access-log=/dev/stdout
= --accesslog-format=envoy
= --envoy-service-name=envoy
= --envoy-service-namespace=projectcontour
= --ingress-status-address=192.0.2.1
= --ingress-class-name=contour
= --root-namespaces=a,b
= --watch-namespaces=default
! --use-proxy-protocol
= --disable-feature=tlsroutes
= --disable-feature=extensionservices,grpcroutes
= --disable-leader-election
= --leader-election-lease-duration=15s
= --leader-election-renew-deadline=10s
= --leader-election-retry-period=2s
= --leader-election-resource-name=leader-elect
= --leader-election-resource-namespace=projectcontour
= --incluster
= --kubeconfig=$T/kubeconfig
! --kubernetes-client-qps=5
! --kubernetes-client-burst=10
! --kubernetes-debug=4
= --debug
= -d
EOF
ok "every serve flag of §4.2 is accepted; the unimplemented ones warn once"

# ---- errors ----

expect_rc 1 "$CONTOUR" check-config "$T/contour.yaml" $base --xds-port
expect_in "$T/err" "flag '--xds-port' needs a value"
expect_rc 1 "$CONTOUR" serve --config-path "$T/contour.yaml" $base --xds-port
expect_in "$T/err" "flag '--xds-port' needs a value"
expect_rc 1 "$CONTOUR" check-config "$T/contour.yaml" $base --xds-port=eighty
expect_in "$T/err" "flag --xds-port: "
grep -q "contour.yaml:[0-9]" "$T/err" && { cat "$T/err"; fail "a bad flag value named a config line"; }
ok "--xds-port with no value, or a bad one: an error naming the flag"

expect_rc 1 "$CONTOUR" check-config "$T/contour.yaml" $base --disable-feature=tlsroutes --disable-feature=httpproxies
expect_in "$T/err" "flag --disable-feature: enum value must be one of extensionservices,tlsroutes,grpcroutes,tcproutes,backendtlspolicies, got 'httpproxies'"
expect_rc 1 "$CONTOUR" check-config "$T/contour.yaml" $base --disable-feature
expect_in "$T/err" "flag '--disable-feature' needs a value"
ok "--disable-feature: upstream's enum, every repeat checked"

# ---- without a cluster flag: the local role ----

expect_rc 0 "$CONTOUR" check-config "$T/contour.yaml" --insecure
expect_in "$T/err" "and no --incluster, --kubeconfig, incluster or kubeconfig: running the local role (file-watch"
ok "no cluster flag: the local role"
