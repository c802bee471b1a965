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
 *
 * Parsing runs on all cores without changing any of this.  The main
 * thread cuts the input into chunks of whole records (csv_read_chunk),
 * a batch of a few per worker.  Workers parse the chunks of one batch
 * while one of them reads the next batch; each chunk's rows go straight
 * to their place in the columns (csv_chunk.first_record says where).  A
 * worker knows each column's state only as it was when the batch began,
 * so a column still interning is coded against a dictionary local to
 * the chunk; the main thread then merges the chunks in file order,
 * mapping local codes to the column's levels in order of appearance and
 * applying the max_levels rule exactly where the serial pass would.
 * Every error is placed at its (row, column) and the earliest in file
 * order wins, so messages do not depend on the thread count.  Memory
 * beyond the columns is two batches of chunks.
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "csv.h"
#include "dataset.h"
#include "parallel.h"
#include "smallmap.h"
#include "strmap.h"
#include "xalloc.h"

#define DEFAULT_MAX_LEVELS 1000
/*
 * A round ends when its last chunk is parsed, so chunks are small enough
 * for the workers to finish together; two batches of them are in memory.
 */
#define DEFAULT_CHUNK_BYTES (1 << 20)
#define CHUNKS_PER_WORKER 4
/* Tables wider than this read one chunk per worker, of at most this. */
#define WIDE_COLS 256
#define WIDE_CHUNK_BYTES (256 << 10)
/* Longest cell value quoted in an error message. */
#define MSG_VALUE_MAX 60

enum force { FORCE_NONE, FORCE_NUMERIC, FORCE_CATEGORICAL };

struct load_col {
	size_t src;		/* field index in the file */
	enum force force;
	int interning;		/* else plain numeric (or timestamps) */
	int is_time;		/* not interning: the values are timestamps */
	double *val;		/* per row: code (-1 missing) or number */
	struct strmap *map;	/* level string -> code */
	char **levels;
	double *level_val;	/* each level's number (if all_numeric) */
	size_t n_levels, levels_cap;
	int all_numeric;	/* every level so far parses as a number */
	int all_time;		/* every level so far is a timestamp */
	size_t n_missing;
	/* Neither forced, nor the target, nor named by `only`: left out as
	 * an identifier when it passes max_levels text values (dropped:
	 * no cells kept from then on) */
	int droppable, dropped;
};

/* What a level holds, as far as its chunk's worker parsed it. */
enum { LV_TEXT, LV_NUMBER, LV_TIME };

/* A value first seen in a chunk; its bytes live in the chunk. */
struct chunk_level {
	const char *s;
	size_t len;
	double val;		/* its number or timestamp; NAN if neither
				 * or not parsed */
	int kind;		/* LV_*; LV_TEXT if not parsed */
};

/* One column of one chunk, as a worker left it for the merge. */
struct chunk_col {
	int interned;		/* the column was interning: rows hold codes */
	int coding;		/* still coding (local dictionary not full) */
	int parse_levels;	/* the column may still turn numeric */
	int parse_time;		/* or into timestamps */
	int time;		/* not coding: the values are timestamps */
	size_t n_coded;		/* rows [0, n_coded) hold chunk-local codes
				 * (-1 missing), later ones numbers */
	struct strmap *map;	/* value -> chunk-local code */
	struct smallmap small;	/* its short keys, looked up first */
	struct chunk_level *levels;
	size_t n_levels, levels_cap;
	size_t n_missing;
	/*
	 * Cells not stored: the column was dropped, or (droppable) it passed
	 * max_levels here with text among them and the merge will decide.
	 * A droppable column's first bad value after that is kept for the
	 * merge (bad: at row bad_row), which reports it unless it drops the
	 * column, rather than stopping the chunk.
	 */
	int skip;
	int bad;
	size_t bad_row;
	unsigned long bad_line;
	const char *bad_s;
	size_t bad_len;
};

/* A chunk and what its worker made of it. */
struct slot {
	struct csv_chunk chunk;
	struct csv_chunk_parser parser;
	size_t row0;		/* global index of its first record */
	size_t max_rows;	/* rows reserved for it in the columns */
	size_t n_rows;		/* whole rows stored */
	struct chunk_col *cols;	/* per loaded column */
	/* The chunk's plan: columns numeric from its start (their field and
	 * where their values go), then the others */
	size_t *plain_src, *other;
	double **plain_dst;
	size_t n_plain, n_other;
	int status;		/* first error, at row err_row (of the chunk) */
	size_t err_row;
	long err_col;		/* loaded column, or -1: the record itself */
	struct mlops_err err;
};

struct batch {
	struct slot *slots;
	size_t n;		/* chunks read */
	int eof;
	int status;		/* reading failed after the n chunks */
	struct mlops_err err;
};

