#ifndef MLOPS_GITREPO_H
#define MLOPS_GITREPO_H

/*
 * Git through libgit2: the commit and dirty flag of the repository
 * around a folder (for lineage), and GTO-style annotated release tags.
 */

#include "error.h"

struct git_state {
	int found;		/* a git repository encloses the folder */
	char commit[41];	/* HEAD commit hex, "" if unborn */
	int dirty;		/* tracked files modified or staged */
};

/*
 * Describe the git repository enclosing `dir`.  Absence of a repository
 * is not an error (found = 0).  MLOPS_EIO only for a broken repository.
 */
int gitrepo_state(const char *dir, struct git_state *out,
		  struct mlops_err *err);

/*
 * Whether `name` fits GTO's name grammar, [a-z0-9]([a-z0-9-]*[a-z0-9])?
 * (iterative/gto gto/constants.py, without the '/' we never produce).
 * Model and stage names that do not are refused for tagging, since GTO
 * could not read the tag back.
 */
int gitrepo_gto_name_ok(const char *name);

/*
 * The identity libgit2 would sign with, "Name <email>", in the
 * repository enclosing `dir` (git_signature_default()), or from the
 * global config when there is no repository; *out NULL when none (else
 * the caller frees it).  Returns whether one was found; never fails.
 * ident_git() calls it only for layouts its own reader does not follow.
 */
int gitrepo_signature(const char *dir, char **out);

/*
 * Create the annotated tag `name` in the repository enclosing `dir`,
 * pointing at commit `commit_hex` (NULL or "": HEAD), with `message` and
 * the tagger from git config (fallback "mlops <mlops@localhost>").  A tag
 * of that name already pointing at the same commit is success with
 * *existed = 1 (may be NULL).  MLOPS_ENOTFOUND when there is no git
 * repository or the commit does not exist in it; MLOPS_EIO when the
 * name is taken by a tag pointing elsewhere or on libgit2 failure.
 */
int gitrepo_tag(const char *dir, const char *name, const char *commit_hex,
		const char *message, int *existed, struct mlops_err *err);

/*
 * GTO's registration tag for version N of `model`: "NAME@v0.0.N",
 * created with gitrepo_tag().  *tag_name (may be NULL) receives the name;
 * the caller frees it.
 */
int gitrepo_tag_register(const char *dir, const char *model, int version,
			 const char *commit_hex, const char *message,
			 char **tag_name, struct mlops_err *err);

/*
 * GTO's promotion tag "NAME#STAGE#K", K one more than the largest counter
 * among the tags of `model` (any "NAME@...#K" or "NAME#...#K").  Call it
 * inside the registry transaction, which serialises mlops promoters, so
 * two of them never pick the same K.  *tag_name as above.
 */
int gitrepo_tag_promote(const char *dir, const char *model,
			const char *stage, const char *commit_hex,
			const char *message, char **tag_name,
			struct mlops_err *err);

/*
 * Delete tag `name` (undo after the registry transaction failed).
 * Best effort: errors are ignored.
 */
void gitrepo_tag_delete(const char *dir, const char *name);

#endif
