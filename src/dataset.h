#ifndef MLOPS_DATASET_H
#define MLOPS_DATASET_H

/*
 * A whole CSV table loaded into memory by column, for train and validate.
 *
 * Type inference (mlops-data(7)): a column is numeric when every
 * non-missing field parses as a finite number, a timestamp when every one
 * is an ISO 8601 date or date-time, categorical otherwise; options force
 * numeric or categorical.  A column that is mostly numbers (or mostly
 * timestamps) with a few other values is not categorical by accident: it
 * is refused, naming the first other value.  Categorical values are
 * interned: each cell is an index into the column's `levels` (in order
 * of first appearance), -1 for missing.  Numeric cells are doubles, NAN
 * for missing; timestamp cells are seconds since 1970-01-01 UTC.
 * Scoring does not use this module: it streams with csv.h.
 */

#include <stddef.h>
#include <stdint.h>
#include "csv.h"
#include "error.h"

enum ds_type { DS_NUMERIC, DS_CATEGORICAL, DS_TIMESTAMP };

struct ds_column {
	char *name;
	enum ds_type type;
	double *num;		/* DS_NUMERIC: n_rows values, NAN = missing;
				 * DS_TIMESTAMP: seconds since the epoch */
	int32_t *code;		/* DS_CATEGORICAL: n_rows codes, -1 = missing */
	char **levels;		/* DS_CATEGORICAL: distinct values */
	size_t n_levels;
	size_t n_missing;
	int forced;		/* its type was set by an option */
	/*
	 * DS_CATEGORICAL, not forced, not the target, not loaded by name
	 * (`only`): more than 50 values, at least 95 % of them distinct, as
	 * an identifier has (train leaves it out with a warning).  One that
	 * passed max_levels was left out while loading, judged on its rows
	 * up to its first value beyond max_levels: it has no cells (code
	 * and levels NULL, n_levels 0).
	 */
	int id_like;
	/* DS_NUMERIC, same conditions: 0, 1, 2, ... or 1, 2, 3, ... on every
	 * one of more than 50 rows, as a row index has (train warns) */
	int row_index;
	/* A part of a timestamp column (dataset_timestamp_parts()): the
	 * column it was computed from and which part (enum cell_part);
	 * else NULL and -1. */
	char *source;
	int part;
};

struct dataset {
	char *name;		/* file name as given, for messages */
	char sha256[65];	/* hex SHA-256 of the file's raw bytes */
	size_t n_rows, n_cols;
	struct ds_column *cols;
	unsigned long *line;	/* n_rows: physical line of each row */
	/* 1-based column of an unnamed last column that was empty on every
	 * row and left out (the caller warns), or 0 */
	size_t ignored_column;
};

struct dataset_opts {
	/* How to read the file (delimiter, encoding); zero: defaults. */
	struct csv_opts csv;
	/* Columns forced categorical / numeric (a forced-numeric column
	 * holding a non-number is MLOPS_EINPUT naming line and column). */
	const char *const *categorical;
	size_t n_categorical;
	const char *const *numeric;
	size_t n_numeric;
	/* The column to predict, or NULL: it must be in the header once
	 * ("(--target)"), is always loaded and cannot be excluded. */
	const char *target;
	/* If non-NULL, load only these columns and the target (others are
	 * skipped but the row must still have the header's field count).
	 * Each named column must be in the header, else MLOPS_EINPUT in
	 * csv_find_column()'s words naming the option (--features here,
	 * --categorical, --numeric, --exclude), which also refuses a name
	 * that occurs twice.  One in both `categorical` and `numeric` is
	 * MLOPS_EUSAGE.  Loaded columns keep the file's order: look them up
	 * with dataset_find(). */
	const char *const *only;
	size_t n_only;
	/* Columns left out entirely: never parsed, typed or stored.  The
	 * name "" stands for the unnamed columns (empty header names). */
	const char *const *exclude;
	size_t n_exclude;
	/* More tokens read as missing, besides csv_is_missing()'s
	 * (--na-values); compared after trimming spaces. */
	const char *const *na_values;
	size_t n_na_values;
	/* A categorical column with more distinct values is MLOPS_EINPUT
	 * (suggesting --exclude), unless it is left out as an identifier
	 * (ds_column.id_like); 0 means the default, 1000.  Loading is
	 * one pass: a column that passes this many distinct values while
	 * all are numbers is numeric from then on, and a later non-number
	 * in it is MLOPS_EINPUT "'F' line L, column C ('name'): 'x' is not
	 * a number" (force it categorical to load it). */
	size_t max_levels;
	/* Threads parsing the file; 0 means one per online CPU.  Results
	 * never depend on it. */
	size_t threads;
	/* Bytes of input per parsing task; 0 means the default, 1 MiB.
	 * Results never depend on it; tests make it tiny to cross chunk
	 * boundaries. */
	size_t chunk_bytes;
};

/*
 * Load `path` ("-" = stdin, compressed input detected).  On success *out
 * owns the dataset (dataset_free()).  Errors: MLOPS_EIO (cannot open or
 * read), MLOPS_EINPUT (no header; a column named by an option missing;
 * a loaded column whose name occurs twice; an unnamed column loaded,
 * but for a last one that is empty on every row, which is left out
 * and reported in ignored_column; a row with the wrong field count
 * "'F' line L: expected N fields, found M"; malformed quoting, NUL
 * bytes, invalid UTF-8; no data rows).  `opts` may be NULL.
 */
int dataset_load(const char *path, const struct dataset_opts *opts,
		 struct dataset **out, struct mlops_err *err);

/*
 * Append to ds one numeric column per part of timestamp column `col`
 * that the model should see: epoch_days, month and dow, and hour when
 * some value has a time of day other than midnight.  They are named
 * "COL.PART" and carry source and part; the first is at *first, *n of
 * them.  The timestamp column itself stays.
 */
void dataset_timestamp_parts(struct dataset *ds, size_t col, size_t *first,
			     size_t *n);

/* Index of the column named `name`, or -1. */
int dataset_find(const struct dataset *ds, const char *name);

void dataset_free(struct dataset *ds);

#endif
