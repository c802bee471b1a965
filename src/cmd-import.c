/*
 * mlops import BUNDLE [--as NAME]: register the artefact of a bundle
 * written by `mlops export`, so that dev, staging and production
 * registries carry the identical bytes.
 *
 * Every check happens before anything is written: the archive is read
 * into memory by bundle_read(), which refuses absolute paths, "..",
 * links, unexpected entries and truncated streams without extracting
 * anything; the manifest must be ours; the artefact must hash to the
 * manifest's SHA-256 and size and pass model_from_bytes() (its own
 * checksum and every field).  Only then is it stored (atomically, like
 * `register`) and registered as the next version in one transaction,
 * with the manifest's description and tags and a tag "imported-from"
 * naming the exporting version.  Identical bytes return the existing
 * version.  The exporting registry's ledger is not replayed: stage
 * moves belong to the registry they happened in.
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
#include "sha256.h"
#include "xalloc.h"

/*
 * Artefacts are JSON of a few megabytes (train caps a model at 2^20
 * coefficients, about 25 MB); refuse absurd entries early.  The bundle
 * file itself may hold this plus 1 MiB (bundle_read()).
 */
#define BUNDLE_MAX_ENTRY ((size_t)128 << 20)

static const char *const import_synopsis[] = {
	"mlops import BUNDLE [--as NAME]",
	NULL
};

static const struct opt_usage import_usage = {
	import_synopsis,
	"  mlops import churn.tar.gz\n"
	"  mlops import churn.tar.gz --as churn-eu\n"
	"  ssh dev mlops export churn@staging -o - | mlops import -\n",
	"Register the artefact of a bundle written by 'mlops export'."
};

/* What import needs from the manifest; strings point into `json`. */
struct manifest {
	cJSON *json;
	const char *model;
	int version;
	const char *sha256;
	double size;
	const char *description;
	cJSON *tags;		/* object of strings, may be NULL */
};

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

static int parse_manifest(const char *path, const struct bundle_file *f,
			  struct manifest *mf, struct mlops_err *err)
{
	cJSON *j, *art, *item;

	memset(mf, 0, sizeof(*mf));
	if (!(mf->json = j = cJSON_ParseWithLength(f->bytes, f->len)))
		return manifest_bad(path, "not JSON", err);
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
	art = cJSON_GetObjectItemCaseSensitive(j, "artifact");
	item = cJSON_GetObjectItemCaseSensitive(art, "path");
	if (!cJSON_IsString(item) || strcmp(item->valuestring, "artifact.json"))
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
	item = cJSON_GetObjectItemCaseSensitive(j, "description");
	if (cJSON_IsString(item))
		mf->description = item->valuestring;
	item = cJSON_GetObjectItemCaseSensitive(j, "tags");
	if (item && !cJSON_IsNull(item)) {
		cJSON *t;

		if (!cJSON_IsObject(item))
			return manifest_bad(path, "\"tags\" is not an object",
					    err);
		cJSON_ArrayForEach(t, item)
			if (!cJSON_IsString(t) || !t->string || !*t->string)
				return manifest_bad(path, "a tag is not a "
						    "string", err);
		mf->tags = item;
	}
	return 0;
}

static int add_tags(struct registry *reg, const char *name, int version,
		    const struct manifest *mf, struct mlops_err *err)
{
	char *from = xasprintf("%s:%d sha256:%s", mf->model, mf->version,
			       mf->sha256);
	cJSON *t;
	int ret;

	ret = registry_add_tag(reg, name, version, "imported-from", from, err);
	free(from);
	if (ret || !mf->tags)
		return ret;
	cJSON_ArrayForEach(t, mf->tags)
		if ((ret = registry_add_tag(reg, name, version, t->string,
					    t->valuestring, err)))
			return ret;
	return 0;
}

