/*
 * mlops export MODEL -o FILE.tar.gz: package one model version for
 * another registry.
 *
 * The bundle holds the artefact bytes exactly as stored
 * ("artifact.json") and a manifest ("manifest.json": the artefact's
 * hash and size, the version's description and tags, the schema, the
 * holdout metrics, the lineage and the ledger rows that moved a stage
 * to or from this version).  The artefact's hash is checked as it is
 * read.  Nothing in the manifest depends on when or where the export
 * runs, and bundle_write() fixes every archive header field, so the
 * same version exports to the same bytes.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bundle.h"
#include "cmd.h"
#include "model.h"
#include "modelref.h"
#include "opt.h"
#include "registry.h"
#include "repo.h"
#include "xalloc.h"

static const char *const export_synopsis[] = {
	"mlops export MODEL -o FILE",
	NULL
};

static const struct opt_usage export_usage = {
	export_synopsis,
	"  mlops export churn@production -o churn.tar.gz\n"
	"  mlops export churn:3 -o - | ssh prod mlops import -\n",
	"Write a model version and its manifest to a tar.gz bundle."
};

static cJSON *schema_json(const struct model *m)
{
	cJSON *arr = cJSON_CreateArray(), *f;
	size_t i;

	for (i = 0; i < m->n_features; i++) {
		f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "name", m->features[i].name);
		cJSON_AddStringToObject(f, "type",
			m->features[i].kind == FEATURE_NUMERIC ?
			"numeric" : "categorical");
		cJSON_AddItemToArray(arr, f);
	}
	return arr;
}

static cJSON *lineage_json(const struct model *m,
			   const struct reg_version *v)
{
	cJSON *obj = cJSON_CreateObject();

	cJSON_AddStringToObject(obj, "data_sha256", m->data_sha256);
	cmd_json_str(obj, "data_path", m->data_path);
	cJSON_AddNumberToObject(obj, "rows", (double)m->n_rows);
	cmd_json_str(obj, "git_commit", *m->git_commit ? m->git_commit : NULL);
	cmd_json_bool(obj, "git_dirty", m->git_dirty);
	cmd_json_str(obj, "tool_version", m->tool_version);
	cmd_json_str(obj, "trained_at", m->created_at);
	cmd_json_id(obj, "run_id", v->run_id);
	return obj;
}

static cJSON *event_json(const struct reg_event *e)
{
	cJSON *obj = cJSON_CreateObject();

	cmd_json_event(obj, e);
	return obj;
}
/* The manifest of version v, whose artefact `m` has been loaded. */
static int build_manifest(struct registry *reg, const struct reg_version *v,
			  const struct model *m, char **out,
			  struct mlops_err *err)
{
	cJSON *obj = cJSON_CreateObject(), *o, *arr;
	struct reg_event *ev = NULL;
	char **tags = NULL, *s;
	size_t n_tags = 0, n_ev = 0, i;
	int ret;

