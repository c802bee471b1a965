/*
 * Load a whole CSV table by column, inferring each column's type.
 *
 * One pass over the file, so stdin and compressed input work.  A column
 * starts out "interning": each distinct string gets a level, each cell
 * stores its level code (as a double, in the array that will hold the
 * numbers) and each level remembers whether it parses as a number.  Most
 * numeric columns have many distinct values; once a column passes
 * max_levels distinct values while every level is a number, it turns
 * into a plain numeric column (codes replaced by values, the interning
 * dropped), so memory stays at one double per cell.  At the end an
 * interning column whose levels are all numbers becomes numeric, any
 * other categorical with the codes it already has.  A column forced
 * numeric never interns; one forced categorical never gives up its
 * interning.
 *
 * Consequences, deliberately: a column that went numeric and later meets
 * text is an error naming the cell, not a late switch to categorical
 * (which would need the strings we dropped); a categorical column with
 * more than max_levels values is an error rather than a silent blow-up
 * of the model's width.  Missing values (csv_is_missing()) are NAN or
 * code -1 and never count as levels.  Not done here: imputation,
 * encoding, feature selection beyond `only`.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "dataset.h"
#include "strmap.h"
#include "xalloc.h"

#define DEFAULT_MAX_LEVELS 1000
/* Longest cell value quoted in an error message. */
#define MSG_VALUE_MAX 60

enum force { FORCE_NONE, FORCE_NUMERIC, FORCE_CATEGORICAL };

struct load_col {
	size_t src;		/* field index in the file */
	enum force force;
	int interning;		/* else plain numeric */
	double *val;		/* per row: code (-1 missing) or number */
	struct strmap *map;	/* level string -> code */
	char **levels;
	double *level_val;	/* each level's number (if all_numeric) */
	size_t n_levels, levels_cap;
	int all_numeric;	/* every level so far parses as a number */
	size_t n_missing;
};

struct loader {
	struct csv_reader *csv;
	const char *name;	/* for messages */
	char **header;
	size_t n_header;
	struct load_col *cols;
	size_t n_cols;
	size_t max_levels;
	size_t n_rows, cap_rows;
	unsigned long *line;
};

static int in_list(const char *const *list, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return 1;
	return 0;
}

static int is_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

static int read_header(struct loader *ld, struct mlops_err *err)
{
	struct csv_record rec;
	struct strmap *seen;
	size_t i;
	long j;
	int eof, ret;

	if ((ret = csv_next(ld->csv, &rec, &eof, err)))
		return ret;
	if (eof)
		return err_set(err, MLOPS_EINPUT, "'%s': empty file, no header",
			       ld->name);
	ld->n_header = rec.n_fields;
	ld->header = xcalloc(rec.n_fields, sizeof(*ld->header));
	for (i = 0; i < rec.n_fields; i++)
		ld->header[i] = xstrndup(rec.fields[i], rec.lens[i]);
	seen = strmap_new();
	for (i = 0; i < rec.n_fields && !ret; i++) {
		if (is_blank(rec.fields[i], rec.lens[i])) {
			ret = err_set(err, MLOPS_EINPUT,
				      "'%s' line %lu, column %zu: empty column "
				      "name in header", ld->name, rec.line,
				      i + 1);
		} else if ((j = strmap_get(seen, rec.fields[i],
					   rec.lens[i])) >= 0) {
			ret = err_set(err, MLOPS_EINPUT,
				      "'%s' line %lu: duplicate column name "
				      "'%s' (columns %ld and %zu)", ld->name,
				      rec.line, ld->header[i], j + 1, i + 1);
		} else {
			strmap_put(seen, rec.fields[i], rec.lens[i], (long)i);
		}
	}
	strmap_free(seen);
	return ret;
}

static int find_header(const struct loader *ld, const char *name)
{
	size_t i;

	for (i = 0; i < ld->n_header; i++)
		if (!strcmp(ld->header[i], name))
			return (int)i;
	return -1;
}

static int check_names(const struct loader *ld, const char *const *names,
		       size_t n, struct mlops_err *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (find_header(ld, names[i]) < 0)
			return err_set(err, MLOPS_EINPUT,
				       "'%s': no column '%s'", ld->name,
				       names[i]);
	return MLOPS_OK;
}

/* Decide which file columns to load and how. */
static int plan_columns(struct loader *ld, const struct dataset_opts *opts,
			struct mlops_err *err)
{
	static const struct dataset_opts none;
	struct load_col *c;
	size_t i;
	int ret;

