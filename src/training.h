#ifndef MLOPS_TRAINING_H
#define MLOPS_TRAINING_H

/*
 * The training job: one training run, whole, from a spec to a recorded
 * artefact -- the use case behind `mlops train`.  It checks the spec
 * (the flags, then the --config file), loads the CSV, fits, writes the
 * artefact atomically, and, with a repository, stores it and records
 * the run (and the registered version) in one transaction.  It never
 * prints: the warnings a user should see come back as text.
 */

#include <stddef.h>
#include "error.h"
#include "train.h"
#include "trainspec.h"

struct repo;
struct training_result;

struct training_opts {
	struct trainspec spec;	/* the flags; their lists are borrowed */
	const char *config;	/* --config: a spec file filling the rest */
	/* stdout carries the command's --json: "-o -" is a usage error. */
	int stdout_taken;
	/* Store the artefact and record the run here; NULL: no repository,
	 * when --register is MLOPS_ENOTFOUND. */
	struct repo *repo;
	/*
	 * Called once, if not NULL, when the fit's warnings are all in res
	 * and before the artefact is written: a command prints them here,
	 * so that they precede an artefact written to stdout as they
	 * always have.  Warnings of a run failing earlier are only in res.
	 */
	void (*warnings_done)(const struct training_result *res, void *arg);
	void *warnings_arg;
};

/* What a run did; everything owned (training_result_release()). */
struct training_result {
	struct model *model;		/* the fitted model, lineage filled */
	struct train_report report;	/* rows, confusion matrix, ... */
	/*
	 * What the user should be told on stderr, in order, as the text
	 * after "warning: " (rows ignored, identifiers left out, leaks,
	 * non-convergence).  Filled as the run goes, so kept on failure
	 * too: print them before the error.
	 */
	char **warnings;
	size_t n_warnings;
	char *output;			/* the artefact file, "-", or NULL */
	char sha256[65];		/* the artefact's hash */
	long long run_id;		/* the run recorded, or 0 */
	char *reg_name;			/* registered as this model, or NULL */
	int version;			/* ... this version, or 0 */
	int existed;			/* the bytes were that version already */
};

/*
 * Run the training o describes.  Settings are checked in a fixed order,
 * the first bad one being MLOPS_EUSAGE naming its flag (MLOPS_ENOTFOUND
 * for --register without a repository); then dataset_load()'s and
 * train_fit()'s statuses, MLOPS_EIO writing the artefact, and the
 * registry's (MLOPS_EBUSY, ...) recording the run: nothing is recorded
 * unless all of it is.  The output defaults to "model.json" unless
 * registering.  With "-o -" the artefact goes to stdout.  `res` is
 * filled as far as the run went, and must be released either way.
 */
int training_run(const struct training_opts *o, struct training_result *res,
		 struct mlops_err *err);

void training_result_release(struct training_result *res);

#endif
