#ifndef MLOPS_OBJECTIVE_H
#define MLOPS_OBJECTIVE_H

/*
 * The objective interface between the solvers and the losses, as
 * liblinear's `function` class sits between its Newton solver and its
 * l2r_lr_fun: a solver sees a smooth function of `dim` unknowns and
 * calls its operations; each objective (logistic.c, softmax.c, lsq.c)
 * keeps its own per-worker buffers and caches behind them.  Neither side
 * knows the other's kind.
 *
 * Every objective is a penalised sum over the rows of a training
 * problem, f(w) = sum_i s_i loss_i(w) + lambda / 2 |w without the
 * intercepts|^2, computed by passes over blocks of design rows built on
 * the fly (objective_pass()).
 */

#include <stddef.h>
#include <stdint.h>

#include "design.h"
#include "error.h"

/* The training problem an objective is made on; every pointer is lent. */
struct problem {
	const struct design *d;
	const size_t *rows;	/* the dataset rows of the fit */
	size_t n;
	const uint32_t *cls;	/* classifiers: the class of rows[i] */
	const double *yv;	/* regression: the target of rows[i] */
	const double *sw;	/* per-class sample weight, or NULL: all 1 */
	size_t p;		/* model inputs + 1, the intercept last */
	size_t K;		/* outputs: coefficient vectors of p */
	double lambda;		/* penalty on all but the intercepts */
	size_t n_workers;
};

struct objective;

struct objective_ops {
	/*
	 * f(w), its gradient g (dim) and, if h is not NULL, its Hessian h
	 * (dim x dim, row-major).  w becomes the point of hess_vec.
	 */
	int (*fun)(struct objective *obj, const double *w, double *f,
		   double *g, double *h, struct mlops_err *err);
	/* hs = H s, the Hessian at the point of the last fun(). */
	int (*hess_vec)(struct objective *obj, const double *s, double *hs,
			struct mlops_err *err);
	/*
	 * Remove from a step d the directions f does not change along
	 * (the sum of a softmax's intercepts), or NULL: none.
	 */
	void (*project)(const struct objective *obj, double *d);
	/*
	 * A new objective on a systematic sample of obj's rows, one in
	 * `step`, in runs of DESIGN_TILE consecutive ones (whole fill
	 * tiles, the layout the kernels read) spread evenly, with
	 * the penalty scaled by the sample's share of full's rows (full is
	 * obj or the objective obj was sampled from), so that its optimum
	 * is full's up to sampling error.  NULL when sampling is not
	 * supported.  The sample may borrow obj's buffers: the caller
	 * frees it before obj, and never runs the two at once.
	 */
	struct objective *(*sample)(const struct objective *obj,
				    const struct objective *full,
				    size_t step);
	void (*free)(struct objective *obj);
};

struct objective {
	const struct objective_ops *ops;
	size_t dim;		/* unknowns: K x p */
	size_t n_rows;		/* rows summed over */
	double weight;		/* sum of the row weights: the gradient scale */
	double zero_loss;	/* f(0), known without a pass */
};

static inline int objective_fun(struct objective *obj, const double *w,
				double *f, double *g, double *h,
				struct mlops_err *err)
{
	return obj->ops->fun(obj, w, f, g, h, err);
}

static inline int objective_hess_vec(struct objective *obj, const double *s,
				     double *hs, struct mlops_err *err)
{
	return obj->ops->hess_vec(obj, s, hs, err);
}

/* Frees obj; NULL is fine. */
static inline void objective_free(struct objective *obj)
{
	if (obj)
		obj->ops->free(obj);
}

/*
 * The objectives.  Each returns a new objective on pb (which must
 * outlive it); the caller frees it with objective_free().
 */
struct objective *logistic_new(const struct problem *pb);  /* K = 1 */
struct objective *softmax_new(const struct problem *pb);   /* K >= 2 */
/* Squares of residuals / 2, penalty alpha / 2 on all but the intercept. */
struct objective *lsq_new(const struct problem *pb, double alpha);

/*
 * The closed-form optimum of an lsq objective: least squares on centred
 * columns, minimum-norm (scikit-learn's LinearRegression) without
 * `ridge`, by Cholesky with alpha added (Ridge) with it.  w gets dim
 * values.  MLOPS_ENUMERIC when the system cannot be solved.
 */
int lsq_solve(struct objective *obj, int ridge, double *w,
	      struct mlops_err *err);

/* ---- for the objectives' files ---- */

/*
 * One block of a pass: add the sums of the nb rows at positions
 * [start, start + nb) of pb->rows into out.  `worker` picks the caller's
 * per-worker buffers.  Returns 0 or a matrix_*() status.
 */
typedef int (*objective_block_fn)(void *ctx, size_t worker, size_t start,
				  size_t nb, double *out);

/*
 * A pass over pb's rows on all cores: sum (out_len doubles) receives
 * the block sums, added chunk by chunk in row order, so that the result
 * does not depend on the number of threads.  MLOPS_EINPUT (a matrix
 * shape) if a block fails.
 */
int objective_pass(const struct problem *pb, objective_block_fn block,
		   void *ctx, size_t out_len, double *sum,
		   struct mlops_err *err);

/* lambda / 2 |w|^2 over all but the intercepts; g, if set, += lambda w. */
double objective_penalty(const struct problem *pb, const double *w,
			 double *g);

/* The sum of the row weights. */
double objective_weight(const struct problem *pb);

/*
 * The sampled problem of ops->sample (classifiers: cls is sampled, yv
 * dropped) into *sub; *rows and *cls are the caller's to free.
 */
void objective_sample_problem(const struct problem *pb,
			      const struct problem *full, size_t step,
			      struct problem *sub,
			      size_t **rows, uint32_t **cls);

#endif
