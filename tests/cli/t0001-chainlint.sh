#!/bin/sh
# shellcheck disable=SC1091,SC2016 # git-style test bodies are eval'd
# The test suite checks itself: lib.sh fails a body on its first failing
# command and skips a test whose tool is missing, chainlint.pl finds a
# broken && chain, and every test body of tests/cli chains its commands
# (one "not ok" per broken chain, naming file and line).
test_description='test bodies fail on their first failing command and chain with &&'
. "$TEST_SRCDIR/cli/lib.sh"

CHAINLINT=$TEST_SRCDIR/cli/chainlint.pl
SAMPLES=$TEST_SRCDIR/chainlint

# lib_script NAME BODY...: a test script NAME.sh running one test per
# BODY through lib.sh, titled "test 1", "test 2", ...
lib_script() {
	name=$1
	shift
	{
		echo '. "$TEST_SRCDIR/cli/lib.sh"'
		n=0
		for body in "$@"; do
			n=$((n + 1))
			printf "test_expect_success 'test %d' '\n%s\n'\n" $n "$body"
		done
		echo test_done
	} >"$name.sh"
}

test_expect_success 'a failing command in the middle of a body, not chained, is not ok' '
	lib_script middle "	true
	false
	echo after-the-failure" &&
	for sh in sh bash; do
		test_expect_code 1 $sh middle.sh >tap &&
		test_grep "^not ok 1 - test 1$" tap &&
		! grep "^#	after-the-failure$" tap &&
		test_grep "^1\.\.1$" tap || return 1
	done
'

test_expect_success 'a failing command in a chain, a group or test_expect_code is not ok' '
	lib_script chained "	true &&
	false &&
	true" "	{ false; } &&
	true" "	test_expect_code 2 false" "	test_expect_code 1 false &&
	true" &&
	for sh in sh bash; do
		test_expect_code 1 $sh chained.sh >tap &&
		test_grep "^not ok 1 - test 1$" tap &&
		test_grep "^not ok 2 - test 2$" tap &&
		test_grep "^not ok 3 - test 3$" tap &&
		test_grep "^ok 4 - test 4$" tap || return 1
	done
'

test_expect_success 'a test needing a missing tool is a SKIP, not a pass' '
	cat >prereq.sh <<-\EOF &&
	. "$TEST_SRCDIR/cli/lib.sh"
	test_lazy_prereq NEVER "false"
	test_set_prereq ALWAYS
	test_expect_success NO_SUCH_TOOL_MLOPS "needs a tool" "false"
	test_expect_success NEVER "needs a lazy prerequisite" "false"
	test_expect_success ALWAYS,SH "has both" "true"
	test_expect_success !ALWAYS "wants it absent" "false"
	test_expect_success ALWAYS "runs and fails" "false"
	test_done
	EOF
	test_expect_code 1 sh prereq.sh >tap &&
	cat >expect <<-\EOF &&
	ok 1 - needs a tool # SKIP missing no_such_tool_mlops
	ok 2 - needs a lazy prerequisite # SKIP missing NEVER
	ok 3 - has both
	ok 4 - wants it absent # SKIP ALWAYS present
	not ok 5 - runs and fails
	EOF
	grep "ok" tap >actual &&
	test_cmp expect actual
'

test_expect_success "automake's TAP driver counts a skipped test as SKIP" '
	grep -v "runs and fails" prereq.sh >skip.sh &&
	AM_TAP_AWK=${AWK:-awk} sh "$TOP_SRCDIR/build-aux/tap-driver.sh" \
		--test-name skip.sh --log-file skip.log --trs-file skip.trs \
		--color-tests no --enable-hard-errors yes --expect-failure no \
		-- sh skip.sh >driver.out &&
	grep "^:test-result:" skip.trs >results &&
	printf ":test-result: %s\n" SKIP SKIP PASS SKIP >expect &&
	test_cmp expect results &&
	test_grep "^:global-test-result: PASS" skip.trs
'

test_expect_success PERL 'chainlint reports each broken chain with file and line' '
	(cd "$SAMPLES" && test_expect_code 1 perl "$CHAINLINT" broken.sh) >actual &&
	test_cmp "$SAMPLES/broken.expected" actual
'

test_expect_success PERL 'chainlint accepts correct chains in every construct' '
	(cd "$SAMPLES" && perl "$CHAINLINT" clean.sh) >actual &&
	test_cmp /dev/null actual
'

test_expect_success PERL 'chainlint says where it cannot parse a body' '
	printf "%s\n" "test_expect_success \"x\" \"" "	if true; then" \
		"	echo" "\"" >bad.sh &&
	test_expect_code 2 perl "$CHAINLINT" bad.sh >actual &&
	test_grep "^bad.sh:4: cannot parse the test body: expected .fi." actual
'

# Every test body of the suite: one "ok" per clean file, one "not ok" per
# broken chain, titled FILE:LINE: what is wrong: the source line.
if test_have_prereq PERL; then
	(cd "$TEST_SRCDIR/.." && perl tests/cli/chainlint.pl tests/cli/t*.sh) \
		>lint 2>&1
	lint_rc=$?
	for f in $(cd "$TEST_SRCDIR/.." && ls tests/cli/t*.sh); do
		if ! grep -q "^$f:" lint; then
			test_ok_ "$f: every test body chains its commands"
			continue
		fi
		grep "^$f:" lint >problems
		while IFS= read -r problem; do
			test_failure_ "$problem" \
				"end the line with && (a loop body's last command with || return 1)"
		done <problems
	done
	if test "$lint_rc" -gt 1 || grep -v "^tests/cli/t[^:]*\.sh:[0-9]*: " lint >other; then
		test_failure_ "chainlint.pl ran cleanly (exit $lint_rc)" "$(cat lint)"
	fi
else
	test_skip "every test body chains its commands" "missing perl"
fi

test_done
