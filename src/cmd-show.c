/*
 * mlops show: what a model reference points at, and what its artefact
 * holds: task, target, features and their preprocessing, coefficients
 * count, holdout metrics, training settings and lineage.
 */

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "cmd.h"
#include "model.h"
#include "modelref.h"
#include "opt.h"
#include "repo.h"
#include "xalloc.h"

static const char *const synopsis[] = {
	"mlops show MODEL",
	NULL
};

static const struct opt_usage usage = {
	synopsis,
	"  mlops show churn@production\n"
	"  mlops show churn:3\n"
	"  mlops --json show model.json\n",
	"Show a model version and what its artefact holds."
};

static cJSON *show_json(const struct model *m, const struct modelref_info *info,
			const char *ref)
{
	cJSON *o = cJSON_CreateObject(), *a, *x;
	size_t i;

	cJSON_AddNumberToObject(o, "schema", 1);
	if (info->name) {
		cJSON_AddStringToObject(o, "model", info->name);
		cJSON_AddNumberToObject(o, "version", info->version);
	} else {
		cJSON_AddStringToObject(o, "model_file", ref);
	}
	cJSON_AddStringToObject(o, "sha256", info->sha256);
	cJSON_AddNumberToObject(o, "size", (double)info->size);
	cJSON_AddStringToObject(o, "task", model_task_name(m->task));
	cJSON_AddStringToObject(o, "algorithm", model_algo_name(m->algo));
	cJSON_AddStringToObject(o, "target", m->target);
	if (m->classes) {
		a = cJSON_CreateArray();
		for (i = 0; i < m->n_classes; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(m->classes[i]));
		cJSON_AddItemToObject(o, "classes", a);
	}
	a = cJSON_CreateArray();
	for (i = 0; i < m->n_features; i++) {
		const struct feature *f = &m->features[i];

		x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "name", f->name);
		cJSON_AddStringToObject(x, "type", f->kind == FEATURE_NUMERIC ?
					"numeric" : "categorical");
		if (f->kind == FEATURE_CATEGORICAL)
			cJSON_AddNumberToObject(x, "levels", (double)f->n_levels);
		if (f->source) {
			cJSON_AddStringToObject(x, "source", f->source);
			cJSON_AddStringToObject(x, "part", cell_part_name(f->part));
		}
		cJSON_AddNumberToObject(x, "missing_rate",
			f->profile.count + f->profile.missing ?
			(double)f->profile.missing /
			(double)(f->profile.count + f->profile.missing) : 0);
		cJSON_AddItemToArray(a, x);
	}
	cJSON_AddItemToObject(o, "features", a);
	x = cJSON_CreateObject();
	for (i = 0; i < m->n_metrics; i++)
		cJSON_AddNumberToObject(x, m->metrics[i].name, m->metrics[i].value);
	cJSON_AddItemToObject(o, "metrics", x);
	x = cJSON_CreateObject();
	cJSON_AddNumberToObject(x, "rows", (double)m->n_rows);
	cJSON_AddNumberToObject(x, "l2", m->l2);
	cJSON_AddBoolToObject(x, "converged", m->converged);
	cJSON_AddNumberToObject(x, "iterations", (double)m->n_iter);
	cJSON_AddNumberToObject(x, "holdout", m->holdout);
	cJSON_AddNumberToObject(x, "seed", (double)m->seed);
	cJSON_AddItemToObject(o, "training", x);
	x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "data", m->data_path);
	cJSON_AddStringToObject(x, "data_sha256", m->data_sha256);
	cJSON_AddStringToObject(x, "git_commit", m->git_commit);
	cmd_json_bool(x, "git_dirty", m->git_dirty);
	cJSON_AddStringToObject(x, "tool_version", m->tool_version);
	cJSON_AddStringToObject(x, "created_at", m->created_at);
	cJSON_AddItemToObject(o, "lineage", x);
	return o;
}

static void show_human(const struct model *m, const struct modelref_info *info,
		       const char *ref)
{
	size_t i;

	if (info->name)
		printf("model      %s:%d\n", info->name, info->version);
	else
		printf("file       %s\n", ref);
	printf("artefact   sha256:%s (%lld bytes)\n", info->sha256, info->size);
	printf("task       %s (%s), target '%s'\n", model_task_name(m->task),
	       model_algo_name(m->algo), m->target);
	if (m->classes) {
		printf("classes   ");
		for (i = 0; i < m->n_classes; i++)
			printf(" %s", m->classes[i]);
		printf("\n");
	}
	printf("trained    %llu rows of %s (sha256:%.12s), %s\n", m->n_rows,
	       m->data_path, m->data_sha256, m->created_at);
	printf("solver     %s in %ld iterations, l2 %g, holdout %g, seed %lu\n",
	       m->converged ? "converged" : "NOT converged", m->n_iter, m->l2,
	       m->holdout, m->seed);
	if (m->git_commit[0])
		printf("commit     %s%s\n", m->git_commit,
		       m->git_dirty > 0 ? " (dirty tree)" : "");
	printf("mlops      %s\n", m->tool_version);
	if (m->n_na_values) {
		printf("missing    also");
		for (i = 0; i < m->n_na_values; i++)
			printf(" '%s'", m->na_values[i]);
		printf("\n");
	}
	printf("\nfeatures (%zu, %zu inputs):\n", m->n_features, m->n_inputs);
	for (i = 0; i < m->n_features; i++) {
		const struct feature *f = &m->features[i];

		if (f->kind == FEATURE_NUMERIC)
			printf("  %-24s numeric      mean %-12.6g sd %-12.6g missing %llu\n",
			       f->name, f->center, f->scale,
			       (unsigned long long)f->profile.missing);
		else
			printf("  %-24s categorical  %zu level%s%-14s missing %llu\n",
			       f->name, f->n_levels, f->n_levels == 1 ? "" : "s",
			       "", (unsigned long long)f->profile.missing);
	}
	if (m->n_metrics) {
		printf("\nholdout metrics:\n");
		for (i = 0; i < m->n_metrics; i++)
			printf("  %-10s %.6f\n", m->metrics[i].name,
			       m->metrics[i].value);
	}
}

int cmd_show(int argc, char **argv, struct cmd_ctx *ctx, struct mlops_err *err)
{
	struct opt opts[] = { OPT_END() };
	struct modelref_info info = { 0 };
	struct model *m = NULL;
	int n_args, ret;

	if ((ret = opt_parse(argc, argv, opts, &usage, &n_args, err)))
		return ret;
	if (n_args != 1)
		return err_set(err, MLOPS_EUSAGE,
			       "expected one MODEL (see 'mlops show --help')");
	if ((ret = modelref_load(ctx->repo, argv[0], &m, &info, err)))
		return ret;
	if (ctx->json) {
		cJSON *o = show_json(m, &info, argv[0]);
		cmd_print_json(o);
	} else {
		show_human(m, &info, argv[0]);
	}
	model_free(m);
	modelref_info_release(&info);
	return 0;
}
