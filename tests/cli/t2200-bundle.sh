#!/bin/sh
# Bundles: export is deterministic, import carries the identical
# artefact, and hostile or damaged bundles are refused whole.

test_description='export and import bundles'
. "$TEST_SRCDIR/cli/lib.sh"

# count_state: versions registered and files in the artefact store.
count_state() {
	printf '%s %s\n' \
		"$("$MLOPS" --json list 2>/dev/null | grep -c '"version"')" \
		"$(find .mlops/artifacts -type f | wc -l)"
}

# The hostile bundles are built with python's tarfile (not in CI's
# dependencies: those tests SKIP without it).
test_lazy_prereq PYTHON3 '/usr/bin/python3 -c "import tarfile"'

# repack OUT [python statements]: rebuild the good bundle's two entries
# into OUT with python's tarfile, then run the statements with `t` (the
# open TarFile), `man` and `art` (bytes) and `add(name, bytes)` in scope.
repack() {
	out=$1
	shift
	/usr/bin/python3 - "$out" "$@" <<-\PY
	import io, sys, tarfile
	out = sys.argv[1]
	src = tarfile.open("good.tar.gz")
	man = src.extractfile("manifest.json").read()
	art = src.extractfile("artifact.json").read()
	t = tarfile.open(out, "w:gz", format=tarfile.USTAR_FORMAT)
	def add(name, data, **kw):
	    info = tarfile.TarInfo(name)
	    info.size = len(data)
	    for k, v in kw.items():
	        setattr(info, k, v)
	    t.addfile(info, io.BytesIO(data))
	for stmt in sys.argv[2:]:
	    exec(stmt)
	t.close()
	PY
}

# refused BUNDLE PATTERN: import exits 1 with one matching stderr line,
# and registers and stores nothing.
refused() {
	before=$(count_state) &&
	test_expect_code 1 "$MLOPS" import "$1" --as hostile 2>err &&
	test_one_line err &&
	test_grep "$2" err &&
	test "$(count_state)" = "$before" &&
	test_expect_code 1 "$MLOPS" list hostile 2>/dev/null
}

test_expect_success 'setup: a registry with a promoted version' '
	"$GEN" --rows 300 --seed 1 --task binary --numeric 3 >d.csv &&
	"$MLOPS" init >/dev/null &&
	"$MLOPS" train --data d.csv --target y --exclude id -o m.json >/dev/null &&
	"$MLOPS" register churn m.json --description "first" --tag team=growth >/dev/null &&
	"$MLOPS" promote churn:1 --to staging --reason "smoke" >/dev/null
'

test_expect_success 'export writes the artefact and a manifest' '
	"$MLOPS" export churn@staging -o good.tar.gz >out &&
	test_grep "^exported churn:1 to good.tar.gz" out &&
	tar tzvf good.tar.gz >list &&
	test $(wc -l <list) = 2 &&
	sed -n 1p list | grep "^-rw-r--r-- root/root .* 1970-01-01 00:00 artifact.json$" &&
	sed -n 2p list | grep "manifest.json$" &&
	tar xzOf good.tar.gz artifact.json >art &&
	cmp art m.json &&
	tar xzOf good.tar.gz manifest.json >man &&
	test_grep "\"schema\":	1" man &&
	test_grep "\"format\":	\"mlops-bundle\"" man &&
	test_grep "\"sha256\":	\"$(sha256sum m.json | cut -c1-64)\"" man &&
	test_grep "\"auc\":" man &&
	test_grep "\"data_sha256\":	\"$(sha256sum d.csv | cut -c1-64)\"" man &&
	test_grep "\"team\":	\"growth\"" man &&
	test_grep "\"reason\":	\"smoke\"" man
'

test_expect_success 'the same version exports to the same bytes' '
	sleep 1 &&
	"$MLOPS" export churn:1 -o again.tar.gz >/dev/null &&
	cmp good.tar.gz again.tar.gz &&
	"$MLOPS" export churn -o - >stdout.tar.gz &&
	cmp good.tar.gz stdout.tar.gz &&
	"$MLOPS" --json export churn -o j.tar.gz >out &&
	test_grep "\"schema\":1" out
'

