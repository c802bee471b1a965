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

enum profile_kind { PROFILE_NUMERIC, PROFILE_CATEGORICAL };

struct profile {
	enum profile_kind kind;
	uint64_t count;		/* non-missing values */
	uint64_t missing;
	/* numeric */
	double min, max, mean, std;
	double *quantiles;	/* PROFILE_QUANTILES + 1 values, or NULL if count == 0 */
	/* categorical */
	char **levels;		/* owned strings */
	uint64_t *level_counts;
	size_t n_levels;
};

void profile_release(struct profile *p);

/*
 * Numeric profile of `n` values (NAN = missing).  Sorts a copy; O(n log n).
 */
void profile_numeric(struct profile *p, const double *values, size_t n);

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
