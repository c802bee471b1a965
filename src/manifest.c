/*
 * The bundle manifest: written by export, read by import, one format
 * in one file (schema 1).
 *
 * The writer takes typed rows (the version, its loaded artefact, its
 * tags, the model's ledger) and prints them in a fixed member order with
 * cJSON's pretty printer, so the same version always gives the same
 * bytes; nothing depends on the clock or the host.  The reader checks
 * only what import relies on, each failure with its own message, and
 * leaves the rest of the document (metrics, lineage, ledger) to people
 * and other tools.
 *
 * Deliberately absent: the archive (bundle.c), the registry reads that
 * gather the rows and the checks of the artefact against the manifest
 * (release.c).
 */

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "manifest.h"
#include "model.h"
#include "modelref.h"
#include "registry.h"
#include "xalloc.h"

/* A string member, or null when `s` is NULL. */
static void json_str(cJSON *obj, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(obj, key, s);
	else
		cJSON_AddNullToObject(obj, key);
}

/* A positive id as a number, or null when <= 0. */
static void json_id(cJSON *obj, const char *key, long long v)
{
	if (v > 0)
		cJSON_AddNumberToObject(obj, key, (double)v);
	else
		cJSON_AddNullToObject(obj, key);
}

void manifest_event_json(cJSON *obj, const struct reg_event *e)
{
	cJSON_AddNumberToObject(obj, "id", (double)e->id);
	cJSON_AddStringToObject(obj, "at", e->at);
	cJSON_AddStringToObject(obj, "model", e->model);
	cJSON_AddStringToObject(obj, "stage", e->stage);
	json_id(obj, "from_version", e->from_version);
	cJSON_AddNumberToObject(obj, "to_version", e->to_version);
	cJSON_AddStringToObject(obj, "action", e->action);
	cJSON_AddBoolToObject(obj, "forced", e->forced);
	cJSON_AddStringToObject(obj, "actor", e->actor);
	cJSON_AddStringToObject(obj, "host", e->host);
	json_str(obj, "git_identity", e->git_identity);
	json_str(obj, "reason", e->reason);
	json_id(obj, "validation_run_id", e->validation_run_id);
}

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
	json_str(obj, "data_path", m->data_path);
	cJSON_AddNumberToObject(obj, "rows", (double)m->n_rows);
	json_str(obj, "git_commit", *m->git_commit ? m->git_commit : NULL);
	if (m->git_dirty < 0)		/* unknown */
		cJSON_AddNullToObject(obj, "git_dirty");
	else
		cJSON_AddBoolToObject(obj, "git_dirty", m->git_dirty);
	json_str(obj, "tool_version", m->tool_version);
	json_str(obj, "trained_at", m->created_at);
	json_id(obj, "run_id", v->run_id);
	return obj;
}

/* "KEY=VALUE" strings as an object, first key first. */
static cJSON *tags_json(char *const *tags, size_t n_tags)
{
	cJSON *o = cJSON_CreateObject();
	size_t i;

	for (i = 0; i < n_tags; i++) {
		const char *eq = strchr(tags[i], '=');
		char *key = xstrndup(tags[i], (size_t)(eq - tags[i]));

		cJSON_AddStringToObject(o, key, eq + 1);
		free(key);
	}
	return o;
}

int manifest_build(const struct reg_version *v, const struct model *m,
		   char *const *tags, size_t n_tags,
		   const struct reg_event *ev, size_t n_ev, char **out,
		   struct mlops_err *err)
{
	cJSON *obj = cJSON_CreateObject(), *o, *arr;
	size_t i;
	char *s;

	*out = NULL;
	cJSON_AddNumberToObject(obj, "schema", 1);
	cJSON_AddStringToObject(obj, "format", "mlops-bundle");
	cJSON_AddStringToObject(obj, "model", v->model);
	cJSON_AddNumberToObject(obj, "version", v->version);
	o = cJSON_AddObjectToObject(obj, "artifact");
	cJSON_AddStringToObject(o, "path", MANIFEST_ARTIFACT_ENTRY);
	cJSON_AddStringToObject(o, "sha256", v->sha256);
	cJSON_AddNumberToObject(o, "size", (double)v->size);
	json_str(obj, "description", v->description);
	cJSON_AddStringToObject(obj, "registered_at", v->created_at);
	cJSON_AddStringToObject(obj, "registered_by", v->created_by);
	cJSON_AddItemToObject(obj, "tags", tags_json(tags, n_tags));
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
	for (i = 0; i < n_ev; i++) {
		if (ev[i].to_version != v->version &&
		    ev[i].from_version != v->version)
			continue;
		o = cJSON_CreateObject();
		manifest_event_json(o, &ev[i]);
		cJSON_AddItemToArray(arr, o);
	}
	s = cJSON_Print(obj);
	cJSON_Delete(obj);
	if (!s)
		return err_set(err, MLOPS_EINTERNAL,
			       "cannot write the manifest");
	*out = xasprintf("%s\n", s);
	cJSON_free(s);
	return 0;
}

