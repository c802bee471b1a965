/*
 * CSV reader, number parsing and formatting, field writing, and atomic
 * file replacement (the writer side of score-batch's output).
 */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic.h"
#include "csv.h"
#include "sha256.h"
#include "xalloc.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test-csv.XXXXXX";

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (!fp || fwrite(data, 1, len, fp) != len || fclose(fp)) {
		perror(path);
		exit(99);
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, k;

	if (!fp)
		return NULL;
	do {
		XGROW(buf, cap, n + 65536);
		k = fread(buf + n, 1, cap - n, fp);
		n += k;
	} while (k);
	fclose(fp);
	*len = n;
	return buf;
}

/*
 * Read a whole CSV into "LINE:f1|f2\n..." form, or "ERR code: message".
 * The caller frees the result.
 */
static char *dump(const char *path)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct csv_reader *r;
	struct csv_record rec;
	char *out = NULL;
	size_t cap = 0, n = 0, i, need;
	int eof, ret;

	if ((ret = csv_open(path, &r, &err)))
		return xasprintf("ERR %d: %s", ret, err.msg);
	XGROW(out, cap, 1);
	out[0] = '\0';
	for (;;) {
		if ((ret = csv_next(r, &rec, &eof, &err))) {
			free(out);
			csv_close(r);
			return xasprintf("ERR %d: %s", ret, err.msg);
		}
		if (eof)
			break;
		need = n + 32;
		for (i = 0; i < rec.n_fields; i++)
			need += rec.lens[i] + 1;
		XGROW(out, cap, need);
		n += (size_t)sprintf(out + n, "%lu:", rec.line);
		for (i = 0; i < rec.n_fields; i++) {
			if (strlen(rec.fields[i]) != rec.lens[i])
				n += (size_t)sprintf(out + n, "<badlen>");
			memcpy(out + n, rec.fields[i], rec.lens[i]);
			n += rec.lens[i];
			out[n++] = i + 1 < rec.n_fields ? '|' : '\n';
		}
		out[n] = '\0';
	}
	csv_close(r);
	return out;
}

static void check_csv(const char *name, const char *data, const char *want)
{
	char *path = tmp_path("t.csv"), *got;

	write_file(path, data, strlen(data));
	got = dump(path);
	is_str(got, want, "%s", name);
	free(got);
	free(path);
}

static void test_reader(void)
{
	check_csv("simple", "a,b,c\n1,2,3\n", "1:a|b|c\n2:1|2|3\n");
	check_csv("no final newline", "a,b\n1,2", "1:a|b\n2:1|2\n");
	check_csv("empty fields", "a,b,c\n,,\n1,,\n",
		  "1:a|b|c\n2:||\n3:1||\n");
	check_csv("trailing comma at end of input", "a,b\n1,",
		  "1:a|b\n2:1|\n");
	check_csv("quotes, doubled quotes, embedded comma",
		  "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"\",\"\"\"\"\n",
		  "1:a|b\n2:x,y|say \"hi\"\n3:|\"\n");
	check_csv("embedded newline keeps physical line numbers",
		  "a,b\n\"line1\nline2\nline3\",x\n1,2\n\n3,4\n",
		  "1:a|b\n2:line1\nline2\nline3|x\n5:1|2\n7:3|4\n");
	check_csv("CRLF line endings", "a,b\r\n1,\"2\"\r\n\"x\r\ny\",3\r\n",
		  "1:a|b\n2:1|2\n3:x\r\ny|3\n");
	check_csv("UTF-8 BOM stripped", "\xEF\xBB\xBFid,v\n1,2\n",
		  "1:id|v\n2:1|2\n");
	check_csv("empty lines skipped, CRLF ones too",
		  "\n\na\n\r\n\n1\n\n", "3:a\n6:1\n");
	check_csv("quoted empty field is a record", "a\n\"\"\n", "1:a\n2:\n");
	check_csv("bare quote inside unquoted field is data",
		  "h,w\nBob,5'10\"\nx\"y\"z,1\n",
		  "1:h|w\n2:Bob|5'10\"\n3:x\"y\"z|1\n");
	check_csv("lone CR is data", "a\rb,c\n", "1:a\rb|c\n");
	check_csv("spaces kept", " a , b \n", "1: a | b \n");
}

/* check_csv() cannot know the temp dir at compile time: error cases. */
static void check_err(const char *name, const char *data, const char *tail)
{
	char *path = tmp_path("t.csv"), *got, *want;

	write_file(path, data, strlen(data));
	got = dump(path);
	want = xasprintf("ERR %d: '%s'%s", MLOPS_EINPUT, path, tail);
	is_str(got, want, "%s", name);
	free(got);
	free(want);
	free(path);
}

