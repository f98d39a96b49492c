#!/bin/sh
# The command line: sub-commands, exit codes, check-config's messages.
. "${top_srcdir:?}/tests/integration/lib.sh"

expect_rc 0 "$CONTOUR" version
expect_in "$T/out" "contour "
expect_in "$T/out" "(module ABI 1."
ok version

expect_rc 2 "$CONTOUR" no-such-command
expect_in "$T/err" "unknown command 'no-such-command'"
expect_in "$T/err" "usage: contour"
expect_rc 2 "$CONTOUR"
expect_in "$T/err" "usage: contour"
ok "unknown or missing command exits 2 with usage"

expect_rc 0 "$CONTOUR" help
expect_in "$T/out" "check-config"
expect_rc 0 "$CONTOUR" help serve
expect_in "$T/out" "usage: contour serve"
ok help

expect_rc 1 "$CONTOUR" serve --no-such-flag
expect_in "$T/err" "unknown flag '--no-such-flag'"
expect_rc 1 "$CONTOUR" --log-format xml version
expect_rc 1 "$CONTOUR" serve --log-format=xml
expect_in "$T/err" "--log-format must be text or json"
ok "bad flags exit 1"

expect_rc 0 "$CONTOUR" check-config "$top_srcdir/conf/local.yaml"
expect_in "$T/out" "local.yaml: OK (6 modules)"
ok "check-config on conf/local.yaml"

# check-config takes serve's flags, so it checks the command line a
# manifest runs: a module's flag is validated as its config key, a global
# flag as the global setting, a flag no loaded module takes is refused.
expect_rc 0 "$CONTOUR" check-config "$top_srcdir/conf/shutdown-manager.yaml" \
	--serve-address=127.0.0.1 --serve-port 8091
expect_in "$T/out" "shutdown-manager.yaml: OK (2 modules)"
expect_rc 1 "$CONTOUR" check-config "$top_srcdir/conf/shutdown-manager.yaml" --serve-port=abc
expect_in "$T/err" "flag --serve-port: expected an integer"
expect_rc 1 "$CONTOUR" check-config --config "$top_srcdir/conf/local.yaml" --no-such-flag
expect_in "$T/err" "unknown flag '--no-such-flag'"
expect_rc 0 "$CONTOUR" check-config --config "$top_srcdir/conf/local.yaml" \
	--ingress-class-name=contour
ok "check-config with serve's flags"

cat >"$T/bad-key.yaml" <<'YAML'
debug: false
colour: blue
modules:
  - name: file-watch
    config: {paths: [.]}
YAML
expect_rc 1 "$CONTOUR" check-config "$T/bad-key.yaml"
expect_in "$T/err" "$T/bad-key.yaml:2: colour: unknown key"
ok "unknown global key"

# Upstream's contour.yaml keys have upstream's types whatever is loaded: a
# bad timeout or a misspelt key stops check-config at its line even when no
# loaded module reads it; a good key nothing loaded reads is accepted with a
# warning naming it, once.
cat >"$T/typed-global.yaml" <<'YAML'
timeouts:
  connect-timeout: soon
modules:
  - name: xds-grpc
    config: {address: 127.0.0.1, port: 0, insecure: true}
YAML
expect_rc 1 "$CONTOUR" check-config "$T/typed-global.yaml"
expect_in "$T/err" "$T/typed-global.yaml:2: timeouts.connect-timeout: expected a duration"
cat >"$T/untyped-global.yaml" <<'YAML'
timeouts:
  connect-timeout: soon
modules:
  - name: file-watch
    config: {paths: [.]}
YAML
expect_rc 1 "$CONTOUR" check-config "$T/untyped-global.yaml"
expect_in "$T/err" "$T/untyped-global.yaml:2: timeouts.connect-timeout: expected a duration"
cat >"$T/typo-global.yaml" <<'YAML'
tracing:
  includePodDetail: true
  serviceNmae: contour
rateLimitService:
  failOpen: maybe
modules:
  - name: file-watch
    config: {paths: [.]}
