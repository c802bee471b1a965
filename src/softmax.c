/*
 * The softmax (multinomial logistic) objective: sum_i s_i (log sum_k
 * e^z_ik - z_iy) with z_ik = x_i' w_k, plus the penalty, for K >= 2
 * classes; w holds K vectors of p (class by class, the intercept last).
 *
 * Passes run on design rows one after another, with BLAS products.  The
 * Hessian, (K p)^2, is only asked for on narrow problems (Newton's); its
 * per-worker p x p buffer is allocated on the first such call.  Its
 * caches: per-worker blocks and the point of the last evaluation.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "matrix.h"
#include "objective.h"
#include "xalloc.h"

struct scratch {
	double *block, *block2, *z, *u;
	double *hk;		/* p x p: one class pair's Hessian block */
};

struct softmax {
	struct objective obj;
	struct problem pb;
	size_t *own_rows;	/* a sample's rows and classes, or NULL */
	uint32_t *own_cls;
	struct scratch *scr;	/* per worker; a sample borrows its parent's */
	int borrowed;
	double *w_last;		/* the point of the last fun() */
};

/* One pass's arguments. */
struct spass {
	struct softmax *sm;
	const double *w;
	const double *s;	/* hess_vec's direction */
	int want_h;
};

static double row_weight(const struct problem *pb, size_t i)
{
	return pb->sw ? pb->sw[pb->cls[i]] : 1;
}

/*
 * sc->z (nb x K): the scores of the block's rows, made their class
 * probabilities; *loss += their loss, row by row.
 */
static void block_probs(const struct problem *pb, struct scratch *sc,
			size_t start, size_t nb, double *loss)
{
	size_t K = pb->K, i, k;

	for (i = 0; i < nb; i++) {
		double *z = sc->z + i * K, zmax = -INFINITY, sum = 0, lse;
		uint32_t y = pb->cls[start + i];
		double s = pb->sw ? pb->sw[y] : 1;

		for (k = 0; k < K; k++)
			if (z[k] > zmax)
				zmax = z[k];
		for (k = 0; k < K; k++)
			sum += exp(z[k] - zmax);
		lse = zmax + log(sum);
		*loss += s * (lse - z[y]);
		/* z becomes the probabilities; the gradient uses p - y. */
		for (k = 0; k < K; k++)
			z[k] = exp(z[k] - lse);
	}
}

/*
 * h += the block's Hessian: the block of classes (k, l) is
 * sum_i s_i p_ik (d_kl - p_il) x_i x_i'.
 */