test_expect_success 'import into another registry carries the identical artefact' '
	mkdir prod && (
		cd prod &&
		"$MLOPS" init >/dev/null &&
		"$MLOPS" import ../good.tar.gz >out &&
		test_grep "^imported churn:1 as churn:1" out &&
		"$MLOPS" --json show churn:1 >show &&
		test_grep "$(sha256sum ../m.json | cut -c1-64)" show &&
		"$MLOPS" --json list churn >list &&
		test_grep "\"description\":\"first\"" list &&
		test_grep "\"team\":\"growth\"" list &&
		test_grep "\"imported-from\":\"churn:1 sha256:" list &&
		"$MLOPS" import ../good.tar.gz >out &&
		test_grep "already holds this artefact" out &&
		"$MLOPS" import - --as churn-eu <../good.tar.gz >out &&
		test_grep "as churn-eu:1" out &&
		"$MLOPS" --json import ../good.tar.gz --as churn-eu >out &&
		test_grep "\"existed\":true" out &&
		"$MLOPS" verify >/dev/null
	)
'

test_expect_success PYTHON3 'a bundle with a .. path is refused' '
	repack dotdot.tar.gz "add(\"manifest.json\", man)" \
		"add(\"artifact.json\", art)" "add(\"../evil\", b\"x\")" &&
	refused dotdot.tar.gz "entry '\''../evil'\'' has a '\''..'\'' component" &&
	! test -e ../evil
'

test_expect_success PYTHON3 'a bundle with an absolute path is refused' '
	repack abs.tar.gz "add(\"manifest.json\", man)" \
		"add(\"artifact.json\", art)" "add(\"$PWD/evil\", b\"x\")" &&
	refused abs.tar.gz "has an absolute path" &&
	! test -e evil
'

test_expect_success PYTHON3 'a bundle with a symbolic link is refused' '
	repack sym.tar.gz "add(\"manifest.json\", man)" \
		"add(\"artifact.json\", b\"\", type=tarfile.SYMTYPE, linkname=\"/etc/passwd\")" &&
	refused sym.tar.gz "entry '\''artifact.json'\'' is a symbolic link"
'

test_expect_success PYTHON3 'a bundle with a hard link is refused' '
	repack hard.tar.gz "add(\"manifest.json\", man)" \
		"add(\"artifact.json\", b\"\", type=tarfile.LNKTYPE, linkname=\"manifest.json\")" &&
	refused hard.tar.gz "entry '\''artifact.json'\'' is a hard link"
'

test_expect_success 'a bundle made with tar and ln -s is refused' '
	mkdir evil && cp art evil/artifact.json && cp man evil/manifest.json &&
	ln -s /etc/passwd evil/extra &&
	tar czf tarsym.tar.gz -C evil artifact.json manifest.json extra &&
	refused tarsym.tar.gz "symbolic link"
'

test_expect_success PYTHON3 'a bundle with an unexpected or repeated entry is refused' '
	repack extra.tar.gz "add(\"manifest.json\", man)" \
		"add(\"artifact.json\", art)" "add(\"run.sh\", b\"rm -rf /\")" &&
	refused extra.tar.gz "unexpected entry '\''run.sh'\''" &&
	repack twice.tar.gz "add(\"manifest.json\", man)" \
		"add(\"artifact.json\", art)" "add(\"artifact.json\", art)" &&
	refused twice.tar.gz "appears twice" &&
	repack noart.tar.gz "add(\"manifest.json\", man)" &&
	refused noart.tar.gz "has no artifact.json"
'

test_expect_success 'a truncated bundle is refused' '
	size=$(wc -c <good.tar.gz) &&
	for cut in 20 $((size / 2)) $((size - 30)) $((size - 4)) $((size - 1)); do
		head -c $cut good.tar.gz >cut.tar.gz &&
		refused cut.tar.gz "truncated or corrupt" || return 1
	done
'

test_expect_success PYTHON3 'a bundle whose artefact does not match its hash is refused' '
	repack tampered.tar.gz "add(\"manifest.json\", man)" \
		"add(\"artifact.json\", art.replace(b\"\\\"l2\\\"\", b\"\\\"l2\\\" \"))" &&
	refused tampered.tar.gz "artifact.json hashes to sha256:.*but the manifest says" &&
	repack badman.tar.gz "add(\"manifest.json\", man.replace(b\"mlops-bundle\", b\"other\"))" \
		"add(\"artifact.json\", art)" &&
	refused badman.tar.gz "bad manifest" &&
	refused m.json "not a bundle"
'

test_expect_success PYTHON3 'a bundle that passes every check still imports' '
	repack fine.tar.gz "add(\"manifest.json\", man)" "add(\"artifact.json\", art)" &&
	"$MLOPS" import fine.tar.gz --as copy >out &&
	test_grep "as copy:1" out
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 "$MLOPS" export churn 2>err &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" import 2>err &&
	test_one_line err &&
	test_expect_code 2 "$MLOPS" import good.tar.gz --as "bad name" 2>err &&
	test_one_line err &&
	test_expect_code 1 "$MLOPS" export nope -o x.tar.gz 2>err &&
	test_one_line err &&
	! test -e x.tar.gz
'

test_done
