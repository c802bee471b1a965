/*
 * The solvers: Newton's method while the Hessian is small
 * (SOLVER_NEWTON_MAX_DIM unknowns), L-BFGS beyond, both with a
 * backtracking (Armijo) line search, and a warm start that solves a
 * sample of the rows first.  They reach an objective only through
 * objective.h: function and gradient, the full Hessian (Newton), the
 * directions the function is flat along, and sampling (the warm start).
 * Nothing here knows a loss, a class or a column; a run's own state
 * (the Hessian a warm start hands from a sample to the whole, the
 * answer) lives in struct run, never in the objective.
 *
 * The stopping test is max |g| <= tol * (sum of row weights), as in
 * scikit-learn's lbfgs and newton-cg; below the rounding of the
 * objective a step cannot make progress, which also ends a run.
 */

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matrix.h"
#include "solver.h"
#include "xalloc.h"

#define LBFGS_MEMORY 10
/* Newton skips the Hessian of a trial point when the gradient is within
 * this factor of the stopping test. */
#define NEWTON_NEAR 30
/* A frozen Hessian serves while each full step cuts the gradient this
 * much (see solve_newton). */
#define FROZEN_GAIN 4
/* The warm start's tolerance on the sample (see solve_warm). */
#define WARM_TOL 1e-4
/* One row in WARM_STEP (in runs the objective chooses). */
#define WARM_STEP 8

/* One run of a solver on one objective: its inputs and its answer. */
struct run {
	struct objective *obj;
	double tol;
	long max_iter;
	/* Start from the w given unless its loss is not below f_reset. */
	double f_reset;
	/*
	 * Newton only: h_keep, if set, receives the last Hessian computed;
	 * h_start, if set, is a Hessian to take steps with while they
	 * make good progress, instead of computing one (see solve_newton);
	 * h_freeze does as h_start, with the Hessian at the start.
	 */
	const double *h_start;
	int h_freeze;
	double *h_keep;
	int converged;
	long n_iter;
};

typedef int (*solve_fn)(struct run *r, double *w, struct mlops_err *err);

