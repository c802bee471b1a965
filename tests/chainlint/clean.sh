#!/bin/sh
# Sample test bodies that chain correctly, using every construct the
# linter must accept; t0001-chainlint.sh expects no report.

helper() {
	# Functions outside test bodies are not linted.
	cd "$1"
	ls
}

test_expect_success 'quotes, here-docs, comments and continuations' '
	# a comment line; an apostrophe in it'\''s fine
	cat >spec <<-\EOF &&
	a line; with a semicolon
	another line
	EOF
	cat >raw <<EOF &&
	  not indented EOF
EOF
	awk "BEGIN {
		x = 1; y = 2
	}" </dev/null &&
	v=$(echo one
	    echo two) &&
	long command with a \
		continued line &&
	echo "it'\''s" "$v" ${v#o} `echo bq` >out 2>&1 &&
	test_cmp spec out
'

test_expect_success 'groups, loops, case, background and explicit failure' '
	(
		cd sub &&
		run
	) &&
	{ run || :; } &&
	for i in 1 2 3
	do
		run $i &&
		check $i || return 1
	done &&
	while read a b; do
		test "$a" = x || { echo "bad $a"; return 1; }
	done <in &&
	for p in 1 2; do
		worker $p &
	done &&
	case $x in
	a|b) run a ;;
	(c) run c
	    ;;
	*)
		run other &&
		check other
		;;
	esac &&
	if test -e f; then
		run f
	elif test -e g
	then
		run g
	else
		run h
	fi &&
	server &
	pid=$! &&
	! grep pattern file &&
	run | sort |
		uniq >out &&
	test_expect_code 3 run 2>err || exit 1
	cleanup 2>/dev/null || :
	kill $pid || true
	for c in a b; do run $c || exit 1; done
	f() { echo "$1"; } &&
	f x
'

test_expect_success PREREQ "a prerequisite and a double-quoted title" '
	true
'

test_expect_success 'bash: process substitution, here-strings, arithmetic' '
	diff <(sort a) <(sort b) >out &&
	cat <<<"a here-string" >x &&
	run &>log &&
	for ((i = 0; i < 3; i++)); do
		run $i || return 1
	done &&
	((n = 1 + 2)) &&
	[[ $n == 3 ]] &&
	cat <<-EOF | sort >y &&
	b
	a
	EOF
	run
'

test_expect_success "a double-quoted body" "
	echo \"one\" &&
	echo two
"
