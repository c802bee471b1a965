#ifndef MLOPS_RUNREC_H
#define MLOPS_RUNREC_H

/*
 * Recording a run (train, validate, score-batch, drift) in the registry:
 * the clock started when the command began, the git state of the working
 * folder, and one transaction that adds the run row.
 */

#include "error.h"
#include "gitrepo.h"
#include "registry.h"

struct repo;

struct runrec {
	double start;			/* monotonic seconds */
	char started_at[64];		/* ISO 8601 UTC with milliseconds */
	struct git_state git;
};

/* Start the clock and read the git state of the working folder. */
void runrec_start(struct runrec *rl);

/* Seconds since runrec_start(). */
double runrec_elapsed(const struct runrec *rl);

/* Current UTC time as "2026-11-22T07:40:36.123Z". */
void runrec_now(char buf[64]);

/*
 * Fill the timing and git fields of `run` and insert it in its own
 * transaction.  A run that names no model but an artefact hash that is
 * registered is recorded as that model version (the first, should
 * several models hold the same bytes).  Without a repository this does
 * nothing (*id = 0).
 */
int runrec_record(struct repo *repo, const struct runrec *rl,
		  struct reg_run *run, long long *id, struct mlops_err *err);

/*
 * The hex SHA-256 of the regular file at `path`, read whole.  MLOPS_EIO
 * when it does not exist or cannot be read; MLOPS_EUSAGE for "-" or
 * anything that is not a regular file (a pipe cannot be read twice):
 * callers recording a run then record no hash.
 */
int runrec_hash_file(const char *path, char hex[65], struct mlops_err *err);

#endif
