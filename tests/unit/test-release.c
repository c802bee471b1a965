/*
 * Unit tests for the release transactions (release.c), without the CLI,
 * on a repository in a temporary folder: register and its idempotency
 * and tags, promote with the --expect compare-and-swap and the stage
 * policy, rollback, the ledger rows they write (with the actor from
 * ident.c), dry runs that write nothing, and export then import; the
 * GTO name check of each command with its message, made before anything
 * else (before register reads its file), and the git.tags default.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ident.h"
#include "model.h"
#include "registry.h"
#include "release.h"
#include "repo.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/mlops-test-release.XXXXXX";

/* The bytes of a small valid artefact; `b` makes them differ. */
static char *artefact(double b, size_t *len)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct model *m = model_new();
	char *bytes = NULL;

	m->task = TASK_REGRESSION;
	m->algo = ALGO_LINEAR;
	m->target = xstrdup("y");
	m->n_features = 1;
	m->features = xcalloc(1, sizeof(*m->features));
	m->features[0].name = xstrdup("x");
	m->features[0].kind = FEATURE_NUMERIC;
	m->features[0].scale = 1;
	m->features[0].profile.kind = PROFILE_NUMERIC;
	m->n_inputs = 1;
	m->n_outputs = 1;
	m->coef = xcalloc(1, sizeof(double));
	m->intercept = xcalloc(1, sizeof(double));
	m->coef[0] = 2;
	m->intercept[0] = b;
	m->tol = 1e-8;
	m->max_iter = 10;
	m->pred_profile.kind = PROFILE_NUMERIC;
	if (model_to_bytes(m, &bytes, len, &err))
		printf("# model_to_bytes: %s\n", err.msg);
	model_free(m);
	return bytes;
}

static int reg(struct repo *repo, double b, const struct release_tag *tags,
	       size_t n_tags, struct release_version *v)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct release_register_req req = { 0 };
	size_t len = 0;
	char *bytes = artefact(b, &len);
	int ret;

	req.model = "churn";
	req.bytes = bytes;
	req.len = len;
	req.label = "model.json";
	req.tags = tags;
	req.n_tags = n_tags;
	ret = release_register(repo, &req, v, &err);
	if (ret)
		printf("# register: %s\n", err.msg);
	free(bytes);
	return ret;
}

static void test_register(struct repo *repo)
{
	static const struct release_tag tags[] = {
		{ "team", "growth" }, { "team", "other" }
	};
	struct mlops_err err = MLOPS_ERR_INIT;
	struct release_version v;
	char **got = NULL;
	size_t n = 0;

	if (!is_int(reg(repo, 1, tags, 2, &v), 0, "register"))
		return;
	ok(v.version == 1 && !v.existed && v.size > 0 &&
	   strlen(v.sha256) == 64 && !v.tag_name,
	   "the first version is new, without a GTO tag");
	release_version_release(&v);
	ok(!registry_version_tags(repo->reg, "churn", 1, &got, &n, &err) &&
	   n == 1 && !strcmp(got[0], "team=growth"),
	   "its tags are written, the first value of a key wins");
	registry_free_strings(got, n);
	reg(repo, 1, NULL, 0, &v);
	ok(v.version == 1 && v.existed, "identical bytes: the same version");
	release_version_release(&v);
	reg(repo, 2, NULL, 0, &v);
	is_int(v.version, 2, "other bytes: the next version");
	release_version_release(&v);
}

static int promote(struct repo *repo, int version, const char *stage,
		   int expect, int force, int dry_run,
		   struct release_result *res, struct mlops_err *err)
{
	struct release_promote_req req = { 0 };

	req.model = "churn";
	req.version = version;
	req.stage = stage;
	req.reason = force ? "test" : NULL;
	req.expect = expect;
	req.expect_arg = expect > 0 ? "1" : expect == 0 ? "none" : NULL;
	req.force = force;
	req.dry_run = dry_run;
	return release_promote(repo, &req, res, err);
}

