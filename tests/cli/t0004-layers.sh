#!/bin/sh
# shellcheck disable=SC1091,SC2016,SC2034 # git-style test bodies are eval'd
# The layer table of src/README holds: every #include arrow of src/ is
# in it, restricted system headers stay in their modules, only the cmd
# layer prints to stdout, only main.c exits, no command file holds a
# thread, and no function outgrows its limit (tests/cli/layers.pl).
# One test point per rule, naming file:line and the arrow on failure;
# then the checker is tried on copies of src/ with a rule broken on
# purpose, so that it cannot pass by finding nothing.
test_description='src/ keeps to its layer table'
. "$TEST_SRCDIR/cli/lib.sh"

LAYERS=$TEST_SRCDIR/cli/layers.pl
SRC=$TOP_SRCDIR/src

if test_have_prereq PERL; then
	perl "$LAYERS" --src "$SRC" --stats >report 2>&1
	rc=$?
	if test "$rc" -gt 1; then
		test_failure_ "layers.pl reads src/README" "$(cat report)"
	fi
	for rule in \
		"table:src/README lists every module of src/ and agrees with itself" \
		"include:every #include arrow of src/ is in src/README" \
		"system:restricted system headers stay in their modules" \
		"stdout:only the cmd layer (and the listed exceptions) writes to stdout" \
		"exit:only main.c ends the process" \
		"thread:no command file holds a thread, an atomic or a worker callback" \
		"size:no function over 200 lines, no cmd_* function over 100, but the listed ones"
	do
		tag=${rule%%:*}
		if grep "^\[$tag\] " report >problems; then
			test_failure_ "${rule#*:}" "$(sed "s/^\[$tag\] //" problems)"
		else
			test_ok_ "${rule#*:}"
		fi
	done
	grep "^note: " report | sed "s/^/# /"
else
	test_skip "src/ keeps to its layer table" "missing perl"
fi

# The checker must have seen the whole tree, not an empty folder.
test_expect_success PERL 'the check saw more than 40 modules and 200 includes' '
	stats=$(grep "^stats: " report) &&
	modules=$(echo "$stats" | sed "s/.* modules=\([0-9]*\).*/\1/") &&
	includes=$(echo "$stats" | sed "s/.* includes=\([0-9]*\).*/\1/") &&
	functions=$(echo "$stats" | sed "s/.* functions=\([0-9]*\).*/\1/") &&
	test "$modules" -gt 40 &&
	test "$includes" -gt 200 &&
	test "$functions" -gt 300
'

# copy_src DIR: a copy of src/ (sources and table) to break on purpose.
copy_src() {
	mkdir "$1" &&
	cp "$SRC"/*.c "$SRC"/*.h "$SRC/README" "$1/" &&
	# distcheck's source tree is read-only, and cp keeps the mode.
	chmod u+w "$1"/* &&
	perl "$LAYERS" --src "$1" >/dev/null
}

test_expect_success PERL 'an include arrow not in the table fails, naming file:line and arrow' '
	copy_src up &&
	sed "/#include \"xalloc.h\"/a #include \"cmd.h\"" up/xalloc.c >x &&
	mv x up/xalloc.c &&
	line=$(grep -n "#include \"cmd.h\"" up/xalloc.c | cut -d: -f1) &&
	test_expect_code 1 perl "$LAYERS" --src up >out &&
	test_grep "^\[include\] up/xalloc.c:$line: xalloc -> cmd (plumbing -> cmd, up): arrow not in up/README$" out
'

test_expect_success PERL 'a sideways arrow not in its row fails too' '
	copy_src side &&
	printf "#include \"train.h\"\n" >>side/predict.c &&
	test_expect_code 1 perl "$LAYERS" --src side >out &&
	test_grep "^\[include\] side/predict.c:[0-9]*: predict -> train (core -> core, sideways)" out
'

test_expect_success PERL 'a module without a row, and a row going up without !, fail' '
	copy_src rows &&
	printf "#include \"xalloc.h\"\nint zzrow_x(void);\n" >rows/zzrow.c &&
	sed "s/^  xalloc              plumbing  error$/  xalloc              plumbing  error cmd/" \
		rows/README >x &&
	mv x rows/README &&
	test_expect_code 1 perl "$LAYERS" --src rows >out &&
	test_grep "^\[table\] rows/zzrow.c: module .zzrow. has no row" out &&
	test_grep "^\[table\] rows/README:[0-9]*: xalloc -> cmd goes up (plumbing -> cmd)" out &&
	perl "$LAYERS" --src rows --suggest >rows.txt &&
	test_grep "^  zzrow  *? *xalloc$" rows.txt &&
	test_grep "^  drift  *core  .*score! .*xalloc$" rows.txt
'

test_expect_success PERL 'a restricted system header outside its modules fails' '
	copy_src sys &&
	printf "#include <sqlite3.h>\n" >>sys/model.c &&
	test_expect_code 1 perl "$LAYERS" --src sys >out &&
	test_grep "^\[system\] sys/model.c:[0-9]*: model includes <sqlite3.h>, which only registry may include" out
'

test_expect_success PERL 'stdout, exit() and threads outside their place fail; comments and strings do not' '
	copy_src rules &&
	cat >>rules/registry.c <<-\EOF &&
	/* printf("in a comment"); exit(1); */
	static const char *registry_doc_ = "puts(x); exit(2); fprintf(stdout, y)";
	void registry_bad_(void)
	{
		fprintf(stdout, "%s", registry_doc_);
		exit(3);
	}
	EOF
	cat >>rules/cmd-list.c <<-\EOF &&
	static int cmd_list_count_;
	static void cmd_list_bad_(void)
	{
		__atomic_add_fetch(&cmd_list_count_, 1, __ATOMIC_RELAXED);
		parallel_run(0, 0, 0, 0);
	}
	EOF
	test_expect_code 1 perl "$LAYERS" --src rules >out &&
	test_grep "^\[stdout\] rules/registry.c:[0-9]*: registry writes to stdout with fprintf()" out &&
	test_grep "^\[exit\] rules/registry.c:[0-9]*: registry calls exit()" out &&
	test_grep "^\[thread\] rules/cmd-list.c:[0-9]*: cmd-list uses __atomic_add_fetch" out &&
	test_grep "^\[thread\] rules/cmd-list.c:[0-9]*: cmd-list calls parallel_run()" out &&
	test "$(grep -c "^\[stdout\]" out)" = 1 &&
	test "$(grep -c "^\[exit\]" out)" = 1
'

test_expect_success PERL 'a function over its limit fails, and a listed one may not grow' '
	copy_src size &&
	{
		echo "int cmd_long_(void)" &&
		echo "{" &&
		i=0 &&
		while test $i -lt 120; do
			echo "	(void)0;" &&
			i=$((i + 1)) || return 1
		done &&
		echo "	return 0;" &&
		echo "}"
	} >>size/cmd-init.c &&
	sed "s/^\(  file  *function  *lines\)$/\1\n  cmd-train.c       cmd_train         10/" \
		size/README >x &&
	mv x size/README &&
	test_expect_code 1 perl "$LAYERS" --src size >out &&
	test_grep "^\[size\] size/cmd-init.c:[0-9]*: cmd_long_() is 124 lines, over 100 for a cmd_\* function" out &&
	test_grep "^\[size\] size/cmd-train.c:[0-9]*: cmd_train() is [0-9]* lines, more than the 10 it may keep" out
'

test_done
