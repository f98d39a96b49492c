#!/bin/sh
# The shutdown-manager module against tests/envoyadmin (a stand-in for
# Envoy's admin interface on a unix socket): the handshake through both
# entry points (`contour envoy shutdown-manager` + `contour envoy shutdown`,
# and `contour serve` with a role file whose /shutdown drains), flags,
# min-open-connections, TCP connections counted, connections that never
# drain, Envoy not running, admin faults (500, garbage, NaN, closed
# socket), /healthcheck/fail retries, a /shutdown client that goes away,
# two drains at once, a taken port, SIGTERM during a drain, slow clients
# and the connection cap, /healthz, metrics, and hook logs reaching PID 1.
. "${top_srcdir:?}/tests/integration/lib.sh"

# Under CONTOUR_STRICT_TESTS (any value but 0) a missing tool fails the
# test instead of skipping it.
case ${CONTOUR_STRICT_TESTS:-0} in
0) strict=0 ;;
*) strict=1 ;;
esac
for tool in curl node; do
	if ! command -v $tool >/dev/null 2>&1; then
		[ "$strict" = 1 ] && fail "$tool not found (CONTOUR_STRICT_TESTS=$CONTOUR_STRICT_TESTS)"
		echo "SKIP: $tool not found"
		exit 77
	fi
done
EA="$top_srcdir/tests/envoyadmin/envoyadmin.js"

# ea_start NAME [KNOB ARGS...]: an admin stand-in on $T/NAME.sock.
ea_start() {
	name=$1
	shift
	node "$EA" --socket "$T/$name.sock" "$@" >"$T/$name.ea.log" 2>&1 &
	eval "ea_pid_$name=$!"
	PIDS="$PIDS $!"
	wait_for "$T/$name.ea.log" "listening on"
}
ea_stop() {
	eval "p=\$ea_pid_$1"
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}
# ea_get NAME PATH: a GET on the stand-in's socket, body on stdout.
ea_get() {
	curl -sS --unix-socket "$T/$1.sock" "http://envoy$2"
}
ea_set() {
	curl -sS --unix-socket "$T/$1.sock" -X POST -d "$2" "http://envoy/_test/config" >/dev/null ||
		fail "cannot configure the stand-in $1"
}
# ea_count NAME METHOD PATH: how many such requests the stand-in answered.
ea_count() {
	ea_get "$1" /_test/requests |
		node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
		  const r=JSON.parse(s);console.log(r.filter(x=>x.method===process.argv[1]&&x.path===process.argv[2]).length)})' \
		    "$2" "$3"
}
# serve_port LOG: the port a shutdown-manager logged.
serve_port() {
	sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9][0-9]*\) (\/healthz, \/shutdown).*/\1/p' "$1" |
		head -n 1
}
# sm_start NAME ARGS...: `contour envoy shutdown-manager` in the
# background; sets $sm_pid and $sm_port.
sm_start() {
	name=$1
	shift
	"$CONTOUR" envoy shutdown-manager --serve-port 0 "$@" >"$T/$name.log" 2>&1 &
	sm_pid=$!
	PIDS="$PIDS $sm_pid"
	wait_for "$T/$name.log" "listening on http"
	sm_port=$(serve_port "$T/$name.log")
	[ -n "$sm_port" ] || fail "no port in $T/$name.log"
}
# fetch URL [CURL ARGS]: status in $code, body in $T/body.
fetch() {
	code=$(curl -sS -o "$T/body" -w '%{http_code}' "$@") || code=000
}
elapsed_since() { # START (from date +%s%N): milliseconds since
	echo $(( ($(date +%s%N) - $1) / 1000000 ))
}
FAST="--check-interval 100ms"

