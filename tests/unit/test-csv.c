/*
 * CSV reader, number parsing and formatting, field writing, and atomic
 * file replacement (the writer side of score-batch's output).
 */

#include <errno.h>
#include <stdarg.h>
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

	if ((ret = csv_open(path, NULL, &r, &err)))
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

	bytes = tap_slurp(gz, &len);
	sha256_hex(bytes, len, want_hex);
	if (!csv_open(gz, NULL, &r, &err)) {
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
	if ((ret = csv_open(path, NULL, &r, &err))) {
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
	bytes = tap_slurp(path, &len);
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

/* A growing string for dumps. */
struct buf {
	char *s;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	XGROW(b->s, b->cap, b->len + n + 1);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void buf_addf(struct buf *b, const char *fmt, ...)
	MLOPS_PRINTF(2, 3);

static void buf_addf(struct buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	buf_add(b, tmp, (size_t)n);
}

/* "LINE@OFFSET:f1|f2\n", NUL bytes shown as "\0", checking lens. */
static void dump_record(struct buf *b, const struct csv_record *rec,
			int with_line)
{
	size_t i, k;

	if (with_line)
		buf_addf(b, "%lu", rec->line);
	buf_addf(b, "@%llu:", (unsigned long long)rec->offset);
	for (i = 0; i < rec->n_fields; i++) {
		if (rec->fields[i][rec->lens[i]] != '\0')
			buf_add(b, "<unterminated>", 14);
		for (k = 0; k < rec->lens[i]; k++) {
			if (rec->fields[i][k])
				buf_add(b, rec->fields[i] + k, 1);
			else
				buf_add(b, "\\0", 2);
		}
		buf_add(b, i + 1 < rec->n_fields ? "|" : "\n", 1);
	}
}

/* Every record, header first, by csv_next(); errors end the dump. */
static void dump_next(struct csv_reader *r, struct buf *b, int with_line)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct csv_record rec;
	int eof, ret;

	while (!(ret = csv_next(r, &rec, &eof, &err)) && !eof)
		dump_record(b, &rec, with_line);
	if (ret)
		buf_addf(b, "ERR %d: %s\n", ret, err.msg);
}

/*
 * The numbers a chunk parser reads while splitting: each must be what
 * csv_parse_double() makes of the field, to the bit.
 */
static long n_num_read, n_num_wrong;

static void check_numbers(const struct csv_record *rec)
{
	size_t i;
	double v;

	if (!rec->num) {
		n_num_wrong++;
		return;
	}
	for (i = 0; i < rec->n_fields; i++) {
		if (rec->num[i] != rec->num[i])
			continue;
		n_num_read++;
		if (csv_parse_double(rec->fields[i], rec->lens[i], &v) ||
		    memcmp(&v, &rec->num[i], sizeof(v)))
			n_num_wrong++;
	}
}

/*
 * The header by csv_next(), then chunks of `target` bytes parsed by a
 * chunk parser.  Checks that chunks end at boundaries and number their
 * records right; counts the chunks in *n_chunks.
 */
static void dump_chunks(struct csv_reader *r, struct buf *b, size_t target,
			int with_line, long *n_chunks, long *n_bad)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct csv_chunk c = CSV_CHUNK_INIT;
	struct csv_chunk_parser p;
	struct csv_record rec;
	uint64_t n_rec = 0;
	int eof, ret;

	if ((ret = csv_next(r, &rec, &eof, &err))) {
		buf_addf(b, "ERR %d: %s\n", ret, err.msg);
		return;
	}
	if (eof)
		return;
	dump_record(b, &rec, with_line);
	csv_chunk_parser_init(&p, &c, csv_name(r));
	for (;;) {
		if ((ret = csv_read_chunk(r, &c, target, &eof, &err))) {
			buf_addf(b, "ERR %d: %s\n", ret, err.msg);
			break;
		}
		if (eof) {
			if (c.len)
				(*n_bad)++;
			break;
		}
		(*n_chunks)++;
		if (c.first_record != n_rec || c.data[c.len] != '\0')
			(*n_bad)++;
		csv_chunk_parser_reset(&p, &c, csv_name(r));
		while (!(ret = csv_chunk_next(&p, &rec, &eof, &err)) && !eof) {
			dump_record(b, &rec, with_line);
			check_numbers(&rec);
			n_rec++;
		}
		if (ret) {
			buf_addf(b, "ERR %d: %s\n", ret, err.msg);
			break;
		}
		if (n_rec == c.first_record)	/* no record in it */
			(*n_bad)++;
	}
	csv_chunk_parser_release(&p);
	csv_chunk_release(&c);
}

/*
 * A random CSV exercising every rule: quoted fields with commas, doubled
 * quotes, newlines, CRLF, empty lines, quotes inside unquoted fields,
 * lone CRs, NUL bytes, ragged rows, a BOM, no final newline.  `flat`:
 * no newlines in quotes, no ragged rows (what shards need).
 */
static void random_csv(struct buf *b, size_t size, int flat)
{
	static const char *texts[] = {
		"", "1", "-2.5", "abc", "5'10\"", "x\"y", "a\rb", "hello world",
		"0.30000000000000004", "NA", " sp ", "1e-7", "-0", "+.5",
		"5.", "12345678901234567890", "9007199254740993", "1.5 ",
		"-", ".", "0.1234567890123456789012",
	};
	static const char *quoted[] = {
		"\"\"", "\"a,b\"", "\"say \"\"hi\"\"\"", "\"\"\"\"",
		"\"x\r\"", "\"multi\nline\"", "\"cr\r\nlf\"", "\"\n\"",
		"\"a\"\"\n\"\"b\"", "\",\"",
	};
	size_t i, n_fields, n_quoted = sizeof(quoted) / sizeof(quoted[0]);

	b->len = 0;
	if (rng() % 4 == 0)
		buf_add(b, "\xEF\xBB\xBF", 3);
	buf_add(b, "id,a,b,c\n", 9);
	while (b->len < size) {
		switch (rng() % 16) {
		case 0:
			buf_add(b, "\n", 1);
			continue;
		case 1:
			buf_add(b, "\r\n", 2);
			continue;
		case 2:
			n_fields = flat ? 4 : 1 + rng() % 6;
			break;
		default:
			n_fields = 4;
		}
		for (i = 0; i < n_fields; i++) {
			const char *f;
			uint64_t k = rng() % 24;

			if (k < 10) {
				buf_addf(b, "%llu", (unsigned long long)rng() %
					 100000);
			} else if (k < 16) {
				f = texts[rng() % (sizeof(texts) /
						   sizeof(texts[0]))];
				buf_add(b, f, strlen(f));
			} else if (k == 16 && rng() % 8 == 0) {
				buf_add(b, "n\1l", 3);
			} else {
				do
					f = quoted[rng() % n_quoted];
				while (flat && strchr(f, '\n'));
				buf_add(b, f, strlen(f));
			}
			if (i + 1 < n_fields)
				buf_add(b, ",", 1);
		}
		if (rng() % 3)
			buf_add(b, "\n", 1);
		else
			buf_add(b, "\r\n", 2);
	}
	if (rng() % 2)	/* no final newline */
		b->len -= b->s[b->len - 2] == '\r' ? 2 : 1;
}

static void test_chunks(void)
{
	static const size_t targets[] = { 0, 1, 7, 100, 4096, 1 << 20 };
	char *path = tmp_path("chunk.csv"), hex[65], want_hex[65];
	struct mlops_err err = MLOPS_ERR_INIT;
	struct buf data = { 0 }, want = { 0 }, got = { 0 };
	struct csv_reader *r;
	long n_files = 0, n_diff = 0, n_bad = 0, n_chunks = 0, n_hash = 0;
	long n_err = 0;
	size_t t, size;
	int k;

	for (k = 0; k < 60; k++) {
		size = k < 50 ? 1 + rng() % 3000 : (3u << 20) + rng() % 4096;
		random_csv(&data, size, 0);
		write_file(path, data.s, data.len);
		sha256_hex(data.s, data.len, want_hex);
		want.len = 0;
		if (csv_open(path, NULL, &r, &err))
			BUG("open");
		dump_next(r, &want, 1);
		csv_close(r);
		if (strstr(want.s, "\nERR "))
			n_err++;
		for (t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
			if (k >= 50 && targets[t] < 4096)
				continue;
			n_files++;
			got.len = 0;
			if (csv_open(path, NULL, &r, &err))
				BUG("open");
			dump_chunks(r, &got, targets[t], 1, &n_chunks, &n_bad);
			csv_sha256_hex(r, hex);
			if (strcmp(hex, want_hex) ||
			    csv_raw_bytes(r) != data.len)
				n_hash++;
			csv_close(r);
			if (got.len != want.len ||
			    memcmp(got.s, want.s, got.len)) {
				if (n_diff++ < 3)
					printf("# target %zu:\n# want %s\n# "
					       "got  %s\n", targets[t], want.s,
					       got.s);
			}
		}
	}
	is_int(n_diff, 0, "chunks parse to csv_next's records, lines, "
	       "offsets (%ld files, %ld chunks)", n_files, n_chunks);
	is_int(n_bad, 0, "chunks number their records, hold one at least, "
	       "end with a NUL");
	is_int(n_hash, 0, "chunked reading hashes and counts every byte");
	is_int(n_err, 0, "the random files are well-formed");
	ok(n_num_read > 1000 && !n_num_wrong, "numbers read while splitting "
	   "are csv_parse_double's (%ld read, %ld wrong)", n_num_read,
	   n_num_wrong);
	free(data.s);
	free(want.s);
	free(got.s);
	free(path);
}

/*
 * Another delimiter: a random comma file with every comma turned into d
 * (its commas are delimiters or inside quoted fields, so the structure
 * stays) reads, by csv_next() and by chunks, to the comma file's records
 * with the same change in their fields.
 */
static void test_delimiters(void)
{
	static const char delims[] = { ';', '\t', '|' };
	static const size_t targets[] = { 0, 100, 4096 };
	char *path = tmp_path("delim.csv");
	struct mlops_err err = MLOPS_ERR_INIT;
	struct buf data = { 0 }, want = { 0 }, got = { 0 };
	struct csv_opts o = { ',', CSV_UTF8 };
	struct csv_reader *r;
	long n_files = 0, n_diff = 0, n_bad = 0, n_chunks = 0;
	size_t d, t, i;
	int k;

	for (d = 0; d < sizeof(delims); d++) {
		for (k = 0; k < 20; k++) {
			random_csv(&data, 1 + rng() % 3000, 0);
			write_file(path, data.s, data.len);
			want.len = 0;
			if (csv_open(path, NULL, &r, &err))
				BUG("open");
			dump_next(r, &want, 1);
			csv_close(r);
			for (i = 0; i < want.len; i++)
				if (want.s[i] == ',')
					want.s[i] = delims[d];
			for (i = 0; i < data.len; i++)
				if (data.s[i] == ',')
					data.s[i] = delims[d];
			write_file(path, data.s, data.len);
			o.delimiter = delims[d];
			for (t = 0; t <= sizeof(targets) / sizeof(targets[0]);
			     t++) {
				n_files++;
				got.len = 0;
				if (csv_open(path, &o, &r, &err))
					BUG("open");
				if (t == 0)
					dump_next(r, &got, 1);
				else
					dump_chunks(r, &got, targets[t - 1], 1,
						    &n_chunks, &n_bad);
				csv_close(r);
				if (got.len != want.len ||
				    memcmp(got.s, want.s, got.len))
					n_diff++;
			}
		}
	}
	is_int(n_diff + n_bad, 0, "';', tab and '|' read like commas, by "
	       "csv_next and chunks (%ld reads)", n_files);
	free(data.s);
	free(want.s);
	free(got.s);
	free(path);
}

/* What the reader refuses, and what --encoding latin1 makes of bytes. */
static void test_encoding(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "a\n\xf0\x9f\x98\x80\n", "1:a\n2:\xf0\x9f\x98\x80\n" },
		{ "a\n\xc0\xaf\n", "ERR 9: 'P' line 2, column 1: invalid "
		  "UTF-8 (byte 0xc0); if the file is Latin-1 or Windows-1252, "
		  "read it with --encoding latin1" },
		{ "a\n\xed\xa0\x80\n", "ERR 9: 'P' line 2, column 1: invalid "
		  "UTF-8 (byte 0xed); if the file is Latin-1 or Windows-1252, "
		  "read it with --encoding latin1" },
		{ "a,b\nx,\xf4\x90\x80\x80\n", "ERR 9: 'P' line 2, column 2: "
		  "invalid UTF-8 (byte 0xf4); if the file is Latin-1 or "
		  "Windows-1252, read it with --encoding latin1" },
		{ "a,b\n\"x\ny\",\"\xe2\x82\"\n", "ERR 9: 'P' line 3, column 2: "
		  "invalid UTF-8 (byte 0xe2); if the file is Latin-1 or "
		  "Windows-1252, read it with --encoding latin1" },
	};
	char *path = tmp_path("enc.csv"), *got, *want;
	struct csv_opts latin = { ',', CSV_LATIN1 };
	struct mlops_err err = MLOPS_ERR_INIT;
	struct csv_reader *r;
	struct csv_record rec;
	size_t i;
	int eof;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(path, cases[i].in, strlen(cases[i].in));
		got = dump(path);
		want = xasprintf("%s", cases[i].want);
		if (!strncmp(want, "ERR", 3)) {
			free(want);
			want = xasprintf("ERR 9: '%s'%s", path,
					 strchr(cases[i].want, '\'') + 3);
		}
		is_str(got, want, "utf-8 case %zu", i);
		free(got);
		free(want);
	}
	write_file(path, "\xe9,\x80\x81\x9f\xff\n", 7);
	if (csv_open(path, &latin, &r, &err) ||
	    csv_next(r, &rec, &eof, &err) || eof || rec.n_fields != 2) {
		ok(0, "latin1: %s", err.msg);
	} else {
		is_str(rec.fields[0], "\xc3\xa9", "latin1: 0xe9 is U+00E9");
		is_str(rec.fields[1], "\xe2\x82\xac\xc2\x81\xc5\xb8\xc3\xbf",
		       "latin1: 0x80 0x81 0x9f 0xff are U+20AC U+0081 U+0178 "
		       "U+00FF");
	}
	csv_close(r);
	free(path);
}

