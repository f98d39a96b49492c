#!/bin/sh
# contrib/test-packages.sh: build the packages and prove them, as root on a
# Debian 12 machine (.ci/run calls it after ./quickstart.sh test).
#
#   1. the .debs (contrib/build-deb.sh, DEB_BUILD_OPTIONS=nocheck: the test
#      suite already ran in quickstart.sh test), lintian with no E:;
#   2. their contents: every module the build makes, the role configs in
#      /etc/contour/ as conffiles, both units, the -dev files;
#   3. the RPMs from the `make dist` tarball (rpmbuild -ta --nodeps --nocheck,
#      Debian's rpm has no systemd macros), their file lists and scriptlets;
#   4. a Debian 12 minbase root file system (mmdebstrap, this machine's apt
#      sources) in which contrib/container/Containerfile's COPY and RUN
#      instructions run as written (apt installs the .deb and resolves its
#      Depends from the archive: nothing else is added), then, as the
#      Containerfile's USER: contour version, check-config on every
#      /etc/contour/*.yaml, render on the installed examples, and the image's
#      ENTRYPOINT+CMD (serve --config /etc/contour/local.yaml) answering on
#      its metrics port, in a network namespace of its own.
#
# A step that cannot run here (not root, no network namespace) is skipped
# with a SKIP line; with CONTOUR_STRICT_TESTS=1 it fails instead. KEEP=1
# keeps the scratch folder (printed at the start). Prints each step's time.
# To prove a check by hand on a doctored package, DEBS=DIR takes the .debs
# in DIR instead of building them and RPMS=DIR the RPMs (no make dist
# then); every check still runs on them.
# shellcheck disable=SC2016 # single quotes: code written out for another shell
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
strict=${CONTOUR_STRICT_TESTS:-0}
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -le 2 ] || jobs=2
containerfile=$top/contrib/container/Containerfile
suite=bookworm
W=$(mktemp -d "${TMPDIR:-/tmp}/contour-pkgtest-XXXXXX")
root=$W/rootfs
times=$W/times
: >"$times"
echo "scratch folder: $W"

cleanup() {
	rc=$?
	set +e
	for m in "$root/dev" "$root/proc"; do
		mountpoint -q "$m" 2>/dev/null && umount -l "$m"
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $W"
	else
		# Never follow a mount: they are gone, and -xdev is a second guard.
		rm -rf --one-file-system "$W"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }
skip() {
	[ "$strict" = 1 ] && fail "$* (CONTOUR_STRICT_TESTS=1: nothing may be skipped)"
	echo "SKIP: $*"
}
# Each step's time, and a summary at the end.
step_name=
step_t0=0
total_t0=$(date +%s)
step() {
	step_end
	step_name=$*
	step_t0=$(date +%s)
	printf '\n==> %s\n' "$step_name"
}
step_end() {
	if [ -n "$step_name" ]; then
		t=$(($(date +%s) - step_t0))
		printf '%4ds  %s\n' "$t" "$step_name" >>"$times"
		echo "    ($step_name: ${t}s)"
	fi
	step_name=
}
# Print a log's end and fail.
fail_log() {
	tail -n 40 "$1" >&2
	fail "$2"
}
# The lines of file $1 not in file $2 (both sorted here).
missing() {
	sort -u "$1" >"$1.s"
	sort -u "$2" >"$2.s"
	comm -23 "$1.s" "$2.s"
}

is_root=0
[ "$(id -u)" = 0 ] && is_root=1

