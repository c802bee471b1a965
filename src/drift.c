/*
 * Drift statistics from counts on a reference grid (see drift.h).
 *
 * For a numeric column the reference profile holds Q+1 quantiles
 * q[0..Q].  For each current value v we find k1 = first k with
 * q[k] >= v and k2 = first k with q[k] > v, and bump le[k1] and lt[k2];
 * prefix sums then give, at every grid point, #(v <= q[k]) and
 * #(v < q[k]).  The reference CDF at the same points is known from the
 * quantile definition to within 1/Q, so KS, PSI on deciles and the
 * Wasserstein integral are all computed on the grid, in O(Q) at the end
 * and O(log Q) per value while streaming.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "model.h"
#include "score.h"
#include "xalloc.h"

#define Q PROFILE_QUANTILES
#define PSI_FLOOR 1e-4
#define LUT_BUCKETS 2048

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
 * A lookup table over [q0, qQ] in LUT_BUCKETS equal buckets.  bucket()
 * is monotone in x (a rounded subtraction and product, then truncation),
 * so a quantile in an earlier bucket than x's is below x and one in a
 * later bucket above it.  For bucket b the table holds A, the number of
 * quantiles in earlier buckets, and C, that number plus those in b.  When
 * b's own quantiles are all one value u (or there are none), the grid
 * positions of x are A or C by one comparison with u = q[A]: the first
 * k with q[k] >= x is A if x <= u, else C.  A bucket holding two
 * distinct quantiles is flagged (LUT_MIXED) and searched instead.
 */
#define LUT_MIXED 0x80000000u

static inline size_t bucket(const struct drift_acc *a, double x)
{
	size_t b = (size_t)((x - a->lut_lo) * a->lut_scale);

	return b < LUT_BUCKETS ? b : LUT_BUCKETS - 1;
}

