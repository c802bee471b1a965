#ifndef MLOPS_PREDICT_H
#define MLOPS_PREDICT_H

/*
 * The one prediction path: the arithmetic that turns a model's inputs
 * into its outputs, summation order included.  Training's holdout
 * metrics and baseline prediction profile, score-batch, validate and
 * drift all predict through predict_columns(), so the same row gives the
 * same bits wherever it is scored, and the baseline stored in an
 * artefact is what scoring its training file computes.
 *
 * Rows come as columns, one per feature: a numeric feature's raw value
 * (NAN when missing) and a categorical feature's level index.  The
 * design row a model is defined on (per numeric feature
 * ((isnan(x) ? impute : x) - center) / scale and, with an indicator,
 * 1 when missing; per categorical feature one indicator per training
 * level) is never written out.
 */

#include <stddef.h>
#include <stdint.h>
#include "model.h"

/* Encode one numeric value for feature f: its design input. */
static inline double predict_encode_numeric(const struct feature *f, double x)
{
	return ((x != x ? f->impute : x) - f->center) / f->scale;
}

/* A level that is not one of the feature's levels. */
#define PREDICT_LEVEL_MISSING (-1)	/* missing: the imputed level */
#define PREDICT_LEVEL_UNSEEN (-2)	/* never seen in training: all zero */

/*
 * n rows by feature: feature j's value of row i is raw[j * ld + i]
 * (numeric features) or level[j * ld + i] (categorical features: the
 * level index, or PREDICT_LEVEL_MISSING / PREDICT_LEVEL_UNSEEN).  The
 * other array's entry for the feature is not read.  `encoded`, if not
 * NULL, says per feature that raw already holds
 * predict_encode_numeric()'s value (a numeric feature without an
 * indicator only), as training keeps its columns.
 */
struct predict_cols {
	size_t n, ld;
	const double *raw;
	const int32_t *level;
	const unsigned char *encoded;
};

/* Values per row of predict_columns()'s output: K for multiclass, else 1. */
size_t predict_width(const struct model *m);

/* Index of the predicted class for one row of predict_width() values. */
size_t predict_argmax(const struct model *m, const double *row);

/* Doubles of scratch predict_columns() needs for n rows. */
size_t predict_scratch_len(const struct model *m, size_t n);

/*
 * Predict in->n rows into `out` (n * predict_width(m) values): for
 * binary the probability of classes[1], for multiclass the probability
 * of each class, for regression the value.  `scratch` holds
 * predict_scratch_len(m, n) doubles.  Cannot fail.
 *
 * The arithmetic, which is the contract every caller relies on: output
 * o's linear part is the sum over the design inputs j of x_j w_oj, each
 * term added to partial sum j % 4 in input order (the last p % 4 inputs
 * of p to sum 0), the partial sums then added as (s0 + s1) + (s2 + s3);
 * the terms of the design's zeros are left out (adding them would change
 * no bit).  Then the intercept, and the link: the identity, the
 * logistic 1 / (1 + exp(-z)), or the softmax with its largest z
 * subtracted first.
 */
void predict_columns(const struct model *m, const struct predict_cols *in,
		     double *scratch, double *out);

#endif