# --- tools ------------------------------------------------------------------
step "installing the tools and the Build-Depends"
if [ "$is_root" = 1 ] && command -v apt-get >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	# Wait for another apt on a shared machine rather than fail (the
	# timeout covers dpkg's lock; update's lists lock is retried).
	apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
	n=0
	until apt_get update -qq >"$W/apt.log" 2>&1; do
		n=$((n + 1))
		[ "$n" -lt 60 ] || fail_log "$W/apt.log" "apt-get update"
		sleep 5
	done
	apt_get install -y -qq --no-install-recommends debhelper dpkg-dev fakeroot \
		lintian rpm mmdebstrap curl iproute2 util-linux >>"$W/apt.log" 2>&1 ||
		fail_log "$W/apt.log" "apt-get install"
	# contrib/debian/control's Build-Depends (apt reads ./contrib/debian).
	apt_get build-dep -y -qq "$top/contrib" >>"$W/apt.log" 2>&1 ||
		fail_log "$W/apt.log" "apt-get build-dep"
fi
for t in dpkg-buildpackage dh lintian rpmbuild curl; do
	command -v "$t" >/dev/null 2>&1 || fail "$t is missing (run as root to install it)"
done

# --- what the build makes ---------------------------------------------------
# The modules: every fragment modules/Makefile.am includes names its
# pkglib_LTLIBRARIES.
sed -n 's|^include \(modules/.*/Makefile\.am\)$|\1|p' "$top/modules/Makefile.am" |
	while read -r frag; do
		sed -n 's|^pkglib_LTLIBRARIES += .*/\([^/]*\)\.la$|\1.so|p' "$top/$frag"
	done | sort -u >"$W/modules.want"
[ -s "$W/modules.want" ] || fail "no module found in modules/Makefile.am"
# A build tree (quickstart.sh's build/) must agree.
if [ -d "$top/build/modules" ]; then
	find "$top/build/modules" -path '*/.libs/*.so' -exec basename {} \; |
		sort -u >"$W/modules.built"
	cmp -s "$W/modules.want" "$W/modules.built" ||
		fail "modules/Makefile.am lists $(tr '\n' ' ' <"$W/modules.want"), build/ has $(tr '\n' ' ' <"$W/modules.built")"
