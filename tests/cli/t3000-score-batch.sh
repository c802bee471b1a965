#!/bin/sh
test_description='mlops score-batch: output, identity, atomicity and bad input'
. "$TEST_SRCDIR/cli/lib.sh"

test_expect_success 'setup: a trained, registered model' '
	"$GEN" --rows 2000 --seed 21 --task binary --numeric 3 --categorical 2 --missing 0.02 >train.csv &&
	"$GEN" --rows 500 --seed 22 --task binary --numeric 3 --categorical 2 --missing 0.02 >in.csv &&
	"$MLOPS" init >/dev/null &&
	"$MLOPS" -q train --data train.csv --target y --exclude id -o trained.json --register churn
'

test_expect_success 'scoring is silent on success and writes one row per input row' '
	"$MLOPS" score-batch trained.json -i in.csv -o out.csv --keep id >stdout 2>stderr &&
	test ! -s stdout && test ! -s stderr &&
	test "$(wc -l <out.csv)" = "$(wc -l <in.csv)" &&
	head -1 out.csv >header &&
	echo "id,prediction,proba_0,proba_1" >expect &&
	test_cmp expect header
'

test_expect_success 'the registry artefact scores bit-identically to the trained file' '
	"$MLOPS" score-batch churn:1 -i in.csv -o reg.csv --keep id &&
	cmp out.csv reg.csv
'

test_expect_success 'rows come out in input order with their ids' '
	cut -d, -f1 in.csv >ids.in &&
	cut -d, -f1 out.csv >ids.out &&
	test_cmp ids.in ids.out
'

test_expect_success '-o - streams to stdout; -i - reads stdin' '
	"$MLOPS" score-batch churn:1 -i - -o - --keep id <in.csv >piped.csv &&
	cmp out.csv piped.csv
'

for z in gzip xz zstd bzip2; do
	test_expect_success $(echo $z | tr a-z A-Z) "$z input scores the same" '
		$z -c in.csv >in.csv.$z &&
		"$MLOPS" score-batch churn:1 -i in.csv.$z -o $z.csv --keep id &&
		cmp out.csv $z.csv
	'
done

test_expect_success '--keep-all copies every input column' '
	"$MLOPS" score-batch churn:1 -i in.csv -o all.csv --keep-all &&
	head -1 all.csv | test_grep "^id,x1,x2,x3,c1,c2,y,prediction," - &&
	cut -d, -f1-7 all.csv >copied &&
	test_cmp in.csv copied &&
	cut -d, -f8- all.csv >scores &&
	cut -d, -f2- out.csv >expect &&
	test_cmp expect scores
'

test_expect_success 'columns are matched by name: reordered and extra columns are fine' '
	awk -F, -v OFS=, "{print \$3, \$1, \"extra\", \$2, \$4, \$5, \$6}" in.csv >reordered.csv &&
	"$MLOPS" score-batch churn:1 -i reordered.csv -o re.csv --keep id &&
	cmp out.csv re.csv
'

test_expect_success 'a missing feature column exits 5 naming it, leaving no output' '
	cut -d, -f1,2,4- in.csv >nox2.csv &&
	test_expect_code 5 "$MLOPS" score-batch churn:1 -i nox2.csv -o fail.csv 2>err &&
	test_one_line err &&
	test_grep "x2" err &&
	test ! -e fail.csv
'

test_expect_success 'an unparsable number exits 5 with line and column, target untouched' '
	cp out.csv keep.csv &&
	sed "4s/^\([^,]*\),[^,]*,/\1,abc,/" in.csv >badnum.csv &&
	test_expect_code 5 "$MLOPS" score-batch churn:1 -i badnum.csv -o keep.csv 2>err &&
	test_one_line err &&
	test_grep "line 4, column 2" err &&
	cmp out.csv keep.csv &&
	test -z "$(ls -a | grep "\.tmp")"
'

test_expect_success '--max-errors skips bad rows into the reject file' '
	"$MLOPS" score-batch churn:1 -i badnum.csv -o skip.csv --max-errors 5 --reject-file rej.csv 2>err &&
	test "$(wc -l <skip.csv)" = "$(($(wc -l <in.csv) - 1))" &&
	test_grep "^4," rej.csv &&
	test_grep "skipped 1 bad row" err
