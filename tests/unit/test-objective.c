/*
 * The objective interface and the solvers, reached without train_fit().
 *
 * Objectives (logistic, softmax, least squares) are made on the parity
 * CSVs through design.c and trainset.c, with and without class weights,
 * and each must agree with itself: the gradient with central finite
 * differences of the function, hess_vec with finite differences of the
 * gradient and with the full Hessian times the vector, f(0) with
 * zero_loss; softmax's project removes the one flat direction, and a
 * sample keeps its share of the rows.
 *
 * Solvers are run on a synthetic quadratic objective that has no data
 * and no model kind, and on the real ones (lsq_solve, and Newton against
 * L-BFGS).  Last, train_fit_take() gives train_fit()'s model byte for
 * byte and frees the dataset.
 */

#include <libgen.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "design.h"
#include "model.h"
#include "objective.h"
#include "solver.h"
#include "train.h"
#include "trainset.h"
#include "xalloc.h"
#include "tap.h"

static char *parity_dir;

/* TEST_SRCDIR under `make check`; else next to this source file. */
static char *find_parity_dir(void)
{
	const char *top = getenv("TEST_SRCDIR");
	char *file, *dir;

	if (top && *top)
		return xasprintf("%s/parity", top);
	file = xstrdup(__FILE__);
	dir = xasprintf("%s/../parity", dirname(file));
	free(file);
	return dir;
}

static struct dataset *load(const char *name)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct dataset *ds = NULL;
	char *path = xasprintf("%s/%s", parity_dir, name);

	if (dataset_load(path, NULL, &ds, &err)) {
		printf("# dataset_load '%s': %s\n", path, err.msg);
		ds = NULL;
	}
	free(path);
	return ds;
}

/* Deterministic values in [-1, 1). */
static double uniform(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*state >> 11) / (double)(1ULL << 52) - 1;
}

/* A problem on every row of a parity CSV: all columns but the target. */
struct fixture {
	struct dataset *ds;
	struct model *m;
	struct design d;
	size_t *rows, n;
	uint32_t *cls;
	double *yv, *sw;
	struct problem pb;
};

static int fixture_init(struct fixture *fx, const char *file,
			const char *target, int classes, int weighted)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct design_opts dopts = { 0, 1, 0 };
	size_t *cols, n_cols = 0, i;
	int t;

	memset(fx, 0, sizeof(*fx));
	if (!(fx->ds = load(file)))
		return -1;
	t = dataset_find(fx->ds, target);
	fx->m = model_new();
	fx->n = fx->ds->n_rows;
	fx->rows = xcalloc(fx->n, sizeof(size_t));
	for (i = 0; i < fx->n; i++)
		fx->rows[i] = i;
	cols = xcalloc(fx->ds->n_cols, sizeof(size_t));
	for (i = 0; i < fx->ds->n_cols; i++)
		if ((int)i != t)
			cols[n_cols++] = i;
	fx->cls = xcalloc(fx->n, sizeof(uint32_t));
	if (classes && trainset_classes(fx->m, &fx->ds->cols[t], fx->rows,
					fx->n, fx->cls, &err)) {
		printf("# trainset_classes: %s\n", err.msg);
		return -1;
	}
	if (!classes) {
		fx->yv = xcalloc(fx->n, sizeof(double));
		for (i = 0; i < fx->n; i++)
			fx->yv[i] = fx->ds->cols[t].num[i];
	}
	design_fit(&fx->d, fx->m, fx->ds, cols, n_cols, fx->rows, fx->n,
		   &dopts);
	if (weighted) {
		fx->sw = xcalloc(fx->m->n_classes + 1, sizeof(double));
		trainset_class_weights(fx->cls, fx->n, fx->m->n_classes,
				       fx->sw);
	}
	fx->pb.d = &fx->d;
	fx->pb.rows = fx->rows;
	fx->pb.n = fx->n;
	fx->pb.cls = fx->cls;
	fx->pb.yv = fx->yv;
	fx->pb.sw = fx->sw;
	fx->pb.p = fx->m->n_inputs + 1;
	fx->pb.K = fx->m->n_classes > 2 ? fx->m->n_classes : 1;
	fx->pb.lambda = 0.5;
	fx->pb.n_workers = 2;
	return 0;
}