struct loader {
	struct csv_reader *csv;
	const char *name;	/* for messages */
	char **header;
	size_t n_header;
	unsigned long header_line;
	size_t empty_tail;	/* 1-based unnamed last column that must stay
				 * empty, or 0 */
	struct load_col *cols;
	size_t n_cols;
	size_t max_levels;
	struct cell_na na;	/* missing tokens beyond csv_is_missing() */
	int only_mode;		/* every loaded column was named */
	size_t n_rows, cap_rows;
	unsigned long *line;
	size_t chunk_bytes, n_workers, per_batch;
	struct batch batch[2];
	struct batch *parsing, *reading;	/* this round's */
	long *remap;		/* merge scratch: chunk code -> level */
	size_t remap_cap;
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

/*
 * The header, as it is: empty and repeated names are refused later, and
 * only where they matter (a column that is loaded).
 */
static int read_header(struct loader *ld, struct mlops_err *err)
{
	struct csv_record rec;
	size_t i;
	int eof, ret;

	if ((ret = csv_next(ld->csv, &rec, &eof, err)))
		return ret;
	if (eof)
		return err_set(err, MLOPS_EINPUT, "'%s': empty file, no header",
			       ld->name);
	ld->n_header = rec.n_fields;
	ld->header_line = rec.line;
	ld->header = xcalloc(rec.n_fields, sizeof(*ld->header));
	for (i = 0; i < rec.n_fields; i++)
		ld->header[i] = xstrndup(rec.fields[i], rec.lens[i]);
	return MLOPS_OK;
}

/* Whether header column i is unnamed (an empty or blank name). */
static int unnamed(const struct loader *ld, size_t i)
{
	return is_blank(ld->header[i], strlen(ld->header[i]));
}

/* Whether `list` leaves out header column i ("" for unnamed ones). */
static int excluded(const struct loader *ld, const char *const *list,
		    size_t n, size_t i)
{
	return in_list(list, n, ld->header[i]) ||
	       (unnamed(ld, i) && in_list(list, n, ""));
}

/*
 * Each name must be in the header, once, unless `twice_ok` (exclusion
 * leaves out every column of the name); "" matches unnamed columns.
 */
static int check_names(const struct loader *ld, const char *const *names,
		       size_t n, const char *option, int twice_ok,
		       struct mlops_err *err)
{
	size_t i, j, at;
	int ret;

	for (i = 0; i < n; i++) {
		if (twice_ok) {
			for (j = 0; j < ld->n_header; j++)
				if (excluded(ld, &names[i], 1, j))
					break;
			if (j < ld->n_header)
				continue;
		}
		if ((ret = csv_find_column(ld->csv, ld->header, ld->n_header,
					   names[i], option, &at, err)))
			return ret;
	}
	return MLOPS_OK;
}

/* A loaded column's name must be a name, and its own. */
static int check_loaded_name(const struct loader *ld, struct strmap *seen,
			     size_t i, struct mlops_err *err)
{
	const char *name = ld->header[i];
	long j;

	if (unnamed(ld, i))
		return err_set(err, MLOPS_EINPUT, "'%s' line %lu, column %zu: "
			       "unnamed column (empty name in the header); "
			       "name it, or leave it out with --exclude ''",
			       ld->name, ld->header_line, i + 1);
	if ((j = strmap_get(seen, name, strlen(name))) >= 0)
		return err_set(err, MLOPS_EINPUT, "'%s': column '%s' occurs "
			       "twice in the header (columns %ld and %zu); "
			       "rename one, or leave both out with --exclude "
			       "'%s'", ld->name, name, j + 1, i + 1, name);
	strmap_put(seen, name, strlen(name), (long)i);
	return MLOPS_OK;
}

/* Decide which file columns to load and how. */
static int plan_columns(struct loader *ld, const struct dataset_opts *opts,
			struct mlops_err *err)
{
	static const struct dataset_opts none;
	struct load_col *c;
	struct strmap *seen;
	size_t i;
	int ret;

	if (!opts)
		opts = &none;
	ld->max_levels = opts->max_levels ? opts->max_levels :
			 DEFAULT_MAX_LEVELS;
	ld->chunk_bytes = opts->chunk_bytes ? opts->chunk_bytes :
			  DEFAULT_CHUNK_BYTES;
	ld->n_workers = opts->threads ? opts->threads : parallel_cpus();
	cell_na_init(&ld->na, opts->na_values, opts->n_na_values);
	ld->only_mode = opts->only != NULL;
	if ((ret = check_names(ld, &opts->target, opts->target ? 1 : 0,
			       "--target", 0, err)) ||
	    (ret = check_names(ld, opts->only, opts->only ? opts->n_only : 0,
			       "--features", 0, err)) ||
	    (ret = check_names(ld, opts->exclude, opts->n_exclude,
			       "--exclude", 1, err)) ||
	    (ret = check_names(ld, opts->categorical, opts->n_categorical,
			       "--categorical", 0, err)) ||
	    (ret = check_names(ld, opts->numeric, opts->n_numeric,
			       "--numeric", 0, err)))
		return ret;
	if (opts->target &&
	    in_list(opts->exclude, opts->n_exclude, opts->target))
		return err_set(err, MLOPS_EUSAGE, "the target '%s' cannot be "
			       "excluded", opts->target);
	ld->cols = xcalloc(ld->n_header, sizeof(*ld->cols));
	seen = strmap_new();
	for (i = 0; i < ld->n_header; i++) {
		const char *name = ld->header[i];
		int is_cat = in_list(opts->categorical, opts->n_categorical,
				     name);
		int is_num = in_list(opts->numeric, opts->n_numeric, name);
		int is_target = opts->target && !strcmp(opts->target, name);

		if (excluded(ld, opts->exclude, opts->n_exclude, i))
			continue;
		if (opts->only && !is_target &&
		    !in_list(opts->only, opts->n_only, name))
			continue;
		/* A trailing comma on every line: ignored if empty. */
		if (unnamed(ld, i) && i + 1 == ld->n_header && !opts->only) {
			ld->empty_tail = i + 1;
			continue;
		}
		if ((ret = check_loaded_name(ld, seen, i, err)))
			break;
		if (is_cat && is_num) {
			ret = err_set(err, MLOPS_EUSAGE,
				      "column '%s' cannot be both categorical "
				      "and numeric", name);
			break;
		}
		c = &ld->cols[ld->n_cols++];
		c->src = i;
		c->force = is_cat ? FORCE_CATEGORICAL :
			   is_num ? FORCE_NUMERIC : FORCE_NONE;
		c->interning = c->force != FORCE_NUMERIC;
		c->droppable = c->force == FORCE_NONE && !opts->only &&
			       !is_target;
		c->all_numeric = c->force != FORCE_CATEGORICAL;
		c->all_time = c->force == FORCE_NONE;
		if (c->interning)
			c->map = strmap_new();
	}
	strmap_free(seen);
	return ret;
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

/*
 * Replace the codes of rows [0, n_rows) by numbers (or timestamps, their
 * levels' values either way); stop interning.
 */
static void go_numeric(struct load_col *c, size_t n_rows)
{
	size_t i;

	for (i = 0; i < n_rows; i++)
		c->val[i] = c->val[i] < 0 ? NAN :
			    c->level_val[(size_t)c->val[i]];
	drop_interning(c);
}

static void go_time(struct load_col *c, size_t n_rows)
{
	go_numeric(c, n_rows);
	c->is_time = 1;
}

/*
 * A value that does not fit its column, a column of numbers (or of
 * timestamps if `time`), with the ways out: --na-values for a
 * placeholder, --categorical for a column that really is text.
 */
static int bad_value(const struct loader *ld, const struct load_col *c,
		     unsigned long line, const char *s, size_t len, int time,
		     struct mlops_err *err)
{
	int n = len > MSG_VALUE_MAX ? MSG_VALUE_MAX : (int)len;
	const char *more = len > MSG_VALUE_MAX ? "..." : "";
	const char *name = ld->header[c->src];

