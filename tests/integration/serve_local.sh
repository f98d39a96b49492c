#!/bin/sh
# `contour serve --config conf/local.yaml`: starts, loads the examples,
# exits 0 on SIGTERM and on SIGINT; JSON logs are JSON.
. "${top_srcdir:?}/tests/integration/lib.sh"

# conf/local.yaml as shipped, but with the metrics port left to the kernel
# (so the test never collides with a running contour) and the examples
# folder made absolute (the copy lives elsewhere).
sed -e 's|port: 8000|port: 0|' -e 's|port: 8001|port: 0|' -e "s|\.\./examples|$top_srcdir/examples|" \
	"$top_srcdir/conf/local.yaml" >"$T/local.yaml"
[ "$(grep -c 'port: 0' "$T/local.yaml")" = 2 ] || fail "conf/local.yaml no longer sets ports 8000 and 8001"

run_and_signal() {
	sig=$1
	shift
	# Remove the previous run's log first: the background child truncates it
	# only when it starts, and wait_for must not read the old one.
	rm -f "$T/log"
	"$CONTOUR" "$@" serve --config "$T/local.yaml" >"$T/log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	wait_for "$T/log" "started: 5 modules"
	wait_for "$T/log" "source file-watch synced"
	kill -0 "$pid" || fail "contour exited early"
	kill -"$sig" "$pid"
	wait_exit "$pid" 10
	[ "$rc" = 0 ] || {
		cat "$T/log" >&2
		fail "exit status $rc after SIG$sig, want 0"
	}
}

run_and_signal TERM
expect_in "$T/log" "level=info msg=\"received SIGTERM, shutting down\" module=core"
expect_in "$T/log" "msg=\"stopped\""
expect_in "$T/log" "module=file-watch"
ok "SIGTERM: clean exit 0"

run_and_signal INT --debug
expect_in "$T/log" "received SIGINT"
expect_in "$T/log" "level=debug"
ok "SIGINT: clean exit 0, --debug logs debug lines"

run_and_signal TERM --log-format json
while IFS= read -r line; do
	case "$line" in
	'{"level":'*'"module":'*'"msg":'*'"time":'*'}') ;;
	*) fail "not a JSON log line: $line" ;;
	esac
done <"$T/log"
expect_in "$T/log" '"msg":"received SIGTERM, shutting down"'
ok "--log-format json"