	if (!opts)
		opts = &none;
	ld->max_levels = opts->max_levels ? opts->max_levels :
			 DEFAULT_MAX_LEVELS;
	if ((ret = check_names(ld, opts->only, opts->only ? opts->n_only : 0,
			       err)) ||
	    (ret = check_names(ld, opts->categorical, opts->n_categorical,
			       err)) ||
	    (ret = check_names(ld, opts->numeric, opts->n_numeric, err)))
		return ret;
	ld->cols = xcalloc(ld->n_header, sizeof(*ld->cols));
	for (i = 0; i < ld->n_header; i++) {
		const char *name = ld->header[i];
		int is_cat = in_list(opts->categorical, opts->n_categorical,
				     name);
		int is_num = in_list(opts->numeric, opts->n_numeric, name);

		if (opts->only && !in_list(opts->only, opts->n_only, name))
			continue;
		if (is_cat && is_num)
			return err_set(err, MLOPS_EUSAGE,
				       "column '%s' cannot be both categorical "
				       "and numeric", name);
		c = &ld->cols[ld->n_cols++];
		c->src = i;
		c->force = is_cat ? FORCE_CATEGORICAL :
			   is_num ? FORCE_NUMERIC : FORCE_NONE;
		c->interning = c->force != FORCE_NUMERIC;
		c->all_numeric = c->force != FORCE_CATEGORICAL;
		if (c->interning)
			c->map = strmap_new();
	}
	return MLOPS_OK;
}

static void drop_interning(struct load_col *c)
{
	size_t i;

	strmap_free(c->map);
	c->map = NULL;
	for (i = 0; i < c->n_levels; i++)
		free(c->levels[i]);
	free(c->levels);
	free(c->level_val);
	c->levels = NULL;
	c->level_val = NULL;
	c->n_levels = c->levels_cap = 0;
	c->interning = 0;
}

/* Replace codes by the levels' numbers and stop interning. */
static void go_numeric(struct load_col *c, size_t n_rows)
{
	size_t i;

	for (i = 0; i < n_rows; i++)
		c->val[i] = c->val[i] < 0 ? NAN :
			    c->level_val[(size_t)c->val[i]];
	drop_interning(c);
}

static int not_a_number(const struct loader *ld, const struct load_col *c,
			unsigned long line, const char *s, size_t len,
			struct mlops_err *err)
{
	int n = len > MSG_VALUE_MAX ? MSG_VALUE_MAX : (int)len;

	return err_set(err, MLOPS_EINPUT,
		       "'%s' line %lu, column %zu ('%s'): '%.*s%s' is not a "
		       "number", ld->name, line, c->src + 1,
		       ld->header[c->src], n, s,
		       len > MSG_VALUE_MAX ? "..." : "");
}

/* A string not seen before in an interning column. */
static int new_level(struct loader *ld, struct load_col *c,
		     unsigned long line, const char *s, size_t len,
		     struct mlops_err *err)
{
	double v = NAN;
	int is_num = 0;

	if (c->all_numeric)
		is_num = !csv_parse_double(s, len, &v);
	if (c->n_levels == ld->max_levels) {
		if (c->all_numeric && is_num) {
			go_numeric(c, ld->n_rows);
			c->val[ld->n_rows] = v;
			return MLOPS_OK;
		}
		return err_set(err, MLOPS_EINPUT,
			       "'%s' line %lu, column %zu ('%s'): more than "
			       "%zu distinct values in a categorical column; "
			       "exclude it (--exclude)", ld->name, line,
			       c->src + 1, ld->header[c->src], ld->max_levels);
	}
	if (c->n_levels == c->levels_cap) {
		size_t cap = c->levels_cap;

		XGROW(c->levels, cap, c->n_levels + 1);
		cap = c->levels_cap;
		XGROW(c->level_val, cap, c->n_levels + 1);
		c->levels_cap = cap;
	}
	c->levels[c->n_levels] = xstrndup(s, len);
	c->level_val[c->n_levels] = v;
	c->all_numeric &= is_num;
	strmap_put(c->map, s, len, (long)c->n_levels);
	c->val[ld->n_rows] = (double)c->n_levels++;
	return MLOPS_OK;
}

static int store_cell(struct loader *ld, struct load_col *c,
		      unsigned long line, const char *s, size_t len,
		      struct mlops_err *err)
{
	long code;
	double v;

	if (csv_is_missing(s, len)) {
		c->val[ld->n_rows] = c->interning ? -1 : NAN;
		c->n_missing++;
		return MLOPS_OK;
	}
	if (!c->interning) {
		if (csv_parse_double(s, len, &v))
			return not_a_number(ld, c, line, s, len, err);
		c->val[ld->n_rows] = v;
		return MLOPS_OK;
	}
	code = strmap_get(c->map, s, len);
	if (code < 0)
		return new_level(ld, c, line, s, len, err);
	c->val[ld->n_rows] = (double)code;
	return MLOPS_OK;
}

