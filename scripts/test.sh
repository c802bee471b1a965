#!/bin/bash
# Build mlops and run the whole test suite, the way CI does.
#
#   bash scripts/test.sh
#
# 1. installs the Debian packages it needs (scripts/setup-deps.sh);
# 2. takes a snapshot of the source tree (what git sees: tracked and
#    untracked, not ignored, files) into _build/src, so the checkout's own
#    in-tree build is never disturbed, and runs autoreconf -fi there;
# 3. default build in _build/default: configure, make -j2, make check;
# 4. sanitizer build in _build/asan (-fsanitize=address,undefined, leak
#    detection when LeakSanitizer works here): make check again;
# 5. make distcheck, and when running as root also as an unprivileged
#    user (mlopsbuild, created if missing) in a copy that user owns;
# 6. prints the TAP totals per build and ends with "N passed, N failed".
#
# Exits non-zero if any step or any test failed.  MLOPS_TEST_JOBS sets
# the make parallelism (default 2).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$root/_build
logs=$work/logs
jobs=${MLOPS_TEST_JOBS:-2}
build_user=mlopsbuild

# The real datasets beside the project (../shared/data), which some tests
# read in place; the builds below run from a snapshot elsewhere.
if [ -z "${MLOPS_SHARED_DATA:-}" ] && [ -d "$root/../shared/data" ]; then
	MLOPS_SHARED_DATA=$(cd "$root/../shared/data" && pwd)
	export MLOPS_SHARED_DATA
fi

total_pass=0
total_fail=0
summary=()
user_tmp=

say() { printf '==> %s\n' "$*"; }
warn() { printf 'test.sh: %s\n' "$*" >&2; }

cleanup() {
	if [ -n "$user_tmp" ] && [ -d "$user_tmp" ]; then
		# distcheck leaves read-only folders behind on failure.
		chmod -R u+w "$user_tmp" 2>/dev/null || true
		rm -rf "$user_tmp"
	fi
}
trap cleanup EXIT

# run_step LOGNAME command...: run quietly into a log; on failure show its end.
run_step() {
	local log=$logs/$1.log
	shift
	if "$@" >"$log" 2>&1; then
		return 0
	fi
	warn "failed: $* (log: $log); last lines:"
	tail -n 40 "$log" | sed 's/^/    /' >&2
	return 1
}

# step_failed NAME: count a build step that failed as one failed result.
step_failed() {
	total_fail=$((total_fail + 1))
	summary+=("$1: FAILED (the step did not complete)")
}

# count_trs NAME DIR STEP_OK: add up the :test-result: lines of DIR's .trs
# files (one per TAP test point).
count_trs() {
	local name=$1 dir=$2 step_ok=$3 pass=0 fail=0 skip=0 result
	while IFS= read -r result; do
		case $result in
		PASS | XFAIL) pass=$((pass + 1)) ;;
		FAIL | XPASS | ERROR) fail=$((fail + 1)) ;;
		SKIP) skip=$((skip + 1)) ;;
		esac
	done < <(find "$dir" -name '*.trs' -type f -exec \
		sed -n 's/^:test-result: *\([A-Z]*\).*/\1/p' {} +)
	record "$name" "$step_ok" "$pass" "$fail" "$skip"
	show_failures "$dir"
}

# count_log NAME LOG STEP_OK: add up the "# PASS: N" summaries that make
# check printed (distcheck deletes its build folder and the .trs files).
count_log() {
	local name=$1 log=$2 step_ok=$3 pass=0 fail=0 skip=0
	if [ -f "$log" ]; then
		pass=$(sum_field "$log" 'PASS|XFAIL')
		fail=$(sum_field "$log" 'FAIL|XPASS|ERROR')
		skip=$(sum_field "$log" 'SKIP')
	fi
	record "$name" "$step_ok" "$pass" "$fail" "$skip"
}

sum_field() {
	sed 's/\x1b\[[0-9;]*m//g' "$1" |
		awk -v re="^# ($2): +[0-9]+$" '$0 ~ re { n += $NF } END { print n + 0 }'
}

