#!/bin/sh
# mlops against its peers, side by side in one run: training (issue 3),
# batch scoring and drift (issue 4) on generated data, and the real
# datasets in ../shared/data.  See bench/README.md.
#
#   sh bench/run.sh                          # small (100k x 20) and large (1M x 50)
#   BENCH_SIZES=small sh bench/run.sh        # a few minutes
#   BENCH_BIG=1 sh bench/run.sh              # also score-batch on a ~5 GB file
#
# Environment: MLOPS and GEN (binaries; default: built in this tree),
# PYTHON (default /usr/bin/python3, where Debian's sklearn lives),
# BENCH_SIZES ("tiny small large"; default "small large"), BENCH_RUNS
# (timed runs per case, default 3), BENCH_REAL=0 to skip the real data,
# BENCH_DATA (the real datasets; default ../shared/data beside the
# project), BENCH_BIG=1 and BENCH_BIG_GB (default 5), BENCH_DIR (work
# folder to keep; default a temporary one, removed at the end unless
# BENCH_KEEP=1), BENCH_NO_INSTALL=1 to skip installing the peers, CC,
# MLOPS_BASE (an older mlops binary: every mlops case runs with it too,
# taking turns, and the outputs of the two are compared).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
bench=$root/bench
MLOPS=${MLOPS:-$root/mlops}
BASE=${MLOPS_BASE:-}
GEN=${GEN:-$root/examples/gen-data}
PYTHON=${PYTHON:-/usr/bin/python3}
CC=${CC:-cc}
runs=${BENCH_RUNS:-3}
sizes=${BENCH_SIZES-small large}
real=${BENCH_REAL:-1}
realdata=${BENCH_DATA:-$root/../shared/data}
big=${BENCH_BIG:-0}
big_gb=${BENCH_BIG_GB:-5}

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

case $runs in
'' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer" ;;
esac
[ -x "$MLOPS" ] || die "no mlops binary at '$MLOPS' (build it, or set MLOPS)"
[ -x "$GEN" ] || die "no gen-data at '$GEN' (make examples/gen-data, or set GEN)"
MLOPS=$(cd "$(dirname "$MLOPS")" && pwd)/$(basename "$MLOPS")
if [ -n "$BASE" ]; then
	[ -x "$BASE" ] || die "no mlops binary at MLOPS_BASE='$BASE'"
	BASE=$(cd "$(dirname "$BASE")" && pwd)/$(basename "$BASE")
fi
GEN=$(cd "$(dirname "$GEN")" && pwd)/$(basename "$GEN")

# ---- peers, from Debian packages; every one is required ----
debs="time python3-sklearn python3-pandas python3-scipy liblinear-tools"
if [ "${BENCH_NO_INSTALL:-0}" != 1 ] && command -v apt-get >/dev/null 2>&1; then
	# shellcheck disable=SC2086 # a list of package names
	sh "$root/scripts/setup-deps.sh" $debs ||
		die "could not install the peers ($debs); install them or set BENCH_NO_INSTALL=1"
fi
missing=
[ -x /usr/bin/time ] && /usr/bin/time -f '%e %M' true 2>/dev/null ||
	missing="$missing /usr/bin/time(GNU, package time)"
for mod in numpy pandas sklearn scipy; do
	"$PYTHON" -c "import $mod" 2>/dev/null || missing="$missing $PYTHON:$mod"
done
for cmd in liblinear-train liblinear-predict "$CC"; do
	command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
done
[ -z "$missing" ] ||
	die "missing peers:$missing (Debian: apt-get install $debs build-essential)"
if [ "$real" = 1 ]; then
	for f in penguins.csv mpg.csv; do
		[ -r "$realdata/$f" ] ||
			die "no $realdata/$f (set BENCH_DATA, or BENCH_REAL=0 to skip the real data)"
	done
	realdata=$(cd "$realdata" && pwd)
fi

last_size=
for size in $sizes; do
	case $size in
	tiny | small | large) last_size=$size ;;
	*) die "unknown size '$size' (tiny, small or large)" ;;
	esac
done

if [ -n "${BENCH_DIR:-}" ]; then
	mkdir -p "$BENCH_DIR"
	work=$(cd "$BENCH_DIR" && pwd)
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/mlops-bench.XXXXXX")
	if [ "${BENCH_KEEP:-0}" != 1 ]; then
		trap 'rm -rf "$work"' EXIT
	fi
