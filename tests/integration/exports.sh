#!/bin/sh
# tests/integration/exports.sh [BINARY [HEADER-DIR]]: every public function,
# each contour_* function include/contour/*.h declares, is in the dynamic
# symbol table of the contour binary, so a module dlopen()ed into it
# resolves the whole API. The core is linked in from a static archive; a
# function that only modules call would otherwise be left out of the
# binary. Fails naming each missing function.
#
# Defaults: $top_builddir/contour and $top_srcdir/include/contour (`make
# check`); `make installcheck` passes the installed binary and headers.
# The headers go through $CPP with $EXPORTS_CPPFLAGS (the folder holding
# contour/ and jansson's flags); $NM is libtool's nm (GNU nm).
set -u
bin=${1:-${top_builddir:-.}/contour}
hdrdir=${2:-${top_srcdir:-.}/include/contour}
NM=${NM:-nm}
CPP=${CPP:-cc -E}

die() {
	echo "exports: $*" >&2
	exit 99
}

[ -f "$bin" ] || die "$bin: no such binary"
[ -d "$hdrdir" ] || die "$hdrdir: no such folder"
hdrdir=$(cd "$hdrdir" && pwd)
EXPORTS_CPPFLAGS=${EXPORTS_CPPFLAGS:--I$hdrdir/..}
T=$(mktemp -d "${TMPDIR:-/tmp}/contour-exports-XXXXXX") || die "mktemp failed"
trap 'rm -rf "$T"' EXIT

# Each header on its own (a header included by another one is guarded
# there): keep what the header itself says (cpp's line markers name the
# file), drop brace bodies (structs, enums, inline functions), and cut the
# rest into declarations. A declaration that is not a typedef, not static,
# and whose first parenthesis (attributes removed) follows a contour_* name
# declares a function.
: >"$T/list"
for h in "$hdrdir"/*.h; do
	[ -f "$h" ] || die "no headers in $hdrdir"
	# shellcheck disable=SC2086
	$CPP $EXPORTS_CPPFLAGS "$h" >"$T/h.i" || die "$CPP failed on $h"
	awk -v me="$h" '
/^# [0-9]+ "/ {
	f = $3
	gsub(/"/, "", f)
	mine = (f == me)
	next
}
/^#/ { next }
mine { text = text " " $0 }
END {
	depth = 0
	out = ""
	n = length(text)
	for (i = 1; i <= n; i++) {
		c = substr(text, i, 1)
		if (c == "{") {
			depth++
			continue
		}
		if (c == "}") {
			depth--
			if (depth == 0)
				out = out ";"
			continue
		}
		if (depth == 0)
			out = out c
	}
	k = split(out, decl, ";")
	for (j = 1; j <= k; j++) {
		d = decl[j]
		gsub(/[ \t]+/, " ", d)
		sub(/^ /, "", d)
		if (d ~ /^(typedef|static)[ ]/)
			continue
		while (match(d, /__attribute__ ?\(\(([^()]|\([^()]*\))*\)\)/))
			d = substr(d, 1, RSTART - 1) substr(d, RSTART + RLENGTH)
		p = index(d, "(")
		if (p == 0)
			continue
		head = substr(d, 1, p - 1)
		sub(/ +$/, "", head)
		if (match(head, /contour_[A-Za-z0-9_]+$/) && (RSTART == 1 ||
		    substr(head, RSTART - 1, 1) ~ /[ *]/))
			print substr(head, RSTART)
	}
}' "$T/h.i" >>"$T/list" || die "awk failed on $h"
done
sort -u "$T/list" >"$T/declared"

ndecl=$(wc -l <"$T/declared")
[ "$ndecl" -gt 0 ] || die "no contour_* function declarations found in $hdrdir"

# shellcheck disable=SC2086
$NM -D --defined-only "$bin" >"$T/nm" || die "$NM -D failed on $bin"
awk 'NF >= 2 && $(NF - 1) ~ /^[TWi]$/ { print $NF }' "$T/nm" | sed 's/@.*//' |
	sort -u >"$T/exported"

missing=$(comm -23 "$T/declared" "$T/exported")
if [ -n "$missing" ]; then
	for m in $missing; do
		echo "FAIL: $m is declared in $hdrdir but not exported by $bin" >&2
	done
	exit 1
fi
echo "ok: $bin exports all $ndecl contour_* functions declared in $hdrdir"
exit 0
