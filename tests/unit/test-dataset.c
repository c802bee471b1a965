/*
 * Whole-table loading: type inference, missing values, forced types,
 * the max_levels switch from interning to plain numbers, and the errors
 * with their file, line and column.
 */

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "sha256.h"
#include "xalloc.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test-dataset.XXXXXX";
static char *path;

static void write_file(const char *data)
{
	FILE *fp = fopen(path, "wb");

	if (!fp || fputs(data, fp) == EOF || fclose(fp)) {
		perror(path);
		exit(99);
	}
}

static struct dataset *load(const char *data, const struct dataset_opts *o,
			    struct mlops_err *err)
{
	struct dataset *ds = NULL;

	write_file(data);
	memset(err, 0, sizeof(*err));
	if (dataset_load(path, o, &ds, err))
		return NULL;
	return ds;
}

/* Expect an error: code and message after the quoted file name. */
static void load_fails(const char *name, const char *data,
		       const struct dataset_opts *o, int code,
		       const char *tail)
{
	struct mlops_err err;
	struct dataset *ds = load(data, o, &err);
	char *want = xasprintf("'%s'%s", path, tail);

	ok(!ds && err.code == code, "%s: fails with status %d", name, code);
	is_str(err.msg, want, "%s: message", name);
	free(want);
	dataset_free(ds);
}

static void test_inference(void)
{
	const char *data =
		"id,age,city,score,empty,mixed\n"
		"1,34,Paris,0.5,,1\n"
		"2,NA,Berlin,NaN,NA,b\n"
		"3,51,Paris,1e-3,,x\n"
		"4,29,,-2,null,b\n";
	struct mlops_err err;
	struct dataset *ds = load(data, NULL, &err);
	struct ds_column *c;
	char want_hex[65];

	if (!ok(ds != NULL, "load mixed table: %s", err.msg))
		return;
	is_int((long long)ds->n_rows, 4, "4 rows");
	is_int((long long)ds->n_cols, 6, "6 columns");
	sha256_hex(data, strlen(data), want_hex);
	is_str(ds->sha256, want_hex, "sha256 of the file");
	is_int((long long)ds->line[0], 2, "first row on line 2");
	is_int((long long)ds->line[3], 5, "last row on line 5");

	c = &ds->cols[dataset_find(ds, "age")];
	ok(c->type == DS_NUMERIC, "age numeric");
	ok(c->num[0] == 34 && isnan(c->num[1]) && c->num[3] == 29,
	   "age values, NA is NAN");
	is_int((long long)c->n_missing, 1, "age: one missing");

	c = &ds->cols[dataset_find(ds, "city")];
	ok(c->type == DS_CATEGORICAL, "city categorical");
	is_int((long long)c->n_levels, 2, "city: two levels");
	is_str(c->levels[0], "Paris", "levels in order of appearance");
	ok(c->code[0] == 0 && c->code[1] == 1 && c->code[2] == 0 &&
	   c->code[3] == -1, "city codes, empty is -1");
	is_int((long long)c->n_missing, 1, "city: one missing");

	c = &ds->cols[dataset_find(ds, "score")];
	ok(c->type == DS_NUMERIC && c->num[2] == 1e-3 && c->num[3] == -2 &&
	   isnan(c->num[1]), "score numeric, NaN missing");

	c = &ds->cols[dataset_find(ds, "empty")];
	ok(c->type == DS_NUMERIC && c->n_missing == 4,
	   "all-missing column is numeric, all missing");

	c = &ds->cols[dataset_find(ds, "mixed")];
	ok(c->type == DS_CATEGORICAL, "a number among text: categorical");
	ok(c->n_levels == 3 && !strcmp(c->levels[0], "1") &&
	   !strcmp(c->levels[2], "x") && c->code[3] == 1,
	   "mixed column keeps the numbers as levels");
	is_int(dataset_find(ds, "nope"), -1, "dataset_find unknown is -1");
	dataset_free(ds);
}