# --- The stand-in itself: the Envoy behaviour the tests rest on ---------
ea_start probe --http '{"ingress_http":2}'
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/probe.sock" http://e/healthcheck/fail)
[ "$code" = 405 ] || fail "stand-in: GET /healthcheck/fail: $code, want 405 (POST only)"
[ "$(ea_get probe /ready)" = LIVE ] || fail "stand-in: /ready is not LIVE at start"
ea_get probe '/stats/prometheus?filter=%5Ehttp%5C..%2A%5C.downstream_cx_active%24' >"$T/stats"
expect_in "$T/stats" 'envoy_http_downstream_cx_active{envoy_http_conn_manager_prefix="ingress_http"} 2'
grep -q envoy_listener "$T/stats" && fail "stand-in: the filter did not apply to stat names"
curl -sS --unix-socket "$T/probe.sock" -X POST http://e/healthcheck/fail >/dev/null
code=$(curl -s -o "$T/body" -w '%{http_code}' --unix-socket "$T/probe.sock" http://e/ready)
[ "$code" = 503 ] && [ "$(cat "$T/body")" = DRAINING ] ||
	fail "stand-in: /ready after /healthcheck/fail: $code $(cat "$T/body"), want 503 DRAINING"
ea_stop probe
ok "stand-in: POST-only mutations (405), filter on stat names, /ready LIVE then DRAINING"

# --- Command line --------------------------------------------------------
expect_rc 2 "$CONTOUR" envoy
expect_in "$T/err" "shutdown-manager"
expect_rc 2 "$CONTOUR" envoy no-such-thing
expect_in "$T/err" "unknown command 'no-such-thing'"
expect_rc 0 "$CONTOUR" envoy shutdown --help
for f in --admin-address --admin-port --check-delay --check-interval --drain-delay \
    --min-open-connections --ready-file --drain-timeout --min-drain-duration --count-connections; do
	expect_in "$T/out" "$f"
done
expect_in "$T/out" "--check-interval=DURATION"
expect_in "$T/out" "(default 5s)"
expect_in "$T/out" "(default 4m40s)"
expect_in "$T/out" "(default 15s)"
expect_in "$T/out" "(default /admin/admin.sock)"
expect_rc 0 "$CONTOUR" envoy shutdown-manager --help
expect_in "$T/out" "--serve-port=INT"
expect_in "$T/out" "(default 8090)"
expect_in "$T/out" "(default /admin/ok)"
expect_rc 1 "$CONTOUR" envoy shutdown --check-interval=soon
expect_in "$T/err" "--check-interval: expected a duration"
expect_rc 1 "$CONTOUR" envoy shutdown --serve-port 1
expect_in "$T/err" "unknown flag '--serve-port'"
expect_rc 1 "$CONTOUR" envoy shutdown-manager --serve-port 70000
expect_rc 1 "$CONTOUR" envoy shutdown --min-open-connections
expect_in "$T/err" "needs a value"
ok "envoy: usage (exit 2), --help with upstream's flags and defaults, bad flags (exit 1)"

# --- Upstream's handshake: envoy shutdown-manager + envoy shutdown -------
ea_start up --http '{"ingress_http":3,"ingress_https":1}' --drain-per-second 4
sm_start up --ready-file "$T/up.ok"
fetch "http://127.0.0.1:$sm_port/healthz"
[ "$code" = 200 ] && [ "$(cat "$T/body")" = OK ] || fail "GET /healthz: $code, want 200 OK"
curl -sS -o "$T/up.shutdown" -w '%{http_code}' "http://127.0.0.1:$sm_port/shutdown" \
    >"$T/up.code" 2>&1 &
curl_pid=$!
sleep 1.3
kill -0 $curl_pid 2>/dev/null || fail "GET /shutdown answered before the ready file existed"
[ "$(ea_count up POST /healthcheck/fail)" = 0 ] || fail "/shutdown drained without shutdown-drains"
start=$(date +%s%N)
# Both flag forms, and the deprecated --admin-port.
expect_rc 0 "$CONTOUR" envoy shutdown --admin-address="$T/up.sock" --admin-port 9001 \
    --ready-file "$T/up.ok" --check-interval=100ms --drain-delay 0s --check-delay=0s \
    --log-to-pid1=false
expect_in "$T/err" "--admin-port is deprecated and ignored"
expect_in "$T/err" "drain finished"
[ -f "$T/up.ok" ] || fail "envoy shutdown exited 0 without the ready file"
wait $curl_pid
[ "$(cat "$T/up.code")" = 200 ] && [ "$(cat "$T/up.shutdown")" = OK ] ||
	fail "GET /shutdown: $(cat "$T/up.code") '$(cat "$T/up.shutdown")', want 200 OK"
ms=$(elapsed_since "$start")
[ "$ms" -lt 4000 ] || fail "the handshake took ${ms}ms after the drain began"
[ "$(ea_count up POST /healthcheck/fail)" = 1 ] || fail "want exactly one POST /healthcheck/fail"
ea_get up /_test/requests >"$T/up.requests"
expect_in "$T/up.requests" '"query":"?filter=%5Elistener%5C..%2A%5C.downstream_cx_active%24"'
kill -TERM $sm_pid
wait_exit $sm_pid 5
[ "$rc" = 0 ] || fail "envoy shutdown-manager exited $rc on SIGTERM, want 0"
ok "upstream's handshake: /shutdown waits, envoy shutdown fails health checks, polls, writes the file; /shutdown answers 200 OK"

# Hooks are delivered at least once: a second run sees the ready file.
expect_rc 0 "$CONTOUR" envoy shutdown --admin-address "$T/up.sock" --ready-file "$T/up.ok" \
    --log-to-pid1=false
expect_in "$T/err" "the ready file exists"
[ "$(ea_count up POST /healthcheck/fail)" = 1 ] || fail "a second run drained again"
ea_stop up
ok "envoy shutdown again after the ready file: exit 0 at once, no second drain"

# --- The serve role: /shutdown starts the drain --------------------------
ea_start role --http '{"ingress_http":2}' --tcp '{"0.0.0.0_8443":1}' \
    --drain-per-second 4 --tcp-drain-per-second 4
sed -e "s#/admin/admin.sock#$T/role.sock#" -e "s#/admin/ok#$T/role.ok#" \
    -e 's#port: 8090#port: 0#' -e 's#port: 8000#port: 0#' -e 's#check-interval: 1s#check-interval: 100ms#' \
    "$top_srcdir/conf/shutdown-manager.yaml" >"$T/role.yaml"
expect_rc 0 "$CONTOUR" check-config "$top_srcdir/conf/shutdown-manager.yaml"
touch "$T/role.ok" # stale, from an earlier container: must not short-cut the drain
"$CONTOUR" serve --config "$T/role.yaml" --debug-http-port 0 >"$T/role.log" 2>&1 &
role_pid=$!
PIDS="$PIDS $role_pid"
wait_for "$T/role.log" "started: 2 modules"
expect_in "$T/role.log" "removed the stale ready file"
port=$(serve_port "$T/role.log")
mport=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\) (\/metrics.*/\1/p' "$T/role.log")
fetch "http://127.0.0.1:$port/healthz"
[ "$code" = 200 ] || fail "role: /healthz $code"
fetch "http://127.0.0.1:$mport/metrics"
expect_in "$T/body" "contour_shutdown_manager_drain_started 0"
start=$(date +%s%N)
fetch "http://127.0.0.1:$port/shutdown" --max-time 10
[ "$code" = 200 ] && [ "$(cat "$T/body")" = OK ] || fail "role: GET /shutdown: $code"
ms=$(elapsed_since "$start")
[ "$ms" -ge 300 ] || fail "role: /shutdown answered in ${ms}ms: it did not wait for the drain"
[ -f "$T/role.ok" ] || fail "role: no ready file after the drain"
[ "$(ea_count role POST /healthcheck/fail)" = 1 ] || fail "role: /shutdown did not fail health checks"
# A second /shutdown (the kubelet may repeat the hook): no second drain.
fetch "http://127.0.0.1:$port/shutdown" --max-time 5
[ "$code" = 200 ] || fail "role: second /shutdown $code"
[ "$(ea_count role POST /healthcheck/fail)" = 1 ] || fail "role: a second /shutdown drained again"
fetch "http://127.0.0.1:$mport/metrics"
cp "$T/body" "$T/role.metrics"
expect_in "$T/role.metrics" "contour_shutdown_manager_drain_started 1"
expect_in "$T/role.metrics" "contour_shutdown_manager_open_connections 0"
grep -q '^contour_shutdown_manager_drain_seconds 0\.[3-9]\|^contour_shutdown_manager_drain_seconds [1-9]' \
    "$T/role.metrics" || fail "role: drain_seconds not the drain's length: $(grep drain_seconds "$T/role.metrics")"
if [ -n "${PROMTOOL:-}" ] && [ -x "$PROMTOOL" ]; then
	"$PROMTOOL" check metrics <"$T/role.metrics" >"$T/promtool" 2>&1 ||
		{ cat "$T/promtool" >&2; fail "promtool rejected /metrics"; }
elif [ "$strict" = 1 ]; then
	fail "PROMTOOL unset or not executable (CONTOUR_STRICT_TESTS=$CONTOUR_STRICT_TESTS)"
else
	echo "skip: promtool check of the role's /metrics (PROMTOOL unset)"
fi
kill -TERM $role_pid
wait_exit $role_pid 10
[ "$rc" = 0 ] || fail "role: exit $rc on SIGTERM, want 0"
ea_stop role
ok "serve role: a stale ready file removed, /shutdown drains (TCP counted) and answers, idempotent; metrics"

# --- min-open-connections -----------------------------------------------
ea_start minopen --http '{"ingress_http":6}' --drain-per-second 2
expect_rc 0 "$CONTOUR" envoy shutdown --admin-address "$T/minopen.sock" \
    --ready-file "$T/minopen.ok" $FAST --min-open-connections 3 --log-to-pid1=false
expect_in "$T/err" "3 open connections (minimum 3)"
left=$(ea_get minopen /_test/state | sed -n 's/.*"ingress_http":\([0-9]*\).*/\1/p')
[ "$left" -ge 2 ] || fail "min-open-connections 3: the drain waited down to $left"
ea_stop minopen
ok "min-open-connections: ready at 3 open, not 0"

# --- TCP proxy / TLS passthrough connections ----------------------------
ea_start tcp --tcp '{"0.0.0.0_8443":2}'
start=$(date +%s%N)
expect_rc 0 "$CONTOUR" envoy shutdown --admin-address "$T/tcp.sock" --ready-file "$T/tcp1.ok" \
    $FAST --drain-timeout 1s --log-to-pid1=false
expect_in "$T/err" "2 open connections"
expect_in "$T/err" "--drain-timeout (1.0s) reached with 2 connections open"
ms=$(elapsed_since "$start")
[ "$ms" -ge 900 ] || fail "TCP connections were not counted (done in ${ms}ms)"
expect_rc 0 "$CONTOUR" envoy shutdown --admin-address "$T/tcp.sock" --ready-file "$T/tcp2.ok" \
    $FAST --drain-timeout 5s --count-connections http --log-to-pid1=false
expect_in "$T/err" "0 open connections (minimum 0)"
ea_get tcp /_test/requests >"$T/tcp.requests"
expect_in "$T/tcp.requests" '"query":"?filter=%5Ehttp%5C..%2A%5C.downstream_cx_active%24"'
ea_stop tcp
ok "TCP connections: counted by default (listener gauge), ignored by --count-connections http (upstream's filter)"

# --- Connections that never drain: the timeout ends it -------------------
ea_start never --http '{"ingress_http":2}'
start=$(date +%s%N)
expect_rc 0 "$CONTOUR" envoy shutdown --admin-address "$T/never.sock" --ready-file "$T/never.ok" \
    $FAST --drain-timeout 1500ms --log-to-pid1=false
ms=$(elapsed_since "$start")
[ -f "$T/never.ok" ] || fail "drain-timeout: no ready file"
[ "$ms" -ge 1400 ] && [ "$ms" -lt 4000 ] || fail "drain-timeout 1.5s ended after ${ms}ms"
expect_in "$T/err" "--drain-timeout (1.5s) reached"
ea_stop never
ok "connections that never drain: --drain-timeout writes the ready file (${ms}ms)"

# --- Envoy not running: nothing listens on the socket --------------------
start=$(date +%s%N)
expect_rc 0 "$CONTOUR" envoy shutdown --admin-address "$T/missing.sock" \
    --ready-file "$T/missing.ok" $FAST --unreachable-timeout 1s --log-to-pid1=false
ms=$(elapsed_since "$start")
[ -f "$T/missing.ok" ] || fail "Envoy not running: no ready file"
[ "$ms" -lt 4000 ] || fail "Envoy not running: took ${ms}ms"
expect_in "$T/err" "Envoy is not running"
# Without the unreachable limit, the overall timeout still ends it.
start=$(date +%s%N)
expect_rc 0 "$CONTOUR" envoy shutdown --admin-address "$T/missing.sock" \
    --ready-file "$T/missing2.ok" $FAST --unreachable-timeout 0s --drain-timeout 2s \
    --log-to-pid1=false
ms=$(elapsed_since "$start")
[ "$ms" -lt 5000 ] && [ -f "$T/missing2.ok" ] || fail "socket missing + drain-timeout: ${ms}ms"
expect_in "$T/err" "no connection count from Envoy yet"
ok "Envoy not running: --unreachable-timeout ends it, or --drain-timeout; nothing hangs"

# --- /healthcheck/fail retried with backoff ------------------------------
ea_start retry --healthcheck-fail-errors 2
start=$(date +%s%N)
expect_rc 0 "$CONTOUR" envoy shutdown --admin-address "$T/retry.sock" --ready-file "$T/retry.ok" \
    $FAST --log-to-pid1=false
ms=$(elapsed_since "$start")
[ "$(ea_count retry POST /healthcheck/fail)" = 3 ] ||
	fail "want 3 POSTs (2 failures then success), got $(ea_count retry POST /healthcheck/fail)"
# 200ms then 1s (x5.0), each up to 10% more.
[ "$ms" -ge 1150 ] && [ "$ms" -lt 3500 ] || fail "retry backoff took ${ms}ms, want about 1.2s"
expect_in "$T/err" "retrying in"
ea_stop retry
ok "POST /healthcheck/fail retried: 200ms, 1s backoff (${ms}ms)"

# --- Admin faults: 500, garbage, NaN, closed socket ----------------------
for fault in 500 garbage badvalue close; do
	ea_start "f$fault" --http '{"ingress_http":1}' --fault "$fault" --fault-stats-only true
	expect_rc 0 "$CONTOUR" envoy shutdown --admin-address "$T/f$fault.sock" \
	    --ready-file "$T/f$fault.ok" $FAST --drain-timeout 1s --log-to-pid1=false
	expect_in "$T/err" "--drain-timeout (1.0s) reached"
	case $fault in
	500) expect_in "$T/err" "GET /stats/prometheus: HTTP 500" ;;
	garbage) expect_in "$T/err" "cannot read Envoy's stats: line " ;;
	badvalue) expect_in "$T/err" "not a count" ;;
	close) expect_in "$T/err" "GET /stats/prometheus:" ;;
	esac
	grep -q "Envoy is not running" "$T/err" && fail "fault $fault taken for Envoy not running"
	ea_stop "f$fault"
