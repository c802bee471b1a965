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
void drift_acc_release(struct drift_acc *a);

/* Add one numeric value (NAN = missing). */
void drift_acc_numeric(struct drift_acc *a, double x);

/* Add one category: its reference level index, -1 missing, -2 unseen. */
void drift_acc_level(struct drift_acc *a, long level);

/* Merge b into a (same reference). */
void drift_acc_merge(struct drift_acc *a, const struct drift_acc *b);

/*
 * Run a test.  `threshold` NAN means the method's default.  A column with
 * no current values yields statistic NAN and no drift.
 */
void drift_test(const struct drift_acc *a, enum drift_method method,
		double threshold, struct drift_result *out);

const char *drift_method_name(enum drift_method m);
/* Parse a method name; -1 if unknown. */
int drift_method_parse(const char *s);

/* Survival functions used by the tests, exposed for unit tests. */
double drift_ks_pvalue(double d, double n, double m);
double drift_chi2_sf(double x, double df);

#endif