static void fixture_release(struct fixture *fx)
{
	design_release(&fx->d);
	model_free(fx->m);
	dataset_free(fx->ds);
	free(fx->rows);
	free(fx->cls);
	free(fx->yv);
	free(fx->sw);
}

static double max_abs_diff(const double *a, const double *b, size_t n,
			   double *scale)
{
	double d = 0, s = 1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (fabs(a[i] - b[i]) > d)
			d = fabs(a[i] - b[i]);
		if (fabs(b[i]) > s)
			s = fabs(b[i]);
	}
	*scale = s;
	return d;
}

/* The gradient at w against central differences of f, coordinate-wise. */
static void check_gradient(const char *what, struct objective *obj,
			   const double *w)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	size_t D = obj->dim, j;
	double *g = xcalloc(D, sizeof(double));
	double *fd = xcalloc(D, sizeof(double));
	double *wt = xcalloc(D, sizeof(double));
	double *gt = xcalloc(D, sizeof(double));
	double f, fp, fm, h = 1e-5, scale, diff;
	int ret = objective_fun(obj, w, &f, g, NULL, &err);

	memcpy(wt, w, D * sizeof(*w));
	for (j = 0; j < D && !ret; j++) {
		wt[j] = w[j] + h;
		ret = objective_fun(obj, wt, &fp, gt, NULL, &err);
		wt[j] = w[j] - h;
		ret = ret ? ret : objective_fun(obj, wt, &fm, gt, NULL, &err);
		wt[j] = w[j];
		fd[j] = (fp - fm) / (2 * h);
	}
	diff = max_abs_diff(fd, g, D, &scale);
	if (!ok(!ret && diff <= 1e-6 * scale,
		"%s: gradient agrees with finite differences of f", what))
		printf("# max difference %g (scale %g)%s%s\n", diff, scale,
		       ret ? ": " : "", ret ? err.msg : "");
	free(g);
	free(fd);
	free(wt);
	free(gt);
}

/*
 * hess_vec at w against central differences of the gradient along s,
 * and against the full Hessian times s.
 */
static void check_hess_vec(const char *what, struct objective *obj,
			   const double *w, const double *s)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	size_t D = obj->dim, i, j;
	double *hs = xcalloc(D, sizeof(double));
	double *fd = xcalloc(D, sizeof(double));
	double *gp = xcalloc(D, sizeof(double));
	double *gm = xcalloc(D, sizeof(double));
	double *wt = xcalloc(D, sizeof(double));
	double *h = xcalloc(D * D, sizeof(double));
	double *hx = xcalloc(D, sizeof(double));
	double f, eps = 1e-5, scale, diff;
	int ret = 0;

	for (j = 0; j < D; j++)
		wt[j] = w[j] + eps * s[j];
	ret = objective_fun(obj, wt, &f, gp, NULL, &err);
	for (j = 0; j < D; j++)
		wt[j] = w[j] - eps * s[j];
	ret = ret ? ret : objective_fun(obj, wt, &f, gm, NULL, &err);
	/* hess_vec is at the point of the last fun(): w. */
	ret = ret ? ret : objective_fun(obj, w, &f, wt, h, &err);
	ret = ret ? ret : objective_hess_vec(obj, s, hs, &err);
	for (j = 0; j < D; j++)
		fd[j] = (gp[j] - gm[j]) / (2 * eps);
	diff = max_abs_diff(fd, hs, D, &scale);
	if (!ok(!ret && diff <= 1e-6 * scale,
		"%s: hess_vec agrees with finite differences of the gradient",
		what))
		printf("# max difference %g (scale %g)%s%s\n", diff, scale,
		       ret ? ": " : "", ret ? err.msg : "");
	for (i = 0; i < D; i++)
		for (j = 0; j < D; j++)
			hx[i] += h[i * D + j] * s[j];
	diff = max_abs_diff(hx, hs, D, &scale);
	if (!ok(!ret && diff <= 1e-9 * scale,
		"%s: hess_vec is the full Hessian times the vector", what))
		printf("# max difference %g (scale %g)\n", diff, scale);
	free(hs);
	free(fd);
	free(gp);
	free(gm);
	free(wt);
	free(h);
	free(hx);
}