# record NAME STEP_OK PASS FAIL SKIP: a step that failed without a failing
# test (a compile error, a crash of the harness) or that ran no test at
# all counts as one failure, so it can never pass unnoticed.
record() {
	local name=$1 step_ok=$2 pass=$3 fail=$4 skip=$5 note=
	if [ "$fail" -eq 0 ] && [ "$step_ok" != 1 ]; then
		fail=1
		note=" (the step failed outside the tests)"
	elif [ "$pass" -eq 0 ] && [ "$fail" -eq 0 ]; then
		fail=1
		note=" (no test results found)"
	fi
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	summary+=("$name: $pass passed, $fail failed, $skip skipped$note")
}

# show_failures DIR: for every test that did not pass, the lines of its
# log that are not passing test points (failures, diagnostics, sanitizer
# reports), at most 60 of them.
show_failures() {
	local trs
	find "$1" -name '*.trs' -type f -print0 |
		while IFS= read -r -d '' trs; do
			if grep -Eq '^:test-result: *(FAIL|XPASS|ERROR)' "$trs"; then
				warn "failing test: ${trs%.trs}.log"
				grep -Ev '^(ok |PASS: |SKIP: )' "${trs%.trs}.log" |
					head -n 60 | sed 's/^/    /' >&2 || true
			fi
		done
}

# snapshot SRC DEST: copy what git sees (or everything) into DEST.
snapshot() {
	local src=$1 dest=$2 f
	rm -rf "$dest"
	mkdir -p "$dest"
	# safe.directory: CI may check out as another user than the one running.
	if git -c safe.directory="$src" -C "$src" rev-parse --is-inside-work-tree \
		>/dev/null 2>&1; then
		(
			cd "$src"
			git -c safe.directory="$src" ls-files -z --cached --others \
				--exclude-standard |
				while IFS= read -r -d '' f; do
					# Skip files deleted in the working tree.
					if [ -e "$f" ] || [ -L "$f" ]; then
						printf '%s\0' "$f"
					fi
				done | tar --null -T - -cf -
		) | tar -C "$dest" -xf -
	else
		tar -C "$src" --exclude=./_build --exclude=./.git -cf - . |
			tar -C "$dest" -xf -
	fi
	# Empty folders are not tracked by git; autotools want them.
	mkdir -p "$dest/m4" "$dest/build-aux"
	# A generated source left in the checkout would shadow the build's own.
	rm -f "$dest/src/completion-scripts.c"
}

# lsan_works: whether LeakSanitizer can run here (not under ptrace, etc.).
lsan_works() {
	local dir out
	dir=$(mktemp -d)
	printf '#include <stdlib.h>\nint main(void) { void *volatile p = malloc(33); p = 0; return p != 0; }\n' \
		>"$dir/leak.c"
	if ! cc -fsanitize=address -g -o "$dir/leak" "$dir/leak.c" 2>/dev/null; then
		rm -rf "$dir"
		return 1
	fi
	out=$(ASAN_OPTIONS=detect_leaks=1 "$dir/leak" 2>&1 || true)
	rm -rf "$dir"
	case $out in
	*"ERROR: LeakSanitizer: detected memory leaks"*) return 0 ;;
	*) return 1 ;;
	esac
}

# as_user SCRIPT: run a shell script as the unprivileged build user,
# with a clean environment.
as_user() {
	local home
	home=$(getent passwd "$build_user" | cut -d: -f6)
	if command -v runuser >/dev/null 2>&1; then
		runuser -u "$build_user" -- env -i PATH="$PATH" HOME="$home" \
			LANG=C.UTF-8 TMPDIR=/tmp sh "$1"
	else
		su -s /bin/sh -c "env -i PATH='$PATH' HOME='$home' LANG=C.UTF-8 TMPDIR=/tmp sh '$1'" \
			"$build_user"
	fi
}

ensure_build_user() {
	if id -u "$build_user" >/dev/null 2>&1; then
		return 0
	fi
	if ! command -v useradd >/dev/null 2>&1; then
		warn "useradd not found: cannot create user '$build_user'"
		return 1
	fi
	useradd --create-home --shell /bin/sh --comment "mlops test builds" \
		"$build_user"
}

