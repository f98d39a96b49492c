#!/bin/sh
# bench/bench_shutdown.sh: the shutdown-manager's resident memory and CPU.
#
# Upstream's sidecar had to be given 200m CPU and Envoy
# Gateway's peaked near 300m; this prints what ours costs, from /proc, in
# four states, each for $SECONDS_EACH seconds (default 30):
#
#   idle         `contour envoy shutdown-manager`, nothing asked of it
#   role idle    `contour serve` with conf/shutdown-manager.yaml's modules
#                (metrics + shutdown-manager), nothing asked of it
#   poll 1s      `contour envoy shutdown --check-interval 1s` against the
#                Envoy admin stand-in (tests/envoyadmin) with connections
#                that never drain
#   poll 100ms   the same at --check-interval 100ms
#   wait 1s      the sidecar holding one GET /shutdown (1 s ready-file ticks)
#
# CPU is utime+stime over the window, as millicores (1000m = one core);
# memory is VmRSS at the end and VmHWM (peak). Figures, not a test.
#
#   CONTOUR=build/contour CONTOUR_MODULE_PATH=... sh bench/bench_shutdown.sh
: "${CONTOUR:?path to the contour binary}"
SECONDS_EACH=${SECONDS_EACH:-30}
top_srcdir=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/bench-shutdown-XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
HZ=$(getconf CLK_TCK)

node "$top_srcdir/tests/envoyadmin/envoyadmin.js" --socket "$T/admin.sock" \
    --http '{"ingress_http":5,"ingress_https":5}' --tcp '{"0.0.0.0_8443":2}' >"$T/ea.log" 2>&1 &
PIDS="$PIDS $!"
i=0
until grep -q listening "$T/ea.log" 2>/dev/null; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "the admin stand-in did not start" >&2; exit 1; }
	sleep 0.1
done

ticks() { # PID: utime+stime in clock ticks
	# Fields after the command name (which may hold spaces) start at 3.
	sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
kb() { # PID FIELD
	awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}

# measure LABEL PID: sample PID over SECONDS_EACH and print one row.
measure() {
	sleep 1 # past start-up
	t0=$(ticks "$2")
	sleep "$SECONDS_EACH"
	t1=$(ticks "$2")
	rss=$(kb "$2" VmRSS)
	hwm=$(kb "$2" VmHWM)
	awk -v l="$1" -v d=$((t1 - t0)) -v hz="$HZ" -v s="$SECONDS_EACH" -v r="$rss" -v h="$hwm" \
	    'BEGIN {printf "%-12s %9.2fm %8d KiB %8d KiB   (%d ticks in %ds)\n", l, d / hz / s * 1000, r, h, d, s}'
	kill "$2" 2>/dev/null
	wait "$2" 2>/dev/null
}

printf "%-12s %10s %12s %12s\n" state cpu VmRSS VmHWM

"$CONTOUR" envoy shutdown-manager --serve-port 0 --ready-file "$T/ok" --sigterm-wait 0s \
    >"$T/idle.log" 2>&1 &
measure idle $!

cat >"$T/role.yaml" <<YAML
modules:
  - name: metrics
    config: {address: 127.0.0.1, port: 0, debug-port: 0}
  - name: shutdown-manager
    config: {port: 0, ready-file: $T/ok, admin-address: $T/admin.sock, shutdown-drains: true,
             sigterm-wait: 0s}
YAML
"$CONTOUR" serve --config "$T/role.yaml" >"$T/role.log" 2>&1 &
measure "role idle" $!

for iv in 1s 100ms; do
	"$CONTOUR" envoy shutdown --admin-address "$T/admin.sock" --ready-file "$T/ok.$iv" \
	    --check-interval "$iv" --drain-timeout 0s --no-log-to-pid1 >"$T/poll.log" 2>&1 &
	measure "poll $iv" $!
done

"$CONTOUR" envoy shutdown-manager --serve-port 0 --ready-file "$T/never" --sigterm-wait 0s \
    >"$T/wait.log" 2>&1 &
p=$!
sleep 0.5
port=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9][0-9]*\) (.*/\1/p' "$T/wait.log")
curl -s "http://127.0.0.1:$port/shutdown" >/dev/null 2>&1 &
PIDS="$PIDS $!"
measure "wait 1s" $p
