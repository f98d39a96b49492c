#!/bin/sh
# The admission module in `contour serve`, with tm_validate (a validator
# for test.contour.io/v1 Widget) and metrics: AdmissionReviews over HTTPS
# with a real CA (curl --cacert), allowed, denied and warned answers, dry
# run, an unvalidated kind, 400/404/405/413/415, a slow client cut at the
# read timeout while others are served, keep-alive, certificate rotation
# without a restart (a broken pair keeps the old one), the metrics,
# max-connections, init errors naming the key, and a clean exit on SIGTERM.
. "${top_srcdir:?}/tests/integration/lib.sh"

strict=${CONTOUR_STRICT_TESTS:-0}
for tool in curl openssl; do
	if ! command -v $tool >/dev/null 2>&1; then
		[ "$strict" = 1 ] && fail "$tool not found (CONTOUR_STRICT_TESTS=1)"
		echo "SKIP: $tool not found"
		exit 77
	fi
done
export CONTOUR_MODULE_PATH="${CONTOUR_TEST_MODULE_DIR:?}:${CONTOUR_MODULE_PATH:-}"

# gen_pair DIR NAME: a CA (DIR/ca.crt) and a server certificate it signed
# for localhost and 127.0.0.1 (DIR/srv.crt, DIR/srv.key).
gen_pair() {
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$1/ca.key" -out "$1/ca.crt" -days 2 -subj "/CN=$2 test CA" \
		>"$1/log" 2>&1 || { cat "$1/log" >&2; fail "openssl: CA $2"; }
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$1/srv.key" -out "$1/srv.csr" -subj "/CN=localhost" \
		>>"$1/log" 2>&1 || { cat "$1/log" >&2; fail "openssl: CSR $2"; }
	printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' 'basicConstraints=CA:FALSE' \
		'extendedKeyUsage=serverAuth' >"$1/ext"
	openssl x509 -req -in "$1/srv.csr" -CA "$1/ca.crt" -CAkey "$1/ca.key" -CAcreateserial \
		-days 2 -extfile "$1/ext" -out "$1/srv.crt" >>"$1/log" 2>&1 ||
		{ cat "$1/log" >&2; fail "openssl: server certificate $2"; }
}
gen_pair "$T/a" first
gen_pair "$T/b" second
cp "$T/a/srv.crt" "$T/srv.crt"
cp "$T/a/srv.key" "$T/srv.key"

cat >"$T/contour.yaml" <<YAML
modules:
  - name: tm_validate
  - name: admission
    config:
      address: 127.0.0.1
      port: 0
      cert-file: srv.crt
      key-file: $T/srv.key
      read-timeout: 1s
      max-request-bytes: 65536
  - name: metrics
    config: {address: 127.0.0.1, port: 0, debug-port: 0}
YAML

# Init errors name the key.
sed 's|key-file: .*|key-file: /nonexistent/srv.key|' "$T/contour.yaml" >"$T/nokey.yaml"
expect_rc 1 "$CONTOUR" serve --config "$T/nokey.yaml"
expect_in "$T/err" "key-file: cannot read '/nonexistent/srv.key': No such file or directory"
cp "$T/b/srv.key" "$T/other.key"
sed "s|key-file: .*|key-file: $T/other.key|" "$T/contour.yaml" >"$T/mismatch.yaml"
expect_rc 1 "$CONTOUR" serve --config "$T/mismatch.yaml"
expect_in "$T/err" "does not match cert-file"
grep -v 'cert-file' "$T/contour.yaml" >"$T/nocert.yaml"
expect_rc 1 "$CONTOUR" check-config "$T/nocert.yaml"
expect_in "$T/err" "cert-file"
ok "init and check-config errors name cert-file and key-file"

(cd "$T" && exec "$CONTOUR" serve --config "$T/contour.yaml") >"$T/log" 2>&1 &
pid=$!
PIDS="$PIDS $pid"
wait_for "$T/log" "started: 3 modules"
port=$(sed -n 's/.*listening on https:\/\/127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' "$T/log")
mport=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' "$T/log")
[ -n "$port" ] && [ -n "$mport" ] || {
	cat "$T/log" >&2
	fail "no 'listening on' lines with the ports"
}
ok "serving on port $port (metrics on $mport)"
URL="https://localhost:$port"
CA="$T/a/ca.crt"

# review NAME UID GROUP KIND OPERATION SPEC [DRYRUN]: write $T/NAME.json.
review() {
	cat >"$T/$1.json" <<JSON
{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
 "request":{"uid":"$2","kind":{"group":"$3","version":"v1","kind":"$4"},
  "resource":{"group":"$3","version":"v1","resource":"widgets"},
  "name":"w","namespace":"default","operation":"$5",
  "userInfo":{"username":"admin"},
  "object":{"apiVersion":"$3/v1","kind":"$4","metadata":{"name":"w"},"spec":$6},
  "oldObject":null,"dryRun":${7:-false}}}
JSON
}

