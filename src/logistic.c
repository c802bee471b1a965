/*
 * The logistic objective: sum_i s_i (log(1 + e^z_i) - y_i z_i) with
 * z_i = x_i' w, plus the penalty, for a binary target (class 1 is y = 1).
 *
 * Two kinds of pass: with the Hessian, design rows one after another and
 * BLAS (dsyrk) for the p x p sum; for the function and gradient alone,
 * the design seen input by input and the kernels of kernel.c, which
 * read each column in one sequential run.  Its caches: per-worker blocks
 * and the point of the last evaluation (hess_vec's).
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "matrix.h"
#include "objective.h"
#include "xalloc.h"

struct scratch {
	double *block, *block2, *z;
	const double **view;	/* p - 1 inputs of a block (design_fill) */
};

struct logistic {
	struct objective obj;
	struct problem pb;
	size_t *own_rows;	/* a sample's rows and classes, or NULL */
	uint32_t *own_cls;
	struct scratch *scr;	/* per worker; a sample borrows its parent's */
	int borrowed;
	double *w_last;		/* the point of the last fun() */
};

/* One pass's arguments. */
struct lpass {
	struct logistic *lg;
	const double *w;
	const double *s;	/* hess_vec's direction */
	int want_h;
};

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

/* Loss, gradient and Hessian of one block of design rows into out. */
static int block_hessian(const struct lpass *lp, struct scratch *sc,
			 size_t start, size_t nb, double *out)
{
	const struct problem *pb = &lp->lg->pb;
	size_t p = pb->p, i, j;
	double *g = out + 1, *h = out + 1 + p;
	int ret;

	design_fill(pb->d, pb->rows + start, nb, sc->block, p, 1, 1, NULL);
	if ((ret = matrix_gemm_abt(sc->block, nb, p, lp->w, 1, sc->z, NULL)))
		return ret;
	for (i = 0; i < nb; i++) {
		double z = sc->z[i], y = pb->cls[start + i] == 1;
		double s = pb->sw ? pb->sw[pb->cls[start + i]] : 1;
		double pr, dd;

		out[0] += s * (softplus_prob(z, &pr) - y * z);
		sc->z[i] = s * (pr - y);
		if (lp->want_h) {
			dd = sqrt(s * pr * (1 - pr));
			for (j = 0; j < p; j++)
				sc->block2[i * p + j] = sc->block[i * p + j] * dd;
		}
	}
	if ((ret = matrix_gemm_atb(sc->z, nb, 1, sc->block, p, 1.0, g, NULL)))
		return ret;
	if (lp->want_h)
		return matrix_syrk_add(sc->block2, nb, p, h, NULL);
	return 0;
}

/*
 * Loss and gradient of one block seen input by input (sc->view): the
 * passes of Newton's frozen-Hessian steps and of L-BFGS.
 */
static int block_gradient(const struct lpass *lp, struct scratch *sc,
			  size_t start, size_t nb, double *out)
{
	const struct problem *pb = &lp->lg->pb;
	size_t q = pb->p - 1, i;
	double *z = sc->z;

	design_fill(pb->d, pb->rows + start, nb, sc->block, 1, nb, 0,
		    sc->view);
	kernel_times(sc->view, q, nb, lp->w, z);
	for (i = 0; i < nb; i++) {
		double y = pb->cls[start + i] == 1;
		double s = pb->sw ? pb->sw[pb->cls[start + i]] : 1;
		double pr;

		out[0] += s * (softplus_prob(z[i], &pr) - y * z[i]);
		z[i] = s * (pr - y);
	}
	kernel_dot(sc->view, q, nb, z, out + 1);
	return 0;
}

static int block_fun(void *ctx, size_t worker, size_t start, size_t nb,
		     double *out)
{
	const struct lpass *lp = ctx;
	struct scratch *sc = &lp->lg->scr[worker];

	if (!lp->want_h)
		return block_gradient(lp, sc, start, nb, out);
	return block_hessian(lp, sc, start, nb, out);
}

static int logistic_fun(struct objective *obj, const double *w, double *f,
			double *g, double *h, struct mlops_err *err)
{
	struct logistic *lg = (struct logistic *)obj;
	struct lpass lp = { lg, w, NULL, h != NULL };
	size_t p = lg->pb.p, len = 1 + p + (h ? p * p : 0), j;
	double *sum = xmallocarray(len, sizeof(double));
	int ret;

	memcpy(lg->w_last, w, p * sizeof(*w));
	if ((ret = objective_pass(&lg->pb, block_fun, &lp, len, sum, err))) {
		free(sum);
		return ret;
	}
	memcpy(g, sum + 1, p * sizeof(*g));
	*f = sum[0] + objective_penalty(&lg->pb, w, g);
	if (h) {
		memcpy(h, sum + 1 + p, p * p * sizeof(*h));
		for (j = 0; j + 1 < p; j++)
			h[j * p + j] += lg->pb.lambda;
		matrix_symmetrize(h, p);
	}
	free(sum);
	return 0;
}