static void test_forced(void)
{
	static const char *cat[] = { "zip" };
	static const char *num[] = { "v" };
	struct dataset_opts o = { 0 };
	struct mlops_err err;
	struct dataset *ds;

	o.categorical = cat;
	o.n_categorical = 1;
	ds = load("zip,v\n75001,1\n10115,2\n75001,3\n", &o, &err);
	if (ok(ds != NULL, "forced categorical loads: %s", err.msg)) {
		ok(ds->cols[0].type == DS_CATEGORICAL &&
		   ds->cols[0].n_levels == 2 &&
		   !strcmp(ds->cols[0].levels[1], "10115"),
		   "numeric-looking column forced categorical");
		ok(ds->cols[1].type == DS_NUMERIC, "other column inferred");
	}
	dataset_free(ds);

	o.numeric = num;
	o.n_numeric = 1;
	load_fails("forced numeric holding text",
		   "zip,v\n1,2\n\n2,\"3\nx\"\n", &o, MLOPS_EINPUT,
		   " line 4, column 2 ('v'): '3\\nx' is not a number (read it "
		   "as missing with --na-values '3\\nx')");
	load_fails("forced numeric holding text, plain",
		   "zip,v\n1,2\n2,abc\n", &o, MLOPS_EINPUT,
		   " line 3, column 2 ('v'): 'abc' is not a number (read it "
		   "as missing with --na-values 'abc')");
	o.n_numeric = 0;

	o.categorical = num;
	o.numeric = num;
	o.n_numeric = 1;
	ds = load("zip,v\n1,2\n", &o, &err);
	ok(!ds && err.code == MLOPS_EUSAGE, "both forced: %s", err.msg);
	dataset_free(ds);
}

static void test_levels(void)
{
	struct dataset_opts o = { 0 };
	struct mlops_err err;
	struct dataset *ds;
	char *data = NULL;
	size_t cap = 0, n = 0;
	int i, good;

	o.max_levels = 5;
	/* 8 distinct numbers with repeats and NAs: passes max_levels while
	 * numeric, so the codes must turn back into the right values. */
	XGROW(data, cap, 4096);
	n += (size_t)sprintf(data, "x,y\n");
	for (i = 0; i < 40; i++)
		n += (size_t)sprintf(data + n, "%s,%d\n",
				     i % 5 == 4 ? "NA" : i % 3 ? "1.5" : "2",
				     i % 8);
	ds = load(data, &o, &err);
	good = ds != NULL;
	if (ok(good, "load past max_levels: %s", err.msg)) {
		ok(ds->cols[1].type == DS_NUMERIC && !ds->cols[1].n_levels,
		   "many numeric values: numeric, interning dropped");
		for (i = 0; i < 40; i++)
			good &= ds->cols[1].num[i] == i % 8;
		ok(good, "values preserved across the switch");
		good = 1;
		for (i = 0; i < 40; i++)
			good &= i % 5 == 4 ? isnan(ds->cols[0].num[i]) :
				ds->cols[0].num[i] == (i % 3 ? 1.5 : 2);
		ok(ds->cols[0].type == DS_NUMERIC && good &&
		   ds->cols[0].n_missing == 8, "few numeric values: numeric");
	}
	dataset_free(ds);

	n += (size_t)sprintf(data + n, "1,oops\n");
	load_fails("text after the column went numeric", data, &o,
		   MLOPS_EINPUT, " line 42, column 2 ('y'): 'oops' is not a "
		   "number in a column of numbers: read it as missing with "
		   "--na-values 'oops', or the column as text with "
		   "--categorical 'y'");
	load_fails("too many categories",
		   "c\na\nb\nc\nd\ne\nf\n", &o, MLOPS_EINPUT,
		   " line 7, column 1 ('c'): more than 5 distinct values in "
		   "a categorical column; leave it out with --exclude 'c'");
	o.max_levels = 0;
	free(data);
}

static void test_errors(void)
{
	static const char *only[] = { "b", "zz" };
	struct dataset_opts o = { 0 };

	load_fails("wrong field count", "a,b\n1,2\n1,2,3\n", NULL,
		   MLOPS_EINPUT, " line 3: expected 2 fields, found 3");
	load_fails("short row after multi-line field",
		   "a,b\n\"x\ny\",2\n1\n", NULL,
		   MLOPS_EINPUT, " line 4: expected 2 fields, found 1");
	load_fails("empty column name", "a,,c\n1,2,3\n", NULL, MLOPS_EINPUT,
		   " line 1, column 2: unnamed column (empty name in the "
		   "header); name it, or leave it out with --exclude ''");
	load_fails("duplicate column name", "a,b,a\n1,2,3\n", NULL,
		   MLOPS_EINPUT,
		   ": column 'a' occurs twice in the header (columns 1 and "
		   "3); rename one, or leave both out with --exclude 'a'");
	load_fails("unnamed last column holding data",
		   "a,b,\n1,2,\n3,4,x\n", NULL, MLOPS_EINPUT,
		   " line 3, column 3: the unnamed last column holds 'x'; "
		   "name it in the header, or leave it out with --exclude ''");
	load_fails("invalid UTF-8", "a,b\n1,2\n3,x\xff\n", NULL,
		   MLOPS_EINPUT, " line 3, column 2: invalid UTF-8 (byte "
		   "0xff); if the file is Latin-1 or Windows-1252, read it "
		   "with --encoding latin1");
	load_fails("no data rows", "a,b\n\n", NULL, MLOPS_EINPUT,
		   ": no data rows");
	load_fails("empty file", "", NULL, MLOPS_EINPUT,
		   ": empty file, no header");
	load_fails("blank lines only", "\n\n", NULL, MLOPS_EINPUT,
		   ": empty file, no header");
	load_fails("unterminated quote", "a\n\"x\n", NULL, MLOPS_EINPUT,
		   " line 2, column 1: unterminated quoted field");
	o.only = only;
	o.n_only = 2;
	load_fails("only: unknown column", "a,b\n1,2\n", &o, MLOPS_EINPUT,
		   ": no column 'zz' (--features)");
}

