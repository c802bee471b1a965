#!/bin/sh
# The model lifecycle with the real commands, every exit code checked.
#
#   cd "$(mktemp -d)" && MLOPS=/path/to/mlops GEN=/path/to/gen-data \
#       sh /path/to/examples/lifecycle.sh
#
# Works in the current folder, which must not hold a repository yet:
# creates one, trains a champion on too few features, promotes it, trains
# a challenger on all features that beats it, validates it against the
# champion, promotes it, scores a week of data, feeds a drifted week that
# trips `drift` (exit 3), and rolls production back in one step.
#
# MLOPS (the mlops binary) and GEN (the gen-data generator) default to the
# ones built in this source tree.  ROWS sets the training set size.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
MLOPS=${MLOPS:-$(dirname "$here")/mlops}
GEN=${GEN:-$here/gen-data}
ROWS=${ROWS:-5000}
step=0

die() {
	printf 'lifecycle: %s\n' "$*" >&2
	exit 1
}

# expect CODE command...: run the command, show it, and stop loudly unless
# it exits with CODE.
expect() {
	want=$1
	shift
	step=$((step + 1))
	printf '\n[%d] $' "$step"
	for arg in "$@"; do
		case $arg in
		*[[:space:]]*) printf " '%s'" "$arg" ;;
		*) printf ' %s' "$arg" ;;
		esac
	done
	printf '   # expect exit %s\n' "$want"
	set +e
	"$@"
	got=$?
	set -e
	if [ "$got" != "$want" ]; then
		printf '\nlifecycle: FAILED at step %d: exit %s, expected %s: %s\n' \
			"$step" "$got" "$want" "$*" >&2
		exit 1
	fi
}

mlops() {
	"$MLOPS" "$@"
}

gen() {
	"$GEN" "$@"
}

[ -x "$MLOPS" ] || die "no mlops binary at '$MLOPS' (build first, or set MLOPS)"
[ -x "$GEN" ] || die "no gen-data at '$GEN' (build first, or set GEN)"
[ ! -e .mlops ] || die "$(pwd) already holds a repository; run me in an empty folder"

echo "lifecycle: in $(pwd) with $MLOPS"

# 1. A repository, and data: only x1, x2 and c1 carry signal.
expect 0 mlops init
gen --rows "$ROWS" --seed 1 --signal 2 >train.csv
gen --rows 2000 --seed 2 --signal 2 >holdout.csv
gen --rows 3000 --seed 3 --signal 2 >week.csv
gen --rows 3000 --seed 4 --signal 2 --shift x1=0.5 --scale x2=1.5 --mix c1 \
	>drifted.csv

# 2. The champion: a model on too few features, gated on its own, promoted.
expect 0 mlops train --data train.csv --target y --features x1,x3 \
	--register churn
expect 0 mlops validate churn:1 --data holdout.csv --min auc=0.6
expect 0 mlops promote churn:1 --to production --reason "first model"

# 3. The challenger: every feature but the id; it must beat the champion on
#    the same rows by 0.01 AUC before it may replace it.
expect 0 mlops train --data train.csv --target y --exclude id --register churn
expect 0 mlops validate churn:2 --data holdout.csv \
	--against churn@production --min-delta auc=0.01
# The gate works both ways: the champion does not beat the challenger.
expect 3 mlops validate churn:1 --data holdout.csv \
	--against churn:2 --min-delta auc=0.01
expect 0 mlops promote churn:2 --to production --reason "beats champion"
expect 0 mlops list

# 4. The weekly batch: scores written atomically, one row per input row.
expect 0 mlops score-batch churn@production -i week.csv -o scores.csv \
	--keep id
in_rows=$(($(wc -l <week.csv) - 1))
out_rows=$(($(wc -l <scores.csv) - 1))
[ "$in_rows" = "$out_rows" ] ||
	die "scores.csv has $out_rows rows for $in_rows input rows"
echo "scores.csv: $out_rows rows; head:"
head -n 3 scores.csv

# 5. An ordinary week shows no drift (exit 0).  In the drifted week x1
#    moved by half a standard deviation, x2 spreads 1.5 times wider and
#    c1's mix is reversed: drift says so with exit 3.
expect 0 mlops drift churn@production -i week.csv
expect 3 mlops drift churn@production -i drifted.csv

# 6. Back to the previous production model in one step, and the ledger.
expect 0 mlops rollback churn@production --reason "drift"
expect 0 mlops history churn@production
expect 0 mlops show churn@production
mlops --json show churn@production | grep -q '"version":1[,}]' ||
	die "production should hold churn:1 again after the rollback"
# An unknown stage is an error (1), not a crash.
expect 1 mlops show churn@nowhere

printf '\nlifecycle: all %d steps exited as documented\n' "$step"
