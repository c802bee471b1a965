#ifndef MLOPS_MONITOR_H
#define MLOPS_MONITOR_H

/*
 * Monitoring jobs: a drift check of a file against a model's baseline or
 * a reference file, and of the recorded score-batch profiles of a model
 * version over time, each whole -- streaming, reference profiling, the
 * tests, the data-quality signals, the one dataset verdict and the run
 * record -- so that `mlops drift` parses options, makes one call and
 * prints from the typed reports.
 */

#include <stdint.h>
#include "csv.h"
#include "drift.h"
#include "error.h"
#include "model.h"
#include "modelref.h"

struct cJSON;
struct registry;
struct repo;
struct runrec;

struct monitor_opts {
	const char *model;	/* MODEL (monitor_drift()): a reference */
	long runs;		/* monitor_drift(): > 0, the last N runs */
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
	/*
	 * The run record (monitor_drift_file() only): with a repository,
	 * a "drift" run is recorded whose metrics are the JSON report
	 * (monitor_report_json()).  `model_name` and `version` name a
	 * registry model, else `model_file` is the artefact's path;
	 * `artifact_sha256` is its hash; `exit_zero` makes the recorded
	 * exit status 0 on drift.  `rec` is the run's clock.
	 * monitor_drift() fills model_name, version, model_file,
	 * artifact_sha256 and rec itself; the caller sets repo and
	 * exit_zero.
	 */
	struct repo *repo;
	const struct runrec *rec;
	const char *model_name;
	int version;
	const char *model_file;
	const char *artifact_sha256;
	int exit_zero;
};

/*
 * One drift check: a result per feature and for the predictions, and
 * the dataset verdict over them (monitor_verdict()).
 */
struct drift_report {
	uint64_t rows;		/* current rows read */
	uint64_t ref_rows;	/* reference rows (training rows: baseline) */
	char input_sha256[65];	/* "" for a recorded run */
	size_t n_features;
	struct drift_result *features;	/* n_features, owned */
	struct drift_result pred;
	size_t n_drift;		/* counted features that drifted */
	size_t n_quality;	/* counted features with a quality signal */
	int verdict;		/* the dataset drifted */
};

/*
 * The dataset-drift rule, the one place it is written: fill r->n_drift,
 * r->n_quality and r->verdict from r->features[0..n_features) and
 * r->pred.  The verdict is DRIFT when the drifted features reach
 * `share` of the features counted (0 < share), when the predictions
 * drifted with p below their threshold over n_features + 1 (Bonferroni;
 * a distance method: its threshold), or when a data-quality signal
 * fired.  Features marked time_axis count nowhere.
 */
void monitor_verdict(struct drift_report *r, double share);

/*
 * Compare o->input with o->reference (or m's baseline), fill *r
 * (release with drift_report_release(), also after a failure) and, with
 * o->repo, record the run.  MLOPS_EIO / MLOPS_EINPUT from reading;
 * MLOPS_EINPUT when the input cannot be judged: no rows, a reference
 * with fewer than two, a column with no value on either side; the
 * registry's statuses from recording.  Drift found is not an error: see
 * r->verdict.
 */
int monitor_drift_file(const struct model *m, const struct monitor_opts *o,
		       struct drift_report *r, struct mlops_err *err);

/*
 * Test a score-batch run's recorded profile (the JSON text score-batch
 * stores, see runrec.h) against m's baseline.  `name` names
 * the run in messages.  MLOPS_ECORRUPT when the profile is unreadable.
 */
int monitor_drift_profile(const struct model *m, const char *profile_json,
			  const char *name, const struct monitor_opts *o,
			  struct drift_report *r, struct mlops_err *err);

void drift_report_release(struct drift_report *r);

/*
 * The JSON report of a file check, as `drift --json` prints it and the
 * run record stores it: o names the model, input and reference.  The
 * caller owns the tree.
 */
struct cJSON *monitor_report_json(const struct model *m,
				  const struct monitor_opts *o,
				  const struct drift_report *r);

/*
 * Add a report's results to the JSON object o, as every drift report
 * carries them: "features", "prediction", "drifted_features" and
 * "quality_signals".
 */
void monitor_results_json(struct cJSON *o, const struct model *m,
			  const struct drift_report *r);

/* One recorded scoring run, tested (see monitor_drift_runs()). */
struct drift_run_report {
	long long run;		/* the run's id */
	char *started_at;	/* owned */
	struct drift_report report;
};

/*
 * Runs over time: the last `n_runs` recorded score-batch runs of
 * name:version that carry a profile, oldest first, each tested against
 * m's baseline with o's method, threshold and share (the files are not
 * read again).  *out (n of them, at least one) is released with
 * monitor_runs_free().  MLOPS_ENOTFOUND when there is none; the
 * registry's statuses; MLOPS_ECORRUPT for an unreadable profile.
 */
int monitor_drift_runs(struct registry *reg, const struct model *m,
		       const char *name, int version, long n_runs,
		       const struct monitor_opts *o,
		       struct drift_run_report **out, size_t *n,
		       struct mlops_err *err);

void monitor_runs_free(struct drift_run_report *runs, size_t n);

/* What monitor_drift() found.  Owned; monitor_result_release(). */
struct monitor_result {
	struct model *model;		/* what o->model named; NULL before */
	struct modelref_info info;	/* ... and what it turned out to be */
	/* A file check: the options it ran with (naming the model, for
	 * monitor_report_json()) and its report. */
	struct monitor_opts opts;
	struct drift_report report;
	/* o->runs: the runs tested, oldest first (see monitor_drift_runs()). */
	struct drift_run_report *runs;
	size_t n_runs;
};

/*
 * The drift job whole: start the run's clock, load the model o->model
 * names (modelref_load(), through o->repo), then either test its last
 * o->runs recorded scoring runs (monitor_drift_runs(); MLOPS_EUSAGE
 * when MODEL is a file) or check o->input (monitor_drift_file(), which
 * records the run with o->repo).  Fills *res, released with
 * monitor_result_release() also after a failure.  The option checks
 * are the caller's, made before: no model is loaded for a usage error.
 */
int monitor_drift(const struct monitor_opts *o, struct monitor_result *res,
		  struct mlops_err *err);

void monitor_result_release(struct monitor_result *res);

#endif
