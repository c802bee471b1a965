#ifndef MLOPS_MATRIX_H
#define MLOPS_MATRIX_H

/*
 * Dense row-major matrices and the few BLAS/LAPACK calls mlops needs.
 * Only matrix.c includes <cblas.h> or declares LAPACK; every call checks
 * shapes first and returns MLOPS_EINPUT on a mismatch, never reading out
 * of bounds.
 */

#include <stddef.h>
#include "error.h"

struct matrix {
	size_t rows, cols;
	double *data;
};

/* A zeroed rows x cols matrix; matrix_free() releases it. */
struct matrix *matrix_new(size_t rows, size_t cols);
void matrix_free(struct matrix *m);

/*
 * C (n x k) = A (n x p) * B^T (B is k x p), i.e. every row of A dotted
 * with every row of B.  Raw arrays, row-major, with shapes given.
 */
int matrix_gemm_abt(const double *a, size_t n, size_t p, const double *b,
		    size_t k, double *c, struct mlops_err *err);

/*
 * G (k x p) += alpha * R^T (R is n x k) * A (n x p): the gradient
 * accumulation X^T r for one block of rows.
 */
int matrix_gemm_atb(const double *r, size_t n, size_t k, const double *a,
		    size_t p, double alpha, double *g, struct mlops_err *err);

/*
 * H (p x p, upper triangle) += A^T A for A (n x p): the Hessian/Gram
 * accumulation.  Call matrix_symmetrize() before using the lower part.
 */
int matrix_syrk_add(const double *a, size_t n, size_t p, double *h,
		    struct mlops_err *err);
void matrix_symmetrize(double *h, size_t p);

/*
 * Solve H x = b for symmetric positive definite H (p x p, overwritten
 * with its Cholesky factor) and b (overwritten with x).
 * MLOPS_ENUMERIC if H is not positive definite.
 */
int matrix_cholesky_solve(double *h, size_t p, double *b,
			  struct mlops_err *err);

/*
 * Minimum-norm least-squares solution of H x = b for symmetric positive
 * semi-definite H (p x p, destroyed) via its eigendecomposition,
 * discarding eigenvalues below rcond * largest.  b is overwritten by x.
 * MLOPS_ENUMERIC if LAPACK fails.
 */
int matrix_sym_pinv_solve(double *h, size_t p, double *b, double rcond,
			  struct mlops_err *err);

double matrix_dot(const double *x, const double *y, size_t n);

/*
 * Make BLAS single-threaded: mlops parallelises over blocks of rows
 * itself, and BLAS threads on small blocks only spin.
 */
void matrix_single_threaded(void);

/*
 * Whether OpenBLAS fell back to its generic (Prescott) kernels on a CPU
 * that has AVX2 and FMA, which happens when OpenBLAS does not recognise
 * a new or virtualised CPU.  Kernels are chosen when the library loads,
 * so the only cure is to restart with OPENBLAS_CORETYPE set; *core
 * receives the name to set.  Costs 3x in training time on such CPUs.
 */
int matrix_blas_needs_core(const char **core);

#endif