static void check_zero_loss(const char *what, struct objective *obj)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	double *w = xcalloc(obj->dim, sizeof(double));
	double *g = xcalloc(obj->dim, sizeof(double)), f = NAN;

	objective_fun(obj, w, &f, g, NULL, &err);
	is_double(f, obj->zero_loss, 1e-12, "%s: f(0) is zero_loss", what);
	free(w);
	free(g);
}

static void check_objective(const char *what, struct objective *obj,
			    double w_scale)
{
	uint64_t state = 7;
	size_t D = obj->dim, j;
	double *w = xcalloc(D, sizeof(double)), *s = xcalloc(D, sizeof(double));

	for (j = 0; j < D; j++) {
		w[j] = w_scale * uniform(&state);
		s[j] = uniform(&state);
	}
	check_zero_loss(what, obj);
	check_gradient(what, obj, w);
	check_hess_vec(what, obj, w, s);
	free(w);
	free(s);
}

static void test_logistic(int weighted)
{
	struct fixture fx;
	struct objective *obj, *sub;
	const char *what = weighted ? "logistic, weighted" : "logistic";

	if (fixture_init(&fx, "binary.csv", "y", 1, weighted)) {
		ok(0, "%s: fixture", what);
		return;
	}
	obj = logistic_new(&fx.pb);
	is_int(obj->dim, fx.pb.p, "%s: dim is p", what);
	check_objective(what, obj, 0.3);
	ok(obj->ops->project == NULL, "%s: no flat direction", what);
	sub = obj->ops->sample(obj, obj, 8);
	is_int(sub->n_rows, fx.n / 8, "%s: a sample of one row in 8", what);
	check_objective(weighted ? "logistic sample, weighted" :
			"logistic sample", sub, 0.3);
	objective_free(sub);
	objective_free(obj);
	fixture_release(&fx);
}

static void test_softmax(int weighted)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct fixture fx;
	struct objective *obj;
	const char *what = weighted ? "softmax, weighted" : "softmax";
	uint64_t state = 3;
	double *w, *w2, *g, f1 = 0, f2 = 0, *d, sum = 0;
	size_t D, k, j, p;

	if (fixture_init(&fx, "multiclass.csv", "species", 1, weighted)) {
		ok(0, "%s: fixture", what);
		return;
	}
	obj = softmax_new(&fx.pb);
	D = obj->dim;
	p = fx.pb.p;
	is_int(D, fx.pb.K * p, "%s: dim is K x p", what);
	check_objective(what, obj, 0.3);
	/* The flat direction: every intercept up by the same amount. */
	w = xcalloc(D, sizeof(double));
	w2 = xcalloc(D, sizeof(double));
	g = xcalloc(D, sizeof(double));
	d = xcalloc(D, sizeof(double));
	for (j = 0; j < D; j++)
		w[j] = w2[j] = d[j] = 0.3 * uniform(&state);
	for (k = 0; k < fx.pb.K; k++)
		w2[k * p + p - 1] += 2.5;
	objective_fun(obj, w, &f1, g, NULL, &err);
	objective_fun(obj, w2, &f2, g, NULL, &err);
	is_double(f2, f1, 1e-12, "%s: f is flat along the intercepts' sum",
		  what);
	obj->ops->project(obj, d);
	for (k = 0; k < fx.pb.K; k++)
		sum += d[k * p + p - 1];
	ok(fabs(sum) < 1e-12, "%s: project takes that direction out of a step",
	   what);
	free(w);
	free(w2);
	free(g);
	free(d);
	objective_free(obj);
	fixture_release(&fx);
}