	if ((ret = registry_version_tags(reg, v->model, v->version, &tags,
					 &n_tags, err)) ||
	    (ret = registry_history(reg, v->model, NULL, 0, &ev, &n_ev, err)))
		goto out;
	cJSON_AddNumberToObject(obj, "schema", 1);
	cJSON_AddStringToObject(obj, "format", "mlops-bundle");
	cJSON_AddStringToObject(obj, "model", v->model);
	cJSON_AddNumberToObject(obj, "version", v->version);
	o = cJSON_AddObjectToObject(obj, "artifact");
	cJSON_AddStringToObject(o, "path", "artifact.json");
	cJSON_AddStringToObject(o, "sha256", v->sha256);
	cJSON_AddNumberToObject(o, "size", (double)v->size);
	cmd_json_str(obj, "description", v->description);
	cJSON_AddStringToObject(obj, "registered_at", v->created_at);
	cJSON_AddStringToObject(obj, "registered_by", v->created_by);
	o = cJSON_AddObjectToObject(obj, "tags");
	for (i = 0; i < n_tags; i++) {
		char *eq = strchr(tags[i], '=');

		*eq = '\0';
		cJSON_AddStringToObject(o, tags[i], eq + 1);
	}
	cJSON_AddStringToObject(obj, "task", model_task_name(m->task));
	cJSON_AddStringToObject(obj, "algorithm", model_algo_name(m->algo));
	cJSON_AddStringToObject(obj, "target", m->target);
	cJSON_AddItemToObject(obj, "features", schema_json(m));
	o = cJSON_AddObjectToObject(obj, "metrics");
	for (i = 0; i < m->n_metrics; i++)
		cJSON_AddNumberToObject(o, m->metrics[i].name,
					m->metrics[i].value);
	cJSON_AddItemToObject(obj, "lineage", lineage_json(m, v));
	arr = cJSON_AddArrayToObject(obj, "ledger");
	for (i = 0; i < n_ev; i++)
		if (ev[i].to_version == v->version ||
		    ev[i].from_version == v->version)
			cJSON_AddItemToArray(arr, event_json(&ev[i]));
	if (!(s = cJSON_Print(obj))) {
		ret = err_set(err, MLOPS_EINTERNAL,
			      "cannot write the manifest");
		goto out;
	}
	*out = xasprintf("%s\n", s);
	cJSON_free(s);
out:
	cJSON_Delete(obj);
	registry_free_strings(tags, n_tags);
	for (i = 0; i < n_ev; i++)
		reg_event_release(&ev[i]);
	free(ev);
	return ret;
}

int cmd_export(int argc, char **argv, struct cmd_ctx *ctx,
	       struct mlops_err *err)
{
	const char *output = NULL;
	const struct opt opts[] = {
		OPT_STRING('o', "output", &output, "FILE",
			   "the bundle to write ('-': stdout)"),
		OPT_END()
	};
	struct repo *repo = ctx->repo;
	struct modelref ref = { NULL, 0, NULL, NULL };
	struct reg_version v = { 0 };
	struct bundle_file files[2];
	struct model *m = NULL;
	char *bytes = NULL, *manifest = NULL, *s;
	size_t len = 0;
	int ret, n;
	cJSON *obj;

	if ((ret = opt_parse(argc, argv, opts, &export_usage, &n, err)))
		goto out;
	if ((ret = cmd_operands(n, 1, export_synopsis[0], err)))
		goto out;
	if (!output) {
		ret = err_set(err, MLOPS_EUSAGE, "missing -o FILE; usage: %s",
			      export_synopsis[0]);
		goto out;
	}
	if ((ret = modelref_parse(argv[0], &ref, err)))
		goto out;
	if (!ref.name) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "'%s' is not a registered model; expected NAME, "
			      "NAME:N or NAME@STAGE", argv[0]);
		goto out;
	}
	if ((ret = registry_resolve(repo->reg, ref.name, ref.version,
				    ref.stage, &v, err)) ||
	    (ret = repo_read_artifact(repo, v.sha256, &bytes, &len, err)) ||
	    (ret = model_from_bytes(bytes, len, v.sha256, &m, err)) ||
	    (ret = build_manifest(repo->reg, &v, m, &manifest, err)))
		goto out;
	files[0].name = "artifact.json";
	files[0].bytes = bytes;
	files[0].len = len;
	files[1].name = "manifest.json";
	files[1].bytes = manifest;
	files[1].len = strlen(manifest);
	if ((ret = bundle_write(output, files, 2, err)))
		goto out;
	if (!strcmp(output, "-") || ctx->quiet)
		goto out;
	if (ctx->json) {
		obj = cJSON_CreateObject();
		cJSON_AddNumberToObject(obj, "schema", 1);
		cJSON_AddStringToObject(obj, "model", v.model);
		cJSON_AddNumberToObject(obj, "version", v.version);
		cJSON_AddStringToObject(obj, "sha256", v.sha256);
		cJSON_AddStringToObject(obj, "bundle", output);
		if ((s = cJSON_PrintUnformatted(obj)))
			puts(s);
		cJSON_free(s);
		cJSON_Delete(obj);
	} else {
		printf("exported %s:%d to %s (sha256:%.12s\xe2\x80\xa6)\n",
		       v.model, v.version, output, v.sha256);
	}
out:
	model_free(m);
	free(bytes);
	free(manifest);
	reg_version_release(&v);
	modelref_release(&ref);
	return ret;
}
