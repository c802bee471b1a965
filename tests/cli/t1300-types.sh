#!/bin/sh
# shellcheck disable=SC1091,SC2016,SC2034 # git-style test bodies are eval'd
test_description='column types by rule: placeholders, non-finite numbers, timestamps, identifiers, leaks'
. "$TEST_SRCDIR/cli/lib.sh"

# test_path_is_missing FILE: the command wrote nothing there.
test_path_is_missing() {
	if test -e "$1"; then
		echo "$1 exists" >&2
		return 1
	fi
}

# refused CMD...: exit 5, one stderr line in err, nothing on stdout.
refused() {
	test_expect_code 5 "$@" >out 2>err &&
	test_one_line err &&
	test_cmp /dev/null out
}

test_expect_success 'setup: an mpg-like table with ? for unknown horsepower' '
	awk "BEGIN {
		print \"mpg,cylinders,horsepower,weight,origin\";
		for (i = 0; i < 120; i++) {
			hp = (i % 23 == 5) ? \"?\" : 60 + (i * 7) % 140;
			printf \"%.1f,%d,%s,%d,%s\\n\", 10 + (i * 13) % 30, 4 + 2 * (i % 3), hp, 1800 + (i * 37) % 3000, (i % 3 ? \"usa\" : \"japan\");
		}
	}" >mpg.csv &&
	grep -n "?" mpg.csv | head -1 | cut -d: -f1 >first &&
	echo 7 >expect &&
	test_cmp expect first
'

test_expect_success 'a ? among numbers is refused naming file, line, column and the ways out' '
	refused "$MLOPS" train --data mpg.csv --target mpg -o m.json &&
	echo "mlops train: '\''mpg.csv'\'' line 7, column 3 ('\''horsepower'\''): '\''?'\'' is not a number in a column of numbers: read it as missing with --na-values '\''?'\'', or the column as text with --categorical '\''horsepower'\''" >expect &&
	test_cmp expect err &&
	test_path_is_missing m.json
'

test_expect_success '--na-values ? trains a model whose horsepower is numeric' '
	"$MLOPS" -q train --data mpg.csv --target mpg --na-values "?" -o m.json &&
	"$MLOPS" --json show m.json >show.json &&
	test_grep "\"name\":\"horsepower\",\"type\":\"numeric\"" show.json &&
	"$MLOPS" show m.json >show.txt &&
	test_grep "^missing    also '\''?'\''" show.txt &&
	test_grep "^  horsepower  *numeric" show.txt
'

test_expect_success 'scoring reads the training ? as missing without being told' '
	"$MLOPS" score-batch m.json -i mpg.csv -o scores.csv 2>err &&
	test_cmp /dev/null err &&
	test "$(wc -l <scores.csv)" = 121
'

test_expect_success 'a ? in a 0/1 target is refused, not a third class' '
	awk -F, "BEGIN { OFS = \",\" } NR > 1 { \$1 = (NR == 9) ? \"?\" : NR % 2 } { print }" mpg.csv >target.csv &&
	refused "$MLOPS" train --data target.csv --target mpg --exclude horsepower -o t.json &&
	test_grep "line 9, column 1 ('\''mpg'\''): '\''?'\'' is not a number in a column of numbers" err &&
	test_path_is_missing t.json
'

test_expect_success SHARED_DATA 'the real mpg with ? placeholders: refused, then numeric with --na-values' '
	awk -F, "BEGIN { OFS = \",\" } NR > 1 && \$4 == \"\" { \$4 = \"?\" } { print }" "$SHARED_DATA/mpg.csv" >real.csv &&
	refused "$MLOPS" train --data real.csv --target mpg -o r.json &&
	test_grep "column 4 ('\''horsepower'\''): '\''?'\'' is not a number" err &&
	"$MLOPS" -q train --data real.csv --target mpg --na-values "?" -o r.json &&
	"$MLOPS" --json show r.json >show.json &&
	test_grep "\"name\":\"horsepower\",\"type\":\"numeric\"" show.json
'

# One class of value after another in an otherwise numeric column.
vn=0
for v in abc true '"1,234"' '"1,5"' 12abc 0x1p3 'nan(0x1)' inf -inf 1e400; do
	vn=$((vn + 1))
	test_expect_success "train refuses $v among numbers (line, column, text)" '
		printf "x,y\n1,0\n2,1\n%s,0\n4,1\n5,0\n6,1\n" "$v" >v$vn.csv &&
		refused "$MLOPS" train --data v$vn.csv --target y -o v.json &&
		test_grep "'\''v$vn.csv'\'' line 4, column 1 ('\''x'\''): " err &&
		test_grep "is not a" err &&
		test_path_is_missing v.json
	'
