/*
 * Training: the use case that turns a loaded dataset into a model,
 * written as the steps of train_fit() over the modules that do the work
 * (liblinear's train() over its solvers, in the same spirit):
 *
 *   trainset.c   rows with a target, the holdout split, the classes;
 *   design.c     the preprocessing fitted on the training rows
 *                (SimpleImputer, StandardScaler / OneHotEncoder) and the
 *                design rows built on the fly from the dataset's columns;
 *   logistic.c   the objectives, behind objective.h: logistic (binary),
 *   softmax.c    softmax (multinomial) log loss with C * sum(loss) +
 *   lsq.c        |w|^2 / 2 (scaled here as sum(loss) + |w|^2 / (2C)), and
 *                least squares on centred columns, minimum-norm
 *                (LinearRegression) or with alpha * |w|^2 (Ridge);
 *   solver.c     Newton's method and L-BFGS, with a warm start on
 *                samples, knowing objectives only by their operations;
 *   baseline.c   the baseline profiles of numbers (sampled quantiles);
 *   kernel.c     the per-value loops (SIMD where there is some).
 *
 * The intercept is an extra, unpenalised column of ones.  What stays
 * here: choosing the features and the algorithm, the limits, the holdout
 * metrics, the baselines (predictions made again through
 * predict_columns(), as scoring makes them) and the leak warnings.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "cell.h"
#include "design.h"
#include "matrix.h"
#include "metrics.h"
#include "objective.h"
#include "parallel.h"
#include "predict.h"
#include "solver.h"
#include "train.h"
#include "trainset.h"
#include "xalloc.h"

#define BLOCK_ROWS DESIGN_BLOCK_ROWS
/* Rows predicted by one task. */
#define CHUNK_ROWS (16 * BLOCK_ROWS)

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

long train_max_iter(size_t unknowns)
{
	if (unknowns <= SOLVER_NEWTON_MAX_DIM)
		return 100;
	return unknowns > 1000 ? (long)unknowns : 1000;
}

