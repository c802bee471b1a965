#!/bin/sh
test_description='the example lifecycle runs end to end with its documented exit codes'
. "$TEST_SRCDIR/cli/lib.sh"

test_expect_success 'examples/lifecycle.sh walks the whole lifecycle' '
	mkdir demo && cd demo &&
	MLOPS="$MLOPS" GEN="$GEN" ROWS=3000 sh "$TEST_SRCDIR/../examples/lifecycle.sh" >log 2>&1 ||
	{ cat log; exit 1; }
	test_grep "all .* steps exited as documented" log
'

test_expect_success 'production ends where the rollback put it' '
	cd demo &&
	"$MLOPS" --json show churn@production >show &&
	test_grep "\"version\":1" show
'

test_expect_success 'the ledger holds the three moves with reasons' '
	cd demo &&
	"$MLOPS" history churn@production >hist &&
	test "$(grep -c "production" hist)" -ge 3 &&
	test_grep "beats champion" hist &&
	test_grep "rollback" hist
'

test_done
