#!/bin/sh
# Run one fixed model lifecycle with two mlops binaries and compare every
# output: stdout, stderr and exit code of each step, the files the steps
# write, the registry's rows and the git tags.  A behaviour-preserving
# change (a refactor) must leave them identical.
#
#   sh scripts/cmp-outputs.sh OLD_MLOPS NEW_MLOPS
#
# Prints "identical" and exits 0, or prints the differences (diff -ru of
# the two normalised trees) and exits 1; 2 on a usage or setup error.
#
# How: the data are made once, with the gen-data beside OLD (OLD/../
# examples/gen-data, or $CMP_GEN), plus the real datasets in $CMP_DATA
# (default: /work/shared/data, else ../shared/data beside this project)
# when present.  Each binary then runs the same steps in the SAME folder,
# one after the other (so absolute paths agree), in a fresh repository
# (`git init`, `mlops init`) with a fixed environment: TZ=UTC, LC_ALL=C,
# a HOME holding only a fixed git identity, USER=cmp, fixed git dates, no
# MLOPS_*/shard variables.  Afterwards volatile fields are normalised with
# sed (timestamps, durations, rates, temporary paths, the host name), and
# the two trees are compared.  Steps that fail are kept: the exit code is
# part of the output.
#
# Environment: CMP_DIR keeps the work there (default: a temporary folder,
# removed on success); CMP_KEEP=1 keeps the temporary folder; CMP_ROWS sets
# the synthetic training size (default 3000); CMP_GEN, CMP_DATA as above.
set -u

usage() {
	echo "usage: cmp-outputs.sh OLD_MLOPS NEW_MLOPS" >&2
	exit 2
}
die() {
	printf 'cmp-outputs: %s\n' "$*" >&2
	exit 2
}

[ $# -eq 2 ] || usage
abspath() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd)" "$(basename "$1")"); }
[ -x "$1" ] || die "'$1' is not an executable"
[ -x "$2" ] || die "'$2' is not an executable"
OLD=$(abspath "$1")
NEW=$(abspath "$2")

here=$(cd "$(dirname "$0")" && pwd)
GEN=${CMP_GEN:-$(dirname "$OLD")/examples/gen-data}
[ -x "$GEN" ] || GEN=$(dirname "$NEW")/examples/gen-data
[ -x "$GEN" ] || die "no gen-data beside '$OLD' or '$NEW' (set CMP_GEN)"
if [ -n "${CMP_DATA:-}" ]; then
	DATA=$CMP_DATA
elif [ -d /work/shared/data ]; then
	DATA=/work/shared/data
else
	DATA=$here/../../shared/data
fi
ROWS=${CMP_ROWS:-3000}
command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 (the command) is needed to dump the registry"

if [ -n "${CMP_DIR:-}" ]; then
	mkdir -p "$CMP_DIR" || die "cannot create $CMP_DIR"
	work=$(cd "$CMP_DIR" && pwd)
	rm -rf "${work:?}/data" "${work:?}/run" "${work:?}/old" "${work:?}/new" "${work:?}/home"
	keep=1
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/cmp-outputs.XXXXXX") || die "mktemp failed"
	keep=${CMP_KEEP:-0}
fi

# The fixed environment.
unset MLOPS_DIR MLOPS_CEILING_DIRECTORIES MLOPS_SHARD_INDEX MLOPS_SHARD_COUNT \
	JOB_COMPLETION_INDEX SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT \
	SLURM_ARRAY_TASK_MIN XDG_CONFIG_HOME NO_COLOR GIT_DIR GIT_WORK_TREE
export TZ=UTC LC_ALL=C LANG=C TERM=dumb USER=cmp LOGNAME=cmp
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME="Cmp Outputs" GIT_AUTHOR_EMAIL=cmp@example.org
export GIT_COMMITTER_NAME="Cmp Outputs" GIT_COMMITTER_EMAIL=cmp@example.org
export GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"
mkdir -p "$HOME"
printf '[user]\n\tname = Cmp Outputs\n\temail = cmp@example.org\n[init]\n\tdefaultBranch = main\n' \
	>"$HOME/.gitconfig"

