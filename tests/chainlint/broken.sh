#!/bin/sh
# Sample test bodies with broken && chains, for t0001-chainlint.sh: the
# linter must report exactly the lines in broken.expected.

test_expect_success 'a middle command without &&' '
	mkdir a &&
	cd a
	touch b &&
	test -f b
'

test_expect_success 'inside a subshell, a group and an if' '
	(
		cd a
		touch c
	) &&
	{ touch d; touch e; } &&
	if test -f d
	then
		rm d
		rm e
	fi
	test -f c
'

test_expect_success 'a loop without || return 1, a case arm, a pipeline' '
	for f in a b; do
		test -e $f
	done &&
	while read x; do
		echo $x ||
		return 1
	done <list &&
	case $x in
	a) echo one
	   echo two ;;
	*) echo three ;;
	esac &&
	sort list |
	uniq >out
	cat out
'

test_expect_success EXAMPLE_PREREQ '"title with quotes" and a prerequisite' '
	echo one >x &&
	echo two >>x
	test_cmp x y
'
