#ifndef MLOPS_MODELREF_H
#define MLOPS_MODELREF_H

/*
 * Model references on the command line: NAME (newest version), NAME:N
 * (version N), NAME@STAGE (what the stage holds now), or a path to an
 * artefact file.  Anything that is not NAME[:N|@STAGE] in the name
 * grammar ([A-Za-z0-9][A-Za-z0-9_-]*) is a path; write ./churn for a file
 * named like a model.
 */

#include "error.h"

struct repo;
struct model;

struct modelref {
	char *name;		/* NULL for a path */
	int version;		/* > 0 for NAME:N, else 0 */
	char *stage;		/* NAME@STAGE, else NULL */
	char *path;		/* a file, else NULL */
};

/* Whether `s` is a valid model or stage name. */
int modelref_valid_name(const char *s);

/* MLOPS_EUSAGE naming the rule when `name` is no valid model name. */
int modelref_check_name(const char *name, struct mlops_err *err);

/*
 * Split `ref` into its parts.  MLOPS_EUSAGE for a malformed NAME:N
 * (N not a positive integer) or an empty part.
 */
int modelref_parse(const char *ref, struct modelref *out,
		   struct mlops_err *err);
void modelref_release(struct modelref *r);

/* What a loaded reference turned out to be. */
struct modelref_info {
	char *name;		/* model name, NULL for a file */
	int version;		/* 0 for a file */
	char sha256[65];	/* of the artefact bytes */
	long long size;		/* artefact bytes */
};

void modelref_info_release(struct modelref_info *info);

/*
 * Resolve `ref` and load the model it names.  A registry reference needs
 * `repo` (MLOPS_ENOTFOUND "not an mlops repository..." otherwise); the
 * artefact's hash is checked.  On success *out owns the model and, if
 * `info` is non-NULL, it is filled (release with modelref_info_release()).
 */
int modelref_load(struct repo *repo, const char *ref, struct model **out,
		  struct modelref_info *info, struct mlops_err *err);

#endif
