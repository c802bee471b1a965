/*
 * mlops runs [--model NAME] [--kind KIND] [--limit N]: the recorded runs
 * (train, validate, score-batch, drift), newest first.
 *
 * The human table shows one line per run; --json prints one object per
 * run (JSON Lines) with its parameters, inputs, metrics and profile
 * embedded as JSON.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "modelref.h"
#include "opt.h"
#include "registry.h"
#include "repo.h"
#include "xalloc.h"

#define DEFAULT_LIMIT 20

static const char *const runs_synopsis[] = {
	"mlops runs [--model NAME] [--kind KIND] [--limit N]",
	NULL
};

static const struct opt_usage runs_usage = {
	runs_synopsis,
	"  mlops runs\n"
	"  mlops runs --model churn --kind validate\n"
	"  mlops --json runs --limit 0\n",
	"List recorded runs, newest first."
};

static const char *const run_kinds[] = {
	"train", "validate", "score-batch", "drift", NULL
};

/* Embed stored JSON text; text that does not parse is kept as a string. */
static void add_json(cJSON *obj, const char *key, const char *text)
{
	cJSON *v = text ? cJSON_Parse(text) : NULL;

	if (v)
		cJSON_AddItemToObject(obj, key, v);
	else if (text)
		cJSON_AddStringToObject(obj, key, text);
	else
		cJSON_AddNullToObject(obj, key);
}

static void print_run_json(const struct reg_run_row *r)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddNumberToObject(obj, "schema", 1);
	cJSON_AddNumberToObject(obj, "id", (double)r->id);
	cJSON_AddStringToObject(obj, "kind", r->kind);
	if (r->model)
		cJSON_AddStringToObject(obj, "model", r->model);
	else
		cJSON_AddNullToObject(obj, "model");
	if (r->version)
		cJSON_AddNumberToObject(obj, "version", r->version);
	else
		cJSON_AddNullToObject(obj, "version");
	cJSON_AddStringToObject(obj, "started_at", r->started_at);
	cJSON_AddNumberToObject(obj, "duration_s", r->duration_s);
	cJSON_AddNumberToObject(obj, "exit_status", r->exit_status);
	cmd_json_bool(obj, "passed", r->passed);
	add_json(obj, "params", r->params_json);
	add_json(obj, "inputs", r->inputs_json);
	add_json(obj, "metrics", r->metrics_json);
	add_json(obj, "profile", r->profile_json);
	if (r->git_commit) {
		cJSON_AddStringToObject(obj, "git_commit", r->git_commit);
		cJSON_AddBoolToObject(obj, "git_dirty", r->git_dirty > 0);
	} else {
		cJSON_AddNullToObject(obj, "git_commit");
		cJSON_AddNullToObject(obj, "git_dirty");
	}
	cmd_print_json(obj);
}

int cmd_runs(int argc, char **argv, struct cmd_ctx *ctx,
	     struct mlops_err *err)
{
	const char *model = NULL, *kind = NULL;
	long limit = DEFAULT_LIMIT;
	const struct opt opts[] = {
		OPT_STRING(0, "model", &model, "NAME",
			   "only runs of this model"),
		OPT_STRING(0, "kind", &kind, "KIND",
			   "train, validate, score-batch or drift"),
		OPT_INT(0, "limit", &limit, "N",
			"at most N runs (default 20; 0: all)"),
		OPT_END()
	};
	struct reg_run_row *runs = NULL;
	size_t n_runs = 0, i;
	const char *const *k;
	int ret, n, w_model = 5;

	if ((ret = opt_parse(argc, argv, opts, &runs_usage, &n, err)))
		return ret;
	if (n > 0)
		return err_set(err, MLOPS_EUSAGE,
			       "too many operands; usage: %s",
			       runs_synopsis[0]);
	if (model && (ret = cmd_check_name(model, err)))
		return ret;
	if (kind) {
		for (k = run_kinds; *k && strcmp(*k, kind); k++)
			;
		if (!*k)
			return err_set(err, MLOPS_EUSAGE,
				       "option '--kind' expects train, "
				       "validate, score-batch or drift, got "
				       "'%s'", kind);
	}
	if (limit < 0)
		return err_set(err, MLOPS_EUSAGE,
			       "option '--limit' must not be negative");
	if ((ret = registry_list_runs(ctx->repo->reg, model, kind, limit,
				      &runs, &n_runs, err)))
		goto out;
	for (i = 0; i < n_runs; i++)
		if (runs[i].model && (int)strlen(runs[i].model) > w_model)
			w_model = (int)strlen(runs[i].model);
	if (!ctx->json && n_runs)
		printf("%6s  %-11s  %-*s  %7s  %-19s  %9s  %4s  %-6s  %s\n",
		       "ID", "KIND", w_model, "MODEL", "VERSION", "STARTED",
		       "DURATION", "EXIT", "PASSED", "COMMIT");
	for (i = 0; i < n_runs; i++) {
		const struct reg_run_row *r = &runs[i];
		char when[20], ver[12], commit[16];

		if (ctx->json) {
			print_run_json(r);
			continue;
		}
		snprintf(when, sizeof(when), "%s", r->started_at);
		if (strlen(when) > 10 && when[10] == 'T')
			when[10] = ' ';
		if (r->version)
			snprintf(ver, sizeof(ver), "%d", r->version);
		else
			snprintf(ver, sizeof(ver), "-");
		if (r->git_commit)
			snprintf(commit, sizeof(commit), "%.8s%s",
				 r->git_commit, r->git_dirty > 0 ? "+" : "");
		else
			snprintf(commit, sizeof(commit), "-");
		printf("%6lld  %-11s  %-*s  %7s  %-19s  %8.2fs  %4d  %-6s  "
		       "%s\n", r->id, r->kind, w_model,
		       r->model ? r->model : "-", ver, when, r->duration_s,
		       r->exit_status,
		       r->passed < 0 ? "-" : r->passed ? "yes" : "no", commit);
	}
out:
	for (i = 0; i < n_runs; i++)
		reg_run_row_release(&runs[i]);
	free(runs);
	return ret;
}