static int holder(struct repo *repo, const char *stage)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	int version = -1;

	registry_stage_get(repo->reg, "churn", stage, &version, &err);
	return version;
}

static void test_promote(struct repo *repo)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct release_result res;
	int ret;

	ret = promote(repo, 1, "staging", -1, 0, 0, &res, &err);
	ok(!ret && res.changed && res.from_version == 0 &&
	   res.event_id > 0 && !res.forced, "promote 1 to staging");
	release_result_release(&res);

	ret = promote(repo, 2, "staging", 0, 0, 0, &res, &err);
	is_int(ret, MLOPS_ECHECK, "--expect none on a set stage is refused");
	is_str(err.msg, "stage 'staging' of model 'churn' holds version 1, "
	       "not none as --expect says; not moved",
	       "... saying what the stage holds");
	is_int(holder(repo, "staging"), 1, "... and the stage did not move");
	release_result_release(&res);

	ret = promote(repo, 2, "staging", 1, 0, 1, &res, &err);
	ok(!ret && res.changed && !res.event_id,
	   "a dry run checks and writes nothing");
	is_int(holder(repo, "staging"), 1, "... the stage did not move");
	release_result_release(&res);

	ret = promote(repo, 2, "staging", 1, 0, 0, &res, &err);
	ok(!ret && res.from_version == 1 && res.version == 2,
	   "--expect 1 matches: moved from 1 to 2");
	release_result_release(&res);

	ret = promote(repo, 2, "staging", -1, 0, 0, &res, &err);
	ok(!ret && !res.changed && !res.event_id,
	   "promoting to where it is changes nothing");
	release_result_release(&res);

	ret = promote(repo, 2, "production", -1, 0, 0, &res, &err);
	ok(ret == MLOPS_ECHECK &&
	   !strncmp(err.msg, "churn:2 has no passing validation on record, "
		    "which 'production' requires; run 'mlops validate churn:2 "
		    "--data FILE --min r2=V' first", 100),
	   "production needs a validation: refused, naming the command");
	release_result_release(&res);
	ret = promote(repo, 2, "production", -1, 1, 0, &res, &err);
	ok(!ret && res.forced && res.event_id > 0, "--force moves it anyway");
	release_result_release(&res);
}

static void test_rollback(struct repo *repo)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct release_rollback_req req = { 0 };
	struct release_result res;
	int ret;

	req.model = "churn";
	req.stage = "staging";
	req.reason = "bad";
	req.dry_run = 1;
	ret = release_rollback(repo, &req, &res, &err);
	ok(!ret && res.version == 1 && res.from_version == 2 &&
	   !res.event_id, "a dry rollback names the target, writes nothing");
	release_result_release(&res);
	req.dry_run = 0;
	ret = release_rollback(repo, &req, &res, &err);
	ok(!ret && res.version == 1 && res.event_id > 0 &&
	   holder(repo, "staging") == 1, "rollback goes back to 1");
	release_result_release(&res);
	ret = release_rollback(repo, &req, &res, &err);
	is_int(ret, MLOPS_ENOTFOUND, "nothing below the first holder");
	release_result_release(&res);
}

/* The ledger after the moves above, with who made them. */
static void test_ledger(struct repo *repo)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct reg_event *ev = NULL;
	struct ident who;
	char *git = ident_git(repo->worktree);
	size_t n = 0, i;

	ident_actor(&who);
	if (!is_int(registry_history(repo->reg, "churn", NULL, 0, &ev, &n,
				     &err), 0, "read the ledger"))
		goto out;
	if (is_int((long long)n, 4, "four rows: three promotes, a rollback")) {
		ok(ev[0].to_version == 1 && !strcmp(ev[0].stage, "staging") &&
		   ev[1].from_version == 1 && ev[1].to_version == 2,
		   "staging: 1, then 1 -> 2");
		ok(!strcmp(ev[2].stage, "production") && ev[2].forced &&
		   !strcmp(ev[2].reason, "test"),
		   "production: forced, with its reason");
		ok(!strcmp(ev[3].action, "rollback") &&
		   ev[3].from_version == 2 && ev[3].to_version == 1 &&
		   !strcmp(ev[3].reason, "bad"), "the rollback row");
	}
	for (i = 0; i < n; i++)
		if (strcmp(ev[i].actor, who.user) ||
		    strcmp(ev[i].host, who.host) ||
		    (git ? !ev[i].git_identity ||
		     strcmp(ev[i].git_identity, git) : !!ev[i].git_identity))
			break;
	ok(n && i == n, "every row names ident's user, host and git identity");
