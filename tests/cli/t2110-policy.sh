#!/bin/sh
# The stage policy: the latest validation of a version decides, it must
# have applied a gate, and [stage] require-against wants it compared with
# the stage's current holder.  Refusals name a gated command to run.

test_description='promotion policy: latest, gated, against the holder'
. "$TEST_SRCDIR/cli/lib.sh"

make_csv() {
	awk -v seed="$1" 'BEGIN {
		srand(seed); print "a,b,y";
		for (i = 0; i < 120; i++) {
			a = rand(); b = rand();
			print a "," b "," (a + b + rand() * 0.5 > 1.25 ? 1 : 0)
		}
	}' >"$2"
}

# last_run KIND: the id of the newest run of KIND.
last_run() {
	"$MLOPS" --json runs --kind "$1" --limit 1 |
		sed 's/^{"schema":1,"id":\([0-9]*\),.*/\1/'
}

test_expect_success 'setup: four versions of churn' '
	"$MLOPS" init >/dev/null &&
	for s in 1 2 3 4; do
		make_csv $s d$s.csv &&
		"$MLOPS" -q train --data d$s.csv --target y -o m$s.json &&
		"$MLOPS" register churn m$s.json >/dev/null || return 1
	done
'

test_expect_success 'no validation at all: the refusal shows a gated command' '
	test_expect_code 3 "$MLOPS" promote churn:1 --to production 2>err &&
	echo "mlops promote: churn:1 has no passing validation on record, which '\''production'\'' requires; run '\''mlops validate churn:1 --data FILE --min auc=V'\'' first, or use --force --reason TEXT" >expect &&
	test_cmp expect err
'

test_expect_success 'a validate with no gate does not unlock production' '
	"$MLOPS" validate churn:1 --data d1.csv >/dev/null &&
	id=$(last_run validate) &&
	test_expect_code 3 "$MLOPS" promote churn:1 --to production 2>err &&
	echo "mlops promote: churn:1 has no gate in its latest validation (run $id), and '\''production'\'' takes only the latest, with a gate; run '\''mlops validate churn:1 --data FILE --min auc=V'\'' first, or use --force --reason TEXT" >expect &&
	test_cmp expect err &&
	test_expect_code 3 "$MLOPS" promote churn:1 --to production --dry-run 2>err &&
	test_one_line err
'

test_expect_success 'a gated pass unlocks it and the ledger names that run' '
	"$MLOPS" validate churn:1 --data d1.csv --min auc=0.5 >/dev/null &&
	id=$(last_run validate) &&
	"$MLOPS" --json promote churn:1 --to production >out &&
	test_grep "\"forced\":false" out &&
	test_grep "\"validation_run_id\":$id," out &&
	"$MLOPS" --json history churn@production --limit 1 >out &&
	test_grep "\"validation_run_id\":$id}" out
'

test_expect_success 'an older pass does not unlock after a newer failure' '
	"$MLOPS" validate churn:2 --data d2.csv --min auc=0.5 >/dev/null &&
	test_expect_code 3 "$MLOPS" validate churn:2 --data d2.csv \
		--min auc=0.9999 >/dev/null 2>&1 &&
	id=$(last_run validate) &&
	test_expect_code 3 "$MLOPS" promote churn:2 --to production 2>err &&
	echo "mlops promote: churn:2 has failed its latest validation (run $id), and '\''production'\'' takes only the latest; run '\''mlops validate churn:2 --data FILE --min auc=V'\'' first, or use --force --reason TEXT" >expect &&
	test_cmp expect err &&
	"$MLOPS" list churn >out &&
	test_grep "^churn *1 .*production" out
'

test_expect_success '--force --reason still overrides, and the ledger says so' '
	"$MLOPS" --json promote churn:2 --to production --force \
		--reason "known failure, hotfix" >out &&
	test_grep "\"forced\":true" out &&
	test_grep "\"validation_run_id\":null" out &&
	"$MLOPS" history churn@production >out &&
	tail -n 1 out | grep " 1 -> 2 .*promote (forced) .*known failure, hotfix"
'

test_expect_success 'a newer gated pass unlocks again' '
	"$MLOPS" validate churn:1 --data d1.csv --max logloss=10 >/dev/null &&
	"$MLOPS" promote churn:1 --to production >out &&
	test_grep "^promoted churn:1 to production (was churn:2)$" out
'

test_expect_success 'require-gate = false accepts a validation with no gate' '
	"$MLOPS" validate churn:3 --data d3.csv >/dev/null &&
	test_expect_code 3 "$MLOPS" promote churn:3 --to production --dry-run 2>err &&
	git config -f .mlops/config stage.production.require-gate false &&
	"$MLOPS" promote churn:3 --to production --dry-run >out &&
	test_grep "^would promote churn:3 to production (was churn:1)$" out &&
	git config -f .mlops/config --unset stage.production.require-gate
'

test_expect_success 'require-against: a gated pass alone is not enough' '
	git config -f .mlops/config stage.production.require-against true &&
	"$MLOPS" validate churn:3 --data d3.csv --min auc=0.5 >/dev/null &&
	id=$(last_run validate) &&
	test_expect_code 3 "$MLOPS" promote churn:3 --to production 2>err &&
	echo "mlops promote: churn:3 has no validation against churn:1, the holder of '\''production'\'', on record, which '\''production'\'' requires (its latest, run $id, was not compared with it); run '\''mlops validate churn:3 --data FILE --against churn@production --min-delta auc=D'\'' first, or use --force --reason TEXT" >expect &&
	test_cmp expect err
'

test_expect_success 'require-against: a comparison with another version is not enough' '
	"$MLOPS" validate churn:3 --data d3.csv --against churn:2 \
		--min-delta auc=-1 >/dev/null &&
	test_expect_code 3 "$MLOPS" promote churn:3 --to production 2>err &&
	test_one_line err &&
	test_grep "was not compared with it" err
'

test_expect_success 'require-against: compared with the holder, named as a file, unlocks' '
	"$MLOPS" validate churn:3 --data d3.csv --against ./m1.json \
		--min-delta auc=-1 >/dev/null &&
	"$MLOPS" promote churn:3 --to production >out &&
	test_grep "^promoted churn:3 to production (was churn:1)$" out
'

test_expect_success 'require-against: compared with NAME@STAGE unlocks' '
	"$MLOPS" validate churn:4 --data d4.csv --against churn@production \
		--min-delta auc=-1 >/dev/null &&
	"$MLOPS" promote churn:4 --to production >out &&
	test_grep "^promoted churn:4 to production (was churn:3)$" out
'

test_expect_success 'require-against on an unset stage asks only for a gated pass' '
	git config -f .mlops/config stage.live.require-validation true &&
	git config -f .mlops/config stage.live.require-against true &&
	"$MLOPS" promote churn:4 --to live >out &&
	test_grep "^promoted churn:4 to live (was unset)$" out
'

test_expect_success 'a bad policy value exits 1 with one line' '
	git config -f .mlops/config stage.production.require-against sometimes &&
	test_expect_code 1 "$MLOPS" promote churn:3 --to production 2>err &&
	test_one_line err &&
	test_grep "stage.production.require-against must be true or false" err &&
	git config -f .mlops/config --unset stage.production.require-against
'

test_expect_success 'rollback skips the policy and records the latest passing validation' '
	"$MLOPS" --json rollback churn@production >out &&
	test_grep "\"version\":3" out &&
	"$MLOPS" --json history churn@production --limit 1 >out &&
	test_grep "\"action\":\"rollback\"" out &&
	test_grep "\"validation_run_id\":[0-9]" out
'

test_done
