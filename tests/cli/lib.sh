# Test library for the CLI tests (after git's t/test-lib.sh), printing TAP.
#
# A script sets test_description, sources this file, runs
# test_expect_success / test_expect_code blocks and ends with test_done.
# Each script runs in its own fresh temporary folder (also $HOME), with
# MLOPS pointing at the binary under test and TEST_SRCDIR at tests/.
#
# A test that needs a tool names it first, as git's tests do:
#
#	test_expect_success ZSTD 'zstd input is read' '...'
#
# and, when zstd is missing, prints "ok N - zstd input is read # SKIP
# missing zstd", which automake's TAP driver counts as SKIP, not PASS.
# The bodies' && chains are checked by tests/cli/chainlint.pl
# (t0001-chainlint.sh).

: "${MLOPS:?MLOPS must name the mlops binary}"
: "${TEST_SRCDIR:?TEST_SRCDIR must name the tests folder}"

test_count=0
test_failures=0
TRASH_DIRECTORY=$(mktemp -d "${TMPDIR:-/tmp}/mlops-test.XXXXXX") || exit 1
HOME=$TRASH_DIRECTORY
export HOME
unset MLOPS_DIR MLOPS_CEILING_DIRECTORIES
MLOPS_CEILING_DIRECTORIES=$(dirname "$TRASH_DIRECTORY")
export MLOPS_CEILING_DIRECTORIES
NO_COLOR=1
export NO_COLOR
GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_NOSYSTEM
cd "$TRASH_DIRECTORY" || exit 1
trap 'cd /; rm -rf "$TRASH_DIRECTORY"' EXIT

# The data generator built with the project.
GEN=${TEST_BUILDDIR:-$TEST_SRCDIR}/../examples/gen-data

say() { printf '# %s\n' "$*"; }

# For scripts running many mlops processes at once: one BLAS thread each,
# and, on an AVX2 machine, the kernels main would pick, sparing the
# restart it does to pick them.
single_blas_thread() {
	OPENBLAS_NUM_THREADS=1
	export OPENBLAS_NUM_THREADS
	if test -z "${OPENBLAS_CORETYPE:-}" &&
	   grep -q " avx2 .* fma \| fma .* avx2 " /proc/cpuinfo 2>/dev/null; then
		OPENBLAS_CORETYPE=Haswell
		export OPENBLAS_CORETYPE
	fi
}

test_ok_() {
	test_count=$((test_count + 1))
	printf 'ok %d - %s\n' "$test_count" "$1"
}

test_failure_() {
	test_count=$((test_count + 1))
	test_failures=$((test_failures + 1))
	printf 'not ok %d - %s\n' "$test_count" "$1"
	shift
	printf '%s\n' "$*" | sed -e 's/^/#	/'
}

test_run_() {
	(
		set -e
		eval "$1"
	) >"$TRASH_DIRECTORY/.out" 2>&1
	test_rc_=$?
	return $test_rc_
}

# test_skip TITLE REASON: a test point that was skipped.
test_skip() {
	test_count=$((test_count + 1))
	printf 'ok %d - %s # SKIP %s\n' "$test_count" "$1" "$2"
}

# Prerequisites.  NAME holds if test_set_prereq NAME was called, or if
# the script given by test_lazy_prereq NAME SCRIPT succeeds (run once,
# in a subshell, when first asked), or else if a program named NAME in
# lower case is on PATH (ZSTD: zstd).  Names are upper case.

# test_set_prereq NAME
test_set_prereq() {
	eval "prereq_state_$1=yes"
}

# test_lazy_prereq NAME SCRIPT
test_lazy_prereq() {
	eval "prereq_script_$1=\$2"
}

# test_have_prereq NAME[,NAME...]: all hold ("!NAME": NAME does not).
# On failure, prereq_missing says which and why.
test_have_prereq() {
	prereq_missing=
	for prereq_ in $(echo "$1" | tr , ' '); do
		prereq_want_=yes
		case $prereq_ in
		!*)
			prereq_want_=no
			prereq_=${prereq_#!}
			;;
		esac
		eval "prereq_got_=\${prereq_state_$prereq_:-}"
		if test -z "$prereq_got_"; then
			eval "prereq_lazy_=\${prereq_script_$prereq_:-}"
			prereq_got_=no
			if test -n "$prereq_lazy_"; then
				if (eval "$prereq_lazy_") >/dev/null 2>&1; then
					prereq_got_=yes
				fi
			elif command -v "$(echo "$prereq_" | tr A-Z a-z)" \
				>/dev/null 2>&1; then
				prereq_got_=yes
			fi
			eval "prereq_state_$prereq_=$prereq_got_"
		fi
		test "$prereq_got_" = "$prereq_want_" && continue
		if test "$prereq_want_" = no; then
			prereq_missing="$prereq_missing${prereq_missing:+, }$prereq_ present"
		else
			eval "prereq_lazy_=\${prereq_script_$prereq_:-}"
			if test -n "$prereq_lazy_"; then
				prereq_missing="$prereq_missing${prereq_missing:+, }missing $prereq_"
			else
				prereq_missing="$prereq_missing${prereq_missing:+, }missing $(echo "$prereq_" | tr A-Z a-z)"
			fi
		fi
	done
	test -z "$prereq_missing"
}

# test_expect_success [PREREQ] 'title' 'commands'
test_expect_success() {
	if test $# = 3; then
		if ! test_have_prereq "$1"; then
			test_skip "$2" "$prereq_missing"
			return 0
		fi
		shift
	fi
	# Not "if test_run_": inside an if condition the shell ignores set -e,
	# so a failing command in the middle of a body would go unnoticed.
	test_run_ "$2"
	if test "$test_rc_" = 0; then
		test_ok_ "$1"
	else
		test_failure_ "$1" "$2"
		sed -e 's/^/#	/' "$TRASH_DIRECTORY/.out"
	fi
}

# test_expect_code CODE command args...: run the command, expect exit CODE.
test_expect_code() {
	want=$1
	shift
	got=0
	"$@" || got=$?
	if test "$got" = "$want"; then
		return 0
	fi
	echo "test_expect_code: command exited $got, wanted $want: $*" >&2
	return 1
}

# test_cmp expected actual
test_cmp() {
	diff -u "$@"
}

# test_one_line FILE: FILE holds exactly one line (one error line).
test_one_line() {
	n=$(wc -l <"$1")
	if test "$n" != 1; then
		echo "expected exactly one line in $1, found $n:" >&2
		cat "$1" >&2
		return 1
	fi
}

# test_grep PATTERN FILE with the file shown on failure.
test_grep() {
	if grep -e "$1" "$2" >/dev/null; then
		return 0
	fi
	echo "no line matches '$1' in $2:" >&2
	cat "$2" >&2
	return 1
}

test_done() {
	printf '1..%d\n' "$test_count"
	test "$test_failures" = 0
}
