#ifndef MLOPS_RELEASE_H
#define MLOPS_RELEASE_H

/*
 * Release transactions: promote and rollback as one API.  Each call is
 * one BEGIN IMMEDIATE transaction holding every check and the move: the
 * resolve, the --expect compare-and-swap, the stage policy (the
 * validation lookup), the ledger row and, with git tags, the GTO tag,
 * deleted again if the commit fails.
 */

#include "error.h"

struct repo;

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
	int git_tag;
};

struct release_rollback_req {
	const char *model;
	const char *stage;
	int to_version;		/* --to, or 0: the holder below the top */
	const char *reason;
	int dry_run;
	int git_tag;
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
 * Point req->stage at the version named.  The stage's policy
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
 * The emergency path: no policy, but the ledger row records the
 * target's latest validation when it passed.
 */
int release_rollback(struct repo *repo,
		     const struct release_rollback_req *req,
		     struct release_result *res, struct mlops_err *err);

#endif