	if (!time && cell_is_nonfinite(s, len))
		return err_set(err, MLOPS_EINPUT,
			       "'%s' line %lu, column %zu ('%s'): '%.*s%s' is "
			       "not a finite number (read it as missing with "
			       "--na-values '%.*s%s')", ld->name, line,
			       c->src + 1, name, n, s, more, n, s, more);
	if (c->force == FORCE_NUMERIC)
		return err_set(err, MLOPS_EINPUT,
			       "'%s' line %lu, column %zu ('%s'): '%.*s%s' is "
			       "not a number (read it as missing with "
			       "--na-values '%.*s%s')", ld->name, line,
			       c->src + 1, name, n, s, more, n, s, more);
	return err_set(err, MLOPS_EINPUT,
		       "'%s' line %lu, column %zu ('%s'): '%.*s%s' is not a "
		       "%s in a column of %ss: read it as missing with "
		       "--na-values '%.*s%s', or the column as text with "
		       "--categorical '%s'", ld->name, line, c->src + 1, name,
		       n, s, more, time ? "timestamp" : "number",
		       time ? "timestamp" : "number", n, s, more, name);
}

static int too_many_levels(const struct loader *ld, const struct load_col *c,
			   unsigned long line, struct mlops_err *err)
{
	return err_set(err, MLOPS_EINPUT,
		       "'%s' line %lu, column %zu ('%s'): more than %zu "
		       "distinct values in a categorical column; leave it out "
		       "with --exclude '%s'", ld->name, line, c->src + 1,
		       ld->header[c->src], ld->max_levels, ld->header[c->src]);
}

enum { KIND_TEXT, KIND_NUMBER, KIND_NONFINITE, KIND_TIME };

static int value_kind(const char *s, size_t len)
{
	double x;

	if (!csv_parse_double(s, len, &x))
		return KIND_NUMBER;
	if (cell_is_nonfinite(s, len))
		return KIND_NONFINITE;
	if (!cell_parse_timestamp(s, len, &x))
		return KIND_TIME;
	return KIND_TEXT;
}

/*
 * The type rule for an interning column that is neither all numbers nor
 * all timestamps, judged on its rows [0, n_rows) plus `extra` (a value
 * new at row n_rows, or NULL): when at least one value is a number
 * (finite or not) and numbers are at least half of the distinct values
 * or of the non-missing cells, the column is numeric with bad values and
 * the first of them in file order is reported; the same for timestamps.
 * Otherwise the column is text: MLOPS_OK.
 */
static int type_rule(const struct loader *ld, const struct load_col *c,
		     size_t n_rows, const struct chunk_level *extra,
		     struct mlops_err *err)
{
	size_t n_lv = c->n_levels + (extra != NULL), k, i, bad_lv = SIZE_MAX;
	size_t lv_num = 0, lv_time = 0, rows_num = 0, rows_time = 0, rows = 0;
	size_t *count = xcalloc(n_lv + 1, sizeof(size_t));
	int *kind = xcalloc(n_lv + 1, sizeof(int)), want = KIND_TEXT;