# A fixed wall clock: a small LD_PRELOAD library makes time(),
# gettimeofday() and clock_gettime(CLOCK_REALTIME) return $CMP_FAKE_TIME
# (set per step, one minute apart), so that artefacts, which record when
# they were made, and hence their SHA-256, agree byte for byte.  Without a
# C compiler (or with CMP_NO_FAKE_TIME=1) timestamps are normalised
# instead, and artefact hashes will differ.
fake=
if [ "${CMP_NO_FAKE_TIME:-0}" != 1 ] && command -v "${CC:-cc}" >/dev/null 2>&1; then
	cat >"$work/fixclock.c" <<'EOC'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long fixed(void)
{
	const char *s = getenv("CMP_FAKE_TIME");
	return s ? atol(s) : -1;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);
	long t = fixed();

	if (t >= 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
		ts->tv_sec = t;
		ts->tv_nsec = 0;
		return 0;
	}
	if (!real)
		real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	return real(id, ts);
}

time_t time(time_t *out)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (out)
		*out = ts.tv_sec;
	return ts.tv_sec;
}

int gettimeofday(struct timeval *tv, void *tz)
{
	struct timespec ts;

	(void)tz;
	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}
EOC
	"${CC:-cc}" -shared -fPIC -O2 -o "$work/fixclock.so" "$work/fixclock.c" -ldl \
		>/dev/null 2>&1 && fake=$work/fixclock.so
fi
if [ -n "$fake" ]; then
	timesub='s/^\(\)$//'
else
	echo "cmp-outputs: no fixed clock: timestamps normalised, artefact hashes will differ" >&2
	timesub='s/[0-9]\{4\}-[0-9][0-9]-[0-9][0-9][T ][0-9][0-9]:[0-9][0-9]:[0-9][0-9]\(\.[0-9]*\)\{0,1\}\(Z\|[+-][0-9][0-9]:\{0,1\}[0-9][0-9]\)\{0,1\}/<TIME>/g'
fi

# --- the data, made once --------------------------------------------------
mkdir -p "$work/data" || die "cannot create $work/data"
cd "$work/data" || die "cannot enter $work/data"
g() { "$GEN" "$@" || die "gen-data $* failed"; }
g --rows "$ROWS" --seed 1 --signal 2 >bin-train.csv
g --rows 1000 --seed 2 --signal 2 >bin-holdout.csv
g --rows 1500 --seed 3 --signal 2 >bin-week.csv
g --rows 1500 --seed 4 --signal 2 --shift x1=0.5 --scale x2=1.5 --mix c1 >bin-drifted.csv
g --rows "$ROWS" --seed 5 --task multiclass --classes 3 >multi-train.csv
g --rows 1000 --seed 6 --task multiclass --classes 3 >multi-holdout.csv
g --rows "$ROWS" --seed 7 --task regression --missing 0.02 >reg-train.csv
g --rows 1000 --seed 8 --task regression --missing 0.02 >reg-holdout.csv
# A batch with bad rows: a non-number and a short row.
{
	head -n 200 bin-week.csv
	echo "999001,notanumber,1,2,3,4,a,b,1"
	echo "999002,1,2"
	sed -n '201,400p' bin-week.csv
} >bin-bad.csv
for f in penguins tips mpg; do
	[ -r "$DATA/$f.csv" ] && cp "$DATA/$f.csv" "$f.csv"
done