YAML
expect_rc 1 "$CONTOUR" check-config "$T/typo-global.yaml"
expect_in "$T/err" "$T/typo-global.yaml:3: tracing.serviceNmae: unknown key"
expect_in "$T/err" "$T/typo-global.yaml:5: rateLimitService.failOpen: expected true or false"
cat >"$T/unread-global.yaml" <<'YAML'
timeouts:
  connect-timeout: 2s
tracing:
  serviceName: contour
  includePodDetail: true
modules:
  - name: file-watch
    config: {paths: [.]}
YAML
expect_rc 0 "$CONTOUR" check-config "$T/unread-global.yaml"
expect_in "$T/err" "config key timeouts.connect-timeout is accepted but not implemented by the loaded modules (file-watch): ignored"
expect_in "$T/err" "config key tracing.serviceName is accepted"
expect_in "$T/err" "config key tracing.includePodDetail is accepted"
[ "$(grep -c 'accepted but not implemented' "$T/err")" = 3 ] || { cat "$T/err"; fail "one warning per unread key"; }
ok "global keys typed by the modules that read them"

cat >"$T/bad-yaml.yaml" <<'YAML'
modules:
  - name: file-watch
    config: {paths: [.]
YAML
expect_rc 1 "$CONTOUR" check-config "$T/bad-yaml.yaml"
expect_in "$T/err" "$T/bad-yaml.yaml:4:"
ok "YAML syntax error with line and column"

cat >"$T/bad-module.yaml" <<'YAML'
modules:
  - name: file-watch
    config:
      pathz: [.]
YAML
expect_rc 1 "$CONTOUR" check-config "$T/bad-module.yaml"
expect_in "$T/err" "$T/bad-module.yaml:4: modules.file-watch.config.pathz: unknown key"
expect_in "$T/err" "modules.file-watch.config.paths: required key is missing"
ok "module config errors"

cat >"$T/no-module.yaml" <<'YAML'
modules:
  - name: file-watch
    config: {paths: [.]}
  - name: not-a-module
YAML
expect_rc 1 "$CONTOUR" check-config "$T/no-module.yaml"
expect_in "$T/err" "$T/no-module.yaml:4: modules.not-a-module: module 'not-a-module' not found"
ok "missing module"

expect_rc 1 "$CONTOUR" check-config "$T/does-not-exist.yaml"
expect_in "$T/err" "$T/does-not-exist.yaml"
expect_rc 1 "$CONTOUR" check-config
ok "check-config without a readable file"

# serve stops at startup with the same messages, logged.
expect_rc 1 "$CONTOUR" serve --config-path "$T/bad-key.yaml"
expect_in "$T/err" "bad-key.yaml:2: colour: unknown key"
expect_rc 1 "$CONTOUR" serve -c "$T/bad-module.yaml"
expect_in "$T/err" "modules.file-watch.config.pathz: unknown key"
ok "serve refuses a bad config"

# Sub-commands from modules: found in the module path, run with their own
# arguments, the module initialised but never started, its check skipped.
CONTOUR_MODULE_PATH="${CONTOUR_TEST_MODULE_DIR:?}" expect_rc 7 "$CONTOUR" --log-format json tm-hello a --b=c
expect_in "$T/out" "tm-hello argc=3 [tm-hello] [a] [--b=c] render_only=1 started=0"
CONTOUR_MODULE_PATH="$CONTOUR_TEST_MODULE_DIR" expect_rc 2 "$CONTOUR" tm-goodbye
expect_in "$T/err" "unknown command 'tm-goodbye'"
ok "module sub-commands"

# `contour bootstrap`, provided by the xds-grpc module.
expect_rc 0 "$CONTOUR" bootstrap - --xds-address=contour --xds-port 8001
expect_in "$T/out" '"dynamic_resources"'
expect_in "$T/out" '"address": "contour"'
expect_rc 0 "$CONTOUR" bootstrap "$T/envoy.json"
expect_in "$T/envoy.json" '"path": "/admin/admin.sock"'
expect_rc 1 "$CONTOUR" bootstrap "$T/x.json" --envoy-cafile /nonexistent
expect_in "$T/err" "you must supply all TLS parameters"
ok "contour bootstrap through the xds-grpc module"

# Help for every command `contour help` lists, the core's and the
# modules', both ways, on stdout with status 0; a module command's
# sub-commands (contour envoy shutdown) too.
expect_rc 0 "$CONTOUR" help
awk '/^Commands/ { on = 1; next } /^[^ ]/ || /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }' \
	"$T/out" >"$T/commands"
for c in serve check-config render review version help bootstrap certgen envoy; do
	grep -qx "$c" "$T/commands" || fail "contour help does not list $c"
done
while read -r c; do
	for how in "help $c" "$c --help" "$c -h"; do
		# shellcheck disable=SC2086
		expect_rc 0 "$CONTOUR" $how
		expect_in "$T/out" "usage: contour $c"
	done
	awk '/^Commands/ { on = 1; next } /^[^ ]/ || /^$/ { on = 0 }
	     on && /^  [a-z]/ { print $1 }' "$T/out" >"$T/subs"
	while read -r s; do
		for how in "help $c $s" "$c $s --help" "$c $s -h"; do
			# shellcheck disable=SC2086
			expect_rc 0 "$CONTOUR" $how
			expect_in "$T/out" "usage: contour $c $s"
		done
	done <"$T/subs"
done <"$T/commands"
expect_rc 0 "$CONTOUR" envoy shutdown-manager --help
expect_rc 2 "$CONTOUR" help no-such-command
expect_in "$T/err" "unknown command 'no-such-command'"
expect_in "$T/err" "usage: contour"
[ -s "$T/out" ] && fail "help no-such-command wrote to stdout"
ok "help and --help for every command"

# serve --help: the flags of the modules the config loads, with defaults.
expect_rc 0 "$CONTOUR" serve --help
grep -q -- '--xds-port VALUE .*(default 8001)' "$T/out" || fail "serve --help: no --xds-port 8001"
grep -q -- '--http-port VALUE .*(default 8000)' "$T/out" || fail "serve --help: no --http-port 8000"
expect_in "$T/out" "--log-format"
expect_in "$T/out" "--root-namespaces"
cp "$T/out" "$T/serve-help"
printf 'modules:\n  - name: metrics\n' >"$T/metrics-only.yaml"
expect_rc 0 "$CONTOUR" serve --config "$T/metrics-only.yaml" --help
expect_in "$T/out" "--http-port"
grep -q -- '--xds-port' "$T/out" && fail "serve --help with metrics only lists --xds-port"
expect_rc 0 "$CONTOUR" help serve --config="$T/metrics-only.yaml"
grep -q -- '--xds-port' "$T/out" && fail "help serve with metrics only lists --xds-port"
ok "serve --help lists the loaded modules' flags"

# contour(1), generated from the same help: every command, every serve flag.
man="$top_builddir/contrib/man/contour.1"
[ -s "$man" ] || fail "$man not built"
sed 's/\\-/-/g' "$man" >"$T/man.txt"
while read -r c; do
	grep -q "^\.SS contour $c\$" "$T/man.txt" || fail "contour.1 lacks contour $c"
done <"$T/commands"
grep -o -- '^  --[a-z-]*' "$T/serve-help" | sed 's/^ *//' | sort -u >"$T/flags"
[ -s "$T/flags" ] || fail "no serve flags found"
while read -r f; do
	grep -q -- "^  $f " "$T/man.txt" || fail "contour.1 lacks serve flag $f"
done <"$T/flags"
grep -q "$top_builddir\|$top_srcdir" "$man" && fail "contour.1 names a build folder"
if command -v groff >/dev/null 2>&1; then
	groff -man -Tutf8 -ww -z "$man" 2>"$T/groff.err" || fail "groff failed on contour.1"
	[ -s "$T/groff.err" ] && { cat "$T/groff.err" >&2; fail "groff warns on contour.1"; }
	ok "contour.1 has every command and serve flag; groff renders it cleanly"
else
	[ "${CONTOUR_STRICT_TESTS:-0}" = 1 ] && fail "groff not found (CONTOUR_STRICT_TESTS=1)"
	ok "contour.1 has every command and serve flag (groff not found: not rendered)"
fi
