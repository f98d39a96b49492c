#!/bin/sh
# contrib/build-deb.sh: build the contour and contour-dev .debs.
#
# Copies the files of this tree that git does not ignore, as they are now, to
# a scratch folder, puts contrib/debian there as ./debian and runs
# dpkg-buildpackage -b -us -uc. The source tree is never written to. The
# .deb, .buildinfo and .changes files land in $OUTDIR (default: the current
# folder). Extra arguments go to dpkg-buildpackage; DEB_BUILD_OPTIONS is
# honoured (nocheck skips `make check`, parallel=N speeds it up).
#
# Needs: debhelper dpkg-dev fakeroot and the Build-Depends of
# contrib/debian/control (dpkg-checkbuilddeps lists what is missing).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
outdir=$(cd "${OUTDIR:-.}" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/contour-deb-XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# dpkg-buildpackage writes its results beside the source folder, so the
# tree gets a folder of its own inside the scratch one.
src="$scratch/contour"
mkdir -p "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	# Tracked and new files, not ignored ones: no build outputs, no in-tree
	# configure leftovers. A tracked file deleted in the work tree is skipped.
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 tar -cf - --no-recursion --ignore-failed-read 2>/dev/null) |
		tar -xf - -C "$src"
else
	tar -cf - -C "$top" --exclude=.git --exclude='*.o' --exclude='*.lo' \
		--exclude=.libs --exclude=autom4te.cache --exclude=config.status . |
		tar -xf - -C "$src"
fi
rm -rf "$src/debian"
cp -R "$top/contrib/debian" "$src/debian"

(cd "$src" && dpkg-buildpackage -b -us -uc "$@")

for f in "$scratch"/*.deb "$scratch"/*.buildinfo "$scratch"/*.changes; do
	[ -e "$f" ] && cp "$f" "$outdir/" && echo "built: $outdir/$(basename "$f")"
done