done
# Garbage that turns good: the poll goes on and the drain ends normally.
ea_start heal --fault garbage --fault-stats-only true
"$CONTOUR" envoy shutdown --admin-address "$T/heal.sock" --ready-file "$T/heal.ok" $FAST \
    --log-to-pid1=false >"$T/heal.out" 2>"$T/heal.err" &
heal_pid=$!
PIDS="$PIDS $heal_pid"
wait_for "$T/heal.err" "cannot read Envoy's stats"
ea_set heal '{"fault":"none"}'
wait_exit $heal_pid 5
[ "$rc" = 0 ] || fail "heal: exit $rc"
expect_in "$T/heal.err" "0 open connections (minimum 0)"
ea_stop heal
ok "admin faults: 500, garbage, NaN and closed sockets are logged and retried; drain-timeout ends them"

# --- A /shutdown client that goes away -----------------------------------
sm_start gone --ready-file "$T/gone.ok"
curl -s --max-time 1 "http://127.0.0.1:$sm_port/shutdown" >/dev/null 2>&1
wait_for "$T/gone.log" "a /shutdown client went away" 5
fetch "http://127.0.0.1:$sm_port/healthz"
[ "$code" = 200 ] || fail "server broken after a client went away: $code"
grep -q "/shutdown answered" "$T/gone.log" && fail "the client that went away was answered"
curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$sm_port/shutdown" \
    >"$T/gone.code" &