/* Read `path` by csv_next() and chunks; both dumps must be `want`. */
static void check_both(const char *name, const char *path, size_t target,
		       const char *want)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct buf got = { 0 };
	struct csv_reader *r;
	long n_chunks = 0, n_bad = 0;

	XGROW(got.s, got.cap, 1);
	if (csv_open(path, NULL, &r, &err))
		BUG("open");
	dump_next(r, &got, 1);
	csv_close(r);
	is_str(got.s, want, "%s: csv_next", name);
	got.len = 0;
	got.s[0] = '\0';
	if (csv_open(path, NULL, &r, &err))
		BUG("open");
	dump_chunks(r, &got, target, 1, &n_chunks, &n_bad);
	csv_close(r);
	is_str(got.s, want, "%s: chunks of %zu", name, target);
	free(got.s);
}

/* Which fields the chunk parser reads as numbers on the way. */
static void test_chunk_numbers(void)
{
	static const char text[] =
		"a,b,c,d,e,f,g,h\n"
		"1.5,-0,+.5,5.,abc,\"2\",1e3,12345678901234567890\n"
		"0.30000000000000004,9007199254740992,x,,.,-,1 ,2\r\n"
		"3";
	static const double want[][8] = {
		{ 1.5, -0.0, 0.5, 5, NAN, NAN, NAN, NAN },
		{ NAN, 9007199254740992.0, NAN, NAN, NAN, NAN, NAN, 2 },
		{ 3 },
	};
	char *path = tmp_path("num.csv");
	struct mlops_err err = MLOPS_ERR_INIT;
	struct csv_chunk c = CSV_CHUNK_INIT;
	struct csv_chunk_parser p;
	struct csv_reader *r;
	struct csv_record rec;
	int eof, bad = 0, n = 0;
	size_t i;

	write_file(path, text, sizeof(text) - 1);
	if (csv_open(path, NULL, &r, &err) || csv_next(r, &rec, &eof, &err) ||
	    csv_read_chunk(r, &c, 1 << 20, &eof, &err))
		BUG("read");
	ok(rec.num == NULL, "csv_next() lends no numbers");
	csv_chunk_parser_init(&p, &c, csv_name(r));
	while (!csv_chunk_next(&p, &rec, &eof, &err) && !eof && n < 3) {
		for (i = 0; i < rec.n_fields; i++) {
			double g = rec.num[i], w = want[n][i];

			/*
			 * 0.30000000000000004's mantissa is past 2^53, so
			 * csv_parse_double() reads it; a CRLF line's last
			 * field may go either way.
			 */
			if (n == 1 && i == 7 && g != g)
				continue;
			if (w != w ? g == g : memcmp(&g, &w, sizeof(g)))
				bad++;
		}
		n++;
	}
	is_int(n * 100 + bad, 300, "plain decimals are read while "
	       "splitting, other fields left to csv_parse_double");
	csv_chunk_parser_release(&p);
	csv_chunk_release(&c);
	csv_close(r);
	free(path);
}

