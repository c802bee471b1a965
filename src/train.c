/*
 * Training: preprocessing fitted on the training rows, then one of three
 * solvers, all working on blocks of design rows built on the fly from the
 * dataset's columns (the full design matrix is never materialised, so
 * peak memory stays near the size of the loaded data):
 *
 *   logistic  Newton's method (IRLS) on C * sum(log loss) + |w|^2 / 2,
 *             the Hessian accumulated with dsyrk and solved by Cholesky,
 *             with a backtracking line search;
 *   softmax   L-BFGS on the multinomial log loss with the same penalty;
 *   linear    least squares on centred columns, minimum-norm solution
 *             (scikit-learn's LinearRegression); ridge adds alpha * |w|^2
 *             (scikit-learn's Ridge) and solves by Cholesky.
 *
 * The intercept is an extra, unpenalised column of ones.  Numeric
 * features are imputed with the training mean and standardised with the
 * population standard deviation, categorical ones imputed with the most
 * frequent level and one-hot encoded over the sorted training levels:
 * exactly make_pipeline(SimpleImputer, StandardScaler / OneHotEncoder,
 * LogisticRegression(C) / Ridge(alpha) / LinearRegression) in sklearn.
 */

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "matrix.h"
#include "metrics.h"
#include "parallel.h"
#include "predict.h"
#include "score.h"
#include "train.h"
#include "xalloc.h"

#define BLOCK_ROWS 1024
#define FILL_TILE 32

void train_opts_init(struct train_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->algo = TRAIN_AUTO;
	o->holdout = 0.2;
	o->seed = 1;
	o->C = 1.0;
	o->alpha = 1.0;
	o->tol = 1e-8;
	o->max_iter = TRAIN_MAX_ITER_AUTO;
}

void train_report_release(struct train_report *r)
{
	if (!r)
		return;
	free(r->confusion);
	r->confusion = NULL;
	while (r->n_id_columns)
		free(r->id_columns[--r->n_id_columns]);
	free(r->id_columns);
	r->id_columns = NULL;
	while (r->n_leaks)
		free(r->leaks[--r->n_leaks]);
	free(r->leaks);
	r->leaks = NULL;
	free(r->pred);
	r->pred = NULL;
	free(r->pred_rows);
	r->pred_rows = NULL;
}

/* ---- the design: dataset rows to model input rows ---- */

struct design {
	const struct model *m;
	const struct dataset *ds;
	size_t *col;		/* per feature: dataset column */
	int32_t **code_map;	/* per categorical feature: ds code -> level */
	/* per feature: its column already holds the encoded values (see
	 * reuse_columns) */
	unsigned char *encoded;
};

/*
 * o[i * stride] = score_encode_numeric(f, x[i]) for i < n: the same
 * bits, two at a time.  Division is the cost here, and a two-lane
 * divide takes the time of one.
 */
#if defined(__GNUC__) && (defined(__SSE2__) || defined(__aarch64__))
typedef double v2df __attribute__((vector_size(16)));
typedef long long v2di __attribute__((vector_size(16)));

static void encode_run(const struct feature *f, const double *x, size_t n,
		       double *o, size_t stride)
{
	const v2df imp = { f->impute, f->impute };
	const v2df cen = { f->center, f->center };
	const v2df sc = { f->scale, f->scale };
	size_t i;

	for (i = 0; i + 2 <= n; i += 2) {
		v2df a = { x[i], x[i + 1] }, r;
		v2di nan = a != a;

		a = (v2df)(((v2di)a & ~nan) | ((v2di)imp & nan));
		r = (a - cen) / sc;
		o[i * stride] = r[0];
		o[(i + 1) * stride] = r[1];
	}
	for (; i < n; i++)
		o[i * stride] = score_encode_numeric(f, x[i]);
}
#else
static void encode_run(const struct feature *f, const double *x, size_t n,
		       double *o, size_t stride)
{
	size_t i;

	for (i = 0; i < n; i++)
		o[i * stride] = score_encode_numeric(f, x[i]);
}
#endif

/*
 * Fill the design inputs of n rows: input k of row i goes to
 * out[i * rs + k * cs].  Rows one after another (rs = width, cs = 1) is
 * what BLAS products over rows want; input by input (rs = 1, cs = n)
 * lets a pass needing only X w and X' r read each column and write each
 * input in one sequential run.  With `augment`, input n_inputs is the
 * intercept's 1.  Encoding goes through score_encode_numeric(), as
 * scoring does.
 */
static void design_fill(const struct design *d, const size_t *rows, size_t n,
			double *out, size_t rs, size_t cs, int augment,
			const double **view)
{
	const struct model *m = d->m;
	size_t t, nt, i, j, k;
	int whole = view != NULL;

	/*
	 * With `view` (input by input only): view[k] receives where input
	 * k's n values are.  On consecutive rows an encoded column is
	 * one already, and is pointed at instead of copied.
	 */
	for (i = 1; i < n && whole; i++)
		whole = rows[i] == rows[0] + i;
	if (view)
		for (k = 0; k < m->n_inputs; k++)
			view[k] = out + k * cs;
	for (j = 0; j < m->n_features && whole; j++)
		if (d->encoded[j])
			view[m->features[j].offset] =
				d->ds->cols[d->col[j]].num + rows[0];

	/*
	 * A tile of FILL_TILE rows at a time, feature by feature within it:
	 * rows one after another stay in L1 while each column is read in
	 * order.  (Feature by feature over the whole block wrote each of its
	 * rows once per column, a cache miss each time.)
	 */
	for (t = 0; t < n; t += nt) {
		const size_t *r = rows + t;
		double *tile = out + t * rs;
		/* The first row of the tile after next, to prefetch. */
		size_t ahead = t + 3 * FILL_TILE <= n ? rows[t + 2 * FILL_TILE] :
			       SIZE_MAX;
		int dense = 1;

		nt = n - t < FILL_TILE ? n - t : FILL_TILE;
		for (i = 1; i < nt && dense; i++)
			dense = r[i] == r[0] + i;
		for (j = 0; j < m->n_features; j++) {
			const struct feature *f = &m->features[j];
			const struct ds_column *c = &d->ds->cols[d->col[j]];
			double *o = tile + f->offset * cs;

			if (f->kind == FEATURE_NUMERIC) {
				const double *x = c->num + r[0];

				if (whole && d->encoded[j])
					continue;

				/*
				 * Fifty columns are more streams than the
				 * hardware prefetcher follows: ask for the
				 * tile after next.
				 */
				if (ahead != SIZE_MAX)
					for (k = 0; k < FILL_TILE; k += 8)
						__builtin_prefetch(c->num + ahead + k);
				if (d->encoded[j] && dense && rs == 1)
					memcpy(o, x, nt * sizeof(*o));
				else if (d->encoded[j] && dense)
					for (i = 0; i < nt; i++)
						o[i * rs] = x[i];
				else if (d->encoded[j])
					for (i = 0; i < nt; i++)
						o[i * rs] = c->num[r[i]];
				else if (dense)
					encode_run(f, x, nt, o, rs);
				else
					for (i = 0; i < nt; i++)
						o[i * rs] = score_encode_numeric(f, c->num[r[i]]);
				if (f->indicator)
					for (i = 0; i < nt; i++)
						o[i * rs + cs] = c->num[r[i]] !=
								 c->num[r[i]];
				continue;
			}
			for (i = 0; i < nt; i++) {
				int32_t code = c->code[r[i]];
				long lv = code < 0 ? f->impute_level :
						     d->code_map[j][code];
				double *e = o + i * rs;

				for (k = 0; k < f->n_levels; k++)
					e[k * cs] = 0;
				if (lv >= 0)
					e[(size_t)lv * cs] = 1;
			}
		}
		if (augment)
			for (i = 0; i < nt; i++)
				tile[i * rs + m->n_inputs * cs] = 1;
	}
}

static void design_release(struct design *d)
{
	size_t j;

	if (d->code_map)
		for (j = 0; j < d->m->n_features; j++)
			free(d->code_map[j]);
	free(d->code_map);
	free(d->encoded);
	free(d->col);
}

