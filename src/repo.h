#ifndef MLOPS_REPO_H
#define MLOPS_REPO_H

/*
 * The repository: a `.mlops/` folder holding `registry.db` (SQLite),
 * `config` (git-config syntax) and `artifacts/sha256/ab/cdef...`
 * (content-addressed, immutable files).
 *
 * Discovery is like git's: MLOPS_DIR names the .mlops folder directly;
 * otherwise walk up from the working directory (main applies -C first),
 * stopping at a mount point or at a folder listed in
 * MLOPS_CEILING_DIRECTORIES (colon-separated).
 */

#include <stddef.h>
#include "error.h"

struct registry;

struct repo {
	char *dir;		/* absolute path of the .mlops folder */
	char *worktree;		/* absolute path of the folder holding it */
	struct registry *reg;	/* open registry */
	int writable;
	int busy_timeout_ms;	/* from config registry.busy-timeout, default 5000 */
	int git_tags;		/* config git.tags */
};

/*
 * Find and open the repository.  `writable` opens the registry for
 * writing.  MLOPS_ENOTFOUND "not an mlops repository (or any parent up
 * to DIR); run 'mlops init'" when there is none; MLOPS_EIO /
 * MLOPS_ECORRUPT / MLOPS_EBUSY from opening the registry.  On success
 * *out is owned by the caller (repo_free()).
 */
int repo_discover(int writable, struct repo **out, struct mlops_err *err);

/*
 * Create `.mlops/` in `dir` (registry with the current schema, config,
 * artifacts folder).  MLOPS_EIO on failure; re-running on an existing
 * repository is not an error (*existed = 1).
 */
int repo_init(const char *dir, int *existed, struct mlops_err *err);

void repo_free(struct repo *r);

/* The promotion policy of one stage, from [stage "NAME"] in the config. */
struct repo_stage_policy {
	/*
	 * require-validation: a move to the stage needs the version's latest
	 * validation on record to have passed.  Default: true for
	 * production only.
	 */
	int require_validation;
	/* require-gate: ... and to have applied a gate.  Default true. */
	int require_gate;
	/*
	 * require-against: ... and to have compared the version with the
	 * stage's current holder (validate --against).  Default false.
	 */
	int require_against;
};

/*
 * Read the policy of `stage` into *p, defaults filled in.
 * MLOPS_ECORRUPT for a config that cannot be read or a value that is not
 * a boolean.
 */
int repo_stage_policy(const struct repo *r, const char *stage,
		      struct repo_stage_policy *p, struct mlops_err *err);

/* Absolute path of the artefact file for a hex SHA-256; caller frees. */
char *repo_artifact_path(const struct repo *r, const char *sha256_hex);

/*
 * Store `len` bytes as an artefact: compute the SHA-256, write to a
 * temporary file in the target folder, fsync, rename, fsync the folder.
 * Idempotent when the file already exists with the right content.
 * Writes the hex digest into `sha256_hex`.  MLOPS_EIO on failure.
 */
int repo_store_artifact(struct repo *r, const void *bytes, size_t len,
			char sha256_hex[65], struct mlops_err *err);

/*
 * Read an artefact and check that its bytes hash to `sha256_hex`.
 * On success *bytes (NUL-terminated, caller frees) and *len are set.
 * MLOPS_ENOTFOUND when missing, MLOPS_ECORRUPT on a hash mismatch.
 */
int repo_read_artifact(const struct repo *r, const char *sha256_hex,
		       char **bytes, size_t *len, struct mlops_err *err);

#endif