static void test_chunk_errors(void)
{
	char *path = tmp_path("bad.csv"), *want;
	struct mlops_err err = MLOPS_ERR_INIT;
	struct csv_chunk c = CSV_CHUNK_INIT;
	struct csv_chunk_parser p;
	struct csv_reader *r;
	struct csv_record rec;
	struct buf big = { 0 };
	int eof, ret;
	size_t i;

	write_file(path, "a,b\n1,2\n3,\"abc\ndef\n", 20);
	want = xasprintf("1@0:a|b\n2@4:1|2\nERR %d: '%s' line 3, column 2: "
			 "unterminated quoted field\n", MLOPS_EINPUT, path);
	check_both("unterminated quote at the end", path, 0, want);
	check_both("unterminated quote at the end", path, 1 << 20, want);
	free(want);

	write_file(path, "a,b\n\"x\ny\",\"z\" \n", 16);
	want = xasprintf("1@0:a|b\nERR %d: '%s' line 3, column 2: character "
			 "after closing quote\n", MLOPS_EINPUT, path);
	check_both("character after closing quote", path, 1 << 20, want);
	free(want);

	/* The parser goes on after a bad record. */
	write_file(path, "a,b\n\"x\"y,\"p\nq\"\n3,4\n", 19);
	if (csv_open(path, NULL, &r, &err))
		BUG("open");
	csv_next(r, &rec, &eof, &err);
	ret = csv_read_chunk(r, &c, 1 << 20, &eof, &err);
	ok(!ret && !eof && c.len == 15, "chunk of a bad record and a good one");
	csv_chunk_parser_init(&p, &c, "bad.csv");
	ret = csv_chunk_next(&p, &rec, &eof, &err);
	is_str(err.msg, "'bad.csv' line 2, column 1: character after closing "
	       "quote", "parser reports the bad record");
	ret = csv_chunk_next(&p, &rec, &eof, &err);
	ok(!ret && !eof && rec.n_fields == 2 && !strcmp(rec.fields[0], "3") &&
	   rec.line == 4 && rec.offset == 15,
	   "parser goes on with the next record, on the right line");
	ret = csv_chunk_next(&p, &rec, &eof, &err);
	ok(!ret && eof, "then the chunk ends");
	csv_chunk_parser_release(&p);
	csv_close(r);

	/* Good records over several blocks, then an unterminated quote. */
	buf_add(&big, "h\n", 2);
	for (i = 0; i < 300000; i++)
		buf_addf(&big, "%zu\n", i);
	buf_add(&big, "\"open\n", 6);
	write_file(path, big.s, big.len);
	if (csv_open(path, NULL, &r, &err))
		BUG("open");
	csv_next(r, &rec, &eof, &err);
	i = 0;
	while (!(ret = csv_read_chunk(r, &c, 1 << 20, &eof, &err)) && !eof)
		i += c.len;
	want = xasprintf("'%s' line 300002, column 1: unterminated quoted "
			 "field", path);
	ok(ret == MLOPS_EINPUT && i == big.len - 8 && !strcmp(err.msg, want),
	   "records before an unterminated quote come first: %s", err.msg);
	free(want);
	ret = csv_read_chunk(r, &c, 1 << 20, &eof, &err);
	ok(!ret && eof && !c.len, "then eof");
	csv_close(r);
	csv_chunk_release(&c);
	csv_chunk_release(NULL);
	csv_chunk_parser_release(NULL);
	free(big.s);
	free(path);
}

