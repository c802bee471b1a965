/*
 * Drift statistics from counts on a reference grid (see drift.h).
 *
 * For a numeric column the grid is g[0..N-1], ascending: the reference's
 * exact distinct values when its profile has them (few distinct values in
 * training, or a --reference file that fits its sample), else its
 * PROFILE_QUANTILES + 1 quantiles (which may repeat).  For each current
 * value v we find k1 = first k with g[k] >= v and k2 = first k with
 * g[k] > v, and bump le[k1] and lt[k2]; prefix sums then give, at every
 * grid point, #(v <= g[k]) and #(v < g[k]).  On an exact grid a value
 * off the grid (k1 == k2) also adds its distance from the interval's
 * lower end g[k1-1] (from g[0] below the grid) to insum[k1], so that the
 * Wasserstein integral sees where in an interval the values lie.
 *
 * Two empirical CDFs are step functions that jump only at their own
 * values, so on an exact grid the largest gap between them is at a grid
 * point or just below one: KS D is exact.  On a quantile grid the
 * reference CDF is known at the grid points to within 1/n of its nominal
 * k/Q and moves by 1/Q between them: D is stated with the bound
 * 1/Q + 1/n, and the verdict taken at D minus it.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "model.h"
#include "score.h"
#include "xalloc.h"

#define Q PROFILE_QUANTILES
/* `auto` tests (ks, chi2) up to this many values on either side. */
#define AUTO_SMALL 1000
#define PSI_FLOOR 1e-4
#define WASSERSTEIN_STD_FLOOR 0.001
#define KS_EXACT_MAX 10000	/* scipy's MAX_AUTO_N */
#define DEFER_GRID 8192		/* see drift_acc.defer */
#define BATCH_VALUES 16384	/* see drift_acc_flush() */
#define SORT_BINS 1024

/* A total's values held back, and count_batch()'s scratch. */
struct drift_batch {
	double *val;		/* 2 x cap: the values, then sorted */
	uint32_t *bin;		/* 2 x cap: their lookup buckets */
	size_t n, cap;
	uint32_t start[SORT_BINS + 3];
};

static const char *const method_names[] = {
	"auto", "psi", "ks", "wasserstein", "chi2", "js"
};

const char *drift_method_name(enum drift_method m)
{
	return method_names[m];
}

int drift_method_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (!strcmp(s, method_names[i]))
			return (int)i;
	return -1;
}

/*
 * A lookup table over [g0, gN-1] in lut_n equal buckets.  bucket() is
 * monotone in x (a rounded subtraction and product, then truncation),
 * so a grid point in an earlier bucket than x's is below x and one in a
 * later bucket above it.  For bucket b the table holds A, the number of
 * grid points in earlier buckets, and C, that number plus those in b.
 * When b's own points are all one value u (or there are none), the grid
 * positions of x are A or C by one comparison with u = g[A]: the first
 * k with g[k] >= x is A if x <= u, else C.  A bucket holding two
 * distinct points is flagged (LUT_MIXED) and searched within [A, C).
 */
#define LUT_MIXED 0x8000000000000000ull
#define LUT_C(e) ((size_t)(((e) & ~LUT_MIXED) >> 32))

static inline size_t bucket(const struct drift_acc *a, double x)
{
	size_t b = (size_t)((x - a->lut_lo) * a->lut_scale);

	return b < a->lut_n ? b : a->lut_n - 1;
}

static void build_lut(struct drift_acc *a)
{
	const double *g = a->grid;
	size_t b, k = 0, lo, N = a->n_grid;

	if (!g || N < 2 || !(g[N - 1] > g[0]))
		return;
	/* About a bucket per grid point, at least 2048, at most 32768. */
	a->lut_n = 2048;
	while (a->lut_n < N && a->lut_n < (1u << 15))
		a->lut_n *= 2;
	a->lut_lo = g[0];
	a->lut_scale = (double)a->lut_n / (g[N - 1] - g[0]);
	if (!isfinite(a->lut_scale) || a->lut_scale <= 0)
		return;
	a->lut = xcalloc(a->lut_n, sizeof(*a->lut));
	for (b = 0; b < a->lut_n; b++) {
		lo = k;
		while (k < N && bucket(a, g[k]) == b)
			k++;
		a->lut[b] = (uint64_t)lo | (uint64_t)k << 32;
		if (k > lo + 1 && g[k - 1] != g[lo])
			a->lut[b] |= LUT_MIXED;
	}
}

static void acc_init(struct drift_acc *a, const struct profile *ref)
{
	memset(a, 0, sizeof(*a));
	a->ref = ref;
	a->min = INFINITY;
	a->max = -INFINITY;
	if (ref->kind == PROFILE_NUMERIC) {
		if (ref->n_values) {
			a->grid = ref->values;
			a->n_grid = ref->n_values;
			a->exact = 1;
			a->insum = xcalloc(a->n_grid + 1, sizeof(double));
		} else {
			a->grid = ref->quantiles;
			a->n_grid = Q + 1;
		}
		a->le = xcalloc(a->n_grid + 1, sizeof(uint64_t));
		a->lt = xcalloc(a->n_grid + 1, sizeof(uint64_t));
	} else {
		a->levels = xcalloc(ref->n_levels + 1, sizeof(uint64_t));
	}
}

void drift_acc_init(struct drift_acc *a, const struct profile *ref)
{
	acc_init(a, ref);
	if (ref->kind == PROFILE_NUMERIC)
		build_lut(a);
}

void drift_acc_init_like(struct drift_acc *a, const struct drift_acc *proto)
{
	if (proto->exact && proto->n_grid > DEFER_GRID) {
		memset(a, 0, sizeof(*a));
		a->ref = proto->ref;
		a->min = INFINITY;
		a->max = -INFINITY;
		a->defer = 1;
		return;
	}
	acc_init(a, proto->ref);
	a->lut = proto->lut;
	a->lut_n = proto->lut_n;
	a->lut_lo = proto->lut_lo;
	a->lut_scale = proto->lut_scale;
	a->lut_borrowed = 1;
	a->keep_cap = proto->keep_cap;
}

