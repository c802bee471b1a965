/*
 * Column profiles: the baseline that `drift` compares new data against.
 *
 * A numeric profile keeps PROFILE_QUANTILES+1 evenly spaced quantiles
 * (numpy's "linear" definition), which pins the reference CDF to within
 * 1/PROFILE_QUANTILES everywhere: enough for KS, PSI and Wasserstein
 * without the training data.  It is built from a full column in memory;
 * streaming accumulation against a reference grid lives in drift.c.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "xalloc.h"

void profile_release(struct profile *p)
{
	size_t i;

	if (!p)
		return;
	free(p->quantiles);
	free(p->values);
	free(p->value_counts);
	free(p->gap_counts);
	free(p->gap_sums);
	for (i = 0; i < p->n_levels; i++)
		free(p->levels[i]);
	free(p->levels);
	free(p->level_counts);
	memset(p, 0, sizeof(*p));
}

/*
 * Sort doubles (no NaN) ascending by LSD radix sort on their bit
 * patterns, in six 11-bit digits: O(n), several times faster than qsort
 * on the large samples profiles are built from.  One pass counts every
 * digit; a digit all keys share is skipped.  2048 buckets keep the
 * counts in L1 and the scatter's write positions in L2.
 */
#define RADIX_BITS 11
#define RADIX_DIGITS ((64 + RADIX_BITS - 1) / RADIX_BITS)
#define RADIX_SIZE (1u << RADIX_BITS)

static uint64_t sort_key(double x)
{
	uint64_t b;

	memcpy(&b, &x, sizeof(b));
	/* Negative numbers reverse; positives go above them. */
	return b >> 63 ? ~b : b | 0x8000000000000000ULL;
}

static double sort_value(uint64_t k)
{
	uint64_t b = k >> 63 ? k & 0x7fffffffffffffffULL : ~k;
	double x;

	memcpy(&x, &b, sizeof(x));
	return x;
}

