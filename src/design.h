#ifndef MLOPS_DESIGN_H
#define MLOPS_DESIGN_H

/*
 * The design: dataset rows to model input rows (see design.c).  A
 * struct design lends the model and the dataset it was fitted with; it
 * owns its column list and level maps.
 */

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "model.h"

/* Rows of one block of a pass, and of one tile of design_fill(). */
#define DESIGN_BLOCK_ROWS 1024
#define DESIGN_TILE 32

struct design {
	const struct model *m;
	const struct dataset *ds;
	size_t *col;		/* per feature: dataset column */
	int32_t **code_map;	/* per categorical feature: ds code -> level */
	/* per feature: its column already holds the encoded values (see
	 * design_take_columns()) */
	unsigned char *encoded;
};

struct design_opts {
	int impute_median;	/* numbers: median instead of mean */
	int add_indicator;	/* numbers with gaps: a 0/1 input */
	int strict;		/* unseen categories: error at scoring */
};

/*
 * Fit the preprocessing of the features cols[0..n_cols) (dataset
 * columns; d takes the array) on the dataset rows rows[0..n): m gains
 * its features (names, imputation, scaling, levels, numeric baseline
 * profiles) and their input offsets and n_inputs.  d lends m and ds
 * from then on.  Cannot fail; non-finite figures are the caller's to
 * check.
 */
void design_fit(struct design *d, struct model *m, const struct dataset *ds,
		size_t *cols, size_t n_cols, const size_t *rows, size_t n,
		const struct design_opts *o);

/*
 * Take the dataset's feature columns over (ds is d's dataset): put
 * positions [0, n) of each in the order of rows (then rows[i] = i) and
 * store numeric features encoded, which makes later passes copy runs
 * instead of gathering and dividing.  Afterwards ds is good only for
 * dataset_free() and its other columns: the caller gives it up.
 */
void design_take_columns(struct dataset *ds, struct design *d,
			 size_t *rows, size_t n);

/*
 * Fill the design inputs of n rows: input k of row i goes to
 * out[i * rs + k * cs].  With `augment`, input n_inputs is the
 * intercept's 1.  With `view` (input by input, rs = 1, cs = n, only),
 * view[k] receives where input k's n values are: a column already
 * encoded is pointed at on consecutive rows instead of copied.
 */
void design_fill(const struct design *d, const size_t *rows, size_t n,
		 double *out, size_t rs, size_t cs, int augment,
		 const double **view);

/*
 * The raw numbers (raw) and training levels (level) of n rows, feature
 * j's at j * ld, as predict_columns() reads them.
 */
void design_columns(const struct design *d, const size_t *rows, size_t n,
		    double *raw, int32_t *level, size_t ld);

/* The categorical features' baseline profiles over rows. */
void design_profile_features(struct model *m, const struct design *d,
			     const size_t *rows, size_t n);

/* Free what d owns; d may be zeroed or half built. */
void design_release(struct design *d);

#endif
