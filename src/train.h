#ifndef MLOPS_TRAIN_H
#define MLOPS_TRAIN_H

/*
 * Fitting a model on a loaded dataset: preprocessing (imputation,
 * standardisation, one-hot encoding) fitted on the training rows, the
 * solver, holdout metrics, baseline profiles.  The result is a complete
 * struct model ready to be saved; lineage fields the caller knows (git,
 * time, data path) are filled by the caller.
 */

#include "dataset.h"
#include "error.h"
#include "model.h"

enum train_algo {
	TRAIN_AUTO = -1,
	TRAIN_LOGISTIC = ALGO_LOGISTIC,
	TRAIN_SOFTMAX = ALGO_SOFTMAX,
	TRAIN_LINEAR = ALGO_LINEAR,
	TRAIN_RIDGE = ALGO_RIDGE
};

struct train_opts {
	const char *target;
	int algo;			/* enum train_algo */
	const char *const *features;	/* NULL: every column but the target */
	size_t n_features;
	const char *const *exclude;
	size_t n_exclude;
	double holdout;			/* fraction in [0, 0.9] */
	unsigned long seed;
	double C;			/* logistic/softmax: inverse L2 strength */
	double alpha;			/* ridge: L2 strength */
	double tol;
	long max_iter;			/* TRAIN_MAX_ITER_AUTO: train_max_iter() */
	int balanced;			/* class weights n / (K * n_k) */
	int impute_median;		/* numbers: median instead of mean */
	int add_indicator;		/* numbers with gaps: a 0/1 input */
	int strict;			/* unseen categories: error at scoring */
	/* Logistic and softmax on at least this many training rows start
	 * from the solution on a sample of them (the optimum reached is the
	 * same); 0 means the default, 131072.  Tests set it. */
	size_t warm_min_rows;
	/* The report keeps the predictions of every row (tests). */
	int keep_predictions;
};

/*
 * Defaults: auto, holdout 0.2, seed 1, C 1, alpha 1, tol 1e-8, and an
 * iteration budget that scales with the problem (TRAIN_MAX_ITER_AUTO).
 */
void train_opts_init(struct train_opts *o);

#define TRAIN_MAX_ITER_AUTO (-1)

/*
 * The default iteration budget of logistic and softmax regression with
 * `unknowns` coefficients (classes x (inputs + 1)): 100 Newton steps
 * while Newton's method is used (up to 400 unknowns; it converges in
 * tens), else L-BFGS, whose steps are cheaper and more numerous the
 * wider the problem: max(1000, unknowns).
 */
long train_max_iter(size_t unknowns);

struct train_report {
	size_t n_train, n_holdout;
	size_t n_dropped;		/* rows without a target value */
	size_t *confusion;		/* K x K on the holdout (row: true), or NULL */
	/* Text columns left out as identifiers (ds_column.id_like, not
	 * named in `features`): owned names. */
	char **id_columns;
	size_t n_id_columns;
	/* Features that alone predict the target exactly on the training
	 * rows (at least 30 of them): owned names. */
	char **leaks;
	size_t n_leaks;
	/* A holdout metric at its best possible value ("auc" 1, "accuracy"
	 * 1, "r2" 1), or NULL: a leak is likely. */
	const char *perfect;
	/*
	 * With keep_predictions: the predictions of the holdout rows, then
	 * of the training rows (the baseline profile's values), in all
	 * (n_holdout + n_train) x predict_width, and the dataset row of each.
	 */
	double *pred;
	size_t *pred_rows;
};

void train_report_release(struct train_report *r);

/*
 * Limits, checked before the solver allocates: model inputs (a Gram or
 * Hessian matrix is their square) and coefficients (inputs + 1 times the
 * classes of a softmax: the L-BFGS history holds 20 such vectors).
 */
#define TRAIN_MAX_INPUTS 4096
#define TRAIN_MAX_INPUTS_LSQ 2048	/* linear and ridge: a Cholesky of it */
#define TRAIN_MAX_COEFS (1 << 20)

/*
 * Fit.  On success *out owns the model.  MLOPS_EUSAGE for bad options
 * (unknown column, target among the features, algorithm unfit for the
 * target), MLOPS_EINPUT for data that cannot be fitted (one class only,
 * no rows, a timestamp target, numbers so large that their mean or
 * spread or a prediction overflows: the message names the column, more
 * than TRAIN_MAX_INPUTS model inputs (TRAIN_MAX_INPUTS_LSQ for linear
 * and ridge) or TRAIN_MAX_COEFS coefficients), MLOPS_ENUMERIC when the
 * solver fails outright.  A timestamp column becomes the numeric
 * features of dataset_timestamp_parts() (appended to ds).  Hitting
 * max_iter is not an error: the model records converged = 0.
 */
int train_fit(struct dataset *ds, const struct train_opts *o,
	      struct model **out, struct train_report *rep,
	      struct mlops_err *err);

/*
 * train_fit() on a dataset the caller gives up: *ds is freed and set to
 * NULL, success or not.  Training may then reorder its feature columns
 * (the rows it fits on first) and store numbers standardised, which
 * makes every pass over the rows cheaper; the model is the same, bit
 * for bit.
 */
int train_fit_take(struct dataset **ds, const struct train_opts *o,
		   struct model **out, struct train_report *rep,
		   struct mlops_err *err);

#endif
