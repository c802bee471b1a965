#!/bin/sh
# shellcheck disable=SC1091,SC2016,SC2034 # git-style test bodies are eval'd
# The data contract of mlops-data(7): every CSV a command reads is read
# right or refused with exit 5, exactly one stderr line, and nothing
# written (no output file, no artefact, no registry version).
test_description='reading CSV: structure, encoding, compression, names, limits'
. "$TEST_SRCDIR/cli/lib.sh"

# refused CODE EXPECT CMD...: CMD exits CODE, its stderr is the one line
# in file EXPECT.
refused() {
	code=$1
	expect=$2
	shift 2
	test_expect_code "$code" "$@" 2>err &&
	test_one_line err &&
	test_cmp "$expect" err
}

# nothing_written: no artefact, no output, no registered version.
nothing_written() {
	test ! -e out.json &&
	test ! -e out.csv &&
	"$MLOPS" list >list &&
	test_cmp /dev/null list
}

# Expected messages (single quotes cannot appear inside test bodies).
cat >expect.short <<\EOF
mlops train: 'short.csv' line 5: expected 5 fields, found 4
EOF
cat >expect.nulh <<\EOF
mlops train: 'nulh.csv' line 1, column 2: NUL byte in a field (binary data?)
EOF
cat >expect.nulf <<\EOF
mlops score-batch: 'nulf.csv' line 3, column 4: NUL byte in a field (binary data?)
EOF
cat >expect.latin <<\EOF
mlops train: 'latin.csv' line 2, column 4: invalid UTF-8 (byte 0xe9); if the file is Latin-1 or Windows-1252, read it with --encoding latin1
EOF
cat >expect.idx <<\EOF
mlops train: 'idx.csv' line 1, column 1: unnamed column (empty name in the header); name it, or leave it out with --exclude ''
EOF
cat >expect.tail <<\EOF
mlops train: warning: ignored column 6 of 'tail.csv': no name in the header and empty on every row
EOF
cat >expect.tailx <<\EOF
mlops train: 'tailx.csv' line 7, column 6: the unnamed last column holds 'oops'; name it in the header, or leave it out with --exclude ''
EOF
cat >expect.dup-train <<\EOF
mlops train: 'dup.csv': column 'x1' occurs twice in the header (columns 2 and 3); rename one, or leave both out with --exclude 'x1'
EOF
cat >expect.dup-score <<\EOF
mlops score-batch: 'dup.csv': column 'x1' (a feature of the model) occurs twice in the header (columns 2 and 3)
EOF
cat >expect.dup-keep <<\EOF
mlops score-batch: 'dupid.csv': column 'id' (--keep) occurs twice in the header (columns 1 and 6)
EOF
cat >expect.nlh <<\EOF
mlops train: 'nlh.csv': no column 'x1' (--features); did you mean 'x\n1'?
EOF
cat >expect.crc <<\EOF
mlops score-batch: 'crc.csv.gz': corrupt gzip input: incorrect data check
EOF
cat >expect.len <<\EOF
mlops score-batch: 'len.csv.gz': corrupt gzip input: incorrect length check
EOF
cat >expect.trunc <<\EOF
mlops train: 'trunc.csv.gz': truncated gzip input (the stream ends inside a member)
EOF
cat >expect.target <<\EOF
mlops train: 'bin.csv': no column 'Y' (--target); did you mean 'y'?
EOF
cat >expect.exclude <<\EOF
mlops train: 'bin.csv': no column 'idd' (--exclude); did you mean 'id'?
EOF
cat >expect.features <<\EOF
mlops train: 'bin.csv': no column 'x9' (--features); did you mean 'x1'?
EOF
cat >expect.categorical <<\EOF
mlops train: 'bin.csv': no column 'C1' (--categorical); did you mean 'c1'?
EOF
cat >expect.numeric <<\EOF
mlops train: 'bin.csv': no column 'zz' (--numeric)
EOF
cat >expect.keep <<\EOF
mlops score-batch: 'bin.csv': no column 'ID' (--keep); did you mean 'id'?
EOF
cat >expect.vtarget <<\EOF
mlops validate: 'noy.csv': no column 'y' (the model's target)
EOF
cat >expect.eu <<\EOF
mlops train: 'eu.csv': no column 'y' (--target); the header looks ';'-separated: try --delimiter ';'
EOF
cat >expect.eu-score <<\EOF
mlops score-batch: 'eu.csv': no column 'x1' (a feature of the model); the header looks ';'-separated: try --delimiter ';'
EOF
cat >expect.tsv-drift <<\EOF
mlops drift: 'ref.tsv': no column 'x1' (a feature of the model); the header looks tab-separated: try --reference-delimiter tab
EOF
cat >expect.eu-drift <<\EOF
mlops drift: 'eu.csv': no column 'x1' (a feature of the model); the header looks ';'-separated: try --delimiter ';'
EOF
cat >expect.eu-refdrift <<\EOF
mlops drift: 'bin.csv': no column 'x1' (a feature of the model); the header looks ','-separated: try --reference-delimiter ','
EOF
cat >expect.refdelim <<\EOF
mlops drift: --reference-delimiter needs --reference
EOF
cat >expect.delim <<\EOF
mlops train: --delimiter expects ',', ';', tab or '|', got 'x'
EOF
cat >expect.wide <<\EOF
mlops train: 'wide.csv' line 1: more than 10000 fields in a record (the limit)
EOF
cat >expect.wide-score <<\EOF
mlops score-batch: 'wide.csv' line 1: more than 10000 fields in a record (the limit)
EOF
cat >expect.long <<\EOF
mlops score-batch: 'long.csv' line 3: record longer than 1 MiB (the limit)
EOF
cat >expect.blank <<\EOF
mlops train: 'blank2.csv' line 3: more than 1 MiB of empty lines (the record limit)
EOF
cat >expect.blank-score <<\EOF
mlops score-batch: 'blank2.csv' line 3: more than 1 MiB of empty lines (the record limit)
EOF
cat >expect.ratio <<\EOF
mlops train: 'commas.csv.gz': decompresses to more than 1000 times its size (the limit; a decompression bomb?)
EOF
cat >expect.ratio-drift <<\EOF
mlops drift: 'commas.csv.gz': decompresses to more than 1000 times its size (the limit; a decompression bomb?)
EOF
cat >expect.inputs <<\EOF
mlops train: 'levels.csv': 4500 model inputs (one per number, one per category level), more than the limit of 4096; leave columns out with --exclude or --features
EOF
cat >expect.zero <<\EOF
mlops import: bundle '/dev/zero' is larger than 135266304 bytes; refused
EOF
cat >expect.bomb <<\EOF
mlops import: bundle 'bomb.tar.gz' inflates to more than 269484032 bytes; refused
EOF

test_expect_success 'setup: a repository, data and a model' '
	"$MLOPS" init >/dev/null &&
	"$GEN" --rows 300 --seed 1 --task binary --numeric 2 --categorical 1 >bin.csv &&
	head -1 bin.csv >header &&
	echo "id,x1,x2,c1,y" >want &&
	test_cmp want header &&
	"$MLOPS" -q train --data bin.csv --target y --exclude id -o m.json
'

# ---- structure ----

test_expect_success 'a row with a field missing names its line' '
	awk -F, -v OFS=, "NR == 5 { NF = 4 } { print }" bin.csv >short.csv &&
	refused 5 expect.short "$MLOPS" train --data short.csv --target y \
		-o out.json --register m &&
	nothing_written
'

test_expect_success 'a NUL byte in the header names line and column' '
	{ printf "id,x\000a,x2,c1,y\n" && tail -n +2 bin.csv; } >nulh.csv &&
	refused 5 expect.nulh "$MLOPS" train --data nulh.csv --target y \
		-o out.json --register m &&
	nothing_written
'

test_expect_success 'a NUL byte in a field fails scoring with no output' '
	{ head -2 bin.csv && printf "9,0.5,0.5,a\000b,1\n" &&
	  tail -n +3 bin.csv; } >nulf.csv &&
	refused 5 expect.nulf "$MLOPS" score-batch m.json -i nulf.csv \
		-o out.csv --max-errors 10 &&
	nothing_written
'

test_expect_success 'invalid UTF-8 names line and column and suggests --encoding' '
	{ head -1 bin.csv && printf "0,0.5,0.5,\351t\351,1\n" &&
	  tail -n +2 bin.csv; } >latin.csv &&
	refused 5 expect.latin "$MLOPS" train --data latin.csv --target y \
		-o out.json --register m &&
	nothing_written
'

test_expect_success '--encoding latin1 converts: the artefact and --json are UTF-8' '
	"$MLOPS" -q train --data latin.csv --target y --exclude id \
		--encoding latin1 -o latin.json &&
	grep "été" latin.json >/dev/null &&
	iconv -f UTF-8 -t UTF-8 latin.json >/dev/null &&
	"$MLOPS" --json train --data latin.csv --target y --exclude id \
		--encoding latin1 -o latin2.json >train.json &&
	iconv -f UTF-8 -t UTF-8 train.json >/dev/null &&
	"$MLOPS" score-batch latin.json -i latin.csv -o - \
		--encoding latin1 --keep c1 >scored.csv 2>/dev/null &&
	sed -n 2p scored.csv | grep "^été," >/dev/null &&
	iconv -f UTF-8 -t UTF-8 scored.csv >/dev/null
'

test_expect_success 'an unnamed column holding data is refused unless excluded' '
	sed "1s/^id,/,/" bin.csv >idx.csv &&
	refused 5 expect.idx "$MLOPS" train --data idx.csv --target y \
		-o out.json --register m &&
	nothing_written &&
	"$MLOPS" -q train --data idx.csv --target y --exclude "" -o idx.json &&
	test -s idx.json
'

test_expect_success 'a wholly empty trailing column is ignored with one warning' '
	sed "s/\$/,/" bin.csv >tail.csv &&
	"$MLOPS" train --data tail.csv --target y --exclude id -o tail.json \
		>/dev/null 2>err &&
	test_cmp expect.tail err &&
	awk "NR == 7 { \$0 = \$0 \"oops\" } { print }" tail.csv >tailx.csv &&
	refused 5 expect.tailx "$MLOPS" train --data tailx.csv --target y \
		--exclude id -o out.json &&
	nothing_written
'

test_expect_success 'a name twice is refused where it matters, scoring included' '
	sed "1s/x2/x1/" bin.csv >dup.csv &&
	refused 5 expect.dup-train "$MLOPS" train --data dup.csv --target y \
		-o out.json --register m &&
	nothing_written &&
	refused 5 expect.dup-score "$MLOPS" score-batch m.json -i dup.csv \
		-o out.csv &&
	nothing_written &&
	"$MLOPS" -q train --data dup.csv --target y --exclude id,x1 -o dup.json &&
	sed "1s/\$/,id/; 2,\$s/\$/,0/" bin.csv >dupid.csv &&
	refused 5 expect.dup-keep "$MLOPS" score-batch m.json -i dupid.csv \
		-o out.csv --keep id &&
	nothing_written &&
	"$MLOPS" score-batch m.json -i dupid.csv -o ok.csv --keep x1 &&
	test -s ok.csv
'

test_expect_success 'control characters in a message are escaped: one line' '
	{ printf "id,\"x\n1\",x2,c1,y\n" && tail -n +2 bin.csv; } >nlh.csv &&
	refused 5 expect.nlh "$MLOPS" train --data nlh.csv --target y \
		--features x1 -o out.json &&
	nothing_written &&
	{ head -2 bin.csv && printf "9,\"3\n\001x\",0.5,a,1\n"; } >nlv.csv &&
	test_expect_code 5 "$MLOPS" score-batch m.json -i nlv.csv -o out.csv 2>err &&
	test_one_line err &&
	grep "3\\\\n\\\\x01x" err >/dev/null &&
	nothing_written
'

test_expect_success 'a warning quoting a name escapes it too: one line' '
	printf "\"a\342\200\250b\nc\",x,y\n" >nlw.csv &&
	awk "BEGIN { for (i = 0; i < 60; i++) print \"u\" i \",\" i % 7 \",\" i % 2 }" >>nlw.csv &&
	"$MLOPS" train --data nlw.csv --target y -o nlw.json >/dev/null 2>err &&
	test_one_line err &&
	grep "left out .a\\\\u2028b\\\\nc.: " err >/dev/null
'

# ---- compressed input ----

test_expect_success 'setup: gzip, xz, zstd and bzip2 streams' '
	gzip -c bin.csv >good.csv.gz &&
	size=$(wc -c <good.csv.gz) &&
	# Flip the first byte of the CRC-32, then of the length (ISIZE).
	for at in crc:8 len:4; do
		name=${at%:*} &&
		off=$((size - ${at#*:})) &&
		byte=$(od -An -tu1 -j "$off" -N1 good.csv.gz | tr -d " ") &&
		cp good.csv.gz "$name.csv.gz" &&
		printf "\\$(printf %o $((255 - byte)))" |
			dd of="$name.csv.gz" bs=1 seek="$off" conv=notrunc 2>/dev/null ||
		exit 1
	done &&
	head -c $((size - 20)) good.csv.gz >trunc.csv.gz &&
	"$MLOPS" score-batch m.json -i good.csv.gz -o good.out &&
	test -s good.out
'

test_expect_success 'a gzip CRC or length mismatch is bad input, nothing written' '
	refused 5 expect.crc "$MLOPS" score-batch m.json -i crc.csv.gz -o out.csv &&
	nothing_written &&
	refused 5 expect.len "$MLOPS" score-batch m.json -i len.csv.gz -o out.csv &&
	nothing_written
'

test_expect_success 'a truncated gzip stream is bad input, nothing registered' '
	refused 5 expect.trunc "$MLOPS" train --data trunc.csv.gz --target y \
		-o out.json --register m &&
	nothing_written
'

test_expect_success 'multi-member gzip reads whole; trailing zeros are ignored' '
	head -101 bin.csv | gzip -c >multi.csv.gz &&
	tail -n +102 bin.csv | gzip -c >>multi.csv.gz &&
	printf "\000\000\000\000" >>multi.csv.gz &&
	"$MLOPS" score-batch m.json -i multi.csv.gz -o multi.out &&
	test_cmp good.out multi.out
'

for z in xz zstd bzip2; do
	test_expect_success "a truncated or corrupt $z stream is bad input" '
		if ! command -v $z >/dev/null; then
			echo "# no $z" && exit 0
		fi &&
		$z -c bin.csv >z.csv.$z &&
		size=$(wc -c <z.csv.$z) &&
		head -c $((size - 9)) z.csv.$z >zcut.csv.$z &&
		test_expect_code 5 "$MLOPS" score-batch m.json -i zcut.csv.$z \
			-o out.csv 2>err &&
		test_one_line err &&
		test_grep "zcut.csv.$z.: corrupt or truncated compressed input" err &&
		nothing_written
	'
done

# ---- names and the delimiter ----

test_expect_success 'a missing column is exit 5 with the closest name, for every option' '
	refused 5 expect.target "$MLOPS" train --data bin.csv --target Y -o out.json &&
	refused 5 expect.exclude "$MLOPS" train --data bin.csv --target y --exclude idd -o out.json &&
	refused 5 expect.features "$MLOPS" train --data bin.csv --target y --features x1,x9 -o out.json &&
	refused 5 expect.categorical "$MLOPS" train --data bin.csv --target y --categorical C1 -o out.json &&
	refused 5 expect.numeric "$MLOPS" train --data bin.csv --target y --numeric zz -o out.json &&
	refused 5 expect.keep "$MLOPS" score-batch m.json -i bin.csv -o out.csv --keep ID &&
	cut -d, -f1-4 bin.csv >noy.csv &&
	refused 5 expect.vtarget "$MLOPS" validate m.json --data noy.csv &&
	nothing_written
'

test_expect_success 'a ;-separated file: the hint, then the same model with --delimiter' '
	tr , ";" <bin.csv >eu.csv &&
	refused 5 expect.eu "$MLOPS" train --data eu.csv --target y -o out.json &&
	refused 5 expect.eu-score "$MLOPS" score-batch m.json -i eu.csv -o out.csv &&
	nothing_written &&
	"$MLOPS" -q train --data eu.csv --target y --exclude id \
		--delimiter ";" -o eu.json &&
	for f in m.json eu.json; do
		sed -n "/\"coefficients\"/,/\]/p; /\"intercepts\"/p" "$f" >"$f.coef" ||
		exit 1
	done &&
	test -s m.json.coef &&
	test_cmp m.json.coef eu.json.coef &&
	"$MLOPS" score-batch eu.json -i eu.csv --delimiter ";" -o eu.out &&
	test_cmp good.out eu.out
'

cat >spec.json <<\EOF
{ "data": "eu.csv", "target": "y", "exclude": ["id"], "delimiter": ";" }
EOF

test_expect_success 'a training spec may name the delimiter' '
	"$MLOPS" -q train --config spec.json -o spec.json.out &&
	sed -n "/\"coefficients\"/,/\]/p; /\"intercepts\"/p" spec.json.out >spec.coef &&
	test_cmp m.json.coef spec.coef
'

test_expect_success 'tab and | too, for validate, drift and --reference' '
	tr , "\t" <bin.csv >ref.tsv &&
	tr , "|" <bin.csv >bar.csv &&
	"$MLOPS" score-batch m.json -i ref.tsv --delimiter tab -o tab.out &&
	test_cmp good.out tab.out &&
	"$MLOPS" validate m.json --data bar.csv --delimiter "|" >/dev/null &&
	"$MLOPS" drift m.json -i bar.csv --delimiter "|" --exit-zero >/dev/null &&
	refused 5 expect.tsv-drift "$MLOPS" drift m.json -i bin.csv --reference ref.tsv &&
	"$MLOPS" drift m.json -i ref.tsv --reference ref.tsv \
		--delimiter "\\t" --exit-zero >/dev/null
'

test_expect_success 'drift reads a reference with its own delimiter' '
	tr , ";" <bin.csv >eu.csv &&
	"$MLOPS" --json drift m.json -i bin.csv --reference bin.csv \
		--exit-zero >same.json &&
	"$MLOPS" --json drift m.json -i bin.csv --reference eu.csv \
		--reference-delimiter ";" --exit-zero >mixed.json &&
	sed "s/eu\\.csv/bin.csv/g" mixed.json >mixed2.json &&
	test_cmp same.json mixed2.json &&
	"$MLOPS" --json drift m.json -i eu.csv --reference bin.csv \
		--delimiter ";" --reference-delimiter , --exit-zero >mixed.json &&
	sed "s/eu\\.csv/bin.csv/g; s/\"input_sha256\":\"[0-9a-f]*\"//" \
		mixed.json >mixed2.json &&
	sed "s/\"input_sha256\":\"[0-9a-f]*\"//" same.json >same2.json &&
	test_cmp same2.json mixed2.json &&
	refused 5 expect.eu-drift "$MLOPS" drift m.json -i eu.csv \
		--reference bin.csv &&
	refused 5 expect.eu-refdrift "$MLOPS" drift m.json -i eu.csv \
		--reference bin.csv --reference-delimiter ";" &&
	refused 2 expect.refdelim "$MLOPS" drift m.json -i bin.csv \
		--reference-delimiter ";"
'

test_expect_success 'a bad --delimiter value is a usage error' '
	refused 2 expect.delim "$MLOPS" train --data bin.csv --target y --delimiter x &&
	test_expect_code 2 "$MLOPS" score-batch m.json -i bin.csv -o out.csv \
		--encoding ebcdic 2>err &&
	test_one_line err &&
	nothing_written
'

# ---- limits ----

test_expect_success 'setup: hostile files' '
	awk "BEGIN { for (i = 1; i <= 100000; i++) printf \"c%d,\", i; print \"y\";
		for (i = 1; i <= 100000; i++) printf \"1,\"; print \"0\" }" >wide.csv &&
	awk "BEGIN { print \"id,x1,x2,c1,y\"; print \"1,2,3,a,1\";
		s = \"x\"; for (i = 0; i < 21; i++) s = s s;
		print \"2,\" s \",3,a,0\" }" >long.csv &&
	awk "BEGIN { print \"c1,c2,c3,c4,c5,y\";
		for (i = 0; i < 1800; i++) {
			v = i % 900;
			print \"a\" v \",b\" v \",c\" v \",d\" v \",e\" v \",\" i % 2 } }" >levels.csv
'

test_expect_success 'more than 10 000 columns is refused on the header line' '
	refused 5 expect.wide "$MLOPS" train --data wide.csv --target y \
		-o out.json --register m &&
	refused 5 expect.wide-score "$MLOPS" score-batch m.json -i wide.csv -o out.csv &&
	nothing_written
'

test_expect_success 'a record longer than 1 MiB is refused' '
	refused 5 expect.long "$MLOPS" score-batch m.json -i long.csv -o out.csv &&
	nothing_written
'

test_expect_success 'a run of empty lines over 1 MiB is refused where it begins' '
	{
		echo id,x1,x2,c1,y &&
		echo 1,2,3,a,1 &&
		head -c 1100000 /dev/zero | tr "\\000" "\\n" &&
		echo 2,2,3,a,0
	} >blank2.csv &&
	refused 5 expect.blank "$MLOPS" train --data blank2.csv --target y \
		-o out.json --register m &&
	refused 5 expect.blank-score "$MLOPS" score-batch m.json \
		-i blank2.csv -o out.csv &&
	nothing_written
'

test_expect_success 'input decompressing 1000-fold is refused as a bomb' '
	{ echo x1,y && yes , | head -c 40000000; } | gzip -9 >commas.csv.gz &&
	refused 5 expect.ratio "$MLOPS" train --data commas.csv.gz --target y \
		-o out.json --register m &&
	awk "BEGIN { print \"x1,y\"; for (i = 0; i < 40; i++)
		print i % 7 \",\" i % 2 }" >xy.csv &&
	"$MLOPS" -q train --data xy.csv --target y -o xy.json &&
	refused 5 expect.ratio-drift "$MLOPS" drift xy.json -i commas.csv.gz &&
	nothing_written
'

test_expect_success 'more than 4096 model inputs is refused before fitting' '
	refused 5 expect.inputs "$MLOPS" train --data levels.csv --target y \
		--holdout 0 -o out.json --register m &&
	nothing_written
'

test_expect_success 'import reads no more than the bundle limit' '
	refused 1 expect.zero "$MLOPS" import /dev/zero &&
	head -c 400000000 /dev/zero | gzip -1 >bomb.tar.gz &&
	refused 1 expect.bomb "$MLOPS" import bomb.tar.gz &&
	nothing_written
'

# The read options meet the column types: a timestamp feature, a
# recorded --na-values token and a semicolon file, through every reader.
cat >expect.tsdelim <<\EOF
mlops score-batch: 'ts.csv': no column 'when' (a feature of the model); the header looks ';'-separated: try --delimiter ';'
EOF
cat >expect.tscase <<\EOF
mlops score-batch: 'tsw.csv': no column 'when' (a feature of the model); did you mean 'When'?
EOF
cat >expect.tsdrift <<\EOF
mlops drift: 'ts.csv': no column 'when' (a feature of the model); the header looks ';'-separated: try --reference-delimiter ';'
EOF
cat >expect.tstarget <<\EOF
mlops train: --exclude names the target 'y'
EOF

test_expect_success 'a timestamp model with --na-values reads a ;-separated file everywhere' '
	awk "BEGIN { print \"when;x;g;y\"; for (i = 0; i < 120; i++)
		printf \"2020-%02d-%02d;%s;%s;%d\n\", 1 + i % 12, 1 + i % 28,
			i % 17 ? (i * 37 % 100) / 100 : \"?\", i % 3 ? \"a\" : \"b\",
			(i * 37 % 100 + i % 5 * 9 > 55) }" >ts.csv &&
	"$MLOPS" -q train --data ts.csv --target y --delimiter ";" \
		--na-values "?" -o ts.json &&
	grep "\"part\"" ts.json >/dev/null &&
	"$MLOPS" score-batch ts.json -i ts.csv --delimiter ";" -o ts.out &&
	test "$(wc -l <ts.out)" -eq 121 &&
	"$MLOPS" validate ts.json --data ts.csv --delimiter ";" >/dev/null &&
	"$MLOPS" drift ts.json -i ts.csv --reference ts.csv --delimiter ";" \
		>/dev/null &&
	refused 5 expect.tsdelim "$MLOPS" score-batch ts.json -i ts.csv \
		-o ts2.out &&
	test ! -e ts2.out &&
	sed "1s/^when/When/" ts.csv >tsw.csv &&
	refused 5 expect.tscase "$MLOPS" score-batch ts.json -i tsw.csv \
		--delimiter ";" -o ts2.out &&
	refused 5 expect.tsdrift "$MLOPS" drift ts.json -i ts.csv \
		--reference ts.csv &&
	refused 2 expect.tstarget "$MLOPS" train --data ts.csv --target y \
		--delimiter ";" --exclude y -o ts2.json &&
	test ! -e ts2.json
'

# Each hostile case stays under 1 GiB and a minute (GNU time's -f).
test_expect_success 'hostile inputs stay within 1 GiB and a minute' '
	if ! /usr/bin/time -f %M true 2>/dev/null; then
		echo "# no GNU time" && exit 0
	fi &&
	head -c 20000000 /dev/zero | gzip -1 >zeros.csv.gz &&
	awk "BEGIN { for (i = 0; i < 200000; i++) print \"\" }" >blank.csv &&
	for c in \
		"train --data wide.csv --target y -o out.json" \
		"score-batch m.json -i wide.csv -o out.csv" \
		"score-batch m.json -i long.csv -o out.csv" \
		"train --data levels.csv --target y --holdout 0 -o out.json" \
		"score-batch m.json -i zeros.csv.gz -o out.csv" \
		"score-batch m.json -i /dev/zero -o out.csv" \
		"train --data blank.csv --target y -o out.json" \
		"train --data blank2.csv --target y -o out.json" \
		"score-batch m.json -i blank2.csv -o out.csv" \
		"train --data commas.csv.gz --target y -o out.json" \
		"score-batch m.json -i commas.csv.gz -o out.csv" \
		"score-batch m.json -i crc.csv.gz -o out.csv" \
		"import /dev/zero" \
		"import bomb.tar.gz"
	do
		/usr/bin/time -o usage -f "%M %e" "$MLOPS" $c 2>/dev/null || :
		tail -1 usage >last &&
		read -r kb s <last &&
		echo "# $kb KB $s s: $c" &&
		test "$kb" -lt 1048576 &&
		awk -v s="$s" "BEGIN { exit !(s < 60) }" || exit 1
	done &&
	nothing_written
'

test_done