static void grow_rows(struct loader *ld)
{
	size_t j, cap = ld->cap_rows ? 2 * ld->cap_rows : 1024;

	for (j = 0; j < ld->n_cols; j++)
		ld->cols[j].val = xreallocarray(ld->cols[j].val, cap,
						sizeof(double));
	ld->line = xreallocarray(ld->line, cap, sizeof(*ld->line));
	ld->cap_rows = cap;
}

static int read_rows(struct loader *ld, struct mlops_err *err)
{
	struct csv_record rec;
	struct load_col *c;
	size_t j;
	int eof, ret;

	for (;;) {
		if ((ret = csv_next(ld->csv, &rec, &eof, err)))
			return ret;
		if (eof)
			break;
		if (rec.n_fields != ld->n_header)
			return err_set(err, MLOPS_EINPUT,
				       "'%s' line %lu: expected %zu fields, "
				       "found %zu", ld->name, rec.line,
				       ld->n_header, rec.n_fields);
		if (ld->n_rows == ld->cap_rows)
			grow_rows(ld);
		for (j = 0; j < ld->n_cols; j++) {
			c = &ld->cols[j];
			if ((ret = store_cell(ld, c, rec.line,
					      rec.fields[c->src],
					      rec.lens[c->src], err)))
				return ret;
		}
		ld->line[ld->n_rows++] = rec.line;
	}
	if (!ld->n_rows)
		return err_set(err, MLOPS_EINPUT, "'%s': no data rows",
			       ld->name);
	return MLOPS_OK;
}

/* Move a loaded column into its final form in `out`. */
static void finish_column(struct loader *ld, struct load_col *c,
			  struct ds_column *out)
{
	size_t i, n = ld->n_rows;

	out->name = xstrdup(ld->header[c->src]);
	out->n_missing = c->n_missing;
	if (c->interning && c->all_numeric)
		go_numeric(c, n);
	if (!c->interning) {
		out->type = DS_NUMERIC;
		out->num = xreallocarray(c->val, n, sizeof(double));
		c->val = NULL;
		return;
	}
	out->type = DS_CATEGORICAL;
	out->code = xmallocarray(n, sizeof(int32_t));
	for (i = 0; i < n; i++)
		out->code[i] = (int32_t)c->val[i];
	free(c->val);
	c->val = NULL;
	out->n_levels = c->n_levels;
	out->levels = c->levels;
	c->levels = NULL;
	c->n_levels = 0;
	drop_interning(c);
}

static void loader_release(struct loader *ld)
{
	size_t i;

	for (i = 0; i < ld->n_cols; i++) {
		drop_interning(&ld->cols[i]);
		free(ld->cols[i].val);
	}
	free(ld->cols);
	for (i = 0; i < ld->n_header; i++)
		free(ld->header[i]);
	free(ld->header);
	free(ld->line);
	csv_close(ld->csv);
}

int dataset_load(const char *path, const struct dataset_opts *opts,
		 struct dataset **out, struct mlops_err *err)
{
	struct loader ld;
	struct dataset *ds = NULL;
	size_t j;
	int ret;

	*out = NULL;
	memset(&ld, 0, sizeof(ld));
	if ((ret = csv_open(path, &ld.csv, err)))
		goto out;
	ld.name = csv_name(ld.csv);
	if ((ret = read_header(&ld, err)) ||
	    (ret = plan_columns(&ld, opts, err)) ||
	    (ret = read_rows(&ld, err)))
		goto out;

	ds = xcalloc(1, sizeof(*ds));
	ds->name = xstrdup(ld.name);
	csv_sha256_hex(ld.csv, ds->sha256);
	ds->n_rows = ld.n_rows;
	ds->n_cols = ld.n_cols;
	ds->cols = xcalloc(ld.n_cols, sizeof(*ds->cols));
	for (j = 0; j < ld.n_cols; j++)
		finish_column(&ld, &ld.cols[j], &ds->cols[j]);
	ds->line = xreallocarray(ld.line, ld.n_rows, sizeof(*ld.line));
	ld.line = NULL;
	*out = ds;
out:
	loader_release(&ld);
	return ret;
}

int dataset_find(const struct dataset *ds, const char *name)
{
	size_t i;

	for (i = 0; i < ds->n_cols; i++)
		if (!strcmp(ds->cols[i].name, name))
			return (int)i;
	return -1;
}

void dataset_free(struct dataset *ds)
{
	size_t i, k;

	if (!ds)
		return;
	for (i = 0; i < ds->n_cols; i++) {
		struct ds_column *c = &ds->cols[i];

		free(c->name);
		free(c->num);
		free(c->code);
		for (k = 0; k < c->n_levels; k++)
			free(c->levels[k]);
		free(c->levels);
	}
	free(ds->cols);
	free(ds->line);
	free(ds->name);
	free(ds);
}