static void test_errors(void)
{
	char *path = tmp_path("nonexistent.csv"), *got, *want;

	check_err("unterminated quote names line and column",
		  "a,b\n1,2\n3,\"abc\ndef\n",
		  " line 3, column 2: unterminated quoted field");
	check_err("character after closing quote",
		  "a,b\n1,2\n\"x\"y,2\n",
		  " line 3, column 1: character after closing quote");
	check_err("character after closing quote on a later line",
		  "a,b\n\"x\ny\",\"z\" \n",
		  " line 3, column 2: character after closing quote");
	check_err("empty file", "", ": empty file, no header");

	got = dump(path);
	want = xasprintf("ERR %d: cannot open '%s': No such file or "
			 "directory", MLOPS_EIO, path);
	is_str(got, want, "missing file is MLOPS_EIO with strerror");
	free(got);
	free(want);
	free(path);
}

static void test_gzip(void)
{
	const char *data = "a,b\n1,\"x\ny\"\n2,3\n";
	char *plain = tmp_path("g.csv"), *gz = tmp_path("g.csv.gz");
	char *cmd, *got, *bytes, hex[65], want_hex[65];
	struct mlops_err err = MLOPS_ERR_INIT;
	struct csv_reader *r;
	struct csv_record rec;
	size_t len;
	int eof, n = 0;

	write_file(plain, data, strlen(data));
	cmd = xasprintf("gzip -c '%s' > '%s'", plain, gz);
	if (system(cmd) != 0) {
		ok(0, "gzip available");
		free(cmd);
		return;
	}
	free(cmd);
	got = dump(gz);
	is_str(got, "1:a|b\n2:1|x\ny\n4:2|3\n", "gzip input decompressed");
	free(got);

	bytes = slurp(gz, &len);
	sha256_hex(bytes, len, want_hex);
	if (!csv_open(gz, &r, &err)) {
		while (!csv_next(r, &rec, &eof, &err) && !eof)
			n++;
		csv_sha256_hex(r, hex);
		is_str(hex, want_hex, "sha256 is of the compressed bytes");
		is_int((long long)csv_raw_bytes(r), (long long)len,
		       "raw byte count is the compressed size");
		is_int(n, 3, "three records");
		csv_close(r);
	} else {
		ok(0, "open gzip: %s", err.msg);
	}
	free(bytes);

	cmd = xasprintf("gzip -c </dev/null > '%s'", gz);
	if (system(cmd) == 0) {
		char *want = xasprintf("ERR %d: '%s': empty file, no header",
				       MLOPS_EINPUT, gz);

		got = dump(gz);
		is_str(got, want, "empty gzip stream is an empty file");
		free(got);
		free(want);
	}
	free(cmd);
	free(plain);
	free(gz);
}

/* Records straddling the 1 MiB block boundary many times. */
static void test_big(void)
{
	char *path = tmp_path("big.csv"), *data = NULL, *bytes;
	char hex[65], want[65];
	struct mlops_err err = MLOPS_ERR_INIT;
	struct csv_reader *r;
	struct csv_record rec;
	size_t cap = 0, n = 0, len;
	unsigned long i, n_rec = 0, bad = 0, want_line = 2;
	int eof, ret;

	XGROW(data, cap, 64);
	n += (size_t)sprintf(data, "id,text,v\r\n");
	for (i = 0; i < 60000; i++) {
		XGROW(data, cap, n + 200);
		if (i % 7 == 0)
			n += (size_t)sprintf(data + n, "%lu,\"multi\nline "
					     "\"\"%lu\"\"\",%lu.5\r\n", i, i,
					     i);
		else
			n += (size_t)sprintf(data + n, "%lu,plain text %lu,"
					     "%lu.25\n", i, i, i);
	}
	write_file(path, data, n);
	sha256_hex(data, n, want);
	if ((ret = csv_open(path, &r, &err))) {
		ok(0, "open big: %s", err.msg);
		return;
	}
	csv_next(r, &rec, &eof, &err);
	for (i = 0;; i++) {
		char expect[64];
		double v;

		if ((ret = csv_next(r, &rec, &eof, &err)) || eof)
			break;
		n_rec++;
		if (i % 7 == 0)
			sprintf(expect, "multi\nline \"%lu\"", i);
		else
			sprintf(expect, "plain text %lu", i);
		if (rec.n_fields != 3 || rec.line != want_line ||
		    strcmp(rec.fields[1], expect) ||
		    csv_parse_double(rec.fields[2], rec.lens[2], &v) ||
		    v != (double)i + (i % 7 == 0 ? 0.5 : 0.25))
			bad++;
		want_line += i % 7 == 0 ? 2 : 1;
	}
	ok(!ret, "big file reads without error");
	is_int((long long)n_rec, 60000, "big file: all records");
	is_int((long long)bad, 0, "big file: fields and line numbers right");
	csv_sha256_hex(r, hex);
	is_str(hex, want, "big file: sha256 of the whole file");
	csv_close(r);
	bytes = slurp(path, &len);
	is_int((long long)len, (long long)n, "big file size");
	free(bytes);
	free(data);
	free(path);
}

