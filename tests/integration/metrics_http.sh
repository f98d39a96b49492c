#!/bin/sh
# The metrics module in `contour serve`: /metrics in the Prometheus text
# format (checked with promtool), /healthz, 404 and 405, a taken port, a
# name instead of an address, and a clean exit on SIGTERM.
. "${top_srcdir:?}/tests/integration/lib.sh"

strict=${CONTOUR_STRICT_TESTS:-0}
if ! command -v curl >/dev/null 2>&1; then
	[ "$strict" = 1 ] && fail "curl not found (CONTOUR_STRICT_TESTS=1)"
	echo "SKIP: curl not found"
	exit 77
fi

cat >"$T/contour.yaml" <<YAML
build-holdoff: 10ms
modules:
  - name: file-watch
    config: {paths: ['$top_srcdir/examples']}
  - name: metrics
    config: {address: 127.0.0.1, port: 0, debug-port: 0}
YAML

"$CONTOUR" serve --config "$T/contour.yaml" >"$T/log" 2>&1 &
pid=$!
PIDS="$PIDS $pid"
wait_for "$T/log" "started: 2 modules"
port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' "$T/log")
[ -n "$port" ] || {
	cat "$T/log" >&2
	fail "no 'listening on' line with the port"
}
ok "serving on port $port"
URL="http://127.0.0.1:$port"

# fetch [CURL ARGS...] PATH: body in $T/body, headers in $T/headers (CRs
# dropped), status in $code.
fetch() {
	code=$(curl -sS -o "$T/body" -D "$T/headers.raw" -w '%{http_code}' "$@") ||
		fail "curl $* failed"
	tr -d '\r' <"$T/headers.raw" >"$T/headers"
}

fetch "$URL/metrics"
[ "$code" = 200 ] || fail "GET /metrics: $code, want 200"
grep -qix 'content-type: text/plain; version=0.0.4; charset=utf-8' "$T/headers" || {
	cat "$T/headers" >&2
	fail "GET /metrics: wrong Content-Type"
}
expect_in "$T/body" 'contour_build_info{'
expect_in "$T/body" '# TYPE contour_build_info gauge'
version=$("$CONTOUR" version | sed -n 's/^contour \([^ ]*\).*/\1/p')
expect_in "$T/body" "version=\"$version\"} 1"
ok "GET /metrics: 200, text format 0.0.4, build info"

if [ -n "${PROMTOOL:-}" ] && [ -x "$PROMTOOL" ]; then
	"$PROMTOOL" check metrics <"$T/body" >"$T/promtool" 2>&1 || {
		cat "$T/promtool" >&2
		fail "promtool check metrics rejected the body"
	}
	ok "promtool check metrics"
elif [ "$strict" = 1 ]; then
	fail "PROMTOOL unset or not executable (CONTOUR_STRICT_TESTS=1)"
else
	echo "skip: promtool check (PROMTOOL unset)"
fi

for p in /healthz /health; do
	fetch "$URL$p"
	[ "$code" = 200 ] || fail "GET $p: $code, want 200"
	[ "$(cat "$T/body")" = OK ] || fail "GET $p: body '$(cat "$T/body")', want OK"
done
ok "GET /healthz and /health: 200 OK"

fetch "$URL/no-such-path"
[ "$code" = 404 ] || fail "GET /no-such-path: $code, want 404"
ok "unknown path: 404"

fetch -X POST -d 'x=1' "$URL/metrics"
[ "$code" = 405 ] || fail "POST /metrics: $code, want 405"
expect_in "$T/headers" "Allow: GET, HEAD"
ok "POST: 405 with Allow"

fetch -I "$URL/metrics"
[ "$code" = 200 ] || fail "HEAD /metrics: $code, want 200"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers" || fail "HEAD: wrong Content-Type"
ok "HEAD: 200"

# The requests above are counted by status code.
fetch "$URL/metrics"
expect_in "$T/body" 'contour_metrics_http_requests_total{code="404"} 1'
expect_in "$T/body" 'contour_metrics_http_requests_total{code="405"} 1'
expect_in "$T/body" 'contour_metrics_http_requests_total{code="200"} 4'
ok "request counters"

# A second instance on the same port fails at start and names the port.
sed "s/port: 0/port: $port/" "$T/contour.yaml" >"$T/taken.yaml"
expect_rc 1 "$CONTOUR" serve --config "$T/taken.yaml"
expect_in "$T/err" "cannot listen on 127.0.0.1:$port: Address already in use"
ok "port in use: exit 1 with the address and errno text"

sed 's/address: 127.0.0.1/address: localhost/' "$T/contour.yaml" >"$T/name.yaml"
expect_rc 1 "$CONTOUR" check-config "$T/name.yaml"
expect_in "$T/err" "name.yaml:5: modules.metrics: address: 'localhost' is not a numeric"
ok "check-config refuses a host name"

kill -TERM "$pid"
wait_exit "$pid" 10
[ "$rc" = 0 ] || {
	cat "$T/log" >&2
	fail "exit status $rc after SIGTERM, want 0"
}
ok "SIGTERM: exit 0"
