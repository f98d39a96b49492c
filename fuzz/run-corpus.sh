#!/bin/sh
# fuzz/run-corpus.sh: replay every seed corpus through its fuzz target.
# fuzz/corpus/NAME/ belongs to the target fuzz/fuzz_NAME (built by
# `make check` with fuzz/replay.c); a corpus without its target fails,
# unless $FUZZ_SKIP names it (a target of a module configure left out).
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
status=0
found=0
for dir in "$srcdir"/fuzz/corpus/*/; do
	[ -d "$dir" ] || continue
	name=$(basename "$dir")
	bin="$builddir/fuzz/fuzz_$name"
	found=$((found + 1))
	case " ${FUZZ_SKIP:-} " in
	*" $name "*)
		echo "run-corpus: fuzz_$name skipped: its module is disabled (configure --disable-module-...)"
		continue
		;;
	esac
	if [ ! -x "$bin" ]; then
		echo "run-corpus: $bin not built" >&2
		status=1
		continue
	fi
	"$bin" "$dir" || { echo "run-corpus: fuzz_$name failed" >&2; status=1; }
done
if [ "$found" -eq 0 ]; then
	echo "run-corpus: no corpus under $srcdir/fuzz/corpus" >&2
	status=1
fi
exit $status
