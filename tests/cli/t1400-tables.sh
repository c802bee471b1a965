#!/bin/sh
# shellcheck disable=SC1091,SC2016 # git-style test bodies are eval'd
# The human tables of train, validate and show, pinned with golden files
# (tests/data/*.expected) on data that examples/gen-data makes from fixed
# seeds.  Every class is present in each holdout, each validation file
# and each model's predictions, so macro averages and AUC are the same
# whichever labels they are taken over.
#
# To update a golden file after a deliberate change of a table, run the
# test with MLOPS_UPDATE_GOLDEN=1 in the environment, and read the diff.
test_description='the tables of train, validate and show'
. "$TEST_SRCDIR/cli/lib.sh"

DATA=$TEST_SRCDIR/data
VERSION=$("$MLOPS" --version | sed -n "s/^mlops //p")

# mask: blank out what changes from run to run or from release to
# release, and nothing else:
#  - an artefact's SHA-256 and byte size, since the artefact records the
#    moment it was made (and its size changes with any field its format
#    gains; tests of the format pin that, not these tables);
#  - the moment a model was trained;
#  - validate's latency per row, a measurement;
#  - the mlops version.
mask() {
	sed -e "/^registered /s/sha256:[0-9a-f]*/sha256:MASKED/" \
	    -e "/^artefact /s/sha256:[0-9a-f]*/sha256:MASKED/" \
	    -e "s/([0-9]* bytes)/(MASKED bytes)/" \
	    -e "s/^  size  *[0-9][0-9]*$/  size MASKED/" \
	    -e "s/^  latency_us  *[0-9.][0-9.]*$/  latency_us MASKED/" \
	    -e "s/, [0-9]*-[0-9]*-[0-9]*T[0-9:.]*Z$/, MASKED-TIME/" \
	    -e "s/^\(mlops  *\)$VERSION$/\1MASKED-VERSION/"
}

# golden NAME: the masked output in "actual" equals tests/data/NAME.expected.
golden() {
	mask <actual >masked &&
	if test -n "${MLOPS_UPDATE_GOLDEN:-}"; then
		cp masked "$DATA/$1.expected"
	fi &&
	test_cmp "$DATA/$1.expected" masked
}

test_expect_success 'setup: data of each task, a repository' '
	"$GEN" --rows 1000 --seed 41 --task binary --numeric 3 --categorical 1 --missing 0.05 >bin.csv &&
	"$GEN" --rows 600 --seed 42 --task binary --numeric 3 --categorical 1 --missing 0.05 >bin-new.csv &&
	"$GEN" --rows 1000 --seed 43 --task multiclass --classes 3 --numeric 3 --categorical 1 >multi.csv &&
	"$GEN" --rows 600 --seed 45 --task multiclass --classes 3 --numeric 3 --categorical 1 >multi-new.csv &&
	"$GEN" --rows 1000 --seed 44 --task regression --numeric 3 --categorical 1 >reg.csv &&
	"$GEN" --rows 600 --seed 46 --task regression --numeric 3 --categorical 1 >reg-new.csv &&
	"$MLOPS" init >/dev/null
'

test_expect_success 'train prints the binary table and registers' '
	"$MLOPS" train --data bin.csv --target y --exclude id --register churn >actual &&
	golden train-binary
'

test_expect_success 'train prints the multiclass table' '
	"$MLOPS" train --data multi.csv --target y --exclude id -o multi.json >actual &&
	golden train-multiclass
'

test_expect_success 'train prints the regression table' '
	"$MLOPS" train --data reg.csv --target y --exclude id -o reg.json >actual &&
	golden train-regression
'

test_expect_success 'validate prints metrics beside the champion, and the gates' '
	"$MLOPS" -q train --data bin.csv --target y --features x1,c1 -o small.json &&
	"$MLOPS" register churn small.json >/dev/null &&
	"$MLOPS" validate churn:1 --data bin-new.csv --min auc=0.7 \
		--max logloss=0.6 --against churn:2 --min-delta auc=0.01 >actual &&
	golden validate-champion
'

test_expect_success 'validate prints a failed gate in the table, exit 3' '
	test_expect_code 3 "$MLOPS" validate churn:2 --data bin-new.csv \
		--min auc=0.9 --min accuracy=0.5 >actual 2>err &&
	test_one_line err &&
	golden validate-failed
'

test_expect_success 'validate prints multiclass and regression metrics' '
	"$MLOPS" validate multi.json --data multi-new.csv >actual &&
	golden validate-multiclass &&
	"$MLOPS" validate reg.json --data reg-new.csv --max rmse=2 >actual &&
	golden validate-regression
'

test_expect_success 'show prints the version, its training and its features' '
	"$MLOPS" show churn:1 >actual &&
	golden show &&
	"$MLOPS" show ./multi.json >actual &&
	golden show-file
'

test_expect_success 'the masks hide only what varies: a second run prints the same' '
	"$MLOPS" -q train --data bin.csv --target y --exclude id -o again.json &&
	"$MLOPS" register churn again.json >/dev/null &&
	"$MLOPS" show churn:3 | sed "s/churn:3/churn:1/" >actual &&
	golden show
'

test_done
