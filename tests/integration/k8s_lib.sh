# tests/integration/k8s_lib.sh: the test Kubernetes API server
# (tests/k8sapi) and `contour serve` against it, for the k8s_*.sh tests and
# bench/bench_k8s.sh. Source it after lib.sh.
#
# It takes from lib.sh only what a script outside `make check` gets as well
# once it sets top_srcdir and top_builddir before sourcing lib.sh: $T (every
# file goes there), $PIDS (killed on exit), $CONTOUR, fail, wait_exit. It
# reads no automake variable itself, so bench/bench_k8s.sh sources both.
#
# Files in $T: ca.crt/.key, server.crt/.key, client.crt/.key (k8s_pki),
# api.out/.err (the API server), resp and code (api), metrics (wait_metric),
# NAME.log beside each NAME.yaml given to contour_start. The tests write
# $T/tokens (the API server's --token-file) and $T/token (a kubeconfig's
# tokenFile) themselves: what they hold is what the tests are about.

K8S_ADMIN=ADMIN

# k8s_require: node, openssl and curl are there, or SKIP (exit 77); under
# CONTOUR_STRICT_TESTS (CI) a missing tool is a failure, not a quiet skip.
k8s_require() {
	for tool in node openssl curl; do
		command -v "$tool" >/dev/null 2>&1 && continue
		case ${CONTOUR_STRICT_TESTS:-0} in
		0) ;;
		*) fail "$tool not found (CONTOUR_STRICT_TESTS=$CONTOUR_STRICT_TESTS)" ;;
		esac
		echo "SKIP: $tool not found"
		exit 77
	done
}

k8s_openssl() {
	openssl "$@" >/dev/null 2>&1 || fail "openssl $*"
}

# k8s_cert NAME CN EXTENSION: $T/NAME.key and $T/NAME.crt, an EC key and
# its certificate signed by the CA.
k8s_cert() {
	k8s_openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/$1.key" -subj "/CN=$2" -out "$T/$1.csr"
	echo "$3" >"$T/$1.ext"
	k8s_openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
		-CAcreateserial -days 2 -extfile "$T/$1.ext" -out "$T/$1.crt"
}

# k8s_pki [CLIENT-CN]: a CA and a server certificate for 127.0.0.1 and
# localhost; with CLIENT-CN also a client certificate, which the API server
# (--ca) takes as the user CLIENT-CN.
k8s_pki() {
	k8s_openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$T/ca.key" -subj /CN=ca -days 2 -out "$T/ca.crt"
	k8s_cert server apiserver "subjectAltName=DNS:localhost,IP:127.0.0.1"
	if [ -n "${1:-}" ]; then
		k8s_cert client "$1" "extendedKeyUsage=clientAuth"
	fi
}

# k8s_wait_log FILE TEXT SECONDS PID: until FILE has TEXT; fails at once
# when PID exits first, rather than after the whole timeout. Polls every
# 20 ms: bench and k8s_secrets.sh time the line.
k8s_wait_log() {
	i=0
	while ! grep -qF -- "$2" "$1" 2>/dev/null; do
		if ! kill -0 "$4" 2>/dev/null; then
			tail -n 40 "$1" >&2
			fail "process $4 exited before '$2' in $1"
		fi
		i=$((i + 1))
		if [ $i -gt $(($3 * 50)) ]; then
			tail -n 40 "$1" >&2
			fail "timed out waiting for '$2' in $1"
		fi
		sleep 0.02
	done
}

# k8s_apiserver_start [ARGS...]: the test API server over HTTPS with the
# PKI from k8s_pki and the admin token, plus ARGS (--token-file, --seed,
# knobs). Returns once it listens, with $API (its https:// URL) and
# $API_PID. $K8S_API_WAIT seconds at most (20; big seeds need more).
k8s_apiserver_start() {
	# A log left by an earlier server would satisfy the wait below before
	# the new one's redirection truncates it.
	rm -f "$T/api.out" "$T/api.err"
	node "$top_srcdir/tests/k8sapi/apiserver.js" --cert "$T/server.crt" \
		--key "$T/server.key" --ca "$T/ca.crt" --admin-token "$K8S_ADMIN" "$@" \
		>"$T/api.out" 2>"$T/api.err" &
	API_PID=$!
	PIDS="$PIDS $API_PID"
	k8s_wait_log "$T/api.out" "listening on https://" "${K8S_API_WAIT:-20}" "$API_PID"
	API=$(sed -n 's/^listening on \(https:[^ ]*\).*/\1/p' "$T/api.out" | head -1)
}

# k8s_kubeconfig FILE [AUTH]: a kubeconfig for $API trusting the CA. AUTH:
# a token file (the default, $T/token; re-read by k8s-watch, so tests can
# rotate it), token=TOKEN for an inline token, or client-cert for the
# certificate k8s_pki CN made.
k8s_kubeconfig() {
	auth=${2:-$T/token}
	case $auth in
	client-cert) user="{client-certificate: $T/client.crt, client-key: $T/client.key}" ;;
	token=*) user="{token: ${auth#token=}}" ;;
	*) user="{tokenFile: $auth}" ;;
	esac
	cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: "$API"
    certificate-authority: $T/ca.crt
users:
- name: contour
  user: $user
contexts:
- name: test
  context: {cluster: test, user: contour}
current-context: test
EOF
}

