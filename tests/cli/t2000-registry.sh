#!/bin/sh
# The repository and the registry: init, discovery, register and its
# idempotency, version numbering, list, runs, verify.

test_description='init, register, list, runs, verify'
. "$TEST_SRCDIR/cli/lib.sh"

# make_csv SEED FILE: a small binary classification set.
make_csv() {
	awk -v seed="$1" 'BEGIN {
		srand(seed); print "a,b,y";
		for (i = 0; i < 120; i++) {
			a = rand(); b = rand();
			print a "," b "," (a + b + rand() * 0.5 > 1.25 ? 1 : 0)
		}
	}' >"$2"
}

test_expect_success 'commands outside a repository fail with one line' '
	mkdir outside && cd outside &&
	test_expect_code 1 "$MLOPS" list 2>err &&
	test_one_line err &&
	test_grep "not an mlops repository" err
'

test_expect_success 'init creates the repository' '
	"$MLOPS" init >out &&
	echo "Initialized empty mlops repository in $(pwd -P)/.mlops" >expect &&
	test_cmp expect out &&
	test -f .mlops/registry.db &&
	test -f .mlops/config &&
	test -d .mlops/artifacts/sha256
'

test_expect_success 'init again is harmless' '
	"$MLOPS" init >out &&
	test_grep "^Reinitialized existing mlops repository" out
'

test_expect_success 'the config file documents its defaults' '
	test_grep "busy-timeout = 5000" .mlops/config &&
	test_grep "tags = false" .mlops/config
'

test_expect_success 'the config reader takes git-config syntax' '
	cp .mlops/config config.orig &&
	cat >>.mlops/config <<-\EOF &&
	; a comment, then a section in other case and a quoted value
	[Registry]
		Busy-Timeout = "2500" # milliseconds
	[git]
		tags = off
	[stage "QA"]
		require-validation
	EOF
	"$MLOPS" list >/dev/null &&
	printf "[registry]\n\tbusy-timeout = soon\n" >>.mlops/config &&
	test_expect_code 1 "$MLOPS" list 2>err &&
	test_one_line err &&
	test_grep "registry.busy-timeout must be milliseconds" err &&
	cp config.orig .mlops/config &&
	printf "[git]\n\ttags = perhaps\n" >>.mlops/config &&
	test_expect_code 1 "$MLOPS" list 2>err &&
	test_one_line err &&
	test_grep "git.tags must be true or false" err &&
	cp config.orig .mlops/config &&
	printf "[registry]\nwhat is this\n" >>.mlops/config &&
	test_expect_code 1 "$MLOPS" list 2>err &&
	test_one_line err &&
	test_grep "bad config .* line $(wc -l <.mlops/config): a malformed line" err &&
	cp config.orig .mlops/config &&
	"$MLOPS" list >/dev/null
'

test_expect_success 'train some artefacts' '
	for s in 1 2 3; do
		make_csv $s d$s.csv &&
		"$MLOPS" train --data d$s.csv --target y -o m$s.json >/dev/null ||
		return 1
	done
'

test_expect_success 'register creates version 1' '
	"$MLOPS" register churn m1.json >out &&
	test_grep "^registered churn:1 (sha256:[0-9a-f]\{12\}" out
'

test_expect_success 'registering identical bytes returns the existing version' '
	"$MLOPS" register churn m1.json >out &&
	echo "churn:1 already holds this artefact" >expect &&
	test_cmp expect out
'

test_expect_success 'the next artefact is version 2, another model starts at 1' '
	"$MLOPS" register churn m2.json >out &&
	test_grep "^registered churn:2 " out &&
	"$MLOPS" register other m2.json >out &&
	test_grep "^registered other:1 " out
'

test_expect_success 'register --json prints one object with schema 1' '
	"$MLOPS" --json register churn m3.json --description "third" \
		--tag team=growth >out &&
	test_one_line out &&
	test_grep "\"schema\":1" out &&
	test_grep "\"version\":3" out &&
	test_grep "\"existed\":false" out
'

