#ifndef MLOPS_REGISTRY_H
#define MLOPS_REGISTRY_H

/*
 * The model registry in SQLite: models, immutable versions pointing at
 * artefact hashes, stages with an append-only ledger of moves, and runs.
 *
 * WAL mode, a busy timeout, one BEGIN IMMEDIATE transaction per command
 * (registry_begin/commit), prepared statements only, the schema version
 * in PRAGMA user_version with forward migrations.  Only this file
 * includes <sqlite3.h>.  A lock held past the timeout is MLOPS_EBUSY.
 */

#include <stddef.h>
#include "error.h"

struct registry;
struct reg_run_row;

/* A version row; strings owned (reg_version_release()). */
struct reg_version {
	char *model;
	int version;
	char sha256[65];
	long long size;
	long long run_id;	/* 0 if none */
	char *description;	/* may be NULL */
	char *created_at;	/* ISO 8601 UTC */
	char *created_by;
};

void reg_version_release(struct reg_version *v);

/*
 * A file a run wrote, by role: "predictions" (score-batch -o), "rejects"
 * (--reject-file), "metrics" (--metrics-file), "artifact" (train -o).
 * Strings borrowed.  rows < 0 when not counted.
 */
struct reg_run_output {
	const char *role;
	const char *path;
	const char *sha256;
	long long rows;
};

/* A run to record; all strings borrowed. JSON fields may be NULL. */
struct reg_run {
	const char *kind;	/* train, validate, score-batch, drift */
	const char *model;	/* may be NULL (train without --register) */
	int version;		/* 0 if none */
	const char *started_at;	/* ISO 8601 UTC */
	double duration_s;
	int exit_status;	/* the process exit code the command returns */
	int passed;		/* validate: 1 pass, 0 fail; -1 n/a */
	const char *params_json;
	/* [{"path":..,"sha256":..,"rows":..}] */
	const char *inputs_json;
	const char *metrics_json;
	const char *profile_json;	/* score-batch/drift: input profile */
	const char *git_commit;		/* may be NULL */
	int git_dirty;
	/* Schema 3: lineage.  NULL / 0 when none. */
	const char *artifact_sha256;	/* the model artefact used or made */
	const struct reg_run_output *outputs;
	size_t n_outputs;
};

/*
 * Open the registry database at `path`.  `writable` 0 opens read-only.
 * MLOPS_EIO, MLOPS_ECORRUPT (not a registry / newer schema), MLOPS_EBUSY.
 */
int registry_open(const char *path, int writable, int busy_timeout_ms,
		  struct registry **out, struct mlops_err *err);
/*
 * Who writes: the user and host recorded on the rows written from now
 * on (a version's created_by "USER@HOST", a ledger row's actor and
 * host), copied (at most 127 and 255 bytes).  ident_actor() computes
 * them; until this is called they are "unknown" and "localhost".
 */
void registry_set_actor(struct registry *reg, const char *user,
			const char *host);

/* Create a new database at `path` with the current schema. */
int registry_create(const char *path, struct mlops_err *err);
void registry_close(struct registry *reg);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK.  begin: MLOPS_EBUSY on timeout. */
int registry_begin(struct registry *reg, struct mlops_err *err);
int registry_commit(struct registry *reg, struct mlops_err *err);
void registry_rollback(struct registry *reg);

/*
 * Resolve a model reference to a version: `version` > 0 selects it,
 * `stage` non-NULL selects the stage's holder, neither selects the newest
 * version.  MLOPS_ENOTFOUND "no model 'X'" / "model 'X' has no version
 * N" / "stage 'S' of model 'X' is not set".
 */
int registry_resolve(struct registry *reg, const char *model, int version,
		     const char *stage, struct reg_version *out,
		     struct mlops_err *err);

/*
 * Register an artefact (already stored) as the next version of `model`,
 * creating the model if needed; identical sha256 returns the existing
 * version with *existed = 1.  Runs inside the caller's transaction.
 */
int registry_register(struct registry *reg, const char *model,
		      const char *sha256, long long size, long long run_id,
		      const char *description, int *version, int *existed,
		      struct mlops_err *err);

/* Record a run (inside the caller's transaction); *id receives its id. */
int registry_add_run(struct registry *reg, const struct reg_run *run,
		     long long *id, struct mlops_err *err);

/* The schema version this build writes (PRAGMA user_version). */
#define REGISTRY_SCHEMA_VERSION 3

/*
 * The current time as ISO 8601 UTC with milliseconds,
 * "2024-05-01T12:34:56.789Z", into `buf` (at least 32 bytes).  Every
 * timestamp in the registry has this form, so they sort as strings.
 */