void drift_acc_release(struct drift_acc *a)
{
	if (!a)
		return;
	free(a->le);
	free(a->lt);
	free(a->insum);
	free(a->levels);
	free(a->kept);
	free(a->pending);
	if (a->batch) {
		free(a->batch->val);
		free(a->batch->bin);
		free(a->batch);
	}
	if (!a->lut_borrowed)
		free(a->lut);
	memset(a, 0, sizeof(*a));
}

/* The first k in [lo, hi) with g[k] >= x, or hi. */
static inline size_t grid_search(const double *g, size_t lo, size_t hi,
				 double x)
{
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (g[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Keep the non-missing values of x while they fit (see drift_set_keep). */
static void keep_values(struct drift_acc *a, const double *x, size_t n,
			size_t stride)
{
	size_t i;

	for (i = 0; i < n && !a->kept_over; i++) {
		double v = x[i * stride];

		if (v != v)
			continue;
		if (a->n_kept == a->keep_cap) {
			free(a->kept);
			a->kept = NULL;
			a->n_kept = a->kept_alloc = 0;
			a->kept_over = 1;
			break;
		}
		if (a->n_kept == a->kept_alloc) {
			a->kept_alloc = a->kept_alloc ? 2 * a->kept_alloc : 4096;
			if (a->kept_alloc > a->keep_cap)
				a->kept_alloc = a->keep_cap;
			a->kept = xreallocarray(a->kept, a->kept_alloc,
						sizeof(double));
		}
		a->kept[a->n_kept++] = v;
	}
}

/*
 * The per-value loop, inlined three times so that a quantile grid
 * (`exact` 0, the baseline's usual case and score-batch's) pays nothing
 * for the exact grid's distance sums, and the plain loops nothing for
 * batching.  With `hold` (a large exact grid's batch, see batched()) it
 * keeps the moments and the distances outside the grid and copies the
 * values to hold, to be counted later; it returns how many it copied.
 */
static inline __attribute__((always_inline)) size_t
numeric_loop(struct drift_acc *a, const double *x, size_t n, size_t stride,
	     const int exact, double *const hold)
{
	const double *g = a->grid;
	size_t N = a->n_grid;
	/* Running sums in registers, written back once. */
	uint64_t count = 0, missing = 0;
	double sum = 0, sumsq = 0, mn = a->min, mx = a->max;
	double below = 0, above = 0;
	size_t i, k1, k2, held = 0;

	for (i = 0; i < n; i++) {
		double v = x[i * stride];

		if (v != v) {
			missing++;
			continue;
		}
		count++;
		sum += v;
		sumsq += v * v;
		mn = v < mn ? v : mn;
		mx = v > mx ? v : mx;
		if (!g)
			continue;
		if (hold) {
			if (v < g[0])
				below += g[0] - v;
			else if (v > g[N - 1])
				above += v - g[N - 1];
			hold[held++] = v;
			continue;
		}
		if (a->lut && v >= g[0] && v <= g[N - 1]) {
			uint64_t e = a->lut[bucket(a, v)];
			size_t A = (size_t)(uint32_t)e, C = LUT_C(e);

			if (!(e & LUT_MIXED)) {
				double u = g[A];

				k1 = v <= u ? A : C;
				k2 = v < u ? A : C;
			} else {
				k1 = grid_search(g, A, C, v);
				for (k2 = k1; k2 < C && g[k2] <= v; k2++)
					;
			}
		} else {
			if (v < g[0])
				below += g[0] - v;
			else if (v > g[N - 1])
				above += v - g[N - 1];
			k1 = grid_search(g, 0, N, v);
			/* k2: first g[k] > v; the same unless v sits on the grid. */
			for (k2 = k1; k2 < N && g[k2] <= v; k2++)
				;
		}
		a->le[k1]++;
		a->lt[k2]++;
		if (exact && k1 == k2)
			a->insum[k1] += k1 == 0 ? g[0] - v : v - g[k1 - 1];
	}
	a->count += count;
	a->missing += missing;
	a->sum += sum;
	a->sumsq += sumsq;
	a->min = mn;
	a->max = mx;
	a->below += below;
	a->above += above;
	return held;
}

/*
 * Against a large exact grid (tens of thousands of points: the tables of
 * one column no longer fit the cache) a value counted where it comes
 * costs a cache miss in the lookup table, the grid and each count array,
 * for every value.  A total fed by deferred per-chunk accumulators (see
 * drift_acc.defer) therefore takes each chunk's moments at once, in
 * input order (the same to the bit as numeric_loop()), but holds its
 * values back in a batch of about BATCH_VALUES, counted all together in
 * value order, coarsely: a counting sort over SORT_BINS ranges of lookup
 * buckets, then range by range, so that the tables are walked front to
 * back, each line fetched once per batch rather than once per value.
 * Grid positions come from the same lookup table as in numeric_loop()
 * (a bucket's own points, when at most four, compared without a branch),
 * so the counts are the same integers; only the order in which insum
 * adds the values of one interval changes.  (Sorting only pays against
 * a large grid: the 1025-point grid a large reference is recounted on
 * fits the cache and keeps numeric_loop().)
 *
 * The batch is counted when full, and by drift_acc_flush() before
 * anything reads the counts (drift_test() and drift_acc_merge() do it
 * themselves): the counts are reached through pointers, so a const
 * accumulator can still be brought up to date.
 */
static int batched(const struct drift_acc *a)
{
	return a->insum && a->lut && !a->defer && a->n_grid > DEFER_GRID;
}

/* Count the batch's values on the grid and empty it. */
static void count_batch(const struct drift_acc *a)
{
	struct drift_batch *bt = a->batch;
	const double *g = a->grid;
	size_t N = a->n_grid, m, i, b, k1, k2, shift = 0;
	double *val, *out;
	uint32_t *start, *bin, *out_bin;

	if (!bt || !bt->n)
		return;
	m = bt->n;
	val = bt->val;
	out = bt->val + bt->cap;
	bin = bt->bin;
	out_bin = bt->bin + bt->cap;
	start = bt->start;
	while ((a->lut_n >> shift) > SORT_BINS)
		shift++;
	/*
	 * Each value's lookup bucket, lut_n below the grid, lut_n + 1
	 * above it; sorted on bucket >> shift (bin 0 below the grid,
	 * SORT_BINS + 1 above), the value and its bucket side by side.
	 */
	memset(start, 0, sizeof(bt->start));
	for (i = 0; i < m; i++) {
		double v = val[i];
		uint32_t u, c;

		if (v < g[0]) {
			u = (uint32_t)a->lut_n;
			c = 0;
		} else if (v > g[N - 1]) {
			u = (uint32_t)a->lut_n + 1;
			c = SORT_BINS + 1;
		} else {
			u = (uint32_t)bucket(a, v);
			c = 1 + (u >> shift);
		}
		bin[i] = u;
		start[c + 1]++;
	}
	for (b = 1; b <= SORT_BINS + 2; b++)
		start[b] += start[b - 1];
	for (i = 0; i < m; i++) {
		uint32_t u = bin[i];
		size_t c = u >= a->lut_n ? (u - a->lut_n) * (SORT_BINS + 1) :
			   1 + (u >> shift), to = start[c]++;

		out[to] = val[i];
		out_bin[to] = u;
	}
	for (i = 0; i < m; i++) {
		double v = out[i], lo, d;
		uint32_t u = out_bin[i];

		if (u >= a->lut_n) {
			/* Beyond the grid: only a distance from its end. */
			k1 = k2 = u == a->lut_n ? 0 : N;
		} else {
			uint64_t e = a->lut[u];
			size_t A = (size_t)(uint32_t)e, C = LUT_C(e), j;

			/*
			 * Only the bucket's own points can lie on either
			 * side of v: count those below it and those at or
			 * below it, without a branch when they are few.
			 */
			if (C - A <= 4) {
				k1 = k2 = A;
				for (j = 0; j < 4; j++) {
					size_t at = A + j < N ? A + j : N - 1;
					size_t in = A + j < C;

					k1 += in & (g[at] < v);
					k2 += in & (g[at] <= v);
				}
			} else {
				k1 = grid_search(g, A, C, v);
				for (k2 = k1; k2 < C && g[k2] <= v; k2++)
					;
			}
		}
		a->le[k1]++;
		a->lt[k2]++;
		/* Off the grid (k1 == k2): the distance from the interval's
		 * lower end, from g[0] below it; + 0 on it changes nothing. */
		lo = g[k1 ? k1 - 1 : 0];
		d = k1 ? v - lo : lo - v;
		a->insum[k1] += k1 == k2 ? d : 0;
	}
	bt->n = 0;
}

void drift_acc_flush(const struct drift_acc *a)
{
	count_batch(a);
}

/* numeric_loop()'s moments of x[0..n), and its values into the batch. */
static void batch_values(struct drift_acc *a, const double *x, size_t n)
{
	struct drift_batch *bt = a->batch;

	if (!bt)
		bt = a->batch = xcalloc(1, sizeof(*bt));
	if (bt->n + n > bt->cap) {
		double *nv;

		bt->cap = bt->n + n > BATCH_VALUES ? bt->n + n : BATCH_VALUES;
		nv = xmallocarray(2 * bt->cap, sizeof(double));
		if (bt->n)	/* bt->val is NULL before the first batch */
			memcpy(nv, bt->val, bt->n * sizeof(double));
		free(bt->val);
		bt->val = nv;
		free(bt->bin);
		bt->bin = xmallocarray(2 * bt->cap, sizeof(uint32_t));
	}
	bt->n += numeric_loop(a, x, n, 1, 1, bt->val + bt->n);
	if (bt->n >= BATCH_VALUES)
		count_batch(a);
}

void drift_acc_numeric_many(struct drift_acc *a, const double *x, size_t n,
			    size_t stride)
{
	size_t i;

	if (a->defer) {
		if (a->n_pending + n > a->pending_cap) {
			while (a->n_pending + n > a->pending_cap)
				a->pending_cap = a->pending_cap ?
						 2 * a->pending_cap : 4096;
			a->pending = xreallocarray(a->pending, a->pending_cap,
						   sizeof(double));
		}
		for (i = 0; i < n; i++)
			a->pending[a->n_pending++] = x[i * stride];
		return;
	}
	if (a->keep_cap && !a->kept_over)
		keep_values(a, x, n, stride);
	if (a->insum)
		numeric_loop(a, x, n, stride, 1, NULL);
	else
		numeric_loop(a, x, n, stride, 0, NULL);
}

void drift_acc_numeric(struct drift_acc *a, double x)
{
	drift_acc_numeric_many(a, &x, 1, 1);
}

void drift_acc_level(struct drift_acc *a, long level)
{
	if (level == -1) {
		a->missing++;
		return;
	}
	a->count++;
	if (level < 0 || (size_t)level >= a->ref->n_levels)
		a->levels[a->ref->n_levels]++;
	else
		a->levels[level]++;
}

void drift_acc_clear(struct drift_acc *a)
{
	a->count = a->missing = 0;
	a->sum = a->sumsq = a->below = a->above = 0;
	a->min = INFINITY;
	a->max = -INFINITY;
	if (a->le) {
		memset(a->le, 0, (a->n_grid + 1) * sizeof(uint64_t));
		memset(a->lt, 0, (a->n_grid + 1) * sizeof(uint64_t));
	}
	if (a->insum)
		memset(a->insum, 0, (a->n_grid + 1) * sizeof(double));
	if (a->levels)
		memset(a->levels, 0, (a->ref->n_levels + 1) * sizeof(uint64_t));
	a->n_kept = 0;
	a->kept_over = 0;
	a->n_pending = 0;
	if (a->batch)
		a->batch->n = 0;
}

void drift_acc_merge(struct drift_acc *a, const struct drift_acc *b)
{
	size_t k;

	if (b->defer) {
		if (!batched(a)) {
			drift_acc_numeric_many(a, b->pending, b->n_pending, 1);
			return;
		}
		if (a->keep_cap && !a->kept_over)
			keep_values(a, b->pending, b->n_pending, 1);
		batch_values(a, b->pending, b->n_pending);
		return;
	}
	drift_acc_flush(a);
	drift_acc_flush(b);
	a->count += b->count;
	a->missing += b->missing;
	a->sum += b->sum;
	a->sumsq += b->sumsq;
	if (b->min < a->min)
		a->min = b->min;
	if (b->max > a->max)
		a->max = b->max;
	a->below += b->below;
	a->above += b->above;
	if (a->le)
		for (k = 0; k <= a->n_grid; k++) {
			a->le[k] += b->le[k];
			a->lt[k] += b->lt[k];
		}
	if (a->insum && b->insum)
		for (k = 0; k <= a->n_grid; k++)
			a->insum[k] += b->insum[k];
	if (a->levels)
		for (k = 0; k <= a->ref->n_levels; k++)
			a->levels[k] += b->levels[k];
	if (!a->keep_cap || a->kept_over)
		return;
	if (b->kept_over || a->n_kept + b->n_kept > a->keep_cap) {
		free(a->kept);
		a->kept = NULL;
		a->n_kept = a->kept_alloc = 0;
		a->kept_over = 1;
		return;
	}
	if (!b->n_kept)
		return;
	if (a->n_kept + b->n_kept > a->kept_alloc) {
		a->kept_alloc = a->n_kept + b->n_kept;
		a->kept = xreallocarray(a->kept, a->kept_alloc, sizeof(double));
	}
	memcpy(a->kept + a->n_kept, b->kept, b->n_kept * sizeof(double));
	a->n_kept += b->n_kept;
}

/* ---- distributions ---- */

/* Kolmogorov's limiting survival function, Q_KS(lambda). */
static double kolmogorov_sf(double lambda)
{
	double sum = 0, term, sign = 1;
	int k;

	if (lambda < 0.2)
		return 1;
	for (k = 1; k <= 100; k++) {
		term = sign * exp(-2.0 * k * k * lambda * lambda);
		sum += term;
		if (fabs(term) < 1e-12 * fabs(sum))
			break;
		sign = -sign;
	}
	sum *= 2;
	return sum < 0 ? 0 : sum > 1 ? 1 : sum;
}

static double ks_asymptotic(double d, double n, double m)
{
	double ne = n * m / (n + m), sq = sqrt(ne);

	/* Stephens' small-sample correction of the asymptotic form. */
	return kolmogorov_sf((sq + 0.12 + 0.11 / sq) * d);
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * P(D >= h/n) for two samples of n values each: 2 (A0 (1 - A1 (1 - A2
 * (...)))) with Ak = binom(2n, n - (k+1)h) / binom(2n, n - kh) as
 * products, innermost first (Hodges; no cancellation).
 */
static double ks_square(uint64_t n, uint64_t h)
{
	double p = 0;
	long long k;
	uint64_t j;

	for (k = (long long)(n / h); k >= 0; k--) {
		double p1 = 1;
		uint64_t kh = (uint64_t)k * h;

		for (j = 0; j < h; j++)
			p1 = ((double)n - (double)kh - (double)j) * p1 /
			     ((double)n + (double)kh + (double)j + 1);
		p = p1 * (1 - p);
	}
	return 2 * p;
}

/*
 * 1 - P(paths from (0,0) to (m,n) stay strictly inside |nx - my| < h g),
 * by columns, recursing on the complement (Viehmann 2021) so that every
 * entry is a probability: no overflow, no cancellation.  m >= n.
 */
static double ks_inside(uint64_t m, uint64_t n, uint64_t g, uint64_t h)
{
	uint64_t mg = m / g, ng = n / g, i;
	long long minj = 0, maxj, lastminj, curlen, lastlen, jj, len;
	double *A, val, ret;

	maxj = (long long)ceil((double)h / (double)mg);
	if (maxj > (long long)n + 1)
		maxj = (long long)n + 1;
	curlen = maxj;
	A = xmallocarray(n + 2, sizeof(double));
	for (jj = 0; jj < (long long)n + 2; jj++)
		A[jj] = jj < maxj ? 0 : 1;
	for (i = 1; i <= m; i++) {
		lastminj = minj;
		lastlen = curlen;
		minj = (long long)floor(((double)(ng * i) - (double)h) /
					(double)mg) + 1;
		if (minj < 0)
			minj = 0;
		if (minj > (long long)n)
			minj = (long long)n;
		maxj = (long long)ceil(((double)(ng * i) + (double)h) /
				       (double)mg);
		if (maxj > (long long)n + 1)
			maxj = (long long)n + 1;
		if (maxj <= minj) {
			free(A);
			return 1;
		}
		val = minj == 0 ? 0 : 1;
		len = maxj - minj;
		for (jj = 0; jj < len; jj++) {
			long long j = jj + minj;

			val = (A[jj + minj - lastminj] * (double)i +
			       val * (double)j) / (double)(i + (uint64_t)j);
			A[jj] = val;
		}
		curlen = len;
		for (jj = len; jj < len + (lastlen - curlen) &&
		     jj < (long long)n + 2; jj++)
			A[jj] = 1;
	}
	ret = A[maxj - minj - 1];
	free(A);
	return ret;
}

double drift_ks_pvalue(double d, double n, double m)
{
	uint64_t n1 = (uint64_t)n, n2 = (uint64_t)m, g, lcm, h;
	double p;

	if (!(d > 0) || n < 1 || m < 1)
		return 1;
	if (n > KS_EXACT_MAX || m > KS_EXACT_MAX || n != floor(n) ||
	    m != floor(m))
		return ks_asymptotic(d, n, m);
	/*
	 * The lattice walk costs n times a window growing with D: far in
	 * the tail, where no threshold lives, the limit is close enough.
	 */
	if ((p = ks_asymptotic(d, n, m)) < 1e-10)
		return p;
	/* As scipy: D is a multiple of 1/lcm(n, m); h counts them. */
	g = gcd(n1, n2);
	lcm = n1 / g * n2;
	h = (uint64_t)llround(d * (double)lcm);
	if (!h)
		return 1;
	if (h > lcm)
		h = lcm;
	p = n1 == n2 ? ks_square(n1, h) :
	    ks_inside(n1 > n2 ? n1 : n2, n1 > n2 ? n2 : n1, g, h);
	if (!(p >= 0 && p <= 1))
		return ks_asymptotic(d, n, m);
	return p;
}

/* Regularised upper incomplete gamma Q(s, x). */
static double gamma_q(double s, double x)
{
	double gln = lgamma(s), sum, del, ap, b, c, d, h;
	int i;

	if (x <= 0)
		return 1;
	if (x < s + 1) {
		/* Series for P, then Q = 1 - P. */
		ap = s;
		sum = del = 1 / s;
		for (i = 0; i < 10000; i++) {
			ap += 1;
			del *= x / ap;
			sum += del;
			if (fabs(del) < fabs(sum) * 1e-15)
				break;
		}
		return 1 - sum * exp(-x + s * log(x) - gln);
	}
	/* Continued fraction for Q (modified Lentz). */
	b = x + 1 - s;
	c = 1 / 1e-300;
	d = 1 / b;
	h = d;
	for (i = 1; i < 10000; i++) {
		double an = -i * (i - s);

		b += 2;
		d = an * d + b;
		if (fabs(d) < 1e-300)
			d = 1e-300;
		c = b + an / c;
		if (fabs(c) < 1e-300)
			c = 1e-300;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) < 1e-15)
			break;
	}
	return exp(-x + s * log(x) - gln) * h;
}

double drift_chi2_sf(double x, double df)
{
	if (df <= 0)
		return 1;
	return gamma_q(df / 2, x / 2);
}

/* ---- numeric tests ---- */

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/*
 * Reference CDF at q[k] and just below it, from the quantile definition:
 * with ties, a run q[a..b] of equal values means the reference mass at
 * that value spans the probabilities a/Q..b/Q.
 */
static void ref_cdf_at(const double *q, size_t k, double *at, double *below)
{
	size_t a = k, b = k;

	while (a > 0 && q[a - 1] == q[k])
		a--;
	while (b < Q && q[b + 1] == q[k])
		b++;
	*below = (double)a / Q;
	*at = (double)b / Q;
	if (a == 0 && b == 0)
		*below = 0;
}

/*
 * The numbers every numeric test reads, on the accumulator's grid:
 * current counts at or below (cle) and below (clt) each grid point, and
 * the reference's (rle, rlt; exact grid) -- all as fractions.
 */
struct cdfs {
	size_t N;
	double m, nr;
	double *cle, *clt, *rle, *rlt;
	double *rgap;		/* reference mass inside interval k */
	double *rgsum;		/* and its distance sum (see profile.h) */
};

static void cdfs_init(struct cdfs *c, const struct drift_acc *a)
{
	const struct profile *ref = a->ref;
	uint64_t cle = 0, clt = 0, rle = 0, rlt = 0, total = 0;
	size_t k, N = a->n_grid;

	memset(c, 0, sizeof(*c));
	c->N = N;
	c->m = (double)a->count;
	c->cle = xmallocarray(N + 1, sizeof(double));
	c->clt = xmallocarray(N + 1, sizeof(double));
	for (k = 0; k <= N; k++) {
		cle += a->le[k];
		clt += a->lt[k];
		c->cle[k] = (double)cle / c->m;
		c->clt[k] = (double)clt / c->m;
	}
	if (!a->exact)
		return;
	for (k = 0; k < N; k++)
		total += ref->value_counts[k] +
			 (ref->gap_counts ? ref->gap_counts[k] : 0);
	if (ref->gap_counts)
		total += ref->gap_counts[N];
	c->nr = (double)total;
	c->rle = xmallocarray(N + 1, sizeof(double));
	c->rlt = xmallocarray(N + 1, sizeof(double));
	c->rgap = xcalloc(N + 1, sizeof(double));
	c->rgsum = xcalloc(N + 1, sizeof(double));
	for (k = 0; k <= N; k++) {
		uint64_t gap = ref->gap_counts ? ref->gap_counts[k] : 0;

		rlt = rle + gap;
		rle = rlt + (k < N ? ref->value_counts[k] : 0);
		c->rlt[k] = (double)rlt / c->nr;
		c->rle[k] = (double)rle / c->nr;
		c->rgap[k] = (double)gap;
		c->rgsum[k] = ref->gap_sums ? ref->gap_sums[k] : 0;
	}
}

static void cdfs_release(struct cdfs *c)
{
	free(c->cle);
	free(c->clt);
	free(c->rle);
	free(c->rlt);
	free(c->rgap);
	free(c->rgsum);
}

/*
 * KS on an exact grid: the largest gap at a grid point or just below one
 * (exact when the reference has no mass between grid points); the error
 * bound is the largest mass either side has inside one interval where
 * both have some.
 */
static double ks_exact_grid(const struct cdfs *c, double *err)
{
	double d = 0, e = 0;
	size_t k;

	for (k = 0; k <= c->N; k++) {
		double dl = fabs(c->rle[k] - c->cle[k]);
		double dt = fabs(c->rlt[k] - c->clt[k]);

		if (k < c->N && dl > d)
			d = dl;
		if (dt > d)
			d = dt;
		if (c->rgap[k] > 0) {
			double mr = c->rgap[k] / c->nr;
			double mc = c->clt[k] - (k ? c->cle[k - 1] : 0);

			if (fmin(mr, mc) > e)
				e = fmin(mr, mc);
		}
	}
	*err = e;
	return d;
}

/* KS on a quantile grid, with its bound 1/Q + 1/n. */
static double ks_sketch(const struct cdfs *c, const struct drift_acc *a,
			double *err)
{
	const double *q = a->grid;
	double d = 0;
	size_t k;

	for (k = 0; k <= Q; k++) {
		double at, below;

		ref_cdf_at(q, k, &at, &below);
		if (fabs(at - c->cle[k]) > d)
			d = fabs(at - c->cle[k]);
		if (fabs(below - c->clt[k]) > d)
			d = fabs(below - c->clt[k]);
	}
	*err = 1.0 / Q + 1.0 / (double)a->ref->count;
	return d;
}

/*
 * The integral over [lo, hi] of |F_r - F_c| where F_r steps from r0 to
 * r1 at xr and F_c from c0 to c1 at xc (each step the mass inside the
 * interval placed at its mean): exact whenever F_r - F_c keeps its sign
 * on the interval, as the integral of a CDF over an interval depends
 * only on the sum of the values inside.
 */
static double step_area(double lo, double hi, double r0, double r1,
			double xr, double c0, double c1, double xc)
{
	double p1 = xr < xc ? xr : xc, p2 = xr < xc ? xc : xr, mid;

	mid = xr <= xc ? fabs(r1 - c0) : fabs(r0 - c1);
	return fabs(r0 - c0) * (p1 - lo) + mid * (p2 - p1) +
	       fabs(r1 - c1) * (hi - p2);
}

/* Wasserstein-1 on an exact grid, interval by interval. */
static double wasserstein_grid(const struct cdfs *c, const struct drift_acc *a)
{
	const double *g = a->grid;
	size_t k, N = c->N;
	double w = 0;

	for (k = 0; k <= N; k++) {
		double cin = (c->clt[k] - (k ? c->cle[k - 1] : 0)) * c->m;
		double rin = c->rgap[k];
		double r0 = k ? c->rle[k - 1] : 0, r1 = c->rlt[k];
		double c0 = k ? c->cle[k - 1] : 0, c1 = c->clt[k];
		double lo, hi, xr, xc;

		/* Outside the grid only mass there counts; inside, the
		 * constant gap between two grid points counts too. */
		if ((k == 0 || k == N) && cin <= 0 && rin <= 0)
			continue;
		if (k == 0) {
			/* Below g[0]: distances measured down from g[0]. */
			xr = rin > 0 ? g[0] - c->rgsum[0] / rin : g[0];
			xc = cin > 0 ? g[0] - a->insum[0] / cin : g[0];
			lo = xr < xc ? xr : xc;
			hi = g[0];
		} else {
			lo = g[k - 1];
			xr = rin > 0 ? lo + c->rgsum[k] / rin : lo;
			xc = cin > 0 ? lo + a->insum[k] / cin : lo;
			hi = k < N ? g[k] : (xr > xc ? xr : xc);
		}
		w += step_area(lo, hi, r0, r1, xr, c0, c1, xc);
	}
	return w;
}

/*
 * Wasserstein-1 of the reference (exact values) and the kept current
 * values, as scipy.stats.wasserstein_distance: the sum over the merged
 * distinct values of |F_r - F_c| times the distance to the next one.
 */
static double wasserstein_kept(const struct drift_acc *a)
{
	const struct profile *ref = a->ref;
	size_t n = a->n_kept, i = 0, k = 0, N = ref->n_values;
	double *v = xmallocarray(n ? n : 1, sizeof(double));
	double nr = 0, m = (double)n, w = 0, x;
	uint64_t cr = 0, cc = 0;

	memcpy(v, a->kept, n * sizeof(double));
	qsort(v, n, sizeof(double), cmp_double);
	for (k = 0; k < N; k++)
		nr += (double)ref->value_counts[k];
	k = 0;
	while (i < n || k < N) {
		double next;

		x = k < N && (i >= n || ref->values[k] <= v[i]) ?
		    ref->values[k] : v[i];
		while (k < N && ref->values[k] == x)
			cr += ref->value_counts[k++];
		while (i < n && v[i] == x) {
			cc++;
			i++;
		}
		if (i >= n && k >= N)
			break;
		next = k < N && (i >= n || ref->values[k] <= v[i]) ?
		       ref->values[k] : v[i];
		w += fabs((double)cr / nr - (double)cc / m) * (next - x);
	}
	free(v);
	return w;
}

/*
 * Wasserstein on a quantile grid: between two distinct grid points both
 * CDFs are taken as linear from their values at the left point (its mass
 * included) to their values just below the right one (its mass not), so
 * that on tied data, where nothing lies between two grid values, both
 * are flat there.
 */
static double wasserstein_sketch(const struct cdfs *c,
				 const struct drift_acc *a)
{
	const double *q = a->grid;
	double w = 0;
	size_t k;

	for (k = 1; k <= Q; k++) {
		double h = q[k] - q[k - 1], fr0, fr1, unused, d0, d1;

		if (!(h > 0))
			continue;
		ref_cdf_at(q, k - 1, &fr0, &unused);
		ref_cdf_at(q, k, &unused, &fr1);
		d0 = fr0 - c->cle[k - 1];
		d1 = fr1 - c->clt[k];
		if (d0 * d1 >= 0)
			w += h * (fabs(d0) + fabs(d1)) / 2;
		else
			w += h * (d0 * d0 + d1 * d1) / (2 * (fabs(d0) + fabs(d1)));
	}
	/* Current mass outside the grid adds its distance to the edge. */
	return w + (a->below + a->above) / c->m;
}

/*
 * The reference's decile edges as numpy's linear quantiles of its
 * exact values, and the reference share at or below each.
 */
static double exact_quantile(const struct profile *ref, double p)
{
	uint64_t total = 0, cum = 0;
	double pos, frac, lo_v = 0, hi_v = 0;
	size_t k, lo;

	for (k = 0; k < ref->n_values; k++)
		total += ref->value_counts[k];
	pos = p * (double)(total - 1);
	lo = (size_t)pos;
	frac = pos - (double)lo;
	for (k = 0; k < ref->n_values; k++) {
		cum += ref->value_counts[k];
		if (cum > lo) {
			lo_v = ref->values[k];
			hi_v = cum > lo + 1 || k + 1 == ref->n_values ? lo_v :
			       ref->values[k + 1];
			break;
		}
	}
	return frac > 0 ? lo_v + frac * (hi_v - lo_v) : lo_v;
}

static double psi_term(double e, double o)
{
	if (e < PSI_FLOOR)
		e = PSI_FLOOR;
	if (o < PSI_FLOOR)
		o = PSI_FLOOR;
	return (o - e) * log(o / e);
}

/*
 * PSI on an exact grid: bins at the reference deciles; a decile edge
 * between two grid points counts the current values of that interval
 * by the kept values when there are, else as above the edge.
 */
static double psi_exact(const struct cdfs *c, const struct drift_acc *a)
{
	double prev_c = 0, prev_r = 0, psi = 0, *kept = NULL;
	int b;

	if (a->n_kept && !a->kept_over) {
		kept = xmallocarray(a->n_kept, sizeof(double));
		memcpy(kept, a->kept, a->n_kept * sizeof(double));
		qsort(kept, a->n_kept, sizeof(double), cmp_double);
	}
	for (b = 1; b <= 10; b++) {
		double fc = 1, fr = 1;

		if (b < 10) {
			double e = exact_quantile(a->ref, (double)b / 10);
			/* The last grid point at or below e. */
			size_t k = grid_search(a->grid, 0, c->N, e);

			if (k == c->N || a->grid[k] > e)
				k--;
			fr = c->rle[k];
			if (kept)
				fc = (double)grid_search(kept, 0, a->n_kept,
					nextafter(e, INFINITY)) / c->m;
			else
				fc = c->cle[k];
		}
		psi += psi_term(fr - prev_r, fc - prev_c);
		prev_c = fc;
		prev_r = fr;
	}
	free(kept);
	return psi;
}

/* PSI on a quantile grid: bins (-inf, q[Q/10]], ..., (q[9Q/10], inf). */
static double psi_sketch(const struct cdfs *c, const struct drift_acc *a)
{
	double prev_c = 0, prev_r = 0, psi = 0;
	int b;

	for (b = 1; b <= 10; b++) {
		double fc = b == 10 ? 1 : c->cle[b * Q / 10], fr = 1, below;

		if (b < 10)
			ref_cdf_at(a->grid, (size_t)b * Q / 10, &fr, &below);
		psi += psi_term(fr - prev_r, fc - prev_c);
		prev_c = fc;
		prev_r = fr;
	}
	return psi;
}

/* The reference's standard deviation (ddof 0), exactly when it can. */
static double ref_std(const struct drift_acc *a, const struct cdfs *c)
{
	const struct profile *ref = a->ref;
	double mean = 0, sq = 0;
	size_t k;

	if (!a->exact || ref->gap_counts)
		return ref->std;
	for (k = 0; k < ref->n_values; k++)
		mean += ref->values[k] * (double)ref->value_counts[k];
	mean /= c->nr;
	for (k = 0; k < ref->n_values; k++)
		sq += (double)ref->value_counts[k] *
		      (ref->values[k] - mean) * (ref->values[k] - mean);
	return sqrt(sq / c->nr);
}

static void numeric_tests(const struct drift_acc *a, enum drift_method method,
			  double threshold, struct drift_result *r)
{
	const struct profile *ref = a->ref;
	struct cdfs c;
	double d, err, w, sd;

	cdfs_init(&c, a);
	if (a->exact) {
		d = ks_exact_grid(&c, &err);
		/* A sample standing for its file: the DKW band at 95 %. */
		if (ref->sample_rows)
			err = fmax(err, sqrt(log(2 / 0.05) /
					     (2 * (double)ref->sample_rows)));
		r->psi = psi_exact(&c, a);
		if (a->n_kept && !a->kept_over && !ref->gap_counts &&
		    a->n_kept == a->count)
			w = wasserstein_kept(a);
		else
			w = wasserstein_grid(&c, a);
	} else {
		d = ks_sketch(&c, a, &err);
		r->psi = psi_sketch(&c, a);
		w = wasserstein_sketch(&c, a);
	}
	sd = ref_std(a, &c);
	cdfs_release(&c);

	/* A distance is biased upwards on a small sample: either side. */
	if (method == DRIFT_AUTO)
		method = ref->count <= AUTO_SMALL || a->count <= AUTO_SMALL ?
			 DRIFT_KS : DRIFT_WASSERSTEIN;
	if (method == DRIFT_CHI2 || method == DRIFT_JS)
		method = DRIFT_PSI;	/* not defined for numbers: caller checks */
	r->method = method;
	switch (method) {
	case DRIFT_KS:
		r->statistic = d;
		r->error = err;
		r->p_value = drift_ks_pvalue(d, (double)ref->count, c.m);
		r->threshold = isnan(threshold) ? 0.05 : threshold;
		/* The verdict holds whatever the sketch's error. */
		r->drifted = (err > 0 ? drift_ks_pvalue(d - err > 0 ? d - err : 0,
				(double)ref->count, c.m) : r->p_value) < r->threshold;
		break;
	case DRIFT_WASSERSTEIN:
		r->statistic = w / (sd > WASSERSTEIN_STD_FLOOR ? sd :
				    WASSERSTEIN_STD_FLOOR);
		r->threshold = isnan(threshold) ? 0.1 : threshold;
		r->drifted = r->statistic >= r->threshold;
		break;
	default:
		r->statistic = r->psi;
		r->threshold = isnan(threshold) ? 0.25 : threshold;
		r->drifted = r->psi >= r->threshold;
		break;
	}
}

/* ---- categorical tests ---- */

static void categorical_tests(const struct drift_acc *a,
			      enum drift_method method, double threshold,
			      struct drift_result *r)
{
	const struct profile *ref = a->ref;
	size_t k, n = ref->n_levels, cells = 0;
	double nr = (double)ref->count, m = (double)a->count, total = nr + m;
	double chi2 = 0, js = 0, psi = 0;

	for (k = 0; k <= n; k++) {
		double rk = (double)(k < n ? ref->level_counts[k] : ref->unseen);
		double ck = (double)a->levels[k];
		double e = rk / nr, o = ck / m, mid = (e + o) / 2;
		double er, ec;

		/* A level absent on both sides says nothing. */
		if (rk == 0 && ck == 0)
			continue;
		psi += psi_term(e, o);
		if (e > 0)
			js += e * log2(e / mid) / 2;
		if (o > 0)
			js += o * log2(o / mid) / 2;
		/* Homogeneity: both rows are samples; expected from the margins. */
		er = nr * (rk + ck) / total;
		ec = m * (rk + ck) / total;
		chi2 += (rk - er) * (rk - er) / er + (ck - ec) * (ck - ec) / ec;
		cells++;
	}
	r->psi = psi;
	if (method == DRIFT_AUTO)
		method = ref->count <= AUTO_SMALL || a->count <= AUTO_SMALL ?
			 DRIFT_CHI2 : DRIFT_JS;
	if (method == DRIFT_KS || method == DRIFT_WASSERSTEIN)
		method = DRIFT_PSI;
	r->method = method;
	switch (method) {
	case DRIFT_CHI2:
		r->statistic = chi2;
		r->p_value = cells > 1 ? drift_chi2_sf(chi2, (double)(cells - 1)) : 1;
		r->threshold = isnan(threshold) ? 0.05 : threshold;
		r->drifted = r->p_value < r->threshold;
		break;
	case DRIFT_JS:
		r->statistic = sqrt(js > 0 ? js : 0);
		r->threshold = isnan(threshold) ? 0.1 : threshold;
		r->drifted = r->statistic >= r->threshold;
		break;
	default:
		r->statistic = psi;
		r->threshold = isnan(threshold) ? 0.25 : threshold;
		r->drifted = psi >= r->threshold;
		break;
	}
}

/* ---- data quality ---- */

/*
 * Does a share of x in n exceed the reference's share p0 (of n0) by
 * more than the margin, and significantly (one-sided two-proportion
 * z-test at p < 0.001: a table of ten features then raises a signal by
 * chance about once in a hundred runs, not once in ten)?
 */
static int quality_fires(double x, double n, double p0, double n0)
{
	double p1 = x / n, pool, se;

	if (!(n > 0) || !(n0 > 0) || p1 - p0 <= DRIFT_QUALITY_MARGIN)
		return 0;
	pool = (x + p0 * n0) / (n + n0);
	se = sqrt(pool * (1 - pool) * (1 / n + 1 / n0));
	return se > 0 && (p1 - p0) / se > 3.0902323061678132;
}

static void quality(const struct drift_acc *a, struct drift_result *r)
{
	const struct profile *ref = a->ref;
	double rows = (double)(a->count + a->missing);
	double ref_rows = (double)(ref->count + ref->missing);
	double m = (double)a->count, nr = (double)ref->count;

	r->missing_share = rows > 0 ? (double)a->missing / rows : 0;
	r->ref_missing_share = ref_rows > 0 ? (double)ref->missing / ref_rows : 0;
	if (quality_fires((double)a->missing, rows, r->ref_missing_share,
			  ref_rows))
		r->quality |= DRIFT_Q_MISSING;
	r->unseen_share = r->ref_unseen_share = NAN;
	r->outside_share = r->ref_outside_share = NAN;
	if (ref->kind == PROFILE_CATEGORICAL) {
		r->unseen_share = m > 0 ? (double)a->levels[ref->n_levels] / m : 0;
		r->ref_unseen_share = nr > 0 ? (double)ref->unseen / nr : 0;
		if (quality_fires((double)a->levels[ref->n_levels], m,
				  r->ref_unseen_share, nr))
			r->quality |= DRIFT_Q_UNSEEN;
		return;
	}
	if (!a->grid)
		return;
	/* Below the grid's first point or above its last: off the range. */
	{
		double out = (double)(a->lt[0] + a->le[a->n_grid]);

		r->outside_share = m > 0 ? out / m : 0;
		r->ref_outside_share = 2 / (nr + 1);
		if (quality_fires(out, m, r->ref_outside_share, nr))
			r->quality |= DRIFT_Q_OUTSIDE;
	}
}

void drift_test(const struct drift_acc *a, enum drift_method method,
		double threshold, struct drift_result *r)
{
	drift_acc_flush(a);
	memset(r, 0, sizeof(*r));
	r->p_value = NAN;
	r->count = a->count;
	r->missing = a->missing;
	r->method = method;
	if (!a->count || !a->ref->count ||
	    (a->ref->kind == PROFILE_NUMERIC && !a->grid)) {
		r->statistic = NAN;
		r->psi = NAN;
		r->threshold = threshold;
		r->unseen_share = r->ref_unseen_share = NAN;
		r->outside_share = r->ref_outside_share = NAN;
		return;
	}
	if (a->ref->kind == PROFILE_NUMERIC)
		numeric_tests(a, method, threshold, r);
	else
		categorical_tests(a, method, threshold, r);
	quality(a, r);
}

/* ---- per-model sets ---- */

void drift_set_init(struct drift_set *s, const struct model *m,
		    const struct profile *features, const struct profile *pred)
{
	size_t j;

	s->m = m;
	s->features = xcalloc(m->n_features + 1, sizeof(*s->features));
	for (j = 0; j < m->n_features; j++)
		drift_acc_init(&s->features[j], features ? &features[j] :
			       &m->features[j].profile);
	drift_acc_init(&s->pred, pred ? pred : &m->pred_profile);
}

void drift_set_init_like(struct drift_set *s, const struct drift_set *proto)
{
	size_t j;

	s->m = proto->m;
	s->features = xcalloc(s->m->n_features + 1, sizeof(*s->features));
	for (j = 0; j < s->m->n_features; j++)
		drift_acc_init_like(&s->features[j], &proto->features[j]);
	drift_acc_init_like(&s->pred, &proto->pred);
}

void drift_set_add(struct drift_set *s, const struct score_block *b)
{
	const struct model *m = s->m;
	size_t nf = m->n_features, w = score_width(m), i, j;

	/* Column by column, so each column's grid stays in the L1 cache. */
	for (j = 0; j < nf; j++) {
		const struct feature *f = &m->features[j];
		struct drift_acc *a = &s->features[j];

		if (f->kind == FEATURE_NUMERIC) {
			drift_acc_numeric_many(a, b->raw + j * b->ld, b->n, 1);
			continue;
		}
		for (i = 0; i < b->n; i++) {
			int32_t lv = b->level[j * b->ld + i];

			drift_acc_level(a, lv == -2 ? (long)f->n_levels : lv);
		}
	}
	if (m->task != TASK_MULTICLASS) {
		drift_acc_numeric_many(&s->pred, b->pred, b->n, 1);
		return;
	}
	for (i = 0; i < b->n; i++)
		drift_acc_level(&s->pred, (long)score_argmax(m, b->pred + i * w));
}

void drift_set_merge(struct drift_set *a, const struct drift_set *b)
{
	size_t j;

	for (j = 0; j < a->m->n_features; j++)
		drift_acc_merge(&a->features[j], &b->features[j]);
	drift_acc_merge(&a->pred, &b->pred);
}

void drift_set_clear(struct drift_set *s)
{
	size_t j;

	for (j = 0; j < s->m->n_features; j++)
		drift_acc_clear(&s->features[j]);
	drift_acc_clear(&s->pred);
}

void drift_set_keep(struct drift_set *s, size_t cap)
{
	size_t j;

	for (j = 0; j < s->m->n_features; j++)
		if (s->features[j].grid)
			s->features[j].keep_cap = cap;
	if (s->pred.grid)
		s->pred.keep_cap = cap;
}

void drift_set_release(struct drift_set *s)
{
	size_t j;

	if (!s || !s->m)
		return;
	for (j = 0; j < s->m->n_features; j++)
		drift_acc_release(&s->features[j]);
	free(s->features);
	drift_acc_release(&s->pred);
	memset(s, 0, sizeof(*s));
}
