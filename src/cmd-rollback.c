/*
 * mlops rollback NAME@STAGE [--to N]: move a stage back to the version it
 * held before, in one step.
 *
 * "Before" is the ledger's answer, not version N-1: the ledger of that
 * stage is a stack (registry_rollback_target()), so a second
 * rollback walks further back, and --to N must name a holder still on it.
 * Rollback is the emergency path and so skips the validation policy; it
 * still records who, when and why, with the validation run of the target
 * if there is one.  With --git-tag (or git.tags) it writes the GTO tag
 * NAME#STAGE#K on the target's commit, which is how GTO sees a stage move.
 */

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

static const char *const rollback_synopsis[] = {
	"mlops rollback NAME@STAGE [--to N] [--reason TEXT] [--dry-run] "
	"[--git-tag]",
	NULL
};

static const struct opt_usage rollback_usage = {
	rollback_synopsis,
	"  mlops rollback churn@production\n"
	"  mlops rollback churn@production --reason \"AUC dropped\"\n"
	"  mlops rollback churn@production --to 3\n",
	"Move a stage back to the version it held before."
};

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

int cmd_rollback(int argc, char **argv, struct cmd_ctx *ctx,
		 struct mlops_err *err)
{
	const char *reason = NULL;
	long to = 0;
	int dry_run = 0, git_tag = 0;
	const struct opt opts[] = {
		OPT_INT(0, "to", &to, "N",
			"go back to version N, an earlier holder of the stage"),
		OPT_STRING(0, "reason", &reason, "TEXT",
			   "why, for the ledger"),
		OPT_BOOL(0, "dry-run", &dry_run,
			 "check everything, change nothing"),
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
	int ret, n, current = 0, target = 0, in_tx = 0;
	cJSON *obj;

	if ((ret = opt_parse(argc, argv, opts, &rollback_usage, &n, err)))
		goto out;
	if ((ret = cmd_operands(n, 1, rollback_synopsis[0], err)))
		goto out;
	if ((ret = modelref_parse(argv[0], &ref, err)))
		goto out;
	if (!ref.name || !ref.stage) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "'%s' is not a stage; expected NAME@STAGE",
			      argv[0]);
		goto out;
	}
	if (to < 0 || to > 2147483647L) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "option '--to' expects a version number, got %ld",
			      to);
		goto out;
	}
	git_tag = git_tag || repo->git_tags;
	if (git_tag && (!gitrepo_gto_name_ok(ref.name) ||
			!gitrepo_gto_name_ok(ref.stage))) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "'%s#%s' cannot be written as a GTO tag: use "
			      "lower-case letters, digits and '-'", ref.name,
			      ref.stage);
		goto out;
	}

	if ((ret = registry_begin(repo->reg, err)))
		goto out;
	in_tx = 1;
	if ((ret = registry_stage_get(repo->reg, ref.name, ref.stage, &current,
				      err)) ||
	    (ret = registry_rollback_target(repo->reg, ref.name, ref.stage,
					    (int)to, &target, err)) ||
	    (ret = registry_resolve(repo->reg, ref.name, target, NULL, &v,
				    err)) ||
	    (ret = registry_passing_validation(repo->reg, ref.name, target,
					       &run_id, err)))
		goto out;
	if (!dry_run) {
		gitrepo_identity(repo->worktree, &identity, NULL);
		mv.model = ref.name;
		mv.stage = ref.stage;
		mv.to_version = target;
		mv.action = "rollback";
		mv.forced = 0;
		mv.reason = reason;
		mv.validation_run_id = run_id;
		mv.git_identity = identity;
		if ((ret = registry_stage_move(repo->reg, &mv, NULL, &event_id,
					       err)))
			goto out;
		if (git_tag) {
			msg = xasprintf("Assigning stage %s to artifact %s "
					"version v0.0.%d\n\n"
					"mlops: rollback%s%s\n",
					ref.stage, ref.name, target,
					reason ? ": " : "",
					reason ? reason : "");
			if ((ret = version_commit(repo, &v, commit, err)) ||
			    (ret = gitrepo_tag_promote(repo->worktree, ref.name,
						       ref.stage, commit, msg,
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
		cJSON_AddStringToObject(obj, "model", ref.name);
		cJSON_AddStringToObject(obj, "stage", ref.stage);
		cJSON_AddNumberToObject(obj, "version", target);
		cJSON_AddNumberToObject(obj, "from_version", current);
		cJSON_AddStringToObject(obj, "action", "rollback");
		cJSON_AddBoolToObject(obj, "dry_run", dry_run);
		if (event_id)
			cJSON_AddNumberToObject(obj, "event_id",
						(double)event_id);
		else
			cJSON_AddNullToObject(obj, "event_id");
		if (tag_name)
			cJSON_AddStringToObject(obj, "git_tag", tag_name);
		else
			cJSON_AddNullToObject(obj, "git_tag");
		cmd_print_json(obj);
	} else if (!ctx->quiet) {
		printf("%s %s@%s from %d to %d\n",
		       dry_run ? "would roll back" : "rolled back", ref.name,
		       ref.stage, current, target);
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
