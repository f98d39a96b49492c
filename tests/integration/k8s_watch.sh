#!/bin/sh
# k8s-watch in `contour serve` against the test API server (tests/k8sapi)
# over HTTPS with a token file: the initial list, objects created, changed
# and deleted, 410 as an ERROR event and as an HTTP status after history
# compaction, 500 and plain-text 429 storms with Retry-After, and token
# rotation. What was built is read from the httpproxy module's gauges on
# /metrics (contour_httpproxy_valid{vhost=...}).
. "${top_srcdir:?}/tests/integration/lib.sh"

strict=${CONTOUR_STRICT_TESTS:-0}
for tool in node openssl curl; do
	if ! command -v $tool >/dev/null 2>&1; then
		[ "$strict" = 1 ] && fail "$tool not found (CONTOUR_STRICT_TESTS=1)"
		echo "SKIP: $tool not found"
		exit 77
	fi
done

cd "$T"
o() { openssl "$@" >/dev/null 2>&1 || fail "openssl $1"; }
o req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
	-subj /CN=ca -days 2 -out ca.crt
o req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key \
	-subj /CN=apiserver -out server.csr
echo "subjectAltName=DNS:localhost,IP:127.0.0.1" >server.ext
o x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
	-extfile server.ext -out server.crt
echo tok-one >tokens
echo tok-one >token
cat >seed.json <<'JSON'
[{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"ports":[{"port":80,"protocol":"TCP"}]}},
 {"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"a","namespace":"default"},"spec":{"virtualhost":{"fqdn":"a.example.com"},"routes":[{"services":[{"name":"web","port":80}]}]}},
 {"apiVersion":"v1","kind":"Service","metadata":{"name":"web2","namespace":"default"},"spec":{"ports":[{"port":80,"protocol":"TCP"}]}},
 {"apiVersion":"v1","kind":"Service","metadata":{"name":"web3","namespace":"default"},"spec":{"ports":[{"port":80,"protocol":"TCP"}]}},
 {"apiVersion":"v1","kind":"Secret","metadata":{"name":"helm","namespace":"default"},"type":"helm.sh/release.v1","data":{"release":"eHh4eA=="}}]
JSON
node "$top_srcdir/tests/k8sapi/apiserver.js" --cert server.crt --key server.key --ca ca.crt \
	--token-file tokens --admin-token ADMIN --seed seed.json --http2 \
	--token-grace-seconds 1 >api.out 2>api.err &
PIDS="$PIDS $!"
wait_for api.out "listening on"
API=$(sed -n 's/^listening on \(https:.*\)$/\1/p' api.out)

cat >kubeconfig <<YAML
current-context: t
contexts: [{name: t, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "$API", certificate-authority: ca.crt}}]
users: [{name: u, user: {tokenFile: token}}]
YAML
cat >contour.yaml <<YAML
build-holdoff: 10ms
modules:
  - name: k8s-watch
    config: {kubeconfig: kubeconfig, watch-timeout: 30s, token-refresh: 500ms, list-page-size: 1}
  - name: tls-delegation
  - name: httpproxy
  - name: metrics
    config: {address: 127.0.0.1, port: 0}
YAML
"$CONTOUR" serve --config "$T/contour.yaml" >log 2>&1 &
pid=$!
PIDS="$PIDS $pid"
wait_for log "started: 4 modules"
port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9][0-9]*\) .*/\1/p' log)
M="http://127.0.0.1:$port/metrics"

api() { # METHOD PATH [BODY [CONTENT-TYPE]]
	curl -sS --cacert ca.crt -H "Authorization: Bearer ADMIN" -X "$1" \
		-H "Content-Type: ${4:-application/json}" ${3:+-d "$3"} "$API$2" >api.last ||
		fail "API $1 $2"
}
hp() { # NAME FQDN
	echo "{\"apiVersion\":\"projectcontour.io/v1\",\"kind\":\"HTTPProxy\",\"metadata\":{\"name\":\"$1\",\"namespace\":\"default\"},\"spec\":{\"virtualhost\":{\"fqdn\":\"$2\"},\"routes\":[{\"services\":[{\"name\":\"web\",\"port\":80}]}]}}"
}
HPS=/apis/projectcontour.io/v1/namespaces/default/httpproxies
# served VHOST [gone]: until the build has (or no longer has) the vhost.
served() {
	i=0
	while :; do
		curl -s "$M" >metrics.txt
		if grep -q "contour_httpproxy_valid{namespace=\"default\",vhost=\"$1\"} 1" metrics.txt
		then [ -z "${2:-}" ] && return 0
		else [ -n "${2:-}" ] && return 0
		fi
		i=$((i + 1))
		[ $i -gt 150 ] && { tail -20 log >&2; fail "vhost $1 ${2:-not served}"; }
		sleep 0.1
	done
}

