#ifndef MLOPS_SOLVER_H
#define MLOPS_SOLVER_H

/*
 * Minimising a smooth convex objective (objective.h): Newton's method
 * with a line search for narrow problems, L-BFGS for wide ones, each
 * optionally from a warm start on samples of the rows (see solver.c).
 * The solvers know the objective only through its operations.
 */

#include <stddef.h>

#include "error.h"
#include "objective.h"

/* Newton's method is used up to this many unknowns (a Hessian each). */
#define SOLVER_NEWTON_MAX_DIM 400

enum solver_method { SOLVER_NEWTON, SOLVER_LBFGS };

struct solver_opts {
	enum solver_method method;
	double tol;		/* on max |g| per unit of row weight */
	long max_iter;
	/*
	 * Objectives of at least this many rows that can be sampled start
	 * from the optimum on a sample of them (the optimum reached is the
	 * same); SIZE_MAX: never.
	 */
	size_t warm_min_rows;
};

struct solver_result {
	int converged;
	long n_iter;		/* iterations on the whole objective */
};

/*
 * Minimise obj: w (obj->dim values) receives the solution.  Hitting
 * max_iter is not an error (res->converged = 0).  Returns the status of
 * an objective operation that failed, or MLOPS_ENUMERIC when Newton's
 * Hessian is not positive definite.
 */
int solver_minimize(struct objective *obj, const struct solver_opts *so,
		    double *w, struct solver_result *res,
		    struct mlops_err *err);

#endif
