#!/bin/sh
# bench/bench_k8s.sh: initial sync from the test API server (tests/k8sapi).
#
# The issue's workload: 10,000 HTTPProxies, 10,000 Services, 10,000
# EndpointSlices, 1,000 TLS Secrets and 20,000 Helm-style Secrets of 50 KB
# (tests/k8sapi/gen_workload.js), served over HTTPS with HTTP/2 and a bearer
# token. `contour serve` runs k8s-watch, tls-delegation, httpproxy, ingress
# and xds-grpc; the figures are the time from its start until the first
# snapshot is published (the xDS resources are translated in the same step)
# and its resident memory then and a few seconds later. Figures, not a test.
#
#   CONTOUR=build/contour CONTOUR_MODULE_PATH=... sh bench/bench_k8s.sh [gen options]
set -eu
: "${CONTOUR:?path to the contour binary}"
top=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/contour-bench-k8s-XXXXXX)
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null || true; done; rm -rf "$T"' EXIT INT TERM
cd "$T"

o() { openssl "$@" >/dev/null 2>&1; }
o req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
	-subj /CN=ca -days 2 -out ca.crt
o req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key \
	-subj /CN=apiserver -out server.csr
echo "subjectAltName=DNS:localhost,IP:127.0.0.1" >server.ext
o x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
	-extfile server.ext -out server.crt
echo tok >tokens
echo tok >token

node "$top/tests/k8sapi/gen_workload.js" --out seed.ndjson "$@"
echo "workload: $(wc -l <seed.ndjson) objects, $(du -m seed.ndjson | cut -f1) MB of JSON"
node --max-old-space-size=4096 "$top/tests/k8sapi/apiserver.js" --cert server.crt \
	--key server.key --ca ca.crt --token-file tokens --admin-token ADMIN \
	--seed seed.ndjson --http2 >api.out 2>api.err &
PIDS="$PIDS $!"
i=0
until grep -q "listening on" api.out 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 1200 ] && { cat api.err; echo "bench_k8s: API server did not start" >&2; exit 1; }
	sleep 0.1
done
API=$(sed -n 's/^listening on \(https:.*\)$/\1/p' api.out)

cat >kubeconfig <<YAML
current-context: t
contexts: [{name: t, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "$API", certificate-authority: ca.crt}}]
users: [{name: u, user: {tokenFile: token}}]
YAML
cat >contour.yaml <<YAML
modules:
  - name: k8s-watch
    config: {kubeconfig: kubeconfig}
  - name: tls-delegation
  - name: httpproxy
  - name: ingress
  - name: xds-grpc
    config: {address: 127.0.0.1, port: 0, insecure: true}
  - name: metrics
    config: {address: 127.0.0.1, port: 0}
YAML

now_ms() { date +%s%3N; }
start=$(now_ms)
${BENCH_WRAP:-} "$CONTOUR" serve --config contour.yaml >log 2>&1 &
pid=$!
PIDS="$PIDS $pid"
until grep -q "listening on http://" log 2>/dev/null; do sleep 0.01; done
port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' log)
until curl -s "http://127.0.0.1:$port/metrics" | grep -q '^contour_dagrebuild_total [1-9]'; do
	kill -0 $pid 2>/dev/null || { tail log; exit 1; }
	sleep 0.02
done
end=$(now_ms)
rss() { awk '/^VmRSS/ {printf "%.1f MiB", $2 / 1024}' /proc/$pid/status; }
hwm() { awk '/^VmHWM/ {printf "%.1f MiB", $2 / 1024}' /proc/$pid/status; }
echo "first snapshot published: $((end - start)) ms after start"
echo "resident memory then:     $(rss) (peak $(hwm))"
sleep 5
echo "resident memory after 5s: $(rss) (peak $(hwm))"
curl -s "http://127.0.0.1:$port/metrics" |
	grep -E '^contour_(httpproxy_total|dagrebuild_seconds_sum|k8s_objects_received_total)' || true
