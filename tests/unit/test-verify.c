/*
 * Unit tests for the verify job (verify.c) and the store walk it stands
 * on (repo_list_store()), on a repository in a temporary folder: a clean
 * store, a corrupted artefact, a version whose artefact is missing,
 * stray entries (and `.tmp-*` leftovers, which are skipped).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "registry.h"
#include "repo.h"
#include "sha256.h"
#include "tap.h"
#include "verify.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/mlops-test-verify.XXXXXX";
static char sha_a[65], sha_b[65];

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int reg(struct repo *repo, const char *model, const char *sha)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	int version = 0, existed;

	if (registry_begin(repo->reg, &err))
		return -1;
	if (registry_register(repo->reg, model, sha, 5, 0, NULL, &version,
			      &existed, &err) ||
	    registry_commit(repo->reg, &err)) {
		printf("# register failed: %s\n", err.msg);
		registry_rollback(repo->reg);
		return -1;
	}
	return version;
}

static int run(struct repo *repo, struct verify_report *rep)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	int ret = verify_repo(repo, rep, &err);

	if (ret)
		printf("# verify_repo: %s\n", err.msg);
	return ret;
}

static void test_clean(struct repo *repo)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct verify_report rep;

	ok(!repo_store_artifact(repo, "alpha", 5, sha_a, &err) &&
	   !repo_store_artifact(repo, "bravo", 5, sha_b, &err),
	   "store two artefacts");
	ok(reg(repo, "churn", sha_a) == 1 && reg(repo, "churn", sha_b) == 2,
	   "register a version of each");
	ok(!run(repo, &rep), "verify a clean repository");
	is_int((int)rep.n_problems, 0, "no problems");
	is_int((int)rep.artifacts, 2, "two artefacts re-hashed");
	is_int((int)rep.versions, 2, "two versions checked");
	verify_report_release(&rep);
}

static void test_corrupt(struct repo *repo)
{
	char *path = repo_artifact_path(repo, sha_a), *msg;
	struct verify_report rep;

	chmod(path, 0644);
	ok(!write_file(path, "alphx"), "overwrite an artefact");
	ok(!run(repo, &rep), "verify runs");
	is_int((int)rep.n_problems, 1, "one problem");
	if (rep.n_problems == 1) {
		is_int(rep.problems[0].kind, VERIFY_CORRUPT, "kind corrupt");
		is_str(rep.problems[0].sha256, sha_a, "its hash");
		is_str(rep.problems[0].path, path, "its path");
		msg = xasprintf("artefact sha256:%s is corrupt: its bytes "
				"hash to sha256:", sha_a);
		ok(!strncmp(rep.problems[0].message, msg, strlen(msg)),
		   "message: %s", rep.problems[0].message);
		free(msg);
	}
	is_int((int)rep.artifacts, 2, "still two artefacts");
	verify_report_release(&rep);
	write_file(path, "alpha");
	chmod(path, 0444);
	free(path);
}

static void test_missing(struct repo *repo)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct verify_report rep;
	char sha[65], *msg, *path;

	sha256_hex("ghost", 5, sha);
	ok(reg(repo, "fraud", sha) == 1, "register a version without a file");
	ok(!run(repo, &rep), "verify runs");
	is_int((int)rep.n_problems, 1, "one problem");
	is_int((int)rep.versions, 3, "three versions");
	if (rep.n_problems == 1) {
		is_int(rep.problems[0].kind, VERIFY_MISSING, "kind missing");
		is_str(rep.problems[0].model, "fraud", "its model");
		is_int(rep.problems[0].version, 1, "its version");
		is_str(rep.problems[0].sha256, sha, "its hash");
		path = repo_artifact_path(repo, sha);
		is_str(rep.problems[0].path, path, "its path");
		free(path);
		msg = xasprintf("fraud:1: artefact sha256:%s is missing "
				"(No such file or directory)", sha);
		is_str(rep.problems[0].message, msg, "message");
		free(msg);
	}
	verify_report_release(&rep);
	/* Put the bytes in place: the store is clean again. */
	ok(!repo_store_artifact(repo, "ghost", 5, sha, &err),
	   "store the missing bytes");
}

static void test_stray(struct repo *repo)
{
	char *top = xasprintf("%s/artifacts/sha256", repo->dir);
	char *fan = xasprintf("%s/%.2s", top, sha_b);
	char *readme = xasprintf("%s/zzz", top);	/* after any fan-out */
	char *notes = xasprintf("%s/notes.txt", fan);
	char *tmp = xasprintf("%s/.tmp-123", fan);
	struct mlops_err err = MLOPS_ERR_INIT;
	struct repo_store_entry *ent;
	struct verify_report rep;
	size_t n, i, arts = 0;

	ok(!write_file(readme, "x") && !write_file(notes, "x") &&
	   !write_file(tmp, "x"), "add stray files and a temporary");
	ok(!repo_list_store(repo, &ent, &n, &err), "list the store");
	is_int((int)n, 5, "three artefacts and two strays listed");
	for (i = 0; i < n; i++)
		arts += ent[i].kind == REPO_STORE_ARTIFACT;
	is_int((int)arts, 3, "three artefacts");
	for (i = 1; i < n; i++)
		if (strcmp(ent[i - 1].path, ent[i].path) > 0)
			break;
	ok(i == n, "in name order");
	repo_store_release(ent, n);

	ok(!run(repo, &rep), "verify runs");
	is_int((int)rep.n_problems, 2, "two problems");
	if (rep.n_problems == 2) {
		is_int(rep.problems[0].kind, VERIFY_STRAY, "kind stray");
		is_str(rep.problems[0].path, notes, "the file's path");
		is_int(rep.problems[1].kind, VERIFY_STRAY, "kind stray");
		is_str(rep.problems[1].path, readme, "the entry's path");
		free(top);
		top = xasprintf("stray file '%s' in the artefact store",
				notes);
		is_str(rep.problems[0].message, top, "file message");
		free(top);
		top = xasprintf("stray entry '%s' in the artefact store",
				readme);
		is_str(rep.problems[1].message, top, "entry message");
	}
	is_int((int)rep.artifacts, 3, "three artefacts re-hashed");
	verify_report_release(&rep);
	free(top);
	free(fan);
	free(readme);
	free(notes);
	free(tmp);
}

int main(void)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct repo *repo = NULL;
	char *dir, *rm;
	int existed;

	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	dir = xasprintf("%s/.mlops", tmpdir);
	setenv("MLOPS_DIR", dir, 1);
	if (repo_init(tmpdir, &existed, &err) ||
	    repo_discover(1, &repo, &err)) {
		printf("Bail out! setup: %s\n", err.msg);
		return 1;
	}
	test_clean(repo);
	test_corrupt(repo);
	test_missing(repo);
	test_stray(repo);
	repo_free(repo);
	rm = xasprintf("chmod -R u+w '%s'; rm -rf '%s'", tmpdir, tmpdir);
	if (system(rm))
		printf("# cannot remove %s\n", tmpdir);
	free(rm);
	free(dir);
	return done_testing();
}
