/*
 * Drift statistics: the two survival functions against SciPy
 * (scipy.stats.kstwobign.sf, scipy.stats.chi2.sf), then the streaming
 * sketch against the exact statistics on 100k-row samples -- the KS
 * statistic against the exact two-sample KS, PSI against PSI computed on
 * the reference sample's deciles, Wasserstein against the exact W1 of
 * the two samples -- and the verdicts: no drift on fresh data from the
 * same distribution, drift on a shifted one (mean + 0.25 sd, spread
 * x 1.25).  Categorical: chi2 and JS by hand and against SciPy's
 * jensenshannon(base=2), on an unchanged and a changed mix.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "profile.h"
#include "xalloc.h"
#include "tap.h"

#define N_SAMPLES 100000

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_uniform(void)
{
	return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(void)
{
	return sqrt(-2 * log(rng_uniform())) * cos(2 * M_PI * rng_uniform());
}

static double *normal_sample(uint64_t seed, double mean, double sd, size_t n)
{
	double *v = xmallocarray(n, sizeof(double));
	size_t i;

	rng_state = seed;
	for (i = 0; i < n; i++)
		v[i] = mean + sd * rng_normal();
	return v;
}

/* Pass when got is within rel of want, relatively. */
static void is_rel(double got, double want, double rel, const char *what)
{
	if (!ok(fabs(got - want) <= rel * fabs(want), "%s", what))
		printf("# got %.17g, want %.17g (relative %g)\n", got, want,
		       rel);
}

/* ---- survival functions ---- */

/*
 * drift_ks_pvalue(d, n, m) is scipy.stats.ks_2samp's p-value: exact up to
 * 10000 values a side (scipy's _attempt_exact_2kssamp(n, m, gcd, d,
 * 'two-sided')), else Kolmogorov's limit with Stephens' correction
 * (scipy.stats.kstwobign.sf((sqrt(ne) + 0.12 + 0.11/sqrt(ne)) d)).
 */
static void test_ks_pvalue(void)
{
	static const struct {
		double d, n, m, want;
	} c[] = {
		{ 0.1, 100, 100, 0.7020569828664881 },
		{ 0.05, 1000, 500, 0.37135084120167633 },
		{ 0.2, 30, 40, 0.4508544239231963 },
		{ 0.5, 10, 10, 0.16782134274394334 },
		{ 0.01, 2000, 3000, 0.9997026495038579 },
		{ 0.02, 100000, 100000, 8.138116252649966e-18 },
	};
	size_t i;
	char *what;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		what = xasprintf("ks p-value d=%g n=%g m=%g", c[i].d, c[i].n,
				 c[i].m);
		is_rel(drift_ks_pvalue(c[i].d, c[i].n, c[i].m), c[i].want,
		       1e-9, what);
		free(what);
	}
	is_double(drift_ks_pvalue(0, 100, 100), 1, 0, "ks p-value at d=0 is 1");
	is_double(drift_ks_pvalue(1, 1e6, 1e6), 0, 1e-300,
		  "ks p-value at d=1, n large is 0");
	ok(drift_ks_pvalue(0.03, 1000, 1000) >
	   drift_ks_pvalue(0.04, 1000, 1000), "ks p-value decreases with d");
	ok(drift_ks_pvalue(0.03, 1000, 1000) >
	   drift_ks_pvalue(0.03, 5000, 5000), "ks p-value decreases with n");
}

/* scipy.stats.chi2.sf(x, df). */
static void test_chi2_sf(void)
{
	static const struct {
		double x, df, want;
	} c[] = {
		{ 3.841458820694124, 1, 0.04999999999999989 },
		{ 10, 5, 0.07523524614651217 },
		{ 0.5, 2, 0.7788007830714049 },
		{ 100, 80, 0.064570368921133 },
		{ 1e-3, 3, 0.9999915920809419 },
		{ 50, 2, 1.3887943864964e-11 },
		{ 7.5, 9, 0.5852087693825123 },
		{ 200, 150, 0.003973185970821635 },
		{ 0.2, 0.5, 0.391661154271034 },
		{ 30, 1, 4.3204630578274955e-08 },
	};
	size_t i;
	char *what;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		what = xasprintf("chi2 sf x=%g df=%g", c[i].x, c[i].df);
		is_rel(drift_chi2_sf(c[i].x, c[i].df), c[i].want, 1e-9, what);
		free(what);
	}
	is_double(drift_chi2_sf(0, 4), 1, 0, "chi2 sf at 0 is 1");
	is_double(drift_chi2_sf(-1, 4), 1, 0, "chi2 sf below 0 is 1");
}

/* ---- exact statistics on samples ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Exact two-sample KS D of sorted samples. */
static double exact_ks(const double *a, size_t n, const double *b, size_t m)
{
	size_t i = 0, j = 0;
	double d = 0;

	while (i < n && j < m) {
		double x = a[i] <= b[j] ? a[i] : b[j];

		while (i < n && a[i] == x)
			i++;
		while (j < m && b[j] == x)
			j++;
		if (fabs((double)i / n - (double)j / m) > d)
			d = fabs((double)i / n - (double)j / m);
	}
	return d;
}

