#ifndef MLOPS_PROFILE_H
#define MLOPS_PROFILE_H

/*
 * Distribution profiles ("sketches") of one column: what `drift` needs to
 * compare new data with training data without the training data.
 *
 * Numeric: count, missing, min, max, mean, std and PROFILE_QUANTILES+1
 * quantiles at probabilities 0, 1/Q, ..., 1 (so the reference CDF is known
 * to within 1/Q everywhere).  Categorical: the count of each level plus
 * missing.  Profiles are built from a whole column in memory (training)
 * or accumulated in a stream (a histogram on a reference's grid).
 */

#include <stddef.h>
#include <stdint.h>

#define PROFILE_QUANTILES 200
/* A numeric column with at most this many distinct values is profiled exactly. */
#define PROFILE_MAX_VALUES 64

enum profile_kind { PROFILE_NUMERIC, PROFILE_CATEGORICAL };

struct profile {
	enum profile_kind kind;
	uint64_t count;		/* non-missing values */
	uint64_t missing;
	/* numeric */
	double min, max, mean, std;
	double *quantiles;	/* PROFILE_QUANTILES + 1 values, or NULL if count == 0 */
	/*
	 * Numeric, exact: the distinct values in ascending order and how
	 * many times each occurs, when they are few (training: at most
	 * PROFILE_MAX_VALUES; drift --reference: every value of a reference
	 * that fits its sample).  n_values 0 when absent.  A profile with
	 * values describes the column exactly: ties are never gaps.
	 */
	double *values;
	uint64_t *value_counts;
	size_t n_values;
	/*
	 * drift --reference on a large file only (never in an artefact):
	 * the reference values strictly between values[k-1] and values[k]
	 * (k = 0: below values[0]; k = n_values: above the last), counted
	 * and summed as distances from the interval's lower end (k = 0:
	 * from values[0]).  NULL when every value is one of `values`.
	 */
	uint64_t *gap_counts;
	double *gap_sums;
	/*
	 * drift --reference from stdin beyond its sample: the values are a
	 * sample of this many rows standing for the file (0 otherwise).
	 */
	uint64_t sample_rows;
	/* categorical */
	char **levels;		/* owned strings */
	uint64_t *level_counts;
	size_t n_levels;
	/* categorical, drift --reference only: values of levels the model
	 * never saw (part of count, in no level_counts) */
	uint64_t unseen;
};

void profile_release(struct profile *p);

/*
 * Numeric profile of `n` values (NAN = missing).  Sorts a copy; O(n log n).
 */
void profile_numeric(struct profile *p, const double *values, size_t n);

/*
 * Give p (numeric) the exact distinct values of the n sorted values v
 * (no NaN), whatever their number.
 */
void profile_set_values(struct profile *p, const double *v, size_t n);

/*
 * Count the distinct values of x[rows[i]] (x[i] when rows is NULL),
 * i < n, NaN skipped, into p's exact values; leaves p without values
 * when there are more than PROFILE_MAX_VALUES.
 */
void profile_count_values(struct profile *p, const double *x,
			  const size_t *rows, size_t n);

/*
 * Categorical profile from codes into `levels` (-1 = missing); the level
 * strings are copied.
 */
void profile_categorical(struct profile *p, const int32_t *codes, size_t n,
			 char *const *levels, size_t n_levels);

/*
 * Reference CDF at x, interpolated linearly between quantiles: the
 * fraction of reference values <= x.
 */
double profile_cdf(const struct profile *p, double x);

#endif
