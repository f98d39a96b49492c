#!/bin/sh
# Leader election between two `contour serve` instances against the test API
# server (tests/k8sapi): exactly one leads and writes status; killed, the
# other takes over within the lease duration (judged on its own clock) and
# writes; a clean shutdown releases the Lease (holderIdentity "",
# leaseDurationSeconds 1, leaseTransitions kept).
. "${top_srcdir:?}/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/k8s_lib.sh"
k8s_require

# ---- the test API server ----

# Replica a authenticates with a token, b with a client certificate.
k8s_pki replica-b
echo "tok-a,replica-a" >"$T/tokens"

cat >"$T/seed.ndjson" <<'EOF'
{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":8080}]}}
{"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"web","namespace":"default"},"spec":{"virtualhost":{"fqdn":"web.example.com"},"routes":[{"services":[{"name":"web","port":80}]}]}}
EOF
k8s_apiserver_start --token-file "$T/tokens" --seed "$T/seed.ndjson" --port 0

HP=/apis/projectcontour.io/v1/namespaces/default/httpproxies

# ---- two replicas ----

LEASE=/apis/coordination.k8s.io/v1/namespaces/ha-test/leases/contour-lease
k8s_kubeconfig "$T/kubeconfig-a" token=tok-a
k8s_kubeconfig "$T/kubeconfig-b" client-cert
for r in a b; do
	cat >"$T/contour-$r.yaml" <<EOF
kubeconfig: $T/kubeconfig-$r
modules:
  - name: k8s-watch
    config:
      leader-election-lease-duration: 3s
      leader-election-renew-deadline: 2s
      leader-election-retry-period: 500ms
      leader-election-resource-name: contour-lease
  - name: tls-delegation
  - name: httpproxy
EOF
done

# The namespace from $CONTOUR_NAMESPACE, as upstream's flag default.
CONTOUR_NAMESPACE=ha-test
export CONTOUR_NAMESPACE
contour_start "$T/contour-a.yaml"
PID_a=$CPID
wait_for "$T/contour-a.log" "became leader" 20
contour_start "$T/contour-b.yaml"
PID_b=$CPID
wait_for "$T/contour-b.log" "attempting to acquire leader lease" 20
wait_api "$HP/web" 'o.status && o.status.currentStatus' valid
sleep 4 # more than a lease duration: b must stay a follower
grep -q "became leader" "$T/contour-b.log" && fail "both replicas lead"
api GET "$LEASE"
HOLDER=$(json_eval "$T/resp" 'o.spec.holderIdentity')
grep -qF "identity=$HOLDER" "$T/contour-a.log" || fail "lease holder '$HOLDER' is not replica a"
expect_json 'o.spec.leaseDurationSeconds' 3
TRANS=$(json_eval "$T/resp" 'o.spec.leaseTransitions')
json_eval "$T/resp" 'o.spec.renewTime' | grep -Eq '^[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z$' ||
	fail "renewTime is not a MicroTime: $(cat "$T/resp")"
api GET /_test/requests
WRITERS=$(json_eval "$T/resp" '[...new Set(o.requests.filter((r) => r.method === "PUT" && /\/status$/.test(r.path)).map((r) => r.user))].join(",")')
[ "$WRITERS" = replica-a ] || fail "status written by '$WRITERS', want replica-a only"
ok "one leader (a) writes status, b follows"

# ---- the leader dies without releasing ----
kill -9 "$PID_a"
T0=$(date +%s%N)
wait_for "$T/contour-b.log" "became leader" 10
T1=$(date +%s%N)
MS=$(( (T1 - T0) / 1000000 ))
# 3 s from b's last observation of a's renewal, plus one retry period with
# jitter (up to 1.1 s), plus slack for a busy machine.
[ "$MS" -le 6000 ] || fail "b took over after ${MS}ms"
api GET "$LEASE"
expect_json 'o.spec.leaseTransitions' $((TRANS + 1))
ok "b took over ${MS}ms after a died"

# b now writes status.
api DELETE /_test/requests
api_edit "$HP/web" 'o.spec.routes[0].conditions = [{prefix: "/b"}]; delete o.status'
wait_api "$HP/web" 'o.status.conditions[0].observedGeneration' 2
api GET /_test/requests
WRITERS=$(json_eval "$T/resp" '[...new Set(o.requests.filter((r) => r.method === "PUT" && /\/status$/.test(r.path)).map((r) => r.user))].join(",")')
[ "$WRITERS" = replica-b ] || fail "status written by '$WRITERS', want replica-b"
ok "the new leader writes status"

# ---- clean shutdown releases the lease ----
api GET "$LEASE"
TRANS=$(json_eval "$T/resp" 'o.spec.leaseTransitions')
contour_stop "$PID_b"
expect_in "$T/contour-b.log" "released leader lease"
api GET "$LEASE"
expect_json '[o.spec.holderIdentity, o.spec.leaseDurationSeconds, o.spec.leaseTransitions]' "[\"\",1,$TRANS]"
ok "lease released on shutdown"
