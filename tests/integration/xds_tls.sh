#!/bin/sh
# xds-grpc's transport: plaintext on a non-loopback address warns that
# secrets travel in the clear (none on 127.0.0.1); the mTLS server, with
# `contour certgen --pem`'s files, refuses TLS 1.2 and accepts TLS 1.3.
. "${top_srcdir:?}/tests/integration/lib.sh"
cd "$T"
mkdir m
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n' >m/ns.yaml

# serve_cfg NAME XDS-CONFIG: start `contour serve`; log in $T/NAME.log.
serve_cfg() {
	cat >"$1.yaml" <<CFG
modules:
  - name: file-watch
    config: {paths: [$T/m]}
  - name: xds-grpc
    config: $2
CFG
	"$CONTOUR" serve --config "$T/$1.yaml" >"$T/$1.log" 2>&1 &
	pid=$!
	PIDS="$PIDS $pid"
	wait_for "$T/$1.log" "xDS server listening on"
}
stop() {
	kill -TERM "$pid"
	wait_exit "$pid" 10
}

serve_cfg wide '{address: 0.0.0.0, port: 0, insecure: true}'
stop
expect_in "$T/wide.log" "is plaintext (insecure) on a non-loopback address"
expect_in "$T/wide.log" "xDS on 0.0.0.0:"
expect_in "$T/wide.log" "secrets (TLS private keys) travel in the clear"
serve_cfg lo '{address: 127.0.0.1, port: 0, insecure: true}'
stop
grep -q "travel in the clear" "$T/lo.log" && { cat "$T/lo.log"; fail "warning on loopback"; }
ok "insecure xDS: a warning on 0.0.0.0, none on 127.0.0.1"

command -v openssl >/dev/null 2>&1 || { echo "# no openssl: TLS versions not tested"; exit 0; }
"$CONTOUR" certgen --pem pki >"$T/certgen.out" 2>&1 || { cat "$T/certgen.out"; fail "certgen"; }
serve_cfg mtls "{address: 127.0.0.1, port: 0, ca-file: $T/pki/cacert.pem, cert-file: $T/pki/contourcert.pem, key-file: $T/pki/contourkey.pem}"
port=$(sed -n 's/.*xDS server listening on 127\.0\.0\.1:\([0-9]*\) (mTLS).*/\1/p' "$T/mtls.log")
[ -n "$port" ] || { cat "$T/mtls.log"; fail "no mTLS port"; }
# s_client VERSION-FLAG: a handshake with envoy's certificate, output in
# $T/sc.out. Its exit status is not the verdict: after a TLS 1.3 handshake
# s_client may exit 1 when the server's close races its own close_notify,
# so what was negotiated is read from what it prints.
s_client() {
	echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" "$1" \
		-CAfile pki/cacert.pem -cert pki/envoycert.pem -key pki/envoykey.pem \
		-alpn h2 -verify_return_error >"$T/sc.out" 2>&1
}
s_client -tls1_2
grep -q '^New, TLSv1' "$T/sc.out" && { cat "$T/sc.out"; fail "TLS 1.2 was accepted"; }
s_client -tls1_3
grep -q '^New, TLSv1.3' "$T/sc.out" || { cat "$T/sc.out"; fail "TLS 1.3 was refused"; }
grep -q 'Verify return code: 0 (ok)' "$T/sc.out" || { cat "$T/sc.out"; fail "server certificate not verified"; }
grep -q 'ALPN protocol: h2' "$T/sc.out" || { cat "$T/sc.out"; fail "no h2 by ALPN"; }
stop
ok "mTLS xDS: TLS 1.2 refused, TLS 1.3 accepted"
