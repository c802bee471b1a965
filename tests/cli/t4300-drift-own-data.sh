#!/bin/sh
# shellcheck disable=SC1091,SC2016 # git-style test bodies are eval'd
# A model's own training file is not drift: the baseline profile of the
# predictions is what scoring that file computes, bit for bit (one
# prediction path), so even few distinct predictions, where a difference
# in the last place would move every value across a step of the KS
# statistic, compare as equal.  Each model kind, on generated data with
# heavy ties (categorical features only) and on ../shared/data.
test_description='drift of each model kind against its own training file'
. "$TEST_SRCDIR/cli/lib.sh"

# test_skip TITLE REASON: a TAP test point that was skipped.
test_skip() {
	test_count=$((test_count + 1))
	printf 'ok %d - %s # SKIP %s\n' "$test_count" "$1" "$2"
}

# own_drift MODEL FILE [train options]: train MODEL on FILE, then drift
# MODEL against FILE must exit 0 with the prediction row not flagged.
own_drift() {
	model=$1
	file=$2
	shift 2
	"$MLOPS" -q train --data "$file" "$@" -o "$model" &&
	"$MLOPS" drift "$model" -i "$file" >"$model.out" &&
	grep "^  (prediction) " "$model.out" >"$model.pred" &&
	if grep DRIFT "$model.pred"; then
		cat "$model.out" >&2
		return 1
	fi
}

test_expect_success 'setup: ties, categorical features only' '
	"$GEN" --rows 600 --seed 3 --numeric 0 --categorical 2 --task binary >bin.csv &&
	"$GEN" --rows 600 --seed 3 --numeric 0 --categorical 2 --task multiclass >mc.csv &&
	"$GEN" --rows 600 --seed 3 --numeric 0 --categorical 2 --task regression >reg.csv &&
	"$GEN" --rows 800 --seed 4 --numeric 2 --categorical 2 --missing 0.1 --task binary >gaps.csv
'

for algo in logistic softmax linear ridge; do
	case $algo in
	logistic) file=bin.csv ;;
	softmax) file=mc.csv ;;
	*) file=reg.csv ;;
	esac
	test_expect_success "$algo on ties: its own training file has no drift" "
		own_drift $algo.json $file --target y --exclude id --model $algo &&
		own_drift $algo-ks.json $file --target y --exclude id --model $algo --holdout 0
	"
done

test_expect_success 'logistic with gaps and indicators: no drift on its own file' '
	own_drift gaps.json gaps.csv --target y --exclude id --add-indicator
'

# The real datasets beside the project (never copied into it);
# MLOPS_TEST_DATA names another place, e.g. from a git worktree.
data=${MLOPS_TEST_DATA:-$TEST_SRCDIR/../../shared/data}
if test -r "$data/tips.csv" && test -r "$data/penguins.csv" &&
   test -r "$data/mpg.csv"; then
	test_expect_success 'tips: smoker from sex, day, time (the report of issue 15)' '
		own_drift tips.json "$data/tips.csv" --target smoker --features sex,day,time
	'
	test_expect_success 'tips: day (softmax), tip (linear, ridge)' '
		own_drift day.json "$data/tips.csv" --target day &&
		own_drift tip.json "$data/tips.csv" --target tip --model linear &&
		own_drift tipr.json "$data/tips.csv" --target tip --model ridge
	'
	test_expect_success 'penguins (softmax) and mpg (linear, ridge)' '
		own_drift pen.json "$data/penguins.csv" --target species &&
		own_drift mpg.json "$data/mpg.csv" --target mpg --exclude name --model linear &&
		own_drift mpgr.json "$data/mpg.csv" --target mpg --exclude name --model ridge
	'
else
	test_skip 'real datasets: own training file has no drift' "no $data"
fi

test_done
