#!/bin/sh
# `contour render`: manifests in, status / DAG / dot out, no cluster.
. "${top_srcdir:?}/tests/integration/lib.sh"

expect_rc 0 "$CONTOUR" render "$top_srcdir/examples"
head -c 1 "$T/out" | grep -q '\[' || fail "status output is not a JSON array"
ok "render: status is a JSON array"

expect_rc 0 "$CONTOUR" render --format dag "$top_srcdir/examples"
expect_in "$T/out" '"name": "ingress_http"'
expect_in "$T/out" '"port": 8443'
ok "render --format dag"

expect_rc 0 "$CONTOUR" render --format=dot "$top_srcdir/examples"
expect_in "$T/out" "digraph DAG {"
ok "render --format dot"

# The picture (README "Rendering offline"): one node per cluster, edges
# labelled with the match and the share, the invalid proxy with its error,
# no internal key, and dot parses it.
dot_checks() { # file label
	n=$(grep -c '^  "cluster/[^"]*" \[shape=record' "$1")
	u=$(grep '^  "cluster/[^"]*" \[shape=record' "$1" | cut -d'"' -f2 | sort -u | wc -l)
	[ "$n" -ge 1 ] && [ "$n" -eq "$u" ] || fail "$2: cluster nodes not one per cluster ($n, $u unique)"
	grep -q '\[label="0"\]\|weight 0\|0x[0-9a-f]\|"_\|#[0-9a-f]\{8\}' "$1" &&
		fail "$2: a zero weight or an internal key shows"
	if command -v dot >/dev/null 2>&1; then
		dot -Tsvg "$1" >"$T/dot.svg" 2>"$T/dot.err" || {
			cat "$T/dot.err" >&2
			fail "$2: dot -Tsvg rejected it"
		}
		grep -q '<svg' "$T/dot.svg" || fail "$2: dot -Tsvg wrote no SVG"
	elif [ "${CONTOUR_STRICT_TESTS:-0}" = 1 ]; then
		fail "dot (graphviz) not found (CONTOUR_STRICT_TESTS=1)"
	else
		echo "skip: dot -Tsvg (graphviz not installed)"
	fi
}
expect_rc 0 "$CONTOUR" render --format dot "$top_srcdir/examples"
cp "$T/out" "$T/examples.dot"
expect_in "$T/examples.dot" '"http/kuard.local" -> "cluster/default/kuard:80" [label="prefix /"];'
expect_in "$T/examples.dot" '[shape=record, label="{cluster|default/kuard:80}"]'
dot_checks "$T/examples.dot" examples
ok "render --format dot: the examples"

expect_rc 0 "$CONTOUR" render --format dot "$top_srcdir/tests/fixtures/render-dot"
cp "$T/out" "$T/weighted.dot"
[ "$(grep -c '^  "cluster/shop/web:80" \[' "$T/weighted.dot")" = 1 ] ||
	fail "cluster shop/web is not drawn once"
expect_in "$T/weighted.dot" '-> "cluster/shop/web:80" [label="prefix /\nweight 80 (80%)"];'
expect_in "$T/weighted.dot" '-> "cluster/shop/web-canary:80" [label="prefix /\nweight 20 (20%)"];'
expect_in "$T/weighted.dot" '-> "cluster/shop/web:80" [label="prefix /api\nheader x-beta == yes"];'
expect_in "$T/weighted.dot" '"HTTPProxy/shop/broken" [shape=box, style="dashed", color=red'
expect_in "$T/weighted.dot" 'service \"shop/missing\" not found'
dot_checks "$T/weighted.dot" fixture
"$CONTOUR" render --format dot "$top_srcdir/tests/fixtures/render-dot" >"$T/again.dot" 2>/dev/null
cmp -s "$T/weighted.dot" "$T/again.dot" || fail "render --format dot is not deterministic"
ok "render --format dot: weights, matches, the invalid proxy"

# A relative path is the operator's, taken from the cwd.
(cd "$top_srcdir" && "$CONTOUR" render examples >"$T/out" 2>"$T/err") || fail "relative path"
ok "render with a relative path"

expect_rc 1 "$CONTOUR" render "$T/does-not-exist"
expect_in "$T/err" "$T/does-not-exist"
expect_rc 1 "$CONTOUR" render --format xml "$top_srcdir/examples"
expect_in "$T/err" "--format must be status, dag, dot"
expect_rc 1 "$CONTOUR" render
expect_in "$T/err" "usage: contour render"
ok "render refuses bad input"