out:
	for (i = 0; i < n; i++)
		reg_event_release(&ev[i]);
	free(ev);
	free(git);
}

static void test_export_import(struct repo *repo)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct release_version v, w;
	char *a = xasprintf("%s/a.tar.gz", tmpdir);
	char *b = xasprintf("%s/b.tar.gz", tmpdir);
	char *ab = NULL, *bb = NULL, **tags = NULL;
	size_t alen = 0, blen = 0, n = 0;
	int ret;

	ret = release_export(repo, "churn", 0, "staging", a, &v, &err);
	ok(!ret && v.version == 1, "export the holder of staging");
	release_version_release(&v);
	release_export(repo, "churn", 1, NULL, b, &v, &err);
	release_version_release(&v);
	ab = tap_slurp(a, &alen);
	bb = tap_slurp(b, &blen);
	ok(ab && bb && alen == blen && !memcmp(ab, bb, alen),
	   "the same version exports to the same bytes");

	ret = release_import(repo, a, "copy", &w, &err);
	ok(!ret && !strcmp(w.model, "copy") && w.version == 1 &&
	   !w.existed && !strcmp(w.from_model, "churn") &&
	   w.from_version == 1, "import registers it under --as");
	release_version_release(&w);
	ok(!registry_version_tags(repo->reg, "copy", 1, &tags, &n, &err) &&
	   n == 2 && !strncmp(tags[0], "imported-from=churn:1 sha256:", 29) &&
	   !strcmp(tags[1], "team=growth"),
	   "with imported-from and the exported tags");
	registry_free_strings(tags, n);
	ret = release_import(repo, a, "copy", &w, &err);
	ok(!ret && w.existed && w.version == 1, "importing again: existed");
	release_version_release(&w);
	free(a);
	free(b);
	free(ab);
	free(bb);
}

static const char gto_rule[] = "cannot be written as a GTO tag: use "
	"lower-case letters, digits and '-'";

/* Register the file `path` as `model`, the flag as given. */
static int reg_file(struct repo *repo, const char *model, const char *path,
		    enum release_git_tag git_tag, struct mlops_err *err)
{
	struct release_register_req req = { 0 };
	struct release_version v;
	int ret;

	req.model = model;
	req.path = path;
	req.git_tag = git_tag;
	ret = release_register(repo, &req, &v, err);
	release_version_release(&v);
	return ret;
}

