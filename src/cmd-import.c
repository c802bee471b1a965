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
 * moves belong to the registry they happened in.  The work is
 * release_import()'s, registering through release_register() as
 * `register` does.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "modelref.h"
#include "opt.h"
#include "release.h"

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

int cmd_import(int argc, char **argv, struct cmd_ctx *ctx,
	       struct mlops_err *err)
{
	const char *as = NULL;
	const struct opt opts[] = {
		OPT_STRING(0, "as", &as, "NAME",
			   "register under NAME instead of the bundle's name"),
		OPT_END()
	};
	struct release_version v = { 0 };
	int ret, n;
	cJSON *obj;

	if ((ret = opt_parse(argc, argv, opts, &import_usage, &n, err)))
		goto out;
	if ((ret = cmd_operands(n, 1, import_synopsis[0], err)))
		goto out;
	if (as && (ret = modelref_check_name(as, err)))
		goto out;
	if ((ret = release_import(ctx->repo, argv[0], as, &v, err)))
		goto out;

	if (ctx->json) {
		obj = cJSON_CreateObject();
		cJSON_AddNumberToObject(obj, "schema", 1);
		cJSON_AddStringToObject(obj, "model", v.model);
		cJSON_AddNumberToObject(obj, "version", v.version);
		cJSON_AddStringToObject(obj, "sha256", v.sha256);
		cJSON_AddBoolToObject(obj, "existed", v.existed);
		cJSON_AddStringToObject(obj, "from_model", v.from_model);
		cJSON_AddNumberToObject(obj, "from_version", v.from_version);
		cmd_print_json(obj);
	} else if (!ctx->quiet) {
		if (v.existed)
			printf("%s:%d already holds this artefact (from "
			       "%s:%d)\n", v.model, v.version, v.from_model,
			       v.from_version);
		else
			printf("imported %s:%d as %s:%d (sha256:%.12s"
			       "\xe2\x80\xa6)\n", v.from_model, v.from_version,
			       v.model, v.version, v.sha256);
	}
out:
	release_version_release(&v);
	return ret;
}
