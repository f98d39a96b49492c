#!/bin/sh
# kubectl against the test API server (tests/k8sapi) with a validating
# webhook (tests/k8sapi/webhook.js): apply (create, unchanged, configured
# through a JSON merge patch), create, get, delete, --dry-run=server, and
# the webhook's denials and warnings printed exactly as against a cluster.
# Then contour's own webhook (`contour serve` with k8s-watch read-only,
# tls-delegation, httpproxy and admission) denies an fqdn collision.
. "${top_srcdir:?}/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/k8s_lib.sh"
k8s_require
if ! command -v kubectl >/dev/null 2>&1; then
	[ -z "${CONTOUR_STRICT_TESTS:-}" ] || fail "kubectl not found (Debian: kubernetes-client)"
	echo "SKIP: kubectl not found (Debian: kubernetes-client)"
	exit 77
fi
# kubectl keeps its discovery cache under $HOME/.kube: keep it in $T.
HOME=$T
export HOME
kubectl version --client >"$T/out" 2>&1 || { cat "$T/out"; fail "kubectl version --client"; }
ok "kubectl: $(head -1 "$T/out")"

k8s_pki kubectl-user
k8s_apiserver_start --token tok-k,token-user --token tok-c,contour
k8s_kubeconfig "$T/kubeconfig" client-cert
k8s_kubeconfig "$T/kubeconfig-token" token=tok-k
KUBECONFIG=$T/kubeconfig
export KUBECONFIG

# ---- the webhook ----

k8s_cert hook hook "subjectAltName=DNS:localhost,IP:127.0.0.1"
node "$top_srcdir/tests/k8sapi/webhook.js" --cert "$T/hook.crt" --key "$T/hook.key" \
	>"$T/hook.out" 2>"$T/hook.err" &
HOOK_PID=$!
PIDS="$PIDS $HOOK_PID"
k8s_wait_log "$T/hook.out" "listening on https://" 10 "$HOOK_PID"
HOOK=$(sed -n 's/^listening on \(https:[^ ]*\).*/\1/p' "$T/hook.out")
WH=validate.test.projectcontour.io
cat >"$T/vwc.yaml" <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: contour-test
webhooks:
- name: $WH
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  clientConfig:
    url: $HOOK/validate
    caBundle: $(base64 -w0 "$T/ca.crt")
  rules:
  - operations: [CREATE, UPDATE]
    apiGroups: [projectcontour.io]
    apiVersions: [v1]
    resources: [httpproxies]
EOF
expect_rc 0 kubectl apply -f "$T/vwc.yaml"
expect_in "$T/out" "validatingwebhookconfiguration.admissionregistration.k8s.io/contour-test created"
ok "kubectl apply of a ValidatingWebhookConfiguration"

# proxy NAME FQDN SERVICE: an HTTPProxy manifest in $T/NAME.yaml
proxy() {
	cat >"$T/$1.yaml" <<EOF
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata:
  name: $1
  namespace: default
spec:
  virtualhost:
    fqdn: $2
  routes:
  - services:
    - name: $3
      port: 80
EOF
}
HP=/apis/projectcontour.io/v1/namespaces/default/httpproxies

# ---- apply: create, unchanged, configured ----

proxy web web.example.com s1
expect_rc 0 kubectl apply -f "$T/web.yaml"
[ "$(cat "$T/out")" = "httpproxy.projectcontour.io/web created" ] || fail "apply: $(cat "$T/out")"
[ ! -s "$T/err" ] || fail "apply printed on stderr: $(cat "$T/err")"
api GET "$HP/web"
api_ok 200
expect_json 'JSON.parse(o.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]).spec.virtualhost.fqdn' web.example.com
grep -q '"operation":"CREATE"' "$T/hook.err" || fail "the webhook saw no CREATE"
ok "kubectl apply: created, with the last-applied annotation; the webhook was asked"

expect_rc 0 kubectl apply -f "$T/web.yaml"
expect_in "$T/out" "httpproxy.projectcontour.io/web unchanged"
api DELETE /_test/requests
proxy web web.example.com s2
expect_rc 0 kubectl apply -f "$T/web.yaml"
expect_in "$T/out" "httpproxy.projectcontour.io/web configured"
api GET "$HP/web"
expect_json 'o.spec.routes[0].services[0].name + " " + o.metadata.generation' "s2 2"
api GET /_test/requests
expect_json 'o.requests.filter((e) => e.method === "PATCH" && e.path.endsWith("/httpproxies/web")).length' 1
ok "kubectl apply: unchanged, then configured through PATCH (generation 2)"

