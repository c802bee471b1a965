/*
 * mlops promote NAME:N --to STAGE: point a stage at a version and append
 * the move to the ledger.
 *
 * Everything happens in one BEGIN IMMEDIATE transaction, so the checks
 * and the move see the same state: the --expect compare-and-swap, the
 * policy (a move to a stage whose config says require-validation, by
 * default production only, needs a passing validation of that version
 * on record, unless --force with a --reason, which the ledger records
 * as forced), the ledger row and, with --git-tag, the GTO tag
 * NAME#STAGE#K whose counter must not collide with a concurrent promoter.
 * Promoting to where the stage already points changes nothing and exits
 * 0.  --dry-run makes every check and then rolls back.
 *
 * A policy refusal (no validation, --expect mismatch) is "the check ran
 * and said no": MLOPS_ECHECK, exit 3.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "gitrepo.h"
#include "model.h"
#include "modelref.h"
#include "opt.h"
#include "registry.h"
#include "repo.h"
#include "xalloc.h"

static const char *const promote_synopsis[] = {
	"mlops promote NAME:N --to STAGE [--reason TEXT] [--expect N_OLD] "
	"[--dry-run] [--force] [--git-tag]",
	NULL
};

static const struct opt_usage promote_usage = {
	promote_synopsis,
	"  mlops promote churn:3 --to staging\n"
	"  mlops promote churn@staging --to production "
	"--reason \"Q3 retrain\"\n"
	"  mlops promote churn:3 --to production --expect 2\n"
	"  mlops promote churn:4 --to production --force --reason \"hotfix\"\n",
	"Point a stage at a model version, recording the move in the ledger."
};

static void add_version(cJSON *obj, const char *key, long long v)
{
	if (v > 0)
		cJSON_AddNumberToObject(obj, key, (double)v);
	else
		cJSON_AddNullToObject(obj, key);
}

/* --expect N_OLD: a version, or 0 / "none" for an unset stage. */
static int parse_expect(const char *s, int *out, struct mlops_err *err)
{
	char *end;
	long v;

	if (!strcmp(s, "none")) {
		*out = 0;
		return 0;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 0 || v > 2147483647L)
		return err_set(err, MLOPS_EUSAGE,
			       "option '--expect' expects a version number or "
			       "'none', got '%s'", s);
	*out = (int)v;
	return 0;
}

/* The operand: a registry reference, not a file. */
static int parse_ref(const char *arg, struct modelref *ref,
		     struct mlops_err *err)
{
	int ret = modelref_parse(arg, ref, err);

	if (ret)
		return ret;
	if (!ref->name)
		return err_set(err, MLOPS_EUSAGE,
			       "'%s' is not a model version; expected NAME:N",
			       arg);
	return 0;
}

static int check_stage_name(const char *stage, struct mlops_err *err)
{
	if (!modelref_valid_name(stage))
		return err_set(err, MLOPS_EUSAGE,
			       "invalid stage name '%s': use letters, digits, "
			       "'_' and '-', starting with a letter or digit",
			       stage);
	if (!strcmp(stage, "latest"))
		return err_set(err, MLOPS_EUSAGE,
			       "stage name 'latest' is reserved for the newest "
			       "version");
	return 0;
}

/* The commit recorded in the version's artefact, "" if none. */
static int version_commit(struct repo *repo, const struct reg_version *v,
			  char commit[41], struct mlops_err *err)
{
	struct model *m = NULL;
	char *bytes = NULL;
	size_t len;
	int ret;

	commit[0] = '\0';
	if (!(ret = repo_read_artifact(repo, v->sha256, &bytes, &len, err)) &&
	    !(ret = model_from_bytes(bytes, len, v->sha256, &m, err)))
		snprintf(commit, 41, "%s", m->git_commit);
	model_free(m);
	free(bytes);
	return ret;
}

static int expect_refused(const char *stage, const char *model,
			  int current, const char *expect_arg,
			  struct mlops_err *err)
{
	if (!current)
		return err_set(err, MLOPS_ECHECK,
			       "stage '%s' of model '%s' is not set, not %s as "
			       "--expect says; not moved", stage, model,
			       expect_arg);
	return err_set(err, MLOPS_ECHECK,
		       "stage '%s' of model '%s' holds version %d, not %s as "
		       "--expect says; not moved", stage, model, current,
		       expect_arg);
}

static int validation_refused(const struct reg_version *v,
			      const char *stage, struct mlops_err *err)
{
	return err_set(err, MLOPS_ECHECK,
		       "%s:%d has no passing validation on record, which '%s' "
		       "requires; run 'mlops validate %s:%d --data FILE' or "
		       "use --force --reason", v->model, v->version, stage,
		       v->model, v->version);
}

int cmd_promote(int argc, char **argv, struct cmd_ctx *ctx,
		struct mlops_err *err)
{
	const char *stage = NULL, *reason = NULL, *expect_arg = NULL;
	int dry_run = 0, force = 0, git_tag = 0;
	const struct opt opts[] = {
		OPT_STRING(0, "to", &stage, "STAGE", "the stage to move"),
		OPT_STRING(0, "reason", &reason, "TEXT",
			   "why, for the ledger"),
		OPT_STRING(0, "expect", &expect_arg, "N_OLD",
			   "refuse unless the stage holds N_OLD "
			   "('none': unset)"),
		OPT_BOOL(0, "dry-run", &dry_run,
			 "check everything, change nothing"),
		OPT_BOOL(0, "force", &force,
			 "skip the validation policy (needs --reason)"),
		OPT_BOOL(0, "git-tag", &git_tag,
			 "write the GTO tag NAME#STAGE#K in the git "
			 "repository"),
		OPT_END()
	};
	struct repo *repo = ctx->repo;
	struct modelref ref = { NULL, 0, NULL, NULL };
	struct reg_version v = { 0 };
	struct reg_move mv;
	char *identity = NULL, *tag_name = NULL, *msg = NULL, commit[41];
	long long run_id = 0, event_id = 0;
	int ret, n, expect = -1, current = 0, in_tx = 0, forced = 0;
	int changed = 0, required;
	cJSON *obj;