# distcheck_as_user TARBALL: distcheck the tarball as $build_user, in a
# folder that user owns.
distcheck_as_user() {
	local tarball=$1 base
	ensure_build_user || return 1
	user_tmp=$(mktemp -d /tmp/mlops-distcheck.XXXXXX)
	base=$(basename "$tarball" .tar.gz)
	cp "$tarball" "$user_tmp/"
	cat >"$user_tmp/run.sh" <<-SCRIPT
		set -e
		cd '$user_tmp'
		tar -xzf '$base.tar.gz'
		cd '$base'
		./configure --quiet
		make -j$jobs distcheck AM_COLOR_TESTS=no
	SCRIPT
	chown -R "$build_user:" "$user_tmp"
	chmod 755 "$user_tmp"
	as_user "$user_tmp/run.sh"
}

# ---------------------------------------------------------------------

say "dependencies (scripts/setup-deps.sh)"
sh "$root/scripts/setup-deps.sh"

mkdir -p "$work"
# A failed distcheck leaves read-only folders behind.
chmod -R u+w "$work/default" "$work/asan" 2>/dev/null || true
rm -rf "$logs" "$work/default" "$work/asan"
mkdir -p "$logs"

say "source snapshot in $work/src; autoreconf -fi"
snapshot "$root" "$work/src"
src=$work/src
if ! run_step autoreconf sh -c "cd '$src' && autoreconf -fi"; then
	step_failed "autoreconf"
	printf '\n%s\n' "${summary[@]}"
	printf '%d passed, %d failed\n' "$total_pass" "$total_fail"
	exit 1
fi

# 1. Default build.
say "default build in $work/default: configure, make -j$jobs, make check"
mkdir -p "$work/default"
default_ok=0
if run_step default-configure sh -c "cd '$work/default' && '$src/configure'" &&
	run_step default-make make -C "$work/default" -j"$jobs"; then
	default_ok=1
	ok=1
	run_step default-check make -C "$work/default" -j"$jobs" check \
		AM_COLOR_TESTS=no || ok=0
	count_trs "default build" "$work/default" "$ok"
else
	step_failed "default build"
fi

# 2. Sanitizer build.
asan_cflags="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer"
if lsan_works; then
	asan_options=detect_leaks=1
else
	warn "LeakSanitizer does not work here (ptrace, no support): leak detection off"
	asan_options=detect_leaks=0
fi
say "sanitizer build in $work/asan: $asan_cflags, ASAN_OPTIONS=$asan_options"
mkdir -p "$work/asan"
if run_step asan-configure sh -c "cd '$work/asan' && '$src/configure' CFLAGS='$asan_cflags' LDFLAGS='-fsanitize=address,undefined'" &&
	run_step asan-make make -C "$work/asan" -j"$jobs"; then
	ok=1
	run_step asan-check env UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ASAN_OPTIONS="$asan_options" \
		make -C "$work/asan" -j"$jobs" check AM_COLOR_TESTS=no || ok=0
	count_trs "sanitizer build" "$work/asan" "$ok"
else
	step_failed "sanitizer build"
fi

# 3. distcheck, as this user and, for root, as an unprivileged one.
if [ "$default_ok" = 1 ]; then
	say "make distcheck"
	rm -f "$work/default"/mlops-*.tar.gz
	ok=1
	run_step distcheck make -C "$work/default" -j"$jobs" distcheck \
		AM_COLOR_TESTS=no || ok=0
	count_log "distcheck" "$logs/distcheck.log" "$ok"
	if [ "$(id -u)" -eq 0 ]; then
		say "make distcheck as user '$build_user'"
		tarball=$(find "$work/default" -maxdepth 1 -name 'mlops-*.tar.gz' | head -n 1)
		if [ -z "$tarball" ]; then
			run_step dist make -C "$work/default" dist || true
			tarball=$(find "$work/default" -maxdepth 1 -name 'mlops-*.tar.gz' | head -n 1)
		fi
		ok=0
		if [ -n "$tarball" ]; then
			ok=1
			run_step distcheck-user distcheck_as_user "$tarball" || ok=0
		fi
		count_log "distcheck as $build_user" "$logs/distcheck-user.log" "$ok"
	fi
else
	step_failed "distcheck (the default build failed)"
fi

printf '\n'
printf '%s\n' "${summary[@]}"
printf '%d passed, %d failed\n' "$total_pass" "$total_fail"
[ "$total_fail" -eq 0 ]