/* The shards' records, concatenated, by csv_next() or chunks. */
static void dump_shards(const char *path, unsigned n, size_t target,
			const struct buf *data, struct buf *b, long *n_bad)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct buf one = { 0 };
	struct csv_reader *r;
	char hex[65], want_hex[65], *nl;
	long n_chunks = 0;
	uint64_t lo, hi;
	unsigned i;
	int ret;

	b->len = 0;
	for (i = 0; i < n; i++) {
		if ((ret = csv_open_shard(path, NULL, i, n, &r, &err))) {
			buf_addf(b, "ERR %d: %s\n", ret, err.msg);
			return;
		}
		one.len = 0;
		if (target)
			dump_chunks(r, &one, target - 1, 0, &n_chunks, n_bad);
		else
			dump_next(r, &one, 0);
		/* Every shard starts with the header; keep shard 0's. */
		nl = one.len ? memchr(one.s, '\n', one.len) : NULL;
		if (i == 0 || !nl)
			buf_add(b, one.s, one.len);
		else
			buf_add(b, nl + 1, one.len - (size_t)(nl + 1 - one.s));
		lo = data->len * (uint64_t)i / n;
		hi = data->len * (uint64_t)(i + 1) / n;
		sha256_hex(data->s + lo, hi - lo, want_hex);
		csv_sha256_hex(r, hex);
		if (strcmp(hex, want_hex) || csv_raw_bytes(r) != hi - lo)
			(*n_bad)++;
		csv_close(r);
	}
	free(one.s);
}