void manifest_release(struct manifest *mf)
{
	if (!mf)
		return;
	cJSON_Delete(mf->json);
	free(mf->tags);
	memset(mf, 0, sizeof(*mf));
}

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!s[i] || !strchr("0123456789abcdef", s[i]))
			return 0;
	return s[64] == '\0';
}

static int manifest_bad(const char *path, const char *what,
			struct mlops_err *err)
{
	return err_set(err, MLOPS_ECORRUPT, "bundle '%s': bad manifest: %s",
		       path, what);
}

/* "tags": absent, null, or an object of non-empty keys and strings. */
static int parse_tags(const char *path, const cJSON *item,
		      struct manifest *mf, struct mlops_err *err)
{
	const cJSON *t;
	size_t n = 0;

	if (!item || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsObject(item))
		return manifest_bad(path, "\"tags\" is not an object", err);
	cJSON_ArrayForEach(t, item) {
		if (!cJSON_IsString(t) || !t->string || !*t->string)
			return manifest_bad(path, "a tag is not a string",
					    err);
		n++;
	}
	mf->tags = xcalloc(n ? n : 1, sizeof(*mf->tags));
	cJSON_ArrayForEach(t, item) {
		mf->tags[mf->n_tags].key = t->string;
		mf->tags[mf->n_tags++].value = t->valuestring;
	}
	return 0;
}

/* The artefact's entry: its path, hash and size. */
static int parse_artifact(const char *path, const cJSON *art,
			  struct manifest *mf, struct mlops_err *err)
{
	const cJSON *item;

	item = cJSON_GetObjectItemCaseSensitive(art, "path");
	if (!cJSON_IsString(item) ||
	    strcmp(item->valuestring, MANIFEST_ARTIFACT_ENTRY))
		return manifest_bad(path, "\"artifact.path\" is not "
				    "\"artifact.json\"", err);
	item = cJSON_GetObjectItemCaseSensitive(art, "sha256");
	if (!cJSON_IsString(item) || !is_hex64(item->valuestring))
		return manifest_bad(path, "\"artifact.sha256\" is not a "
				    "SHA-256", err);
	mf->sha256 = item->valuestring;
	item = cJSON_GetObjectItemCaseSensitive(art, "size");
	if (!cJSON_IsNumber(item) || item->valuedouble < 0)
		return manifest_bad(path, "\"artifact.size\" is not a size",
				    err);
	mf->size = item->valuedouble;
	return 0;
}

static int parse(const char *path, const cJSON *j, struct manifest *mf,
		 struct mlops_err *err)
{
	const cJSON *item;

	item = cJSON_GetObjectItemCaseSensitive(j, "format");
	if (!cJSON_IsString(item) || strcmp(item->valuestring, "mlops-bundle"))
		return manifest_bad(path, "\"format\" is not \"mlops-bundle\"",
				    err);
	item = cJSON_GetObjectItemCaseSensitive(j, "schema");
	if (!cJSON_IsNumber(item))
		return manifest_bad(path, "no \"schema\"", err);
	if (item->valuedouble != 1)
		return err_set(err, MLOPS_ECORRUPT,
			       "bundle '%s' has manifest schema %g; this mlops "
			       "reads schema 1", path, item->valuedouble);
	item = cJSON_GetObjectItemCaseSensitive(j, "model");
	if (!cJSON_IsString(item) || !modelref_valid_name(item->valuestring))
		return manifest_bad(path, "\"model\" is not a model name", err);
	mf->model = item->valuestring;
	item = cJSON_GetObjectItemCaseSensitive(j, "version");
	if (!cJSON_IsNumber(item) || item->valuedouble < 1 ||
	    item->valuedouble > 2147483647.0 ||
	    item->valuedouble != (int)item->valuedouble)
		return manifest_bad(path, "\"version\" is not a version", err);
	mf->version = (int)item->valuedouble;
	if (parse_artifact(path, cJSON_GetObjectItemCaseSensitive(j,
			   "artifact"), mf, err))
		return MLOPS_ECORRUPT;
	item = cJSON_GetObjectItemCaseSensitive(j, "description");
	if (cJSON_IsString(item))
		mf->description = item->valuestring;
	return parse_tags(path, cJSON_GetObjectItemCaseSensitive(j, "tags"),
			  mf, err);
}

int manifest_parse(const char *path, const char *bytes, size_t len,
		   struct manifest *mf, struct mlops_err *err)
{
	int ret;

	memset(mf, 0, sizeof(*mf));
	if (!(mf->json = cJSON_ParseWithLength(bytes, len)))
		return manifest_bad(path, "not JSON", err);
	if ((ret = parse(path, mf->json, mf, err)))
		manifest_release(mf);
	return ret;
}
