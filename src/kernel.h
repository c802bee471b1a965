#ifndef MLOPS_KERNEL_H
#define MLOPS_KERNEL_H

/*
 * Training's per-value loops (see kernel.c).  Every function gives the
 * bits of its plain scalar definition.
 */

#include <stddef.h>

#include "model.h"

/*
 * o[i * stride] = score_encode_numeric(f, x[i]) for i < n: impute a
 * missing value, then standardise.
 */
void kernel_encode(const struct feature *f, const double *x, size_t n,
		   double *o, size_t stride);

/*
 * z[i] = w[q] + sum_k w[k] x[k][i] for i < nb: a block of nb rows seen
 * input by input (x[k] holds input k's nb values), w[q] the intercept.
 */
void kernel_times(const double *const *x, size_t q, size_t nb,
		  const double *w, double *z);

/* g[k] += sum_i x[k][i] r[i] for k < q, and g[q] += sum_i r[i]. */
void kernel_dot(const double *const *x, size_t q, size_t nb,
		const double *r, double *g);

#endif
