#!/bin/sh
# Every HTTPProxy example from upstream's repository (the reference folder)
# renders with the status upstream gives it. Each example file is rendered on
# its own, beside upstream's 00-common objects and our fixtures (the Services,
# EndpointSlices and real TLS Secrets the examples name), as an operator
# applying one example at a time would see it. Expected statuses are in
# tests/fixtures/render-expected/<folder>--<file>.json, with
# lastTransitionTime (a clock reading) blanked.
. "${top_srcdir:?}/tests/integration/lib.sh"

ref="${CONTOUR_REFERENCE_DIR:-}/contour-examples/example-workload/httpproxy"
if [ ! -d "$ref" ]; then
	[ -n "${CONTOUR_STRICT_TESTS:-}" ] && fail "reference folder missing: $ref"
	echo "SKIP: reference folder missing: $ref"
	exit 77
fi
fixtures="$top_srcdir/tests/fixtures/render"
n=0
for f in "$ref"/0[1-9]*/*.yaml; do
	base="$(basename "$(dirname "$f")")--$(basename "$f" .yaml)"
	want="$top_srcdir/tests/fixtures/render-expected/$base.json"
	[ -f "$want" ] || fail "no expected status for $base ($want)"
	"$CONTOUR" render "$fixtures" "$ref/00-common" "$f" >"$T/got.json" 2>"$T/err" ||
		{ cat "$T/err" >&2; fail "render failed for $base"; }
	sed -E 's/"lastTransitionTime": "[^"]*"/"lastTransitionTime": ""/' "$T/got.json" >"$T/got"
	if ! cmp -s "$want" "$T/got"; then
		diff -u "$want" "$T/got" >&2
		fail "status differs for $base"
	fi
	n=$((n + 1))
done
ok "$n example files render with upstream's status"

# All of them at once: three roots claim foo2.bar.com, so upstream marks all
# three invalid with DuplicateVhost and the rest stay valid.
"$CONTOUR" render "$fixtures" "$ref" >"$T/got.json" 2>"$T/err" ||
	{ cat "$T/err" >&2; fail "render failed for the whole folder"; }
sed -E 's/"lastTransitionTime": "[^"]*"/"lastTransitionTime": ""/' "$T/got.json" >"$T/got"
want="$top_srcdir/tests/fixtures/render-expected/all-examples-together.json"
cmp -s "$want" "$T/got" || { diff -u "$want" "$T/got" >&2; fail "status differs for the whole folder"; }
expect_in "$T/got" 'fqdn \"foo2.bar.com\" is used in multiple HTTPProxies: default/tls-example, default/tls-example-insecure, example-com/www'
ok "the whole example folder at once, duplicate FQDNs included"
