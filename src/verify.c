/*
 * The verify job (see verify.h): the database's checks, then versions
 * against the store, then the store against its names.  A damaged file
 * is reported once, by the store pass, not once per version naming it.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "registry.h"
#include "repo.h"
#include "verify.h"
#include "xalloc.h"

struct problems {
	struct verify_report *r;
	size_t alloc;
};

static struct verify_problem *add(struct problems *p, enum verify_kind kind,
				  char *message)
{
	struct verify_report *r = p->r;
	struct verify_problem *q;

	XGROW(r->problems, p->alloc, r->n_problems + 1);
	q = &r->problems[r->n_problems++];
	memset(q, 0, sizeof(*q));
	q->kind = kind;
	q->message = message;
	return q;
}

static int check_database(struct repo *repo, struct problems *p,
			  struct mlops_err *err)
{
	char **lines = NULL;
	size_t n = 0, i;
	int ret;

	if ((ret = registry_integrity_check(repo->reg, &lines, &n, err)))
		return ret;
	for (i = 0; i < n; i++)
		add(p, VERIFY_DATABASE, lines[i]);
	free(lines);
	return 0;
}

static int check_versions(struct repo *repo, struct problems *p,
			  struct mlops_err *err)
{
	struct verify_problem *q;
	struct reg_version *v = NULL;
	struct stat st;
	size_t n = 0, i;
	char *path;
	int ret;

	if ((ret = registry_list_versions(repo->reg, NULL, &v, &n, err)))
		return ret;
	p->r->versions = n;
	for (i = 0; i < n; i++) {
		path = repo_artifact_path(repo, v[i].sha256);
		if (stat(path, &st)) {
			q = add(p, VERIFY_MISSING, xasprintf(
				"%s:%d: artefact sha256:%s is missing (%s)",
				v[i].model, v[i].version, v[i].sha256,
				strerror(errno)));
			q->path = path;
			path = NULL;
			snprintf(q->sha256, sizeof(q->sha256), "%s",
				 v[i].sha256);
			q->model = xstrdup(v[i].model);
			q->version = v[i].version;
		}
		free(path);
		reg_version_release(&v[i]);
	}
	free(v);
	return 0;
}

static enum verify_kind read_kind(int code)
{
	if (code == MLOPS_ECORRUPT)
		return VERIFY_CORRUPT;
	return code == MLOPS_ENOTFOUND ? VERIFY_MISSING : VERIFY_UNREADABLE;
}

static int check_store(struct repo *repo, struct problems *p,
		       struct mlops_err *err)
{
	struct mlops_err e = MLOPS_ERR_INIT;
	struct repo_store_entry *ent;
	struct verify_problem *q;
	size_t n, i, len;
	char *bytes;
	int ret;

	if ((ret = repo_list_store(repo, &ent, &n, err)))
		return ret;
	for (i = 0; i < n; i++) {
		if (ent[i].kind != REPO_STORE_ARTIFACT) {
			q = add(p, VERIFY_STRAY, xasprintf(
				"stray %s '%s' in the artefact store",
				ent[i].kind == REPO_STORE_STRAY_ENTRY ?
				"entry" : "file", ent[i].path));
		} else {
			p->r->artifacts++;
			if (!repo_read_artifact(repo, ent[i].sha256, &bytes,
						&len, &e)) {
				free(bytes);
				continue;
			}
			q = add(p, read_kind(e.code), xstrdup(e.msg));
			snprintf(q->sha256, sizeof(q->sha256), "%s",
				 ent[i].sha256);
		}
		q->path = ent[i].path;
		ent[i].path = NULL;
	}
	repo_store_release(ent, n);
	return 0;
}

int verify_repo(struct repo *repo, struct verify_report *out,
		struct mlops_err *err)
{
	struct problems p = { out, 0 };
	int ret;

	memset(out, 0, sizeof(*out));
	if ((ret = check_database(repo, &p, err)) ||
	    (ret = check_versions(repo, &p, err)) ||
	    (ret = check_store(repo, &p, err)))
		verify_report_release(out);
	return ret;
}

void verify_report_release(struct verify_report *r)
{
	size_t i;

	for (i = 0; i < r->n_problems; i++) {
		free(r->problems[i].path);
		free(r->problems[i].model);
		free(r->problems[i].message);
	}
	free(r->problems);
	memset(r, 0, sizeof(*r));
}