/* numpy's linear quantile of a sorted sample. */
static double quantile(const double *v, size_t n, double p)
{
	double pos = p * (double)(n - 1), frac;
	size_t lo = (size_t)pos;

	frac = pos - (double)lo;
	return lo + 1 < n ? v[lo] + frac * (v[lo + 1] - v[lo]) : v[n - 1];
}

/*
 * PSI on the reference sample's deciles: bins (-inf, d1], (d1, d2], ...,
 * (d9, inf), proportions floored at 1e-4.
 */
static double exact_psi(const double *ref, size_t n, const double *cur,
			size_t m)
{
	double edge[9], psi = 0;
	size_t cr[10] = { 0 }, cc[10] = { 0 }, i, b;

	for (b = 0; b < 9; b++)
		edge[b] = quantile(ref, n, (double)(b + 1) / 10);
	for (i = 0; i < n; i++) {
		for (b = 0; b < 9 && ref[i] > edge[b]; b++)
			;
		cr[b]++;
	}
	for (i = 0; i < m; i++) {
		for (b = 0; b < 9 && cur[i] > edge[b]; b++)
			;
		cc[b]++;
	}
	for (b = 0; b < 10; b++) {
		double e = (double)cr[b] / n, o = (double)cc[b] / m;

		if (e < 1e-4)
			e = 1e-4;
		if (o < 1e-4)
			o = 1e-4;
		psi += (o - e) * log(o / e);
	}
	return psi;
}

/* Exact W1 of two sorted samples of equal size. */
static double exact_wasserstein(const double *a, const double *b, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += fabs(a[i] - b[i]);
	return s / n;
}

struct numeric_case {
	const char *name;
	double mean, sd;
	int drifted;
};

/* The profile of v[0, n) has numpy's linear quantiles of its values. */
static void check_quantiles(const double *v, size_t n, const char *what)
{
	double *sorted = xmallocarray(n ? n : 1, sizeof(double));
	size_t i, k, m = 0, bad = 0;
	struct profile p;

	for (i = 0; i < n; i++)
		if (!isnan(v[i]))
			sorted[m++] = v[i];
	profile_numeric(&p, v, n);
	qsort(sorted, m, sizeof(double), cmp_double);
	is_int((long long)p.count, (long long)m, "%s n=%zu: count", what, n);
	for (k = 0; m && k <= PROFILE_QUANTILES; k++) {
		double pos = (double)k * (double)(m - 1) / PROFILE_QUANTILES;
		size_t lo = (size_t)pos;
		double want = lo + 1 < m ? sorted[lo] + (pos - (double)lo) *
			      (sorted[lo + 1] - sorted[lo]) : sorted[m - 1];

		if (memcmp(&want, &p.quantiles[k], sizeof(want)) &&
		    !(isnan(want) && isnan(p.quantiles[k])) &&
		    want != p.quantiles[k] && !bad++)
			printf("# %s n=%zu q[%zu]: got %.17g, want %.17g\n",
			       what, n, k, p.quantiles[k], want);
	}
	ok(!bad, "%s n=%zu: every quantile as numpy's of the sorted values",
	   what, n);
	profile_release(&p);
	free(sorted);
}

/*
 * The profile's quantiles are numpy's linear ones of the sorted values,
 * exactly, whatever the values: signs, ties, zeros of both signs,
 * infinities, subnormals, NaNs left out, a single value; and values that
 * agree in their leading bits (the sort orders those by their low bits
 * apart), in long runs and short.
 */
static void test_profile_quantiles(void)
{
	static const double special[] = {
		0.0, -0.0, 1.0, -1.0, INFINITY, -INFINITY, 5e-324, -5e-324,
		2.2250738585072014e-308, 1.7976931348623157e308,
		-1.7976931348623157e308, 0.1, -0.1, 3.0, 3.0, 3.0,
	};
	static const size_t sizes[] = { 1, 2, 3, 17, 201, 5000, 200003 };
	size_t s, i;

	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		double *v = normal_sample(40 + s, 0, 1e3, n);

		for (i = 0; i < n; i++) {
			if (i % 7 == 3)
				v[i] = special[(i / 7) % (sizeof(special) /
							  sizeof(special[0]))];
			else if (i % 11 == 5)
				v[i] = NAN;
			else if (i % 5 == 1)
				v[i] = floor(v[i]);	/* ties */
		}
		check_quantiles(v, n, "mixed");
		/*
		 * Clustered: a third within a millionth of 1e9 (one long
		 * run of shared leading bits), a third in runs of about 20
		 * such values around -i, the rest spread out.
		 */
		for (i = 0; i < n; i++) {
			double u = (double)((i * 7919) % (n + 1));

			if (i % 3 == 0)
				v[i] = 1e9 + u * 1e-9;
			else if (i % 3 == 1)
				v[i] = -(double)(i / 60) - u * 1e-12;
		}
		check_quantiles(v, n, "clustered");
		free(v);
	}
}

