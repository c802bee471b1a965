#ifndef MLOPS_RUNREC_H
#define MLOPS_RUNREC_H

/*
 * The run record: what train, validate, score-batch and drift write to
 * the registry's runs table about themselves -- the clock started when
 * the command began, the git state of the working folder, the inputs
 * (typed here, JSON in the row), and for score-batch the run profile,
 * whose JSON writer and reader both live in runrec.c.
 */

#include "error.h"
#include "gitrepo.h"
#include "registry.h"

struct repo;
struct model;
struct drift_set;

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
 * One file a run read.  Strings borrowed.  Fields absent from the
 * recorded JSON are NULL (strings) or negative (counts).
 */
struct runrec_input {
	const char *role;	/* "data", "input", "reference", "config" */
	const char *path;
	const char *sha256;	/* NULL: not known (a pipe) */
	long long rows;		/* < 0: not counted */
	long long rejected;	/* < 0: none recorded (score-batch only) */
	const char *output;	/* NULL: none (score-batch: where the scores went) */
};

/*
 * The runs.inputs JSON of n inputs, as an array of objects with the keys
 * role, path, sha256, rows, rejected, output in that order, each left
 * out when absent (see struct runrec_input).  The caller frees it.
 */
char *runrec_inputs_json(const struct runrec_input *in, size_t n);

/*
 * The run profile of a score-batch run: the accumulators of `set` (its
 * model's features, by name, and the predictions), enough to rebuild
 * them with runrec_profile_read() for `drift --runs`.  Counts a set's
 * held-back values first (drift_acc_flush()).  The caller frees it.
 */
char *runrec_profile_json(const struct drift_set *set);

/*
 * Rebuild from `json` (runrec_profile_json()'s text) accumulators
 * against m's baseline in *set, which this initialises whatever the
 * outcome: release it with drift_set_release().  The profile's mean is
 * stored, not the sum: the sum read back is mean x count, which drift
 * statistics never use.  MLOPS_ECORRUPT "NAME: its recorded profile is
 * unreadable" when the text is not such a profile for m (not JSON, a
 * feature or the prediction missing, count arrays of another length,
 * counts that are negative or too large).
 */
int runrec_profile_read(const struct model *m, const char *json,
			const char *name, struct drift_set *set,
			struct mlops_err *err);

/*
 * Fill the timing and git fields of `run` from `rl`: started_at, the
 * duration up to now, the commit and whether the tree was dirty.  Call
 * it before registry_begin(), so that the recorded duration is the
 * run's own and leaves out any wait for the registry's lock.
 */
void runrec_stamp(const struct runrec *rl, struct reg_run *run);

/*
 * Insert `run`, stamped by runrec_stamp() before the transaction began,
 * inside the transaction the caller holds (registry_begin()), with
 * whatever else the caller writes in it; *id receives its id.  Statuses
 * of registry_add_run().
 */
int runrec_add(struct registry *reg, struct reg_run *run, long long *id,
	       struct mlops_err *err);

/*
 * runrec_stamp(), then runrec_add() in a transaction of its own.  A run that names no model
 * but an artefact hash that is registered is recorded as that model
 * version (the first, should several models hold the same bytes).
 * Without a repository this does nothing (*id = 0).
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
