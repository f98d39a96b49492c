#!/bin/sh
# End to end: `contour serve` with file-watch, tls-delegation, httpproxy and
# xds-grpc, and tests/xds/envoy_like.js subscribing as Envoy does with
# upstream's bootstrap (per-type streams, then ADS). The manifests are
# upstream's reference examples (HTTP, HTTPS with redirect, upstream TLS,
# passthrough, inclusion) with our fixtures, as render_examples.sh combines
# them. Then an HTTPProxy is added to the watched folder: the client must get
# the new CDS and RDS within 5 s and nothing unchanged again. Then SIGTERM.
. "${top_srcdir:?}/tests/integration/lib.sh"

skip() {
	echo "SKIP: $*"
	if [ -n "${CONTOUR_STRICT_TESTS:-}" ]; then exit 1; fi
	exit 77
}
command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v npm >/dev/null 2>&1 || skip "npm is not installed"
ref="${CONTOUR_REFERENCE_DIR:-}/contour-examples/example-workload/httpproxy"
[ -d "$ref" ] || skip "reference folder missing: $ref"

# The client's dependencies, from tests/xds' lockfile, in a folder of its own
# (xds_server.sh installs into tests/xds/client and may run at the same time).
xds_client client-e2e envoy_like.js envoy_api.js || skip "npm ci failed (no registry access?)"

# The watched folder: fixtures, upstream's common objects, one example of
# each kind (file names are unique across these folders).
m="$T/manifests"
mkdir -p "$m"
cp "$top_srcdir"/tests/fixtures/render/*.yaml "$ref"/00-common/*.yaml \
	"$ref/01-ingress-to-httpproxy/basic-httpproxy.yaml" \
	"$ref/01-ingress-to-httpproxy/httpproxy-tls.yaml" \
	"$ref/02-tls-options/httpproxy-tls-upstream.yaml" \
	"$ref/05-tcp-proxy/httpproxy-tls-passthrough.yaml" \
	"$ref/04-inclusion/httpproxy-inclusion-samenamespace.yaml" "$m/"

# added.yaml FQDN SERVICE IP: an HTTPProxy to a new Service with one endpoint.
added() {
	cat <<EOF
apiVersion: v1
kind: Service
metadata: {name: $2, namespace: default}
spec:
  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $2-xyz
  namespace: default
  labels: {kubernetes.io/service-name: $2}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
  - addresses: [$3]
    conditions: {ready: true}
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: $2, namespace: default}
spec:
  virtualhost: {fqdn: $1}
  routes:
    - services: [{name: $2, port: 80}]
EOF
}
added added-one.bar.com added-one 10.9.0.1 >"$T/added-one.yaml"
added added-two.bar.com added-two 10.9.0.2 >"$T/added-two.yaml"

# start_contour PATH...: contour serve watching PATHs, xDS on a free port;
# sets $pid, $port and $log.
n_runs=0
start_contour() {
	n_runs=$((n_runs + 1))
	log="$T/log.$n_runs"
	{
		printf 'build-holdoff: 20ms\nbuild-holdoff-max: 100ms\nmodules:\n'
		printf '  - name: file-watch\n    config:\n      paths:\n'
		for p in "$@"; do printf '        - %s\n' "$p"; done
		printf '  - name: tls-delegation\n  - name: httpproxy\n'
		printf '  - name: xds-grpc\n    config: {address: 127.0.0.1, port: 0, insecure: true}\n'
	} >"$T/contour.yaml"
	"$CONTOUR" serve --config "$T/contour.yaml" >"$log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	wait_for "$log" "source file-watch synced"
	wait_for "$log" "xDS server listening on 127.0.0.1:"
	port=$(sed -n 's/.*xDS server listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$log")
	[ -n "$port" ] || fail "no port in the log"
}

# stop_contour [ALLOWED-WARNING]: SIGTERM, exit 0, no error or warning logged.
stop_contour() {
	kill -0 "$pid" 2>/dev/null || fail "contour exited early"
	kill -TERM "$pid"
	wait_exit "$pid" 10
	[ "$rc" = 0 ] || {
		cat "$log" >&2
		fail "exit status $rc after SIGTERM, want 0"
	}
	if grep -E 'level=(error|warn)' "$log" | grep -vF -- "${1:-@none@}" >"$T/bad"; then
		cat "$T/bad" >&2
		fail "errors or warnings in contour's log"
	fi
}

# run_client MODE NAME [ENV...]: the client; NAME set, it adds
# $T/added-NAME.yaml midway, written beside the folder and renamed in, so
# file-watch never reads half of it.
run_client() {
	mode=$1
	name=$2
	shift 2
	if [ -n "$name" ]; then
		set -- "$@" XDS_UPDATE_FQDN="added-$name.bar.com" XDS_UPDATE_SERVICE="added-$name" \
			XDS_UPDATE_CMD="cp '$T/added-$name.yaml' '$m/.added-$name.tmp' && mv '$m/.added-$name.tmp' '$m/added-$name.yaml'"
	fi
	env XDS_ADDR="127.0.0.1:$port" XDS_MODE="$mode" "$@" node "$client/envoy_like.js" \
		>"$T/client.log" 2>&1
	rc=$?
	cat "$T/client.log"
	if [ "$rc" != 0 ]; then
		echo "--- contour log:" >&2
		cat "$log" >&2
		fail "envoy_like.js ($mode) exited $rc"
	fi
}

start_contour "$m"
ok "contour serve: xDS on port $port"
run_client sotw one
run_client ads two
stop_contour
ok "SIGTERM: exit 0, no errors or warnings logged"

# Every reference example at once (render_examples.sh's last case): the
# resources of the features not checked above must still satisfy Envoy's
# protos and their validation rules. Two example files define the same
# HTTPProxy names, which file-watch warns about.
start_contour "$top_srcdir/tests/fixtures/render" "$ref"
run_client sotw "" XDS_EXAMPLES=all
run_client ads "" XDS_EXAMPLES=all
stop_contour "is defined in both"
ok "every reference example: decoded and valid on per-type streams and ADS; exit 0"
