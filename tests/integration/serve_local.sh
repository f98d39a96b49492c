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
	"$CONTOUR" "$@" serve --config "$T/local.yaml" --debug-http-port 0 >"$T/log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	wait_for "$T/log" "started: 6 modules"
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

# Upstream's serve flags override the config file: a config without
# `insecure` and with fixed ports starts with --insecure and port flags.
cat >"$T/flags.yaml" <<YAML
modules:
  - name: file-watch
    config: {paths: ["$top_srcdir/examples"]}
  - name: tls-delegation
  - name: httpproxy
  - name: xds-grpc
    config: {address: 127.0.0.1, port: 1}
  - name: metrics
    config: {address: 127.0.0.1, port: 1}
YAML
expect_rc 1 "$CONTOUR" serve --config "$T/flags.yaml" --xds-port 0 --http-port=0
expect_in "$T/err" "no TLS parameters and --insecure not supplied. You must supply one or the other"
CONTOUR_CAFILE=/nonexistent/ca.crt expect_rc 1 "$CONTOUR" serve --config "$T/flags.yaml" --xds-port 0
expect_in "$T/err" "you must supply all three TLS parameters"
expect_rc 1 "$CONTOUR" serve --config "$T/flags.yaml" --insecure --no-such-flag 3
expect_in "$T/err" "unknown flag '--no-such-flag'"
rm -f "$T/log"
"$CONTOUR" serve --config "$T/flags.yaml" --insecure --xds-port 0 --http-port=0 --debug-http-port 0 \
	--root-namespaces default >"$T/log" 2>&1 &
pid=$!
PIDS="$PIDS $pid"
wait_for "$T/log" "started: 5 modules"
expect_in "$T/log" "listening on http://127.0.0.1:"
expect_in "$T/log" "xDS server listening on 127.0.0.1:"
kill -TERM "$pid"
wait_exit "$pid" 10
[ "$rc" = 0 ] || { cat "$T/log" >&2; fail "exit status $rc with flags"; }
ok "serve flags (--insecure, --xds-port, --http-port=, env CONTOUR_CAFILE) override the file"
