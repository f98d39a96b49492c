#!/bin/sh
# contrib/man/gen-man.sh CONTOUR DIR: contour(1) on stdout, built from the
# help the program prints (`contour help`, `contour help CMD`, a module
# command's sub-commands, `contour serve --help`) between DIR/contour.1.head
# and DIR/contour.1.tail. CONTOUR_MODULE_PATH must reach the modules. Nothing
# of the build machine goes in: no date, $HOME and the module folder masked.
set -eu
contour=$1
dir=$2
HOME='$HOME'
export HOME

# Help text as a no-fill troff block: backslashes and minus signs escaped,
# control characters at a line start neutralised, the module folder masked.
block() {
	printf '.nf\n'
	sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" \
		-e 's/(compiled\\-in folder: .*)/(compiled\\-in folder: the package'"'"'s module folder)/'
	printf '.fi\n'
}

# The command names of a help text's "Commands" sections.
commands() {
	awk '/^Commands/ { on = 1; next } /^[^ ]/ || /^$/ { on = 0 }
	     on && /^  [a-z]/ { print $1 }'
}

version=$("$contour" version | sed -n 's/^contour \([^ ]*\).*/\1/p')
sed "s/@VERSION@/$version/" "$dir/contour.1.head"

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
printf '.SH COMMANDS\n'
"$contour" help | commands | while read -r cmd; do
	printf '.SS contour %s\n' "$cmd"
	"$contour" help "$cmd" >"$tmp"
	block <"$tmp"
	# A module command with sub-commands (contour envoy shutdown ...).
	commands <"$tmp" | while read -r sub; do
		printf '.SS contour %s %s\n' "$cmd" "$sub"
		"$contour" help "$cmd" "$sub" | block
	done
done

printf '.SH OPTIONS\n'
"$contour" help | sed -n '/^Flags/,/^$/p' | block
cat "$dir/contour.1.tail"