fi
echo "modules: $(tr '\n' ' ' <"$W/modules.want")"
roles="local split sidecar webhook shutdown-manager"
(cd "$top/include/contour" && ls ./*.h) | sed 's|^\./||' | sort >"$W/headers.want"

# --- .debs --------------------------------------------------------------------
step "building the .debs (contrib/build-deb.sh, nocheck)"
mkdir -p "$W/debs"
if [ -n "${DEBS:-}" ]; then
	echo "DEBS=$DEBS: not building"
	cp "$DEBS"/contour_*.deb "$DEBS"/contour-dev_*.deb "$W/debs/"
else
	# nocheck: ./quickstart.sh test already ran the whole suite on this tree.
	DEB_BUILD_OPTIONS="nocheck parallel=$jobs" OUTDIR="$W/debs" "$top/contrib/build-deb.sh" \
		>"$W/build-deb.log" 2>&1 || fail_log "$W/build-deb.log" "contrib/build-deb.sh"
fi
deb=$(ls "$W"/debs/contour_*.deb)
devdeb=$(ls "$W"/debs/contour-dev_*.deb)
ok "built $(basename "$deb") $(basename "$devdeb")"

step "lintian"
# Root is not recommended for lintian, but it only reads the .debs.
lintian --fail-on error "$deb" "$devdeb" >"$W/lintian.log" 2>&1 || lint_rc=$?
grep -v 'running with root privileges' "$W/lintian.log" || true
grep -q '^E:' "$W/lintian.log" && fail "lintian reports errors"
[ "${lint_rc:-0}" = 0 ] || fail "lintian exited ${lint_rc}"
ok "lintian: no errors ($(grep -c '^W:' "$W/lintian.log" || true) warnings)"

step "checking the .debs' contents"
dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' >"$W/deb.files"
dpkg-deb -c "$devdeb" | awk '{ print $NF }' | sed 's|^\./|/|' >"$W/devdeb.files"
sed -n 's|^/usr/lib/[^/]*/contour/\([^/]*\.so\)$|\1|p' "$W/deb.files" | sort >"$W/deb.modules"
cmp -s "$W/modules.want" "$W/deb.modules" ||
	fail "contour's modules: $(tr '\n' ' ' <"$W/deb.modules"), want $(tr '\n' ' ' <"$W/modules.want")"
{
	echo /usr/bin/contour
	echo /etc/contour/contour.yaml
	for r in $roles; do echo "/etc/contour/$r.yaml"; done
	echo /lib/systemd/system/contour.service
	echo /lib/systemd/system/contour@.service
	echo /usr/share/contour/examples/kuard.yaml
} >"$W/deb.want"
m=$(missing "$W/deb.want" "$W/deb.files")
[ -z "$m" ] || fail "contour lacks: $m"
# Every /etc file a conffile.
dpkg-deb -e "$deb" "$W/deb.control"
grep '^/etc/' "$W/deb.files" | grep -v '/$' >"$W/deb.etc"
m=$(missing "$W/deb.etc" "$W/deb.control/conffiles")
[ -z "$m" ] || fail "not conffiles: $m"
{
	sed 's|^|/usr/include/contour/|' "$W/headers.want"
	echo /usr/share/doc/contour-dev/examples/hello.c
	echo /usr/share/doc/contour-dev/examples/Makefile
	echo /usr/share/doc/contour-dev/examples/README.md
} >"$W/devdeb.want"
m=$(missing "$W/devdeb.want" "$W/devdeb.files")
[ -z "$m" ] || fail "contour-dev lacks: $m"
grep -q '^/usr/share/man/man1/contour\.1\.gz$' "$W/deb.files" || fail "contour lacks contour.1"
grep -q '^/usr/lib/[^/]*/pkgconfig/contour\.pc$' "$W/devdeb.files" ||
	fail "contour-dev lacks contour.pc"
ok "contour: $(wc -l <"$W/deb.modules") modules, $(wc -l <"$W/deb.etc") conffiles, both units, contour.1;" \
	"contour-dev: $(wc -l <"$W/headers.want") headers, contour.pc, the example module"

# --- RPMs -------------------------------------------------------------------
if [ -z "${RPMS:-}" ]; then
	step "make dist"
	if [ -f "$top/build/config.status" ]; then
		distdir=$top/build # quickstart.sh's build tree
	else
		[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi) >"$W/autoreconf.log" 2>&1 ||
			fail_log "$W/autoreconf.log" "autoreconf"
		distdir=$W/dist
		mkdir -p "$distdir"
		(cd "$distdir" && "$top/configure" -q) >"$W/configure.log" 2>&1 ||
			fail_log "$W/configure.log" "configure"
	fi
	rm -f "$distdir"/contour-*.tar.gz
	make -C "$distdir" dist >"$W/dist.log" 2>&1 || fail_log "$W/dist.log" "make dist"
	tarball=$(ls "$distdir"/contour-*.tar.gz)
	mv "$tarball" "$W/"
	tarball=$W/$(basename "$tarball")
	ok "$(basename "$tarball")"
fi

step "building the RPMs (rpmbuild -ta --nodeps --nocheck)"
# --nodeps: Debian's rpm database knows no BuildRequires; --nocheck: the
# suite already ran.
if [ -n "${RPMS:-}" ]; then
	echo "RPMS=$RPMS: not building"
	mkdir -p "$W/rpmbuild/RPMS"
	cp "$RPMS"/*.rpm "$W/rpmbuild/RPMS/"
else
	rpmbuild -ta --nodeps --nocheck --define "_topdir $W/rpmbuild" \
		--define "_smp_build_ncpus $jobs" "$tarball" >"$W/rpmbuild.log" 2>&1 ||
		fail_log "$W/rpmbuild.log" "rpmbuild -ta"
fi
rpm=$(find "$W/rpmbuild/RPMS" -name 'contour-[0-9]*.rpm')
devrpm=$(find "$W/rpmbuild/RPMS" -name 'contour-devel-[0-9]*.rpm')
if [ -z "$rpm" ] || [ -z "$devrpm" ]; then
	fail "rpmbuild made no contour and contour-devel RPMs"
fi
ok "built $(basename "$rpm") $(basename "$devrpm")"

step "checking the RPMs' contents and scriptlets"
rpm -qlp "$rpm" >"$W/rpm.files"
rpm -qlp "$devrpm" >"$W/devrpm.files"
sed -n 's|^/usr/lib.*/contour/\([^/]*\.so\)$|\1|p' "$W/rpm.files" | sort >"$W/rpm.modules"
cmp -s "$W/modules.want" "$W/rpm.modules" ||
	fail "contour RPM modules: $(tr '\n' ' ' <"$W/rpm.modules"), want $(tr '\n' ' ' <"$W/modules.want")"
sed 's|^/lib/systemd/system/|/usr/lib/systemd/system/|' "$W/deb.want" >"$W/rpm.want"
m=$(missing "$W/rpm.want" "$W/rpm.files")
[ -z "$m" ] || fail "contour RPM lacks: $m"
rpm -qp --configfiles "$rpm" >"$W/rpm.conf"
grep '^/etc/contour/.' "$W/rpm.files" >"$W/rpm.etc"
m=$(missing "$W/rpm.etc" "$W/rpm.conf")
[ -z "$m" ] || fail "not %config: $m"
grep -v '^/usr/share/doc/contour-dev/' "$W/devdeb.want" >"$W/devrpm.want"
m=$(missing "$W/devrpm.want" "$W/devrpm.files")
[ -z "$m" ] || fail "contour-devel lacks: $m"
for f in hello.c Makefile README.md; do
	grep -q "/doc/contour-devel[^/]*/$f\$" "$W/devrpm.files" || fail "contour-devel lacks the example's $f"
done
grep -q '/pkgconfig/contour\.pc$' "$W/devrpm.files" || fail "contour-devel lacks contour.pc"
grep -q '/man1/contour\.1' "$W/rpm.files" || fail "contour RPM lacks contour.1"
# With no systemd-rpm-macros, the spec's fallbacks must have expanded.
rpm -qp --scripts "$rpm" >"$W/rpm.scripts"
grep -q '%' "$W/rpm.scripts" && {
	cat "$W/rpm.scripts" >&2
	fail "an RPM scriptlet holds an unexpanded macro"
}
grep -q 'contour@' "$W/rpm.scripts" || fail "the RPM scriptlets leave contour@.service out"
ok "contour RPM: $(wc -l <"$W/rpm.modules") modules, $(wc -l <"$W/rpm.etc") %config files," \
	"both units, scriptlets expanded; contour-devel: headers, contour.pc, the example"

# --- the image, as a chroot ------------------------------------------------------
if [ "$is_root" != 1 ] || ! command -v mmdebstrap >/dev/null 2>&1; then
	skip "the root file system steps need root and mmdebstrap"
	step_end
	echo
	cat "$times"
	exit 0
fi

step "mmdebstrap --variant=minbase $suite"
# This machine's Debian sources (the .sources or sources.list naming
# bookworm); with none, mmdebstrap's default mirror.
set --
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
	[ -f "$f" ] && grep -qs "^[^#]*$suite" "$f" && grep -qs '^[^#]*debian' "$f" && set -- "$@" "$f"
done
if [ $# = 0 ]; then echo "apt sources: mmdebstrap's default"; else echo "apt sources: $*"; fi
mmdebstrap --variant=minbase --mode=root "$suite" "$root" "$@" </dev/null >"$W/mmdebstrap.log" 2>&1 ||
	fail_log "$W/mmdebstrap.log" "mmdebstrap"
ok "root file system in $root ($(du -sm "$root" | cut -f1) MB)"

step "the Containerfile's COPY and RUN instructions in the chroot"
mount --bind /dev "$root/dev"
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# Instructions, with continuation lines joined.
awk '/^[ \t]*#/ { next }
	{ line = line $0 }
	/\\$/ { sub(/\\$/, "", line); next }
	{ if (line != "") print line; line = "" }' "$containerfile" >"$W/instructions"
grep -q '^RUN ' "$W/instructions" || fail "no RUN instruction in $containerfile"
# COPY SRC... DEST from the build context: the .debs' folder stands for
# the top of the tree, where contrib/build-deb.sh leaves them.
copies=0
while read -r kw args; do
	case "$kw" in
	COPY)
		# shellcheck disable=SC2086
		set -- $args
		eval "dest=\${$#}"
		while [ $# -gt 1 ]; do
			# shellcheck disable=SC2086
			ls "$W"/debs/$1 >/dev/null 2>&1 || fail "COPY $1: nothing in the build context matches"
			mkdir -p "$root$dest"
			# shellcheck disable=SC2086
			cp "$W"/debs/$1 "$root$dest"
			copies=$((copies + 1))
			shift
		done
		;;
	RUN)
		echo "RUN $args"
		echo "$args" >"$W/run.sh"
		chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			/bin/sh -e <"$W/run.sh" >"$W/run.log" 2>&1 || fail_log "$W/run.log" "RUN $args"
		;;
	esac
done <"$W/instructions"
[ "$copies" -gt 0 ] || fail "the Containerfile copies no .deb"
chroot "$root" dpkg-query -W -f='${Status}\n' contour | grep -q 'install ok installed' ||
	fail "contour is not installed in the chroot"
[ -z "$(ls "$root/var/lib/apt/lists" 2>/dev/null | grep -v '^lock$\|^partial$' || true)" ] ||
	fail "the apt lists are left in the image"
ls "$root"/tmp/contour_*.deb >/dev/null 2>&1 && fail "the .deb is left in the image"
# Every library the binary and the modules need came in through Depends.
chroot "$root" sh -c 'ldd /usr/bin/contour /usr/lib/*/contour/*.so' >"$W/ldd.log" 2>&1 ||
	fail_log "$W/ldd.log" "ldd in the chroot"
grep 'not found' "$W/ldd.log" && fail "libraries missing in the chroot: the package's Depends lack them"
ok "contour installed by the Containerfile's RUN with $(chroot "$root" dpkg-query -W | wc -l) packages in all"

# The image's USER, ENTRYPOINT and CMD (exec form).
user=$(sed -n 's/^USER[ \t]*//p' "$W/instructions" | tail -n 1)
[ -n "$user" ] || fail "the Containerfile sets no USER"
case "$user" in 0 | 0:* | root | root:*) fail "the image runs as root ($user)" ;; esac
# The Containerfile's RUN made that user (a bare uid would run too).
chroot "$root" getent passwd "${user%%:*}" >/dev/null ||
	fail "USER $user: no such user in the image's /etc/passwd"
