# tests/integration/lib.sh: shared helpers for the shell tests. Source it.
# The test harness exports top_srcdir, top_builddir and CONTOUR_MODULE_PATH.
set -u
CONTOUR="${top_builddir:?}/contour"
T=$(mktemp -d "${TMPDIR:-/tmp}/contour-it-XXXXXX")
trap 'cleanup' EXIT
PIDS=""

cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() {
	echo "ok: $*"
}

# expect_rc WANT CMD...: run CMD, capture stdout/stderr in $T/out and
# $T/err, and check the exit status.
expect_rc() {
	want=$1
	shift
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = "$want" ] || {
		cat "$T/out" "$T/err" >&2
		fail "'$*' exited $rc, want $want"
	}
}

# expect_in FILE TEXT: FILE contains TEXT (fixed string).
expect_in() {
	grep -qF -- "$2" "$1" || {
		echo "--- $1:" >&2
		cat "$1" >&2
		fail "'$2' not found in $1"
	}
}

# wait_for FILE TEXT [SECONDS]: until FILE contains TEXT.
wait_for() {
	i=0
	limit=$(( ${3:-10} * 10 ))
	while ! grep -qF -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $limit ] && {
			cat "$1" >&2
			fail "timed out waiting for '$2' in $1"
		}
		sleep 0.1
	done
}

# wait_exit PID SECONDS: wait for PID to exit; sets $rc.
wait_exit() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt $(( $2 * 10 )) ] && fail "process $1 did not exit within $2 s"
		sleep 0.1
	done
	wait "$1"
	rc=$?
}

# xds_client NAME FILE...: the Node xDS client (tests/xds' FILEs and the
# dependencies of its lockfile) in $top_builddir/tests/xds/NAME, a folder
# per test so tests running at once never share an `npm ci`; installed
# again only when the lockfile changes (the source tree may be read-only,
# as in distcheck). Sets $client; returns 1, with npm's log printed, when
# npm ci fails.
xds_client() {
	client="$top_builddir/tests/xds/$1"
	shift
	mkdir -p "$client"
	for f; do cp "$top_srcdir/tests/xds/$f" "$client/" || return 1; done
	if ! cmp -s "$top_srcdir/tests/xds/package-lock.json" "$client/package-lock.json" ||
		[ ! -d "$client/node_modules/@grpc/grpc-js-xds" ]; then
		cp "$top_srcdir/tests/xds/package.json" "$top_srcdir/tests/xds/package-lock.json" "$client/"
		if ! (cd "$client" && npm ci --no-audit --no-fund --silent >"$client/npm.log" 2>&1); then
			cat "$client/npm.log"
			rm -f "$client/package-lock.json"
			return 1
		fi
	fi
}
