#!/bin/sh
# The registry at scale: promote, rollback and history on a registry of
# 10 000 versions and 100 000 ledger events.  Target: each under 20 ms.
#
#   sh bench/registry.sh
#
# The registry is made by `mlops init` (the real schema) and filled with
# the sqlite3 CLI in one transaction: model "bench" with N_VERSIONS
# versions (artefact files are not needed to move stages) and N_EVENTS
# promotes spread over three stages, each row pointing at the row below
# it as mlops writes them.  Then each command is timed on its own: the
# median of BENCH_RUNS runs, with hyperfine when installed, else a loop
# over date +%s%N; hyperfine also gives the CPU time, which a loaded
# machine disturbs less than the wall time.  The startup of the binary (`mlops --version`) is
# timed too, since it is part of every command and not the registry's.
#
# Environment: MLOPS (default: built in this tree), BENCH_DIR (work
# folder; default a new temporary one, removed at the end unless
# BENCH_KEEP=1), BENCH_RUNS (default 30), N_VERSIONS (10000), N_EVENTS
# (100000).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
MLOPS=${MLOPS:-$root/mlops}
runs=${BENCH_RUNS:-30}
n_versions=${N_VERSIONS:-10000}
n_events=${N_EVENTS:-100000}

say() { printf '==> %s\n' "$*" >&2; }
die() {
	printf 'bench: %s\n' "$*" >&2
	exit 1
}

[ -x "$MLOPS" ] || die "no mlops binary at '$MLOPS' (make, or set MLOPS)"
command -v sqlite3 >/dev/null || die "sqlite3 not found (apt-get install sqlite3)"

dir=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/mlops-bench-registry.XXXXXX")}
[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$dir"' EXIT
cd "$dir"
unset MLOPS_DIR

say "building a registry of $n_versions versions and $n_events events in $dir"
"$MLOPS" init >/dev/null
start=$(date +%s%N)
sqlite3 .mlops/registry.db <<SQL
BEGIN IMMEDIATE;
INSERT INTO models (name, created_at) VALUES ('bench', '2026-01-01T00:00:00.000Z');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n_versions)
INSERT INTO versions (model, version, sha256, size, created_at, created_by)
SELECT 'bench', i, printf('%064x', i), 1000,
       strftime('%Y-%m-%dT%H:%M:%S.000Z', 1767225600 + i, 'unixepoch'), 'bench@localhost'
FROM n;
-- Event i moves stage (i % 3) to a pseudo-random version; the row below
-- it is the previous event of the same stage, i - 3.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n_events)
INSERT INTO stage_events (id, model, stage, from_version, to_version, action,
                          forced, actor, host, at, reason, below_event_id)
SELECT i, 'bench', CASE i % 3 WHEN 0 THEN 'production' WHEN 1 THEN 'staging' ELSE 'canary' END,
       CASE WHEN i > 3 THEN ((i - 3) * 7919) % $n_versions + 1 END,
       (i * 7919) % $n_versions + 1, 'promote', 0, 'bench', 'localhost',
       strftime('%Y-%m-%dT%H:%M:%S.000Z', 1767225600 + i * 60, 'unixepoch'),
       'bench move ' || i, CASE WHEN i > 3 THEN i - 3 END
FROM n;
INSERT INTO stages (model, stage, version, event_id, updated_at)
SELECT model, stage, to_version, id, at FROM stage_events
WHERE id IN (SELECT MAX(id) FROM stage_events GROUP BY stage);
COMMIT;
SQL
say "filled in $(( ($(date +%s%N) - start) / 1000000 )) ms: $(sqlite3 .mlops/registry.db \
	"SELECT (SELECT COUNT(*) FROM versions) || ' versions, ' || (SELECT COUNT(*) FROM stage_events) || ' events'")"
"$MLOPS" verify >/dev/null 2>&1 || :	# artefact files are absent on purpose

# median_ms CMD...: run CMD $runs times (each a fresh process), print the
# median wall time in milliseconds with one decimal, and "-" for CPU.
median_ms() {
	i=0
	: >times
	while [ $i -lt "$runs" ]; do
		t0=$(date +%s%N)
		"$@" >/dev/null
		t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 )) >>times
		i=$((i + 1))
	done
	sort -n times | awk '{ a[NR] = $1 } END {
		m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2;
		printf "%.1f -\n", m / 1000 }'
}

# hyperfine_ms PREPARE CMD: hyperfine's median wall time and mean CPU
# time (user + system) in ms; PREPARE runs untimed before each run.
hyperfine_ms() {
	hyperfine -N -w 3 -r "$runs" --prepare "$1" --export-json hf.json \
		"$2" >/dev/null 2>&1 &&
	tr -d ' \n' <hf.json | sed 's/.*"median":\([0-9.e-]*\),.*"user":\([0-9.e-]*\),"system":\([0-9.e-]*\),.*/\1 \2 \3/' |
		awk '{ printf "%.1f %.1f\n", $1 * 1000, ($2 + $3) * 1000 }'
}

# measure PREPARE CMD...: "WALL CPU" for CMD, PREPARE run before each.
measure() {
	prepare=$1
	shift
	if command -v hyperfine >/dev/null; then
		hyperfine_ms "$prepare" "$*"
	else
		median_ms "$@"
	fi
}

noop=true
# Each timed promote is a real move (bench:2 after a prepare that put
# bench:1 there), each rollback a real one (after a prepare that
# promoted a version on top).
startup=$(measure "$noop" "$MLOPS" --version)
history=$(measure "$noop" "$MLOPS" history bench@production --limit 20)
history_at=$(measure "$noop" "$MLOPS" history bench --at 2026-01-15T12:00:00Z)
promote=$(measure "$MLOPS promote bench:1 --to production --force --reason prepare" \
	"$MLOPS" promote bench:2 --to production --force --reason bench)
rollback=$(measure "$MLOPS promote bench:3 --to production --force --reason prepare" \
	"$MLOPS" rollback bench@production --reason bench)
events=$(sqlite3 .mlops/registry.db "SELECT COUNT(*) FROM stage_events")

row() {
	printf '%-44s %8s %8s\n' "$1" "$2" "$3"
}
echo "registry: $n_versions versions, $events ledger events at the end;" \
	"$runs runs each ($(command -v hyperfine >/dev/null && echo hyperfine || echo 'date +%s%N'))"
row "command" "wall ms" "cpu ms"
row "" "(median)" "(mean)"
row "mlops --version (process startup)" $startup
row "mlops history bench@production --limit 20" $history
row "mlops history bench --at TIME" $history_at
row "mlops promote bench:N --to production" $promote
row "mlops rollback bench@production" $rollback
echo "(the process startup is in every line; the registry's own work is the"
echo " difference from the first line)"
