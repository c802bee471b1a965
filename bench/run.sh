#!/bin/sh
# mlops against its peers on the same CSV files: training a logistic
# regression and batch scoring.  See bench/README.md.
#
#   sh bench/run.sh                 # both sizes
#   BENCH_SIZES=small sh bench/run.sh
#
# Environment: MLOPS and GEN (binaries; default: built in this tree),
# PYTHON (default /usr/bin/python3, where Debian's sklearn lives),
# BENCH_DIR (work folder; default a new temporary one, removed at the
# end unless BENCH_KEEP=1), BENCH_RUNS (timed runs per case, default 3),
# BENCH_SIZES ("small large", default both), BENCH_NO_INSTALL=1 to skip
# installing the peers.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
MLOPS=${MLOPS:-$root/mlops}
GEN=${GEN:-$root/examples/gen-data}
runs=${BENCH_RUNS:-3}
sizes=${BENCH_SIZES:-small large}

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

[ -x "$MLOPS" ] || die "no mlops binary at '$MLOPS' (run scripts/demo.sh or make, or set MLOPS)"
[ -x "$GEN" ] || die "no gen-data at '$GEN' (make, or set GEN)"

# ---- peers, from Debian packages ----
if [ "${BENCH_NO_INSTALL:-0}" != 1 ] && command -v apt-cache >/dev/null 2>&1; then
	want=
	for pkg in time python3-sklearn python3-pandas liblinear-tools hyperfine; do
		# Only ask for what this release carries.
		if apt-cache show "$pkg" >/dev/null 2>&1; then
			want="$want $pkg"
		else
			say "package $pkg not available here; skipping it"
		fi
	done
	# shellcheck disable=SC2086 # a list of package names
	sh "$root/scripts/setup-deps.sh" $want
fi
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) is needed: apt-get install time"
# The Debian packages install into the system python, which a pyenv or
# virtualenv python3 earlier in PATH would not see.
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
fi
have_sklearn=0
if "$PYTHON" -c 'import sklearn, pandas' 2>/dev/null; then
	have_sklearn=1
else
	say "$PYTHON with sklearn and pandas not found: no scikit-learn runs"
fi
have_liblinear=0
command -v liblinear-train >/dev/null 2>&1 && have_liblinear=1
have_hyperfine=0
command -v hyperfine >/dev/null 2>&1 && have_hyperfine=1

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

# ---- the peers' scripts ----
cat >sk_train.py <<'EOF'
# scikit-learn's equivalent of `mlops train --model logistic`: read the
# CSV, hold out 20%, standardise, fit L2 logistic regression (lbfgs),
# report holdout AUC, save the fitted pipeline.
import pickle, sys
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

data, out = sys.argv[1], sys.argv[2]
df = pd.read_csv(data)
X = df.drop(columns=["id", "y"]).to_numpy()
y = df["y"].to_numpy()
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=1)
model = make_pipeline(StandardScaler(),
                      LogisticRegression(solver="lbfgs", C=1.0, max_iter=1000))
model.fit(X_tr, y_tr)
print("holdout auc %.4f" % roc_auc_score(y_te, model.predict_proba(X_te)[:, 1]),
      file=sys.stderr)
with open(out, "wb") as f:
    pickle.dump(model, f)
EOF
cat >sk_score.py <<'EOF'
# scikit-learn's equivalent of `mlops score-batch MODEL -i IN -o OUT --keep id`.
import pickle, sys
import pandas as pd

model_path, data, out = sys.argv[1], sys.argv[2], sys.argv[3]
with open(model_path, "rb") as f:
    model = pickle.load(f)
df = pd.read_csv(data)
X = df.drop(columns=["id", "y"]).to_numpy()
pd.DataFrame({"id": df["id"], "score": model.predict_proba(X)[:, 1]}).to_csv(
    out, index=False)
EOF

# ---- measuring ----
results=$work/results.txt
: >"$results"

# timed_run WALL_VAR RSS_VAR command...: one run under GNU time.
timed_run() {
	if ! /usr/bin/time -f '%e %M' -o time.out "$@" >/dev/null 2>cmd.err; then
		cat cmd.err >&2
		die "failed: $*"
	fi
	read -r t_wall t_kb <time.out
}

