#!/bin/sh
# quickstart.sh: the README's two commands, for a fresh Debian 12 machine, as root.
#
#   ./quickstart.sh run    install packages, build, install, and run
#                          `contour serve --config conf/local.yaml` in the foreground
#   ./quickstart.sh test   install packages, build, and pass the whole test suite:
#                          `make check`, again under ASan/UBSan, and `make distcheck`
#
# Builds happen out of tree, in build/ and build-asan/, so both can coexist.
set -eu
cd "$(dirname "$0")"
top=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)

# Every build dependency comes from Debian 12; configure names the package
# for anything missing.
BUILD_DEPS="build-essential autoconf automake libtool pkg-config
	libevent-dev libssl-dev libjansson-dev libyaml-dev libcurl4-openssl-dev
	libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev check"
# The tests also use promtool (Debian's prometheus package), curl, kubectl
# (kubernetes-client, below) and
# clang (libFuzzer replay is built with the default compiler; clang is only
# needed for `make fuzz`).
TEST_DEPS="prometheus curl graphviz"
# Node.js runs the xDS test client (Envoy's own protos through @grpc/grpc-js).
# Install Debian's only when there is none: a machine with another Node.js
# build (which bundles npm) would refuse Debian's npm package.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	TEST_DEPS="$TEST_DEPS nodejs npm"
fi
# kubectl drives the test API server (tests/integration/k8sapi_kubectl.sh).
# Debian's is in kubernetes-client; a machine with another kubectl (the
# Google Cloud SDK's kubectl package owns /usr/bin/kubectl too) keeps it.
if ! command -v kubectl >/dev/null 2>&1; then
	TEST_DEPS="$TEST_DEPS kubernetes-client"
fi

step() { printf '\n==> %s\n' "$*"; }

install_deps() {
	if command -v apt-get >/dev/null 2>&1; then
		step "installing Debian packages"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $BUILD_DEPS "$@" >/dev/null
	fi
}

configure_in() {
	dir=$1
	shift
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && "$top/configure" -q "$@")
	fi
}

build() {
	step "bootstrapping and building"
	[ -x configure ] || autoreconf -fi
	configure_in build
	make -C build -j"$jobs" >/dev/null
}

case "${1:-}" in
run)
	install_deps
	build
	step "installing to /usr/local"
	make -C build install >/dev/null
	ldconfig 2>/dev/null || true
	step "contour serve --config conf/local.yaml (Ctrl-C to stop)"
	exec contour serve --config conf/local.yaml
	;;
test)
	# shellcheck disable=SC2086
	install_deps $TEST_DEPS
	build
	step "make check"
	make -C build -j"$jobs" check || { cat build/test-suite.log; exit 1; }
	step "make check under AddressSanitizer and UndefinedBehaviorSanitizer"
	configure_in build-asan --enable-sanitizers
	# intercept_tls_get_addr=0: LeakSanitizer (GCC 12) reads a bogus
	# dynamic-TLS range of a dlopen()ed library and its tracer crashes at
	# exit ("Tracer caught signal 11", exit 134) depending on which
	# modules are loaded; leaks are still checked.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0 \
		make -C build-asan -j"$jobs" check || { cat build-asan/test-suite.log; exit 1; }
	step "make distcheck"
	make -C build -j"$jobs" distcheck >build/distcheck.log 2>&1 || { tail -50 build/distcheck.log; exit 1; }
	grep -E 'archives ready' build/distcheck.log || true
	# One summary line over the plain and the sanitizer runs.
	passed=0
	failed=0
	for log in build/test-suite.log build-asan/test-suite.log; do
		p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
		f=$(sed -n 's/^# FAIL: *//p' "$log" | head -1)
		passed=$((passed + ${p:-0}))
		failed=$((failed + ${f:-0}))
	done
	step "all tests passed"
	echo "tests: $passed passed, $failed failed"
	;;
*)
	echo "usage: $0 run|test" >&2
	exit 2
	;;
esac