/* ---- preprocessing ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

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

/* numpy's median of the non-missing values (mean of the middle two). */
static double exact_median(const struct ds_column *c, const size_t *rows,
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

/*
 * The baseline profile of x[rows[i]] (of x[i] when rows is NULL), i < n:
 * quantiles from a systematic sample of PROFILE_SAMPLE values, counts,
 * mean, deviation and extremes over all of them.  Two passes: the first
 * (profile_scan) samples and sums, the second adds the squares around
 * the mean, which profile_finish() turns into the deviation.
 */
struct scan {
	size_t count;
	double sum, min, max;
};

static void profile_scan(struct profile *p, const double *x,
			 const size_t *rows, size_t n, struct scan *s)
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

static double scan_mean(const struct scan *s)
{
	return s->count ? s->sum / (double)s->count : 0;
}

/* sq: the sum of squares of the non-missing values around scan_mean(). */
static void profile_finish(struct profile *p, const struct scan *s,
			   size_t n, double sq)
{
	double mn = s->min, mx = s->max;
	size_t k;

	p->count = s->count;
	p->missing = n - s->count;
	if (!s->count)
		return;
	p->mean = scan_mean(s);
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

static void profile_long(struct profile *p, const double *x,
			 const size_t *rows, size_t n)
{
	struct scan s;
	double sq = 0, mean;
	size_t i;

	profile_scan(p, x, rows, n, &s);
	mean = scan_mean(&s);
	for (i = 0; i < n; i++) {
		double xi = rows ? x[rows[i]] : x[i];

		if (!isnan(xi))
			sq += (xi - mean) * (xi - mean);
	}
	profile_finish(p, &s, n, sq);
}

/*
 * Numeric preprocessing: the baseline profile of the raw values, the
 * imputation value (mean, or the median as numpy computes it), then
 * standardisation of the imputed column, as SimpleImputer followed by
 * StandardScaler.  With `indicator`, a column that had missing values
 * gains a 0/1 input marking them (SimpleImputer's add_indicator).  The
 * second pass sums both the raw values' squares (for the profile) and
 * the imputed ones' (for the scale).
 */
static void fit_numeric(struct feature *f, const struct ds_column *c,
			const size_t *rows, size_t n, int median,
			int indicator)
{
	struct profile *p = &f->profile;
	struct scan s;
	double sq = 0, sq_raw = 0, raw_mean, mean, imp;
	size_t i;

	f->kind = FEATURE_NUMERIC;
	profile_scan(p, c->num, rows, n, &s);
	raw_mean = scan_mean(&s);
	imp = !s.count ? 0 : median ? exact_median(c, rows, n) : raw_mean;
	/* Mean of the imputed column, then its population deviation. */
	mean = n ? (raw_mean * (double)s.count +
		    imp * (double)(n - s.count)) / (double)n : 0;
	for (i = 0; i < n; i++) {
		double x = c->num[rows[i]];

		if (isnan(x)) {
			x = imp;
		} else {
			sq_raw += (x - raw_mean) * (x - raw_mean);
		}
		sq += (x - mean) * (x - mean);
	}
	profile_finish(p, &s, n, sq_raw);
	f->impute = imp;
	f->center = mean;
	f->scale = n ? sqrt(sq / (double)n) : 0;
	/* Constant columns keep scale 1, as StandardScaler does. */
	if (!(f->scale > 1e-12 * (fabs(mean) > 1 ? fabs(mean) : 1)))
		f->scale = 1;
	f->indicator = indicator && p->missing > 0;
}

static void fit_categorical(struct feature *f, const struct ds_column *c,
			    const size_t *rows, size_t n, int32_t **map_out)
{
	size_t *count = xcalloc(c->n_levels + 1, sizeof(size_t));
	int32_t *map = xmallocarray(c->n_levels + 1, sizeof(int32_t));
	size_t i, k, best;

	f->kind = FEATURE_CATEGORICAL;
	for (i = 0; i < n; i++)
		if (c->code[rows[i]] >= 0)
			count[c->code[rows[i]]]++;
	f->levels = xcalloc(c->n_levels + 1, sizeof(char *));
	for (k = 0; k < c->n_levels; k++)
		if (count[k])
			f->levels[f->n_levels++] = c->levels[k];
	qsort(f->levels, f->n_levels, sizeof(char *), cmp_str);
	for (k = 0; k < c->n_levels; k++) {
		char **hit = count[k] ?
			bsearch(&c->levels[k], f->levels, f->n_levels,
				sizeof(char *), cmp_str) : NULL;

		map[k] = hit ? (int32_t)(hit - f->levels) : -1;
	}
	/* Most frequent level; ties go to the first in sorted order. */
	f->impute_level = -1;
	best = 0;
	for (k = 0; k < c->n_levels; k++)
		if (map[k] >= 0 && (count[k] > best ||
		    (count[k] == best && map[k] < f->impute_level))) {
			best = count[k];
			f->impute_level = map[k];
		}
	for (k = 0; k < f->n_levels; k++)
		f->levels[k] = xstrdup(f->levels[k]);
	free(count);
	*map_out = map;
}

/* Fitting the features' preprocessing: independent, so on all cores. */
struct prep {
	struct model *m;
	const struct dataset *ds;
	struct design *d;
	const size_t *rows;
	size_t n;
	const struct train_opts *o;
};

static int prep_feature(void *arg, size_t worker, size_t j)
{
	struct prep *pr = arg;
	struct feature *f = &pr->m->features[j];
	const struct ds_column *c = &pr->ds->cols[pr->d->col[j]];

	(void)worker;
	f->name = xstrdup(c->name);
	f->source = c->source ? xstrdup(c->source) : NULL;
	f->part = c->part;
	if (c->type == DS_NUMERIC) {
		fit_numeric(f, c, pr->rows, pr->n, pr->o->impute_median,
			    pr->o->add_indicator);
	} else {
		fit_categorical(f, c, pr->rows, pr->n, &pr->d->code_map[j]);
		f->strict = pr->o->strict;
	}
	return 0;
}

/*
 * With reuse_columns the dataset's feature columns are the fit's to
 * change, once preprocessing is fitted:
 * - each is put in the order of `rows` (the holdout, then the training
 *   rows), so that row i of the fit is position i and every later pass
 *   copies runs of values instead of gathering them row by row;
 * - a numeric feature's values are encoded on the way, so that passes
 *   copy them instead of dividing them again: the same bits, as
 *   score_encode_numeric() gives them.  One with an indicator keeps its
 *   raw values (the indicator reads the gaps).
 * No two features share a column (pick_features() sees to it), so none
 * is moved or encoded twice.  Positions from n on are left as they were.
 */
struct reuse_job {
	struct dataset *ds;
	const struct design *d;
	const size_t *rows;	/* NULL: already in order */
	size_t n;
	double **tmp;		/* per worker: n values */
};

static int reuse_column(void *arg, size_t worker, size_t j)
{
	struct reuse_job *rj = arg;
	const struct feature *f = &rj->d->m->features[j];
	struct ds_column *c = &rj->ds->cols[rj->d->col[j]];
	const size_t *rows = rj->rows;
	size_t i, n = rj->n;

	if (c->type == DS_NUMERIC) {
		const double *src = c->num;

		if (rows) {
			double *t = rj->tmp[worker];

			for (i = 0; i < n; i++)
				t[i] = c->num[rows[i]];
			src = t;
		}
		if (rj->d->encoded[j])
			encode_run(f, src, n, c->num, 1);
		else if (src != c->num)
			memcpy(c->num, src, n * sizeof(*src));
	} else if (rows) {
		int32_t *t = (int32_t *)rj->tmp[worker];

		for (i = 0; i < n; i++)
			t[i] = c->code[rows[i]];
		memcpy(c->code, t, n * sizeof(*t));
	}
	return 0;
}

static void reuse_columns(struct dataset *ds, struct design *d, size_t *rows,
			  size_t n)
{
	struct reuse_job rj = { ds, d, NULL, n, NULL };
	size_t i, nw = parallel_cpus(), nf = d->m->n_features;

	for (i = 0; i < nf; i++)
		d->encoded[i] = d->m->features[i].kind == FEATURE_NUMERIC &&
				!d->m->features[i].indicator;
	/* No holdout and every row with a target: nothing to move. */
	for (i = 0; i < n && rows[i] == i; i++)
		;
	if (i < n) {
		rj.rows = rows;
		rj.tmp = xcalloc(nw, sizeof(*rj.tmp));
		for (i = 0; i < nw; i++)
			rj.tmp[i] = xmallocarray(n + 1, sizeof(double));
	}
	parallel_run(nf, nw, reuse_column, &rj);
	if (!rj.rows)
		return;
	for (i = 0; i < nw; i++)
		free(rj.tmp[i]);
	free(rj.tmp);
	for (i = 0; i < n; i++)
		rows[i] = i;
}

/* ---- the solvers ---- */

/*
 * Every solver step is a pass over the training rows computing a sum
 * (loss, gradient, Hessian or Gram matrix).  A pass is split into chunks
 * of CHUNK_ROWS rows run on all cores; each chunk writes its own partial
 * sums, and the partials are added to the total one chunk at a time in
 * chunk order, so the result does not depend on the number of threads.
 * Chunks run in batches of two per thread, which bounds the memory the
 * partials take however many rows there are.  BLAS runs single-threaded
 * inside.
 *
 * Logistic and softmax use Newton's method while the Hessian is small
 * (NEWTON_MAX_DIM unknowns) and L-BFGS beyond, both on the same pass.
 */
#define CHUNK_ROWS (16 * BLOCK_ROWS)
/* Doubles of chunk partials held at once (256 MiB), unless one is more. */
#define PASS_MAX_DOUBLES ((size_t)32 << 20)
#define NEWTON_MAX_DIM 400
#define LBFGS_MEMORY 10
/* Newton skips the Hessian of a trial point when the gradient is within
 * this factor of the stopping test. */
#define NEWTON_NEAR 30
/* The warm start's tolerance on the sample (see solve_warm). */
#define WARM_TOL 1e-4
/* Tables of WARM_MIN_ROWS rows (by default) start from a sample's solution. */
#define WARM_MIN_ROWS (1 << 17)
#define WARM_STEP 8
#define WARM_RUN FILL_TILE

enum pass_kind { PASS_LOGISTIC, PASS_SOFTMAX, PASS_GRAM };

long train_max_iter(size_t unknowns)
{
	if (unknowns <= NEWTON_MAX_DIM)
		return 100;
	return unknowns > 1000 ? (long)unknowns : 1000;
}

struct scratch {
	double *block, *block2, *z, *hk;
	const double **view;	/* p - 1 inputs of a block (design_fill) */
};

struct fit {
	const struct design *d;
	const size_t *rows;
	size_t n;
	const uint32_t *cls;	/* class index by position in rows */
	const double *yv;	/* regression target by position */
	const double *sw;	/* per-class sample weight, or NULL */
	size_t p;		/* n_inputs + 1 */
	size_t K;		/* outputs */
	double lambda;		/* penalty on all but the last column */
	size_t n_workers;
	size_t warm_min_rows;	/* solve_warm() samples from this many rows */
	/*
	 * Newton only: h_keep, if set, receives the last Hessian computed;
	 * h_start, if set, is a Hessian to take steps with while they
	 * make good progress, instead of computing one (see solve_newton).
	 */
	double *h_keep;
	const double *h_start;
	int h_freeze;		/* as h_start, with the Hessian at the start */
	struct scratch *scr;	/* per worker */
	/* the pass being run */
	enum pass_kind kind;
	const double *w;
	int want_h;
	size_t out_len;		/* doubles per chunk */
	size_t first_chunk;	/* of the batch being run */
	double *out;		/* batch x out_len */
};

typedef int (*eval_fn)(struct fit *ft, const double *w, double *f, double *g,
		       double *h, struct mlops_err *err);

/*
 * Row loss log(1 + e^z) and probability 1 / (1 + e^-z), from one
 * exponential: e = e^-|z| never overflows.
 */
static double softplus_prob(double z, double *pr)
{
	double e = exp(-fabs(z));

	*pr = z >= 0 ? 1 / (1 + e) : e / (1 + e);
	return z > 0 ? z + log1p(e) : log1p(e);
}

static double penalty(const struct fit *ft, const double *w, double *g)
{
	double s = 0;
	size_t k, j;

	for (k = 0; k < ft->K; k++)
		for (j = 0; j + 1 < ft->p; j++) {
			double v = w[k * ft->p + j];

			s += v * v;
			if (g)
				g[k * ft->p + j] += ft->lambda * v;
		}
	return ft->lambda * s / 2;
}

/* Logistic loss, gradient and Hessian of one block into out. */
static int block_logistic(struct fit *ft, struct scratch *sc, size_t start,
			  size_t nb, double *out)
{
	size_t p = ft->p, i, j;
	double *g = out + 1, *h = out + 1 + p;
	int ret;

	if ((ret = matrix_gemm_abt(sc->block, nb, p, ft->w, 1, sc->z, NULL)))
		return ret;
	for (i = 0; i < nb; i++) {
		double z = sc->z[i], y = ft->cls[start + i] == 1;
		double s = ft->sw ? ft->sw[ft->cls[start + i]] : 1;
		double pr, dd;

		out[0] += s * (softplus_prob(z, &pr) - y * z);
		sc->z[i] = s * (pr - y);
		if (ft->want_h) {
			dd = sqrt(s * pr * (1 - pr));
			for (j = 0; j < p; j++)
				sc->block2[i * p + j] = sc->block[i * p + j] * dd;
		}
	}
	if ((ret = matrix_gemm_atb(sc->z, nb, 1, sc->block, p, 1.0, g, NULL)))
		return ret;
	if (ft->want_h)
		return matrix_syrk_add(sc->block2, nb, p, h, NULL);
	return 0;
}

/*
 * The two kernels of a gradient pass over a block seen input by input
 * (design_fill's view: q inputs, each a run of nb values, and the
 * intercept): z = X w, then g += X' r.  Four inputs at a time, two rows
 * at a time; each of a row's sums is added in the same order whether
 * two lanes do it or one, so the bits are the same.  While one group of
 * four inputs is read, the next group's lines are fetched: fifty runs
 * are more streams than the hardware prefetcher follows.
 */
#if defined(__GNUC__) && (defined(__SSE2__) || defined(__aarch64__))
static v2df load2(const double *p)
{
	v2df v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void store2(double *p, v2df v)
{
	memcpy(p, &v, sizeof(v));
}
#endif

static void fetch_line(const double *const *x, size_t k, size_t q, size_t i)
{
	size_t j;

	for (j = k; j < k + 4 && j < q; j++)
		__builtin_prefetch(x[j] + i);
}

/* z[i] = w[q] + sum_k w[k] x[k][i] for i < nb. */
static void view_times(const double *const *x, size_t q, size_t nb,
		       const double *w, double *z)
{
	size_t i, k;

	for (i = 0; i < nb; i++)
		z[i] = w[q];
	for (k = 0; k + 4 <= q; k += 4) {
		const double *a = x[k], *b = x[k + 1], *c = x[k + 2];
		const double *e = x[k + 3];
		double wa = w[k], wb = w[k + 1], wc = w[k + 2], we = w[k + 3];

		i = 0;
#if defined(__GNUC__) && (defined(__SSE2__) || defined(__aarch64__))
		{
			const v2df va = { wa, wa }, vb = { wb, wb };
			const v2df vc = { wc, wc }, ve = { we, we };

			for (; i + 2 <= nb; i += 2) {
				if (!(i & 7))
					fetch_line(x, k + 4, q, i);
				store2(z + i, load2(z + i) +
				       ((va * load2(a + i) + vb * load2(b + i)) +
					(vc * load2(c + i) + ve * load2(e + i))));
			}
		}
#endif
		for (; i < nb; i++)
			z[i] += (wa * a[i] + wb * b[i]) + (wc * c[i] + we * e[i]);
	}
	for (; k < q; k++)
		for (i = 0; i < nb; i++)
			z[i] += w[k] * x[k][i];
}

/*
 * g[k] += sum_i x[k][i] r[i] for k < q, and g[q] += sum_i r[i]; each sum
 * kept as two (even and odd rows), added at the end.
 */
static void view_dot(const double *const *x, size_t q, size_t nb,
		     const double *r, double *g)
{
	double s[8], t0 = 0, t1 = 0;
	const double *v[4];
	size_t i, k, m;

	for (k = 0; k < q; k += 4) {
		m = q - k < 4 ? q - k : 4;
		for (i = 0; i < 4; i++)
			v[i] = x[k + (i < m ? i : 0)];
		for (i = 0; i < 8; i++)
			s[i] = 0;
		i = 0;
#if defined(__GNUC__) && (defined(__SSE2__) || defined(__aarch64__))
		{
			v2df s0 = { 0, 0 }, s1 = s0, s2 = s0, s3 = s0, ri;

			for (; i + 2 <= nb; i += 2) {
				ri = load2(r + i);
				s0 += load2(v[0] + i) * ri;
				s1 += load2(v[1] + i) * ri;
				s2 += load2(v[2] + i) * ri;
				s3 += load2(v[3] + i) * ri;
			}
			s[0] = s0[0], s[1] = s0[1], s[2] = s1[0], s[3] = s1[1];
			s[4] = s2[0], s[5] = s2[1], s[6] = s3[0], s[7] = s3[1];
		}
#endif
		for (; i + 2 <= nb; i += 2) {
			s[0] += v[0][i] * r[i];
			s[1] += v[0][i + 1] * r[i + 1];
			s[2] += v[1][i] * r[i];
			s[3] += v[1][i + 1] * r[i + 1];
			s[4] += v[2][i] * r[i];
			s[5] += v[2][i + 1] * r[i + 1];
			s[6] += v[3][i] * r[i];
			s[7] += v[3][i + 1] * r[i + 1];
		}
		if (i < nb) {
			s[0] += v[0][i] * r[i];
			s[2] += v[1][i] * r[i];
			s[4] += v[2][i] * r[i];
			s[6] += v[3][i] * r[i];
		}
		for (i = 0; i < m; i++)
			g[k + i] += s[2 * i] + s[2 * i + 1];
	}
	for (i = 0; i + 2 <= nb; i += 2) {
		t0 += r[i];
		t1 += r[i + 1];
	}
	if (i < nb)
		t0 += r[i];
	g[q] += t0 + t1;
}

/*
 * Logistic loss and gradient of one block seen input by input (sc->view):
 * the passes of Newton's frozen-Hessian steps and of L-BFGS.
 */
static int block_logistic_grad(struct fit *ft, struct scratch *sc,
			       size_t start, size_t nb, double *out)
{
	size_t q = ft->p - 1, i;
	double *z = sc->z;

	view_times(sc->view, q, nb, ft->w, z);
	for (i = 0; i < nb; i++) {
		double y = ft->cls[start + i] == 1;
		double s = ft->sw ? ft->sw[ft->cls[start + i]] : 1;
		double pr;

		out[0] += s * (softplus_prob(z[i], &pr) - y * z[i]);
		z[i] = s * (pr - y);
	}
	view_dot(sc->view, q, nb, z, out + 1);
	return 0;
}

/*
 * Softmax loss, gradient and Hessian of one block into out.  The Hessian
 * block of classes (k, l) is sum_i s_i p_ik (d_kl - p_il) x_i x_i'.
 */
static int block_softmax(struct fit *ft, struct scratch *sc, size_t start,
			 size_t nb, double *out)
{
	size_t p = ft->p, K = ft->K, D = K * p, i, k, l, j, c;
	double *h = out + 1 + D;
	int ret;

	if ((ret = matrix_gemm_abt(sc->block, nb, p, ft->w, K, sc->z, NULL)))
		return ret;
	for (i = 0; i < nb; i++) {
		double *z = sc->z + i * K, zmax = -INFINITY, sum = 0, lse;
		uint32_t y = ft->cls[start + i];
		double s = ft->sw ? ft->sw[y] : 1;

		for (k = 0; k < K; k++)
			if (z[k] > zmax)
				zmax = z[k];
		for (k = 0; k < K; k++)
			sum += exp(z[k] - zmax);
		lse = zmax + log(sum);
		out[0] += s * (lse - z[y]);
		/* z becomes the probabilities; the gradient uses p - y. */
		for (k = 0; k < K; k++)
			z[k] = exp(z[k] - lse);
	}
	if (ft->want_h) {
		for (k = 0; k < K; k++) {
			for (l = k; l < K; l++) {
				for (i = 0; i < nb; i++) {
					double pk = sc->z[i * K + k];
					double s = ft->sw ? ft->sw[ft->cls[start + i]] : 1;
					double wt = s * pk * ((k == l) - sc->z[i * K + l]);

					for (j = 0; j < p; j++)
						sc->block2[i * p + j] =
							sc->block[i * p + j] * wt;
				}
				memset(sc->hk, 0, p * p * sizeof(double));
				if ((ret = matrix_gemm_atb(sc->block2, nb, p,
							   sc->block, p, 1.0,
							   sc->hk, NULL)))
					return ret;
				for (j = 0; j < p; j++)
					for (c = 0; c < p; c++) {
						double v = sc->hk[j * p + c];

						h[(k * p + j) * D + l * p + c] += v;
						if (l != k)
							h[(l * p + c) * D + k * p + j] += v;
					}
			}
		}
	}
	for (i = 0; i < nb; i++) {
		uint32_t y = ft->cls[start + i];
		double s = ft->sw ? ft->sw[y] : 1;

		for (k = 0; k < K; k++)
			sc->z[i * K + k] = s * (sc->z[i * K + k] - (k == y));
	}
	return matrix_gemm_atb(sc->z, nb, K, sc->block, p, 1.0, out + 1, NULL);
}

/* Gram matrix X'X and X'y of one block into out (p*p, then p). */
static int block_gram(struct fit *ft, struct scratch *sc, size_t start,
		      size_t nb, double *out)
{
	size_t p = ft->p;
	int ret;

	if ((ret = matrix_syrk_add(sc->block, nb, p, out, NULL)))
		return ret;
	return matrix_gemm_atb(ft->yv + start, nb, 1, sc->block, p, 1.0,
			       out + p * p, NULL);
}

static int pass_chunk(void *arg, size_t worker, size_t task)
{
	struct fit *ft = arg;
	struct scratch *sc = &ft->scr[worker];
	size_t chunk = ft->first_chunk + task;
	size_t start = chunk * CHUNK_ROWS, end = start + CHUNK_ROWS, b;
	double *out = ft->out + task * ft->out_len;
	int ret = 0;

	if (end > ft->n)
		end = ft->n;
	memset(out, 0, ft->out_len * sizeof(*out));
	for (b = start; b < end && !ret; b += BLOCK_ROWS) {
		size_t nb = end - b < BLOCK_ROWS ? end - b : BLOCK_ROWS;

		if (ft->kind == PASS_LOGISTIC && !ft->want_h) {
			design_fill(ft->d, ft->rows + b, nb, sc->block, 1, nb, 0,
				    sc->view);
			ret = block_logistic_grad(ft, sc, b, nb, out);
			continue;
		}
		design_fill(ft->d, ft->rows + b, nb, sc->block, ft->p, 1, 1, NULL);
		switch (ft->kind) {
		case PASS_LOGISTIC:
			ret = block_logistic(ft, sc, b, nb, out);
			break;
		case PASS_SOFTMAX:
			ret = block_softmax(ft, sc, b, nb, out);
			break;
		case PASS_GRAM:
			ret = block_gram(ft, sc, b, nb, out);
			break;
		}
	}
	return ret;
}

/*
 * Run one pass of `kind` at w; `sum` receives the chunk partials added in
 * chunk order (out_len doubles).
 */
static int run_pass(struct fit *ft, enum pass_kind kind, const double *w,
		    int want_h, size_t out_len, double *sum,
		    struct mlops_err *err)
{
	size_t n_chunks = (ft->n + CHUNK_ROWS - 1) / CHUNK_ROWS;
	size_t batch = 2 * ft->n_workers, c, j;
	int ret = 0;

	/* Partials of wide Gram matrices: fewer at a time, same sums. */
	if (batch > 1 && batch * out_len > PASS_MAX_DOUBLES)
		batch = out_len < PASS_MAX_DOUBLES ?
			PASS_MAX_DOUBLES / out_len : 1;

	ft->kind = kind;
	ft->w = w;
	ft->want_h = want_h;
	ft->out_len = out_len;
	ft->out = xcalloc(batch * out_len + 1, sizeof(double));
	memset(sum, 0, out_len * sizeof(*sum));
	for (ft->first_chunk = 0; ft->first_chunk < n_chunks && !ret;
	     ft->first_chunk += batch) {
		size_t n_run = n_chunks - ft->first_chunk < batch ?
			       n_chunks - ft->first_chunk : batch;

		ret = parallel_run(n_run, ft->n_workers, pass_chunk, ft);
		for (c = 0; c < n_run && !ret; c++)
			for (j = 0; j < out_len; j++)
				sum[j] += ft->out[c * out_len + j];
	}
	free(ft->out);
	ft->out = NULL;
	if (ret)
		return err_set(err, ret, "a training pass failed (matrix shape)");
	return 0;
}

/* Logistic: objective, gradient and, if h, the full Hessian at w. */
static int logistic_eval(struct fit *ft, const double *w, double *f,
			 double *g, double *h, struct mlops_err *err)
{
	size_t p = ft->p, j;
	double *sum = xmallocarray(1 + p + (h ? p * p : 0), sizeof(double));
	int ret;

	if ((ret = run_pass(ft, PASS_LOGISTIC, w, h != NULL,
			    1 + p + (h ? p * p : 0), sum, err))) {
		free(sum);
		return ret;
	}
	memcpy(g, sum + 1, p * sizeof(*g));
	*f = sum[0] + penalty(ft, w, g);
	if (h) {
		memcpy(h, sum + 1 + p, p * p * sizeof(*h));
		for (j = 0; j + 1 < p; j++)
			h[j * p + j] += ft->lambda;
		matrix_symmetrize(h, p);
	}
	free(sum);
	return 0;
}

/* Softmax: objective, gradient and, if h, the Hessian at W (K x p). */
static int softmax_eval(struct fit *ft, const double *w, double *f, double *g,
			double *h, struct mlops_err *err)
{
	size_t p = ft->p, D = ft->K * p, k, j;
	double *sum = xmallocarray(1 + D + (h ? D * D : 0), sizeof(double));
	double dmax = 0;
	int ret;

	if ((ret = run_pass(ft, PASS_SOFTMAX, w, h != NULL,
			    1 + D + (h ? D * D : 0), sum, err))) {
		free(sum);
		return ret;
	}
	memcpy(g, sum + 1, D * sizeof(*g));
	*f = sum[0] + penalty(ft, w, g);
	if (h) {
		memcpy(h, sum + 1 + D, D * D * sizeof(*h));
		for (k = 0; k < ft->K; k++)
			for (j = 0; j + 1 < p; j++)
				h[(k * p + j) * D + k * p + j] += ft->lambda;
		for (j = 0; j < D; j++)
			if (h[j * D + j] > dmax)
				dmax = h[j * D + j];
		/*
		 * Adding the same constant to every intercept changes nothing,
		 * so the Hessian is singular along that direction.  A tiny
		 * ridge on the intercepts makes it solvable without moving
		 * along it (the gradient never has a component there), which
		 * keeps scikit-learn's solution: intercepts summing to zero.
		 */
		for (k = 0; k < ft->K; k++)
			h[(k * p + p - 1) * D + k * p + p - 1] +=
				1e-10 * (dmax > 1 ? dmax : 1);
	}
	free(sum);
	return 0;
}

static double max_abs(const double *v, size_t n)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (fabs(v[i]) > m)
			m = fabs(v[i]);
	return m;
}

static double weight_total(const struct fit *ft)
{
	double s = 0;
	size_t i;

	if (!ft->sw)
		return (double)ft->n;
	for (i = 0; i < ft->n; i++)
		s += ft->sw[ft->cls[i]];
	return s;
}

/* Whether a step's decrease is below the rounding of the objective. */
static int stalled(double f, double fn)
{
	return f - fn <= 64 * DBL_EPSILON * fmax(fmax(fabs(f), fabs(fn)), 1);
}

/*
 * The solvers' first point: w as given, unless its loss is not below
 * f_reset (or not finite), in which case w = 0.
 */
static int start_at(struct fit *ft, eval_fn eval, size_t D, double *w,
		    double f_reset, double *f, double *g, double *h,
		    struct mlops_err *err)
{
	int ret = eval(ft, w, f, g, h, err);

	if (ret || *f < f_reset)
		return ret;
	memset(w, 0, D * sizeof(*w));
	return eval(ft, w, f, g, h, err);
}

/*
 * Newton's method with a backtracking (Armijo) line search, solved by
 * Cholesky, from the w it is given.  A trial point costs one pass.  Near
 * the optimum, where the next point will likely pass the gradient test,
 * the trial pass skips the Hessian (most of a pass's work) and a second
 * pass computes it only if the test fails after all.
 *
 * Given ft->h_start (a Hessian estimated near w, from a sample), the
 * steps use it instead, and no pass computes a Hessian, for as long as
 * each full step cuts the gradient at least FROZEN_GAIN-fold: near the
 * optimum a good estimate makes that a fast linear convergence at the
 * price of gradient passes only.  The first step that does worse (as
 * from a start that fell back to w = 0) computes the true Hessian and
 * goes on as plain Newton, so the optimum and the test are the same
 * either way.
 */
#define FROZEN_GAIN 4

/*
 * BFGS's update of a Hessian estimate h (D x D) by the step w -> wn and
 * the gradient change g -> gn, so that h maps the step to the change;
 * skipped unless the curvature along the step is positive.  `work`
 * holds D doubles.
 */
static void bfgs_update(double *h, size_t D, const double *w,
			const double *wn, const double *g, const double *gn,
			double *work)
{
	double *hs = work, sy = 0, shs = 0, s_i, y_i, y_j;
	size_t i, j;

	for (i = 0; i < D; i++) {
		hs[i] = 0;
		for (j = 0; j < D; j++)
			hs[i] += h[i * D + j] * (wn[j] - w[j]);
	}
	for (i = 0; i < D; i++) {
		s_i = wn[i] - w[i];
		sy += s_i * (gn[i] - g[i]);
		shs += s_i * hs[i];
	}
	if (!(sy > 0) || !(shs > 0))
		return;
	for (i = 0; i < D; i++) {
		y_i = gn[i] - g[i];
		for (j = 0; j < D; j++) {
			y_j = gn[j] - g[j];
			h[i * D + j] += y_i * y_j / sy - hs[i] * hs[j] / shs;
		}
	}
}

static int solve_newton(struct fit *ft, struct model *m, eval_fn eval,
			size_t D, double tol, long max_iter, double *w,
			double f_reset, struct mlops_err *err)
{
	double *g = xcalloc(D, sizeof(double)), *h = xcalloc(D * D, sizeof(double));
	double *d = xcalloc(D, sizeof(double)), *wn = xcalloc(D, sizeof(double));
	double *gn = xcalloc(D, sizeof(double)), *hn = xcalloc(D * D, sizeof(double));
	double *hf = xcalloc(D * D, sizeof(double));
	double f, fn = 0, scale = weight_total(ft), t, slope, gmax;
	size_t j;
	long it;
	int ret, cheap, frozen = ft->h_start != NULL || ft->h_freeze;

	m->converged = 0;
	if (ft->h_start)
		memcpy(h, ft->h_start, D * D * sizeof(*h));
	if ((ret = start_at(ft, eval, D, w, f_reset, &f, g,
			    ft->h_start ? NULL : h, err)))
		goto out;
	for (it = 0; ; it++) {
		gmax = max_abs(g, D);
		if (gmax <= tol * scale) {
			m->converged = 1;
			break;
		}
		if (it >= max_iter)
			break;
		cheap = frozen || gmax <= NEWTON_NEAR * tol * scale;
		/* The solve factors its matrix in place: h stays a Hessian. */
		memcpy(d, g, D * sizeof(*d));
		memcpy(hf, h, D * D * sizeof(*h));
		ret = matrix_cholesky_solve(hf, D, d, err);
		if (ret && frozen) {
			/* The estimate is not positive definite here. */
			frozen = 0;
			if ((ret = eval(ft, w, &f, g, h, err)))
				goto out;
			it--;
			continue;
		}
		if (ret)
			goto out;
		if (ft->K > 1) {
			/*
			 * Softmax: keep the step off the flat direction (all
			 * intercepts up by the same amount), which rounding in
			 * the gradient would otherwise excite.
			 */
			double mean = 0;
			size_t k, p = ft->p;

			for (k = 0; k < ft->K; k++)
				mean += d[k * p + p - 1];
			mean /= (double)ft->K;
			for (k = 0; k < ft->K; k++)
				d[k * p + p - 1] -= mean;
		}
		slope = matrix_dot(g, d, D);
		for (t = 1; ; t /= 2) {
			for (j = 0; j < D; j++)
				wn[j] = w[j] - t * d[j];
			if ((ret = eval(ft, wn, &fn, gn, cheap ? NULL : hn, err)))
				goto out;
			if (fn <= f - 1e-4 * t * slope || t < 1e-10)
				break;
		}
		if (t < 1e-10 && fn > f)
			break;		/* no progress possible in floating point */
		if (frozen)
			bfgs_update(h, D, w, wn, g, gn, hf);
		memcpy(w, wn, D * sizeof(*w));
		memcpy(g, gn, D * sizeof(*g));
		if (stalled(f, fn) && max_abs(g, D) <= 1e3 * tol * scale) {
			it++;
			m->converged = 1;
			break;
		}
		f = fn;
		if (frozen && t == 1 && max_abs(g, D) * FROZEN_GAIN <= gmax)
			continue;	/* the estimate still serves */
		frozen = 0;
		if (!cheap)
			memcpy(h, hn, D * D * sizeof(*h));
		else if (max_abs(g, D) > tol * scale &&
			 (ret = eval(ft, w, &f, g, h, err)))
			goto out;
	}
	m->n_iter = it;
	if (ft->h_keep)
		memcpy(ft->h_keep, h, D * D * sizeof(*h));
out:
	free(g);
	free(h);
	free(d);
	free(wn);
	free(gn);
	free(hn);
	free(hf);
	return ret;
}

/* L-BFGS with a backtracking line search, for problems too wide for Newton. */
static int solve_lbfgs(struct fit *ft, struct model *m, eval_fn eval,
		       size_t D, double tol, long max_iter, double *w,
		       double f_reset, struct mlops_err *err)
{
	size_t mem = LBFGS_MEMORY, n_hist = 0, head = 0;
	double *s = xcalloc(mem * D, sizeof(double));
	double *y = xcalloc(mem * D, sizeof(double));
	double *rho = xcalloc(mem, sizeof(double)), alpha[LBFGS_MEMORY];
	double *g = xcalloc(D, sizeof(double)), *gn = xcalloc(D, sizeof(double));
	double *d = xcalloc(D, sizeof(double)), *wn = xcalloc(D, sizeof(double));
	double f, fn, scale = weight_total(ft), t, slope, gamma = 1;
	size_t i, j;
	long it;
	int ret;

	m->converged = 0;
	if ((ret = start_at(ft, eval, D, w, f_reset, &f, g, NULL, err)))
		goto out;
	for (it = 0; ; it++) {
		if (max_abs(g, D) <= tol * scale) {
			m->converged = 1;
			break;
		}
		if (it >= max_iter)
			break;
		/* Two-loop recursion: d = H g. */
		memcpy(d, g, D * sizeof(*d));
		for (i = 0; i < n_hist; i++) {
			size_t k = (head + mem - 1 - i) % mem;

			alpha[k] = rho[k] * matrix_dot(s + k * D, d, D);
			for (j = 0; j < D; j++)
				d[j] -= alpha[k] * y[k * D + j];
		}
		for (j = 0; j < D; j++)
			d[j] *= gamma;
		for (i = n_hist; i-- > 0;) {
			size_t k = (head + mem - 1 - i) % mem;
			double beta = rho[k] * matrix_dot(y + k * D, d, D);

			for (j = 0; j < D; j++)
				d[j] += s[k * D + j] * (alpha[k] - beta);
		}
		if (!n_hist) {
			double norm = sqrt(matrix_dot(g, g, D));

			for (j = 0; j < D; j++)
				d[j] = g[j] / (norm > 1 ? norm : 1);
		}
		slope = matrix_dot(g, d, D);
		if (!(slope > 0)) {
			/* Not a descent direction: restart from the gradient. */
			memcpy(d, g, D * sizeof(*d));
			slope = matrix_dot(g, d, D);
			n_hist = 0;
		}
		for (t = 1; ; t /= 2) {
			for (j = 0; j < D; j++)
				wn[j] = w[j] - t * d[j];
			if ((ret = eval(ft, wn, &fn, gn, NULL, err)))
				goto out;
			if (fn <= f - 1e-4 * t * slope || t < 1e-12)
				break;
		}
		if (t < 1e-12 && fn >= f)
			break;
		/*
		 * Below the rounding of the loss no step can make progress:
		 * stop as scipy's L-BFGS does (its factr test), converged.
		 */
		if (stalled(f, fn)) {
			memcpy(w, wn, D * sizeof(*w));
			m->converged = 1;
			it++;
			break;
		}
		{
			size_t k = head;
			double sy, yy;

			for (j = 0; j < D; j++) {
				s[k * D + j] = wn[j] - w[j];
				y[k * D + j] = gn[j] - g[j];
			}
			sy = matrix_dot(s + k * D, y + k * D, D);
			yy = matrix_dot(y + k * D, y + k * D, D);
			if (sy > 1e-12 * yy && yy > 0) {
				rho[k] = 1 / sy;
				gamma = sy / yy;
				head = (head + 1) % mem;
				if (n_hist < mem)
					n_hist++;
			}
		}
		memcpy(w, wn, D * sizeof(*w));
		memcpy(g, gn, D * sizeof(*g));
		f = fn;
	}
	m->n_iter = it;
out:
	free(s);
	free(y);
	free(rho);
	free(g);
	free(gn);
	free(d);
	free(wn);
	return ret;
}

typedef int (*solve_fn)(struct fit *ft, struct model *m, eval_fn eval,
			size_t D, double tol, long max_iter, double *w,
			double f_reset, struct mlops_err *err);

/*
 * A systematic sample of ft: one row in WARM_STEP, in runs of WARM_RUN
 * rows spread evenly over the table (each cache line read is then used
 * whole, and each fill tile is one run), with the penalty scaled by the
 * sample's share of `full`'s rows.  sub->rows and sub->cls are the
 * caller's to free.
 */
static void warm_sample(const struct fit *ft, const struct fit *full,
			struct fit *sub)
{
	size_t i, n = ft->n / WARM_STEP;
	size_t *rows = xmallocarray(n ? n : 1, sizeof(size_t));
	uint32_t *cls = xmallocarray(n ? n : 1, sizeof(uint32_t));

	for (i = 0; i < n; i++) {
		size_t k = i / WARM_RUN * WARM_RUN * WARM_STEP + i % WARM_RUN;

		rows[i] = ft->rows[k];
		cls[i] = ft->cls[k];
	}
	*sub = *ft;
	sub->rows = rows;
	sub->cls = cls;
	sub->yv = NULL;		/* classifiers only; not sampled */
	sub->n = n;
	sub->lambda = full->lambda * (double)n / (double)full->n;
	sub->h_keep = NULL;
	sub->h_start = NULL;
	sub->h_freeze = 0;
}

static void warm_sample_free(struct fit *sub)
{
	free((void *)sub->rows);
	free((void *)sub->cls);
}

/* The loss at w = 0: every row has probability 1/K, loss log K. */
static double zero_loss(const struct fit *ft)
{
	return weight_total(ft) * log((double)(ft->K > 1 ? ft->K : 2));
}

/*
 * A solver from a warm start.  On a long table the solver first runs on a
 * systematic sample of one row in WARM_STEP (warm_sample), so that its
 * optimum is the full one up to sampling error; from there the full data
 * need only the last iteration or two (Newton converges quadratically).
 * Newton's sample starts in turn from a sample of its own when that has
 * warm_min_rows / 16 rows or more: its first iterations, from w = 0,
 * are most of its passes and need no precision.  The answer is the full
 * problem's optimum, to the same tolerance, whatever the start.  Each
 * start is kept only if it beats w = 0, whose loss needs no pass; a
 * sample the solver fails on (a Hessian singular on so few rows) only
 * means no start.
 */
static int solve_warm(struct fit *ft, struct model *m, solve_fn solve,
		      eval_fn eval, size_t D, double tol, long max_iter,
		      double *w, struct mlops_err *err)
{
	struct fit sub, pre;
	struct model scratch;
	struct mlops_err ignored = MLOPS_ERR_INIT;
	double f_sub = INFINITY, f_full = INFINITY, wtol = fmax(tol, WARM_TOL);
	size_t i;
	int ret;

	memset(w, 0, D * sizeof(*w));
	if (ft->n < ft->warm_min_rows || ft->n / WARM_STEP < 2)
		return solve(ft, m, eval, D, tol, max_iter, w, INFINITY, err);
	warm_sample(ft, ft, &sub);
	memset(&scratch, 0, sizeof(scratch));
	if (solve == solve_newton &&
	    sub.n / WARM_STEP >= ft->warm_min_rows / 16) {
		warm_sample(&sub, ft, &pre);
		if (solve(&pre, &scratch, eval, D, wtol, max_iter, w,
			  INFINITY, &ignored))
			memset(w, 0, D * sizeof(*w));
		else
			f_sub = zero_loss(&sub);
		warm_sample_free(&pre);
	}
	/*
	 * Newton's last Hessian on the sample, scaled up, guides the polish.
	 * From a sample's start the sample's Hessian there is close enough
	 * to take the sample's own steps with.
	 */
	if (solve == solve_newton) {
		sub.h_keep = xcalloc(D * D, sizeof(double));
		sub.h_freeze = f_sub < INFINITY;
	}
	/*
	 * The sample's optimum is off the full one by sampling error, far
	 * more than 1e-4 of a gradient per row: solving it closer is waste.
	 */
	if (solve(&sub, &scratch, eval, D, wtol, max_iter, w, f_sub,
		  &ignored)) {
		memset(w, 0, D * sizeof(*w));
	} else {
		f_full = zero_loss(ft);
		for (i = 0; sub.h_keep && i < D * D; i++)
			sub.h_keep[i] *= (double)ft->n / (double)sub.n;
		ft->h_start = sub.h_keep;
	}
	warm_sample_free(&sub);
	ret = solve(ft, m, eval, D, tol, max_iter, w, f_full, err);
	ft->h_start = NULL;
	free(sub.h_keep);
	return ret;
}

static int solve_least_squares(struct fit *ft, struct model *m, int ridge,
			       double alpha, double *w, struct mlops_err *err)
{
	size_t p = ft->p, q = p - 1, i, j;
	double *sum = xcalloc(p * p + p, sizeof(double)), *gram = sum;
	double *b = sum + p * p, *h = xcalloc(q * q + 1, sizeof(double));
	double n = (double)ft->n, ybar;
	int ret = 0;

	if ((ret = run_pass(ft, PASS_GRAM, NULL, 0, p * p + p, sum, err)))
		goto out;
	matrix_symmetrize(gram, p);
	/* Centre: X_c' X_c = X'X - n xbar xbar', X_c' y_c likewise. */
	ybar = b[q] / n;
	for (i = 0; i < q; i++) {
		for (j = 0; j < q; j++)
			h[i * q + j] = gram[i * p + j] -
				       gram[i * p + q] * gram[j * p + q] / n;
		w[i] = b[i] - gram[i * p + q] * ybar;
		if (ridge)
			h[i * q + i] += alpha;
	}
	if (ridge)
		ret = matrix_cholesky_solve(h, q, w, err);
	else
		ret = matrix_sym_pinv_solve(h, q, w, 1e-12, err);
	if (ret)
		goto out;
	w[q] = ybar;
	for (i = 0; i < q; i++)
		w[q] -= gram[i * p + q] / n * w[i];
	m->converged = 1;
	m->n_iter = 1;
out:
	free(sum);
	free(h);
	return ret;
}

/* ---- the whole fit ---- */

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void shuffle(size_t *v, size_t n, unsigned long seed)
{
	uint64_t state = seed;
	size_t i;

	for (i = n; i > 1; i--) {
		size_t j = (size_t)(splitmix64(&state) % i), t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

/*
 * Rows [0, n) of rows (ascending, below n_rows) become a random holdout
 * of n_hold rows then the training rows, each part in ascending order:
 * the holdout is the first n_hold after a shuffle by `seed`, and a mark
 * per row puts both parts back in order without sorting.
 */
static void holdout_split(size_t *rows, size_t n, size_t n_hold,
			  size_t n_rows, unsigned long seed)
{
	unsigned char *mark = xcalloc(n_rows + 1, 1);
	size_t i, h = 0, t = n_hold;

	for (i = 0; i < n; i++)
		mark[rows[i]] = 1;
	shuffle(rows, n, seed);
	for (i = 0; i < n_hold; i++)
		mark[rows[i]] = 2;
	for (i = 0; i < n_rows; i++) {
		if (mark[i] == 2)
			rows[h++] = i;
		else if (mark[i] == 1)
			rows[t++] = i;
	}
	free(mark);
}

static int in_names(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return 1;
	return 0;
}

struct label {
	const char *text;
	double value;
	size_t code;
};

static int cmp_label_str(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->text,
		      ((const struct label *)b)->text);
}

/*
 * Collect the classes of the target over `rows`, sorted as numpy's unique
 * would (numerically for numbers), and map each row to its class.
 */
static int make_classes(struct model *m, const struct ds_column *t,
			const size_t *rows, size_t n, uint32_t *cls,
			struct mlops_err *err)
{
	struct label *lab = NULL;
	size_t n_lab = 0, alloc = 0, i, k;
	char buf[40];

	if (t->type == DS_NUMERIC) {
		/*
		 * Distinct values, kept sorted as they come: a binary search
		 * per row (at most 1000 of them, and the previous row's value
		 * is usually the answer), no sort of the column.
		 */
		size_t last = 0;

		for (i = 0; i < n; i++) {
			double x = t->num[rows[i]];
			size_t lo = 0, hi = n_lab;

			if (n_lab && lab[last].value == x)
				continue;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;

				if (lab[mid].value < x)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < n_lab && lab[lo].value == x) {
				last = lo;
				continue;
			}
			if (n_lab >= 1000) {
				free(lab);
				return err_set(err, MLOPS_EUSAGE,
					       "target '%s' has more than 1000 distinct values; use --model linear or ridge",
					       t->name);
			}
			XGROW(lab, alloc, n_lab + 1);
			memmove(lab + lo + 1, lab + lo,
				(n_lab - lo) * sizeof(*lab));
			lab[lo].value = x;
			lab[lo].text = NULL;
			n_lab++;
			last = lo;
		}
		m->classes = xcalloc(n_lab + 1, sizeof(char *));
		for (k = 0; k < n_lab; k++) {
			csv_format_double(buf, lab[k].value);
			m->classes[k] = xstrdup(buf);
		}
		for (i = 0; i < n; i++) {
			double x = t->num[rows[i]];
			size_t lo = 0, hi = n_lab;

			while (hi - lo > 1) {
				size_t mid = (lo + hi) / 2;

				if (lab[mid].value <= x)
					lo = mid;
				else
					hi = mid;
			}
			cls[i] = (uint32_t)lo;
		}
	} else {
		size_t *rank = xcalloc(t->n_levels + 1, sizeof(size_t));
		unsigned char *seen = xcalloc(t->n_levels + 1, 1);

		for (i = 0; i < n; i++)
			seen[t->code[rows[i]]] = 1;
		for (k = 0; k < t->n_levels; k++) {
			if (!seen[k])
				continue;
			XGROW(lab, alloc, n_lab + 1);
			lab[n_lab].text = t->levels[k];
			lab[n_lab].code = k;
			n_lab++;
		}
		qsort(lab, n_lab, sizeof(*lab), cmp_label_str);
		m->classes = xcalloc(n_lab + 1, sizeof(char *));
		for (k = 0; k < n_lab; k++) {
			m->classes[k] = xstrdup(lab[k].text);
			rank[lab[k].code] = k;
		}
		for (i = 0; i < n; i++)
			cls[i] = (uint32_t)rank[t->code[rows[i]]];
		free(rank);
		free(seen);
	}
	m->n_classes = n_lab;
	free(lab);
	if (n_lab < 2)
		return err_set(err, MLOPS_EINPUT,
			       "target '%s' has a single class%s%s%s in the training rows",
			       t->name, n_lab ? " ('" : "",
			       n_lab ? m->classes[0] : "", n_lab ? "')" : "");
	return 0;
}

/* Whether a numeric column takes at most two distinct values. */
static int two_valued(const struct ds_column *t, const size_t *rows, size_t n)
{
	double a = NAN, b = NAN;
	size_t i;

	for (i = 0; i < n; i++) {
		double x = t->num[rows[i]];

		if (isnan(a) || x == a)
			a = x;
		else if (isnan(b) || x == b)
			b = x;
		else
			return 0;
	}
	return 1;
}

/*
 * Column c as features: a timestamp column as its parts; an identifier
 * not asked for by name is left out (and named in rep).
 */
static void add_feature(struct dataset *ds, size_t c, int named,
			size_t *cols, size_t *n, struct train_report *rep)
{
	size_t first, k, np;

	if (ds->cols[c].type == DS_TIMESTAMP) {
		dataset_timestamp_parts(ds, c, &first, &np);
		for (k = 0; k < np; k++)
			cols[(*n)++] = first + k;
		return;
	}
	if (ds->cols[c].id_like && !named) {
		rep->id_columns = xreallocarray(rep->id_columns,
						rep->n_id_columns + 1,
						sizeof(char *));
		rep->id_columns[rep->n_id_columns++] =
			xstrdup(ds->cols[c].name);
		return;
	}
	cols[(*n)++] = c;
}

static int pick_features(struct dataset *ds, const struct train_opts *o,
			 int target, size_t **cols, size_t *n_cols,
			 struct train_report *rep, struct mlops_err *err)
{
	size_t i, n = 0, n_ds = ds->n_cols, cap = 0;
	int c;

	for (i = 0; i < n_ds; i++)
		cap += ds->cols[i].type == DS_TIMESTAMP ? CELL_N_PARTS : 1;
	*cols = xcalloc(cap + 1, sizeof(size_t));
	/* dataset_load() checked the names and left excluded columns out. */
	if (o->features) {
		for (i = 0; i < o->n_features; i++) {
			c = dataset_find(ds, o->features[i]);
			if (c < 0)
				return err_set(err, MLOPS_EUSAGE,
					       "--features: '%s' has no column '%s'",
					       ds->name, o->features[i]);
			if (c == target)
				return err_set(err, MLOPS_EUSAGE,
					       "the target '%s' cannot also be a feature",
					       o->target);
			if (in_names(o->features, i, o->features[i]))
				return err_set(err, MLOPS_EUSAGE,
					       "--features: '%s' is named twice",
					       o->features[i]);
			if (!in_names(o->exclude, o->n_exclude, o->features[i]))
				add_feature(ds, (size_t)c, 1, *cols, &n, rep);
		}
	} else {
		for (i = 0; i < n_ds; i++)
			if ((int)i != target &&
			    !in_names(o->exclude, o->n_exclude, ds->cols[i].name))
				add_feature(ds, i, 0, *cols, &n, rep);
	}
	if (!n)
		return err_set(err, MLOPS_EUSAGE, "no feature columns left to train on");
	*n_cols = n;
	return 0;
}

/* Categorical baselines (numeric ones were made by fit_numeric()). */
static void profile_features(struct model *m, const struct design *d,
			     const size_t *rows, size_t n)
{
	int32_t *codes = xmallocarray(n ? n : 1, sizeof(int32_t));
	size_t i, j;

	for (j = 0; j < m->n_features; j++) {
		struct feature *f = &m->features[j];
		const struct ds_column *c = &d->ds->cols[d->col[j]];

		if (f->kind == FEATURE_NUMERIC)
			continue;
		for (i = 0; i < n; i++)
			codes[i] = c->code[rows[i]] < 0 ? -1 :
				   d->code_map[j][c->code[rows[i]]];
		profile_categorical(&f->profile, codes, n, f->levels,
				    f->n_levels);
	}
	free(codes);
}

/*
 * Predict rows (by dataset index) into out (n x predict_width) through
 * predict_columns(), as scoring does: the dataset's columns are copied
 * into the raw values and levels a scoring stream would read from the
 * same rows of the file.  An encoded column (reuse_columns) is passed
 * as such.
 */
struct predict_job {
	const struct model *m;
	const struct design *d;
	const size_t *rows;
	size_t n;
	double *out;
	double **raw, **scratch;	/* per worker */
	int32_t **level;		/* per worker */
};

static void columns_fill(const struct design *d, const size_t *rows,
			 size_t n, double *raw, int32_t *level, size_t ld)
{
	const struct model *m = d->m;
	size_t i, j;

	for (j = 0; j < m->n_features; j++) {
		const struct ds_column *c = &d->ds->cols[d->col[j]];

		if (m->features[j].kind == FEATURE_NUMERIC) {
			for (i = 0; i < n; i++)
				raw[j * ld + i] = c->num[rows[i]];
			continue;
		}
		for (i = 0; i < n; i++) {
			int32_t code = c->code[rows[i]];

			level[j * ld + i] = code < 0 ? PREDICT_LEVEL_MISSING :
					    d->code_map[j][code] < 0 ?
					    PREDICT_LEVEL_UNSEEN :
					    d->code_map[j][code];
		}
	}
}

/* Task: CHUNK_ROWS rows, block by block, into their place in out. */
static int predict_chunk(void *arg, size_t worker, size_t task)
{
	struct predict_job *pj = arg;
	const struct model *m = pj->m;
	size_t start = task * CHUNK_ROWS, end = start + CHUNK_ROWS, b, nb;
	size_t w = predict_width(m);
	struct predict_cols in = { 0, BLOCK_ROWS, pj->raw[worker],
				   pj->level[worker], pj->d->encoded };

	if (end > pj->n)
		end = pj->n;
	for (b = start; b < end; b += nb) {
		nb = end - b < BLOCK_ROWS ? end - b : BLOCK_ROWS;
		columns_fill(pj->d, pj->rows + b, nb, pj->raw[worker],
			     pj->level[worker], BLOCK_ROWS);
		in.n = nb;
		predict_columns(m, &in, pj->scratch[worker], pj->out + b * w);
	}
	return 0;
}

static int predict_rows(const struct model *m, const struct design *d,
			const size_t *rows, size_t n, double *out,
			struct mlops_err *err)
{
	struct predict_job pj = { m, d, rows, n, out, NULL, NULL, NULL };
	size_t nw = parallel_cpus(), nf = m->n_features + 1, i;
	int ret;

	pj.raw = xcalloc(nw, sizeof(double *));
	pj.scratch = xcalloc(nw, sizeof(double *));
	pj.level = xcalloc(nw, sizeof(int32_t *));
	for (i = 0; i < nw; i++) {
		pj.raw[i] = xmallocarray(BLOCK_ROWS * nf, sizeof(double));
		pj.level[i] = xmallocarray(BLOCK_ROWS * nf, sizeof(int32_t));
		pj.scratch[i] = xmallocarray(predict_scratch_len(m, BLOCK_ROWS),
					     sizeof(double));
	}
	ret = parallel_run((n + CHUNK_ROWS - 1) / CHUNK_ROWS, nw,
			   predict_chunk, &pj);
	for (i = 0; i < nw; i++) {
		free(pj.raw[i]);
		free(pj.level[i]);
		free(pj.scratch[i]);
	}
	free(pj.raw);
	free(pj.level);
	free(pj.scratch);
	if (ret)
		return err_set(err, ret, "predicting the training rows failed");
	return 0;
}

static void profile_predictions(struct model *m, const double *pred, size_t n)
{
	int32_t *codes;
	size_t i;

	if (m->task != TASK_MULTICLASS) {
		profile_long(&m->pred_profile, pred, NULL, n);
		return;
	}
	codes = xmallocarray(n ? n : 1, sizeof(int32_t));
	for (i = 0; i < n; i++)
		codes[i] = (int32_t)score_argmax(m, pred + i * m->n_classes);
	profile_categorical(&m->pred_profile, codes, n, m->classes,
			    m->n_classes);
	free(codes);
}

/*
 * Numbers near the largest double (1e308) make a mean or a spread
 * overflow: a clean error naming the column, not an infinity in the
 * model.
 */
static int check_finite_prep(const struct model *m, const struct dataset *ds,
			     struct mlops_err *err)
{
	size_t j;

	for (j = 0; j < m->n_features; j++) {
		const struct feature *f = &m->features[j];
		const struct profile *p = &f->profile;

		if (f->kind != FEATURE_NUMERIC)
			continue;
		if (isfinite(f->impute) && isfinite(f->center) &&
		    isfinite(f->scale) && isfinite(p->mean) &&
		    isfinite(p->std))
			continue;
		return err_set(err, MLOPS_EINPUT,
			       "'%s': column '%s' holds numbers too large to "
			       "fit: their mean or spread overflows a double "
			       "(rescale the column)", ds->name, f->name);
	}
	return 0;
}

/* The same for a regression target's values. */
static int check_finite_target(const double *y, size_t n, const char *file,
			       const char *name, struct mlops_err *err)
{
	double sum = 0, sq = 0, mean;
	size_t i;

	for (i = 0; i < n; i++)
		sum += y[i];
	mean = n ? sum / (double)n : 0;
	for (i = 0; i < n; i++)
		sq += (y[i] - mean) * (y[i] - mean);
	if (isfinite(mean) && isfinite(sq))
		return 0;
	return err_set(err, MLOPS_EINPUT,
		       "'%s': target '%s' holds numbers too large to fit: "
		       "their mean or spread overflows a double (rescale it)",
		       file, name);
}

/*
 * Predictions of rows (positions into the design) must be finite: a row
 * whose prediction overflows names the feature with the largest
 * standardised value in it.
 */
static int check_finite_pred(const struct model *m, const struct design *d,
			     const size_t *rows, size_t n, const double *pred,
			     struct mlops_err *err)
{
	size_t i, j, k, w = score_width(m), worst = SIZE_MAX;
	double big = -1;

	for (i = 0; i < n * w && isfinite(pred[i]); i++)
		;
	if (i == n * w)
		return 0;
	i /= w;
	for (j = 0; j < m->n_features; j++) {
		const struct feature *f = &m->features[j];
		const struct ds_column *c = &d->ds->cols[d->col[j]];
		double x;

		if (f->kind != FEATURE_NUMERIC)
			continue;
		x = c->num[rows[i]];
		if (!d->encoded[j])
			x = score_encode_numeric(f, x);
		if (fabs(x) > big) {
			big = fabs(x);
			worst = j;
		}
	}
	k = worst == SIZE_MAX ? 0 : worst;
	return err_set(err, MLOPS_EINPUT,
		       "'%s': a prediction overflows a double; column '%s' "
		       "holds a value %g standard deviations from its mean "
		       "(rescale the column)", d->ds->name,
		       m->features[k].name, big);
}

/* ---- leakage: one feature that alone gives away the target ---- */

#define LEAK_MIN_ROWS 30

/* Whether a categorical column maps each value (missing included) to one
 * class, or one target value, over the rows, with few values. */
static int leak_categorical(const struct ds_column *c, const size_t *rows,
			    size_t n, const uint32_t *cls, const double *yv)
{
	double *seen = xmallocarray(c->n_levels + 2, sizeof(double));
	size_t i, k;
	int pure = c->n_levels + 1 <= n / 10;

	for (k = 0; k < c->n_levels + 1; k++)
		seen[k] = NAN;
	for (i = 0; i < n && pure; i++) {
		double v = cls ? (double)cls[i] : yv[i];

		k = (size_t)(c->code[rows[i]] + 1);
		if (seen[k] != seen[k])
			seen[k] = v;
		else if (seen[k] != v)
			pure = 0;
	}
	free(seen);
	return pure;
}

/* Whether a numeric column separates the classes into disjoint ranges. */
static int leak_numeric_classes(const struct ds_column *c, const size_t *rows,
				size_t n, const uint32_t *cls, size_t K)
{
	double *lo = xmallocarray(2 * K, sizeof(double)), *hi = lo + K;
	size_t i, a, b;
	int sep = 1;

	for (a = 0; a < K; a++) {
		lo[a] = INFINITY;
		hi[a] = -INFINITY;
	}
	for (i = 0; i < n && sep; i++) {
		double x = c->num[rows[i]];

		if (x != x)
			sep = 0;
		if (x < lo[cls[i]])
			lo[cls[i]] = x;
		if (x > hi[cls[i]])
			hi[cls[i]] = x;
	}
	for (a = 0; a < K && sep; a++)
		for (b = a + 1; b < K && sep; b++)
			if (lo[a] <= hi[a] && lo[b] <= hi[b] &&
			    !(hi[a] < lo[b] || hi[b] < lo[a]))
				sep = 0;
	free(lo);
	return sep;
}

/* Whether a numeric column is an exact linear function of the target. */
static int leak_numeric_value(const struct ds_column *c, const size_t *rows,
			      size_t n, const double *yv)
{
	double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (c->num[rows[i]] != c->num[rows[i]])
			return 0;
		mx += c->num[rows[i]];
		my += yv[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (i = 0; i < n; i++) {
		double dx = c->num[rows[i]] - mx, dy = yv[i] - my;

		sxx += dx * dx;
		syy += dy * dy;
		sxy += dx * dy;
	}
	return sxx > 0 && syy > 0 && sxy * sxy >= (1 - 1e-9) * sxx * syy;
}

/*
 * Name in rep every feature that alone predicts the target exactly on
 * the training rows (cls or yv by position), and a perfect holdout
 * metric.
 */
static void find_leaks(const struct model *m, const struct design *d,
		       const size_t *rows, size_t n, const uint32_t *cls,
		       const double *yv, size_t n_hold,
		       struct train_report *rep)
{
	static const struct {
		const char *name;
		double best;
	} perfect[] = { { "auc", 1 }, { "accuracy", 1 }, { "r2", 1 } };
	size_t j, k;

	for (k = 0; n_hold && k < sizeof(perfect) / sizeof(perfect[0]); k++)
		if (model_metric(m, perfect[k].name) >= perfect[k].best - 1e-12) {
			rep->perfect = perfect[k].name;
			break;
		}
	if (n < LEAK_MIN_ROWS)
		return;
	for (j = 0; j < m->n_features; j++) {
		const struct ds_column *c = &d->ds->cols[d->col[j]];
		int leak;

		if (c->type == DS_CATEGORICAL)
			leak = leak_categorical(c, rows, n,
						m->task == TASK_REGRESSION ?
						NULL : cls, yv);
		else if (m->task == TASK_REGRESSION)
			leak = leak_numeric_value(c, rows, n, yv);
		else
			leak = leak_numeric_classes(c, rows, n, cls,
						    m->n_classes);
		if (!leak)
			continue;
		rep->leaks = xreallocarray(rep->leaks, rep->n_leaks + 1,
					   sizeof(char *));
		rep->leaks[rep->n_leaks++] = xstrdup(m->features[j].source ?
						     m->features[j].source :
						     m->features[j].name);
	}
}

int train_fit(struct dataset *ds, const struct train_opts *o,
	      struct model **out, struct train_report *rep,
	      struct mlops_err *err)
{
	struct model *m = model_new();
	struct design d = { 0 };
	struct fit ft = { 0 };
	const struct ds_column *t;
	size_t *rows = NULL, *cols = NULL, n_cols = 0, n = 0, n_hold, n_train;
	size_t i, j, *train_rows, *hold_rows, width;
	uint32_t *cls = NULL;
	double *yv = NULL, *w = NULL, *pred = NULL, *pred_train, sw[1024];
	int target, ret, algo = o->algo, lsq;

	memset(rep, 0, sizeof(*rep));
	d.m = m;
	d.ds = ds;
	if (!(o->holdout >= 0 && o->holdout <= 0.9)) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "--holdout must be between 0 and 0.9, got %g",
			      o->holdout);
		goto out;
	}
	if (!(o->C > 0) || !(o->alpha >= 0) || !(o->tol > 0) ||
	    (o->max_iter < 1 && o->max_iter != TRAIN_MAX_ITER_AUTO)) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "--C and --tol must be positive, --alpha not negative, --max-iter at least 1");
		goto out;
	}
	target = dataset_find(ds, o->target);
	if (target < 0) {
		ret = err_set(err, MLOPS_EUSAGE, "'%s' has no column '%s' (--target)",
			      ds->name, o->target);
		goto out;
	}
	if (ds->cols[target].type == DS_TIMESTAMP) {
		ret = err_set(err, MLOPS_EINPUT,
			      "target '%s' holds timestamps; mlops predicts numbers and classes",
			      o->target);
		goto out;
	}
	if ((ret = pick_features(ds, o, target, &cols, &n_cols, rep, err)))
		goto out;
	/* Adding timestamp parts may have moved the columns. */
	t = &ds->cols[target];

	/* Rows with a target, shuffled, the holdout first. */
	rows = xmallocarray(ds->n_rows + 1, sizeof(size_t));
	for (i = 0; i < ds->n_rows; i++)
		if (t->type == DS_NUMERIC ? !isnan(t->num[i]) : t->code[i] >= 0)
			rows[n++] = i;
	rep->n_dropped = ds->n_rows - n;
	n_hold = (size_t)ceil(o->holdout * (double)n);
	if (n_hold >= n) {
		ret = err_set(err, MLOPS_EINPUT,
			      "'%s': not enough rows with a target '%s' to train (%zu)",
			      ds->name, o->target, n);
		goto out;
	}
	if (n_hold) {
		/*
		 * A random holdout, but each part in file order: the solvers
		 * then read the columns sequentially.
		 */
		holdout_split(rows, n, n_hold, ds->n_rows, o->seed);
	}
	hold_rows = rows;
	train_rows = rows + n_hold;
	n_train = n - n_hold;
	rep->n_train = n_train;
	rep->n_holdout = n_hold;

	if (algo == TRAIN_AUTO) {
		if (t->type == DS_CATEGORICAL)
			algo = t->n_levels > 2 ? TRAIN_SOFTMAX : TRAIN_LOGISTIC;
		else
			algo = two_valued(t, rows, n) ? TRAIN_LOGISTIC :
			       TRAIN_LINEAR;
	}
	m->algo = (enum model_algo)algo;
	m->target = xstrdup(o->target);
	cls = xcalloc(n + 1, sizeof(uint32_t));
	if (algo == TRAIN_LOGISTIC || algo == TRAIN_SOFTMAX) {
		if ((ret = make_classes(m, t, rows, n, cls, err)))
			goto out;
		if (algo == TRAIN_LOGISTIC && m->n_classes != 2) {
			ret = err_set(err, MLOPS_EUSAGE,
				      "--model logistic needs a target with two classes; '%s' has %zu (use --model softmax)",
				      o->target, m->n_classes);
			goto out;
		}
		if (m->n_classes > sizeof(sw) / sizeof(sw[0])) {
			ret = err_set(err, MLOPS_EUSAGE,
				      "target '%s' has %zu classes; at most %zu are supported",
				      o->target, m->n_classes,
				      sizeof(sw) / sizeof(sw[0]));
			goto out;
		}
		m->task = algo == TRAIN_LOGISTIC ? TASK_BINARY : TASK_MULTICLASS;
		/* One class only in the training part is as bad as one overall. */
		for (i = 1; i < n_train && cls[n_hold + i] == cls[n_hold]; i++)
			;
		if (i == n_train) {
			ret = err_set(err, MLOPS_EINPUT,
				      "the training rows hold a single class of '%s'; lower --holdout or add data",
				      o->target);
			goto out;
		}
	} else {
		if (t->type != DS_NUMERIC) {
			ret = err_set(err, MLOPS_EUSAGE,
				      "--model %s needs a numeric target; '%s' holds text such as '%s'",
				      algo == TRAIN_LINEAR ? "linear" : "ridge",
				      o->target, t->levels[0]);
			goto out;
		}
		m->task = TASK_REGRESSION;
		yv = xmallocarray(n + 1, sizeof(double));
		for (i = 0; i < n; i++)
			yv[i] = t->num[rows[i]];
	}

	/* Preprocessing, fitted on the training rows only. */
	m->n_features = n_cols;
	m->features = xcalloc(n_cols, sizeof(*m->features));
	d.col = cols;
	cols = NULL;
	d.code_map = xcalloc(n_cols, sizeof(int32_t *));
	d.encoded = xcalloc(n_cols, sizeof(*d.encoded));
	{
		struct prep pr = { m, ds, &d, train_rows, n_train, o };

		parallel_run(n_cols, parallel_cpus(), prep_feature, &pr);
	}
	if ((ret = check_finite_prep(m, ds, err)) ||
	    (yv && (ret = check_finite_target(yv + n_hold, n_train, ds->name,
					      o->target, err))))
		goto out;
	if (o->keep_predictions) {
		rep->pred_rows = xmallocarray(n + 1, sizeof(size_t));
		memcpy(rep->pred_rows, rows, n * sizeof(size_t));
	}
	if (o->reuse_columns)
		reuse_columns(ds, &d, rows, n);
	for (j = 0; j < n_cols; j++) {
		struct feature *f = &m->features[j];

		f->offset = m->n_inputs;
		m->n_inputs += f->kind == FEATURE_NUMERIC ?
			       1 + (f->indicator != 0) : f->n_levels;
	}
	/*
	 * Memory grows with the square of the inputs (Gram matrix) or with
	 * inputs times classes (L-BFGS history): refuse before allocating.
	 */
	m->n_outputs = m->task == TASK_MULTICLASS ? m->n_classes : 1;
	lsq = algo != TRAIN_LOGISTIC && algo != TRAIN_SOFTMAX;
	if (m->n_inputs > (lsq ? TRAIN_MAX_INPUTS_LSQ : TRAIN_MAX_INPUTS)) {
		ret = err_set(err, MLOPS_EINPUT, "'%s': %zu model inputs (one "
			      "per number, one per category level), more "
			      "than the limit of %d%s; leave columns out with "
			      "--exclude or --features", ds->name,
			      m->n_inputs, lsq ? TRAIN_MAX_INPUTS_LSQ :
			      TRAIN_MAX_INPUTS, lsq ? " for linear and ridge "
			      "regression" : "");
		goto out;
	}
	if ((m->n_inputs + 1) * m->n_outputs > TRAIN_MAX_COEFS) {
		ret = err_set(err, MLOPS_EINPUT, "'%s': %zu classes of '%s' "
			      "times %zu model inputs make more than %d "
			      "coefficients; leave columns out with --exclude "
			      "or --features", ds->name, m->n_outputs,
			      o->target, m->n_inputs, TRAIN_MAX_COEFS);
		goto out;
	}

	/* Solve on the training rows. */
	m->l2 = algo == TRAIN_RIDGE ? o->alpha :
		algo == TRAIN_LINEAR ? 0 : o->C;
	m->tol = o->tol;
	m->max_iter = o->max_iter != TRAIN_MAX_ITER_AUTO ? o->max_iter :
		      algo == TRAIN_LOGISTIC || algo == TRAIN_SOFTMAX ?
		      train_max_iter(m->n_outputs * (m->n_inputs + 1)) :
		      100;
	m->holdout = o->holdout;
	m->seed = o->seed;
	ft.d = &d;
	ft.rows = train_rows;
	ft.n = n_train;
	ft.cls = cls + n_hold;
	ft.yv = yv ? yv + n_hold : NULL;
	ft.p = m->n_inputs + 1;
	ft.K = m->n_outputs;
	ft.lambda = 1 / o->C;
	ft.n_workers = parallel_cpus();
	ft.warm_min_rows = o->warm_min_rows ? o->warm_min_rows : WARM_MIN_ROWS;
	matrix_single_threaded();
	if (o->balanced && m->task != TASK_REGRESSION) {
		size_t cnt[1024] = { 0 };

		for (i = 0; i < n_train; i++)
			cnt[ft.cls[i]]++;
		for (i = 0; i < m->n_classes; i++)
			sw[i] = cnt[i] ? (double)n_train /
				((double)m->n_classes * (double)cnt[i]) : 0;
		ft.sw = sw;
	}
	ft.scr = xcalloc(ft.n_workers, sizeof(*ft.scr));
	for (i = 0; i < ft.n_workers; i++) {
		ft.scr[i].block = xmallocarray(BLOCK_ROWS * ft.p, sizeof(double));
		ft.scr[i].block2 = xmallocarray(BLOCK_ROWS * ft.p, sizeof(double));
		ft.scr[i].z = xmallocarray(BLOCK_ROWS * ft.K, sizeof(double));
		ft.scr[i].view = xcalloc(ft.p, sizeof(*ft.scr[i].view));
		/* Only Newton's softmax Hessian needs it. */
		if (ft.K * ft.p <= NEWTON_MAX_DIM)
			ft.scr[i].hk = xmallocarray(ft.p * ft.p,
						    sizeof(double));
	}
	w = xcalloc(ft.K * ft.p, sizeof(double));
	/* Predictions: the holdout's, then the training rows'. */
	width = predict_width(m);
	pred = xmallocarray((n ? n : 1) * width, sizeof(double));
	pred_train = pred + n_hold * width;
	switch (algo) {
	case TRAIN_LOGISTIC:
	case TRAIN_SOFTMAX:
		ret = solve_warm(&ft, m, ft.K * ft.p <= NEWTON_MAX_DIM ?
				 solve_newton : solve_lbfgs,
				 algo == TRAIN_LOGISTIC ? logistic_eval :
				 softmax_eval, ft.K * ft.p, o->tol, m->max_iter,
				 w, err);
		break;
	default:
		ret = solve_least_squares(&ft, m, algo == TRAIN_RIDGE,
					  o->alpha, w, err);
		break;
	}
	if (ret)
		goto out;
	m->coef = xcalloc(ft.K * m->n_inputs + 1, sizeof(double));
	m->intercept = xcalloc(ft.K, sizeof(double));
	for (i = 0; i < ft.K; i++) {
		memcpy(m->coef + i * m->n_inputs, w + i * ft.p,
		       m->n_inputs * sizeof(double));
		m->intercept[i] = w[i * ft.p + m->n_inputs];
	}
	for (i = 0; i < ft.K * ft.p; i++)
		if (!isfinite(w[i])) {
			ret = err_set(err, MLOPS_ENUMERIC,
				      "the solver diverged (non-finite coefficients)");
			goto out;
		}

	/* Holdout metrics, then the baselines on the training rows. */
	if (n_hold) {
		if ((ret = predict_rows(m, &d, hold_rows, n_hold, pred, err)) ||
		    (ret = check_finite_pred(m, &d, hold_rows, n_hold, pred,
					     err)))
			goto out;
		if (m->task == TASK_REGRESSION) {
			m->n_metrics = metrics_regression(yv, pred, n_hold,
							  m->metrics);
		} else {
			rep->confusion = xcalloc(m->n_classes * m->n_classes,
						 sizeof(size_t));
			m->n_metrics = metrics_classification(
				m->task, m->n_classes,
				(const char *const *)m->classes, cls, pred,
				n_hold, m->metrics, rep->confusion);
		}
	}
	/*
	 * The baseline of the predictions is what scoring the training rows
	 * gives, bit for bit: drift compares it with scoring's values, and
	 * on few distinct predictions a last-place difference moves every
	 * value across a step.  So they are predicted again through
	 * predict_columns(), not taken from the solver's X w.
	 */
	if ((ret = predict_rows(m, &d, train_rows, n_train, pred_train, err)))
		goto out;
	if ((ret = check_finite_pred(m, &d, train_rows, n_train, pred_train,
				     err)))
		goto out;
	find_leaks(m, &d, train_rows, n_train, cls + n_hold,
		   yv ? yv + n_hold : NULL, n_hold, rep);
	profile_predictions(m, pred_train, n_train);
	if (o->keep_predictions) {
		rep->pred = xmallocarray(n * width + 1, sizeof(double));
		memcpy(rep->pred, pred, n * width * sizeof(double));
	}
	profile_features(m, &d, train_rows, n_train);
	m->n_rows = n_train;
	memcpy(m->data_sha256, ds->sha256, sizeof(m->data_sha256));
	ret = 0;
out:
	for (i = 0; ft.scr && i < ft.n_workers; i++) {
		free(ft.scr[i].block);
		free(ft.scr[i].block2);
		free(ft.scr[i].z);
		free(ft.scr[i].hk);
		free(ft.scr[i].view);
	}
	free(ft.scr);
	free(w);
	free(pred);
	free(rows);
	free(cols);
	free(cls);
	free(yv);
	design_release(&d);
	if (ret) {
		model_free(m);
		train_report_release(rep);
	} else {
		*out = m;
	}
	return ret;
}