case "$user" in
*:*) chroot "$root" getent group "${user#*:}" >/dev/null ||
	fail "USER $user: no such group in the image's /etc/group" ;;
esac
exec_form() {
	sed -n "s/^$1[ \\t]*\\[\\(.*\\)\\][ \\t]*\$/\\1/p" "$W/instructions" | tail -n 1 |
		sed 's/"[ \t]*,[ \t]*"/\n/g; s/^[ \t]*"//; s/"[ \t]*$//'
}
exec_form ENTRYPOINT >"$W/entrypoint"
exec_form CMD >"$W/cmd"
[ -s "$W/entrypoint" ] || fail "no exec-form ENTRYPOINT in the Containerfile"
# As the image's user, with a bare environment.
as_user() {
	chroot --userspec="$user" "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/nonexistent "$@"
}

step "contour version, check-config, render, as $user"
as_user "$(cat "$W/entrypoint")" version >"$W/out" 2>&1 || fail_log "$W/out" "contour version"
cat "$W/out"
grep -q "^contour $(sed -n 's/^AC_INIT(\[contour\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac") " "$W/out" ||
	fail "contour version does not print AC_INIT's version"
n=0
for f in "$root"/etc/contour/*.yaml; do
	c=/etc/contour/$(basename "$f")
	as_user contour check-config "$c" >"$W/out" 2>&1 || fail_log "$W/out" "check-config $c"
	cat "$W/out"
	n=$((n + 1))
done
for r in $roles; do [ -f "$root/etc/contour/$r.yaml" ] || fail "no /etc/contour/$r.yaml"; done
examples=/usr/share/contour/examples
as_user contour render "$examples" >"$W/render.json" 2>"$W/render.err" ||
	fail_log "$W/render.err" "contour render $examples"
grep -q '"currentStatus": "valid"' "$W/render.json" ||
	fail "contour render $examples: no valid object ($(head -c 300 "$W/render.json"))"
as_user contour render --format dag --config /etc/contour/local.yaml "$examples" >"$W/dag.json" \
	2>"$W/render.err" || fail_log "$W/render.err" "contour render --format dag"
ok "version, check-config on $n configs, render of $examples"

step "the image's ENTRYPOINT and CMD: $(cat "$W/entrypoint" "$W/cmd" | tr '\n' ' ')"
if ! command -v unshare >/dev/null 2>&1 || ! unshare --net true 2>/dev/null; then
	skip "serve: no network namespace here (unshare --net)"
else
	# Its own network namespace: the ports cannot clash with this machine's.
	port=$(sed -n '/name: metrics/,/port:/s/^[ \t]*port:[ \t]*\([0-9]*\).*/\1/p' \
		"$root/etc/contour/local.yaml" | head -n 1)
	[ -n "$port" ] || fail "no metrics port in /etc/contour/local.yaml"
	kuard='^contour_httpproxy_valid{.*vhost="kuard.local"} 1'
	{
		echo 'set -u; ip link set lo up'
		printf 'chroot --userspec=%s %s /usr/bin/env -i PATH=/usr/bin:/bin HOME=/nonexistent' "$user" "$root"
		while read -r a; do printf " '%s'" "$a"; done <"$W/entrypoint"
		while read -r a; do printf " '%s'" "$a"; done <"$W/cmd"
		echo " >$W/serve.log 2>&1 &"
		echo 'pid=$!; up=0'
		# Up to 10s for the first routing graph (build-holdoff) to show.
		echo 'for i in $(seq 50); do'
		echo "	if curl -sf http://127.0.0.1:$port/metrics >$W/metrics 2>/dev/null; then"
		echo "		up=1; grep -q '$kuard' $W/metrics && break"
		echo '	fi'
		echo '	kill -0 $pid 2>/dev/null || break; sleep 0.2'
		echo 'done'
		echo "curl -sf http://127.0.0.1:$port/healthz >$W/healthz 2>/dev/null || up=0"
		echo 'kill -TERM $pid 2>/dev/null; wait $pid; rc=$?'
		echo '[ $up = 1 ] || exit 3'
		echo 'exit $rc'
	} >"$W/serve.sh"
	rc=0
	unshare --net sh "$W/serve.sh" || rc=$?
	[ "$rc" = 3 ] && fail_log "$W/serve.log" "serve did not answer on 127.0.0.1:$port"
	[ "$rc" = 0 ] || fail_log "$W/serve.log" "serve exited $rc after SIGTERM, want 0"
	# The local role's manifests are the installed examples: kuard is served.
	grep -q "$kuard" "$W/metrics" || {
		cat "$W/serve.log" >&2
		fail "serve on /etc/contour/local.yaml did not load $examples (no valid kuard.local)"
	}
	ok "serve answered /metrics and /healthz on 127.0.0.1:$port with kuard.local valid, and exited 0 on SIGTERM"
fi
step_end

echo
echo "times:"
cat "$times"
echo "$(($(date +%s) - total_t0))s  in all"
