#!/bin/sh
# The metrics module's debug listener and /healthz in the local role
# (file-watch over examples/, no k8s-watch): /debug/dag is the DAG as dot,
# the text `contour render --format dot` prints, naming the example's
# virtual host and service, and Graphviz parses it; other paths are 404;
# --debug-http-address and --debug-http-port move the listener; with no
# health check registered /healthz stays 200 OK.
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
  - name: tls-delegation
  - name: httpproxy
  - name: ingress
  - name: metrics
    config: {address: 127.0.0.1, port: 0, debug-port: 0}
YAML

# fetch URL [CURL ARGS...]: body in $T/body, headers in $T/headers (CRs
# dropped), status in $code.
fetch() {
	code=$(curl -sS --max-time 10 -o "$T/body" -D "$T/headers.raw" -w '%{http_code}' "$@") ||
		fail "curl $* failed"
	tr -d '\r' <"$T/headers.raw" >"$T/headers"
}

# serve LOG [ARGS...]: contour serve in the background; $pid, and $mport
# and $dport (the metrics and debug ports) from its log.
serve() {
	log=$1
	shift
	rm -f "$log"
	"$CONTOUR" serve --config "$T/contour.yaml" "$@" >"$log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	wait_for "$log" "started: 5 modules"
	wait_for "$log" "source file-watch synced"
	mport=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' "$log")
	dport=$(sed -n 's/.*serving \/debug\/dag on http:\/\/[^ ]*:\([0-9][0-9]*\).*/\1/p' "$log")
	[ -n "$mport" ] && [ -n "$dport" ] || {
		cat "$log" >&2
		fail "no metrics or debug port in $log"
	}
}

stop() {
	kill -TERM "$pid"
	wait_exit "$pid" 10
	[ "$rc" = 0 ] || {
		cat "$log" >&2
		fail "exit status $rc after SIGTERM, want 0"
	}
}

serve "$T/log"
expect_in "$T/log" "serving /debug/dag on http://127.0.0.1:$dport"
ok "debug listener on 127.0.0.1:$dport"

# The first build follows the sync after the hold-off: wait for the vhost.
i=0
while :; do
	fetch "http://127.0.0.1:$dport/debug/dag"
	grep -q 'kuard.local' "$T/body" && break
	i=$((i + 1))
	[ $i -gt 50 ] && { cat "$T/body" >&2; fail "/debug/dag never named kuard.local"; }
	sleep 0.1
done
[ "$code" = 200 ] || fail "GET /debug/dag: $code, want 200"
grep -qix 'content-type: text/plain; charset=utf-8' "$T/headers" || {
	cat "$T/headers" >&2
	fail "GET /debug/dag: wrong Content-Type"
}
head -1 "$T/body" | grep -qx 'digraph DAG {' || fail "GET /debug/dag: not a digraph: $(head -3 "$T/body")"
expect_in "$T/body" '"http/kuard.local"'
expect_in "$T/body" 'default/kuard:80'
cp "$T/body" "$T/served.dot"
ok "GET /debug/dag: 200 text/plain, the vhost and the service"

# The same text as contour render --format dot over the same files.
"$CONTOUR" render --format dot "$top_srcdir/examples" >"$T/render.dot" 2>"$T/render.err" || {
	cat "$T/render.err" >&2
	fail "contour render --format dot failed"
}
cmp -s "$T/served.dot" "$T/render.dot" || {
	diff "$T/render.dot" "$T/served.dot" >&2
	fail "/debug/dag differs from contour render --format dot"
}
ok "/debug/dag is what contour render --format dot prints"

if command -v dot >/dev/null 2>&1; then
	dot -Tsvg "$T/served.dot" >"$T/dag.svg" 2>"$T/dot.err" || {
		cat "$T/dot.err" >&2
		fail "dot -Tsvg rejected /debug/dag"
	}
	grep -q '<svg' "$T/dag.svg" || fail "dot -Tsvg wrote no SVG"
	grep -q 'kuard.local' "$T/dag.svg" || fail "the SVG does not name kuard.local"
	ok "dot -Tsvg parses it"
elif [ "$strict" = 1 ]; then
	fail "dot (graphviz) not found (CONTOUR_STRICT_TESTS=1)"
else
	echo "skip: dot -Tsvg (graphviz not installed)"
fi

for p in / /debug/pprof/ /debug/dag/x /metrics /healthz; do
	fetch "http://127.0.0.1:$dport$p"
	[ "$code" = 404 ] || fail "GET $p on the debug port: $code, want 404"
	[ "$(cat "$T/body")" = "404 page not found" ] || fail "GET $p: body '$(cat "$T/body")'"
done
fetch "http://127.0.0.1:$mport/debug/dag"
[ "$code" = 404 ] || fail "GET /debug/dag on the metrics port: $code, want 404"
ok "other paths: 404 page not found"

# No k8s-watch, no health check: always healthy, with upstream's body.
for p in /healthz /health; do
	fetch "http://127.0.0.1:$mport$p"
	[ "$code" = 200 ] || fail "GET $p: $code, want 200"
	printf 'OK\n' | cmp -s - "$T/body" || fail "GET $p: body '$(cat "$T/body")', want OK and a newline"
	grep -qix 'content-type: text/plain; charset=utf-8' "$T/headers" || fail "GET $p: wrong Content-Type"
done
ok "/healthz and /health: 200 OK without health checks"
stop

# The flags move the listener, over the file's keys (port 1 would fail).
sed 's/debug-port: 0/debug-address: 127.0.0.1, debug-port: 1/' "$T/contour.yaml" >"$T/flags.yaml"
mv "$T/flags.yaml" "$T/contour.yaml"
serve "$T/flags.log" --debug-http-address 127.0.0.2 --debug-http-port=0
expect_in "$T/flags.log" "serving /debug/dag on http://127.0.0.2:$dport"
[ "$dport" != 1 ] || fail "--debug-http-port did not override debug-port"
fetch "http://127.0.0.2:$dport/debug/dag"
[ "$code" = 200 ] || fail "GET 127.0.0.2:$dport/debug/dag: $code, want 200"
expect_in "$T/body" 'kuard.local'
if curl -s --max-time 5 -o /dev/null "http://127.0.0.1:$dport/debug/dag"; then
	fail "still serving on 127.0.0.1:$dport"
fi
ok "--debug-http-address and --debug-http-port move the listener"
stop

# A taken debug port fails the start, naming it.
"$CONTOUR" serve --config "$T/contour.yaml" --debug-http-port 0 >"$T/holder.log" 2>&1 &
hpid=$!
PIDS="$PIDS $hpid"
wait_for "$T/holder.log" "started: 5 modules"
hport=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' "$T/holder.log")
expect_rc 1 "$CONTOUR" serve --config "$T/contour.yaml" --debug-http-port "$hport"
expect_in "$T/err" "debug listener: cannot listen on 127.0.0.1:$hport: Address already in use"
kill -TERM "$hpid"
wait_exit "$hpid" 10
ok "taken debug port: exit 1, naming it"

sed 's/debug-address: 127.0.0.1/debug-address: localhost/' "$T/contour.yaml" >"$T/name.yaml"
expect_rc 1 "$CONTOUR" check-config "$T/name.yaml"
expect_in "$T/err" "debug-address: 'localhost' is not a numeric"
ok "check-config refuses a host name for debug-address"
