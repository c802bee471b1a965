/*
 * The least-squares objective of linear and ridge regression:
 * sum_i (x_i' w - y_i)^2 / 2 + alpha / 2 |w without the intercept|^2.
 *
 * A quadratic, so training does not iterate: lsq_solve() takes the
 * Gram matrix X'X and X'y in one pass and solves the centred normal
 * equations (LinearRegression's minimum-norm solution, or Ridge's by
 * Cholesky).  fun() and hess_vec() make it an objective like the others
 * (for tests and any iterative solver).  Its caches: per-worker blocks.
 */

#include <stdlib.h>
#include <string.h>

#include "matrix.h"
#include "objective.h"
#include "xalloc.h"

struct lsq {
	struct objective obj;
	struct problem pb;	/* pb.lambda is alpha */
	double **block, **r;	/* per worker */
};

/* One pass's arguments. */
struct qpass {
	struct lsq *ls;
	const double *w;	/* fun: the point; hess_vec: the direction */
	int hess_vec;
};

/* Gram matrix X'X and X'y of one block into out (p*p, then p). */
static int block_gram(void *ctx, size_t worker, size_t start, size_t nb,
		      double *out)
{
	const struct qpass *qp = ctx;
	const struct problem *pb = &qp->ls->pb;
	double *block = qp->ls->block[worker];
	size_t p = pb->p;
	int ret;

	design_fill(pb->d, pb->rows + start, nb, block, p, 1, 1, NULL);
	if ((ret = matrix_syrk_add(block, nb, p, out, NULL)))
		return ret;
	return matrix_gemm_atb(pb->yv + start, nb, 1, block, p, 1.0,
			       out + p * p, NULL);
}

/*
 * fun: the loss into out[0] and X' (X w - y) into out + 1; hess_vec:
 * X' X w into out.
 */
static int block_fun(void *ctx, size_t worker, size_t start, size_t nb,
		     double *out)
{
	const struct qpass *qp = ctx;
	const struct problem *pb = &qp->ls->pb;
	double *block = qp->ls->block[worker], *r = qp->ls->r[worker];
	size_t p = pb->p, i;
	int ret;

	design_fill(pb->d, pb->rows + start, nb, block, p, 1, 1, NULL);
	if ((ret = matrix_gemm_abt(block, nb, p, qp->w, 1, r, NULL)))
		return ret;
	if (qp->hess_vec)
		return matrix_gemm_atb(r, nb, 1, block, p, 1.0, out, NULL);
	for (i = 0; i < nb; i++) {
		r[i] -= pb->yv[start + i];
		out[0] += r[i] * r[i] / 2;
	}
	return matrix_gemm_atb(r, nb, 1, block, p, 1.0, out + 1, NULL);
}

static int lsq_fun(struct objective *obj, const double *w, double *f,
		   double *g, double *h, struct mlops_err *err)
{
	struct lsq *ls = (struct lsq *)obj;
	struct qpass qp = { ls, w, 0 };
	size_t p = ls->pb.p, j;
	double *sum = xmallocarray(1 + p, sizeof(double));
	int ret;

	if ((ret = objective_pass(&ls->pb, block_fun, &qp, 1 + p, sum, err)))
		goto out;
	memcpy(g, sum + 1, p * sizeof(*g));
	*f = sum[0] + objective_penalty(&ls->pb, w, g);
	if (!h)
		goto out;
	/* The Hessian is the Gram matrix, whatever w. */
	free(sum);
	sum = xmallocarray(p * p + p, sizeof(double));
	if ((ret = objective_pass(&ls->pb, block_gram, &qp, p * p + p, sum,
				  err)))
		goto out;
	matrix_symmetrize(sum, p);
	memcpy(h, sum, p * p * sizeof(*h));
	for (j = 0; j + 1 < p; j++)
		h[j * p + j] += ls->pb.lambda;
out:
	free(sum);
	return ret;
}

static int lsq_hess_vec(struct objective *obj, const double *s, double *hs,
			struct mlops_err *err)
{
	struct lsq *ls = (struct lsq *)obj;
	struct qpass qp = { ls, s, 1 };
	size_t p = ls->pb.p, j;
	int ret;

	if ((ret = objective_pass(&ls->pb, block_fun, &qp, p, hs, err)))
		return ret;
	for (j = 0; j + 1 < p; j++)
		hs[j] += ls->pb.lambda * s[j];
	return 0;
}

int lsq_solve(struct objective *obj, int ridge, double *w,
	      struct mlops_err *err)
{
	struct lsq *ls = (struct lsq *)obj;
	struct qpass qp = { ls, NULL, 0 };
	size_t p = ls->pb.p, q = p - 1, i, j;
	double *sum = xcalloc(p * p + p, sizeof(double)), *gram = sum;
	double *b = sum + p * p, *h = xcalloc(q * q + 1, sizeof(double));
	double n = (double)ls->pb.n, ybar;
	int ret = 0;

	if ((ret = objective_pass(&ls->pb, block_gram, &qp, p * p + p, sum,
				  err)))
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
			h[i * q + i] += ls->pb.lambda;
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
out:
	free(sum);
	free(h);
	return ret;
}

static void lsq_free(struct objective *obj)
{
	struct lsq *ls = (struct lsq *)obj;
	size_t i;

	for (i = 0; i < ls->pb.n_workers; i++) {
		free(ls->block[i]);
		free(ls->r[i]);
	}
	free(ls->block);
	free(ls->r);
	free(ls);
}

static const struct objective_ops lsq_ops = {
	lsq_fun, lsq_hess_vec, NULL, NULL, lsq_free
};

struct objective *lsq_new(const struct problem *pb, double alpha)
{
	struct lsq *ls = xcalloc(1, sizeof(*ls));
	size_t i;

	ls->pb = *pb;
	ls->pb.lambda = alpha;
	ls->obj.ops = &lsq_ops;
	ls->obj.dim = pb->p;
	ls->obj.n_rows = pb->n;
	ls->obj.weight = (double)pb->n;
	ls->obj.zero_loss = 0;
	for (i = 0; i < pb->n; i++)
		ls->obj.zero_loss += pb->yv[i] * pb->yv[i] / 2;
	ls->block = xcalloc(pb->n_workers, sizeof(*ls->block));
	ls->r = xcalloc(pb->n_workers, sizeof(*ls->r));
	for (i = 0; i < pb->n_workers; i++) {
		ls->block[i] = xmallocarray(DESIGN_BLOCK_ROWS * pb->p,
					    sizeof(double));
		ls->r[i] = xmallocarray(DESIGN_BLOCK_ROWS, sizeof(double));
	}
	return &ls->obj;
}