test_expect_success 'artefacts are stored read-only under their hash' '
	sha=$(sha256sum m1.json | cut -c1-64) &&
	f=.mlops/artifacts/sha256/$(echo $sha | cut -c1-2)/$(echo $sha | cut -c3-) &&
	test "$(stat -c %a "$f")" = 444 &&
	cmp m1.json "$f"
'

test_expect_success 'register refuses a file that is not an artefact' '
	echo "a,b" >notmodel.json &&
	test_expect_code 1 "$MLOPS" register churn notmodel.json 2>err &&
	test_one_line err
'

test_expect_success 'register of a missing file exits 1 with one line' '
	test_expect_code 1 "$MLOPS" register churn nosuch.json 2>err &&
	test_one_line err &&
	test_grep "nosuch.json" err
'

test_expect_success 'register usage errors exit 2' '
	test_expect_code 2 "$MLOPS" register "bad name" m1.json 2>err &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" register churn 2>err &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" register churn m1.json --bogus 2>err &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" register churn m1.json --tag novalue 2>err &&
	test_one_line err
'

test_expect_success 'list shows every version' '
	"$MLOPS" list >out &&
	test $(grep -c "^churn " out) = 3 &&
	test $(grep -c "^other " out) = 1
'

test_expect_success 'list NAME shows one model; an unknown one exits 1' '
	"$MLOPS" list other >out &&
	test $(wc -l <out) = 2 &&
	test_expect_code 1 "$MLOPS" list nope 2>err &&
	test_one_line err &&
	test_grep "no model .nope." err
'

test_expect_success 'list --json prints JSON Lines' '
	"$MLOPS" --json list churn >out &&
	test $(wc -l <out) = 3 &&
	test $(grep -c "^{\"schema\":1," out) = 3 &&
	test_grep "\"team\":\"growth\"" out
'

test_expect_success 'the repository is found from a subfolder and via MLOPS_DIR' '
	mkdir -p sub/deeper &&
	(cd sub/deeper && "$MLOPS" list >../../out1) &&
	test $(wc -l <out1) = 5 &&
	(cd outside && MLOPS_DIR=../.mlops "$MLOPS" list >../out2) &&
	test_cmp out1 out2
'

test_expect_success 'runs lists the training runs' '
	"$MLOPS" runs --kind train >out &&
	test $(grep -c " train " out) = 3 &&
	"$MLOPS" --json runs --limit 1 >out &&
	test_one_line out
'

test_expect_success 'runs refuses an unknown kind' '
	test_expect_code 2 "$MLOPS" runs --kind bogus 2>err &&
	test_one_line err
'

test_expect_success 'verify passes on an intact repository' '
	"$MLOPS" verify >out &&
	test_grep "^ok: 3 artefacts and 4 versions verified" out
'

test_expect_success 'verify finds a tampered artefact' '
	sha=$(sha256sum m2.json | cut -c1-64) &&
	f=.mlops/artifacts/sha256/$(echo $sha | cut -c1-2)/$(echo $sha | cut -c3-) &&
	chmod u+w "$f" && echo "tampered" >>"$f" &&
	test_expect_code 1 "$MLOPS" verify >out 2>err &&
	test_one_line err &&
	test_grep "1 problem found" err &&
	test_grep "sha256:$sha is corrupt" out &&
	test_expect_code 1 "$MLOPS" score-batch churn:2 -i d2.csv -o s.csv 2>err &&
	test_one_line err &&
	test_grep "sha256:$sha is corrupt" err &&
	! test -e s.csv &&
	test_expect_code 1 "$MLOPS" export churn:2 -o b.tar.gz 2>err &&
	test_one_line err &&
	! test -e b.tar.gz
'

test_expect_success 'verify finds a missing artefact' '
	sha=$(sha256sum m2.json | cut -c1-64) &&
	rm -f .mlops/artifacts/sha256/$(echo $sha | cut -c1-2)/$(echo $sha | cut -c3-) &&
	test_expect_code 1 "$MLOPS" verify >out 2>err &&
	test_one_line err &&
	test_grep "2 problems found" err &&
	test_grep "^churn:2: artefact sha256:$sha is missing" out &&
	test_grep "^other:1: artefact sha256:$sha is missing" out
'

test_done
