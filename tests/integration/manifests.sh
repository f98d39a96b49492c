#!/bin/sh
# contrib/kubernetes/: every object of every YAML file (variants included)
# against the Kubernetes OpenAPI schemas, unknown fields refused; the contour
# configs in ConfigMaps through `contour check-config`; every container's
# command line through the binary (bootstrap for real, serve as check-config
# with the same flags, certgen with --yaml when the build has it); every
# contour image tagged with AC_INIT's version. tests/manifests/check.js does
# the checking (Node, kubernetes-models); then a broken copy of one manifest
# per check must fail it. Last, the RBAC: the split and webhook roles run
# against the test API server as the folders' service accounts, and
# tests/manifests/rbac.js checks that the roles allow every request made
# and grant nothing unused.
. "${top_srcdir:?}/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/k8s_lib.sh"

skip() {
	echo "SKIP: $*"
	if [ -n "${CONTOUR_STRICT_TESTS:-}" ]; then exit 1; fi
	exit 77
}
for tool in node npm perl openssl curl; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
[ -x "$CONTOUR" ] || fail "$CONTOUR not built"
version=$(sed -n 's/^AC_INIT(\[contour\], *\[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
[ -n "$version" ] || fail "no version in AC_INIT of configure.ac"
work="$T/manifests"
mkdir -p "$work" || fail "mkdir $work"

# Every file shipped: contrib/Makefile.am lists each one in EXTRA_DIST.
(cd "$top_srcdir" && find contrib/kubernetes -type f | sort) >"$work/files"
while read -r f; do
	grep -qF -- "	$f" "$top_srcdir/contrib/Makefile.am" ||
		fail "$f is not in contrib/Makefile.am's EXTRA_DIST"
done <"$work/files"
echo "ok: every file of contrib/kubernetes/ is in EXTRA_DIST"

# The checker's dependencies, from the lockfile, installed once into the
# build tree (the source tree may be read-only, as in distcheck) and again
# only when the lockfile changes.
checker="$top_builddir/tests/manifests/checker"
mkdir -p "$checker"
cp "$top_srcdir/tests/manifests/check.js" "$top_srcdir/tests/manifests/rbac.js" "$checker/" ||
	fail "cannot copy the checker into $checker"
if ! cmp -s "$top_srcdir/tests/manifests/package-lock.json" "$checker/package-lock.json" ||
	[ ! -d "$checker/node_modules/kubernetes-models" ] || [ ! -d "$checker/node_modules/yaml" ]; then
	cp "$top_srcdir/tests/manifests/package.json" "$top_srcdir/tests/manifests/package-lock.json" "$checker/"
	if ! (cd "$checker" && npm ci --no-audit --no-fund --silent >"$work/npm.log" 2>&1); then
		cat "$work/npm.log"
		rm -f "$checker/package-lock.json"
		skip "npm ci failed (no registry access?)"
	fi
fi

# check DIR: run the checker on DIR; its output in $work/out.
n=0
check() {
	n=$((n + 1))
	MANIFESTS="$1" CONF="$top_srcdir/conf" CONTOUR="$CONTOUR" CONTOUR_VERSION="$version" \
		WORK="$work/run-$n" node "$checker/check.js" >"$work/out" 2>&1
}

if ! check "$top_srcdir/contrib/kubernetes"; then
	cat "$work/out"
	fail "contrib/kubernetes/ does not pass"
fi
cat "$work/out"
echo "ok: contrib/kubernetes/ (contour $version)"

has_certgen=0
"$CONTOUR" certgen --help >/dev/null 2>&1 && has_certgen=1

# broken NAME FILE PERL-SUBSTITUTION TEXT: a copy of contrib/kubernetes/ with
# FILE changed by the substitution (which must change it) fails the
# checker with TEXT in its output.
broken() {
	name=$1 file=$2 subst=$3 text=$4
	copy="$work/broken-$name"
	cp -R "$top_srcdir/contrib/kubernetes" "$copy" && chmod -R u+w "$copy" &&
		perl -0pi -e "$subst" "$copy/$file" || fail "broken $name: cannot make the copy"
	if cmp -s "$top_srcdir/contrib/kubernetes/$file" "$copy/$file"; then
		fail "broken $name: '$subst' did not change $file"
	fi
	if check "$copy"; then
		cat "$work/out"
		fail "broken $name: the checker passed"
	fi
	if ! grep -qF -- "$text" "$work/out"; then
		cat "$work/out"
		fail "broken $name: '$text' not in the checker's output"
	fi
	echo "ok: broken $name is refused: $text"
	rm -rf "$copy"
}

# The schema is strict: a misspelt field anywhere in a Deployment fails,
# and so does a wrong type or a kind Kubernetes does not have.
broken misspelt-field split/03-contour.yaml 's/imagePullPolicy: IfNotPresent/imagePullPolcy: IfNotPresent/' \
	'unknown field /spec/template/spec/containers/0/imagePullPolcy'
broken misspelt-spec-field webhook/02-webhook.yaml 's/  replicas: 2/  replica: 2/' \
	'unknown field /spec/replica'
broken wrong-type sidecar/03-contour.yaml 's/terminationGracePeriodSeconds: 300/terminationGracePeriodSeconds: "300"/' \
	'schema:'
broken unknown-kind split/04-envoy-service.yaml 's/kind: Service/kind: Servic/' \
	'no Kubernetes schema for apiVersion v1 kind Servic'
# A contour config in a ConfigMap: check-config, and the copy of conf/.
broken bad-config split/01-config.yaml 's/    incluster: true\n/    incluster: true\n    colour: blue\n/' \
	'data.split.yaml: contour check-config exited 1'
broken drifted-config webhook/00-common.yaml 's/port: 8443/port: 9443/' \
	'data.webhook.yaml: differs from conf/webhook.yaml'
# Command lines: bootstrap runs, serve's flags go through check-config,
# Envoy's -c file must be written by the init container.
broken bootstrap-flag split/03-envoy.yaml 's/--xds-port=8001/--xds-prot=8001/' \
	'contour bootstrap exited 1'
broken serve-flag sidecar/03-contour.yaml 's/--http-port=8091/--http-prot=8091/' \
	"unknown flag '--http-prot'"
broken serve-value split/variants/envoy-hostnetwork.yaml 's/--serve-address=127.0.0.1/--serve-address=localhost/' \
	"--serve-address=localhost exited 1: "
broken envoy-config split/03-envoy.yaml 's/- bootstrap\n        - \/config\/envoy.json/- bootstrap\n        - \/config\/bootstrap.json/' \
	"Envoy's -c /config/envoy.json is not a bootstrap an init container wrote"
broken off-volume webhook/02-webhook.yaml 's/--config, \/config\/webhook.yaml/--config, \/etc\/webhook.yaml/' \
	'/etc/webhook.yaml is on no volume of the container'
broken configmap-key split/03-contour.yaml 's/- key: split.yaml/- key: splt.yaml/' \
	'ConfigMap contour has no key splt.yaml'
# The Envoy pod: the bootstrap's files where Envoy sees them, the shutdown
# handshake, the grace period.
broken envoy-mount split/03-envoy.yaml 's/        - name: envoycert\n          mountPath: \/certs\n          readOnly: true\n        - name: envoy-admin/        - name: envoy-admin/' \
	'the bootstrap names /certs/tls.crt, but the container does not mount volume envoycert'
broken prestop-host split/variants/envoy-hostnetwork.yaml 's/              host: 127.0.0.1\n//' \
	'preStop needs host: 127.0.0.1'
broken grace-period split/03-envoy.yaml 's/terminationGracePeriodSeconds: 300/terminationGracePeriodSeconds: 60/' \
	"terminationGracePeriodSeconds must exceed the shutdown-manager's drain-timeout"
# Sockets: probes reach a port the container listens on beyond loopback,
# and no two sockets of a pod want one port.
broken loopback-probe sidecar/03-contour.yaml 's/(readinessProbe:\n          httpGet:\n            path: \/healthz\n            port:) 8000/$1 8001/' \
	'readinessProbe on port 8001: the container listens there on loopback only'
broken probe-port split/03-contour.yaml 's/tcpSocket:\n            port: 8001/tcpSocket:\n            port: 8002/' \
	'readinessProbe on port 8002: the container does not listen there'
broken port-twice sidecar/03-contour.yaml 's/, --http-port=8091\]/]/' \
	'port 8000: contour (metrics on 0.0.0.0) and shutdown-manager (metrics on 127.0.0.1) in one pod'
# Images: every contour container is contour:VERSION.
broken image-tag split/03-envoy.yaml 's/image: contour:\Q'"$version"'\E\n        imagePullPolicy: IfNotPresent\n        command: \[\/usr\/bin\/contour\]\n        args: \[serve/image: contour:latest\n        imagePullPolicy: IfNotPresent\n        command: [\/usr\/bin\/contour]\n        args: [serve/' \
	"contour images must be contour:$version (AC_INIT's version), not tag latest"
job="contour-certgen-v$(echo "$version" | tr . -)"
broken job-name split/02-job-certgen.yaml "s/name: $job\$/name: contour-certgen-v0-0-0/m" \
	"the certgen Job must be named $job (AC_INIT's version)"
if [ "$has_certgen" = 1 ]; then
	broken certgen-flag split/02-job-certgen.yaml 's/- --secrets-format=compact/- --secrets-format=bogus/' \
		'contour certgen --yaml'
else
	echo "note: contour certgen --help fails in this build: the certgen Job's command line is not checked${CONTOUR_STRICT_TESTS:+ (and the run above failed: CONTOUR_STRICT_TESTS=1)}"
fi
echo "ok: every broken copy is refused"

# The certgen check itself, with a stand-in for `contour certgen` (the rest
# goes to the real binary): the Job's command line arrives with --kube and
# --incluster swapped for --yaml into a temp folder (the positional output directory), $(CONTOUR_NAMESPACE)
# expanded.
cat >"$work/fake-contour" <<EOF
#!/bin/sh
if [ "\$1" = certgen ]; then
	shift
	[ "\$1" = --help ] && exit 0
	echo "\$*" >>"$work/certgen.args"
	for a; do last=\$a; done
	echo stub >"\$last/contourcert.yaml"
	exit 0
fi
exec "$CONTOUR" "\$@"
EOF
chmod +x "$work/fake-contour" || fail "cannot write the stand-in"
MANIFESTS="$top_srcdir/contrib/kubernetes" CONF="$top_srcdir/conf" CONTOUR="$work/fake-contour" \
	CONTOUR_VERSION="$version" WORK="$work/run-fake" node "$checker/check.js" >"$work/out" 2>&1 ||
	{ cat "$work/out"; fail "the checker with a stand-in certgen"; }
grep -q '^SKIP' "$work/out" && { cat "$work/out"; fail "certgen skipped with a stand-in certgen"; }
sed 's#[^ ]*$#DIR#' "$work/certgen.args" >"$work/certgen.got"
echo "--yaml --overwrite --secrets-format=compact --namespace=projectcontour" \
	"--webhook-service=contour-webhook --webhook-wait=2m DIR" >"$work/certgen.want"
cmp -s "$work/certgen.got" "$work/certgen.want" ||
	{ cat "$work/certgen.got"; fail "certgen ran with other arguments"; }
ok "the certgen Job's command line reaches certgen as --yaml into a temp folder"

# ---- RBAC: what the roles really ask the API server ----
# conf/split.yaml and conf/webhook.yaml, as their ConfigMaps hold them,
# against the test API server (tests/k8sapi) as the folders' service
# accounts, with a kubeconfig for `incluster`, the test PKI for /certs and
# free loopback ports; the request log then goes through rbac.js with
# each folder's roles: every request allowed, every verb granted used.
k8s_pki
cat >"$work/tokens" <<'EOF'
tok-contour,system:serviceaccount:projectcontour:contour
tok-webhook,system:serviceaccount:projectcontour:contour-webhook
tok-certgen,system:serviceaccount:projectcontour:contour-certgen
EOF
cat >"$work/seed.ndjson" <<'EOF'
{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"projectcontour"}}
{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"ports":[{"port":80,"protocol":"TCP"}]}}
{"apiVersion":"v1","kind":"Service","metadata":{"name":"envoy","namespace":"projectcontour"},"spec":{"type":"LoadBalancer","ports":[{"port":80,"protocol":"TCP"}]},"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.7"}]}}}
{"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"web","namespace":"default"},"spec":{"virtualhost":{"fqdn":"web.example.com"},"routes":[{"services":[{"name":"web","port":80}]}]}}
{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"name":"ing","namespace":"default"},"spec":{"defaultBackend":{"service":{"name":"web","port":{"number":80}}}}}
EOF
k8s_apiserver_start --token-file "$work/tokens" --seed "$work/seed.ndjson"
# One conflict on each status write, so the re-read (get) happens.
api POST /_test/faults '{"path":"httpproxies/web/status$","verb":"put","action":"conflict"}'
api POST /_test/faults '{"path":"ingresses/ing/status$","verb":"put","action":"conflict"}'