'

test_expect_success 'more bad rows than --max-errors exits 5' '
	sed "5s/^\([^,]*\),[^,]*,/\1,xyz,/" badnum.csv >bad2.csv &&
	test_expect_code 5 "$MLOPS" score-batch churn:1 -i bad2.csv -o skip2.csv --max-errors 1 2>err &&
	test_one_line err &&
	test ! -e skip2.csv
'

test_expect_success '--max-errors counts bad rows across chunks and threads' '
	"$GEN" --rows 300000 --seed 25 --task binary --numeric 3 --categorical 2 >many.csv &&
	awk -F, -v OFS=, "NR > 1 && NR % 10000 == 0 { \$2 = \"bad\" } { print }" many.csv >manybad.csv &&
	test_expect_code 5 "$MLOPS" score-batch churn:1 -i manybad.csv -o mb.csv --max-errors 25 2>err &&
	test_one_line err &&
	test_grep "more than 25 bad rows: .* line 260000, column 2" err &&
	test ! -e mb.csv &&
	"$MLOPS" score-batch churn:1 -i manybad.csv -o mb.csv --max-errors 30 2>err &&
	test "$(wc -l <mb.csv)" = "$(($(wc -l <many.csv) - 30))"
'

test_expect_success '--max-errors: the row past the allowance is named, whatever the threads' '
	awk -F, -v OFS=, "NR > 1 && NR % 1000 == 0 { \$2 = \"bad\" } { print }" many.csv >dense.csv &&
	for t in 1 2 4 4 4 4; do
		test_expect_code 5 "$MLOPS" score-batch churn:1 -i dense.csv -o d.csv --max-errors 25 --threads $t 2>err &&
		test_one_line err &&
		test_grep "more than 25 bad rows: .* line 26000, column 2" err || return 1
	done
'

test_expect_success GZIP 'a truncated compressed input exits 5 after the rows before it, leaving no output' '
	gzip -c many.csv >many.csv.gz &&
	head -c $(($(wc -c <many.csv.gz) / 2)) many.csv.gz >half.csv.gz &&
	test_expect_code 5 "$MLOPS" score-batch churn:1 -i half.csv.gz -o half.out 2>err &&
	test_one_line err &&
	test_grep "half.csv.gz.*truncated" err &&
	test ! -e half.out &&
	awk -F, -v OFS=, "NR == 100 { \$2 = \"bad\" } { print }" many.csv | gzip -c >bad.csv.gz &&
	head -c $(($(wc -c <bad.csv.gz) / 2)) bad.csv.gz >badhalf.csv.gz &&
	test_expect_code 5 "$MLOPS" score-batch churn:1 -i badhalf.csv.gz -o half.out 2>err &&
	test_one_line err &&
	test_grep "line 100, column 2" err &&
	test ! -e half.out
'

# logit P: log(P / (1 - P)) of each number on stdin.
logit() {
	awk "{ printf \"%.12f\\n\", log(\$1 / (1 - \$1)) }"
}

test_expect_success 'an unseen category scores as all-zero with a warning' '
	sed "2s/,[a-d],/,zzz,/" in.csv >unseen.csv &&
	"$MLOPS" score-batch churn:1 -i unseen.csv -o unseen.out --keep id 2>err &&
	test_one_line err &&
	test_grep "warning: 1 value of .c1. .*never seen in training (scored as all-zero)" err &&
	# Only the first row changed.
	sed 2d out.csv >expect &&
	sed 2d unseen.out >actual &&
	test_cmp expect actual &&
	# The model is linear in its inputs: x1 x2 x3, then c1 one-hot
	# over levels a b c d.  With c1 all zero, the row loses exactly
	# the weight of its level: logit(p) - logit(p unseen) = w(c1, level).
	test_grep "\"levels\":	\[\"a\", \"b\", \"c\", \"d\"\]" trained.json &&
	level=$(sed -n 2p in.csv | cut -d, -f5) &&
	k=$(echo abcd | sed "s/$level.*//" | wc -c) &&
	w=$(sed -n "s/.*\"coefficients\":.*\[\[\(.*\)\]\].*/\1/p" trained.json |
		tr -d " " | cut -d, -f$((3 + k))) &&
	p_seen=$(sed -n 2p out.csv | cut -d, -f4) &&
	p_unseen=$(sed -n 2p unseen.out | cut -d, -f4) &&
	test "$p_seen" != "$p_unseen" &&
	awk -v a="$(echo $p_seen | logit)" -v b="$(echo $p_unseen | logit)" -v w="$w" \
		"BEGIN { d = a - b - w; if (d < 0) d = -d; exit !(d < 1e-9) }" || {
		echo "logit $p_seen - logit $p_unseen is not w = $w" &&
		return 1
	}
