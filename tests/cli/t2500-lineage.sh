#!/bin/sh
# Lineage: every run records its artefact, inputs and outputs by hash,
# checked by value against sha256sum; runs --output walks from a scored
# file back to the training run's commit and data; old registries
# upgrade to the schema that holds it.

test_description='lineage of runs and runs --output'
. "$TEST_SRCDIR/cli/lib.sh"

# hash FILE: its SHA-256 in hex.
hash() {
	sha256sum <"$1" | cut -d" " -f1
}

test_expect_success 'setup: a git repository with a commit, and data' '
	git init -q . &&
	echo "*" >.git/info/exclude &&
	git -c user.name=Dev -c user.email=dev@example.com \
		commit -q --allow-empty -m "first" &&
	"$GEN" --rows 800 --seed 31 --task binary --numeric 3 --categorical 1 >train.csv &&
	"$GEN" --rows 300 --seed 32 --task binary --numeric 3 --categorical 1 >in.csv &&
	"$MLOPS" init >/dev/null
'

test_expect_success 'train --register records its version, artefact, data and output by hash' '
	"$MLOPS" -q train --data train.csv --target y --exclude id -o m.json \
		--register churn &&
	"$MLOPS" --json runs --kind train --limit 1 >run &&
	test_grep "\"model\":\"churn\",\"version\":1," run &&
	test_grep "\"artifact_sha256\":\"$(hash m.json)\"" run &&
	test_grep "\"role\":\"data\",\"path\":\"train.csv\",\"sha256\":\"$(hash train.csv)\",\"rows\":800" run &&
	test_grep "\"outputs\":\[{\"role\":\"artifact\",\"path\":\"m.json\",\"sha256\":\"$(hash m.json)\"}\]" run &&
	test_grep "\"git_commit\":\"$(git rev-parse HEAD)\"" run
'

test_expect_success 'validate records its data file by hash, and the champion' '
	"$MLOPS" validate churn:1 --data in.csv --against ./m.json >/dev/null &&
	"$MLOPS" --json runs --kind validate --limit 1 >run &&
	test_grep "\"artifact_sha256\":\"$(hash m.json)\"" run &&
	test_grep "\"inputs\":\[{\"role\":\"data\",\"path\":\"in.csv\",\"sha256\":\"$(hash in.csv)\",\"rows\":300}\]" run &&
	test_grep "\"data_sha256\":\"$(hash in.csv)\"" run &&
	test_grep "\"against_sha256\":\"$(hash m.json)\"" run
'

test_expect_success 'score-batch with a model FILE records the artefact and its version' '
	"$MLOPS" score-batch ./m.json -i in.csv -o out.csv --keep id \
		--max-errors 5 --reject-file rej.csv --metrics-file out.prom &&
	"$MLOPS" --json runs --kind score-batch --limit 1 >run &&
	test_grep "\"model\":\"churn\",\"version\":1,\"artifact_sha256\":\"$(hash m.json)\"" run &&
	test_grep "\"role\":\"input\",\"path\":\"in.csv\",\"sha256\":\"$(hash in.csv)\",\"rows\":300" run &&
	test_grep "{\"role\":\"predictions\",\"path\":\"out.csv\",\"sha256\":\"$(hash out.csv)\",\"rows\":300}" run &&
	test_grep "{\"role\":\"rejects\",\"path\":\"rej.csv\",\"sha256\":\"$(hash rej.csv)\",\"rows\":0}" run &&
	test_grep "{\"role\":\"metrics\",\"path\":\"out.prom\",\"sha256\":\"$(hash out.prom)\"}" run
'

test_expect_success 'an artefact file never registered still records its hash' '
	"$MLOPS" -q train --data train.csv --target y --exclude id --C 0.5 -o loose.json &&
	"$MLOPS" score-batch ./loose.json -i in.csv -o loose.csv &&
	"$MLOPS" --json runs --kind score-batch --limit 1 >run &&
	test_grep "\"model\":null,\"version\":null,\"artifact_sha256\":\"$(hash loose.json)\"" run
'

test_expect_success 'stdout output is hashed as it streams' '
	"$MLOPS" score-batch churn:1 -i in.csv -o - >piped.csv &&
	"$MLOPS" --json runs --kind score-batch --limit 1 >run &&
	test_grep "{\"role\":\"predictions\",\"path\":\"-\",\"sha256\":\"$(hash piped.csv)\",\"rows\":300}" run
'

test_expect_success 'drift records the artefact, the input and the reference by hash' '
	"$MLOPS" drift ./m.json -i in.csv --reference train.csv --exit-zero >/dev/null &&
	"$MLOPS" --json runs --kind drift --limit 1 >run &&
	test_grep "\"model\":\"churn\",\"version\":1,\"artifact_sha256\":\"$(hash m.json)\"" run &&
	test_grep "{\"role\":\"input\",\"path\":\"in.csv\",\"sha256\":\"$(hash in.csv)\",\"rows\":300}" run &&
	test_grep "{\"role\":\"reference\",\"path\":\"train.csv\",\"sha256\":\"$(hash train.csv)\",\"rows\":800}" run