# role_config CONF OUT KUBECONFIG: CONF made runnable here.
role_config() {
	sed -e "s#^incluster: true#kubeconfig: $3#" -e "s#/certs/ca.crt#$T/ca.crt#" \
		-e "s#/certs/tls.crt#$T/server.crt#" -e "s#/certs/tls.key#$T/server.key#" \
		-e 's/address: 0\.0\.0\.0/address: 127.0.0.1/' -e 's/port: [0-9][0-9]*/port: 0/' \
		"$1" >"$2" || fail "cannot write $2"
	grep -q '^kubeconfig:' "$2" || fail "$1 has no 'incluster: true' to replace"
}
export CONTOUR_NAMESPACE=projectcontour

k8s_kubeconfig "$work/kc-contour" token=tok-contour
role_config "$top_srcdir/conf/split.yaml" "$work/split.yaml" "$work/kc-contour"
contour_start "$work/split.yaml"
wait_for "$CLOG" "became leader" 20
wait_api /apis/projectcontour.io/v1/namespaces/default/httpproxies/web 'o.status && o.status.currentStatus' valid
wait_api /apis/networking.k8s.io/v1/namespaces/default/ingresses/ing \
	'o.status && o.status.loadBalancer && JSON.stringify(o.status.loadBalancer.ingress)' '[{"ip":"192.0.2.7"}]'