# measure TASK DATA TOOL ROWS command...: wall time (hyperfine's mean of
# $runs runs when installed, else the best of $runs runs under GNU time)
# and the peak RSS of a run.
measure() {
	m_task=$1 m_data=$2 m_tool=$3 m_rows=$4
	shift 4
	say "$m_task $m_data: $m_tool"
	timed_run "$@"
	best=$t_wall
	rss=$t_kb
	if [ "$have_hyperfine" = 1 ]; then
		if hyperfine --runs "$runs" --export-json hf.json --style none \
			"$(quote_cmd "$@")" >/dev/null 2>cmd.err; then
			best=$(sed -n 's/^ *"mean": *\([0-9.e+-]*\),*$/\1/p' hf.json | head -n 1)
		else
			cat cmd.err >&2
			die "hyperfine failed on: $*"
		fi
	else
		i=1
		while [ "$i" -lt "$runs" ]; do
			i=$((i + 1))
			timed_run "$@"
			if awk "BEGIN { exit !($t_wall < $best) }"; then
				best=$t_wall
			fi
			[ "$t_kb" -gt "$rss" ] && rss=$t_kb
		done
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$m_task" "$m_data" "$m_tool" \
		"$m_rows" "$best" "$rss" >>"$results"
}

# quote_cmd args...: one shell command line for hyperfine.
quote_cmd() {
	line=
	for a in "$@"; do
		line="$line '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
	done
	printf '%s' "$line"
}

# csv_to_libsvm IN OUT: liblinear's input format (label first, 1-based).
csv_to_libsvm() {
	awk -F, 'NR > 1 {
		line = $NF
		for (j = 2; j < NF; j++)
			if ($j != "") line = line " " (j - 1) ":" $j
		print line
	}' "$1" >"$2"
}

for size in $sizes; do
	case $size in
	small) rows=100000 cols=20 ;;
	large) rows=1000000 cols=50 ;;
	*) die "unknown size '$size' (small or large)" ;;
	esac
	label="${rows}x${cols}"
	data=$size.csv
	say "generating $label binary data"
	"$GEN" --rows "$rows" --numeric "$cols" --categorical 0 --seed 7 \
		--task binary >"$data"

	measure train "$label" mlops "$rows" \
		"$MLOPS" train --data "$data" --target y --model logistic \
		--exclude id -o "$size.model.json"
	if [ "$have_sklearn" = 1 ]; then
		measure train "$label" sklearn "$rows" \
			"$PYTHON" sk_train.py "$data" "$size.pkl"
	fi
	if [ "$have_liblinear" = 1 ]; then
		csv_to_libsvm "$data" "$size.svm"
		measure train "$label" liblinear "$rows" \
			liblinear-train -q -s 0 "$size.svm" "$size.liblinear"
	fi

	measure score "$label" mlops "$rows" \
		"$MLOPS" score-batch "$size.model.json" -i "$data" \
		-o "$size.scores.csv" --keep id
	if [ "$have_sklearn" = 1 ]; then
		measure score "$label" sklearn "$rows" \
			"$PYTHON" sk_score.py "$size.pkl" "$data" "$size.sk.csv"
	fi
	rm -f "$data" "$size.svm"
done

# ---- report ----
printf '\n%-6s %-11s %-10s %9s %9s %9s %9s\n' \
	task data tool wall_s peak_MB us/row vs_mlops
awk -F'\t' '
	{ key = $1 FS $2; if ($3 == "mlops") base[key] = $5; line[NR] = $0 }
	END {
		for (i = 1; i <= NR; i++) {
			split(line[i], f, FS)
			key = f[1] FS f[2]
			ratio = (key in base && base[key] > 0) ? sprintf("%.2fx", f[5] / base[key]) : "-"
			printf "%-6s %-11s %-10s %9.2f %9.1f %9.2f %9s\n", f[1], f[2], f[3],
				f[5], f[6] / 1024, f[5] * 1e6 / f[4], ratio
		}
	}' "$results"
printf '\nvs_mlops: the tool'"'"'s wall time divided by mlops'"'"'s on the same task and data.\n'