void registry_timestamp(char buf[32]);

/* Whether a version exists: 0 yes, MLOPS_ENOTFOUND with the message. */
int registry_version_exists(struct registry *reg, const char *model,
			    int version, struct mlops_err *err);

/*
 * Attach tag key=value to a version (inside the caller's transaction).
 * A key already set keeps its first value (versions never change).
 */
int registry_add_tag(struct registry *reg, const char *model, int version,
		     const char *key, const char *value,
		     struct mlops_err *err);

/*
 * The tags of a version as "KEY=VALUE" strings sorted by key; *out (and
 * each string) is owned by the caller (registry_free_strings()).
 */
int registry_version_tags(struct registry *reg, const char *model,
			  int version, char ***out, size_t *n,
			  struct mlops_err *err);

/* Free an array of n strings as handed out by this module. */
void registry_free_strings(char **v, size_t n);

/* A stage pointer; strings owned (reg_stage_release()). */
struct reg_stage {
	char *model;
	char *stage;
	int version;
	char *updated_at;
};

void reg_stage_release(struct reg_stage *s);

/* One ledger row; strings owned (reg_event_release()). */
struct reg_event {
	long long id;
	char *model;
	char *stage;
	int from_version;	/* 0 when the stage was unset */
	int to_version;
	char *action;		/* "promote" or "rollback" */
	int forced;
	char *actor;		/* user name */
	char *host;
	char *git_identity;	/* "Name <email>", may be NULL */
	char *at;		/* ISO 8601 UTC, milliseconds */
	char *reason;		/* may be NULL */
	long long validation_run_id;	/* 0 if none */
};

void reg_event_release(struct reg_event *e);

/* A stage move to record; strings borrowed, optional ones may be NULL. */
struct reg_move {
	const char *model;
	const char *stage;
	int to_version;
	const char *action;	/* "promote" or "rollback" */
	int forced;		/* policy overridden by --force */
	const char *reason;
	long long validation_run_id;	/* 0 if none */
	const char *git_identity;
};

/*
 * The version stage `stage` of `model` holds now, 0 when unset.
 * MLOPS_ENOTFOUND "no model 'X'" when the model does not exist.
 */
int registry_stage_get(struct registry *reg, const char *model,
		       const char *stage, int *version,
		       struct mlops_err *err);

/*
 * Point the stage at mv->to_version and append the event to the ledger
 * (inside the caller's transaction).  The actor and host are those of
 * registry_set_actor(), the git identity mv->git_identity; the time is
 * now.  *from_version (may be NULL) receives the previous holder (0 if
 * unset), *event_id (may be NULL) the ledger row.  Policy (validation, --expect) is the caller's business.
 * MLOPS_ENOTFOUND when the model or version does not exist.
 */
int registry_stage_move(struct registry *reg, const struct reg_move *mv,
			int *from_version, long long *event_id,
			struct mlops_err *err);

/*
 * Where `rollback` takes the stage: the ledger of model+stage is a stack
 * (a promote pushes its version, a rollback pops back to its version),
 * and the target is the holder below the top, or with `to_version` > 0
 * that version if it is still on the stack below the top.  Each ledger
 * row stores the row below it (schema 2), so this follows pointers and
 * costs the same at any ledger length.  MLOPS_ENOTFOUND "stage 'S' of
 * model 'X' has no earlier holder to roll back to", "... is not set", or
 * "version N is not an earlier holder of stage ...".
 */
int registry_rollback_target(struct registry *reg, const char *model,
			     const char *stage, int to_version, int *target,
			     struct mlops_err *err);

/*
 * The newest validation run (kind 'validate', passed or not) recorded
 * against model:version, into *out (release with reg_run_row_release());
 * *found = 0 and *out zeroed when there is none (not an error).
 */
int registry_latest_validation(struct registry *reg, const char *model,
			       int version, struct reg_run_row *out,
			       int *found, struct mlops_err *err);

/*
 * Lineage lookups; none of them is an error when nothing matches.
 *
 * registry_artifact_version: the version holding artefact `sha256`
 * (the first by model name, then version, should several models hold
 * the same bytes); *model = NULL (caller frees otherwise), *version = 0
 * when none.
 *
 * registry_output_run: the newest run that wrote a file hashing to
 * `sha256`; *run_id = 0 when none, *role (caller frees) its role.
 *
 * registry_artifact_train_run: the newest train run that made artefact
 * `sha256`; *run_id = 0 when none.
 */