/* X' D X s over one block, D_ii = s_i p_i (1 - p_i) at w_last. */
static int block_hess_vec(void *ctx, size_t worker, size_t start, size_t nb,
			  double *out)
{
	const struct lpass *lp = ctx;
	const struct problem *pb = &lp->lg->pb;
	struct scratch *sc = &lp->lg->scr[worker];
	double *u = sc->block2;
	size_t p = pb->p, i;
	int ret;

	design_fill(pb->d, pb->rows + start, nb, sc->block, p, 1, 1, NULL);
	if ((ret = matrix_gemm_abt(sc->block, nb, p, lp->w, 1, sc->z, NULL)) ||
	    (ret = matrix_gemm_abt(sc->block, nb, p, lp->s, 1, u, NULL)))
		return ret;
	for (i = 0; i < nb; i++) {
		double s = pb->sw ? pb->sw[pb->cls[start + i]] : 1, pr;

		softplus_prob(sc->z[i], &pr);
		u[i] *= s * pr * (1 - pr);
	}
	return matrix_gemm_atb(u, nb, 1, sc->block, p, 1.0, out, NULL);
}

static int logistic_hess_vec(struct objective *obj, const double *s,
			     double *hs, struct mlops_err *err)
{
	struct logistic *lg = (struct logistic *)obj;
	struct lpass lp = { lg, lg->w_last, s, 0 };
	size_t p = lg->pb.p, j;
	int ret;

	if ((ret = objective_pass(&lg->pb, block_hess_vec, &lp, p, hs, err)))
		return ret;
	for (j = 0; j + 1 < p; j++)
		hs[j] += lg->pb.lambda * s[j];
	return 0;
}

static struct logistic *make(const struct problem *pb,
			     struct scratch *borrow);

static struct objective *logistic_sample(const struct objective *obj,
					 const struct objective *full,
					 size_t step)
{
	const struct logistic *lg = (const struct logistic *)obj;
	struct problem sub;
	size_t *rows;
	uint32_t *cls;
	struct logistic *s;

	objective_sample_problem(&lg->pb, &((const struct logistic *)full)->pb,
				 step, &sub, &rows, &cls);
	s = make(&sub, lg->scr);
	s->own_rows = rows;
	s->own_cls = cls;
	return &s->obj;
}

static void logistic_free(struct objective *obj)
{
	struct logistic *lg = (struct logistic *)obj;
	size_t i;

	for (i = 0; !lg->borrowed && i < lg->pb.n_workers; i++) {
		free(lg->scr[i].block);
		free(lg->scr[i].block2);
		free(lg->scr[i].z);
		free(lg->scr[i].view);
	}
	if (!lg->borrowed)
		free(lg->scr);
	free(lg->w_last);
	free(lg->own_rows);
	free(lg->own_cls);
	free(lg);
}

static const struct objective_ops logistic_ops = {
	logistic_fun, logistic_hess_vec, NULL, logistic_sample, logistic_free
};

/* A logistic objective on pb, with the buffers of `borrow` if set. */
static struct logistic *make(const struct problem *pb,
			     struct scratch *borrow)
{
	struct logistic *lg = xcalloc(1, sizeof(*lg));
	size_t i, p = pb->p;

	lg->pb = *pb;
	lg->obj.ops = &logistic_ops;
	lg->obj.dim = p;
	lg->obj.n_rows = pb->n;
	lg->obj.weight = objective_weight(pb);
	/* Every row has probability 1/2 at w = 0. */
	lg->obj.zero_loss = lg->obj.weight * log(2.0);
	lg->w_last = xcalloc(p, sizeof(double));
	lg->scr = borrow;
	lg->borrowed = borrow != NULL;
	if (borrow)
		return lg;
	lg->scr = xcalloc(pb->n_workers, sizeof(*lg->scr));
	for (i = 0; i < pb->n_workers; i++) {
		lg->scr[i].block = xmallocarray(DESIGN_BLOCK_ROWS * p,
						sizeof(double));
		lg->scr[i].block2 = xmallocarray(DESIGN_BLOCK_ROWS * p,
						 sizeof(double));
		lg->scr[i].z = xmallocarray(DESIGN_BLOCK_ROWS, sizeof(double));
		lg->scr[i].view = xcalloc(p, sizeof(*lg->scr[i].view));
	}
	return lg;
}

struct objective *logistic_new(const struct problem *pb)
{
	return &make(pb, NULL)->obj;
}