# A config with only global keys (no modules:) is valid for render.
printf 'root-namespaces: [roots]\ndisablePermitInsecure: true\n' >"$T/globals.yaml"
expect_rc 0 "$CONTOUR" render --config "$T/globals.yaml" "$top_srcdir/examples"
printf 'colour: blue\n' >"$T/bad.yaml"
expect_rc 1 "$CONTOUR" render --config "$T/bad.yaml" "$top_srcdir/examples"
expect_in "$T/err" "bad.yaml:1: colour: unknown key"
ok "render --config"

# The source is a parameter: tm_source reads "NAMESPACE NAME FQDN" lines,
# which file-watch cannot parse.
printf 'roots tm-app tm.example.com\n' >"$T/lines.txt"
MP="$CONTOUR_TEST_MODULE_DIR:$CONTOUR_MODULE_PATH"
CONTOUR_MODULE_PATH="$MP" expect_rc 0 "$CONTOUR" render --source tm_source "$T/lines.txt"
expect_in "$T/out" '"name": "tm-app"'
expect_in "$T/out" '"currentStatus": "valid"'
CONTOUR_MODULE_PATH="$MP" expect_rc 0 "$CONTOUR" render --source=tm_source --format dag "$T/lines.txt"
expect_in "$T/out" '"tm.example.com"'
expect_rc 0 "$CONTOUR" render "$T/lines.txt"
expect_in "$T/err" "document skipped: not a mapping"
grep -q tm-app "$T/out" && fail "file-watch read tm_source's file"
CONTOUR_MODULE_PATH="$MP" expect_rc 0 "$CONTOUR" render --source file-watch "$top_srcdir/examples"
head -c 1 "$T/out" | grep -q '\[' || fail "render --source file-watch: not a JSON array"
ok "render --source NAME"

CONTOUR_MODULE_PATH="$MP" expect_rc 1 "$CONTOUR" render --source tm_good "$top_srcdir/examples"
expect_in "$T/err" "module 'tm_good' is not a file source"
expect_rc 1 "$CONTOUR" render --source no-such-source "$top_srcdir/examples"
expect_in "$T/err" "module 'no-such-source' not found"
expect_rc 1 "$CONTOUR" render --source
expect_in "$T/err" "flag '--source' needs a value"
ok "render --source refuses what is not a file source"

# An input that cannot be read or parsed: exit 1, the file (and line)
# named, and the other files' objects rendered all the same.
mkdir "$T/mixed"
cat >"$T/mixed/good.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]
---
apiVersion: projectcontour.io/v1
kind: HTTPProxy
metadata: {name: good-proxy, namespace: default}
spec:
  virtualhost: {fqdn: good.example.com}
  routes:
    - services: [{name: web, port: 80}]
YAML
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: broken\n  namespace: [\n' \
	>"$T/mixed/broken.yaml"
expect_rc 0 "$CONTOUR" render "$T/mixed/good.yaml"
expect_rc 1 "$CONTOUR" render "$T/mixed"
expect_in "$T/err" "$T/mixed/broken.yaml:"
grep -qE "broken\.yaml:[0-9]+:[0-9]+: " "$T/err" || { cat "$T/err"; fail "no line in the YAML error"; }
expect_in "$T/err" "1 input(s) could not be read or parsed"
expect_in "$T/out" '"name": "good-proxy"'
ok "render: invalid YAML exits 1, names file and line, renders the rest"

expect_rc 1 "$CONTOUR" render "$T/mixed/good.yaml" "$T/mixed/missing.yaml"
expect_in "$T/err" "$T/mixed/missing.yaml: No such file or directory"
expect_in "$T/out" '"name": "good-proxy"'
expect_rc 1 "$CONTOUR" render --format dag "$T/mixed/good.yaml" "$T/mixed/missing.yaml"
expect_in "$T/out" '"good.example.com"'
ok "render: a missing path exits 1, named, the rest rendered"

if [ "$(id -u)" != 0 ]; then
	cp "$T/mixed/good.yaml" "$T/locked.yaml"
	sed -i 's/good/locked/g' "$T/locked.yaml"
	chmod 000 "$T/locked.yaml"
	expect_rc 1 "$CONTOUR" render "$T/mixed/good.yaml" "$T/locked.yaml"
	expect_in "$T/err" "$T/locked.yaml: "
	expect_in "$T/out" '"name": "good-proxy"'
	ok "render: an unreadable file exits 1, named, the rest rendered"
else
	echo "# root reads a mode-000 file: the unreadable case is not tested"
fi
