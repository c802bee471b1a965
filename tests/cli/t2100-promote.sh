#!/bin/sh
# Stages: promote and its policy, compare-and-swap, rollback along the
# ledger, history, and GTO tags in git.

test_description='promote, rollback, history, git tags'
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

# GTO's tag grammar (iterative/gto gto/constants.py), for our names.
GTO_NAME='[a-z0-9]([a-z0-9-]*[a-z0-9])?'
GTO_TAG="^$GTO_NAME(@v[0-9]+\\.[0-9]+\\.[0-9]+|#$GTO_NAME)(#[0-9]+)?\$"

test_expect_success 'setup: five versions of churn' '
	"$MLOPS" init >/dev/null &&
	for s in 1 2 3 4 5; do
		make_csv $s d$s.csv &&
		"$MLOPS" train --data d$s.csv --target y -o m$s.json >/dev/null &&
		"$MLOPS" register churn m$s.json >/dev/null || return 1
	done &&
	"$MLOPS" list churn >out &&
	test $(grep -c "^churn " out) = 5
'

test_expect_success 'production needs a passing validation on record' '
	test_expect_code 3 "$MLOPS" promote churn:3 --to production 2>err &&
	test_one_line err &&
	test_grep "no passing validation on record" err &&
	test_expect_code 1 "$MLOPS" history churn@production 2>err &&
	test_one_line err
'

test_expect_success '--force needs --reason' '
	test_expect_code 2 "$MLOPS" promote churn:3 --to production --force 2>err &&
	test_one_line err
'

test_expect_success 'promote --force --reason moves production and says so' '
	"$MLOPS" promote churn:3 --to production --force --reason "first release" >out &&
	echo "promoted churn:3 to production (was unset) [forced]" >expect &&
	test_cmp expect out
'

test_expect_success 'promoting to where it already is exits 0 and says so' '
	"$MLOPS" promote churn:3 --to production >out &&
	test_grep "already in production" out
'

test_expect_success 'staging needs no validation' '
	"$MLOPS" promote churn:4 --to staging >out &&
	test_grep "^promoted churn:4 to staging" out &&
	"$MLOPS" list churn >out &&
	test_grep "^churn *4 .*staging" out
'

test_expect_success 'a passing validation allows promotion to production' '
	"$MLOPS" validate churn:4 --data d4.csv --min auc=0.5 >/dev/null &&
	"$MLOPS" --json promote churn:4 --to production --dry-run >out &&
	test_grep "\"forced\":false" out &&
	test_grep "\"validation_run_id\":[0-9]" out
'

test_expect_success '--dry-run changes nothing' '
	"$MLOPS" promote churn:5 --to production --force --reason x --dry-run >out &&
	test_grep "^would promote churn:5 to production (was churn:3)" out &&
	"$MLOPS" history churn@production >out &&
	test $(wc -l <out) = 2
'

test_expect_success '--expect refuses when the stage moved meanwhile' '
	test_expect_code 3 "$MLOPS" promote churn:5 --to production --force \
		--reason x --expect 2 2>err &&
	test_one_line err &&
	test_grep "holds version 3, not 2" err &&
	test_expect_code 3 "$MLOPS" promote churn:5 --to production --force \
		--reason x --expect none 2>err &&
	test_one_line err &&
	"$MLOPS" history churn@production >out &&
	test $(wc -l <out) = 2
'

test_expect_success 'promote 5 with a matching --expect' '
	"$MLOPS" promote churn:5 --to production --force --reason "second release" \
		--expect 3 >out &&
	test_grep "^promoted churn:5 to production (was churn:3)" out
'

test_expect_success 'rollback returns to the previous holder, not N-1' '
	"$MLOPS" rollback churn@production --reason "auc dropped" >out &&
	echo "rolled back churn@production from 5 to 3" >expect &&
	test_cmp expect out
'

test_expect_success 'history shows three moves with actors and reasons, ending at 3' '
	"$MLOPS" history churn@production >out &&
	test $(wc -l <out) = 4 &&
	sed -n 2p out | grep " - -> 3 .*promote (forced) .*first release" &&
	sed -n 3p out | grep " 3 -> 5 .*promote (forced) .*second release" &&
	sed -n 4p out | grep " 5 -> 3 .*rollback .*auc dropped" &&
	user=$(id -un) &&
	test $(grep -c " $user@" out) = 3