served a.example.com
expect_in log "initial list complete (6 watches)"
# Three Services in pages of one: two continuations, each with only limit
# and the (URL-encoded) token the previous page gave.
api GET /_test/requests
node -e '
const log = JSON.parse(require("fs").readFileSync("api.last", "utf8"));
const svc = log.requests.filter((e) => e.path === "/api/v1/services" && e.query.watch === undefined);
const cont = svc.filter((e) => e.query.continue);
if (svc.length < 3 || cont.length < 2 || cont.some((e) => e.status !== 200 || e.query.limit !== "1"))
	{ console.error(JSON.stringify(svc)); process.exit(1); }' || fail "paged Service list"
ok "initial list, paged"
# Secrets: every list and watch asks the server to leave out Helm releases
# and service-account tokens, as upstream; the seeded Helm Secret never
# arrives.
node -e '
const log = JSON.parse(require("fs").readFileSync("api.last", "utf8"));
const sec = log.requests.filter((e) => e.path === "/api/v1/secrets");
const want = "type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token";
if (sec.length < 2 || sec.some((e) => e.query.fieldSelector !== want))
	{ console.error(JSON.stringify(sec)); process.exit(1); }' || fail "Secret field selector"
curl -s "$M" | grep -q 'contour_k8s_objects_received_total{kind="Secret"} [1-9]' &&
	fail "the Helm Secret was received"
ok "Secrets: Helm releases filtered by the API server"
api POST $HPS "$(hp b b.example.com)"
served b.example.com
ok "created"
api PATCH $HPS/b '{"spec":{"virtualhost":{"fqdn":"c.example.com"}}}' application/merge-patch+json
served c.example.com
served b.example.com gone
ok "modified"
api DELETE $HPS/b
served c.example.com gone
ok "deleted"

# blind: HTTPProxy watches stall (see nothing) while changes happen and
# the history is compacted; then they are dropped and come back too old.
blind() {
	api POST /_test/faults '{"path":"httpproxies","verb":"watch","count":-1,"action":"stall"}'
	api POST /_test/dropWatches '{"mode":"rst"}'
	sleep 0.5
}
unblind() {
	api POST /_test/compact
	api DELETE /_test/faults
	api POST /_test/dropWatches "{\"mode\":\"$1\"}"
}

# 410 as an ERROR event: the deletion happened while the watch was blind.
blind
api DELETE $HPS/a
api POST $HPS "$(hp d d.example.com)"
unblind rst
served d.example.com
served a.example.com gone
curl -s "$M" | grep -q 'contour_k8s_relists_total{kind="HTTPProxy"} [1-9]' ||
	fail "no relist after 410"
ok "410 as an ERROR event: relisted, deletion seen"

# 410 as an HTTP status.
api POST /_test/config '{"tooOld":"http"}'
blind
api POST $HPS "$(hp e e.example.com)"
unblind close
served e.example.com
ok "410 as HTTP"

# 500 with Retry-After on watch and list, then plain-text 429s.
api POST /_test/faults '[{"path":"httpproxies","verb":"watch","count":3,"action":"status","code":500,"retryAfter":1},{"path":"httpproxies","verb":"list","count":2,"action":"status","code":500,"retryAfter":1}]'
api POST /_test/compact
api POST $HPS "$(hp f f.example.com)"
api POST /_test/dropWatches
served f.example.com
api POST /_test/faults '{"path":"httpproxies","verb":"watch","count":3,"action":"status","code":429,"retryAfter":1,"plainText":true}'
api POST /_test/dropWatches
sleep 1
api POST $HPS "$(hp g g.example.com)"
served g.example.com
ok "500 and 429 storms"

# Token rotation: the server stops taking the old token after 1 s.
echo tok-two >tokens
echo tok-two >token
sleep 2
api POST /_test/dropWatches
api POST $HPS "$(hp h h.example.com)"
served h.example.com
api GET "/_test/requests"
grep -q '"status":401' api.last && fail "a request was refused after rotation"
ok "token rotation"

grep -q "tok-one\|tok-two" log && fail "a token was logged"
kill -TERM "$pid"
wait_exit "$pid" 10
[ "$rc" = 0 ] || fail "contour exited $rc"
ok "clean exit"
