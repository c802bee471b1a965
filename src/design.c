/*
 * The design: how dataset rows become model input rows.  Fitting the
 * preprocessing on the training rows (imputation and standardisation of
 * numbers as SimpleImputer + StandardScaler, one-hot encoding of
 * categories over their sorted training levels, a 0/1 indicator of gaps
 * on request), then filling blocks of design rows on the fly from the
 * dataset's columns, so that the full design matrix is never
 * materialised.  Numbers are encoded through predict_encode_numeric()'s
 * arithmetic, as scoring does.
 *
 * The design never changes the dataset unless it is handed the columns
 * (design_take_columns()): that is the caller's explicit decision, for
 * speed, when the dataset is about to be freed.  It knows nothing of
 * losses or solvers.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "design.h"
#include "kernel.h"
#include "parallel.h"
#include "predict.h"
#include "xalloc.h"

/*
 * Fill the design inputs of n rows: input k of row i goes to
 * out[i * rs + k * cs].  Rows one after another (rs = width, cs = 1) is
 * what BLAS products over rows want; input by input (rs = 1, cs = n)
 * lets a pass needing only X w and X' r read each column and write each
 * input in one sequential run.  With `augment`, input n_inputs is the
 * intercept's 1.  Encoding goes through predict_encode_numeric(), as
 * scoring does.
 */
void design_fill(const struct design *d, const size_t *rows, size_t n,
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
	 * A tile of DESIGN_TILE rows at a time, feature by feature within it:
	 * rows one after another stay in L1 while each column is read in
	 * order.  (Feature by feature over the whole block wrote each of its
	 * rows once per column, a cache miss each time.)
	 */
	for (t = 0; t < n; t += nt) {
		const size_t *r = rows + t;
		double *tile = out + t * rs;
		/* The first row of the tile after next, to prefetch. */
		size_t ahead = t + 3 * DESIGN_TILE <= n ? rows[t + 2 * DESIGN_TILE] :
			       SIZE_MAX;
		int dense = 1;

		nt = n - t < DESIGN_TILE ? n - t : DESIGN_TILE;
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
					for (k = 0; k < DESIGN_TILE; k += 8)
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
					kernel_encode(f, x, nt, o, rs);
				else
					for (i = 0; i < nt; i++)
						o[i * rs] = predict_encode_numeric(f, c->num[r[i]]);
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

void design_release(struct design *d)
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
	struct baseline_sums s;
	double sq = 0, sq_raw = 0, raw_mean, mean, imp;
	size_t i;

	f->kind = FEATURE_NUMERIC;
	baseline_scan(p, c->num, rows, n, &s);
	raw_mean = baseline_mean(&s);
	imp = !s.count ? 0 : median ? baseline_median(c, rows, n) : raw_mean;
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
	baseline_finish(p, &s, n, sq_raw);
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
	const struct design_opts *o;
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

void design_fit(struct design *d, struct model *m, const struct dataset *ds,
		size_t *cols, size_t n_cols, const size_t *rows, size_t n,
		const struct design_opts *o)
{
	struct prep pr = { m, ds, d, rows, n, o };
	size_t j;

	d->m = m;
	d->ds = ds;
	d->col = cols;
	d->code_map = xcalloc(n_cols, sizeof(int32_t *));
	d->encoded = xcalloc(n_cols, sizeof(*d->encoded));
	m->n_features = n_cols;
	m->features = xcalloc(n_cols, sizeof(*m->features));
	parallel_run(n_cols, parallel_cpus(), prep_feature, &pr);
	for (j = 0; j < n_cols; j++) {
		struct feature *f = &m->features[j];

		f->offset = m->n_inputs;
		m->n_inputs += f->kind == FEATURE_NUMERIC ?
			       1 + (f->indicator != 0) : f->n_levels;
	}
}

/*
 * design_take_columns(): the dataset's feature columns are the design's
 * to change, once preprocessing is fitted:
 * - each is put in the order of `rows` (the holdout, then the training
 *   rows), so that row i of the fit is position i and every later pass
 *   copies runs of values instead of gathering them row by row;
 * - a numeric feature's values are encoded on the way, so that passes
 *   copy them instead of dividing them again: the same bits, as
 *   predict_encode_numeric() gives them.  One with an indicator keeps its
 *   raw values (the indicator reads the gaps).
 * No two features share a column (train.c's pick_features() sees to
 * it), so none is moved or encoded twice.  Positions from n on are left as they were.
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
			kernel_encode(f, src, n, c->num, 1);
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

void design_take_columns(struct dataset *ds, struct design *d,
			 size_t *rows, size_t n)
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

void design_profile_features(struct model *m, const struct design *d,
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

void design_columns(const struct design *d, const size_t *rows, size_t n,
		    double *raw, int32_t *level, size_t ld)
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