curl_pid=$!
sleep 0.3
touch "$T/gone.ok"
wait $curl_pid
[ "$(cat "$T/gone.code")" = 200 ] || fail "/shutdown after the ready file: $(cat "$T/gone.code")"
expect_in "$T/gone.log" "the ready file exists: /shutdown answered"
kill -TERM $sm_pid
wait_exit $sm_pid 5
[ "$rc" = 0 ] || fail "gone: exit $rc"
ok "a /shutdown client that disconnects is dropped without a reply; the server goes on"

# --- Two envoy shutdown runs at once -------------------------------------
ea_start twice --http '{"ingress_http":2}' --drain-per-second 2
"$CONTOUR" envoy shutdown --admin-address "$T/twice.sock" --ready-file "$T/twice.ok" $FAST \
    --log-to-pid1=false >/dev/null 2>"$T/twice1.err" &
p1=$!
wait_for "$T/twice1.err" "drain started"
"$CONTOUR" envoy shutdown --admin-address "$T/twice.sock" --ready-file "$T/twice.ok" $FAST \
    --log-to-pid1=false >/dev/null 2>"$T/twice2.err" &
p2=$!
PIDS="$PIDS $p1 $p2"
wait_exit $p1 10
rc1=$rc
wait_exit $p2 10
[ "$rc1" = 0 ] && [ "$rc" = 0 ] || fail "two runs: exits $rc1 and $rc, want 0 and 0"
expect_in "$T/twice2.err" "another shutdown holds"
expect_in "$T/twice2.err" "another drain finished"
[ "$(ea_count twice POST /healthcheck/fail)" = 1 ] || fail "two runs drained twice"
ea_stop twice
ok "two envoy shutdown runs at once: one drains, the other waits on the lock for its ready file"

