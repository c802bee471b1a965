#ifndef MLOPS_BASELINE_H
#define MLOPS_BASELINE_H

/*
 * Baseline profiles of numeric columns over the training rows (see
 * baseline.c).  In every function, rows == NULL means x[i] for i < n,
 * else x[rows[i]].
 */

#include <stddef.h>

#include "dataset.h"
#include "profile.h"

/* The first pass's sums over the non-missing values. */
struct baseline_sums {
	size_t count;
	double sum, min, max;
};

/*
 * The first of two passes: sample the quantiles of p (a systematic
 * sample of PROFILE_SAMPLE values), count p's values, and fill s.
 */
void baseline_scan(struct profile *p, const double *x, const size_t *rows,
		   size_t n, struct baseline_sums *s);

/* The mean of the non-missing values, 0 if none. */
double baseline_mean(const struct baseline_sums *s);

/*
 * Complete p from s and sq, the sum of squares of the non-missing values
 * around baseline_mean(s): counts, mean, deviation, extremes, and the
 * quantiles clamped to the extremes.
 */
void baseline_finish(struct profile *p, const struct baseline_sums *s,
		     size_t n, double sq);

/* Both passes: the whole profile of the n values. */
void baseline_long(struct profile *p, const double *x, const size_t *rows,
		   size_t n);

/*
 * numpy's median of the non-missing values of c over rows (the mean of
 * the middle two), exact; 0 if every value is missing.
 */
double baseline_median(const struct ds_column *c, const size_t *rows,
		       size_t n);

#endif
