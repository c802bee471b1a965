#ifndef MLOPS_MONITOR_H
#define MLOPS_MONITOR_H

/*
 * Monitoring jobs: a drift check of a file against a model's baseline or
 * a reference file, and of a recorded score-batch profile against the
 * baseline, each whole -- streaming, reference profiling, the tests, the
 * data-quality signals and the dataset verdict -- so that `mlops drift`
 * parses options, makes one call and prints.
 */

#include <stdint.h>
#include "csv.h"
#include "drift.h"
#include "error.h"
#include "model.h"

struct monitor_opts {
	const char *input;	/* the current file, "-" for stdin */
	const char *reference;	/* a reference file, NULL: the baseline */
	enum drift_method method;
	double threshold;	/* NAN: each method's default */
	double share;		/* --drift-share */
	int progress;		/* progress on stderr while reading */
	/* Extra missing-value tokens for both files (besides the model's). */
	const char *const *na_values;
	size_t n_na_values;
	struct csv_opts csv;	/* how to read the input; zero: defaults */
	struct csv_opts ref_csv;	/* ... and the reference file */
};

struct monitor_result {
	uint64_t rows;		/* current rows read */
	uint64_t ref_rows;	/* reference rows (training rows: baseline) */
	char input_sha256[65];
	size_t n_features;
	struct drift_result *features;	/* n_features, owned */
	struct drift_result pred;
	size_t n_drift;		/* features that drifted */
	size_t n_quality;	/* features with a data-quality signal */
	int verdict;		/* drift_verdict() */
};

/*
 * Compare o->input with o->reference (or m's baseline) and fill *r
 * (release with monitor_result_release(), also after a failure).
 * MLOPS_EIO / MLOPS_EINPUT from reading; MLOPS_EINPUT when the input
 * cannot be judged: no rows, a reference with fewer than two, a column
 * with no value on either side.  Drift found is not an error: see
 * r->verdict.
 */
int monitor_drift_file(const struct model *m, const struct monitor_opts *o,
		       struct monitor_result *r, struct mlops_err *err);

/*
 * Test a score-batch run's recorded profile (the JSON text score-batch
 * stores, see runrec.h) against m's baseline.  `name` names
 * the run in messages.  MLOPS_ECORRUPT when the profile is unreadable.
 */
int monitor_drift_profile(const struct model *m, const char *profile_json,
			  const char *name, const struct monitor_opts *o,
			  struct monitor_result *r, struct mlops_err *err);

void monitor_result_release(struct monitor_result *r);

#endif