# --- the lifecycle, run once per binary -----------------------------------
# step NAME [--expect-any] mlops-args...: run the binary in the repository,
# keep stdout, stderr and the exit code under out/NN-NAME.*
run_lifecycle() {
	BIN=$1
	run=$work/run
	rm -rf "$run"
	mkdir -p "$run/repo" "$run/out" "$run/files"
	cp "$work"/data/*.csv "$run/repo/"
	cd "$run/repo" || die "cannot enter $run/repo"
	n=0
	git init -q . >/dev/null 2>&1
	step init init
	git add -A >/dev/null 2>&1 && git commit -q -m data >/dev/null 2>&1

	# Training: each model kind, human and --json, registered and not.
	step train-bin train --data bin-train.csv --target y --features x1,x3 --register churn
	step train-bin-all train --data bin-train.csv --target y --exclude id --register churn --description "all features"
	step train-bin-json --json train --data bin-train.csv --target y --exclude id -o bin-model.json
	step train-bin-balanced train --data bin-train.csv --target y --exclude id --class-weight balanced --add-indicator -o bin-balanced.json
	step train-multi train --data multi-train.csv --target y --exclude id --model softmax --register species3
	step train-multi-json --json train --data multi-train.csv --target y --exclude id --model softmax -o multi-model.json
	step train-linear train --data reg-train.csv --target y --exclude id --model linear --register price
	step train-linear-json --json train --data reg-train.csv --target y --exclude id --model linear --impute median -o linear-model.json
	step train-ridge train --data reg-train.csv --target y --exclude id --model ridge --alpha 10 --register price
	step train-ridge-json --json train --data reg-train.csv --target y --exclude id --model ridge --alpha 10 -o ridge-model.json
	step train-bad-target train --data bin-train.csv --target nosuchcolumn
	step train-bad-usage train --data bin-train.csv
	if [ -r penguins.csv ]; then
		step train-penguins train --data penguins.csv --target species --register penguins
		step train-penguins-json --json train --data penguins.csv --target species --model softmax -o penguins-model.json
		step train-penguins-sex --json train --data penguins.csv --target sex --exclude species --model logistic -o penguins-sex.json
	fi
	if [ -r tips.csv ]; then
		step train-tips train --data tips.csv --target tip --model ridge --register tips
		step train-tips-json --json train --data tips.csv --target tip --model linear -o tips-model.json
		step train-tips-smoker --json train --data tips.csv --target smoker --model logistic -o tips-smoker.json
	fi
	if [ -r mpg.csv ]; then
		step train-mpg train --data mpg.csv --target mpg --exclude name --na-values '?' --register mpg
		step train-mpg-json --json train --data mpg.csv --target mpg --exclude name --na-values '?' --model ridge -o mpg-model.json
		step train-mpg-no-na --json train --data mpg.csv --target mpg --exclude name
	fi

	# Register an artefact by hand.
	step register register churn bin-model.json --description "by hand" --tag team=growth
	step register-json --json register species3 multi-model.json
	step register-git-tag register price ridge-model.json --git-tag
	step register-missing register churn nosuchfile.json

	# Validate: alone, against a champion, passing and failing gates.
	step validate-pass validate churn:1 --data bin-holdout.csv --min auc=0.6
	step promote-1 promote churn:1 --to production --reason "first model"
	step validate-fail validate churn:1 --data bin-holdout.csv --min auc=0.99
	step validate-json --json validate churn:2 --data bin-holdout.csv --min auc=0.6 --max logloss=2
	step validate-json-fail --json validate churn:2 --data bin-holdout.csv --min accuracy=0.999
	step validate-size validate churn:2 --data bin-holdout.csv --max-size 10
	step validate-multi validate species3:1 --data multi-holdout.csv --min accuracy=0.3
	step validate-multi-json --json validate multi-model.json --data multi-holdout.csv
	step validate-reg validate price:1 --data reg-holdout.csv --min r2=0.1
	step validate-reg-json --json validate price:2 --data reg-holdout.csv --max rmse=1000
	step validate-bad-metric validate churn:1 --data bin-holdout.csv --min nosuch=1
	step validate-against-fail validate churn:1 --data bin-holdout.csv --against churn:2 --min-delta auc=0.01
	step validate-against-fail-json --json validate churn:1 --data bin-holdout.csv --against churn:2 --min-delta auc=0.01
	step promote-refused-failed promote churn:2 --to production --reason "failed"
	step validate-against validate churn:2 --data bin-holdout.csv --against churn@production --min-delta auc=0.01
	step validate-against-json --json validate churn:2 --data bin-holdout.csv --against churn@production --min-delta auc=0.01

	# Promote and rollback, human and --json.
	step promote-2 promote churn:2 --to production --reason "beats champion"
	step promote-refused promote churn:3 --to production
	step promote-dry --json promote churn:3 --to staging --dry-run --force --reason try
	step promote-staging --json promote churn:3 --to staging --force --reason "hand-made"
	step promote-expect promote churn:1 --to staging --expect 1 --force --reason x
	step promote-git-tag promote price:1 --to production --force --reason tag --git-tag
	if [ -r penguins.csv ]; then
		step validate-penguins validate penguins:1 --data penguins.csv --min accuracy=0.5
		step promote-penguins promote penguins:1 --to production --reason real
	fi
	step list-mid list

	# Score a batch: to a file, kept columns, --json, rejected rows.
	step score score-batch churn@production -i bin-week.csv -o scores.csv --keep id --threads 2
	step score-keep-all --json score-batch churn:2 -i bin-week.csv -o scores-all.csv --keep-all --threads 1
	step score-stdout score-batch churn:1 -i bin-holdout.csv -o - --keep id --threads 1
	step score-bad score-batch churn@production -i bin-bad.csv -o scores-bad.csv --threads 1
	step score-rejects --json score-batch churn@production -i bin-bad.csv -o scores-rej.csv --keep id --max-errors 5 --reject-file rejects.csv --metrics-file churn.prom --threads 1
	step score-multi score-batch species3:1 -i multi-holdout.csv -o scores-multi.csv --keep id
	step score-reg --json score-batch price:2 -i reg-holdout.csv -o scores-reg.csv --keep-all
	step score-shard score-batch churn:2 -i bin-week.csv -o scores-shard.csv --shard 1/3 --threads 1
	if [ -r mpg.csv ]; then
		step score-mpg score-batch mpg:1 -i mpg.csv -o scores-mpg.csv --keep name
	fi

	# Drift: against the baseline, a reference file, recorded runs.
	step drift-ok drift churn@production -i bin-week.csv
	step drift-3 drift churn@production -i bin-drifted.csv
	step drift-json --json drift churn@production -i bin-drifted.csv
	step drift-exit-zero drift churn@production -i bin-drifted.csv --exit-zero --method psi
	step drift-ref drift churn:2 -i bin-drifted.csv --reference bin-week.csv
	step drift-ref-json --json drift churn:2 -i bin-drifted.csv --reference bin-week.csv --method ks
	step drift-ws --json drift churn:2 -i bin-week.csv --method wasserstein --threshold 0.2
	step drift-js drift churn:2 -i bin-drifted.csv --method js
	step drift-chi2 drift churn:2 -i bin-drifted.csv --method chi2
	step score-drifted score-batch churn@production -i bin-drifted.csv -o scores-drifted.csv --threads 1
	step drift-runs drift churn@production --runs 3
	step drift-runs-json --json drift churn@production --runs 3
	step drift-multi --json drift species3:1 -i multi-holdout.csv
	step drift-reg drift price:2 -i reg-holdout.csv
	step drift-empty drift churn:2 -i /dev/null
	if [ -r mpg.csv ]; then
		step drift-mpg --json drift mpg:1 -i mpg.csv
	fi

	# Rollback, history, runs, list, show.
	step rollback-dry --json rollback churn@production --dry-run
	step rollback rollback churn@production --reason drift
	step promote-staging-2 promote churn:2 --to staging --force --reason again
	step rollback-json --json rollback churn@staging --reason "json"
	step rollback-json-fail --json rollback churn@staging --reason "json"
	step rollback-git-tag rollback price@production --git-tag --reason tag
	step rollback-none rollback churn@nowhere
	step history history churn
	step history-stage history churn@production
	step history-json --json history churn
	step history-limit history churn --limit 1
	step history-at history churn --at 2000-01-01T00:00:00Z
	step runs runs --limit 0
	step runs-json --json runs --limit 0
	step runs-model runs --model churn --kind validate
	step runs-output runs --output scores.csv
	step runs-output-json --json runs --output scores.csv
	step list list
	step list-one list churn
	step list-json --json list
	step show show churn@production
	step show-json --json show churn:2
	step show-file show multi-model.json
	step show-reg --json show price:2
	step show-none show churn@nowhere
	step verify verify
	step verify-json --json verify

	# Export and import.
	step export export churn@production -o churn.tar.gz
	# shellcheck disable=SC2016 # $0 is for the inner shell
	step export-stdout-size sh -c '"$0" export churn:2 -o - | wc -c' "$BIN"
	step import import churn.tar.gz --as churn-copy
	step import-json --json import churn.tar.gz --as churn-copy
	step import-same import churn.tar.gz
	step list-after list
	step show-import --json show churn-copy:1
	step help help train
	step version-usage nosuchcommand

	# The files the steps wrote, the registry and the git repository.
	for f in *; do
		case $f in
		*.tar.gz)
			mkdir -p "$run/files/$f.d"
			tar -xzf "$f" -C "$run/files/$f.d" 2>"$run/files/$f.tar-err"
			tar -tzvf "$f" >"$run/files/$f.list" 2>&1
			cp "$f" "$run/files/"
			;;
		*) [ -f "$f" ] && cp "$f" "$run/files/" ;;
		esac
	done
	for f in "$work"/data/*.csv; do rm -f "$run/files/$(basename "$f")"; done
	[ -d .mlops ] && find .mlops -type f | LC_ALL=C sort >"$run/files/mlops-tree"
	cp .mlops/config "$run/files/mlops-config" 2>/dev/null
	for db in .mlops/*.db; do
		[ -f "$db" ] && sqlite3 "$db" .dump >"$run/files/$(basename "$db").sql" 2>&1
	done
	# The artefact store: every stored file's content, by relative path.
	find .mlops -type f ! -name '*.db' ! -name '*.db-*' ! -name config |
		LC_ALL=C sort | while read -r p; do
		mkdir -p "$run/files/store/$(dirname "$p")"
		cp "$p" "$run/files/store/$p"
	done
	git tag -l >"$run/files/git-tags" 2>&1
	git log --format='%an <%ae> %s' >"$run/files/git-log" 2>&1
	cd "$work" || exit 2
}

step() {
	name=$1
	shift
	n=$((n + 1))
	o=$run/out/$(printf '%03d' "$n")-$name
	# 2026-01-01T00:00:00Z plus a minute per step
	CMP_FAKE_TIME=$((1767225600 + 60 * n))
	export CMP_FAKE_TIME
	if [ "$1" = sh ]; then
		printf '%s\n' "$*" >"$o.cmd"
		LD_PRELOAD=$fake "$@" >"$o.out" 2>"$o.err"
	else
		printf 'mlops %s\n' "$*" >"$o.cmd"
		LD_PRELOAD=$fake "$BIN" "$@" >"$o.out" 2>"$o.err"
	fi
	echo $? >"$o.rc"
}

# normalise DIR: rewrite the volatile fields of every text file in place.
normalise() {
	host=$(hostname 2>/dev/null || uname -n)
	find "$1" -type f | while read -r f; do
		# binary files stay as they are (cmp compares their bytes)
		if LC_ALL=C grep -qI . "$f" 2>/dev/null || [ ! -s "$f" ]; then
			sed -i \
				-e "s|$work|<WORK>|g" \
				-e "s|$OLD|<MLOPS>|g" -e "s|$NEW|<MLOPS>|g" \
				-e "s|${TMPDIR:-/tmp}/[A-Za-z0-9._-]*|<TMP>|g" \
				-e "s|$host|<HOST>|g" \
				-e "$timesub" \
				-e 's/"\([a-z_]*\(seconds\|duration\|duration_s\|duration_ms\|elapsed\|elapsed_s\|_ms\|_us\|_ns\|per_second\)\)": *-\{0,1\}[0-9][0-9.eE+-]*/"\1": <N>/g' \
				-e 's/^\(  *latency_us\)[ 0-9.eE+-]*$/\1 <N>/' \
				-e 's/^\(INSERT INTO runs VALUES([^,]*,[^,]*,[^,]*,[^,]*,[^,]*,\)[0-9][0-9.eE+-]*/\1<N>/' \
				-e 's/\(mlops_[a-z_]*\(seconds\|duration\|timestamp\|latency\|per_second\|rate\)[a-z_]*\({[^}]*}\)\{0,1\}\) [0-9][0-9.eE+-]*/\1 <N>/g' \
				-e 's/[0-9][0-9]*\.[0-9][0-9]* \{0,1\}\(s\|ms\|µs\|us\|ns\|min\)\b/<N>\1/g' \
				-e 's/[0-9][0-9.,]* \{0,1\}[kMG]\{0,1\}\(rows\|B\)\/s\b/<N> \1\/s/g' \
				-e "s/\\('metrics','[^']*','\\)[0-9a-f]\\{64\\}/\\1<SHA>/" \
				-e 's/\({"role":"metrics","path":"[^"]*","sha256":"\)[0-9a-f]\{64\}/\1<SHA>/g' \
				-e 's/  *<N>/ <N>/g' \
				"$f"
		fi
	done
}

run_lifecycle "$OLD"
mv "$work/run" "$work/old"
run_lifecycle "$NEW"
mv "$work/run" "$work/new"
normalise "$work/old"
normalise "$work/new"

# Compare; the repo folders themselves are covered by out/ and files/.
if diff -ru -x repo "$work/old" "$work/new" >"$work/diff" 2>&1; then
	echo "identical ($(find "$work/old/out" -name '*.rc' | wc -l) steps, $(find "$work/old/files" -type f | wc -l) files)"
	if [ "$keep" = 1 ]; then
		echo "kept in $work" >&2
	else
		rm -rf "$work"
	fi
	exit 0
fi
cat "$work/diff"
echo "cmp-outputs: DIFFERENT (old: $work/old, new: $work/new)" >&2
exit 1