'

test_expect_success 'history --json has one object per move' '
	"$MLOPS" --json history churn >out &&
	test $(wc -l <out) = 4 &&
	test $(grep -c "\"schema\":1" out) = 4 &&
	tail -n 1 out | grep "\"action\":\"rollback\"" &&
	tail -n 1 out | grep "\"to_version\":3"
'

test_expect_success 'rollback with no earlier holder exits 1 with one line' '
	test_expect_code 1 "$MLOPS" rollback churn@production 2>err &&
	test_one_line err &&
	echo "mlops rollback: stage '\''production'\'' of model '\''churn'\'' has no earlier holder to roll back to" >expect &&
	test_cmp expect err
'

test_expect_success 'rollback --to must name an earlier holder' '
	"$MLOPS" promote churn:1 --to staging >/dev/null &&
	"$MLOPS" promote churn:2 --to staging >/dev/null &&
	test_expect_code 1 "$MLOPS" rollback churn@staging --to 5 2>err &&
	test_one_line err &&
	"$MLOPS" rollback churn@staging --to 4 >out &&
	test_grep "from 2 to 4" out
'

test_expect_success 'unknown model, version or stage exits 1 with one line' '
	test_expect_code 1 "$MLOPS" promote nope:1 --to staging 2>err &&
	test_one_line err && test_grep "no model .nope." err &&
	test_expect_code 1 "$MLOPS" promote churn:9 --to staging 2>err &&
	test_one_line err && test_grep "has no version 9" err &&
	test_expect_code 1 "$MLOPS" rollback churn@nope 2>err &&
	test_one_line err &&
	test_expect_code 1 "$MLOPS" history churn@nope 2>err &&
	test_one_line err &&
	test_expect_code 1 "$MLOPS" history nope 2>err &&
	test_one_line err
'

test_expect_success 'usage errors exit 2 with one line' '
	test_expect_code 2 "$MLOPS" promote churn:1 --to staging --bogus 2>err &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" promote churn:1 2>err &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" promote churn:1 --to latest 2>err &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" promote churn:1 --to "bad stage" 2>err &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" promote churn:1 --to staging --expect x 2>err &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" rollback churn:1 2>err &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" promote 2>err &&
	test_one_line err
'

test_expect_success 'verify passes after all the moves' '
	"$MLOPS" verify >/dev/null
'

test_expect_success 'git tags in GTO grammar with --git-tag' '
	mkdir gitrepo && cd gitrepo &&
	git init -q . &&
	git -c user.name=Dev -c user.email=dev@example.com \
		commit -q --allow-empty -m start &&
	"$MLOPS" init >/dev/null &&
	"$MLOPS" register churn ../m1.json --git-tag >out &&
	test_grep "^git tag churn@v0.0.1$" out &&
	"$MLOPS" register churn ../m2.json --git-tag >/dev/null &&
	"$MLOPS" promote churn:1 --to production --force --reason r --git-tag >out &&
	test_grep "^git tag churn#production#1$" out &&
	"$MLOPS" promote churn:2 --to production --force --reason r --git-tag >/dev/null &&
	"$MLOPS" promote churn:2 --to staging --git-tag >/dev/null &&
	git tag -l >tags &&
	cat >expect <<-\EOF &&
	churn#production#1
	churn#production#2
	churn#staging#3
	churn@v0.0.1
	churn@v0.0.2
	EOF
	test_cmp expect tags &&
	test $(grep -E -c "$GTO_TAG" tags) = 5 &&
	git tag -n >tagn &&
	test $(cut -d" " -f1 tagn | grep -E -c "$GTO_TAG") = 5 &&
	test_grep "^churn#production#1 *Assigning stage production to artifact churn version v0.0.1$" tagn &&
	test_grep "^churn@v0.0.2 *Registering artifact churn version v0.0.2$" tagn &&
	test "$(git cat-file -t churn@v0.0.1)" = tag &&
	test "$(git rev-parse "churn#production#2^{commit}")" = "$(git rev-parse HEAD)" &&
	git for-each-ref refs/tags --format="%(taggername) %(taggeremail)" |
		sort -u >tagger &&
	echo "mlops <mlops@localhost>" >expect &&
	test_cmp expect tagger