# post FILE [CURL ARGS...]: POST FILE to /validate; body in $T/body,
# status in $code.
post() {
	f=$1
	shift
	code=$(curl -sS --cacert "$CA" -o "$T/body" -w '%{http_code}' \
		-H 'Content-Type: application/json' --data-binary "@$f" "$@" "$URL/validate") ||
		fail "curl POST $f failed"
}

review allowed 11111111-aaaa test.contour.io Widget CREATE '{}'
post "$T/allowed.json"
[ "$code" = 200 ] || fail "allowed review: $code, want 200"
expect_in "$T/body" '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"11111111-aaaa","allowed":true}}'
ok "allowed: 200, uid echoed, allowed true, no warnings or status"

review denied 22222222-bbbb test.contour.io Widget CREATE '{"bad":true}'
post "$T/denied.json"
[ "$code" = 200 ] || fail "denied review: $code, want 200"
expect_in "$T/body" '"uid":"22222222-bbbb","allowed":false'
expect_in "$T/body" '"code":403'
expect_in "$T/body" '"reason":"Forbidden"'
expect_in "$T/body" '"message":"spec.bad: bad is not allowed"'
expect_in "$T/body" '"causes":[{"reason":"FieldValueInvalid","message":"bad is not allowed","field":"spec.bad"}]'
grep -q '"patch' "$T/body" && fail "a validating webhook answered with a patch"
cp "$T/body" "$T/denied.answer"
ok "denied: allowed false, 403 Forbidden, field: message, causes"

review dry 22222222-bbbb test.contour.io Widget CREATE '{"bad":true}' true
post "$T/dry.json"
cmp -s "$T/body" "$T/denied.answer" || {
	cat "$T/body" "$T/denied.answer" >&2
	fail "dryRun changed the answer"
}
ok "dryRun: the same answer"

review warned 33333333-cccc test.contour.io Widget UPDATE '{"warn":"service s1 does not exist yet"}'
post "$T/warned.json"
[ "$code" = 200 ] || fail "warned review: $code"
expect_in "$T/body" '"allowed":true,"warnings":["service s1 does not exist yet"]'
ok "warnings: allowed with the warning"

review both 44444444-dddd test.contour.io Widget CREATE '{"bad":true,"warn":"and also"}'
post "$T/both.json"
expect_in "$T/body" '"allowed":false,"warnings":["and also"]'
ok "warnings are sent with a denial too"

review unknown 55555555-eeee test.contour.io Gadget CREATE '{"bad":true}'
post "$T/unknown.json"
[ "$code" = 200 ] || fail "unknown kind: $code"
expect_in "$T/body" '"uid":"55555555-eeee","allowed":true}'
review delete 66666666-ffff test.contour.io Widget DELETE '{"bad":true}'
post "$T/delete.json"
expect_in "$T/body" '"allowed":false'
ok "an unvalidated kind is allowed; DELETE runs the validators"

printf '{"apiVersion": "admission.k8s.io/v1", garbage' >"$T/garbage.json"
post "$T/garbage.json"
[ "$code" = 400 ] || fail "garbage JSON: $code, want 400"
expect_in "$T/body" "malformed JSON"
sed 's/"kind":"AdmissionReview"/"kind":"AdmissionRequest"/' "$T/allowed.json" >"$T/wrongkind.json"
post "$T/wrongkind.json"
[ "$code" = 400 ] || fail "wrong kind: $code, want 400"
expect_in "$T/body" "kind must be AdmissionReview"
sed 's/"uid":"11111111-aaaa",//' "$T/allowed.json" >"$T/nouid.json"
post "$T/nouid.json"
[ "$code" = 400 ] || fail "missing uid: $code, want 400"
expect_in "$T/body" "request.uid"
ok "400 for garbage JSON, a wrong kind and a missing uid"

code=$(curl -sS --cacert "$CA" -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "@$T/allowed.json" "$URL/mutate")
[ "$code" = 404 ] || fail "POST /mutate: $code, want 404"
code=$(curl -sS --cacert "$CA" -o "$T/body" -w '%{http_code}' "$URL/")
[ "$code" = 404 ] || fail "GET /: $code, want 404"
code=$(curl -sS --cacert "$CA" -o "$T/body" -D "$T/headers" -w '%{http_code}' "$URL/validate")
[ "$code" = 405 ] || fail "GET /validate: $code, want 405"
tr -d '\r' <"$T/headers" | grep -qi '^allow: POST$' || fail "405 without Allow: POST"
post "$T/allowed.json" -H 'Content-Type: text/plain'
[ "$code" = 415 ] || fail "text/plain: $code, want 415"
post "$T/allowed.json" -H 'Content-Type: application/json; charset=utf-8'
[ "$code" = 200 ] || fail "application/json with a charset: $code, want 200"
# kube-apiserver appends ?timeout=Ns.
code=$(curl -sS --cacert "$CA" -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "@$T/allowed.json" "$URL/validate?timeout=10s")
[ "$code" = 200 ] || fail "POST /validate?timeout=10s: $code, want 200"
ok "404 for other paths, 405 for GET, 415 for text/plain, ?timeout= accepted"