static void test_numeric_sketch(void)
{
	static const struct numeric_case cases[] = {
		{ "same distribution", 0, 1, 0 },
		{ "shifted mean + 0.25 sd, spread x 1.25", 0.25, 1.25, 1 },
		{ "mean + 0.25 sd only", 0.25, 1, 1 },
		{ "spread x 1.25 only", 0, 1.25, 1 },
	};
	double *ref = normal_sample(1, 0, 1, N_SAMPLES);
	struct profile p;
	size_t c, i;

	profile_numeric(&p, ref, N_SAMPLES);
	qsort(ref, N_SAMPLES, sizeof(double), cmp_double);
	is_int((long long)p.count, N_SAMPLES, "reference profile count");
	is_double(p.quantiles[0], ref[0], 0, "reference q[0] is the minimum");
	is_double(p.quantiles[PROFILE_QUANTILES], ref[N_SAMPLES - 1], 0,
		  "reference q[Q] is the maximum");
	is_double(p.quantiles[PROFILE_QUANTILES / 2],
		  quantile(ref, N_SAMPLES, 0.5), 1e-15, "reference median");
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct numeric_case *k = &cases[c];
		double *cur = normal_sample(100 + c, k->mean, k->sd, N_SAMPLES);
		struct drift_acc a;
		struct drift_result ks, psi, w, def;
		double d_exact, psi_exact, w_exact;

		drift_acc_init(&a, &p);
		for (i = 0; i < N_SAMPLES; i++)
			drift_acc_numeric(&a, cur[i]);
		drift_acc_numeric(&a, NAN);
		qsort(cur, N_SAMPLES, sizeof(double), cmp_double);
		d_exact = exact_ks(ref, N_SAMPLES, cur, N_SAMPLES);
		psi_exact = exact_psi(ref, N_SAMPLES, cur, N_SAMPLES);
		w_exact = exact_wasserstein(ref, cur, N_SAMPLES) / p.std;

		drift_test(&a, DRIFT_KS, NAN, &ks);
		drift_test(&a, DRIFT_PSI, NAN, &psi);
		drift_test(&a, DRIFT_WASSERSTEIN, NAN, &w);
		drift_test(&a, DRIFT_AUTO, NAN, &def);
		is_int((long long)ks.count, N_SAMPLES, "%s: count", k->name);
		is_int((long long)ks.missing, 1, "%s: missing", k->name);
		is_double(ks.statistic, d_exact, 0.01,
			  "%s: sketch KS %.5f within 0.01 of exact %.5f",
			  k->name, ks.statistic, d_exact);
		is_double(psi.statistic, psi_exact, 0.01,
			  "%s: sketch PSI %.5f within 0.01 of exact %.5f",
			  k->name, psi.statistic, psi_exact);
		is_double(psi.psi, psi.statistic, 0,
			  "%s: psi reported with every method", k->name);
		/*
		 * Wasserstein is looser: both CDFs are taken as linear on
		 * the outermost grid intervals [q0, q1] and [q199, q200],
		 * which hold the tails, so a wider current distribution is
		 * overstated by about 5% (0.2184 vs 0.2041 here).
		 */
		ok(fabs(w.statistic - w_exact) <= 0.01 + 0.1 * w_exact,
		   "%s: sketch Wasserstein %.5f within 0.01 + 10%% of "
		   "exact %.5f",
		   k->name, w.statistic, w_exact);
		is_int(def.method, DRIFT_WASSERSTEIN,
		       "%s: auto picks wasserstein above 1000 rows", k->name);
		is_int(w.drifted, k->drifted, "%s: wasserstein verdict",
		       k->name);
		if (k->drifted) {
			ok(ks.drifted && ks.p_value < 1e-6,
			   "%s: ks says drift (p %g)", k->name, ks.p_value);
			ok(psi.statistic > psi_exact / 2 && psi_exact > 0.01,
			   "%s: psi well above zero", k->name);
		} else {
			ok(psi.statistic < 0.01 && !psi.drifted,
			   "%s: psi near zero, no drift", k->name);
		}
		drift_acc_release(&a);
		free(cur);
	}
	profile_release(&p);
	free(ref);
}

/*
 * The grid counts against a plain search, on references where the
 * lookup table's buckets hold no quantile, one, repeated ones (integer
 * data) or many distinct ones (a heavy tail), with current values on
 * the grid, between it, on bucket edges and outside it.
 */
