#!/bin/sh
test_description='mlops drift --reference: the statistics SciPy computes on the same columns'
. "$TEST_SRCDIR/cli/lib.sh"

# The values SciPy gives on the same two files, committed by
# tests/drift/make-reference.py (so no Python is needed here).
REF=$TEST_SRCDIR/drift/reference.txt

# field NAME STAT: the value of STAT ("statistic" or "p_value") for
# column NAME in the --json report on stdin.
field() {
	awk -v col="$1" -v key="$2" '{
		n = split($0, part, "{\"column\":\"")
		for (i = 2; i <= n; i++) {
			if (substr(part[i], 1, length(col) + 1) != col "\"")
				continue
			if (match(part[i], "\"" key "\":[^,}]*")) {
				print substr(part[i], RSTART + length(key) + 3,
					     RLENGTH - length(key) - 3)
				exit
			}
		}
	}'
}

# check CASE COLUMN STAT GOT TOL [rel]: |GOT - SciPy's| <= TOL (relative
# to SciPy's value with "rel").
check() {
	want=$(awk -v c="$1" -v col="$2" -v s="$3" \
		'$1 == c && $2 == col && $3 == s { print $4 }' "$REF")
	test -n "$want" && test -n "$4" &&
	awk -v got="$4" -v want="$want" -v tol="$5" -v rel="$6" -v what="$*" 'BEGIN {
		d = got - want; if (d < 0) d = -d
		lim = rel == "rel" ? tol * (want < 0 ? -want : want) : tol
		if (d <= lim) exit 0
		printf "%s: got %.17g, scipy %.17g, off by %g\n", what, got, want, d >"/dev/stderr"
		exit 1
	}'
}

# compare CASE TOL_D TOL_P TOL_W TOL_CHI2 [rel]: every column of CASE
# (TOL_P relative to SciPy's p with "rel", else absolute).
compare() {
	"$GEN" >/dev/null 2>&1 || :
	sh "$TEST_SRCDIR/drift/make-data.sh" "$GEN" "$1" &&
	"$MLOPS" -q train --data ref.csv --target y --exclude id -o m.json &&
	"$MLOPS" --json drift m.json -i cur.csv --reference ref.csv --method ks --exit-zero >ks.json &&
	"$MLOPS" --json drift m.json -i cur.csv --reference ref.csv --method wasserstein --exit-zero >w.json &&
	"$MLOPS" --json drift m.json -i cur.csv --reference ref.csv --method chi2 --exit-zero >chi2.json &&
	for col in x1 x2 k1 k2; do
		check "$1" $col ks "$(field $col statistic <ks.json)" "$2" &&
		check "$1" $col ks_p "$(field $col p_value <ks.json)" "$3" "$6" &&
		check "$1" $col wasserstein "$(field $col statistic <w.json)" "$4" ||
		return 1
	done &&
	check "$1" c1 chi2 "$(field c1 statistic <chi2.json)" "$5" rel &&
	check "$1" c1 chi2_p "$(field c1 p_value <chi2.json)" "$5" rel
}

test_expect_success 'small files with ties: KS, its exact p, Wasserstein and chi2 equal SciPy' '
	compare small 1e-12 1e-9 1e-12 1e-9 rel
'

test_expect_success 'a shifted file: the same, and the shifted columns flagged' '
	compare shifted 1e-12 1e-9 1e-12 1e-9 rel &&
	"$MLOPS" drift m.json -i cur.csv --reference ref.csv --method ks --exit-zero >out &&
	test_grep "^  x1 .*DRIFT" out &&
	test_grep "^  k1 .*DRIFT" out
'

# Beyond the sample the reference is counted on 1025 of its values: D
# and the Wasserstein distance stay within 0.002, and p (asymptotic,
# 12000 current rows) follows D within 0.05.
test_expect_success 'a reference beyond the sample: within 0.002 of SciPy; asymptotic p close' '
	compare large 0.002 0.05 0.002 1e-9
'

# A reference that fits: KS counted on its exact values is exact however
# large the current file; Wasserstein, without the current values kept,
# stays within 0.002; p is the asymptotic one (40000 current rows).
test_expect_success 'a current file beyond what is kept: D exact, Wasserstein within 0.002' '
	compare bigcur 1e-12 0.02 0.002 1e-9 rel
'

test_expect_success 'identical files give exactly 0 for KS and Wasserstein' '
	sh "$TEST_SRCDIR/drift/make-data.sh" "$GEN" small &&
	"$MLOPS" -q train --data ref.csv --target y --exclude id -o m.json &&
	"$MLOPS" --json drift m.json -i ref.csv --reference ref.csv --method ks >ks.json &&
	"$MLOPS" --json drift m.json -i ref.csv --reference ref.csv --method wasserstein >w.json &&
	for col in x1 x2 k1 k2; do
		test "$(field $col statistic <ks.json)" = 0 &&
		test "$(field $col p_value <ks.json)" = 1 &&
		test "$(field $col statistic <w.json)" = 0 || exit 1
	done
'

# Where SciPy is installed, the committed values are what it says today.
if /usr/bin/python3 -c "import scipy, pandas" 2>/dev/null; then
	test_expect_success 'the committed SciPy values are current' '
		/usr/bin/python3 "$TEST_SRCDIR/drift/make-reference.py" "$GEN" now.txt &&
		grep -v "^#" "$REF" >want &&
		grep -v "^#" now.txt >got &&
		test_cmp want got
	'
else
	test_ok_ 'the committed SciPy values are current # SKIP no python3-scipy'
fi

test_done
