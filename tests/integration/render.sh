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