	if ((ret = opt_parse(argc, argv, opts, &promote_usage, &n, err)))
		goto out;
	if ((ret = cmd_operands(n, 1, promote_synopsis[0], err)))
		goto out;
	if (!stage) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "missing --to STAGE; usage: %s",
			      promote_synopsis[0]);
		goto out;
	}
	if ((ret = parse_ref(argv[0], &ref, err)) ||
	    (ret = check_stage_name(stage, err)))
		goto out;
	if (expect_arg && (ret = parse_expect(expect_arg, &expect, err)))
		goto out;
	if (force && (!reason || !*reason)) {
		ret = err_set(err, MLOPS_EUSAGE, "--force needs --reason TEXT");
		goto out;
	}
	git_tag = git_tag || repo->git_tags;
	if (git_tag && (!gitrepo_gto_name_ok(ref.name) ||
			!gitrepo_gto_name_ok(stage))) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "'%s#%s' cannot be written as a GTO tag: use "
			      "lower-case letters, digits and '-'", ref.name,
			      stage);
		goto out;
	}

	if ((ret = registry_begin(repo->reg, err)))
		goto out;
	in_tx = 1;
	if ((ret = registry_resolve(repo->reg, ref.name, ref.version,
				    ref.stage, &v, err)) ||
	    (ret = registry_stage_get(repo->reg, v.model, stage, &current,
				      err)))
		goto out;
	if (expect >= 0 && current != expect) {
		ret = expect_refused(stage, v.model, current, expect_arg, err);
		goto out;
	}
	if ((ret = registry_passing_validation(repo->reg, v.model, v.version,
					       &run_id, err)))
		goto out;
	if ((ret = repo_stage_requires_validation(repo, stage, &required,
						  err)))
		goto out;
	if (current != v.version && required && !run_id) {
		if (!force) {
			ret = validation_refused(&v, stage, err);
			goto out;
		}
		forced = 1;
	}
	changed = current != v.version;
	if (changed && !dry_run) {
		gitrepo_identity(repo->worktree, &identity, NULL);
		mv.model = v.model;
		mv.stage = stage;
		mv.to_version = v.version;
		mv.action = "promote";
		mv.forced = forced;
		mv.reason = reason;
		mv.validation_run_id = run_id;
		mv.git_identity = identity;
		if ((ret = registry_stage_move(repo->reg, &mv, NULL, &event_id,
					       err)))
			goto out;
		if (git_tag) {
			msg = xasprintf("Assigning stage %s to artifact %s "
					"version v0.0.%d\n\nmlops: %s\n", stage,
					v.model, v.version,
					reason ? reason : "promote");
			if ((ret = version_commit(repo, &v, commit, err)) ||
			    (ret = gitrepo_tag_promote(repo->worktree, v.model,
						       stage, commit, msg,
						       &tag_name, err)))
				goto out;
		}
		in_tx = 0;
		if ((ret = registry_commit(repo->reg, err))) {
			if (tag_name)
				gitrepo_tag_delete(repo->worktree, tag_name);
			goto out;
		}
	}

	if (ctx->json) {
		obj = cJSON_CreateObject();
		cJSON_AddNumberToObject(obj, "schema", 1);
		cJSON_AddStringToObject(obj, "model", v.model);
		cJSON_AddStringToObject(obj, "stage", stage);
		cJSON_AddNumberToObject(obj, "version", v.version);
		add_version(obj, "from_version", current);
		cJSON_AddStringToObject(obj, "action", "promote");
		cJSON_AddBoolToObject(obj, "changed", changed);
		cJSON_AddBoolToObject(obj, "dry_run", dry_run);
		cJSON_AddBoolToObject(obj, "forced", forced);
		add_version(obj, "event_id", event_id);
		add_version(obj, "validation_run_id", run_id);
		if (tag_name)
			cJSON_AddStringToObject(obj, "git_tag", tag_name);
		else
			cJSON_AddNullToObject(obj, "git_tag");
		cmd_print_json(obj);
	} else if (!ctx->quiet) {
		char was[64];

		if (current)
			snprintf(was, sizeof(was), "was %s:%d", v.model,
				 current);
		else
			snprintf(was, sizeof(was), "was unset");
		if (!changed)
			printf("%s:%d is already in %s; nothing to do\n",
			       v.model, v.version, stage);
		else if (dry_run)
			printf("would promote %s:%d to %s (%s)%s\n", v.model,
			       v.version, stage, was,
			       forced ? " [forced]" : "");
		else
			printf("promoted %s:%d to %s (%s)%s\n", v.model,
			       v.version, stage, was,
			       forced ? " [forced]" : "");
		if (tag_name)
			printf("git tag %s\n", tag_name);
	}
out:
	if (in_tx)
		registry_rollback(repo->reg);
	reg_version_release(&v);
	modelref_release(&ref);
	free(identity);
	free(tag_name);
	free(msg);
	return ret;
}