# --- Both paths at once: the role's /shutdown and envoy shutdown --------
# The same ready file and admin socket, as in one pod: whichever starts
# second waits on the lock, Envoy's health checks are failed once, and
# both end when the one drain does. Both orders.
for first in hook role; do
	ea_start "both$first" --http '{"ingress_http":2}' --drain-per-second 2
	cat >"$T/both$first.yaml" <<YAML
modules:
  - name: shutdown-manager
    config: {address: 127.0.0.1, port: 0, ready-file: $T/both$first.ok,
             admin-address: $T/both$first.sock, shutdown-drains: true,
             check-interval: 100ms, sigterm-wait: 0s}
YAML
	"$CONTOUR" serve --config "$T/both$first.yaml" >"$T/both$first.log" 2>&1 &
	role_pid=$!
	PIDS="$PIDS $role_pid"
	wait_for "$T/both$first.log" "started: 1 modules"
	port=$(serve_port "$T/both$first.log")
	do_hook() {
		"$CONTOUR" envoy shutdown --admin-address "$T/both$first.sock" \
		    --ready-file "$T/both$first.ok" $FAST --log-to-pid1=false \
		    >/dev/null 2>"$T/both$first.hook.err" &
		hook_pid=$!
		PIDS="$PIDS $hook_pid"
	}
	do_shutdown() {
		curl -sS -o "$T/both$first.body" -w '%{http_code}' --max-time 15 \
		    "http://127.0.0.1:$port/shutdown" >"$T/both$first.code" 2>&1 &
		curl_pid=$!
	}
	if [ $first = hook ]; then
		do_hook
		wait_for "$T/both$first.hook.err" "drain started"
		do_shutdown
		wait_for "$T/both$first.log" "another shutdown holds"
	else
		do_shutdown
		wait_for "$T/both$first.log" "drain started"
		do_hook
		wait_for "$T/both$first.hook.err" "another shutdown holds"
	fi
	wait_exit $hook_pid 15
	[ "$rc" = 0 ] || fail "both ($first first): envoy shutdown exited $rc"
	wait $curl_pid
	[ "$(cat "$T/both$first.code")" = 200 ] && [ "$(cat "$T/both$first.body")" = OK ] ||
		fail "both ($first first): GET /shutdown: $(cat "$T/both$first.code")"
	[ -f "$T/both$first.ok" ] || fail "both ($first first): no ready file"
	n=$(ea_count "both$first" POST /healthcheck/fail)
	[ "$n" = 1 ] || fail "both ($first first): $n POSTs of /healthcheck/fail, want 1"
	left=$(ea_get "both$first" /_test/state | sed -n 's/.*"ingress_http":\([0-9]*\).*/\1/p')
	[ "$left" = 0 ] || fail "both ($first first): the ready file came with $left connections open"
	kill -TERM $role_pid
	wait_exit $role_pid 5
	[ "$rc" = 0 ] || fail "both ($first first): the role exited $rc"
	ea_stop "both$first"
