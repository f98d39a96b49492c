#!/bin/sh
# `contour review` on Ingress objects, through the real binary and the real
# modules: the ingress module's validator denies what an Ingress gets wrong
# on its own (exit 3, the denials as JSON with their fields), warns about
# the Services and Secrets it names that do not exist yet, leaves another
# class's Ingress and deletions alone, and allows a good one (exit 0).
. "${top_srcdir:?}/tests/integration/lib.sh"

# The ingress module may not be on the harness's search path yet.
CONTOUR_MODULE_PATH="${CONTOUR_MODULE_PATH:-}:$top_builddir/modules/ingress/.libs"
export CONTOUR_MODULE_PATH

fx="$top_srcdir/tests/fixtures/ingress"
secrets="$top_srcdir/tests/fixtures/httpproxy/secrets.yaml"

# A rule of bad.example.com with the paths given as the rest of the lines.
ingress() { # NAME ANNOTATIONS (flow body) SPEC-LINES...
	name=$1 annotations=$2
	shift 2
	printf 'apiVersion: networking.k8s.io/v1\nkind: Ingress\n'
	printf 'metadata:\n  namespace: roots\n  name: %s\n  annotations: {%s}\n' \
		"$name" "$annotations"
	printf 'spec:\n'
	for l in "$@"; do printf '  %s\n' "$l"; done
}
path() { # PATH TYPE SERVICE
	printf '      - {path: "%s", pathType: %s, backend: {service: {name: %s, port: {number: 80}}}}' \
		"$1" "$2" "$3"
}

# --- a bad one: its own annotation and path --------------------------------
ingress bad 'projectcontour.io/response-timeout: forever' \
	'rules:' '- host: bad.example.com' '  http:' '    paths:' \
	"$(path / Prefix web)" "$(path '/a[' ImplementationSpecific web)" >"$T/bad.yaml"
expect_rc 3 "$CONTOUR" review --object "$T/bad.yaml" "$fx" "$secrets"
tr -d '\n' <"$T/out" | tr -s ' ' >"$T/flat"
expect_in "$T/flat" '"allowed": false'
expect_in "$T/flat" '"operation": "CREATE"'
expect_in "$T/flat" '"validated": true'
expect_in "$T/flat" '{ "field": "metadata.annotations[projectcontour.io/response-timeout]", "message": "error parsing response-timeout annotation, using the default value: time: invalid duration \"forever\"" }'
expect_in "$T/flat" '{ "field": "spec.rules[0].http.paths[1].path", "message": "rule bad.example.com skipped: path /a[ is not valid: error parsing regexp: missing closing ]: `[`" }'
expect_in "$T/flat" '"warnings": []'
ok "a bad Ingress is denied (exit 3) with each field and the build's message"

# the same, as the webhook would see its deletion
expect_rc 0 "$CONTOUR" review --operation DELETE --object "$T/bad.yaml" "$fx" "$secrets"
expect_in "$T/out" '"allowed": true'
ok "deleting a bad Ingress is allowed"

# --- a stored one: an UPDATE, denied as the build logs it -------------------
expect_rc 3 "$CONTOUR" review --object "$fx/bad.yaml" "$fx" "$secrets"
tr -d '\n' <"$T/out" | tr -s ' ' >"$T/flat"
expect_in "$T/flat" '"operation": "UPDATE"'
expect_in "$T/err" 'ingress roots/badregex: rule badregex.example.com skipped: path /a[ is not valid'
expect_in "$T/flat" '"field": "spec.rules[0].http.paths[0].path", "message": "rule badregex.example.com skipped: path /a[ is not valid'
expect_in "$T/flat" '"field": "metadata.annotations[projectcontour.io/tls-minimum-protocol-version]"'
expect_in "$T/flat" '"unresolved secret reference roots/missing: Secret not found"'
ok "the fixtures' skipped Ingresses are denied as updates; the missing Secret is a warning"

# --- a good one ---------------------------------------------------------------
ingress good 'projectcontour.io/response-timeout: 30s' \
	'tls: [{hosts: [good.example.com], secretName: tls-cert}]' \
	'rules:' '- host: good.example.com' '  http:' '    paths:' \
	"$(path / Prefix web)" "$(path '/v[0-9]+' ImplementationSpecific web)" >"$T/good.yaml"
expect_rc 0 "$CONTOUR" review --object "$T/good.yaml" "$fx" "$secrets"
tr -d '\n' <"$T/out" | tr -s ' ' >"$T/flat"
expect_in "$T/flat" '"allowed": true'
expect_in "$T/flat" '"denials": []'
expect_in "$T/flat" '"warnings": []'
ok "a good Ingress is allowed (exit 0) with nothing to say"

# --- what depends on other objects: warnings only ----------------------------
ingress early '' \
	'tls: [{hosts: [early.example.com], secretName: later-cert}]' \
	'rules:' '- host: early.example.com' '  http:' '    paths:' \
	"$(path / Prefix later-svc)" >"$T/early.yaml"
expect_rc 0 "$CONTOUR" review --object "$T/early.yaml" "$fx" "$secrets"
tr -d '\n' <"$T/out" | tr -s ' ' >"$T/flat"
expect_in "$T/flat" '"allowed": true'
expect_in "$T/flat" '"denials": []'
expect_in "$T/flat" '"unresolved secret reference roots/later-cert: '
expect_in "$T/flat" '"unresolved service reference later-svc: '
ok "a Service and a Secret that do not exist yet are warnings"

# --- another class -------------------------------------------------------------
ingress theirs 'kubernetes.io/ingress.class: other, projectcontour.io/response-timeout: forever' \
	'rules:' '- host: theirs.example.com' '  http:' '    paths:' \
	"$(path '/a[' ImplementationSpecific web)" >"$T/theirs.yaml"
expect_rc 0 "$CONTOUR" review --object "$T/theirs.yaml" "$fx" "$secrets"
tr -d '\n' <"$T/out" | tr -s ' ' >"$T/flat"
expect_in "$T/flat" '"ignored": true'
expect_in "$T/flat" '"allowed": true'
ok "another class's Ingress is ignored"