static void test_shards(void)
{
	static const unsigned counts[] = { 1, 2, 3, 5, 8, 64 };
	static const size_t targets[] = { 0, 1, 101, 1 << 20 };
	char *path = tmp_path("shard.csv"), *gz = tmp_path("shard.csv.gz");
	char *want, *cmd;
	struct mlops_err err = MLOPS_ERR_INIT;
	struct buf data = { 0 }, whole = { 0 }, got = { 0 };
	struct csv_reader *r;
	struct csv_chunk c = CSV_CHUNK_INIT;
	struct csv_record rec;
	long n_runs = 0, n_diff = 0, n_bad = 0;
	size_t t, u;
	int k, eof, ret;

	for (k = 0; k < 24; k++) {
		random_csv(&data, k < 20 ? 1 + rng() % 3000 : 3u << 20, 1);
		write_file(path, data.s, data.len);
		whole.len = 0;
		if (csv_open(path, NULL, &r, &err))
			BUG("open");
		dump_next(r, &whole, 0);
		csv_close(r);
		for (u = 0; u < sizeof(counts) / sizeof(counts[0]); u++) {
			for (t = 0; t < sizeof(targets) / sizeof(targets[0]);
			     t++) {
				if (k >= 20 && targets[t] && targets[t] < 100)
					continue;
				n_runs++;
				dump_shards(path, counts[u], targets[t], &data,
					    &got, &n_bad);
				if (got.len != whole.len ||
				    memcmp(got.s, whole.s, got.len)) {
					if (n_diff++ < 2)
						printf("# %u shards: want\n%s"
						       "# got\n%s", counts[u],
						       whole.s, got.s);
				}
			}
		}
	}
	is_int(n_diff, 0, "shards concatenate to the whole file, by csv_next "
	       "and by chunks (%ld runs)", n_runs);
	is_int(n_bad, 0, "each shard hashes and counts its byte range");

	/* Byte offsets in shard mode's messages; line 0. */
	write_file(path, "id,v\n1,2\n\"x\"y,3\n4,5\n", 20);
	ret = csv_open_shard(path, NULL, 0, 1, &r, &err);
	ret = ret ? ret : csv_next(r, &rec, &eof, &err);
	ok(!ret && rec.line == 1 && rec.offset == 0 && rec.n_fields == 2,
	   "shard: header first, with its line");
	ret = csv_next(r, &rec, &eof, &err);
	ok(!ret && rec.line == 0 && rec.offset == 5, "shard: records have "
	   "line 0 and their offset");
	ret = csv_next(r, &rec, &eof, &err);
	want = xasprintf("'%s' byte 9, column 1: character after closing "
			 "quote", path);
	ok(ret == MLOPS_EINPUT && !strcmp(err.msg, want),
	   "shard: csv_next says byte OFFSET: %s", err.msg);
	csv_close(r);
	got.len = 0;
	if (csv_open_shard(path, NULL, 0, 1, &r, &err))
		BUG("open");
	dump_chunks(r, &got, 1 << 20, 0, &n_runs, &n_bad);
	csv_close(r);
	free(want);
	want = xasprintf("@0:id|v\n@5:1|2\nERR %d: '%s' byte 9, column 1: "
			 "character after closing quote\n", MLOPS_EINPUT, path);
	is_str(got.s, want, "shard: the chunk parser says byte OFFSET too");
	free(want);

	/* A shard that starts inside a quoted field. */
	write_file(path, "id,text,v\n1,\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		   "xxxx\ntail\",3\n2,y,4\n", 68);
	want = xasprintf("'%s': shard 1/2 starts inside a quoted field "
			 "(records with embedded newlines cannot be sharded "
			 "by bytes)", path);
	ret = csv_open_shard(path, NULL, 1, 2, &r, &err);
	ret = ret ? ret : csv_next(r, &rec, &eof, &err);
	ret = ret ? ret : csv_next(r, &rec, &eof, &err);
	ok(ret == MLOPS_EINPUT && !strcmp(err.msg, want),
	   "shard inside a quoted field fails in csv_next: %s", err.msg);
	csv_close(r);
	ret = csv_open_shard(path, NULL, 1, 2, &r, &err);
	ret = ret ? ret : csv_next(r, &rec, &eof, &err);
	ret = ret ? ret : csv_read_chunk(r, &c, 1 << 20, &eof, &err);
	ok(ret == MLOPS_EINPUT && !strcmp(err.msg, want),
	   "shard inside a quoted field fails in csv_read_chunk");
	csv_close(r);
	csv_chunk_release(&c);
	free(want);

	ret = csv_open_shard("-", NULL, 0, 2, &r, &err);
	ok(ret == MLOPS_EUSAGE && !r && !strcmp(err.msg, "--shard needs a "
	   "plain file, not compressed input or stdin"), "shard of stdin: %s",
	   err.msg);
	ok(csv_open_shard(path, NULL, 2, 2, &r, &err) == MLOPS_EUSAGE,
	   "shard index out of range");
	cmd = xasprintf("gzip -c '%s' > '%s'", path, gz);
	if (system(cmd) == 0) {
		ret = csv_open_shard(gz, NULL, 0, 2, &r, &err);
		ok(ret == MLOPS_EUSAGE && strstr(err.msg, "compressed"),
		   "shard of gzip input: %s", err.msg);
	}
	free(cmd);
	free(data.s);
	free(whole.s);
	free(got.s);
	free(path);
	free(gz);
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

/* What csv_format_double() did before Schubfach: the reference. */
static int format_reference(char *buf, double v)
{
	int prec, n = 0;

	if (isnan(v)) {
		buf[0] = '\0';
		return 0;
	}
	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, 32, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return n;
}

/* Significant digits in a formatted number. */
static int sig_digits(const char *s)
{
	int n = 0, lead = 1;

	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (lead && *s == '0')
			continue;
		lead = 0;
		n++;
	}
	return n;
}

