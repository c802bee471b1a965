/*
 * The BLAS/LAPACK boundary: OpenBLAS's CBLAS for products, LAPACK's
 * dpotrf/dpotrs (Cholesky) and dsyevd (symmetric eigensolver) for solves.
 * LAPACK is called through its Fortran symbols, declared here, so no
 * LAPACKE package is needed.  Shapes are checked before every call.
 */

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "matrix.h"
#include "xalloc.h"

extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda,
		    int *info);
extern void dpotrs_(const char *uplo, const int *n, const int *nrhs,
		    const double *a, const int *lda, double *b, const int *ldb,
		    int *info);
extern void dsyevd_(const char *jobz, const char *uplo, const int *n,
		    double *a, const int *lda, double *w, double *work,
		    const int *lwork, int *iwork, const int *liwork, int *info);

#define DIM_MAX 2147483647UL

struct matrix *matrix_new(size_t rows, size_t cols)
{
	struct matrix *m = xmalloc(sizeof(*m));

	m->rows = rows;
	m->cols = cols;
	m->data = xcalloc(rows && cols ? rows * cols : 1, sizeof(double));
	if (cols && rows > (size_t)-1 / cols)
		BUG("matrix too large");
	return m;
}

void matrix_free(struct matrix *m)
{
	if (!m)
		return;
	free(m->data);
	free(m);
}

static int check_dims(size_t a, size_t b, size_t c, struct mlops_err *err)
{
	if (a > DIM_MAX || b > DIM_MAX || c > DIM_MAX)
		return err_set(err, MLOPS_EINPUT,
			       "matrix dimension too large for BLAS");
	return 0;
}

int matrix_gemm_abt(const double *a, size_t n, size_t p, const double *b,
		    size_t k, double *c, struct mlops_err *err)
{
	int ret;

	if ((ret = check_dims(n, p, k, err)))
		return ret;
	if (!n || !k)
		return 0;
	if (!p) {
		memset(c, 0, n * k * sizeof(*c));
		return 0;
	}
	if (k == 1)
		cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)p, 1.0,
			    a, (int)p, b, 1, 0.0, c, 1);
	else
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n,
			    (int)k, (int)p, 1.0, a, (int)p, b, (int)p, 0.0, c,
			    (int)k);
	return 0;
}

int matrix_gemm_atb(const double *r, size_t n, size_t k, const double *a,
		    size_t p, double alpha, double *g, struct mlops_err *err)
{
	int ret;

	if ((ret = check_dims(n, p, k, err)))
		return ret;
	if (!n || !k || !p)
		return 0;
	if (k == 1)
		cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)p, alpha,
			    a, (int)p, r, 1, 1.0, g, 1);
	else
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k,
			    (int)p, (int)n, alpha, r, (int)k, a, (int)p, 1.0,
			    g, (int)p);
	return 0;
}

int matrix_syrk_add(const double *a, size_t n, size_t p, double *h,
		    struct mlops_err *err)
{
	int ret;

	if ((ret = check_dims(n, p, 1, err)))
		return ret;
	if (!n || !p)
		return 0;
	/* Row-major A^T A: with CblasTrans, A is n x p and C is p x p. */
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)p, (int)n,
		    1.0, a, (int)p, 1.0, h, (int)p);
	return 0;
}

void matrix_symmetrize(double *h, size_t p)
{
	size_t i, j;

	for (i = 0; i < p; i++)
		for (j = 0; j < i; j++)
			h[i * p + j] = h[j * p + i];
}

int matrix_cholesky_solve(double *h, size_t p, double *b,
			  struct mlops_err *err)
{
	int n = (int)p, one = 1, info = 0, ret;

	if ((ret = check_dims(p, p, 1, err)))
		return ret;
	if (!p)
		return 0;
	/*
	 * Row-major symmetric = column-major symmetric, so "U" on our upper
	 * triangle is Fortran's "L" on theirs; the matrix is symmetrized
	 * anyway, so either works.
	 */
	dpotrf_("L", &n, h, &n, &info);
	if (info)
		return err_set(err, MLOPS_ENUMERIC,
			       "matrix is not positive definite (minor %d)",
			       info);
	dpotrs_("L", &n, &one, h, &n, b, &n, &info);
	if (info)
		return err_set(err, MLOPS_ENUMERIC,
			       "Cholesky solve failed (info %d)", info);
	return 0;
}

int matrix_sym_pinv_solve(double *h, size_t p, double *b, double rcond,
			  struct mlops_err *err)
{
	int n = (int)p, lwork = -1, liwork = -1, info = 0, iwq = 0, ret;
	double wq = 0, *w, *work, *tmp, wmax;
	int *iwork;
	size_t i, j;

	if ((ret = check_dims(p, p, 1, err)))
		return ret;
	if (!p)
		return 0;
	w = xmallocarray(p, sizeof(*w));
	dsyevd_("V", "L", &n, h, &n, w, &wq, &lwork, &iwq, &liwork, &info);
	lwork = (int)wq;
	liwork = iwq;
	work = xmallocarray((size_t)lwork, sizeof(*work));
	iwork = xmallocarray((size_t)liwork, sizeof(*iwork));
	dsyevd_("V", "L", &n, h, &n, w, work, &lwork, iwork, &liwork, &info);
	free(work);
	free(iwork);
	if (info) {
		free(w);
		return err_set(err, MLOPS_ENUMERIC,
			       "eigendecomposition failed (info %d)", info);
	}
	/*
	 * Column-major eigenvectors: vector j is h[j*p .. j*p+p).
	 * x = V diag(1/w) V^T b over the kept eigenvalues.
	 */
	wmax = 0;
	for (j = 0; j < p; j++)
		if (fabs(w[j]) > wmax)
			wmax = fabs(w[j]);
	tmp = xcalloc(p, sizeof(*tmp));
	for (j = 0; j < p; j++) {
		double c;

		if (w[j] <= rcond * wmax || w[j] <= 0)
			continue;
		c = cblas_ddot(n, h + j * p, 1, b, 1) / w[j];
		for (i = 0; i < p; i++)
			tmp[i] += c * h[j * p + i];
	}
	memcpy(b, tmp, p * sizeof(*b));
	free(tmp);
	free(w);
	return 0;
}

double matrix_dot(const double *x, const double *y, size_t n)
{
	if (!n)
		return 0;
	return cblas_ddot((int)n, x, 1, y, 1);
}

void matrix_single_threaded(void)
{
	openblas_set_num_threads(1);
}

int matrix_blas_needs_core(const char **core)
{
	const char *name = openblas_get_corename();

	if (!name || strcasecmp(name, "prescott"))
		return 0;
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
		return 0;
	*core = "Haswell";
	return 1;
}