static void build_lut(struct drift_acc *a)
{
	const double *q = a->ref->quantiles;
	size_t b, k = 0, lo;

	if (!q || !(q[Q] > q[0]))
		return;
	a->lut = xcalloc(LUT_BUCKETS, sizeof(*a->lut));
	a->lut_lo = q[0];
	a->lut_scale = LUT_BUCKETS / (q[Q] - q[0]);
	if (!isfinite(a->lut_scale) || a->lut_scale <= 0) {
		free(a->lut);
		a->lut = NULL;
		return;
	}
	for (b = 0; b < LUT_BUCKETS; b++) {
		lo = k;
		while (k <= Q && bucket(a, q[k]) == b)
			k++;
		a->lut[b] = (uint32_t)lo | (uint32_t)k << 16;
		if (k > lo + 1 && q[k - 1] != q[lo])
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
		a->le = xcalloc(Q + 2, sizeof(uint64_t));
		a->lt = xcalloc(Q + 2, sizeof(uint64_t));
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
	acc_init(a, proto->ref);
	a->lut = proto->lut;
	a->lut_lo = proto->lut_lo;
	a->lut_scale = proto->lut_scale;
	a->lut_borrowed = 1;
}

void drift_acc_release(struct drift_acc *a)
{
	if (!a)
		return;
	free(a->le);
	free(a->lt);
	free(a->levels);
	if (!a->lut_borrowed)
		free(a->lut);
	memset(a, 0, sizeof(*a));
}

/* k1: the first grid index with q[k] >= x, by binary search. */
static inline size_t grid_search(const double *q, double x)
{
	size_t lo = 0, hi = Q + 1;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (q[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void drift_acc_numeric_many(struct drift_acc *a, const double *x, size_t n,
			    size_t stride)
{
	const double *q = a->ref->quantiles;
	/* Running sums in registers, written back once. */
	uint64_t count = 0, missing = 0;
	double sum = 0, sumsq = 0, mn = a->min, mx = a->max;
	double below = 0, above = 0;
	size_t i, lo;

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
		if (!q)
			continue;
		if (a->lut && v >= q[0] && v <= q[Q]) {
			uint32_t e = a->lut[bucket(a, v)];

			if (!(e & LUT_MIXED)) {
				size_t A = e & 0xffff, C = (e >> 16) & 0x7fff;
				double u = q[A];

				a->le[v <= u ? A : C]++;
				a->lt[v < u ? A : C]++;
				continue;
			}
		}
		if (v < q[0])
			below += q[0] - v;
		else if (v > q[Q])
			above += v - q[Q];
		lo = grid_search(q, v);
		a->le[lo]++;
		/* k2: first q[k] > v; the same unless v sits on the grid. */
		while (lo <= Q && q[lo] <= v)
			lo++;
		a->lt[lo]++;
	}
	a->count += count;
	a->missing += missing;
	a->sum += sum;
	a->sumsq += sumsq;
	a->min = mn;
	a->max = mx;
	a->below += below;
	a->above += above;
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
		memset(a->le, 0, (Q + 2) * sizeof(uint64_t));
		memset(a->lt, 0, (Q + 2) * sizeof(uint64_t));
	}
	if (a->levels)
		memset(a->levels, 0, (a->ref->n_levels + 1) * sizeof(uint64_t));
}

void drift_acc_merge(struct drift_acc *a, const struct drift_acc *b)
{
	size_t k;

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
		for (k = 0; k < Q + 2; k++) {
			a->le[k] += b->le[k];
			a->lt[k] += b->lt[k];
		}
	if (a->levels)
		for (k = 0; k <= a->ref->n_levels; k++)
			a->levels[k] += b->levels[k];
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

double drift_ks_pvalue(double d, double n, double m)
{
	double ne = n * m / (n + m), sq = sqrt(ne);

	/* Stephens' small-sample correction of the asymptotic form. */
	return kolmogorov_sf((sq + 0.12 + 0.11 / sq) * d);
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

static void numeric_tests(const struct drift_acc *a, enum drift_method method,
			  double threshold, struct drift_result *r)
{
	const struct profile *ref = a->ref;
	const double *q = ref->quantiles;
	double le[Q + 1], lt[Q + 1], m = (double)a->count, d = 0, psi = 0;
	double w = 0, prev_fc, prev_fr;
	uint64_t cle = 0, clt = 0;
	size_t k;

	for (k = 0; k <= Q; k++) {
		cle += a->le[k];
		clt += a->lt[k];
		le[k] = (double)cle / m;
		lt[k] = (double)clt / m;
	}
	/* KS: the largest gap at any grid point or just below it. */
	for (k = 0; k <= Q; k++) {
		double at, below;

		ref_cdf_at(q, k, &at, &below);
		if (fabs(at - le[k]) > d)
			d = fabs(at - le[k]);
		if (fabs(below - lt[k]) > d)
			d = fabs(below - lt[k]);
	}
	/* PSI on reference deciles: bins (-inf, q[Q/10]], ..., (q[9Q/10], inf). */
	{
		double prev_c = 0, prev_r = 0;
		int b;

		for (b = 1; b <= 10; b++) {
			double fc = b == 10 ? 1 : le[b * Q / 10], fr, below;
			double e, o;

			if (b == 10)
				fr = 1;
			else
				ref_cdf_at(q, (size_t)b * Q / 10, &fr, &below);
			e = fr - prev_r;
			o = fc - prev_c;
			if (e < PSI_FLOOR)
				e = PSI_FLOOR;
			if (o < PSI_FLOOR)
				o = PSI_FLOOR;
			psi += (o - e) * log(o / e);
			prev_c = fc;
			prev_r = fr;
		}
	}
	/*
	 * Wasserstein-1 = integral of |F_ref - F_cur|: on each grid interval
	 * both CDFs are taken as linear, outside the grid F_ref is 0 or 1
	 * and the current mass outside contributes its distance sums.
	 */
	prev_fc = le[0];
	prev_fr = 0;
	for (k = 1; k <= Q; k++) {
		double h = q[k] - q[k - 1], fr = (double)k / Q, fc = le[k];
		double d0 = prev_fr - prev_fc, d1 = fr - fc;

		if (h > 0) {
			if (d0 * d1 >= 0)
				w += h * (fabs(d0) + fabs(d1)) / 2;
			else
				w += h * (d0 * d0 + d1 * d1) /
				     (2 * (fabs(d0) + fabs(d1)));
		}
		prev_fc = fc;
		prev_fr = fr;
	}
	w += (a->below + a->above) / m;
	/* Current mass below q[0] also sits between its values and q[0]:
	 * accounted by `below`; mass at exactly q[0] has distance 0. */

	r->psi = psi;
	if (method == DRIFT_AUTO)
		method = ref->count <= 1000 ? DRIFT_KS : DRIFT_WASSERSTEIN;
	if (method == DRIFT_CHI2 || method == DRIFT_JS)
		method = DRIFT_PSI;	/* not defined for numbers: caller checks */
	r->method = method;
	switch (method) {
	case DRIFT_KS:
		r->statistic = d;
		r->p_value = drift_ks_pvalue(d, (double)ref->count, m);
		r->threshold = isnan(threshold) ? 0.05 : threshold;
		r->drifted = r->p_value < r->threshold;
		break;
	case DRIFT_WASSERSTEIN:
		r->statistic = ref->std > 0 ? w / ref->std :
			       (w > 0 ? INFINITY : 0);
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

/* ---- categorical tests ---- */

static void categorical_tests(const struct drift_acc *a,
			      enum drift_method method, double threshold,
			      struct drift_result *r)
{
	const struct profile *ref = a->ref;
	size_t k, n = ref->n_levels, cells = 0;
	double nr = (double)ref->count, m = (double)a->count;
	double chi2 = 0, js = 0, psi = 0;

	for (k = 0; k <= n; k++) {
		double e = k < n ? (double)ref->level_counts[k] / nr : 0;
		double o = (double)a->levels[k] / m, mid = (e + o) / 2;
		double pe = e < PSI_FLOOR ? PSI_FLOOR : e;
		double po = o < PSI_FLOOR ? PSI_FLOOR : o;

		/* A level absent on both sides says nothing. */
		if (e == 0 && o == 0)
			continue;
		psi += (po - pe) * log(po / pe);
		if (e > 0)
			js += e * log2(e / mid) / 2;
		if (o > 0)
			js += o * log2(o / mid) / 2;
		/* Chi-square against the reference mix; unseen levels get
		 * the floor so they count as strong evidence. */
		chi2 += (o * m - pe * m) * (o * m - pe * m) / (pe * m);
		cells++;
	}
	r->psi = psi;
	if (method == DRIFT_AUTO)
		method = ref->count <= 1000 ? DRIFT_CHI2 : DRIFT_JS;
	if (method == DRIFT_KS || method == DRIFT_WASSERSTEIN)
		method = DRIFT_PSI;
	r->method = method;
	switch (method) {
	case DRIFT_CHI2:
		r->statistic = chi2;
		r->p_value = drift_chi2_sf(chi2, (double)(cells > 1 ? cells - 1 : 1));
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

void drift_test(const struct drift_acc *a, enum drift_method method,
		double threshold, struct drift_result *r)
{
	memset(r, 0, sizeof(*r));
	r->p_value = NAN;
	r->count = a->count;
	r->missing = a->missing;
	r->method = method;
	if (!a->count || !a->ref->count) {
		r->statistic = NAN;
		r->psi = NAN;
		r->threshold = threshold;
		return;
	}
	if (a->ref->kind == PROFILE_NUMERIC)
		numeric_tests(a, method, threshold, r);
	else
		categorical_tests(a, method, threshold, r);
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
