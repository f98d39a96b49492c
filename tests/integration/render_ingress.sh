#!/bin/sh
# `contour render` over the Ingress fixtures, through the real binary and
# the real modules: the seed's ingress-class example is served only with
# its class configured; path types, the default backend, TLS with and
# without delegation, the annotations, the merge with an HTTPProxy and the
# inputs upstream skips, in the status, DAG and Envoy outputs.
. "${top_srcdir:?}/tests/integration/lib.sh"

# The ingress module may not be on the harness's search path yet.
CONTOUR_MODULE_PATH="${CONTOUR_MODULE_PATH:-}:$top_builddir/modules/ingress/.libs"
export CONTOUR_MODULE_PATH

fx="$top_srcdir/tests/fixtures/ingress"
secrets="$top_srcdir/tests/fixtures/httpproxy/secrets.yaml"

# --- the seed's ingress class example ----------------------------------------
expect_rc 0 "$CONTOUR" render "$fx/ingress-class.yaml"
grep -q '"kind": "Ingress"' "$T/out" && fail "an unconfigured controller took my-ingress-class"
expect_rc 0 "$CONTOUR" render --format dag "$fx/ingress-class.yaml"
grep -q 'my-svc.example.com' "$T/out" && fail "my-ingress-class served without its class"
ok "my-ingress-class is ignored by a controller with no class"

printf 'ingress-class-name: my-ingress-class\ningress-status-address: 192.0.2.10\n' \
	>"$T/class.yaml"
expect_rc 0 "$CONTOUR" render --config "$T/class.yaml" "$fx/ingress-class.yaml"
expect_in "$T/out" '"name": "my-ingress"'
expect_in "$T/out" '"ip": "192.0.2.10"'
expect_rc 0 "$CONTOUR" render --config "$T/class.yaml" --format dag "$fx/ingress-class.yaml"
expect_in "$T/out" '"fqdn": "my-svc.example.com"'
expect_in "$T/out" '"cluster": "7:default;6:my-svc;80/'
ok "my-ingress-class is served, with its loadBalancer status, once configured"

printf 'ingress-class-name: other\n' >"$T/other.yaml"
expect_rc 0 "$CONTOUR" render --config "$T/other.yaml" --format dag "$fx/ingress-class.yaml"
grep -q 'my-svc.example.com' "$T/out" && fail "my-ingress-class served by class other"
ok "another class does not take it"

# upstream's flag, as serve takes it, overrides the config file
expect_rc 0 "$CONTOUR" render --ingress-class-name=my-ingress-class --format dag \
	"$fx/ingress-class.yaml"
expect_in "$T/out" '"fqdn": "my-svc.example.com"'
expect_rc 0 "$CONTOUR" render --config "$T/class.yaml" --ingress-class-name other --format dag \
	"$fx/ingress-class.yaml"
grep -q 'my-svc.example.com' "$T/out" && fail "--ingress-class-name other did not override"
ok "render takes --ingress-class-name like serve"

# --- everything else, in one build ------------------------------------------
expect_rc 0 "$CONTOUR" render --format dag "$fx" "$secrets"
cp "$T/out" "$T/dag.json"
cp "$T/err" "$T/dag.err"
for want in '"type": "exact"' '"type": "segment-prefix"' '"type": "regex"' \
	'"path": "/v[0-9]+/api"' '"path": "/app"' '"fqdn": "*"' \
	'"fqdn": "*.wild.example.com"' '"numRetries": 3' '"perTryTimeoutMs": 250' \
	'"retryOn": "5xx,gateway-error"' '"timeoutMs": 45000' '"websockets": true' \
	'"httpsRedirect": true' '"secret": "roots/tls-cert"' \
	'"secret": "delegated/shared-cert"' '"minTLSVersion": "1.3"' \
	'"fqdn": "good.example.com"'; do
	expect_in "$T/dag.json" "$want"
done
ok "path types, default backend, wildcard host, annotations and TLS in the DAG"

# Upstream runs the Ingress processor first: the HTTPProxy's "/" wins.
expect_rc 0 "$CONTOUR" render --format dot "$fx" "$secrets"
expect_in "$T/out" 'digraph DAG {'
tr -d '\n ' <"$T/dag.json" >"$T/flat"
grep -q '"fqdn":"shared.example.com","routes":\[{"backends":\[{"cluster":"5:roots;3:web;80' \
	"$T/flat" || fail "the HTTPProxy route does not replace the Ingress's on shared.example.com"
expect_in "$T/flat" '"path":"/ingress","type":"segment-prefix"},"origin":{"kind":"Ingress"'
ok "an Ingress and an HTTPProxy on one host merge as upstream"

# Skipped inputs: a log line each, nobody else affected.
expect_in "$T/dag.err" 'ingress roots/badregex: rule badregex.example.com skipped'
expect_in "$T/dag.err" 'ingress roots/nosecret: unresolved secret reference roots/missing'
expect_in "$T/dag.err" 'ingress roots/badrange: error TLS protocol version'
grep -q '"fqdn": "badregex.example.com"' "$T/dag.json" && fail "a bad regex was served"
grep -q '"secret": "roots/missing"' "$T/dag.json" && fail "a missing secret was served"
tr -d '\n ' <"$T/dag.json" | grep -q '"https".*"fqdn":"badrange.example.com"' &&
	fail "a bad TLS version range was served"
ok "bad inputs are skipped with a log line naming them"

# Without the delegation the delegated Secret is refused.
mkdir "$T/nodeleg"
for f in services.yaml tls.yaml; do cp "$fx/$f" "$T/nodeleg/"; done
expect_rc 0 "$CONTOUR" render --format dag "$T/nodeleg" "$secrets"
expect_in "$T/err" 'ingress roots/delegated: secret delegated/shared-cert: certificate delegation not permitted'
grep -q '"secret": "delegated/shared-cert"' "$T/out" && fail "served an undelegated Secret"
expect_in "$T/out" '"secret": "roots/tls-cert"'
ok "tls-cert-namespace needs a TLSCertificateDelegation"

# Statuses: one per Ingress of our class, loadBalancer only.
expect_rc 0 "$CONTOUR" render "$fx" "$secrets"
for name in paths secure delegated badregex nosecret badrange good shared; do
	expect_in "$T/out" "\"name\": \"$name\""
done
expect_in "$T/out" '"loadBalancer": {}'
ok "every Ingress of our class has a status"

# --- Envoy resources (when xds-grpc provides the format) ----------------------
if "$CONTOUR" render --format envoy "$fx" "$secrets" >"$T/envoy.json" 2>"$T/err"; then
	for want in '"path_separated_prefix": "/app"' '"regex": "^/v[0-9]+/api"' \
		'"name": "https/secure.example.com"' '"upgrade_type": "websocket"' \
		'"https_redirect": true' \
		'"regex": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.wild\\.example\\.com(:[0-9]+)?"'; do
		expect_in "$T/envoy.json" "$want"
	done
	ok "render --format envoy: Ingress routes as Envoy resources"
else
	[ -n "${CONTOUR_STRICT_TESTS:-}" ] && { cat "$T/err" >&2; fail "no envoy format"; }
	echo "note: no envoy format ($(cat "$T/err")); skipped that part"
fi