static int in_names(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return 1;
	return 0;
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

/*
 * Predict rows (by dataset index) into out (n x predict_width) through
 * predict_columns(), as scoring does: the dataset's columns are copied
 * into the raw values and levels a scoring stream would read from the
 * same rows of the file.  An encoded column (design_take_columns) is passed
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
		design_columns(pj->d, pj->rows + b, nb, pj->raw[worker],
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
		baseline_long(&m->pred_profile, pred, NULL, n);
		return;
	}
	codes = xmallocarray(n ? n : 1, sizeof(int32_t));
	for (i = 0; i < n; i++)
		codes[i] = (int32_t)predict_argmax(m, pred + i * m->n_classes);
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
	size_t i, j, k, w = predict_width(m), worst = SIZE_MAX;
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
			x = predict_encode_numeric(f, x);
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


/* ---- the whole fit ---- */

/* Tables of WARM_MIN_ROWS rows (by default) start from a sample's solution. */
#define WARM_MIN_ROWS (1 << 17)
/* Classes of a classifier (class weights and confusion matrices). */
#define MAX_CLASSES 1024

/* What train_fit() works on between its steps. */
struct trainer {
	struct dataset *ds;
	const struct train_opts *o;
	struct train_report *rep;
	struct model *m;
	struct design d;
	int algo;		/* enum train_algo, resolved */
	/* dataset rows with a target: the holdout, then the training rows */
	size_t *rows, n, n_hold, n_train;
	uint32_t *cls;		/* classifiers: class by position in rows */
	double *yv;		/* regression: target by position in rows */
};

static int check_opts(const struct train_opts *o, struct mlops_err *err)
{
	if (!(o->holdout >= 0 && o->holdout <= 0.9))
		return err_set(err, MLOPS_EUSAGE,
			       "--holdout must be between 0 and 0.9, got %g",
			       o->holdout);
	if (!(o->C > 0) || !(o->alpha >= 0) || !(o->tol > 0) ||
	    (o->max_iter < 1 && o->max_iter != TRAIN_MAX_ITER_AUTO))
		return err_set(err, MLOPS_EUSAGE,
			       "--C and --tol must be positive, --alpha not negative, --max-iter at least 1");
	return 0;
}

/*
 * The rows with a target, the holdout first (random, but each part in
 * file order: the solvers then read the columns sequentially).
 */
static int select_rows(struct trainer *tr, const struct ds_column *t,
		       struct mlops_err *err)
{
	struct dataset *ds = tr->ds;
	size_t i;

	tr->rows = xmallocarray(ds->n_rows + 1, sizeof(size_t));
	for (i = 0; i < ds->n_rows; i++)
		if (t->type == DS_NUMERIC ? !isnan(t->num[i]) : t->code[i] >= 0)
			tr->rows[tr->n++] = i;
	tr->rep->n_dropped = ds->n_rows - tr->n;
	tr->n_hold = (size_t)ceil(tr->o->holdout * (double)tr->n);
	if (tr->n_hold >= tr->n)
		return err_set(err, MLOPS_EINPUT,
			       "'%s': not enough rows with a target '%s' to train (%zu)",
			       ds->name, tr->o->target, tr->n);
	if (tr->n_hold)
		trainset_split(tr->rows, tr->n, tr->n_hold, ds->n_rows,
			       tr->o->seed);
	tr->n_train = tr->n - tr->n_hold;
	tr->rep->n_train = tr->n_train;
	tr->rep->n_holdout = tr->n_hold;
	return 0;
}

/* A classifier's classes: cls, and the model's classes and task. */
static int set_classes(struct trainer *tr, const struct ds_column *t,
		       struct mlops_err *err)
{
	struct model *m = tr->m;
	const char *target = tr->o->target;
	size_t i;
	int ret;

	if ((ret = trainset_classes(m, t, tr->rows, tr->n, tr->cls, err)))
		return ret;
	if (tr->algo == TRAIN_LOGISTIC && m->n_classes != 2)
		return err_set(err, MLOPS_EUSAGE,
			       "--model logistic needs a target with two classes; '%s' has %zu (use --model softmax)",
			       target, m->n_classes);
	if (m->n_classes > MAX_CLASSES)
		return err_set(err, MLOPS_EUSAGE,
			       "target '%s' has %zu classes; at most %zu are supported",
			       target, m->n_classes, (size_t)MAX_CLASSES);
	m->task = tr->algo == TRAIN_LOGISTIC ? TASK_BINARY : TASK_MULTICLASS;
	/* One class only in the training part is as bad as one overall. */
	for (i = 1; i < tr->n_train &&
	     tr->cls[tr->n_hold + i] == tr->cls[tr->n_hold]; i++)
		;
	if (i == tr->n_train)
		return err_set(err, MLOPS_EINPUT,
			       "the training rows hold a single class of '%s'; lower --holdout or add data",
			       target);
	return 0;
}

/* The algorithm (auto resolved), the task, and the target by row. */
static int set_target(struct trainer *tr, const struct ds_column *t,
		      struct mlops_err *err)
{
	size_t i;

	if (tr->algo == TRAIN_AUTO) {
		if (t->type == DS_CATEGORICAL)
			tr->algo = t->n_levels > 2 ? TRAIN_SOFTMAX :
				   TRAIN_LOGISTIC;
		else
			tr->algo = trainset_two_valued(t, tr->rows, tr->n) ?
				   TRAIN_LOGISTIC : TRAIN_LINEAR;
	}
	tr->m->algo = (enum model_algo)tr->algo;
	tr->m->target = xstrdup(tr->o->target);
	tr->cls = xcalloc(tr->n + 1, sizeof(uint32_t));
	if (tr->algo == TRAIN_LOGISTIC || tr->algo == TRAIN_SOFTMAX)
		return set_classes(tr, t, err);
	if (t->type != DS_NUMERIC)
		return err_set(err, MLOPS_EUSAGE,
			       "--model %s needs a numeric target; '%s' holds text such as '%s'",
			       tr->algo == TRAIN_LINEAR ? "linear" : "ridge",
			       tr->o->target, t->levels[0]);
	tr->m->task = TASK_REGRESSION;
	tr->yv = xmallocarray(tr->n + 1, sizeof(double));
	for (i = 0; i < tr->n; i++)
		tr->yv[i] = t->num[tr->rows[i]];
	return 0;
}

/*
 * Memory grows with the square of the inputs (Gram matrix) or with
 * inputs times classes (L-BFGS history): refuse before allocating.
 */
static int check_size(const struct trainer *tr, struct mlops_err *err)
{
	const struct model *m = tr->m;
	int lsq = tr->algo != TRAIN_LOGISTIC && tr->algo != TRAIN_SOFTMAX;

	if (m->n_inputs > (lsq ? TRAIN_MAX_INPUTS_LSQ : TRAIN_MAX_INPUTS))
		return err_set(err, MLOPS_EINPUT, "'%s': %zu model inputs (one "
			       "per number, one per category level), more "
			       "than the limit of %d%s; leave columns out with "
			       "--exclude or --features", tr->ds->name,
			       m->n_inputs, lsq ? TRAIN_MAX_INPUTS_LSQ :
			       TRAIN_MAX_INPUTS, lsq ? " for linear and ridge "
			       "regression" : "");
	if ((m->n_inputs + 1) * m->n_outputs > TRAIN_MAX_COEFS)
		return err_set(err, MLOPS_EINPUT, "'%s': %zu classes of '%s' "
			       "times %zu model inputs make more than %d "
			       "coefficients; leave columns out with --exclude "
			       "or --features", tr->ds->name, m->n_outputs,
			       tr->o->target, m->n_inputs, TRAIN_MAX_COEFS);
	return 0;
}

/*
 * Preprocessing, fitted on the training rows only; with own_columns
 * the design then takes the dataset's feature columns over.
 */
static int prepare(struct trainer *tr, size_t *cols, size_t n_cols,
		   int own_columns, struct mlops_err *err)
{
	const struct train_opts *o = tr->o;
	struct design_opts dopts = { o->impute_median, o->add_indicator,
				     o->strict };
	struct model *m = tr->m;
	int ret;

	design_fit(&tr->d, m, tr->ds, cols, n_cols, tr->rows + tr->n_hold,
		   tr->n_train, &dopts);
	if ((ret = check_finite_prep(m, tr->ds, err)) ||
	    (tr->yv && (ret = check_finite_target(tr->yv + tr->n_hold,
						  tr->n_train, tr->ds->name,
						  o->target, err))))
		return ret;
	if (o->keep_predictions) {
		tr->rep->pred_rows = xmallocarray(tr->n + 1, sizeof(size_t));
		memcpy(tr->rep->pred_rows, tr->rows, tr->n * sizeof(size_t));
	}
	if (own_columns)
		design_take_columns(tr->ds, &tr->d, tr->rows, tr->n);
	m->n_outputs = m->task == TASK_MULTICLASS ? m->n_classes : 1;
	return check_size(tr, err);
}

/* The solver's settings, recorded with the model. */
static void set_solver(struct trainer *tr)
{
	struct model *m = tr->m;
	const struct train_opts *o = tr->o;
	int classifier = tr->algo == TRAIN_LOGISTIC ||
			 tr->algo == TRAIN_SOFTMAX;

	m->l2 = tr->algo == TRAIN_RIDGE ? o->alpha :
		tr->algo == TRAIN_LINEAR ? 0 : o->C;
	m->tol = o->tol;
	m->max_iter = o->max_iter != TRAIN_MAX_ITER_AUTO ? o->max_iter :
		      classifier ?
		      train_max_iter(m->n_outputs * (m->n_inputs + 1)) :
		      100;
	m->holdout = o->holdout;
	m->seed = o->seed;
}

/* Minimise obj, a classifier's, into w. */
static int minimize(struct trainer *tr, struct objective *obj, double *w,
		    struct mlops_err *err)
{
	struct solver_opts so;
	struct solver_result res = { 0, 0 };
	int ret;

	so.method = obj->dim <= SOLVER_NEWTON_MAX_DIM ? SOLVER_NEWTON :
		    SOLVER_LBFGS;
	so.tol = tr->o->tol;
	so.max_iter = tr->m->max_iter;
	so.warm_min_rows = tr->o->warm_min_rows ? tr->o->warm_min_rows :
			   WARM_MIN_ROWS;
	ret = solver_minimize(obj, &so, w, &res, err);
	tr->m->converged = res.converged;
	tr->m->n_iter = res.n_iter;
	return ret;
}

/* The coefficients w (K x (n_inputs + 1), intercepts last) into m. */
static int set_coefs(struct model *m, const double *w, struct mlops_err *err)
{
	size_t K = m->n_outputs, p = m->n_inputs + 1, i;

	m->coef = xcalloc(K * m->n_inputs + 1, sizeof(double));
	m->intercept = xcalloc(K, sizeof(double));
	for (i = 0; i < K; i++) {
		memcpy(m->coef + i * m->n_inputs, w + i * p,
		       m->n_inputs * sizeof(double));
		m->intercept[i] = w[i * p + m->n_inputs];
	}
	for (i = 0; i < K * p; i++)
		if (!isfinite(w[i]))
			return err_set(err, MLOPS_ENUMERIC,
				       "the solver diverged (non-finite coefficients)");
	return 0;
}

/* Solve on the training rows: the model's coefficients. */
static int solve(struct trainer *tr, struct mlops_err *err)
{
	struct model *m = tr->m;
	struct problem pb = { 0 };
	struct objective *obj;
	double *sw = NULL, *w;
	int ret;

	set_solver(tr);
	pb.d = &tr->d;
	pb.rows = tr->rows + tr->n_hold;
	pb.n = tr->n_train;
	pb.cls = tr->cls + tr->n_hold;
	pb.yv = tr->yv ? tr->yv + tr->n_hold : NULL;
	pb.p = m->n_inputs + 1;
	pb.K = m->n_outputs;
	pb.lambda = 1 / tr->o->C;
	pb.n_workers = parallel_cpus();
	matrix_single_threaded();
	if (tr->o->balanced && m->task != TASK_REGRESSION) {
		sw = xcalloc(m->n_classes + 1, sizeof(double));
		trainset_class_weights(pb.cls, pb.n, m->n_classes, sw);
		pb.sw = sw;
	}
	w = xcalloc(pb.K * pb.p, sizeof(double));
	if (tr->algo == TRAIN_LOGISTIC || tr->algo == TRAIN_SOFTMAX) {
		obj = tr->algo == TRAIN_LOGISTIC ? logistic_new(&pb) :
		      softmax_new(&pb);
		ret = minimize(tr, obj, w, err);
	} else {
		obj = lsq_new(&pb, tr->o->alpha);
		ret = lsq_solve(obj, tr->algo == TRAIN_RIDGE, w, err);
		m->converged = 1;
		m->n_iter = 1;
	}
	objective_free(obj);
	if (!ret)
		ret = set_coefs(m, w, err);
	free(w);
	free(sw);
	return ret;
}

/*
 * Holdout metrics, then the baselines on the training rows.  The
 * baseline of the predictions is what scoring the training rows gives,
 * bit for bit: drift compares it with scoring's values, and on few
 * distinct predictions a last-place difference moves every value across
 * a step.  So they are predicted again through predict_columns(), not
 * taken from the solver's X w.
 */
static int evaluate(struct trainer *tr, struct mlops_err *err)
{
	struct model *m = tr->m;
	size_t width = predict_width(m), n_hold = tr->n_hold;
	const size_t *train_rows = tr->rows + n_hold;
	double *pred = xmallocarray((tr->n ? tr->n : 1) * width,
				    sizeof(double));
	double *pred_train = pred + n_hold * width;
	int ret;

	if (n_hold) {
		if ((ret = predict_rows(m, &tr->d, tr->rows, n_hold, pred,
					err)) ||
		    (ret = check_finite_pred(m, &tr->d, tr->rows, n_hold,
					     pred, err)))
			goto out;
		if (m->task == TASK_REGRESSION) {
			m->n_metrics = metrics_regression(tr->yv, pred, n_hold,
							  m->metrics);
		} else {
			tr->rep->confusion = xcalloc(m->n_classes *
						     m->n_classes,
						     sizeof(size_t));
			m->n_metrics = metrics_classification(
				m->task, m->n_classes,
				(const char *const *)m->classes, tr->cls,
				pred, n_hold, m->metrics, tr->rep->confusion);
		}
	}
	if ((ret = predict_rows(m, &tr->d, train_rows, tr->n_train,
				pred_train, err)) ||
	    (ret = check_finite_pred(m, &tr->d, train_rows, tr->n_train,
				     pred_train, err)))
		goto out;
	find_leaks(m, &tr->d, train_rows, tr->n_train, tr->cls + n_hold,
		   tr->yv ? tr->yv + n_hold : NULL, n_hold, tr->rep);
	profile_predictions(m, pred_train, tr->n_train);
	if (tr->o->keep_predictions) {
		tr->rep->pred = xmallocarray(tr->n * width + 1, sizeof(double));
		memcpy(tr->rep->pred, pred, tr->n * width * sizeof(double));
	}
	design_profile_features(m, &tr->d, train_rows, tr->n_train);
	m->n_rows = tr->n_train;
	memcpy(m->data_sha256, tr->ds->sha256, sizeof(m->data_sha256));
out:
	free(pred);
	return ret;
}

static int fit(struct dataset *ds, int own_columns,
	       const struct train_opts *o, struct model **out,
	       struct train_report *rep, struct mlops_err *err)
{
	struct trainer tr;
	size_t *cols = NULL, n_cols = 0;
	int target, ret;

	memset(rep, 0, sizeof(*rep));
	memset(&tr, 0, sizeof(tr));
	tr.ds = ds;
	tr.o = o;
	tr.rep = rep;
	tr.m = model_new();
	tr.algo = o->algo;
	if ((ret = check_opts(o, err)))
		goto out;
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
	/* Adding timestamp parts may move the columns: index, not pointer. */
	if ((ret = pick_features(ds, o, target, &cols, &n_cols, rep, err)) ||
	    (ret = select_rows(&tr, &ds->cols[target], err)) ||
	    (ret = set_target(&tr, &ds->cols[target], err)))
		goto out;
	ret = prepare(&tr, cols, n_cols, own_columns, err);
	cols = NULL;		/* the design's now */
	if (ret || (ret = solve(&tr, err)) || (ret = evaluate(&tr, err)))
		goto out;
out:
	free(cols);
	free(tr.rows);
	free(tr.cls);
	free(tr.yv);
	design_release(&tr.d);
	if (ret) {
		model_free(tr.m);
		train_report_release(rep);
	} else {
		*out = tr.m;
	}
	return ret;
}

int train_fit(struct dataset *ds, const struct train_opts *o,
	      struct model **out, struct train_report *rep,
	      struct mlops_err *err)
{
	return fit(ds, 0, o, out, rep, err);
}

int train_fit_take(struct dataset **ds, const struct train_opts *o,
		   struct model **out, struct train_report *rep,
		   struct mlops_err *err)
{
	int ret = fit(*ds, 1, o, out, rep, err);

	dataset_free(*ds);
	*ds = NULL;
	return ret;
}