static void test_lsq(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct fixture fx;
	struct objective *obj;
	double *w, *g, f;
	size_t D;

	if (fixture_init(&fx, "regression.csv", "value", 0, 0)) {
		ok(0, "lsq: fixture");
		return;
	}
	obj = lsq_new(&fx.pb, 3.0);
	D = obj->dim;
	check_objective("ridge", obj, 2);
	ok(obj->ops->sample == NULL, "ridge: no warm start (closed form)");
	/* The closed form's answer is a stationary point of the objective. */
	w = xcalloc(D, sizeof(double));
	g = xcalloc(D, sizeof(double));
	ok(!lsq_solve(obj, 1, w, &err), "ridge: lsq_solve");
	objective_fun(obj, w, &f, g, NULL, &err);
	{
		double gmax = 0;
		size_t j;

		for (j = 0; j < D; j++)
			gmax = fmax(gmax, fabs(g[j]));
		ok(gmax <= 1e-8 * (double)fx.n,
		   "ridge: the gradient vanishes at lsq_solve's answer");
		if (gmax > 1e-8 * (double)fx.n)
			printf("# max |g| %g\n", gmax);
	}
	free(w);
	free(g);
	objective_free(obj);
	fixture_release(&fx);
}

/* ---- a synthetic objective: f = (w - a)' A (w - a) / 2, no data ---- */

#define QDIM 6

struct quad {
	struct objective obj;
	double a[QDIM], A[QDIM * QDIM], w_last[QDIM];
	int calls;
};

static int quad_fun(struct objective *obj, const double *w, double *f,
		    double *g, double *h, struct mlops_err *err)
{
	struct quad *q = (struct quad *)obj;
	size_t i, j;

	(void)err;
	q->calls++;
	*f = 0;
	for (i = 0; i < QDIM; i++) {
		g[i] = 0;
		for (j = 0; j < QDIM; j++)
			g[i] += q->A[i * QDIM + j] * (w[j] - q->a[j]);
		*f += (w[i] - q->a[i]) * g[i] / 2;
		q->w_last[i] = w[i];
	}
	if (h)
		memcpy(h, q->A, sizeof(q->A));
	return 0;
}

static int quad_hess_vec(struct objective *obj, const double *s, double *hs,
			 struct mlops_err *err)
{
	struct quad *q = (struct quad *)obj;
	size_t i, j;

	(void)err;
	for (i = 0; i < QDIM; i++) {
		hs[i] = 0;
		for (j = 0; j < QDIM; j++)
			hs[i] += q->A[i * QDIM + j] * s[j];
	}
	return 0;
}

static void quad_free(struct objective *obj)
{
	(void)obj;
}

static const struct objective_ops quad_ops = {
	quad_fun, quad_hess_vec, NULL, NULL, quad_free
};

static void quad_init(struct quad *q)
{
	uint64_t state = 11;
	double b[QDIM * QDIM];
	size_t i, j, k;

	memset(q, 0, sizeof(*q));
	q->obj.ops = &quad_ops;
	q->obj.dim = QDIM;
	q->obj.n_rows = 100;
	q->obj.weight = 100;
	for (i = 0; i < QDIM * QDIM; i++)
		b[i] = uniform(&state);
	/* A = B'B + I: symmetric positive definite. */
	for (i = 0; i < QDIM; i++) {
		q->a[i] = 3 * uniform(&state);
		for (j = 0; j < QDIM; j++) {
			for (k = 0; k < QDIM; k++)
				q->A[i * QDIM + j] += b[k * QDIM + i] *
						      b[k * QDIM + j];
			q->A[i * QDIM + j] += i == j;
		}
	}
}

