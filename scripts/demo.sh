#!/bin/sh
# Build mlops and walk the example model lifecycle on a fresh repository.
#
#   sh scripts/demo.sh
#
# Installs the Debian packages it needs (scripts/setup-deps.sh), builds in
# this source tree (autoreconf -fi, configure, make), then runs
# examples/lifecycle.sh with the built binary in a new temporary folder
# (or in $DEMO_DIR, which must not hold a repository yet), and leaves
# that folder in place to look around in.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${MLOPS_DEMO_JOBS:-2}

say() { printf '==> %s\n' "$*"; }
die() {
	printf 'demo.sh: %s\n' "$*" >&2
	exit 1
}

say "dependencies (scripts/setup-deps.sh)"
sh "$root/scripts/setup-deps.sh"

cd "$root"
say "build: autoreconf -fi && ./configure && make -j$jobs"
mkdir -p m4 build-aux
autoreconf -fi || die "autoreconf failed"
./configure --quiet || die "configure failed (see config.log)"
make -j"$jobs" || die "make failed"

if [ -n "${DEMO_DIR:-}" ]; then
	mkdir -p "$DEMO_DIR"
	demo=$(cd "$DEMO_DIR" && pwd)
else
	demo=$(mktemp -d "${TMPDIR:-/tmp}/mlops-demo.XXXXXX")
fi

say "lifecycle in $demo"
cd "$demo"
MLOPS=$root/mlops GEN=$root/examples/gen-data sh "$root/examples/lifecycle.sh"

say "done: the repository and the data are in $demo"
say "try: cd $demo && $root/mlops list && $root/mlops history churn"
