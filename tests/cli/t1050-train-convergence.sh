#!/bin/sh
# shellcheck disable=SC1091,SC2016 # git-style test bodies are eval'd
# Softmax and logistic regression converge by default: the iteration
# budget scales with the width of the problem (100 Newton steps up to
# 400 unknowns, max(1000, unknowns) L-BFGS steps beyond), and when a
# budget set by hand runs out, the warning names the flag that fixes it.
test_description='train: the default iteration budget, and the warning'
. "$TEST_SRCDIR/cli/lib.sh"

test_expect_success 'setup: 4 classes x 207 inputs (L-BFGS)' '
	"$GEN" --rows 3000 --seed 11 --task multiclass --classes 4 \
		--numeric 199 --categorical 2 >wide.csv
'

# At --max-iter 100 (the old default) this stopped unconverged.
test_expect_success 'softmax over 4 x 207 converges by default' '
	"$MLOPS" train --data wide.csv --target y --exclude id -o m.json >out 2>err &&
	test_grep "converged after" out &&
	! grep "NOT converged" out &&
	test ! -s err &&
	"$MLOPS" --json train --data wide.csv --target y --exclude id -o m.json >out &&
	test_grep "\"converged\":true" out &&
	test_grep "\"max_iter\":[[:space:]]*1000," m.json
'

test_expect_success 'out of iterations: a warning naming --max-iter, exit 0' '
	"$MLOPS" train --data wide.csv --target y --exclude id --max-iter 20 \
		-o m.json >out 2>err &&
	test_one_line err &&
	test_grep "did not converge in 20 iterations; raise --max-iter (e.g. --max-iter 80)" err &&
	test_grep "NOT converged after 20 iterations" out
'

test_expect_success '--max-iter below 1 is a usage error' '
	test_expect_code 2 "$MLOPS" train --data wide.csv --target y --exclude id \
		--max-iter 0 -o m.json 2>err &&
	test_one_line err &&
	test_grep "max-iter must be at least 1" err
'

test_expect_success 'a narrow model keeps the Newton budget of 100' '
	"$GEN" --rows 500 --seed 2 --task binary >narrow.csv &&
	"$MLOPS" -q train --data narrow.csv --target y --exclude id -o n.json &&
	test_grep "\"max_iter\":[[:space:]]*100," n.json
'

test_done
