#!/bin/sh
# bench/bench_k8s.sh: initial sync from the test API server (tests/k8sapi).
#
# The workload of a large cluster: 10,000 HTTPProxies, 10,000 Services, 10,000
# EndpointSlices, 1,000 TLS Secrets and 20,000 Helm-style Secrets of 50 KB
# (tests/k8sapi/gen_workload.js), served over HTTPS with HTTP/2 and a bearer
# token. `contour serve` runs k8s-watch, tls-delegation, httpproxy, ingress
# and xds-grpc; the figures are the time from its start until the first
# snapshot is published (the xDS resources are translated in the same step)
# and its resident memory then and a few seconds later. Figures, not a test.
#
#   CONTOUR=build/contour CONTOUR_MODULE_PATH=... sh bench/bench_k8s.sh [gen options]
#
# It sources tests/integration/lib.sh and k8s_lib.sh, the harness of the
# k8s_*.sh tests, rather than keep a copy: lib.sh needs only top_srcdir and
# top_builddir (set here; it derives $CONTOUR from top_builddir, so $CONTOUR
# is kept across it), and k8s_lib.sh reads nothing of automake's. lib.sh
# also brings `set -u`, the temporary folder $T and the cleanup on exit.
# Not `set -e`: the harness fails loudly itself (fail), and -e would also
# stop at a test's `[ ... ] && ...` that is merely false.
: "${CONTOUR:?path to the contour binary}"
bin=$CONTOUR
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
top_builddir=$(dirname "$CONTOUR")
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/k8s_lib.sh"
CONTOUR=$bin
# lib.sh cleans up on EXIT; make ^C and kill go through it too.
trap 'exit 130' INT TERM
k8s_require
cd "$T"

k8s_pki
echo tok >"$T/tokens"
echo tok >"$T/token"

node "$top_srcdir/tests/k8sapi/gen_workload.js" --out seed.ndjson "$@" || fail "gen_workload.js"
echo "workload: $(wc -l <seed.ndjson) objects, $(du -m seed.ndjson | cut -f1) MB of JSON"
NODE_OPTIONS=--max-old-space-size=4096
export NODE_OPTIONS
K8S_API_WAIT=120
k8s_apiserver_start --token-file "$T/tokens" --seed seed.ndjson --http2

k8s_kubeconfig "$T/kubeconfig" "$T/token"
cat >contour.yaml <<YAML
modules:
  - name: k8s-watch
    config: {kubeconfig: $T/kubeconfig}
  - name: tls-delegation
  - name: httpproxy
  - name: ingress
  - name: xds-grpc
    config: {address: 127.0.0.1, port: 0, insecure: true}
  - name: metrics
    config: {address: 127.0.0.1, port: 0, debug-port: 0}
YAML

# BENCH_WRAP (perf, valgrind, ...) goes before the command; it may start slowly.
CONTOUR_WRAP=${BENCH_WRAP:-}
K8S_START_WAIT=300
start=$(now_ms)
contour_start "$T/contour.yaml"
wait_metric '^contour_dagrebuild_total [1-9]' 3600
end=$(now_ms)
mib() { awk -v k="$(proc_kib "$CPID" "$1")" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
echo "first snapshot published: $((end - start)) ms after start"
echo "resident memory then:     $(mib VmRSS) (peak $(mib VmHWM))"
sleep 5
echo "resident memory after 5s: $(mib VmRSS) (peak $(mib VmHWM))"
curl -s "$M" |
	grep -E '^contour_(httpproxy_total|dagrebuild_seconds_sum|k8s_objects_received_total)' || true
