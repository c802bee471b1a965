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
	for (i = 0; i < p->n_levels; i++)
		free(p->levels[i]);
	free(p->levels);
	free(p->level_counts);
	memset(p, 0, sizeof(*p));
}

/*
 * Sort doubles (no NaN) ascending by radix sort on their bit patterns:
 * O(n), several times faster than qsort on the large samples profiles
 * are built from.  LSD passes of 11-bit digits (2048 buckets keep the
 * counts in L1 and the scatter's write positions in L2), first over the
 * top 33 bits only: sign, exponent and 21 bits of mantissa leave few
 * keys tied, and each run of ties is then put in order by its low bits,
 * by insertion when short, by the same passes when long.  Half the
 * passes of sorting all 64 bits for data with noisy low bits, and no
 * worse when a digit is shared by every key: such a digit is skipped.
 */
#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_SPLIT 31		/* low bits, sorted within ties */
#define RADIX_SHORT 16		/* runs up to this long: insertion */

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

/* Digit d of key k for a sort on bits [lo, hi). */
static size_t radix_digit(uint64_t k, unsigned lo, unsigned hi, size_t d)
{
	unsigned shift = lo + (unsigned)d * RADIX_BITS;
	unsigned bits = hi - shift < RADIX_BITS ? hi - shift : RADIX_BITS;

	return (size_t)((k >> shift) & ((1u << bits) - 1));
}

/*
 * LSD radix sort of key[0, n) on bits [lo, hi), 11 at a time, with tmp
 * as room for n keys; the result ends in key.  `count` holds 3 digits'
 * buckets (hi - lo <= 33).
 */
static void radix_bits(uint64_t *key, uint64_t *tmp, size_t n, unsigned lo,
		       unsigned hi, size_t *count)
{
	uint64_t *src = key, *dst = tmp, *t;
	size_t i, d, nd = (hi - lo + RADIX_BITS - 1) / RADIX_BITS;

	if (n < 2)
		return;
	memset(count, 0, nd * RADIX_SIZE * sizeof(*count));
	for (i = 0; i < n; i++)
		for (d = 0; d < nd; d++)
			count[d * RADIX_SIZE + radix_digit(key[i], lo, hi, d)]++;
	for (d = 0; d < nd; d++) {
		size_t *c = count + d * RADIX_SIZE, sum = 0, b, k;

		if (c[radix_digit(src[0], lo, hi, d)] == n)
			continue;
		for (b = 0; b < RADIX_SIZE; b++) {
			k = c[b];
			c[b] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
			dst[c[radix_digit(src[i], lo, hi, d)]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != key)
		memcpy(key, src, n * sizeof(*key));
}

static void sort_doubles(double *v, size_t n)
{
	uint64_t *key = xmallocarray(n ? n : 1, sizeof(uint64_t));
	uint64_t *tmp = xmallocarray(n ? n : 1, sizeof(uint64_t));
	size_t *count = xmallocarray(3 * RADIX_SIZE, sizeof(size_t));
	size_t i, j, k;

	for (i = 0; i < n; i++)
		key[i] = sort_key(v[i]);
	radix_bits(key, tmp, n, RADIX_SPLIT, 64, count);
	for (i = 0; i < n; i = j) {
		uint64_t high = key[i] >> RADIX_SPLIT;

		for (j = i + 1; j < n && key[j] >> RADIX_SPLIT == high; j++)
			;
		if (j - i > RADIX_SHORT) {
			radix_bits(key + i, tmp, j - i, 0, RADIX_SPLIT, count);
			continue;
		}
		for (k = i + 1; k < j; k++) {
			uint64_t x = key[k];
			size_t m = k;

			for (; m > i && key[m - 1] > x; m--)
				key[m] = key[m - 1];
			key[m] = x;
		}
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
