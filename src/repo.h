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

/* One entry of the artefact store, as repo_list_store() finds it. */
enum repo_store_kind {
	REPO_STORE_ARTIFACT,	/* sha256/ab/<62 hex>: an artefact file */
	REPO_STORE_STRAY_ENTRY,	/* sha256/<not 2 hex>: anything */
	REPO_STORE_STRAY_FILE	/* sha256/ab/<not 62 hex>: anything */
};

struct repo_store_entry {
	enum repo_store_kind kind;
	char *path;		/* absolute path of the entry, owned */
	char sha256[65];	/* hex hash for an artefact, else "" */
};

/*
 * List the artefact store: every entry under artifacts/sha256/, fan-out
 * folders and their files in name order, names starting with "." (the
 * `.tmp-*` left by a crash) skipped.  Nothing is read or hashed.
 * *out is owned by the caller (repo_store_release()).  MLOPS_ENOTFOUND
 * when the store folder is missing, MLOPS_EIO when a folder cannot be
 * read (a 2-hex name that is not a folder included).
 */
int repo_list_store(const struct repo *r, struct repo_store_entry **out,
		    size_t *n, struct mlops_err *err);
void repo_store_release(struct repo_store_entry *v, size_t n);

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