	for (k = 0; k < c->n_levels; k++)
		kind[k] = value_kind(c->levels[k], strlen(c->levels[k]));
	if (extra) {
		kind[k] = value_kind(extra->s, extra->len);
		count[k] = 1;
	}
	for (i = 0; i < n_rows; i++)
		if (c->val[i] >= 0)
			count[(size_t)c->val[i]]++;
	for (k = 0; k < n_lv; k++) {
		int num = kind[k] == KIND_NUMBER || kind[k] == KIND_NONFINITE;

		lv_num += num;
		lv_time += kind[k] == KIND_TIME;
		rows_num += num ? count[k] : 0;
		rows_time += kind[k] == KIND_TIME ? count[k] : 0;
		rows += count[k];
	}
	if (lv_num && (2 * lv_num >= n_lv || 2 * rows_num >= rows))
		want = KIND_NUMBER;
	else if (lv_time && (2 * lv_time >= n_lv || 2 * rows_time >= rows))
		want = KIND_TIME;
	for (k = 0; want != KIND_TEXT && k < n_lv && bad_lv == SIZE_MAX; k++)
		if (kind[k] != want)
			bad_lv = k;
	free(count);
	free(kind);
	if (bad_lv == SIZE_MAX)
		return MLOPS_OK;
	if (bad_lv == c->n_levels)
		return bad_value(ld, c, ld->line[n_rows], extra->s, extra->len,
				 want == KIND_TIME, err);
	/* Levels are numbered in order of appearance: find its first row. */
	for (i = 0; i < n_rows && c->val[i] != (double)bad_lv; i++)
		;
	return bad_value(ld, c, ld->line[i], c->levels[bad_lv],
			 strlen(c->levels[bad_lv]), want == KIND_TIME, err);
}

/*
 * Leave column c out from here on: an identifier (dataset.h, id_like).
 * Its cells are dropped and no chunk stores them any more.
 */
static void drop_column(struct load_col *c)
{
	drop_interning(c);
	free(c->val);
	c->val = NULL;
	c->dropped = 1;
}

/*
 * An interning column passes max_levels distinct values at row `row`
 * (`lv` the new value if known) and cannot turn numeric: the type rule's
 * error; else, for a droppable column that so far has a different value
 * on nearly every row (the id_like rule, judged on rows [0, row]), drop
 * it and return MLOPS_OK; else too many levels.
 */
static int levels_overflow(const struct loader *ld, struct load_col *c,
			   size_t row, const struct chunk_level *lv,
			   struct mlops_err *err)
{
	size_t i, present = 1;	/* the row's new value */
	int ret;