fi
cd "$work"
say "working in $work"
# No repository around the work folder: mlops records no runs anywhere.
unset MLOPS_DIR
MLOPS_CEILING_DIRECTORIES=$(dirname "$work")
export MLOPS_CEILING_DIRECTORIES

"$CC" -O2 -pthread -o dotloop "$bench/dotloop.c" || die "cannot compile bench/dotloop.c"

results=$work/results.tsv
: >"$results"
tools() { "$PYTHON" "$bench/tools.py" "$@"; }

# ---- measuring ----

# now: seconds since the epoch, to the nanosecond.
now() { date +%s.%N; }

# measure N command...: runs the command N times under GNU time; sets
# m_wall (median wall seconds, measured around the run) and m_rss (the
# largest peak RSS, kB).  The last run's stdout is left in out.txt.
measure() {
	m_n=$1
	shift
	m_walls=
	m_rss=0
	m_i=0
	while [ "$m_i" -lt "$m_n" ]; do
		m_i=$((m_i + 1))
		m_t0=$(now)
		if ! /usr/bin/time -f '%e %M' -o time.out "$@" >out.txt 2>cmd.err; then
			cat cmd.err >&2
			die "failed: $*"
		fi
		m_t1=$(now)
		read -r _ m_kb <time.out
		[ "$m_kb" -gt "$m_rss" ] && m_rss=$m_kb
		m_walls="$m_walls $(awk "BEGIN { printf \"%.4f\", $m_t1 - $m_t0 }")"
	done
	# shellcheck disable=SC2086 # a list of numbers
	m_wall=$(median $m_walls)
}

# median X...: the middle value (the upper one of an even count's two).
median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# record CASE DATA TOOL ROWS QUALITY NOTE: one result line (m_wall, m_rss).
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" \
		"$m_wall" "$m_rss" "$5" "$6" >>"$results"
	say "$1 $2 $3: ${m_wall}s, $((m_rss / 1024)) MB  $5"
}

# paired N FILE... -- ARGS...: measure N "$MLOPS" ARGS...  With
# MLOPS_BASE, the baseline runs the same command after each of mlops'
# runs (taking turns, so that the machine's drift in speed weighs on both
# alike); its outputs, the FILEs and stdout (out.txt), go to base/ and
# mlops' stay in place.  Sets m_wall and m_rss (mlops), b_wall and b_rss
# (the baseline).
paired() {
	p_n=$1
	shift
	p_files=
	while [ "$1" != -- ]; do
		p_files="$p_files $1"
		shift
	done
	shift
	if [ -z "$BASE" ]; then
		measure "$p_n" "$MLOPS" "$@"
		return 0
	fi
	mkdir -p base
	p_i=0 p_mw='' p_bw='' p_mr=0 p_br=0
	while [ "$p_i" -lt "$p_n" ]; do
		p_i=$((p_i + 1))
		measure 1 "$MLOPS" "$@"
		p_mw="$p_mw $m_wall"
		[ "$m_rss" -le "$p_mr" ] || p_mr=$m_rss
		for p_f in $p_files out.txt; do
			if [ -e "$p_f" ]; then mv "$p_f" "$p_f.new"; fi
		done
		measure 1 "$BASE" "$@"
		p_bw="$p_bw $m_wall"
		[ "$m_rss" -le "$p_br" ] || p_br=$m_rss
		for p_f in $p_files out.txt; do
			if [ -e "$p_f" ]; then mv "$p_f" "base/$p_f"; fi
			if [ -e "$p_f.new" ]; then mv "$p_f.new" "$p_f"; fi
		done
	done
	# shellcheck disable=SC2086 # lists of numbers
	m_wall=$(median $p_mw) m_rss=$p_mr b_wall=$(median $p_bw) b_rss=$p_br
}

