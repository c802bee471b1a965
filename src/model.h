#ifndef MLOPS_MODEL_H
#define MLOPS_MODEL_H

/*
 * The model and its artefact file.
 *
 * An artefact is one JSON document ("format": "mlops-model",
 * "format_version": 1) holding everything needed to score and to monitor:
 * the task, the algorithm, the target and class labels, each feature's
 * preprocessing (imputation, standardisation, category list), the
 * coefficients, holdout metrics, the baseline profile of every feature
 * and of the predictions, and lineage.  Numbers are written with enough
 * digits to read back to the same bits, so a loaded model predicts
 * bit-identically to the one saved.  The last member is a checksum of the
 * bytes before it, so an edited file is refused even outside a registry.
 *
 * Loading checks every field: a wrong type, a missing member, a
 * non-finite coefficient or a dimension mismatch is MLOPS_ECORRUPT with a
 * message naming the member, never a crash.
 */

#include <stddef.h>
#include "error.h"
#include "profile.h"

enum model_task { TASK_BINARY, TASK_MULTICLASS, TASK_REGRESSION };
enum model_algo { ALGO_LOGISTIC, ALGO_SOFTMAX, ALGO_LINEAR, ALGO_RIDGE };
enum feature_kind { FEATURE_NUMERIC, FEATURE_CATEGORICAL };

struct feature {
	char *name;
	enum feature_kind kind;
	/* numeric: x -> ((isnan(x) ? impute : x) - center) / scale */
	double impute, center, scale;
	int indicator;		/* numeric: one more input, 1 when missing */
	/* categorical: one indicator per level; missing -> impute level */
	char **levels;
	size_t n_levels;
	long impute_level;	/* index into levels, or -1: all zero */
	int strict;		/* categorical: a level never seen in training
				   is bad input instead of all zero */
	/* A part of a timestamp column: numeric, computed at scoring from
	 * the CSV column `source` (cell_timestamp_part()); NULL and -1 for
	 * a feature read from its own column. */
	char *source;
	int part;		/* enum cell_part */
	size_t offset;		/* first column in the design row */
	struct profile profile;	/* baseline on the training rows */
};

struct metric {
	char name[24];
	double value;		/* NAN when undefined on the data */
	char note[80];		/* then why, e.g. "class 'x' absent"; else "" */
};

#define MODEL_MAX_METRICS 16

struct model {
	enum model_task task;
	enum model_algo algo;
	char *target;
	char **classes;		/* n_classes labels; NULL for regression */
	size_t n_classes;
	struct feature *features;
	size_t n_features;
	/* Tokens read as missing besides the default set (train's
	 * --na-values), applied again wherever the model reads a CSV. */
	char **na_values;
	size_t n_na_values;
	size_t n_inputs;	/* width of the design row */
	size_t n_outputs;	/* rows of coef: 1, or n_classes for softmax */
	double *coef;		/* n_outputs x n_inputs, row-major */
	double *intercept;	/* n_outputs */

	/* training parameters and outcome */
	double l2;		/* penalty: C for logistic/softmax, alpha for ridge */
	double tol;
	long max_iter;
	long n_iter;
	int converged;
	double holdout;		/* fraction held out */
	unsigned long seed;

	struct metric metrics[MODEL_MAX_METRICS];	/* holdout metrics */
	size_t n_metrics;
	struct profile pred_profile;	/* baseline of the predictions */

	/* lineage */
	char data_sha256[65];
	char *data_path;
	unsigned long long n_rows;	/* training rows */
	char git_commit[41];		/* "" if unknown */
	int git_dirty;			/* -1 unknown */
	char *tool_version;
	char *created_at;		/* ISO 8601 UTC */
};

/* Allocate an empty model (all zero). */
struct model *model_new(void);
void model_free(struct model *m);

/*
 * Serialise to the artefact format.  *out receives a NUL-terminated
 * buffer the caller frees, *len its length.
 */
int model_to_bytes(const struct model *m, char **out, size_t *len,
		   struct mlops_err *err);

/*
 * Parse and check an artefact.  `name` is used in messages.  On success
 * *out owns the model.  MLOPS_ECORRUPT on any malformed, missing or
 * inconsistent member or a checksum mismatch.
 */
int model_from_bytes(const char *bytes, size_t len, const char *name,
		     struct model **out, struct mlops_err *err);

/*
 * Read a whole file into *bytes (NUL-terminated, caller frees).
 * MLOPS_ENOTFOUND or MLOPS_EIO naming the file.
 */
int model_read_file(const char *path, char **bytes, size_t *len,
		    struct mlops_err *err);

/* Read and parse an artefact file (MLOPS_EIO/ENOTFOUND if unreadable). */
int model_load_file(const char *path, struct model **out,
		    struct mlops_err *err);

/* Write the artefact atomically to `path` ("-" = stdout). */
int model_save_file(const struct model *m, const char *path,
		    struct mlops_err *err);

/* Value of a holdout metric, or NAN if absent. */
double model_metric(const struct model *m, const char *name);

const char *model_task_name(enum model_task t);
const char *model_algo_name(enum model_algo a);

#endif
