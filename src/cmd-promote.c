/*
 * mlops promote NAME:N --to STAGE: point a stage at a version and append
 * the move to the ledger.
 *
 * The transaction and the policy are release_promote()'s: the --expect
 * compare-and-swap; the stage policy (by default a move to production
 * needs the version's latest validation to have passed with at least
 * one gate; [stage "X"] in the config can require it elsewhere, and
 * require-against a comparison with the stage's current holder), which
 * --force with a --reason overrides and the ledger records as forced;
 * and with --git-tag the GTO tag NAME#STAGE#K.  Promoting to where the
 * stage already points changes nothing and exits 0.  --dry-run makes
 * every check and then rolls back.
 *
 * A policy refusal (no qualifying validation, --expect mismatch) is "the
 * check ran and said no": MLOPS_ECHECK, exit 3.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "modelref.h"
#include "opt.h"
#include "release.h"
#include "repo.h"

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

static void print_result(const struct release_result *res,
			 const char *stage, int dry_run, int json, int quiet)
{
	cJSON *obj;
	char was[64];

	if (json) {
		obj = cJSON_CreateObject();
		cJSON_AddNumberToObject(obj, "schema", 1);
		cJSON_AddStringToObject(obj, "model", res->model);
		cJSON_AddStringToObject(obj, "stage", stage);
		cJSON_AddNumberToObject(obj, "version", res->version);
		cmd_json_id(obj, "from_version", res->from_version);
		cJSON_AddStringToObject(obj, "action", "promote");
		cJSON_AddBoolToObject(obj, "changed", res->changed);
		cJSON_AddBoolToObject(obj, "dry_run", dry_run);
		cJSON_AddBoolToObject(obj, "forced", res->forced);
		cmd_json_id(obj, "event_id", res->event_id);
		cmd_json_id(obj, "validation_run_id", res->validation_run_id);
		cmd_json_str(obj, "git_tag", res->tag_name);
		cmd_print_json(obj);
		return;
	}
	if (quiet)
		return;
	if (res->from_version)
		snprintf(was, sizeof(was), "was %s:%d", res->model,
			 res->from_version);
	else
		snprintf(was, sizeof(was), "was unset");
	if (!res->changed)
		printf("%s:%d is already in %s; nothing to do\n", res->model,
		       res->version, stage);
	else
		printf("%s %s:%d to %s (%s)%s\n",
		       dry_run ? "would promote" : "promoted", res->model,
		       res->version, stage, was,
		       res->forced ? " [forced]" : "");
	if (res->tag_name)
		printf("git tag %s\n", res->tag_name);
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
	struct modelref ref = { NULL, 0, NULL, NULL };
	struct release_promote_req req = { 0 };
	struct release_result res = { 0 };
	int ret, n, expect = -1;

	if ((ret = opt_parse(argc, argv, opts, &promote_usage, &n, err)) ||
	    (ret = cmd_operands(n, 1, promote_synopsis[0], err)))
		goto out;
	if (!stage) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "missing --to STAGE; usage: %s",
			      promote_synopsis[0]);
		goto out;
	}
	if ((ret = parse_ref(argv[0], &ref, err)) ||
	    (ret = check_stage_name(stage, err)) ||
	    (expect_arg && (ret = parse_expect(expect_arg, &expect, err))))
		goto out;
	if (force && (!reason || !*reason)) {
		ret = err_set(err, MLOPS_EUSAGE, "--force needs --reason TEXT");
		goto out;
	}
	req.model = ref.name;
	req.version = ref.version;
	req.via_stage = ref.stage;
	req.stage = stage;
	req.reason = reason;
	req.expect = expect;
	req.expect_arg = expect_arg;
	req.force = force;
	req.dry_run = dry_run;
	req.git_tag = git_tag ? RELEASE_GIT_TAG_YES : RELEASE_GIT_TAG_CONFIG;
	if (!(ret = release_promote(ctx->repo, &req, &res, err)))
		print_result(&res, stage, dry_run, ctx->json, ctx->quiet);
out:
	release_result_release(&res);
	modelref_release(&ref);
	return ret;
}