# normalised FILE: FILE without what differs from run to run: durations
# and latencies, the artefact's creation time and checksum, and SHA-256
# hex strings (an artefact's hash follows its creation time).
normalised() {
	sed -e 's/"created_at":[[:space:]]*"[^"]*"/"created_at":"-"/g' \
		-e 's/"checksum":[[:space:]]*"[^"]*"/"checksum":"-"/g' \
		-e 's/"\(latency_us\|seconds\|duration_s\)":[[:space:]]*[-0-9.eE+]*/"\1":0/g' \
		-e 's/[0-9a-f]\{64\}/<sha256>/g' "$1"
}

# same_output NEW OLD: sets cmp_msg to "identical" or to where the two
# files, normalised, first differ (the line number and both lines).
same_output() {
	if [ ! -e "$2" ]; then
		cmp_msg="no output from the baseline"
		return 0
	fi
	normalised "$1" >cmp.new
	normalised "$2" >cmp.old
	if cmp -s cmp.new cmp.old; then
		cmp_msg=identical
		return 0
	fi
	c_line=$(cmp cmp.new cmp.old 2>&1 | sed -n 's/.* line \([0-9]*\).*/\1/p')
	c_line=${c_line:-1}
	cmp_msg="differs at line $c_line: now '$(sed -n "${c_line}p" cmp.new | cut -c1-80)'"
	cmp_msg="$cmp_msg, before '$(sed -n "${c_line}p" cmp.old | cut -c1-80)'"
}

# record_base CASE DATA ROWS [--validate MODEL TEST] FILE...: with
# MLOPS_BASE, the baseline's result line (b_wall, b_rss; tool "before"),
# after comparing its outputs with mlops': each FILE (stdout is out.txt)
# and, with --validate, `--json validate MODEL --data TEST` run by each
# binary on its own MODEL (mlops' in validate.json, from mlops_quality).
# The note says "outputs identical" or what differs first; each
# comparison also goes to compare.txt.
record_base() {
	[ -n "$BASE" ] || return 0
	rb_case=$1 rb_data=$2 rb_rows=$3
	shift 3
	rb_msg='' rb_bad=0
	if [ "$1" = --validate ]; then
		ln -sf "../$3" "base/$3"
		(cd base && "$BASE" --json validate "$2" --data "$3" >validate.json) ||
			die "the baseline's validate $2 on $3 failed"
		rm -f "base/$3"
		cp validate.json validate.now.json
		same_output validate.now.json base/validate.json
		[ "$cmp_msg" = identical ] || rb_bad=1
		rb_msg="validate --json $cmp_msg"
		shift 3
	fi
	for rb_f in "$@"; do
		same_output "$rb_f" "base/$rb_f"
		[ "$cmp_msg" = identical ] || rb_bad=1
		rb_msg="$rb_msg${rb_msg:+, }$rb_f $cmp_msg"
	done
	printf '%s %s: %s\n' "$rb_case" "$rb_data" "$rb_msg" >>"$work/compare.txt"
	if [ "$rb_bad" = 1 ]; then
		rb_note="OUTPUTS DIFFER: $rb_msg"
	else
		rb_note="outputs identical"
	fi
	m_wall=$b_wall m_rss=$b_rss
	record "$rb_case" "$rb_data" before "$rb_rows" "" "$rb_note"
}

# split_head FILE ROWS_TRAIN: FILE.train.csv and FILE.test.csv, the first
# ROWS_TRAIN data rows and the rest (gen-data's rows are independent).
split_head() {
	head -n "$(($2 + 1))" "$1.csv" >"$1.train.csv"
	{
		head -n 1 "$1.csv"
		tail -n +"$(($2 + 2))" "$1.csv"
	} >"$1.test.csv"
}

# mlops_quality MODEL TEST: the test metrics from `mlops --json validate`.
mlops_quality() {
	"$MLOPS" --json validate "$1" --data "$2" >validate.json ||
		die "mlops validate $1 on $2 failed"
	tools mlops-metrics <validate.json
}