# api METHOD PATH [BODY [CONTENT-TYPE]]: call the API server as admin (the
# control API too); the answer in $T/resp, its HTTP status in $T/code. It
# fails only when no answer came: the callers judge the status.
api() {
	if [ $# -ge 3 ]; then
		curl -sS -o "$T/resp" -w '%{http_code}' --cacert "$T/ca.crt" -X "$1" \
			-H "Authorization: Bearer $K8S_ADMIN" \
			-H "Content-Type: ${4:-application/json}" --data-binary "$3" \
			"$API$2" >"$T/code" || fail "API $1 $2: no answer"
	else
		curl -sS -o "$T/resp" -w '%{http_code}' --cacert "$T/ca.crt" -X "$1" \
			-H "Authorization: Bearer $K8S_ADMIN" "$API$2" >"$T/code" ||
			fail "API $1 $2: no answer"
	fi
}

# api_ok CODE: the last api call answered CODE.
api_ok() {
	[ "$(cat "$T/code")" = "$1" ] || fail "API answered $(cat "$T/code"), want $1: $(cat "$T/resp")"
}

# api_edit PATH JS [PUT-PATH]: read the object at PATH, run the JavaScript
# statements JS on it (as o) and PUT it back, to PATH or PUT-PATH (its
# /status); both must answer 200.
api_edit() {
	api GET "$1"
	api_ok 200
	node -e 'const fs = require("fs");
		const o = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
		eval(process.argv[3]);
		fs.writeFileSync(process.argv[2], JSON.stringify(o));' "$T/resp" "$T/edit.json" "$2" ||
		fail "editing $1"
	api PUT "${3:-$1}" "$(cat "$T/edit.json")"
	api_ok 200
}

# json_eval FILE EXPR: a JavaScript expression over the JSON in FILE (as o),
# printed: strings as they are, anything else as JSON (undefined as null).
json_eval() {
	node -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const v = eval(process.argv[2]);
		process.stdout.write(typeof v === "string" ? v : JSON.stringify(v === undefined ? null : v));' "$1" "$2"
}

# expect_json EXPR WANT: EXPR (json_eval) over the last api answer is WANT.
expect_json() {
	got=$(json_eval "$T/resp" "$1")
	[ "$got" = "$2" ] || {
		cat "$T/resp" >&2
		echo >&2
		fail "$1 is '$got', want '$2'"
	}
}

# contour_logs: the end of every contour log in $T, for a failure message.
contour_logs() {
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "--- $f:" >&2
		tail -n 40 "$f" >&2
	done
}

# wait_api PATH EXPR WANT [SECONDS]: until EXPR (json_eval) over the object
# at PATH is WANT (15 s at most).
wait_api() {
	i=0
	while :; do
		api GET "$1"
		got=$(json_eval "$T/resp" "$2")
		[ "$got" = "$3" ] && return 0
		i=$((i + 1))
		if [ $i -gt $((${4:-15} * 5)) ]; then
			cat "$T/resp" >&2
			echo >&2
			contour_logs
			fail "$1: $2 is '$got', want '$3'"
		fi
		sleep 0.2
	done
}

# contour_start CONFIG [ARGS...]: `contour serve --config CONFIG ARGS` in
# the background, both streams in CONFIG's name with .log for .yaml.
# Returns once it logged "started:" (every module started), with $CPID,
# $CLOG and, when it runs the metrics module, $M (the /metrics URL, from its
# "listening on" line). $CONTOUR_WRAP goes before the command (bench: perf,
# valgrind); $K8S_START_WAIT is the limit in seconds (20).
contour_start() {
	CLOG=${1%.yaml}.log
	rm -f "$CLOG" # as in k8s_apiserver_start: no stale " started: "
	${CONTOUR_WRAP:-} "$CONTOUR" serve --config "$@" >"$CLOG" 2>&1 &
	CPID=$!
	PIDS="$PIDS $CPID"
	k8s_wait_log "$CLOG" " started: " "${K8S_START_WAIT:-20}" "$CPID"
	port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' "$CLOG" |
		head -1)
	M=${port:+http://127.0.0.1:$port/metrics}
}

# contour_stop [PID]: SIGTERM ($CPID by default); it must exit 0 within 10 s.
contour_stop() {
	p=${1:-$CPID}
	kill -TERM "$p"
	wait_exit "$p" 10
	if [ "$rc" != 0 ]; then
		contour_logs
		fail "contour serve exited $rc"
	fi
}

# wait_metric PATTERN [SECONDS]: until a line of $M matches PATTERN (grep,
# basic regular expression); 10 s at most, and contour ($CPID) must stay
# up. The last scrape is in $T/metrics.
wait_metric() {
	i=0
	until curl -s "$M" >"$T/metrics" && grep -q -- "$1" "$T/metrics"; do
		if ! kill -0 "$CPID" 2>/dev/null; then
			tail -n 40 "$CLOG" >&2
			fail "contour exited before $1 on /metrics"
		fi
		i=$((i + 1))
		if [ $i -gt $((${2:-10} * 50)) ]; then
			tail -n 40 "$CLOG" >&2
			fail "no $1 on /metrics within ${2:-10} s"
		fi
		sleep 0.02
	done
}

now_ms() {
	date +%s%3N
}

# proc_kib PID FIELD: a kB field of /proc/PID/status (VmRSS, VmHWM).
proc_kib() {
	awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"
}