# ---- denied, warned ----

proxy bad denied.example.com s1
expect_rc 1 kubectl apply -f "$T/bad.yaml"
deny="Error from server: error when creating \"$T/bad.yaml\": admission webhook \"$WH\" denied the request: spec.virtualhost.fqdn denied.example.com is not allowed"
[ "$(cat "$T/err")" = "$deny" ] || fail "denied apply: stderr '$(cat "$T/err")', want '$deny'"
api GET "$HP/bad"
api_ok 404
ok "kubectl apply denied by the webhook: $deny"

proxy warn warn.example.com s1
expect_rc 0 kubectl apply -f "$T/warn.yaml"
[ "$(cat "$T/err")" = "Warning: spec.virtualhost.fqdn warn.example.com is deprecated" ] ||
	fail "warning: stderr '$(cat "$T/err")'"
expect_in "$T/out" "httpproxy.projectcontour.io/warn created"
ok "kubectl apply prints the webhook's warning: $(cat "$T/err")"

# an update into a denied name: the patch is refused, the object unchanged
proxy web denied.example.com s2
expect_rc 1 kubectl apply -f "$T/web.yaml"
# (kubectl 1.20 leaves out 'error when patching "FILE": ' before the message)
expect_in "$T/err" "Error from server: error when applying patch:"
expect_in "$T/err" "for: \"$T/web.yaml\": "
expect_in "$T/err" "admission webhook \"$WH\" denied the request: spec.virtualhost.fqdn denied.example.com is not allowed"
api GET "$HP/web"
expect_json 'o.spec.virtualhost.fqdn' web.example.com
ok "kubectl apply of a denied update: refused, object unchanged"

# ---- dry run ----

proxy dry dry.example.com s1
expect_rc 0 kubectl apply -f "$T/dry.yaml" --dry-run=server
expect_in "$T/out" "httpproxy.projectcontour.io/dry created (server dry run)"
api GET "$HP/dry"
api_ok 404
grep '"name":"dry"' "$T/hook.err" | grep -q '"dryRun":true' ||
	fail "the webhook did not see dryRun: true"
proxy bad denied.example.com s1
expect_rc 1 kubectl apply -f "$T/bad.yaml" --dry-run=server
expect_in "$T/err" "admission webhook \"$WH\" denied the request"
ok "kubectl apply --dry-run=server: webhook asked with dryRun true, nothing stored, denial still printed"

# ---- create, get, delete ----

proxy other other.example.com s1
expect_rc 0 kubectl create -f "$T/other.yaml"
expect_in "$T/out" "httpproxy.projectcontour.io/other created"
expect_rc 1 kubectl create -f "$T/other.yaml"
expect_in "$T/err" "Error from server (AlreadyExists): error when creating \"$T/other.yaml\": httpproxies.projectcontour.io \"other\" already exists"
expect_rc 0 kubectl get httpproxy other -o 'jsonpath={.spec.virtualhost.fqdn}'
[ "$(cat "$T/out")" = other.example.com ] || fail "kubectl get: $(cat "$T/out")"
expect_rc 0 kubectl --kubeconfig "$T/kubeconfig-token" get httpproxies -o name
[ "$(sort "$T/out" | tr '\n' ' ')" = "httpproxy.projectcontour.io/other httpproxy.projectcontour.io/warn httpproxy.projectcontour.io/web " ] ||
	fail "kubectl get -o name: $(cat "$T/out")"
expect_rc 0 kubectl delete -f "$T/other.yaml"
expect_in "$T/out" "httpproxy.projectcontour.io \"other\" deleted"
api GET "$HP/other"
api_ok 404
expect_rc 1 kubectl get httpproxy other
expect_in "$T/err" "Error from server (NotFound): httpproxies.projectcontour.io \"other\" not found"
api GET /_test/requests
expect_json 'o.requests.some((e) => e.user === "token-user") && o.requests.some((e) => e.user === "kubectl-user")' true
ok "kubectl create (and AlreadyExists), get, delete (and NotFound); client certificate and token"