static void test_solvers_synthetic(void)
{
	static const enum solver_method methods[] = { SOLVER_NEWTON,
						      SOLVER_LBFGS };
	static const char *names[] = { "newton", "lbfgs" };
	struct mlops_err err = MLOPS_ERR_INIT;
	struct solver_opts so = { SOLVER_NEWTON, 1e-10, 200, SIZE_MAX };
	struct solver_result res;
	struct quad q;
	double w[QDIM], diff;
	size_t i, k;

	for (k = 0; k < 2; k++) {
		quad_init(&q);
		so.method = methods[k];
		ok(!solver_minimize(&q.obj, &so, w, &res, &err) &&
		   res.converged, "%s: converges on a quadratic with no data",
		   names[k]);
		for (diff = 0, i = 0; i < QDIM; i++)
			diff = fmax(diff, fabs(w[i] - q.a[i]));
		ok(diff < 1e-7, "%s: reaches its minimum (off by %.1e)",
		   names[k], diff);
		if (k == 0)
			ok(res.n_iter == 1,
			   "newton: one step on a quadratic (took %ld)",
			   res.n_iter);
	}
	quad_init(&q);
	so.method = SOLVER_LBFGS;
	so.max_iter = 1;
	ok(!solver_minimize(&q.obj, &so, w, &res, &err) && !res.converged &&
	   res.n_iter == 1, "max_iter reached: not converged, not an error");
}

/* Newton and L-BFGS reach the same optimum of a real objective. */
static void test_solvers_agree(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct solver_opts so = { SOLVER_NEWTON, 1e-10, 5000, SIZE_MAX };
	struct solver_result r1, r2;
	struct fixture fx;
	struct objective *obj;
	double *w1, *w2, diff = 0;
	size_t j;

	if (fixture_init(&fx, "multiclass.csv", "species", 1, 1)) {
		ok(0, "agree: fixture");
		return;
	}
	obj = softmax_new(&fx.pb);
	w1 = xcalloc(obj->dim, sizeof(double));
	w2 = xcalloc(obj->dim, sizeof(double));
	ok(!solver_minimize(obj, &so, w1, &r1, &err) && r1.converged,
	   "softmax: newton converges");
	so.method = SOLVER_LBFGS;
	ok(!solver_minimize(obj, &so, w2, &r2, &err) && r2.converged,
	   "softmax: lbfgs converges");
	for (j = 0; j < obj->dim; j++)
		diff = fmax(diff, fabs(w1[j] - w2[j]));
	ok(diff < 1e-5, "softmax: newton and lbfgs agree (%.1e apart)", diff);
	free(w1);
	free(w2);
	objective_free(obj);
	fixture_release(&fx);
}

/* train_fit_take(): train_fit()'s model, and the dataset is gone. */
static void test_fit_take(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct dataset *a = load("regression.csv"), *b = load("regression.csv");
	struct train_opts o;
	struct train_report ra, rb;
	struct model *ma = NULL, *mb = NULL;
	char *ba = NULL, *bb = NULL;
	size_t la = 0, lb = 0;

	train_opts_init(&o);
	o.target = "value";
	o.add_indicator = 1;
	ok(a && b && !train_fit(a, &o, &ma, &ra, &err) &&
	   !train_fit_take(&b, &o, &mb, &rb, &err), "train_fit_take: trains");
	ok(b == NULL, "train_fit_take: the dataset is freed and cleared");
	ok(ma && mb && !model_to_bytes(ma, &ba, &la, &err) &&
	   !model_to_bytes(mb, &bb, &lb, &err) && la == lb &&
	   !memcmp(ba, bb, la), "train_fit_take: the same model bytes");
	free(ba);
	free(bb);
	model_free(ma);
	model_free(mb);
	train_report_release(&ra);
	train_report_release(&rb);
	dataset_free(a);
	dataset_free(b);
}

int main(void)
{
	parity_dir = find_parity_dir();
	test_logistic(0);
	test_logistic(1);
	test_softmax(0);
	test_softmax(1);
	test_lsq();
	test_solvers_synthetic();
	test_solvers_agree();
	test_fit_take();
	free(parity_dir);
	return done_testing();
}
