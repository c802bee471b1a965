#!/bin/sh
test_description='mlops drift: per-feature tests and the verdict'
. "$TEST_SRCDIR/cli/lib.sh"

test_expect_success 'setup: a model and three weeks of data' '
	"$GEN" --rows 5000 --seed 31 --task binary --numeric 4 --categorical 2 >train.csv &&
	"$GEN" --rows 5000 --seed 32 --task binary --numeric 4 --categorical 2 >same.csv &&
	"$GEN" --rows 5000 --seed 33 --task binary --numeric 4 --categorical 2 --shift x1=0.5 --scale x2=1.5 --mix c1 >drifted.csv &&
	"$MLOPS" -q train --data train.csv --target y --exclude id -o m.json
'

test_expect_success 'data like the training data: no drift, exit 0' '
	"$MLOPS" drift m.json -i same.csv >out &&
	test_grep "verdict: no drift" out
'

test_expect_success 'shifted data: exactly the changed features drift, exit 3' '
	test_expect_code 3 "$MLOPS" drift m.json -i drifted.csv >out 2>err &&
	test_one_line err &&
	test_grep "drift detected" err &&
	test_grep "^  x1 .*DRIFT" out &&
	test_grep "^  x2 .*DRIFT" out &&
	test_grep "^  c1 .*DRIFT" out &&
	test_grep "^  x3 .*ok" out &&
	test_grep "^  x4 .*ok" out &&
	test_grep "^  c2 .*ok" out
'

test_expect_success '--exit-zero reports but exits 0' '
	"$MLOPS" drift m.json -i drifted.csv --exit-zero >out &&
	test_grep "verdict: DRIFT" out
'

test_expect_success 'every method: exit 3 on the shifted file, 0 on a fresh one, the right columns' '
	for m in psi ks wasserstein chi2 js; do
		"$MLOPS" drift m.json -i same.csv --method $m >out &&
		test_grep "verdict: no drift" out &&
		test_expect_code 3 "$MLOPS" drift m.json -i drifted.csv --method $m >out 2>err &&
		test_one_line err &&
		test_grep "^  x1 .*DRIFT" out &&
		test_grep "^  c1 .*DRIFT" out &&
		test_grep "^  x3 .*ok" out &&
		test_grep "^  c2 .*ok" out || exit 1
	done &&
	"$MLOPS" drift m.json -i drifted.csv --method ks --exit-zero >out &&
	test_grep "^  x1 .*ks .*DRIFT" out &&
	test_grep "^  x2 .*ks .*DRIFT" out &&
	"$MLOPS" drift m.json -i drifted.csv --method wasserstein --exit-zero >out &&
	test_grep "^  x2 .*wasserstein .*DRIFT" out &&
	"$MLOPS" drift m.json -i drifted.csv --method chi2 --exit-zero >out &&
	test_grep "^  c1 .*chi2 .*DRIFT" out &&
	"$MLOPS" drift m.json -i drifted.csv --method js --exit-zero >out &&
	test_grep "^  c1 .*js .*DRIFT" out
'

test_expect_success 'the human table is pinned' '
	"$MLOPS" drift m.json -i drifted.csv --exit-zero >out &&
	test_cmp "$TEST_SRCDIR/data/drift-table.expected" out
'

test_expect_success 'a column whose values are all missing exits 5, no NaN' '
	awk -F, -v OFS=, "NR > 1 { \$2 = \"\" } { print }" same.csv >nox.csv &&
	test_expect_code 5 "$MLOPS" drift m.json -i nox.csv >out 2>err &&
	test_one_line err &&
	test_grep "x1" err &&
	test_expect_code 5 "$MLOPS" --json drift m.json -i nox.csv >out 2>err &&
	test_one_line err &&
	! test -s out &&
	test_expect_code 5 "$MLOPS" drift m.json -i same.csv --reference nox.csv >out 2>err &&
	test_one_line err &&
	test_grep "reference" err
'

test_expect_success 'a reference with one row exits 5' '
	head -2 train.csv >one.csv &&
	test_expect_code 5 "$MLOPS" drift m.json -i same.csv --reference one.csv >out 2>err &&
	test_one_line err &&
	test_grep "1 row" err
'

test_expect_success 'a file with no rows exits 5, as current or as reference' '
	head -1 train.csv >empty.csv &&
	test_expect_code 5 "$MLOPS" drift m.json -i empty.csv >out 2>err &&
	test_one_line err &&
	test_grep "no rows" err &&
	test_expect_code 5 "$MLOPS" --json drift m.json -i same.csv --reference empty.csv >out 2>err &&
	test_one_line err &&
	! test -s out
'

test_expect_success 'no NaN or Infinity anywhere in --json, constant columns included' '
	awk -F, -v OFS=, "NR > 1 { \$3 = 1 } { print }" same.csv >const.csv &&
	"$MLOPS" --json drift m.json -i const.csv --reference const.csv --exit-zero >out &&
	"$MLOPS" --json drift m.json -i const.csv --exit-zero >>out &&
	! grep -i "nan\|inf" out
'

test_expect_success '--reference compares two files' '
	"$MLOPS" drift m.json -i same.csv --reference train.csv >out &&
	test_grep "verdict: no drift" out &&
	test_expect_code 3 "$MLOPS" drift m.json -i drifted.csv --reference train.csv >out 2>/dev/null
'

test_expect_success '--json prints one object per run' '
	test_expect_code 3 "$MLOPS" --json drift m.json -i drifted.csv >out 2>/dev/null &&
	test "$(wc -l <out)" = 1 &&
	test_grep "\"schema\":1" out &&
	test_grep "\"drift\":true" out