api GET /_test/faults
expect_json '(o.faults || o).map((f) => f.hits).join(",")' '1,1'
# A renewal (the retry period is 2 s), then the release at the clean stop.
sleep 3
contour_stop
api GET /_test/requests
cp "$T/resp" "$work/requests-contour.json"
for folder in split sidecar; do
	node "$checker/rbac.js" "$work/requests-contour.json" "$top_srcdir/contrib/kubernetes/$folder" \
		projectcontour:contour || fail "$folder/: RBAC"
done

k8s_kubeconfig "$work/kc-webhook" token=tok-webhook
role_config "$top_srcdir/conf/webhook.yaml" "$work/webhook.yaml" "$work/kc-webhook"
api DELETE /_test/requests
contour_start "$work/webhook.yaml"
wait_for "$CLOG" "initial list complete" 20
sleep 1
contour_stop
api GET /_test/requests
cp "$T/resp" "$work/requests-webhook.json"
node "$checker/rbac.js" "$work/requests-webhook.json" "$top_srcdir/contrib/kubernetes/webhook" \
	projectcontour:contour-webhook || fail "webhook/: RBAC"

# The certgen Job's own command line, as contour-certgen, with a
# kubeconfig in place of --incluster: the Job's run (the Secrets created,
# the webhook's caBundle read and written), a rerun (its --overwrite
# updates them) and a run without --overwrite (the webhook's Secret kept,
# so its ca.crt is read back): every verb of its roles, and nothing else.
k8s_kubeconfig "$work/kc-certgen" token=tok-certgen
api POST /apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations '{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"contour-webhook"},"webhooks":[{"name":"validate.projectcontour.io","clientConfig":{"service":{"namespace":"projectcontour","name":"contour-webhook","path":"/validate"}},"rules":[{"apiGroups":["projectcontour.io"],"apiVersions":["v1"],"operations":["CREATE"],"resources":["httpproxies"]}],"sideEffects":"None","admissionReviewVersions":["v1"]}]}'
[ "$(cat "$T/code")" = 201 ] || { cat "$T/resp"; fail "cannot seed the ValidatingWebhookConfiguration"; }
job_args=$(awk '/^        - certgen$/ { on = 1; print "certgen"; next }
	on && /^        - --/ { sub(/^        - /, ""); print; next } { on = 0 }' \
	"$top_srcdir/contrib/kubernetes/split/02-job-certgen.yaml" | sed 's/\$(CONTOUR_NAMESPACE)/projectcontour/')
set -f
# shellcheck disable=SC2086
set -- $job_args
set +f
for a; do
	shift
	case $a in --incluster) set -- "$@" "--kubeconfig=$work/kc-certgen" ;; *) set -- "$@" "$a" ;; esac
