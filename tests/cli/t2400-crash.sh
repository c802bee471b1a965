#!/bin/sh
# Crash safety: 200 SIGKILLs at random moments of register, promote and
# import.  Afterwards the database passes PRAGMA integrity_check, no
# version lacks its artefact file, and `mlops verify` exits 0.

test_description='SIGKILL during register, promote and import'
. "$TEST_SRCDIR/cli/lib.sh"

single_blas_thread

N_KILLS=200
N_ART=24

test_expect_success "setup: $N_ART artefacts and bundles of them" '
	"$GEN" --rows 40 --seed 1 --task binary --numeric 2 >t.csv &&
	mkdir a src &&
	seq 1 $N_ART | xargs -P 2 -I{} "$MLOPS" train --data t.csv --target y \
		--exclude id --seed {} -o a/{}.json >/dev/null &&
	(
		cd src && "$MLOPS" init >/dev/null &&
		for k in $(seq 1 $N_ART); do
			"$MLOPS" register b ../a/$k.json >/dev/null &&
			"$MLOPS" export b:$k -o ../a/$k.tar.gz >/dev/null ||
			return 1
		done
	) &&
	"$MLOPS" init >/dev/null &&
	for k in 1 2 3; do
		"$MLOPS" register m a/$k.json >/dev/null || return 1
	done
'

# The plan: one line per command, "OP K DELAY": an operation, an
# artefact number and a delay in seconds before the SIGKILL, drawn from
# a fixed seed.  Delays are spread over 1.2 times the measured life of a
# command, so that kills land in its start-up, its checks, its writes
# and its commit alike.  Commands are started until N_KILLS of them died
# by the signal before finishing; the plan is ten times longer than that
# because many commands (a repeated register, say) finish early, more so
# on a slow or loaded machine.
test_expect_success 'plan: measure a command and draw the kill times' '
	t0=$(date +%s%N) &&
	for k in 1 2 3 4 5; do
		"$MLOPS" import a/$k.tar.gz --as probe >/dev/null &&
		"$MLOPS" promote m:$(( (k % 3) + 1 )) --to probe >/dev/null ||
		return 1
	done &&
	life_ms=$(( ($(date +%s%N) - t0) / 10000000 )) &&
	echo "$life_ms" >life &&
	awk -v n=$((N_KILLS * 10)) -v k=$N_ART -v life=$life_ms "BEGIN {
		srand(2400);
		for (i = 0; i < n; i++) {
			r = rand();
			op = r < 0.34 ? \"register\" : (r < 0.67 ? \"promote\" : \"import\");
			printf \"%s %d %.3f\\n\", op, 1 + int(rand() * k), rand() * life * 1.2 / 1000
		}
	}" >plan &&
	test $(wc -l <plan) = $((N_KILLS * 10))
'
say "a command lives about $(cat life 2>/dev/null) ms"

test_expect_success "$N_KILLS commands killed at random moments" '
	killed=0 &&
	while test $killed -lt $N_KILLS && read op k delay; do
		case $op in
		register) set -- register m a/$k.json ;;
		promote) set -- promote m:$(( (k % 3) + 1 )) --to s$((k % 4)) \
			--reason "crash test" ;;
		import) set -- import a/$k.tar.gz --as i$((k % 5)) ;;
		esac &&
		"$MLOPS" "$@" >/dev/null 2>>errors &
		pid=$! &&
		sleep "$delay" &&
		{ kill -9 $pid 2>/dev/null || :; } &&
		rc=0 &&
		{ wait $pid 2>/dev/null || rc=$?; } &&
		case $rc in
		137) killed=$((killed + 1)) ;;
		0) ;;
		*) echo "mlops $* exited $rc, neither finished nor killed" &&
		   return 1 ;;
		esac || return 1
	done <plan &&
	echo $killed >killed &&
	test $killed = $N_KILLS
'
say "$(cat killed 2>/dev/null) commands were killed before they finished"

say "afterwards: $(find .mlops/artifacts -name ".tmp-*" | wc -l) temporary files left by kills, $(sqlite3 .mlops/registry.db "SELECT COUNT(*) FROM versions") versions, $(sqlite3 .mlops/registry.db "SELECT COUNT(*) FROM stage_events") ledger rows"

test_expect_success 'PRAGMA integrity_check is ok' '
	sqlite3 .mlops/registry.db "PRAGMA integrity_check" >out &&
	echo ok >expect &&
	test_cmp expect out &&
	sqlite3 .mlops/registry.db "PRAGMA foreign_key_check" >out &&
	test_cmp /dev/null out
'

test_expect_success 'no version lacks its artefact file' '
	sqlite3 .mlops/registry.db "SELECT sha256 FROM versions" >shas &&
	test $(wc -l <shas) -ge 3 &&
	while read sha; do
		rest=${sha#??} &&
		test -f .mlops/artifacts/sha256/${sha%$rest}/$rest ||
		{ echo "missing artefact $sha"; return 1; }
	done <shas
'

test_expect_success 'mlops verify exits 0 and the registry still works' '
	"$MLOPS" verify >out &&
	test_grep "^ok: " out &&
	"$MLOPS" register m a/$N_ART.json >/dev/null &&
	"$MLOPS" promote m:1 --to after-crash >/dev/null &&
	"$MLOPS" import a/1.tar.gz --as after-crash >/dev/null &&
	"$MLOPS" history m >/dev/null &&
	"$MLOPS" verify >/dev/null
'

test_done