for size in $sizes; do
	case $size in
	tiny) rows=10000 cols=10 ncat=2 ;;
	small) rows=100000 cols=20 ncat=3 ;;
	large) rows=1000000 cols=50 ncat=5 ;;
	*) die "unknown size '$size' (tiny, small or large)" ;;
	esac
	nnum=$((cols - ncat))
	label="${rows}x${cols}"
	ntrain=$((rows * 8 / 10))
	gen="$GEN --rows $rows --numeric $nnum --categorical $ncat"

	say "generating $label data ($nnum numeric, $ncat categorical; binary, multiclass, regression) and splitting 80/20"
	$gen --task binary --seed 7 >bin.csv
	$gen --task multiclass --seed 7 >mc.csv
	$gen --task regression --seed 7 >reg.csv
	for d in bin mc reg; do split_head "$d" "$ntrain"; done
	rm -f mc.csv reg.csv
	say "bin.csv: $(du -m bin.csv | cut -f1) MB"
	matrix_mb=$(awk "BEGIN { printf \"%.1f\", $ntrain * $cols * 8 / 1048576 }")

	# ---- issue 3: training ----
	case_=train\ binary
	paired "$runs" bin.model.json -- train --data bin.train.csv --target y --model logistic \
		--exclude id --holdout 0 -o bin.model.json
	rss_ratio=$(awk "BEGIN { printf \"%.2f\", $m_rss / 1024 / $matrix_mb }")
	record "$case_" "$label" mlops "$ntrain" \
		"$(mlops_quality bin.model.json bin.test.csv) matrix_mb=$matrix_mb" \
		"peak RSS ${rss_ratio}x the ${ntrain}x${cols} float64 matrix"
	record_base "$case_" "$label" "$ntrain" --validate bin.model.json bin.test.csv \
		bin.model.json
	measure "$runs" "$PYTHON" "$bench/sk_train.py" logistic bin.train.csv y bin.pkl --exclude id
	record "$case_" "$label" sklearn "$ntrain" "$(tools eval-sklearn bin.pkl bin.test.csv)" ""
	# liblinear reads its own sparse text format: convert once, timed apart.
	t0=$(now)
	tools libsvm bin.csv bin.svm y id
	t1=$(now)
	conv=$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")
	head -n "$ntrain" bin.svm >bin.train.svm
	tail -n +"$((ntrain + 1))" bin.svm >bin.test.svm
	measure "$runs" liblinear-train -q -s 0 -c 1 -B 1 bin.train.svm bin.liblinear
	liblinear-predict -b 1 bin.test.svm bin.liblinear bin.test.pred >/dev/null ||
		die "liblinear-predict failed"
	record "$case_" "$label" "liblinear -s 0" "$ntrain" \
		"$(tools eval-liblinear bin.test.pred bin.test.csv y)" \
		"CSV->libsvm conversion (all $rows rows) ${conv}s, not included; no standardisation"

	case_=train\ multiclass
	paired "$runs" mc.model.json -- train --data mc.train.csv --target y --model softmax \
		--exclude id --holdout 0 -o mc.model.json
	record "$case_" "$label" mlops "$ntrain" "$(mlops_quality mc.model.json mc.test.csv)" ""
	record_base "$case_" "$label" "$ntrain" --validate mc.model.json mc.test.csv mc.model.json
	measure "$runs" "$PYTHON" "$bench/sk_train.py" softmax mc.train.csv y mc.pkl --exclude id
	record "$case_" "$label" sklearn "$ntrain" "$(tools eval-sklearn mc.pkl mc.test.csv)" ""

	for model in linear ridge; do
		case_="train $model"
		paired "$runs" "reg.$model.json" -- train --data reg.train.csv --target y \
			--model "$model" --exclude id --holdout 0 -o "reg.$model.json"
		record "$case_" "$label" mlops "$ntrain" \
			"$(mlops_quality "reg.$model.json" reg.test.csv)" ""
		record_base "$case_" "$label" "$ntrain" --validate "reg.$model.json" reg.test.csv \
			"reg.$model.json"
		measure "$runs" "$PYTHON" "$bench/sk_train.py" "$model" reg.train.csv y \
			"reg.$model.pkl" --exclude id
		record "$case_" "$label" "sklearn $model" "$ntrain" \
			"$(tools eval-sklearn "reg.$model.pkl" reg.test.csv)" ""
	done
	rm -f mc.train.csv mc.test.csv reg.train.csv reg.test.csv

	# ---- issue 4: scoring the whole file with the binary model ----
	case_=score
	# mlops and the bare loop take turns, run by run, so that the
	# machine's drift in speed from minute to minute stays out of their
	# ratio (a goal of issue 4).
	# With MLOPS_BASE, the baseline takes its turn too.
	s_walls='' d_walls='' b_walls='' s_rss=0 d_rss=0 b_rss=0 s_i=0
	while [ "$s_i" -lt "$runs" ]; do
		s_i=$((s_i + 1))
		measure 1 "$MLOPS" score-batch bin.model.json -i bin.csv -o score.mlops.csv --keep id
		s_walls="$s_walls $m_wall"
		[ "$m_rss" -gt "$s_rss" ] && s_rss=$m_rss
		if [ -n "$BASE" ]; then
			measure 1 "$BASE" score-batch base/bin.model.json -i bin.csv \
				-o base/score.mlops.csv --keep id
			b_walls="$b_walls $m_wall"
			[ "$m_rss" -le "$b_rss" ] || b_rss=$m_rss
		fi
		measure 1 ./dotloop bin.csv 2
		d_walls="$d_walls $m_wall"
		[ "$m_rss" -gt "$d_rss" ] && d_rss=$m_rss
	done
	# shellcheck disable=SC2086 # lists of numbers
	m_wall=$(median $s_walls) m_rss=$s_rss
	record "$case_" "$label" mlops "$rows" "" "--threads: all cores"
	if [ -n "$BASE" ]; then
		# shellcheck disable=SC2086
		b_wall=$(median $b_walls)
		record_base "$case_" "$label" "$rows" score.mlops.csv
	fi
	measure "$runs" "$PYTHON" "$bench/sk_score.py" bin.pkl bin.csv score.sk.csv
	record "$case_" "$label" sklearn "$rows" "$(tools compare-scores score.mlops.csv score.sk.csv)" \
		"same data, sklearn's own fit"
	# shellcheck disable=SC2086
	m_wall=$(median $d_walls) m_rss=$d_rss
	record "$case_" "$label" "C parse+dot" "$rows" "" \
		"bench/dotloop.c, 2 threads, no output; runs alternating with mlops'"
	measure "$runs" liblinear-predict -b 1 bin.svm bin.liblinear score.liblinear.txt
	record "$case_" "$label" "liblinear-predict" "$rows" "" "reads the libsvm file"
	rm -f score.mlops.csv score.sk.csv score.liblinear.txt bin.svm bin.train.svm bin.test.svm

	# ---- issue 4: drift of a copy with x1 shifted, x2 spread, c1's mix changed ----
	case_=drift
	$gen --task binary --seed 8 --shift x1=0.25 --scale x2=1.25 --mix c1 >drifted.csv
	paired "$runs" -- --json drift bin.model.json -i drifted.csv \
		--reference bin.train.csv --exit-zero
	record "$case_" "$label" mlops "$((rows + ntrain))" "$(tools mlops-drift <out.txt)" \
		"--reference bin.train.csv"
	record_base "$case_" "$label" "$((rows + ntrain))" out.txt
	paired "$runs" -- --json drift bin.model.json -i drifted.csv --exit-zero
	record "$case_" "$label" "mlops (baseline)" "$rows" "$(tools mlops-drift <out.txt)" \
		"against the artefact's baseline"
	record_base "$case_" "$label" "$rows" out.txt
	measure "$runs" "$PYTHON" "$bench/scipy_drift.py" bin.train.csv drifted.csv --exclude id,y
	record "$case_" "$label" scipy "$((rows + ntrain))" "$(tail -n 1 out.txt)" \
		"KS p<0.05 numeric, PSI>0.1 categorical"
	rm -f drifted.csv

	# ---- issue 4: score-batch memory on a file of about BENCH_BIG_GB ----
	if [ "$big" = 1 ] && [ "$size" = "$last_size" ]; then
		body=$(($(wc -c <bin.csv) - $(head -n 1 bin.csv | wc -c)))
		copies=$(awk "BEGIN { c = int($big_gb * 1e9 / $body + 0.999); print (c < 1 ? 1 : c) }")
		say "building a $copies-copy file of bin.csv's rows (~$big_gb GB)"
		{
			cat bin.csv
			i=1
			while [ "$i" -lt "$copies" ]; do
				tail -n +2 bin.csv
				i=$((i + 1))
			done
		} >big.csv
		gb=$(awk "BEGIN { printf \"%.2f\", $(wc -c <big.csv) / 1e9 }")
		paired 1 big.out.csv -- score-batch bin.model.json -i big.csv -o big.out.csv --keep id
		record "score big" "$label" mlops "$((rows * copies))" "" "${gb} GB input, one run"
		record_base "score big" "$label" "$((rows * copies))" big.out.csv
		rm -f big.csv big.out.csv base/big.out.csv
	fi
	rm -f bin.csv bin.train.csv bin.test.csv
	rm -rf base
