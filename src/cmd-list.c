/*
 * mlops list [NAME]: the registered versions, one row each, with the
 * stages that point at them.
 *
 * Human output is a table sized to its contents; --json prints one
 * object per version (JSON Lines).  An empty registry prints nothing.
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

static const char *const list_synopsis[] = {
	"mlops list [NAME]",
	NULL
};

static const struct opt_usage list_usage = {
	list_synopsis,
	"  mlops list\n"
	"  mlops list churn\n"
	"  mlops --json list churn\n",
	"List models, their versions and the stages pointing at them."
};

/* "production, staging": the stages holding v (caller frees). */
static char *stages_of(const struct reg_version *v,
		       const struct reg_stage *stages, size_t n_stages)
{
	size_t i, len = 0;
	char *s = xstrdup(""), *t;

	for (i = 0; i < n_stages; i++) {
		if (strcmp(stages[i].model, v->model) ||
		    stages[i].version != v->version)
			continue;
		t = xasprintf("%s%s%s", s, len ? ", " : "",
				    stages[i].stage);
		free(s);
		s = t;
		len = strlen(s);
	}
	return s;
}

static int print_version_json(struct registry *reg,
			      const struct reg_version *v,
			      const struct reg_stage *stages, size_t n_stages,
			      struct mlops_err *err)
{
	cJSON *obj = cJSON_CreateObject(), *arr, *tags;
	char **kv = NULL;
	size_t i, n_kv = 0;
	int ret;

	if ((ret = registry_version_tags(reg, v->model, v->version, &kv, &n_kv,
					 err))) {
		cJSON_Delete(obj);
		return ret;
	}
	cJSON_AddNumberToObject(obj, "schema", 1);
	cJSON_AddStringToObject(obj, "model", v->model);
	cJSON_AddNumberToObject(obj, "version", v->version);
	cJSON_AddStringToObject(obj, "sha256", v->sha256);
	cJSON_AddNumberToObject(obj, "size", (double)v->size);
	cJSON_AddStringToObject(obj, "created_at", v->created_at);
	cJSON_AddStringToObject(obj, "created_by", v->created_by);
	if (v->run_id)
		cJSON_AddNumberToObject(obj, "run_id", (double)v->run_id);
	else
		cJSON_AddNullToObject(obj, "run_id");
	if (v->description)
		cJSON_AddStringToObject(obj, "description", v->description);
	else
		cJSON_AddNullToObject(obj, "description");
	arr = cJSON_AddArrayToObject(obj, "stages");
	for (i = 0; i < n_stages; i++)
		if (!strcmp(stages[i].model, v->model) &&
		    stages[i].version == v->version)
			cJSON_AddItemToArray(arr,
				cJSON_CreateString(stages[i].stage));
	tags = cJSON_AddObjectToObject(obj, "tags");
	for (i = 0; i < n_kv; i++) {
		char *eq = strchr(kv[i], '=');

		*eq = '\0';
		cJSON_AddStringToObject(tags, kv[i], eq + 1);
	}
	registry_free_strings(kv, n_kv);
	cmd_print_json(obj);
	return 0;
}

/* "2024-05-01T12:34:56.789Z" -> "2024-05-01 12:34:56" */
static void short_time(const char *iso, char out[20])
{
	snprintf(out, 20, "%s", iso);
	if (strlen(out) > 10 && out[10] == 'T')
		out[10] = ' ';
}

int cmd_list(int argc, char **argv, struct cmd_ctx *ctx,
	     struct mlops_err *err)
{
	const struct opt opts[] = {
		OPT_END()
	};
	struct registry *reg = ctx->repo ? ctx->repo->reg : NULL;
	struct reg_version *versions = NULL;
	struct reg_stage *stages = NULL;
	size_t n_versions = 0, n_stages = 0, i;
	const char *name = NULL;
	int ret, n, width = 5;

	if ((ret = opt_parse(argc, argv, opts, &list_usage, &n, err)))
		return ret;
	if (n > 1)
		return err_set(err, MLOPS_EUSAGE,
			       "too many operands; usage: %s",
			       list_synopsis[0]);
	if (n == 1) {
		name = argv[0];
		if ((ret = modelref_check_name(name, err)))
			return ret;
	}
	if ((ret = registry_list_versions(reg, name, &versions, &n_versions,
					  err)) ||
	    (ret = registry_list_stages(reg, name, &stages, &n_stages, err)))
		goto out;
	for (i = 0; i < n_versions; i++)
		if ((int)strlen(versions[i].model) > width)
			width = (int)strlen(versions[i].model);
	if (!ctx->json && n_versions)
		printf("%-*s  %7s  %-19s  %-12s  %s\n", width, "MODEL",
		       "VERSION", "CREATED", "SHA256", "STAGES");
	for (i = 0; i < n_versions; i++) {
		const struct reg_version *v = &versions[i];
		char when[20], *st;

		if (ctx->json) {
			if ((ret = print_version_json(reg, v, stages, n_stages,
						      err)))
				goto out;
			continue;
		}
		short_time(v->created_at, when);
		st = stages_of(v, stages, n_stages);
		printf("%-*s  %7d  %-19s  %.12s  %s\n", width, v->model,
		       v->version, when, v->sha256, *st ? st : "-");
		free(st);
	}
out:
	for (i = 0; i < n_versions; i++)
		reg_version_release(&versions[i]);
	free(versions);
	for (i = 0; i < n_stages; i++)
		reg_stage_release(&stages[i]);
	free(stages);
	return ret;
}