'

test_expect_success 'runs --output walks from a scored file to the training data' '
	"$MLOPS" runs --output out.csv >actual &&
	score=$("$MLOPS" --json runs --kind score-batch --limit 4 |
		grep "\"path\":\"out.csv\"" | sed "s/^{\"schema\":1,\"id\":\([0-9]*\),.*/\1/") &&
	train=$("$MLOPS" --json runs --kind train --limit 0 | tail -n 1 |
		sed "s/^{\"schema\":1,\"id\":\([0-9]*\),.*/\1/") &&
	sed "s/(\(.*\), [0-9-]* [0-9:]*)$/(\1, TIME)/" actual >got &&
	cat >expect <<-EOF &&
	file          out.csv
	sha256        $(hash out.csv)
	run           $score (score-batch, wrote it as predictions, TIME)
	model         churn:1
	artefact      $(hash m.json)
	training run  $train (train, TIME)
	commit        $(git rev-parse HEAD)
	data          train.csv sha256 $(hash train.csv) (800 rows)
	EOF
	test_cmp expect got
'

test_expect_success 'a copy of the file is traced too; --json holds the chain' '
	cp out.csv copy.csv &&
	"$MLOPS" --json runs --output copy.csv >out &&
	test $(wc -l <out) = 1 &&
	test_grep "^{\"schema\":1,\"file\":\"copy.csv\",\"sha256\":\"$(hash out.csv)\",\"role\":\"predictions\",\"run\":{" out &&
	test_grep "\"model\":\"churn\",\"version\":1,\"artifact_sha256\":\"$(hash m.json)\",\"training_run\":{" out &&
	test_grep "\"git_commit\":\"$(git rev-parse HEAD)\",\"git_dirty\":false,\"data\":\[{\"role\":\"data\",\"path\":\"train.csv\",\"sha256\":\"$(hash train.csv)\",\"rows\":800}\]}$" out
'

test_expect_success 'the artefact train wrote traces to its own run' '
	"$MLOPS" runs --output loose.json >out &&
	test_grep "^run  *[0-9]* (train, wrote it as artifact, " out &&
	test_grep "^model  *- (artefact not registered)$" out &&
	test_grep "^data  *train.csv sha256 $(hash train.csv) (800 rows)$" out
'

test_expect_success 'an artefact registered by train alone traces to its training run' '
	"$MLOPS" -q train --data train.csv --target y --exclude id --C 2 \
		--register churn &&
	sha=$("$MLOPS" --json runs --kind train --limit 1 |
		sed "s/.*\"artifact_sha256\":\"\([0-9a-f]*\)\".*/\1/") &&
	cp .mlops/artifacts/sha256/$(echo $sha | cut -c1-2)/$(echo $sha | cut -c3-) stored.json &&
	test "$(hash stored.json)" = "$sha" &&
	"$MLOPS" runs --output stored.json >out &&
	test_grep "^run  *[0-9]* (train, wrote it as artifact, " out &&
	test_grep "^model  *churn:2$" out &&
	test_grep "^artefact  *$sha$" out &&
	test_grep "^data  *train.csv sha256 $(hash train.csv) (800 rows)$" out
'

test_expect_success 'a file no run wrote exits 1 with one line naming its hash' '
	echo "a,b" >other.csv &&
	test_expect_code 1 "$MLOPS" runs --output other.csv 2>err &&
	test_one_line err &&
	test_grep "no recorded run wrote .other.csv. (sha256 $(hash other.csv))" err &&
	test_expect_code 1 "$MLOPS" runs --output missing.csv 2>err &&
	test_one_line err
'

test_expect_success 'runs --output takes a regular file and no list options' '
	test_expect_code 2 "$MLOPS" runs --output - 2>err </dev/null &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" runs --output out.csv --kind train 2>err &&
	test_one_line err
'

test_expect_success 'a schema 2 registry upgrades; its old runs show no lineage' '
	mkdir old && cd old &&
	"$MLOPS" init >/dev/null &&
	"$MLOPS" -q train --data ../train.csv --target y --exclude id -o m.json &&
	sqlite3 .mlops/registry.db <<-\SQL &&
	BEGIN;
	DROP TABLE run_outputs;
	DROP INDEX runs_artifact;
	ALTER TABLE runs DROP COLUMN artifact_sha256;
	PRAGMA user_version = 2;
	COMMIT;
	SQL
	"$MLOPS" --json runs >run &&
	test "$(sqlite3 .mlops/registry.db "PRAGMA user_version")" = 3 &&
	test_grep "\"kind\":\"train\",\"model\":null,\"version\":null,\"artifact_sha256\":null," run &&
	test_grep "\"outputs\":\[\]" run &&
	test_expect_code 1 "$MLOPS" runs --output m.json 2>err &&
	test_one_line err &&
	"$MLOPS" -q train --data ../train.csv --target y --exclude id -o m.json &&
	"$MLOPS" runs --output m.json >out &&
	test_grep "^run  *2 (train, wrote it as artifact" out &&
	"$MLOPS" verify >/dev/null
'

test_done