static void test_grid_positions(void)
{
	enum { N = 20000 };
	static const char *names[] = {
		"normal", "integers with ties", "heavy tail", "two values",
		"tiny range",
	};
	double *ref = xmallocarray(N, sizeof(double));
	double *cur = xmallocarray(4 * N, sizeof(double));
	uint64_t le[PROFILE_QUANTILES + 2], lt[PROFILE_QUANTILES + 2];
	size_t c, i, k, n_cur;

	for (c = 0; c < sizeof(names) / sizeof(names[0]); c++) {
		struct profile p;
		struct drift_acc a;
		const double *q;
		long wrong = 0;

		rng_state = 7 + c;
		for (i = 0; i < N; i++) {
			double z = rng_normal();

			switch (c) {
			case 0: ref[i] = z; break;
			case 1: ref[i] = floor(40 + 12 * z); break;
			case 2: ref[i] = exp(3 * z); break;
			case 3: ref[i] = i % 3 ? 1.5 : -2; break;
			default: ref[i] = 1 + 1e-13 * z; break;
			}
		}
		profile_numeric(&p, ref, N);
		q = p.quantiles;
		n_cur = 0;
		for (k = 0; k <= PROFILE_QUANTILES; k++) {
			cur[n_cur++] = q[k];
			cur[n_cur++] = nextafter(q[k], -INFINITY);
			cur[n_cur++] = nextafter(q[k], INFINITY);
		}
		for (i = 0; i < N; i++)
			cur[n_cur++] = ref[(i * 7919) % N] * (1 + 0.3 *
							     rng_normal());
		for (i = 0; i <= 64; i++)	/* bucket edges, roughly */
			cur[n_cur++] = q[0] + (q[PROFILE_QUANTILES] - q[0]) *
				       (double)i / 64;
		drift_acc_init(&a, &p);
		drift_acc_numeric_many(&a, cur, n_cur, 1);
		memset(le, 0, sizeof(le));
		memset(lt, 0, sizeof(lt));
		for (i = 0; i < n_cur; i++) {
			for (k = 0; k <= PROFILE_QUANTILES && q[k] < cur[i]; k++)
				;
			le[k]++;
			for (; k <= PROFILE_QUANTILES && q[k] <= cur[i]; k++)
				;
			lt[k]++;
		}
		for (k = 0; k < PROFILE_QUANTILES + 2; k++)
			wrong += a.le[k] != le[k] || a.lt[k] != lt[k];
		is_int(wrong, 0, "%s: grid counts of %zu values equal a plain "
		       "search's", names[c], n_cur);
		drift_acc_release(&a);
		profile_release(&p);
	}
	free(ref);
	free(cur);
}

/* Splitting a stream in two and merging gives the same counts. */
static void test_merge(void)
{
	double *ref = normal_sample(7, 5, 2, 5000);
	double *cur = normal_sample(8, 5.3, 2, 3000);
	struct profile p;
	struct drift_acc all, a, b;
	struct drift_result r1, r2;
	size_t i;

	profile_numeric(&p, ref, 5000);
	drift_acc_init(&all, &p);
	drift_acc_init(&a, &p);
	drift_acc_init(&b, &p);
	for (i = 0; i < 3000; i++) {
		drift_acc_numeric(&all, cur[i]);
		drift_acc_numeric(i % 3 ? &a : &b, cur[i]);
	}
	drift_acc_merge(&a, &b);
	ok(a.count == all.count && !memcmp(a.le, all.le,
	   (PROFILE_QUANTILES + 2) * sizeof(uint64_t)) &&
	   !memcmp(a.lt, all.lt, (PROFILE_QUANTILES + 2) * sizeof(uint64_t)),
	   "merge: same grid counts as one stream");
	drift_test(&a, DRIFT_KS, NAN, &r1);
	drift_test(&all, DRIFT_KS, NAN, &r2);
	is_double(r1.statistic, r2.statistic, 0, "merge: same KS statistic");
	drift_test(&a, DRIFT_WASSERSTEIN, NAN, &r1);
	drift_test(&all, DRIFT_WASSERSTEIN, NAN, &r2);
	is_double(r1.statistic, r2.statistic, 1e-12,
		  "merge: same Wasserstein statistic");
	drift_acc_release(&a);
	drift_acc_release(&b);
	drift_acc_release(&all);
	profile_release(&p);
	free(ref);
	free(cur);
}