struct format_stats {
	long n, same, shorter, bad;
};

/*
 * Format v both ways: the result must read back to v bit for bit and be
 * the reference's string, or shorter than it and still exact.  Shorter
 * happens where %.15g is not the shortest: subnormals, and powers of two,
 * whose rounding interval is lopsided (MLOPS_TEST_SHOW_SHORTER=1 lists
 * them).
 */
static void format_check(struct format_stats *st, double v)
{
	char got[32], want[32];
	int len;
	double back;

	if (isnan(v))
		return;
	st->n++;
	len = csv_format_double(got, v);
	format_reference(want, v);
	back = strtod(got, NULL);
	if ((size_t)len != strlen(got) || bits(back) != bits(v) ||
	    sig_digits(got) > sig_digits(want)) {
		if (st->bad++ < 10)
			printf("# %a: got '%s' want '%s'\n", v, got, want);
		return;
	}
	if (!strcmp(got, want))
		st->same++;
	else if (sig_digits(got) < sig_digits(want)) {
		if (getenv("MLOPS_TEST_SHOW_SHORTER"))
			printf("# shorter %a: got '%s' want '%s'\n", v,
			       got, want);
		st->shorter++;
	}
	else if (st->bad++ < 10)
		printf("# %a: got '%s' want '%s'\n", v, got, want);
}

