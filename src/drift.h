#ifndef MLOPS_DRIFT_H
#define MLOPS_DRIFT_H

/*
 * Drift statistics between a reference profile (the artefact's baseline,
 * or a profile of a reference file) and a stream of current values.
 *
 * The current values are never stored (but see drift_set_keep()): a
 * numeric stream is counted on the reference's grid -- its exact
 * distinct values when the profile has them, else its quantiles -- as
 * how many values fall at or below, and strictly below, each grid point;
 * a categorical stream per reference level plus one bucket for levels
 * the reference never saw.  From those counts:
 *
 *   psi          population stability index on reference deciles
 *                (floor 1e-4 per bin); drift when >= 0.25 (0.1 warns)
 *   ks           two-sample Kolmogorov-Smirnov D and p-value as
 *                scipy.stats.ks_2samp computes it; drift when p < 0.05
 *   wasserstein  first Wasserstein distance over the reference std
 *                (ddof 0, floored at 0.001, as Evidently); drift >= 0.1
 *   chi2         chi-square test of homogeneity of the two count
 *                vectors (scipy.stats.chi2_contingency, no continuity
 *                correction); drift when p < 0.05
 *   js           Jensen-Shannon distance (base 2); drift when >= 0.1
 *
 * On an exact grid KS is exact; on a quantile grid it carries an error
 * bound (drift_result.error) and its verdict is taken at D - error, so
 * the sketch alone never flips it.
 *
 * `auto` picks as Evidently does: up to 1000 reference values, ks for
 * numbers and chi2 for categories; above, wasserstein and js.
 *
 * Data quality, beside drift, per column: the share of missing values,
 * of categories the model never saw, and of numbers outside the
 * reference's [min, max], each against the reference's own share (for
 * the range: 2 / (n + 1), the chance that a new value from the same
 * distribution falls outside n values).  A signal fires when the
 * current share exceeds the reference's by more than DRIFT_QUALITY_MARGIN
 * and a one-sided two-proportion z-test gives p < 0.01.
 */

#include <stddef.h>
#include <stdint.h>
#include "profile.h"

#define DRIFT_QUALITY_MARGIN 0.05

enum drift_method {
	DRIFT_AUTO, DRIFT_PSI, DRIFT_KS, DRIFT_WASSERSTEIN, DRIFT_CHI2,
	DRIFT_JS
};

/* Data-quality signals (drift_result.quality bits). */
enum {
	DRIFT_Q_MISSING = 1, DRIFT_Q_UNSEEN = 2, DRIFT_Q_OUTSIDE = 4
};

struct drift_acc {
	const struct profile *ref;
	uint64_t count, missing;
	double sum, sumsq, min, max;
	/* numeric: the grid (ref's values, or its quantiles) */
	const double *grid;
	size_t n_grid;
	int exact;		/* the grid is the reference's exact values */
	/* counts by grid position, n_grid + 1 each (see drift.c) */
	uint64_t *le, *lt;
	double below, above;	/* sum of distances outside the grid */
	double *insum;		/* exact grid: per interval, the sum of
				 * distances from its lower end (see drift.c) */
	uint64_t *lut;		/* numeric: grid positions per bucket */
	size_t lut_n;
	double lut_lo, lut_scale;
	int lut_borrowed;	/* lut is another accumulator's */
	/* numeric, drift_set_keep(): the values themselves while they fit */
	double *kept;
	size_t n_kept, kept_alloc, keep_cap;
	int kept_over;		/* more than keep_cap: kept is dropped */
	/*
	 * A per-chunk accumulator against a large exact grid only collects
	 * its values (clearing and merging O(grid) counts per chunk would
	 * cost more than counting): drift_acc_merge() counts them into the
	 * total, in input order.
	 */
	int defer;
	double *pending;
	size_t n_pending, pending_cap;
	/* a total's values not counted yet (see drift_acc_flush) */
	struct drift_batch *batch;
	/* categorical: per reference level, then [n_levels] = unseen */
	uint64_t *levels;
};

struct drift_result {
	enum drift_method method;
	double statistic;
	double error;		/* bound on |statistic - exact|, 0 if exact */
	double p_value;		/* NAN when the method has none */
	double threshold;
	int drifted;
	double psi;		/* always computed, for the report */
	uint64_t count, missing;
	/* data quality: shares of the current data and of the reference */
	double missing_share, ref_missing_share;
	double unseen_share, ref_unseen_share;	/* categorical, else NAN */
	double outside_share, ref_outside_share;	/* numeric, else NAN */
	unsigned quality;	/* DRIFT_Q_* signals that fired */
	int time_axis;		/* set by the caller: a timestamp's place in
				 * time (COL.epoch_days), which moves by
				 * design: reported, not in the verdict
				 * (monitor_verdict()) */
};

/* Start accumulating against `ref` (borrowed; must outlive acc). */
void drift_acc_init(struct drift_acc *a, const struct profile *ref);
/*
 * Start an accumulator against proto's reference, sharing its lookup
 * table (per-thread accumulators of one column: one table in the cache,
 * not one per thread) and its keep_cap.  proto must outlive a.
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

/*
 * Count the values a total fed by drift_acc_merge() holds back against
 * a large exact grid.  drift_test() and drift_acc_merge() call it; call
 * it before reading an accumulator's counts directly.
 */
void drift_acc_flush(const struct drift_acc *a);

/* Forget the values added so far (keeps the reference). */
void drift_acc_clear(struct drift_acc *a);

/* Merge b into a (same reference), b's values after a's. */
void drift_acc_merge(struct drift_acc *a, const struct drift_acc *b);

/*
 * Run a test.  `threshold` NAN means the method's default.  A column
 * with no current or no reference values yields statistic NAN and no
 * drift: callers refuse such input before (exit 5).
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
/*
 * Keep up to `cap` values of every numeric column and of numeric
 * predictions (before adding any), so that a small current file is
 * compared value by value (exact Wasserstein).  Sets made with
 * drift_set_init_like() afterwards keep too.
 */
void drift_set_keep(struct drift_set *s, size_t cap);

const char *drift_method_name(enum drift_method m);
/* Parse a method name; -1 if unknown. */
int drift_method_parse(const char *s);

/*
 * Survival functions used by the tests, exposed for unit tests.
 * drift_ks_pvalue() is scipy.stats.ks_2samp's two-sided p-value of D for
 * samples of n and m values: exact (lattice paths) when both are at most
 * 10000, else Kolmogorov's limit with Stephens' correction (scipy uses
 * the one-sample distribution at round(nm/(n+m)) there; they agree to
 * about 1e-3 relative around p = 0.05).  Where the limit gives p below
 * 1e-10 it is returned as is (the exact walk's cost grows with D).
 */
double drift_ks_pvalue(double d, double n, double m);
double drift_chi2_sf(double x, double df);

#endif