/* Small reference: auto is KS; empty streams: NAN and no drift. */
static void test_small_and_empty(void)
{
	double *ref = normal_sample(9, 0, 1, 500);
	struct profile p;
	struct drift_acc a;
	struct drift_result r;
	size_t i;

	profile_numeric(&p, ref, 500);
	drift_acc_init(&a, &p);
	drift_test(&a, DRIFT_AUTO, NAN, &r);
	ok(isnan(r.statistic) && !r.drifted, "empty stream: NAN, no drift");
	drift_acc_numeric(&a, NAN);
	drift_test(&a, DRIFT_KS, NAN, &r);
	ok(isnan(r.statistic) && !r.drifted && r.missing == 1,
	   "only missing values: NAN, no drift");
	for (i = 0; i < 500; i++)
		drift_acc_numeric(&a, ref[i] + 3);
	drift_test(&a, DRIFT_AUTO, NAN, &r);
	is_int(r.method, DRIFT_KS, "auto picks ks up to 1000 rows");
	ok(r.drifted && r.statistic > 0.8, "shift by 3 sd: ks drift (D %g)",
	   r.statistic);
	drift_test(&a, DRIFT_KS, 1e-300, &r);
	is_double(r.threshold, 1e-300, 0, "explicit threshold kept");
	drift_acc_release(&a);
	profile_release(&p);
	free(ref);
}

/* ---- categorical ---- */

static void cat_profile(struct profile *p, const uint64_t *counts, size_t n)
{
	static char *const names[] = { "red", "green", "blue", "black" };
	int32_t *codes;
	size_t total = 0, i, k, j = 0;

	for (k = 0; k < n; k++)
		total += counts[k];
	codes = xmallocarray(total + 1, sizeof(int32_t));
	for (k = 0; k < n; k++)
		for (i = 0; i < counts[k]; i++)
			codes[j++] = (int32_t)k;
	codes[j] = -1;	/* one missing value */
	profile_categorical(p, codes, total + 1, names, n);
	free(codes);
}

/*
 * Reference mix .5 .3 .2 (n 10000).  Current counts 45 35 20: the
 * two-sample test of homogeneity, scipy.stats.chi2_contingency([[5000,
 * 3000, 2000], [45, 35, 20]], correction=False): chi2 1.319263367746296,
 * p 0.517041734234873 (2 df);
 * JS distance (scipy, base 2) 0.04835450581959255.
 */
static void test_categorical_by_hand(void)
{
	const uint64_t ref_counts[] = { 5000, 3000, 2000 };
	const uint64_t cur_counts[] = { 45, 35, 20 };
	struct profile p;
	struct drift_acc a;
	struct drift_result chi2, js, psi;
	size_t k, i;

	cat_profile(&p, ref_counts, 3);
	is_int((long long)p.count, 10000, "categorical profile: count");
	is_int((long long)p.missing, 1, "categorical profile: missing");
	drift_acc_init(&a, &p);
	for (k = 0; k < 3; k++)
		for (i = 0; i < cur_counts[k]; i++)
			drift_acc_level(&a, (long)k);
	drift_acc_level(&a, -1);
	drift_test(&a, DRIFT_CHI2, NAN, &chi2);
	drift_test(&a, DRIFT_JS, NAN, &js);
	drift_test(&a, DRIFT_PSI, NAN, &psi);
	is_double(chi2.statistic, 1.319263367746296, 1e-12,
		  "chi2 statistic as chi2_contingency");
	is_double(chi2.p_value, 0.517041734234873, 1e-12,
		  "chi2 p-value as chi2_contingency");
	ok(!chi2.drifted, "chi2: no drift");
	is_double(js.statistic, 0.04835450581959255, 1e-12,
		  "js distance (scipy)");
	ok(!js.drifted, "js: no drift");
	is_double(psi.statistic,
		  (0.45 - 0.5) * log(0.45 / 0.5) +
		  (0.35 - 0.3) * log(0.35 / 0.3), 1e-12, "psi by hand");
	is_int((long long)chi2.missing, 1, "missing counted apart");

	/* Unseen values are a bucket of their own. */
	for (i = 0; i < 10; i++)
		drift_acc_level(&a, -2);
	drift_test(&a, DRIFT_CHI2, NAN, &chi2);
	drift_test(&a, DRIFT_JS, NAN, &js);
	ok(chi2.drifted && chi2.p_value < 1e-6,
	   "unseen levels: chi2 drift (p %g)", chi2.p_value);
	ok(js.statistic > 0.2 && js.drifted,
	   "unseen levels: js drift (%g)", js.statistic);
	drift_acc_release(&a);
	profile_release(&p);
}

/* Draw n levels from a mix by inverse CDF. */
static void stream_mix(struct drift_acc *a, const double *mix, size_t k,
		       size_t n, uint64_t seed)
{
	size_t i, j;

	rng_state = seed;
	for (i = 0; i < n; i++) {
		double u = rng_uniform(), c = 0;

		for (j = 0; j + 1 < k; j++) {
			c += mix[j];
			if (u < c)
				break;
		}
		drift_acc_level(a, (long)j);
	}
}

