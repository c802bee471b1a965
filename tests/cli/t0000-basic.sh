#!/bin/sh
test_description='global options, help, version and exit codes of the dispatcher'
. "$TEST_SRCDIR/cli/lib.sh"

test_expect_success '--version prints the version' '
	"$MLOPS" --version >out &&
	test_grep "^mlops [0-9]" out
'

test_expect_success '--help lists every command with examples first' '
	"$MLOPS" --help >out &&
	head -3 out | test_grep "^Examples:$" - &&
	test "$(grep -n "^  mlops " out | head -1 | cut -d: -f1)" -lt \
		"$(grep -n "^usage: " out | cut -d: -f1)" &&
	for c in train validate register promote rollback score-batch drift init list show history runs verify completion; do
		test_grep "^  $c " out || exit 1
	done
'

test_expect_success 'no command is a usage error (2)' '
	test_expect_code 2 "$MLOPS" 2>err &&
	test_grep "usage:" err
'

test_expect_success 'an unknown command exits 2 with one line' '
	test_expect_code 2 "$MLOPS" frobnicate 2>err &&
	test_one_line err &&
	test_grep "not a command" err
'

test_expect_success 'an unknown global option exits 2 naming it' '
	test_expect_code 2 "$MLOPS" --frob train 2>err &&
	head -1 err >first &&
	echo "mlops: unknown option '\''--frob'\''" >expect &&
	test_cmp expect first
'

test_expect_success 'every command has --help with examples and usage, exit 0' '
	for c in train validate register promote rollback score-batch drift init list show history runs verify completion; do
		"$MLOPS" $c --help >out || exit 1
		test_grep "^Examples:" out || exit 1
		test_grep "^Usage: mlops $c" out || exit 1
	done
'

test_expect_success 'mlops help CMD is CMD --help' '
	"$MLOPS" help train >a &&
	"$MLOPS" train --help >b &&
	test_cmp a b
'

test_expect_success '--help works outside a repository for registry commands' '
	"$MLOPS" promote --help >out &&
	test_grep "Usage: mlops promote" out
'

test_expect_success 'a bad flag exits 2 with one stderr line' '
	test_expect_code 2 "$MLOPS" train --bogus 2>err &&
	test_one_line err &&
	test_grep "^mlops train: unknown option .--bogus." err
'

test_expect_success 'a flag missing its value exits 2' '
	test_expect_code 2 "$MLOPS" train --data 2>err &&
	test_one_line err
'

test_expect_success 'a bad --color value exits 2 with one line' '
	test_expect_code 2 "$MLOPS" --color=sometimes list 2>err &&
	test_one_line err &&
	test_grep "sometimes" err
'

test_expect_success 'registry commands outside a repository exit 1 with one line' '
	test_expect_code 1 "$MLOPS" list 2>err &&
	test_one_line err &&
	test_grep "not an mlops repository" err
'

test_expect_success '-C runs in another folder' '
	mkdir sub &&
	"$MLOPS" -C sub init >/dev/null &&
	test -d sub/.mlops &&
	"$MLOPS" -C sub list >/dev/null
'

test_expect_success '-C to a missing folder exits 1' '
	test_expect_code 1 "$MLOPS" -C nowhere list 2>err &&
	test_one_line err
'

test_done