'

test_expect_success 'git.tags = true in config tags without the flag' '
	cd gitrepo &&
	git config -f .mlops/config git.tags true &&
	"$MLOPS" register churn ../m3.json >out &&
	test_grep "^git tag churn@v0.0.3$" out &&
	git tag -l "churn@v0.0.3" | grep .
'

test_expect_success '--git-tag refuses names GTO cannot read' '
	cd gitrepo &&
	test_expect_code 2 "$MLOPS" register Churn_X ../m4.json --git-tag 2>err &&
	test_one_line err
'

test_expect_success '--git-tag outside a git repository exits 1' '
	test_expect_code 1 "$MLOPS" promote churn:2 --to dev --git-tag 2>err &&
	test_one_line err &&
	test_grep "no git repository" err &&
	test_expect_code 1 "$MLOPS" history churn@dev 2>err
'

test_expect_success 'a second rollback walks further back along the ledger' '
	for v in 1 2 3 4; do
		"$MLOPS" promote churn:$v --to canary >/dev/null || return 1
	done &&
	"$MLOPS" rollback churn@canary >out &&
	test_grep "from 4 to 3" out &&
	"$MLOPS" rollback churn@canary >out &&
	test_grep "from 3 to 2" out &&
	"$MLOPS" promote churn:5 --to canary >/dev/null &&
	"$MLOPS" rollback churn@canary >out &&
	test_grep "from 5 to 2" out &&
	"$MLOPS" rollback churn@canary --to 1 >out &&
	test_grep "from 2 to 1" out &&
	test_expect_code 1 "$MLOPS" rollback churn@canary 2>err &&
	test_one_line err
'

test_expect_success 'history --limit shows the newest moves, oldest first' '
	"$MLOPS" history churn@canary --limit 2 >out &&
	test $(wc -l <out) = 3 &&
	sed -n 2p out | grep " 5 -> 2 .*rollback" &&
	sed -n 3p out | grep " 2 -> 1 .*rollback" &&
	"$MLOPS" --json history churn --limit 3 >out &&
	test $(wc -l <out) = 3 &&
	test_expect_code 2 "$MLOPS" history churn --limit -1 2>err &&
	test_one_line err
'

test_expect_success 'history --at tells what each stage held then' '
	"$MLOPS" promote churn:1 --to qa >/dev/null &&
	sleep 1.1 &&
	t1=$(date -u +%Y-%m-%dT%H:%M:%SZ) &&
	sleep 1.1 &&
	"$MLOPS" promote churn:2 --to qa >/dev/null &&
	"$MLOPS" history churn@qa --at "$t1" >out &&
	test $(wc -l <out) = 2 &&
	sed -n 2p out | grep " qa .* - -> 1 " &&
	"$MLOPS" --json history churn --at "$t1" >out &&
	grep "\"stage\":\"qa\"" out | grep "\"to_version\":1" &&
	"$MLOPS" --json history churn@qa --at "$(date -u +%Y-%m-%d)" >out &&
	test_grep "\"to_version\":2" out &&
	"$MLOPS" --json history churn --at 2999 >out &&
	grep "\"stage\":\"qa\"" out | grep "\"to_version\":2" &&
	grep "\"stage\":\"canary\"" out | grep "\"to_version\":1" &&
	test_expect_code 1 "$MLOPS" history churn@qa --at 2000-01-01 2>err &&
	test_one_line err &&
	test_grep "was not set at 2000-01-01" err &&
	test_expect_code 2 "$MLOPS" history churn --at yesterday 2>err &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" history churn --at 2026-11-2 2>err
'

test_expect_success 'per-stage policy comes from .mlops/config' '
	git config -f .mlops/config stage.qa.require-validation true &&
	test_expect_code 3 "$MLOPS" promote churn:5 --to qa 2>err &&
	test_one_line err &&
	test_grep "which '\''qa'\'' requires" err &&
	"$MLOPS" promote churn:5 --to qa --force --reason "qa is down" >out &&
	test_grep "\[forced\]" out &&
	git config -f .mlops/config stage.production.require-validation false &&
	"$MLOPS" promote churn:5 --to production >out &&
	! test_grep "forced" out &&
	"$MLOPS" --json history churn@production --limit 1 >out &&
	test_grep "\"forced\":false" out &&
	git config -f .mlops/config stage.qa.require-validation maybe &&
	test_expect_code 1 "$MLOPS" promote churn:1 --to qa 2>err &&
	test_one_line err &&
	git config -f .mlops/config --unset stage.qa.require-validation &&
	git config -f .mlops/config --unset stage.production.require-validation