static void test_categorical_mix(void)
{
	const uint64_t ref_counts[] = { 50000, 30000, 20000 };
	const double same[] = { 0.5, 0.3, 0.2 };
	const double changed[] = { 0.3, 0.3, 0.4 };
	const double slight[] = { 0.4, 0.35, 0.25 };
	struct profile p;
	struct drift_acc a;
	struct drift_result chi2, js, def;

	cat_profile(&p, ref_counts, 3);

	drift_acc_init(&a, &p);
	stream_mix(&a, same, 3, N_SAMPLES, 11);
	drift_test(&a, DRIFT_CHI2, NAN, &chi2);
	drift_test(&a, DRIFT_JS, NAN, &js);
	drift_test(&a, DRIFT_AUTO, NAN, &def);
	ok(!chi2.drifted && chi2.p_value > 0.05,
	   "unchanged mix: no chi2 drift (p %g)", chi2.p_value);
	ok(!js.drifted && js.statistic < 0.01,
	   "unchanged mix: js %g near zero", js.statistic);
	is_int(def.method, DRIFT_JS, "categorical auto above 1000 rows is js");
	drift_acc_release(&a);

	drift_acc_init(&a, &p);
	stream_mix(&a, changed, 3, N_SAMPLES, 12);
	drift_test(&a, DRIFT_CHI2, NAN, &chi2);
	drift_test(&a, DRIFT_JS, NAN, &js);
	ok(chi2.drifted && chi2.p_value < 1e-6,
	   "changed mix: chi2 drift (p %g)", chi2.p_value);
	/* scipy jensenshannon([.5,.3,.2], [.3,.3,.4], base=2) */
	is_double(js.statistic, 0.2067308603321408, 0.005,
		  "changed mix: js near the exact 0.2067");
	ok(js.drifted, "changed mix: js drift");
	drift_acc_release(&a);

	drift_acc_init(&a, &p);
	stream_mix(&a, slight, 3, N_SAMPLES, 13);
	drift_test(&a, DRIFT_CHI2, NAN, &chi2);
	drift_test(&a, DRIFT_JS, NAN, &js);
	ok(chi2.drifted, "slightly changed mix at 100k rows: chi2 drift");
	is_double(js.statistic, 0.08609435336652073, 0.005,
		  "slightly changed mix: js near the exact 0.0861");
	ok(!js.drifted, "slightly changed mix: js below 0.1");
	drift_acc_release(&a);

	profile_release(&p);

	{
		/* Small reference: auto is chi2. */
		const uint64_t small[] = { 500, 300, 200 };

		cat_profile(&p, small, 3);
		drift_acc_init(&a, &p);
		stream_mix(&a, same, 3, 1000, 14);
		drift_test(&a, DRIFT_AUTO, NAN, &def);
		is_int(def.method, DRIFT_CHI2,
		       "categorical auto up to 1000 rows is chi2");
		drift_acc_release(&a);
		profile_release(&p);
	}
}

static void test_names(void)
{
	is_int(drift_method_parse("wasserstein"), DRIFT_WASSERSTEIN,
	       "parse wasserstein");
	is_int(drift_method_parse("auto"), DRIFT_AUTO, "parse auto");
	is_int(drift_method_parse("KS"), -1, "method names are lower case");
	is_str(drift_method_name(DRIFT_JS), "js", "name of js");
}

/* Exact W1 of two sorted samples of any sizes (scipy's definition). */
static double exact_w1(const double *a, size_t n, const double *b, size_t m)
{
	size_t i = 0, j = 0;
	double w = 0, x, next;

	while (i < n || j < m) {
		x = j >= m || (i < n && a[i] <= b[j]) ? a[i] : b[j];
		while (i < n && a[i] == x)
			i++;
		while (j < m && b[j] == x)
			j++;
		if (i >= n && j >= m)
			break;
		next = j >= m || (i < n && a[i] <= b[j]) ? a[i] : b[j];
		w += fabs((double)i / n - (double)j / m) * (next - x);
	}
	return w;
}

/*
 * A column with few distinct values is profiled exactly (value counts):
 * KS D and Wasserstein then equal the exact two-sample values, ties and
 * all, whatever the current values (on the grid, between, outside); a
 * 65th distinct value drops the counts.
 */
