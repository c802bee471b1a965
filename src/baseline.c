/*
 * The baseline profile of a numeric column over the training rows (and
 * of the training predictions): the figures drift compares a batch with.
 * Counts, mean, deviation and extremes are exact; the quantiles come
 * from a systematic sample (see PROFILE_SAMPLE), which pins the CDF to
 * well within 0.01 while sorting a fraction of the data.  The median
 * used for imputation is exact too.
 *
 * This file computes; profile.c holds the struct and its other makers.
 * It knows nothing of encoding or solvers.
 */

#include <math.h>
#include <stdlib.h>

#include "baseline.h"
#include "xalloc.h"

/*
 * The baseline quantiles of a long column (and of the predictions) come
 * from a systematic sample of PROFILE_SAMPLE rows (every k-th training
 * row): that pins its CDF to well within 0.01 while sorting a fraction of
 * the data.  Counts, mean, deviation and extremes are always exact, and
 * so is the median used for imputation.
 */
#define PROFILE_SAMPLE 131072

/* k-th smallest of v[0..n) (v is reordered), by quickselect. */
static double select_kth(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		double pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;

		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				double t = v[i];

				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return v[k];
	}
	return v[k];
}

double baseline_median(const struct ds_column *c, const size_t *rows,
		       size_t n)
{
	double *v = xmallocarray(n ? n : 1, sizeof(double)), med;
	size_t i, m = 0;

	for (i = 0; i < n; i++)
		if (!isnan(c->num[rows[i]]))
			v[m++] = c->num[rows[i]];
	if (!m) {
		free(v);
		return 0;
	}
	med = select_kth(v, m, (m - 1) / 2);
	if (m % 2 == 0) {
		/* The upper middle is the smallest of the upper part. */
		double up = v[m / 2];
		size_t j;

		for (j = m / 2; j < m; j++)
			if (v[j] < up)
				up = v[j];
		med = med + (up - med) / 2;
	}
	free(v);
	return med;
}

void baseline_scan(struct profile *p, const double *x, const size_t *rows,
		   size_t n, struct baseline_sums *s)
{
	size_t step = n > PROFILE_SAMPLE ? (n + PROFILE_SAMPLE - 1) /
		      PROFILE_SAMPLE : 1;
	double *v = xmallocarray(n / step + 1, sizeof(double));
	double sum = 0, mn = INFINITY, mx = -INFINITY;
	size_t i, m = 0, count = 0, left = 0;

	for (i = 0; i < n; i++) {
		double xi = rows ? x[rows[i]] : x[i];

		if (!isnan(xi)) {
			count++;
			sum += xi;
			mn = xi < mn ? xi : mn;
			mx = xi > mx ? xi : mx;
		}
		/* Every step-th value, from the first. */
		if (!left) {
			v[m++] = xi;
			left = step;
		}
		left--;
	}
	profile_numeric(p, v, m);
	free(v);
	profile_count_values(p, x, rows, n);
	s->count = count;
	s->sum = sum;
	s->min = mn;
	s->max = mx;
}

double baseline_mean(const struct baseline_sums *s)
{
	return s->count ? s->sum / (double)s->count : 0;
}

void baseline_finish(struct profile *p, const struct baseline_sums *s,
		     size_t n, double sq)
{
	double mn = s->min, mx = s->max;
	size_t k;

	p->count = s->count;
	p->missing = n - s->count;
	if (!s->count)
		return;
	p->mean = baseline_mean(s);
	p->std = sqrt(sq / (double)s->count);
	p->min = mn;
	p->max = mx;
	if (p->quantiles) {
		p->quantiles[0] = mn;
		p->quantiles[PROFILE_QUANTILES] = mx;
		for (k = 1; k < PROFILE_QUANTILES; k++)
			p->quantiles[k] = fmin(fmax(p->quantiles[k], mn), mx);
	} else {
		/* Every sampled value was missing: a straight grid. */
		p->quantiles = xmallocarray(PROFILE_QUANTILES + 1,
					    sizeof(double));
		for (k = 0; k <= PROFILE_QUANTILES; k++)
			p->quantiles[k] = mn + (mx - mn) * (double)k /
					  PROFILE_QUANTILES;
	}
}

void baseline_long(struct profile *p, const double *x, const size_t *rows,
		   size_t n)
{
	struct baseline_sums s;
	double sq = 0, mean;
	size_t i;

	baseline_scan(p, x, rows, n, &s);
	mean = baseline_mean(&s);
	for (i = 0; i < n; i++) {
		double xi = rows ? x[rows[i]] : x[i];

		if (!isnan(xi))
			sq += (xi - mean) * (xi - mean);
	}
	baseline_finish(p, &s, n, sq);
}
