#!/bin/sh
# k8s-watch in `contour serve` against the test API server (tests/k8sapi)
# over HTTPS with a token file: the initial list, objects created, changed
# and deleted, 410 as an ERROR event and as an HTTP status after history
# compaction, 500 and plain-text 429 storms with Retry-After, and token
# rotation. What was built is read from the httpproxy module's gauges on
# /metrics (contour_httpproxy_valid{vhost=...}).
. "${top_srcdir:?}/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/k8s_lib.sh"
k8s_require

k8s_pki
echo tok-one >"$T/tokens"
echo tok-one >"$T/token"
cat >"$T/seed.json" <<'JSON'
[{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"ports":[{"port":80,"protocol":"TCP"}]}},
 {"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"a","namespace":"default"},"spec":{"virtualhost":{"fqdn":"a.example.com"},"routes":[{"services":[{"name":"web","port":80}]}]}},
 {"apiVersion":"v1","kind":"Service","metadata":{"name":"web2","namespace":"default"},"spec":{"ports":[{"port":80,"protocol":"TCP"}]}},
 {"apiVersion":"v1","kind":"Service","metadata":{"name":"web3","namespace":"default"},"spec":{"ports":[{"port":80,"protocol":"TCP"}]}},
 {"apiVersion":"v1","kind":"Secret","metadata":{"name":"helm","namespace":"default"},"type":"helm.sh/release.v1","data":{"release":"eHh4eA=="}}]
JSON
k8s_apiserver_start --token-file "$T/tokens" --seed "$T/seed.json" --http2 \
	--token-grace-seconds 1

k8s_kubeconfig "$T/kubeconfig" "$T/token"
cat >"$T/contour.yaml" <<YAML
build-holdoff: 10ms
modules:
  - name: k8s-watch
    config: {kubeconfig: $T/kubeconfig, watch-timeout: 30s, token-refresh: 500ms, list-page-size: 1}
  - name: tls-delegation
  - name: httpproxy
  - name: metrics
    config: {address: 127.0.0.1, port: 0, debug-port: 0}
YAML
contour_start "$T/contour.yaml"
expect_in "$CLOG" "started: 4 modules"

hp() { # NAME FQDN
	echo "{\"apiVersion\":\"projectcontour.io/v1\",\"kind\":\"HTTPProxy\",\"metadata\":{\"name\":\"$1\",\"namespace\":\"default\"},\"spec\":{\"virtualhost\":{\"fqdn\":\"$2\"},\"routes\":[{\"services\":[{\"name\":\"web\",\"port\":80}]}]}}"
}
HPS=/apis/projectcontour.io/v1/namespaces/default/httpproxies
# served VHOST [gone]: until the build has (or no longer has) the vhost.
served() {
	i=0
	while :; do
		curl -s "$M" >"$T/metrics.txt"
		if grep -q "contour_httpproxy_valid{namespace=\"default\",vhost=\"$1\"} 1" "$T/metrics.txt"
		then [ -z "${2:-}" ] && return 0
		else [ -n "${2:-}" ] && return 0
		fi
		i=$((i + 1))
		[ $i -gt 150 ] && { tail -20 "$CLOG" >&2; fail "vhost $1 ${2:-not served}"; }
		sleep 0.1
	done
}

served a.example.com
expect_in "$CLOG" "initial list complete (6 watches)"
# Three Services in pages of one: two continuations, each with only limit
# and the (URL-encoded) token the previous page gave.
api GET /_test/requests
node -e '
const log = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const svc = log.requests.filter((e) => e.path === "/api/v1/services" && e.query.watch === undefined);
const cont = svc.filter((e) => e.query.continue);
if (svc.length < 3 || cont.length < 2 || cont.some((e) => e.status !== 200 || e.query.limit !== "1"))
	{ console.error(JSON.stringify(svc)); process.exit(1); }' "$T/resp" || fail "paged Service list"
ok "initial list, paged"
# Secrets: every list and watch asks the server to leave out Helm releases
# and service-account tokens, as upstream; the seeded Helm Secret never
# arrives.
node -e '
const log = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const sec = log.requests.filter((e) => e.path === "/api/v1/secrets");
const want = "type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token";
if (sec.length < 2 || sec.some((e) => e.query.fieldSelector !== want))
	{ console.error(JSON.stringify(sec)); process.exit(1); }' "$T/resp" || fail "Secret field selector"
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
echo tok-two >"$T/tokens"
echo tok-two >"$T/token"
sleep 2
api POST /_test/dropWatches
api POST $HPS "$(hp h h.example.com)"
served h.example.com
api GET "/_test/requests"
grep -q '"status":401' "$T/resp" && fail "a request was refused after rotation"
ok "token rotation"

# An API server restart: a new server on the same port with other objects
# and a fresh resourceVersion history, in which the client's last RV is
# unknown (too large). Watches fail, lists from the old RV fail, and the
# reflectors must list from scratch: h leaves, r arrives.
port=${API##*:}
kill "$API_PID"
wait "$API_PID" 2>/dev/null
cat >"$T/seed2.json" <<'JSON'
[{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},"spec":{"ports":[{"port":80,"protocol":"TCP"}]}},
 {"apiVersion":"projectcontour.io/v1","kind":"HTTPProxy","metadata":{"name":"r","namespace":"default"},"spec":{"virtualhost":{"fqdn":"r.example.com"},"routes":[{"services":[{"name":"web","port":80}]}]}}]
JSON
k8s_apiserver_start --token-file "$T/tokens" --seed "$T/seed2.json" --http2 --port "$port"
served r.example.com
served h.example.com gone
ok "API server restart: the new server's objects replace the old"

grep -q "tok-one\|tok-two" "$CLOG" && fail "a token was logged"
contour_stop
ok "clean exit"