static void test_value_counts(void)
{
	enum { N = 6000, M = 4000 };
	double *ref = xmallocarray(N, sizeof(double));
	double *cur = xmallocarray(M, sizeof(double));
	struct profile p;
	struct drift_acc a;
	struct drift_result ks, w, def;
	size_t i, c;

	for (c = 0; c < 3; c++) {
		rng_state = 50 + c;
		for (i = 0; i < N; i++)
			ref[i] = floor(5 + 2 * rng_normal());
		for (i = 0; i < M; i++) {
			double z = rng_normal();

			/* same; shifted integers; off-grid halves and far out */
			cur[i] = c == 0 ? floor(5 + 2 * z) :
				 c == 1 ? floor(6 + 2 * z) :
				 floor(5 + 3 * z) + (i % 3 ? 0.5 : 0);
		}
		profile_numeric(&p, ref, N);
		profile_count_values(&p, ref, NULL, N);
		ok(p.n_values > 5 && p.n_values <= PROFILE_MAX_VALUES,
		   "case %zu: %zu exact values", c, p.n_values);
		drift_acc_init(&a, &p);
		drift_acc_numeric_many(&a, cur, M, 1);
		drift_test(&a, DRIFT_KS, NAN, &ks);
		drift_test(&a, DRIFT_WASSERSTEIN, NAN, &w);
		drift_test(&a, DRIFT_AUTO, NAN, &def);
		qsort(ref, N, sizeof(double), cmp_double);
		qsort(cur, M, sizeof(double), cmp_double);
		is_double(ks.statistic, exact_ks(ref, N, cur, M), 1e-15,
			  "case %zu: exact-grid KS equals the exact D", c);
		is_double(ks.error, 0, 0, "case %zu: no error bound", c);
		if (c < 2)
			is_double(w.statistic * p.std,
				  exact_w1(ref, N, cur, M), 1e-12,
				  "case %zu: exact-grid Wasserstein equals W1", c);
		else
			is_double(w.statistic * p.std,
				  exact_w1(ref, N, cur, M), 0.002 * p.std,
				  "case %zu: Wasserstein within 0.002 off the grid",
				  c);
		is_int(ks.drifted, c > 0, "case %zu: ks verdict", c);
		drift_acc_release(&a);
		profile_release(&p);
	}
	for (i = 0; i < N; i++)
		ref[i] = (double)(i % 65);
	profile_numeric(&p, ref, N);
	profile_count_values(&p, ref, NULL, N);
	is_int((long long)p.n_values, 0, "65 distinct values: no counts");
	profile_release(&p);
	free(ref);
	free(cur);
}

/*
 * On a quantile sketch, KS states a bound: the exact D lies within
 * statistic_error of the reported one, on smooth, tied (100 integers),
 * heavy-tailed and shifted data.
 */
static void test_sketch_bound(void)
{
	enum { N = 20000, M = 7000 };
	static const char *names[] = {
		"normal", "normal shifted 0.1 sd", "100 integers", "heavy tail",
	};
	double *ref = xmallocarray(N, sizeof(double));
	double *cur = xmallocarray(M, sizeof(double));
	size_t c, i;

	for (c = 0; c < 4; c++) {
		struct profile p;
		struct drift_acc a;
		struct drift_result ks, w;
		double exact;

		rng_state = 70 + c;
		for (i = 0; i < N + M; i++) {
			double z = rng_normal(), v;

			switch (c) {
			case 0: v = z; break;
			case 1: v = z + (i >= N ? 0.1 : 0); break;
			case 2: v = floor(50 + 20 * z); break;
			default: v = exp(2 * z); break;
			}
			if (i < N)
				ref[i] = v;
			else
				cur[i - N] = v;
		}
		profile_numeric(&p, ref, N);
		profile_count_values(&p, ref, NULL, N);
		is_int((long long)p.n_values, 0, "%s: a sketch", names[c]);
		drift_acc_init(&a, &p);
		drift_acc_numeric_many(&a, cur, M, 1);
		drift_test(&a, DRIFT_KS, NAN, &ks);
		qsort(ref, N, sizeof(double), cmp_double);
		qsort(cur, M, sizeof(double), cmp_double);
		exact = exact_ks(ref, N, cur, M);
		ok(ks.error > 0 && fabs(ks.statistic - exact) <= ks.error,
		   "%s: sketch D %.5f within its bound %.5f of exact %.5f",
		   names[c], ks.statistic, ks.error, exact);
		/*
		 * Wasserstein: ties are flat between grid values, not ramps.
		 * (Not on the heavy tail: its outermost grid intervals span
		 * most of the range, where a linear CDF is a poor guess.)
		 */
		drift_test(&a, DRIFT_WASSERSTEIN, NAN, &w);
		exact = exact_w1(ref, N, cur, M) / p.std;
		if (c < 3)
			ok(fabs(w.statistic - exact) <= 0.005 + 0.1 * exact,
			   "%s: sketch Wasserstein %.5f within 0.005 + 10%% "
			   "of exact %.5f", names[c], w.statistic, exact);
		drift_acc_release(&a);
		profile_release(&p);
	}
	free(ref);
	free(cur);
}

/*
 * A large exact grid (more than 8192 values): per-chunk accumulators
 * defer to the total, which counts in batches in value order (see
 * drift_acc_flush).  Its counts must be a plain search's, and its
 * moments, counts and statistics the same as a total fed value by value;
 * insum only adds an interval's values in another order.  Cases: a
 * smooth column on a 1e-4 lattice (buckets holding several points), a
 * heavy tail, and a tight cluster beside far values (buckets holding
 * hundreds of points).
 */
