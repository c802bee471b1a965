#!/bin/sh
test_description='mlops validate: metrics, gates, champion/challenger'
. "$TEST_SRCDIR/cli/lib.sh"

test_expect_success 'setup: a champion on two features, a challenger on all' '
	"$GEN" --rows 3000 --seed 11 --task binary --numeric 4 --categorical 1 --signal 2 >train.csv &&
	"$GEN" --rows 1000 --seed 12 --task binary --numeric 4 --categorical 1 --signal 2 >holdout.csv &&
	"$MLOPS" init >/dev/null &&
	"$MLOPS" -q train --data train.csv --target y --features x3,x4 --register churn &&
	"$MLOPS" -q train --data train.csv --target y --exclude id --register churn -o challenger.json
'

test_expect_success 'a passing gate exits 0 and prints the metrics' '
	"$MLOPS" validate churn:2 --data holdout.csv --min auc=0.6 >out &&
	test_grep "auc" out &&
	test_grep "verdict: pass" out
'

test_expect_success 'a failing gate exits 3 with one stderr line' '
	test_expect_code 3 "$MLOPS" validate churn:2 --data holdout.csv --min auc=0.999 >out 2>err &&
	test_one_line err &&
	test_grep "gate failed: auc" err
'

test_expect_success '--max gates a lower-is-better metric' '
	test_expect_code 3 "$MLOPS" validate churn:2 --data holdout.csv --max logloss=0.01 2>err &&
	test_grep "logloss" err
'

test_expect_success 'the challenger beats the champion on the same rows' '
	"$MLOPS" validate churn:2 --data holdout.csv --against churn:1 --min-delta auc=0.01 >out &&
	test_grep "^  auc  *[0-9.]*  *[0-9.]*  *+0\.[0-9]*$" out &&
	test_grep "^  pass  min-delta  auc " out &&
	test_grep "^verdict: pass$" out
'

test_expect_success 'the champion does not beat the challenger' '
	test_expect_code 3 "$MLOPS" validate churn:1 --data holdout.csv --against churn:2 --min-delta auc=0 2>err &&
	test_grep "min-delta" err
'

test_expect_success '--json prints one object with the gates and the verdict' '
	test_expect_code 3 "$MLOPS" --json validate churn:2 --data holdout.csv --min auc=0.999 >out 2>/dev/null &&
	test "$(wc -l <out)" = 1 &&
	test_grep "\"schema\":1" out &&
	test_grep "\"gates\":\[{\"metric\":\"auc\",\"rule\":\"min\",\"threshold\":0.999,\"value\":0\.[0-9]*,\"passed\":false}\]" out &&
	test_grep "\"passed\":false,\"run\":" out
'

test_expect_success 'validation results are recorded as runs' '
	"$MLOPS" --json runs >runs &&
	test_grep "validate" runs
'

test_expect_success 'an unknown metric is a usage error (2)' '
	test_expect_code 2 "$MLOPS" validate churn:2 --data holdout.csv --min rmse=1 2>err &&
	test_one_line err
'

test_expect_success '--min-delta without --against is a usage error' '
	test_expect_code 2 "$MLOPS" validate churn:2 --data holdout.csv --min-delta auc=0.1 2>err &&
	test_one_line err &&
	test_grep "against" err
'

test_expect_success 'latency and size gates' '
	"$MLOPS" validate churn:2 --data holdout.csv --max-latency-us 100000 --max-size 100000000 >/dev/null &&
	test_expect_code 3 "$MLOPS" validate churn:2 --data holdout.csv --max-size 10 2>err &&
	test_grep "bytes" err
'

test_expect_success 'an unknown model exits 1 with one line' '
	test_expect_code 1 "$MLOPS" validate nosuch --data holdout.csv 2>err &&
	test_one_line err &&
	test_grep "nosuch" err
'

test_expect_success 'an unset stage exits 1 with one line' '
	test_expect_code 1 "$MLOPS" validate churn@production --data holdout.csv 2>err &&
	test_one_line err &&
	test_grep "production" err
'

test_expect_success 'data without the target exits 5' '
	cut -d, -f1-6 holdout.csv >notarget.csv &&
	test_expect_code 5 "$MLOPS" validate challenger.json --data notarget.csv 2>err &&
	test_one_line err &&
	test_grep "target" err
'

test_expect_success 'a label the model never saw exits 5 with its line' '
	sed "3s/,[01]\$/,maybe/" holdout.csv >badlabel.csv &&
	test_expect_code 5 "$MLOPS" validate challenger.json --data badlabel.csv 2>err &&
	test_one_line err &&
	test_grep "line 3" err
'

test_done