done

test_expect_success 'a non-finite number says so' '
	printf "x,y\n1,0\n2,1\ninf,0\n4,1\n" >inf.csv &&
	refused "$MLOPS" train --data inf.csv --target y -o v.json &&
	test_grep "'\''inf'\'' is not a finite number" err
'

test_expect_success 'setup: a model to score non-finite numbers with' '
	awk "BEGIN { print \"x,y\"; for (i = 0; i < 40; i++) print i, \",\", 2 * i + (i % 3) }" | tr -d " " >lin.csv &&
	"$MLOPS" -q train --data lin.csv --target y -o lin.json
'

test_expect_success 'validate refuses a non-finite number naming line and column' '
	printf "x,y\n1,2\n-Infinity,3\n" >vinf.csv &&
	refused "$MLOPS" validate lin.json --data vinf.csv &&
	test_grep "line 3, column 1 ('\''x'\''): '\''-Infinity'\'' is not a finite number" err
'

test_expect_success 'score-batch: a non-finite number is a bad row, within --max-errors' '
	printf "x\n1\n1e400\n3\n" >sinf.csv &&
	refused "$MLOPS" score-batch lin.json -i sinf.csv -o s.csv &&
	test_grep "line 3, column 1 ('\''x'\''): '\''1e400'\'' is not a finite number" err &&
	test_path_is_missing s.csv &&
	"$MLOPS" -q score-batch lin.json -i sinf.csv -o s.csv --max-errors 1 &&
	test "$(wc -l <s.csv)" = 3
'

test_expect_success 'values near 1e308: training names the column that overflows' '
	printf "x,y\n1e308,1\n-1e308,2\n1.5e308,3\n1,4\n2,5\n3,6\n" >big.csv &&
	refused "$MLOPS" train --data big.csv --target y -o big.json &&
	echo "mlops train: '\''big.csv'\'': column '\''x'\'' holds numbers too large to fit: their mean or spread overflows a double (rescale the column)" >expect &&
	test_cmp expect err &&
	test_path_is_missing big.json
'

test_expect_success 'values near 1e308: a row whose prediction would overflow is bad, never NaN' '
	printf "x\n1e308\n5\n" >sbig.csv &&
	refused "$MLOPS" score-batch lin.json -i sbig.csv -o s2.csv &&
	test_grep "line 2, column 1 ('\''x'\''): '\''1e308'\'' is too far out for the model" err &&
	test_path_is_missing s2.csv &&
	"$MLOPS" -q score-batch lin.json -i sbig.csv -o s2.csv --max-errors 1 &&
	! grep -i "nan\|inf" s2.csv
'

test_expect_success 'a postcode column mixing numbers and text loads with --categorical' '
	printf "zip,y\n02134,1\n02139,0\nSW1A 1AA,1\n02134,0\n10115,1\n" >zip.csv &&
	refused "$MLOPS" train --data zip.csv --target y -o z.json &&
	test_grep "'\''SW1A 1AA'\'' is not a number in a column of numbers" err &&
	"$MLOPS" -q train --data zip.csv --target y --categorical zip -o z.json &&
	"$MLOPS" --json show z.json >show.json &&
	test_grep "\"name\":\"zip\",\"type\":\"categorical\"" show.json
'

test_expect_success 'setup: a timestamped table, and a later one' '
	awk "BEGIN {
		print \"pickup,distance,fare\";
		for (i = 0; i < 600; i++) {
			d = 1 + i % 28; h = (i * 7) % 24; m = (i * 13) % 60;
			printf \"2019-03-%02d %02d:%02d:00,%.1f,%.2f\\n\", d, h, m, 1 + i % 9, 3 + 2 * (1 + i % 9) + (h >= 17 && h <= 18 ? 3 : 0) + (i % 5) / 10;
		}
	}" >taxi.csv &&
	awk "BEGIN {
		print \"pickup,distance\";
		for (i = 0; i < 50; i++)
			printf \"2019-06-%02dT%02d:15:00+02:00,%.1f\\n\", 1 + i % 28, i % 24, 1 + i % 9;
	}" >later.csv
