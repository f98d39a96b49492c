#!/bin/sh
# The test Kubernetes API server (tests/k8sapi/apiserver.js) checked by its
# own self-test over HTTPS, with certificates made by the openssl CLI.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"

skip() {
	echo "SKIP: $*"
	if [ -n "${CONTOUR_STRICT_TESTS:-}" ]; then exit 1; fi
	exit 77
}
command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"

exec node "$top_srcdir/tests/k8sapi/selftest.js" -v