expect_rc 0 kubectl delete -f "$T/vwc.yaml"
proxy bad denied.example.com s1
expect_rc 0 kubectl apply -f "$T/bad.yaml"
ok "kubectl delete of the webhook configuration: no more denials"

# ---- contour's own webhook: k8s-watch (read-only) + httpproxy + admission ----

# Only when this build has the modules (configure --disable-module-NAME).
have_module() {
	IFS_save=$IFS
	IFS=:
	for d in ${CONTOUR_MODULE_PATH:-}; do
		[ -f "$d/$1.so" ] && { IFS=$IFS_save; return 0; }
	done
	IFS=$IFS_save
	return 1
}
for m in k8s-watch tls-delegation httpproxy admission; do
	have_module "$m" && continue
	echo "note: no $m module in this build: contour's webhook not tried"
	exit 0
done
k8s_kubeconfig "$T/kubeconfig-contour" token=tok-c
k8s_cert adm contour-admission \
	"subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:contour-admission.projectcontour.svc"
cat >"$T/contour.yaml" <<YAML
build-holdoff: 10ms
modules:
  - name: k8s-watch
    config: {kubeconfig: $T/kubeconfig-contour, read-only: true}
  - name: tls-delegation
  - name: httpproxy
  - name: admission
    config: {address: 127.0.0.1, port: 0, cert-file: $T/adm.crt, key-file: $T/adm.key}
YAML
contour_start "$T/contour.yaml"
k8s_wait_log "$CLOG" "initial list complete" 15 "$CPID"
APORT=$(sed -n 's/.*listening on https:\/\/127\.0\.0\.1:\([0-9][0-9]*\) (\/validate).*/\1/p' "$CLOG" | head -1)
[ -n "$APORT" ] || { cat "$CLOG" >&2; fail "no admission port in contour's log"; }
CWH=httpproxy.validation.projectcontour.io
cat >"$T/cvwc.yaml" <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: contour
webhooks:
- name: $CWH
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  timeoutSeconds: 5
  clientConfig:
    url: https://127.0.0.1:$APORT/validate
    caBundle: $(base64 -w0 "$T/ca.crt")
  rules:
  - operations: [CREATE, UPDATE]
    apiGroups: [projectcontour.io]
    apiVersions: [v1]
    resources: [httpproxies]
EOF
expect_rc 0 kubectl apply -f "$T/cvwc.yaml"
# web.example.com belongs to default/web (applied above, in contour's store)
proxy thief WEB.Example.com s1
expect_rc 1 kubectl apply -f "$T/thief.yaml"
cdeny="Error from server (Forbidden): error when creating \"$T/thief.yaml\": admission webhook \"$CWH\" denied the request: spec.virtualhost.fqdn: fqdn \"web.example.com\" is used in multiple HTTPProxies: default/thief, default/web"
[ "$(tail -1 "$T/err")" = "$cdeny" ] || fail "contour's denial: stderr '$(cat "$T/err")', want '$cdeny'"
expect_in "$T/err" 'Warning: Spec.Routes unresolved service reference: service "default/s1" not found'
api GET "$HP/thief"
api_ok 404
ok "contour denies an fqdn collision: $cdeny"
expect_rc 1 kubectl apply -f "$T/thief.yaml" --dry-run=server
[ "$(tail -1 "$T/err")" = "$cdeny" ] || fail "contour's dry-run denial: $(cat "$T/err")"
proxy free free.example.com s1
expect_rc 0 kubectl apply -f "$T/free.yaml"
expect_in "$T/out" "httpproxy.projectcontour.io/free created"
[ "$(cat "$T/err")" = 'Warning: Spec.Routes unresolved service reference: service "default/s1" not found' ] ||
	fail "contour's warning: '$(cat "$T/err")'"
proxy web web.example.com s3
expect_rc 0 kubectl apply -f "$T/web.yaml"
expect_in "$T/out" "httpproxy.projectcontour.io/web configured"
ok "contour: dry run denied alike; a free name created with its warning; the owner's update allowed"
api GET /_test/requests
expect_json 'o.requests.filter((e) => e.user === "contour" && e.method !== "GET").map((e) => e.method + " " + e.path).join(",")' ''
contour_stop
ok "contour (k8s-watch read-only) wrote nothing to the API server"