static double max_abs(const double *v, size_t n)
{
	double m = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (fabs(v[i]) > m)
			m = fabs(v[i]);
	return m;
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
static int start_at(struct objective *obj, double *w, double f_reset,
		    double *f, double *g, double *h, struct mlops_err *err)
{
	int ret = objective_fun(obj, w, f, g, h, err);

	if (ret || *f < f_reset)
		return ret;
	memset(w, 0, obj->dim * sizeof(*w));
	return objective_fun(obj, w, f, g, h, err);
}

/*
 * Halve t from 1 until wn = w - t d decreases f enough (Armijo, with
 * slope = g'd) or t < t_min; fn, gn (and hn if set) are at wn.
 */
static int line_search(struct objective *obj, const double *w,
		       const double *d, double f, double slope, double t_min,
		       double *wn, double *fn, double *gn, double *hn,
		       double *t_out, struct mlops_err *err)
{
	size_t j, D = obj->dim;
	double t;
	int ret;

	for (t = 1; ; t /= 2) {
		for (j = 0; j < D; j++)
			wn[j] = w[j] - t * d[j];
		if ((ret = objective_fun(obj, wn, fn, gn, hn, err)))
			return ret;
		if (*fn <= f - 1e-4 * t * slope || t < t_min)
			break;
	}
	*t_out = t;
	return 0;
}

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

/* Newton's state between iterations. */
struct newton {
	struct objective *obj;
	double *g, *h, *d, *wn, *gn, *hn, *hf;
	double f, fn;
	int frozen;		/* h is an estimate, not computed at w */
};

/*
 * d = h^-1 g, by Cholesky on a copy (h stays a Hessian).  A frozen
 * estimate that is not positive definite here is dropped for the true
 * Hessian at w, and *retry set.
 */
static int newton_direction(struct newton *nt, double *w, int *retry,
			    struct mlops_err *err)
{
	struct objective *obj = nt->obj;
	size_t D = obj->dim;
	int ret;

	*retry = 0;
	memcpy(nt->d, nt->g, D * sizeof(*nt->d));
	memcpy(nt->hf, nt->h, D * D * sizeof(*nt->h));
	ret = matrix_cholesky_solve(nt->hf, D, nt->d, err);
	if (ret && nt->frozen) {
		nt->frozen = 0;
		*retry = 1;
		return objective_fun(obj, w, &nt->f, nt->g, nt->h, err);
	}
	if (ret)
		return ret;
	if (obj->ops->project)
		obj->ops->project(obj, nt->d);
	return 0;
}

/*
 * Move to the trial point wn found at step t, and keep h a Hessian (or
 * a good estimate) at the new w.  *done: the run is over, converged.
 */
static int newton_accept(struct newton *nt, const struct run *r, double *w,
			 double t, double gmax, int cheap, int *done,
			 struct mlops_err *err)
{
	size_t D = nt->obj->dim;
	double scale = nt->obj->weight;

	*done = 0;
	if (nt->frozen)
		bfgs_update(nt->h, D, w, nt->wn, nt->g, nt->gn, nt->hf);
	memcpy(w, nt->wn, D * sizeof(*w));
	memcpy(nt->g, nt->gn, D * sizeof(*nt->g));
	if (stalled(nt->f, nt->fn) &&
	    max_abs(nt->g, D) <= 1e3 * r->tol * scale) {
		*done = 1;
		return 0;
	}
	nt->f = nt->fn;
	if (nt->frozen && t == 1 && max_abs(nt->g, D) * FROZEN_GAIN <= gmax)
		return 0;	/* the estimate still serves */
	nt->frozen = 0;
	if (!cheap)
		memcpy(nt->h, nt->hn, D * D * sizeof(*nt->h));
	else if (max_abs(nt->g, D) > r->tol * scale)
		return objective_fun(nt->obj, w, &nt->f, nt->g, nt->h, err);
	return 0;
}

/*
 * Newton's method with a backtracking line search, solved by Cholesky,
 * from the w it is given.  A trial point costs one pass.  Near the
 * optimum, where the next point will likely pass the gradient test, the
 * trial pass skips the Hessian (most of a pass's work) and a second pass
 * computes it only if the test fails after all.
 *
 * Given r->h_start (a Hessian estimated near w, from a sample), the
 * steps use it instead, and no pass computes a Hessian, for as long as
 * each full step cuts the gradient at least FROZEN_GAIN-fold: near the
 * optimum a good estimate makes that a fast linear convergence at the
 * price of gradient passes only.  The first step that does worse (as
 * from a start that fell back to w = 0) computes the true Hessian and
 * goes on as plain Newton, so the optimum and the test are the same
 * either way.
 */
static int solve_newton(struct run *r, double *w, struct mlops_err *err)
{
	struct objective *obj = r->obj;
	size_t D = obj->dim;
	struct newton nt = { obj, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
			     0, 0, r->h_start != NULL || r->h_freeze };
	double scale = obj->weight, t, slope, gmax;
	long it;
	int ret, cheap, retry, done;

	nt.g = xcalloc(D, sizeof(double));
	nt.h = xcalloc(D * D, sizeof(double));
	nt.d = xcalloc(D, sizeof(double));
	nt.wn = xcalloc(D, sizeof(double));
	nt.gn = xcalloc(D, sizeof(double));
	nt.hn = xcalloc(D * D, sizeof(double));
	nt.hf = xcalloc(D * D, sizeof(double));
	r->converged = 0;
	if (r->h_start)
		memcpy(nt.h, r->h_start, D * D * sizeof(*nt.h));
	if ((ret = start_at(obj, w, r->f_reset, &nt.f, nt.g,
			    r->h_start ? NULL : nt.h, err)))
		goto out;
	for (it = 0; ; it++) {
		gmax = max_abs(nt.g, D);
		if (gmax <= r->tol * scale) {
			r->converged = 1;
			break;
		}
		if (it >= r->max_iter)
			break;
		cheap = nt.frozen || gmax <= NEWTON_NEAR * r->tol * scale;
		if ((ret = newton_direction(&nt, w, &retry, err)))
			goto out;
		if (retry) {
			it--;
			continue;
		}
		slope = matrix_dot(nt.g, nt.d, D);
		if ((ret = line_search(obj, w, nt.d, nt.f, slope, 1e-10, nt.wn,
				       &nt.fn, nt.gn, cheap ? NULL : nt.hn,
				       &t, err)))
			goto out;
		/* No progress possible in floating point. */
		if (t < 1e-10 && nt.fn > nt.f)
			break;
		if ((ret = newton_accept(&nt, r, w, t, gmax, cheap, &done,
					 err)))
			goto out;
		if (done) {
			it++;
			r->converged = 1;
			break;
		}
	}
	r->n_iter = it;
	if (r->h_keep)
		memcpy(r->h_keep, nt.h, D * D * sizeof(*nt.h));
out:
	free(nt.g);
	free(nt.h);
	free(nt.d);
	free(nt.wn);
	free(nt.gn);
	free(nt.hn);
	free(nt.hf);
	return ret;
}

/* L-BFGS's history: the last LBFGS_MEMORY steps s and gradient changes y. */
struct lbfgs {
	size_t D, n_hist, head;
	double *s, *y, rho[LBFGS_MEMORY], alpha[LBFGS_MEMORY], gamma;
};

/* d = H g by the two-loop recursion; the first step, g normalised. */
static void lbfgs_direction(struct lbfgs *lb, const double *g, double *d)
{
	size_t mem = LBFGS_MEMORY, D = lb->D, i, j;

	memcpy(d, g, D * sizeof(*d));
	for (i = 0; i < lb->n_hist; i++) {
		size_t k = (lb->head + mem - 1 - i) % mem;

		lb->alpha[k] = lb->rho[k] * matrix_dot(lb->s + k * D, d, D);
		for (j = 0; j < D; j++)
			d[j] -= lb->alpha[k] * lb->y[k * D + j];
	}
	for (j = 0; j < D; j++)
		d[j] *= lb->gamma;
	for (i = lb->n_hist; i-- > 0;) {
		size_t k = (lb->head + mem - 1 - i) % mem;
		double beta = lb->rho[k] * matrix_dot(lb->y + k * D, d, D);

		for (j = 0; j < D; j++)
			d[j] += lb->s[k * D + j] * (lb->alpha[k] - beta);
	}
	if (!lb->n_hist) {
		double norm = sqrt(matrix_dot(g, g, D));

		for (j = 0; j < D; j++)
			d[j] = g[j] / (norm > 1 ? norm : 1);
	}
}

/* Remember the step w -> wn if its curvature is safely positive. */
static void lbfgs_push(struct lbfgs *lb, const double *w, const double *wn,
		       const double *g, const double *gn)
{
	size_t k = lb->head, D = lb->D, j;
	double sy, yy;

	for (j = 0; j < D; j++) {
		lb->s[k * D + j] = wn[j] - w[j];
		lb->y[k * D + j] = gn[j] - g[j];
	}
	sy = matrix_dot(lb->s + k * D, lb->y + k * D, D);
	yy = matrix_dot(lb->y + k * D, lb->y + k * D, D);
	if (sy > 1e-12 * yy && yy > 0) {
		lb->rho[k] = 1 / sy;
		lb->gamma = sy / yy;
		lb->head = (lb->head + 1) % LBFGS_MEMORY;
		if (lb->n_hist < LBFGS_MEMORY)
			lb->n_hist++;
	}
}

/* L-BFGS with a backtracking line search, for problems too wide for Newton. */
static int solve_lbfgs(struct run *r, double *w, struct mlops_err *err)
{
	struct objective *obj = r->obj;
	size_t D = obj->dim;
	struct lbfgs lb = { D, 0, 0, NULL, NULL, { 0 }, { 0 }, 1 };
	double *g = xcalloc(D, sizeof(double));
	double *gn = xcalloc(D, sizeof(double));
	double *d = xcalloc(D, sizeof(double));
	double *wn = xcalloc(D, sizeof(double));
	double f, fn, scale = obj->weight, t, slope;
	long it;
	int ret;

	lb.s = xcalloc(LBFGS_MEMORY * D, sizeof(double));
	lb.y = xcalloc(LBFGS_MEMORY * D, sizeof(double));
	r->converged = 0;
	if ((ret = start_at(obj, w, r->f_reset, &f, g, NULL, err)))
		goto out;
	for (it = 0; ; it++) {
		if (max_abs(g, D) <= r->tol * scale) {
			r->converged = 1;
			break;
		}
		if (it >= r->max_iter)
			break;
		lbfgs_direction(&lb, g, d);
		slope = matrix_dot(g, d, D);
		if (!(slope > 0)) {
			/* Not a descent direction: restart from g. */
			memcpy(d, g, D * sizeof(*d));
			slope = matrix_dot(g, d, D);
			lb.n_hist = 0;
		}
		if ((ret = line_search(obj, w, d, f, slope, 1e-12, wn, &fn, gn,
				       NULL, &t, err)))
			goto out;
		if (t < 1e-12 && fn >= f)
			break;
		/*
		 * Below the rounding of the loss no step can make progress:
		 * stop as scipy's L-BFGS does (its factr test), converged.
		 */
		if (stalled(f, fn)) {
			memcpy(w, wn, D * sizeof(*w));
			r->converged = 1;
			it++;
			break;
		}
		lbfgs_push(&lb, w, wn, g, gn);
		memcpy(w, wn, D * sizeof(*w));
		memcpy(g, gn, D * sizeof(*g));
		f = fn;
	}
	r->n_iter = it;
out:
	free(lb.s);
	free(lb.y);
	free(g);
	free(gn);
	free(d);
	free(wn);
	return ret;
}

/*
 * Newton's pre-start: on a sample of the sample (when that has
 * warm_min_rows / 16 rows or more), from w = 0.  Its first iterations
 * are most of Newton's passes and need no precision.  Returns the loss
 * the sample's start must beat (the sample's at w = 0), or INFINITY
 * when there is no start (w = 0).
 */
static double warm_pre(struct objective *obj, struct objective *sub,
		       const struct solver_opts *so, double wtol, double *w)
{
	struct mlops_err ignored = MLOPS_ERR_INIT;
	struct run pr = { 0 };
	double f_sub = INFINITY;

	if (sub->n_rows / WARM_STEP < so->warm_min_rows / 16)
		return INFINITY;
	pr.obj = sub->ops->sample(sub, obj, WARM_STEP);
	pr.tol = wtol;
	pr.max_iter = so->max_iter;
	pr.f_reset = INFINITY;
	if (solve_newton(&pr, w, &ignored))
		memset(w, 0, obj->dim * sizeof(*w));
	else
		f_sub = sub->zero_loss;
	objective_free(pr.obj);
	return f_sub;
}

/*
 * A solver from a warm start.  On a long table the solver first runs on a
 * systematic sample of one row in WARM_STEP, so that its optimum is the
 * full one up to sampling error; from there the full data need only the
 * last iteration or two (Newton converges quadratically).  Newton's
 * sample starts in turn from a sample of its own (warm_pre).  The answer
 * is the full problem's optimum, to the same tolerance, whatever the
 * start.  Each start is kept only if it beats w = 0, whose loss needs no
 * pass; a sample the solver fails on (a Hessian singular on so few rows)
 * only means no start.
 */
static int solve_warm(struct run *full, solve_fn solve,
		      const struct solver_opts *so, double *w,
		      struct mlops_err *err)
{
	struct objective *obj = full->obj;
	struct mlops_err ignored = MLOPS_ERR_INIT;
	struct run sr = { 0 };
	size_t D = obj->dim, i;
	int ret, newton = solve == solve_newton;

	/*
	 * The sample's optimum is off the full one by sampling error, far
	 * more than 1e-4 of a gradient per row: solving it closer is waste.
	 */
	sr.tol = fmax(so->tol, WARM_TOL);
	sr.max_iter = so->max_iter;
	sr.obj = obj->ops->sample(obj, obj, WARM_STEP);
	sr.f_reset = newton ? warm_pre(obj, sr.obj, so, sr.tol, w) : INFINITY;
	/*
	 * Newton's last Hessian on the sample, scaled up, guides the polish.
	 * From a sample's start the sample's Hessian there is close enough
	 * to take the sample's own steps with.
	 */
	if (newton) {
		sr.h_keep = xcalloc(D * D, sizeof(double));
		sr.h_freeze = sr.f_reset < INFINITY;
	}
	if (solve(&sr, w, &ignored)) {
		memset(w, 0, D * sizeof(*w));
	} else {
		full->f_reset = obj->zero_loss;
		for (i = 0; sr.h_keep && i < D * D; i++)
			sr.h_keep[i] *= (double)obj->n_rows /
					(double)sr.obj->n_rows;
		full->h_start = sr.h_keep;
	}
	objective_free(sr.obj);
	ret = solve(full, w, err);
	full->h_start = NULL;
	free(sr.h_keep);
	return ret;
}

int solver_minimize(struct objective *obj, const struct solver_opts *so,
		    double *w, struct solver_result *res,
		    struct mlops_err *err)
{
	solve_fn solve = so->method == SOLVER_NEWTON ? solve_newton :
			 solve_lbfgs;
	struct run full = { 0 };
	int ret;

	full.obj = obj;
	full.tol = so->tol;
	full.max_iter = so->max_iter;
	full.f_reset = INFINITY;
	memset(w, 0, obj->dim * sizeof(*w));
	if (!obj->ops->sample || obj->n_rows < so->warm_min_rows ||
	    obj->n_rows / WARM_STEP < 2)
		ret = solve(&full, w, err);
	else
		ret = solve_warm(&full, solve, so, w, err);
	res->converged = full.converged;
	res->n_iter = full.n_iter;
	return ret;
}
