/*
 * mlops runs [--model NAME] [--kind KIND] [--limit N]: the recorded runs
 * (train, validate, score-batch, drift), newest first.
 * mlops runs --output FILE: what produced FILE, link by link
 * (lineage_trace()).
 *
 * The human table shows one line per run; --json prints one object per
 * run (JSON Lines) with its parameters, inputs, outputs, metrics and
 * profile embedded as JSON.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "lineage.h"
#include "modelref.h"
#include "opt.h"
#include "registry.h"
#include "repo.h"
#include "xalloc.h"

#define DEFAULT_LIMIT 20

static const char *const runs_synopsis[] = {
	"mlops runs [--model NAME] [--kind KIND] [--limit N]",
	"mlops runs --output FILE",
	NULL
};

static const struct opt_usage runs_usage = {
	runs_synopsis,
	"  mlops runs\n"
	"  mlops runs --model churn --kind validate\n"
	"  mlops --json runs --limit 0\n"
	"  mlops runs --output scores.csv\n",
	"List recorded runs, newest first, or trace what produced a file."
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

static void add_sha(cJSON *obj, const char *key, const char *sha)
{
	if (sha && *sha)
		cJSON_AddStringToObject(obj, key, sha);
	else
		cJSON_AddNullToObject(obj, key);
}

/* A run as one JSON object, as `runs --json` prints it. */
static cJSON *run_json(const struct reg_run_row *r)
{
	cJSON *obj = cJSON_CreateObject(), *outs, *o;
	size_t i;

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
	add_sha(obj, "artifact_sha256", r->artifact_sha256);
	cJSON_AddStringToObject(obj, "started_at", r->started_at);
	cJSON_AddNumberToObject(obj, "duration_s", r->duration_s);
	cJSON_AddNumberToObject(obj, "exit_status", r->exit_status);
	cmd_json_bool(obj, "passed", r->passed);
	add_json(obj, "params", r->params_json);
	add_json(obj, "inputs", r->inputs_json);
	outs = cJSON_AddArrayToObject(obj, "outputs");
	for (i = 0; i < r->n_outputs; i++) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "role", r->outputs[i].role);
		cJSON_AddStringToObject(o, "path", r->outputs[i].path);
		cJSON_AddStringToObject(o, "sha256", r->outputs[i].sha256);
		if (r->outputs[i].rows >= 0)
			cJSON_AddNumberToObject(o, "rows",
						(double)r->outputs[i].rows);
		cJSON_AddItemToArray(outs, o);
	}
	add_json(obj, "metrics", r->metrics_json);
	add_json(obj, "profile", r->profile_json);
	if (r->git_commit) {
		cJSON_AddStringToObject(obj, "git_commit", r->git_commit);
		cJSON_AddBoolToObject(obj, "git_dirty", r->git_dirty > 0);
	} else {
		cJSON_AddNullToObject(obj, "git_commit");
		cJSON_AddNullToObject(obj, "git_dirty");
	}
	return obj;
}

/* The training data of a run: its inputs of role "data" (or no role). */
static cJSON *data_inputs(const struct reg_run_row *r)
{
	cJSON *in = r->inputs_json ? cJSON_Parse(r->inputs_json) : NULL;
	cJSON *out = cJSON_CreateArray(), *o, *role;

	cJSON_ArrayForEach(o, in) {
		role = cJSON_GetObjectItemCaseSensitive(o, "role");
		if (!role || (cJSON_IsString(role) &&
			      !strcmp(role->valuestring, "data")))
			cJSON_AddItemToArray(out, cJSON_Duplicate(o, 1));
	}
	cJSON_Delete(in);
	return out;
}

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void print_when(const char *label, const struct reg_run_row *r,
		       const char *extra)
{
	char when[20];

	snprintf(when, sizeof(when), "%s", r->started_at);
	if (strlen(when) > 10 && when[10] == 'T')
		when[10] = ' ';
	printf("%-13s %lld (%s%s, %s)\n", label, r->id, r->kind, extra, when);
}

/* runs --output FILE: the chain from the file back to code and data. */
static int trace(struct cmd_ctx *ctx, const char *path,
		 struct mlops_err *err)
{
	struct lineage l;
	const struct reg_run_row *t;
	cJSON *obj, *data, *d;
	char extra[64];
	int ret;