static void test_only_and_gzip(void)
{
	static const char *only[] = { "c", "a" };
	struct dataset_opts o = { 0 };
	struct mlops_err err;
	struct dataset *ds;
	char *cmd, *gz;

	o.only = only;
	o.n_only = 2;
	ds = load("a,b,c\n1,x,3\n4,y,6\n", &o, &err);
	if (ok(ds != NULL, "only: loads")) {
		is_int((long long)ds->n_cols, 2, "only: two columns");
		ok(dataset_find(ds, "b") < 0 && dataset_find(ds, "c") >= 0,
		   "only: skipped column absent");
		ok(ds->cols[dataset_find(ds, "c")].num[1] == 6,
		   "only: values of the kept column");
	}
	dataset_free(ds);

	write_file("k,v\n\"a\",1\nb,NA\n");
	gz = xasprintf("%s.gz", path);
	cmd = xasprintf("gzip -c '%s' > '%s'", path, gz);
	if (system(cmd) == 0 && !dataset_load(gz, NULL, &ds, &err)) {
		ok(ds->n_rows == 2 && ds->cols[0].type == DS_CATEGORICAL &&
		   ds->cols[1].n_missing == 1, "gzip input loads");
		dataset_free(ds);
	} else {
		ok(0, "gzip input loads: %s", err.msg);
	}
	unlink(gz);
	free(cmd);
	free(gz);
}

/* ---- parallel loading: chunk boundaries must not show ---- */

struct buf {
	char *s;
	size_t len, cap;
};