done
ok "both paths at once (role's /shutdown and envoy shutdown, either first): one drain, both answered"

# --- Port in use ---------------------------------------------------------
sm_start busy --ready-file "$T/busy.ok"
expect_rc 1 "$CONTOUR" envoy shutdown-manager --serve-port "$sm_port" --ready-file "$T/busy.ok"
expect_in "$T/err" "cannot listen on 0.0.0.0:$sm_port: Address already in use"
cat >"$T/busy.yaml" <<YAML
modules:
  - name: shutdown-manager
    config: {port: $sm_port, ready-file: $T/busy.ok}
YAML
expect_rc 1 "$CONTOUR" serve --config "$T/busy.yaml"
expect_in "$T/err" "Address already in use"
kill -TERM $sm_pid
wait_exit $sm_pid 5
ok "port in use: a clear error and exit 1 (command and serve)"

# --- SIGTERM during a drain ----------------------------------------------
# The role: SIGTERM while /shutdown drains waits for the drain.
ea_start term --http '{"ingress_http":3}' --drain-per-second 2
cat >"$T/term.yaml" <<YAML
modules:
  - name: shutdown-manager
    config: {address: 127.0.0.1, port: 0, ready-file: $T/term.ok, admin-address: $T/term.sock,
             shutdown-drains: true, check-interval: 100ms, sigterm-wait: 1s}