	if ((ret = lineage_trace(ctx->repo, path, &l, err)))
		return ret;
	t = l.have_training ? &l.training : NULL;
	data = t ? data_inputs(t) : cJSON_CreateArray();
	if (ctx->json) {
		obj = cJSON_CreateObject();
		cJSON_AddNumberToObject(obj, "schema", 1);
		cJSON_AddStringToObject(obj, "file", path);
		cJSON_AddStringToObject(obj, "sha256", l.sha256);
		cJSON_AddStringToObject(obj, "role", l.role);
		cJSON_AddItemToObject(obj, "run", run_json(&l.run));
		if (l.model) {
			cJSON_AddStringToObject(obj, "model", l.model);
			cJSON_AddNumberToObject(obj, "version", l.version);
		} else {
			cJSON_AddNullToObject(obj, "model");
			cJSON_AddNullToObject(obj, "version");
		}
		add_sha(obj, "artifact_sha256", l.artifact_sha256);
		if (t)
			cJSON_AddItemToObject(obj, "training_run", run_json(t));
		else
			cJSON_AddNullToObject(obj, "training_run");
		if (t && t->git_commit) {
			cJSON_AddStringToObject(obj, "git_commit",
						t->git_commit);
			cJSON_AddBoolToObject(obj, "git_dirty",
					      t->git_dirty > 0);
		} else {
			cJSON_AddNullToObject(obj, "git_commit");
			cJSON_AddNullToObject(obj, "git_dirty");
		}
		cJSON_AddItemToObject(obj, "data", data);
		data = NULL;
		cmd_print_json(obj);
		goto out;
	}
	printf("%-13s %s\n", "file", path);
	printf("%-13s %s\n", "sha256", l.sha256);
	snprintf(extra, sizeof(extra), ", wrote it as %s", l.role);
	print_when("run", &l.run, extra);
	if (l.model)
		printf("%-13s %s:%d\n", "model", l.model, l.version);
	else
		printf("%-13s - (%s)\n", "model", l.artifact_sha256[0] ?
		       "artefact not registered" : "no artefact recorded");
	printf("%-13s %s\n", "artefact",
	       l.artifact_sha256[0] ? l.artifact_sha256 : "-");
	if (t)
		print_when("training run", t, "");
	else
		printf("%-13s - (no recorded run made this artefact)\n",
		       "training run");
	if (t && t->git_commit)
		printf("%-13s %s%s\n", "commit", t->git_commit,
		       t->git_dirty > 0 ? " (dirty)" : "");
	else
		printf("%-13s -\n", "commit");
	if (!cJSON_GetArraySize(data))
		printf("%-13s -\n", "data");
	cJSON_ArrayForEach(d, data) {
		const cJSON *rows = cJSON_GetObjectItemCaseSensitive(d, "rows");
		const char *sha = json_str(d, "sha256");

		printf("%-13s %s sha256 %s", "data",
		       json_str(d, "path") ? json_str(d, "path") : "-",
		       sha ? sha : "-");
		if (cJSON_IsNumber(rows))
			printf(" (%.0f rows)", rows->valuedouble);
		printf("\n");
	}
out:
	cJSON_Delete(data);
	lineage_release(&l);
	return 0;
}

int cmd_runs(int argc, char **argv, struct cmd_ctx *ctx,
	     struct mlops_err *err)
{
	const char *model = NULL, *kind = NULL, *output = NULL;
	long limit = DEFAULT_LIMIT;
	const struct opt opts[] = {
		OPT_STRING(0, "model", &model, "NAME",
			   "only runs of this model"),
		OPT_STRING(0, "kind", &kind, "KIND",
			   "train, validate, score-batch or drift"),
		OPT_INT(0, "limit", &limit, "N",
			"at most N runs (default 20; 0: all)"),
		OPT_STRING(0, "output", &output, "FILE",
			   "trace what produced FILE: run, model version, "
			   "training run, commit, data"),
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
	if (output) {
		if (model || kind || limit != DEFAULT_LIMIT)
			return err_set(err, MLOPS_EUSAGE,
				       "--output cannot be combined with "
				       "--model, --kind or --limit");
		return trace(ctx, output, err);
	}
	if (model && (ret = modelref_check_name(model, err)))
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
			cmd_print_json(run_json(r));
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
