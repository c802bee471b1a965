/*
 * mlops rollback NAME@STAGE [--to N]: move a stage back to the version it
 * held before, in one step.
 *
 * "Before" is the ledger's answer, not version N-1: the ledger of that
 * stage is a stack (registry_rollback_target()), so a second
 * rollback walks further back, and --to N must name a holder still on it.
 * Rollback is the emergency path and so skips the validation policy; it
 * still records who, when and why, with the target's latest validation
 * run when it passed.  The transaction is release_rollback()'s.  With
 * --git-tag (or git.tags) it writes the GTO tag NAME#STAGE#K on the
 * target's commit, which is how GTO sees a stage move.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "modelref.h"
#include "opt.h"
#include "release.h"
#include "repo.h"

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
	struct release_rollback_req req = { 0 };
	struct release_result res = { 0 };
	int ret, n;
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
	req.model = ref.name;
	req.stage = ref.stage;
	req.to_version = (int)to;
	req.reason = reason;
	req.dry_run = dry_run;
	req.git_tag = git_tag ? RELEASE_GIT_TAG_YES : RELEASE_GIT_TAG_CONFIG;
	if ((ret = release_rollback(repo, &req, &res, err)))
		goto out;

	if (ctx->json) {
		obj = cJSON_CreateObject();
		cJSON_AddNumberToObject(obj, "schema", 1);
		cJSON_AddStringToObject(obj, "model", ref.name);
		cJSON_AddStringToObject(obj, "stage", ref.stage);
		cJSON_AddNumberToObject(obj, "version", res.version);
		cJSON_AddNumberToObject(obj, "from_version", res.from_version);
		cJSON_AddStringToObject(obj, "action", "rollback");
		cJSON_AddBoolToObject(obj, "dry_run", dry_run);
		cmd_json_id(obj, "event_id", res.event_id);
		cmd_json_str(obj, "git_tag", res.tag_name);
		cmd_print_json(obj);
	} else if (!ctx->quiet) {
		printf("%s %s@%s from %d to %d\n",
		       dry_run ? "would roll back" : "rolled back", ref.name,
		       ref.stage, res.from_version, res.version);
		if (res.tag_name)
			printf("git tag %s\n", res.tag_name);
	}
out:
	release_result_release(&res);
	modelref_release(&ref);
	return ret;
}