	if (c->force == FORCE_NONE && (ret = type_rule(ld, c, row, lv, err)))
		return ret;
	if (c->droppable) {
		for (i = 0; i < row; i++)
			present += c->val[i] >= 0;
		if (present > 50 && 100 * (c->n_levels + 1) >= 95 * present) {
			drop_column(c);
			return MLOPS_OK;
		}
	}
	return too_many_levels(ld, c, ld->line[row], err);
}

/* ---- workers: one chunk into the columns ---- */

/* Before parsing a chunk: take the column's state at the batch start. */
static void start_chunk_col(const struct load_col *c, struct chunk_col *cc)
{
	strmap_free(cc->map);
	cc->skip = c->dropped;
	cc->bad = 0;
	cc->map = c->interning ? strmap_new() : NULL;
	smallmap_init(&cc->small);
	cc->interned = c->interning;
	cc->coding = c->interning;
	cc->parse_levels = c->interning && c->all_numeric;
	cc->parse_time = c->interning && c->all_time;
	cc->time = !c->interning && c->is_time;
	cc->n_coded = SIZE_MAX;
	cc->n_levels = 0;
	cc->n_missing = 0;
}

/*
 * Parse a new level as far as the column may still turn numeric or into
 * timestamps; a level that is neither ends that hope for the chunk.
 */
static void classify_level(struct chunk_col *cc, struct chunk_level *lv)
{
	lv->kind = LV_TEXT;
	if (cc->parse_levels) {
		if (!csv_parse_double(lv->s, lv->len, &lv->val)) {
			lv->kind = LV_NUMBER;
			cc->parse_time = 0;
			return;
		}
		cc->parse_levels = 0;
	}
	if (cc->parse_time) {
		if (!cell_parse_timestamp(lv->s, lv->len, &lv->val)) {
			lv->kind = LV_TIME;
			return;
		}
		cc->parse_time = 0;
	}
	lv->val = NAN;
}

/*
 * Store one cell of row i of the chunk.  A column interning at the batch
 * start gets chunk-local codes until the chunk holds more than
 * max_levels distinct values in it; from there the whole column has
 * either turned numeric or failed at or before this cell (its levels
 * include these), so the rest of the chunk is parsed as numbers.
 */
static int chunk_cell(const struct loader *ld, struct slot *sl, size_t j,
		      size_t i, unsigned long line, const char *s,
		      size_t len, double num)
{
	const struct load_col *c = &ld->cols[j];
	struct chunk_col *cc = &sl->cols[j];
	struct chunk_level *lv;
	double *out;
	long code;

	if (cc->skip)
		return MLOPS_OK;
	out = &c->val[sl->row0 + i];
	if (cc->coding) {
		/* Missing values are never levels: a level found is one. */
		if ((code = smallmap_get(&cc->small, s, len)) >= 0) {
			*out = (double)code;
			return MLOPS_OK;
		}
		if (cell_is_missing(&ld->na, s, len)) {
			*out = -1;
			cc->n_missing++;
			return MLOPS_OK;
		}
		code = cc->small.complete ? -1 : strmap_get(cc->map, s, len);
		if (code >= 0) {
			*out = (double)code;
			return MLOPS_OK;
		}
		if (cc->n_levels < ld->max_levels) {
			XGROW(cc->levels, cc->levels_cap, cc->n_levels + 1);
			lv = &cc->levels[cc->n_levels];
			lv->s = s;
			lv->len = len;
			classify_level(cc, lv);
			strmap_put(cc->map, s, len, (long)cc->n_levels);
			smallmap_add(&cc->small, s, len, (long)cc->n_levels);
			*out = (double)cc->n_levels++;
			return MLOPS_OK;
		}
		cc->coding = 0;
		cc->n_coded = i;
		cc->time = !cc->parse_levels && cc->parse_time;
		if (c->droppable && !cc->parse_levels && !cc->parse_time) {
			cc->skip = 1;
			return MLOPS_OK;
		}
	}
	if (cc->time) {
		if (!cell_parse_timestamp(s, len, out))
			return MLOPS_OK;
	} else if (!ld->na.numeric) {
		/* No default missing value parses as a number: try it first. */
		if (num == num) {
			*out = num;
			return MLOPS_OK;
		}
		if (!csv_parse_double(s, len, out))
			return MLOPS_OK;
	} else if (!cell_is_missing(&ld->na, s, len) &&
		   !csv_parse_double(s, len, out)) {
		return MLOPS_OK;
	}
	if (cell_is_missing(&ld->na, s, len)) {
		*out = NAN;
		cc->n_missing++;
		return MLOPS_OK;
	}
	if (c->droppable && cc->interned) {
		/* The merge may yet drop the column: let it judge. */
		cc->skip = cc->bad = 1;
		cc->bad_row = i;
		cc->bad_line = line;
		cc->bad_s = s;
		cc->bad_len = len;
		return MLOPS_OK;
	}
	return bad_value(ld, c, line, s, len, cc->time, &sl->err);
}

/* Store column j of row i from its field of the record. */
static int record_cell(const struct loader *ld, struct slot *sl, size_t j,
		       size_t i, const struct csv_record *rec)
{
	size_t f = ld->cols[j].src;

	return chunk_cell(ld, sl, j, i, rec->line, rec->fields[f],
			  rec->lens[f], rec->num[f]);
}

/*
 * Store row i's cells the general way, column by column, stopping at the
 * first error; *bad is then its column.
 */
static int row_cells(const struct loader *ld, struct slot *sl, size_t i,
		     const struct csv_record *rec, size_t *bad)
{
	size_t j;
	int ret;

	for (j = 0; j < ld->n_cols; j++)
		if ((ret = record_cell(ld, sl, j, i, rec))) {
			*bad = j;
			return ret;
		}
	return MLOPS_OK;
}

/*
 * Row i, the fast way: the columns numeric from the chunk's start take
 * the parser's numbers as they are when every one of them parsed (none
 * can then fail), and the other columns go through chunk_cell() in order.
 * A row with a field the parser did not read as a number (a missing
 * value, an exponent, garbage) goes the general way.
 */
static int row_planned(const struct loader *ld, struct slot *sl, size_t i,
		       const struct csv_record *rec, size_t *bad)
{
	size_t k;
	int all = 1, ret;

	/* A missing token that reads as a number: every cell is checked. */
	if (ld->na.numeric)
		return row_cells(ld, sl, i, rec, bad);
	for (k = 0; k < sl->n_plain; k++) {
		double v = rec->num[sl->plain_src[k]];

		sl->plain_dst[k][i] = v;
		all &= v == v;
	}
	if (!all)
		return row_cells(ld, sl, i, rec, bad);
	for (k = 0; k < sl->n_other; k++)
		if ((ret = record_cell(ld, sl, sl->other[k], i, rec))) {
			*bad = sl->other[k];
			return ret;
		}
	return MLOPS_OK;
}

/* The unnamed last column, left out if empty, holds something. */
static int unnamed_holds(const struct loader *ld,
			 const struct csv_record *rec, struct mlops_err *err)
{
	size_t c = ld->empty_tail - 1, len = rec->lens[c];
	int n = len > MSG_VALUE_MAX ? MSG_VALUE_MAX : (int)len;

	return err_set(err, MLOPS_EINPUT, "'%s' line %lu, column %zu: the "
		       "unnamed last column holds '%.*s%s'; name it in the "
		       "header, or leave it out with --exclude ''", ld->name,
		       rec->line, c + 1, n, rec->fields[c],
		       len > MSG_VALUE_MAX ? "..." : "");
}

/* Parse a chunk until its end or its first error. */
static void parse_slot(const struct loader *ld, struct slot *sl)
{
	struct csv_record rec;
	size_t i, j, bad = 0;
	int eof, ret;

	csv_chunk_parser_reset(&sl->parser, &sl->chunk, ld->name);
	if (!sl->plain_src) {
		sl->plain_src = xmallocarray(ld->n_cols + 1, sizeof(size_t));
		sl->other = xmallocarray(ld->n_cols + 1, sizeof(size_t));
		sl->plain_dst = xmallocarray(ld->n_cols + 1, sizeof(double *));
	}
	sl->n_plain = sl->n_other = 0;
	for (j = 0; j < ld->n_cols; j++) {
		start_chunk_col(&ld->cols[j], &sl->cols[j]);
		if (sl->cols[j].skip)
			continue;
		if (sl->cols[j].coding || sl->cols[j].time) {
			sl->other[sl->n_other++] = j;
		} else {
			sl->plain_src[sl->n_plain] = ld->cols[j].src;
			sl->plain_dst[sl->n_plain++] = ld->cols[j].val +
						       sl->row0;
		}
	}
	sl->status = 0;
	sl->err_col = -1;
	for (i = 0;; i++) {
		if ((ret = csv_chunk_next(&sl->parser, &rec, &eof, &sl->err)))
			break;
		if (eof)
			break;
		if (rec.n_fields != ld->n_header) {
			ret = err_set(&sl->err, MLOPS_EINPUT,
				      "'%s' line %lu: expected %zu fields, "
				      "found %zu", ld->name, rec.line,
				      ld->n_header, rec.n_fields);
			break;
		}
		if (ld->empty_tail && rec.lens[ld->empty_tail - 1]) {
			ret = unnamed_holds(ld, &rec, &sl->err);
			break;
		}
		if (i == sl->max_rows)
			BUG("chunk holds more records than reserved");
		ld->line[sl->row0 + i] = rec.line;
		if ((ret = row_planned(ld, sl, i, &rec, &bad))) {
			sl->err_col = (long)bad;
			break;
		}
	}
	sl->n_rows = i;
	sl->status = ret;
	sl->err_row = i;
}

/* Read up to `want` chunks into b; remember a failure for later. */
static void read_batch(struct loader *ld, struct batch *b, size_t want)
{
	struct slot *sl;

	b->n = 0;
	b->status = 0;
	while (b->n < want) {
		sl = &b->slots[b->n];
		b->status = csv_read_chunk(ld->csv, &sl->chunk,
					   ld->chunk_bytes, &b->eof, &b->err);
		if (b->status || b->eof)
			return;
		b->n++;
	}
}

/* One round: task 0 reads the next batch, the others parse chunks. */
static int round_task(void *arg, size_t worker, size_t task)
{
	struct loader *ld = arg;

	(void)worker;
	if (!task) {
		if (ld->reading)
			read_batch(ld, ld->reading, ld->per_batch);
	} else {
		parse_slot(ld, &ld->parsing->slots[task - 1]);
	}
	return 0;
}

/* ---- main thread: room for a batch, then merging in file order ---- */

/*
 * Place each chunk of b in the columns and make room.  The last chunk's
 * record count is not known before parsing it: a record has n_header - 1
 * commas and a line end (the last one may lack it), so it is at least
 * max(n_header, 2) bytes but for the final one.
 */
static void reserve_rows(struct loader *ld, struct batch *b)
{
	size_t k, j, need, cap, min_bytes = ld->n_header > 2 ? ld->n_header : 2;
	struct slot *sl;

	for (k = 0; k < b->n; k++) {
		sl = &b->slots[k];
		sl->row0 = (size_t)sl->chunk.first_record;
		if (k)
			b->slots[k - 1].max_rows = sl->row0 -
						   b->slots[k - 1].row0;
	}
	sl = &b->slots[b->n - 1];
	sl->max_rows = sl->chunk.len / min_bytes + 1;
	need = sl->row0 + sl->max_rows;
	if (need <= ld->cap_rows)
		return;
	cap = ld->cap_rows ? 2 * ld->cap_rows : 1024;
	if (cap < need)
		cap = need;
	for (j = 0; j < ld->n_cols; j++)
		if (!ld->cols[j].dropped)
			ld->cols[j].val = xreallocarray(ld->cols[j].val, cap,
							sizeof(double));
	ld->line = xreallocarray(ld->line, cap, sizeof(*ld->line));
	ld->cap_rows = cap;
}

static size_t add_level(struct load_col *c, const struct chunk_level *lv)
{
	if (c->n_levels == c->levels_cap) {
		size_t cap = c->levels_cap;

		XGROW(c->levels, cap, c->n_levels + 1);
		cap = c->levels_cap;
		XGROW(c->level_val, cap, c->n_levels + 1);
		c->levels_cap = cap;
	}
	c->levels[c->n_levels] = xstrndup(lv->s, lv->len);
	c->level_val[c->n_levels] = lv->val;
	c->all_numeric &= lv->kind == LV_NUMBER;
	c->all_time &= lv->kind == LV_TIME;
	strmap_put(c->map, lv->s, lv->len, (long)c->n_levels);
	return c->n_levels++;
}

/*
 * The bad value a worker kept for the merge in a column that turned (or
 * was) numeric: its error, the one the serial pass met there.
 */
static int deferred_bad(const struct loader *ld, const struct load_col *c,
			const struct chunk_col *cc, int time, size_t *bad,
			struct mlops_err *err)
{
	*bad = cc->bad_row;
	return bad_value(ld, c, cc->bad_line, cc->bad_s, cc->bad_len, time,
			 err);
}

/*
 * Settle the coded rows [0, lim) of column j in chunk sl, as the serial
 * pass would have met them: chunk codes become the column's levels (new
 * ones appended in order of appearance), or numbers once the column
 * turns numeric; or the column is dropped.  On error, *bad is the chunk
 * row at fault.
 */
static int merge_column(struct loader *ld, struct slot *sl, size_t j,
			size_t lim, size_t *bad, struct mlops_err *err)
{
	struct load_col *c = &ld->cols[j];
	struct chunk_col *cc = &sl->cols[j];
	const struct chunk_level *lv;
	double *v = c->val + sl->row0;
	size_t i, n_coded = cc->n_coded < lim ? cc->n_coded : lim;
	long g;

	XGROW(ld->remap, ld->remap_cap, cc->n_levels);
	for (i = 0; i < cc->n_levels; i++)
		ld->remap[i] = -1;
	for (i = 0; i < n_coded && c->interning; i++) {
		if (v[i] < 0)
			continue;
		g = ld->remap[(size_t)v[i]];
		if (g < 0) {
			lv = &cc->levels[(size_t)v[i]];
			g = strmap_get(c->map, lv->s, lv->len);
			if (g < 0 && c->n_levels == ld->max_levels) {
				*bad = i;
				if (c->all_numeric && lv->kind == LV_NUMBER) {
					go_numeric(c, sl->row0 + i);
					break;
				}
				if (c->all_time && lv->kind == LV_TIME) {
					go_time(c, sl->row0 + i);
					break;
				}
				return levels_overflow(ld, c, sl->row0 + i, lv,
						       err);
			}
			if (g < 0)
				g = (long)add_level(c, lv);
			ld->remap[(size_t)v[i]] = g;
		}
		v[i] = (double)g;
	}
	if (c->dropped)
		return MLOPS_OK;
	if (!c->interning) {
		/* Numeric from here: the chunk's codes become numbers. */
		for (; i < n_coded; i++) {
			if (v[i] < 0) {
				v[i] = NAN;
				continue;
			}
			lv = &cc->levels[(size_t)v[i]];
			if (lv->kind != (c->is_time ? LV_TIME : LV_NUMBER)) {
				*bad = i;
				return bad_value(ld, c, ld->line[sl->row0 + i],
						 lv->s, lv->len, c->is_time,
						 err);
			}
			v[i] = lv->val;
		}
		return cc->bad ? deferred_bad(ld, c, cc, c->is_time, bad, err) :
				 MLOPS_OK;
	}
	if (n_coded < lim) {
		/*
		 * The worker stopped coding at a value new to a full set of
		 * levels: switch or fail here, as the serial pass did.  It
		 * parsed the value; failing to is its error at this cell.
		 */
		int failed = (sl->status && sl->err_row == n_coded &&
			      sl->err_col == (long)j) ||
			     (cc->bad && cc->bad_row == n_coded);

		i = n_coded;
		if (!failed && c->all_numeric && !cc->time) {
			go_numeric(c, sl->row0 + i);
			return cc->bad ? deferred_bad(ld, c, cc, c->is_time,
						      bad, err) : MLOPS_OK;
		}
		if (!failed && c->all_time && cc->time) {
			go_time(c, sl->row0 + i);
			return cc->bad ? deferred_bad(ld, c, cc, c->is_time,
						      bad, err) : MLOPS_OK;
		}
		*bad = i;
		/* The worker's own message names the value it could not read. */
		if (failed && cc->bad && (c->all_numeric || c->all_time))
			return deferred_bad(ld, c, cc, cc->time, bad, err);
		if (failed && (c->all_numeric || c->all_time))
			return err_set(err, sl->status, "%s", sl->err.msg);
		return levels_overflow(ld, c, sl->row0 + i, NULL, err);
	}
	return MLOPS_OK;
}

/*
 * Append a parsed chunk to the table.  Errors: the earliest in file
 * order of the worker's (which stopped it) and the merge's.  A merge
 * error at the worker's very cell wins: it is what the serial pass met
 * first there.
 */
static int merge_slot(struct loader *ld, struct slot *sl,
		      struct mlops_err *err)
{
	struct mlops_err merr;
	size_t j, lim, row, best_row = sl->status ? sl->err_row : SIZE_MAX;
	long best_col = sl->err_col;
	int ret, status = sl->status;

