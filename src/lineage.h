#ifndef MLOPS_LINEAGE_H
#define MLOPS_LINEAGE_H

/*
 * Lineage: what produced a file.  From the file's hash to the run that
 * wrote it, the model version (artefact) that run used, the training run
 * that made the artefact, and there the code commit and the data hash.
 */

#include "error.h"
#include "registry.h"

struct repo;

/* A traced chain; everything owned (lineage_release()). */
struct lineage {
	char sha256[65];	/* of the file */
	struct reg_run_row run;	/* the newest run that wrote it */
	char *role;		/* what the file was to that run */
	char artifact_sha256[65];	/* the run's artefact, "" if none */
	char *model;		/* the version holding it, NULL if none */
	int version;
	int have_training;	/* the artefact's training run is known */
	struct reg_run_row training;
};

/*
 * Trace the file at `path`: the newest run that wrote its bytes, or,
 * for an artefact no run wrote as a file (train --register without -o),
 * the train run that made it.  MLOPS_ENOTFOUND "no recorded run wrote
 * 'PATH' (sha256 ...)" when there is neither;
 * MLOPS_EUSAGE for "-" or anything but a regular file; MLOPS_EIO when it
 * cannot be read.  A chain that stops early (an artefact never
 * registered, a training run from before lineage was recorded) is not
 * an error: the missing links are empty.
 */
int lineage_trace(struct repo *repo, const char *path, struct lineage *out,
		  struct mlops_err *err);

void lineage_release(struct lineage *l);

#endif
