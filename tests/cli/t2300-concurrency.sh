#!/bin/sh
# Concurrency: 8 processes x 50 register-and-promote each against one
# repository.  Afterwards versions 1..400 exist exactly once, the ledger
# holds every move as one serial chain, every command exited 0 or 4 (a
# 4 is retried, as it is safe to), and "database is locked" never
# reached stderr.

test_description='concurrent register and promote'
. "$TEST_SRCDIR/cli/lib.sh"

# One BLAS thread per process: 8 writers on a small machine.
single_blas_thread

N_PROC=8
N_EACH=50
N_ALL=$((N_PROC * N_EACH))

# run_retry LOG CMD...: run CMD until it exits other than 4; log each code.
run_retry() {
	log=$1
	shift
	while :; do
		"$@"
		rc=$?
		echo "$rc" >>"$log"
		test "$rc" = 4 || return "$rc"
	done
}

# worker P: register and promote this worker's 50 artefacts.
worker() {
	p=$1
	i=0
	while test $i -lt $N_EACH; do
		k=$(( (p - 1) * N_EACH + i + 1 ))
		run_retry codes.$p "$MLOPS" --json register m a/$k.json \
			>reg.$p.$k 2>>err.$p || return 1
		v=$(sed -n 's/.*"version":\([0-9]*\).*/\1/p' reg.$p.$k)
		run_retry codes.$p "$MLOPS" promote "m:$v" --to staging \
			--reason "worker $p item $k" >/dev/null 2>>err.$p || return 1
		i=$((i + 1))
	done
}

test_expect_success "setup: $N_ALL distinct artefacts" '
	"$MLOPS" init >/dev/null &&
	"$GEN" --rows 40 --seed 1 --task binary --numeric 2 >t.csv &&
	mkdir a &&
	seq 1 $N_ALL | xargs -P 2 -I{} "$MLOPS" train --data t.csv --target y \
		--exclude id --seed {} -o a/{}.json >/dev/null &&
	test $(sha256sum a/*.json | cut -c1-64 | sort -u | wc -l) = $N_ALL
'

test_expect_success "$N_PROC processes x $N_EACH register-and-promote" '
	start=$(date +%s) &&
	for p in $(seq 1 $N_PROC); do
		( worker $p && echo 0 >status.$p || echo $? >status.$p ) &
	done &&
	wait &&
	echo "$((2 * N_ALL)) commands in $(($(date +%s) - start)) s" >took &&
	cat status.* | sort -u >statuses &&
	echo 0 >expect &&
	test_cmp expect statuses
'

say "$(cat took 2>/dev/null)"

test_expect_success 'every command exited 0 or 4, and never "database is locked"' '
	cat codes.* | sort -u | grep -v -x -e 0 -e 4 >bad || true &&
	test_cmp /dev/null bad &&
	test $(cat codes.* | grep -c -x 0) = $((2 * N_ALL)) &&
	cat err.* >stderr &&
	! grep -i "database is locked" stderr
'

test_expect_success "versions 1..$N_ALL exist exactly once" '
	"$MLOPS" --json list m >list &&
	sed -n "s/.*\"version\":\([0-9]*\).*/\1/p" list | sort -n >versions &&
	seq 1 $N_ALL >expect &&
	test_cmp expect versions &&
	sed -n "s/.*\"sha256\":\"\([0-9a-f]*\)\".*/\1/p" list | sort -u >shas &&
	test $(wc -l <shas) = $N_ALL &&
	cat reg.* | sed -n "s/.*\"version\":\([0-9]*\).*/\1/p" | sort -n >got &&
	test_cmp expect got
'

test_expect_success 'the ledger holds every move as one serial chain' '
	"$MLOPS" --json history m@staging >ledger &&
	test $(wc -l <ledger) = $N_ALL &&
	sed -n "s/.*\"from_version\":\([0-9a-z]*\),\"to_version\":\([0-9]*\).*/\1 \2/p" \
		ledger >moves &&
	test $(wc -l <moves) = $N_ALL &&
	awk "NR == 1 { if (\$1 != \"null\") exit 1; prev = \$2; next }
	     { if (\$1 != prev) exit 1; prev = \$2 }" moves &&
	cut -d" " -f2 moves | sort -n >targets &&
	test_cmp expect targets &&
	test $(grep -c "\"reason\":\"worker " ledger) = $N_ALL
'

test_expect_success 'a lock held past registry.busy-timeout exits 4, shorter waits' '
	(echo "BEGIN IMMEDIATE;" && sleep 2 && echo "COMMIT;") |
		sqlite3 .mlops/registry.db &
	sleep 0.5 &&
	git config -f .mlops/config registry.busy-timeout 200 &&
	test_expect_code 4 "$MLOPS" promote m:1 --to staging 2>err &&
	test_one_line err &&
	test_grep "registry is locked by another process (waited 200 ms); retry" err &&
	git config -f .mlops/config --unset registry.busy-timeout &&
	"$MLOPS" promote m:1 --to staging >out &&
	test_grep "^promoted m:1 to staging" out &&
	wait
'

test_expect_success 'the registry is intact afterwards' '
	"$MLOPS" verify >out &&
	test_grep "^ok: $N_ALL artefacts and $N_ALL versions verified" out &&
	sqlite3 .mlops/registry.db "PRAGMA integrity_check" >out &&
	test "$(cat out)" = ok
'

test_done