# Over max-request-bytes (64 KiB): 413, with and without Expect:
# 100-continue; the next client is served.
{
	printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"big","pad":"'
	head -c 100000 /dev/zero | tr '\0' 'x'
	printf '"}}'
} >"$T/big.json"
post "$T/big.json" -H 'Expect: 100-continue'
[ "$code" = 413 ] || fail "oversize body with Expect: $code, want 413"
code=$(curl -sS --cacert "$CA" -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' \
	-H 'Expect:' --data-binary "@$T/big.json" "$URL/validate" 2>"$T/curl.err") || true
case $code in
413) ;;
*) cat "$T/curl.err" >&2; fail "oversize body without Expect: $code, want 413" ;;
esac
post "$T/allowed.json"
[ "$code" = 200 ] || fail "after a 413: $code, want 200"
ok "413 for an oversize body; the next client is served"

# Headers over 16 KiB: 431.
long=$(head -c 20000 /dev/zero | tr '\0' 'h')
code=$(curl -sS --cacert "$CA" -o "$T/body" -w '%{http_code}' -H "X-Long: $long" \
	-H 'Content-Type: application/json' --data-binary "@$T/allowed.json" "$URL/validate")
[ "$code" = 431 ] || fail "20 KB header: $code, want 431"
ok "431 for a header section over 16 KiB"

# Keep-alive: two reviews on one connection.
curl -sS -v --cacert "$CA" -H 'Content-Type: application/json' --data-binary "@$T/allowed.json" \
	"$URL/validate" "$URL/validate" >"$T/ka.out" 2>"$T/ka.err" || fail "keep-alive curl failed"
n=$(grep -o '"allowed":true' "$T/ka.out" | wc -l)
[ "$n" = 2 ] || fail "keep-alive: $n answers, want 2"
grep -q 'Re-using existing connection' "$T/ka.err" || {
	cat "$T/ka.err" >&2
	fail "keep-alive: the second request opened a new connection"
}
ok "keep-alive: two reviews on one connection"

now() { date +%s; }

# A slow client: half a request over TLS, then nothing. The server closes
# it after read-timeout (1s) while others are served.
start=$(now)
(printf 'POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n'; sleep 8) |
	openssl s_client -quiet -connect "127.0.0.1:$port" -servername localhost >"$T/slow.out" 2>&1 &
slow=$!
PIDS="$PIDS $slow"
post "$T/allowed.json"
[ "$code" = 200 ] || fail "served while a slow client waits: $code"
i=0
while kill -0 "$slow" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 60 ] && fail "the slow client was not closed within 6 s (read-timeout 1s)"
	sleep 0.1
done
elapsed=$(($(now) - start))
[ "$elapsed" -le 4 ] || fail "slow client closed after ${elapsed}s, want about 1s"
ok "slow client: closed after read-timeout (${elapsed}s), others served meanwhile"

# A TCP client that never starts the TLS handshake, and an idle keep-alive
# connection, are cut the same way (bash's /dev/tcp; skipped without bash).
if command -v bash >/dev/null 2>&1; then
	start=$(now)
	PORT=$port bash -c 'exec 3<>/dev/tcp/127.0.0.1/$PORT; cat <&3 >/dev/null' &
	tcp=$!
	PIDS="$PIDS $tcp"
	i=0
	while kill -0 "$tcp" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 60 ] && fail "a silent TCP client was not closed within 6 s"
		sleep 0.1
	done
	ok "no TLS handshake: closed after $(($(now) - start))s"
fi
start=$(now)
(sleep 8) | openssl s_client -quiet -connect "127.0.0.1:$port" -servername localhost \
	>"$T/idle.out" 2>&1 &
idle=$!
PIDS="$PIDS $idle"
i=0
while kill -0 "$idle" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 60 ] && fail "an idle TLS connection was not closed within 6 s"
	sleep 0.1
done
ok "idle connection after the handshake: closed after $(($(now) - start))s"

