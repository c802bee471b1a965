#ifndef MLOPS_DRIFT_H
#define MLOPS_DRIFT_H

/*
 * Drift statistics between a reference profile (the artefact's baseline,
 * or a profile of a reference file) and a stream of current values.
 *
 * The current values are never stored: a numeric stream is counted on
 * the reference's quantile grid (how many values fall at or below each
 * reference quantile), a categorical stream per reference level plus one
 * bucket for levels the reference never saw.  From those counts:
 *
 *   psi          population stability index on reference deciles
 *                (floor 1e-4 per bin); drift when >= 0.25 (0.1 warns)
 *   ks           two-sample Kolmogorov-Smirnov D and asymptotic p-value;
 *                drift when p < 0.05
 *   wasserstein  first Wasserstein distance over the reference std;
 *                drift when >= 0.1
 *   chi2         chi-square goodness of fit of current counts to the
 *                reference mix; drift when p < 0.05
 *   js           Jensen-Shannon distance (base 2); drift when >= 0.1
 *
 * `auto` picks as Evidently does: up to 1000 reference values, ks for
 * numbers and chi2 for categories; above, wasserstein and js.
 */

#include <stddef.h>
#include <stdint.h>
#include "profile.h"

enum drift_method {
	DRIFT_AUTO, DRIFT_PSI, DRIFT_KS, DRIFT_WASSERSTEIN, DRIFT_CHI2,
	DRIFT_JS
};

struct drift_acc {
	const struct profile *ref;
	uint64_t count, missing;
	double sum, sumsq, min, max;
	/* numeric: counts by reference grid position (see drift.c) */
	uint64_t *le, *lt;
	double below, above;	/* sum of distances outside [q0, qQ] */
	uint32_t *lut;		/* numeric: grid positions per bucket of
				 * [q0, qQ] (see drift.c) */
	double lut_lo, lut_scale;
	int lut_borrowed;	/* lut is another accumulator's */
	/* categorical: per reference level, then [n_levels] = unseen */
	uint64_t *levels;
};

struct drift_result {
	enum drift_method method;
	double statistic;
	double p_value;		/* NAN when the method has none */
	double threshold;
	int drifted;
	double psi;		/* always computed, for the report */
	uint64_t count, missing;
};

/* Start accumulating against `ref` (borrowed; must outlive acc). */
void drift_acc_init(struct drift_acc *a, const struct profile *ref);
/*
 * Start an accumulator against proto's reference, sharing its lookup
 * table (per-thread accumulators of one column: one table in the cache,
 * not one per thread).  proto must outlive a.
 */
void drift_acc_init_like(struct drift_acc *a, const struct drift_acc *proto);
void drift_acc_release(struct drift_acc *a);

/* Add one numeric value (NAN = missing). */
void drift_acc_numeric(struct drift_acc *a, double x);

/* Add n values x[0], x[stride], ... (NAN = missing). */
void drift_acc_numeric_many(struct drift_acc *a, const double *x, size_t n,
			    size_t stride);

/* Add one category: its reference level index, -1 missing, -2 unseen. */
void drift_acc_level(struct drift_acc *a, long level);

/* Forget the values added so far (keeps the reference). */
void drift_acc_clear(struct drift_acc *a);

/* Merge b into a (same reference). */
void drift_acc_merge(struct drift_acc *a, const struct drift_acc *b);

/*
 * Run a test.  `threshold` NAN means the method's default.  A column with
 * no current values yields statistic NAN and no drift.
 */
void drift_test(const struct drift_acc *a, enum drift_method method,
		double threshold, struct drift_result *out);

struct model;
struct score_block;

/*
 * Accumulators for every feature of a model and for its predictions,
 * fed block by block from a score stream.  Categories the model never
 * saw count in the reference's "unseen" bucket.
 */
struct drift_set {
	const struct model *m;
	struct drift_acc *features;	/* one per model feature */
	struct drift_acc pred;
};

/*
 * Reference profiles: `features` (one per model feature) and `pred`, or
 * NULL for the model's own baseline.  Borrowed; must outlive the set.
 */
void drift_set_init(struct drift_set *s, const struct model *m,
		    const struct profile *features, const struct profile *pred);
/* A set against proto's references, sharing its lookup tables. */
void drift_set_init_like(struct drift_set *s, const struct drift_set *proto);
void drift_set_add(struct drift_set *s, const struct score_block *b);
void drift_set_merge(struct drift_set *a, const struct drift_set *b);
void drift_set_clear(struct drift_set *s);
void drift_set_release(struct drift_set *s);

const char *drift_method_name(enum drift_method m);
/* Parse a method name; -1 if unknown. */
int drift_method_parse(const char *s);

/* Survival functions used by the tests, exposed for unit tests. */
double drift_ks_pvalue(double d, double n, double m);
double drift_chi2_sf(double x, double df);

#endif
