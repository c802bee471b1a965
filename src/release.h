#ifndef MLOPS_RELEASE_H
#define MLOPS_RELEASE_H

/*
 * Release transactions: register, promote and rollback as one API, and
 * the export and import of a version between registries.  Each write is
 * one BEGIN IMMEDIATE transaction holding every check and the change:
 * the resolve, the --expect compare-and-swap, the stage policy (the
 * validation lookup), the version or ledger row and, with git tags, the
 * GTO tag, deleted again if the commit fails.  Nothing here prints; the
 * commands print from the results.
 */

#include <stddef.h>
#include "error.h"

struct repo;

/* A tag for a new version; strings borrowed. */
struct release_tag {
	const char *key;	/* non-empty */
	const char *value;
};

/*
 * The --git-tag flag as given on the command line: RELEASE_GIT_TAG_YES
 * when given, RELEASE_GIT_TAG_CONFIG when not (the repository's git.tags
 * decides), RELEASE_GIT_TAG_NO never to tag (import).
 */
enum release_git_tag {
	RELEASE_GIT_TAG_NO = -1,
	RELEASE_GIT_TAG_CONFIG = 0,
	RELEASE_GIT_TAG_YES = 1
};

struct release_register_req {
	const char *model;	/* a valid model name */
	const char *path;	/* the artefact file to read, or NULL: */
	const char *bytes;	/* the artefact, borrowed */
	size_t len;
	const char *label;	/* names the bytes in messages (their file);
				   NULL with a path: the path */
	long long run_id;	/* the run that made it, or 0 */
	const char *description;	/* may be NULL */
	const struct release_tag *tags;	/* in order; the first value of a
					   key wins */
	size_t n_tags;
	enum release_git_tag git_tag;	/* the GTO tag NAME@v0.0.N */
};

/* A version registered, imported or exported; strings owned. */
struct release_version {
	char *model;
	int version;
	char sha256[65];
	long long size;
	int existed;		/* the bytes were already this version */
	char *tag_name;		/* the GTO tag written, or NULL */
	char *from_model;	/* import: the exporting version */
	int from_version;
};

void release_version_release(struct release_version *res);

/*
 * Register req->bytes, or the file req->path, as the next version of
 * req->model.  With a GTO tag to write (req->git_tag, or the
 * repository's git.tags) the name must fit GTO's grammar
 * (gitrepo_gto_name_ok()), checked first, before the file is read:
 * MLOPS_EUSAGE, "model name 'X' cannot be written as a GTO tag: ...".
 * The file is read with model_read_file() (MLOPS_ENOTFOUND, MLOPS_EIO).
 * The bytes must be a valid artefact (model_from_bytes(), messages
 * naming req->label);
 * they are stored durably first, then the version row, its tags and,
 * with req->git_tag, the GTO tag on the commit of the artefact's lineage
 * (HEAD when it names none) are written in one transaction, the tag
 * deleted again if the commit fails.  Identical bytes return the
 * existing version with res->existed = 1 and its tags unchanged.
 * A bad artefact fails with model_from_bytes()'s status; MLOPS_ENOTFOUND
 * for an unknown run or a commit missing from git, MLOPS_EBUSY,
 * MLOPS_EIO.
 */
int release_register(struct repo *repo,
		     const struct release_register_req *req,
		     struct release_version *res, struct mlops_err *err);

/*
 * Write version `version` (> 0), or the holder of `stage`, or the newest
 * version of `model` to the bundle `output` ("-": stdout) with its
 * manifest (manifest_build()).  res names the version exported.
 */
int release_export(struct repo *repo, const char *model, int version,
		   const char *stage, const char *output,
		   struct release_version *res, struct mlops_err *err);

/*
 * Register the artefact of the bundle at `path` ("-": stdin) under
 * `as` (NULL: the bundle's model name), through release_register(),
 * with the manifest's description and tags and the tag "imported-from"
 * naming the exporting version; no GTO tag.  Every check comes before
 * any write: the archive (bundle_read()), the manifest
 * (manifest_parse()), the artefact's hash and size against it.
 * MLOPS_ECORRUPT for a bad bundle; res->from_model and from_version
 * name the exporting version.
 */
int release_import(struct repo *repo, const char *path, const char *as,
		   struct release_version *res, struct mlops_err *err);

struct release_promote_req {
	const char *model;	/* NAME of NAME:N or NAME@STAGE */
	int version;		/* N, or 0 */
	const char *via_stage;	/* STAGE of NAME@STAGE, or NULL */
	const char *stage;	/* --to */
	const char *reason;	/* may be NULL */
	int expect;		/* --expect: version, 0 unset, -1 not given */
	const char *expect_arg;	/* its text, for the message */
	int force;		/* override the policy (reason required) */
	int dry_run;
	enum release_git_tag git_tag;	/* the GTO tag NAME#STAGE#K */
};

struct release_rollback_req {
	const char *model;
	const char *stage;
	int to_version;		/* --to, or 0: the holder below the top */
	const char *reason;
	int dry_run;
	enum release_git_tag git_tag;	/* the GTO tag NAME#STAGE#K */
};

/* What a release call did; strings owned (release_result_release()). */
struct release_result {
	char *model;
	int version;		/* the stage's holder after the move */
	int from_version;	/* before it; 0 when unset */
	int changed;		/* 0: promote to where it already was */
	int forced;		/* the policy was overridden */
	long long event_id;	/* 0: nothing written (dry run, no change) */
	long long validation_run_id;	/* the validation that counted, 0 none */
	char *tag_name;		/* the GTO tag written, or NULL */
};

void release_result_release(struct release_result *res);

/*
 * Point req->stage at the version named.  With a GTO tag to write
 * (req->git_tag, or the repository's git.tags), the model and stage
 * names must fit GTO's grammar, checked before anything else:
 * MLOPS_EUSAGE, "'NAME#STAGE' cannot be written as a GTO tag: ...".
 * The stage's policy
 * (repo_stage_policy()) is met by the version's latest validation on
 * record: it passed, applied a gate unless require-gate is off, and
 * with require-against compared the version with the stage's current
 * holder.  A refusal, or an --expect mismatch, is MLOPS_ECHECK whose
 * message names the gated command to run; --force (req->force) skips
 * the policy and res->forced says so.  MLOPS_ENOTFOUND for an unknown
 * model or version, MLOPS_EBUSY, MLOPS_EIO.
 */
int release_promote(struct repo *repo, const struct release_promote_req *req,
		    struct release_result *res, struct mlops_err *err);

/*
 * Move req->stage back along its ledger (registry_rollback_target()).
 * The GTO name check is release_promote()'s, made first.
 * The emergency path: no policy, but the ledger row records the
 * target's latest validation when it passed.
 */
int release_rollback(struct repo *repo,
		     const struct release_rollback_req *req,
		     struct release_result *res, struct mlops_err *err);

#endif