/*
 * csv_format_double() against the reference.  MLOPS_TEST_FORMAT_N sets
 * the random rounds (three doubles each; default 300000): 3400000 makes
 * the ten-million check.
 */
static void test_format_double(void)
{
	static const double edges[] = {
		0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 0.1 + 0.2, 1, -1, 10, 100,
		1e15, 1e16, 1e17, 1e21, 1e22, 1e23, 123456789012345678.0,
		9007199254740992.0, 9007199254740993.0, 9007199254740994.0,
		4.9406564584124654e-324, 9.8813129168249309e-324,
		2.2250738585072009e-308, 2.2250738585072014e-308,
		1.7976931348623157e308, 5e-324, 1e-323, 1e-320, 1e-310,
		1e-300, 1e-7, 1.0000000000000001e-07, 0.5, 0.25, 1e-5,
		0.0001, 0.001, 123.456, 1e300, 2.5, 3.5, 0.15, 0.35,
		299792458, 6.02214076e23, 1.602176634e-19, 2.718281828459045,
		3.141592653589793,
	};
	struct format_stats st = { 0 };
	const char *env = getenv("MLOPS_TEST_FORMAT_N");
	long i, n_random = env ? atol(env) : 300000;
	char buf[32];
	double v, p10;
	uint64_t u;
	int e, k;

	csv_format_double(buf, 0.1);
	is_str(buf, "0.1", "0.1 formats shortest");
	csv_format_double(buf, 1.0 / 3);
	is_str(buf, "0.3333333333333333", "1/3 needs 16 digits");
	csv_format_double(buf, 0.1 + 0.2);
	is_str(buf, "0.30000000000000004", "0.1+0.2 needs 17 digits");
	csv_format_double(buf, -0.0);
	is_str(buf, "-0", "negative zero");
	csv_format_double(buf, 0.0);
	is_str(buf, "0", "zero");
	is_int(csv_format_double(buf, NAN), 0, "NaN formats as empty");
	is_str(buf, "", "NaN is the empty string");
	csv_format_double(buf, 1e21);
	is_str(buf, "1e+21", "1e21");
	csv_format_double(buf, 1e-7);
	is_str(buf, "1e-07", "1e-7");
	csv_format_double(buf, 1e14);
	is_str(buf, "100000000000000", "1e14 in full, as %%.15g");
	csv_format_double(buf, 4.9406564584124654e-324);
	is_str(buf, "5e-324", "smallest subnormal");
	csv_format_double(buf, -1.7976931348623157e308);
	is_str(buf, "-1.7976931348623157e+308", "-DBL_MAX");
	csv_format_double(buf, 123.456);
	is_str(buf, "123.456", "123.456");
	csv_format_double(buf, INFINITY);
	is_str(buf, "inf", "infinity as before");

	/* Edges, each with its neighbours and its negative. */
	for (i = 0; i < (long)(sizeof(edges) / sizeof(edges[0])); i++)
		for (k = -2; k <= 2; k++) {
			u = bits(edges[i]) + (uint64_t)(int64_t)k;
			memcpy(&v, &u, sizeof(v));
			format_check(&st, v);
			format_check(&st, -v);
		}
	/* Every power of two and of ten, with neighbours. */
	for (e = -1074; e <= 1023; e++)
		for (k = -1; k <= 1; k++) {
			v = ldexp(1, e);
			u = bits(v) + (uint64_t)(int64_t)k;
			memcpy(&v, &u, sizeof(v));
			format_check(&st, v);
		}
	for (e = -323; e <= 308; e++) {
		snprintf(buf, sizeof(buf), "1e%d", e);
		p10 = strtod(buf, NULL);
		for (k = -1; k <= 1; k++) {
			u = bits(p10) + (uint64_t)(int64_t)k;
			memcpy(&v, &u, sizeof(v));
			format_check(&st, v);
		}
	}
	/* Subnormals, small integers. */
	for (u = 1; u < 5000; u++) {
		memcpy(&v, &u, sizeof(v));
		format_check(&st, v);
		format_check(&st, (double)u);
	}
	is_int(st.bad, 0, "%ld edge cases: exact, and %%.15/16/17g's string "
	       "or shorter (%ld shorter)", st.n, st.shorter);

	memset(&st, 0, sizeof(st));
	for (i = 0; i < n_random; i++) {
		u = rng();
		memcpy(&v, &u, sizeof(v));
		if (isfinite(v))
			format_check(&st, v);
		/* uniform in [0, 1), like probabilities */
		format_check(&st, (double)(rng() >> 11) * 0x1p-53);
		/* short decimals, like data */
		snprintf(buf, sizeof(buf), "%llue%d",
			 (unsigned long long)(rng() % 1000000),
			 (int)(rng() % 40) - 30);
		format_check(&st, strtod(buf, NULL));
	}
	is_int(st.bad, 0, "%ld random doubles (bit patterns, [0,1), short "
	       "decimals): exact, and the reference's string or shorter "
	       "(%ld shorter)", st.n, st.shorter);
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
		len = strlen(cases[i].in);
		buf = xmalloc(2 * len + 3);
		len = csv_put_field(buf, cases[i].in, len);
		buf[len] = '\0';
		is_str(buf, cases[i].out, "put field '%s'", cases[i].in);
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
	bytes = tap_slurp(path, &len);
	ok(len == 4 && !memcmp(bytes, "old\n", 4),
	   "target untouched before commit");
	free(bytes);
	ok(!atomic_commit(&af, &err), "atomic_commit");
	bytes = tap_slurp(path, &len);
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
	bytes = tap_slurp(path, &len);
	ok(len == 13, "abort keeps the old target");
	free(bytes);
	cmd = xasprintf("test -z \"$(ls -A '%s' | grep tmp)\"", tmpdir);
	ok(system(cmd) == 0, "no temporary files left behind");
	/* A zeroed or already released af: nothing to close or remove. */
	memset(&af, 0, sizeof(af));
	atomic_abort(&af);
	ok(!af.path && !af.tmp_path && !af.fp && !af.buf && !af.is_stdout,
	   "abort of a zeroed struct leaves it zeroed");
	ok(!atomic_open(&af, path, &err), "atomic_open a third time");
	atomic_abort(&af);
	atomic_abort(&af);
	bytes = tap_slurp(path, &len);
	ok(len == 13 && !memcmp(bytes, "new contents\n", 13) && !af.fp &&
	   !af.tmp_path, "abort twice: the target is untouched, af released");
	free(bytes);
	ok(system(cmd) == 0, "still no temporary files left behind");
	free(cmd);

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
	bytes = tap_slurp(path, &len);
	ok(len == 13, "failed commit keeps the old target");
	free(bytes);
	cmd = xasprintf("test -z \"$(ls -A '%s' | grep tmp)\"", tmpdir);
	ok(system(cmd) == 0, "failed commit removes its temporary file");
	free(cmd);
	unlink(path);
	free(path);
}

/* Messages (err_set, err_warn) stay one line whatever a name holds. */
static void test_escaping(void)
{
	struct mlops_err err;

	err_set(&err, MLOPS_EINPUT, "'%s'", "a\nb\x01\xe2\x80\xa8" "c");
	is_str(err.msg, "'a\\nb\\x01\\u2028c'",
	       "newline, control, U+2028 escaped");
	err_set(&err, MLOPS_EINPUT, "%s", "\xe2\x80\xa9\xc2\x85\xe2\x80\xae"
		"\xe2\x81\xa6\xc3\xa9\xe2\x82\xac");
	is_str(err.msg, "\\u2029\\u0085\\u202e\\u2066\xc3\xa9\xe2\x82\xac",
	       "U+2029, C1, bidi controls escaped; letters kept");
}

int main(void)
{
	char *cmd;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	test_reader();
	test_escaping();
	test_errors();
	test_gzip();
	test_big();
	test_chunks();
	test_chunk_numbers();
	test_chunk_errors();
	test_delimiters();
	test_encoding();
	test_shards();
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
