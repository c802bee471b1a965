#!/bin/sh
# make-data.sh GEN CASE: write CASE's reference and current files (ref.csv,
# cur.csv) into the working directory, from examples/gen-data and awk only,
# so that the CLI test and make-reference.py read the same bytes.
#
# Columns: x1, x2 as gen-data writes them (4 decimals, few ties); k1, an
# integer with heavy ties (about 12 distinct values); k2, rounded to one
# decimal (ties); c1, four levels; y the target.
set -e
gen=$1
case_=$2

shape() {
	awk -F, -v OFS=, 'NR == 1 { print "id,x1,x2,k1,k2,c1,y"; next }
		{ print $1, $2, $3, int($4 * 2 + 10), sprintf("%.1f", $5), $6, $7 }'
}

case $case_ in
small)	# no drift: two samples of one distribution
	"$gen" --rows 400 --seed 11 --numeric 4 --categorical 1 | shape >ref.csv
	"$gen" --rows 300 --seed 12 --numeric 4 --categorical 1 | shape >cur.csv ;;
shifted) # x1 moved by half a sd, k1 spread, c1's mix reversed
	"$gen" --rows 400 --seed 11 --numeric 4 --categorical 1 | shape >ref.csv
	"$gen" --rows 350 --seed 13 --numeric 4 --categorical 1 \
		--shift x1=0.5 --scale x3=1.5 --mix c1 | shape >cur.csv ;;
large)	# a reference beyond the 32768-row sample, 12000 current rows
	"$gen" --rows 40000 --seed 21 --numeric 4 --categorical 1 | shape >ref.csv
	"$gen" --rows 12000 --seed 22 --numeric 4 --categorical 1 \
		--shift x2=0.1 | shape >cur.csv ;;
bigcur)	# a reference that fits, a current file beyond what is kept
	"$gen" --rows 2000 --seed 31 --numeric 4 --categorical 1 | shape >ref.csv
	"$gen" --rows 40000 --seed 32 --numeric 4 --categorical 1 \
		--shift x1=0.1 | shape >cur.csv ;;
*)	echo "make-data.sh: unknown case '$case_'" >&2; exit 2 ;;
esac