int registry_artifact_version(struct registry *reg, const char *sha256,
			      char **model, int *version,
			      struct mlops_err *err);
int registry_output_run(struct registry *reg, const char *sha256,
			long long *run_id, char **role,
			struct mlops_err *err);
int registry_artifact_train_run(struct registry *reg, const char *sha256,
				long long *run_id, struct mlops_err *err);

/*
 * Name the version a recorded run produced (train --register, whose run
 * row is written before the version exists), inside the caller's
 * transaction.
 */
int registry_set_run_version(struct registry *reg, long long run_id,
			     const char *model, int version,
			     struct mlops_err *err);

/* All model names, sorted; caller frees with registry_free_strings(). */
int registry_list_models(struct registry *reg, char ***names, size_t *n,
			 struct mlops_err *err);

/*
 * Versions of `model` (NULL: of every model), by model then version.
 * *out is an array the caller releases with reg_version_release() on each
 * element and free().  MLOPS_ENOTFOUND for an unknown model.
 */
int registry_list_versions(struct registry *reg, const char *model,
			   struct reg_version **out, size_t *n,
			   struct mlops_err *err);

/* Stage pointers of `model` (NULL: all), by model then stage. */
int registry_list_stages(struct registry *reg, const char *model,
			 struct reg_stage **out, size_t *n,
			 struct mlops_err *err);

/*
 * The ledger of `model` (of one `stage` when non-NULL), oldest first;
 * with `limit` > 0 only the newest `limit` rows.  Caller releases each
 * row (reg_event_release()) and frees *out.  MLOPS_ENOTFOUND for an
 * unknown model, or a stage that never moved.
 */
int registry_history(struct registry *reg, const char *model,
		     const char *stage, long limit, struct reg_event **out,
		     size_t *n, struct mlops_err *err);

/*
 * Turn a time given as an ISO 8601 UTC prefix ("2026", "2026-11-22",
 * "2026-11-22T08:00", "2026-11-22T08:00:00.123Z"; 'T' or a space) into
 * the inclusive upper bound `bound` (at least 40 bytes) that covers the
 * whole period it names: "2026-11-22" means the end of that day.
 * MLOPS_EUSAGE for anything else.
 */
int registry_time_bound(const char *time, char bound[40],
			struct mlops_err *err);

/*
 * What each stage of `model` (only `stage` when non-NULL) held at the
 * time `bound` (from registry_time_bound()): for each stage set by then,
 * the ledger row that put its holder there, by stage name.  A stage not
 * yet set at that time is absent (*n may be 0).  Caller releases as for
 * registry_history().  MLOPS_ENOTFOUND for an unknown model.
 */
int registry_stages_at(struct registry *reg, const char *model,
		       const char *stage, const char *bound,
		       struct reg_event **out, size_t *n,
		       struct mlops_err *err);

/* A file a run wrote, as read back; strings owned. */
struct reg_run_file {
	char *role;
	char *path;
	char sha256[65];
	long long rows;		/* -1 when not counted */
};

/* A run as read back; strings owned (reg_run_row_release()). */
struct reg_run_row {
	long long id;
	char *kind;
	char *model;		/* NULL if none */
	int version;		/* 0 if none */
	char *started_at;
	double duration_s;
	int exit_status;
	int passed;		/* 1, 0, or -1 n/a */
	char *params_json;	/* each JSON text or NULL */
	char *inputs_json;
	char *metrics_json;
	char *profile_json;
	char *git_commit;	/* NULL if none */
	int git_dirty;
	char *artifact_sha256;	/* NULL if none recorded */
	struct reg_run_file *outputs;	/* the files it wrote */
	size_t n_outputs;
};

void reg_run_row_release(struct reg_run_row *r);

/* One run by id into *out; MLOPS_ENOTFOUND "no run N". */
int registry_get_run(struct registry *reg, long long id,
		     struct reg_run_row *out, struct mlops_err *err);

/*
 * Runs, newest first, filtered by `model` and `kind` when non-NULL, at
 * most `limit` of them (0: all).  Caller releases each and frees *out.
 */
int registry_list_runs(struct registry *reg, const char *model,
		       const char *kind, long limit,
		       struct reg_run_row **out, size_t *n,
		       struct mlops_err *err);

/*
 * PRAGMA integrity_check and foreign_key_check.  *problems receives one
 * line per problem found (none: *n = 0), owned by the caller
 * (registry_free_strings()).  A failure to run the check is an error.
 */
int registry_integrity_check(struct registry *reg, char ***problems,
			     size_t *n, struct mlops_err *err);

#endif
