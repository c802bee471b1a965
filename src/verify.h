#ifndef MLOPS_VERIFY_H
#define MLOPS_VERIFY_H

/*
 * The verify job: check a repository end to end and return what is
 * wrong as a typed report.  Three checks, in this order: the database's
 * own (PRAGMA integrity_check, foreign_key_check), every version's
 * artefact file exists, and every file of the artefact store re-hashes
 * to its name (stray entries reported, `.tmp-*` skipped).
 *
 * It does not print, repair, or decide the exit status: the command
 * prints the report and fails when it holds problems.  It does not know
 * the store's layout either: repo_list_store() walks it.
 */

#include <stddef.h>
#include "error.h"

struct repo;

enum verify_kind {
	VERIFY_DATABASE,	/* a line of the database's own checks */
	VERIFY_MISSING,		/* a version's artefact file is absent */
	VERIFY_CORRUPT,		/* an artefact's bytes hash to another name */
	VERIFY_UNREADABLE,	/* an artefact file cannot be read */
	VERIFY_STRAY		/* an entry of the store that is no artefact */
};

struct verify_problem {
	enum verify_kind kind;
	char *path;		/* file concerned, NULL for VERIFY_DATABASE */
	char sha256[65];	/* artefact concerned, "" if none */
	char *model;		/* VERIFY_MISSING: the version, else NULL */
	int version;
	char *message;		/* the one-line description verify prints */
};

/* Everything owned (verify_report_release()). */
struct verify_report {
	size_t artifacts;	/* artefact files re-hashed */
	size_t versions;	/* versions whose artefact was looked for */
	struct verify_problem *problems;	/* in check order */
	size_t n_problems;
};

/*
 * Run the checks on `repo` into *out.  Problems found are the report,
 * not an error: the return is non-zero only when a check cannot run
 * (the store or registry cannot be read), and then *out is empty.
 */
int verify_repo(struct repo *repo, struct verify_report *out,
		struct mlops_err *err);

void verify_report_release(struct verify_report *r);

#endif