'

test_expect_success 'timestamps train as a handful of numeric inputs' '
	"$MLOPS" train --data taxi.csv --target fare -o taxi.json >out &&
	test_grep "^features: 5 (5 model inputs)" out &&
	"$MLOPS" --json show taxi.json >show.json &&
	for part in epoch_days month dow hour; do
		test_grep "\"name\":\"pickup.$part\",\"type\":\"numeric\",\"source\":\"pickup\",\"part\":\"$part\"" show.json || return 1
	done
'

test_expect_success 'later timestamps score as numbers, never unseen' '
	"$MLOPS" score-batch taxi.json -i later.csv -o later.out 2>err &&
	test_cmp /dev/null err &&
	test "$(wc -l <later.out)" = 51 &&
	! grep -i "nan\|inf" later.out
'

test_expect_success 'an unparsable timestamp at scoring is a bad row (line, column)' '
	printf "pickup,distance\n2019-06-01 10:00:00,3\nsoon,4\n" >badts.csv &&
	refused "$MLOPS" score-batch taxi.json -i badts.csv -o b.csv &&
	echo "mlops score-batch: '\''badts.csv'\'' line 3, column 1 ('\''pickup'\''): '\''soon'\'' is not an ISO 8601 timestamp" >expect &&
	test_cmp expect err &&
	test_path_is_missing b.csv
'

test_expect_success 'drift profiles timestamp parts as numbers' '
	"$MLOPS" --json drift taxi.json -i later.csv --exit-zero >drift.json &&
	test_grep "pickup.epoch_days" drift.json
'

test_expect_success 'a ? among timestamps is refused with the ways out' '
	sed "5s/^[^,]*,/?,/" taxi.csv >tsq.csv &&
	refused "$MLOPS" train --data tsq.csv --target fare -o q.json &&
	test_grep "line 5, column 1 ('\''pickup'\''): '\''?'\'' is not a timestamp in a column of timestamps" err
'

test_expect_success '--exclude keeps a column out of loading' '
	awk -F, "BEGIN { OFS = \",\" } { print \$0, (NR == 1 ? \"junk\" : (NR == 3 ? \"bad\" : NR)) }" mpg.csv >junk.csv &&
	refused "$MLOPS" train --data junk.csv --target mpg --na-values "?" -o j.json &&
	test_grep "('\''junk'\''): '\''bad'\'' is not a number" err &&
	"$MLOPS" -q train --data junk.csv --target mpg --na-values "?" --exclude junk -o j.json &&
	"$MLOPS" --json show j.json >show.json &&
	! grep "\"name\":\"junk\"" show.json
'

test_expect_success 'more than 1000 categories: refused, suggesting the --exclude that works' '
	awk "BEGIN { print \"code,y\"; for (i = 0; i < 1200; i++) print \"c\" int(i / 1.1) \",\" i % 2 }" >wide.csv &&
	refused "$MLOPS" train --data wide.csv --target y -o w.json &&
	test_grep "more than 1000 distinct values in a categorical column; leave it out with --exclude '\''code'\''" err &&
	test_path_is_missing w.json
'

test_expect_success 'an identifier column is left out with a warning naming it' '
	awk "BEGIN { print \"name,x,y\"; for (i = 0; i < 80; i++) print \"person\" i \",\" i % 7 \",\" i % 2 }" >ids.csv &&
	"$MLOPS" train --data ids.csv --target y -o ids.json >out 2>err &&
	echo "mlops train: warning: left out '\''name'\'': a different value on nearly every row, as an identifier has (keep it with --categorical '\''name'\'', or --exclude it)" >expect &&
	test_cmp expect err &&
	test_grep "^features: 1 " out &&
	"$MLOPS" -q train --data ids.csv --target y --categorical name -o ids2.json &&
	"$MLOPS" --json show ids2.json >show.json &&
	test_grep "\"name\":\"name\",\"type\":\"categorical\"" show.json
'

