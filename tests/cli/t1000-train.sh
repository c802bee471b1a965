#!/bin/sh
test_description='mlops train: fitting, artefacts, options and bad input'
. "$TEST_SRCDIR/cli/lib.sh"

test_expect_success 'setup: data' '
	"$GEN" --rows 2000 --seed 1 --task binary --numeric 4 --categorical 2 --missing 0.05 >bin.csv &&
	"$GEN" --rows 1500 --seed 2 --task regression --numeric 3 --categorical 1 >reg.csv &&
	"$GEN" --rows 1500 --seed 3 --task multiclass --classes 3 --numeric 3 --categorical 1 >multi.csv
'

test_expect_success 'train a binary model writes model.json by default' '
	"$MLOPS" train --data bin.csv --target y --exclude id >out &&
	test -s model.json &&
	test_grep "trained logistic (binary)" out &&
	test_grep "auc" out &&
	test_grep "confusion matrix" out
'

test_expect_success 'the artefact is JSON with the documented format' '
	head -3 model.json | test_grep "\"format\":.*\"mlops-model\"" - &&
	test_grep "\"format_version\":.*1" model.json &&
	test_grep "\"checksum\":.*\"sha256:" model.json &&
	test_grep "\"data_sha256\"" model.json
'

test_expect_success 'the same data and seed give the same coefficients' '
	"$MLOPS" -q train --data bin.csv --target y --exclude id -o a.json &&
	"$MLOPS" -q train --data bin.csv --target y --exclude id -o b.json &&
	grep -v created_at a.json | grep -v checksum >a.txt &&
	grep -v created_at b.json | grep -v checksum >b.txt &&
	test_cmp a.txt b.txt
'

test_expect_success 'regression picks linear regression; ridge and softmax on request' '
	"$MLOPS" train --data reg.csv --target y --exclude id -o reg.json >out &&
	test_grep "trained linear (regression)" out &&
	test_grep "r2" out &&
	"$MLOPS" train --data reg.csv --target y --exclude id --model ridge --alpha 5 -o ridge.json >out &&
	test_grep "trained ridge" out &&
	"$MLOPS" train --data multi.csv --target y --exclude id -o multi.json >out &&
	test_grep "trained softmax (multiclass)" out
'

test_expect_success '--json prints one object with schema 1' '
	"$MLOPS" --json train --data bin.csv --target y --exclude id -o j.json >out &&
	test "$(wc -l <out)" = 1 &&
	test_grep "^{\"schema\":1," out &&
	test_grep "\"metrics\":{" out
'

test_expect_success '--features restricts the inputs; --holdout 0 trains on all rows' '
	"$MLOPS" --json train --data bin.csv --target y --features x1,x2 --holdout 0 -o f.json >out &&
	test_grep "\"rows_holdout\":0" out &&
	test_grep "\"rows_train\":2000" out &&
	grep "\"name\":" f.json >names &&
	printf "\t\t\t\"name\":\t\"%s\",\n" x1 x2 >expect &&
	test_cmp expect names
'

test_expect_success 'a training spec in JSON, with flags overriding it' '
	cat >spec.json <<-\EOF &&
	{"data": "bin.csv", "target": "y", "exclude": ["id"], "holdout": 0.3, "seed": 4}
	EOF
	"$MLOPS" --json train --config spec.json --holdout 0.5 -o s.json >out &&
	test_grep "\"rows_holdout\":1000" out &&
	test_grep "\"seed\":	4$" s.json &&
	test_grep "\"holdout\":	0.5,$" s.json &&
	! grep "\"name\":	\"id\"" s.json
'

# weights FILE: the fitted weights of artefact FILE.
weights() {
	grep -e "\"coefficients\":" -e "\"intercepts\":" "$1"
}

for z in gzip xz zstd bzip2; do
	test_expect_success $(echo $z | tr a-z A-Z) "$z input gives the model the plain file gives" '
		weights a.json >expect &&
		$z -c bin.csv >bin.csv.$z &&
		"$MLOPS" -q train --data bin.csv.$z --target y --exclude id -o $z.json &&
		weights $z.json >actual &&
		test -s actual &&
		test_cmp expect actual
	'
done

test_expect_success '-o - writes the artefact to stdout and the report to stderr' '
	"$MLOPS" train --data bin.csv --target y --exclude id -o - >out.json 2>report &&
	test_grep "trained logistic" report &&
	"$MLOPS" score-batch ./out.json -i bin.csv -o scored.csv &&
	test_expect_code 2 "$MLOPS" --json train --data bin.csv --target y -o - 2>err &&
	test_one_line err
'

test_expect_success 'stdin is read with --data -' '
	"$MLOPS" -q train --data - --target y --exclude id -o stdin.json <bin.csv &&
	weights a.json >expect &&
	weights stdin.json >actual &&
	test -s actual &&
	test_cmp expect actual
'

test_expect_success 'a missing input file exits 1 with one line naming it' '
	test_expect_code 1 "$MLOPS" train --data nope.csv --target y 2>err &&
	test_one_line err &&
	test_grep "nope.csv" err
'