static void test_large_grid_batches(void)
{
	enum { N = 20000, CHUNK = 3989 };
	static const char *names[] = {
		"lattice", "heavy tail", "cluster and outliers",
	};
	double *ref = xmallocarray(N, sizeof(double));
	double *cur = xmallocarray(4 * N + 64, sizeof(double));
	size_t c, i, k, n_cur;

	for (c = 0; c < sizeof(names) / sizeof(names[0]); c++) {
		struct profile p = { 0 };
		struct drift_acc total, direct, chunk;
		struct drift_result r1, r2;
		uint64_t *le, *lt;
		double *v = xmallocarray(N, sizeof(double)), worst = 0;
		long wrong = 0;
		const double *g;

		rng_state = 90 + c;
		for (i = 0; i < N; i++) {
			double z = rng_normal();

			ref[i] = c == 0 ? round(z * 1e4) / 1e4 :
				 c == 1 ? exp(3 * z) :
				 i % 100 ? 1 + 1e-9 * z : 1000 * z;
		}
		profile_numeric(&p, ref, N);
		memcpy(v, ref, N * sizeof(double));
		qsort(v, N, sizeof(double), cmp_double);
		profile_set_values(&p, v, N);
		free(v);
		g = p.values;
		ok(p.n_values > 8192, "%s: %zu exact values", names[c],
		   p.n_values);
		n_cur = 0;
		for (i = 0; i < N; i += 3) {
			cur[n_cur++] = g[i % p.n_values];
			cur[n_cur++] = nextafter(g[i % p.n_values], -INFINITY);
			cur[n_cur++] = nextafter(g[i % p.n_values], INFINITY);
		}
		for (i = 0; i < N; i++) {
			cur[n_cur++] = ref[(i * 7919) % N] *
				       (1 + 0.01 * rng_normal());
			if (i % 1000 == 0)
				cur[n_cur++] = NAN;
		}
		cur[n_cur++] = g[0] - 5;
		cur[n_cur++] = g[p.n_values - 1] + 5;
		drift_acc_init(&total, &p);
		drift_acc_init(&direct, &p);
		drift_acc_init_like(&chunk, &total);
		for (i = 0; i < n_cur; i += CHUNK) {
			size_t n = n_cur - i < CHUNK ? n_cur - i : CHUNK;

			/* As the total was fed before batches: by chunk. */
			drift_acc_numeric_many(&direct, cur + i, n, 1);
			drift_acc_numeric_many(&chunk, cur + i, n, 1);
			drift_acc_merge(&total, &chunk);
			drift_acc_clear(&chunk);
		}
		drift_acc_flush(&total);
		le = xcalloc(p.n_values + 1, sizeof(uint64_t));
		lt = xcalloc(p.n_values + 1, sizeof(uint64_t));
		for (i = 0; i < n_cur; i++) {
			if (isnan(cur[i]))
				continue;
			for (k = 0; k < p.n_values && g[k] < cur[i]; k++)
				;
			le[k]++;
			for (; k < p.n_values && g[k] <= cur[i]; k++)
				;
			lt[k]++;
		}
		for (k = 0; k <= p.n_values; k++) {
			wrong += total.le[k] != le[k] || total.lt[k] != lt[k];
			if (fabs(total.insum[k] - direct.insum[k]) > worst)
				worst = fabs(total.insum[k] - direct.insum[k]);
		}
		is_int(wrong, 0, "%s: batched counts of %zu values equal a "
		       "plain search's", names[c], n_cur);
		ok(total.count == direct.count &&
		   total.missing == direct.missing &&
		   total.sum == direct.sum && total.sumsq == direct.sumsq &&
		   total.min == direct.min && total.max == direct.max &&
		   total.below == direct.below && total.above == direct.above,
		   "%s: moments the same to the bit", names[c]);
		ok(worst <= 1e-9 * (g[p.n_values - 1] - g[0]) * (double)n_cur,
		   "%s: interval distance sums agree (%g)", names[c], worst);
		drift_test(&total, DRIFT_KS, NAN, &r1);
		drift_test(&direct, DRIFT_KS, NAN, &r2);
		is_double(r1.statistic, r2.statistic, 0, "%s: same KS D",
			  names[c]);
		is_double(r1.psi, r2.psi, 0, "%s: same PSI", names[c]);
		drift_test(&total, DRIFT_WASSERSTEIN, NAN, &r1);
		drift_test(&direct, DRIFT_WASSERSTEIN, NAN, &r2);
		is_double(r1.statistic, r2.statistic, 1e-9,
			  "%s: same Wasserstein", names[c]);
		free(le);
		free(lt);
		drift_acc_release(&chunk);
		drift_acc_release(&direct);
		drift_acc_release(&total);
		profile_release(&p);
	}
	free(ref);
	free(cur);
}

int main(void)
{
	test_ks_pvalue();
	test_chi2_sf();
	test_profile_quantiles();
	test_numeric_sketch();
	test_grid_positions();
	test_merge();
	test_small_and_empty();
	test_categorical_by_hand();
	test_categorical_mix();
	test_names();
	test_value_counts();
	test_sketch_bound();
	test_large_grid_batches();
	return done_testing();
}