done

# ---- real data: ../shared/data, read in place, split into the work folder ----
if [ "$real" = 1 ]; then
	tools split "$realdata/penguins.csv" penguins.train.csv penguins.test.csv 0.3 42
	tools split "$realdata/mpg.csv" mpg.train.csv mpg.test.csv 0.3 42
	n=$(($(wc -l <penguins.train.csv) - 1))
	nt=$(($(wc -l <penguins.test.csv) - 1))
	label="penguins"
	paired 1 penguins.json -- train --data penguins.train.csv --target species \
		--model softmax --holdout 0 -o penguins.json
	"$MLOPS" score-batch penguins.json -i penguins.test.csv -o penguins.scores.csv ||
		die "score-batch on penguins.test.csv failed"
	if [ -n "$BASE" ]; then
		"$BASE" score-batch base/penguins.json -i penguins.test.csv \
			-o base/penguins.scores.csv || die "the baseline's score-batch failed"
	fi
	scored=$(($(wc -l <penguins.scores.csv) - 1))
	record "real species" "$label" mlops "$n" \
		"$(mlops_quality penguins.json penguins.test.csv)" \
		"train $n/test $nt rows, seed 42; score-batch wrote $scored rows"
	record_base "real species" "$label" "$n" --validate penguins.json penguins.test.csv \
		penguins.json penguins.scores.csv
	measure 1 "$PYTHON" "$bench/sk_train.py" softmax penguins.train.csv species penguins.pkl
	record "real species" "$label" sklearn "$n" \
		"$(tools eval-sklearn penguins.pkl penguins.test.csv)" ""

	n=$(($(wc -l <mpg.train.csv) - 1))
	nt=$(($(wc -l <mpg.test.csv) - 1))
	label="mpg"
	for model in linear ridge; do
		paired 1 "mpg.$model.json" -- train --data mpg.train.csv --target mpg \
			--model "$model" --exclude name --holdout 0 -o "mpg.$model.json"
		"$MLOPS" score-batch "mpg.$model.json" -i mpg.test.csv -o mpg.scores.csv ||
			die "score-batch on mpg.test.csv failed"
		if [ -n "$BASE" ]; then
			"$BASE" score-batch "base/mpg.$model.json" -i mpg.test.csv \
				-o base/mpg.scores.csv || die "the baseline's score-batch failed"
		fi
		scored=$(($(wc -l <mpg.scores.csv) - 1))
		record "real $model" "$label" mlops "$n" \
			"$(mlops_quality "mpg.$model.json" mpg.test.csv)" \
			"train $n/test $nt rows, seed 42; score-batch wrote $scored rows"
		record_base "real $model" "$label" "$n" --validate "mpg.$model.json" mpg.test.csv \
			"mpg.$model.json" mpg.scores.csv
		measure 1 "$PYTHON" "$bench/sk_train.py" "$model" mpg.train.csv mpg "mpg.$model.pkl" \
			--exclude name
		record "real $model" "$label" "sklearn $model" "$n" \
			"$(tools eval-sklearn "mpg.$model.pkl" mpg.test.csv)" ""
	done
fi

# ---- summary ----
if [ -n "$BASE" ]; then
	printf '\nbefore (MLOPS_BASE): %s (%s)' \
		"$("$BASE" --version 2>/dev/null | head -n 1)" "$BASE"
fi
printf '\nmlops %s (%s); %s runs per case, median wall; %s cores; %s\n\n' \
	"$("$MLOPS" --version 2>/dev/null | head -n 1)" "$MLOPS" "$runs" \
	"$(nproc 2>/dev/null || echo '?')" \
	"$("$PYTHON" -c 'import sklearn, pandas, scipy; print("sklearn", sklearn.__version__, "pandas", pandas.__version__, "scipy", scipy.__version__)')"
tools report "$results"
