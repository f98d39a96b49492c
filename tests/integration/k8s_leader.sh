#!/bin/sh
# Leader election between two `contour serve` instances against the test API
# server (tests/k8sapi): exactly one leads and writes status; killed, the
# other takes over within the lease duration (judged on its own clock) and
# writes; a clean shutdown releases the Lease (holderIdentity "",
# leaseDurationSeconds 1, leaseTransitions kept).
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
printf "tok-a,replica-a\ntok-b,replica-b\n" >"$T/tokens"

cat >"$T/seed.ndjson" <<'EOF'
{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"ports":[{"name":"http","port":80,"protocol":"TCP","targetPort":8080}]}}
{"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"web","namespace":"default"},"spec":{"virtualhost":{"fqdn":"web.example.com"},"routes":[{"services":[{"name":"web","port":80}]}]}}
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

# ---- two replicas ----

LEASE=/apis/coordination.k8s.io/v1/namespaces/ha-test/leases/contour-lease
for r in a b; do
	cat >"$T/kubeconfig-$r" <<EOF
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
    token: tok-$r
contexts:
- name: test
  context: {cluster: test, user: contour}
current-context: test
EOF
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
CONTOUR_NAMESPACE=ha-test "$CONTOUR" serve --config "$T/contour-a.yaml" \
	>"$T/a.out" 2>"$T/a.err" &
PID_a=$!
PIDS="$PIDS $PID_a"
wait_for "$T/a.err" "became leader" 20
CONTOUR_NAMESPACE=ha-test "$CONTOUR" serve --config "$T/contour-b.yaml" \
	>"$T/b.out" 2>"$T/b.err" &
PID_b=$!
PIDS="$PIDS $PID_b"
wait_for "$T/b.err" "attempting to acquire leader lease" 20
cp "$T/a.err" "$T/serve.err"
wait_api "$HP/web" 'o.status && o.status.currentStatus' valid
sleep 4 # more than a lease duration: b must stay a follower
grep -q "became leader" "$T/b.err" && fail "both replicas lead"
api GET "$LEASE"
HOLDER=$(jq_ "$T/resp" 'o.spec.holderIdentity')
grep -qF "identity=$HOLDER" "$T/a.err" || fail "lease holder '$HOLDER' is not replica a"
[ "$(jq_ "$T/resp" 'o.spec.leaseDurationSeconds')" = 3 ] || fail "lease: $(cat "$T/resp")"
TRANS=$(jq_ "$T/resp" 'o.spec.leaseTransitions')
jq_ "$T/resp" 'o.spec.renewTime' | grep -Eq '^[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z$' ||
	fail "renewTime is not a MicroTime: $(cat "$T/resp")"
api GET /_test/requests
WRITERS=$(jq_ "$T/resp" '[...new Set(o.requests.filter((r) => r.method === "PUT" && /\/status$/.test(r.path)).map((r) => r.user))].join(",")')
[ "$WRITERS" = replica-a ] || fail "status written by '$WRITERS', want replica-a only"
ok "one leader (a) writes status, b follows"

# ---- the leader dies without releasing ----
kill -9 "$PID_a"
T0=$(date +%s%N)
wait_for "$T/b.err" "became leader" 10
T1=$(date +%s%N)
MS=$(( (T1 - T0) / 1000000 ))
# 3 s from b's last observation of a's renewal, plus one retry period with
# jitter (up to 1.1 s), plus slack for a busy machine.
[ "$MS" -le 6000 ] || fail "b took over after ${MS}ms"
api GET "$LEASE"
[ "$(jq_ "$T/resp" 'o.spec.leaseTransitions')" = $((TRANS + 1)) ] ||
	fail "leaseTransitions not incremented: $(cat "$T/resp")"
ok "b took over ${MS}ms after a died"

# b now writes status.
cp "$T/b.err" "$T/serve.err"
api DELETE /_test/requests
api GET "$HP/web"
node -e 'const fs = require("fs"); const o = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
	o.spec.routes[0].conditions = [{prefix: "/b"}]; delete o.status;
	fs.writeFileSync(process.argv[2], JSON.stringify(o));' "$T/resp" "$T/web2.json"
api PUT "$HP/web" "$(cat "$T/web2.json")"
[ "$(cat "$T/code")" = 200 ] || fail "updating web: $(cat "$T/resp")"
wait_api "$HP/web" 'o.status.conditions[0].observedGeneration' 2
api GET /_test/requests
WRITERS=$(jq_ "$T/resp" '[...new Set(o.requests.filter((r) => r.method === "PUT" && /\/status$/.test(r.path)).map((r) => r.user))].join(",")')
[ "$WRITERS" = replica-b ] || fail "status written by '$WRITERS', want replica-b"
ok "the new leader writes status"

# ---- clean shutdown releases the lease ----
api GET "$LEASE"
TRANS=$(jq_ "$T/resp" 'o.spec.leaseTransitions')
kill -TERM "$PID_b"
wait_exit "$PID_b" 10
[ "$rc" = 0 ] || fail "contour serve exited $rc"
expect_in "$T/b.err" "released leader lease"
api GET "$LEASE"
[ "$(jq_ "$T/resp" 'JSON.stringify([o.spec.holderIdentity, o.spec.leaseDurationSeconds, o.spec.leaseTransitions])')" = "[\"\",1,$TRANS]" ] ||
	fail "released lease: $(cat "$T/resp")"
ok "lease released on shutdown"
