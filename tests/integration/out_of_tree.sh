#!/bin/sh
# Third-party modules build against the installed headers alone: install
# into a scratch DESTDIR, build contrib/example-module there with nothing
# but pkg-config, and load the result through `path:`.
. "${top_srcdir:?}/tests/integration/lib.sh"

# The sub-makes are not ours to share a jobserver or overrides with.
unset MAKEFLAGS MFLAGS MAKELEVEL

make -s -C "$top_builddir" install DESTDIR="$T/inst" >"$T/install.log" 2>&1 || {
	cat "$T/install.log" >&2
	fail "make install DESTDIR=$T/inst"
}
pc=$(find "$T/inst" -name contour.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || fail "contour.pc was not installed"
[ -n "$(find "$T/inst" -path '*/include/contour/module.h')" ] ||
	fail "contour/module.h was not installed"
ok "make install DESTDIR"

# The sysroot makes the .pc's -I${includedir} point inside DESTDIR.
PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
PKG_CONFIG_SYSROOT_DIR="$T/inst"
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
cflags=$(pkg-config --cflags contour) || fail "pkg-config --cflags contour"
case " $cflags " in
*" -I$T/inst/"*"/include "*) ;;
*) fail "pkg-config --cflags contour gave '$cflags', want an -I inside $T/inst" ;;
esac
case "$cflags" in
*"$top_srcdir"*) fail "pkg-config --cflags contour points into the source tree: $cflags" ;;
esac
expect_in "$pc" "moduledir="
ok "pkg-config --cflags contour: $cflags"

# A copy, as a third party would have it: nothing else of the tree around.
mkdir -p "$T/hello"
cp "$top_srcdir/contrib/example-module/hello.c" "$top_srcdir/contrib/example-module/Makefile" \
	"$T/hello/" || fail "copy contrib/example-module"
expect_rc 0 make -C "$T/hello" CC="${CC:-cc}" CFLAGS="-O2 -g -Werror"
[ -f "$T/hello/hello.so" ] || fail "hello.so was not built"
ok "contrib/example-module builds with -Werror"

nm -D --defined-only "$T/hello/hello.so" >"$T/syms" || fail "nm -D hello.so"
syms=$(awk '{ print $NF }' "$T/syms" | sort | tr '\n' ' ')
[ "$syms" = "contour_module " ] || fail "hello.so exports '$syms', want only 'contour_module'"
ok "hello.so exports only contour_module"

cat >"$T/good.yaml" <<YAML
modules:
  - name: hello
    path: $T/hello/hello.so
    config:
      greeting: hi there
YAML
expect_rc 0 "$CONTOUR" check-config "$T/good.yaml"
expect_in "$T/out" "good.yaml: OK (1 modules)"
ok "check-config accepts hello with a greeting"

cat >"$T/bad.yaml" <<YAML
modules:
  - name: hello
    path: $T/hello/hello.so
    config:
      greeting: hi
      colour: blue
YAML
expect_rc 1 "$CONTOUR" check-config "$T/bad.yaml"
expect_in "$T/err" "$T/bad.yaml:6: modules.hello.config.colour: unknown key"
ok "check-config rejects an unknown key under hello's config with FILE:LINE"

cat >"$T/type.yaml" <<YAML
modules:
  - name: hello
    path: $T/hello/hello.so
    config:
      greeting: [a, b]
YAML
expect_rc 1 "$CONTOUR" check-config "$T/type.yaml"
expect_in "$T/err" "$T/type.yaml:5: modules.hello.config.greeting:"
ok "check-config rejects a greeting that is not a string"

# The whole lifecycle: init logs the default greeting, stop says goodbye,
# SIGTERM exits 0.
cat >"$T/serve.yaml" <<YAML
modules:
  - name: hello
    path: $T/hello/hello.so
YAML
"$CONTOUR" serve --config-path "$T/serve.yaml" >"$T/log" 2>&1 &
pid=$!
PIDS="$PIDS $pid"
wait_for "$T/log" "started: 1 modules"
expect_in "$T/log" 'msg="hello" module=hello'
kill -TERM "$pid"
wait_exit "$pid" 10
[ "$rc" = 0 ] || {
	cat "$T/log" >&2
	fail "serve exited $rc after SIGTERM, want 0"
}
expect_in "$T/log" 'msg="goodbye" module=hello'
ok "serve runs hello with its default greeting and stops it on SIGTERM"