YAML
"$CONTOUR" serve --config "$T/term.yaml" >"$T/term.log" 2>&1 &
term_pid=$!
PIDS="$PIDS $term_pid"
wait_for "$T/term.log" "started: 1 modules"
port=$(serve_port "$T/term.log")
curl -sS -o "$T/term.body" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/shutdown" \
    >"$T/term.code" 2>&1 &
curl_pid=$!
wait_for "$T/term.log" "drain started"
kill -TERM $term_pid
sleep 0.7
kill -0 $term_pid 2>/dev/null || fail "SIGTERM during a drain: exited before the drain ended"
wait $curl_pid
[ "$(cat "$T/term.code")" = 200 ] || fail "SIGTERM during a drain: /shutdown got $(cat "$T/term.code")"
wait_exit $term_pid 5
[ "$rc" = 0 ] || fail "SIGTERM during a drain: exit $rc"
expect_in "$T/term.log" "stopping after the drain"
[ -f "$T/term.ok" ] || fail "SIGTERM during a drain: no ready file"
ea_stop term
# No drain running: sigterm-wait, then out.
"$CONTOUR" serve --config "$T/term.yaml" >"$T/term2.log" 2>&1 &
term_pid=$!
PIDS="$PIDS $term_pid"
wait_for "$T/term2.log" "started: 1 modules"
start=$(date +%s%N)
kill -TERM $term_pid
wait_exit $term_pid 5
ms=$(elapsed_since "$start")
[ "$rc" = 0 ] && [ "$ms" -ge 900 ] || fail "idle SIGTERM: exit $rc after ${ms}ms, want 0 after sigterm-wait 1s"
# A second signal ends the wait at once.
"$CONTOUR" serve --config "$T/term.yaml" >"$T/term3.log" 2>&1 &
term_pid=$!
PIDS="$PIDS $term_pid"
wait_for "$T/term3.log" "started: 1 modules"
kill -TERM $term_pid
wait_for "$T/term3.log" "signal again"
kill -TERM $term_pid
wait_exit $term_pid 2
expect_in "$T/term3.log" "second signal: stopping now"
# envoy shutdown: SIGTERM abandons the drain, no ready file, lock released.
ea_start term4 --http '{"ingress_http":1}'
"$CONTOUR" envoy shutdown --admin-address "$T/term4.sock" --ready-file "$T/term4.ok" $FAST \
    --log-to-pid1=false >/dev/null 2>"$T/term4.err" &