# The metrics, counted by kind, operation and result.
code=$(curl -sS -o "$T/metrics" -w '%{http_code}' "http://127.0.0.1:$mport/metrics")
[ "$code" = 200 ] || fail "GET /metrics: $code"
expect_in "$T/metrics" 'contour_admission_reviews_total{kind="Widget",operation="CREATE",result="denied"} 3'
expect_in "$T/metrics" 'contour_admission_reviews_total{kind="Widget",operation="DELETE",result="denied"} 1'
expect_in "$T/metrics" 'contour_admission_reviews_total{kind="Widget",operation="UPDATE",result="allowed"} 1'
expect_in "$T/metrics" 'contour_admission_reviews_total{kind="other",operation="CREATE",result="allowed"} 1'
expect_in "$T/metrics" 'contour_admission_reviews_total{kind="other",operation="other",result="error"} 3'
expect_in "$T/metrics" 'contour_admission_reviews_total{kind="Widget",operation="CREATE",result="allowed"}'
expect_in "$T/metrics" 'contour_admission_denials_total{reason="spec"} 4'
expect_in "$T/metrics" '# TYPE contour_admission_review_duration_seconds histogram'
expect_in "$T/metrics" 'contour_admission_review_duration_seconds_count{kind="Widget"}'
expect_in "$T/metrics" 'contour_admission_review_duration_seconds_bucket{kind="Widget",le="+Inf"}'
if [ -n "${PROMTOOL:-}" ] && [ -x "$PROMTOOL" ]; then
	"$PROMTOOL" check metrics <"$T/metrics" >"$T/promtool" 2>&1 || {
		cat "$T/promtool" >&2
		fail "promtool check metrics rejected the body"
	}
fi
ok "metrics: reviews by kind/operation/result, denials by reason, duration histogram"

# Rotation. A broken certificate file first: logged, the old one kept.
echo "not a certificate" >"$T/srv.crt"
wait_for "$T/log" "do not load: still serving the previous certificate" 5
post "$T/allowed.json"
[ "$code" = 200 ] || fail "after a broken cert-file: $code, want 200 with the old certificate"
ok "a broken certificate file is refused, the old one served"

# Then a pair from another CA: a client trusting only the new CA gets in
# within a few seconds, without a restart.
cp "$T/b/srv.crt" "$T/srv.crt"
cp "$T/b/srv.key" "$T/srv.key"
CA="$T/b/ca.crt"
i=0
until code=$(curl -sS --cacert "$CA" -o "$T/body" -w '%{http_code}' \
	-H 'Content-Type: application/json' --data-binary "@$T/allowed.json" \
	"$URL/validate" 2>/dev/null) && [ "$code" = 200 ]; do
	i=$((i + 1))
	[ $i -gt 50 ] && {
		cat "$T/log" >&2
		fail "the rotated certificate was not served within 5 s"
	}
	sleep 0.1
done
expect_in "$T/log" "reloaded certificate"
code=$(curl -sS --cacert "$T/a/ca.crt" -o /dev/null -w '%{http_code}' \
	-H 'Content-Type: application/json' --data-binary "@$T/allowed.json" "$URL/validate" \
	2>/dev/null) && fail "a client trusting only the old CA still got in ($code)"
ok "certificate rotation: the new pair is served, the old CA no longer works"

# max-connections: a second instance capped at 2, both taken by idle TLS
# clients. A third client waits in the backlog and is served once the idle
# ones are cut at read-timeout (2s).
sed -e 's/read-timeout: 1s/read-timeout: 2s/' -e 's/max-request-bytes: 65536/max-connections: 2/' \
	-e '/name: metrics/,$d' "$T/contour.yaml" >"$T/cap.yaml"
(cd "$T" && exec "$CONTOUR" serve --config "$T/cap.yaml") >"$T/cap.log" 2>&1 &
cpid=$!
PIDS="$PIDS $cpid"
wait_for "$T/cap.log" "started: 2 modules"
cport=$(sed -n 's/.*listening on https:\/\/127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' "$T/cap.log")
for n in 1 2; do
	(sleep 6) | openssl s_client -quiet -connect "127.0.0.1:$cport" -servername localhost \
		>/dev/null 2>&1 &
	PIDS="$PIDS $!"
done
wait_for "$T/cap.log" "2 connections open (max-connections): not accepting more for now" 5
start=$(now)
code=$(curl -sS --cacert "$CA" -o "$T/body" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data-binary "@$T/allowed.json" "https://localhost:$cport/validate") || fail "capped curl failed"
elapsed=$(($(now) - start))
[ "$code" = 200 ] || fail "past max-connections: $code, want 200 once a slot frees"
[ "$elapsed" -ge 1 ] || fail "a third connection was served at once (max-connections 2)"
kill -TERM "$cpid"
wait_exit "$cpid" 10
ok "max-connections: the third client waited ${elapsed}s for a slot, then was served"

kill -TERM "$pid"
wait_exit "$pid" 10
[ "$rc" = 0 ] || {
	cat "$T/log" >&2
	fail "exit status $rc after SIGTERM, want 0"
}
ok "SIGTERM: exit 0"
