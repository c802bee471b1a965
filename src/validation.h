#ifndef MLOPS_VALIDATION_H
#define MLOPS_VALIDATION_H

/*
 * A validation: a model's metrics on labelled data, optionally beside a
 * champion's on the same rows, judged by gates, stored as a run of kind
 * "validate" against the version.  `mlops validate` is option parsing,
 * validation_run() and printing the struct validation it fills.
 */

#include <stddef.h>
#include <stdint.h>

#include "csv.h"
#include "error.h"
#include "gate.h"
#include "model.h"
#include "modelref.h"

struct repo;
struct cJSON;

struct validation_opts {
	const char *model;	/* reference: file, name:version, name@stage */
	const char *data;	/* labelled CSV; "-" is stdin */
	const char *against;	/* the champion's reference, or NULL */
	/* Gate specs "METRIC=VALUE", as the options gave them. */
	const char *const *min, *const *max, *const *min_delta;
	size_t n_min, n_max, n_min_delta;
	double max_latency_us;	/* < 0: no latency gate */
	double max_size;	/* < 0: no size gate */
	/* Read as missing, besides the model's own tokens. */
	const char *const *na_values;
	size_t n_na_values;
	struct csv_opts csv;
};

/* One model scored on the data. */
struct validation_model {
	struct model *m;	/* NULL for an absent champion */
	struct modelref_info info;
	struct metric metrics[MODEL_MAX_METRICS];
	size_t n_metrics;
	size_t *confusion;	/* K x K counts (row: true), classification */
	double latency_us;	/* scoring time per data row */
	uint64_t rows;		/* rows with a label */
	char data_sha256[65];	/* of the data read (the challenger's) */
};

/* A row of the metrics table: the model's value beside the champion's. */
struct validation_metric {
	const char *name;	/* lent from the result */
	double value;		/* NAN when undefined */
	double champion;	/* NAN when undefined or without a champion */
	double improvement;	/* NAN when either is undefined */
	const char *note;	/* why undefined (the model's, else the
				 * champion's), "" when nothing is known */
};

struct validation {
	struct validation_model model, champion;
	struct validation_metric table[MODEL_MAX_METRICS];
	size_t n_table;		/* = model.n_metrics */
	struct gate_result *gates;
	size_t n_gates;
	int passed;		/* every gate passed (true without gates) */
	char failure[512];	/* the first failed gate's message, or "" */
	/*
	 * The report: what is stored as the run's metrics_json (release.c
	 * reads "gates" and "against_sha256" back), with "run" added when
	 * the run was recorded; --json prints it.
	 */
	struct cJSON *report;
	long long run_id;	/* 0 when not recorded (no repository) */
};

/*
 * Load the model (and champion) `o` names, parse its gates, score the
 * data with each through the one prediction path, evaluate the gates
 * and, with `repo`, record the run in the registry.  A failed gate is
 * not an error: it returns 0 with out->passed 0 and out->failure set.
 * MLOPS_EUSAGE for bad gates or option combinations, MLOPS_EINPUT for
 * bad data (a label the model does not know), the statuses of
 * modelref_load(), score_stream_open() and runrec_record() otherwise.
 * Release *out with validation_release() whatever is returned.
 */
int validation_run(struct repo *repo, const struct validation_opts *o,
		   struct validation *out, struct mlops_err *err);

/* Free what *v holds (safe on a zeroed or partly filled result). */
void validation_release(struct validation *v);

/* Class index of a label: exact text first, then numeric value; or -1. */
long validation_label_class(const struct model *m, const char *label);

#endif