'

test_expect_success 'a missing input file exits 1' '
	test_expect_code 1 "$MLOPS" score-batch churn:1 -i nope.csv -o x.csv 2>err &&
	test_one_line err
'

test_expect_success 'an unknown model or stage exits 1' '
	test_expect_code 1 "$MLOPS" score-batch nosuch -i in.csv -o x.csv 2>err &&
	test_one_line err &&
	test_expect_code 1 "$MLOPS" score-batch churn@production -i in.csv -o x.csv 2>err &&
	test_one_line err
'

test_expect_success 'a tampered artefact is refused (1)' '
	sed "s/\"l2\":.*1,/\"l2\":	2,/" trained.json >tampered.json &&
	! cmp -s trained.json tampered.json &&
	test_expect_code 1 "$MLOPS" score-batch ./tampered.json -i in.csv -o x.csv 2>err &&
	test_one_line err &&
	test_grep "checksum" err
'

test_expect_success '--metrics-file writes Prometheus text' '
	"$MLOPS" score-batch churn:1 -i in.csv -o m.csv --metrics-file m.prom &&
	test_grep "^mlops_score_rows{model=\"churn\",version=\"1\"} 500$" m.prom &&
	test_grep "^mlops_score_last_success_timestamp_seconds" m.prom
'

test_expect_success 'the run is recorded with the input hash' '
	"$MLOPS" score-batch churn:1 -i in.csv -o h.csv &&
	sha=$(sha256sum <in.csv | cut -d" " -f1) &&
	"$MLOPS" --json runs --kind score-batch --limit 1 >runs &&
	test_grep "\"inputs\":\[{\"role\":\"input\",\"path\":\"in.csv\",\"sha256\":\"$sha\",\"rows\":500," runs &&
	test_grep "\"path\":\"h.csv\",\"sha256\":\"$(sha256sum <h.csv | cut -d" " -f1)\"" runs
'

test_expect_success 'the output does not depend on --threads' '
	"$MLOPS" score-batch churn:1 -i in.csv -o t1.csv --keep id --threads 1 &&
	"$MLOPS" score-batch churn:1 -i in.csv -o t3.csv --keep id --threads 3 &&
	cmp out.csv t1.csv &&
	cmp out.csv t3.csv
'

test_expect_success 'shard outputs concatenate to the whole output' '
	"$GEN" --rows 20000 --seed 24 --task binary --numeric 3 --categorical 2 >s.csv &&
	"$MLOPS" score-batch churn:1 -i s.csv -o whole.csv --keep id &&
	for i in 0 1 2 3; do
		"$MLOPS" score-batch churn:1 -i s.csv -o part$i.csv --keep id --shard $i/4 || exit 1
	done &&
	cat part0.csv part1.csv part2.csv part3.csv >joined.csv &&
	cmp whole.csv joined.csv &&
	test -s part3.csv
'

test_expect_success '--shard auto reads the scheduler environment' '
	MLOPS_SHARD_INDEX=1 MLOPS_SHARD_COUNT=4 "$MLOPS" score-batch churn:1 -i s.csv -o auto1.csv --keep id --shard auto &&
	cmp part1.csv auto1.csv &&
	JOB_COMPLETION_INDEX=2 MLOPS_SHARD_COUNT=4 "$MLOPS" score-batch churn:1 -i s.csv -o auto2.csv --keep id --shard auto &&
	cmp part2.csv auto2.csv &&
	SLURM_ARRAY_TASK_ID=4 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=4 "$MLOPS" score-batch churn:1 -i s.csv -o auto3.csv --keep id --shard auto &&
	cmp part3.csv auto3.csv
