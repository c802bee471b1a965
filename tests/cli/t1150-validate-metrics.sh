#!/bin/sh
# shellcheck disable=SC1091,SC2016 # git-style test bodies are eval'd
# Metrics as scikit-learn computes them on data that lacks a class the
# model knows: macro averages over the labels present in the true or the
# predicted labels, and ROC AUC undefined (null with the reason), which
# a gate on it reports as the reason it failed.
test_description='validate: metrics with a class absent from the data'
. "$TEST_SRCDIR/cli/lib.sh"

test_expect_success 'setup: a 3-class model, and data without class_c' '
	"$GEN" --rows 2000 --seed 9 --task multiclass --classes 3 >mc.csv &&
	"$MLOPS" -q train --data mc.csv --target y --exclude id -o mc.json &&
	awk -F, "NR == 1 || \$NF != \"class_c\"" mc.csv >noc.csv &&
	! grep -q class_c noc.csv
'

test_expect_success 'the table shows auc as n/a with the absent class' '
	"$MLOPS" validate mc.json --data noc.csv >out &&
	test_grep "^  auc  *n/a (class '\''class_c'\'' absent)$" out &&
	test_grep "^  f1  *0\.[0-9]*$" out
'

test_expect_success '--json: auc null, the reason in metric_notes' '
	"$MLOPS" --json validate mc.json --data noc.csv >out &&
	test_grep "\"auc\":null" out &&
	test_grep "\"metric_notes\":{\"auc\":\"class '\''class_c'\'' absent\"}" out
'

test_expect_success 'a gate on auc fails with the reason, exit 3' '
	test_expect_code 3 "$MLOPS" validate mc.json --data noc.csv \
		--min auc=0.5 >out 2>err &&
	test_one_line err &&
	test_grep "auc could not be computed on this data: class '\''class_c'\'' absent" err &&
	test_grep "FAIL  min  *auc .*n/a (class '\''class_c'\'' absent)" out &&
	test_expect_code 3 "$MLOPS" --json validate mc.json --data noc.csv \
		--min auc=0.5 >out 2>/dev/null &&
	test_grep "\"value\":null,\"reason\":\"class '\''class_c'\'' absent\",\"passed\":false" out
'

test_expect_success 'a gate on another metric still passes' '
	"$MLOPS" validate mc.json --data noc.csv --min f1=0.1 >out &&
	test_grep "^verdict: pass" out
'

# test_skip TITLE REASON: a TAP test point that was skipped.
test_skip() {
	test_count=$((test_count + 1))
	printf 'ok %d - %s # SKIP %s\n' "$test_count" "$1" "$2"
}

title='the macro averages equal scikit-learn'\''s on the same predictions'
if ! /usr/bin/python3 -c "import sklearn" 2>/dev/null; then
	test_skip "$title" "no scikit-learn in /usr/bin/python3"
else
test_expect_success "$title" '
	"$MLOPS" score-batch mc.json -i noc.csv -o scores.csv --keep y &&
	"$MLOPS" --json validate mc.json --data noc.csv >val.json &&
	/usr/bin/python3 - scores.csv val.json <<-\PY
	import csv, json, sys
	from sklearn.metrics import precision_score, recall_score, f1_score
	rows = list(csv.DictReader(open(sys.argv[1])))
	y = [r["y"] for r in rows]
	p = [r["prediction"] for r in rows]
	got = json.load(open(sys.argv[2]))["metrics"]
	for name, fn in (("precision", precision_score), ("recall", recall_score),
	                 ("f1", f1_score)):
	    want = fn(y, p, average="macro", zero_division=0)
	    assert abs(got[name] - want) < 1e-12, (name, got[name], want)
	PY
'
fi

test_done