'

test_expect_success 'drift --runs compares recorded scoring runs without the files' '
	"$MLOPS" init >/dev/null &&
	"$MLOPS" -q train --data train.csv --target y --exclude id --register churn &&
	"$MLOPS" score-batch churn:1 -i same.csv -o s1.csv &&
	"$MLOPS" score-batch churn:1 -i drifted.csv -o s2.csv &&
	test_expect_code 3 "$MLOPS" drift churn:1 --runs 2 >out 2>err &&
	test_one_line err &&
	test_grep "^  x1 .*[0-9]  *[0-9.]*\*" out &&
	"$MLOPS" --json drift churn:1 --runs 2 --exit-zero >out &&
	test "$(wc -l <out)" = 2 &&
	head -1 out | test_grep "\"drift\":false" - &&
	tail -1 out | test_grep "\"drift\":true" -
'

test_expect_success 'drift --runs of a version never scored exits 1' '
	"$MLOPS" -q train --data same.csv --target y --exclude id --register churn &&
	test_expect_code 1 "$MLOPS" drift churn:2 --runs 3 2>err &&
	test_one_line err
'

test_expect_success 'a missing feature column exits 5' '
	cut -d, -f1,3- same.csv >nox1.csv &&
	test_expect_code 5 "$MLOPS" drift m.json -i nox1.csv 2>err &&
	test_one_line err &&
	test_grep "x1" err
'

test_expect_success 'a bad method is a usage error' '
	test_expect_code 2 "$MLOPS" drift m.json -i same.csv --method magic 2>err &&
	test_one_line err
'

test_expect_success 'a missing input file exits 1' '
	test_expect_code 1 "$MLOPS" drift m.json -i nope.csv 2>err &&
	test_one_line err
'

test_expect_success 'data-quality signals: missing values, unseen categories, out of range' '
	awk -F, -v OFS=, "NR > 1 && NR % 5 == 0 { \$3 = \"\" } { print }" same.csv >holes.csv &&
	test_expect_code 3 "$MLOPS" drift m.json -i holes.csv >out 2>err &&
	test_one_line err &&
	test_grep "data-quality" err &&
	test_grep "^  x2 .*MISSING" out &&
	test_grep "^  x1 .*ok\$" out &&
	awk -F, -v OFS=, "NR > 1 && NR % 4 == 0 { \$6 = \"zzz\" } { print }" same.csv >unseen.csv &&
	test_expect_code 3 "$MLOPS" --json drift m.json -i unseen.csv >out 2>/dev/null &&
	test_grep "\"signals\":\[\"unseen\"\]" out &&
	test_grep "\"quality_signals\":1" out &&
	awk -F, -v OFS=, "NR > 1 && NR % 4 == 0 { \$5 = 1000 } { print }" same.csv >far.csv &&
	"$MLOPS" drift m.json -i far.csv --exit-zero >out &&
	test_grep "^  x4 .*out of range 2[0-9.]*% .*RANGE" out &&
	"$MLOPS" drift m.json -i same.csv >out &&
	! grep "MISSING\|UNSEEN\|RANGE" out
'

test_expect_success 'score-batch run profiles round-trip: --runs gives what -i gives, exact grids too' '
	mkdir rt &&
	(
		cd rt &&
		"$MLOPS" init >/dev/null &&
		sh "$TEST_SRCDIR/drift/make-data.sh" "$GEN" shifted &&
		"$MLOPS" -q train --data ref.csv --target y --exclude id --register ties &&
		"$MLOPS" score-batch ties:1 -i cur.csv -o s.csv &&
		for m in ks wasserstein psi; do
			"$MLOPS" --json drift ties:1 -i cur.csv --method $m --exit-zero >a.json &&
			"$MLOPS" --json drift ties:1 --runs 1 --method $m --exit-zero >b.json &&
			sed -e "s/.*\"features\"://" -e "s/,\"quality\":{[^}]*}//g" -e "s/\"drifted_features\".*//" a.json >a.cut &&
			sed -e "s/.*\"features\"://" -e "s/,\"quality\":{[^}]*}//g" -e "s/\"drifted_features\".*//" b.json >b.cut &&
			test_cmp a.cut b.cut || exit 1
		done &&
		grep -q "\"values\"" "$(ls .mlops/artifacts/sha256/*/* | head -1)"
	)
'

test_expect_success 'small batches like the training data: a test, not a biased distance' '
	for n in 20 50 200; do
		head -n $((n + 1)) same.csv >batch.csv &&
		"$MLOPS" drift m.json -i batch.csv >out &&
		test_grep "^  x1  *numeric  *ks " out &&
		test_grep "^  c1  *categorical chi2 " out &&
		test_grep "verdict: no drift" out || return 1
	done
'

test_expect_success 'a timestamp'\''s place in time is reported, not counted' '
	awk -v seed=5 -v year=2019 -f "$TEST_SRCDIR/cli/ts-data.awk" >ts-train.csv &&
	awk -v seed=6 -v year=2020 -f "$TEST_SRCDIR/cli/ts-data.awk" >ts-next.csv &&
	"$MLOPS" -q train --data ts-train.csv --target y -o ts.json &&
	"$MLOPS" --json drift ts.json -i ts-next.csv --exit-zero >out &&
	test_grep "\"column\":\"when.epoch_days\",[^}]*\"drift\":true" out &&
	test_grep "\"drifted_features\":0,\"quality_signals\":0" out &&
	"$MLOPS" drift ts.json -i ts-next.csv --exit-zero >out &&
	test_grep "^when.epoch_days: a timestamp'\''s place in time, reported but not counted in the verdict" out
'

test_done