static uint64_t bits(double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	return u;
}

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void random_number(char *s)
{
	int n_digits = 1 + (int)(rng() % 24), point = -1, i, k = 0;

	if (rng() % 8 == 0)
		s[k++] = ' ';
	if (rng() % 3 == 0)
		s[k++] = rng() % 2 ? '-' : '+';
	if (rng() % 2)
		point = (int)(rng() % (uint64_t)(n_digits + 1));
	for (i = 0; i < n_digits; i++) {
		if (i == point)
			s[k++] = '.';
		/* Runs of zeros and nines stress the rounding boundaries. */
		switch (rng() % 4) {
		case 0:
			s[k++] = '0';
			break;
		case 1:
			s[k++] = '9';
			break;
		default:
			s[k++] = (char)('0' + rng() % 10);
		}
	}
	if (point == n_digits)
		s[k++] = '.';
	if (rng() % 2)
		k += sprintf(s + k, "e%d", (int)(rng() % 700) - 350);
	else if (rng() % 4 == 0)
		k += sprintf(s + k, "E%+d", (int)(rng() % 44) - 22);
	if (rng() % 8 == 0)
		s[k++] = ' ';
	s[k] = '\0';
}

static void test_parse_double(void)
{
	static const struct {
		const char *s;
		double v;
	} good[] = {
		{ "0", 0 }, { "1", 1 }, { "-1", -1 }, { "+3", 3 },
		{ "1e5", 1e5 }, { ".5", 0.5 }, { "5.", 5 }, { "-0", -0.0 },
		{ "  2.5  ", 2.5 }, { "1E-3", 1e-3 }, { "0.1", 0.1 },
		{ "123456789012345678901234567890", 1.2345678901234568e29 },
		{ "9007199254740993", 9007199254740992.0 },
		{ "1.7976931348623157e308", 1.7976931348623157e308 },
		{ "4.9406564584124654e-324", 4.9406564584124654e-324 },
		{ "1e-400", 0 }, { "0e999999", 0 },
		{ "0.000000000000000000000000000001", 1e-30 },
	};
	static const char *bad[] = {
		"", " ", "inf", "-inf", "Infinity", "nan", "NaN", "0x10",
		"1e", "e5", ".", "-", "+", "1.2.3", "1e5x", "1,5", "1e400",
		"--1", "1 2", "abc", "1e+", ". 5", "\t",
	};
	char s[128], *end;
	size_t i;
	long n_bad = 0, n_rejected = 0;
	double v, want;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -12345;
		ok(!csv_parse_double(good[i].s, strlen(good[i].s), &v) &&
		   bits(v) == bits(good[i].v), "parse '%s'", good[i].s);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(csv_parse_double(bad[i], strlen(bad[i]), &v) == -1,
		   "reject '%s'", bad[i]);
	ok(!csv_parse_double("12,3", 2, &v) && v == 12,
	   "parse honours the length, not the NUL");

	for (i = 0; i < 200000; i++) {
		random_number(s);
		errno = 0;
		want = strtod(s, &end);
		while (*end == ' ')
			end++;
		if (*end || !isfinite(want)) {
			n_rejected++;
			if (!csv_parse_double(s, strlen(s), &v)) {
				n_bad++;
				printf("# accepted '%s'\n", s);
			}
			continue;
		}
		if (csv_parse_double(s, strlen(s), &v) ||
		    bits(v) != bits(want)) {
			if (n_bad++ < 10)
				printf("# '%s': got %.17g want %.17g\n", s, v,
				       want);
		}
	}
	is_int(n_bad, 0, "200000 random decimal strings match strtod bit "
	       "for bit (%ld overflow)", n_rejected);
}