static void add(struct buf *b, const char *fmt, ...) MLOPS_PRINTF(2, 3);
static void add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	XGROW(b->s, b->cap, b->len + (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Load `data` cut into chunks of about `chunk_bytes`, on `threads`. */
static struct dataset *load_chunked(const char *data,
				    const struct dataset_opts *o,
				    size_t chunk_bytes, size_t threads,
				    struct mlops_err *err)
{
	struct dataset_opts co = { 0 };

	if (o)
		co = *o;
	co.chunk_bytes = chunk_bytes;
	co.threads = threads;
	return load(data, &co, err);
}

static int same_column(const struct ds_column *a, const struct ds_column *b,
		       size_t n_rows)
{
	size_t i;

	if (strcmp(a->name, b->name) || a->type != b->type ||
	    a->n_missing != b->n_missing || a->n_levels != b->n_levels ||
	    a->id_like != b->id_like || !a->code != !b->code ||
	    !a->num != !b->num)
		return 0;
	if (a->type == DS_CATEGORICAL && !a->code)
		return 1;	/* left out while loading: no cells */
	for (i = 0; i < a->n_levels; i++)
		if (strcmp(a->levels[i], b->levels[i]))
			return 0;
	for (i = 0; i < n_rows; i++) {
		if (a->type == DS_CATEGORICAL ? a->code[i] != b->code[i] :
		    isnan(a->num[i]) ? !isnan(b->num[i]) :
		    memcmp(&a->num[i], &b->num[i], sizeof(double)))
			return 0;
	}
	return 1;
}

static int same_dataset(const struct dataset *a, const struct dataset *b)
{
	size_t j;

	if (a->n_rows != b->n_rows || a->n_cols != b->n_cols ||
	    strcmp(a->sha256, b->sha256) ||
	    memcmp(a->line, b->line, a->n_rows * sizeof(*a->line)))
		return 0;
	for (j = 0; j < a->n_cols; j++)
		if (!same_column(&a->cols[j], &b->cols[j], a->n_rows))
			return 0;
	return 1;
}

/*
 * The same table, or the same error, whatever the chunk size (down to
 * one record per chunk) and thread count.
 */
static void same_any_chunking(const char *name, const char *data,
			      const struct dataset_opts *o)
{
	static const size_t chunk[] = { 1, 5, 40, 300 };
	static const size_t threads[] = { 1, 2, 3 };
	struct mlops_err err0, err;
	struct dataset *ref, *ds;
	size_t i, k;
	int good = 1;

	ref = load_chunked(data, o, 1 << 20, 1, &err0);
	for (i = 0; i < sizeof(chunk) / sizeof(*chunk); i++) {
		for (k = 0; k < sizeof(threads) / sizeof(*threads); k++) {
			ds = load_chunked(data, o, chunk[i], threads[k], &err);
			if (ref ? !ds || !same_dataset(ref, ds) :
			    ds || err.code != err0.code ||
			    strcmp(err.msg, err0.msg)) {
				good = 0;
				printf("# %s: chunk %zu, %zu threads: %s\n",
				       name, chunk[i], threads[k],
				       ds ? "different table" : err.msg);
			}
			dataset_free(ds);
		}
	}
	ok(good, "%s: same %s for any chunking", name,
	   ref ? "table" : "error");
	dataset_free(ref);
}

static void test_chunk_types(void)
{
	struct dataset_opts o = { 0 };
	struct mlops_err err;
	struct dataset *ds;
	struct buf b = { 0 };
	struct ds_column *c;
	int i, good;

	/* One record per chunk: levels first seen in different chunks. */
	ds = load_chunked("k,n\nb,1\na,2\nb,3\n,4\nc,5\na,6\n", NULL, 1, 2,
			  &err);
	if (ok(ds != NULL, "one record per chunk loads: %s", err.msg)) {
		c = &ds->cols[0];
		ok(c->type == DS_CATEGORICAL && c->n_levels == 3 &&
		   !strcmp(c->levels[0], "b") && !strcmp(c->levels[1], "a") &&
		   !strcmp(c->levels[2], "c"),
		   "levels in order of first appearance across chunks");
		ok(c->code[0] == 0 && c->code[1] == 1 && c->code[2] == 0 &&
		   c->code[3] == -1 && c->code[4] == 2 && c->code[5] == 1,
		   "codes agree across chunks");
		ok(ds->cols[1].type == DS_NUMERIC && ds->cols[1].num[5] == 6 &&
		   ds->line[5] == 7, "numbers and lines across chunks");
	}
	dataset_free(ds);

	/* Numbers for 150 rows, then the first text near the end. */
	add(&b, "id,v\n");
	for (i = 0; i < 150; i++)
		add(&b, "%d,%d\n", i, i % 7);
	add(&b, "150,seven\n151,3\n");
	/* Mostly numbers: refused by the type rule, naming the text. */
	ds = load_chunked(b.s, NULL, 64, 2, &err);
	ok(!ds && strstr(err.msg, "line 152, column 2 ('v'): 'seven' is not "
			 "a number"), "late text in numbers: %s", err.msg);
	dataset_free(ds);
	same_any_chunking("late text refused", b.s, NULL);
	/* As text by option, it loads. */
	{
		static const char *v[] = { "v" };

		o.categorical = v;
		o.n_categorical = 1;
	}
	ds = load_chunked(b.s, &o, 64, 2, &err);
	o.categorical = NULL;
	o.n_categorical = 0;
	if (ok(ds != NULL, "late text loads: %s", err.msg)) {
		c = &ds->cols[1];
		ok(c->type == DS_CATEGORICAL && c->n_levels == 8 &&
		   !strcmp(c->levels[0], "0") &&
		   !strcmp(c->levels[7], "seven"),
		   "forced categorical: levels across chunks");
		good = 1;
		for (i = 0; i < 150; i++)
			good &= c->code[i] == i % 7;
		ok(good && c->code[150] == 7 && c->code[151] == 3,
		   "codes of the early chunks kept");
		ok(ds->cols[0].type == DS_NUMERIC &&
		   ds->cols[0].num[151] == 151,
		   "many distinct numbers: numeric");
	}
	dataset_free(ds);

	/* A column passing max_levels in a later chunk. */
	o.max_levels = 5;
	b.len = 0;
	add(&b, "x,y\n");
	for (i = 0; i < 60; i++)
		add(&b, "%s,%d\n", i % 9 == 8 ? "NA" : "1", i < 30 ? i % 3 :
		    i);
	ds = load_chunked(b.s, &o, 50, 2, &err);
	if (ok(ds != NULL, "late switch to numbers loads: %s", err.msg)) {
		c = &ds->cols[1];
		good = c->type == DS_NUMERIC && !c->n_levels;
		for (i = 0; i < 60; i++)
			good &= c->num[i] == (i < 30 ? i % 3 : i);
		ok(good, "values kept across chunks and the switch");
		ok(ds->cols[0].n_missing == 6, "missing counted over chunks");
	}
	dataset_free(ds);
	same_any_chunking("late switch", b.s, &o);
	free(b.s);
}

static void test_chunk_errors(void)
{
	static const char *num[] = { "v" };
	static const char *cat[] = { "c" };
	struct dataset_opts o = { 0 };
	struct mlops_err err;
	struct dataset *ds;
	struct buf b = { 0 };
	char *tail;
	int i;

	/* Good chunks, then a bad one: its line, as the serial pass. */
	add(&b, "c,v\n");
	for (i = 0; i < 100; i++)
		add(&b, "%c,%d\n", 'a' + i % 3, i);
	add(&b, "a,1,2\n");
	for (i = 0; i < 20; i++)
		add(&b, "z,oops\n");
	ds = load_chunked(b.s, NULL, 30, 2, &err);
	tail = xasprintf("'%s' line 102: expected 2 fields, found 3", path);
	ok(!ds && err.code == MLOPS_EINPUT, "field count in a late chunk");
	is_str(err.msg, tail, "... names its line, not a later error");
	free(tail);
	dataset_free(ds);
	same_any_chunking("field count late", b.s, NULL);

	o.numeric = num;
	o.n_numeric = 1;
	b.len = 0;
	add(&b, "c,v\n");
	for (i = 0; i < 100; i++)
		add(&b, "%c,%d\n", 'a' + i % 3, i);
	add(&b, "a,x%d\n\n1,2,3\n", i);
	ds = load_chunked(b.s, &o, 30, 3, &err);
	tail = xasprintf("'%s' line 102, column 2 ('v'): 'x100' is not a "
			 "number (read it as missing with --na-values "
			 "'x100')", path);
	ok(!ds && err.code == MLOPS_EINPUT,
	   "forced numeric with text in a late chunk");
	is_str(err.msg, tail, "... names the cell");
	free(tail);
	dataset_free(ds);
	same_any_chunking("forced numeric late", b.s, &o);

	/* Text after the column went numeric, chunks later. */
	o.n_numeric = 0;
	o.max_levels = 4;
	b.len = 0;
	add(&b, "c,v\n");
	for (i = 0; i < 100; i++)
		add(&b, "%c,%d\n", 'a' + i % 3, i);
	add(&b, "a,5\nb,oops\n");
	ds = load_chunked(b.s, &o, 30, 2, &err);
	tail = xasprintf("'%s' line 103, column 2 ('v'): 'oops' is not a "
			 "number in a column of numbers: read it as missing "
			 "with --na-values 'oops', or the column as text with "
			 "--categorical 'v'", path);
	ok(!ds, "text after a switch in an earlier chunk");
	is_str(err.msg, tail, "... names the cell");
	free(tail);
	dataset_free(ds);
	same_any_chunking("text after switch", b.s, &o);

	/* The value that passes max_levels is text in a column of numbers:
	 * the type rule names it, even when one chunk holds all of it. */
	b.len = 0;
	add(&b, "c,v\n");
	for (i = 0; i < 20; i++)
		add(&b, "a,%d\n", i % 4);
	add(&b, "a,four\n");
	for (i = 0; i < 20; i++)
		add(&b, "a,%d\n", i);
	tail = xasprintf("'%s' line 22, column 2 ('v'): 'four' is not a "
			 "number in a column of numbers: read it as missing "
			 "with --na-values 'four', or the column as text with "
			 "--categorical 'v'", path);
	ds = load_chunked(b.s, &o, 1 << 20, 2, &err);
	is_str(ds ? "" : err.msg, tail, "text past max_levels in one chunk");
	dataset_free(ds);
	ds = load_chunked(b.s, &o, 60, 2, &err);
	is_str(ds ? "" : err.msg, tail, "text past max_levels, many chunks");
	free(tail);
	dataset_free(ds);
	same_any_chunking("text past max_levels", b.s, &o);

	/* Two bad cells in one row: the first column's error wins. */
	o.categorical = cat;
	o.n_categorical = 1;
	o.numeric = num;
	o.n_numeric = 1;
	b.len = 0;
	add(&b, "c,v\n");
	for (i = 0; i < 30; i++)
		add(&b, "%c,%d\n", 'a' + i % 4, i);
	add(&b, "e,x\n");
	tail = xasprintf("'%s' line 32, column 1 ('c'): more than 4 distinct "
			 "values in a categorical column; leave it out with "
			 "--exclude 'c'", path);
	ds = load_chunked(b.s, &o, 40, 2, &err);
	is_str(ds ? "" : err.msg, tail,
	       "too many levels before a bad number in the same row");
	free(tail);
	dataset_free(ds);
	same_any_chunking("two bad cells in a row", b.s, &o);

	/* A bad record before an unterminated quote at the end. */
	load_fails("bad record, then unterminated quote",
		   "a,b\n1,2\n3\n4,5\n\"x", NULL, MLOPS_EINPUT,
		   " line 3: expected 2 fields, found 1");
	same_any_chunking("unterminated quote at the end",
			  "a,b\n1,2\n3,4\n\"x,5\n", NULL);
	same_any_chunking("text after a closing quote",
			  "a,b\n1,2\n3,4\n5,\"6\"x\n7,8\n", NULL);
	free(b.s);
}

/* Every table of the tests above, cut every way. */
static void test_chunk_tables(void)
{
	struct dataset_opts o = { 0 };

	same_any_chunking("mixed table",
			  "id,age,city,score,empty,mixed\n"
			  "1,34,Paris,0.5,,1\n2,NA,Berlin,NaN,NA,b\n"
			  "\n3,51,Paris,1e-3,,x\n4,29,,-2,null,b\n", NULL);
	same_any_chunking("quoted fields and CRLF",
			  "k,v\r\n\"a,b\",1\r\n\"x\ny\",\"2\"\r\n\r\n"
			  "\"\"\"q\"\"\",3\r\nz,4", NULL);
	same_any_chunking("single column", "v\n1\n\n2\nx\n", NULL);
	o.max_levels = 2;
	same_any_chunking("categorical past max_levels",
			  "c\na\nb\na\nb\nNA\nc\n", &o);
	same_any_chunking("numeric past max_levels",
			  "c\n1\n2\n1\n2\nNA\n3\n4\n2\n", &o);
}

/*
 * Levels found through the short-key front (up to 16 keys of at most 7
 * bytes) and past it: codes in order of first appearance, keys that
 * differ only in length or in their last byte kept apart.
 */
static void test_many_levels(void)
{
	static const char *const keys[] = {
		"a", "b", "a ", "ab", "abcdefg", "abcdefh", "abcdefgh",
		"Adelie", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8",
		"x9", "y", "yy", "yyy", "a long level name",
	};
	size_t nk = sizeof(keys) / sizeof(keys[0]), n = 600, i, bad = 0;
	size_t first[32], seen = 0;
	long code_of[32];
	struct mlops_err err;
	struct dataset *ds;
	const struct ds_column *c;
	char *data = xstrdup("id,k\n"), *t;

	for (i = 0; i < nk; i++)
		code_of[i] = -1;
	for (i = 0; i < n; i++) {
		size_t k = (i * 7 + i / 5) % nk;

		if (code_of[k] < 0) {
			code_of[k] = (long)seen;
			first[seen++] = k;
		}
		t = xasprintf("%s%zu,%s\n", data, i, i % 50 == 3 ? "NA" : keys[k]);
		free(data);
		data = t;
	}
	ds = load(data, NULL, &err);
	free(data);
	if (!ok(ds != NULL, "load 21 levels: %s", err.msg))
		return;
	c = &ds->cols[dataset_find(ds, "k")];
	ok(c->type == DS_CATEGORICAL && c->n_levels == seen,
	   "21 levels, %zu of them seen", seen);
	for (i = 0; i < seen && i < c->n_levels; i++)
		bad += strcmp(c->levels[i], keys[first[i]]) != 0;
	for (i = 0; i < n; i++) {
		size_t k = (i * 7 + i / 5) % nk;
		long want = i % 50 == 3 ? -1 : code_of[k];

		bad += c->code[i] != want;
	}
	is_int((long long)bad, 0, "every row's code and every level as written");
	dataset_free(ds);
}

/* Types by rule: timestamps, --na-values, excluded columns, identifiers. */
static void test_type_rules(void)
{
	static const char *na[] = { "?", "-999" };
	static const char *excl[] = { "junk" };
	struct dataset_opts o = { 0 };
	struct mlops_err err;
	struct dataset *ds;
	struct buf b = { 0 };
	int i, good;

	ds = load("t,v\n2019-03-23,1\n2019-03-23 20:21:09,2\n"
		  "2019-03-23T20:21:09.5Z,3\n2019-03-23T21:21:09+01:00,4\n"
		  "NA,5\n", NULL, &err);
	if (ok(ds != NULL, "timestamps load: %s", err.msg)) {
		const double *t = ds->cols[0].num;

		ok(ds->cols[0].type == DS_TIMESTAMP, "ISO 8601 column: timestamps");
		ok(t[0] == 1553299200 && t[1] == 1553299200 + 73269 &&
		   t[2] == t[1] + 0.5 && t[3] == t[1] && isnan(t[4]),
		   "seconds since the epoch, offsets applied, NA missing");
	}
	dataset_free(ds);
	load_fails("a placeholder among timestamps",
		   "t\n2019-03-23\n?\n2019-03-24\n", NULL, MLOPS_EINPUT,
		   " line 3, column 1 ('t'): '?' is not a timestamp in a column "
		   "of timestamps: read it as missing with --na-values '?', or "
		   "the column as text with --categorical 't'");
	load_fails("an impossible date", "t\n2019-02-28\n2019-02-29\n"
		   "2019-03-01\n", NULL, MLOPS_EINPUT,
		   " line 3, column 1 ('t'): '2019-02-29' is not a timestamp in "
		   "a column of timestamps: read it as missing with --na-values "
		   "'2019-02-29', or the column as text with --categorical 't'");
	load_fails("a non-finite number", "x\n1\n-inf\n2\n", NULL,
		   MLOPS_EINPUT, " line 3, column 1 ('x'): '-inf' is not a "
		   "finite number (read it as missing with --na-values '-inf')");
	load_fails("a decimal comma", "x\n1.5\n\"1,5\"\n2\n", NULL,
		   MLOPS_EINPUT, " line 3, column 1 ('x'): '1,5' is not a number "
		   "in a column of numbers: read it as missing with --na-values "
		   "'1,5', or the column as text with --categorical 'x'");

	/* Many distinct timestamps: past max_levels, cut every way. */
	o.max_levels = 5;
	add(&b, "t,k\n");
	for (i = 0; i < 80; i++)
		add(&b, "2020-01-%02d %02d:00:00,%d\n", 1 + i % 28, i % 24, i);
	same_any_chunking("many timestamps", b.s, &o);
	ds = load_chunked(b.s, &o, 40, 2, &err);
	if (ok(ds != NULL, "many timestamps load: %s", err.msg)) {
		good = ds->cols[0].type == DS_TIMESTAMP;
		for (i = 0; i < 80; i++)
			good &= ds->cols[0].num[i] == 1577836800.0 +
				86400.0 * (i % 28) + 3600.0 * (i % 24);
		ok(good, "timestamps kept across the switch");
	}
	dataset_free(ds);
	add(&b, "2020-02-01,80\nsoon,81\n");
	ds = load_chunked(b.s, &o, 40, 2, &err);
	ok(!ds && strstr(err.msg, "line 83, column 1 ('t'): 'soon' is not a "
			 "timestamp"), "text after timestamps: %s", err.msg);
	dataset_free(ds);
	same_any_chunking("text after many timestamps", b.s, &o);
	o.max_levels = 0;

	/* Missing tokens, numeric ones too; an excluded column. */
	o.na_values = na;
	o.n_na_values = 2;
	o.exclude = excl;
	o.n_exclude = 1;
	b.len = 0;
	add(&b, "x,junk,y\n");
	for (i = 0; i < 50; i++)
		add(&b, "%s,\"%d,%d\",%d\n", i % 7 == 3 ? "?" : i % 7 == 5 ?
		    "-999" : "1.5", i, i, i % 2);
	ds = load_chunked(b.s, &o, 64, 2, &err);
	if (ok(ds != NULL, "--na-values and --exclude load: %s", err.msg)) {
		ok(ds->n_cols == 2 && dataset_find(ds, "junk") < 0,
		   "the excluded column is not loaded");
		good = ds->cols[0].type == DS_NUMERIC;
		for (i = 0; i < 50; i++)
			good &= i % 7 == 3 || i % 7 == 5 ?
				isnan(ds->cols[0].num[i]) :
				ds->cols[0].num[i] == 1.5;
		ok(good && ds->cols[0].n_missing == 14,
		   "'?' and '-999' read as missing");
	}
	dataset_free(ds);
	same_any_chunking("na values", b.s, &o);
	o.na_values = NULL;
	o.n_na_values = 0;
	o.exclude = NULL;
	o.n_exclude = 0;

	/* An identifier: a different text on every row. */
	b.len = 0;
	add(&b, "name,v\n");
	for (i = 0; i < 60; i++)
		add(&b, "n%d,%d\n", i, i % 3);
	ds = load(b.s, NULL, &err);
	ok(ds && ds->cols[0].id_like && !ds->cols[1].id_like,
	   "identifier column flagged");
	dataset_free(ds);
	free(b.s);
}

/*
 * A text column passing max_levels with a different value on nearly
 * every row is left out (id_like, no cells) by any chunking; one with
 * repeats, or named by an option, is refused as before; one that went
 * numeric and meets text fails at that cell even where a worker met the
 * text first.
 */
static void test_identifiers(void)
{
	struct dataset_opts o = { 0 };
	struct mlops_err err;
	struct dataset *ds;
	struct buf b = { 0 };
	const char *only[] = { "uid", "y" }, *cat[] = { "uid" };
	int i, good;

	o.max_levels = 60;
	add(&b, "uid,x,g,y\n");
	for (i = 0; i < 400; i++)
		add(&b, "u%d,%d.5,%c,%d\n", i * 7919 % 1000, i % 13,
		    'a' + i % 3, i % 2);
	ds = load(b.s, &o, &err);
	if (ok(ds != NULL, "an identifier over max_levels loads: %s",
	       err.msg)) {
		good = ds->n_cols == 4 && ds->cols[0].id_like &&
		       !ds->cols[0].code && !ds->cols[0].n_levels &&
		       ds->cols[1].type == DS_NUMERIC &&
		       ds->cols[2].n_levels == 3 && ds->n_rows == 400;
		for (i = 0; good && i < 400; i++)
			good = ds->cols[1].num[i] == i % 13 + 0.5 &&
			       ds->cols[2].code[i] == i % 3;
		ok(good, "it has no cells; the other columns are whole");
	}
	dataset_free(ds);
	same_any_chunking("identifier left out", b.s, &o);
	o.only = only;
	o.n_only = 2;
	load_fails("an identifier named by --features", b.s, &o, MLOPS_EINPUT,
		   " line 62, column 1 ('uid'): more than 60 distinct values "
		   "in a categorical column; leave it out with --exclude "
		   "'uid'");
	o.only = NULL;
	o.n_only = 0;
	o.categorical = cat;
	o.n_categorical = 1;
	load_fails("an identifier forced categorical", b.s, &o, MLOPS_EINPUT,
		   " line 62, column 1 ('uid'): more than 60 distinct values "
		   "in a categorical column; leave it out with --exclude "
		   "'uid'");
	o.categorical = NULL;
	o.n_categorical = 0;

	/* Text identifiers, then numbers: chunks that see only numbers
	 * switch to them, and their cells must not stop the load. */
	b.len = 0;
	add(&b, "uid,y\n");
	for (i = 0; i < 400; i++)
		add(&b, i < 100 ? "u%d,%d\n" : "%d,%d\n", i, i % 2);
	same_any_chunking("text identifiers, then numbers", b.s, &o);
	ds = load(b.s, &o, &err);
	ok(ds && ds->cols[0].id_like && !ds->cols[0].code,
	   "... left out: %s", err.msg);
	dataset_free(ds);

	/* Short records: chunks of 300 bytes hold more than 60 numbers
	 * and then some text, after the column was left out. */
	b.len = 0;
	add(&b, "uid\n");
	for (i = 0; i < 2000; i++)
		add(&b, i < 100 ? "u%d\n" : i % 80 == 79 ? "t%d\n" : "%d\n",
		    i);
	same_any_chunking("identifiers, numbers, some text", b.s, &o);

	/* Each value twice: half the rows repeat one, no identifier. */
	b.len = 0;
	add(&b, "k,y\n");
	for (i = 0; i < 400; i++)
		add(&b, "k%d,%d\n", i / 2, i % 2);
	load_fails("a column with repeats over max_levels", b.s, &o,
		   MLOPS_EINPUT, " line 122, column 1 ('k'): more than 60 "
		   "distinct values in a categorical column; leave it out "
		   "with --exclude 'k'");
	same_any_chunking("repeats over max_levels", b.s, &o);

	/* Numbers, then text: numeric with a bad value, named. */
	b.len = 0;
	add(&b, "n,y\n");
	for (i = 0; i < 400; i++)
		add(&b, i == 300 ? "oops,%d\n" : "%d,%d\n", i, i % 2);
	load_fails("numbers then text past max_levels", b.s, &o, MLOPS_EINPUT,
		   " line 302, column 1 ('n'): 'oops' is not a number in a "
		   "column of numbers: read it as missing with --na-values "
		   "'oops', or the column as text with --categorical 'n'");
	same_any_chunking("numbers then text past max_levels", b.s, &o);
	free(b.s);
}

int main(void)
{
	char *cmd;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	path = xasprintf("%s/data.csv", tmpdir);
	test_inference();
	test_forced();
	test_levels();
	test_many_levels();
	test_errors();
	test_only_and_gzip();
	test_chunk_types();
	test_chunk_errors();
	test_chunk_tables();
	test_type_rules();
	test_identifiers();
	(void)is_double;
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return 99;
	free(cmd);
	free(path);
	return done_testing();
}