'

test_expect_success 'history shows the git identity of the actor' '
	cd gitrepo &&
	git config user.name "Dev One" &&
	git config user.email dev@example.com &&
	"$MLOPS" promote churn:1 --to staging >/dev/null &&
	"$MLOPS" history churn@staging >out &&
	test_grep "@.* (Dev One <dev@example.com>) " out &&
	"$MLOPS" --json history churn@staging >out &&
	test_grep "\"git_identity\":\"Dev One <dev@example.com>\"" out
'

test_expect_success 'a schema 1 registry is migrated, even by a reading command, and rollback still walks its ledger' '
	mkdir old && cd old &&
	"$MLOPS" init >/dev/null &&
	for v in 1 2 3 4; do
		"$MLOPS" register churn ../m$v.json >/dev/null || return 1
	done &&
	for v in 1 2 3; do
		"$MLOPS" promote churn:$v --to staging >/dev/null || return 1
	done &&
	"$MLOPS" rollback churn@staging >/dev/null &&
	"$MLOPS" promote churn:4 --to staging >/dev/null &&
	sqlite3 .mlops/registry.db <<-\SQL &&
	PRAGMA foreign_keys = OFF;
	BEGIN;
	DROP TABLE run_outputs;
	DROP INDEX runs_artifact;
	ALTER TABLE runs DROP COLUMN artifact_sha256;
	CREATE TABLE se1 (
	  id INTEGER PRIMARY KEY,
	  model TEXT NOT NULL REFERENCES models (name),
	  stage TEXT NOT NULL,
	  from_version INTEGER,
	  to_version INTEGER NOT NULL,
	  action TEXT NOT NULL CHECK (action IN ('"'"'promote'"'"', '"'"'rollback'"'"')),
	  forced INTEGER NOT NULL DEFAULT 0,
	  actor TEXT NOT NULL,
	  host TEXT NOT NULL,
	  git_identity TEXT,
	  at TEXT NOT NULL,
	  reason TEXT,
	  validation_run_id INTEGER,
	  FOREIGN KEY (model, to_version) REFERENCES versions (model, version)
	);
	INSERT INTO se1 SELECT id, model, stage, from_version, to_version,
	  action, forced, actor, host, git_identity, at, reason,
	  validation_run_id FROM stage_events;
	DROP TABLE stage_events;
	ALTER TABLE se1 RENAME TO stage_events;
	CREATE INDEX stage_events_model_stage ON stage_events (model, stage, id);
	CREATE INDEX stage_events_at ON stage_events (model, at);
	CREATE TRIGGER stage_events_no_update BEFORE UPDATE ON stage_events
	BEGIN SELECT RAISE(ABORT, '"'"'the stage ledger is append-only'"'"'); END;
	CREATE TRIGGER stage_events_no_delete BEFORE DELETE ON stage_events
	BEGIN SELECT RAISE(ABORT, '"'"'the stage ledger is append-only'"'"'); END;
	PRAGMA user_version = 1;
	COMMIT;
	SQL
	test "$(sqlite3 .mlops/registry.db "PRAGMA user_version")" = 1 &&
	"$MLOPS" history churn@staging >out &&
	test $(wc -l <out) = 6 &&
	test "$(sqlite3 .mlops/registry.db "PRAGMA user_version")" = 3 &&
	"$MLOPS" rollback churn@staging >out &&
	test_grep "from 4 to 2" out &&
	"$MLOPS" rollback churn@staging >out &&
	test_grep "from 2 to 1" out &&
	test_expect_code 1 "$MLOPS" rollback churn@staging 2>err &&
	! sqlite3 .mlops/registry.db \
		"UPDATE stage_events SET reason = '"'"'x'"'"'" 2>err &&
	test_grep "append-only" err &&
	"$MLOPS" verify >/dev/null
'

test_done
