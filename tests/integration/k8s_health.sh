#!/bin/sh
# /healthz of a k8s-watch role against the test API server (tests/k8sapi):
# failing before the first answer ("not yet connected"), 200 OK while the
# server answers, upstream's 503 "Failed Kubernetes Check: ..." within
# seconds of the server being killed (refused) or stopped (SIGSTOP: a hung
# server that still accepts connections), and 200 again once it is back on
# the same port. Once over HTTP/1.1 (a connection per watch, the probe on
# its own) and once over HTTP/2 (every request on one connection).
. "${top_srcdir:?}/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/k8s_lib.sh"
k8s_require

k8s_pki
echo tok-one >"$T/tokens"
echo tok-one >"$T/token"
cat >"$T/contour.yaml" <<YAML
build-holdoff: 10ms
modules:
  - name: k8s-watch
    config: {kubeconfig: $T/kubeconfig, disable-leader-election: true}
  - name: tls-delegation
  - name: httpproxy
  - name: metrics
    config: {address: 127.0.0.1, port: 0, debug-port: 0}
YAML

# health: GET /healthz into $T/body; the status in $code.
health() {
	code=$(curl -sS --max-time 5 -o "$T/body" -D "$T/headers.raw" -w '%{http_code}' "$H") ||
		fail "curl $H failed"
}

# wait_health CODE SECONDS: until /healthz answers CODE; the time it took
# in $took (ms). contour must stay up.
wait_health() {
	start=$(now_ms)
	i=0
	while health; [ "$code" != "$1" ]; do
		kill -0 "$CPID" 2>/dev/null || { contour_logs; fail "contour exited"; }
		i=$((i + 1))
		if [ $i -gt $(($2 * 10)) ]; then
			contour_logs
			fail "/healthz answered $code ($(cat "$T/body")) for $2 s, want $1"
		fi
		sleep 0.1
	done
	took=$(($(now_ms) - start))
}

for proto in http1 http2; do
h2=
[ $proto = http2 ] && h2=--http2
k8s_apiserver_start --token-file "$T/tokens" $h2
apiport=${API##*:}
k8s_kubeconfig "$T/kubeconfig" "$T/token"

# A server that accepts connections but never answers: nothing is known yet.
kill -STOP "$API_PID"
contour_start "$T/contour.yaml"
H=${M%/metrics}/healthz
health
[ "$code" = 503 ] || fail "/healthz before the first answer: $code, want 503"
printf 'Failed Kubernetes Check: not yet connected to the API server %s\n' "$API" |
	cmp -s - "$T/body" || fail "/healthz before the first answer: '$(cat "$T/body")'"
tr -d '\r' <"$T/headers.raw" | grep -qix 'content-type: text/plain; charset=utf-8' ||
	fail "/healthz 503: wrong Content-Type"
ok "$proto: before the first answer: 503 Failed Kubernetes Check: not yet connected"

kill -CONT "$API_PID"
wait_health 200 15
printf 'OK\n' | cmp -s - "$T/body" || fail "/healthz: body '$(cat "$T/body")', want OK"
expect_in "$CLOG" "health check Kubernetes passing"
ok "$proto: the server answers: 200 OK"

# Killed: the watches break and the next requests are refused.
kill -KILL "$API_PID"
wait "$API_PID" 2>/dev/null
wait_health 503 5
grep -q "^Failed Kubernetes Check: .*https://127.0.0.1:$apiport" "$T/body" ||
	fail "/healthz after the kill: '$(cat "$T/body")'"
expect_in "$CLOG" "health check Kubernetes failing"
ok "$proto: API server killed: 503 within ${took} ms: $(cat "$T/body")"

k8s_apiserver_start --token-file "$T/tokens" --port "$apiport" $h2
[ "${API##*:}" = "$apiport" ] || fail "the API server came back on $API"
wait_health 200 10
ok "$proto: back on port $apiport: 200 within ${took} ms"

# Hung: connections stay open and nothing comes back; the probe times out.
kill -STOP "$API_PID"
wait_health 503 10
grep -q "^Failed Kubernetes Check: GET \"https://127.0.0.1:$apiport/version\": " "$T/body" ||
	fail "/healthz with the server stopped: '$(cat "$T/body")'"
ok "$proto: API server stopped: 503 within ${took} ms: $(cat "$T/body")"
kill -CONT "$API_PID"
wait_health 200 10
ok "$proto: continued: 200 within ${took} ms"

curl -s "$M" >"$T/metrics" || fail "GET /metrics"
expect_in "$T/metrics" 'contour_metrics_http_requests_total{code="503"}'
contour_stop
kill -KILL "$API_PID"
wait "$API_PID" 2>/dev/null
ok "$proto: SIGTERM: exit 0"
done