	if (sl->row0 != ld->n_rows)
		BUG("chunk out of step with the rows loaded");
	if (status)
		err_set(err, status, "%s", sl->err.msg);
	for (j = 0; j < ld->n_cols; j++) {
		ld->cols[j].n_missing += sl->cols[j].n_missing;
		if (!sl->cols[j].interned || ld->cols[j].dropped)
			continue;
		lim = sl->n_rows + (status && sl->err_col >= (long)j);
		if (!(ret = merge_column(ld, sl, j, lim, &row, &merr)))
			continue;
		if (row < best_row ||
		    (row == best_row && (long)j <= best_col)) {
			best_row = row;
			best_col = (long)j;
			status = ret;
			err_set(err, ret, "%s", merr.msg);
		}
	}
	if (status)
		return status;
	ld->n_rows += sl->n_rows;
	return MLOPS_OK;
}

static void batch_init(struct loader *ld, struct batch *b)
{
	size_t k;

	b->slots = xcalloc(ld->per_batch, sizeof(*b->slots));
	for (k = 0; k < ld->per_batch; k++)
		b->slots[k].cols = xcalloc(ld->n_cols,
					   sizeof(*b->slots[k].cols));
}

static void batch_release(struct loader *ld, struct batch *b)
{
	size_t k, j;

	if (!b->slots)
		return;
	for (k = 0; k < ld->per_batch; k++) {
		struct slot *sl = &b->slots[k];

		csv_chunk_release(&sl->chunk);
		csv_chunk_parser_release(&sl->parser);
		for (j = 0; j < ld->n_cols; j++) {
			strmap_free(sl->cols[j].map);
			free(sl->cols[j].levels);
		}
		free(sl->cols);
		free(sl->plain_src);
		free(sl->plain_dst);
		free(sl->other);
	}
	free(b->slots);
	b->slots = NULL;
}

/*
 * Read the rows: each round parses one batch while reading the next,
 * then merges the batch.  A read error comes after the records read
 * before it, so it is reported only if they are fine.  The first batch
 * is a single chunk: most numeric columns pass max_levels in it, and
 * after it no worker interns them (interning in every chunk of a batch
 * would cost many times the memory of the chunks).
 */
static int read_rows(struct loader *ld, struct mlops_err *err)
{
	struct batch *cur = &ld->batch[0], *next = &ld->batch[1], *t;
	size_t k;
	int ret;

	ld->per_batch = CHUNKS_PER_WORKER * ld->n_workers;
	/*
	 * A chunk's dictionaries take some tens of bytes per cell it holds
	 * while its columns intern, which in a wide table with few rows
	 * they never stop doing: hold fewer, smaller chunks at once.
	 */
	if (ld->n_cols > WIDE_COLS) {
		ld->per_batch = ld->n_workers;
		if (ld->chunk_bytes > WIDE_CHUNK_BYTES)
			ld->chunk_bytes = WIDE_CHUNK_BYTES;
	}
	batch_init(ld, cur);
	batch_init(ld, next);
	read_batch(ld, cur, 1);
	for (;;) {
		if (cur->n) {
			reserve_rows(ld, cur);
			ld->parsing = cur;
			ld->reading = cur->eof || cur->status ? NULL : next;
			parallel_run(cur->n + 1, ld->n_workers, round_task, ld);
			for (k = 0; k < cur->n; k++)
				if ((ret = merge_slot(ld, &cur->slots[k], err)))
					return ret;
		}
		if (cur->status)
			return err_set(err, cur->status, "%s", cur->err.msg);
		if (cur->eof)
			break;
		t = cur;
		cur = next;
		next = t;
	}
	if (!ld->n_rows)
		return err_set(err, MLOPS_EINPUT, "'%s': no data rows",
			       ld->name);
	return MLOPS_OK;
}

/*
 * Decide the type of a column still interning at the end of the file:
 * numbers, timestamps (at least one), or, unless the type rule refuses
 * it, text.
 */
static int settle_type(struct loader *ld, struct load_col *c,
		       struct mlops_err *err)
{
	if (!c->interning || c->force == FORCE_CATEGORICAL)
		return MLOPS_OK;
	if (c->all_numeric) {
		go_numeric(c, ld->n_rows);
		return MLOPS_OK;
	}
	if (c->all_time && c->n_levels) {
		go_time(c, ld->n_rows);
		return MLOPS_OK;
	}
	return type_rule(ld, c, ld->n_rows, NULL, err);
}

/* Whether x is 0, 1, 2, ... or 1, 2, 3, ... on more than 50 rows. */
static int counts_rows(const double *x, size_t n)
{
	size_t i;

	if (n <= 50 || (x[0] != 0 && x[0] != 1))
		return 0;
	for (i = 1; i < n; i++)
		if (x[i] != x[0] + (double)i)
			return 0;
	return 1;
}

/* Move a loaded column into its final form in `out`. */
static void finish_column(struct loader *ld, struct load_col *c,
			  struct ds_column *out)
{
	size_t i, n = ld->n_rows, present = n - c->n_missing;

