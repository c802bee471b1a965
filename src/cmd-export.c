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
 * same version exports to the same bytes.  The work is
 * release_export()'s, the format manifest.c's.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "modelref.h"
#include "opt.h"
#include "release.h"

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

int cmd_export(int argc, char **argv, struct cmd_ctx *ctx,
	       struct mlops_err *err)
{
	const char *output = NULL;
	const struct opt opts[] = {
		OPT_STRING('o', "output", &output, "FILE",
			   "the bundle to write ('-': stdout)"),
		OPT_END()
	};
	struct modelref ref = { NULL, 0, NULL, NULL };
	struct release_version v = { 0 };
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
	if ((ret = release_export(ctx->repo, ref.name, ref.version, ref.stage,
				  output, &v, err)))
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
		cmd_print_json(obj);
	} else {
		printf("exported %s:%d to %s (sha256:%.12s\xe2\x80\xa6)\n",
		       v.model, v.version, output, v.sha256);
	}
out:
	release_version_release(&v);
	modelref_release(&ref);
	return ret;
}
