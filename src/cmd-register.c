/*
 * mlops register NAME ARTEFACT: store an artefact and make it the next
 * version of a model.
 *
 * The file must be a valid artefact (model_from_bytes() checks every
 * field and its checksum) before anything is written.  The bytes go to
 * the content-addressed store first, durably; only then does the version
 * row commit, so a crash never leaves a version without its file.
 * Registering identical bytes again returns the existing version
 * (retry-safe CI); tags given then are ignored, as versions never change.
 * With --git-tag (or git.tags in config) a GTO tag NAME@v0.0.N is written
 * on the commit recorded in the artefact's lineage (HEAD if none), inside
 * the registry transaction, and deleted again if the commit fails.  The
 * transaction is release_register()'s.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "modelref.h"
#include "opt.h"
#include "release.h"
#include "repo.h"
#include "xalloc.h"

static const char *const register_synopsis[] = {
	"mlops register NAME ARTEFACT [--run ID] [--description TEXT] "
	"[--tag K=V]... [--git-tag]",
	NULL
};

static const struct opt_usage register_usage = {
	register_synopsis,
	"  mlops register churn model.json\n"
	"  mlops register churn model.json --run 12 "
	"--description \"Q3 retrain\"\n"
	"  mlops register churn model.json --tag team=growth --git-tag\n",
	"Register an artefact as the next version of a model."
};

/*
 * The --tag K=V items as tags: a non-empty key and an '='.  *out holds
 * n_items tags whose keys the caller frees (free_tags()).
 */
static int split_tags(const struct opt_list *items, struct release_tag **out,
		      struct mlops_err *err)
{
	struct release_tag *tags = xcalloc(items->n + 1, sizeof(*tags));
	size_t i;

	*out = tags;
	for (i = 0; i < items->n; i++) {
		const char *item = items->items[i], *eq = strchr(item, '=');

		if (!eq || eq == item)
			return err_set(err, MLOPS_EUSAGE,
				       "option '--tag' expects KEY=VALUE, "
				       "got '%s'", item);
		tags[i].key = xstrndup(item, (size_t)(eq - item));
		tags[i].value = eq + 1;
	}
	return 0;
}

static void free_tags(struct release_tag *tags, size_t n)
{
	size_t i;

	for (i = 0; tags && i < n; i++)
		free((char *)tags[i].key);
	free(tags);
}

static void print_result(const struct release_version *v, int json,
			 int quiet)
{
	cJSON *obj;

	if (json) {
		obj = cJSON_CreateObject();
		cJSON_AddNumberToObject(obj, "schema", 1);
		cJSON_AddStringToObject(obj, "model", v->model);
		cJSON_AddNumberToObject(obj, "version", v->version);
		cJSON_AddStringToObject(obj, "sha256", v->sha256);
		cJSON_AddNumberToObject(obj, "size", (double)v->size);
		cJSON_AddBoolToObject(obj, "existed", v->existed);
		cmd_json_str(obj, "git_tag", v->tag_name);
		cmd_print_json(obj);
		return;
	}
	if (quiet)
		return;
	if (v->existed)
		printf("%s:%d already holds this artefact\n", v->model,
		       v->version);
	else
		printf("registered %s:%d (sha256:%.12s\xe2\x80\xa6)\n",
		       v->model, v->version, v->sha256);
	if (v->tag_name)
		printf("git tag %s\n", v->tag_name);
}

int cmd_register(int argc, char **argv, struct cmd_ctx *ctx,
		 struct mlops_err *err)
{
	const char *description = NULL;
	struct opt_list items = { NULL, 0, 0 };
	long run_id = 0;
	int git_tag = 0;
	const struct opt opts[] = {
		OPT_INT(0, "run", &run_id, "ID",
			"the run that produced the artefact"),
		OPT_STRING(0, "description", &description, "TEXT",
			   "a description of the version"),
		OPT_LIST(0, "tag", &items, "K=V",
			 "attach a tag to the new version (repeatable)"),
		OPT_BOOL(0, "git-tag", &git_tag,
			 "write the GTO tag NAME@v0.0.N in the git repository"),
		OPT_END()
	};
	struct release_register_req req = { 0 };
	struct release_version v = { 0 };
	struct release_tag *tags = NULL;
	int ret, n;

	if ((ret = opt_parse(argc, argv, opts, &register_usage, &n, err)) ||
	    (ret = cmd_operands(n, 2, register_synopsis[0], err)) ||
	    (ret = modelref_check_name(argv[0], err)))
		goto out;
	if (run_id < 0) {
		ret = err_set(err, MLOPS_EUSAGE,
			      "option '--run' expects a run id, got %ld",
			      run_id);
		goto out;
	}
	if ((ret = split_tags(&items, &tags, err)))
		goto out;
	req.model = argv[0];
	req.path = argv[1];
	req.run_id = run_id;
	req.description = description;
	req.tags = tags;
	req.n_tags = items.n;
	req.git_tag = git_tag ? RELEASE_GIT_TAG_YES : RELEASE_GIT_TAG_CONFIG;
	if (!(ret = release_register(ctx->repo, &req, &v, err)))
		print_result(&v, ctx->json, ctx->quiet);
out:
	release_version_release(&v);
	free_tags(tags, items.n);
	opt_list_release(&items);
	return ret;
}
