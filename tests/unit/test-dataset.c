/*
 * Whole-table loading: type inference, missing values, forced types,
 * the max_levels switch from interning to plain numbers, and the errors
 * with their file, line and column.
 */

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
		"2,NA,Berlin,NaN,NA,2\n"
		"3,51,Paris,1e-3,,x\n"
		"4,29,,-2,null,2\n";
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
	ok(c->type == DS_CATEGORICAL, "numbers then text: categorical");
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
		   " line 4, column 2 ('v'): '3\nx' is not a number");
	load_fails("forced numeric holding text, plain",
		   "zip,v\n1,2\n2,abc\n", &o, MLOPS_EINPUT,
		   " line 3, column 2 ('v'): 'abc' is not a number");
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
		   "number");
	load_fails("too many categories",
		   "c\na\nb\nc\nd\ne\nf\n", &o, MLOPS_EINPUT,
		   " line 7, column 1 ('c'): more than 5 distinct values in "
		   "a categorical column; exclude it (--exclude)");
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
		   " line 1, column 2: empty column name in header");
	load_fails("duplicate column name", "a,b,a\n1,2,3\n", NULL,
		   MLOPS_EINPUT,
		   " line 1: duplicate column name 'a' (columns 1 and 3)");
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
		   ": no column 'zz'");
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
	test_errors();
	test_only_and_gzip();
	(void)is_double;
	cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return 99;
	free(cmd);
	free(path);
	return done_testing();
}