static void sort_doubles(double *v, size_t n)
{
	uint64_t *key = xmallocarray(n ? n : 1, sizeof(uint64_t));
	uint64_t *tmp = xmallocarray(n ? n : 1, sizeof(uint64_t));
	size_t *count = xcalloc(RADIX_DIGITS * RADIX_SIZE, sizeof(size_t));
	size_t i, d;

	for (i = 0; i < n; i++) {
		uint64_t k = sort_key(v[i]);

		key[i] = k;
		for (d = 0; d < RADIX_DIGITS; d++)
			count[d * RADIX_SIZE +
			      ((k >> (d * RADIX_BITS)) & (RADIX_SIZE - 1))]++;
	}
	for (d = 0; d < RADIX_DIGITS; d++) {
		size_t *c = count + d * RADIX_SIZE, sum = 0, b;
		unsigned shift = (unsigned)(d * RADIX_BITS);
		uint64_t *t;

		if (n && c[(key[0] >> shift) & (RADIX_SIZE - 1)] == n)
			continue;
		for (b = 0; b < RADIX_SIZE; b++) {
			size_t k = c[b];

			c[b] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
			tmp[c[(key[i] >> shift) & (RADIX_SIZE - 1)]++] = key[i];
		t = key;
		key = tmp;
		tmp = t;
	}
	for (i = 0; i < n; i++)
		v[i] = sort_value(key[i]);
	free(key);
	free(tmp);
	free(count);
}

void profile_numeric(struct profile *p, const double *values, size_t n)
{
	double *v = xmallocarray(n ? n : 1, sizeof(*v));
	double sum = 0, sq = 0, mean;
	size_t i, m = 0;

	memset(p, 0, sizeof(*p));
	p->kind = PROFILE_NUMERIC;
	for (i = 0; i < n; i++)
		if (!isnan(values[i]))
			v[m++] = values[i];
	p->count = m;
	p->missing = n - m;
	if (!m) {
		free(v);
		return;
	}
	sort_doubles(v, m);
	for (i = 0; i < m; i++)
		sum += v[i];
	mean = sum / (double)m;
	for (i = 0; i < m; i++)
		sq += (v[i] - mean) * (v[i] - mean);
	p->min = v[0];
	p->max = v[m - 1];
	p->mean = mean;
	p->std = sqrt(sq / (double)m);
	p->quantiles = xmallocarray(PROFILE_QUANTILES + 1, sizeof(double));
	for (i = 0; i <= PROFILE_QUANTILES; i++) {
		double pos = (double)i * (double)(m - 1) / PROFILE_QUANTILES;
		size_t lo = (size_t)pos;
		double frac = pos - (double)lo;

		if (lo + 1 < m)
			p->quantiles[i] = v[lo] + frac * (v[lo + 1] - v[lo]);
		else
			p->quantiles[i] = v[m - 1];
	}
	free(v);
}

void profile_set_values(struct profile *p, const double *v, size_t n)
{
	size_t i, k = 0;

	free(p->values);
	free(p->value_counts);
	p->values = xmallocarray(n ? n : 1, sizeof(double));
	p->value_counts = xcalloc(n ? n : 1, sizeof(uint64_t));
	for (i = 0; i < n; i++) {
		if (!k || v[i] != p->values[k - 1])
			p->values[k++] = v[i];
		p->value_counts[k - 1]++;
	}
	p->n_values = k;
}

void profile_count_values(struct profile *p, const double *x,
			  const size_t *rows, size_t n)
{
	double val[PROFILE_MAX_VALUES];
	uint64_t cnt[PROFILE_MAX_VALUES];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		double xi = rows ? x[rows[i]] : x[i];
		size_t lo = 0, hi = k;

		if (isnan(xi))
			continue;
		/* -0 and 0 are one value, as == and sorting see them. */
		if (xi == 0)
			xi = 0;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (val[mid] < xi)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < k && val[lo] == xi) {
			cnt[lo]++;
			continue;
		}
		if (k == PROFILE_MAX_VALUES)
			return;
		memmove(val + lo + 1, val + lo, (k - lo) * sizeof(double));
		memmove(cnt + lo + 1, cnt + lo, (k - lo) * sizeof(uint64_t));
		val[lo] = xi;
		cnt[lo] = 1;
		k++;
	}
	if (!k)
		return;
	p->values = xmallocarray(k, sizeof(double));
	p->value_counts = xmallocarray(k, sizeof(uint64_t));
	memcpy(p->values, val, k * sizeof(double));
	memcpy(p->value_counts, cnt, k * sizeof(uint64_t));
	p->n_values = k;
}

void profile_categorical(struct profile *p, const int32_t *codes, size_t n,
			 char *const *levels, size_t n_levels)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->kind = PROFILE_CATEGORICAL;
	p->n_levels = n_levels;
	p->levels = xcalloc(n_levels ? n_levels : 1, sizeof(char *));
	p->level_counts = xcalloc(n_levels ? n_levels : 1, sizeof(uint64_t));
	for (i = 0; i < n_levels; i++)
		p->levels[i] = xstrdup(levels[i]);
	for (i = 0; i < n; i++) {
		if (codes[i] < 0 || (size_t)codes[i] >= n_levels) {
			p->missing++;
		} else {
			p->level_counts[codes[i]]++;
			p->count++;
		}
	}
}

double profile_cdf(const struct profile *p, double x)
{
	const double *q = p->quantiles;
	size_t lo = 0, hi = PROFILE_QUANTILES;

	if (!q || x < q[0])
		return 0;
	if (x >= q[PROFILE_QUANTILES])
		return 1;
	/* Largest lo with q[lo] <= x; then interpolate within the step. */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (q[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	if (q[lo + 1] > q[lo])
		return ((double)lo + (x - q[lo]) / (q[lo + 1] - q[lo])) /
		       PROFILE_QUANTILES;
	return (double)lo / PROFILE_QUANTILES;
}