static int block_add_hessian(const struct problem *pb, struct scratch *sc,
			     size_t start, size_t nb, double *h)
{
	size_t p = pb->p, K = pb->K, D = K * p, i, k, l, j, c;
	int ret;

	for (k = 0; k < K; k++) {
		for (l = k; l < K; l++) {
			for (i = 0; i < nb; i++) {
				double pk = sc->z[i * K + k];
				double s = row_weight(pb, start + i);
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
	return 0;
}

/* Loss, gradient and, if asked, Hessian of one block into out. */
static int block_fun(void *ctx, size_t worker, size_t start, size_t nb,
		     double *out)
{
	const struct spass *sp = ctx;
	const struct problem *pb = &sp->sm->pb;
	struct scratch *sc = &sp->sm->scr[worker];
	size_t p = pb->p, K = pb->K, D = K * p, i, k;
	int ret;

	design_fill(pb->d, pb->rows + start, nb, sc->block, p, 1, 1, NULL);
	if ((ret = matrix_gemm_abt(sc->block, nb, p, sp->w, K, sc->z, NULL)))
		return ret;
	block_probs(pb, sc, start, nb, out);
	if (sp->want_h &&
	    (ret = block_add_hessian(pb, sc, start, nb, out + 1 + D)))
		return ret;
	for (i = 0; i < nb; i++) {
		uint32_t y = pb->cls[start + i];
		double s = pb->sw ? pb->sw[y] : 1;

		for (k = 0; k < K; k++)
			sc->z[i * K + k] = s * (sc->z[i * K + k] - (k == y));
	}
	return matrix_gemm_atb(sc->z, nb, K, sc->block, p, 1.0, out + 1, NULL);
}

/*
 * The penalty's and a tiny ridge's part of the Hessian h (D x D).
 * Adding the same constant to every intercept changes nothing, so the
 * Hessian is singular along that direction.  A tiny ridge on the
 * intercepts makes it solvable without moving along it (the gradient
 * never has a component there), which keeps scikit-learn's solution:
 * intercepts summing to zero.
 */
static void hessian_diagonal(const struct problem *pb, double *h)
{
	size_t p = pb->p, D = pb->K * p, k, j;
	double dmax = 0;

	for (k = 0; k < pb->K; k++)
		for (j = 0; j + 1 < p; j++)
			h[(k * p + j) * D + k * p + j] += pb->lambda;
	for (j = 0; j < D; j++)
		if (h[j * D + j] > dmax)
			dmax = h[j * D + j];
	for (k = 0; k < pb->K; k++)
		h[(k * p + p - 1) * D + k * p + p - 1] +=
			1e-10 * (dmax > 1 ? dmax : 1);
}

static int softmax_fun(struct objective *obj, const double *w, double *f,
		       double *g, double *h, struct mlops_err *err)
{
	struct softmax *sm = (struct softmax *)obj;
	struct spass sp = { sm, w, NULL, h != NULL };
	size_t p = sm->pb.p, D = obj->dim, len = 1 + D + (h ? D * D : 0), i;
	double *sum;
	int ret;

	for (i = 0; h && i < sm->pb.n_workers; i++)
		if (!sm->scr[i].hk)
			sm->scr[i].hk = xmallocarray(p * p, sizeof(double));
	memcpy(sm->w_last, w, D * sizeof(*w));
	sum = xmallocarray(len, sizeof(double));
	if ((ret = objective_pass(&sm->pb, block_fun, &sp, len, sum, err))) {
		free(sum);
		return ret;
	}
	memcpy(g, sum + 1, D * sizeof(*g));
	*f = sum[0] + objective_penalty(&sm->pb, w, g);
	if (h) {
		memcpy(h, sum + 1 + D, D * D * sizeof(*h));
		hessian_diagonal(&sm->pb, h);
	}
	free(sum);
	return 0;
}

/*
 * H s over one block at w_last: row i adds x_i r_ik to class k, with
 * r_ik = s_i p_ik (u_ik - sum_l p_il u_il) and u_ik = x_i' s_k.
 */
static int block_hess_vec(void *ctx, size_t worker, size_t start, size_t nb,
			  double *out)
{
	const struct spass *sp = ctx;
	const struct problem *pb = &sp->sm->pb;
	struct scratch *sc = &sp->sm->scr[worker];
	size_t p = pb->p, K = pb->K, i, k;
	double loss = 0;
	int ret;

	design_fill(pb->d, pb->rows + start, nb, sc->block, p, 1, 1, NULL);
	if ((ret = matrix_gemm_abt(sc->block, nb, p, sp->w, K, sc->z, NULL)) ||
	    (ret = matrix_gemm_abt(sc->block, nb, p, sp->s, K, sc->u, NULL)))
		return ret;
	block_probs(pb, sc, start, nb, &loss);
	for (i = 0; i < nb; i++) {
		double *pr = sc->z + i * K, *u = sc->u + i * K, pu = 0;
		double s = row_weight(pb, start + i);

		for (k = 0; k < K; k++)
			pu += pr[k] * u[k];
		for (k = 0; k < K; k++)
			u[k] = s * pr[k] * (u[k] - pu);
	}
	return matrix_gemm_atb(sc->u, nb, K, sc->block, p, 1.0, out, NULL);
}

static int softmax_hess_vec(struct objective *obj, const double *s,
			    double *hs, struct mlops_err *err)
{
	struct softmax *sm = (struct softmax *)obj;
	struct spass sp = { sm, sm->w_last, s, 0 };
	size_t p = sm->pb.p, k, j;
	int ret;

	if ((ret = objective_pass(&sm->pb, block_hess_vec, &sp, obj->dim, hs,
				  err)))
		return ret;
	for (k = 0; k < sm->pb.K; k++)
		for (j = 0; j + 1 < p; j++)
			hs[k * p + j] += sm->pb.lambda * s[k * p + j];
	return 0;
}

/*
 * Keep a step off the flat direction (all intercepts up by the same
 * amount), which rounding in the gradient would otherwise excite.
 */
static void softmax_project(const struct objective *obj, double *d)
{
	const struct softmax *sm = (const struct softmax *)obj;
	double mean = 0;
	size_t k, p = sm->pb.p;

	for (k = 0; k < sm->pb.K; k++)
		mean += d[k * p + p - 1];
	mean /= (double)sm->pb.K;
	for (k = 0; k < sm->pb.K; k++)
		d[k * p + p - 1] -= mean;
}

static struct softmax *make(const struct problem *pb,
			    struct scratch *borrow);

static struct objective *softmax_sample(const struct objective *obj,
					const struct objective *full,
					size_t step)
{
	const struct softmax *sm = (const struct softmax *)obj;
	struct problem sub;
	size_t *rows;
	uint32_t *cls;
	struct softmax *s;

	objective_sample_problem(&sm->pb, &((const struct softmax *)full)->pb,
				 step, &sub, &rows, &cls);
	s = make(&sub, sm->scr);
	s->own_rows = rows;
	s->own_cls = cls;
	return &s->obj;
}

static void softmax_free(struct objective *obj)
{
	struct softmax *sm = (struct softmax *)obj;
	size_t i;

	for (i = 0; !sm->borrowed && i < sm->pb.n_workers; i++) {
		free(sm->scr[i].block);
		free(sm->scr[i].block2);
		free(sm->scr[i].z);
		free(sm->scr[i].u);
		free(sm->scr[i].hk);
	}
	if (!sm->borrowed)
		free(sm->scr);
	free(sm->w_last);
	free(sm->own_rows);
	free(sm->own_cls);
	free(sm);
}

static const struct objective_ops softmax_ops = {
	softmax_fun, softmax_hess_vec, softmax_project, softmax_sample,
	softmax_free
};

/* A softmax objective on pb, with the buffers of `borrow` if set. */
static struct softmax *make(const struct problem *pb, struct scratch *borrow)
{
	struct softmax *sm = xcalloc(1, sizeof(*sm));
	size_t i, p = pb->p, K = pb->K;

	sm->pb = *pb;
	sm->obj.ops = &softmax_ops;
	sm->obj.dim = K * p;
	sm->obj.n_rows = pb->n;
	sm->obj.weight = objective_weight(pb);
	/* Every row has probability 1/K at w = 0. */
	sm->obj.zero_loss = sm->obj.weight * log((double)K);
	sm->w_last = xcalloc(K * p, sizeof(double));
	sm->scr = borrow;
	sm->borrowed = borrow != NULL;
	if (borrow)
		return sm;
	sm->scr = xcalloc(pb->n_workers, sizeof(*sm->scr));
	for (i = 0; i < pb->n_workers; i++) {
		sm->scr[i].block = xmallocarray(DESIGN_BLOCK_ROWS * p,
						sizeof(double));
		sm->scr[i].block2 = xmallocarray(DESIGN_BLOCK_ROWS * p,
						 sizeof(double));
		sm->scr[i].z = xmallocarray(DESIGN_BLOCK_ROWS * K,
					    sizeof(double));
		sm->scr[i].u = xmallocarray(DESIGN_BLOCK_ROWS * K,
					    sizeof(double));
	}
	return sm;
}

struct objective *softmax_new(const struct problem *pb)
{
	return &make(pb, NULL)->obj;
}