/* register: the name before the file, in register's own words. */
static void test_gto_register(struct repo *repo)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct release_version v;
	char *path = xasprintf("%s/model.json", tmpdir);
	char *dir = xasprintf("%s/folder", tmpdir);
	char *want = xasprintf("model name 'Bad_Name' %s", gto_rule);
	char *unread = xasprintf("cannot read '%s': Is a directory", dir);
	struct release_register_req req = { 0 };
	char *bytes;
	size_t len = 0;
	FILE *fp;

	is_int(reg_file(repo, "Bad_Name", "missing.json",
			RELEASE_GIT_TAG_YES, &err), MLOPS_EUSAGE,
	       "register --git-tag: a name GTO cannot read is refused");
	is_str(err.msg, want,
	       "... before the file is read, in register's words");
	repo->git_tags = 1;
	ok(reg_file(repo, "Bad_Name", "missing.json", RELEASE_GIT_TAG_CONFIG,
		    &err) == MLOPS_EUSAGE && !strcmp(err.msg, want),
	   "git.tags = true without the flag: the same refusal");
	ok(reg_file(repo, "Bad_Name", "missing.json", RELEASE_GIT_TAG_NO,
		    &err) == MLOPS_ENOTFOUND &&
	   !strcmp(err.msg, "cannot open 'missing.json': No such file or "
		   "directory"), "no tag at all (import): no check");
	repo->git_tags = 0;
	is_int(reg_file(repo, "Bad_Name", "missing.json",
			RELEASE_GIT_TAG_CONFIG, &err), MLOPS_ENOTFOUND,
	       "git.tags = false without the flag: no check");

	mkdir(dir, 0700);
	is_int(reg_file(repo, "churn", dir, RELEASE_GIT_TAG_CONFIG, &err),
	       MLOPS_EIO, "a folder cannot be read");
	is_str(err.msg, unread, "... and the message says why, as every command's");

	bytes = artefact(1, &len);
	if ((fp = fopen(path, "wb"))) {
		fwrite(bytes, 1, len, fp);
		fclose(fp);
	}
	req.model = "churn";
	req.path = path;
	ok(!release_register(repo, &req, &v, &err) && v.version == 1 &&
	   v.existed && v.size == (long long)len,
	   "register reads the artefact at req->path");
	release_version_release(&v);
	free(bytes);
	free(unread);
	free(want);
	free(dir);
	free(path);
}

/* promote and rollback: the tag NAME#STAGE#K, checked first. */
static void test_gto_moves(struct repo *repo)
{
	struct mlops_err err = MLOPS_ERR_INIT;
	struct release_promote_req p = { 0 };
	struct release_rollback_req r = { 0 };
	struct release_result res;
	char *want = xasprintf("'churn#Prod' %s", gto_rule);
	int ret;

	p.model = "churn";
	p.version = 1;
	p.stage = "Prod";
	p.expect = -1;
	p.dry_run = 1;
	p.git_tag = RELEASE_GIT_TAG_YES;
	is_int(release_promote(repo, &p, &res, &err), MLOPS_EUSAGE,
	       "promote --git-tag: a stage GTO cannot read is refused");
	is_str(err.msg, want, "... saying NAME#STAGE");
	release_result_release(&res);
	p.git_tag = RELEASE_GIT_TAG_CONFIG;
	repo->git_tags = 1;
	ok(release_promote(repo, &p, &res, &err) == MLOPS_EUSAGE &&
	   !strcmp(err.msg, want), "git.tags = true: the same refusal");
	release_result_release(&res);
	repo->git_tags = 0;
	ret = release_promote(repo, &p, &res, &err);
	ok(!ret && res.changed && !res.event_id,
	   "git.tags = false: no check, the dry run passes");
	release_result_release(&res);

	r.model = "churn";
	r.stage = "Prod";
	r.dry_run = 1;
	r.git_tag = RELEASE_GIT_TAG_YES;
	is_int(release_rollback(repo, &r, &res, &err), MLOPS_EUSAGE,
	       "rollback --git-tag: a stage GTO cannot read is refused");
	is_str(err.msg, want, "... in promote's words");
	release_result_release(&res);
	r.git_tag = RELEASE_GIT_TAG_CONFIG;
	repo->git_tags = 1;
	ok(release_rollback(repo, &r, &res, &err) == MLOPS_EUSAGE &&
	   !strcmp(err.msg, want), "git.tags = true: the same refusal");
	release_result_release(&res);
	repo->git_tags = 0;
	ok(release_rollback(repo, &r, &res, &err) != MLOPS_EUSAGE,
	   "git.tags = false: no check (%s)", err.msg);
	release_result_release(&res);
	free(want);
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
	test_register(repo);
	test_promote(repo);
	test_rollback(repo);
	test_ledger(repo);
	test_export_import(repo);
	test_gto_register(repo);
	test_gto_moves(repo);
	repo_free(repo);
	rm = xasprintf("rm -rf '%s'", tmpdir);
	if (system(rm))
		printf("# cannot remove %s\n", tmpdir);
	free(rm);
	free(dir);
	return done_testing();
}