'

test_expect_success 'bad --shard values are usage errors' '
	test_expect_code 2 "$MLOPS" score-batch churn:1 -i s.csv -o x.csv --shard 4/4 2>err &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" score-batch churn:1 -i s.csv -o x.csv --shard auto 2>err &&
	test_one_line err &&
	test_grep "none of MLOPS_SHARD_INDEX" err &&
	test_expect_code 2 "$MLOPS" score-batch churn:1 -i - -o x.csv --shard 0/2 <s.csv 2>err &&
	test_one_line err &&
	test ! -e x.csv
'

test_expect_success GZIP 'compressed input cannot be sharded' '
	gzip -c s.csv >s.csv.gz &&
	test_expect_code 2 "$MLOPS" score-batch churn:1 -i s.csv.gz -o x.csv --shard 0/2 2>err &&
	test_one_line err &&
	test_grep "needs a plain file" err &&
	test ! -e x.csv
'

# wait_for_partial_output PID: wait up to 60 s until process PID has
# written some of its output to its temporary file (one with no name
# yet where Linux's O_TMPFILE works, see src/atomic.c, else a hidden
# .NAME.tmpXXXXXX), that is, until scoring is under way.
wait_for_partial_output() {
	tries=0
	while test $tries -lt 600; do
		for fd in /proc/$1/fd/*; do
			case $(readlink "$fd") in
			*"/#"[0-9]*" (deleted)" | */.*.tmp??????)
				test -s "$fd" && return 0 ;;
			esac
		done
		sleep 0.1
		tries=$((tries + 1))
	done
	echo "no partial output from process $1 after 60 s" >&2
	return 1
}

test_expect_success 'SIGKILL mid-output leaves no target, or the old one untouched' '
	"$GEN" --rows 200000 --seed 23 --task binary --numeric 3 --categorical 2 >big.csv &&
	"$MLOPS" score-batch churn:1 -i big.csv -o full.csv &&
	mkfifo big.fifo &&
	for old in none out.csv; do
		rm -f target.csv .target.csv.tmp* &&
		if test $old != none; then cp $old target.csv; fi &&
		{ "$MLOPS" score-batch churn:1 -i big.fifo -o target.csv & pid=$!; } &&
		# Hold the FIFO open (read-write: the open cannot block) and
		# feed it most of the rows: the process scores and writes
		# some of them, then waits for more, which never come.
		exec 9<>big.fifo &&
		{ head -n 150001 big.csv >big.fifo 9>&- & feeder=$!; } &&
		wait_for_partial_output $pid &&
		kill -0 $pid &&
		kill -9 $pid &&
		rc=0 &&
		{ wait $pid || rc=$?; } &&
		exec 9>&- &&
		{ wait $feeder || :; } &&
		test $rc = 137 &&
		if test $old = none
		then
			test ! -e target.csv
		else
			cmp $old target.csv
		fi &&
		# Nor a temporary file: it has no name until commit.
		{ ls -A | grep "target" >left || :; } &&
		{ test $old = none || echo target.csv; } >expect &&
		test_cmp expect left || return 1
	done &&
	"$MLOPS" score-batch churn:1 -i big.csv -o target.csv &&
	cmp full.csv target.csv
'

test_expect_success 'SIGKILL at random moments leaves the target absent or complete' '
	for delay in 0.01 0.05 0.1 0.2 0.3; do
		rm -f target.csv &&
		{ "$MLOPS" score-batch churn:1 -i big.csv -o target.csv & pid=$!; } &&
		sleep $delay &&
		{ kill -9 $pid 2>/dev/null || :; } &&
		rc=0 &&
		{ wait $pid || rc=$?; } &&
		case $rc in
		0) cmp full.csv target.csv ;;
		137) test ! -e target.csv || cmp full.csv target.csv ;;
		*) echo "score-batch exited $rc" && false ;;
		esac || return 1
	done
'

test_done