p=$!
PIDS="$PIDS $p"
wait_for "$T/term4.err" "open connections"
kill -TERM $p
wait_exit $p 3
[ "$rc" = 1 ] || fail "envoy shutdown on SIGTERM: exit $rc, want 1"
[ -f "$T/term4.ok" ] && fail "envoy shutdown on SIGTERM wrote the ready file"
expect_in "$T/term4.err" "drain abandoned"
ea_set term4 '{"http":{"ingress_http":0}}'
expect_rc 0 "$CONTOUR" envoy shutdown --admin-address "$T/term4.sock" --ready-file "$T/term4.ok" \
    $FAST --drain-timeout 5s --log-to-pid1=false
expect_in "$T/err" "0 open connections"
grep -q "another shutdown holds" "$T/err" && fail "the lock outlived the abandoned drain"
ea_stop term4
ok "SIGTERM: the role finishes a drain first, waits sigterm-wait when idle, a second signal ends it; envoy shutdown abandons (exit 1)"

# --- /healthz, methods, slow clients, the connection cap -----------------
sm_start lim --ready-file "$T/lim.ok" --request-timeout 1s --max-connections 2 \
    --serve-address 127.0.0.1
expect_in "$T/lim.log" "listening on http://127.0.0.1:"
U="http://127.0.0.1:$sm_port"
fetch "$U/healthz" -I
[ "$code" = 200 ] || fail "HEAD /healthz: $code"
fetch "$U/healthz" -X POST
[ "$code" = 405 ] || fail "POST /healthz: $code, want 405"
fetch "$U/nope"
[ "$code" = 404 ] || fail "GET /nope: $code, want 404"
fetch "$U/healthz" -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)"
[ "$code" != 200 ] || fail "a 9 KB header was accepted"
# A client dripping its request is cut at request-timeout.
start=$(date +%s%N)
node -e '
const s=require("net").connect(+process.argv[1],"127.0.0.1",()=>{
  let i=0;const t=setInterval(()=>{s.write(i++?"a":"GET /healthz HTTP/1.1\r\nX-Slow: ")},300);
  s.on("close",()=>{clearInterval(t);process.exit(0)});
  setTimeout(()=>process.exit(3),6000);});' "$sm_port" || fail "a dripping client was not cut within 6s"
ms=$(elapsed_since "$start")
[ "$ms" -lt 3500 ] || fail "a dripping client lasted ${ms}ms with request-timeout 1s"
# Two idle connections fill the cap; a third waits until they are cut.
node -e '
const net=require("net");for(let i=0;i<2;i++)net.connect(+process.argv[1],"127.0.0.1");
setTimeout(()=>process.exit(0),4000);' "$sm_port" &
idle=$!
sleep 0.3
start=$(date +%s%N)
fetch "$U/healthz" --max-time 5
ms=$(elapsed_since "$start")
wait $idle
[ "$code" = 200 ] || fail "the third connection was never served: $code"
[ "$ms" -ge 500 ] || fail "max-connections 2: a third connection was served at once (${ms}ms)"
expect_in "$T/lim.log" "2 connections open (max-connections)"
kill -TERM $sm_pid
wait_exit $sm_pid 5
ok "server limits: HEAD/405/404, header size, request deadline, connection cap (third served after ${ms}ms), loopback address"

# --- Hook logs reach the container log (PID 1's stdout) ------------------
if unshare -pf --mount-proc true 2>/dev/null; then
	ea_start pid1 --http '{"ingress_http":1}' --drain-per-second 5
	unshare -pf --mount-proc sh -c '
	  "$1" envoy shutdown --admin-address "$2" --ready-file "$3" --check-interval 100ms \
	      2>"$4"; echo "hook exited $?"' sh "$CONTOUR" "$T/pid1.sock" "$T/pid1.ok" \
	    "$T/pid1.hook.err" >"$T/pid1.out"
	expect_in "$T/pid1.out" "hook exited 0"
	expect_in "$T/pid1.out" 'msg="drain finished'
	expect_in "$T/pid1.out" "hook=envoy-shutdown"
	expect_in "$T/pid1.hook.err" "drain finished"
	ea_stop pid1
	ok "envoy shutdown as a hook (not PID 1): its log lines reach PID 1's stdout"
elif [ "$strict" = 1 ]; then
	fail "unshare -p not permitted (CONTOUR_STRICT_TESTS=$CONTOUR_STRICT_TESTS)"
else
	echo "skip: log-to-pid1 (unshare -p not permitted)"
fi
exit 0