static void test_missing(void)
{
	static const char *yes[] = { "", "NA", "NaN", "nan", "N/A", "null",
				     "  ", " NA " };
	static const char *no[] = { "0", "na", "NULL?", "x", "N", "-" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ok(csv_is_missing(yes[i], strlen(yes[i])), "missing '%s'",
		   yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ok(!csv_is_missing(no[i], strlen(no[i])), "not missing '%s'",
		   no[i]);
}

static void test_format_double(void)
{
	char buf[32];
	long i, n_bad = 0;
	double v, back;
	uint64_t u;

	csv_format_double(buf, 0.1);
	is_str(buf, "0.1", "0.1 formats shortest");
	csv_format_double(buf, 1.0 / 3);
	is_str(buf, "0.3333333333333333", "1/3 needs 16 digits");
	csv_format_double(buf, 0.1 + 0.2);
	is_str(buf, "0.30000000000000004", "0.1+0.2 needs 17 digits");
	csv_format_double(buf, -0.0);
	is_str(buf, "-0", "negative zero");
	is_int(csv_format_double(buf, NAN), 0, "NaN formats as empty");
	is_str(buf, "", "NaN is the empty string");
	csv_format_double(buf, 1e21);
	is_str(buf, "1e+21", "1e21");

	for (i = 0; i < 100000; i++) {
		u = rng();
		memcpy(&v, &u, sizeof(v));
		if (!isfinite(v))
			continue;
		csv_format_double(buf, v);
		if (csv_parse_double(buf, strlen(buf), &back) ||
		    bits(back) != bits(v)) {
			if (n_bad++ < 10)
				printf("# %s did not round-trip\n", buf);
		}
	}
	is_int(n_bad, 0, "100000 random doubles round-trip through text");
}

static void test_write_field(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain", "plain" }, { "", "" }, { "a,b", "\"a,b\"" },
		{ "say \"hi\"", "\"say \"\"hi\"\"\"" }, { "\"", "\"\"\"\"" },
		{ "two\nlines", "\"two\nlines\"" }, { "cr\r", "\"cr\r\"" },
		{ " lead", "\" lead\"" }, { "trail ", "\"trail \"" },
		{ "5'10", "5'10" },
	};
	char *buf;
	size_t len, i;
	FILE *fp;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fp = open_memstream(&buf, &len);
		csv_write_field(fp, cases[i].in, strlen(cases[i].in));
		fclose(fp);
		is_str(buf, cases[i].out, "write field '%s'", cases[i].in);
		free(buf);
	}
}

static void test_atomic(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct atomic_file af;
	char *path = tmp_path("out.csv"), *bytes, *cmd;
	size_t len;
	struct stat st;
	pid_t pid;
	mode_t mask;
	int status;

	write_file(path, "old\n", 4);
	ok(!atomic_open(&af, path, &err), "atomic_open");
	fputs("new contents\n", af.fp);
	bytes = slurp(path, &len);
	ok(len == 4 && !memcmp(bytes, "old\n", 4),
	   "target untouched before commit");
	free(bytes);
	ok(!atomic_commit(&af, &err), "atomic_commit");
	bytes = slurp(path, &len);
	ok(len == 13 && !memcmp(bytes, "new contents\n", 13),
	   "target replaced on commit");
	free(bytes);
	mask = umask(0);
	umask(mask);
	ok(!stat(path, &st) && (st.st_mode & 0777) == (0644 & ~mask),
	   "mode is 0644 less the umask");

	ok(!atomic_open(&af, path, &err), "atomic_open again");
	fputs("discarded\n", af.fp);
	atomic_abort(&af);
	bytes = slurp(path, &len);
	ok(len == 13, "abort keeps the old target");
	free(bytes);
	cmd = xasprintf("test -z \"$(ls -A '%s' | grep tmp)\"", tmpdir);
	ok(system(cmd) == 0, "no temporary files left behind");
	free(cmd);
	memset(&af, 0, sizeof(af));
	atomic_abort(&af);
	ok(1, "abort accepts a zeroed struct");

	ok(atomic_open(&af, "/nonexistent-dir/x.csv", &err) == MLOPS_EIO &&
	   strstr(err.msg, "/nonexistent-dir"), "open in a missing folder: %s",
	   err.msg);

	/* A write that fails for lack of room must surface at commit. */
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = { 4096, 4096 };
		char block[1000];
		int i, ret;

		signal(SIGXFSZ, SIG_IGN);
		setrlimit(RLIMIT_FSIZE, &rl);
		memset(block, 'x', sizeof(block));
		if (atomic_open(&af, path, &err))
			_exit(2);
		for (i = 0; i < 3000; i++)
			fwrite(block, 1, sizeof(block), af.fp);
		ret = atomic_commit(&af, &err);
		_exit(ret == MLOPS_EIO &&
		      strstr(err.msg, "File too large") &&
		      strstr(err.msg, "cannot write '") ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "write beyond the file size limit fails at commit");
	bytes = slurp(path, &len);
	ok(len == 13, "failed commit keeps the old target");
	free(bytes);
	cmd = xasprintf("test -z \"$(ls -A '%s' | grep tmp)\"", tmpdir);
	ok(system(cmd) == 0, "failed commit removes its temporary file");
	free(cmd);
	unlink(path);
	free(path);
}

int main(void)
{
	char *cmd;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	test_reader();
	test_errors();
	test_gzip();
	test_big();
	test_parse_double();
	test_missing();
	test_format_double();
	test_write_field();
	test_atomic();
	(void)is_double;
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return 99;
	free(cmd);
	return done_testing();
}
