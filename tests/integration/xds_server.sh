#!/bin/sh
# The xDS server with a real gRPC client: tests/xds/xds_client.js (Node,
# @grpc/grpc-js, Envoy's protos from @grpc/grpc-js-xds) against
# tests/xds/xds_testserver, plaintext and mTLS (certificates made here with
# the openssl CLI).
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"

skip() {
	echo "SKIP: $*"
	if [ -n "${CONTOUR_STRICT_TESTS:-}" ]; then exit 1; fi
	exit 77
}
command -v node >/dev/null 2>&1 || skip "node is not installed"
command -v npm >/dev/null 2>&1 || skip "npm is not installed"
command -v openssl >/dev/null 2>&1 || skip "openssl is not installed"

server="$top_builddir/tests/xds/xds_testserver"
[ -x "$server" ] || { echo "FAIL: $server not built"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# The client's dependencies, from the lockfile, installed once into the build
# tree (the source tree may be read-only, as in distcheck) and again only
# when the lockfile changes.
client="$top_builddir/tests/xds/client"
mkdir -p "$client"
cp "$top_srcdir/tests/xds/xds_client.js" "$top_srcdir/tests/xds/envoy_api.js" "$client/"
if ! cmp -s "$top_srcdir/tests/xds/package-lock.json" "$client/package-lock.json" ||
	[ ! -d "$client/node_modules/@grpc/grpc-js-xds" ]; then
	cp "$top_srcdir/tests/xds/package.json" "$top_srcdir/tests/xds/package-lock.json" "$client/"
	if ! (cd "$client" && npm ci --no-audit --no-fund --silent >"$work/npm.log" 2>&1); then
		cat "$work/npm.log"
		rm -f "$client/package-lock.json"
		skip "npm ci failed (no registry access?)"
	fi
fi

# Certificates: a CA, the server's, a client's, and a client's from another CA.
pki="$work/pki"
mkdir -p "$pki"
mkcert() { # name cn ca-prefix ext
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$pki/$1.key" -subj "/CN=$2" -out "$pki/$1.csr" 2>/dev/null
	printf '%s\n' "$4" >"$pki/$1.ext"
	openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$3.crt" -CAkey "$pki/$3.key" \
		-CAcreateserial -days 2 -extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
}
for ca in ca otherca; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$pki/$ca.key" -subj "/CN=$ca" -days 2 -out "$pki/$ca.crt" 2>/dev/null
done
mkcert server contour ca "subjectAltName=DNS:contour,IP:127.0.0.1"
mkcert server2 contour-rotated ca "subjectAltName=DNS:contour,IP:127.0.0.1"
mkcert client envoy ca "extendedKeyUsage=clientAuth"
mkcert stranger envoy otherca "extendedKeyUsage=clientAuth"

cd "$work"
XDS_TESTSERVER="$server" XDS_PKI="$pki" node "$client/xds_client.js"