int cmd_import(int argc, char **argv, struct cmd_ctx *ctx,
	       struct mlops_err *err)
{
	static const char *const allowed[] = {
		"artifact.json", "manifest.json"
	};
	const char *as = NULL, *path, *name;
	const struct opt opts[] = {
		OPT_STRING(0, "as", &as, "NAME",
			   "register under NAME instead of the bundle's name"),
		OPT_END()
	};
	struct repo *repo = ctx->repo;
	struct bundle_file *files = NULL;
	const struct bundle_file *art, *man;
	struct manifest mf = { 0 };
	struct model *m = NULL;
	size_t n_files = 0;
	char sha[65], *s;
	int ret, n, version = 0, existed = 0, in_tx = 0;
	cJSON *obj;

	if ((ret = opt_parse(argc, argv, opts, &import_usage, &n, err)))
		goto out;
	if ((ret = cmd_operands(n, 1, import_synopsis[0], err)))
		goto out;
	path = argv[0];
	if (as && (ret = cmd_check_name(as, err)))
		goto out;
	if ((ret = bundle_read(path, allowed, 2, BUNDLE_MAX_ENTRY, &files,
			       &n_files, err)))
		goto out;
	if (!(man = bundle_find(files, n_files, "manifest.json")) ||
	    !(art = bundle_find(files, n_files, "artifact.json"))) {
		ret = err_set(err, MLOPS_ECORRUPT,
			      "bundle '%s' has no %s", path,
			      man ? "artifact.json" : "manifest.json");
		goto out;
	}
	if ((ret = parse_manifest(path, man, &mf, err)))
		goto out;
	sha256_hex(art->bytes, art->len, sha);
	if (strcmp(sha, mf.sha256) || (double)art->len != mf.size) {
		ret = err_set(err, MLOPS_ECORRUPT,
			      "bundle '%s': artifact.json hashes to sha256:%s "
			      "(%zu bytes), but the manifest says sha256:%s "
			      "(%.0f bytes); refused", path, sha, art->len,
			      mf.sha256, mf.size);
		goto out;
	}
	if ((ret = model_from_bytes(art->bytes, art->len, "artifact.json", &m,
				    err)))
		goto out;
	name = as ? as : mf.model;

	/* Verified: now, and only now, write. */
	if ((ret = repo_store_artifact(repo, art->bytes, art->len, sha, err)) ||
	    (ret = registry_begin(repo->reg, err)))
		goto out;
	in_tx = 1;
	if ((ret = registry_register(repo->reg, name, sha,
				     (long long)art->len, 0, mf.description,
				     &version, &existed, err)) ||
	    (!existed && (ret = add_tags(repo->reg, name, version, &mf, err))))
		goto out;
	in_tx = 0;
	if ((ret = registry_commit(repo->reg, err)))
		goto out;

	if (ctx->json) {
		obj = cJSON_CreateObject();
		cJSON_AddNumberToObject(obj, "schema", 1);
		cJSON_AddStringToObject(obj, "model", name);
		cJSON_AddNumberToObject(obj, "version", version);
		cJSON_AddStringToObject(obj, "sha256", sha);
		cJSON_AddBoolToObject(obj, "existed", existed);
		cJSON_AddStringToObject(obj, "from_model", mf.model);
		cJSON_AddNumberToObject(obj, "from_version", mf.version);
		if ((s = cJSON_PrintUnformatted(obj)))
			puts(s);
		cJSON_free(s);
		cJSON_Delete(obj);
	} else if (!ctx->quiet) {
		if (existed)
			printf("%s:%d already holds this artefact (from "
			       "%s:%d)\n", name, version, mf.model,
			       mf.version);
		else
			printf("imported %s:%d as %s:%d (sha256:%.12s"
			       "\xe2\x80\xa6)\n", mf.model, mf.version, name,
			       version, sha);
	}
out:
	if (in_tx)
		registry_rollback(repo->reg);
	model_free(m);
	cJSON_Delete(mf.json);
	bundle_files_free(files, n_files);
	return ret;
}