test_expect_success 'an identifier with more than 1000 values is left out, not refused' '
	awk "BEGIN { print \"uid,x,y\"; for (i = 0; i < 3000; i++)
		print \"u\" (i * 7919) % 100003 \",\" i % 7 \",\" i % 2 }" >uids.csv &&
	"$MLOPS" train --data uids.csv --target y -o uids.json >out 2>err &&
	echo "mlops train: warning: left out '\''uid'\'': a different value on nearly every row, as an identifier has (too many to keep as categories; --exclude it to say so)" >expect &&
	test_cmp expect err &&
	test_grep "^features: 1 " out &&
	"$MLOPS" train --data uids.csv --target y --exclude uid -o uids2.json >out 2>err &&
	test_cmp /dev/null err &&
	refused "$MLOPS" train --data uids.csv --target y --categorical uid -o uids3.json &&
	test_grep "line 1002, column 1 ('\''uid'\''): more than 1000 distinct values in a categorical column; leave it out with --exclude '\''uid'\''" err &&
	refused "$MLOPS" train --data uids.csv --target y --features uid,x -o uids3.json &&
	test_grep "more than 1000 distinct values" err &&
	test_path_is_missing uids3.json
'

test_expect_success 'a row index as a feature is kept, with a warning naming it' '
	awk "BEGIN { print \",x,y\"; for (i = 0; i < 200; i++)
		print i \",\" (i * 7) % 10 \",\" ((i * 3) % 7 > 2) }" >pidx.csv &&
	sed "1s/^/Unnamed: 0/" pidx.csv >pidx0.csv &&
	"$MLOPS" train --data pidx0.csv --target y -o pidx.json >out 2>err &&
	echo "mlops train: warning: feature '\''Unnamed: 0'\'' numbers the rows in file order: a row index? (leave it out with --exclude '\''Unnamed: 0'\'')" >expect &&
	test_cmp expect err &&
	test_grep "^features: 2 " out &&
	"$MLOPS" train --data pidx0.csv --target y --numeric "Unnamed: 0" -o pidx.json >out 2>err &&
	test_cmp /dev/null err &&
	"$MLOPS" train --data pidx.csv --target y --exclude "" -o pidx.json >out 2>err &&
	test_cmp /dev/null err &&
	awk -F, "BEGIN { OFS = \",\" } NR == 1 { \$1 = \"row\" } NR > 1 { \$1 = NR - 1 } 1" pidx.csv >pidx1.csv &&
	"$MLOPS" train --data pidx1.csv --target y -o pidx.json >out 2>err &&
	test_grep "feature '\''row'\'' numbers the rows" err
'

test_expect_success 'a leaking feature is named (alive for survived)' '
	awk "BEGIN {
		print \"pclass,sex,age,alive,survived\";
		for (i = 0; i < 300; i++) {
			s = (i * 7) % 5 < 2;
			print 1 + i % 3 \",\" (i % 2 ? \"male\" : \"female\") \",\" 1 + (i * 11) % 70 \",\" (s ? \"yes\" : \"no\") \",\" s;
		}
	}" >titanic.csv &&
	"$MLOPS" train --data titanic.csv --target survived -o ti.json >/dev/null 2>err &&
	echo "mlops train: warning: feature '\''alive'\'' alone predicts '\''survived'\'' exactly on the training rows: a target leak? (leave it out with --exclude '\''alive'\'')" >expect &&
	test_cmp expect err &&
	"$MLOPS" train --data titanic.csv --target survived --exclude alive -o ti.json >/dev/null 2>err &&
	test_cmp /dev/null err
'

test_expect_success '--keep-all with an input column named like an output column is refused' '
	printf "x,prediction\n1,a\n2,b\n" >clash.csv &&
	refused "$MLOPS" score-batch lin.json -i clash.csv -o c.csv --keep-all &&
	echo "mlops score-batch: '\''clash.csv'\'' column 2 ('\''prediction'\'') has the name of an output column; rename it in the input, or keep other columns with --keep" >expect &&
	test_cmp expect err &&
	test_path_is_missing c.csv &&
	printf "proba_1,sex,pclass,age,alive\n0.5,male,1,30,yes\n" >clash2.csv &&
	refused "$MLOPS" score-batch ti.json -i clash2.csv -o c.csv --keep proba_1 &&
	test_grep "('\''proba_1'\'') has the name of an output column" err &&
	"$MLOPS" -q score-batch lin.json -i clash.csv -o c.csv --keep x
'

test_expect_success 'an artefact from before timestamps and --na-values loads and scores the same' '
	"$MLOPS" score-batch "$TEST_SRCDIR/data/v1-model.json" -i "$TEST_SRCDIR/data/v1-model.in.csv" -o v1.out &&
	test_cmp "$TEST_SRCDIR/data/v1-model.expected" v1.out
'

test_done