	out->name = xstrdup(ld->header[c->src]);
	out->n_missing = c->n_missing;
	out->forced = c->force != FORCE_NONE;
	out->part = -1;
	if (c->dropped) {
		out->type = DS_CATEGORICAL;
		out->id_like = 1;
		out->n_missing = 0;
		return;
	}
	if (!c->interning) {
		out->type = c->is_time ? DS_TIMESTAMP : DS_NUMERIC;
		out->num = xreallocarray(c->val, n, sizeof(double));
		c->val = NULL;
		out->row_index = !c->is_time && c->droppable &&
				 counts_rows(out->num, n);
		return;
	}
	out->type = DS_CATEGORICAL;
	out->code = xmallocarray(n, sizeof(int32_t));
	for (i = 0; i < n; i++)
		out->code[i] = (int32_t)c->val[i];
	free(c->val);
	c->val = NULL;
	out->n_levels = c->n_levels;
	out->id_like = !out->forced && !ld->only_mode && present > 50 &&
		       100 * c->n_levels >= 95 * present;
	out->levels = c->levels;
	c->levels = NULL;
	c->n_levels = 0;
	drop_interning(c);
}

static void loader_release(struct loader *ld)
{
	size_t i;

	batch_release(ld, &ld->batch[0]);
	batch_release(ld, &ld->batch[1]);
	free(ld->remap);
	for (i = 0; i < ld->n_cols; i++) {
		drop_interning(&ld->cols[i]);
		free(ld->cols[i].val);
	}
	free(ld->cols);
	for (i = 0; i < ld->n_header; i++)
		free(ld->header[i]);
	free(ld->header);
	free(ld->line);
	cell_na_release(&ld->na);
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
	if ((ret = csv_open(path, opts ? &opts->csv : NULL, &ld.csv,
			    err)))
		goto out;
	ld.name = csv_name(ld.csv);
	if ((ret = read_header(&ld, err)) ||
	    (ret = plan_columns(&ld, opts, err)) ||
	    (ret = read_rows(&ld, err)))
		goto out;
	for (j = 0; j < ld.n_cols; j++)
		if ((ret = settle_type(&ld, &ld.cols[j], err)))
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
	ds->ignored_column = ld.empty_tail;
	*out = ds;
out:
	loader_release(&ld);
	return ret;
}

void dataset_timestamp_parts(struct dataset *ds, size_t col, size_t *first,
			     size_t *n)
{
	static const int parts[] = { CELL_EPOCH_DAYS, CELL_MONTH, CELL_DOW,
				     CELL_HOUR };
	size_t np = sizeof(parts) / sizeof(parts[0]), i, k, rows = ds->n_rows;
	const double *t = ds->cols[col].num;
	int clock = 0;

	/* The hour only for date-times: a column of dates has none. */
	for (i = 0; i < rows && !clock; i++)
		clock = t[i] == t[i] && cell_timestamp_part(t[i], CELL_HOUR);
	if (!clock)
		np--;
	ds->cols = xreallocarray(ds->cols, ds->n_cols + np, sizeof(*ds->cols));
	*first = ds->n_cols;
	*n = np;
	for (k = 0; k < np; k++) {
		struct ds_column *c = &ds->cols[ds->n_cols++];
		const struct ds_column *src = &ds->cols[col];

		memset(c, 0, sizeof(*c));
		c->name = xasprintf("%s.%s", src->name,
				    cell_part_name(parts[k]));
		c->type = DS_NUMERIC;
		c->source = xstrdup(src->name);
		c->part = parts[k];
		c->n_missing = src->n_missing;
		c->num = xmallocarray(rows ? rows : 1, sizeof(double));
		for (i = 0; i < rows; i++)
			c->num[i] = src->num[i] == src->num[i] ?
				cell_timestamp_part(src->num[i], parts[k]) : NAN;
	}
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
		free(c->source);
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
