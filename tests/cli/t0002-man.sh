#!/bin/sh
# shellcheck disable=SC1091,SC2016,SC2034 # git-style test bodies are eval'd
# Man pages: one per command, clean under mandoc's linter, and each
# SYNOPSIS the same words as the command's --help "Usage:" lines.
test_description='man pages lint clean and match --help'
. "$TEST_SRCDIR/cli/lib.sh"

MAN=$TOP_SRCDIR/man
BS=$(printf '\b')

# words: squeeze blanks and newlines to single spaces, trim the ends.
words() {
	tr -s ' \t\n' '   ' | sed -e 's/^ //' -e 's/ $//'
}

# man_synopsis PAGE: the SYNOPSIS section as rendered, as one line.
man_synopsis() {
	"$MANDOC" -Tascii -O width=1000 "$1" | sed "s/.$BS//g" |
		awk '/^SYNOPSIS$/ { on = 1; next } /^[^ ]/ { on = 0 } on' |
		words
}

# help_usage CMD: the "Usage:" lines of `mlops CMD --help` as one line.
help_usage() {
	"$MLOPS" "$1" --help >help.out &&
	sed -n '/^Usage:/,/^$/p' help.out | sed 's/^Usage://' | words
}

test_expect_success 'every command has a man page, every page a command' '
	"$MLOPS" __complete commands | sed "s/.*/mlops-&.1/" >expect &&
	echo mlops.1 >>expect &&
	(cd "$MAN" && ls mlops*.1) >actual &&
	sort -o expect expect &&
	sort -o actual actual &&
	test_cmp expect actual
'

if test -z "${MANDOC:-}"; then
	for page in "$MAN"/mlops*.1 "$MAN"/mlops*.7; do
		test_skip "$(basename "$page") is lint clean" "mandoc not found"
	done
	test_skip "SYNOPSIS matches --help" "mandoc not found"
	test_done
	exit
fi

for page in "$MAN"/mlops*.1 "$MAN"/mlops*.7; do
	name=$(basename "$page")
	test_expect_success "$name is lint clean" '
		"$MANDOC" -Tlint -Wwarning "$page" >lint 2>&1 &&
		test_cmp /dev/null lint
	'
done

test_expect_success 'mlops.1 SYNOPSIS matches mlops --help' '
	"$MLOPS" --help | sed -n "s/^usage: //p" | words >expect &&
	man_synopsis "$MAN/mlops.1" >actual &&
	test_cmp expect actual
'

for cmd in $("$MLOPS" __complete commands); do
	test_expect_success "mlops-$cmd.1 SYNOPSIS matches mlops $cmd --help" '
		help_usage "$cmd" >expect &&
		test -s expect &&
		man_synopsis "$MAN/mlops-$cmd.1" >actual &&
		test_cmp expect actual
	'
done

test_done
