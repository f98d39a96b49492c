#!/bin/sh
# `contour certgen` (k8s-watch): upstream's flags and outputs.
#   files   --pem and --yaml into a folder: the files, their mode, what
#           openssl reads in them (SANs, chain, key, lifetime, CA); a second
#           run refused without --overwrite and nothing changed; --overwrite
#           replaces; CONTOUR_NAMESPACE and --namespace; the default folder;
#           usage errors exit 2, --help lists every flag.
#   --kube  against the test API server (tests/k8sapi) with a kubeconfig:
#           legacy and compact Secrets, a rerun keeps them ("not
#           overwritten", same resourceVersion), --overwrite updates them,
#           --secrets-name-suffix; the webhook's Secret and the caBundle of
#           a seeded ValidatingWebhookConfiguration, one applied while
#           certgen waits, one that never comes (a warning, exit 0, the
#           Secrets written); only the calls the
#           RBAC grants; no private key in any output.
. "${top_srcdir:?}/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/k8s_lib.sh"

command -v openssl >/dev/null 2>&1 || {
	[ -z "${CONTOUR_STRICT_TESTS:-}" ] || fail "openssl not found"
	echo "SKIP: openssl not found"
	exit 77
}
cd "$T"

# san FILE: the certificate's SANs, "DNS:a,DNS:b".
san() {
	openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 | tr -d ' \n'
}
# sans SERVICE NS: what upstream's serviceNames gives.
sans() {
	echo "DNS:$1,DNS:$1.$2,DNS:$1.$2.svc,DNS:$1.$2.svc.cluster.local"
}
# modulus FILE (certificate or key): the RSA modulus.
modulus() {
	case $1 in
	*key.pem) openssl rsa -in "$1" -noout -modulus ;;
	*) openssl x509 -in "$1" -noout -modulus ;;
	esac
}
sums() {
	(cd "$1" && sha256sum ./*)
}
# no_keys FILE...: neither a PEM private key nor its base64 in any of them.
no_keys() {
	for f in "$@"; do
		if grep -q -e 'PRIVATE KEY' -e 'LS0tLS1CRUdJTiBSU0Eg' "$f"; then
			fail "a private key in $f"
		fi
	done
}

# ---- usage ----
expect_rc 0 "$CONTOUR" certgen --help
for f in certificate-lifetime incluster kube kubeconfig namespace overwrite pem secrets-format \
	secrets-name-suffix yaml webhook-service webhook-configuration webhook-wait; do
	expect_in "$T/out" "--$f"
done
expect_in "$T/out" "<outputdir>"
expect_rc 2 "$CONTOUR" certgen --bogus
expect_in "$T/err" "unknown long flag '--bogus'"
expect_rc 2 "$CONTOUR" certgen --pem --secrets-format=fancy u1
expect_in "$T/err" 'unsupported Secrets format "fancy"'
expect_rc 2 "$CONTOUR" certgen --pem u1 u2
expect_rc 2 "$CONTOUR" certgen --certificate-lifetime=-1 --pem u1
expect_rc 2 "$CONTOUR" certgen --certificate-lifetime
expect_rc 2 "$CONTOUR" certgen --pem --webhook-wait 5s u1
expect_rc 2 "$CONTOUR" certgen --pem --webhook-service Bad_Name u1
[ ! -e u1 ] || fail "a refused command wrote something"
ok "--help lists every flag; usage errors exit 2 and write nothing"

# ---- --pem and --yaml ----
expect_rc 0 "$CONTOUR" certgen --pem --yaml --certificate-lifetime 30 "$T/c1"
for f in cacert.pem contourcert.pem contourkey.pem envoycert.pem envoykey.pem \
	contourcert.yaml envoycert.yaml cacert.yaml; do
	[ -f "c1/$f" ] || fail "no c1/$f"
	expect_in "$T/out" "$T/c1/$f created"
	[ "$(stat -c %a "c1/$f")" = 600 ] || fail "c1/$f has mode $(stat -c %a "c1/$f")"
done
[ "$(ls c1 | wc -l)" = 8 ] || fail "unexpected files: $(ls c1)"
expect_in "$T/out" "Writing certificates to PEM files in $T/c1/"
expect_in "$T/out" "Writing \"legacy\" format Secrets to YAML files in $T/c1/"
no_keys "$T/out" "$T/err"
[ "$(san c1/contourcert.pem)" = "$(sans contour projectcontour)" ] ||
	fail "contour SANs: $(san c1/contourcert.pem)"
[ "$(san c1/envoycert.pem)" = "$(sans envoy projectcontour)" ] ||
	fail "envoy SANs: $(san c1/envoycert.pem)"
openssl verify -CAfile c1/cacert.pem c1/contourcert.pem c1/envoycert.pem >"$T/v" 2>&1 ||
	{ cat "$T/v"; fail "the leaves do not verify against cacert.pem"; }
openssl x509 -in c1/cacert.pem -noout -ext basicConstraints | grep -q 'CA:TRUE' ||
	fail "cacert.pem is not a CA"
openssl x509 -in c1/cacert.pem -noout -subject | grep -q 'CN = Project Contour' ||
	fail "CA subject: $(openssl x509 -in c1/cacert.pem -noout -subject)"
if openssl x509 -in c1/envoycert.pem -noout -ext basicConstraints 2>/dev/null | grep -q CA:; then
	fail "envoycert.pem has basic constraints"
fi
for s in contour envoy; do
	[ "$(modulus c1/${s}cert.pem)" = "$(modulus c1/${s}key.pem)" ] ||
		fail "${s}key.pem is not the key of ${s}cert.pem"
	head -1 c1/${s}key.pem | grep -qx -- '-----BEGIN RSA PRIVATE KEY-----' ||
		fail "${s}key.pem is not PKCS#1"
	openssl x509 -in c1/${s}cert.pem -noout -checkend $((29 * 86400)) >/dev/null ||
		fail "${s}cert.pem ends before 29 days"
	if openssl x509 -in c1/${s}cert.pem -noout -checkend $((31 * 86400)) >/dev/null; then
		fail "${s}cert.pem lasts more than 30 days"
	fi
done
openssl x509 -in c1/contourcert.pem -noout -text | grep -q 'Public-Key: (2048 bit)' ||
	fail "not an RSA 2048 key"
ok "--pem: the CA, the contour and envoy certificates and keys, SANs, 30 days"

# The YAML files: upstream's Secrets, their data the PEM files.
expect_in c1/contourcert.yaml "kind: Secret"
expect_in c1/contourcert.yaml "  name: contourcert"
expect_in c1/contourcert.yaml "  namespace: projectcontour"
expect_in c1/contourcert.yaml "    app: contour"
expect_in c1/contourcert.yaml "type: kubernetes.io/tls"
expect_in c1/cacert.yaml "type: Opaque"
yaml_data() { # FILE KEY: the data KEY of a Secret YAML file, decoded
	sed -n "s/^  $2: //p" "$1" | base64 -d
}
yaml_data c1/contourcert.yaml tls.crt | cmp -s - c1/contourcert.pem ||
	fail "contourcert.yaml tls.crt is not contourcert.pem"
yaml_data c1/envoycert.yaml tls.key | cmp -s - c1/envoykey.pem ||
	fail "envoycert.yaml tls.key is not envoykey.pem"
yaml_data c1/cacert.yaml cacert.pem | cmp -s - c1/cacert.pem ||
	fail "cacert.yaml cacert.pem is not cacert.pem"
if grep -q 'ca.crt' c1/contourcert.yaml; then fail "legacy contourcert has ca.crt"; fi
ok "--yaml: legacy Secrets contourcert, envoycert (kubernetes.io/tls), cacert (Opaque)"

# Again without --overwrite: refused, nothing changed.
sums c1 >"$T/before"
expect_rc 1 "$CONTOUR" certgen --pem "$T/c1"
expect_in "$T/err" "failed to write certificates to \"$T/c1\": can't create file $T/c1/cacert.pem: open $T/c1/cacert.pem: file exists"
expect_rc 1 "$CONTOUR" certgen --yaml "$T/c1"
expect_in "$T/err" "failed to write Secrets to \"$T/c1\": can't create file $T/c1/contourcert.yaml"
sums c1 | cmp -s - "$T/before" || fail "files changed by a refused run"
ok "a second run is refused (exit 1, upstream's message) and changes nothing"

expect_rc 0 "$CONTOUR" certgen --pem --yaml --overwrite "$T/c1"
for f in cacert.pem contourcert.pem contourkey.pem envoycert.pem envoykey.pem contourcert.yaml; do
	expect_in "$T/out" "$T/c1/$f created"
	old=$(grep " ./$f\$" "$T/before" | cut -d' ' -f1)
	[ "$(sha256sum <"c1/$f" | cut -d' ' -f1)" != "$old" ] || fail "c1/$f not replaced"
done
openssl verify -CAfile c1/cacert.pem c1/contourcert.pem c1/envoycert.pem >/dev/null 2>&1 ||
	fail "the replaced files do not verify"
ok "--overwrite replaces every file"

# The namespace: $CONTOUR_NAMESPACE, and --namespace over it; the default
# folder "certs"; compact YAML; the webhook's certificate.
mkdir d && cd d
CONTOUR_NAMESPACE=team-a expect_rc 0 "$CONTOUR" certgen --pem --yaml --secrets-format=compact \
	--webhook-service=contour-webhook
cd "$T"
[ "$(san d/certs/contourcert.pem)" = "$(sans contour team-a)" ] ||
	fail "CONTOUR_NAMESPACE: $(san d/certs/contourcert.pem)"
[ "$(san d/certs/webhookcert.pem)" = "$(sans contour-webhook team-a)" ] ||
	fail "webhook SANs: $(san d/certs/webhookcert.pem)"
openssl verify -CAfile d/certs/cacert.pem d/certs/webhookcert.pem >/dev/null 2>&1 ||
	fail "webhookcert.pem does not verify"
[ "$(modulus d/certs/webhookcert.pem)" = "$(modulus d/certs/webhookkey.pem)" ] ||
	fail "webhookkey.pem is not the key of webhookcert.pem"
expect_in d/certs/contourcert.yaml "  namespace: team-a"
[ -f d/certs/webhookcert.yaml ] || fail "no webhookcert.yaml"
[ ! -f d/certs/cacert.yaml ] || fail "compact wrote cacert.yaml"
yaml_data d/certs/contourcert.yaml ca.crt | cmp -s - d/certs/cacert.pem ||
	fail "compact contourcert.yaml ca.crt is not cacert.pem"
yaml_data d/certs/webhookcert.yaml ca.crt | cmp -s - d/certs/cacert.pem ||
	fail "webhookcert.yaml ca.crt is not cacert.pem"
CONTOUR_NAMESPACE=team-a expect_rc 0 "$CONTOUR" certgen --pem --namespace=team-b "$T/c3"
[ "$(san c3/envoycert.pem)" = "$(sans envoy team-b)" ] || fail "--namespace: $(san c3/envoycert.pem)"
expect_rc 1 "$CONTOUR" certgen --yaml --namespace=Team_A "$T/c4"
expect_in "$T/err" 'invalid namespace name "Team_A"'
ok "CONTOUR_NAMESPACE and --namespace in the SANs; default folder certs; compact; webhook"

# ---- --kube ----
k8s_require
k8s_pki
CG_USER=system:serviceaccount:projectcontour:contour-certgen
# kubectl logs in as someone else: the request log then tells certgen's
# calls apart.
printf 'tok,%s\nktok,kubectl\n' "$CG_USER" >"$T/tokens"
echo tok >"$T/token"
hook() { # NAME: a ValidatingWebhookConfiguration with two webhooks, no caBundle
	cat <<EOF
{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration",
 "metadata":{"name":"$1"},
 "webhooks":[
  {"name":"httpproxy.$1.projectcontour.io","sideEffects":"None","admissionReviewVersions":["v1"],
   "failurePolicy":"Ignore",
   "clientConfig":{"service":{"name":"contour-webhook","namespace":"projectcontour","path":"/validate"}},
   "rules":[{"operations":["CREATE","UPDATE"],"apiGroups":["projectcontour.io"],"apiVersions":["v1"],"resources":["httpproxies"]}]},
  {"name":"ingress.$1.projectcontour.io","sideEffects":"None","admissionReviewVersions":["v1"],
   "failurePolicy":"Ignore",
   "clientConfig":{"service":{"name":"contour-webhook","namespace":"projectcontour","path":"/validate-ingress"}},
   "rules":[{"operations":["CREATE","UPDATE"],"apiGroups":["networking.k8s.io"],"apiVersions":["v1"],"resources":["ingresses"]}]}]}
EOF
}
{
	echo '['
	hook contour-webhook
	echo ','
	hook other-config
	echo ']'
} >"$T/seed.json"
k8s_apiserver_start --token-file "$T/tokens" --seed "$T/seed.json"
k8s_kubeconfig "$T/kubeconfig" "$T/token"
k8s_kubeconfig "$T/kubectl.kc" token=ktok
KC="--kubeconfig=$T/kubeconfig"
SEC=/api/v1/namespaces/projectcontour/secrets
VWC=/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations

# secret_pem NAME KEY FILE: data KEY of the Secret NAME, decoded, into FILE.
secret_pem() {
	api GET "$SEC/$1"
	api_ok 200
	json_eval "$T/resp" "Buffer.from(o.data['$2'], 'base64').toString()" >"$3"
}
rv() { # PATH: the object's resourceVersion
	api GET "$1"
	api_ok 200
	json_eval "$T/resp" 'o.metadata.resourceVersion'
}

expect_rc 0 "$CONTOUR" certgen --kube "$KC"
expect_in "$T/out" 'Writing "legacy" format Secrets to namespace "projectcontour"'
for s in contourcert envoycert cacert; do
	expect_in "$T/out" "secret/$s created"
done
no_keys "$T/out" "$T/err"
api GET "$SEC/contourcert"
api_ok 200
expect_json 'o.type' 'kubernetes.io/tls'
expect_json 'JSON.stringify(o.metadata.labels)' '{"app":"contour"}'
expect_json 'Object.keys(o.data).sort().join(",")' 'tls.crt,tls.key'
api GET "$SEC/cacert"
api_ok 200
expect_json 'o.type' 'Opaque'
expect_json 'Object.keys(o.data).join(",")' 'cacert.pem'
secret_pem cacert cacert.pem k-ca.pem
secret_pem contourcert tls.crt k-contour.pem
secret_pem envoycert tls.crt k-envoy.pem
secret_pem envoycert tls.key k-envoykey.pem
openssl verify -CAfile k-ca.pem k-contour.pem k-envoy.pem >/dev/null 2>&1 ||
	fail "the Secrets' certificates do not verify against cacert"
[ "$(modulus k-envoy.pem)" = "$(modulus k-envoykey.pem)" ] || fail "envoycert's key does not match"
[ "$(san k-contour.pem)" = "$(sans contour projectcontour)" ] || fail "Secret SANs"
if command -v kubectl >/dev/null 2>&1; then
	kubectl --kubeconfig "$T/kubectl.kc" -n projectcontour get secret contourcert envoycert \
		cacert >"$T/kubectl" 2>&1 || { cat "$T/kubectl"; fail "kubectl get secret"; }
	expect_in "$T/kubectl" envoycert
fi
ok "--kube: legacy Secrets created (types, labels, data keys, a verifying chain)"

rv1=$(rv "$SEC/contourcert")
rvca=$(rv "$SEC/cacert")
expect_rc 0 "$CONTOUR" certgen --kube "$KC"
for s in contourcert envoycert cacert; do
	expect_in "$T/out" "secret/$s already exists, not overwritten"
done
[ "$(rv "$SEC/contourcert")" = "$rv1" ] && [ "$(rv "$SEC/cacert")" = "$rvca" ] ||
	fail "a rerun without --overwrite changed a Secret"
secret_pem cacert cacert.pem k-ca2.pem
cmp -s k-ca.pem k-ca2.pem || fail "cacert changed"
ok "rerun: 'not overwritten', nothing changed"

expect_rc 0 "$CONTOUR" certgen --kube "$KC" --overwrite
for s in contourcert envoycert cacert; do
	expect_in "$T/out" "secret/$s updated"
done
[ "$(rv "$SEC/contourcert")" != "$rv1" ] || fail "--overwrite did not update contourcert"
secret_pem cacert cacert.pem k-ca3.pem
secret_pem contourcert tls.crt k-contour3.pem
if cmp -s k-ca.pem k-ca3.pem; then fail "--overwrite kept the old CA"; fi
openssl verify -CAfile k-ca3.pem k-contour3.pem >/dev/null 2>&1 || fail "updated chain"
ok "--overwrite: every Secret updated, the new chain verifies"

expect_rc 0 "$CONTOUR" certgen --kube "$KC" --secrets-format compact --secrets-name-suffix=-c
expect_in "$T/out" 'Writing "compact" format Secrets to namespace "projectcontour"'
expect_in "$T/out" "secret/contourcert-c created"
expect_in "$T/out" "secret/envoycert-c created"
api GET "$SEC/contourcert-c"
api_ok 200
expect_json 'o.type' 'kubernetes.io/tls'
expect_json 'Object.keys(o.data).sort().join(",")' 'ca.crt,tls.crt,tls.key'
api GET "$SEC/cacert-c"
api_ok 404
secret_pem envoycert-c ca.crt kc-ca.pem
secret_pem envoycert-c tls.crt kc-envoy.pem
openssl verify -CAfile kc-ca.pem kc-envoy.pem >/dev/null 2>&1 || fail "compact chain"
ok "compact Secrets with --secrets-name-suffix, ca.crt inline, no cacert"

# The webhook: its Secret, then the caBundle of every webhook.
bundle() { # NAME: the caBundles of the configuration, space-separated
	api GET "$VWC/$1"
	api_ok 200
	json_eval "$T/resp" 'o.webhooks.map((w) => w.clientConfig.caBundle).join(" ")'
}
expect_rc 0 "$CONTOUR" certgen --kube "$KC" --secrets-name-suffix=-w \
	--webhook-service=contour-webhook
expect_in "$T/out" "secret/webhookcert-w created"
expect_in "$T/out" "validatingwebhookconfiguration/contour-webhook caBundle updated (2 webhooks)"
no_keys "$T/out" "$T/err"
api GET "$SEC/webhookcert-w"
expect_json 'o.type' 'kubernetes.io/tls'
expect_json 'Object.keys(o.data).sort().join(",")' 'ca.crt,tls.crt,tls.key'
ca_b64=$(json_eval "$T/resp" "o.data['ca.crt']")
[ "$(bundle contour-webhook)" = "$ca_b64 $ca_b64" ] || fail "caBundle is not the webhook's CA"
secret_pem webhookcert-w tls.crt w-cert.pem
secret_pem webhookcert-w ca.crt w-ca.pem
openssl verify -CAfile w-ca.pem w-cert.pem >/dev/null 2>&1 || fail "webhook chain"
[ "$(san w-cert.pem)" = "$(sans contour-webhook projectcontour)" ] || fail "webhook SANs"
secret_pem cacert-w cacert.pem w-ca-legacy.pem
cmp -s w-ca.pem w-ca-legacy.pem || fail "the webhook's CA is not the run's CA"
ok "--webhook-service: webhookcert Secret, caBundle of both webhooks set to its CA"

# A rerun keeps the Secret: the bundle stays that of the Secret in use.
rvw=$(rv "$VWC/contour-webhook")
expect_rc 0 "$CONTOUR" certgen --kube "$KC" --secrets-name-suffix=-w \
	--webhook-service=contour-webhook
expect_in "$T/out" "secret/webhookcert-w already exists, not overwritten"
expect_in "$T/out" "validatingwebhookconfiguration/contour-webhook caBundle unchanged"
[ "$(rv "$VWC/contour-webhook")" = "$rvw" ] || fail "an unchanged bundle was written"
api_edit "$VWC/contour-webhook" 'o.webhooks[1].clientConfig.caBundle = "c3RhbGU="'
expect_rc 0 "$CONTOUR" certgen --kube "$KC" --secrets-name-suffix=-w \
	--webhook-service=contour-webhook
expect_in "$T/out" "caBundle updated (1 webhook)"
[ "$(bundle contour-webhook)" = "$ca_b64 $ca_b64" ] ||
	fail "the bundle is not the kept Secret's ca.crt"
expect_rc 0 "$CONTOUR" certgen --kube "$KC" --secrets-name-suffix=-w \
	--webhook-service=contour-webhook --overwrite
expect_in "$T/out" "secret/webhookcert-w updated"
api GET "$SEC/webhookcert-w"
ca2_b64=$(json_eval "$T/resp" "o.data['ca.crt']")
[ "$ca2_b64" != "$ca_b64" ] || fail "--overwrite kept the webhook's CA"
[ "$(bundle contour-webhook)" = "$ca2_b64 $ca2_b64" ] || fail "bundle after --overwrite"
ok "kept Secret: its ca.crt is the bundle (restored when edited); --overwrite: the new CA"

# --webhook-configuration names another configuration.
expect_rc 0 "$CONTOUR" certgen --kube "$KC" --secrets-name-suffix=-o \
	--webhook-service=contour-webhook --webhook-configuration other-config
api GET "$SEC/webhookcert-o"
cao=$(json_eval "$T/resp" "o.data['ca.crt']")
[ "$(bundle other-config)" = "$cao $cao" ] || fail "--webhook-configuration"
[ "$(bundle contour-webhook)" = "$ca2_b64 $ca2_b64" ] || fail "the other configuration changed"
ok "--webhook-configuration: that configuration is patched, no other"

# Started before the configuration exists: waits, then patches it.
"$CONTOUR" certgen --kube "$KC" --secrets-name-suffix=-late --webhook-service=late-hook \
	--webhook-wait=30s >"$T/late.out" 2>"$T/late.err" &
late=$!
PIDS="$PIDS $late"
k8s_wait_log "$T/late.out" "validatingwebhookconfiguration/late-hook not found yet, waiting up to 30s" 20 "$late"
sleep 1
api POST "$VWC" "$(hook late-hook)"
api_ok 201
wait_exit "$late" 15
[ "$rc" = 0 ] || { cat "$T/late.out" "$T/late.err"; fail "the waiting certgen exited $rc"; }
expect_in "$T/late.out" "validatingwebhookconfiguration/late-hook caBundle updated (2 webhooks)"
api GET "$SEC/webhookcert-late"
cal=$(json_eval "$T/resp" "o.data['ca.crt']")
[ "$(bundle late-hook)" = "$cal $cal" ] || fail "the late configuration's bundle"
ok "a configuration created while certgen waits is patched"

t0=$(now_ms)
expect_rc 0 "$CONTOUR" certgen --kube "$KC" --secrets-name-suffix=-never \
	--webhook-service=never-hook --webhook-wait=3s
dt=$(($(now_ms) - t0))
expect_in "$T/out" "validatingwebhookconfiguration/never-hook not found yet, waiting up to 3s"
expect_in "$T/err" "warning: validatingwebhookconfiguration/never-hook not found within 3s (--webhook-wait): its caBundle is not set"
[ "$dt" -ge 2900 ] && [ "$dt" -lt 10000 ] || fail "gave up after $dt ms, want about 3 s"
api GET /_test/requests
n=$(json_eval "$T/resp" 'o.requests.filter((e) => e.path.endsWith("/validatingwebhookconfigurations/never-hook")).length')
[ "$n" -ge 2 ] && [ "$n" -le 3 ] || fail "$n GETs of never-hook in 3 s, want one every 2 s"
api GET "$SEC/webhookcert-never"
[ "$(cat "$T/code")" = 200 ] || fail "the webhook's Secret is not written when its configuration never comes"
ok "a configuration that never comes: a warning and exit 0 after --webhook-wait, Secrets written (${dt} ms, $n tries)"

# Errors: an invalid namespace, no kubeconfig.
expect_rc 1 "$CONTOUR" certgen --kube "$KC" --namespace=Not_Valid
expect_in "$T/err" 'invalid namespace name "Not_Valid"'
expect_rc 1 "$CONTOUR" certgen --kube --kubeconfig="$T/nothere"
expect_in "$T/err" "failed to create Kubernetes client"
echo "other" >"$T/token"
expect_rc 1 "$CONTOUR" certgen --kube "$KC" --secrets-name-suffix=-denied
expect_in "$T/err" "failed to write certificates to \"projectcontour\": Unauthorized"
echo tok >"$T/token"
ok "an invalid namespace, a missing kubeconfig, a rejected token: exit 1"

# Only what the manifests grant: secrets create/get/update in the
# namespace, validatingwebhookconfigurations get/update.
api GET /_test/requests
json_eval "$T/resp" "o.requests.filter((e) => e.user === '$CG_USER').map((e) => e.method + ' ' + e.path).join('\n')" >"$T/calls"
[ -s "$T/calls" ] || fail "no request by certgen logged"
if grep -v -E "^(POST $SEC|(GET|PUT) $SEC/[a-z0-9-]+|(GET|PUT) $VWC/[a-z0-9-]+)\$" "$T/calls" >"$T/bad"; then
	cat "$T/bad" >&2
	fail "certgen made calls the RBAC does not grant"
fi
ok "only secrets create/get/update and validatingwebhookconfigurations get/update"
