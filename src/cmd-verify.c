/*
 * mlops verify: re-hash every file of the artefact store, check that
 * every version's artefact is there, and run the database's own checks
 * (PRAGMA integrity_check, foreign_key_check).  The checks are the
 * verify job's (verify_repo()); this file prints its report.
 *
 * The report goes to stdout, one line per problem (with --json, one
 * object holding them all); the command then fails once with
 * MLOPS_ECORRUPT "N problems found", so stderr carries a single line
 * and the exit status is 1.  Temporary files (".tmp-*", left by a crash
 * before a rename) are skipped: they are never referenced.
 */

#include <stdio.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "opt.h"
#include "verify.h"

static const char *const verify_synopsis[] = {
	"mlops verify",
	NULL
};

static const struct opt_usage verify_usage = {
	verify_synopsis,
	"  mlops verify\n"
	"  mlops -C /srv/churn verify || alert \"registry damaged\"\n",
	"Re-hash every artefact and check the registry database."
};

static void print_json(const struct verify_report *rep)
{
	cJSON *obj = cJSON_CreateObject(), *arr;
	size_t i;
	char *s;

	cJSON_AddNumberToObject(obj, "schema", 1);
	cJSON_AddBoolToObject(obj, "ok", rep->n_problems == 0);
	cJSON_AddNumberToObject(obj, "artifacts", (double)rep->artifacts);
	cJSON_AddNumberToObject(obj, "versions", (double)rep->versions);
	arr = cJSON_AddArrayToObject(obj, "problems");
	for (i = 0; i < rep->n_problems; i++)
		cJSON_AddItemToArray(arr,
			cJSON_CreateString(rep->problems[i].message));
	if ((s = cJSON_PrintUnformatted(obj)))
		puts(s);
	cJSON_free(s);
	cJSON_Delete(obj);
}

static void print_text(const struct verify_report *rep, int quiet)
{
	size_t i;

	for (i = 0; i < rep->n_problems; i++)
		printf("%s\n", rep->problems[i].message);
	if (!quiet && rep->n_problems == 0)
		printf("ok: %zu artefacts and %zu versions verified, "
		       "registry intact\n", rep->artifacts, rep->versions);
}

int cmd_verify(int argc, char **argv, struct cmd_ctx *ctx,
	       struct mlops_err *err)
{
	const struct opt opts[] = {
		OPT_END()
	};
	struct verify_report rep;
	int ret, n;

	if ((ret = opt_parse(argc, argv, opts, &verify_usage, &n, err)))
		return ret;
	if (n > 0)
		return err_set(err, MLOPS_EUSAGE,
			       "too many operands; usage: %s",
			       verify_synopsis[0]);
	if ((ret = verify_repo(ctx->repo, &rep, err)))
		return ret;
	if (ctx->json)
		print_json(&rep);
	else
		print_text(&rep, ctx->quiet);
	if (rep.n_problems)
		ret = err_set(err, MLOPS_ECORRUPT, "%zu problem%s found",
			      rep.n_problems, rep.n_problems == 1 ? "" : "s");
	verify_report_release(&rep);
	return ret;
}
