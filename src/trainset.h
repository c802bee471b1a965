#ifndef MLOPS_TRAINSET_H
#define MLOPS_TRAINSET_H

/*
 * The training set: holdout split, class mapping, class weights (see
 * trainset.c).
 */

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "error.h"
#include "model.h"

/*
 * Rows [0, n) of rows (ascending dataset rows, below n_rows) become a
 * random holdout of n_hold rows, then the training rows, each part in
 * ascending order; the holdout is the first n_hold rows after a
 * shuffle seeded by `seed`.
 */
void trainset_split(size_t *rows, size_t n, size_t n_hold, size_t n_rows,
		    unsigned long seed);

/*
 * The classes of target t over rows[0..n): m->classes (owned by m) and
 * m->n_classes, sorted as numpy's unique sorts them, and cls[i] the
 * class of rows[i].  MLOPS_EUSAGE for a numeric target with more than
 * 1000 distinct values, MLOPS_EINPUT for a single class.
 */
int trainset_classes(struct model *m, const struct ds_column *t,
		     const size_t *rows, size_t n, uint32_t *cls,
		     struct mlops_err *err);

/* Whether numeric column t takes at most two distinct values on rows. */
int trainset_two_valued(const struct ds_column *t, const size_t *rows,
			size_t n);

/*
 * Balanced class weights, sw[k] = n / (K * n_k) (0 for a class absent
 * from cls[0..n)), for K = n_classes.
 */
void trainset_class_weights(const uint32_t *cls, size_t n, size_t n_classes,
			    double *sw);

#endif