done
[ "$1" = certgen ] && [ $# -ge 4 ] || fail "cannot read the certgen Job's arguments: $job_args"
api DELETE /_test/requests
"$CONTOUR" "$@" >"$work/certgen1.out" 2>&1 || { cat "$work/certgen1.out"; fail "the certgen Job's command as contour-certgen"; }
"$CONTOUR" "$@" >"$work/certgen2.out" 2>&1 || { cat "$work/certgen2.out"; fail "the certgen Job's command, again"; }
expect_in "$work/certgen2.out" "secret/webhookcert updated"
kept=$(for a; do [ "$a" = --overwrite ] || printf '%s\n' "$a"; done)
set -f
# shellcheck disable=SC2086
set -- $kept
set +f
"$CONTOUR" "$@" >"$work/certgen3.out" 2>&1 || { cat "$work/certgen3.out"; fail "certgen without --overwrite"; }
expect_in "$work/certgen3.out" "not overwritten"
api GET /apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/contour-webhook
expect_json 'o.webhooks[0].clientConfig.caBundle.length > 100' true
api GET /_test/requests
cp "$T/resp" "$work/requests-certgen.json"
node "$checker/rbac.js" "$work/requests-certgen.json" "$top_srcdir/contrib/kubernetes/split" \
	projectcontour:contour-certgen || fail "split/: the certgen Job's RBAC"

# And the check bites: a verb missing, a verb too many.
for c in missing extra; do
	mkdir -p "$work/rbac-$c" && cp "$top_srcdir/contrib/kubernetes/split/"*.yaml "$work/rbac-$c/" &&
		chmod u+w "$work/rbac-$c/"*.yaml || fail "cannot copy split/"
done
perl -0pi -e 's/resources: \[ingresses\/status\]\n  verbs: \[update\]/resources: [ingresses\/status]\n  verbs: [get]/' \
	"$work/rbac-missing/02-rbac.yaml"
perl -0pi -e 's/resources: \[secrets, services\]\n  verbs: \[list, watch\]/resources: [secrets, services]\n  verbs: [get, list, watch]/' \
	"$work/rbac-extra/02-rbac.yaml"
node "$checker/rbac.js" "$work/requests-contour.json" "$work/rbac-missing" projectcontour:contour \
	>"$work/out" 2>&1 && { cat "$work/out"; fail "a missing verb passed the RBAC check"; }
expect_in "$work/out" "not allowed: update networking.k8s.io/ingresses/status in default"
node "$checker/rbac.js" "$work/requests-contour.json" "$work/rbac-extra" projectcontour:contour \
	>"$work/out" 2>&1 && { cat "$work/out"; fail "an extra verb passed the RBAC check"; }
expect_in "$work/out" "granted but never used: get core/secrets"
ok "RBAC: a missing verb and an unused one are refused"
