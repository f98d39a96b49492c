#!/bin/sh
# xDS over mTLS with the files `contour certgen --pem` writes: `contour
# serve` (file-watch, tls-delegation, httpproxy, xds-grpc) with ca-file
# cacert.pem, cert-file contourcert.pem, key-file contourkey.pem on
# 127.0.0.1, and tests/xds/envoy_like.js (@grpc/grpc-js, Envoy's protos) as
# Envoy: with envoycert.pem/envoykey.pem and cacert.pem it gets its
# resources; without a client certificate, with the envoy certificate of a
# second certgen run (another CA), or expecting another name than
# "contour" in the server's certificate, it gets nothing.
. "${top_srcdir:?}/tests/integration/lib.sh"

skip() {
	echo "SKIP: $*"
	if [ -n "${CONTOUR_STRICT_TESTS:-}" ]; then exit 1; fi
	exit 77
}
command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v npm >/dev/null 2>&1 || skip "npm is not installed"

# The client's dependencies from tests/xds' lockfile, in a folder of its own
# (xds_serve.sh and xds_server.sh install into theirs, maybe meanwhile).
xds_client client-certgen envoy_like.js envoy_api.js || skip "npm ci failed (no registry access?)"

cd "$T"
"$CONTOUR" certgen --pem pki >"$T/certgen.out" 2>&1 || { cat "$T/certgen.out"; fail "certgen"; }
"$CONTOUR" certgen --pem other >"$T/certgen.out" 2>&1 || { cat "$T/certgen.out"; fail "certgen"; }
ok "two certgen runs: two CAs"

mkdir m
cp "$top_srcdir"/tests/fixtures/render/*.yaml m/
cat >m/proxy.yaml <<'EOF'
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: web, namespace: default}
spec:
  virtualhost: {fqdn: web.example.com}
  routes:
    - services: [{name: web, port: 80}]
EOF
cat >contour.yaml <<EOF
build-holdoff: 20ms
build-holdoff-max: 100ms
modules:
  - name: file-watch
    config: {paths: [$T/m]}
  - name: tls-delegation
  - name: httpproxy
  - name: xds-grpc
    config:
      address: 127.0.0.1
      port: 0
      ca-file: $T/pki/cacert.pem
      cert-file: $T/pki/contourcert.pem
      key-file: $T/pki/contourkey.pem
EOF
log="$T/contour.log"
"$CONTOUR" serve --config "$T/contour.yaml" >"$log" 2>&1 &
pid=$!
PIDS="$PIDS $pid"
wait_for "$log" "source file-watch synced"
wait_for "$log" "xDS server listening on 127.0.0.1:"
port=$(sed -n 's/.*xDS server listening on 127\.0\.0\.1:\([0-9]*\) (mTLS).*/\1/p' "$log")
[ -n "$port" ] || { cat "$log"; fail "no mTLS port in the log"; }
ok "contour serve: xDS over mTLS with contourcert.pem on port $port"

# client WANT-RC [ENV...]: envoy_like.js (SotW, per-type streams) over TLS.
client() {
	want=$1
	shift
	env XDS_ADDR="127.0.0.1:$port" XDS_MODE=sotw XDS_EXAMPLES=all "$@" \
		timeout 60 node "$client/envoy_like.js" >"$T/client.log" 2>&1
	got=$?
	if [ "$want" = 0 ] && [ "$got" != 0 ] || [ "$want" != 0 ] && [ "$got" = 0 ]; then
		cat "$T/client.log"
		echo "--- contour log:" >&2
		cat "$log" >&2
		fail "envoy_like.js $* exited $got"
	fi
	[ "$got" != 124 ] || fail "envoy_like.js $* timed out"
}

# refused_in_log: the client's streams failed UNAVAILABLE (14): no connection.
refused_in_log() {
	grep -qE 'stream (clusters|listeners) failed: 14 ' "$T/client.log" ||
		{ cat "$T/client.log"; fail "the client was not refused a connection"; }
}

client 0 XDS_CA=pki/cacert.pem XDS_CERT=pki/envoycert.pem XDS_KEY=pki/envoykey.pem
expect_in "$T/client.log" "ok - sotw:"
grep -q 'ok - sotw: [1-9][0-9]* listeners, [0-9]* route configs, [1-9][0-9]* clusters' \
	"$T/client.log" || { cat "$T/client.log"; fail "no listeners or clusters received"; }
ok "envoycert.pem + cacert.pem: resources received ($(grep -o '[0-9]* listeners.*clusters' "$T/client.log"))"

client 1 XDS_CA=pki/cacert.pem
refused_in_log
wait_for "$log" "peer did not return a certificate"
ok "no client certificate: refused"

client 1 XDS_CA=pki/cacert.pem XDS_CERT=other/envoycert.pem XDS_KEY=other/envoykey.pem
refused_in_log
wait_for "$log" "certificate verify failed"
ok "an envoy certificate from another certgen run (another CA): refused"

# The client checks the server too: another CA, or a name not in the SANs.
client 1 XDS_CA=other/cacert.pem XDS_CERT=other/envoycert.pem XDS_KEY=other/envoykey.pem
client 1 XDS_CA=pki/cacert.pem XDS_CERT=pki/envoycert.pem XDS_KEY=pki/envoykey.pem \
	XDS_TLS_NAME=envoy
ok "the server's certificate: refused against another CA and for another name than contour"

client 0 XDS_CA=pki/cacert.pem XDS_CERT=pki/envoycert.pem XDS_KEY=pki/envoykey.pem \
	XDS_TLS_NAME=contour.projectcontour.svc.cluster.local
ok "contour.projectcontour.svc.cluster.local is accepted too"

kill -TERM "$pid"
wait_exit "$pid" 10
[ "$rc" = 0 ] || { cat "$log" >&2; fail "contour serve exited $rc after SIGTERM"; }
ok "SIGTERM: exit 0"