test_expect_success 'an unknown target is bad input (5), with the closest name' '
	test_expect_code 5 "$MLOPS" train --data bin.csv --target nope 2>err &&
	test_one_line err &&
	test_grep "nope" err
'

test_expect_success 'missing --target is a usage error (2)' '
	test_expect_code 2 "$MLOPS" train --data bin.csv 2>err &&
	test_one_line err
'

test_expect_success 'a ragged CSV row exits 5 naming the line' '
	printf "a,b,y\n1,2,0\n3,4\n5,6,1\n" >ragged.csv &&
	test_expect_code 5 "$MLOPS" train --data ragged.csv --target y 2>err &&
	test_one_line err &&
	test_grep "line 3" err
'

test_expect_success 'a forced-numeric column holding text exits 5 with line and column' '
	printf "a,b,y\n1,2,0\n3,x4,1\n5,6,1\n7,8,0\n" >bad.csv &&
	test_expect_code 5 "$MLOPS" train --data bad.csv --target y --numeric b 2>err &&
	test_one_line err &&
	test_grep "line 3, column 2" err
'

test_expect_success 'an unterminated quote exits 5 with line and column' '
	printf "a,b,y\n1,2,0\n3,\"4,1\n" >quote.csv &&
	test_expect_code 5 "$MLOPS" train --data quote.csv --target y 2>err &&
	test_one_line err &&
	test_grep "line 3" err
'

test_expect_success 'an empty file exits 5' '
	: >empty.csv &&
	test_expect_code 5 "$MLOPS" train --data empty.csv --target y 2>err &&
	test_one_line err
'

test_expect_success 'a single-class target exits 5' '
	printf "a,y\n1,1\n2,1\n3,1\n4,1\n5,1\n" >one.csv &&
	test_expect_code 5 "$MLOPS" train --data one.csv --target y --model logistic 2>err &&
	test_one_line err
'

test_expect_success 'quoted fields with commas, quotes, newlines, CRLF and a BOM' '
	printf "\357\273\277name,x,y\r\n\"a, \"\"quoted\"\"\nname\",1,0\r\nb,2,1\r\nc,3,0\r\nd,4,1\r\ne,5,1\r\nf,6,0\r\n" >rfc.csv &&
	"$MLOPS" -q train --data rfc.csv --target y --exclude name --holdout 0 -o rfc.json &&
	test_grep "\"name\":.*\"x\"" rfc.json
'

test_expect_success '--impute median and --add-indicator are stored in the artefact' '
	"$MLOPS" -q train --data bin.csv --target y --exclude id --impute median --add-indicator -o ind.json &&
	test "$(grep -c "\"indicator\":.*true" ind.json)" -ge 1 &&
	"$MLOPS" score-batch ind.json -i bin.csv -o ind.csv &&
	test "$(wc -l <ind.csv)" = "$(wc -l <bin.csv)"
'

test_expect_success '--impute median is numpy'"'"'s median, also past the profile sample' '
	printf "x,y\n1,0\n2,1\n,0\n10,1\n3,0\n" >med.csv &&
	"$MLOPS" -q train --data med.csv --target y --impute median --holdout 0 -o med.json &&
	test_grep "\"impute\":	2.5," med.json &&
	awk "BEGIN { print \"x,y\"; for (i = 0; i < 300000; i++) print (i % 7 ? (i * 37) % 1000 : \"\") \",\" i % 2 }" >big.csv &&
	"$MLOPS" -q train --data big.csv --target y --impute median --holdout 0 -o bigm.json &&
	want=$(awk -F, "NR > 1 && \$1 != \"\" { print \$1 }" big.csv | sort -n | awk "{ v[NR] = \$1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }") &&
	test_grep "\"impute\":	$want," bigm.json
'

test_expect_success '--strict makes unseen categories bad input at scoring (5)' '
	"$MLOPS" -q train --data bin.csv --target y --exclude id --strict -o strict.json &&
	sed "2s/,[a-d],/,zzz,/" bin.csv >unseen.csv &&
	test_expect_code 5 "$MLOPS" score-batch strict.json -i unseen.csv -o x.csv 2>err &&
	test_one_line err &&
	test_grep "line 2, column .*never seen in training" err
'

test_expect_success 'a bad --impute value is a usage error' '
	test_expect_code 2 "$MLOPS" train --data bin.csv --target y --impute mode 2>err &&
	test_one_line err
'

test_expect_success 'train --register without a repository exits 1' '
	test_expect_code 1 "$MLOPS" train --data bin.csv --target y --register churn 2>err &&
	test_one_line err
'

test_expect_success 'in a repository, --register stores and registers the artefact' '
	"$MLOPS" init >/dev/null &&
	"$MLOPS" train --data bin.csv --target y --exclude id --register churn >out &&
	test_grep "registered churn:1" out &&
	"$MLOPS" show churn:1 >show &&
	test_grep "churn:1" show &&
	"$MLOPS" runs >runs &&
	test_grep "train" runs
'

test_expect_success 'an invalid model name is a usage error' '
	test_expect_code 2 "$MLOPS" train --data bin.csv --target y --register "bad name" 2>err
'

test_done
